/*
 * tb-gen — produce our Avro records from JSON or a synthetic generator, and
 * print any of our topics as JSON. For tests, demos and load.
 *
 *   tb-gen [-b BOOTSTRAP] [-X key=value ...] [--timeout MS] [--log-level L] COMMAND ...
 *
 *   json  [--type correlated|canonical|artifact|finding] [-t TOPIC] [-f FILE] [--repeat N]
 *         one JSON record per line (gen.h) -> encoded record -> TOPIC
 *   synth [-t TOPIC] [-n N] [--first I] [--seed S] [--print] [shape options]
 *         N deterministic synthetic CorrelatedEvents (events I .. I+N-1)
 *   dump  -t TOPIC [-G GROUP] [--exit-after N] [--idle-exit MS]
 *         every message from the earliest offset as one JSON line
 *   tetragon|probe [-t TOPIC] [-n N] [--first I] [--print] [shape options]
 *         the fault suite's workload (workload.c): Tetragon JSON lines /
 *         ProbeBatches, with duplicates and malformed messages on purpose
 *   catalog artifacts|findings [shape options]
 *         that workload's artifacts / findings as JSON lines for `json`
 *
 * -b defaults to $TB_BROKERS; librdkafka properties pass through -X or
 * TB_KAFKA_<PROP> like every other program here. Producing ends with a flush
 * and fails unless every message was acknowledged. `tb-gen COMMAND --help`
 * lists each command's options.
 *
 * Exit codes: 0 success (also after SIGTERM/SIGINT in dump), 1 Kafka, I/O or
 * input failure (the line number is named), 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "tb/avro.h"
#include "tb/hash.h"
#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/tool.h"
#include "tb/topics.h"

#define MAX_HEADERS 16

static volatile sig_atomic_t g_stop;

typedef struct globals {
	const char *bootstrap;
	tb_tool_props_t props; /* TB_KAFKA_<PROP>, then -X key=value */
	int timeout_ms;
	tb_avro_registry_t *reg;
} globals_t;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tb-gen [-b BOOTSTRAP] [-X key=value ...] [--timeout MS] [--log-level L] COMMAND ...\n"
		"commands:\n"
		"  json  [--type correlated|canonical|artifact|finding] [-t TOPIC] [-f FILE] [--repeat N]\n"
		"  synth [-t TOPIC] [-n N] [--first I] [--seed S] [--print] [shape options]\n"
		"  dump  -t TOPIC [-G GROUP] [--exit-after N] [--idle-exit MS]\n"
		"  tetragon|probe [-t TOPIC] [-n N] [--first I] [--print] [shape options]\n"
		"  catalog artifacts|findings [shape options]\n"
		"-b defaults to $TB_BROKERS; `tb-gen COMMAND --help` for details.\n");
}

static void kafka_conf(const globals_t *g, tb_kafka_conf_t *c)
{
	memset(c, 0, sizeof(*c));
	c->bootstrap = g->bootstrap;
	c->props = g->props.kv;
	c->n_pairs = g->props.n;
	c->client_id = "tb-gen";
	c->timeout_ms = g->timeout_ms;
}

/* ---- producing ---------------------------------------------------------------- */

typedef struct out {
	const globals_t *g;
	tb_kafka_producer_t *p;
	const char *topic;
	long sent;
	int print; /* write JSON lines to stdout instead */
} out_t;

static int out_open(out_t *o, const globals_t *g, const char *topic, tb_err_t *err)
{
	tb_kafka_conf_t c;

	o->g = g;
	o->topic = topic;
	if (o->print)
		return 0;
	kafka_conf(g, &c);
	o->p = tb_kafka_producer_new(&c, &topic, 1, err);
	return o->p ? 0 : -1;
}

static int out_send(out_t *o, const char *key, const void *val, size_t len, const tb_kafka_header_t *h,
		    size_t nh, tb_err_t *err)
{
	if (tb_kafka_produce(o->p, o->topic, key, key ? strlen(key) : 0, val, len, h, nh, err) < 0)
		return -1;
	if (++o->sent % 5000 == 0)
		tb_kafka_producer_poll(o->p, 0);
	return 0;
}

static int out_close(out_t *o, tb_err_t *err)
{
	int rc = 0;

	if (o->p) {
		rc = tb_kafka_producer_flush(o->p, o->g->timeout_ms > 0 ? o->g->timeout_ms * 3 : 30000, err);
		tb_kafka_producer_free(o->p);
		o->p = NULL;
	}
	return rc;
}

