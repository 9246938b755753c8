# tests/lib/aggregator.sh — helpers of the aggregator tests (030, 031, 032):
# instances on databases of the test's PostgreSQL, their admin endpoints,
# "caught up" as stored offsets = topic ends, and a canonical dump of every
# table the aggregator writes. Source after harness.sh, broker.sh and pg.sh.
#
#   psql_db DB ARGS...          psql (unaligned, tuples only) on database DB
#   start_agg NAME DB GROUP [ARGS...]
#                               an aggregator on DB in consumer group GROUP,
#                               plus "${AGG_ARGS[@]}"; sets LAST_PID
#   admin NAME PATH, readyz NAME, readyz_code NAME, is_ready NAME,
#   not_ready_because NAME WORD, metric NAME SUFFIX (tb_aggregator_SUFFIX)
#   ends; stored DB GROUP; caught_up DB GROUP; wait_caught_up DB GROUP WHAT
#                               (within $WAIT seconds, default 180)
#   wait_exit PID SECONDS       exit status in STATUS (124 on timeout)
#   count_in DB; at_least DB N  observations stored
#   dump DB GROUP               every table, canonical order, times in UTC

KAFKA=${KAFKA:-$TB_BIN/tb-kafka}
AGG=${AGG:-$TB_BIN/tb-aggregator}
AGG_TOPICS="tb.events.correlated.v1 tb.artifacts.v1 tb.findings.v1"
WAIT=${WAIT:-180}
AGG_ARGS=()

psql_db() {
  local db=$1; shift
  "$TB_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$(tb_pg_url "$db")" "$@"
}

start_agg() {
  local name=$1 db=$2 group=$3; shift 3
  tb_start "$name" "$AGG" --brokers "$TB_BROKERS" --pg "$(tb_pg_url "$db")" --group "$group" \
    --admin-port-file "$TB_TMP/$name.port" --batch-wait-ms 50 ${AGG_ARGS[@]+"${AGG_ARGS[@]}"} "$@" >/dev/null
  LAST_PID=${TB_PIDS[${#TB_PIDS[@]}-1]}
}

admin() { curl -s --max-time 5 "http://127.0.0.1:$(cat "$TB_TMP/$1.port" 2>/dev/null)$2"; }
readyz() { admin "$1" /readyz; }
readyz_code() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' "http://127.0.0.1:$(cat "$TB_TMP/$1.port" 2>/dev/null)/readyz"; }
is_ready() { [ "$(readyz_code "$1")" = 200 ]; }
not_ready_because() { [ "$(readyz_code "$1")" = 503 ] && readyz "$1" | grep -q "$2"; }
metric() { admin "$1" /metrics | awk -v m="tb_aggregator_$2" '$1 == m {print $2}'; }

# The end offsets of the input topics ("topic partition high", non-empty partitions).
ends() {
  local t
  for t in $AGG_TOPICS; do "$KAFKA" metadata -t "$t" --watermarks 2>/dev/null; done |
    awk '$4 > 0 {print $1, $2, $4}' | sort
}
stored() {
  psql_db "$1" -c "SELECT topic, partition, next_offset FROM sink_offsets WHERE consumer_group = '$2'" 2>/dev/null |
    tr '|' ' ' | sort
}
caught_up() { [ "$(ends)" = "$(stored "$1" "$2")" ]; }
wait_caught_up() {
  tb_wait_for "$WAIT" caught_up "$1" "$2" && return 0
  tb_diag "$3: not caught up within ${WAIT}s"
  tb_diag "ends:   $(ends | tr '\n' ',')"
  tb_diag "stored: $(stored "$1" "$2" | tr '\n' ',')"
  return 1
}

wait_exit() {
  local deadline=$((SECONDS + $2))
  STATUS=0
  while kill -0 "$1" 2>/dev/null; do
    [ $SECONDS -gt "$deadline" ] && { STATUS=124; return; }
    sleep 0.1
  done
  wait "$1" 2>/dev/null || STATUS=$?
}

count_in() { psql_db "$1" -c 'SELECT count(*) FROM observations' 2>/dev/null || echo 0; }
at_least() { [ "$(count_in "$1")" -ge "$2" ]; }

# Everything the aggregator writes, in a canonical order (times in UTC, no
# updated_at: wall-clock bookkeeping), plus where each observation lives.
dump() {
  psql_db "$1" <<SQL
SET TIME ZONE 'UTC';
\echo == observations
COPY (SELECT tableoid::regclass, ts, stack_id, leaf_symbol_id, count, encode(event_id, 'hex'), tenant, kind,
             source, node, namespace, workload, image_digest, artifact_digest, purl, correlation
        FROM observations ORDER BY tenant, ts, event_id) TO STDOUT;
\echo == symbols
COPY (SELECT * FROM symbols ORDER BY tenant, symbol_id) TO STDOUT;
\echo == frames
COPY (SELECT * FROM frames ORDER BY tenant, frame_id) TO STDOUT;
\echo == stacks
COPY (SELECT * FROM stacks ORDER BY tenant, stack_id) TO STDOUT;
\echo == hot_symbols
COPY (SELECT * FROM hot_symbols ORDER BY tenant, artifact_digest, width, window_start, symbol_id) TO STDOUT;
\echo == artifacts
COPY (SELECT tenant, digest, name, version, sbom_format, sbom_sha256, registered_at FROM artifacts
       ORDER BY tenant, digest) TO STDOUT;
\echo == artifact_components
COPY (SELECT * FROM artifact_components ORDER BY tenant, artifact_digest, purl) TO STDOUT;
\echo == artifact_binaries
COPY (SELECT * FROM artifact_binaries ORDER BY tenant, artifact_digest, path) TO STDOUT;
\echo == findings
COPY (SELECT tenant, finding_id, vuln_id, purl, artifact_digest, registered_at FROM findings
       ORDER BY tenant, finding_id) TO STDOUT;
\echo == finding_symbols
COPY (SELECT * FROM finding_symbols ORDER BY tenant, finding_id, symbol) TO STDOUT;
\echo == sink_offsets
COPY (SELECT topic, partition, next_offset FROM sink_offsets WHERE consumer_group = '$2'
       ORDER BY topic, partition) TO STDOUT;
SQL
}
