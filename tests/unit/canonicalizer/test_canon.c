/*
 * Unit tests for canon.c: frame order and content, the frame/stack id recipe
 * of canon.h (re-derived here from the documented steps, plus pinned values
 * so an accidental change shows), independence from raw addresses (ASLR),
 * byte-identical output for identical input, and symbolization of bare user
 * frames through a symbol store over binaries built at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/canonicalizer/canon.h"
#include "../common/test_elf_fixture.h"
#include "tb/hash.h"
#include "tb/symstore.h"
#include "test_canon_util.h"

/* frame.v1 / stack.v1 values for the frames in ids_are_pinned. */
#define PINNED_FRAME0 3333963104439248225LL
#define PINNED_FRAME1 (-1138958317907355788LL)
#define PINNED_STACK (-6672479457580309045LL)

typedef struct st {
	tb_privacy_t *privacy;
	tb_metrics_t *metrics;
	tb_canon_t *canon;
} st_t;

static int setup(void **state)
{
	st_t *s = calloc(1, sizeof(*s));
	tb_privacy_policy_t pol;
	tb_canon_config_t cfg = {0};

	if (!s)
		return -1;
	tb_privacy_policy_strict(&pol);
	for (int i = 0; i < TB_HASH_KEY_LEN; i++)
		pol.key[i] = (uint8_t)i;
	pol.has_key = 1;
	s->metrics = tb_metrics_new("tb_canonicalizer");
	s->privacy = tb_privacy_new(&pol, s->metrics, NULL);
	cfg.privacy = s->privacy;
	cfg.metrics = s->metrics;
	s->canon = tb_canon_new(&cfg, NULL);
	if (!s->privacy || !s->canon)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	st_t *s = *state;

	tb_canon_free(s->canon);
	tb_privacy_free(s->privacy);
	tb_metrics_free(s->metrics);
	free(s);
	return 0;
}

static void canon_ok(tb_canon_t *c, const tb_runtime_event_t *in, tb_event_t *out)
{
	tb_err_t err = {{0}};

	memset(out, 0, sizeof(*out));
	if (tb_canon_event(c, in, out, &err) != 0)
		fail_msg("tb_canon_event failed: %s", err.msg);
}

static void frames_are_kernel_then_user_innermost_first(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t *in = sample_event();
	tb_event_t out;

	canon_ok(s->canon, in, &out);
	assert_int_equal(out.n_frames, 5);
	assert_true(out.frames[0].kernel);
	assert_string_equal(out.frames[0].symbol, "kfree_skb_reason");
	assert_string_equal(out.frames[0].module, "");
	assert_int_equal(out.frames[0].file_offset, 5);
	assert_true(out.frames[1].kernel);
	assert_string_equal(out.frames[1].symbol, "nft_do_chain");
	assert_string_equal(out.frames[1].module, "nf_tables");
	assert_false(out.frames[2].kernel);
	assert_string_equal(out.frames[2].module, "libc.so.6");
	assert_string_equal(out.frames[2].symbol, "__connect");
	assert_int_equal(out.frames[2].file_offset, 0x12752b);
	assert_string_equal(out.frames[2].build_id, LIBC_BUILD_ID);
	assert_string_equal(out.frames[3].module, "app");
	assert_string_equal(out.frames[3].symbol, "net::Client::connect<int>");
	assert_string_equal(out.frames[3].build_id,
			    "b08000c5ab536b2b6c3a0e53382a2733c4319c8d"); /* lowercased */
	assert_string_equal(out.frames[4].symbol, "");			 /* was only an address */
	assert_string_equal(out.frames[4].build_id, "");
	assert_int_equal(out.leaf_frame_id, out.frames[0].frame_id);
	assert_int_equal(out.count, 3);
	assert_string_equal(out.build_id, "b08000c5ab536b2b6c3a0e53382a2733c4319c8d");
	tb_event_clear(&out);
	sample_free(in);
}

/* The recipe of canon.h, step by step. */
static int64_t recipe_frame_id(int kernel, const char *build_id, const char *module, uint64_t off,
			       const char *sym)
{
	tb_hasher_t h;

	tb_hasher_init(&h, "frame.v1");
	tb_hasher_u64(&h, (uint64_t)kernel);
	if (build_id[0]) {
		tb_hasher_u64(&h, 1);
		tb_hasher_str(&h, build_id);
	} else {
		tb_hasher_u64(&h, 0);
		tb_hasher_str(&h, module);
	}
	tb_hasher_u64(&h, off);
	tb_hasher_str(&h, sym);
	return tb_hasher_final64(&h);
}

