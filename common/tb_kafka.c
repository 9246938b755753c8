/*
 * tb_kafka.c — producer and consumer over librdkafka (see tb/kafka.h).
 *
 * How it works: both handles share a small core (struct kcore) holding the
 * rd_kafka_t, the bootstrap string for messages, and the last client error
 * reported by librdkafka's error callback, so a failed start can say *why*
 * ("Connection refused") instead of only "timed out".
 *
 * Producer: the delivery-report callback runs on the thread that polls or
 * flushes; it counts successes and failures in atomics and keeps the first
 * failure's text, which tb_kafka_producer_flush reports and resets. That is
 * the whole at-least-once handshake: outputs acknowledged, then commit.
 *
 * Consumer: auto commit is off; the rebalance callback translates librdkafka's
 * partition lists into tb_kafka_tp_t arrays for the caller's hook (so a sink
 * can seek to offsets it stored itself), re-applies a pause to partitions
 * assigned while paused, and handles eager and cooperative protocols. Commits
 * are synchronous with per-partition results, and a commit refused because of
 * a rebalance is reported separately from a real failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tb/kafka.h"
#include "tb/log.h"

#define DEFAULT_TIMEOUT_MS 10000
#define LAG_INTERVAL_MS 1000

struct kcore {
	rd_kafka_t *rk;
	char bootstrap[512];
	int timeout_ms;
	pthread_mutex_t lock;
	char last_error[512]; /* last error_cb text (guarded by lock) */
};

struct tb_kafka_producer {
	struct kcore k;
	atomic_long failed; /* deliveries failed since the last flush */
	char first_failure[512];
	tb_metrics_t *metrics;
	tb_metric_t *m_produced;
	tb_metric_t *m_delivered;
	tb_metric_t *m_failed;
};

