-- 003_observations.sql — one row per runtime event (after canonicalization
-- and correlation): the timeline.
--
-- Partitioned by range on ts, one partition per UTC day, so retention drops
-- whole days (tb_observations_drop_before) and time-bounded queries touch only
-- the days they need. The aggregator calls tb_observations_partition(ts) for
-- every distinct day of a batch before inserting; observations_default catches
-- rows of days nobody prepared (a safety net: creating the day later moves
-- them into it).
--
-- Dedup: the aggregator inserts with ON CONFLICT DO NOTHING and counts an event
-- only when its row was new. PostgreSQL requires the partition key in every
-- unique constraint of a partitioned table, so the key is (tenant, ts,
-- event_id) rather than event_id alone. That is equivalent: event_id is a
-- deterministic hash of the event's source identity, which includes the event
-- time, so one event_id always comes with the same ts (and a replay lands in
-- the same partition). tenant is part of the key so that two tenants sending
-- the same source event each own their copy.
--
-- The same key, ordered (tenant, ts, event_id), serves the timeline's keyset
-- pagination: WHERE tenant = $1 AND (ts, event_id) > ($cursor_ts,
-- $cursor_id) AND ts < $to ORDER BY ts, event_id LIMIT $n. The filtered
-- timelines (artifact=, purl=, symbol= resolved to leaf symbol ids) have an
-- index each ending in (ts, event_id), so they paginate the same way.
--
-- Width: this is per-event detail; hot_symbols holds the folded counts.
-- Fixed-width columns come first (no alignment padding), ids are bigint and
-- event_id is 16 raw bytes, not hex text; absent text is NULL (a bit in the
-- null bitmap, no bytes).

CREATE TABLE observations (
    ts              timestamptz NOT NULL,  -- event time (UTC, microseconds)
    stack_id        bigint      NOT NULL DEFAULT 0,  -- stacks.stack_id; 0: no stack
    leaf_symbol_id  bigint,                -- symbols.symbol_id of the innermost frame; NULL: none
    count           bigint      NOT NULL DEFAULT 1 CHECK (count >= 1),  -- samples folded in
    event_id        bytea       NOT NULL CHECK (octet_length(event_id) = 16),
    tenant          text        NOT NULL,
    kind            text        NOT NULL,  -- sample|uprobe|kprobe|exec|exit|load|...
    source          text        NOT NULL,  -- tetragon|probe|api
    node            text,                  -- keyed hash of the node name
    namespace       text,
    workload        text,
    image_digest    text,
    artifact_digest text        NOT NULL DEFAULT '',  -- main binary's artifact; '' uncorrelated
    purl            text,                  -- component of the leaf user frame, NULL unknown
    correlation     text,                  -- correlated|partial|uncorrelated
    PRIMARY KEY (tenant, ts, event_id)
) PARTITION BY RANGE (ts);

CREATE TABLE observations_default PARTITION OF observations DEFAULT;

-- Cheap time pruning inside a day and for the default partition.
CREATE INDEX observations_ts_brin ON observations USING brin (ts);
-- Timeline filters, each keyset-paginated on (ts, event_id).
CREATE INDEX observations_artifact_idx ON observations (tenant, artifact_digest, ts, event_id)
    WHERE artifact_digest <> '';
CREATE INDEX observations_purl_idx ON observations (tenant, purl, ts, event_id)
    WHERE purl IS NOT NULL;
CREATE INDEX observations_symbol_idx ON observations (tenant, leaf_symbol_id, ts, event_id)
    WHERE leaf_symbol_id IS NOT NULL;

-- tb_observations_partition(ts): make sure the day partition holding ts
-- exists; returns its name (observations_YYYYMMDD, the UTC day). Rows of that
-- day already caught by observations_default are moved into it.
--
-- The partition is built as a plain table and then attached: ATTACH PARTITION
-- takes only a SHARE UPDATE EXCLUSIVE lock on observations, so API readers and
-- other writers are not blocked (CREATE TABLE ... PARTITION OF would take an
-- ACCESS EXCLUSIVE lock). Concurrent callers serialize on an advisory lock and
-- re-check; in READ COMMITTED each check sees what the other committed (under
-- REPEATABLE READ a concurrent creation makes the loser fail: retry it).
CREATE FUNCTION tb_observations_partition(p_ts timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    day_start timestamptz;
    day_end   timestamptz;
    part      text;
    nsp       text;
BEGIN
    IF p_ts IS NULL THEN
        RAISE EXCEPTION 'tb_observations_partition: timestamp is NULL';
    END IF;
    day_start := date_trunc('day', p_ts, 'UTC');
    day_end := day_start + interval '1 day';
    part := 'observations_' || to_char(day_start AT TIME ZONE 'UTC', 'YYYYMMDD');
    SELECT n.nspname INTO nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = 'observations'::regclass;
    IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = nsp AND tablename = part) THEN
        RETURN part;
    END IF;
    PERFORM pg_advisory_xact_lock(7562, 1);  -- (tracebridge, observation partitions)
    IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = nsp AND tablename = part) THEN
        RETURN part;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.observations INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   nsp, part, nsp);
    EXECUTE format('WITH moved AS (DELETE FROM %I.observations_default WHERE ts >= $1 AND ts < $2 RETURNING *) '
                   'INSERT INTO %I.%I SELECT * FROM moved', nsp, nsp, part)
        USING day_start, day_end;
    EXECUTE format('ALTER TABLE %I.observations ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                   nsp, nsp, part, day_start, day_end);
    RETURN part;
END
$$;

-- tb_observations_drop_before(cutoff): retention. Drops every day partition
-- that ends at or before cutoff and deletes older rows from the default
-- partition; returns the number of partitions dropped. (Dropping a partition
-- briefly locks observations exclusively: run it off-peak, e.g. daily.)
CREATE FUNCTION tb_observations_drop_before(p_cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r       record;
    dropped integer := 0;
BEGIN
    FOR r IN
        SELECT n.nspname AS nsp, c.relname AS part,
               to_date(substring(c.relname FROM '^observations_([0-9]{8})$'), 'YYYYMMDD') AS day
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE i.inhparent = 'observations'::regclass
           AND c.relname ~ '^observations_[0-9]{8}$'
         ORDER BY c.relname
    LOOP
        -- the partition holds [day, day + 1) in UTC
        IF (r.day + 1)::timestamp AT TIME ZONE 'UTC' <= p_cutoff THEN
            EXECUTE format('DROP TABLE %I.%I', r.nsp, r.part);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    DELETE FROM observations_default WHERE ts < p_cutoff;
    RETURN dropped;
END
$$;
