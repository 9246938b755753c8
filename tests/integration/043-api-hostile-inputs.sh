#!/usr/bin/env bash
# 043 — tb-timeline-api under hostile input, with the dev broker and a private
# PostgreSQL (the API connects as the tables' owner, so an injected statement
# could really change them).
#
# Every answer below is checked for its status code and, where our handler
# answers, for the JSON error code: oversized bodies (declared: JSON 413),
# over-long request targets (JSON 414), oversized headers (libevent's own
# 413, documented), invalid UTF-8 in query parameters and in JSON bodies
# (400 naming the parameter / the position), SQL meta-characters in every
# string parameter (answered as data: 200 with no rows, or a 400 from the
# parameter's syntax check; the tables are unchanged afterwards), huge,
# negative and non-numeric limits, reversed, far-past and far-future ranges,
# tiny buckets over a wide range. Slow clients: a connection that sends its
# head one byte every 0.3 s is closed by --request-deadline (2 s here) while
# other clients are answered meanwhile; at --max-connections the server
# stops accepting (clients wait, they are not refused) and continues once
# the deadline has closed the idle connections. At the end the API is
# healthy and still answers a query.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/api.sh"

TL=/api/v1/runtime/timeline
HOT=/api/v1/runtime/hot-symbols
FOLD=/api/v1/runtime/stacks.folded
INJ="'; DROP TABLE observations; --"
INJ_Q=$(jq -rn --arg v "$INJ" '$v | @uri')

if ! tb_broker_start 1; then tb_fail "dev broker starts"; tb_finish; fi
if ! tb_pg_start || ! tb_pg_migrate; then tb_fail "PostgreSQL starts and migrates"; tb_finish; fi
tb_psql -f "$TB_ROOT/tests/data/api/queries-fixture.sql" >/dev/null || tb_fail "fixture rows inserted"
if ! tb_api_start api --pg "$TB_PG_URL" --brokers "$TB_BROKERS" --threads 1 \
  --max-body-bytes 65536 --max-header-bytes 8192 --max-uri-bytes 2048 \
  --request-deadline 2s --request-timeout 20s --max-connections 4 \
  --admin-addr 127.0.0.1:0 --admin-port-file "$TB_TMP/admin.port"; then
  tb_fail "tb-timeline-api starts"; tb_finish
fi
tb_ok "tb-timeline-api starts (owner role, 1 thread, 2 s request deadline, 4 connections)"
ADMIN="http://127.0.0.1:$(cat "$TB_TMP/admin.port")"

tables() { # row counts of every table the API reads, one line
  tb_psql -Atc "SELECT (SELECT count(*) FROM observations) || ' ' || (SELECT count(*) FROM symbols)
    || ' ' || (SELECT count(*) FROM stacks) || ' ' || (SELECT count(*) FROM hot_symbols)
    || ' ' || (SELECT count(*) FROM artifacts) || ' ' || (SELECT count(*) FROM findings)"
}
metric() { # NAME -> value on the admin port (0 when absent)
  curl -s "$ADMIN/metrics" | awk -v n="tb_timeline_api_$1" '$1 == n {print $2; f = 1} END {if (!f) print 0}'
}
metric_above() { [ "$(metric "$1")" -gt "$2" ]; } # NAME VALUE: for tb_wait_for (re-read each poll)
# expect NAME STATUS ERROR_CODE METHOD PATH [CURL ARGS...]: status and
# .error.code of the answer ("-" = not JSON, e.g. libevent's own page).
expect() {
  local name=$1 want=$2 ecode=$3 code got; shift 3
  code=$(tb_http "$@")
  got=$(tb_resp | jq -r '.error.code // "none"' 2>/dev/null || echo -)
  [ -n "$got" ] || got=-
  tb_check "$name" "$want $ecode" "$code $got"
}

before=$(tables)
tb_diag "tables before: $before"

# ---- sizes -----------------------------------------------------------------------
head -c 200000 /dev/zero | tr '\0' 'x' >"$TB_TMP/big"
expect "body over --max-body-bytes (Content-Length) is a JSON 413" 413 payload_too_large \
  POST /api/v1/runtime/traces -H 'Content-Type: application/json' --data-binary @"$TB_TMP/big"
