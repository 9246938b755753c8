#!/usr/bin/env bash
# 104 — end to end: several traces hitting the same symbol. hot-symbols
# returns it with the exact frequency (self and total counts, events folded
# by Tetragon's aggregation_info.count included) and first/last seen, over
# all time (hour windows), within minutes (minute windows, from inclusive,
# to exclusive) and across windows; the timeline aggregates per bucket
# (1m, 1h, with a symbol filter) with the same counts.
#
# Ten Tetragon process_kprobe events of a real binary (the demo shop), user
# stacks only, at hand-picked times over two hours:
#   hash_order <- compute_total <- handle_checkout <- main   x7 (one with count 3)
#   apply_discount <- compute_total <- handle_checkout <- main   x3
# Expected values below are worked out by hand from that table.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

e2e_build_shop shop || { tb_fail "the demo binary builds"; tb_finish; }
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

# TIME LEAF [COUNT]
ev() {
  jq -n -c --arg m "$E2E_MODULE_shop" --arg t "2026-03-14T$1Z" --arg leaf "$2" --argjson c "${3:-null}" --argjson pid "$((800 + RANDOM % 100))" '
    {node: "e2e-node-4", time: $t, exec_id: "e2e-node-4:9:\($pid)", pid: $pid, binary: $m, function: "__x64_sys_getpid",
     count: $c,
     user: [{fn: $leaf, delta: 7}, {fn: "compute_total", delta: 30}, {fn: "handle_checkout", delta: 40}, {fn: "main", delta: 100}]}'
}
{
  ev 10:00:05 hash_order
  ev 10:00:20 apply_discount
  ev 10:00:40 hash_order 3
  ev 10:01:10 hash_order
  ev 10:01:30 apply_discount
  ev 10:01:59.999 hash_order
  ev 10:02:30 hash_order
  ev 11:15:00 hash_order
  ev 11:15:10 apply_discount
  ev 11:15:30 hash_order
} | e2e_kprobes shop >"$TB_TMP/events.jsonl"
e2e_post "$TB_TMP/events.jsonl" || tb_fail "POST ten traces: 202"
tb_check "ten distinct event ids" 10 "$(sort -u <<<"$E2E_IDS" | grep -c .)"
e2e_wait_obs 10 || { tb_fail "the ten events reach PostgreSQL"; tb_finish; }
tb_ok "the ten events reach PostgreSQL"

hot() { # QUERY -> "symbol self/total first..last" per item, in order
  e2e_get "/api/v1/runtime/hot-symbols?$1"
  [ "$TB_HTTP_STATUS" = 200 ] || tb_diag "hot-symbols?$1: $TB_HTTP_STATUS $E2E_BODY"
  jq -r '.items[] | "\(.symbol) \(.self_count)/\(.total_count) \(.first_seen[11:23])..\(.last_seen[11:23])"' <<<"$E2E_BODY"
}
pick() { grep "^$1 " <<<"$2"; }

all=$(hot "")
tb_check "hot-symbols, all time: the shared leaf first, exact self/total counts and first/last seen" \
  "hash_order 9/9 10:00:05.000..11:15:30.000
apply_discount 3/3 10:00:20.000..11:15:10.000" "$(head -2 <<<"$all")"
tb_check "hot-symbols, all time: the callers are on every stack (self 0, total 12)" \
  "compute_total 0/12 10:00:05.000..11:15:30.000 handle_checkout 0/12 10:00:05.000..11:15:30.000 main 0/12 10:00:05.000..11:15:30.000" \
  "$(echo $(pick compute_total "$all") $(pick handle_checkout "$all") $(pick main "$all"))"
tb_check "hot-symbols lists each symbol once" 5 "$(grep -c . <<<"$all")"

tb_check "two whole minutes [10:00, 10:02): minute windows, to exclusive" \
  "hash_order 6/6 10:00:05.000..10:01:59.999
apply_discount 2/2 10:00:20.000..10:01:30.000" \
  "$(hot 'from=2026-03-14T10:00:00Z&to=2026-03-14T10:02:00Z' | head -2)"
tb_check "[10:01, 11:16) across the hour boundary" \
  "hash_order 5/5 10:01:10.000..11:15:30.000
apply_discount 2/2 10:01:30.000..11:15:10.000" \
  "$(hot 'from=2026-03-14T10:01:00Z&to=2026-03-14T11:16:00Z' | head -2)"
tb_check "[10:00, 11:00) is one whole hour (hour window)" \
  "hash_order 7/7 10:00:05.000..10:02:30.000
apply_discount 2/2 10:00:20.000..10:01:30.000" \
  "$(hot 'from=2026-03-14T10:00:00Z&to=2026-03-14T11:00:00Z' | head -2)"
tb_check "a range with no event: empty" "" "$(hot 'from=2026-03-14T10:03:00Z&to=2026-03-14T11:15:00Z')"
rec=$(hot 'sort=recency')
tb_check "sort=recency: latest last_seen first (ties by self count), apply_discount (11:15:10) last" \
  "hash_order apply_discount" "$(head -1 <<<"$rec" | cut -d' ' -f1) $(tail -1 <<<"$rec" | cut -d' ' -f1)"
tb_check "limit=1 keeps the hottest" "hash_order" "$(hot 'limit=1' | cut -d' ' -f1)"

bucket() { # QUERY -> "start count/events" per bucket
  e2e_get "/api/v1/runtime/timeline?$1"
  jq -r '.items[] | "\(.start[11:16]) \(.count)/\(.events)"' <<<"$E2E_BODY" | tr '\n' ' ' | sed 's/ $//'
}
tb_check "timeline bucket=1m: samples (count) and events per minute" \
  "10:00 5/3 10:01 3/3 10:02 1/1 11:15 3/3" "$(bucket 'bucket=1m')"
tb_check "timeline bucket=1h" "10:00 9/7 11:00 3/3" "$(bucket 'bucket=1h')"
tb_check "timeline bucket=1m symbol=hash_order: only that leaf" \
  "10:00 4/2 10:01 2/2 10:02 1/1 11:15 2/2" "$(bucket 'bucket=1m&symbol=hash_order')"
tb_check "timeline bucket=1m with a time range" "10:01 3/3 10:02 1/1" \
  "$(bucket 'bucket=1m&from=2026-03-14T10:01:00Z&to=2026-03-14T10:03:00Z')"
e2e_get '/api/v1/runtime/timeline?bucket=1m'
tb_check "bucket items: start/end aligned to the minute, bucket_seconds 60" "60 2026-03-14T10:00:00.000000Z 2026-03-14T10:01:00.000000Z" \
  "$(jq -r '"\(.bucket_seconds) \(.items[0].start) \(.items[0].end)"' <<<"$E2E_BODY")"
tb_check "timeline symbol=hash_order lists its 7 events, counts summing to 9" "7 9" \
  "$(tb_api_get '/api/v1/runtime/timeline?symbol=hash_order' | jq -r '"\(.items | length) \([.items[].count] | add)"')"
tb_finish
