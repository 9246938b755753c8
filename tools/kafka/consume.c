/*
 * consume.c — `tb-kafka consume`: read topics as a member of a consumer group.
 *
 * Prints one line per message, "partition offset key value" (key "-" when the
 * message has none), flushes stdout and only then commits the batch: the same
 * at-least-once order the services follow. The group's committed offsets are
 * used unless --from-beginning, which starts each partition at the earliest
 * offset the first time this process is assigned it (later rebalances resume
 * from the committed offsets, so nothing is read twice on purpose).
 *
 * --dlq decodes each value as an Avro DeadLetter (tb/dlq.h) and prints one
 * JSON object per message instead: {"partition","offset","service","reason",
 * "source_topic","source_partition","source_offset","position","ts_ns",
 * "key_hex","payload_hex"}; a value that does not decode is printed as
 * {"partition","offset","error"} and does not stop the consumer. --hex
 * prints the value as lowercase hex instead of raw bytes (binary Avro).
 *
 * --assignment-file PATH keeps PATH equal to the current assignment ("topic
 * partition" lines, sorted, rewritten atomically at each rebalance) so tests
 * can see how a group split its partitions. --exit-after N stops after N
 * messages; --idle-exit MS stops when nothing arrived for MS milliseconds
 * since the later of the last assignment and the last message.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tb/avro.h"
#include "tb/hash.h"
#include "tb/log.h"
#include "tb/map.h"
#include "tool.h"

#define MAX_TOPICS 16

struct consume_opts {
	const char *topics[MAX_TOPICS];
	size_t n_topics;
	const char *group;
	int from_beginning;
	int commit;
	long exit_after;
	long idle_ms;
	long batch;
	const char *assignment_file;
	int dlq;
	int hex; /* value as lowercase hex (binary-safe) */
};

struct consume_state {
	const struct consume_opts *o;
	tb_map_t *seen;		 /* "topic partition" ever assigned to this process */
	tb_map_t *current;	 /* "topic partition" assigned now */
	tb_avro_registry_t *reg; /* --dlq */
	int assigned;		 /* some assignment happened */
	int64_t last_activity_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tb-kafka consume -t TOPIC [-t TOPIC ...] -G GROUP [--from-beginning]\n"
		   "                        [--exit-after N | --idle-exit MS] [--no-commit] [--batch N]\n"
		   "                        [--assignment-file PATH] [--dlq] [-X k=v]\n"
		   "Prints \"partition offset key value\" per message (key \"-\" if none), then commits.\n"
		   "--dlq prints each value decoded as a DeadLetter, one JSON object per line.\n"
		   "--hex prints the value as lowercase hex (binary Avro), \"-\" for a tombstone.\n");
}

