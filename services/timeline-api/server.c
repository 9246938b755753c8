/*
 * server.c — the timeline-api HTTP server (server.h): sockets and worker
 * threads, then one function per route.
 *
 * Request path: on_request finds the route (404), checks the method (405
 * with Allow), authenticates (401/403), then calls the route's handler,
 * which validates its input (400/413), does the work and answers. Every
 * non-2xx answer is {"error":{"code","message"}} (reply_error). Responses
 * are built in the worker's reusable JSON buffer and copied into evhttp's
 * output, so a request allocates little beyond what libpq and Kafka need.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "conns.h"
#include "findings.h"
#include "guard.h"
#include "ingest.h"
#include "jsonw.h"
#include "openapi.h"
#include "queries.h"
#include "routes.h"
#include "server.h"
#include "snapshot.h"
#include "tb/admin.h"
#include "tb/hash.h"
#include "tb/log.h"
#include "tb/pg.h"
#include "tb/topics.h"

#define ROUTE_OTHER TB_ROUTE_COUNT /* metrics slot for 404s and the guard's 413 */
#define ALL_METHODS                                                                                          \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |           \
	 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

typedef struct worker {
	struct tb_api_server *srv;
	int idx;
	struct event_base *base;
	struct evhttp *http;
	tb_pg_t *pg;
	tb_kafka_producer_t *producer;
	pthread_t thread;
	int started;
	tb_jw_t w;	      /* response body under construction */
	tb_api_sql_t sql;     /* statement under construction (8 KiB: not on the stack) */
	tb_api_conns_t conns; /* deadlines and the connection bound (conns.h) */
} worker_t;

struct tb_api_server {
	tb_api_config_t cfg;
	const tb_auth_t *auth;
	const tb_avro_registry_t *reg;
	tb_metrics_t *metrics;
	int fd;
	int port;
	tb_api_guard_t guard;
	atomic_int ready;
	int stopped;
	int n_workers;
	worker_t *workers;
	tb_metric_t *requests[TB_ROUTE_COUNT + 1][3]; /* 2xx, 4xx, 5xx */
	tb_metric_t *duration_us[TB_ROUTE_COUNT + 1];
	tb_metric_t *events_accepted;
	tb_metric_t *events_skipped;
	tb_metric_t *ingest_failed;
	tb_metric_t *query_failed;
};

/* One request in flight. */
typedef struct call {
	worker_t *wk;
	struct evhttp_request *req;
	const tb_api_route_t *route;
	int head; /* HEAD: headers of the GET answer, no body */
	tb_principal_t who;
	int status;
} call_t;

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- replies ---- */

static void reply(call_t *c, int code, const char *ctype, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *out = evhttp_request_get_output_buffer(c->req);
	char n[32];

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (c->head) {
		snprintf(n, sizeof(n), "%zu", len);
		evhttp_add_header(h, "Content-Length", n);
	} else if (len > 0 && evbuffer_add(out, body, len) < 0) {
		evhttp_clear_headers(h);
		code = 500;
	}
	c->status = code;
	evhttp_send_reply(c->req, code, NULL, NULL);
}

static void reply_json(call_t *c, int code)
{
	tb_jw_t *w = &c->wk->w;

	if (tb_jw_failed(w)) {
		tb_jw_error(w, "internal", "response could not be built (out of memory)");
		code = 500;
	}
	reply(c, code, "application/json; charset=utf-8", w->buf ? w->buf : "", w->len);
}

static void reply_error(call_t *c, int code, const char *ecode, const char *msg)
{
	tb_jw_error(&c->wk->w, ecode, msg);
	reply_json(c, code);
}

__attribute__((format(printf, 4, 5))) static void reply_errorf(call_t *c, int code, const char *ecode,
							       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_error(c, code, ecode, msg);
}

/* ---- ops routes ---- */

static void handle_healthz(call_t *c)
{
	tb_jw_t *w = &c->wk->w;

	tb_jw_obj(w);
	tb_jw_kstr(w, "status", "ok");
	tb_jw_end(w);
	reply_json(c, 200);
}

static void handle_readyz(call_t *c)
{
	tb_jw_t *w = &c->wk->w;
	int ready = atomic_load(&c->wk->srv->ready);

	tb_jw_obj(w);
	tb_jw_kbool(w, "ready", ready);
	if (!ready)
		tb_jw_kstr(w, "reason", "starting or stopping");
	tb_jw_kbool(w, "runtime_enabled", c->wk->srv->cfg.runtime_enabled);
	tb_jw_end(w);
	reply_json(c, ready ? 200 : 503);
}

static void handle_metrics(call_t *c)
{
	char *text = tb_metrics_render(c->wk->srv->metrics);

	if (!text) {
		reply_error(c, 500, "internal", "metrics could not be rendered");
		return;
	}
	reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
	free(text);
}

