-- 008_hot_symbols_hour_cover.sql — the hourly windows of one artifact, read
-- from an index alone.
--
-- "Hot symbols of artifact A over a day" (GET /api/v1/runtime/hot-symbols)
-- sums the 1-hour windows of the range's whole hours (and 1-minute windows
-- for its ragged edges). Through the primary key each of those ~4 000 rows an
-- artifact-hour is a heap fetch, and the hourly rows lie scattered between
-- the far more numerous minute rows (written in the same batches): at 10 M
-- observations a day of one artifact touched ~96 000 heap pages (192 ms p50,
-- make bench). This partial index holds only the hourly rows, ordered by
-- (tenant, artifact, window_start) and carrying every column the route
-- reads, so the route is an index-only scan of a few MB. It is partial
-- (width = 3600): the minute rows, ~95 % of the table, are not in it. Cost:
-- one more index entry per hourly-row write, and since it includes the
-- counts, updates of hot_symbols rows are no longer HOT updates.
CREATE INDEX hot_symbols_hour_cover_idx ON hot_symbols (tenant, artifact_digest, window_start)
    INCLUDE (symbol_id, self_count, total_count, first_seen, last_seen)
    WHERE width = 3600;

-- The finding score and traces fold a window's observations by (stack, purl,
-- artifact, kind, attached) (services/timeline-api/findings.h,
-- TB_FND_GROUPED_CTE). Without this the planner multiplies the columns'
-- distinct counts (~10^6 groups expected; a stack fixes its purl, and ~2*10^4
-- appear) and sorts millions of rows on disk instead of hashing them: 9 s
-- instead of 3.5 s for a day at 10 M observations. Autovacuum does not
-- ANALYZE a partitioned table itself: run ANALYZE observations after bulk
-- loads (the partitions' own statistics are kept by autovacuum).
CREATE STATISTICS observations_stack_groups (ndistinct)
    ON stack_id, purl, (COALESCE(NULLIF(artifact_digest, ''), image_digest, '')), kind, attached
    FROM observations;
