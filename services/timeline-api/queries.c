/*
 * queries.c — SQL and rendering of the runtime queries (queries.h).
 *
 * A statement is assembled with sql_add (fixed text) and param_* (values,
 * which return the "$k" placeholder to splice in). Times travel as
 * timestamptz text (tb_pg_ts) and come back as integer microseconds since
 * the epoch (extract(epoch ...) is exact numeric in PostgreSQL 14+), so
 * cursors and RFC 3339 output never go through floating point.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queries.h"
#include "tb/pg.h"

#define US_MIN INT64_C(60000000)
#define US_HOUR INT64_C(3600000000)
#define TS_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* ---- statement building ---- */

static void sql_init(tb_api_sql_t *q)
{
	memset(q, 0, sizeof(*q));
}

__attribute__((format(printf, 2, 3))) static void sql_add(tb_api_sql_t *q, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (q->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(q->text + q->len, sizeof(q->text) - q->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->text) - q->len) {
		q->overflow = 1;
		return;
	}
	q->len += (size_t)n;
}

/* Register a parameter value; returns its number (1-based). */
static int param(tb_api_sql_t *q, const char *v)
{
	if (q->n >= TB_API_SQL_PARAMS) {
		q->overflow = 1;
		return 1;
	}
	q->params[q->n] = v;
	return ++q->n;
}

static int param_int(tb_api_sql_t *q, int64_t v)
{
	if (q->n >= TB_API_SQL_PARAMS) {
		q->overflow = 1;
		return 1;
	}
	snprintf(q->store[q->n], sizeof(q->store[0]), "%" PRId64, v);
	return param(q, q->store[q->n]);
}

static int param_ts(tb_api_sql_t *q, int64_t us)
{
	char ts[TB_PG_TS_LEN];

	if (q->n >= TB_API_SQL_PARAMS) {
		q->overflow = 1;
		return 1;
	}
	tb_pg_ts(us * 1000, ts);
	snprintf(q->store[q->n], sizeof(q->store[0]), "%s", ts);
	return param(q, q->store[q->n]);
}

static int param_bytea(tb_api_sql_t *q, const uint8_t *b, size_t n)
{
	if (q->n >= TB_API_SQL_PARAMS || 2 * n + 3 > sizeof(q->store[0])) {
		q->overflow = 1;
		return 1;
	}
	tb_pg_bytea_hex(b, n, q->store[q->n]);
	return param(q, q->store[q->n]);
}

/* The WHERE conditions every observation query shares (tenant is $1). */
static void observation_filters(tb_api_sql_t *q, const tb_api_filter_t *f)
{
	if (f->artifact)
		sql_add(q, " AND o.artifact_digest = $%d AND o.artifact_digest <> ''", param(q, f->artifact));
	if (f->purl)
		sql_add(q, " AND o.purl = $%d", param(q, f->purl));
	if (f->symbol)
		sql_add(
		    q,
		    " AND o.leaf_symbol_id IS NOT NULL AND o.leaf_symbol_id = ANY (ARRAY(SELECT sy.symbol_id "
		    "FROM symbols sy WHERE sy.tenant = $1 AND sy.name = $%d))",
		    param(q, f->symbol));
	if (f->has_from)
		sql_add(q, " AND o.ts >= $%d::timestamptz", param_ts(q, f->from_us));
	if (f->has_to)
		sql_add(q, " AND o.ts < $%d::timestamptz", param_ts(q, f->to_us));
}

void tb_api_sql_timeline(const tb_api_timeline_req_t *r, const char *tenant, tb_api_sql_t *q)
{
	sql_init(q);
	param(q, tenant);
	sql_add(
	    q, "SELECT " TS_US(
		   "o.ts") ", encode(o.event_id, 'hex'), o.kind, o.source, o.node, o.namespace, "
			   "o.workload, o.image_digest, o.artifact_digest, o.purl, s.name, s.build_id, "
			   "s.module, o.count, "
			   "o.correlation, o.stack_id "
			   "FROM observations o LEFT JOIN symbols s ON s.tenant = o.tenant AND s.symbol_id = "
			   "o.leaf_symbol_id "
			   "WHERE o.tenant = $1");
	observation_filters(q, &r->f);
	if (r->has_cursor) {
		int ts = param_ts(q, r->cursor.ts_us);
		int id = param_bytea(q, r->cursor.event_id, TB_EVENT_ID_LEN);

		/* The row comparison walks the index; the plain bound on ts also lets
		 * the planner skip the day partitions before the cursor. */
		sql_add(
		    q,
		    " AND o.ts >= $%d::timestamptz AND (o.ts, o.event_id) > ($%d::timestamptz, $%d::bytea)",
		    ts, ts, id);
	}
	sql_add(q, " ORDER BY o.ts, o.event_id LIMIT $%d", param_int(q, r->limit + 1));
}

