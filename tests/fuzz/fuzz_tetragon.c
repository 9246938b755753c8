/*
 * fuzz_tetragon.c — the adapter's Tetragon JSON input, as a file or stdin
 * stream: bytes -> tb_jsonstream objects -> tb_adapter_json_item (which maps
 * each object with tb_tetragon_parse) -> RuntimeEvents or dead letters.
 *
 * Checked beyond "no crash, no leak, no UB":
 *   - every dead letter has a reason starting with its class word
 *     ("json:" or "tetragon:", tb/dlq.h) and a position;
 *   - every event emitted is one the Avro codec writes and reads back
 *     unchanged in its identity (what the adapter's Kafka output does next:
 *     an event we map but cannot encode would stop the input for good);
 *   - the adapter never reports a sink failure (our sink never fails);
 *   - whatever the fast JSON parser (common/tb_jsondom.h) accepts, jansson
 *     accepts too, with the same tree (types, values, member order).
 * The splitter's own limit is small (64 KiB) so TOO_LARGE is reachable.
 * The whole input also goes straight to tb_tetragon_parse (as the
 * timeline-api's POST /runtime/traces passes a body): libFuzzer's buffer
 * ends exactly at `size`, so a read past `len` is caught.
 */
#include "fuzz.h"

#include "../../common/tb_jsondom.h"
#include "../../services/adapter/ingest.h"
#include "tb/avro.h"
#include "tb/jsonstream.h"
#include "tb/metrics.h"
#include "tb/tetragon.h"

static tb_avro_registry_t *g_reg;
static tb_metrics_t *g_metrics;
static tb_adapter_t *g_adapter;

/* The event as the adapter's output would send it, read back. */
static int on_event(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err)
{
	tb_runtime_event_t back = {0};
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)ctx;
	FUZZ_CHECK(tb_avro_encode_runtime_event(g_reg, ev, &buf, &len, err) == 0, "encode: %s", err->msg);
	FUZZ_CHECK(tb_avro_decode_runtime_event(g_reg, buf, len, &back, err) == 0, "decode: %s", err->msg);
	FUZZ_CHECK(memcmp(back.event_id, ev->event_id, TB_EVENT_ID_LEN) == 0, "event_id changed");
	FUZZ_CHECK(fuzz_streq_req(back.kind, ev->kind), "kind \"%s\" read back as \"%s\"", ev->kind,
		   back.kind);
	FUZZ_CHECK(back.ts_ns == ev->ts_ns, "ts_ns changed");
	/* count >= 1, except rate_limit: the number of dropped events (tb/tetragon.h). */
	FUZZ_CHECK(back.count == ev->count &&
		       (ev->count >= 1 || (ev->count == 0 && fuzz_streq(ev->kind, "rate_limit"))),
		   "count %lld of a %s event", (long long)ev->count, ev->kind);
	FUZZ_CHECK(back.n_kernel_frames == ev->n_kernel_frames && back.n_user_frames == ev->n_user_frames,
		   "frame counts changed");
	FUZZ_CHECK(fuzz_streq_req(back.process.exec_id, ev->process.exec_id), "exec_id changed");
	tb_runtime_event_clear(&back);
	free(buf);
	return 0;
}

static int on_dead(void *ctx, const char *reason, const char *topic, int32_t partition, int64_t offset,
		   const char *position, const void *key, size_t key_len, const void *payload, size_t len,
		   tb_err_t *err)
{
	(void)ctx, (void)topic, (void)partition, (void)offset, (void)key, (void)key_len, (void)err;
	FUZZ_CHECK(reason && (strncmp(reason, "json:", 5) == 0 || strncmp(reason, "tetragon:", 9) == 0),
		   "reason \"%s\"", reason ? reason : "(null)");
	FUZZ_CHECK(position && position[0], "dead letter without a position");
	FUZZ_CHECK(payload || len == 0, "payload NULL with %zu bytes", len);
	return 0;
}

static void fuzz_cleanup(void)
{
	tb_adapter_free(g_adapter);
	tb_avro_registry_free(g_reg);
	tb_metrics_free(g_metrics);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	tb_err_t err = {{0}};
	tb_adapter_conf_t c = {.tenant = "fuzz"};

	(void)argc, (void)argv;
	g_metrics = tb_metrics_new("tb_adapter");
	g_reg = tb_avro_registry_new(&err);
	FUZZ_CHECK(g_metrics && g_reg, "setup: %s", err.msg);
	c.reg = g_reg;
	c.metrics = g_metrics;
	c.sink = (tb_adapter_sink_t){on_event, on_dead, NULL};
	g_adapter = tb_adapter_new(&c, &err);
	FUZZ_CHECK(g_adapter, "adapter: %s", err.msg);
	atexit(fuzz_cleanup);
	return 0;
}

/* The fast parser is a strict subset of jansson with the same answers. */
static void check_fast_parser(const uint8_t *data, size_t size)
{
	int fallback;
	tb_jdoc_t *fast = tb_jdoc_parse((const char *)data, size, &fallback), *ref;
	json_error_t je;
	json_t *root;

	if (!fast)
		return;
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	FUZZ_CHECK(root, "fast parser accepted what jansson refuses: %s", je.text);
	ref = tb_jdoc_from_jansson(root);
	json_decref(root);
	FUZZ_CHECK(ref, "out of memory");
	FUZZ_CHECK(tb_jv_equal(tb_jdoc_root(fast), tb_jdoc_root(ref)), "fast and jansson trees differ");
	tb_jdoc_free(ref);
	tb_jdoc_free(fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const tb_adapter_origin_t origin = {.input = "file", .name = "fuzz.json"};
	tb_jsonstream_t *s = tb_jsonstream_new(64 * 1024);
	tb_jsonstream_item_t it;
	tb_runtime_event_t ev = {0};
	tb_tetragon_opts_t opts = {.tenant = "fuzz"};
	tb_tetragon_result_t res;
	tb_err_t err = {{0}};
	tb_tetragon_status_t st;

	FUZZ_CHECK(s, "out of memory");
	FUZZ_CHECK(tb_jsonstream_feed(s, data, size, &err) == 0, "feed: %s", err.msg);
	tb_jsonstream_finish(s);
	while (tb_jsonstream_next(s, &it))
		FUZZ_CHECK(tb_adapter_json_item(g_adapter, &origin, &it, &err) == 0, "json_item: %s",
			   err.msg);
	tb_jsonstream_free(s);
	check_fast_parser(data, size);

	st = tb_tetragon_parse((const char *)data, size, &opts, &ev, &res, &err);
	FUZZ_CHECK(st == TB_TETRAGON_OK || st == TB_TETRAGON_SKIPPED ||
		       (st == TB_TETRAGON_ERROR && err.msg[0]),
		   "status %d without a reason", (int)st);
	if (st == TB_TETRAGON_OK)
		on_event(NULL, &ev, &err);
	tb_runtime_event_clear(&ev);
	return 0;
}
