#!/usr/bin/env bash
# bench/run.sh — `make bench`: throughput, freshness, query latency, storage,
# replay and probe-agent overhead of the pipeline on this machine, each with
# its target and, where one exists, the no-processing ceiling measured in the
# same run. Prints the machine, the versions and ONE Markdown table.
# Measurements, not pass/fail tests (not part of `make test`). Methods:
# bench/README.md.
#
#   BUILD=build bench/run.sh
#
# Sizes (environment): BENCH_N (events per throughput run, 100000),
# BENCH_FRESH_RATE (10000 events/s) and BENCH_FRESH_SECS (15), BENCH_FRESH_LOW_RATE
# (1000: a second freshness run below the pipeline's capacity, 10 s),
# BENCH_DB_EVENTS (10000000) and BENCH_DB_HOURS (40: the query database is
# BENCH_DB_EVENTS / BENCH_DB_HOURS events of one hour stored through the
# aggregator's sink, copied hour by hour in SQL; cached in
# $BUILD/bench-cache, keyed by the schema and the generator), BENCH_WRK_SECS
# (10), BENCH_PROBE_SECS / BENCH_PROBE_ROUNDS (5 / 3), BENCH_SKIP (words of:
# services e2e queries probe).
set -u
cd "$(dirname "$0")/.."
. tests/lib/harness.sh
. tests/lib/stack.sh
. bench/lib.sh

N=${BENCH_N:-100000}
FRESH_RATE=${BENCH_FRESH_RATE:-10000}
FRESH_SECS=${BENCH_FRESH_SECS:-15}
FRESH_LOW_RATE=${BENCH_FRESH_LOW_RATE:-1000}
DB_EVENTS=${BENCH_DB_EVENTS:-10000000}
DB_HOURS=${BENCH_DB_HOURS:-40}
SKIP=" ${BENCH_SKIP:-} "
PARTS=32
BENCH_TOPIC=tb.bench.passthrough.v1
PIPE_TOPICS=(tb.tetragon.raw.v1 tb.probe.raw.v1 tb.events.raw.v1 tb.events.canonical.v1 tb.events.correlated.v1 "$BENCH_TOPIC"
  tb.bench.chain.0 tb.bench.chain.1 tb.bench.chain.2 tb.bench.chain.3 tb.bench.chain.4)
T_START=$SECONDS
TB_SYMBOL_DIR=$TB_TMP/symbols # the canonicalizer's (empty: the generated frames carry symbols)
mkdir -p "$TB_SYMBOL_DIR"
head -c 32 /dev/urandom >"$TB_TMP/hash.key"
export TB_LOG_LEVEL=${TB_LOG_LEVEL:-warn}
# Every consumer (services, pass-through) fetches with fetch.wait.max.ms=20 instead of
# librdkafka's 500: the dev broker (librdkafka's mock cluster) holds a fetch that finds no new
# data for the whole wait and answers a connection's requests in order, which on the 500 ms
# default put ~0.4 s on every hop (freshness) and halved the pass-through chain; Apache Kafka
# answers as soon as fetch.min.bytes arrived. Set BENCH_FETCH_WAIT_MS=500 to see the default.
export TB_KAFKA_FETCH_WAIT_MAX_MS=${BENCH_FETCH_WAIT_MS:-20}
# Tetragon's own keys: 256 containers spread the (node, exec_id) keys over the partitions.
LOADGEN_WORLD=(--frames 16 --symbols 5000 --zipf 1.1 --nodes 8 --containers 256 --artifacts 6 --pool 4096)

for b in tb-loadgen tb-passthrough tb-aggload tb-adapter tb-canonicalizer tb-correlator tb-aggregator \
  tb-timeline-api tb-kafka tb-replay tb-devbroker; do
  [ -x "$TB_BIN/$b" ] || { echo "bench: $TB_BIN/$b is not built (make bins bench-bins)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench: wrk is not installed (make deps)" >&2; exit 2; }

