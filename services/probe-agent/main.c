/*
 * main.c — tb-probe-agent: our own eBPF sensor (one per node).
 *
 * CPU sampling (perf_event cpu-clock on every CPU, user + kernel stacks),
 * uprobes on watch-listed functions with exact counts, process exec/exit
 * and loaded-library tracking, container attribution; every user frame is
 * normalized on the node to (build-id, file offset, module) and symbolized
 * locally when the file has symbols. Output: Avro ProbeBatch records on
 * tb.probe.raw.v1, or with --dry-run folded stacks (or JSON) on stdout.
 *
 * Wiring only: options, privileges, BPF load (bpf.c), the agent core
 * (agent.c), watch sources (watch.c, findings.c), output (output.c) and the
 * drain/flush loop.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 configuration error, 3 Kafka
 * unreachable at start, 4 BPF refused: missing privileges (root, or
 * CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN) or the kernel said no (its reason
 * is printed).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "elfsyms.h"
#include "findings.h"
#include "output.h"
#include "tb/avro.h"
#include "tb/log.h"
#include "tb/service.h"
#include "tb/stage.h"
#include "tb/topics.h"

#define VERSION "0.1.0"
#define EXIT_BPF 4
#define MAX_FILTER TB_PROBE_MAX_FILTER

static const tb_option_t options[] = {
    {"frequency", TB_OPT_INT, "99", "samples per second per CPU (cpu-clock); 0 = no sampling", NULL},
    {"duration", TB_OPT_DURATION_MS, "0", "stop after this long (0 = until SIGTERM/SIGINT)", NULL},
    {"dry-run", TB_OPT_BOOL, "false", "print folded stacks to stdout instead of sending to Kafka", NULL},
    {"dry-run-format", TB_OPT_STRING, "folded", "what --dry-run prints", "folded|json"},
    {"pid", TB_OPT_STRING, NULL, "only these processes (comma-separated pids)", NULL},
    {"cgroup", TB_OPT_STRING, NULL, "only these cgroups, v2 path or id, and their children (comma-separated)",
     NULL},
    {"container", TB_OPT_STRING, NULL, "only these containers (comma-separated id prefixes)", NULL},
    {"watch-file", TB_OPT_PATH, NULL, "local watch list: TARGET SYMBOL... per line (see watch.h)", NULL},
    {"findings", TB_OPT_BOOL, "true",
     "also watch the symbols of findings on tb.findings.v1 (not in --dry-run)", NULL},
    {"flush-interval", TB_OPT_DURATION_MS, "5s", "how often a batch goes out", NULL},
    {"drain-interval", TB_OPT_DURATION_MS, "100ms", "how often the ring buffers are drained", NULL},
    {"node", TB_OPT_STRING, NULL, "node name (default: the host name)", NULL},
    {"ring-size", TB_OPT_INT, "0",
     "sample ring buffer size in MiB (power of two); 0 = sized to frequency, CPUs and drain interval", NULL},
    {"uprobe-multi", TB_OPT_BOOL, "true", "use uprobe_multi links where the kernel has them", NULL},
    {"initial-scan", TB_OPT_BOOL, "true", "read running processes at start (their loads, uprobe candidates)",
     NULL},
    {"batch-bytes", TB_OPT_INT, "262144", "budget of one ProbeBatch record (bytes, estimated)", NULL},
    {"symbol-cache", TB_OPT_INT, "256", "symbol tables kept in memory (LRU)", NULL},
    {"check", TB_OPT_BOOL, "false",
     "load and attach everything (sampler, tracepoints, a uprobe), say what works and exit: 0, or 4 with the "
     "kernel's reason",
     NULL},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct app {
	tb_service_t svc;
	tb_pa_agent_t agent;
	tb_pa_bpf_t *bpf;
	tb_avro_registry_t *reg;
	tb_kafka_producer_t *producer;
	tb_kafka_consumer_t *consumer;
	tb_kafka_batch_t kbatch;
	tb_pa_findings_stats_t fstats;
	tb_metric_t *dropped;
	uint32_t pids[MAX_FILTER];
	size_t n_pids;
	uint64_t cgroups[MAX_FILTER];
	size_t n_cgroups;
	char *containers[MAX_FILTER];
	size_t n_containers;
	char *list_buf;
	char node[256];
	char boot_id[64];
} app_t;

/* ---- options ------------------------------------------------------------------ */

