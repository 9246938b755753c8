/*
 * bpf.c — skeleton load, perf events, ring buffers, uprobes (see bpf.h).
 *
 * The uprobe_multi program must be loaded with expected_attach_type
 * BPF_TRACE_UPROBE_MULTI; a kernel that does not know that type refuses
 * the whole object, so on failure the skeleton is opened again without
 * that program and uprobes fall back to one perf_event link each.
 * libbpf's messages go to our JSON log (warnings as warn, debug as debug).
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf.h"
#include "probe.skel.h"
#include "tb/log.h"

#ifndef BPF_TRACE_UPROBE_MULTI_ATTACH
#define BPF_TRACE_UPROBE_MULTI_ATTACH 48 /* enum bpf_attach_type, Linux 6.6 */
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* The link_create part of union bpf_attr for uprobe_multi (kernel ABI). */
struct tb_link_create_umulti {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 umulti_flags;
	__u32 pid;
	__u32 pad;
};

struct tb_pa_bpf {
	struct probe_bpf *skel;
	struct bpf_link **perf_links;
	int *perf_fds;
	int n_perf;
	struct bpf_link *tp_links[3];
	struct ring_buffer *rb_samples;
	struct ring_buffer *rb_events;
	int has_multi;
	int ncpus;
	tb_pa_bpf_conf_t conf; /* the ring buffer callbacks' context */
};

struct tb_pa_ulink {
	int multi_fd;		 /* uprobe_multi link, or -1 */
	struct bpf_link **links; /* single uprobes */
	size_t n_links;
};

/* ---- logging & capabilities --------------------------------------------- */

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (level == LIBBPF_WARN)
		tb_warn("libbpf: %s", msg);
	else
		tb_debug("libbpf: %s", msg);
	return 0;
}

int tb_pa_bpf_check_caps(char *missing, size_t cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	static const struct {
		int cap;
		const char *name;
	} need[] = {{CAP_BPF, "CAP_BPF"}, {CAP_PERFMON, "CAP_PERFMON"}, {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}};
	size_t len = 0;

	missing[0] = '\0';
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		int c = need[i].cap;

		if (data[c / 32].effective & (1u << (c % 32)))
			continue;
		len += (size_t)snprintf(missing + len, len < cap ? cap - len : 0, "%s%s", len ? ", " : "",
					need[i].name);
	}
	return 0;
}

/* ---- open / close --------------------------------------------------------- */

static int set_filters(tb_pa_bpf_t *b, const tb_pa_bpf_conf_t *c, tb_err_t *err)
{
	__u8 one = 1;

	for (size_t i = 0; i < c->n_pids; i++)
		if (bpf_map__update_elem(b->skel->maps.pid_filter, &c->pids[i], sizeof(c->pids[i]), &one, 1,
					 BPF_ANY) < 0)
			return tb_err(err, "pid filter: %s", strerror(errno));
	for (size_t i = 0; i < c->n_cgroups; i++)
		if (bpf_map__update_elem(b->skel->maps.cgroup_filter, &c->cgroups[i], sizeof(c->cgroups[i]),
					 &one, 1, BPF_ANY) < 0)
			return tb_err(err, "cgroup filter: %s", strerror(errno));
	return 0;
}

size_t tb_pa_bpf_ring_bytes(int freq_hz, int64_t drain_ms, int ncpus)
{
	const size_t lo = 256 << 10, hi = 8 << 20;
	double need = (double)(freq_hz > 0 ? freq_hz : 0) * (double)(ncpus > 0 ? ncpus : 1) *
		      (double)sizeof(struct tb_pev_sample) * (double)(drain_ms > 0 ? drain_ms : 1) / 1000.0 *
		      4;
	size_t bytes = lo;

	while (bytes < hi && (double)bytes < need)
		bytes <<= 1;
	return bytes;
}

static struct probe_bpf *open_skel(const tb_pa_bpf_conf_t *c, int with_multi, tb_err_t *err)
{
	struct probe_bpf *s = probe_bpf__open();
	int r;

