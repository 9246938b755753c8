/*
 * Unit tests for the privacy policy (privacy.c) and for the canonicalizer
 * output as a whole: the strict default removes argv, env, cwd and raw
 * addresses, rewrites home paths, hashes uid/node/exec_id with the key (or
 * drops them without one), keeps pod metadata, counts per rule; a scan of
 * every field of the output finds none of the planted values; policy files
 * parse, and each kind of mistake is an error naming file, line and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../../services/canonicalizer/canon.h"
#include "../../../services/canonicalizer/privacy.h"
#include "tb/hash.h"
#include "test_canon_util.h"

static const uint8_t test_key[TB_HASH_KEY_LEN] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
						  11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
						  22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static void data_path(const char *name, char *out, size_t cap)
{
	const char *root = getenv("TB_SRCDIR");

	snprintf(out, cap, "%s/tests/data/privacy/%s", root ? root : ".", name);
}

typedef struct run {
	tb_metrics_t *metrics;
	tb_privacy_t *privacy;
	tb_canon_t *canon;
	tb_event_t out;
} run_t;

/* Canonicalize the sample event under `pol`. */
static void run_policy(run_t *r, const tb_privacy_policy_t *pol, const tb_runtime_event_t *in)
{
	tb_canon_config_t cfg = {0};
	tb_err_t err = {{0}};

	memset(r, 0, sizeof(*r));
	r->metrics = tb_metrics_new("tb_canonicalizer");
	r->privacy = tb_privacy_new(pol, r->metrics, &err);
	if (!r->privacy)
		fail_msg("tb_privacy_new: %s", err.msg);
	cfg.privacy = r->privacy;
	r->canon = tb_canon_new(&cfg, &err);
	assert_non_null(r->canon);
	if (tb_canon_event(r->canon, in, &r->out, &err) != 0)
		fail_msg("tb_canon_event: %s", err.msg);
}

static void run_done(run_t *r)
{
	tb_event_clear(&r->out);
	tb_canon_free(r->canon);
	tb_privacy_free(r->privacy);
	tb_metrics_free(r->metrics);
}

static int64_t rule_count(run_t *r, const char *rule)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "rule=\"%s\"", rule);
	return tb_metric_get(tb_metrics_counter(r->metrics, "privacy_redactions_total", "", labels));
}

static void strict_keyed_policy(tb_privacy_policy_t *pol)
{
	tb_privacy_policy_strict(pol);
	memcpy(pol->key, test_key, sizeof(test_key));
	pol->has_key = 1;
}

static void expect_absent(const char *dump, const char *needle)
{
	if (strstr(dump, needle))
		fail_msg("output contains '%s', expected it gone; output:\n%s", needle, dump);
}

static void expect_address_absent(const char *dump, uint64_t addr)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%llx", (unsigned long long)addr);
	expect_absent(dump, buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)addr);
	expect_absent(dump, buf);
}

static void strict_output_holds_none_of_the_planted_values(void **state)
{
	tb_runtime_event_t *in = sample_event();
	tb_privacy_policy_t pol;
	run_t r;
	char *dump;

	(void)state;
	strict_keyed_policy(&pol);
	run_policy(&r, &pol, in);
	dump = event_dump(&r.out);
	expect_absent(dump, SECRET_ARG);
	expect_absent(dump, "--password");
	expect_absent(dump, SECRET_ENV);
	expect_absent(dump, "API_TOKEN");
	expect_absent(dump, SECRET_CWD);
	expect_absent(dump, HOME_USER);
	expect_absent(dump, "node-7");
	expect_absent(dump, "4711");
	expect_absent(dump, in->process.exec_id);
	expect_address_absent(dump, K_ADDR0);
	expect_address_absent(dump, K_ADDR1);
	expect_address_absent(dump, U_ADDR0);
	expect_address_absent(dump, U_ADDR1);
	expect_address_absent(dump, U_ADDR2);
	free(dump);
	run_done(&r);
	sample_free(in);
}

