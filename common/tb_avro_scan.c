/*
 * tb_avro_scan.c — bounds-checked pre-scan of an Avro binary body.
 *
 * Bytes from a topic are untrusted. Before anything allocates for them, the
 * whole body is walked against the writer schema once, without allocating:
 * every length and block count is checked against the bytes that are left
 * and against the limits, varints may not overflow, booleans are 0 or 1,
 * enum and union indexes are in range, nesting is bounded and the body must
 * end exactly where the schema does. The item count of all arrays and maps
 * together is capped too (at max_record_bytes), because an array of
 * zero-byte items costs work without costing input. Strings may not hold NUL
 * bytes: our records keep them as C strings.
 *
 * On failure the message names the field path and the body offset, e.g.
 * "process: binary: string length 4294967296 exceeds the 12 bytes left
 * (body offset 57)", so a dead letter says exactly what was wrong.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tb_avro_internal.h"

typedef struct scan {
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	const tb_avro_limits_t *lim;
	uint64_t items;	    /* all array/map items so far */
	uint64_t max_items; /* cap on `items` */
	tb_err_t *err;
} scan_t;

static int scan_node(scan_t *s, const tb_av_node_t *n, unsigned depth);

static size_t at(const scan_t *s)
{
	return (size_t)(s->p - s->start);
}

static size_t left(const scan_t *s)
{
	return (size_t)(s->end - s->p);
}

static int varint_error(scan_t *s, int rc, const char *what)
{
	if (rc == TB_AV_TRUNCATED)
		tb_err(s->err, "%s truncated (body offset %zu)", what, at(s));
	else
		tb_err(s->err, "%s overflows (body offset %zu)", what, at(s));
	return -1;
}

static int scan_long(scan_t *s, int64_t *v, const char *what)
{
	int rc = tb_av_read_long(&s->p, s->end, v);

	return rc ? varint_error(s, rc, what) : 0;
}

static int scan_int(scan_t *s, int32_t *v, const char *what)
{
	int rc = tb_av_read_int(&s->p, s->end, v);

	return rc ? varint_error(s, rc, what) : 0;
}

static int skip_bytes(scan_t *s, size_t n, const char *what)
{
	if (n > left(s))
		return tb_err(s->err, "%s of %zu bytes exceeds the %zu bytes left (body offset %zu)", what, n,
			      left(s), at(s));
	s->p += n;
	return 0;
}

static int scan_string(scan_t *s, int is_string)
{
	const char *what = is_string ? "string" : "bytes";
	size_t off = at(s);
	int64_t len;

	if (scan_long(s, &len, is_string ? "string length" : "bytes length") < 0)
		return -1;
	if (len < 0)
		return tb_err(s->err, "%s length %" PRId64 " is negative (body offset %zu)", what, len, off);
	if ((uint64_t)len > s->lim->max_string_len)
		return tb_err(s->err, "%s length %" PRId64 " exceeds the limit of %zu (body offset %zu)",
			      what, len, s->lim->max_string_len, off);
	if ((uint64_t)len > left(s))
		return tb_err(s->err, "%s length %" PRId64 " exceeds the %zu bytes left (body offset %zu)",
			      what, len, left(s), off);
	if (is_string && memchr(s->p, 0, (size_t)len))
		return tb_err(s->err, "string holds a NUL byte (body offset %zu)", off);
	s->p += len;
	return 0;
}

static int scan_index(scan_t *s, size_t n, int is_union)
{
	size_t off = at(s);
	int64_t idx;
	int32_t i32;

	if (is_union) {
		if (scan_long(s, &idx, "union index") < 0)
			return -1;
	} else {
		if (scan_int(s, &i32, "enum index") < 0)
			return -1;
		idx = i32;
	}
	if (idx < 0 || (uint64_t)idx >= n)
		return tb_err(s->err, "%s index %" PRId64 " out of range 0..%zu (body offset %zu)",
			      is_union ? "union" : "enum", idx, n ? n - 1 : 0, off);
	return (int)idx;
}

