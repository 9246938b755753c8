/*
 * tb_service.c — service lifecycle: config, logging, metrics, signals, admin
 * server, readiness (see tb/service.h).
 *
 * How it works: signals are not handled by an async handler (which would
 * need process-global state) but received synchronously: SIGTERM/SIGINT are
 * blocked, a signalfd collects them and a dedicated thread polls it together
 * with a quit pipe. That thread is the only place that counts signals; all
 * state lives in the caller's tb_service_t. A stop sets an atomic flag and
 * writes one byte into stop_pipe, which is never drained, so the pipe stays
 * readable for any loop that polls it. Readiness is a mutex-protected
 * (bool, reason) pair that the admin thread reads through a callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "tb/log.h"
#include "tb/service.h"

/* ---- stop --------------------------------------------------------------- */

static void signal_stop(tb_service_t *svc)
{
	char b = 's';

	if (atomic_exchange(&svc->stop, 1))
		return;
	while (write(svc->stop_pipe[1], &b, 1) < 0 && errno == EINTR)
		;
}

bool tb_service_stopping(const tb_service_t *svc)
{
	return atomic_load(&((tb_service_t *)svc)->stop) != 0;
}

void tb_service_request_stop(tb_service_t *svc, const char *why)
{
	if (!tb_service_stopping(svc))
		tb_info("stopping: %s", why ? why : "requested");
	signal_stop(svc);
}

int tb_service_stop_fd(const tb_service_t *svc)
{
	return svc->stop_pipe[0];
}

bool tb_service_wait(const tb_service_t *svc, int timeout_ms)
{
	struct pollfd p = {.fd = svc->stop_pipe[0], .events = POLLIN};

	if (tb_service_stopping(svc))
		return true;
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
	return tb_service_stopping(svc);
}

/* ---- signals ------------------------------------------------------------ */

static void *signal_thread(void *arg)
{
	tb_service_t *svc = arg;
	struct pollfd p[2] = {{.fd = svc->sig_fd, .events = POLLIN},
			      {.fd = svc->quit_pipe[0], .events = POLLIN}};
	struct signalfd_siginfo si;
	const char *name;
	int seen = 0;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			tb_error("signal thread: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (read(svc->sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		name = si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
		if (++seen > 1) {
			tb_warn("received %s again: exiting now without draining", name);
			_exit(128 + (int)si.ssi_signo);
		}
		tb_info("received %s: stopping (send it again to exit at once)", name);
		signal_stop(svc);
	}
}

