/*
 * Unit tests for the timeline-api's JSON output: the writer
 * (services/timeline-api/jsonw.c: commas, nesting, escaping, invalid UTF-8,
 * error bodies) and the response bodies made from query rows
 * (queries.c: timeline items and next_cursor, buckets, hot symbols, folded
 * stacks, the null-mode answers). Rows are built with libpq's result
 * constructors, so no server is needed; every body is re-parsed with
 * jansson to prove it is valid JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "../../../services/timeline-api/jsonw.h"
#include "../../../services/timeline-api/queries.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void check_body(const char *what, const char *exp, const tb_jw_t *w)
{
	const char *got = w->buf ? w->buf : "";

	if (strcmp(exp, got) != 0)
		fail_msg("%s:\nexpected %s\ngot      %s", what, exp, got);
}

/* A parsed value, re-serialized compactly in its original key order. */
static void check_json(const char *what, const char *exp, const json_t *v)
{
	char *got = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	if (!got || strcmp(exp, got) != 0) {
		fail_msg("%s:\nexpected %s\ngot      %s", what, exp, got ? got : "(nothing)");
	}
	free(got);
}

/* The body must parse as JSON; returns it (decref it). */
static json_t *parse(const tb_jw_t *w)
{
	json_error_t e;
	json_t *doc = json_loadb(w->buf, w->len, JSON_ALLOW_NUL, &e);

	if (!doc)
		fail_msg("not valid JSON (%s at %d): %s", e.text, e.position, w->buf);
	return doc;
}

/* A text result with the given columns and rows (NULL cell = SQL NULL). */
static PGresult *result(int cols, int rows, const char *const *cells)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc *att = calloc((size_t)cols, sizeof(*att));
	char names[32][16];

	assert_non_null(res);
	for (int c = 0; c < cols; c++) {
		snprintf(names[c], sizeof(names[c]), "c%d", c);
		att[c].name = names[c];
		att[c].typid = 25; /* text */
		att[c].typlen = -1;
		att[c].atttypmod = -1;
	}
	assert_int_equal(PQsetResultAttrs(res, cols, att), 1);
	free(att);
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++) {
			const char *v = cells[r * cols + c];

			assert_int_equal(PQsetvalue(res, r, c, (char *)(v ? v : ""), v ? (int)strlen(v) : -1),
					 1);
		}
	return res;
}

static void writer_places_commas_and_nesting(void **state)
{
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	tb_jw_obj(&w);
	tb_jw_kint(&w, "a", -1);
	tb_jw_key(&w, "b");
	tb_jw_arr(&w);
	tb_jw_int(&w, 1);
	tb_jw_str(&w, "x");
	tb_jw_null(&w);
	tb_jw_obj(&w);
	tb_jw_end(&w);
	tb_jw_arr(&w);
	tb_jw_end(&w);
	tb_jw_end(&w);
	tb_jw_kbool(&w, "c", 1);
	tb_jw_kstr(&w, "d", NULL);
	tb_jw_end(&w);
	assert_int_equal(tb_jw_failed(&w), 0);
	check_body("nested", "{\"a\":-1,\"b\":[1,\"x\",null,{},[]],\"c\":true,\"d\":null}", &w);
	tb_jw_reset(&w);
	tb_jw_arr(&w);
	tb_jw_int(&w, INT64_MIN);
	tb_jw_end(&w);
	check_body("after reset", "[-9223372036854775808]", &w);
	tb_jw_free(&w);
}

