/*
 * pa_test.h — helpers shared by the probe-agent unit tests: checks that
 * print what was expected and what came, and running a shell command.
 */
#ifndef PA_TEST_H
#define PA_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define EXPECT_STR(want, got) pa_expect_str(#got, (want), (got), __LINE__)
#define EXPECT_INT(want, got) pa_expect_int(#got, (int64_t)(want), (int64_t)(got), __LINE__)

static inline void pa_expect_str(const char *what, const char *want, const char *got, int line)
{
	if ((!want && !got) || (want && got && strcmp(want, got) == 0))
		return;
	fail_msg("line %d: %s: expected %s%s%s, got %s%s%s", line, what, want ? "\"" : "",
		 want ? want : "NULL", want ? "\"" : "", got ? "\"" : "", got ? got : "NULL",
		 got ? "\"" : "");
}

static inline void pa_expect_int(const char *what, int64_t want, int64_t got, int line)
{
	if (want != got)
		fail_msg("line %d: %s: expected %lld (0x%llx), got %lld (0x%llx)", line, what,
			 (long long)want, (unsigned long long)want, (long long)got, (unsigned long long)got);
}

/* Run a shell command; on failure print it and return -1. */
static inline int pa_sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "# command failed (status %d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

/* First line of a command's output, trimmed; -1 when empty. */
static inline int pa_capture(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	out[0] = '\0';
	if (!p)
		return -1;
	if (!fgets(out, (int)cap, p))
		out[0] = '\0';
	pclose(p);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return n ? 0 : -1;
}

/* The source tree (TB_SRCDIR, set by tests/run.sh), else ".". */
static inline const char *pa_srcdir(void)
{
	const char *s = getenv("TB_SRCDIR");

	return s && *s ? s : ".";
}

#endif
