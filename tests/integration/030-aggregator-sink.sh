#!/usr/bin/env bash
# 030 — tb-aggregator: Kafka -> PostgreSQL exactly once.
#
# Against the dev broker and a private PostgreSQL, with records produced by
# tb-gen from tests/data/aggregator/ (hand-checked) and from its synthetic
# generator:
#   - the hand-checked events, produced twice and then once more: each stored
#     once; hot_symbols (self/total counts, first/last seen, both window
#     widths, two tenants, two day partitions) exactly as expected_hot.txt;
#     symbols, frames, stacks and observation columns as designed;
#   - a garbage message goes to tb.dlq.v1 with its reason, source position and
#     original bytes, and the next record of the same partition is stored;
#   - artifacts and findings: upsert by key with children replaced, tombstones
#     delete (for one tenant with a tb-tenant header, for all without);
#   - a synthetic stream with overlapping (duplicate) ranges: a clean run, a
#     run killed with SIGKILL twice mid-stream and restarted, and the
#     long-running instance that saw everything in small steps all end with
#     the same canonical dump of every table it writes, and hot_symbols
#     equals a recomputation from observations, stacks and frames in SQL;
#   - /readyz, the metrics, and exit 0 on SIGTERM.
# Waits poll PostgreSQL until the stored offsets reach the topics' ends.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/broker.sh"
source "$(dirname "$0")/../lib/pg.sh"
source "$(dirname "$0")/../lib/aggregator.sh"

DATA="$TB_ROOT/tests/data/aggregator"
GEN="$TB_BIN/tb-gen"

compare_dumps() { # NAME FILE_A FILE_B
  if cmp -s "$2" "$3"; then
    tb_ok "$1"
  else
    tb_fail "$1"
    tb_diag "expected $(wc -l <"$2") lines, got $(wc -l <"$3"); first differences:"
    diff "$2" "$3" | head -10 | sed 's/^/#   /'
  fi
}

HOT_SQL="SELECT h.tenant, left(h.artifact_digest, 11), h.width,
                to_char(h.window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), s.name, h.self_count,
                h.total_count, to_char(h.first_seen AT TIME ZONE 'UTC', 'HH24:MI:SS'),
                to_char(h.last_seen AT TIME ZONE 'UTC', 'HH24:MI:SS')
           FROM hot_symbols h JOIN symbols s USING (tenant, symbol_id)
          WHERE h.tenant IN ('t1', 't2')
          ORDER BY 1, 2, 3, 4, s.name COLLATE \"C\""

# hot_symbols recomputed from what was stored per event (independent of the
# aggregator's C arithmetic): self = leaf symbol, total = distinct symbols.
RECOMPUTE_SQL="WITH os AS (
    SELECT DISTINCT o.tenant, o.event_id, o.artifact_digest, o.ts, o.count, o.leaf_symbol_id, f.symbol_id
      FROM observations o
      JOIN stacks s ON s.tenant = o.tenant AND s.stack_id = o.stack_id
      CROSS JOIN LATERAL unnest(s.frame_ids) AS fid
      JOIN frames f ON f.tenant = o.tenant AND f.frame_id = fid)
  SELECT os.tenant, os.artifact_digest, w.width,
         to_timestamp(floor(extract(epoch FROM os.ts) / w.width) * w.width) AS window_start, os.symbol_id,
         sum(CASE WHEN os.symbol_id = os.leaf_symbol_id THEN os.count ELSE 0 END), sum(os.count),
         min(os.ts), max(os.ts)
    FROM os CROSS JOIN (VALUES (60), (3600)) AS w(width)
   GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
STORED_HOT_SQL="SELECT tenant, artifact_digest, width, window_start, symbol_id, self_count, total_count, first_seen,
         last_seen FROM hot_symbols ORDER BY 1, 2, 3, 4, 5"

# ---- setup ------------------------------------------------------------------------
if ! tb_broker_start || ! tb_pg_start; then
  tb_fail "dev broker and PostgreSQL start"
  tb_finish
fi
tb_ok "dev broker and PostgreSQL start"
"$TB_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$(tb_pg_url postgres)" \
  -c 'CREATE DATABASE clean' -c 'CREATE DATABASE killed' >/dev/null || tb_diag "CREATE DATABASE failed"

start_agg main tracebridge tb-aggregator
MAIN=$LAST_PID
if tb_wait_for 60 is_ready main; then
  tb_ok "the aggregator connects, migrates and becomes ready"