void tb_api_sql_buckets(const tb_api_timeline_req_t *r, const char *tenant, tb_api_sql_t *q)
{
	int w;

	sql_init(q);
	param(q, tenant);
	w = param_int(q, r->bucket_s);
	/* Buckets are aligned to multiples of their width since the epoch, so
	 * pages and different ranges agree on bucket boundaries. */
	sql_add(
	    q,
	    "SELECT " TS_US("b.start") ", sum(b.count)::bigint, count(*) FROM (SELECT date_bin(make_interval("
				       "secs => $%d::bigint), o.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS "
				       "start, o.count "
				       "FROM observations o WHERE o.tenant = $1",
	    w);
	observation_filters(q, &r->f);
	if (r->has_cursor)
		sql_add(q, " AND o.ts >= $%d::timestamptz", param_ts(q, r->cursor.ts_us));
	sql_add(q, ") b GROUP BY b.start ORDER BY b.start LIMIT $%d", param_int(q, r->limit + 1));
}

/* ---- hot symbols ---- */

static int64_t floor_to(int64_t v, int64_t step)
{
	int64_t r = v % step;

	return r < 0 ? v - r - step : v - r;
}

static int64_t ceil_to(int64_t v, int64_t step)
{
	int64_t f = floor_to(v, step);

	return f == v ? v : f + step;
}

void tb_api_hot_plan(const tb_api_filter_t *f, tb_api_hot_plan_t *plan)
{
	int64_t fm = 0, tm = 0, hs = 0, he = 0;

	memset(plan, 0, sizeof(*plan));
	/* Minute windows [m, m + 60 s) count when from <= m < to: m in [fm, tm). */
	if (f->has_from)
		fm = ceil_to(f->from_us, US_MIN);
	if (f->has_to)
		tm = ceil_to(f->to_us, US_MIN);
	if (f->has_from)
		hs = ceil_to(fm, US_HOUR);
	if (f->has_to)
		he = floor_to(tm, US_HOUR);
	if (!f->has_from || !f->has_to || hs < he) {
		plan->use_hours = 1;
		plan->hours =
		    (tb_api_range_t){.has_lo = f->has_from, .has_hi = f->has_to, .lo_us = hs, .hi_us = he};
		if (f->has_from && fm < hs)
			plan->minutes[plan->n_minutes++] =
			    (tb_api_range_t){.has_lo = 1, .has_hi = 1, .lo_us = fm, .hi_us = hs};
		if (f->has_to && he < tm)
			plan->minutes[plan->n_minutes++] =
			    (tb_api_range_t){.has_lo = 1, .has_hi = 1, .lo_us = he, .hi_us = tm};
		return;
	}
	if (fm < tm)
		plan->minutes[plan->n_minutes++] =
		    (tb_api_range_t){.has_lo = 1, .has_hi = 1, .lo_us = fm, .hi_us = tm};
}

static void hot_part(tb_api_sql_t *q, const tb_api_hot_req_t *r, int width, const tb_api_range_t *rg,
		     int first)
{
	/* With artifact=, every row has that artifact: it is not carried (nor
	 * hashed) per row, the aggregate names it once (tb_api_sql_hot). */
	sql_add(q,
		"%sSELECT %sh.symbol_id, h.self_count, h.total_count, h.first_seen, h.last_seen "
		"FROM hot_symbols h WHERE h.tenant = $1",
		first ? "" : " UNION ALL ", r->f.artifact ? "" : "h.artifact_digest, ");
	if (r->f.artifact)
		sql_add(q, " AND h.artifact_digest = $%d", param(q, r->f.artifact));
	sql_add(q, " AND h.width = %d", width);
	if (!rg)
		sql_add(q, " AND false");
	if (rg && rg->has_lo)
		sql_add(q, " AND h.window_start >= $%d::timestamptz", param_ts(q, rg->lo_us));
	if (rg && rg->has_hi)
		sql_add(q, " AND h.window_start < $%d::timestamptz", param_ts(q, rg->hi_us));
}

