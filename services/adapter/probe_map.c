/*
 * probe_map.c — ProbeBatch -> RuntimeEvents (rules and the event-id recipe
 * are in probe_map.h).
 *
 * How it works: validate the whole batch, then build one tb_runtime_event_t
 * at a time on the stack, hand it to the caller's emit function and clear it
 * again, so memory stays bounded by one event whatever the batch size. All
 * strings are copied (the event owns them, as tb/records.h requires).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_map.h"
#include "tb/hash.h"

#define MAX_BUILD_ID_HEX 128

/* ---- validation ---------------------------------------------------------- */

static int empty(const char *s)
{
	return !s || !*s;
}

/* NULL/"" (unknown) is fine; otherwise lowercase hex, even length. */
static int bad_build_id(const char *bid)
{
	size_t n;

	if (empty(bid))
		return 0;
	n = strlen(bid);
	return n % 2 || n > MAX_BUILD_ID_HEX || strspn(bid, "0123456789abcdef") != n;
}

static int check_build_id(const char *bid, const char *what, size_t i, const char *field, tb_err_t *err)
{
	if (bad_build_id(bid))
		return tb_err(err, "%s[%zu].%s: '%.80s' is not a lowercase hex build-id", what, i, field,
			      bid);
	return 0;
}

static int check_uframes(const tb_probe_uframe_t *f, size_t n, const char *what, size_t i, const char *field,
			 tb_err_t *err)
{
	for (size_t j = 0; j < n; j++)
		if (bad_build_id(f[j].build_id))
			return tb_err(err,
				      "%s[%zu].%s[%zu].build_id: '%.80s' is not a lowercase hex build-id",
				      what, i, field, j, f[j].build_id);
	return 0;
}

static int check_processes(const tb_probe_batch_t *b, tb_err_t *err)
{
	for (size_t i = 0; i < b->n_processes; i++) {
		const tb_probe_process_t *p = &b->processes[i];

		if (empty(p->exec_id))
			return tb_err(err, "processes[%zu].exec_id: empty", i);
		if (check_build_id(p->binary_build_id, "processes", i, "binary_build_id", err) < 0)
			return -1;
	}
	return 0;
}

static int check_samples(const tb_probe_batch_t *b, tb_err_t *err)
{
	for (size_t i = 0; i < b->n_samples; i++) {
		const tb_probe_sample_t *s = &b->samples[i];

		if (s->count < 1)
			return tb_err(err, "samples[%zu].count: %lld, must be >= 1", i, (long long)s->count);
		if (s->first_ns < 0 || s->last_ns < s->first_ns)
			return tb_err(
			    err, "samples[%zu]: first_ns %lld / last_ns %lld: need 0 <= first_ns <= last_ns",
			    i, (long long)s->first_ns, (long long)s->last_ns);
		if (check_uframes(s->user_frames, s->n_user_frames, "samples", i, "user_frames", err) < 0)
			return -1;
	}
	return 0;
}

static int check_uprobes(const tb_probe_batch_t *b, tb_err_t *err)
{
	for (size_t i = 0; i < b->n_uprobe_counts; i++) {
		const tb_probe_uprobe_count_t *u = &b->uprobe_counts[i];

		if (u->hits < 0)
			return tb_err(err, "uprobe_counts[%zu].hits: %lld is negative", i,
				      (long long)u->hits);
		if (empty(u->binary))
			return tb_err(err, "uprobe_counts[%zu].binary: empty", i);
		if (empty(u->symbol))
			return tb_err(err, "uprobe_counts[%zu].symbol: empty", i);
		if (check_build_id(u->build_id, "uprobe_counts", i, "build_id", err) < 0 ||
		    check_uframes(u->stack, u->n_stack, "uprobe_counts", i, "stack", err) < 0)
			return -1;
	}
	return 0;
}

static int check_loads(const tb_probe_batch_t *b, tb_err_t *err)
{
	for (size_t i = 0; i < b->n_loads; i++) {
		const tb_probe_load_t *l = &b->loads[i];

		if (empty(l->path))
			return tb_err(err, "loads[%zu].path: empty", i);
		if (l->ts_ns < 0)
			return tb_err(err, "loads[%zu].ts_ns: %lld is negative", i, (long long)l->ts_ns);
		if (check_build_id(l->build_id, "loads", i, "build_id", err) < 0)
			return -1;
	}
	return 0;
}

