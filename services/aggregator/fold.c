/*
 * fold.c — windows, symbol ids, record checks and batch pre-aggregation
 * (see fold.h for the rules and the symbol_id contract).
 *
 * How it works: tb_agg_fold_event appends raw rows (one symbol and frame row
 * per frame, one stack row, one hot row per distinct symbol and width) to
 * growable arrays; tb_agg_fold_finish sorts each array by its table key and
 * merges neighbours with the same key in place. Sorting instead of hashing
 * keeps the code small and gives the upserts a deterministic row order.
 */
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "tb/hash.h"

static const int widths[] = {TB_AGG_WIDTH_MINUTE, TB_AGG_WIDTH_HOUR};

int64_t tb_agg_ts_us(int64_t ts_ns)
{
	return ts_ns / 1000 - (ts_ns % 1000 < 0);
}

int64_t tb_agg_window_start_us(int64_t ts_us, int width_s)
{
	int64_t w = (int64_t)width_s * 1000000;
	int64_t q = ts_us / w - (ts_us % w < 0);

	return q * w;
}

int64_t tb_agg_symbol_id(const char *build_id, const char *module, const char *name)
{
	tb_hasher_t h;

	tb_hasher_init(&h, "symbol.v1");
	tb_hasher_str(&h, build_id ? build_id : "");
	tb_hasher_str(&h, module ? module : "");
	tb_hasher_str(&h, name ? name : "");
	return tb_hasher_final64(&h);
}

long tb_agg_leaf_index(const tb_event_t *ev)
{
	if (!ev->n_frames)
		return -1;
	for (size_t i = 0; ev->leaf_frame_id && i < ev->n_frames; i++)
		if (ev->frames[i].frame_id == ev->leaf_frame_id)
			return (long)i;
	return 0;
}

/* Length of the UTF-8 sequence starting at p, 0 if it is not valid. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned lo = c == 0xe0 ? 0xa0 : 0x80,
			 hi = c == 0xed ? 0x9f : 0xbf; /* no overlong, no surrogates */

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

int tb_agg_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		size_t n = utf8_seq(p);

		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

/* -1 with "invalid: FIELD is not valid UTF-8" when s is not. */
static int check_text(const char *what, const char *s, tb_err_t *err)
{
	if (tb_agg_utf8_valid(s))
		return 0;
	return tb_err(err, "invalid: %s is not valid UTF-8", what);
}

int tb_agg_event_check(const tb_event_t *ev, tb_err_t *err)
{
	const char *const texts[][2] = {
	    {"tenant", ev->tenant},
	    {"kind", ev->kind},
	    {"source", ev->source},
	    {"node", ev->node},
	    {"container.namespace", ev->container.namespace_},
	    {"container.workload", ev->container.workload},
	    {"container.image_digest", ev->container.image_digest},
	    {"artifact_digest", ev->artifact_digest},
	    {"purl", ev->purl},
	    {"correlation", ev->correlation},
	};

	if (!ev->tenant || !ev->tenant[0])
		return tb_err(err, "invalid: event without tenant");
	if (ev->count < 1 && !(ev->attached && ev->count == 0)) /* 0: an attached uprobe not hit */
		return tb_err(err, "invalid: count %lld (must be >= 1)", (long long)ev->count);
	if (ev->ts_ns < 0)
		return tb_err(err, "invalid: ts_ns %lld is before 1970", (long long)ev->ts_ns);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (check_text(texts[i][0], texts[i][1], err) < 0)
			return -1;
	for (size_t i = 0; i < ev->n_frames; i++) {
		const tb_canon_frame_t *fr = &ev->frames[i];

		if (!tb_agg_utf8_valid(fr->build_id) || !tb_agg_utf8_valid(fr->module) ||
		    !tb_agg_utf8_valid(fr->symbol) || !tb_agg_utf8_valid(fr->purl))
			return tb_err(err, "invalid: frame %zu has text that is not valid UTF-8", i);
		if (fr->file_offset > INT64_MAX)
			return tb_err(err, "invalid: frame %zu file_offset does not fit a bigint", i);
	}
	return 0;
}

