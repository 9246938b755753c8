/*
 * Unit tests for canonical symbol text (symbolize.h): demangling of C++
 * (namespaces, templates, constructors, abi tags) and Rust (legacy with hash,
 * legacy with $ escapes, v0), compiler suffix stripping alone and combined,
 * ELF version cuts, leftovers of already-demangled input, and names that
 * must pass through untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/canonicalizer/symbolize.h"

typedef struct tcase {
	const char *raw;
	const char *want;
} tcase_t;

static void check_cases(const tcase_t *cases, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		char *got = tb_canon_symbol(cases[i].raw);

		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("symbol '%s': expected '%s', got '%s'\n",
				    cases[i].raw ? cases[i].raw : "(null)", cases[i].want, got);
			bad++;
		}
		free(got);
	}
	assert_int_equal(bad, 0);
}

#define CHECK(cases) check_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void cpp_names_demangle_without_parameters(void **state)
{
	static const tcase_t cases[] = {
	    {"_ZN3foo3barIiEEvT_", "foo::bar<int>"},
	    {"_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back"},
	    {"_ZN2ns5inner6Widget4drawEv", "ns::inner::Widget::draw"},
	    {"_ZN3FooC2Ev", "Foo::Foo"},
	    {"_ZNK3foo3BarIiE3getB5cxx11Ev", "foo::Bar<int>::get[abi:cxx11]"},
	    {"_Z4freePv", "free"},
	    {"__ZN3foo3barEv", "foo::bar"}, /* Mach-O extra underscore */
	};

	(void)state;
	CHECK(cases);
}

static void rust_legacy_hashes_are_stripped(void **state)
{
	static const tcase_t cases[] = {
	    {"_ZN4core3ptr13drop_in_place17h1234567890abcdefE", "core::ptr::drop_in_place"},
	    {"_ZN5alloc7raw_vec19RawVec$LT$T$C$A$GT$11allocate_in17h0123456789abcdefE",
	     "alloc::raw_vec::RawVec<T,A>::allocate_in"},
	    {"_ZN4core9panicking5panic17h0123456789abcdefE.llvm.1234567890", "core::panicking::panic"},
	    {"core::ptr::drop_in_place::h1234567890abcdef", "core::ptr::drop_in_place"},
	};

	(void)state;
	CHECK(cases);
}

static void rust_v0_names_demangle(void **state)
{
	static const tcase_t cases[] = {
	    {"_RNvNtCs1234_7mycrate3foo3bar", "mycrate::foo::bar"},
	    {"_RNvCs15kBYyAo9fc_7mycrate4main", "mycrate::main"},
	    {"_RNvMNtCs1234_7mycrate3fooINtB2_3BarlE3baz", "<mycrate::foo::Bar<i32>>::baz"},
	};

	(void)state;
	CHECK(cases);
}

static void compiler_suffixes_are_stripped_alone_and_combined(void **state)
{
	static const tcase_t cases[] = {
	    {"foo.isra.0", "foo"},
	    {"foo.constprop.12", "foo"},
	    {"foo.part.3", "foo"},
	    {"foo.cold", "foo"},
	    {"foo.cold.7", "foo"},
	    {"foo.lto_priv.0", "foo"},
	    {"foo.llvm.9876543210123", "foo"},
	    {"foo.localalias", "foo"},
	    {"foo.isra.0.cold", "foo"},
	    {"foo.constprop.0.isra.0", "foo"},
	    {"tcp_sendmsg_locked.part.0.cold", "tcp_sendmsg_locked"},
	    {"_ZN2ns5inner6Widget4drawEv.isra.0", "ns::inner::Widget::draw"},
	    {"_ZN3foo3barEv.constprop.1.cold", "foo::bar"},
	};

	(void)state;
	CHECK(cases);
}

static void elf_versions_and_demangled_leftovers_are_cut(void **state)
{
	static const tcase_t cases[] = {
	    {"memcpy@@GLIBC_2.14", "memcpy"},
	    {"pthread_create@GLIBC_2.2.5", "pthread_create"},
	    {"foo.isra.0@@VERS_1", "foo"},
	    {"foo::bar() [clone .isra.0]", "foo::bar()"},
	};

	(void)state;
	CHECK(cases);
}

static void other_names_pass_through(void **state)
{
	static const tcase_t cases[] = {
	    {"do_sys_openat2", "do_sys_openat2"},
	    {"main.main", "main.main"},
	    {"runtime.goexit.abi0", "runtime.goexit.abi0"},
	    {"counter.1", "counter.1"},
	    {"foo.isra", "foo.isra"},
	    {".cold", ".cold"},
	    {"_Zgarbage", "_Zgarbage"},
	    {"", ""},
	    {NULL, ""},
	};

	(void)state;
	CHECK(cases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cpp_names_demangle_without_parameters),
	    cmocka_unit_test(rust_legacy_hashes_are_stripped),
	    cmocka_unit_test(rust_v0_names_demangle),
	    cmocka_unit_test(compiler_suffixes_are_stripped_alone_and_combined),
	    cmocka_unit_test(elf_versions_and_demangled_leftovers_are_cut),
	    cmocka_unit_test(other_names_pass_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
