/*
 * tb_avro_codec.c — our structs to Avro binary and back, driven by the field
 * descriptors of tb_records.c.
 *
 * Encoding writes the fields in descriptor order, which tb_av_check_reader
 * has proved to be the reader schema's order, with one block per array (so
 * the same struct always gives the same bytes).
 *
 * Decoding follows a plan made once per writer schema (at registration, so
 * decoding itself only reads shared data and is reentrant). For each writer
 * record the plan maps every writer field to a descriptor field or to
 * "skip", and lists the descriptor fields the writer lacks; those get the
 * default of the reader schema (parsed from its JSON, which avro-c cannot
 * do). Values are read by what the writer wrote: a writer union selects its
 * branch, int promotes to long, string and bytes convert into each other,
 * a plain writer type fills a nullable reader field — the resolution rules of
 * the Avro spec. Bodies reach the decoder only after tb_av_scan accepted
 * them, yet every read here is still bounds-checked.
 *
 * Why our own binary reader and writer instead of avro-c's generic values:
 * the pre-scan already walks every byte against the schema, so decoding is
 * the same walk plus copies; it runs several times faster than building and
 * tearing down a generic value per record, and it can do the resolution
 * with defaults that avro-c cannot. avro-c still parses every schema we
 * register (tb_avro.c), and the unit tests check our bytes against avro-c's
 * reader and writer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_avro_internal.h"

/* Decode plan for one writer record into one descriptor. */
typedef struct rplan rplan_t;
struct rplan {
	const tb_avro_desc_t *desc;
	const tb_av_node_t *reader; /* reader record (defaults) */
	const tb_av_node_t *writer; /* writer record */
	int *w2d;		    /* per writer field: descriptor field or -1 (skip) */
	int *d2w;		    /* per descriptor field: writer field or -1 (default) */
	rplan_t **sub;		    /* per descriptor field: plan of its record, or NULL */
};

struct tb_av_plan {
	rplan_t *root;
	rplan_t **all;
	size_t n_all;
	size_t cap_all;
};

/* ---- checking a reader schema against a descriptor ------------------------ */

static int is_opt(const tb_av_node_t *t, tb_av_type_t inner)
{
	return t->type == TB_AV_UNION && t->n_branches == 2 && t->branches[0]->type == TB_AV_NULL &&
	       t->branches[1]->type == inner;
}

static int kind_is_exact(const tb_avro_fdesc_t *f, const tb_av_node_t *t)
{
	switch (f->kind) {
	case TB_AVF_STR:
		return t->type == TB_AV_STRING;
	case TB_AVF_OPT_STR:
		return is_opt(t, TB_AV_STRING);
	case TB_AVF_LONG:
	case TB_AVF_ULONG:
	case TB_AVF_U32:
		return t->type == TB_AV_LONG;
	case TB_AVF_INT:
		return t->type == TB_AV_INT;
	case TB_AVF_BOOL:
		return t->type == TB_AV_BOOLEAN;
	case TB_AVF_FIXED:
		return t->type == TB_AV_FIXED && t->size == f->size;
	case TB_AVF_BYTES:
		return t->type == TB_AV_BYTES;
	case TB_AVF_OPT_BYTES:
		return is_opt(t, TB_AV_BYTES);
	case TB_AVF_OPT_ULONG:
		return is_opt(t, TB_AV_LONG);
	case TB_AVF_STR_ARRAY:
		return t->type == TB_AV_ARRAY && t->items->type == TB_AV_STRING;
	case TB_AVF_RECORD:
		return t->type == TB_AV_RECORD;
	case TB_AVF_REC_ARRAY:
		return t->type == TB_AV_ARRAY && t->items->type == TB_AV_RECORD;
	}
	return 0;
}

