/*
 * uprobes.c — probe registry, attachment and count collection (see
 * uprobes.h).
 *
 * State: the probes (array; index == id), the links (freed at exit), the
 * last cumulative value read per (probe, pid, stack) key, and which files
 * were already resolved against which watch-list version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elfsyms.h"
#include "tb/log.h"
#include "tb/map.h"
#include "uprobes.h"

struct tb_pa_uprobes {
	tb_pa_bpf_t *bpf;
	tb_pa_probe_t *v;
	size_t n, cap;
	tb_pa_ulink_t **links;
	size_t n_links, cap_links;
	tb_map_t *last; /* "probe:pid:stack" -> cumulative count (as pointer) */
	tb_map_t *seen; /* file key -> watch version + 1 (as pointer) */
	int ncpus;
};

tb_pa_uprobes_t *tb_pa_uprobes_new(tb_pa_bpf_t *b)
{
	tb_pa_uprobes_t *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->bpf = b;
	u->last = tb_map_new(256);
	u->seen = tb_map_new(256);
	u->ncpus = libbpf_num_possible_cpus();
	if (!u->last || !u->seen || u->ncpus <= 0) {
		tb_pa_uprobes_free(u);
		return NULL;
	}
	return u;
}

static void probe_clear(tb_pa_probe_t *p)
{
	free(p->file_key);
	free(p->binary);
	free(p->build_id);
	free(p->symbol);
	free(p->raw_symbol);
	free(p->error);
}

void tb_pa_uprobes_free(tb_pa_uprobes_t *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_links; i++)
		tb_pa_bpf_detach(u->links[i]);
	free(u->links);
	for (size_t i = 0; i < u->n; i++)
		probe_clear(&u->v[i]);
	free(u->v);
	tb_map_free(u->last, NULL);
	tb_map_free(u->seen, NULL);
	free(u);
}

size_t tb_pa_uprobes_count(const tb_pa_uprobes_t *u)
{
	return u->n;
}

const tb_pa_probe_t *tb_pa_uprobes_at(const tb_pa_uprobes_t *u, size_t i)
{
	return i < u->n ? &u->v[i] : NULL;
}

int tb_pa_uprobes_seen(const tb_pa_uprobes_t *u, const char *file_key, uint64_t watch_version)
{
	return (uintptr_t)tb_map_get(u->seen, file_key) == (uintptr_t)(watch_version + 1);
}

void tb_pa_uprobes_mark_seen(tb_pa_uprobes_t *u, const char *file_key, uint64_t watch_version)
{
	tb_map_put(u->seen, file_key, (void *)(uintptr_t)(watch_version + 1));
}

/* ---- attaching -------------------------------------------------------------- */

static int probed(const tb_pa_uprobes_t *u, const char *file_key, uint64_t offset, const char *symbol)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].file_offset == offset && strcmp(u->v[i].file_key, file_key) == 0 &&
		    strcmp(u->v[i].symbol, symbol) == 0)
			return 1;
	return 0;
}

static tb_pa_probe_t *new_probe(tb_pa_uprobes_t *u, const char *file_key, const char *binary,
				const char *build_id, const char *symbol, const tb_pa_symhit_t *h)
{
	tb_pa_probe_t *nv, *p;

	if (u->n >= TB_PROBE_MAX_UPROBES)
		return NULL;
	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 32;

		nv = realloc(u->v, ncap * sizeof(*nv));
		if (!nv)
			return NULL;
		u->v = nv;
		u->cap = ncap;
	}
	p = &u->v[u->n];
	memset(p, 0, sizeof(*p));
	p->id = (uint32_t)u->n;
	p->file_key = strdup(file_key);
	p->binary = strdup(binary);
	p->build_id = build_id ? strdup(build_id) : NULL;
	p->symbol = strdup(symbol);
	p->raw_symbol = strdup(h->raw);
	p->file_offset = h->offset;
	if (!p->file_key || !p->binary || (build_id && !p->build_id) || !p->symbol || !p->raw_symbol) {
		probe_clear(p);
		return NULL;
	}
	u->n++;
	return p;
}

static int keep_link(tb_pa_uprobes_t *u, tb_pa_ulink_t *l)
{
	tb_pa_ulink_t **nv;

	if (u->n_links == u->cap_links) {
		size_t ncap = u->cap_links ? u->cap_links * 2 : 16;

		nv = realloc(u->links, ncap * sizeof(tb_pa_ulink_t *));
		if (!nv)
			return -1;
		u->links = nv;
		u->cap_links = ncap;
	}
	u->links[u->n_links++] = l;
	return 0;
}

