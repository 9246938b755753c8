/*
 * Unit tests for the timeline-api request parsers (services/timeline-api/
 * requests.c): artifacts (embedded SBOM with exact-bytes sha256, explicit
 * binaries merged over the SBOM's), findings, our trace JSON (fields,
 * batches, numbers, times, deterministic event ids pinned against an
 * independent computation) and the StellaOps finding-scoped traces. Every
 * invalid field is rejected with its JSON path in the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../tb_test.h"
#include <jansson.h>

#include "tb/hash.h"
#include "../../../services/timeline-api/requests.h"

#define DIGEST "sha256:c7761e58969f7edd498186641b2021e8477e1bcd230de4cf3435242da4a40d14"
#define BID_APP "d5491e7e7124a22dd73fa746ba129c59f9dc6d5d"
#define BID_NEW "0123456789abcdef0123456789abcdef01234567"
#define PURL_SSL "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64"
/* sha256sum of cyclonedx-1.4-syft-image.json with and without its final newline */
#define SHA_CDX14_FILE "dc2eedfb699077fe4efc482c3a34ec05d779d41db370340d8eeb561a91dbf3ac"
#define SHA_CDX14_NO_NL "fb1278b1a790d0a07c390c1323e3459599cb8f257150c4ccee68ebdea6ad0899"

static char *read_fixture(const char *name, size_t *len)
{
	return tb_test_repo_file("tests/data/sbom", name, len);
}

