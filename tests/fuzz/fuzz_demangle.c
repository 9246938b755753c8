/*
 * fuzz_demangle.c — canonical symbol text (tb/demangle.h): version cuts,
 * compiler-suffix stripping and libiberty demangling of C++ and Rust names,
 * on symbol names as they come from ELF files and Tetragon stacks.
 *
 * Checked beyond "no crash, no leak, no UB": the function is
 * idempotent, as its
 * header promises (the canonicalizer and the probe-agent both apply it, and
 * a name resolved twice must read the same); tb_demangle_strip_suffixes
 * never lengthens a name.
 */
#include "fuzz.h"

#include "tb/demangle.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fuzz_cstr(data, size);
	char *once, *twice;
	size_t n;

	FUZZ_CHECK(raw, "out of memory");
	once = tb_demangle_symbol(raw);
	FUZZ_CHECK(once, "out of memory");
	twice = tb_demangle_symbol(once);
	FUZZ_CHECK(twice, "out of memory");
	FUZZ_CHECK(strcmp(once, twice) == 0, "not idempotent: \"%s\" -> \"%s\" -> \"%s\"", raw, once, twice);
	n = strlen(raw);
	tb_demangle_strip_suffixes(raw);
	FUZZ_CHECK(strlen(raw) <= n, "strip_suffixes lengthened a name");
	free(twice);
	free(once);
	free(raw);
	return 0;
}
