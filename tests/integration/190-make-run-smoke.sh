#!/usr/bin/env bash
# 190 — `make run` smoke: tools/run-stack.sh (what `make run` calls after
# building) with TB_RUN_ONCE=1 brings up the broker, PostgreSQL, the five
# services (and the probe-agent when the kernel allows), registers the demo
# artifact, replays the Tetragon samples and the generated kprobe events,
# prints the API address and the example queries with real output, and exits
# 0 leaving no process behind. Then the interactive mode: it keeps running
# until SIGTERM, and SIGTERM stops everything it started (exit 0).
#
# "Real output" is checked against what was fed: the timeline items carry the
# demo artifact's digest, hot symbols name the demo binary's functions with
# its purl, the folded stacks hold its call chain, and the counts printed are
# the number of distinct events in the samples (jq) and the generated set.
# "No process behind": no process whose command line holds the run directory
# (every process the script starts has it: binaries, --admin-port-file,
# postgres -D) and nothing listens on the printed API and PostgreSQL ports.

source "$(dirname "$0")/../lib/harness.sh"

RUN="$TB_TMP/run"
SAMPLES="$TB_ROOT/../shared/testdata/tetragon"
leftovers() { pgrep -f -- "$RUN" | grep -v "^$$\$" | tr '\n' ' '; }

rc=0
BUILD="$BUILD" TB_RUN_ONCE=1 TB_RUN_DIR="$RUN" TB_API_PORT=0 timeout 600 "$TB_ROOT/tools/run-stack.sh" \
  >"$TB_TMP/once.out" 2>&1 || rc=$?
tb_check "TB_RUN_ONCE=1 tools/run-stack.sh exits 0" 0 "$rc"
[ "$rc" = 0 ] || tail -30 "$TB_TMP/once.out" | sed 's/^/#   /'
out="$TB_TMP/once.out"
API=$(sed -n 's/^  API  *\(http[^ ]*\).*/\1/p' "$out")
DIGEST=$(sed -n 's/^  artifact  *\(sha256:[0-9a-f]*\).*/\1/p' "$out")
PG_PORT=$(sed -n 's|^  PostgreSQL  *postgresql://postgres@127.0.0.1:\([0-9]*\)/.*|\1|p' "$out")
tb_check "it prints the API address, the artifact digest and the PostgreSQL URL" "yes yes yes" \
  "$([ -n "$API" ] && echo yes) $([ -n "$DIGEST" ] && echo yes) $([ -n "$PG_PORT" ] && echo yes)"

n_samples=$(for f in "$SAMPLES"/*.json "$SAMPLES"/*.jsonl; do jq -c 'select(type == "object") | select(keys | any(startswith("process_")))' "$f" 2>/dev/null; done | wc -l)
tb_check "it reports the replayed samples and the generated events" \
  "$n_samples Tetragon sample events, 240 generated kprobe events" \
  "$(sed -n 's/^  data  *\([0-9]* Tetragon sample events, [0-9]* generated kprobe events\).*/\1/p' "$out")"

section() { # TITLE-FRAGMENT -> the output lines of that example (after its "$ curl" line)
  awk -v t="$1" '/^# / {on = index($0, t) > 0; next} on && /^\$ curl/ {go = 1; next} /^$/ {go = 0} on && go' "$out"
}
tl=$(section "timeline, latest 15 minutes")
tb_check "timeline example: 3 Tetragon kprobe items linked to the demo artifact (not uncorrelated)" "3 3 3 0" \
  "$(grep -c '"event_id"' <<<"$tl") $(grep -c "\"artifact_digest\":\"$DIGEST\"" <<<"$tl") $(grep -c '"kind":"kprobe","source":"tetragon"' <<<"$tl") $(grep -c '"correlation":"uncorrelated"' <<<"$tl")"
tb_check "events-per-minute example: buckets with counts" "yes" \
  "$(section "events per minute" | jq -e -s 'length >= 3 and all(.[]; .count > 0 and .events > 0)' >/dev/null && echo yes)"
hot=$(section "hot symbols")
# Without the probe-agent the generated events alone decide the order: three
# kernel leaves with self counts, then main (in all 240 stacks) ties with
# do_syscall_64 and entry_SYSCALL_64_after_hwframe on total count; the probe's
# samples of the workload put its leaf functions (hash_order, apply_discount)
# first. Either way a demo-shop function with the purl is in the first 10.
hot_ok=$(jq -e -s 'any(.[]; .purl == "pkg:generic/tracebridge/demo-shop@1.0.0" and (.symbol | IN("main", "serve_requests", "handle_checkout", "compute_total", "apply_discount", "hash_order", "write_receipt")) and .total_count > 0)' <<<"$hot" >/dev/null && echo yes)
tb_check "hot-symbols example: the demo binary's functions with its purl" "yes" "$hot_ok"
[ "$hot_ok" = yes ] || sed -n '/^# hot symbols/,/^$/p' "$out" | sed 's/^/#   /'
tb_check "stacks.folded example: the demo call chain, root first, kernel frames marked" "yes" \
  "$(section "folded stacks" | grep -q '^main;serve_requests;handle_checkout;write_receipt;write;.*__x64_sys_write_\[k\] [0-9]*$' && echo yes)"
tb_check "the samples example shows the replayed Tetragon events" "3" \
  "$(section "replayed Tetragon samples" | grep -c '"source":"tetragon"')"
if grep -q '^==> starting the demo workload under the probe-agent' "$out"; then
  tb_check "probe-agent started on the demo workload: its samples arrived" "yes" \
    "$(sed -n 's/.* \([0-9]*\) probe-agent samples$/\1/p' "$out" | awk '$1 > 0 {print "yes"}')"
else
  tb_skip "probe-agent samples" "the probe-agent did not run here: $(grep '^==> probe-agent' "$out")"
fi
tb_check "TB_RUN_ONCE: no process left behind" "" "$(leftovers)"
tb_check "TB_RUN_ONCE: nothing listens on the API and PostgreSQL ports any more" "no no" \
  "$(curl -s -o /dev/null "$API/healthz" && echo yes || echo no) $( (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null && echo yes || echo no)"

# ---- interactive mode: runs until SIGTERM --------------------------------------------------------
BUILD="$BUILD" TB_RUN_DIR="$RUN" TB_API_PORT=0 TB_RUN_EVENTS=24 TB_RUN_PROBE=0 \
  tb_start interactive "$TB_ROOT/tools/run-stack.sh" >/dev/null
PID=$TB_LAST_PID
running() { grep -q '^Running. Ctrl-C' "$TB_TMP/interactive.log"; }
if tb_wait_for 300 running; then
  tb_ok "without TB_RUN_ONCE it reports and keeps running"
  API=$(sed -n 's/^  API  *\(http[^ ]*\).*/\1/p' "$TB_TMP/interactive.log")
  tb_check "the API answers while it runs" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$API/api/v1/runtime/timeline?limit=1")"
  kill -TERM "$PID"
  st=0
  for _ in $(seq 1 600); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  wait "$PID" || st=$?
  tb_check "SIGTERM: it stops everything it started and exits 0" "0 stopped" \
    "$st $(grep -c '^    stopped' "$TB_TMP/interactive.log" | sed 's/^1$/stopped/')"
  tb_check "SIGTERM: no process left behind" "" "$(leftovers)"
else
  tb_fail "without TB_RUN_ONCE it reports and keeps running"
  tail -20 "$TB_TMP/interactive.log" | sed 's/^/#   /'
fi
tb_finish