static void hot_order(tb_api_sql_t *q, const tb_api_hot_req_t *r, const char *a)
{
	if (r->sort == TB_API_SORT_RECENCY)
		sql_add(q, "%slast_seen DESC, %sself_count DESC, %stotal_count DESC", a, a, a);
	else
		sql_add(q, "%sself_count DESC, %stotal_count DESC, %slast_seen DESC", a, a, a);
	sql_add(q, ", %sartifact_digest, %ssymbol_id", a, a);
}

void tb_api_sql_hot(const tb_api_hot_req_t *r, const char *tenant, tb_api_sql_t *q)
{
	tb_api_hot_plan_t plan;
	int parts = 0;

	sql_init(q);
	param(q, tenant);
	tb_api_hot_plan(&r->f, &plan);
	sql_add(q, "WITH w AS (");
	if (plan.use_hours)
		hot_part(q, r, 3600, &plan.hours, parts++ == 0);
	for (size_t i = 0; i < plan.n_minutes; i++)
		hot_part(q, r, 60, &plan.minutes[i], parts++ == 0);
	if (parts == 0)
		hot_part(q, r, 60, NULL, 1); /* an empty range: no window qualifies */
	if (r->f.artifact)
		sql_add(q, "), agg AS (SELECT $%d::text AS artifact_digest, ", param(q, r->f.artifact));
	else
		sql_add(q, "), agg AS (SELECT artifact_digest, ");
	sql_add(q,
		"symbol_id, sum(self_count)::bigint AS self_count, "
		"sum(total_count)::bigint AS total_count, min(first_seen) AS first_seen, max(last_seen) AS "
		"last_seen FROM w GROUP BY %ssymbol_id) ",
		r->f.artifact ? "" : "artifact_digest, ");
	sql_add(q,
		"SELECT a.artifact_digest, a.symbol_id, s.name, s.build_id, s.module, s.purl, a.self_count, "
		"a.total_count, " TS_US("a.first_seen") ", " TS_US(
		    "a.last_seen") " FROM (SELECT * FROM agg ORDER BY ");
	/* The top rows first, then their names: the order is total (it ends in the
	 * key), so joining symbols to the LIMIT rows only gives the same answer
	 * as joining every aggregated symbol (~4 000 an artifact-day) first. */
	hot_order(q, r, "");
	sql_add(q, " LIMIT $%d) a LEFT JOIN symbols s ON s.tenant = $1 AND s.symbol_id = a.symbol_id ORDER BY ",
		param_int(q, r->limit));
	hot_order(q, r, "a.");
}

/* ---- folded stacks ---- */

void tb_api_sql_folded(const tb_api_folded_req_t *r, const char *tenant, tb_api_sql_t *q)
{
	sql_init(q);
	param(q, tenant);
	sql_add(q, "WITH s AS (SELECT o.stack_id, sum(o.count)::bigint AS n FROM observations o "
		   "WHERE o.tenant = $1 AND o.stack_id <> 0");
	observation_filters(q, &r->f);
	/* Frame names: the symbol, else module+0xoffset; kernel frames get the
	 * usual _[k] suffix; ';' and line breaks would break the format. frame_ids
	 * are innermost first, so aggregate by descending ordinality (root first). */
	sql_add(
	    q,
	    " GROUP BY o.stack_id), lines AS (SELECT s.n, (SELECT string_agg(CASE "
	    "WHEN fr.frame_id IS NULL THEN '[unknown]' "
	    "WHEN coalesce(sy.name, '') <> '' THEN translate(sy.name, ';' || chr(10) || chr(13), ':  ') "
	    "ELSE translate(coalesce(nullif(sy.module, ''), '[unknown]'), ';' || chr(10) || chr(13), ':  ') "
	    "|| '+0x' || to_hex(fr.file_offset) END "
	    "|| CASE WHEN fr.kernel THEN '_[k]' ELSE '' END, ';' ORDER BY f.ord DESC) "
	    "FROM unnest(st.frame_ids) WITH ORDINALITY AS f(frame_id, ord) "
	    "LEFT JOIN frames fr ON fr.tenant = $1 AND fr.frame_id = f.frame_id "
	    "LEFT JOIN symbols sy ON sy.tenant = $1 AND sy.symbol_id = fr.symbol_id) AS folded "
	    "FROM s JOIN stacks st ON st.tenant = $1 AND st.stack_id = s.stack_id) "
	    "SELECT folded, sum(n)::bigint FROM lines WHERE folded IS NOT NULL GROUP BY folded "
	    "ORDER BY 2 DESC, 1 LIMIT $%d",
	    param_int(q, r->limit + 1));
}

