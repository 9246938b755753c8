#!/usr/bin/env bash
# 201 — finding snapshots and signed witnesses through the whole pipeline.
#
# A finding with uprobe traces: its snapshot is canonical JSON whose sha256
# is the X-TB-Snapshot-Id header, the same bytes on a second call and after a
# full replay (a second aggregator, new consumer group, empty database,
# behind a second timeline-api); the witness is a DSSE envelope that
# tb-witness-verify accepts with the public key (printed by
# --print-public-key and by tb-witness-verify --derive) and rejects after
# any one byte of its payload changes, or with another key. Tenants: another
# tenant gets 404 for both routes; without a key the witness route is 503.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"

A="sha256:$(printf 'd%.0s' {1..64})"
DAY=$(date -u -d yesterday +%Y-%m-%d) # whole test window in the past, whatever the time of day
RW=tok-default-rw-0123456789
OTHER=tok-other-all-0123456789
VERIFY="$TB_BIN/tb-witness-verify"
printf '%s' "$(printf '42%.0s' {1..32})" >"$TB_TMP/seed.hex"
cat >"$TB_TMP/tokens" <<EOT
$RW   default  runtime:read,runtime:write,findings:write
$OTHER   other    *
EOT
TB_STACK_ARGS_timeline_api="--tokens-file $TB_TMP/tokens --witness-key-file $TB_TMP/seed.hex"

pk1=$("$TB_BIN/tb-timeline-api" --witness-key-file "$TB_TMP/seed.hex" --print-public-key 2>/dev/null)
pk2=$("$VERIFY" --derive "$TB_TMP/seed.hex")
tb_check "public key from --print-public-key and tb-witness-verify --derive agree" "64 $pk1" "${#pk2} $pk2"
printf '%s' "$(printf 'ab%.0s' {1..32})" >"$TB_TMP/other-seed.hex"
pk_other=$("$VERIFY" --derive "$TB_TMP/other-seed.hex")

if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

as() { # TOKEN METHOD PATH [CURL ARGS]
  local tok=$1 method=$2 path=$3
  shift 3
  curl -s -D "$TB_TMP/headers" -o "$TB_TMP/resp" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok" "$@" "$TB_API$path" || true
}
F=/api/v1/findings
as "$RW" POST $F --data-binary "{\"id\":\"F-W\",\"vuln_id\":\"CVE-2024-2001\",\"purl\":\"pkg:generic/libw@2.0\",\"artifact_digest\":\"$A\",\"symbols\":[\"w_parse\",\"w_free\"]}" >/dev/null
trace() { # SYMBOL BUILD_ID HITS TIME
  as "$RW" POST "$F/F-W/runtime/traces" --data-binary \
    "{\"artifactDigest\":\"$A\",\"componentPurl\":\"pkg:generic/libw@2.0\",\"frames\":[{\"symbol\":\"$1\",\"buildId\":\"$2\"},{\"symbol\":\"main\"}],\"hits\":$3,\"observedAt\":\"${DAY}T$4Z\"}"
}
codes="$(trace w_parse "$(printf '1%.0s' {1..40})" 5 09:00:01) $(trace w_parse "$(printf '1%.0s' {1..40})" 2 09:10:00) $(trace w_free "$(printf '2%.0s' {1..40})" 1 09:05:00)"
tb_check "traces accepted" "202 202 202" "$codes"
tb_wait_rows "SELECT count(*) FROM observations" 3 90 || tb_fail "observations reach PostgreSQL"
tb_wait_rows "SELECT count(*) FROM findings" 1 || tb_fail "the finding reaches PostgreSQL"

# -- snapshot ---------------------------------------------------------------------
tb_check "snapshot: 200" 200 "$(as "$RW" GET "$F/F-W/runtime/snapshot")"
cp "$TB_TMP/resp" "$TB_TMP/snap1.json"
id1=$(tr -d '\r' <"$TB_TMP/headers" | awk -F': ' 'tolower($1) == "x-tb-snapshot-id" {print $2}')
tb_check "the snapshot id is the sha256 of its bytes" "sha256:$(sha256sum "$TB_TMP/snap1.json" | cut -d' ' -f1)" "$id1"
tb_check "canonical: sorted keys, no whitespace (jq -S -c gives the same bytes)" \
  "$(cat "$TB_TMP/snap1.json")" "$(jq -S -c . "$TB_TMP/snap1.json")"
tb_check "the snapshot holds the summed traces, aggregates and observations" \
  "w_free:1 w_parse:7 | uprobe 8 3 | ${DAY}T09:10:00.000001Z" \
  "$(jq -r '"\([.traces[] | "\(.symbol):\(.hits)"] | join(" ")) | \(.aggregates.tier) \(.aggregates.uprobe_hits) \(.observations | length) | \(.as_of)"' "$TB_TMP/snap1.json")"
as "$RW" GET "$F/F-W/runtime/snapshot" >/dev/null
tb_check "the same data gives byte-identical snapshots" "$(sha256sum <"$TB_TMP/snap1.json")" "$(sha256sum <"$TB_TMP/resp")"
as "$RW" GET "$F/F-W/runtime/snapshot?asOf=${DAY}T09:06:00Z" >/dev/null
tb_check "asOf bounds the observations" "w_free:1 w_parse:5 2" \
  "$(jq -r '"\([.traces[] | "\(.symbol):\(.hits)"] | join(" ")) \(.observations | length)"' "$TB_TMP/resp")"
