#!/usr/bin/env bash
# 040 — tb-timeline-api against the dev broker and a private PostgreSQL.
#
# Ingest: Tetragon NDJSON, pretty-printed Tetragon and our trace JSON answer
# 202 with the event ids, and exactly those records are on tb.events.raw.v1
# (event ids found in the Avro bytes, tenant, keys "<node>/<exec_id>");
# artifacts and findings land on their topics keyed "<tenant>/<id>"; a
# malformed body is a 400 naming line and column, and produces nothing; a
# broker that is down gives 503, never 202; an oversized body is a JSON 413.
# Queries run as the read-only role tb_api over rows written straight into
# the tables (tests/data/api/queries-fixture.sql): the timeline is in
# (ts, event_id) order, pages of every size cover it without gaps or
# repeats, filters and time ranges select exactly the right rows, buckets
# count what SQL counts, hot symbols come in the documented order with
# stable tie-breaking over minute and hour windows, folded stacks are
# root-first. Bad parameters are 400s with JSON errors.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/api.sh"

KAFKA="$TB_BIN/tb-kafka"
TETRA="$TB_ROOT/tests/data/tetragon"
A="sha256:$(printf 'a%.0s' {1..64})"
B="sha256:$(printf 'b%.0s' {1..64})"

stored() { # TOPIC -> messages on the topic
  "$KAFKA" metadata -t "$1" --watermarks 2>>"$TB_TMP/metadata.err" | awk '{s += $4 - $3} END {print s + 0}'
}

dump() { # TOPIC GROUP N -> $TB_TMP/GROUP.out ("partition offset key value" lines; values are Avro)
  timeout 60 "$KAFKA" consume -t "$1" -G "$2" --from-beginning --exit-after "$3" \
    >"$TB_TMP/$2.out" 2>"$TB_TMP/$2.err"
}

if ! tb_broker_start 1; then tb_fail "dev broker starts"; tb_finish; fi
if ! tb_pg_start || ! tb_pg_migrate; then tb_fail "PostgreSQL starts and migrates"; tb_finish; fi
tb_psql -f "$TB_ROOT/tests/data/api/queries-fixture.sql" >/dev/null || tb_fail "fixture rows inserted"
if ! tb_api_start api --pg "$(tb_pg_url tracebridge tb_api)" --brokers "$TB_BROKERS" \
  --max-body-bytes 1048576 --ingest-timeout 4s --log-level debug; then
  tb_fail "tb-timeline-api starts"; tb_finish
fi
tb_ok "tb-timeline-api starts with broker and PostgreSQL (role tb_api)"

tb_check "/healthz on the API port" 200 "$(tb_http GET /healthz)"
tb_check "/readyz on the API port" '200 true' "$(tb_http GET /readyz) $(tb_resp | jq -r .ready)"
code=$(tb_http GET /openapi.json)
tb_check "/openapi.json is JSON with the runtime routes" \
  "200 3.0.3 /api/v1/runtime/hot-symbols /api/v1/runtime/stacks.folded /api/v1/runtime/timeline /api/v1/runtime/traces" \
  "$code $(tb_resp | jq -r '.openapi, (.paths | keys[] | select(startswith("/api/v1/runtime")))' | tr '\n' ' ' | sed 's/ $//')"

# ---- ingest -------------------------------------------------------------------
before=$(stored tb.events.raw.v1)
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/shapes.jsonl")
tb_check "Tetragon NDJSON: 202 with 8 events, 2 skipped by type" \
  "202 8 8 2 1 1 tetragon true" \
  "$code $(tb_resp | jq -r '[.accepted, (.event_ids | unique | length), .skipped, .skipped_types.process_connect, .skipped_types.test, .format, .materialized] | join(" ")')"
tb_resp | jq -r '.event_ids[]' >"$TB_TMP/ids1"
tb_check "the 8 records are on tb.events.raw.v1 when the 202 arrives" 8 $(($(stored tb.events.raw.v1) - before))