else
  tb_fail "the aggregator connects, migrates and becomes ready"
  tail -5 "$TB_TMP/main.log" | sed 's/^/#   /'
fi
tb_check "every migration is applied at start" "$(ls "$TB_ROOT"/schemas/sql/*.sql | wc -l | tr -d ' ')" \
  "$(tb_psql -c 'SELECT count(*) FROM schema_migrations')"

# ---- hand-checked events, produced twice ----------------------------------------------
"$GEN" json -f "$DATA/events.jsonl" --repeat 2 2>"$TB_TMP/gen1.err" ||
  tb_diag "producing the fixture failed: $(cat "$TB_TMP/gen1.err")"
wait_caught_up tracebridge tb-aggregator "fixture events"
tb_check "6 events produced twice are stored once" 6 "$(tb_psql -c 'SELECT count(*) FROM observations')"
tb_check "their sample counts add up to 12" 12 "$(tb_psql -c 'SELECT sum(count) FROM observations')"
tb_check "hot_symbols: self/total counts and first/last seen per minute and hour window" \
  "$(cat "$DATA/expected_hot.txt")" "$(tb_psql -c "$HOT_SQL")"
tb_check "one symbols row per (tenant, build-id, module, name)" \
  "t1 do_syscall_64 - t1 main pkg:generic/app@2.0 t1 parse_header pkg:generic/libx@1.0 t1 read_all pkg:generic/libx@1.0 t2 main - t2 parse_header - t2 read_all - " \
  "$(tb_psql -c "SELECT tenant, name, coalesce(purl, '-') FROM symbols ORDER BY tenant, name COLLATE \"C\"" | tr '|\n' '  ')"
tb_check "frames per tenant (t1: 5 incl. the kernel frame and a second offset of read_all; t2: 3)" "t1 5 t2 3 " \
  "$(tb_psql -c 'SELECT tenant, count(*) FROM frames GROUP BY 1 ORDER BY 1' | tr '|\n' '  ')"
tb_check "stacks keep their frames innermost first" "t1 3 t1 4 t2 3 " \
  "$(tb_psql -c 'SELECT tenant, cardinality(frame_ids) FROM stacks ORDER BY 1, 2' | tr '|\n' '  ')"
tb_check "each day has its partition and the default partition stays empty" \
  "observations_20260101 5 observations_20260102 1 " \
  "$(tb_psql -c 'SELECT tableoid::regclass, count(*) FROM observations GROUP BY 1 ORDER BY 1' | tr '|\n' '  ')"
tb_check "observation columns: leaf symbol, purl of the innermost user frame, exec without stack" \
  "sample|2|parse_header|pkg:generic/libx@1.0|correlated|shop-api