code=$(tb_http POST /api/v1/runtime/traces -H 'Transfer-Encoding: chunked' --data-binary @"$TB_TMP/big")
tb_check "chunked body over the limit: libevent's 413 (documented)" 413 "$code"
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
expect "request target over --max-uri-bytes is a JSON 414" 414 uri_too_long GET "$TL?symbol=$long"
expect "long path (404 territory) over the limit is a JSON 414 too" 414 uri_too_long GET "/$long"
code=$(tb_http GET /healthz -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' 'b')")
tb_check "headers over --max-header-bytes: libevent's own 400 (documented)" 400 "$code"
expect "a target just under the limit is served normally" 200 none GET "$TL?symbol=$(head -c 1900 /dev/zero | tr '\0' 'c')"

# ---- invalid UTF-8 -------------------------------------------------------------------
expect "invalid UTF-8 in symbol= is a 400" 400 invalid_parameter GET "$TL?symbol=%C3%28"
tb_check "the 400 names the parameter" "symbol: invalid UTF-8 at byte 0 of the decoded value" "$(tb_resp | jq -r '.error.message')"
expect "overlong UTF-8 in purl= is a 400" 400 invalid_parameter GET "$TL?purl=%C0%AF"
expect "UTF-16 surrogate in artifact= of hot-symbols is a 400" 400 invalid_parameter GET "$HOT?artifact=%ED%A0%80"
expect "invalid UTF-8 in a parameter name is a 400" 400 invalid_parameter GET "$TL?%FF=1"
printf '{"id":"f-1","vuln_id":"CVE-2024-1","purl":"pkg:generic/x\xff@1"}' >"$TB_TMP/bad-utf8.json"
expect "invalid UTF-8 in a JSON body is a 400" 400 invalid_body \
  POST /api/v1/findings -H 'Content-Type: application/json' --data-binary @"$TB_TMP/bad-utf8.json"
tb_check "the 400 says where and names the member" \
  'body: invalid UTF-8 at byte 56 (line 1, column 57) in the value of member "purl"' "$(tb_resp | jq -r '.error.message')"
printf '{"events":[{"ts":"2026-03-14T09:00:00Z","node":"n\xc3","kind":"sample"}]}' >"$TB_TMP/bad-utf8-traces.json"
code=$(tb_http POST /api/v1/runtime/traces -H 'Content-Type: application/json' --data-binary @"$TB_TMP/bad-utf8-traces.json")
tb_check "invalid UTF-8 in a trace body is a 400 naming the member" "400 invalid_body true" \
  "$code $(tb_resp | jq -r '.error.code, (.error.message | test("UTF-8.*member \"node\""))' | tr '\n' ' ' | sed 's/ $//')"
printf '{"id":"f-2","vuln_id":"CVE-2024-2","purl":"pkg:generic/x@1","symbols":["ok","\xe2\x82"]}' >"$TB_TMP/bad-utf8-2.json"
code=$(tb_http POST /api/v1/findings -H 'Content-Type: application/json' --data-binary @"$TB_TMP/bad-utf8-2.json")
tb_check "truncated UTF-8 in an array element is a 400 with the position" \
  "400 body: invalid UTF-8 at byte 77 (line 1, column 78)" "$code $(tb_resp | jq -r '.error.message')"

