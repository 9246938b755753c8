/*
 * params.c — query parameters of the timeline-api's GET routes (params.h).
 *
 * Everything here is pure: the handler hands in the raw query string, the
 * caller's tenant and "now", and gets either a typed request or the exact
 * message of its 400. RFC 3339 parsing is shared with the body parsers
 * (requests.h); artifact digests and purls are validated with the same
 * rules the ingest side uses (sbom.h), so a filter can only name things
 * that could have been ingested.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "jsonw.h"
#include "params.h"
#include "requests.h"
#include "sbom.h"
#include "tb/hash.h"

#define US_PER_S INT64_C(1000000)
#define MAX_DURATION_S (INT64_C(366) * 86400)
#define CURSOR_VERSION 1
#define CURSOR_RAW 34 /* version, mode, ts (8), event id (16), check (8) */

/* ---- times ---- */

void tb_api_format_time(int64_t us, char out[TB_API_TS_LEN])
{
	int64_t secs = us / US_PER_S, frac = us % US_PER_S;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += US_PER_S;
		secs--;
	}
	char buf[96];

	t = (time_t)secs;
	gmtime_r(&t, &tm);
	/* 96 bytes of room silence the truncation warning for absurd years;
	 * microseconds as int64 stay within years 0..294247. */
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
	buf[TB_API_TS_LEN - 1] = '\0';
	memcpy(out, buf, TB_API_TS_LEN);
}

int tb_api_parse_duration(const char *s, int64_t *secs, tb_err_t *err)
{
	int64_t v = 0, mul;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return tb_err(err, "'%.64s' is not a duration (use e.g. 90s, 15m, 1h, 7d)", s);
	for (; isdigit((unsigned char)*p); p++) {
		if (v > MAX_DURATION_S)
			break;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return tb_err(err, "'%.64s' is not a duration (use e.g. 90s, 15m, 1h, 7d)", s);
	}
	if (p[1] != '\0')
		return tb_err(err, "'%.64s' is not a duration (use e.g. 90s, 15m, 1h, 7d)", s);
	if (v == 0)
		return tb_err(err, "duration '%.64s' must be positive", s);
	if (v > MAX_DURATION_S || v * mul > MAX_DURATION_S)
		return tb_err(err, "duration '%.64s' is longer than 366 days", s);
	*secs = v * mul;
	return 0;
}

int tb_api_parse_time(const char *s, int64_t now_us, int64_t *us, tb_err_t *err)
{
	int64_t ns = 0, d = 0;

	if (strcmp(s, "now") == 0) {
		*us = now_us;
		return 0;
	}
	if (strncmp(s, "now-", 4) == 0) {
		if (tb_api_parse_duration(s + 4, &d, err) < 0)
			return -1;
		*us = now_us - d * US_PER_S;
		return 0;
	}
	if (tb_req_parse_rfc3339(s, &ns) < 0 && isdigit((unsigned char)s[0]) &&
	    (atoi(s) < 1970 || atoi(s) > 2262))
		return tb_err(
		    err,
		    "'%.64s' is outside the supported range 1970-01-01T00:00:00Z .. 2262-04-11T23:47:15Z", s);
	if (tb_req_parse_rfc3339(s, &ns) < 0)
		return tb_err(
		    err,
		    "'%.64s' is not a time: use RFC 3339 (2025-01-21T07:30:00Z), now or now-DURATION "
		    "(now-15m)",
		    s);
	*us = ns / 1000;
	return 0;
}

/* ---- query strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode s[0..n) into out (which has room for n + 1); returns the length or -1. */
static long pct_decode(const char *s, size_t n, int plus_space, char *out, tb_err_t *err)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return tb_err(err, "malformed %%-escape at '%.8s'", s + i);
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			if (c == 0)
				return tb_err(err, "a %%00 (NUL) byte is not allowed");
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

