/*
 * Unit tests for tb_elf: build-ids, PT_LOAD offset mapping for GNU ld PIE and
 * non-PIE, lld and shared-library layouts, function symbol resolution
 * (sized, zero-size, static), stripped and separate-debug files, and
 * robustness against truncated and corrupted files. The ELF files are built
 * at test time (test_elf_fixture.h); expected values come from binutils.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../tb_test.h"

#include "tb/elf.h"
#include "test_elf_fixture.h"

static int group_setup(void **state)
{
	fx_t *fx = calloc(1, sizeof(*fx));

	if (!fx || fx_build(fx) < 0) {
		if (fx)
			fx_destroy(fx);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int group_teardown(void **state)
{
	fx_t *fx = *state;

	fx_destroy(fx);
	free(fx);
	return 0;
}

static tb_elf_t *open_ok(const char *path)
{
	tb_err_t err = {{0}};
	tb_elf_t *e = tb_elf_open(path, &err);

	if (!e)
		fail_msg("tb_elf_open(%s) failed: %s", path, err.msg);
	return e;
}

static void check_build_id(const char *path)
{
	char want[256];
	tb_elf_t *e = open_ok(path);

	assert_int_equal(fx_readelf_build_id(path, want, sizeof(want)), 0);
	assert_string_equal(tb_elf_build_id(e), want);
	tb_elf_close(e);
}

static void build_id_matches_readelf_for_every_layout(void **state)
{
	fx_t *fx = *state;

	check_build_id(fx->pie);
	check_build_id(fx->nopie);
	check_build_id(fx->so);
	check_build_id(fx->stripped);
	check_build_id(fx->debug);
	if (fx->have_lld)
		check_build_id(fx->lld);
}

static void stripped_copy_and_debug_file_share_the_build_id(void **state)
{
	fx_t *fx = *state;
	tb_elf_t *full = open_ok(fx->pie), *stripped = open_ok(fx->stripped), *debug = open_ok(fx->debug);

	assert_int_equal(strlen(tb_elf_build_id(full)), 40); /* --build-id=sha1 */
	assert_string_equal(tb_elf_build_id(stripped), tb_elf_build_id(full));
	assert_string_equal(tb_elf_build_id(debug), tb_elf_build_id(full));
	assert_true(tb_elf_has_symtab(full));
	assert_false(tb_elf_has_symtab(stripped));
	assert_true(tb_elf_has_symtab(debug));
	assert_true(tb_elf_is_debug_only(debug));
	assert_false(tb_elf_is_debug_only(full));
	tb_elf_close(full);
	tb_elf_close(stripped);
	tb_elf_close(debug);
}

/* Load `path`, resolve objdump's file offset of fn + delta, expect fn + delta. */
static void check_resolves(const char *path, const char *fn, uint64_t delta)
{
	tb_err_t err = {{0}};
	tb_elf_t *e = open_ok(path);
	tb_elf_symtab_t *t = tb_elf_symtab_load(e, NULL, &err);
	uint64_t off = 0, vaddr = 0;
	tb_elf_hit_t hit;

	if (!t)
		fail_msg("symtab_load(%s): %s", path, err.msg);
	assert_int_equal(fx_objdump_offset(path, fn, &off), 0);
	assert_int_equal(fx_nm_vaddr(path, fn, &vaddr), 0);
	if (tb_elf_symtab_lookup(t, off + delta, &hit) != 1)
		fail_msg("%s: file offset 0x%llx (%s+%llu): expected a hit, got none", path,
			 (unsigned long long)(off + delta), fn, (unsigned long long)delta);
	assert_string_equal(hit.name, fn);
	assert_int_equal(hit.offset, delta);
	assert_int_equal(hit.vaddr, vaddr);
	tb_elf_symtab_free(t);
	tb_elf_close(e);
}

static void pie_file_offset_resolves_to_known_function(void **state)
{
	fx_t *fx = *state;

	check_resolves(fx->pie, "tb_known_function", 0);
	check_resolves(fx->pie, "tb_known_function", 5);
	check_resolves(fx->pie, "tb_static_helper", 3);
	check_resolves(fx->pie, "main", 1);
}

