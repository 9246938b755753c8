/*
 * Unit tests for the pure parts of tb_pg: migration file names, loading and
 * ordering (in memory, from a directory, embedded), COPY text formatting,
 * value formatting, backoff, transient SQLSTATEs and conninfo descriptions.
 * The parts that need a server are in test_pg_live.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tb/pg.h"

/* assert that s contains sub, printing both when it does not */
#define assert_contains(s, sub)                                                                              \
	do {                                                                                                 \
		if (!strstr((s), (sub)))                                                                     \
			fail_msg("expected \"%s\" to contain \"%s\"", (s), (sub));                           \
	} while (0)

static void parse_name_accepts_numbered_files(void **state)
{
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_migration_parse_name("001_core.sql", &err), 1);
	assert_int_equal(tb_pg_migration_parse_name("42_hot-symbols_v2.sql", &err), 42);
	assert_int_equal(tb_pg_migration_parse_name("999999999_x.sql", &err), 999999999);
}

static void parse_name_rejects_bad_names_and_says_why(void **state)
{
	static const struct {
		const char *name;
		const char *why;
	} bad[] = {
	    {"core.sql", "must start with a version number"},
	    {"001core.sql", "must be followed by _name"},
	    {"001_.sql", "must be followed by _name"},
	    {"000_zero.sql", "greater than 0"},
	    {"001_core.txt", "must end in .sql"},
	    {"1234567890_long.sql", "1 to 9 digits"},
	    {"001_has space.sql", "only letters, digits"},
	    {"001_dot.s.sql", "only letters, digits"},
	};
	tb_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tb_err_clear(&err);
		if (tb_pg_migration_parse_name(bad[i].name, &err) != -1)
			fail_msg("expected %s to be rejected, it was accepted", bad[i].name);
		assert_contains(err.msg, bad[i].name);
		assert_contains(err.msg, bad[i].why);
	}
}

static void migrations_are_sorted_by_number_not_by_text(void **state)
{
	const char *names[] = {"010_c.sql", "002_b.sql", "1_a.sql", "100_d.sql"};
	const char *sql[] = {"c", "b", "a", "d"};
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_migrations_from(names, sql, 4, &m, &err), 0);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.items[0].version, 1);
	assert_string_equal(m.items[0].name, "1_a.sql");
	assert_int_equal(m.items[1].version, 2);
	assert_int_equal(m.items[2].version, 10);
	assert_int_equal(m.items[3].version, 100);
	assert_string_equal(m.items[3].sql, "d");
	tb_pg_migrations_free(&m);
}

static void migration_checksum_is_sha256_of_the_contents(void **state)
{
	const char *names[] = {"1_abc.sql", "2_empty.sql"};
	const char *sql[] = {"abc", ""};
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_migrations_from(names, sql, 2, &m, &err), 0);
	/* FIPS 180-2 test vector and the empty-input digest. */
	assert_string_equal(m.items[0].checksum,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(m.items[1].checksum,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	tb_pg_migrations_free(&m);
}

static void two_files_with_one_version_are_an_error_naming_both(void **state)
{
	const char *names[] = {"003_a.sql", "001_x.sql", "3_b.sql"};
	const char *sql[] = {"a", "x", "b"};
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_migrations_from(names, sql, 3, &m, &err), -1);
	assert_contains(err.msg, "003_a.sql");
	assert_contains(err.msg, "3_b.sql");
	assert_contains(err.msg, "same version 3");
	assert_null(m.items);
}

static void an_empty_migration_set_is_an_error(void **state)
{
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_migrations_from(NULL, NULL, 0, &m, &err), -1);
	assert_contains(err.msg, "no migrations");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_dir(const char *dir, const char *const *names, size_t n)
{
	char path[512];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void loading_a_directory_reads_sql_files_and_ignores_others(void **state)
{
	const char *files[] = {"002_second.sql", "001_first.sql", "README.md", "001_first.sql.orig"};
	char dir[] = "/tmp/tb-test-pg.XXXXXX";
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, files[0], "SELECT 2;\n");
	write_file(dir, files[1], "SELECT 1;\n");
	write_file(dir, files[2], "not a migration");
	write_file(dir, files[3], "a backup");
	assert_int_equal(tb_pg_migrations_load(dir, &m, &err), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.items[0].name, "001_first.sql");
	assert_string_equal(m.items[0].sql, "SELECT 1;\n");
	assert_string_equal(m.items[1].name, "002_second.sql");
	tb_pg_migrations_free(&m);
	remove_dir(dir, files, 4);
}

