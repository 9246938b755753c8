/*
 * requests.h — parsers of the JSON request bodies the timeline-api ingests:
 * POST /api/v1/artifacts, POST /api/v1/findings, our trace JSON on
 * POST /api/v1/runtime/traces, and the StellaOps-compatible
 * POST /api/v1/findings/{id}/runtime/traces. They turn a body into the record
 * structs of tb/records.h or fail with "<json path>: <reason>" (the API
 * answers 400 with that message). HTTP, auth and producing are the caller's.
 *
 * Our trace JSON (for callers without Tetragon), one event:
 *   {"event_id": "<32 hex>"?,            -- wins over the derived id
 *    "node": "worker-3",                  -- required
 *    "time": "2025-01-21T07:30:00.123456789Z" | "ts_ns": 1737444600123456789,
 *                                         -- exactly one; ts_ns may be a decimal string
 *    "kind": "sample|uprobe|uretprobe|kprobe|kretprobe|tracepoint|lsm|usdt|exec|exit|load",
 *    "process": {"pid","tid","uid","binary","build_id","exec_id","parent_exec_id","comm","args","cwd"}?,
 *    "container": {"id","name","image","image_digest","pod","namespace","workload","workload_kind"}?,
 *    "count": 1?, "hook": "SSL_read"?, "policy"?, "path"?, "build_id"?,
 *    "kernel_stack": [{"symbol", "offset"?, "module"?, "address"?}]?,       -- innermost first
 *    "user_stack": [{"module"?, "build_id"?, "file_offset"?, "symbol"?, "address"?}]?}
 *                                         -- innermost first; module, build_id or symbol needed
 * Integers (pid, offsets, addresses, count, ts_ns) are JSON numbers or, for
 * values past 2^63 or by taste, decimal strings; offsets and addresses also
 * "0x..." hex strings. Stacks hold at most TB_MAX_FRAMES frames. A batch is
 * {"events": [event, ...]} or a top-level array of events.
 * event_id (16 bytes) when not given: BLAKE2b-128 via tb/hash.h, domain
 * "api.event.v1", fields (tenant, canonical event JSON) where the canonical
 * JSON is the event object re-serialized with sorted keys and no
 * whitespace (jansson JSON_SORT_KEYS|JSON_COMPACT: UTF-8 kept, only '"',
 * '\\' and control characters escaped). Re-sending the same event (any key
 * order or spacing) gives the same id, so retries and replays collapse.
 *
 * StellaOps finding-scoped trace (one object):
 *   {"artifactDigest": "sha256:<64 hex>", "componentPurl": "pkg:...",      -- required
 *    "frames": [{"symbol", "buildId"?, "module"?, "fileOffset"?}],       -- >= 1, innermost first
 *    "hits": 1?, "observedAt": RFC 3339?, "node"?, "kind"? (default "uprobe"),
 *    "containerId"?, "pod"?, "namespace"?, "workload"?, "pid"?, "binary"?, "eventId"?}
 * The event's image digest is artifactDigest and its hook the first frame's
 * symbol; its id is BLAKE2b-128 over ("api.finding-trace.v1", tenant,
 * finding id, canonical body JSON) unless eventId (32 hex) is given.
 */
#ifndef TB_TIMELINE_REQUESTS_H
#define TB_TIMELINE_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"
#include "sbom.h"

#define TB_REQ_DEFAULT_MAX_EVENTS 10000
#define TB_REQ_DEFAULT_MAX_SYMBOLS 4096

typedef struct tb_req_limits {
	tb_sbom_limits_t sbom; /* also caps the binaries after merging the explicit list */
	size_t max_events;     /* events in one trace batch */
	size_t max_symbols;    /* symbols of one finding */
} tb_req_limits_t;

void tb_req_limits_default(tb_req_limits_t *lim);

/* POST /api/v1/artifacts:
 *   {"digest": "sha256:<64 hex>", "name"?, "version"?,
 *    "sbom"?: <CycloneDX or SPDX JSON object, or that document as a string>,
 *    "binaries"?: [{"path"?, "build_id"?, "purl"?}]}
 * At least one of sbom and binaries. Binaries from the SBOM and the list are
 * merged by path (or by build-id for path-less entries); for the same binary
 * the fields the list gives win. name/version default to the SBOM's.
 * sbom_sha256 is over the SBOM's exact bytes: the bytes of the "sbom" value
 * as they appear in the body, or the string's content. A body that is itself
 * an SBOM is accepted too; the digest then comes from the SBOM and must be
 * there. tenant and registered_ns are left to the caller. `out` zeroed. */
int tb_req_parse_artifact(const char *body, size_t len, const tb_req_limits_t *lim, tb_artifact_t *out,
			  tb_err_t *err);

/* POST /api/v1/findings:
 *   {"id" | "finding_id", "vuln_id", "purl", "artifact_digest"?, "symbols"?: [..]}
 * vuln_id: CVE-YYYY-NNNN+, GHSA-xxxx-xxxx-xxxx, or PREFIX-rest (GO-, PYSEC-,
 * RUSTSEC-, OSV-, ...). Duplicate symbols are dropped. `out` zeroed. */
int tb_req_parse_finding(const char *body, size_t len, const tb_req_limits_t *lim, tb_finding_t *out,
			 tb_err_t *err);

/* Finding ids (body or URL): 1..256 of [A-Za-z0-9._:@+~-]. 0 or -1 + why. */
int tb_req_check_finding_id(const char *id, char *why, size_t why_len);

typedef struct tb_event_list {
	tb_runtime_event_t *events;
	size_t n;
} tb_event_list_t;

void tb_event_list_clear(tb_event_list_t *l);

/* 1 when the body is our trace JSON (an object with "events" or "kind", or an
 * array), 0 otherwise (e.g. Tetragon JSON or NDJSON, or not JSON). */
int tb_req_is_trace_json(const char *body, size_t len);

/* Our trace JSON (one event or a batch) into events with source "api" and
 * the given tenant. `out` zeroed; on error it stays empty. */
int tb_req_parse_traces(const char *body, size_t len, const char *tenant, const tb_req_limits_t *lim,
			tb_event_list_t *out, tb_err_t *err);

typedef struct tb_finding_trace {
	char *finding_id;
	char *artifact_digest;
	char *component_purl; /* no RuntimeEvent field carries it yet: the caller keeps it */
	tb_runtime_event_t event;
} tb_finding_trace_t;

void tb_finding_trace_clear(tb_finding_trace_t *t);

/* POST /api/v1/findings/{id}/runtime/traces. now_ns is the event time when
 * the body has no observedAt. `out` zeroed. */
int tb_req_parse_finding_trace(const char *finding_id, const char *body, size_t len, const char *tenant,
			       int64_t now_ns, tb_finding_trace_t *out, tb_err_t *err);

/* RFC 3339 date-time ("2025-01-21T07:30:00.5+01:00") to ns since the epoch
 * (UTC). 0, or -1 when malformed or before 1970 / after 2262. */
int tb_req_parse_rfc3339(const char *s, int64_t *ns);

#endif
