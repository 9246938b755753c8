/*
 * agent.c — record handling, drain and flush (see agent.h).
 *
 * Times: BPF stamps records with CLOCK_BOOTTIME; they leave as Unix epoch
 * ns through an offset (realtime - boottime) refreshed at every drain, so
 * a clock step moves later records, never earlier ones already sent.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "agent.h"
#include "tb/elf.h"
#include "tb/log.h"

static int64_t ts_of(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int64_t tb_pa_agent_clock(tb_pa_agent_t *a)
{
	int64_t boot = ts_of(CLOCK_BOOTTIME), real = ts_of(CLOCK_REALTIME);

	a->boot_to_epoch = real - boot;
	tb_pa_procs_set_clock(a->procs, a->boot_to_epoch);
	return real;
}

static void register_metrics(tb_pa_metrics_t *m, tb_metrics_t *r)
{
	m->samples = tb_metrics_counter(r, "samples_total", "perf samples received", NULL);
	m->stacks = tb_metrics_counter(r, "stacks_total", "distinct stacks per window (folded)", NULL);
	m->filtered =
	    tb_metrics_counter(r, "samples_filtered_total", "samples dropped by the container filter", NULL);
	m->malformed =
	    tb_metrics_counter(r, "records_malformed_total", "ring buffer records too short", NULL);
	m->batches = tb_metrics_counter(r, "batches_total", "ProbeBatch records emitted", NULL);
	m->loads = tb_metrics_counter(r, "loads_total", "load records emitted", NULL);
	m->uprobe_hits = tb_metrics_counter(r, "uprobe_hits_total", "uprobe hits counted", NULL);
	m->lost_samples = tb_metrics_counter(r, "lost_samples_total", "samples lost or without stack", NULL);
	m->lost_events = tb_metrics_counter(r, "lost_events_total", "exec/exit/mmap events lost", NULL);
	m->lost_uprobe_keys = tb_metrics_counter(r, "uprobe_unstacked_hits_total",
						 "uprobe hits counted without their stack", NULL);
	m->unmapped = tb_metrics_counter(r, "frames_unmapped_total", "user frames in no mapping", NULL);
	m->anon = tb_metrics_counter(r, "frames_anon_total", "user frames in anonymous memory", NULL);
	m->symbolized =
	    tb_metrics_counter(r, "frames_symbolized_total", "user frames symbolized locally", NULL);
	m->user_frames = tb_metrics_counter(r, "frames_user_total", "user frames normalized", NULL);
	m->kernel_unresolved =
	    tb_metrics_counter(r, "frames_kernel_unresolved_total", "kernel frames not in kallsyms", NULL);
	m->procs_exec = tb_metrics_counter(r, "process_exec_total", "exec events", NULL);
	m->procs_exit = tb_metrics_counter(r, "process_exit_total", "exit events", NULL);
	m->mmaps = tb_metrics_counter(r, "mmap_exec_total", "executable file mmap events", NULL);
}

static void add(tb_metric_t *m, uint64_t n)
{
	if (m && n)
		tb_metric_add(m, n);
}

static void module_hook(void *ctx, uint32_t pid, const tb_pa_map_t *map, tb_pa_module_t *mod);

int tb_pa_agent_init(tb_pa_agent_t *a, const tb_pa_conf_t *conf, tb_metrics_t *metrics, tb_err_t *err)
{
	tb_pa_elfcache_conf_t ec = {.proc_root = conf->proc_root, .max_symtabs = conf->max_symtabs};
	tb_err_t kerr;

	memset(a, 0, sizeof(*a));
	a->conf = *conf;
	if (metrics)
		register_metrics(&a->m, metrics);
	a->ksyms = tb_pa_ksyms_load("/proc/kallsyms", &kerr);
	if (!a->ksyms)
		tb_warn("kernel frames stay unresolved: %s", kerr.msg);
	else if (tb_pa_ksyms_count(a->ksyms) == 0)
		tb_warn("kernel frames stay unresolved: /proc/kallsyms shows no addresses (kptr_restrict?)");
	a->elf = tb_pa_elfcache_new(&ec, err);
	if (!a->elf)
		return -1;
	a->procs = tb_pa_procs_new(
	    &(tb_pa_procs_conf_t){.proc_root = conf->proc_root, .node = conf->node, .elf = a->elf}, err);
	a->fold = tb_pa_fold_new();
	a->watch = tb_pa_watch_new();
	if (!a->procs || !a->fold || !a->watch)
		return tb_err(err, "agent: out of memory");
	tb_pa_procs_set_module_hook(a->procs, module_hook, a);
	a->window_start_ns = tb_pa_agent_clock(a);
	return 0;
}

void tb_pa_agent_destroy(tb_pa_agent_t *a)
{
	tb_pa_fold_free(a->fold);
	tb_pa_procs_free(a->procs);
	tb_pa_elfcache_free(a->elf);
	tb_pa_ksyms_free(a->ksyms);
	tb_pa_watch_free(a->watch);
	memset(a, 0, sizeof(*a));
}

int tb_pa_agent_container_ok(const tb_pa_agent_t *a, const tb_pa_proc_t *p)
{
	if (a->conf.n_container_filter == 0)
		return 1;
	for (size_t i = 0; i < a->conf.n_container_filter; i++) {
		const char *want = a->conf.container_filter[i];

		if (p->container.id[0] && strncmp(p->container.id, want, strlen(want)) == 0)
			return 1;
	}
	return 0;
}

/* ---- records ------------------------------------------------------------------ */