	if (!s) {
		tb_err(err, "open BPF object: %s", strerror(errno));
		return NULL;
	}
	s->rodata->filter_pids = c->n_pids > 0;
	s->rodata->filter_cgroups = c->n_cgroups > 0;
	bpf_map__set_max_entries(
	    s->maps.samples,
	    (__u32)(c->sample_ring_bytes
			? c->sample_ring_bytes
			: tb_pa_bpf_ring_bytes(c->freq_hz, c->drain_ms, libbpf_num_possible_cpus())));
	if (with_multi)
		bpf_program__set_expected_attach_type(s->progs.on_uprobe_multi,
						      (enum bpf_attach_type)BPF_TRACE_UPROBE_MULTI_ATTACH);
	else
		bpf_program__set_autoload(s->progs.on_uprobe_multi, false);
	r = probe_bpf__load(s);
	if (r) {
		tb_err(err, "load BPF programs: %s", strerror(-r > 0 ? -r : errno));
		probe_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static int open_perf_events(tb_pa_bpf_t *b, int freq, tb_err_t *err)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_CPU_CLOCK,
	    .sample_freq = (__u64)freq,
	    .freq = 1,
	};

	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return tb_err(err, "number of CPUs: %s", strerror(-b->ncpus));
	b->perf_fds = calloc((size_t)b->ncpus, sizeof(int));
	b->perf_links = calloc((size_t)b->ncpus, sizeof(struct bpf_link *));
	if (!b->perf_fds || !b->perf_links)
		return tb_err(err, "perf events: out of memory");
	for (int cpu = 0; cpu < b->ncpus; cpu++) {
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		b->perf_fds[cpu] = fd;
		if (fd < 0) {
			if (errno == ENODEV) /* CPU offline */
				continue;
			return tb_err(err, "perf_event_open(cpu-clock, %d Hz, cpu %d): %s", freq, cpu,
				      strerror(errno));
		}
		b->perf_links[cpu] = bpf_program__attach_perf_event(b->skel->progs.on_sample, fd);
		if (!b->perf_links[cpu])
			return tb_err(err, "attach sampler to cpu %d: %s", cpu, strerror(errno));
		b->n_perf++;
	}
	if (b->n_perf == 0)
		return tb_err(err, "perf_event_open(cpu-clock): no online CPU");
	return 0;
}

static int attach_tracepoints(tb_pa_bpf_t *b, tb_err_t *err)
{
	struct bpf_program *progs[3] = {b->skel->progs.on_exec, b->skel->progs.on_exit,
					b->skel->progs.on_sys_enter};

	for (int i = 0; i < 3; i++) {
		b->tp_links[i] = bpf_program__attach(progs[i]);
		if (!b->tp_links[i])
			return tb_err(err, "attach %s: %s", bpf_program__name(progs[i]), strerror(errno));
	}
	return 0;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	const tb_pa_bpf_conf_t *c = ctx;
	const __u32 *type = data;

	if (size < sizeof(*type))
		return 0;
	if (*type == TB_PEV_SAMPLE)
		return c->on_sample ? c->on_sample(c->ctx, data, size) : 0;
	return c->on_event ? c->on_event(c->ctx, data, size) : 0;
}