# ---- SQL meta-characters are data ---------------------------------------------------------
code=$(tb_http GET "$TL?symbol=$INJ_Q")
tb_check "symbol= \"$INJ\" is data: 200 with no items" "200 0" "$code $(tb_resp | jq '.items | length')"
code=$(tb_http GET "$TL?purl=pkg:generic/x%27OR%271%27%3D%271@1")
tb_check "purl= with quotes (a valid package URL) is data: 200 with no items" "200 0" "$code $(tb_resp | jq '.items | length')"
expect "purl= with spaces and ';' fails the package URL syntax: 400" 400 invalid_parameter GET "$TL?purl=$INJ_Q"
code=$(tb_http GET "$FOLD?symbol=x%27)%20OR%201%3D1%20--")
tb_check "stacks.folded with quote/OR 1=1 in symbol: 200, empty" "200 0" "$code $(tb_resp | wc -c | tr -d ' ')"
expect "artifact= with SQL meta-characters: 400 (not a digest)" 400 invalid_parameter GET "$HOT?artifact=$INJ_Q"
expect "cursor= with SQL meta-characters: 400" 400 invalid_parameter GET "$TL?cursor=$INJ_Q"
expect "sort= with SQL meta-characters: 400" 400 invalid_parameter GET "$HOT?sort=hits%3B%20DROP%20TABLE%20symbols"
expect "finding id with SQL meta-characters: 400" 400 invalid_parameter GET "/api/v1/findings/$INJ_Q/runtime/timeline"
expect "finding id with a quote in score: 400" 400 invalid_parameter GET "/api/v1/findings/f%27--/runtime/score"
expect "artifact path with a quote: 400 or 404 as JSON" 404 not_found GET "/api/v1/artifacts/sha256:%27%20OR%20%271%27%3D%271"
printf '{"id":"f-inj","vuln_id":"%s","purl":"pkg:generic/x@1"}' "$INJ" >"$TB_TMP/inj-finding.json"
code=$(tb_http POST /api/v1/findings -H 'Content-Type: application/json' --data-binary @"$TB_TMP/inj-finding.json")
tb_check "a finding whose vuln_id holds SQL is accepted as data (or refused by syntax)" 1 \
  "$(case $code in 202 | 400) echo 1 ;; *) echo "$code" ;; esac)"

# ---- limits and ranges -------------------------------------------------------------------
expect "limit=0 is a 400" 400 invalid_parameter GET "$TL?limit=0"
expect "limit=-1 is a 400" 400 invalid_parameter GET "$TL?limit=-1"
expect "limit over --max-limit is a 400" 400 invalid_parameter GET "$TL?limit=1001"
expect "limit=99999999999999999999999 is a 400" 400 invalid_parameter GET "$TL?limit=99999999999999999999999"
expect "limit=abc is a 400" 400 invalid_parameter GET "$TL?limit=abc"
expect "limit=1e3 is a 400" 400 invalid_parameter GET "$TL?limit=1e3"
expect "limit= (empty) is a 400" 400 invalid_parameter GET "$TL?limit="
expect "stacks.folded limit=-5 is a 400" 400 invalid_parameter GET "$FOLD?limit=-5"
expect "from after to is a 400" 400 invalid_parameter GET "$TL?from=2026-03-14T10:00:00Z&to=2026-03-14T09:00:00Z"
expect "from equal to to is a 400" 400 invalid_parameter GET "$TL?from=2026-03-14T10:00:00Z&to=2026-03-14T10:00:00Z"
expect "year 99999 is a 400" 400 invalid_parameter GET "$TL?to=99999-01-01T00:00:00Z"
expect "year 2263 (past int64 nanoseconds) is a 400" 400 invalid_parameter GET "$TL?to=2263-01-01T00:00:00Z"
tb_check "the 400 gives the supported range" 1 "$(tb_resp | jq -r .error.message | grep -c 'outside the supported range 1970')"
expect "year 1969 is a 400" 400 invalid_parameter GET "$TL?from=1969-12-31T23:59:59Z"
expect "month 13 is a 400" 400 invalid_parameter GET "$TL?from=2026-13-01T00:00:00Z"
expect "now-99999d is a 400" 400 invalid_parameter GET "$TL?from=now-99999d"
expect "now-1000000000000000000s is a 400" 400 invalid_parameter GET "$TL?from=now-1000000000000000000s"
code=$(tb_http GET "$TL?from=1970-01-01T00:00:00Z&to=2262-01-01T00:00:00Z&limit=5")
tb_check "the widest valid range is answered (200, 5 items)" "200 5" "$code $(tb_resp | jq '.items | length')"
code=$(tb_http GET "$TL?from=1970-01-01T00:00:00Z&to=2262-01-01T00:00:00Z&bucket=1s&limit=1000")
tb_check "1 s buckets over 292 years: only non-empty buckets (200, 12)" "200 12" \
  "$code $(tb_resp | jq '.items | length')"