int tb_api_qs_parse(const char *query, tb_api_qs_t *out, tb_err_t *err)
{
	size_t qlen, pos = 0, at = 0;

	memset(out, 0, sizeof(*out));
	if (!query || !*query)
		return 0;
	qlen = strlen(query);
	out->store = malloc(qlen + TB_API_QS_MAX * 2 + 2);
	if (!out->store)
		return tb_err(err, "out of memory");
	while (pos <= qlen) {
		size_t end = pos + strcspn(query + pos, "&");
		const char *eq = memchr(query + pos, '=', end - pos);
		size_t klen = eq ? (size_t)(eq - query - pos) : end - pos, bad;
		long n;

		if (end == pos) { /* "a=1&&b=2" or a trailing '&': nothing to read */
			pos = end + 1;
			continue;
		}
		if (out->n >= TB_API_QS_MAX)
			return tb_err(err, "more than %d query parameters", TB_API_QS_MAX);
		if (klen == 0)
			return tb_err(err, "query parameter without a name at '%.16s'", query + pos);
		out->keys[out->n] = out->store + at;
		if ((n = pct_decode(query + pos, klen, 0, out->store + at, err)) < 0)
			return -1;
		if (tb_utf8_invalid_at(out->keys[out->n], (size_t)n) < (size_t)n)
			return tb_err(err, "query parameter name '%.64s': invalid UTF-8", out->keys[out->n]);
		at += (size_t)n + 1;
		out->vals[out->n] = out->store + at;
		if (eq) {
			size_t vlen = end - pos - klen - 1;

			if ((n = pct_decode(eq + 1, vlen, 1, out->store + at, err)) < 0)
				return tb_err_wrap(err, "parameter %s", out->keys[out->n]);
		} else {
			out->store[at] = '\0';
			n = 0;
		}
		if (n > TB_API_VALUE_MAX)
			return tb_err(err, "parameter %s: value longer than %d bytes", out->keys[out->n],
				      TB_API_VALUE_MAX);
		if ((bad = tb_utf8_invalid_at(out->vals[out->n], (size_t)n)) < (size_t)n)
			return tb_err(err, "%s: invalid UTF-8 at byte %zu of the decoded value",
				      out->keys[out->n], bad);
		at += (size_t)n + 1;
		out->n++;
		pos = end + 1;
	}
	return 0;
}

void tb_api_qs_free(tb_api_qs_t *qs)
{
	free(qs->store);
	memset(qs, 0, sizeof(*qs));
}

const char *tb_api_qs_get(const tb_api_qs_t *qs, const char *key)
{
	for (size_t i = 0; i < qs->n; i++)
		if (strcmp(qs->keys[i], key) == 0)
			return qs->vals[i];
	return NULL;
}

int tb_api_qs_check(const tb_api_qs_t *qs, const char *const *allowed, tb_err_t *err)
{
	for (size_t i = 0; i < qs->n; i++) {
		const char *const *a;

		for (a = allowed; *a && strcmp(*a, qs->keys[i]) != 0; a++)
			;
		if (!*a)
			return tb_err(err, "unknown parameter '%.64s'", qs->keys[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(qs->keys[j], qs->keys[i]) == 0)
				return tb_err(err, "parameter '%s' given more than once", qs->keys[i]);
	}
	return 0;
}

/* ---- requests ---- */

void tb_api_limits_default(tb_api_limits_t *lim)
{
	lim->default_limit = 100;
	lim->max_limit = 1000;
	lim->max_stacks = 10000;
}

static int parse_limit(const char *s, int64_t def, int64_t max, int64_t *out, tb_err_t *err)
{
	int64_t v = 0;
	const char *p;

	if (!s) {
		*out = def < max ? def : max;
		return 0;
	}
	if (!*s)
		return tb_err(err, "limit: empty (use 1..%" PRId64 ")", max);
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return tb_err(err, "limit: '%.32s' is not a whole number in 1..%" PRId64, s, max);
		if (v <= max)
			v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > max)
		return tb_err(err, "limit: %.32s is out of range 1..%" PRId64, s, max);
	*out = v;
	return 0;
}

