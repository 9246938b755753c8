/*
 * ingest.c — request bodies to records and records to Kafka (ingest.h).
 *
 * Parsing never touches Kafka, so a 400 is decided before anything is
 * produced; producing is "enqueue all, flush once", so a request costs one
 * round of acknowledgements however many events it holds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "tb/jsonstream.h"
#include "tb/tetragon.h"
#include "tb/topics.h"

void tb_api_ingest_clear(tb_api_ingest_t *in)
{
	tb_event_list_clear(&in->list);
	memset(in, 0, sizeof(*in));
}

static void count_skip(tb_api_ingest_t *in, const char *type)
{
	const char *name = type[0] ? type : "(none)";
	size_t i;

	in->skipped++;
	for (i = 0; i < in->n_skips; i++)
		if (strcmp(in->skips[i].type, name) == 0)
			break;
	if (i == in->n_skips) {
		/* The last slot collects every type beyond the first ones as "other". */
		if (in->n_skips == TB_API_SKIP_TYPES - 1)
			name = "other";
		if (in->n_skips == TB_API_SKIP_TYPES)
			i = TB_API_SKIP_TYPES - 1;
		else
			snprintf(in->skips[in->n_skips++].type, sizeof(in->skips[0].type), "%s", name);
	}
	in->skips[i].n++;
}

static tb_runtime_event_t *next_slot(tb_api_ingest_t *in)
{
	if (in->list.n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 16;
		tb_runtime_event_t *ev = realloc(in->list.events, cap * sizeof(*ev));

		if (!ev)
			return NULL;
		in->list.events = ev;
		in->cap = cap;
	}
	memset(&in->list.events[in->list.n], 0, sizeof(in->list.events[0]));
	return &in->list.events[in->list.n];
}

static int fail_at(tb_api_ingest_t *in, const tb_jsonstream_item_t *it, int status, tb_err_t *err)
{
	in->has_pos = 1;
	in->line = it->line;
	in->column = it->column;
	in->offset = it->offset;
	tb_err_wrap(err, "line %llu column %llu (byte %llu)", (unsigned long long)it->line,
		    (unsigned long long)it->column, (unsigned long long)it->offset);
	return status;
}

/* One item of the Tetragon stream. Returns 0 or an HTTP status. */
static int tetragon_item(tb_api_ingest_t *in, const tb_jsonstream_item_t *it, const tb_api_ingest_opts_t *o,
			 tb_err_t *err)
{
	tb_tetragon_opts_t topts = {.tenant = o->tenant};
	tb_tetragon_result_t res;
	tb_runtime_event_t *ev;

	switch (it->kind) {
	case TB_JSONSTREAM_OBJECT:
		break;
	case TB_JSONSTREAM_TOO_LARGE:
		tb_err(err, "a JSON object is larger than %zu bytes", o->max_object_bytes);
		return fail_at(in, it, 400, err);
	default:
		tb_err(err, "not a JSON object (%s): %s", tb_jsonstream_kind_name(it->kind),
		       it->reason ? it->reason : "unexpected bytes");
		return fail_at(in, it, 400, err);
	}
	if (!(ev = next_slot(in))) {
		tb_err(err, "out of memory");
		return 500;
	}
	switch (tb_tetragon_parse(it->data, it->len, &topts, ev, &res, err)) {
	case TB_TETRAGON_OK:
		if (in->list.n >= o->req.max_events) { /* skipped types do not count */
			tb_runtime_event_clear(ev);
			tb_err(err, "more than %zu events in one request; split the body", o->req.max_events);
			return fail_at(in, it, 413, err);
		}
		in->list.n++;
		in->frames_dropped += res.frames_dropped;
		return 0;
	case TB_TETRAGON_SKIPPED:
		count_skip(in, res.type);
		return 0;
	default:
		return fail_at(in, it, 400, err);
	}
}

static int parse_tetragon(const char *body, size_t len, const tb_api_ingest_opts_t *o, tb_api_ingest_t *out,
			  tb_err_t *err)
{
	tb_jsonstream_t *js = tb_jsonstream_new(o->max_object_bytes);
	tb_jsonstream_item_t it;
	int status = 0;

	if (!js) {
		tb_err(err, "out of memory");
		return 500;
	}
	if (tb_jsonstream_feed(js, body, len, err) < 0) {
		status = 500;
		goto out;
	}
	tb_jsonstream_finish(js);
	while (status == 0 && tb_jsonstream_next(js, &it))
		status = tetragon_item(out, &it, o, err);
	if (status == 0 && out->list.n == 0 && out->skipped == 0) {
		tb_err(err, "the body holds no JSON object (Tetragon JSON or trace JSON expected)");
		status = 400;
	}
out:
	tb_jsonstream_free(js);
	return status;
}

