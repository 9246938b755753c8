/*
 * Unit tests for services/probe-agent/watch.c: the watch file (three target
 * kinds, quoted names, comments, errors naming the line, all-or-nothing
 * reloads that keep findings), and which binaries findings + artifacts
 * select (binary purl, component-only purl, artifact restriction, purl
 * qualifiers, tombstones, version bumps).
 */
#include "pa_test.h"

#include "../../../services/probe-agent/watch.h"

static const char *file_text = "# watch list\n"
			       "\n"
			       "/usr/bin/app  parse_header \"ns::f<int, long>\"   # trailing comment\n"
			       "build-id:ABCDEF01  do_thing\n"
			       "pkg:deb/debian/openssl@3.0.11  SSL_read SSL_write\n";

static int has(char **arr, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(arr[i], s) == 0)
			return 1;
	return 0;
}

/* How many symbols w wants in (path, build_id), and whether `name` is one. */
static size_t wanted(const tb_pa_watch_t *w, const char *path, const char *bid, const char *name,
		     int *has_name)
{
	char **out = NULL;
	size_t n = tb_pa_watch_symbols_for(w, path, bid, &out);

	if (has_name)
		*has_name = name && has(out, n, name);
	free(out);
	return n;
}

static void parses_paths_build_ids_and_purls(void **state)
{
	tb_pa_watch_t *w = tb_pa_watch_new();
	const tb_pa_watch_entry_t *e;
	tb_err_t err;

	(void)state;
	if (tb_pa_watch_parse(w, file_text, "watch.txt", &err) < 0)
		fail_msg("parse: %s", err.msg);
	EXPECT_INT(3, (int64_t)tb_pa_watch_count(w));
	e = tb_pa_watch_at(w, 0);
	EXPECT_INT(TB_PA_WATCH_PATH, e->kind);
	EXPECT_STR("/usr/bin/app", e->target);
	EXPECT_INT(2, (int64_t)e->n_symbols);
	EXPECT_STR("ns::f<int, long>", e->symbols[1]);
	EXPECT_STR("watch.txt:3", e->origin);
	e = tb_pa_watch_at(w, 1);
	EXPECT_INT(TB_PA_WATCH_BUILD_ID, e->kind);
	EXPECT_STR("abcdef01", e->target);
	e = tb_pa_watch_at(w, 2);
	EXPECT_INT(TB_PA_WATCH_PURL, e->kind);
	EXPECT_STR("pkg:deb/debian/openssl@3.0.11", e->target);
	tb_pa_watch_free(w);
}

static void bad_lines_are_named_and_change_nothing(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"/usr/bin/app f\nrelative/path f\n", "w.txt:2: 'relative/path' is not"},
	    {"/usr/bin/app\n", "w.txt:1: no symbol after the target"},
	    {"build-id:xyz f\n", "w.txt:1: 'build-id:xyz' is not"},
	    {"/usr/bin/app \"unterminated\n", "w.txt:1: unterminated quote"},
	    {"/usr/bin/app \"\"\n", "w.txt:1: empty symbol name"},
	};
	tb_pa_watch_t *w = tb_pa_watch_new();
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_pa_watch_parse(w, file_text, "watch.txt", &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tb_pa_watch_parse(w, bad[i].text, "w.txt", &err) == 0)
			fail_msg("case %zu: expected an error containing \"%s\", got success", i,
				 bad[i].want);
		if (!strstr(err.msg, bad[i].want))
			fail_msg("case %zu: expected an error containing \"%s\", got \"%s\"", i, bad[i].want,
				 err.msg);
		EXPECT_INT(3, (int64_t)tb_pa_watch_count(w));
	}
	tb_pa_watch_free(w);
}

static tb_artifact_t artifact(const char *digest, tb_binary_t *bins, size_t n_bins, tb_component_t *comps,
			      size_t n_comps)
{
	tb_artifact_t a;

	memset(&a, 0, sizeof(a));
	a.tenant = "default";
	a.digest = (char *)digest;
	a.binaries = bins;
	a.n_binaries = n_bins;
	a.components = comps;
	a.n_components = n_comps;
	return a;
}