/* Text filters: printable, no control characters, at most TB_SBOM_MAX_STRING. */
static int check_text(const char *name, const char *v, tb_err_t *err)
{
	size_t n = strlen(v);

	if (n == 0)
		return tb_err(err, "%s: empty", name);
	if (n > TB_SBOM_MAX_STRING)
		return tb_err(err, "%s: longer than %d bytes", name, TB_SBOM_MAX_STRING);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return tb_err(err, "%s: control character 0x%02x at offset %zu", name,
				      (unsigned char)v[i], i);
	return 0;
}

static int parse_filter(const tb_api_qs_t *qs, int64_t now_us, int with_purl_symbol, tb_api_filter_t *f,
			tb_err_t *err)
{
	const char *v;
	char why[256];

	memset(f, 0, sizeof(*f));
	if ((v = tb_api_qs_get(qs, "artifact"))) {
		if (tb_digest_check(v, why, sizeof(why)) < 0)
			return tb_err(err, "artifact: '%.80s' is not a digest: %s", v, why);
		f->artifact = v;
	}
	if (with_purl_symbol && (v = tb_api_qs_get(qs, "purl"))) {
		if (check_text("purl", v, err) < 0)
			return -1;
		if (tb_purl_check(v, why, sizeof(why)) < 0)
			return tb_err(err, "purl: '%.200s' is not a package URL: %s", v, why);
		f->purl = v;
	}
	if (with_purl_symbol && (v = tb_api_qs_get(qs, "symbol"))) {
		if (check_text("symbol", v, err) < 0)
			return -1;
		f->symbol = v;
	}
	if ((v = tb_api_qs_get(qs, "from"))) {
		if (tb_api_parse_time(v, now_us, &f->from_us, err) < 0)
			return tb_err_wrap(err, "from");
		f->has_from = 1;
	}
	if ((v = tb_api_qs_get(qs, "to"))) {
		if (tb_api_parse_time(v, now_us, &f->to_us, err) < 0)
			return tb_err_wrap(err, "to");
		f->has_to = 1;
	}
	if (f->has_from && f->has_to && f->from_us >= f->to_us) {
		char a[TB_API_TS_LEN], b[TB_API_TS_LEN];

		tb_api_format_time(f->from_us, a);
		tb_api_format_time(f->to_us, b);
		return tb_err(err, "from (%s) must be before to (%s)", a, b);
	}
	return 0;
}

int tb_api_parse_timeline(const tb_api_qs_t *qs, const tb_api_limits_t *lim, const char *tenant,
			  int64_t now_us, tb_api_timeline_req_t *out, tb_err_t *err)
{
	static const char *const allowed[] = {"artifact", "purl",  "symbol", "from", "to",
					      "bucket",	  "limit", "cursor", NULL};
	const char *v;

	memset(out, 0, sizeof(*out));
	if (tb_api_qs_check(qs, allowed, err) < 0 || parse_filter(qs, now_us, 1, &out->f, err) < 0)
		return -1;
	if ((v = tb_api_qs_get(qs, "bucket")) && tb_api_parse_duration(v, &out->bucket_s, err) < 0)
		return tb_err_wrap(err, "bucket");
	if (parse_limit(tb_api_qs_get(qs, "limit"), lim->default_limit, lim->max_limit, &out->limit, err) < 0)
		return -1;
	if ((v = tb_api_qs_get(qs, "cursor"))) {
		tb_api_cursor_mode_t mode = out->bucket_s ? TB_API_CURSOR_BUCKETS : TB_API_CURSOR_EVENTS;

		if (tb_api_cursor_decode(v, &out->cursor, err) < 0)
			return tb_err_wrap(err, "cursor");
		if (out->cursor.mode != mode ||
		    out->cursor.check != tb_api_cursor_check(tenant, mode, &out->f, out->bucket_s))
			return tb_err(err,
				      "cursor: it belongs to another query (different filters or bucket); "
				      "start again without cursor");
		out->has_cursor = 1;
	}
	return 0;
}