static void a_badly_named_sql_file_in_a_directory_is_an_error(void **state)
{
	const char *files[] = {"001_first.sql", "second.sql"};
	char dir[] = "/tmp/tb-test-pg.XXXXXX";
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, files[0], "SELECT 1;\n");
	write_file(dir, files[1], "SELECT 2;\n");
	assert_int_equal(tb_pg_migrations_load(dir, &m, &err), -1);
	assert_contains(err.msg, "second.sql");
	assert_contains(err.msg, dir);
	remove_dir(dir, files, 2);
}

static void a_missing_directory_is_an_error_naming_it(void **state)
{
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_migrations_load("/nonexistent/tb-sql", &m, &err), -1);
	assert_contains(err.msg, "/nonexistent/tb-sql");
	assert_contains(err.msg, "No such file");
}

/* The binary's migrations are exactly the repo's schemas/sql files. */
static void embedded_migrations_match_the_repository_files(void **state)
{
	const char *src = getenv("TB_SRCDIR");
	char dir[512];
	tb_pg_migrations_t emb = {0}, files = {0};
	tb_err_t err = {{0}};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/schemas/sql", src ? src : ".");
	if (tb_pg_migrations_load(NULL, &emb, &err) < 0)
		fail_msg("expected the embedded migrations to load, got: %s", err.msg);
	if (tb_pg_migrations_load(dir, &files, &err) < 0)
		fail_msg("expected %s to load (set TB_SRCDIR to the repo root), got: %s", dir, err.msg);
	assert_int_equal(emb.n, files.n);
	for (size_t i = 0; i < emb.n; i++) {
		assert_string_equal(emb.items[i].name, files.items[i].name);
		assert_string_equal(emb.items[i].checksum, files.items[i].checksum);
		if (i > 0)
			assert_true(emb.items[i].version > emb.items[i - 1].version);
	}
	tb_pg_migrations_free(&emb);
	tb_pg_migrations_free(&files);
}

static void copy_rows_escape_specials_and_write_null(void **state)
{
	const char *row1[] = {"plain", NULL, "tab\there", "line\nbreak\r", "back\\slash", ""};
	const char *row2[] = {"\\x00ff"};
	tb_pg_buf_t b = {0};

	(void)state;
	assert_int_equal(tb_pg_copy_format(&b, row1, 6), 0);
	assert_int_equal(tb_pg_copy_format(&b, row2, 1), 0);
	assert_int_equal(b.len,
			 strlen("plain\t\\N\ttab\\there\tline\\nbreak\\r\tback\\\\slash\t\n\\\\x00ff\n"));
	assert_memory_equal(b.data, "plain\t\\N\ttab\\there\tline\\nbreak\\r\tback\\\\slash\t\n\\\\x00ff\n",
			    b.len);
	free(b.data);
}

static void copy_buffer_grows_for_long_values(void **state)
{
	char *big = malloc(100001);
	const char *row[] = {big, big};
	tb_pg_buf_t b = {0};

	(void)state;
	assert_non_null(big);
	memset(big, '\n', 100000);
	big[100000] = '\0';
	assert_int_equal(tb_pg_copy_format(&b, row, 2), 0);
	assert_int_equal(b.len, 400002); /* every byte escaped twice over, a tab, a newline */
	assert_int_equal(b.data[200000], '\t');
	assert_int_equal(b.data[b.len - 1], '\n');
	free(b.data);
	free(big);
}

static void bytea_hex_is_backslash_x_lowercase(void **state)
{
	const uint8_t id[4] = {0x00, 0xab, 0x10, 0xff};
	char out[2 * 4 + 3];

	(void)state;
	tb_pg_bytea_hex(id, 4, out);
	assert_string_equal(out, "\\x00ab10ff");
}

static void timestamps_are_utc_microseconds(void **state)
{
	char out[TB_PG_TS_LEN];

	(void)state;
	tb_pg_ts(0, out);
	assert_string_equal(out, "1970-01-01 00:00:00.000000+00");
	tb_pg_ts(1700000000123456789LL, out); /* nanoseconds are truncated */
	assert_string_equal(out, "2023-11-14 22:13:20.123456+00");
	tb_pg_ts(-1, out); /* one nanosecond before the epoch rounds down */
	assert_string_equal(out, "1969-12-31 23:59:59.999999+00");
}

