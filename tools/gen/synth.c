/*
 * synth.c — deterministic synthetic CorrelatedEvents for tests and load.
 *
 * Everything is a pure function of (settings, index): a splitmix64-style
 * mixer turns (seed, entity, field) into numbers, so event i, stack k and
 * symbol j are always the same, whatever else is generated, and a range
 * produced twice yields byte-identical records (the duplicates an idempotent
 * sink must absorb). Stacks are drawn from a fixed pool (hot symbols repeat,
 * as in real profiles); recursion happens when a stack draws one symbol
 * twice. Each stack belongs to one artifact (stack k -> artifact k mod A).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "tb/hash.h"

static const char *const kernel_syms[] = {"__x64_sys_read", "do_syscall_64", "entry_SYSCALL_64_after_hwframe",
					  "ksys_read", "vfs_read"};

void gen_synth_defaults(gen_synth_t *s)
{
	memset(s, 0, sizeof(*s));
	s->seed = 1;
	s->n = 1000;
	s->tenants = 1;
	s->nodes = 3;
	s->stacks = 50;
	s->symbols = 200;
	s->modules = 8;
	s->depth = 12;
	s->kernel_frames = 2;
	s->artifacts = 4;
	s->start_ns = 1764000000000000000LL; /* 2025-11-24T16:00:00Z */
	s->step_ns = 10000000;		     /* 100 events per second */
	s->max_count = 3;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(const gen_synth_t *s, uint64_t entity, uint64_t field)
{
	return mix(s->seed ^ mix(entity * 0x100000001b3ULL + field));
}

static char *fmt(const char *f, long long v)
{
	char buf[128];

	snprintf(buf, sizeof(buf), f, v);
	return strdup(buf);
}

static char *hexid(const gen_synth_t *s, uint64_t entity, uint64_t field, size_t bytes)
{
	uint8_t b[32];
	char *out = malloc(2 * bytes + 1);

	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(rnd(s, entity, field + i / 8) >> (8 * (i % 8)));
	if (out)
		tb_hex(b, bytes, out);
	return out;
}

static int user_frame(const gen_synth_t *s, int64_t stack, int f, int art, tb_canon_frame_t *fr)
{
	int sym = (int)(rnd(s, (uint64_t)stack, 100 + (uint64_t)f) % (uint64_t)s->symbols);
	int mod = sym % s->modules;

	fr->module = fmt("libsynth%lld.so", mod);
	fr->build_id = hexid(s, 1000000 + (uint64_t)mod, 0, 20);
	fr->symbol = fmt("synth_fn_%lld", sym);
	fr->file_offset = 0x1000 + (uint64_t)sym * 0x40 + rnd(s, (uint64_t)stack, 200 + (uint64_t)f) % 0x40;
	if (art >= 0) {
		fr->artifact_digest = fmt("sha256:%064llx", art);
		fr->purl = fmt("pkg:generic/libsynth%lld@1.0", mod);
	}
	fr->frame_id = gen_frame_id(fr);
	return fr->module && fr->build_id && fr->symbol ? 0 : -1;
}

static int kernel_frame(int f, tb_canon_frame_t *fr)
{
	fr->kernel = 1;
	fr->module = strdup("[kernel]");
	fr->build_id = strdup("");
	fr->symbol = strdup(kernel_syms[f % (int)(sizeof(kernel_syms) / sizeof(kernel_syms[0]))]);
	fr->file_offset = (uint64_t)(0x10 + 8 * f);
	fr->frame_id = gen_frame_id(fr);
	return fr->module && fr->build_id && fr->symbol ? 0 : -1;
}

static int fill_stack(const gen_synth_t *s, int64_t stack, int art, tb_event_t *ev)
{
	int user = 1 + (int)(rnd(s, (uint64_t)stack, 1) % (uint64_t)s->depth);
	int total = s->kernel_frames + user;

	ev->frames = calloc((size_t)total, sizeof(*ev->frames));
	if (!ev->frames)
		return -1;
	ev->n_frames = (size_t)total;
	for (int f = 0; f < s->kernel_frames; f++)
		if (kernel_frame(f, &ev->frames[f]) < 0)
			return -1;
	for (int f = 0; f < user; f++)
		if (user_frame(s, stack, f, art, &ev->frames[s->kernel_frames + f]) < 0)
			return -1;
	ev->stack_id = gen_stack_id(ev->frames, ev->n_frames);
	ev->leaf_frame_id = ev->frames[0].frame_id;
	return 0;
}

int gen_synth_event(const gen_synth_t *s, int64_t i, tb_event_t *ev, tb_err_t *err)
{
	int64_t stack = (int64_t)(rnd(s, (uint64_t)i, 2) % (uint64_t)s->stacks);
	int art = s->artifacts > 0 ? (int)(stack % s->artifacts) : -1;
	tb_hasher_t h;

	tb_hasher_init(&h, "gen.synth.v1");
	tb_hasher_u64(&h, s->seed);
	tb_hasher_u64(&h, (uint64_t)i);
	tb_hasher_final128(&h, ev->event_id);
	ev->tenant = fmt("tenant-%lld", (long long)(rnd(s, (uint64_t)i, 3) % (uint64_t)s->tenants));
	ev->node = fmt("node-%lld", (long long)(rnd(s, (uint64_t)i, 4) % (uint64_t)s->nodes));
	ev->source = strdup("probe");
	ev->kind = strdup("sample");
	ev->ts_ns = s->start_ns + i * s->step_ns;
	ev->count = 1 + (int64_t)(rnd(s, (uint64_t)i, 5) % (uint64_t)s->max_count);
	ev->pid = 1000 + (uint32_t)(stack % 50);
	ev->tid = ev->pid;
	ev->exec_id = fmt("synth-exec-%lld", (long long)ev->pid);
	ev->binary = strdup("/usr/bin/synth");
	ev->correlation = strdup(art >= 0 ? "correlated" : "uncorrelated");
	if (art >= 0) {
		ev->artifact_digest = fmt("sha256:%064llx", art);
		ev->container.image_digest = fmt("sha256:%064llx", art);
		ev->container.workload = fmt("synth-workload-%lld", art);
		ev->container.namespace_ = strdup("synth");
	}
	if (!ev->tenant || !ev->node || !ev->source || !ev->kind || !ev->exec_id || !ev->binary ||
	    !ev->correlation || fill_stack(s, stack, art, ev) < 0)
		return tb_err(err, "synthetic event %lld: out of memory", (long long)i);
	return 0;
}
