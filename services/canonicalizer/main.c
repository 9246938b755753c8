/*
 * main.c — tb-canonicalizer: RuntimeEvent (tb.events.raw.v1) ->
 * CanonicalEvent (tb.events.canonical.v1). The privacy boundary.
 *
 * Wiring only: options, the privacy policy and symbol store, and the shared
 * stage loop (tb/stage.h). The work per record is canon.c; the policy is
 * privacy.c. Output is keyed like the input (node/exec_id order is kept).
 */
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "privacy.h"
#include "tb/avro.h"
#include "tb/log.h"
#include "tb/stage.h"
#include "tb/symstore.h"
#include "tb/topics.h"

#define VERSION "0.1.0"

static const tb_option_t options[] = {
    {"group", TB_OPT_STRING, "tb-canonicalizer", "Kafka consumer group", NULL},
    {"privacy-policy", TB_OPT_PATH, NULL, "privacy policy file (default: the built-in strict policy)", NULL},
    {"hash-key-file", TB_OPT_PATH, NULL,
     "32-byte key for hashing uid/node names (overrides the policy's hash_key_file)", NULL},
    {"symbol-dir", TB_OPT_PATH, NULL,
     "directory of ELF files (with symbols) indexed by build-id; also a sysroot: a user frame without "
     "build-id takes that of DIR/<module path>",
     NULL},
    {"symbol-cache", TB_OPT_INT, "256", "symbol tables kept in memory (LRU)", NULL},
    {"debuginfod-urls", TB_OPT_STRING, NULL,
     "debuginfod servers (space-separated URLs) asked for the ELF files of build-ids the symbol store lacks; "
     "default: none",
     NULL},
    {"debuginfod-cache", TB_OPT_PATH, NULL, "where fetched files are kept (default: libdebuginfod's cache)",
     NULL},
    {"debuginfod-timeout", TB_OPT_DURATION_MS, "5s", "per debuginfod request", NULL},
    {"debuginfod-miss-ttl", TB_OPT_DURATION_MS, "10m",
     "a build-id no server had is not asked for again for this long", NULL},
    {"batch-max", TB_OPT_INT, "1000", "messages per batch", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct app {
	tb_avro_registry_t *reg;
	tb_canon_t *canon;
	tb_metric_t *out_events;
} app_t;

static tb_stage_verdict_t canonicalize(void *ctx, tb_stage_t *st, const tb_kafka_msg_t *m, tb_err_t *err)
{
	app_t *app = ctx;
	tb_runtime_event_t in;
	tb_event_t out;
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_stage_verdict_t v = TB_STAGE_DONE;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (!m->value) {
		tb_err(err, "decode: empty message (tombstone) on an event topic");
		return TB_STAGE_REJECT;
	}
	if (tb_avro_decode_runtime_event(app->reg, m->value, m->value_len, &in, err) < 0) {
		tb_err_wrap(err, "decode: RuntimeEvent"); /* "decode": the dead-letter reason class */
		return TB_STAGE_REJECT;
	}
	if (tb_canon_event(app->canon, &in, &out, err) < 0) {
		tb_err_wrap(err, "invalid: canonicalize"); /* a RuntimeEvent we cannot canonicalize */
		v = TB_STAGE_REJECT;
		goto out;
	}
	if (tb_avro_encode_canonical_event(app->reg, &out, &buf, &len, err) < 0) {
		tb_err_wrap(err, "encode CanonicalEvent");
		v = TB_STAGE_FATAL; /* our own record failed to encode: a bug, not bad input */
		goto out;
	}
	if (tb_stage_emit(st, TB_TOPIC_EVENTS_CANONICAL, m->key, m->key_len, buf, len, err) < 0)
		v = TB_STAGE_FATAL;
	else
		tb_metric_inc(app->out_events);
out:
	free(buf);
	tb_event_clear(&out);
	tb_runtime_event_clear(&in);
	return v;
}

static int load_privacy(tb_service_t *svc, tb_privacy_policy_t *pol, tb_err_t *err)
{
	const char *path = tb_config_str(svc->cfg, "privacy-policy");
	const char *key = tb_config_str(svc->cfg, "hash-key-file");

	tb_privacy_policy_strict(pol);
	if (path && path[0] && tb_privacy_policy_load(path, pol, err) < 0)
		return -1;
	if (key && key[0]) {
		if (tb_privacy_key_load(key, pol->key, err) < 0)
			return -1;
		pol->has_key = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	tb_service_t svc;
	tb_err_t err;
	app_t app = {0};
	tb_privacy_policy_t pol;
	tb_privacy_t *privacy = NULL;
	tb_symstore_t *store = NULL;
	tb_dbgd_t *dbgd = NULL;
	const char *dbgd_urls;
	tb_kafka_consumer_t *consumer = NULL;
	tb_kafka_producer_t *producer = NULL;
	tb_dlq_t *dlq = NULL;
	const char *in_topics[] = {TB_TOPIC_EVENTS_RAW};
	const char *out_topics[] = {TB_TOPIC_EVENTS_CANONICAL, TB_TOPIC_DLQ};
	int rc = TB_EXIT_FAILURE;

	if (tb_service_init(&svc, "canonicalizer", VERSION, options, argc, argv) != 0)
		return svc.exit_code;
	tb_err_clear(&err);
	if (load_privacy(&svc, &pol, &err) < 0) {
		tb_error("privacy policy: %s", err.msg);
		rc = TB_EXIT_CONFIG;
		goto out;
	}
	privacy = tb_privacy_new(&pol, svc.metrics, &err);
	if (!privacy)
		goto fail;
	dbgd_urls = tb_config_str(svc.cfg, "debuginfod-urls");
	if (dbgd_urls && !dbgd_urls[strspn(dbgd_urls, " ")])
		dbgd_urls = NULL;
	if (tb_config_str(svc.cfg, "symbol-dir") || dbgd_urls) {
		tb_symstore_config_t sc = {.dir = tb_config_str(svc.cfg, "symbol-dir"),
					   .cache_entries = (size_t)tb_config_int(svc.cfg, "symbol-cache")};
		tb_symstore_stats_t stats;

		store = tb_symstore_open(&sc, &err);
		if (!store) {
			tb_error("symbol store: %s", err.msg);
			rc = TB_EXIT_CONFIG;
			goto out;
		}
		tb_symstore_stats(store, &stats);
		tb_info("symbol store %s: %zu build-ids in %zu files (%zu skipped)",
			sc.dir ? sc.dir : "(none)", stats.build_ids, stats.files, stats.skipped);
	}
	if (dbgd_urls) {
		tb_dbgd_config_t dc = {.urls = dbgd_urls,
				       .cache_dir = tb_config_str(svc.cfg, "debuginfod-cache"),
				       .timeout_ms = tb_config_duration_ms(svc.cfg, "debuginfod-timeout"),
				       .miss_ttl_ms = tb_config_duration_ms(svc.cfg, "debuginfod-miss-ttl"),
				       .metrics = svc.metrics};

		dbgd = tb_dbgd_new(&dc, &err);
		if (!dbgd) {
			tb_error("%s", err.msg);
			rc = TB_EXIT_CONFIG;
			goto out;
		}
		tb_info("debuginfod: %s", dbgd_urls);
	}
	app.canon =
	    tb_canon_new(&(tb_canon_config_t){.privacy = privacy,
					      .symstore = store,
					      .sysroot = store ? tb_config_str(svc.cfg, "symbol-dir") : NULL,
					      .metrics = svc.metrics,
					      .debuginfod = dbgd},
			 &err);
	app.reg = tb_avro_registry_new(&err);
	if (!app.canon || !app.reg)
		goto fail;
	app.out_events =
	    tb_metrics_counter(svc.metrics, "events_out_total", "canonical events produced", NULL);
	if (tb_stage_kafka_open(&svc, tb_config_str(svc.cfg, "group"), in_topics, 1, out_topics, 2, &consumer,
				&producer, &err) < 0) {
		tb_error("%s", err.msg);
		rc = TB_EXIT_UNREACHABLE;
		goto out;
	}
	dlq = tb_dlq_new(producer, "canonicalizer", app.reg);
	tb_service_set_ready(&svc, true, NULL);
	tb_stage_opts_t so = {.svc = &svc,
			      .consumer = consumer,
			      .producer = producer,
			      .dlq = dlq,
			      .fn = canonicalize,
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
	tb_avro_registry_free(app.reg);
	tb_canon_free(app.canon);
	tb_dbgd_free(dbgd);
	tb_symstore_close(store);
	tb_privacy_free(privacy);
	tb_service_shutdown(&svc);
	return rc;
}