int tb_probe_map_validate(const tb_probe_batch_t *b, tb_err_t *err)
{
	if (empty(b->node))
		return tb_err(err, "node: empty");
	if (empty(b->boot_id))
		return tb_err(err, "boot_id: empty");
	if (b->start_ns < 0 || b->end_ns < b->start_ns)
		return tb_err(err, "window: start_ns %lld / end_ns %lld: need 0 <= start_ns <= end_ns",
			      (long long)b->start_ns, (long long)b->end_ns);
	if (check_processes(b, err) < 0 || check_samples(b, err) < 0 || check_uprobes(b, err) < 0 ||
	    check_loads(b, err) < 0)
		return -1;
	return 0;
}

/* ---- event ids ----------------------------------------------------------- */

static void id_head(tb_hasher_t *h, const tb_probe_batch_t *b, const char *kind, int64_t cpu, int64_t ts_ns,
		    uint32_t pid, uint32_t tid)
{
	tb_hasher_init(h, "probe.event.v1");
	tb_hasher_str(h, kind);
	tb_hasher_str(h, b->node);
	tb_hasher_str(h, b->boot_id);
	tb_hasher_u64(h, (uint64_t)cpu);
	tb_hasher_u64(h, (uint64_t)ts_ns);
	tb_hasher_u64(h, pid);
	tb_hasher_u64(h, tid);
}

static void id_uframes(tb_hasher_t *h, const tb_probe_uframe_t *f, size_t n)
{
	tb_hasher_u64(h, n);
	for (size_t i = 0; i < n; i++) {
		tb_hasher_str(h, f[i].build_id);
		tb_hasher_u64(h, f[i].file_offset);
		tb_hasher_str(h, f[i].module);
		tb_hasher_u64(h, f[i].has_address ? 1 : 0);
		tb_hasher_u64(h, f[i].has_address ? f[i].address : 0);
	}
}

void tb_probe_sample_id(const tb_probe_batch_t *b, const tb_probe_sample_t *s, uint8_t out[TB_EVENT_ID_LEN])
{
	tb_hasher_t h;

	id_head(&h, b, "sample", s->cpu, s->first_ns, s->pid, s->tid);
	tb_hasher_u64(&h, (uint64_t)s->last_ns);
	tb_hasher_u64(&h, s->n_kernel_frames);
	for (size_t i = 0; i < s->n_kernel_frames; i++) {
		tb_hasher_str(&h, s->kernel_frames[i].symbol);
		tb_hasher_u64(&h, s->kernel_frames[i].offset);
		tb_hasher_str(&h, s->kernel_frames[i].module);
	}
	id_uframes(&h, s->user_frames, s->n_user_frames);
	tb_hasher_final128(&h, out);
}

void tb_probe_uprobe_id(const tb_probe_batch_t *b, const tb_probe_uprobe_count_t *u,
			uint8_t out[TB_EVENT_ID_LEN])
{
	tb_hasher_t h;

	id_head(&h, b, "uprobe", -1, b->start_ns, 0, 0);
	tb_hasher_u64(&h, (uint64_t)b->end_ns);
	tb_hasher_str(&h, u->build_id);
	tb_hasher_str(&h, u->binary);
	tb_hasher_str(&h, u->symbol);
	tb_hasher_u64(&h, u->file_offset);
	tb_hasher_final128(&h, out);
}

void tb_probe_load_id(const tb_probe_batch_t *b, const tb_probe_load_t *l, uint8_t out[TB_EVENT_ID_LEN])
{
	tb_hasher_t h;

	id_head(&h, b, "load", -1, l->ts_ns, l->pid, 0);
	tb_hasher_str(&h, l->path);
	tb_hasher_str(&h, l->build_id);
	tb_hasher_final128(&h, out);
}

/* ---- building events ----------------------------------------------------- */

/* Copies that record an out-of-memory in *oom instead of failing at once, so
 * the builders stay flat; empty strings become NULL ("absent"). */
