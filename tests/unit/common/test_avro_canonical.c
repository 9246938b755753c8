/*
 * Unit tests for Parsing Canonical Form and CRC-64-AVRO fingerprints.
 *
 * The vectors are the Avro project's published ones (apache/avro,
 * share/test/data/schema-tests.txt, cases 000-033): input schema, expected
 * canonical form and, where published, the 64-bit fingerprint (signed, as
 * the file gives it). Further tests cover namespace rules the vectors do
 * not, the CRC table against a bit-by-bit computation, our own schemas
 * (canonical form is a fixed point and avro-c accepts it) and schemas that
 * must be refused.
 */
#include "test_avro_fixtures.h"
#include "tb/embedded.h"

typedef struct vector {
	const char *input;
	const char *canonical;
	int has_fp;
	int64_t fp;
} vector_t;

static const vector_t vectors[] = {
    /* 000 */ {"\"null\"", "\"null\"", 1, 7195948357588979594LL},
    /* 001 */ {"{\"type\":\"null\"}", "\"null\"", 0, 0},
    /* 002 */ {"\"boolean\"", "\"boolean\"", 1, -6970731678124411036LL},
    /* 003 */ {"{\"type\":\"boolean\"}", "\"boolean\"", 0, 0},
    /* 004 */ {"\"int\"", "\"int\"", 1, 8247732601305521295LL},
    /* 005 */ {"{\"type\":\"int\"}", "\"int\"", 0, 0},
    /* 006 */ {"\"long\"", "\"long\"", 1, -3434872931120570953LL},
    /* 007 */ {"{\"type\":\"long\"}", "\"long\"", 0, 0},
    /* 008 */ {"\"float\"", "\"float\"", 1, 5583340709985441680LL},
    /* 009 */ {"{\"type\":\"float\"}", "\"float\"", 0, 0},
    /* 010 */ {"\"double\"", "\"double\"", 1, -8181574048448539266LL},
    /* 011 */ {"{\"type\":\"double\"}", "\"double\"", 0, 0},
    /* 012 */ {"\"bytes\"", "\"bytes\"", 1, 5746618253357095269LL},
    /* 013 */ {"{\"type\":\"bytes\"}", "\"bytes\"", 0, 0},
    /* 014 */ {"\"string\"", "\"string\"", 1, -8142146995180207161LL},
    /* 015 */ {"{\"type\":\"string\"}", "\"string\"", 0, 0},
    /* 016 */ {"[  ]", "[]", 1, -1241056759729112623LL},
    /* 017 */ {"[ \"int\"  ]", "[\"int\"]", 1, -5232228896498058493LL},
    /* 018 */ {"[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", 1, 5392556393470105090LL},
    /* 019 */
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, -4824392279771201922LL},
    /* 020 */
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 1, 5916914534497305771LL},
    /* 021 */
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", 1, -4616218487480524110LL},
    /* 022 */
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"Useful info\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, -4824392279771201922LL},
    /* 023 */
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, -4824392279771201922LL},
    /* 024 */
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"foo\", "
     "\"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, -4824392279771201922LL},
    /* 025 */
    {"{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", "
     "\"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}", 1,
     7843277075252814651LL},
    /* 026 */
    {"{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", \"default\":\"true\"},\n"
     "            {\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}],\n"
     "  \"type\":\"record\", \"name\":\"foo\"\n}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},"
     "{\"name\":\"f2\",\"type\":\"int\"}]}",
     1, -4860222112080293046LL},
    /* 027 */
    {"{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}",
     "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", 1, -6342190197741309591LL},
    /* 028 */
    {"{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", "
     "\"symbols\":[\"A1\", \"A2\"]}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", 1, -4448647247586288245LL},
    /* 029 */
    {"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
     1, 1756455273707447556LL},
    /* 030 */
    {"{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", "
     "\"size\":32}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", 1, -3064184465700546786LL},
    /* 031 */
    {"{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}", "{\"type\":\"array\",\"items\":\"null\"}", 1,
     -589620603366471059LL},
    /* 032 */
    {"{ \"values\":\"string\", \"type\":\"map\"}", "{\"type\":\"map\",\"values\":\"string\"}", 1,
     -8732877298790414990LL},
    /* 033 */
    {"  {\"name\":\"PigValue\",\"type\":\"record\",\n"
     "   \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}",
     "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\","
     "\"type\":[\"null\",\"int\",\"long\",\"PigValue\"]}]}",
     1, -1759257747318642341LL},
};

