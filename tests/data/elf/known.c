/*
 * known.c — a tiny program the ELF / symbol-store tests build at test time
 * (PIE, non-PIE, lld, shared library, stripped, separate debug file). Its
 * functions have fixed names the tests look up; tb_zero_size_fn is written in
 * assembly without a .size directive so that its symbol has size 0.
 */
#include <stdio.h>

__asm__(".text\n"
	".globl tb_zero_size_fn\n"
	".type tb_zero_size_fn, @function\n"
	"tb_zero_size_fn:\n"
	"\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n"
	"\tret\n");

__attribute__((noinline)) int tb_known_function(int x)
{
	volatile int y = x * 3;

	for (int i = 0; i < 8; i++)
		y += i * x;
	return y + 1;
}

static __attribute__((noinline)) int tb_static_helper(int x)
{
	return tb_known_function(x) + 2;
}

#ifndef TB_KNOWN_LIB
void tb_zero_size_fn(void);

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 5)
		tb_zero_size_fn();
	printf("%d\n", tb_static_helper(argc));
	return 0;
}
#else
int tb_lib_entry(int x)
{
	return tb_static_helper(x);
}
#endif