/* ---- json ---------------------------------------------------------------------- */

static int parse_headers(json_t *o, tb_kafka_header_t *h, size_t *n, tb_err_t *err)
{
	json_t *hs = json_object_get(o, "_headers"), *v;
	const char *k;

	*n = 0;
	if (!hs)
		return 0;
	if (!json_is_object(hs))
		return tb_err(err, "_headers: expected an object of strings");
	json_object_foreach(hs, k, v)
	{
		if (!json_is_string(v) || *n >= MAX_HEADERS)
			return tb_err(err, "_headers: expected at most %d string values", MAX_HEADERS);
		h[(*n)++] = (tb_kafka_header_t){k, json_string_value(v), json_string_length(v)};
	}
	return 0;
}

/* Encode one JSON object of type t; *key is set to a malloc'd default key. */
static int encode_json(const globals_t *g, gen_type_t t, json_t *o, uint8_t **buf, size_t *len, char **key,
		       tb_err_t *err)
{
	char k[64];
	int rc = -1;

	if (t == GEN_ARTIFACT) {
		tb_artifact_t a = {0};

		if (gen_artifact_from_json(o, &a, err) == 0 &&
		    tb_avro_encode_artifact(g->reg, &a, buf, len, err) == 0)
			rc = (*key = strdup(a.digest ? a.digest : "")) ? 0 : -1;
		tb_artifact_clear(&a);
		return rc;
	}
	if (t == GEN_FINDING) {
		tb_finding_t f = {0};

		if (gen_finding_from_json(o, &f, err) == 0 &&
		    tb_avro_encode_finding(g->reg, &f, buf, len, err) == 0)
			rc = (*key = strdup(f.finding_id ? f.finding_id : "")) ? 0 : -1;
		tb_finding_clear(&f);
		return rc;
	}
	tb_event_t ev = {0};

	if (gen_event_from_json(o, &ev, err) == 0 &&
	    (t == GEN_CANONICAL ? tb_avro_encode_canonical_event(g->reg, &ev, buf, len, err)
				: tb_avro_encode_correlated_event(g->reg, &ev, buf, len, err)) == 0) {
		gen_event_key(&ev, k, sizeof(k));
		rc = (*key = strdup(k)) ? 0 : -1;
	}
	tb_event_clear(&ev);
	return rc;
}

static int json_line(out_t *o, gen_type_t t, json_t *obj, tb_err_t *err)
{
	json_t *kv = json_object_get(obj, "_key");
	tb_kafka_header_t h[MAX_HEADERS];
	size_t nh;
	uint8_t *buf = NULL;
	size_t len = 0;
	char *key = NULL;
	int rc;

	if (kv && !json_is_string(kv))
		return tb_err(err, "_key: expected a string");
	if (parse_headers(obj, h, &nh, err) < 0)
		return -1;
	if (json_is_true(json_object_get(obj, "_tombstone"))) {
		if (!kv)
			return tb_err(err, "a tombstone needs a _key");
		return out_send(o, json_string_value(kv), NULL, 0, h, nh, err);
	}
	if (encode_json(o->g, t, obj, &buf, &len, &key, err) < 0)
		return -1;
	rc = out_send(o, kv ? json_string_value(kv) : key, buf, len, h, nh, err);
	free(buf);
	free(key);
	return rc;
}

static void json_usage(FILE *f)
{
	fprintf(f, "usage: tb-gen json [--type correlated|canonical|artifact|finding] [-t TOPIC] [-f FILE] "
		   "[--repeat N]\n"
		   "  Reads one JSON record per line (FILE or stdin; blank lines and lines starting with #\n"
		   "  are skipped), encodes it as Avro single-object and produces it to TOPIC (default: the\n"
		   "  record's topic). --repeat N sends the whole input N times (duplicates). Fields: see\n"
		   "  tools/gen/gen.h; _key, _headers and _tombstone direct the message.\n");
}

static int read_lines(FILE *in, json_t *lines, tb_err_t *err)
{
	char *line = NULL;
	size_t cap = 0;
	long no = 0;
	int rc = 0;

	while (getline(&line, &cap, in) >= 0) {
		json_error_t je;
		json_t *o;
		char *p = line;

		no++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0' || *p == '#')
			continue;
		o = json_loads(p, JSON_REJECT_DUPLICATES, &je);
		if (!o) {
			rc = tb_err(err, "line %ld: %s", no, je.text);
			break;
		}
		json_object_set_new(o, "_line", json_integer(no));
		json_array_append_new(lines, o);
	}
	free(line);
	return rc;
}

