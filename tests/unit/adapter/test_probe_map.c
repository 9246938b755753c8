/*
 * Unit tests for the adapter's ProbeBatch -> RuntimeEvent mapping
 * (services/adapter/probe_map.c) on hand-built tb_probe_batch_t values:
 * each entry kind, the process table lookup, zero-hit uprobes, frame caps,
 * validation (whole batch or nothing), and the event-id recipe of
 * probe_map.h recomputed here field by field. Every emitted event goes
 * through the real Avro codec (encode + decode) before it is checked, so
 * what is checked is what would go on the topic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/adapter/probe_map.h"
#include "tb/avro.h"
#include "tb/hash.h"

#define MAX_OUT 300

static tb_avro_registry_t *reg;

typedef struct out {
	tb_runtime_event_t ev[MAX_OUT];
	size_t n;
	int fail_at; /* emit fails on this call (1-based); 0 = never */
} out_t;

static out_t g_out; /* what map_ok() mapped last */

/* ---- helpers ------------------------------------------------------------- */

#define EXPECT_STR(want, got) expect_str_(#got, (want), (got), __LINE__)
#define EXPECT_INT(want, got) expect_int_(#got, (int64_t)(want), (int64_t)(got), __LINE__)

static void expect_str_(const char *what, const char *want, const char *got, int line)
{
	if ((!want && !got) || (want && got && strcmp(want, got) == 0))
		return;
	fail_msg("line %d: %s: expected %s%s%s, got %s%s%s", line, what, want ? "\"" : "",
		 want ? want : "NULL", want ? "\"" : "", got ? "\"" : "", got ? got : "NULL",
		 got ? "\"" : "");
}

static void expect_int_(const char *what, int64_t want, int64_t got, int line)
{
	if (want != got)
		fail_msg("line %d: %s: expected %lld, got %lld", line, what, (long long)want, (long long)got);
}

static void expect_id(const uint8_t want[16], const uint8_t got[16], const char *what)
{
	char w[33], g[33];

	if (memcmp(want, got, 16) == 0)
		return;
	tb_hex(want, 16, w);
	tb_hex(got, 16, g);
	fail_msg("%s: expected event_id %s, got %s", what, w, g);
}

/* Emit callback: round-trip each event through the Avro codec into out. */
static int collect(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err)
{
	out_t *o = ctx;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (o->fail_at && (size_t)o->fail_at == o->n + 1)
		return tb_err(err, "emit refused event %zu", o->n + 1);
	if (o->n >= MAX_OUT)
		fail_msg("more than %d events emitted", MAX_OUT);
	if (tb_avro_encode_runtime_event(reg, ev, &buf, &len, err) < 0)
		fail_msg("encode emitted event: %s", err->msg);
	memset(&o->ev[o->n], 0, sizeof(o->ev[0]));
	if (tb_avro_decode_runtime_event(reg, buf, len, &o->ev[o->n], err) < 0)
		fail_msg("decode emitted event: %s", err->msg);
	free(buf);
	o->n++;
	return 0;
}

static void out_clear(out_t *o)
{
	for (size_t i = 0; i < o->n; i++)
		tb_runtime_event_clear(&o->ev[i]);
	o->n = 0;
}

static out_t *map_ok(const tb_probe_batch_t *b, tb_probe_map_stats_t *st)
{
	tb_probe_map_opts_t opts = {.tenant = "acme"};
	tb_err_t err = {{0}};

	out_clear(&g_out);
	g_out.fail_at = 0;
	if (tb_probe_map_batch(b, &opts, collect, &g_out, st, &err) < 0)
		fail_msg("expected the batch to map, got error: %s", err.msg);
	return &g_out;
}

static void map_fails(const tb_probe_batch_t *b, const char *want_err)
{
	out_t *o = calloc(1, sizeof(*o));
	tb_err_t err = {{0}};

	assert_non_null(o);
	if (tb_probe_map_batch(b, NULL, collect, o, NULL, &err) == 0)
		fail_msg("expected error \"%s\", the batch mapped (%zu events)", want_err, o->n);
	if (strcmp(err.msg, want_err) != 0)
		fail_msg("expected error \"%s\", got \"%s\"", want_err, err.msg);
	if (o->n != 0)
		fail_msg("expected no event from an invalid batch, got %zu", o->n);
	out_clear(o);
	free(o);
}

