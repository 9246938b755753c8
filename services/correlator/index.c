/*
 * index.c — artifact/finding index of the correlator (see index.h).
 *
 * Artifacts and findings are kept as light copies in two primary maps. The
 * lookup maps (by build-id, by image+basename, by purl+symbol) are derived:
 * any change marks them stale and the next correlate rebuilds them. Changes
 * are rare (SBOM uploads, new findings) and events are many, so this keeps
 * the update path trivially correct and the event path a few hash lookups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "tb/map.h"

typedef struct bin {
	char *path;
	char *basename;
	char *build_id;
	char *purl;
} bin_t;

typedef struct art {
	char *tenant;
	char *digest;
	bin_t *bins;
	size_t n_bins;
} art_t;

typedef struct fnd {
	char *tenant;
	char *id;
	char *purl;
	char *artifact_digest;
	char **symbols;
	size_t n_symbols;
} fnd_t;

/* A growable list of pointers stored as a derived-map value. */
typedef struct plist {
	void **items;
	size_t n, cap;
} plist_t;

struct tb_corr_index {
	tb_map_t *arts;     /* tenant\x1f digest -> art_t */
	tb_map_t *fnds;     /* tenant\x1f id -> fnd_t */
	int stale;
	tb_map_t *by_build; /* tenant\x1f build_id -> plist of (art_t, bin_t) pairs */
	tb_map_t *by_image; /* tenant\x1f digest\x1f basename -> bin_t */
	tb_map_t *by_sym;   /* tenant\x1f purl\x1f symbol -> plist of fnd_t */
	tb_map_t *by_purl;  /* tenant\x1f purl -> plist of fnd_t (no symbols) */
};

static char *dupz(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : (p ? p : "");
}

static void key2(char *buf, size_t cap, const char *a, const char *b)
{
	snprintf(buf, cap, "%s\x1f%s", a ? a : "", b ? b : "");
}

static void key3(char *buf, size_t cap, const char *a, const char *b, const char *c)
{
	snprintf(buf, cap, "%s\x1f%s\x1f%s", a ? a : "", b ? b : "", c ? c : "");
}

static void plist_push(plist_t *l, void *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		void **n = realloc(l->items, cap * sizeof(*n));

		if (!n)
			abort();
		l->items = n;
		l->cap = cap;
	}
	l->items[l->n++] = p;
}

static void plist_free(void *p)
{
	plist_t *l = p;

	if (l) {
		free(l->items);
		free(l);
	}
}

static plist_t *plist_at(tb_map_t *m, const char *key)
{
	plist_t *l = tb_map_get(m, key);

	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			abort();
		tb_map_put(m, key, l);
	}
	return l;
}

static void art_free(void *p)
{
	art_t *a = p;

	if (!a)
		return;
	for (size_t i = 0; i < a->n_bins; i++) {
		free(a->bins[i].path);
		free(a->bins[i].basename);
		free(a->bins[i].build_id);
		free(a->bins[i].purl);
	}
	free(a->bins);
	free(a->tenant);
	free(a->digest);
	free(a);
}

static void fnd_free(void *p)
{
	fnd_t *f = p;

	if (!f)
		return;
	for (size_t i = 0; i < f->n_symbols; i++)
		free(f->symbols[i]);
	free(f->symbols);
	free(f->tenant);
	free(f->id);
	free(f->purl);
	free(f->artifact_digest);
	free(f);
}

static void drop_derived(tb_corr_index_t *idx)
{
	tb_map_free(idx->by_build, plist_free);
	tb_map_free(idx->by_image, NULL);
	tb_map_free(idx->by_sym, plist_free);
	tb_map_free(idx->by_purl, plist_free);
	idx->by_build = idx->by_image = idx->by_sym = idx->by_purl = NULL;
}

tb_corr_index_t *tb_corr_index_new(void)
{
	tb_corr_index_t *idx = calloc(1, sizeof(*idx));

	if (!idx)
		return NULL;
	idx->arts = tb_map_new(64);
	idx->fnds = tb_map_new(64);
	idx->stale = 1;
	return idx;
}

void tb_corr_index_free(tb_corr_index_t *idx)
{
	if (!idx)
		return;
	drop_derived(idx);
	tb_map_free(idx->arts, art_free);
	tb_map_free(idx->fnds, fnd_free);
	free(idx);
}

