#!/usr/bin/env bash
# 032 — two tb-aggregators in one consumer group, one database.
#
# A second instance joins mid-stream (a rebalance moves partitions while the
# first one holds batches of them), then the first one is killed with
# SIGKILL (its partitions move again once its session times out), while
# more records arrive, including a range produced twice. Both instances
# store a share, and the final database equals a clean single-instance run
# (canonical dump): the offsets stored with the data, locked per partition in
# each transaction, keep two writers of one partition from counting a
# message twice.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/aggregator.sh"

GEN="$TB_BIN/tb-gen"
SYN=(--tenants 2 --stacks 40 --symbols 100 --depth 5 --artifacts 3 --step-ns 3000000)

assigned() { grep -q 'start at their stored offsets' "$TB_TMP/$1.log"; }
if ! tb_broker_start || ! tb_pg_start; then
  tb_fail "dev broker and PostgreSQL start"
  tb_finish
fi
tb_ok "dev broker and PostgreSQL start"
"$TB_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$(tb_pg_url postgres)" -c 'CREATE DATABASE clean' >/dev/null ||
  tb_diag "CREATE DATABASE failed"

# A steady stream: 30 chunks of 300 events, a fraction of a second apart,
# so that the join of b and the kill of a both happen while records flow.
cat >"$TB_TMP/stream.sh" <<EOF
for c in \$(seq 0 29); do
  "$GEN" synth --first \$((c * 300)) -n 300 ${SYN[*]} || exit 1
  sleep 0.3
done
EOF
start_agg a tracebridge shared --batch-max 50
A=$LAST_PID
tb_wait_for 60 assigned a || tb_diag "instance a got no partitions"
tb_start stream bash "$TB_TMP/stream.sh" >/dev/null
STREAM=${TB_PIDS[${#TB_PIDS[@]}-1]}
tb_wait_for "$WAIT" at_least tracebridge 1000 || tb_diag "instance a stored nothing"
start_agg b tracebridge shared --batch-max 50
B=$LAST_PID
tb_wait_for 60 assigned b || tb_diag "instance b got no partitions"
b_has_stored() { [ "$(metric b observations_inserted_total)" -gt 0 ] 2>/dev/null; }
tb_wait_for "$WAIT" b_has_stored || tb_diag "instance b stored nothing while a was alive"
a_inserted=$(metric a observations_inserted_total)
kill -KILL "$A"
wait_exit "$A" 30
at_kill=$(count_in tracebridge)
wait_exit "$STREAM" "$WAIT"
tb_check "the stream producer got every record acknowledged" 0 "$STATUS"
"$GEN" synth --first 3000 -n 3000 "${SYN[@]}" 2>"$TB_TMP/gen3.err" || tb_diag "producing duplicates failed"
wait_caught_up tracebridge shared "instance b after a was killed"
tb_check "every event stored once across two instances, a rebalance and a kill" 9000 "$(count_in tracebridge)"
b_inserted=$(metric b observations_inserted_total)
if [ "${a_inserted:-0}" -gt 0 ] && [ "${b_inserted:-0}" -gt 0 ]; then
  tb_ok "both instances stored a share (a: ${a_inserted}+, b: ${b_inserted})"
else
  tb_fail "both instances stored a share"
  tb_diag "a: ${a_inserted:-none} b: ${b_inserted:-none}"
fi
[ "$at_kill" -lt 9000 ] && tb_ok "the kill happened mid-stream ($at_kill of 9000 stored)" ||
  tb_fail "the kill happened mid-stream ($at_kill of 9000 stored)"
grep -c 'rebalance:' "$TB_TMP/b.log" | awk '{exit !($1 >= 2)}' &&
  tb_ok "instance b went through more than one assignment" ||
  tb_diag "instance b logged fewer rebalances than expected"

start_agg clean clean clean
wait_caught_up clean clean "clean run"
kill -TERM "$LAST_PID"
wait_exit "$LAST_PID" 60
dump clean clean >"$TB_TMP/clean.dump"
dump tracebridge shared >"$TB_TMP/pair.dump"
if cmp -s "$TB_TMP/clean.dump" "$TB_TMP/pair.dump"; then
  tb_ok "two instances with a rebalance and a kill = clean run (canonical dump)"
else
  tb_fail "two instances with a rebalance and a kill = clean run (canonical dump)"
  diff "$TB_TMP/clean.dump" "$TB_TMP/pair.dump" | head -10 | sed 's/^/#   /'
fi
kill -TERM "$B"
wait_exit "$B" 60
tb_check "instance b exits 0 on SIGTERM" 0 "$STATUS"
tb_finish