code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.pretty.json")
tb_check "pretty-printed Tetragon object: 202, one event" "202 1" "$code $(tb_resp | jq -r .accepted)"
tb_resp | jq -r '.event_ids[]' >"$TB_TMP/ids2"
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")
tb_check "compact form of the same event: the same event id" "202 $(cat "$TB_TMP/ids2")" \
  "$code $(tb_resp | jq -r '.event_ids[0]')"

trace='{"events":[{"node":"worker-3","kind":"uprobe","time":"2026-03-14T09:30:00.5Z","hook":"SSL_read",
  "process":{"pid":42,"binary":"/usr/bin/app","exec_id":"worker-3:1:42"},
  "user_stack":[{"module":"/usr/lib/libssl.so.3","build_id":"aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11","file_offset":"0x1000","symbol":"SSL_read"}]},
  {"node":"worker-3","kind":"sample","ts_ns":1773480600000000000,"process":{"pid":42,"exec_id":"worker-3:1:42"},
  "user_stack":[{"module":"/usr/bin/app","symbol":"main"}]}]}'
code=$(tb_http POST /api/v1/runtime/traces -H 'Content-Type: application/json' --data-binary "$trace")
tb_check "trace JSON batch: 202, two events" "202 2 trace" "$code $(tb_resp | jq -r '"\(.accepted) \(.format)"')"
tb_resp | jq -r '.event_ids[]' >"$TB_TMP/ids3"

# tb-rtevent decodes the Avro records; every answered id must be there, nothing else.
records=$(stored tb.events.raw.v1)
timeout 60 "$TB_BIN/tb-rtevent" events -G api-check --exit-after "$records" >"$TB_TMP/raw.jsonl" 2>"$TB_TMP/raw.err"
tb_check "the records on tb.events.raw.v1 are exactly the answered events" \
  "$(cat "$TB_TMP"/ids1 "$TB_TMP"/ids2 "$TB_TMP"/ids3 | sort -u | tr '\n' ' ')" \
  "$(jq -r '.event.event_id' "$TB_TMP/raw.jsonl" | sort -u | tr '\n' ' ')"
tb_check "every record decodes, with the caller's tenant" "$records default" \
  "$(jq -r '.event.tenant' "$TB_TMP/raw.jsonl" | grep -c .) $(jq -r '.event.tenant' "$TB_TMP/raw.jsonl" | sort -u | tr '\n' ' ' | sed 's/ $//')"
tb_check "records are keyed <node>/<exec_id>" 0 \
  "$(jq -r 'select(.key != "\(.event.node // "")/\(.event.process.exec_id // "")") | .key' "$TB_TMP/raw.jsonl" | wc -l)"
tb_check "trace JSON events: source api, fields kept" "api uprobe SSL_read 42 worker-3/worker-3:1:42" \
  "$(jq -r 'select(.event.source == "api" and .event.kind == "uprobe") | "\(.event.source) \(.event.kind) \(.event.hook) \(.event.process.pid) \(.key)"' "$TB_TMP/raw.jsonl")"

before=$(stored tb.events.raw.v1)
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/malformed.jsonl")
tb_check "malformed line: 400 naming line 2 column 1" "400 invalid_body 2 1" \
  "$code $(tb_resp | jq -r '"\(.error.code) \(.error.line) \(.error.column)"')"
case "$(tb_resp | jq -r .error.message)" in
  *"line 2 column 1"*pid*) tb_ok "the message names the position and the field" ;;
  *) tb_fail "the message names the position and the field"; tb_diag "$(tb_resp)" ;;
esac
tb_check "a rejected body produces nothing" 0 $(($(stored tb.events.raw.v1) - before))
tb_check "empty body: 400" "400 invalid_body" "$(tb_http POST /api/v1/runtime/traces --data-binary '') $(tb_resp | jq -r .error.code)"
tb_check "not JSON: 400" "400 invalid_body" "$(tb_http POST /api/v1/runtime/traces --data-binary 'hello') $(tb_resp | jq -r .error.code)"

