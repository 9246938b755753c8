-- 002_symbols_stacks.sql — dictionaries of symbols, frames and stacks.
--
-- Observations and hot-symbol windows refer to these by 64-bit ids (bigint,
-- 8 bytes) instead of repeating names, build-ids and frame lists per event.
-- Ids are stable hashes of canonical content computed by the pipeline
-- (tb/hash.h), so a writer inserts with ON CONFLICT DO NOTHING and replays
-- write the same rows. Content is the same for every tenant, but each tenant
-- gets its own rows: one tenant can never learn what another one runs.

-- A function of a binary: the unit hot symbols and findings talk about.
-- symbol_id = stable hash of (build_id, module, name); several frames (file
-- offsets inside the function) share one symbol.
CREATE TABLE symbols (
    tenant    text   NOT NULL,
    symbol_id bigint NOT NULL,
    build_id  text   NOT NULL DEFAULT '',  -- lowercase hex; '' for kernel / unknown
    module    text   NOT NULL,             -- basename, e.g. libssl.so.3, [kernel]
    name      text   NOT NULL,             -- demangled, compiler suffixes stripped; '' unknown
    purl      text,                        -- component owning build_id, NULL uncorrelated
    PRIMARY KEY (tenant, symbol_id)
);
-- symbol=NAME filters and finding scope: (purl, name) -> symbol ids
CREATE INDEX symbols_name_idx ON symbols (tenant, name);
CREATE INDEX symbols_purl_name_idx ON symbols (tenant, purl, name) WHERE purl IS NOT NULL;

-- A canonical frame (frame_id from the canonicalizer): a place in a function.
CREATE TABLE frames (
    tenant      text    NOT NULL,
    frame_id    bigint  NOT NULL,
    symbol_id   bigint  NOT NULL,
    file_offset bigint  NOT NULL,  -- user: offset in the module file; kernel: offset in the symbol
    kernel      boolean NOT NULL,
    PRIMARY KEY (tenant, frame_id)
);

-- A call stack (stack_id from the canonicalizer): frame ids, innermost first,
-- kernel frames before user frames. Folded stacks for flame graphs join
-- frame_ids -> frames -> symbols.
CREATE TABLE stacks (
    tenant    text     NOT NULL,
    stack_id  bigint   NOT NULL,
    frame_ids bigint[] NOT NULL,
    PRIMARY KEY (tenant, stack_id)
);
