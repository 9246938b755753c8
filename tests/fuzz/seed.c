/*
 * seed.c — writes the generated part of the fuzz corpus (the rest is copied
 * from test inputs by seed-corpus.sh, which runs this).
 *
 * fuzz_avro/: real single-object
 * encodings (our encoder, the current schemas) of every record type, each
 * once with every field populated (arrays of two, nullable fields set) and
 * once as the zero record (empty strings, nulls, empty arrays). Files are
 * named after the record ("RuntimeEvent-full.avro"), so a schema change
 * rewrites the same files: `make fuzz-seed`.
 * Plus RuntimeEvents written by avro-c with the older and newer writer
 * schemas of tests/data/avro (v0, v2: maps, enums, fixed, floats, nested
 * records), so schema resolution starts from valid messages too.
 * fuzz_http_params/: timeline queries with real cursors (tb_api_cursor_encode
 * with the check of the query's own tenant and filters, tenant "fuzz" as in
 * the target), which a fuzzer could not guess.
 *
 * Usage: seed CORPUS_DIR   (e.g. tests/fuzz/corpus)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <avro.h>
#include <jansson.h>

#include "../../services/timeline-api/params.h"
#include "tb/avro.h"
#include "tb/records.h"

static const char *g_dir;
static int g_failed;

/* Static strings cast for the records' char * fields: the records built here
 * are only encoded, never cleared. */
#define S(x) ((char *)(x))

static void write_file(const char *sub, const char *file, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_dir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "seed: mkdir %s: %s\n", path, strerror(errno));
		g_failed = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", g_dir, sub, file);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "seed: write %s: %s\n", path, strerror(errno));
		g_failed = 1;
	}
}

static void write_msg(const char *name, const char *variant, int rc, uint8_t *buf, size_t len, tb_err_t *err)
{
	char file[256];

	if (rc != 0) {
		fprintf(stderr, "seed: encode %s-%s: %s\n", name, variant, err->msg);
		g_failed = 1;
		return;
	}
	snprintf(file, sizeof(file), "%s-%s.avro", name, variant);
	write_file("fuzz_avro", file, buf, len);
	free(buf);
}

/* Encode first, then write what the call left in buf/len (arguments of one
 * call are evaluated in no fixed order, so this cannot be one call). */
#define EMIT(name, variant, call)                                                                            \
	do {                                                                                                 \
		int rc_ = (call);                                                                            \
		write_msg((name), (variant), rc_, buf, len, &err);                                           \
	} while (0)

static void set_id(uint8_t id[TB_EVENT_ID_LEN], uint8_t seed)
{
	for (int i = 0; i < TB_EVENT_ID_LEN; i++)
		id[i] = (uint8_t)(seed + 17 * i);
}

static const tb_container_t container = {
    .id = S("3f2a9c"),
    .name = S("shop"),
    .image = S("docker.io/demo/shop:1.2"),
    .image_digest = S("sha256:aaaa000000000000000000000000000000000000000000000000000000000000"),
    .pod = S("shop-7d9f"),
    .namespace_ = S("demo"),
    .workload = S("shop"),
    .workload_kind = S("Deployment"),
    .cgroup_id = 4242,
};

static void runtime_event(const tb_avro_registry_t *reg)
{
	static char *env[] = {S("LANG=C"), S("HOME=/root")};
	tb_raw_frame_t kf[2] = {
	    {.symbol = S("do_sys_openat2"), .offset = 0x9a},
	    {.has_address = 1, .address = 0xffffffff81000000, .module = S("[ext4]"), .offset = 12}};
	tb_raw_frame_t uf[2] = {{.module = S("/usr/bin/shop"),
				 .offset = 0x1234,
				 .symbol = S("_ZN4shop5parseEv"),
				 .build_id = S("0123456789abcdef0123456789abcdef01234567")},
				{.has_address = 1, .address = 0x7f0000001000, .module = S("/lib/libc.so.6")}};
	tb_runtime_event_t ev = {
	    .tenant = S("t1"),
	    .source = S("tetragon"),
	    .kind = S("kprobe"),
	    .ts_ns = 1767225610000000000,
	    .node = S("node-1"),
	    .process = {.pid = 42,
			.tid = 43,
			.uid = 1000,
			.binary = S("/usr/bin/shop"),
			.binary_build_id = S("0123456789abcdef0123456789abcdef01234567"),
			.args = S("--port 80"),
			.cwd = S("/srv"),
			.exec_id = S("bm9kZS0xOjEyMzQ6NDI="),
			.parent_exec_id = S("bm9kZS0xOjE6MQ=="),
			.comm = S("shop"),
			.env = env,
			.n_env = 2},
	    .container = container,
	    .kernel_frames = kf,
	    .n_kernel_frames = 2,
	    .user_frames = uf,
	    .n_user_frames = 2,
	    .count = 3,
	    .hook = S("security_file_open"),
	    .policy = S("file-monitoring"),
	    .path = S("/etc/passwd"),
	    .build_id = S("89abcdef"),
	    .origin = S("tb.tetragon.raw.v1/3@1200"),
	    .attached = 1,
	    .component_purl = S("pkg:deb/debian/shop@1.2"),
	};
	tb_runtime_event_t zero = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};

	set_id(ev.event_id, 1);
	EMIT("RuntimeEvent", "full", tb_avro_encode_runtime_event(reg, &ev, &buf, &len, &err));
	EMIT("RuntimeEvent", "zero", tb_avro_encode_runtime_event(reg, &zero, &buf, &len, &err));
}