head -c 2000000 /dev/zero | tr '\0' ' ' >"$TB_TMP/big.json"
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TB_TMP/big.json")
tb_check "body over --max-body-bytes: JSON 413" "413 payload_too_large" "$code $(tb_resp | jq -r .error.code)"
tb_check "the API still answers after the 413" 200 "$(tb_http GET /healthz)"

sbom_body=$(jq -c --arg d "$A" '{digest: $d, name: "shop/checkout", version: "1.4.2", sbom: ., binaries: [{path: "/usr/bin/app", build_id: "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22", purl: "pkg:generic/app@1.0"}]}' \
  "$TB_ROOT/tests/data/sbom/cyclonedx-1.5-evidence.json")
code=$(tb_http POST /api/v1/artifacts --data-binary "$sbom_body")
tb_check "artifact with a CycloneDX SBOM: 202" "202 $A" "$code $(tb_resp | jq -r .digest)"
dump tb.artifacts.v1 art 1
tb_check "the artifact is on tb.artifacts.v1 keyed <tenant>/<digest>" 1 "$(grep -ac "^[0-9]* [0-9]* default/$A " "$TB_TMP/art.out")"
code=$(tb_http POST /api/v1/findings --data-binary "{\"id\":\"F-1\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:deb/debian/libssl3@3.0.11\",\"artifact_digest\":\"$A\",\"symbols\":[\"SSL_read\",\"SSL_read\"]}")
tb_check "finding: 202 with duplicate symbols dropped" "202 F-1 1" "$code $(tb_resp | jq -r '"\(.finding_id) \(.symbols)"')"
dump tb.findings.v1 fin 1
tb_check "the finding is on tb.findings.v1 keyed <tenant>/<id>" 1 "$(grep -ac '^[0-9]* [0-9]* default/F-1 ' "$TB_TMP/fin.out")"
tb_check "invalid finding: 400" "400 invalid_body" "$(tb_http POST /api/v1/findings --data-binary '{"id":"F-2"}') $(tb_resp | jq -r .error.code)"

# ---- routing ------------------------------------------------------------------------
tb_check "unknown path: JSON 404" "404 not_found" "$(tb_http GET /api/v1/nope) $(tb_resp | jq -r .error.code)"
tb_check "wrong method: JSON 405" "405 method_not_allowed" "$(tb_http GET /api/v1/runtime/traces) $(tb_resp | jq -r .error.code)"
tb_check "405 names the allowed methods" "Allow: POST" \
  "$(curl -s -D - -o /dev/null -X DELETE "$TB_API/api/v1/artifacts" | tr -d '\r' | grep '^Allow:')"

# ---- queries: timeline ---------------------------------------------------------------
expected=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'default' ORDER BY ts, event_id")
code=$(tb_http GET '/api/v1/runtime/timeline?limit=1000')
tb_check "timeline: every event of the tenant in (ts, event_id) order" "200 $(echo $expected)" \
  "$code $(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
tb_check "timeline: last page has no cursor, runtime_enabled true" "null true" \
  "$(tb_resp | jq -r '"\(.next_cursor) \(.runtime_enabled)"')"
tb_check "timeline item: fields from observations and the leaf symbol" \
  '2026-03-14T09:00:00.000000Z sample probe node-1 checkout SSL_read aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11 libssl.so.3 pkg:deb/debian/libssl3@3.0.11 correlated 0000000000001389' \
  "$(tb_resp | jq -r --arg a "$A" '[.items[] | select(.artifact_digest == $a)][0] | [.ts, .kind, .source, .node, .workload, .symbol, .build_id, .module, .purl, .correlation, .stack_id] | join(" ")')"

