/*
 * Unit tests for services/probe-agent/maps.c: /proc/PID/maps parsing
 * (executable mappings only, paths with spaces, " (deleted)", special and
 * anonymous regions, malformed lines), lookups at mapping boundaries, and
 * reading this very process's maps.
 */
#include "pa_test.h"

#include "../../../services/probe-agent/maps.h"

static const char *text =
    "55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 131090                     /usr/bin/app\n"
    "55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:01 131090                     /usr/bin/app\n"
    "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
    "7f1000000000-7f1000001000 r-xp 00000000 00:00 0 \n"
    "7f2000000000-7f2000100000 r-xp 00028000 08:10 42    /opt/my lib/libx.so (deleted)\n"
    "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]\n";

static void keeps_only_executable_mappings(void **state)
{
	tb_pa_maps_t m = {0};
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_pa_maps_parse(text, strlen(text), &m, &err), 0);
	EXPECT_INT(4, m.n);
	EXPECT_STR("/usr/bin/app", m.v[0].path);
	EXPECT_INT(0x55d0c0a01000, m.v[0].start);
	EXPECT_INT(0x55d0c0a02000, m.v[0].end);
	EXPECT_INT(0x1000, m.v[0].pgoff);
	EXPECT_INT(0xfd, m.v[0].dev_major);
	EXPECT_INT(1, m.v[0].dev_minor);
	EXPECT_INT(131090, m.v[0].ino);
	EXPECT_STR(NULL, m.v[1].path); /* anonymous */
	EXPECT_STR("/opt/my lib/libx.so", m.v[2].path);
	EXPECT_INT(1, m.v[2].deleted);
	EXPECT_INT(0x28000, m.v[2].pgoff);
	EXPECT_INT(8, m.v[2].dev_major);
	EXPECT_INT(16, m.v[2].dev_minor);
	EXPECT_STR("[vdso]", m.v[3].path);
	tb_pa_maps_clear(&m);
}

static void classifies_files_and_keys_them_by_device_and_inode(void **state)
{
	tb_pa_maps_t m = {0};
	tb_err_t err;
	char key[64];

	(void)state;
	assert_int_equal(tb_pa_maps_parse(text, strlen(text), &m, &err), 0);
	EXPECT_INT(1, tb_pa_map_is_file(&m.v[0]));
	EXPECT_INT(0, tb_pa_map_is_file(&m.v[1]));
	EXPECT_INT(1, tb_pa_map_is_file(&m.v[2]));
	EXPECT_INT(0, tb_pa_map_is_file(&m.v[3]));
	tb_pa_map_file_key(&m.v[2], key, sizeof(key));
	EXPECT_STR("8:16:42", key);
	tb_pa_maps_clear(&m);
}

static void finds_the_mapping_holding_an_address(void **state)
{
	tb_pa_maps_t m = {0};
	tb_err_t err;
	const tb_pa_map_t *hit;

	(void)state;
	assert_int_equal(tb_pa_maps_parse(text, strlen(text), &m, &err), 0);
	hit = tb_pa_maps_find(&m, 0x55d0c0a01000);
	EXPECT_STR("/usr/bin/app", hit ? hit->path : "(none)");
	hit = tb_pa_maps_find(&m, 0x55d0c0a01fff);
	EXPECT_STR("/usr/bin/app", hit ? hit->path : "(none)");
	assert_null(tb_pa_maps_find(&m, 0x55d0c0a02000)); /* end is exclusive */
	assert_null(tb_pa_maps_find(&m, 0x55d0c0a00500)); /* the r-- mapping is not kept */
	hit = tb_pa_maps_find(&m, 0x7ffd00001234);
	EXPECT_STR("[vdso]", hit ? hit->path : "(none)");
	assert_null(tb_pa_maps_find(&m, 1));
	tb_pa_maps_clear(&m);
}

static void names_the_line_that_does_not_parse(void **state)
{
	const char *bad = "55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:01 1 /a\nnot a maps line\n";
	tb_pa_maps_t m = {0};
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_pa_maps_parse(bad, strlen(bad), &m, &err), -1);
	if (!strstr(err.msg, "line 2"))
		fail_msg("expected the error to name line 2, got: %s", err.msg);
	EXPECT_INT(0, m.n);
}

/* Every malformed shape is refused, line by line, and the fields around them
 * (long perms, tabs before the path, "(deleted)") parse as the kernel writes them. */
static void refuses_each_malformed_shape(void **state)
{
	static const char *const bad[] = {
	    "2000-1000 r-xp 00000000 fd:01 1 /end-before-start",
	    "1000-2000 r-xp 00000000 fd:01 /no-inode",
	    "1000-2000 r-xp 00000000 fd01 1 /no-colon",
	    "1000 r-xp 00000000 fd:01 1 /no-end",
	    "1000-2000 r-x 00000000 fd:01 1 /short-perms",
	    "1000-2000 r-xp 00000000 fd:01 12x /junk-after-inode",
	    "11112222333344445-11112222333344446 r-xp 0 fd:01 1 /overflow",
	    "1000-2000  r-xp 00000000 fd:01 1 /two-spaces",
	};
	const char *good = "1000-2000 r-xp 00000000 fd:01 7\t/tab/path (deleted)\n"
			   "3000-4000 rw-s 00000000 00:05 8 /dev/zero\n";
	tb_pa_maps_t m = {0};
	tb_err_t err;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s\n", bad[i]);
		if (tb_pa_maps_parse(text, strlen(text), &m, &err) != -1)
			fail_msg("accepted malformed line: '%s'", bad[i]);
		tb_pa_maps_clear(&m);
	}
	assert_int_equal(tb_pa_maps_parse(good, strlen(good), &m, &err), 0);
	EXPECT_INT(1, m.n);
	EXPECT_STR("/tab/path", m.v[0].path);
	EXPECT_INT(1, m.v[0].deleted);
	EXPECT_INT(0xfd, m.v[0].dev_major);
	EXPECT_INT(7, m.v[0].ino);
	tb_pa_maps_clear(&m);
}

static void reads_this_processs_maps(void **state)
{
	tb_pa_maps_t m = {0};
	tb_err_t err;
	const tb_pa_map_t *hit;

	(void)state;
	if (tb_pa_maps_read("/proc", (uint32_t)getpid(), &m, &err) < 0)
		fail_msg("read own maps: %s", err.msg);
	hit = tb_pa_maps_find(&m, (uint64_t)(uintptr_t)&reads_this_processs_maps);
	if (!hit || !hit->path || !strstr(hit->path, "test_pa_maps"))
		fail_msg("expected this function's address in the test binary's mapping, got %s",
			 hit ? (hit->path ? hit->path : "anonymous") : "no mapping");
	tb_pa_maps_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_only_executable_mappings),
	    cmocka_unit_test(classifies_files_and_keys_them_by_device_and_inode),
	    cmocka_unit_test(finds_the_mapping_holding_an_address),
	    cmocka_unit_test(names_the_line_that_does_not_parse),
	    cmocka_unit_test(refuses_each_malformed_shape),
	    cmocka_unit_test(reads_this_processs_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