static int parse_pids(app_t *app, const char *s, tb_err_t *err)
{
	char *copy = s ? strdup(s) : NULL, *tok, *save = NULL;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || v == 0 || v > UINT32_MAX || app->n_pids == MAX_FILTER) {
			tb_err(err, "option 'pid': '%s' is not a pid (or more than %d pids)", tok,
			       MAX_FILTER);
			free(copy);
			return -1;
		}
		app->pids[app->n_pids++] = (uint32_t)v;
	}
	free(copy);
	return 0;
}

static int cgroup_id_of(const char *s, uint64_t *id, tb_err_t *err)
{
	static const char *const roots[] = {"", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char path[4096];
	struct stat st;
	char *end;

	*id = strtoull(s, &end, 10);
	if (!*end && *id)
		return 0;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", roots[i], s);
		if ((roots[i][0] || s[0] == '/') && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			*id = (uint64_t)st.st_ino;
			return 0;
		}
	}
	return tb_err(err, "option 'cgroup': '%s' is neither a cgroup id nor a cgroup v2 directory", s);
}

static int parse_cgroups(app_t *app, const char *s, tb_err_t *err)
{
	char *copy = s ? strdup(s) : NULL, *tok, *save = NULL;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (app->n_cgroups == MAX_FILTER ||
		    cgroup_id_of(tok, &app->cgroups[app->n_cgroups], err) < 0) {
			free(copy);
			return -1;
		}
		app->n_cgroups++;
	}
	free(copy);
	return 0;
}

static int parse_containers(app_t *app, const char *s, tb_err_t *err)
{
	char *tok, *save = NULL;

	if (!s)
		return 0;
	app->list_buf = strdup(s);
	for (tok = app->list_buf ? strtok_r(app->list_buf, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (app->n_containers == MAX_FILTER || strspn(tok, "0123456789abcdef") != strlen(tok))
			return tb_err(err, "option 'container': '%s' is not a (prefix of a) container id",
				      tok);
		app->containers[app->n_containers++] = tok;
	}
	return 0;
}

static int check_options(app_t *app, tb_err_t *err)
{
	const tb_config_t *c = app->svc.cfg;
	int64_t f = tb_config_int(c, "frequency"), ring = tb_config_int(c, "ring-size");

	if (f < 0 || f > 100000)
		return tb_err(err, "option 'frequency': %lld is not within 0..100000 Hz", (long long)f);
	if (ring < 0 || ring > 1024 || (ring & (ring - 1)))
		return tb_err(
		    err, "option 'ring-size': %lld MiB is neither 0 (auto) nor a power of two in 1..1024",
		    (long long)ring);
	if (tb_config_duration_ms(c, "flush-interval") < 10 || tb_config_duration_ms(c, "drain-interval") < 1)
		return tb_err(err, "flush-interval must be >= 10ms and drain-interval >= 1ms");
	if (tb_config_int(c, "batch-bytes") < 4096 || tb_config_int(c, "batch-bytes") > 900000)
		return tb_err(err, "option 'batch-bytes': must be within 4096..900000");
	if (parse_pids(app, tb_config_str(c, "pid"), err) < 0 ||
	    parse_cgroups(app, tb_config_str(c, "cgroup"), err) < 0 ||
	    parse_containers(app, tb_config_str(c, "container"), err) < 0)
		return -1;
	return 0;
}

static void read_identity(app_t *app)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	const char *node = tb_config_str(app->svc.cfg, "node");

	if (!f || !fgets(app->boot_id, sizeof(app->boot_id), f))
		snprintf(app->boot_id, sizeof(app->boot_id), "unknown");
	if (f)
		fclose(f);
	app->boot_id[strcspn(app->boot_id, "\n")] = '\0';
	if (node && node[0])
		snprintf(app->node, sizeof(app->node), "%s", node);
	else if (gethostname(app->node, sizeof(app->node) - 1) < 0)
		snprintf(app->node, sizeof(app->node), "unknown");
}

/* ---- privileges and BPF ----------------------------------------------------------- */