static void backoff_doubles_from_100ms_and_caps_at_2s(void **state)
{
	const int want[] = {100, 200, 400, 800, 1600, 2000, 2000};

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_int_equal(tb_pg_backoff_ms(i), want[i]);
	assert_int_equal(tb_pg_backoff_ms(1000), 2000);
}

static void transient_sqlstates_are_connection_shutdown_serialization_deadlock(void **state)
{
	(void)state;
	assert_true(tb_pg_sqlstate_is_transient("08006"));
	assert_true(tb_pg_sqlstate_is_transient("08001"));
	assert_true(tb_pg_sqlstate_is_transient("57P01"));
	assert_true(tb_pg_sqlstate_is_transient("40001"));
	assert_true(tb_pg_sqlstate_is_transient("40P01"));
	assert_false(tb_pg_sqlstate_is_transient("23505")); /* unique violation */
	assert_false(tb_pg_sqlstate_is_transient("42601")); /* syntax error */
	assert_false(tb_pg_sqlstate_is_transient("25P02"));
	assert_false(tb_pg_sqlstate_is_transient(""));
	assert_false(tb_pg_sqlstate_is_transient(NULL));
}

static void conninfo_description_names_the_target_without_password(void **state)
{
	char out[256];
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_describe_conninfo("postgresql://alice:s3cret@db.example:6543/tracebridge", out,
						 sizeof(out), &err),
			 0);
	assert_string_equal(out, "db.example:6543 database tracebridge user alice");
	assert_int_equal(tb_pg_describe_conninfo("host=10.0.0.1 port=5433 dbname=x user=bob password=pw", out,
						 sizeof(out), &err),
			 0);
	assert_string_equal(out, "10.0.0.1:5433 database x user bob");
}

static void a_malformed_conninfo_is_reported(void **state)
{
	char out[256];
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_pg_describe_conninfo("host=a port", out, sizeof(out), &err), -1);
	assert_contains(err.msg, "invalid PostgreSQL conninfo");
	assert_int_equal(
	    tb_pg_describe_conninfo("postgresql://h/db?no_such_option=1", out, sizeof(out), &err), -1);
	assert_contains(err.msg, "invalid PostgreSQL conninfo");
}

static void migration_states_have_names(void **state)
{
	(void)state;
	assert_string_equal(tb_pg_migration_state_name(TB_PG_MIGRATION_PENDING), "pending");
	assert_string_equal(tb_pg_migration_state_name(TB_PG_MIGRATION_APPLIED), "applied");
	assert_string_equal(tb_pg_migration_state_name(TB_PG_MIGRATION_CHANGED), "changed");
	assert_string_equal(tb_pg_migration_state_name(TB_PG_MIGRATION_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_name_accepts_numbered_files),
	    cmocka_unit_test(parse_name_rejects_bad_names_and_says_why),
	    cmocka_unit_test(migrations_are_sorted_by_number_not_by_text),
	    cmocka_unit_test(migration_checksum_is_sha256_of_the_contents),
	    cmocka_unit_test(two_files_with_one_version_are_an_error_naming_both),
	    cmocka_unit_test(an_empty_migration_set_is_an_error),
	    cmocka_unit_test(loading_a_directory_reads_sql_files_and_ignores_others),
	    cmocka_unit_test(a_badly_named_sql_file_in_a_directory_is_an_error),
	    cmocka_unit_test(a_missing_directory_is_an_error_naming_it),
	    cmocka_unit_test(embedded_migrations_match_the_repository_files),
	    cmocka_unit_test(copy_rows_escape_specials_and_write_null),
	    cmocka_unit_test(copy_buffer_grows_for_long_values),
	    cmocka_unit_test(bytea_hex_is_backslash_x_lowercase),
	    cmocka_unit_test(timestamps_are_utc_microseconds),
	    cmocka_unit_test(backoff_doubles_from_100ms_and_caps_at_2s),
	    cmocka_unit_test(transient_sqlstates_are_connection_shutdown_serialization_deadlock),
	    cmocka_unit_test(conninfo_description_names_the_target_without_password),
	    cmocka_unit_test(a_malformed_conninfo_is_reported),
	    cmocka_unit_test(migration_states_have_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
