#!/usr/bin/env bash
# tests/soak/leak-growth.sh — leak growth of the services under a steady load
# (make soak-leak; several minutes, so not part of make test).
#
# Starts the whole pipeline (tb_stack_start: dev broker, PostgreSQL, adapter,
# canonicalizer, correlator, aggregator, timeline-api) and runs ROUNDS rounds
# (default 6). A round sends EVENTS Tetragon kprobe events with user stacks
# (default 20000, in batches of BATCH = 2000, alternately POSTed to the API
# and produced to tb.tetragon.raw.v1 for the adapter; every batch has new
# times, so new event ids and new observation rows), one malformed body (400) and a
# handful of queries; it waits until every event of the round is a row in
# observations, then samples each service's resident set (VmRSS) and prints
# one line per round.
#
# The check: for every service, RSS after the last round may exceed RSS
# after round 2 by at most TOL_PCT percent (default 10) plus TOL_KB
# (default 4096). Round 1 is excluded: it is where caches, connection
# buffers, librdkafka's queues and glibc's arenas reach their working size.
# After that a service that frees what it allocates stays flat; a leak of
# 100 bytes per event would add 2 MB per round, 8 MB over rounds 3..6,
# more than the tolerance of any service (10 % of at most ~32 MB + 4 MiB).
# This is a bound on memory, not on time: no assertion depends on speed.
#
# Measured on the 2-vCPU dev VM (2026-11-24, defaults, ~8 minutes), VmRSS KiB
# after rounds 1 / 2 / 6: adapter 12288 / 12540 / 15484 (flat from round 5),
# canonicalizer 14140 / 19220 / 19624, correlator 24064 / 30812 / 31872,
# aggregator 19244 / 19256 / 19684, timeline-api 27072 / 30340 / 31272.
#
# Environment: ROUNDS, EVENTS, BATCH, TOL_PCT, TOL_KB; TB_BIN_DIR as for
# the integration tests (the ASan builds inflate RSS, use the plain ones).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

ROUNDS=${ROUNDS:-6}
EVENTS=${EVENTS:-20000}
BATCH=${BATCH:-2000}
TOL_PCT=${TOL_PCT:-10}
TOL_KB=${TOL_KB:-4096}
[ "$ROUNDS" -ge 3 ] || { tb_fail "ROUNDS must be at least 3"; tb_finish; }

e2e_build_shop shop || { tb_fail "the demo binary builds"; tb_finish; }
export TB_STACK_ARGS_timeline_api="--max-events $BATCH"
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

# One batch of specs with the day as a placeholder; each request substitutes
# its own day, so (node, time, exec_id) and hence event ids never repeat.
jq -n -c --arg m "$E2E_MODULE_shop" --argjson n "$BATCH" '
  range(0; $n) as $i
  | {node: "soak-node", time: "@DAY@T\(10 + ($i / 3600 | floor) | tostring | if length < 2 then "0" + . else . end):\(($i / 60 | floor) % 60 | tostring | if length < 2 then "0" + . else . end):\($i % 60 | tostring | if length < 2 then "0" + . else . end).\($i % 1000 | tostring)Z",
     exec_id: "soak-node:9:\(700 + $i % 50)", pid: (700 + $i % 50), binary: $m, function: "__x64_sys_getpid",
     user: [{fn: (["hash_order", "apply_discount", "compute_total"][$i % 3]), delta: (7 + $i % 5)},
            {fn: "compute_total", delta: 30}, {fn: "handle_checkout", delta: 40}, {fn: "main", delta: 100}]}' |
  e2e_kprobes shop >"$TB_TMP/batch.tmpl" || { tb_fail "event template"; tb_finish; }
tb_check "the batch template has $BATCH events" "$BATCH" "$(grep -c . "$TB_TMP/batch.tmpl")"
echo '{"events": [' >"$TB_TMP/bad.json"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A RSS2 RSSN
total=0
day=0
per_round=$(((EVENTS + BATCH - 1) / BATCH))
printf '# %-6s %8s' round events >"$TB_TMP/table"
for s in $TB_SERVICES_ALL; do printf ' %14s' "$s" >>"$TB_TMP/table"; done
echo " (VmRSS KiB)" >>"$TB_TMP/table"
for r in $(seq 1 "$ROUNDS"); do
  for _ in $(seq 1 "$per_round"); do
    d=$(date -u -d "2020-01-01 + $day days" +%F)
    day=$((day + 1))
    sed "s/@DAY@/$d/g" "$TB_TMP/batch.tmpl" >"$TB_TMP/batch.jsonl"
    if [ $((day % 2)) = 0 ]; then # through the adapter: one Kafka message per line
      if ! "$TB_BIN/tb-kafka" produce -t tb.tetragon.raw.v1 -k soak <"$TB_TMP/batch.jsonl" 2>>"$TB_TMP/produce.err"; then
        tb_fail "round $r: $BATCH events produced to tb.tetragon.raw.v1"; tb_finish
      fi
    elif ! e2e_post "$TB_TMP/batch.jsonl"; then
      tb_fail "round $r: POST of $BATCH events"; tb_finish
    fi
    total=$((total + BATCH))
  done
  tb_api_post /api/v1/runtime/traces "$TB_TMP/bad.json" >/dev/null
  [ "$TB_HTTP_STATUS" = 400 ] || tb_fail "round $r: a malformed body is a 400 (got $TB_HTTP_STATUS)"
  for q in "timeline?limit=100" "timeline?bucket=1h&limit=100" "hot-symbols?limit=20" "stacks.folded?limit=50"; do
    e2e_get "/api/v1/runtime/$q"
    [ "$TB_HTTP_STATUS" = 200 ] || tb_fail "round $r: GET $q is 200 (got $TB_HTTP_STATUS)"
  done
  if ! e2e_wait_obs "$total" 600; then tb_fail "round $r: all $total events reach PostgreSQL"; tb_finish; fi
  printf '# %-6s %8s' "$r" "$total" >>"$TB_TMP/table"
  for s in $TB_SERVICES_ALL; do
    kb=$(rss_kb "$(tb_service_pid "$s")")
    printf ' %14s' "$kb" >>"$TB_TMP/table"
    [ "$r" = 2 ] && RSS2[$s]=$kb
    RSSN[$s]=$kb
  done
  echo >>"$TB_TMP/table"
  tail -1 "$TB_TMP/table"
done
tb_ok "$ROUNDS rounds of $((per_round * BATCH)) events reach PostgreSQL ($total rows)"
cat "$TB_TMP/table"

for s in $TB_SERVICES_ALL; do
  base=${RSS2[$s]} last=${RSSN[$s]}
  limit=$((base + base * TOL_PCT / 100 + TOL_KB))
  if [ "$last" -le "$limit" ]; then
    tb_ok "tb-$s: RSS after round $ROUNDS ($last KiB) <= round 2 ($base KiB) + ${TOL_PCT}% + $TOL_KB KiB"
  else
    tb_fail "tb-$s: RSS after round $ROUNDS ($last KiB) <= round 2 ($base KiB) + ${TOL_PCT}% + $TOL_KB KiB"
  fi
done
tb_finish
