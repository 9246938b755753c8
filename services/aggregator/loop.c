/*
 * loop.c — gather, store with retries, commit, readiness (see loop.h).
 *
 * How it works: a batch is gathered in chunks (each tb_kafka_poll_batch
 * call fills one chunk, and the messages of all chunks stay valid until the
 * batch is done), flattened into one message array, decoded once into
 * items, and handed to tb_agg_store over [lo, hi) ranges: the whole batch
 * normally, one message at a time after a data error. Readiness is
 * recomputed before every gather from three facts: the database answers,
 * the last batch could be stored, the Kafka probe reaches a broker.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"
#include "tb/log.h"

#define MAX_CHUNKS 64
#define PG_CHECK_MS 5000
#define PG_RECHECK_MS 1000

typedef struct batch {
	tb_kafka_batch_t chunks[MAX_CHUNKS];
	size_t n_chunks;
	tb_kafka_msg_t *msgs; /* all chunks' messages, flattened */
	tb_agg_item_t *items;
	size_t n, cap;
} batch_t;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- readiness ------------------------------------------------------------- */

static void update_ready(tb_agg_app_t *app)
{
	char why[600], kafka[256];

	if (!app->pg_ok) {
		snprintf(why, sizeof(why), "postgres: %.500s", app->pg_reason);
	} else if (!app->store_ok) {
		snprintf(why, sizeof(why), "storing a batch: %.500s", app->store_reason);
	} else if (app->probe && !tb_agg_probe_ok(app->probe, kafka, sizeof(kafka))) {
		snprintf(why, sizeof(why), "kafka: %.250s", kafka);
	} else {
		tb_service_set_ready(app->svc, true, NULL);
		return;
	}
	tb_service_set_ready(app->svc, false, why);
}

static void pg_down(tb_agg_app_t *app, const char *why)
{
	app->pg_ok = 0;
	snprintf(app->pg_reason, sizeof(app->pg_reason), "%.500s", why);
	app->next_pg_check_ms = now_ms() + PG_RECHECK_MS;
	update_ready(app);
}

static int pg_connected(tb_agg_app_t *app)
{
	PGconn *c = tb_pg_conn(app->pg);

	return c && PQstatus(c) == CONNECTION_OK;
}

/* One reconnect attempt (no waiting: the loop does the backing off). */
static int pg_reconnect(tb_agg_app_t *app)
{
	tb_err_t e;

	if (tb_pg_reconnect(app->pg, 0, &e) == 0)
		return 0;
	pg_down(app, e.msg);
	return -1;
}

/* While idle: is the database still there? (every 5 s; every 1 s while not) */
static void pg_check(tb_agg_app_t *app)
{
	tb_err_t e;

	if (now_ms() < app->next_pg_check_ms)
		return;
	app->next_pg_check_ms = now_ms() + PG_CHECK_MS;
	if (!pg_connected(app) && pg_reconnect(app) < 0)
		return;
	if (tb_pg_exec(app->pg, "check PostgreSQL", "SELECT 1", 0, NULL, &e) < 0) {
		pg_down(app, e.msg);
		return;
	}
	if (!app->pg_ok)
		tb_info("PostgreSQL at %s answers again", tb_pg_target(app->pg));
	app->pg_ok = 1;
}

/* Sleep before retry `attempt`; 1 when a stop was requested. */
static int backoff(tb_agg_app_t *app, int attempt)
{
	update_ready(app);
	return tb_service_wait(app->svc, tb_pg_backoff_ms(attempt));
}

/* ---- the rebalance hook ---------------------------------------------------------- */

/* One line: where each assigned partition starts ("-" = the beginning). */
static void log_starts(const tb_kafka_tp_t *tps, size_t n)
{
	char buf[2048];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(buf); i++) {
		if (tps[i].offset == TB_KAFKA_OFFSET_BEGINNING)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s/%d@-", tps[i].topic,
						(int)tps[i].partition);
		else
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s/%d@%" PRId64, tps[i].topic,
						(int)tps[i].partition, tps[i].offset);
	}
	tb_info("rebalance: %zu partitions start at their stored offsets (@- = nothing stored):%s", n, buf);
}

int tb_agg_rebalance(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	tb_agg_app_t *app = opaque;
	tb_err_t e;

	if (!assigned)
		return 0; /* nothing cached per partition: PostgreSQL is the state */
	if (tb_agg_stored_offsets(app->sink, tps, n, &e) < 0) {
		tb_warn(
		    "rebalance: cannot read sink_offsets (%s); starting at the group's committed offsets, "
		    "which are never ahead of the stored ones (repeats are skipped)",
		    e.msg);
		return 0;
	}
	log_starts(tps, n);
	return 0;
}

/* ---- gathering ------------------------------------------------------------------- */

static void batch_release(batch_t *b, int all)
{
	tb_agg_items_clear(b->items, b->n);
	for (size_t i = 0; i < MAX_CHUNKS; i++)
		tb_kafka_batch_clear(&b->chunks[i], all);
	b->n_chunks = 0;
	b->n = 0;
	if (all) {
		free(b->msgs);
		free(b->items);
		memset(b, 0, sizeof(*b));
	}
}

