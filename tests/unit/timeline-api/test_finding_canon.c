/*
 * Unit tests for finding snapshots' building blocks: canonical JSON
 * (services/timeline-api/canonjson.c: key order, escaping, no whitespace,
 * refusal of reals and unsafe integers, sha256 ids) and the witness
 * primitives (snapshot.c: DSSE PAE bytes, seed files raw and hex, signatures
 * that verify over the PAE and fail after a changed byte).
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

#include "../../../services/timeline-api/canonjson.h"
#include "../../../services/timeline-api/snapshot.h"

static void check_canon(const char *in, const char *exp)
{
	json_t *v = json_loads(in, JSON_DECODE_ANY, NULL);
	tb_err_t err;
	size_t len;
	char *got;

	assert_non_null(v);
	tb_err_clear(&err);
	got = tb_canon_json(v, &len, &err);
	if (!got || strcmp(got, exp) != 0 || len != strlen(exp))
		fail_msg("%s: expected %s, got %s (%s)", in, exp, got ? got : "NULL", err.msg);
	free(got);
	json_decref(v);
}

static void members_are_sorted_and_whitespace_dropped(void **state)
{
	(void)state;
	check_canon("{ \"b\" : 1, \"a\" : [ 2 , {\"d\":null, \"c\":true} ], \"A\": false }",
		    "{\"A\":false,\"a\":[2,{\"c\":true,\"d\":null}],\"b\":1}");
	check_canon("{\"aa\":1,\"a\":2,\"ab\":3}", "{\"a\":2,\"aa\":1,\"ab\":3}");
	check_canon("[]", "[]");
	check_canon("{}", "{}");
}

static void strings_escape_only_what_rfc8785_escapes(void **state)
{
	(void)state;
	check_canon("\"q\\\" b\\\\ s/ \\n\\t\\r\\b\\f \\u0001 \\u001f é €\"",
		    "\"q\\\" b\\\\ s/ \\n\\t\\r\\b\\f \\u0001 \\u001f é €\"");
}

static void integers_print_plainly_and_reals_are_refused(void **state)
{
	json_t *r = json_real(1.5), *big = json_integer(INT64_C(9007199254740993));
	tb_err_t err;
	size_t len;

	(void)state;
	check_canon("[0, -1, 9007199254740992]", "[0,-1,9007199254740992]");
	tb_err_clear(&err);
	assert_null(tb_canon_json(r, &len, &err));
	if (!strstr(err.msg, "real"))
		fail_msg("expected a message about reals, got \"%s\"", err.msg);
	assert_null(tb_canon_json(big, &len, &err));
	json_decref(r);
	json_decref(big);
}

static void the_id_is_the_sha256_of_the_bytes(void **state)
{
	char id[72];

	(void)state;
	tb_canon_sha256("abc", 3, id);
	assert_string_equal(id, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void pae_follows_the_dsse_definition(void **state)
{
	size_t n;
	unsigned char *p =
	    tb_dsse_pae("application/vnd.in-toto+json", (const unsigned char *)"hello world", 11, &n);
	const char *exp = "DSSEv1 28 application/vnd.in-toto+json 11 hello world";

	(void)state;
	assert_non_null(p);
	if (n != strlen(exp) || memcmp(p, exp, n) != 0)
		fail_msg("expected \"%s\", got \"%.*s\"", exp, (int)n, p);
	free(p);
}

static char *write_tmp(const void *data, size_t n)
{
	char *path = strdup("/tmp/tb-test-seed.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

static void seed_files_raw_and_hex_give_the_same_key(void **state)
{
	unsigned char raw[32];
	char hex[] = "  4242424242424242424242424242424242424242424242424242424242424242\n";
	char *p1, *p2, *p3;
	tb_witness_key_t k1, k2, k3;
	tb_err_t err;

	(void)state;
	memset(raw, 0x42, sizeof(raw));
	p1 = write_tmp(raw, sizeof(raw));
	p2 = write_tmp(hex, strlen(hex));
	p3 = write_tmp("4242", 4);
	assert_int_equal(tb_witness_key_load(p1, &k1, &err), 0);
	assert_int_equal(tb_witness_key_load(p2, &k2, &err), 0);
	assert_memory_equal(k1.pk, k2.pk, sizeof(k1.pk));
	assert_string_equal(k1.keyid, k2.keyid);
	assert_int_equal(tb_witness_key_load(p3, &k3, &err), -1);
	if (!strstr(err.msg, "32-byte"))
		fail_msg("expected the message to name the 32-byte seed, got \"%s\"", err.msg);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	free(p1);
	free(p2);
	free(p3);
}

static void a_signature_over_the_pae_fails_after_any_changed_byte(void **state)
{
	unsigned char seed[32] = {1}, sig[crypto_sign_ed25519_BYTES], *pae;
	const char *body = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
	tb_witness_key_t k;
	size_t n;

	(void)state;
	assert_int_equal(tb_witness_key_from_seed(seed, &k), 0);
	pae = tb_dsse_pae(TB_WITNESS_PAYLOAD_TYPE, (const unsigned char *)body, strlen(body), &n);
	assert_non_null(pae);
	crypto_sign_ed25519_detached(sig, NULL, pae, n, k.sk);
	assert_int_equal(crypto_sign_ed25519_verify_detached(sig, pae, n, k.pk), 0);
	for (size_t i = 0; i < n; i++) {
		pae[i] ^= 1;
		if (crypto_sign_ed25519_verify_detached(sig, pae, n, k.pk) == 0)
			fail_msg("byte %zu changed: expected verification to fail, got success", i);
		pae[i] ^= 1;
	}
	free(pae);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(members_are_sorted_and_whitespace_dropped),
	    cmocka_unit_test(strings_escape_only_what_rfc8785_escapes),
	    cmocka_unit_test(integers_print_plainly_and_reals_are_refused),
	    cmocka_unit_test(the_id_is_the_sha256_of_the_bytes),
	    cmocka_unit_test(pae_follows_the_dsse_definition),
	    cmocka_unit_test(seed_files_raw_and_hex_give_the_same_key),
	    cmocka_unit_test(a_signature_over_the_pae_fails_after_any_changed_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