# ---- machine and versions ----------------------------------------------------
print_machine() {
  local pgv rdk lev
  pgv=$("$(tools/pg/pgctl.sh bindir)/postgres" --version 2>/dev/null | awk '{ print $3 }')
  rdk=$(dpkg-query -W -f '${Version}' librdkafka1 2>/dev/null || echo "?")
  lev=$(dpkg-query -W -f '${Version}' libevent-2.1-7 2>/dev/null || echo "?")
  echo "# Tracebridge benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
  echo "versions: tracebridge $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD 2>/dev/null || echo +dirty)," \
    "librdkafka $rdk, PostgreSQL $pgv, libevent $lev, avro-c $(dpkg-query -W -f '${Version}' libavro23 2>/dev/null || echo '?')," \
    "wrk $(dpkg-query -W -f '${Version}' wrk 2>/dev/null || echo '?')"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start; consumers with fetch.wait.max.ms=$TB_KAFKA_FETCH_WAIT_MAX_MS"
}

broker_start() {
  local args=() t
  for t in "${PIPE_TOPICS[@]}"; do args+=(--partitions "$t=$PARTS"); done
  tb_broker_start "${args[@]}"
}

# PostgreSQL with commit timestamps on: freshness reads when each row became visible.
pg_start() {
  tb_pg_start || return 1
  tb_psql -c "ALTER SYSTEM SET track_commit_timestamp = on" &&
    tools/pg/pgctl.sh stop "$TB_PG_DATADIR" >/dev/null &&
    tools/pg/pgctl.sh start "$TB_PG_DATADIR" "$TB_PG_PORT" >/dev/null && tb_pg_migrate
}

pg_postmaster() { head -1 "$TB_PG_DATADIR/postmaster.pid"; }

# ---- 1. per service, one core, from a pre-filled input ---------------------
# passthrough_ceiling TOPIC: the no-processing stage on TOPIC's N messages.
passthrough_ceiling() {
  local topic=$1 group="tb-bench-pass-$RANDOM" r cpu
  bench_service passthrough 0 --group "$group" --in-topic "$topic" --out-topic "$BENCH_TOPIC"
  tb_service_ready passthrough || return 1
  r=$(bench_rate_until "$(bench_port passthrough)" tb_passthrough_kafka_delivered_total 0 "$N" 300)
  cpu=$(bench_cpu_us "$TB_SVC_PID_passthrough" "$N")
  tb_service_kill passthrough TERM
  echo "${r% *} $cpu"
}

# service_rate NAME METRIC [one|sum [COUNT]]: start NAME pinned to CPU 0, wait until
# METRIC grew by COUNT (default N); prints "RATE CPU_US_PER_EVENT".
service_rate() {
  local name=$1 metric=$2 how=${3:-one} n=${4:-$N} r cpu pidvar
  bench_service "$name" 0
  tb_service_ready "$name" || return 1
  r=$(bench_rate_until "$(bench_port "$name")" "$metric" 0 "$n" 600 "$how")
  pidvar="TB_SVC_PID_${name//-/_}"
  cpu=$(bench_cpu_us "${!pidvar}" "$n")
  tb_service_kill "$name" TERM
  echo "${r% *} $cpu"
}

check_topic() { # TOPIC WANT: warn when the broker dropped messages of TOPIC
  local wm
  wm=$(bench_watermarks "$1")
  [ "${wm% *}" = 0 ] && [ "${wm#* }" -ge "$2" ] && return 0
  bench_log "WARNING: $1 watermarks (low high) = $wm, wanted 0 >= $2: the dev broker's log cap dropped messages"
  return 1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "-" }'; }

