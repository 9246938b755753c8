#!/usr/bin/env bash
# 106 — end to end: a time-range timeline query returns the events in
# chronological order with the right correlation metadata, page by page with
# the cursor, none missing and none repeated — also when an event arrives
# between two pages.
#
# 48 Tetragon process_kprobe events of two real binaries compiled here (demo
# shop variants A and B, user frames at their real file offsets; A registered
# with a CycloneDX SBOM, B not) are posted in three shuffled batches: one
# every 5 s from 23:58:00 to 00:01:55 (so the range crosses midnight and two
# day partitions), every 8th one at the same time as the one before it (ties
# are ordered by event id). The range [23:59:00, 00:01:00) is read with
# limit 1, 7 and 1000; each item must carry, for its event: the time, the
# leaf symbol and the leaf frame's build-id and module, and artifact digest,
# purl and correlation (A: correlated to A's digest and purl; B: uncorrelated).
# Expected order and content are computed here from what was posted.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

e2e_build_shop shopA 1 && e2e_build_shop shopB 2 || { tb_fail "the demo binaries build"; tb_finish; }
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"
DA="sha256:$E2E_SHA_shopA" PA="pkg:generic/tb-e2e/shop-a@1.0.0"
e2e_artifact "$DA" shop-a "$PA" "$E2E_MODULE_shopA" "$E2E_BID_shopA" >"$TB_TMP/artifact.json"
tb_api_post /api/v1/artifacts "$TB_TMP/artifact.json" >/dev/null
[ "$TB_HTTP_STATUS" = 202 ] && tb_ok "artifact A registered" || tb_fail "artifact A registered"

BASE=$(date -u -d 2026-03-14T23:58:00Z +%s)
LEAVES=(hash_order apply_discount write_receipt)
# spec I SECONDS PID -> one spec line; meta line "ts_ns|binary|leaf|pid" in $TB_TMP/meta.I
spec() {
  local i=$1 s=$2 pid=$3 bin leaf frac t
  if [ $((i % 3)) = 0 ]; then bin=shopB; else bin=shopA; fi
  leaf=${LEAVES[$(((i / 2) % 3))]}
  frac=$(printf '%03d' $(((i * 37) % 1000)))
  [ $((i % 8)) = 7 ] && frac=$(printf '%03d' $((((i - 1) * 37) % 1000)))
  t=$(date -u -d "@$((BASE + s))" +%Y-%m-%dT%H:%M:%S).${frac}Z
  local mod="E2E_MODULE_$bin"
  echo "$((BASE + s))${frac}000000|$bin|$leaf|$pid" >"$TB_TMP/meta.$pid"
  jq -n -c --arg m "${!mod}" --arg t "$t" --arg leaf "$leaf" --argjson pid "$pid" '
    {node: "e2e-node-6", time: $t, exec_id: "e2e-node-6:3:\($pid)", pid: $pid, binary: $m, function: "__x64_sys_write",
     user: [{fn: $leaf, delta: 3}, {fn: "compute_total", delta: 30, symbol: false}, {fn: "handle_checkout", delta: 40},
            {fn: "main", delta: 100}]}' | e2e_kprobes "$bin"
}
: >"$TB_TMP/all.jsonl"
for i in $(seq 0 47); do
  s=$((i * 5)); [ $((i % 8)) = 7 ] && s=$(((i - 1) * 5))
  spec "$i" "$s" $((1000 + i)) >>"$TB_TMP/all.jsonl"
done
shuf --random-source=<(yes) "$TB_TMP/all.jsonl" >"$TB_TMP/shuffled.jsonl"
split -n l/3 -d "$TB_TMP/shuffled.jsonl" "$TB_TMP/batch."
: >"$TB_TMP/ids.txt"
for b in "$TB_TMP"/batch.*; do
  e2e_post "$b" || tb_fail "POST $(basename "$b"): 202"
  # pair each posted line's pid with its answered id
  paste -d'|' <(jq -r '.process_kprobe.process.pid' "$b") <(echo "$E2E_IDS") >>"$TB_TMP/ids.txt"
done
tb_check "48 events posted in 3 shuffled batches, 48 distinct ids" 48 "$(cut -d'|' -f2 "$TB_TMP/ids.txt" | sort -u | grep -c .)"
e2e_wait_obs 48 || { tb_fail "the 48 events reach PostgreSQL"; tb_finish; }
tb_ok "the 48 events reach PostgreSQL"
tb_check "they span two day partitions" 2 \
  "$(tb_psql -c "SELECT count(DISTINCT tableoid) FROM observations")"