static int cmd_json(const globals_t *g, int argc, char **argv)
{
	static const struct option lo[] = {{"type", required_argument, NULL, 'T'},
					   {"repeat", required_argument, NULL, 'r'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	gen_type_t t = GEN_CORRELATED;
	const char *topic = NULL, *file = NULL;
	long repeat = 1;
	json_t *lines = json_array(), *o;
	out_t out = {0};
	tb_err_t err;
	FILE *in = stdin;
	size_t i;
	int ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "t:f:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'T':
			if (gen_type_parse(optarg, &t) < 0) {
				fprintf(stderr, "tb-gen json: unknown --type %s\n", optarg);
				return 2;
			}
			break;
		case 'r':
			repeat = atol(optarg);
			break;
		case 't':
			topic = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			json_usage(stdout);
			return 0;
		default:
			json_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || repeat < 1) {
		json_usage(stderr);
		return 2;
	}
	if (file && !(in = fopen(file, "r"))) {
		perror(file);
		return 1;
	}
	if (read_lines(in, lines, &err) < 0) {
		fprintf(stderr, "tb-gen json: %s: %s\n", file ? file : "stdin", err.msg);
		goto out;
	}
	if (out_open(&out, g, topic ? topic : gen_type_topic(t), &err) < 0) {
		fprintf(stderr, "tb-gen json: %s\n", err.msg);
		goto out;
	}
	for (long r = 0; r < repeat && !g_stop; r++)
		json_array_foreach(lines, i, o)
		{
			json_int_t no = json_integer_value(json_object_get(o, "_line"));

			json_object_del(o, "_line");
			if (json_line(&out, t, o, &err) < 0) {
				fprintf(stderr, "tb-gen json: %s line %lld: %s\n", file ? file : "stdin",
					(long long)no, err.msg);
				out_close(&out, &err);
				goto out;
			}
			json_object_set_new(o, "_line", json_integer(no));
		}
	if (out_close(&out, &err) < 0) {
		fprintf(stderr, "tb-gen json: %s\n", err.msg);
		goto out;
	}
	fprintf(stderr, "tb-gen json: %ld messages acknowledged on %s\n", out.sent, out.topic);
	rc = 0;
out:
	if (in != stdin)
		fclose(in);
	json_decref(lines);
	return rc;
}

/* ---- synth ----------------------------------------------------------------------- */

static void synth_usage(FILE *f)
{
	fprintf(f,
		"usage: tb-gen synth [-t TOPIC] [-n N] [--first I] [--seed S] [--print] [shape options]\n"
		"  Produces synthetic CorrelatedEvents I .. I+N-1 (deterministic: the same settings and\n"
		"  index give the same record) keyed by stack_id, or prints them as JSON lines (--print).\n"
		"  shape: --tenants K --nodes K --stacks K --symbols K --modules K --depth D\n"
		"         --kernel-frames K --artifacts K (0: uncorrelated) --start-ns T --step-ns S\n"
		"         --max-count C (samples folded per event, 1..C)\n");
}

static int synth_opt(gen_synth_t *s, int ch, const char *arg)
{
	long long v = strtoll(arg, NULL, 0);

	switch (ch) {
	case 'n':
		s->n = v;
		break;
	case 'F':
		s->first = v;
		break;
	case 'S':
		s->seed = (uint64_t)v;
		break;
	case 1:
		s->tenants = (int)v;
		break;
	case 2:
		s->nodes = (int)v;
		break;
	case 3:
		s->stacks = (int)v;
		break;
	case 4:
		s->symbols = (int)v;
		break;
	case 5:
		s->modules = (int)v;
		break;
	case 6:
		s->depth = (int)v;
		break;
	case 7:
		s->kernel_frames = (int)v;
		break;
	case 8:
		s->artifacts = (int)v;
		break;
	case 9:
		s->start_ns = v;
		break;
	case 10:
		s->step_ns = v;
		break;
	case 11:
		s->max_count = (int)v;
		break;
	default:
		return -1;
	}
	return 0;
}

static int synth_valid(const gen_synth_t *s)
{
	return s->n >= 0 && s->first >= 0 && s->tenants > 0 && s->nodes > 0 && s->stacks > 0 &&
	       s->symbols > 0 && s->modules > 0 && s->depth > 0 && s->kernel_frames >= 0 &&
	       s->artifacts >= 0 && s->max_count > 0 && s->start_ns >= 0 && s->step_ns >= 0;
}

static int synth_one(out_t *o, const gen_synth_t *s, int64_t i, tb_err_t *err)
{
	tb_event_t ev = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	char key[32];
	int rc = -1;

	if (gen_synth_event(s, i, &ev, err) < 0)
		goto out;
	if (o->print) {
		json_t *j = gen_event_to_json(&ev, 1);
		char *text = json_dumps(j, JSON_COMPACT);

		rc = text && puts(text) >= 0 ? 0 : tb_err(err, "write stdout");
		free(text);
		json_decref(j);
		goto out;
	}
	if (tb_avro_encode_correlated_event(o->g->reg, &ev, &buf, &len, err) < 0)
		goto out;
	gen_event_key(&ev, key, sizeof(key));
	rc = out_send(o, key, buf, len, NULL, 0, err);
out:
	free(buf);
	tb_event_clear(&ev);
	return rc;
}

static int cmd_synth(const globals_t *g, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"first", required_argument, NULL, 'F'},   {"seed", required_argument, NULL, 'S'},
	    {"print", no_argument, NULL, 'P'},	       {"tenants", required_argument, NULL, 1},
	    {"nodes", required_argument, NULL, 2},     {"stacks", required_argument, NULL, 3},
	    {"symbols", required_argument, NULL, 4},   {"modules", required_argument, NULL, 5},
	    {"depth", required_argument, NULL, 6},     {"kernel-frames", required_argument, NULL, 7},
	    {"artifacts", required_argument, NULL, 8}, {"start-ns", required_argument, NULL, 9},
	    {"step-ns", required_argument, NULL, 10},  {"max-count", required_argument, NULL, 11},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0}};
	gen_synth_t s;
	out_t out = {0};
	const char *topic = gen_type_topic(GEN_CORRELATED);
	tb_err_t err;
	int ch;

	gen_synth_defaults(&s);
	while ((ch = getopt_long(argc, argv, "t:n:h", lo, NULL)) != -1) {
		if (ch == 't')
			topic = optarg;
		else if (ch == 'P')
			out.print = 1;
		else if (ch == 'h') {
			synth_usage(stdout);
			return 0;
		} else if (ch == '?' || synth_opt(&s, ch, optarg) < 0) {
			synth_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !synth_valid(&s)) {
		synth_usage(stderr);
		return 2;
	}
	if (out_open(&out, g, topic, &err) < 0) {
		fprintf(stderr, "tb-gen synth: %s\n", err.msg);
		return 1;
	}
	for (int64_t i = s.first; i < s.first + s.n && !g_stop; i++)
		if (synth_one(&out, &s, i, &err) < 0) {
			fprintf(stderr, "tb-gen synth: event %lld: %s\n", (long long)i, err.msg);
			out_close(&out, &err);
			return 1;
		}
	if (out_close(&out, &err) < 0) {
		fprintf(stderr, "tb-gen synth: %s\n", err.msg);
		return 1;
	}
	if (!out.print)
		fprintf(stderr, "tb-gen synth: %ld messages acknowledged on %s\n", out.sent, topic);
	return 0;
}