/* ---- fixtures ------------------------------------------------------------ */

static tb_probe_kframe_t kframes[] = {
    {"kfree_skb_reason", 5, NULL},
    {"xfs_file_read_iter", 0x40, "xfs"},
};

static tb_probe_uframe_t uframes[] = {
    {"aabbccdd", 0x1234, "/usr/lib/libssl.so.3", "SSL_read", 0, 0},
    {"00112233", 0x5678, "/usr/bin/app", NULL, 0, 0},
    {NULL, 0, "", NULL, 1, 0x7f00dead0000ULL}, /* JIT frame: address only */
};

static tb_probe_uframe_t other_uframes[] = {
    {"aabbccdd", 0x9999, "/usr/lib/libssl.so.3", "SSL_write", 0, 0},
};

static tb_probe_process_t processes[] = {
    {100, "n1:1000:100", "/usr/bin/app", "00112233", "c0ffee", 4242, "app", 1000},
    {200, "n1:2000:200", "/usr/bin/old", NULL, NULL, 0, "old", 2000},
    {200, "n1:5000:200", "/usr/bin/new", NULL, NULL, 0, "new", 5000}, /* pid 200 reused at 5000 */
};

static tb_probe_sample_t samples[] = {
    {100, 101, 1, 3000, 3500, 7, kframes, 2, uframes, 3},
    {100, 101, 1, 3000, 3500, 2, kframes, 1, other_uframes, 1}, /* same window, other stack */
};

static tb_probe_uprobe_count_t uprobes[] = {
    {"aabbccdd", "/usr/lib/libssl.so.3", "SSL_read", 0x1234, 12, 1, uframes, 2},
    {"aabbccdd", "/usr/lib/libssl.so.3", "SSL_free", 0x4000, 0, 1, NULL, 0}, /* attached, never hit */
};

static tb_probe_load_t loads[] = {
    {200, "/usr/lib/libz.so.1", "ffee", 6000},
};

static tb_probe_batch_t batch(void)
{
	tb_probe_batch_t b = {
	    .node = "n1",
	    .boot_id = "0f1e2d3c-boot",
	    .agent_version = "0.1.0",
	    .seq = 9,
	    .start_ns = 1000,
	    .end_ns = 9000,
	    .processes = processes,
	    .n_processes = 3,
	    .samples = samples,
	    .n_samples = 2,
	    .uprobe_counts = uprobes,
	    .n_uprobe_counts = 2,
	    .loads = loads,
	    .n_loads = 1,
	};
	return b;
}

static int setup(void **state)
{
	tb_err_t err = {{0}};

	(void)state;
	reg = tb_avro_registry_new(&err);
	return reg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	out_clear(&g_out);
	tb_avro_registry_free(reg);
	return 0;
}

/* ---- mapping ------------------------------------------------------------- */

static void every_entry_becomes_one_event_in_batch_order(void **state)
{
	tb_probe_batch_t b = batch();
	tb_probe_map_stats_t st;
	out_t *o;

	(void)state;
	o = map_ok(&b, &st);
	EXPECT_INT(5, o->n);
	EXPECT_STR("sample", o->ev[0].kind);
	EXPECT_STR("sample", o->ev[1].kind);
	EXPECT_STR("uprobe", o->ev[2].kind);
	EXPECT_STR("uprobe", o->ev[3].kind);
	EXPECT_STR("load", o->ev[4].kind);
	EXPECT_INT(2, st.samples);
	EXPECT_INT(2, st.uprobes);
	EXPECT_INT(1, st.loads);
	EXPECT_INT(0, st.frames_dropped);
	EXPECT_INT(0, st.unknown_process);
	for (size_t i = 0; i < o->n; i++) {
		EXPECT_STR("acme", o->ev[i].tenant);
		EXPECT_STR("probe", o->ev[i].source);
		EXPECT_STR("n1", o->ev[i].node);
		EXPECT_INT(-1, o->ev[i].process.uid);
	}
}

