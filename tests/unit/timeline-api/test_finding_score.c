/*
 * Unit tests for the finding-scoped routes' pure parts
 * (services/timeline-api/findings.c): path parsing, methods and scopes per
 * sub-route, evidence tiers and the score formula (ordering of tiers, each
 * term's bound), the miss probability (1-p)^n, bucket alignment, and the
 * answers without a database (null mode: 200 with empty data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "../../../services/timeline-api/auth.h"
#include "../../../services/timeline-api/findings.h"
#include "../../../services/timeline-api/routes.h"

#define NOW_US INT64_C(1773480600000000) /* 2026-03-14T09:30:00Z */
#define HOUR_US INT64_C(3600000000)

static void check_dbl(const char *what, double exp, double got, double tol)
{
	if (fabs(exp - got) > tol)
		fail_msg("%s: expected %.10g, got %.10g", what, exp, got);
}

static void paths_name_the_finding_and_its_sub_route(void **state)
{
	char id[TB_FND_ID_MAX + 1];
	tb_fnd_sub_t sub = TB_FND_COUNT;

	(void)state;
	assert_int_equal(tb_fnd_route("/api/v1/findings/F-1/runtime/traces", id, sizeof(id), &sub), 0);
	assert_string_equal(id, "F-1");
	assert_int_equal(sub, TB_FND_TRACES);
	assert_int_equal(tb_fnd_route("/api/v1/findings/CVE-2024:x/runtime/timeline", id, sizeof(id), &sub),
			 0);
	assert_string_equal(id, "CVE-2024:x");
	assert_int_equal(sub, TB_FND_TIMELINE);
	assert_int_equal(tb_fnd_route("/api/v1/findings/F/runtime/score", id, sizeof(id), &sub), 0);
	assert_int_equal(sub, TB_FND_SCORE);
}

static void other_paths_are_not_finding_routes(void **state)
{
	static const char *const bad[] = {
	    "/api/v1/findings",
	    "/api/v1/findings/",
	    "/api/v1/findings//runtime/score",
	    "/api/v1/findings/F/runtime/",
	    "/api/v1/findings/F/runtime/scores",
	    "/api/v1/findings/F/score",
	    "/api/v1/findings/F/runtime/score/",
	    "/api/v1/findingsX/F/runtime/score",
	    "/api/v1/runtime/timeline",
	};
	char id[TB_FND_ID_MAX + 1];
	tb_fnd_sub_t sub;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tb_fnd_route(bad[i], id, sizeof(id), &sub) == 0)
			fail_msg("%s: expected no finding route, got sub %d id \"%s\"", bad[i], (int)sub, id);
}

static void an_id_longer_than_the_buffer_is_refused(void **state)
{
	char id[8];
	tb_fnd_sub_t sub;

	(void)state;
	assert_int_equal(tb_fnd_route("/api/v1/findings/1234567/runtime/score", id, sizeof(id), &sub), 0);
	assert_int_equal(tb_fnd_route("/api/v1/findings/12345678/runtime/score", id, sizeof(id), &sub), -1);
}

static void only_trace_ingest_needs_runtime_write(void **state)
{
	(void)state;
	assert_int_equal(tb_fnd_scope(TB_FND_TRACES, 1), TB_SCOPE_RUNTIME_WRITE);
	assert_int_equal(tb_fnd_scope(TB_FND_TRACES, 0), TB_SCOPE_RUNTIME_READ);
	assert_int_equal(tb_fnd_scope(TB_FND_TIMELINE, 0), TB_SCOPE_RUNTIME_READ);
	assert_int_equal(tb_fnd_scope(TB_FND_SCORE, 0), TB_SCOPE_RUNTIME_READ);
	assert_int_equal(tb_fnd_methods(TB_FND_TRACES), TB_M_GET | TB_M_POST);
	assert_int_equal(tb_fnd_methods(TB_FND_SCORE), TB_M_GET);
	assert_int_equal(tb_fnd_methods(TB_FND_TIMELINE), TB_M_GET);
}

static void tiers_rank_uprobe_over_stack_over_load(void **state)
{
	tb_fnd_evidence_t none = {0}, load = {.loads = 1}, stack = {.stack_hits = 1, .loads = 1},
			  up = {.uprobe_hits = 1, .stack_hits = 5};

	(void)state;
	assert_int_equal(tb_fnd_tier(&none), TB_TIER_NONE);
	assert_int_equal(tb_fnd_tier(&load), TB_TIER_LOAD);
	assert_int_equal(tb_fnd_tier(&stack), TB_TIER_SAMPLED);
	assert_int_equal(tb_fnd_tier(&up), TB_TIER_UPROBE);
	assert_string_equal(tb_fnd_tier_name(TB_TIER_SAMPLED), "sampled");
}

