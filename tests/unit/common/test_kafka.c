/*
 * Unit tests for tb_kafka and tb_topics that need no broker: property
 * arrays, commit-offset computation, start-up errors (nothing listening) and
 * the topic table. Behaviour against a broker: test_kafka_mock.c and
 * tests/integration/01x-*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tb/kafka.h"
#include "tb/topics.h"

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected a message containing \"%s\", got \"%s\"", needle, haystack);
}

static void conf_apply_sets_every_pair(void **state)
{
	const char *props[] = {"linger.ms", "7", "client.id", "unit"};
	rd_kafka_conf_t *rc = rd_kafka_conf_new();
	tb_err_t err = {{0}};
	char val[64];
	size_t len = sizeof(val);

	(void)state;
	assert_int_equal(tb_kafka_conf_apply(rc, props, 2, &err), 0);
	assert_int_equal(rd_kafka_conf_get(rc, "linger.ms", val, &len), RD_KAFKA_CONF_OK);
	assert_string_equal(val, "7");
	len = sizeof(val);
	assert_int_equal(rd_kafka_conf_get(rc, "client.id", val, &len), RD_KAFKA_CONF_OK);
	assert_string_equal(val, "unit");
	rd_kafka_conf_destroy(rc);
}

static void conf_apply_names_an_unknown_property(void **state)
{
	const char *props[] = {"linger.ms", "7", "no.such.prop", "1"};
	rd_kafka_conf_t *rc = rd_kafka_conf_new();
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_kafka_conf_apply(rc, props, 2, &err), -1);
	assert_contains(err.msg, "kafka property no.such.prop=1");
	rd_kafka_conf_destroy(rc);
}

static void conf_apply_rejects_a_pair_without_value(void **state)
{
	const char *props[] = {"linger.ms", "7", "acks", NULL};
	rd_kafka_conf_t *rc = rd_kafka_conf_new();
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_kafka_conf_apply(rc, props, 2, &err), -1);
	assert_contains(err.msg, "pair 1 (acks)");
	rd_kafka_conf_destroy(rc);
}

static void conf_apply_accepts_an_empty_array(void **state)
{
	rd_kafka_conf_t *rc = rd_kafka_conf_new();

	(void)state;
	assert_int_equal(tb_kafka_conf_apply(rc, NULL, 0, NULL), 0);
	rd_kafka_conf_destroy(rc);
}

static tb_kafka_msg_t msg(const char *topic, int32_t partition, int64_t offset)
{
	return (tb_kafka_msg_t){.topic = topic, .partition = partition, .offset = offset};
}

static void commit_offsets_take_highest_plus_one_per_partition(void **state)
{
	/* Same partition number on two topics, offsets out of order. */
	tb_kafka_msg_t m[] = {msg("a", 0, 5), msg("a", 1, 9), msg("b", 0, 2), msg("a", 0, 7),
			      msg("a", 0, 6), msg("b", 0, 1), msg("a", 1, 10)};
	tb_kafka_tp_t out[8];
	size_t n;

	(void)state;
	n = tb_kafka_commit_offsets(m, 7, out, 8);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].topic, "a");
	assert_int_equal(out[0].partition, 0);
	assert_int_equal(out[0].offset, 8);
	assert_string_equal(out[1].topic, "a");
	assert_int_equal(out[1].partition, 1);
	assert_int_equal(out[1].offset, 11);
	assert_string_equal(out[2].topic, "b");
	assert_int_equal(out[2].partition, 0);
	assert_int_equal(out[2].offset, 3);
}

static void commit_offsets_count_all_partitions_beyond_cap(void **state)
{
	tb_kafka_msg_t m[] = {msg("a", 0, 1), msg("a", 1, 1), msg("a", 2, 1),
			      msg("a", 1, 4), msg("a", 3, 1), msg("a", 2, 2)};
	tb_kafka_tp_t out[2];

	(void)state;
	assert_int_equal(tb_kafka_commit_offsets(m, 6, out, 2), 4);
	assert_int_equal(out[0].partition, 0);
	assert_int_equal(out[0].offset, 2);
	assert_int_equal(out[1].partition, 1);
	assert_int_equal(out[1].offset, 5);
}

static void commit_offsets_of_an_empty_batch_is_empty(void **state)
{
	tb_kafka_tp_t out[1];

	(void)state;
	assert_int_equal(tb_kafka_commit_offsets(NULL, 0, out, 1), 0);
}

/* A loopback port where nothing listens: bound (so nobody else takes it) but
 * not listening, so connects are refused. */
static int refusing_port(int *fd_out)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*fd_out = fd;
	return ntohs(sa.sin_port);
}

static void producer_new_names_an_unreachable_broker(void **state)
{
	char boot[64], want[96];
	int fd, port = refusing_port(&fd);
	tb_kafka_conf_t conf = {.bootstrap = boot, .timeout_ms = 1500};
	const char *topics[] = {"t"};
	tb_err_t err = {{0}};

	(void)state;
	snprintf(boot, sizeof(boot), "127.0.0.1:%d", port);
	snprintf(want, sizeof(want), "cannot reach Kafka at %s: ", boot);
	assert_null(tb_kafka_producer_new(&conf, topics, 1, &err));
	assert_contains(err.msg, want);
	assert_contains(err.msg, "Connection refused");
	close(fd);
}

