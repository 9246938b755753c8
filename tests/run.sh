#!/usr/bin/env bash
# Test runner: unit tests (plain and under ASan+UBSan) then integration tests.
#
# Every test binary/script prints TAP-style lines: "ok - NAME", "not ok - NAME",
# "ok - NAME # SKIP reason".
# Usage: tests/run.sh [--unit-only|--integration-only] [NAME-PATTERN...] cmocka binaries are run with TAP output. A binary
# or script that exits non-zero without reporting a failure counts as one
# failure, so a crash is never silent. Lines "# report: ..." of a test are
# shown after its PASS/FAIL line. Closing line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
mode=all
case "${1:-}" in
  --unit-only) mode=unit; shift ;;
  --integration-only) mode=integration; shift ;;
esac
# Further arguments are name patterns (shell globs, e.g. '190*' or 'test_avro'):
# only the tests whose name matches one of them run. None = all.
patterns=("$@")
selected() {
  local p
  [ ${#patterns[@]} -eq 0 ] && return 0
  for p in "${patterns[@]}"; do
    # shellcheck disable=SC2053
    [[ $1 == $p || $1 == $p* ]] && return 0
  done
  return 1
}

passed=0; failed=0; skipped=0
failures=()
logdir=$(mktemp -d /tmp/tb-test-logs.XXXXXX)

count() { # name logfile rc
  local name=$1 log=$2 rc=$3 p f s
  p=$(grep -cE '^ok ' "$log" | tr -d ' ' || true)
  s=$(grep -cE '^ok .*# (SKIP|skip)' "$log" | tr -d ' ' || true)
  f=$(grep -cE '^not ok ' "$log" | tr -d ' ' || true)
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - $name exited with status $rc without reporting a failure" >>"$log"
  fi
  if [ "$rc" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then
    f=1
    echo "not ok - $name ran no test" >>"$log"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$f" -gt 0 ]; then
    failures+=("$name")
    echo "FAIL $name ($p passed, $f failed)${TB_T:+ ${TB_T}s}"
    grep -E '^not ok|^#' "$log" | head -40 | sed 's/^/    /'
  else
    if [ "$s" -gt 0 ]; then echo "PASS $name ($p passed, $s skipped)${TB_T:+ ${TB_T}s}"; else echo "PASS $name ($p passed)${TB_T:+ ${TB_T}s}"; fi
  fi
  grep -E '^ok .*# (SKIP|skip)' "$log" | sed 's/^/    /'
  grep -E '^# report: ' "$log" | sed 's/^# report: /    /' # numbers a test wants shown (300)
}

run_unit() {
  local dir=$1 tag=$2 bin name log rc
  for bin in "$dir"/test_*; do
    [ -x "$bin" ] || continue
    selected "$(basename "$bin")" || continue
    name="$tag/$(basename "$bin")"
    log="$logdir/$(echo "$name" | tr '/' '_').log"
    CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      TB_SRCDIR="$PWD" timeout 300 "$bin" >"$log" 2>&1
    rc=$?
    count "$name" "$log" "$rc"
  done
}

if [ "$mode" != integration ]; then
  run_unit "$BUILD/tests" unit
  run_unit "$BUILD/asan/tests" unit-asan
fi

run_integration() { # TAG [ENV=VALUE...]: every selected tests/integration/*.sh
  local tag=$1 t name log rc t0; shift
  for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    selected "$(basename "$t" .sh)" || continue
    name="$tag/$(basename "$t" .sh)"
    log="$logdir/$tag-$(basename "$t" .sh).log"
    t0=$SECONDS
    env BUILD="$BUILD" TB_FAIL_LOGS="${log%.log}.d" "$@" timeout 900 bash "$t" >"$log" 2>&1
    rc=$?
    TB_T=$((SECONDS - t0)) count "$name" "$log" "$rc"
  done
}

if [ "$mode" != unit ]; then
  run_integration integration
  # TB_ASAN_TESTS (make test: $(ASAN_QUICK)): these integration tests once
  # more with the services and tools built with ASan+UBSan (tests/lib/harness.sh
  # fails a test on any sanitizer report).
  if [ -n "${TB_ASAN_TESTS:-}" ]; then
    read -r -a patterns <<<"$TB_ASAN_TESTS"
    case "$BUILD" in /*) asan_bin=$BUILD/asan/bin ;; *) asan_bin=$PWD/$BUILD/asan/bin ;; esac
    run_integration integration-asan TB_BIN_DIR="$asan_bin"
  fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]} (logs in $logdir)"
else
  rm -rf "$logdir"
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
