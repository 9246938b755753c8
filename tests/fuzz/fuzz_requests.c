/*
 * fuzz_requests.c — the timeline-api's JSON request bodies (requests.c)
 * other than artifacts (fuzz_sbom.c): POST /api/v1/runtime/traces (our
 * trace JSON: one event or a batch), POST /api/v1/findings, and
 * POST /api/v1/findings/{id}/runtime/traces, all on the same bytes.
 *
 * Checked beyond "no crash, no leak, no UB": a failure says why; every
 * accepted trace event and finding-scoped event is one the Avro codec
 * writes and reads back (the API produces it as a RuntimeEvent next) with
 * source "api"; an accepted finding has an id tb_req_check_finding_id
 * accepts and encodes as a Finding record.
 */
#include "fuzz.h"

#include "../../services/timeline-api/requests.h"
#include "tb/avro.h"

/* Fixed event time for finding-scoped traces (2026-01-01T00:00:00Z). */
#define FUZZ_NOW_NS INT64_C(1767225600000000000)

static tb_avro_registry_t *g_reg;

static void check_event(const tb_runtime_event_t *ev)
{
	tb_runtime_event_t back = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_err_t err = {{0}};

	FUZZ_CHECK(fuzz_streq(ev->source, "api"), "source \"%s\"", ev->source ? ev->source : "(null)");
	FUZZ_CHECK(tb_avro_encode_runtime_event(g_reg, ev, &buf, &len, &err) == 0, "encode: %s", err.msg);
	FUZZ_CHECK(tb_avro_decode_runtime_event(g_reg, buf, len, &back, &err) == 0, "decode: %s", err.msg);
	FUZZ_CHECK(memcmp(back.event_id, ev->event_id, TB_EVENT_ID_LEN) == 0, "event_id changed");
	tb_runtime_event_clear(&back);
	free(buf);
}

static void check_finding(const tb_finding_t *f)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256];
	tb_err_t err = {{0}};

	FUZZ_CHECK(f->finding_id && tb_req_check_finding_id(f->finding_id, why, sizeof(why)) == 0,
		   "finding id \"%s\"", f->finding_id ? f->finding_id : "(null)");
	FUZZ_CHECK(tb_avro_encode_finding(g_reg, f, &buf, &len, &err) == 0, "encode: %s", err.msg);
	free(buf);
}

static void fuzz_cleanup(void)
{
	tb_avro_registry_free(g_reg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	tb_err_t err = {{0}};

	(void)argc, (void)argv;
	g_reg = tb_avro_registry_new(&err);
	FUZZ_CHECK(g_reg, "registry: %s", err.msg);
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	tb_req_limits_t lim;
	tb_event_list_t list = {0};
	tb_finding_t f = {0};
	tb_finding_trace_t ft = {0};
	tb_err_t err = {{0}};

	tb_req_limits_default(&lim);
	lim.max_events = 64; /* small, so the limit is reachable */
	lim.max_symbols = 64;
	(void)tb_req_is_trace_json(body, size);

	if (tb_req_parse_traces(body, size, "fuzz", &lim, &list, &err) == 0)
		for (size_t i = 0; i < list.n; i++)
			check_event(&list.events[i]);
	else
		FUZZ_CHECK(err.msg[0], "traces: failure without a reason");
	tb_event_list_clear(&list);

	err.msg[0] = '\0';
	if (tb_req_parse_finding(body, size, &lim, &f, &err) == 0)
		check_finding(&f);
	else
		FUZZ_CHECK(err.msg[0], "finding: failure without a reason");
	tb_finding_clear(&f);

	err.msg[0] = '\0';
	if (tb_req_parse_finding_trace("CVE-2024-0001", body, size, "fuzz", FUZZ_NOW_NS, &ft, &err) == 0)
		check_event(&ft.event);
	else
		FUZZ_CHECK(err.msg[0], "finding trace: failure without a reason");
	tb_finding_trace_clear(&ft);
	return 0;
}
