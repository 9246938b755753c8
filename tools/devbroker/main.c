/*
 * tb-devbroker — the development and test Kafka broker.
 *
 *   tb-devbroker [--brokers N] --bootstrap-file PATH [--control-file PATH]
 *                [--partitions TOPIC=N ...] [--log-level LEVEL]
 *
 * It runs librdkafka's mock cluster (real Kafka protocol over loopback TCP)
 * inside this process, creates every topic of tb/topics.h with its partition
 * count (other processes cannot create topics on the mock), and publishes the
 * bootstrap address by writing PATH atomically (temp file + rename), so the
 * appearance of the file means "ready". --partitions overrides a topic's
 * count or adds a topic that is not in the table.
 *
 * Fault injection: a line protocol on a loopback TCP port (see control.h);
 * its address "127.0.0.1:PORT" goes to the control file (default:
 * PATH.control), written before the bootstrap file. Runs until SIGTERM or
 * SIGINT, then removes both files and exits 0.
 *
 * Exit codes: 0 clean shutdown, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "tb/log.h"
#include "tb/topics.h"

#define MAX_CLIENTS 16
#define MAX_EXTRA_TOPICS 64
#define LINE_MAX_LEN 1024

static volatile sig_atomic_t g_stop;

struct topic_override {
	char name[256];
	int partitions;
};

struct opts {
	int brokers;
	const char *bootstrap_file;
	char control_file[4096];
	struct topic_override over[MAX_EXTRA_TOPICS];
	int n_over;
	tb_log_level_t level;
};

struct client {
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
};

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tb-devbroker [--brokers N] --bootstrap-file PATH [--control-file PATH]\n"
		   "                    [--partitions TOPIC=N ...] [--log-level debug|info|warn|error]\n"
		   "Runs a librdkafka mock Kafka cluster on 127.0.0.1 with the Tracebridge topics,\n"
		   "writes its bootstrap address to PATH and its control address to the control file\n"
		   "(default PATH.control; line protocol, send \"help\"). Stops on SIGTERM/SIGINT.\n");
}

static int parse_override(const char *arg, struct opts *o)
{
	const char *eq = strrchr(arg, '=');
	char *end;
	long n;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(o->over[0].name) ||
	    o->n_over >= MAX_EXTRA_TOPICS)
		return -1;
	n = strtol(eq + 1, &end, 10);
	if (*end || n < 1 || n > 10000)
		return -1;
	snprintf(o->over[o->n_over].name, sizeof(o->over[0].name), "%.*s", (int)(eq - arg), arg);
	o->over[o->n_over++].partitions = (int)n;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"brokers", required_argument, NULL, 'n'},
	    {"bootstrap-file", required_argument, NULL, 'f'},
	    {"control-file", required_argument, NULL, 'c'},
	    {"partitions", required_argument, NULL, 'p'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	o->brokers = 1;
	o->level = TB_LOG_INFO;
	while ((ch = getopt_long(argc, argv, "n:f:c:p:l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->brokers = atoi(optarg);
			break;
		case 'f':
			o->bootstrap_file = optarg;
			break;
		case 'c':
			snprintf(o->control_file, sizeof(o->control_file), "%s", optarg);
			break;
		case 'p':
			if (parse_override(optarg, o) < 0) {
				fprintf(stderr,
					"tb-devbroker: --partitions wants TOPIC=N (1..10000), got %s\n",
					optarg);
				return -1;
			}
			break;
		case 'l':
			if (tb_log_level_parse(optarg, &o->level) < 0) {
				fprintf(stderr, "tb-devbroker: unknown log level %s\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!o->bootstrap_file || o->brokers < 1 || o->brokers > 16 || optind != argc) {
		fprintf(stderr, "tb-devbroker: --bootstrap-file is required and --brokers must be 1..16\n");
		return -1;
	}
	if (!o->control_file[0])
		snprintf(o->control_file, sizeof(o->control_file), "%s.control", o->bootstrap_file);
	return 0;
}

/* Write "content\n" to path via path.tmp + rename, so readers never see a partial file. */
static int write_atomic(const char *path, const char *content)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		tb_error("write %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fprintf(f, "%s\n", content) < 0 || fclose(f) != 0) {
		tb_error("write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		tb_error("rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int partitions_for(const struct opts *o, const char *topic, int dflt)
{
	for (int i = 0; i < o->n_over; i++)
		if (strcmp(o->over[i].name, topic) == 0)
			return o->over[i].partitions;
	return dflt;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const struct opts *o, const char *name, int partitions)
{
	int rf = o->brokers < 3 ? o->brokers : 3;
	rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, partitions, rf);

	if (e) {
		tb_error("create topic %s (%d partitions): %s", name, partitions, rd_kafka_err2str(e));
		return -1;
	}
	tb_info("created topic %s with %d partitions", name, partitions);
	return 0;
}

static int create_topics(rd_kafka_mock_cluster_t *mc, const struct opts *o)
{
	for (size_t i = 0; tb_topics[i].name; i++)
		if (create_topic(mc, o, tb_topics[i].name,
				 partitions_for(o, tb_topics[i].name, tb_topics[i].partitions)) < 0)
			return -1;
	for (int i = 0; i < o->n_over; i++)
		if (!tb_topic_find(o->over[i].name) &&
		    create_topic(mc, o, o->over[i].name, o->over[i].partitions) < 0)
			return -1;
	return 0;
}

/* Listen on an ephemeral loopback port; writes "127.0.0.1:PORT" into addr. */
static int control_listen(char *addr, size_t cap)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		tb_error("control socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(addr, cap, "127.0.0.1:%d", ntohs(sa.sin_port));
	return fd;
}

static void client_reply(int fd, const char *reply)
{
	char buf[LINE_MAX_LEN + 2];
	size_t len;

	snprintf(buf, sizeof(buf), "%s\n", reply);
	len = strlen(buf);
	if (write(fd, buf, len) != (ssize_t)len)
		tb_warn("control reply: %s", strerror(errno));
}

/* Read from a client and run every complete line. Returns -1 when it closed. */
static int client_read(struct client *cl, rd_kafka_mock_cluster_t *mc, int brokers)
{
	ssize_t r = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len);
	char *nl, reply[LINE_MAX_LEN];

	if (r <= 0)
		return -1;
	cl->len += (size_t)r;
	cl->buf[cl->len] = '\0';
	while ((nl = strchr(cl->buf, '\n'))) {
		int rc;

		*nl = '\0';
		rc = devbroker_exec(mc, brokers, cl->buf, reply, sizeof(reply));
		if (rc == 0)
			tb_info("control: %s -> %s", cl->buf, reply);
		else
			tb_warn("control: %s -> %s", cl->buf, reply);
		client_reply(cl->fd, reply);
		cl->len -= (size_t)(nl + 1 - cl->buf);
		memmove(cl->buf, nl + 1, cl->len + 1);
	}
	if (cl->len == sizeof(cl->buf) - 1) {
		client_reply(cl->fd, "err line too long");
		return -1;
	}
	return 0;
}

