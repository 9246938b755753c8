/*
 * Unit tests for the correlator index: build-id, image+basename and finding
 * lookups, tenant isolation, ambiguity resolution and idempotence.
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
#define IMG_B "sha256:bbbb000000000000000000000000000000000000000000000000000000000000"
#define BID_APP "8f3c2a0d1e2b3c4d5e6f708192a3b4c5d6e7f809"
#define BID_SSL "0123456789abcdef0123456789abcdef01234567"

static void add_artifact(tb_corr_index_t *idx, const char *tenant, const char *digest, int with_ssl)
{
	tb_binary_t bins[2] = {
		{.path = "/usr/bin/app", .build_id = BID_APP, .purl = "pkg:generic/app@1.0"},
		{.path = "/usr/lib/libssl.so.3", .build_id = BID_SSL, .purl = "pkg:deb/debian/libssl3@3.0.11"},
	};
	tb_artifact_t a = {.tenant = (char *)tenant, .digest = (char *)digest, .binaries = bins,
			   .n_binaries = with_ssl ? 2 : 1};
	tb_err_t err;

	assert_int_equal(tb_corr_index_put_artifact(idx, &a, &err), 0);
}

static void add_finding(tb_corr_index_t *idx, const char *id, const char *purl, const char *sym)
{
	char *syms[1] = {(char *)sym};
	tb_finding_t f = {.tenant = "t1", .finding_id = (char *)id, .vuln_id = "CVE-2024-0001",
			  .purl = (char *)purl, .symbols = sym ? syms : NULL, .n_symbols = sym ? 1 : 0};
	tb_err_t err;

	assert_int_equal(tb_corr_index_put_finding(idx, &f, &err), 0);
}

/* An event with one kernel frame and two user frames (app, libssl). */
static tb_event_t *make_event(const char *tenant, const char *image, int ssl_has_build_id)
{
	tb_event_t *ev = calloc(1, sizeof(*ev));

	ev->tenant = strdup(tenant);
	ev->kind = strdup("sample");
	ev->binary = strdup("/usr/bin/app");
	ev->container.image_digest = image ? strdup(image) : NULL;
	ev->n_frames = 3;
	ev->frames = calloc(3, sizeof(tb_canon_frame_t));
	ev->frames[0].kernel = 1;
	ev->frames[0].symbol = strdup("do_syscall_64");
	ev->frames[0].module = strdup("");
	ev->frames[0].build_id = strdup("");
	ev->frames[1].module = strdup("libssl.so.3");
	ev->frames[1].build_id = strdup(ssl_has_build_id ? BID_SSL : "");
	ev->frames[1].symbol = strdup("SSL_read");
	ev->frames[2].module = strdup("app");
	ev->frames[2].build_id = strdup(BID_APP);
	ev->frames[2].symbol = strdup("main");
	return ev;
}

static void destroy(tb_event_t *ev)
{
	tb_event_clear(ev);
	free(ev);
}

static void frame_linked_by_build_id_to_artifact_and_purl(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_event("t1", NULL, 1);
	tb_err_t err;

	(void)state;
	add_artifact(idx, "t1", IMG_A, 1);
	assert_int_equal(tb_corr_correlate(idx, ev, &err), 0);
	assert_null(ev->frames[0].artifact_digest);
	assert_string_equal(ev->frames[1].artifact_digest, IMG_A);
	assert_string_equal(ev->frames[1].purl, "pkg:deb/debian/libssl3@3.0.11");
	assert_string_equal(ev->frames[2].purl, "pkg:generic/app@1.0");
	assert_string_equal(ev->artifact_digest, IMG_A);
	assert_string_equal(ev->purl, "pkg:generic/app@1.0");
	assert_string_equal(ev->correlation, "correlated");
	destroy(ev);
	tb_corr_index_free(idx);
}

