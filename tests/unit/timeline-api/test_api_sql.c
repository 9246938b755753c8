/*
 * Unit tests for the timeline-api's SQL builders (services/timeline-api/
 * queries.c): values only ever travel as parameters (a hostile filter value
 * never reaches the statement text), $1 is always the caller's tenant and
 * every table reference is filtered by it, keyset pagination and limit+1,
 * and which hot_symbols windows answer a time range (minute windows at the
 * ragged ends, hour windows in between).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/timeline-api/queries.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define EVIL "x'); DROP TABLE observations; --"
#define T0 INT64_C(1773480600000000) /* 2026-03-14T09:30:00Z */
#define MIN INT64_C(60000000)
#define HOUR INT64_C(3600000000)

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void check_param(const tb_api_sql_t *q, int k, const char *exp)
{
	if (k > q->n)
		fail_msg("parameter $%d: expected \"%s\", got only %d parameters", k, exp, q->n);
	if (strcmp(q->params[k - 1], exp) != 0)
		fail_msg("parameter $%d: expected \"%s\", got \"%s\"", k, exp, q->params[k - 1]);
}

/* Every $k in the text is within 1..n and every parameter is used. */
static void check_placeholders(const tb_api_sql_t *q)
{
	char used[TB_API_SQL_PARAMS + 1] = {0};

	assert_int_equal(q->overflow, 0);
	for (const char *p = strchr(q->text, '$'); p; p = strchr(p + 1, '$')) {
		int k = 0;

		for (const char *d = p + 1; *d >= '0' && *d <= '9'; d++)
			k = k * 10 + (*d - '0');
		if (k < 1 || k > q->n)
			fail_msg("placeholder $%d outside 1..%d in: %s", k, q->n, q->text);
		used[k] = 1;
	}
	for (int k = 1; k <= q->n; k++)
		if (!used[k])
			fail_msg("parameter $%d (\"%s\") is never used in: %s", k, q->params[k - 1], q->text);
}

static void timeline_values_travel_as_parameters(void **state)
{
	tb_api_timeline_req_t r = {.limit = 50, .has_cursor = 1};
	tb_api_sql_t q;

	(void)state;
	r.f = (tb_api_filter_t){.artifact = DIGEST_A,
				.purl = EVIL,
				.symbol = EVIL,
				.has_from = 1,
				.has_to = 1,
				.from_us = T0,
				.to_us = T0 + HOUR};
	r.cursor.ts_us = T0 + 1;
	memset(r.cursor.event_id, 0xab, sizeof(r.cursor.event_id));
	tb_api_sql_timeline(&r, "acme", &q);
	check_placeholders(&q);
	assert_null(strstr(q.text, "DROP"));
	assert_null(strstr(q.text, "acme"));
	check_param(&q, 1, "acme");
	check_param(&q, 2, DIGEST_A);
	check_param(&q, 3, EVIL);
	check_param(&q, 4, EVIL);
	check_param(&q, 5, "2026-03-14 09:30:00.000000+00");
	check_param(&q, 6, "2026-03-14 10:30:00.000000+00");
	check_param(&q, 7, "2026-03-14 09:30:00.000001+00");
	check_param(&q, 8, "\\xabababababababababababababababab");
	check_param(&q, 9, "51"); /* one more row than shown: is there a next page? */
	assert_non_null(
	    strstr(q.text, "o.ts >= $7::timestamptz AND (o.ts, o.event_id) > ($7::timestamptz, $8::bytea)"));
	assert_non_null(strstr(q.text, "ORDER BY o.ts, o.event_id LIMIT $9"));
}