static void sample_carries_count_process_container_and_frames(void **state)
{
	tb_probe_batch_t b = batch();
	const tb_runtime_event_t *e;

	(void)state;
	e = &map_ok(&b, NULL)->ev[0];
	EXPECT_INT(3000, e->ts_ns);
	EXPECT_INT(7, e->count);
	EXPECT_INT(100, e->process.pid);
	EXPECT_INT(101, e->process.tid);
	EXPECT_STR("n1:1000:100", e->process.exec_id);
	EXPECT_STR("/usr/bin/app", e->process.binary);
	EXPECT_STR("00112233", e->process.binary_build_id);
	EXPECT_STR("app", e->process.comm);
	EXPECT_STR("c0ffee", e->container.id);
	EXPECT_INT(4242, e->container.cgroup_id);
	EXPECT_STR(NULL, e->hook);
	EXPECT_STR(NULL, e->path);
	EXPECT_INT(0, e->attached);
	EXPECT_INT(2, e->n_kernel_frames);
	EXPECT_STR("kfree_skb_reason", e->kernel_frames[0].symbol);
	EXPECT_INT(5, e->kernel_frames[0].offset);
	EXPECT_STR(NULL, e->kernel_frames[0].module);
	EXPECT_INT(0, e->kernel_frames[0].has_address);
	EXPECT_STR("[xfs]", e->kernel_frames[1].module);
	EXPECT_INT(0x40, e->kernel_frames[1].offset);
	EXPECT_INT(3, e->n_user_frames);
	EXPECT_STR("aabbccdd", e->user_frames[0].build_id);
	EXPECT_INT(0x1234, e->user_frames[0].offset);
	EXPECT_STR("/usr/lib/libssl.so.3", e->user_frames[0].module);
	EXPECT_STR("SSL_read", e->user_frames[0].symbol);
	EXPECT_INT(0, e->user_frames[0].has_address);
	EXPECT_STR(NULL, e->user_frames[1].symbol);
	EXPECT_STR(NULL, e->user_frames[2].module); /* "" = no mapping */
	EXPECT_STR(NULL, e->user_frames[2].build_id);
	EXPECT_INT(1, e->user_frames[2].has_address);
	EXPECT_INT(0x7f00dead0000ULL, e->user_frames[2].address);
}

static void uprobe_count_becomes_hits_on_the_probed_symbol(void **state)
{
	tb_probe_batch_t b = batch();
	const tb_runtime_event_t *e;

	(void)state;
	e = &map_ok(&b, NULL)->ev[2];
	EXPECT_INT(1000, e->ts_ns); /* window start */
	EXPECT_STR("SSL_read", e->hook);
	EXPECT_INT(12, e->count);
	EXPECT_STR("/usr/lib/libssl.so.3", e->path);
	EXPECT_STR("aabbccdd", e->build_id);
	EXPECT_INT(1, e->attached);
	EXPECT_INT(0, e->process.pid);
	EXPECT_STR("", e->process.exec_id); /* decoded non-nullable string */
	EXPECT_INT(2, e->n_user_frames);    /* the representative stack */
	EXPECT_STR("SSL_read", e->user_frames[0].symbol);
	EXPECT_STR("/usr/bin/app", e->user_frames[1].module);
}

static void attached_uprobe_without_hits_is_kept_as_evidence_of_absence(void **state)
{
	tb_probe_batch_t b = batch();
	const tb_runtime_event_t *e;

	(void)state;
	e = &map_ok(&b, NULL)->ev[3];
	EXPECT_STR("uprobe", e->kind);
	EXPECT_STR("SSL_free", e->hook);
	EXPECT_INT(0, e->count);
	EXPECT_INT(1, e->attached);
	/* no stack from the agent: the probe point itself is the one frame */
	EXPECT_INT(1, e->n_user_frames);
	EXPECT_STR("aabbccdd", e->user_frames[0].build_id);
	EXPECT_INT(0x4000, e->user_frames[0].offset);
	EXPECT_STR("/usr/lib/libssl.so.3", e->user_frames[0].module);
	EXPECT_STR("SSL_free", e->user_frames[0].symbol);
}

static void detached_uprobe_says_so(void **state)
{
	tb_probe_uprobe_count_t u = {"aabbccdd", "/usr/lib/libssl.so.3", "SSL_free", 0x4000, 0, 0, NULL, 0};
	tb_probe_batch_t b = {.node = "n1", .boot_id = "b", .uprobe_counts = &u, .n_uprobe_counts = 1};
	out_t *o;

	(void)state;
	o = map_ok(&b, NULL);
	EXPECT_INT(1, o->n);
	EXPECT_INT(0, o->ev[0].attached);
	EXPECT_INT(0, o->ev[0].count);
}

