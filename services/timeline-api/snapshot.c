/*
 * snapshot.c — finding snapshots and DSSE witnesses (snapshot.h).
 *
 * build_snapshot runs five parameterised, tenant-filtered queries (finding,
 * symbols, traces, aggregates, observations; every ordering ends in
 * COLLATE "C" columns or unique keys so that row order never depends on
 * the plan or the locale), puts them into a jansson object with integer and
 * string values only, and canonjson.c turns it into bytes. The witness
 * reuses the snapshot object for its predicate.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "canonjson.h"
#include "snapshot.h"
#include "tb/hash.h"

/* ---- key ---- */

int tb_witness_key_from_seed(const unsigned char seed[crypto_sign_ed25519_SEEDBYTES], tb_witness_key_t *k)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	if (sodium_init() < 0 || crypto_sign_ed25519_seed_keypair(k->pk, k->sk, seed) != 0)
		return -1;
	crypto_hash_sha256(h, k->pk, sizeof(k->pk));
	tb_hex(h, sizeof(h), k->keyid);
	k->present = 1;
	return 0;
}

int tb_witness_key_load(const char *path, tb_witness_key_t *k, tb_err_t *err)
{
	unsigned char raw[160], seed[crypto_sign_ed25519_SEEDBYTES];
	size_t n, a = 0, bin_len = 0;
	FILE *f = fopen(path, "rb");
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (!f)
		return tb_err(err, "witness key %s: %s", path, strerror(errno));
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	if (n == crypto_sign_ed25519_SEEDBYTES) {
		memcpy(seed, raw, sizeof(seed));
	} else {
		while (n > 0 && isspace(raw[n - 1]))
			n--;
		while (a < n && isspace(raw[a]))
			a++;
		if (n - a != 2 * sizeof(seed) ||
		    sodium_hex2bin(seed, sizeof(seed), (const char *)raw + a, n - a, NULL, &bin_len, NULL) !=
			0 ||
		    bin_len != sizeof(seed))
			goto out;
	}
	if (tb_witness_key_from_seed(seed, k) < 0) {
		tb_err(err, "witness key %s: libsodium failed", path);
		goto wipe;
	}
	rc = 0;
	goto wipe;
out:
	tb_err(err, "witness key %s: expected a 32-byte ed25519 seed, raw or as 64 hex characters", path);
wipe:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

unsigned char *tb_dsse_pae(const char *type, const unsigned char *body, size_t len, size_t *out_len)
{
	char head[256];
	int hn = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	unsigned char *p;

	if (hn < 0 || (size_t)hn >= sizeof(head) || !(p = malloc((size_t)hn + len + 1)))
		return NULL;
	memcpy(p, head, (size_t)hn);
	if (len)
		memcpy(p + hn, body, len);
	*out_len = (size_t)hn + len;
	return p;
}

/* ---- queries ---- */

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

static int64_t i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static json_t *time_or_null(const PGresult *r, int row, int col)
{
	char t[TB_API_TS_LEN];

	if (PQgetisnull(r, row, col))
		return json_null();
	tb_api_format_time(i64(r, row, col), t);
	return json_string(t);
}

static json_t *time_json(int64_t us)
{
	char t[TB_API_TS_LEN];

	tb_api_format_time(us, t);
	return json_string(t);
}

static const char symbols_sql[] = "SELECT symbol FROM finding_symbols WHERE tenant = $1 AND finding_id = $2 "
				  "ORDER BY symbol COLLATE \"C\"";
static const char latest_sql[] = TB_FND_MATCH_CTE "SELECT " TB_FND_US("max(ts)") " FROM m";
static const char order_sql[] =
    "ORDER BY symbol COLLATE \"C\", build_id COLLATE \"C\", artifact COLLATE \"C\" LIMIT $5";
static const char obs_sql[] = TB_FND_MATCH_CTE "SELECT encode(event_id, 'hex') AS id, " TB_FND_US(
    "ts") " AS us, kind, count, symbol, build_id, stack_id FROM m ORDER BY us, id LIMIT $5";

typedef struct snap_q {
	PGresult *finding, *symbols, *traces, *agg, *obs;
} snap_q_t;

static void snap_q_clear(snap_q_t *q)
{
	PQclear(q->finding);
	PQclear(q->symbols);
	PQclear(q->traces);
	PQclear(q->agg);
	PQclear(q->obs);
	memset(q, 0, sizeof(*q));
}

/* asOf: the parameter, else the latest supporting observation + 1 us, else
 * the finding's registration time. */
static int as_of(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, const snap_q_t *q, int64_t *out, tb_err_t *err)
{
	const char *s = tb_api_qs_get(qs, "asOf");
	const char *p[4] = {c->tenant, c->finding_id, "-infinity", "infinity"};
	PGresult *r;

	if (s)
		return tb_api_parse_time(s, c->now_us, out, err) < 0 ? fail(c, 400, "invalid_parameter") : 0;
	if (!(r = tb_pg_query(c->pg, "snapshot as-of", latest_sql, 4, p, err)))
		return db_fail(c);
	*out = PQgetisnull(r, 0, 0) ? i64(q->finding, 0, 3) : i64(r, 0, 0) + 1;
	PQclear(r);
	return 0;
}

static int run(tb_fnd_ctx_t *c, const char *what, const char *sql, int n, const char *const *p,
	       PGresult **out, tb_err_t *err)
{
	if (!(*out = tb_pg_query(c->pg, what, sql, n, p, err)))
		return db_fail(c);
	return 0;
}

static int load(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, snap_q_t *q, int64_t *asof, tb_err_t *err)
{
	static const char *const allowed[] = {"asOf", NULL};
	char t1[TB_PG_TS_LEN], lim[24], sql[8192];
	const char *p[5] = {c->tenant, c->finding_id, "-infinity", t1, lim};
	int st;

	if (tb_api_qs_check(qs, allowed, err) < 0)
		return fail(c, 400, "invalid_parameter");
	if (!c->pg) {
		tb_err(err, "runtime data is disabled (--runtime-enabled=false)");
		return fail(c, 503, "runtime_disabled");
	}
	if ((st = run(c, "finding", tb_fnd_finding_sql, 2, p, &q->finding, err)))
		return st;
	if (PQntuples(q->finding) == 0) {
		tb_err(err, "no finding %.256s", c->finding_id);
		return fail(c, 404, "not_found");
	}
	if ((st = as_of(c, qs, q, asof, err)))
		return st;
	tb_pg_ts(*asof * 1000, t1);
	snprintf(lim, sizeof(lim), "%d", TB_SNAPSHOT_MAX_OBSERVATIONS + 1);
	snprintf(sql, sizeof(sql), "%s%s", tb_fnd_traces_sql, order_sql);
	if ((st = run(c, "snapshot symbols", symbols_sql, 2, p, &q->symbols, err)) ||
	    (st = run(c, "snapshot traces", sql, 5, p, &q->traces, err)) ||
	    (st = run(c, "snapshot aggregates", tb_fnd_score_sql, 4, p, &q->agg, err)) ||
	    (st = run(c, "snapshot observations", obs_sql, 5, p, &q->obs, err)))
		return st;
	return 0;
}

/* ---- documents ---- */

static json_t *finding_json(tb_fnd_ctx_t *c, const snap_q_t *q)
{
	json_t *syms = json_array();

	for (int i = 0; i < PQntuples(q->symbols); i++)
		json_array_append_new(syms, json_string(PQgetvalue(q->symbols, i, 0)));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", c->finding_id, "vuln_id",
			 PQgetvalue(q->finding, 0, 0), "purl", PQgetvalue(q->finding, 0, 1),
			 "artifact_digest", PQgetvalue(q->finding, 0, 2), "registered_at",
			 time_or_null(q->finding, 0, 3), "symbols", syms);
}