/* Attach probes first..u->n-1 (all of one file) with one call. */
static void attach_new(tb_pa_uprobes_t *u, size_t first, const char *open_path)
{
	size_t n = u->n - first;
	uint64_t *offs = calloc(n, sizeof(*offs));
	uint32_t *ids = calloc(n, sizeof(*ids));
	tb_pa_ulink_t *l = NULL;
	tb_err_t err;

	tb_err(&err, "out of memory");
	if (offs && ids) {
		for (size_t i = 0; i < n; i++) {
			offs[i] = u->v[first + i].file_offset;
			ids[i] = u->v[first + i].id;
		}
		l = tb_pa_bpf_attach_uprobes(u->bpf, open_path, offs, ids, n, &err);
	}
	if (l && keep_link(u, l) < 0) {
		tb_pa_bpf_detach(l);
		l = NULL;
	}
	for (size_t i = first; i < u->n; i++) {
		u->v[i].attached = l != NULL;
		if (!l)
			u->v[i].error = strdup(err.msg);
	}
	if (!l)
		tb_warn("uprobes on %s refused: %s", u->v[first].binary, err.msg);
	free(offs);
	free(ids);
}

int tb_pa_uprobes_ensure(tb_pa_uprobes_t *u, const char *file_key, const char *open_path, const char *binary,
			 const char *build_id, char *const *symbols, size_t n, tb_err_t *err)
{
	tb_pa_symhit_t *hits;
	size_t n_hits, first = u->n;

	if (n == 0)
		return 0;
	if (tb_pa_elfsyms_resolve(open_path, symbols, n, &hits, &n_hits, err) < 0)
		return -1;
	for (size_t i = 0; i < n_hits; i++) {
		const char *sym = symbols[hits[i].want];

		if (probed(u, file_key, hits[i].offset, sym))
			continue;
		if (!new_probe(u, file_key, binary, build_id, sym, &hits[i]))
			tb_warn("uprobe %s in %s: no probe id left (max %d) or out of memory", sym, binary,
				TB_PROBE_MAX_UPROBES);
	}
	tb_pa_symhits_free(hits, n_hits);
	if (u->n > first) {
		attach_new(u, first, open_path);
		for (size_t i = first; i < u->n; i++)
			tb_info("uprobe %u %s %s+0x%llx (%s) in %s", u->v[i].id,
				u->v[i].attached ? "attached at" : "REFUSED at", u->v[i].binary,
				(unsigned long long)u->v[i].file_offset, u->v[i].symbol,
				build_id ? build_id : "no build-id");
	}
	return (int)(u->n - first);
}

/* ---- collecting ---------------------------------------------------------------- */

static int read_total(tb_pa_uprobes_t *u, uint32_t id, uint64_t *total)
{
	uint64_t *vals = calloc((size_t)u->ncpus, sizeof(*vals));
	int r;

	*total = 0;
	if (!vals)
		return -1;
	r = bpf_map_lookup_elem(tb_pa_bpf_uhits_fd(u->bpf), &id, vals);
	for (int c = 0; r == 0 && c < u->ncpus; c++)
		*total += vals[c];
	free(vals);
	return r;
}

static size_t read_keys(int fd, struct tb_ukey **out)
{
	struct tb_ukey key, next, *arr = NULL, *nv;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(arr, cap * sizeof(*nv));
			if (!nv)
				break;
			arr = nv;
		}
		arr[n++] = next;
		key = next;
		prev = &key;
	}
	*out = arr;
	return n;
}

static void key_text(const struct tb_ukey *k, char *out, size_t cap)
{
	snprintf(out, cap, "%u:%u:%d:%llx", k->probe, k->pid, k->stack_id, (unsigned long long)k->caller);
}

/* The walked stack with the caller put back after frame 0 (see probe.h). */
static void load_stack(tb_pa_uprobes_t *u, tb_pa_uhit_t *h, const struct tb_ukey *k)
{
	uint64_t ips[TB_PROBE_MAX_DEPTH];
	uint32_t n = 0;

	h->n_ips = 0;
	if (!k || k->stack_id < 0 || bpf_map_lookup_elem(tb_pa_bpf_ustacks_fd(u->bpf), &k->stack_id, ips) < 0)
		return;
	while (n < TB_PROBE_MAX_DEPTH && ips[n])
		n++;
	if (n == 0)
		return;
	h->ips[h->n_ips++] = ips[0];
	if (k->caller && (n < 2 || ips[1] != k->caller))
		h->ips[h->n_ips++] = k->caller;
	for (uint32_t i = 1; i < n && h->n_ips < TB_PROBE_MAX_DEPTH; i++)
		h->ips[h->n_ips++] = ips[i];
}