static void load_carries_path_build_id_and_process(void **state)
{
	tb_probe_batch_t b = batch();
	const tb_runtime_event_t *e;

	(void)state;
	e = &map_ok(&b, NULL)->ev[4];
	EXPECT_INT(6000, e->ts_ns);
	EXPECT_STR("/usr/lib/libz.so.1", e->path);
	EXPECT_STR("ffee", e->build_id);
	EXPECT_INT(200, e->process.pid);
	EXPECT_INT(1, e->count);
	/* pid 200 was reused: the process started last before 6000 is the new one */
	EXPECT_STR("n1:5000:200", e->process.exec_id);
	EXPECT_STR("/usr/bin/new", e->process.binary);
	EXPECT_STR(NULL, e->container.id);
}

static void reused_pid_before_the_reuse_maps_to_the_old_process(void **state)
{
	tb_probe_load_t l = {200, "/usr/lib/libm.so.6", NULL, 3000};
	tb_probe_batch_t b = batch();
	out_t *o;

	(void)state;
	b.n_samples = 0;
	b.n_uprobe_counts = 0;
	b.loads = &l;
	o = map_ok(&b, NULL);
	EXPECT_STR("n1:2000:200", o->ev[0].process.exec_id);
	EXPECT_STR("/usr/bin/old", o->ev[0].process.binary);
	EXPECT_STR(NULL, o->ev[0].build_id);
}

static void sample_of_a_pid_missing_from_the_table_keeps_pid_and_tid(void **state)
{
	tb_probe_sample_t s = {777, 778, 0, 4000, 4000, 1, kframes, 1, NULL, 0};
	tb_probe_batch_t b = batch();
	tb_probe_map_stats_t st;
	out_t *o;

	(void)state;
	b.samples = &s;
	b.n_samples = 1;
	b.n_uprobe_counts = 0;
	b.n_loads = 0;
	o = map_ok(&b, &st);
	EXPECT_INT(1, o->n);
	EXPECT_INT(777, o->ev[0].process.pid);
	EXPECT_INT(778, o->ev[0].process.tid);
	EXPECT_STR("", o->ev[0].process.exec_id);
	EXPECT_STR(NULL, o->ev[0].container.id);
	EXPECT_INT(1, st.unknown_process);
	EXPECT_INT(0, o->ev[0].n_user_frames); /* kernel-only stack */
}

static void stacks_longer_than_the_cap_are_cut_and_counted(void **state)
{
	tb_probe_uframe_t *deep = calloc(TB_MAX_FRAMES + 3, sizeof(*deep));
	tb_probe_sample_t s = {100, 100, 0, 4000, 4000, 1, NULL, 0, deep, TB_MAX_FRAMES + 3};
	tb_probe_batch_t b = {.node = "n1", .boot_id = "b", .samples = &s, .n_samples = 1};
	tb_probe_map_stats_t st;
	out_t *o;

	(void)state;
	assert_non_null(deep);
	for (size_t i = 0; i < TB_MAX_FRAMES + 3; i++) {
		deep[i].module = "/usr/bin/app";
		deep[i].file_offset = 0x1000 + i;
	}
	o = map_ok(&b, &st);
	EXPECT_INT(TB_MAX_FRAMES, o->ev[0].n_user_frames);
	EXPECT_INT(0x1000 + TB_MAX_FRAMES - 1, o->ev[0].user_frames[TB_MAX_FRAMES - 1].offset);
	EXPECT_INT(3, st.frames_dropped);
	free(deep);
}

static void empty_batch_maps_to_nothing(void **state)
{
	tb_probe_batch_t b = {.node = "n1", .boot_id = "b", .start_ns = 5, .end_ns = 5};

	(void)state;
	EXPECT_INT(0, map_ok(&b, NULL)->n);
}

