/*
 * Unit tests for the SBOM parser (services/timeline-api/sbom.c): the four
 * fixtures in tests/data/sbom/ (CycloneDX 1.4 from a syft-style image scan,
 * 1.5 with evidence occurrences, 1.6 with nested components and a
 * dependency graph, SPDX 2.3 with relationships) give exactly the expected
 * artifact, components and binaries; every rejection names its JSON path and
 * reason; the purl and build-id validators follow their specs.
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

#include "../../../services/timeline-api/sbom.h"

/* sha256sum of the fixture files (computed with coreutils, not with us). */
#define SHA_CDX14 "dc2eedfb699077fe4efc482c3a34ec05d779d41db370340d8eeb561a91dbf3ac"
#define SHA_CDX15 "5964829ce54ba302b7308e4ab77ec8d7dab1e115f463c561f632f04c21cd651b"
#define SHA_CDX16 "b1a5a49a94fd68f904b9609291e12b01761a6355e693d4ac6152c1c5e5f075a7"
#define SHA_SPDX "af8fe6f39377cdf9bfdc7d4f3468379b6267f0644f279d6ae57b4c60c20e4034"

typedef struct exp_comp {
	const char *purl, *name, *version;
} exp_comp_t;

typedef struct exp_bin {
	const char *path, *build_id, *purl;
} exp_bin_t;

static char *read_fixture(const char *name, size_t *len)
{
	return tb_test_repo_file("tests/data/sbom", name, len);
}

static void parse_fixture(const char *name, tb_artifact_t *a)
{
	size_t len;
	char *body = read_fixture(name, &len);
	tb_err_t err = {{0}};
	int rc;

	memset(a, 0, sizeof(*a));
	rc = tb_sbom_parse(body, len, NULL, a, &err);
	free(body);
	if (rc != 0)
		fail_msg("parse %s: expected success, got error: %s", name, err.msg);
}