/* ---- the fault suite's workload: tetragon, probe, catalog ------------------------------ */

static const struct option work_lo[] = {{"first", required_argument, NULL, 'F'},
					{"seed", required_argument, NULL, 'S'},
					{"print", no_argument, NULL, 'P'},
					{"nodes", required_argument, NULL, 1},
					{"containers", required_argument, NULL, 2},
					{"artifacts", required_argument, NULL, 3},
					{"stacks", required_argument, NULL, 4},
					{"symbols", required_argument, NULL, 5},
					{"depth", required_argument, NULL, 6},
					{"start-ns", required_argument, NULL, 7},
					{"step-ns", required_argument, NULL, 8},
					{"batch-samples", required_argument, NULL, 9},
					{"dup-every", required_argument, NULL, 10},
					{"bad-every", required_argument, NULL, 11},
					{"tenant", required_argument, NULL, 12},
					{"help", no_argument, NULL, 'h'},
					{NULL, 0, NULL, 0}};

static void work_usage(FILE *f)
{
	fprintf(f, "usage: tb-gen tetragon [-t TOPIC] [-n LINES] [--first I] [--print] [shape options]\n"
		   "       tb-gen probe    [-t TOPIC] [-n BATCHES] [--first B] [--print] [shape options]\n"
		   "       tb-gen catalog  artifacts|findings [shape options]\n"
		   "  The fault suite's workload (tools/gen/workload.c): Tetragon kprobe JSON lines with\n"
		   "  kernel and user stacks (tb.tetragon.raw.v1), probe-agent ProbeBatches with samples,\n"
		   "  uprobe counts and loads (tb.probe.raw.v1), and the artifacts and findings they hit\n"
		   "  (catalog prints JSON lines for `tb-gen json --type artifact|finding`). Line i and\n"
		   "  batch b are pure functions of (shape, index): the same options give the same bytes.\n"
		   "  About one line/batch in --dup-every is sent twice; about one line in --bad-every is\n"
		   "  preceded by a malformed one (and a batch in bad-every/50 carries a bad build-id).\n"
		   "  --print writes the messages to stdout (lines; batches as hex) instead of producing.\n"
		   "  The last stderr line counts messages, events, duplicates and malformed messages.\n"
		   "  shape: --seed S --nodes K --containers K --artifacts K --stacks K --symbols K\n"
		   "         --depth D --start-ns T --step-ns S --batch-samples K --dup-every K\n"
		   "         --bad-every K --tenant NAME\n");
}

