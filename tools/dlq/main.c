/*
 * tb-dlq — list and re-drive dead letters (tb.dlq.v1; docs/DLQ.md).
 *
 *   tb-dlq list    [filters] [--format json|table] [--summary]
 *   tb-dlq redrive [filters] [--to TOPIC] [--dry-run] [--redrive-group G]
 *
 * Filters: --source-topic T, --service S, --reason SUBSTRING, --since TIME,
 * --until TIME (TIME: 2026-11-24T21:00:00Z or seconds since the epoch).
 * Kafka settings as every service and tool: --brokers (or -b, or
 * TB_BROKERS), -X key=value, TB_KAFKA_<PROP>.
 *
 * Both commands read the dead-letter topic up to where it ended when they
 * started. `redrive` re-produces each selected letter's original key and
 * bytes to its source topic (or --to), with a header tb-redriven-from
 * naming the letter; after every copy was acknowledged it commits its
 * consumer group's offsets on tb.dlq.v1 at the end it read, so a second run
 * of the same selection finds nothing new. The default group is derived
 * from the selection ("tb-dlq-redrive-<hash>"): selections do not hide each
 * other's letters, and re-running one is a no-op. Letters whose source was
 * not Kafka (files, stdin, HTTP) need --to. A failed produce exits 1 without
 * committing: nothing is marked re-driven that was not.
 *
 * Exit codes: 0 success; 1 Kafka failure; 2 usage or configuration error.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "select.h"
#include "tb/dlq.h"
#include "tb/hash.h"
#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/topics.h"

#define VERSION "0.1.0"
#define MAX_ARGS 256

/* The options both commands share: where to read and which letters. */
/* clang-format off */
#define COMMON_OPTIONS                                                                                       \
	{"topic", TB_OPT_STRING, TB_TOPIC_DLQ, "the dead-letter topic", NULL},                               \
	{"source-topic", TB_OPT_STRING, NULL, "only letters from this input topic", NULL},                   \
	{"service", TB_OPT_STRING, NULL, "only letters from this service (adapter, ...)", NULL},             \
	{"reason", TB_OPT_STRING, NULL, "only letters whose reason contains this text", NULL},               \
	{"since", TB_OPT_STRING, NULL, "only letters written at or after TIME (UTC Z or epoch s)", NULL},     \
	{"until", TB_OPT_STRING, NULL, "only letters written before TIME", NULL},                            \
	{"timeout", TB_OPT_DURATION_MS, "10s", "longest wait for the broker or the next message", NULL}
/* clang-format on */

static const tb_option_t list_options[] = {
    COMMON_OPTIONS,
    {"format", TB_OPT_STRING, "json", "one JSON object per letter, or an aligned table", "json|table"},
    {"summary", TB_OPT_BOOL, "false", "print counts by service, source topic and reason class instead", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

static const tb_option_t redrive_options[] = {
    COMMON_OPTIONS,
    {"to", TB_OPT_STRING, NULL, "produce to this topic instead of each letter's source topic", NULL},
    {"dry-run", TB_OPT_BOOL, "false", "print what would be re-driven; produce and commit nothing", NULL},
    {"redrive-group", TB_OPT_STRING, NULL,
     "consumer group recording what was re-driven (default: tb-dlq-redrive-<hash of the selection>)", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tb-dlq list    [filters] [--format json|table] [--summary]\n"
		"       tb-dlq redrive [filters] [--to TOPIC] [--dry-run] [--redrive-group G]\n"
		"filters: --source-topic T --service S --reason TEXT --since TIME --until TIME\n"
		"Kafka: -b/--brokers BOOTSTRAP, -X key=value, TB_KAFKA_<PROP>; `tb-dlq COMMAND --help`.\n");
}

/* ---- printing ------------------------------------------------------------------ */

static char *hex(const void *data, size_t len)
{
	char *out = malloc(2 * len + 1);

	if (out)
		tb_hex(data, len, out);
	return out;
}

static void format_time(int64_t ns, char out[40])
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 40 - strlen(out), ".%03dZ", (int)(ns / 1000000 % 1000));
}

