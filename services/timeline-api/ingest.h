/*
 * ingest.h — the write side of the timeline-api: request bodies to records,
 * records to Kafka.
 *
 * POST /api/v1/runtime/traces accepts two body formats, told apart by
 * tb_req_is_trace_json (requests.h):
 *   - Tetragon JSON export: one object, NDJSON, or pretty-printed objects
 *     back to back. Split with tb_jsonstream, each object parsed with
 *     tb_tetragon_parse (the adapter's parser, so both paths give the same
 *     RuntimeEvent and event_id). Unknown or legacy event types are counted
 *     per type and reported as skipped, not errors.
 *   - our trace JSON (one event, {"events": [...]} or an array), parsed by
 *     tb_req_parse_traces.
 * A body is all or nothing: the first malformed object fails the request
 * (400 naming the problem and its line/column/byte offset) and nothing is
 * produced.
 *
 * Producing (tb_api_produce_*) enqueues every record and then flushes the
 * producer: success means the broker acknowledged every record (acks=all),
 * which is when the API may answer 202. Keys: RuntimeEvent "<node>/<exec_id>"
 * (so one process's events stay in one partition, in order); Artifact
 * "<tenant>/<digest>" and Finding "<tenant>/<finding_id>" (the correlator
 * splits these keys; two tenants' records never compact each other away).
 * Not thread-safe per producer: flush reports every delivery since the last
 * flush, so each worker thread owns its producer (server.h).
 */
#ifndef TB_TIMELINE_INGEST_H
#define TB_TIMELINE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "requests.h"
#include "tb/avro.h"
#include "tb/err.h"
#include "tb/kafka.h"
#include "tb/records.h"

#define TB_API_SKIP_TYPES 16 /* distinct skipped types reported by name; the rest as "other" */

typedef struct tb_api_skip {
	char type[64];
	size_t n;
} tb_api_skip_t;

typedef struct tb_api_ingest {
	const char *format;   /* "tetragon" or "trace" */
	tb_event_list_t list; /* the events to produce */
	size_t cap;	      /* allocated entries of list.events */
	size_t skipped;	      /* Tetragon events of unknown/legacy types */
	tb_api_skip_t skips[TB_API_SKIP_TYPES];
	size_t n_skips;
	size_t frames_dropped; /* frames beyond TB_MAX_FRAMES */
	/* position of the failing object (Tetragon bodies), for the 400 */
	int has_pos;
	uint64_t line, column, offset;
} tb_api_ingest_t;

typedef struct tb_api_ingest_opts {
	const char *tenant;	 /* the caller's tenant: every event gets it */
	tb_req_limits_t req;	 /* max_events caps both formats */
	size_t max_object_bytes; /* one Tetragon object; 0: TB_JSONSTREAM_DEFAULT_MAX */
} tb_api_ingest_opts_t;

/* Parse a traces body into out (zeroed by this call). Returns 0, or the
 * HTTP status to answer with err set: 400 (malformed, empty), 413 (more
 * events than req.max_events). out may hold partial results on error:
 * clear it either way. */
int tb_api_ingest_parse(const char *body, size_t len, const tb_api_ingest_opts_t *o, tb_api_ingest_t *out,
			tb_err_t *err);
void tb_api_ingest_clear(tb_api_ingest_t *in);

/* "<node>/<exec_id>" (absent parts empty) into buf; the key's length, or
 * -1 when it does not fit. */
int tb_api_event_key(const tb_runtime_event_t *ev, char *buf, size_t cap);

/* Encode + produce every event to tb.events.raw.v1, then flush (timeout_ms).
 * 0 once all were acknowledged; -1 with err otherwise (then some may have
 * been delivered: retrying is safe, event ids are deterministic). An encode
 * failure (a record our schema cannot hold) returns -2 before anything is
 * produced. */
int tb_api_produce_events(tb_kafka_producer_t *p, const tb_avro_registry_t *reg, const tb_event_list_t *l,
			  int timeout_ms, tb_err_t *err);
/* The same for one Artifact (tb.artifacts.v1) / Finding (tb.findings.v1). */
int tb_api_produce_artifact(tb_kafka_producer_t *p, const tb_avro_registry_t *reg, const tb_artifact_t *a,
			    int timeout_ms, tb_err_t *err);
int tb_api_produce_finding(tb_kafka_producer_t *p, const tb_avro_registry_t *reg, const tb_finding_t *f,
			   int timeout_ms, tb_err_t *err);

#endif
