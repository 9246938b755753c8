/*
 * Unit tests for tb_jsonstream: object framing, positions, garbage and
 * resynchronization, the size limit, and independence from chunking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tb/jsonstream.h"

#define MAX_ITEMS 64

typedef struct got {
	tb_jsonstream_kind_t kind;
	char data[256];
	size_t len;
	uint64_t offset, line, column;
	char reason[192];
} got_t;

typedef struct run {
	got_t items[MAX_ITEMS];
	size_t n;
} run_t;

static void take(tb_jsonstream_t *s, run_t *r)
{
	tb_jsonstream_item_t it;

	while (tb_jsonstream_next(s, &it)) {
		got_t *g;

		assert_true(r->n < MAX_ITEMS);
		g = &r->items[r->n++];
		g->kind = it.kind;
		g->len = it.len;
		snprintf(g->data, sizeof(g->data), "%.*s", (int)it.len, it.data);
		g->offset = it.offset;
		g->line = it.line;
		g->column = it.column;
		snprintf(g->reason, sizeof(g->reason), "%s", it.reason ? it.reason : "");
	}
}

/* Feed `in` in chunks of `chunk` bytes (0 = all at once), then finish. */
static void split(const char *in, size_t chunk, size_t max, run_t *r)
{
	tb_jsonstream_t *s = tb_jsonstream_new(max);
	size_t len = strlen(in);
	tb_err_t err = {{0}};

	assert_non_null(s);
	memset(r, 0, sizeof(*r));
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		assert_int_equal(tb_jsonstream_feed(s, in + off, n, &err), 0);
		take(s, r);
	}
	tb_jsonstream_finish(s);
	take(s, r);
	tb_jsonstream_free(s);
}

static void expect_item(const run_t *r, size_t i, tb_jsonstream_kind_t kind, const char *data,
			uint64_t offset, uint64_t line, uint64_t column)
{
	const got_t *g;

	if (i >= r->n)
		fail_msg("expected an item #%zu (%s \"%s\"), got only %zu items", i,
			 tb_jsonstream_kind_name(kind), data, r->n);
	g = &r->items[i];
	if (g->kind != kind || strcmp(g->data, data) != 0 || g->offset != offset || g->line != line ||
	    g->column != column)
		fail_msg("item #%zu: expected %s \"%s\" at offset %llu line %llu col %llu, got %s \"%s\" at "
			 "offset "
			 "%llu line %llu col %llu (%s)",
			 i, tb_jsonstream_kind_name(kind), data, (unsigned long long)offset,
			 (unsigned long long)line, (unsigned long long)column,
			 tb_jsonstream_kind_name(g->kind), g->data, (unsigned long long)g->offset,
			 (unsigned long long)g->line, (unsigned long long)g->column, g->reason);
}

static void expect_count(const run_t *r, size_t n)
{
	if (r->n != n)
		fail_msg("expected %zu items, got %zu (last: %s \"%s\")", n, r->n,
			 r->n ? tb_jsonstream_kind_name(r->items[r->n - 1].kind) : "-",
			 r->n ? r->items[r->n - 1].data : "");
}

static void one_object_per_line_with_positions(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":1}\n{\"b\":2}\n", 0, 0, &r);
	expect_count(&r, 2);
	expect_item(&r, 0, TB_JSONSTREAM_OBJECT, "{\"a\":1}", 0, 1, 1);
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\"b\":2}", 8, 2, 1);
}

static void pretty_object_spanning_lines_is_one_object(void **state)
{
	const char *in = "{\n  \"a\": {\n    \"b\": [1, {\"c\": 2}]\n  }\n}\n\n{\n \"d\": 3\n}\n";
	run_t r;

	(void)state;
	split(in, 0, 0, &r);
	expect_count(&r, 2);
	expect_item(&r, 0, TB_JSONSTREAM_OBJECT, "{\n  \"a\": {\n    \"b\": [1, {\"c\": 2}]\n  }\n}", 0, 1,
		    1);
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\n \"d\": 3\n}", 41, 7, 1);
}

static void objects_back_to_back_on_one_line(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":1}{\"b\":2}  \t{\"c\":3}", 0, 0, &r);
	expect_count(&r, 3);
	expect_item(&r, 0, TB_JSONSTREAM_OBJECT, "{\"a\":1}", 0, 1, 1);
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\"b\":2}", 7, 1, 8);
	expect_item(&r, 2, TB_JSONSTREAM_OBJECT, "{\"c\":3}", 17, 1, 18);
}