static void frame_without_build_id_linked_by_image_and_basename(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_event("t1", IMG_A, 0);
	tb_event_t *ev2 = make_event("t1", NULL, 0);
	tb_err_t err;

	(void)state;
	add_artifact(idx, "t1", IMG_A, 1);
	tb_corr_correlate(idx, ev, &err);
	assert_string_equal(ev->frames[1].artifact_digest, IMG_A);
	assert_string_equal(ev->frames[1].purl, "pkg:deb/debian/libssl3@3.0.11");
	/* Without an image digest the basename alone proves nothing. */
	tb_corr_correlate(idx, ev2, &err);
	assert_null(ev2->frames[1].artifact_digest);
	assert_string_equal(ev2->correlation, "partial");
	destroy(ev);
	destroy(ev2);
	tb_corr_index_free(idx);
}

static void shared_build_id_prefers_event_image_else_smallest_digest(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_event("t1", IMG_B, 1);
	tb_event_t *ev2 = make_event("t1", NULL, 1);
	tb_err_t err;

	(void)state;
	add_artifact(idx, "t1", IMG_B, 1);
	add_artifact(idx, "t1", IMG_A, 1);
	tb_corr_correlate(idx, ev, &err);
	assert_string_equal(ev->frames[1].artifact_digest, IMG_B);
	tb_corr_correlate(idx, ev2, &err);
	assert_string_equal(ev2->frames[1].artifact_digest, IMG_A);
	destroy(ev);
	destroy(ev2);
	tb_corr_index_free(idx);
}

static void tenants_never_see_each_others_artifacts(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_event("t2", IMG_A, 1);
	tb_err_t err;

	(void)state;
	add_artifact(idx, "t1", IMG_A, 1);
	tb_corr_correlate(idx, ev, &err);
	for (size_t i = 0; i < ev->n_frames; i++)
		assert_null(ev->frames[i].artifact_digest);
	assert_null(ev->artifact_digest);
	assert_string_equal(ev->correlation, "uncorrelated");
	destroy(ev);
	tb_corr_index_free(idx);
}

static void findings_by_symbol_and_by_component(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_event("t1", IMG_A, 1);
	tb_err_t err;

	(void)state;
	add_artifact(idx, "t1", IMG_A, 1);
	add_finding(idx, "F-2", "pkg:deb/debian/libssl3@3.0.11", "SSL_read");
	add_finding(idx, "F-1", "pkg:deb/debian/libssl3@3.0.11", NULL);
	add_finding(idx, "F-3", "pkg:deb/debian/libssl3@3.0.11", "SSL_write");
	tb_corr_correlate(idx, ev, &err);
	assert_int_equal(ev->frames[1].n_finding_ids, 2);
	assert_string_equal(ev->frames[1].finding_ids[0], "F-1");
	assert_string_equal(ev->frames[1].finding_ids[1], "F-2");
	assert_int_equal(ev->frames[2].n_finding_ids, 0);
	destroy(ev);
	tb_corr_index_free(idx);
}

static void late_artifact_correlates_on_second_pass(void **state)
{
	tb_corr_index_t *idx = tb_corr_index_new();
	tb_event_t *ev = make_event("t1", NULL, 1);
	tb_err_t err;

	(void)state;
	tb_corr_correlate(idx, ev, &err);
	assert_string_equal(ev->correlation, "uncorrelated");
	add_artifact(idx, "t1", IMG_A, 1);
	tb_corr_correlate(idx, ev, &err);
	assert_string_equal(ev->correlation, "correlated");
	tb_corr_correlate(idx, ev, &err); /* idempotent */
	assert_string_equal(ev->frames[2].artifact_digest, IMG_A);
	tb_corr_index_del_artifact(idx, "t1", IMG_A);
	tb_corr_correlate(idx, ev, &err);
	assert_string_equal(ev->correlation, "uncorrelated");
	destroy(ev);
	tb_corr_index_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_linked_by_build_id_to_artifact_and_purl),
		cmocka_unit_test(frame_without_build_id_linked_by_image_and_basename),
		cmocka_unit_test(shared_build_id_prefers_event_image_else_smallest_digest),
		cmocka_unit_test(tenants_never_see_each_others_artifacts),
		cmocka_unit_test(findings_by_symbol_and_by_component),
		cmocka_unit_test(late_artifact_correlates_on_second_pass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