static json_t *traces_json(const PGresult *r)
{
	json_t *a = json_array();

	for (int i = 0; i < PQntuples(r) && i < TB_SNAPSHOT_MAX_OBSERVATIONS; i++)
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:I}", "symbol", PQgetvalue(r, i, 0),
				 "build_id", PQgetvalue(r, i, 1), "artifact_digest", PQgetvalue(r, i, 2),
				 "purl", PQgetvalue(r, i, 3), "hits", (json_int_t)i64(r, i, 4), "first_seen",
				 time_or_null(r, i, 5), "last_seen", time_or_null(r, i, 6), "call_paths",
				 (json_int_t)i64(r, i, 7)));
	return a;
}

static json_t *observations_json(const PGresult *r)
{
	json_t *a = json_array();

	for (int i = 0; i < PQntuples(r) && i < TB_SNAPSHOT_MAX_OBSERVATIONS; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:s, s:I, s:s, s:s, s:s}", "event_id",
						   PQgetvalue(r, i, 0), "ts", time_or_null(r, i, 1), "kind",
						   PQgetvalue(r, i, 2), "count", (json_int_t)i64(r, i, 3),
						   "symbol", PQgetvalue(r, i, 4), "build_id",
						   PQgetvalue(r, i, 5), "stack_id", PQgetvalue(r, i, 6)));
	return a;
}