static void ids_follow_the_documented_recipe(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t *in = sample_event();
	tb_event_t out;
	tb_hasher_t h;
	int64_t want_stack;

	canon_ok(s->canon, in, &out);
	for (size_t i = 0; i < out.n_frames; i++) {
		const tb_canon_frame_t *f = &out.frames[i];

		assert_int_equal(f->frame_id, recipe_frame_id(f->kernel, f->build_id, f->module,
							      f->file_offset, f->symbol));
	}
	tb_hasher_init(&h, "stack.v1");
	tb_hasher_u64(&h, out.n_frames);
	for (size_t i = 0; i < out.n_frames; i++)
		tb_hasher_u64(&h, (uint64_t)out.frames[i].frame_id);
	want_stack = tb_hasher_final64(&h);
	assert_int_equal(out.stack_id, want_stack);
	tb_event_clear(&out);
	sample_free(in);
}

static void ids_are_pinned(void **state)
{
	/* Values of the v1 recipes for two fixed frames. If this fails, ids
	 * changed: that breaks replays and stored data (see canon.h). */
	tb_canon_frame_t f[2] = {
	    {.kernel = 1, .build_id = "", .module = "", .file_offset = 5, .symbol = "kfree_skb_reason"},
	    {.kernel = 0,
	     .build_id = "b08000c5ab536b2b6c3a0e53382a2733c4319c8d",
	     .module = "app",
	     .file_offset = 0x1139,
	     .symbol = "net::Client::connect<int>"},
	};

	(void)state;
	f[0].frame_id = tb_canon_frame_id(&f[0]);
	f[1].frame_id = tb_canon_frame_id(&f[1]);
	print_message("# pinned: frame0=%lld frame1=%lld stack=%lld\n", (long long)f[0].frame_id,
		      (long long)f[1].frame_id, (long long)tb_canon_stack_id(f, 2));
	assert_int_equal(f[0].frame_id, PINNED_FRAME0);
	assert_int_equal(f[1].frame_id, PINNED_FRAME1);
	assert_int_equal(tb_canon_stack_id(f, 2), PINNED_STACK);
	assert_int_equal(tb_canon_stack_id(f, 0), 0);
}

static void ids_do_not_depend_on_raw_addresses(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t *a = sample_event(), *b = sample_event();
	tb_event_t oa, ob;

	/* Same code, other ASLR/KASLR slides: every address differs. */
	for (size_t i = 0; i < b->n_kernel_frames; i++)
		b->kernel_frames[i].address += 0x1200000;
	for (size_t i = 0; i < b->n_user_frames; i++)
		b->user_frames[i].address += 0x2a5e000;
	canon_ok(s->canon, a, &oa);
	canon_ok(s->canon, b, &ob);
	for (size_t i = 0; i < oa.n_frames; i++)
		assert_int_equal(oa.frames[i].frame_id, ob.frames[i].frame_id);
	assert_int_equal(oa.stack_id, ob.stack_id);
	assert_int_equal(oa.leaf_frame_id, ob.leaf_frame_id);
	tb_event_clear(&oa);
	tb_event_clear(&ob);
	sample_free(a);
	sample_free(b);
}

static void same_input_gives_byte_identical_output(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t *in = sample_event();
	tb_event_t o1, o2;
	char *d1, *d2;

	canon_ok(s->canon, in, &o1);
	canon_ok(s->canon, in, &o2);
	d1 = event_dump(&o1);
	d2 = event_dump(&o2);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	tb_event_clear(&o1);
	tb_event_clear(&o2);
	sample_free(in);
}

static void ids_separate_what_differs(void **state)
{
	tb_canon_frame_t base = {
	    .kernel = 0, .build_id = "abcd", .module = "app", .file_offset = 16, .symbol = "f"};
	tb_canon_frame_t v = base;
	int64_t id = tb_canon_frame_id(&base);
	tb_canon_frame_t pair[2], swapped[2];

	(void)state;
	v.kernel = 1;
	assert_true(tb_canon_frame_id(&v) != id);
	v = base;
	v.file_offset = 17;
	assert_true(tb_canon_frame_id(&v) != id);
	v = base;
	v.symbol = "g";
	assert_true(tb_canon_frame_id(&v) != id);
	/* A module named like a build-id is not that build-id. */
	v = base;
	v.build_id = "";
	v.module = "abcd";
	assert_true(tb_canon_frame_id(&v) != id);
	/* With a build-id, the module name does not matter (renamed copies). */
	v = base;
	v.module = "app-renamed";
	assert_int_equal(tb_canon_frame_id(&v), id);
	/* Order matters for stacks. */
	pair[0] = base;
	pair[1] = base;
	pair[1].symbol = "g";
	pair[0].frame_id = tb_canon_frame_id(&pair[0]);
	pair[1].frame_id = tb_canon_frame_id(&pair[1]);
	swapped[0] = pair[1];
	swapped[1] = pair[0];
	assert_true(tb_canon_stack_id(pair, 2) != tb_canon_stack_id(swapped, 2));
}

