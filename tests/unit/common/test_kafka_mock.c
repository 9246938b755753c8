/*
 * tb_kafka against librdkafka's own mock cluster, started in this process
 * (the same broker tb-devbroker serves over TCP), so the wrapper's real code
 * paths run under ASan+UBSan: delivery accounting and flush-and-check,
 * injected delivery failures, batch polling and commits, the rebalance hook's
 * seek, pause/resume and headers. Each test gets a fresh cluster and metrics
 * registry; waits are bounded polls, never timing assertions.
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

#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/metrics.h"

#define WAIT_MS 60000
#define APIKEY_PRODUCE 0

struct fixture {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	const char *bootstrap;
	tb_metrics_t *metrics;
};

static const char *const consumer_props[] = {"session.timeout.ms", "6000"};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	tb_log_init("test_kafka_mock", TB_LOG_WARN);
	rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
	f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	assert_non_null(f->rk);
	f->mc = rd_kafka_mock_cluster_new(f->rk, 1);
	assert_non_null(f->mc);
	f->bootstrap = rd_kafka_mock_cluster_bootstraps(f->mc);
	f->metrics = tb_metrics_new("tb_test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rd_kafka_mock_cluster_destroy(f->mc);
	rd_kafka_destroy(f->rk);
	tb_metrics_free(f->metrics);
	free(f);
	return 0;
}

static tb_kafka_conf_t conf_of(const struct fixture *f, int consumer)
{
	return (tb_kafka_conf_t){
	    .bootstrap = f->bootstrap,
	    .props = consumer ? consumer_props : NULL,
	    .n_pairs = consumer ? 1 : 0,
	    .client_id = "test_kafka_mock",
	    .timeout_ms = 10000,
	    .metrics = f->metrics,
	};
}

static void create_topic(struct fixture *f, const char *topic, int partitions)
{
	assert_int_equal(rd_kafka_mock_topic_create(f->mc, topic, partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
}

static int64_t counter(struct fixture *f, const char *name)
{
	return tb_metric_get(tb_metrics_counter(f->metrics, name, "", NULL));
}

static tb_kafka_producer_t *producer(struct fixture *f, const char *topic)
{
	tb_kafka_conf_t conf = conf_of(f, 0);
	tb_err_t err = {{0}};
	tb_kafka_producer_t *p = tb_kafka_producer_new(&conf, &topic, 1, &err);

	if (!p)
		fail_msg("expected a producer, got error: %s", err.msg);
	return p;
}

static tb_kafka_consumer_t *consumer(struct fixture *f, const char *group, const char *topic)
{
	tb_kafka_conf_t conf = conf_of(f, 1);
	tb_err_t err = {{0}};
	tb_kafka_consumer_t *c = tb_kafka_consumer_new(&conf, group, &topic, 1, &err);

	if (!c)
		fail_msg("expected a consumer, got error: %s", err.msg);
	return c;
}

/* Produce keys PREFIX-FIRST .. PREFIX-(FIRST+N-1) with equal values, then flush. */
static void produce_n(tb_kafka_producer_t *p, const char *topic, const char *prefix, int first, int n)
{
	tb_err_t err = {{0}};
	char key[64];

	for (int i = first; i < first + n; i++) {
		int len = snprintf(key, sizeof(key), "%s-%d", prefix, i);

		if (tb_kafka_produce(p, topic, key, (size_t)len, key, (size_t)len, NULL, 0, &err) < 0)
			fail_msg("expected produce to succeed, got: %s", err.msg);
	}
	if (tb_kafka_producer_flush(p, WAIT_MS, &err) < 0)
		fail_msg("expected every delivery to succeed, got: %s", err.msg);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll and commit until `want` messages arrived (or WAIT_MS passed); their
 * "key@partition/offset" strings go to out (caller frees each). Returns the count. */
static int consume_n(tb_kafka_consumer_t *c, int want, char **out)
{
	tb_kafka_batch_t b = {0};
	tb_err_t err = {{0}};
	int64_t deadline = now_ms() + WAIT_MS;
	int got = 0;

	while (got < want && now_ms() < deadline) {
		int n = tb_kafka_poll_batch(c, &b, (size_t)(want - got), 200, &err);

		if (n < 0)
			fail_msg("expected poll to succeed, got: %s", err.msg);
		for (int i = 0; i < n; i++) {
			const tb_kafka_msg_t *m = &b.msgs[i];

			if (asprintf(&out[got++], "%.*s@%d/%lld", (int)m->key_len, (const char *)m->key,
				     (int)m->partition, (long long)m->offset) < 0)
				fail();
		}
		if (n > 0 && tb_kafka_commit(c, &b, &err) != 0)
			fail_msg("expected the commit to succeed, got: %s", err.msg);
	}
	tb_kafka_batch_clear(&b, 1);
	return got;
}

static void free_strs(char **s, int n)
{
	for (int i = 0; i < n; i++)
		free(s[i]);
}

static void flush_succeeds_when_every_message_is_acknowledged(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;

	create_topic(f, "ack", 2);
	p = producer(f, "ack");
	produce_n(p, "ack", "k", 0, 10);
	assert_int_equal(tb_kafka_producer_in_flight(p), 0);
	assert_int_equal(counter(f, "kafka_produced_total"), 10);
	assert_int_equal(counter(f, "kafka_delivered_total"), 10);
	assert_int_equal(counter(f, "kafka_delivery_failed_total"), 0);
	tb_kafka_producer_free(p);
}

static void flush_reports_a_failed_delivery_once(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;
	tb_err_t err = {{0}};

	create_topic(f, "nack", 1);
	p = producer(f, "nack");
	rd_kafka_mock_push_request_errors(f->mc, APIKEY_PRODUCE, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	assert_int_equal(tb_kafka_produce(p, "nack", "k", 1, "v", 1, NULL, 0, &err), 0);
	assert_int_equal(tb_kafka_producer_flush(p, WAIT_MS, &err), -1);
	if (!strstr(err.msg, "1 deliveries") || !strstr(err.msg, "nack [0]: Broker: Message size too large"))
		fail_msg("expected the failure count and cause, got: %s", err.msg);
	assert_int_equal(counter(f, "kafka_delivery_failed_total"), 1);
	/* The failure was reported: the next flush starts clean. */
	assert_int_equal(tb_kafka_produce(p, "nack", "k", 1, "v", 1, NULL, 0, &err), 0);
	if (tb_kafka_producer_flush(p, WAIT_MS, &err) != 0)
		fail_msg("expected a clean flush after the failure was reported, got: %s", err.msg);
	tb_kafka_producer_free(p);
}

static void retriable_errors_are_retried_without_duplicates(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	char *got[21] = {0};
	int n;

	create_topic(f, "retry", 1);
	p = producer(f, "retry");
	rd_kafka_mock_push_request_errors(f->mc, APIKEY_PRODUCE, 2,
					  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
					  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
	produce_n(p, "retry", "r", 0, 20);
	tb_kafka_producer_free(p);
	c = consumer(f, "g-retry", "retry");
	n = consume_n(c, 20, got);
	assert_int_equal(n, 20);
	for (int i = 0; i < 20; i++) {
		char want[64];

		snprintf(want, sizeof(want), "r-%d@0/%d", i, i);
		if (strcmp(got[i], want) != 0)
			fail_msg("expected message %d to be %s, got %s", i, want, got[i]);
	}
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	free_strs(got, n);
}

static void committed_batches_are_not_redelivered_to_the_group(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	char *got[12] = {0};
	int n;

	create_topic(f, "commit", 3);
	p = producer(f, "commit");
	produce_n(p, "commit", "old", 0, 12);
	c = consumer(f, "g-commit", "commit");
	n = consume_n(c, 12, got);
	assert_int_equal(n, 12);
	free_strs(got, n);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	assert_true(counter(f, "kafka_commits_total") >= 1);

	produce_n(p, "commit", "new", 0, 3);
	c = consumer(f, "g-commit", "commit");
	n = consume_n(c, 3, got);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++)
		if (strncmp(got[i], "new-", 4) != 0)
			fail_msg("expected only messages produced after the commit, got %s", got[i]);
	free_strs(got, n);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	tb_kafka_producer_free(p);
}

/* behind(c, via) over the consumer's own connection and over a producer's. */
static int64_t behind_of(tb_kafka_consumer_t *c, tb_kafka_producer_t *via)
{
	tb_err_t err = {{0}};
	int64_t n = -2;

	if (tb_kafka_consumer_behind(c, via, 10000, &n, &err) < 0)
		fail_msg("expected the watermarks, got: %s", err.msg);
	return n;
}

static void behind_counts_unread_messages_over_every_partition(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	char *got[12] = {0};
	int n;

	create_topic(f, "behind", 3);
	p = producer(f, "behind");
	produce_n(p, "behind", "a", 0, 12);
	c = consumer(f, "g-behind", "behind");
	assert_int_equal(behind_of(c, NULL), -1); /* not assigned before the first poll */
	n = consume_n(c, 12, got);
	assert_int_equal(n, 12);
	free_strs(got, n);
	assert_int_equal(behind_of(c, NULL), 0);
	produce_n(p, "behind", "b", 0, 5); /* acknowledged: the high watermarks moved */
	assert_int_equal(behind_of(c, NULL), 5);
	n = consume_n(c, 5, got);
	assert_int_equal(n, 5);
	free_strs(got, n);
	assert_int_equal(behind_of(c, NULL), 0);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	tb_kafka_producer_free(p);
}

struct hook_state {
	int64_t start_at;
	int assigned_calls;
	int revoked_calls;
	size_t last_n;
};

static int seek_hook(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	struct hook_state *h = opaque;

	if (!assigned) {
		h->revoked_calls++;
		return 0;
	}
	h->assigned_calls++;
	h->last_n = n;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tps[i].offset, TB_KAFKA_OFFSET_STORED);
		tps[i].offset = h->start_at;
	}
	return 0;
}

