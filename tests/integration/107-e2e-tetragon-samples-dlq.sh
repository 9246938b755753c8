#!/usr/bin/env bash
# 107 — end to end: every Tetragon sample in ../shared/testdata/tetragon
# (read-only; path relative to the repo root) goes through the full stack,
# both through POST /api/v1/runtime/traces (tenant "default") and through the
# adapter's tailed-file input (tenant "files"), and arrives in PostgreSQL
# without a dead letter — except the stack-trace fragments file, which is not
# a Tetragon event stream: the API refuses it (400 naming line, column and
# why) and the adapter dead-letters each of its fragments with a precise
# reason. A corrupted line between two good lines of a tailed file is
# dead-lettered (position, reason, original bytes) while the good line after
# it still arrives as a row.
#
# Expected events per file are counted independently with jq (objects with
# one of Tetragon's event keys); the ids the API answers must be exactly the
# observations of each tenant (the event_id recipe does not depend on the
# input path). Dead letters are read from tb.dlq.v1 (tb-kafka consume --dlq):
# all of them come from the adapter (none from canonicalizer, correlator or
# aggregator) and each one is accounted for.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

SAMPLES=$(cd "$TB_ROOT/../shared/testdata/tetragon" 2>/dev/null && pwd)
FRAG=docs-selectors-stack-trace-fragments.txt
if [ -z "$SAMPLES" ] || [ ! -f "$SAMPLES/$FRAG" ]; then
  tb_fail "Tetragon samples found in ../shared/testdata/tetragon"; tb_finish
fi
mapfile -t FILES < <(cd "$SAMPLES" && ls | grep -v '^PROVENANCE\.md$' | sort)
expected_events() {
  jq -c 'select(type == "object") | select(has("process_exec") or has("process_exit") or has("process_kprobe")
    or has("process_tracepoint") or has("process_loader") or has("process_uprobe") or has("process_throttle")
    or has("process_lsm") or has("process_usdt") or has("rate_limit_info"))' "$1" 2>/dev/null | wc -l | tr -d ' '
}
hex() { od -An -tx1 | tr -d ' \n'; }

# The tailed files: copies of the samples, and a file with a corrupted line.
mkdir -p "$TB_TMP/tail"
INPUTS=""
for f in "${FILES[@]}"; do
  cp "$SAMPLES/$f" "$TB_TMP/tail/$f"
  INPUTS="$INPUTS --input file:$TB_TMP/tail/$f"
done
CORRUPT="$TB_TMP/tail/corrupt.jsonl"
{
  echo '{"process_exec":{"process":{"exec_id":"ZTJlLTEwNzoxOjE=","pid":1,"binary":"/usr/bin/e2e-a"}},"node_name":"e2e-node-7","time":"2031-01-01T00:00:01Z"}'
  echo '{"process_exec":{"process":{"exec_id":"ZTJlLTEwNzoxOjI=","pid":'
  echo '{"process_exec":{"process":{"exec_id":"ZTJlLTEwNzoxOjM=","pid":3,"binary":"/usr/bin/e2e-c"}},"node_name":"e2e-node-7","time":"2031-01-01T00:00:03Z"}'
} >"$CORRUPT"
TB_STACK_ARGS_adapter="$INPUTS --input file:$CORRUPT --tenant files --poll-interval 50ms"
if ! tb_stack_start; then tb_fail "the pipeline starts (adapter tailing ${#FILES[@]} samples)"; tb_finish; fi
tb_ok "the pipeline starts (adapter tailing ${#FILES[@]} samples and a corrupted file)"

# ---- POST every sample -------------------------------------------------------------------
: >"$TB_TMP/posted.ids"
bad=""
for f in "${FILES[@]}"; do
  [ "$f" = "$FRAG" ] && continue
  want=$(expected_events "$SAMPLES/$f")
  tb_api_post /api/v1/runtime/traces "$SAMPLES/$f" >/dev/null
  got=$(jq -r '"\(.accepted) \(.event_ids | length)"' "$TB_TMP/http.body" 2>/dev/null)
  if [ "$TB_HTTP_STATUS" != 202 ] || [ "$got" != "$want $want" ]; then
    bad="$bad $f:$TB_HTTP_STATUS:$got(want $want)"
  fi
  jq -r '.event_ids[]' "$TB_TMP/http.body" >>"$TB_TMP/posted.ids" 2>/dev/null
done
tb_check "POST: every sample file but the fragments answers 202 with all its events (jq's count)" "" "${bad# }"
N=$(sort -u "$TB_TMP/posted.ids" | grep -c .)
tb_diag "$N distinct events in the samples"
tb_api_post /api/v1/runtime/traces "$SAMPLES/$FRAG" >/dev/null
tb_check "POST of the fragments file: 400 at its first line, a comment that is not JSON" \
  "400 invalid_body 1 1 garbage" \
  "$TB_HTTP_STATUS $(jq -r '"\(.error.code) \(.error.line) \(.error.column) \(.error.message | if test("garbage") then "garbage" else . end)"' "$TB_TMP/http.body")"