exec|1|-|pkg:generic/app@2.0|correlated|shop-api
sample|1|parse_header|pkg:generic/libx@1.0|correlated|shop-api
sample|3|do_syscall_64|pkg:generic/libx@1.0|correlated|shop-api" \
  "$(tb_psql -c "SELECT o.kind, o.count, coalesce(s.name, '-'), o.purl, o.correlation, o.workload
                   FROM observations o LEFT JOIN symbols s ON s.tenant = o.tenant AND s.symbol_id = o.leaf_symbol_id
                  WHERE o.tenant = 't1' AND o.ts < '2026-01-02' ORDER BY o.ts")"
tb_check "metrics: 6 observations inserted, 6 duplicates skipped" "6 6" \
  "$(metric main observations_inserted_total) $(metric main duplicates_skipped_total)"

# ---- the same records once more (a replay) changes nothing ----------------------------------
"$GEN" json -f "$DATA/events.jsonl" 2>"$TB_TMP/gen2.err" || tb_diag "producing again failed"
wait_caught_up tracebridge tb-aggregator "replayed fixture"
tb_check "a replay of the same records stores nothing new" 6 "$(tb_psql -c 'SELECT count(*) FROM observations')"
tb_check "a replay leaves hot_symbols unchanged" "$(cat "$DATA/expected_hot.txt")" "$(tb_psql -c "$HOT_SQL")"
tb_check "the replayed events count as duplicates" 12 "$(metric main duplicates_skipped_total)"

# ---- garbage goes to the dead-letter topic, the next record is stored ------------------------
printf 'this is not avro\n' | "$KAFKA" produce -t tb.events.correlated.v1 -k same-key 2>"$TB_TMP/garbage.err" ||
  tb_diag "producing garbage failed: $(cat "$TB_TMP/garbage.err")"
"$GEN" json -f "$DATA/after_garbage.jsonl" 2>"$TB_TMP/gen3.err" || tb_diag "producing E7 failed"
wait_caught_up tracebridge tb-aggregator "garbage and E7"
tb_check "the record after the garbage one is stored" "1 t3 uprobe" \
  "$(tb_psql -c "SELECT count(*), min(tenant), min(kind) FROM observations WHERE tenant = 't3'" | tr '|' ' ')"
timeout 60 "$GEN" dump -t tb.events.correlated.v1 --idle-exit 3000 >"$TB_TMP/events.dump" 2>/dev/null
garbage_pos=$(jq -r 'select(.error != null) | "\(.partition) \(.offset)"' "$TB_TMP/events.dump")
e7_pos=$(jq -r 'select(.record.tenant == "t3") | "\(.partition) \(.offset)"' "$TB_TMP/events.dump")
tb_check "the garbage message and the good one share a partition, one offset apart" \
  "${garbage_pos% *} $((${garbage_pos#* } + 1))" "$e7_pos"
timeout 60 "$GEN" dump -t tb.dlq.v1 --exit-after 1 >"$TB_TMP/dlq.dump" 2>/dev/null
tb_check "the dead letter names the service, the source position and keeps the original bytes" \
  "aggregator tb.events.correlated.v1 $garbage_pos this is not avro same-key" \
  "$(jq -r '.record | "\(.service) \(.source_topic) \(.partition) \(.offset) \(.payload) \(.key)"' "$TB_TMP/dlq.dump")"
reason=$(jq -r '.record.reason' "$TB_TMP/dlq.dump")
case "$reason" in
  decode:*) tb_ok "the dead letter's reason says what was wrong ($reason)" ;;
  *) tb_fail "the dead letter's reason says what was wrong"; tb_diag "got: $reason" ;;
esac