static void braces_and_escaped_quotes_in_strings_do_not_end_objects(void **state)
{
	const char *obj = "{\"s\":\"}{\\\"]}[\\\\\",\"t\":\"\\\\\\\"}\"}";
	run_t r;

	(void)state;
	split(obj, 0, 0, &r);
	expect_count(&r, 1);
	expect_item(&r, 0, TB_JSONSTREAM_OBJECT, obj, 0, 1, 1);
}

static void garbage_between_objects_is_reported_and_the_next_object_arrives(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":1} xx {\"b\":2}\n# note\n{\"c\":3},\n[1,2]\n", 0, 0, &r);
	expect_count(&r, 7);
	expect_item(&r, 0, TB_JSONSTREAM_OBJECT, "{\"a\":1}", 0, 1, 1);
	expect_item(&r, 1, TB_JSONSTREAM_GARBAGE, "xx", 8, 1, 9);
	expect_item(&r, 2, TB_JSONSTREAM_OBJECT, "{\"b\":2}", 11, 1, 12);
	expect_item(&r, 3, TB_JSONSTREAM_GARBAGE, "# note", 19, 2, 1);
	expect_item(&r, 4, TB_JSONSTREAM_OBJECT, "{\"c\":3}", 26, 3, 1);
	expect_item(&r, 5, TB_JSONSTREAM_GARBAGE, ",", 33, 3, 8);
	/* Only objects are values: a top-level array is garbage. */
	expect_item(&r, 6, TB_JSONSTREAM_GARBAGE, "[1,2]", 35, 4, 1);
}

static void top_level_array_is_garbage_around_its_objects(void **state)
{
	run_t r;

	(void)state;
	split("[1,2]\n[{\"a\":1},{\"b\":2}]", 0, 0, &r);
	expect_count(&r, 6);
	expect_item(&r, 0, TB_JSONSTREAM_GARBAGE, "[1,2]", 0, 1, 1);
	expect_item(&r, 1, TB_JSONSTREAM_GARBAGE, "[", 6, 2, 1);
	expect_item(&r, 2, TB_JSONSTREAM_OBJECT, "{\"a\":1}", 7, 2, 2);
	expect_item(&r, 3, TB_JSONSTREAM_GARBAGE, ",", 14, 2, 9);
	expect_item(&r, 4, TB_JSONSTREAM_OBJECT, "{\"b\":2}", 15, 2, 10);
	expect_item(&r, 5, TB_JSONSTREAM_GARBAGE, "]", 22, 2, 17);
}

static void newline_inside_a_string_truncates_and_the_next_line_parses(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":\"cut\n{\"b\":2}\n", 0, 0, &r);
	expect_count(&r, 2);
	expect_item(&r, 0, TB_JSONSTREAM_TRUNCATED, "{\"a\":\"cut", 0, 1, 1);
	assert_non_null(strstr(r.items[0].reason, "newline inside a string at line 1"));
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\"b\":2}", 10, 2, 1);
}

static void brace_at_column_one_ends_an_unclosed_object(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":{\"b\":1\n{\"c\":2}\n", 0, 0, &r);
	expect_count(&r, 2);
	expect_item(&r, 0, TB_JSONSTREAM_TRUNCATED, "{\"a\":{\"b\":1\n", 0, 1, 1);
	assert_non_null(strstr(r.items[0].reason, "a new object starts at line 2 column 1"));
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\"c\":2}", 12, 2, 1);
}

static void end_of_input_inside_an_object_is_truncated(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":1}\n{\"b\":[1,", 0, 0, &r);
	expect_count(&r, 2);
	expect_item(&r, 1, TB_JSONSTREAM_TRUNCATED, "{\"b\":[1,", 8, 2, 1);
	assert_non_null(strstr(r.items[1].reason, "end of input"));
}

static void object_over_the_limit_is_skipped_and_the_next_arrives(void **state)
{
	char in[4096];
	char head[65];
	size_t n = 0;
	run_t r;

	(void)state;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "{\"big\":\"");
	memset(in + n, 'x', 1000);
	n += 1000;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\",\"o\":{\"p\":[1]}}\n{\"ok\":1}\n");
	memcpy(head, in, 64);
	head[64] = '\0';
	split(in, 0, 64, &r);
	expect_count(&r, 2);
	expect_item(&r, 0, TB_JSONSTREAM_TOO_LARGE, head, 0, 1, 1);
	assert_non_null(strstr(r.items[0].reason, "larger than 64 bytes"));
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\"ok\":1}", n - 9, 2, 1);
}