static void failing_emit_stops_the_mapping_with_its_error(void **state)
{
	tb_probe_batch_t b = batch();
	out_t *o = calloc(1, sizeof(*o));
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(o);
	o->fail_at = 3;
	EXPECT_INT(-1, tb_probe_map_batch(&b, NULL, collect, o, NULL, &err));
	EXPECT_STR("emit refused event 3", err.msg);
	EXPECT_INT(2, o->n);
	out_clear(o);
	free(o);
}

static void tenant_defaults_to_default(void **state)
{
	tb_probe_batch_t b = batch();
	out_t *o = calloc(1, sizeof(*o));
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(o);
	assert_int_equal(tb_probe_map_batch(&b, NULL, collect, o, NULL, &err), 0);
	EXPECT_STR("default", o->ev[0].tenant);
	out_clear(o);
	free(o);
}

/* The same batch decoded from Avro (as the adapter gets it) maps the same. */
static void batch_from_avro_maps_like_the_hand_built_one(void **state)
{
	tb_probe_batch_t b = batch(), dec;
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};
	out_t *o, *d = calloc(1, sizeof(*d));

	(void)state;
	assert_non_null(d);
	if (tb_avro_encode_probe_batch(reg, &b, &buf, &len, &err) < 0)
		fail_msg("encode batch: %s", err.msg);
	memset(&dec, 0, sizeof(dec));
	if (tb_avro_decode_probe_batch(reg, buf, len, &dec, &err) < 0)
		fail_msg("decode batch: %s", err.msg);
	assert_int_equal(
	    tb_probe_map_batch(&dec, &(tb_probe_map_opts_t){.tenant = "acme"}, collect, d, NULL, &err), 0);
	o = map_ok(&b, NULL);
	EXPECT_INT(o->n, d->n);
	for (size_t i = 0; i < o->n; i++) {
		expect_id(o->ev[i].event_id, d->ev[i].event_id, "decoded batch");
		EXPECT_STR(o->ev[i].kind, d->ev[i].kind);
		EXPECT_INT(o->ev[i].count, d->ev[i].count);
		EXPECT_INT(o->ev[i].n_user_frames, d->ev[i].n_user_frames);
		EXPECT_STR(o->ev[i].process.exec_id, d->ev[i].process.exec_id);
	}
	out_clear(d);
	free(d);
	free(buf);
	tb_probe_batch_clear(&dec);
}

/* ---- event ids ----------------------------------------------------------- */

static void head(tb_hasher_t *h, const char *kind, const char *node, const char *boot, int64_t cpu,
		 int64_t ts, uint32_t pid, uint32_t tid)
{
	tb_hasher_init(h, "probe.event.v1");
	tb_hasher_str(h, kind);
	tb_hasher_str(h, node);
	tb_hasher_str(h, boot);
	tb_hasher_u64(h, (uint64_t)cpu);
	tb_hasher_u64(h, (uint64_t)ts);
	tb_hasher_u64(h, pid);
	tb_hasher_u64(h, tid);
}

static void event_ids_follow_the_documented_recipe(void **state)
{
	tb_probe_batch_t b = batch();
	out_t *o;
	tb_hasher_t h;
	uint8_t want[16];

	(void)state;
	o = map_ok(&b, NULL);
	/* sample 0 */
	head(&h, "sample", "n1", "0f1e2d3c-boot", 1, 3000, 100, 101);
	tb_hasher_u64(&h, 3500);
	tb_hasher_u64(&h, 2);
	tb_hasher_str(&h, "kfree_skb_reason");
	tb_hasher_u64(&h, 5);
	tb_hasher_str(&h, NULL);
	tb_hasher_str(&h, "xfs_file_read_iter");
	tb_hasher_u64(&h, 0x40);
	tb_hasher_str(&h, "xfs");
	tb_hasher_u64(&h, 3);
	tb_hasher_str(&h, "aabbccdd");
	tb_hasher_u64(&h, 0x1234);
	tb_hasher_str(&h, "/usr/lib/libssl.so.3");
	tb_hasher_u64(&h, 0);
	tb_hasher_u64(&h, 0);
	tb_hasher_str(&h, "00112233");
	tb_hasher_u64(&h, 0x5678);
	tb_hasher_str(&h, "/usr/bin/app");
	tb_hasher_u64(&h, 0);
	tb_hasher_u64(&h, 0);
	tb_hasher_str(&h, NULL);
	tb_hasher_u64(&h, 0);
	tb_hasher_str(&h, "");
	tb_hasher_u64(&h, 1);
	tb_hasher_u64(&h, 0x7f00dead0000ULL);
	tb_hasher_final128(&h, want);
	expect_id(want, o->ev[0].event_id, "sample");
	/* uprobe 1 (zero hits) */
	head(&h, "uprobe", "n1", "0f1e2d3c-boot", -1, 1000, 0, 0);
	tb_hasher_u64(&h, 9000);
	tb_hasher_str(&h, "aabbccdd");
	tb_hasher_str(&h, "/usr/lib/libssl.so.3");
	tb_hasher_str(&h, "SSL_free");
	tb_hasher_u64(&h, 0x4000);
	tb_hasher_final128(&h, want);
	expect_id(want, o->ev[3].event_id, "uprobe");
	/* load */
	head(&h, "load", "n1", "0f1e2d3c-boot", -1, 6000, 200, 0);
	tb_hasher_str(&h, "/usr/lib/libz.so.1");
	tb_hasher_str(&h, "ffee");
	tb_hasher_final128(&h, want);
	expect_id(want, o->ev[4].event_id, "load");
}

