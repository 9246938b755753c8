#!/usr/bin/env bash
# 041 — tb-timeline-api with a tokens file: who may call what, and tenants
# never see each other's data.
#
# Missing or unknown bearer tokens are 401 (with WWW-Authenticate), a token
# without the route's scope is 403, ops routes need no token. Two tenants
# share one database (tests/data/api/queries-fixture.sql): each token sees
# only its tenant's timeline, hot symbols and stacks, a cursor of one
# tenant is refused for the other, and ingested events carry the token's
# tenant. A tokens file with a mistake stops the service with exit 2 and a
# message naming the line.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/api.sh"

TETRA="$TB_ROOT/tests/data/tetragon"
A="sha256:$(printf 'a%.0s' {1..64})"
RW=tok-default-rw-0123456789
RO=tok-default-ro-0123456789
OTHER=tok-other-all-0123456789
FIND=tok-other-findings-01234

cat >"$TB_TMP/tokens" <<EOF
# token                    tenant   scopes
$RW   default  runtime:read,runtime:write
$RO   default  runtime:read

$OTHER   other    *
$FIND   other    findings:write
EOF

if ! tb_broker_start 1; then tb_fail "dev broker starts"; tb_finish; fi
if ! tb_pg_start || ! tb_pg_migrate; then tb_fail "PostgreSQL starts and migrates"; tb_finish; fi
tb_psql -f "$TB_ROOT/tests/data/api/queries-fixture.sql" >/dev/null || tb_fail "fixture rows inserted"

# -- a broken tokens file is a configuration error ------------------------------
printf '%s default runtime:fly\n' "$RW" >"$TB_TMP/bad-tokens"
rc=0
"$TB_BIN/tb-timeline-api" --runtime-enabled=false --listen 127.0.0.1:0 --tokens-file "$TB_TMP/bad-tokens" \
  >"$TB_TMP/bad.out" 2>"$TB_TMP/bad.err" || rc=$?
tb_check "unknown scope in the tokens file: exit 2" 2 "$rc"
if grep -q "bad-tokens line 1: unknown scope 'runtime:fly'" "$TB_TMP/bad.err"; then
  tb_ok "the message names the file, the line and the scope"
else
  tb_fail "the message names the file, the line and the scope"; sed 's/^/#   /' "$TB_TMP/bad.err" | head -5
fi
printf 'short default runtime:read\n' >"$TB_TMP/short-tokens"
rc=0
"$TB_BIN/tb-timeline-api" --runtime-enabled=false --listen 127.0.0.1:0 --tokens-file "$TB_TMP/short-tokens" \
  >/dev/null 2>"$TB_TMP/short.err" || rc=$?
tb_check "a token shorter than 16 characters: exit 2" 2 "$rc"

if ! tb_api_start api --pg "$(tb_pg_url tracebridge tb_api)" --brokers "$TB_BROKERS" --tokens-file "$TB_TMP/tokens"; then
  tb_fail "tb-timeline-api starts with a tokens file"; tb_finish
fi
tb_ok "tb-timeline-api starts with a tokens file"

as() { # TOKEN METHOD PATH [CURL ARGS]
  local tok=$1 method=$2 path=$3
  shift 3
  tb_http "$method" "$path" -H "Authorization: Bearer $tok" "$@"
}
T=/api/v1/runtime/timeline

code=$(tb_http GET $T)
tb_check "no token: 401 unauthorized" "401 unauthorized" "$code $(tb_resp | jq -r .error.code)"
tb_check "401 says how to authenticate" 'WWW-Authenticate: Bearer realm="tracebridge"' \
  "$(curl -s -D - -o /dev/null "$TB_API$T" | tr -d '\r' | grep '^WWW-Authenticate')"
tb_check "unknown token: 401" "401" "$(tb_http GET $T -H 'Authorization: Bearer not-a-token-0123456789')"
tb_check "not a Bearer header: 401" "401" "$(tb_http GET $T -H "Authorization: Basic $RW")"
tb_check "ingest without a token: 401" "401" "$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")"
tb_check "ops routes need no token" "200 200 200 200" \
  "$(tb_http GET /healthz) $(tb_http GET /readyz) $(tb_http GET /metrics) $(tb_http GET /openapi.json)"

