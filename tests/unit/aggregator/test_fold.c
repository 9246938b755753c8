/*
 * Unit tests for the aggregator's pure parts (services/aggregator/fold.c):
 * window alignment, the symbol_id recipe (re-derived from fold.h's steps and
 * pinned), leaf selection, record checks, and the batch pre-aggregation:
 * self/total counting rules, merging of equal keys, independence from event
 * order and from batch boundaries, and observation de-duplication.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/aggregator/fold.h"
#include "tb/hash.h"

#define ART "sha256:aaaa000000000000000000000000000000000000000000000000000000000000"
#define T0 1767225600000000000LL /* 2026-01-01T00:00:00Z in ns */
#define SEC 1000000000LL
#define US 1000000LL

/* The symbol_id of ("0123abcd", "libx.so", "parse") under symbol.v1. */
#define PINNED_SYMBOL 9010555418384602105LL

/* ---- helpers ---------------------------------------------------------------- */

/* An event with frames given as "name@module" specs, innermost first; a
 * name starting with 'k:' is a kernel frame. frame_id = index + 1 + 100 * offset_salt. */
static tb_event_t *event(const char *tenant, int64_t ts_ns, int64_t count, const char *art,
			 const char *const *frames, size_t n)
{
	tb_event_t *ev = calloc(1, sizeof(*ev));

	ev->tenant = strdup(tenant);
	ev->kind = strdup("sample");
	ev->source = strdup("probe");
	ev->ts_ns = ts_ns;
	ev->count = count;
	ev->artifact_digest = art ? strdup(art) : NULL;
	ev->frames = calloc(n ? n : 1, sizeof(*ev->frames));
	ev->n_frames = n;
	for (size_t i = 0; i < n; i++) {
		tb_canon_frame_t *f = &ev->frames[i];
		const char *spec = frames[i], *at = strchr(spec, '@');
		int kernel = strncmp(spec, "k:", 2) == 0;
		const char *name = kernel ? spec + 2 : spec;

		f->kernel = kernel;
		f->symbol = strndup(name, (size_t)(at - name));
		f->module = strdup(at + 1);
		f->build_id = strdup(kernel ? "" : "0123abcd");
		f->file_offset = 0x100 + i;
		f->frame_id = (int64_t)(i + 1) * 1000 + (int64_t)strlen(spec);
	}
	ev->leaf_frame_id = n ? ev->frames[0].frame_id : 0;
	ev->stack_id = n ? 4242 + (int64_t)n : 0;
	memset(ev->event_id, (int)(ts_ns / SEC) & 0xff, TB_EVENT_ID_LEN);
	return ev;
}

static void event_free(tb_event_t *ev)
{
	tb_event_clear(ev);
	free(ev);
}

static int64_t sid(const char *name, const char *module, int kernel)
{
	return tb_agg_symbol_id(kernel ? "" : "0123abcd", module, name);
}

static const tb_agg_hot_t *find_hot(const tb_agg_fold_t *f, const char *tenant, int width, int64_t ws_us,
				    int64_t symbol_id)
{
	for (size_t i = 0; i < f->n_hot; i++)
		if (strcmp(f->hot[i].tenant, tenant) == 0 && f->hot[i].width == width &&
		    f->hot[i].window_start_us == ws_us && f->hot[i].symbol_id == symbol_id)
			return &f->hot[i];
	return NULL;
}

static void expect_hot(const tb_agg_fold_t *f, const char *tenant, int width, int64_t ws_us,
		       int64_t symbol_id, int64_t self, int64_t total, int64_t first_us, int64_t last_us)
{
	const tb_agg_hot_t *h = find_hot(f, tenant, width, ws_us, symbol_id);

	if (!h)
		fail_msg("no hot row for tenant %s width %d window %lld symbol %lld", tenant, width,
			 (long long)ws_us, (long long)symbol_id);
	assert_int_equal(h->self_count, self);
	assert_int_equal(h->total_count, total);
	assert_int_equal(h->first_us, first_us);
	assert_int_equal(h->last_us, last_us);
}