static void strict_rewrites_home_and_keeps_pod_metadata(void **state)
{
	tb_runtime_event_t *in = sample_event();
	tb_privacy_policy_t pol;
	run_t r;

	(void)state;
	strict_keyed_policy(&pol);
	run_policy(&r, &pol, in);
	assert_string_equal(r.out.binary, "/home/<redacted>/bin/app");
	assert_string_equal(r.out.frames[3].module, "app");
	assert_string_equal(r.out.container.pod, "app-7d9f8-xk2lp");
	assert_string_equal(r.out.container.namespace_, "shop");
	assert_string_equal(r.out.container.workload, "app");
	assert_string_equal(r.out.container.workload_kind, "Deployment");
	assert_string_equal(r.out.container.image, "registry.example/app:1.2.3");
	assert_string_equal(r.out.container.image_digest, in->container.image_digest);
	assert_string_equal(r.out.hook, "tcp_connect");
	assert_string_equal(r.out.policy, "connect-policy");
	run_done(&r);
	sample_free(in);
}

static void uid_node_and_exec_id_are_keyed_hashes(void **state)
{
	tb_runtime_event_t *in = sample_event();
	tb_privacy_policy_t pol;
	char want[33], buf[256];
	run_t r;

	(void)state;
	strict_keyed_policy(&pol);
	run_policy(&r, &pol, in);
	tb_keyed_hash_hex(test_key, "uid:4711", want);
	assert_string_equal(r.out.uid_hash, want);
	tb_keyed_hash_hex(test_key, "node:" NODE_NAME, want);
	assert_string_equal(r.out.node, want);
	snprintf(buf, sizeof(buf), "exec_id:%s", in->process.exec_id);
	tb_keyed_hash_hex(test_key, buf, want);
	assert_string_equal(r.out.exec_id, want);
	run_done(&r);
	sample_free(in);
}

static void without_a_key_hashed_fields_are_dropped(void **state)
{
	tb_runtime_event_t *in = sample_event();
	tb_privacy_policy_t pol;
	run_t r;

	(void)state;
	tb_privacy_policy_strict(&pol); /* no key */
	run_policy(&r, &pol, in);
	assert_string_equal(r.out.uid_hash, "");
	assert_string_equal(r.out.node, "");
	assert_string_equal(r.out.exec_id, "");
	assert_int_equal(rule_count(&r, "uid"), 1);
	assert_int_equal(rule_count(&r, "node"), 1);
	run_done(&r);
	sample_free(in);
}

static void every_rule_is_counted(void **state)
{
	tb_runtime_event_t *in = sample_event();
	tb_privacy_policy_t pol;
	run_t r;

	(void)state;
	strict_keyed_policy(&pol);
	free(in->path);
	in->path = xdup("/home/bob/.cache/token=abc123/lib.so");
	run_policy(&r, &pol, in);
	assert_int_equal(rule_count(&r, "args"), 1);
	assert_int_equal(rule_count(&r, "env"), 2);
	assert_int_equal(rule_count(&r, "cwd"), 1);
	/* 5 frame addresses + the address-only symbol of the last frame */
	assert_int_equal(rule_count(&r, "addresses"), 6);
	assert_int_equal(rule_count(&r, "home"), 2); /* binary and path */
	assert_int_equal(rule_count(&r, "secret"), 1);
	assert_int_equal(rule_count(&r, "uid"), 1);
	assert_int_equal(rule_count(&r, "node"), 1);
	assert_int_equal(rule_count(&r, "exec_id"), 1);
	assert_int_equal(rule_count(&r, "pod_metadata"), 0);
	assert_string_equal(r.out.path, "/home/<redacted>/.cache/token=<redacted>/lib.so");
	run_done(&r);
	sample_free(in);
}

static void dropping_pod_metadata_keeps_image_and_ids(void **state)
{
	tb_runtime_event_t *in = sample_event();
	tb_privacy_policy_t pol;
	run_t r;

	(void)state;
	strict_keyed_policy(&pol);
	pol.keep_pod_metadata = 0;
	run_policy(&r, &pol, in);
	assert_null(r.out.container.pod);
	assert_null(r.out.container.namespace_);
	assert_null(r.out.container.workload);
	assert_null(r.out.container.workload_kind);
	assert_null(r.out.container.name);
	assert_string_equal(r.out.container.image, "registry.example/app:1.2.3");
	assert_string_equal(r.out.container.id, "3f2a9c0d5e1b");
	assert_int_equal(rule_count(&r, "pod_metadata"), 5);
	run_done(&r);
	sample_free(in);
}

typedef struct pcase {
	const char *in;
	const char *want;
} pcase_t;