for size in 1 5 7 36; do
  cursor="" ids="" pages=0
  while :; do
    code=$(tb_http GET "/api/v1/runtime/timeline?limit=$size${cursor:+&cursor=$cursor}")
    [ "$code" = 200 ] || { tb_diag "page $pages: $code $(tb_resp)"; break; }
    ids="$ids $(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ')"
    pages=$((pages + 1))
    cursor=$(tb_resp | jq -r '.next_cursor // empty')
    [ -n "$cursor" ] && [ $pages -lt 100 ] || break
  done
  tb_check "pages of $size cover the timeline without gaps or repeats" "$(echo $expected)" "$(echo $ids)"
done

exp_a=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'default' AND artifact_digest = '$A' ORDER BY ts, event_id")
tb_http GET "/api/v1/runtime/timeline?artifact=$A" >/dev/null
tb_check "artifact= selects that artifact's events" "$(echo $exp_a)" "$(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
exp_s=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'default' AND leaf_symbol_id = 103 ORDER BY ts, event_id")
tb_http GET "/api/v1/runtime/timeline?symbol=main" >/dev/null
tb_check "symbol= selects events whose leaf is that symbol" "$(echo $exp_s)" "$(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
exp_p=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'default' AND purl = 'pkg:generic/app@1.0' ORDER BY ts, event_id")
tb_http GET "/api/v1/runtime/timeline?purl=pkg:generic/app%401.0" >/dev/null
tb_check "purl= selects that component's events" "$(echo $exp_p)" "$(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
exp_t=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'default' AND ts >= '2026-03-14 09:00:30+00' AND ts < '2026-03-14 09:01:00+00' ORDER BY ts, event_id")
tb_http GET "/api/v1/runtime/timeline?from=2026-03-14T09:00:30Z&to=2026-03-14T10:01:00%2B01:00" >/dev/null
tb_check "from is inclusive, to exclusive (offsets honoured)" "$(echo $exp_t)" "$(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
tb_http GET "/api/v1/runtime/timeline?artifact=$B&symbol=main&from=2026-03-14T09:00:00Z" >/dev/null
exp_c=$(tb_psql -c "SELECT count(*) FROM observations WHERE tenant = 'default' AND artifact_digest = '$B' AND leaf_symbol_id = 103")
tb_check "filters combine" "$exp_c" "$(tb_resp | jq -r '.items | length')"

exp_b=$(tb_psql -F ' ' -c "SELECT to_char(date_bin('1 minute', ts, 'epoch') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), sum(count), count(*) FROM observations WHERE tenant = 'default' GROUP BY 1 ORDER BY 1")
tb_http GET "/api/v1/runtime/timeline?bucket=1m" >/dev/null
tb_check "bucket=1m: samples and events per aligned minute" "$(echo $exp_b)" \
  "$(tb_resp | jq -r '.items[] | "\(.start) \(.count) \(.events)"' | tr '\n' ' ' | sed 's/ $//')"
tb_check "bucket=1m: bucket_seconds and end" "60 2026-03-14T09:01:00.000000Z" "$(tb_resp | jq -r '"\(.bucket_seconds) \(.items[0].end)"')"
exp_b10=$(tb_psql -c "SELECT DISTINCT to_char(date_bin('10 seconds', ts, 'epoch') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM observations WHERE tenant = 'default' ORDER BY 1")
cursor="" starts="" pages=0 c1=""
while :; do
  code=$(tb_http GET "/api/v1/runtime/timeline?bucket=10s&limit=5${cursor:+&cursor=$cursor}")
  [ "$code" = 200 ] || { tb_diag "bucket page $pages: $code $(tb_resp)"; break; }
  starts="$starts $(tb_resp | jq -r '.items[].start' | tr '\n' ' ')"
  pages=$((pages + 1))
  cursor=$(tb_resp | jq -r '.next_cursor // empty')
  [ -z "$c1" ] && c1=$cursor
  [ -n "$cursor" ] && [ $pages -lt 100 ] || break
