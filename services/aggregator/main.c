/*
 * main.c — tb-aggregator: tb.events.correlated.v1, tb.artifacts.v1 and
 * tb.findings.v1 -> PostgreSQL. The single writer of the database.
 *
 * Wiring only: options, the PostgreSQL connection (and migrations), the
 * Kafka consumer with the rebalance hook that seeks to the offsets stored in
 * PostgreSQL, the producer for dead letters, the Kafka probe for /readyz,
 * then the loop (loop.c), which stores each batch in one transaction
 * (sink.c) with the arithmetic of fold.c.
 *
 * Exit codes: 0 stopped cleanly (SIGTERM/SIGINT: the current batch is
 * stored and committed first), 1 runtime failure (also: stopped while
 * PostgreSQL could not take the current batch; it is redelivered on the
 * next start), 2 configuration error, 3 Kafka or PostgreSQL unreachable at
 * start.
 */
#include <stdio.h>
#include <stdlib.h>

#include "loop.h"
#include "tb/avro.h"
#include "tb/log.h"
#include "tb/stage.h"
#include "tb/topics.h"

#define VERSION "0.1.0"

static const tb_option_t options[] = {
    {"pg", TB_OPT_STRING, NULL, "PostgreSQL to write to: conninfo or URL (required)", NULL},
    {"group", TB_OPT_STRING, "tb-aggregator", "Kafka consumer group; also the key of the stored offsets",
     NULL},
    {"batch-max", TB_OPT_INT, "2000", "most messages per batch (= per transaction)", NULL},
    {"batch-wait-ms", TB_OPT_DURATION_MS, "200ms", "longest wait to fill a batch after its first message",
     NULL},
    {"migrate", TB_OPT_BOOL, "true", "apply pending schema migrations at start", NULL},
    {"pg-connect-wait", TB_OPT_DURATION_MS, "10s", "how long to wait for PostgreSQL at start", NULL},
    {"flush-timeout", TB_OPT_DURATION_MS, "30s", "longest wait for dead letters to be acknowledged", NULL},
    {"kafka-probe-interval", TB_OPT_DURATION_MS, "2s", "how often /readyz checks that a broker answers",
     NULL},
    {NULL, 0, NULL, NULL, NULL},
};

/* Connect (and migrate); exit code on failure, 0 on success. */
static int open_pg(tb_service_t *svc, tb_pg_t **pg, tb_err_t *err)
{
	const char *conninfo = tb_config_str(svc->cfg, "pg");
	int n;

	if (!conninfo || !conninfo[0]) {
		tb_err(err, "no PostgreSQL to write to: set --pg (or TB_PG) to a conninfo or URL");
		return TB_EXIT_CONFIG;
	}
	*pg = tb_pg_connect(conninfo, (int)tb_config_duration_ms(svc->cfg, "pg-connect-wait"), err);
	if (!*pg) {
		tb_err_wrap(err, "PostgreSQL unreachable at start");
		return TB_EXIT_UNREACHABLE;
	}
	if (!tb_config_bool(svc->cfg, "migrate"))
		return 0;
	n = tb_pg_migrate(*pg, NULL, err);
	if (n < 0) {
		tb_err_wrap(err, "migrations");
		return TB_EXIT_FAILURE;
	}
	if (n > 0)
		tb_info("applied %d migrations to %s", n, tb_pg_target(*pg));
	return 0;
}

static tb_agg_probe_t *start_probe(tb_service_t *svc, tb_err_t *err)
{
	size_t n_pairs = 0;
	const char *const *props = tb_config_kafka_props(svc->cfg, &n_pairs);

	return tb_agg_probe_start(tb_config_str(svc->cfg, "brokers"), props, n_pairs,
				  (int)tb_config_duration_ms(svc->cfg, "kafka-probe-interval"), err);
}

static int check_batch_options(tb_service_t *svc, tb_err_t *err)
{
	int64_t max = tb_config_int(svc->cfg, "batch-max");

	if (max < 1 || max > 1000000)
		return tb_err(err, "option 'batch-max': %lld is out of range (1..1000000)", (long long)max);
	return 0;
}

