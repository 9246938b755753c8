/*
 * main.c — tb-correlator: CanonicalEvent (tb.events.canonical.v1) ->
 * CorrelatedEvent (tb.events.correlated.v1), tagging frames and events with
 * artifact digest, component purl and finding ids.
 *
 * The index (index.c) is rebuilt at every start from the compacted topics
 * tb.artifacts.v1 and tb.findings.v1, read from the beginning by a second
 * consumer in a group of its own that never commits. Before each batch of
 * events the index is caught up to the topics' high watermarks as of that
 * moment (one ListOffsets request over the producer's connection, which has
 * no Fetch long-poll to queue behind: asked partition by partition over the
 * consumer's, it cost ~3 s per batch), so an artifact or finding
 * acknowledged by the API before a trace was posted is always applied
 * before that trace is correlated. Events whose artifact is not yet known
 * are forwarded uncorrelated; a replay after the SBOM arrives correlates
 * them (docs/ARCHITECTURE.md, correlator).
 *
 * Record keys on the compacted topics are "<tenant>/<id>" (so that two
 * tenants registering the same digest never compact each other away); a
 * tombstone (no value) removes that key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "tb/avro.h"
#include "tb/log.h"
#include "tb/stage.h"
#include "tb/topics.h"

#define VERSION "0.1.0"

static const tb_option_t options[] = {
    {"group", TB_OPT_STRING, "tb-correlator", "Kafka consumer group for events", NULL},
    {"index-wait", TB_OPT_DURATION_MS, "60s",
     "how long to wait at start for the artifact/finding topics to be read", NULL},
    {"batch-max", TB_OPT_INT, "1000", "messages per batch", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct app {
	tb_service_t *svc;
	tb_avro_registry_t *reg;
	tb_corr_index_t *idx;
	tb_kafka_consumer_t *index_consumer;
	tb_kafka_producer_t *producer; /* the stage's; also asks the index watermarks */
	tb_kafka_batch_t index_batch;
	tb_metric_t *artifacts;
	tb_metric_t *findings;
	tb_metric_t *index_errors;
	tb_metric_t *status[3];
} app_t;

/* "<tenant>/<id>" -> tenant, id (split at the first '/': ids are digests or
 * finding ids, tenants are names without '/'). */
static int split_key(const tb_kafka_msg_t *m, char *tenant, size_t tcap, char *id, size_t icap)
{
	const char *k = m->key, *slash;
	size_t tl;

	if (!k || m->key_len == 0)
		return -1;
	slash = memchr(k, '/', m->key_len);
	if (!slash)
		return -1;
	tl = (size_t)(slash - k);
	if (tl >= tcap || m->key_len - tl - 1 >= icap)
		return -1;
	memcpy(tenant, k, tl);
	tenant[tl] = '\0';
	memcpy(id, slash + 1, m->key_len - tl - 1);
	id[m->key_len - tl - 1] = '\0';
	return 0;
}

/* Apply one record of tb.artifacts.v1 / tb.findings.v1 to the index. A bad
 * record is logged and counted: these topics are written by our API, and
 * the index must not stop on one bad record (the aggregator dead-letters it
 * as the owner of those topics' sink). */