int tb_corr_index_put_artifact(tb_corr_index_t *idx, const tb_artifact_t *a, tb_err_t *err)
{
	char key[1024];
	art_t *c;

	if (!a->digest || !a->digest[0])
		return tb_err(err, "artifact without digest");
	c = calloc(1, sizeof(*c));
	if (!c)
		return tb_err(err, "out of memory");
	c->tenant = dupz(a->tenant);
	c->digest = dupz(a->digest);
	c->bins = calloc(a->n_binaries ? a->n_binaries : 1, sizeof(*c->bins));
	if (!c->bins)
		abort();
	for (size_t i = 0; i < a->n_binaries; i++) {
		const tb_binary_t *b = &a->binaries[i];
		bin_t *d = &c->bins[c->n_bins++];

		d->path = dupz(b->path);
		d->basename = dupz(base_name(b->path));
		d->build_id = dupz(b->build_id);
		d->purl = dupz(b->purl);
	}
	key2(key, sizeof(key), c->tenant, c->digest);
	art_free(tb_map_put(idx->arts, key, c));
	idx->stale = 1;
	return 0;
}

void tb_corr_index_del_artifact(tb_corr_index_t *idx, const char *tenant, const char *digest)
{
	char key[1024];

	key2(key, sizeof(key), tenant, digest);
	art_free(tb_map_del(idx->arts, key));
	idx->stale = 1;
}

int tb_corr_index_put_finding(tb_corr_index_t *idx, const tb_finding_t *f, tb_err_t *err)
{
	char key[1024];
	fnd_t *c;

	if (!f->finding_id || !f->finding_id[0])
		return tb_err(err, "finding without id");
	if (!f->purl || !f->purl[0])
		return tb_err(err, "finding %s without purl", f->finding_id);
	c = calloc(1, sizeof(*c));
	if (!c)
		return tb_err(err, "out of memory");
	c->tenant = dupz(f->tenant);
	c->id = dupz(f->finding_id);
	c->purl = dupz(f->purl);
	c->artifact_digest = dupz(f->artifact_digest);
	c->symbols = calloc(f->n_symbols ? f->n_symbols : 1, sizeof(char *));
	if (!c->symbols)
		abort();
	for (size_t i = 0; i < f->n_symbols; i++)
		c->symbols[c->n_symbols++] = dupz(f->symbols[i]);
	key2(key, sizeof(key), c->tenant, c->id);
	fnd_free(tb_map_put(idx->fnds, key, c));
	idx->stale = 1;
	return 0;
}

void tb_corr_index_del_finding(tb_corr_index_t *idx, const char *tenant, const char *finding_id)
{
	char key[1024];

	key2(key, sizeof(key), tenant, finding_id);
	fnd_free(tb_map_del(idx->fnds, key));
	idx->stale = 1;
}

static void rebuild(tb_corr_index_t *idx)
{
	char key[2048];
	size_t cur = 0;
	const char *k;
	void *v;

	drop_derived(idx);
	idx->by_build = tb_map_new(256);
	idx->by_image = tb_map_new(256);
	idx->by_sym = tb_map_new(64);
	idx->by_purl = tb_map_new(64);
	while (tb_map_next(idx->arts, &cur, &k, &v)) {
		art_t *a = v;

		for (size_t i = 0; i < a->n_bins; i++) {
			bin_t *b = &a->bins[i];

			if (b->build_id[0]) {
				plist_t *l;

				key2(key, sizeof(key), a->tenant, b->build_id);
				l = plist_at(idx->by_build, key);
				plist_push(l, a);
				plist_push(l, b);
			}
			key3(key, sizeof(key), a->tenant, a->digest, b->basename);
			if (!tb_map_get(idx->by_image, key))
				tb_map_put(idx->by_image, key, b);
		}
	}
	cur = 0;
	while (tb_map_next(idx->fnds, &cur, &k, &v)) {
		fnd_t *f = v;

		if (f->n_symbols == 0) {
			key2(key, sizeof(key), f->tenant, f->purl);
			plist_push(plist_at(idx->by_purl, key), f);
		}
		for (size_t i = 0; i < f->n_symbols; i++) {
			key3(key, sizeof(key), f->tenant, f->purl, f->symbols[i]);
			plist_push(plist_at(idx->by_sym, key), f);
		}
	}
	idx->stale = 0;
}

