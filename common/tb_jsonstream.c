/*
 * tb_jsonstream.c — incremental splitter of a byte stream into top-level JSON
 * objects (see tb/jsonstream.h for what is yielded and the resync rules).
 *
 * How it works: fed bytes are appended to one buffer; a scan position walks
 * them once. The scanner is a small state machine (between objects, inside a
 * garbage run, inside an object, skipping an oversized object) that only
 * tracks strings/escapes and {}/[] depth. Inner loops jump over uninteresting
 * bytes with a 256-entry class table, so the cost is about one table lookup
 * per byte. Lines are counted at each newline; a column is the distance from
 * the current line's first byte, so nothing is counted per byte. Bytes that
 * were handed out (or skipped) are dropped when the next chunk is fed, which
 * keeps item pointers valid until then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/jsonstream.h"

enum state {
	ST_IDLE,    /* between values */
	ST_GARBAGE, /* inside a run of non-JSON bytes */
	ST_OBJECT,  /* inside a top-level object */
	ST_SKIP,    /* inside an object that passed max_size: scan, do not keep */
};

#define KIND_LEVELS 1024

struct tb_jsonstream {
	char *buf;
	size_t cap, len;
	size_t pos;	     /* scan position in buf */
	size_t start;	     /* buf index of the pending item's first byte */
	uint64_t base;	     /* stream offset of buf[0] */
	uint64_t line;	     /* line number at buf[pos] */
	uint64_t line_start; /* stream offset of the first byte of that line */
	size_t max;
	enum state state;
	int depth;
	/* The kind of every open bracket up to KIND_LEVELS deep, one bit a level
	 * (1 = '['), so that a '}' closing a '[' (or a ']' a '{') ends the object
	 * at once instead of swallowing the objects after it. Deeper levels are
	 * counted, not checked. */
	unsigned char kinds[KIND_LEVELS / 8];
	int in_str;
	int esc; /* the last byte seen was a backslash inside a string */
	int eof;
	uint64_t item_off, item_line, item_col;
	char reason[192];
};

/* Bytes that stop the scan outside / inside strings. */
#define C_STRUCT 1
#define C_STR 2
static const unsigned char cls[256] = {
    ['"'] = C_STRUCT | C_STR, ['\\'] = C_STR,	['\n'] = C_STRUCT | C_STR, ['{'] = C_STRUCT,
    ['}'] = C_STRUCT,	      ['['] = C_STRUCT, [']'] = C_STRUCT,
};

tb_jsonstream_t *tb_jsonstream_new(size_t max_size)
{
	tb_jsonstream_t *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max = max_size ? max_size : TB_JSONSTREAM_DEFAULT_MAX;
	tb_jsonstream_reset(s, 0, 1);
	return s;
}