static void distinct_stacks_of_one_window_get_distinct_ids(void **state)
{
	tb_probe_batch_t b = batch();
	out_t *o;
	char a[33], c[33];

	(void)state;
	o = map_ok(&b, NULL);
	/* same pid, tid, cpu, first_ns and last_ns; only the stacks differ */
	if (memcmp(o->ev[0].event_id, o->ev[1].event_id, 16) == 0) {
		tb_hex(o->ev[0].event_id, 16, a);
		tb_hex(o->ev[1].event_id, 16, c);
		fail_msg("expected different ids for different stacks, got %s and %s", a, c);
	}
	for (size_t i = 0; i < o->n; i++)
		for (size_t j = i + 1; j < o->n; j++)
			if (memcmp(o->ev[i].event_id, o->ev[j].event_id, 16) == 0)
				fail_msg("events %zu and %zu share an event_id", i, j);
}

static void ids_are_stable_across_replays_and_ignore_user_symbols_and_counts(void **state)
{
	tb_probe_batch_t b = batch();
	tb_probe_uframe_t renamed[3];
	tb_probe_sample_t s0 = samples[0];
	uint8_t first[16];

	(void)state;
	memcpy(first, map_ok(&b, NULL)->ev[0].event_id, 16);
	expect_id(first, map_ok(&b, NULL)->ev[0].event_id, "replayed batch");
	memcpy(renamed, uframes, sizeof(renamed));
	renamed[0].symbol = "SSL_read_internal"; /* another agent's symbolization */
	s0.user_frames = renamed;
	s0.count = 99;
	b.samples = &s0;
	b.n_samples = 1;
	b.seq = 1234;
	expect_id(first, map_ok(&b, NULL)->ev[0].event_id, "same stack, other user symbol, count and seq");
}

static void ids_change_with_each_identity_field(void **state)
{
	tb_probe_batch_t b = batch();
	tb_probe_sample_t s0 = samples[0];
	uint8_t base[16];
	int64_t *longs[] = {&s0.first_ns, &s0.last_ns};

	(void)state;
	b.samples = &s0;
	b.n_samples = 1;
	memcpy(base, map_ok(&b, NULL)->ev[0].event_id, 16);
	for (size_t i = 0; i < 2; i++) {
		*longs[i] += 1;
		if (memcmp(base, map_ok(&b, NULL)->ev[0].event_id, 16) == 0)
			fail_msg("expected the id to change with %s", i ? "last_ns" : "first_ns");
		*longs[i] -= 1;
	}
	s0.cpu = 2;
	if (memcmp(base, map_ok(&b, NULL)->ev[0].event_id, 16) == 0)
		fail_msg("expected the id to change with cpu");
	s0.cpu = 1;
	b.boot_id = "other-boot";
	if (memcmp(base, map_ok(&b, NULL)->ev[0].event_id, 16) == 0)
		fail_msg("expected the id to change with boot_id");
	b.boot_id = "0f1e2d3c-boot";
	s0.tid = 102;
	if (memcmp(base, map_ok(&b, NULL)->ev[0].event_id, 16) == 0)
		fail_msg("expected the id to change with tid");
}