struct tb_kafka_consumer {
	struct kcore k;
	char group[256];
	tb_kafka_rebalance_fn hook;
	void *hook_opaque;
	int paused;
	int fatal; /* set by the rebalance callback when the hook failed */
	char fatal_msg[512];
	tb_metric_t *m_consumed;
	tb_metric_t *m_commits;
	tb_metric_t *m_rejected;
	tb_metric_t *m_lag;
	int64_t lag_next_ms;
	rd_kafka_topic_partition_list_t *asg; /* kept for tb_kafka_assignment's topic pointers */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- configuration ------------------------------------------------------- */

int tb_kafka_conf_apply(void *rd_conf, const char *const *props, size_t n_pairs, tb_err_t *err)
{
	char errstr[512];

	if (n_pairs && !props)
		return tb_err(err, "kafka properties: %zu pairs announced but no array", n_pairs);
	for (size_t i = 0; i < n_pairs; i++) {
		const char *key = props[2 * i], *val = props[2 * i + 1];

		if (!key || !val)
			return tb_err(err, "kafka property pair %zu (%s): key or value missing", i,
				      key ? key : "(null)");
		if (rd_kafka_conf_set(rd_conf, key, val, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
			return tb_err(err, "kafka property %s=%s: %s", key, val, errstr);
	}
	return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	tb_log_level_t l = level <= 3	? TB_LOG_ERROR
			   : level == 4 ? TB_LOG_WARN
			   : level <= 6 ? TB_LOG_INFO
					: TB_LOG_DEBUG;

	tb_log(l, "kafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

static void error_cb(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	struct kcore *k = opaque;
	int changed;

	(void)rk;
	pthread_mutex_lock(&k->lock);
	/* "N/N brokers are down" follows the real cause: keep the cause. */
	if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && k->last_error[0]) {
		pthread_mutex_unlock(&k->lock);
		return;
	}
	changed = strcmp(k->last_error, reason) != 0;
	snprintf(k->last_error, sizeof(k->last_error), "%s", reason);
	pthread_mutex_unlock(&k->lock);
	if (changed)
		tb_warn("kafka client error (%s): %s", rd_kafka_err2name(e), reason);
}

static void last_error(struct kcore *k, rd_kafka_resp_err_t e, char *out, size_t cap)
{
	pthread_mutex_lock(&k->lock);
	if (k->last_error[0])
		snprintf(out, cap, "%s", k->last_error);
	else
		snprintf(out, cap, "%s", rd_kafka_err2str(e));
	pthread_mutex_unlock(&k->lock);
}

/* The keys of `forced` win over the caller's props; say so when they differ. */
static void warn_overridden(const tb_kafka_conf_t *conf, const char *const *forced, size_t n_forced)
{
	for (size_t i = 0; conf->props && i < conf->n_pairs; i++) {
		const char *key = conf->props[2 * i], *val = conf->props[2 * i + 1];

		for (size_t j = 0; key && val && j < n_forced; j++)
			if (strcmp(key, forced[2 * j]) == 0 && strcmp(val, forced[2 * j + 1]) != 0)
				tb_warn("kafka property %s=%s ignored: the delivery guarantees need %s=%s",
					key, val, key, forced[2 * j + 1]);
	}
}

/* Build an rd_kafka_conf_t: defaults, bootstrap/client id, caller props, forced. */
static rd_kafka_conf_t *make_conf(const tb_kafka_conf_t *conf, struct kcore *k, const char *const *defaults,
				  size_t n_defaults, const char *const *forced, size_t n_forced,
				  tb_err_t *err)
{
	rd_kafka_conf_t *rc = rd_kafka_conf_new();
	const char *ident[4] = {"client.id", conf->client_id ? conf->client_id : "tracebridge",
				"bootstrap.servers", conf->bootstrap};
	size_t len = sizeof(k->bootstrap);

	if (tb_kafka_conf_apply(rc, defaults, n_defaults, err) < 0 ||
	    tb_kafka_conf_apply(rc, ident, conf->bootstrap ? 2 : 1, err) < 0 ||
	    tb_kafka_conf_apply(rc, conf->props, conf->n_pairs, err) < 0 ||
	    tb_kafka_conf_apply(rc, forced, n_forced, err) < 0)
		goto fail;
	warn_overridden(conf, forced, n_forced);
	if (rd_kafka_conf_get(rc, "bootstrap.servers", k->bootstrap, &len) != RD_KAFKA_CONF_OK ||
	    !k->bootstrap[0]) {
		tb_err(err, "kafka: no bootstrap servers (set the bootstrap address or bootstrap.servers)");
		goto fail;
	}
	k->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : DEFAULT_TIMEOUT_MS;
	rd_kafka_conf_set_log_cb(rc, log_cb);
	rd_kafka_conf_set_error_cb(rc, error_cb);
	return rc;
fail:
	rd_kafka_conf_destroy(rc);
	return NULL;
}

/* Fetch metadata for each topic (or just the brokers) within the timeout. */
static int warm_up(struct kcore *k, const char *const *topics, size_t n_topics, tb_err_t *err)
{
	int64_t deadline = now_ms() + k->timeout_ms;
	char why[512];

	for (size_t i = 0; i < n_topics || (i == 0 && n_topics == 0); i++) {
		rd_kafka_topic_t *rkt = NULL;
		int rc = 0;

		if (n_topics && topics[i][0] == '^')
			continue; /* a regex subscription names no single topic */
		if (n_topics)
			rkt = rd_kafka_topic_new(k->rk, topics[i], NULL);
		for (;;) {
			const struct rd_kafka_metadata *md = NULL;
			int left = (int)(deadline - now_ms());
			rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, rkt, &md, left > 0 ? left : 1);
			rd_kafka_resp_err_t te;

			if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
				rd_kafka_poll(k->rk, 0); /* error_cb runs from poll: collect the cause */
				last_error(k, e, why, sizeof(why));
				rc = tb_err(err, "cannot reach Kafka at %s: %s", k->bootstrap, why);
				break;
			}
			te = rkt && md->topic_cnt > 0 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
			rd_kafka_metadata_destroy(md);
			if (te == RD_KAFKA_RESP_ERR_NO_ERROR)
				break;
			if (now_ms() >= deadline) {
				rc = tb_err(err, "topic %s at %s: %s", topics[i], k->bootstrap,
					    rd_kafka_err2str(te));
				break;
			}
			sleep_ms(100); /* e.g. leader not yet elected for a new topic */
		}
		if (rkt)
			rd_kafka_topic_destroy(rkt);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static tb_metric_t *counter(const tb_kafka_conf_t *conf, const char *name, const char *help)
{
	return conf->metrics ? tb_metrics_counter(conf->metrics, name, help, NULL) : NULL;
}

static void metric_add(tb_metric_t *m, uint64_t n)
{
	if (m)
		tb_metric_add(m, n);
}

/* ---- producer ------------------------------------------------------------ */

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	tb_kafka_producer_t *p = opaque;

	(void)rk;
	if (!m->err) {
		metric_add(p->m_delivered, 1);
		return;
	}
	metric_add(p->m_failed, 1);
	pthread_mutex_lock(&p->k.lock);
	if (atomic_fetch_add(&p->failed, 1) == 0)
		snprintf(p->first_failure, sizeof(p->first_failure), "%s [%" PRId32 "]: %s",
			 rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
	pthread_mutex_unlock(&p->k.lock);
}

tb_kafka_producer_t *tb_kafka_producer_new(const tb_kafka_conf_t *conf, const char *const *topics,
					   size_t n_topics, tb_err_t *err)
{
	static const char *const defaults[] = {
	    "compression.type", "lz4", "linger.ms", "5", "partitioner", "murmur2_random",
	    /* Bounded memory (issue #6): librdkafka's own limit is 1 GiB. A full
	     * queue makes tb_kafka_produce wait for acknowledgements. */
	    "queue.buffering.max.kbytes", TB_KAFKA_PRODUCER_QUEUE_KB, "queue.buffering.max.messages",
	    TB_KAFKA_PRODUCER_QUEUE_MSGS};
	static const char *const forced[] = {"enable.idempotence", "true", "acks", "all"};
	tb_kafka_producer_t *p = calloc(1, sizeof(*p));
	rd_kafka_conf_t *rc;
	char errstr[512];

	if (!p) {
		tb_err(err, "kafka producer: out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->k.lock, NULL);
	rc = make_conf(conf, &p->k, defaults, sizeof(defaults) / sizeof(defaults[0]) / 2, forced, 2, err);
	if (!rc)
		goto fail;
	rd_kafka_conf_set_opaque(rc, p);
	rd_kafka_conf_set_dr_msg_cb(rc, dr_msg_cb);
	p->k.rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, errstr, sizeof(errstr));
	if (!p->k.rk) {
		rd_kafka_conf_destroy(rc);
		tb_err(err, "kafka producer for %s: %s", p->k.bootstrap, errstr);
		goto fail;
	}
	p->metrics = conf->metrics;
	p->m_produced = counter(conf, "kafka_produced_total", "messages handed to the Kafka producer");
	p->m_delivered = counter(conf, "kafka_delivered_total", "messages acknowledged by the broker");
	p->m_failed = counter(conf, "kafka_delivery_failed_total", "messages the broker did not acknowledge");
	if (warm_up(&p->k, topics, n_topics, err) < 0)
		goto fail;
	tb_info("kafka producer connected to %s", p->k.bootstrap);
	return p;
fail:
	if (p->k.rk)
		rd_kafka_destroy(p->k.rk);
	pthread_mutex_destroy(&p->k.lock);
	free(p);
	return NULL;
}

static rd_kafka_headers_t *make_headers(const tb_kafka_header_t *h, size_t n)
{
	rd_kafka_headers_t *hdrs;

	if (!n)
		return NULL;
	hdrs = rd_kafka_headers_new(n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, (ssize_t)h[i].len);
	return hdrs;
}

static int fatal_error(rd_kafka_t *rk, tb_err_t *err, const char *what)
{
	char reason[512];
	rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk, reason, sizeof(reason));

	return tb_err(err, "%s: fatal Kafka error %s: %s", what, rd_kafka_err2name(e), reason);
}

int tb_kafka_produce(tb_kafka_producer_t *p, const char *topic, const void *key, size_t key_len,
		     const void *value, size_t value_len, const tb_kafka_header_t *headers, size_t n_headers,
		     tb_err_t *err)
{
	rd_kafka_headers_t *hdrs = make_headers(headers, n_headers);
	int64_t deadline = now_ms() + p->k.timeout_ms;
	rd_kafka_resp_err_t e;

	for (;;) {
		e = rd_kafka_producev(
		    p->k.rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? key_len : 0),
		    RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || now_ms() >= deadline)
			break;
		rd_kafka_poll(p->k.rk, 100); /* make room by serving delivery reports */
	}
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		metric_add(p->m_produced, 1);
		return 0; /* the headers now belong to the message */
	}
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	if (e == RD_KAFKA_RESP_ERR__FATAL)
		return fatal_error(p->k.rk, err, "produce");
	return tb_err(err, "produce to %s at %s: %s", topic, p->k.bootstrap, rd_kafka_err2str(e));
}

int tb_kafka_producer_flush(tb_kafka_producer_t *p, int timeout_ms, tb_err_t *err)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(p->k.rk, timeout_ms);
	char first[512];
	long failed;

	pthread_mutex_lock(&p->k.lock);
	failed = atomic_exchange(&p->failed, 0);
	snprintf(first, sizeof(first), "%s", p->first_failure);
	p->first_failure[0] = '\0';
	pthread_mutex_unlock(&p->k.lock);
	if (rd_kafka_fatal_error(p->k.rk, NULL, 0))
		return fatal_error(p->k.rk, err, "flush");
	if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
		return tb_err(err, "flush to %s: %d messages still unacknowledged after %d ms (%ld failed)",
			      p->k.bootstrap, rd_kafka_outq_len(p->k.rk), timeout_ms, failed);
	if (failed)
		return tb_err(err, "%ld deliveries to %s failed since the last flush; first: %s", failed,
			      p->k.bootstrap, first);
	return 0;
}

int tb_kafka_producer_poll(tb_kafka_producer_t *p, int timeout_ms)
{
	return rd_kafka_poll(p->k.rk, timeout_ms);
}

int tb_kafka_producer_in_flight(tb_kafka_producer_t *p)
{
	return rd_kafka_outq_len(p->k.rk);
}

tb_metrics_t *tb_kafka_producer_metrics(const tb_kafka_producer_t *p)
{
	return p->metrics;
}

const char *tb_kafka_producer_bootstrap(const tb_kafka_producer_t *p)
{
	return p->k.bootstrap;
}

void tb_kafka_producer_free(tb_kafka_producer_t *p)
{
	tb_err_t err = {{0}};

	if (!p)
		return;
	if (tb_kafka_producer_flush(p, p->k.timeout_ms, &err) < 0)
		tb_error("kafka producer closing: %s", err.msg);
	rd_kafka_destroy(p->k.rk);
	pthread_mutex_destroy(&p->k.lock);
	free(p);
}

/* ---- consumer ------------------------------------------------------------ */

static void log_partitions(const char *what, const rd_kafka_topic_partition_list_t *parts)
{
	char buf[1024];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < parts->cnt && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s:%" PRId32, i ? " " : "",
					parts->elems[i].topic, parts->elems[i].partition);
	tb_info("kafka rebalance: %s %d partitions: %s", what, parts->cnt, buf);
}

