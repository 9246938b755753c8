/*
 * world.c — the synthetic fleet tb-loadgen describes: modules (shared
 * libraries and a main binary with build-ids), a pool of user-space symbols
 * whose popularity follows a Zipf-like law (a few functions are in most
 * stacks, as in real profiles), nodes, containers (one process each) running
 * a few artifacts (image digests), and a pool of stacks drawn from all that.
 *
 * Everything is a function of the seed, so two runs with the same options
 * generate the same messages (apart from the event times).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"

const lg_module_t lg_modules[] = {
    {"/app/bin/shop", "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9"},
    {"/app/lib/libshopcore.so", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"},
    {"/usr/lib/x86_64-linux-gnu/libc.so.6", "c047672cae7964324658491e7dee26748ae5d2f8"},
    {"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "e8c6c8d2a9ab1f3e4d5c6b7a8f9e0d1c2b3a4f5e"},
    {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "9b2e5d7c1a0f3e4d6c8b7a9f0e1d2c3b4a5f6e7d"},
    {"/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"},
    {"/usr/lib/x86_64-linux-gnu/libz.so.1", "7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b"},
    {"/usr/lib/x86_64-linux-gnu/libpq.so.5", "3f4e5d6c7b8a99887766554433221100ffeeddcc"},
};
const size_t lg_n_modules = sizeof(lg_modules) / sizeof(lg_modules[0]);

const char *const lg_kernel_syms[] = {
    "__x64_sys_write",	"ksys_write",  "vfs_write",   "do_syscall_64", "entry_SYSCALL_64_after_hwframe",
    "__x64_sys_sendto", "tcp_sendmsg", "sock_sendmsg"};
const size_t lg_n_kernel_syms = sizeof(lg_kernel_syms) / sizeof(lg_kernel_syms[0]);

/* splitmix64: fast, and good enough to draw a workload. */
uint64_t lg_rand(uint64_t *state)
{
	uint64_t x = (*state += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double unit(uint64_t *state)
{
	return (double)(lg_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t lg_next_ns(int64_t *last)
{
	struct timespec ts;
	int64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (ns <= *last)
		ns = *last + 1;
	*last = ns;
	return ns;
}

/* Symbol names: C functions and, for every third one, an Itanium-mangled C++
 * name (the canonicalizer demangles those). */
static char *symbol_name(int i, int module)
{
	char buf[96];

	if (i % 3 == 2)
		snprintf(buf, sizeof(buf), "_ZN4shop%zu%s%dEv",
			 strlen("worker") + (size_t)snprintf(NULL, 0, "%d", i), "worker", i);
	else
		snprintf(buf, sizeof(buf), "%s_fn_%d", module == 0 ? "shop" : "lib", i);
	return strdup(buf);
}

static int make_symbols(lg_world_t *w, tb_err_t *err)
{
	double sum = 0;

	w->syms = calloc((size_t)w->o.symbols, sizeof(*w->syms));
	w->cdf = calloc((size_t)w->o.symbols, sizeof(*w->cdf));
	if (!w->syms || !w->cdf)
		return tb_err(err, "loadgen: out of memory for %d symbols", w->o.symbols);
	for (int i = 0; i < w->o.symbols; i++) {
		lg_symbol_t *s = &w->syms[i];

		s->module = (int)(lg_rand(&w->rng) % lg_n_modules);
		s->offset = 0x1000 + (uint64_t)i * 0x180;
		s->name = symbol_name(i, s->module);
		if (!s->name)
			return tb_err(err, "loadgen: out of memory for symbol names");
		sum += 1.0 / pow((double)i + 1.0, w->o.zipf);
		w->cdf[i] = sum;
	}
	for (int i = 0; i < w->o.symbols; i++)
		w->cdf[i] /= sum;
	return 0;
}

/* The index of a symbol drawn by popularity (binary search of the CDF). */
static int draw_symbol(lg_world_t *w)
{
	double u = unit(&w->rng);
	int lo = 0, hi = w->o.symbols - 1;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (w->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int make_procs(lg_world_t *w, tb_err_t *err)
{
	w->procs = calloc((size_t)w->o.containers, sizeof(*w->procs));
	if (!w->procs)
		return tb_err(err, "loadgen: out of memory for %d containers", w->o.containers);
	for (int c = 0; c < w->o.containers; c++) {
		lg_proc_t *p = &w->procs[c];
		uint64_t r = lg_rand(&w->rng);

		p->node = c % w->o.nodes;
		p->pid = 1000 + (uint32_t)c;
		p->artifact = c % w->o.artifacts;
		snprintf(p->exec_id, sizeof(p->exec_id), "node-%d:%llu:%u", p->node,
			 (unsigned long long)(1000000000ULL + r % 1000000000ULL), p->pid);
		snprintf(p->container_id, sizeof(p->container_id), "containerd://%016llx%016llx",
			 (unsigned long long)lg_rand(&w->rng), (unsigned long long)lg_rand(&w->rng));
		snprintf(p->image_digest, sizeof(p->image_digest), "sha256:%064x", 0xa000 + p->artifact);
		snprintf(p->workload, sizeof(p->workload), "shop-%d", c);
	}
	return 0;
}

static int make_stacks(lg_world_t *w, tb_err_t *err)
{
	int span = w->o.max_frames - w->o.min_frames + 1;

	w->stacks = calloc((size_t)w->o.pool, sizeof(*w->stacks));
	if (!w->stacks)
		return tb_err(err, "loadgen: out of memory for %d stacks", w->o.pool);
	for (int k = 0; k < w->o.pool; k++) {
		lg_stack_t *s = &w->stacks[k];

		s->proc = (int)(lg_rand(&w->rng) % (uint64_t)w->o.containers);
		s->n = w->o.min_frames + (int)(lg_rand(&w->rng) % (uint64_t)span);
		s->frames = calloc((size_t)s->n, sizeof(*s->frames));
		if (!s->frames)
			return tb_err(err, "loadgen: out of memory for stacks");
		for (int f = 0; f < s->n; f++) {
			s->frames[f].symbol = draw_symbol(w);
			s->frames[f].delta = (uint32_t)(lg_rand(&w->rng) % 0x100);
		}
	}
	return 0;
}

int lg_world_new(lg_world_t *w, const lg_opts_t *o, tb_err_t *err)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	w->rng = o->seed;
	if (o->symbols < 1 || o->nodes < 1 || o->containers < 1 || o->artifacts < 1 || o->pool < 1 ||
	    o->min_frames < 1 || o->max_frames < o->min_frames || o->max_frames > 127)
		return tb_err(err, "loadgen: symbols, nodes, containers, artifacts, pool >= 1 and "
				   "1 <= min-frames <= max-frames <= 127 are required");
	if (make_symbols(w, err) < 0 || make_procs(w, err) < 0 || make_stacks(w, err) < 0)
		return -1;
	return 0;
}

void lg_world_free(lg_world_t *w)
{
	if (w->syms)
		for (int i = 0; i < w->o.symbols; i++)
			free(w->syms[i].name);
	if (w->stacks)
		for (int k = 0; k < w->o.pool; k++)
			free(w->stacks[k].frames);
	free(w->syms);
	free(w->cdf);
	free(w->procs);
	free(w->stacks);
	memset(w, 0, sizeof(*w));
}
