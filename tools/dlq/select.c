/*
 * select.c — dead-letter filters and the bounded reader of tb.dlq.v1 (see
 * select.h).
 *
 * The reader is a plain librdkafka consumer with assign(): a tool run should
 * not wait ~3 s for a group join nor disturb anybody's group. The group id
 * only names whose committed offsets to start from and to commit (redrive);
 * librdkafka commits explicit offsets for an assign()-only consumer too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "select.h"
#include "tb/avro.h"
#include "tb/kafka.h"
#include "tb/log.h"

struct dlq_reader {
	dlq_reader_conf_t c;
	rd_kafka_t *rk;
	tb_avro_registry_t *reg;
	int n_parts;
	int64_t *start, *hi, *pos;
};

/* ---- filters ---------------------------------------------------------------- */

int dlq_parse_time(const char *s, int64_t *ns, tb_err_t *err)
{
	struct tm tm;
	const char *rest;
	char *end;
	int64_t frac = 0, scale = 100000000;

	if (!s || !*s)
		return tb_err(err, "empty time");
	if (strspn(s, "0123456789") == strlen(s)) {
		long long secs = strtoll(s, &end, 10);

		*ns = (int64_t)secs * 1000000000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return tb_err(
		    err, "time '%s': expected YYYY-MM-DDTHH:MM:SS[.frac]Z or seconds since the epoch", s);
	if (*rest == '.') {
		for (rest++; *rest >= '0' && *rest <= '9'; rest++) {
			frac += (*rest - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(rest, "Z") != 0)
		return tb_err(err, "time '%s': only UTC times ending in Z are accepted", s);
	*ns = (int64_t)timegm(&tm) * 1000000000 + frac;
	return 0;
}

static const char *opt_or_null(const tb_config_t *cfg, const char *name)
{
	const char *v = tb_config_str(cfg, name);

	return v && v[0] ? v : NULL;
}

int dlq_filter_from_config(const tb_config_t *cfg, dlq_filter_t *f, tb_err_t *err)
{
	const char *since = opt_or_null(cfg, "since"), *until = opt_or_null(cfg, "until");

	f->source_topic = opt_or_null(cfg, "source-topic");
	f->service = opt_or_null(cfg, "service");
	f->reason = opt_or_null(cfg, "reason");
	f->since_ns = INT64_MIN;
	f->until_ns = INT64_MAX;
	if (since && dlq_parse_time(since, &f->since_ns, err) < 0)
		return tb_err_wrap(err, "--since");
	if (until && dlq_parse_time(until, &f->until_ns, err) < 0)
		return tb_err_wrap(err, "--until");
	return 0;
}

int dlq_filter_match(const dlq_filter_t *f, const tb_dead_letter_t *d)
{
	if (f->source_topic && strcmp(f->source_topic, d->source_topic ? d->source_topic : "") != 0)
		return 0;
	if (f->service && strcmp(f->service, d->service ? d->service : "") != 0)
		return 0;
	if (f->reason && !strstr(d->reason ? d->reason : "", f->reason))
		return 0;
	return d->ts_ns >= f->since_ns && d->ts_ns < f->until_ns;
}

/* ---- the reader --------------------------------------------------------------- */

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	tb_log_level_t l = level <= 3 ? TB_LOG_ERROR : level == 4 ? TB_LOG_WARN : TB_LOG_DEBUG;

	tb_log(l, "kafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

static rd_kafka_t *consumer_new(const dlq_reader_conf_t *c, tb_err_t *err)
{
	size_t n = 0;
	const char *const *props = tb_config_kafka_props(c->cfg, &n);
	/* clang-format off */
	const char *base[] = {
	    "bootstrap.servers", tb_config_str(c->cfg, "brokers"),
	    "group.id", c->group ? c->group : "tb-dlq-list",
	    "client.id", "tb-dlq",
	    "enable.auto.commit", "false",
	    "enable.auto.offset.store", "false",
	    "auto.offset.reset", "earliest",
	    "enable.partition.eof", "true", /* the end of a partition is an event */
	};
	/* clang-format on */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char errstr[512];

	/* -X comes after our base, so an explicit -X bootstrap.servers wins. */
	if (tb_kafka_conf_apply(conf, base, sizeof(base) / sizeof(base[0]) / 2, err) < 0 ||
	    tb_kafka_conf_apply(conf, props, n, err) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, kafka_log);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		tb_err(err, "kafka consumer: %s", errstr);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

static int partition_count(dlq_reader_t *r, tb_err_t *err)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(r->rk, r->c.topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;

	if (!t)
		return tb_err(err, "topic %s: %s", r->c.topic, rd_kafka_err2str(rd_kafka_last_error()));
	e = rd_kafka_metadata(r->rk, 0, t, &md, r->c.timeout_ms);
	rd_kafka_topic_destroy(t);
	if (e)
		return tb_err(err, "cannot reach Kafka at %s: metadata of %s: %s",
			      tb_config_str(r->c.cfg, "brokers"), r->c.topic, rd_kafka_err2str(e));
	if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
		e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		rd_kafka_metadata_destroy(md);
		return tb_err(err, "metadata of %s: %s", r->c.topic, rd_kafka_err2str(e));
	}
	r->n_parts = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return 0;
}

/* Start at the group's committed offsets (redrive) or at the low watermarks. */
static int find_bounds(dlq_reader_t *r, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->n_parts);
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

	for (int p = 0; p < r->n_parts; p++) {
		int64_t lo, hi;

		e = rd_kafka_query_watermark_offsets(r->rk, r->c.topic, p, &lo, &hi, r->c.timeout_ms);
		if (e) {
			rd_kafka_topic_partition_list_destroy(l);
			return tb_err(err, "watermarks of %s/%d: %s", r->c.topic, p, rd_kafka_err2str(e));
		}
		r->start[p] = r->pos[p] = lo;
		r->hi[p] = hi;
		rd_kafka_topic_partition_list_add(l, r->c.topic, p);
	}
	if (r->c.group)
		e = rd_kafka_committed(r->rk, l, r->c.timeout_ms);
	for (int i = 0; r->c.group && !e && i < l->cnt; i++) {
		int p = l->elems[i].partition;

		if (l->elems[i].offset >= 0 && l->elems[i].offset > r->start[p])
			r->start[p] = r->pos[p] = l->elems[i].offset;
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		return tb_err(err, "committed offsets of group %s: %s", r->c.group, rd_kafka_err2str(e));
	return 0;
}

dlq_reader_t *dlq_reader_open(const dlq_reader_conf_t *conf, tb_err_t *err)
{
	dlq_reader_t *r = calloc(1, sizeof(*r));

	if (!r) {
		tb_err(err, "out of memory");
		return NULL;
	}
	r->c = *conf;
	r->reg = tb_avro_registry_new(err);
	r->rk = r->reg ? consumer_new(conf, err) : NULL;
	if (!r->rk || partition_count(r, err) < 0)
		goto fail;
	r->start = calloc((size_t)r->n_parts, sizeof(int64_t));
	r->hi = calloc((size_t)r->n_parts, sizeof(int64_t));
	r->pos = calloc((size_t)r->n_parts, sizeof(int64_t));
	if (!r->start || !r->hi || !r->pos) {
		tb_err(err, "out of memory");
		goto fail;
	}
	if (find_bounds(r, err) < 0)
		goto fail;
	return r;
fail:
	dlq_reader_close(r);
	return NULL;
}

static int all_done(const dlq_reader_t *r)
{
	for (int p = 0; p < r->n_parts; p++)
		if (r->pos[p] < r->hi[p])
			return 0;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The partition reached `offset` with nothing before it left to read (end of
 * the log, or a message past the start-time end: offsets may have gaps). */
static void at_end(dlq_reader_t *r, int32_t partition, int64_t offset)
{
	if (partition >= 0 && partition < r->n_parts && offset >= r->hi[partition])
		r->pos[partition] = r->hi[partition];
}

static int handle(dlq_reader_t *r, const rd_kafka_message_t *m, dlq_letter_fn fn, void *ctx, tb_err_t *err)
{
	dlq_letter_t l = {.partition = m->partition, .offset = m->offset};
	tb_err_t why = {{0}};
	int rc;

	if (m->partition < 0 || m->partition >= r->n_parts)
		return 0;
	if (m->offset >= r->hi[m->partition]) {
		at_end(r, m->partition, m->offset); /* written after we started */
		return 0;
	}
	l.decoded = tb_avro_decode_dead_letter(r->reg, m->payload, m->len, &l.d, &why) == 0;
	l.why = why.msg;
	rc = fn(ctx, &l, err);
	tb_dead_letter_clear(&l.d);
	r->pos[m->partition] = m->offset + 1;
	return rc;
}

int dlq_reader_run(dlq_reader_t *r, dlq_letter_fn fn, void *ctx, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->n_parts);
	rd_kafka_resp_err_t e;
	int64_t deadline;
	int rc = 0;

	for (int p = 0; p < r->n_parts; p++)
		if (r->start[p] < r->hi[p])
			rd_kafka_topic_partition_list_add(l, r->c.topic, p)->offset = r->start[p];
	e = l->cnt ? rd_kafka_assign(r->rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		return tb_err(err, "assign %s: %s", r->c.topic, rd_kafka_err2str(e));
	deadline = now_ms() + r->c.timeout_ms;
	while (rc == 0 && !all_done(r)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 200);

		if (!m) {
			if (now_ms() > deadline)
				rc = tb_err(err, "no message from %s within %d ms before its end", r->c.topic,
					    r->c.timeout_ms);
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			at_end(r, m->partition, m->offset);
		else if (m->err)
			tb_warn("reading %s: %s", r->c.topic, rd_kafka_message_errstr(m));
		else
			rc = handle(r, m, fn, ctx, err);
		rd_kafka_message_destroy(m);
		deadline = now_ms() + r->c.timeout_ms;
	}
	rd_kafka_assign(r->rk, NULL);
	return rc;
}

int dlq_reader_commit(dlq_reader_t *r, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;

	if (!r->c.group)
		return 0;
	l = rd_kafka_topic_partition_list_new(r->n_parts);
	for (int p = 0; p < r->n_parts; p++)
		if (r->pos[p] > 0)
			rd_kafka_topic_partition_list_add(l, r->c.topic, p)->offset = r->pos[p];
	e = l->cnt ? rd_kafka_commit(r->rk, l, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
	for (int i = 0; !e && i < l->cnt; i++)
		e = l->elems[i].err;
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		return tb_err(err, "commit the offsets of group %s on %s: %s", r->c.group, r->c.topic,
			      rd_kafka_err2str(e));
	return 0;
}

void dlq_reader_close(dlq_reader_t *r)
{
	if (!r)
		return;
	if (r->rk) {
		rd_kafka_consumer_close(r->rk);
		rd_kafka_destroy(r->rk);
	}
	tb_avro_registry_free(r->reg);
	free(r->start);
	free(r->hi);
	free(r->pos);
	free(r);
}
