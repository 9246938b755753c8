#!/usr/bin/env bash
# 102 — end to end: an artifact registered with a CycloneDX SBOM whose
# component owns a binary (path + build-id) links the traces of that binary
# to the artifact digest and the component purl; registering the SBOM after
# the trace and replaying (tools/replay = tb-replay) gives the same link.
#
# Two variants of a real binary are compiled here (tools/demo/workload/shop.c
# with -DSHOP_VARIANT=1 and 2: different build-ids) and installed in the
# canonicalizer's --symbol-dir at their module paths. Their Tetragon
# process_kprobe events are host processes (no pod, no image digest), and
# some user frames carry no symbol, so the only way to the artifact is:
# module path -> build-id (symbol dir) -> SBOM binary (build-id) -> artifact
# and purl. Checked:
#   - A registered first: its events are correlated (timeline, artifact= and
#     purl= filters, hot-symbols per frame, symbols.purl), bare frames named;
#   - B's event posted before B's SBOM is stored uncorrelated and stays so
#     when the SBOM arrives (stored rows are never rewritten);
#   - tb-replay refuses (exit 4, nothing truncated) while the correlator runs;
#   - correlator + aggregator stopped, tb-replay, started again: B's event is
#     now linked exactly like an event of B posted after its SBOM, and
#     everything about A (observations, hot symbols, artifacts) is identical
#     to before the replay: no double counts.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

e2e_build_shop shopA 1 && e2e_build_shop shopB 2 || { tb_fail "the demo binaries build"; tb_finish; }
tb_check "two variants of the demo binary with different build-ids" 1 \
  "$([ -n "$E2E_BID_shopA" ] && [ "$E2E_BID_shopA" != "$E2E_BID_shopB" ] && echo 1)"
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"

DA="sha256:$E2E_SHA_shopA" DB="sha256:$E2E_SHA_shopB"
PA="pkg:generic/tb-e2e/shop-a@1.0.0" PB="pkg:generic/tb-e2e/shop-b@2.0.0"
# ---- A: SBOM first, then traces -----------------------------------------------------------
e2e_register "$DA" shop-a "$PA" shopA && tb_ok "artifact A registered (CycloneDX 1.5, binary path + build-id)" ||
  tb_fail "artifact A registered (CycloneDX 1.5, binary path + build-id)"
{ e2e_write_spec shopA 2026-03-14T11:00:01Z 501; e2e_write_spec shopA 2026-03-14T11:00:02Z 502; } | e2e_kprobes shopA >"$TB_TMP/a.json"
e2e_post "$TB_TMP/a.json" || tb_fail "POST A's traces: 202"
IDS_A=$E2E_IDS
e2e_wait_obs 2 || tb_fail "A's events reach PostgreSQL"
for e in $IDS_A; do
  tb_check "A's event $e: linked to artifact A and purl A, fully correlated" \
    "$DA $PA correlated ksys_write" "$(e2e_item "$e" | cut -d' ' -f1-4)"
done
tb_check "timeline artifact=A and purl=A select A's events" "$(echo $IDS_A) $(echo $IDS_A)" \
  "$(echo $(tb_api_get "/api/v1/runtime/timeline?artifact=$DA" | jq -r '.items[].event_id') $(tb_api_get "/api/v1/runtime/timeline?purl=$(jq -rn --arg p "$PA" '$p | @uri')" | jq -r '.items[].event_id'))"
hot_a() { tb_api_get "/api/v1/runtime/hot-symbols?artifact=$DA" | jq -c '[.items[] | {symbol: .symbol, build_id: .build_id, "module": .module, purl: .purl, artifact_digest: .artifact_digest, self_count: .self_count, total_count: .total_count, first_seen: .first_seen, last_seen: .last_seen}] | sort_by(.symbol)'; }
tb_check "hot-symbols artifact=A: every user frame named (bare ones from the symbol dir) with A's build-id and purl" \
  "handle_checkout:$E2E_BID_shopA:shop:$PA:0/2 main:$E2E_BID_shopA:shop:$PA:0/2 serve_requests:$E2E_BID_shopA:shop:$PA:0/2 write_receipt:$E2E_BID_shopA:shop:$PA:0/2" \
  "$(hot_a | jq -r 'map(select(.build_id != null) | "\(.symbol):\(.build_id):\(.module):\(.purl):\(.self_count)/\(.total_count)") | join(" ")')"
tb_check "PostgreSQL holds artifact A: its component (the purl-less artifact component skipped) and binary" \
  "$PA|shop-a-shop|1.0.0 $E2E_MODULE_shopA|$E2E_BID_shopA|$PA" \
  "$(tb_psql -c "SELECT purl, name, version FROM artifact_components WHERE artifact_digest = '$DA'") $(tb_psql -c "SELECT path, build_id, purl FROM artifact_binaries WHERE artifact_digest = '$DA'")"
tb_check "symbols of A's binary carry the component purl" "4 $PA" \
  "$(tb_psql -F ' ' -c "SELECT count(*), min(purl) FROM symbols WHERE build_id = '$E2E_BID_shopA'")"

# ---- B: trace first, SBOM later ------------------------------------------------------------
e2e_write_spec shopB 2026-03-14T11:00:03Z 601 | e2e_kprobes shopB >"$TB_TMP/b.json"
e2e_post "$TB_TMP/b.json" || tb_fail "POST B's trace: 202"
ID_B=$E2E_IDS
e2e_wait_obs 3 || tb_fail "B's event reaches PostgreSQL"
tb_check "B's event before B's SBOM: no artifact, no purl, uncorrelated" "null null uncorrelated ksys_write" \
  "$(e2e_item "$ID_B" | cut -d' ' -f1-4)"
