/*
 * tb-passthrough — the benchmarks' no-processing ceiling: a pipeline stage
 * that does nothing. It runs the very loop the adapter, canonicalizer and
 * correlator run (tb/stage.h: poll a batch, emit, flush with acks=all,
 * commit), with the same client settings (lz4, idempotent producer), but its
 * per-message work is "emit the same bytes to --out-topic". Whatever a real
 * stage reaches divided by what this reaches on the same input is the share
 * of the broker-bound ceiling the stage's own work leaves (bench/README.md).
 *
 *   tb-passthrough --brokers B --in-topic T --out-topic U [--group G]
 *                  [--batch-max N] [--admin-addr A] [-X key=value ...]
 *
 * Counters on /metrics as for every stage: stage_in_total, stage_out_total,
 * kafka_delivered_total. Exit codes as for the services.
 */
#include "tb/avro.h"
#include "tb/dlq.h"
#include "tb/log.h"
#include "tb/service.h"
#include "tb/stage.h"
#include "tb/topics.h"

#define VERSION "0.1.0"

static const tb_option_t options[] = {
    {"group", TB_OPT_STRING, "tb-passthrough", "Kafka consumer group", NULL},
    {"in-topic", TB_OPT_STRING, "tb.tetragon.raw.v1", "topic to consume", NULL},
    {"out-topic", TB_OPT_STRING, "tb.bench.passthrough.v1", "topic the same bytes go to", NULL},
    {"batch-max", TB_OPT_INT, "1000", "messages per batch", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct app {
	const char *out_topic;
} app_t;

static tb_stage_verdict_t pass(void *ctx, tb_stage_t *st, const tb_kafka_msg_t *m, tb_err_t *err)
{
	const app_t *app = ctx;

	if (tb_stage_emit(st, app->out_topic, m->key, m->key_len, m->value, m->value_len, err) < 0)
		return TB_STAGE_FATAL;
	return TB_STAGE_DONE;
}

int main(int argc, char **argv)
{
	tb_service_t svc;
	tb_err_t err;
	app_t app;
	tb_avro_registry_t *reg = NULL;
	tb_kafka_consumer_t *consumer = NULL;
	tb_kafka_producer_t *producer = NULL;
	tb_dlq_t *dlq = NULL;
	int rc = TB_EXIT_FAILURE;

	if (tb_service_init(&svc, "passthrough", VERSION, options, argc, argv) != 0)
		return svc.exit_code;
	tb_err_clear(&err);
	const char *in_topics[] = {tb_config_str(svc.cfg, "in-topic")};
	const char *out_topics[] = {tb_config_str(svc.cfg, "out-topic"), TB_TOPIC_DLQ};
	app.out_topic = out_topics[0];
	reg = tb_avro_registry_new(&err);
	if (!reg)
		goto fail;
	if (tb_stage_kafka_open(&svc, tb_config_str(svc.cfg, "group"), in_topics, 1, out_topics, 2, &consumer,
				&producer, &err) < 0) {
		tb_error("%s", err.msg);
		rc = TB_EXIT_UNREACHABLE;
		goto out;
	}
	dlq = tb_dlq_new(producer, "passthrough", reg);
	tb_service_set_ready(&svc, true, NULL);
	tb_stage_opts_t so = {.svc = &svc,
			      .consumer = consumer,
			      .producer = producer,
			      .dlq = dlq,
			      .fn = pass,
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
	tb_dlq_free(dlq);
	tb_kafka_producer_free(producer);
	tb_avro_registry_free(reg);
	tb_service_shutdown(&svc);
	return rc;
}
