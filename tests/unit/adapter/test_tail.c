/*
 * Unit tests for the adapter's file tail: appends, start at end, missing
 * file, rotation by rename + recreate (with drain of the old file),
 * truncation, stdin, and "file:line" positions through tb_jsonstream.
 * Every test works in its own temp dir, removed at the end.
 */
#include <fcntl.h>
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

#include "../../../services/adapter/tail.h"
#include "tb/jsonstream.h"

typedef struct fx {
	char dir[64];
	char path[128];
	char old[128];
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tb-tail-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tetragon.log", f->dir);
	snprintf(f->old, sizeof(f->old), "%s/tetragon-2026-03-14T09-00-00.000.log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;

	unlink(f->path);
	unlink(f->old);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* One read that must deliver exactly `want` with the given position. */
static void expect_chunk(tb_tail_t *t, const char *want, uint64_t offset, uint64_t line, uint64_t gen,
			 tb_tail_switch_t why)
{
	char buf[4096];
	tb_tail_chunk_t c;
	tb_err_t err = {{0}};
	tb_tail_status_t st = tb_tail_read(t, buf, sizeof(buf), &c, &err);

	if (st != TB_TAIL_DATA)
		fail_msg("expected data \"%s\", got status %d (%s)", want, st, err.msg);
	if (c.len != strlen(want) || memcmp(c.data, want, c.len) != 0 || c.offset != offset ||
	    c.line != line || c.generation != gen || c.why != why)
		fail_msg("expected \"%s\" at offset %llu line %llu gen %llu (%s), got \"%.*s\" at offset "
			 "%llu line %llu "
			 "gen %llu (%s)",
			 want, (unsigned long long)offset, (unsigned long long)line, (unsigned long long)gen,
			 tb_tail_switch_name(why), (int)c.len, c.data, (unsigned long long)c.offset,
			 (unsigned long long)c.line, (unsigned long long)c.generation,
			 tb_tail_switch_name(c.why));
}

static void expect_status(tb_tail_t *t, tb_tail_status_t want)
{
	char buf[4096];
	tb_tail_chunk_t c;
	tb_err_t err = {{0}};
	tb_tail_status_t st = tb_tail_read(t, buf, sizeof(buf), &c, &err);

	if (st != want)
		fail_msg("expected status %d, got %d (%s)%s%.*s", want, st, err.msg,
			 st == TB_TAIL_DATA ? " data: " : "", st == TB_TAIL_DATA ? (int)c.len : 0,
			 st == TB_TAIL_DATA ? c.data : "");
}

static tb_tail_t *open_tail(const char *path, tb_tail_start_t start)
{
	tb_tail_opts_t o = {.start = start};
	tb_err_t err = {{0}};
	tb_tail_t *t = tb_tail_open(path, &o, &err);

	if (!t)
		fail_msg("expected a tail on %s, got error: %s", path, err.msg);
	return t;
}

static void missing_file_is_tolerated_then_read_when_created(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t = open_tail(f->path, TB_TAIL_FROM_END);

	expect_status(t, TB_TAIL_AGAIN);
	expect_status(t, TB_TAIL_AGAIN);
	/* A file that appears later is new data: read from its start. */
	append(f->path, "{\"a\":1}\n");
	expect_chunk(t, "{\"a\":1}\n", 0, 1, 1, TB_TAIL_OPENED);
	expect_status(t, TB_TAIL_AGAIN);
	tb_tail_close(t);
}

static void appended_data_arrives_with_offsets_and_lines(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t;

	append(f->path, "one\ntwo\n");
	t = open_tail(f->path, TB_TAIL_FROM_START);
	expect_chunk(t, "one\ntwo\n", 0, 1, 1, TB_TAIL_OPENED);
	expect_status(t, TB_TAIL_AGAIN);
	append(f->path, "thr");
	expect_chunk(t, "thr", 8, 3, 1, TB_TAIL_SAME);
	append(f->path, "ee\nfour\n");
	expect_chunk(t, "ee\nfour\n", 11, 3, 1, TB_TAIL_SAME);
	expect_status(t, TB_TAIL_AGAIN);
	tb_tail_close(t);
}

static void start_at_end_skips_existing_lines_but_counts_them(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t;

	append(f->path, "old1\nold2\nold3\n");
	t = open_tail(f->path, TB_TAIL_FROM_END);
	expect_status(t, TB_TAIL_AGAIN);
	append(f->path, "new\n");
	expect_chunk(t, "new\n", 15, 4, 1, TB_TAIL_OPENED);
	tb_tail_close(t);
}

static void rename_and_recreate_drains_the_old_file_first(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t;

	append(f->path, "a1\n");
	t = open_tail(f->path, TB_TAIL_FROM_START);
	expect_chunk(t, "a1\n", 0, 1, 1, TB_TAIL_OPENED);
	/* Rotation: rename, the writer still finishes into the old file, then
	 * a new file appears with new data. */
	assert_int_equal(rename(f->path, f->old), 0);
	append(f->old, "a2\n");
	append(f->path, "b1\n");
	expect_chunk(t, "a2\n", 3, 2, 1, TB_TAIL_SAME);
	expect_chunk(t, "b1\n", 0, 1, 2, TB_TAIL_ROTATED);
	append(f->path, "b2\n");
	expect_chunk(t, "b2\n", 3, 2, 2, TB_TAIL_SAME);
	/* The old file is let go: writes to it are no longer read. */
	append(f->old, "late\n");
	expect_status(t, TB_TAIL_AGAIN);
	tb_tail_close(t);
}

static void file_moved_away_and_not_recreated_yet_is_waited_for(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t;

	append(f->path, "x\n");
	t = open_tail(f->path, TB_TAIL_FROM_START);
	expect_chunk(t, "x\n", 0, 1, 1, TB_TAIL_OPENED);
	assert_int_equal(rename(f->path, f->old), 0);
	expect_status(t, TB_TAIL_AGAIN);
	expect_status(t, TB_TAIL_AGAIN);
	append(f->path, "y\n");
	expect_chunk(t, "y\n", 0, 1, 2, TB_TAIL_ROTATED);
	tb_tail_close(t);
}

static void truncation_restarts_at_offset_zero(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t;

	append(f->path, "aaaa\nbbbb\n");
	t = open_tail(f->path, TB_TAIL_FROM_START);
	expect_chunk(t, "aaaa\nbbbb\n", 0, 1, 1, TB_TAIL_OPENED);
	assert_int_equal(truncate(f->path, 0), 0);
	expect_status(t, TB_TAIL_AGAIN);
	append(f->path, "c\n");
	expect_chunk(t, "c\n", 0, 1, 2, TB_TAIL_TRUNCATED);
	tb_tail_close(t);
}

static void stdin_pipe_is_read_without_blocking_until_eof(void **state)
{
	int p[2], saved = dup(STDIN_FILENO);
	tb_tail_t *t;

	(void)state;
	assert_true(saved >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	t = open_tail("-", TB_TAIL_FROM_START);
	expect_status(t, TB_TAIL_AGAIN); /* empty pipe: no blocking */
	assert_int_equal(write(p[1], "{\"s\":1}\n", 8), 8);
	expect_chunk(t, "{\"s\":1}\n", 0, 1, 1, TB_TAIL_OPENED);
	expect_status(t, TB_TAIL_AGAIN);
	close(p[1]);
	expect_status(t, TB_TAIL_EOF);
	tb_tail_close(t);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

/* The adapter's loop in miniature: chunks -> splitter, reset on a new
 * generation, positions as file:line. */
static void positions_follow_lines_across_a_rotation(void **state)
{
	fx_t *f = *state;
	tb_tail_t *t;
	tb_jsonstream_t *js = tb_jsonstream_new(0);
	uint64_t gen = 0, lines[8];
	tb_jsonstream_kind_t kinds[8];
	size_t n = 0;
	char buf[7]; /* tiny reads: objects straddle chunks */

	assert_non_null(js);
	append(f->path, "{\"a\":1}\n{\"b\":\n2}\n{\"c\":");
	t = open_tail(f->path, TB_TAIL_FROM_START);
	for (int round = 0; round < 2; round++) {
		tb_tail_chunk_t c;
		tb_err_t err = {{0}};
		tb_jsonstream_item_t it;
		tb_tail_status_t st;

		while ((st = tb_tail_read(t, buf, sizeof(buf), &c, &err)) == TB_TAIL_DATA) {
			if (c.generation != gen) {
				tb_jsonstream_finish(js);
				while (tb_jsonstream_next(js, &it) && n < 8) {
					kinds[n] = it.kind;
					lines[n++] = it.line;
				}
				tb_jsonstream_reset(js, c.offset, c.line);
				gen = c.generation;
			}
			assert_int_equal(tb_jsonstream_feed(js, c.data, c.len, &err), 0);
			while (tb_jsonstream_next(js, &it) && n < 8) {
				kinds[n] = it.kind;
				lines[n++] = it.line;
			}
		}
		assert_int_equal(st, TB_TAIL_AGAIN);
		if (round == 0) {
			assert_int_equal(rename(f->path, f->old), 0);
			append(f->path, "\n{\"d\":4}\n");
		}
	}
	/* a (line 1), b (line 2), c cut by the rotation (line 4), d (line 2 of the new file). */
	assert_int_equal(n, 4);
	assert_int_equal(kinds[0], TB_JSONSTREAM_OBJECT);
	assert_int_equal(lines[0], 1);
	assert_int_equal(kinds[1], TB_JSONSTREAM_OBJECT);
	assert_int_equal(lines[1], 2);
	assert_int_equal(kinds[2], TB_JSONSTREAM_TRUNCATED);
	assert_int_equal(lines[2], 4);
	assert_int_equal(kinds[3], TB_JSONSTREAM_OBJECT);
	assert_int_equal(lines[3], 2);
	tb_jsonstream_free(js);
	tb_tail_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(missing_file_is_tolerated_then_read_when_created, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(appended_data_arrives_with_offsets_and_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(start_at_end_skips_existing_lines_but_counts_them, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rename_and_recreate_drains_the_old_file_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(file_moved_away_and_not_recreated_yet_is_waited_for, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(truncation_restarts_at_offset_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(stdin_pipe_is_read_without_blocking_until_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(positions_follow_lines_across_a_rotation, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