static void check_str(const char *what, size_t i, const char *exp, const char *got)
{
	if ((!exp && !got) || (exp && got && strcmp(exp, got) == 0))
		return;
	fail_msg("%s[%zu]: expected %s%s%s, got %s%s%s", what, i, exp ? "\"" : "", exp ? exp : "NULL",
		 exp ? "\"" : "", got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
}

static void expect_components(const tb_artifact_t *a, const exp_comp_t *exp, size_t n)
{
	for (size_t i = 0; i < n && i < a->n_components; i++) {
		check_str("components.purl", i, exp[i].purl, a->components[i].purl);
		check_str("components.name", i, exp[i].name, a->components[i].name);
		check_str("components.version", i, exp[i].version, a->components[i].version);
	}
	if (a->n_components != n)
		fail_msg("expected %zu components, got %zu", n, a->n_components);
}

static void expect_binaries(const tb_artifact_t *a, const exp_bin_t *exp, size_t n)
{
	for (size_t i = 0; i < n && i < a->n_binaries; i++) {
		check_str("binaries.path", i, exp[i].path, a->binaries[i].path);
		check_str("binaries.build_id", i, exp[i].build_id, a->binaries[i].build_id);
		check_str("binaries.purl", i, exp[i].purl, a->binaries[i].purl);
	}
	if (a->n_binaries != n) {
		for (size_t i = 0; i < a->n_binaries; i++)
			print_message("# got binaries[%zu] = {%s, %s, %s}\n", i, a->binaries[i].path,
				      a->binaries[i].build_id, a->binaries[i].purl);
		fail_msg("expected %zu binaries, got %zu", n, a->n_binaries);
	}
}

static void expect_identity(const tb_artifact_t *a, const char *format, const char *name, const char *version,
			    const char *digest, const char *sha)
{
	check_str("sbom_format", 0, format, a->sbom_format);
	check_str("name", 0, name, a->name);
	check_str("version", 0, version, a->version);
	check_str("digest", 0, digest, a->digest);
	check_str("sbom_sha256", 0, sha, a->sbom_sha256);
}

static void expect_reject_lim(const char *json, const tb_sbom_limits_t *lim, const char *msg, int prefix_only)
{
	tb_artifact_t a = {0};
	tb_err_t err = {{0}};
	int rc = tb_sbom_parse(json, strlen(json), lim, &a, &err);

	if (rc != -1)
		fail_msg("expected rejection \"%s\", got success", msg);
	if (prefix_only ? strncmp(err.msg, msg, strlen(msg)) != 0 : strcmp(err.msg, msg) != 0)
		fail_msg("expected error %s\"%s\", got \"%s\"", prefix_only ? "starting with " : "", msg,
			 err.msg);
	if (a.n_components || a.n_binaries || a.sbom_format || a.name)
		fail_msg("expected an empty artifact after rejection");
}

static void expect_reject(const char *json, const char *msg)
{
	expect_reject_lim(json, NULL, msg, 0);
}

static void parse_inline(const char *json, tb_artifact_t *a)
{
	tb_err_t err = {{0}};

	memset(a, 0, sizeof(*a));
	if (tb_sbom_parse(json, strlen(json), NULL, a, &err) != 0)
		fail_msg("expected success, got error: %s", err.msg);
}

/* ---- CycloneDX 1.4 (syft-style image scan) ---- */

static void cdx14_identity_from_container_version(void **state)
{
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.4-syft-image.json", &a);
	expect_identity(&a, "cyclonedx-1.4", "registry.example.com/shop/checkout",
			"sha256:eb3a7b9d63eb7997d0a6bcbde637db1787e23590b79a48e61da384241a5331c2",
			"sha256:eb3a7b9d63eb7997d0a6bcbde637db1787e23590b79a48e61da384241a5331c2", SHA_CDX14);
	tb_artifact_clear(&a);
}

static void cdx14_components_exclude_the_container(void **state)
{
	static const exp_comp_t exp[] = {
	    {"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12",
	     "libssl3", "3.0.11-1~deb12u2"},
	    {"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib&distro=debian-12", "zlib1g",
	     "1:1.2.13.dfsg-1"},
	    {"pkg:generic/python@3.11.2", "python", "3.11.2"},
	    {"pkg:golang/example.com/shop/checkout@v1.4.2", "example.com/shop/checkout", "v1.4.2"},
	    {"pkg:golang/github.com/google/uuid@v1.6.0", "github.com/google/uuid", "v1.6.0"},
	    {"pkg:golang/github.com/acme/queue@v0.9.1", "github.com/acme/queue", "v0.9.1"},
	    {"pkg:golang/github.com/acme/retry@v1.0.3", "github.com/acme/retry", "v1.0.3"},
	    {NULL, "debian", "12"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.4-syft-image.json", &a);
	expect_components(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* syft locations: dpkg records are skipped, the build-id owner beats a
 * second module at the same path, /app/worker (two owners, no build-id) is
 * dropped, the OS component's SHA-1 hash is not a build-id. */
static void cdx14_binaries_from_syft_locations(void **state)
{
	static const exp_bin_t exp[] = {
	    {"/usr/local/bin/python3.11", NULL, "pkg:generic/python@3.11.2"},
	    {"/app/checkout", "d5491e7e7124a22dd73fa746ba129c59f9dc6d5d",
	     "pkg:golang/example.com/shop/checkout@v1.4.2"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.4-syft-image.json", &a);
	expect_binaries(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* ---- CycloneDX 1.5 (evidence occurrences) ---- */

static void cdx15_identity_digest_from_oci_purl(void **state)
{
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.5-evidence.json", &a);
	expect_identity(&a, "cyclonedx-1.5", "payments-gateway", "2.8.0",
			"sha256:c497e9a809d2d9031a82b318b8556e31a1d5c5de715f53c1cfc5cf1ccc56443e", SHA_CDX15);
	tb_artifact_clear(&a);
}

static void cdx15_components(void **state)
{
	static const exp_comp_t exp[] = {
	    {"pkg:generic/acme/payments-gateway@2.8.0", "payments-gateway", "2.8.0"},
	    {"pkg:generic/openssl@3.0.13", "openssl", "3.0.13"},
	    {"pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12", "libcurl4",
	     "7.88.1-10+deb12u5"},
	    {"pkg:generic/acme/fraud-rules@1.2.0", "fraud-rules", "1.2.0"},
	    {"pkg:cargo/tokenizer@0.4.1", "tokenizer", "0.4.1"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.5-evidence.json", &a);
	expect_components(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* tracebridge:path/build-id, evidence occurrences (relative path made
 * absolute, dpkg list skipped), a file owned through tracebridge:purl whose
 * SHA-1 is not its build-id, and a path-less build-id from "acme:elf:build-id". */
static void cdx15_binaries_from_occurrences_and_properties(void **state)
{
	static const exp_bin_t exp[] = {
	    {"/opt/payments/bin/gateway", "8a6b3c5e6ba4da6ebfdf08b068ca74f7d99ed161",
	     "pkg:generic/acme/payments-gateway@2.8.0"},
	    {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "8abdeb7ce323e028dbcd01989fb067ae6507da69",
	     "pkg:generic/openssl@3.0.13"},
	    {"/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0", NULL,
	     "pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"},
	    {"/usr/lib/x86_64-linux-gnu/libcurl.so.4", NULL,
	     "pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"},
	    {"/opt/payments/lib/libfraud.so", "a0e019c0c56c8911df0a859f5a54fd2453148d4b",
	     "pkg:generic/acme/fraud-rules@1.2.0"},
	    {NULL, "2ab46ccc46cae9981696b7bbcaf69a9de071d631", "pkg:cargo/tokenizer@0.4.1"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.5-evidence.json", &a);
	expect_binaries(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* ---- CycloneDX 1.6 (nested components, dependency graph) ---- */

static void cdx16_identity_digest_from_sha256_hash_lowercased(void **state)
{
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.6-nested.json", &a);
	expect_identity(&a, "cyclonedx-1.6", "ghcr.io/acme/ingest", "1.9.3",
			"sha256:736a1965441becf5dd9d4a6ba6c3027c0b9d9277dc0f47bd2187c1e3d9928431", SHA_CDX16);
	tb_artifact_clear(&a);
}

static void cdx16_nested_components_deduplicated_by_purl(void **state)
{
	static const exp_comp_t exp[] = {
	    {NULL, "debian", "12.5"},
	    {"pkg:generic/acme/ingest@1.9.3", "ingest", "1.9.3"},
	    {"pkg:github/confluentinc/librdkafka@v2.3.0", "librdkafka", "2.3.0"},
	    {"pkg:deb/debian/libzstd1@1.5.4%2Bdfsg2-5?arch=amd64&distro=debian-12", "zstd", "1.5.4+dfsg2-5"},
	    {"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", "libc6", "2.36-9+deb12u4"},
	    {NULL, "schema-registry-contract", "4"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.6-nested.json", &a);
	expect_components(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* Files nested under their package, files owned through "dependencies",
 * a config file with neither build-id nor owner dropped. */
static void cdx16_file_owners_from_nesting_and_dependencies(void **state)
{
	static const exp_bin_t exp[] = {
	    {"/usr/local/bin/ingest", "7e11adc67bac90de5add9de6a5417692dc9eab58",
	     "pkg:generic/acme/ingest@1.9.3"},
	    {"/usr/lib/librdkafka.so.1", "8b42f5a84ab0150fbdb23e558a65bb78c27e4d7c",
	     "pkg:github/confluentinc/librdkafka@v2.3.0"},
	    {"/usr/lib/x86_64-linux-gnu/libzstd.so.1.5.4", "c4f2f4f778ec61817db604f0c39302885a9b3295",
	     "pkg:deb/debian/libzstd1@1.5.4%2Bdfsg2-5?arch=amd64&distro=debian-12"},
	    {"/usr/lib/x86_64-linux-gnu/libc.so.6", NULL,
	     "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("cyclonedx-1.6-nested.json", &a);
	expect_binaries(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* ---- SPDX 2.3 ---- */

static void spdx23_identity_from_described_container(void **state)
{
	tb_artifact_t a;

	(void)state;
	parse_fixture("spdx-2.3-image.json", &a);
	expect_identity(&a, "spdx-2.3", "registry.example.com/acme/billing", "3.2.1",
			"sha256:3a87ecbaa3e7b9f8cbb29e2575e007e08f63f8e1efd2cd5c6702bb6b4b30d886", SHA_SPDX);
	tb_artifact_clear(&a);
}

static void spdx23_packages_become_components(void **state)
{
	static const exp_comp_t exp[] = {
	    {"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", "libc6", "2.36-9+deb12u4"},
	    {"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12",
	     "libssl3", "3.0.11-1~deb12u2"},
	    {"pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", "openssl",
	     "3.0.11-1~deb12u2"},
	    {"pkg:generic/acme/billing@3.2.1", "billing", "3.2.1"},
	    {NULL, "ca-certificates", "20230311"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("spdx-2.3-image.json", &a);
	expect_components(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

/* CONTAINS, CONTAINED_BY, GENERATED_FROM + hasFiles; build-ids from a
 * comment line, a tracebridge annotation (uppercase) and a "GNU-Build-ID"
 * annotation; files only the container holds, or whose package has no
 * purl, dropped; SHA1/BLAKE2b checksums never used as build-ids. */
static void spdx23_files_attached_by_relationships(void **state)
{
	static const exp_bin_t exp[] = {
	    {"/usr/lib/x86_64-linux-gnu/libc.so.6", "9f1b2c3d4e5f60718293a4b5c6d7e8f901234567",
	     "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"},
	    {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "e9786ecf9dff5d5fe68ac9f67184736c4d8b6fd4",
	     "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12"},
	    {"/usr/bin/openssl", NULL, "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"},
	    {"/opt/billing/bin/billing", "0c95c7ece1ce1a9750275ef1c6d7ad6b278f70d6",
	     "pkg:generic/acme/billing@3.2.1"},
	};
	tb_artifact_t a;

	(void)state;
	parse_fixture("spdx-2.3-image.json", &a);
	expect_binaries(&a, exp, sizeof(exp) / sizeof(exp[0]));
	tb_artifact_clear(&a);
}

static void spdx23_root_found_through_describes_relationship(void **state)
{
	static const char *doc =
	    "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"doc\","
	    "\"packages\":[{\"SPDXID\":\"SPDXRef-app\",\"name\":\"reporter\",\"versionInfo\":\"0.3.0\","
	    "\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MANAGER\",\"referenceType\":\"purl\","
	    "\"referenceLocator\":\"pkg:pypi/reporter@0.3.0\"}]}],"
	    "\"relationships\":[{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\"relationshipType\":\"DESCRIBES\","
	    "\"relatedSpdxElement\":\"SPDXRef-app\"}]}";
	static const exp_comp_t exp[] = {{"pkg:pypi/reporter@0.3.0", "reporter", "0.3.0"}};
	tb_artifact_t a;

	(void)state;
	parse_inline(doc, &a);
	check_str("name", 0, "reporter", a.name);
	check_str("version", 0, "0.3.0", a.version);
	check_str("digest", 0, NULL, a.digest);
	/* Not a container: the described application is one of its components. */
	expect_components(&a, exp, 1);
	tb_artifact_clear(&a);
}

/* ---- behaviours on small documents ---- */

#define CDX15(comps) "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[" comps "]}"
#define BID_A "0123456789abcdef0123456789abcdef01234567"
#define BID_B "89abcdef0123456789abcdef0123456789abcdef"

static void sha256_is_over_the_exact_bytes(void **state)
{
	/* Same document, different whitespace: different SBOM bytes. */
	static const char *a1 = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\"}";
	static const char *a2 = "{ \"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.4\" }";
	tb_artifact_t x, y;

	(void)state;
	parse_inline(a1, &x);
	parse_inline(a2, &y);
	/* printf '%s' '<a1>' | sha256sum */
	check_str("sbom_sha256", 0, "9d777cde37b198d8f52046627a0710c604d5aaf8882122a7dd001fd830f9bc84",
		  x.sbom_sha256);
	assert_string_not_equal(x.sbom_sha256, y.sbom_sha256);
	tb_artifact_clear(&x);
	tb_artifact_clear(&y);
}

static void equal_owners_of_a_build_id_leave_the_owner_unknown(void **state)
{
	static const char *doc =
	    CDX15("{\"type\":\"library\",\"name\":\"a\",\"purl\":\"pkg:generic/a@1\",\"properties\":["
		  "{\"name\":\"tracebridge:path\",\"value\":\"/usr/lib/libshared.so\"},"
		  "{\"name\":\"tracebridge:build-id\",\"value\":\"" BID_A "\"}]},"
		  "{\"type\":\"library\",\"name\":\"b\",\"purl\":\"pkg:generic/b@1\",\"properties\":["
		  "{\"name\":\"tracebridge:path\",\"value\":\"/usr/lib/libshared.so\"},"
		  "{\"name\":\"tracebridge:build-id\",\"value\":\"" BID_A "\"}]}");
	static const exp_bin_t exp[] = {{"/usr/lib/libshared.so", BID_A, NULL}};
	tb_artifact_t a;

	(void)state;
	parse_inline(doc, &a);
	expect_binaries(&a, exp, 1);
	tb_artifact_clear(&a);
}

static void pathless_build_id_gets_the_path_given_later(void **state)
{
	static const char *doc =
	    CDX15("{\"type\":\"library\",\"name\":\"z\",\"purl\":\"pkg:generic/z@1\",\"properties\":["
		  "{\"name\":\"build-id\",\"value\":\"" BID_B "\"}]},"
		  "{\"type\":\"file\",\"name\":\"/lib/libz.so.1\",\"properties\":["
		  "{\"name\":\"build-id\",\"value\":\"" BID_B "\"}]}");
	static const exp_bin_t exp[] = {{"/lib/libz.so.1", BID_B, "pkg:generic/z@1"}};
	tb_artifact_t a;

	(void)state;
	parse_inline(doc, &a);
	expect_binaries(&a, exp, 1);
	tb_artifact_clear(&a);
}

static void file_with_only_content_hashes_has_no_build_id(void **state)
{
	static const char *doc = CDX15(
	    "{\"type\":\"library\",\"name\":\"p\",\"purl\":\"pkg:generic/p@2\",\"components\":["
	    "{\"type\":\"file\",\"name\":\"/usr/bin/p\",\"hashes\":[{\"alg\":\"SHA-1\",\"content\":\"" BID_A
	    "\"}]}]}");
	static const exp_bin_t exp[] = {{"/usr/bin/p", NULL, "pkg:generic/p@2"}};
	tb_artifact_t a;

	(void)state;
	parse_inline(doc, &a);
	expect_binaries(&a, exp, 1);
	tb_artifact_clear(&a);
}

static void digest_from_sha256_bom_ref(void **state)
{
	static const char *doc = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"metadata\":{"
				 "\"component\":{\"type\":\"container\","
				 "\"name\":\"img\",\"bom-ref\":\"sha256:"
				 "c7761e58969f7edd498186641b2021e8477e1bcd230de4cf3435242da4a40d14\"}}}";
	tb_artifact_t a;

	(void)state;
	parse_inline(doc, &a);
	check_str("digest", 0, "sha256:c7761e58969f7edd498186641b2021e8477e1bcd230de4cf3435242da4a40d14",
		  a.digest);
	assert_int_equal(a.n_components, 0);
	tb_artifact_clear(&a);
}

/* ---- rejections ---- */

#define REJECT(fn, json, msg)                                                                                \
	static void fn(void **state)                                                                         \
	{                                                                                                    \
		(void)state;                                                                                 \
		expect_reject(json, msg);                                                                    \
	}

static void rejects_text_that_is_not_json(void **state)
{
	(void)state;
	expect_reject_lim("{\"bomFormat\": ", NULL, "$: not JSON: ", 1);
}

static void rejects_duplicate_keys(void **state)
{
	(void)state;
	expect_reject_lim("{\"bomFormat\":\"CycloneDX\",\"bomFormat\":\"CycloneDX\"}", NULL,
			  "$: not JSON: duplicate object key", 1);
}

REJECT(rejects_array_document, "[]", "$: expected an SBOM object, got array")
REJECT(rejects_scalar_document, "\"CycloneDX\"", "$: expected an SBOM object, got string")
REJECT(rejects_unknown_format, "{\"name\":\"x\"}",
       "$: unknown SBOM format: expected CycloneDX JSON (bomFormat) or SPDX JSON (spdxVersion)")
REJECT(rejects_other_bom_format, "{\"bomFormat\":\"SPDX\",\"specVersion\":\"1.5\"}",
       "bomFormat: unknown format \"SPDX\" (expected \"CycloneDX\")")
REJECT(rejects_cyclonedx_1_3, "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.3\"}",
       "specVersion: unsupported CycloneDX version \"1.3\" (supported: 1.4, 1.5, 1.6)")
REJECT(rejects_cyclonedx_1_7, "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.7\"}",
       "specVersion: unsupported CycloneDX version \"1.7\" (supported: 1.4, 1.5, 1.6)")
REJECT(rejects_numeric_spec_version, "{\"bomFormat\":\"CycloneDX\",\"specVersion\":1.5}",
       "specVersion: expected string, got number")
REJECT(rejects_missing_spec_version, "{\"bomFormat\":\"CycloneDX\"}", "specVersion: missing required field")
REJECT(rejects_spdx_2_2, "{\"spdxVersion\":\"SPDX-2.2\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\"}",
       "spdxVersion: unsupported SPDX version \"SPDX-2.2\" (supported: SPDX-2.3)")
REJECT(rejects_spdx_without_name, "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\"}",
       "name: missing required field")
REJECT(rejects_component_without_name, CDX15("{\"type\":\"library\",\"name\":\"a\"},{\"type\":\"library\"}"),
       "components[1].name: missing required field")
REJECT(rejects_component_without_type, CDX15("{\"name\":\"a\"}"),
       "components[0].type: missing required field")
REJECT(rejects_components_object, "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":{}}",
       "components: expected array, got object")
REJECT(rejects_property_that_is_not_an_object,
       CDX15("{\"type\":\"library\",\"name\":\"a\",\"properties\":[\"build-id\"]}"),
       "components[0].properties[0]: expected object, got string")
REJECT(rejects_invalid_nested_purl,
       CDX15("{\"type\":\"library\",\"name\":\"a\",\"components\":[{\"type\":\"library\",\"name\":\"b\"},"
	     "{\"type\":\"library\",\"name\":\"c\",\"purl\":\"pkg:npm\"}]}"),
       "components[0].components[1].purl: invalid purl \"pkg:npm\": missing '/' between type and name")
REJECT(rejects_invalid_metadata_purl,
       "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"metadata\":{\"component\":{\"type\":"
       "\"container\","
       "\"name\":\"x\",\"purl\":\"pkg:oci/x@\"}}}",
       "metadata.component.purl: invalid purl \"pkg:oci/x@\": version after '@' is empty")
REJECT(rejects_non_hex_build_id,
       CDX15("{\"type\":\"library\",\"name\":\"a\",\"properties\":[{\"name\":\"x\",\"value\":\"y\"},"
	     "{\"name\":\"tracebridge:build-id\",\"value\":\"0123zz6789abcdef\"}]}"),
       "components[0].properties[1].value: build-id has non-hex character at offset 4")
REJECT(
    rejects_short_build_id,
    CDX15("{\"type\":\"file\",\"name\":\"/bin/"
	  "x\",\"properties\":[{\"name\":\"build-id\",\"value\":\"abcdef\"}]}"),
    "components[0].properties[0].value: build-id must be 8..128 hex digits (4..64 bytes, even count), got 6")
REJECT(
    rejects_conflicting_build_ids_for_one_path,
    CDX15("{\"type\":\"file\",\"name\":\"/bin/x\",\"properties\":[{\"name\":\"build-id\",\"value\":\"" BID_A
	  "\"}]},{\"type\":\"file\",\"name\":\"/bin/"
	  "x\",\"properties\":[{\"name\":\"build-id\",\"value\":\"" BID_B "\"}]}"),
    "components[1]: build-id " BID_B " for /bin/x conflicts with build-id " BID_A " given earlier")
REJECT(rejects_occurrence_without_location,
       CDX15("{\"type\":\"library\",\"name\":\"a\",\"evidence\":{\"occurrences\":[{\"line\":3}]}}"),
       "components[0].evidence.occurrences[0].location: missing required field")
REJECT(rejects_dependency_without_ref,
       "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[],\"dependencies\":[{"
       "\"dependsOn\":[]}]}",
       "dependencies[0].ref: missing required field")
REJECT(rejects_spdx_package_without_spdxid,
       "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\",\"packages\":[{\"name\":"
       "\"p\"}]}",
       "packages[0].SPDXID: missing required field")
REJECT(rejects_spdx_file_without_name,
       "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\",\"files\":[{\"SPDXID\":"
       "\"f\"}]}",
       "files[0].fileName: missing required field")
REJECT(
    rejects_spdx_invalid_purl_reference,
    "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\",\"packages\":[{\"SPDXID\":"
    "\"p\","
    "\"name\":\"p\",\"externalRefs\":[{\"referenceType\":\"cpe23Type\",\"referenceLocator\":\"cpe:2.3:a\"},"
    "{\"referenceType\":\"purl\",\"referenceLocator\":\"pkg:1deb/x\"}]}]}",
    "packages[0].externalRefs[1].referenceLocator: invalid purl \"pkg:1deb/x\": type \"1deb\" must start "
    "with a "
    "letter")
REJECT(rejects_spdx_invalid_annotation_build_id,
       "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\",\"files\":[{\"SPDXID\":"
       "\"f\","
       "\"fileName\":\"/bin/f\",\"annotations\":[{\"comment\":\"build-id: 12345\"}]}]}",
       "files[0].annotations[0].comment: build-id must be 8..128 hex digits (4..64 bytes, even count), got 5")
REJECT(rejects_spdx_relationship_without_type,
       "{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\",\"relationships\":["
       "{\"spdxElementId\":\"a\",\"relatedSpdxElement\":\"b\"}]}",
       "relationships[0].relationshipType: missing required field")

static void rejects_more_components_than_the_limit(void **state)
{
	tb_sbom_limits_t lim;

	(void)state;
	tb_sbom_limits_default(&lim);
	lim.max_components = 2;
	expect_reject_lim(CDX15("{\"type\":\"library\",\"name\":\"a\"},{\"type\":\"library\",\"name\":\"b\"},"
				"{\"type\":\"library\",\"name\":\"c\"}"),
			  &lim, "components[2]: more than 2 components (limit)", 0);
}

static void rejects_deeper_nesting_than_the_limit(void **state)
{
	tb_sbom_limits_t lim;

	(void)state;
	tb_sbom_limits_default(&lim);
	lim.max_depth = 2;
	expect_reject_lim(
	    CDX15("{\"type\":\"library\",\"name\":\"a\",\"components\":[{\"type\":\"library\","
		  "\"name\":\"b\",\"components\":[{\"type\":\"library\",\"name\":\"c\"}]}]}"),
	    &lim, "components[0].components[0].components: components nested deeper than 2 levels (limit)",
	    0);
}

static void rejects_more_binaries_than_the_limit(void **state)
{
	tb_sbom_limits_t lim;

	(void)state;
	tb_sbom_limits_default(&lim);
	lim.max_binaries = 1;
	expect_reject_lim(
	    CDX15("{\"type\":\"file\",\"name\":\"/bin/a\",\"properties\":[{\"name\":\"build-id\","
		  "\"value\":\"" BID_A "\"}]},{\"type\":\"file\",\"name\":\"/bin/b\"}"),
	    &lim, "components[1]: more than 1 binaries (limit)", 0);
}

/* ---- validators ---- */

static void purl_valid_forms_accepted(void **state)
{
	static const char *ok[] = {
	    "pkg:generic/openssl@3.0.13",
	    "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
	    "pkg:npm/%40angular/animation@12.3.1",
	    "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?repository_url=repo.spring.io%2Frelease",
	    "pkg:golang/google.golang.org/genproto#googleapis/api/annotations",
	    "pkg:oci/debian@sha256%3A244fd47e07d10?repository_url=docker.io/library/"
	    "debian&arch=amd64&tag=latest",
	    "pkg:github/package-url/purl-spec@244fd47e07d1004f0aed9c",
	    "PKG:PyPI/Django@1.11.1",
	    "pkg:cargo/rand",
	    "pkg://generic/x@1",
	    "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64",
	    "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (tb_purl_check(ok[i], why, sizeof(why)) != 0)
			fail_msg("purl \"%s\": expected valid, got \"%s\"", ok[i], why);
}

static void purl_invalid_forms_rejected_with_reason(void **state)
{
	static const struct {
		const char *purl, *why;
	} bad[] = {
	    {"", "empty"},
	    {"generic/openssl@3", "scheme must be \"pkg:\""},
	    {"pkg:generic", "missing '/' between type and name"},
	    {"pkg:/openssl@3", "missing '/' between type and name"}, /* leading '/' are ignored */
	    {"pkg:9p/x", "type \"9p\" must start with a letter"},
	    {"pkg:ge_neric/x", "type \"ge_neric\" has invalid character '_'"},
	    {"pkg:generic/@3", "name is empty"},
	    {"pkg:generic/x@", "version after '@' is empty"},
	    {"pkg:generic/x y@1", "byte 0x20 at offset 13 must be percent-encoded"},
	    {"pkg:generic/x%2@1", "invalid percent-encoding at offset 13"},
	    {"pkg:generic/x@1?arch", "qualifier \"arch\" lacks '='"},
	    {"pkg:generic/x@1?1arch=x", "qualifier key \"1arch\" is invalid"},
	    {"pkg:generic/x@1?arch=x&Arch=y", "duplicate qualifier key \"Arch\""},
	    {"pkg:generic/caf\xc3\xa9@1", "byte 0xc3 at offset 15 must be percent-encoded"},
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (tb_purl_check(bad[i].purl, why, sizeof(why)) != -1)
			fail_msg("purl \"%s\": expected rejection \"%s\", got valid", bad[i].purl,
				 bad[i].why);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("purl \"%s\": expected reason \"%s\", got \"%s\"", bad[i].purl, bad[i].why,
				 why);
	}
}

static void purl_version_is_percent_decoded(void **state)
{
	char v[128];

	(void)state;
	assert_int_equal(tb_purl_version("pkg:oci/x@sha256%3Aabc?tag=1", v, sizeof(v)), 0);
	assert_string_equal(v, "sha256:abc");
	assert_int_equal(tb_purl_version("pkg:cargo/rand", v, sizeof(v)), -1);
}

static void build_id_normalized_to_lowercase(void **state)
{
	char why[160];
	char *b = tb_build_id_normalize("DEADBEEF00112233", why, sizeof(why));

	(void)state;
	assert_non_null(b);
	assert_string_equal(b, "deadbeef00112233");
	free(b);
}

static void build_id_length_bounds(void **state)
{
	char why[160], hex129[130], hex128[129];
	char *b;

	(void)state;
	memset(hex128, 'a', 128);
	hex128[128] = '\0';
	memset(hex129, 'a', 129);
	hex129[129] = '\0';
	b = tb_build_id_normalize(hex128, why, sizeof(why));
	assert_non_null(b);
	free(b);
	b = tb_build_id_normalize("01234567", why, sizeof(why));
	assert_non_null(b);
	free(b);
	assert_null(tb_build_id_normalize(hex129, why, sizeof(why)));
	assert_string_equal(why, "build-id must be 8..128 hex digits (4..64 bytes, even count), got 129");
	assert_null(tb_build_id_normalize("0123456", why, sizeof(why)));
	assert_string_equal(why, "build-id must be 8..128 hex digits (4..64 bytes, even count), got 7");
}

static void digest_check_wants_lowercase_sha256(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(
	    tb_digest_check("sha256:c7761e58969f7edd498186641b2021e8477e1bcd230de4cf3435242da4a40d14", why,
			    sizeof(why)),
	    0);
	assert_int_equal(
	    tb_digest_check("sha256:C7761E58969F7EDD498186641B2021E8477E1BCD230DE4CF3435242DA4A40D14", why,
			    sizeof(why)),
	    -1);
	assert_string_equal(why, "sha256 digest must be lowercase hex");
	assert_int_equal(tb_digest_check("sha512:abcd", why, sizeof(why)), -1);
	assert_string_equal(why, "expected \"sha256:\" followed by 64 lowercase hex digits");
	assert_int_equal(tb_digest_check("sha256:abcd", why, sizeof(why)), -1);
	assert_string_equal(why, "sha256 digest must have 64 hex digits, got 4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cdx14_identity_from_container_version),
	    cmocka_unit_test(cdx14_components_exclude_the_container),
	    cmocka_unit_test(cdx14_binaries_from_syft_locations),
	    cmocka_unit_test(cdx15_identity_digest_from_oci_purl),
	    cmocka_unit_test(cdx15_components),
	    cmocka_unit_test(cdx15_binaries_from_occurrences_and_properties),
	    cmocka_unit_test(cdx16_identity_digest_from_sha256_hash_lowercased),
	    cmocka_unit_test(cdx16_nested_components_deduplicated_by_purl),
	    cmocka_unit_test(cdx16_file_owners_from_nesting_and_dependencies),
	    cmocka_unit_test(spdx23_identity_from_described_container),
	    cmocka_unit_test(spdx23_packages_become_components),
	    cmocka_unit_test(spdx23_files_attached_by_relationships),
	    cmocka_unit_test(spdx23_root_found_through_describes_relationship),
	    cmocka_unit_test(sha256_is_over_the_exact_bytes),
	    cmocka_unit_test(equal_owners_of_a_build_id_leave_the_owner_unknown),
	    cmocka_unit_test(pathless_build_id_gets_the_path_given_later),
	    cmocka_unit_test(file_with_only_content_hashes_has_no_build_id),
	    cmocka_unit_test(digest_from_sha256_bom_ref),
	    cmocka_unit_test(rejects_text_that_is_not_json),
	    cmocka_unit_test(rejects_duplicate_keys),
	    cmocka_unit_test(rejects_array_document),
	    cmocka_unit_test(rejects_scalar_document),
	    cmocka_unit_test(rejects_unknown_format),
	    cmocka_unit_test(rejects_other_bom_format),
	    cmocka_unit_test(rejects_cyclonedx_1_3),
	    cmocka_unit_test(rejects_cyclonedx_1_7),
	    cmocka_unit_test(rejects_numeric_spec_version),
	    cmocka_unit_test(rejects_missing_spec_version),
	    cmocka_unit_test(rejects_spdx_2_2),
	    cmocka_unit_test(rejects_spdx_without_name),
	    cmocka_unit_test(rejects_component_without_name),
	    cmocka_unit_test(rejects_component_without_type),
	    cmocka_unit_test(rejects_components_object),
	    cmocka_unit_test(rejects_property_that_is_not_an_object),
	    cmocka_unit_test(rejects_invalid_nested_purl),
	    cmocka_unit_test(rejects_invalid_metadata_purl),
	    cmocka_unit_test(rejects_non_hex_build_id),
	    cmocka_unit_test(rejects_short_build_id),
	    cmocka_unit_test(rejects_conflicting_build_ids_for_one_path),
	    cmocka_unit_test(rejects_occurrence_without_location),
	    cmocka_unit_test(rejects_dependency_without_ref),
	    cmocka_unit_test(rejects_spdx_package_without_spdxid),
	    cmocka_unit_test(rejects_spdx_file_without_name),
	    cmocka_unit_test(rejects_spdx_invalid_purl_reference),
	    cmocka_unit_test(rejects_spdx_invalid_annotation_build_id),
	    cmocka_unit_test(rejects_spdx_relationship_without_type),
	    cmocka_unit_test(rejects_more_components_than_the_limit),
	    cmocka_unit_test(rejects_deeper_nesting_than_the_limit),
	    cmocka_unit_test(rejects_more_binaries_than_the_limit),
	    cmocka_unit_test(purl_valid_forms_accepted),
	    cmocka_unit_test(purl_invalid_forms_rejected_with_reason),
	    cmocka_unit_test(purl_version_is_percent_decoded),
	    cmocka_unit_test(build_id_normalized_to_lowercase),
	    cmocka_unit_test(build_id_length_bounds),
	    cmocka_unit_test(digest_check_wants_lowercase_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
