/*
 * Unit tests for tb_config: precedence of defaults < config file <
 * environment < command line, librdkafka passthrough (-X, TB_KAFKA_*,
 * kafka.* file keys), --help / --version, and the exact message of every
 * configuration error. Fixtures live in tests/data/config/. The environment
 * is passed explicitly (tb_config_load_envp), never read from the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tb/config.h"

static const tb_option_t opts[] = {
    {"batch-size", TB_OPT_INT, "500", "records per produce batch", NULL},
    {"flush", TB_OPT_DURATION_MS, "250ms", "longest wait before a batch goes out", NULL},
    {"dry-run", TB_OPT_BOOL, "false", "do everything but produce", NULL},
    {"policy", TB_OPT_STRING, "strict", "privacy policy", "strict|relaxed|off"},
    {"symbol-dir", TB_OPT_PATH, NULL, "directory of ELF files by build-id", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

static char *data_path(const char *name)
{
	const char *root = getenv("TB_SRCDIR");
	static char buf[4][4096];
	static int next;
	char *out = buf[next++ % 4];

	snprintf(out, sizeof(buf[0]), "%s/tests/data/config/%s", root ? root : ".", name);
	return out;
}

/* Load with argv (after the program name) and env, both NULL-terminated. */
static int load(tb_config_t **cfg, const char *const *args, const char *const *env, tb_err_t *err)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "tb-test";
	for (; args && *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	tb_err_clear(err);
	return tb_config_load_envp(cfg, "test", "1.2.3", opts, argc, argv,
				   (char **)(env ? env : (const char *[]){NULL}), NULL, err);
}

/* Expect a configuration error with exactly this message. */
static void expect_error(const char *const *args, const char *const *env, const char *want)
{
	tb_config_t *cfg = (tb_config_t *)0x1;
	tb_err_t err;

	assert_int_equal(load(&cfg, args, env, &err), -1);
	assert_null(cfg);
	assert_string_equal(err.msg, want);
}

static void defaults_apply_when_nothing_is_set(void **state)
{
	tb_config_t *cfg;
	tb_err_t err;
	size_t n;

	(void)state;
	assert_int_equal(load(&cfg, NULL, NULL, &err), 0);
	assert_string_equal(tb_config_str(cfg, "log-level"), "info");
	assert_string_equal(tb_config_str(cfg, "admin-addr"), "127.0.0.1:0");
	assert_null(tb_config_str(cfg, "admin-port-file"));
	assert_null(tb_config_str(cfg, "config"));
	assert_string_equal(tb_config_str(cfg, "brokers"), "localhost:9092");
	assert_string_equal(tb_config_str(cfg, "tenant"), "default");
	assert_int_equal(tb_config_int(cfg, "batch-size"), 500);
	assert_int_equal(tb_config_duration_ms(cfg, "flush"), 250);
	assert_false(tb_config_bool(cfg, "dry-run"));
	assert_string_equal(tb_config_str(cfg, "policy"), "strict");
	assert_null(tb_config_str(cfg, "symbol-dir"));
	assert_int_equal(tb_config_source(cfg, "batch-size"), TB_SRC_DEFAULT);
	assert_string_equal(tb_config_prog(cfg), "tb-test");
	tb_config_kafka_props(cfg, &n);
	assert_int_equal(n, 0);
	tb_config_free(cfg);
}

