/*
 * Unit tests for the timeline-api's query parameters (services/timeline-api/
 * params.c): times (RFC 3339, now, now-DURATION) and their RFC 3339 output,
 * durations, query-string splitting and %-decoding, unknown and repeated
 * parameters, limits, sort orders, and the opaque cursor (round trip,
 * refusal of foreign or tampered cursors, binding to tenant and filters).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/timeline-api/params.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NOW_US INT64_C(1773480600000000) /* 2026-03-14T09:30:00Z */

static void check_str(const char *what, const char *exp, const char *got)
{
	if (strcmp(exp, got) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\"", what, exp, got);
}

/* Parse `query` and the timeline request; returns the rc and leaves err. */
static int timeline(const char *query, const char *tenant, tb_api_timeline_req_t *r, tb_api_qs_t *qs,
		    tb_err_t *err)
{
	tb_api_limits_t lim;

	tb_api_limits_default(&lim);
	tb_err_clear(err);
	if (tb_api_qs_parse(query, qs, err) < 0)
		return -1;
	return tb_api_parse_timeline(qs, &lim, tenant, NOW_US, r, err);
}

/* The query must be refused with a message containing `frag`. */
static void timeline_refused(const char *query, const char *frag)
{
	tb_api_timeline_req_t r;
	tb_api_qs_t qs;
	tb_err_t err;
	int rc = timeline(query, "default", &r, &qs, &err);

	tb_api_qs_free(&qs);
	if (rc == 0)
		fail_msg("query \"%s\": expected an error containing \"%s\", got success", query, frag);
	if (!strstr(err.msg, frag))
		fail_msg("query \"%s\": expected an error containing \"%s\", got \"%s\"", query, frag,
			 err.msg);
}

static void time_formats_microseconds_in_utc(void **state)
{
	char ts[TB_API_TS_LEN];

	(void)state;
	tb_api_format_time(NOW_US + 123456, ts);
	check_str("format", "2026-03-14T09:30:00.123456Z", ts);
	tb_api_format_time(0, ts);
	check_str("epoch", "1970-01-01T00:00:00.000000Z", ts);
	tb_api_format_time(-1, ts);
	check_str("one microsecond before the epoch", "1969-12-31T23:59:59.999999Z", ts);
}

static void time_parses_rfc3339_now_and_relative(void **state)
{
	int64_t us = 0;
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_api_parse_time("2026-03-14T09:30:00Z", 0, &us, &err), 0);
	assert_int_equal(us, NOW_US);
	assert_int_equal(tb_api_parse_time("2026-03-14T10:30:00.1234567+01:00", 0, &us, &err), 0);
	assert_int_equal(us, NOW_US + 123456); /* truncated to microseconds, offset applied */
	assert_int_equal(tb_api_parse_time("now", NOW_US, &us, &err), 0);
	assert_int_equal(us, NOW_US);
	assert_int_equal(tb_api_parse_time("now-15m", NOW_US, &us, &err), 0);
	assert_int_equal(us, NOW_US - INT64_C(900000000));
}

static void time_rejects_malformed_values(void **state)
{
	static const char *const bad[] = {"yesterday",
					  "2026-03-14",
					  "2026-02-30T00:00:00Z",
					  "2026-03-14T09:30:00",
					  "now-",
					  "now-5",
					  "now+1h",
					  "1773480600",
					  "1969-12-31T23:59:59Z",
					  "2263-01-01T00:00:00Z",
					  "99999-01-01T00:00:00Z",
					  ""};
	int64_t us;
	tb_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tb_api_parse_time(bad[i], NOW_US, &us, &err) == 0)
			fail_msg("time \"%s\": expected an error, got %lld", bad[i], (long long)us);
	assert_int_equal(tb_api_parse_time("2263-01-01T00:00:00Z", NOW_US, &us, &err), -1);
	check_str("out of range",
		  "'2263-01-01T00:00:00Z' is outside the supported range 1970-01-01T00:00:00Z .. "
		  "2262-04-11T23:47:15Z",
		  err.msg);
	assert_int_equal(tb_api_parse_time("2262-04-11T23:47:15Z", NOW_US, &us, &err), 0);
}

