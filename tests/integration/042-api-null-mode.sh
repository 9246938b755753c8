#!/usr/bin/env bash
# 042 — tb-timeline-api in null mode (TB_RUNTIME_ENABLED=false) and its
# start-up failures.
#
# With nothing running (--pg and --brokers name closed ports, or no --pg at
# all) the API starts, ingest answers 202 {"materialized": false} with the
# event ids it parsed (bodies are still validated: a malformed one is 400),
# and every query answers 200 with empty results and "runtime_enabled":
# false. With a real broker and PostgreSQL named, the null-mode API still
# opens no connection to either (checked with ss). With the runtime enabled
# and PostgreSQL or Kafka unreachable, the API exits 3. HTTP-level limits
# hold in null mode too (JSON 413, HEAD, chunked bodies).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/api.sh"

TETRA="$TB_ROOT/tests/data/tetragon"
A="sha256:$(printf 'a%.0s' {1..64})"
closed_pg=$(tb_free_port)
closed_kafka=$(tb_free_port)

if ! TB_RUNTIME_ENABLED=false tb_api_start null --pg "postgresql://tb_api@127.0.0.1:$closed_pg/tracebridge" \
  --brokers "127.0.0.1:$closed_kafka" --max-body-bytes 65536; then
  tb_fail "null mode starts with PostgreSQL and Kafka down"; tb_finish
fi
tb_ok "null mode starts with PostgreSQL and Kafka down"

tb_check "/readyz: ready, runtime disabled" "200 true false" \
  "$(tb_http GET /readyz) $(tb_resp | jq -r '"\(.ready) \(.runtime_enabled)"')"
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/shapes.jsonl")
tb_check "traces: 202, parsed, not materialized" "202 8 8 2 false" \
  "$code $(tb_resp | jq -r '"\(.accepted) \(.event_ids | length) \(.skipped) \(.materialized)"')"
tb_check "traces: malformed bodies are still 400" "400" "$(tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/malformed.jsonl")"
code=$(tb_http POST /api/v1/artifacts --data-binary "{\"digest\":\"$A\",\"binaries\":[{\"path\":\"/usr/bin/app\",\"build_id\":\"bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22\"}]}")
tb_check "artifacts: 202, not materialized" "202 false" "$code $(tb_resp | jq -r .materialized)"
code=$(tb_http POST /api/v1/findings --data-binary '{"id":"F-1","vuln_id":"CVE-2024-1234","purl":"pkg:generic/app@1.0"}')
tb_check "findings: 202, not materialized" "202 false" "$code $(tb_resp | jq -r .materialized)"

code=$(tb_http GET "/api/v1/runtime/timeline?artifact=$A&from=now-1h")
tb_check "timeline: 200, empty, runtime_enabled false" "200 0 null false" \
  "$code $(tb_resp | jq -r '"\(.items | length) \(.next_cursor) \(.runtime_enabled)"')"
code=$(tb_http GET "/api/v1/runtime/timeline?bucket=1h")
tb_check "timeline buckets: 200, empty" "200 0 false" "$code $(tb_resp | jq -r '"\(.items | length) \(.runtime_enabled)"')"
code=$(tb_http GET "/api/v1/runtime/hot-symbols?sort=recency")
tb_check "hot-symbols: 200, empty" "200 0 false" "$code $(tb_resp | jq -r '"\(.items | length) \(.runtime_enabled)"')"
tb_check "stacks.folded: 200, empty body, X-TB-Runtime-Enabled: false" "200 0 false" \
  "$(curl -s -o "$TB_TMP/folded" -D "$TB_TMP/hdr" -w '%{http_code}' "$TB_API/api/v1/runtime/stacks.folded") $(wc -c <"$TB_TMP/folded") $(tr -d '\r' <"$TB_TMP/hdr" | sed -n 's/^X-TB-Runtime-Enabled: //p')"
tb_check "parameters are still validated" "400" "$(tb_http GET "/api/v1/runtime/timeline?limit=-1")"