/* The letter as JSON: the fields of `tb-kafka consume --dlq` plus its time. */
static json_t *letter_json(const dlq_letter_t *l)
{
	json_t *o = json_pack("{s:i, s:I}", "partition", (int)l->partition, "offset", (json_int_t)l->offset);
	const tb_dead_letter_t *d = &l->d;
	char when[40], *k, *p;

	if (!l->decoded) {
		json_object_set_new(o, "error", json_string(l->why));
		return o;
	}
	k = d->key ? hex(d->key, d->key_len) : NULL;
	p = hex(d->payload, d->payload_len);
	format_time(d->ts_ns, when);
	json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s?, s:I, s:s, s:s?, s:s?, s:I}", "service",
			      d->service, "reason", d->reason, "source_topic", d->source_topic,
			      "source_partition", (int)d->partition, "source_offset", (json_int_t)d->offset,
			      "position", d->position, "ts_ns", (json_int_t)d->ts_ns, "time", when, "key_hex",
			      k, "payload_hex", p, "payload_len", (json_int_t)d->payload_len);
	json_object_update(o, f);
	json_decref(f);
	free(k);
	free(p);
	return o;
}

static void print_json(json_t *o)
{
	char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (line)
		printf("%s\n", line);
	free(line);
}

static void print_table_row(const dlq_letter_t *l)
{
	char when[40], src[300];

	if (!l->decoded) {
		printf("%-24s %-13s %-36s %8s  %s\n", "-", "-", "-", "-", l->why);
		return;
	}
	format_time(l->d.ts_ns, when);
	if (l->d.source_topic && l->d.source_topic[0])
		snprintf(src, sizeof(src), "%s/%d@%" PRId64, l->d.source_topic, (int)l->d.partition,
			 l->d.offset);
	else
		snprintf(src, sizeof(src), "%s", l->d.position ? l->d.position : "(not Kafka)");
	printf("%-24s %-13s %-36s %8zu  %s\n", when, l->d.service, src, l->d.payload_len, l->d.reason);
}

/* ---- list ---------------------------------------------------------------------- */

typedef struct list_ctx {
	dlq_filter_t f;
	int filtered; /* any filter given: undecodable letters cannot match */
	int table, summary;
	long total, undecodable;
	json_t *by_service, *by_topic, *by_class;
} list_ctx_t;

