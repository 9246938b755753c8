#!/usr/bin/env bash
# 105 — end to end, runtime disabled: with TB_RUNTIME_ENABLED=false in the
# environment and no broker and no PostgreSQL anywhere (the API is pointed at
# closed loopback ports), ingest answers 202 {"materialized": false} with the
# parsed event ids, and every query answers 200 with empty results.
#
# Bodies: a Tetragon process_kprobe of the demo binary, every Tetragon sample
# in ../shared/testdata/tetragon (that is a whole object stream), an artifact
# with a CycloneDX SBOM, a finding. Queries: every GET route of /openapi.json
# (templated paths filled with the finding's id) with and without parameters.
# The API process opens no TCP connection at all (ss), and nothing else runs.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$(dirname "$0")/../lib/api.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

SAMPLES="$TB_ROOT/../shared/testdata/tetragon"
closed_pg=$(tb_free_port)
closed_kafka=$(tb_free_port)
e2e_build_shop shop || { tb_fail "the demo binary builds"; tb_finish; }

if ! TB_RUNTIME_ENABLED=false tb_api_start api --pg "postgresql://tb_api@127.0.0.1:$closed_pg/tracebridge" \
  --brokers "127.0.0.1:$closed_kafka"; then
  tb_fail "the API starts with TB_RUNTIME_ENABLED=false, no broker, no PostgreSQL"; tb_finish
fi
tb_ok "the API starts with TB_RUNTIME_ENABLED=false, no broker, no PostgreSQL"
tb_check "nothing listens on the broker and PostgreSQL ports" "" \
  "$(ss -Htln "( sport = :$closed_pg or sport = :$closed_kafka )")"
tb_check "/readyz: ready, runtime disabled" "200 true false" \
  "$(tb_http GET /readyz) $(tb_resp | jq -r '"\(.ready) \(.runtime_enabled)"')"

# ---- ingest ---------------------------------------------------------------------------------
jq -n -c --arg m "$E2E_MODULE_shop" '{node: "e2e-node-5", time: "2026-03-14T13:00:00Z", exec_id: "e2e-node-5:1:42",
  pid: 42, binary: $m, function: "__x64_sys_write", kernel: [{symbol: "ksys_write", offset: 12}],
  user: [{fn: "write_receipt", delta: 61}, {fn: "main", delta: 100}]}' | e2e_kprobes shop >"$TB_TMP/kprobe.json"
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TB_TMP/kprobe.json")
tb_check "a kprobe trace: 202, accepted, an event id, not materialized" "202 1 1 false" \
  "$code $(tb_resp | jq -r '"\(.accepted) \(.event_ids | length) \(.materialized)"')"
n_ok=0 bad=""
for f in "$SAMPLES"/*.json "$SAMPLES"/*.jsonl; do
  code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$f")
  if [ "$code" = 202 ] && [ "$(tb_resp | jq -r .materialized)" = false ]; then
    n_ok=$((n_ok + 1))
  else
    bad="$bad $(basename "$f"):$code"
  fi
done
tb_check "every Tetragon sample file: 202, not materialized" "" "${bad# }"
tb_diag "$n_ok sample files accepted"
e2e_artifact "sha256:$E2E_SHA_shop" shop pkg:generic/tb-e2e/shop@1.0.0 "$E2E_MODULE_shop" "$E2E_BID_shop" >"$TB_TMP/artifact.json"
code=$(tb_http POST /api/v1/artifacts --data-binary @"$TB_TMP/artifact.json")
tb_check "an artifact with a CycloneDX SBOM: 202, not materialized" "202 false sha256:$E2E_SHA_shop" \
  "$code $(tb_resp | jq -r '"\(.materialized) \(.digest)"')"
code=$(tb_http POST /api/v1/findings --data-binary '{"id":"F-E2E-105","vuln_id":"CVE-2099-0105","purl":"pkg:generic/tb-e2e/shop@1.0.0","symbols":["write_receipt"]}')
tb_check "a finding: 202, not materialized" "202 false" "$code $(tb_resp | jq -r .materialized)"
tb_check "a malformed body is still a 400" "400 invalid_body" \
  "$(tb_http POST /api/v1/runtime/traces --data-binary '{"process_kprobe": 7}') $(tb_resp | jq -r .error.code)"

# ---- every query: 200 and empty ---------------------------------------------------------------
tb_http GET /openapi.json >/dev/null
tb_resp | jq -r '.paths | to_entries[] | select(.value.get) | .key | select(startswith("/api/"))' >"$TB_TMP/routes.txt"
tb_check "/openapi.json lists the query routes" "yes" "$(grep -q timeline "$TB_TMP/routes.txt" && grep -q hot-symbols "$TB_TMP/routes.txt" && echo yes)"
bad=""
evidence=""
while read -r route; do
  path=$(sed 's/{[^}]*}/F-E2E-105/g' <<<"$route")
  for q in "" "?from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z"; do
    # snapshot/witness take asOf, finding traces no range: the bare route only
    case "$path" in */snapshot | */witness | /api/v1/findings/*/traces) [ -n "$q" ] && continue ;; esac
    code=$(curl -s -o "$TB_TMP/resp" -D "$TB_TMP/hdr" -w '%{http_code}' "$TB_API$path$q")
    body=$(cat "$TB_TMP/resp")
    case "$path" in
      */snapshot | */witness) # evidence of nothing is not evidence: 503, documented
        evidence="$evidence $code:$(jq -r .error.code <<<"$body")"
        continue ;;
    esac
    if [ "$code" != 200 ]; then
      bad="$bad $path$q:$code"
    elif [ -z "$body" ]; then
      # text routes (stacks.folded): an empty body and the header say "disabled"
      tr -d '\r' <"$TB_TMP/hdr" | grep -q '^X-TB-Runtime-Enabled: false' || bad="$bad $path$q:no-header"
    elif ! jq -e '.runtime_enabled == false and ([.. | arrays | length] | add // 0) == 0' <<<"$body" >/dev/null; then
      bad="$bad $path$q:$(head -c 200 <<<"$body")"
    fi
  done
done <"$TB_TMP/routes.txt"
tb_check "every GET query route of the API: 200, empty, runtime_enabled false ($(grep -c . "$TB_TMP/routes.txt") routes)" "" "${bad# }"
tb_check "the finding's snapshot and witness routes: 503 runtime_disabled (no evidence to sign)" \
  "503:runtime_disabled 503:runtime_disabled" "${evidence# }"

# ---- nothing connected anywhere ------------------------------------------------------------------
tb_check "the API process has no outgoing TCP connection" "" \
  "$(ss -Htnp state established 2>/dev/null | grep "pid=$TB_API_PID," | awk -v p=":${TB_API##*:}" '$3 !~ p"$"')"
tb_finish
