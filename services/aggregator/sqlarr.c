/*
 * sqlarr.c — array literal builder (see sqlarr.h).
 *
 * Elements are appended to one growable buffer; every append first makes
 * room for the separator, the element's worst-case escaped size and the
 * closing brace, so the hot path is a plain copy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlarr.h"
#include "tb/hash.h"
#include "tb/pg.h"

static int reserve(tb_agg_arr_t *a, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (a->oom)
		return -1;
	need = a->len + extra + 3; /* ',' + '}' + NUL */
	if (need <= a->cap)
		return 0;
	ncap = a->cap ? a->cap : 4096;
	while (ncap < need)
		ncap *= 2;
	p = realloc(a->data, ncap);
	if (!p) {
		a->oom = 1;
		return -1;
	}
	a->data = p;
	a->cap = ncap;
	return 0;
}

/* The separator before an element; the caller reserved room. */
static void sep(tb_agg_arr_t *a)
{
	if (a->n++)
		a->data[a->len++] = ',';
}

void tb_agg_arr_reset(tb_agg_arr_t *a)
{
	a->len = 0;
	a->n = 0;
	a->oom = 0;
	if (reserve(a, 1) == 0)
		a->data[a->len++] = '{';
}

void tb_agg_arr_text(tb_agg_arr_t *a, const char *s)
{
	size_t n;

	if (!s) {
		tb_agg_arr_null(a);
		return;
	}
	n = strlen(s);
	if (reserve(a, 2 * n + 2) < 0)
		return;
	sep(a);
	a->data[a->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			a->data[a->len++] = '\\';
		a->data[a->len++] = s[i];
	}
	a->data[a->len++] = '"';
}

void tb_agg_arr_int(tb_agg_arr_t *a, int64_t v)
{
	if (reserve(a, 24) < 0)
		return;
	sep(a);
	a->len += (size_t)snprintf(a->data + a->len, 24, "%" PRId64, v);
}

void tb_agg_arr_null(tb_agg_arr_t *a)
{
	if (reserve(a, 4) < 0)
		return;
	sep(a);
	memcpy(a->data + a->len, "NULL", 4);
	a->len += 4;
}

void tb_agg_arr_bytea(tb_agg_arr_t *a, const uint8_t *data, size_t len)
{
	if (reserve(a, 2 * len + 6) < 0)
		return;
	sep(a);
	memcpy(a->data + a->len, "\"\\\\x", 4); /* "\\x : the backslash escaped inside the literal */
	a->len += 4;
	tb_hex(data, len, a->data + a->len);
	a->len += 2 * len;
	a->data[a->len++] = '"';
}

void tb_agg_arr_ts_us(tb_agg_arr_t *a, int64_t us)
{
	char ts[TB_PG_TS_LEN];
	size_t n;

	tb_pg_ts(us * 1000, ts);
	n = strlen(ts);
	if (reserve(a, n + 2) < 0)
		return;
	sep(a);
	a->data[a->len++] = '"';
	memcpy(a->data + a->len, ts, n);
	a->len += n;
	a->data[a->len++] = '"';
}

const char *tb_agg_arr_finish(tb_agg_arr_t *a)
{
	if (reserve(a, 1) < 0)
		return NULL;
	a->data[a->len++] = '}';
	a->data[a->len] = '\0';
	return a->data;
}

void tb_agg_arr_free(tb_agg_arr_t *a)
{
	free(a->data);
	memset(a, 0, sizeof(*a));
}
