/*
 * Unit tests for the aggregator's decoding step (tb_agg_decode in
 * services/aggregator/sink.c): which messages become events, artifacts,
 * findings or tombstones, and which become dead letters with what reason.
 * Records are encoded with the real codec (tb/avro.h); no database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/aggregator/sink.h"
#include "tb/topics.h"

#define ART "sha256:aaaa000000000000000000000000000000000000000000000000000000000000"

typedef struct st {
	tb_avro_registry_t *reg;
	tb_metrics_t *metrics;
	tb_agg_sink_t *sink;
} st_t;

static int setup(void **state)
{
	st_t *s = calloc(1, sizeof(*s));
	tb_err_t err;

	s->reg = tb_avro_registry_new(&err);
	s->metrics = tb_metrics_new("tb_aggregator");
	if (!s->reg || !s->metrics)
		return -1;
	s->sink = tb_agg_sink_new(
	    &(tb_agg_sink_conf_t){
		.reg = s->reg, .group = "g", .metrics = s->metrics, .default_tenant = "fallback"},
	    &err);
	*state = s;
	return s->sink ? 0 : -1;
}

static int teardown(void **state)
{
	st_t *s = *state;

	tb_agg_sink_free(s->sink);
	tb_metrics_free(s->metrics);
	tb_avro_registry_free(s->reg);
	free(s);
	return 0;
}

static uint8_t *encode_event(st_t *s, const char *tenant, int64_t count, size_t *len)
{
	tb_canon_frame_t fr = {.frame_id = 7, .build_id = "ab", .module = "libx.so", .symbol = "parse"};
	tb_event_t ev = {.tenant = (char *)tenant,
			 .source = "probe",
			 .kind = "sample",
			 .ts_ns = 1767225600123456789LL,
			 .node = "n1",
			 .frames = &fr,
			 .n_frames = 1,
			 .stack_id = 9,
			 .leaf_frame_id = 7,
			 .count = count,
			 .artifact_digest = ART,
			 .correlation = "correlated"};
	uint8_t *buf = NULL;
	tb_err_t err;

	assert_int_equal(tb_avro_encode_correlated_event(s->reg, &ev, &buf, len, &err), 0);
	return buf;
}

static tb_kafka_msg_t msg(const char *topic, int64_t offset, const char *key, const void *value, size_t len)
{
	tb_kafka_msg_t m = {.topic = topic,
			    .partition = 0,
			    .offset = offset,
			    .key = key,
			    .key_len = key ? strlen(key) : 0,
			    .value = value,
			    .value_len = len,
			    .timestamp_ms = -1};
	return m;
}

static void expect_bad(const tb_agg_item_t *it, const char *reason_prefix)
{
	assert_int_equal(it->kind, TB_AGG_BAD);
	assert_non_null(it->reason);
	if (strncmp(it->reason, reason_prefix, strlen(reason_prefix)) != 0)
		fail_msg("expected a reason starting with \"%s\", got \"%s\"", reason_prefix, it->reason);
}

static void a_valid_event_decodes_with_its_microsecond_time(void **state)
{
	st_t *s = *state;
	size_t len;
	uint8_t *buf = encode_event(s, "t1", 2, &len);
	tb_kafka_msg_t m = msg(TB_TOPIC_EVENTS_CORRELATED, 5, "9", buf, len);
	tb_agg_item_t it;

	assert_int_equal(tb_agg_decode(s->sink, &m, 1, &it, NULL), 0);
	assert_int_equal(it.kind, TB_AGG_EVENT);
	assert_string_equal(it.ev.tenant, "t1");
	assert_int_equal(it.ev.count, 2);
	assert_int_equal(it.ts_us, 1767225600123456LL);
	assert_ptr_equal(it.msg, &m);
	tb_agg_items_clear(&it, 1);
	free(buf);
}

static void garbage_and_tombstones_on_the_event_topic_are_dead_letters(void **state)
{
	st_t *s = *state;
	tb_kafka_msg_t m[2] = {msg(TB_TOPIC_EVENTS_CORRELATED, 1, "k", "not avro at all", 15),
			       msg(TB_TOPIC_EVENTS_CORRELATED, 2, "k", NULL, 0)};
	tb_agg_item_t it[2];

	assert_int_equal(tb_agg_decode(s->sink, m, 2, it, NULL), 0);
	expect_bad(&it[0], "decode: ");
	expect_bad(&it[1], "decode: empty message (tombstone)");
	tb_agg_items_clear(it, 2);
}

static void an_event_the_database_would_refuse_is_invalid(void **state)
{
	st_t *s = *state;
	size_t len;
	uint8_t *buf = encode_event(s, "t1", 0, &len);
	tb_kafka_msg_t m = msg(TB_TOPIC_EVENTS_CORRELATED, 1, NULL, buf, len);
	tb_agg_item_t it;

	assert_int_equal(tb_agg_decode(s->sink, &m, 1, &it, NULL), 0);
	expect_bad(&it, "invalid: count 0");
	tb_agg_items_clear(&it, 1);
	free(buf);
}

static void an_event_without_tenant_gets_the_configured_one(void **state)
{
	st_t *s = *state;
	size_t len;
	uint8_t *buf = encode_event(s, "", 1, &len);
	tb_kafka_msg_t m = msg(TB_TOPIC_EVENTS_CORRELATED, 1, NULL, buf, len);
	tb_agg_item_t it;

	assert_int_equal(tb_agg_decode(s->sink, &m, 1, &it, NULL), 0);
	assert_int_equal(it.kind, TB_AGG_EVENT);
	assert_string_equal(it.ev.tenant, "fallback");
	tb_agg_items_clear(&it, 1);
	free(buf);
}

static void artifacts_findings_and_their_tombstones_decode_by_topic(void **state)
{
	st_t *s = *state;
	tb_component_t c = {.purl = "pkg:generic/x@1"};
	tb_artifact_t a = {.tenant = "t1", .digest = ART, .components = &c, .n_components = 1};
	char *syms[] = {"parse"};
	tb_finding_t f = {.tenant = "t1",
			  .finding_id = "F-1",
			  .vuln_id = "CVE-1",
			  .purl = "pkg:generic/x@1",
			  .symbols = syms,
			  .n_symbols = 1};
	uint8_t *ab = NULL, *fb = NULL;
	size_t al, fl;
	tb_err_t err;
	tb_kafka_msg_t m[5];
	tb_agg_item_t it[5];

	assert_int_equal(tb_avro_encode_artifact(s->reg, &a, &ab, &al, &err), 0);
	assert_int_equal(tb_avro_encode_finding(s->reg, &f, &fb, &fl, &err), 0);
	m[0] = msg(TB_TOPIC_ARTIFACTS, 1, ART, ab, al);
	m[1] = msg(TB_TOPIC_ARTIFACTS, 2, ART, NULL, 0);
	m[2] = msg(TB_TOPIC_FINDINGS, 1, "F-1", fb, fl);
	m[3] = msg(TB_TOPIC_FINDINGS, 2, "F-1", NULL, 0);
	m[4] = msg(TB_TOPIC_FINDINGS, 3, NULL, NULL, 0);
	assert_int_equal(tb_agg_decode(s->sink, m, 5, it, NULL), 0);
	assert_int_equal(it[0].kind, TB_AGG_ARTIFACT);
	assert_string_equal(it[0].art.components[0].purl, "pkg:generic/x@1");
	assert_int_equal(it[1].kind, TB_AGG_ARTIFACT_DELETE);
	assert_string_equal(it[1].del_key, ART);
	assert_null(it[1].del_tenant); /* no tb-tenant header: every tenant */
	assert_int_equal(it[2].kind, TB_AGG_FINDING);
	assert_string_equal(it[2].fnd.symbols[0], "parse");
	assert_int_equal(it[3].kind, TB_AGG_FINDING_DELETE);
	assert_string_equal(it[3].del_key, "F-1");
	expect_bad(&it[4], "invalid: tombstone without a usable key");
	tb_agg_items_clear(it, 5);
	free(ab);
	free(fb);
}

