/*
 * Unit tests for services/probe-agent/ksyms.c: kallsyms parsing (text
 * symbols only, modules, unsorted input), lookups (exact start, inside,
 * before the first, far past the last), hidden addresses, and the real
 * /proc/kallsyms of this machine.
 */
#include "pa_test.h"

#include "../../../services/probe-agent/ksyms.h"

static const char *text = "ffffffff81000000 T _stext\n"
			  "ffffffff81000100 t do_one\n"
			  "ffffffff81000200 D some_data\n"
			  "ffffffff81000180 T do_two\n"
			  "ffffffffc0001000 t mod_fn\t[mymod]\n"
			  "ffffffffc0001100 t mod_fn2\t[mymod]\n"
			  "garbage line\n";

static tb_pa_ksyms_t *parse(const char *t)
{
	FILE *f = fmemopen((void *)t, strlen(t), "r");
	tb_pa_ksyms_t *k;
	tb_err_t err;

	assert_non_null(f);
	k = tb_pa_ksyms_parse(f, &err);
	fclose(f);
	if (!k)
		fail_msg("parse: %s", err.msg);
	return k;
}

static void resolves_addresses_to_symbol_offset_and_module(void **state)
{
	tb_pa_ksyms_t *k = parse(text);
	const char *name, *mod;
	uint64_t off;

	(void)state;
	EXPECT_INT(5, tb_pa_ksyms_count(k)); /* data symbol and garbage skipped */
	assert_int_equal(tb_pa_ksyms_lookup(k, 0xffffffff81000100, &name, &off, &mod), 1);
	EXPECT_STR("do_one", name);
	EXPECT_INT(0, off);
	assert_null(mod);
	assert_int_equal(tb_pa_ksyms_lookup(k, 0xffffffff810001c4, &name, &off, &mod), 1);
	EXPECT_STR("do_two", name); /* input order did not matter */
	EXPECT_INT(0x44, off);
	assert_int_equal(tb_pa_ksyms_lookup(k, 0xffffffffc0001120, &name, &off, &mod), 1);
	EXPECT_STR("mod_fn2", name);
	EXPECT_STR("mymod", mod);
	EXPECT_INT(0x20, off);
	tb_pa_ksyms_free(k);
}

static void finds_nothing_outside_known_text(void **state)
{
	tb_pa_ksyms_t *k = parse(text);
	const char *name, *mod;
	uint64_t off;

	(void)state;
	EXPECT_INT(0, tb_pa_ksyms_lookup(k, 0xffffffff80000000, &name, &off, &mod));
	EXPECT_INT(0, tb_pa_ksyms_lookup(k, 0xffffffffc0001100 + (64ull << 20), &name, &off, &mod));
	tb_pa_ksyms_free(k);
}

static void hidden_addresses_give_an_empty_table(void **state)
{
	tb_pa_ksyms_t *k = parse("0000000000000000 T _stext\n0000000000000000 t do_one\n");
	const char *name, *mod;
	uint64_t off;

	(void)state;
	EXPECT_INT(0, tb_pa_ksyms_count(k));
	EXPECT_INT(0, tb_pa_ksyms_lookup(k, 0xffffffff81000100, &name, &off, &mod));
	tb_pa_ksyms_free(k);
}

static void loads_this_kernels_symbols(void **state)
{
	tb_err_t err;
	tb_pa_ksyms_t *k = tb_pa_ksyms_load("/proc/kallsyms", &err);
	char line[128];
	unsigned long long addr;
	const char *name, *mod;
	uint64_t off;

	(void)state;
	if (!k)
		fail_msg("load /proc/kallsyms: %s", err.msg);
	if (geteuid() == 0 &&
	    pa_capture("grep -m1 ' T do_sys_open\\| T do_sys_openat2' /proc/kallsyms", line, sizeof(line)) ==
		0 &&
	    sscanf(line, "%llx", &addr) == 1 && addr) {
		char want[64];

		sscanf(line, "%*s %*s %63s", want);
		assert_int_equal(tb_pa_ksyms_lookup(k, addr + 1, &name, &off, &mod), 1);
		EXPECT_STR(want, name);
		EXPECT_INT(1, off);
	}
	tb_pa_ksyms_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(resolves_addresses_to_symbol_offset_and_module),
	    cmocka_unit_test(finds_nothing_outside_known_text),
	    cmocka_unit_test(hidden_addresses_give_an_empty_table),
	    cmocka_unit_test(loads_this_kernels_symbols),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