int tb_agg_artifact_check(const tb_artifact_t *a, tb_err_t *err)
{
	const char *const texts[][2] = {
	    {"tenant", a->tenant},   {"digest", a->digest},	      {"name", a->name},
	    {"version", a->version}, {"sbom_format", a->sbom_format}, {"sbom_sha256", a->sbom_sha256},
	};

	if (!a->tenant || !a->tenant[0] || !a->digest || !a->digest[0])
		return tb_err(err, "invalid: artifact without tenant or digest");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (check_text(texts[i][0], texts[i][1], err) < 0)
			return -1;
	for (size_t i = 0; i < a->n_components; i++) {
		const tb_component_t *c = &a->components[i];

		/* A component without purl is legal (the API keeps SBOM components
		 * by name + version then); the sink skips it: artifact_components
		 * is keyed by purl and nothing joins on the others. */
		if (!tb_agg_utf8_valid(c->purl) || !tb_agg_utf8_valid(c->name) ||
		    !tb_agg_utf8_valid(c->version))
			return tb_err(err, "invalid: component %zu has text that is not valid UTF-8", i);
	}
	for (size_t i = 0; i < a->n_binaries; i++) {
		const tb_binary_t *b = &a->binaries[i];

		if (!b->path || !b->path[0])
			return tb_err(err, "invalid: binary %zu has no path", i);
		if (!tb_agg_utf8_valid(b->path) || !tb_agg_utf8_valid(b->build_id) ||
		    !tb_agg_utf8_valid(b->purl))
			return tb_err(err, "invalid: binary %zu has text that is not valid UTF-8", i);
	}
	return 0;
}

int tb_agg_finding_check(const tb_finding_t *f, tb_err_t *err)
{
	const char *const texts[][2] = {
	    {"tenant", f->tenant}, {"finding_id", f->finding_id},	    {"vuln_id", f->vuln_id},
	    {"purl", f->purl},	   {"artifact_digest", f->artifact_digest},
	};

	if (!f->tenant || !f->tenant[0] || !f->finding_id || !f->finding_id[0])
		return tb_err(err, "invalid: finding without tenant or finding_id");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (check_text(texts[i][0], texts[i][1], err) < 0)
			return -1;
	for (size_t i = 0; i < f->n_symbols; i++)
		if (!f->symbols[i] || !f->symbols[i][0] || !tb_agg_utf8_valid(f->symbols[i]))
			return tb_err(err, "invalid: symbol %zu is empty or not valid UTF-8", i);
	return 0;
}

/* ---- growable arrays -------------------------------------------------------- */

/* Make room for one more element of `size` bytes in *arr (n used, *cap). */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 256;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