static void spec_vectors_give_the_published_canonical_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *cf = NULL;
		tb_err_t err = {{0}};

		if (tb_avro_canonical_form(vectors[i].input, &cf, &err) < 0)
			fail_msg("vector %03zu: %s", i, err.msg);
		if (strcmp(cf, vectors[i].canonical) != 0) {
			print_error("vector %03zu: expected %s\n  got %s\n", i, vectors[i].canonical, cf);
			free(cf);
			fail();
		}
		free(cf);
	}
}

static void spec_vectors_give_the_published_fingerprints(void **state)
{
	int checked = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint64_t fp = 0;
		tb_err_t err = {{0}};

		if (!vectors[i].has_fp)
			continue;
		if (tb_avro_fingerprint(vectors[i].input, &fp, &err) < 0)
			fail_msg("vector %03zu: %s", i, err.msg);
		if ((int64_t)fp != vectors[i].fp)
			fail_msg("vector %03zu: expected fingerprint %lld, got %lld", i,
				 (long long)vectors[i].fp, (long long)(int64_t)fp);
		/* the fingerprint is the CRC of the canonical form */
		assert_int_equal(tb_avro_crc64(vectors[i].canonical, strlen(vectors[i].canonical)), fp);
		checked++;
	}
	assert_int_equal(checked, 26);
}

static void crc64_of_null_is_the_documented_value(void **state)
{
	(void)state;
	assert_int_equal(tb_avro_crc64("\"null\"", 6), 0x63dd24e7cc258f8aULL);
	/* the empty input leaves the initial value */
	assert_int_equal(tb_avro_crc64("", 0), 0xc15d213aa4d7a795ULL);
}

/* The constant table against the spec's bit-by-bit definition. */
static uint64_t crc64_bitwise(const uint8_t *p, size_t n)
{
	const uint64_t empty = 0xc15d213aa4d7a795ULL;
	uint64_t fp = empty;

	for (size_t i = 0; i < n; i++) {
		uint64_t x = (fp ^ p[i]) & 0xff;

		for (int j = 0; j < 8; j++)
			x = (x >> 1) ^ (empty & (0 - (x & 1)));
		fp = (fp >> 8) ^ x;
	}
	return fp;
}

static void crc64_table_matches_the_polynomial(void **state)
{
	uint8_t buf[1024];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int round = 0; round < 64; round++) {
		size_t n = (size_t)(seed % sizeof(buf));

		for (size_t i = 0; i < n; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			buf[i] = (uint8_t)seed;
		}
		assert_int_equal(tb_avro_crc64(buf, n), crc64_bitwise(buf, n));
	}
	for (int b = 0; b < 256; b++) {
		uint8_t one = (uint8_t)b;

		assert_int_equal(tb_avro_crc64(&one, 1), crc64_bitwise(&one, 1));
	}
}

static void expect_canonical(const char *input, const char *want)
{
	char *cf = NULL;
	tb_err_t err = {{0}};

	if (tb_avro_canonical_form(input, &cf, &err) < 0)
		fail_msg("canonical form of %s: %s", input, err.msg);
	if (strcmp(cf, want) != 0) {
		print_error("input %s\n  expected %s\n  got      %s\n", input, want, cf);
		free(cf);
		fail();
	}
	free(cf);
}