static void non_pie_file_offset_resolves_to_known_function(void **state)
{
	fx_t *fx = *state;
	tb_elf_t *e = open_ok(fx->nopie);
	uint64_t off = 0, vaddr = 0, got = 0;

	check_resolves(fx->nopie, "tb_known_function", 7);
	/* Non-PIE: link address 0x40xxxx, so vaddr and file offset differ. */
	assert_int_equal(fx_objdump_offset(fx->nopie, "tb_known_function", &off), 0);
	assert_int_equal(fx_nm_vaddr(fx->nopie, "tb_known_function", &vaddr), 0);
	assert_true(vaddr != off);
	assert_int_equal(tb_elf_offset_to_vaddr(e, off, &got), 0);
	assert_int_equal(got, vaddr);
	tb_elf_close(e);
}

static void lld_layout_maps_offset_without_assuming_equality(void **state)
{
	fx_t *fx = *state;
	uint64_t off = 0, vaddr = 0, got = 0;
	tb_elf_t *e;

	if (!fx->have_lld) {
		print_message("# ld.lld not installed (apt-get install lld): lld layout not tested\n");
		skip();
	}
	check_resolves(fx->lld, "tb_known_function", 4);
	check_resolves(fx->lld, "tb_static_helper", 0);
	e = open_ok(fx->lld);
	assert_int_equal(fx_objdump_offset(fx->lld, "tb_known_function", &off), 0);
	assert_int_equal(fx_nm_vaddr(fx->lld, "tb_known_function", &vaddr), 0);
	assert_true(vaddr != off); /* lld packs segments: text vaddr = offset + 0x1000 */
	assert_int_equal(tb_elf_offset_to_vaddr(e, off, &got), 0);
	assert_int_equal(got, vaddr);
	assert_int_equal(tb_elf_vaddr_to_offset(e, vaddr, &got), 0);
	assert_int_equal(got, off);
	tb_elf_close(e);
}

static void shared_library_offset_resolves_static_and_global_functions(void **state)
{
	fx_t *fx = *state;
	tb_elf_t *e = open_ok(fx->so);

	assert_int_equal(tb_elf_type(e), 3 /* ET_DYN */);
	tb_elf_close(e);
	check_resolves(fx->so, "tb_lib_entry", 2);
	check_resolves(fx->so, "tb_static_helper", 1);
	check_resolves(fx->so, "tb_known_function", 9);
}

static void offset_vaddr_round_trip_through_segments(void **state)
{
	fx_t *fx = *state;
	const char *files[] = {fx->pie, fx->nopie, fx->so, fx->have_lld ? fx->lld : fx->pie};

	for (size_t i = 0; i < 4; i++) {
		tb_elf_t *e = open_ok(files[i]);
		size_t n;
		const tb_elf_segment_t *seg = tb_elf_segments(e, &n);
		uint64_t v, o;

		assert_true(n >= 2);
		for (size_t k = 0; k < n; k++) {
			if (seg[k].filesz == 0)
				continue;
			assert_int_equal(tb_elf_offset_to_vaddr(e, seg[k].offset + seg[k].filesz - 1, &v), 0);
			assert_int_equal(tb_elf_vaddr_to_offset(e, v, &o), 0);
			assert_int_equal(o, seg[k].offset + seg[k].filesz - 1);
		}
		tb_elf_close(e);
	}
}

static void zero_size_symbol_extends_to_next_symbol(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	tb_elf_t *e = open_ok(fx->pie);
	tb_elf_symtab_t *t = tb_elf_symtab_load(e, NULL, &err);
	uint64_t off = 0;
	tb_elf_hit_t hit;

	assert_non_null(t);
	assert_int_equal(fx_objdump_offset(fx->pie, "tb_zero_size_fn", &off), 0);
	assert_int_equal(tb_elf_symtab_lookup(t, off + 8, &hit), 1); /* its ret, 8 nops in */
	assert_string_equal(hit.name, "tb_zero_size_fn");
	assert_int_equal(hit.offset, 8);
	assert_true(hit.size >= 9);
	tb_elf_symtab_free(t);
	tb_elf_close(e);
}

static void stripped_binary_does_not_resolve_local_functions(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	tb_elf_t *e = open_ok(fx->stripped);
	tb_elf_symtab_t *t = tb_elf_symtab_load(e, NULL, &err);
	uint64_t off = 0;
	tb_elf_hit_t hit = {0};

	assert_non_null(t);
	assert_int_equal(fx_objdump_offset(fx->pie, "tb_known_function", &off), 0);
	if (tb_elf_symtab_lookup(t, off, &hit) != 0)
		fail_msg("stripped file: expected no symbol at 0x%llx, got %s", (unsigned long long)off,
			 hit.name);
	tb_elf_symtab_free(t);
	tb_elf_close(e);
}

