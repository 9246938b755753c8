/*
 * tb_dlq.c — dead letters to tb.dlq.v1 (see tb/dlq.h).
 *
 * Builds a tb_dead_letter_t that borrows the caller's strings and bytes (it
 * is only read by the encoder, never freed here), encodes it with tb/avro.h,
 * and produces it through the service's producer with a key that keeps one
 * source partition's dead letters in order. The per-class counter is looked
 * up in the registry on each send: dead letters are rare, and the registry
 * returns the same metric for the same labels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tb/dlq.h"
#include "tb/log.h"
#include "tb/topics.h"

struct tb_dlq {
	tb_kafka_producer_t *producer;
	const tb_avro_registry_t *reg;
	char *service;
};

tb_dlq_t *tb_dlq_new(tb_kafka_producer_t *producer, const char *service_name,
		     const tb_avro_registry_t *avro_registry)
{
	tb_dlq_t *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->service = strdup(service_name ? service_name : "tracebridge");
	if (!d->service) {
		free(d);
		return NULL;
	}
	d->producer = producer;
	d->reg = avro_registry;
	return d;
}

void tb_dlq_free(tb_dlq_t *dlq)
{
	if (!dlq)
		return;
	free(dlq->service);
	free(dlq);
}

void tb_dlq_reason_class(const char *reason, char out[33])
{
	size_t n = 0;

	for (const char *p = reason ? reason : ""; *p && *p != ':'; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';

		if (!ok || n == 32) {
			n = 0; /* not a class word: a free-form reason */
			break;
		}
		out[n++] = *p;
	}
	if (n == 0 || !reason || !strchr(reason, ':')) {
		snprintf(out, 33, "other");
		return;
	}
	out[n] = '\0';
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void count(tb_dlq_t *dlq, const char *cls)
{
	tb_metrics_t *m = tb_kafka_producer_metrics(dlq->producer);
	char labels[64];

	if (!m)
		return;
	snprintf(labels, sizeof(labels), "reason=\"%s\"", cls);
	tb_metric_inc(
	    tb_metrics_counter(m, "dead_letters_total", "records sent to the dead-letter topic", labels));
}

int tb_dlq_send(tb_dlq_t *dlq, const char *reason, const char *source_topic, int32_t partition,
		int64_t offset, const char *position, const void *key, size_t key_len, const void *payload,
		size_t payload_len, tb_err_t *err)
{
	int kafka_input = source_topic && source_topic[0];
	tb_dead_letter_t d = {
	    .service = dlq->service,
	    .reason = (char *)(reason ? reason : ""),
	    .source_topic = (char *)(kafka_input ? source_topic : ""),
	    .partition = kafka_input ? partition : -1,
	    .offset = offset,
	    .position = (char *)position,
	    .ts_ns = now_ns(),
	    .key = (uint8_t *)key,
	    .key_len = key ? key_len : 0,
	    .payload = (uint8_t *)payload,
	    .payload_len = payload ? payload_len : 0,
	};
	char msg_key[512], cls[33];
	tb_kafka_header_t hdrs[2];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (tb_avro_encode_dead_letter(dlq->reg, &d, &buf, &len, err) < 0)
		return tb_err_wrap(err, "dead letter from %s", dlq->service);
	if (kafka_input)
		snprintf(msg_key, sizeof(msg_key), "%s/%d", source_topic, (int)d.partition);
	else
		snprintf(msg_key, sizeof(msg_key), "%s", dlq->service);
	tb_dlq_reason_class(reason, cls);
	hdrs[0] = (tb_kafka_header_t){"tb-service", dlq->service, strlen(dlq->service)};
	hdrs[1] = (tb_kafka_header_t){"tb-reason-class", cls, strlen(cls)};
	rc = tb_kafka_produce(dlq->producer, TB_TOPIC_DLQ, msg_key, strlen(msg_key), buf, len, hdrs, 2, err);
	free(buf);
	if (rc < 0)
		return tb_err_wrap(err, "dead letter from %s", dlq->service);
	count(dlq, cls);
	tb_warn("dead letter to %s: %s [%d] offset %lld%s%s: %s", TB_TOPIC_DLQ,
		kafka_input ? source_topic : "(input)", (int)d.partition, (long long)offset,
		position ? " at " : "", position ? position : "", d.reason);
	return 0;
}