static void a_record_of_another_type_is_a_dead_letter(void **state)
{
	st_t *s = *state;
	size_t len;
	uint8_t *buf = encode_event(s, "t1", 1, &len);
	tb_kafka_msg_t m[2] = {msg(TB_TOPIC_ARTIFACTS, 1, ART, buf, len),
			       msg("some.other.topic", 1, NULL, buf, len)};
	tb_agg_item_t it[2];

	assert_int_equal(tb_agg_decode(s->sink, m, 2, it, NULL), 0);
	expect_bad(&it[0], "decode: ");
	expect_bad(&it[1], "invalid: message from a topic the aggregator does not read");
	tb_agg_items_clear(it, 2);
	free(buf);
}

static void every_event_message_is_counted_in(void **state)
{
	st_t *s = *state;
	tb_metric_t *in = tb_metrics_counter(s->metrics, "events_in_total", "", NULL);
	int64_t before = tb_metric_get(in);
	tb_kafka_msg_t m[3] = {msg(TB_TOPIC_EVENTS_CORRELATED, 1, NULL, "x", 1),
			       msg(TB_TOPIC_EVENTS_CORRELATED, 2, NULL, "y", 1),
			       msg(TB_TOPIC_FINDINGS, 1, "F", NULL, 0)};
	tb_agg_item_t it[3];

	assert_int_equal(tb_agg_decode(s->sink, m, 3, it, NULL), 0);
	assert_int_equal(tb_metric_get(in) - before, 2);
	tb_agg_items_clear(it, 3);
}

static void reject_turns_a_decoded_item_into_a_dead_letter(void **state)
{
	st_t *s = *state;
	size_t len;
	uint8_t *buf = encode_event(s, "t1", 1, &len);
	tb_kafka_msg_t m = msg(TB_TOPIC_EVENTS_CORRELATED, 1, NULL, buf, len);
	tb_agg_item_t it;

	assert_int_equal(tb_agg_decode(s->sink, &m, 1, &it, NULL), 0);
	tb_agg_item_reject(&it, "store: value too long (SQLSTATE 22001)");
	expect_bad(&it, "store: value too long");
	assert_null(it.ev.tenant); /* the record was released */
	tb_agg_items_clear(&it, 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_valid_event_decodes_with_its_microsecond_time),
	    cmocka_unit_test(garbage_and_tombstones_on_the_event_topic_are_dead_letters),
	    cmocka_unit_test(an_event_the_database_would_refuse_is_invalid),
	    cmocka_unit_test(an_event_without_tenant_gets_the_configured_one),
	    cmocka_unit_test(artifacts_findings_and_their_tombstones_decode_by_topic),
	    cmocka_unit_test(a_record_of_another_type_is_a_dead_letter),
	    cmocka_unit_test(every_event_message_is_counted_in),
	    cmocka_unit_test(reject_turns_a_decoded_item_into_a_dead_letter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