static int privileges_ok(void)
{
	char missing[128];

	if (tb_pa_bpf_check_caps(missing, sizeof(missing)) < 0 || !missing[0])
		return 1;
	fprintf(stderr,
		"tb-probe-agent: needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN; "
		"missing: %s\n",
		missing);
	tb_error("needs root or CAP_BPF+CAP_PERFMON+CAP_SYS_ADMIN; missing: %s", missing);
	return 0;
}

static tb_pa_bpf_t *load_bpf(app_t *app, tb_err_t *err)
{
	tb_pa_bpf_conf_t bc = {
	    .freq_hz = (int)tb_config_int(app->svc.cfg, "frequency"),
	    .pids = app->pids,
	    .n_pids = app->n_pids,
	    .cgroups = app->cgroups,
	    .n_cgroups = app->n_cgroups,
	    .sample_ring_bytes = (size_t)tb_config_int(app->svc.cfg, "ring-size") << 20,
	    .drain_ms = tb_config_duration_ms(app->svc.cfg, "drain-interval"),
	    .no_uprobe_multi = !tb_config_bool(app->svc.cfg, "uprobe-multi"),
	    .on_sample = tb_pa_agent_on_sample,
	    .on_event = tb_pa_agent_on_event,
	    .ctx = &app->agent,
	};

	return tb_pa_bpf_open(&bc, err);
}

/* --check: a uprobe on our own main() proves uprobes work, too. */
static int run_check(app_t *app)
{
	char *want[] = {"main"};
	tb_pa_symhit_t *hits = NULL;
	size_t n_hits = 0;
	tb_pa_ulink_t *l = NULL;
	tb_err_t err;
	uint32_t id = 0;

	app->bpf = load_bpf(app, &err);
	if (!app->bpf) {
		printf("BPF refused: %s\n", err.msg);
		return EXIT_BPF;
	}
	if (tb_pa_elfsyms_resolve("/proc/self/exe", want, 1, &hits, &n_hits, &err) == 0 && n_hits > 0)
		l = tb_pa_bpf_attach_uprobes(app->bpf, "/proc/self/exe", &hits[0].offset, &id, 1, &err);
	tb_pa_symhits_free(hits, n_hits);
	if (!l) {
		printf("uprobes refused: %s\n", n_hits ? err.msg : "main() not found in /proc/self/exe");
		return EXIT_BPF;
	}
	tb_pa_bpf_detach(l);
	printf("ok: sampling %d CPUs at %lld Hz, exec/exit/mmap tracking, uprobes via %s\n",
	       tb_pa_bpf_cpus(app->bpf), (long long)tb_config_int(app->svc.cfg, "frequency"),
	       tb_pa_bpf_has_multi(app->bpf) ? "uprobe_multi" : "single uprobes");
	return TB_EXIT_OK;
}

/* ---- the loop ---------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void poll_findings(app_t *app)
{
	tb_err_t err;
	int n;

	if (!app->consumer)
		return;
	n = tb_kafka_poll_batch(app->consumer, &app->kbatch, 500, 0, &err);
	if (n < 0) {
		tb_error("findings consumer: %s", err.msg);
		return;
	}
	for (int i = 0; i < n; i++)
		if (tb_pa_findings_apply(app->agent.watch, app->reg, tb_config_str(app->svc.cfg, "tenant"),
					 &app->kbatch.msgs[i], &app->fstats, &err) < 0)
			tb_warn("watch list: skipped an undecodable record: %s", err.msg);
}

/* A window out. Kafka trouble loses that window (logged, counted, and
 * visible downstream as a seq gap) but the agent keeps sensing; a dry-run
 * whose stdout is gone has nobody left to report to, so it stops. */
static int flush(app_t *app, tb_pa_print_t *pr, tb_pa_kafka_out_t *ko)
{
	tb_err_t err;

	if (tb_pa_agent_flush(&app->agent, pr ? tb_pa_print_batch : tb_pa_kafka_batch,
			      pr ? (void *)pr : (void *)ko, &err) >= 0)
		return 0;
	tb_error("flush: %s", err.msg);
	tb_metric_inc(app->dropped);
	return pr ? -1 : 0;
}

