/*
 * Unit tests for tb_dlq: reason classes, and dead letters produced through a
 * real producer to librdkafka's in-process mock cluster, read back and
 * decoded with tb/avro.h (fields, key, headers, metrics).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "tb/avro.h"
#include "tb/dlq.h"
#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/metrics.h"
#include "tb/topics.h"

#define WAIT_MS 60000

static void reason_class_is_the_leading_word(void **state)
{
	char cls[33];

	(void)state;
	tb_dlq_reason_class("decode: truncated varint at byte 12", cls);
	assert_string_equal(cls, "decode");
	tb_dlq_reason_class("json_parse2: unexpected '}'", cls);
	assert_string_equal(cls, "json_parse2");
	tb_dlq_reason_class("Bad Thing: x", cls);
	assert_string_equal(cls, "other");
	tb_dlq_reason_class("no colon here", cls);
	assert_string_equal(cls, "other");
	tb_dlq_reason_class("abcdefghijabcdefghijabcdefghijabc: longer than 32", cls);
	assert_string_equal(cls, "other");
	tb_dlq_reason_class(": empty class", cls);
	assert_string_equal(cls, "other");
	tb_dlq_reason_class(NULL, cls);
	assert_string_equal(cls, "other");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct world {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	tb_metrics_t *metrics;
	tb_avro_registry_t *reg;
	tb_kafka_producer_t *p;
	tb_dlq_t *dlq;
};

static void world_start(struct world *w)
{
	rd_kafka_conf_t *rc = rd_kafka_conf_new();
	tb_kafka_conf_t conf = {.client_id = "test_kafka_dlq", .timeout_ms = 10000};
	const char *topic = TB_TOPIC_DLQ;
	tb_err_t err = {{0}};
	char errstr[256];

	tb_log_init("test_kafka_dlq", TB_LOG_ERROR);
	rd_kafka_conf_set(rc, "log_level", "3", NULL, 0);
	w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, errstr, sizeof(errstr));
	assert_non_null(w->rk);
	w->mc = rd_kafka_mock_cluster_new(w->rk, 1);
	assert_non_null(w->mc);
	assert_int_equal(rd_kafka_mock_topic_create(w->mc, TB_TOPIC_DLQ, 1, 1), 0);
	w->metrics = tb_metrics_new("tb_test");
	w->reg = tb_avro_registry_new(&err);
	if (!w->reg)
		fail_msg("expected an Avro registry, got: %s", err.msg);
	conf.bootstrap = rd_kafka_mock_cluster_bootstraps(w->mc);
	conf.metrics = w->metrics;
	w->p = tb_kafka_producer_new(&conf, &topic, 1, &err);
	if (!w->p)
		fail_msg("expected a producer, got: %s", err.msg);
	w->dlq = tb_dlq_new(w->p, "adapter", w->reg);
	assert_non_null(w->dlq);
}

static void world_stop(struct world *w)
{
	tb_dlq_free(w->dlq);
	tb_kafka_producer_free(w->p);
	tb_avro_registry_free(w->reg);
	tb_metrics_free(w->metrics);
	rd_kafka_mock_cluster_destroy(w->mc);
	rd_kafka_destroy(w->rk);
}

/* Read `want` messages of tb.dlq.v1 into b (a fresh group, from the start). */
static void read_dlq(const struct world *w, tb_kafka_consumer_t **c, tb_kafka_batch_t *b, size_t want)
{
	static const char *const props[] = {"session.timeout.ms", "6000"};
	tb_kafka_conf_t conf = {.props = props, .n_pairs = 1, .timeout_ms = 10000};
	const char *topic = TB_TOPIC_DLQ;
	tb_err_t err = {{0}};
	int64_t deadline = now_ms() + WAIT_MS;

	conf.bootstrap = rd_kafka_mock_cluster_bootstraps(w->mc);
	*c = tb_kafka_consumer_new(&conf, "dlq-reader", &topic, 1, &err);
	if (!*c)
		fail_msg("expected a consumer, got: %s", err.msg);
	/* One partition, produced before: the whole set arrives in one fetch. */
	while (b->n < want && now_ms() < deadline)
		assert_true(tb_kafka_poll_batch(*c, b, want, 200, &err) >= 0);
	assert_int_equal(b->n, want);
}