expect "bucket=0s is a 400" 400 invalid_parameter GET "$TL?bucket=0s"
expect "bucket=-1m is a 400" 400 invalid_parameter GET "$TL?bucket=-1m"
expect "bucket=400d (over 366 days) is a 400" 400 invalid_parameter GET "$TL?bucket=400d"
expect "bucket=99999999999999999999s is a 400" 400 invalid_parameter GET "$TL?bucket=99999999999999999999s"
expect "unknown parameter is a 400" 400 invalid_parameter GET "$TL?limt=5"
expect "repeated parameter is a 400" 400 invalid_parameter GET "$TL?limit=5&limit=6"
expect "a broken %-escape is a 400" 400 invalid_parameter GET "$TL?symbol=%G1"
expect "a %00 byte is a 400" 400 invalid_parameter GET "$TL?symbol=a%00b"

after=$(tables)
tb_check "tables unchanged by all of the above" "$before" "$after"
tb_check "observations still exists" t "$(tb_psql -Atc "SELECT to_regclass('public.observations') IS NOT NULL")"

# ---- slow client (slowloris) -------------------------------------------------------------
closed0=$(metric http_connections_deadline_total)
exec {slow}<>"/dev/tcp/127.0.0.1/${TB_API##*:}"
( # exits 3 when a write fails (the server closed), 0 after sending everything (60 s)
  trap '' PIPE
  printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&"$slow" 2>/dev/null || exit 3
  for _ in $(seq 1 200); do printf 'a' >&"$slow" 2>/dev/null || exit 3; sleep 0.3; done
  exit 0
) &
writer=$!
TB_PIDS+=("$writer")
served=0
for _ in 1 2 3; do [ "$(tb_http GET /healthz)" = 200 ] && served=$((served + 1)); done
tb_check "other clients are answered while the slow client trickles its head" 3 "$served"
if timeout 30 cat <&"$slow" >"$TB_TMP/slow.out"; then
  tb_ok "the slow connection is closed by the server (--request-deadline)"
else
  tb_fail "the slow connection is closed by the server (--request-deadline)"
fi
wait "$writer"
tb_check "the server closed it while the client was still sending (its write failed)" 3 "$?"
keep=() # the writer is reaped: cleanup must not signal its PID, which may be reused
for p in "${TB_PIDS[@]}"; do [ "$p" = "$writer" ] || keep+=("$p"); done
TB_PIDS=("${keep[@]}")
exec {slow}>&-
tb_diag "slow client got: $(head -c 200 "$TB_TMP/slow.out" | tr '\r\n' '  ')"
tb_wait_for 10 metric_above http_connections_deadline_total "$closed0" &&
  tb_ok "counted in http_connections_deadline_total" || tb_fail "counted in http_connections_deadline_total"

# ---- connection bound ------------------------------------------------------------------
paused0=$(metric http_accept_paused_total)
idle=()
for _ in 1 2 3 4; do exec {fd}<>"/dev/tcp/127.0.0.1/${TB_API##*:}"; idle+=("$fd"); done
tb_wait_for 20 metric_above http_accept_paused_total "$paused0" &&
  tb_ok "at --max-connections the server stops accepting" || tb_fail "at --max-connections the server stops accepting"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 40 "$TB_API/healthz")
tb_check "a client beyond the bound waits and is answered once the idle ones are closed" 200 "$code"
for fd in "${idle[@]}"; do exec {fd}>&-; done

# ---- still serving ------------------------------------------------------------------------
tb_check "healthy at the end" 200 "$(tb_http GET /healthz)"
code=$(tb_http GET "$TL?limit=3")
tb_check "still answers queries at the end" "200 3" "$code $(tb_resp | jq '.items | length')"
tb_check "still alive (not crashed)" 1 "$(kill -0 "$TB_API_PID" 2>/dev/null && echo 1 || echo 0)"
# Every connection of this test, whatever answered it (our handlers, the
# guard, libevent's own 400/413, the deadline), ends in the close callback
# that releases its slot: once the clients are gone none is left open.
all_closed() { [ "$(metric http_connections_opened_total)" = "$(metric http_connections_closed_total)" ]; }
if tb_wait_for 30 all_closed; then
  tb_ok "every connection's slot is released ($(metric http_connections_opened_total) opened and closed)"
else
  tb_fail "every connection's slot is released"
  tb_diag "opened $(metric http_connections_opened_total), closed $(metric http_connections_closed_total)"
fi
tb_finish