/* Delete stacks that no remaining key refers to. */
static void prune_stacks(tb_pa_uprobes_t *u, const struct tb_ukey *keys, const char *dead, size_t n)
{
	int fd = tb_pa_bpf_ustacks_fd(u->bpf);
	uint32_t key, next, *drop = NULL;
	size_t n_drop = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		int used = 0;

		for (size_t i = 0; i < n && !used; i++)
			used = !dead[i] && keys[i].stack_id == (int32_t)next;
		if (!used) {
			if (n_drop == cap) {
				uint32_t *nv = realloc(drop, (cap = cap ? cap * 2 : 64) * sizeof(*nv));

				if (!nv)
					break;
				drop = nv;
			}
			drop[n_drop++] = next;
		}
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < n_drop; i++)
		bpf_map_delete_elem(fd, &drop[i]);
	free(drop);
}

/* Exact totals: hits since the previous collect, per probe. */
static void collect_totals(tb_pa_uprobes_t *u, tb_pa_uhit_t *h)
{
	for (size_t i = 0; i < u->n; i++) {
		uint64_t total = u->v[i].total;

		h[i].probe = &u->v[i];
		if (u->v[i].attached && read_total(u, u->v[i].id, &total) == 0) {
			h[i].hits = (int64_t)(total - u->v[i].total);
			u->v[i].total = total;
		}
	}
}

typedef struct key_scan {
	tb_pa_uhit_t *h;
	ssize_t *best; /* per probe: index of its most frequent key this window, -1 */
	char *dead;    /* per key: its process is gone (key deleted) */
} key_scan_t;

/* One (probe, pid, stack) key: its window delta, the best stack, cleanup. */
static void scan_key(tb_pa_uprobes_t *u, key_scan_t *ks, const struct tb_ukey *keys, size_t k,
		     int (*alive)(void *ctx, uint32_t pid), void *ctx)
{
	int cfd = tb_pa_bpf_ucounts_fd(u->bpf);
	uint64_t v = 0, last;
	tb_pa_uhit_t *x;
	char kt[64];
	int64_t d;

	if (keys[k].probe >= u->n || bpf_map_lookup_elem(cfd, &keys[k], &v) < 0)
		return;
	key_text(&keys[k], kt, sizeof(kt));
	last = (uint64_t)(uintptr_t)tb_map_get(u->last, kt);
	d = (int64_t)(v - last);
	tb_map_put(u->last, kt, (void *)(uintptr_t)v);
	x = &ks->h[keys[k].probe];
	if (d > 0) {
		x->n_stacks++;
		if (d > x->stack_hits && keys[k].stack_id >= 0) {
			x->stack_hits = d;
			x->pid = keys[k].pid;
			ks->best[keys[k].probe] = (ssize_t)k;
		}
	}
	if (alive && !alive(ctx, keys[k].pid)) {
		ks->dead[k] = 1;
		bpf_map_delete_elem(cfd, &keys[k]);
		tb_map_del(u->last, kt);
	}
}

int tb_pa_uprobes_collect(tb_pa_uprobes_t *u, int (*alive)(void *ctx, uint32_t pid), void *ctx,
			  tb_pa_uhit_t **out, size_t *n_out, tb_err_t *err)
{
	key_scan_t ks = {.h = calloc(u->n ? u->n : 1, sizeof(*ks.h)),
			 .best = calloc(u->n ? u->n : 1, sizeof(*ks.best))};
	struct tb_ukey *keys = NULL;
	size_t n_keys;

	*out = NULL;
	*n_out = 0;
	if (!ks.h || !ks.best) {
		free(ks.h);
		free(ks.best);
		return tb_err(err, "uprobe counts: out of memory");
	}
	for (size_t i = 0; i < u->n; i++)
		ks.best[i] = -1;
	collect_totals(u, ks.h);
	n_keys = read_keys(tb_pa_bpf_ucounts_fd(u->bpf), &keys);
	ks.dead = calloc(n_keys + 1, 1);
	for (size_t k = 0; ks.dead && k < n_keys; k++)
		scan_key(u, &ks, keys, k, alive, ctx);
	for (size_t i = 0; i < u->n; i++)
		load_stack(u, &ks.h[i], ks.best[i] >= 0 ? &keys[ks.best[i]] : NULL);
	if (ks.dead)
		prune_stacks(u, keys, ks.dead, n_keys);
	free(ks.dead);
	free(keys);
	free(ks.best);
	*out = ks.h;
	*n_out = u->n;
	return 0;
}
