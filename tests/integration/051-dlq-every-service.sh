#!/usr/bin/env bash
# 051 — dead letters from every consuming service, and tb-dlq (docs/DLQ.md).
#
# The whole pipeline runs (adapter on Kafka with --max-event-bytes 4096). Bad
# messages are produced between good ones on every input topic: garbage,
# truncated Avro, a flipped fingerprint, a record of another type, invalid
# Tetragon JSON, a truncated and an oversized Tetragon object. Each bad
# message's partition and offset are found from the topic's high watermarks
# before and after producing it alone (nothing else writes to that topic
# meanwhile: the good messages of phase 1 are stored before the bad ones
# go out). Checked exactly: one dead letter per bad message, from the
# service that reads the topic, with its topic, partition, offset and
# original bytes; the good messages before and after all arrive in
# PostgreSQL.
#
# Then tb-dlq: `list` (filters, --summary, --format table), and `redrive` of
# the oversized Tetragon event after the adapter was restarted with a larger
# --max-event-bytes (the fix): it arrives in PostgreSQL once, a second
# redrive re-drives nothing and the event is still stored once.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"

KAFKA="$TB_BIN/tb-kafka"
RT="$TB_BIN/tb-rtevent"
GEN="$TB_BIN/tb-gen"
DLQ="$TB_BIN/tb-dlq"
DATA="$TB_ROOT/tests/data"
WAIT=90

hex() { od -An -v -tx1 | tr -d ' \n'; }
unhex() { local h; h=$(sed 's/../\\x&/g'); printf '%b' "$h"; }
obs() { tb_psql -c "SELECT count(*) FROM observations"; }

# One Tetragon exec event per message; $1 numbers it (its own exec id and time).
exec_event() {
  printf '{"process_exec":{"process":{"exec_id":"dlq-051-%s","pid":%d,"binary":"/usr/bin/dlq-%s"}},"node_name":"n051","time":"2031-03-01T00:00:%02dZ"}' \
    "$1" "$((100 + $1))" "$1" "$1"
}
good_tetragon() { exec_event "$1" | "$RT" raw -t tb.tetragon.raw.v1 -k "good-$1" 2>>"$TB_TMP/produce.err"; }

TB_STACK_ARGS_adapter="--max-event-bytes 4096"
if ! tb_stack_start --no-api; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

