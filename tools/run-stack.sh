#!/usr/bin/env bash
# tools/run-stack.sh — `make run`: the whole pipeline on this machine, with
# data in it, until Ctrl-C (or SIGTERM). TB_RUN_ONCE=1 does everything, prints
# the same report and exits 0 (CI smoke: tests/integration/190-make-run-smoke.sh).
#
# What it starts, in order (every process by PID, logs in $RUN_DIR/logs/):
#   dev broker (tb-devbroker), a private PostgreSQL (tools/pg/pgctl.sh, data
#   in $RUN_DIR/pg) with the migrations (tb-migrate), the five services
#   (adapter, canonicalizer, correlator, aggregator, timeline-api), and, when
#   $BUILD/bin/tb-probe-agent exists and `tb-probe-agent --check` says the
#   kernel allows it, the demo workload under the probe-agent (optional: a
#   failure there is reported, not fatal).
# What it feeds:
#   - the demo workload (tools/demo/workload/shop.c), compiled here with
#     symbols and frame pointers, registered as an artifact with a CycloneDX
#     SBOM (digest = sha256 of the binary; component purl owns the binary's
#     path and build-id). The canonicalizer's --symbol-dir mirrors the
#     binary (and libc) at their real paths, so Tetragon frames, which carry
#     no build-id, get one and are symbolized when they lack a symbol;
#   - every Tetragon sample of ../shared/testdata/tetragon through
#     POST /api/v1/runtime/traces (the stack-trace fragments file is refused
#     with a 400: it holds no events);
#   - a generated set of Tetragon process_kprobe events of the demo binary
#     (write/openat/security_file_permission kprobes, kernel stacks with real
#     kernel function names, user stacks at the binary's real file offsets,
#     over the last ~12 minutes) — tools/demo/tetragon-kprobe.jq.
# Then it waits until the rows are in PostgreSQL and prints the API address
# and example queries (timeline, hot-symbols, stacks.folded) with their real
# output.
#
# Environment: BUILD (default build), TB_RUN_DIR (default ./var/run-stack;
# wiped at start, one `make run` per directory), TB_API_PORT (default 8080,
# an ephemeral port if 8080 is taken), TB_RUN_ONCE=1, TB_RUN_EVENTS (generated
# events, default 240), TB_RUN_PROBE=0 (do not start the probe-agent).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case "$BUILD" in /*) BIN="$BUILD/bin" ;; *) BIN="$ROOT/$BUILD/bin" ;; esac
RUN_DIR=${TB_RUN_DIR:-$ROOT/var/run-stack}
case "$RUN_DIR" in /*) ;; *) RUN_DIR="$ROOT/$RUN_DIR" ;; esac
SAMPLES="$ROOT/../shared/testdata/tetragon"
DEMO="$ROOT/tools/demo"
N_EVENTS=${TB_RUN_EVENTS:-240}
PURL="pkg:generic/tracebridge/demo-shop@1.0.0"
LOG="$RUN_DIR/logs"
PIDS=()   # everything we started, in start order
NAMES=()
PG_STARTED=0

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }

stop_all() {
  local i pid
  trap - EXIT INT TERM
  [ ${#PIDS[@]} -gt 0 ] || [ "$PG_STARTED" = 1 ] || return 0
  step "stopping everything this run started"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "    ${NAMES[$i]} (pid $pid) did not stop within 10 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  if [ "$PG_STARTED" = 1 ]; then
    "$ROOT/tools/pg/pgctl.sh" stop "$RUN_DIR/pg" >/dev/null 2>&1 || say "    PostgreSQL did not stop cleanly"
  fi
  [ -n "${LOCK_FD:-}" ] && exec {LOCK_FD}>&-
  say "    stopped (logs and data kept in $RUN_DIR)"
}
trap stop_all EXIT
# Ctrl-C / SIGTERM are the normal way to stop: stop everything, exit 0.
trap 'exit 0' INT TERM

die() {
  say "run-stack: $*" >&2
  exit 1
}

# start NAME CMD...: run CMD in the background, log to $LOG/NAME.log, remember its PID.
start() {
  local name=$1; shift
  "$@" >>"$LOG/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
  LAST_PID=$!
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.2 s.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -le $deadline ] || return 1
    sleep 0.2
  done
}

# A port below the kernel's ephemeral range, so that no outgoing connection
# or port-0 listener can take it between this check and the bind.
free_port() {
  local p lo=32768 hi
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { echo "$p"; return 0; }
  done
  return 1
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ready() { # NAME: its admin /readyz answers 200
  local pf="$RUN_DIR/$1.port"
  [ -s "$pf" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$pf")/readyz")" = 200 ]
}

log_tail() { tail -n "${2:-15}" "$LOG/$1.log" 2>/dev/null | sed 's/^/    | /'; }

psql_q() { "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"; }

# ---- preparation --------------------------------------------------------------------------
for b in tb-devbroker tb-migrate tb-adapter tb-canonicalizer tb-correlator tb-aggregator tb-timeline-api; do
  [ -x "$BIN/$b" ] || die "$BIN/$b is missing: build first (make BUILD=$BUILD bins, or make run)"
done
for t in curl jq cc nm readelf sha256sum flock; do
  command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
mkdir -p "$RUN_DIR"
exec {LOCK_FD}>"$RUN_DIR/.lock"
flock -n "$LOCK_FD" || { LOCK_FD=; die "another run-stack.sh uses $RUN_DIR (set TB_RUN_DIR to run a second one)"; }
"$ROOT/tools/pg/pgctl.sh" stop "$RUN_DIR/pg" >/dev/null 2>&1 # a server left by a run that was killed
find "$RUN_DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
mkdir -p "$LOG" "$RUN_DIR/demo/bin" "$RUN_DIR/symbols"
say "Tracebridge dev stack in $RUN_DIR (build: $BUILD)"

step "building the demo workload (tools/demo/workload/shop.c)"
SHOP="$RUN_DIR/demo/bin/shop"
cc -g -O1 -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-inline -o "$SHOP" "$DEMO/workload/shop.c" ||
  die "cannot compile the demo workload"
SHOP_INFO=$("$DEMO/elf-info.sh" "$SHOP") || die "cannot read the demo binary's symbols"
BUILD_ID=$(jq -r .build_id <<<"$SHOP_INFO")
DIGEST="sha256:$(sha256sum "$SHOP" | cut -d' ' -f1)"
# The symbol dir mirrors the node's files at their paths (a sysroot).
mkdir -p "$RUN_DIR/symbols$(dirname "$SHOP")" && cp "$SHOP" "$RUN_DIR/symbols$SHOP"
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null || true)
LIBC_INFO=""
# (only the two functions the generated stacks use: the whole table is too big for argv)
if [ -n "$LIBC" ] && [ -f "$LIBC" ] &&
  LIBC_INFO=$("$DEMO/elf-info.sh" "$LIBC" 2>/dev/null | jq -c '.functions |= {write, open64}') &&
  [ "$(jq -r '.functions.write.file_offset // empty' <<<"$LIBC_INFO")" != "" ] &&
  [ "$(jq -r '.functions.open64.file_offset // empty' <<<"$LIBC_INFO")" != "" ]; then
  mkdir -p "$RUN_DIR/symbols$(dirname "$LIBC")" && cp "$LIBC" "$RUN_DIR/symbols$LIBC"
else
  LIBC_INFO=""
fi
say "    $SHOP  build-id $BUILD_ID"

# ---- broker, PostgreSQL -----------------------------------------------------------------------
step "starting the dev broker"
start devbroker "$BIN/tb-devbroker" --brokers 1 --bootstrap-file "$RUN_DIR/bootstrap"
wait_for 30 "broker" test -s "$RUN_DIR/bootstrap" || { log_tail devbroker; die "the dev broker did not start"; }
BROKERS=$(cat "$RUN_DIR/bootstrap")
export TB_KAFKA_SESSION_TIMEOUT_MS=${TB_KAFKA_SESSION_TIMEOUT_MS:-6000}

step "starting PostgreSQL"
PG_BINDIR=$("$ROOT/tools/pg/pgctl.sh" bindir) || die "no PostgreSQL server installed (make deps)"
PG_STARTED=1
for attempt in 1 2 3; do
  PG_PORT=$(free_port) || die "no free port for PostgreSQL"
  "$ROOT/tools/pg/pgctl.sh" start "$RUN_DIR/pg" "$PG_PORT" >>"$LOG/postgres.log" 2>&1 && break
  PG_PORT=""
done
[ -n "$PG_PORT" ] || { log_tail postgres; die "PostgreSQL did not start"; }
PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/tracebridge"
"$PG_BINDIR/psql" -X -q "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -c 'CREATE DATABASE tracebridge' \
  >>"$LOG/postgres.log" 2>&1 || die "CREATE DATABASE failed (see $LOG/postgres.log)"
"$BIN/tb-migrate" --pg "$PG_URL" >>"$LOG/migrate.log" 2>&1 || { log_tail migrate; die "migrations failed"; }

# ---- the services -----------------------------------------------------------------------------
step "starting adapter, canonicalizer, correlator, aggregator, timeline-api"
head -c 32 /dev/urandom >"$RUN_DIR/hash.key"
API_PORT=${TB_API_PORT:-8080}
if port_busy "$API_PORT"; then
  say "    port $API_PORT is taken: the API gets an ephemeral port"
  API_PORT=0
fi
svc() { # NAME ARGS...
  local name=$1; shift
  start "$name" "$BIN/tb-$name" --brokers "$BROKERS" --admin-addr 127.0.0.1:0 \
    --admin-port-file "$RUN_DIR/$name.port" "$@"
}
svc adapter --input kafka
svc canonicalizer --symbol-dir "$RUN_DIR/symbols" --hash-key-file "$RUN_DIR/hash.key"
svc correlator
svc aggregator --pg "$PG_URL"
svc timeline-api --pg "postgresql://tb_api@127.0.0.1:$PG_PORT/tracebridge" --listen "127.0.0.1:$API_PORT" \
  --port-file "$RUN_DIR/api.port"
for s in adapter canonicalizer correlator aggregator timeline-api; do
  wait_for 60 "$s" ready "$s" || { log_tail "$s"; die "tb-$s is not ready after 60 s (log: $LOG/$s.log)"; }
done
API="http://127.0.0.1:$(cat "$RUN_DIR/api.port")"
say "    API at $API"

post() { # PATH FILE -> status; body in $RUN_DIR/http.body
  curl -s -o "$RUN_DIR/http.body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$2" "$API$1"
}

# ---- the probe-agent on the demo workload (optional) ------------------------------------------------
PROBE=0
if [ "${TB_RUN_PROBE:-1}" = 0 ]; then
  say "==> probe-agent: skipped (TB_RUN_PROBE=0)"
elif [ ! -x "$BIN/tb-probe-agent" ]; then
  say "==> probe-agent: not built ($BIN/tb-probe-agent), skipped"
elif ! "$BIN/tb-probe-agent" --check >"$LOG/probe-check.log" 2>&1; then
  say "==> probe-agent: this kernel/user cannot run it, skipped: $(grep -v '^{' "$LOG/probe-check.log" | head -1)"
else
  step "starting the demo workload under the probe-agent"
  start workload "$SHOP" 86400
  WORKLOAD_PID=$LAST_PID
  start probe-agent "$BIN/tb-probe-agent" --brokers "$BROKERS" --admin-addr 127.0.0.1:0 \
    --admin-port-file "$RUN_DIR/probe-agent.port" --pid "$WORKLOAD_PID" --flush-interval 2s --node demo-node-1
  if wait_for 30 probe-agent ready probe-agent; then
    PROBE=1
  else
    say "    the probe-agent did not become ready (non-fatal):"
    log_tail probe-agent 5
  fi
fi

# ---- data: artifact, Tetragon samples, generated kprobe events ----------------------------------------
step "registering the demo artifact (CycloneDX 1.5 SBOM: $PURL owns $SHOP)"
# libc is a second component when its symbols were readable (its frames then correlate too)
LIBC_COMPONENT=null
if [ -n "$LIBC_INFO" ]; then
  LIBC_VERSION=$(dpkg-query -W -f '${Version}' libc6 2>/dev/null || echo unknown)
  LIBC_COMPONENT=$(jq -n -c --arg v "$LIBC_VERSION" --arg m "$LIBC" --arg b "$(jq -r .build_id <<<"$LIBC_INFO")" '
    {"bom-ref": "libc6", type: "library", name: "libc6", version: $v,
     purl: "pkg:deb/debian/libc6@\($v | @uri)?arch=amd64",
     properties: [{name: "tracebridge:path", value: $m}, {name: "tracebridge:build-id", value: $b}]}')
fi
jq -n -c --arg d "$DIGEST" --arg p "$PURL" --arg m "$SHOP" --arg b "$BUILD_ID" --argjson libc "$LIBC_COMPONENT" '
  {digest: $d, name: "demo-shop", version: "1.0.0",
   sbom: {bomFormat: "CycloneDX", specVersion: "1.5", version: 1,
          metadata: {component: {"bom-ref": "demo-shop-image", type: "container", name: "demo-shop", version: "1.0.0"}},
          components: ([{"bom-ref": "demo-shop", type: "application", name: "demo-shop", version: "1.0.0", purl: $p,
                         properties: [{name: "tracebridge:path", value: $m}, {name: "tracebridge:build-id", value: $b}]}]
                       + (if $libc then [$libc] else [] end))}}' \
  >"$RUN_DIR/artifact.json"
code=$(post /api/v1/artifacts "$RUN_DIR/artifact.json")
[ "$code" = 202 ] || die "POST /api/v1/artifacts: $code $(cat "$RUN_DIR/http.body")"
artifact_in() { [ "$(psql_q "SELECT count(*) FROM artifact_binaries WHERE build_id = '$BUILD_ID'")" -ge 1 ]; }
wait_for 60 artifact artifact_in ||
  die "the artifact did not reach PostgreSQL (see $LOG/aggregator.log)"

step "replaying the Tetragon samples of ../shared/testdata/tetragon"
: >"$RUN_DIR/sample.ids"
if [ -d "$SAMPLES" ]; then
  for f in "$SAMPLES"/*; do
    case "$f" in *.md) continue ;; esac
    code=$(post /api/v1/runtime/traces "$f")
    if [ "$code" = 202 ]; then
      jq -r '.event_ids[]' "$RUN_DIR/http.body" >>"$RUN_DIR/sample.ids"
      say "    $(basename "$f"): $(jq -r '"\(.accepted) events, \(.skipped) skipped"' "$RUN_DIR/http.body")"
    else
      say "    $(basename "$f"): $code $(jq -r '.error.message' "$RUN_DIR/http.body" 2>/dev/null | cut -c1-100)"
    fi
  done
else
  say "    $SAMPLES not found: no samples replayed"
fi
N_SAMPLES=$(sort -u "$RUN_DIR/sample.ids" | grep -c .)

step "generating $N_EVENTS Tetragon process_kprobe events of the demo binary (last 12 minutes)"
NOW=$(date -u +%s)
# One spec per event (tools/demo/tetragon-kprobe.jq): three kprobe patterns
# over four pods of two nodes; every other write stack has a bare frame.
gen_specs() {
  jq -n -c --argjson n "$N_EVENTS" --argjson now "$NOW" --arg m "$SHOP" --arg d "$DIGEST" --arg libc "$LIBC" \
    --argjson haslibc "$([ -n "$LIBC_INFO" ] && echo true || echo false)" '
    range(0; $n) as $i
    | ($i % 3) as $pat | "demo-node-\(1 + $i % 2)" as $node | ($i % 4) as $pod | (4000 + $i % 4) as $pid
    | ((($now - 720 + ($i * 720 / $n | floor)) | todate) | sub("Z$"; ".\(1000 + $i * 7 % 1000 | tostring | .[1:])Z")) as $t
    | {node: $node, time: $t, exec_id: "\($node):1000\($pod):\($pid)", pid: $pid, binary: $m, uid: 1000,
       arguments: "--serve", cwd: "/srv/shop", start_time: "2026-01-01T00:00:00Z",
       pod: {namespace: "demo", name: "shop-7d9f8b6c5-\($pod)", workload: "shop",
             container_id: "containerd://\($pod)a1b2c3d4e5f6", image_name: "registry.local/tracebridge/demo-shop:1.0.0",
             image_id: "registry.local/tracebridge/demo-shop@\($d)"},
       policy: "demo-stacks"} as $base
    | [{fn: "write_receipt", delta: 61}, {fn: "handle_checkout", delta: 40},
       ({fn: "serve_requests", delta: 33} + (if $i % 2 == 1 then {symbol: false} else {} end)), {fn: "main", delta: 100}]
      as $write_user
    | (if $haslibc then [{module: $libc, fn: "write", delta: 20}] else [] end) as $libc_w
    | (if $haslibc then [{module: $libc, fn: "open64", delta: 80}] else [] end) as $libc_o
    | if $pat == 0 then $base + {function: "__x64_sys_write",
          kernel: [{symbol: "__x64_sys_write", offset: 0}, {symbol: "do_syscall_64", offset: 88},
                   {symbol: "entry_SYSCALL_64_after_hwframe", offset: 110}],
          user: ($libc_w + $write_user)}
      elif $pat == 1 then $base + {function: "security_file_permission",
          kernel: [{symbol: "security_file_permission", offset: 0}, {symbol: "rw_verify_area", offset: 71},
                   {symbol: "vfs_write", offset: 104}, {symbol: "ksys_write", offset: 103},
                   {symbol: "__x64_sys_write", offset: 25}, {symbol: "do_syscall_64", offset: 88},
                   {symbol: "entry_SYSCALL_64_after_hwframe", offset: 110}],
          user: ($libc_w + $write_user)}
      else $base + {function: "__x64_sys_openat",
          kernel: [{symbol: "__x64_sys_openat", offset: 0}, {symbol: "do_syscall_64", offset: 88},
                   {symbol: "entry_SYSCALL_64_after_hwframe", offset: 110}],
          user: ($libc_o + [{fn: "main", delta: 40}])}
      end'
}
ELFS=$(jq -n -c --arg m "$SHOP" --argjson s "$SHOP_INFO" --arg l "$LIBC" --argjson li "${LIBC_INFO:-null}" \
  '{($m): $s} + (if $li then {($l): $li} else {} end)')
gen_specs | jq -c --argjson elfs "$ELFS" -f "$DEMO/tetragon-kprobe.jq" >"$RUN_DIR/generated.jsonl" ||
  die "generating the events failed"
code=$(post /api/v1/runtime/traces "$RUN_DIR/generated.jsonl")
[ "$code" = 202 ] || die "POST of the generated events: $code $(cat "$RUN_DIR/http.body")"
N_GEN=$(jq -r '.event_ids | unique | length' "$RUN_DIR/http.body")
say "    $N_GEN events accepted"

step "waiting until the data is in PostgreSQL"
WANT=$((N_SAMPLES + N_GEN))
rows_in() { [ "$(psql_q "SELECT count(*) FROM observations WHERE source <> 'probe'")" -ge "$WANT" ]; }
probe_in() { [ "$(psql_q "SELECT count(*) FROM observations WHERE source = 'probe'")" -ge 1 ]; }
wait_for 120 rows rows_in ||
  die "only $(psql_q "SELECT count(*) FROM observations WHERE source <> 'probe'") of $WANT events arrived after 120 s (logs: $LOG)"
if [ "$PROBE" = 1 ]; then
  wait_for 30 probe probe_in ||
    say "    no probe-agent sample arrived within 30 s (non-fatal; see $LOG/probe-agent.log)"
fi
N_PROBE=$(psql_q "SELECT count(*) FROM observations WHERE source = 'probe'")

# ---- the report -------------------------------------------------------------------------------------
show() { # DESCRIPTION COMMAND (run through bash; the first lines of its output are shown)
  say ""
  say "# $1"
  say "\$ $2"
  bash -c "$2" 2>&1 | head -n "${3:-12}"
}
ENC_DIGEST=${DIGEST/:/%3A}
say ""
say "================================================================================"
say "Tracebridge is running on 127.0.0.1"
say "  API         $API   (OpenAPI: $API/openapi.json)"
say "  PostgreSQL  $PG_URL"
say "  Kafka       $BROKERS (dev broker)"
say "  artifact    $DIGEST  demo-shop, $PURL"
say "              binary $SHOP, build-id $BUILD_ID"
say "  data        $N_SAMPLES Tetragon sample events, $N_GEN generated kprobe events, $N_PROBE probe-agent samples"
say "  logs        $LOG/"
show "the demo artifact's timeline, latest 15 minutes (3 items)" \
  "curl -s '$API/api/v1/runtime/timeline?artifact=$ENC_DIGEST&from=now-15m&limit=3' | jq -c '.items[]'"
show "events per minute" \
  "curl -s '$API/api/v1/runtime/timeline?artifact=$ENC_DIGEST&bucket=1m' | jq -c '.items[]'" 5
show "hot symbols of the artifact (by self count, then total count)" \
  "curl -s '$API/api/v1/runtime/hot-symbols?artifact=$ENC_DIGEST&limit=10' | jq -c '.items[] | {symbol, self_count, total_count, purl, last_seen}'"
show "folded stacks (flame-graph input)" \
  "curl -s '$API/api/v1/runtime/stacks.folded?artifact=$ENC_DIGEST' | head -n 5"
show "the replayed Tetragon samples (all artifacts, oldest first)" \
  "curl -s '$API/api/v1/runtime/timeline?limit=3' | jq -c '.items[] | {ts, kind, source, symbol, workload}'"
say ""
say "================================================================================"
if [ "${TB_RUN_ONCE:-0}" = 1 ]; then
  say "TB_RUN_ONCE=1: stopping now"
  exit 0
fi
say "Running. Ctrl-C (or SIGTERM to pid $$) stops everything."
while :; do
  for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      [ "${NAMES[$i]}" = workload ] && continue
      say "run-stack: ${NAMES[$i]} (pid ${PIDS[$i]}) exited; its log:" >&2
      log_tail "${NAMES[$i]}" 20 >&2
      exit 1
    fi
  done
  sleep 1 &
  wait $!
done