static void writer_escapes_and_repairs_utf8(void **state)
{
	tb_jw_t w;
	json_t *doc;

	(void)state;
	tb_jw_init(&w);
	tb_jw_arr(&w);
	tb_jw_str(&w, "q\"b\\n\n\r\t\x01\x7f");
	tb_jw_str(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	tb_jw_str(&w, "bad \xff \xc3 \xe0\x80\x80 \xed\xa0\x80 end");
	tb_jw_strn(&w, "nul\0inside", 10);
	tb_jw_end(&w);
	check_body(
	    "escaped",
	    "[\"q\\\"b\\\\n\\n\\r\\t\\u0001\x7f\",\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
	    "\"bad \\ufffd \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd end\",\"nul\\u0000inside\"]",
	    &w);
	doc = parse(&w);
	json_decref(doc);
	tb_jw_free(&w);
}

/* Request bodies: the first invalid byte, its line and column, and the
 * member whose string value holds it when there is one. */
static void body_utf8_errors_say_where(void **state)
{
	static const char *const cases[][2] = {
	    {"{\"a\": \"ok\", \"purl\": \"x\xff\"}",
	     "invalid UTF-8 at byte 22 (line 1, column 23) in the value of member \"purl\""},
	    {"{\n  \"node\" :\t\"\xc3\xa9\xc3\"\n}",
	     "invalid UTF-8 at byte 16 (line 2, column 14) in the value of member \"node\""},
	    {"[\"ok\", \"\xe2\x82\"]", "invalid UTF-8 at byte 8 (line 1, column 9)"},
	    {"{\"k\\\"\xed\xa0\x80\": 1}", "invalid UTF-8 at byte 5 (line 1, column 6)"},
	    {"\xf8", "invalid UTF-8 at byte 0 (line 1, column 1)"},
	};
	char msg[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tb_utf8_describe_json(cases[i][0], strlen(cases[i][0]), msg, sizeof(msg)),
				 -1);
		if (strcmp(msg, cases[i][1]) != 0)
			fail_msg("case %zu: expected %s, got %s", i, cases[i][1], msg);
	}
	assert_int_equal(tb_utf8_describe_json("{\"a\": \"\xc3\xa9\"}", 11, msg, sizeof(msg)), 0);
	assert_int_equal(tb_utf8_describe_json("", 0, msg, sizeof(msg)), 0);
}

static void writer_reports_unbalanced_use(void **state)
{
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	tb_jw_end(&w);
	assert_int_equal(tb_jw_failed(&w), 1);
	tb_jw_free(&w);
	tb_jw_init(&w);
	for (int i = 0; i <= TB_JW_MAX_DEPTH; i++)
		tb_jw_arr(&w);
	assert_int_equal(tb_jw_failed(&w), 1);
	tb_jw_free(&w);
}

static void error_body_shape(void **state)
{
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	tb_jw_str(&w, "previous content is dropped");
	tb_jw_error(&w, "invalid_parameter", "from: 'x\"' is not a time");
	check_body("error",
		   "{\"error\":{\"code\":\"invalid_parameter\",\"message\":\"from: 'x\\\"' is not a time\"}}",
		   &w);
	tb_jw_free(&w);
}

/* 16 columns as tb_api_sql_timeline selects them. */
static const char *const timeline_rows[] = {
    "1773480600000000",
    "00112233445566778899aabbccddeeff",
    "sample",
    "probe",
    "node-1",
    "payments",
    "checkout",
    "sha256:dd",
    DIGEST_A,
    "pkg:deb/debian/libssl3@3.0.11",
    "SSL_read",
    "aa11",
    "libssl.so.3",
    "3",
    "correlated",
    "5001",
    "1773480600000001",
    "ffeeddccbbaa99887766554433221100",
    "exit",
    "tetragon",
    NULL,
    NULL,
    NULL,
    NULL,
    "",
    NULL,
    NULL,
    NULL,
    NULL,
    "1",
    NULL,
    "0",
    "1773480600000002",
    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    "sample",
    "probe",
    "n",
    NULL,
    NULL,
    NULL,
    "",
    NULL,
    "",
    "",
    "x",
    "1",
    "uncorrelated",
    "-1",
};

static void timeline_page_with_cursor(void **state)
{
	tb_api_timeline_req_t r = {.limit = 2};
	PGresult *res = result(16, 3, timeline_rows);
	tb_api_timeline_req_t next = {0};
	tb_api_cursor_t c;
	tb_err_t err;
	tb_jw_t w;
	json_t *doc;

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_render_timeline(res, &r, "default", &w), 0);
	doc = parse(&w);
	assert_int_equal(json_array_size(json_object_get(doc, "items")), 2);
	check_json(
	    "first item",
	    "{\"ts\":\"2026-03-14T09:30:00.000000Z\",\"event_id\":\"00112233445566778899aabbccddeeff\","
	    "\"kind\":"
	    "\"sample\",\"source\":\"probe\",\"node\":\"node-1\",\"namespace\":\"payments\",\"workload\":"
	    "\"checkout\","
	    "\"image_digest\":\"sha256:dd\",\"artifact_digest\":\"" DIGEST_A "\",\"purl\":"
	    "\"pkg:deb/debian/libssl3@3.0.11\",\"symbol\":\"SSL_read\",\"build_id\":\"aa11\",\"module\":"
	    "\"libssl.so.3\",\"count\":3,\"correlation\":\"correlated\",\"stack_id\":\"0000000000001389\"}",
	    json_array_get(json_object_get(doc, "items"), 0));
	/* NULL and '' become null; stack 0 is no stack */
	assert_true(json_is_null(
	    json_object_get(json_array_get(json_object_get(doc, "items"), 1), "artifact_digest")));
	assert_true(
	    json_is_null(json_object_get(json_array_get(json_object_get(doc, "items"), 1), "stack_id")));
	assert_true(json_is_true(json_object_get(doc, "runtime_enabled")));
	/* the cursor points after the last item shown and belongs to this query */
	assert_int_equal(
	    tb_api_cursor_decode(json_string_value(json_object_get(doc, "next_cursor")), &c, &err), 0);
	assert_int_equal(c.ts_us, INT64_C(1773480600000001));
	assert_int_equal(c.event_id[0], 0xff);
	assert_true(c.check == tb_api_cursor_check("default", TB_API_CURSOR_EVENTS, &next.f, 0));
	json_decref(doc);
	tb_jw_free(&w);
	PQclear(res);
}