/* Run the caller's hook over `parts`; on assignment copy chosen offsets back. */
static int run_hook(tb_kafka_consumer_t *c, int assigned, rd_kafka_topic_partition_list_t *parts)
{
	tb_kafka_tp_t *tps;
	int rc;

	if (!c->hook || parts->cnt == 0)
		return 0;
	tps = calloc((size_t)parts->cnt, sizeof(*tps));
	if (!tps)
		return -1;
	for (int i = 0; i < parts->cnt; i++) {
		tps[i].topic = parts->elems[i].topic;
		tps[i].partition = parts->elems[i].partition;
		tps[i].offset = TB_KAFKA_OFFSET_STORED;
	}
	rc = c->hook(c->hook_opaque, assigned, tps, (size_t)parts->cnt);
	for (int i = 0; assigned && rc == 0 && i < parts->cnt; i++)
		parts->elems[i].offset =
		    tps[i].offset == TB_KAFKA_OFFSET_STORED ? RD_KAFKA_OFFSET_INVALID : tps[i].offset;
	free(tps);
	return rc;
}

static void apply_assignment(rd_kafka_t *rk, int cooperative, int assign,
			     rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (cooperative)
		error = assign ? rd_kafka_incremental_assign(rk, parts)
			       : rd_kafka_incremental_unassign(rk, parts);
	else
		e = rd_kafka_assign(rk, assign ? parts : NULL);
	if (error) {
		tb_error("kafka rebalance: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (e) {
		tb_error("kafka rebalance: %s", rd_kafka_err2str(e));
	}
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts,
			 void *opaque)
{
	tb_kafka_consumer_t *c = opaque;
	int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		log_partitions("assigned", parts);
		if (run_hook(c, 1, parts) < 0) {
			c->fatal = 1;
			snprintf(c->fatal_msg, sizeof(c->fatal_msg), "rebalance hook failed on assignment");
			return;
		}
		apply_assignment(rk, cooperative, 1, parts);
		if (c->paused)
			rd_kafka_pause_partitions(rk, parts);
		return;
	}
	if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		log_partitions("revoked", parts);
		run_hook(c, 0, parts);
		apply_assignment(rk, cooperative, 0, parts);
		return;
	}
	tb_error("kafka rebalance error: %s", rd_kafka_err2str(e));
	apply_assignment(rk, cooperative, 0, parts);
}