static void check_str(const char *what, const char *exp, const char *got)
{
	if ((!exp && !got) || (exp && got && strcmp(exp, got) == 0))
		return;
	fail_msg("%s: expected %s%s%s, got %s%s%s", what, exp ? "\"" : "", exp ? exp : "NULL",
		 exp ? "\"" : "", got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
}

static void check_msg(const char *exp, const tb_err_t *err)
{
	if (strcmp(exp, err->msg) != 0)
		fail_msg("expected error \"%s\", got \"%s\"", exp, err->msg);
}

static char *hex_id(const uint8_t id[TB_EVENT_ID_LEN], char out[33])
{
	tb_hex(id, TB_EVENT_ID_LEN, out);
	return out;
}

/* ==== artifacts ==== */

/* {"digest": D, "sbom": <fixture bytes without the final newline>, <extra>} */
static char *artifact_body_with_fixture(const char *extra)
{
	size_t len;
	char *sbom = read_fixture("cyclonedx-1.4-syft-image.json", &len);
	char *body;

	while (len && sbom[len - 1] == '\n')
		sbom[--len] = '\0';
	assert_true(asprintf(&body, "{\"digest\": \"%s\",\n \"sbom\": %s%s}", DIGEST, sbom, extra) > 0);
	free(sbom);
	return body;
}

static void parse_artifact_ok(const char *body, tb_artifact_t *a)
{
	tb_err_t err = {{0}};

	memset(a, 0, sizeof(*a));
	if (tb_req_parse_artifact(body, strlen(body), NULL, a, &err) != 0)
		fail_msg("expected success, got error: %s", err.msg);
}

static void expect_artifact_error(const char *body, const char *msg)
{
	tb_artifact_t a = {0};
	tb_err_t err = {{0}};

	if (tb_req_parse_artifact(body, strlen(body), NULL, &a, &err) != -1)
		fail_msg("expected error \"%s\", got success", msg);
	check_msg(msg, &err);
	assert_null(a.digest);
	assert_int_equal(a.n_binaries, 0);
}

static void artifact_embedded_sbom_hashed_over_its_exact_bytes(void **state)
{
	char *body = artifact_body_with_fixture("");
	tb_artifact_t a;

	(void)state;
	parse_artifact_ok(body, &a);
	check_str("sbom_sha256", SHA_CDX14_NO_NL, a.sbom_sha256);
	check_str("sbom_format", "cyclonedx-1.4", a.sbom_format);
	check_str("digest", DIGEST, a.digest);
	check_str("name", "registry.example.com/shop/checkout", a.name);
	assert_int_equal(a.n_components, 8);
	assert_int_equal(a.n_binaries, 2);
	tb_artifact_clear(&a);
	free(body);
}

static void artifact_sbom_as_string_hashed_over_the_string(void **state)
{
	size_t len;
	char *sbom = read_fixture("cyclonedx-1.4-syft-image.json", &len);
	json_t *o = json_pack("{s:s,s:s%}", "digest", DIGEST, "sbom", sbom, len);
	char *body = json_dumps(o, 0);
	tb_artifact_t a;

	(void)state;
	parse_artifact_ok(body, &a);
	check_str("sbom_sha256", SHA_CDX14_FILE, a.sbom_sha256);
	assert_int_equal(a.n_binaries, 2);
	tb_artifact_clear(&a);
	free(body);
	json_decref(o);
	free(sbom);
}

static void artifact_explicit_binaries_win_over_the_sbom(void **state)
{
	char *body = artifact_body_with_fixture(
	    ",\n \"name\": \"checkout\", \"version\": \"1.4.2\",\n \"binaries\": ["
	    "{\"path\": \"/app/checkout\", \"build_id\": \"" BID_NEW "\"},"
	    "{\"path\": \"/usr/local/bin/python3.11\", \"purl\": \"pkg:generic/cpython@3.11.2\"},"
	    "{\"path\": \"/usr/lib/x86_64-linux-gnu/libssl.so.3\", \"build_id\": \"AABBCCDDEEFF00112233\","
	    " \"purl\": \"" PURL_SSL "\"}]");
	tb_artifact_t a;

	(void)state;
	parse_artifact_ok(body, &a);
	check_str("name", "checkout", a.name);
	check_str("version", "1.4.2", a.version);
	assert_int_equal(a.n_binaries, 3);
	/* The build-id is replaced; the SBOM's owner stays where the list says nothing. */
	check_str("binaries[0].path", "/usr/local/bin/python3.11", a.binaries[0].path);
	check_str("binaries[0].build_id", NULL, a.binaries[0].build_id);
	check_str("binaries[0].purl", "pkg:generic/cpython@3.11.2", a.binaries[0].purl);
	check_str("binaries[1].path", "/app/checkout", a.binaries[1].path);
	check_str("binaries[1].build_id", BID_NEW, a.binaries[1].build_id);
	check_str("binaries[1].purl", "pkg:golang/example.com/shop/checkout@v1.4.2", a.binaries[1].purl);
	check_str("binaries[2].path", "/usr/lib/x86_64-linux-gnu/libssl.so.3", a.binaries[2].path);
	check_str("binaries[2].build_id", "aabbccddeeff00112233", a.binaries[2].build_id);
	check_str("binaries[2].purl", PURL_SSL, a.binaries[2].purl);
	tb_artifact_clear(&a);
	free(body);
}

static void artifact_binaries_without_sbom(void **state)
{
	const char *body = "{\"digest\":\"" DIGEST "\",\"name\":\"app\",\"binaries\":["
			   "{\"build_id\":\"" BID_APP "\",\"purl\":\"pkg:generic/app@1\"},"
			   "{\"build_id\":\"" BID_APP "\",\"path\":\"/usr/bin/app\"}]}";
	tb_artifact_t a;

	(void)state;
	parse_artifact_ok(body, &a);
	assert_null(a.sbom_format);
	assert_null(a.sbom_sha256);
	/* Two entries, one binary: the second gives the path of the first's build-id. */
	assert_int_equal(a.n_binaries, 1);
	check_str("binaries[0].path", "/usr/bin/app", a.binaries[0].path);
	check_str("binaries[0].build_id", BID_APP, a.binaries[0].build_id);
	check_str("binaries[0].purl", "pkg:generic/app@1", a.binaries[0].purl);
	tb_artifact_clear(&a);
}

static void artifact_pathless_entry_merges_by_build_id(void **state)
{
	char *body = artifact_body_with_fixture(", \"binaries\": [{\"build_id\": \"" BID_APP
						"\", \"purl\": \"pkg:generic/acme/checkout@1.4.2\"}]");
	tb_artifact_t a;

	(void)state;
	parse_artifact_ok(body, &a);
	assert_int_equal(a.n_binaries, 2);
	check_str("binaries[1].path", "/app/checkout", a.binaries[1].path);
	check_str("binaries[1].purl", "pkg:generic/acme/checkout@1.4.2", a.binaries[1].purl);
	tb_artifact_clear(&a);
	free(body);
}

static void artifact_body_that_is_an_sbom_takes_its_digest(void **state)
{
	size_t len;
	char *body = read_fixture("cyclonedx-1.5-evidence.json", &len);
	tb_artifact_t a = {0};
	tb_err_t err = {{0}};

	(void)state;
	if (tb_req_parse_artifact(body, len, NULL, &a, &err) != 0)
		fail_msg("expected success, got error: %s", err.msg);
	check_str("digest", "sha256:c497e9a809d2d9031a82b318b8556e31a1d5c5de715f53c1cfc5cf1ccc56443e",
		  a.digest);
	check_str("sbom_sha256", "5964829ce54ba302b7308e4ab77ec8d7dab1e115f463c561f632f04c21cd651b",
		  a.sbom_sha256);
	tb_artifact_clear(&a);
	free(body);
}

static void artifact_rejects_bare_sbom_without_digest(void **state)
{
	(void)state;
	expect_artifact_error(
	    "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"components\":[]}",
	    "$: no artifact digest in the SBOM (send {\"digest\": ..., \"sbom\": ...} instead)");
}

static void artifact_rejects_missing_digest(void **state)
{
	(void)state;
	expect_artifact_error("{\"binaries\":[]}", "digest: missing required field");
}

static void artifact_rejects_malformed_digests(void **state)
{
	(void)state;
	expect_artifact_error("{\"digest\":\"sha256:abc\",\"binaries\":[]}",
			      "digest: sha256 digest must have 64 hex digits, got 3");
	expect_artifact_error("{\"digest\":\"md5:00\",\"binaries\":[]}",
			      "digest: expected \"sha256:\" followed by 64 lowercase hex digits");
	expect_artifact_error(
	    "{\"digest\":\"sha256:C7761E58969F7EDD498186641B2021E8477E1BCD230DE4CF3435242DA4A40D14\","
	    "\"binaries\":[]}",
	    "digest: sha256 digest must be lowercase hex");
	expect_artifact_error("{\"digest\":7,\"binaries\":[]}", "digest: expected string, got number");
}

static void artifact_rejects_body_without_sbom_or_binaries(void **state)
{
	(void)state;
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"name\":\"x\"}",
			      "$: expected \"sbom\" or \"binaries\"");
}

static void artifact_sbom_errors_carry_the_sbom_path(void **state)
{
	(void)state;
	expect_artifact_error(
	    "{\"digest\":\"" DIGEST "\",\"sbom\":{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\","
	    "\"components\":[{\"type\":\"library\",\"name\":\"a\",\"purl\":\"pkg:a\"}]}}",
	    "sbom.components[0].purl: invalid purl \"pkg:a\": missing '/' between type and name");
	expect_artifact_error(
	    "{\"digest\":\"" DIGEST "\",\"sbom\":{\"spdxVersion\":\"SPDX-2.1\"}}",
	    "sbom.spdxVersion: unsupported SPDX version \"SPDX-2.1\" (supported: SPDX-2.3)");
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"sbom\":[1]}",
			      "sbom: expected SBOM object or string, got array");
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"sbom\":\"<xml/>\"}",
			      "sbom: string is not a JSON document");
}

