/*
 * batch.c — window -> ProbeBatch chunks (see batch.h).
 *
 * Samples are taken in fold order and cut into chunks by estimated size;
 * loads follow the samples in the same way. For each chunk the referenced
 * pids are collected and the matching process entries copied in (a pid may
 * have two entries: the image before and after an exec).
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

#define DEFAULT_BUDGET ((size_t)256 * 1024)

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

size_t tb_pa_batch_sample_size(const tb_pa_stack_t *s)
{
	size_t n = 48;

	for (size_t i = 0; i < s->n_kframes; i++)
		n += 16 + slen(s->kframes[i].symbol) + slen(s->kframes[i].module);
	for (size_t i = 0; i < s->n_uframes; i++)
		n += 24 + slen(s->uframes[i].build_id) + slen(s->uframes[i].module) +
		     slen(s->uframes[i].symbol);
	return n;
}

static size_t load_size(const tb_probe_load_t *l)
{
	return 24 + slen(l->path) + slen(l->build_id);
}

static size_t ucount_size(const tb_probe_uprobe_count_t *u)
{
	size_t n = 48 + slen(u->build_id) + slen(u->binary) + slen(u->symbol);

	for (size_t i = 0; i < u->n_stack; i++)
		n += 24 + slen(u->stack[i].build_id) + slen(u->stack[i].module) + slen(u->stack[i].symbol);
	return n;
}

static void fill_sample(tb_probe_sample_t *o, const tb_pa_stack_t *s)
{
	o->pid = s->pid;
	o->tid = s->tid;
	o->cpu = s->cpu;
	o->first_ns = s->first_ns;
	o->last_ns = s->last_ns;
	o->count = s->count;
	o->kernel_frames = s->kframes;
	o->n_kernel_frames = s->n_kframes;
	o->user_frames = s->uframes;
	o->n_user_frames = s->n_uframes;
}

static void fill_process(tb_probe_process_t *o, const tb_pa_proc_t *p)
{
	o->pid = p->pid;
	o->exec_id = (char *)p->exec_id;
	o->binary = p->binary;
	o->binary_build_id = p->binary_build_id;
	o->container_id = p->container.id[0] ? (char *)p->container.id : NULL;
	o->cgroup_id = p->cgroup_id;
	o->comm = (char *)p->comm;
	o->start_ns = p->start_ns;
}

static int pid_in(const tb_probe_batch_t *b, uint32_t pid)
{
	for (size_t i = 0; i < b->n_samples; i++)
		if (b->samples[i].pid == pid)
			return 1;
	for (size_t i = 0; i < b->n_loads; i++)
		if (b->loads[i].pid == pid)
			return 1;
	return 0;
}

/* Emit one chunk: samples [s0, s1), loads [l0, l1). */
static int emit_chunk(const tb_pa_window_t *w, int first, size_t s0, size_t s1, size_t l0, size_t l1,
		      int64_t *seq, tb_pa_emit_fn emit, void *ctx, tb_err_t *err)
{
	tb_probe_batch_t b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.node = (char *)w->node;
	b.boot_id = (char *)w->boot_id;
	b.agent_version = (char *)w->agent_version;
	b.seq = *seq;
	b.start_ns = w->start_ns;
	b.end_ns = w->end_ns;
	b.samples = calloc(s1 - s0 + 1, sizeof(*b.samples));
	b.processes = calloc(w->n_procs + 1, sizeof(*b.processes));
	if (!b.samples || !b.processes) {
		tb_err(err, "batch: out of memory");
		goto out;
	}
	for (size_t i = s0; i < s1; i++)
		fill_sample(&b.samples[b.n_samples++], tb_pa_fold_at(w->fold, i));
	b.loads = w->loads + l0;
	b.n_loads = l1 - l0;
	for (size_t i = 0; i < w->n_procs; i++)
		if (pid_in(&b, w->procs[i]->pid))
			fill_process(&b.processes[b.n_processes++], w->procs[i]);
	if (first) {
		b.uprobe_counts = w->ucounts;
		b.n_uprobe_counts = w->n_ucounts;
		b.lost_samples = w->lost_samples;
		b.lost_events = w->lost_events;
	}
	rc = emit(ctx, &b, err);
	(*seq)++; /* spent even when the output failed: the gap shows the loss */
out:
	free(b.samples);
	free(b.processes);
	return rc;
}

int tb_pa_batch_emit(const tb_pa_window_t *w, int64_t *seq, tb_pa_emit_fn emit, void *ctx, tb_err_t *err)
{
	size_t budget = w->max_bytes ? w->max_bytes : DEFAULT_BUDGET;
	size_t n_samples = tb_pa_fold_count(w->fold), s0 = 0, l0 = 0, used, chunks = 0;
	size_t base = 256;
	int first = 1;

	for (size_t i = 0; i < w->n_ucounts; i++)
		base += ucount_size(&w->ucounts[i]);
	do {
		size_t s1 = s0, l1 = l0;

		used = first ? base : 256;
		while (s1 < n_samples) {
			const tb_pa_stack_t *s = tb_pa_fold_at(w->fold, s1);
			size_t sz = tb_pa_batch_sample_size(s) + 320; /* + its process entry, at worst */

			if (s1 > s0 && used + sz > budget)
				break;
			used += sz;
			s1++;
		}
		while (s1 == n_samples && l1 < w->n_loads) {
			size_t sz = load_size(&w->loads[l1]) + 320;

			if ((l1 > l0 || s1 > s0) && used + sz > budget)
				break;
			used += sz;
			l1++;
		}
		if (emit_chunk(w, first, s0, s1, l0, l1, seq, emit, ctx, err) < 0)
			return -1;
		chunks++;
		first = 0;
		s0 = s1;
		l0 = l1;
	} while (s0 < n_samples || l0 < w->n_loads);
	return (int)chunks;
}