/* Blocks of items: count, [byte size if count < 0], items; a 0 count ends. */
static int scan_blocks(scan_t *s, const tb_av_node_t *n, unsigned depth)
{
	uint64_t total = 0;
	const char *what = n->type == TB_AV_ARRAY ? "array" : "map";

	for (;;) {
		size_t off = at(s);
		int64_t count, bytes = -1;
		const uint8_t *items_start;

		if (scan_long(s, &count, "block count") < 0)
			return -1;
		if (count == 0)
			return 0;
		if (count == INT64_MIN)
			return tb_err(s->err, "%s block count overflows (body offset %zu)", what, off);
		if (count < 0) {
			count = -count;
			if (scan_long(s, &bytes, "block byte size") < 0)
				return -1;
			if (bytes < 0 || (uint64_t)bytes > left(s))
				return tb_err(
				    s->err, "%s block byte size %" PRId64 " outside 0..%zu (body offset %zu)",
				    what, bytes, left(s), off);
		}
		items_start = s->p;
		total += (uint64_t)count;
		if (total > s->lim->max_array_items)
			return tb_err(s->err,
				      "%s of %" PRIu64 "+ items exceeds the limit of %zu (body offset %zu)",
				      what, total, s->lim->max_array_items, off);
		s->items += (uint64_t)count;
		if (s->items > s->max_items)
			return tb_err(s->err,
				      "message holds over %" PRIu64 " array/map items (body offset %zu)",
				      s->max_items, off);
		for (int64_t i = 0; i < count; i++) {
			if (n->type == TB_AV_MAP && scan_string(s, 1) < 0)
				return tb_err_wrap(s->err, "[%" PRIu64 "] key",
						   total - (uint64_t)count + (uint64_t)i);
			if (scan_node(s, n->items, depth + 1) < 0)
				return tb_err_wrap(s->err, "[%" PRIu64 "]",
						   total - (uint64_t)count + (uint64_t)i);
		}
		if (bytes >= 0 && s->p - items_start != bytes)
			return tb_err(s->err,
				      "%s block announced %" PRId64 " bytes but holds %zu (body offset %zu)",
				      what, bytes, (size_t)(s->p - items_start), off);
	}
}

static int scan_record(scan_t *s, const tb_av_node_t *n, unsigned depth)
{
	for (size_t i = 0; i < n->n_fields; i++)
		if (scan_node(s, n->fields[i].type, depth + 1) < 0)
			return tb_err_wrap(s->err, "%s", n->fields[i].name);
	return 0;
}

static int scan_node(scan_t *s, const tb_av_node_t *n, unsigned depth)
{
	int64_t l;
	int32_t i;
	int idx;

	if (depth > s->lim->max_depth)
		return tb_err(s->err, "nesting deeper than %u (body offset %zu)", s->lim->max_depth, at(s));
	switch (n->type) {
	case TB_AV_NULL:
		return 0;
	case TB_AV_BOOLEAN:
		if (left(s) < 1)
			return tb_err(s->err, "boolean truncated (body offset %zu)", at(s));
		if (*s->p > 1)
			return tb_err(s->err, "boolean byte 0x%02x is not 0 or 1 (body offset %zu)", *s->p,
				      at(s));
		s->p++;
		return 0;
	case TB_AV_INT:
		return scan_int(s, &i, "int");
	case TB_AV_LONG:
		return scan_long(s, &l, "long");
	case TB_AV_FLOAT:
		return skip_bytes(s, 4, "float");
	case TB_AV_DOUBLE:
		return skip_bytes(s, 8, "double");
	case TB_AV_BYTES:
		return scan_string(s, 0);
	case TB_AV_STRING:
		return scan_string(s, 1);
	case TB_AV_FIXED:
		return skip_bytes(s, n->size, "fixed");
	case TB_AV_ENUM:
		return scan_index(s, n->n_symbols, 0) < 0 ? -1 : 0;
	case TB_AV_UNION:
		idx = scan_index(s, n->n_branches, 1);
		if (idx < 0)
			return -1;
		return scan_node(s, n->branches[idx], depth + 1);
	case TB_AV_ARRAY:
	case TB_AV_MAP:
		return scan_blocks(s, n, depth);
	case TB_AV_RECORD:
		return scan_record(s, n, depth);
	}
	return tb_err(s->err, "unknown schema type %d", (int)n->type);
}

int tb_av_scan(const tb_av_node_t *root, const uint8_t *body, size_t len, const tb_avro_limits_t *lim,
	       tb_err_t *err)
{
	scan_t s = {
	    .start = body,
	    .p = body,
	    .end = body + len,
	    .lim = lim,
	    .max_items = lim->max_record_bytes,
	    .err = err,
	};

	if (scan_node(&s, root, 0) < 0)
		return -1;
	if (s.p != s.end)
		return tb_err(err, "%zu trailing bytes after the record (body offset %zu)", left(&s), at(&s));
	return 0;
}
