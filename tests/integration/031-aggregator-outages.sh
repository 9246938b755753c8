#!/usr/bin/env bash
# 031 — tb-aggregator through outages and bad input.
#
#   - PostgreSQL stopped while events keep arriving: /readyz turns 503 naming
#     PostgreSQL, the batch is retried (reconnect with backoff) and, once the
#     server is back, the database holds exactly what a clean run stores
#     (canonical dump of every table): nothing lost, nothing counted twice;
#   - the Kafka broker down: /readyz turns 503 naming Kafka, and 200 again
#     once it is up; records produced afterwards are stored;
#   - a record PostgreSQL refuses (a symbol name too large for its index):
#     only that record is dead-lettered, with the database's reason, and the
#     rest of its batch is stored;
#   - start-up failures: no --pg (exit 2), PostgreSQL unreachable (exit 3),
#     and a database without schema with --no-migrate (exit 1, nothing
#     dead-lettered: the batch is left for the next start).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/aggregator.sh"

GEN="$TB_BIN/tb-gen"
PGCTL="$TB_ROOT/tools/pg/pgctl.sh"
AGG_ARGS=(--kafka-probe-interval 500ms)
SYN=(--tenants 2 --stacks 30 --symbols 80 --depth 5 --artifacts 2)

if ! tb_broker_start || ! tb_pg_start; then
  tb_fail "dev broker and PostgreSQL start"
  tb_finish
fi
tb_ok "dev broker and PostgreSQL start"
"$TB_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$(tb_pg_url postgres)" \
  -c 'CREATE DATABASE clean' -c 'CREATE DATABASE empty' >/dev/null || tb_diag "CREATE DATABASE failed"

# ---- start-up failures ------------------------------------------------------------
out=$("$AGG" --brokers "$TB_BROKERS" 2>&1); rc=$?
tb_check "without --pg the aggregator exits 2" 2 "$rc"
case "$out" in *--pg*) tb_ok "the message says to set --pg" ;; *) tb_fail "the message says to set --pg"; tb_diag "$out" ;; esac
dead=$(tb_free_port)
out=$("$AGG" --brokers "$TB_BROKERS" --pg "postgresql://postgres@127.0.0.1:$dead/x" --pg-connect-wait 1s 2>&1); rc=$?
tb_check "with PostgreSQL unreachable the aggregator exits 3" 3 "$rc"
case "$out" in *"127.0.0.1:$dead"*) tb_ok "the message names the unreachable PostgreSQL" ;;
  *) tb_fail "the message names the unreachable PostgreSQL"; tb_diag "$(echo "$out" | tail -2)" ;; esac

# ---- PostgreSQL stops while events arrive ---------------------------------------------------
start_agg main tracebridge tb-aggregator --batch-max 200
MAIN=$LAST_PID
tb_wait_for 60 is_ready main || tb_diag "the aggregator did not become ready: $(readyz main)"
"$GEN" synth -n 4000 "${SYN[@]}" 2>"$TB_TMP/gen1.err" || tb_diag "synth 1 failed: $(cat "$TB_TMP/gen1.err")"
tb_wait_for "$WAIT" at_least tracebridge 1000 || tb_diag "nothing stored before the outage"
"$PGCTL" stop "$TB_PG_DATADIR" >"$TB_TMP/pgstop.log" 2>&1 || tb_diag "pgctl stop failed: $(cat "$TB_TMP/pgstop.log")"
"$GEN" synth --first 4000 -n 4000 "${SYN[@]}" 2>"$TB_TMP/gen2.err" || tb_diag "synth 2 failed"
if tb_wait_for 60 not_ready_because main postgres; then
  tb_ok "/readyz says not ready, naming PostgreSQL, while it is down"
else
  tb_fail "/readyz says not ready, naming PostgreSQL, while it is down"
  tb_diag "readyz: $(readyz main)"
fi
sleep 2 # let it retry against the stopped server a few times
kill -0 "$MAIN" 2>/dev/null && tb_ok "the aggregator keeps running while PostgreSQL is down" ||
  tb_fail "the aggregator keeps running while PostgreSQL is down"
"$PGCTL" start "$TB_PG_DATADIR" "$TB_PG_PORT" >"$TB_TMP/pgstart.log" 2>&1 ||
  tb_diag "pgctl start failed: $(tail -5 "$TB_TMP/pgstart.log")"
wait_caught_up tracebridge tb-aggregator "after the PostgreSQL outage"
tb_check "after the outage every event is stored exactly once" 8000 "$(count_in tracebridge)"
tb_wait_for 60 is_ready main && tb_ok "/readyz is 200 again once PostgreSQL is back" ||
  tb_fail "/readyz is 200 again once PostgreSQL is back"
grep -q 'will retry' "$TB_TMP/main.log" && tb_ok "the failed batch was retried" ||
  tb_diag "no failed batch during the outage (the outage hit between batches)"

start_agg clean clean clean
wait_caught_up clean clean "clean run"
kill -TERM "$LAST_PID"
wait_exit "$LAST_PID" 60
tb_check "the clean run exits 0 on SIGTERM" 0 "$STATUS"
dump clean clean >"$TB_TMP/clean.dump"
dump tracebridge tb-aggregator >"$TB_TMP/main.dump"
if cmp -s "$TB_TMP/clean.dump" "$TB_TMP/main.dump"; then
  tb_ok "through the outage = clean run (canonical dump)"