/* Sleep until the stop fd or the events ring fd is readable, or timeout. */
static void wait_events(app_t *app, int timeout_ms)
{
	struct pollfd fds[2] = {{.fd = tb_service_stop_fd(&app->svc), .events = POLLIN},
				{.fd = tb_pa_bpf_events_fd(app->bpf), .events = POLLIN}};
	struct epoll_event ev;

	if (poll(fds, 2, timeout_ms) > 0 && (fds[1].revents & POLLIN)) {
		epoll_wait(fds[1].fd, &ev, 1, 0); /* libbpf's epoll set: just clear it */
		tb_pa_agent_events(&app->agent);
	}
}

static int run(app_t *app, tb_pa_print_t *pr, tb_pa_kafka_out_t *ko)
{
	int64_t drain_ms = tb_config_duration_ms(app->svc.cfg, "drain-interval");
	int64_t flush_ms = tb_config_duration_ms(app->svc.cfg, "flush-interval");
	int64_t duration = tb_config_duration_ms(app->svc.cfg, "duration");
	int64_t start = mono_ms(), next_drain = start + drain_ms, next_flush = start + flush_ms;
	int rc = TB_EXIT_OK;

	while (!tb_service_stopping(&app->svc)) {
		int64_t now = mono_ms(), wake = next_drain < next_flush ? next_drain : next_flush;

		if (duration > 0 && now - start >= duration)
			break;
		if (wake > now)
			wait_events(app, (int)(wake - now));
		if (tb_service_stopping(&app->svc))
			break;
		poll_findings(app);
		now = mono_ms();
		if (now >= next_flush) {
			if (flush(app, pr, ko) < 0)
				rc = TB_EXIT_FAILURE;
			next_flush = now + flush_ms;
			next_drain = now + drain_ms;
		} else if (now >= next_drain) {
			tb_pa_agent_drain(&app->agent);
			next_drain = now + drain_ms;
		}
		if (rc != TB_EXIT_OK)
			break;
	}
	if (flush(app, pr, ko) < 0) /* the last window, whatever stopped us */
		rc = TB_EXIT_FAILURE;
	return rc;
}

/* ---- setup ---------------------------------------------------------------------------- */

static int open_kafka(app_t *app, tb_err_t *err)
{
	const char *in[] = {TB_TOPIC_FINDINGS, TB_TOPIC_ARTIFACTS};
	const char *out[] = {TB_TOPIC_PROBE_RAW};
	char group[512];
	int findings = tb_config_bool(app->svc.cfg, "findings");

	/* A group of our own that never commits: every start reads the
	 * compacted topics from the beginning. */
	snprintf(group, sizeof(group), "tb-probe-agent.%s.%d.%lld", app->node, (int)getpid(),
		 (long long)time(NULL));
	return tb_stage_kafka_open(&app->svc, group, in, 2, out, 1, findings ? &app->consumer : NULL,
				   &app->producer, err);
}

static int setup_agent(app_t *app, tb_err_t *err)
{
	const char *watch = tb_config_str(app->svc.cfg, "watch-file");
	tb_pa_conf_t ac = {
	    .node = app->node,
	    .boot_id = app->boot_id,
	    .agent_version = VERSION,
	    .proc_root = "/proc",
	    .container_filter = app->containers,
	    .n_container_filter = app->n_containers,
	    .cgroup_filter = app->cgroups,
	    .n_cgroup_filter = app->n_cgroups,
	    .batch_bytes = (size_t)tb_config_int(app->svc.cfg, "batch-bytes"),
	    .max_symtabs = (size_t)tb_config_int(app->svc.cfg, "symbol-cache"),
	};

	if (tb_pa_agent_init(&app->agent, &ac, app->svc.metrics, err) < 0)
		return -1;
	if (watch && tb_pa_watch_load_file(app->agent.watch, watch, err) < 0)
		return -1;
	return 0;
}

static void log_start(app_t *app)
{
	tb_info("probe-agent on %s: sampling %d CPUs at %lld Hz (samples ring %zu KiB), uprobes via %s, %zu "
		"watch "
		"entries, output %s",
		app->node, tb_pa_bpf_cpus(app->bpf), (long long)tb_config_int(app->svc.cfg, "frequency"),
		tb_pa_bpf_ring_size(app->bpf) >> 10,
		tb_pa_bpf_has_multi(app->bpf) ? "uprobe_multi" : "single uprobes",
		tb_pa_watch_count(app->agent.watch),
		tb_config_bool(app->svc.cfg, "dry-run") ? "stdout (dry-run)" : TB_TOPIC_PROBE_RAW);
}

