#!/usr/bin/env bash
# 050 — tb-adapter's inputs against the dev broker.
#
# Two readers run for the whole test: `tb-rtevent events` prints every
# RuntimeEvent of tb.events.raw.v1 as JSON, `tb-kafka consume --dlq` every
# dead letter of tb.dlq.v1. Before each check the readers are caught up: the
# number of lines read equals the sum of the topics' high watermarks.
#  1. Every Tetragon sample in ../shared/testdata/tetragon goes through stdin
#     (one adapter per file, exit 0 at EOF), a tailed file and the Kafka topic
#     (the whole file as one message). The number of events per file is
#     counted independently with jq (objects with an event key); every event
#     arrives from each input with the same event ids; the only dead letters
#     come from the stack-trace fragments file, each with a precise reason and
#     the file's exact bytes at the reported offset, the same from all inputs.
#  2. A corrupted line between two good lines of a tailed file: dead-lettered
#     with path:line:column, both good lines arrive; a legacy process_connect
#     line is counted as skipped, not dead-lettered.
#  3. Rotation (rename + recreate, with lines written to the old file after
#     the rename) while tailing, three times: no event lost, three rotations
#     counted. Then SIGTERM, restart with the same --position-file, one more
#     line: exactly one new event (nothing read twice).
#  4. A ProbeBatch (tests/data/adapter/probe-batch.json) produced to
#     tb.probe.raw.v1 becomes the expected samples, uprobe counts (with the
#     zero-hit attached one) and load, keyed node/exec_id.
#  5. Garbage bytes on tb.probe.raw.v1 are dead-lettered (reason, bytes,
#     topic/partition/offset, key) and the next batch still arrives.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"

SAMPLES=$(cd "$TB_ROOT/../shared/testdata/tetragon" 2>/dev/null && pwd)
FRAG=docs-selectors-stack-trace-fragments.txt
ADAPTER="$TB_BIN/tb-adapter"
RT="$TB_BIN/tb-rtevent"
KAFKA="$TB_BIN/tb-kafka"
EVENTS="$TB_TMP/events.log"
DLQ="$TB_TMP/dlq.log"
WAIT=120

# ---- helpers ------------------------------------------------------------------