void tb_jsonstream_free(tb_jsonstream_t *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

void tb_jsonstream_reset(tb_jsonstream_t *s, uint64_t offset, uint64_t line)
{
	s->len = s->pos = s->start = 0;
	s->base = offset;
	s->line = line ? line : 1;
	/* The column of the first byte is unknown when starting mid-line; treat
	 * the start as a line start, which is what a tail at EOF sees. */
	s->line_start = offset;
	s->state = ST_IDLE;
	s->depth = s->in_str = s->esc = s->eof = 0;
	s->reason[0] = '\0';
}

size_t tb_jsonstream_buffered(const tb_jsonstream_t *s)
{
	return s->cap;
}

const char *tb_jsonstream_kind_name(tb_jsonstream_kind_t kind)
{
	switch (kind) {
	case TB_JSONSTREAM_OBJECT:
		return "object";
	case TB_JSONSTREAM_GARBAGE:
		return "garbage";
	case TB_JSONSTREAM_TRUNCATED:
		return "truncated";
	case TB_JSONSTREAM_TOO_LARGE:
		return "too_large";
	}
	return "unknown";
}

/* Drop bytes nobody needs any more, then make room for `need` more. */
static int make_room(tb_jsonstream_t *s, size_t need)
{
	size_t keep = (s->state == ST_OBJECT || s->state == ST_GARBAGE) ? s->start : s->pos;
	size_t cap;
	char *nb;

	if (keep > 0) {
		memmove(s->buf, s->buf + keep, s->len - keep);
		s->len -= keep;
		s->pos -= keep;
		s->start = s->start >= keep ? s->start - keep : 0;
		s->base += keep;
	}
	if (s->cap - s->len >= need)
		return 0;
	cap = s->cap ? s->cap : 65536;
	while (cap - s->len < need)
		cap *= 2;
	nb = realloc(s->buf, cap);
	if (!nb)
		return -1;
	s->buf = nb;
	s->cap = cap;
	return 0;
}

int tb_jsonstream_feed(tb_jsonstream_t *s, const void *data, size_t len, tb_err_t *err)
{
	s->eof = 0;
	if (len == 0)
		return 0;
	if (make_room(s, len) < 0)
		return tb_err(err, "jsonstream: out of memory buffering %zu bytes", s->len + len);
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

void tb_jsonstream_finish(tb_jsonstream_t *s)
{
	s->eof = 1;
}

static void newline_at(tb_jsonstream_t *s, size_t i)
{
	s->line++;
	s->line_start = s->base + i + 1;
}

static void begin_item(tb_jsonstream_t *s, enum state st)
{
	s->state = st;
	s->start = s->pos;
	s->item_off = s->base + s->pos;
	s->item_line = s->line;
	s->item_col = s->item_off - s->line_start + 1;
}

static int emit(tb_jsonstream_t *s, tb_jsonstream_item_t *it, tb_jsonstream_kind_t kind, size_t from,
		size_t len, const char *reason)
{
	it->kind = kind;
	it->data = s->buf + from;
	it->len = len;
	it->offset = s->item_off;
	it->line = s->item_line;
	it->column = s->item_col;
	it->reason = reason;
	return 1;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Between values: skip whitespace, then start an object or a garbage run.
 * Returns 1 when the caller should keep scanning, 0 when more input is needed. */
static int scan_idle(tb_jsonstream_t *s)
{
	while (s->pos < s->len) {
		char c = s->buf[s->pos];

		if (is_ws(c)) {
			if (c == '\n')
				newline_at(s, s->pos);
			s->pos++;
			continue;
		}
		if (s->base + s->pos == 0 && (unsigned char)c == 0xEF) {
			if (s->len - s->pos < 3 && !s->eof)
				return 0;
			if (s->len - s->pos >= 3 && memcmp(s->buf + s->pos, "\xEF\xBB\xBF", 3) == 0) {
				s->pos += 3;
				s->line_start = 3;
				continue;
			}
		}
		if (c == '{') {
			begin_item(s, ST_OBJECT);
			s->depth = 1;
			s->kinds[0] &= (unsigned char)~1u; /* level 0 is the object's '{' */
			s->in_str = s->esc = 0;
			s->pos++;
		} else {
			begin_item(s, ST_GARBAGE);
		}
		return 1;
	}
	return 0;
}

/* A garbage run ends before a '{', at the end of its line, or at max bytes. */
static int scan_garbage(tb_jsonstream_t *s, tb_jsonstream_item_t *it)
{
	size_t end;

	while (s->pos < s->len && s->buf[s->pos] != '{' && s->buf[s->pos] != '\n' &&
	       s->pos - s->start < s->max)
		s->pos++;
	if (s->pos == s->len && !s->eof)
		return 0;
	end = s->pos;
	while (end > s->start && is_ws(s->buf[end - 1]))
		end--;
	s->state = ST_IDLE;
	return emit(s, it, TB_JSONSTREAM_GARBAGE, s->start, end - s->start,
		    "unexpected bytes between objects (expected '{')");
}

static int truncated(tb_jsonstream_t *s, tb_jsonstream_item_t *it, size_t end, const char *why)
{
	int was_object = s->state == ST_OBJECT;
	size_t len = end - s->start;

	s->state = ST_IDLE;
	if (!was_object) /* the oversized object was already reported */
		return 0;
	if (len > s->max)
		len = s->max;
	snprintf(s->reason, sizeof(s->reason), "object not closed (depth %d): %s", s->depth, why);
	return emit(s, it, TB_JSONSTREAM_TRUNCATED, s->start, len, s->reason);
}

/* One step inside a string: returns -1 to continue, 0 need more, 1 item. */
static int step_string(tb_jsonstream_t *s, tb_jsonstream_item_t *it)
{
	char c;

	if (s->pos >= s->len)
		return 0;
	if (s->esc) {
		s->esc = 0;
		if (s->buf[s->pos] != '\n') {
			s->pos++;
			return -1;
		}
	} else {
		while (s->pos < s->len && !(cls[(unsigned char)s->buf[s->pos]] & C_STR))
			s->pos++;
		if (s->pos == s->len)
			return 0;
	}
	c = s->buf[s->pos];
	if (c == '"') {
		s->in_str = 0;
		s->pos++;
		return -1;
	}
	if (c == '\\') {
		s->esc = 1;
		s->pos++;
		return -1;
	}
	/* Raw newline inside a string: the line was cut short. */
	{
		size_t end = s->pos;
		char where[96];

		snprintf(where, sizeof(where), "newline inside a string at line %llu",
			 (unsigned long long)s->line);
		newline_at(s, s->pos);
		s->pos++;
		s->in_str = 0;
		return truncated(s, it, end, where);
	}
}

static const char *too_large_reason(tb_jsonstream_t *s)
{
	snprintf(s->reason, sizeof(s->reason), "object larger than %zu bytes: skipped up to its end", s->max);
	return s->reason;
}

/* One structural byte outside strings: returns -1 continue, 0 need more, 1 item. */
static int step_struct(tb_jsonstream_t *s, tb_jsonstream_item_t *it)
{
	char c;

	while (s->pos < s->len && !(cls[(unsigned char)s->buf[s->pos]] & C_STRUCT))
		s->pos++;
	if (s->pos == s->len)
		return 0;
	c = s->buf[s->pos];
	switch (c) {
	case '"':
		s->in_str = 1;
		break;
	case '\n':
		newline_at(s, s->pos);
		break;
	case '{':
		if (s->base + s->pos == s->line_start) {
			char where[96];
			size_t end = s->pos;
			int r;

			snprintf(where, sizeof(where), "a new object starts at line %llu column 1",
				 (unsigned long long)s->line);
			r = truncated(s, it, end, where);
			/* Leave pos on the '{': the idle scan starts the next object. */
			return r ? 1 : -1;
		}
		if (s->depth < KIND_LEVELS)
			s->kinds[s->depth / 8] &= (unsigned char)~(1u << (s->depth % 8));
		s->depth++;
		break;
	case '[':
		if (s->depth < KIND_LEVELS)
			s->kinds[s->depth / 8] |= (unsigned char)(1u << (s->depth % 8));
		s->depth++;
		break;
	default: /* '}' or ']' */
		if (s->depth <= KIND_LEVELS &&
		    ((s->kinds[(s->depth - 1) / 8] >> ((s->depth - 1) % 8)) & 1) != (c == ']')) {
			char where[96];
			size_t end = s->pos + 1;

			snprintf(where, sizeof(where), "'%c' closes a '%c' at line %llu", c,
				 c == '}' ? '[' : '{', (unsigned long long)s->line);
			s->pos++;
			return truncated(s, it, end, where) ? 1 : -1;
		}
		if (--s->depth > 0)
			break;
		s->pos++;
		if (s->state == ST_SKIP) {
			s->state = ST_IDLE;
			return -1;
		}
		s->state = ST_IDLE;
		/* The scan may take max+1 bytes (to tell "exactly max" from "more"):
		 * an object closed by byte max+1 is too large all the same. */
		if (s->pos - s->start > s->max)
			return emit(s, it, TB_JSONSTREAM_TOO_LARGE, s->start, s->max, too_large_reason(s));
		return emit(s, it, TB_JSONSTREAM_OBJECT, s->start, s->pos - s->start, NULL);
	}
	s->pos++;
	return -1;
}

/* Inside an object: returns 1 item, 0 need more input, -1 the object ended
 * without an item (back to idle). */
static int scan_object(tb_jsonstream_t *s, tb_jsonstream_item_t *it)
{
	for (;;) {
		size_t saved_len = s->len;
		int r;

		/* Never scan more than max+1 bytes of an object we keep. */
		if (s->state == ST_OBJECT && s->len - s->start > s->max)
			s->len = s->start + s->max + 1;
		r = s->in_str || s->esc ? step_string(s, it) : step_struct(s, it);
		s->len = saved_len;
		if (r == 1)
			return 1;
		if (s->state == ST_IDLE)
			return -1;
		if (s->state == ST_OBJECT && s->pos - s->start > s->max) {
			s->state = ST_SKIP;
			return emit(s, it, TB_JSONSTREAM_TOO_LARGE, s->start, s->max, too_large_reason(s));
		}
		if (r == 0)
			break;
	}
	if (s->pos == s->len && s->eof)
		return truncated(s, it, s->len, "end of input") ? 1 : -1;
	return 0;
}

int tb_jsonstream_next(tb_jsonstream_t *s, tb_jsonstream_item_t *it)
{
	for (;;) {
		int r;

		switch (s->state) {
		case ST_IDLE:
			if (!scan_idle(s))
				return 0;
			break;
		case ST_GARBAGE:
			return scan_garbage(s, it);
		case ST_OBJECT:
		case ST_SKIP:
			r = scan_object(s, it);
			if (r >= 0)
				return r;
			break;
		}
	}
}