static void nested_types_inherit_the_enclosing_namespace(void **state)
{
	(void)state;
	expect_canonical(
	    "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"fields\":["
	    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}},"
	    "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"c.F\",\"size\":2}},"
	    "{\"name\":\"g\",\"type\":{\"type\":\"record\",\"name\":\"G\",\"fields\":["
	    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":1}}]}},"
	    "{\"name\":\"i\",\"type\":\"E\"},{\"name\":\"j\",\"type\":\"c.F\"},"
	    "{\"name\":\"k\",\"type\":{\"type\":\"array\",\"items\":\"a.b.E\"}}]}",
	    "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":["
	    "{\"name\":\"e\",\"type\":{\"name\":\"a.b.E\",\"type\":\"enum\",\"symbols\":[\"X\"]}},"
	    "{\"name\":\"f\",\"type\":{\"name\":\"c.F\",\"type\":\"fixed\",\"size\":2}},"
	    "{\"name\":\"g\",\"type\":{\"name\":\"a.b.G\",\"type\":\"record\",\"fields\":["
	    "{\"name\":\"h\",\"type\":{\"name\":\"a.b.H\",\"type\":\"fixed\",\"size\":1}}]}},"
	    "{\"name\":\"i\",\"type\":\"a.b.E\"},{\"name\":\"j\",\"type\":\"c.F\"},"
	    "{\"name\":\"k\",\"type\":{\"type\":\"array\",\"items\":\"a.b.E\"}}]}");
}

static void a_dotted_name_sets_the_namespace_of_its_children(void **state)
{
	(void)state;
	expect_canonical(
	    "{\"type\":\"record\",\"name\":\"p.q.R\",\"namespace\":\"ignored\",\"fields\":["
	    "{\"name\":\"x\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"
	    "{\"name\":\"y\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"long\","
	    "\"logicalType\":\"timestamp-micros\"}}}]}",
	    "{\"name\":\"p.q.R\",\"type\":\"record\",\"fields\":["
	    "{\"name\":\"x\",\"type\":{\"name\":\"p.q.E\",\"type\":\"enum\",\"symbols\":[\"A\",\"B\"]}},"
	    "{\"name\":\"y\",\"type\":{\"type\":\"map\",\"values\":\"long\"}}]}");
}

static void an_empty_namespace_means_the_null_namespace(void **state)
{
	(void)state;
	expect_canonical("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a\",\"fields\":["
			 "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"namespace\":\"\","
			 "\"size\":3}},{\"name\":\"y\",\"type\":\"F\"}]}",
			 "{\"name\":\"a.R\",\"type\":\"record\",\"fields\":["
			 "{\"name\":\"x\",\"type\":{\"name\":\"F\",\"type\":\"fixed\",\"size\":3}},"
			 "{\"name\":\"y\",\"type\":\"F\"}]}");
}

static void string_escapes_become_utf8(void **state)
{
	(void)state;
	expect_canonical("{\"type\":\"record\",\"name\":\"\\u0052\",\"doc\":\"caf\\u00e9\","
			 "\"fields\":[]}",
			 "{\"name\":\"R\",\"type\":\"record\",\"fields\":[]}");
}

static void our_schemas_are_fixed_points_that_avro_c_accepts(void **state)
{
	int n = 0;

	(void)state;
	for (const tb_embedded_file_t *f = tb_embedded_files; f->path; f++) {
		char *cf = NULL, *cf2 = NULL;
		avro_schema_t s;
		uint64_t fp1 = 0, fp2 = 0;

		if (!strstr(f->path, ".avsc"))
			continue;
		assert_int_equal(tb_avro_canonical_form(f->data, &cf, NULL), 0);
		assert_int_equal(tb_avro_canonical_form(cf, &cf2, NULL), 0);
		if (strcmp(cf, cf2) != 0)
			fail_msg("%s: canonical form is not stable:\n%s\n%s", f->path, cf, cf2);
		assert_int_equal(tb_avro_fingerprint(f->data, &fp1, NULL), 0);
		assert_int_equal(tb_avro_fingerprint(cf, &fp2, NULL), 0);
		assert_int_equal(fp1, fp2);
		assert_null(strchr(cf, ' '));
		assert_null(strstr(cf, "\"doc\""));
		assert_null(strstr(cf, "\"default\""));
		assert_non_null(strstr(cf, "\"name\":\"tracebridge.v1."));
		if (avro_schema_from_json_length(cf, strlen(cf), &s) != 0)
			fail_msg("%s: avro-c refuses our canonical form: %s", f->path, avro_strerror());
		avro_schema_decref(s);
		free(cf);
		free(cf2);
		n++;
	}
	assert_int_equal(n, 7);
}