int main(int argc, char **argv)
{
	tb_service_t svc;
	tb_err_t err;
	tb_agg_app_t app = {0};
	tb_avro_registry_t *reg = NULL;
	tb_kafka_producer_t *producer = NULL;
	tb_dlq_t *dlq = NULL;
	const char *in_topics[] = {TB_TOPIC_EVENTS_CORRELATED, TB_TOPIC_ARTIFACTS, TB_TOPIC_FINDINGS};
	const char *out_topics[] = {TB_TOPIC_DLQ};
	int rc;

	if (tb_service_init(&svc, "aggregator", VERSION, options, argc, argv) != 0)
		return svc.exit_code;
	tb_err_clear(&err);
	app.svc = &svc;
	tb_service_set_ready(&svc, false, "starting: connecting to PostgreSQL");
	if (check_batch_options(&svc, &err) < 0) {
		rc = TB_EXIT_CONFIG;
		goto report;
	}
	rc = open_pg(&svc, &app.pg, &err);
	if (rc != 0)
		goto report;
	reg = tb_avro_registry_new(&err);
	if (!reg) {
		rc = TB_EXIT_FAILURE;
		goto report;
	}
	tb_service_set_ready(&svc, false, "starting: connecting to Kafka");
	if (tb_stage_kafka_open(&svc, tb_config_str(svc.cfg, "group"), in_topics, 3, out_topics, 1,
				&app.consumer, &producer, &err) < 0) {
		tb_err_wrap(&err, "Kafka unreachable at start");
		rc = TB_EXIT_UNREACHABLE;
		goto report;
	}
	dlq = tb_dlq_new(producer, "aggregator", reg);
	app.probe = start_probe(&svc, &err);
	if (!dlq || !app.probe) {
		rc = TB_EXIT_FAILURE;
		goto report;
	}
	app.sink = tb_agg_sink_new(
	    &(tb_agg_sink_conf_t){.pg = app.pg,
				  .producer = producer,
				  .dlq = dlq,
				  .reg = reg,
				  .group = tb_config_str(svc.cfg, "group"),
				  .default_tenant = tb_config_str(svc.cfg, "tenant"),
				  .metrics = svc.metrics,
				  .flush_timeout_ms = (int)tb_config_duration_ms(svc.cfg, "flush-timeout")},
	    &err);
	if (!app.sink) {
		rc = TB_EXIT_FAILURE;
		goto report;
	}
	app.batch_max = (size_t)tb_config_int(svc.cfg, "batch-max");
	app.batch_wait_ms = (int)tb_config_duration_ms(svc.cfg, "batch-wait-ms");
	tb_kafka_consumer_set_rebalance_hook(app.consumer, tb_agg_rebalance, &app);
	tb_info("storing %s, %s and %s into %s (group %s)", in_topics[0], in_topics[1], in_topics[2],
		tb_pg_target(app.pg), tb_config_str(svc.cfg, "group"));
	rc = tb_agg_run(&app, &err);
	if (rc == 1)
		tb_err(&err, "stopped while the current batch could not be stored; it will be redelivered");
	rc = rc == 0 ? TB_EXIT_OK : TB_EXIT_FAILURE;
report:
	if (rc == TB_EXIT_CONFIG || rc == TB_EXIT_UNREACHABLE)
		fprintf(stderr, "tb-aggregator: %s\n", err.msg);
	if (rc != TB_EXIT_OK)
		tb_error("%s", err.msg);
	tb_service_set_ready(&svc, false, "stopping");
	if (app.consumer && tb_kafka_consumer_close(app.consumer, NULL, &err) < 0)
		tb_warn("close consumer: %s", err.msg);
	tb_agg_probe_stop(app.probe);
	tb_agg_sink_free(app.sink);
	tb_dlq_free(dlq);
	tb_kafka_producer_free(producer);
	tb_avro_registry_free(reg);
	tb_pg_close(app.pg);
	tb_service_shutdown(&svc);
	return rc;
}
