/*
 * jsonw.c — the JSON writer of the timeline-api (see jsonw.h).
 *
 * One growable buffer (doubling), a per-depth "container still empty" flag
 * for commas, and a strict UTF-8 check (no overlong forms, no surrogates,
 * nothing above U+10FFFF) so that whatever bytes a client sent us, what we
 * echo back parses.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "params.h"

void tb_jw_init(tb_jw_t *w)
{
	memset(w, 0, sizeof(*w));
}

void tb_jw_free(tb_jw_t *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void tb_jw_reset(tb_jw_t *w)
{
	char *buf = w->buf;
	size_t cap = w->cap;

	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	if (buf)
		buf[0] = '\0';
}

static int grow(tb_jw_t *w, size_t extra)
{
	size_t cap = w->cap ? w->cap : 256;
	char *nb;

	if (w->failed)
		return -1;
	if (w->len + extra + 1 <= w->cap)
		return 0;
	while (cap < w->len + extra + 1) {
		if (cap > SIZE_MAX / 2) {
			w->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->failed = 1;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static void put(tb_jw_t *w, const char *s, size_t n)
{
	if (grow(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putc_(tb_jw_t *w, char c)
{
	put(w, &c, 1);
}

/* Comma handling before any value or key. */
static void before_value(tb_jw_t *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			putc_(w, ',');
		w->first[w->depth - 1] = 0;
	}
}

static void open_(tb_jw_t *w, char c)
{
	before_value(w);
	if (w->depth >= TB_JW_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	putc_(w, c);
	w->kind[w->depth] = c;
	w->first[w->depth++] = 1;
}

void tb_jw_obj(tb_jw_t *w)
{
	open_(w, '{');
}

void tb_jw_arr(tb_jw_t *w)
{
	open_(w, '[');
}

void tb_jw_end(tb_jw_t *w)
{
	if (w->depth <= 0 || w->after_key) {
		w->failed = 1;
		return;
	}
	w->depth--;
	putc_(w, w->kind[w->depth] == '{' ? '}' : ']');
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0];
	size_t n, k;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t tb_utf8_invalid_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if ((l = utf8_len(p + i, n - i)) == 0)
			return i;
		i += l;
	}
	return n;
}

/* The member name whose string value contains offset `at` of a JSON text
 * (scanning back to the string's opening quote, then over ':' to the
 * name), or "" when `at` is not inside such a value (an array element, a
 * name, outside strings). Only a hint for error messages: it does not
 * parse the document. */
static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void member_before(const char *s, size_t at, char *name, size_t cap)
{
	size_t i = at, end, start;

	name[0] = '\0';
	while (i > 0 && !(s[i - 1] == '"' && (i < 2 || s[i - 2] != '\\')))
		i--;
	if (i == 0)
		return;
	for (i--; i > 0 && is_ws(s[i - 1]); i--)
		;
	if (i == 0 || s[i - 1] != ':')
		return;
	for (i--; i > 0 && is_ws(s[i - 1]); i--)
		;
	if (i == 0 || s[i - 1] != '"')
		return;
	end = --i;
	while (i > 0 && s[i - 1] != '"')
		i--;
	if (i == 0)
		return;
	start = i;
	snprintf(name, cap, "%.*s", (int)(end - start < 64 ? end - start : 64), s + start);
}

int tb_utf8_describe_json(const char *s, size_t n, char *msg, size_t cap)
{
	size_t at = tb_utf8_invalid_at(s, n), line = 1, col = 1;
	char name[72];

	if (at == n)
		return 0;
	for (size_t i = 0; i < at; i++) {
		if (s[i] == '\n')
			line++, col = 1;
		else if (((unsigned char)s[i] & 0xc0) != 0x80)
			col++;
	}
	member_before(s, at, name, sizeof(name));
	if (tb_utf8_invalid_at(name, strlen(name)) < strlen(name))
		name[0] = '\0';
	snprintf(msg, cap, "invalid UTF-8 at byte %zu (line %zu, column %zu)%s%s%s", at, line, col,
		 name[0] ? " in the value of member \"" : "", name, name[0] ? "\"" : "");
	return -1;
}

void tb_jw_escaped(tb_jw_t *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char tmp[8];

	while (i < n) {
		unsigned char c = p[i];
		size_t l;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++, i++;
			continue;
		}
		if (c >= 0x80 && (l = utf8_len(p + i, n - i)) > 0) {
			run += l, i += l;
			continue;
		}
		put(w, s + i - run, run);
		run = 0;
		switch (c) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		default:
			if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				put(w, tmp, 6);
			} else {
				put(w, "\\ufffd", 6); /* an invalid UTF-8 byte */
			}
		}
		i++;
	}
	put(w, s + i - run, run);
}

void tb_jw_raw(tb_jw_t *w, const char *s, size_t n)
{
	put(w, s, n);
}

void tb_jw_strn(tb_jw_t *w, const char *s, size_t n)
{
	before_value(w);
	putc_(w, '"');
	tb_jw_escaped(w, s, n);
	putc_(w, '"');
}

void tb_jw_str(tb_jw_t *w, const char *s)
{
	if (!s) {
		tb_jw_null(w);
		return;
	}
	tb_jw_strn(w, s, strlen(s));
}

void tb_jw_key(tb_jw_t *w, const char *key)
{
	tb_jw_str(w, key);
	putc_(w, ':');
	w->after_key = 1;
}

void tb_jw_int(tb_jw_t *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	before_value(w);
	put(w, tmp, (size_t)n);
}

void tb_jw_bool(tb_jw_t *w, int v)
{
	before_value(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void tb_jw_null(tb_jw_t *w)
{
	before_value(w);
	put(w, "null", 4);
}

void tb_jw_time_us(tb_jw_t *w, int64_t us)
{
	char ts[TB_API_TS_LEN];

	tb_api_format_time(us, ts);
	tb_jw_str(w, ts);
}

void tb_jw_kstr(tb_jw_t *w, const char *key, const char *s)
{
	tb_jw_key(w, key);
	tb_jw_str(w, s);
}

void tb_jw_kint(tb_jw_t *w, const char *key, int64_t v)
{
	tb_jw_key(w, key);
	tb_jw_int(w, v);
}

void tb_jw_kbool(tb_jw_t *w, const char *key, int v)
{
	tb_jw_key(w, key);
	tb_jw_bool(w, v);
}

int tb_jw_failed(const tb_jw_t *w)
{
	return w->failed;
}

void tb_jw_error(tb_jw_t *w, const char *code, const char *message)
{
	tb_jw_reset(w);
	tb_jw_obj(w);
	tb_jw_key(w, "error");
	tb_jw_obj(w);
	tb_jw_kstr(w, "code", code);
	tb_jw_kstr(w, "message", message);
	tb_jw_end(w);
	tb_jw_end(w);
}