static void normalize_new(tb_pa_agent_t *a, tb_pa_stack_t *s, tb_pa_proc_t *p, int64_t now)
{
	tb_pa_norm_stats_t st = {0};

	if (p->maps_stale)
		tb_pa_procs_refresh(a->procs, p, 0, now);
	if (tb_pa_normalize_kernel(a->ksyms, s->ips, s->n_kernel, &s->kframes, &st) == 0)
		s->n_kframes = s->n_kernel;
	if (tb_pa_normalize_user(a->procs, a->elf, p, s->ips + s->n_kernel, s->n_user, now, &s->uframes,
				 &st) == 0)
		s->n_uframes = s->n_user;
	add(a->m.user_frames, st.user_frames);
	add(a->m.unmapped, st.unmapped);
	add(a->m.anon, st.anon);
	add(a->m.symbolized, st.symbolized);
	add(a->m.kernel_unresolved, st.kernel_unresolved);
	add(a->m.stacks, 1);
}

int tb_pa_agent_on_sample(void *ctx, const void *rec, size_t size)
{
	tb_pa_agent_t *a = ctx;
	const struct tb_pev_sample *s = rec;
	tb_pa_proc_t *p;
	tb_pa_stack_t *st;
	int64_t ts;
	int is_new;

	if (size < TB_PEV_SAMPLE_HEADER || s->n_kernel > TB_PROBE_MAX_DEPTH ||
	    s->n_user > TB_PROBE_MAX_DEPTH ||
	    size < TB_PEV_SAMPLE_HEADER + (size_t)(s->n_kernel + s->n_user) * sizeof(__u64)) {
		add(a->m.malformed, 1);
		return 0;
	}
	add(a->m.samples, 1);
	p = tb_pa_procs_get(a->procs, s->pid, s->comm, s->cgroup_id);
	if (!p)
		return 0;
	if (!tb_pa_agent_container_ok(a, p)) {
		add(a->m.filtered, 1);
		return 0;
	}
	ts = (int64_t)s->ts_ns + a->boot_to_epoch;
	st = tb_pa_fold_add(a->fold, s->pid, s->tid, s->cpu, ts, (const uint64_t *)s->ips, s->n_kernel,
			    s->n_user, &is_new);
	if (!st)
		return 0;
	if (is_new)
		normalize_new(a, st, p, ts);
	tb_pa_procs_use(a->procs, p);
	return 0;
}

int tb_pa_agent_on_event(void *ctx, const void *rec, size_t size)
{
	tb_pa_agent_t *a = ctx;
	const __u32 *type = rec;

	if (*type == TB_PEV_EXEC || *type == TB_PEV_EXIT) {
		const struct tb_pev_task *t = rec;
		char comm[TB_PROBE_COMM_LEN + 1];

		if (size < sizeof(*t)) {
			add(a->m.malformed, 1);
			return 0;
		}
		memcpy(comm, t->comm, TB_PROBE_COMM_LEN);
		comm[TB_PROBE_COMM_LEN] = '\0';
		if (*type == TB_PEV_EXEC) {
			add(a->m.procs_exec, 1);
			tb_pa_procs_exec(a->procs, t->pid, comm, t->cgroup_id,
					 (int64_t)t->ts_ns + a->boot_to_epoch);
		} else {
			add(a->m.procs_exit, 1);
			tb_pa_procs_exit(a->procs, t->pid, (int64_t)t->ts_ns + a->boot_to_epoch);
		}
		return 0;
	}
	if (*type == TB_PEV_MMAP) {
		const struct tb_pev_mmap *m = rec;
		char name[TB_PROBE_NAME_LEN + 1];

		if (size < sizeof(*m)) {
			add(a->m.malformed, 1);
			return 0;
		}
		memcpy(name, m->name, TB_PROBE_NAME_LEN);
		name[TB_PROBE_NAME_LEN] = '\0';
		add(a->m.mmaps, 1);
		tb_pa_procs_mmap(a->procs, m->pid, m->dev, m->ino, name,
				 (int64_t)m->ts_ns + a->boot_to_epoch);
		return 0;
	}
	add(a->m.malformed, 1);
	return 0;
}