static void debug_file_gives_symbols_with_image_segments(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	tb_elf_t *img = open_ok(fx->stripped), *dbg = open_ok(fx->debug);
	tb_elf_symtab_t *t = tb_elf_symtab_load(img, dbg, &err);
	uint64_t off = 0;
	tb_elf_hit_t hit;

	if (!t)
		fail_msg("symtab_load(stripped, debug): %s", err.msg);
	assert_int_equal(fx_objdump_offset(fx->pie, "tb_known_function", &off), 0);
	assert_int_equal(tb_elf_symtab_lookup(t, off + 6, &hit), 1);
	assert_string_equal(hit.name, "tb_known_function");
	assert_int_equal(hit.offset, 6);
	tb_elf_symtab_free(t);
	tb_elf_close(img);
	tb_elf_close(dbg);
}

static void debug_file_alone_resolves_vaddrs_but_not_offsets(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	tb_elf_t *dbg = open_ok(fx->debug);
	tb_elf_symtab_t *t = tb_elf_symtab_load(NULL, dbg, &err);
	uint64_t vaddr = 0, off = 0;
	tb_elf_hit_t hit;

	assert_non_null(t);
	assert_int_equal(fx_nm_vaddr(fx->pie, "tb_known_function", &vaddr), 0);
	assert_int_equal(fx_objdump_offset(fx->pie, "tb_known_function", &off), 0);
	assert_int_equal(tb_elf_symtab_lookup_vaddr(t, vaddr + 2, &hit), 1);
	assert_string_equal(hit.name, "tb_known_function");
	/* objcopy zeroed the debug file's PT_LOAD offsets: no guessing. */
	assert_int_equal(tb_elf_symtab_lookup(t, off, &hit), 0);
	tb_elf_symtab_free(t);
	tb_elf_close(dbg);
}

static void offset_of_name_matches_objdump(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	tb_elf_t *e = open_ok(fx->nopie);
	tb_elf_symtab_t *t = tb_elf_symtab_load(e, NULL, &err);
	uint64_t want = 0, got = 0;

	assert_non_null(t);
	assert_int_equal(fx_objdump_offset(fx->nopie, "tb_static_helper", &want), 0);
	assert_int_equal(tb_elf_symtab_offset_of(t, "tb_static_helper", &got), 1);
	assert_int_equal(got, want);
	assert_int_equal(tb_elf_symtab_offset_of(t, "no_such_function", &got), 0);
	assert_true(tb_elf_symtab_count(t) >= 4);
	tb_elf_symtab_free(t);
	tb_elf_close(e);
}

static void offset_outside_any_function_is_not_found(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	tb_elf_t *e = open_ok(fx->pie);
	tb_elf_symtab_t *t = tb_elf_symtab_load(e, NULL, &err);
	tb_elf_hit_t hit;

	assert_non_null(t);
	assert_int_equal(tb_elf_symtab_lookup(t, 0x10, &hit), 0);	/* ELF header */
	assert_int_equal(tb_elf_symtab_lookup(t, 0x7fffffff, &hit), 0); /* past the file */
	tb_elf_symtab_free(t);
	tb_elf_close(e);
}

