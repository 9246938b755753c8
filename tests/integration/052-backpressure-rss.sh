#!/usr/bin/env bash
# 052 — backpressure: a burst while PostgreSQL is blocked does not grow any
# service's memory beyond the bound the Kafka queue limits give
# (docs/DLQ.md, "Backpressure"; tb/kafka.h TB_KAFKA_*_QUEUE_*).
#
# The whole pipeline runs (adapter on Kafka). A psql session holds
# `LOCK TABLE observations IN ACCESS EXCLUSIVE MODE`, so the aggregator's
# first insert waits. Then two bursts: N (100,000) synthetic CorrelatedEvents
# (tb-gen synth) straight onto the aggregator's topic, and M (20,000)
# Tetragon exec events, one per message, onto tb.tetragon.raw.v1 through
# adapter, canonicalizer and correlator, which run at full speed into Kafka
# while the aggregator holds one batch and its consumer stops fetching when
# its prefetch queue is full. Every service's VmRSS is sampled from
# /proc/PID/status until both bursts are on the aggregator's topic; the peaks
# (and VmHWM) are printed. Each must stay below the service's idle RSS plus
# the Kafka budget of one consumer and one producer (consumer queue + one
# fetch + producer queue, read from tb/kafka.h) plus a fixed 32 MiB for the
# batch being worked on, the allocator and code touched for the first time.
# With librdkafka's defaults (64 MiB consumer queue, 1 GiB producer queue) the
# aggregator's prefetch alone could take the burst (~40 MB) into memory.
#
# Then the lock is released and all N events must arrive in PostgreSQL.
# No timing is asserted: the waits are conditions with generous limits.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"

N=100000 # burst A: synthetic CorrelatedEvents to the aggregator
M=20000  # burst B: Tetragon events through the whole pipeline
WAIT=120
KAFKA="$TB_BIN/tb-kafka"
GEN="$TB_BIN/tb-gen"
SVCS="adapter canonicalizer correlator aggregator"

# the Kafka budget of one process, in KiB, from the defaults in tb/kafka.h
kdef() { sed -n "s/^#define $1 \"\\([0-9]*\\)\"/\\1/p" "$TB_ROOT/common/include/tb/kafka.h"; }
CQ=$(kdef TB_KAFKA_CONSUMER_QUEUE_KB)
CF=$(($(kdef TB_KAFKA_CONSUMER_FETCH_BYTES) / 1024))
PQ=$(kdef TB_KAFKA_PRODUCER_QUEUE_KB)
if [ -z "$CQ" ] || [ -z "$CF" ] || [ -z "$PQ" ]; then tb_fail "queue bounds read from tb/kafka.h"; tb_finish; fi
SLACK=$((32 * 1024))
BUDGET=$((CQ + CF + PQ + SLACK))
tb_diag "budget per service above its idle RSS: consumer queue ${CQ} + fetch ${CF} + producer queue ${PQ} + slack ${SLACK} = ${BUDGET} KiB"

# The correlator catches its index up before every batch with one watermark
# query per index partition, each waiting behind the index consumer's fetch
# long-poll (fetch.wait.max.ms, 500 ms): ~3 s per batch. Larger batches keep
# that overhead out of the burst's way.
TB_STACK_ARGS_correlator="--batch-max 10000"
if ! tb_stack_start --no-api; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
declare -A IDLE PEAK
for s in $SVCS; do
  pid=$(tb_service_pid "$s")
  IDLE[$s]=$(status_kb "$pid" VmRSS)
  PEAK[$s]=${IDLE[$s]}
done
sample() {
  local s pid v
  for s in $SVCS; do
    pid=$(tb_service_pid "$s")
    v=$(status_kb "$pid" VmRSS)
    [ -n "$v" ] && [ "$v" -gt "${PEAK[$s]}" ] && PEAK[$s]=$v
  done
}