phase_services() {
  local lg ceil ceil_cpu rate cpu t stage in_topic metric how
  bench_log "services: broker and PostgreSQL on CPU 1, each service alone on CPU 0, $N events each"
  broker_start && pg_start || return 1
  bench_pin 1 "$TB_BROKER_PID"
  bench_pin 1 "$(pg_postmaster)"
  lg=$(taskset -c 0 "$TB_BIN/tb-loadgen" tetragon -b "$TB_BROKERS" --count "$N" "${LOADGEN_WORLD[@]}") || return 1
  bench_log "loadgen tetragon: $lg"
  bench_figure "load generator, Tetragon JSON 16 frames (one core)" \
    "$(echo "$lg" | jq -r .events_per_s)" "ev/s" "≫ 100,000" "-" "-"
  check_topic tb.tetragon.raw.v1 "$N"
  # stage, its input topic, the counter that says an input was fully handled
  for stage in "adapter tb.tetragon.raw.v1 tb_adapter_kafka_delivered_total" \
    "canonicalizer tb.events.raw.v1 tb_canonicalizer_kafka_delivered_total" \
    "correlator tb.events.canonical.v1 tb_correlator_kafka_delivered_total" \
    "aggregator tb.events.correlated.v1 tb_aggregator_observations_inserted_total"; do
    read -r name in_topic metric <<<"$stage"
    check_topic "$in_topic" "$N"
    read -r ceil ceil_cpu <<<"$(passthrough_ceiling "$in_topic")"
    bench_log "ceiling on $in_topic: $ceil msg/s, $ceil_cpu µs CPU/msg"
    read -r rate cpu <<<"$(service_rate "$name" "$metric")"
    bench_log "$name: $rate ev/s, $cpu µs CPU/event"
    t="-"
    case $name in adapter) t="≥ 100,000 (e2e)" ;; esac
    bench_figure "$name, one core ($in_topic)" "$rate" "ev/s ($cpu µs CPU/ev)" "$t" \
      "$ceil msg/s ($ceil_cpu µs CPU/msg)" "$(ratio "$rate" "$ceil")"
  done
  # A quarter of N: probe batches are keyed by node (8 nodes, so 8 of the 32 partitions), and
  # the dev broker keeps ~5 MiB per partition.
  lg=$("$TB_BIN/tb-loadgen" probe -b "$TB_BROKERS" --count $((N / 4)) "${LOADGEN_WORLD[@]}") || return 1
  bench_log "loadgen probe: $lg"
  check_topic tb.probe.raw.v1 "$(echo "$lg" | jq -r .messages)"
  bench_figure "load generator, ProbeBatch 64 × 16 frames (one core)" \
    "$(echo "$lg" | jq -r .events_per_s)" "ev/s" "≫ 100,000" "-" "-"
  read -r rate cpu <<<"$(service_rate adapter tb_adapter_events_out_total sum "$(echo "$lg" | jq -r .events)")"
  bench_log "adapter (probe): $rate ev/s, $cpu µs CPU/event"
  bench_figure "adapter, one core (tb.probe.raw.v1, 64 samples/batch)" "$rate" "ev/s ($cpu µs CPU/ev)" "-" "-" "-"
  tb_broker_stop
}

# ---- 2. end to end, freshness, replay, storage (all services, both cores) ---
agg_inserted() { bench_metric "$(bench_port aggregator)" tb_aggregator_observations_inserted_total; }

wait_inserted() { # WANT SECS: poll the aggregator until it stored WANT events
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -le $deadline ]; do
    [ "$(agg_inserted)" -ge "$1" ] && return 0
    sleep 0.1
  done
  bench_log "the aggregator stored $(agg_inserted) of $1 events in $2 s"
  return 1
}

start_probe_agent() { # --dry-run at 99 Hz: its CPU cost is in the e2e run, its samples are not
  PROBE_PID=""
  "$TB_BIN/tb-probe-agent" --check --admin-addr 127.0.0.1:0 >/dev/null 2>&1 || return 0
  tb_start probe-agent "$TB_BIN/tb-probe-agent" --dry-run --frequency 99 --admin-addr 127.0.0.1:0 >/dev/null
  PROBE_PID=$TB_LAST_PID
}

# freshness RATE SECS SEED TARGET: produce at RATE for SECS, wait until stored,
# then p50/p99 of (commit time of the row - the event's production time).
freshness() {
  local rate=$1 secs=$2 seed=$3 target=$4 from lg m q got
  bench_log "freshness: $rate events/s for $secs s"
  from=$(tb_psql -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
  m=$(agg_inserted)
  lg=$("$TB_BIN/tb-loadgen" tetragon -b "$TB_BROKERS" --rate "$rate" --duration "$secs" \
    --count 100000000 --seed "$seed" "${LOADGEN_WORLD[@]}") || return 1
  bench_log "freshness load: $lg"
  wait_inserted $((m + $(echo "$lg" | jq -r .events))) 900 || return 1
  q=$(tb_psql -F' ' -c "SELECT round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY d)),
        round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY d)), count(*)
        FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - ts) AS d FROM observations
              WHERE ts >= '$from' AND source = 'tetragon') x")
  got=$(tb_api_get "/api/v1/runtime/timeline?from=$from&limit=1000" | jq '.items | length')
  bench_log "freshness (ms p50 p99 rows): $q; the timeline route shows $got (of at most 1000) of them"
  read -r p50 p99 _ <<<"$q"
  bench_figure "freshness p50 / p99 at $(echo "$lg" | jq -r .events_per_s) ev/s (produced → committed, visible)" \
    "$p50 / $p99" "ms" "$target" "-" "-"
}