static void events(const tb_avro_registry_t *reg)
{
	static char *fids[] = {S("CVE-2024-0001"), S("GHSA-xxxx-yyyy-zzzz")};
	tb_canon_frame_t fr[2] = {{.frame_id = 11,
				   .build_id = S(""),
				   .module = S(""),
				   .file_offset = 0x9a,
				   .symbol = S("do_sys_openat2"),
				   .kernel = 1},
				  {.frame_id = -7,
				   .build_id = S("0123456789abcdef"),
				   .module = S("shop"),
				   .file_offset = 0x1234,
				   .symbol = S("shop::parse"),
				   .artifact_digest = container.image_digest,
				   .purl = S("pkg:deb/debian/shop@1.2"),
				   .finding_ids = fids,
				   .n_finding_ids = 2}};
	tb_event_t ev = {
	    .tenant = S("t1"),
	    .source = S("probe"),
	    .kind = S("sample"),
	    .ts_ns = 1767225610000000000,
	    .node = S("5f1c"),
	    .pid = 42,
	    .tid = 42,
	    .uid_hash = S("9e2b"),
	    .binary = S("/usr/bin/shop"),
	    .exec_id = S("n1:1:42"),
	    .container = container,
	    .frames = fr,
	    .n_frames = 2,
	    .stack_id = 99,
	    .leaf_frame_id = 11,
	    .count = 2,
	    .hook = S("h"),
	    .policy = S("p"),
	    .path = S("/usr/bin/shop"),
	    .build_id = S("0123456789abcdef"),
	    .attached = 1,
	    .component_purl = S("pkg:deb/debian/shop@1.2"),
	    .artifact_digest = container.image_digest,
	    .purl = S("pkg:deb/debian/shop@1.2"),
	    .correlation = S("correlated"),
	};
	tb_event_t zero = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};

	set_id(ev.event_id, 2);
	EMIT("CanonicalEvent", "full", tb_avro_encode_canonical_event(reg, &ev, &buf, &len, &err));
	EMIT("CanonicalEvent", "zero", tb_avro_encode_canonical_event(reg, &zero, &buf, &len, &err));
	EMIT("CorrelatedEvent", "full", tb_avro_encode_correlated_event(reg, &ev, &buf, &len, &err));
	EMIT("CorrelatedEvent", "zero", tb_avro_encode_correlated_event(reg, &zero, &buf, &len, &err));
}

