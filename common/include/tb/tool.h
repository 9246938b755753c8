/*
 * tb/tool.h — what every command-line tool (tools/, bench/) needs around
 * Kafka and nothing else: librdkafka properties from the environment and
 * from -X, and stop signals.
 *
 * The services get both from tb/config.h and tb/service.h; the tools have no
 * option table, so they read the same inputs here, with the same rules:
 * TB_KAFKA_<PROP>=value in the environment is property <prop> (lower case,
 * '_' -> '.', TB_KAFKA_SOCKET_TIMEOUT_MS -> socket.timeout.ms; an empty value
 * is unset), -X key=value names the property itself, and a later pair wins
 * (librdkafka applies them in order: add the environment first, then -X).
 */
#ifndef TB_TOOL_H
#define TB_TOOL_H

#include <stddef.h>

#include "tb/err.h"

#define TB_TOOL_MAX_PROPS 128
#define TB_TOOL_MAX_KEY 128

/* No heap: the keys are copied into the struct, the values point into the
 * strings given (argv, environ), which must outlive it. A copy of the struct
 * by value points at the original's keys, so it must not outlive that one. */
typedef struct tb_tool_props {
	const char *kv[2 * TB_TOOL_MAX_PROPS]; /* key, value, ...: tb_kafka_conf_t.props */
	size_t n;			       /* pairs: tb_kafka_conf_t.n_pairs */
	char keys[TB_TOOL_MAX_PROPS][TB_TOOL_MAX_KEY];
} tb_tool_props_t;

/* Add "key=value". -1 with a message when it has no '=' or no key, when the
 * key is longer than TB_TOOL_MAX_KEY - 1 or when TB_TOOL_MAX_PROPS pairs are
 * already there. */
int tb_tool_props_add(tb_tool_props_t *p, const char *key_value, tb_err_t *err);

/* Add every TB_KAFKA_<PROP>=value of envp (NULL: environ) with a value. */
int tb_tool_props_env(tb_tool_props_t *p, char *const *envp, tb_err_t *err);

/* The property named by environment variable `name` (len bytes, without
 * "=value"): "TB_KAFKA_FETCH_WAIT_MAX_MS" -> "fetch.wait.max.ms" into out.
 * 1 when converted, 0 when name is not TB_KAFKA_<something>, -1 when it does
 * not fit in cap. Also used by tb/config.h, so services and tools read the
 * same names. */
int tb_tool_env_prop(const char *name, size_t len, char *out, size_t cap);

/* SIGTERM and SIGINT call on_stop (which should only set a flag);
 * SIGPIPE is ignored (a closed pipe is an EPIPE error, not a death).
 * -1 when sigaction fails. */
int tb_tool_signals(void (*on_stop)(int));

#endif
