/*
 * ingest.c — one input record -> RuntimeEvents, a dead letter, or a skip
 * count (see ingest.h for the reasons, positions and metrics).
 *
 * How it works: every record is handled with a `where_t` saying where it
 * came from (input kind, Kafka coordinates or file position, the texts for
 * `origin` and the dead letter's position, the message key). Tetragon objects
 * go through tb_tetragon_parse; Tetragon Kafka messages are first split with
 * a jsonstream of our own (reset per message), so each object of a message
 * succeeds or fails alone. ProbeBatch messages are decoded (the codec
 * pre-scans untrusted bytes), validated whole, then mapped by probe_map.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "probe_map.h"
#include "tb/log.h"
#include "tb/tetragon.h"
#include "tb/topics.h"

#define MAX_SKIP_TYPES 32
#define MAX_OUT_KINDS 48
#define POS_LEN 512

typedef struct kind_metric {
	char source[16];
	char kind[32];
	tb_metric_t *m;
} kind_metric_t;

struct tb_adapter {
	tb_adapter_conf_t c;
	tb_jsonstream_t *js; /* splits Tetragon Kafka messages */
	tb_metric_t *in_file, *in_stdin, *in_kafka_tetragon, *in_kafka_probe;
	tb_metric_t *frames_dropped, *unknown_process, *lost_samples, *lost_events;
	kind_metric_t out[MAX_OUT_KINDS];
	size_t n_out;
	char skip_types[MAX_SKIP_TYPES][64];
	size_t n_skip_types;
};

/* Where one record came from. */
typedef struct where {
	const char *input;  /* "file" | "stdin" | "kafka" */
	const char *topic;  /* NULL unless Kafka */
	int32_t partition;  /* -1 unless Kafka */
	int64_t offset;	    /* Kafka offset, or byte offset in the file */
	const char *origin; /* for events */
	const char *pos;    /* for dead letters */
	const void *key;    /* Kafka message key */
	size_t key_len;
} where_t;

tb_adapter_t *tb_adapter_new(const tb_adapter_conf_t *conf, tb_err_t *err)
{
	tb_adapter_t *a;
	tb_metrics_t *m = conf->metrics;
	const char *in_help = "input records read (Tetragon JSON objects, ProbeBatch messages)";

	if (!m || !conf->sink.event || !conf->sink.dead) {
		tb_err(err, "adapter: metrics registry and both sink callbacks are required");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->js = tb_jsonstream_new(conf->max_object))) {
		free(a);
		tb_err(err, "adapter: out of memory");
		return NULL;
	}
	a->c = *conf;
	a->in_file = tb_metrics_counter(m, "events_in_total", in_help, "input=\"file\",format=\"tetragon\"");
	a->in_stdin =
	    tb_metrics_counter(m, "events_in_total", in_help, "input=\"stdin\",format=\"tetragon\"");
	a->in_kafka_tetragon =
	    tb_metrics_counter(m, "events_in_total", in_help, "input=\"kafka\",format=\"tetragon\"");
	a->in_kafka_probe =
	    tb_metrics_counter(m, "events_in_total", in_help, "input=\"kafka\",format=\"probe\"");
	a->frames_dropped =
	    tb_metrics_counter(m, "frames_dropped_total", "stack frames beyond the cap", NULL);
	a->unknown_process =
	    tb_metrics_counter(m, "probe_unknown_process_total",
			       "probe samples/loads whose pid is not in the batch's process table", NULL);
	a->lost_samples =
	    tb_metrics_counter(m, "probe_lost_samples_total", "samples the probe-agents reported lost", NULL);
	a->lost_events =
	    tb_metrics_counter(m, "probe_lost_events_total", "events the probe-agents reported lost", NULL);
	return a;
}

void tb_adapter_free(tb_adapter_t *a)
{
	if (!a)
		return;
	tb_jsonstream_free(a->js);
	free(a);
}

/* ---- outputs ------------------------------------------------------------- */

/* Label values come from our own kind names, but keep them tame anyway. */
static void label_value(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in && in[i] && i + 1 < cap; i++) {
		char ch = in[i];

		out[i] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ? ch : '_';
	}
	out[i] = '\0';
}

static tb_metric_t *out_metric(tb_adapter_t *a, const char *source, const char *kind)
{
	char src[16], k[32], labels[96];

	label_value(source, src, sizeof(src));
	label_value(kind, k, sizeof(k));
	for (size_t i = 0; i < a->n_out; i++)
		if (strcmp(a->out[i].source, src) == 0 && strcmp(a->out[i].kind, k) == 0)
			return a->out[i].m;
	snprintf(labels, sizeof(labels), "source=\"%s\",kind=\"%s\"", src, k);
	if (a->n_out == MAX_OUT_KINDS) /* more kinds than exist today: count, uncached */
		return tb_metrics_counter(a->c.metrics, "events_out_total", "RuntimeEvents produced", labels);
	kind_metric_t *km = &a->out[a->n_out++];
	memcpy(km->source, src, sizeof(src));
	memcpy(km->kind, k, sizeof(k));
	km->m = tb_metrics_counter(a->c.metrics, "events_out_total", "RuntimeEvents produced", labels);
	return km->m;
}

