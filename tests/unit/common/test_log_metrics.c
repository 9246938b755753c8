/*
 * Unit tests for tb_log's JSON escaping and the metrics registry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tb/err.h"
#include "tb/log.h"
#include "tb/metrics.h"

static void json_escape_quotes_controls_and_bad_utf8(void **state)
{
	char buf[128];
	size_t len = 0;

	(void)state;
	buf[0] = '\0';
	assert_int_equal(tb_json_escape(buf, sizeof(buf), &len, "a\"b\\c\n\x01\xc3\xa9\xff"), 0);
	assert_string_equal(buf, "a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff");
}

static void json_escape_reports_truncation(void **state)
{
	char buf[4];
	size_t len = 0;

	(void)state;
	buf[0] = '\0';
	assert_int_equal(tb_json_escape(buf, sizeof(buf), &len, "abcdef"), -1);
	assert_true(len < sizeof(buf));
}

static void metrics_render_groups_families(void **state)
{
	tb_metrics_t *m = tb_metrics_new("tb_test");
	tb_metric_t *a = tb_metrics_counter(m, "removed_total", "fields removed", "rule=\"argv\"");
	tb_metric_t *g = tb_metrics_gauge(m, "lag", "consumer lag", NULL);
	tb_metric_t *b = tb_metrics_counter(m, "removed_total", "fields removed", "rule=\"env\"");
	char *out;

	(void)state;
	tb_metric_add(a, 3);
	tb_metric_inc(b);
	tb_metric_set(g, -2);
	assert_ptr_equal(tb_metrics_counter(m, "removed_total", "x", "rule=\"argv\""), a);
	out = tb_metrics_render(m);
	assert_string_equal(out, "# HELP tb_test_removed_total fields removed\n"
				 "# TYPE tb_test_removed_total counter\n"
				 "tb_test_removed_total{rule=\"argv\"} 3\n"
				 "tb_test_removed_total{rule=\"env\"} 1\n"
				 "# HELP tb_test_lag consumer lag\n"
				 "# TYPE tb_test_lag gauge\n"
				 "tb_test_lag -2\n");
	free(out);
	tb_metrics_free(m);
}

static void err_wrap_prefixes_context(void **state)
{
	tb_err_t e;

	(void)state;
	tb_err_clear(&e);
	assert_int_equal(tb_err(&e, "field '%s' has no type", "ts_ns"), -1);
	tb_err_wrap(&e, "parse %s", "RuntimeEvent.avsc");
	assert_string_equal(e.msg, "parse RuntimeEvent.avsc: field 'ts_ns' has no type");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_escape_quotes_controls_and_bad_utf8),
		cmocka_unit_test(json_escape_reports_truncation),
		cmocka_unit_test(metrics_render_groups_families),
		cmocka_unit_test(err_wrap_prefixes_context),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
