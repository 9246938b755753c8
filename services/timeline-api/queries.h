/*
 * queries.h — the read side of the timeline-api: SQL for the runtime
 * queries and the JSON (or folded text) made from their rows.
 *
 * Every statement is built from fixed SQL fragments; values (tenant,
 * filters, times, cursor, limit) only ever travel as parameters $1..$n, and
 * $1 is always the caller's tenant, which every table reference is filtered
 * by. Builders are pure so tests can check both properties directly.
 *
 * Index use (schemas/sql/003, 004): the timeline is keyset-paginated on
 * (ts, event_id) — WHERE tenant = $1 [AND filter] AND (ts, event_id) >
 * (cursor) ORDER BY ts, event_id LIMIT n+1 — which walks the primary key
 * (tenant, ts, event_id) or the filter's (tenant, X, ts, event_id) index
 * and stops after n+1 rows, however large the table. Hot symbols read the
 * hot_symbols windows, not observations: 1-hour rows for the whole hours of
 * the range and 1-minute rows for its ragged ends (see tb_api_hot_plan).
 *
 * Times: the timeline's from/to compare with each event's ts (from
 * inclusive, to exclusive, microsecond precision). Hot symbols work at
 * minute precision: a 1-minute window counts when its start is in
 * [from, to).
 */
#ifndef TB_TIMELINE_QUERIES_H
#define TB_TIMELINE_QUERIES_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "jsonw.h"
#include "params.h"

#define TB_API_SQL_MAX 8192
#define TB_API_SQL_PARAMS 24

typedef struct tb_api_sql {
	char text[TB_API_SQL_MAX];
	size_t len;
	int overflow; /* the statement did not fit: a bug, answered with 500 */
	int n;	      /* parameters */
	const char *params[TB_API_SQL_PARAMS];
	char store[TB_API_SQL_PARAMS][64]; /* text of numeric / time parameters */
} tb_api_sql_t;

/* Statements. The request strings must outlive q (params point into them). */
void tb_api_sql_timeline(const tb_api_timeline_req_t *r, const char *tenant, tb_api_sql_t *q);
void tb_api_sql_buckets(const tb_api_timeline_req_t *r, const char *tenant, tb_api_sql_t *q);
void tb_api_sql_hot(const tb_api_hot_req_t *r, const char *tenant, tb_api_sql_t *q);
void tb_api_sql_folded(const tb_api_folded_req_t *r, const char *tenant, tb_api_sql_t *q);

/* Which hot_symbols windows answer [from, to) (see the header comment):
 * hour rows with window_start in [hour_lo, hour_hi) and minute rows in up to
 * two ranges. has_* = 0 means unbounded on that side. Pure. */
typedef struct tb_api_range {
	int has_lo, has_hi;
	int64_t lo_us, hi_us;
} tb_api_range_t;

typedef struct tb_api_hot_plan {
	int use_hours;
	tb_api_range_t hours;
	size_t n_minutes;
	tb_api_range_t minutes[2];
} tb_api_hot_plan_t;

void tb_api_hot_plan(const tb_api_filter_t *f, tb_api_hot_plan_t *plan);

/* Response bodies. res == NULL renders the null-mode answer (no items,
 * "runtime_enabled": false). Return 0, or -1 when a row is not what the
 * statement promises (a bug: answered with 500). */
int tb_api_render_timeline(const PGresult *res, const tb_api_timeline_req_t *r, const char *tenant,
			   tb_jw_t *w);
int tb_api_render_buckets(const PGresult *res, const tb_api_timeline_req_t *r, const char *tenant,
			  tb_jw_t *w);
int tb_api_render_hot(const PGresult *res, const tb_api_hot_req_t *r, tb_jw_t *w);
/* Folded stacks as text lines "root;...;leaf COUNT\n" (w used as a plain
 * buffer); *truncated = 1 when more stacks than the limit existed. */
int tb_api_render_folded(const PGresult *res, const tb_api_folded_req_t *r, tb_jw_t *w, int *truncated);

#endif