else
  tb_fail "through the outage = clean run (canonical dump)"
  diff "$TB_TMP/clean.dump" "$TB_TMP/main.dump" | head -10 | sed 's/^/#   /'
fi

# ---- the broker goes down ----------------------------------------------------------------------
tb_broker_ctl down 1 >/dev/null || tb_diag "broker down command failed"
if tb_wait_for 60 not_ready_because main kafka; then
  tb_ok "/readyz says not ready, naming Kafka, while the broker is down"
else
  tb_fail "/readyz says not ready, naming Kafka, while the broker is down"
  tb_diag "readyz: $(readyz main)"
fi
tb_broker_ctl up 1 >/dev/null || tb_diag "broker up command failed"
tb_wait_for 60 is_ready main && tb_ok "/readyz is 200 again once the broker is up" ||
  { tb_fail "/readyz is 200 again once the broker is up"; tb_diag "readyz: $(readyz main)"; }
"$GEN" synth --first 8000 -n 500 "${SYN[@]}" 2>"$TB_TMP/gen3.err" || tb_diag "synth 3 failed"
wait_caught_up tracebridge tb-aggregator "after the broker outage"
tb_check "records produced after the broker outage are stored" 8500 "$(count_in tracebridge)"

# ---- a record the database refuses --------------------------------------------------------------
# A symbol name of incompressible text larger than a btree index row
# (symbols_name_idx) passes every check but the database's own.
big=$(head -c 9000 /dev/urandom | base64 -w0 | tr -d '+/=' | head -c 9000)
{
  for i in 1 2 3; do
    echo "{\"_key\":\"poison\",\"tenant\":\"tp\",\"kind\":\"sample\",\"source\":\"api\",\"ts_ns\":\"176722560${i}000000000\",\"frames\":[{\"module\":\"m\",\"symbol\":\"ok_$i\"}]}"
  done
  echo "{\"_key\":\"poison\",\"tenant\":\"tp\",\"kind\":\"sample\",\"source\":\"api\",\"ts_ns\":\"1767225604000000000\",\"frames\":[{\"module\":\"m\",\"symbol\":\"$big\"}]}"
  echo "{\"_key\":\"poison\",\"tenant\":\"tp\",\"kind\":\"sample\",\"source\":\"api\",\"ts_ns\":\"1767225605000000000\",\"frames\":[{\"module\":\"m\",\"symbol\":\"ok_5\"}]}"
} >"$TB_TMP/poison.jsonl"
"$GEN" json -f "$TB_TMP/poison.jsonl" 2>"$TB_TMP/gen4.err" || tb_diag "producing the poison batch failed"
wait_caught_up tracebridge tb-aggregator "poison batch"
tb_check "the other records of the refused batch are stored" "ok_1 ok_2 ok_3 ok_5 " \
  "$(tb_psql -c "SELECT s.name FROM observations o JOIN symbols s ON s.tenant = o.tenant AND s.symbol_id = o.leaf_symbol_id
                  WHERE o.tenant = 'tp' ORDER BY o.ts" | tr '\n' ' ')"
timeout 60 "$GEN" dump -t tb.dlq.v1 --idle-exit 3000 >"$TB_TMP/dlq.dump" 2>/dev/null
reason=$(jq -r 'select(.record.reason | startswith("store:")) | .record.reason' "$TB_TMP/dlq.dump" | head -1)
case "$reason" in
  store:*54000*) tb_ok "the refused record is dead-lettered with the database's reason" ;;
  *) tb_fail "the refused record is dead-lettered with the database's reason"; tb_diag "got: ${reason:0:300}" ;;
esac
tb_check "only that record is dead-lettered" 1 "$(jq -r 'select(.record.reason | startswith("store:")) | .record.offset' "$TB_TMP/dlq.dump" | wc -l | tr -d ' ')"
is_ready main && tb_ok "the aggregator stays ready after dead-lettering" || tb_fail "the aggregator stays ready after dead-lettering"

# ---- a database without schema and --no-migrate ---------------------------------------------------
dlq_before=$(wc -l <"$TB_TMP/dlq.dump")
start_agg nomigrate empty nomigrate --no-migrate
wait_exit "$LAST_PID" "$WAIT"
tb_check "without schema (--no-migrate) the first batch stops the aggregator with exit 1" 1 "$STATUS"
grep -q 'does not exist' "$TB_TMP/nomigrate.log" && tb_ok "the log names the missing table" ||
  { tb_fail "the log names the missing table"; tail -3 "$TB_TMP/nomigrate.log" | sed 's/^/#   /'; }
timeout 60 "$GEN" dump -t tb.dlq.v1 --idle-exit 3000 >"$TB_TMP/dlq2.dump" 2>/dev/null
tb_check "a schema problem dead-letters nothing" "$dlq_before" "$(wc -l <"$TB_TMP/dlq2.dump" | tr -d ' ')"

kill -TERM "$MAIN"
wait_exit "$MAIN" 60
tb_check "the aggregator exits 0 on SIGTERM" 0 "$STATUS"
tb_finish