static void rebalance_hook_seeks_to_offsets_the_caller_stored(void **state)
{
	struct fixture *f = *state;
	struct hook_state h = {.start_at = 7};
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	char *got[3] = {0};
	int n;

	create_topic(f, "seek", 1);
	p = producer(f, "seek");
	produce_n(p, "seek", "s", 0, 10);
	tb_kafka_producer_free(p);
	c = consumer(f, "g-seek", "seek");
	tb_kafka_consumer_set_rebalance_hook(c, seek_hook, &h);
	n = consume_n(c, 3, got);
	assert_int_equal(n, 3);
	assert_string_equal(got[0], "s-7@0/7");
	assert_string_equal(got[2], "s-9@0/9");
	assert_int_equal(h.assigned_calls, 1);
	assert_int_equal(h.last_n, 1);
	free_strs(got, n);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	assert_int_equal(h.revoked_calls, 1);
}

static int fail_hook(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	(void)opaque;
	(void)tps;
	(void)n;
	return assigned ? -1 : 0;
}

static void a_failing_hook_makes_the_poll_fail(void **state)
{
	struct fixture *f = *state;
	tb_kafka_consumer_t *c;
	tb_kafka_batch_t b = {0};
	tb_err_t err = {{0}};
	int64_t deadline = now_ms() + WAIT_MS;
	int n = 0;

	create_topic(f, "hookfail", 1);
	c = consumer(f, "g-hookfail", "hookfail");
	tb_kafka_consumer_set_rebalance_hook(c, fail_hook, NULL);
	while (n == 0 && now_ms() < deadline)
		n = tb_kafka_poll_batch(c, &b, 10, 200, &err);
	assert_int_equal(n, -1);
	if (!strstr(err.msg, "rebalance hook failed"))
		fail_msg("expected a rebalance hook error, got: %s", err.msg);
	tb_kafka_batch_clear(&b, 1);
	tb_kafka_consumer_close(c, NULL, NULL);
}

