/*
 * produce.c — `tb-kafka produce`: stdin lines or N generated messages to a topic.
 *
 * Generated messages (-n N) have distinct keys "KEY-i" (KEY from -k, default
 * "key") and values "PREFIX-i" (PREFIX from -v, default "value"), i = 0..N-1,
 * so a test knows exactly what must arrive. Without -n, every stdin line is
 * one message (newline stripped); its key is -k KEY, or the part before the
 * first DELIM when -K DELIM is given. The command ends with a flush and fails
 * (exit 1) unless every message was acknowledged by the broker.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/log.h"
#include "tool.h"

#define MAX_HEADERS 16

struct produce_opts {
	const char *topic;
	const char *key;
	const char *delim;
	const char *prefix;
	long n; /* -1: stdin */
	tb_kafka_header_t headers[MAX_HEADERS];
	size_t n_headers;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tb-kafka produce -t TOPIC [-k KEY] [-K DELIM] [-n N] [-v PREFIX] [-H name=value] "
		   "[-X k=v]\n"
		   "  -n N       send N generated messages: key KEY-i (default key-i), value PREFIX-i\n"
		   "             (default value-i); without -n every stdin line is a message\n"
		   "  -k KEY     key of every stdin line (or prefix of generated keys)\n"
		   "  -K DELIM   split each stdin line at the first DELIM into key and value\n"
		   "  -H n=v     add a header (repeatable)\n"
		   "Exits 0 only when every message was acknowledged by the broker.\n");
}

static int add_header(struct produce_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || o->n_headers >= MAX_HEADERS) {
		fprintf(stderr, "tb-kafka produce: -H wants name=value (at most %d)\n", MAX_HEADERS);
		return -1;
	}
	*eq = '\0';
	o->headers[o->n_headers++] = (tb_kafka_header_t){arg, eq + 1, strlen(eq + 1)};
	return 0;
}

static int parse(tool_globals_t *g, struct produce_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int ch;

	o->n = -1;
	while ((ch = getopt_long(argc, argv, "t:k:K:n:v:H:X:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			o->topic = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'K':
			o->delim = optarg;
			break;
		case 'v':
			o->prefix = optarg;
			break;
		case 'n':
			o->n = atol(optarg);
			break;
		case 'H':
			if (add_header(o, optarg) < 0)
				return -1;
			break;
		case 'X':
			if (tool_add_prop(g, optarg) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!o->topic || optind != argc || (o->delim && !o->delim[0])) {
		fprintf(stderr, "tb-kafka produce: -t TOPIC is required\n");
		return -1;
	}
	return 0;
}

static int send_generated(const tool_globals_t *g, tb_kafka_producer_t *p, const struct produce_opts *o,
			  long *sent)
{
	char key[256], val[256];
	tb_err_t err = {{0}};

	for (long i = 0; i < o->n && !*g->stop; i++) {
		int kl = snprintf(key, sizeof(key), "%s-%ld", o->key ? o->key : "key", i);
		int vl = snprintf(val, sizeof(val), "%s-%ld", o->prefix ? o->prefix : "value", i);

		if (tb_kafka_produce(p, o->topic, key, (size_t)kl, val, (size_t)vl, o->headers, o->n_headers,
				     &err) < 0) {
			tb_error("%s", err.msg);
			return -1;
		}
		(*sent)++;
		if (i % 1000 == 999)
			tb_kafka_producer_poll(p, 0);
	}
	return 0;
}

static int send_lines(const tool_globals_t *g, tb_kafka_producer_t *p, const struct produce_opts *o,
		      long *sent)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	tb_err_t err = {{0}};

	while (!*g->stop && (len = getline(&line, &cap, stdin)) >= 0) {
		const char *key = o->key, *val = line;
		size_t klen = key ? strlen(key) : 0;
		char *cut;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (o->delim && (cut = strstr(line, o->delim))) {
			*cut = '\0';
			key = line;
			klen = (size_t)(cut - line);
			val = cut + strlen(o->delim);
		}
		if (tb_kafka_produce(p, o->topic, key, klen, val, strlen(val), o->headers, o->n_headers,
				     &err) < 0) {
			tb_error("%s", err.msg);
			rc = -1;
			break;
		}
		if (++*sent % 1000 == 0)
			tb_kafka_producer_poll(p, 0);
	}
	free(line);
	return rc;
}

int cmd_produce(const tool_globals_t *gin, int argc, char **argv)
{
	tool_globals_t g = *gin;
	struct produce_opts o = {0};
	tb_kafka_conf_t conf;
	tb_kafka_producer_t *p;
	tb_err_t err = {{0}};
	const char *topics[1];
	long sent = 0;
	int rc;

	if (parse(&g, &o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	tool_conf(&g, &conf);
	topics[0] = o.topic;
	p = tb_kafka_producer_new(&conf, topics, 1, &err);
	if (!p) {
		fprintf(stderr, "tb-kafka produce: %s\n", err.msg);
		return 1;
	}
	rc = o.n >= 0 ? send_generated(&g, p, &o, &sent) : send_lines(&g, p, &o, &sent);
	if (tb_kafka_producer_flush(p, g.timeout_ms, &err) < 0) {
		fprintf(stderr, "tb-kafka produce: %s\n", err.msg);
		rc = -1;
	}
	tb_kafka_producer_free(p);
	if (rc == 0)
		tb_info("produced %ld messages to %s, all acknowledged", sent, o.topic);
	return rc < 0 ? 1 : 0;
}