code=$(as "$RO" POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")
tb_check "read-only token posting traces: 403 naming the scope" "403 forbidden runtime:write" \
  "$code $(tb_resp | jq -r .error.code) $(tb_resp | grep -o 'runtime:write')"
tb_check "runtime:write does not cover findings:write" "403" \
  "$(as "$RW" POST /api/v1/findings --data-binary '{"id":"F-9","vuln_id":"CVE-2024-0001","purl":"pkg:generic/app@1.0"}')"
tb_check "findings-only token cannot read the timeline" "403" "$(as "$FIND" GET $T)"
tb_check "findings-only token registers a finding" "202" \
  "$(as "$FIND" POST /api/v1/findings --data-binary '{"id":"F-9","vuln_id":"CVE-2024-0001","purl":"pkg:generic/app@1.0"}')"
tb_check "read-only token reads" "200" "$(as "$RO" GET $T)"

# -- tenant isolation ----------------------------------------------------------------
exp_def=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'default' ORDER BY ts, event_id")
exp_oth=$(tb_psql -c "SELECT encode(event_id, 'hex') FROM observations WHERE tenant = 'other' ORDER BY ts, event_id")
as "$RO" GET "$T?limit=1000" >/dev/null
tb_check "tenant default sees exactly its own events" "$(echo $exp_def)" "$(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
as "$OTHER" GET "$T?limit=1000" >/dev/null
tb_check "tenant other sees exactly its own events" "$(echo $exp_oth)" "$(tb_resp | jq -r '.items[].event_id' | tr '\n' ' ' | sed 's/ $//')"
as "$OTHER" GET "$T?artifact=$A&symbol=SSL_read&limit=1000" >/dev/null
tb_check "filters stay within the tenant" "12 node-9" "$(tb_resp | jq -r '"\(.items | length) \([.items[].node] | unique | join(","))"')"
as "$OTHER" GET "/api/v1/runtime/hot-symbols" >/dev/null
tb_check "hot symbols of tenant other only" "main:5000/5000" \
  "$(tb_resp | jq -r '[.items[] | "\(.symbol):\(.self_count)/\(.total_count)"] | join(" ")')"
as "$RO" GET "/api/v1/runtime/hot-symbols" >/dev/null
tb_check "hot symbols of tenant default do not include other's" "no" \
  "$(tb_resp | jq -r '[.items[].self_count] | any(. == 5000)' | sed 's/false/no/;s/true/yes/')"
as "$OTHER" GET /api/v1/runtime/stacks.folded >/dev/null
tb_check "folded stacks of tenant other only" "main;ssl3_read_bytes;SSL_read 84" "$(echo $(tb_resp))"

as "$RO" GET "$T?limit=2" >/dev/null
cursor=$(tb_resp | jq -r .next_cursor)
code=$(as "$OTHER" GET "$T?limit=2&cursor=$cursor")
tb_check "a cursor of tenant default is refused for tenant other" "400 invalid_parameter" "$code $(tb_resp | jq -r .error.code)"
tb_check "and still works for its own tenant" "200 2" "$(as "$RO" GET "$T?limit=2&cursor=$cursor") $(tb_resp | jq -r '.items | length')"

# -- ingest carries the token's tenant --------------------------------------------------
code=$(as "$OTHER" POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")
id_other=$(tb_resp | jq -r '.event_ids[0]')
code2=$(as "$RW" POST /api/v1/runtime/traces --data-binary @"$TETRA/v17-kprobe-stacks.json")
id_def=$(tb_resp | jq -r '.event_ids[0]')
tb_check "both tenants may send the same Tetragon event" "202 202" "$code $code2"
timeout 60 "$TB_BIN/tb-rtevent" events -G tenant-check --exit-after 2 >"$TB_TMP/raw.jsonl" 2>"$TB_TMP/raw.err"
tb_check "each record carries its sender's tenant" "$id_def default $id_other other" \
  "$(jq -r '"\(.event.event_id) \(.event.tenant)"' "$TB_TMP/raw.jsonl" | sort -k2 | tr '\n' ' ' | sed 's/ $//')"

tb_finish