static void artifact_rejects_invalid_binaries(void **state)
{
	(void)state;
	expect_artifact_error(
	    "{\"digest\":\"" DIGEST "\",\"binaries\":[{\"path\":\"/a\",\"build_id\":\"" BID_APP "\"},"
	    "{\"path\":\"/b\",\"build_id\":\"xyz\"}]}",
	    "binaries[1].build_id: build-id must be 8..128 hex digits (4..64 bytes, even count), got 3");
	expect_artifact_error("{\"digest\":\"" DIGEST
			      "\",\"binaries\":[{\"path\":\"bin/a\",\"build_id\":\"" BID_APP "\"}]}",
			      "binaries[0].path: must be an absolute path");
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"binaries\":[{\"path\":\"/bin/a\"}]}",
			      "binaries[0]: expected \"build_id\" or \"purl\" (a path alone says nothing)");
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"binaries\":[{\"purl\":\"pkg:generic/a@1\"}]}",
			      "binaries[0]: expected \"path\" or \"build_id\"");
	expect_artifact_error("{\"digest\":\"" DIGEST
			      "\",\"binaries\":[{\"path\":\"/a\",\"purl\":\"npm/x\"}]}",
			      "binaries[0].purl: invalid purl \"npm/x\": scheme must be \"pkg:\"");
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"binaries\":{}}",
			      "binaries: expected array, got object");
	expect_artifact_error("{\"digest\":\"" DIGEST "\",\"binaries\":[\"/bin/a\"]}",
			      "binaries[0]: expected object");
}

static void artifact_rejects_more_binaries_than_the_limit(void **state)
{
	tb_req_limits_t lim;
	tb_artifact_t a = {0};
	tb_err_t err = {{0}};
	const char *body =
	    "{\"digest\":\"" DIGEST "\",\"binaries\":[{\"path\":\"/a\",\"purl\":\"pkg:generic/a@1\"},"
	    "{\"path\":\"/b\",\"purl\":\"pkg:generic/b@1\"}]}";

	(void)state;
	tb_req_limits_default(&lim);
	lim.sbom.max_binaries = 1;
	assert_int_equal(tb_req_parse_artifact(body, strlen(body), &lim, &a, &err), -1);
	check_msg("binaries[1]: more than 1 binaries (limit)", &err);
}

static void artifact_rejects_text_that_is_not_json(void **state)
{
	tb_artifact_t a = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_req_parse_artifact("digest=x", 8, NULL, &a, &err), -1);
	if (strncmp(err.msg, "$: not JSON: ", 13) != 0)
		fail_msg("expected error starting with \"$: not JSON: \", got \"%s\"", err.msg);
}

/* ==== findings ==== */

static void parse_finding_ok(const char *body, tb_finding_t *f)
{
	tb_err_t err = {{0}};

	memset(f, 0, sizeof(*f));
	if (tb_req_parse_finding(body, strlen(body), NULL, f, &err) != 0)
		fail_msg("expected success, got error: %s", err.msg);
}

static void expect_finding_error(const char *body, const char *msg)
{
	tb_finding_t f = {0};
	tb_err_t err = {{0}};

	if (tb_req_parse_finding(body, strlen(body), NULL, &f, &err) != -1)
		fail_msg("expected error \"%s\", got success", msg);
	check_msg(msg, &err);
	assert_null(f.finding_id);
	assert_null(f.symbols);
}

static void finding_parsed_with_symbols_deduplicated(void **state)
{
	tb_finding_t f;

	(void)state;
	parse_finding_ok("{\"id\":\"F-2024-0017\",\"vuln_id\":\"CVE-2024-12797\",\"purl\":\"" PURL_SSL "\","
			 "\"artifact_digest\":\"" DIGEST
			 "\",\"symbols\":[\"SSL_read\",\"ssl3_read_bytes\",\"SSL_read\"]}",
			 &f);
	check_str("finding_id", "F-2024-0017", f.finding_id);
	check_str("vuln_id", "CVE-2024-12797", f.vuln_id);
	check_str("purl", PURL_SSL, f.purl);
	check_str("artifact_digest", DIGEST, f.artifact_digest);
	assert_int_equal(f.n_symbols, 2);
	check_str("symbols[0]", "SSL_read", f.symbols[0]);
	check_str("symbols[1]", "ssl3_read_bytes", f.symbols[1]);
	assert_null(f.tenant);
	tb_finding_clear(&f);
}

static void finding_id_may_be_given_as_finding_id(void **state)
{
	tb_finding_t f;

	(void)state;
	parse_finding_ok(
	    "{\"finding_id\":\"3f1c9a52-0b7e-4d1a-9c55-2f7d0e8b6a41\",\"vuln_id\":\"GHSA-xq3w-v528-46rv\","
	    "\"purl\":\"pkg:npm/%40angular/core@17.0.1\"}",
	    &f);
	check_str("finding_id", "3f1c9a52-0b7e-4d1a-9c55-2f7d0e8b6a41", f.finding_id);
	assert_null(f.artifact_digest);
	assert_int_equal(f.n_symbols, 0);
	tb_finding_clear(&f);
}

static void finding_accepts_other_advisory_prefixes(void **state)
{
	static const char *ids[] = {"GO-2024-2687", "PYSEC-2024-48",  "RUSTSEC-2024-0336",
				    "OSV-2020-111", "RHSA-2024:1234", "DSA-5678-1"};
	char body[512];
	tb_finding_t f;

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"id\":\"f%zu\",\"vuln_id\":\"%s\",\"purl\":\"pkg:golang/x/y@1\"}", i, ids[i]);
		parse_finding_ok(body, &f);
		check_str("vuln_id", ids[i], f.vuln_id);
		tb_finding_clear(&f);
	}
}

static void finding_rejects_missing_or_conflicting_id(void **state)
{
	(void)state;
	expect_finding_error("{\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\"}",
			     "id: missing required field (or \"finding_id\")");
	expect_finding_error(
	    "{\"id\":\"a\",\"finding_id\":\"b\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\"}",
	    "finding_id: differs from \"id\"");
	expect_finding_error("{\"id\":\"a/b\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\"}",
			     "id: character 0x2f at offset 1 is not allowed (use [A-Za-z0-9._:@+~-])");
	expect_finding_error("{\"id\":\"\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\"}",
			     "id: must be 1..256 characters, got 0");
}