static void duration_units_and_bounds(void **state)
{
	static const struct {
		const char *in;
		int64_t secs;
	} good[] = {{"90s", 90}, {"15m", 900}, {"1h", 3600}, {"7d", 604800}, {"366d", 366 * 86400}};
	static const char *const bad[] = {"0s",	 "-1m", "1",	"1w",
					  "1hh", "h",	"367d", "99999999999999999999s"};
	int64_t s;
	tb_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (tb_api_parse_duration(good[i].in, &s, &err) < 0)
			fail_msg("duration \"%s\": expected %lld s, got error \"%s\"", good[i].in,
				 (long long)good[i].secs, err.msg);
		assert_int_equal(s, good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tb_api_parse_duration(bad[i], &s, &err) == 0)
			fail_msg("duration \"%s\": expected an error, got %lld s", bad[i], (long long)s);
}

static void query_string_splits_and_decodes(void **state)
{
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_api_qs_parse("a=1&purl=pkg%3Ageneric%2Fx%401.0&sym=a+b&&flag&e=", &qs, &err), 0);
	assert_int_equal(qs.n, 5);
	check_str("a", "1", tb_api_qs_get(&qs, "a"));
	check_str("purl", "pkg:generic/x@1.0", tb_api_qs_get(&qs, "purl"));
	check_str("plus is a space", "a b", tb_api_qs_get(&qs, "sym"));
	check_str("flag without value", "", tb_api_qs_get(&qs, "flag"));
	check_str("empty value", "", tb_api_qs_get(&qs, "e"));
	assert_null(tb_api_qs_get(&qs, "absent"));
	tb_api_qs_free(&qs);
	assert_int_equal(tb_api_qs_parse(NULL, &qs, &err), 0);
	assert_int_equal(qs.n, 0);
	tb_api_qs_free(&qs);
}

static void query_string_rejects_bad_escapes_nul_and_excess(void **state)
{
	static const char *const bad[] = {"a=%zz", "a=%4", "a=%", "a=%00", "=1", "%00=1"};
	char many[1024] = "";
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tb_api_qs_parse(bad[i], &qs, &err) == 0)
			fail_msg("query \"%s\": expected an error, got %zu parameters", bad[i], qs.n);
		tb_api_qs_free(&qs);
	}
	for (int i = 0; i <= TB_API_QS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "k%d=1&", i);
	assert_int_equal(tb_api_qs_parse(many, &qs, &err), -1);
	check_str("too many", "more than 32 query parameters", err.msg);
	tb_api_qs_free(&qs);
}

/* Decoded names and values must be UTF-8 (they reach SQL as text); the
 * message names the parameter and the byte. */
static void query_string_rejects_invalid_utf8(void **state)
{
	static const char *const bad[][2] = {
	    {"symbol=%C3%28", "symbol: invalid UTF-8 at byte 0 of the decoded value"},
	    {"purl=ab%C0%AF", "purl: invalid UTF-8 at byte 2 of the decoded value"},
	    {"a=1&symbol=%ED%A0%80", "symbol: invalid UTF-8 at byte 0 of the decoded value"},
	    {"s=%F4%90%80%80", "s: invalid UTF-8 at byte 0 of the decoded value"},
	    {"s=x%E2%82", "s: invalid UTF-8 at byte 1 of the decoded value"},
	};
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tb_api_qs_parse(bad[i][0], &qs, &err), -1);
		check_str(bad[i][0], bad[i][1], err.msg);
		tb_api_qs_free(&qs);
	}
	assert_int_equal(tb_api_qs_parse("%FF=1", &qs, &err), -1);
	assert_non_null(strstr(err.msg, "invalid UTF-8"));
	tb_api_qs_free(&qs);
	assert_int_equal(tb_api_qs_parse("symbol=%E2%82%AC%F0%9F%98%80", &qs, &err), 0);
	check_str("valid multibyte", "\xe2\x82\xac\xf0\x9f\x98\x80", tb_api_qs_get(&qs, "symbol"));
	tb_api_qs_free(&qs);
}

static void timeline_defaults(void **state)
{
	tb_api_timeline_req_t r;
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	assert_int_equal(timeline("", "default", &r, &qs, &err), 0);
	assert_int_equal(r.limit, 100);
	assert_int_equal(r.bucket_s, 0);
	assert_int_equal(r.has_cursor, 0);
	assert_int_equal(r.f.has_from | r.f.has_to, 0);
	assert_null(r.f.artifact);
	tb_api_qs_free(&qs);
}

