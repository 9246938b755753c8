/*
 * tb_admin.c — the ops HTTP server (/healthz, /readyz, /metrics), see tb/admin.h.
 *
 * How it works: tb_admin_start creates the listening socket itself (so a
 * bind failure comes back with its real errno instead of a libevent log
 * line), hands it to an evhttp on a private event_base, and runs that base
 * on a dedicated thread started with every signal blocked (signals belong to
 * the service's own handling; a peer that hangs up gives EPIPE, not SIGPIPE).
 * Stopping writes one byte to a pipe watched by the base: its callback
 * breaks the loop, so no libevent threading support (global state) is
 * needed. After the join, the base and everything on it belong to the
 * stopping thread again and are freed there.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tb/admin.h"
#include "tb/log.h"

#define ADMIN_IDLE_TIMEOUT_S 30
#define ADMIN_BACKLOG 64

struct tb_admin {
	struct event_base *base;
	struct evhttp *http;
	struct event *wake_ev;
	int wake[2]; /* [0] watched by the base, [1] written by tb_admin_stop */
	pthread_t thread;
	int thread_started;
	int port;
	char *port_file;
	tb_metrics_t *metrics;
	tb_ready_fn ready;
	void *ready_ctx;
};

/* ---- address ------------------------------------------------------------ */

int tb_admin_parse_addr(const char *addr, char *host, size_t host_cap, int *port, tb_err_t *err)
{
	const char *colon, *h, *p;
	size_t hlen;
	char *end;
	long v;

	if (!addr || !addr[0])
		addr = TB_ADMIN_DEFAULT_ADDR;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return tb_err(err, "address '%s': expected [IPV6]:PORT", addr);
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return tb_err(
			    err,
			    "address '%s': expected HOST:PORT, e.g. 127.0.0.1:9090 (port 0 = any free port)",
			    addr);
		if (memchr(addr, ':', (size_t)(colon - addr)))
			return tb_err(err, "address '%s': write an IPv6 host in brackets, e.g. [::1]:9090",
				      addr);
		h = addr;
		hlen = (size_t)(colon - addr);
	}
	p = colon + 1;
	errno = 0;
	v = *p >= '0' && *p <= '9' ? strtol(p, &end, 10) : -1;
	if (v < 0 || v > 65535 || errno || *end)
		return tb_err(err, "address '%s': port '%s' is not a number from 0 to 65535", addr, p);
	if (hlen == 0) {
		h = "127.0.0.1";
		hlen = strlen(h);
	}
	if (hlen >= host_cap)
		return tb_err(err, "address '%s': host name too long", addr);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)v;
	return 0;
}

static int listen_on(const char *host, int port, int *fd_out, int *bound_port, tb_err_t *err)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u = {0};
	socklen_t sl = sizeof(u);
	char port_s[8];
	int fd = -1, rc, one = 1, saved = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port_s, sizeof(port_s), "%d", port);
	rc = getaddrinfo(host, port_s, &hints, &res);
	if (rc)
		return tb_err(err, "cannot resolve host '%s': %s", host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, ADMIN_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return tb_err(err, "cannot bind %s:%d: %s", host, port,
			      strerror(saved ? saved : EADDRNOTAVAIL));
	if (getsockname(fd, &u.sa, &sl) < 0) {
		saved = errno;
		close(fd);
		return tb_err(err, "getsockname on %s:%d: %s", host, port, strerror(saved));
	}
	*bound_port = ntohs(u.sa.sa_family == AF_INET6 ? u.in6.sin6_port : u.in.sin_port);
	*fd_out = fd;
	return 0;
}

/* ---- port file ---------------------------------------------------------- */

static int write_port_file(const char *path, int port, tb_err_t *err)
{
	char tmp[4096];
	FILE *f;
	int bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return tb_err(err, "port file '%s': path too long", path);
	f = fopen(tmp, "w");
	if (!f)
		return tb_err(err, "port file '%s': cannot create %s: %s", path, tmp, strerror(errno));
	bad = fprintf(f, "%d\n", port) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return tb_err(err, "port file '%s': cannot write: %s", path, strerror(saved));
	}
	return 0;
}

/* ---- HTTP --------------------------------------------------------------- */

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		  const char *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp 2.1 would send the body after a HEAD: give only its length. */
		char len[24];

		snprintf(len, sizeof(len), "%zu", strlen(body));
		evhttp_add_header(h, "Content-Length", len);
		body = "";
	}
	if (buf)
		evbuffer_add(buf, body, strlen(body));
	evhttp_send_reply(req, code, reason, buf);
	if (buf)
		evbuffer_free(buf);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason, const char *ecode,
			const char *msg)
{
	char body[1024];
	size_t len = 0;

	len = (size_t)snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"", ecode);
	tb_json_escape(body, sizeof(body) - 8, &len, msg);
	snprintf(body + len, sizeof(body) - len, "\"}}");
	reply(req, code, reason, "application/json", body);
}

static void serve_healthz(tb_admin_t *a, struct evhttp_request *req)
{
	(void)a;
	reply(req, 200, "OK", "application/json", "{\"status\":\"ok\"}");
}

