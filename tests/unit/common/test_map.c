/*
 * Unit tests for tb_map: put/get/del, growth, tombstone reuse, iteration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tb/map.h"

static void put_get_replace_delete(void **state)
{
	tb_map_t *m = tb_map_new(0);
	int a = 1, b = 2;

	(void)state;
	assert_null(tb_map_put(m, "k", &a));
	assert_ptr_equal(tb_map_get(m, "k"), &a);
	assert_ptr_equal(tb_map_put(m, "k", &b), &a);
	assert_int_equal(tb_map_size(m), 1);
	assert_ptr_equal(tb_map_del(m, "k"), &b);
	assert_null(tb_map_get(m, "k"));
	assert_int_equal(tb_map_size(m), 0);
	tb_map_free(m, NULL);
}

static void grows_and_keeps_all_entries(void **state)
{
	tb_map_t *m = tb_map_new(4);
	char key[32];

	(void)state;
	for (intptr_t i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		tb_map_put(m, key, (void *)(i + 1));
	}
	for (intptr_t i = 0; i < 10000; i += 2) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		assert_ptr_equal(tb_map_del(m, key), (void *)(i + 1));
	}
	assert_int_equal(tb_map_size(m), 5000);
	for (intptr_t i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		if (i % 2)
			assert_ptr_equal(tb_map_get(m, key), (void *)(i + 1));
		else
			assert_null(tb_map_get(m, key));
	}
	tb_map_free(m, NULL);
}

static void iteration_visits_each_live_entry_once(void **state)
{
	tb_map_t *m = tb_map_new(0);
	size_t cur = 0, n = 0;
	const char *k;
	void *v;

	(void)state;
	tb_map_put(m, "a", malloc(1));
	tb_map_put(m, "b", malloc(1));
	tb_map_put(m, "c", malloc(1));
	free(tb_map_del(m, "b"));
	while (tb_map_next(m, &cur, &k, &v))
		n++;
	assert_int_equal(n, 2);
	tb_map_free(m, free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_replace_delete),
		cmocka_unit_test(grows_and_keeps_all_entries),
		cmocka_unit_test(iteration_visits_each_live_entry_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
