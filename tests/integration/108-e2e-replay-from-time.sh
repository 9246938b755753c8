#!/usr/bin/env bash
# 108 — end to end: a partial replay (tb-replay --from TIME) rebuilds only
# the events from TIME on with today's correlation, and leaves the rows of
# the earlier events exactly as they were.
#
# Binary B's SBOM arrives after four of its events: two at 10:30 and two
# at 11:00 (event times, UTC). All four are stored uncorrelated. Checked:
#   - --from that is not a whole hour is refused (exit 2) and changes nothing;
#   - with the correlator and aggregator stopped, --from 11:00 deletes the two
#     11:00 observations and the hot_symbols windows from 11:00 on, keeps the
#     artifacts, and keeps the aggregator's artifact/finding offsets;
#   - started again: the 11:00 events are linked to B's artifact and purl,
#     like an event of B posted after its SBOM; the 10:30 events and their
#     hot_symbols windows are byte-identical to before (re-read records of
#     them are duplicates: skipped); every event is counted once (4 rows,
#     hot-symbols artifact=B counts 2).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/stack.sh"
source "$TB_ROOT/tests/data/e2e/e2e-lib.sh"

e2e_build_shop shopB 2 || { tb_fail "the demo binary builds"; tb_finish; }
if ! tb_stack_start; then tb_fail "the pipeline starts"; tb_finish; fi
tb_ok "the pipeline starts"
DB="sha256:$E2E_SHA_shopB" PB="pkg:generic/tb-e2e/shop-b@2.0.0"

{ e2e_write_spec shopB 2026-03-14T10:30:01Z 701; e2e_write_spec shopB 2026-03-14T10:30:02Z 702; } |
  e2e_kprobes shopB >"$TB_TMP/early.json"
e2e_post "$TB_TMP/early.json" || tb_fail "POST the 10:30 traces: 202"
IDS_EARLY=$E2E_IDS
{ e2e_write_spec shopB 2026-03-14T11:00:01Z 703; e2e_write_spec shopB 2026-03-14T11:00:02Z 704; } |
  e2e_kprobes shopB >"$TB_TMP/late.json"
e2e_post "$TB_TMP/late.json" || tb_fail "POST the 11:00 traces: 202"
IDS_LATE=$E2E_IDS
e2e_wait_obs 4 || tb_fail "the four events reach PostgreSQL"
e2e_register "$DB" shop-b "$PB" shopB && tb_ok "artifact B registered after its traces" ||
  tb_fail "artifact B registered after its traces"
# the control: an event of B posted after its SBOM
e2e_write_spec shopB 2026-03-14T12:00:00Z 705 | e2e_kprobes shopB >"$TB_TMP/control.json"
e2e_post "$TB_TMP/control.json" || tb_fail "POST the control trace: 202"
ID_CONTROL=$E2E_IDS
e2e_wait_obs 5 || tb_fail "the control event reaches PostgreSQL"
want=$(e2e_item "$ID_CONTROL" | cut -d' ' -f1-3)
tb_check "the control event is linked to B" "$DB $PB correlated" "$want"
for e in $IDS_EARLY $IDS_LATE; do
  tb_check "event $e before the replay: uncorrelated" "null null uncorrelated" "$(e2e_item "$e" | cut -d' ' -f1-3)"
done

early() { # every stored row of the events before 11:00
  tb_psql -c "SELECT encode(event_id, 'hex'), ts, stack_id, leaf_symbol_id, count, kind, artifact_digest, purl, correlation
              FROM observations WHERE ts < '2026-03-14T11:00:00Z' ORDER BY 1"
  tb_psql -c "SELECT artifact_digest, window_start, width, symbol_id, self_count, total_count, first_seen, last_seen
              FROM hot_symbols WHERE window_start < '2026-03-14T11:00:00Z' ORDER BY 1, 2, 3, 4"
}
early >"$TB_TMP/early-before.txt"
offsets() { tb_psql -c "SELECT topic, partition, next_offset FROM sink_offsets WHERE topic <> 'tb.events.correlated.v1' ORDER BY 1, 2"; }
offsets >"$TB_TMP/offsets-before.txt"