static void home_path_parts_are_rewritten(void **state)
{
	static const pcase_t cases[] = {
	    {"/home/alice/bin/app", "/home/<redacted>/bin/app"},
	    {"/home/alice", "/home/<redacted>"},
	    {"/Users/bob/Library/x.dylib", "/Users/<redacted>/Library/x.dylib"},
	    {"/root/.cargo/bin/rg", "/<redacted-root>/.cargo/bin/rg"},
	    {"/root", "/<redacted-root>"},
	    {"/var/lib/docker/overlay2/ab12/merged/home/carol/app",
	     "/var/lib/docker/overlay2/ab12/merged/home/<redacted>/app"},
	    {"/run/user/1000/bus", "/run/user/<redacted>/bus"},
	    {"/home/alice/x/home/bob/y", "/home/<redacted>/x/home/<redacted>/y"},
	    {"/usr/bin/root", "/usr/bin/root"},
	    {"/rootfs/bin/sh", "/rootfs/bin/sh"},
	    {"/home", "/home"},
	    {"/home/", "/home/"},
	    {"/homestead/alice/x", "/homestead/alice/x"},
	    {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	    {"", ""},
	};
	tb_privacy_policy_t pol;
	tb_privacy_t *p;
	int bad = 0;

	(void)state;
	strict_keyed_policy(&pol);
	p = tb_privacy_new(&pol, NULL, NULL);
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = tb_privacy_path(p, cases[i].in);

		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("path '%s': expected '%s', got '%s'\n", cases[i].in, cases[i].want, got);
			bad++;
		}
		free(got);
	}
	tb_privacy_free(p);
	assert_int_equal(bad, 0);
}

static void secrets_in_kept_strings_are_scrubbed(void **state)
{
	static const pcase_t cases[] = {
	    {"/srv/token=abc123/bin/app", "/srv/token=<redacted>/bin/app"},
	    {"/tmp/API_KEY=xyz;PASSWORD=pw/x", "/tmp/API_KEY=<redacted>;PASSWORD=<redacted>/x"},
	    {"https://user:pw@git.example/repo", "https://<redacted>@git.example/repo"},
	    {"/opt/ghp_abcdefghijklmnopqrstuvwxyz0123456789/x", "/opt/<redacted>/x"},
	    {"/cache/AKIAABCDEFGHIJKLMNOP/obj", "/cache/<redacted>/obj"},
	    {"/x/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl/y", "/x/<redacted>/y"},
	    {"/usr/lib/libauthentication.so.1", "/usr/lib/libauthentication.so.1"},
	    {"auth::Session::get", "auth::Session::get"},
	    {"tcp_connect", "tcp_connect"},
	};
	tb_privacy_policy_t pol;
	tb_privacy_t *p;
	int bad = 0;

	(void)state;
	strict_keyed_policy(&pol);
	p = tb_privacy_new(&pol, NULL, NULL);
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = tb_privacy_path(p, cases[i].in);

		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("string '%s': expected '%s', got '%s'\n", cases[i].in, cases[i].want,
				    got);
			bad++;
		}
		free(got);
	}
	tb_privacy_free(p);
	assert_int_equal(bad, 0);
}

static void address_only_symbols_are_recognized(void **state)
{
	tb_privacy_policy_t pol;
	tb_privacy_t *p;

	(void)state;
	tb_privacy_policy_strict(&pol);
	p = tb_privacy_new(&pol, NULL, NULL);
	assert_true(tb_privacy_symbol_is_address(p, "0x7f12deadbeef"));
	assert_true(tb_privacy_symbol_is_address(p, "ffffffffa13f2de5"));
	assert_false(tb_privacy_symbol_is_address(p, "deadbeef"));
	assert_false(tb_privacy_symbol_is_address(p, "do_sys_openat2"));
	assert_false(tb_privacy_symbol_is_address(p, "0x"));
	assert_false(tb_privacy_symbol_is_address(p, ""));
	tb_privacy_free(p);
}

/* ---- policy files ---- */

static void strict_policy_file_parses_to_the_strict_policy(void **state)
{
	char path[1024];
	tb_privacy_policy_t got, want;
	tb_err_t err = {{0}};

	(void)state;
	data_path("strict.conf", path, sizeof(path));
	if (tb_privacy_policy_load(path, &got, &err) != 0)
		fail_msg("load %s: %s", path, err.msg);
	strict_keyed_policy(&want);
	assert_memory_equal(&got, &want, sizeof(want));
}