static void open_names_the_file_when_missing_or_not_elf(void **state)
{
	fx_t *fx = *state;
	tb_err_t err = {{0}};
	char fifo[FX_PATH + 8];

	assert_null(tb_elf_open("/nonexistent/tb-no-such-file", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/tb-no-such-file"));
	assert_null(tb_elf_open(fx->src, &err));
	assert_non_null(strstr(err.msg, "not an ELF file"));
	assert_null(tb_elf_open(fx->dir, &err));
	assert_non_null(strstr(err.msg, "not a regular file"));
	snprintf(fifo, sizeof(fifo), "%s/fifo", fx->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(tb_elf_open(fifo, &err)); /* returns instead of blocking for a writer */
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(fifo);
}

static void debug_path_uses_build_id_layout(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(tb_elf_debug_path("/usr/lib/debug", "ab12cd", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/debug/.build-id/ab/12cd.debug");
	assert_int_equal(tb_elf_debug_path("/d", "AB12", out, sizeof(out)), -1);
	assert_int_equal(tb_elf_debug_path("/d", "a", out, sizeof(out)), -1);
	assert_int_equal(tb_elf_debug_path("/d", "ab12cd", out, 8), -1);
}

/* ---- robustness ---- */

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = (unsigned char *)tb_test_read_file(path, len);

	assert_non_null(buf);
	return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Open and use a possibly damaged file; returns 1 when it opened. */
static int exercise(const char *path)
{
	tb_err_t err = {{0}};
	tb_elf_t *e = tb_elf_open(path, &err);
	tb_elf_symtab_t *t;
	tb_elf_hit_t hit;
	uint64_t v;

	if (!e) {
		if (!err.msg[0])
			fail_msg("open %s failed without a message", path);
		return 0;
	}
	(void)strlen(tb_elf_build_id(e));
	(void)tb_elf_offset_to_vaddr(e, 0x1100, &v);
	t = tb_elf_symtab_load(e, NULL, &err);
	if (t) {
		for (uint64_t off = 0; off < 0x3000; off += 0x41)
			(void)tb_elf_symtab_lookup(t, off, &hit);
		(void)tb_elf_symtab_offset_of(t, "main", &v);
		tb_elf_symtab_free(t);
	} else if (!err.msg[0]) {
		fail_msg("symtab_load %s failed without a message", path);
	}
	tb_elf_close(e);
	return 1;
}

static void truncated_files_give_errors_not_crashes(void **state)
{
	fx_t *fx = *state;
	char path[FX_PATH + 16];
	size_t len, opened = 0;
	unsigned char *buf = slurp(fx->pie, &len);

	snprintf(path, sizeof(path), "%s/truncated", fx->dir);
	for (size_t n = 0; n < len; n += (n < 128 ? 1 : 97)) {
		spit(path, buf, n);
		opened += (size_t)exercise(path);
		if (n < 52 && opened) /* shorter than an ELF64 header */
			fail_msg("a %zu-byte truncation opened as ELF", n);
	}
	spit(path, buf, len);
	assert_int_equal(exercise(path), 1);
	print_message("# %zu of the truncations opened (the rest failed cleanly)\n", opened);
	free(buf);
}

static void corrupted_files_give_errors_not_crashes(void **state)
{
	fx_t *fx = *state;
	char path[FX_PATH + 16];
	size_t len;
	unsigned char *buf = slurp(fx->pie, &len), *copy = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ULL; /* fixed seed: failures are reproducible */

	assert_non_null(copy);
	snprintf(path, sizeof(path), "%s/corrupt", fx->dir);
	for (int round = 0; round < 400; round++) {
		memcpy(copy, buf, len);
		for (int k = 0; k < 1 + round % 8; k++) {
			size_t at;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Half the flips hit the headers (ELF, program, first page), half anywhere. */
			at = (k % 2 == 0) ? (size_t)(x % (len < 4096 ? len : 4096)) : (size_t)(x % len);
			copy[at] ^= (unsigned char)(x >> 32) | 1;
		}
		spit(path, copy, len);
		(void)exercise(path);
	}
	free(copy);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(build_id_matches_readelf_for_every_layout),
	    cmocka_unit_test(stripped_copy_and_debug_file_share_the_build_id),
	    cmocka_unit_test(pie_file_offset_resolves_to_known_function),
	    cmocka_unit_test(non_pie_file_offset_resolves_to_known_function),
	    cmocka_unit_test(lld_layout_maps_offset_without_assuming_equality),
	    cmocka_unit_test(shared_library_offset_resolves_static_and_global_functions),
	    cmocka_unit_test(offset_vaddr_round_trip_through_segments),
	    cmocka_unit_test(zero_size_symbol_extends_to_next_symbol),
	    cmocka_unit_test(stripped_binary_does_not_resolve_local_functions),
	    cmocka_unit_test(debug_file_gives_symbols_with_image_segments),
	    cmocka_unit_test(debug_file_alone_resolves_vaddrs_but_not_offsets),
	    cmocka_unit_test(offset_of_name_matches_objdump),
	    cmocka_unit_test(offset_outside_any_function_is_not_found),
	    cmocka_unit_test(open_names_the_file_when_missing_or_not_elf),
	    cmocka_unit_test(debug_path_uses_build_id_layout),
	    cmocka_unit_test(truncated_files_give_errors_not_crashes),
	    cmocka_unit_test(corrupted_files_give_errors_not_crashes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
