/*
 * fuzz.h — what every fuzz target in tests/fuzz/ shares.
 *
 * A target is one libFuzzer entry point, LLVMFuzzerTestOneInput, calling a
 * real parser of untrusted input (never a copy of it) and checking the
 * invariants the parser's header promises. The same source builds twice:
 * with clang -fsanitize=fuzzer for `make fuzz`, and with the unit tests'
 * compiler and ASan+UBSan, linked with replay_main.c, so `make test` replays
 * the committed corpus and every past crash (tests/fuzz/corpus/NAME,
 * tests/fuzz/regressions/NAME) without needing libFuzzer.
 *
 * A broken invariant is a crash (abort) that names the check: the fuzzer
 * then keeps the input, and the replay reports it.
 */
#ifndef TB_FUZZ_H
#define TB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                                \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);             \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* The input as a NUL-terminated string (most of our parsers take C strings;
 * an embedded NUL simply ends it early, as it would in a query string).
 * malloc'd; NULL only when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		if (size)
			memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Equal C strings, NULL only equal to NULL. */
static inline int fuzz_streq(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Equal values of a non-nullable Avro string field: a NULL is written as ""
 * (tb/avro.h), so NULL and "" are the same value there. */
static inline int fuzz_streq_req(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

#endif
