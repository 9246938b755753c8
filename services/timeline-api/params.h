/*
 * params.h — query-string parsing and validation for the timeline-api's
 * GET routes: times, limits, buckets, sort orders and the opaque
 * pagination cursor. Pure functions (no I/O), so every 400 the API gives for
 * a bad parameter is decided here and unit-tested.
 *
 * Times (from=, to=): RFC 3339 date-times ("2025-01-21T07:30:00Z", any
 * fraction, Z or an offset), "now", or "now-DURATION" ("now-15m"). Kept as
 * microseconds since the epoch, PostgreSQL's precision (finer digits are
 * truncated). from is inclusive, to exclusive, from < to.
 * Durations (bucket=, now-…): a positive integer and a unit s, m, h or d.
 * limit=: 1..max-limit (decimal digits only); default per route.
 * cursor=: what a previous page returned as next_cursor. It encodes the
 * position (ts, event_id) or (next bucket start) and a check over tenant,
 * mode and filters (artifact, purl, symbol, bucket), so a cursor used with
 * other filters or by another tenant is a 400, not a silently wrong page.
 * The time range is not part of the check, so relative ranges ("now-1h")
 * can be paged. Unknown and repeated parameters are 400s too: a typo such as
 * `artifcat=` must not silently widen a query.
 */
#ifndef TB_TIMELINE_PARAMS_H
#define TB_TIMELINE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

#define TB_API_TS_LEN 32      /* "2025-01-21T07:30:00.123456Z" + NUL */
#define TB_API_QS_MAX 32      /* parameters in one query string */
#define TB_API_VALUE_MAX 4096 /* bytes in one decoded value */
#define TB_API_CURSOR_MAX 64  /* encoded cursor + NUL */

/* ---- times ---- */

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (always six fraction digits, UTC). */
void tb_api_format_time(int64_t us, char out[TB_API_TS_LEN]);

/* See the header comment. 0, or -1 with the reason in err. */
int tb_api_parse_time(const char *s, int64_t now_us, int64_t *us, tb_err_t *err);

/* "90s", "15m", "1h", "7d" -> seconds (1 .. 366 days). 0 or -1 + err. */
int tb_api_parse_duration(const char *s, int64_t *secs, tb_err_t *err);

/* ---- query strings ---- */

typedef struct tb_api_qs {
	size_t n;
	char *keys[TB_API_QS_MAX];
	char *vals[TB_API_QS_MAX];
	char *store; /* owns every key and value */
} tb_api_qs_t;

/* Split and percent-decode "a=1&b=x%20y" ('+' is a space in values).
 * NULL or "" gives no parameters. Fails on a malformed %-escape, a decoded
 * NUL byte, an empty key, a value over TB_API_VALUE_MAX bytes or more than
 * TB_API_QS_MAX parameters. `out` is owned by the caller afterwards
 * (tb_api_qs_free), also after a failure. */
int tb_api_qs_parse(const char *query, tb_api_qs_t *out, tb_err_t *err);
void tb_api_qs_free(tb_api_qs_t *qs);
/* The value of `key`, or NULL when absent. */
const char *tb_api_qs_get(const tb_api_qs_t *qs, const char *key);
/* Every key must be in `allowed` (NULL-terminated) and appear once. */
int tb_api_qs_check(const tb_api_qs_t *qs, const char *const *allowed, tb_err_t *err);

/* ---- requests ---- */

typedef struct tb_api_limits {
	int64_t default_limit; /* page size when limit= is absent */
	int64_t max_limit;     /* largest limit= accepted (--max-limit) */
	int64_t max_stacks;    /* largest limit= of stacks.folded (--max-stacks) */
} tb_api_limits_t;

void tb_api_limits_default(tb_api_limits_t *lim);

/* Filters shared by the runtime queries. Strings point into the qs. */
typedef struct tb_api_filter {
	const char *artifact; /* "sha256:<64 hex>" */
	const char *purl;
	const char *symbol; /* leaf symbol name (demangled, as stored) */
	int has_from, has_to;
	int64_t from_us, to_us;
} tb_api_filter_t;

typedef enum tb_api_cursor_mode {
	TB_API_CURSOR_EVENTS = 0,
	TB_API_CURSOR_BUCKETS = 1,
} tb_api_cursor_mode_t;

typedef struct tb_api_cursor {
	tb_api_cursor_mode_t mode;
	int64_t ts_us;			   /* events: last item's ts; buckets: next bucket start */
	uint8_t event_id[TB_EVENT_ID_LEN]; /* events: last item's id; buckets: zero */
	uint64_t check;			   /* tb_api_cursor_check of the query */
} tb_api_cursor_t;

typedef struct tb_api_timeline_req {
	tb_api_filter_t f;
	int64_t bucket_s; /* 0: one item per event */
	int64_t limit;
	int has_cursor;
	tb_api_cursor_t cursor;
} tb_api_timeline_req_t;

typedef enum tb_api_sort {
	TB_API_SORT_HITS = 0,	 /* self count desc, total desc, artifact, symbol id */
	TB_API_SORT_RECENCY = 1, /* last seen desc, self count desc, artifact, symbol id */
} tb_api_sort_t;

typedef struct tb_api_hot_req {
	tb_api_filter_t f; /* artifact, from, to */
	tb_api_sort_t sort;
	int64_t limit;
} tb_api_hot_req_t;

typedef struct tb_api_folded_req {
	tb_api_filter_t f; /* artifact, purl, symbol, from, to */
	int64_t limit;	   /* distinct folded stacks, the heaviest first */
} tb_api_folded_req_t;

/* GET /api/v1/runtime/timeline?artifact=&purl=&symbol=&from=&to=&bucket=&limit=&cursor= */
int tb_api_parse_timeline(const tb_api_qs_t *qs, const tb_api_limits_t *lim, const char *tenant,
			  int64_t now_us, tb_api_timeline_req_t *out, tb_err_t *err);
/* GET /api/v1/runtime/hot-symbols?artifact=&from=&to=&sort=hits|recency&limit= */
int tb_api_parse_hot(const tb_api_qs_t *qs, const tb_api_limits_t *lim, int64_t now_us, tb_api_hot_req_t *out,
		     tb_err_t *err);
/* GET /api/v1/runtime/stacks.folded?artifact=&purl=&symbol=&from=&to=&limit= */
int tb_api_parse_folded(const tb_api_qs_t *qs, const tb_api_limits_t *lim, int64_t now_us,
			tb_api_folded_req_t *out, tb_err_t *err);

/* ---- cursors ---- */

/* The check value binding a cursor to (tenant, mode, filters, bucket). */
uint64_t tb_api_cursor_check(const char *tenant, tb_api_cursor_mode_t mode, const tb_api_filter_t *f,
			     int64_t bucket_s);
/* base64url (no padding) of the cursor into out. */
void tb_api_cursor_encode(const tb_api_cursor_t *c, char out[TB_API_CURSOR_MAX]);
/* Decode; -1 with err when it is not one of ours. */
int tb_api_cursor_decode(const char *s, tb_api_cursor_t *c, tb_err_t *err);

#endif
