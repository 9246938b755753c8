/*
 * fuzz_http_params.c — the timeline-api's query-string and parameter
 * parsing (params.c): tb_api_qs_parse, the three GET route parsers
 * (timeline, hot-symbols, stacks.folded), times, durations and the opaque
 * pagination cursor; and the findings sub-route matcher (tb_fnd_route).
 *
 * Input: "PATH?QUERY" (the part before the first '?' goes to the route
 * matcher) or just "QUERY". Checked beyond "no crash, no leak, no UB":
 *   - a parsed query string keeps its limits (<= TB_API_QS_MAX pairs,
 *     non-empty keys, values <= TB_API_VALUE_MAX bytes);
 *   - an accepted request has 1 <= limit <= max and from < to;
 *   - every value that parses as a time formats and parses back to itself,
 *     every value that decodes as a cursor encodes and decodes back to it,
 *     and a duration is within 1 s .. 366 d;
 *   - a matched findings route has an id that fits and a known sub-route.
 */
#include "fuzz.h"

#include "../../services/timeline-api/findings.h"
#include "../../services/timeline-api/params.h"

/* A fixed "now" (2026-01-01T00:00:00Z), so runs are reproducible. */
#define FUZZ_NOW_US INT64_C(1767225600000000)

static void check_value(const char *v)
{
	tb_err_t err = {{0}};
	int64_t us, again, secs;
	tb_api_cursor_t c, c2;
	char buf[TB_API_CURSOR_MAX > TB_API_TS_LEN ? TB_API_CURSOR_MAX : TB_API_TS_LEN];

	if (tb_api_parse_time(v, FUZZ_NOW_US, &us, &err) == 0) {
		tb_api_format_time(us, buf);
		FUZZ_CHECK(tb_api_parse_time(buf, FUZZ_NOW_US, &again, &err) == 0 && again == us,
			   "time \"%s\" -> \"%s\" does not read back (%s)", v, buf, err.msg);
	}
	if (tb_api_parse_duration(v, &secs, &err) == 0)
		FUZZ_CHECK(secs >= 1 && secs <= 366 * 86400, "duration \"%s\" = %lld s", v, (long long)secs);
	memset(&c, 0, sizeof(c));
	if (tb_api_cursor_decode(v, &c, &err) == 0) {
		memset(&c2, 0, sizeof(c2));
		tb_api_cursor_encode(&c, buf);
		FUZZ_CHECK(tb_api_cursor_decode(buf, &c2, &err) == 0, "cursor \"%s\" re-encoded \"%s\": %s",
			   v, buf, err.msg);
		FUZZ_CHECK(c2.mode == c.mode && c2.ts_us == c.ts_us && c2.check == c.check &&
			       memcmp(c2.event_id, c.event_id, TB_EVENT_ID_LEN) == 0,
			   "cursor \"%s\" changed through encode/decode", v);
	}
}

static void check_range(const tb_api_filter_t *f, int64_t limit, int64_t max)
{
	FUZZ_CHECK(limit >= 1 && limit <= max, "limit %lld of max %lld", (long long)limit, (long long)max);
	FUZZ_CHECK(!(f->has_from && f->has_to) || f->from_us < f->to_us, "from %lld >= to %lld",
		   (long long)f->from_us, (long long)f->to_us);
}

static void check_routes(const tb_api_qs_t *qs)
{
	tb_api_limits_t lim;
	tb_api_timeline_req_t tl;
	tb_api_hot_req_t hot;
	tb_api_folded_req_t fo;
	tb_err_t err = {{0}};

	tb_api_limits_default(&lim);
	if (tb_api_parse_timeline(qs, &lim, "fuzz", FUZZ_NOW_US, &tl, &err) == 0)
		check_range(&tl.f, tl.limit, lim.max_limit);
	if (tb_api_parse_hot(qs, &lim, FUZZ_NOW_US, &hot, &err) == 0)
		check_range(&hot.f, hot.limit, lim.max_limit);
	if (tb_api_parse_folded(qs, &lim, FUZZ_NOW_US, &fo, &err) == 0)
		check_range(&fo.f, fo.limit, lim.max_stacks);
}

static void check_query(const char *query)
{
	tb_api_qs_t qs;
	tb_err_t err = {{0}};

	memset(&qs, 0, sizeof(qs));
	if (tb_api_qs_parse(query, &qs, &err) == 0) {
		FUZZ_CHECK(qs.n <= TB_API_QS_MAX, "%zu parameters", qs.n);
		for (size_t i = 0; i < qs.n; i++) {
			FUZZ_CHECK(qs.keys[i][0], "empty key");
			FUZZ_CHECK(strlen(qs.vals[i]) <= TB_API_VALUE_MAX, "value of %zu bytes",
				   strlen(qs.vals[i]));
			check_value(qs.vals[i]);
		}
		check_routes(&qs);
	} else {
		FUZZ_CHECK(err.msg[0], "query failure without a reason");
	}
	tb_api_qs_free(&qs);
}

static void check_path(const char *path)
{
	char id[TB_FND_ID_MAX + 1];
	tb_fnd_sub_t sub;

	if (tb_fnd_route(path, id, sizeof(id), &sub) == 0) {
		FUZZ_CHECK(strlen(id) < sizeof(id), "id overflow");
		FUZZ_CHECK((int)sub >= 0 && sub < TB_FND_COUNT, "sub-route %d", (int)sub);
		FUZZ_CHECK(tb_fnd_name(sub) != NULL, "sub-route %d has no name", (int)sub);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *q;

	FUZZ_CHECK(s, "out of memory");
	q = strchr(s, '?');
	if (q) {
		*q++ = '\0';
		check_path(s);
	} else {
		q = s;
	}
	check_query(q);
	check_value(q); /* a whole input as one value: times and cursors without a qs around them */
	free(s);
	return 0;
}
