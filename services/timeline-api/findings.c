/*
 * findings.c — finding-scoped GET routes (findings.h): path parsing, the
 * score formula, and the traces / timeline / score queries.
 *
 * The queries share one CTE (TB_FND_MATCH_CTE; the score and traces its folded
 * form TB_FND_GROUPED_CTE, findings.h): f is the finding row of the
 * caller's tenant, fs its symbols, m the observations that support it, each
 * with its observed symbol (the innermost user frame that matches, found by
 * joining each stack's frame ids to the finding's candidate frames,
 * TB_FND_CANDIDATES_AND_HITS). $1 tenant, $2 finding id, $3/$4
 * the time range [from, to). The handlers first look the finding up (404
 * when the tenant has no such finding), then run one query and render it.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "findings.h"
#include "routes.h"

#define PREFIX "/api/v1/findings/"
#define RUNTIME "/runtime/"

static const char *const sub_names[TB_FND_COUNT] = {"traces", "timeline", "score", "snapshot", "witness"};

int tb_fnd_route(const char *path, char *id, size_t cap, tb_fnd_sub_t *sub)
{
	const char *p, *slash;
	size_t n;

	if (strncmp(path, PREFIX, strlen(PREFIX)) != 0)
		return -1;
	p = path + strlen(PREFIX);
	if (!(slash = strchr(p, '/')))
		return -1;
	n = (size_t)(slash - p);
	if (n == 0 || n >= cap || strncmp(slash, RUNTIME, strlen(RUNTIME)) != 0)
		return -1;
	for (int i = 0; i < TB_FND_COUNT; i++) {
		if (strcmp(slash + strlen(RUNTIME), sub_names[i]) != 0)
			continue;
		memcpy(id, p, n);
		id[n] = '\0';
		*sub = (tb_fnd_sub_t)i;
		return 0;
	}
	return -1;
}

unsigned tb_fnd_methods(tb_fnd_sub_t sub)
{
	return sub == TB_FND_TRACES ? (TB_M_GET | TB_M_POST) : TB_M_GET;
}

unsigned tb_fnd_scope(tb_fnd_sub_t sub, int post)
{
	return sub == TB_FND_TRACES && post ? TB_SCOPE_RUNTIME_WRITE : TB_SCOPE_RUNTIME_READ;
}

const char *tb_fnd_name(tb_fnd_sub_t sub)
{
	static const char *const n[TB_FND_COUNT] = {"finding_traces", "finding_timeline", "finding_score",
						    "finding_snapshot", "finding_witness"};

	return sub < TB_FND_COUNT ? n[sub] : "finding_other";
}

/* ---- score ---- */

tb_fnd_tier_t tb_fnd_tier(const tb_fnd_evidence_t *e)
{
	if (e->uprobe_hits > 0)
		return TB_TIER_UPROBE;
	if (e->stack_hits > 0)
		return TB_TIER_SAMPLED;
	return e->loads > 0 ? TB_TIER_LOAD : TB_TIER_NONE;
}

const char *tb_fnd_tier_name(tb_fnd_tier_t t)
{
	static const char *const n[] = {"none", "load", "sampled", "uprobe"};

	return t <= TB_TIER_UPROBE ? n[t] : "none";
}

#define RECENCY_HALF_LIFE_US (7LL * 86400 * 1000000) /* a week */

double tb_fnd_score(const tb_fnd_evidence_t *e, int64_t as_of_us)
{
	static const double base[] = {0, 10, 35, 70};
	tb_fnd_tier_t t = tb_fnd_tier(e);
	int64_t hits = e->uprobe_hits + e->stack_hits, age;
	double s = base[t], h, paths;

	if (t == TB_TIER_NONE)
		return 0;
	h = log10(1.0 + (double)hits) / 3.0;
	paths = (double)e->call_paths / 5.0;
	s += 10.0 * (h > 1 ? 1 : h) + 10.0 * (paths > 1 ? 1 : paths);
	age = as_of_us - e->last_seen_us;
	s += 10.0 * (age <= 0 ? 1.0 : exp2(-(double)age / (double)RECENCY_HALF_LIFE_US));
	return round(s * 100.0) / 100.0;
}

double tb_fnd_miss_probability(double p, int64_t n)
{
	if (p <= 0)
		return 1;
	if (p >= 1)
		return n > 0 ? 0 : 1;
	return n <= 0 ? 1 : exp((double)n * log1p(-p));
}