/* Pick the binary for a build-id: the event's own image first, else the
 * artifact with the smallest digest (deterministic). */
static int pick_by_build(tb_corr_index_t *idx, const char *tenant, const char *build_id, const char *image,
			 art_t **art, bin_t **bin)
{
	char key[1024];
	plist_t *l;

	key2(key, sizeof(key), tenant, build_id);
	l = tb_map_get(idx->by_build, key);
	if (!l)
		return 0;
	*art = NULL;
	for (size_t i = 0; i + 1 < l->n; i += 2) {
		art_t *a = l->items[i];

		if (image && image[0] && strcmp(a->digest, image) == 0) {
			*art = a;
			*bin = l->items[i + 1];
			return 1;
		}
		if (!*art || strcmp(a->digest, (*art)->digest) < 0) {
			*art = a;
			*bin = l->items[i + 1];
		}
	}
	return *art != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_findings(plist_t *l, const char *artifact, char ***ids, size_t *n, size_t *cap)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		fnd_t *f = l->items[i];

		if (f->artifact_digest[0] && strcmp(f->artifact_digest, artifact) != 0)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 4;
			*ids = realloc(*ids, *cap * sizeof(char *));
			if (!*ids)
				abort();
		}
		(*ids)[(*n)++] = dupz(f->id);
	}
}

static void clear_frame_corr(tb_canon_frame_t *fr)
{
	free(fr->artifact_digest);
	free(fr->purl);
	for (size_t i = 0; i < fr->n_finding_ids; i++)
		free(fr->finding_ids[i]);
	free(fr->finding_ids);
	fr->artifact_digest = fr->purl = NULL;
	fr->finding_ids = NULL;
	fr->n_finding_ids = 0;
}

static void correlate_frame(tb_corr_index_t *idx, const tb_event_t *ev, tb_canon_frame_t *fr)
{
	const char *image = ev->container.image_digest;
	art_t *art = NULL;
	bin_t *bin = NULL;
	char key[2048];
	char **ids = NULL;
	size_t n = 0, cap = 0, w = 0;

	clear_frame_corr(fr);
	if (fr->kernel)
		return;
	if (!(fr->build_id && fr->build_id[0] && pick_by_build(idx, ev->tenant, fr->build_id, image, &art, &bin)) &&
	    image && image[0] && fr->module && fr->module[0]) {
		key2(key, sizeof(key), ev->tenant, image);
		art = tb_map_get(idx->arts, key);
		if (art) {
			key3(key, sizeof(key), ev->tenant, image, fr->module);
			bin = tb_map_get(idx->by_image, key);
			if (!bin)
				art = NULL;
		}
	}
	if (!art)
		return;
	fr->artifact_digest = dupz(art->digest);
	if (!bin->purl[0])
		return;
	fr->purl = dupz(bin->purl);
	key2(key, sizeof(key), ev->tenant, bin->purl);
	add_findings(tb_map_get(idx->by_purl, key), art->digest, &ids, &n, &cap);
	if (fr->symbol && fr->symbol[0]) {
		key3(key, sizeof(key), ev->tenant, bin->purl, fr->symbol);
		add_findings(tb_map_get(idx->by_sym, key), art->digest, &ids, &n, &cap);
	}
	if (n == 0)
		return;
	qsort(ids, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(ids[w - 1], ids[i]) == 0) {
			free(ids[i]);
			continue;
		}
		ids[w++] = ids[i];
	}
	fr->finding_ids = ids;
	fr->n_finding_ids = w;
}

/* An explicit claim (finding-scoped ingest: RuntimeEvent.component_purl
 * with the image digest as artifactDigest) is honoured when the index found
 * no component for the event: purl := component_purl and, when no artifact
 * was found either, artifact_digest := the image digest; the innermost user
 * frame (the traced function), when the index gave it no component, gets
 * the same artifact and purl. An index answer with a purl always wins.
 * 1 when the claim was applied. */
