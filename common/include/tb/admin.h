/*
 * tb/admin.h — the admin HTTP server every service runs (ops endpoints).
 *
 * A libevent evhttp server on its own thread and event_base, so that it
 * answers even while the service's own loop is busy or blocked:
 *   GET /healthz  200 {"status":"ok"}            (the process is alive)
 *   GET /readyz   200 {"ready":true}             (caller's readiness callback)
 *                 503 {"ready":false,"reason":"..."}
 *   GET /metrics  200 Prometheus text (tb_metrics_render),
 *                 Content-Type: text/plain; version=0.0.4; charset=utf-8
 *   anything else 404 {"error":{"code":"not_found","message":"..."}};
 *   another method on a known path 405 {"error":{"code":"method_not_allowed",...}}.
 * HEAD works wherever GET does. Query strings are ignored.
 *
 * It binds 127.0.0.1 unless told otherwise (--admin-addr), reports the bound
 * port (port 0 = ephemeral) and can write it to a file (written to a
 * temporary name and renamed, so a reader never sees a partial number; the
 * file is removed on stop).
 */
#ifndef TB_ADMIN_H
#define TB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "tb/err.h"
#include "tb/metrics.h"

#define TB_ADMIN_DEFAULT_ADDR "127.0.0.1:0"

/* Readiness: return true when ready; otherwise write a short reason into
 * reason[reason_cap] (NUL-terminated). Called on the admin thread, so it
 * must be thread-safe with respect to whoever changes readiness. */
typedef bool (*tb_ready_fn)(void *ctx, char *reason, size_t reason_cap);

typedef struct tb_admin_opts {
	const char *addr;      /* "HOST:PORT"; NULL or "" = TB_ADMIN_DEFAULT_ADDR; ":PORT" = 127.0.0.1 */
	const char *port_file; /* write the bound port (decimal + '\n') here; NULL = don't */
	tb_metrics_t *metrics; /* rendered on /metrics; NULL = empty body; must outlive the server */
	tb_ready_fn ready;     /* NULL = always ready */
	void *ready_ctx;
} tb_admin_opts_t;

typedef struct tb_admin tb_admin_t;

/* Bind, write the port file, start the server thread. The socket is
 * listening when this returns. Returns 0, or -1 with err naming the address
 * and what went wrong (e.g. "admin server: cannot bind 127.0.0.1:9090:
 * Address already in use ..."). */
int tb_admin_start(tb_admin_t **out, const tb_admin_opts_t *opts, tb_err_t *err);

/* The bound TCP port. */
int tb_admin_port(const tb_admin_t *a);

/* Stop the thread, close every connection, remove the port file, free.
 * NULL is allowed. */
void tb_admin_stop(tb_admin_t *a);

/* Split "HOST:PORT" / "[V6]:PORT" / ":PORT" into host (":PORT" gives
 * 127.0.0.1) and port 0..65535. Returns 0, or -1 with err saying what is
 * wrong with addr. Used to validate --admin-addr as a configuration error. */
int tb_admin_parse_addr(const char *addr, char *host, size_t host_cap, int *port, tb_err_t *err);

#endif