int tb_av_check_reader(const tb_avro_desc_t *d, const tb_av_node_t *r, tb_err_t *err)
{
	if (r->type != TB_AV_RECORD || strcmp(r->fullname, d->fullname) != 0)
		return tb_err(err, "schema is %s, the struct maps %s",
			      r->fullname ? r->fullname : tb_av_type_name(r->type), d->fullname);
	if (r->n_fields != d->n_fields)
		return tb_err(err, "%s has %zu fields, the struct maps %zu", d->fullname, r->n_fields,
			      d->n_fields);
	for (size_t i = 0; i < d->n_fields; i++) {
		const tb_avro_fdesc_t *f = &d->fields[i];
		const tb_av_node_t *t = r->fields[i].type;

		if (strcmp(r->fields[i].name, f->name) != 0)
			return tb_err(err, "%s field %zu is '%s', the struct maps '%s'", d->fullname, i,
				      r->fields[i].name, f->name);
		if (!kind_is_exact(f, t))
			return tb_err(err, "%s field '%s' has type %s, which its struct field cannot hold",
				      d->fullname, f->name, tb_av_type_name(t->type));
		if (f->kind == TB_AVF_RECORD && tb_av_check_reader(f->sub, t, err) < 0)
			return -1;
		if (f->kind == TB_AVF_REC_ARRAY && tb_av_check_reader(f->sub, t->items, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- plans ----------------------------------------------------------------- */

/* Can a value written as `w` be read into field kind `k`? Unions: if any
 * branch can (a branch that cannot is an error when it is met). */
static int readable(tb_avf_kind_t k, const tb_av_node_t *w)
{
	int opt = k == TB_AVF_OPT_STR || k == TB_AVF_OPT_BYTES || k == TB_AVF_OPT_ULONG;

	if (w->type == TB_AV_UNION) {
		for (size_t i = 0; i < w->n_branches; i++)
			if (w->branches[i]->type != TB_AV_NULL && readable(k, w->branches[i]))
				return 1;
		return 0;
	}
	if (w->type == TB_AV_NULL)
		return opt;
	switch (k) {
	case TB_AVF_STR:
	case TB_AVF_OPT_STR:
	case TB_AVF_BYTES:
	case TB_AVF_OPT_BYTES:
		return w->type == TB_AV_STRING || w->type == TB_AV_BYTES;
	case TB_AVF_LONG:
	case TB_AVF_ULONG:
	case TB_AVF_U32:
	case TB_AVF_OPT_ULONG:
		return w->type == TB_AV_LONG || w->type == TB_AV_INT;
	case TB_AVF_INT:
		return w->type == TB_AV_INT;
	case TB_AVF_BOOL:
		return w->type == TB_AV_BOOLEAN;
	default:
		return 0;
	}
}

static rplan_t *rplan_new(tb_av_plan_t *p, const tb_avro_desc_t *d, const tb_av_node_t *r,
			  const tb_av_node_t *w, tb_err_t *err);

static int plan_track(tb_av_plan_t *p, rplan_t *rp, tb_err_t *err)
{
	if (p->n_all == p->cap_all) {
		size_t cap = p->cap_all ? 2 * p->cap_all : 8;
		rplan_t **all = realloc(p->all, cap * sizeof(*all));

		if (!all)
			return tb_err(err, "out of memory");
		p->all = all;
		p->cap_all = cap;
	}
	p->all[p->n_all++] = rp;
	return 0;
}

/* Map writer field i onto descriptor field j (same name). */
static int plan_field(tb_av_plan_t *p, rplan_t *rp, size_t i, size_t j, tb_err_t *err)
{
	const tb_avro_fdesc_t *f = &rp->desc->fields[j];
	const tb_av_node_t *w = rp->writer->fields[i].type;
	const tb_av_node_t *r = rp->reader->fields[j].type;

	if (f->kind == TB_AVF_FIXED) {
		if (w->type != TB_AV_FIXED || w->size != f->size ||
		    strcmp(tb_av_short_name(w->fullname), tb_av_short_name(r->fullname)) != 0)
			return tb_err(err, "field '%s': writer %s cannot be read as fixed %s[%zu]", f->name,
				      tb_av_type_name(w->type), r->fullname, f->size);
	} else if (f->kind == TB_AVF_RECORD || f->kind == TB_AVF_REC_ARRAY) {
		if (f->kind == TB_AVF_REC_ARRAY) {
			if (w->type != TB_AV_ARRAY)
				return tb_err(err, "field '%s': writer %s cannot be read as an array",
					      f->name, tb_av_type_name(w->type));
			w = w->items;
			r = r->items;
		}
		rp->sub[j] = rplan_new(p, f->sub, r, w, err);
		if (!rp->sub[j])
			return tb_err_wrap(err, "field '%s'", f->name);
	} else if (f->kind == TB_AVF_STR_ARRAY) {
		if (w->type != TB_AV_ARRAY || !readable(TB_AVF_STR, w->items))
			return tb_err(err, "field '%s': writer %s cannot be read as an array of strings",
				      f->name, tb_av_type_name(w->type));
	} else if (!readable(f->kind, w)) {
		return tb_err(err, "field '%s': writer %s cannot be read as %s", f->name,
			      tb_av_type_name(w->type), tb_av_type_name(r->type));
	}
	rp->w2d[i] = (int)j;
	rp->d2w[j] = (int)i;
	return 0;
}

static rplan_t *rplan_new(tb_av_plan_t *p, const tb_avro_desc_t *d, const tb_av_node_t *r,
			  const tb_av_node_t *w, tb_err_t *err)
{
	rplan_t *rp;

	if (w->type != TB_AV_RECORD ||
	    strcmp(tb_av_short_name(w->fullname), tb_av_short_name(d->fullname)) != 0) {
		tb_err(err, "writer %s cannot be read as record %s",
		       w->fullname ? w->fullname : tb_av_type_name(w->type), d->fullname);
		return NULL;
	}
	rp = calloc(1, sizeof(*rp));
	if (!rp || plan_track(p, rp, err) < 0) {
		free(rp);
		tb_err(err, "out of memory");
		return NULL;
	}
	rp->desc = d;
	rp->reader = r;
	rp->writer = w;
	rp->w2d = malloc((w->n_fields + 1) * sizeof(int));
	rp->d2w = malloc((d->n_fields + 1) * sizeof(int));
	rp->sub = calloc(d->n_fields + 1, sizeof(*rp->sub));
	if (!rp->w2d || !rp->d2w || !rp->sub) {
		tb_err(err, "out of memory");
		return NULL;
	}
	for (size_t j = 0; j < d->n_fields; j++)
		rp->d2w[j] = -1;
	for (size_t i = 0; i < w->n_fields; i++) {
		rp->w2d[i] = -1;
		for (size_t j = 0; j < d->n_fields; j++) {
			if (strcmp(w->fields[i].name, d->fields[j].name) != 0)
				continue;
			if (plan_field(p, rp, i, j, err) < 0)
				return NULL;
			break;
		}
	}
	for (size_t j = 0; j < d->n_fields; j++) {
		if (rp->d2w[j] < 0 && !r->fields[j].def) {
			tb_err(err, "%s: the writer lacks field '%s' and the reader has no default for it",
			       d->fullname, d->fields[j].name);
			return NULL;
		}
	}
	return rp;
}

void tb_av_plan_free(tb_av_plan_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_all; i++) {
		free(p->all[i]->w2d);
		free(p->all[i]->d2w);
		free(p->all[i]->sub);
		free(p->all[i]);
	}
	free(p->all);
	free(p);
}

tb_av_plan_t *tb_av_plan_new(const tb_avro_desc_t *d, const tb_av_node_t *reader, const tb_av_node_t *writer,
			     tb_err_t *err)
{
	tb_av_plan_t *p = calloc(1, sizeof(*p));

	if (!p) {
		tb_err(err, "out of memory");
		return NULL;
	}
	p->root = rplan_new(p, d, reader, writer, err);
	if (!p->root) {
		tb_av_plan_free(p);
		return NULL;
	}
	return p;
}

/* ---- encoding ---------------------------------------------------------------- */

typedef struct wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	const tb_avro_limits_t *lim;
	tb_err_t *err;
	int failed;
} wbuf_t;

static int wb_reserve(wbuf_t *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->failed)
		return -1;
	if (b->len + n <= b->cap)
		return 0;
	if (b->len + n > b->lim->max_record_bytes) {
		b->failed = 1;
		return tb_err(b->err, "encoded record exceeds the limit of %zu bytes",
			      b->lim->max_record_bytes);
	}
	cap = b->cap ? b->cap : 512;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return tb_err(b->err, "out of memory");
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void wb_put(wbuf_t *b, const void *data, size_t n)
{
	if (n == 0 || wb_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void wb_long(wbuf_t *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63)); /* zig-zag */
	uint8_t tmp[10];
	size_t n = 0;

	while (z > 0x7f) {
		tmp[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	tmp[n++] = (uint8_t)z;
	wb_put(b, tmp, n);
}

static void wb_bytes(wbuf_t *b, const void *data, size_t n, const char *field)
{
	if (n > b->lim->max_string_len) {
		if (!b->failed)
			tb_err(b->err, "field '%s' holds %zu bytes, over the limit of %zu", field, n,
			       b->lim->max_string_len);
		b->failed = 1;
		return;
	}
	wb_long(b, (int64_t)n);
	wb_put(b, data, n);
}

static void wb_string(wbuf_t *b, const char *s, const char *field)
{
	wb_bytes(b, s ? s : "", s ? strlen(s) : 0, field);
}

static int wb_count(wbuf_t *b, size_t n, const char *field)
{
	if (n > b->lim->max_array_items) {
		if (!b->failed)
			tb_err(b->err, "field '%s' holds %zu items, over the limit of %zu", field, n,
			       b->lim->max_array_items);
		b->failed = 1;
		return -1;
	}
	if (n)
		wb_long(b, (int64_t)n);
	return 0;
}

static void encode_record(wbuf_t *b, const tb_avro_desc_t *d, const char *base);

static void encode_field(wbuf_t *b, const tb_avro_fdesc_t *f, const char *base)
{
	const void *at = base + f->off;
	const void *ptr = NULL;
	size_t aux = 0; /* the byte length or item count, for the kinds that have one */

	if (f->kind == TB_AVF_STR || f->kind == TB_AVF_OPT_STR)
		ptr = *(void *const *)at;
	if (f->kind == TB_AVF_BYTES || f->kind == TB_AVF_OPT_BYTES || f->kind == TB_AVF_STR_ARRAY ||
	    f->kind == TB_AVF_REC_ARRAY) {
		ptr = *(void *const *)at;
		aux = *(const size_t *)(base + f->aux);
	}

	switch (f->kind) {
	case TB_AVF_STR:
		wb_string(b, ptr, f->name);
		break;
	case TB_AVF_OPT_STR:
		wb_long(b, ptr ? 1 : 0);
		if (ptr)
			wb_string(b, ptr, f->name);
		break;
	case TB_AVF_LONG:
		wb_long(b, *(const int64_t *)at);
		break;
	case TB_AVF_ULONG:
		wb_long(b, (int64_t) * (const uint64_t *)at);
		break;
	case TB_AVF_U32:
		wb_long(b, *(const uint32_t *)at);
		break;
	case TB_AVF_INT:
		wb_long(b, *(const int32_t *)at);
		break;
	case TB_AVF_BOOL:
		wb_put(b, *(const int *)at ? "\1" : "\0", 1);
		break;
	case TB_AVF_FIXED:
		wb_put(b, at, f->size);
		break;
	case TB_AVF_BYTES:
		wb_bytes(b, ptr, ptr ? aux : 0, f->name);
		break;
	case TB_AVF_OPT_BYTES:
		wb_long(b, ptr ? 1 : 0);
		if (ptr)
			wb_bytes(b, ptr, aux, f->name);
		break;
	case TB_AVF_OPT_ULONG:
		/* here aux is the offset of the int "has" flag */
		if (*(const int *)(base + f->aux)) {
			wb_long(b, 1);
			wb_long(b, (int64_t) * (const uint64_t *)at);
		} else {
			wb_long(b, 0);
		}
		break;
	case TB_AVF_STR_ARRAY:
		if (wb_count(b, aux, f->name) < 0)
			return;
		for (size_t i = 0; i < aux; i++)
			wb_string(b, ((char *const *)ptr)[i], f->name);
		wb_long(b, 0);
		break;
	case TB_AVF_RECORD:
		encode_record(b, f->sub, at);
		break;
	case TB_AVF_REC_ARRAY:
		if (wb_count(b, aux, f->name) < 0)
			return;
		for (size_t i = 0; i < aux; i++)
			encode_record(b, f->sub, (const char *)ptr + i * f->sub->size);
		wb_long(b, 0);
		break;
	}
}

static void encode_record(wbuf_t *b, const tb_avro_desc_t *d, const char *base)
{
	for (size_t i = 0; i < d->n_fields && !b->failed; i++)
		encode_field(b, &d->fields[i], base);
}

int tb_av_encode(const tb_avro_desc_t *d, const void *obj, uint64_t fp, const tb_avro_limits_t *lim,
		 uint8_t **out, size_t *out_len, tb_err_t *err)
{
	wbuf_t b = {.lim = lim, .err = err};
	uint8_t hdr[TB_AVRO_HEADER_LEN] = {0xC3, 0x01};

	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (uint8_t)(fp >> (8 * i));
	wb_put(&b, hdr, sizeof(hdr));
	encode_record(&b, d, obj);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

/* ---- decoding ---------------------------------------------------------------- */

typedef struct rbuf {
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	tb_err_t *err;
} rbuf_t;

static int rd_fail(rbuf_t *r, const char *what)
{
	tb_err(r->err, "%s (body offset %zu)", what, (size_t)(r->p - r->start));
	return -1;
}

static int rd_long(rbuf_t *r, int64_t *v)
{
	return tb_av_read_long(&r->p, r->end, v) ? rd_fail(r, "bad long") : 0;
}

static int rd_int(rbuf_t *r, int32_t *v)
{
	return tb_av_read_int(&r->p, r->end, v) ? rd_fail(r, "bad int") : 0;
}

static int rd_raw(rbuf_t *r, size_t n, const uint8_t **data)
{
	if (n > (size_t)(r->end - r->p))
		return rd_fail(r, "value runs past the end");
	*data = r->p;
	r->p += n;
	return 0;
}

static int rd_len(rbuf_t *r, size_t *n)
{
	int64_t v = 0;

	if (rd_long(r, &v) < 0)
		return -1;
	if (v < 0 || (uint64_t)v > (uint64_t)(r->end - r->p))
		return rd_fail(r, "bad length");
	*n = (size_t)v;
	return 0;
}

/* Resolve writer unions: read the branch index and return the branch. */
static int rd_branch(rbuf_t *r, const tb_av_node_t **w)
{
	int64_t idx = 0;

	while ((*w)->type == TB_AV_UNION) {
		if (rd_long(r, &idx) < 0)
			return -1;
		if (idx < 0 || (uint64_t)idx >= (*w)->n_branches)
			return rd_fail(r, "bad union index");
		*w = (*w)->branches[idx];
	}
	return 0;
}

/* Skip one value of writer type w (a field the reader does not have). */
static int skip_value(rbuf_t *r, const tb_av_node_t *w)
{
	const uint8_t *data = NULL;
	int64_t l = 0, count = 0;
	int32_t i = 0;
	size_t n = 0;

	switch (w->type) {
	case TB_AV_NULL:
		return 0;
	case TB_AV_BOOLEAN:
		return rd_raw(r, 1, &data);
	case TB_AV_INT:
	case TB_AV_ENUM:
		return rd_int(r, &i);
	case TB_AV_LONG:
		return rd_long(r, &l);
	case TB_AV_FLOAT:
		return rd_raw(r, 4, &data);
	case TB_AV_DOUBLE:
		return rd_raw(r, 8, &data);
	case TB_AV_FIXED:
		return rd_raw(r, w->size, &data);
	case TB_AV_BYTES:
	case TB_AV_STRING:
		return rd_len(r, &n) < 0 ? -1 : rd_raw(r, n, &data);
	case TB_AV_UNION:
		return rd_branch(r, &w) < 0 ? -1 : skip_value(r, w);
	case TB_AV_RECORD:
		for (size_t k = 0; k < w->n_fields; k++)
			if (skip_value(r, w->fields[k].type) < 0)
				return -1;
		return 0;
	case TB_AV_ARRAY:
	case TB_AV_MAP:
		for (;;) {
			if (rd_long(r, &count) < 0)
				return -1;
			if (count == 0)
				return 0;
			if (count < 0) {
				if (rd_len(r, &n) < 0 || rd_raw(r, n, &data) < 0)
					return -1;
				continue; /* the block's byte size lets us jump over it */
			}
			for (int64_t k = 0; k < count; k++) {
				if (w->type == TB_AV_MAP &&
				    skip_value(r, &(tb_av_node_t){.type = TB_AV_STRING}) < 0)
					return -1;
				if (skip_value(r, w->items) < 0)
					return -1;
			}
		}
	}
	return rd_fail(r, "unknown schema type");
}

/* A string or bytes value (writer already resolved out of unions). */
static int rd_string(rbuf_t *r, const tb_av_node_t *w, char **out, size_t *out_len)
{
	const uint8_t *data = NULL;
	size_t n = 0;

	if (w->type == TB_AV_NULL) {
		*out = NULL;
		return 0;
	}
	if (w->type != TB_AV_STRING && w->type != TB_AV_BYTES)
		return rd_fail(r, "writer type is not string or bytes");
	if (rd_len(r, &n) < 0 || rd_raw(r, n, &data) < 0)
		return -1;
	/* a C string cannot hold a NUL: refuse rather than truncate silently
	 * (the pre-scan already refused NULs in strings; this is bytes) */
	if (!out_len && n && memchr(data, 0, n))
		return rd_fail(r, "bytes holding a NUL cannot be read as a string");
	*out = malloc(n + 1);
	if (!*out)
		return tb_err(r->err, "out of memory");
	memcpy(*out, data, n);
	(*out)[n] = '\0';
	if (out_len)
		*out_len = n;
	return 0;
}

static int rd_number(rbuf_t *r, const tb_av_node_t *w, int64_t *v)
{
	int32_t i;

	if (w->type == TB_AV_LONG)
		return rd_long(r, v);
	if (w->type != TB_AV_INT)
		return rd_fail(r, "writer type is not int or long");
	if (rd_int(r, &i) < 0)
		return -1;
	*v = i;
	return 0;
}

static int decode_record(rbuf_t *r, const rplan_t *rp, char *base);
static int apply_default(const tb_avro_fdesc_t *f, const tb_av_node_t *rt, const json_t *def, char *base,
			 tb_err_t *err);

/* Grow an array field by `more` zeroed elements; count stays consistent
 * with what is allocated, so clearing after a failure frees it all. */
static void *grow(char *base, const tb_avro_fdesc_t *f, size_t elem, size_t more, tb_err_t *err)
{
	void **ptr = (void **)(base + f->off);
	size_t *count = (size_t *)(base + f->aux);
	char *p = realloc(*ptr, (*count + more) * elem);

	if (!p) {
		tb_err(err, "out of memory");
		return NULL;
	}
	memset(p + *count * elem, 0, more * elem);
	*ptr = p;
	*count += more;
	return p + (*count - more) * elem;
}

static int decode_array(rbuf_t *r, const tb_avro_fdesc_t *f, const rplan_t *sub, const tb_av_node_t *w,
			char *base)
{
	size_t elem = f->kind == TB_AVF_REC_ARRAY ? f->sub->size : sizeof(char *);
	int64_t count = 0;
	size_t n = 0;

	if (w->type != TB_AV_ARRAY)
		return rd_fail(r, "writer type is not an array");
	for (;;) {
		char *items;

		if (rd_long(r, &count) < 0)
			return -1;
		if (count == 0)
			return 0;
		if (count < 0) {
			count = -count;
			if (rd_len(r, &n) < 0)
				return -1;
		}
		/* counts were bounded by the pre-scan (max_array_items) */
		items = grow(base, f, elem, (size_t)count, r->err);
		if (!items)
			return -1;
		for (int64_t k = 0; k < count; k++) {
			const tb_av_node_t *wi = w->items;

			if (f->kind == TB_AVF_REC_ARRAY) {
				if (decode_record(r, sub, items + (size_t)k * elem) < 0)
					return -1;
				continue;
			}
			if (rd_branch(r, &wi) < 0 || rd_string(r, wi, (char **)items + k, NULL) < 0)
				return -1;
			if (!((char **)items)[k])
				return rd_fail(r, "null item in an array of strings");
		}
	}
}

static int decode_field(rbuf_t *r, const tb_avro_fdesc_t *f, const rplan_t *sub, const tb_av_node_t *w,
			char *base)
{
	void *at = base + f->off;
	int64_t v = 0;
	const uint8_t *data = NULL;

	if (f->kind != TB_AVF_RECORD && f->kind != TB_AVF_REC_ARRAY && f->kind != TB_AVF_STR_ARRAY &&
	    rd_branch(r, &w) < 0)
		return -1;
	if (w->type == TB_AV_NULL && f->kind != TB_AVF_OPT_STR && f->kind != TB_AVF_OPT_BYTES &&
	    f->kind != TB_AVF_OPT_ULONG)
		return rd_fail(r, "null where the reader needs a value");
	switch (f->kind) {
	case TB_AVF_STR:
	case TB_AVF_OPT_STR:
		return rd_string(r, w, (char **)at, NULL);
	case TB_AVF_BYTES:
	case TB_AVF_OPT_BYTES:
		*(size_t *)(base + f->aux) = 0;
		return rd_string(r, w, (char **)at, (size_t *)(base + f->aux));
	case TB_AVF_LONG:
		return rd_number(r, w, (int64_t *)at);
	case TB_AVF_ULONG:
		if (rd_number(r, w, &v) < 0)
			return -1;
		*(uint64_t *)at = (uint64_t)v;
		return 0;
	case TB_AVF_U32:
		if (rd_number(r, w, &v) < 0)
			return -1;
		if (v < 0 || v > UINT32_MAX)
			return rd_fail(r, "value out of the 0..4294967295 range");
		*(uint32_t *)at = (uint32_t)v;
		return 0;
	case TB_AVF_INT:
		if (w->type != TB_AV_INT)
			return rd_fail(r, "writer type is not int");
		return rd_int(r, (int32_t *)at);
	case TB_AVF_BOOL:
		if (w->type != TB_AV_BOOLEAN)
			return rd_fail(r, "writer type is not boolean");
		if (rd_raw(r, 1, &data) < 0)
			return -1;
		*(int *)at = data[0] != 0;
		return 0;
	case TB_AVF_FIXED:
		if (w->type != TB_AV_FIXED || w->size != f->size)
			return rd_fail(r, "writer type is not a fixed of the reader's size");
		if (rd_raw(r, f->size, &data) < 0)
			return -1;
		memcpy(at, data, f->size);
		return 0;
	case TB_AVF_OPT_ULONG:
		*(int *)(base + f->aux) = w->type != TB_AV_NULL;
		if (w->type == TB_AV_NULL)
			return 0;
		if (rd_number(r, w, &v) < 0)
			return -1;
		*(uint64_t *)at = (uint64_t)v;
		return 0;
	case TB_AVF_RECORD:
		return decode_record(r, sub, at);
	case TB_AVF_STR_ARRAY:
	case TB_AVF_REC_ARRAY:
		return decode_array(r, f, sub, w, base);
	}
	return rd_fail(r, "unknown field kind");
}

static int decode_record(rbuf_t *r, const rplan_t *rp, char *base)
{
	const tb_av_node_t *w = rp->writer;
	const tb_avro_desc_t *d = rp->desc;

	for (size_t i = 0; i < w->n_fields; i++) {
		int j = rp->w2d[i];
		int rc = j < 0 ? skip_value(r, w->fields[i].type)
			       : decode_field(r, &d->fields[j], rp->sub[j], w->fields[i].type, base);

		if (rc < 0)
			return tb_err_wrap(r->err, "%s", w->fields[i].name);
	}
	for (size_t j = 0; j < d->n_fields; j++) {
		if (rp->d2w[j] >= 0)
			continue;
		if (apply_default(&d->fields[j], rp->reader->fields[j].type, rp->reader->fields[j].def, base,
				  r->err) < 0)
			return tb_err_wrap(r->err, "default of %s", d->fields[j].name);
	}
	return 0;
}

int tb_av_decode(const tb_av_plan_t *plan, const uint8_t *body, size_t len, void *obj, tb_err_t *err)
{
	rbuf_t r = {.start = body, .p = body, .end = body + len, .err = err};

	if (decode_record(&r, plan->root, obj) < 0)
		return -1;
	if (r.p != r.end)
		return rd_fail(&r, "trailing bytes after the record");
	return 0;
}

/* ---- defaults ------------------------------------------------------------------
 * Defaults were validated against the reader type when the schema was
 * parsed; bytes and fixed defaults are JSON strings of code points 0..255. */

static int latin1_decode(const char *s, uint8_t *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p && n < cap) {
		if (*p < 0x80) {
			out[n++] = *p++;
		} else {
			out[n++] = (uint8_t)(((p[0] & 0x03) << 6) | (p[1] & 0x3f));
			p += 2;
		}
	}
	return (int)n;
}

static int default_string(const tb_avro_fdesc_t *f, const json_t *def, char *base, tb_err_t *err)
{
	const char *s = json_string_value(def);
	char **at = (char **)(base + f->off);
	size_t cap;

	if (!s) {
		*at = f->kind == TB_AVF_STR ? strdup("") : NULL;
		return (f->kind == TB_AVF_STR && !*at) ? tb_err(err, "out of memory") : 0;
	}
	if (f->kind == TB_AVF_STR || f->kind == TB_AVF_OPT_STR) {
		*at = strdup(s);
		return *at ? 0 : tb_err(err, "out of memory");
	}
	cap = strlen(s);
	*at = malloc(cap + 1);
	if (!*at)
		return tb_err(err, "out of memory");
	*(size_t *)(base + f->aux) = (size_t)latin1_decode(s, (uint8_t *)*at, cap);
	return 0;
}

/* A record default: the object's member, else that field's own default. */
static int default_record(const tb_avro_desc_t *d, const tb_av_node_t *rt, const json_t *def, char *base,
			  tb_err_t *err)
{
	for (size_t j = 0; j < d->n_fields; j++) {
		const json_t *v = json_object_get(def, d->fields[j].name);

		if (!v)
			v = rt->fields[j].def;
		if (apply_default(&d->fields[j], rt->fields[j].type, v, base, err) < 0)
			return -1;
	}
	return 0;
}

static int default_array(const tb_avro_fdesc_t *f, const tb_av_node_t *rt, const json_t *def, char *base,
			 tb_err_t *err)
{
	size_t n = json_array_size(def);
	size_t elem = f->kind == TB_AVF_REC_ARRAY ? f->sub->size : sizeof(char *);
	char *items;

	if (n == 0)
		return 0;
	items = grow(base, f, elem, n, err);
	if (!items)
		return -1;
	for (size_t k = 0; k < n; k++) {
		const json_t *v = json_array_get(def, k);

		if (f->kind == TB_AVF_REC_ARRAY) {
			if (default_record(f->sub, rt->items, v, items + k * elem, err) < 0)
				return -1;
			continue;
		}
		((char **)items)[k] = strdup(json_is_string(v) ? json_string_value(v) : "");
		if (!((char **)items)[k])
			return tb_err(err, "out of memory");
	}
	return 0;
}

static int apply_default(const tb_avro_fdesc_t *f, const tb_av_node_t *rt, const json_t *def, char *base,
			 tb_err_t *err)
{
	void *at = base + f->off;
	json_int_t v = json_is_integer(def) ? json_integer_value(def) : 0;

	switch (f->kind) {
	case TB_AVF_STR:
	case TB_AVF_OPT_STR:
	case TB_AVF_BYTES:
	case TB_AVF_OPT_BYTES:
		return default_string(f, def, base, err);
	case TB_AVF_LONG:
		*(int64_t *)at = v;
		return 0;
	case TB_AVF_ULONG:
		*(uint64_t *)at = (uint64_t)v;
		return 0;
	case TB_AVF_U32:
		if (v < 0 || v > UINT32_MAX)
			return tb_err(err, "default %lld out of the 0..4294967295 range", (long long)v);
		*(uint32_t *)at = (uint32_t)v;
		return 0;
	case TB_AVF_INT:
		*(int32_t *)at = (int32_t)v;
		return 0;
	case TB_AVF_BOOL:
		*(int *)at = json_is_true(def);
		return 0;
	case TB_AVF_FIXED:
		memset(at, 0, f->size);
		if (json_is_string(def))
			latin1_decode(json_string_value(def), at, f->size);
		return 0;
	case TB_AVF_OPT_ULONG:
		*(int *)(base + f->aux) = json_is_integer(def);
		*(uint64_t *)at = (uint64_t)v;
		return 0;
	case TB_AVF_RECORD:
		return default_record(f->sub, rt, json_is_object(def) ? def : NULL, at, err);
	case TB_AVF_STR_ARRAY:
	case TB_AVF_REC_ARRAY:
		return default_array(f, rt, def, base, err);
	}
	return tb_err(err, "unknown field kind");
}