/* ---- uprobe resolution --------------------------------------------------------- */

static void try_module(tb_pa_agent_t *a, uint32_t pid, const tb_pa_map_t *map, tb_pa_module_t *mod)
{
	uint64_t ver = tb_pa_watch_version(a->watch);
	char **syms = NULL, path[1024];
	size_t n;
	tb_err_t err;

	if (!a->uprobes || tb_pa_watch_count(a->watch) == 0 || tb_pa_uprobes_seen(a->uprobes, mod->key, ver))
		return;
	tb_pa_uprobes_mark_seen(a->uprobes, mod->key, ver);
	n = tb_pa_watch_symbols_for(a->watch, mod->path, mod->build_id, &syms);
	if (n > 0 && tb_pa_elfcache_open_path(a->elf, pid, map, path, sizeof(path)) == 0 &&
	    tb_pa_uprobes_ensure(a->uprobes, mod->key, path, mod->path, mod->build_id, syms, n, &err) < 0)
		tb_warn("uprobes in %s: %s", mod->path, err.msg);
	free(syms);
}

static void module_hook(void *ctx, uint32_t pid, const tb_pa_map_t *map, tb_pa_module_t *mod)
{
	try_module(ctx, pid, map, mod);
}

/* A path from the watch list or an artifact, probed even if nothing runs it. */
static void try_path(tb_pa_agent_t *a, const char *path)
{
	uint64_t ver = tb_pa_watch_version(a->watch);
	char key[96], **syms = NULL;
	const char *bid = NULL;
	struct stat st;
	tb_elf_t *e;
	tb_err_t err;
	size_t n;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	snprintf(key, sizeof(key), "%u:%u:%llu", major(st.st_dev), minor(st.st_dev),
		 (unsigned long long)st.st_ino);
	if (tb_pa_uprobes_seen(a->uprobes, key, ver))
		return;
	tb_pa_uprobes_mark_seen(a->uprobes, key, ver);
	e = tb_elf_open(path, &err);
	if (!e) {
		tb_warn("watched binary %s: %s", path, err.msg);
		return;
	}
	if (tb_elf_build_id(e)[0])
		bid = tb_elf_build_id(e);
	n = tb_pa_watch_symbols_for(a->watch, path, bid, &syms);
	if (n > 0 && tb_pa_uprobes_ensure(a->uprobes, key, path, path, bid, syms, n, &err) < 0)
		tb_warn("uprobes in %s: %s", path, err.msg);
	free(syms);
	tb_elf_close(e);
}

void tb_pa_agent_reconcile(tb_pa_agent_t *a)
{
	char **paths = NULL;
	tb_pa_proc_t **procs = NULL;
	size_t n;

	if (!a->uprobes || a->watch_resolved == tb_pa_watch_version(a->watch))
		return;
	a->watch_resolved = tb_pa_watch_version(a->watch);
	n = tb_pa_watch_paths(a->watch, &paths);
	for (size_t i = 0; i < n; i++)
		try_path(a, paths[i]);
	free(paths);
	/* Files mapped by the processes we know (every one, not just this window's). */
	n = tb_pa_procs_all(a->procs, &procs);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < procs[i]->maps.n; j++) {
			const tb_pa_map_t *m = &procs[i]->maps.v[j];
			tb_pa_module_t *mod =
			    tb_pa_map_is_file(m) ? tb_pa_elfcache_module(a->elf, procs[i]->pid, m) : NULL;

			if (mod)
				try_module(a, procs[i]->pid, m, mod);
		}
	}
	free(procs);
}

/* ---- drain, scan ------------------------------------------------------------------- */

void tb_pa_agent_drain(tb_pa_agent_t *a)
{
	int64_t now = tb_pa_agent_clock(a);

	tb_pa_procs_next_gen(a->procs);
	if (a->bpf)
		tb_pa_bpf_drain(a->bpf);
	tb_pa_procs_refresh_stale(a->procs, now);
	tb_pa_agent_reconcile(a);
}

void tb_pa_agent_events(tb_pa_agent_t *a)
{
	int64_t now = tb_pa_agent_clock(a);

	if (!a->bpf)
		return;
	tb_pa_bpf_drain_events(a->bpf);
	tb_pa_procs_refresh_stale(a->procs, now);
}

typedef struct scan_ctx {
	tb_pa_agent_t *a;
	const uint32_t *pids;
	size_t n_pids;
} scan_ctx_t;

