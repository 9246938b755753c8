/*
 * Unit tests for the timeline-api's traces bodies (services/timeline-api/
 * ingest.c, parsing side; producing is covered by
 * tests/integration/040-api-ingest-and-queries.sh against the dev broker):
 * format detection, Tetragon NDJSON / pretty / back-to-back objects with
 * the adapter's event ids, skipped types counted by name, all-or-nothing
 * failures with line/column/offset, the event cap (413), our trace JSON,
 * the caller's tenant on every event, and the record key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../tb_test.h"

#include "../../../services/timeline-api/ingest.h"
#include "tb/hash.h"
#include "tb/tetragon.h"

static char *fixture(const char *name, size_t *len)
{
	return tb_test_repo_file("tests/data/tetragon", name, len);
}

static tb_api_ingest_opts_t opts(const char *tenant)
{
	tb_api_ingest_opts_t o = {.tenant = tenant};

	tb_req_limits_default(&o.req);
	return o;
}

static int parse(const char *body, size_t len, const tb_api_ingest_opts_t *o, tb_api_ingest_t *in,
		 tb_err_t *err)
{
	tb_err_clear(err);
	return tb_api_ingest_parse(body, len, o, in, err);
}

static void expect_ok(int status, const tb_err_t *err)
{
	if (status != 0)
		fail_msg("expected the body to be accepted, got %d \"%s\"", status, err->msg);
}

static void hex_of(const uint8_t id[TB_EVENT_ID_LEN], char out[33])
{
	tb_hex(id, TB_EVENT_ID_LEN, out);
}

static void ndjson_events_and_skipped_types(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;
	size_t len;
	char *body = fixture("shapes.jsonl", &len);

	(void)state;
	expect_ok(parse(body, len, &o, &in, &err), &err);
	assert_string_equal(in.format, "tetragon");
	assert_int_equal(in.list.n, 8);
	assert_int_equal(in.skipped, 2);
	assert_int_equal(in.n_skips, 2);
	assert_string_equal(in.skips[0].type, "process_connect");
	assert_string_equal(in.skips[1].type, "test");
	for (size_t i = 0; i < in.list.n; i++) {
		assert_string_equal(in.list.events[i].tenant, "acme");
		assert_string_equal(in.list.events[i].source, "tetragon");
	}
	tb_api_ingest_clear(&in);
	free(body);
}

/* The API's ids are the adapter's: each object through tb_tetragon_parse. */
static void event_ids_match_the_shared_parser(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_tetragon_opts_t topts = {.tenant = "acme"};
	tb_api_ingest_t in;
	tb_err_t err;
	size_t len, k = 0;
	char *body = fixture("shapes.jsonl", &len), *line, *save = NULL;
	char exp[33], got[33];

	(void)state;
	expect_ok(parse(body, len, &o, &in, &err), &err);
	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		tb_runtime_event_t ev;

		memset(&ev, 0, sizeof(ev));
		if (tb_tetragon_parse(line, strlen(line), &topts, &ev, NULL, &err) != TB_TETRAGON_OK)
			continue;
		assert_true(k < in.list.n);
		hex_of(ev.event_id, exp);
		hex_of(in.list.events[k].event_id, got);
		if (strcmp(exp, got) != 0)
			fail_msg("event %zu: expected id %s, got %s", k, exp, got);
		tb_runtime_event_clear(&ev);
		k++;
	}
	assert_int_equal(k, in.list.n);
	tb_api_ingest_clear(&in);
	free(body);
}

static void pretty_and_back_to_back_objects(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t a, b;
	tb_err_t err;
	size_t len_p, len_c;
	char *pretty = fixture("v17-kprobe-stacks.pretty.json", &len_p);
	char *compact = fixture("v17-kprobe-stacks.json", &len_c);
	char *two = malloc(len_p + len_c + 1);
	char ia[33], ib[33];

	(void)state;
	memcpy(two, pretty, len_p);
	memcpy(two + len_p, compact, len_c);
	expect_ok(parse(two, len_p + len_c, &o, &a, &err), &err);
	assert_int_equal(a.list.n, 2);
	hex_of(a.list.events[0].event_id, ia);
	hex_of(a.list.events[1].event_id, ib);
	if (strcmp(ia, ib) != 0)
		fail_msg("the pretty and the compact form must give one id: expected %s, got %s", ia, ib);
	expect_ok(parse(compact, len_c, &o, &b, &err), &err);
	assert_int_equal(b.list.n, 1);
	tb_api_ingest_clear(&a);
	tb_api_ingest_clear(&b);
	free(two);
	free(pretty);
	free(compact);
}

static void tenant_is_the_callers(void **state)
{
	tb_api_ingest_opts_t o1 = opts("acme"), o2 = opts("globex");
	tb_api_ingest_t a, b;
	tb_err_t err;
	size_t len;
	char *body = fixture("v17-kprobe-stacks.json", &len);

	(void)state;
	expect_ok(parse(body, len, &o1, &a, &err), &err);
	expect_ok(parse(body, len, &o2, &b, &err), &err);
	assert_string_equal(a.list.events[0].tenant, "acme");
	assert_string_equal(b.list.events[0].tenant, "globex");
	tb_api_ingest_clear(&a);
	tb_api_ingest_clear(&b);
	free(body);
}

static void malformed_line_fails_whole_body_with_position(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;
	size_t len;
	char *body = fixture("malformed.jsonl", &len);
	const char *nl = strchr(body, '\n');

	(void)state;
	assert_int_equal(parse(body, len, &o, &in, &err), 400);
	assert_int_equal(in.has_pos, 1);
	assert_int_equal(in.line, 2);
	assert_int_equal(in.column, 1);
	assert_int_equal(in.offset, (uint64_t)(nl - body + 1));
	if (strncmp(err.msg, "line 2 column 1 (byte ", 22) != 0)
		fail_msg("expected the message to start with the position, got \"%s\"", err.msg);
	tb_api_ingest_clear(&in);
	free(body);
}