static void artifact_finding_dead(const tb_avro_registry_t *reg)
{
	static char *syms[] = {S("shop::parse"), S("inflate")};
	tb_component_t comps[2] = {{S("pkg:deb/debian/shop@1.2"), S("shop"), S("1.2")},
				   {S("pkg:deb/debian/zlib1g@1.2.13"), S("zlib1g"), NULL}};
	tb_binary_t bins[2] = {{S("/usr/bin/shop"), S("0123456789abcdef"), S("pkg:deb/debian/shop@1.2")},
			       {S("/lib/libz.so.1"), S("89abcdef"), NULL}};
	tb_artifact_t a = {.tenant = S("t1"),
			   .digest = container.image_digest,
			   .name = S("shop"),
			   .version = S("1.2"),
			   .sbom_format = S("cyclonedx-1.5"),
			   .sbom_sha256 =
			       S("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
			   .registered_ns = 1767225600000000000,
			   .components = comps,
			   .n_components = 2,
			   .binaries = bins,
			   .n_binaries = 2};
	tb_finding_t f = {.tenant = S("t1"),
			  .finding_id = S("CVE-2024-0001"),
			  .vuln_id = S("CVE-2024-0001"),
			  .purl = S("pkg:deb/debian/zlib1g@1.2.13"),
			  .artifact_digest = container.image_digest,
			  .symbols = syms,
			  .n_symbols = 2,
			  .registered_ns = 1767225600000000000};
	tb_dead_letter_t d = {.service = S("adapter"),
			      .reason = S("tetragon: process_kprobe.args: expected array"),
			      .source_topic = S("tb.tetragon.raw.v1"),
			      .partition = 3,
			      .offset = 1200,
			      .position = S("tb.tetragon.raw.v1/3@1200:1:1"),
			      .ts_ns = 1767225600000000000,
			      .key = (uint8_t *)S("k1"),
			      .key_len = 2,
			      .payload = (uint8_t *)S("{\"x\":1}"),
			      .payload_len = 7};
	tb_artifact_t za = {0};
	tb_finding_t zf = {0};
	tb_dead_letter_t zd = {.partition = -1};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};

	EMIT("Artifact", "full", tb_avro_encode_artifact(reg, &a, &buf, &len, &err));
	EMIT("Artifact", "zero", tb_avro_encode_artifact(reg, &za, &buf, &len, &err));
	EMIT("Finding", "full", tb_avro_encode_finding(reg, &f, &buf, &len, &err));
	EMIT("Finding", "zero", tb_avro_encode_finding(reg, &zf, &buf, &len, &err));
	EMIT("DeadLetter", "full", tb_avro_encode_dead_letter(reg, &d, &buf, &len, &err));
	EMIT("DeadLetter", "zero", tb_avro_encode_dead_letter(reg, &zd, &buf, &len, &err));
}

static void probe_batch(const tb_avro_registry_t *reg)
{
	tb_probe_process_t procs[2] = {
	    {.pid = 42,
	     .exec_id = S("n1:1234:42"),
	     .binary = S("/usr/bin/shop"),
	     .binary_build_id = S("0123456789abcdef"),
	     .container_id = S("3f2a9c"),
	     .cgroup_id = 4242,
	     .comm = S("shop"),
	     .start_ns = 1234},
	    {.pid = 7, .exec_id = S("n1:99:7"), .binary = S("/bin/sh"), .comm = S("sh"), .start_ns = 99}};
	tb_probe_kframe_t kf[2] = {{S("do_sys_openat2"), 0x9a, NULL}, {S("ext4_file_open"), 4, S("ext4")}};
	tb_probe_uframe_t uf[2] = {{.build_id = S("0123456789abcdef"),
				    .file_offset = 0x1234,
				    .module = S("/usr/bin/shop"),
				    .symbol = S("main")},
				   {.module = S(""), .has_address = 1, .address = 0x7f0000001000}};
	tb_probe_sample_t samples[2] = {
	    {.pid = 42,
	     .tid = 43,
	     .cpu = 1,
	     .first_ns = 10,
	     .last_ns = 20,
	     .count = 5,
	     .kernel_frames = kf,
	     .n_kernel_frames = 2,
	     .user_frames = uf,
	     .n_user_frames = 2},
	    {.pid = 7, .tid = 7, .cpu = -1, .first_ns = 30, .last_ns = 30, .count = 1}};
	tb_probe_uprobe_count_t uc[2] = {
	    {.build_id = S("0123456789abcdef"),
	     .binary = S("/usr/bin/shop"),
	     .symbol = S("parse"),
	     .file_offset = 0x1234,
	     .hits = 9,
	     .attached = 1,
	     .stack = uf,
	     .n_stack = 2},
	    {.binary = S("/usr/bin/shop"), .symbol = S("unused"), .file_offset = 0x2000, .attached = 1}};
	tb_probe_load_t loads[2] = {{42, S("/lib/libz.so.1"), S("89abcdef"), 15},
				    {7, S("/lib/libc.so.6"), NULL, 16}};
	tb_probe_batch_t b = {.node = S("n1"),
			      .boot_id = S("6c1e0d5a-0000-4000-8000-000000000001"),
			      .agent_version = S("0.9.0"),
			      .seq = 7,
			      .start_ns = 10,
			      .end_ns = 40,
			      .processes = procs,
			      .n_processes = 2,
			      .samples = samples,
			      .n_samples = 2,
			      .uprobe_counts = uc,
			      .n_uprobe_counts = 2,
			      .loads = loads,
			      .n_loads = 2,
			      .lost_samples = 1,
			      .lost_events = 2};
	tb_probe_batch_t zero = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};

	EMIT("ProbeBatch", "full", tb_avro_encode_probe_batch(reg, &b, &buf, &len, &err));
	EMIT("ProbeBatch", "zero", tb_avro_encode_probe_batch(reg, &zero, &buf, &len, &err));
}