static void bump(json_t *counts, const char *key)
{
	json_t *v = json_object_get(counts, key);

	json_object_set_new(counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int list_letter(void *ctx, const dlq_letter_t *l, tb_err_t *err)
{
	list_ctx_t *c = ctx;
	char cls[33];

	(void)err;
	if (!l->decoded && c->filtered)
		return 0;
	if (l->decoded && !dlq_filter_match(&c->f, &l->d))
		return 0;
	c->total++;
	if (c->summary) {
		if (!l->decoded) {
			c->undecodable++;
			return 0;
		}
		tb_dlq_reason_class(l->d.reason, cls);
		bump(c->by_service, l->d.service);
		bump(c->by_topic, l->d.source_topic[0] ? l->d.source_topic : "(not kafka)");
		bump(c->by_class, cls);
		return 0;
	}
	if (c->table) {
		print_table_row(l);
	} else {
		json_t *o = letter_json(l);

		print_json(o);
		json_decref(o);
	}
	return 0;
}

static void print_counts_table(const char *title, json_t *counts)
{
	const char *k;
	json_t *v;

	printf("%s:\n", title);
	json_object_foreach(counts, k, v)
	    printf("  %-40s %6" JSON_INTEGER_FORMAT "\n", k, json_integer_value(v));
}

static void print_summary(const list_ctx_t *c)
{
	if (c->table) {
		printf("total: %ld (undecodable: %ld)\n", c->total, c->undecodable);
		print_counts_table("by service", c->by_service);
		print_counts_table("by source topic", c->by_topic);
		print_counts_table("by reason class", c->by_class);
		return;
	}
	json_t *o = json_pack("{s:I, s:I, s:O, s:O, s:O}", "total", (json_int_t)c->total, "undecodable",
			      (json_int_t)c->undecodable, "by_service", c->by_service, "by_source_topic",
			      c->by_topic, "by_reason_class", c->by_class);
	print_json(o);
	json_decref(o);
}

static int cmd_list(const tb_config_t *cfg, tb_err_t *err)
{
	list_ctx_t c = {.table = strcmp(tb_config_str(cfg, "format"), "table") == 0,
			.summary = tb_config_bool(cfg, "summary")};
	dlq_reader_conf_t rc = {.cfg = cfg,
				.topic = tb_config_str(cfg, "topic"),
				.timeout_ms = (int)tb_config_duration_ms(cfg, "timeout")};
	dlq_reader_t *r;
	int rcode;

	if (dlq_filter_from_config(cfg, &c.f, err) < 0)
		return 2;
	c.filtered = c.f.source_topic || c.f.service || c.f.reason || c.f.since_ns != INT64_MIN ||
		     c.f.until_ns != INT64_MAX;
	r = dlq_reader_open(&rc, err);
	if (!r)
		return 1;
	c.by_service = json_object();
	c.by_topic = json_object();
	c.by_class = json_object();
	if (c.table && !c.summary)
		printf("%-24s %-13s %-36s %8s  %s\n", "TIME", "SERVICE", "SOURCE", "BYTES", "REASON");
	rcode = dlq_reader_run(r, list_letter, &c, err) < 0 ? 1 : 0;
	if (rcode == 0 && c.summary)
		print_summary(&c);
	json_decref(c.by_service);
	json_decref(c.by_topic);
	json_decref(c.by_class);
	dlq_reader_close(r);
	return rcode;
}

/* ---- redrive ------------------------------------------------------------------- */

typedef struct redrive_ctx {
	dlq_filter_t f;
	const char *dlq_topic;
	const char *to;
	int dry_run;
	tb_kafka_producer_t *producer;
	long redriven, skipped, not_redrivable, undecodable;
} redrive_ctx_t;

static void print_action(const dlq_letter_t *l, const char *action, const char *target)
{
	json_t *o = letter_json(l);

	json_object_set_new(o, "action", json_string(action));
	if (target)
		json_object_set_new(o, "to", json_string(target));
	json_object_del(o, "payload_hex");
	json_object_del(o, "key_hex");
	print_json(o);
	json_decref(o);
}

static int redrive_letter(void *ctx, const dlq_letter_t *l, tb_err_t *err)
{
	redrive_ctx_t *c = ctx;
	const char *target;
	char from[300];
	tb_kafka_header_t h;

	if (!l->decoded) {
		c->undecodable++;
		tb_warn("%s/%d@%" PRId64 " is not a DeadLetter (%s): passed over", c->dlq_topic,
			(int)l->partition, l->offset, l->why);
		return 0;
	}
	if (!dlq_filter_match(&c->f, &l->d)) {
		c->skipped++;
		return 0;
	}
	target = c->to ? c->to : l->d.source_topic;
	if (!target || !target[0]) {
		c->not_redrivable++;
		print_action(l, "not-redrivable: not from Kafka (use --to)", NULL);
		return 0;
	}
	if (c->dry_run) {
		c->redriven++;
		print_action(l, "would-redrive", target);
		return 0;
	}
	snprintf(from, sizeof(from), "%s/%d@%" PRId64, c->dlq_topic, (int)l->partition, l->offset);
	h = (tb_kafka_header_t){"tb-redriven-from", from, strlen(from)};
	if (tb_kafka_produce(c->producer, target, l->d.key, l->d.key_len, l->d.payload, l->d.payload_len, &h,
			     1, err) < 0)
		return tb_err_wrap(err, "re-drive %s", from);
	c->redriven++;
	print_action(l, "redriven", target);
	return 0;
}

/* The selection's own group: same filters, same group, so a re-run is a no-op. */
static void default_group(const tb_config_t *cfg, char out[64])
{
	static const char *const keys[] = {"topic", "source-topic", "service", "reason",
					   "since", "until",	    "to"};
	tb_hasher_t h;

	tb_hasher_init(&h, "tb-dlq.redrive.v1");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		tb_hasher_str(&h, tb_config_str(cfg, keys[i]));
	snprintf(out, 64, "tb-dlq-redrive-%016" PRIx64, (uint64_t)tb_hasher_final64(&h));
}

static tb_kafka_producer_t *producer_new(const tb_config_t *cfg, tb_err_t *err)
{
	size_t n = 0;
	const char *const *props = tb_config_kafka_props(cfg, &n);
	tb_kafka_conf_t conf = {.bootstrap = tb_config_str(cfg, "brokers"),
				.props = props,
				.n_pairs = n,
				.client_id = "tb-dlq",
				.timeout_ms = (int)tb_config_duration_ms(cfg, "timeout")};

	return tb_kafka_producer_new(&conf, NULL, 0, err);
}

static int cmd_redrive(const tb_config_t *cfg, tb_err_t *err)
{
	redrive_ctx_t c = {.dlq_topic = tb_config_str(cfg, "topic"),
			   .dry_run = tb_config_bool(cfg, "dry-run")};
	char group[64];
	const char *g = tb_config_str(cfg, "redrive-group");
	dlq_reader_conf_t rc = {
	    .cfg = cfg, .topic = c.dlq_topic, .timeout_ms = (int)tb_config_duration_ms(cfg, "timeout")};
	dlq_reader_t *r = NULL;
	int rcode = 1;
	json_t *sum;

	if (dlq_filter_from_config(cfg, &c.f, err) < 0)
		return 2;
	c.to = tb_config_str(cfg, "to") && tb_config_str(cfg, "to")[0] ? tb_config_str(cfg, "to") : NULL;
	if (g && g[0])
		snprintf(group, sizeof(group), "%s", g);
	else
		default_group(cfg, group);
	rc.group = group;
	if (!c.dry_run && !(c.producer = producer_new(cfg, err)))
		return 1;
	r = dlq_reader_open(&rc, err);
	if (!r)
		goto out;
	if (dlq_reader_run(r, redrive_letter, &c, err) < 0)
		goto out;
	/* Commit only what the broker acknowledged: a failed flush leaves the
	 * group where it was, and the next run re-drives these letters again. */
	if (!c.dry_run &&
	    (tb_kafka_producer_flush(c.producer, rc.timeout_ms, err) < 0 || dlq_reader_commit(r, err) < 0))
		goto out;
	sum = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I}", "group", group, "dry_run", c.dry_run, "redriven",
			(json_int_t)c.redriven, "skipped_by_filter", (json_int_t)c.skipped, "not_redrivable",
			(json_int_t)c.not_redrivable, "undecodable", (json_int_t)c.undecodable);
	json_t *o = json_pack("{s:o}", "summary", sum);
	print_json(o);
	json_decref(o);
	rcode = 0;
out:
	dlq_reader_close(r);
	tb_kafka_producer_free(c.producer);
	return rcode;
}