static void finding_rejects_malformed_vuln_ids(void **state)
{
	(void)state;
	expect_finding_error("{\"id\":\"a\",\"purl\":\"pkg:generic/a@1\"}",
			     "vuln_id: missing required field");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-24-1234\",\"purl\":\"pkg:generic/a@1\"}",
			     "vuln_id: \"CVE-24-1234\" is not a CVE id (CVE-YYYY-NNNN)");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-2024-123\",\"purl\":\"pkg:generic/a@1\"}",
			     "vuln_id: \"CVE-2024-123\" is not a CVE id (CVE-YYYY-NNNN)");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"GHSA-xq3w-v528-46r\",\"purl\":\"pkg:generic/a@1\"}",
			     "vuln_id: \"GHSA-xq3w-v528-46r\" is not a GHSA id (GHSA-xxxx-xxxx-xxxx)");
	expect_finding_error(
	    "{\"id\":\"a\",\"vuln_id\":\"GHSA-aaaa-bbbb-cccc\",\"purl\":\"pkg:generic/a@1\"}",
	    "vuln_id: \"GHSA-aaaa-bbbb-cccc\" is not a GHSA id (GHSA-xxxx-xxxx-xxxx)");
	expect_finding_error(
	    "{\"id\":\"a\",\"vuln_id\":\"cve-2024-1234\",\"purl\":\"pkg:generic/a@1\"}",
	    "vuln_id: \"cve-2024-1234\" is not a vulnerability id (CVE-..., GHSA-..., or PREFIX-id)");
}

static void finding_rejects_bad_purl_digest_and_symbols(void **state)
{
	(void)state;
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-2024-1234\"}", "purl: missing required field");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/@1\"}",
			     "purl: invalid purl \"pkg:generic/@1\": name is empty");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\","
			     "\"artifact_digest\":\"sha256:12\"}",
			     "artifact_digest: sha256 digest must have 64 hex digits, got 2");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\","
			     "\"symbols\":[\"SSL_read\",3]}",
			     "symbols[1]: expected non-empty string of at most 4096 bytes");
	expect_finding_error("{\"id\":\"a\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\","
			     "\"symbols\":\"SSL_read\"}",
			     "symbols: expected array, got string");
	expect_finding_error("[]", "$: expected object");
}

static void finding_rejects_more_symbols_than_the_limit(void **state)
{
	const char *body = "{\"id\":\"a\",\"vuln_id\":\"CVE-2024-1234\",\"purl\":\"pkg:generic/a@1\","
			   "\"symbols\":[\"a\",\"b\",\"c\"]}";
	tb_req_limits_t lim;
	tb_finding_t f = {0};
	tb_err_t err = {{0}};

	(void)state;
	tb_req_limits_default(&lim);
	lim.max_symbols = 2;
	assert_int_equal(tb_req_parse_finding(body, strlen(body), &lim, &f, &err), -1);
	check_msg("symbols: more than 2 symbols (limit)", &err);
}

/* ==== our trace JSON ==== */

#define EVENT_FULL                                                                                           \
	"{\"node\":\"worker-3\",\"time\":\"2025-01-21T08:30:00.123456789+01:00\",\"kind\":\"uprobe\","       \
	"\"process\":{\"pid\":4242,\"tid\":4243,\"uid\":1000,\"binary\":\"/app/checkout\","                  \
	"\"build_id\":\"D5491E7E7124A22DD73FA746BA129C59F9DC6D5D\",\"exec_id\":"                             \
	"\"d29ya2VyLTM6MTIzNDU2Nzg5OjQyNDI=\","                                                              \
	"\"comm\":\"checkout\"},"                                                                            \
	"\"container\":{\"id\":\"3b1f0c2d9e8a\",\"image\":\"registry.example.com/shop/checkout:1.4.2\","     \
	"\"image_digest\":\"" DIGEST "\",\"pod\":\"checkout-7d9f8-abcde\",\"namespace\":\"shop\","           \
	"\"workload\":\"checkout\",\"workload_kind\":\"Deployment\"},"                                       \
	"\"count\":3,\"hook\":\"SSL_read\",\"policy\":\"watch-openssl\","                                    \
	"\"kernel_stack\":[{\"symbol\":\"do_syscall_64\",\"offset\":\"0x5c\"}],"                             \
	"\"user_stack\":[{\"module\":\"/usr/lib/x86_64-linux-gnu/libssl.so.3\","                             \
	"\"build_id\":\"8abdeb7ce323e028dbcd01989fb067ae6507da69\",\"file_offset\":\"0x3f2a0\","             \
	"\"symbol\":\"SSL_read\",\"address\":\"0xffffffffff600000\"},"                                       \
	"{\"module\":\"/app/checkout\",\"file_offset\":74565}]}"

static void parse_traces_ok(const char *body, const char *tenant, tb_event_list_t *l)
{
	tb_err_t err = {{0}};

	memset(l, 0, sizeof(*l));
	if (tb_req_parse_traces(body, strlen(body), tenant, NULL, l, &err) != 0)
		fail_msg("expected success, got error: %s", err.msg);
}

static void expect_trace_error(const char *body, const char *msg)
{
	tb_event_list_t l = {0};
	tb_err_t err = {{0}};

	if (tb_req_parse_traces(body, strlen(body), "t1", NULL, &l, &err) != -1)
		fail_msg("expected error \"%s\", got success", msg);
	check_msg(msg, &err);
	assert_int_equal(l.n, 0);
	assert_null(l.events);
}

