/*
 * probe.c — ProbeBatch records as the probe-agent sends them (one per node
 * and drain): the node's processes and one sample per stack, user frames
 * normalized to (build-id, file offset, module path) with symbols, kernel
 * frames by name.
 *
 * The frames of every pooled stack are built once; a batch only points its
 * samples at them and stamps each sample with its own time before the Avro
 * encoding (a sample's time is part of its event identity, so a batch cannot
 * be pre-encoded and repeated).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "tb/avro.h"
#include "tb/records.h"

struct lg_probe {
	const lg_world_t *w;
	tb_avro_registry_t *reg;
	int per_batch;
	tb_probe_kframe_t kframes[4];
	tb_probe_uframe_t **uframes; /* per pooled stack */
	int **node_stacks;	     /* per node: indices of the stacks of its processes */
	int *n_node_stacks;
	tb_probe_process_t **node_procs; /* per node: its processes */
	int *n_node_procs;
	char **node_names;
	int64_t *seq; /* per node */
	int next_node;
	tb_probe_sample_t *samples;
	uint64_t rng;
	uint8_t *buf;
};

static int build_frames(lg_probe_t *p, tb_err_t *err)
{
	const lg_world_t *w = p->w;

	for (int i = 0; i < 4; i++) {
		p->kframes[i].symbol = (char *)lg_kernel_syms[i];
		p->kframes[i].offset = 5 + 16 * (uint64_t)i;
	}
	p->uframes = calloc((size_t)w->o.pool, sizeof(tb_probe_uframe_t *));
	if (!p->uframes)
		return tb_err(err, "loadgen: out of memory");
	for (int k = 0; k < w->o.pool; k++) {
		const lg_stack_t *s = &w->stacks[k];

		p->uframes[k] = calloc((size_t)s->n, sizeof(**p->uframes));
		if (!p->uframes[k])
			return tb_err(err, "loadgen: out of memory");
		for (int f = 0; f < s->n; f++) {
			const lg_symbol_t *sym = &w->syms[s->frames[f].symbol];
			tb_probe_uframe_t *u = &p->uframes[k][f];

			u->build_id = (char *)lg_modules[sym->module].build_id;
			u->module = (char *)lg_modules[sym->module].path;
			u->symbol = sym->name;
			u->file_offset = sym->offset + s->frames[f].delta;
		}
	}
	return 0;
}

static int build_nodes(lg_probe_t *p, tb_err_t *err)
{
	const lg_world_t *w = p->w;
	int nodes = w->o.nodes;

	p->node_stacks = calloc((size_t)nodes, sizeof(int *));
	p->n_node_stacks = calloc((size_t)nodes, sizeof(int));
	p->node_procs = calloc((size_t)nodes, sizeof(tb_probe_process_t *));
	p->n_node_procs = calloc((size_t)nodes, sizeof(int));
	p->node_names = calloc((size_t)nodes, sizeof(char *));
	p->seq = calloc((size_t)nodes, sizeof(int64_t));
	if (!p->node_stacks || !p->n_node_stacks || !p->node_procs || !p->n_node_procs || !p->node_names ||
	    !p->seq)
		return tb_err(err, "loadgen: out of memory");
	for (int n = 0; n < nodes; n++) {
		p->node_stacks[n] = calloc((size_t)w->o.pool, sizeof(int));
		p->node_procs[n] = calloc((size_t)w->o.containers, sizeof(tb_probe_process_t));
		p->node_names[n] = malloc(32);
		if (!p->node_stacks[n] || !p->node_procs[n] || !p->node_names[n])
			return tb_err(err, "loadgen: out of memory");
		snprintf(p->node_names[n], 32, "node-%d", n);
	}
	for (int k = 0; k < w->o.pool; k++) {
		int n = w->procs[w->stacks[k].proc].node;

		p->node_stacks[n][p->n_node_stacks[n]++] = k;
	}
	for (int c = 0; c < w->o.containers; c++) {
		const lg_proc_t *src = &w->procs[c];
		tb_probe_process_t *d = &p->node_procs[src->node][p->n_node_procs[src->node]++];

		d->pid = src->pid;
		d->exec_id = (char *)src->exec_id;
		d->binary = (char *)lg_modules[0].path;
		d->binary_build_id = (char *)lg_modules[0].build_id;
		d->container_id = (char *)src->container_id;
		d->comm = (char *)"shop";
	}
	return 0;
}