static json_t *aggregates_json(const PGresult *r, int64_t asof)
{
	tb_fnd_evidence_t e = {.uprobe_hits = i64(r, 0, 0),
			       .stack_hits = i64(r, 0, 1),
			       .call_paths = i64(r, 0, 2),
			       .loads = i64(r, 0, 4)};

	e.last_seen_us = i64(r, 0, e.uprobe_hits + e.stack_hits > 0 ? 3 : 5);
	return json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "tier", tb_fnd_tier_name(tb_fnd_tier(&e)),
	    "score_centi", (json_int_t)llround(tb_fnd_score(&e, asof) * 100), "uprobe_hits",
	    (json_int_t)e.uprobe_hits, "stack_hits", (json_int_t)e.stack_hits, "call_paths",
	    (json_int_t)e.call_paths, "loads", (json_int_t)e.loads, "samples", (json_int_t)i64(r, 0, 6),
	    "first_seen", time_or_null(r, 0, 9), "last_seen", time_or_null(r, 0, 3));
}

static json_t *snapshot_json(tb_fnd_ctx_t *c, const snap_q_t *q, int64_t asof)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:o, s:o}, s:o, s:o, s:b}", "type",
			 "tracebridge.finding-runtime-snapshot/v1", "tenant", c->tenant, "as_of",
			 time_json(asof), "finding", finding_json(c, q), "aggregates",
			 aggregates_json(q->agg, asof), "observation_window", "from",
			 time_or_null(q->agg, 0, 7), "to", time_or_null(q->agg, 0, 8), "traces",
			 traces_json(q->traces), "observations", observations_json(q->obs),
			 "observations_truncated", PQntuples(q->obs) > TB_SNAPSHOT_MAX_OBSERVATIONS);
}

static int snapshot_doc(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, json_t **doc, tb_err_t *err)
{
	snap_q_t q = {0};
	int64_t asof = 0;
	int st;

	*doc = NULL;
	if ((st = load(c, qs, &q, &asof, err)) == 0 && !(*doc = snapshot_json(c, &q, asof))) {
		tb_err(err, "snapshot could not be built (out of memory)");
		st = fail(c, 500, "internal");
	}
	snap_q_clear(&q);
	return st ? st : 200;
}

int tb_fnd_get_snapshot(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, char **body, size_t *len, char id[72],
			tb_err_t *err)
{
	json_t *doc;
	int st = snapshot_doc(c, qs, &doc, err);

	*body = NULL;
	if (st != 200)
		return st;
	*body = tb_canon_json(doc, len, err);
	json_decref(doc);
	if (!*body)
		return fail(c, 500, "internal");
	tb_canon_sha256(*body, *len, id);
	return 200;
}

/* ---- witness ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object as a sorted array of strings. */
static json_t *sorted_keys(const json_t *o)
{
	size_t n = json_object_size(o), i = 0;
	const char **k = calloc(n ? n : 1, sizeof(*k)), *key;
	json_t *a = json_array(), *v;

	if (!k)
		return a;
	json_object_foreach((json_t *)o, key, v) k[i++] = key;
	qsort(k, n, sizeof(*k), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(k[i]));
	free(k);
	return a;
}

static json_t *observed_symbols(const json_t *traces, json_t **build_ids)
{
	json_t *a = json_array(), *t, *ids = json_object();
	size_t i;

	json_array_foreach(traces, i, t)
	{
		const char *bid = json_string_value(json_object_get(t, "build_id"));

		json_array_append_new(
		    a, json_pack("{s:O, s:O, s:O, s:O, s:O}", "symbol", json_object_get(t, "symbol"),
				 "build_id", json_object_get(t, "build_id"), "count",
				 json_object_get(t, "hits"), "first_seen", json_object_get(t, "first_seen"),
				 "last_seen", json_object_get(t, "last_seen")));
		if (bid && bid[0])
			json_object_set_new(ids, bid, json_true());
	}
	*build_ids = sorted_keys(ids);
	json_decref(ids);
	return a;
}