static void offsets_that_are_addresses_are_not_passed_on(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t *in = sample_event();
	tb_event_t out;

	/* An adapter bug: the raw address put in the offset field. */
	in->user_frames[1].offset = in->user_frames[1].address;
	/* A kernel frame without a symbol: its offset could only be an address. */
	free(in->kernel_frames[0].symbol);
	in->kernel_frames[0].symbol = NULL;
	in->kernel_frames[0].offset = K_ADDR0;
	canon_ok(s->canon, in, &out);
	assert_int_equal(out.frames[3].file_offset, 0);
	assert_int_equal(out.frames[0].file_offset, 0);
	assert_string_equal(out.frames[0].symbol, "");
	tb_event_clear(&out);
	sample_free(in);
}

static void event_without_frames_has_no_stack(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t in = {0};
	tb_event_t out;

	in.kind = "exec";
	in.process.uid = -1;
	in.count = 0;
	canon_ok(s->canon, &in, &out);
	assert_int_equal(out.n_frames, 0);
	assert_int_equal(out.stack_id, 0);
	assert_int_equal(out.leaf_frame_id, 0);
	assert_int_equal(out.count, 1);
	assert_string_equal(out.uid_hash, "");
	assert_null(out.build_id);
	assert_null(out.path);
	tb_event_clear(&out);
}

static void too_deep_stack_is_rejected(void **state)
{
	st_t *s = *state;
	tb_runtime_event_t in = {0};
	tb_raw_frame_t frames[TB_MAX_FRAMES + 1];
	tb_event_t out = {0};
	tb_err_t err = {{0}};

	memset(frames, 0, sizeof(frames));
	in.user_frames = frames;
	in.n_user_frames = TB_MAX_FRAMES + 1;
	in.process.uid = -1;
	assert_int_equal(tb_canon_event(s->canon, &in, &out, &err), -1);
	assert_non_null(strstr(err.msg, "128 user frames"));
	assert_null(out.tenant); /* cleared */
}