static void garbage_truncated_and_empty_bodies_are_400(void **state)
{
	static const char *const bad[] = {"",
					  "   \n\t",
					  "hello",
					  "{\"process_exec\":{}} trailing",
					  "{\"process_exec\":{\"process\":{\"pid\":1}}",
					  "[]x",
					  "42"};
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status = parse(bad[i], strlen(bad[i]), &o, &in, &err);

		if (status != 400)
			fail_msg("body \"%s\": expected 400, got %d (%s)", bad[i], status, err.msg);
		tb_api_ingest_clear(&in);
	}
}

static void object_over_the_size_limit_is_400(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;
	size_t len;
	char *body = fixture("v17-kprobe-stacks.json", &len);

	(void)state;
	o.max_object_bytes = 100;
	assert_int_equal(parse(body, len, &o, &in, &err), 400);
	assert_non_null(strstr(err.msg, "larger than 100 bytes"));
	tb_api_ingest_clear(&in);
	free(body);
}

static void more_events_than_the_cap_is_413(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;
	size_t len;
	char *body = fixture("shapes.jsonl", &len);
	const char *batch =
	    "[{\"node\":\"n\",\"kind\":\"exec\",\"ts_ns\":1},{\"node\":\"n\",\"kind\":\"exec\",\"ts_ns\":2},"
	    "{\"node\":\"n\",\"kind\":\"exec\",\"ts_ns\":3}]";

	(void)state;
	o.req.max_events = 7;
	assert_int_equal(parse(body, len, &o, &in, &err), 413);
	tb_api_ingest_clear(&in);
	o.req.max_events = 8; /* skipped events do not count */
	expect_ok(parse(body, len, &o, &in, &err), &err);
	tb_api_ingest_clear(&in);
	o.req.max_events = 2;
	assert_int_equal(parse(batch, strlen(batch), &o, &in, &err), 413);
	assert_string_equal(err.msg, "3 events in one request, more than 2; split the body");
	tb_api_ingest_clear(&in);
	free(body);
}

static void trace_json_is_detected_and_parsed(void **state)
{
	const char *single = "{\"node\":\"worker-3\",\"kind\":\"uprobe\",\"time\":\"2026-03-14T09:30:00Z\","
			     "\"hook\":\"SSL_read\",\"process\":{\"pid\":42,\"exec_id\":\"worker-3:1:42\"}}";
	const char *bad = "{\"events\":[{\"node\":\"n\",\"kind\":\"warp\",\"ts_ns\":1}]}";
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;
	char key[256];

	(void)state;
	expect_ok(parse(single, strlen(single), &o, &in, &err), &err);
	assert_string_equal(in.format, "trace");
	assert_int_equal(in.list.n, 1);
	assert_string_equal(in.list.events[0].source, "api");
	assert_string_equal(in.list.events[0].tenant, "acme");
	assert_int_equal(tb_api_event_key(&in.list.events[0], key, sizeof(key)), 22);
	assert_string_equal(key, "worker-3/worker-3:1:42");
	tb_api_ingest_clear(&in);
	assert_int_equal(parse(bad, strlen(bad), &o, &in, &err), 400);
	assert_non_null(strstr(err.msg, "kind"));
	tb_api_ingest_clear(&in);
}

static void key_of_an_event_without_node_or_exec_id(void **state)
{
	tb_runtime_event_t ev;
	char key[8];

	(void)state;
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(tb_api_event_key(&ev, key, sizeof(key)), 1);
	assert_string_equal(key, "/");
	ev.node = "a-long-node-name";
	assert_int_equal(tb_api_event_key(&ev, key, sizeof(key)), -1);
}

static void many_skipped_types_collapse_into_other(void **state)
{
	tb_api_ingest_opts_t o = opts("acme");
	tb_api_ingest_t in;
	tb_err_t err;
	char body[4096] = "";

	(void)state;
	for (int i = 0; i < TB_API_SKIP_TYPES + 4; i++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body),
			 "{\"process_legacy_%d\":{\"x\":1}}\n", i);
	expect_ok(parse(body, strlen(body), &o, &in, &err), &err);
	assert_int_equal(in.list.n, 0);
	assert_int_equal(in.skipped, TB_API_SKIP_TYPES + 4);
	assert_int_equal(in.n_skips, TB_API_SKIP_TYPES);
	assert_string_equal(in.skips[0].type, "process_legacy_0");
	assert_string_equal(in.skips[TB_API_SKIP_TYPES - 1].type, "other");
	assert_int_equal(in.skips[TB_API_SKIP_TYPES - 1].n, 5);
	tb_api_ingest_clear(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ndjson_events_and_skipped_types),
	    cmocka_unit_test(event_ids_match_the_shared_parser),
	    cmocka_unit_test(pretty_and_back_to_back_objects),
	    cmocka_unit_test(tenant_is_the_callers),
	    cmocka_unit_test(malformed_line_fails_whole_body_with_position),
	    cmocka_unit_test(garbage_truncated_and_empty_bodies_are_400),
	    cmocka_unit_test(object_over_the_size_limit_is_400),
	    cmocka_unit_test(more_events_than_the_cap_is_413),
	    cmocka_unit_test(trace_json_is_detected_and_parsed),
	    cmocka_unit_test(key_of_an_event_without_node_or_exec_id),
	    cmocka_unit_test(many_skipped_types_collapse_into_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
