/*
 * fuzz_sbom.c — the timeline-api's SBOM parsers (CycloneDX 1.4–1.6 and
 * SPDX 2.3 JSON, sbom.c) and the POST /api/v1/artifacts body parser that
 * embeds them (requests.c), on the same bytes.
 *
 * Checked beyond "no crash, no leak, no UB":
 *   - a failure always says why (err set) and leaves the artifact cleared;
 *   - a parsed SBOM has a format and a 64-hex-digit sbom_sha256; a component
 *     purl, when there is one (components without are kept by name), is
 *     valid (tb_purl_check); every binary has a normalized build-id or an
 *     owner;
 *   - a parsed artifact is one the Avro codec writes and reads back with
 *     the same counts (the API produces it as an Artifact record next).
 */
#include "fuzz.h"

#include "../../services/timeline-api/requests.h"
#include "../../services/timeline-api/sbom.h"
#include "tb/avro.h"

static tb_avro_registry_t *g_reg;

static int is_zero_artifact(const tb_artifact_t *a)
{
	static const tb_artifact_t zero;

	return memcmp(a, &zero, sizeof(zero)) == 0;
}

/* from_sbom: the artifact must describe an SBOM (a request may give only binaries). */
static void check_artifact(const tb_artifact_t *a, int from_sbom)
{
	tb_artifact_t back = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256];
	tb_err_t err = {{0}};

	FUZZ_CHECK(!from_sbom || (a->sbom_format && a->sbom_format[0]), "no sbom_format");
	FUZZ_CHECK(!a->sbom_format || (a->sbom_sha256 && strlen(a->sbom_sha256) == 64), "sbom_sha256 \"%s\"",
		   a->sbom_sha256 ? a->sbom_sha256 : "(null)");
	for (size_t i = 0; i < a->n_components; i++)
		FUZZ_CHECK(!a->components[i].purl || !a->components[i].purl[0] ||
			       tb_purl_check(a->components[i].purl, why, sizeof(why)) == 0,
			   "components[%zu] purl \"%s\": %s", i, a->components[i].purl, why);
	for (size_t i = 0; i < a->n_binaries; i++) {
		const tb_binary_t *b = &a->binaries[i];

		FUZZ_CHECK(b->build_id || b->purl, "binaries[%zu] has neither build-id nor owner", i);
		if (b->build_id) {
			char *norm = tb_build_id_normalize(b->build_id, why, sizeof(why));

			FUZZ_CHECK(norm && strcmp(norm, b->build_id) == 0, "binaries[%zu] build-id \"%s\"", i,
				   b->build_id);
			free(norm);
		}
	}
	FUZZ_CHECK(tb_avro_encode_artifact(g_reg, a, &buf, &len, &err) == 0, "encode: %s", err.msg);
	FUZZ_CHECK(tb_avro_decode_artifact(g_reg, buf, len, &back, &err) == 0, "decode: %s", err.msg);
	FUZZ_CHECK(back.n_components == a->n_components && back.n_binaries == a->n_binaries,
		   "counts changed in Avro");
	tb_artifact_clear(&back);
	free(buf);
}

static void fuzz_cleanup(void)
{
	tb_avro_registry_free(g_reg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	tb_err_t err = {{0}};

	(void)argc, (void)argv;
	g_reg = tb_avro_registry_new(&err);
	FUZZ_CHECK(g_reg, "registry: %s", err.msg);
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tb_sbom_limits_t slim;
	tb_req_limits_t rlim;
	tb_artifact_t a = {0};
	tb_err_t err = {{0}};

	tb_sbom_limits_default(&slim);
	slim.max_components = 1000; /* small limits, so the limit paths are reachable */
	slim.max_binaries = 1000;
	slim.max_depth = 8;
	if (tb_sbom_parse((const char *)data, size, &slim, &a, &err) == 0)
		check_artifact(&a, 1);
	else
		FUZZ_CHECK(err.msg[0] && is_zero_artifact(&a),
			   "sbom failure without a reason or not cleared");
	tb_artifact_clear(&a);

	tb_req_limits_default(&rlim);
	rlim.sbom = slim;
	memset(&a, 0, sizeof(a));
	err.msg[0] = '\0';
	if (tb_req_parse_artifact((const char *)data, size, &rlim, &a, &err) == 0)
		check_artifact(&a, 0);
	else
		FUZZ_CHECK(err.msg[0] && is_zero_artifact(&a),
			   "request failure without a reason or not cleared");
	tb_artifact_clear(&a);
	return 0;
}
