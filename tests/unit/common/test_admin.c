/*
 * Unit tests for the admin HTTP server (tb_admin) and the service lifecycle
 * helper built on it (tb_service).
 *
 * Every request goes over a real loopback TCP connection through the small
 * socket HTTP client below (no curl). Waits are bounded polls or socket
 * receive timeouts, never timing assertions. The forced-exit test runs the
 * service in a forked child, since a second signal ends the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tb/admin.h"
#include "tb/metrics.h"
#include "tb/service.h"

#define IO_TIMEOUT_S 30

/* ---- a minimal HTTP/1.1 client ---------------------------------------- */

typedef struct resp {
	int status;
	char *raw;  /* whole response, malloc'd */
	char *body; /* points into raw */
} resp_t;

static int connect_port(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("connect 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

static void http(int port, const char *method, const char *path, resp_t *r)
{
	char req[512], *sep;
	size_t len = 0, cap = 4096;
	int fd = connect_port(port), n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		     method, path);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	r->raw = malloc(cap);
	for (;;) {
		ssize_t got;

		if (len + 1 >= cap)
			r->raw = realloc(r->raw, cap *= 2);
		got = recv(fd, r->raw + len, cap - len - 1, 0);
		if (got < 0)
			fail_msg("%s %s: recv: %s", method, path, strerror(errno));
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	r->raw[len] = '\0';
	if (sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
		fail_msg("%s %s: expected an HTTP status line, got \"%.80s\"", method, path, r->raw);
	sep = strstr(r->raw, "\r\n\r\n");
	assert_non_null(sep);
	*sep = '\0'; /* raw now holds only the head */
	r->body = sep + 4;
}

static void resp_free(resp_t *r)
{
	free(r->raw);
}

static void assert_header(const resp_t *r, const char *line)
{
	if (!strcasestr(r->raw, line))
		fail_msg("expected header \"%s\"; got head:\n%s", line, r->raw);
}

static void assert_get(int port, const char *path, int want_status, const char *want_body)
{
	resp_t r;

	http(port, "GET", path, &r);
	if (r.status != want_status || strcmp(r.body, want_body) != 0)
		fail_msg("GET %s: expected %d %s; got %d %s", path, want_status, want_body, r.status, r.body);
	resp_free(&r);
}

/* ---- readiness as a caller would keep it ------------------------------- */

typedef struct ready_state {
	pthread_mutex_t lock;
	bool ready;
	const char *reason;
} ready_state_t;

static bool ready_cb(void *ctx, char *reason, size_t cap)
{
	ready_state_t *s = ctx;
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = s->ready;
	snprintf(reason, cap, "%s", s->reason);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static tb_admin_t *start(const tb_admin_opts_t *o)
{
	tb_admin_t *a;
	tb_err_t err = {{0}};

	if (tb_admin_start(&a, o, &err) < 0)
		fail_msg("tb_admin_start: %s", err.msg);
	assert_true(tb_admin_port(a) > 0);
	return a;
}

/* ---- tb_admin ----------------------------------------------------------- */

static void healthz_answers_ok_json(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	resp_t r;

	(void)state;
	a = start(&o);
	http(tb_admin_port(a), "GET", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	assert_header(&r, "Content-Type: application/json");
	resp_free(&r);
	tb_admin_stop(a);
}

static void readyz_follows_the_readiness_callback(void **state)
{
	ready_state_t s = {PTHREAD_MUTEX_INITIALIZER, false, "kafka: connecting to \"localhost:9092\""};
	tb_admin_opts_t o = {.ready = ready_cb, .ready_ctx = &s};
	tb_admin_t *a;

	(void)state;
	a = start(&o);
	assert_get(tb_admin_port(a), "/readyz", 503,
		   "{\"ready\":false,\"reason\":\"kafka: connecting to \\\"localhost:9092\\\"\"}");
	pthread_mutex_lock(&s.lock);
	s.ready = true;
	pthread_mutex_unlock(&s.lock);
	assert_get(tb_admin_port(a), "/readyz", 200, "{\"ready\":true}");
	pthread_mutex_lock(&s.lock);
	s.ready = false;
	s.reason = "draining";
	pthread_mutex_unlock(&s.lock);
	assert_get(tb_admin_port(a), "/readyz", 503, "{\"ready\":false,\"reason\":\"draining\"}");
	tb_admin_stop(a);
}

static void readyz_without_callback_is_ready(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;

	(void)state;
	a = start(&o);
	assert_get(tb_admin_port(a), "/readyz", 200, "{\"ready\":true}");
	tb_admin_stop(a);
}

static void metrics_serves_prometheus_text(void **state)
{
	tb_metrics_t *m = tb_metrics_new("tb_test");
	tb_admin_opts_t o = {.metrics = m};
	tb_admin_t *a;
	resp_t r;

	(void)state;
	tb_metric_add(tb_metrics_counter(m, "records_total", "records seen", "topic=\"tb.events.raw.v1\""),
		      7);
	a = start(&o);
	http(tb_admin_port(a), "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type: text/plain; version=0.0.4");
	assert_string_equal(r.body, "# HELP tb_test_records_total records seen\n"
				    "# TYPE tb_test_records_total counter\n"
				    "tb_test_records_total{topic=\"tb.events.raw.v1\"} 7\n");
	resp_free(&r);
	/* The value is read at request time, not at start. */
	tb_metric_inc(tb_metrics_counter(m, "records_total", "records seen", "topic=\"tb.events.raw.v1\""));
	http(tb_admin_port(a), "GET", "/metrics", &r);
	assert_non_null(strstr(r.body, "tb_test_records_total{topic=\"tb.events.raw.v1\"} 8\n"));
	resp_free(&r);
	tb_admin_stop(a);
	tb_metrics_free(m);
}

static void unknown_path_gets_404_json_error(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	resp_t r;

	(void)state;
	a = start(&o);
	http(tb_admin_port(a), "GET", "/nope", &r);
	assert_int_equal(r.status, 404);
	assert_header(&r, "Content-Type: application/json");
	assert_string_equal(r.body,
			    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such path: /nope (the admin "
			    "server has /healthz, /readyz and /metrics)\"}}");
	resp_free(&r);
	assert_get(tb_admin_port(a), "/", 404,
		   "{\"error\":{\"code\":\"not_found\",\"message\":\"no such path: / (the admin server has "
		   "/healthz, "
		   "/readyz and /metrics)\"}}");
	tb_admin_stop(a);
}

static void post_on_ops_path_gets_405(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	resp_t r;

	(void)state;
	a = start(&o);
	http(tb_admin_port(a), "POST", "/healthz", &r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow: GET, HEAD");
	assert_string_equal(r.body,
			    "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"/healthz accepts only "
			    "GET and HEAD\"}}");
	resp_free(&r);
	tb_admin_stop(a);
}

static void head_and_query_strings_are_served(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	resp_t r;

	(void)state;
	a = start(&o);
	http(tb_admin_port(a), "HEAD", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "");
	resp_free(&r);
	assert_get(tb_admin_port(a), "/healthz?verbose=1", 200, "{\"status\":\"ok\"}");
	tb_admin_stop(a);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 64);

	if (!f) {
		free(buf);
		return NULL;
	}
	if (!fgets(buf, 64, f))
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void port_file_holds_the_port_until_stop(void **state)
{
	char dir[] = "/tmp/tb-test-admin.XXXXXX", path[128], want[16], *got;
	tb_admin_opts_t o = {.port_file = path};
	tb_admin_t *a;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/admin.port", dir);
	a = start(&o);
	snprintf(want, sizeof(want), "%d\n", tb_admin_port(a));
	got = read_file(path);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	tb_admin_stop(a);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0); /* also proves no temporary file was left behind */
}

/* The default address is loopback: the kernel's socket table says so. */
static void default_address_listens_on_loopback_only(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	FILE *f;
	char line[512], want[16], local[64] = "";

	(void)state;
	a = start(&o);
	snprintf(want, sizeof(want), ":%04X", tb_admin_port(a));
	f = fopen("/proc/net/tcp", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char addr[64], st[8];

		if (sscanf(line, " %*d: %63s %*s %7s", addr, st) == 2 && strcmp(st, "0A") == 0 &&
		    strstr(addr, want) && strlen(strstr(addr, want)) == strlen(want))
			snprintf(local, sizeof(local), "%s", addr);
	}
	fclose(f);
	snprintf(want, sizeof(want), "0100007F:%04X", tb_admin_port(a));
	assert_string_equal(local, want);
	tb_admin_stop(a);
}

static void busy_port_error_names_the_address(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a, *b = (tb_admin_t *)0x1;
	char addr[32], want[256];
	tb_err_t err;

	(void)state;
	a = start(&o);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tb_admin_port(a));
	o.addr = addr;
	assert_int_equal(tb_admin_start(&b, &o, &err), -1);
	assert_null(b);
	snprintf(want, sizeof(want), "admin server on %s: cannot bind %s: Address already in use", addr,
		 addr);
	assert_string_equal(err.msg, want);
	tb_admin_stop(a);
}

static void stop_closes_idle_connections(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	struct pollfd p;
	char b;
	int fd;

	(void)state;
	a = start(&o);
	fd = connect_port(tb_admin_port(a));
	assert_get(tb_admin_port(a), "/healthz", 200, "{\"status\":\"ok\"}"); /* the idle one is accepted */
	tb_admin_stop(a); /* must return although a client is still connected */
	p.fd = fd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, IO_TIMEOUT_S * 1000), 1);
	assert_int_equal(recv(fd, &b, 1, 0), 0); /* closed by the server */
	close(fd);
}

static void parse_addr_accepts_host_port_forms(void **state)
{
	char host[64];
	int port;
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_admin_parse_addr("0.0.0.0:9090", host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 9090);
	assert_int_equal(tb_admin_parse_addr(":8080", host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(tb_admin_parse_addr("[::1]:0", host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(tb_admin_parse_addr(NULL, host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
}

static void parse_addr_rejects_what_is_not_host_port(void **state)
{
	char host[64];
	int port;
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_admin_parse_addr("localhost", host, sizeof(host), &port, &err), -1);
	assert_string_equal(
	    err.msg, "address 'localhost': expected HOST:PORT, e.g. 127.0.0.1:9090 (port 0 = any free port)");
	assert_int_equal(tb_admin_parse_addr("127.0.0.1:99999", host, sizeof(host), &port, &err), -1);
	assert_string_equal(err.msg,
			    "address '127.0.0.1:99999': port '99999' is not a number from 0 to 65535");
	assert_int_equal(tb_admin_parse_addr("127.0.0.1:http", host, sizeof(host), &port, &err), -1);
	assert_string_equal(err.msg, "address '127.0.0.1:http': port 'http' is not a number from 0 to 65535");
	assert_int_equal(tb_admin_parse_addr("::1:80", host, sizeof(host), &port, &err), -1);
	assert_string_equal(err.msg, "address '::1:80': write an IPv6 host in brackets, e.g. [::1]:9090");
}

/* ---- tb_service --------------------------------------------------------- */

typedef struct tmpdir {
	char dir[64];
	char port_file[128];
	char port_arg[160];
} tmpdir_t;

static void tmpdir_make(tmpdir_t *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/tb-test-svc.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->port_file, sizeof(t->port_file), "%s/admin.port", t->dir);
	snprintf(t->port_arg, sizeof(t->port_arg), "--admin-port-file=%s", t->port_file);
}

static int port_from_file(const char *path)
{
	char *s = read_file(path);
	int port;

	assert_non_null(s);
	port = atoi(s);
	free(s);
	return port;
}

static void service_starts_not_ready_then_becomes_ready(void **state)
{
	tmpdir_t t = {0};
	char *argv[] = {"tb-svc-test", NULL, "--log-level=warn", NULL};
	tb_service_t svc;
	resp_t r;
	int port;

	(void)state;
	tmpdir_make(&t);
	argv[1] = t.port_arg;
	assert_int_equal(tb_service_init(&svc, "svc-test", "9.9.9", NULL, 3, argv), 0);
	assert_string_equal(svc.name, "svc-test");
	port = port_from_file(t.port_file);
	assert_int_equal(port, tb_admin_port(svc.admin));
	assert_get(port, "/healthz", 200, "{\"status\":\"ok\"}");
	assert_get(port, "/readyz", 503, "{\"ready\":false,\"reason\":\"starting\"}");
	tb_service_set_ready(&svc, false, "kafka: connecting");
	assert_get(port, "/readyz", 503, "{\"ready\":false,\"reason\":\"kafka: connecting\"}");
	tb_service_set_ready(&svc, true, NULL);
	assert_get(port, "/readyz", 200, "{\"ready\":true}");
	http(port, "GET", "/metrics", &r);
	assert_non_null(strstr(r.body, "tb_svc_test_ready 1\n"));
	assert_non_null(strstr(r.body, "tb_svc_test_build_info{version=\"9.9.9\"} 1\n"));
	assert_non_null(strstr(r.body, "tb_svc_test_start_time_seconds "));
	resp_free(&r);
	assert_false(tb_service_stopping(&svc));
	tb_service_shutdown(&svc);
	assert_int_equal(access(t.port_file, F_OK), -1);
	tb_service_shutdown(&svc); /* a second call is harmless */
	assert_int_equal(rmdir(t.dir), 0);
}

static void sigterm_requests_a_stop_and_wakes_the_stop_fd(void **state)
{
	char *argv[] = {"tb-svc-test", "--log-level=error", NULL};
	tb_service_t svc;
	struct pollfd p;

	(void)state;
	assert_int_equal(tb_service_init(&svc, "svc-test", "1", NULL, 2, argv), 0);
	assert_false(tb_service_stopping(&svc));
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_true(tb_service_wait(&svc, IO_TIMEOUT_S * 1000));
	p.fd = tb_service_stop_fd(&svc);
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true(tb_service_wait(&svc, -1)); /* stays signalled */
	tb_service_shutdown(&svc);
}

static void *stop_later(void *arg)
{
	tb_service_request_stop(arg, "worker failed");
	return NULL;
}

static void request_stop_from_another_thread_wakes_wait(void **state)
{
	char *argv[] = {"tb-svc-test", "--log-level=error", NULL};
	tb_service_t svc;
	pthread_t th;

	(void)state;
	assert_int_equal(tb_service_init(&svc, "svc-test", "1", NULL, 2, argv), 0);
	assert_false(tb_service_wait(&svc, 0));
	assert_int_equal(pthread_create(&th, NULL, stop_later, &svc), 0);
	assert_true(tb_service_wait(&svc, IO_TIMEOUT_S * 1000));
	pthread_join(th, NULL);
	tb_service_shutdown(&svc);
}

/* Run tb_service_init with stderr captured; returns what was written. */
static char *init_capturing_stderr(tb_service_t *svc, const tb_option_t *opts, int argc, char **argv, int *rc)
{
	char path[] = "/tmp/tb-test-stderr.XXXXXX", *text;
	int fd = mkstemp(path), saved = dup(2);
	struct stat st;

	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	*rc = tb_service_init(svc, "svc-test", "1", opts, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fstat(fd, &st);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_int_equal(pread(fd, text, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	unlink(path);
	return text;
}

static void config_error_exits_2_with_plain_and_json_message(void **state)
{
	static const tb_option_t opts[] = {
	    {"workers", TB_OPT_INT, "4", "worker threads", NULL},
	    {NULL, 0, NULL, NULL, NULL},
	};
	char *argv[] = {"tb-svc-test", "--workers=four", NULL};
	tb_service_t svc;
	char *text;
	int rc;

	(void)state;
	text = init_capturing_stderr(&svc, opts, 2, argv, &rc);
	assert_int_not_equal(rc, 0);
	assert_int_equal(svc.exit_code, TB_EXIT_CONFIG);
	if (!strstr(text,
		    "tb-svc-test: option 'workers' (command line --workers): 'four' is not an integer\n"))
		fail_msg("expected a plain stderr line naming the option; got:\n%s", text);
	if (!strstr(text,
		    "\"level\":\"error\",\"service\":\"svc-test\",\"msg\":\"configuration error: option "
		    "'workers' (command line --workers): 'four' is not an integer\"}"))
		fail_msg("expected a JSON log line with the same message; got:\n%s", text);
	free(text);
	tb_service_shutdown(&svc); /* harmless after a failed init */
}

static void bad_admin_addr_is_a_configuration_error(void **state)
{
	char *argv[] = {"tb-svc-test", "--admin-addr=localhost", NULL};
	tb_service_t svc;
	char *text;
	int rc;

	(void)state;
	text = init_capturing_stderr(&svc, NULL, 2, argv, &rc);
	assert_int_not_equal(rc, 0);
	assert_int_equal(svc.exit_code, TB_EXIT_CONFIG);
	if (!strstr(text,
		    "tb-svc-test: option 'admin-addr' (command line --admin-addr): address 'localhost': "
		    "expected HOST:PORT, e.g. 127.0.0.1:9090 (port 0 = any free port)\n"))
		fail_msg("expected the message to name --admin-addr; got:\n%s", text);
	free(text);
}

static void busy_admin_port_exits_1(void **state)
{
	tb_admin_opts_t o = {0};
	tb_admin_t *a;
	char arg[64], want[256];
	char *argv[] = {"tb-svc-test", arg, NULL};
	tb_service_t svc;
	char *text;
	int rc;

	(void)state;
	a = start(&o);
	snprintf(arg, sizeof(arg), "--admin-addr=127.0.0.1:%d", tb_admin_port(a));
	text = init_capturing_stderr(&svc, NULL, 2, argv, &rc);
	assert_int_not_equal(rc, 0);
	assert_int_equal(svc.exit_code, TB_EXIT_FAILURE);
	snprintf(
	    want, sizeof(want),
	    "choose another --admin-addr, or port 0 for any free port: admin server on 127.0.0.1:%d: cannot "
	    "bind 127.0.0.1:%d: Address already in use",
	    tb_admin_port(a), tb_admin_port(a));
	if (!strstr(text, want))
		fail_msg("expected \"%s\"; got:\n%s", want, text);
	free(text);
	tb_admin_stop(a);
}

static void help_and_version_exit_0(void **state)
{
	char *argv_v[] = {"tb-svc-test", "--version", NULL};
	char *argv_h[] = {"tb-svc-test", "--tenant=x", "--help", NULL};
	tb_service_t svc;

	(void)state;
	assert_int_not_equal(tb_service_init(&svc, "svc-test", "1", NULL, 2, argv_v), 0);
	assert_int_equal(svc.exit_code, TB_EXIT_OK);
	assert_int_not_equal(tb_service_init(&svc, "svc-test", "1", NULL, 3, argv_h), 0);
	assert_int_equal(svc.exit_code, TB_EXIT_OK);
}

static void second_signal_forces_exit(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"tb-svc-test", "--log-level=error", NULL};
		tb_service_t svc;

		if (tb_service_init(&svc, "svc-test", "1", NULL, 2, argv) != 0)
			_exit(90);
		kill(getpid(), SIGINT);
		if (!tb_service_wait(&svc, IO_TIMEOUT_S * 1000))
			_exit(91);
		kill(getpid(), SIGINT);
		for (int i = 0; i < IO_TIMEOUT_S * 10; i++)
			usleep(100000);
		_exit(92); /* the second signal did not end the process */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(healthz_answers_ok_json),
	    cmocka_unit_test(readyz_follows_the_readiness_callback),
	    cmocka_unit_test(readyz_without_callback_is_ready),
	    cmocka_unit_test(metrics_serves_prometheus_text),
	    cmocka_unit_test(unknown_path_gets_404_json_error),
	    cmocka_unit_test(post_on_ops_path_gets_405),
	    cmocka_unit_test(head_and_query_strings_are_served),
	    cmocka_unit_test(port_file_holds_the_port_until_stop),
	    cmocka_unit_test(default_address_listens_on_loopback_only),
	    cmocka_unit_test(busy_port_error_names_the_address),
	    cmocka_unit_test(stop_closes_idle_connections),
	    cmocka_unit_test(parse_addr_accepts_host_port_forms),
	    cmocka_unit_test(parse_addr_rejects_what_is_not_host_port),
	    cmocka_unit_test(service_starts_not_ready_then_becomes_ready),
	    cmocka_unit_test(sigterm_requests_a_stop_and_wakes_the_stop_fd),
	    cmocka_unit_test(request_stop_from_another_thread_wakes_wait),
	    cmocka_unit_test(config_error_exits_2_with_plain_and_json_message),
	    cmocka_unit_test(bad_admin_addr_is_a_configuration_error),
	    cmocka_unit_test(busy_admin_port_exits_1),
	    cmocka_unit_test(help_and_version_exit_0),
	    cmocka_unit_test(second_signal_forces_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