# chain_ceiling: the end-to-end ceiling: four pass-through stages in a row
# (tb.bench.chain.0 -> .1 -> .2 -> .3 -> .4), unpinned like the pipeline's four
# Kafka hops, fed flat out with the same Tetragon bytes; prints events/s from
# the first produce until the last stage delivered all N.
chain_ceiling() {
  local i t0 t1 pids=() port deadline
  for i in 1 2 3 4; do
    rm -f "$TB_TMP/chain$i.port"
    tb_start "chain$i" "$TB_BIN/tb-passthrough" --brokers "$TB_BROKERS" --group "tb-bench-chain$i" \
      --in-topic "tb.bench.chain.$((i - 1))" --out-topic "tb.bench.chain.$i" --admin-addr 127.0.0.1:0 \
      --admin-port-file "$TB_TMP/chain$i.port" >/dev/null
    pids+=("$TB_LAST_PID")
    printf -v "TB_SVC_PID_chain$i" '%s' "$TB_LAST_PID"
  done
  for i in 1 2 3 4; do tb_service_ready "chain$i" >&2 || return 1; done
  sleep 5 # let every group join while idle (~3 s on the dev broker), as for the pipeline
  t0=$(bench_now)
  "$TB_BIN/tb-loadgen" tetragon -b "$TB_BROKERS" --topic tb.bench.chain.0 --count "$N" "${LOADGEN_WORLD[@]}" >/dev/null ||
    return 1
  port=$(cat "$TB_TMP/chain4.port")
  deadline=$((SECONDS + 600))
  while [ "$(bench_metric "$port" tb_passthrough_kafka_delivered_total)" -lt "$N" ]; do
    [ $SECONDS -le $deadline ] || return 1
    sleep 0.1
  done
  t1=$(bench_now)
  for i in "${pids[@]}"; do tb_stop "$i"; done
  awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}