static int work_opt(gen_work_t *w, int ch, const char *arg)
{
	long long v = strtoll(arg, NULL, 0);

	switch (ch) {
	case 'S':
		w->seed = (uint64_t)v;
		break;
	case 1:
		w->nodes = (int)v;
		break;
	case 2:
		w->containers = (int)v;
		break;
	case 3:
		w->artifacts = (int)v;
		break;
	case 4:
		w->stacks = (int)v;
		break;
	case 5:
		w->symbols = (int)v;
		break;
	case 6:
		w->depth = (int)v;
		break;
	case 7:
		w->start_ns = v;
		break;
	case 8:
		w->step_ns = v;
		break;
	case 9:
		w->batch_samples = (int)v;
		break;
	case 10:
		w->dup_every = (int)v;
		break;
	case 11:
		w->bad_every = (int)v;
		break;
	case 12:
		w->tenant = arg;
		break;
	default:
		return -1;
	}
	return 0;
}

typedef struct work_args {
	gen_work_t w;
	int64_t first, n;
	const char *topic;
} work_args_t;

/* Parse the shared options; 0 ok, else the exit code (help: 0 via *done). */
static int work_parse(int argc, char **argv, work_args_t *a, out_t *out, int *done)
{
	int ch;

	*done = 0;
	while ((ch = getopt_long(argc, argv, "t:n:h", work_lo, NULL)) != -1) {
		if (ch == 't')
			a->topic = optarg;
		else if (ch == 'n')
			a->n = strtoll(optarg, NULL, 0);
		else if (ch == 'F')
			a->first = strtoll(optarg, NULL, 0);
		else if (ch == 'P')
			out->print = 1;
		else if (ch == 'h') {
			work_usage(stdout);
			*done = 1;
			return 0;
		} else if (ch == '?' || work_opt(&a->w, ch, optarg) < 0) {
			work_usage(stderr);
			return 2;
		}
	}
	if (a->n < 0 || a->first < 0 || !gen_work_valid(&a->w)) {
		work_usage(stderr);
		return 2;
	}
	return 0;
}

/* Send one message, or print it (text as is, binary as hex). */
static int work_send(out_t *o, const char *key, const void *val, size_t len, int binary, tb_err_t *err)
{
	if (!o->print)
		return out_send(o, key, val, len, NULL, 0, err);
	if (binary) {
		char *hex = malloc(2 * len + 1);

		if (!hex)
			return tb_err(err, "out of memory");
		tb_hex(val, len, hex);
		printf("%s\t%s\n", key, hex);
		free(hex);
	} else {
		printf("%s\t%.*s\n", key, (int)len, (const char *)val);
	}
	o->sent++;
	return ferror(stdout) ? tb_err(err, "write stdout") : 0;
}

typedef struct work_counts {
	long events, duplicates, malformed;
} work_counts_t;