#define PUSH(f, name, row)                                                                                   \
	(grow((void **)&(f)->name, &(f)->cap_##name, (f)->n_##name, sizeof(*(f)->name)) < 0                  \
	     ? -1                                                                                            \
	     : ((f)->name[(f)->n_##name++] = (row), 0))

/* qsort, but fine with an empty (NULL) array. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sort ids and drop repeats; returns the new count. */
static size_t unique_ids(int64_t *ids, size_t n)
{
	size_t k = 0;

	sort(ids, n, sizeof(*ids), cmp_i64);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	return k;
}

/* The batch's pointer for text s (s itself when it is new and the table is
 * full: still correct, only compared by strcmp). */
static const char *intern(tb_agg_fold_t *f, const char *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < f->n_interned; i++)
		if (f->interned[i] == s || strcmp(f->interned[i], s) == 0)
			return f->interned[i];
	if (f->n_interned < sizeof(f->interned) / sizeof(f->interned[0]))
		f->interned[f->n_interned++] = s;
	return s;
}

static int add_hot(tb_agg_fold_t *f, const tb_event_t *ev, const char *tenant, size_t n_ids,
		   int64_t leaf_sid)
{
	int64_t ts_us = tb_agg_ts_us(ev->ts_ns);
	const char *art = intern(f, ev->artifact_digest ? ev->artifact_digest : "");

	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		int64_t ws = tb_agg_window_start_us(ts_us, widths[w]);

		for (size_t i = 0; i < n_ids; i++) {
			tb_agg_hot_t h = {
			    tenant,	art,	       widths[w],
			    ws,		f->scratch[i], f->scratch[i] == leaf_sid ? ev->count : 0,
			    ev->count,	ts_us,	       ts_us};

			if (PUSH(f, hot, h) < 0)
				return -1;
		}
	}
	return 0;
}

int tb_agg_fold_event(tb_agg_fold_t *f, const tb_event_t *ev, tb_err_t *err)
{
	long leaf = tb_agg_leaf_index(ev);
	int64_t leaf_sid;
	const char *tenant;

	if (leaf < 0)
		return 0; /* exec/exit/load: an observation, but no symbols */
	tenant = intern(f, ev->tenant);
	if (ev->n_frames > f->cap_scratch) {
		int64_t *p = realloc(f->scratch, ev->n_frames * sizeof(*p));

		if (!p)
			return tb_err(err, "fold: out of memory");
		f->scratch = p;
		f->cap_scratch = ev->n_frames;
	}
	for (size_t i = 0; i < ev->n_frames; i++) {
		const tb_canon_frame_t *fr = &ev->frames[i];
		int64_t sid = tb_agg_symbol_id(fr->build_id, fr->module, fr->symbol);
		tb_agg_symbol_t s = {tenant,
				     sid,
				     fr->build_id ? fr->build_id : "",
				     fr->module ? fr->module : "",
				     fr->symbol ? fr->symbol : "",
				     fr->purl && fr->purl[0] ? fr->purl : NULL};
		tb_agg_frame_t fm = {tenant, fr->frame_id, sid, fr->file_offset, fr->kernel != 0};

		f->scratch[i] = sid;
		if (PUSH(f, symbols, s) < 0 || PUSH(f, frames, fm) < 0)
			return tb_err(err, "fold: out of memory");
	}
	if (ev->stack_id != 0) {
		tb_agg_stack_t st = {tenant, ev->stack_id, ev->frames, ev->n_frames};

		if (PUSH(f, stacks, st) < 0)
			return tb_err(err, "fold: out of memory");
	}
	leaf_sid = f->scratch[leaf];
	if (add_hot(f, ev, tenant, unique_ids(f->scratch, ev->n_frames), leaf_sid) < 0)
		return tb_err(err, "fold: out of memory");
	return 0;
}

/* ---- sort + merge ------------------------------------------------------------ */

static int cmp_str(const char *a, const char *b)
{
	if (a == b)
		return 0; /* interned (or the same event's) text */
	return strcmp(a ? a : "", b ? b : "");
}

#define CMP_NUM(x, y)                                                                                        \
	do {                                                                                                 \
		if ((x) != (y))                                                                              \
			return (x) < (y) ? -1 : 1;                                                           \
	} while (0)

static int cmp_symbol(const void *pa, const void *pb)
{
	const tb_agg_symbol_t *a = pa, *b = pb;
	int c = cmp_str(a->tenant, b->tenant);

	if (c)
		return c;
	CMP_NUM(a->symbol_id, b->symbol_id);
	return 0;
}

static int cmp_frame(const void *pa, const void *pb)
{
	const tb_agg_frame_t *a = pa, *b = pb;
	int c = cmp_str(a->tenant, b->tenant);

	if (c)
		return c;
	CMP_NUM(a->frame_id, b->frame_id);
	/* Inconsistent duplicates (should not exist): the smallest wins, whatever the order. */
	CMP_NUM(a->symbol_id, b->symbol_id);
	CMP_NUM(a->file_offset, b->file_offset);
	CMP_NUM(a->kernel, b->kernel);
	return 0;
}

static int cmp_stack(const void *pa, const void *pb)
{
	const tb_agg_stack_t *a = pa, *b = pb;
	int c = cmp_str(a->tenant, b->tenant);

	if (c)
		return c;
	CMP_NUM(a->stack_id, b->stack_id);
	return 0;
}

static int cmp_hot(const void *pa, const void *pb)
{
	const tb_agg_hot_t *a = pa, *b = pb;
	int c = cmp_str(a->tenant, b->tenant);

	if (c)
		return c;
	c = cmp_str(a->artifact, b->artifact);
	if (c)
		return c;
	CMP_NUM(a->width, b->width);
	CMP_NUM(a->window_start_us, b->window_start_us);
	CMP_NUM(a->symbol_id, b->symbol_id);
	return 0;
}

/* The smaller of two purls by byte order, NULL counting as "none". */
static const char *min_purl(const char *a, const char *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return strcmp(a, b) <= 0 ? a : b;
}

static void merge_symbols(tb_agg_fold_t *f)
{
	size_t k = 0;

	sort(f->symbols, f->n_symbols, sizeof(*f->symbols), cmp_symbol);
	for (size_t i = 0; i < f->n_symbols; i++) {
		if (k && cmp_symbol(&f->symbols[k - 1], &f->symbols[i]) == 0) {
			f->symbols[k - 1].purl = min_purl(f->symbols[k - 1].purl, f->symbols[i].purl);
			continue;
		}
		f->symbols[k++] = f->symbols[i];
	}
	f->n_symbols = k;
}

static void merge_frames(tb_agg_fold_t *f)
{
	size_t k = 0;

	sort(f->frames, f->n_frames, sizeof(*f->frames), cmp_frame);
	for (size_t i = 0; i < f->n_frames; i++)
		if (!k || cmp_str(f->frames[k - 1].tenant, f->frames[i].tenant) != 0 ||
		    f->frames[k - 1].frame_id != f->frames[i].frame_id)
			f->frames[k++] = f->frames[i];
	f->n_frames = k;
}

static void merge_stacks(tb_agg_fold_t *f)
{
	size_t k = 0;

	sort(f->stacks, f->n_stacks, sizeof(*f->stacks), cmp_stack);
	for (size_t i = 0; i < f->n_stacks; i++)
		if (!k || cmp_stack(&f->stacks[k - 1], &f->stacks[i]) != 0)
			f->stacks[k++] = f->stacks[i];
	f->n_stacks = k;
}

static void merge_hot(tb_agg_fold_t *f)
{
	size_t k = 0;

	sort(f->hot, f->n_hot, sizeof(*f->hot), cmp_hot);
	for (size_t i = 0; i < f->n_hot; i++) {
		tb_agg_hot_t *h = &f->hot[i], *p = k ? &f->hot[k - 1] : NULL;

		if (!p || cmp_hot(p, h) != 0) {
			f->hot[k++] = *h;
			continue;
		}
		p->self_count += h->self_count;
		p->total_count += h->total_count;
		if (h->first_us < p->first_us)
			p->first_us = h->first_us;
		if (h->last_us > p->last_us)
			p->last_us = h->last_us;
	}
	f->n_hot = k;
}

void tb_agg_fold_finish(tb_agg_fold_t *f)
{
	merge_symbols(f);
	merge_frames(f);
	merge_stacks(f);
	merge_hot(f);
}

void tb_agg_fold_reset(tb_agg_fold_t *f)
{
	f->n_symbols = f->n_frames = f->n_stacks = f->n_hot = 0;
	f->n_interned = 0; /* they point into the previous batch's events */
}

void tb_agg_fold_free(tb_agg_fold_t *f)
{
	free(f->symbols);
	free(f->frames);
	free(f->stacks);
	free(f->hot);
	free(f->scratch);
	memset(f, 0, sizeof(*f));
}

/* ---- observations -------------------------------------------------------------- */

static int cmp_obs_key(const char *tenant, const uint8_t *event_id, int64_t ts_us, const tb_agg_obs_t *o)
{
	int c = cmp_str(tenant, o->ev->tenant);

	if (c)
		return c;
	c = memcmp(event_id, o->ev->event_id, TB_EVENT_ID_LEN);
	if (c)
		return c;
	CMP_NUM(ts_us, o->ts_us);
	return 0;
}

static int cmp_obs(const void *pa, const void *pb)
{
	const tb_agg_obs_t *a = pa, *b = pb;
	int c = cmp_obs_key(a->ev->tenant, a->ev->event_id, a->ts_us, b);

	if (c)
		return c;
	CMP_NUM(a->index, b->index);
	return 0;
}

size_t tb_agg_obs_dedupe(tb_agg_obs_t *obs, size_t n)
{
	size_t k = 0;

	sort(obs, n, sizeof(*obs), cmp_obs);
	for (size_t i = 0; i < n; i++)
		if (!k || cmp_obs_key(obs[i].ev->tenant, obs[i].ev->event_id, obs[i].ts_us, &obs[k - 1]) != 0)
			obs[k++] = obs[i];
	return k;
}

tb_agg_obs_t *tb_agg_obs_find(tb_agg_obs_t *obs, size_t n, const char *tenant,
			      const uint8_t event_id[TB_EVENT_ID_LEN], int64_t ts_us)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_obs_key(tenant, event_id, ts_us, &obs[mid]);

		if (c == 0)
			return &obs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