tb_kafka_consumer_t *tb_kafka_consumer_new(const tb_kafka_conf_t *conf, const char *group_id,
					   const char *const *topics, size_t n_topics, tb_err_t *err)
{
	static const char *const defaults[] = {
	    "auto.offset.reset", "earliest", "session.timeout.ms", "10000",
	    /* Bounded prefetch (issue #6): librdkafka's default queue is 64 MiB
	     * and 100000 messages; a stage that stops polling (flush waiting, the
	     * aggregator retrying PostgreSQL) stops fetching at these limits. */
	    "queued.max.messages.kbytes", TB_KAFKA_CONSUMER_QUEUE_KB, "queued.min.messages",
	    TB_KAFKA_CONSUMER_QUEUE_MSGS, "fetch.max.bytes", TB_KAFKA_CONSUMER_FETCH_BYTES,
	    "max.partition.fetch.bytes", TB_KAFKA_CONSUMER_PARTITION_FETCH_BYTES};
	static const char *const forced[] = {"enable.auto.commit", "false", "enable.auto.offset.store",
					     "false"};
	tb_kafka_consumer_t *c = calloc(1, sizeof(*c));
	rd_kafka_topic_partition_list_t *subs = NULL;
	rd_kafka_conf_t *rc;
	rd_kafka_resp_err_t e;
	char errstr[512];
	const char *gid[2] = {"group.id", group_id};

	if (!c) {
		tb_err(err, "kafka consumer: out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->k.lock, NULL);
	if (!group_id || !group_id[0] || n_topics == 0) {
		tb_err(err, "kafka consumer: a group id and at least one topic are required");
		goto fail;
	}
	snprintf(c->group, sizeof(c->group), "%s", group_id);
	rc = make_conf(conf, &c->k, defaults, sizeof(defaults) / sizeof(defaults[0]) / 2, forced, 2, err);
	if (!rc)
		goto fail;
	if (tb_kafka_conf_apply(rc, gid, 1, err) < 0) {
		rd_kafka_conf_destroy(rc);
		goto fail;
	}
	rd_kafka_conf_set_opaque(rc, c);
	rd_kafka_conf_set_rebalance_cb(rc, rebalance_cb);
	c->k.rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, sizeof(errstr));
	if (!c->k.rk) {
		rd_kafka_conf_destroy(rc);
		tb_err(err, "kafka consumer for %s: %s", c->k.bootstrap, errstr);
		goto fail;
	}
	c->m_consumed = counter(conf, "kafka_consumed_total", "messages consumed");
	c->m_commits = counter(conf, "kafka_commits_total", "offset commits that succeeded");
	c->m_rejected =
	    counter(conf, "kafka_commit_rejected_total", "offset commits refused during a rebalance");
	c->m_lag = conf->metrics
		       ? tb_metrics_gauge(
			     conf->metrics, "kafka_consumer_lag",
			     "messages behind the high watermark, summed over assigned partitions", NULL)
		       : NULL;
	/* Before poll_set_consumer, so that warm_up can serve error_cb with rd_kafka_poll. */
	if (warm_up(&c->k, topics, n_topics, err) < 0)
		goto fail;
	rd_kafka_poll_set_consumer(c->k.rk);
	subs = rd_kafka_topic_partition_list_new((int)n_topics);
	for (size_t i = 0; i < n_topics; i++)
		rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(c->k.rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (e) {
		tb_err(err, "kafka consumer %s: subscribe: %s", group_id, rd_kafka_err2str(e));
		goto fail;
	}
	tb_info("kafka consumer in group %s connected to %s", group_id, c->k.bootstrap);
	return c;
fail:
	if (c->k.rk)
		rd_kafka_destroy(c->k.rk);
	pthread_mutex_destroy(&c->k.lock);
	free(c);
	return NULL;
}

void tb_kafka_consumer_set_rebalance_hook(tb_kafka_consumer_t *c, tb_kafka_rebalance_fn fn, void *opaque)
{
	c->hook = fn;
	c->hook_opaque = opaque;
}

void tb_kafka_batch_clear(tb_kafka_batch_t *b, int release_array)
{
	for (size_t i = 0; i < b->n; i++)
		rd_kafka_message_destroy(b->msgs[i].priv);
	b->n = 0;
	if (release_array) {
		free(b->msgs);
		b->msgs = NULL;
		b->cap = 0;
	}
}

static void update_lag(tb_kafka_consumer_t *c)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	int64_t lag = 0;

	if (!c->m_lag || now_ms() < c->lag_next_ms)
		return;
	c->lag_next_ms = now_ms() + LAG_INTERVAL_MS;
	if (rd_kafka_assignment(c->k.rk, &parts) || rd_kafka_position(c->k.rk, parts)) {
		if (parts)
			rd_kafka_topic_partition_list_destroy(parts);
		return;
	}
	for (int i = 0; i < parts->cnt; i++) {
		int64_t lo, hi;
		rd_kafka_topic_partition_t *tp = &parts->elems[i];

		if (tp->offset < 0 ||
		    rd_kafka_get_watermark_offsets(c->k.rk, tp->topic, tp->partition, &lo, &hi))
			continue;
		if (hi > tp->offset)
			lag += hi - tp->offset;
	}
	rd_kafka_topic_partition_list_destroy(parts);
	tb_metric_set(c->m_lag, lag);
}

/* Handle an error event from the consumer queue: -1 when it is fatal. */
static int consumer_event_error(tb_kafka_consumer_t *c, rd_kafka_message_t *m, tb_err_t *err)
{
	int rc = 0;

	if (m->err == RD_KAFKA_RESP_ERR__FATAL)
		rc = fatal_error(c->k.rk, err, "consume");
	else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
		tb_warn("kafka consumer %s: %s", c->group, rd_kafka_message_errstr(m));
	rd_kafka_message_destroy(m);
	return rc;
}

static void add_msg(tb_kafka_batch_t *b, rd_kafka_message_t *m)
{
	tb_kafka_msg_t *o = &b->msgs[b->n++];

	o->topic = rd_kafka_topic_name(m->rkt);
	o->partition = m->partition;
	o->offset = m->offset;
	o->key = m->key;
	o->key_len = m->key ? m->key_len : 0;
	o->value = m->payload;
	o->value_len = m->payload ? m->len : 0;
	o->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
	o->priv = m;
}

int tb_kafka_poll_batch(tb_kafka_consumer_t *c, tb_kafka_batch_t *b, size_t max, int timeout_ms,
			tb_err_t *err)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	tb_kafka_batch_clear(b, 0);
	if (max > b->cap) {
		tb_kafka_msg_t *n = realloc(b->msgs, max * sizeof(*n));

		if (!n)
			return tb_err(err, "kafka consumer %s: out of memory for a batch of %zu", c->group,
				      max);
		b->msgs = n;
		b->cap = max;
	}
	while (b->n < max) {
		int64_t left = deadline - now_ms();
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->k.rk, b->n || left < 0 ? 0 : (int)left);

		if (c->fatal) {
			if (m)
				rd_kafka_message_destroy(m);
			tb_kafka_batch_clear(b, 0);
			return tb_err(err, "kafka consumer %s: %s", c->group, c->fatal_msg);
		}
		if (!m) {
			if (b->n || now_ms() >= deadline)
				break;
			continue;
		}
		if (m->err) {
			if (consumer_event_error(c, m, err) < 0) {
				tb_kafka_batch_clear(b, 0);
				return -1;
			}
			continue;
		}
		add_msg(b, m);
	}
	metric_add(c->m_consumed, b->n);
	update_lag(c);
	return (int)b->n;
}