/* The best possible score of a tier stays below the worst of the next. */
static void a_higher_tier_always_scores_higher(void **state)
{
	tb_fnd_evidence_t best_load = {.loads = 1000000, .last_seen_us = NOW_US};
	tb_fnd_evidence_t best_stack = {.stack_hits = 1000000, .call_paths = 1000, .last_seen_us = NOW_US};
	tb_fnd_evidence_t worst_stack = {.stack_hits = 1, .call_paths = 1, .last_seen_us = 1};
	tb_fnd_evidence_t worst_up = {.uprobe_hits = 1, .call_paths = 1, .last_seen_us = 1};
	tb_fnd_evidence_t none = {0};
	double bl = tb_fnd_score(&best_load, NOW_US), bs = tb_fnd_score(&best_stack, NOW_US);
	double ws = tb_fnd_score(&worst_stack, NOW_US), wu = tb_fnd_score(&worst_up, NOW_US);

	(void)state;
	check_dbl("never observed", 0, tb_fnd_score(&none, NOW_US), 0);
	check_dbl("best load: base 10 + recency 10", 20, bl, 1e-9);
	check_dbl("best stack: base 35 + 10 + 10 + 10", 65, bs, 1e-9);
	if (!(bl < ws))
		fail_msg("expected best load %.2f < worst stack %.2f", bl, ws);
	if (!(bs < wu))
		fail_msg("expected best stack %.2f < worst uprobe %.2f", bs, wu);
	if (tb_fnd_score(&worst_up, NOW_US) > 100)
		fail_msg("expected a score of at most 100, got %.2f", wu);
}

static void score_terms_follow_the_documented_formula(void **state)
{
	/* uprobe: 70 + 10*log10(1+99)/3 + 10*2/5 + 10*2^-(1 week / 1 week) = 70 + 6.67 + 4 + 5 */
	tb_fnd_evidence_t e = {.uprobe_hits = 99, .call_paths = 2, .last_seen_us = NOW_US - 7 * 24 * HOUR_US};

	(void)state;
	check_dbl("uprobe, 99 hits, 2 paths, a week old", 85.67, tb_fnd_score(&e, NOW_US), 1e-9);
	e.last_seen_us = NOW_US + HOUR_US; /* clock skew: a future observation counts as now */
	check_dbl("future last seen", 90.67, tb_fnd_score(&e, NOW_US), 1e-9);
}

static void miss_probability_is_one_minus_p_to_the_n(void **state)
{
	(void)state;
	check_dbl("p=0.01 n=400", pow(0.99, 400), tb_fnd_miss_probability(0.01, 400), 1e-15);
	check_dbl("p=0.01 n=400 (value)", 0.0179506, tb_fnd_miss_probability(0.01, 400), 1e-7);
	check_dbl("no samples: certainly missed", 1, tb_fnd_miss_probability(0.5, 0), 0);
	check_dbl("p=0.5 n=10", 1.0 / 1024, tb_fnd_miss_probability(0.5, 10), 1e-15);
	check_dbl("huge n underflows to 0, not NaN", 0, tb_fnd_miss_probability(0.5, INT64_C(1) << 40), 0);
}

