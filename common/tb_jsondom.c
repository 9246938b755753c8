/*
 * tb_jsondom.c — the read-only JSON tree of tb_tetragon.c (see tb_jsondom.h
 * for why and for the subset it accepts).
 *
 * How it works: a recursive-descent parser appends every value to `nodes`;
 * the members of the container being parsed wait on a scratch stack and are
 * copied to `mems` contiguously when it closes; string bytes (unescaped, NUL
 * terminated) go to `strs`, which is sized for the input up front (a string
 * never needs more bytes than its quoted form). While parsing, values refer
 * to each other by index and offset; finish() turns them into pointers once
 * the arrays stop moving.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tb_jsondom.h"

#define MAX_DEPTH 64
#define MAX_MEMBERS 64 /* per object: the duplicate check is linear */
#define MAX_INT_DIGITS 18
#define MAX_REAL_LEN 63

struct tb_jdoc {
	tb_jv_t *nodes;
	size_t n_nodes, cap_nodes;
	tb_jmember_t *mems;
	size_t n_mems, cap_mems;
	tb_jmember_t *scratch;
	size_t n_scratch, cap_scratch;
	char *strs;
	size_t n_strs, cap_strs;
};

typedef struct parser {
	tb_jdoc_t *d;
	const char *p, *end;
	int depth;
} parser_t;

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	np = realloc(*arr, c * elem);
	if (!np)
		return -1;
	*arr = np;
	*cap = c;
	return 0;
}

static tb_jdoc_t *doc_new(size_t str_cap, size_t node_hint)
{
	tb_jdoc_t *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (grow((void **)&d->strs, &d->cap_strs, str_cap + 1, 1) < 0 ||
	    grow((void **)&d->nodes, &d->cap_nodes, node_hint, sizeof(tb_jv_t)) < 0) {
		tb_jdoc_free(d);
		return NULL;
	}
	return d;
}

void tb_jdoc_free(tb_jdoc_t *d)
{
	if (!d)
		return;
	free(d->nodes);
	free(d->mems);
	free(d->scratch);
	free(d->strs);
	free(d);
}

const tb_jv_t *tb_jdoc_root(const tb_jdoc_t *d)
{
	return d && d->n_nodes ? &d->nodes[0] : NULL;
}

