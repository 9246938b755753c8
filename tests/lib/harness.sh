# tests/lib/harness.sh — shared helpers for integration tests (source it).
#
# Gives every test: a private temp dir ($TB_TMP), a cleanup trap that stops
# exactly the processes the test started (by PID) and removes the temp dir even
# on failure, TAP reporting (tb_ok / tb_fail / tb_skip / tb_check) and polling
# helpers (tb_wait_for). Broker and PostgreSQL helpers live in broker.sh and
# pg.sh next to this file; they register their own cleanup with tb_on_exit.

set -u
TB_ROOT=${TB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) TB_BIN="$BUILD/bin" ;; *) TB_BIN="$TB_ROOT/$BUILD/bin" ;; esac
# TB_BIN_DIR runs the services and tools from another directory, e.g. the
# ASan+UBSan builds in $BUILD/asan/bin (make test-asan).
TB_BIN=${TB_BIN_DIR:-$TB_BIN}
TB_TMP=$(mktemp -d /tmp/tb-it.XXXXXX)
chmod 755 "$TB_TMP"
# Sanitizer reports (from binaries built with them; ignored by the others)
# go to files under $TB_TMP/sanitizer; tb_cleanup fails the test when any
# exists and prints it. Leaks are checked when a process exits normally
# (SIGTERM), not after SIGKILL. tests/lsan.supp lists the third-party
# allocations LeakSanitizer must not report.
TB_SAN_DIR="$TB_TMP/sanitizer"
mkdir -p "$TB_SAN_DIR"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:log_path=$TB_SAN_DIR/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$TB_SAN_DIR/ubsan"
export LSAN_OPTIONS="suppressions=$TB_ROOT/tests/lsan.supp:print_suppressions=0"
TB_PIDS=()
TB_EXIT_HOOKS=()
TB_FAILED=0

tb_on_exit() { TB_EXIT_HOOKS+=("$*"); }

tb_cleanup() {
  local i pid san=0
  for ((i = ${#TB_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${TB_EXIT_HOOKS[$i]}" >/dev/null 2>&1 || true
  done
  for pid in "${TB_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${TB_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  tb_sanitizer_check || san=1
  # A failed test keeps the logs of the processes it ran (tests/run.sh sets
  # TB_FAIL_LOGS next to the test's own output), so a crash of a service or
  # of the dev broker can be read after $TB_TMP is gone.
  if [ "$TB_FAILED" != 0 ] && [ -n "${TB_FAIL_LOGS:-}" ] && compgen -G "$TB_TMP/*.log" >/dev/null; then
    mkdir -p "$TB_FAIL_LOGS" && cp "$TB_TMP"/*.log "$TB_FAIL_LOGS/" 2>/dev/null &&
      echo "# process logs kept in $TB_FAIL_LOGS"
  fi
  if [ "${TB_KEEP_TMP:-0}" = 1 ]; then
    echo "# kept $TB_TMP"
  else
    rm -rf "$TB_TMP"
  fi
  [ $san = 0 ] || exit 1
}
# Any sanitizer report fails the test (tb_cleanup exits 1): named, its head
# printed, the file kept in a directory that survives $TB_TMP. Returns 1
# when there was one.
tb_sanitizer_check() {
  local f keep=""
  for f in "$TB_SAN_DIR"/*; do
    [ -f "$f" ] || continue
    [ -n "$keep" ] || keep=$(mktemp -d /tmp/tb-sanitizer.XXXXXX)
    cp "$f" "$keep/"
    echo "not ok - sanitizer report $(basename "$f") (kept as $keep/$(basename "$f"))"
    head -40 "$f" | sed 's/^/#   /'
    TB_FAILED=1
  done
  [ -z "$keep" ]
}
trap tb_cleanup EXIT
trap 'exit 130' INT TERM

tb_ok() { echo "ok - $*"; }
tb_fail() { echo "not ok - $*"; TB_FAILED=1; }
tb_skip() { local name=$1; shift; echo "ok - $name # SKIP $*"; }
tb_diag() { echo "# $*"; }

# tb_check NAME EXPECTED GOT: equality check printing both on failure.
tb_check() {
  if [ "$2" = "$3" ]; then tb_ok "$1"; else tb_fail "$1"; tb_diag "expected: $2"; tb_diag "got:      $3"; fi
}

# tb_start NAME CMD...: start a process in the background, log to $TB_TMP/NAME.log
# (restarts append), remember its PID for cleanup. Call it directly, never in
# $(...) (a subshell would lose the PID): the PID is in $TB_LAST_PID (and
# printed on stdout for the record).
tb_start() {
  local name=$1; shift
  "$@" >>"$TB_TMP/$name.log" 2>&1 &
  TB_LAST_PID=$!
  TB_PIDS+=("$TB_LAST_PID")
  echo "$TB_LAST_PID"
}

# tb_stop PID [SIGNAL]: stop one process we started and wait for it.
tb_stop() {
  local pid=$1 sig=${2:-TERM}
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# tb_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
tb_wait_for() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  while [ $SECONDS -le $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# tb_free_port: a TCP port on 127.0.0.1 that is free right now, chosen below
# the kernel's ephemeral range (ip_local_port_range) so that no outgoing
# connection or port-0 listener can take it before the test binds it.
tb_free_port() {
  local p lo=32768 hi
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { echo "$p"; return 0; }
  done
  return 1
}

tb_finish() { exit "$TB_FAILED"; }