static void handle_openapi(call_t *c)
{
	size_t len;
	const char *doc = tb_api_openapi(&len);

	reply(c, 200, "application/json; charset=utf-8", doc, len);
}

/* ---- ingest routes ---- */

static const char *request_body(call_t *c, size_t *len)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(c->req);
	const char *p;

	*len = evbuffer_get_length(b);
	if (*len == 0)
		return "";
	p = (const char *)evbuffer_pullup(b, -1);
	return p ? p : "";
}

/* The body of a JSON route, or NULL after a 400 when it is not UTF-8. */
static const char *json_body(call_t *c, size_t *len)
{
	const char *body = request_body(c, len);
	char why[200];

	if (tb_utf8_describe_json(body, *len, why, sizeof(why)) < 0) {
		reply_errorf(c, 400, "invalid_body", "body: %s", why);
		return NULL;
	}
	return body;
}

/* 503 for Kafka trouble, 500 for a record we could not encode. */
static void reply_produce_failure(call_t *c, int rc, const char *msg)
{
	tb_metric_inc(c->wk->srv->ingest_failed);
	if (rc == -2) {
		tb_error("%s %s: %s", c->route->path, c->who.tenant, msg);
		reply_error(c, 500, "internal", msg);
		return;
	}
	tb_warn("%s %s: %s", c->route->path, c->who.tenant, msg);
	reply_errorf(
	    c, 503, "kafka_unavailable",
	    "%s; nothing may be assumed stored: retry the request (ids are deterministic, duplicates "
	    "collapse)",
	    msg);
}

static void reply_ingest_error(call_t *c, int status, const tb_api_ingest_t *in, const char *msg)
{
	tb_jw_t *w = &c->wk->w;
	const char *code = status == 413 ? "payload_too_large" : status == 400 ? "invalid_body" : "internal";

	tb_jw_reset(w);
	tb_jw_obj(w);
	tb_jw_key(w, "error");
	tb_jw_obj(w);
	tb_jw_kstr(w, "code", code);
	tb_jw_kstr(w, "message", msg);
	if (in->has_pos) {
		tb_jw_kint(w, "line", (int64_t)in->line);
		tb_jw_kint(w, "column", (int64_t)in->column);
		tb_jw_kint(w, "offset", (int64_t)in->offset);
	}
	tb_jw_end(w);
	tb_jw_end(w);
	reply_json(c, status);
}

static void traces_accepted(call_t *c, const tb_api_ingest_t *in, int materialized)
{
	tb_jw_t *w = &c->wk->w;
	char hex[2 * TB_EVENT_ID_LEN + 1];

	tb_jw_obj(w);
	tb_jw_kint(w, "accepted", (int64_t)in->list.n);
	tb_jw_key(w, "event_ids");
	tb_jw_arr(w);
	for (size_t i = 0; i < in->list.n; i++) {
		tb_hex(in->list.events[i].event_id, TB_EVENT_ID_LEN, hex);
		tb_jw_str(w, hex);
	}
	tb_jw_end(w);
	tb_jw_kstr(w, "format", in->format);
	tb_jw_kint(w, "skipped", (int64_t)in->skipped);
	tb_jw_key(w, "skipped_types");
	tb_jw_obj(w);
	for (size_t i = 0; i < in->n_skips; i++)
		tb_jw_kint(w, in->skips[i].type, (int64_t)in->skips[i].n);
	tb_jw_end(w);
	tb_jw_kint(w, "frames_dropped", (int64_t)in->frames_dropped);
	tb_jw_kbool(w, "materialized", materialized);
	tb_jw_end(w);
	reply_json(c, 202);
}

static void handle_traces(call_t *c)
{
	struct tb_api_server *s = c->wk->srv;
	tb_api_ingest_opts_t o = {.tenant = c->who.tenant, .req = s->cfg.req};
	tb_api_ingest_t in;
	tb_err_t err;
	size_t len;
	const char *body = json_body(c, &len);
	int status, rc;

	tb_err_clear(&err);
	if (!body)
		return;
	status = tb_api_ingest_parse(body, len, &o, &in, &err);
	if (status != 0) {
		reply_ingest_error(c, status, &in, err.msg);
		goto out;
	}
	if (s->cfg.runtime_enabled) {
		rc = tb_api_produce_events(c->wk->producer, s->reg, &in.list, s->cfg.ingest_timeout_ms, &err);
		if (rc < 0) {
			reply_produce_failure(c, rc, err.msg);
			goto out;
		}
	}
	tb_metric_add(s->events_accepted, in.list.n);
	tb_metric_add(s->events_skipped, in.skipped);
	traces_accepted(c, &in, s->cfg.runtime_enabled);
out:
	tb_api_ingest_clear(&in);
}