int tb_fnd_align(int64_t from_us, int64_t to_us, int64_t bucket_s, int64_t *a_from, int64_t *a_to,
		 int64_t *n_buckets, tb_err_t *err)
{
	int64_t b = bucket_s * 1000000, lo, hi;

	if (bucket_s <= 0)
		return tb_err(err, "bucket: expected a positive duration");
	if (to_us <= from_us)
		return tb_err(err, "from/to: expected from before to");
	lo = from_us >= 0 ? from_us / b * b : -((-from_us + b - 1) / b) * b;
	hi = to_us >= 0 ? (to_us + b - 1) / b * b : -((-to_us) / b) * b;
	if ((hi - lo) / b > TB_FND_MAX_BUCKETS)
		return tb_err(err, "from/to/bucket: %" PRId64 " buckets, at most %d (widen bucket)",
			      (hi - lo) / b, TB_FND_MAX_BUCKETS);
	*a_from = lo;
	*a_to = hi;
	*n_buckets = (hi - lo) / b;
	return 0;
}

/* ---- queries ---- */

const char tb_fnd_traces_sql[] =
    TB_FND_GROUPED_CTE "SELECT symbol, build_id, artifact, purl, sum(n)::int8 AS hits, " TB_FND_US(
	"min(t0)") ", " TB_FND_US("max(t1)") " AS last_us, count(DISTINCT stack_id)::int8 FROM mg GROUP BY "
					     "symbol, build_id, artifact, purl ";

static const char order_hits[] = "ORDER BY hits DESC, last_us DESC, symbol, build_id, artifact LIMIT $5";
static const char order_recency[] = "ORDER BY last_us DESC, hits DESC, symbol, build_id, artifact LIMIT $5";

static const char timeline_sql[] = TB_FND_MATCH_CTE
    ", b AS (SELECT g AS start FROM generate_series($3::timestamptz, $4::timestamptz - "
    "make_interval(secs => $5::float8), make_interval(secs => $5::float8)) g) "
    "SELECT " TB_FND_US(
	"b.start") ", COALESCE(sum(m.count), 0)::int8, count(m.ts)::int8, "
		   "count(DISTINCT m.symbol)::int8 FROM b LEFT JOIN m ON m.ts >= b.start "
		   "AND m.ts < b.start + make_interval(secs => $5::float8) GROUP BY b.start ORDER BY b.start";

/* Over the folded groups (TB_FND_GROUPED_CTE): g holds every observation of the
 * window once (the load, sample and window terms), mg the supporting ones. */
const char tb_fnd_score_sql[] =
    TB_FND_GROUPED_CTE "SELECT (SELECT COALESCE(sum(n), 0) FROM mg WHERE kind = 'uprobe')::int8, "
    "(SELECT COALESCE(sum(n), 0) FROM mg WHERE kind <> 'uprobe')::int8, "
    "(SELECT count(DISTINCT stack_id) FROM mg)::int8, "
    "(SELECT " TB_FND_US("max(t1)") " FROM mg), "
    "(SELECT COALESCE(sum(g.rows), 0) FROM g, f WHERE g.kind = 'load' AND g.purl = f.purl)::int8, "
    "(SELECT " TB_FND_US("max(g.t1)") " FROM g, f WHERE g.kind = 'load' AND g.purl = f.purl), "
    "(SELECT COALESCE(sum(n), 0) FROM g WHERE kind = 'sample')::int8, "
    "(SELECT " TB_FND_US("min(t0)") " FROM g), (SELECT " TB_FND_US("max(t1)") " FROM g), "
    "(SELECT " TB_FND_US("min(t0)") " FROM mg), "
    "(SELECT COALESCE(sum(rows), 0) FROM mg WHERE kind = 'uprobe' AND attached)::int8, "
    "(SELECT " TB_FND_US("min(t0)") " FROM mg WHERE kind = 'uprobe' AND attached), "
    "(SELECT " TB_FND_US("max(t1)") " FROM mg WHERE kind = 'uprobe' AND attached), "
    "(SELECT count(DISTINCT symbol) FROM mg WHERE kind = 'uprobe' AND attached)::int8";

const char tb_fnd_finding_sql[] = "SELECT vuln_id, purl, COALESCE(artifact_digest, ''), " TB_FND_US(
    "registered_at") " FROM findings WHERE tenant = $1 AND finding_id = $2";

static int fail(tb_fnd_ctx_t *c, int status, const char *code)
{
	c->code = code;
	return status;
}

