/*
 * tb-aggload — fills PostgreSQL for the query benchmarks through the
 * aggregator's own sink (services/aggregator/sink.h), without Kafka.
 *
 *   tb-aggload --pg URL [--events N] [--first I] [--span-s S] [--end-ns NS]
 *              [--batch N] [--tenant T] [--seed N] [--symbols N] [--pool N]
 *              [--artifacts N] [--containers N] [--nodes N]
 *
 * Loading ten million observations through Kafka and the aggregator would
 * take far longer than the benchmark's budget (and the dev broker keeps only
 * ~5 MiB per partition), so this program plays the part of the consumer: it
 * generates CorrelatedEvents (16 user frames drawn from the Zipf-skewed
 * symbol pool of tb-loadgen's world, one artifact per container image,
 * per-frame purls), encodes them to Avro exactly as the correlator does, and
 * hands batches of "messages" (topic tb.events.correlated.v1, partition 0,
 * consecutive offsets from --first) to tb_agg_decode + tb_agg_store: the
 * same decoding, dedup, day partitions, observations, symbols, frames,
 * stacks, hot-symbol windows and sink offsets as the service, in one
 * transaction per batch. It also stores one finding (bench-finding-1) on the
 * most popular symbol, for the score route.
 *
 * Events i = first..first+N-1 are spread evenly over the span ending at
 * --end-ns (default now). Prints {events, seconds, events_per_s}.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"
#include "sink.h"
#include "tb/avro.h"
#include "tb/hash.h"
#include "tb/log.h"
#include "tb/pg.h"
#include "tb/records.h"
#include "tb/topics.h"

#define GROUP "tb-bench-aggload"

typedef struct cli {
	const char *pg;
	long long events, first;
	double span_s;
	int64_t end_ns;
	int batch;
	const char *tenant;
	lg_opts_t o;
} cli_t;

/* Per module: the component (purl) the correlator would have found. */
static const char *const module_purls[] = {
    "pkg:oci/shop@1.0",
    "pkg:generic/shopcore@2.4.1",
    "pkg:deb/debian/libc6@2.36-9",
    "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14",
    "pkg:deb/debian/libssl3@3.0.11-1",
    "pkg:deb/debian/libssl3@3.0.11-1",
    "pkg:deb/debian/zlib1g@1.2.13",
    "pkg:deb/debian/libpq5@15.5-0",
};