/* ---- validation ---------------------------------------------------------- */

static void invalid_fields_reject_the_whole_batch_with_their_path(void **state)
{
	tb_probe_batch_t b;
	tb_probe_sample_t s = samples[0];
	tb_probe_uprobe_count_t u = uprobes[0];
	tb_probe_load_t l = loads[0];
	tb_probe_process_t p = processes[0];

	(void)state;
	b = batch();
	b.node = "";
	map_fails(&b, "node: empty");
	b = batch();
	b.boot_id = NULL;
	map_fails(&b, "boot_id: empty");
	b = batch();
	b.end_ns = 999;
	map_fails(&b, "window: start_ns 1000 / end_ns 999: need 0 <= start_ns <= end_ns");

	b = batch();
	s.count = 0;
	b.samples = &s;
	b.n_samples = 1;
	map_fails(&b, "samples[0].count: 0, must be >= 1");
	s = samples[0];
	s.last_ns = s.first_ns - 1;
	map_fails(&b, "samples[0]: first_ns 3000 / last_ns 2999: need 0 <= first_ns <= last_ns");

	b = batch();
	u.hits = -4;
	b.uprobe_counts = &u;
	b.n_uprobe_counts = 1;
	map_fails(&b, "uprobe_counts[0].hits: -4 is negative");
	u = uprobes[0];
	u.symbol = "";
	map_fails(&b, "uprobe_counts[0].symbol: empty");
	u = uprobes[0];
	u.build_id = "ABCD";
	map_fails(&b, "uprobe_counts[0].build_id: 'ABCD' is not a lowercase hex build-id");

	b = batch();
	l.path = NULL;
	b.loads = &l;
	map_fails(&b, "loads[0].path: empty");
	l = loads[0];
	l.build_id = "abc";
	map_fails(&b, "loads[0].build_id: 'abc' is not a lowercase hex build-id");

	b = batch();
	p.exec_id = "";
	b.processes = &p;
	b.n_processes = 1;
	map_fails(&b, "processes[0].exec_id: empty");
}

static void a_bad_frame_build_id_names_the_frame(void **state)
{
	tb_probe_uframe_t bad[2] = {uframes[0], uframes[1]};
	tb_probe_sample_t s = samples[0];
	tb_probe_batch_t b = batch();

	(void)state;
	bad[1].build_id = "00112233zz";
	s.user_frames = bad;
	s.n_user_frames = 2;
	b.samples = &s;
	b.n_samples = 1;
	/* the valid entries before the bad one are not emitted either */
	map_fails(&b, "samples[0].user_frames[1].build_id: '00112233zz' is not a lowercase hex build-id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_entry_becomes_one_event_in_batch_order),
	    cmocka_unit_test(sample_carries_count_process_container_and_frames),
	    cmocka_unit_test(uprobe_count_becomes_hits_on_the_probed_symbol),
	    cmocka_unit_test(attached_uprobe_without_hits_is_kept_as_evidence_of_absence),
	    cmocka_unit_test(detached_uprobe_says_so),
	    cmocka_unit_test(load_carries_path_build_id_and_process),
	    cmocka_unit_test(reused_pid_before_the_reuse_maps_to_the_old_process),
	    cmocka_unit_test(sample_of_a_pid_missing_from_the_table_keeps_pid_and_tid),
	    cmocka_unit_test(stacks_longer_than_the_cap_are_cut_and_counted),
	    cmocka_unit_test(empty_batch_maps_to_nothing),
	    cmocka_unit_test(failing_emit_stops_the_mapping_with_its_error),
	    cmocka_unit_test(tenant_defaults_to_default),
	    cmocka_unit_test(batch_from_avro_maps_like_the_hand_built_one),
	    cmocka_unit_test(event_ids_follow_the_documented_recipe),
	    cmocka_unit_test(distinct_stacks_of_one_window_get_distinct_ids),
	    cmocka_unit_test(ids_are_stable_across_replays_and_ignore_user_symbols_and_counts),
	    cmocka_unit_test(ids_change_with_each_identity_field),
	    cmocka_unit_test(invalid_fields_reject_the_whole_batch_with_their_path),
	    cmocka_unit_test(a_bad_frame_build_id_names_the_frame),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
