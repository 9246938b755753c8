/*
 * test_dlq_select.c — tb-dlq's time parsing and dead-letter filters
 * (tools/dlq/select.h). The reader itself needs a broker: see
 * tests/integration/051-dlq-every-service.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../tools/dlq/select.h"

static void times_parse_as_utc_or_epoch_seconds(void **state)
{
	tb_err_t err = {{0}};
	int64_t ns = 0;

	(void)state;
	assert_int_equal(dlq_parse_time("2026-11-24T21:00:00Z", &ns, &err), 0);
	assert_true(ns == INT64_C(1795554000) * 1000000000);
	assert_int_equal(dlq_parse_time("2026-11-24T21:00:00.25Z", &ns, &err), 0);
	assert_true(ns == INT64_C(1795554000) * 1000000000 + 250000000);
	assert_int_equal(dlq_parse_time("1795554000", &ns, &err), 0);
	assert_true(ns == INT64_C(1795554000) * 1000000000);
}

static void bad_times_are_refused_with_the_reason(void **state)
{
	tb_err_t err = {{0}};
	int64_t ns = 0;

	(void)state;
	assert_int_equal(dlq_parse_time("yesterday", &ns, &err), -1);
	assert_non_null(strstr(err.msg, "expected YYYY-MM-DDTHH:MM:SS"));
	assert_int_equal(dlq_parse_time("2026-11-24T21:00:00+01:00", &ns, &err), -1);
	assert_non_null(strstr(err.msg, "only UTC times ending in Z"));
	assert_int_equal(dlq_parse_time("", &ns, &err), -1);
}

static tb_dead_letter_t letter(char *service, char *topic, char *reason, int64_t ts_ns)
{
	tb_dead_letter_t d = {.service = service, .source_topic = topic, .reason = reason, .ts_ns = ts_ns};

	return d;
}

static void filters_are_a_conjunction(void **state)
{
	dlq_filter_t f = {.since_ns = INT64_MIN, .until_ns = INT64_MAX};
	tb_dead_letter_t d = letter("adapter", "tb.tetragon.raw.v1", "json: too_large: object larger", 1000);

	(void)state;
	assert_true(dlq_filter_match(&f, &d)); /* no filter: everything */
	f.service = "adapter";
	f.reason = "too_large";
	assert_true(dlq_filter_match(&f, &d));
	f.source_topic = "tb.probe.raw.v1";
	assert_false(dlq_filter_match(&f, &d));
	f.source_topic = "tb.tetragon.raw.v1";
	f.reason = "TOO_LARGE"; /* a substring, case-sensitive */
	assert_false(dlq_filter_match(&f, &d));
	f.reason = NULL;
	f.service = "aggregator";
	assert_false(dlq_filter_match(&f, &d));
}

static void since_is_inclusive_and_until_exclusive(void **state)
{
	dlq_filter_t f = {.since_ns = 1000, .until_ns = 2000};
	tb_dead_letter_t at_since = letter("a", "t", "r", 1000), at_until = letter("a", "t", "r", 2000),
			 before = letter("a", "t", "r", 999);

	(void)state;
	assert_true(dlq_filter_match(&f, &at_since));
	assert_false(dlq_filter_match(&f, &at_until));
	assert_false(dlq_filter_match(&f, &before));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(times_parse_as_utc_or_epoch_seconds),
	    cmocka_unit_test(bad_times_are_refused_with_the_reason),
	    cmocka_unit_test(filters_are_a_conjunction),
	    cmocka_unit_test(since_is_inclusive_and_until_exclusive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