done
tb_check "bucket pages continue with the next bucket, without gaps or repeats" "3 $(echo $exp_b10)" "$pages $(echo $starts)"

# ---- queries: hot symbols ---------------------------------------------------------------
hot() { tb_http GET "/api/v1/runtime/hot-symbols?$1" >/dev/null; tb_resp | jq -r '[.items[] | "\(.symbol // "-"):\(.self_count)/\(.total_count)"] | join(" ")'; }
tb_check "hot-symbols, all time (hour windows), by hits" \
  "SSL_read:1000/1000 SSL_read:108/111 main:8/12 do_syscall_64:8/12 ssl3_read_bytes:8/10" "$(hot '')"
tb_check "hot-symbols item fields" \
  "SSL_read 0000000000000065 aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11 libssl.so.3 pkg:deb/debian/libssl3@3.0.11 $B 2026-03-14T09:03:00.000000Z 2026-03-14T09:03:01.000000Z" \
  "$(tb_resp | jq -r '.items[0] | [.symbol, .symbol_id, .build_id, .module, .purl, .artifact_digest, .first_seen, .last_seen] | join(" ")')"
tb_check "hot-symbols artifact= filter" "SSL_read:108/111 main:8/12 do_syscall_64:8/12 ssl3_read_bytes:8/10" "$(hot "artifact=$A")"
tb_check "hot-symbols within a few minutes (minute windows); ties by id" \
  "main:8/12 do_syscall_64:8/12 ssl3_read_bytes:8/10 SSL_read:5/8" "$(hot "artifact=$A&from=2026-03-14T09:00:00Z&to=2026-03-14T09:03:00Z")"
tb_check "hot-symbols across whole hours (hour windows)" \
  "SSL_read:108/111 main:8/12 do_syscall_64:8/12 ssl3_read_bytes:8/10" "$(hot "artifact=$A&from=2026-03-14T08:59:30Z&to=2026-03-14T11:00:00Z")"
tb_check "hot-symbols with ragged ends (minute windows at both ends)" \
  "SSL_read:103/103" "$(hot "artifact=$A&from=2026-03-14T09:04:00Z&to=2026-03-14T10:31:00Z")"
tb_check "hot-symbols sort=recency" \
  "SSL_read:108/111 SSL_read:1000/1000 main:8/12 do_syscall_64:8/12 ssl3_read_bytes:8/10" "$(hot "sort=recency")"
tb_check "hot-symbols limit" "SSL_read:1000/1000 SSL_read:108/111" "$(hot "limit=2")"

# ---- queries: folded stacks -----------------------------------------------------------------
exp_f=$(tb_psql -F ' ' -c "SELECT CASE stack_id WHEN 5001 THEN 'main;ssl3_read_bytes;SSL_read' WHEN 5002 THEN 'main;do_syscall_64_[k]' ELSE 'main;libfoo.so+0x40' END, sum(count) FROM observations WHERE tenant = 'default' AND stack_id <> 0 GROUP BY stack_id ORDER BY 2 DESC, 1")
code=$(tb_http GET /api/v1/runtime/stacks.folded)
tb_check "stacks.folded: root-first lines with summed counts" "200 $(echo $exp_f)" "$code $(echo $(tb_resp))"
folded_sql="SELECT CASE stack_id WHEN 5001 THEN 'main;ssl3_read_bytes;SSL_read' WHEN 5002 THEN 'main;do_syscall_64_[k]' ELSE 'main;libfoo.so+0x40' END, sum(count) FROM observations WHERE tenant = 'default' AND stack_id <> 0"
exp_f=$(tb_psql -F ' ' -c "$folded_sql AND artifact_digest = '$A' AND leaf_symbol_id = 101 GROUP BY stack_id ORDER BY 2 DESC, 1")
tb_http GET "/api/v1/runtime/stacks.folded?artifact=$A&symbol=SSL_read" >/dev/null
tb_check "stacks.folded with filters" "$(echo $exp_f)" "$(echo $(tb_resp))"
tb_check "stacks.folded limit keeps the heaviest stack and says it truncated" "1 true" \
  "$(curl -s -D "$TB_TMP/hdr" "$TB_API/api/v1/runtime/stacks.folded?limit=1" | wc -l) $(tr -d '\r' <"$TB_TMP/hdr" | sed -n 's/^X-TB-Truncated: //p')"

