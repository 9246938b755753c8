#!/usr/bin/env bash
# 070: tb-probe-agent --dry-run on a workload built with frame pointers that
# spends most of its time in tb_hot_leaf, reached through main -> tb_run ->
# tb_outer -> tb_middle. For each build (gcc PIE, gcc non-PIE, clang + lld,
# a stripped copy) the hottest stack of the workload's pid must be that
# chain by symbol (except for the stripped copy, which has none) and by
# build-id + file offset, the offsets mapped to functions with objdump/nm
# (not with our code). Also: the folded output names the chain, C++ frames
# come demangled, no raw address leaves the agent, the process table knows
# the binary and its build-id.
. "$(dirname "$0")/../lib/harness.sh"
. "$TB_ROOT/tests/data/probe/probe-lib.sh"

CHAIN="tb_hot_leaf;tb_middle;tb_outer;tb_run;main"
tb_probe_require_bpf "hot stack of work-pie" "hot stack of work-nopie" "hot stack of work-lld" \
  "hot stack of work-stripped" "folded output" "C++ frames demangled" "no raw addresses"
tb_probe_build || tb_finish

# sample BINARY ARGS...: run the workload, sample only its pid for ~2.5 s
# (1 s windows), JSON batches in $TB_TMP/$(basename BINARY).json.
sample() {
  local bin=$1; shift
  local name; name=$(basename "$bin")
  "$bin" "$@" >/dev/null 2>&1 &
  WORK_PID=$!
  TB_PIDS+=("$WORK_PID")
  tb_probe_agent "$name" --dry-run --dry-run-format "${FORMAT:-json}" --pid "$WORK_PID" \
    --flush-interval 1s --duration 2500ms
  local agent=$TB_LAST_PID
  wait "$agent"; local rc=$?
  tb_stop "$WORK_PID"
  cp "$TB_TMP/$name.out" "$TB_TMP/$name.${FORMAT:-json}"
  [ $rc -eq 0 ] || { tb_diag "agent exited $rc; log:"; tail -5 "$TB_TMP/$name.log" | sed 's/^/#   /'; }
}

check_hot() { # NAME BINARY SYMBOL_CHAIN_EXPECTED [RANGES_FROM]
  local name=$1 bin=$2 want_sym=$3 ranges_from=${4:-$2} bid ranges res
  bid=$(tb_probe_build_id "$bin")
  ranges=$(tb_probe_ranges "$ranges_from")
  sample "$bin" spin 6
  res=$(tb_probe_hottest "$TB_TMP/$(basename "$bin").json" "$WORK_PID" "$bid" "$ranges")
  if [ "$(jq -r .sym.k <<<"$res")" = "$want_sym" ] && [ "$(jq -r .off.k <<<"$res")" = "$CHAIN" ] &&
     [ "$(jq '.sym.c * 2 > .total' <<<"$res")" = true ] && [ "$(jq '.off.c * 2 > .total' <<<"$res")" = true ]; then
    tb_ok "$name"
  else
    tb_fail "$name"
    tb_diag "expected: by symbol $want_sym and by build-id $bid + offset $CHAIN, each over half the samples"
    tb_diag "got:      $res"
  fi
}

check_hot "hot stack of work-pie" "$TB_PROBE_DIR/work-pie" "$CHAIN"
check_hot "hot stack of work-nopie" "$TB_PROBE_DIR/work-nopie" "$CHAIN"
check_hot "hot stack of work-lld" "$TB_PROBE_DIR/work-lld" "$CHAIN"
check_hot "hot stack of work-stripped" "$TB_PROBE_DIR/work-stripped" "?;?;?;?;?" "$TB_PROBE_DIR/work-pie"

# The process table: binary path and build-id of the sampled process.
bid=$(tb_probe_build_id "$TB_PROBE_DIR/work-pie")
got=$(jq -r --argjson p "$WORK_PID" '.processes[] | select(.pid == $p) | "\(.binary) \(.binary_build_id)"' \
  "$TB_TMP/work-stripped.json" | head -1)
tb_check "process table names the binary and its build-id" "$TB_PROBE_DIR/work-stripped $bid" "$got"

# Folded output, root first.
FORMAT=folded sample "$TB_PROBE_DIR/work-pie" spin 6
line=$(grep -v '^#' "$TB_TMP/work-pie.folded" | grep -c "main;tb_run;tb_outer;tb_middle;tb_hot_leaf [0-9]*$")
if [ "$line" -ge 1 ] && grep -q '^# batch node=' "$TB_TMP/work-pie.folded"; then
  tb_ok "folded output"
else
  tb_fail "folded output"; tb_diag "expected a line ending in main;tb_run;tb_outer;tb_middle;tb_hot_leaf COUNT"
  sed 's/^/#   /' "$TB_TMP/work-pie.folded" | head -10
fi

# C++: a class method and a template instance, demangled.
sample "$TB_PROBE_DIR/work-cpp" 6
got=$(jq -s -r --argjson p "$WORK_PID" '[.[].samples[] | select(.pid == $p) |
  {k: ([.user_frames[0:3][] | .symbol // "?"] | join(";")), c: .count}] |
  group_by(.k) | map({k: .[0].k, c: (map(.c) | add)}) | max_by(.c) | .k' "$TB_TMP/work-cpp.json")
tb_check "C++ frames demangled" "tbcpp::churn<unsigned long>;tbcpp::Engine::spin;main" "$got"

# Whatever the frame, no absolute address leaves the agent.
n=$(cat "$TB_TMP"/*.json | jq -s '[.. | objects | select(has("address"))] | length')
tb_check "no raw addresses" "0" "$n"
tb_finish