static void bare_user_frames_are_symbolized_from_the_store(void **state)
{
	st_t *s = *state;
	fx_t fx;
	char bid[256], store_dir[FX_PATH + 16], cmd[4 * FX_PATH];
	uint64_t off = 0;
	tb_symstore_config_t scfg = {0};
	tb_symstore_t *store;
	tb_canon_config_t cfg = {0};
	tb_canon_t *canon;
	tb_runtime_event_t in = {0};
	tb_raw_frame_t fr[3];
	tb_event_t out;
	tb_err_t err = {{0}};

	assert_int_equal(fx_build(&fx), 0);
	assert_int_equal(fx_readelf_build_id(fx.pie, bid, sizeof(bid)), 0);
	assert_int_equal(fx_objdump_offset(fx.pie, "tb_known_function", &off), 0);
	/* The store holds the unstripped binary; the event names the build-id only. */
	snprintf(store_dir, sizeof(store_dir), "%s/store", fx.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s' '%s/app.full'", store_dir, fx.pie, store_dir);
	assert_int_equal(fx_sh(cmd), 0);
	scfg.dir = store_dir;
	store = tb_symstore_open(&scfg, &err);
	assert_non_null(store);
	cfg.privacy = s->privacy;
	cfg.symstore = store;
	cfg.metrics = s->metrics;
	canon = tb_canon_new(&cfg, &err);
	assert_non_null(canon);
	memset(fr, 0, sizeof(fr));
	fr[0] = (tb_raw_frame_t){.module = "/opt/app/bin/app", .offset = off + 4, .build_id = bid};
	fr[1] = (tb_raw_frame_t){
	    .module = "/opt/app/bin/app", .offset = off, .build_id = bid, .symbol = "given_symbol_wins"};
	fr[2] = (tb_raw_frame_t){
	    .module = "/opt/other", .offset = 0x1000, .build_id = "00112233445566778899aabbccddeeff00112233"};
	in.user_frames = fr;
	in.n_user_frames = 3;
	in.process.uid = -1;
	canon_ok(canon, &in, &out);
	assert_string_equal(out.frames[0].symbol, "tb_known_function");
	assert_int_equal(out.frames[0].file_offset, off + 4);
	assert_string_equal(out.frames[1].symbol, "given_symbol_wins");
	assert_string_equal(out.frames[2].symbol, ""); /* unknown build-id */
	assert_int_equal(
	    tb_metric_get(tb_metrics_counter(s->metrics, "symbolize_total", "", "result=\"found\"")), 1);
	assert_int_equal(
	    tb_metric_get(tb_metrics_counter(s->metrics, "symbolize_total", "", "result=\"not_found\"")), 1);
	tb_event_clear(&out);
	tb_canon_free(canon);
	tb_symstore_close(store);
	fx_destroy(&fx);
}

/* Tetragon user frames carry a module path but no build-id: the symbol dir
 * doubles as a sysroot, so DIR/<module path> gives the build-id, and the
 * bare frame is then symbolized; paths that climb out of the dir, relative
 * paths and files the store does not hold give nothing. */
static void frames_without_build_id_take_it_from_the_sysroot(void **state)
{
	st_t *s = *state;
	fx_t fx;
	char bid[256], root[FX_PATH + 16], cmd[4 * FX_PATH], escape[FX_PATH + 64];
	uint64_t off = 0;
	tb_symstore_config_t scfg = {0};
	tb_symstore_t *store;
	tb_canon_config_t cfg = {0};
	tb_canon_t *canon;
	tb_runtime_event_t in = {0};
	tb_raw_frame_t fr[5];
	tb_event_t out, again;
	tb_err_t err = {{0}};

	assert_int_equal(fx_build(&fx), 0);
	assert_int_equal(fx_readelf_build_id(fx.pie, bid, sizeof(bid)), 0);
	assert_int_equal(fx_objdump_offset(fx.pie, "tb_known_function", &off), 0);
	snprintf(root, sizeof(root), "%s/root", fx.dir);
	snprintf(
	    cmd, sizeof(cmd),
	    "mkdir -p '%s/root/opt/app/bin' && cp '%s' '%s/root/opt/app/bin/app' && cp '%s' '%s/outside'",
	    fx.dir, fx.pie, fx.dir, fx.pie, fx.dir);
	assert_int_equal(fx_sh(cmd), 0);
	snprintf(escape, sizeof(escape), "/opt/../../outside");
	scfg.dir = root;
	store = tb_symstore_open(&scfg, &err);
	assert_non_null(store);
	cfg.privacy = s->privacy;
	cfg.symstore = store;
	cfg.sysroot = root;
	canon = tb_canon_new(&cfg, &err);
	assert_non_null(canon);
	memset(fr, 0, sizeof(fr));
	fr[0] = (tb_raw_frame_t){.module = "/opt/app/bin/app", .offset = off + 4};
	fr[1] = (tb_raw_frame_t){.module = "/opt/app/bin/app", .offset = off, .symbol = "given_symbol_wins"};
	fr[2] = (tb_raw_frame_t){.module = escape, .offset = off};
	fr[3] = (tb_raw_frame_t){.module = "opt/app/bin/app", .offset = off};
	fr[4] = (tb_raw_frame_t){.module = "/opt/app/bin/missing", .offset = off};
	in.user_frames = fr;
	in.n_user_frames = 5;
	in.process.uid = -1;
	canon_ok(canon, &in, &out);
	assert_string_equal(out.frames[0].build_id, bid);
	assert_string_equal(out.frames[0].symbol, "tb_known_function");
	assert_string_equal(out.frames[0].module, "app");
	assert_string_equal(out.frames[1].build_id, bid);
	assert_string_equal(out.frames[1].symbol, "given_symbol_wins");
	for (int i = 2; i < 5; i++) {
		assert_string_equal(out.frames[i].build_id, "");
		assert_string_equal(out.frames[i].symbol, "");
	}
	/* The second time the answer comes from the cache: the same output. */
	canon_ok(canon, &in, &again);
	assert_int_equal(again.stack_id, out.stack_id);
	tb_event_clear(&again);
	tb_event_clear(&out);
	tb_canon_free(canon);
	/* Without a sysroot (the default), such frames stay without build-id. */
	cfg.sysroot = NULL;
	canon = tb_canon_new(&cfg, &err);
	assert_non_null(canon);
	canon_ok(canon, &in, &out);
	assert_string_equal(out.frames[0].build_id, "");
	assert_string_equal(out.frames[0].symbol, "");
	tb_event_clear(&out);
	tb_canon_free(canon);
	tb_symstore_close(store);
	fx_destroy(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(frames_are_kernel_then_user_innermost_first),
	    cmocka_unit_test(ids_follow_the_documented_recipe),
	    cmocka_unit_test(ids_are_pinned),
	    cmocka_unit_test(ids_do_not_depend_on_raw_addresses),
	    cmocka_unit_test(same_input_gives_byte_identical_output),
	    cmocka_unit_test(ids_separate_what_differs),
	    cmocka_unit_test(offsets_that_are_addresses_are_not_passed_on),
	    cmocka_unit_test(event_without_frames_has_no_stack),
	    cmocka_unit_test(too_deep_stack_is_rejected),
	    cmocka_unit_test(bare_user_frames_are_symbolized_from_the_store),
	    cmocka_unit_test(frames_without_build_id_take_it_from_the_sysroot),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
