/*
 * main.c — tb-adapter: Tetragon JSON and probe-agent ProbeBatches ->
 * RuntimeEvents on tb.events.raw.v1 (docs/ARCHITECTURE.md, "adapter").
 *
 * Inputs (--input, repeatable or a comma list; inputs.h):
 *   kafka       tb.tetragon.raw.v1 (Tetragon JSON, one or more objects per
 *               message) and tb.probe.raw.v1 (Avro ProbeBatch) in consumer
 *               group --group;
 *   file:PATH   a Tetragon export file followed across rotation (tail -F),
 *               from --file-from start|end or the --position-file;
 *   -           stdin until EOF; then the adapter flushes, commits and exits 0
 *               (also when other inputs were given).
 * Work per record: ingest.c (+ probe_map.c); output: output.c.
 *
 * The loop works in rounds, all in this thread: read what the files have
 * (up to ROUND_BYTES each), poll one Kafka batch (without waiting when the
 * files had data), handle everything, flush the producer (every event and
 * dead letter acknowledged), then commit the Kafka batch and save the file
 * positions. So at-least-once holds for every input: whatever was not
 * acknowledged is neither committed nor recorded and is read again after a
 * restart, and the deterministic event ids make repeats harmless. A failed
 * flush stops the adapter (exit 1) without committing. SIGTERM ends the
 * current round normally (flush, commit, save) and exits 0.
 *
 * Exit codes: 0 clean stop or stdin EOF; 1 runtime failure (delivery, I/O);
 * 2 configuration error; 3 Kafka unreachable at start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filein.h"
#include "ingest.h"
#include "inputs.h"
#include "output.h"
#include "position.h"
#include "tb/avro.h"
#include "tb/log.h"
#include "tb/stage.h"
#include "tb/topics.h"

#define VERSION "0.1.0"
#define ROUND_BYTES (1024 * 1024)

static const tb_option_t options[] = {
    {"input", TB_OPT_STRING, "kafka", "inputs: kafka, file:PATH, - (stdin); repeatable or comma list", NULL},
    {"group", TB_OPT_STRING, "tb-adapter", "Kafka consumer group of the kafka input", NULL},
    {"file-from", TB_OPT_STRING, "start", "where a file input starts without a saved position", "start|end"},
    {"position-file", TB_OPT_PATH, NULL, "where file inputs record how far they were read (resume)", NULL},
    {"max-event-bytes", TB_OPT_INT, "1048576", "largest JSON object; larger ones are dead-lettered", NULL},
    {"batch-max", TB_OPT_INT, "1000", "Kafka messages per round", NULL},
    {"poll-interval", TB_OPT_DURATION_MS, "100ms", "wait between rounds when no input had data", NULL},
    {"flush-timeout", TB_OPT_DURATION_MS, "30s", "longest wait for the broker to acknowledge a round", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct app {
	tb_service_t *svc;
	tb_avro_registry_t *reg;
	tb_kafka_producer_t *producer;
	tb_kafka_consumer_t *consumer;
	tb_kafka_batch_t batch;
	tb_dlq_t *dlq;
	tb_adapter_output_t *out;
	tb_adapter_t *ad;
	tb_adapter_posfile_t *posfile;
	tb_adapter_filein_t *files[TB_ADAPTER_MAX_INPUTS];
	size_t n_files;
	tb_metric_t *rounds, *pos_fail;
	size_t batch_max;
	int poll_ms, flush_ms;
} app_t;

/* ---- setup --------------------------------------------------------------- */

static int open_kafka(app_t *app, const tb_adapter_inputs_t *in, tb_err_t *err)
{
	const char *in_topics[] = {TB_TOPIC_TETRAGON_RAW, TB_TOPIC_PROBE_RAW};
	const char *out_topics[] = {TB_TOPIC_EVENTS_RAW, TB_TOPIC_DLQ};
	int want_consumer = tb_adapter_inputs_count(in, TB_INPUT_KAFKA) > 0;

	if (tb_stage_kafka_open(app->svc, tb_config_str(app->svc->cfg, "group"), in_topics, 2, out_topics, 2,
				want_consumer ? &app->consumer : NULL, &app->producer, err) < 0)
		return -1;
	app->dlq = tb_dlq_new(app->producer, "adapter", app->reg);
	app->out = tb_adapter_output_new(app->producer, app->dlq, app->reg, TB_TOPIC_EVENTS_RAW);
	if (!app->dlq || !app->out)
		return tb_err(err, "out of memory");
	return 0;
}

