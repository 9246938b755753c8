/*
 * Unit tests for the Avro codec (tb/avro.h): round trips of every record,
 * deterministic bytes, agreement with avro-c (an independent reader and
 * writer), schema evolution in both directions, resolution that must be
 * refused, limits on encode, and a registry shared by threads.
 * Corrupt input: test_avro_corrupt.c. Canonical form: test_avro_canonical.c.
 */
#include <pthread.h>

#include "test_avro_fixtures.h"

static tb_avro_registry_t *reg;

static int setup(void **state)
{
	tb_err_t err = {{0}};

	(void)state;
	reg = tb_avro_registry_new(&err);
	if (!reg)
		print_error("tb_avro_registry_new: %s\n", err.msg);
	return reg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tb_avro_registry_free(reg);
	return 0;
}

static const char *const all_records[] = {
    TB_AVRO_RUNTIME_EVENT, TB_AVRO_CANONICAL_EVENT, TB_AVRO_CORRELATED_EVENT, TB_AVRO_ARTIFACT,
    TB_AVRO_FINDING,	   TB_AVRO_DEAD_LETTER,	    TB_AVRO_PROBE_BATCH,
};

static void registry_has_a_distinct_reader_for_every_record(void **state)
{
	uint64_t fps[7];
	tb_err_t err = {{0}};

	(void)state;
	for (int i = 0; i < 7; i++) {
		if (tb_avro_registry_reader_fp(reg, all_records[i], &fps[i], &err) < 0)
			fail_msg("no reader for %s: %s", all_records[i], err.msg);
		for (int k = 0; k < i; k++)
			if (fps[k] == fps[i])
				fail_msg("%s and %s share fingerprint %016llx", all_records[k],
					 all_records[i], (unsigned long long)fps[i]);
	}
	assert_int_equal(tb_avro_registry_reader_fp(reg, "tracebridge.v1.Nope", &fps[0], &err), -1);
}

/* ---- round trips -------------------------------------------------------------------
 * ROUND_TRIP(name, T, fill, expect): encode, decode, compare, and check that
 * the message peeks as the record's name. */

