-- tests/data/api/queries-fixture.sql — rows for the timeline-api query tests
-- (tests/integration/040-api-ingest-and-queries.sh, 041-api-auth-and-tenants.sh),
-- written straight into the aggregator's tables (run as the owner, after the
-- migrations). Two tenants, "default" and "other", with overlapping times,
-- the same artifacts and the same ids, so every query must filter by tenant.
--
-- default: 36 observations every 10 s from 2026-03-14 09:00:00 UTC, three
-- per timestamp (ties broken by event_id), cycling through artifacts
-- A, B and none, leaf symbols SSL_read / main / none and stacks 5001..5003
-- / none; counts 1..4. other: 12 observations at the same times on A.
-- Hot-symbol windows (60 s and their 3600 s rollups) are described where
-- they are inserted; the expected answers are in the tests.

INSERT INTO symbols (tenant, symbol_id, build_id, module, name, purl)
SELECT t, s.id, s.bid, s.module, s.name, s.purl
  FROM (VALUES ('default'), ('other')) AS tn(t),
       (VALUES (101, 'aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11', 'libssl.so.3', 'SSL_read', 'pkg:deb/debian/libssl3@3.0.11'),
               (102, 'aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11', 'libssl.so.3', 'ssl3_read_bytes', 'pkg:deb/debian/libssl3@3.0.11'),
               (103, 'bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22', 'app', 'main', 'pkg:generic/app@1.0'),
               (104, '', '[kernel]', 'do_syscall_64', NULL),
               (105, 'cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33', 'libfoo.so', '', NULL))
       AS s(id, bid, module, name, purl);

INSERT INTO frames (tenant, frame_id, symbol_id, file_offset, kernel)
SELECT t, f.id, f.sym, f.off, f.k
  FROM (VALUES ('default'), ('other')) AS tn(t),
       (VALUES (1001, 101, 4096, false), (1002, 102, 8192, false), (1003, 103, 768, false),
               (1004, 104, 16, true), (1005, 105, 64, false)) AS f(id, sym, off, k);

-- innermost first
INSERT INTO stacks (tenant, stack_id, frame_ids)
SELECT t, s.id, s.frames
  FROM (VALUES ('default'), ('other')) AS tn(t),
       (VALUES (5001, ARRAY[1001, 1002, 1003]::bigint[]), (5002, ARRAY[1004, 1003]::bigint[]),
               (5003, ARRAY[1005, 1003]::bigint[])) AS s(id, frames);

INSERT INTO observations (ts, stack_id, leaf_symbol_id, count, event_id, tenant, kind, source, node,
                          namespace, workload, image_digest, artifact_digest, purl, correlation)
SELECT timestamptz '2026-03-14 09:00:00+00' + make_interval(secs => (i / 3) * 10),
       (ARRAY[5001, 5002, 5003, 0])[i % 4 + 1],
       (ARRAY[101, 103, NULL])[i % 3 + 1],
       i % 4 + 1,
       decode(md5('default/' || i), 'hex'),
       'default', 'sample', 'probe', 'node-1', 'payments', 'checkout',
       'sha256:' || repeat('d', 64),
       (ARRAY['sha256:' || repeat('a', 64), 'sha256:' || repeat('b', 64), ''])[i % 3 + 1],
       (ARRAY['pkg:deb/debian/libssl3@3.0.11', 'pkg:generic/app@1.0', NULL])[i % 3 + 1],
       (ARRAY['correlated', 'partial', 'uncorrelated'])[i % 3 + 1]
  FROM generate_series(0, 35) AS i;

INSERT INTO observations (ts, stack_id, leaf_symbol_id, count, event_id, tenant, kind, source, node,
                          artifact_digest, purl, correlation)
SELECT timestamptz '2026-03-14 09:00:00+00' + make_interval(secs => i * 10), 5001, 101, 7,
       decode(md5('other/' || i), 'hex'), 'other', 'sample', 'probe', 'node-9',
       'sha256:' || repeat('a', 64), 'pkg:deb/debian/libssl3@3.0.11', 'correlated'
  FROM generate_series(0, 11) AS i;

-- Hot-symbol windows of tenant default, artifact A (minute rows and their
-- hourly rollups, as the aggregator keeps them):
--   09:00 SSL_read (101)        self 5   total 8
--   09:01 ssl3_read_bytes (102) self 8   total 10
--   09:02 main (103)            self 8   total 12   (ties with 104 on every
--   09:02 do_syscall_64 (104)   self 8   total 12    count and time: id order)
--   09:05 SSL_read (101)        self 3   total 3
--   10:30 SSL_read (101)        self 100 total 100
-- artifact B: 09:03 SSL_read self 1000 total 1000.
-- tenant other: 09:00 main self 5000 total 5000 on artifact A.
INSERT INTO hot_symbols (tenant, artifact_digest, width, window_start, symbol_id, self_count, total_count,
                         first_seen, last_seen)
VALUES
  ('default', 'sha256:' || repeat('a', 64), 60, '2026-03-14 09:00:00+00', 101, 5, 8, '2026-03-14 09:00:01+00', '2026-03-14 09:00:50+00'),
  ('default', 'sha256:' || repeat('a', 64), 60, '2026-03-14 09:01:00+00', 102, 8, 10, '2026-03-14 09:01:02+00', '2026-03-14 09:01:30+00'),
  ('default', 'sha256:' || repeat('a', 64), 60, '2026-03-14 09:02:00+00', 103, 8, 12, '2026-03-14 09:02:00+00', '2026-03-14 09:02:40+00'),
  ('default', 'sha256:' || repeat('a', 64), 60, '2026-03-14 09:02:00+00', 104, 8, 12, '2026-03-14 09:02:00+00', '2026-03-14 09:02:40+00'),
  ('default', 'sha256:' || repeat('a', 64), 60, '2026-03-14 09:05:00+00', 101, 3, 3, '2026-03-14 09:05:10+00', '2026-03-14 09:05:20+00'),
  ('default', 'sha256:' || repeat('a', 64), 60, '2026-03-14 10:30:00+00', 101, 100, 100, '2026-03-14 10:30:00+00', '2026-03-14 10:30:59+00'),
  ('default', 'sha256:' || repeat('b', 64), 60, '2026-03-14 09:03:00+00', 101, 1000, 1000, '2026-03-14 09:03:00+00', '2026-03-14 09:03:01+00'),
  ('other', 'sha256:' || repeat('a', 64), 60, '2026-03-14 09:00:00+00', 103, 5000, 5000, '2026-03-14 09:00:00+00', '2026-03-14 09:00:01+00');

INSERT INTO hot_symbols (tenant, artifact_digest, width, window_start, symbol_id, self_count, total_count,
                         first_seen, last_seen)
SELECT tenant, artifact_digest, 3600, date_trunc('hour', window_start, 'UTC'), symbol_id, sum(self_count),
       sum(total_count), min(first_seen), max(last_seen)
  FROM hot_symbols WHERE width = 60
 GROUP BY tenant, artifact_digest, date_trunc('hour', window_start, 'UTC'), symbol_id;
