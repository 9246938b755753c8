/*
 * Unit tests for the aggregator's array literals (services/aggregator/
 * sqlarr.c) and its failure classification (sink.c): quoting and escaping
 * of every element kind, NULLs, nesting through text, buffer reuse, and
 * which SQLSTATEs mean retry, isolate the record, or stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/aggregator/sink.h"
#include "../../../services/aggregator/sqlarr.h"

static void an_empty_array_is_braces(void **state)
{
	tb_agg_arr_t a = {0};

	(void)state;
	tb_agg_arr_reset(&a);
	assert_string_equal(tb_agg_arr_finish(&a), "{}");
	tb_agg_arr_free(&a);
}

static void text_is_quoted_with_quotes_and_backslashes_escaped(void **state)
{
	tb_agg_arr_t a = {0};

	(void)state;
	tb_agg_arr_reset(&a);
	tb_agg_arr_text(&a, "plain");
	tb_agg_arr_text(&a, "say \"hi\"");
	tb_agg_arr_text(&a, "C:\\path");
	tb_agg_arr_text(&a, "a,b {c}");
	tb_agg_arr_text(&a, "");
	tb_agg_arr_text(&a, "NULL");
	tb_agg_arr_text(&a, NULL);
	assert_string_equal(tb_agg_arr_finish(&a),
			    "{\"plain\",\"say \\\"hi\\\"\",\"C:\\\\path\",\"a,b {c}\",\"\",\"NULL\",NULL}");
	tb_agg_arr_free(&a);
}

static void numbers_nulls_bytea_and_timestamps_have_their_text_forms(void **state)
{
	tb_agg_arr_t a = {0};
	const uint8_t id[3] = {0x00, 0xab, 0xff};

	(void)state;
	tb_agg_arr_reset(&a);
	tb_agg_arr_int(&a, 0);
	tb_agg_arr_int(&a, INT64_MIN);
	tb_agg_arr_int(&a, INT64_MAX);
	tb_agg_arr_null(&a);
	assert_string_equal(tb_agg_arr_finish(&a), "{0,-9223372036854775808,9223372036854775807,NULL}");
	tb_agg_arr_reset(&a);
	tb_agg_arr_bytea(&a, id, sizeof(id));
	tb_agg_arr_ts_us(&a, 1767225600123456LL);
	tb_agg_arr_ts_us(&a, 0);
	assert_string_equal(
	    tb_agg_arr_finish(&a),
	    "{\"\\\\x00abff\",\"2026-01-01 00:00:00.123456+00\",\"1970-01-01 00:00:00.000000+00\"}");
	tb_agg_arr_free(&a);
}

static void an_inner_array_travels_as_quoted_text(void **state)
{
	tb_agg_arr_t inner = {0}, outer = {0};

	(void)state;
	tb_agg_arr_reset(&outer);
	tb_agg_arr_reset(&inner);
	tb_agg_arr_int(&inner, 1);
	tb_agg_arr_int(&inner, -2);
	tb_agg_arr_text(&outer, tb_agg_arr_finish(&inner));
	tb_agg_arr_reset(&inner);
	tb_agg_arr_text(&outer, tb_agg_arr_finish(&inner));
	assert_string_equal(tb_agg_arr_finish(&outer), "{\"{1,-2}\",\"{}\"}");
	tb_agg_arr_free(&inner);
	tb_agg_arr_free(&outer);
}

static void a_reset_reuses_the_buffer_and_large_arrays_grow(void **state)
{
	tb_agg_arr_t a = {0};
	char big[10001];
	const char *out;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tb_agg_arr_reset(&a);
	for (int i = 0; i < 50; i++)
		tb_agg_arr_text(&a, big);
	out = tb_agg_arr_finish(&a);
	assert_int_equal(strlen(out), 2 + 50 * (10000 + 2) + 49);
	assert_int_equal(a.n, 50);
	tb_agg_arr_reset(&a);
	tb_agg_arr_int(&a, 7);
	assert_string_equal(tb_agg_arr_finish(&a), "{7}");
	tb_agg_arr_free(&a);
}

static void lost_connections_and_conflicts_are_retried(void **state)
{
	(void)state;
	assert_int_equal(tb_agg_classify_sqlstate("", 0), TB_AGG_TRANSIENT); /* connection gone */
	assert_int_equal(tb_agg_classify_sqlstate("08006", 1), TB_AGG_TRANSIENT);
	assert_int_equal(tb_agg_classify_sqlstate("40001", 1), TB_AGG_TRANSIENT);
	assert_int_equal(tb_agg_classify_sqlstate("40P01", 1), TB_AGG_TRANSIENT);
	assert_int_equal(tb_agg_classify_sqlstate("57P01", 1), TB_AGG_TRANSIENT);
	assert_int_equal(tb_agg_classify_sqlstate("53100", 1), TB_AGG_TRANSIENT); /* disk full */
	assert_int_equal(tb_agg_classify_sqlstate("55P03", 1), TB_AGG_TRANSIENT); /* lock not available */
}

static void record_content_errors_isolate_the_record(void **state)
{
	(void)state;
	assert_int_equal(tb_agg_classify_sqlstate("22021", 1), TB_AGG_DATA); /* invalid byte sequence */
	assert_int_equal(tb_agg_classify_sqlstate("23514", 1), TB_AGG_DATA); /* check violation */
	assert_int_equal(tb_agg_classify_sqlstate("54000", 1), TB_AGG_DATA); /* index row too large */
}

static void schema_and_permission_errors_stop_the_service(void **state)
{
	(void)state;
	assert_int_equal(tb_agg_classify_sqlstate("42P01", 1), TB_AGG_FATAL); /* undefined table */
	assert_int_equal(tb_agg_classify_sqlstate("42501", 1), TB_AGG_FATAL); /* insufficient privilege */
	assert_int_equal(tb_agg_classify_sqlstate("XX000", 1), TB_AGG_FATAL);
	assert_int_equal(tb_agg_classify_sqlstate("", 1), TB_AGG_FATAL); /* not a database error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_empty_array_is_braces),
	    cmocka_unit_test(text_is_quoted_with_quotes_and_backslashes_escaped),
	    cmocka_unit_test(numbers_nulls_bytea_and_timestamps_have_their_text_forms),
	    cmocka_unit_test(an_inner_array_travels_as_quoted_text),
	    cmocka_unit_test(a_reset_reuses_the_buffer_and_large_arrays_grow),
	    cmocka_unit_test(lost_connections_and_conflicts_are_retried),
	    cmocka_unit_test(record_content_errors_isolate_the_record),
	    cmocka_unit_test(schema_and_permission_errors_stop_the_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