static void file_env_argv_override_in_that_order(void **state)
{
	const char *args[] = {"--config", data_path("precedence.conf"), "--symbol-dir", "/from/argv", NULL};
	const char *env[] = {"TB_POLICY=off", "TB_SYMBOL_DIR=/from/env", NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	assert_int_equal(load(&cfg, args, env, &err), 0);
	/* default only */
	assert_int_equal(tb_config_int(cfg, "batch-size"), 500);
	assert_int_equal(tb_config_source(cfg, "batch-size"), TB_SRC_DEFAULT);
	/* file over default */
	assert_int_equal(tb_config_duration_ms(cfg, "flush"), 5000);
	assert_int_equal(tb_config_source(cfg, "flush"), TB_SRC_FILE);
	assert_true(tb_config_bool(cfg, "dry-run"));
	/* env over file */
	assert_string_equal(tb_config_str(cfg, "policy"), "off");
	assert_int_equal(tb_config_source(cfg, "policy"), TB_SRC_ENV);
	/* argv over env over file */
	assert_string_equal(tb_config_str(cfg, "symbol-dir"), "/from/argv");
	assert_int_equal(tb_config_source(cfg, "symbol-dir"), TB_SRC_ARGV);
	tb_config_free(cfg);
}

static void config_file_quotes_and_comments(void **state)
{
	char buf[4200];
	const char *env[] = {buf, NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	snprintf(buf, sizeof(buf), "TB_CONFIG=%s", data_path("precedence.conf"));
	assert_int_equal(load(&cfg, NULL, env, &err), 0);
	assert_string_equal(tb_config_str(cfg, "tenant"), "acme # corp");
	assert_string_equal(tb_config_str(cfg, "brokers"), "kafka-1:9092#not-a-comment");
	assert_string_equal(tb_config_str(cfg, "policy"), "relaxed");
	assert_string_equal(tb_config_str(cfg, "symbol-dir"), "/from/file");
	assert_string_equal(tb_config_str(cfg, "config"), data_path("precedence.conf"));
	assert_int_equal(tb_config_source(cfg, "config"), TB_SRC_ENV);
	tb_config_free(cfg);
}

static void config_flag_beats_tb_config_env(void **state)
{
	char file_arg[4200], env_var[4200];
	const char *args[] = {file_arg, NULL};
	const char *env[] = {env_var, NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	snprintf(file_arg, sizeof(file_arg), "--config=%s", data_path("other.conf"));
	snprintf(env_var, sizeof(env_var), "TB_CONFIG=%s", data_path("precedence.conf"));
	assert_int_equal(load(&cfg, args, env, &err), 0);
	assert_int_equal(tb_config_duration_ms(cfg, "flush"), 7000);
	assert_string_equal(tb_config_str(cfg, "tenant"), "default"); /* precedence.conf not read */
	tb_config_free(cfg);
}

static void argv_takes_equals_and_separate_value_forms(void **state)
{
	const char *args[] = {"--batch-size=42", "--tenant",	      "acme", "--brokers=a:1,b:2", "--policy",
			      "relaxed",	 "--log-level=debug", NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	assert_int_equal(load(&cfg, args, NULL, &err), 0);
	assert_int_equal(tb_config_int(cfg, "batch-size"), 42);
	assert_string_equal(tb_config_str(cfg, "tenant"), "acme");
	assert_string_equal(tb_config_str(cfg, "brokers"), "a:1,b:2");
	assert_string_equal(tb_config_str(cfg, "policy"), "relaxed");
	assert_string_equal(tb_config_str(cfg, "log-level"), "debug");
	tb_config_free(cfg);
}

static bool dry_run_after(const char *const *args)
{
	tb_config_t *cfg;
	tb_err_t err;
	bool v;

	assert_int_equal(load(&cfg, args, NULL, &err), 0);
	v = tb_config_bool(cfg, "dry-run");
	tb_config_free(cfg);
	return v;
}

static void bool_takes_bare_negated_and_literal_forms(void **state)
{
	(void)state;
	assert_true(dry_run_after((const char *[]){"--dry-run", NULL}));
	assert_true(dry_run_after((const char *[]){"--dry-run", "--tenant=x", NULL}));
	assert_false(dry_run_after((const char *[]){"--dry-run", "--no-dry-run", NULL}));
	assert_false(dry_run_after((const char *[]){"--dry-run=false", NULL}));
	assert_false(dry_run_after((const char *[]){"--dry-run", "off", NULL}));
	assert_true(dry_run_after((const char *[]){"--dry-run=YES", NULL}));
	assert_true(dry_run_after((const char *[]){"--dry-run=1", NULL}));
}

static int64_t flush_after(const char *value)
{
	const char *args[] = {"--flush", value, NULL};
	tb_config_t *cfg;
	tb_err_t err;
	int64_t v;

	assert_int_equal(load(&cfg, args, NULL, &err), 0);
	v = tb_config_duration_ms(cfg, "flush");
	tb_config_free(cfg);
	return v;
}

static void durations_parse_to_milliseconds(void **state)
{
	(void)state;
	assert_int_equal(flush_after("250ms"), 250);
	assert_int_equal(flush_after("5s"), 5000);
	assert_int_equal(flush_after("2m"), 120000);
	assert_int_equal(flush_after("1h"), 3600000);
	assert_int_equal(flush_after("1500"), 1500);
	assert_int_equal(flush_after("0"), 0);
}

static void empty_env_is_unset_and_foreign_tb_vars_are_ignored(void **state)
{
	const char *env[] = {"TB_TENANT=", "TB_SRCDIR=/somewhere", "TB_NOT_AN_OPTION=zzz",
			     "BROKERS=x",  "TB_BATCH_SIZE=64",	   NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	assert_int_equal(load(&cfg, NULL, env, &err), 0);
	assert_string_equal(tb_config_str(cfg, "tenant"), "default");
	assert_string_equal(tb_config_str(cfg, "brokers"), "localhost:9092");
	assert_int_equal(tb_config_int(cfg, "batch-size"), 64);
	tb_config_free(cfg);
}

static void kafka_props_pass_through_from_file_env_and_x(void **state)
{
	const char *args[] = {
	    "--config", data_path("precedence.conf"), "-X", "socket.timeout.ms=1000", "-Xclient.id=tb-test-1",
	    "-X",	"auto.offset.reset=earliest", NULL};
	const char *env[] = {"TB_KAFKA_SOCKET_TIMEOUT_MS=2000", "TB_KAFKA_MESSAGE_MAX_BYTES=2000000",
			     "TB_KAFKA_LINGER_MS=20", NULL};
	const char *want[] = {"linger.ms",	   "20",      "socket.timeout.ms", "1000",
			      "message.max.bytes", "2000000", "client.id",	   "tb-test-1",
			      "auto.offset.reset", "earliest"};
	const char *const *props;
	tb_config_t *cfg;
	tb_err_t err;
	size_t n;

	(void)state;
	assert_int_equal(load(&cfg, args, env, &err), 0);
	props = tb_config_kafka_props(cfg, &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 2 * n; i++)
		assert_string_equal(props[i], want[i]);
	tb_config_free(cfg);
}

static char *capture(const char *const *args, int *rc)
{
	char *argv[16], *text = NULL;
	size_t len = 0;
	int argc = 0;
	FILE *f = open_memstream(&text, &len);
	tb_config_t *cfg = (tb_config_t *)0x1;
	tb_err_t err;

	argv[argc++] = "tb-adapter";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	*rc = tb_config_load_envp(&cfg, "tb-adapter", "1.2.3", opts, argc, argv, (char *[]){NULL}, f, &err);
	fclose(f);
	assert_null(cfg);
	return text;
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("expected the output to contain \"%s\"; got:\n%s", needle, text);
}

static void help_lists_every_option_with_env_and_default(void **state)
{
	int rc;
	char *text = capture((const char *[]){"--help", NULL}, &rc);

	(void)state;
	assert_int_equal(rc, 1);
	assert_contains(text, "Usage: tb-adapter [OPTIONS]");
	assert_contains(text, "--batch-size=INT");
	assert_contains(text, "records per produce batch");
	assert_contains(text, "env TB_BATCH_SIZE, default 500");
	assert_contains(text, "--flush=DURATION");
	assert_contains(text, "env TB_FLUSH, default 250ms");
	assert_contains(text, "--[no-]dry-run[=BOOL]");
	assert_contains(text, "--policy=strict|relaxed|off");
	assert_contains(text, "--symbol-dir=PATH");
	assert_contains(text, "env TB_SYMBOL_DIR, no default");
	assert_contains(text, "--config=PATH");
	assert_contains(text, "--log-level=debug|info|warn|error");
	assert_contains(text, "env TB_ADMIN_ADDR, default 127.0.0.1:0");
	assert_contains(text, "--admin-port-file=PATH");
	assert_contains(text, "env TB_BROKERS, default localhost:9092");
	assert_contains(text, "env TB_TENANT, default default");
	assert_contains(text, "-X KEY=VALUE");
	assert_contains(text, "TB_KAFKA_SOCKET_TIMEOUT_MS");
	assert_contains(
	    text, "Exit codes: 0 ok, 1 runtime failure, 2 configuration error, 3 dependency unreachable");
	free(text);
}

static void help_wins_over_a_bad_argument(void **state)
{
	int rc;
	char *text = capture((const char *[]){"--bogus", "-h", NULL}, &rc);

	(void)state;
	assert_int_equal(rc, 1);
	assert_contains(text, "Usage: tb-adapter");
	free(text);
}

static void version_prints_program_and_version(void **state)
{
	int rc;
	char *text = capture((const char *[]){"--version", NULL}, &rc);

	(void)state;
	assert_int_equal(rc, 1);
	assert_string_equal(text, "tb-adapter 1.2.3\n");
	free(text);
}

static void x_list_prints_librdkafka_properties(void **state)
{
	int rc;
	char *text = capture((const char *[]){"-X", "list", NULL}, &rc);

	(void)state;
	assert_int_equal(rc, 1);
	assert_contains(text, "bootstrap.servers");
	assert_contains(text, "socket.timeout.ms");
	free(text);
}

/* ---- errors: each names the option, the source and what was wrong ---- */

static void unknown_option_suggests_the_near_miss(void **state)
{
	(void)state;
	expect_error((const char *[]){"--bokers=x:1", NULL}, NULL,
		     "unknown option '--bokers' (did you mean '--brokers'?); see 'tb-test --help'");
	expect_error((const char *[]){"--zzzzzz", NULL}, NULL,
		     "unknown option '--zzzzzz'; see 'tb-test --help'");
	expect_error((const char *[]){"-q", NULL}, NULL, "unknown option '-q'; see 'tb-test --help'");
	/* --no- only negates booleans */
	expect_error((const char *[]){"--no-tenant", NULL}, NULL,
		     "unknown option '--no-tenant' (did you mean '--tenant'?); see 'tb-test --help'");
}

static void positional_argument_is_rejected(void **state)
{
	(void)state;
	expect_error((const char *[]){"stray", NULL}, NULL,
		     "unexpected argument 'stray': tb-test takes only options; see 'tb-test --help'");
}

static void missing_value_names_the_option(void **state)
{
	(void)state;
	expect_error((const char *[]){"--brokers", NULL}, NULL,
		     "option '--brokers' needs a value (--brokers=VALUE or --brokers VALUE)");
	expect_error((const char *[]){"--tenant", "--brokers=a:1", NULL}, NULL,
		     "option '--tenant' needs a value (--tenant=VALUE or --tenant VALUE)");
	expect_error((const char *[]){"-X", NULL}, NULL,
		     "option -X needs a value (-X KEY=VALUE, e.g. -X socket.timeout.ms=1000)");
}

static void bad_int_names_option_and_source(void **state)
{
	(void)state;
	expect_error((const char *[]){"--batch-size=ten", NULL}, NULL,
		     "option 'batch-size' (command line --batch-size): 'ten' is not an integer");
	expect_error(NULL, (const char *[]){"TB_BATCH_SIZE=12x", NULL},
		     "option 'batch-size' (environment TB_BATCH_SIZE): '12x' is not an integer");
	expect_error(
	    (const char *[]){"--batch-size", "99999999999999999999", NULL}, NULL,
	    "option 'batch-size' (command line --batch-size): '99999999999999999999' is out of range for a "
	    "64-bit integer");
}

static void bad_bool_names_option_and_source(void **state)
{
	(void)state;
	expect_error(
	    (const char *[]){"--dry-run=maybe", NULL}, NULL,
	    "option 'dry-run' (command line --dry-run): 'maybe' is not a boolean (use true/false, yes/no, "
	    "on/off or 1/0)");
	expect_error(
	    NULL, (const char *[]){"TB_DRY_RUN=2", NULL},
	    "option 'dry-run' (environment TB_DRY_RUN): '2' is not a boolean (use true/false, yes/no, "
	    "on/off or 1/0)");
}

static void bad_duration_names_option_and_source(void **state)
{
	(void)state;
	expect_error(
	    (const char *[]){"--flush=5sec", NULL}, NULL,
	    "option 'flush' (command line --flush): '5sec' is not a duration (use a whole number with ms, "
	    "s, m or h, e.g. 250ms or 5s; a bare number is milliseconds)");
	expect_error(
	    NULL, (const char *[]){"TB_FLUSH=-5s", NULL},
	    "option 'flush' (environment TB_FLUSH): '-5s' is not a duration (use a whole number with ms, "
	    "s, m or h, e.g. 250ms or 5s; a bare number is milliseconds)");
	expect_error(
	    (const char *[]){"--flush=9999999999999999h", NULL}, NULL,
	    "option 'flush' (command line --flush): '9999999999999999h' is out of range for a duration");
}

static void value_outside_choices_is_rejected(void **state)
{
	(void)state;
	expect_error(
	    (const char *[]){"--log-level=loud", NULL}, NULL,
	    "option 'log-level' (command line --log-level): 'loud' is not one of debug|info|warn|error");
	expect_error(NULL, (const char *[]){"TB_POLICY=lax", NULL},
		     "option 'policy' (environment TB_POLICY): 'lax' is not one of strict|relaxed|off");
}

static void empty_path_is_rejected(void **state)
{
	(void)state;
	expect_error((const char *[]){"--symbol-dir=", NULL}, NULL,
		     "option 'symbol-dir' (command line --symbol-dir): the path is empty");
}

static void unreadable_config_file_is_named(void **state)
{
	char want[8192], dir[4096];

	(void)state;
	expect_error(
	    (const char *[]){"--config=/nonexistent/tb.conf", NULL}, NULL,
	    "config file '/nonexistent/tb.conf': cannot open: No such file or directory (fix --config or "
	    "TB_CONFIG)");
	expect_error(
	    NULL, (const char *[]){"TB_CONFIG=/nonexistent/env.conf", NULL},
	    "config file '/nonexistent/env.conf': cannot open: No such file or directory (fix --config or "
	    "TB_CONFIG)");
	snprintf(dir, sizeof(dir), "%s", data_path(""));
	snprintf(want, sizeof(want),
		 "config file '%s': cannot read: Is a directory (fix --config or TB_CONFIG)", dir);
	expect_error((const char *[]){"--config", dir, NULL}, NULL, want);
}

static void unknown_key_in_config_file_names_file_and_line(void **state)
{
	char want[8192];
	const char *path = data_path("unknown_key.conf");

	(void)state;
	snprintf(
	    want, sizeof(want),
	    "config file %s:3: unknown key 'bokers' (did you mean 'brokers'?); see 'tb-test --help' for the "
	    "options",
	    path);
	expect_error((const char *[]){"--config", path, NULL}, NULL, want);
}

static void bad_lines_in_config_file_name_file_and_line(void **state)
{
	char want[8192];
	const char *path;

	(void)state;
	path = data_path("bad_value.conf");
	snprintf(want, sizeof(want), "option 'batch-size' (config file %s:2): 'lots' is not an integer",
		 path);
	expect_error((const char *[]){"--config", path, NULL}, NULL, want);

	path = data_path("no_equals.conf");
	snprintf(want, sizeof(want), "config file %s:1: expected 'name = value', got 'just words'", path);
	expect_error((const char *[]){"--config", path, NULL}, NULL, want);

	path = data_path("sets_config.conf");
	snprintf(want, sizeof(want), "config file %s:1: 'config' cannot be set inside a config file", path);
	expect_error((const char *[]){"--config", path, NULL}, NULL, want);

	path = data_path("bad_quote.conf");
	snprintf(want, sizeof(want),
		 "config file %s:1: value of 'tenant': unterminated or misplaced double quote", path);
	expect_error((const char *[]){"--config", path, NULL}, NULL, want);

	path = data_path("bad_kafka.conf");
	snprintf(want, sizeof(want),
		 "librdkafka property 'no.such.property' (config file %s:1): No such configuration property: "
		 "\"no.such.property\" (see -X list)",
		 path);
	expect_error((const char *[]){"--config", path, NULL}, NULL, want);
}

static void bad_kafka_property_is_rejected_by_librdkafka(void **state)
{
	(void)state;
	expect_error((const char *[]){"-X", "no.such.prop=1", NULL}, NULL,
		     "librdkafka property 'no.such.prop' (command line -X): No such configuration property: "
		     "\"no.such.prop\" (see -X list)");
	expect_error(
	    NULL, (const char *[]){"TB_KAFKA_SOCKET_TIMEOUT_MS=abc", NULL},
	    "librdkafka property 'socket.timeout.ms' (environment TB_KAFKA_SOCKET_TIMEOUT_MS): Invalid "
	    "value for configuration property \"socket.timeout.ms\" (see -X list)");
	expect_error(
	    (const char *[]){"-X", "socket.timeout.ms", NULL}, NULL,
	    "option -X 'socket.timeout.ms': expected KEY=VALUE, e.g. -X socket.timeout.ms=1000 (see -X "
	    "list)");
	expect_error((const char *[]){"-X=1", NULL}, NULL,
		     "option -X '=1': expected KEY=VALUE, e.g. -X socket.timeout.ms=1000 (see -X list)");
}

/* ---- the option table itself ---- */

static void service_may_redeclare_a_standard_option(void **state)
{
	static const tb_option_t mine[] = {
	    {"brokers", TB_OPT_STRING, "kafka:9092", "where the cluster is", NULL},
	    {NULL, 0, NULL, NULL, NULL},
	};
	char *argv[] = {"tb-x", NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_config_load_envp(&cfg, "x", "1", mine, 1, argv, (char *[]){NULL}, NULL, &err), 0);
	assert_string_equal(tb_config_str(cfg, "brokers"), "kafka:9092");
	tb_config_free(cfg);
}

static void option_table_mistakes_are_reported(void **state)
{
	static const tb_option_t dup[] = {
	    {"a", TB_OPT_INT, "1", "", NULL},
	    {"a", TB_OPT_INT, "2", "", NULL},
	    {NULL, 0, NULL, NULL, NULL},
	};
	static const tb_option_t bad_def[] = {
	    {"workers", TB_OPT_INT, "many", "", NULL},
	    {NULL, 0, NULL, NULL, NULL},
	};
	static const tb_option_t retyped[] = {
	    {"brokers", TB_OPT_INT, "1", "", NULL},
	    {NULL, 0, NULL, NULL, NULL},
	};
	static const tb_option_t bad_name[] = {
	    {"Big_Name", TB_OPT_INT, "1", "", NULL},
	    {NULL, 0, NULL, NULL, NULL},
	};
	char *argv[] = {"tb-x", NULL};
	tb_config_t *cfg;
	tb_err_t err;

	(void)state;
	assert_int_equal(tb_config_load_envp(&cfg, "x", "1", dup, 1, argv, (char *[]){NULL}, NULL, &err), -1);
	assert_string_equal(err.msg, "option table: option 'a' is declared twice");
	assert_int_equal(tb_config_load_envp(&cfg, "x", "1", bad_def, 1, argv, (char *[]){NULL}, NULL, &err),
			 -1);
	assert_string_equal(err.msg, "option table: default of option 'workers': 'many' is not an integer");
	assert_int_equal(tb_config_load_envp(&cfg, "x", "1", retyped, 1, argv, (char *[]){NULL}, NULL, &err),
			 -1);
	assert_string_equal(err.msg, "option table: standard option 'brokers' redeclared with another type");
	assert_int_equal(tb_config_load_envp(&cfg, "x", "1", bad_name, 1, argv, (char *[]){NULL}, NULL, &err),
			 -1);
	assert_string_equal(err.msg,
			    "option table: invalid option name 'Big_Name' (lowercase letters, digits and "
			    "'-'; not help/version)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_apply_when_nothing_is_set),
	    cmocka_unit_test(file_env_argv_override_in_that_order),
	    cmocka_unit_test(config_file_quotes_and_comments),
	    cmocka_unit_test(config_flag_beats_tb_config_env),
	    cmocka_unit_test(argv_takes_equals_and_separate_value_forms),
	    cmocka_unit_test(bool_takes_bare_negated_and_literal_forms),
	    cmocka_unit_test(durations_parse_to_milliseconds),
	    cmocka_unit_test(empty_env_is_unset_and_foreign_tb_vars_are_ignored),
	    cmocka_unit_test(kafka_props_pass_through_from_file_env_and_x),
	    cmocka_unit_test(help_lists_every_option_with_env_and_default),
	    cmocka_unit_test(help_wins_over_a_bad_argument),
	    cmocka_unit_test(version_prints_program_and_version),
	    cmocka_unit_test(x_list_prints_librdkafka_properties),
	    cmocka_unit_test(unknown_option_suggests_the_near_miss),
	    cmocka_unit_test(positional_argument_is_rejected),
	    cmocka_unit_test(missing_value_names_the_option),
	    cmocka_unit_test(bad_int_names_option_and_source),
	    cmocka_unit_test(bad_bool_names_option_and_source),
	    cmocka_unit_test(bad_duration_names_option_and_source),
	    cmocka_unit_test(value_outside_choices_is_rejected),
	    cmocka_unit_test(empty_path_is_rejected),
	    cmocka_unit_test(unreadable_config_file_is_named),
	    cmocka_unit_test(unknown_key_in_config_file_names_file_and_line),
	    cmocka_unit_test(bad_lines_in_config_file_name_file_and_line),
	    cmocka_unit_test(bad_kafka_property_is_rejected_by_librdkafka),
	    cmocka_unit_test(service_may_redeclare_a_standard_option),
	    cmocka_unit_test(option_table_mistakes_are_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
