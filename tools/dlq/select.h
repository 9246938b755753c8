/*
 * select.h — which dead letters a tb-dlq command works on, and reading
 * tb.dlq.v1 up to where it ended when the command started.
 *
 * A selection is the conjunction of the filters given (source topic and
 * service exact, reason a substring, since/until on the letter's ts_ns).
 * The reader assigns every partition of the dead-letter topic itself (no
 * group rebalance: it starts at once), from the beginning or from a consumer
 * group's committed offsets, and stops at the high watermarks it read first:
 * letters written while it runs (e.g. a re-driven record failing again) are
 * for the next run.
 */
#ifndef TB_DLQ_SELECT_H
#define TB_DLQ_SELECT_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "tb/config.h"
#include "tb/err.h"
#include "tb/records.h"

typedef struct dlq_filter {
	const char *source_topic; /* exact, or NULL */
	const char *service;	  /* exact, or NULL */
	const char *reason;	  /* substring, or NULL */
	int64_t since_ns;	  /* inclusive; INT64_MIN: unbounded */
	int64_t until_ns;	  /* exclusive; INT64_MAX: unbounded */
} dlq_filter_t;

/* "2026-11-24T21:00:00Z" (optionally with .fraction) or seconds since the
 * epoch ("1790000000") -> ns since the epoch. */
int dlq_parse_time(const char *s, int64_t *ns, tb_err_t *err);

/* Fill f from the options source-topic, service, reason, since, until. */
int dlq_filter_from_config(const tb_config_t *cfg, dlq_filter_t *f, tb_err_t *err);

int dlq_filter_match(const dlq_filter_t *f, const tb_dead_letter_t *d);

/* One message of the dead-letter topic: d is valid when decoded is 1;
 * otherwise why says why the value is not a DeadLetter. */
typedef struct dlq_letter {
	int32_t partition;
	int64_t offset;
	int decoded;
	tb_dead_letter_t d;
	const char *why;
} dlq_letter_t;

typedef int (*dlq_letter_fn)(void *ctx, const dlq_letter_t *l, tb_err_t *err);

typedef struct dlq_reader_conf {
	const tb_config_t *cfg; /* brokers, -X / TB_KAFKA_* */
	const char *topic;	/* the dead-letter topic */
	const char *group;	/* committed offsets to start from, or NULL: the beginning */
	int timeout_ms;		/* longest wait for the broker or for the next message */
} dlq_reader_conf_t;

typedef struct dlq_reader dlq_reader_t;

dlq_reader_t *dlq_reader_open(const dlq_reader_conf_t *conf, tb_err_t *err);

/* Call fn for every message between the start offsets and the high
 * watermarks, in partition order within a partition. 0, or -1 with err
 * (fn's failure, or no progress within the timeout). */
int dlq_reader_run(dlq_reader_t *r, dlq_letter_fn fn, void *ctx, tb_err_t *err);

/* Commit the group's offsets at the high watermarks the run stopped at
 * (only with a group). Synchronous. */
int dlq_reader_commit(dlq_reader_t *r, tb_err_t *err);

void dlq_reader_close(dlq_reader_t *r);

#endif