static void handle_artifacts(call_t *c)
{
	struct tb_api_server *s = c->wk->srv;
	tb_artifact_t a;
	tb_jw_t *w = &c->wk->w;
	tb_err_t err;
	size_t len;
	const char *body = json_body(c, &len);
	int rc;

	memset(&a, 0, sizeof(a));
	tb_err_clear(&err);
	if (!body)
		return;
	if (tb_req_parse_artifact(body, len, &s->cfg.req, &a, &err) < 0) {
		reply_error(c, 400, "invalid_body", err.msg);
		return;
	}
	a.registered_ns = wall_us() * 1000;
	if (!(a.tenant = strdup(c->who.tenant))) {
		reply_error(c, 500, "internal", "out of memory");
		goto out;
	}
	if (s->cfg.runtime_enabled &&
	    (rc = tb_api_produce_artifact(c->wk->producer, s->reg, &a, s->cfg.ingest_timeout_ms, &err)) < 0) {
		reply_produce_failure(c, rc, err.msg);
		goto out;
	}
	tb_jw_obj(w);
	tb_jw_kint(w, "accepted", 1);
	tb_jw_kstr(w, "digest", a.digest);
	tb_jw_kstr(w, "sbom_format", a.sbom_format);
	tb_jw_kint(w, "components", (int64_t)a.n_components);
	tb_jw_kint(w, "binaries", (int64_t)a.n_binaries);
	tb_jw_kbool(w, "materialized", s->cfg.runtime_enabled);
	tb_jw_end(w);
	reply_json(c, 202);
out:
	tb_artifact_clear(&a);
}

static void handle_findings(call_t *c)
{
	struct tb_api_server *s = c->wk->srv;
	tb_finding_t f;
	tb_jw_t *w = &c->wk->w;
	tb_err_t err;
	size_t len;
	const char *body = json_body(c, &len);
	int rc;

	memset(&f, 0, sizeof(f));
	tb_err_clear(&err);
	if (!body)
		return;
	if (tb_req_parse_finding(body, len, &s->cfg.req, &f, &err) < 0) {
		reply_error(c, 400, "invalid_body", err.msg);
		return;
	}
	f.registered_ns = wall_us() * 1000;
	if (!(f.tenant = strdup(c->who.tenant))) {
		reply_error(c, 500, "internal", "out of memory");
		goto out;
	}
	if (s->cfg.runtime_enabled &&
	    (rc = tb_api_produce_finding(c->wk->producer, s->reg, &f, s->cfg.ingest_timeout_ms, &err)) < 0) {
		reply_produce_failure(c, rc, err.msg);
		goto out;
	}
	tb_jw_obj(w);
	tb_jw_kint(w, "accepted", 1);
	tb_jw_kstr(w, "finding_id", f.finding_id);
	tb_jw_kint(w, "symbols", (int64_t)f.n_symbols);
	tb_jw_kbool(w, "materialized", s->cfg.runtime_enabled);
	tb_jw_end(w);
	reply_json(c, 202);
out:
	tb_finding_clear(&f);
}

/* ---- query routes ---- */

static const char *query_string(call_t *c)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(c->req);

	return u ? evhttp_uri_get_query(u) : NULL;
}

/* Run the worker's statement; NULL after answering 500/503. */
static PGresult *run_query(call_t *c, const char *what)
{
	worker_t *wk = c->wk;
	PGresult *res;
	tb_err_t err;

	if (wk->sql.overflow) {
		tb_error("%s: statement does not fit %d bytes / %d parameters", what, TB_API_SQL_MAX,
			 TB_API_SQL_PARAMS);
		reply_error(c, 500, "internal", "query could not be built");
		return NULL;
	}
	tb_err_clear(&err);
	res = tb_pg_query_prepared(wk->pg, what, wk->sql.text, wk->sql.n, wk->sql.params, &err);
	if (!res) {
		tb_metric_inc(wk->srv->query_failed);
		tb_warn("%s: %s", what, err.msg);
		reply_errorf(c, tb_pg_failure_is_transient(wk->pg) ? 503 : 500,
			     tb_pg_failure_is_transient(wk->pg) ? "database_unavailable" : "internal",
			     "%s query failed", what);
	}
	return res;
}

static void rendered(call_t *c, int rc, const char *what)
{
	if (rc < 0) {
		tb_error("%s: a row did not have the expected shape", what);
		reply_error(c, 500, "internal", "query result could not be rendered");
		return;
	}
	reply_json(c, 200);
}