static void timeline_last_page_has_null_cursor(void **state)
{
	tb_api_timeline_req_t r = {.limit = 3};
	PGresult *res = result(16, 3, timeline_rows);
	tb_jw_t w;
	json_t *doc;

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_render_timeline(res, &r, "default", &w), 0);
	doc = parse(&w);
	assert_int_equal(json_array_size(json_object_get(doc, "items")), 3);
	assert_true(json_is_null(json_object_get(doc, "next_cursor")));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(json_object_get(doc, "items"), 2), "stack_id")),
	    "ffffffffffffffff");
	json_decref(doc);
	tb_jw_free(&w);
	PQclear(res);
}

static void timeline_refuses_rows_of_another_shape(void **state)
{
	static const char *const bad_ts[] = {"12x", "00112233445566778899aabbccddeeff",
					     "k",   "s",
					     "n",   "n",
					     "w",   "i",
					     "a",   "p",
					     "s",   "b",
					     "m",   "1",
					     "c",   "0"};
	static const char *const bad_id[] = {"1", "0011", "k", "s", "n", "n", "w", "i",
					     "a", "p",	  "s", "b", "m", "1", "c", "0"};
	tb_api_timeline_req_t r = {.limit = 5};
	PGresult *res;
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	res = result(16, 1, bad_ts);
	assert_int_equal(tb_api_render_timeline(res, &r, "default", &w), -1);
	PQclear(res);
	res = result(16, 1, bad_id);
	tb_jw_reset(&w);
	assert_int_equal(tb_api_render_timeline(res, &r, "default", &w), -1);
	PQclear(res);
	res = result(3, 0, NULL);
	tb_jw_reset(&w);
	assert_int_equal(tb_api_render_timeline(res, &r, "default", &w), -1);
	PQclear(res);
	tb_jw_free(&w);
}

static void null_mode_bodies(void **state)
{
	tb_api_timeline_req_t t = {.limit = 10, .bucket_s = 60};
	tb_api_hot_req_t h = {.limit = 10, .sort = TB_API_SORT_RECENCY};
	tb_api_folded_req_t f = {.limit = 10};
	int truncated = 1;
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_render_timeline(NULL, &t, "default", &w), 0);
	check_body("timeline", "{\"items\":[],\"next_cursor\":null,\"runtime_enabled\":false}", &w);
	tb_jw_reset(&w);
	assert_int_equal(tb_api_render_buckets(NULL, &t, "default", &w), 0);
	check_body("buckets",
		   "{\"bucket_seconds\":60,\"items\":[],\"next_cursor\":null,\"runtime_enabled\":false}", &w);
	tb_jw_reset(&w);
	assert_int_equal(tb_api_render_hot(NULL, &h, &w), 0);
	check_body("hot", "{\"sort\":\"recency\",\"items\":[],\"runtime_enabled\":false}", &w);
	tb_jw_reset(&w);
	assert_int_equal(tb_api_render_folded(NULL, &f, &w, &truncated), 0);
	assert_int_equal(w.len, 0);
	assert_int_equal(truncated, 0);
	tb_jw_free(&w);
}