static void consumer_new_names_an_unreachable_broker(void **state)
{
	char boot[64], want[96];
	int fd, port = refusing_port(&fd);
	tb_kafka_conf_t conf = {.bootstrap = boot, .timeout_ms = 1500};
	const char *topics[] = {"t"};
	tb_err_t err = {{0}};

	(void)state;
	snprintf(boot, sizeof(boot), "127.0.0.1:%d", port);
	snprintf(want, sizeof(want), "cannot reach Kafka at %s: ", boot);
	assert_null(tb_kafka_consumer_new(&conf, "g", topics, 1, &err));
	assert_contains(err.msg, want);
	close(fd);
}

static void producer_new_requires_bootstrap_servers(void **state)
{
	tb_kafka_conf_t conf = {.timeout_ms = 100};
	tb_err_t err = {{0}};

	(void)state;
	assert_null(tb_kafka_producer_new(&conf, NULL, 0, &err));
	assert_contains(err.msg, "no bootstrap servers");
}

static void producer_new_reports_a_bad_property(void **state)
{
	const char *props[] = {"compression.type", "zip"};
	tb_kafka_conf_t conf = {.bootstrap = "127.0.0.1:1", .props = props, .n_pairs = 1, .timeout_ms = 100};
	tb_err_t err = {{0}};

	(void)state;
	assert_null(tb_kafka_producer_new(&conf, NULL, 0, &err));
	assert_contains(err.msg, "kafka property compression.type=zip");
}

static void consumer_new_requires_group_and_topics(void **state)
{
	tb_kafka_conf_t conf = {.bootstrap = "127.0.0.1:1", .timeout_ms = 100};
	const char *topics[] = {"t"};
	tb_err_t err = {{0}};

	(void)state;
	assert_null(tb_kafka_consumer_new(&conf, "", topics, 1, &err));
	assert_contains(err.msg, "group id");
	assert_null(tb_kafka_consumer_new(&conf, "g", topics, 0, &err));
	assert_contains(err.msg, "at least one topic");
}

static void topic_table_holds_the_contract_topics(void **state)
{
	static const char *names[] = {
	    TB_TOPIC_TETRAGON_RAW,	TB_TOPIC_PROBE_RAW, TB_TOPIC_EVENTS_RAW, TB_TOPIC_EVENTS_CANONICAL,
	    TB_TOPIC_EVENTS_CORRELATED, TB_TOPIC_ARTIFACTS, TB_TOPIC_FINDINGS,	 TB_TOPIC_DLQ};

	(void)state;
	assert_int_equal(tb_topics_count(), 8);
	for (size_t i = 0; i < 8; i++) {
		const tb_topic_spec_t *t = tb_topic_find(names[i]);

		if (!t)
			fail_msg("expected %s in the topic table, it is missing", names[i]);
		assert_ptr_equal(t, &tb_topics[i]);
		assert_true(t->partitions >= 1);
	}
	assert_string_equal(tb_topic_find("tb.events.raw.v1")->cleanup_policy, "delete");
	assert_int_equal(tb_topic_find("tb.events.raw.v1")->partitions, 6);
	assert_null(tb_topic_find("tb.events.raw.v2"));
	assert_null(tb_topic_find(NULL));
}

static void reference_topics_are_compacted(void **state)
{
	(void)state;
	assert_string_equal(tb_topic_find(TB_TOPIC_ARTIFACTS)->cleanup_policy, "compact");
	assert_string_equal(tb_topic_find(TB_TOPIC_FINDINGS)->cleanup_policy, "compact");
	assert_string_equal(tb_topic_find(TB_TOPIC_DLQ)->cleanup_policy, "delete");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(conf_apply_sets_every_pair),
	    cmocka_unit_test(conf_apply_names_an_unknown_property),
	    cmocka_unit_test(conf_apply_rejects_a_pair_without_value),
	    cmocka_unit_test(conf_apply_accepts_an_empty_array),
	    cmocka_unit_test(commit_offsets_take_highest_plus_one_per_partition),
	    cmocka_unit_test(commit_offsets_count_all_partitions_beyond_cap),
	    cmocka_unit_test(commit_offsets_of_an_empty_batch_is_empty),
	    cmocka_unit_test(producer_new_names_an_unreachable_broker),
	    cmocka_unit_test(consumer_new_names_an_unreachable_broker),
	    cmocka_unit_test(producer_new_requires_bootstrap_servers),
	    cmocka_unit_test(producer_new_reports_a_bad_property),
	    cmocka_unit_test(consumer_new_requires_group_and_topics),
	    cmocka_unit_test(topic_table_holds_the_contract_topics),
	    cmocka_unit_test(reference_topics_are_compacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