/* Each table is read with its tenant column equal to $1. */
static void every_table_is_filtered_by_tenant(void **state)
{
	tb_api_timeline_req_t t = {.limit = 10, .bucket_s = 60, .f = {.symbol = "main"}};
	tb_api_hot_req_t h = {
	    .limit = 10,
	    .f = {.has_from = 1, .has_to = 1, .from_us = T0 + 5 * MIN, .to_us = T0 + 3 * HOUR + 7 * MIN}};
	tb_api_folded_req_t f = {.limit = 10, .f = {.symbol = "main"}};
	tb_api_sql_t q;

	(void)state;
	tb_api_sql_timeline(&t, "acme", &q);
	check_placeholders(&q);
	assert_int_equal(count(q.text, "o.tenant = $1"), 1);
	assert_int_equal(count(q.text, "s.tenant = o.tenant"), 1);
	assert_int_equal(count(q.text, "sy.tenant = $1"), 1);

	tb_api_sql_buckets(&t, "acme", &q);
	check_placeholders(&q);
	assert_int_equal(count(q.text, "FROM observations o WHERE o.tenant = $1"), 1);

	tb_api_sql_hot(&h, "acme", &q);
	check_placeholders(&q);
	assert_int_equal(count(q.text, "FROM hot_symbols h"), count(q.text, "h.tenant = $1"));
	assert_int_equal(count(q.text, "s.tenant = $1"), 1);

	tb_api_sql_folded(&f, "acme", &q);
	check_placeholders(&q);
	assert_int_equal(count(q.text, "o.tenant = $1"), 1);
	assert_int_equal(count(q.text, "st.tenant = $1"), 1);
	assert_int_equal(count(q.text, "fr.tenant = $1"), 1);
	assert_int_equal(count(q.text, "sy.tenant = $1"), 2);
}

static void buckets_page_from_the_cursor_bucket(void **state)
{
	tb_api_timeline_req_t t = {.limit = 10, .bucket_s = 300, .has_cursor = 1, .cursor = {.ts_us = T0}};
	tb_api_sql_t q;

	(void)state;
	tb_api_sql_buckets(&t, "acme", &q);
	check_placeholders(&q);
	check_param(&q, 2, "300");
	check_param(&q, 3, "2026-03-14 09:30:00.000000+00");
	check_param(&q, 4, "11");
	assert_non_null(strstr(q.text, "o.ts >= $3::timestamptz"));
}

static void hot_sort_orders_break_ties_by_artifact_and_id(void **state)
{
	tb_api_hot_req_t h = {.limit = 5, .sort = TB_API_SORT_HITS};
	tb_api_sql_t q;

	(void)state;
	tb_api_sql_hot(&h, "acme", &q);
	/* the top rows are chosen before their names are joined, in the same order */
	assert_non_null(strstr(q.text, "FROM agg ORDER BY self_count DESC, total_count DESC, last_seen DESC, "
				       "artifact_digest, symbol_id LIMIT $2) a LEFT JOIN symbols s"));
	assert_non_null(strstr(q.text, "ORDER BY a.self_count DESC, a.total_count DESC, a.last_seen DESC, "
				       "a.artifact_digest, a.symbol_id"));
	check_param(&q, 2, "5");
	h.sort = TB_API_SORT_RECENCY;
	tb_api_sql_hot(&h, "acme", &q);
	assert_non_null(strstr(q.text, "FROM agg ORDER BY last_seen DESC, self_count DESC, total_count DESC, "
				       "artifact_digest, symbol_id LIMIT $2) a"));
	assert_non_null(strstr(q.text, "ORDER BY a.last_seen DESC, a.self_count DESC, a.total_count DESC, "
				       "a.artifact_digest, a.symbol_id"));
}

static void check_range(const char *what, const tb_api_range_t *r, int has_lo, int64_t lo, int has_hi,
			int64_t hi)
{
	if (r->has_lo != has_lo || r->has_hi != has_hi || (has_lo && r->lo_us != lo) ||
	    (has_hi && r->hi_us != hi))
		fail_msg("%s: expected [%s%lld, %s%lld), got [%s%lld, %s%lld)", what, has_lo ? "" : "-inf ",
			 (long long)lo, has_hi ? "" : "+inf ", (long long)hi, r->has_lo ? "" : "-inf ",
			 (long long)r->lo_us, r->has_hi ? "" : "+inf ", (long long)r->hi_us);
}