static int count_hook(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n)
{
	(void)tps;
	if (assigned)
		*(size_t *)opaque = n;
	return 0;
}

static void paused_consumer_fetches_nothing_until_resumed(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	tb_kafka_batch_t b = {0};
	tb_kafka_tp_t asg[4];
	tb_err_t err = {{0}};
	size_t assigned = 0;
	char *got[5] = {0};
	int64_t deadline = now_ms() + WAIT_MS;
	int n;

	create_topic(f, "pause", 2);
	p = producer(f, "pause");
	c = consumer(f, "g-pause", "pause");
	tb_kafka_consumer_set_rebalance_hook(c, count_hook, &assigned);
	while (assigned == 0 && now_ms() < deadline)
		assert_int_equal(tb_kafka_poll_batch(c, &b, 10, 200, &err), 0);
	assert_int_equal(assigned, 2);
	assert_int_equal(tb_kafka_assignment(c, asg, 4, &err), 2);
	assert_string_equal(asg[0].topic, "pause");
	assert_int_equal(tb_kafka_pause(c, &err), 0);
	produce_n(p, "pause", "p", 0, 5);
	/* Paused: several polls return nothing although 5 messages wait. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(tb_kafka_poll_batch(c, &b, 10, 100, &err), 0);
	assert_int_equal(tb_kafka_resume(c, &err), 0);
	n = consume_n(c, 5, got);
	assert_int_equal(n, 5);
	free_strs(got, n);
	tb_kafka_batch_clear(&b, 1);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	tb_kafka_producer_free(p);
}

/* The correlator asks this before every batch: the count of unread messages
 * of the assignment must be right over either connection, from the start
 * (no position yet: counted from the low watermark) to the end (0). */
static void behind_counts_unread_messages_over_either_connection(void **state)
{
	struct fixture *f = *state;
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	tb_kafka_batch_t b = {0};
	tb_err_t err = {{0}};
	size_t assigned = 0;
	char *got[7] = {0};
	int64_t deadline = now_ms() + WAIT_MS;
	int n;

	create_topic(f, "behind", 3);
	p = producer(f, "behind");
	c = consumer(f, "g-behind", "behind");
	assert_int_equal(behind_of(c, NULL), -1); /* not assigned yet */
	tb_kafka_consumer_set_rebalance_hook(c, count_hook, &assigned);
	while (assigned == 0 && now_ms() < deadline)
		assert_int_equal(tb_kafka_poll_batch(c, &b, 10, 200, &err), 0);
	assert_int_equal(assigned, 3);
	assert_int_equal(tb_kafka_pause(c, &err), 0); /* nothing is consumed until resumed */
	assert_int_equal(behind_of(c, NULL), 0);
	assert_int_equal(behind_of(c, p), 0);
	produce_n(p, "behind", "b", 0, 7);
	assert_int_equal(behind_of(c, NULL), 7);
	assert_int_equal(behind_of(c, p), 7);
	assert_int_equal(tb_kafka_resume(c, &err), 0);
	n = consume_n(c, 7, got);
	assert_int_equal(n, 7);
	free_strs(got, n);
	assert_int_equal(behind_of(c, NULL), 0);
	assert_int_equal(behind_of(c, p), 0);
	produce_n(p, "behind", "b", 7, 2);
	assert_int_equal(behind_of(c, p), 2);
	tb_kafka_batch_clear(&b, 1);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	tb_kafka_producer_free(p);
}

static void cooperative_assignor_assigns_and_revokes_through_the_hook(void **state)
{
	static const char *const coop[] = {"session.timeout.ms", "6000", "partition.assignment.strategy",
					   "cooperative-sticky"};
	struct fixture *f = *state;
	struct hook_state h = {.start_at = TB_KAFKA_OFFSET_BEGINNING};
	tb_kafka_conf_t conf = conf_of(f, 1);
	const char *topic = "coop";
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	tb_err_t err = {{0}};
	char *got[4] = {0};
	int n;

	create_topic(f, topic, 2);
	p = producer(f, topic);
	produce_n(p, topic, "c", 0, 4);
	tb_kafka_producer_free(p);
	conf.props = coop;
	conf.n_pairs = 2;
	c = tb_kafka_consumer_new(&conf, "g-coop", &topic, 1, &err);
	if (!c)
		fail_msg("expected a cooperative consumer, got error: %s", err.msg);
	tb_kafka_consumer_set_rebalance_hook(c, seek_hook, &h);
	n = consume_n(c, 4, got);
	assert_int_equal(n, 4);
	assert_int_equal(h.assigned_calls, 1);
	assert_int_equal(h.last_n, 2);
	free_strs(got, n);
	assert_int_equal(tb_kafka_consumer_close(c, NULL, NULL), 0);
	assert_int_equal(h.revoked_calls, 1);
}

static void headers_travel_with_the_message(void **state)
{
	struct fixture *f = *state;
	tb_kafka_header_t hdrs[] = {{"tenant", "acme", 4}, {"bin", "\0\1", 2}};
	tb_kafka_producer_t *p;
	tb_kafka_consumer_t *c;
	tb_kafka_batch_t b = {0};
	tb_err_t err = {{0}};
	const void *val;
	size_t len;
	int64_t deadline = now_ms() + WAIT_MS;
	int n = 0;

	create_topic(f, "hdr", 1);
	p = producer(f, "hdr");
	assert_int_equal(tb_kafka_produce(p, "hdr", NULL, 0, "v", 1, hdrs, 2, &err), 0);
	assert_int_equal(tb_kafka_producer_flush(p, WAIT_MS, &err), 0);
	tb_kafka_producer_free(p);
	c = consumer(f, "g-hdr", "hdr");
	while (n == 0 && now_ms() < deadline)
		n = tb_kafka_poll_batch(c, &b, 1, 200, &err);
	assert_int_equal(n, 1);
	assert_null(b.msgs[0].key);
	assert_int_equal(tb_kafka_msg_header(&b.msgs[0], "tenant", &val, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(val, "acme", 4);
	assert_int_equal(tb_kafka_msg_header(&b.msgs[0], "bin", &val, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(val, "\0\1", 2);
	assert_int_equal(tb_kafka_msg_header(&b.msgs[0], "absent", &val, &len), -1);
	/* close commits the last batch and releases its messages. */
	assert_int_equal(tb_kafka_consumer_close(c, &b, &err), 0);
	assert_int_equal(b.n, 0);
	tb_kafka_batch_clear(&b, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(flush_succeeds_when_every_message_is_acknowledged, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(flush_reports_a_failed_delivery_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(retriable_errors_are_retried_without_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(committed_batches_are_not_redelivered_to_the_group, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(behind_counts_unread_messages_over_every_partition, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rebalance_hook_seeks_to_offsets_the_caller_stored, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_failing_hook_makes_the_poll_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(paused_consumer_fetches_nothing_until_resumed, setup, teardown),
	    cmocka_unit_test_setup_teardown(cooperative_assignor_assigns_and_revokes_through_the_hook, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(headers_travel_with_the_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(behind_counts_unread_messages_over_either_connection, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