tb_jv_t *tb_jv_get(const tb_jv_t *v, const char *key)
{
	if (!v || v->type != TB_JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (v->u.m[i].key[0] == key[0] && strcmp(v->u.m[i].key, key) == 0)
			return v->u.m[i].val;
	return NULL;
}

/* ---- building ------------------------------------------------------------ */

/* A new value; its index (or SIZE_MAX when out of memory). */
static size_t node_add(tb_jdoc_t *d, tb_jv_type_t type)
{
	if (grow((void **)&d->nodes, &d->cap_nodes, d->n_nodes + 1, sizeof(tb_jv_t)) < 0)
		return SIZE_MAX;
	memset(&d->nodes[d->n_nodes], 0, sizeof(tb_jv_t));
	d->nodes[d->n_nodes].type = type;
	return d->n_nodes++;
}

static int scratch_push(tb_jdoc_t *d, size_t key_off, size_t val_idx)
{
	if (grow((void **)&d->scratch, &d->cap_scratch, d->n_scratch + 1, sizeof(tb_jmember_t)) < 0)
		return -1;
	d->scratch[d->n_scratch].key_off = key_off;
	d->scratch[d->n_scratch].val_idx = val_idx;
	d->n_scratch++;
	return 0;
}

/* Move the members from scratch[from] on to `mems` as the container idx's. */
static int close_container(tb_jdoc_t *d, size_t idx, size_t from)
{
	size_t n = d->n_scratch - from;

	if (grow((void **)&d->mems, &d->cap_mems, d->n_mems + n, sizeof(tb_jmember_t)) < 0)
		return -1;
	if (n)
		memcpy(d->mems + d->n_mems, d->scratch + from, n * sizeof(tb_jmember_t));
	d->nodes[idx].u.off = d->n_mems;
	d->nodes[idx].n = n;
	d->n_mems += n;
	d->n_scratch = from;
	return 0;
}

/* Append n bytes plus a NUL to the strings; their offset or SIZE_MAX. */
static size_t str_add(tb_jdoc_t *d, const char *s, size_t n)
{
	size_t off = d->n_strs;

	if (grow((void **)&d->strs, &d->cap_strs, d->n_strs + n + 1, 1) < 0)
		return SIZE_MAX;
	memcpy(d->strs + off, s, n);
	d->strs[off + n] = '\0';
	d->n_strs += n + 1;
	return off;
}

/* Offsets and indexes -> pointers (the arrays no longer move). */
static void finish(tb_jdoc_t *d)
{
	for (size_t i = 0; i < d->n_mems; i++) {
		tb_jmember_t *m = &d->mems[i];
		size_t k = m->key_off, v = m->val_idx;

		m->key = k == SIZE_MAX ? NULL : d->strs + k;
		m->val = &d->nodes[v];
	}
	for (size_t i = 0; i < d->n_nodes; i++) {
		tb_jv_t *v = &d->nodes[i];

		if (v->type == TB_JV_STRING)
			v->u.s = d->strs + v->u.off;
		else if (v->type == TB_JV_OBJECT || v->type == TB_JV_ARRAY)
			v->u.m = d->mems ? d->mems + v->u.off : NULL; /* no member anywhere: all empty */
	}
}

/* ---- the fast parser (returns -1 for "not in the subset") ----------------- */

static void skip_ws(parser_t *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/* A string at ps->p (the opening quote): its offset in strs and length. */
static int parse_string(parser_t *ps, size_t *off, size_t *len)
{
	tb_jdoc_t *d = ps->d;
	const char *p = ps->p + 1;
	size_t start = d->n_strs;
	char *o;

	/* strs was sized for the whole input: no bounds to check per byte. */
	if (d->cap_strs - d->n_strs < (size_t)(ps->end - p) + 1)
		return -1;
	o = d->strs + start;
	for (;;) {
		const char *run = p;
		unsigned char c;

		while (p < ps->end && (c = (unsigned char)*p) >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p >= ps->end)
			return -1;
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c != '\\' || p + 1 >= ps->end)
			return -1; /* control byte, UTF-8: jansson validates those */
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
			*o++ = p[1];
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		default:
			return -1; /* \u and invalid escapes */
		}
		p += 2;
	}
	*o = '\0';
	*off = start;
	*len = (size_t)(o - (d->strs + start));
	d->n_strs = start + *len + 1;
	ps->p = p + 1;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(parser_t *ps, size_t idx)
{
	const char *s = ps->p, *p = s;
	size_t digits;
	int integral = 1;

	if (p < ps->end && *p == '-')
		p++;
	if (p >= ps->end || !is_digit(*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < ps->end && is_digit(*p))
			p++;
	digits = (size_t)(p - s) - (*s == '-');
	if (p < ps->end && *p == '.') {
		integral = 0;
		if (++p >= ps->end || !is_digit(*p))
			return -1;
		while (p < ps->end && is_digit(*p))
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		integral = 0;
		if (++p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= ps->end || !is_digit(*p))
			return -1;
		while (p < ps->end && is_digit(*p))
			p++;
	}
	if (integral) {
		long long v = 0;

		if (digits > MAX_INT_DIGITS)
			return -1; /* jansson decides: int64 or overflow */
		for (const char *q = s + (*s == '-'); q < p; q++)
			v = v * 10 + (*q - '0');
		ps->d->nodes[idx].type = TB_JV_INTEGER;
		ps->d->nodes[idx].u.i = *s == '-' ? -v : v;
	} else {
		char buf[MAX_REAL_LEN + 1];
		size_t n = (size_t)(p - s);
		double v;

		if (n > MAX_REAL_LEN)
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		v = strtod(buf, NULL); /* what jansson calls, in the C locale */
		if (errno || !isfinite(v))
			return -1;
		ps->d->nodes[idx].type = TB_JV_REAL;
		ps->d->nodes[idx].u.d = v;
	}
	ps->p = p;
	return 0;
}

static int parse_value(parser_t *ps, size_t *idx);

static int literal(parser_t *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return -1;
	ps->p += n;
	return 0;
}

static int key_seen(const tb_jdoc_t *d, size_t from, const char *key, size_t len)
{
	for (size_t i = from; i < d->n_scratch; i++) {
		const char *k = d->strs + d->scratch[i].key_off;

		if (memcmp(k, key, len + 1) == 0)
			return 1;
	}
	return 0;
}

static int parse_object(parser_t *ps, size_t idx)
{
	tb_jdoc_t *d = ps->d;
	size_t from = d->n_scratch;

	ps->p++; /* { */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return close_container(d, idx, from);
	}
	for (;;) {
		size_t koff, klen, v;

		if (ps->p >= ps->end || *ps->p != '"' || parse_string(ps, &koff, &klen) < 0)
			return -1;
		if (d->n_scratch - from >= MAX_MEMBERS || key_seen(d, from, d->strs + koff, klen))
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return -1;
		ps->p++;
		if (parse_value(ps, &v) < 0 || scratch_push(d, koff, v) < 0)
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return -1;
		if (*ps->p == '}') {
			ps->p++;
			return close_container(d, idx, from);
		}
		if (*ps->p != ',')
			return -1;
		ps->p++;
		skip_ws(ps);
	}
}

static int parse_array(parser_t *ps, size_t idx)
{
	tb_jdoc_t *d = ps->d;
	size_t from = d->n_scratch;

	ps->p++; /* [ */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return close_container(d, idx, from);
	}
	for (;;) {
		size_t v;

		if (parse_value(ps, &v) < 0 || scratch_push(d, SIZE_MAX, v) < 0)
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return -1;
		if (*ps->p == ']') {
			ps->p++;
			return close_container(d, idx, from);
		}
		if (*ps->p != ',')
			return -1;
		ps->p++;
	}
}