static int tetragon_one(out_t *o, const gen_work_t *w, int64_t i, work_counts_t *n, tb_err_t *err)
{
	json_t *j = gen_work_tetragon_json(w, i);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL, key[64];
	int rc = -1;

	json_decref(j);
	if (!text)
		return tb_err(err, "line %lld: out of memory", (long long)i);
	gen_work_tetragon_key(w, i, key, sizeof(key));
	if (gen_work_tetragon_bad(w, i)) {
		char *bad = gen_work_tetragon_malformed(w, i, text);

		rc = bad ? work_send(o, key, bad, strlen(bad), 0, err) : tb_err(err, "out of memory");
		free(bad);
		if (rc < 0)
			goto out;
		n->malformed++;
	}
	if (work_send(o, key, text, strlen(text), 0, err) < 0)
		goto out;
	n->events++;
	if (gen_work_tetragon_dup(w, i)) {
		if (work_send(o, key, text, strlen(text), 0, err) < 0)
			goto out;
		n->duplicates++;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

static int probe_one(out_t *o, const globals_t *g, const gen_work_t *w, int64_t b, work_counts_t *n,
		     tb_err_t *err)
{
	tb_probe_batch_t pb;
	uint8_t *buf = NULL;
	size_t len = 0;
	char key[32];
	int rc = -1, copies = gen_work_probe_dup(w, b) ? 2 : 1;

	memset(&pb, 0, sizeof(pb));
	if (gen_work_probe_batch(w, b, &pb, err) < 0 ||
	    tb_avro_encode_probe_batch(g->reg, &pb, &buf, &len, err) < 0)
		goto out;
	gen_work_probe_key(w, b, key, sizeof(key));
	for (int c = 0; c < copies; c++)
		if (work_send(o, key, buf, len, 1, err) < 0)
			goto out;
	if (gen_work_probe_bad(w, b))
		n->malformed += copies;
	else
		n->events += (long)gen_work_probe_events(&pb);
	n->duplicates += copies - 1;
	rc = 0;
out:
	free(buf);
	tb_probe_batch_clear(&pb);
	return rc;
}

static int cmd_work(const globals_t *g, int probe, int argc, char **argv)
{
	const char *name = probe ? "probe" : "tetragon";
	work_args_t a = {.n = probe ? 100 : 1000};
	work_counts_t n = {0};
	out_t out = {0};
	tb_err_t err;
	int rc, done;

	gen_work_defaults(&a.w);
	a.topic = probe ? TB_TOPIC_PROBE_RAW : TB_TOPIC_TETRAGON_RAW;
	if ((rc = work_parse(argc, argv, &a, &out, &done)) != 0 || done)
		return rc;
	if (optind != argc) {
		work_usage(stderr);
		return 2;
	}
	if (out_open(&out, g, a.topic, &err) < 0) {
		fprintf(stderr, "tb-gen %s: %s\n", name, err.msg);
		return 1;
	}
	for (int64_t i = a.first; i < a.first + a.n && !g_stop; i++)
		if ((probe ? probe_one(&out, g, &a.w, i, &n, &err) : tetragon_one(&out, &a.w, i, &n, &err)) <
		    0) {
			fprintf(stderr, "tb-gen %s: %s %lld: %s\n", name, probe ? "batch" : "line",
				(long long)i, err.msg);
			out_close(&out, &err);
			return 1;
		}
	if (out_close(&out, &err) < 0) {
		fprintf(stderr, "tb-gen %s: %s\n", name, err.msg);
		return 1;
	}
	fflush(stdout);
	fprintf(stderr, "tb-gen %s: %ld messages %s %s (events %ld, duplicates %ld, malformed %ld)\n", name,
		out.sent, out.print ? "printed for" : "acknowledged on", a.topic, n.events, n.duplicates,
		n.malformed);
	return 0;
}

static int cmd_catalog(int argc, char **argv)
{
	work_args_t a = {0};
	out_t out = {0};
	int rc, done, findings;

	gen_work_defaults(&a.w);
	if ((rc = work_parse(argc, argv, &a, &out, &done)) != 0 || done)
		return rc;
	if (optind != argc - 1 ||
	    (strcmp(argv[optind], "artifacts") != 0 && strcmp(argv[optind], "findings") != 0)) {
		work_usage(stderr);
		return 2;
	}
	findings = strcmp(argv[optind], "findings") == 0;
	for (int i = 0; i < a.w.artifacts; i++)
		for (int f = 0; f < (findings ? 2 : 1); f++) {
			json_t *j =
			    findings ? gen_work_finding_json(&a.w, i, f) : gen_work_artifact_json(&a.w, i);
			char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

			json_decref(j);
			if (!text || puts(text) < 0) {
				free(text);
				fprintf(stderr, "tb-gen catalog: out of memory or write error\n");
				return 1;
			}
			free(text);
		}
	return 0;
}

/* ---- dump ------------------------------------------------------------------------- */

static json_t *decode_json(const globals_t *g, const tb_kafka_msg_t *m, const char **type, tb_err_t *err)
{
	const char *name = NULL;
	uint64_t fp;
	json_t *j = NULL;

	if (tb_avro_peek(g->reg, m->value, m->value_len, &name, &fp, err) < 0)
		return NULL;
	*type = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
#define DEC(T, clear, fn, tojson)                                                                            \
	do {                                                                                                 \
		T r = {0};                                                                                   \
		if (fn(g->reg, m->value, m->value_len, &r, err) == 0)                                        \
			j = tojson;                                                                          \
		clear(&r);                                                                                   \
	} while (0)
	if (strcmp(name, TB_AVRO_CORRELATED_EVENT) == 0)
		DEC(tb_event_t, tb_event_clear, tb_avro_decode_correlated_event, gen_event_to_json(&r, 1));
	else if (strcmp(name, TB_AVRO_CANONICAL_EVENT) == 0)
		DEC(tb_event_t, tb_event_clear, tb_avro_decode_canonical_event, gen_event_to_json(&r, 0));
	else if (strcmp(name, TB_AVRO_ARTIFACT) == 0)
		DEC(tb_artifact_t, tb_artifact_clear, tb_avro_decode_artifact, gen_artifact_to_json(&r));
	else if (strcmp(name, TB_AVRO_FINDING) == 0)
		DEC(tb_finding_t, tb_finding_clear, tb_avro_decode_finding, gen_finding_to_json(&r));
	else if (strcmp(name, TB_AVRO_DEAD_LETTER) == 0)
		DEC(tb_dead_letter_t, tb_dead_letter_clear, tb_avro_decode_dead_letter,
		    gen_dead_letter_to_json(&r));
	else if (strcmp(name, TB_AVRO_RUNTIME_EVENT) == 0)
		DEC(tb_runtime_event_t, tb_runtime_event_clear, tb_avro_decode_runtime_event,
		    gen_runtime_event_to_json(&r));
	else
		tb_err(err, "no JSON form for %s", name);
#undef DEC
	return j;
}

static void print_msg(const globals_t *g, const tb_kafka_msg_t *m)
{
	json_t *o = json_object(), *rec;
	const char *type = NULL;
	char *text;
	tb_err_t err;

	json_object_set_new(o, "topic", json_string(m->topic));
	json_object_set_new(o, "partition", json_integer(m->partition));
	json_object_set_new(o, "offset", json_integer(m->offset));
	json_object_set_new(o, "key", gen_bytes_to_json(m->key, m->key_len));
	if (!m->value) {
		json_object_set_new(o, "tombstone", json_true());
	} else if ((rec = decode_json(g, m, &type, &err))) {
		json_object_set_new(o, "type", json_string(type));
		json_object_set_new(o, "record", rec);
	} else {
		json_object_set_new(o, "error", json_string(err.msg));
		json_object_set_new(o, "value", gen_bytes_to_json(m->value, m->value_len));
	}
	text = json_dumps(o, JSON_COMPACT);
	if (text)
		puts(text);
	fflush(stdout);
	free(text);
	json_decref(o);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dump_usage(FILE *f)
{
	fprintf(f, "usage: tb-gen dump -t TOPIC [-G GROUP] [--exit-after N] [--idle-exit MS]\n"
		   "  Prints every message of TOPIC from the earliest offset as a JSON line\n"
		   "  {topic, partition, offset, key, type, record} ({..., tombstone: true} or\n"
		   "  {..., error, value} when it does not decode). The group (default tb-gen-dump-PID)\n"
		   "  commits nothing. Ends after N messages, after MS without a message (counted from the\n"
		   "  moment partitions are assigned), or on SIGTERM.\n");
}

static int cmd_dump(const globals_t *g, int argc, char **argv)
{
	static const struct option lo[] = {{"exit-after", required_argument, NULL, 'e'},
					   {"idle-exit", required_argument, NULL, 'i'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *topic = NULL, *group = NULL;
	char group_buf[64];
	long exit_after = -1, idle_ms = -1, seen = 0;
	tb_kafka_conf_t c;
	tb_kafka_consumer_t *con;
	tb_kafka_batch_t b = {0};
	tb_err_t err;
	long long last;
	int ch, rc = 0, assigned = 0;

	while ((ch = getopt_long(argc, argv, "t:G:h", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			topic = optarg;
			break;
		case 'G':
			group = optarg;
			break;
		case 'e':
			exit_after = atol(optarg);
			break;
		case 'i':
			idle_ms = atol(optarg);
			break;
		case 'h':
			dump_usage(stdout);
			return 0;
		default:
			dump_usage(stderr);
			return 2;
		}
	}
	if (!topic || optind != argc) {
		dump_usage(stderr);
		return 2;
	}
	if (!group) {
		snprintf(group_buf, sizeof(group_buf), "tb-gen-dump-%ld", (long)getpid());
		group = group_buf;
	}
	kafka_conf(g, &c);
	con = tb_kafka_consumer_new(&c, group, &topic, 1, &err);
	if (!con) {
		fprintf(stderr, "tb-gen dump: %s\n", err.msg);
		return 1;
	}
	last = mono_ms();
	while (!g_stop && (exit_after < 0 || seen < exit_after)) {
		int n = tb_kafka_poll_batch(con, &b, 500, 200, &err);

		if (n < 0) {
			fprintf(stderr, "tb-gen dump: %s\n", err.msg);
			rc = 1;
			break;
		}
		for (int i = 0; i < n && (exit_after < 0 || seen < exit_after); i++, seen++)
			print_msg(g, &b.msgs[i]);
		if (!assigned && tb_kafka_assignment(con, NULL, 0, &err) > 0) {
			assigned = 1; /* joining the group takes seconds: idle time counts from here */
			last = mono_ms();
		}
		if (n > 0)
			last = mono_ms();
		else if (assigned && idle_ms >= 0 && mono_ms() - last >= idle_ms)
			break;
	}
	tb_kafka_batch_clear(&b, 1);
	tb_kafka_consumer_close(con, NULL, &err);
	return rc;
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"timeout", required_argument, NULL, 'T'},
					   {"log-level", required_argument, NULL, 'L'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	static globals_t g = {.timeout_ms = 10000}; /* large (props): not on the stack */
	tb_log_level_t level = TB_LOG_WARN;
	tb_err_t err;
	const char *cmd;
	int ch, rc;

	if (tb_tool_props_env(&g.props, NULL, &err) < 0) {
		fprintf(stderr, "tb-gen: %s\n", err.msg);
		return 2;
	}
	g.bootstrap = getenv("TB_BROKERS");
	if (g.bootstrap && !g.bootstrap[0])
		g.bootstrap = NULL;
	while ((ch = getopt_long(argc, argv, "+b:X:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'b':
			g.bootstrap = optarg;
			break;
		case 'X':
			if (tb_tool_props_add(&g.props, optarg, &err) < 0) {
				fprintf(stderr, "tb-gen: -X: %s\n", err.msg);
				return 2;
			}
			break;
		case 'T':
			g.timeout_ms = atoi(optarg);
			break;
		case 'L':
			if (tb_log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "tb-gen: unknown log level %s\n", optarg);
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
	tb_log_init("tb-gen", level);
	tb_tool_signals(on_signal);
	g.reg = tb_avro_registry_new(&err);
	if (!g.reg) {
		fprintf(stderr, "tb-gen: %s\n", err.msg);
		return 1;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;
	if (strcmp(cmd, "json") == 0)
		rc = cmd_json(&g, argc, argv);
	else if (strcmp(cmd, "synth") == 0)
		rc = cmd_synth(&g, argc, argv);
	else if (strcmp(cmd, "dump") == 0)
		rc = cmd_dump(&g, argc, argv);
	else if (strcmp(cmd, "tetragon") == 0 || strcmp(cmd, "probe") == 0)
		rc = cmd_work(&g, strcmp(cmd, "probe") == 0, argc, argv);
	else if (strcmp(cmd, "catalog") == 0)
		rc = cmd_catalog(argc, argv);
	else {
		fprintf(stderr, "tb-gen: unknown command %s\n", cmd);
		usage(stderr);
		rc = 2;
	}
	tb_avro_registry_free(g.reg);
	return rc;
}