static void handle_timeline(call_t *c)
{
	worker_t *wk = c->wk;
	tb_api_qs_t qs;
	tb_api_timeline_req_t r;
	PGresult *res = NULL;
	tb_err_t err;
	int rc;

	tb_err_clear(&err);
	if (tb_api_qs_parse(query_string(c), &qs, &err) < 0 ||
	    tb_api_parse_timeline(&qs, &wk->srv->cfg.limits, c->who.tenant, wall_us(), &r, &err) < 0) {
		reply_error(c, 400, "invalid_parameter", err.msg);
		goto out;
	}
	if (wk->srv->cfg.runtime_enabled) {
		if (r.bucket_s)
			tb_api_sql_buckets(&r, c->who.tenant, &wk->sql);
		else
			tb_api_sql_timeline(&r, c->who.tenant, &wk->sql);
		if (!(res = run_query(c, "timeline")))
			goto out;
	}
	rc = r.bucket_s ? tb_api_render_buckets(res, &r, c->who.tenant, &wk->w)
			: tb_api_render_timeline(res, &r, c->who.tenant, &wk->w);
	rendered(c, rc, "timeline");
out:
	PQclear(res);
	tb_api_qs_free(&qs);
}

static void handle_hot(call_t *c)
{
	worker_t *wk = c->wk;
	tb_api_qs_t qs;
	tb_api_hot_req_t r;
	PGresult *res = NULL;
	tb_err_t err;

	tb_err_clear(&err);
	if (tb_api_qs_parse(query_string(c), &qs, &err) < 0 ||
	    tb_api_parse_hot(&qs, &wk->srv->cfg.limits, wall_us(), &r, &err) < 0) {
		reply_error(c, 400, "invalid_parameter", err.msg);
		goto out;
	}
	if (wk->srv->cfg.runtime_enabled) {
		tb_api_sql_hot(&r, c->who.tenant, &wk->sql);
		if (!(res = run_query(c, "hot-symbols")))
			goto out;
	}
	rendered(c, tb_api_render_hot(res, &r, &wk->w), "hot-symbols");
out:
	PQclear(res);
	tb_api_qs_free(&qs);
}

static void handle_folded(call_t *c)
{
	worker_t *wk = c->wk;
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	tb_api_qs_t qs;
	tb_api_folded_req_t r;
	PGresult *res = NULL;
	tb_err_t err;
	int truncated = 0;

	tb_err_clear(&err);
	if (tb_api_qs_parse(query_string(c), &qs, &err) < 0 ||
	    tb_api_parse_folded(&qs, &wk->srv->cfg.limits, wall_us(), &r, &err) < 0) {
		reply_error(c, 400, "invalid_parameter", err.msg);
		goto out;
	}
	if (wk->srv->cfg.runtime_enabled) {
		tb_api_sql_folded(&r, c->who.tenant, &wk->sql);
		if (!(res = run_query(c, "stacks.folded")))
			goto out;
	}
	if (tb_api_render_folded(res, &r, &wk->w, &truncated) < 0 || tb_jw_failed(&wk->w)) {
		tb_jw_reset(&wk->w);
		rendered(c, -1, "stacks.folded");
		goto out;
	}
	evhttp_add_header(h, "X-TB-Truncated", truncated ? "true" : "false");
	evhttp_add_header(h, "X-TB-Runtime-Enabled", wk->srv->cfg.runtime_enabled ? "true" : "false");
	reply(c, 200, "text/plain; charset=utf-8", wk->w.buf ? wk->w.buf : "", wk->w.len);
out:
	PQclear(res);
	tb_api_qs_free(&qs);
}

/* ---- finding-scoped routes (findings.h): /api/v1/findings/{id}/runtime/... ---- */

static int authorize_scope(call_t *c, unsigned scope);

static void handle_finding_trace_post(call_t *c, const char *id)
{
	struct tb_api_server *s = c->wk->srv;
	tb_finding_trace_t t;
	tb_event_list_t list;
	char hex[2 * TB_EVENT_ID_LEN + 1];
	tb_jw_t *w = &c->wk->w;
	tb_err_t err;
	size_t len;
	const char *body = json_body(c, &len);
	int rc;

	memset(&t, 0, sizeof(t));
	tb_err_clear(&err);
	if (!body)
		return;
	if (tb_req_parse_finding_trace(id, body, len, c->who.tenant, wall_us() * 1000, &t, &err) < 0) {
		reply_error(c, 400, "invalid_body", err.msg);
		return;
	}
	if (!(t.event.component_purl = strdup(t.component_purl))) {
		reply_error(c, 500, "internal", "out of memory");
		goto out;
	}
	list.events = &t.event;
	list.n = 1;
	if (s->cfg.runtime_enabled && (rc = tb_api_produce_events(c->wk->producer, s->reg, &list,
								  s->cfg.ingest_timeout_ms, &err)) < 0) {
		reply_produce_failure(c, rc, err.msg);
		goto out;
	}
	tb_metric_inc(s->events_accepted);
	tb_hex(t.event.event_id, TB_EVENT_ID_LEN, hex);
	tb_jw_obj(w);
	tb_jw_kint(w, "accepted", 1);
	tb_jw_kstr(w, "finding_id", t.finding_id);
	tb_jw_kstr(w, "event_id", hex);
	tb_jw_kstr(w, "artifact_digest", t.artifact_digest);
	tb_jw_kstr(w, "component_purl", t.component_purl);
	tb_jw_kbool(w, "materialized", s->cfg.runtime_enabled);
	tb_jw_end(w);
	reply_json(c, 202);
out:
	tb_finding_trace_clear(&t);
}

