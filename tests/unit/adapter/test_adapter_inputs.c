/*
 * Unit tests for the adapter's --input handling (services/adapter/inputs.c):
 * the comma list, refused entries, and the merge of repeated --input
 * options in argv before the configuration loader sees them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/adapter/inputs.h"

static void parse_fails(const char *spec, const char *want)
{
	tb_adapter_inputs_t in;
	tb_err_t err = {{0}};

	if (tb_adapter_inputs_parse(spec, &in, &err) == 0)
		fail_msg("'%s': expected error \"%s\", got %zu inputs", spec, want, in.n);
	if (strcmp(err.msg, want) != 0)
		fail_msg("'%s': expected error \"%s\", got \"%s\"", spec, want, err.msg);
	if (in.n != 0)
		fail_msg("'%s': expected no inputs left after an error, got %zu", spec, in.n);
}

static void comma_list_gives_each_input_in_order(void **state)
{
	tb_adapter_inputs_t in;
	tb_err_t err = {{0}};

	(void)state;
	if (tb_adapter_inputs_parse("kafka,file:/var/log/t.log,-,file:rel/x.json", &in, &err) < 0)
		fail_msg("parse: %s", err.msg);
	assert_int_equal(in.n, 4);
	assert_int_equal(in.in[0].kind, TB_INPUT_KAFKA);
	assert_null(in.in[0].path);
	assert_int_equal(in.in[1].kind, TB_INPUT_FILE);
	assert_string_equal(in.in[1].path, "/var/log/t.log");
	assert_int_equal(in.in[2].kind, TB_INPUT_STDIN);
	assert_string_equal(in.in[2].path, "-");
	assert_string_equal(in.in[3].path, "rel/x.json");
	assert_int_equal(tb_adapter_inputs_count(&in, TB_INPUT_FILE), 2);
	assert_int_equal(tb_adapter_inputs_count(&in, TB_INPUT_KAFKA), 1);
	tb_adapter_inputs_clear(&in);
}

static void bad_entries_are_refused_with_a_reason(void **state)
{
	(void)state;
	parse_fails("", "no input given (expected kafka, file:PATH or -)");
	parse_fails("kafka,,-", "empty entry in input list 'kafka,,-'");
	parse_fails(",kafka", "empty entry in input list ',kafka'");
	parse_fails("kafka,", "empty entry in input list 'kafka,'");
	parse_fails("kafka,tcp:1234", "unknown input 'tcp:1234' (expected kafka, file:PATH or -)");
	parse_fails("file:", "input 'file:' has no path (file:PATH)");
	parse_fails("kafka,kafka", "input 'kafka' given twice");
	parse_fails("-,file:/a,-", "input '-' given twice");
	parse_fails("file:/a,file:/a", "input 'file:/a' given twice");
}

static void check_argv(char **got, int got_n, const char *const *want, int want_n)
{
	if (got_n != want_n)
		fail_msg("expected %d arguments, got %d", want_n, got_n);
	for (int i = 0; i < want_n; i++)
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("argument %d: expected \"%s\", got \"%s\"", i, want[i], got[i]);
	if (got[got_n] != NULL)
		fail_msg("expected a NULL after the last argument");
}

static void repeated_input_options_merge_into_one(void **state)
{
	char *argv[] = {"tb-adapter", "--input", "kafka", "--tenant", "t", "--input=file:/a,-",
			"--input",    "file:/b", "-X",	  "a=b",      NULL};
	const char *want[] = {"tb-adapter", "--input=kafka,file:/a,-,file:/b", "--tenant", "t", "-X", "a=b"};
	char **out = NULL, *merged = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(tb_adapter_inputs_merge_argv(10, argv, &n, &out, &merged), 0);
	check_argv(out, n, want, 6);
	free(out);
	free(merged);
}

static void argv_without_input_is_unchanged_and_double_dash_ends_the_scan(void **state)
{
	char *argv[] = {"tb-adapter", "--tenant", "t", "--", "--input", "x", NULL};
	const char *want[] = {"tb-adapter", "--tenant", "t", "--", "--input", "x"};
	char *argv2[] = {"tb-adapter", "--input=-", "--input", NULL};
	const char *want2[] = {"tb-adapter", "--input=-", "--input"};
	char **out = NULL, *merged = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(tb_adapter_inputs_merge_argv(6, argv, &n, &out, &merged), 0);
	check_argv(out, n, want, 6);
	assert_null(merged);
	free(out);
	/* a trailing --input without value stays for the config loader to refuse */
	assert_int_equal(tb_adapter_inputs_merge_argv(3, argv2, &n, &out, &merged), 0);
	check_argv(out, n, want2, 3);
	free(out);
	free(merged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(comma_list_gives_each_input_in_order),
	    cmocka_unit_test(bad_entries_are_refused_with_a_reason),
	    cmocka_unit_test(repeated_input_options_merge_into_one),
	    cmocka_unit_test(argv_without_input_is_unchanged_and_double_dash_ends_the_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