# start_bg NAME CMD...: start CMD with stdout in NAME.log, stderr in NAME.err; sets LAST_PID.
start_bg() {
  local name=$1; shift
  tb_start "$name" sh -c 'exec "$@" 2>>"$0"' "$TB_TMP/$name.err" "$@" >/dev/null
  LAST_PID=${TB_PIDS[${#TB_PIDS[@]}-1]}
}

wait_exit() { # PID SECONDS -> its exit status, 124 on timeout
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -gt "$deadline" ] && return 124
    sleep 0.1
  done
  wait "$pid"
}

stop_status() { # PID -> STATUS (SIGTERM, bounded wait)
  kill -TERM "$1" 2>/dev/null
  STATUS=0
  wait_exit "$1" 60 || STATUS=$?
}

high_sum() { "$KAFKA" metadata -t "$1" --watermarks 2>>"$TB_TMP/metadata.err" | awk '{s += $4} END {print s + 0}'; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
caught_up() {
  [ "$(lines "$EVENTS")" = "$(high_sum tb.events.raw.v1)" ] && [ "$(lines "$DLQ")" = "$(high_sum tb.dlq.v1)" ]
}
sync_readers() { tb_wait_for "$WAIT" caught_up || tb_diag "readers not caught up within ${WAIT}s"; }

# ids JQ-CONDITION [jq args]: sorted unique event ids of the events matching.
ids() {
  local cond=$1; shift
  jq -r "$@" "select(.event != null) | .event | select($cond) | .event_id" "$EVENTS" | sort -u
}
count_ids() { ids "$@" | wc -l | tr -d ' '; }
# dlqs JQ-CONDITION [jq args]: the dead letters matching, one JSON per line.
dlqs() {
  local cond=$1; shift
  jq -c "$@" "select($cond)" "$DLQ"
}
hex() { od -An -tx1 | tr -d ' \n'; }
# bytes_at FILE OFFSET LEN: the file's bytes as hex.
bytes_at() { tail -c +"$(($2 + 1))" "$1" | head -c "$3" | hex; }

# Events jq counts in a sample: objects with one of Tetragon's event keys.
expected_events() {
  jq -c 'select(type == "object") | select(has("process_exec") or has("process_exit") or has("process_kprobe")
    or has("process_tracepoint") or has("process_loader") or has("process_uprobe") or has("process_throttle")
    or has("process_lsm") or has("process_usdt") or has("rate_limit_info"))' "$1" 2>/dev/null | wc -l | tr -d ' '
}

# Every dead letter in FILE (one JSON per line) must carry FRAG's exact bytes
# at its source offset; prints the offenders.
not_from_fragments() {
  local line off len hexp
  while IFS= read -r line; do
    off=$(jq -r '.source_offset' <<<"$line")
    hexp=$(jq -r '.payload_hex' <<<"$line")
    len=$((${#hexp} / 2))
    [ "$(bytes_at "$SAMPLES/$FRAG" "$off" "$len")" = "$hexp" ] || echo "$line"
  done <"$1"
}

metric() { # PORTFILE NAME{labels} -> value
  curl -s "http://127.0.0.1:$(cat "$1")/metrics" | awk -v m="$2" '$1 == m {print $2}'
}

tetragon_exec() { # EXEC_ID -> one compact Tetragon export line
  printf '{"process_exec":{"process":{"exec_id":"%s","pid":%d,"binary":"/usr/bin/it"}},"node_name":"it-node","time":"2026-01-01T00:00:00.%09dZ"}\n' \
    "$1" "$((RANDOM + 1))" "$((RANDOM * 1000))"
}

# ---- setup -------------------------------------------------------------------------

if [ -z "$SAMPLES" ] || [ ! -f "$SAMPLES/$FRAG" ]; then
  tb_fail "Tetragon samples found in ../shared/testdata/tetragon"
  tb_finish
fi
mapfile -t FILES < <(cd "$SAMPLES" && ls | grep -v '^PROVENANCE\.md$' | sort)
if ! tb_broker_start 1; then
  tb_fail "dev broker starts"
  tb_finish
fi
tb_ok "dev broker starts"

start_bg events "$RT" events -G it-050-events
start_bg dlq "$KAFKA" consume -t tb.dlq.v1 -G it-050-dlq --dlq
mkdir -p "$TB_TMP/tail"
N_FRAG_OBJECTS=$(grep -c '^{' "$SAMPLES/$FRAG")

# ---- 1a. stdin ----------------------------------------------------------------------

declare -A EXPECT
total_expected=0
stdin_ok=1
for i in "${!FILES[@]}"; do
  f=${FILES[$i]}
  EXPECT[$f]=$(expected_events "$SAMPLES/$f")
  total_expected=$((total_expected + EXPECT[$f]))
  rc=0
  timeout 120 "$ADAPTER" --input - --tenant "stdin-$i" <"$SAMPLES/$f" 2>>"$TB_TMP/stdin.err" || rc=$?
  [ "$rc" = 0 ] || { stdin_ok=0; tb_diag "stdin run of $f exited $rc"; }
done
if [ "$stdin_ok" = 1 ]; then tb_ok "tb-adapter --input - exits 0 at EOF for every sample (${#FILES[@]} files)"
else tb_fail "tb-adapter --input - exits 0 at EOF for every sample"; tail -5 "$TB_TMP/stdin.err" | sed 's/^/#   /'; fi
tb_check "jq finds no complete event in the fragments file (the other samples hold $total_expected)" 0 "${EXPECT[$FRAG]}"

sync_readers
for i in "${!FILES[@]}"; do
  f=${FILES[$i]}
  ids '.tenant == $t' --arg t "stdin-$i" >"$TB_TMP/ids.stdin.$i"
  tb_check "stdin: every event of $f arrives" "${EXPECT[$f]}" "$(lines "$TB_TMP/ids.stdin.$i")"
done
dlqs '.source_topic == "" and (.position | startswith("stdin:"))' >"$TB_TMP/dlq.stdin"
N_DLQ=$(lines "$TB_TMP/dlq.stdin")
if [ "$N_DLQ" -ge "$N_FRAG_OBJECTS" ]; then tb_ok "stdin: the fragments file is dead-lettered ($N_DLQ dead letters)"
else tb_fail "stdin: the fragments file is dead-lettered"; tb_diag "expected >= $N_FRAG_OBJECTS, got $N_DLQ"; fi
tb_check "stdin: every dead letter holds the fragments file's bytes at its offset (none from other samples)" \
  "" "$(not_from_fragments "$TB_TMP/dlq.stdin" | head -3)"
tb_check "stdin: each stack-trace entry is dead-lettered as such" "$N_FRAG_OBJECTS" \
  "$(grep -c 'tetragon: not a Tetragon event: no event key (keys: [a-z, ]*); this is a stack trace entry' "$TB_TMP/dlq.stdin")"
tb_check "stdin: every other dead letter says which bytes are not JSON" "" \
  "$(jq -r 'select(.reason | startswith("tetragon: ") or startswith("json: garbage: unexpected bytes between objects") | not) | .reason' "$TB_TMP/dlq.stdin")"
# "line:column reason" of each dead letter, to compare the inputs
jq -r '(.position | sub("^stdin:"; "")) + " " + .reason' "$TB_TMP/dlq.stdin" | sort >"$TB_TMP/dlq.stdin.pos"

# ---- 1b/2/3. tailed files -------------------------------------------------------------

FILE_ARGS=()
for f in "${FILES[@]}"; do
  cp "$SAMPLES/$f" "$TB_TMP/tail/$f"
  FILE_ARGS+=(--input "file:$TB_TMP/tail/$f")
done
CORRUPT="$TB_TMP/corrupt.json"
ROT="$TB_TMP/rot.log"
start_file_adapter() {
  start_bg file-adapter "$ADAPTER" "${FILE_ARGS[@]}" --input "file:$CORRUPT,file:$ROT" --tenant file \
    --position-file "$TB_TMP/positions" --admin-port-file "$TB_TMP/file.port" --poll-interval 50ms
  FILE_PID=$LAST_PID
}
rm -f "$TB_TMP/file.port"
start_file_adapter

all_files_in() {
  local f
  for f in "${FILES[@]}"; do
    [ "$(count_ids '.origin | startswith($p)' --arg p "$TB_TMP/tail/$f:")" -ge "${EXPECT[$f]}" ] || return 1
  done
}
tb_wait_for "$WAIT" all_files_in || tb_diag "not every tailed sample arrived within ${WAIT}s"
sync_readers
for i in "${!FILES[@]}"; do
  f=${FILES[$i]}
  tb_check "tailed file: every event of $f arrives, with the same ids as from stdin" \
    "$(cat "$TB_TMP/ids.stdin.$i")" "$(ids '.origin | startswith($p)' --arg p "$TB_TMP/tail/$f:")"
done
dlqs '.source_topic == "" and (.position | startswith($p))' --arg p "$TB_TMP/tail/" >"$TB_TMP/dlq.file"
tb_check "tailed file: dead letters only from the fragments file, at the same lines and columns as stdin" \
  "$(cat "$TB_TMP/dlq.stdin.pos")" \
  "$(jq -r --arg p "$TB_TMP/tail/$FRAG:" '(.position | ltrimstr($p)) + " " + .reason' "$TB_TMP/dlq.file" | sort)"
tb_check "tailed file: each dead letter holds the file's bytes at its offset" "" \
  "$(not_from_fragments "$TB_TMP/dlq.file" | head -3)"

# 2. a corrupted line between two good ones, and a legacy event type
{
  tetragon_exec corrupt-a
  printf '{"process_exec":{"process":{"exec_id":"corrupt-x","pid":\n'
  tetragon_exec corrupt-b
  printf '{"process_connect":{"process":{"exec_id":"legacy"}},"node_name":"it-node"}\n'
} >"$CORRUPT.tmp"
mv "$CORRUPT.tmp" "$CORRUPT"
corrupt_in() {
  [ "$(count_ids '.origin | startswith($p)' --arg p "$CORRUPT:")" = 2 ] &&
    [ -n "$(dlqs '.position == $p' --arg p "$CORRUPT:2:1")" ]
}
tb_wait_for "$WAIT" corrupt_in || tb_diag "corrupt.json not handled within ${WAIT}s"
sync_readers
tb_check "corrupted line: both good lines arrive (lines 1 and 3)" \
  "corrupt-a $CORRUPT:1 corrupt-b $CORRUPT:3 " \
  "$(jq -r --arg p "$CORRUPT:" 'select(.event.origin // "" | startswith($p)) | .event.process.exec_id + " " + .event.origin' "$EVENTS" | sort -u | tr '\n' ' ')"
bad=$(dlqs '.position | startswith($p)' --arg p "$CORRUPT:")
tb_check "corrupted line: exactly one dead letter, at line 2 column 1" "$CORRUPT:2:1" "$(jq -r '.position' <<<"$bad")"
tb_check "corrupted line: the reason says the object was cut short" \
  "json: truncated: object not closed (depth 3): a new object starts at line 3 column 1" "$(jq -r '.reason' <<<"$bad")"
tb_check "corrupted line: the dead letter holds the line's bytes and byte offset" \
  "$(sed -n 2p "$CORRUPT" | hex) $(head -1 "$CORRUPT" | wc -c | tr -d ' ')" \
  "$(jq -r '.payload_hex + " " + (.source_offset | tostring)' <<<"$bad")"
tb_check "a legacy process_connect line is counted as skipped" 1 \
  "$(metric "$TB_TMP/file.port" 'tb_adapter_skipped_total{type="process_connect"}')"

# 3. rotation while tailing
rot_n=0
rot_write() { # FD COUNT: write COUNT new events through FD
  local k
  for ((k = 0; k < $2; k++)); do
    rot_n=$((rot_n + 1))
    tetragon_exec "rot-$rot_n" >&"$1"
  done
}
rot_seen() { [ "$(count_ids '.process.exec_id == $e' --arg e "rot-$rot_n")" = 1 ]; }
exec {rfd}>>"$ROT"
rot_write "$rfd" 20
for r in 1 2 3; do
  tb_wait_for "$WAIT" rot_seen || tb_diag "rot-$rot_n not seen within ${WAIT}s"
  rot_write "$rfd" 10
  mv "$ROT" "$ROT.$r"
  rot_write "$rfd" 5 # the writer has not noticed yet: these go to the renamed file
  exec {rfd}>&-
  exec {rfd}>>"$ROT"
  rot_write "$rfd" 10
done
exec {rfd}>&-
tb_wait_for "$WAIT" rot_seen || tb_diag "rot-$rot_n not seen within ${WAIT}s"
sync_readers
tb_check "rotation: every one of the $rot_n events written across 3 rotations arrives" \
  "$(seq 1 "$rot_n" | sed 's/^/rot-/' | sort)" \
  "$(jq -r 'select(.event.process.exec_id // "" | startswith("rot-")) | .event.process.exec_id' "$EVENTS" | sort -u)"
tb_check "rotation: three rotations counted" 3 \
  "$(metric "$TB_TMP/file.port" 'tb_adapter_tail_switches_total{why="rotated"}')"
tb_check "rotation: no dead letter from the rotated files" "" "$(dlqs '.position | startswith($p)' --arg p "$ROT")"

stop_status "$FILE_PID"
tb_check "the file adapter exits 0 on SIGTERM" 0 "$STATUS"
tb_check "the position file records every file input" "$((${#FILES[@]} + 2))" \
  "$(grep -c '^v1 ' "$TB_TMP/positions" 2>/dev/null)"
before=$(jq -r 'select(.event.origin // "" | startswith($p))' --arg p "$ROT:" "$EVENTS" | grep -c '"event_id"')
rm -f "$TB_TMP/file.port"
start_file_adapter
tetragon_exec "rot-after-restart" >>"$ROT"
after_in() { [ "$(count_ids '.process.exec_id == "rot-after-restart"')" = 1 ]; }
tb_wait_for "$WAIT" after_in || tb_diag "rot-after-restart not seen within ${WAIT}s"
tb_wait_for "$WAIT" test -s "$TB_TMP/file.port"
sync_readers
tb_check "restart with the position file: exactly one new event from the tailed file, nothing read twice" \
  "$((before + 1))" \
  "$(jq -r 'select(.event.origin // "" | startswith($p))' --arg p "$ROT:" "$EVENTS" | grep -c '"event_id"')"
tb_check "restart with the position file: no sample file is read again" "$total_expected $N_DLQ" \
  "$(jq -r --arg p "$TB_TMP/tail/" 'select(.event.origin // "" | startswith($p)) | .offset' "$EVENTS" | wc -l | tr -d ' ') $(dlqs '.position | startswith($p)' --arg p "$TB_TMP/tail/" | wc -l | tr -d ' ')"
stop_status "$FILE_PID"
tb_check "the restarted file adapter exits 0 on SIGTERM" 0 "$STATUS"

# ---- 1c. Kafka ------------------------------------------------------------------------

start_bg kafka-adapter "$ADAPTER" --input kafka --tenant kafka --group it-050-adapter \
  --admin-port-file "$TB_TMP/kafka.port"
KAFKA_PID=$LAST_PID
produced=1
for f in "${FILES[@]}"; do
  "$RT" raw -t tb.tetragon.raw.v1 -k "$f" <"$SAMPLES/$f" 2>>"$TB_TMP/produce.err" || produced=0
done
tb_check "every sample file is produced to tb.tetragon.raw.v1 as one message" 1 "$produced"
cat "$TB_TMP"/ids.stdin.* | sort -u >"$TB_TMP/ids.stdin.all"
kafka_in() { [ "$(count_ids '.tenant == "kafka" and .source == "tetragon"')" -ge "$(lines "$TB_TMP/ids.stdin.all")" ]; }
tb_wait_for "$WAIT" kafka_in || tb_diag "Kafka events not all seen within ${WAIT}s"
sync_readers
tb_check "kafka: every event of every sample arrives, with the same ids as from stdin" \
  "$(cat "$TB_TMP/ids.stdin.all")" "$(ids '.tenant == "kafka" and .source == "tetragon"')"
tb_check "kafka: $total_expected events in all" "$total_expected" "$(lines "$TB_TMP/ids.stdin.all")"
dlqs '.source_topic == "tb.tetragon.raw.v1"' >"$TB_TMP/dlq.kafka"
tb_check "kafka: dead letters only from the fragments message (by key)" \
  "$(printf '%s' "$FRAG" | hex)" "$(jq -r '.key_hex' "$TB_TMP/dlq.kafka" | sort -u)"
tb_check "kafka: the same dead letters (line:column in the message, reason) as from stdin" \
  "$(cat "$TB_TMP/dlq.stdin.pos")" \
  "$(jq -r '(.position | sub("^tb\\.tetragon\\.raw\\.v1/[0-9]+@[0-9]+:"; "")) + " " + .reason' "$TB_TMP/dlq.kafka" | sort)"
tb_check "kafka: each dead letter names the message's partition and offset" "" \
  "$(jq -r 'select(. as $d | $d.position | startswith("tb.tetragon.raw.v1/\($d.source_partition)@\($d.source_offset):") | not) | .position' "$TB_TMP/dlq.kafka")"

# ---- 4. ProbeBatch ---------------------------------------------------------------------

BATCH="$TB_ROOT/tests/data/adapter/probe-batch.json"
"$RT" probe-batch <"$BATCH" 2>>"$TB_TMP/produce.err"
tb_check "a ProbeBatch is produced to tb.probe.raw.v1" 0 "$?"
probe_in() { [ "$(count_ids '.source == "probe"')" -ge 5 ]; }
tb_wait_for "$WAIT" probe_in || tb_diag "probe events not seen within ${WAIT}s"
sync_readers
summary() { # one line per probe event: key kind count hook attached path build_id exec_id container frames
  jq -r 'select(.event.source == "probe" and .event.tenant == "kafka") | [.key, .event.kind, (.event.count | tostring),
    (.event.hook // "-"), (.event.attached | tostring), (.event.path // "-"), (.event.build_id // "-"),
    .event.process.exec_id, (.event.process.pid | tostring), (.event.process.tid | tostring),
    (.event.container.id // "-"), (.event.container.cgroup_id | tostring),
    ([.event.kernel_frames[] | "\(.symbol)+\(.offset)\(.module // "")"] | join(",")),
    ([.event.user_frames[] | "\(.build_id // "-"):\(.offset):\(.module // "-"):\(.symbol // "-")"] | join(","))]
    | join(" ")' "$EVENTS" | sort
}
E=it-node-1:1767225500000000000:4242
B1=aa11bb22cc33dd44ee55ff6600112233
B2=3f1c0de2a4b5968778695a4b3c2d1e0f11223344
SSL=/usr/lib/x86_64-linux-gnu/libssl.so.3
tb_check "the ProbeBatch becomes 2 samples, 2 uprobe counts (one attached with 0 hits) and 1 load" \
  "$(sort <<EOF
it-node-1/$E sample 17 - false - - $E 4242 4243 c0ffee0123456789 9001 tcp_sendmsg+96,xfs_file_read_iter+64[xfs] $B1:74565:$SSL:SSL_write,$B2:4660:/usr/bin/demo-server:-
it-node-1/$E sample 3 - false - - $E 4242 4243 c0ffee0123456789 9001  $B2:8192:/usr/bin/demo-server:handle_request
it-node-1/ uprobe 41 SSL_write true $SSL $B1  0 0 - 0  $B1:74565:$SSL:SSL_write
it-node-1/ uprobe 0 SSL_renegotiate true $SSL $B1  0 0 - 0  $B1:81920:$SSL:SSL_renegotiate
it-node-1/$E load 1 - false $SSL $B1 $E 4242 0 c0ffee0123456789 9001  
EOF
)" "$(summary)"
tb_check "probe events have 5 distinct event ids" 5 "$(count_ids '.source == "probe"')"
tb_check "probe events name their origin message" "" \
  "$(jq -r 'select(.event.source == "probe") | .event.origin | select(test("^tb\\.probe\\.raw\\.v1/[0-9]+@[0-9]+$") | not)' "$EVENTS")"
tb_check "probe lost samples are counted" 2 "$(metric "$TB_TMP/kafka.port" tb_adapter_probe_lost_samples_total)"

# ---- 5. garbage on tb.probe.raw.v1 ----------------------------------------------------------

printf 'definitely not avro\n' | "$KAFKA" produce -t tb.probe.raw.v1 -k junk 2>>"$TB_TMP/produce.err"
# the next window: every time 100 s later (text edit: jq 1.6 would round 64-bit numbers)
sed -e 's/"seq": 1,/"seq": 2,/' -e 's/17672256/17672257/g' "$BATCH" | "$RT" probe-batch 2>>"$TB_TMP/produce.err"
garbage_in() { [ -n "$(dlqs '.source_topic == "tb.probe.raw.v1"')" ] && [ "$(count_ids '.source == "probe"')" -ge 10 ]; }
tb_wait_for "$WAIT" garbage_in || tb_diag "garbage dead letter or second batch not seen within ${WAIT}s"
sync_readers
g=$(dlqs '.source_topic == "tb.probe.raw.v1"')
tb_check "garbage on tb.probe.raw.v1: one dead letter" 1 "$(grep -c . <<<"$g")"
tb_check "garbage: the reason says the bytes are no ProbeBatch" "avro: ProbeBatch:" \
  "$(jq -r '.reason[0:17]' <<<"$g")"
tb_check "garbage: the dead letter holds the original bytes and key" \
  "$(printf 'definitely not avro' | hex) $(printf junk | hex)" "$(jq -r '.payload_hex + " " + .key_hex' <<<"$g")"
tb_check "garbage: the dead letter names partition and offset" "" \
  "$(jq -r 'select(.position != "tb.probe.raw.v1/\(.source_partition)@\(.source_offset)") | .position' <<<"$g")"
tb_check "the adapter keeps going: the next batch's 5 events arrive" 10 "$(count_ids '.source == "probe"')"
if kill -0 "$KAFKA_PID" 2>/dev/null; then tb_ok "the Kafka adapter is still running"; else tb_fail "the Kafka adapter is still running"; fi

stop_status "$KAFKA_PID"
tb_check "the Kafka adapter exits 0 on SIGTERM" 0 "$STATUS"
tb_check "no event failed to decode" "" "$(jq -r 'select(.error) | .error' "$EVENTS" | head -3)"
tb_finish
