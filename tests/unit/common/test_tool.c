/*
 * Unit tests for tb_tool: Kafka properties of the tools read like the
 * services read them (environment first, -X after, later wins), with clear
 * errors at the limits, and stop signals.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tb/tool.h"

static tb_tool_props_t P; /* large: not on the stack */

static void environment_names_become_properties(void **state)
{
	char *envp[] = {"PATH=/bin",
			"TB_KAFKA_SOCKET_TIMEOUT_MS=6000",
			"TB_KAFKA_=x",		  /* no property name */
			"TB_KAFKA_LINGER_MS=",	  /* empty: unset */
			"TB_BROKERS=127.0.0.1:9", /* not a property */
			"TB_KAFKA_FETCH_WAIT_MAX_MS=10",
			NULL};
	tb_err_t err = {{0}};

	(void)state;
	memset(&P, 0, sizeof(P));
	assert_int_equal(tb_tool_props_env(&P, envp, &err), 0);
	assert_int_equal(P.n, 2);
	assert_string_equal(P.kv[0], "socket.timeout.ms");
	assert_string_equal(P.kv[1], "6000");
	assert_string_equal(P.kv[2], "fetch.wait.max.ms");
	assert_string_equal(P.kv[3], "10");
}

static void dash_x_pairs_follow_and_keep_argv_intact(void **state)
{
	char arg[] = "linger.ms=5";
	char eq_in_value[] = "sasl.jaas=a=b";
	tb_err_t err = {{0}};

	(void)state;
	memset(&P, 0, sizeof(P));
	assert_int_equal(tb_tool_props_add(&P, arg, &err), 0);
	assert_int_equal(tb_tool_props_add(&P, eq_in_value, &err), 0);
	assert_string_equal(arg, "linger.ms=5"); /* not split in place */
	assert_int_equal(P.n, 2);
	assert_string_equal(P.kv[0], "linger.ms");
	assert_string_equal(P.kv[1], "5");
	assert_string_equal(P.kv[2], "sasl.jaas");
	assert_string_equal(P.kv[3], "a=b");
}

static void bad_pairs_are_refused_with_a_reason(void **state)
{
	char longkey[TB_TOOL_MAX_KEY + 8];
	tb_err_t err = {{0}};

	(void)state;
	memset(&P, 0, sizeof(P));
	assert_int_equal(tb_tool_props_add(&P, "novalue", &err), -1);
	assert_non_null(strstr(err.msg, "key=value"));
	assert_int_equal(tb_tool_props_add(&P, "=v", &err), -1);
	memset(longkey, 'k', sizeof(longkey));
	memcpy(longkey + sizeof(longkey) - 3, "=v", 3);
	assert_int_equal(tb_tool_props_add(&P, longkey, &err), -1);
	assert_non_null(strstr(err.msg, "too long"));
	assert_int_equal(P.n, 0);
	for (int i = 0; i < TB_TOOL_MAX_PROPS; i++)
		assert_int_equal(tb_tool_props_add(&P, "a=b", &err), 0);
	assert_int_equal(tb_tool_props_add(&P, "a=b", &err), -1);
	assert_non_null(strstr(err.msg, "more than"));
}

static void env_prop_maps_names(void **state)
{
	char out[32];
	const char *n = "TB_KAFKA_SESSION_TIMEOUT_MS";

	(void)state;
	assert_int_equal(tb_tool_env_prop(n, strlen(n), out, sizeof(out)), 1);
	assert_string_equal(out, "session.timeout.ms");
	assert_int_equal(tb_tool_env_prop("TB_BROKERS", 10, out, sizeof(out)), 0);
	assert_int_equal(tb_tool_env_prop(n, strlen(n), out, 8), -1); /* does not fit */
}

static volatile sig_atomic_t stopped;
static void on_stop(int sig)
{
	stopped = sig;
}

static void signals_call_the_stop_handler_and_ignore_sigpipe(void **state)
{
	(void)state;
	assert_int_equal(tb_tool_signals(on_stop), 0);
	raise(SIGPIPE); /* ignored: the test goes on */
	raise(SIGTERM);
	assert_int_equal(stopped, SIGTERM);
	raise(SIGINT);
	assert_int_equal(stopped, SIGINT);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(environment_names_become_properties),
	    cmocka_unit_test(dash_x_pairs_follow_and_keep_argv_intact),
	    cmocka_unit_test(bad_pairs_are_refused_with_a_reason),
	    cmocka_unit_test(env_prop_maps_names),
	    cmocka_unit_test(signals_call_the_stop_handler_and_ignore_sigpipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