tb_check "another tenant: 404 for the snapshot" 404 "$(as "$OTHER" GET "$F/F-W/runtime/snapshot")"
tb_check "another tenant: 404 for the witness" 404 "$(as "$OTHER" GET "$F/F-W/runtime/witness")"

# -- witness ----------------------------------------------------------------------
tb_check "witness: 200" 200 "$(as "$RW" GET "$F/F-W/runtime/witness")"
cp "$TB_TMP/resp" "$TB_TMP/env.json"
out=$("$VERIFY" --public-key "$pk1" --snapshot "$TB_TMP/snap1.json" "$TB_TMP/env.json" 2>&1); rc=$?
tb_check "the witness verifies with the public key and names the snapshot" "0 $id1" "$rc $(echo "$out" | awk '{print $3}')"
jq -r .payload "$TB_TMP/env.json" | base64 -d >"$TB_TMP/payload.json"
tb_check "the statement names artifact, purl, symbols with build-ids and counts, window, symbolizer" \
  "$A pkg:generic/libw@2.0 w_free/2222222222222222222222222222222222222222/1,w_parse/1111111111111111111111111111111111111111/7 ${DAY}T09:00:01.000000Z tb-canonicalizer 2 $id1" \
  "$(jq -r '.predicate | "\(.artifact_digest) \(.purl) \([.observed_symbols[] | "\(.symbol)/\(.build_id)/\(.count)"] | join(",")) \(.observation_window.from) \(.symbolization.symbolizer) \(.symbolization.build_ids | length) \(.snapshot.id)"' "$TB_TMP/payload.json")"
tb_check "subject is the artifact digest" "$A ${A#sha256:}" "$(jq -r '.subject[0] | "\(.name) \(.digest.sha256)"' "$TB_TMP/payload.json")"
rc=0; "$VERIFY" --public-key "$pk_other" "$TB_TMP/env.json" 2>/dev/null || rc=$?
tb_check "another key does not verify" 1 "$rc"
size=$(stat -c %s "$TB_TMP/payload.json")
bad=0
for off in 0 1 $((size / 3)) $((size / 2)) $((size - 2)) $((size - 1)); do
  cp "$TB_TMP/payload.json" "$TB_TMP/p2"
  orig=$(dd if="$TB_TMP/p2" bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
  printf "$(printf '\\%03o' $(( (orig ^ 1) & 255 )))" | dd of="$TB_TMP/p2" bs=1 seek="$off" conv=notrunc 2>/dev/null
  jq --arg p "$(base64 -w0 "$TB_TMP/p2")" '.payload = $p' "$TB_TMP/env.json" >"$TB_TMP/env2.json"
  if "$VERIFY" --public-key "$pk1" "$TB_TMP/env2.json" 2>/dev/null; then bad=$((bad + 1)); tb_diag "byte $off changed still verified"; fi
done
tb_check "a changed byte anywhere in the payload fails verification (6 positions)" 0 "$bad"
jq '.signatures[0].sig |= (.[0:10] + (if .[10:11] == "A" then "B" else "A" end) + .[11:])' "$TB_TMP/env.json" >"$TB_TMP/env3.json"
rc=0; "$VERIFY" --public-key "$pk1" "$TB_TMP/env3.json" 2>/dev/null || rc=$?
tb_check "a changed signature fails verification" 1 "$rc"
echo '{"x":1}' >"$TB_TMP/not-snap.json"
rc=0; "$VERIFY" --public-key "$pk1" --snapshot "$TB_TMP/not-snap.json" "$TB_TMP/env.json" 2>/dev/null || rc=$?
tb_check "another snapshot file does not match the witness" 1 "$rc"

# -- replay: a second aggregator and API on an empty database -------------------------
"$TB_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$(tb_pg_url postgres)" -c 'CREATE DATABASE replay' >/dev/null ||
  tb_fail "replay database created"
tb_start agg2 "$TB_BIN/tb-aggregator" --brokers "$TB_BROKERS" --pg "$(tb_pg_url replay)" --group h13-replay \
  --admin-addr 127.0.0.1:0 --batch-wait-ms 50 >/dev/null
replay_rows() { "$TB_PG_BINDIR/psql" -X -q -A -t "$(tb_pg_url replay)" -c "$1" 2>/dev/null; }
deadline=$((SECONDS + 90))
until [ "$(replay_rows 'SELECT count(*) FROM observations')" = 3 ] && [ "$(replay_rows 'SELECT count(*) FROM findings')" = 1 ]; do
  [ $SECONDS -gt $deadline ] && break
  sleep 0.3
done
tb_check "the replay stored the same observations" 3 "$(replay_rows 'SELECT count(*) FROM observations')"
port2=$(tb_free_port)
tb_start api2 "$TB_BIN/tb-timeline-api" --brokers "$TB_BROKERS" --pg "$(tb_pg_url replay)" --listen "127.0.0.1:$port2" \
  --admin-addr 127.0.0.1:0 --tokens-file "$TB_TMP/tokens" --witness-key-file "$TB_TMP/seed.hex" >/dev/null
tb_wait_for 30 curl -sf "http://127.0.0.1:$port2/healthz" >/dev/null || tb_fail "second API starts"
curl -s -o "$TB_TMP/snap-replay.json" -H "Authorization: Bearer $RW" "http://127.0.0.1:$port2$F/F-W/runtime/snapshot"
tb_check "after a full replay the snapshot is byte-identical" "$(sha256sum <"$TB_TMP/snap1.json")" "$(sha256sum <"$TB_TMP/snap-replay.json")"

tb_finish
