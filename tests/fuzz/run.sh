#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target (built in $BUILD/fuzz/bin) for
# FUZZ_SECONDS, one after the other, then prints one summary line per target.
#
# Usage: tests/fuzz/run.sh [fuzz_NAME...]   (default: every built target)
# Per target: new corpus entries go to $BUILD/fuzz/corpus/NAME (the first
# corpus directory is the one libFuzzer writes to), read together with the
# committed tests/fuzz/corpus/NAME and tests/fuzz/regressions/NAME, which are
# never written. Crashes, leaks, timeouts and OOMs land in
# $BUILD/fuzz/crashes/NAME/ (libFuzzer's artifact prefix); the log is
# $BUILD/fuzz/logs/NAME.log. Exit status 1 if any target found something:
# fix the cause, then keep the input as tests/fuzz/regressions/NAME/<what>.
# FUZZ_JOBS (default 1) runs that many targets at once (the machine is
# shared; each target is one process). FUZZ_ARGS adds libFuzzer flags.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
out=$BUILD/fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$out"/bin/fuzz_*; do [ -x "$b" ] && targets+=("$(basename "$b")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets built (make fuzz-bins)" >&2; exit 2; }

run_one() { # NAME
  local t=$1 dirs
  mkdir -p "$out/corpus/$t" "$out/crashes/$t" "$out/logs"
  dirs=("$out/corpus/$t" "tests/fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
  # -max_len: our inputs are JSON documents and records of a few KiB; larger
  # seeds are still read whole. -timeout: one input taking 10 s is a hang.
  # shellcheck disable=SC2086
  TB_SRCDIR="$PWD" "$out/bin/$t" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" ${FUZZ_ARGS:-} \
    "${dirs[@]}" >"$out/logs/$t.log" 2>&1
  echo $? >"$out/logs/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  [ -x "$out/bin/$t" ] || { echo "$t: not built ($out/bin/$t)" >&2; exit 2; }
  echo "fuzzing $t for ${FUZZ_SECONDS}s (log $out/logs/$t.log)"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$FUZZ_JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

# Summary: the last status line (#N ... cov: ... ft: ... corp: ...) and the
# final stats, and what was left in the crash directory.
status=0
echo
printf '%-18s %12s %8s %8s %8s %s\n' target execs cov ft corpus findings
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  found=$(find "$out/crashes/$t" -type f | wc -l)
  rc=$(cat "$out/logs/$t.rc" 2>/dev/null || echo '?')
  what=none
  if [ "$found" -gt 0 ] || [ "$rc" != 0 ]; then
    status=1
    what="$found input(s) in $out/crashes/$t (exit $rc; see $log)"
  fi
  printf '%-18s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$what"
done
exit $status
