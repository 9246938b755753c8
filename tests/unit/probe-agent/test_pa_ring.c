/*
 * Unit tests for tb_pa_bpf_ring_bytes (services/probe-agent/bpf.c): the
 * samples ring is sized to frequency x CPUs x drain interval (four drains of
 * full-depth samples), a power of two within 256 KiB..8 MiB.
 */
#include "pa_test.h"

#include "../../../services/probe-agent/bpf.h"

static int pow2(size_t v)
{
	return v && !(v & (v - 1));
}

static void default_rate_on_two_cpus_gets_the_floor(void **state)
{
	(void)state;
	/* 99 Hz x 2 CPUs x ~2 KiB x 0.1 s x 4 = ~160 KiB */
	EXPECT_INT(256 << 10, tb_pa_bpf_ring_bytes(99, 100, 2));
}

static void size_follows_need_as_a_power_of_two(void **state)
{
	size_t need = 499 * 4 * sizeof(struct tb_pev_sample) / 10 * 4; /* 499 Hz, 4 CPUs, 100 ms */
	size_t got = tb_pa_bpf_ring_bytes(499, 100, 4);

	(void)state;
	if (!pow2(got) || got < need || got >= 2 * need)
		fail_msg("expected the power of two in [%zu, %zu), got %zu", need, 2 * need, got);
	EXPECT_INT(1, tb_pa_bpf_ring_bytes(499, 200, 4) > got); /* slower drains: more room */
}

static void size_stays_within_bounds(void **state)
{
	(void)state;
	EXPECT_INT(8 << 20, tb_pa_bpf_ring_bytes(100000, 1000, 256));
	EXPECT_INT(256 << 10, tb_pa_bpf_ring_bytes(0, 100, 2)); /* no sampling */
	EXPECT_INT(256 << 10, tb_pa_bpf_ring_bytes(99, 0, 0));	/* nonsense in: the floor */
	EXPECT_INT(256 << 10, tb_pa_bpf_ring_bytes(-5, -1, -3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_rate_on_two_cpus_gets_the_floor),
	    cmocka_unit_test(size_follows_need_as_a_power_of_two),
	    cmocka_unit_test(size_stays_within_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
