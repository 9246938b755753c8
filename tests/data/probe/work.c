/*
 * work.c — the probe-agent tests' workload (built at test time, with frame
 * pointers, see tests/integration/07x-probe-*.sh and bench/).
 *
 *   work spin SECONDS     spends nearly all its time in tb_hot_leaf, reached
 *                         through main -> tb_run -> tb_outer -> tb_middle
 *                         -> tb_hot_leaf (no libc call on that path, so the
 *                         frame-pointer chain is complete)
 *   work calls N [SECS]   calls tb_watched exactly N times, then lingers SECS;
 *                         tb_never_called is never called
 *   work dlopen LIB SECS  dlopen()s LIB (never calling into it), then sleeps
 *   work loop SECONDS     like spin, for the benchmark: prints iterations per
 *                         second of wall time and per second of its own CPU
 *
 * Every function is noinline and not a tail call, so the chain is the same
 * at -O0 and -O2. Build with -fno-omit-frame-pointer -fno-optimize-sibling-calls
 * -fno-shrink-wrap (the prologue must run before the hot loop).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, used))

volatile uint64_t tb_sink;

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

NOINLINE uint64_t tb_store(uint64_t x)
{
	tb_sink = x;
	return x;
}

/* Not a true leaf: compilers drop the frame pointer in leaf functions even
 * with -fno-omit-frame-pointer, and the sampled chain would lose its caller. */
NOINLINE uint64_t tb_hot_leaf(uint64_t x)
{
	for (int i = 0; i < 2000000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return tb_store(x);
}

NOINLINE uint64_t tb_middle(uint64_t x)
{
	x = tb_hot_leaf(x);
	tb_sink = x;
	return x + 1;
}

NOINLINE uint64_t tb_outer(uint64_t x)
{
	x = tb_middle(x);
	tb_sink = x;
	return x + 1;
}

NOINLINE uint64_t tb_run(double seconds, uint64_t *iterations)
{
	double end = now_s() + seconds;
	uint64_t x = 1, n = 0;

	while (now_s() < end) {
		x = tb_outer(x);
		n++;
	}
	*iterations = n;
	tb_sink = x;
	return x;
}

NOINLINE int tb_watched(int v)
{
	tb_sink += (uint64_t)v;
	return v + 1;
}

NOINLINE int tb_never_called(int v)
{
	tb_sink -= (uint64_t)v;
	return v - 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: work spin SECONDS | calls N | dlopen LIB SECONDS | loop SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t n = 0;

	if (argc >= 3 && (strcmp(argv[1], "spin") == 0 || strcmp(argv[1], "loop") == 0)) {
		double secs = atof(argv[2]), t0 = now_s();

		tb_run(secs, &n);
		if (strcmp(argv[1], "loop") == 0)
			printf("%.1f iterations/s %.1f iterations/cpu-s\n", (double)n / (now_s() - t0),
			       (double)n / cpu_s());
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "calls") == 0) {
		long calls = atol(argv[2]);

		for (long i = 0; i < calls; i++)
			tb_watched((int)i);
		printf("called tb_watched %ld times\n", calls);
		if (argc >= 4) /* linger (seconds) */
			usleep((useconds_t)(atof(argv[3]) * 1e6));
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "dlopen") == 0) {
		void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			fprintf(stderr, "dlopen %s: %s\n", argv[2], dlerror());
			return 1;
		}
		printf("loaded %s\n", argv[2]);
		fflush(stdout);
		usleep((useconds_t)(atof(argv[3]) * 1e6));
		dlclose(h);
		return 0;
	}
	return usage();
}