static void serve(int lfd, rd_kafka_mock_cluster_t *mc, int brokers)
{
	struct client cl[MAX_CLIENTS];
	int n = 0;
	sigset_t empty;

	sigemptyset(&empty);
	while (!g_stop) {
		struct pollfd pfd[MAX_CLIENTS + 1];

		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
		/* Signals are blocked except inside ppoll: no lost wakeups. */
		if (ppoll(pfd, (nfds_t)n + 1, NULL, &empty) < 0)
			continue;
		for (int i = n - 1; i >= 0; i--) {
			if (!pfd[i + 1].revents || client_read(&cl[i], mc, brokers) == 0)
				continue;
			close(cl[i].fd);
			cl[i] = cl[--n];
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0 && n < MAX_CLIENTS)
				cl[n++] = (struct client){.fd = fd, .len = 0};
			else if (fd >= 0)
				close(fd);
		}
	}
	for (int i = 0; i < n; i++)
		close(cl[i].fd);
}

static int install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	tb_log(level <= 3   ? TB_LOG_ERROR
	       : level == 4 ? TB_LOG_WARN
	       : level <= 6 ? TB_LOG_INFO
			    : TB_LOG_DEBUG,
	       "kafka %s: %s", fac, buf);
}

static rd_kafka_t *cluster_handle(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "client.id", "tb-devbroker", NULL, 0);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		tb_error("create librdkafka handle: %s", errstr);
	}
	return rk;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	rd_kafka_t *rk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	char ctl_addr[64];
	int lfd = -1, rc = 1;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	tb_log_init("devbroker", o.level);
	unlink(o.bootstrap_file); /* a stale address must not look like "ready" */
	if (install_signals() < 0) {
		tb_error("signals: %s", strerror(errno));
		return 1;
	}
	rk = cluster_handle();
	if (!rk)
		goto out;
	mc = rd_kafka_mock_cluster_new(rk, o.brokers);
	if (!mc) {
		tb_error("create mock cluster with %d brokers failed", o.brokers);
		goto out;
	}
	if (create_topics(mc, &o) < 0)
		goto out;
	lfd = control_listen(ctl_addr, sizeof(ctl_addr));
	if (lfd < 0 || write_atomic(o.control_file, ctl_addr) < 0 ||
	    write_atomic(o.bootstrap_file, rd_kafka_mock_cluster_bootstraps(mc)) < 0)
		goto out;
	tb_info("dev broker ready: bootstrap %s (%d brokers), control %s, pid %d",
		rd_kafka_mock_cluster_bootstraps(mc), o.brokers, ctl_addr, (int)getpid());
	serve(lfd, mc, o.brokers);
	tb_info("dev broker stopping");
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	unlink(o.bootstrap_file);
	unlink(o.control_file);
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}