static int emit_event(tb_adapter_t *a, const tb_runtime_event_t *ev, const where_t *w, tb_err_t *err)
{
	tb_runtime_event_t copy = *ev; /* shallow: only origin differs */

	copy.origin = (char *)w->origin;
	if (a->c.sink.event(a->c.sink.ctx, &copy, err) < 0)
		return tb_err_wrap(err, "emit event from %s", w->pos);
	tb_metric_inc(out_metric(a, ev->source, ev->kind));
	return 0;
}

static int dead_letter(tb_adapter_t *a, const where_t *w, const char *reason, const void *payload, size_t len,
		       tb_err_t *err)
{
	char labels[64];

	tb_warn("dead-lettering %s: %s", w->pos, reason);
	if (a->c.sink.dead(a->c.sink.ctx, reason, w->topic, w->partition, w->offset, w->pos, w->key,
			   w->key_len, payload, len, err) < 0)
		return tb_err_wrap(err, "dead-letter %s", w->pos);
	snprintf(labels, sizeof(labels), "input=\"%s\"", w->input);
	tb_metric_inc(
	    tb_metrics_counter(a->c.metrics, "dead_lettered_total", "input records dead-lettered", labels));
	return 0;
}

/* ---- Tetragon ------------------------------------------------------------ */

static void count_skip(tb_adapter_t *a, const char *type)
{
	char t[64], labels[96];
	size_t i;

	label_value(type && *type ? type : "none", t, sizeof(t));
	for (i = 0; i < a->n_skip_types; i++)
		if (strcmp(a->skip_types[i], t) == 0)
			break;
	if (i == a->n_skip_types) {
		if (a->n_skip_types == MAX_SKIP_TYPES)
			snprintf(t, sizeof(t), "other"); /* input-controlled names: bound the label set */
		else
			memcpy(a->skip_types[a->n_skip_types++], t, sizeof(t));
	}
	snprintf(labels, sizeof(labels), "type=\"%s\"", t);
	tb_metric_inc(tb_metrics_counter(a->c.metrics, "skipped_total",
					 "Tetragon events of unknown or legacy types, skipped", labels));
}

static int tetragon_object(tb_adapter_t *a, const where_t *w, const char *json, size_t len, tb_err_t *err)
{
	tb_runtime_event_t ev;
	tb_tetragon_result_t res;
	tb_tetragon_opts_t opts = {.tenant = a->c.tenant};
	tb_err_t why;
	char reason[TB_ERR_MAX + 160];
	int r = 0;

	tb_err_clear(&why);
	switch (tb_tetragon_parse(json, len, &opts, &ev, &res, &why)) {
	case TB_TETRAGON_SKIPPED:
		count_skip(a, res.type);
		return 0;
	case TB_TETRAGON_ERROR:
		snprintf(reason, sizeof(reason), "tetragon: %s", why.msg);
		return dead_letter(a, w, reason, json, len, err);
	case TB_TETRAGON_OK:
		break;
	}
	if (res.frames_dropped)
		tb_metric_add(a->frames_dropped, res.frames_dropped);
	r = emit_event(a, &ev, w, err);
	tb_runtime_event_clear(&ev);
	return r;
}

/* Non-object items of a stream: "json: garbage: unexpected bytes ...". */
static int bad_item(tb_adapter_t *a, const where_t *w, const tb_jsonstream_item_t *it, tb_err_t *err)
{
	char reason[512];

	snprintf(reason, sizeof(reason), "json: %s: %s", tb_jsonstream_kind_name(it->kind),
		 it->reason ? it->reason : "not a JSON object");
	return dead_letter(a, w, reason, it->data, it->len, err);
}

int tb_adapter_json_item(tb_adapter_t *a, const tb_adapter_origin_t *o, const tb_jsonstream_item_t *it,
			 tb_err_t *err)
{
	char origin[POS_LEN], pos[POS_LEN];
	int is_stdin = strcmp(o->input, "stdin") == 0;
	where_t w = {
	    .input = o->input, .partition = -1, .offset = (int64_t)it->offset, .origin = origin, .pos = pos};

	snprintf(origin, sizeof(origin), "%s:%" PRIu64, o->name, it->line);
	snprintf(pos, sizeof(pos), "%s:%" PRIu64 ":%" PRIu64, o->name, it->line, it->column);
	if (it->kind != TB_JSONSTREAM_OBJECT)
		return bad_item(a, &w, it, err);
	tb_metric_inc(is_stdin ? a->in_stdin : a->in_file);
	return tetragon_object(a, &w, it->data, it->len, err);
}

/* An object over --max-event-bytes inside a Kafka message: the splitter hands
 * out only its first max_size bytes, which could never be re-driven. The
 * message is in memory whole, so its dead letter carries the whole message:
 * after the limit is raised, `tb-dlq redrive` re-produces exactly what the
 * producer sent (the message's other objects are emitted again then, with
 * the same deterministic event ids, so the sink stores them once). */
