/*
 * libloaded.c — a shared library the probe-agent tests dlopen() and never
 * call: its only evidence of use is the load event.
 */
int tb_loaded_never_run(int x);

int tb_loaded_never_run(int x)
{
	return x * 3 + 1;
}
