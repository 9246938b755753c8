#!/usr/bin/env bash
# 071: uprobes on watch-listed functions count exactly. The watch file names
# tb_watched and tb_never_called in work-pie (by path) and in work-lld (by
# build-id); work-pie then calls tb_watched exactly 1234 times and work-lld
# 321 times. Over all batches, tb_watched must total exactly those hits,
# tb_never_called exactly 0 while attached (evidence of absence), with a
# representative stack main -> tb_watched. Once with uprobe_multi links and
# once with the single-uprobe fallback.
. "$(dirname "$0")/../lib/harness.sh"
. "$TB_ROOT/tests/data/probe/probe-lib.sh"

MODES="multi single"
names=()
for m in $MODES; do
  names+=("$m: tb_watched hits by path" "$m: tb_watched hits by build-id" "$m: tb_never_called attached with 0 hits"
          "$m: representative stack")
done
tb_probe_require_bpf "${names[@]}"
tb_probe_build || tb_finish
lld_bid=$(tb_probe_build_id "$TB_PROBE_DIR/work-lld")
cat >"$TB_TMP/watch.txt" <<W
# test watch list
$TB_PROBE_DIR/work-pie  tb_watched tb_never_called
build-id:$lld_bid  tb_watched "tb_never_called"
W

run_mode() {
  local mode=$1 out hits
  local -a extra=()
  [ "$mode" = single ] && extra=(--no-uprobe-multi)
  # --frequency 0: uprobes only. The build-id entry attaches when work-lld
  # first runs (it is found through its process), so it runs once idle first.
  tb_probe_agent "agent-$mode" --dry-run --dry-run-format json --frequency 0 --flush-interval 1s \
    --watch-file "$TB_TMP/watch.txt" "${extra[@]}"
  local agent=$TB_LAST_PID
  tb_probe_ready "agent-$mode" "$agent" || { tb_fail "$mode: agent ready"; return; }
  "$TB_PROBE_DIR/work-lld" dlopen "$TB_PROBE_DIR/libloaded.so" 1.5 >/dev/null
  tb_wait_for 30 grep -q "uprobe [0-9]* attached at $TB_PROBE_DIR/work-lld.*tb_never_called" "$TB_TMP/agent-$mode.log" ||
    tb_diag "$mode: no uprobe attached in work-lld; log: $(tail -3 "$TB_TMP/agent-$mode.log")"
  "$TB_PROBE_DIR/work-pie" calls 1234 >/dev/null
  "$TB_PROBE_DIR/work-lld" calls 321 >/dev/null
  sleep 1.5 # let a flush pass; the final flush at SIGTERM takes the rest anyway
  tb_stop "$agent" TERM
  out="$TB_TMP/agent-$mode.out"
  sum() { jq -s --arg b "$1" --arg s "$2" '[.[].uprobe_counts[] | select(.binary == $b and .symbol == $s) | .hits] | add // "none"' "$out"; }
  tb_check "$mode: tb_watched hits by path" 1234 "$(sum "$TB_PROBE_DIR/work-pie" tb_watched)"
  tb_check "$mode: tb_watched hits by build-id" 321 "$(sum "$TB_PROBE_DIR/work-lld" tb_watched)"
  hits=$(jq -s -c '[.[].uprobe_counts[] | select(.symbol == "tb_never_called") | [.hits, .attached]] | unique' "$out")
  tb_check "$mode: tb_never_called attached with 0 hits" '[[0,true]]' "$hits"
  hits=$(jq -s -r --arg b "$TB_PROBE_DIR/work-pie" '[.[].uprobe_counts[] | select(.binary == $b and .symbol == "tb_watched" and .hits > 0) |
    [.stack[0:2][] | .symbol // "?"] | join(";")] | unique | join(",")' "$out")
  tb_check "$mode: representative stack" "tb_watched;main" "$hits"
}

for m in $MODES; do run_mode "$m"; done
tb_finish
