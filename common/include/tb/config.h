/*
 * tb/config.h — service configuration: one option table, four sources.
 *
 * A service declares its options in a table terminated by a {NULL} entry:
 *
 *     static const tb_option_t opts[] = {
 *         {"batch-size", TB_OPT_INT, "500", "records per produce batch", NULL},
 *         {"flush", TB_OPT_DURATION_MS, "250ms", "longest wait before a batch goes out", NULL},
 *         {"policy", TB_OPT_STRING, "strict", "privacy policy", "strict|relaxed"},
 *         {NULL},
 *     };
 *
 * Every option can be set, from lowest to highest precedence, by
 *   1. its default (the table),
 *   2. a config file (--config FILE or TB_CONFIG): `name = value` lines,
 *      blank lines and `#` comments (at line start or after whitespace);
 *      `name` may use '-' or '_'; a value may be "double-quoted",
 *   3. the environment: TB_<NAME> with the name upper-cased and '-' -> '_'
 *      (batch-size -> TB_BATCH_SIZE); an empty variable counts as unset;
 *      TB_* variables that name no option are ignored (other tools share
 *      the environment),
 *   4. the command line: --name=value or --name value; a bool also takes
 *      a bare --name (true) or --no-name (false).
 *
 * librdkafka properties pass through untouched, like kcat: `-X key=value` or
 * `-Xkey=value` (repeatable), TB_KAFKA_<PROP> (PROP lower-cased, '_' -> '.',
 * TB_KAFKA_SOCKET_TIMEOUT_MS -> socket.timeout.ms) and `kafka.<prop> = value`
 * lines in the config file, with the same precedence (file < env < -X; a later
 * value for the same key replaces the earlier one). Each property is checked
 * against librdkafka itself at load time, so a misspelt property is a
 * configuration error (exit 2) instead of a runtime failure. `-X list` prints
 * librdkafka's property table.
 *
 * Value types: TB_OPT_STRING (any text), TB_OPT_PATH (non-empty text),
 * TB_OPT_INT (decimal 64-bit integer), TB_OPT_BOOL (true/false, yes/no,
 * on/off, 1/0), TB_OPT_DURATION_MS (integer with unit ms, s, m or h; a bare
 * number is milliseconds: "250ms", "5s", "1500"). An option with `choices`
 * ("a|b|c") accepts only those words.
 *
 * Standard options every service gets without declaring them (a service may
 * redeclare one to change its default or help; the type must stay the same):
 *   --config PATH, --log-level debug|info|warn|error (info),
 *   --admin-addr HOST:PORT (127.0.0.1:0 = loopback, ephemeral port),
 *   --admin-port-file PATH, --brokers (localhost:9092), --tenant (default),
 *   -X KEY=VALUE, -h/--help, --version.
 *
 * Errors name the option, where the bad value came from and what is wrong,
 * e.g. "option 'batch-size' (environment TB_BATCH_SIZE): 'ten' is not an
 * integer". Callers exit with status 2 on them (see tb/service.h).
 */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tb/err.h"

typedef enum tb_opt_type {
	TB_OPT_STRING = 0,
	TB_OPT_INT,
	TB_OPT_BOOL,
	TB_OPT_DURATION_MS,
	TB_OPT_PATH,
} tb_opt_type_t;

typedef struct tb_option {
	const char *name; /* long name, lowercase with dashes: "batch-size"; NULL ends the table */
	tb_opt_type_t type;
	const char *def;     /* default as text (parsed like any other value); NULL = unset */
	const char *help;    /* one line for --help */
	const char *choices; /* "a|b|c" to restrict the value, or NULL */
} tb_option_t;

/* Where an option's effective value came from. */
typedef enum tb_config_source {
	TB_SRC_DEFAULT = 0,
	TB_SRC_FILE,
	TB_SRC_ENV,
	TB_SRC_ARGV,
} tb_config_source_t;

typedef struct tb_config tb_config_t;

/* Load the configuration of program `prog` ("adapter" or "tb-adapter"; shown
 * as "tb-adapter") from the option table, the config file, `environ` and
 * argv (argv[0] is skipped). `opts` may be NULL (standard options only) and
 * need not outlive the result.
 * Returns 0 and sets *out (free with tb_config_free); 1 when --help,
 * --version or -X list was handled (printed to stdout; the caller exits 0,
 * *out is NULL); -1 with err set on a configuration error (the caller exits 2,
 * *out is NULL). */
int tb_config_load(tb_config_t **out, const char *prog, const char *version, const tb_option_t *opts,
		   int argc, char **argv, tb_err_t *err);

/* The same with an explicit environment (NULL-terminated "KEY=VALUE" array;
 * NULL means `environ`) and stream for --help/--version (NULL = stdout). */
int tb_config_load_envp(tb_config_t **out, const char *prog, const char *version, const tb_option_t *opts,
			int argc, char **argv, char **envp, FILE *usage_out, tb_err_t *err);

void tb_config_free(tb_config_t *cfg);

/* Getters. Asking for a name that was not declared, or with the getter of
 * another type, is a programming error: it prints the name and aborts.
 * tb_config_str works for every type and returns the effective text (NULL
 * when unset and without default); tb_config_int / _duration_ms return 0
 * and tb_config_bool false for an unset option without default. */
const char *tb_config_str(const tb_config_t *cfg, const char *name);
int64_t tb_config_int(const tb_config_t *cfg, const char *name);
bool tb_config_bool(const tb_config_t *cfg, const char *name);
int64_t tb_config_duration_ms(const tb_config_t *cfg, const char *name);

/* Where the effective value of `name` came from. */
tb_config_source_t tb_config_source(const tb_config_t *cfg, const char *name);

/* "tb-adapter": the program name used in messages. */
const char *tb_config_prog(const tb_config_t *cfg);

/* librdkafka properties, flattened: props[2i] = key, props[2i+1] = value,
 * *n_pairs pairs, in the order they were first set. Owned by cfg. Feed them
 * to the Kafka wrapper after bootstrap.servers=--brokers, so that an explicit
 * -X bootstrap.servers wins. */
const char *const *tb_config_kafka_props(const tb_config_t *cfg, size_t *n_pairs);

/* Print the --help text to `f`. */
void tb_config_usage(const tb_config_t *cfg, FILE *f);

#endif