static int too_large_in_message(tb_adapter_t *a, const where_t *w, const tb_jsonstream_item_t *it,
				const tb_kafka_msg_t *m, tb_err_t *err)
{
	char reason[512];

	snprintf(reason, sizeof(reason), "json: %s: %s (the dead letter holds the whole message)",
		 tb_jsonstream_kind_name(it->kind), it->reason ? it->reason : "object too large");
	return dead_letter(a, w, reason, m->value, m->value_len, err);
}

static int tetragon_message(tb_adapter_t *a, const tb_kafka_msg_t *m, const where_t *msg, tb_err_t *err)
{
	tb_jsonstream_item_t it;
	char pos[POS_LEN];
	where_t w = *msg; /* per object: the position inside the message */
	size_t items = 0;
	int r = 0;

	if (!m->value || m->value_len == 0)
		return dead_letter(a, msg, "json: empty message (no Tetragon JSON)", NULL, 0, err);
	tb_jsonstream_reset(a->js, 0, 1);
	if (tb_jsonstream_feed(a->js, m->value, m->value_len, err) < 0)
		return -1;
	tb_jsonstream_finish(a->js);
	w.pos = pos;
	while (r == 0 && tb_jsonstream_next(a->js, &it)) {
		items++;
		snprintf(pos, sizeof(pos), "%s/%d@%" PRId64 ":%" PRIu64 ":%" PRIu64, m->topic,
			 (int)m->partition, m->offset, it.line, it.column);
		if (it.kind == TB_JSONSTREAM_TOO_LARGE) {
			r = too_large_in_message(a, &w, &it, m, err);
			continue;
		}
		if (it.kind != TB_JSONSTREAM_OBJECT) {
			r = bad_item(a, &w, &it, err);
			continue;
		}
		tb_metric_inc(a->in_kafka_tetragon);
		r = tetragon_object(a, &w, it.data, it.len, err);
	}
	if (r == 0 && items == 0)
		r = dead_letter(a, msg, "json: message holds only whitespace (no Tetragon JSON)", m->value,
				m->value_len, err);
	return r;
}

/* ---- ProbeBatch ---------------------------------------------------------- */

typedef struct probe_ctx {
	tb_adapter_t *a;
	const where_t *w;
} probe_ctx_t;

static int probe_emit(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err)
{
	probe_ctx_t *pc = ctx;

	return emit_event(pc->a, ev, pc->w, err);
}

static int probe_message(tb_adapter_t *a, const tb_kafka_msg_t *m, const where_t *w, tb_err_t *err)
{
	tb_probe_batch_t b;
	tb_probe_map_stats_t st;
	tb_probe_map_opts_t opts = {.tenant = a->c.tenant};
	probe_ctx_t pc = {a, w};
	tb_err_t why;
	char reason[TB_ERR_MAX + 160];
	int r;

	tb_metric_inc(a->in_kafka_probe);
	memset(&b, 0, sizeof(b));
	tb_err_clear(&why);
	if (!m->value || m->value_len == 0)
		return dead_letter(a, w, "avro: empty message (no ProbeBatch)", NULL, 0, err);
	if (tb_avro_decode_probe_batch(a->c.reg, m->value, m->value_len, &b, &why) < 0) {
		snprintf(reason, sizeof(reason), "avro: ProbeBatch: %s", why.msg);
		return dead_letter(a, w, reason, m->value, m->value_len, err);
	}
	if (tb_probe_map_validate(&b, &why) < 0) {
		snprintf(reason, sizeof(reason), "probe: ProbeBatch from node '%.64s' seq %lld: %s",
			 b.node ? b.node : "", (long long)b.seq, why.msg);
		r = dead_letter(a, w, reason, m->value, m->value_len, err);
		goto out;
	}
	r = tb_probe_map_batch(&b, &opts, probe_emit, &pc, &st, err);
	if (b.lost_samples > 0)
		tb_metric_add(a->lost_samples, (uint64_t)b.lost_samples);
	if (b.lost_events > 0)
		tb_metric_add(a->lost_events, (uint64_t)b.lost_events);
	tb_metric_add(a->frames_dropped, st.frames_dropped);
	tb_metric_add(a->unknown_process, st.unknown_process);
out:
	tb_probe_batch_clear(&b);
	return r;
}

int tb_adapter_kafka_message(tb_adapter_t *a, const tb_kafka_msg_t *m, tb_err_t *err)
{
	char origin[POS_LEN];
	where_t w = {.input = "kafka",
		     .topic = m->topic,
		     .partition = m->partition,
		     .offset = m->offset,
		     .origin = origin,
		     .pos = origin,
		     .key = m->key,
		     .key_len = m->key_len};

	snprintf(origin, sizeof(origin), "%s/%d@%" PRId64, m->topic, (int)m->partition, m->offset);
	if (strcmp(m->topic, TB_TOPIC_TETRAGON_RAW) == 0)
		return tetragon_message(a, m, &w, err);
	if (strcmp(m->topic, TB_TOPIC_PROBE_RAW) == 0)
		return probe_message(a, m, &w, err);
	return dead_letter(a, &w, "input: message from a topic the adapter does not read", m->value,
			   m->value_len, err);
}