size_t tb_kafka_commit_offsets(const tb_kafka_msg_t *msgs, size_t n, tb_kafka_tp_t *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		/* Batches touch few partitions: a linear scan beats a map here. */
		for (j = 0; j < k && j < cap; j++)
			if (out[j].partition == msgs[i].partition && strcmp(out[j].topic, msgs[i].topic) == 0)
				break;
		if (j < k && j < cap) {
			if (msgs[i].offset + 1 > out[j].offset)
				out[j].offset = msgs[i].offset + 1;
			continue;
		}
		if (k < cap) {
			out[k].topic = msgs[i].topic;
			out[k].partition = msgs[i].partition;
			out[k].offset = msgs[i].offset + 1;
		} else {
			/* Past cap we can still count distinct partitions, but only
			 * those that are not among the first cap ones: rescan. */
			int seen = 0;

			for (size_t q = 0; q < i && !seen; q++)
				seen = msgs[q].partition == msgs[i].partition &&
				       strcmp(msgs[q].topic, msgs[i].topic) == 0;
			if (seen)
				continue;
		}
		k++;
	}
	return k;
}

struct commit_result {
	rd_kafka_resp_err_t err;
	char detail[512];
};

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *offsets,
		      void *opaque)
{
	struct commit_result *r = opaque;

	(void)rk;
	r->err = e;
	for (int i = 0; offsets && i < offsets->cnt && !r->err; i++) {
		if (!offsets->elems[i].err)
			continue;
		r->err = offsets->elems[i].err;
		snprintf(r->detail, sizeof(r->detail), "%s [%" PRId32 "]", offsets->elems[i].topic,
			 offsets->elems[i].partition);
	}
}

