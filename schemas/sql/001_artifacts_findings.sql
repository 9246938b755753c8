-- 001_artifacts_findings.sql — what we know about build artifacts and findings.
--
-- Written only by the aggregator, from the compacted topics tb.artifacts.v1
-- (key = digest) and tb.findings.v1 (key = finding_id): each record replaces
-- the previous version of its key, so the writer upserts the parent row and
-- replaces its child rows (components, binaries, finding symbols) in the same
-- transaction; ON DELETE CASCADE makes "delete children, insert new ones" and
-- a deleted artifact/finding one statement each.
--
-- Every data table carries tenant and every key starts with it: tenants never
-- see each other's rows, and the API filters by tenant first.
-- Timestamps are timestamptz (UTC); digests are "sha256:<hex>" strings as in
-- the records.

CREATE TABLE artifacts (
    tenant        text        NOT NULL,
    digest        text        NOT NULL,  -- image or artifact digest, the record key
    name          text,
    version       text,
    sbom_format   text,                  -- "cyclonedx-1.5", "spdx-2.3", ...
    sbom_sha256   text,
    registered_at timestamptz NOT NULL,  -- from the record (registered_ns)
    updated_at    timestamptz NOT NULL DEFAULT now(),  -- when we last wrote the row
    PRIMARY KEY (tenant, digest)
);

CREATE TABLE artifact_components (
    tenant          text NOT NULL,
    artifact_digest text NOT NULL,
    purl            text NOT NULL,
    name            text,
    version         text,
    PRIMARY KEY (tenant, artifact_digest, purl),
    FOREIGN KEY (tenant, artifact_digest) REFERENCES artifacts (tenant, digest) ON DELETE CASCADE
);
-- "which artifacts contain this component" (purl filters, finding scope)
CREATE INDEX artifact_components_purl_idx ON artifact_components (tenant, purl);

CREATE TABLE artifact_binaries (
    tenant          text NOT NULL,
    artifact_digest text NOT NULL,
    path            text NOT NULL,
    build_id        text NOT NULL DEFAULT '',  -- lowercase hex GNU build-id; '' unknown
    purl            text,                      -- owning component, NULL if unknown
    PRIMARY KEY (tenant, artifact_digest, path),
    FOREIGN KEY (tenant, artifact_digest) REFERENCES artifacts (tenant, digest) ON DELETE CASCADE
);
-- build-id -> artifact/component (how frames are attributed)
CREATE INDEX artifact_binaries_build_id_idx ON artifact_binaries (build_id, tenant) WHERE build_id <> '';

CREATE TABLE findings (
    tenant          text        NOT NULL,
    finding_id      text        NOT NULL,
    vuln_id         text        NOT NULL,  -- e.g. CVE-2024-1234
    purl            text        NOT NULL,  -- the vulnerable component
    artifact_digest text,                  -- NULL: any artifact holding purl
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, finding_id)
);
CREATE INDEX findings_purl_idx ON findings (tenant, purl);
CREATE INDEX findings_artifact_idx ON findings (tenant, artifact_digest) WHERE artifact_digest IS NOT NULL;

-- The vulnerable functions of a finding, by (demangled) symbol name; matched
-- against symbols(purl, name).
CREATE TABLE finding_symbols (
    tenant     text NOT NULL,
    finding_id text NOT NULL,
    symbol     text NOT NULL,
    PRIMARY KEY (tenant, finding_id, symbol),
    FOREIGN KEY (tenant, finding_id) REFERENCES findings (tenant, finding_id) ON DELETE CASCADE
);
-- "which findings name this symbol"
CREATE INDEX finding_symbols_symbol_idx ON finding_symbols (tenant, symbol);