static char *dup(const char *s, int *oom)
{
	char *d;

	if (empty(s))
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static char *bracketed(const char *module, int *oom)
{
	char *d;

	if (empty(module))
		return NULL;
	if (asprintf(&d, "[%s]", module) < 0) {
		*oom = 1;
		return NULL;
	}
	return d;
}

static const tb_probe_process_t *find_process(const tb_probe_batch_t *b, uint32_t pid, int64_t ts_ns)
{
	const tb_probe_process_t *first = NULL, *best = NULL;

	for (size_t i = 0; i < b->n_processes; i++) {
		const tb_probe_process_t *p = &b->processes[i];

		if (p->pid != pid)
			continue;
		if (!first)
			first = p;
		if (p->start_ns <= ts_ns && (!best || p->start_ns > best->start_ns))
			best = p;
	}
	return best ? best : first;
}

static void fill_process(tb_runtime_event_t *ev, const tb_probe_batch_t *b, uint32_t pid, uint32_t tid,
			 tb_probe_map_stats_t *st, int *oom)
{
	const tb_probe_process_t *p = find_process(b, pid, ev->ts_ns);

	ev->process.pid = pid;
	ev->process.tid = tid;
	ev->process.uid = -1;
	if (!p) {
		st->unknown_process++;
		return;
	}
	ev->process.exec_id = dup(p->exec_id, oom);
	ev->process.binary = dup(p->binary, oom);
	ev->process.binary_build_id = dup(p->binary_build_id, oom);
	ev->process.comm = dup(p->comm, oom);
	ev->container.id = dup(p->container_id, oom);
	ev->container.cgroup_id = p->cgroup_id;
}

static int begin(tb_runtime_event_t *ev, const tb_probe_batch_t *b, const tb_probe_map_opts_t *o,
		 const char *kind, int64_t ts_ns, int *oom)
{
	memset(ev, 0, sizeof(*ev));
	ev->tenant = dup(o && o->tenant && *o->tenant ? o->tenant : "default", oom);
	ev->source = dup("probe", oom);
	ev->kind = dup(kind, oom);
	ev->node = dup(b->node, oom);
	ev->ts_ns = ts_ns;
	ev->process.uid = -1;
	return *oom ? -1 : 0;
}

static size_t capped(size_t n, tb_probe_map_stats_t *st)
{
	if (n <= TB_MAX_FRAMES)
		return n;
	st->frames_dropped += n - TB_MAX_FRAMES;
	return TB_MAX_FRAMES;
}

static void fill_uframes(tb_runtime_event_t *ev, const tb_probe_uframe_t *f, size_t n,
			 tb_probe_map_stats_t *st, int *oom)
{
	n = capped(n, st);
	if (n == 0)
		return;
	ev->user_frames = calloc(n, sizeof(*ev->user_frames));
	if (!ev->user_frames) {
		*oom = 1;
		return;
	}
	ev->n_user_frames = n;
	for (size_t i = 0; i < n; i++) {
		tb_raw_frame_t *r = &ev->user_frames[i];

		r->build_id = dup(f[i].build_id, oom);
		r->offset = f[i].file_offset;
		r->module = dup(f[i].module, oom);
		r->symbol = dup(f[i].symbol, oom);
		r->has_address = f[i].has_address ? 1 : 0;
		r->address = f[i].has_address ? f[i].address : 0;
	}
}

static void fill_kframes(tb_runtime_event_t *ev, const tb_probe_kframe_t *f, size_t n,
			 tb_probe_map_stats_t *st, int *oom)
{
	n = capped(n, st);
	if (n == 0)
		return;
	ev->kernel_frames = calloc(n, sizeof(*ev->kernel_frames));
	if (!ev->kernel_frames) {
		*oom = 1;
		return;
	}
	ev->n_kernel_frames = n;
	for (size_t i = 0; i < n; i++) {
		ev->kernel_frames[i].symbol = dup(f[i].symbol, oom);
		ev->kernel_frames[i].offset = f[i].offset;
		ev->kernel_frames[i].module = bracketed(f[i].module, oom);
	}
}

static int map_sample(tb_runtime_event_t *ev, const tb_probe_batch_t *b, const tb_probe_sample_t *s,
		      const tb_probe_map_opts_t *o, tb_probe_map_stats_t *st)
{
	int oom = 0;

	if (begin(ev, b, o, "sample", s->first_ns, &oom) < 0)
		return -1;
	tb_probe_sample_id(b, s, ev->event_id);
	fill_process(ev, b, s->pid, s->tid, st, &oom);
	fill_kframes(ev, s->kernel_frames, s->n_kernel_frames, st, &oom);
	fill_uframes(ev, s->user_frames, s->n_user_frames, st, &oom);
	ev->count = s->count;
	return oom ? -1 : 0;
}

static int map_uprobe(tb_runtime_event_t *ev, const tb_probe_batch_t *b, const tb_probe_uprobe_count_t *u,
		      const tb_probe_map_opts_t *o, tb_probe_map_stats_t *st)
{
	int oom = 0;

	if (begin(ev, b, o, "uprobe", b->start_ns, &oom) < 0)
		return -1;
	tb_probe_uprobe_id(b, u, ev->event_id);
	ev->hook = dup(u->symbol, &oom);
	ev->count = u->hits;
	ev->path = dup(u->binary, &oom);
	ev->build_id = dup(u->build_id, &oom);
	ev->attached = u->attached ? 1 : 0;
	if (u->n_stack > 0) {
		fill_uframes(ev, u->stack, u->n_stack, st, &oom);
	} else {
		tb_probe_uframe_t point = {.build_id = u->build_id,
					   .file_offset = u->file_offset,
					   .module = u->binary,
					   .symbol = u->symbol};

		fill_uframes(ev, &point, 1, st, &oom);
	}
	return oom ? -1 : 0;
}

static int map_load(tb_runtime_event_t *ev, const tb_probe_batch_t *b, const tb_probe_load_t *l,
		    const tb_probe_map_opts_t *o, tb_probe_map_stats_t *st)
{
	int oom = 0;

	if (begin(ev, b, o, "load", l->ts_ns, &oom) < 0)
		return -1;
	tb_probe_load_id(b, l, ev->event_id);
	fill_process(ev, b, l->pid, 0, st, &oom);
	ev->path = dup(l->path, &oom);
	ev->build_id = dup(l->build_id, &oom);
	ev->count = 1;
	return oom ? -1 : 0;
}

/* Hand out an event built by a map_* function (built == 0) and release it. */
static int emit_one(tb_runtime_event_t *ev, int built, const char *what, size_t i, tb_probe_map_emit_fn emit,
		    void *ctx, tb_err_t *err)
{
	int r = built == 0 ? emit(ctx, ev, err) : tb_err(err, "%s[%zu]: out of memory", what, i);

	tb_runtime_event_clear(ev);
	return r;
}

int tb_probe_map_batch(const tb_probe_batch_t *b, const tb_probe_map_opts_t *opts, tb_probe_map_emit_fn emit,
		       void *ctx, tb_probe_map_stats_t *stats, tb_err_t *err)
{
	tb_probe_map_stats_t local = {0};
	tb_probe_map_stats_t *st = stats ? stats : &local;
	tb_runtime_event_t ev;

	memset(st, 0, sizeof(*st));
	if (tb_probe_map_validate(b, err) < 0)
		return -1;
	for (size_t i = 0; i < b->n_samples; i++, st->samples++)
		if (emit_one(&ev, map_sample(&ev, b, &b->samples[i], opts, st), "samples", i, emit, ctx,
			     err) < 0)
			return -1;
	for (size_t i = 0; i < b->n_uprobe_counts; i++, st->uprobes++)
		if (emit_one(&ev, map_uprobe(&ev, b, &b->uprobe_counts[i], opts, st), "uprobe_counts", i,
			     emit, ctx, err) < 0)
			return -1;
	for (size_t i = 0; i < b->n_loads; i++, st->loads++)
		if (emit_one(&ev, map_load(&ev, b, &b->loads[i], opts, st), "loads", i, emit, ctx, err) < 0)
			return -1;
	return 0;
}
