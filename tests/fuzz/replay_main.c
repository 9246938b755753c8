/*
 * replay_main.c — runs a fuzz target without libFuzzer, for `make test`.
 *
 * Linked with one tests/fuzz/fuzz_NAME.c and built like the unit tests
 * (gcc, ASan+UBSan) as $(BUILD)/asan/tests/test_fuzz_NAME, so tests/run.sh
 * picks it up. It calls LLVMFuzzerInitialize once, then
 * LLVMFuzzerTestOneInput on every regular file of the directories given as
 * arguments, or by default of $TB_SRCDIR/tests/fuzz/corpus/fuzz_NAME and
 * $TB_SRCDIR/tests/fuzz/regressions/fuzz_NAME (NAME from argv[0]). Each file
 * is passed in a buffer of exactly its size, as libFuzzer does, so reads
 * past the end are caught. A crash, leak or broken check aborts the binary
 * (tests/run.sh counts that as a failure); otherwise one TAP line per
 * directory: "ok - fuzz_NAME corpus: 57 inputs". A missing or empty corpus
 * directory is a failure (a replay that ran nothing proves nothing); a
 * target without regressions has no regressions directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file in a malloc'd buffer of exactly its size (1 byte for an
 * empty file, passed with size 0). NULL with errno on failure. */
static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf = NULL;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && (buf = malloc(st.st_size ? (size_t)st.st_size : 1)) &&
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	*size = (size_t)st.st_size;
	return buf;
}

/* Replay every file of dir (sorted, so a failure is reproducible); the
 * number of inputs, or -1 when the directory cannot be read. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long done = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			FUZZ_CHECK(names, "out of memory");
		}
		names[n] = strdup(e->d_name);
		FUZZ_CHECK(names[n], "out of memory");
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		uint8_t *buf;
		size_t size = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		buf = read_file(path, &size);
		if (!buf) {
			printf("not ok - read %s: %s\n", path, strerror(errno));
			continue;
		}
		/* Name the input before running it: a crash's report follows it. */
		fprintf(stderr, "# %s\n", path);
		LLVMFuzzerTestOneInput(buf, size);
		free(buf);
		done++;
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *name = strncmp(base, "test_", 5) == 0 ? base + 5 : base;
	const char *src = getenv("TB_SRCDIR");
	char defaults[2][4096];
	char *dirs_default[2] = {defaults[0], defaults[1]};
	char **dirs = argv + 1;
	int ndirs = argc - 1, failed = 0;

	if (ndirs == 0) {
		snprintf(defaults[0], sizeof(defaults[0]), "%s/tests/fuzz/corpus/%s", src ? src : ".", name);
		snprintf(defaults[1], sizeof(defaults[1]), "%s/tests/fuzz/regressions/%s", src ? src : ".",
			 name);
		dirs = dirs_default;
		ndirs = 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 0; i < ndirs; i++) {
		int regressions = strstr(dirs[i], "/regressions/") != NULL;
		long n = replay_dir(dirs[i]);

		if (n < 0 && regressions && errno == ENOENT) {
			printf("ok - %s regressions: none kept\n", name);
		} else if (n < 0) {
			printf("not ok - %s: cannot read %s: %s\n", name, dirs[i], strerror(errno));
			failed = 1;
		} else if (n == 0 && !regressions) {
			printf("not ok - %s: no inputs in %s\n", name, dirs[i]);
			failed = 1;
		} else {
			printf("ok - %s %s: %ld inputs\n", name, regressions ? "regressions" : "corpus", n);
		}
	}
	return failed;
}
