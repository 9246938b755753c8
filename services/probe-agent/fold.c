/*
 * fold.c — the per-window stack table (see fold.h).
 *
 * Entries live in an array (insertion order, so output is stable within a
 * window); an open-addressing index of entry numbers, keyed by a 64-bit
 * FNV-1a hash of the identity, finds them. Collisions are resolved by
 * comparing the full identity.
 */
#include <stdlib.h>
#include <string.h>

#include "fold.h"

struct tb_pa_fold {
	tb_pa_stack_t *v;
	size_t n, cap;
	uint32_t *index; /* entry number + 1; 0 = empty */
	size_t icap;	 /* power of two */
	int64_t samples;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t key_hash(uint32_t pid, uint32_t tid, const uint64_t *ips, uint32_t nk, uint32_t nu)
{
	uint64_t h = 1469598103934665603ULL;

	h = mix(h, ((uint64_t)pid << 32) | tid);
	h = mix(h, ((uint64_t)nk << 32) | nu);
	for (uint32_t i = 0; i < nk + nu; i++)
		h = mix(h, ips[i]);
	return h;
}

tb_pa_fold_t *tb_pa_fold_new(void)
{
	return calloc(1, sizeof(tb_pa_fold_t));
}

void tb_pa_uframes_free(tb_probe_uframe_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].build_id);
		free(f[i].module);
		free(f[i].symbol);
	}
	free(f);
}

void tb_pa_kframes_free(tb_probe_kframe_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].symbol);
		free(f[i].module);
	}
	free(f);
}

void tb_pa_fold_reset(tb_pa_fold_t *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].ips);
		tb_pa_kframes_free(f->v[i].kframes, f->v[i].n_kframes);
		tb_pa_uframes_free(f->v[i].uframes, f->v[i].n_uframes);
	}
	f->n = 0;
	f->samples = 0;
	if (f->index)
		memset(f->index, 0, f->icap * sizeof(*f->index));
}

void tb_pa_fold_free(tb_pa_fold_t *f)
{
	if (!f)
		return;
	tb_pa_fold_reset(f);
	free(f->v);
	free(f->index);
	free(f);
}

static int same(const tb_pa_stack_t *s, uint64_t h, uint32_t pid, uint32_t tid, const uint64_t *ips,
		uint32_t nk, uint32_t nu)
{
	return s->hash == h && s->pid == pid && s->tid == tid && s->n_kernel == nk && s->n_user == nu &&
	       memcmp(s->ips, ips, (size_t)(nk + nu) * sizeof(*ips)) == 0;
}

static int grow_index(tb_pa_fold_t *f)
{
	size_t ncap = f->icap ? f->icap * 2 : 1024;
	uint32_t *ni = calloc(ncap, sizeof(*ni));

	if (!ni)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		size_t slot = f->v[i].hash & (ncap - 1);

		while (ni[slot])
			slot = (slot + 1) & (ncap - 1);
		ni[slot] = (uint32_t)(i + 1);
	}
	free(f->index);
	f->index = ni;
	f->icap = ncap;
	return 0;
}

static tb_pa_stack_t *insert(tb_pa_fold_t *f, size_t slot, uint64_t h, uint32_t pid, uint32_t tid,
			     const uint64_t *ips, uint32_t nk, uint32_t nu)
{
	tb_pa_stack_t *s, *nv;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 256;

		nv = realloc(f->v, ncap * sizeof(*nv));
		if (!nv)
			return NULL;
		f->v = nv;
		f->cap = ncap;
	}
	s = &f->v[f->n];
	memset(s, 0, sizeof(*s));
	s->ips = malloc((size_t)(nk + nu) * sizeof(*ips) + 1);
	if (!s->ips)
		return NULL;
	memcpy(s->ips, ips, (size_t)(nk + nu) * sizeof(*ips));
	s->hash = h;
	s->pid = pid;
	s->tid = tid;
	s->n_kernel = nk;
	s->n_user = nu;
	f->index[slot] = (uint32_t)(++f->n);
	return s;
}

tb_pa_stack_t *tb_pa_fold_add(tb_pa_fold_t *f, uint32_t pid, uint32_t tid, uint32_t cpu, int64_t ts_ns,
			      const uint64_t *ips, uint32_t n_kernel, uint32_t n_user, int *is_new)
{
	uint64_t h = key_hash(pid, tid, ips, n_kernel, n_user);
	tb_pa_stack_t *s = NULL;
	size_t slot;

	*is_new = 0;
	if ((f->n + 1) * 10 >= f->icap * 7 && grow_index(f) < 0)
		return NULL;
	for (slot = h & (f->icap - 1); f->index[slot]; slot = (slot + 1) & (f->icap - 1)) {
		tb_pa_stack_t *c = &f->v[f->index[slot] - 1];

		if (same(c, h, pid, tid, ips, n_kernel, n_user)) {
			s = c;
			break;
		}
	}
	if (!s) {
		s = insert(f, slot, h, pid, tid, ips, n_kernel, n_user);
		if (!s)
			return NULL;
		*is_new = 1;
		s->cpu = (int32_t)cpu;
		s->first_ns = ts_ns;
		s->last_ns = ts_ns;
	}
	if (s->cpu != (int32_t)cpu)
		s->cpu = -1;
	if (ts_ns < s->first_ns)
		s->first_ns = ts_ns;
	if (ts_ns > s->last_ns)
		s->last_ns = ts_ns;
	s->count++;
	f->samples++;
	return s;
}

size_t tb_pa_fold_count(const tb_pa_fold_t *f)
{
	return f->n;
}

tb_pa_stack_t *tb_pa_fold_at(tb_pa_fold_t *f, size_t i)
{
	return i < f->n ? &f->v[i] : NULL;
}

int64_t tb_pa_fold_samples(const tb_pa_fold_t *f)
{
	return f->samples;
}