/* ---- rendering ---- */

static const char *col(const PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

/* Text column as a JSON string; NULL and '' become null. */
static void kcol(tb_jw_t *w, const char *key, const PGresult *res, int row, int c)
{
	const char *v = col(res, row, c);

	tb_jw_kstr(w, key, v && *v ? v : NULL);
}

static int int_col(const PGresult *res, int row, int c, int64_t *out)
{
	const char *v = col(res, row, c);
	char *end;

	if (!v)
		return -1;
	*out = strtoll(v, &end, 10);
	return *end == '\0' && end != v ? 0 : -1;
}

static int hex_id(const char *hex, uint8_t out[TB_EVENT_ID_LEN])
{
	for (int i = 0; i < TB_EVENT_ID_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return hex[2 * TB_EVENT_ID_LEN] == '\0' ? 0 : -1;
}

static void kid64(tb_jw_t *w, const char *key, int64_t v)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)v);
	tb_jw_kstr(w, key, v ? hex : NULL);
}

static void page_end(tb_jw_t *w, const char *cursor, int enabled)
{
	tb_jw_end(w); /* items */
	tb_jw_kstr(w, "next_cursor", cursor);
	tb_jw_kbool(w, "runtime_enabled", enabled);
	tb_jw_end(w);
}

int tb_api_render_timeline(const PGresult *res, const tb_api_timeline_req_t *r, const char *tenant,
			   tb_jw_t *w)
{
	int rows = res ? PQntuples(res) : 0, shown = rows > r->limit ? (int)r->limit : rows;
	char cursor[TB_API_CURSOR_MAX];
	tb_api_cursor_t c = {.mode = TB_API_CURSOR_EVENTS};
	int64_t ts, count, stack;

	if (res && PQnfields(res) != 16)
		return -1;
	tb_jw_obj(w);
	tb_jw_key(w, "items");
	tb_jw_arr(w);
	for (int i = 0; i < shown; i++) {
		const char *id = col(res, i, 1);

		if (int_col(res, i, 0, &ts) < 0 || int_col(res, i, 13, &count) < 0 ||
		    int_col(res, i, 15, &stack) < 0 || !id || hex_id(id, c.event_id) < 0)
			return -1;
		c.ts_us = ts;
		tb_jw_obj(w);
		tb_jw_key(w, "ts");
		tb_jw_time_us(w, ts);
		tb_jw_kstr(w, "event_id", id);
		kcol(w, "kind", res, i, 2);
		kcol(w, "source", res, i, 3);
		kcol(w, "node", res, i, 4);
		kcol(w, "namespace", res, i, 5);
		kcol(w, "workload", res, i, 6);
		kcol(w, "image_digest", res, i, 7);
		kcol(w, "artifact_digest", res, i, 8);
		kcol(w, "purl", res, i, 9);
		kcol(w, "symbol", res, i, 10);
		kcol(w, "build_id", res, i, 11);
		kcol(w, "module", res, i, 12);
		tb_jw_kint(w, "count", count);
		kcol(w, "correlation", res, i, 14);
		kid64(w, "stack_id", stack);
		tb_jw_end(w);
	}
	c.check = tb_api_cursor_check(tenant, TB_API_CURSOR_EVENTS, &r->f, 0);
	if (rows > r->limit)
		tb_api_cursor_encode(&c, cursor);
	page_end(w, rows > r->limit ? cursor : NULL, res != NULL);
	return 0;
}