static int open_files(app_t *app, const tb_adapter_inputs_t *in, tb_err_t *err)
{
	const char *from = tb_config_str(app->svc->cfg, "file-from");

	for (size_t i = 0; i < in->n; i++) {
		tb_adapter_pos_t saved;
		tb_adapter_filein_conf_t fc = {
		    .path = in->in[i].path,
		    .start = strcmp(from, "end") == 0 ? TB_TAIL_FROM_END : TB_TAIL_FROM_START,
		    .max_object = (size_t)tb_config_int(app->svc->cfg, "max-event-bytes"),
		    .metrics = app->svc->metrics,
		};

		if (in->in[i].kind == TB_INPUT_KAFKA)
			continue;
		if (in->in[i].kind == TB_INPUT_FILE && app->posfile &&
		    tb_adapter_posfile_get(app->posfile, in->in[i].path, &saved))
			fc.resume = &saved;
		app->files[app->n_files] = tb_adapter_filein_open(&fc, app->ad, err);
		if (!app->files[app->n_files])
			return -1;
		app->n_files++;
	}
	return 0;
}

static int open_adapter(app_t *app, tb_err_t *err)
{
	tb_adapter_conf_t ac = {
	    .tenant = tb_config_str(app->svc->cfg, "tenant"),
	    .reg = app->reg,
	    .metrics = app->svc->metrics,
	    .sink = tb_adapter_output_sink(app->out),
	    .max_object = (size_t)tb_config_int(app->svc->cfg, "max-event-bytes"),
	};

	app->ad = tb_adapter_new(&ac, err);
	return app->ad ? 0 : -1;
}

/* Configuration checks that need more than the option table. */
static int check_config(app_t *app, const tb_adapter_inputs_t *in, tb_err_t *err)
{
	const char *pf = tb_config_str(app->svc->cfg, "position-file");
	int64_t max = tb_config_int(app->svc->cfg, "max-event-bytes");

	if (max < 1024 || max > 64 * 1024 * 1024)
		return tb_err(err, "option 'max-event-bytes': %lld is outside 1024..67108864",
			      (long long)max);
	if (tb_config_int(app->svc->cfg, "batch-max") < 1)
		return tb_err(err, "option 'batch-max': must be >= 1");
	if (pf && !tb_adapter_inputs_count(in, TB_INPUT_FILE))
		tb_warn("--position-file %s is not used: no file input", pf);
	if (pf && tb_adapter_inputs_count(in, TB_INPUT_FILE) &&
	    !(app->posfile = tb_adapter_posfile_open(pf, err)))
		return -1;
	return 0;
}

/* ---- the loop ------------------------------------------------------------ */

static int save_positions(app_t *app)
{
	tb_err_t err;

	if (!app->posfile)
		return 0;
	tb_err_clear(&err);
	for (size_t i = 0; i < app->n_files; i++) {
		tb_adapter_pos_t p;

		if (tb_adapter_filein_position(app->files[i], &p) &&
		    tb_adapter_posfile_set(app->posfile, tb_adapter_filein_path(app->files[i]), &p, &err) < 0)
			break;
	}
	if (!err.msg[0] && tb_adapter_posfile_save(app->posfile, &err) == 0)
		return 0;
	/* Not fatal: everything is delivered; a restart would only re-read more. */
	tb_metric_inc(app->pos_fail);
	tb_error("saving positions: %s", err.msg);
	return -1;
}

/* One round (see the top comment). *busy: some input had data; *done: stdin
 * ended. Returns 0 or -1 (fatal, nothing committed). */
static int run_round(app_t *app, int *busy, int *done, tb_err_t *err)
{
	long got = 0;
	int n = 0;

	for (size_t i = 0; i < app->n_files; i++) {
		long r = tb_adapter_filein_poll(app->files[i], ROUND_BYTES, err);

		if (r < 0)
			return -1;
		got += r;
		if (tb_adapter_filein_eof(app->files[i]))
			*done = 1;
	}
	if (app->consumer) {
		n = tb_kafka_poll_batch(app->consumer, &app->batch, app->batch_max,
					got || *done ? 0 : app->poll_ms, err);
		if (n < 0)
			return tb_err_wrap(err, "kafka poll");
		for (int i = 0; i < n; i++)
			if (tb_adapter_kafka_message(app->ad, &app->batch.msgs[i], err) < 0)
				return -1;
	}
	if (tb_adapter_output_pending(app->out) && tb_adapter_output_flush(app->out, app->flush_ms, err) < 0)
		return tb_err_wrap(err, "outputs not acknowledged; nothing committed");
	if (n > 0 && tb_kafka_commit(app->consumer, &app->batch, err) < 0)
		return tb_err_wrap(err, "kafka commit");
	save_positions(app);
	tb_metric_inc(app->rounds);
	*busy = got > 0 || n > 0;
	return 0;
}