static void timeline_takes_every_filter(void **state)
{
	tb_api_timeline_req_t r;
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	assert_int_equal(timeline("artifact=" DIGEST_A "&purl=pkg:deb/debian/libssl3@3.0.11&symbol=SSL_read"
				  "&from=now-1h&to=2026-03-14T09:30:00Z&bucket=5m&limit=1000",
				  "default", &r, &qs, &err),
			 0);
	check_str("artifact", DIGEST_A, r.f.artifact);
	check_str("purl", "pkg:deb/debian/libssl3@3.0.11", r.f.purl);
	check_str("symbol", "SSL_read", r.f.symbol);
	assert_int_equal(r.f.from_us, NOW_US - INT64_C(3600000000));
	assert_int_equal(r.f.to_us, NOW_US);
	assert_int_equal(r.bucket_s, 300);
	assert_int_equal(r.limit, 1000);
	tb_api_qs_free(&qs);
}

static void timeline_rejects_bad_parameters(void **state)
{
	(void)state;
	timeline_refused("limit=0", "limit: 0 is out of range 1..1000");
	timeline_refused("limit=-5", "limit: '-5' is not a whole number");
	timeline_refused("limit=1001", "out of range 1..1000");
	timeline_refused("limit=99999999999999999999999", "out of range");
	timeline_refused("limit=", "limit: empty");
	timeline_refused("limit=1e3", "not a whole number");
	timeline_refused("from=yesterday", "from: 'yesterday' is not a time");
	timeline_refused("to=2026-13-01T00:00:00Z", "to: ");
	timeline_refused("from=2026-03-14T10:00:00Z&to=2026-03-14T10:00:00Z", "must be before to");
	timeline_refused("artifact=sha256:abc", "artifact: 'sha256:abc' is not a digest");
	timeline_refused("purl=libssl", "purl: 'libssl' is not a package URL");
	timeline_refused("symbol=", "symbol: empty");
	timeline_refused("symbol=a%0Ab", "symbol: control character 0x0a");
	timeline_refused("bucket=1w", "bucket: '1w' is not a duration");
	timeline_refused("sort=hits", "unknown parameter 'sort'");
	timeline_refused("artifcat=" DIGEST_A, "unknown parameter 'artifcat'");
	timeline_refused("limit=5&limit=6", "parameter 'limit' given more than once");
	timeline_refused("cursor=xyz", "cursor: 'xyz' is not a cursor this API returned");
}

static void hot_symbols_sort_and_parameters(void **state)
{
	tb_api_limits_t lim;
	tb_api_hot_req_t r;
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	tb_api_limits_default(&lim);
	assert_int_equal(tb_api_qs_parse("sort=recency&limit=3&artifact=" DIGEST_A, &qs, &err), 0);
	assert_int_equal(tb_api_parse_hot(&qs, &lim, NOW_US, &r, &err), 0);
	assert_int_equal(r.sort, TB_API_SORT_RECENCY);
	assert_int_equal(r.limit, 3);
	tb_api_qs_free(&qs);
	assert_int_equal(tb_api_qs_parse("", &qs, &err), 0);
	assert_int_equal(tb_api_parse_hot(&qs, &lim, NOW_US, &r, &err), 0);
	assert_int_equal(r.sort, TB_API_SORT_HITS);
	tb_api_qs_free(&qs);
	assert_int_equal(tb_api_qs_parse("sort=popularity", &qs, &err), 0);
	assert_int_equal(tb_api_parse_hot(&qs, &lim, NOW_US, &r, &err), -1);
	check_str("unknown sort", "sort: 'popularity' is not one of hits, recency", err.msg);
	tb_api_qs_free(&qs);
	assert_int_equal(tb_api_qs_parse("symbol=main", &qs, &err), 0);
	assert_int_equal(tb_api_parse_hot(&qs, &lim, NOW_US, &r, &err), -1);
	check_str("hot-symbols takes no symbol", "unknown parameter 'symbol'", err.msg);
	tb_api_qs_free(&qs);
}

static void folded_limit_defaults_to_max_stacks(void **state)
{
	tb_api_limits_t lim;
	tb_api_folded_req_t r;
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	tb_api_limits_default(&lim);
	assert_int_equal(tb_api_qs_parse("symbol=main", &qs, &err), 0);
	assert_int_equal(tb_api_parse_folded(&qs, &lim, NOW_US, &r, &err), 0);
	assert_int_equal(r.limit, lim.max_stacks);
	check_str("symbol", "main", r.f.symbol);
	tb_api_qs_free(&qs);
	assert_int_equal(tb_api_qs_parse("limit=10001", &qs, &err), 0);
	assert_int_equal(tb_api_parse_folded(&qs, &lim, NOW_US, &r, &err), -1);
	tb_api_qs_free(&qs);
}