# -- HTTP limits ------------------------------------------------------------------------
head -c 70000 /dev/zero | tr '\0' ' ' >"$TB_TMP/big.json"
code=$(tb_http POST /api/v1/runtime/traces --data-binary @"$TB_TMP/big.json")
tb_check "body over --max-body-bytes: JSON 413" "413 payload_too_large" "$code $(tb_resp | jq -r .error.code)"
code=$(tb_http POST /api/v1/runtime/traces -H 'Transfer-Encoding: chunked' --data-binary @"$TB_TMP/big.json")
tb_check "chunked body over the limit: 413 (from libevent)" "413" "$code"
tb_check "HEAD: the GET headers, no body" "200 15 0" \
  "$(curl -s -I -o /dev/null -D "$TB_TMP/head" -w '%{http_code}' "$TB_API/healthz") $(tr -d '\r' <"$TB_TMP/head" | sed -n 's/^Content-Length: //p') $(curl -s --head "$TB_API/healthz" | sed '1,/^\r$/d' | wc -c)"
long=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' "$TB_API/api/v1/runtime/timeline?symbol=$long")
case "$code" in 4??) tb_ok "a request line over --max-header-bytes is refused ($code)" ;; *) tb_fail "a request line over --max-header-bytes is refused (got $code)" ;; esac
tb_check "the API still answers" 200 "$(tb_http GET /healthz)"
tb_stop "$TB_API_PID"

if TB_RUNTIME_ENABLED=false tb_api_start nopg; then tb_ok "null mode needs no --pg"; else tb_fail "null mode needs no --pg"; fi
tb_stop "$TB_API_PID"

# -- null mode opens no connection even when both are up ----------------------------------
if ! tb_broker_start 1; then tb_fail "dev broker starts"; tb_finish; fi
if ! tb_pg_start; then tb_fail "PostgreSQL starts"; tb_finish; fi
kport=${TB_BROKERS##*:}
if ! tb_api_start null2 --runtime-enabled=false --pg "$TB_PG_URL" --brokers "$TB_BROKERS"; then
  tb_fail "null mode starts next to a running broker and PostgreSQL"; tb_finish
fi
tb_http POST /api/v1/runtime/traces --data-binary @"$TETRA/shapes.jsonl" >/dev/null
tb_http GET /api/v1/runtime/timeline >/dev/null
tb_http GET /api/v1/runtime/hot-symbols >/dev/null
sleep 1
deps_conns() { # connections of $TB_API_PID to PostgreSQL or Kafka
  ss -Htanp 2>/dev/null | grep "pid=$TB_API_PID," | awk -v pg=":$TB_PG_PORT" -v k=":$kport" '$5 ~ pg"$" || $5 ~ k"$"' | wc -l
}
tb_check "no connection from the null-mode API to PostgreSQL or Kafka" 0 "$(deps_conns)"
tb_stop "$TB_API_PID"
# The same check sees the connections of an API with the runtime enabled.
if tb_api_start enabled --pg "$TB_PG_URL" --brokers "$TB_BROKERS" --threads 1; then
  n=$(deps_conns)
  if [ "$n" -ge 2 ]; then tb_ok "the check sees an enabled API's connections ($n)"; else tb_fail "the check sees an enabled API's connections (got $n)"; fi
  tb_stop "$TB_API_PID"
else
  tb_fail "the API starts with the runtime enabled"
fi

# -- runtime enabled: dependencies must be reachable ------------------------------------------
rc=0
timeout 60 "$TB_BIN/tb-timeline-api" --listen 127.0.0.1:0 --pg "postgresql://tb_api@127.0.0.1:$closed_pg/tracebridge" \
  --pg-connect-wait 1s --brokers "$TB_BROKERS" >"$TB_TMP/nopg.out" 2>"$TB_TMP/nopg.err" || rc=$?
tb_check "runtime enabled, PostgreSQL unreachable: exit 3" 3 "$rc"
rc=0
timeout 60 "$TB_BIN/tb-timeline-api" --listen 127.0.0.1:0 --pg "$TB_PG_URL" --brokers "127.0.0.1:$closed_kafka" \
  -X socket.timeout.ms=2000 >"$TB_TMP/nokafka.out" 2>"$TB_TMP/nokafka.err" || rc=$?
tb_check "runtime enabled, Kafka unreachable: exit 3" 3 "$rc"
rc=0
"$TB_BIN/tb-timeline-api" --listen 127.0.0.1:0 >/dev/null 2>"$TB_TMP/nopgopt.err" || rc=$?
tb_check "runtime enabled without --pg: configuration error (exit 2)" 2 "$rc"

tb_finish
