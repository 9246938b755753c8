/*
 * tb-rtevent — produce probe batches and read RuntimeEvents, for tests and
 * operators looking at the adapter's topics.
 *
 *   tb-rtevent [-b BOOTSTRAP] [-X key=value ...] probe-batch [-t TOPIC] [-k KEY] < batch.json
 *       Encodes the JSON ProbeBatch on stdin (schema field names; see json.c)
 *       as Avro (tb/avro.h) and produces it (default topic tb.probe.raw.v1,
 *       key = the batch's node). Exits 0 only when the broker acknowledged.
 *   tb-rtevent [-b ...] raw -t TOPIC [-k KEY] < FILE
 *       Produces all of stdin, unchanged, as ONE message (e.g. a whole
 *       Tetragon export with several, pretty-printed objects to
 *       tb.tetragon.raw.v1). Exits 0 only when the broker acknowledged.
 *   tb-rtevent [-b ...] events -G GROUP [-t TOPIC] [--exit-after N] [--idle-exit MS]
 *       Reads RuntimeEvents (default topic tb.events.raw.v1) in consumer group
 *       GROUP and prints one JSON object per message: {"partition","offset",
 *       "key","event":{...}} or {"partition","offset","error"} for a value
 *       that does not decode; stdout is flushed before each commit.
 *       --idle-exit MS stops after MS ms without a message (counted from
 *       the later of the last assignment and the last message; never before
 *       the group assigned partitions).
 *
 * -b defaults to $TB_BROKERS; TB_KAFKA_<PROP> variables and -X pass
 * librdkafka properties through, as for the services.
 * Exit codes: 0 success (also after SIGTERM/SIGINT), 1 Kafka or I/O failure,
 * 2 usage error.
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtevent.h"
#include "tb/avro.h"
#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/tool.h"
#include "tb/topics.h"

typedef struct opts {
	const char *bootstrap;
	tb_tool_props_t props; /* TB_KAFKA_<PROP>, then -X key=value */
	const char *topic;
	const char *key;
	const char *group;
	long exit_after;
	long idle_ms;
} opts_t;

static volatile sig_atomic_t g_stop;
static int64_t g_last_activity_ms; /* 0 until the first assignment */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tb-rtevent [-b BOOTSTRAP] [-X key=value ...] COMMAND ...\n"
		   "  probe-batch [-t TOPIC] [-k KEY] < batch.json   produce one ProbeBatch (JSON -> Avro)\n"
		   "  raw -t TOPIC [-k KEY] < FILE                   produce all of stdin as one message\n"
		   "  events -G GROUP [-t TOPIC] [--exit-after N] [--idle-exit MS]\n"
		   "                                                 print RuntimeEvents as JSON lines\n");
}

static tb_kafka_conf_t conf_of(const opts_t *o)
{
	tb_kafka_conf_t c = {.bootstrap = o->bootstrap,
			     .props = o->props.kv,
			     .n_pairs = o->props.n,
			     .client_id = "tb-rtevent"};

	return c;
}

/* Produce one message and wait for the broker's acknowledgement. */
static int produce_one(const opts_t *o, const char *topic, const char *key, const void *buf, size_t len,
		       tb_err_t *err)
{
	tb_kafka_conf_t conf = conf_of(o);
	tb_kafka_producer_t *p = tb_kafka_producer_new(&conf, &topic, 1, err);
	int rc;

	if (!p)
		return -1;
	rc = tb_kafka_produce(p, topic, key, key ? strlen(key) : 0, buf, len, NULL, 0, err) < 0 ||
		     tb_kafka_producer_flush(p, 30000, err) < 0
		 ? -1
		 : 0;
	tb_kafka_producer_free(p);
	return rc;
}

/* ---- raw ------------------------------------------------------------------- */