static void buckets_align_outward_to_the_bucket_size(void **state)
{
	int64_t a0, a1, n;
	tb_err_t err;

	(void)state;
	/* 10:00:10 .. 10:05:30 with 1 min buckets -> 10:00 .. 10:06, 6 buckets */
	assert_int_equal(tb_fnd_align(NOW_US + 10000000, NOW_US + 330000000, 60, &a0, &a1, &n, &err), 0);
	assert_int_equal(a0, NOW_US);
	assert_int_equal(a1, NOW_US + 360000000);
	assert_int_equal(n, 6);
	/* already aligned (09:30 on 30 min): unchanged */
	assert_int_equal(tb_fnd_align(NOW_US, NOW_US + HOUR_US, 1800, &a0, &a1, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a0, NOW_US);
	/* 09:30 on hours: 09:00 .. 11:00 */
	assert_int_equal(tb_fnd_align(NOW_US, NOW_US + HOUR_US, 3600, &a0, &a1, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a0, NOW_US - HOUR_US / 2);
}

static void too_many_buckets_or_an_empty_window_is_an_error(void **state)
{
	int64_t a0, a1, n;
	tb_err_t err;

	(void)state;
	tb_err_clear(&err);
	assert_int_equal(tb_fnd_align(NOW_US, NOW_US + 24 * HOUR_US, 1, &a0, &a1, &n, &err), -1);
	if (!strstr(err.msg, "86400 buckets"))
		fail_msg("expected the message to name 86400 buckets, got \"%s\"", err.msg);
	assert_int_equal(tb_fnd_align(NOW_US, NOW_US, 60, &a0, &a1, &n, &err), -1);
	assert_int_equal(tb_fnd_align(NOW_US, NOW_US + 1, 0, &a0, &a1, &n, &err), -1);
}

static void without_a_database_the_score_is_that_of_nothing_observed(void **state)
{
	tb_jw_t w;
	tb_api_qs_t qs;
	tb_err_t err;
	tb_fnd_ctx_t c = {.w = &w, .tenant = "t1", .finding_id = "F-1", .now_us = NOW_US};

	(void)state;
	tb_jw_init(&w);
	assert_int_equal(tb_api_qs_parse("cpuShare=0.5", &qs, &err), 0);
	assert_int_equal(tb_fnd_get_score(&c, &qs, &err), 200);
	assert_non_null(w.buf);
	if (!strstr(w.buf, "\"score\":0.00,\"tier\":\"none\"") || !strstr(w.buf, "\"miss_probability\":1,"))
		fail_msg("expected score 0.00, tier none, miss probability 1, got %s", w.buf);
	tb_api_qs_free(&qs);
	tb_jw_free(&w);
}

static void bad_parameters_are_400_naming_them(void **state)
{
	static const struct {
		tb_fnd_sub_t sub;
		const char *q, *word;
	} cases[] = {
	    {TB_FND_SCORE, "cpuShare=1.5", "cpuShare"}, {TB_FND_SCORE, "cpuShare=x", "cpuShare"},
	    {TB_FND_TRACES, "sort=size", "sort"},	{TB_FND_TRACES, "limit=0", "limit"},
	    {TB_FND_TRACES, "sortt=hits", "sortt"},	{TB_FND_TIMELINE, "bucket=1s&from=now-1d", "buckets"},
	};
	tb_jw_t w;

	(void)state;
	tb_jw_init(&w);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tb_fnd_ctx_t c = {.w = &w, .tenant = "t1", .finding_id = "F-1", .now_us = NOW_US};
		tb_api_qs_t qs;
		tb_err_t err;
		int st;

		tb_err_clear(&err);
		tb_jw_reset(&w);
		assert_int_equal(tb_api_qs_parse(cases[i].q, &qs, &err), 0);
		st = cases[i].sub == TB_FND_SCORE    ? tb_fnd_get_score(&c, &qs, &err)
		     : cases[i].sub == TB_FND_TRACES ? tb_fnd_get_traces(&c, &qs, &err)
						     : tb_fnd_get_timeline(&c, &qs, &err);
		if (st != 400 || !strstr(err.msg, cases[i].word))
			fail_msg("%s: expected 400 naming %s, got %d \"%s\"", cases[i].q, cases[i].word, st,
				 err.msg);
		tb_api_qs_free(&qs);
	}
	tb_jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(paths_name_the_finding_and_its_sub_route),
	    cmocka_unit_test(other_paths_are_not_finding_routes),
	    cmocka_unit_test(an_id_longer_than_the_buffer_is_refused),
	    cmocka_unit_test(only_trace_ingest_needs_runtime_write),
	    cmocka_unit_test(tiers_rank_uprobe_over_stack_over_load),
	    cmocka_unit_test(a_higher_tier_always_scores_higher),
	    cmocka_unit_test(score_terms_follow_the_documented_formula),
	    cmocka_unit_test(miss_probability_is_one_minus_p_to_the_n),
	    cmocka_unit_test(buckets_align_outward_to_the_bucket_size),
	    cmocka_unit_test(too_many_buckets_or_an_empty_window_is_an_error),
	    cmocka_unit_test(without_a_database_the_score_is_that_of_nothing_observed),
	    cmocka_unit_test(bad_parameters_are_400_naming_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