/* ---- main ---------------------------------------------------------------------- */

/* -b BOOTSTRAP / -bBOOTSTRAP, as in tb-kafka, become --brokers=BOOTSTRAP. */
static int translate_args(int argc, char **argv, char **out, char store[][512])
{
	int n = 0, s = 0;

	for (int i = 0; i < argc && n < MAX_ARGS - 1; i++) {
		const char *v = NULL;

		if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "-b", 2) == 0 && argv[i][2])
			v = argv[i] + 2;
		if (!v) {
			out[n++] = argv[i];
			continue;
		}
		if (s == 8)
			return -1;
		snprintf(store[s], 512, "--brokers=%s", v);
		out[n++] = store[s++];
	}
	out[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	char *args[MAX_ARGS];
	static char store[8][512];
	const tb_option_t *opts;
	tb_config_t *cfg = NULL;
	tb_log_level_t level = TB_LOG_WARN;
	tb_err_t err = {{0}};
	const char *cmd;
	int n, rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "list") == 0) {
		opts = list_options;
	} else if (strcmp(cmd, "redrive") == 0) {
		opts = redrive_options;
	} else {
		fprintf(stderr, "tb-dlq: unknown command %s\n", cmd);
		usage(stderr);
		return 2;
	}
	n = translate_args(argc - 1, argv + 1, args, store);
	if (n < 0) {
		fprintf(stderr, "tb-dlq: too many -b options\n");
		return 2;
	}
	rc = tb_config_load(&cfg, "dlq", VERSION, opts, n, args, &err);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "tb-dlq %s: %s\n", cmd, err.msg);
		return rc < 0 ? 2 : 0;
	}
	if (tb_config_source(cfg, "log-level") != TB_SRC_DEFAULT)
		tb_log_level_parse(tb_config_str(cfg, "log-level"), &level);
	tb_log_init("tb-dlq", level);
	rc = strcmp(cmd, "list") == 0 ? cmd_list(cfg, &err) : cmd_redrive(cfg, &err);
	if (rc != 0)
		fprintf(stderr, "tb-dlq %s: %s\n", cmd, err.msg);
	tb_config_free(cfg);
	return rc;
}
