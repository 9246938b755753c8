/*
 * tb-kafka — a small kcat-like front of tb/kafka.h for tests and operators.
 *
 *   tb-kafka [-b BOOTSTRAP] [-X key=value ...] [--timeout MS] COMMAND [options]
 *
 *   produce  -t TOPIC [-k KEY] [-n N] ...   stdin lines, or N generated messages
 *   consume  -t TOPIC -G GROUP ...          prints "partition offset key value"
 *   metadata [-t TOPIC] [--watermarks [--group G]]  topics, partitions, offsets (G: committed)
 *   topics                                  the built-in topic table (no broker)
 *
 * `tb-kafka COMMAND --help` explains each command. -b defaults to $TB_BROKERS.
 * Every librdkafka property passes through -X (before or after COMMAND) or,
 * as for the services, TB_KAFKA_<PROP> in the environment (-X wins). It
 * goes through the same producer/consumer code as the services, so what it
 * shows is what they do. Logs are JSON on stderr.
 *
 * Exit codes: 0 success (also after SIGTERM/SIGINT), 1 Kafka or I/O failure,
 * 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb/log.h"
#include "tool.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: tb-kafka [-b BOOTSTRAP] [-X key=value ...] [--timeout MS] [--log-level L] COMMAND ...\n"
	    "commands:\n"
	    "  produce  -t TOPIC [-k KEY] [-K DELIM] [-n N] [-v PREFIX] [-H name=value]\n"
	    "  consume  -t TOPIC -G GROUP [--from-beginning] [--exit-after N | --idle-exit MS]\n"
	    "           [--no-commit] [--batch N] [--assignment-file PATH]\n"
	    "  metadata [-t TOPIC] [--watermarks [--group GROUP]]\n"
	    "  topics\n"
	    "-b defaults to $TB_BROKERS; `tb-kafka COMMAND --help` for details.\n");
}

int tool_add_prop(tool_globals_t *g, const char *kv)
{
	tb_err_t err = {{0}};

	if (tb_tool_props_add(&g->props, kv, &err) < 0) {
		fprintf(stderr, "tb-kafka: -X: %s\n", err.msg);
		return -1;
	}
	return 0;
}

void tool_conf(const tool_globals_t *g, tb_kafka_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->bootstrap = g->bootstrap;
	conf->props = g->props.kv;
	conf->n_pairs = g->props.n;
	conf->client_id = "tb-kafka";
	conf->timeout_ms = g->timeout_ms;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"timeout", required_argument, NULL, 'T'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	tool_globals_t g = {.stop = &g_stop, .timeout_ms = 10000};
	tb_log_level_t level = TB_LOG_WARN;
	const char *cmd;
	int ch;

	tb_err_t err = {{0}};
	int rc;

	if (tb_tool_props_env(&g.props, NULL, &err) < 0) {
		fprintf(stderr, "tb-kafka: %s\n", err.msg);
		return 2;
	}
	g.bootstrap = getenv("TB_BROKERS");
	if (g.bootstrap && !g.bootstrap[0])
		g.bootstrap = NULL;
	while ((ch = getopt_long(argc, argv, "+b:X:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			g.bootstrap = optarg;
			break;
		case 'X':
			if (tool_add_prop(&g, optarg) < 0)
				return 2;
			break;
		case 'T':
			g.timeout_ms = atoi(optarg);
			break;
		case 'L':
			if (tb_log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "tb-kafka: unknown log level %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	tb_log_init("tb-kafka", level);
	if (tb_tool_signals(on_signal) < 0) {
		perror("tb-kafka: sigaction");
		return 1;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0; /* reinitialise getopt for the subcommand's argv */
	if (strcmp(cmd, "produce") == 0)
		rc = cmd_produce(&g, argc, argv);
	else if (strcmp(cmd, "consume") == 0)
		rc = cmd_consume(&g, argc, argv);
	else if (strcmp(cmd, "metadata") == 0)
		rc = cmd_metadata(&g, argc, argv);
	else if (strcmp(cmd, "topics") == 0)
		rc = cmd_topics(&g, argc, argv);
	else {
		fprintf(stderr, "tb-kafka: unknown command %s\n", cmd);
		usage(stderr);
		rc = 2;
	}
	return rc;
}