static json_t *statement(const json_t *snap, const char *snap_id)
{
	const json_t *f = json_object_get(snap, "finding");
	const char *art = json_string_value(json_object_get(f, "artifact_digest"));
	json_t *bids = NULL, *syms = observed_symbols(json_object_get(snap, "traces"), &bids);
	int has_art = art && strncmp(art, "sha256:", 7) == 0;

	return json_pack(
	    "{s:s, s:[{s:s, s:{s:s}}], s:s, s:{s:O, s:O, s:O, s:O, s:O, s:o, s:O, s:O, s:{s:s, s:s, s:o}, "
	    "s:{s:s}}}",
	    "_type", "https://in-toto.io/Statement/v1", "subject", "name",
	    has_art ? art : json_string_value(json_object_get(f, "purl")), "digest", "sha256",
	    has_art ? art + 7 : snap_id + 7, "predicateType", TB_WITNESS_PREDICATE_TYPE, "predicate",
	    "finding", f, "artifact_digest", json_object_get(f, "artifact_digest"), "purl",
	    json_object_get(f, "purl"), "as_of", json_object_get(snap, "as_of"), "observation_window",
	    json_object_get(snap, "observation_window"), "observed_symbols", syms, "aggregates",
	    json_object_get(snap, "aggregates"), "tenant", json_object_get(snap, "tenant"), "symbolization",
	    "symbolizer", "tb-canonicalizer", "version", "0.1.0", "build_ids", bids, "snapshot", "id",
	    snap_id);
}

static char *b64(const unsigned char *p, size_t n)
{
	size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);

	if (s)
		sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static char *envelope(const char *payload, size_t plen, const tb_witness_key_t *key, size_t *len,
		      tb_err_t *err)
{
	unsigned char sig[crypto_sign_ed25519_BYTES], *pae;
	size_t pae_len;
	char *p64 = NULL, *s64 = NULL, *out = NULL;
	json_t *env = NULL;

	if (!(pae = tb_dsse_pae(TB_WITNESS_PAYLOAD_TYPE, (const unsigned char *)payload, plen, &pae_len)))
		goto oom;
	crypto_sign_ed25519_detached(sig, NULL, pae, pae_len, key->sk);
	if (!(p64 = b64((const unsigned char *)payload, plen)) || !(s64 = b64(sig, sizeof(sig))))
		goto oom;
	env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", TB_WITNESS_PAYLOAD_TYPE, "payload", p64,
			"signatures", "keyid", key->keyid, "sig", s64);
	if (!env)
		goto oom;
	out = tb_canon_json(env, len, err);
	goto done;
oom:
	tb_err(err, "witness could not be built (out of memory)");
done:
	json_decref(env);
	free(pae);
	free(p64);
	free(s64);
	return out;
}

int tb_fnd_get_witness(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, const tb_witness_key_t *key, char **body,
		       size_t *len, tb_err_t *err)
{
	json_t *snap = NULL, *st_doc = NULL;
	char *snap_bytes = NULL, *payload = NULL, id[72];
	size_t snap_len, plen;
	int st;

	*body = NULL;
	if (!c->pg) { /* null mode first: without data a key would not help */
		tb_err(err, "runtime data is disabled (--runtime-enabled=false)");
		return fail(c, 503, "runtime_disabled");
	}
	if (!key || !key->present) {
		tb_err(err, "no signing key configured (--witness-key-file)");
		return fail(c, 503, "witness_unavailable");
	}
	if ((st = snapshot_doc(c, qs, &snap, err)) != 200)
		return st;
	st = fail(c, 500, "internal");
	if (!(snap_bytes = tb_canon_json(snap, &snap_len, err)))
		goto out;
	tb_canon_sha256(snap_bytes, snap_len, id);
	if (!(st_doc = statement(snap, id)) || !(payload = tb_canon_json(st_doc, &plen, err)) ||
	    !(*body = envelope(payload, plen, key, len, err)))
		goto out;
	st = 200;
out:
	if (st != 200 && !err->msg[0])
		tb_err(err, "witness could not be built (out of memory)");
	json_decref(snap);
	json_decref(st_doc);
	free(snap_bytes);
	free(payload);
	return st;
}