static void serve_readyz(tb_admin_t *a, struct evhttp_request *req)
{
	char why[256] = "", body[640];
	size_t len;

	if (!a->ready || a->ready(a->ready_ctx, why, sizeof(why))) {
		reply(req, 200, "OK", "application/json", "{\"ready\":true}");
		return;
	}
	why[sizeof(why) - 1] = '\0';
	len = (size_t)snprintf(body, sizeof(body), "{\"ready\":false,\"reason\":\"");
	tb_json_escape(body, sizeof(body) - 4, &len, why[0] ? why : "not ready");
	snprintf(body + len, sizeof(body) - len, "\"}");
	reply(req, 503, "Service Unavailable", "application/json", body);
}

static void serve_metrics(tb_admin_t *a, struct evhttp_request *req)
{
	char *text = a->metrics ? tb_metrics_render(a->metrics) : NULL;

	reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text ? text : "");
	free(text);
}

static const struct route {
	const char *path;
	void (*serve)(tb_admin_t *a, struct evhttp_request *req);
} routes[] = {
    {"/healthz", serve_healthz},
    {"/readyz", serve_readyz},
    {"/metrics", serve_metrics},
};

static void handle(struct evhttp_request *req, void *arg)
{
	tb_admin_t *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char msg[512];

	if (!path || !path[0])
		path = "/";
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
			snprintf(msg, sizeof(msg), "%s accepts only GET and HEAD", path);
			reply_error(req, 405, "Method Not Allowed", "method_not_allowed", msg);
			return;
		}
		routes[i].serve(a, req);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "no such path: %.200s (the admin server has /healthz, /readyz and /metrics)", path);
	reply_error(req, 404, "Not Found", "not_found", msg);
}

/* ---- thread ------------------------------------------------------------- */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	tb_admin_t *a = arg;
	char b;

	(void)what;
	if (read(fd, &b, 1) < 0 && errno != EAGAIN)
		tb_warn("admin server: wake pipe: %s", strerror(errno));
	event_base_loopbreak(a->base);
}

static void *admin_thread(void *arg)
{
	tb_admin_t *a = arg;

	if (event_base_dispatch(a->base) < 0)
		tb_error("admin server: event loop failed");
	return NULL;
}

static int setup_http(tb_admin_t *a, int fd, tb_err_t *err)
{
	a->base = event_base_new();
	if (!a->base)
		return tb_err(err, "cannot create event base");
	a->http = evhttp_new(a->base);
	if (!a->http)
		return tb_err(err, "cannot create evhttp");
	evhttp_set_timeout(a->http, ADMIN_IDLE_TIMEOUT_S);
	evhttp_set_max_headers_size(a->http, 16384);
	evhttp_set_max_body_size(a->http, 4096);
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
						EVHTTP_REQ_PATCH);
	evhttp_set_gencb(a->http, handle, a);
	if (pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return tb_err(err, "wake pipe: %s", strerror(errno));
	a->wake_ev = event_new(a->base, a->wake[0], EV_READ | EV_PERSIST, on_wake, a);
	if (!a->wake_ev || event_add(a->wake_ev, NULL) < 0)
		return tb_err(err, "cannot watch the wake pipe");
	if (!evhttp_accept_socket_with_handle(a->http, fd))
		return tb_err(err, "evhttp cannot accept on the socket");
	return 0;
}

static int start_thread(tb_admin_t *a, tb_err_t *err)
{
	sigset_t all, old;
	int rc;

	/* The thread inherits this mask: every signal blocked from its first instruction. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&a->thread, NULL, admin_thread, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return tb_err(err, "cannot start the server thread: %s", strerror(rc));
	a->thread_started = 1;
	return 0;
}

int tb_admin_start(tb_admin_t **out, const tb_admin_opts_t *opts, tb_err_t *err)
{
	tb_admin_t *a = calloc(1, sizeof(*a));
	char host[256];
	int port = 0, fd = -1;

	*out = NULL;
	if (!a)
		return tb_err(err, "admin server: out of memory");
	a->wake[0] = a->wake[1] = -1;
	a->metrics = opts->metrics;
	a->ready = opts->ready;
	a->ready_ctx = opts->ready_ctx;
	if (tb_admin_parse_addr(opts->addr, host, sizeof(host), &port, err) < 0)
		goto fail;
	if (listen_on(host, port, &fd, &a->port, err) < 0)
		goto fail;
	if (setup_http(a, fd, err) < 0)
		goto fail;
	fd = -1; /* owned by evhttp now */
	if (start_thread(a, err) < 0)
		goto fail;
	if (opts->port_file && opts->port_file[0]) {
		if (write_port_file(opts->port_file, a->port, err) < 0)
			goto fail;
		a->port_file = strdup(opts->port_file);
	}
	*out = a;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	tb_admin_stop(a);
	return tb_err_wrap(err, "admin server on %s",
			   opts->addr && opts->addr[0] ? opts->addr : TB_ADMIN_DEFAULT_ADDR);
}

int tb_admin_port(const tb_admin_t *a)
{
	return a->port;
}

void tb_admin_stop(tb_admin_t *a)
{
	if (!a)
		return;
	if (a->thread_started) {
		char b = 'x';

		while (write(a->wake[1], &b, 1) < 0 && errno == EINTR)
			;
		pthread_join(a->thread, NULL);
	}
	if (a->port_file)
		unlink(a->port_file);
	if (a->http)
		evhttp_free(a->http);
	if (a->wake_ev)
		event_free(a->wake_ev);
	if (a->base)
		event_base_free(a->base);
	for (int i = 0; i < 2; i++)
		if (a->wake[i] >= 0)
			close(a->wake[i]);
	free(a->port_file);
	free(a);
}