typedef struct gen {
	const cli_t *c;
	lg_world_t w;
	tb_canon_frame_t **stack_frames; /* per pooled stack: its frames (shared, not owned by events) */
	int64_t *stack_ids;
	char **sym_display; /* demangled-looking names, as the canonicalizer stores them */
	tb_avro_registry_t *reg;
} gen_t;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* "_ZN4shop9worker123Ev" -> "shop::worker123" (the pool's only mangled form). */
static char *display_name(const char *name)
{
	char buf[128];
	int n = 0;

	if (strncmp(name, "_ZN4shop", 8) == 0 && sscanf(name + 8, "%d", &n) == 1) {
		const char *id = name + 8 + (n >= 10 ? 2 : 1);

		snprintf(buf, sizeof(buf), "shop::%.*s", n, id);
		return strdup(buf);
	}
	return strdup(name);
}

static int64_t frame_id(const tb_canon_frame_t *f)
{
	tb_hasher_t h;

	tb_hasher_init(&h, "bench.frame.v1");
	tb_hasher_str(&h, f->build_id);
	tb_hasher_str(&h, f->module);
	tb_hasher_u64(&h, f->file_offset);
	tb_hasher_str(&h, f->symbol);
	return tb_hasher_final64(&h);
}

static int build_stacks(gen_t *g, tb_err_t *err)
{
	const lg_world_t *w = &g->w;

	g->sym_display = calloc((size_t)w->o.symbols, sizeof(char *));
	g->stack_frames = calloc((size_t)w->o.pool, sizeof(*g->stack_frames));
	g->stack_ids = calloc((size_t)w->o.pool, sizeof(int64_t));
	if (!g->sym_display || !g->stack_frames || !g->stack_ids)
		return tb_err(err, "aggload: out of memory");
	for (int i = 0; i < w->o.symbols; i++)
		if (!(g->sym_display[i] = display_name(w->syms[i].name)))
			return tb_err(err, "aggload: out of memory");
	for (int k = 0; k < w->o.pool; k++) {
		const lg_stack_t *s = &w->stacks[k];
		const lg_proc_t *p = &w->procs[s->proc];
		tb_canon_frame_t *fr = calloc((size_t)s->n, sizeof(*fr));
		tb_hasher_t h;

		if (!fr)
			return tb_err(err, "aggload: out of memory");
		g->stack_frames[k] = fr;
		tb_hasher_init(&h, "bench.stack.v1");
		for (int f = 0; f < s->n; f++) {
			const lg_symbol_t *sym = &w->syms[s->frames[f].symbol];

			fr[f].build_id = (char *)lg_modules[sym->module].build_id;
			fr[f].module = (char *)basename_of(lg_modules[sym->module].path);
			fr[f].file_offset = sym->offset + s->frames[f].delta;
			fr[f].symbol = g->sym_display[s->frames[f].symbol];
			fr[f].artifact_digest = (char *)p->image_digest;
			fr[f].purl = (char *)module_purls[sym->module];
			fr[f].frame_id = frame_id(&fr[f]);
			tb_hasher_u64(&h, (uint64_t)fr[f].frame_id);
		}
		g->stack_ids[k] = tb_hasher_final64(&h);
	}
	return 0;
}

/* Event i as the correlator would have produced it; strings point into the
 * world (the record is only encoded, never freed field by field). */
static void fill_event(const gen_t *g, long long i, uint64_t *rng, tb_event_t *ev)
{
	const cli_t *c = g->c;
	int k = (int)(lg_rand(rng) % (uint64_t)g->w.o.pool);
	const lg_stack_t *s = &g->w.stacks[k];
	const lg_proc_t *p = &g->w.procs[s->proc];
	static char nodes[64][16];
	double step = c->span_s * 1e9 / (double)(c->first + c->events);
	tb_hasher_t h;

	if (!nodes[0][0])
		for (int n = 0; n < 64; n++)
			snprintf(nodes[n], sizeof(nodes[n]), "node-%d", n);
	memset(ev, 0, sizeof(*ev));
	tb_hasher_init(&h, "bench.aggload.v1");
	tb_hasher_u64(&h, g->w.o.seed);
	tb_hasher_u64(&h, (uint64_t)i);
	tb_hasher_final128(&h, ev->event_id);
	ev->tenant = (char *)c->tenant;
	ev->source = (char *)"probe";
	ev->kind = (char *)"sample";
	ev->ts_ns = c->end_ns - (int64_t)((double)(c->first + c->events - i) * step);
	ev->node = nodes[p->node % 64];
	ev->pid = ev->tid = p->pid;
	ev->uid_hash = (char *)"";
	ev->binary = (char *)lg_modules[0].path;
	ev->exec_id = (char *)p->exec_id;
	ev->container.id = (char *)p->container_id;
	ev->container.image_digest = (char *)p->image_digest;
	ev->container.workload = (char *)p->workload;
	ev->container.pod = (char *)p->workload;
	ev->container.namespace_ = (char *)"shop";
	ev->frames = g->stack_frames[k];
	ev->n_frames = (size_t)s->n;
	ev->stack_id = g->stack_ids[k];
	ev->leaf_frame_id = ev->frames[0].frame_id;
	ev->count = 1;
	ev->artifact_digest = (char *)p->image_digest;
	ev->purl = ev->frames[0].purl;
	ev->correlation = (char *)"correlated";
}

/* Store msgs[0..n) through the sink in one transaction. A dead letter here
 * would mean a generator bug (and there is no producer to send it with). */
static int store(tb_agg_sink_t *sink, const tb_kafka_msg_t *msgs, size_t n, tb_agg_item_t *items,
		 tb_err_t *err)
{
	tb_agg_stats_t st;
	int rc = -1;

	if (tb_agg_decode(sink, msgs, n, items, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == TB_AGG_BAD) {
			tb_err(err, "aggload: the sink refused record at offset %" PRId64 ": %s",
			       msgs[i].offset, items[i].reason ? items[i].reason : "?");
			goto out;
		}
	if (tb_agg_store(sink, items, 0, n, &st, err) != TB_AGG_OK)
		goto out;
	rc = 0;
out:
	tb_agg_items_clear(items, n);
	return rc;
}

/* The finding the score route is asked about: the most popular symbol (the
 * Zipf pool's first) in its component. */
static int store_finding(const gen_t *g, tb_agg_sink_t *sink, tb_err_t *err)
{
	const lg_symbol_t *sym = &g->w.syms[0];
	char *symbols[] = {g->sym_display[0]};
	tb_finding_t f = {.tenant = (char *)g->c->tenant,
			  .finding_id = (char *)"bench-finding-1",
			  .vuln_id = (char *)"CVE-2099-0001",
			  .purl = (char *)module_purls[sym->module],
			  .symbols = symbols,
			  .n_symbols = 1,
			  .registered_ns = g->c->end_ns};
	tb_kafka_msg_t m = {.topic = TB_TOPIC_FINDINGS, .partition = 0, .timestamp_ms = -1};
	tb_agg_item_t item;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (tb_avro_encode_finding(g->reg, &f, &buf, &len, err) < 0)
		return -1;
	m.key = f.finding_id;
	m.key_len = strlen(f.finding_id);
	m.value = buf;
	m.value_len = len;
	m.offset = g->c->first; /* one finding message per load: offsets stay increasing */
	rc = store(sink, &m, 1, &item, err);
	free(buf);
	return rc;
}

static int load_events(const gen_t *g, tb_agg_sink_t *sink, tb_err_t *err)
{
	const cli_t *c = g->c;
	size_t cap = (size_t)c->batch;
	tb_kafka_msg_t *msgs = calloc(cap, sizeof(*msgs));
	uint8_t **bufs = calloc(cap, sizeof(*bufs));
	tb_agg_item_t *items = calloc(cap, sizeof(*items));
	uint64_t rng = g->w.o.seed * 31 + (uint64_t)c->first;
	int rc = -1;

	if (!msgs || !bufs || !items) {
		tb_err(err, "aggload: out of memory");
		goto out;
	}
	for (long long i = c->first; i < c->first + c->events;) {
		size_t n = 0;

		for (; n < cap && i < c->first + c->events; n++, i++) {
			tb_event_t ev;
			size_t len;

			fill_event(g, i, &rng, &ev);
			free(bufs[n]);
			bufs[n] = NULL;
			if (tb_avro_encode_correlated_event(g->reg, &ev, &bufs[n], &len, err) < 0)
				goto out;
			msgs[n] = (tb_kafka_msg_t){.topic = TB_TOPIC_EVENTS_CORRELATED,
						   .partition = 0,
						   .offset = i,
						   .value = bufs[n],
						   .value_len = len,
						   .timestamp_ms = ev.ts_ns / 1000000};
		}
		if (store(sink, msgs, n, items, err) < 0)
			goto out;
	}
	rc = 0;
out:
	for (size_t j = 0; bufs && j < cap; j++)
		free(bufs[j]);
	free(bufs);
	free(msgs);
	free(items);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tb-aggload --pg URL [--events N] [--first I] [--span-s S] [--end-ns NS] [--batch N]\n"
		"                  [--tenant T] [--seed N] [--symbols N] [--pool N] [--artifacts N]\n"
		"                  [--containers N] [--nodes N]\n"
		"Stores generated CorrelatedEvents through the aggregator's sink (no Kafka).\n");
}

static int parse_args(int argc, char **argv, cli_t *c)
{
	static const struct option lo[] = {{"pg", required_argument, NULL, 'p'},
					   {"events", required_argument, NULL, 'n'},
					   {"first", required_argument, NULL, 1},
					   {"span-s", required_argument, NULL, 2},
					   {"end-ns", required_argument, NULL, 3},
					   {"batch", required_argument, NULL, 4},
					   {"tenant", required_argument, NULL, 5},
					   {"seed", required_argument, NULL, 6},
					   {"symbols", required_argument, NULL, 7},
					   {"pool", required_argument, NULL, 8},
					   {"artifacts", required_argument, NULL, 9},
					   {"containers", required_argument, NULL, 10},
					   {"nodes", required_argument, NULL, 11},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	int ch;

	memset(c, 0, sizeof(*c));
	c->events = 100000;
	c->span_s = 3 * 3600;
	c->end_ns = wall_ns();
	c->batch = 2000;
	c->tenant = "default";
	c->o = (lg_opts_t){.seed = 7,
			   .symbols = 5000,
			   .zipf = 1.1,
			   .min_frames = 16,
			   .max_frames = 16,
			   .nodes = 8,
			   .containers = 48,
			   .artifacts = 6,
			   .pool = 20000};
	while ((ch = getopt_long(argc, argv, "p:n:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			c->pg = optarg;
			break;
		case 'n':
			c->events = atoll(optarg);
			break;
		case 1:
			c->first = atoll(optarg);
			break;
		case 2:
			c->span_s = atof(optarg);
			break;
		case 3:
			c->end_ns = strtoll(optarg, NULL, 10);
			break;
		case 4:
			c->batch = atoi(optarg);
			break;
		case 5:
			c->tenant = optarg;
			break;
		case 6:
			c->o.seed = strtoull(optarg, NULL, 0);
			break;
		case 7:
			c->o.symbols = atoi(optarg);
			break;
		case 8:
			c->o.pool = atoi(optarg);
			break;
		case 9:
			c->o.artifacts = atoi(optarg);
			break;
		case 10:
			c->o.containers = atoi(optarg);
			break;
		case 11:
			c->o.nodes = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || !c->pg || c->events < 1 || c->first < 0 || c->batch < 1 || c->span_s <= 0) {
		fprintf(stderr,
			"tb-aggload: --pg is required; --events, --batch, --span-s > 0, --first >= 0\n");
		return -1;
	}
	return 0;
}

static void gen_free(gen_t *g)
{
	for (int k = 0; g->stack_frames && k < g->w.o.pool; k++)
		free(g->stack_frames[k]);
	for (int i = 0; g->sym_display && i < g->w.o.symbols; i++)
		free(g->sym_display[i]);
	free(g->stack_frames);
	free(g->stack_ids);
	free(g->sym_display);
	tb_avro_registry_free(g->reg);
	lg_world_free(&g->w);
}

int main(int argc, char **argv)
{
	cli_t c;
	gen_t g = {0};
	tb_err_t err;
	tb_pg_t *pg = NULL;
	tb_agg_sink_t *sink = NULL;
	double t0, secs;
	int rc = 1;

	tb_log_init("aggload", TB_LOG_WARN);
	if (parse_args(argc, argv, &c) < 0) {
		usage(stderr);
		return 2;
	}
	tb_err_clear(&err);
	g.c = &c;
	if (lg_world_new(&g.w, &c.o, &err) < 0 || build_stacks(&g, &err) < 0 ||
	    !(g.reg = tb_avro_registry_new(&err)))
		goto out;
	if (!(pg = tb_pg_connect(c.pg, 10000, &err)) || tb_pg_migrate(pg, NULL, &err) < 0)
		goto out;
	sink = tb_agg_sink_new(
	    &(tb_agg_sink_conf_t){
		.pg = pg, .reg = g.reg, .group = GROUP, .default_tenant = c.tenant, .flush_timeout_ms = 1000},
	    &err);
	if (!sink)
		goto out;
	t0 = now_s();
	if (store_finding(&g, sink, &err) < 0 || load_events(&g, sink, &err) < 0)
		goto out;
	secs = now_s() - t0;
	printf("{\"events\":%lld,\"seconds\":%.3f,\"events_per_s\":%.0f}\n", c.events, secs,
	       (double)c.events / secs);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "tb-aggload: %s\n", err.msg);
	tb_agg_sink_free(sink);
	tb_pg_close(pg);
	gen_free(&g);
	return rc;
}
