/*
 * tb-loadgen — load for the benchmarks (bench/README.md): realistic stack
 * events produced to the pipeline's raw topics at a set rate or flat out.
 *
 *   tb-loadgen tetragon|probe -b BOOTSTRAP [--topic T] [--count N]
 *              [--duration S] [--rate EVENTS_PER_S] [--frames N |
 *              --min-frames N --max-frames N] [--symbols N] [--zipf S]
 *              [--pool N] [--nodes N] [--containers N] [--artifacts N]
 *              [--batch-samples N] [--seed N] [--stdout] [-X key=value ...]
 *
 * tetragon: Tetragon process_kprobe JSON lines (one per message) to
 * tb.tetragon.raw.v1; probe: Avro ProbeBatch records (--batch-samples
 * samples each) to tb.probe.raw.v1. Every event carries the wall-clock time
 * at which it was generated (strictly increasing), which makes every event a
 * new one for the idempotent sink and lets the benchmark measure freshness
 * against it. --stdout writes the messages (tetragon: lines) to stdout
 * instead of Kafka, to inspect them or feed the adapter's stdin.
 *
 * It stops after --count events or --duration seconds (whichever comes
 * first), waits until the broker acknowledged everything and prints one JSON
 * line: events, messages, bytes, seconds (first produce to last
 * acknowledgement) and events_per_s. Exit 0, 1 on a Kafka failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"
#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/tool.h"
#include "tb/topics.h"

typedef struct cli {
	const char *format;
	const char *brokers;
	const char *topic;
	long long count;
	double duration;
	double rate; /* events per second; 0 = flat out */
	int batch_samples;
	int to_stdout;
	tb_tool_props_t props; /* TB_KAFKA_<PROP>, then -X key=value */
	lg_opts_t o;
} cli_t;

typedef struct progress {
	long long events, messages, bytes;
	double t0;
} progress_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: tb-loadgen tetragon|probe -b BOOTSTRAP [--topic T] [--count N] [--duration S]\n"
	    "                  [--rate EVENTS_PER_S (0: flat out)] [--frames N | --min-frames N --max-frames "
	    "N]\n"
	    "                  [--symbols N] [--zipf S] [--pool N] [--nodes N] [--containers N]\n"
	    "                  [--artifacts N] [--batch-samples N] [--seed N] [--stdout] [-X key=value ...]\n"
	    "Produces Tetragon kprobe JSON lines or Avro ProbeBatch records with stacks drawn from a\n"
	    "Zipf-skewed symbol pool; prints {events, messages, bytes, seconds, events_per_s}.\n");
}

static void defaults(cli_t *c)
{
	memset(c, 0, sizeof(*c));
	c->count = 100000;
	c->batch_samples = 64;
	c->o = (lg_opts_t){.seed = 7,
			   .symbols = 5000,
			   .zipf = 1.1,
			   .min_frames = 16,
			   .max_frames = 16,
			   .nodes = 8,
			   .containers = 48,
			   .artifacts = 6,
			   .pool = 4096};
}