e2e_register "$DB" shop-b "$PB" shopB && tb_ok "artifact B registered after its trace" || tb_fail "artifact B registered after its trace"
tb_check "B's stored event is not rewritten by the SBOM alone" "null null uncorrelated" "$(e2e_item "$ID_B" | cut -d' ' -f1-3)"

# A control event of B posted after the SBOM: the link a replay must reproduce.
e2e_write_spec shopB 2026-03-14T11:00:04Z 602 | e2e_kprobes shopB >"$TB_TMP/b2.json"
e2e_post "$TB_TMP/b2.json" || tb_fail "POST B's control trace: 202"
ID_B2=$E2E_IDS
e2e_wait_obs 4 || tb_fail "B's control event reaches PostgreSQL"
want_b=$(e2e_item "$ID_B2" | cut -d' ' -f1-5)
tb_check "an event of B posted after its SBOM is linked to B" "$DB $PB correlated" "$(echo "$want_b" | cut -d' ' -f1-3)"

# ---- the replay -----------------------------------------------------------------------------
snapshot() { # everything about A that a replay must leave identical
  tb_psql -c "SELECT encode(event_id, 'hex'), ts, stack_id, leaf_symbol_id, count, kind, artifact_digest, purl, correlation
              FROM observations WHERE artifact_digest = '$DA' ORDER BY 1"
  tb_psql -c "SELECT window_start, width, symbol_id, self_count, total_count, first_seen, last_seen
              FROM hot_symbols WHERE artifact_digest = '$DA' ORDER BY 1, 2, 3"
  tb_psql -c "SELECT digest, name, version, sbom_format, sbom_sha256, registered_at FROM artifacts ORDER BY 1"
  tb_psql -c "SELECT artifact_digest, path, build_id, purl FROM artifact_binaries ORDER BY 1, 2"
  hot_a
}
snapshot >"$TB_TMP/before.txt"
REPLAY=("$TB_BIN/tb-replay" --pg "$TB_PG_URL" --brokers "$TB_BROKERS" --log-level warn)

rc=0; "${REPLAY[@]}" --join-wait 8s >"$TB_TMP/replay-busy.out" 2>&1 || rc=$?
tb_check "tb-replay while the correlator and aggregator run: exit 4, nothing truncated" "4 4" \
  "$rc $(tb_psql -c 'SELECT count(*) FROM observations')"
grep -q "stop every instance" "$TB_TMP/replay-busy.out" || { tb_fail "the refusal says what to do"; sed 's/^/#   /' "$TB_TMP/replay-busy.out"; }

tb_service_kill correlator TERM
tb_service_kill aggregator TERM
rc=0; "${REPLAY[@]}" >"$TB_TMP/replay.out" 2>&1 || rc=$?
tb_check "tb-replay with both stopped: exit 0, prepared" "0 1" "$rc $(grep -c '^replay prepared' "$TB_TMP/replay.out")"
[ "$rc" = 0 ] || sed 's/^/#   /' "$TB_TMP/replay.out"
tb_check "the derived tables are empty, sink_offsets holds only the correlated topic's ends" \
  "0 0 0 0 $("$TB_BIN/tb-kafka" metadata -t tb.events.correlated.v1 --watermarks 2>/dev/null | awk '{s += $4} END {print s + 0}')" \
  "$(tb_psql -F ' ' -c "SELECT (SELECT count(*) FROM observations), (SELECT count(*) FROM hot_symbols), (SELECT count(*) FROM artifacts),
     (SELECT count(*) FROM sink_offsets WHERE topic <> 'tb.events.correlated.v1'), (SELECT coalesce(sum(next_offset), 0) FROM sink_offsets)")"

tb_service_start correlator
tb_service_start aggregator
tb_service_ready correlator && tb_service_ready aggregator || tb_fail "correlator and aggregator restart"
e2e_wait_obs 4 || tb_fail "the rebuilt observations arrive"
tb_wait_rows "SELECT count(*) FROM artifacts" 2 || tb_fail "the artifacts are rebuilt"
tb_check "after the replay B's first event is linked exactly like the control event" "$want_b" "$(e2e_item "$ID_B" | cut -d' ' -f1-5)"
tb_check "observations after the replay: 4 events, 4 correlated, 2 with artifact B" "4 4 2" \
  "$(tb_psql -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE correlation = 'correlated'), count(*) FILTER (WHERE artifact_digest = '$DB') FROM observations")"
# settle: the aggregator has stored everything the replayed correlator produced
tb_wait_for 90 e2e_drained || tb_diag "the aggregator did not reach the end of tb.events.correlated.v1"
snapshot >"$TB_TMP/after.txt"
if diff "$TB_TMP/before.txt" "$TB_TMP/after.txt" >"$TB_TMP/diff.txt"; then
  tb_ok "A's observations, hot symbols and the artifacts are identical after the replay (no double counts)"
else
  tb_fail "A's observations, hot symbols and the artifacts are identical after the replay (no double counts)"
  sed 's/^/#   /' "$TB_TMP/diff.txt" | head -30
fi
tb_check "hot-symbols artifact=B after the replay: both B events counted once" "ksys_write 2 2" \
  "$(tb_api_get "/api/v1/runtime/hot-symbols?artifact=$DB" | jq -r '.items[0] | "\(.symbol) \(.self_count) \(.total_count)"')"
tb_finish