/* Found by fuzz_jsonstream: an object whose closing brace was byte max+1
 * came out as an OBJECT of max+1 bytes. Exactly max bytes is an object. */
static void object_of_max_bytes_is_kept_one_more_is_too_large(void **state)
{
	run_t r;

	(void)state;
	split("{\"a\":\"12345678\"}\n", 0, 16, &r); /* 16 bytes */
	expect_count(&r, 1);
	expect_item(&r, 0, TB_JSONSTREAM_OBJECT, "{\"a\":\"12345678\"}", 0, 1, 1);
	for (size_t chunk = 0; chunk <= 17; chunk++) {
		split("{\"a\":\"123456789\"}\n{}", chunk, 16, &r); /* 17 bytes */
		expect_count(&r, 2);
		expect_item(&r, 0, TB_JSONSTREAM_TOO_LARGE, "{\"a\":\"123456789\"", 0, 1, 1);
		expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{}", 18, 2, 1);
	}
}

static void oversized_pretty_object_resyncs_at_the_next_column_one_brace(void **state)
{
	/* The big object never closes; the next object at column 1 still arrives. */
	const char *in = "{\n  \"a\": [\n    1111111111, 2222222222, 3333333333,\n    4444444444\n"
			 "{\"ok\":true}\n";
	run_t r;

	(void)state;
	split(in, 0, 32, &r);
	expect_count(&r, 2);
	assert_int_equal(r.items[0].kind, TB_JSONSTREAM_TOO_LARGE);
	expect_item(&r, 1, TB_JSONSTREAM_OBJECT, "{\"ok\":true}", 66, 5, 1);
}

static void skipping_a_huge_object_keeps_memory_bounded(void **state)
{
	tb_jsonstream_t *s = tb_jsonstream_new(1024 * 1024);
	char chunk[65536];
	tb_err_t err = {{0}};
	tb_jsonstream_item_t it;
	int too_large = 0, objects = 0;

	(void)state;
	assert_non_null(s);
	assert_int_equal(tb_jsonstream_feed(s, "{\"x\":\"", 6, &err), 0);
	memset(chunk, 'y', sizeof(chunk));
	for (int i = 0; i < 160; i++) { /* 10 MiB of string */
		assert_int_equal(tb_jsonstream_feed(s, chunk, sizeof(chunk), &err), 0);
		while (tb_jsonstream_next(s, &it))
			too_large += it.kind == TB_JSONSTREAM_TOO_LARGE;
	}
	assert_int_equal(tb_jsonstream_feed(s, "\"}\n{\"n\":1}\n", 11, &err), 0);
	while (tb_jsonstream_next(s, &it))
		objects += it.kind == TB_JSONSTREAM_OBJECT;
	assert_int_equal(too_large, 1);
	assert_int_equal(objects, 1);
	if (tb_jsonstream_buffered(s) > 4 * 1024 * 1024)
		fail_msg("expected the buffer to stay near max+chunk (<= 4 MiB), got %zu bytes",
			 tb_jsonstream_buffered(s));
	tb_jsonstream_free(s);
}

static void any_chunking_gives_the_same_items(void **state)
{
	const char *in =
	    "\xEF\xBB\xBF{\"a\":\"}\\\"{\"}\n  {\n  \"b\": [ {\"c\": \"d\\\\\"} ]\n}{\"e\":1} junk "
	    "{\"f\":2}\n"
	    "{\"g\":\"cut\n{\"h\":{\"i\":1\n{\"j\":[]}\n{\"k\":\"" /* truncated by end of input */;
	run_t whole, part;

	(void)state;
	split(in, 0, 0, &whole);
	expect_count(&whole, 9);
	expect_item(&whole, 0, TB_JSONSTREAM_OBJECT, "{\"a\":\"}\\\"{\"}", 3, 1, 1);
	for (size_t chunk = 1; chunk <= 17; chunk++) {
		split(in, chunk, 0, &part);
		if (part.n != whole.n)
			fail_msg("chunk size %zu: expected %zu items, got %zu", chunk, whole.n, part.n);
		for (size_t i = 0; i < whole.n; i++) {
			const got_t *g = &whole.items[i];

			expect_item(&part, i, g->kind, g->data, g->offset, g->line, g->column);
		}
	}
}