static int run(app_t *app, tb_err_t *err)
{
	int done = 0;

	while (!done && !tb_service_stopping(app->svc)) {
		int busy = 0;

		if (run_round(app, &busy, &done, err) < 0)
			return -1;
		if (!busy && !done && !app->consumer)
			tb_service_wait(app->svc, app->poll_ms);
	}
	if (done)
		tb_info("stdin ended: everything read was delivered; exiting");
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void app_free(app_t *app)
{
	tb_err_t err;

	tb_kafka_batch_clear(&app->batch, 1);
	if (app->consumer && tb_kafka_consumer_close(app->consumer, NULL, &err) < 0)
		tb_warn("close consumer: %s", err.msg);
	for (size_t i = 0; i < app->n_files; i++)
		tb_adapter_filein_free(app->files[i]);
	tb_adapter_free(app->ad);
	tb_adapter_output_free(app->out);
	tb_dlq_free(app->dlq);
	tb_kafka_producer_free(app->producer);
	tb_adapter_posfile_free(app->posfile);
	tb_avro_registry_free(app->reg);
}

static int setup(app_t *app, tb_adapter_inputs_t *in, tb_err_t *err)
{
	if (tb_adapter_inputs_parse(tb_config_str(app->svc->cfg, "input"), in, err) < 0 ||
	    check_config(app, in, err) < 0)
		return TB_EXIT_CONFIG;
	app->batch_max = (size_t)tb_config_int(app->svc->cfg, "batch-max");
	app->poll_ms = (int)tb_config_duration_ms(app->svc->cfg, "poll-interval");
	app->flush_ms = (int)tb_config_duration_ms(app->svc->cfg, "flush-timeout");
	app->rounds = tb_metrics_counter(app->svc->metrics, "rounds_total", "read-flush-commit rounds", NULL);
	app->pos_fail = tb_metrics_counter(app->svc->metrics, "position_save_failures_total",
					   "position file not saved", NULL);
	app->reg = tb_avro_registry_new(err);
	if (!app->reg)
		return TB_EXIT_FAILURE;
	if (open_kafka(app, in, err) < 0)
		return TB_EXIT_UNREACHABLE;
	if (open_adapter(app, err) < 0 || open_files(app, in, err) < 0)
		return TB_EXIT_FAILURE;
	return TB_EXIT_OK;
}

int main(int argc, char **argv)
{
	tb_service_t svc;
	tb_err_t err;
	app_t app;
	tb_adapter_inputs_t in;
	char **args = NULL, *merged = NULL;
	int nargs = 0, rc;

	if (tb_adapter_inputs_merge_argv(argc, argv, &nargs, &args, &merged) < 0) {
		fprintf(stderr, "tb-adapter: out of memory\n");
		return TB_EXIT_FAILURE;
	}
	/* args stay allocated until the end: the configuration may point into them. */
	rc = tb_service_init(&svc, "adapter", VERSION, options, nargs, args);
	if (rc != 0) {
		free(args);
		free(merged);
		return svc.exit_code;
	}
	memset(&app, 0, sizeof(app));
	memset(&in, 0, sizeof(in));
	app.svc = &svc;
	tb_err_clear(&err);
	rc = setup(&app, &in, &err);
	if (rc == TB_EXIT_OK) {
		tb_service_set_ready(&svc, true, NULL);
		rc = run(&app, &err) < 0 ? TB_EXIT_FAILURE : TB_EXIT_OK;
	}
	if (rc != TB_EXIT_OK)
		tb_error("%s", err.msg);
	if (rc == TB_EXIT_CONFIG)
		fprintf(stderr, "tb-adapter: %s\n", err.msg);
	tb_service_set_ready(&svc, false, "stopping");
	app_free(&app);
	tb_adapter_inputs_clear(&in);
	tb_service_shutdown(&svc);
	free(args);
	free(merged);
	return rc;
}