static void trace_event_fields_parsed(void **state)
{
	tb_event_list_t l;
	tb_runtime_event_t *ev;

	(void)state;
	parse_traces_ok(EVENT_FULL, "t1", &l);
	assert_int_equal(l.n, 1);
	ev = &l.events[0];
	check_str("tenant", "t1", ev->tenant);
	check_str("source", "api", ev->source);
	check_str("kind", "uprobe", ev->kind);
	check_str("node", "worker-3", ev->node);
	assert_int_equal(ev->ts_ns, 1737444600123456789LL); /* 07:30:00.123456789Z */
	assert_int_equal(ev->process.pid, 4242);
	assert_int_equal(ev->process.tid, 4243);
	assert_int_equal(ev->process.uid, 1000);
	check_str("process.binary", "/app/checkout", ev->process.binary);
	check_str("process.build_id", BID_APP, ev->process.binary_build_id);
	check_str("process.exec_id", "d29ya2VyLTM6MTIzNDU2Nzg5OjQyNDI=", ev->process.exec_id);
	check_str("process.comm", "checkout", ev->process.comm);
	check_str("container.id", "3b1f0c2d9e8a", ev->container.id);
	check_str("container.image_digest", DIGEST, ev->container.image_digest);
	check_str("container.namespace", "shop", ev->container.namespace_);
	check_str("container.workload_kind", "Deployment", ev->container.workload_kind);
	assert_int_equal(ev->count, 3);
	check_str("hook", "SSL_read", ev->hook);
	check_str("policy", "watch-openssl", ev->policy);
	assert_int_equal(ev->n_kernel_frames, 1);
	check_str("kernel[0].symbol", "do_syscall_64", ev->kernel_frames[0].symbol);
	assert_int_equal(ev->kernel_frames[0].offset, 0x5c);
	assert_int_equal(ev->n_user_frames, 2);
	check_str("user[0].module", "/usr/lib/x86_64-linux-gnu/libssl.so.3", ev->user_frames[0].module);
	check_str("user[0].build_id", "8abdeb7ce323e028dbcd01989fb067ae6507da69",
		  ev->user_frames[0].build_id);
	assert_int_equal(ev->user_frames[0].offset, 0x3f2a0);
	assert_int_equal(ev->user_frames[0].has_address, 1);
	assert_true(ev->user_frames[0].address == 0xffffffffff600000ULL);
	check_str("user[1].symbol", NULL, ev->user_frames[1].symbol);
	assert_int_equal(ev->user_frames[1].offset, 74565);
	assert_int_equal(ev->user_frames[1].has_address, 0);
	tb_event_list_clear(&l);
}

static void trace_minimal_event_gets_defaults(void **state)
{
	tb_event_list_t l;

	(void)state;
	parse_traces_ok("{\"node\":\"n\",\"ts_ns\":\"1737444600000000000\",\"kind\":\"exec\"}", "t1", &l);
	assert_int_equal(l.events[0].ts_ns, 1737444600000000000LL);
	assert_int_equal(l.events[0].count, 1);
	assert_int_equal(l.events[0].process.uid, -1);
	assert_int_equal(l.events[0].n_user_frames, 0);
	assert_null(l.events[0].user_frames);
	tb_event_list_clear(&l);
}

/* Pinned: BLAKE2b-128 of the framed ("api.event.v1", "t1", canonical JSON),
 * computed independently with Python's hashlib. */
static void trace_event_id_pinned(void **state)
{
	tb_event_list_t l;
	char hex[33];

	(void)state;
	parse_traces_ok(
	    "{ \"user_stack\": [ {\"symbol\": \"main\", \"module\": \"/usr/bin/app\", \"file_offset\": "
	    "\"0x1a2b\"} ],"
	    "  \"kind\": \"sample\", \"time\": \"2025-01-21T07:30:00.5Z\", \"node\": \"worker-3\" }",
	    "t1", &l);
	check_str("event_id", "fd2d4a050fb17ea4f7adcdfbc209d214", hex_id(l.events[0].event_id, hex));
	assert_int_equal(l.events[0].ts_ns, 1737444600500000000LL);
	tb_event_list_clear(&l);
}

static void trace_event_id_ignores_key_order_and_whitespace(void **state)
{
	tb_event_list_t a, b;

	(void)state;
	parse_traces_ok("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":5,\"process\":{\"pid\":1,\"tid\":2}}",
			"t1", &a);
	parse_traces_ok(
	    "{ \"process\" : { \"tid\" : 2 , \"pid\" : 1 } , \"ts_ns\" : 5 , \"kind\" : \"sample\" ,\n"
	    "\"node\" : \"n\" }",
	    "t1", &b);
	assert_memory_equal(a.events[0].event_id, b.events[0].event_id, TB_EVENT_ID_LEN);
	tb_event_list_clear(&a);
	tb_event_list_clear(&b);
}

static void trace_event_id_depends_on_tenant_and_content(void **state)
{
	tb_event_list_t a, b, c;

	(void)state;
	parse_traces_ok("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":5}", "t1", &a);
	parse_traces_ok("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":5}", "t2", &b);
	parse_traces_ok("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":6}", "t1", &c);
	assert_memory_not_equal(a.events[0].event_id, b.events[0].event_id, TB_EVENT_ID_LEN);
	assert_memory_not_equal(a.events[0].event_id, c.events[0].event_id, TB_EVENT_ID_LEN);
	tb_event_list_clear(&a);
	tb_event_list_clear(&b);
	tb_event_list_clear(&c);
}

static void trace_explicit_event_id_wins(void **state)
{
	tb_event_list_t l;
	char hex[33];

	(void)state;
	parse_traces_ok("{\"event_id\":\"00112233445566778899AABBCCDDEEFF\",\"node\":\"n\",\"kind\":\"exit\","
			"\"ts_ns\":1}",
			"t1", &l);
	check_str("event_id", "00112233445566778899aabbccddeeff", hex_id(l.events[0].event_id, hex));
	tb_event_list_clear(&l);
}

static void trace_batch_and_array_forms(void **state)
{
	tb_event_list_t a, b;

	(void)state;
	parse_traces_ok("{\"events\":[{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1},"
			"{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":2}]}",
			"t1", &a);
	parse_traces_ok("[{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1},{\"node\":\"n\",\"kind\":"
			"\"sample\",\"ts_ns\":2}]",
			"t1", &b);
	assert_int_equal(a.n, 2);
	assert_int_equal(b.n, 2);
	assert_int_equal(a.events[1].ts_ns, 2);
	/* The id is over the event object, not the envelope around it. */
	assert_memory_equal(a.events[1].event_id, b.events[1].event_id, TB_EVENT_ID_LEN);
	assert_memory_not_equal(a.events[0].event_id, a.events[1].event_id, TB_EVENT_ID_LEN);
	tb_event_list_clear(&a);
	tb_event_list_clear(&b);
}