static void relaxed_policy_file_turns_rules_off(void **state)
{
	char path[1024];
	tb_privacy_policy_t pol;
	tb_err_t err = {{0}};
	tb_runtime_event_t *in = sample_event();
	run_t r;

	(void)state;
	data_path("relaxed.conf", path, sizeof(path));
	if (tb_privacy_policy_load(path, &pol, &err) != 0)
		fail_msg("load %s: %s", path, err.msg);
	assert_false(pol.home_rewrite);
	assert_false(pol.keep_pod_metadata);
	assert_false(pol.hash_uid);
	assert_true(pol.hash_node);
	run_policy(&r, &pol, in);
	assert_string_equal(r.out.binary, "/home/alice/bin/app");
	assert_string_equal(r.out.uid_hash, "");
	assert_int_equal(strlen(r.out.node), 32);
	assert_null(r.out.container.pod);
	run_done(&r);
	sample_free(in);
}

static void expect_policy_error(const char *file, const char *fragment1, const char *fragment2)
{
	char path[1024];
	tb_privacy_policy_t pol;
	tb_err_t err = {{0}};

	data_path(file, path, sizeof(path));
	if (tb_privacy_policy_load(path, &pol, &err) == 0)
		fail_msg("%s: expected an error mentioning '%s', got success", file, fragment1);
	if (!strstr(err.msg, fragment1) || (fragment2 && !strstr(err.msg, fragment2)))
		fail_msg("%s: expected an error mentioning '%s' and '%s', got: %s", file, fragment1,
			 fragment2 ? fragment2 : "", err.msg);
}

static void policy_errors_name_file_line_and_key(void **state)
{
	(void)state;
	expect_policy_error("unknown_key.conf", "unknown_key.conf:3:", "unknown key 'drop_argz'");
	expect_policy_error("bad_bool.conf",
			    "bad_bool.conf:2:", "home_rewrite: expected true or false, got 'yes'");
	expect_policy_error("duplicate.conf", "duplicate.conf:3:", "'hash_uid' given twice");
	expect_policy_error("no_equals.conf", "no_equals.conf:2:", "expected 'key = value'");
	expect_policy_error("drop_args_false.conf",
			    "drop_args_false.conf:2:", "drop_args = false is not supported");
	expect_policy_error("no_key.conf", "no_key.conf", "no hash_key_file");
	expect_policy_error("short_key.conf", "short.key", "expected 32 raw bytes or 64 hex digits");
	expect_policy_error("missing.conf", "missing.conf", "No such file");
}

static void key_file_accepts_raw_and_hex(void **state)
{
	char dir[] = "/tmp/tb-test-privacy.XXXXXX", path[128];
	uint8_t key[TB_HASH_KEY_LEN];
	tb_err_t err = {{0}};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/raw.key", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(test_key, 1, sizeof(test_key), f), sizeof(test_key));
	fclose(f);
	memset(key, 0xee, sizeof(key));
	assert_int_equal(tb_privacy_key_load(path, key, &err), 0);
	assert_memory_equal(key, test_key, sizeof(key));
	unlink(path);
	rmdir(dir);
	data_path("test.key", path, sizeof(path));
	memset(key, 0xee, sizeof(key));
	assert_int_equal(tb_privacy_key_load(path, key, &err), 0);
	assert_memory_equal(key, test_key, sizeof(key));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(strict_output_holds_none_of_the_planted_values),
	    cmocka_unit_test(strict_rewrites_home_and_keeps_pod_metadata),
	    cmocka_unit_test(uid_node_and_exec_id_are_keyed_hashes),
	    cmocka_unit_test(without_a_key_hashed_fields_are_dropped),
	    cmocka_unit_test(every_rule_is_counted),
	    cmocka_unit_test(dropping_pod_metadata_keeps_image_and_ids),
	    cmocka_unit_test(home_path_parts_are_rewritten),
	    cmocka_unit_test(secrets_in_kept_strings_are_scrubbed),
	    cmocka_unit_test(address_only_symbols_are_recognized),
	    cmocka_unit_test(strict_policy_file_parses_to_the_strict_policy),
	    cmocka_unit_test(relaxed_policy_file_turns_rules_off),
	    cmocka_unit_test(policy_errors_name_file_line_and_key),
	    cmocka_unit_test(key_file_accepts_raw_and_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
