#!/usr/bin/env bash
# 101 — end to end: a Tetragon process_kprobe event with kernel and user
# stack frames, POSTed to /api/v1/runtime/traces, is persisted and returned
# by the timeline.
#
# The whole pipeline runs as separate processes (tests/lib/stack.sh): dev
# broker, PostgreSQL, adapter, canonicalizer, correlator, aggregator,
# timeline-api. The event is built from a real binary compiled here
# (tools/demo/workload/shop.c): user frames name its functions at their
# real file offsets (from nm + the PT_LOAD headers), one frame has no symbol
# (the canonicalizer finds it in --symbol-dir, where the binary sits at its
# module path), one frame is in libc (not in the symbol dir), and the
# kernel frames carry function-relative offsets. Checked:
#   - 202 with the event id; the observation row (ts, kind, source, count,
#     stack) and the stored stack: every frame's kernel flag, symbol, module
#     basename, build-id and offset, innermost kernel frame first;
#   - the timeline item (ts with microseconds, event id, kind, source, leaf
#     symbol, stack id, workload, image digest), symbol= and time filters;
#   - stacks.folded: the whole chain root first; hot-symbols: the leaf;
#   - posting the same event again changes nothing (same event id, one row).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

e2e_build_shop shop || { tb_fail "the demo binary builds"; tb_finish; }
tb_ok "the demo binary builds (build-id $E2E_BID_shop)"
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts (broker, PostgreSQL, five services)"

M=$E2E_MODULE_shop
LIBC=/usr/lib/x86_64-linux-gnu/libc.so.6
IMG="sha256:$(printf '5a%.0s' {1..32})"
cat >"$TB_TMP/spec.json" <<JSON
{"node": "e2e-node-1", "time": "2026-03-14T10:00:00.250123456Z", "exec_id": "e2e-node-1:900000000:4242",
 "pid": 4242, "tid": 4243, "uid": 1000, "binary": "$M", "start_time": "2026-03-14T09:59:59Z",
 "pod": {"namespace": "shop", "name": "shop-7d9f8-x2k4p", "workload": "shop",
         "container_id": "containerd://1f2e3d4c5b6a", "image_name": "registry.example/shop:1.0",
         "image_id": "registry.example/shop@$IMG"},
 "function": "__x64_sys_write", "policy": "e2e-write-stacks",
 "kernel": [{"symbol": "ksys_write", "offset": 12}, {"symbol": "__x64_sys_write", "offset": 5},
            {"symbol": "do_syscall_64", "offset": 88}, {"symbol": "entry_SYSCALL_64_after_hwframe", "offset": 110}],
 "user": [{"module": "$LIBC", "offset": 1100017, "symbol": "__GI___libc_write"},
          {"fn": "write_receipt", "delta": 61}, {"fn": "handle_checkout", "delta": 40},
          {"fn": "serve_requests", "delta": 33, "symbol": false}, {"fn": "main", "delta": 100}]}
JSON
e2e_kprobes shop <"$TB_TMP/spec.json" >"$TB_TMP/event.json"
tb_check "the fixture is one Tetragon process_kprobe line with 4 kernel and 5 user frames" "1 4 5" \
  "$(jq -s 'length' "$TB_TMP/event.json") $(jq '.process_kprobe.kernel_stack_trace | length' "$TB_TMP/event.json") $(jq '.process_kprobe.user_stack_trace | length' "$TB_TMP/event.json")"

e2e_post "$TB_TMP/event.json" && tb_ok "POST /api/v1/runtime/traces: 202" || tb_fail "POST /api/v1/runtime/traces: 202"
EID=$E2E_IDS
tb_check "one event id answered" 1 "$(grep -c . <<<"$EID")"

if ! e2e_wait_obs 1; then tb_fail "the event reaches PostgreSQL"; tb_finish; fi
tb_ok "the event reaches PostgreSQL"
tb_check "observation row: ts (microseconds), kind, source, count, namespace, workload, image digest" \
  "$EID|2026-03-14 10:00:00.250123+00|kprobe|tetragon|1|shop|shop|$IMG" \
  "$(tb_psql -c "SELECT encode(event_id, 'hex'), ts, kind, source, count, namespace, workload, image_digest FROM observations")"
tb_check "the node name is stored only as a keyed hash" "1 0" \
  "$(tb_psql -c "SELECT count(*) FROM observations WHERE node ~ '^[0-9a-f]{32}\$'") $(tb_psql -c "SELECT count(*) FROM observations WHERE node LIKE '%e2e-node%'")"