static void trace_error_names_the_batch_field(void **state)
{
	(void)state;
	expect_trace_error(
	    "{\"events\":[{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1},"
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":2},"
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":3,\"user_stack\":[{\"module\":\"a\","
	    "\"file_offset\":-16}]}]}",
	    "events[2].user_stack[0].file_offset: expected non-negative integer");
	expect_trace_error(
	    "[{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1},{\"kind\":\"sample\",\"ts_ns\":1}]",
	    "$[1].node: missing required field");
}

static void trace_rejects_bad_numbers(void **state)
{
	(void)state;
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"user_stack\":[{\"module\":\"a\","
	    "\"file_offset\":\"0xzz\"}]}",
	    "user_stack[0].file_offset: expected non-negative integer");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"user_stack\":[{\"module\":\"a\","
	    "\"file_offset\":1.5}]}",
	    "user_stack[0].file_offset: expected non-negative integer");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"user_stack\":[{\"module\":\"a\","
	    "\"address\":\"0x1ffffffffffffffff\"}]}",
	    "user_stack[0].address: expected non-negative integer");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"process\":{\"pid\":4294967296}}",
	    "process.pid: expected integer 0..4294967295");
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"count\":0}",
			   "count: expected integer >= 1");
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":\"12ab\"}",
			   "ts_ns: expected non-negative integer");
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":\"9223372036854775808\"}",
			   "ts_ns: expected integer below 2^63");
}

static void trace_rejects_bad_time(void **state)
{
	(void)state;
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\"}",
			   "time: missing required field (or \"ts_ns\")");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"time\":\"2025-01-21T07:30:00Z\"}",
	    "ts_ns: give either \"time\" or \"ts_ns\", not both");
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\",\"time\":\"2025-02-30T07:30:00Z\"}",
			   "time: expected RFC 3339 date-time (e.g. 2025-01-21T07:30:00.123Z), got "
			   "\"2025-02-30T07:30:00Z\"");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"time\":\"2025-01-21 07:30:00\"}",
	    "time: expected RFC 3339 date-time (e.g. 2025-01-21T07:30:00.123Z), got \"2025-01-21 07:30:00\"");
}

static void trace_rejects_bad_fields(void **state)
{
	(void)state;
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"syscall\",\"ts_ns\":1}",
	    "kind: unknown kind \"syscall\" (expected sample, uprobe, uretprobe, kprobe, kretprobe, "
	    "tracepoint, lsm, usdt, exec, exit or load)");
	expect_trace_error("{\"node\":\"\",\"kind\":\"sample\",\"ts_ns\":1}", "node: must not be empty");
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"event_id\":\"abc\"}",
			   "event_id: expected 32 hex digits");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"user_stack\":[{\"file_offset\":1}]}",
	    "user_stack[0]: frame needs \"module\", \"build_id\" or \"symbol\"");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"user_stack\":[{\"module\":\"a\","
	    "\"build_id\":\"xyz\"}]}",
	    "user_stack[0].build_id: build-id must be 8..128 hex digits (4..64 bytes, even count), got 3");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"kernel_stack\":[{\"offset\":1}]}",
	    "kernel_stack[0].symbol: missing required field");
	expect_trace_error(
	    "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"container\":{\"image_digest\":\"latest\"}}",
	    "container.image_digest: expected \"sha256:\" followed by 64 lowercase hex digits");
	expect_trace_error("{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"process\":[]}",
			   "process: expected object, got array");
	expect_trace_error("{\"events\":[]}", "events: expected at least one event");
	expect_trace_error("{\"events\":{}}", "events: expected array, got object");
	expect_trace_error("\"sample\"",
			   "$: expected an event object, {\"events\": [...]} or an array of events");
}

static void trace_rejects_stack_longer_than_max_frames(void **state)
{
	char *body = malloc(32 * (TB_MAX_FRAMES + 1) + 128);
	size_t n;

	(void)state;
	n = (size_t)sprintf(body, "{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1,\"user_stack\":[");
	for (int i = 0; i <= TB_MAX_FRAMES; i++)
		n += (size_t)sprintf(body + n, "%s{\"symbol\":\"f%d\"}", i ? "," : "", i);
	sprintf(body + n, "]}");
	expect_trace_error(body, "user_stack: more than 127 frames (limit)");
	free(body);
}

static void trace_rejects_more_events_than_the_limit(void **state)
{
	const char *body = "[{\"node\":\"n\",\"kind\":\"sample\",\"ts_ns\":1},{\"node\":\"n\",\"kind\":"
			   "\"sample\",\"ts_ns\":2}]";
	tb_req_limits_t lim;
	tb_event_list_t l = {0};
	tb_err_t err = {{0}};

	(void)state;
	tb_req_limits_default(&lim);
	lim.max_events = 1;
	assert_int_equal(tb_req_parse_traces(body, strlen(body), "t1", &lim, &l, &err), -1);
	check_msg("$: more than 1 events (limit)", &err);
}

static void trace_json_told_apart_from_tetragon(void **state)
{
	/* A Tetragon export line (shape as in docs/TETRAGON.md), two of them as NDJSON. */
	static const char *tetragon =
	    "{\"process_exec\":{\"process\":{\"exec_id\":\"a2luZDo5MDk=\",\"pid\":909,\"binary\":\"/usr/bin/"
	    "curl\"}},"
	    "\"node_name\":\"kind-control-plane\",\"time\":\"2024-04-22T13:12:04.013585797Z\"}";
	char ndjson[1024];

	(void)state;
	snprintf(ndjson, sizeof(ndjson), "%s\n%s\n", tetragon, tetragon);
	assert_int_equal(tb_req_is_trace_json(EVENT_FULL, strlen(EVENT_FULL)), 1);
	assert_int_equal(tb_req_is_trace_json("{\"events\":[]}", 13), 1);
	assert_int_equal(tb_req_is_trace_json("[{}]", 4), 1);
	assert_int_equal(tb_req_is_trace_json(tetragon, strlen(tetragon)), 0);
	assert_int_equal(tb_req_is_trace_json(ndjson, strlen(ndjson)), 0);
	assert_int_equal(tb_req_is_trace_json("not json", 8), 0);
}