static void apply_index_record(app_t *app, const tb_kafka_msg_t *m)
{
	int is_art = strcmp(m->topic, TB_TOPIC_ARTIFACTS) == 0;
	char tenant[256], id[512];
	tb_err_t err;

	tb_err_clear(&err);
	if (!m->value) {
		if (split_key(m, tenant, sizeof(tenant), id, sizeof(id)) < 0) {
			tb_warn("%s/%d@%lld: tombstone with a key that is not <tenant>/<id>", m->topic,
				(int)m->partition, (long long)m->offset);
			tb_metric_inc(app->index_errors);
			return;
		}
		if (is_art)
			tb_corr_index_del_artifact(app->idx, tenant, id);
		else
			tb_corr_index_del_finding(app->idx, tenant, id);
		return;
	}
	if (is_art) {
		tb_artifact_t a;

		memset(&a, 0, sizeof(a));
		if (tb_avro_decode_artifact(app->reg, m->value, m->value_len, &a, &err) < 0 ||
		    tb_corr_index_put_artifact(app->idx, &a, &err) < 0) {
			tb_warn("%s/%d@%lld: artifact not indexed: %s", m->topic, (int)m->partition,
				(long long)m->offset, err.msg);
			tb_metric_inc(app->index_errors);
		} else {
			tb_metric_inc(app->artifacts);
		}
		tb_artifact_clear(&a);
	} else {
		tb_finding_t f;

		memset(&f, 0, sizeof(f));
		if (tb_avro_decode_finding(app->reg, m->value, m->value_len, &f, &err) < 0 ||
		    tb_corr_index_put_finding(app->idx, &f, &err) < 0) {
			tb_warn("%s/%d@%lld: finding not indexed: %s", m->topic, (int)m->partition,
				(long long)m->offset, err.msg);
			tb_metric_inc(app->index_errors);
		} else {
			tb_metric_inc(app->findings);
		}
		tb_finding_clear(&f);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read index records until the consumer is at the high watermark of every
 * assigned partition as of now (or wait_ms passed: then -1). Idle polls and
 * failed watermark requests count towards wait_ms: a broker outage shorter
 * than that (the fault suite takes it down for seconds) is waited out, not
 * turned into an exit. */
static int catch_up(app_t *app, int wait_ms, tb_err_t *err)
{
	int waited = 0, warned = 0;

	for (;;) {
		int64_t behind = 0, t0 = mono_ms();
		int n;

		/* over the producer's connection: no Fetch long-poll to wait behind */
		if (tb_kafka_consumer_behind(app->index_consumer, app->producer, 5000, &behind, err) < 0) {
			waited += (int)(mono_ms() - t0);
			if (waited >= wait_ms)
				return tb_err_wrap(err, "index not caught up after %d ms", waited);
			if (!warned++)
				tb_warn("index: %s (retrying for up to %d ms)", err->msg, wait_ms);
			behind = -1;
		}
		if (behind == 0)
			return 0;
		if (waited >= wait_ms)
			return tb_err(err, "index not caught up after %d ms (%lld records behind%s)", waited,
				      (long long)behind, behind < 0 ? ", partitions not assigned yet" : "");
		n = tb_kafka_poll_batch(app->index_consumer, &app->index_batch, 1000, 100, err);
		if (n < 0)
			return -1;
		for (size_t i = 0; i < app->index_batch.n; i++)
			apply_index_record(app, &app->index_batch.msgs[i]);
		if (n == 0)
			waited += 100;
		if (tb_service_stopping(app->svc))
			return 0;
	}
}

static int before_batch(void *ctx, tb_stage_t *st, tb_err_t *err)
{
	app_t *app = ctx;

	(void)st;
	return catch_up(app, 30000, err);
}

static int idle(void *ctx, tb_stage_t *st, tb_err_t *err)
{
	app_t *app = ctx;
	int n;

	(void)st;
	/* Keep the index consumer in its group (and the index fresh) while no
	 * events arrive. */
	n = tb_kafka_poll_batch(app->index_consumer, &app->index_batch, 1000, 0, err);
	if (n < 0)
		return -1;
	for (size_t i = 0; i < app->index_batch.n; i++)
		apply_index_record(app, &app->index_batch.msgs[i]);
	return 0;
}

static tb_stage_verdict_t correlate(void *ctx, tb_stage_t *st, const tb_kafka_msg_t *m, tb_err_t *err)
{
	app_t *app = ctx;
	tb_event_t ev;
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_stage_verdict_t v = TB_STAGE_DONE;
	char key[32];
	int s;

	memset(&ev, 0, sizeof(ev));
	if (!m->value) {
		tb_err(err, "decode: empty message (tombstone) on an event topic");
		return TB_STAGE_REJECT;
	}
	if (tb_avro_decode_canonical_event(app->reg, m->value, m->value_len, &ev, err) < 0) {
		tb_err_wrap(err, "decode: CanonicalEvent"); /* "decode": the dead-letter reason class */
		return TB_STAGE_REJECT;
	}
	if (tb_corr_correlate(app->idx, &ev, err) < 0) {
		v = TB_STAGE_FATAL;
		goto out;
	}
	s = strcmp(ev.correlation, "correlated") == 0 ? 0 : strcmp(ev.correlation, "partial") == 0 ? 1 : 2;
	tb_metric_inc(app->status[s]);
	if (tb_avro_encode_correlated_event(app->reg, &ev, &buf, &len, err) < 0) {
		tb_err_wrap(err, "encode CorrelatedEvent");
		v = TB_STAGE_FATAL;
		goto out;
	}
	/* Keyed by stack so one stack's aggregates land on one partition. */
	snprintf(key, sizeof(key), "%016llx", (unsigned long long)ev.stack_id);
	if (tb_stage_emit(st, TB_TOPIC_EVENTS_CORRELATED, key, strlen(key), buf, len, err) < 0)
		v = TB_STAGE_FATAL;
out:
	free(buf);
	tb_event_clear(&ev);
	return v;
}

static int index_rebalance(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	(void)opaque;
	for (size_t i = 0; assigned && i < n; i++)
		tps[i].offset = TB_KAFKA_OFFSET_BEGINNING;
	return 0;
}

/* The index consumer checks the topics' high watermarks before every batch
 * of events (ListOffsets). A broker answers a connection's requests in
 * order, so that check waits behind the consumer's own long-polling Fetch
 * on the (usually empty) index partitions: up to fetch.wait.max.ms (500 ms
 * by default) per batch, which capped the correlator at ~1000 events/s
 * (bench/README.md). Its fetches therefore wait at most 10 ms; a -X
 * fetch.wait.max.ms given by the operator still wins. */
static const char *const index_defaults[] = {"fetch.wait.max.ms", "10"};

static tb_kafka_consumer_t *open_index_consumer(tb_service_t *svc, tb_err_t *err)
{
	const char *topics[] = {TB_TOPIC_ARTIFACTS, TB_TOPIC_FINDINGS};
	char host[128] = "host", group[256];
	size_t n_pairs = 0;
	const char *const *props = tb_config_kafka_props(svc->cfg, &n_pairs);
	const char **all = calloc(2 * n_pairs + 2, sizeof(*all));
	tb_kafka_consumer_t *c = NULL;

	if (!all) {
		tb_err(err, "index consumer: out of memory");
		return NULL;
	}
	memcpy(all, index_defaults, sizeof(index_defaults));
	memcpy(all + 2, props, 2 * n_pairs * sizeof(*all)); /* later pairs win */
	gethostname(host, sizeof(host) - 1);
	/* A group per process: every instance reads the whole index. */
	snprintf(group, sizeof(group), "%s-index-%s-%d", tb_config_str(svc->cfg, "group"), host,
		 (int)getpid());
	c = tb_kafka_consumer_new(&(tb_kafka_conf_t){.bootstrap = tb_config_str(svc->cfg, "brokers"),
						     .props = all,
						     .n_pairs = n_pairs + 1,
						     .client_id = svc->name,
						     .metrics = svc->metrics},
				  group, topics, 2, err);
	free(all);
	if (c)
		tb_kafka_consumer_set_rebalance_hook(c, index_rebalance, NULL);
	return c;
}

int main(int argc, char **argv)
{
	tb_service_t svc;
	tb_err_t err;
	app_t app = {0};
	tb_kafka_consumer_t *consumer = NULL;
	tb_kafka_producer_t *producer = NULL;
	tb_dlq_t *dlq = NULL;
	const char *in_topics[] = {TB_TOPIC_EVENTS_CANONICAL};
	const char *out_topics[] = {TB_TOPIC_EVENTS_CORRELATED, TB_TOPIC_DLQ};
	tb_corr_stats_t stats;
	int rc = TB_EXIT_FAILURE;

	if (tb_service_init(&svc, "correlator", VERSION, options, argc, argv) != 0)
		return svc.exit_code;
	tb_err_clear(&err);
	app.svc = &svc;
	app.idx = tb_corr_index_new();
	app.reg = tb_avro_registry_new(&err);
	if (!app.idx || !app.reg)
		goto fail;
	app.artifacts =
	    tb_metrics_counter(svc.metrics, "index_artifacts_total", "artifact records applied", NULL);
	app.findings =
	    tb_metrics_counter(svc.metrics, "index_findings_total", "finding records applied", NULL);
	app.index_errors =
	    tb_metrics_counter(svc.metrics, "index_errors_total", "index records not applied", NULL);
	app.status[0] =
	    tb_metrics_counter(svc.metrics, "events_total", "events by correlation", "status=\"correlated\"");
	app.status[1] =
	    tb_metrics_counter(svc.metrics, "events_total", "events by correlation", "status=\"partial\"");
	app.status[2] = tb_metrics_counter(svc.metrics, "events_total", "events by correlation",
					   "status=\"uncorrelated\"");
	app.index_consumer = open_index_consumer(&svc, &err);
	if (!app.index_consumer || tb_stage_kafka_open(&svc, tb_config_str(svc.cfg, "group"), in_topics, 1,
						       out_topics, 2, &consumer, &producer, &err) < 0) {
		tb_error("%s", err.msg);
		rc = TB_EXIT_UNREACHABLE;
		goto out;
	}
	app.producer = producer;
	tb_service_set_ready(&svc, false, "reading artifacts and findings");
	if (catch_up(&app, (int)tb_config_duration_ms(svc.cfg, "index-wait"), &err) < 0)
		goto fail;
	tb_corr_index_stats(app.idx, &stats);
	tb_info("index ready: %zu artifacts (%zu binaries), %zu findings", stats.artifacts, stats.binaries,
		stats.findings);
	dlq = tb_dlq_new(producer, "correlator", app.reg);
	tb_service_set_ready(&svc, true, NULL);
	tb_stage_opts_t so = {.svc = &svc,
			      .consumer = consumer,
			      .producer = producer,
			      .dlq = dlq,
			      .fn = correlate,
			      .before_batch = before_batch,
			      .idle = idle,
			      .ctx = &app,
			      .batch_max = (size_t)tb_config_int(svc.cfg, "batch-max")};
	if (tb_stage_run(&so, &err) < 0)
		goto fail;
	rc = TB_EXIT_OK;
	goto out;
fail:
	tb_error("%s", err.msg);
	rc = TB_EXIT_FAILURE;
out:
	tb_service_set_ready(&svc, false, "stopping");
	if (consumer && tb_kafka_consumer_close(consumer, NULL, &err) < 0)
		tb_warn("close consumer: %s", err.msg);
	if (app.index_consumer)
		tb_kafka_consumer_close(app.index_consumer, &app.index_batch, &err);
	tb_kafka_batch_clear(&app.index_batch, 1);
	tb_dlq_free(dlq);
	tb_kafka_producer_free(producer);
	tb_avro_registry_free(app.reg);
	tb_corr_index_free(app.idx);
	tb_service_shutdown(&svc);
	return rc;
}