static void cleanup(app_t *app)
{
	tb_kafka_batch_clear(&app->kbatch, 1);
	if (app->consumer)
		tb_kafka_consumer_close(app->consumer, NULL, NULL);
	tb_kafka_producer_free(app->producer); /* flushes what is still queued */
	tb_pa_uprobes_free(app->agent.uprobes);
	tb_pa_bpf_close(app->bpf);
	tb_pa_agent_destroy(&app->agent);
	tb_avro_registry_free(app->reg);
	free(app->list_buf);
}

static int config_error(const tb_err_t *err)
{
	fprintf(stderr, "tb-probe-agent: %s\n", err->msg);
	tb_error("%s", err->msg);
	return TB_EXIT_CONFIG;
}

/* Options, privileges, identity, the agent core: 0 or an exit code. */
static int prepare(app_t *app)
{
	tb_err_t err;

	tb_err_clear(&err);
	if (check_options(app, &err) < 0)
		return config_error(&err);
	if (!privileges_ok())
		return EXIT_BPF;
	read_identity(app);
	if (setup_agent(app, &err) < 0)
		return config_error(&err);
	return 0;
}

/* Kafka (unless dry-run), BPF, uprobes, the initial scan: 0 or an exit code. */
static int start(app_t *app, int dry)
{
	tb_err_t err;

	tb_err_clear(&err);
	app->reg = tb_avro_registry_new(&err);
	if (!app->reg) {
		tb_error("%s", err.msg);
		return TB_EXIT_FAILURE;
	}
	if (!dry && open_kafka(app, &err) < 0) {
		tb_error("%s", err.msg);
		return TB_EXIT_UNREACHABLE;
	}
	app->dropped =
	    tb_metrics_counter(app->svc.metrics, "windows_failed_total", "windows whose output failed", NULL);
	app->bpf = load_bpf(app, &err);
	if (!app->bpf) {
		fprintf(stderr, "tb-probe-agent: the kernel refused BPF: %s\n", err.msg);
		tb_error("the kernel refused BPF: %s", err.msg);
		return EXIT_BPF;
	}
	app->agent.bpf = app->bpf;
	app->agent.uprobes = tb_pa_uprobes_new(app->bpf);
	if (!app->agent.uprobes)
		return TB_EXIT_FAILURE;
	if (tb_config_bool(app->svc.cfg, "initial-scan"))
		tb_pa_agent_scan(&app->agent, app->pids, app->n_pids);
	tb_pa_agent_reconcile(&app->agent);
	log_start(app);
	return 0;
}

int main(int argc, char **argv)
{
	static app_t app; /* large; main's only instance, not shared state */
	tb_pa_print_t pr = {.f = stdout};
	tb_pa_kafka_out_t ko = {0};
	int dry, rc;
	tb_err_t err;

	if (tb_service_init(&app.svc, "probe-agent", VERSION, options, argc, argv) != 0)
		return app.svc.exit_code;
	dry = tb_config_bool(app.svc.cfg, "dry-run");
	pr.format =
	    strcmp(tb_config_str(app.svc.cfg, "dry-run-format"), "json") == 0 ? TB_PA_JSON : TB_PA_FOLDED;
	rc = prepare(&app);
	if (rc == 0 && tb_config_bool(app.svc.cfg, "check")) {
		rc = run_check(&app);
		goto out;
	}
	if (rc == 0)
		rc = start(&app, dry);
	if (rc != 0)
		goto out;
	tb_service_set_ready(&app.svc, true, NULL);
	ko = (tb_pa_kafka_out_t){.producer = app.producer, .reg = app.reg};
	rc = run(&app, dry ? &pr : NULL, &ko);
	if (app.producer && tb_kafka_producer_flush(app.producer, 30000, &err) < 0) {
		tb_error("Kafka: %s", err.msg);
		rc = TB_EXIT_FAILURE;
	}
	tb_info("stopped after %lld batches", (long long)app.agent.seq);
out:
	cleanup(&app);
	tb_service_shutdown(&app.svc);
	return rc;
}