static int rebalance_rejection(rd_kafka_resp_err_t e)
{
	return e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
	       e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || e == RD_KAFKA_RESP_ERR__STATE ||
	       e == RD_KAFKA_RESP_ERR__DESTROY;
}

int tb_kafka_commit(tb_kafka_consumer_t *c, const tb_kafka_batch_t *b, tb_err_t *err)
{
	struct commit_result r = {RD_KAFKA_RESP_ERR_NO_ERROR, ""};
	rd_kafka_topic_partition_list_t *list;
	tb_kafka_tp_t *tps;
	size_t n;
	rd_kafka_resp_err_t e;

	if (!b || b->n == 0)
		return 0;
	tps = calloc(b->n, sizeof(*tps));
	if (!tps)
		return tb_err(err, "kafka commit: out of memory");
	n = tb_kafka_commit_offsets(b->msgs, b->n, tps, b->n);
	list = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(list, tps[i].topic, tps[i].partition)->offset =
		    tps[i].offset;
	free(tps);
	/* With no queue and a callback, librdkafka runs the commit synchronously
	 * and hands us the per-partition results. */
	e = rd_kafka_commit_queue(c->k.rk, list, NULL, commit_cb, &r);
	rd_kafka_topic_partition_list_destroy(list);
	if (!e)
		e = r.err;
	if (!e) {
		metric_add(c->m_commits, 1);
		return 0;
	}
	if (rebalance_rejection(e)) {
		metric_add(c->m_rejected, 1);
		tb_warn("kafka consumer %s: commit refused (%s); the batch will be redelivered", c->group,
			rd_kafka_err2str(e));
		tb_err(err, "kafka consumer %s: commit refused: %s", c->group, rd_kafka_err2str(e));
		return 1;
	}
	return tb_err(err, "kafka consumer %s: commit %s at %s: %s", c->group, r.detail, c->k.bootstrap,
		      rd_kafka_err2str(e));
}