static void reset_restarts_positions(void **state)
{
	tb_jsonstream_t *s = tb_jsonstream_new(0);
	tb_err_t err = {{0}};
	tb_jsonstream_item_t it;

	(void)state;
	assert_non_null(s);
	assert_int_equal(tb_jsonstream_feed(s, "{\"a\":", 5, &err), 0);
	assert_int_equal(tb_jsonstream_next(s, &it), 0);
	tb_jsonstream_reset(s, 1000, 40);
	assert_int_equal(tb_jsonstream_feed(s, "\n{\"b\":1}", 8, &err), 0);
	assert_int_equal(tb_jsonstream_next(s, &it), 1);
	assert_int_equal(it.kind, TB_JSONSTREAM_OBJECT);
	assert_int_equal(it.offset, 1001);
	assert_int_equal(it.line, 41);
	assert_int_equal(it.column, 1);
	tb_jsonstream_free(s);
}

/* A closing bracket of the wrong kind ends the object there (reported with
 * why), and the objects after it on the same line still arrive; valid
 * nesting of both kinds, also deeper than the kinds are tracked, is fine. */
static void a_mismatched_bracket_ends_the_object_at_once(void **state)
{
	static char deep[12000];
	run_t r;
	size_t n = 0;

	(void)state;
	for (size_t chunk = 0; chunk <= 3; chunk++) {
		split("{\"a\":[1}{\"b\":1} {\"c\":{\"d\":2]}{\"e\":[{\"f\":[3]}]}\n", chunk, 0, &r);
		assert_int_equal(r.n, 5);
		assert_int_equal(r.items[0].kind, TB_JSONSTREAM_TRUNCATED);
		assert_string_equal(r.items[0].data, "{\"a\":[1}");
		assert_non_null(strstr(r.items[0].reason, "'}' closes a '['"));
		assert_int_equal(r.items[1].kind, TB_JSONSTREAM_OBJECT);
		assert_string_equal(r.items[1].data, "{\"b\":1}");
		assert_int_equal(r.items[2].kind, TB_JSONSTREAM_TRUNCATED);
		assert_non_null(strstr(r.items[2].reason, "']' closes a '{'"));
		assert_int_equal(r.items[3].kind, TB_JSONSTREAM_GARBAGE); /* the '}' left over */
		assert_int_equal(r.items[4].kind, TB_JSONSTREAM_OBJECT);
		assert_string_equal(r.items[4].data, "{\"e\":[{\"f\":[3]}]}");
	}
	/* 2000 levels: '{' then alternating '[' / '{' ..., closed in order */
	deep[n++] = '{';
	for (int i = 1; i < 2000; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "%s", i % 2 ? "\"k\":[" : "{");
	for (int i = 1999; i >= 1; i--)
		deep[n++] = i % 2 ? ']' : '}';
	deep[n++] = '}';
	deep[n] = '\0';
	split(deep, 0, 0, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.items[0].kind, TB_JSONSTREAM_OBJECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_object_per_line_with_positions),
	    cmocka_unit_test(pretty_object_spanning_lines_is_one_object),
	    cmocka_unit_test(objects_back_to_back_on_one_line),
	    cmocka_unit_test(braces_and_escaped_quotes_in_strings_do_not_end_objects),
	    cmocka_unit_test(garbage_between_objects_is_reported_and_the_next_object_arrives),
	    cmocka_unit_test(top_level_array_is_garbage_around_its_objects),
	    cmocka_unit_test(newline_inside_a_string_truncates_and_the_next_line_parses),
	    cmocka_unit_test(brace_at_column_one_ends_an_unclosed_object),
	    cmocka_unit_test(end_of_input_inside_an_object_is_truncated),
	    cmocka_unit_test(object_over_the_limit_is_skipped_and_the_next_arrives),
	    cmocka_unit_test(object_of_max_bytes_is_kept_one_more_is_too_large),
	    cmocka_unit_test(oversized_pretty_object_resyncs_at_the_next_column_one_brace),
	    cmocka_unit_test(skipping_a_huge_object_keeps_memory_bounded),
	    cmocka_unit_test(any_chunking_gives_the_same_items),
	    cmocka_unit_test(reset_restarts_positions),
	    cmocka_unit_test(a_mismatched_bracket_ends_the_object_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