# The stored stack, innermost first: kernel flag, symbol, module, build-id, offset.
OFF() { e2e_off shop "$1"; }
B=$E2E_BID_shop
expected="t|ksys_write|||12
t|__x64_sys_write|||5
t|do_syscall_64|||88
t|entry_SYSCALL_64_after_hwframe|||110
f|__GI___libc_write|libc.so.6||1100017
f|write_receipt|shop|$B|$(($(OFF write_receipt) + 61))
f|handle_checkout|shop|$B|$(($(OFF handle_checkout) + 40))
f|serve_requests|shop|$B|$(($(OFF serve_requests) + 33))
f|main|shop|$B|$(($(OFF main) + 100))"
got=$(tb_psql -c "SELECT f.kernel, s.name, s.module, s.build_id, f.file_offset
  FROM observations o JOIN stacks st ON st.tenant = o.tenant AND st.stack_id = o.stack_id
  CROSS JOIN LATERAL unnest(st.frame_ids) WITH ORDINALITY AS u(frame_id, i)
  JOIN frames f ON f.tenant = o.tenant AND f.frame_id = u.frame_id
  JOIN symbols s ON s.tenant = o.tenant AND s.symbol_id = f.symbol_id
  ORDER BY u.i")
tb_check "stored stack: every frame with symbol, module, build-id and offset (bare frame symbolized from the symbol dir)" \
  "$expected" "$got"

# ---- the timeline ---------------------------------------------------------------
stack_hex=$(tb_psql -c "SELECT lpad(to_hex(stack_id), 16, '0') FROM observations")
e2e_get /api/v1/runtime/timeline
tl=$E2E_BODY
tb_check "timeline: 200 with exactly the event" "200 1 null true" \
  "$TB_HTTP_STATUS $(jq '.items | length' <<<"$tl") $(jq -r '.next_cursor' <<<"$tl") $(jq -r '.runtime_enabled' <<<"$tl")"
tb_check "timeline item: ts, id, kind, source, leaf symbol, stack id, pod metadata" \
  "2026-03-14T10:00:00.250123Z $EID kprobe tetragon ksys_write $stack_hex shop shop $IMG 1" \
  "$(jq -r '.items[0] | [.ts, .event_id, .kind, .source, .symbol, .stack_id, .namespace, .workload, .image_digest, .count] | join(" ")' <<<"$tl")"
tb_check "timeline item: no artifact is registered, so it is uncorrelated" "uncorrelated null" \
  "$(jq -r '.items[0] | "\(.correlation) \(.artifact_digest)"' <<<"$tl")"
tb_check "timeline symbol=ksys_write finds it, symbol=main (not the leaf) does not" "$EID 0" \
  "$(tb_api_get '/api/v1/runtime/timeline?symbol=ksys_write' | jq -r '.items[].event_id') $(tb_api_get '/api/v1/runtime/timeline?symbol=main' | jq '.items | length')"
tb_check "timeline time range: inside finds it, after does not" "1 0" \
  "$(tb_api_get '/api/v1/runtime/timeline?from=2026-03-14T10:00:00.250123Z&to=2026-03-14T10:00:01Z' | jq '.items | length') $(tb_api_get '/api/v1/runtime/timeline?from=2026-03-14T10:00:00.250124Z' | jq '.items | length')"

folded=$(tb_api_get /api/v1/runtime/stacks.folded)
tb_check "stacks.folded: the whole chain, root first, kernel frames marked" \
  "main;serve_requests;handle_checkout;write_receipt;__GI___libc_write;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];__x64_sys_write_[k];ksys_write_[k] 1" \
  "$folded"
hot=$(tb_api_get /api/v1/runtime/hot-symbols)
tb_check "hot-symbols: the leaf has self 1, every frame's symbol total 1" "ksys_write 1 1 9" \
  "$(jq -r '"\(.items[0].symbol) \(.items[0].self_count) \(.items[0].total_count) \([.items[] | select(.total_count == 1)] | length)"' <<<"$hot")"
tb_check "hot-symbols: the symbolized frame carries the binary's build-id and module" "$B shop 0" \
  "$(jq -r '.items[] | select(.symbol == "serve_requests") | "\(.build_id) \(.module) \(.self_count)"' <<<"$hot")"

# ---- idempotence: the same event again --------------------------------------------------
e2e_post "$TB_TMP/event.json" || tb_fail "second POST: 202"
tb_check "the same event posted again has the same id" "$EID" "$E2E_IDS"
# Wait until the aggregator has consumed everything the correlator produced, then count.
wait_drained() {
  local hw stored
  hw=$("$TB_BIN/tb-kafka" metadata -t tb.events.correlated.v1 --watermarks 2>/dev/null | awk '{s += $4} END {print s + 0}')
  stored=$(tb_psql -c "SELECT coalesce(sum(next_offset), 0) FROM sink_offsets WHERE topic = 'tb.events.correlated.v1'")
  [ "$hw" -ge 2 ] && [ "$stored" = "$hw" ]
}
tb_wait_for 90 wait_drained || tb_diag "the aggregator did not catch up with tb.events.correlated.v1"
tb_check "the duplicate is stored once: one observation, counts unchanged" "1 1" \
  "$(tb_psql -c 'SELECT count(*) FROM observations') $(tb_api_get /api/v1/runtime/hot-symbols | jq '.items[0].self_count')"
tb_finish