/* ==== RFC 3339 ==== */

static void rfc3339_times_converted_to_utc_ns(void **state)
{
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2025-01-21T07:30:00Z", 1737444600000000000LL},
	    {"2025-01-21t07:30:00.5z", 1737444600500000000LL},
	    {"2025-01-21T08:30:00.123456789+01:00", 1737444600123456789LL},
	    {"2025-01-21T02:00:00-05:30", 1737444600000000000LL},
	    {"2024-02-29T23:59:59Z", 1709251199000000000LL},
	    {"2025-01-21T07:30:00.1234567891Z", 1737444600123456789LL}, /* past ns: truncated */
	};
	int64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (tb_req_parse_rfc3339(ok[i].s, &ns) != 0)
			fail_msg("\"%s\": expected %lld, got rejection", ok[i].s, (long long)ok[i].ns);
		if (ns != ok[i].ns)
			fail_msg("\"%s\": expected %lld, got %lld", ok[i].s, (long long)ok[i].ns,
				 (long long)ns);
	}
}

static void rfc3339_malformed_rejected(void **state)
{
	static const char *bad[] = {
	    "2023-02-29T00:00:00Z",  "2025-13-01T00:00:00Z",
	    "2025-01-21T24:00:00Z",  "2025-01-21T07:30:00",
	    "2025-01-21T07:30:00.Z", "2025-01-21T07:30:00+0100",
	    "1969-12-31T23:59:59Z",  "2262-04-12T00:00:00Z",
	    "2025-1-21T07:30:00Z",   "",
	};
	int64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tb_req_parse_rfc3339(bad[i], &ns) != -1)
			fail_msg("\"%s\": expected rejection, got %lld", bad[i], (long long)ns);
}

/* ==== StellaOps finding-scoped traces ==== */

#define STELLA_BODY                                                                                          \
	"{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"" PURL_SSL "\","                             \
	"\"frames\":[{\"symbol\":\"SSL_read\",\"buildId\":\"8abdeb7ce323e028dbcd01989fb067ae6507da69\","     \
	"\"module\":\"libssl.so.3\",\"fileOffset\":\"0x3f2a0\"}],"                                           \
	"\"hits\":42,\"observedAt\":\"2025-01-21T07:30:00Z\",\"node\":\"worker-3\"}"

static void parse_stella_ok(const char *id, const char *body, const char *tenant, tb_finding_trace_t *t)
{
	tb_err_t err = {{0}};

	memset(t, 0, sizeof(*t));
	if (tb_req_parse_finding_trace(id, body, strlen(body), tenant, 99, t, &err) != 0)
		fail_msg("expected success, got error: %s", err.msg);
}

static void expect_stella_error(const char *id, const char *body, const char *msg)
{
	tb_finding_trace_t t = {0};
	tb_err_t err = {{0}};

	if (tb_req_parse_finding_trace(id, body, strlen(body), "t1", 99, &t, &err) != -1)
		fail_msg("expected error \"%s\", got success", msg);
	check_msg(msg, &err);
	assert_null(t.finding_id);
	assert_null(t.event.user_frames);
}

static void finding_trace_becomes_a_runtime_event(void **state)
{
	tb_finding_trace_t t;
	char hex[33];

	(void)state;
	parse_stella_ok("F-1", STELLA_BODY, "t1", &t);
	check_str("finding_id", "F-1", t.finding_id);
	check_str("artifact_digest", DIGEST, t.artifact_digest);
	check_str("component_purl", PURL_SSL, t.component_purl);
	check_str("source", "api", t.event.source);
	check_str("tenant", "t1", t.event.tenant);
	check_str("kind", "uprobe", t.event.kind);
	check_str("node", "worker-3", t.event.node);
	check_str("hook", "SSL_read", t.event.hook);
	check_str("container.image_digest", DIGEST, t.event.container.image_digest);
	assert_int_equal(t.event.count, 42);
	assert_int_equal(t.event.ts_ns, 1737444600000000000LL);
	assert_int_equal(t.event.n_user_frames, 1);
	check_str("frames[0].build_id", "8abdeb7ce323e028dbcd01989fb067ae6507da69",
		  t.event.user_frames[0].build_id);
	check_str("frames[0].module", "libssl.so.3", t.event.user_frames[0].module);
	assert_int_equal(t.event.user_frames[0].offset, 0x3f2a0);
	/* Pinned against Python: BLAKE2b-128 of ("api.finding-trace.v1", "t1", "F-1", canonical body). */
	check_str("event_id", "8ffee8ca4569315cd879b1f65851e9b7", hex_id(t.event.event_id, hex));
	tb_finding_trace_clear(&t);
}

static void finding_trace_defaults_time_and_hits(void **state)
{
	tb_finding_trace_t t;

	(void)state;
	parse_stella_ok("F-1",
			"{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\","
			"\"frames\":[{\"symbol\":\"a_fn\"},{\"symbol\":\"main\"}]}",
			"t1", &t);
	assert_int_equal(t.event.ts_ns, 99);
	assert_int_equal(t.event.count, 1);
	assert_int_equal(t.event.n_user_frames, 2);
	check_str("hook", "a_fn", t.event.hook);
	assert_null(t.event.node);
	tb_finding_trace_clear(&t);
}