static int start_signals(tb_service_t *svc, tb_err_t *err)
{
	sigset_t set, all, old;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return tb_err(err, "block SIGTERM/SIGINT failed");
	svc->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (svc->sig_fd < 0)
		return tb_err(err, "signalfd: %s", strerror(errno));
	if (pipe2(svc->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(svc->quit_pipe, O_CLOEXEC) < 0)
		return tb_err(err, "pipe: %s", strerror(errno));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&svc->sig_thread, NULL, signal_thread, svc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return tb_err(err, "cannot start the signal thread: %s", strerror(rc));
	svc->sig_thread_started = 1;
	return 0;
}

/* ---- readiness ---------------------------------------------------------- */

static bool ready_cb(void *ctx, char *reason, size_t cap)
{
	tb_service_t *svc = ctx;
	bool ready;

	pthread_mutex_lock(&svc->ready_lock);
	ready = svc->ready;
	snprintf(reason, cap, "%s", svc->ready_reason);
	pthread_mutex_unlock(&svc->ready_lock);
	return ready;
}

void tb_service_set_ready(tb_service_t *svc, bool ready, const char *reason)
{
	bool changed;

	if (!reason || !reason[0])
		reason = ready ? "" : "not ready";
	pthread_mutex_lock(&svc->ready_lock);
	changed = svc->ready != ready || strcmp(svc->ready_reason, reason) != 0;
	svc->ready = ready;
	snprintf(svc->ready_reason, sizeof(svc->ready_reason), "%s", reason);
	pthread_mutex_unlock(&svc->ready_lock);
	tb_metric_set(svc->ready_gauge, ready ? 1 : 0);
	if (!changed)
		return;
	if (ready)
		tb_info("ready");
	else
		tb_info("not ready: %s", reason);
}

/* ---- init / shutdown ---------------------------------------------------- */

static void register_metrics(tb_service_t *svc, const char *version)
{
	char labels[160];
	size_t n = (size_t)snprintf(labels, sizeof(labels), "version=\"%s", version ? version : "unknown");

	/* Keep the label value valid Prometheus text whatever the version is. */
	for (size_t i = 9; i < n && i < sizeof(labels) - 1; i++)
		if (labels[i] == '"' || labels[i] == '\\' || labels[i] == '\n')
			labels[i] = '_';
	snprintf(labels + strlen(labels), sizeof(labels) - strlen(labels), "\"");
	tb_metric_set(
	    tb_metrics_gauge(svc->metrics, "build_info", "always 1; the version is a label", labels), 1);
	tb_metric_set(tb_metrics_gauge(svc->metrics, "start_time_seconds", "process start, Unix time", NULL),
		      (int64_t)time(NULL));
	svc->ready_gauge = tb_metrics_gauge(svc->metrics, "ready", "1 when /readyz answers 200", NULL);
}

static const char *source_word(tb_config_source_t s)
{
	static const char *w[] = {"default", "config file", "environment TB_ADMIN_ADDR",
				  "command line --admin-addr"};

	return w[s];
}

static int config_fail(tb_service_t *svc, const char *msg)
{
	fprintf(stderr, "tb-%s: %s\n", svc->name, msg);
	tb_error("configuration error: %s", msg);
	tb_service_shutdown(svc);
	svc->exit_code = TB_EXIT_CONFIG;
	return -1;
}

static int setup_logging(tb_service_t *svc, tb_err_t *err)
{
	tb_log_level_t level;
	char host[256];
	int port;

	/* Both were validated by tb_config (choices) / are checked here, so the
	 * messages name the option like any other configuration error. */
	if (tb_log_level_parse(tb_config_str(svc->cfg, "log-level"), &level) < 0)
		return tb_err(err, "option 'log-level': '%s' is not one of debug|info|warn|error",
			      tb_config_str(svc->cfg, "log-level"));
	tb_log_init(svc->name, level);
	if (tb_admin_parse_addr(tb_config_str(svc->cfg, "admin-addr"), host, sizeof(host), &port, err) < 0)
		return tb_err_wrap(err, "option 'admin-addr' (%s)",
				   source_word(tb_config_source(svc->cfg, "admin-addr")));
	return 0;
}

static void reset(tb_service_t *svc)
{
	memset(svc, 0, sizeof(*svc));
	svc->stop_pipe[0] = svc->stop_pipe[1] = -1;
	svc->quit_pipe[0] = svc->quit_pipe[1] = -1;
	svc->sig_fd = -1;
	svc->name = svc->name_buf;
}

int tb_service_init(tb_service_t *svc, const char *name, const char *version, const tb_option_t *opts,
		    int argc, char **argv)
{
	tb_admin_opts_t ao = {0};
	tb_err_t err = {{0}};
	char prefix[80];
	int rc;

	reset(svc);
	snprintf(svc->name_buf, sizeof(svc->name_buf), "%s", strncmp(name, "tb-", 3) == 0 ? name + 3 : name);
	tb_log_init(svc->name, TB_LOG_INFO);
	rc = tb_config_load(&svc->cfg, svc->name, version, opts, argc, argv, &err);
	if (rc == 1) {
		svc->exit_code = TB_EXIT_OK;
		return 1;
	}
	if (rc < 0 || setup_logging(svc, &err) < 0)
		return config_fail(svc, err.msg);

	snprintf(prefix, sizeof(prefix), "tb_%s", svc->name);
	for (char *p = prefix; *p; p++)
		*p = *p == '-' ? '_' : *p;
	svc->metrics = tb_metrics_new(prefix);
	register_metrics(svc, version);
	pthread_mutex_init(&svc->ready_lock, NULL);
	svc->ready_lock_init = 1;
	snprintf(svc->ready_reason, sizeof(svc->ready_reason), "starting");

	if (start_signals(svc, &err) < 0)
		goto fail;
	ao.addr = tb_config_str(svc->cfg, "admin-addr");
	ao.port_file = tb_config_str(svc->cfg, "admin-port-file");
	ao.metrics = svc->metrics;
	ao.ready = ready_cb;
	ao.ready_ctx = svc;
	if (tb_admin_start(&svc->admin, &ao, &err) < 0) {
		tb_err_wrap(&err, "choose another --admin-addr, or port 0 for any free port");
		goto fail;
	}
	tb_info("starting %s %s; admin server on port %d", tb_config_prog(svc->cfg),
		version ? version : "unknown", tb_admin_port(svc->admin));
	return 0;
fail:
	fprintf(stderr, "tb-%s: %s\n", svc->name, err.msg);
	tb_error("startup failed: %s", err.msg);
	tb_service_shutdown(svc);
	svc->exit_code = TB_EXIT_FAILURE;
	return -1;
}

void tb_service_shutdown(tb_service_t *svc)
{
	char name[sizeof(svc->name_buf)];

	if (svc->admin)
		tb_info("stopped");
	tb_admin_stop(svc->admin);
	if (svc->sig_thread_started) {
		char b = 'q';

		while (write(svc->quit_pipe[1], &b, 1) < 0 && errno == EINTR)
			;
		pthread_join(svc->sig_thread, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (svc->stop_pipe[i] >= 0)
			close(svc->stop_pipe[i]);
		if (svc->quit_pipe[i] >= 0)
			close(svc->quit_pipe[i]);
	}
	if (svc->sig_fd >= 0)
		close(svc->sig_fd);
	if (svc->ready_lock_init)
		pthread_mutex_destroy(&svc->ready_lock);
	tb_metrics_free(svc->metrics);
	tb_config_free(svc->cfg);
	memcpy(name, svc->name_buf, sizeof(name));
	reset(svc);
	memcpy(svc->name_buf, name, sizeof(name));
}