/* Snapshot and witness: canonical bytes answered as they are (snapshot.h). */
static void finding_document(call_t *c, tb_fnd_ctx_t *fc, const tb_api_qs_t *qs, tb_fnd_sub_t sub)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	char *body = NULL, id[72];
	size_t len = 0;
	tb_err_t err;
	int st;

	tb_err_clear(&err);
	st = sub == TB_FND_SNAPSHOT
		 ? tb_fnd_get_snapshot(fc, qs, &body, &len, id, &err)
		 : tb_fnd_get_witness(fc, qs, c->wk->srv->cfg.witness_key, &body, &len, &err);
	if (st >= 500)
		tb_warn("%s %s: %s", tb_fnd_name(sub), c->who.tenant, err.msg);
	if (st != 200) {
		reply_error(c, st, fc->code ? fc->code : "internal",
			    st >= 500 && strcmp(fc->code ? fc->code : "", "witness_unavailable") != 0 &&
				    strcmp(fc->code ? fc->code : "", "runtime_disabled") != 0
				? "query failed"
				: err.msg);
		return;
	}
	if (sub == TB_FND_SNAPSHOT)
		evhttp_add_header(h, "X-TB-Snapshot-Id", id);
	reply(c, 200, sub == TB_FND_WITNESS ? "application/vnd.dsse.envelope.v1+json" : "application/json",
	      body, len);
	free(body);
}

static void handle_finding_get(call_t *c, const char *id, tb_fnd_sub_t sub)
{
	worker_t *wk = c->wk;
	tb_fnd_ctx_t fc = {.pg = wk->srv->cfg.runtime_enabled ? wk->pg : NULL,
			   .w = &wk->w,
			   .tenant = c->who.tenant,
			   .finding_id = id,
			   .now_us = wall_us()};
	tb_api_qs_t qs;
	tb_err_t err;
	int st;

	tb_err_clear(&err);
	if (tb_api_qs_parse(query_string(c), &qs, &err) < 0) {
		reply_error(c, 400, "invalid_parameter", err.msg);
		goto out;
	}
	if (sub == TB_FND_SNAPSHOT || sub == TB_FND_WITNESS) {
		finding_document(c, &fc, &qs, sub);
		goto out;
	}
	st = sub == TB_FND_TRACES     ? tb_fnd_get_traces(&fc, &qs, &err)
	     : sub == TB_FND_TIMELINE ? tb_fnd_get_timeline(&fc, &qs, &err)
				      : tb_fnd_get_score(&fc, &qs, &err);
	if (st >= 500)
		tb_warn("%s %s: %s", tb_fnd_name(sub), c->who.tenant, err.msg);
	if (st != 200) {
		tb_jw_reset(&wk->w);
		reply_error(c, st, fc.code ? fc.code : "internal", st >= 500 ? "query failed" : err.msg);
		goto out;
	}
	rendered(c, 0, tb_fnd_name(sub));
out:
	tb_api_qs_free(&qs);
}

static void handle_finding(call_t *c, const char *id, tb_fnd_sub_t sub, enum evhttp_cmd_type cmd)
{
	unsigned m = tb_fnd_methods(sub);
	int post = cmd == EVHTTP_REQ_POST;
	const char *allow = (m & TB_M_POST) ? "GET, HEAD, POST" : "GET, HEAD";
	char why[160];

	if (!(post ? (m & TB_M_POST) : (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD))) {
		evhttp_add_header(evhttp_request_get_output_headers(c->req), "Allow", allow);
		reply_errorf(c, 405, "method_not_allowed", "%s allows %s", tb_fnd_name(sub), allow);
		return;
	}
	if (authorize_scope(c, tb_fnd_scope(sub, post)) < 0)
		return;
	if (tb_req_check_finding_id(id, why, sizeof(why)) < 0) {
		reply_errorf(c, 400, "invalid_parameter", "finding id: %s", why);
		return;
	}
	if (post)
		handle_finding_trace_post(c, id);
	else
		handle_finding_get(c, id, sub);
}

