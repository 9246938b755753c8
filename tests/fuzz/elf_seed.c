/*
 * elf_seed.c — the source of the small ELF files in the fuzz_elf seed
 * corpus (tests/fuzz/seed-corpus.sh builds it static, shared, with lld,
 * stripped and as a separate debug file): a few functions, a static one,
 * and a build-id, in about a kilobyte. Not linked with libc.
 */
int alpha(int x);
int gamma_fn(int x);
void _start(void);

int alpha(int x)
{
	return x * 3 + 1;
}

static int beta(int x)
{
	return alpha(x) ^ 7;
}

int gamma_fn(int x)
{
	return beta(x) + 2;
}

void _start(void)
{
	for (;;)
		gamma_fn(1);
}