static int set_paused(tb_kafka_consumer_t *c, int pause, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_resp_err_t e = rd_kafka_assignment(c->k.rk, &parts);

	if (!e)
		e = pause ? rd_kafka_pause_partitions(c->k.rk, parts)
			  : rd_kafka_resume_partitions(c->k.rk, parts);
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	if (e)
		return tb_err(err, "kafka consumer %s: %s: %s", c->group, pause ? "pause" : "resume",
			      rd_kafka_err2str(e));
	c->paused = pause;
	return 0;
}

int tb_kafka_pause(tb_kafka_consumer_t *c, tb_err_t *err)
{
	return set_paused(c, 1, err);
}

int tb_kafka_resume(tb_kafka_consumer_t *c, tb_err_t *err)
{
	return set_paused(c, 0, err);
}

int tb_kafka_assignment(tb_kafka_consumer_t *c, tb_kafka_tp_t *out, size_t cap, tb_err_t *err)
{
	rd_kafka_resp_err_t e;

	if (c->asg) {
		rd_kafka_topic_partition_list_destroy(c->asg);
		c->asg = NULL;
	}
	e = rd_kafka_assignment(c->k.rk, &c->asg);
	if (!e)
		e = rd_kafka_position(c->k.rk, c->asg);
	if (e)
		return tb_err(err, "kafka consumer %s: assignment: %s", c->group, rd_kafka_err2str(e));
	for (int i = 0; i < c->asg->cnt && (size_t)i < cap; i++) {
		out[i].topic = c->asg->elems[i].topic;
		out[i].partition = c->asg->elems[i].partition;
		out[i].offset =
		    c->asg->elems[i].offset >= 0 ? c->asg->elems[i].offset : TB_KAFKA_OFFSET_STORED;
	}
	return c->asg->cnt;
}