static int claimed_component(tb_event_t *ev)
{
	const char *img = ev->container.image_digest;

	if (ev->purl || !ev->component_purl || !ev->component_purl[0])
		return 0;
	if (ev->artifact_digest && img && strcmp(ev->artifact_digest, img) != 0)
		return 0;
	if (!ev->artifact_digest && (!img || !img[0]))
		return 0;
	if (!ev->artifact_digest)
		ev->artifact_digest = dupz(img);
	ev->purl = dupz(ev->component_purl);
	for (size_t i = 0; i < ev->n_frames; i++) {
		tb_canon_frame_t *fr = &ev->frames[i];

		if (fr->kernel)
			continue;
		if (!fr->purl) { /* the innermost user frame: the traced function */
			free(fr->artifact_digest);
			fr->artifact_digest = dupz(ev->artifact_digest);
			fr->purl = dupz(ev->component_purl);
		}
		break;
	}
	return 1;
}

/* The event's own artifact: its image if registered, else the artifact of
 * the frame that is the main binary (or the loaded file for load events),
 * else the first correlated user frame's. */
static void correlate_event(tb_corr_index_t *idx, tb_event_t *ev, size_t user, size_t matched)
{
	char key[2048];
	const char *main_mod = base_name(ev->kind && strcmp(ev->kind, "load") == 0 && ev->path ? ev->path : ev->binary);
	const tb_canon_frame_t *first = NULL, *main_fr = NULL;
	art_t *art = NULL;
	bin_t *bin = NULL;

	free(ev->artifact_digest);
	free(ev->purl);
	free(ev->correlation);
	ev->artifact_digest = ev->purl = NULL;
	for (size_t i = 0; i < ev->n_frames; i++) {
		const tb_canon_frame_t *fr = &ev->frames[i];

		if (!fr->artifact_digest)
			continue;
		if (!first)
			first = fr;
		if (!main_fr && fr->module && strcmp(fr->module, main_mod) == 0)
			main_fr = fr;
	}
	if (ev->build_id && ev->build_id[0] && pick_by_build(idx, ev->tenant, ev->build_id,
							    ev->container.image_digest, &art, &bin)) {
		ev->artifact_digest = dupz(art->digest);
		ev->purl = bin->purl[0] ? dupz(bin->purl) : NULL;
	} else if (main_fr) {
		ev->artifact_digest = dupz(main_fr->artifact_digest);
		ev->purl = main_fr->purl ? dupz(main_fr->purl) : NULL;
	} else if (ev->container.image_digest && ev->container.image_digest[0]) {
		key2(key, sizeof(key), ev->tenant, ev->container.image_digest);
		art = tb_map_get(idx->arts, key);
		if (art) {
			ev->artifact_digest = dupz(art->digest);
			key3(key, sizeof(key), ev->tenant, art->digest, main_mod);
			bin = tb_map_get(idx->by_image, key);
			if (bin && bin->purl[0])
				ev->purl = dupz(bin->purl);
		}
	}
	if (!ev->artifact_digest && first) {
		ev->artifact_digest = dupz(first->artifact_digest);
		ev->purl = first->purl ? dupz(first->purl) : NULL;
	}
	if (claimed_component(ev) && user > 0 && matched == 0)
		ev->correlation = dupz("partial"); /* the caller's word, not the index's */
	else if (user > 0)
		ev->correlation = dupz(matched == user ? "correlated" : matched ? "partial" : "uncorrelated");
	else
		ev->correlation = dupz(ev->artifact_digest ? "correlated" : "uncorrelated");
}

int tb_corr_correlate(tb_corr_index_t *idx, tb_event_t *ev, tb_err_t *err)
{
	size_t user = 0, matched = 0;

	(void)err;
	if (idx->stale)
		rebuild(idx);
	for (size_t i = 0; i < ev->n_frames; i++) {
		tb_canon_frame_t *fr = &ev->frames[i];

		correlate_frame(idx, ev, fr);
		if (!fr->kernel) {
			user++;
			matched += fr->artifact_digest != NULL;
		}
	}
	correlate_event(idx, ev, user, matched);
	return 0;
}

void tb_corr_index_stats(tb_corr_index_t *idx, tb_corr_stats_t *out)
{
	size_t cur = 0;
	const char *k;
	void *v;

	memset(out, 0, sizeof(*out));
	out->artifacts = tb_map_size(idx->arts);
	out->findings = tb_map_size(idx->fnds);
	while (tb_map_next(idx->arts, &cur, &k, &v))
		out->binaries += ((art_t *)v)->n_bins;
}