static int cmd_raw(const opts_t *o)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	tb_err_t err = {{0}};
	int rc = 1;

	if (!o->topic) {
		fprintf(stderr, "tb-rtevent raw: -t TOPIC is required\n");
		return 2;
	}
	do {
		if (len == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!nb) {
				fprintf(stderr, "tb-rtevent raw: out of memory\n");
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
	} while (n > 0);
	if (ferror(stdin)) {
		fprintf(stderr, "tb-rtevent raw: reading stdin failed\n");
		goto out;
	}
	if (produce_one(o, o->topic, o->key, buf, len, &err) < 0) {
		fprintf(stderr, "tb-rtevent raw: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- probe-batch --------------------------------------------------------- */

static int cmd_probe_batch(const opts_t *o, const tb_avro_registry_t *reg)
{
	json_error_t jerr;
	json_t *j = json_loadf(stdin, 0, &jerr);
	tb_probe_batch_t b;
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};
	int rc = 1;

	memset(&b, 0, sizeof(b));
	if (!j) {
		fprintf(stderr, "tb-rtevent probe-batch: stdin line %d: %s\n", jerr.line, jerr.text);
		return 1;
	}
	if (rtevent_probe_batch_from_json(j, &b, &err) < 0 ||
	    tb_avro_encode_probe_batch(reg, &b, &buf, &len, &err) < 0 ||
	    produce_one(o, o->topic ? o->topic : TB_TOPIC_PROBE_RAW, o->key ? o->key : b.node, buf, len,
			&err) < 0)
		fprintf(stderr, "tb-rtevent probe-batch: %s\n", err.msg);
	else
		rc = 0;
	free(buf);
	tb_probe_batch_clear(&b);
	json_decref(j);
	return rc;
}

/* ---- events -------------------------------------------------------------- */

static int on_rebalance(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	(void)opaque;
	(void)tps;
	(void)n;
	if (assigned)
		g_last_activity_ms = now_ms();
	return 0;
}

static void print_msg(const tb_kafka_msg_t *m, const tb_avro_registry_t *reg)
{
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};
	json_t *out;
	char *text;

	memset(&ev, 0, sizeof(ev));
	out = json_pack("{s:i, s:I, s:s%}", "partition", (int)m->partition, "offset", (json_int_t)m->offset,
			"key", m->key ? (const char *)m->key : "", m->key ? m->key_len : 0);
	if (!out) /* key not UTF-8 */
		out = json_pack("{s:i, s:I, s:n}", "partition", (int)m->partition, "offset",
				(json_int_t)m->offset, "key");
	if (!out)
		return;
	if (!m->value || tb_avro_decode_runtime_event(reg, m->value, m->value_len, &ev, &err) < 0)
		json_object_set_new(out, "error", json_string(m->value ? err.msg : "empty message"));
	else
		json_object_set_new(out, "event", rtevent_event_to_json(&ev));
	text = json_dumps(out, JSON_COMPACT);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(out);
	tb_runtime_event_clear(&ev);
}

static int cmd_events(const opts_t *o, const tb_avro_registry_t *reg)
{
	tb_kafka_conf_t conf = conf_of(o);
	const char *topic = o->topic ? o->topic : TB_TOPIC_EVENTS_RAW;
	tb_kafka_consumer_t *c;
	tb_kafka_batch_t batch = {0};
	tb_err_t err = {{0}};
	long seen = 0;
	int rc = 0;

	c = tb_kafka_consumer_new(&conf, o->group, &topic, 1, &err);
	if (!c) {
		fprintf(stderr, "tb-rtevent events: %s\n", err.msg);
		return 1;
	}
	tb_kafka_consumer_set_rebalance_hook(c, on_rebalance, NULL);
	while (!g_stop && (!o->exit_after || seen < o->exit_after)) {
		int n = tb_kafka_poll_batch(c, &batch, 500, 200, &err);

		if (n < 0) {
			fprintf(stderr, "tb-rtevent events: %s\n", err.msg);
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++)
			print_msg(&batch.msgs[i], reg);
		if (n > 0) {
			seen += n;
			g_last_activity_ms = now_ms();
			if (fflush(stdout) != 0 || tb_kafka_commit(c, &batch, &err) < 0) {
				rc = 1;
				break;
			}
		}
		if (o->idle_ms && g_last_activity_ms && now_ms() - g_last_activity_ms > o->idle_ms)
			break;
	}
	tb_kafka_batch_clear(&batch, 1);
	tb_kafka_consumer_close(c, NULL, &err);
	return rc;
}

/* ---- main ---------------------------------------------------------------- */

static int parse(opts_t *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"exit-after", required_argument, NULL, 'e'},
	    {"idle-exit", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	tb_err_t err = {{0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "+b:X:t:k:G:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			o->bootstrap = optarg;
			break;
		case 'X':
			if (tb_tool_props_add(&o->props, optarg, &err) < 0) {
				fprintf(stderr, "tb-rtevent: -X: %s\n", err.msg);
				return -1;
			}
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'G':
			o->group = optarg;
			break;
		case 'e':
			o->exit_after = atol(optarg);
			break;
		case 'i':
			o->idle_ms = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	opts_t o;
	const char *cmd;
	tb_avro_registry_t *reg;
	tb_err_t err = {{0}};
	int rc;

	memset(&o, 0, sizeof(o));
	tb_log_init("rtevent", TB_LOG_WARN);
	if (tb_tool_props_env(&o.props, NULL, &err) < 0) {
		fprintf(stderr, "tb-rtevent: %s\n", err.msg);
		return 2;
	}
	o.bootstrap = getenv("TB_BROKERS");
	/* global options, the command, then its options (getopt restarted) */
	if (parse(&o, argc, argv) < 0 || optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	optind++;
	if (parse(&o, argc, argv) < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "events") == 0 && !o.group) {
		fprintf(stderr, "tb-rtevent events: -G GROUP is required\n");
		return 2;
	}
	reg = tb_avro_registry_new(&err);
	if (!reg) {
		fprintf(stderr, "tb-rtevent: %s\n", err.msg);
		return 1;
	}
	tb_tool_signals(on_signal);
	if (strcmp(cmd, "probe-batch") == 0)
		rc = cmd_probe_batch(&o, reg);
	else if (strcmp(cmd, "raw") == 0)
		rc = cmd_raw(&o);
	else if (strcmp(cmd, "events") == 0)
		rc = cmd_events(&o, reg);
	else {
		usage(stderr);
		rc = 2;
	}
	tb_avro_registry_free(reg);
	return rc;
}