/* ---- windows and times ------------------------------------------------------------ */

static void window_start_aligns_to_the_epoch_for_both_widths(void **state)
{
	int64_t ts = (T0 + 3725 * SEC + 123456789) / 1000; /* 01:02:05.123456 */

	(void)state;
	assert_int_equal(tb_agg_window_start_us(ts, 60), (T0 / 1000) + 3720 * US);
	assert_int_equal(tb_agg_window_start_us(ts, 3600), (T0 / 1000) + 3600 * US);
	/* exactly on a boundary: the window starting there */
	assert_int_equal(tb_agg_window_start_us(T0 / 1000 + 60 * US, 60), T0 / 1000 + 60 * US);
	/* one microsecond before a boundary: the previous window */
	assert_int_equal(tb_agg_window_start_us(T0 / 1000 + 60 * US - 1, 60), T0 / 1000);
	assert_int_equal(tb_agg_window_start_us(0, 3600), 0);
}

static void window_start_floors_times_before_1970(void **state)
{
	(void)state;
	assert_int_equal(tb_agg_window_start_us(-1, 60), -60 * US);
	assert_int_equal(tb_agg_window_start_us(-60 * US, 60), -60 * US);
	assert_int_equal(tb_agg_window_start_us(-60 * US - 1, 60), -120 * US);
}

static void ts_us_truncates_nanoseconds_downwards(void **state)
{
	(void)state;
	assert_int_equal(tb_agg_ts_us(1999), 1);
	assert_int_equal(tb_agg_ts_us(2000), 2);
	assert_int_equal(tb_agg_ts_us(0), 0);
	assert_int_equal(tb_agg_ts_us(-1), -1);
	assert_int_equal(tb_agg_ts_us(-1000), -1);
	assert_int_equal(tb_agg_ts_us(-1001), -2);
}

/* ---- symbol ids ----------------------------------------------------------------------- */

static void symbol_id_follows_the_documented_recipe(void **state)
{
	tb_hasher_t h;

	(void)state;
	tb_hasher_init(&h, "symbol.v1");
	tb_hasher_str(&h, "0123abcd");
	tb_hasher_str(&h, "libx.so");
	tb_hasher_str(&h, "parse");
	assert_int_equal(tb_agg_symbol_id("0123abcd", "libx.so", "parse"), tb_hasher_final64(&h));
}

static void symbol_id_is_pinned(void **state)
{
	int64_t id = tb_agg_symbol_id("0123abcd", "libx.so", "parse");

	(void)state;
	if (id != PINNED_SYMBOL)
		print_message("# symbol_id changed: %lld (a contract: stored symbols would be orphaned)\n",
			      (long long)id);
	assert_int_equal(id, PINNED_SYMBOL);
}

static void symbol_id_treats_null_as_empty_and_separates_fields(void **state)
{
	(void)state;
	assert_int_equal(tb_agg_symbol_id(NULL, "m", NULL), tb_agg_symbol_id("", "m", ""));
	assert_int_not_equal(tb_agg_symbol_id("", "ab", "c"), tb_agg_symbol_id("", "a", "bc"));
	assert_int_not_equal(tb_agg_symbol_id("b", "m", "n"), tb_agg_symbol_id("", "m", "n"));
	assert_int_not_equal(tb_agg_symbol_id("", "m", "n"), tb_agg_symbol_id("", "n", "m"));
}

/* ---- leaf ------------------------------------------------------------------------------ */

static void leaf_is_the_frame_named_by_leaf_frame_id_else_the_first(void **state)
{
	const char *fr[] = {"k:read@[kernel]", "a@libx.so", "b@libx.so"};
	tb_event_t *ev = event("t1", T0, 1, ART, fr, 3);

	(void)state;
	assert_int_equal(tb_agg_leaf_index(ev), 0);
	ev->leaf_frame_id = ev->frames[1].frame_id;
	assert_int_equal(tb_agg_leaf_index(ev), 1);
	ev->leaf_frame_id = 999999; /* unknown id */
	assert_int_equal(tb_agg_leaf_index(ev), 0);
	ev->n_frames = 0;
	assert_int_equal(tb_agg_leaf_index(ev), -1);
	ev->n_frames = 3;
	event_free(ev);
}

