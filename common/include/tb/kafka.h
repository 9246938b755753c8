/*
 * tb/kafka.h — the producer and consumer every service uses (over librdkafka).
 *
 * It encodes the pipeline's delivery rules once, so services cannot get them
 * wrong (docs/ARCHITECTURE.md, "Delivery guarantees"):
 *  - producers are idempotent with acks=all and lz4 compression; every delivery
 *    report is counted, and tb_kafka_producer_flush() fails when any delivery
 *    since the previous flush failed;
 *  - consumers never commit on their own: a service polls a batch, produces its
 *    outputs, flushes the producer and only then commits the batch
 *    (tb_kafka_commit). A crash anywhere therefore redelivers, never loses.
 *
 * Configuration: librdkafka properties arrive as a flattened key/value array
 * (props[2i] = key, props[2i+1] = value, n_pairs pairs), e.g. from `-X k=v` or
 * TB_KAFKA_<PROP>. They are applied over our defaults, then the properties the
 * delivery rules depend on are forced (see tb_kafka_producer_new /
 * tb_kafka_consumer_new). Tests against the dev broker should pass
 * session.timeout.ms=6000: the mock cluster's rebalances take about
 * session.timeout.ms - 1 s.
 *
 * Threads: a producer may be shared by threads (produce/flush are safe); a
 * consumer belongs to one thread. Logs of librdkafka go through tb/log.h.
 */
#ifndef TB_KAFKA_H
#define TB_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/metrics.h"

/* Connection settings shared by producers and consumers. */
typedef struct tb_kafka_conf {
	const char *bootstrap;	  /* bootstrap.servers; NULL: from props (then required there) */
	const char *const *props; /* librdkafka properties: props[2i] key, props[2i+1] value */
	size_t n_pairs;		  /* number of key/value pairs in props */
	const char *client_id;	  /* client.id, e.g. the service name; NULL: "tracebridge" */
	int timeout_ms;		  /* how long creation waits for the broker; <= 0: 10000 */
	tb_metrics_t *metrics;	  /* counters/gauges go here; NULL: none */
} tb_kafka_conf_t;

/* A message header (name + bytes) for tb_kafka_produce. */
typedef struct tb_kafka_header {
	const char *name;
	const void *value;
	size_t len;
} tb_kafka_header_t;

/* A topic-partition with an offset (commits, assignments). */
typedef struct tb_kafka_tp {
	const char *topic;
	int32_t partition;
	int64_t offset;
} tb_kafka_tp_t;

/* Offset values for tb_kafka_tp_t.offset in a rebalance hook. */
#define TB_KAFKA_OFFSET_STORED (-1000) /* the group's committed offset (else auto.offset.reset) */
#define TB_KAFKA_OFFSET_BEGINNING (-2) /* earliest available */
#define TB_KAFKA_OFFSET_END (-1)       /* only new messages */

/* Apply a flattened property array to a librdkafka configuration object
 * (rd_kafka_conf_t *, passed as void * so this header does not need
 * librdkafka's). Fails on an odd-length/NULL entry or a property librdkafka
 * rejects, naming the property. Exposed for tools and tests. */
int tb_kafka_conf_apply(void *rd_conf, const char *const *props, size_t n_pairs, tb_err_t *err);

/* Memory bounds of every client (defaults; -X / TB_KAFKA_* override them).
 * A producer queues at most PRODUCER_QUEUE_KB KiB or PRODUCER_QUEUE_MSGS
 * messages before tb_kafka_produce waits; a consumer prefetches until its
 * queue holds CONSUMER_QUEUE_KB KiB or CONSUMER_QUEUE_MSGS messages, one
 * fetch bringing at most CONSUMER_FETCH_BYTES (PARTITION_FETCH_BYTES per
 * partition). A process with one consumer and one producer therefore holds
 * at most about 16 + 32 + 8 MiB of Kafka data (+ librdkafka's buffers for one
 * fetch response per broker): tests/integration/052-backpressure-rss.sh
 * derives its RSS bound from these numbers (docs/DLQ.md, Backpressure).
 * The consumer queue is the throughput lever: with 8 MiB every stage's
 * pass-through ceiling was ~8 k messages/s of 2.3 KB (make bench, 2026-11-25),
 * with 32 MiB ~20 k and the adapter 8.3 k -> 14.4 k events/s. */
#define TB_KAFKA_PRODUCER_QUEUE_KB "16384"
#define TB_KAFKA_PRODUCER_QUEUE_MSGS "50000"
#define TB_KAFKA_CONSUMER_QUEUE_KB "32768"
#define TB_KAFKA_CONSUMER_QUEUE_MSGS "20000"
#define TB_KAFKA_CONSUMER_FETCH_BYTES "8388608"
#define TB_KAFKA_CONSUMER_PARTITION_FETCH_BYTES "1048576"