static int scan_keep(void *ctx, tb_pa_proc_t *p)
{
	scan_ctx_t *c = ctx;
	int pid_ok = c->n_pids == 0;

	for (size_t i = 0; i < c->n_pids && !pid_ok; i++)
		pid_ok = c->pids[i] == p->pid;
	if (c->a->conf.n_cgroup_filter &&
	    !tb_pa_procs_in_cgroups(c->a->procs, p, c->a->conf.cgroup_filter, c->a->conf.n_cgroup_filter))
		return 0;
	return pid_ok && !p->gone && tb_pa_agent_container_ok(c->a, p);
}

void tb_pa_agent_scan(tb_pa_agent_t *a, const uint32_t *pids, size_t n_pids)
{
	scan_ctx_t c = {.a = a, .pids = pids, .n_pids = n_pids};

	tb_pa_procs_scan(a->procs, scan_keep, &c, tb_pa_agent_clock(a));
}

/* ---- flush ------------------------------------------------------------------------- */

static int alive(void *ctx, uint32_t pid)
{
	(void)ctx;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Uprobe counts of the window, stacks normalized. */
static size_t uprobe_counts(tb_pa_agent_t *a, tb_probe_uprobe_count_t **out, int64_t now)
{
	tb_pa_uhit_t *h = NULL;
	tb_probe_uprobe_count_t *v;
	size_t n = 0;
	tb_err_t err;

	*out = NULL;
	if (!a->uprobes || tb_pa_uprobes_collect(a->uprobes, alive, a, &h, &n, &err) < 0 || n == 0) {
		free(h);
		return 0;
	}
	v = calloc(n, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) {
		const tb_pa_probe_t *p = h[i].probe;
		tb_pa_proc_t *proc = h[i].pid ? tb_pa_procs_find(a->procs, h[i].pid) : NULL;
		tb_pa_norm_stats_t st = {0};

		v[i].build_id = p->build_id;
		v[i].binary = p->binary;
		v[i].symbol = p->symbol;
		v[i].file_offset = p->file_offset;
		v[i].hits = h[i].hits;
		v[i].attached = p->attached;
		add(a->m.uprobe_hits, (uint64_t)h[i].hits);
		if (proc && !proc->gone && h[i].n_ips &&
		    tb_pa_normalize_user(a->procs, a->elf, proc, h[i].ips, h[i].n_ips, now, &v[i].stack,
					 &st) == 0)
			v[i].n_stack = h[i].n_ips;
	}
	free(h);
	*out = v;
	return v ? n : 0;
}

static void free_ucounts(tb_probe_uprobe_count_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tb_pa_uframes_free(v[i].stack, v[i].n_stack); /* the rest is borrowed from the probes */
	free(v);
}

static void read_losses(tb_pa_agent_t *a, tb_pa_window_t *w)
{
	uint64_t now[TB_LOST_MAX], d[TB_LOST_MAX];

	if (!a->bpf)
		return;
	tb_pa_bpf_lost(a->bpf, now);
	for (int i = 0; i < TB_LOST_MAX; i++) {
		d[i] = now[i] - a->lost_prev[i];
		a->lost_prev[i] = now[i];
	}
	w->lost_samples = (int64_t)(d[TB_LOST_SAMPLES] + d[TB_LOST_KSTACK] + d[TB_LOST_USTACK]);
	w->lost_events = (int64_t)d[TB_LOST_EVENTS];
	add(a->m.lost_samples, (uint64_t)w->lost_samples);
	add(a->m.lost_events, (uint64_t)w->lost_events);
	add(a->m.lost_uprobe_keys, d[TB_LOST_UPROBE_KEYS]);
}

int tb_pa_agent_flush(tb_pa_agent_t *a, tb_pa_emit_fn emit, void *ctx, tb_err_t *err)
{
	tb_pa_window_t w = {.node = a->conf.node,
			    .boot_id = a->conf.boot_id,
			    .agent_version = a->conf.agent_version,
			    .fold = a->fold,
			    .max_bytes = a->conf.batch_bytes};
	int rc;

	tb_pa_agent_drain(a);
	w.start_ns = a->window_start_ns;
	w.end_ns = tb_pa_agent_clock(a);
	w.n_ucounts = uprobe_counts(a, &w.ucounts, w.end_ns);
	read_losses(a, &w);
	tb_pa_procs_take_loads(a->procs, &w.loads, &w.n_loads);
	w.n_procs = tb_pa_procs_window(a->procs, &w.procs);
	rc = tb_pa_batch_emit(&w, &a->seq, emit, ctx, err);
	if (rc > 0)
		add(a->m.batches, (uint64_t)rc);
	add(a->m.loads, w.n_loads);
	free(w.procs);
	free_ucounts(w.ucounts, w.n_ucounts);
	tb_pa_loads_free(w.loads, w.n_loads);
	tb_pa_fold_reset(a->fold);
	tb_pa_procs_end_window(a->procs);
	a->window_start_ns = w.end_ns;
	return rc;
}