static int parse_value(parser_t *ps, size_t *idx)
{
	tb_jdoc_t *d = ps->d;
	size_t i, off, len;
	int r = -1;

	skip_ws(ps);
	if (ps->p >= ps->end || (i = node_add(d, TB_JV_NULL)) == SIZE_MAX)
		return -1;
	*idx = i;
	switch (*ps->p) {
	case '{':
	case '[':
		if (ps->depth >= MAX_DEPTH)
			return -1;
		ps->depth++;
		d->nodes[i].type = *ps->p == '{' ? TB_JV_OBJECT : TB_JV_ARRAY;
		r = *ps->p == '{' ? parse_object(ps, i) : parse_array(ps, i);
		ps->depth--;
		return r;
	case '"':
		if (parse_string(ps, &off, &len) < 0)
			return -1;
		d->nodes[i].type = TB_JV_STRING;
		d->nodes[i].u.off = off;
		d->nodes[i].n = len;
		return 0;
	case 't':
		d->nodes[i].type = TB_JV_TRUE;
		return literal(ps, "true", 4);
	case 'f':
		d->nodes[i].type = TB_JV_FALSE;
		return literal(ps, "false", 5);
	case 'n':
		return literal(ps, "null", 4);
	default:
		return parse_number(ps, i);
	}
}

tb_jdoc_t *tb_jdoc_parse(const char *json, size_t len, int *fallback)
{
	parser_t ps = {NULL, json, json + len, 0};
	size_t root;

	*fallback = 1;
	/* Every value takes at least two bytes of input but the last. */
	if (!(ps.d = doc_new(len, len / 8 + 16)))
		return NULL;
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{' || parse_value(&ps, &root) < 0)
		goto fail;
	skip_ws(&ps);
	if (ps.p != ps.end)
		goto fail;
	finish(ps.d);
	*fallback = 0;
	return ps.d;
fail:
	tb_jdoc_free(ps.d);
	return NULL;
}

/* ---- jansson's tree ------------------------------------------------------- */

static int convert(tb_jdoc_t *d, const json_t *v, size_t *idx)
{
	size_t i, from = d->n_scratch, off, k;
	const char *key;
	json_t *el;

	if ((i = node_add(d, TB_JV_NULL)) == SIZE_MAX)
		return -1;
	*idx = i;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		d->nodes[i].type = TB_JV_OBJECT;
		json_object_foreach((json_t *)v, key, el)
		{
			size_t c;

			if ((off = str_add(d, key, strlen(key))) == SIZE_MAX || convert(d, el, &c) < 0 ||
			    scratch_push(d, off, c) < 0)
				return -1;
		}
		return close_container(d, i, from);
	case JSON_ARRAY:
		d->nodes[i].type = TB_JV_ARRAY;
		json_array_foreach((json_t *)v, k, el)
		{
			size_t c;

			if (convert(d, el, &c) < 0 || scratch_push(d, SIZE_MAX, c) < 0)
				return -1;
		}
		return close_container(d, i, from);
	case JSON_STRING:
		if ((off = str_add(d, json_string_value(v), json_string_length(v))) == SIZE_MAX)
			return -1;
		d->nodes[i].type = TB_JV_STRING;
		d->nodes[i].u.off = off;
		d->nodes[i].n = json_string_length(v);
		return 0;
	case JSON_INTEGER:
		d->nodes[i].type = TB_JV_INTEGER;
		d->nodes[i].u.i = (long long)json_integer_value(v);
		return 0;
	case JSON_REAL:
		d->nodes[i].type = TB_JV_REAL;
		d->nodes[i].u.d = json_real_value(v);
		return 0;
	case JSON_TRUE:
		d->nodes[i].type = TB_JV_TRUE;
		return 0;
	case JSON_FALSE:
		d->nodes[i].type = TB_JV_FALSE;
		return 0;
	case JSON_NULL:
		return 0;
	}
	return 0;
}

tb_jdoc_t *tb_jdoc_from_jansson(const json_t *root)
{
	tb_jdoc_t *d = doc_new(256, 64);
	size_t idx;

	if (!d)
		return NULL;
	if (convert(d, root, &idx) < 0) {
		tb_jdoc_free(d);
		return NULL;
	}
	finish(d);
	return d;
}

int tb_jv_equal(const tb_jv_t *a, const tb_jv_t *b)
{
	if (a->type != b->type || a->n != b->n)
		return 0;
	switch (a->type) {
	case TB_JV_STRING:
		return memcmp(a->u.s, b->u.s, a->n + 1) == 0;
	case TB_JV_INTEGER:
		return a->u.i == b->u.i;
	case TB_JV_REAL:
		return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
	case TB_JV_OBJECT:
	case TB_JV_ARRAY:
		for (size_t i = 0; i < a->n; i++) {
			const tb_jmember_t *ma = &a->u.m[i], *mb = &b->u.m[i];

			if ((ma->key == NULL) != (mb->key == NULL) ||
			    (ma->key && strcmp(ma->key, mb->key) != 0) || !tb_jv_equal(ma->val, mb->val))
				return 0;
		}
		return 1;
	default:
		return 1;
	}
}
