/*
 * watch.c — the watch list and its purl -> binary resolution (rules in
 * watch.h).
 *
 * Entries are kept in one array: file entries (replaced as a whole on
 * reload) and finding entries (replaced one by one, by finding id).
 * Artifacts are kept as copies of their binaries and component purls.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "watch.h"

#define MAX_SYMS_PER_LINE 256

typedef struct art_bin {
	char *path, *build_id, *purl;
} art_bin_t;

typedef struct artifact {
	char *digest;
	art_bin_t *bins;
	size_t n_bins;
	char **purls; /* component purls */
	size_t n_purls;
} artifact_t;

typedef struct entry {
	tb_pa_watch_entry_t e;
	char *finding_id; /* NULL for file entries */
} entry_t;

struct tb_pa_watch {
	entry_t *v;
	size_t n, cap;
	artifact_t *arts;
	size_t n_arts, cap_arts;
	uint64_t version;
};

static void entry_clear(entry_t *x)
{
	free(x->e.target);
	for (size_t i = 0; x->e.symbols && i < x->e.n_symbols; i++)
		free(x->e.symbols[i]);
	free(x->e.symbols);
	free(x->e.origin);
	free(x->e.artifact_digest);
	free(x->finding_id);
	memset(x, 0, sizeof(*x));
}

static void artifact_clear(artifact_t *a)
{
	free(a->digest);
	for (size_t i = 0; a->bins && i < a->n_bins; i++) {
		free(a->bins[i].path);
		free(a->bins[i].build_id);
		free(a->bins[i].purl);
	}
	free(a->bins);
	for (size_t i = 0; a->purls && i < a->n_purls; i++)
		free(a->purls[i]);
	free(a->purls);
	memset(a, 0, sizeof(*a));
}

tb_pa_watch_t *tb_pa_watch_new(void)
{
	return calloc(1, sizeof(tb_pa_watch_t));
}

void tb_pa_watch_free(tb_pa_watch_t *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		entry_clear(&w->v[i]);
	free(w->v);
	for (size_t i = 0; i < w->n_arts; i++)
		artifact_clear(&w->arts[i]);
	free(w->arts);
	free(w);
}

uint64_t tb_pa_watch_version(const tb_pa_watch_t *w)
{
	return w->version;
}

size_t tb_pa_watch_count(const tb_pa_watch_t *w)
{
	return w->n;
}

const tb_pa_watch_entry_t *tb_pa_watch_at(const tb_pa_watch_t *w, size_t i)
{
	return i < w->n ? &w->v[i].e : NULL;
}

static entry_t *push_entry(tb_pa_watch_t *w)
{
	entry_t *nv;

	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;

		nv = realloc(w->v, ncap * sizeof(*nv));
		if (!nv)
			return NULL;
		w->v = nv;
		w->cap = ncap;
	}
	memset(&w->v[w->n], 0, sizeof(w->v[0]));
	return &w->v[w->n++];
}

/* ---- the file ---------------------------------------------------------------- */

/* Next token of a line: bare word or "quoted"; NULL at the end or on a
 * comment. *bad set on an unterminated quote. */