static int parse_args(int argc, char **argv, cli_t *c)
{
	static const struct option lo[] = {{"brokers", required_argument, NULL, 'b'},
					   {"topic", required_argument, NULL, 't'},
					   {"count", required_argument, NULL, 'n'},
					   {"duration", required_argument, NULL, 'd'},
					   {"rate", required_argument, NULL, 'r'},
					   {"frames", required_argument, NULL, 'f'},
					   {"min-frames", required_argument, NULL, 1},
					   {"max-frames", required_argument, NULL, 2},
					   {"symbols", required_argument, NULL, 3},
					   {"zipf", required_argument, NULL, 4},
					   {"pool", required_argument, NULL, 5},
					   {"nodes", required_argument, NULL, 6},
					   {"containers", required_argument, NULL, 7},
					   {"artifacts", required_argument, NULL, 8},
					   {"batch-samples", required_argument, NULL, 9},
					   {"seed", required_argument, NULL, 10},
					   {"stdout", no_argument, NULL, 11},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	tb_err_t err = {{0}};
	int ch;

	defaults(c);
	if (tb_tool_props_env(&c->props, NULL, &err) < 0) {
		fprintf(stderr, "tb-loadgen: %s\n", err.msg);
		return -1;
	}
	while ((ch = getopt_long(argc, argv, "b:t:n:d:r:f:X:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'b':
			c->brokers = optarg;
			break;
		case 't':
			c->topic = optarg;
			break;
		case 'n':
			c->count = atoll(optarg);
			break;
		case 'd':
			c->duration = atof(optarg);
			break;
		case 'r':
			c->rate = atof(optarg);
			break;
		case 'f':
			c->o.min_frames = c->o.max_frames = atoi(optarg);
			break;
		case 1:
			c->o.min_frames = atoi(optarg);
			break;
		case 2:
			c->o.max_frames = atoi(optarg);
			break;
		case 3:
			c->o.symbols = atoi(optarg);
			break;
		case 4:
			c->o.zipf = atof(optarg);
			break;
		case 5:
			c->o.pool = atoi(optarg);
			break;
		case 6:
			c->o.nodes = atoi(optarg);
			break;
		case 7:
			c->o.containers = atoi(optarg);
			break;
		case 8:
			c->o.artifacts = atoi(optarg);
			break;
		case 9:
			c->batch_samples = atoi(optarg);
			break;
		case 10:
			c->o.seed = strtoull(optarg, NULL, 0);
			break;
		case 11:
			c->to_stdout = 1;
			break;
		case 'X':
			if (tb_tool_props_add(&c->props, optarg, &err) < 0) {
				fprintf(stderr, "tb-loadgen: -X: %s\n", err.msg);
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
	if (optind != argc - 1 || (strcmp(argv[optind], "tetragon") && strcmp(argv[optind], "probe"))) {
		fprintf(stderr, "tb-loadgen: say tetragon or probe\n");
		return -1;
	}
	c->format = argv[optind];
	if (!c->topic)
		c->topic = strcmp(c->format, "tetragon") != 0 ? TB_TOPIC_PROBE_RAW : TB_TOPIC_TETRAGON_RAW;
	if (!c->brokers && !c->to_stdout) {
		fprintf(stderr, "tb-loadgen: -b BOOTSTRAP is required (or --stdout)\n");
		return -1;
	}
	if (c->count <= 0 || c->rate < 0 || c->duration < 0 || c->batch_samples < 1) {
		fprintf(stderr,
			"tb-loadgen: --count, --batch-samples must be > 0, --rate and --duration >= 0\n");
		return -1;
	}
	return 0;
}

/* Sleep while ahead of the rate (events/s) at this many events produced. */
static void pace(const cli_t *c, const progress_t *pg)
{
	double due, ahead;

	if (c->rate <= 0)
		return;
	due = pg->t0 + (double)pg->events / c->rate;
	ahead = due - now_s();
	if (ahead > 0.0005) {
		struct timespec ts = {(time_t)ahead, (long)((ahead - floor(ahead)) * 1e9)};

		nanosleep(&ts, NULL);
	}
}

static int done(const cli_t *c, const progress_t *pg)
{
	if (g_stop || pg->events >= c->count)
		return 1;
	return c->duration > 0 && now_s() - pg->t0 >= c->duration;
}

static int send_msg(const cli_t *c, tb_kafka_producer_t *p, const char *key, const void *val, size_t len,
		    tb_err_t *err)
{
	if (!p) { /* --stdout */
		fwrite(val, 1, len, stdout);
		if (strcmp(c->format, "tetragon") == 0)
			fputc('\n', stdout);
		return 0;
	}
	return tb_kafka_produce(p, c->topic, key, strlen(key), val, len, NULL, 0, err);
}

static int run_tetragon(const cli_t *c, const lg_world_t *w, tb_kafka_producer_t *p, progress_t *pg,
			tb_err_t *err)
{
	lg_json_msg_t *pool = NULL;
	size_t cap = LG_TIME_SUFFIX_LEN;
	char *buf = NULL;
	int64_t last_ns = 0;
	int rc = -1;

	if (lg_tetragon_pool(w, &pool, err) < 0)
		return -1;
	for (int k = 0; k < w->o.pool; k++)
		if (pool[k].prefix_len + LG_TIME_SUFFIX_LEN > cap)
			cap = pool[k].prefix_len + LG_TIME_SUFFIX_LEN;
	if (!(buf = malloc(cap))) {
		tb_err(err, "loadgen: out of memory");
		goto out;
	}
	pg->t0 = now_s();
	for (uint64_t i = 0; !done(c, pg); i++) {
		const lg_json_msg_t *m = &pool[i % (uint64_t)w->o.pool];
		size_t len = m->prefix_len;

		memcpy(buf, m->prefix, len);
		len += lg_time_suffix(lg_next_ns(&last_ns), buf + len);
		if (send_msg(c, p, m->key, buf, len, err) < 0)
			goto out;
		pg->events++;
		pg->messages++;
		pg->bytes += (long long)len;
		if (p && (i & 1023) == 0)
			tb_kafka_producer_poll(p, 0);
		pace(c, pg);
	}
	rc = 0;
out:
	free(buf);
	lg_tetragon_pool_free(pool, (size_t)w->o.pool);
	return rc;
}

static int run_probe(const cli_t *c, const lg_world_t *w, tb_kafka_producer_t *p, progress_t *pg,
		     tb_err_t *err)
{
	lg_probe_t *pr = lg_probe_new(w, c->batch_samples, err);
	int64_t last_ns = 0;
	int rc = -1;

	if (!pr)
		return -1;
	pg->t0 = now_s();
	while (!done(c, pg)) {
		const uint8_t *buf;
		size_t len;
		const char *key;

		if (lg_probe_next(pr, &last_ns, &buf, &len, &key, err) < 0 ||
		    send_msg(c, p, key, buf, len, err) < 0)
			goto out;
		pg->events += c->batch_samples;
		pg->messages++;
		pg->bytes += (long long)len;
		if (p && (pg->messages & 63) == 0)
			tb_kafka_producer_poll(p, 0);
		pace(c, pg);
	}
	rc = 0;
out:
	lg_probe_free(pr);
	return rc;
}

static tb_kafka_producer_t *open_producer(const cli_t *c, tb_err_t *err)
{
	tb_kafka_conf_t kc = {.bootstrap = c->brokers,
			      .props = c->props.kv,
			      .n_pairs = c->props.n,
			      .client_id = "tb-loadgen",
			      .timeout_ms = 15000};
	const char *topics[] = {c->topic};

	/* The producer fetches the topic's metadata before returning (a cold
	 * producer stalls ~1 s on its first message otherwise). */
	return tb_kafka_producer_new(&kc, topics, 1, err);
}

int main(int argc, char **argv)
{
	cli_t c;
	lg_world_t w;
	tb_kafka_producer_t *p = NULL;
	progress_t pg = {0};
	tb_err_t err;
	double secs;
	int rc;

	tb_log_init("loadgen", TB_LOG_WARN);
	if (parse_args(argc, argv, &c) < 0) {
		usage(stderr);
		return 2;
	}
	tb_tool_signals(on_signal);
	tb_err_clear(&err);
	if (lg_world_new(&w, &c.o, &err) < 0) {
		fprintf(stderr, "tb-loadgen: %s\n", err.msg);
		lg_world_free(&w);
		return 2;
	}
	if (!c.to_stdout && !(p = open_producer(&c, &err))) {
		fprintf(stderr, "tb-loadgen: %s\n", err.msg);
		lg_world_free(&w);
		return 1;
	}
	rc = strcmp(c.format, "tetragon") == 0 ? run_tetragon(&c, &w, p, &pg, &err)
					       : run_probe(&c, &w, p, &pg, &err);
	if (rc == 0 && p && tb_kafka_producer_flush(p, 120000, &err) < 0)
		rc = -1;
	secs = now_s() - pg.t0;
	if (rc < 0)
		fprintf(stderr, "tb-loadgen: %s\n", err.msg);
	else if (!c.to_stdout)
		printf("{\"events\":%lld,\"messages\":%lld,\"bytes\":%lld,\"seconds\":%.3f,\"events_per_s\":%"
		       ".0f}\n",
		       pg.events, pg.messages, pg.bytes, secs, secs > 0 ? (double)pg.events / secs : 0.0);
	tb_kafka_producer_free(p);
	lg_world_free(&w);
	return rc < 0 ? 1 : 0;
}
