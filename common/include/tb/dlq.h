/*
 * tb/dlq.h — dead-lettering: a record a service cannot process goes to
 * tb.dlq.v1 with its original bytes, where it came from and why.
 *
 * Every service uses it for malformed input (docs/ARCHITECTURE.md: "malformed
 * input -> tb.dlq.v1"). The message is an Avro DeadLetter (tb/records.h,
 * encoded by tb/avro.h), keyed "<source_topic>/<partition>" (or the service
 * name for non-Kafka inputs), with headers tb-service and tb-reason-class so
 * operators can filter without decoding. It goes out through the service's
 * own producer, so the service's tb_kafka_producer_flush covers it: the input
 * offset is committed only after the dead letter was acknowledged.
 *
 * Reasons should start with a short class word and a colon, e.g.
 * "decode: truncated varint at byte 12" or "schema: unknown fingerprint
 * 0x12..": the class (lowercase letters, digits, '_', at most 32 characters;
 * "other" otherwise) labels the counter dead_letters_total{reason="decode"}
 * in the producer's metrics registry.
 */
#ifndef TB_DLQ_H
#define TB_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "tb/avro.h"
#include "tb/err.h"
#include "tb/kafka.h"

typedef struct tb_dlq tb_dlq_t;

/* A dead-letter sender for `service_name` over `producer` (not owned; it must
 * outlive the tb_dlq_t), encoding with `avro_registry` (not owned). Metrics
 * go to the producer's registry (tb_kafka_producer_metrics), if any. Returns
 * NULL only when out of memory. */
tb_dlq_t *tb_dlq_new(tb_kafka_producer_t *producer, const char *service_name,
		     const tb_avro_registry_t *avro_registry);

/* Dead-letter one record: `reason` says precisely what was wrong;
 * source_topic is "" or NULL for non-Kafka inputs (then partition -1);
 * `offset` is the Kafka offset, or a byte/line position for files;
 * `position` is a human-readable position ("file.json:12:5") or NULL; key and
 * payload are the original bytes (either may be NULL with length 0). Queues
 * the message (asynchronous like tb_kafka_produce); 0, or -1 with err when it
 * could not be encoded or queued — then the caller must not commit the input. */
int tb_dlq_send(tb_dlq_t *dlq, const char *reason, const char *source_topic, int32_t partition,
		int64_t offset, const char *position, const void *key, size_t key_len, const void *payload,
		size_t payload_len, tb_err_t *err);

/* The reason class of a reason text, as used for the metric label, into
 * out[33]. Exposed for tests. */
void tb_dlq_reason_class(const char *reason, char out[33]);

/* NULL is allowed. Does not flush: the producer's owner does. */
void tb_dlq_free(tb_dlq_t *dlq);

#endif