static char *next_token(char **p, int *bad)
{
	char *s = *p, *start;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#')
		return NULL;
	if (*s == '"') {
		start = ++s;
		while (*s && *s != '"')
			s++;
		if (*s != '"') {
			*bad = 1;
			return NULL;
		}
		*s++ = '\0';
		*p = s;
		return start;
	}
	start = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

static int target_kind(const char *t, tb_pa_watch_kind_t *kind)
{
	if (t[0] == '/') {
		*kind = TB_PA_WATCH_PATH;
		return 0;
	}
	if (strncmp(t, "build-id:", 9) == 0) {
		size_t n = strlen(t + 9);

		if (n < 2 || n % 2 || strspn(t + 9, "0123456789abcdefABCDEF") != n)
			return -1;
		*kind = TB_PA_WATCH_BUILD_ID;
		return 0;
	}
	if (strncmp(t, "pkg:", 4) == 0 && strchr(t + 4, '/')) {
		*kind = TB_PA_WATCH_PURL;
		return 0;
	}
	return -1;
}

static int parse_line(entry_t *x, char *line, const char *origin, size_t lineno, tb_err_t *err)
{
	char *p = line, *tok, *target, *syms[MAX_SYMS_PER_LINE], where[600];
	int bad = 0;
	size_t n = 0;

	snprintf(where, sizeof(where), "%s:%zu", origin, lineno);
	target = next_token(&p, &bad);
	if (!target || target_kind(target, &x->e.kind) < 0)
		return tb_err(err, "%s: '%.100s' is not an absolute path, build-id:HEX or pkg: purl", where,
			      target ? target : line);
	while ((tok = next_token(&p, &bad)) != NULL) {
		if (n == MAX_SYMS_PER_LINE)
			return tb_err(err, "%s: more than %d symbols", where, MAX_SYMS_PER_LINE);
		if (!*tok)
			return tb_err(err, "%s: empty symbol name", where);
		syms[n++] = tok;
	}
	if (bad)
		return tb_err(err, "%s: unterminated quote", where);
	if (n == 0)
		return tb_err(err, "%s: no symbol after the target", where);
	x->e.target = strdup(target);
	x->e.origin = strdup(where);
	x->e.symbols = calloc(n, sizeof(char *));
	if (!x->e.target || !x->e.origin || !x->e.symbols)
		return tb_err(err, "%s: out of memory", where);
	if (x->e.kind == TB_PA_WATCH_BUILD_ID) {
		memmove(x->e.target, x->e.target + 9, strlen(x->e.target + 9) + 1);
		for (char *c = x->e.target; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	for (size_t i = 0; i < n; i++, x->e.n_symbols++)
		if (!(x->e.symbols[i] = strdup(syms[i])))
			return tb_err(err, "%s: out of memory", where);
	return 0;
}

/* Parse into a separate array first, so a bad file changes nothing. */
/* Every line of text into fresh (all or nothing). */
static int parse_all(tb_pa_watch_t *fresh, char *text, const char *origin, tb_err_t *err)
{
	size_t lineno = 0;

	for (char *p = text; p && *p;) {
		char *nl = strchr(p, '\n'), *line = p, *tmp;
		entry_t *x;

		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		tmp = line + strspn(line, " \t");
		if (!*tmp || *tmp == '#')
			continue;
		x = push_entry(fresh);
		if (!x)
			return tb_err(err, "%s: out of memory", origin);
		if (parse_line(x, tmp, origin, lineno, err) < 0)
			return -1;
	}
	return 0;
}

/* Drop w's file entries (keeping the findings') and move fresh's in. */
static void replace_file_entries(tb_pa_watch_t *w, tb_pa_watch_t *fresh)
{
	size_t keep = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (w->v[i].finding_id)
			w->v[keep++] = w->v[i];
		else
			entry_clear(&w->v[i]);
	}
	w->n = keep;
	for (size_t i = 0; i < fresh->n; i++) {
		entry_t *x = push_entry(w);

		if (x)
			*x = fresh->v[i];
		else
			entry_clear(&fresh->v[i]);
	}
	free(fresh->v);
	w->version++;
}

int tb_pa_watch_parse(tb_pa_watch_t *w, const char *text, const char *origin, tb_err_t *err)
{
	tb_pa_watch_t fresh = {0};
	char *copy = strdup(text);
	int rc;

	if (!copy)
		return tb_err(err, "%s: out of memory", origin);
	rc = parse_all(&fresh, copy, origin, err);
	free(copy);
	if (rc < 0) {
		for (size_t i = 0; i < fresh.n; i++)
			entry_clear(&fresh.v[i]);
		free(fresh.v);
		return -1;
	}
	replace_file_entries(w, &fresh);
	return 0;
}

int tb_pa_watch_load_file(tb_pa_watch_t *w, const char *path, tb_err_t *err)
{
	char *buf;
	int r;

	if (tb_pa_read_file(path, &buf, NULL, err) < 0)
		return -1;
	r = tb_pa_watch_parse(w, buf, path, err);
	free(buf);
	return r;
}

/* ---- findings and artifacts -------------------------------------------------- */

void tb_pa_watch_del_finding(tb_pa_watch_t *w, const char *finding_id)
{
	for (size_t i = 0; i < w->n; i++) {
		if (!w->v[i].finding_id || strcmp(w->v[i].finding_id, finding_id) != 0)
			continue;
		entry_clear(&w->v[i]);
		w->v[i] = w->v[--w->n];
		w->version++;
		return;
	}
}

int tb_pa_watch_put_finding(tb_pa_watch_t *w, const tb_finding_t *f)
{
	entry_t *x;
	char origin[300];

	if (!f->finding_id || !f->finding_id[0])
		return -1;
	tb_pa_watch_del_finding(w, f->finding_id);
	if (f->n_symbols == 0 || !f->purl || !f->purl[0])
		return 0;
	x = push_entry(w);
	if (!x)
		return -1;
	snprintf(origin, sizeof(origin), "finding %s", f->finding_id);
	x->e.kind = TB_PA_WATCH_PURL;
	x->e.target = strdup(f->purl);
	x->e.origin = strdup(origin);
	x->finding_id = strdup(f->finding_id);
	x->e.artifact_digest =
	    f->artifact_digest && f->artifact_digest[0] ? strdup(f->artifact_digest) : NULL;
	x->e.symbols = calloc(f->n_symbols, sizeof(char *));
	if (!x->e.target || !x->e.origin || !x->finding_id || !x->e.symbols)
		goto oom;
	for (size_t i = 0; i < f->n_symbols; i++) {
		if (!f->symbols[i] || !f->symbols[i][0])
			continue;
		if (!(x->e.symbols[x->e.n_symbols] = strdup(f->symbols[i])))
			goto oom;
		x->e.n_symbols++;
	}
	w->version++;
	return 0;
oom:
	entry_clear(x);
	w->n--;
	return -1;
}

void tb_pa_watch_del_artifact(tb_pa_watch_t *w, const char *digest)
{
	for (size_t i = 0; i < w->n_arts; i++) {
		if (strcmp(w->arts[i].digest, digest) != 0)
			continue;
		artifact_clear(&w->arts[i]);
		w->arts[i] = w->arts[--w->n_arts];
		w->version++;
		return;
	}
}

static char *dup0(const char *s, int *oom)
{
	char *d;

	if (!s || !*s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

int tb_pa_watch_put_artifact(tb_pa_watch_t *w, const tb_artifact_t *a)
{
	artifact_t *x, *nv;
	int oom = 0;

	if (!a->digest || !a->digest[0])
		return -1;
	tb_pa_watch_del_artifact(w, a->digest);
	if (w->n_arts == w->cap_arts) {
		size_t ncap = w->cap_arts ? w->cap_arts * 2 : 8;

		nv = realloc(w->arts, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		w->arts = nv;
		w->cap_arts = ncap;
	}
	x = &w->arts[w->n_arts++];
	memset(x, 0, sizeof(*x));
	x->digest = dup0(a->digest, &oom);
	x->bins = calloc(a->n_binaries + 1, sizeof(*x->bins));
	x->purls = calloc(a->n_components + 1, sizeof(char *));
	if (!x->bins || !x->purls)
		oom = 1;
	for (size_t i = 0; !oom && i < a->n_binaries; i++, x->n_bins++) {
		x->bins[i].path = dup0(a->binaries[i].path, &oom);
		x->bins[i].build_id = dup0(a->binaries[i].build_id, &oom);
		x->bins[i].purl = dup0(a->binaries[i].purl, &oom);
		for (char *c = x->bins[i].build_id; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	for (size_t i = 0; !oom && i < a->n_components; i++)
		if (a->components[i].purl && a->components[i].purl[0])
			x->purls[x->n_purls++] = dup0(a->components[i].purl, &oom);
	w->version++;
	if (oom) {
		artifact_clear(x);
		w->n_arts--;
		return -1;
	}
	return 0;
}

/* ---- resolution ---------------------------------------------------------------- */

static int purl_eq(const char *a, const char *b)
{
	size_t la, lb;

	if (!a || !b)
		return 0;
	la = strcspn(a, "?#");
	lb = strcspn(b, "?#");
	return la == lb && strncmp(a, b, la) == 0;
}

static int bin_is(const art_bin_t *b, const char *path, const char *build_id)
{
	if (b->build_id && build_id)
		return strcasecmp(b->build_id, build_id) == 0;
	return !b->build_id && b->path && path && strcmp(b->path, path) == 0;
}

static int artifact_has_purl(const artifact_t *a, const char *purl)
{
	for (size_t i = 0; i < a->n_purls; i++)
		if (purl_eq(a->purls[i], purl))
			return 1;
	return 0;
}

/* Does artifact a want binary (path, build_id) for purl? */
static int art_wants(const artifact_t *a, const char *purl, const char *path, const char *build_id)
{
	int any_owner = 0, hit = 0;

	for (size_t i = 0; i < a->n_bins; i++) {
		const art_bin_t *b = &a->bins[i];

		if (!purl_eq(b->purl, purl))
			continue;
		any_owner = 1;
		hit |= bin_is(b, path, build_id);
	}
	if (any_owner)
		return hit;
	if (!artifact_has_purl(a, purl))
		return 0;
	for (size_t i = 0; i < a->n_bins; i++)
		if (bin_is(&a->bins[i], path, build_id))
			return 1;
	return 0;
}

static int entry_wants(const tb_pa_watch_t *w, const tb_pa_watch_entry_t *e, const char *path,
		       const char *build_id)
{
	switch (e->kind) {
	case TB_PA_WATCH_PATH:
		return path && strcmp(e->target, path) == 0;
	case TB_PA_WATCH_BUILD_ID:
		return build_id && strcasecmp(e->target, build_id) == 0;
	case TB_PA_WATCH_PURL:
		for (size_t i = 0; i < w->n_arts; i++) {
			if (e->artifact_digest && strcmp(e->artifact_digest, w->arts[i].digest) != 0)
				continue;
			if (art_wants(&w->arts[i], e->target, path, build_id))
				return 1;
		}
		return 0;
	}
	return 0;
}

static int add_unique(char ***arr, size_t *n, size_t *cap, char *s)
{
	char **nv;

	for (size_t i = 0; *arr && i < *n; i++)
		if (strcmp((*arr)[i], s) == 0)
			return 0;
	if (!*arr || *n == *cap) {
		*cap = *cap > *n ? *cap : (*cap ? *cap * 2 : 8);
		nv = realloc(*arr, *cap * sizeof(*nv));
		if (!nv)
			return -1;
		*arr = nv;
	}
	(*arr)[(*n)++] = s;
	return 0;
}

size_t tb_pa_watch_symbols_for(const tb_pa_watch_t *w, const char *path, const char *build_id, char ***out)
{
	char **arr = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < w->n; i++) {
		const tb_pa_watch_entry_t *e = &w->v[i].e;

		if (!entry_wants(w, e, path, build_id))
			continue;
		for (size_t j = 0; j < e->n_symbols; j++)
			add_unique(&arr, &n, &cap, e->symbols[j]);
	}
	*out = arr;
	return n;
}

size_t tb_pa_watch_paths(const tb_pa_watch_t *w, char ***out)
{
	char **arr = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < w->n; i++) {
		const tb_pa_watch_entry_t *e = &w->v[i].e;

		if (e->kind == TB_PA_WATCH_PATH) {
			add_unique(&arr, &n, &cap, e->target);
			continue;
		}
		if (e->kind != TB_PA_WATCH_PURL)
			continue;
		for (size_t a = 0; a < w->n_arts; a++) {
			if (e->artifact_digest && strcmp(e->artifact_digest, w->arts[a].digest) != 0)
				continue;
			for (size_t b = 0; b < w->arts[a].n_bins; b++)
				if (w->arts[a].bins[b].path && w->arts[a].bins[b].path[0] == '/' &&
				    (purl_eq(w->arts[a].bins[b].purl, e->target) ||
				     artifact_has_purl(&w->arts[a], e->target)))
					add_unique(&arr, &n, &cap, w->arts[a].bins[b].path);
		}
	}
	*out = arr;
	return n;
}