/* ---- RuntimeEvents of other writer schemas, written by avro-c -------------- */

/* The record test_avro.c writes with these schemas (fields a schema lacks
 * are ignored). */
static const char other_writer_json[] =
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

static int avroc_fill(avro_value_t *v, const json_t *j);

static int avroc_fill_union(avro_value_t *v, const json_t *j)
{
	avro_schema_t sch = avro_value_get_schema(v);
	avro_value_t child;
	int null_branch = -1, other = -1;

	for (size_t i = 0; i < avro_schema_union_size(sch); i++) {
		avro_schema_t b = avro_schema_union_branch(sch, (int)i);

		if (is_avro_null(b) && null_branch < 0)
			null_branch = (int)i;
		else if (!is_avro_null(b) && other < 0)
			other = (int)i;
	}
	if (avro_value_set_branch(v, json_is_null(j) ? null_branch : other, &child))
		return -1;
	return avroc_fill(&child, j);
}

/* Records by field name (absent: null for unions, {} for records, else the
 * zero value), unions: null or the first other branch. */
static int avroc_fill_record(avro_value_t *v, const json_t *j)
{
	avro_value_t child;
	const char *name;
	size_t n = 0;

	avro_value_get_size(v, &n);
	for (size_t i = 0; i < n; i++) {
		const json_t *fj;
		json_t *empty = NULL;
		int rc = 0;

		if (avro_value_get_by_index(v, i, &child, &name))
			return -1;
		fj = json_object_get(j, name);
		if (!fj && avro_value_get_type(&child) == AVRO_UNION)
			fj = json_null();
		if (!fj && avro_value_get_type(&child) == AVRO_RECORD)
			fj = empty = json_object();
		if (fj)
			rc = avroc_fill(&child, fj);
		json_decref(empty);
		if (rc)
			return -1;
	}
	return 0;
}

static int avroc_fill(avro_value_t *v, const json_t *j)
{
	avro_value_t child;
	const char *key;
	json_t *item;

	switch (avro_value_get_type(v)) {
	case AVRO_STRING:
		return avro_value_set_string(v, json_string_value(j));
	case AVRO_BYTES:
		return avro_value_set_bytes(v, (void *)json_string_value(j), json_string_length(j));
	case AVRO_FIXED:
		return avro_value_set_fixed(v, (void *)json_string_value(j), json_string_length(j));
	case AVRO_INT32:
		return avro_value_set_int(v, (int32_t)json_integer_value(j));
	case AVRO_INT64:
		return avro_value_set_long(v, json_integer_value(j));
	case AVRO_BOOLEAN:
		return avro_value_set_boolean(v, json_is_true(j));
	case AVRO_NULL:
		return avro_value_set_null(v);
	case AVRO_DOUBLE:
		return avro_value_set_double(v, json_number_value(j));
	case AVRO_FLOAT:
		return avro_value_set_float(v, (float)json_number_value(j));
	case AVRO_ENUM:
		return avro_value_set_enum(v, (int)json_integer_value(j));
	case AVRO_MAP:
		json_object_foreach((json_t *)j, key, item)
		{
			if (avro_value_add(v, key, &child, NULL, NULL) || avroc_fill(&child, item))
				return -1;
		}
		return 0;
	case AVRO_ARRAY:
		for (size_t i = 0; i < json_array_size(j); i++)
			if (avro_value_append(v, &child, NULL) || avroc_fill(&child, json_array_get(j, i)))
				return -1;
		return 0;
	case AVRO_RECORD:
		return avroc_fill_record(v, j);
	case AVRO_UNION:
		return avroc_fill_union(v, j);
	default:
		return -1;
	}
}

/* A single-object message of the record in other_writer_json, written with
 * the schema in file `avsc` (relative to the repository root). */