lg_probe_t *lg_probe_new(const lg_world_t *w, int samples_per_batch, tb_err_t *err)
{
	lg_probe_t *p = calloc(1, sizeof(*p));

	if (!p) {
		tb_err(err, "loadgen: out of memory");
		return NULL;
	}
	p->w = w;
	p->per_batch = samples_per_batch > 0 ? samples_per_batch : 1;
	p->rng = w->o.seed ^ 0x5eed;
	p->samples = calloc((size_t)p->per_batch, sizeof(*p->samples));
	p->reg = tb_avro_registry_new(err);
	if (!p->samples || !p->reg || build_frames(p, err) < 0 || build_nodes(p, err) < 0) {
		if (!p->samples)
			tb_err(err, "loadgen: out of memory");
		lg_probe_free(p);
		return NULL;
	}
	return p;
}

void lg_probe_free(lg_probe_t *p)
{
	if (!p)
		return;
	for (int k = 0; p->uframes && k < p->w->o.pool; k++)
		free(p->uframes[k]);
	for (int n = 0; n < p->w->o.nodes; n++) {
		if (p->node_stacks)
			free(p->node_stacks[n]);
		if (p->node_procs)
			free(p->node_procs[n]);
		if (p->node_names)
			free(p->node_names[n]);
	}
	free(p->uframes);
	free(p->node_stacks);
	free(p->n_node_stacks);
	free(p->node_procs);
	free(p->n_node_procs);
	free(p->node_names);
	free(p->seq);
	free(p->samples);
	free(p->buf);
	tb_avro_registry_free(p->reg);
	free(p);
}

/* The next node that has stacks (a node may have none when the pool is small). */
static int pick_node(lg_probe_t *p)
{
	for (int i = 0; i < p->w->o.nodes; i++) {
		int n = (p->next_node + i) % p->w->o.nodes;

		if (p->n_node_stacks[n] > 0) {
			p->next_node = n + 1;
			return n;
		}
	}
	return 0; /* unreachable: the pool has at least one stack */
}

int lg_probe_next(lg_probe_t *p, int64_t *last_ns, const uint8_t **buf, size_t *len, const char **key,
		  tb_err_t *err)
{
	int n = pick_node(p);
	tb_probe_batch_t b = {0};

	for (int i = 0; i < p->per_batch; i++) {
		int k = p->node_stacks[n][lg_rand(&p->rng) % (uint64_t)p->n_node_stacks[n]];
		const lg_stack_t *s = &p->w->stacks[k];
		tb_probe_sample_t *sm = &p->samples[i];

		sm->pid = sm->tid = p->w->procs[s->proc].pid;
		sm->cpu = i % 2;
		sm->first_ns = sm->last_ns = lg_next_ns(last_ns);
		sm->count = 1;
		sm->kernel_frames = p->kframes;
		sm->n_kernel_frames = 4;
		sm->user_frames = p->uframes[k];
		sm->n_user_frames = (size_t)s->n;
	}
	b.node = p->node_names[n];
	b.boot_id = (char *)"6a0f2c3e-0b1d-4e5f-8a9b-0c1d2e3f4a5b";
	b.agent_version = (char *)"tb-loadgen";
	b.seq = p->seq[n]++;
	b.start_ns = p->samples[0].first_ns;
	b.end_ns = p->samples[p->per_batch - 1].last_ns;
	b.processes = p->node_procs[n];
	b.n_processes = (size_t)p->n_node_procs[n];
	b.samples = p->samples;
	b.n_samples = (size_t)p->per_batch;
	free(p->buf);
	p->buf = NULL;
	if (tb_avro_encode_probe_batch(p->reg, &b, &p->buf, len, err) < 0)
		return -1;
	*buf = p->buf;
	*key = b.node;
	return 0;
}
