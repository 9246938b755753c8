/*
 * probe.c — Kafka reachability probe (see probe.h).
 *
 * How it works: one thread loops "metadata request (no topics), record the
 * outcome, sleep on a condition variable until the next round or stop".
 * librdkafka's own error callback supplies the human reason ("Connection
 * refused") that a bare timeout would not. State is guarded by a mutex; the
 * main loop only reads it.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"
#include "tb/kafka.h"
#include "tb/log.h"

struct tb_agg_probe {
	rd_kafka_t *rk;
	int interval_ms;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int ok;
	int rounds;
	char reason[256];     /* why the last probe failed */
	char last_error[256]; /* last error_cb text */
};

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	tb_debug("kafka probe %s: %s", fac, buf); /* the service's own clients log the real trouble */
}

static void error_cb(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	tb_agg_probe_t *p = opaque;

	(void)rk;
	if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		return; /* keep the cause, not the summary */
	pthread_mutex_lock(&p->lock);
	snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
	pthread_mutex_unlock(&p->lock);
}

static void probe_once(tb_agg_probe_t *p)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 0, NULL, &md, p->interval_ms);

	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_poll(p->rk, 0); /* run error_cb */
	pthread_mutex_lock(&p->lock);
	p->ok = e == RD_KAFKA_RESP_ERR_NO_ERROR;
	if (p->ok) {
		p->last_error[0] = '\0';
		p->reason[0] = '\0';
	} else {
		snprintf(p->reason, sizeof(p->reason), "no broker answered (%.200s)",
			 p->last_error[0] ? p->last_error : rd_kafka_err2str(e));
	}
	p->rounds++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *run(void *arg)
{
	tb_agg_probe_t *p = arg;

	for (;;) {
		struct timespec until;

		probe_once(p);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += p->interval_ms / 1000;
		until.tv_nsec += (long)(p->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&p->lock);
		while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT)
			;
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		pthread_mutex_unlock(&p->lock);
	}
}

static rd_kafka_t *make_handle(tb_agg_probe_t *p, const char *bootstrap, const char *const *props,
			       size_t n_pairs, tb_err_t *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *base[] = {"bootstrap.servers", bootstrap ? bootstrap : "", "client.id",
			      "tb-aggregator-probe"};
	char errstr[512];
	rd_kafka_t *rk;

	if (tb_kafka_conf_apply(conf, base, bootstrap ? 2 : 1, err) < 0 ||
	    tb_kafka_conf_apply(conf, props, n_pairs, err) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_opaque(conf, p);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		tb_err(err, "kafka probe: %s", errstr);
	}
	return rk;
}

tb_agg_probe_t *tb_agg_probe_start(const char *bootstrap, const char *const *props, size_t n_pairs,
				   int interval_ms, tb_err_t *err)
{
	tb_agg_probe_t *p = calloc(1, sizeof(*p));

	if (!p) {
		tb_err(err, "kafka probe: out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->interval_ms = interval_ms > 0 ? interval_ms : 2000;
	snprintf(p->reason, sizeof(p->reason), "not probed yet");
	p->rk = make_handle(p, bootstrap, props, n_pairs, err);
	if (!p->rk)
		goto fail;
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		tb_err(err, "kafka probe: cannot start its thread");
		goto fail;
	}
	p->started = 1;
	pthread_mutex_lock(&p->lock);
	while (p->rounds == 0)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return p;
fail:
	tb_agg_probe_stop(p);
	return NULL;
}

int tb_agg_probe_ok(tb_agg_probe_t *p, char *reason, size_t cap)
{
	int ok;

	pthread_mutex_lock(&p->lock);
	ok = p->ok;
	if (!ok && reason && cap)
		snprintf(reason, cap, "%s", p->reason);
	pthread_mutex_unlock(&p->lock);
	return ok;
}

void tb_agg_probe_stop(tb_agg_probe_t *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	if (p->rk)
		rd_kafka_destroy(p->rk);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
