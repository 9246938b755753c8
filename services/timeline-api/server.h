/*
 * server.h — the timeline-api HTTP server: listening socket, worker
 * threads, request limits, routing, auth and the handlers.
 *
 * Threading: N workers (--threads), each a thread with its own event_base,
 * evhttp, PostgreSQL connection and Kafka producer, all accepting on one
 * listening socket (each worker gets a dup() of it; the kernel hands every
 * new connection to one of them). A request is handled start to finish on
 * the worker that accepted its connection, with blocking libpq and flush
 * calls: simple, no locks or cross-thread hand-offs, and a slow query or a
 * slow broker acknowledgement only holds up the connections of that worker.
 * Per-worker producers also make "202 only after the broker acknowledged"
 * exact: tb_kafka_producer_flush reports every delivery since the last
 * flush, so a shared producer would let one request's failure be reported
 * to another.
 *
 * Limits: --max-body-bytes (evhttp's limit; oversized bodies declared with
 * Content-Length get a JSON 413 through guard.h), --max-header-bytes
 * (request line + headers), --request-timeout (evhttp's read/write
 * inactivity timeout: an idle keep-alive connection or a client that stops
 * sending mid-request is closed).
 *
 * Null mode (runtime_enabled = 0): no PostgreSQL connection and no producer
 * are ever created; ingest bodies are still parsed and validated (202 with
 * "materialized": false), queries answer with empty results.
 */
#ifndef TB_TIMELINE_SERVER_H
#define TB_TIMELINE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "params.h"
#include "requests.h"
#include "tb/avro.h"
#include "tb/err.h"
#include "tb/kafka.h"
#include "tb/metrics.h"

typedef struct tb_api_config {
	const char *listen;	/* "HOST:PORT"; port 0 = ephemeral */
	int threads;		/* workers, >= 1 */
	int runtime_enabled;	/* 0: null mode */
	uint64_t max_body;	/* bytes */
	size_t max_headers;	/* bytes */
	size_t max_uri;		/* request target bytes, < max_headers */
	int request_timeout_s;	/* read/write inactivity, >= 1 */
	int request_deadline_s; /* whole request from accept / previous request, >= 1 */
	int max_connections;	/* open connections, all workers (>= threads) */
	int ingest_timeout_ms;	/* how long a request waits for broker acknowledgements */
	const char *pg;		/* conninfo (runtime enabled) */
	int pg_connect_wait_ms; /* at start and on reconnects */
	tb_kafka_conf_t kafka;	/* producers (runtime enabled) */
	tb_api_limits_t limits;
	tb_req_limits_t req;
	const struct tb_witness_key *witness_key; /* signs finding witnesses; NULL: witness routes 503 */
} tb_api_config_t;

typedef struct tb_api_server tb_api_server_t;

/* Bind, connect every worker's PostgreSQL and producer (runtime enabled),
 * set up the bases. Nothing runs yet. *unreachable is set to 1 when the
 * failure was a dependency (PostgreSQL, Kafka) rather than the setup.
 * auth, reg and metrics are borrowed and must outlive the server. */
tb_api_server_t *tb_api_server_new(const tb_api_config_t *cfg, const tb_auth_t *auth,
				   const tb_avro_registry_t *reg, tb_metrics_t *metrics, int *unreachable,
				   tb_err_t *err);

/* The bound TCP port. */
int tb_api_server_port(const tb_api_server_t *s);

/* Start the worker threads. */
int tb_api_server_start(tb_api_server_t *s, tb_err_t *err);

/* What /readyz on the API port answers. Thread-safe. */
void tb_api_server_set_ready(tb_api_server_t *s, int ready);

/* Stop accepting, let every worker finish the callback it is in, join them.
 * Idempotent. */
void tb_api_server_stop(tb_api_server_t *s);

/* Stop (if needed) and free. NULL is allowed. */
void tb_api_server_free(tb_api_server_t *s);

#endif