static int flatten(batch_t *b, tb_err_t *err)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_chunks; i++)
		n += b->chunks[i].n;
	if (n > b->cap) {
		tb_kafka_msg_t *m = realloc(b->msgs, n * sizeof(*m));
		tb_agg_item_t *it = m ? realloc(b->items, n * sizeof(*it)) : NULL;

		if (m)
			b->msgs = m;
		if (!m || !it)
			return tb_err(err, "aggregator: out of memory for a batch of %zu", n);
		b->items = it;
		b->cap = n;
	}
	b->n = 0;
	for (size_t i = 0; i < b->n_chunks; i++)
		for (size_t k = 0; k < b->chunks[i].n; k++)
			b->msgs[b->n++] = b->chunks[i].msgs[k];
	return 0;
}

/* Up to batch_max messages, waiting at most batch_wait_ms for the first and
 * then until batch_wait_ms after it. Returns the number, -1 on a fatal
 * consumer error. */
static long gather(tb_agg_app_t *app, batch_t *b, tb_err_t *err)
{
	size_t total = 0;
	long long deadline = 0;

	b->n_chunks = 0;
	while (total < app->batch_max && b->n_chunks < MAX_CHUNKS) {
		int wait = b->n_chunks ? (int)(deadline - now_ms()) : app->batch_wait_ms;
		int n;

		if (b->n_chunks && wait <= 0)
			break;
		n = tb_kafka_poll_batch(app->consumer, &b->chunks[b->n_chunks], app->batch_max - total, wait,
					err);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (!b->n_chunks)
			deadline = now_ms() + app->batch_wait_ms;
		b->n_chunks++;
		total += (size_t)n;
		if (tb_service_stopping(app->svc))
			break;
	}
	if (total && flatten(b, err) < 0)
		return -1;
	return (long)total;
}

/* ---- storing ----------------------------------------------------------------------- */

static void store_failed(tb_agg_app_t *app, const char *why)
{
	app->store_ok = 0;
	snprintf(app->store_reason, sizeof(app->store_reason), "%.500s", why);
	if (!pg_connected(app))
		pg_down(app, why);
}

/* Store items[0, n) whatever it takes. 0 stored, 1 stop requested before it
 * could be stored, -1 fatal. */
static int store_batch(tb_agg_app_t *app, tb_agg_item_t *items, size_t n, tb_err_t *err)
{
	size_t lo = 0;
	int split = 0, attempt = 0;

	while (lo < n) {
		size_t hi = split ? lo + 1 : n;
		tb_agg_stats_t st;
		tb_agg_failure_t f;
		tb_err_t e;
		char reason[TB_ERR_MAX + 16];

		if (!pg_connected(app) && pg_reconnect(app) < 0) {
			store_failed(app, app->pg_reason);
			if (backoff(app, attempt++))
				return 1;
			continue;
		}
		tb_err_clear(&e);
		f = tb_agg_store(app->sink, items, lo, hi, &st, &e);
		switch (f) {
		case TB_AGG_OK:
			if (!app->store_ok || !app->pg_ok)
				tb_info("storing works again (after %d failed attempts)", attempt);
			app->store_ok = app->pg_ok = 1;
			attempt = 0;
			lo = hi;
			break;
		case TB_AGG_TRANSIENT:
			tb_warn("batch not stored (attempt %d), will retry: %s", attempt + 1, e.msg);
			store_failed(app, e.msg);
			if (backoff(app, attempt++))
				return 1;
			break;
		case TB_AGG_DATA:
			if (!split && hi - lo > 1) {
				tb_warn("PostgreSQL refused the batch of %zu messages (%s); storing them one "
					"by one",
					n, e.msg);
				split = 1;
				break;
			}
			if (items[lo].kind == TB_AGG_BAD)
				return tb_err(err, "cannot store the offset of a dead-lettered message: %s",
					      e.msg);
			snprintf(reason, sizeof(reason), "store: %s", e.msg);
			tb_agg_item_reject(&items[lo], reason);
			break;
		case TB_AGG_FATAL:
		default:
			return tb_err(err, "store batch: %s", e.msg);
		}
	}
	return 0;
}

/* After the PostgreSQL commit: tell the group too (lag visibility only). */
static void commit_kafka(tb_agg_app_t *app, batch_t *b)
{
	tb_kafka_batch_t all = {b->msgs, b->n, b->n};
	tb_err_t e;

	if (tb_kafka_commit(app->consumer, &all, &e) < 0)
		tb_warn("kafka commit after storing (offsets are safe in PostgreSQL): %s", e.msg);
}

int tb_agg_run(tb_agg_app_t *app, tb_err_t *err)
{
	batch_t b;
	int rc = 0;

	memset(&b, 0, sizeof(b));
	app->pg_ok = app->store_ok = 1;
	while (!tb_service_stopping(app->svc)) {
		long n;

		update_ready(app);
		n = gather(app, &b, err);
		if (n < 0) {
			rc = tb_err_wrap(err, "poll");
			break;
		}
		if (n == 0) {
			batch_release(&b, 0);
			pg_check(app);
			continue;
		}
		if (tb_agg_decode(app->sink, b.msgs, b.n, b.items, err) < 0) {
			rc = -1;
			break;
		}
		rc = store_batch(app, b.items, b.n, err);
		if (rc == 0)
			commit_kafka(app, &b);
		batch_release(&b, 0);
		if (rc != 0)
			break;
	}
	batch_release(&b, 1);
	return rc;
}