/* Refused when registered (the registry validates defaults too). */
static void expect_refused(const char *json, const char *needle)
{
	tb_avro_registry_t *reg = tb_avro_registry_new(NULL);
	tb_err_t err = {{0}};
	int rc = tb_avro_registry_add_json(reg, json, NULL, &err);

	tb_avro_registry_free(reg);
	if (rc == 0)
		fail_msg("expected %s to be refused (%s)", json, needle);
	if (!strstr(err.msg, needle))
		fail_msg("schema %s: expected an error containing \"%s\", got \"%s\"", json, needle, err.msg);
}

static void invalid_schemas_are_refused_with_a_reason(void **state)
{
	(void)state;
	expect_refused("\"nope\"", "unknown type 'nope'");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
		       "{\"name\":\"a\",\"type\":\"int\"}]}",
		       "appears twice");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}", "no type");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
		       "\"default\":\"x\"}]}",
		       "default");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
		       "[\"null\",\"int\"],\"default\":1}]}",
		       "default");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
		       "\"default\":4294967296}]}",
		       "default");
	expect_refused("[\"int\",[\"null\"]]", "union");
	expect_refused("[\"int\",\"int\"]", "twice");
	expect_refused("{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}", "valid name");
	expect_refused("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}", "twice");
	expect_refused("{\"type\":\"fixed\",\"name\":\"F\"}", "size");
	expect_refused("{\"type\":\"array\"}", "items");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
		       "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}}]}",
		       "defined twice");
	expect_refused("{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "may not name");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[]", "not JSON");
	expect_refused("42", "must be");
}

static void defaults_of_every_type_are_validated(void **state)
{
	tb_avro_registry_t *reg = tb_avro_registry_new(NULL);
	tb_err_t err = {{0}};

	(void)state;
	if (tb_avro_registry_add_json(
		reg,
		"{\"type\":\"record\",\"name\":\"R\",\"fields\":["
		"{\"name\":\"a\",\"type\":\"bytes\",\"default\":\"\\u00ffx\"},"
		"{\"name\":\"b\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"default\":\"ab\"},"
		"{\"name\":\"c\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]},\"default\":"
		"\"X\"},"
		"{\"name\":\"d\",\"type\":{\"type\":\"map\",\"values\":\"int\"},\"default\":{\"k\":1}},"
		"{\"name\":\"e\",\"type\":{\"type\":\"array\",\"items\":\"double\"},\"default\":[1,2.5]},"
		"{\"name\":\"f\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":["
		"{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"y\",\"type\":\"string\",\"default\":\"\"}]},"
		"\"default\":{\"x\":1}}]}",
		NULL, &err) < 0)
		fail_msg("a schema with valid defaults of every type was refused: %s", err.msg);
	tb_avro_registry_free(reg);
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"b\",\"type\":"
		       "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"default\":\"abc\"}]}",
		       "default");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"c\",\"type\":"
		       "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]},\"default\":\"Y\"}]}",
		       "default");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"f\",\"type\":"
		       "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]},"
		       "\"default\":{}}]}",
		       "default");
	expect_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"bytes\","
		       "\"default\":\"\\u0100\"}]}",
		       "default");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spec_vectors_give_the_published_canonical_forms),
	    cmocka_unit_test(spec_vectors_give_the_published_fingerprints),
	    cmocka_unit_test(crc64_of_null_is_the_documented_value),
	    cmocka_unit_test(crc64_table_matches_the_polynomial),
	    cmocka_unit_test(nested_types_inherit_the_enclosing_namespace),
	    cmocka_unit_test(a_dotted_name_sets_the_namespace_of_its_children),
	    cmocka_unit_test(an_empty_namespace_means_the_null_namespace),
	    cmocka_unit_test(string_escapes_become_utf8),
	    cmocka_unit_test(our_schemas_are_fixed_points_that_avro_c_accepts),
	    cmocka_unit_test(invalid_schemas_are_refused_with_a_reason),
	    cmocka_unit_test(defaults_of_every_type_are_validated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
