/*
 * Unit tests for tb_jsondom (common/tb_jsondom.h): whenever the fast parser
 * accepts an input, jansson (json_loadb with JSON_REJECT_DUPLICATES) accepts
 * it too and yields the same tree — checked on hand-written edge cases and
 * on every Tetragon sample of ../shared/testdata/tetragon and tests/data/tetragon
 * (split into objects by tb_jsonstream); inputs outside the subset ask for
 * the fallback.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../tb_test.h"

#include "../../../common/tb_jsondom.h"
#include "tb/jsonstream.h"

/* Parses text both ways; returns 1 when the fast parser took it (and then
 * the trees must agree), 0 when it asked for the fallback. */
static int check(const char *text, size_t len)
{
	int fallback = -1;
	tb_jdoc_t *fast = tb_jdoc_parse(text, len, &fallback), *ref;
	json_error_t je;
	json_t *root;

	if (!fast) {
		assert_int_equal(fallback, 1);
		return 0;
	}
	assert_int_equal(fallback, 0);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		fail_msg("fast parser accepted what jansson refuses (%s): %.*s", je.text, (int)len, text);
	ref = tb_jdoc_from_jansson(root);
	json_decref(root);
	assert_non_null(ref);
	if (!tb_jv_equal(tb_jdoc_root(fast), tb_jdoc_root(ref)))
		fail_msg("trees differ for: %.*s", (int)len, text);
	tb_jdoc_free(ref);
	tb_jdoc_free(fast);
	return 1;
}

static int check_str(const char *text)
{
	return check(text, strlen(text));
}

static void the_subset_is_parsed_like_jansson(void **state)
{
	(void)state;
	assert_true(check_str("{}"));
	assert_true(check_str(" \t\r\n{ \"a\" : [ ] , \"b\":{},\"c\":null } \n"));
	assert_true(check_str("{\"s\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\",\"e\":\"\"}"));
	assert_true(check_str("{\"i\":[0,-0,7,-12,123456789012345678,-123456789012345678]}"));
	assert_true(check_str("{\"r\":[0.5,-0.0,1e3,1E-3,2.5e+10,1.7976931348623157e308,1e-300]}"));
	assert_true(check_str("{\"t\":true,\"f\":false,\"n\":null,\"nest\":{\"a\":[{\"b\":[[1],[2,3]]}]}}"));
	assert_true(check_str("{\"b\":1,\"a\":2,\"c\":{\"z\":1,\"y\":2}}")); /* order kept */
	assert_true(check_str("{\"\":\"empty key\",\"del\":\"\x7f\"}"));
}

static void outside_the_subset_asks_for_jansson(void **state)
{
	(void)state;
	assert_false(check_str("{\"u\":\"\\u00e9\"}"));		    /* \u escape */
	assert_false(check_str("{\"u\":\"\xc3\xa9\"}"));	    /* UTF-8 */
	assert_false(check_str("{\"i\":1234567890123456789}"));	    /* 19 digits */
	assert_false(check_str("{\"i\":99999999999999999999999}")); /* overflow */
	assert_false(check_str("{\"r\":1e999}"));		    /* inf */
	assert_false(check_str("{\"r\":1e-400}"));		    /* underflow */
	assert_false(check_str("{\"a\":1,\"a\":2}"));		    /* duplicate */
	assert_false(check_str("[1,2]"));			    /* not an object */
	assert_false(check_str("\"s\""));
	assert_false(check_str(""));
	assert_false(check_str("{\"a\":1} x"));
	assert_false(check_str("{\"a\":1}{}"));
	assert_false(check_str("{\"a\":01}"));
	assert_false(check_str("{\"a\":1.}"));
	assert_false(check_str("{\"a\":.5}"));
	assert_false(check_str("{\"a\":-}"));
	assert_false(check_str("{\"a\":+1}"));
	assert_false(check_str("{\"a\":1,}"));
	assert_false(check_str("{\"a\":[1,]}"));
	assert_false(check_str("{\"a\":tru}"));
	assert_false(check_str("{\"a\":\"x\ty\"}")); /* control byte */
	assert_false(check_str("{\"a\":\"\\x\"}"));
	assert_false(check_str("{\"a\":\"open}"));
	assert_false(check("{\"a\":\"\0\"}", 8));
	assert_false(check_str("{a:1}"));
}

static void deep_and_wide_objects_go_to_jansson(void **state)
{
	char deep[300] = "", wide[2000] = "{";
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "%s", i ? "[" : "{\"a\":");
	for (int i = 1; i < 70; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "]");
	snprintf(deep + n, sizeof(deep) - n, "}");
	assert_false(check_str(deep));
	for (int members = 64; members <= 65; members++) {
		n = 1;
		for (int i = 0; i < members; i++)
			n += (size_t)snprintf(wide + n, sizeof(wide) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
		snprintf(wide + n, sizeof(wide) - n, "}");
		assert_int_equal(check_str(wide), members == 64);
	}
}

/* Every object of every file in dir; returns how many the fast parser took. */
static size_t check_dir(const char *dir, size_t *objects)
{
	const char *root = getenv("TB_SRCDIR");
	char path[4096];
	struct dirent *de;
	DIR *d;
	size_t fast = 0;

	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", dir);
	d = opendir(path);
	if (!d)
		fail_msg("cannot open %s (is TB_SRCDIR the repo root?)", path);
	while ((de = readdir(d)) != NULL) {
		tb_jsonstream_t *s;
		tb_jsonstream_item_t it;
		tb_err_t err = {{0}};
		char file[8192];
		size_t len;
		char *text;

		if (!strstr(de->d_name, ".json"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (!(text = tb_test_read_file(file, &len)))
			continue;
		s = tb_jsonstream_new(1 << 20);
		assert_non_null(s);
		assert_int_equal(tb_jsonstream_feed(s, text, len, &err), 0);
		tb_jsonstream_finish(s);
		while (tb_jsonstream_next(s, &it)) {
			if (it.kind != TB_JSONSTREAM_OBJECT)
				continue;
			(*objects)++;
			fast += (size_t)check(it.data, it.len);
		}
		tb_jsonstream_free(s);
		free(text);
	}
	closedir(d);
	return fast;
}

static void every_tetragon_sample_parses_like_jansson(void **state)
{
	size_t objects = 0, fast;

	(void)state;
	fast = check_dir("../shared/testdata/tetragon", &objects);
	fast += check_dir("tests/data/tetragon", &objects);
	print_message("%zu of %zu sample objects took the fast path\n", fast, objects);
	assert_true(objects > 20);
	/* Most real samples are inside the subset (the rest hold UTF-8 or \u). */
	if (fast * 2 < objects)
		fail_msg("only %zu of %zu sample objects took the fast path", fast, objects);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_subset_is_parsed_like_jansson),
	    cmocka_unit_test(outside_the_subset_asks_for_jansson),
	    cmocka_unit_test(deep_and_wide_objects_go_to_jansson),
	    cmocka_unit_test(every_tetragon_sample_parses_like_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