# ---- raw material: valid records of every type, as bytes -------------------------------
record_hex() { # TYPE JSONLINE -> hex of the encoded record (via a scratch topic)
  local t="tb.test051.$1"
  echo "$2" | "$GEN" json --type "$1" -t "$t" 2>>"$TB_TMP/produce.err" &&
    timeout 30 "$KAFKA" consume -t "$t" -G "scratch-$1" --from-beginning --exit-after 1 --hex 2>/dev/null |
    awk '{print $4}'
}
CORR_HEX=$(record_hex correlated "$(grep -v '^#' "$DATA/aggregator/events.jsonl" | head -1)")
CANON_HEX=$(record_hex canonical "$(grep -v '^#' "$DATA/aggregator/events.jsonl" | head -1)")
ART_HEX=$(record_hex artifact "$(head -1 "$DATA/aggregator/artifacts.jsonl")")
FIND_HEX=$(record_hex finding "$(head -1 "$DATA/aggregator/findings.jsonl")")
for v in CORR_HEX CANON_HEX ART_HEX FIND_HEX; do
  [ ${#v} -gt 0 ] && [ "${!v:0:4}" = c301 ] || { tb_fail "valid $v record bytes"; tb_finish; }
done
tb_ok "valid correlated, canonical, artifact and finding records encoded"

# ---- phase 1: good messages on every input topic ------------------------------------------
for i in 1 2 3; do good_tetragon "$i"; done
"$RT" probe-batch <"$DATA/adapter/probe-batch.json" 2>>"$TB_TMP/produce.err"
sed -n 1p "$DATA/aggregator/artifacts.jsonl" | "$GEN" json --type artifact 2>>"$TB_TMP/produce.err"
sed -n 1p "$DATA/aggregator/findings.jsonl" | "$GEN" json --type finding 2>>"$TB_TMP/produce.err"
# 3 exec events + 5 from the probe batch, one artifact, one finding
tb_wait_rows "SELECT count(*) FROM observations" 8 $WAIT || tb_fail "phase 1: 8 observations stored"
tb_wait_rows "SELECT count(*) FROM artifacts" 1 $WAIT || tb_fail "phase 1: the artifact is stored"
tb_wait_rows "SELECT count(*) FROM findings" 1 $WAIT || tb_fail "phase 1: the finding is stored"
tb_check "phase 1: exactly 8 observations" 8 "$(obs)"
RUNTIME_HEX=$(timeout 30 "$KAFKA" consume -t tb.events.raw.v1 -G scratch-raw --from-beginning --exit-after 1 --hex \
  2>/dev/null | awk '{print $4}')
PROBE_HEX=$(timeout 30 "$KAFKA" consume -t tb.probe.raw.v1 -G scratch-probe --from-beginning --exit-after 1 --hex \
  2>/dev/null | awk '{print $4}')
[ "${RUNTIME_HEX:0:4}" = c301 ] && [ "${PROBE_HEX:0:4}" = c301 ] ||
  { tb_fail "RuntimeEvent and ProbeBatch bytes read back"; tb_finish; }

# ---- phase 2: bad messages, one at a time, located by the watermarks -----------------------
watermarks() { "$KAFKA" metadata -t "$1" --watermarks 2>/dev/null | awk '{print $2, $4}' | sort -n; }
flip_fp() { echo "${1:0:4}$(printf '%02x' $((0x${1:4:2} ^ 0xff)))${1:6}"; } # one fingerprint byte
: >"$TB_TMP/expected"
# bad NAME TOPIC SERVICE HEX: produce HEX as one message keyed NAME; record where it went
bad() {
  local name=$1 topic=$2 svc=$3 h=$4 before after where
  before=$(watermarks "$topic")
  unhex <<<"$h" >"$TB_TMP/bad.$name"
  "$RT" raw -t "$topic" -k "$name" <"$TB_TMP/bad.$name" 2>>"$TB_TMP/produce.err" ||
    tb_fail "produce $name to $topic"
  after=$(watermarks "$topic")
  where=$(join <(echo "$before") <(echo "$after") | awk '$3 == $2 + 1 {print $1, $2} $3 != $2 && $3 != $2 + 1 {print "?"}')
  if [ "$(grep -c . <<<"$where")" != 1 ] || [ "$where" = "?" ]; then
    tb_fail "$name: exactly one message added to $topic"; tb_diag "$before / $after"
    return
  fi
  echo "$name $topic $where $svc $(od -An -v -tx1 <"$TB_TMP/bad.$name" | tr -d ' \n') $(printf %s "$name" | hex)" \
    >>"$TB_TMP/expected"
}
BIG=$(printf '{"process_exec":{"process":{"exec_id":"dlq-051-big","pid":999,"binary":"/usr/bin/big","arguments":"%s"}},"node_name":"n051","time":"2031-03-01T00:01:00Z"}' \
  "$(head -c 6000 /dev/zero | tr '\0' a)")
bad t-garbage tb.tetragon.raw.v1 adapter "$(printf 'this is not json' | hex)"
bad t-truncated tb.tetragon.raw.v1 adapter "$(printf '{"process_exec":{"process":{"exec_id":"x"' | hex)"
bad t-invalid tb.tetragon.raw.v1 adapter "$(printf '{"process_kprobe":[]}' | hex)"
bad t-oversize tb.tetragon.raw.v1 adapter "$(printf %s "$BIG" | hex)"
bad p-garbage tb.probe.raw.v1 adapter "$(printf 'definitely not avro' | hex)"
bad p-truncated tb.probe.raw.v1 adapter "${PROBE_HEX:0:$((${#PROBE_HEX} - 14))}"
bad p-wrongfp tb.probe.raw.v1 adapter "$(flip_fp "$PROBE_HEX")"
bad r-garbage tb.events.raw.v1 canonicalizer "$(printf 'garbage\x00\x01\x02' | hex)"
bad r-truncated tb.events.raw.v1 canonicalizer "${RUNTIME_HEX:0:$((${#RUNTIME_HEX} / 2))}"
bad r-othertype tb.events.raw.v1 canonicalizer "$CANON_HEX"
bad c-truncated tb.events.canonical.v1 correlator "${CANON_HEX:0:40}"
bad c-othertype tb.events.canonical.v1 correlator "$ART_HEX"
bad x-wrongfp tb.events.correlated.v1 aggregator "$(flip_fp "$CORR_HEX")"
bad x-truncated tb.events.correlated.v1 aggregator "${CORR_HEX:0:$((${#CORR_HEX} - 6))}"
bad a-garbage tb.artifacts.v1 aggregator "$(printf '\xc3\x01garbage' | hex)"
bad a-othertype tb.artifacts.v1 aggregator "$FIND_HEX"
bad f-truncated tb.findings.v1 aggregator "${FIND_HEX:0:30}"
bad f-othertype tb.findings.v1 aggregator "$ART_HEX"
N_BAD=$(grep -c . "$TB_TMP/expected")
tb_check "18 bad messages produced, each located" 18 "$N_BAD"

# ---- phase 3: good messages after the bad ones ---------------------------------------------
for i in 4 5; do good_tetragon "$i"; done
sed -e 's/"seq": 1,/"seq": 2,/' -e 's/17672256/17672257/g' "$DATA/adapter/probe-batch.json" |
  "$RT" probe-batch 2>>"$TB_TMP/produce.err"
sed -n 2p "$DATA/aggregator/artifacts.jsonl" | "$GEN" json --type artifact 2>>"$TB_TMP/produce.err"
grep -v '^#' "$DATA/aggregator/findings.jsonl" | sed -n 2p | "$GEN" json --type finding 2>>"$TB_TMP/produce.err"
tb_wait_rows "SELECT count(*) FROM observations" 15 $WAIT || tb_fail "phase 3: 15 observations stored"
tb_wait_rows "SELECT count(*) FROM artifacts" 2 $WAIT || tb_fail "phase 3: the second artifact is stored"
tb_wait_rows "SELECT count(*) FROM findings" 2 $WAIT || tb_fail "phase 3: the second finding is stored"
tb_check "every good message before and after the bad ones is stored: 15 observations" 15 "$(obs)"
tb_check "the 5 Tetragon exec events are rows" "1 2 3 4 5" \
  "$(echo $(tb_psql -c "SELECT extract(second FROM ts)::int FROM observations WHERE ts >= '2031-03-01' AND ts < '2031-03-01 00:01' ORDER BY ts"))"

# ---- the dead letters -----------------------------------------------------------------------------
# All bad messages were produced before phase 3, whose goods are stored: every
# service has handled its bad messages, and their dead letters were
# acknowledged before the batches' commits. Read them all.
dlq_count() { "$KAFKA" metadata -t tb.dlq.v1 --watermarks 2>/dev/null | awk '{s += $4 - $3} END {print s + 0}'; }
tb_wait_for $WAIT bash -c "[ \$('$KAFKA' metadata -t tb.dlq.v1 --watermarks 2>/dev/null | awk '{s += \$4 - \$3} END {print s + 0}') -ge $N_BAD ]" ||
  tb_diag "fewer than $N_BAD dead letters after ${WAIT}s"
"$DLQ" list >"$TB_TMP/dlq.jsonl" 2>"$TB_TMP/dlq.err"
tb_check "tb-dlq list: exactly one dead letter per bad message" "$N_BAD" "$(grep -c . "$TB_TMP/dlq.jsonl")"
got=$(jq -r '[.source_topic, (.source_partition | tostring), (.source_offset | tostring), .service, .payload_hex, .key_hex] | join(" ")' \
  "$TB_TMP/dlq.jsonl" | sort)
tb_check "each dead letter: source topic, partition, offset, service, original bytes and key exactly" \
  "$(cut -d' ' -f2- "$TB_TMP/expected" | sort)" "$got"
tb_check "every dead letter has a classified reason" "" \
  "$(jq -r 'select(.reason | test("^[a-z_]+: .") | not) | .reason' "$TB_TMP/dlq.jsonl")"
reason_of() { # NAME -> the reason of that bad message's letter
  local t p o; read -r _ t p o _ < <(grep "^$1 " "$TB_TMP/expected")
  jq -r --arg t "$t" --argjson p "$p" --argjson o "$o" \
    'select(.source_topic == $t and .source_partition == $p and .source_offset == $o) | .reason' "$TB_TMP/dlq.jsonl"
}
tb_diag "reasons: $(for n in $(awk '{print $1}' "$TB_TMP/expected"); do printf '[%s] %s; ' "$n" "$(reason_of "$n")"; done)"
tb_check "the oversized object's reason names the limit" "json: too_large" "$(reason_of t-oversize | cut -d: -f1-2)"
tb_check "the flipped fingerprint's reason says so" 1 "$(reason_of x-wrongfp | grep -ci fingerprint)"

# ---- tb-dlq list: filters, summary, table ----------------------------------------------------------
tb_check "list --service aggregator: the 6 letters of the aggregator's three topics" 6 \
  "$("$DLQ" list --service aggregator 2>/dev/null | grep -c .)"
tb_check "list --source-topic tb.probe.raw.v1" 3 "$("$DLQ" list --source-topic tb.probe.raw.v1 2>/dev/null | grep -c .)"
tb_check "list --reason too_large" "tb.tetragon.raw.v1" \
  "$("$DLQ" list --reason too_large 2>/dev/null | jq -r .source_topic)"
tb_check "list --until 2000-01-01T00:00:00Z: none" 0 "$("$DLQ" list --until 2000-01-01T00:00:00Z 2>/dev/null | grep -c .)"
tb_check "list --since 2000-01-01T00:00:00Z: all" "$N_BAD" "$("$DLQ" list --since 2000-01-01T00:00:00Z 2>/dev/null | grep -c .)"
tb_check "list --summary: counts by service" '18 {"adapter":7,"aggregator":6,"canonicalizer":3,"correlator":2}' \
  "$("$DLQ" list --summary 2>/dev/null | jq -c '"\(.total) \(.by_service | tojson)"' -r)"
tb_check "list --format table: a header and one row per letter" $((N_BAD + 1)) \
  "$("$DLQ" list --format table 2>/dev/null | grep -c .)"
"$DLQ" list --since yesterday >/dev/null 2>"$TB_TMP/bad-since.err"
tb_check "list --since with a bad time: exit 2" "2" "$?"

# ---- redrive after a fix ----------------------------------------------------------------------------
big_rows() { tb_psql -c "SELECT count(*) FROM observations WHERE ts = '2031-03-01 00:01:00+00'"; }
tb_check "the oversized event is not stored" 0 "$(big_rows)"
"$DLQ" redrive --source-topic tb.tetragon.raw.v1 --reason too_large --dry-run >"$TB_TMP/dry.jsonl" 2>"$TB_TMP/dry.err"
tb_check "redrive --dry-run: would re-drive the one letter" "would-redrive 1" \
  "$(jq -r 'select(.action) | .action' "$TB_TMP/dry.jsonl") $(jq -r 'select(.summary) | .summary.redriven' "$TB_TMP/dry.jsonl")"
# the fix: the adapter restarted with a larger limit
tb_service_kill adapter TERM
TB_STACK_ARGS_adapter="--max-event-bytes 65536"
tb_service_start adapter
tb_service_ready adapter || tb_fail "the adapter restarts with --max-event-bytes 65536"
"$DLQ" redrive --source-topic tb.tetragon.raw.v1 --reason too_large >"$TB_TMP/redrive1.jsonl" 2>"$TB_TMP/redrive1.err"
tb_check "redrive: exit 0, one letter re-driven to its source topic" "0 redriven tb.tetragon.raw.v1 1" \
  "$? $(jq -r 'select(.action) | .action + " " + .to' "$TB_TMP/redrive1.jsonl") $(jq -r 'select(.summary) | .summary.redriven' "$TB_TMP/redrive1.jsonl")"
tb_wait_rows "SELECT count(*) FROM observations WHERE ts = '2031-03-01 00:01:00+00'" 1 $WAIT ||
  tb_fail "the re-driven event reaches PostgreSQL"
"$DLQ" redrive --source-topic tb.tetragon.raw.v1 --reason too_large >"$TB_TMP/redrive2.jsonl" 2>"$TB_TMP/redrive2.err"
tb_check "a second redrive of the same selection re-drives nothing" "0 0" \
  "$? $(jq -r 'select(.summary) | .summary.redriven' "$TB_TMP/redrive2.jsonl")"
# the adapter has handled everything on its topics: nothing new dead-lettered,
# and the re-driven event is stored exactly once
last_tetragon() { "$KAFKA" metadata -t tb.tetragon.raw.v1 --watermarks 2>/dev/null | awk '{s += $4} END {print s}'; }
tb_wait_rows "SELECT count(*) FROM observations" 16 $WAIT || true
tb_check "the re-driven event is stored exactly once" 1 "$(big_rows)"
tb_check "and nothing else changed: 16 observations" 16 "$(obs)"
tb_check "no new dead letter (the fix worked)" "$N_BAD" "$(dlq_count)"
tb_check "tetragon topic: one message more (the re-driven copy)" \
  "$(($(grep -c ' tb.tetragon.raw.v1 ' "$TB_TMP/expected") + 5 + 1))" "$(last_tetragon)"
tb_finish