static int parse(tool_globals_t *g, struct consume_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"from-beginning", no_argument, NULL, 'B'},
	    {"exit-after", required_argument, NULL, 'e'},
	    {"idle-exit", required_argument, NULL, 'i'},
	    {"no-commit", no_argument, NULL, 'C'},
	    {"batch", required_argument, NULL, 'N'},
	    {"assignment-file", required_argument, NULL, 'A'},
	    {"dlq", no_argument, NULL, 'D'},
	    {"hex", no_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	o->commit = 1;
	o->batch = 100;
	while ((ch = getopt_long(argc, argv, "t:G:X:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (o->n_topics >= MAX_TOPICS)
				return -1;
			o->topics[o->n_topics++] = optarg;
			break;
		case 'G':
			o->group = optarg;
			break;
		case 'B':
			o->from_beginning = 1;
			break;
		case 'e':
			o->exit_after = atol(optarg);
			break;
		case 'i':
			o->idle_ms = atol(optarg);
			break;
		case 'C':
			o->commit = 0;
			break;
		case 'N':
			o->batch = atol(optarg);
			break;
		case 'A':
			o->assignment_file = optarg;
			break;
		case 'D':
			o->dlq = 1;
			break;
		case 'x':
			o->hex = 1;
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
	if (!o->n_topics || !o->group || o->batch < 1 || o->exit_after < 0 || o->idle_ms < 0 ||
	    optind != argc) {
		fprintf(stderr, "tb-kafka consume: -t TOPIC and -G GROUP are required\n");
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_assignment(const struct consume_state *s)
{
	size_t n = tb_map_size(s->current), k = 0, cur = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	char tmp[4200];
	const char *key;
	void *val;
	FILE *f;

	if (!keys)
		return;
	while (tb_map_next(s->current, &cur, &key, &val))
		keys[k++] = key;
	qsort(keys, k, sizeof(*keys), cmp_str);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", s->o->assignment_file, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		tb_error("write %s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < k; i++)
		fprintf(f, "%s\n", keys[i]);
	if (fclose(f) != 0 || rename(tmp, s->o->assignment_file) != 0) {
		tb_error("write %s: %s", s->o->assignment_file, strerror(errno));
		unlink(tmp);
	}
out:
	free(keys);
}

static int on_rebalance(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	struct consume_state *s = opaque;
	char key[512];

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s %d", tps[i].topic, (int)tps[i].partition);
		if (!assigned) {
			tb_map_del(s->current, key);
			continue;
		}
		if (s->o->from_beginning && !tb_map_get(s->seen, key))
			tps[i].offset = TB_KAFKA_OFFSET_BEGINNING;
		tb_map_put(s->seen, key, (void *)1);
		tb_map_put(s->current, key, (void *)1);
	}
	if (assigned) {
		s->assigned = 1;
		s->last_activity_ms = now_ms();
	}
	if (s->o->assignment_file)
		write_assignment(s);
	return 0;
}

static char *hex(const void *data, size_t len)
{
	char *out = malloc(2 * len + 1);

	if (out)
		tb_hex(data, len, out);
	return out;
}

/* One DeadLetter as a JSON line; undecodable values become an error line. */
static void print_dead_letter(const tb_avro_registry_t *reg, const tb_kafka_msg_t *m)
{
	tb_dead_letter_t d = {0};
	tb_err_t err = {{0}};
	json_t *o = json_pack("{s:i, s:I}", "partition", (int)m->partition, "offset", (json_int_t)m->offset);
	char *line, *k = NULL, *p = NULL;

	if (tb_avro_decode_dead_letter(reg, m->value, m->value_len, &d, &err) < 0) {
		json_object_set_new(o, "error", json_string(err.msg));
	} else {
		k = d.key ? hex(d.key, d.key_len) : NULL;
		p = hex(d.payload, d.payload_len);
		json_t *f =
		    json_pack("{s:s, s:s, s:s, s:i, s:I, s:s?, s:I, s:s?, s:s?}", "service", d.service,
			      "reason", d.reason, "source_topic", d.source_topic, "source_partition",
			      (int)d.partition, "source_offset", (json_int_t)d.offset, "position", d.position,
			      "ts_ns", (json_int_t)d.ts_ns, "key_hex", k, "payload_hex", p);

		json_object_update(o, f);
		json_decref(f);
	}
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (line)
		printf("%s\n", line);
	free(line);
	free(k);
	free(p);
	json_decref(o);
	tb_dead_letter_clear(&d);
}

static void print_hex(const tb_kafka_msg_t *m)
{
	char *v = m->value ? hex(m->value, m->value_len) : NULL;

	printf("%d %lld %.*s %s\n", (int)m->partition, (long long)m->offset, m->key ? (int)m->key_len : 1,
	       m->key ? (const char *)m->key : "-", v ? v : "-");
	free(v);
}

static void print_batch(const tb_kafka_batch_t *b, const tb_avro_registry_t *reg, int as_hex)
{
	for (size_t i = 0; i < b->n; i++) {
		const tb_kafka_msg_t *m = &b->msgs[i];

		if (reg) {
			print_dead_letter(reg, m);
			continue;
		}
		if (as_hex) {
			print_hex(m);
			continue;
		}
		printf("%d %lld %.*s %.*s\n", (int)m->partition, (long long)m->offset,
		       m->key ? (int)m->key_len : 1, m->key ? (const char *)m->key : "-", (int)m->value_len,
		       m->value ? (const char *)m->value : "");
	}
	fflush(stdout);
}

static int run(const tool_globals_t *g, const struct consume_opts *o, tb_kafka_consumer_t *c,
	       struct consume_state *s, long *count)
{
	tb_kafka_batch_t b = {0};
	tb_err_t err = {{0}};
	int rc = 0;

	while (!*g->stop) {
		long max = o->batch;
		int n;

		if (o->exit_after && o->exit_after - *count < max)
			max = o->exit_after - *count;
		if (max <= 0)
			break;
		n = tb_kafka_poll_batch(c, &b, (size_t)max, 200, &err);
		if (n < 0) {
			tb_error("%s", err.msg);
			rc = -1;
			break;
		}
		if (n > 0) {
			print_batch(&b, s->reg, s->o->hex);
			*count += n;
			s->last_activity_ms = now_ms();
			if (o->commit && tb_kafka_commit(c, &b, &err) < 0) {
				tb_error("%s", err.msg);
				rc = -1;
				break;
			}
		}
		if (o->idle_ms && s->assigned && now_ms() - s->last_activity_ms >= o->idle_ms)
			break;
	}
	tb_kafka_batch_clear(&b, 1);
	return rc;
}

int cmd_consume(const tool_globals_t *gin, int argc, char **argv)
{
	tool_globals_t g = *gin;
	struct consume_opts o = {0};
	struct consume_state s = {0};
	tb_kafka_conf_t conf;
	tb_kafka_consumer_t *c;
	tb_err_t err = {{0}};
	long count = 0;
	int rc;

	if (parse(&g, &o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.dlq && !(s.reg = tb_avro_registry_new(&err))) {
		fprintf(stderr, "tb-kafka consume: %s\n", err.msg);
		return 1;
	}
	tool_conf(&g, &conf);
	c = tb_kafka_consumer_new(&conf, o.group, o.topics, o.n_topics, &err);
	if (!c) {
		fprintf(stderr, "tb-kafka consume: %s\n", err.msg);
		tb_avro_registry_free(s.reg);
		return 1;
	}
	s.o = &o;
	s.seen = tb_map_new(16);
	s.current = tb_map_new(16);
	tb_kafka_consumer_set_rebalance_hook(c, on_rebalance, &s);
	rc = run(&g, &o, c, &s, &count);
	if (tb_kafka_consumer_close(c, NULL, &err) < 0) {
		tb_error("%s", err.msg);
		rc = -1;
	}
	tb_map_free(s.seen, NULL);
	tb_map_free(s.current, NULL);
	tb_avro_registry_free(s.reg);
	tb_info("consumed %ld messages in group %s", count, o.group);
	return rc < 0 ? 1 : 0;
}
