#!/usr/bin/env bash
# 072: process and library tracking. work-pie dlopen()s libloaded.so, never
# calls into it, sleeps and exits; meanwhile the agent samples everything at
# 99 Hz. The output must hold a load record for libloaded.so in that pid with
# the library's build-id (evidence of the load although no sample was ever
# taken in it), a load of the executable itself, and a process entry with
# the executable's path and build-id; the library's code must appear in no
# sample. A process that lives only a few milliseconds still gets its loads.
. "$(dirname "$0")/../lib/harness.sh"
. "$TB_ROOT/tests/data/probe/probe-lib.sh"

tb_probe_require_bpf "load of a dlopen()ed library" "load of the executable" "process entry" \
  "library never sampled" "loads of a short-lived process"
tb_probe_build || tb_finish
lib="$TB_PROBE_DIR/libloaded.so"
lib_bid=$(tb_probe_build_id "$lib")
exe_bid=$(tb_probe_build_id "$TB_PROBE_DIR/work-pie")

tb_probe_agent agent --dry-run --dry-run-format json --flush-interval 1s
agent=$TB_LAST_PID
tb_probe_ready agent "$agent" || { tb_fail "agent ready"; tb_finish; }
"$TB_PROBE_DIR/work-pie" dlopen "$lib" 1.5 >/dev/null &
work=$!
TB_PIDS+=("$work")
wait "$work"
# A second, short-lived process: dlopen and exit at once.
"$TB_PROBE_DIR/work-nopie" dlopen "$lib" 0 >/dev/null &
short=$!
TB_PIDS+=("$short")
wait "$short"
sleep 1.5
tb_stop "$agent" TERM
out="$TB_TMP/agent.out"

got=$(jq -s -r --argjson p "$work" --arg l "$lib" '[.[].loads[] | select(.pid == $p and .path == $l) | .build_id] | unique | join(",")' "$out")
tb_check "load of a dlopen()ed library" "$lib_bid" "$got"
got=$(jq -s -r --argjson p "$work" --arg e "$TB_PROBE_DIR/work-pie" '[.[].loads[] | select(.pid == $p and .path == $e) | .build_id] | unique | join(",")' "$out")
tb_check "load of the executable" "$exe_bid" "$got"
got=$(jq -s -r --argjson p "$work" '[.[].processes[] | select(.pid == $p) | "\(.binary) \(.binary_build_id) \(.comm)"] | unique | join(",")' "$out")
tb_check "process entry" "$TB_PROBE_DIR/work-pie $exe_bid work-pie" "$got"
n=$(jq -s --arg l "$lib" '[.[].samples[].user_frames[] | select(.module == $l)] | length' "$out")
tb_check "library never sampled" 0 "$n"
got=$(jq -s -r --argjson p "$short" '[.[].loads[] | select(.pid == $p) | .path | split("/") | last] | unique | join(",")' "$out")
case ",$got," in
  *,libloaded.so,*) tb_ok "loads of a short-lived process" ;;
  *) tb_fail "loads of a short-lived process"; tb_diag "expected libloaded.so among the loads of pid $short"; tb_diag "got:      $got" ;;
esac
tb_finish