/* ---- producer ------------------------------------------------------------ */

typedef struct tb_kafka_producer tb_kafka_producer_t;

/* Create a producer and warm it up: fetch metadata for each of `topics`
 * (n_topics may be 0: then only the broker connection is checked) within
 * conf->timeout_ms, so the first produce does not stall and a broken setup
 * fails at start with "cannot reach Kafka at <bootstrap>: <reason>" or
 * "topic <t> at <bootstrap>: <reason>".
 * Defaults: compression.type=lz4, linger.ms=5, partitioner=murmur2_random (the
 * Java client's, so keys land on the same partitions), the queue bounds above; forced:
 * enable.idempotence=true, acks=all. Metrics: kafka_produced_total,
 * kafka_delivered_total, kafka_delivery_failed_total. NULL on error. */
tb_kafka_producer_t *tb_kafka_producer_new(const tb_kafka_conf_t *conf, const char *const *topics,
					   size_t n_topics, tb_err_t *err);

/* Enqueue one message (copied; asynchronous). key may be NULL (then the
 * partition is random); headers may be NULL with n_headers 0. When the local
 * queue is full it serves delivery reports and retries for up to the
 * producer's timeout before failing. Success means "queued", not "delivered":
 * call tb_kafka_producer_flush before acting on delivery. */
int tb_kafka_produce(tb_kafka_producer_t *p, const char *topic, const void *key, size_t key_len,
		     const void *value, size_t value_len, const tb_kafka_header_t *headers, size_t n_headers,
		     tb_err_t *err);

/* Wait up to timeout_ms until every queued message is acknowledged, then
 * report: 0 when all deliveries since the previous flush succeeded, -1 with
 * the first failure's reason (and how many failed) otherwise, or when the wait
 * timed out with messages still in flight. Resets the failure count. This is
 * the point after which a service may commit its input offsets. */
int tb_kafka_producer_flush(tb_kafka_producer_t *p, int timeout_ms, tb_err_t *err);

/* Serve delivery reports without waiting for all of them (call it from long
 * loops that produce a lot between flushes). Returns the number of events
 * served. */
int tb_kafka_producer_poll(tb_kafka_producer_t *p, int timeout_ms);

/* Messages produced but not yet acknowledged or failed. */
int tb_kafka_producer_in_flight(tb_kafka_producer_t *p);

/* The metrics registry the producer was created with (NULL if none), so
 * helpers built on a producer (tb/dlq.h) count into the same registry. */
tb_metrics_t *tb_kafka_producer_metrics(const tb_kafka_producer_t *p);

/* The bootstrap servers this producer was created with (for messages). */
const char *tb_kafka_producer_bootstrap(const tb_kafka_producer_t *p);

/* Flush (up to the producer's timeout, logging undelivered messages) and free.
 * NULL is allowed. */
void tb_kafka_producer_free(tb_kafka_producer_t *p);

/* ---- consumer ------------------------------------------------------------ */

typedef struct tb_kafka_consumer tb_kafka_consumer_t;

/* One consumed message. Pointers stay valid until the batch is cleared. */
typedef struct tb_kafka_msg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const void *key; /* NULL when the message has no key */
	size_t key_len;
	const void *value; /* NULL for a tombstone */
	size_t value_len;
	int64_t timestamp_ms; /* -1 if unknown */
	void *priv;	      /* the rd_kafka_message_t (for tb_kafka_msg_header) */
} tb_kafka_msg_t;

/* A polled batch. Zero-initialise it once; tb_kafka_poll_batch refills it;
 * tb_kafka_batch_clear releases it (must happen before the consumer is freed). */
typedef struct tb_kafka_batch {
	tb_kafka_msg_t *msgs;
	size_t n;
	size_t cap;
} tb_kafka_batch_t;

/* Called on every rebalance, from inside tb_kafka_poll_batch. On assignment
 * (assigned = 1) every tps[i].offset is TB_KAFKA_OFFSET_STORED; the hook may
 * set it to an offset it stored itself (e.g. in PostgreSQL) or to
 * TB_KAFKA_OFFSET_BEGINNING to start there. On revocation (assigned = 0) the
 * offsets are meaningless: the hook gives up its state for those partitions.
 * Returning -1 fails the poll (fatal for the consumer). The hook also runs
 * (revocation) inside tb_kafka_consumer_close, so its state must outlive
 * the close. */
typedef int (*tb_kafka_rebalance_fn)(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n);

