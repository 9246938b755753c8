-- 005_sink_offsets.sql — the aggregator's consumed Kafka offsets.
--
-- Stored in the same transaction as the rows a batch produced, so PostgreSQL
-- and the offsets never disagree: after a crash the aggregator seeks each
-- assigned partition to next_offset (offset of the last stored message + 1)
-- and redelivered messages are no-ops. Pipeline state, not tenant data: one
-- row per (group, topic, partition) covers every tenant in that partition.

CREATE TABLE sink_offsets (
    consumer_group text        NOT NULL,
    topic          text        NOT NULL,
    partition      integer     NOT NULL CHECK (partition >= 0),
    next_offset    bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
