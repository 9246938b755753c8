/*
 * tb/service.h — the lifecycle every service main follows.
 *
 *     int main(int argc, char **argv)
 *     {
 *         tb_service_t svc;
 *
 *         if (tb_service_init(&svc, "adapter", "0.1.0", opts, argc, argv) != 0)
 *             return svc.exit_code;          // --help/--version (0) or config error (2)
 *         ... connect Kafka/PostgreSQL; on failure: tb_service_shutdown(&svc); return TB_EXIT_UNREACHABLE;
 *         tb_service_set_ready(&svc, true, NULL);
 *         while (!tb_service_stopping(&svc))
 *             ... work, or tb_service_wait(&svc, 1000) ...
 *         ... drain in-flight work, commit ...
 *         tb_service_shutdown(&svc);
 *         return TB_EXIT_OK;
 *     }
 *
 * tb_service_init loads the configuration (tb/config.h), sets up JSON
 * logging at --log-level, creates the metrics registry (prefix "tb_<name>",
 * '-' -> '_'), starts signal handling and the admin server (tb/admin.h) on
 * --admin-addr, writing --admin-port-file. The service starts NOT ready
 * ("starting") until it calls tb_service_set_ready(&svc, true, NULL).
 *
 * Signals: SIGTERM and SIGINT are blocked in the calling thread (and so in
 * every thread created after init) and received by a small signal thread
 * through a signalfd: the first one requests a stop (tb_service_stopping()
 * turns true, tb_service_stop_fd() becomes readable), a second one forces
 * an immediate _exit(128 + signal number). SIGPIPE is ignored. Call
 * tb_service_init before starting any other thread. The signals stay
 * blocked after shutdown, so a late one cannot turn a clean exit into a kill.
 * The signal and admin threads point at the tb_service_t: keep it in place
 * (e.g. on main's stack) and do not copy it between init and shutdown.
 *
 * Exit codes (what main returns; documented in every --help):
 */
#ifndef TB_SERVICE_H
#define TB_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "tb/admin.h"
#include "tb/config.h"
#include "tb/metrics.h"

#define TB_EXIT_OK 0	      /* clean run, or --help / --version */
#define TB_EXIT_FAILURE 1     /* runtime failure (also: admin port cannot be bound) */
#define TB_EXIT_CONFIG 2      /* configuration error: bad option, value or config file */
#define TB_EXIT_UNREACHABLE 3 /* a dependency (Kafka, PostgreSQL) unreachable at start */
/* A second SIGTERM/SIGINT exits with 128 + the signal number (143 / 130). */

typedef struct tb_service {
	/* Public, valid after tb_service_init returned 0. */
	const char *name;      /* "adapter" */
	tb_config_t *cfg;      /* tb_config_str(svc.cfg, "brokers"), ... */
	tb_metrics_t *metrics; /* register the service's metrics here */
	tb_admin_t *admin;     /* tb_admin_port(svc.admin) */
	int exit_code;	       /* set when tb_service_init returned non-zero */

	/* Private. */
	char name_buf[64];
	atomic_int stop;
	pthread_mutex_t ready_lock;
	int ready_lock_init;
	bool ready;
	char ready_reason[256];
	tb_metric_t *ready_gauge;
	int stop_pipe[2]; /* readable once a stop was requested */
	int quit_pipe[2]; /* tells the signal thread to end */
	int sig_fd;
	pthread_t sig_thread;
	int sig_thread_started;
} tb_service_t;

/* Set up everything above. Returns 0 when the service should run. Otherwise
 * returns non-zero after printing what happened, with everything already
 * released, and main must return svc->exit_code at once: TB_EXIT_OK after
 * --help/--version, TB_EXIT_CONFIG on a configuration error (the message goes
 * to stderr as a plain line "tb-NAME: MESSAGE" and as a JSON log line),
 * TB_EXIT_FAILURE when signals or the admin server cannot be set up. */
int tb_service_init(tb_service_t *svc, const char *name, const char *version, const tb_option_t *opts,
		    int argc, char **argv);

/* True once a stop was requested (signal or tb_service_request_stop).
 * Cheap (one atomic load): check it in every loop. */
bool tb_service_stopping(const tb_service_t *svc);

/* Request a stop from inside the service (e.g. a fatal error in a worker
 * thread); `why` is logged. Thread-safe. */
void tb_service_request_stop(tb_service_t *svc, const char *why);

/* A file descriptor that becomes (and stays) readable once a stop was
 * requested: add it to poll()/epoll or a libevent base to wake up at once. */
int tb_service_stop_fd(const tb_service_t *svc);

/* Sleep until a stop is requested or timeout_ms passed (-1 = no limit).
 * Returns tb_service_stopping(). */
bool tb_service_wait(const tb_service_t *svc, int timeout_ms);

/* Readiness for /readyz and the "ready" gauge. `reason` (may be NULL) is
 * what /readyz reports while not ready, e.g. "kafka: connecting to
 * localhost:9092". Thread-safe; transitions are logged. */
void tb_service_set_ready(tb_service_t *svc, bool ready, const char *reason);

/* Stop the admin server and the signal thread, free the configuration and
 * metrics. Safe after a failed init and when called twice. */
void tb_service_shutdown(tb_service_t *svc);

#endif