/* ---- dispatch ---- */

static void handle_guarded(call_t *c)
{
	const char *q = query_string(c);
	const char *declared = q && strncmp(q, "declared=", 9) == 0 ? q + 9 : "?";

	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Connection", "close");
	reply_errorf(c, 413, "payload_too_large",
		     "request body of %.24s bytes is larger than %" PRIu64 " bytes (--max-body-bytes)",
		     declared, c->wk->srv->cfg.max_body);
}

static void handle_uri_too_long(call_t *c)
{
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Connection", "close");
	reply_errorf(c, 414, "uri_too_long", "request target longer than %zu bytes (--max-uri-bytes)",
		     c->wk->srv->cfg.max_uri);
}

static int method_allowed(const tb_api_route_t *r, enum evhttp_cmd_type cmd)
{
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return (r->methods & TB_M_GET) != 0;
	if (cmd == EVHTTP_REQ_POST)
		return (r->methods & TB_M_POST) != 0;
	return 0;
}

static int authorize(call_t *c)
{
	return authorize_scope(c, c->route->scope);
}

static int authorize_scope(call_t *c, unsigned scope)
{
	const char *hdr = evhttp_find_header(evhttp_request_get_input_headers(c->req), "Authorization");
	struct evkeyvalq *out = evhttp_request_get_output_headers(c->req);

	switch (tb_auth_check(c->wk->srv->auth, hdr, scope, &c->who)) {
	case TB_AUTH_OK:
		return 0;
	case TB_AUTH_MISSING:
		evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"tracebridge\"");
		reply_error(c, 401, "unauthorized", "missing bearer token (Authorization: Bearer TOKEN)");
		return -1;
	case TB_AUTH_INVALID:
		evhttp_add_header(out, "WWW-Authenticate",
				  "Bearer realm=\"tracebridge\", error=\"invalid_token\"");
		reply_error(c, 401, "unauthorized", "unknown bearer token");
		return -1;
	default:
		reply_errorf(c, 403, "forbidden", "the token of tenant %s lacks scope %s", c->who.tenant,
			     tb_scope_name(scope));
		return -1;
	}
}

static void dispatch(call_t *c)
{
	switch (c->route->id) {
	case TB_ROUTE_HEALTHZ:
		handle_healthz(c);
		break;
	case TB_ROUTE_READYZ:
		handle_readyz(c);
		break;
	case TB_ROUTE_METRICS:
		handle_metrics(c);
		break;
	case TB_ROUTE_OPENAPI:
		handle_openapi(c);
		break;
	case TB_ROUTE_TRACES:
		handle_traces(c);
		break;
	case TB_ROUTE_ARTIFACTS:
		handle_artifacts(c);
		break;
	case TB_ROUTE_FINDINGS:
		handle_findings(c);
		break;
	case TB_ROUTE_TIMELINE:
		handle_timeline(c);
		break;
	case TB_ROUTE_HOT_SYMBOLS:
		handle_hot(c);
		break;
	case TB_ROUTE_STACKS_FOLDED:
		handle_folded(c);
		break;
	default:
		reply_error(c, 500, "internal", "route without handler");
		break;
	}
}

static void count(call_t *c, int64_t t0)
{
	struct tb_api_server *s = c->wk->srv;
	int slot = c->route ? (int)c->route->id : ROUTE_OTHER;
	int cls = c->status >= 500 ? 2 : c->status >= 400 ? 1 : 0;

	tb_metric_inc(s->requests[slot][cls]);
	tb_metric_add(s->duration_us[slot], (uint64_t)(mono_us() - t0));
}

static void on_request(struct evhttp_request *req, void *arg)
{
	worker_t *wk = arg;
	call_t c = {.wk = wk, .req = req};
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	int64_t t0 = mono_us();
	char fid[TB_FND_ID_MAX + 1];
	tb_fnd_sub_t fsub;
	int guarded;

	tb_jw_reset(&wk->w);
	tb_api_conns_dispatched(&wk->conns, evhttp_request_get_connection(req));
	c.head = cmd == EVHTTP_REQ_HEAD;
	if (!path || !*path)
		path = "/";
	if ((guarded = tb_api_guard_is_synthetic(&wk->srv->guard, path)) != 0) {
		c.head = 0;
		if (guarded == 2)
			handle_uri_too_long(&c);
		else
			handle_guarded(&c);
	} else if (tb_fnd_route(path, fid, sizeof(fid), &fsub) == 0) {
		handle_finding(&c, fid, fsub, cmd);
	} else if (!(c.route = tb_api_route_find(path))) {
		reply_errorf(&c, 404, "not_found", "no route %.200s (see /openapi.json)", path);
	} else if (!method_allowed(c.route, cmd)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
				  tb_api_route_allow(c.route));
		reply_errorf(&c, 405, "method_not_allowed", "%s allows %s", c.route->path,
			     tb_api_route_allow(c.route));
	} else if (authorize(&c) == 0) {
		dispatch(&c);
	}
	count(&c, t0);
	tb_debug("http %s %s -> %d (%" PRId64 " us)", c.route ? c.route->name : "-", path, c.status,
		 mono_us() - t0);
}