static void finding_trace_id_depends_on_the_finding(void **state)
{
	tb_finding_trace_t a, b;

	(void)state;
	parse_stella_ok("F-1", STELLA_BODY, "t1", &a);
	parse_stella_ok("F-2", STELLA_BODY, "t1", &b);
	assert_memory_not_equal(a.event.event_id, b.event.event_id, TB_EVENT_ID_LEN);
	tb_finding_trace_clear(&a);
	tb_finding_trace_clear(&b);
}

static void finding_trace_rejects_missing_required_fields(void **state)
{
	(void)state;
	expect_stella_error("F-1", "{\"componentPurl\":\"pkg:generic/a@1\",\"frames\":[{\"symbol\":\"f\"}]}",
			    "artifactDigest: missing required field");
	expect_stella_error("F-1", "{\"artifactDigest\":\"" DIGEST "\",\"frames\":[{\"symbol\":\"f\"}]}",
			    "componentPurl: missing required field");
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\"}",
			    "frames: missing required field");
	expect_stella_error(
	    "F-1", "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\",\"frames\":[]}",
	    "frames: expected at least 1 frame");
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"" DIGEST
			    "\",\"componentPurl\":\"pkg:generic/a@1\",\"frames\":[{\"module\":\"m\"}]}",
			    "frames[0].symbol: missing required field");
}

static void finding_trace_rejects_invalid_fields(void **state)
{
	(void)state;
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"sha256:xyz\",\"componentPurl\":\"pkg:generic/a@1\","
			    "\"frames\":[{\"symbol\":\"f\"}]}",
			    "artifactDigest: sha256 digest must have 64 hex digits, got 3");
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"openssl\","
			    "\"frames\":[{\"symbol\":\"f\"}]}",
			    "componentPurl: invalid purl \"openssl\": scheme must be \"pkg:\"");
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\","
			    "\"frames\":[{\"symbol\":\"f\",\"fileOffset\":-1}]}",
			    "frames[0].fileOffset: expected non-negative integer");
	expect_stella_error(
	    "F-1",
	    "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\","
	    "\"frames\":[{\"symbol\":\"f\",\"buildId\":\"12\"}]}",
	    "frames[0].buildId: build-id must be 8..128 hex digits (4..64 bytes, even count), got 2");
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\","
			    "\"frames\":[{\"symbol\":\"f\"}],\"observedAt\":\"yesterday\"}",
			    "observedAt: expected RFC 3339 date-time, got \"yesterday\"");
	expect_stella_error("F-1",
			    "{\"artifactDigest\":\"" DIGEST "\",\"componentPurl\":\"pkg:generic/a@1\","
			    "\"frames\":[{\"symbol\":\"f\"}],\"hits\":0}",
			    "hits: expected integer >= 1");
	expect_stella_error("F 1", STELLA_BODY,
			    "finding id: character 0x20 at offset 1 is not allowed (use [A-Za-z0-9._:@+~-])");
	expect_stella_error("F-1", "[]", "$: expected object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(artifact_embedded_sbom_hashed_over_its_exact_bytes),
	    cmocka_unit_test(artifact_sbom_as_string_hashed_over_the_string),
	    cmocka_unit_test(artifact_explicit_binaries_win_over_the_sbom),
	    cmocka_unit_test(artifact_binaries_without_sbom),
	    cmocka_unit_test(artifact_pathless_entry_merges_by_build_id),
	    cmocka_unit_test(artifact_body_that_is_an_sbom_takes_its_digest),
	    cmocka_unit_test(artifact_rejects_bare_sbom_without_digest),
	    cmocka_unit_test(artifact_rejects_missing_digest),
	    cmocka_unit_test(artifact_rejects_malformed_digests),
	    cmocka_unit_test(artifact_rejects_body_without_sbom_or_binaries),
	    cmocka_unit_test(artifact_sbom_errors_carry_the_sbom_path),
	    cmocka_unit_test(artifact_rejects_invalid_binaries),
	    cmocka_unit_test(artifact_rejects_more_binaries_than_the_limit),
	    cmocka_unit_test(artifact_rejects_text_that_is_not_json),
	    cmocka_unit_test(finding_parsed_with_symbols_deduplicated),
	    cmocka_unit_test(finding_id_may_be_given_as_finding_id),
	    cmocka_unit_test(finding_accepts_other_advisory_prefixes),
	    cmocka_unit_test(finding_rejects_missing_or_conflicting_id),
	    cmocka_unit_test(finding_rejects_malformed_vuln_ids),
	    cmocka_unit_test(finding_rejects_bad_purl_digest_and_symbols),
	    cmocka_unit_test(finding_rejects_more_symbols_than_the_limit),
	    cmocka_unit_test(trace_event_fields_parsed),
	    cmocka_unit_test(trace_minimal_event_gets_defaults),
	    cmocka_unit_test(trace_event_id_pinned),
	    cmocka_unit_test(trace_event_id_ignores_key_order_and_whitespace),
	    cmocka_unit_test(trace_event_id_depends_on_tenant_and_content),
	    cmocka_unit_test(trace_explicit_event_id_wins),
	    cmocka_unit_test(trace_batch_and_array_forms),
	    cmocka_unit_test(trace_error_names_the_batch_field),
	    cmocka_unit_test(trace_rejects_bad_numbers),
	    cmocka_unit_test(trace_rejects_bad_time),
	    cmocka_unit_test(trace_rejects_bad_fields),
	    cmocka_unit_test(trace_rejects_stack_longer_than_max_frames),
	    cmocka_unit_test(trace_rejects_more_events_than_the_limit),
	    cmocka_unit_test(trace_json_told_apart_from_tetragon),
	    cmocka_unit_test(rfc3339_times_converted_to_utc_ns),
	    cmocka_unit_test(rfc3339_malformed_rejected),
	    cmocka_unit_test(finding_trace_becomes_a_runtime_event),
	    cmocka_unit_test(finding_trace_defaults_time_and_hits),
	    cmocka_unit_test(finding_trace_id_depends_on_the_finding),
	    cmocka_unit_test(finding_trace_rejects_missing_required_fields),
	    cmocka_unit_test(finding_trace_rejects_invalid_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