#define ROUND_TRIP(name, T, recname, in, expect_call)                                                        \
	do {                                                                                                 \
		uint8_t *buf = NULL;                                                                         \
		size_t len = 0;                                                                              \
		T out;                                                                                       \
		const char *peeked = NULL;                                                                   \
		tb_err_t err = {{0}};                                                                        \
                                                                                                             \
		if (tb_avro_encode_##name(reg, in, &buf, &len, &err) < 0)                                    \
			fail_msg("encode: %s", err.msg);                                                     \
		if (tb_avro_decode_##name(reg, buf, len, &out, &err) < 0)                                    \
			fail_msg("decode: %s", err.msg);                                                     \
		assert_int_equal(tb_avro_peek(reg, buf, len, &peeked, NULL, &err), 0);                       \
		assert_string_equal(peeked, recname);                                                        \
		expect_call;                                                                                 \
		free(buf);                                                                                   \
		name##_clear_(&out);                                                                         \
	} while (0)

#define runtime_event_clear_ tb_runtime_event_clear
#define canonical_event_clear_ tb_event_clear
#define correlated_event_clear_ tb_event_clear
#define artifact_clear_ tb_artifact_clear
#define finding_clear_ tb_finding_clear
#define dead_letter_clear_ tb_dead_letter_clear
#define probe_batch_clear_ tb_probe_batch_clear

static void runtime_event_round_trips_with_every_field(void **state)
{
	tb_runtime_event_t in;

	(void)state;
	fill_runtime_event(&in, 16);
	ROUND_TRIP(runtime_event, tb_runtime_event_t, TB_AVRO_RUNTIME_EVENT, &in,
		   expect_runtime_event(&in, &out));
	tb_runtime_event_clear(&in);
}

static void runtime_event_round_trips_with_minimal_fields(void **state)
{
	tb_runtime_event_t in = {0};

	(void)state;
	ROUND_TRIP(runtime_event, tb_runtime_event_t, TB_AVRO_RUNTIME_EVENT, &in, {
		expect_runtime_event(&in, &out);
		/* non-nullable strings come back as "", nullable ones as NULL */
		assert_non_null(out.tenant);
		assert_null(out.hook);
		assert_null(out.kernel_frames);
	});
}

static void canonical_event_round_trips_with_every_field(void **state)
{
	tb_event_t in;

	(void)state;
	fill_event(&in, 12, 0);
	ROUND_TRIP(canonical_event, tb_event_t, TB_AVRO_CANONICAL_EVENT, &in, expect_event(&in, &out, 0));
	tb_event_clear(&in);
}

static void canonical_event_round_trips_with_minimal_fields(void **state)
{
	tb_event_t in = {0};

	(void)state;
	ROUND_TRIP(canonical_event, tb_event_t, TB_AVRO_CANONICAL_EVENT, &in, expect_event(&in, &out, 0));
}

static void correlated_event_round_trips_with_every_field(void **state)
{
	tb_event_t in;

	(void)state;
	fill_event(&in, 12, 1);
	ROUND_TRIP(correlated_event, tb_event_t, TB_AVRO_CORRELATED_EVENT, &in, expect_event(&in, &out, 1));
	tb_event_clear(&in);
}

static void correlated_event_round_trips_with_minimal_fields(void **state)
{
	tb_event_t in = {0};

	(void)state;
	ROUND_TRIP(correlated_event, tb_event_t, TB_AVRO_CORRELATED_EVENT, &in, expect_event(&in, &out, 1));
}

static void artifact_round_trips_with_every_field(void **state)
{
	tb_artifact_t in;

	(void)state;
	fill_artifact(&in);
	ROUND_TRIP(artifact, tb_artifact_t, TB_AVRO_ARTIFACT, &in, expect_artifact(&in, &out));
	tb_artifact_clear(&in);
}

static void artifact_round_trips_with_minimal_fields(void **state)
{
	tb_artifact_t in = {0};

	(void)state;
	ROUND_TRIP(artifact, tb_artifact_t, TB_AVRO_ARTIFACT, &in, expect_artifact(&in, &out));
}

static void finding_round_trips_with_every_field(void **state)
{
	tb_finding_t in;

	(void)state;
	fill_finding(&in);
	ROUND_TRIP(finding, tb_finding_t, TB_AVRO_FINDING, &in, expect_finding(&in, &out));
	tb_finding_clear(&in);
}

static void finding_round_trips_with_minimal_fields(void **state)
{
	tb_finding_t in = {0};

	(void)state;
	ROUND_TRIP(finding, tb_finding_t, TB_AVRO_FINDING, &in, expect_finding(&in, &out));
}

static void dead_letter_round_trips_with_every_field(void **state)
{
	tb_dead_letter_t in;

	(void)state;
	fill_dead_letter(&in);
	ROUND_TRIP(dead_letter, tb_dead_letter_t, TB_AVRO_DEAD_LETTER, &in, expect_dead_letter(&in, &out));
	tb_dead_letter_clear(&in);
}

static void dead_letter_round_trips_with_minimal_fields(void **state)
{
	tb_dead_letter_t in = {0};

	(void)state;
	in.partition = -1;
	in.offset = -1;
	ROUND_TRIP(dead_letter, tb_dead_letter_t, TB_AVRO_DEAD_LETTER, &in, {
		expect_dead_letter(&in, &out);
		assert_null(out.key); /* absent key stays absent */
		assert_int_equal(out.payload_len, 0);
	});
}

static void probe_batch_round_trips_with_every_field(void **state)
{
	tb_probe_batch_t in;

	(void)state;
	fill_probe_batch(&in, 50);
	ROUND_TRIP(probe_batch, tb_probe_batch_t, TB_AVRO_PROBE_BATCH, &in, expect_probe_batch(&in, &out));
	tb_probe_batch_clear(&in);
}

static void probe_batch_round_trips_with_minimal_fields(void **state)
{
	tb_probe_batch_t in = {0};

	(void)state;
	ROUND_TRIP(probe_batch, tb_probe_batch_t, TB_AVRO_PROBE_BATCH, &in, expect_probe_batch(&in, &out));
}

static void canonical_event_leaves_out_the_correlation_fields(void **state)
{
	tb_event_t in, out;
	uint8_t *buf;
	size_t len;
	tb_err_t err = {{0}};

	(void)state;
	fill_event(&in, 3, 1);
	assert_int_equal(tb_avro_encode_canonical_event(reg, &in, &buf, &len, &err), 0);
	assert_int_equal(tb_avro_decode_canonical_event(reg, buf, len, &out, &err), 0);
	expect_event(&in, &out, 0);
	tb_event_clear(&out);
	/* a CanonicalEvent is not a CorrelatedEvent */
	assert_int_equal(tb_avro_decode_correlated_event(reg, buf, len, &out, &err), -1);
	assert_non_null(strstr(err.msg, TB_AVRO_CANONICAL_EVENT));
	free(buf);
	tb_event_clear(&in);
}

/* ---- determinism ---------------------------------------------------------------------- */

static void same_record_encodes_to_the_same_bytes(void **state)
{
	tb_probe_batch_t in, mid;
	uint8_t *a, *b, *c;
	size_t la, lb, lc;

	(void)state;
	fill_probe_batch(&in, 20);
	assert_int_equal(tb_avro_encode_probe_batch(reg, &in, &a, &la, NULL), 0);
	assert_int_equal(tb_avro_encode_probe_batch(reg, &in, &b, &lb, NULL), 0);
	assert_int_equal(tb_avro_decode_probe_batch(reg, a, la, &mid, NULL), 0);
	assert_int_equal(tb_avro_encode_probe_batch(reg, &mid, &c, &lc, NULL), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(la, lc);
	assert_memory_equal(a, c, la);
	free(a);
	free(b);
	free(c);
	tb_probe_batch_clear(&in);
	tb_probe_batch_clear(&mid);
}

/* The exact bytes of a small record, worked out by hand from the spec. */
static void finding_encodes_to_the_bytes_the_spec_prescribes(void **state)
{
	tb_finding_t f = {0};
	char *syms[] = {"a", "bc"};
	uint8_t *buf;
	size_t len;
	uint64_t fp;
	static const uint8_t body[] = {
	    0x02, 't',			     /* tenant "t" */
	    0x04, 'F', '1',		     /* finding_id "F1" */
	    0x00,			     /* vuln_id "" (NULL) */
	    0x02, 'p',			     /* purl "p" */
	    0x00,			     /* artifact_digest: union branch 0 (null) */
	    0x04,			     /* symbols: block of 2 */
	    0x02, 'a', 0x04, 'b', 'c', 0x00, /* end of array */
	    0x7f,			     /* registered_ns = -64, zig-zag 127 */
	};

	(void)state;
	f.tenant = "t";
	f.finding_id = "F1";
	f.purl = "p";
	f.symbols = syms;
	f.n_symbols = 2;
	f.registered_ns = -64;
	assert_int_equal(tb_avro_encode_finding(reg, &f, &buf, &len, NULL), 0);
	assert_int_equal(tb_avro_registry_reader_fp(reg, TB_AVRO_FINDING, &fp, NULL), 0);
	assert_int_equal(len, TB_AVRO_HEADER_LEN + sizeof(body));
	assert_int_equal(buf[0], 0xC3);
	assert_int_equal(buf[1], 0x01);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[2 + i], (uint8_t)(fp >> (8 * i)));
	assert_memory_equal(buf + TB_AVRO_HEADER_LEN, body, sizeof(body));
	free(buf);
}

/* ---- agreement with avro-c ----------------------------------------------------------------- */

/* avro-c reads our body with the embedded schema, consumes all of it, and
 * writes back exactly the same bytes. */
static void check_avroc_agrees(const char *path, const uint8_t *buf, size_t len)
{
	char *json = read_repo_file(path);
	avro_schema_t sch;
	avro_value_iface_t *iface;
	avro_value_t v;
	avro_reader_t r;
	avro_writer_t w;
	size_t body_len = len - TB_AVRO_HEADER_LEN, size = 0;
	char *again = malloc(body_len + 1);

	assert_non_null(json);
	assert_int_equal(avro_schema_from_json_length(json, strlen(json), &sch), 0);
	iface = avro_generic_class_from_schema(sch);
	assert_int_equal(avro_generic_value_new(iface, &v), 0);
	r = avro_reader_memory((const char *)buf + TB_AVRO_HEADER_LEN, (int64_t)body_len);
	if (avro_value_read(r, &v) != 0)
		fail_msg("avro-c cannot read our %s body: %s", path, avro_strerror());
	assert_int_equal(avro_value_sizeof(&v, &size), 0);
	if (size != body_len)
		fail_msg("%s: avro-c sizes the value at %zu bytes, we wrote %zu", path, size, body_len);
	w = avro_writer_memory(again, (int64_t)body_len);
	assert_int_equal(avro_value_write(w, &v), 0);
	assert_memory_equal(again, buf + TB_AVRO_HEADER_LEN, body_len);
	avro_writer_free(w);
	avro_reader_free(r);
	avro_value_decref(&v);
	avro_value_iface_decref(iface);
	avro_schema_decref(sch);
	free(again);
	free(json);
}

static void avro_c_reads_our_bytes_and_writes_the_same(void **state)
{
	uint8_t *buf;
	size_t len;
	tb_runtime_event_t rev;
	tb_event_t ev;
	tb_artifact_t art;
	tb_finding_t fin;
	tb_dead_letter_t dl;
	tb_probe_batch_t pb;

	(void)state;
	fill_runtime_event(&rev, 8);
	assert_int_equal(tb_avro_encode_runtime_event(reg, &rev, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/RuntimeEvent.avsc", buf, len);
	free(buf);
	tb_runtime_event_clear(&rev);

	fill_event(&ev, 8, 1);
	assert_int_equal(tb_avro_encode_canonical_event(reg, &ev, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/CanonicalEvent.avsc", buf, len);
	free(buf);
	assert_int_equal(tb_avro_encode_correlated_event(reg, &ev, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/CorrelatedEvent.avsc", buf, len);
	free(buf);
	tb_event_clear(&ev);

	fill_artifact(&art);
	assert_int_equal(tb_avro_encode_artifact(reg, &art, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/Artifact.avsc", buf, len);
	free(buf);
	tb_artifact_clear(&art);

	fill_finding(&fin);
	assert_int_equal(tb_avro_encode_finding(reg, &fin, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/Finding.avsc", buf, len);
	free(buf);
	tb_finding_clear(&fin);

	fill_dead_letter(&dl);
	assert_int_equal(tb_avro_encode_dead_letter(reg, &dl, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/DeadLetter.avsc", buf, len);
	free(buf);
	tb_dead_letter_clear(&dl);

	fill_probe_batch(&pb, 5);
	assert_int_equal(tb_avro_encode_probe_batch(reg, &pb, &buf, &len, NULL), 0);
	check_avroc_agrees("schemas/avro/ProbeBatch.avsc", buf, len);
	free(buf);
	tb_probe_batch_clear(&pb);
}

static const char runtime_event_json[] =
    "{\"event_id\":\"0123456789abcdef\",\"host_ip\":\"10.0.0.1\",\"tenant\":\"acme\","
    "\"source\":\"tetragon\",\"kind\":\"exec\",\"ts_ns\":1700000000000000001,\"node\":\"n1\","
    "\"severity\":1,"
    "\"process\":{\"pid\":77,\"tid\":78,\"uid\":1000,\"binary\":\"/bin/sh\",\"exec_id\":\"e1\","
    "\"comm\":\"sh\",\"env\":[\"A=1\"],\"capabilities\":[\"CAP_NET_RAW\",\"CAP_SYS_ADMIN\"]},"
    "\"container\":{\"id\":\"c1\",\"pod\":\"p1\",\"cgroup_id\":5,\"labels\":{\"app\":\"web\","
    "\"tier\":\"front\"}},"
    "\"kernel_frames\":[{\"address\":-2130706432,\"offset\":16,\"symbol\":\"do_exit\","
    "\"inline_depth\":2}],"
    "\"user_frames\":[{\"module\":\"/bin/sh\",\"offset\":4096,\"build_id\":\"ab\"},"
    "{\"module\":\"/lib/libc.so.6\",\"offset\":8192}],"
    "\"weights\":[0.5,1.5,2.5],\"ratio\":0.25,\"digest\":\"wxyz\",\"flag\":true,\"raw\":\"xyz\","
    "\"extra\":{\"a\":1,\"b\":{\"a\":2,\"b\":{\"a\":3,\"b\":null}}},"
    "\"count\":3,\"hook\":\"sys_execve\",\"origin\":\"tb.tetragon.raw.v1/0@5\"}";

static void expect_runtime_event_json_fields(const tb_runtime_event_t *ev)
{
	EXPECT_BYTES((const uint8_t *)"0123456789abcdef", 16, ev->event_id, 16);
	EXPECT_STR("acme", ev->tenant);
	EXPECT_STR("tetragon", ev->source);
	EXPECT_STR("exec", ev->kind);
	EXPECT_INT(1700000000000000001LL, ev->ts_ns);
	EXPECT_STR("n1", ev->node);
	EXPECT_INT(77, ev->process.pid);
	EXPECT_INT(78, ev->process.tid);
	EXPECT_STR("/bin/sh", ev->process.binary);
	EXPECT_STR("e1", ev->process.exec_id);
	EXPECT_STR("sh", ev->process.comm);
	EXPECT_INT(1, ev->process.n_env);
	EXPECT_STR("A=1", ev->process.env[0]);
	EXPECT_STR(NULL, ev->process.cwd);
	EXPECT_STR("c1", ev->container.id);
	EXPECT_STR("p1", ev->container.pod);
	EXPECT_INT(1, ev->n_kernel_frames);
	EXPECT_INT(1, ev->kernel_frames[0].has_address);
	EXPECT_INT((uint64_t)(int64_t)-2130706432, ev->kernel_frames[0].address);
	EXPECT_INT(16, ev->kernel_frames[0].offset);
	EXPECT_STR("do_exit", ev->kernel_frames[0].symbol);
	EXPECT_INT(2, ev->n_user_frames);
	EXPECT_INT(0, ev->user_frames[0].has_address);
	EXPECT_STR("/bin/sh", ev->user_frames[0].module);
	EXPECT_STR("ab", ev->user_frames[0].build_id);
	EXPECT_INT(8192, ev->user_frames[1].offset);
	EXPECT_STR(NULL, ev->user_frames[1].build_id);
	EXPECT_STR("sys_execve", ev->hook);
	EXPECT_STR(NULL, ev->policy);
}

static void message_written_by_avro_c_decodes(void **state)
{
	char *schema = read_repo_file("schemas/avro/RuntimeEvent.avsc");
	tb_runtime_event_t ev;
	size_t len;
	uint8_t *msg;
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(schema);
	msg = avroc_write(schema, runtime_event_json, &len);
	if (tb_avro_decode_runtime_event(reg, msg, len, &ev, &err) < 0)
		fail_msg("decode: %s", err.msg);
	expect_runtime_event_json_fields(&ev);
	EXPECT_INT(1000, ev.process.uid);
	EXPECT_INT(5, ev.container.cgroup_id);
	EXPECT_INT(3, ev.count);
	EXPECT_STR("tb.tetragon.raw.v1/0@5", ev.origin);
	tb_runtime_event_clear(&ev);
	free(msg);
	free(schema);
}

/* ---- evolution ------------------------------------------------------------------------- */

static void older_writer_gets_the_reader_defaults(void **state)
{
	char *v0 = read_repo_file("tests/data/avro/RuntimeEvent.v0.avsc");
	tb_avro_registry_t *r2;
	tb_runtime_event_t ev;
	size_t len;
	uint8_t *msg;
	uint64_t fp = 0;
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(v0);
	r2 = tb_avro_registry_new(&err);
	assert_non_null(r2);
	msg = avroc_write(v0, runtime_event_json, &len);
	/* unknown until registered */
	assert_int_equal(tb_avro_decode_runtime_event(r2, msg, len, &ev, &err), -1);
	assert_non_null(strstr(err.msg, "unknown schema fingerprint"));
	if (tb_avro_registry_add_json(r2, v0, &fp, &err) < 0)
		fail_msg("register v0: %s", err.msg);
	assert_int_equal(msg[2], (uint8_t)fp);
	if (tb_avro_decode_runtime_event(r2, msg, len, &ev, &err) < 0)
		fail_msg("decode v0: %s", err.msg);
	expect_runtime_event_json_fields(&ev);
	/* fields the old writer lacks carry the reader's defaults */
	EXPECT_INT(-1, ev.process.uid);
	EXPECT_STR(NULL, ev.process.parent_exec_id);
	EXPECT_STR(NULL, ev.container.workload_kind);
	EXPECT_INT(0, ev.container.cgroup_id);
	EXPECT_INT(1, ev.count);
	EXPECT_STR(NULL, ev.path);
	EXPECT_STR(NULL, ev.build_id);
	EXPECT_STR(NULL, ev.origin);
	tb_runtime_event_clear(&ev);
	free(msg);
	free(v0);
	tb_avro_registry_free(r2);
}

static void newer_writer_extra_fields_are_skipped(void **state)
{
	char *v2 = read_repo_file("tests/data/avro/RuntimeEvent.v2.avsc");
	tb_avro_registry_t *r2;
	tb_runtime_event_t ev;
	size_t len;
	uint8_t *msg;
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(v2);
	r2 = tb_avro_registry_new(&err);
	assert_non_null(r2);
	if (tb_avro_registry_add_json(r2, v2, NULL, &err) < 0)
		fail_msg("register v2: %s", err.msg);
	msg = avroc_write(v2, runtime_event_json, &len);
	if (tb_avro_decode_runtime_event(r2, msg, len, &ev, &err) < 0)
		fail_msg("decode v2: %s", err.msg);
	expect_runtime_event_json_fields(&ev);
	EXPECT_INT(1000, ev.process.uid);
	EXPECT_INT(5, ev.container.cgroup_id);
	EXPECT_INT(3, ev.count);
	EXPECT_STR("tb.tetragon.raw.v1/0@5", ev.origin);
	tb_runtime_event_clear(&ev);
	free(msg);
	free(v2);
	tb_avro_registry_free(r2);
}

/* v2 makes process.binary nullable; the reader's field is not: null is an error. */
static void newer_writer_null_in_a_required_field_is_refused(void **state)
{
	char *v2 = read_repo_file("tests/data/avro/RuntimeEvent.v2.avsc");
	tb_avro_registry_t *r2 = tb_avro_registry_new(NULL);
	json_t *data = json_loads(runtime_event_json, 0, NULL);
	char *data_json;
	tb_runtime_event_t ev;
	size_t len;
	uint8_t *msg;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_avro_registry_add_json(r2, v2, NULL, &err), 0);
	json_object_set_new(json_object_get(data, "process"), "binary", json_null());
	data_json = json_dumps(data, 0);
	msg = avroc_write(v2, data_json, &len);
	assert_int_equal(tb_avro_decode_runtime_event(r2, msg, len, &ev, &err), -1);
	assert_non_null(strstr(err.msg, "process: binary"));
	assert_null(ev.tenant); /* left cleared */
	free(msg);
	free(data_json);
	json_decref(data);
	free(v2);
	tb_avro_registry_free(r2);
}

static void string_writer_is_read_into_bytes(void **state)
{
	static const char schema[] =
	    "{\"type\":\"record\",\"name\":\"DeadLetter\",\"namespace\":\"tracebridge.v1\","
	    "\"fields\":[{\"name\":\"service\",\"type\":\"string\"},"
	    "{\"name\":\"reason\",\"type\":\"bytes\"},"
	    "{\"name\":\"payload\",\"type\":\"string\"},"
	    "{\"name\":\"partition\",\"type\":\"int\"}]}";
	tb_avro_registry_t *r2 = tb_avro_registry_new(NULL);
	tb_dead_letter_t d;
	size_t len;
	uint8_t *msg;
	tb_err_t err = {{0}};

	(void)state;
	if (tb_avro_registry_add_json(r2, schema, NULL, &err) < 0)
		fail_msg("register: %s", err.msg);
	msg = avroc_write(schema, "{\"service\":\"s\",\"reason\":\"why\",\"payload\":\"{}\",\"partition\":7}",
			  &len);
	if (tb_avro_decode_dead_letter(r2, msg, len, &d, &err) < 0)
		fail_msg("decode: %s", err.msg);
	EXPECT_STR("s", d.service);
	EXPECT_STR("why", d.reason);
	EXPECT_BYTES((const uint8_t *)"{}", 2, d.payload, d.payload_len);
	EXPECT_INT(7, d.partition);
	EXPECT_STR("", d.source_topic); /* default */
	EXPECT_INT(-1, d.offset);	/* default */
	assert_null(d.key);
	tb_dead_letter_clear(&d);
	free(msg);
	tb_avro_registry_free(r2);
}

static void writer_without_a_defaultless_field_is_refused(void **state)
{
	/* Finding without "tenant": the reader has no default for it */
	static const char schema[] =
	    "{\"type\":\"record\",\"name\":\"Finding\",\"namespace\":\"tracebridge.v1\","
	    "\"fields\":[{\"name\":\"finding_id\",\"type\":\"string\"}]}";
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_avro_registry_add_json(reg, schema, NULL, &err), -1);
	if (!strstr(err.msg, "'tenant'"))
		fail_msg("expected the error to name field 'tenant', got: %s", err.msg);
}

static void writer_with_an_incompatible_type_is_refused(void **state)
{
	static const char schema[] =
	    "{\"type\":\"record\",\"name\":\"Finding\",\"namespace\":\"tracebridge.v1\","
	    "\"fields\":[{\"name\":\"tenant\",\"type\":\"string\"},"
	    "{\"name\":\"finding_id\",\"type\":\"string\"},"
	    "{\"name\":\"registered_ns\",\"type\":\"string\"}]}";
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_avro_registry_add_json(reg, schema, NULL, &err), -1);
	if (!strstr(err.msg, "registered_ns"))
		fail_msg("expected the error to name registered_ns, got: %s", err.msg);
}

static void invalid_schema_json_is_refused(void **state)
{
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_avro_registry_add_json(reg, "{\"type\":\"record\"", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "not JSON"));
	assert_int_equal(tb_avro_registry_add_json(reg, "{\"type\":\"record\",\"name\":\"X\"}", NULL, &err),
			 -1);
	assert_non_null(strstr(err.msg, "fields"));
}

static void message_of_another_record_is_refused(void **state)
{
	tb_finding_t f;
	tb_artifact_t a;
	uint8_t *buf;
	size_t len;
	tb_err_t err = {{0}};

	(void)state;
	fill_finding(&f);
	assert_int_equal(tb_avro_encode_finding(reg, &f, &buf, &len, NULL), 0);
	assert_int_equal(tb_avro_decode_artifact(reg, buf, len, &a, &err), -1);
	if (!strstr(err.msg, TB_AVRO_ARTIFACT) || !strstr(err.msg, TB_AVRO_FINDING))
		fail_msg("expected an error naming both records, got: %s", err.msg);
	free(buf);
	tb_finding_clear(&f);
}

static void unknown_record_schema_peeks_by_name_but_does_not_decode(void **state)
{
	static const char schema[] =
	    "{\"type\":\"record\",\"name\":\"Future\",\"namespace\":\"tracebridge.v2\","
	    "\"fields\":[{\"name\":\"x\",\"type\":\"long\"}]}";
	tb_avro_registry_t *r2 = tb_avro_registry_new(NULL);
	uint8_t *msg;
	size_t len;
	const char *name = NULL;
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_avro_registry_add_json(r2, schema, NULL, &err), 0);
	msg = avroc_write(schema, "{\"x\":5}", &len);
	assert_int_equal(tb_avro_peek(r2, msg, len, &name, NULL, &err), 0);
	assert_string_equal(name, "tracebridge.v2.Future");
	assert_int_equal(tb_avro_validate(r2, msg, len, &err), 0);
	assert_int_equal(tb_avro_decode_runtime_event(r2, msg, len, &ev, &err), -1);
	assert_non_null(strstr(err.msg, "tracebridge.v2.Future"));
	free(msg);
	tb_avro_registry_free(r2);
}

static void schema_directory_registers_every_avsc(void **state)
{
	const char *root = getenv("TB_SRCDIR");
	char dir[4096];
	tb_avro_registry_t *r2 = tb_avro_registry_new(NULL);
	char *v0 = read_repo_file("tests/data/avro/RuntimeEvent.v0.avsc");
	uint64_t fp = 0;
	tb_err_t err = {{0}};
	uint8_t hdr[TB_AVRO_HEADER_LEN + 1] = {0xC3, 0x01};
	const char *name;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/data/avro", root ? root : ".");
	if (tb_avro_registry_add_dir(r2, dir, &err) < 0)
		fail_msg("add_dir %s: %s", dir, err.msg);
	/* twice is harmless */
	assert_int_equal(tb_avro_registry_add_dir(r2, dir, &err), 0);
	assert_int_equal(tb_avro_fingerprint(v0, &fp, NULL), 0);
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (uint8_t)(fp >> (8 * i));
	assert_int_equal(tb_avro_peek(r2, hdr, sizeof(hdr), &name, NULL, &err), 0);
	assert_string_equal(name, TB_AVRO_RUNTIME_EVENT);
	assert_int_equal(tb_avro_registry_add_dir(r2, "/nonexistent-dir", &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir"));
	free(v0);
	tb_avro_registry_free(r2);
}

static void encode_refuses_records_over_the_limits(void **state)
{
	tb_avro_registry_t *r2 = tb_avro_registry_new(NULL);
	tb_avro_limits_t lim;
	tb_runtime_event_t ev;
	uint8_t *buf = NULL;
	size_t len;
	tb_err_t err = {{0}};

	(void)state;
	tb_avro_limits_default(&lim);
	lim.max_string_len = 8;
	tb_avro_registry_set_limits(r2, &lim);
	fill_runtime_event(&ev, 4);
	assert_int_equal(tb_avro_encode_runtime_event(r2, &ev, &buf, &len, &err), -1);
	assert_non_null(strstr(err.msg, "limit"));
	tb_avro_limits_default(&lim);
	lim.max_array_items = 3;
	tb_avro_registry_set_limits(r2, &lim);
	assert_int_equal(tb_avro_encode_runtime_event(r2, &ev, &buf, &len, &err), -1);
	assert_non_null(strstr(err.msg, "kernel_frames"));
	tb_avro_limits_default(&lim);
	lim.max_record_bytes = 200;
	tb_avro_registry_set_limits(r2, &lim);
	assert_int_equal(tb_avro_encode_runtime_event(r2, &ev, &buf, &len, &err), -1);
	assert_non_null(strstr(err.msg, "200 bytes"));
	tb_runtime_event_clear(&ev);
	tb_avro_registry_free(r2);
}

static void pid_beyond_32_bits_is_refused(void **state)
{
	char *schema = read_repo_file("schemas/avro/RuntimeEvent.avsc");
	tb_runtime_event_t ev;
	size_t len;
	uint8_t *msg;
	tb_err_t err = {{0}};

	(void)state;
	msg = avroc_write(schema, "{\"tenant\":\"t\",\"process\":{\"pid\":8589934592}}", &len);
	assert_int_equal(tb_avro_decode_runtime_event(reg, msg, len, &ev, &err), -1);
	if (!strstr(err.msg, "process: pid"))
		fail_msg("expected an error at process: pid, got: %s", err.msg);
	free(msg);
	free(schema);
}

/* ---- threads ----------------------------------------------------------------------------- */

typedef struct thread_arg {
	const uint8_t *want;
	size_t want_len;
	int mismatches;
} thread_arg_t;

static void *encode_decode_loop(void *p)
{
	thread_arg_t *a = p;
	tb_runtime_event_t ev;

	fill_runtime_event(&ev, 16);
	for (int i = 0; i < 500; i++) {
		uint8_t *buf;
		size_t len;
		tb_runtime_event_t out;

		if (tb_avro_encode_runtime_event(reg, &ev, &buf, &len, NULL) < 0) {
			a->mismatches++;
			continue;
		}
		if (len != a->want_len || memcmp(buf, a->want, len) != 0)
			a->mismatches++;
		if (tb_avro_decode_runtime_event(reg, buf, len, &out, NULL) < 0 || out.n_user_frames != 16 ||
		    strcmp(out.user_frames[15].symbol, "func_15") != 0)
			a->mismatches++;
		tb_runtime_event_clear(&out);
		free(buf);
	}
	tb_runtime_event_clear(&ev);
	return NULL;
}

static void threads_share_one_registry(void **state)
{
	tb_runtime_event_t ev;
	uint8_t *want;
	size_t want_len;
	pthread_t th[4];
	thread_arg_t args[4];

	(void)state;
	fill_runtime_event(&ev, 16);
	assert_int_equal(tb_avro_encode_runtime_event(reg, &ev, &want, &want_len, NULL), 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (thread_arg_t){want, want_len, 0};
		assert_int_equal(pthread_create(&th[i], NULL, encode_decode_loop, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (args[i].mismatches)
			fail_msg("thread %d: %d of 500 round trips differed from the single-thread bytes", i,
				 args[i].mismatches);
	}
	free(want);
	tb_runtime_event_clear(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(registry_has_a_distinct_reader_for_every_record),
	    cmocka_unit_test(runtime_event_round_trips_with_every_field),
	    cmocka_unit_test(runtime_event_round_trips_with_minimal_fields),
	    cmocka_unit_test(canonical_event_round_trips_with_every_field),
	    cmocka_unit_test(canonical_event_round_trips_with_minimal_fields),
	    cmocka_unit_test(correlated_event_round_trips_with_every_field),
	    cmocka_unit_test(correlated_event_round_trips_with_minimal_fields),
	    cmocka_unit_test(artifact_round_trips_with_every_field),
	    cmocka_unit_test(artifact_round_trips_with_minimal_fields),
	    cmocka_unit_test(finding_round_trips_with_every_field),
	    cmocka_unit_test(finding_round_trips_with_minimal_fields),
	    cmocka_unit_test(dead_letter_round_trips_with_every_field),
	    cmocka_unit_test(dead_letter_round_trips_with_minimal_fields),
	    cmocka_unit_test(probe_batch_round_trips_with_every_field),
	    cmocka_unit_test(probe_batch_round_trips_with_minimal_fields),
	    cmocka_unit_test(canonical_event_leaves_out_the_correlation_fields),
	    cmocka_unit_test(same_record_encodes_to_the_same_bytes),
	    cmocka_unit_test(finding_encodes_to_the_bytes_the_spec_prescribes),
	    cmocka_unit_test(avro_c_reads_our_bytes_and_writes_the_same),
	    cmocka_unit_test(message_written_by_avro_c_decodes),
	    cmocka_unit_test(older_writer_gets_the_reader_defaults),
	    cmocka_unit_test(newer_writer_extra_fields_are_skipped),
	    cmocka_unit_test(newer_writer_null_in_a_required_field_is_refused),
	    cmocka_unit_test(string_writer_is_read_into_bytes),
	    cmocka_unit_test(writer_without_a_defaultless_field_is_refused),
	    cmocka_unit_test(writer_with_an_incompatible_type_is_refused),
	    cmocka_unit_test(invalid_schema_json_is_refused),
	    cmocka_unit_test(message_of_another_record_is_refused),
	    cmocka_unit_test(unknown_record_schema_peeks_by_name_but_does_not_decode),
	    cmocka_unit_test(schema_directory_registers_every_avsc),
	    cmocka_unit_test(encode_refuses_records_over_the_limits),
	    cmocka_unit_test(pid_beyond_32_bits_is_refused),
	    cmocka_unit_test(threads_share_one_registry),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