/* ---- setup ---- */

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	worker_t *wk = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	if (!bev)
		return NULL;
	if (tb_api_guard_attach(&wk->srv->guard, bufferevent_get_input(bev)) < 0)
		tb_warn("cannot watch a connection for oversized bodies; evhttp's limit still applies");
	if (tb_api_conns_open(&wk->conns, bev) < 0)
		tb_warn("cannot record a connection; it runs without --request-deadline");
	return bev;
}

static int listen_socket(const char *addr, int *fd_out, int *port_out, tb_err_t *err)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);
	int p, fd = -1, one = 1, rc;

	if (tb_admin_parse_addr(addr, host, sizeof(host), &p, err) < 0)
		return tb_err_wrap(err, "--listen");
	snprintf(port, sizeof(port), "%d", p);
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return tb_err(err, "--listen %s: %s", addr, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* TCP_NODELAY (inherited by the accepted connections): evhttp writes a
	 * large answer in several segments, and with Nagle the last one waited
	 * for the client's delayed ACK, ~40 ms on every keep-alive request after
	 * the first (make bench: timeline page p50 44 ms -> see README). */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		tb_err(err, "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 in6;

		memcpy(&in6, &ss, sizeof(in6));
		*port_out = ntohs(in6.sin6_port);
	} else {
		struct sockaddr_in in4;

		memcpy(&in4, &ss, sizeof(in4));
		*port_out = ntohs(in4.sin_port);
	}
	*fd_out = fd;
	return 0;
}

