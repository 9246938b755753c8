/*
 * main.c — tb-timeline-api: the REST API of Tracebridge (docs/API.md).
 *
 * Ingest routes turn request bodies into records and produce them to Kafka
 * (202 only after the broker acknowledged); query routes read PostgreSQL as
 * the read-only role. With --runtime-enabled=false (TB_RUNTIME_ENABLED)
 * neither is touched: the null mode.
 *
 * Wiring only: options, the tokens file, the Avro registry, then the server
 * (server.c) until SIGTERM/SIGINT. Exit codes are tb/service.h's: 2 for a
 * bad option or tokens file, 3 when PostgreSQL or Kafka is unreachable at
 * start, 1 for anything else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "server.h"
#include "snapshot.h"
#include "tb/avro.h"
#include "tb/hash.h"
#include "tb/log.h"
#include "tb/service.h"

#define VERSION "0.1.0"

static const tb_option_t options[] = {
    {"listen", TB_OPT_STRING, "127.0.0.1:8080", "API address HOST:PORT (port 0: ephemeral)", NULL},
    {"port-file", TB_OPT_PATH, NULL, "write the bound API port to this file", NULL},
    {"runtime-enabled", TB_OPT_BOOL, "true",
     "false: null mode, no Kafka/PostgreSQL; ingest answers 202 materialized=false, queries are empty", NULL},
    {"pg", TB_OPT_STRING, NULL,
     "PostgreSQL conninfo or URL, read-only role tb_api (required unless null mode)", NULL},
    {"pg-connect-wait", TB_OPT_DURATION_MS, "10s", "how long to wait for PostgreSQL (start and reconnects)",
     NULL},
    {"tokens-file", TB_OPT_PATH, NULL,
     "bearer tokens: lines 'TOKEN TENANT SCOPE[,SCOPE]' (without: every request is --tenant, all scopes)",
     NULL},
    {"threads", TB_OPT_INT, "2",
     "worker threads (each with its own event loop, PostgreSQL connection, producer)", NULL},
    {"max-body-bytes", TB_OPT_INT, "8388608", "largest request body (larger: 413)", NULL},
    {"max-header-bytes", TB_OPT_INT, "16384", "largest request line + headers", NULL},
    {"max-uri-bytes", TB_OPT_INT, "8192", "longest request target (path and query; longer: 414)", NULL},
    {"request-timeout", TB_OPT_DURATION_MS, "30s",
     "close connections idle this long mid-request or between requests", NULL},
    {"request-deadline", TB_OPT_DURATION_MS, "60s",
     "longest a client may take to send one whole request (slow clients are closed)", NULL},
    {"max-connections", TB_OPT_INT, "1024",
     "open HTTP connections; beyond, clients wait in the listen backlog", NULL},
    {"ingest-timeout", TB_OPT_DURATION_MS, "30s",
     "longest wait for the broker to acknowledge a request's records", NULL},
    {"default-limit", TB_OPT_INT, "100", "page size when limit= is absent", NULL},
    {"max-limit", TB_OPT_INT, "1000", "largest limit= accepted (larger: 400)", NULL},
    {"max-stacks", TB_OPT_INT, "10000", "largest (and default) limit= of stacks.folded", NULL},
    {"witness-key-file", TB_OPT_PATH, NULL,
     "ed25519 seed (32 bytes, raw or 64 hex) signing finding witnesses (without: witness routes are 503)",
     NULL},
    {"print-public-key", TB_OPT_BOOL, "false",
     "print the hex ed25519 public key of --witness-key-file and exit", NULL},
    {"max-events", TB_OPT_INT, "10000", "events in one POST /runtime/traces (more: 413)", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

/* An integer option within [lo, hi], else a configuration error. */
static int int_opt(tb_service_t *svc, const char *name, int64_t lo, int64_t hi, int64_t *out, tb_err_t *err)
{
	int64_t v = tb_config_int(svc->cfg, name);

	if (v < lo || v > hi)
		return tb_err(err, "option '%s': %lld is out of range %lld..%lld", name, (long long)v,
			      (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

static int load_config(tb_service_t *svc, tb_api_config_t *c, tb_err_t *err)
{
	int64_t threads = 0, body = 0, headers = 0, def = 0, max = 0, stacks = 0, events = 0, conns = 0,
		uri = 0;
	size_t n_pairs = 0;

	memset(c, 0, sizeof(*c));
	if (int_opt(svc, "threads", 1, 64, &threads, err) < 0 ||
	    int_opt(svc, "max-body-bytes", 1024, INT64_C(1) << 30, &body, err) < 0 ||
	    int_opt(svc, "max-header-bytes", 1024, 1 << 20, &headers, err) < 0 ||
	    int_opt(svc, "max-uri-bytes", 256, headers - 256, &uri, err) < 0 ||
	    int_opt(svc, "max-limit", 1, 100000, &max, err) < 0 ||
	    int_opt(svc, "default-limit", 1, max, &def, err) < 0 ||
	    int_opt(svc, "max-stacks", 1, 1000000, &stacks, err) < 0 ||
	    int_opt(svc, "max-events", 1, 1000000, &events, err) < 0 ||
	    int_opt(svc, "max-connections", threads, 1000000, &conns, err) < 0)
		return -1;
	c->listen = tb_config_str(svc->cfg, "listen");
	c->threads = (int)threads;
	c->runtime_enabled = tb_config_bool(svc->cfg, "runtime-enabled");
	c->max_body = (uint64_t)body;
	c->max_headers = (size_t)headers;
	c->max_uri = (size_t)uri;
	c->request_timeout_s = (int)((tb_config_duration_ms(svc->cfg, "request-timeout") + 999) / 1000);
	c->request_deadline_s = (int)((tb_config_duration_ms(svc->cfg, "request-deadline") + 999) / 1000);
	c->max_connections = (int)conns;
	c->ingest_timeout_ms = (int)tb_config_duration_ms(svc->cfg, "ingest-timeout");
	c->pg = tb_config_str(svc->cfg, "pg");
	c->pg_connect_wait_ms = (int)tb_config_duration_ms(svc->cfg, "pg-connect-wait");
	if (c->request_timeout_s < 1 || c->request_deadline_s < 1 || c->ingest_timeout_ms < 1)
		return tb_err(err,
			      "options 'request-timeout', 'request-deadline' and 'ingest-timeout' must be "
			      "positive");
	if (c->runtime_enabled && (!c->pg || !*c->pg))
		return tb_err(err, "option 'pg' is required unless --runtime-enabled=false (null mode)");
	c->kafka.bootstrap = tb_config_str(svc->cfg, "brokers");
	c->kafka.props = tb_config_kafka_props(svc->cfg, &n_pairs);
	c->kafka.n_pairs = n_pairs;
	c->kafka.client_id = "tb-timeline-api";
	c->kafka.metrics = svc->metrics;
	tb_api_limits_default(&c->limits);
	c->limits.default_limit = def;
	c->limits.max_limit = max;
	c->limits.max_stacks = stacks;
	tb_req_limits_default(&c->req);
	c->req.max_events = (size_t)events;
	return 0;
}

static int write_port_file(const char *path, int port, tb_err_t *err)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (!(f = fopen(tmp, "w")))
		return tb_err(err, "port file %s: %s", tmp, strerror(errno));
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return tb_err(err, "port file %s: %s", path, strerror(errno));
	}
	return 0;
}

static tb_auth_t *load_auth(tb_service_t *svc, tb_err_t *err)
{
	const char *path = tb_config_str(svc->cfg, "tokens-file");

	if (path && *path)
		return tb_auth_load(path, err);
	return tb_auth_open(tb_config_str(svc->cfg, "tenant"), err);
}

/* --witness-key-file into *k (k->present 0 without the option). */
static int load_witness_key(tb_service_t *svc, tb_witness_key_t *k, tb_err_t *err)
{
	const char *path = tb_config_str(svc->cfg, "witness-key-file");

	memset(k, 0, sizeof(*k));
	if (!path || !*path) {
		if (tb_config_bool(svc->cfg, "print-public-key"))
			return tb_err(err, "--print-public-key needs --witness-key-file");
		return 0;
	}
	return tb_witness_key_load(path, k, err);
}

static void print_public_key(const tb_witness_key_t *k)
{
	char hex[2 * sizeof(k->pk) + 1];

	tb_hex(k->pk, sizeof(k->pk), hex);
	printf("%s\n", hex);
}

static int config_error(const char *msg)
{
	fprintf(stderr, "tb-timeline-api: %s\n", msg);
	tb_error("%s", msg);
	return TB_EXIT_CONFIG;
}

int main(int argc, char **argv)
{
	tb_service_t svc;
	tb_api_config_t cfg;
	tb_auth_t *auth = NULL;
	tb_avro_registry_t *reg = NULL;
	tb_api_server_t *srv = NULL;
	tb_witness_key_t wkey;
	const char *port_file;
	tb_err_t err;
	int unreachable = 0, wrote_port = 0, rc = TB_EXIT_FAILURE;

	if (tb_service_init(&svc, "timeline-api", VERSION, options, argc, argv) != 0)
		return svc.exit_code;
	tb_err_clear(&err);
	if (load_witness_key(&svc, &wkey, &err) < 0) {
		rc = config_error(err.msg);
		goto out;
	}
	if (tb_config_bool(svc.cfg, "print-public-key")) {
		print_public_key(&wkey);
		rc = TB_EXIT_OK;
		goto out;
	}
	if (load_config(&svc, &cfg, &err) < 0 || !(auth = load_auth(&svc, &err))) {
		rc = config_error(err.msg);
		goto out;
	}
	cfg.witness_key = wkey.present ? &wkey : NULL;
	if (!(reg = tb_avro_registry_new(&err)))
		goto fail;
	if (!(srv = tb_api_server_new(&cfg, auth, reg, svc.metrics, &unreachable, &err))) {
		if (unreachable) {
			tb_error("%s", err.msg);
			rc = TB_EXIT_UNREACHABLE;
			goto out;
		}
		goto fail;
	}
	port_file = tb_config_str(svc.cfg, "port-file");
	if (port_file && *port_file) {
		if (write_port_file(port_file, tb_api_server_port(srv), &err) < 0)
			goto fail;
		wrote_port = 1;
	}
	if (tb_api_server_start(srv, &err) < 0)
		goto fail;
	tb_info("listening on %s port %d: %d worker(s), runtime %s, %s", cfg.listen, tb_api_server_port(srv),
		cfg.threads, cfg.runtime_enabled ? "enabled" : "disabled (null mode)",
		tb_auth_required(auth) ? "bearer tokens required"
				       : "no tokens file: every request is --tenant");
	tb_api_server_set_ready(srv, 1);
	tb_service_set_ready(&svc, true, NULL);
	while (!tb_service_wait(&svc, -1))
		;
	rc = TB_EXIT_OK;
	goto out;
fail:
	tb_error("%s", err.msg);
	rc = TB_EXIT_FAILURE;
out:
	tb_service_set_ready(&svc, false, "stopping");
	tb_api_server_free(srv);
	if (wrote_port)
		unlink(tb_config_str(svc.cfg, "port-file"));
	tb_avro_registry_free(reg);
	tb_auth_free(auth);
	sodium_memzero(&wkey, sizeof(wkey));
	tb_service_shutdown(&svc);
	return rc;
}