static void buckets_page_and_cursor(void **state)
{
	static const char *const rows[] = {"1773480600000000", "7", "3", "1773480660000000", "2", "2",
					   "1773480780000000", "1", "1"};
	tb_api_timeline_req_t r = {.limit = 2, .bucket_s = 60};
	PGresult *res = result(3, 3, rows);
	tb_api_cursor_t c;
	tb_err_t err;
	tb_jw_t w;
	json_t *doc;

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_render_buckets(res, &r, "default", &w), 0);
	doc = parse(&w);
	check_json(
	    "buckets",
	    "[{\"start\":\"2026-03-14T09:30:00.000000Z\",\"end\":\"2026-03-14T09:31:00.000000Z\",\"count\":7,"
	    "\"events\":3},{\"start\":\"2026-03-14T09:31:00.000000Z\",\"end\":\"2026-03-14T09:32:00."
	    "000000Z\","
	    "\"count\":2,\"events\":2}]",
	    json_object_get(doc, "items"));
	/* the next page starts at the bucket after the last one shown */
	assert_int_equal(
	    tb_api_cursor_decode(json_string_value(json_object_get(doc, "next_cursor")), &c, &err), 0);
	assert_int_equal(c.mode, TB_API_CURSOR_BUCKETS);
	assert_int_equal(c.ts_us, INT64_C(1773480720000000));
	json_decref(doc);
	tb_jw_free(&w);
	PQclear(res);
}

static void hot_symbols_items(void **state)
{
	static const char *const rows[] = {DIGEST_A,
					   "101",
					   "SSL_read",
					   "aa11",
					   "libssl.so.3",
					   "pkg:deb/debian/libssl3@3.0.11",
					   "108",
					   "111",
					   "1773480600000000",
					   "1773486659000000",
					   "",
					   "-2",
					   "",
					   "",
					   "[kernel]",
					   NULL,
					   "1",
					   "2",
					   "1773480600000000",
					   "1773480600000000"};
	tb_api_hot_req_t r = {.limit = 10};
	PGresult *res = result(10, 2, rows);
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_render_hot(res, &r, &w), 0);
	check_body("hot",
		   "{\"sort\":\"hits\",\"items\":[{\"symbol\":\"SSL_read\",\"symbol_id\":"
		   "\"0000000000000065\",\"build_id\":"
		   "\"aa11\",\"module\":\"libssl.so.3\",\"purl\":\"pkg:deb/debian/"
		   "libssl3@3.0.11\",\"artifact_digest\":"
		   "\"" DIGEST_A
		   "\",\"self_count\":108,\"total_count\":111,\"first_seen\":\"2026-03-14T09:30:00.000000Z\","
		   "\"last_seen\":\"2026-03-14T11:10:59.000000Z\"},{\"symbol\":null,\"symbol_id\":"
		   "\"fffffffffffffffe\","
		   "\"build_id\":null,\"module\":\"[kernel]\",\"purl\":null,\"artifact_digest\":null,\"self_"
		   "count\":1,"
		   "\"total_count\":2,\"first_seen\":\"2026-03-14T09:30:00.000000Z\",\"last_seen\":"
		   "\"2026-03-14T09:30:00.000000Z\"}],\"runtime_enabled\":true}",
		   &w);
	tb_jw_free(&w);
	PQclear(res);
}

static void folded_lines_and_truncation(void **state)
{
	static const char *const rows[] = {"main;ssl3_read_bytes;SSL_read", "36",
					   "main;do_syscall_64_[k]",	    "20",
					   "main;libfoo.so+0x40",	    "9"};
	tb_api_folded_req_t r = {.limit = 2};
	PGresult *res = result(2, 3, rows);
	int truncated = 0;
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_render_folded(res, &r, &w, &truncated), 0);
	check_body("folded", "main;ssl3_read_bytes;SSL_read 36\nmain;do_syscall_64_[k] 20\n", &w);
	assert_int_equal(truncated, 1);
	tb_jw_reset(&w);
	r.limit = 3;
	assert_int_equal(tb_api_render_folded(res, &r, &w, &truncated), 0);
	assert_int_equal(truncated, 0);
	tb_jw_free(&w);
	PQclear(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(writer_places_commas_and_nesting),
	    cmocka_unit_test(writer_escapes_and_repairs_utf8),
	    cmocka_unit_test(body_utf8_errors_say_where),
	    cmocka_unit_test(writer_reports_unbalanced_use),
	    cmocka_unit_test(error_body_shape),
	    cmocka_unit_test(timeline_page_with_cursor),
	    cmocka_unit_test(timeline_last_page_has_null_cursor),
	    cmocka_unit_test(timeline_refuses_rows_of_another_shape),
	    cmocka_unit_test(null_mode_bodies),
	    cmocka_unit_test(buckets_page_and_cursor),
	    cmocka_unit_test(hot_symbols_items),
	    cmocka_unit_test(folded_lines_and_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
