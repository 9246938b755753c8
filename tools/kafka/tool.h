/*
 * tool.h — shared pieces of tb-kafka's subcommands (produce, consume,
 * metadata, topics): the global options every subcommand receives.
 */
#ifndef TB_KAFKA_TOOL_H
#define TB_KAFKA_TOOL_H

#include <signal.h>
#include <stddef.h>

#include "tb/kafka.h"
#include "tb/tool.h"

typedef struct tool_globals {
	const char *bootstrap;	     /* -b, else $TB_BROKERS */
	tb_tool_props_t props;	     /* TB_KAFKA_<PROP>, then -X key=value */
	int timeout_ms;		     /* --timeout MS (broker reach, flush) */
	volatile sig_atomic_t *stop; /* set by SIGTERM/SIGINT */
} tool_globals_t;

/* Add "-X key=value" to g. Returns -1 (after printing why) when kv has no
 * '=' or the table is full. */
int tool_add_prop(tool_globals_t *g, const char *kv);

/* Fill a tb_kafka_conf_t from the globals. */
void tool_conf(const tool_globals_t *g, tb_kafka_conf_t *conf);

/* Subcommands: argv[0] is the subcommand name. Return the exit code. */
int cmd_produce(const tool_globals_t *g, int argc, char **argv);
int cmd_consume(const tool_globals_t *g, int argc, char **argv);
int cmd_metadata(const tool_globals_t *g, int argc, char **argv);
int cmd_topics(const tool_globals_t *g, int argc, char **argv);

#endif