/* Create a consumer in group `group_id` subscribed to `topics` (the broker is
 * checked within conf->timeout_ms as for producers). Defaults:
 * auto.offset.reset=earliest, session.timeout.ms=10000, the prefetch bounds above; forced:
 * enable.auto.commit=false, enable.auto.offset.store=false. Works with the
 * eager and the cooperative assignors. Metrics: kafka_consumed_total,
 * kafka_commits_total, kafka_commit_rejected_total, kafka_consumer_lag (sum over
 * assigned partitions, from cached watermarks, updated about once a second).
 * NULL on error. */
tb_kafka_consumer_t *tb_kafka_consumer_new(const tb_kafka_conf_t *conf, const char *group_id,
					   const char *const *topics, size_t n_topics, tb_err_t *err);

/* Install the rebalance hook (before the first poll). */
void tb_kafka_consumer_set_rebalance_hook(tb_kafka_consumer_t *c, tb_kafka_rebalance_fn fn, void *opaque);

/* Clear `b`, then wait up to timeout_ms for the first message and take up to
 * `max` (>= 1) messages that are ready without further waiting. Rebalances
 * (and the hook) happen inside this call, so call it regularly even while
 * paused. Returns the number of
 * messages (0 on timeout), or -1 on a fatal consumer error. Partition EOFs and
 * transient errors are logged, not returned. */
int tb_kafka_poll_batch(tb_kafka_consumer_t *c, tb_kafka_batch_t *b, size_t max, int timeout_ms,
			tb_err_t *err);

/* Synchronously commit, per partition in `b`, the highest offset + 1.
 * Returns 0 when committed (or `b` is empty), 1 when the group rejected the
 * commit because of a rebalance (the messages will be redelivered to the new
 * owner: not an error under at-least-once, counted in
 * kafka_commit_rejected_total), -1 on any other failure. */
int tb_kafka_commit(tb_kafka_consumer_t *c, const tb_kafka_batch_t *b, tb_err_t *err);

/* Stop fetching from every assigned partition (backpressure); partitions
 * assigned later while paused are paused too. Messages already fetched may
 * still be returned by the next poll. */
int tb_kafka_pause(tb_kafka_consumer_t *c, tb_err_t *err);

/* Resume fetching after tb_kafka_pause. */
int tb_kafka_resume(tb_kafka_consumer_t *c, tb_err_t *err);

/* The current assignment: up to cap entries into out (offset = current
 * position or TB_KAFKA_OFFSET_STORED), topic pointers valid until the next
 * call on c. Returns the total number of assigned partitions, -1 on error. */
int tb_kafka_assignment(tb_kafka_consumer_t *c, tb_kafka_tp_t *out, size_t cap, tb_err_t *err);

/* How many messages the consumer is behind the high watermarks of its
 * assigned partitions as of now (one ListOffsets request for all of them,
 * a second for the low watermarks only when some position is unset; up to
 * timeout_ms each): the sum of high watermark - position, where a partition with no
 * position yet counts from its low watermark. *behind = -1 when nothing is
 * assigned yet (the group is still joining: keep polling). Used to read a
 * compacted topic "to the end" before acting on it.
 *
 * The watermarks are asked over the connections of `via` (NULL: the
 * consumer's own). A consumer's broker connection carries its long-polling
 * Fetch requests (fetch.wait.max.ms), and the broker answers a connection's
 * requests in order, so a ListOffsets sent behind one waits for it; a
 * producer's connection has no such wait. Used by the correlator before
 * every batch. */
int tb_kafka_consumer_behind(tb_kafka_consumer_t *c, tb_kafka_producer_t *via, int timeout_ms,
			     int64_t *behind, tb_err_t *err);

/* Find header `name` (last occurrence) of a consumed message. 0 and the value
 * when present, -1 when absent. */
int tb_kafka_msg_header(const tb_kafka_msg_t *m, const char *name, const void **value, size_t *len);

/* Release the messages of a batch (keeps the array for reuse; frees it when
 * `release_array` is set). */
void tb_kafka_batch_clear(tb_kafka_batch_t *b, int release_array);

/* Compute the commit list of a batch: for each (topic, partition) present in
 * msgs, the highest offset + 1, in order of first appearance. Writes at most
 * cap entries; returns the number of distinct partitions. Pure function
 * (exposed for tests and for sinks that store offsets themselves). */
size_t tb_kafka_commit_offsets(const tb_kafka_msg_t *msgs, size_t n, tb_kafka_tp_t *out, size_t cap);

/* Drain and leave: commit `last` if it is non-NULL and non-empty, leave the
 * group (so the partitions move on at once), release `last`'s messages and
 * free the consumer. Returns the commit's result (0, 1 or -1 as
 * tb_kafka_commit); the consumer is freed in every case. NULL c is allowed. */
int tb_kafka_consumer_close(tb_kafka_consumer_t *c, tb_kafka_batch_t *last, tb_err_t *err);

#endif
