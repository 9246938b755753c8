/*
 * Unit tests for services/probe-agent/fold.c: identical stacks fold into
 * one entry with a count and first/last times; any difference (pid, tid,
 * one address, the kernel/user split) makes another entry; CPUs mixed give
 * cpu -1; reset forgets everything; thousands of stacks survive the index
 * growing.
 */
#include "pa_test.h"

#include "../../../services/probe-agent/fold.h"

static void identical_stacks_fold_with_counts_and_times(void **state)
{
	tb_pa_fold_t *f = tb_pa_fold_new();
	uint64_t ips[] = {0xffffffff81000010, 0x401000, 0x401100};
	tb_pa_stack_t *s;
	int is_new;

	(void)state;
	s = tb_pa_fold_add(f, 10, 11, 0, 500, ips, 1, 2, &is_new);
	EXPECT_INT(1, is_new);
	s = tb_pa_fold_add(f, 10, 11, 0, 300, ips, 1, 2, &is_new);
	EXPECT_INT(0, is_new);
	s = tb_pa_fold_add(f, 10, 11, 0, 900, ips, 1, 2, &is_new);
	EXPECT_INT(1, (int64_t)tb_pa_fold_count(f));
	EXPECT_INT(3, s->count);
	EXPECT_INT(300, s->first_ns);
	EXPECT_INT(900, s->last_ns);
	EXPECT_INT(0, s->cpu);
	EXPECT_INT(3, tb_pa_fold_samples(f));
	tb_pa_fold_free(f);
}

static void any_difference_makes_another_stack(void **state)
{
	tb_pa_fold_t *f = tb_pa_fold_new();
	uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4};
	int is_new;

	(void)state;
	tb_pa_fold_add(f, 10, 11, 0, 1, a, 1, 2, &is_new);
	tb_pa_fold_add(f, 10, 12, 0, 1, a, 1, 2, &is_new); /* tid */
	EXPECT_INT(1, is_new);
	tb_pa_fold_add(f, 20, 11, 0, 1, a, 1, 2, &is_new); /* pid */
	EXPECT_INT(1, is_new);
	tb_pa_fold_add(f, 10, 11, 0, 1, b, 1, 2, &is_new); /* an address */
	EXPECT_INT(1, is_new);
	tb_pa_fold_add(f, 10, 11, 0, 1, a, 2, 1, &is_new); /* kernel/user split */
	EXPECT_INT(1, is_new);
	tb_pa_fold_add(f, 10, 11, 0, 1, a, 1, 1, &is_new); /* depth */
	EXPECT_INT(1, is_new);
	EXPECT_INT(6, (int64_t)tb_pa_fold_count(f));
	tb_pa_fold_free(f);
}

static void samples_from_several_cpus_give_cpu_minus_one(void **state)
{
	tb_pa_fold_t *f = tb_pa_fold_new();
	uint64_t a[] = {1};
	tb_pa_stack_t *s;
	int is_new;

	(void)state;
	tb_pa_fold_add(f, 1, 1, 3, 1, a, 0, 1, &is_new);
	s = tb_pa_fold_add(f, 1, 1, 5, 2, a, 0, 1, &is_new);
	EXPECT_INT(-1, s->cpu);
	tb_pa_fold_free(f);
}

static void reset_forgets_every_stack(void **state)
{
	tb_pa_fold_t *f = tb_pa_fold_new();
	uint64_t a[] = {1};
	int is_new;

	(void)state;
	tb_pa_fold_add(f, 1, 1, 0, 1, a, 0, 1, &is_new);
	tb_pa_fold_reset(f);
	EXPECT_INT(0, (int64_t)tb_pa_fold_count(f));
	EXPECT_INT(0, tb_pa_fold_samples(f));
	tb_pa_fold_add(f, 1, 1, 0, 1, a, 0, 1, &is_new);
	EXPECT_INT(1, is_new);
	tb_pa_fold_free(f);
}

static void many_stacks_survive_index_growth(void **state)
{
	tb_pa_fold_t *f = tb_pa_fold_new();
	int is_new;

	(void)state;
	for (int round = 0; round < 2; round++)
		for (uint64_t i = 0; i < 5000; i++) {
			uint64_t ips[2] = {i, i * 7};
			tb_pa_stack_t *s = tb_pa_fold_add(f, 1, 1, 0, 1, ips, 1, 1, &is_new);

			if (!s || is_new != (round == 0) || s->count != round + 1)
				fail_msg(
				    "stack %llu round %d: expected new=%d count=%d, got new=%d count=%lld",
				    (unsigned long long)i, round, round == 0, round + 1, is_new,
				    s ? (long long)s->count : -1LL);
		}
	EXPECT_INT(5000, (int64_t)tb_pa_fold_count(f));
	tb_pa_fold_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(identical_stacks_fold_with_counts_and_times),
	    cmocka_unit_test(any_difference_makes_another_stack),
	    cmocka_unit_test(samples_from_several_cpus_give_cpu_minus_one),
	    cmocka_unit_test(reset_forgets_every_stack),
	    cmocka_unit_test(many_stacks_survive_index_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