static int db_fail(tb_fnd_ctx_t *c)
{
	int transient = tb_pg_failure_is_transient(c->pg);

	return fail(c, transient ? 503 : 500, transient ? "database_unavailable" : "internal");
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* The finding row: 200 and *out (PQclear it), or an error status. */
static int lookup(tb_fnd_ctx_t *c, PGresult **out, tb_err_t *err)
{
	const char *p[2] = {c->tenant, c->finding_id};
	PGresult *r;

	*out = NULL;
	if (!c->pg)
		return 200;
	if (!(r = tb_pg_query(c->pg, "finding", tb_fnd_finding_sql, 2, p, err)))
		return db_fail(c);
	if (PQntuples(r) == 0) {
		PQclear(r);
		tb_err(err, "no finding %.256s", c->finding_id);
		return fail(c, 404, "not_found");
	}
	*out = r;
	return 200;
}

static int check_params(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, const char *const *allowed, tb_err_t *err)
{
	return tb_api_qs_check(qs, allowed, err) < 0 ? fail(c, 400, "invalid_parameter") : 0;
}

static int parse_range(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, int64_t def_from, int64_t *from, int64_t *to,
		       tb_err_t *err)
{
	const char *f = tb_api_qs_get(qs, "from"), *t = tb_api_qs_get(qs, "to");

	*from = def_from;
	*to = c->now_us;
	if (f && tb_api_parse_time(f, c->now_us, from, err) < 0)
		return fail(c, 400, "invalid_parameter");
	if (t && tb_api_parse_time(t, c->now_us, to, err) < 0)
		return fail(c, 400, "invalid_parameter");
	if (*to <= *from) {
		tb_err(err, "from/to: expected from before to");
		return fail(c, 400, "invalid_parameter");
	}
	return 0;
}

static void ts_param(int64_t us, char out[TB_PG_TS_LEN])
{
	tb_pg_ts(us * 1000, out);
}

static void kv_time(tb_jw_t *w, const char *key, const PGresult *r, int row, int col)
{
	tb_jw_key(w, key);
	if (!r || PQgetisnull(r, row, col))
		tb_jw_null(w);
	else
		tb_jw_time_us(w, col_i64(r, row, col));
}

static void finding_head(tb_fnd_ctx_t *c, const PGresult *f)
{
	tb_jw_kstr(c->w, "finding_id", c->finding_id);
	tb_jw_kstr(c->w, "tenant", c->tenant);
	tb_jw_kbool(c->w, "runtime_enabled", c->pg != NULL);
	if (!f)
		return;
	tb_jw_kstr(c->w, "vuln_id", PQgetvalue(f, 0, 0));
	tb_jw_kstr(c->w, "purl", PQgetvalue(f, 0, 1));
	tb_jw_key(c->w, "artifact_digest");
	if (PQgetvalue(f, 0, 2)[0])
		tb_jw_str(c->w, PQgetvalue(f, 0, 2));
	else
		tb_jw_null(c->w);
}

/* ---- traces ---- */

static int parse_limit(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, int64_t *limit, tb_err_t *err)
{
	const char *l = tb_api_qs_get(qs, "limit");
	char *end;

	*limit = 100;
	if (!l)
		return 0;
	*limit = strtoll(l, &end, 10);
	if (*end || end == l || *limit < 1 || *limit > 10000) {
		tb_err(err, "limit: expected an integer 1..10000, got \"%.32s\"", l);
		return fail(c, 400, "invalid_parameter");
	}
	return 0;
}

static void render_trace_row(tb_jw_t *w, const PGresult *r, int i)
{
	tb_jw_obj(w);
	tb_jw_kstr(w, "symbol", PQgetvalue(r, i, 0));
	tb_jw_kstr(w, "build_id", PQgetvalue(r, i, 1));
	tb_jw_kstr(w, "artifact_digest", PQgetvalue(r, i, 2));
	tb_jw_kstr(w, "purl", PQgetvalue(r, i, 3));
	tb_jw_kint(w, "hits", col_i64(r, i, 4));
	kv_time(w, "first_seen", r, i, 5);
	kv_time(w, "last_seen", r, i, 6);
	tb_jw_kint(w, "call_paths", col_i64(r, i, 7));
	tb_jw_end(w);
}

int tb_fnd_get_traces(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, tb_err_t *err)
{
	static const char *const allowed[] = {"sort", "limit", NULL};
	const char *sort = tb_api_qs_get(qs, "sort");
	char sql[sizeof(tb_fnd_traces_sql) + 128], lim[24];
	const char *p[5] = {c->tenant, c->finding_id, "-infinity", "infinity", lim};
	PGresult *f = NULL, *r = NULL;
	int64_t limit;
	int st;

	if ((st = check_params(c, qs, allowed, err)) || (st = parse_limit(c, qs, &limit, err)))
		return st;
	if (sort && strcmp(sort, "hits") != 0 && strcmp(sort, "recency") != 0) {
		tb_err(err, "sort: expected hits or recency, got \"%.32s\"", sort);
		return fail(c, 400, "invalid_parameter");
	}
	if ((st = lookup(c, &f, err)) != 200)
		return st;
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(sql, sizeof(sql), "%s%s", tb_fnd_traces_sql,
		 sort && !strcmp(sort, "recency") ? order_recency : order_hits);
	if (c->pg && !(r = tb_pg_query(c->pg, "finding traces", sql, 5, p, err))) {
		PQclear(f);
		return db_fail(c);
	}
	tb_jw_obj(c->w);
	finding_head(c, f);
	tb_jw_kstr(c->w, "sort", sort ? sort : "hits");
	tb_jw_key(c->w, "traces");
	tb_jw_arr(c->w);
	for (int i = 0; r && i < PQntuples(r); i++)
		render_trace_row(c->w, r, i);
	tb_jw_end(c->w);
	tb_jw_end(c->w);
	PQclear(f);
	PQclear(r);
	return 200;
}

/* ---- timeline ---- */

int tb_fnd_get_timeline(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, tb_err_t *err)
{
	static const char *const allowed[] = {"from", "to", "bucket", NULL};
	const char *bs = tb_api_qs_get(qs, "bucket");
	char t0[TB_PG_TS_LEN], t1[TB_PG_TS_LEN], secs[24];
	const char *p[5] = {c->tenant, c->finding_id, t0, t1, secs};
	int64_t from, to, bucket = 3600, a0, a1, nb;
	PGresult *f = NULL, *r = NULL;
	int st;

	if ((st = check_params(c, qs, allowed, err)))
		return st;
	if (bs && tb_api_parse_duration(bs, &bucket, err) < 0)
		return fail(c, 400, "invalid_parameter");
	if ((st = parse_range(c, qs, c->now_us - 86400LL * 1000000, &from, &to, err)))
		return st;
	if (tb_fnd_align(from, to, bucket, &a0, &a1, &nb, err) < 0)
		return fail(c, 400, "invalid_parameter");
	if ((st = lookup(c, &f, err)) != 200)
		return st;
	ts_param(a0, t0);
	ts_param(a1, t1);
	snprintf(secs, sizeof(secs), "%" PRId64, bucket);
	if (c->pg && !(r = tb_pg_query(c->pg, "finding timeline", timeline_sql, 5, p, err))) {
		PQclear(f);
		return db_fail(c);
	}
	tb_jw_obj(c->w);
	finding_head(c, f);
	tb_jw_key(c->w, "from");
	tb_jw_time_us(c->w, a0);
	tb_jw_key(c->w, "to");
	tb_jw_time_us(c->w, a1);
	tb_jw_kint(c->w, "bucket_seconds", bucket);
	tb_jw_key(c->w, "buckets");
	tb_jw_arr(c->w);
	/* Null mode: nothing is stored, so there are no buckets (empty results,
	 * like every other query), not a range of zeros. */
	for (int64_t i = 0; c->pg && i < nb; i++) {
		int row = (int)i, have = r && row < PQntuples(r);

		tb_jw_obj(c->w);
		tb_jw_key(c->w, "start");
		tb_jw_time_us(c->w, a0 + i * bucket * 1000000);
		tb_jw_kint(c->w, "hits", have ? col_i64(r, row, 1) : 0);
		tb_jw_kint(c->w, "observations", have ? col_i64(r, row, 2) : 0);
		tb_jw_kint(c->w, "symbols", have ? col_i64(r, row, 3) : 0);
		tb_jw_end(c->w);
	}
	tb_jw_end(c->w);
	tb_jw_end(c->w);
	PQclear(f);
	PQclear(r);
	return 200;
}

/* ---- score ---- */

static void raw_double(tb_jw_t *w, const char *key, double v, const char *fmt)
{
	char buf[48];

	snprintf(buf, sizeof(buf), fmt, v);
	tb_jw_key(w, key);
	tb_jw_raw(w, buf, strlen(buf));
	w->after_key = 0; /* tb_jw_raw writes no separator state of its own */
}

static int parse_share(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, double *p, tb_err_t *err)
{
	const char *s = tb_api_qs_get(qs, "cpuShare");
	char *end;

	*p = TB_FND_DEFAULT_CPU_SHARE;
	if (!s)
		return 0;
	*p = strtod(s, &end);
	if (*end || end == s || !(*p > 0 && *p < 1)) {
		tb_err(err, "cpuShare: expected a number in (0, 1), got \"%.32s\"", s);
		return fail(c, 400, "invalid_parameter");
	}
	return 0;
}

/* Attached uprobes on the finding's symbols that reported: hits are exact,
 * so 0 hits over the window means the functions did not run while watched. */
static void render_uprobes(tb_jw_t *w, const PGresult *r)
{
	tb_jw_key(w, "uprobes");
	tb_jw_obj(w);
	tb_jw_kbool(w, "attached", r && col_i64(r, 0, 10) > 0);
	tb_jw_kint(w, "reports", r ? col_i64(r, 0, 10) : 0);
	tb_jw_kint(w, "symbols", r ? col_i64(r, 0, 13) : 0);
	tb_jw_kint(w, "hits", r ? col_i64(r, 0, 0) : 0);
	tb_jw_key(w, "window");
	tb_jw_obj(w);
	kv_time(w, "from", r, 0, 11);
	kv_time(w, "to", r, 0, 12);
	tb_jw_end(w);
	tb_jw_end(w);
}

static void render_negative(tb_jw_t *w, const PGresult *r, double share, int64_t samples)
{
	tb_jw_key(w, "negative_evidence");
	tb_jw_obj(w);
	tb_jw_key(w, "window");
	tb_jw_obj(w);
	kv_time(w, "from", r, 0, 7);
	kv_time(w, "to", r, 0, 8);
	tb_jw_end(w);
	tb_jw_kint(w, "samples", samples);
	raw_double(w, "cpu_share", share, "%.6g");
	raw_double(w, "miss_probability", tb_fnd_miss_probability(share, samples), "%.6g");
	tb_jw_kstr(w, "formula", "(1 - cpu_share) ^ samples");
	render_uprobes(w, r);
	tb_jw_end(w);
}

int tb_fnd_get_score(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, tb_err_t *err)
{
	static const char *const allowed[] = {"from", "to", "cpuShare", NULL};
	char t0[TB_PG_TS_LEN], t1[TB_PG_TS_LEN];
	const char *p[4] = {c->tenant, c->finding_id, t0, t1};
	tb_fnd_evidence_t e = {0};
	PGresult *f = NULL, *r = NULL;
	int64_t from, to, samples = 0;
	double share;
	int st;

	if ((st = check_params(c, qs, allowed, err)) || (st = parse_share(c, qs, &share, err)) ||
	    (st = parse_range(c, qs, 0, &from, &to, err)))
		return st;
	if ((st = lookup(c, &f, err)) != 200)
		return st;
	ts_param(from, t0);
	ts_param(to, t1);
	if (c->pg && !(r = tb_pg_query(c->pg, "finding score", tb_fnd_score_sql, 4, p, err))) {
		PQclear(f);
		return db_fail(c);
	}
	if (r) {
		e.uprobe_hits = col_i64(r, 0, 0);
		e.stack_hits = col_i64(r, 0, 1);
		e.call_paths = col_i64(r, 0, 2);
		e.loads = col_i64(r, 0, 4);
		e.last_seen_us = col_i64(r, 0, e.uprobe_hits + e.stack_hits > 0 ? 3 : 5);
		samples = col_i64(r, 0, 6);
	}
	tb_jw_obj(c->w);
	finding_head(c, f);
	raw_double(c->w, "score", tb_fnd_score(&e, c->now_us), "%.2f");
	tb_jw_kstr(c->w, "tier", tb_fnd_tier_name(tb_fnd_tier(&e)));
	tb_jw_kbool(c->w, "reached", e.uprobe_hits + e.stack_hits > 0);
	tb_jw_kint(c->w, "hits", e.uprobe_hits + e.stack_hits);
	tb_jw_kint(c->w, "uprobe_hits", e.uprobe_hits);
	tb_jw_kint(c->w, "stack_hits", e.stack_hits);
	tb_jw_kint(c->w, "call_paths", e.call_paths);
	tb_jw_kint(c->w, "loads", e.loads);
	kv_time(c->w, "first_seen", r, 0, 9);
	kv_time(c->w, "last_seen", r, 0, e.uprobe_hits + e.stack_hits > 0 ? 3 : 5);
	tb_jw_key(c->w, "observation_window");
	tb_jw_obj(c->w);
	kv_time(c->w, "from", r, 0, 7);
	kv_time(c->w, "to", r, 0, 8);
	tb_jw_end(c->w);
	if (e.uprobe_hits + e.stack_hits == 0)
		render_negative(c->w, r, share, samples);
	tb_jw_kstr(c->w, "formula", "docs/FINDINGS-API.md#score");
	tb_jw_end(c->w);
	PQclear(f);
	PQclear(r);
	return 200;
}
