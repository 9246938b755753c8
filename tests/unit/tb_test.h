/*
 * tests/unit/tb_test.h — file helpers the unit tests share (include it
 * after <cmocka.h>).
 */
#ifndef TB_TEST_H
#define TB_TEST_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file at path, NUL-terminated and malloc'd, its size in *len;
 * NULL when it cannot be opened (a read error fails the test). */
static inline char *tb_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* $TB_SRCDIR/DIR/NAME (TB_SRCDIR: the repository root, "." when unset),
 * read with tb_test_read_file; the test fails when it cannot be opened. */
static inline char *tb_test_repo_file(const char *dir, const char *name, size_t *len)
{
	const char *root = getenv("TB_SRCDIR");
	char path[4096];
	char *buf;

	snprintf(path, sizeof(path), "%s/%s/%s", root ? root : ".", dir, name);
	buf = tb_test_read_file(path, len);
	if (!buf)
		fail_msg("cannot open %s (set TB_SRCDIR to the repository root)", path);
	return buf;
}

#endif