static void cursor_round_trips(void **state)
{
	tb_api_cursor_t c = {.mode = TB_API_CURSOR_EVENTS, .ts_us = NOW_US, .check = 0x0123456789abcdefULL},
			d;
	char s[TB_API_CURSOR_MAX];
	tb_err_t err;

	(void)state;
	for (int i = 0; i < TB_EVENT_ID_LEN; i++)
		c.event_id[i] = (uint8_t)(0xf0 + i);
	tb_api_cursor_encode(&c, s);
	assert_int_equal(strlen(s), 46);
	assert_null(strpbrk(s, "+/=")); /* URL-safe: no escaping needed in a query string */
	assert_int_equal(tb_api_cursor_decode(s, &d, &err), 0);
	assert_int_equal(d.mode, c.mode);
	assert_int_equal(d.ts_us, c.ts_us);
	assert_memory_equal(d.event_id, c.event_id, TB_EVENT_ID_LEN);
	assert_true(d.check == c.check);
}

static void cursor_refuses_foreign_and_tampered_values(void **state)
{
	tb_api_cursor_t c = {.mode = TB_API_CURSOR_BUCKETS, .ts_us = 1}, d;
	char s[TB_API_CURSOR_MAX];
	tb_err_t err;

	(void)state;
	tb_api_cursor_encode(&c, s);
	s[0] = s[0] == 'A' ? 'B' : 'A'; /* version byte changes */
	assert_int_equal(tb_api_cursor_decode(s, &d, &err), -1);
	assert_int_equal(tb_api_cursor_decode("", &d, &err), -1);
	assert_int_equal(tb_api_cursor_decode("AQ", &d, &err), -1);
	assert_int_equal(tb_api_cursor_decode("not a cursor!", &d, &err), -1);
}

/* A cursor is valid for the query (tenant, filters, bucket) that made it. */
static void cursor_binds_tenant_filters_and_mode(void **state)
{
	tb_api_filter_t f = {.artifact = DIGEST_A};
	tb_api_cursor_t c = {.mode = TB_API_CURSOR_EVENTS, .ts_us = NOW_US};
	char s[TB_API_CURSOR_MAX], q[256];
	tb_api_timeline_req_t r;
	tb_api_qs_t qs;
	tb_err_t err;

	(void)state;
	c.check = tb_api_cursor_check("default", TB_API_CURSOR_EVENTS, &f, 0);
	tb_api_cursor_encode(&c, s);

	snprintf(q, sizeof(q), "artifact=%s&cursor=%s&from=now-2h&limit=7", DIGEST_A, s);
	assert_int_equal(timeline(q, "default", &r, &qs, &err), 0);
	assert_int_equal(r.has_cursor, 1);
	assert_int_equal(r.cursor.ts_us, NOW_US);
	tb_api_qs_free(&qs);

	assert_int_equal(timeline(q, "other", &r, &qs, &err), -1);
	check_str(
	    "other tenant",
	    "cursor: it belongs to another query (different filters or bucket); start again without cursor",
	    err.msg);
	tb_api_qs_free(&qs);
	snprintf(q, sizeof(q), "cursor=%s", s);
	assert_int_equal(timeline(q, "default", &r, &qs, &err), -1);
	tb_api_qs_free(&qs);
	snprintf(q, sizeof(q), "artifact=%s&bucket=1m&cursor=%s", DIGEST_A, s);
	assert_int_equal(timeline(q, "default", &r, &qs, &err), -1);
	tb_api_qs_free(&qs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(time_formats_microseconds_in_utc),
	    cmocka_unit_test(time_parses_rfc3339_now_and_relative),
	    cmocka_unit_test(time_rejects_malformed_values),
	    cmocka_unit_test(duration_units_and_bounds),
	    cmocka_unit_test(query_string_splits_and_decodes),
	    cmocka_unit_test(query_string_rejects_bad_escapes_nul_and_excess),
	    cmocka_unit_test(query_string_rejects_invalid_utf8),
	    cmocka_unit_test(timeline_defaults),
	    cmocka_unit_test(timeline_takes_every_filter),
	    cmocka_unit_test(timeline_rejects_bad_parameters),
	    cmocka_unit_test(hot_symbols_sort_and_parameters),
	    cmocka_unit_test(folded_limit_defaults_to_max_stacks),
	    cmocka_unit_test(cursor_round_trips),
	    cmocka_unit_test(cursor_refuses_foreign_and_tampered_values),
	    cmocka_unit_test(cursor_binds_tenant_filters_and_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