static void header_is(const tb_kafka_msg_t *m, const char *name, const char *want)
{
	const void *val;
	size_t len;

	if (tb_kafka_msg_header(m, name, &val, &len) < 0)
		fail_msg("expected header %s = %s, it is missing", name, want);
	if (len != strlen(want) || memcmp(val, want, len) != 0)
		fail_msg("expected header %s = %s, got %.*s", name, want, (int)len, (const char *)val);
}

static void dead_letters_carry_origin_reason_and_original_bytes(void **state)
{
	static const uint8_t payload[] = {0x00, 0xff, 'x', 0x00};
	struct world w = {0};
	tb_kafka_consumer_t *c = NULL;
	tb_kafka_batch_t b = {0};
	tb_dead_letter_t d = {0};
	tb_err_t err = {{0}};
	char labels[64];

	(void)state;
	world_start(&w);
	assert_int_equal(tb_dlq_send(w.dlq, "decode: bad magic 0x00ff", "tb.events.raw.v1", 3, 1200, NULL,
				     "k1", 2, payload, sizeof(payload), &err),
			 0);
	assert_int_equal(
	    tb_dlq_send(w.dlq, "Something odd", NULL, 7, 12, "trace.json:12:5", NULL, 0, "{oops", 5, &err),
	    0);
	if (tb_kafka_producer_flush(w.p, WAIT_MS, &err) != 0)
		fail_msg("expected both dead letters acknowledged, got: %s", err.msg);
	read_dlq(&w, &c, &b, 2);

	/* 1: from Kafka, keyed by its source topic/partition. */
	assert_int_equal(b.msgs[0].key_len, strlen("tb.events.raw.v1/3"));
	assert_memory_equal(b.msgs[0].key, "tb.events.raw.v1/3", b.msgs[0].key_len);
	header_is(&b.msgs[0], "tb-service", "adapter");
	header_is(&b.msgs[0], "tb-reason-class", "decode");
	if (tb_avro_decode_dead_letter(w.reg, b.msgs[0].value, b.msgs[0].value_len, &d, &err) < 0)
		fail_msg("expected a decodable DeadLetter, got: %s", err.msg);
	assert_string_equal(d.service, "adapter");
	assert_string_equal(d.reason, "decode: bad magic 0x00ff");
	assert_string_equal(d.source_topic, "tb.events.raw.v1");
	assert_int_equal(d.partition, 3);
	assert_int_equal(d.offset, 1200);
	assert_null(d.position);
	assert_true(d.ts_ns > 0);
	assert_int_equal(d.key_len, 2);
	assert_memory_equal(d.key, "k1", 2);
	assert_int_equal(d.payload_len, sizeof(payload));
	assert_memory_equal(d.payload, payload, sizeof(payload));
	tb_dead_letter_clear(&d);

	/* 2: not from Kafka: partition -1, keyed by the service, class "other". */
	assert_memory_equal(b.msgs[1].key, "adapter", b.msgs[1].key_len);
	header_is(&b.msgs[1], "tb-reason-class", "other");
	memset(&d, 0, sizeof(d));
	if (tb_avro_decode_dead_letter(w.reg, b.msgs[1].value, b.msgs[1].value_len, &d, &err) < 0)
		fail_msg("expected a decodable DeadLetter, got: %s", err.msg);
	assert_string_equal(d.source_topic, "");
	assert_int_equal(d.partition, -1);
	assert_int_equal(d.offset, 12);
	assert_string_equal(d.position, "trace.json:12:5");
	assert_null(d.key);
	assert_int_equal(d.payload_len, 5);
	assert_memory_equal(d.payload, "{oops", 5);
	tb_dead_letter_clear(&d);

	snprintf(labels, sizeof(labels), "reason=\"decode\"");
	assert_int_equal(tb_metric_get(tb_metrics_counter(w.metrics, "dead_letters_total", "", labels)), 1);
	snprintf(labels, sizeof(labels), "reason=\"other\"");
	assert_int_equal(tb_metric_get(tb_metrics_counter(w.metrics, "dead_letters_total", "", labels)), 1);

	tb_kafka_consumer_close(c, &b, NULL);
	tb_kafka_batch_clear(&b, 1);
	world_stop(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reason_class_is_the_leading_word),
	    cmocka_unit_test(dead_letters_carry_origin_reason_and_original_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
