/*
 * output.c — RuntimeEvents and dead letters onto Kafka (see output.h).
 *
 * How it works: encode (tb/avro.h), produce asynchronously, count what is
 * pending; the main loop flushes once per round and only then commits Kafka
 * offsets or saves file positions.
 */
#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "tb/topics.h"

struct tb_adapter_output {
	tb_kafka_producer_t *producer;
	tb_dlq_t *dlq;
	const tb_avro_registry_t *reg;
	const char *topic;
	size_t pending;
};

tb_adapter_output_t *tb_adapter_output_new(tb_kafka_producer_t *producer, tb_dlq_t *dlq,
					   const tb_avro_registry_t *reg, const char *topic)
{
	tb_adapter_output_t *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->producer = producer;
	o->dlq = dlq;
	o->reg = reg;
	o->topic = topic ? topic : TB_TOPIC_EVENTS_RAW;
	return o;
}

void tb_adapter_output_free(tb_adapter_output_t *o)
{
	free(o);
}

size_t tb_adapter_event_key(const tb_runtime_event_t *ev, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", ev->node ? ev->node : "",
			 ev->process.exec_id ? ev->process.exec_id : "");

	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

static int out_event(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err)
{
	tb_adapter_output_t *o = ctx;
	uint8_t *buf = NULL;
	size_t len = 0, key_len;
	char key[1024];
	int r;

	if (tb_avro_encode_runtime_event(o->reg, ev, &buf, &len, err) < 0)
		return tb_err_wrap(err, "encode RuntimeEvent");
	key_len = tb_adapter_event_key(ev, key, sizeof(key));
	r = tb_kafka_produce(o->producer, o->topic, key, key_len, buf, len, NULL, 0, err);
	free(buf);
	if (r == 0)
		o->pending++;
	return r;
}

static int out_dead(void *ctx, const char *reason, const char *source_topic, int32_t partition,
		    int64_t offset, const char *position, const void *key, size_t key_len,
		    const void *payload, size_t payload_len, tb_err_t *err)
{
	tb_adapter_output_t *o = ctx;

	if (tb_dlq_send(o->dlq, reason, source_topic, partition, offset, position, key, key_len, payload,
			payload_len, err) < 0)
		return -1;
	o->pending++;
	return 0;
}

tb_adapter_sink_t tb_adapter_output_sink(tb_adapter_output_t *o)
{
	tb_adapter_sink_t s = {.event = out_event, .dead = out_dead, .ctx = o};

	return s;
}

size_t tb_adapter_output_pending(const tb_adapter_output_t *o)
{
	return o->pending;
}

int tb_adapter_output_flush(tb_adapter_output_t *o, int timeout_ms, tb_err_t *err)
{
	if (tb_kafka_producer_flush(o->producer, timeout_ms, err) < 0)
		return -1;
	o->pending = 0;
	return 0;
}