# each fragment object on its own: 400 saying it is a stack trace entry
awk '/^\{/ {n++; f=1} f {print > (dir "/frag." n)} /^\}/ {f=0}' dir="$TB_TMP" "$SAMPLES/$FRAG"
bad="" n=0
for fr in "$TB_TMP"/frag.*; do
  n=$((n + 1))
  tb_api_post /api/v1/runtime/traces "$fr" >/dev/null
  case "$TB_HTTP_STATUS $(jq -r .error.message "$TB_TMP/http.body")" in
    "400 "*"this is a stack trace entry"*) ;;
    *) bad="$bad $(basename "$fr"):$TB_HTTP_STATUS:$(jq -r .error.message "$TB_TMP/http.body")" ;;
  esac
done
tb_check "POST of each of the $n fragment objects alone: 400 saying it is a stack trace entry" "" "${bad# }"
tb_api_post /api/v1/runtime/traces "$CORRUPT" >/dev/null
tb_check "POST of the corrupted file: 400 at line 2 (a body is all or nothing)" "400 2" \
  "$TB_HTTP_STATUS $(jq -r .error.line "$TB_TMP/http.body")"

# ---- rows in PostgreSQL ------------------------------------------------------------------------
tb_wait_rows "SELECT count(*) FROM observations WHERE tenant = 'default'" "$N" 120 || tb_fail "the posted events reach PostgreSQL"
tb_wait_rows "SELECT count(*) FROM observations WHERE tenant = 'files'" $((N + 2)) 120 || tb_fail "the tailed events reach PostgreSQL"
rows() { tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = '$1' ${2:-} ORDER BY 1"; }
tb_check "POST: the observations are exactly the answered events" "$(sort -u "$TB_TMP/posted.ids")" "$(rows default)"
tb_check "tailed files: the same events, with the same ids" "$(sort -u "$TB_TMP/posted.ids")" \
  "$(rows files "AND ts < '2031-01-01'")"
tb_check "corrupted file: the good lines before and after the corrupted one are rows" \
  "2031-01-01 00:00:01+00 2031-01-01 00:00:03+00" \
  "$(echo $(tb_psql -c "SELECT ts FROM observations WHERE tenant = 'files' AND ts >= '2031-01-01' ORDER BY ts"))"
tb_check "kinds stored for the samples (per kind, both tenants alike)" \
  "$(tb_psql -c "SELECT kind || ':' || count(*) FROM observations WHERE tenant = 'default' GROUP BY kind ORDER BY kind" | tr '\n' ' ')" \
  "$(tb_psql -c "SELECT kind || ':' || count(*) FROM observations WHERE tenant = 'files' AND ts < '2031-01-01' GROUP BY kind ORDER BY kind" | tr '\n' ' ')"

# ---- tb.dlq.v1 ----------------------------------------------------------------------------------
# Everything is stored, so every dead letter has been produced: read them all.
DLQ_N=$("$TB_BIN/tb-kafka" metadata -t tb.dlq.v1 --watermarks 2>/dev/null | awk '{s += $4 - $3} END {print s + 0}')
timeout 60 "$TB_BIN/tb-kafka" consume -t tb.dlq.v1 -G e2e-107-dlq --from-beginning --exit-after "$DLQ_N" --dlq \
  >"$TB_TMP/dlq.jsonl" 2>"$TB_TMP/dlq.err"
tb_check "all $DLQ_N dead letters read" "$DLQ_N" "$(grep -c . "$TB_TMP/dlq.jsonl")"
tb_check "every dead letter comes from the adapter (none from canonicalizer, correlator, aggregator)" "adapter" \
  "$(jq -r .service "$TB_TMP/dlq.jsonl" | sort -u | tr '\n' ' ' | sed 's/ $//')"
tb_check "dead letters come only from the fragments file and the corrupted line" "" \
  "$(jq -r --arg f "$TB_TMP/tail/$FRAG:" --arg c "$CORRUPT:2:1" 'select((.position | startswith($f)) or .position == $c | not) | .position' "$TB_TMP/dlq.jsonl")"
N_FRAG=$(grep -c '^{' "$SAMPLES/$FRAG")
tb_check "each of the $N_FRAG stack trace entries is dead-lettered as such" "$N_FRAG" \
  "$(jq -r --arg f "$TB_TMP/tail/$FRAG:" 'select(.position | startswith($f)) | .reason' "$TB_TMP/dlq.jsonl" | grep -c 'this is a stack trace entry')"
tb_check "the fragments file's other dead letters name the bytes that are not JSON (its comment lines)" "" \
  "$(jq -r --arg f "$TB_TMP/tail/$FRAG:" 'select(.position | startswith($f)) | .reason | select(test("stack trace entry|^json: garbage: unexpected bytes between objects") | not)' "$TB_TMP/dlq.jsonl")"
c=$(jq -c --arg c "$CORRUPT:2:1" 'select(.position == $c)' "$TB_TMP/dlq.jsonl")
tb_check "the corrupted line: one dead letter, reason, its bytes and byte offset" \
  "1 json: truncated: object not closed (depth 3): a new object starts at line 3 column 1 $(sed -n 2p "$CORRUPT" | hex) $(head -1 "$CORRUPT" | wc -c | tr -d ' ')" \
  "$(grep -c . <<<"$c") $(jq -r '.reason + " " + .payload_hex + " " + (.source_offset | tostring)' <<<"$c")"
tb_finish
