/*
 * tb_stage.c — consume -> transform -> produce -> flush -> commit (tb/stage.h).
 *
 * One batch at a time, in one thread: the batch's outputs are acknowledged
 * before its offsets are committed, so at-least-once holds at every point
 * where the process can die. Commits rejected by a rebalance are fine: the
 * new owner re-processes the batch and produces the same records again.
 */
#include <inttypes.h>
#include <stdio.h>

#include "tb/config.h"
#include "tb/log.h"
#include "tb/metrics.h"
#include "tb/stage.h"

struct tb_stage {
	const tb_stage_opts_t *o;
	tb_metric_t *in;
	tb_metric_t *out;
	tb_metric_t *rejected;
	tb_metric_t *batches;
};

int tb_stage_kafka_open(tb_service_t *svc, const char *group, const char *const *in_topics, size_t n_in,
			const char *const *out_topics, size_t n_out, tb_kafka_consumer_t **consumer,
			tb_kafka_producer_t **producer, tb_err_t *err)
{
	size_t n_pairs = 0;
	const char *const *props = tb_config_kafka_props(svc->cfg, &n_pairs);
	tb_kafka_conf_t conf = {
		.bootstrap = tb_config_str(svc->cfg, "brokers"),
		.props = props,
		.n_pairs = n_pairs,
		.client_id = svc->name,
		.metrics = svc->metrics,
	};

	if (producer) {
		*producer = tb_kafka_producer_new(&conf, out_topics, n_out, err);
		if (!*producer)
			return -1;
	}
	if (consumer) {
		*consumer = tb_kafka_consumer_new(&conf, group, in_topics, n_in, err);
		if (!*consumer) {
			if (producer) {
				tb_kafka_producer_free(*producer);
				*producer = NULL;
			}
			return -1;
		}
	}
	return 0;
}

int tb_stage_emit(tb_stage_t *st, const char *topic, const void *key, size_t key_len, const void *value,
		  size_t value_len, tb_err_t *err)
{
	if (tb_kafka_produce(st->o->producer, topic, key, key_len, value, value_len, NULL, 0, err) < 0)
		return -1;
	tb_metric_inc(st->out);
	return 0;
}

static int handle(tb_stage_t *st, const tb_kafka_msg_t *m, tb_err_t *err)
{
	tb_err_t why;
	tb_stage_verdict_t v;
	char pos[64];

	tb_err_clear(&why);
	tb_metric_inc(st->in);
	v = st->o->fn(st->o->ctx, st, m, &why);
	if (v == TB_STAGE_DONE)
		return 0;
	if (v == TB_STAGE_FATAL) {
		tb_err(err, "%s", why.msg);
		return tb_err_wrap(err, "%s/%d@%" PRId64, m->topic, (int)m->partition, m->offset);
	}
	tb_metric_inc(st->rejected);
	snprintf(pos, sizeof(pos), "%s/%d@%" PRId64, m->topic, (int)m->partition, m->offset);
	tb_warn("dead-lettering %s: %s", pos, why.msg[0] ? why.msg : "rejected");
	if (tb_dlq_send(st->o->dlq, why.msg[0] ? why.msg : "rejected: no reason given", m->topic, m->partition,
			m->offset, pos, m->key, m->key_len, m->value, m->value_len, err) < 0)
		return tb_err_wrap(err, "dead-letter %s", pos);
	return 0;
}

int tb_stage_run(const tb_stage_opts_t *o, tb_err_t *err)
{
	tb_stage_t st = {.o = o};
	tb_kafka_batch_t batch = {0};
	size_t max = o->batch_max ? o->batch_max : 1000;
	int poll_ms = o->poll_ms ? o->poll_ms : 200;
	int flush_ms = o->flush_timeout_ms ? o->flush_timeout_ms : 30000;
	int rc = 0;

	st.in = tb_metrics_counter(o->svc->metrics, "stage_in_total", "messages consumed", NULL);
	st.out = tb_metrics_counter(o->svc->metrics, "stage_out_total", "records produced", NULL);
	st.rejected = tb_metrics_counter(o->svc->metrics, "stage_dead_lettered_total", "messages dead-lettered",
					 NULL);
	st.batches = tb_metrics_counter(o->svc->metrics, "stage_batches_total", "batches committed", NULL);

	while (!tb_service_stopping(o->svc)) {
		int n = tb_kafka_poll_batch(o->consumer, &batch, max, poll_ms, err);

		if (n < 0) {
			rc = tb_err_wrap(err, "poll");
			break;
		}
		if (n == 0) {
			if (o->idle && o->idle(o->ctx, &st, err) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (o->before_batch && o->before_batch(o->ctx, &st, err) < 0) {
			rc = -1;
			break;
		}
		for (size_t i = 0; i < batch.n && rc == 0; i++)
			rc = handle(&st, &batch.msgs[i], err);
		if (rc == 0 && o->after_batch)
			rc = o->after_batch(o->ctx, &st, err);
		if (rc < 0)
			break;
		if (tb_kafka_producer_flush(o->producer, flush_ms, err) < 0) {
			rc = tb_err_wrap(err, "outputs not acknowledged; batch not committed");
			break;
		}
		if (tb_kafka_commit(o->consumer, &batch, err) < 0) {
			rc = tb_err_wrap(err, "commit");
			break;
		}
		tb_metric_inc(st.batches);
	}
	tb_kafka_batch_clear(&batch, 1);
	return rc;
}
