-- 007 — evidence of absence: attached uprobes with a zero count.
--
-- A probe-agent uprobe event carries `attached` (RuntimeEvent -> CanonicalEvent
-- -> CorrelatedEvent): the probe was attached for the event's window, so a
-- count of 0 means "watched and not executed". Such events are stored with
-- count 0 and attached = true; every other observation keeps count >= 1.
-- The finding score (docs/FINDINGS-API.md) reads them as negative evidence.

ALTER TABLE observations ADD COLUMN attached boolean NOT NULL DEFAULT false;

-- Replace the count check on the parent (recursing into the partitions) and
-- drop any copy a partition holds as its own (day partitions are created with
-- LIKE ... INCLUDING CONSTRAINTS and then attached).
ALTER TABLE observations DROP CONSTRAINT IF EXISTS observations_count_check;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS part
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'observations'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS observations_count_check', r.part);
    END LOOP;
END
$$;
ALTER TABLE observations ADD CONSTRAINT observations_count_check
    CHECK (count >= 1 OR (attached AND count = 0));