tb_pa_bpf_t *tb_pa_bpf_open(const tb_pa_bpf_conf_t *conf, tb_err_t *err)
{
	tb_pa_bpf_t *b = calloc(1, sizeof(*b));
	tb_err_t first;

	if (!b) {
		tb_err(err, "BPF: out of memory");
		return NULL;
	}
	b->conf = *conf;
	b->conf.pids = NULL; /* only needed while loading */
	b->conf.cgroups = NULL;
	libbpf_set_print(libbpf_log);
	b->skel = conf->no_uprobe_multi ? NULL : open_skel(conf, 1, &first);
	b->has_multi = b->skel != NULL;
	if (!b->skel) {
		if (!conf->no_uprobe_multi)
			tb_info("uprobe_multi not available (%s); falling back to single uprobes", first.msg);
		b->skel = open_skel(conf, 0, err);
	}
	if (!b->skel)
		goto fail;
	if (set_filters(b, conf, err) < 0 || attach_tracepoints(b, err) < 0)
		goto fail;
	b->rb_events = ring_buffer__new(bpf_map__fd(b->skel->maps.events), ring_cb, &b->conf, NULL);
	b->rb_samples = ring_buffer__new(bpf_map__fd(b->skel->maps.samples), ring_cb, &b->conf, NULL);
	if (!b->rb_events || !b->rb_samples) {
		tb_err(err, "ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (conf->freq_hz > 0 && open_perf_events(b, conf->freq_hz, err) < 0)
		goto fail;
	return b;
fail:
	tb_pa_bpf_close(b);
	return NULL;
}

void tb_pa_bpf_close(tb_pa_bpf_t *b)
{
	if (!b)
		return;
	for (int i = 0; b->perf_links && i < b->ncpus; i++)
		bpf_link__destroy(b->perf_links[i]);
	for (int i = 0; b->perf_fds && i < b->ncpus; i++)
		if (b->perf_fds[i] >= 0)
			close(b->perf_fds[i]);
	free(b->perf_links);
	free(b->perf_fds);
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(b->tp_links[i]);
	ring_buffer__free(b->rb_samples);
	ring_buffer__free(b->rb_events);
	probe_bpf__destroy(b->skel);
	free(b);
}

/* ---- running ---------------------------------------------------------------- */

int tb_pa_bpf_drain(tb_pa_bpf_t *b)
{
	int n = 0, r;

	r = ring_buffer__consume(b->rb_events);
	if (r > 0)
		n += r;
	r = ring_buffer__consume(b->rb_samples);
	if (r > 0)
		n += r;
	return n;
}

int tb_pa_bpf_drain_events(tb_pa_bpf_t *b)
{
	int r = ring_buffer__consume(b->rb_events);

	return r > 0 ? r : 0;
}

int tb_pa_bpf_events_fd(const tb_pa_bpf_t *b)
{
	return ring_buffer__epoll_fd(b->rb_events);
}

void tb_pa_bpf_lost(tb_pa_bpf_t *b, uint64_t out[TB_LOST_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*vals));

	for (__u32 i = 0; i < TB_LOST_MAX; i++) {
		out[i] = 0;
		if (!vals || bpf_map__lookup_elem(b->skel->maps.lost, &i, sizeof(i), vals,
						  (size_t)ncpu * sizeof(*vals), 0) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
}

int tb_pa_bpf_cpus(const tb_pa_bpf_t *b)
{
	return b->n_perf;
}

int tb_pa_bpf_has_multi(const tb_pa_bpf_t *b)
{
	return b->has_multi;
}

size_t tb_pa_bpf_ring_size(const tb_pa_bpf_t *b)
{
	return bpf_map__max_entries(b->skel->maps.samples);
}

int tb_pa_bpf_uhits_fd(const tb_pa_bpf_t *b)
{
	return bpf_map__fd(b->skel->maps.uhits);
}

int tb_pa_bpf_ucounts_fd(const tb_pa_bpf_t *b)
{
	return bpf_map__fd(b->skel->maps.ucounts);
}

int tb_pa_bpf_ustacks_fd(const tb_pa_bpf_t *b)
{
	return bpf_map__fd(b->skel->maps.ustacks);
}

/* ---- uprobes ---------------------------------------------------------------- */

static int multi_link(tb_pa_bpf_t *b, const char *path, const uint64_t *offsets, const uint32_t *ids,
		      size_t n, tb_err_t *err)
{
	struct tb_link_create_umulti attr;
	__u64 *cookies = calloc(n, sizeof(*cookies));
	int fd;

	if (!cookies)
		return tb_err(err, "uprobe_multi: out of memory");
	for (size_t i = 0; i < n; i++)
		cookies[i] = ids[i];
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)bpf_program__fd(b->skel->progs.on_uprobe_multi);
	attr.attach_type = BPF_TRACE_UPROBE_MULTI_ATTACH;
	attr.path = (__u64)(uintptr_t)path;
	attr.offsets = (__u64)(uintptr_t)offsets;
	attr.cookies = (__u64)(uintptr_t)cookies;
	attr.cnt = (__u32)n;
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		tb_err(err, "uprobe_multi link on %s (%zu offsets): %s", path, n, strerror(errno));
	free(cookies);
	return fd;
}

tb_pa_ulink_t *tb_pa_bpf_attach_uprobes(tb_pa_bpf_t *b, const char *path, const uint64_t *offsets,
					const uint32_t *ids, size_t n, tb_err_t *err)
{
	tb_pa_ulink_t *l = calloc(1, sizeof(*l));

	if (!l) {
		tb_err(err, "uprobes: out of memory");
		return NULL;
	}
	l->multi_fd = -1;
	if (b->has_multi) {
		l->multi_fd = multi_link(b, path, offsets, ids, n, err);
		if (l->multi_fd >= 0)
			return l;
		free(l);
		return NULL;
	}
	l->links = calloc(n, sizeof(struct bpf_link *));
	if (!l->links) {
		free(l);
		tb_err(err, "uprobes: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct bpf_uprobe_opts o;

		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.bpf_cookie = ids[i];
		l->links[i] = bpf_program__attach_uprobe_opts(b->skel->progs.on_uprobe, -1, path,
							      (size_t)offsets[i], &o);
		if (!l->links[i]) {
			tb_err(err, "uprobe on %s+0x%llx: %s", path, (unsigned long long)offsets[i],
			       strerror(errno));
			tb_pa_bpf_detach(l);
			return NULL;
		}
		l->n_links++;
	}
	return l;
}

void tb_pa_bpf_detach(tb_pa_ulink_t *l)
{
	if (!l)
		return;
	if (l->multi_fd >= 0)
		close(l->multi_fd);
	for (size_t i = 0; i < l->n_links; i++)
		bpf_link__destroy(l->links[i]);
	free(l->links);
	free(l);
}
