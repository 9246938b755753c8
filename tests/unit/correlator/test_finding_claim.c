/*
 * Unit tests for the correlator's rule for finding-scoped ingests
 * (services/correlator/index.c, claimed_component; docs/FINDINGS-API.md):
 * an event's explicit component_purl (with its image digest as artifact) is
 * used when the index finds no component, also for the innermost user
 * frame; an index answer with a purl always wins; no claim, no change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/correlator/index.h"

#define IMG_A "sha256:aaaa000000000000000000000000000000000000000000000000000000000000"
#define BID_APP "8f3c2a0d1e2b3c4d5e6f708192a3b4c5d6e7f809"
#define FOO "pkg:generic/libfoo@1.0"

static void check_str(const char *what, const char *exp, const char *got)
{
	if (!exp != !got || (exp && strcmp(exp, got) != 0))
		fail_msg("%s: expected %s, got %s", what, exp ? exp : "NULL", got ? got : "NULL");
}

static void add_artifact(tb_corr_index_t *idx)
{
	tb_binary_t bins[1] = {{.path = "/usr/bin/app", .build_id = BID_APP, .purl = "pkg:generic/app@1.0"}};
	tb_artifact_t a = {.tenant = "t1", .digest = IMG_A, .binaries = bins, .n_binaries = 1};
	tb_err_t err;

	assert_int_equal(tb_corr_index_put_artifact(idx, &a, &err), 0);
}

/* A finding-scoped trace: frames foo_parse (no build-id) then main. */
static tb_event_t *make_trace(const char *claim, const char *main_build_id)
{
	tb_event_t *ev = calloc(1, sizeof(*ev));

	ev->tenant = strdup("t1");
	ev->kind = strdup("uprobe");
	ev->container.image_digest = strdup(IMG_A);
	ev->component_purl = claim ? strdup(claim) : NULL;
	ev->n_frames = 2;
	ev->frames = calloc(2, sizeof(tb_canon_frame_t));
	ev->frames[0].symbol = strdup("foo_parse");
	ev->frames[0].module = strdup("");
	ev->frames[0].build_id = strdup("");
	ev->frames[1].symbol = strdup("main");
	ev->frames[1].module = strdup("app");
	ev->frames[1].build_id = strdup(main_build_id);
	return ev;
}

static void destroy(tb_event_t *ev)
{
	tb_event_clear(ev);
	free(ev);
}

static void the_claim_is_used_when_the_index_knows_nothing(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_trace(FOO, "");
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_corr_correlate(idx, ev, &err), 0);
	check_str("event purl", FOO, ev->purl);
	check_str("event artifact", IMG_A, ev->artifact_digest);
	check_str("innermost frame purl", FOO, ev->frames[0].purl);
	check_str("innermost frame artifact", IMG_A, ev->frames[0].artifact_digest);
	check_str("outer frame purl (not claimed)", NULL, ev->frames[1].purl);
	check_str("correlation", "partial", ev->correlation);
	destroy(ev);
	tb_corr_index_free(idx);
}

static void the_claim_fills_the_purl_of_a_registered_artifact(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_trace(FOO, "");
	tb_err_t err;

	(void)state;
	add_artifact(idx); /* A is known, but no binary matches the frames */
	assert_int_equal(tb_corr_correlate(idx, ev, &err), 0);
	check_str("event artifact", IMG_A, ev->artifact_digest);
	check_str("event purl", FOO, ev->purl);
	check_str("innermost frame purl", FOO, ev->frames[0].purl);
	destroy(ev);
	tb_corr_index_free(idx);
}

static void an_index_answer_with_a_purl_wins_over_the_claim(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_trace(FOO, BID_APP);
	tb_err_t err;

	(void)state;
	add_artifact(idx);
	ev->binary = strdup("/usr/bin/app");
	assert_int_equal(tb_corr_correlate(idx, ev, &err), 0);
	check_str("event purl (main binary by build-id)", "pkg:generic/app@1.0", ev->purl);
	check_str("main frame purl", "pkg:generic/app@1.0", ev->frames[1].purl);
	destroy(ev);
	tb_corr_index_free(idx);
}

static void without_a_claim_nothing_is_invented(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_trace(NULL, "");
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_corr_correlate(idx, ev, &err), 0);
	check_str("event purl", NULL, ev->purl);
	check_str("event artifact", NULL, ev->artifact_digest);
	check_str("innermost frame purl", NULL, ev->frames[0].purl);
	check_str("correlation", "uncorrelated", ev->correlation);
	destroy(ev);
	tb_corr_index_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_claim_is_used_when_the_index_knows_nothing),
	    cmocka_unit_test(the_claim_fills_the_purl_of_a_registered_artifact),
	    cmocka_unit_test(an_index_answer_with_a_purl_wins_over_the_claim),
	    cmocka_unit_test(without_a_claim_nothing_is_invented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