# ---- bad parameters ---------------------------------------------------------------------------
bad() { # NAME PATH FRAGMENT
  local code msg
  code=$(tb_http GET "$2")
  msg=$(tb_resp | jq -r '"\(.error.code): \(.error.message)"' 2>/dev/null)
  case "$code $msg" in
    "400 invalid_parameter: "*"$3"*) tb_ok "400 for $1" ;;
    *) tb_fail "400 for $1"; tb_diag "expected: 400 invalid_parameter ... $3"; tb_diag "got:      $code $msg" ;;
  esac
}
bad "a malformed time" "/api/v1/runtime/timeline?from=yesterday" "from: 'yesterday' is not a time"
bad "an impossible date" "/api/v1/runtime/timeline?to=2026-02-30T00:00:00Z" "to: "
bad "from after to" "/api/v1/runtime/timeline?from=2026-03-14T10:00:00Z&to=2026-03-14T09:00:00Z" "must be before"
bad "a negative limit" "/api/v1/runtime/timeline?limit=-5" "limit"
bad "a huge limit" "/api/v1/runtime/hot-symbols?limit=99999999999999999999" "out of range 1..1000"
bad "limit=0" "/api/v1/runtime/timeline?limit=0" "out of range"
bad "an unknown sort" "/api/v1/runtime/hot-symbols?sort=popularity" "sort: 'popularity'"
bad "a cursor that is not ours" "/api/v1/runtime/timeline?cursor=abc" "cursor"
bad "a cursor of another query" "/api/v1/runtime/timeline?artifact=$A&cursor=$c1" "another query"
bad "an unknown parameter" "/api/v1/runtime/timeline?artifcat=$A" "unknown parameter 'artifcat'"
bad "a repeated parameter" "/api/v1/runtime/timeline?limit=1&limit=2" "more than once"
bad "a malformed digest" "/api/v1/runtime/timeline?artifact=sha256:xyz" "artifact"
bad "a bad bucket" "/api/v1/runtime/timeline?bucket=5x" "bucket"
bad "a broken %-escape" "/api/v1/runtime/timeline?symbol=%zz" "escape"
tb_check "SQL text in a filter is only a value" "200 0" \
  "$(tb_http GET "/api/v1/runtime/timeline?symbol=x%27%3B%20DROP%20TABLE%20observations%3B--") $(tb_resp | jq -r '.items | length')"
tb_check "observations survive" 48 "$(tb_psql -c 'SELECT count(*) FROM observations')"

# ---- Kafka down: never 202 ---------------------------------------------------------------------
tb_broker_ctl down 1 >/dev/null
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")
tb_check "broker down: 503 kafka_unavailable, not 202" "503 kafka_unavailable" "$code $(tb_resp | jq -r .error.code)"
tb_broker_ctl up 1 >/dev/null
ok=0
for _ in $(seq 1 60); do
  [ "$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")" = 202 ] && { ok=1; break; }
  sleep 0.5
done
tb_check "broker back: the retry is accepted" 1 "$ok"

code=$(tb_http GET /metrics)
tb_check "/metrics counts requests per route" "200 yes" \
  "$code $(tb_resp | grep -q 'tb_timeline_api_http_requests_total{route="timeline",class="2xx"}' && echo yes || echo no)"

kill -TERM "$TB_API_PID"
rc=0
wait "$TB_API_PID" || rc=$?
tb_check "SIGTERM: clean exit" 0 "$rc"
tb_finish