int tb_api_ingest_parse(const char *body, size_t len, const tb_api_ingest_opts_t *o, tb_api_ingest_t *out,
			tb_err_t *err)
{
	tb_api_ingest_opts_t opts = *o;

	memset(out, 0, sizeof(*out));
	if (opts.max_object_bytes == 0)
		opts.max_object_bytes = TB_JSONSTREAM_DEFAULT_MAX;
	if (len == 0) {
		tb_err(err, "empty body (Tetragon JSON or trace JSON expected)");
		return 400;
	}
	if (tb_req_is_trace_json(body, len)) {
		tb_req_limits_t unlimited = opts.req;

		/* The body size bounds the work; the event cap is ours to report as 413. */
		unlimited.max_events = SIZE_MAX;
		out->format = "trace";
		if (tb_req_parse_traces(body, len, o->tenant, &unlimited, &out->list, err) < 0)
			return 400;
		out->cap = out->list.n;
		if (out->list.n > o->req.max_events) {
			tb_err(err, "%zu events in one request, more than %zu; split the body", out->list.n,
			       o->req.max_events);
			return 413;
		}
		return 0;
	}
	out->format = "tetragon";
	return parse_tetragon(body, len, &opts, out, err);
}

int tb_api_event_key(const tb_runtime_event_t *ev, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", ev->node ? ev->node : "",
			 ev->process.exec_id ? ev->process.exec_id : "");

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

static int flush(tb_kafka_producer_t *p, int timeout_ms, size_t n, tb_err_t *err)
{
	if (tb_kafka_producer_flush(p, timeout_ms, err) < 0)
		return tb_err_wrap(err, "kafka: %zu record(s) not acknowledged", n);
	return 0;
}

int tb_api_produce_events(tb_kafka_producer_t *p, const tb_avro_registry_t *reg, const tb_event_list_t *l,
			  int timeout_ms, tb_err_t *err)
{
	uint8_t **bufs = calloc(l->n ? l->n : 1, sizeof(*bufs));
	size_t *lens = calloc(l->n ? l->n : 1, sizeof(*lens));
	char key[1024];
	int rc = -1, k;
	size_t i;

	if (!bufs || !lens) {
		tb_err(err, "out of memory");
		goto out;
	}
	/* Encode everything first: a record we cannot encode fails the request
	 * before any record of it was produced. */
	for (i = 0; i < l->n; i++)
		if (tb_avro_encode_runtime_event(reg, &l->events[i], &bufs[i], &lens[i], err) < 0) {
			tb_err_wrap(err, "event %zu: encode RuntimeEvent", i);
			rc = -2;
			goto out;
		}
	for (i = 0; i < l->n; i++) {
		k = tb_api_event_key(&l->events[i], key, sizeof(key));
		if (tb_kafka_produce(p, TB_TOPIC_EVENTS_RAW, key, k < 0 ? 0 : (size_t)k, bufs[i], lens[i],
				     NULL, 0, err) < 0) {
			tb_err_wrap(err, "kafka: produce event %zu", i);
			tb_kafka_producer_flush(p, timeout_ms, NULL); /* settle what was queued */
			goto out;
		}
	}
	rc = flush(p, timeout_ms, l->n, err);
out:
	for (i = 0; bufs && i < l->n; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	return rc;
}

static int produce_one(tb_kafka_producer_t *p, const char *topic, const char *tenant, const char *id,
		       const uint8_t *buf, size_t len, int timeout_ms, tb_err_t *err)
{
	char key[1024];
	int k = snprintf(key, sizeof(key), "%s/%s", tenant ? tenant : "", id ? id : "");

	if (k < 0 || (size_t)k >= sizeof(key))
		return tb_err(err, "record key longer than %zu bytes", sizeof(key) - 1);
	if (tb_kafka_produce(p, topic, key, (size_t)k, buf, len, NULL, 0, err) < 0)
		return tb_err_wrap(err, "kafka: produce to %s", topic);
	return flush(p, timeout_ms, 1, err);
}

int tb_api_produce_artifact(tb_kafka_producer_t *p, const tb_avro_registry_t *reg, const tb_artifact_t *a,
			    int timeout_ms, tb_err_t *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (tb_avro_encode_artifact(reg, a, &buf, &len, err) < 0) {
		tb_err_wrap(err, "encode Artifact");
		return -2;
	}
	rc = produce_one(p, TB_TOPIC_ARTIFACTS, a->tenant, a->digest, buf, len, timeout_ms, err);
	free(buf);
	return rc;
}

int tb_api_produce_finding(tb_kafka_producer_t *p, const tb_avro_registry_t *reg, const tb_finding_t *f,
			   int timeout_ms, tb_err_t *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (tb_avro_encode_finding(reg, f, &buf, &len, err) < 0) {
		tb_err_wrap(err, "encode Finding");
		return -2;
	}
	rc = produce_one(p, TB_TOPIC_FINDINGS, f->tenant, f->finding_id, buf, len, timeout_ms, err);
	free(buf);
	return rc;
}