/* Set every element's offset to its partition's high (latest) or low
 * (earliest) watermark with ONE ListOffsets request (offsets_for_times with
 * the protocol's special times -1 / -2). rd_kafka_query_watermark_offsets
 * sends two requests per partition, and on a consumer's handle each queues
 * behind the connection's Fetch long-poll (fetch.wait.max.ms): asked before
 * every correlator batch over 6 partitions, that was ~3 s per batch and
 * capped the correlator at ~300 events/s (found by the fault suite, 300). */
static rd_kafka_resp_err_t list_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, int64_t which,
					int timeout_ms)
{
	rd_kafka_resp_err_t e;

	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = which;
	e = rd_kafka_offsets_for_times(rk, l, timeout_ms);
	for (int i = 0; !e && i < l->cnt; i++) {
		e = l->elems[i].err;
		if (!e && l->elems[i].offset < 0)
			e = RD_KAFKA_RESP_ERR__BAD_MSG;
	}
	return e;
}

int tb_kafka_consumer_behind(tb_kafka_consumer_t *c, tb_kafka_producer_t *via, int timeout_ms,
			     int64_t *behind, tb_err_t *err)
{
	rd_kafka_t *ask = via ? via->k.rk : c->k.rk;
	rd_kafka_topic_partition_list_t *asg = NULL, *hi = NULL, *lo = NULL;
	rd_kafka_resp_err_t e;
	int64_t total = 0;
	int rc = 0, unset = 0;

	e = rd_kafka_assignment(c->k.rk, &asg);
	if (!e)
		e = rd_kafka_position(c->k.rk, asg);
	if (e) {
		rc = tb_err(err, "kafka consumer %s: assignment: %s", c->group, rd_kafka_err2str(e));
		goto out;
	}
	if (asg->cnt == 0) {
		*behind = -1;
		goto out;
	}
	for (int i = 0; i < asg->cnt; i++)
		unset |= asg->elems[i].offset < 0;
	hi = rd_kafka_topic_partition_list_copy(asg);
	e = list_offsets(ask, hi, -1, timeout_ms);
	if (!e && unset) {
		lo = rd_kafka_topic_partition_list_copy(asg);
		e = list_offsets(ask, lo, -2, timeout_ms);
	}
	if (e) {
		rc = tb_err(err, "kafka consumer %s: watermarks: %s", c->group, rd_kafka_err2str(e));
		goto out;
	}
	for (int i = 0; i < asg->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &asg->elems[i];
		const rd_kafka_topic_partition_t *h =
		    rd_kafka_topic_partition_list_find(hi, tp->topic, tp->partition);
		const rd_kafka_topic_partition_t *l =
		    lo ? rd_kafka_topic_partition_list_find(lo, tp->topic, tp->partition) : NULL;
		int64_t pos = tp->offset >= 0 ? tp->offset : l ? l->offset : 0;

		if (h && h->offset > pos)
			total += h->offset - pos;
	}
	*behind = total;
out:
	if (lo)
		rd_kafka_topic_partition_list_destroy(lo);
	if (hi)
		rd_kafka_topic_partition_list_destroy(hi);
	if (asg)
		rd_kafka_topic_partition_list_destroy(asg);
	return rc;
}

int tb_kafka_msg_header(const tb_kafka_msg_t *m, const char *name, const void **value, size_t *len)
{
	rd_kafka_headers_t *hdrs = NULL;

	if (!m->priv || rd_kafka_message_headers(m->priv, &hdrs) || !hdrs)
		return -1;
	if (rd_kafka_header_get_last(hdrs, name, value, len))
		return -1;
	return 0;
}

int tb_kafka_consumer_close(tb_kafka_consumer_t *c, tb_kafka_batch_t *last, tb_err_t *err)
{
	int rc = 0;
	rd_kafka_resp_err_t e;

	if (!c)
		return 0;
	if (last) {
		rc = tb_kafka_commit(c, last, err);
		tb_kafka_batch_clear(last, 0);
	}
	e = rd_kafka_consumer_close(c->k.rk);
	if (e)
		tb_warn("kafka consumer %s: leaving the group: %s", c->group, rd_kafka_err2str(e));
	if (c->asg)
		rd_kafka_topic_partition_list_destroy(c->asg);
	rd_kafka_destroy(c->k.rk);
	pthread_mutex_destroy(&c->k.lock);
	tb_info("kafka consumer %s closed", c->group);
	free(c);
	return rc;
}