# ---- artifacts and findings: upserts and tombstones ---------------------------------------------
"$GEN" json --type artifact -f "$DATA/artifacts.jsonl" 2>"$TB_TMP/gen4.err" || tb_diag "producing artifacts failed"
"$GEN" json --type finding -f "$DATA/findings.jsonl" 2>"$TB_TMP/gen5.err" || tb_diag "producing findings failed"
wait_caught_up tracebridge tb-aggregator "artifacts and findings"
tb_check "the newest artifact version is stored; a tombstone without tenant removed both tenants' copies" \
  "t1|sha256:aaaa|shop|1.1|spdx-2.3|2026-01-01 00:01:40" \
  "$(tb_psql -c "SELECT tenant, left(digest, 11), name, version, sbom_format,
                        to_char(registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM artifacts")"
tb_check "the artifact's components were replaced" "pkg:generic/libx@1.1 libx 1.1" \
  "$(tb_psql -c 'SELECT purl, name, version FROM artifact_components' | tr '|' ' ')"
tb_check "the artifact's binaries were replaced (missing purl stays NULL)" "/usr/bin/app cccc2222 -" \
  "$(tb_psql -c "SELECT path, build_id, coalesce(purl, '-') FROM artifact_binaries" | tr '|' ' ')"
tb_check "findings: F-1 updated for t1, t2's F-1 kept, t1's F-2 deleted by its tombstone" \
  "t1 F-1 CVE-2026-0001 sha256:aaaa t2 F-1 CVE-2026-0001 - " \
  "$(tb_psql -c "SELECT tenant, finding_id, vuln_id, coalesce(left(artifact_digest, 11), '-') FROM findings
                  ORDER BY 1, 2" | tr '|\n' '  ')"
tb_check "finding symbols were replaced" "t1 F-1 parse_header t2 F-1 parse_header " \
  "$(tb_psql -c 'SELECT tenant, finding_id, symbol FROM finding_symbols ORDER BY 1, 2, 3' | tr '|\n' '  ')"

# ---- a synthetic stream with duplicates ------------------------------------------------------------
SYN=(--tenants 3 --stacks 40 --symbols 120 --depth 6 --artifacts 3 --step-ns 7000000)
"$GEN" synth -n 8000 "${SYN[@]}" 2>"$TB_TMP/gen6.err" || tb_diag "synth 1 failed: $(cat "$TB_TMP/gen6.err")"
"$GEN" synth --first 4000 -n 8000 "${SYN[@]}" 2>"$TB_TMP/gen7.err" || tb_diag "synth 2 failed"
TOTAL=$((6 + 1 + 12000))
wait_caught_up tracebridge tb-aggregator "synthetic stream"
tb_check "overlapping synthetic ranges: every event once" "$TOTAL" \
  "$(tb_psql -c 'SELECT count(*) FROM observations')"

# ---- a clean run from scratch --------------------------------------------------------------------------
start_agg clean clean clean
wait_caught_up clean clean "clean run"
tb_check "a clean run stores every event once" "$TOTAL" "$(psql_db clean -c 'SELECT count(*) FROM observations')"
kill -TERM "$LAST_PID"
wait_exit "$LAST_PID" 60
tb_check "the clean run exits 0 on SIGTERM" 0 "$STATUS"
dump clean clean >"$TB_TMP/clean.dump"

# ---- a run killed with SIGKILL twice mid-stream -------------------------------------------------------
start_agg killed1 killed killed --batch-max 100
tb_wait_for "$WAIT" at_least killed 3000 || tb_diag "the first killed run did not reach 3000 events"
kill -KILL "$LAST_PID"
wait_exit "$LAST_PID" 30
first_kill=$(count_in killed)
start_agg killed2 killed killed --batch-max 100
tb_wait_for "$WAIT" at_least killed $((first_kill + 3000)) || tb_diag "the second killed run did not progress"
kill -KILL "$LAST_PID"
wait_exit "$LAST_PID" 30
second_kill=$(count_in killed)
if [ "$first_kill" -lt "$TOTAL" ] && [ "$second_kill" -lt "$TOTAL" ] && [ "$first_kill" -lt "$second_kill" ]; then
  tb_ok "both kills happened mid-stream ($first_kill and $second_kill of $TOTAL events stored)"
else
  tb_fail "both kills happened mid-stream"
  tb_diag "stored at the kills: $first_kill, $second_kill of $TOTAL"
fi
start_agg killed3 killed killed --batch-max 100
wait_caught_up killed killed "run after two kills"
kill -TERM "$LAST_PID"
wait_exit "$LAST_PID" 60
tb_check "the restarted run exits 0 on SIGTERM" 0 "$STATUS"
dump killed killed >"$TB_TMP/killed.dump"
compare_dumps "killed twice and restarted = clean run (canonical dump of every table)" \
  "$TB_TMP/clean.dump" "$TB_TMP/killed.dump"

# ---- the long-running instance saw everything in small steps ------------------------------------------
dump tracebridge tb-aggregator >"$TB_TMP/main.dump"
compare_dumps "fed in many small steps with replays = clean run (canonical dump of every table)" \
  "$TB_TMP/clean.dump" "$TB_TMP/main.dump"
psql_db clean -c "$RECOMPUTE_SQL" >"$TB_TMP/recomputed.txt"
psql_db clean -c "$STORED_HOT_SQL" >"$TB_TMP/stored_hot.txt"
compare_dumps "hot_symbols equals its recomputation from observations, stacks and frames" \
  "$TB_TMP/recomputed.txt" "$TB_TMP/stored_hot.txt"
tb_check "hot rows exist for both widths" "60 3600 " \
  "$(psql_db clean -c 'SELECT DISTINCT width FROM hot_symbols ORDER BY 1' | tr '\n' ' ')"

# ---- ops -------------------------------------------------------------------------------------------------
tb_check "/readyz answers 200 while Kafka and PostgreSQL are up" 200 "$(readyz_code main)"
missing=""
for m in events_in_total observations_inserted_total duplicates_skipped_total transaction_ms batch_messages \
  transactions_total aggregator_dead_letters_total; do
  [ -n "$(metric main "$m")" ] || missing="$missing $m"
done
tb_check "the metrics are exported" "" "$missing"
tb_check "one dead letter was counted" 1 "$(metric main aggregator_dead_letters_total)"
kill -TERM "$MAIN"
wait_exit "$MAIN" 60
tb_check "the aggregator exits 0 on SIGTERM" 0 "$STATUS"
grep -q '"level":"error"' "$TB_TMP/main.log" && tb_diag "errors in the log: $(grep '"level":"error"' "$TB_TMP/main.log" | head -3)"
tb_finish
