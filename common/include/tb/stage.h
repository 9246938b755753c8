/*
 * tb/stage.h — the consume -> transform -> produce loop of a pipeline stage.
 *
 * The canonicalizer and the correlator (and the adapter's Kafka input) are
 * each "read a record, write zero or more records" services. This loop does
 * the delivery work for them, once (docs/ARCHITECTURE.md, Delivery
 * guarantees):
 *
 *   poll a batch -> for each message call fn (which emits outputs with
 *   tb_stage_emit, or rejects the message) -> dead-letter rejected messages
 *   -> flush the producer (every output and dead letter acknowledged) ->
 *   commit the batch's offsets.
 *
 * A crash anywhere before the commit redelivers the batch; deterministic
 * event ids and the idempotent sink make the repeat harmless. If the flush
 * fails the loop stops with an error without committing (the service exits
 * non-zero and is restarted; nothing is lost).
 */
#ifndef TB_STAGE_H
#define TB_STAGE_H

#include <stddef.h>

#include "tb/dlq.h"
#include "tb/err.h"
#include "tb/kafka.h"
#include "tb/service.h"

typedef struct tb_stage tb_stage_t;

/* What fn returns for one message. */
typedef enum tb_stage_verdict {
	TB_STAGE_DONE = 0,    /* processed; outputs (if any) emitted */
	TB_STAGE_REJECT = 1,  /* bad input: dead-letter it with err->msg as the reason */
	TB_STAGE_FATAL = -1,  /* cannot go on (err says why): stop without committing */
} tb_stage_verdict_t;

typedef tb_stage_verdict_t (*tb_stage_fn)(void *ctx, tb_stage_t *st, const tb_kafka_msg_t *m, tb_err_t *err);

/* Called once per batch after the poll and before the first message is
 * handled (e.g. the correlator catching its index up). May be NULL. */
typedef int (*tb_stage_pre_fn)(void *ctx, tb_stage_t *st, tb_err_t *err);

/* Called once per batch after all messages were handled and before the
 * flush (e.g. to emit pending aggregates). May be NULL. */
typedef int (*tb_stage_batch_fn)(void *ctx, tb_stage_t *st, tb_err_t *err);

/* Called between batches with no message (idle housekeeping, e.g. the
 * correlator applying index updates). May be NULL. */
typedef int (*tb_stage_idle_fn)(void *ctx, tb_stage_t *st, tb_err_t *err);

typedef struct tb_stage_opts {
	tb_service_t *svc;             /* stop flag, metrics */
	tb_kafka_consumer_t *consumer; /* owned by the caller */
	tb_kafka_producer_t *producer; /* owned by the caller */
	tb_dlq_t *dlq;                 /* owned by the caller */
	tb_stage_fn fn;
	tb_stage_pre_fn before_batch;
	tb_stage_batch_fn after_batch;
	tb_stage_idle_fn idle;
	void *ctx;
	size_t batch_max;     /* messages per batch; 0: 1000 */
	int poll_ms;          /* wait for the first message of a batch; 0: 200 */
	int flush_timeout_ms; /* wait for acknowledgements; 0: 30000 */
} tb_stage_opts_t;

/* Open the service's producer (warmed up for out_topics) and its consumer in
 * `group` subscribed to in_topics, from the standard options (--brokers,
 * -X / TB_KAFKA_*). Either out-pointer may be NULL to skip that client. On
 * failure nothing is left open and err says which broker could not be
 * reached (the caller exits TB_EXIT_UNREACHABLE). */
int tb_stage_kafka_open(tb_service_t *svc, const char *group, const char *const *in_topics, size_t n_in,
			const char *const *out_topics, size_t n_out, tb_kafka_consumer_t **consumer,
			tb_kafka_producer_t **producer, tb_err_t *err);

/* Emit one output record (queued; acknowledged by the batch's flush). */
int tb_stage_emit(tb_stage_t *st, const char *topic, const void *key, size_t key_len, const void *value,
		  size_t value_len, tb_err_t *err);

/* Run until the service is asked to stop (0: clean, batch committed) or a
 * fatal error (-1 with err). On stop the last batch is finished, flushed and
 * committed; the caller then closes the consumer. */
int tb_stage_run(const tb_stage_opts_t *opts, tb_err_t *err);

#endif