REPLAY=("$TB_BIN/tb-replay" --pg "$TB_PG_URL" --brokers "$TB_BROKERS" --log-level warn)
tb_service_kill correlator TERM
tb_service_kill aggregator TERM
rc=0; "${REPLAY[@]}" --from 2026-03-14T11:30:00Z >"$TB_TMP/replay-bad.out" 2>&1 || rc=$?
tb_check "--from not on a whole hour: exit 2, nothing deleted" "2 5" "$rc $(tb_psql -c 'SELECT count(*) FROM observations')"
grep -q "whole hour" "$TB_TMP/replay-bad.out" || { tb_fail "the refusal says why"; sed 's/^/#   /' "$TB_TMP/replay-bad.out"; }

# An hour after every record was written: nothing to delete, nothing to re-read
# (the correlator group is put at the canonical topic's ends).
future=$(date -u -d '+2 hour' +%Y-%m-%dT%H:00:00Z)
rc=0; "${REPLAY[@]}" --from "$future" --from-margin 0s >"$TB_TMP/replay-future.out" 2>&1 || rc=$?
ends=$("$TB_BIN/tb-kafka" metadata -t tb.events.canonical.v1 --watermarks 2>/dev/null | awk '{printf " %s/%s@%s", $1, $2, $4}' | tr ' ' '\n' | sort | tr '\n' ' ')
starts=$(sed -n 's/^tb-correlator starts at://p' "$TB_TMP/replay-future.out" | tr ' ' '\n' | sort | tr '\n' ' ')
tb_check "--from a later hour: exit 0, 0 rows deleted, the correlator starts at the canonical ends" \
  "0 deleted: 0 observations $ends" "$rc $(grep -o '^deleted: 0 observations' "$TB_TMP/replay-future.out") $starts"

rc=0; "${REPLAY[@]}" --from 2026-03-14T11:00:00Z >"$TB_TMP/replay.out" 2>&1 || rc=$?
tb_check "tb-replay --from 11:00 with both stopped: exit 0, prepared" "0 1" "$rc $(grep -c '^replay prepared' "$TB_TMP/replay.out")"
grep -q '^deleted: 3 observations' "$TB_TMP/replay.out" && tb_ok "it reports the rows it deleted" ||
  { tb_fail "it reports the rows it deleted"; sed 's/^/#   /' "$TB_TMP/replay.out"; }
tb_check "after it: the 10:30 observations and the artifact are kept, the rest deleted" "2 0 1" \
  "$(tb_psql -F ' ' -c "SELECT (SELECT count(*) FROM observations), (SELECT count(*) FROM hot_symbols WHERE window_start >= '2026-03-14T11:00:00Z'), (SELECT count(*) FROM artifacts)")"

tb_service_start correlator
tb_service_start aggregator
tb_service_ready correlator && tb_service_ready aggregator || tb_fail "correlator and aggregator restart"
e2e_wait_obs 5 || tb_fail "the rebuilt observations arrive"
tb_wait_for 90 e2e_drained || tb_diag "the aggregator did not reach the end of tb.events.correlated.v1"
for e in $IDS_LATE $ID_CONTROL; do
  tb_check "event $e (from 11:00) after the replay: linked like the control event" "$want" "$(e2e_item "$e" | cut -d' ' -f1-3)"
done
for e in $IDS_EARLY; do
  tb_check "event $e (10:30) after the replay: still uncorrelated" "null null uncorrelated" "$(e2e_item "$e" | cut -d' ' -f1-3)"
done
early >"$TB_TMP/early-after.txt"
if diff "$TB_TMP/early-before.txt" "$TB_TMP/early-after.txt" >"$TB_TMP/diff.txt"; then
  tb_ok "the rows of the events before 11:00 are identical after the replay"
else
  tb_fail "the rows of the events before 11:00 are identical after the replay"
  sed 's/^/#   /' "$TB_TMP/diff.txt" | head -20
fi
offsets >"$TB_TMP/offsets-after.txt"
cmp -s "$TB_TMP/offsets-before.txt" "$TB_TMP/offsets-after.txt" &&
  tb_ok "the aggregator's artifact and finding offsets were kept" ||
  tb_fail "the aggregator's artifact and finding offsets were kept"
tb_check "every event counted once: 5 observations, hot-symbols artifact=B counts the 3 linked ones" "5 ksys_write 3 3" \
  "$(tb_psql -c 'SELECT count(*) FROM observations') $(tb_api_get "/api/v1/runtime/hot-symbols?artifact=$DB&from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z" | jq -r '.items[0] | "\(.symbol) \(.self_count) \(.total_count)"')"
tb_finish
