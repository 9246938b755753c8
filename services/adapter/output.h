/*
 * output.h — the adapter's Kafka sink: RuntimeEvents to tb.events.raw.v1
 * (Avro, keyed "<node>/<exec_id>" so one process's events stay in order on
 * one partition; events without a process, e.g. probe uprobe counts, are
 * keyed "<node>/") and dead letters to tb.dlq.v1 (tb/dlq.h), both through
 * one producer, so one flush covers both before inputs are committed.
 */
#ifndef TB_ADAPTER_OUTPUT_H
#define TB_ADAPTER_OUTPUT_H

#include <stddef.h>

#include "ingest.h"
#include "tb/avro.h"
#include "tb/dlq.h"
#include "tb/kafka.h"

typedef struct tb_adapter_output tb_adapter_output_t;

/* producer, dlq and reg are not owned and must outlive the output. topic
 * NULL = TB_TOPIC_EVENTS_RAW. NULL on OOM. */
tb_adapter_output_t *tb_adapter_output_new(tb_kafka_producer_t *producer, tb_dlq_t *dlq,
					   const tb_avro_registry_t *reg, const char *topic);
void tb_adapter_output_free(tb_adapter_output_t *o);

/* The sink for tb_adapter_conf_t. */
tb_adapter_sink_t tb_adapter_output_sink(tb_adapter_output_t *o);

/* Records queued since the last flush (events + dead letters). */
size_t tb_adapter_output_pending(const tb_adapter_output_t *o);

/* Wait until everything queued is acknowledged (tb_kafka_producer_flush);
 * 0, or -1 when a delivery failed or timed out: then no input may be
 * committed. Resets the pending count on success. */
int tb_adapter_output_flush(tb_adapter_output_t *o, int timeout_ms, tb_err_t *err);

/* The message key of an event, "<node>/<exec_id>" (absent parts empty), into
 * buf; returns its length (truncated to cap - 1). */
size_t tb_adapter_event_key(const tb_runtime_event_t *ev, char *buf, size_t cap);

#endif