static void other_writer(const char *avsc, const char *variant)
{
	json_t *schema_doc = json_load_file(avsc, 0, NULL), *data = json_loads(other_writer_json, 0, NULL);
	char *schema_json = schema_doc ? json_dumps(schema_doc, JSON_COMPACT) : NULL;
	avro_schema_t sch = NULL;
	avro_value_iface_t *iface = NULL;
	avro_value_t v;
	avro_writer_t w;
	uint8_t *out = NULL;
	size_t size = 0;
	uint64_t fp = 0;
	tb_err_t err = {{0}};
	int ok = schema_json && data && tb_avro_fingerprint(schema_json, &fp, &err) == 0 &&
		 avro_schema_from_json_length(schema_json, strlen(schema_json), &sch) == 0 &&
		 (iface = avro_generic_class_from_schema(sch)) && avro_generic_value_new(iface, &v) == 0;

	if (ok) {
		ok = avroc_fill(&v, data) == 0 && avro_value_sizeof(&v, &size) == 0 &&
		     (out = malloc(TB_AVRO_HEADER_LEN + size));
		if (ok) {
			out[0] = 0xC3;
			out[1] = 0x01;
			for (int i = 0; i < 8; i++)
				out[2 + i] = (uint8_t)(fp >> (8 * i));
			w = avro_writer_memory((char *)out + TB_AVRO_HEADER_LEN, (int64_t)size);
			ok = avro_value_write(w, &v) == 0;
			avro_writer_free(w);
		}
		avro_value_decref(&v);
	}
	if (ok) {
		char file[64];

		snprintf(file, sizeof(file), "RuntimeEvent-%s.avro", variant);
		write_file("fuzz_avro", file, out, TB_AVRO_HEADER_LEN + size);
	} else {
		fprintf(stderr, "seed: %s: cannot write with avro-c: %s %s\n", avsc, err.msg,
			avro_strerror());
		g_failed = 1;
	}
	free(out);
	if (iface)
		avro_value_iface_decref(iface);
	if (sch)
		avro_schema_decref(sch);
	free(schema_json);
	json_decref(schema_doc);
	json_decref(data);
}

/* A timeline query (without cursor) and the same query continued with a
 * cursor that the API would have returned for it. */
static void cursor_query(const char *file, const char *query, tb_api_cursor_mode_t mode, int64_t bucket_s,
			 const char *artifact, const char *purl, const char *symbol)
{
	tb_api_filter_t f = {.artifact = artifact, .purl = purl, .symbol = symbol};
	tb_api_cursor_t c = {.mode = mode, .ts_us = INT64_C(1767225000000000)};
	char enc[TB_API_CURSOR_MAX], text[1024];
	int n;

	if (mode == TB_API_CURSOR_EVENTS)
		set_id(c.event_id, 3);
	c.check = tb_api_cursor_check("fuzz", mode, &f, bucket_s);
	tb_api_cursor_encode(&c, enc);
	n = snprintf(text, sizeof(text), "%s%scursor=%s", query, query[0] ? "&" : "", enc);
	write_file("fuzz_http_params", file, text, (size_t)n);
}

static void cursors(void)
{
	cursor_query("cursor-events.txt", "", TB_API_CURSOR_EVENTS, 0, NULL, NULL, NULL);
	cursor_query("cursor-events-filtered.txt",
		     "artifact=sha256:aaaa000000000000000000000000000000000000000000000000000000000000"
		     "&purl=pkg%3Adeb%2Fdebian%2Fshop%401.2&symbol=main&from=now-1h&to=now&limit=5",
		     TB_API_CURSOR_EVENTS, 0,
		     "sha256:aaaa000000000000000000000000000000000000000000000000000000000000",
		     "pkg:deb/debian/shop@1.2", "main");
	cursor_query("cursor-buckets.txt", "bucket=5m&from=2025-12-31T00:00:00Z&to=2026-01-01T00:00:00Z",
		     TB_API_CURSOR_BUCKETS, 300, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
	tb_err_t err = {{0}};
	tb_avro_registry_t *reg;

	if (argc != 2) {
		fprintf(stderr, "usage: seed CORPUS_DIR\n");
		return 2;
	}
	g_dir = argv[1];
	reg = tb_avro_registry_new(&err);
	if (!reg) {
		fprintf(stderr, "seed: %s\n", err.msg);
		return 1;
	}
	runtime_event(reg);
	events(reg);
	artifact_finding_dead(reg);
	probe_batch(reg);
	tb_avro_registry_free(reg);
	other_writer("tests/data/avro/RuntimeEvent.v0.avsc", "v0-writer");
	other_writer("tests/data/avro/RuntimeEvent.v2.avsc", "v2-writer");
	cursors();
	return g_failed;
}