FROM=2026-03-14T23:59:00Z TO=2026-03-15T00:01:00Z
FROM_NS=$(($(date -u -d $FROM +%s) * 1000000000)) TO_NS=$(($(date -u -d $TO +%s) * 1000000000))
# expected items in the range: "event_id ts artifact purl correlation symbol build_id module", in (ts, event_id) order
expected() {
  local pid id meta ts bin leaf bidv
  while IFS='|' read -r pid id; do
    IFS='|' read -r ts bin leaf _ <"$TB_TMP/meta.$pid"
    [ "$ts" -ge "$FROM_NS" ] && [ "$ts" -lt "$TO_NS" ] || continue
    bidv="E2E_BID_$bin"
    if [ "$bin" = shopA ]; then meta="$DA $PA correlated"; else meta="null null uncorrelated"; fi
    echo "$ts $id $(date -u -d "@${ts:0:10}" +%Y-%m-%dT%H:%M:%S).${ts:10:6}Z $meta $leaf ${!bidv} shop"
  done <"$TB_TMP/ids.txt" | sort -k1,1n -k2,2 | cut -d' ' -f2-
}
# pages LIMIT: every item of every page (same format), one per line, into
# $TB_TMP/pages.out; PAGES = number of pages. Not in a subshell (PAGE_HOOK posts).
pages() {
  local cursor="" n=0
  PAGES=0
  : >"$TB_TMP/pages.out"
  while :; do
    e2e_get "/api/v1/runtime/timeline?from=$FROM&to=$TO&limit=$1${cursor:+&cursor=$cursor}"
    [ "$TB_HTTP_STATUS" = 200 ] || { tb_diag "page $PAGES: $TB_HTTP_STATUS $E2E_BODY"; break; }
    n=$(jq '.items | length' <<<"$E2E_BODY")
    [ "$n" -le "$1" ] || tb_diag "page $PAGES has $n items, more than limit $1"
    jq -r '.items[] | [.event_id, .ts, .artifact_digest, .purl, .correlation, .symbol, .build_id, .module] | map(. // "null") | join(" ")' \
      <<<"$E2E_BODY" >>"$TB_TMP/pages.out"
    PAGES=$((PAGES + 1))
    [ -n "${PAGE_HOOK:-}" ] && [ "$PAGES" = 1 ] && $PAGE_HOOK
    cursor=$(jq -r '.next_cursor // empty' <<<"$E2E_BODY")
    [ -n "$cursor" ] && [ "$PAGES" -lt 500 ] || break
  done
}
want=$(expected)
n_want=$(grep -c . <<<"$want")
tb_check "the range holds 24 of the events (ties included)" 24 "$n_want"
for limit in 1000 7 1; do
  pages "$limit"
  got=$(cat "$TB_TMP/pages.out")
  tb_check "limit=$limit: $PAGES pages, every event of the range once, in (ts, event_id) order, with its correlation metadata" \
    "$want" "$got"
done
pages 1000
tb_check "no event outside the range" 0 \
  "$(awk -v f="${FROM%Z}.000000Z" -v t="${TO%Z}.000000Z" '$2 < f || $2 >= t' "$TB_TMP/pages.out" | wc -l)"

# An event that arrives between two pages, later than the cursor: it shows up, nothing repeats.
late() {
  spec 99 $((60 + 59)) 1999 >"$TB_TMP/late.json"
  e2e_post "$TB_TMP/late.json" || tb_fail "POST the late event"
  echo "1999|$E2E_IDS" >>"$TB_TMP/ids.txt"
  e2e_wait_obs 49 || tb_fail "the late event reaches PostgreSQL"
}
PAGE_HOOK=late
pages 5
got=$(cat "$TB_TMP/pages.out")
PAGE_HOOK=
want=$(expected)
tb_check "an event arriving between pages (later than the cursor) is on a later page; none missing, none repeated" \
  "$want" "$got"
tb_check "the pages hold 25 distinct events" "25 25" "$(grep -c . <<<"$got") $(cut -d' ' -f1 <<<"$got" | sort -u | grep -c .)"
tb_finish
