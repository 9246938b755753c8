-- 004_hot_symbols.sql — folded counts per symbol and time window: what the
-- hot-symbol, score and finding-trace queries read instead of observations.
--
-- One row per (tenant, artifact, window width, window start, symbol). The
-- aggregator adds each NEW observation (never a duplicate: see observations)
-- to the 1-minute window and to the 1-hour window containing its ts, in the
-- same transaction, with INSERT ... ON CONFLICT DO UPDATE SET self_count =
-- self_count + EXCLUDED.self_count, ... . So the hourly rows are the rollup of
-- the minute rows at every commit and queries over long ranges read 60x fewer
-- rows. A multi-row upsert must not hold one key twice: pre-aggregate a batch.
--
-- self_count: samples where the symbol was the innermost frame; total_count:
-- samples where it was anywhere on the stack (so self <= total).
-- artifact_digest '' holds samples of unknown artifacts (key columns cannot be
-- NULL). width is the window length in seconds.

CREATE TABLE hot_symbols (
    window_start    timestamptz NOT NULL,
    symbol_id       bigint      NOT NULL,  -- symbols.symbol_id
    self_count      bigint      NOT NULL DEFAULT 0,
    total_count     bigint      NOT NULL DEFAULT 0,
    first_seen      timestamptz NOT NULL,
    last_seen       timestamptz NOT NULL,
    width           integer     NOT NULL CHECK (width IN (60, 3600)),
    tenant          text        NOT NULL,
    artifact_digest text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, artifact_digest, width, window_start, symbol_id),
    CONSTRAINT hot_symbols_window_aligned CHECK (mod(extract(epoch FROM window_start), width) = 0),
    CONSTRAINT hot_symbols_counts CHECK (self_count >= 0 AND total_count >= self_count),
    CONSTRAINT hot_symbols_seen_in_window CHECK (window_start <= first_seen AND first_seen <= last_seen
           AND last_seen < window_start + make_interval(secs => width))
);
-- The primary key serves "hot symbols of artifact A between from and to";
-- these serve the same across all artifacts and per symbol (finding scope).
CREATE INDEX hot_symbols_window_idx ON hot_symbols (tenant, width, window_start);
CREATE INDEX hot_symbols_symbol_idx ON hot_symbols (tenant, symbol_id, width, window_start);