static int worker_http(struct tb_api_server *s, worker_t *wk, tb_err_t *err)
{
	struct timeval tv = {.tv_sec = s->cfg.request_timeout_s};
	struct evhttp_bound_socket *bound;
	int fd;

	wk->base = event_base_new();
	wk->http = wk->base ? evhttp_new(wk->base) : NULL;
	if (!wk->http)
		return tb_err(err, "worker %d: cannot create the event loop", wk->idx);
	evhttp_set_gencb(wk->http, on_request, wk);
	evhttp_set_bevcb(wk->http, make_bev, wk);
	evhttp_set_max_body_size(wk->http, (ev_ssize_t)s->cfg.max_body);
	evhttp_set_max_headers_size(wk->http, (ev_ssize_t)s->cfg.max_headers);
	evhttp_set_timeout_tv(wk->http, &tv);
	evhttp_set_allowed_methods(wk->http, ALL_METHODS);
	evhttp_set_flags(wk->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_default_content_type(wk->http, "application/json; charset=utf-8");
	/* Each worker listens on its own descriptor of the one socket: evhttp
	 * closes it when the worker's evhttp is freed. */
	fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return tb_err(err, "worker %d: dup listening socket: %s", wk->idx, strerror(errno));
	if (!(bound = evhttp_accept_socket_with_handle(wk->http, fd))) {
		close(fd);
		return tb_err(err, "worker %d: cannot accept on the listening socket", wk->idx);
	}
	tb_api_conns_init(&wk->conns, wk->base, evhttp_bound_socket_get_listener(bound),
			  s->cfg.request_deadline_s,
			  (s->cfg.max_connections + s->n_workers - 1) / s->n_workers, s->metrics);
	return 0;
}

static int worker_deps(struct tb_api_server *s, worker_t *wk, int *unreachable, tb_err_t *err)
{
	const char *topics[] = {TB_TOPIC_EVENTS_RAW, TB_TOPIC_ARTIFACTS, TB_TOPIC_FINDINGS};

	if (!s->cfg.runtime_enabled)
		return 0;
	*unreachable = 1;
	if (!(wk->pg = tb_pg_connect(s->cfg.pg, s->cfg.pg_connect_wait_ms, err)))
		return -1;
	/* Read queries: the finding routes fold a window's observations (up to
	 * millions of rows into ~10^4 groups) in hash tables rather than spilled
	 * sorts; JIT compilation cost ~1.5 s per such query and saves less. */
	if (tb_pg_session(wk->pg, "SELECT set_config('work_mem', '64MB', false), set_config('jit', 'off', false)", err) < 0)
		return -1;
	if (!(wk->producer = tb_kafka_producer_new(&s->cfg.kafka, topics, 3, err)))
		return -1;
	*unreachable = 0;
	return 0;
}

static void register_metrics(struct tb_api_server *s)
{
	static const char *const cls[3] = {"2xx", "4xx", "5xx"};
	char labels[128];

	for (int r = 0; r <= TB_ROUTE_COUNT; r++) {
		const char *name = r < TB_ROUTE_COUNT ? tb_api_routes[r].name : "other";

		for (int k = 0; k < 3; k++) {
			snprintf(labels, sizeof(labels), "route=\"%s\",class=\"%s\"", name, cls[k]);
			s->requests[r][k] =
			    tb_metrics_counter(s->metrics, "http_requests_total",
					       "HTTP requests answered, by route and status class", labels);
		}
		snprintf(labels, sizeof(labels), "route=\"%s\"", name);
		s->duration_us[r] = tb_metrics_counter(s->metrics, "http_request_duration_microseconds_total",
						       "time spent answering, by route", labels);
	}
	s->events_accepted =
	    tb_metrics_counter(s->metrics, "ingest_events_total",
			       "runtime events accepted (produced, or parsed in null mode)", NULL);
	s->events_skipped = tb_metrics_counter(s->metrics, "ingest_skipped_total",
					       "Tetragon events of unknown or legacy types skipped", NULL);
	s->ingest_failed =
	    tb_metrics_counter(s->metrics, "ingest_failures_total",
			       "ingest requests that failed to produce (Kafka or encoding)", NULL);
	s->query_failed =
	    tb_metrics_counter(s->metrics, "query_failures_total", "queries PostgreSQL failed", NULL);
}

tb_api_server_t *tb_api_server_new(const tb_api_config_t *cfg, const tb_auth_t *auth,
				   const tb_avro_registry_t *reg, tb_metrics_t *metrics, int *unreachable,
				   tb_err_t *err)
{
	struct tb_api_server *s;

	*unreachable = 0;
	if (evthread_use_pthreads() < 0) {
		tb_err(err, "libevent without pthread support");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->workers = calloc((size_t)cfg->threads, sizeof(worker_t)))) {
		free(s);
		tb_err(err, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->auth = auth;
	s->reg = reg;
	s->metrics = metrics;
	s->fd = -1;
	s->n_workers = cfg->threads;
	tb_api_guard_init(&s->guard, cfg->max_body, cfg->max_headers);
	tb_api_guard_set_max_uri(&s->guard, cfg->max_uri);
	register_metrics(s);
	if (listen_socket(cfg->listen, &s->fd, &s->port, err) < 0)
		goto fail;
	for (int i = 0; i < s->n_workers; i++) {
		worker_t *wk = &s->workers[i];

		wk->srv = s;
		wk->idx = i;
		tb_jw_init(&wk->w);
		if (worker_http(s, wk, err) < 0 || worker_deps(s, wk, unreachable, err) < 0)
			goto fail;
	}
	return s;
fail:
	tb_api_server_free(s);
	return NULL;
}

int tb_api_server_port(const tb_api_server_t *s)
{
	return s->port;
}

static void *worker_main(void *arg)
{
	worker_t *wk = arg;

	if (event_base_dispatch(wk->base) < 0)
		tb_error("worker %d: event loop failed", wk->idx);
	return NULL;
}

int tb_api_server_start(tb_api_server_t *s, tb_err_t *err)
{
	for (int i = 0; i < s->n_workers; i++) {
		int rc = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);

		if (rc != 0)
			return tb_err(err, "start worker %d: %s", i, strerror(rc));
		s->workers[i].started = 1;
	}
	return 0;
}

void tb_api_server_set_ready(tb_api_server_t *s, int ready)
{
	atomic_store(&s->ready, ready);
}

void tb_api_server_stop(tb_api_server_t *s)
{
	if (!s || s->stopped)
		return;
	s->stopped = 1;
	atomic_store(&s->ready, 0);
	for (int i = 0; i < s->n_workers; i++)
		if (s->workers[i].started)
			event_base_loopexit(s->workers[i].base, NULL);
	for (int i = 0; i < s->n_workers; i++)
		if (s->workers[i].started) {
			pthread_join(s->workers[i].thread, NULL);
			s->workers[i].started = 0;
		}
}

void tb_api_server_free(tb_api_server_t *s)
{
	if (!s)
		return;
	tb_api_server_stop(s);
	for (int i = 0; s->workers && i < s->n_workers; i++) {
		worker_t *wk = &s->workers[i];

		tb_api_conns_stop(&wk->conns);
		if (wk->http)
			evhttp_free(wk->http);
		tb_api_conns_free(&wk->conns);
		if (wk->base)
			event_base_free(wk->base);
		tb_kafka_producer_free(wk->producer);
		tb_pg_close(wk->pg);
		tb_jw_free(&wk->w);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s->workers);
	free(s);
}