static void finding_purls_select_binaries_through_artifacts(void **state)
{
	tb_binary_t bins[] = {{"/usr/lib/libssl.so.3", "aa11", "pkg:deb/debian/libssl3@3.0.11"},
			      {"/usr/bin/openssl", "bb22", "pkg:deb/debian/openssl@3.0.11"}};
	tb_component_t comps[] = {{"pkg:generic/zlib@1.3", "zlib", "1.3"}};
	tb_binary_t static_bins[] = {{"/app/server", "cc33", NULL}};
	tb_artifact_t a1 = artifact("sha256:a1", bins, 2, NULL, 0),
		      a2 = artifact("sha256:a2", static_bins, 1, comps, 1);
	char *syms1[] = {"SSL_read"}, *syms2[] = {"inflate"};
	tb_finding_t f1 = {.tenant = "default",
			   .finding_id = "F1",
			   .purl = "pkg:deb/debian/libssl3@3.0.11?arch=amd64",
			   .symbols = syms1,
			   .n_symbols = 1};
	tb_finding_t f2 = {.tenant = "default",
			   .finding_id = "F2",
			   .purl = "pkg:generic/zlib@1.3",
			   .symbols = syms2,
			   .n_symbols = 1};
	tb_pa_watch_t *w = tb_pa_watch_new();
	char **out;
	size_t n;
	int hit;

	(void)state;
	tb_pa_watch_put_artifact(w, &a1);
	tb_pa_watch_put_artifact(w, &a2);
	tb_pa_watch_put_finding(w, &f1);
	tb_pa_watch_put_finding(w, &f2);
	n = wanted(w, "/somewhere/else/libssl.so.3", "AA11", "SSL_read", &hit);
	if (n != 1 || !hit)
		fail_msg("libssl by build-id: expected [SSL_read], got %zu names", n);
	EXPECT_INT(0,
		   (int64_t)wanted(w, "/usr/bin/openssl", "bb22", NULL, NULL)); /* another package's binary */
	n = wanted(w, "/app/server", "cc33", "inflate", &hit); /* zlib only as a component: static */
	if (n != 1 || !hit)
		fail_msg("static zlib: expected [inflate], got %zu names", n);
	n = tb_pa_watch_paths(w, &out);
	if (n != 2 || !has(out, n, "/usr/lib/libssl.so.3") || !has(out, n, "/app/server"))
		fail_msg("paths: expected the two artifact paths, got %zu", n);
	free(out);
	tb_pa_watch_free(w);
}

static void artifact_digest_restricts_and_tombstones_remove(void **state)
{
	tb_binary_t bins[] = {{"/usr/lib/libssl.so.3", "aa11", "pkg:x/ssl@1"}};
	tb_artifact_t a1 = artifact("sha256:a1", bins, 1, NULL, 0),
		      a2 = artifact("sha256:a2", bins, 1, NULL, 0);
	char *syms[] = {"SSL_read"};
	tb_finding_t f = {.tenant = "default",
			  .finding_id = "F1",
			  .purl = "pkg:x/ssl@1",
			  .artifact_digest = "sha256:zz",
			  .symbols = syms,
			  .n_symbols = 1};
	tb_pa_watch_t *w = tb_pa_watch_new();
	uint64_t v0;

	(void)state;
	tb_pa_watch_put_artifact(w, &a1);
	tb_pa_watch_put_finding(w, &f);
	EXPECT_INT(0, (int64_t)wanted(w, NULL, "aa11", NULL, NULL)); /* finding is for sha256:zz */
	tb_pa_watch_put_artifact(w, &a2);
	f.artifact_digest = "sha256:a2";
	tb_pa_watch_put_finding(w, &f); /* same id: replaces */
	EXPECT_INT(1, (int64_t)tb_pa_watch_count(w));
	EXPECT_INT(1, (int64_t)wanted(w, NULL, "aa11", NULL, NULL));
	v0 = tb_pa_watch_version(w);
	tb_pa_watch_del_finding(w, "F1");
	assert_true(tb_pa_watch_version(w) > v0);
	EXPECT_INT(0, (int64_t)wanted(w, NULL, "aa11", NULL, NULL));
	tb_pa_watch_free(w);
}

static void reloading_the_file_keeps_the_findings(void **state)
{
	char *syms[] = {"f"};
	tb_finding_t f = {
	    .tenant = "default", .finding_id = "F1", .purl = "pkg:x/y@1", .symbols = syms, .n_symbols = 1};
	tb_pa_watch_t *w = tb_pa_watch_new();
	tb_err_t err;

	(void)state;
	tb_pa_watch_put_finding(w, &f);
	assert_int_equal(tb_pa_watch_parse(w, file_text, "a", &err), 0);
	assert_int_equal(tb_pa_watch_parse(w, "/bin/x g\n", "b", &err), 0);
	EXPECT_INT(2, (int64_t)tb_pa_watch_count(w));
	tb_pa_watch_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_paths_build_ids_and_purls),
	    cmocka_unit_test(bad_lines_are_named_and_change_nothing),
	    cmocka_unit_test(finding_purls_select_binaries_through_artifacts),
	    cmocka_unit_test(artifact_digest_restricts_and_tombstones_remove),
	    cmocka_unit_test(reloading_the_file_keeps_the_findings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
