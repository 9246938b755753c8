#!/usr/bin/env bash
# 010 — a consumer group splits a topic between processes; a new group replays.
#
# On the dev broker: two separate `tb-kafka consume` processes join one group
# on a 6-partition topic. Once the group is stable (each holds a non-empty
# share, shares disjoint, together all 6) 600 keyed messages are produced.
# Checks: every message seen at least once, each process read only its own
# partitions (so the processes' partitions are disjoint), both exit 0 on
# SIGTERM; the group then resumes from its committed offsets (a third member
# sees exactly the 10 messages produced after); a new group replays the topic
# from the earliest offset: exactly the 610 messages, each once.
# Eager rebalances redeliver, which is why "at least once" is the split check
# and exactness is only asserted where no rebalance can intervene.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"

TOPIC=it.split.v1
N=600
KAFKA="$TB_BIN/tb-kafka"
WAIT=120

# start_consumer NAME ARGS...: tb-kafka consume with stdout in NAME.log and
# stderr (JSON logs) in NAME.err; prints nothing, sets LAST_PID.
start_consumer() {
  local name=$1; shift
  tb_start "$name" sh -c 'exec "$@" 2>"$0"' "$TB_TMP/$name.err" \
    "$KAFKA" --log-level info consume -t "$TOPIC" "$@" >/dev/null
  LAST_PID=${TB_PIDS[${#TB_PIDS[@]}-1]}
}

# wait_exit PID SECONDS: wait for a process we started; its exit status, 124 on timeout.
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -gt "$deadline" ] && return 124
    sleep 0.1
  done
  wait "$pid"
}

# stop_status PID: SIGTERM, wait (bounded), exit status into STATUS (not in
# $(...): a subshell cannot wait for this shell's children).
stop_status() {
  kill -TERM "$1" 2>/dev/null
  STATUS=0
  wait_exit "$1" 60 || STATUS=$?
}

expected() { # FIRST LAST KEYPREFIX VALUEPREFIX: "key value" lines, sorted
  local i
  for ((i = $1; i <= $2; i++)); do echo "$3-$i $4-$i"; done | sort
}

partitions_of() { awk '{print $1}' "$1" | sort -un; }
asg_partitions() { awk '{print $2}' "$1" | sort -un; }

# The group is stable when both members hold a non-empty, disjoint share of all 6.
group_stable() {
  [ -s "$TB_TMP/a.asg" ] && [ -s "$TB_TMP/b.asg" ] || return 1
  [ "$(cat "$TB_TMP/a.asg" "$TB_TMP/b.asg" | awk '{print $2}' | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 " ]
}

all_seen() {
  [ "$(cat "$TB_TMP/a.log" "$TB_TMP/b.log" | awk '{print $3}' | sort -u | wc -l)" -ge "$N" ]
}

if ! tb_broker_start 1 --partitions "$TOPIC=6"; then
  tb_fail "dev broker starts"
  tb_finish
fi
tb_ok "dev broker starts and publishes its bootstrap address"
tb_check "split topic has 6 partitions" "$TOPIC 6" "$("$KAFKA" metadata -t "$TOPIC" 2>"$TB_TMP/metadata.err")"

# -- split --------------------------------------------------------------------
start_consumer a -G split --assignment-file "$TB_TMP/a.asg"
PID_A=$LAST_PID
start_consumer b -G split --assignment-file "$TB_TMP/b.asg"
PID_B=$LAST_PID
if tb_wait_for "$WAIT" group_stable; then
  tb_ok "two consumers in one group each get a non-empty, disjoint share of the 6 partitions"
else
  tb_fail "two consumers in one group each get a non-empty, disjoint share of the 6 partitions"
  tb_diag "a: $(tr '\n' ',' <"$TB_TMP/a.asg" 2>/dev/null) b: $(tr '\n' ',' <"$TB_TMP/b.asg" 2>/dev/null)"
fi
cp "$TB_TMP/a.asg" "$TB_TMP/a.asg.stable" 2>/dev/null
cp "$TB_TMP/b.asg" "$TB_TMP/b.asg.stable" 2>/dev/null

if "$KAFKA" produce -t "$TOPIC" -n "$N" 2>"$TB_TMP/produce1.err"; then
  tb_ok "producer gets every one of $N messages acknowledged"
else
  tb_fail "producer gets every one of $N messages acknowledged"
  sed 's/^/#   /' "$TB_TMP/produce1.err"
fi

tb_wait_for "$WAIT" all_seen || tb_diag "not every message arrived within ${WAIT}s"
tb_check "every produced message is seen at least once by the group" \
  "$(expected 0 $((N - 1)) key value | md5sum)" \
  "$(cat "$TB_TMP/a.log" "$TB_TMP/b.log" | awk '{print $3, $4}' | sort -u | md5sum)"

if [ -s "$TB_TMP/a.log" ] && [ -s "$TB_TMP/b.log" ]; then
  tb_ok "both consumers received messages"
else
  tb_fail "both consumers received messages"
  tb_diag "a: $(wc -l <"$TB_TMP/a.log") lines, b: $(wc -l <"$TB_TMP/b.log") lines"
fi

tb_check "no rebalance after the group stabilised (consumer a)" \
  "$(cat "$TB_TMP/a.asg.stable" 2>/dev/null)" "$(cat "$TB_TMP/a.asg" 2>/dev/null)"
tb_check "no rebalance after the group stabilised (consumer b)" \
  "$(cat "$TB_TMP/b.asg.stable" 2>/dev/null)" "$(cat "$TB_TMP/b.asg" 2>/dev/null)"
for c in a b; do
  tb_check "consumer $c read only partitions of its own assignment" \
    "" "$(comm -23 <(partitions_of "$TB_TMP/$c.log") <(asg_partitions "$TB_TMP/$c.asg.stable" 2>/dev/null) | tr '\n' ' ')"
done
tb_check "the consumers' partitions are disjoint" \
  "" "$(comm -12 <(partitions_of "$TB_TMP/a.log") <(partitions_of "$TB_TMP/b.log") | tr '\n' ' ')"
tb_check "every key is always on the same partition" \
  "" "$(cat "$TB_TMP/a.log" "$TB_TMP/b.log" | awk '{print $3, $1}' | sort -u | awk '{print $1}' | uniq -d | head -3 | tr '\n' ' ')"

stop_status "$PID_A"
tb_check "consumer a exits 0 on SIGTERM" 0 "$STATUS"
stop_status "$PID_B"
tb_check "consumer b exits 0 on SIGTERM" 0 "$STATUS"

# -- committed offsets --------------------------------------------------------
"$KAFKA" produce -t "$TOPIC" -n 10 -k more -v more 2>"$TB_TMP/produce2.err" ||
  tb_diag "second produce failed: $(cat "$TB_TMP/produce2.err")"
start_consumer c -G split --exit-after 10
rc=0; wait_exit "$LAST_PID" "$WAIT" || rc=$?
tb_check "a new member of the group exits after 10 messages" 0 "$rc"
tb_check "the group resumes from its committed offsets: exactly the 10 new messages" \
  "$(expected 0 9 more more)" "$(awk '{print $3, $4}' "$TB_TMP/c.log" | sort)"

# -- replay -------------------------------------------------------------------
TOTAL=$((N + 10))
tb_check "the topic holds exactly $TOTAL messages (watermarks)" "$TOTAL" \
  "$("$KAFKA" metadata -t "$TOPIC" --watermarks | awk '{s += $4 - $3} END {print s + 0}')"
start_consumer replay -G replay --exit-after "$TOTAL"
rc=0; wait_exit "$LAST_PID" "$WAIT" || rc=$?
tb_check "a new group replays from the earliest offset and exits" 0 "$rc"
tb_check "the replay reads exactly $TOTAL messages" "$TOTAL" "$(wc -l <"$TB_TMP/replay.log" | tr -d ' ')"
tb_check "the replay's content is every message exactly once" \
  "$( (expected 0 $((N - 1)) key value; expected 0 9 more more) | sort | md5sum)" \
  "$(awk '{print $3, $4}' "$TB_TMP/replay.log" | sort | md5sum)"

stop_status "$TB_BROKER_PID"
tb_check "dev broker exits 0 on SIGTERM" 0 "$STATUS"
tb_check "dev broker removes its bootstrap file on exit" "absent" \
  "$([ -e "$TB_TMP/devbroker.bootstrap" ] && echo present || echo absent)"
tb_finish