static void hot_plan_uses_hours_inside_and_minutes_at_the_ends(void **state)
{
	tb_api_hot_plan_t p;
	tb_api_filter_t f = {.has_from = 1, .has_to = 1};

	(void)state;
	/* 09:30:00 .. 12:10:30: minutes [09:30, 10:00), hours [10:00, 12:00), minutes [12:00, 12:11) */
	f.from_us = T0;
	f.to_us = T0 + 2 * HOUR + 40 * MIN + 30000000;
	tb_api_hot_plan(&f, &p);
	assert_int_equal(p.use_hours, 1);
	check_range("hours", &p.hours, 1, T0 + 30 * MIN, 1, T0 + 150 * MIN);
	assert_int_equal(p.n_minutes, 2);
	check_range("leading minutes", &p.minutes[0], 1, T0, 1, T0 + 30 * MIN);
	check_range("trailing minutes", &p.minutes[1], 1, T0 + 150 * MIN, 1, T0 + 161 * MIN);

	/* within one hour: minutes only; a from inside a minute starts at the next one */
	f.from_us = T0 + 1;
	f.to_us = T0 + 10 * MIN;
	tb_api_hot_plan(&f, &p);
	assert_int_equal(p.use_hours, 0);
	assert_int_equal(p.n_minutes, 1);
	check_range("minutes", &p.minutes[0], 1, T0 + MIN, 1, T0 + 10 * MIN);

	/* aligned whole hours: hours only */
	f.from_us = T0 - 30 * MIN;
	f.to_us = T0 + 90 * MIN;
	tb_api_hot_plan(&f, &p);
	assert_int_equal(p.use_hours, 1);
	assert_int_equal(p.n_minutes, 0);
	check_range("hours", &p.hours, 1, T0 - 30 * MIN, 1, T0 + 90 * MIN);

	/* unbounded sides: hours from/to infinity */
	tb_api_hot_plan(&(tb_api_filter_t){0}, &p);
	assert_int_equal(p.use_hours, 1);
	assert_int_equal(p.n_minutes, 0);
	check_range("all", &p.hours, 0, 0, 0, 0);
	tb_api_hot_plan(&(tb_api_filter_t){.has_from = 1, .from_us = T0}, &p);
	check_range("from only", &p.hours, 1, T0 + 30 * MIN, 0, 0);
	assert_int_equal(p.n_minutes, 1);
	check_range("from only, minutes", &p.minutes[0], 1, T0, 1, T0 + 30 * MIN);

	/* less than a minute that holds no window start: nothing */
	f.from_us = T0 + 1;
	f.to_us = T0 + 2;
	tb_api_hot_plan(&f, &p);
	assert_int_equal(p.use_hours, 0);
	assert_int_equal(p.n_minutes, 0);
}

static void hot_empty_plan_matches_nothing(void **state)
{
	tb_api_hot_req_t h = {.limit = 5,
			      .f = {.has_from = 1, .has_to = 1, .from_us = T0 + 1, .to_us = T0 + 2}};
	tb_api_sql_t q;

	(void)state;
	tb_api_sql_hot(&h, "acme", &q);
	check_placeholders(&q);
	assert_non_null(strstr(q.text, "AND false"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(timeline_values_travel_as_parameters),
	    cmocka_unit_test(every_table_is_filtered_by_tenant),
	    cmocka_unit_test(buckets_page_from_the_cursor_bucket),
	    cmocka_unit_test(hot_sort_orders_break_ties_by_artifact_and_id),
	    cmocka_unit_test(hot_plan_uses_hours_inside_and_minutes_at_the_ends),
	    cmocka_unit_test(hot_empty_plan_matches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