# ---- block PostgreSQL: a session holding an exclusive lock on observations --------------
mkfifo "$TB_TMP/lock.sql"
tb_start locker "$TB_PG_BINDIR/psql" -X -q -A -t "$TB_PG_URL" -f "$TB_TMP/lock.sql" >/dev/null
exec 7>"$TB_TMP/lock.sql"
tb_on_exit "exec 7>&-"
echo "BEGIN; LOCK TABLE observations IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&7
tb_wait_for 30 grep -q '^locked$' "$TB_TMP/locker.log" || { tb_fail "the lock is taken"; tb_finish; }
tb_ok "a session holds LOCK TABLE observations IN ACCESS EXCLUSIVE MODE"

# ---- the bursts -----------------------------------------------------------------------------------
# A: N synthetic CorrelatedEvents straight to the aggregator, which faces the
# blocked database. B: M Tetragon exec events through adapter, canonicalizer
# and correlator (the correlator's per-batch index catch-up, above, limits how
# many events the whole chain passes in the test's time, hence two bursts).
"$GEN" synth -n "$N" --tenants 2 --stacks 50 --symbols 100 --depth 4 --step-ns 1000000 2>"$TB_TMP/synth.err" &
SYNTH=$!
TB_PIDS+=("$SYNTH")
awk -v n="$M" 'BEGIN { for (i = 0; i < n; i++)
  printf "{\"process_exec\":{\"process\":{\"exec_id\":\"bp-%d\",\"pid\":%d,\"binary\":\"/usr/bin/bp\"}},\"node_name\":\"n052\",\"time\":\"2031-04-01T%02d:%02d:%02d.%06dZ\"}\n",
    i, 1000 + i, int(i / 3600) % 24, int(i / 60) % 60, i % 60, i }' >"$TB_TMP/burst.jsonl"
"$KAFKA" produce -t tb.tetragon.raw.v1 <"$TB_TMP/burst.jsonl" 2>"$TB_TMP/produce.err" &
PRODUCER=$!
TB_PIDS+=("$PRODUCER")
correlated() { "$KAFKA" metadata -t tb.events.correlated.v1 --watermarks 2>/dev/null | awk '{s += $4 - $3} END {print s + 0}'; }
# sample until both bursts are on the aggregator's topic (it is blocked)
deadline=$((SECONDS + WAIT))
while [ "$(correlated)" -lt $((N + M)) ] && [ $SECONDS -le $deadline ]; do
  sample
  sleep 0.2
done
wait "$SYNTH"
tb_check "burst A: $N CorrelatedEvents produced" 0 "$?"
wait "$PRODUCER"
tb_check "burst B: $M Tetragon events produced" 0 "$?"
tb_check "both bursts reached the aggregator's topic while PostgreSQL was blocked" "$((N + M))" "$(correlated)"
# the aggregator keeps fetching until its queue is full: sample a little more
for _ in $(seq 1 15); do sample; sleep 0.2; done
waiting() { [ "$(tb_psql -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")" -ge 1 ]; }
tb_wait_for 30 waiting && tb_ok "the aggregator waits for the lock" || tb_fail "the aggregator waits for the lock"

# ---- the peaks ------------------------------------------------------------------------------------
for s in $SVCS; do
  hwm=$(status_kb "$(tb_service_pid "$s")" VmHWM)
  bound=$((IDLE[$s] + BUDGET))
  tb_diag "$s: idle ${IDLE[$s]} KiB, peak VmRSS ${PEAK[$s]} KiB, VmHWM $hwm KiB, bound $bound KiB"
  if [ -n "$hwm" ] && [ "${PEAK[$s]}" -le "$bound" ] && [ "$hwm" -le "$bound" ]; then
    tb_ok "$s: peak RSS within idle + Kafka budget"
  else
    tb_fail "$s: peak RSS within idle + Kafka budget"
  fi
done

# ---- release: everything arrives -------------------------------------------------------------
echo "COMMIT;" >&7
exec 7>&-
tb_wait_rows "SELECT count(*) FROM observations" $((N + M)) $WAIT || tb_fail "all $((N + M)) events reach PostgreSQL"
tb_check "all $((N + M)) events are stored once" "$((N + M))" "$(tb_psql -c "SELECT count(*) FROM observations")"
for s in $SVCS; do
  kill -0 "$(tb_service_pid "$s")" 2>/dev/null || tb_fail "$s still runs"
done
tb_finish