phase_e2e() {
  local s t0 t1 rate lg wm retained r tr0 hot t us cpu_line cpu_total cpu_procs
  bench_log "end to end: every service, no pinning, $N events flat out"
  broker_start || return 1
  [ -n "${TB_PG_URL:-}" ] || pg_start || return 1
  bench_pin 0,1 "$(pg_postmaster)"
  # A new broker: the offsets the aggregator stored for the previous one mean nothing here.
  tb_psql -c "TRUNCATE sink_offsets" || return 1
  CEIL_CHAIN=$(chain_ceiling) || { bench_log "the pass-through chain did not finish"; return 1; }
  bench_log "ceiling, four pass-through hops on both cores: $CEIL_CHAIN ev/s"
  TB_API_PORT=$(tb_free_port)
  TB_API="http://127.0.0.1:$TB_API_PORT"
  for s in adapter canonicalizer correlator aggregator timeline-api; do bench_service "$s" -; done
  start_probe_agent
  for s in adapter canonicalizer correlator aggregator timeline-api; do tb_service_ready "$s" || return 1; done
  sleep 5 # let every group join while idle (~3 s on the dev broker)
  # Where the CPU goes: ticks of each service, the broker and every PostgreSQL process
  # before and after the run (the loadgen's own CPU is not counted).
  cpu_procs=(adapter canonicalizer correlator aggregator broker postgres)
  cpu_pids() {
    local v
    case $1 in
    broker) echo "$TB_BROKER_PID" ;;
    postgres) pg_postmaster; pgrep -P "$(pg_postmaster)" ;;
    *) v="TB_SVC_PID_$1"; echo "${!v}" ;;
    esac
  }
  declare -A cpu0
  for s in "${cpu_procs[@]}"; do cpu0[$s]=$(bench_cpu_ticks $(cpu_pids "$s")); done
  t0=$(bench_now)
  lg=$("$TB_BIN/tb-loadgen" tetragon -b "$TB_BROKERS" --count "$N" "${LOADGEN_WORLD[@]}") || return 1
  wait_inserted "$N" 900 || return 1
  t1=$(bench_now)
  rate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  bench_log "e2e: $rate ev/s (loadgen $lg)"
  cpu_line="" cpu_total=0
  for s in "${cpu_procs[@]}"; do
    t=$(( $(bench_cpu_ticks $(cpu_pids "$s")) - ${cpu0[$s]} ))
    us=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" -v n="$N" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')
    cpu_total=$((cpu_total + us))
    cpu_line+="${cpu_line:+, }$s $us"
  done
  bench_log "e2e CPU per event (µs): $cpu_line; total $cpu_total"
  bench_figure "end to end: CPU per event (µs; PostgreSQL = all its processes)" "$cpu_line; total $cpu_total" "µs" \
    "≤ 20 (100 k/s on 2 cores)" "-" "-"
  hot=$(bench_metric "$(bench_port aggregator)" tb_aggregator_hot_rows_upserted_total)
  bench_figure "aggregator: hot_symbols rows written per stored event (16-frame stacks)" \
    "$(awk -v h="$hot" -v n="$N" 'BEGIN { printf "%.1f", h / n }')" "rows" "-" "-" "-"
  bench_figure "end to end, all services on $(nproc) cores (Tetragon, 16 frames)" "$rate" "ev/s" \
    "≥ 100,000; ≥ 40 % of ceiling" "$CEIL_CHAIN ev/s (4 pass-through hops)" "$(ratio "$rate" "$CEIL_CHAIN")"

  freshness "$FRESH_RATE" "$FRESH_SECS" 11 "≤ 1,000 ms" || return 1
  freshness "$FRESH_LOW_RATE" 10 12 "-" || return 1

  bench_log "replay: tb-replay, then the correlator and aggregator rebuild from the topics"
  tb_service_kill correlator TERM
  tb_service_kill aggregator TERM
  wm=$(bench_watermarks tb.events.canonical.v1)
  retained=$(( ${wm#* } - ${wm% *} ))
  tr0=$(bench_now)
  "$TB_BIN/tb-replay" --pg "$TB_PG_URL" --brokers "$TB_BROKERS" >"$TB_TMP/replay.log" 2>&1 ||
    { bench_log "tb-replay failed: $(tail -3 "$TB_TMP/replay.log")"; return 1; }
  bench_log "tb-replay took $(awk -v a="$tr0" -v b="$(bench_now)" 'BEGIN { printf "%.1f", b - a }') s; rebuilding $retained events"
  bench_service correlator -
  bench_service aggregator -
  tb_service_ready correlator && tb_service_ready aggregator || return 1
  r=$(bench_rate_until "$(bench_port aggregator)" tb_aggregator_observations_inserted_total 0 "$retained" 900)
  bench_log "replay: $r (ev/s s)"
  bench_figure "replay: correlator + aggregator rebuild from topics ($retained events)" "${r% *}" "ev/s" "-" "-" "-"
  storage "pipeline DB after replay"
  [ -n "${PROBE_PID:-}" ] && tb_stop "$PROBE_PID"
  for s in adapter canonicalizer correlator aggregator timeline-api; do tb_service_kill "$s" TERM; done
  tb_broker_stop
}

# storage LABEL [PSQL ARGS]: bytes of every table of the schema (heap, TOAST, indexes)
# per sampled event (sum of observations.count).
storage() {
  local label=$1 q
  shift
  q=$("$TB_PG_BINDIR/psql" -X -q -A -t -F' ' -v ON_ERROR_STOP=1 "${@:-$TB_PG_URL}" -c "
      SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind = 'r'),
             (SELECT sum(count) FROM observations),
             (SELECT pg_total_relation_size('hot_symbols'))")
  read -r bytes events hot <<<"$q"
  bench_log "storage ($label): $bytes bytes, $events events, hot_symbols $hot bytes"
  bench_figure "storage, $label ($(bench_calc "$events") events; $(awk -v b="$bytes" -v h="$hot" \
    'BEGIN { printf "%.0f", 100 * h / b }') % of it hot_symbols)" \
    "$(awk -v b="$bytes" -v e="$events" 'BEGIN { printf "%.0f", b / e }')" "B/event" "≤ 10 B" "-" "-"
}

# ---- 3. query latency on >= 10 M observations --------------------------------
case "$BUILD" in /*) CACHE_ROOT="$BUILD/bench-cache" ;; *) CACHE_ROOT="$TB_ROOT/$BUILD/bench-cache" ;; esac

db_key() {
  { cat schemas/sql/*.sql bench/aggload/main.c bench/loadgen/world.c; echo "$DB_EVENTS $DB_HOURS"; } |
    sha256sum | cut -c1-16
}

# The SELECT list that copies a row of TABLE $1 g.k hours earlier (timestamps
# shifted, event ids made unique by the copy number g.k in their first 4 bytes).
shift_select_sql() {
  cat <<SQL
SELECT string_agg(CASE WHEN column_name = 'event_id' THEN 'overlay(event_id placing int4send(g.k) from 1 for 4)'
                       WHEN data_type LIKE 'timestamp%' THEN format('%I - make_interval(hours => g.k)', column_name)
                       ELSE quote_ident(column_name) END, ', ' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$1'
SQL
}

# The statements that re-create the indexes and constraints of TABLE $1 (its own,
# not the partitions': those are created from the parent's).
index_ddl_sql() {
  cat <<SQL
SELECT CASE WHEN c.conname IS NOT NULL
            THEN format('ALTER TABLE %I ADD CONSTRAINT %I %s;', '$1', c.conname, pg_get_constraintdef(c.oid))
            ELSE replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') || ';' END
  FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
 WHERE i.indrelid = '$1'::regclass ORDER BY c.conname IS NULL, i.indexrelid
SQL
}
index_drop_sql() {
  cat <<SQL
SELECT CASE WHEN c.conname IS NOT NULL THEN format('ALTER TABLE %I DROP CONSTRAINT %I;', '$1', c.conname)
            ELSE format('DROP INDEX %s;', i.indexrelid::regclass) END
  FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
 WHERE i.indrelid = '$1'::regclass
SQL
}

# build_db DIR: one hour of events (DB_EVENTS / DB_HOURS) through the aggregator's
# sink (tb-aggload), then copied to the DB_HOURS - 1 hours before it in SQL: the
# indexes of observations and hot_symbols are dropped, each table is copied in ONE
# INSERT ... SELECT over generate_series (the two tables in two sessions, one per
# CPU), VACUUM, then the indexes are re-created from their own definitions (two
# sessions again) and ANALYZE. The same rows as copying hour by hour with the
# indexes in place (18 min here), in a fraction of the time.
build_db() {
  local dir=$1 tmp="$1.building" port url end_s seed obs_sel hot_sel out t t0 tbl psql
  rm -rf "$tmp"
  mkdir -p "$tmp"
  port=$(tb_free_port)
  tb_on_exit "tools/pg/pgctl.sh stop '$tmp/pg'"
  tools/pg/pgctl.sh start "$tmp/pg" "$port" >/dev/null || return 1
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  psql=("$TB_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$url")
  end_s=$(( $(date +%s) / 3600 * 3600 ))
  seed=$((DB_EVENTS / DB_HOURS))
  t0=$SECONDS
  bench_log "query DB: $seed events of one hour through the aggregator's sink (tb-aggload)"
  out=$("$TB_BIN/tb-aggload" --pg "$url" --events "$seed" --span-s 3600 --end-ns "${end_s}000000000") || return 1
  bench_log "tb-aggload: $out"
  bench_figure "aggregator sink, one hour of the query DB (tb-aggload, in-process)" \
    "$(echo "$out" | jq -r .events_per_s)" "ev/s" "-" "-" "-"
  # Build-time settings (postgresql.auto.conf), reset before the directory is cached.
  "${psql[@]}" -c "ALTER SYSTEM SET max_wal_size = '16GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '1h'" \
    -c "ALTER SYSTEM SET maintenance_work_mem = '1GB'" -c "ALTER SYSTEM SET max_parallel_maintenance_workers = 0" \
    -c "ALTER SYSTEM SET wal_recycle = off" \
    -c "SELECT pg_reload_conf()" >/dev/null || return 1
  for tbl in observations hot_symbols; do
    "${psql[@]}" -A -t -c "$(index_ddl_sql $tbl)" >"$tmp/$tbl.create.sql" || return 1
    "${psql[@]}" -A -t -c "$(index_drop_sql $tbl)" >"$tmp/$tbl.drop.sql" || return 1
    "${psql[@]}" -f "$tmp/$tbl.drop.sql" || return 1
  done
  obs_sel=$("${psql[@]}" -A -t -c "$(shift_select_sql observations)")
  hot_sel=$("${psql[@]}" -A -t -c "$(shift_select_sql hot_symbols)")
  bench_log "query DB: copying that hour to the $((DB_HOURS - 1)) hours before it (indexes dropped)"
  t=$SECONDS
  "${psql[@]}" <<SQL || return 1
DO \$\$
BEGIN
    FOR d IN 0..($DB_HOURS / 24 + 2) LOOP
        PERFORM tb_observations_partition(to_timestamp($end_s - 3600) - make_interval(days => d));
    END LOOP;
END
\$\$;
SQL
  "${psql[@]}" -c "INSERT INTO observations SELECT $obs_sel FROM observations, generate_series(1, $DB_HOURS - 1) AS g(k)
      WHERE ts >= to_timestamp($end_s - 3600)" -c "VACUUM observations" &
  local p1=$!
  "${psql[@]}" -c "INSERT INTO hot_symbols SELECT $hot_sel FROM hot_symbols, generate_series(1, $DB_HOURS - 1) AS g(k)
      WHERE window_start >= to_timestamp($end_s - 3600)" -c "VACUUM hot_symbols" &
  local p2=$!
  wait $p1 || return 1
  wait $p2 || return 1
  bench_log "query DB: copied and vacuumed in $((SECONDS - t)) s; re-creating the indexes"
  t=$SECONDS
  # Two sessions (one per CPU), the statements dealt out alternately, the larger
  # table's first: hot_symbols alone would otherwise be the long pole.
  cat "$tmp/hot_symbols.create.sql" "$tmp/observations.create.sql" | grep -v '^$' >"$tmp/create.sql"
  awk 'NR % 2 == 1' "$tmp/create.sql" >"$tmp/create.1.sql"
  awk 'NR % 2 == 0' "$tmp/create.sql" >"$tmp/create.2.sql"
  "${psql[@]}" -f "$tmp/create.1.sql" &
  p1=$!
  "${psql[@]}" -f "$tmp/create.2.sql" &
  p2=$!
  wait $p1 || return 1
  wait $p2 || return 1
  bench_log "query DB: indexes in $((SECONDS - t)) s"
  # A checkpoint with wal_recycle still off deletes the WAL the build wrote (recycled, it
  # would stay in the cached directory: ~15 GB), then back to the defaults.
  "${psql[@]}" -c "ANALYZE" -c "CHECKPOINT" -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" \
    >/dev/null || return 1
  tools/pg/pgctl.sh stop "$tmp/pg" >/dev/null
  bench_log "query DB: built in $((SECONDS - t0)) s"
  mv "$tmp" "$dir" && touch "$dir/READY"
}

phase_queries() {
  local dir port url to from1h from24 art r h route p50 p99 rps bad name target status
  mkdir -p "$CACHE_ROOT"
  TB_PG_BINDIR=$(tools/pg/pgctl.sh bindir)
  dir="$CACHE_ROOT/querydb-$(db_key)"
  if [ -f "$dir/READY" ]; then
    bench_log "query DB: reusing $dir"
  else
    build_db "$dir" || { bench_log "query DB build failed"; return 1; }
  fi
  port=$(tb_free_port)
  tb_on_exit "tools/pg/pgctl.sh stop '$dir/pg'"
  tools/pg/pgctl.sh start "$dir/pg" "$port" >/dev/null || return 1
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  storage "query DB" "$url"
  read -r to from1h from24 art < <("$TB_PG_BINDIR/psql" -X -A -t -F' ' "$url" -c "
      WITH b AS (SELECT max(ts) + interval '1 microsecond' AS t FROM observations)
      SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
             to_char((t - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
             to_char((t - interval '24 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
             (SELECT artifact_digest FROM observations, b WHERE ts >= b.t - interval '10 minutes'
               GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
        FROM b")
  broker_start || return 1
  TB_API_PORT=$(tb_free_port)
  TB_API="http://127.0.0.1:$TB_API_PORT"
  tb_start timeline-api "$TB_BIN/tb-timeline-api" --brokers "$TB_BROKERS" --pg "$url" \
    --listen "127.0.0.1:$TB_API_PORT" --admin-addr 127.0.0.1:0 --admin-port-file "$TB_TMP/timeline-api.port" >/dev/null
  TB_SVC_PID_timeline_api=$TB_LAST_PID
  tb_service_ready timeline-api || return 1
  h=$(bench_wrk healthz "$TB_API/healthz")
  bench_log "healthz: $h (p50 p99 rps non-2xx)"
  for r in "timeline page (100 rows, 1 h, one artifact)|/api/v1/runtime/timeline?artifact=$art&from=$from1h&to=$to&limit=100|≤ 5 ms p99; ≥ 50 % of /healthz req/s" \
    "hot-symbols over 24 h (one artifact)|/api/v1/runtime/hot-symbols?artifact=$art&from=$from24&to=$to&limit=100|≤ 20 ms p99" \
    "finding score, last 1 h (finding on the hottest symbol, any artifact)|/api/v1/findings/bench-finding-1/runtime/score?from=$from1h&to=$to|-" \
    "finding score, default window (24 h)|/api/v1/findings/bench-finding-1/runtime/score|-"; do
    IFS='|' read -r name route target <<<"$r"
    read -r status one < <(curl -s --max-time 60 -o "$TB_TMP/route.json" -w '%{http_code} %{time_total}\n' "$TB_API$route")
    bench_log "$name: HTTP $status in $one s, $(head -c 300 "$TB_TMP/route.json")"
    if [ "$status" != 200 ]; then
      bench_figure "$name p50 / p99" "no answer within 60 s (HTTP status $status)" "" "$target" "-" "-"
      continue
    fi
    read -r p50 p99 rps bad < <(bench_wrk "$(echo "$name" | tr -c 'a-z0-9\n' _)" "$TB_API$route")
    [ "$bad" = 0 ] || bench_log "WARNING: $bad non-2xx answers on $route"
    if awk -v r="$rps" 'BEGIN { exit !(r + 0 == 0) }'; then
      # wrk completed no request within its run: report the single curl request instead.
      bench_figure "$name" "$(awk -v t="$one" 'BEGIN { printf "%.0f", t * 1000 }') ms (one request; wrk completed none in ${BENCH_WRK_SECS:-10} s)" \
        "" "$target" "-" "-"
      continue
    fi
    bench_figure "$name p50 / p99" "$p50 / $p99" "ms" "$target" "/healthz $(echo "$h" | cut -d' ' -f2) ms p99, $(echo "$h" | cut -d' ' -f3) req/s" \
      "$(ratio "$rps" "$(echo "$h" | cut -d' ' -f3)") ($rps req/s)"
  done
  tb_service_kill timeline-api TERM
  tb_broker_stop
  tools/pg/pgctl.sh stop "$dir/pg" >/dev/null
}

# ---- 4. probe-agent -----------------------------------------------------------
phase_probe() {
  local out line
  out=$(bash bench/probe-overhead.sh "${BENCH_PROBE_SECS:-5}" "${BENCH_PROBE_ROUNDS:-3}" 2>"$TB_TMP/probe.err")
  line=$(echo "$out" | awk '$1 == "99" && $2 == "Hz"')
  if [ -z "$line" ]; then
    bench_log "probe-agent overhead not measured: $(tail -2 "$TB_TMP/probe.err")"
    bench_figure "probe-agent at 99 Hz" "not measured (needs root + BPF)" "" "≤ 0.5 % CPU, ≤ 30 MB" "-" "-"
    return 0
  fi
  echo "$out" >&2
  read -r _ _ _ _ _ _ cpu ov rss <<<"$line"
  bench_figure "probe-agent at 99 Hz, busy $(nproc)-CPU machine: agent CPU (of one CPU)" "${cpu%\%}" "%" "≤ 0.5 %" "-" \
    "overhead on the workload $ov"
  bench_figure "probe-agent RSS, peak / at the end of a run" "${rss//MB/}" "MB" "≤ 30 MB" "-" "-"
}

# ---- main ---------------------------------------------------------------------
main() {
print_machine
case $SKIP in *" services "*) ;; *) phase_services || bench_log "services phase failed" ;; esac
case $SKIP in *" e2e "*) ;; *) phase_e2e || bench_log "end-to-end phase failed" ;; esac
case $SKIP in *" queries "*) ;; *) phase_queries || bench_log "query phase failed" ;; esac
case $SKIP in *" probe "*) ;; *) phase_probe || bench_log "probe phase failed" ;; esac
echo
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the end; total $((SECONDS - T_START)) s"
echo
bench_table
}

# One line, read whole before it runs: editing this file during a run cannot
# make bash execute a half-read line.
main "$@"; exit $?