int tb_api_render_buckets(const PGresult *res, const tb_api_timeline_req_t *r, const char *tenant, tb_jw_t *w)
{
	int rows = res ? PQntuples(res) : 0, shown = rows > r->limit ? (int)r->limit : rows;
	int64_t width = r->bucket_s * 1000000, start = 0, sum, events;
	char cursor[TB_API_CURSOR_MAX];
	tb_api_cursor_t c = {.mode = TB_API_CURSOR_BUCKETS};

	if (res && PQnfields(res) != 3)
		return -1;
	tb_jw_obj(w);
	tb_jw_kint(w, "bucket_seconds", r->bucket_s);
	tb_jw_key(w, "items");
	tb_jw_arr(w);
	for (int i = 0; i < shown; i++) {
		if (int_col(res, i, 0, &start) < 0 || int_col(res, i, 1, &sum) < 0 ||
		    int_col(res, i, 2, &events) < 0)
			return -1;
		tb_jw_obj(w);
		tb_jw_key(w, "start");
		tb_jw_time_us(w, start);
		tb_jw_key(w, "end");
		tb_jw_time_us(w, start + width);
		tb_jw_kint(w, "count", sum);
		tb_jw_kint(w, "events", events);
		tb_jw_end(w);
	}
	c.ts_us = start + width; /* the next page starts at the following bucket */
	c.check = tb_api_cursor_check(tenant, TB_API_CURSOR_BUCKETS, &r->f, r->bucket_s);
	if (rows > r->limit)
		tb_api_cursor_encode(&c, cursor);
	page_end(w, rows > r->limit ? cursor : NULL, res != NULL);
	return 0;
}

int tb_api_render_hot(const PGresult *res, const tb_api_hot_req_t *r, tb_jw_t *w)
{
	int rows = res ? PQntuples(res) : 0;
	int64_t id, self, total, first, last;

	if (res && PQnfields(res) != 10)
		return -1;
	tb_jw_obj(w);
	tb_jw_kstr(w, "sort", r->sort == TB_API_SORT_RECENCY ? "recency" : "hits");
	tb_jw_key(w, "items");
	tb_jw_arr(w);
	for (int i = 0; i < rows; i++) {
		if (int_col(res, i, 1, &id) < 0 || int_col(res, i, 6, &self) < 0 ||
		    int_col(res, i, 7, &total) < 0 || int_col(res, i, 8, &first) < 0 ||
		    int_col(res, i, 9, &last) < 0)
			return -1;
		tb_jw_obj(w);
		kcol(w, "symbol", res, i, 2);
		kid64(w, "symbol_id", id);
		kcol(w, "build_id", res, i, 3);
		kcol(w, "module", res, i, 4);
		kcol(w, "purl", res, i, 5);
		kcol(w, "artifact_digest", res, i, 0);
		tb_jw_kint(w, "self_count", self);
		tb_jw_kint(w, "total_count", total);
		tb_jw_key(w, "first_seen");
		tb_jw_time_us(w, first);
		tb_jw_key(w, "last_seen");
		tb_jw_time_us(w, last);
		tb_jw_end(w);
	}
	tb_jw_end(w);
	tb_jw_kbool(w, "runtime_enabled", res != NULL);
	tb_jw_end(w);
	return 0;
}

int tb_api_render_folded(const PGresult *res, const tb_api_folded_req_t *r, tb_jw_t *w, int *truncated)
{
	int rows = res ? PQntuples(res) : 0, shown = rows > r->limit ? (int)r->limit : rows;
	char num[32];
	int64_t n;

	*truncated = rows > r->limit;
	if (res && PQnfields(res) != 2)
		return -1;
	for (int i = 0; i < shown; i++) {
		const char *line = col(res, i, 0);

		if (!line || int_col(res, i, 1, &n) < 0)
			return -1;
		tb_jw_raw(w, line, strlen(line));
		snprintf(num, sizeof(num), " %" PRId64 "\n", n);
		tb_jw_raw(w, num, strlen(num));
	}
	return 0;
}