/* ---- checks ------------------------------------------------------------------------------- */

static void utf8_validation_matches_what_postgresql_accepts(void **state)
{
	(void)state;
	assert_true(tb_agg_utf8_valid(NULL));
	assert_true(tb_agg_utf8_valid(""));
	assert_true(tb_agg_utf8_valid("plain ascii"));
	assert_true(tb_agg_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	assert_false(tb_agg_utf8_valid("\xc0\xaf"));	     /* overlong '/' */
	assert_false(tb_agg_utf8_valid("\xe0\x80\xaf"));     /* overlong 3-byte */
	assert_false(tb_agg_utf8_valid("\xed\xa0\x80"));     /* surrogate */
	assert_false(tb_agg_utf8_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
	assert_false(tb_agg_utf8_valid("abc\xe2\x82"));	     /* truncated */
	assert_false(tb_agg_utf8_valid("\xff"));
}

static void event_check_accepts_a_complete_event(void **state)
{
	const char *fr[] = {"a@libx.so"};
	tb_event_t *ev = event("t1", T0, 1, ART, fr, 1);
	tb_err_t err = {{0}};

	(void)state;
	if (tb_agg_event_check(ev, &err) != 0)
		fail_msg("expected the event to pass, got: %s", err.msg);
	event_free(ev);
}

static void event_check_refuses_what_the_database_would_refuse(void **state)
{
	const char *fr[] = {"a@libx.so"};
	tb_event_t *ev = event("t1", T0, 1, ART, fr, 1);
	tb_err_t err;

	(void)state;
	ev->count = 0;
	assert_int_equal(tb_agg_event_check(ev, &err), -1);
	assert_string_equal(err.msg, "invalid: count 0 (must be >= 1)");
	ev->count = 1;
	ev->ts_ns = -5;
	assert_int_equal(tb_agg_event_check(ev, &err), -1);
	assert_string_equal(err.msg, "invalid: ts_ns -5 is before 1970");
	ev->ts_ns = T0;
	free(ev->frames[0].symbol);
	ev->frames[0].symbol = strdup("bad\xff");
	assert_int_equal(tb_agg_event_check(ev, &err), -1);
	assert_string_equal(err.msg, "invalid: frame 0 has text that is not valid UTF-8");
	free(ev->tenant);
	ev->tenant = strdup("");
	assert_int_equal(tb_agg_event_check(ev, &err), -1);
	assert_string_equal(err.msg, "invalid: event without tenant");
	event_free(ev);
}

static void artifact_and_finding_checks_need_their_keys(void **state)
{
	tb_component_t comp = {.purl = "", .name = "x"};
	tb_artifact_t a = {.tenant = "t1", .digest = ART, .components = &comp, .n_components = 1};
	char *syms[] = {"parse"};
	tb_finding_t f = {.tenant = "t1", .finding_id = "", .symbols = syms, .n_symbols = 1};
	tb_err_t err;

	(void)state;
	/* A component without purl (the API keeps SBOM components by name then) does
	 * not make the artifact invalid: the sink only skips that component. */
	assert_int_equal(tb_agg_artifact_check(&a, &err), 0);
	comp.name = "bad\xff";
	assert_int_equal(tb_agg_artifact_check(&a, &err), -1);
	assert_string_equal(err.msg, "invalid: component 0 has text that is not valid UTF-8");
	comp.name = "x";
	comp.purl = "pkg:generic/x@1";
	assert_int_equal(tb_agg_artifact_check(&a, &err), 0);
	a.digest = NULL;
	assert_int_equal(tb_agg_artifact_check(&a, &err), -1);
	assert_int_equal(tb_agg_finding_check(&f, &err), -1);
	assert_string_equal(err.msg, "invalid: finding without tenant or finding_id");
	f.finding_id = "F-1";
	assert_int_equal(tb_agg_finding_check(&f, &err), 0);
}

/* ---- folding ------------------------------------------------------------------------------- */

static void self_counts_only_the_leaf_and_total_counts_each_distinct_symbol_once(void **state)
{
	/* leaf b, then a, b again (recursion), c: b self 2, total 2 (not 4) */
	const char *fr[] = {"b@libx.so", "a@libx.so", "b@libx.so", "c@app"};
	tb_event_t *ev = event("t1", T0 + 10 * SEC, 2, ART, fr, 4);
	tb_agg_fold_t f = {0};
	int64_t ws = T0 / 1000;

	(void)state;
	assert_int_equal(tb_agg_fold_event(&f, ev, NULL), 0);
	tb_agg_fold_finish(&f);
	assert_int_equal(f.n_hot, 6); /* 3 distinct symbols x 2 widths */
	expect_hot(&f, "t1", 60, ws, sid("b", "libx.so", 0), 2, 2, ws + 10 * US, ws + 10 * US);
	expect_hot(&f, "t1", 60, ws, sid("a", "libx.so", 0), 0, 2, ws + 10 * US, ws + 10 * US);
	expect_hot(&f, "t1", 3600, ws, sid("c", "app", 0), 0, 2, ws + 10 * US, ws + 10 * US);
	assert_int_equal(f.n_symbols, 3);
	assert_int_equal(f.n_frames, 4);
	assert_int_equal(f.n_stacks, 1);
	tb_agg_fold_free(&f);
	event_free(ev);
}

static void equal_keys_merge_with_sums_and_first_last_seen(void **state)
{
	const char *fr[] = {"a@libx.so", "c@app"};
	tb_event_t *e1 = event("t1", T0 + 50 * SEC, 1, ART, fr, 2);
	tb_event_t *e2 = event("t1", T0 + 10 * SEC, 3, ART, fr, 2);
	tb_event_t *e3 = event("t1", T0 + 70 * SEC, 5, ART, fr, 2); /* next minute, same hour */
	tb_agg_fold_t f = {0};
	int64_t ws = T0 / 1000;

	(void)state;
	assert_int_equal(tb_agg_fold_event(&f, e1, NULL), 0);
	assert_int_equal(tb_agg_fold_event(&f, e2, NULL), 0);
	assert_int_equal(tb_agg_fold_event(&f, e3, NULL), 0);
	tb_agg_fold_finish(&f);
	expect_hot(&f, "t1", 60, ws, sid("a", "libx.so", 0), 4, 4, ws + 10 * US, ws + 50 * US);
	expect_hot(&f, "t1", 60, ws + 60 * US, sid("a", "libx.so", 0), 5, 5, ws + 70 * US, ws + 70 * US);
	expect_hot(&f, "t1", 3600, ws, sid("a", "libx.so", 0), 9, 9, ws + 10 * US, ws + 70 * US);
	expect_hot(&f, "t1", 3600, ws, sid("c", "app", 0), 0, 9, ws + 10 * US, ws + 70 * US);
	assert_int_equal(f.n_hot, 6); /* a, c x (2 minutes + 1 hour) */
	assert_int_equal(f.n_symbols, 2);
	assert_int_equal(f.n_frames, 2);
	assert_int_equal(f.n_stacks, 1);
	tb_agg_fold_free(&f);
	event_free(e1);
	event_free(e2);
	event_free(e3);
}

static void tenants_and_artifacts_are_separate_keys(void **state)
{
	const char *fr[] = {"a@libx.so"};
	tb_event_t *e1 = event("t1", T0, 1, ART, fr, 1);
	tb_event_t *e2 = event("t2", T0, 1, ART, fr, 1);
	tb_event_t *e3 = event("t1", T0, 1, NULL, fr, 1);
	tb_agg_fold_t f = {0};

	(void)state;
	assert_int_equal(tb_agg_fold_event(&f, e1, NULL), 0);
	assert_int_equal(tb_agg_fold_event(&f, e2, NULL), 0);
	assert_int_equal(tb_agg_fold_event(&f, e3, NULL), 0);
	tb_agg_fold_finish(&f);
	assert_int_equal(f.n_hot, 6);	  /* (t1,ART) (t2,ART) (t1,'') x 2 widths */
	assert_int_equal(f.n_symbols, 2); /* per tenant */
	for (size_t i = 0; i < f.n_hot; i++)
		assert_non_null(f.hot[i].artifact); /* uncorrelated is '', never NULL */
	tb_agg_fold_free(&f);
	event_free(e1);
	event_free(e2);
	event_free(e3);
}

static void events_without_frames_add_no_rows(void **state)
{
	tb_event_t *ev = event("t1", T0, 1, ART, NULL, 0);
	tb_agg_fold_t f = {0};

	(void)state;
	assert_int_equal(tb_agg_fold_event(&f, ev, NULL), 0);
	tb_agg_fold_finish(&f);
	assert_int_equal(f.n_hot + f.n_symbols + f.n_frames + f.n_stacks, 0);
	tb_agg_fold_free(&f);
	event_free(ev);
}

static void a_symbols_purl_is_the_smallest_one_seen(void **state)
{
	const char *fr[] = {"a@libx.so"};
	tb_event_t *e1 = event("t1", T0, 1, ART, fr, 1);
	tb_event_t *e2 = event("t1", T0, 1, ART, fr, 1);
	tb_event_t *e3 = event("t1", T0, 1, ART, fr, 1);
	tb_agg_fold_t f = {0};

	(void)state;
	e1->frames[0].purl = strdup("pkg:generic/z@1");
	e2->frames[0].purl = NULL; /* uncorrelated sighting */
	e3->frames[0].purl = strdup("pkg:generic/b@1");
	assert_int_equal(tb_agg_fold_event(&f, e1, NULL), 0);
	assert_int_equal(tb_agg_fold_event(&f, e2, NULL), 0);
	assert_int_equal(tb_agg_fold_event(&f, e3, NULL), 0);
	tb_agg_fold_finish(&f);
	assert_int_equal(f.n_symbols, 1);
	assert_string_equal(f.symbols[0].purl, "pkg:generic/b@1");
	tb_agg_fold_free(&f);
	event_free(e1);
	event_free(e2);
	event_free(e3);
}

static tb_event_t **sample_events(size_t *n)
{
	static const char *const s1[] = {"k:read@[kernel]", "a@libx.so", "b@libx.so", "c@app"};
	static const char *const s2[] = {"b@libx.so", "b@libx.so", "d@liby.so"};
	static const char *const s3[] = {"d@liby.so", "c@app"};
	tb_event_t **evs = calloc(8, sizeof(*evs));

	evs[0] = event("t1", T0 + 5 * SEC, 1, ART, s1, 4);
	evs[1] = event("t1", T0 + 65 * SEC, 2, ART, s2, 3);
	evs[2] = event("t2", T0 + 7 * SEC, 3, NULL, s1, 4);
	evs[3] = event("t1", T0 + 3599 * SEC, 4, ART, s3, 2);
	evs[4] = event("t1", T0 + 3600 * SEC, 5, ART, s1, 4);
	evs[5] = event("t1", T0 + 6 * SEC, 6, NULL, s2, 3);
	evs[6] = event("t2", T0 + 61 * SEC, 7, ART, s3, 2);
	evs[7] = event("t1", T0 + 5 * SEC, 8, ART, s1, 4);
	*n = 8;
	return evs;
}

static void free_events(tb_event_t **evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		event_free(evs[i]);
	free(evs);
}

static void assert_hot_equal(const tb_agg_fold_t *a, const tb_agg_fold_t *b)
{
	assert_int_equal(a->n_hot, b->n_hot);
	for (size_t i = 0; i < a->n_hot; i++) {
		const tb_agg_hot_t *x = &a->hot[i], *y = &b->hot[i];

		assert_string_equal(x->tenant, y->tenant);
		assert_string_equal(x->artifact, y->artifact);
		assert_int_equal(x->width, y->width);
		assert_int_equal(x->window_start_us, y->window_start_us);
		assert_int_equal(x->symbol_id, y->symbol_id);
		assert_int_equal(x->self_count, y->self_count);
		assert_int_equal(x->total_count, y->total_count);
		assert_int_equal(x->first_us, y->first_us);
		assert_int_equal(x->last_us, y->last_us);
	}
}

static void the_result_does_not_depend_on_event_order(void **state)
{
	size_t n;
	tb_event_t **evs = sample_events(&n);
	tb_agg_fold_t fwd = {0}, rev = {0};

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tb_agg_fold_event(&fwd, evs[i], NULL), 0);
	for (size_t i = n; i-- > 0;)
		assert_int_equal(tb_agg_fold_event(&rev, evs[i], NULL), 0);
	tb_agg_fold_finish(&fwd);
	tb_agg_fold_finish(&rev);
	assert_hot_equal(&fwd, &rev);
	assert_int_equal(fwd.n_symbols, rev.n_symbols);
	assert_int_equal(fwd.n_frames, rev.n_frames);
	assert_int_equal(fwd.n_stacks, rev.n_stacks);
	tb_agg_fold_free(&fwd);
	tb_agg_fold_free(&rev);
	free_events(evs, n);
}

/* Two batches upserted one after the other must equal one batch: folding
 * the concatenation of two folds' rows gives the fold of all events. */
static void splitting_a_batch_gives_the_same_sums(void **state)
{
	size_t n;
	tb_event_t **evs = sample_events(&n);

	(void)state;
	for (size_t cut = 0; cut <= n; cut++) {
		tb_agg_fold_t all = {0}, a = {0}, b = {0};

		for (size_t i = 0; i < n; i++)
			assert_int_equal(tb_agg_fold_event(i < cut ? &a : &b, evs[i], NULL), 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(tb_agg_fold_event(&all, evs[i], NULL), 0);
		tb_agg_fold_finish(&a);
		tb_agg_fold_finish(&b);
		tb_agg_fold_finish(&all);
		/* "upsert" b's rows after a's: append and merge again */
		for (size_t i = 0; i < b.n_hot; i++) {
			a.hot = realloc(a.hot, (a.n_hot + 1) * sizeof(*a.hot));
			a.hot[a.n_hot++] = b.hot[i];
		}
		a.cap_hot = a.n_hot;
		tb_agg_fold_finish(&a);
		assert_hot_equal(&all, &a);
		tb_agg_fold_free(&all);
		tb_agg_fold_free(&a);
		tb_agg_fold_free(&b);
	}
	free_events(evs, n);
}

static void hot_rows_come_out_sorted_by_key(void **state)
{
	size_t n;
	tb_event_t **evs = sample_events(&n);
	tb_agg_fold_t f = {0};

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tb_agg_fold_event(&f, evs[i], NULL), 0);
	tb_agg_fold_finish(&f);
	for (size_t i = 1; i < f.n_hot; i++) {
		const tb_agg_hot_t *p = &f.hot[i - 1], *h = &f.hot[i];
		int c = strcmp(p->tenant, h->tenant);

		if (!c)
			c = strcmp(p->artifact, h->artifact);
		if (!c)
			c = (p->width > h->width) - (p->width < h->width);
		if (!c)
			c = (p->window_start_us > h->window_start_us) -
			    (p->window_start_us < h->window_start_us);
		if (!c)
			c = (p->symbol_id > h->symbol_id) - (p->symbol_id < h->symbol_id);
		if (c >= 0)
			fail_msg("hot rows %zu and %zu are not in strictly increasing key order", i - 1, i);
	}
	tb_agg_fold_free(&f);
	free_events(evs, n);
}

static void reset_empties_the_fold_for_the_next_batch(void **state)
{
	const char *fr[] = {"a@libx.so"};
	tb_event_t *ev = event("t1", T0, 1, ART, fr, 1);
	tb_agg_fold_t f = {0};

	(void)state;
	assert_int_equal(tb_agg_fold_event(&f, ev, NULL), 0);
	tb_agg_fold_reset(&f);
	assert_int_equal(f.n_hot + f.n_symbols + f.n_frames + f.n_stacks, 0);
	assert_int_equal(tb_agg_fold_event(&f, ev, NULL), 0);
	tb_agg_fold_finish(&f);
	expect_hot(&f, "t1", 60, T0 / 1000, sid("a", "libx.so", 0), 1, 1, T0 / 1000, T0 / 1000);
	tb_agg_fold_free(&f);
	event_free(ev);
}

/* ---- observations ------------------------------------------------------------------------------ */

static void dedupe_keeps_the_first_of_each_event_key(void **state)
{
	const char *fr[] = {"a@libx.so"};
	tb_event_t *a = event("t1", T0, 1, ART, fr, 1);
	tb_event_t *b = event("t1", T0 + SEC, 1, ART, fr, 1);
	tb_event_t *c = event("t2", T0, 1, ART, fr, 1); /* same event_id as a, other tenant */
	tb_agg_obs_t obs[] = {{b, T0 / 1000 + US, 0},
			      {a, T0 / 1000, 1},
			      {b, T0 / 1000 + US, 2},
			      {c, T0 / 1000, 3},
			      {a, T0 / 1000, 4}};
	size_t n;
	tb_agg_obs_t *hit;

	(void)state;
	n = tb_agg_obs_dedupe(obs, 5);
	assert_int_equal(n, 3);
	hit = tb_agg_obs_find(obs, n, "t1", a->event_id, T0 / 1000);
	assert_non_null(hit);
	assert_int_equal(hit->index, 1);
	hit = tb_agg_obs_find(obs, n, "t1", b->event_id, T0 / 1000 + US);
	assert_non_null(hit);
	assert_int_equal(hit->index, 0);
	hit = tb_agg_obs_find(obs, n, "t2", a->event_id, T0 / 1000);
	assert_non_null(hit);
	assert_int_equal(hit->index, 3);
	assert_null(tb_agg_obs_find(obs, n, "t3", a->event_id, T0 / 1000));
	assert_null(tb_agg_obs_find(obs, n, "t1", a->event_id, T0 / 1000 + 7)); /* same id, other ts */
	event_free(a);
	event_free(b);
	event_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(window_start_aligns_to_the_epoch_for_both_widths),
	    cmocka_unit_test(window_start_floors_times_before_1970),
	    cmocka_unit_test(ts_us_truncates_nanoseconds_downwards),
	    cmocka_unit_test(symbol_id_follows_the_documented_recipe),
	    cmocka_unit_test(symbol_id_is_pinned),
	    cmocka_unit_test(symbol_id_treats_null_as_empty_and_separates_fields),
	    cmocka_unit_test(leaf_is_the_frame_named_by_leaf_frame_id_else_the_first),
	    cmocka_unit_test(utf8_validation_matches_what_postgresql_accepts),
	    cmocka_unit_test(event_check_accepts_a_complete_event),
	    cmocka_unit_test(event_check_refuses_what_the_database_would_refuse),
	    cmocka_unit_test(artifact_and_finding_checks_need_their_keys),
	    cmocka_unit_test(self_counts_only_the_leaf_and_total_counts_each_distinct_symbol_once),
	    cmocka_unit_test(equal_keys_merge_with_sums_and_first_last_seen),
	    cmocka_unit_test(tenants_and_artifacts_are_separate_keys),
	    cmocka_unit_test(events_without_frames_add_no_rows),
	    cmocka_unit_test(a_symbols_purl_is_the_smallest_one_seen),
	    cmocka_unit_test(the_result_does_not_depend_on_event_order),
	    cmocka_unit_test(splitting_a_batch_gives_the_same_sums),
	    cmocka_unit_test(hot_rows_come_out_sorted_by_key),
	    cmocka_unit_test(reset_empties_the_fold_for_the_next_batch),
	    cmocka_unit_test(dedupe_keeps_the_first_of_each_event_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
