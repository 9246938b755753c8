#!/usr/bin/env bash
# 011 — the dev broker's topics and fault injection, seen through the producer.
#
# Checks that tb-devbroker creates every pipeline topic with the partition
# count of tb/topics.h, that its control port refuses unknown commands, and
# how tb/kafka.h's producer (through tb-kafka) behaves under faults:
# unreachable broker -> clear error and exit 1; retriable produce errors ->
# retried, every message stored exactly once; a non-retriable error -> the
# flush reports it and the tool exits 1; a broker outage while messages are
# queued -> everything is delivered once the broker is back. Last, `tb-kafka
# consume --dlq` turns a value that is not a DeadLetter into a JSON error line
# (decoding real dead letters is covered by tests/unit/common/test_kafka_dlq.c).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"

KAFKA="$TB_BIN/tb-kafka"
WAIT=120

# stored TOPIC: total number of messages in TOPIC (sum of high - low watermarks).
stored() {
  "$KAFKA" metadata -t "$1" --watermarks 2>>"$TB_TMP/metadata.err" | awk '{s += $4 - $3} END {print s + 0}'
}

wait_exit() { # PID SECONDS -> exit status, 124 on timeout
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -gt "$deadline" ] && return 124
    sleep 0.1
  done
  wait "$pid"
}

if ! tb_broker_start 1 --partitions it.retry.v1=3 --partitions it.fatal.v1=1 --partitions it.outage.v1=2; then
  tb_fail "dev broker starts"
  tb_finish
fi
tb_ok "dev broker starts with extra test topics"

tb_check "the broker has every pipeline topic with its table partition count" \
  "$("$KAFKA" topics | awk '{print $1, $2}' | sort)" \
  "$("$KAFKA" metadata 2>"$TB_TMP/metadata.err" | grep '^tb\.' | sort)"
tb_check "--partitions adds topics with the requested partition count" \
  "it.fatal.v1 1 it.outage.v1 2 it.retry.v1 3 " \
  "$("$KAFKA" metadata 2>>"$TB_TMP/metadata.err" | grep '^it\.' | sort | tr '\n' ' ')"

reply=$(tb_broker_ctl ping)
tb_check "control port answers ping" "ok pong" "$reply"
if reply=$(tb_broker_ctl frobnicate 1); then
  tb_fail "control port refuses an unknown command"; tb_diag "reply: $reply"
else
  tb_check "control port refuses an unknown command" "err unknown command frobnicate (try help)" "$reply"
fi

# -- unreachable broker --------------------------------------------------------
port=$(tb_free_port)
rc=0
"$KAFKA" -b "127.0.0.1:$port" --timeout 3000 produce -t it.retry.v1 -n 1 2>"$TB_TMP/unreachable.err" || rc=$?
tb_check "producer to an unreachable broker exits 1" 1 "$rc"
if grep -q "cannot reach Kafka at 127.0.0.1:$port: .*Connection refused" "$TB_TMP/unreachable.err"; then
  tb_ok "the error names the bootstrap address and the cause"
else
  tb_fail "the error names the bootstrap address and the cause"
  sed 's/^/#   /' "$TB_TMP/unreachable.err" | tail -3
fi

# -- retriable errors ----------------------------------------------------------
tb_broker_ctl errors Produce 3 NOT_LEADER_FOR_PARTITION >/dev/null || tb_diag "errors command failed"
rc=0
"$KAFKA" produce -t it.retry.v1 -n 50 2>"$TB_TMP/retry.err" || rc=$?
tb_check "retriable produce errors are retried until acknowledged" 0 "$rc"
tb_check "after retries every message is stored exactly once" 50 "$(stored it.retry.v1)"

# -- non-retriable error ---------------------------------------------------------
tb_broker_ctl errors Produce 1 MSG_SIZE_TOO_LARGE >/dev/null || tb_diag "errors command failed"
rc=0
"$KAFKA" produce -t it.fatal.v1 -n 5 2>"$TB_TMP/fatal.err" || rc=$?
tb_check "a delivery the broker rejects makes the flush fail (exit 1)" 1 "$rc"
if grep -q "deliveries to .* failed since the last flush; first: it.fatal.v1 \[0\]: Broker: Message size too large" \
  "$TB_TMP/fatal.err"; then
  tb_ok "the flush error names the topic, partition and broker error"
else
  tb_fail "the flush error names the topic, partition and broker error"
  sed 's/^/#   /' "$TB_TMP/fatal.err" | tail -3
fi

# -- outage ----------------------------------------------------------------------
mkfifo "$TB_TMP/lines"
tb_start outage sh -c 'exec "$@" <"$0"' "$TB_TMP/lines" \
  "$KAFKA" --log-level info --timeout 120000 produce -t it.outage.v1 -k outage >/dev/null
PID=${TB_PIDS[${#TB_PIDS[@]}-1]}
exec 4>"$TB_TMP/lines"
tb_wait_for "$WAIT" grep -q "kafka producer connected" "$TB_TMP/outage.log" || tb_diag "producer did not connect"
tb_check "control: broker 1 goes down" ok "$(tb_broker_ctl down 1)"
for i in $(seq 1 20); do echo "line-$i" >&4; done
exec 4>&-
# The producer cannot get acknowledgements while the only broker is down.
tb_wait_for "$WAIT" grep -q "Connection refused" "$TB_TMP/outage.log" || tb_diag "no connection failure logged"
if kill -0 "$PID" 2>/dev/null; then
  tb_ok "the producer waits for acknowledgement while the broker is down"
else
  tb_fail "the producer waits for acknowledgement while the broker is down"
  sed 's/^/#   /' "$TB_TMP/outage.log" | tail -5
fi
tb_check "control: broker 1 comes back" ok "$(tb_broker_ctl up 1)"
rc=0
wait_exit "$PID" "$WAIT" || rc=$?
tb_check "after the outage every queued message is acknowledged (exit 0)" 0 "$rc"
tb_check "the outage lost and duplicated nothing" 20 "$(stored it.outage.v1)"

# -- tb-kafka consume --dlq on a value that is not a DeadLetter --------------------
echo "not avro" | "$KAFKA" produce -t tb.dlq.v1 -k junk 2>"$TB_TMP/junk.err" || tb_diag "junk produce failed"
tb_start dlq sh -c 'exec "$@" 2>"$0"' "$TB_TMP/dlq.err" \
  "$KAFKA" consume -t tb.dlq.v1 -G dlq-reader --dlq --exit-after 1 >/dev/null
rc=0
wait_exit "${TB_PIDS[${#TB_PIDS[@]}-1]}" "$WAIT" || rc=$?
tb_check "consume --dlq exits after the message" 0 "$rc"
line=$(cat "$TB_TMP/dlq.log")
if echo "$line" | jq -e '.partition == 0 and .offset == 0 and (.error | test("magic|short|header"))' >/dev/null 2>&1; then
  tb_ok "consume --dlq reports an undecodable value as a JSON error line"
else
  tb_fail "consume --dlq reports an undecodable value as a JSON error line"
  tb_diag "got: $line"
fi

tb_finish
