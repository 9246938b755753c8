/*
 * shop.c — the demo workload of `make run` (tools/run-stack.sh) and the
 * binary the end-to-end tests trace (tests/integration/1xx-e2e-*.sh).
 *
 * A tiny "checkout service" whose call chain is known by name:
 *   main -> serve_requests -> handle_checkout -> compute_total -> apply_discount
 *                                             -> hash_order
 *                                             -> write_receipt -> write(2)
 * Built at run time with frame pointers and symbols (cc -g -O1
 * -fno-omit-frame-pointer -fno-inline), so a sampler that walks frame
 * pointers (the probe-agent) sees these functions, and tools/demo/elf-info.sh
 * can turn their names into file offsets for synthetic Tetragon stacks.
 * -DSHOP_VARIANT=N changes a constant so that each variant has its own
 * build-id (the tests need two different binaries).
 *
 * Usage: shop [SECONDS]  (default 0: one round of requests and exit;
 * otherwise keep serving for that long, writing receipts to /dev/null, with
 * a 20 ms pause after each round of 64 requests, so that a demo left running
 * uses a few percent of one CPU rather than all of it).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SHOP_VARIANT
#define SHOP_VARIANT 0
#endif

struct order {
	unsigned id;
	unsigned items;
	unsigned long cents;
};

__attribute__((noinline)) unsigned long apply_discount(unsigned long cents, unsigned items)
{
	volatile unsigned long c = cents;

	if (items > 3)
		c -= c / (10 + SHOP_VARIANT);
	return c;
}

__attribute__((noinline)) unsigned long hash_order(const struct order *o)
{
	volatile unsigned long h = 1469598103934665603UL;

	for (unsigned i = 0; i < 2000; i++)
		h = (h ^ (o->id + i * o->items)) * 1099511628211UL;
	return h;
}

__attribute__((noinline)) unsigned long compute_total(struct order *o)
{
	unsigned long sum = 0;

	for (unsigned i = 0; i < o->items; i++)
		sum += 199 + (hash_order(o) & 0xff);
	o->cents = apply_discount(sum, o->items);
	return o->cents;
}

__attribute__((noinline)) int write_receipt(int fd, const struct order *o)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "order %u: %u items, %lu cents\n", o->id, o->items, o->cents);

	return write(fd, line, (size_t)n) == n ? 0 : -1;
}

__attribute__((noinline)) int handle_checkout(int fd, unsigned id)
{
	struct order o = {.id = id, .items = 1 + id % 7, .cents = 0};

	compute_total(&o);
	return write_receipt(fd, &o);
}

__attribute__((noinline)) int serve_requests(int fd, unsigned first, unsigned n)
{
	int rc = 0;

	for (unsigned i = 0; i < n; i++)
		rc |= handle_checkout(fd, first + i);
	return rc;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0;
	struct timespec start, now;
	unsigned next = 1;
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (serve_requests(fd, next, 64) < 0)
			return 1;
		next += 64;
		if (seconds > 0)
			nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000}, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
	close(fd);
	return 0;
}
