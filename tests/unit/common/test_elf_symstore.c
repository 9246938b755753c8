/*
 * Unit tests for tb_symstore: indexing a directory by build-id (plain tree,
 * debuginfod layout, .build-id layout), resolving a stripped binary's
 * build-id through its unstripped twin or debug file, unknown build-ids,
 * bounded LRU eviction, remembered load failures, and concurrent lookups.
 * ELF files come from test_elf_fixture.h (built at test time).
 */
#include <pthread.h>
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

#include "tb/elf.h"
#include "tb/symstore.h"
#include "test_elf_fixture.h"

typedef struct st {
	fx_t fx;
	char pie_bid[256];
	char nopie_bid[256];
	uint64_t known_off;	  /* tb_known_function in the PIE */
	uint64_t known_off_nopie; /* tb_known_function in the non-PIE */
} st_t;

static int group_setup(void **state)
{
	st_t *s = calloc(1, sizeof(*s));

	if (!s || fx_build(&s->fx) < 0 ||
	    fx_readelf_build_id(s->fx.pie, s->pie_bid, sizeof(s->pie_bid)) < 0 ||
	    fx_readelf_build_id(s->fx.nopie, s->nopie_bid, sizeof(s->nopie_bid)) < 0 ||
	    fx_objdump_offset(s->fx.pie, "tb_known_function", &s->known_off) < 0 ||
	    fx_objdump_offset(s->fx.nopie, "tb_known_function", &s->known_off_nopie) < 0) {
		if (s)
			fx_destroy(&s->fx);
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int group_teardown(void **state)
{
	st_t *s = *state;

	fx_destroy(&s->fx);
	free(s);
	return 0;
}

/* A fresh store directory under the fixture dir; shell commands populate it. */
static void make_store(st_t *s, const char *name, const char *populate, char *dir, size_t cap)
{
	char cmd[4 * FX_PATH];

	snprintf(dir, cap, "%s/%s", s->fx.dir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && cd '%s' && %s", dir, dir, dir, populate);
	assert_int_equal(fx_sh(cmd), 0);
}

static tb_symstore_t *open_store(const char *dir, size_t cache)
{
	tb_symstore_config_t cfg = {.dir = dir, .cache_entries = cache};
	tb_err_t err = {{0}};
	tb_symstore_t *st = tb_symstore_open(&cfg, &err);

	if (!st)
		fail_msg("tb_symstore_open(%s): %s", dir, err.msg);
	return st;
}

static void expect_symbol(tb_symstore_t *st, const char *bid, uint64_t off, const char *want,
			  uint64_t want_off)
{
	tb_err_t err = {{0}};
	char *sym = NULL;
	uint64_t sym_off = 0;
	int rc = tb_symstore_lookup(st, bid, off, &sym, &sym_off, &err);

	if (rc != 1)
		fail_msg("lookup(%s, 0x%llx): expected %s+%llu, got rc=%d (%s)", bid, (unsigned long long)off,
			 want, (unsigned long long)want_off, rc, err.msg);
	assert_string_equal(sym, want);
	assert_int_equal(sym_off, want_off);
	free(sym);
}

static void stripped_build_id_resolves_through_unstripped_file(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;
	tb_symstore_stats_t stats;

	/* The stripped copy in bin/, the unstripped one elsewhere in the tree;
	 * a text file, a broken ELF and a symlink to an indexed file are
	 * skipped; a FIFO is not a regular file, so it is not even opened (the
	 * scan must not block on it). */
	snprintf(
	    pop, sizeof(pop),
	    "mkdir -p bin deep/er && cp '%s' bin/app && cp '%s' deep/er/app.full && echo hi > README && "
	    "head -c 100 '%s' > deep/broken.so && mkfifo deep/fifo && ln -s ../../bin/app deep/er/app.link",
	    s->fx.stripped, s->fx.pie, s->fx.pie);
	make_store(s, "store-plain", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	assert_true(tb_symstore_has(st, s->pie_bid));
	expect_symbol(st, s->pie_bid, s->known_off + 3, "tb_known_function", 3);
	tb_symstore_stats(st, &stats);
	assert_int_equal(stats.files, 2);
	assert_int_equal(stats.build_ids, 1);
	assert_int_equal(stats.skipped, 3);
	tb_symstore_close(st);
}

static void debuginfod_layout_resolves_with_debuginfo_and_executable(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;

	snprintf(pop, sizeof(pop), "mkdir -p %s && cp '%s' %s/debuginfo && cp '%s' %s/executable", s->pie_bid,
		 s->fx.debug, s->pie_bid, s->fx.stripped, s->pie_bid);
	make_store(s, "store-debuginfod", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	expect_symbol(st, s->pie_bid, s->known_off + 1, "tb_known_function", 1);
	tb_symstore_close(st);
}

static void build_id_dir_layout_resolves_debug_file_with_image(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;

	snprintf(pop, sizeof(pop),
		 "mkdir -p .build-id/%.2s usr/bin && cp '%s' .build-id/%.2s/%s.debug && cp '%s' usr/bin/app",
		 s->pie_bid, s->fx.debug, s->pie_bid, s->pie_bid + 2, s->fx.stripped);
	make_store(s, "store-buildid", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	expect_symbol(st, s->pie_bid, s->known_off, "tb_known_function", 0);
	tb_symstore_close(st);
}

static void debug_file_alone_does_not_guess_offsets(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;
	tb_err_t err = {{0}};
	char *sym = NULL;
	uint64_t off = 0;

	snprintf(pop, sizeof(pop), "mkdir -p %s && cp '%s' %s/debuginfo", s->pie_bid, s->fx.debug,
		 s->pie_bid);
	make_store(s, "store-debugonly", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	assert_true(tb_symstore_has(st, s->pie_bid));
	if (tb_symstore_lookup(st, s->pie_bid, s->known_off, &sym, &off, &err) != 0)
		fail_msg("debug file alone: expected no answer (offsets unknown), got %s (%s)",
			 sym ? sym : "-", err.msg);
	tb_symstore_close(st);
}

static void unknown_build_id_is_not_found(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;
	tb_symstore_stats_t stats;
	tb_err_t err = {{0}};
	char *sym = NULL;
	uint64_t off = 0;

	snprintf(pop, sizeof(pop), "cp '%s' app", s->fx.pie);
	make_store(s, "store-unknown", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	assert_int_equal(
	    tb_symstore_lookup(st, "00112233445566778899aabbccddeeff00112233", 0x1000, &sym, &off, &err), 0);
	assert_null(sym);
	assert_int_equal(tb_symstore_lookup(st, "not-hex", 0x1000, &sym, &off, &err), 0);
	tb_symstore_stats(st, &stats);
	assert_int_equal(stats.unknown, 1);
	tb_symstore_close(st);
}

static void build_id_lookup_ignores_case(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH], upper[256];
	tb_symstore_t *st;

	snprintf(pop, sizeof(pop), "cp '%s' app", s->fx.pie);
	make_store(s, "store-case", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	for (size_t i = 0; i <= strlen(s->pie_bid); i++)
		upper[i] = (char)((s->pie_bid[i] >= 'a' && s->pie_bid[i] <= 'f') ? s->pie_bid[i] - 32
										 : s->pie_bid[i]);
	expect_symbol(st, upper, s->known_off + 2, "tb_known_function", 2);
	tb_symstore_close(st);
}

static void lru_evicts_beyond_bound_and_reloads(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;
	tb_symstore_stats_t stats;

	snprintf(pop, sizeof(pop), "cp '%s' a && cp '%s' b", s->fx.pie, s->fx.nopie);
	make_store(s, "store-lru", pop, dir, sizeof(dir));
	st = open_store(dir, 1);
	for (int i = 0; i < 3; i++) {
		expect_symbol(st, s->pie_bid, s->known_off + 1, "tb_known_function", 1);
		expect_symbol(st, s->pie_bid, s->known_off + 2, "tb_known_function", 2);
		expect_symbol(st, s->nopie_bid, s->known_off_nopie + 1, "tb_known_function", 1);
	}
	tb_symstore_stats(st, &stats);
	assert_int_equal(stats.cached, 1);
	assert_int_equal(stats.loads, 6); /* each switch reloads */
	assert_int_equal(stats.evictions, 5);
	assert_int_equal(stats.hits, 3); /* the second pie lookup of each round */
	tb_symstore_close(st);
}

static void load_failure_is_reported_and_remembered(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH], app[FX_PATH + 8];
	tb_symstore_t *st;
	tb_err_t err = {{0}};
	char *sym = NULL;
	uint64_t off = 0;

	snprintf(pop, sizeof(pop), "cp '%s' app", s->fx.pie);
	make_store(s, "store-fail", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	/* The file disappears after indexing. */
	snprintf(app, sizeof(app), "%s/app", dir);
	assert_int_equal(unlink(app), 0);
	assert_int_equal(tb_symstore_lookup(st, s->pie_bid, s->known_off, &sym, &off, &err), -1);
	assert_non_null(strstr(err.msg, app));
	assert_non_null(strstr(err.msg, s->pie_bid));
	tb_err_clear(&err);
	assert_int_equal(tb_symstore_lookup(st, s->pie_bid, s->known_off, &sym, &off, &err), -1);
	assert_non_null(strstr(err.msg, "remembered"));
	tb_symstore_close(st);
}

static void added_file_upgrades_symbols_of_a_loaded_build_id(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;
	tb_err_t err = {{0}};
	char *sym = NULL;
	uint64_t off = 0;

	snprintf(pop, sizeof(pop), "cp '%s' app", s->fx.stripped);
	make_store(s, "store-add", pop, dir, sizeof(dir));
	st = open_store(dir, 0);
	assert_int_equal(tb_symstore_lookup(st, s->pie_bid, s->known_off, &sym, &off, &err), 0);
	assert_int_equal(tb_symstore_add_file(st, s->fx.debug, &err), 1);
	assert_int_equal(tb_symstore_add_file(st, s->fx.debug, &err), 0); /* same inode */
	assert_int_equal(tb_symstore_add_file(st, s->fx.src, &err), 0);	  /* not ELF */
	expect_symbol(st, s->pie_bid, s->known_off, "tb_known_function", 0);
	tb_symstore_close(st);
}

static void missing_store_dir_is_an_error(void **state)
{
	tb_symstore_config_t cfg = {.dir = "/nonexistent/tb-symbols"};
	tb_err_t err = {{0}};

	(void)state;
	assert_null(tb_symstore_open(&cfg, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/tb-symbols"));
}

typedef struct worker {
	tb_symstore_t *st;
	const st_t *s;
	int failures;
} worker_t;

static void *worker_run(void *arg)
{
	worker_t *w = arg;

	for (int i = 0; i < 300; i++) {
		int pie = (i % 3) != 0;
		const char *bid = pie ? w->s->pie_bid : w->s->nopie_bid;
		uint64_t base = pie ? w->s->known_off : w->s->known_off_nopie;
		char *sym = NULL;
		uint64_t off = 0;
		tb_err_t err;

		if (tb_symstore_lookup(w->st, bid, base + (uint64_t)(i % 7), &sym, &off, &err) != 1 ||
		    strcmp(sym, "tb_known_function") != 0 || off != (uint64_t)(i % 7))
			w->failures++;
		free(sym);
	}
	return NULL;
}

static void concurrent_lookups_agree(void **state)
{
	st_t *s = *state;
	char dir[FX_PATH], pop[4 * FX_PATH];
	tb_symstore_t *st;
	pthread_t th[4];
	worker_t w[4];

	snprintf(pop, sizeof(pop), "cp '%s' a && cp '%s' b", s->fx.pie, s->fx.nopie);
	make_store(s, "store-threads", pop, dir, sizeof(dir));
	st = open_store(dir, 1); /* cache of one: constant eviction under contention */
	for (int i = 0; i < 4; i++) {
		w[i] = (worker_t){.st = st, .s = s};
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	tb_symstore_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stripped_build_id_resolves_through_unstripped_file),
	    cmocka_unit_test(debuginfod_layout_resolves_with_debuginfo_and_executable),
	    cmocka_unit_test(build_id_dir_layout_resolves_debug_file_with_image),
	    cmocka_unit_test(debug_file_alone_does_not_guess_offsets),
	    cmocka_unit_test(unknown_build_id_is_not_found),
	    cmocka_unit_test(build_id_lookup_ignores_case),
	    cmocka_unit_test(lru_evicts_beyond_bound_and_reloads),
	    cmocka_unit_test(load_failure_is_reported_and_remembered),
	    cmocka_unit_test(added_file_upgrades_symbols_of_a_loaded_build_id),
	    cmocka_unit_test(missing_store_dir_is_an_error),
	    cmocka_unit_test(concurrent_lookups_agree),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