int tb_api_parse_hot(const tb_api_qs_t *qs, const tb_api_limits_t *lim, int64_t now_us, tb_api_hot_req_t *out,
		     tb_err_t *err)
{
	static const char *const allowed[] = {"artifact", "from", "to", "sort", "limit", NULL};
	const char *v;

	memset(out, 0, sizeof(*out));
	if (tb_api_qs_check(qs, allowed, err) < 0 || parse_filter(qs, now_us, 0, &out->f, err) < 0)
		return -1;
	v = tb_api_qs_get(qs, "sort");
	if (!v || strcmp(v, "hits") == 0)
		out->sort = TB_API_SORT_HITS;
	else if (strcmp(v, "recency") == 0)
		out->sort = TB_API_SORT_RECENCY;
	else
		return tb_err(err, "sort: '%.32s' is not one of hits, recency", v);
	return parse_limit(tb_api_qs_get(qs, "limit"), lim->default_limit, lim->max_limit, &out->limit, err);
}

int tb_api_parse_folded(const tb_api_qs_t *qs, const tb_api_limits_t *lim, int64_t now_us,
			tb_api_folded_req_t *out, tb_err_t *err)
{
	static const char *const allowed[] = {"artifact", "purl", "symbol", "from", "to", "limit", NULL};

	memset(out, 0, sizeof(*out));
	if (tb_api_qs_check(qs, allowed, err) < 0 || parse_filter(qs, now_us, 1, &out->f, err) < 0)
		return -1;
	return parse_limit(tb_api_qs_get(qs, "limit"), lim->max_stacks, lim->max_stacks, &out->limit, err);
}

/* ---- cursors ---- */

uint64_t tb_api_cursor_check(const char *tenant, tb_api_cursor_mode_t mode, const tb_api_filter_t *f,
			     int64_t bucket_s)
{
	tb_hasher_t h;

	tb_hasher_init(&h, "api.cursor.v1");
	tb_hasher_str(&h, tenant);
	tb_hasher_u64(&h, (uint64_t)mode);
	tb_hasher_str(&h, f->artifact);
	tb_hasher_str(&h, f->purl);
	tb_hasher_str(&h, f->symbol);
	tb_hasher_u64(&h, (uint64_t)bucket_s);
	return (uint64_t)tb_hasher_final64(&h);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void tb_api_cursor_encode(const tb_api_cursor_t *c, char out[TB_API_CURSOR_MAX])
{
	uint8_t raw[CURSOR_RAW];

	raw[0] = CURSOR_VERSION;
	raw[1] = (uint8_t)c->mode;
	put_u64(raw + 2, (uint64_t)c->ts_us);
	memcpy(raw + 10, c->event_id, TB_EVENT_ID_LEN);
	put_u64(raw + 26, c->check);
	sodium_bin2base64(out, TB_API_CURSOR_MAX, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int tb_api_cursor_decode(const char *s, tb_api_cursor_t *c, tb_err_t *err)
{
	uint8_t raw[CURSOR_RAW + 1];
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	if (sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != CURSOR_RAW)
		return tb_err(err, "'%.64s' is not a cursor this API returned", s);
	if (raw[0] != CURSOR_VERSION || raw[1] > TB_API_CURSOR_BUCKETS)
		return tb_err(err, "'%.64s' is not a cursor this API returned (version %u, mode %u)", s,
			      raw[0], raw[1]);
	c->mode = (tb_api_cursor_mode_t)raw[1];
	c->ts_us = (int64_t)get_u64(raw + 2);
	memcpy(c->event_id, raw + 10, TB_EVENT_ID_LEN);
	c->check = get_u64(raw + 26);
	return 0;
}
