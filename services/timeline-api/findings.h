/*
 * findings.h — the finding-scoped routes of tb-timeline-api
 * (/api/v1/findings/{id}/runtime/...), StellaOps Findings Ledger compatible.
 *
 * A finding (tenant, finding_id, purl, artifact_digest?, symbols) is matched
 * at query time against the stored observations of its tenant: an
 * observation supports the finding when it belongs to the finding's artifact
 * (observations.artifact_digest or image_digest; any artifact when the
 * finding names none) and one of its user frames has a symbol of the
 * finding (any frame when the finding has no symbols) whose component is the
 * finding's purl (the symbol's own purl, else the event's purl — which for
 * finding-scoped ingests is the componentPurl the caller named, see
 * docs/FINDINGS-API.md). The innermost such frame is "the observed symbol".
 *
 * Each handler fills the worker's JSON writer and returns the HTTP status;
 * on a non-2xx status `code` and err->msg say why (the caller answers with
 * its error body). Every query is parameterised and filters by tenant.
 */
#ifndef TB_TIMELINE_FINDINGS_H
#define TB_TIMELINE_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"
#include "params.h"
#include "tb/err.h"
#include "tb/pg.h"

typedef enum tb_fnd_sub {
	TB_FND_TRACES = 0,
	TB_FND_TIMELINE,
	TB_FND_SCORE,
	TB_FND_SNAPSHOT,
	TB_FND_WITNESS,
	TB_FND_COUNT,
} tb_fnd_sub_t;

#define TB_FND_ID_MAX 256
#define TB_FND_MAX_BUCKETS 10000
#define TB_FND_DEFAULT_CPU_SHARE 0.01

/* "/api/v1/findings/{id}/runtime/{traces|timeline|score|snapshot|witness}": 0 with the id
 * (not yet validated) and sub, -1 for any other path. */
int tb_fnd_route(const char *path, char *id, size_t cap, tb_fnd_sub_t *sub);

/* TB_M_GET | TB_M_POST bits (routes.h) the sub-route allows. */
unsigned tb_fnd_methods(tb_fnd_sub_t sub);

/* The scope (auth.h) a request needs: POST traces runtime:write, every GET
 * runtime:read. */
unsigned tb_fnd_scope(tb_fnd_sub_t sub, int post);

/* Metric-style name of a sub-route ("finding_traces", ...). */
const char *tb_fnd_name(tb_fnd_sub_t sub);

typedef struct tb_fnd_ctx {
	tb_pg_t *pg; /* NULL in null mode: answers as if nothing were stored */
	tb_jw_t *w;
	const char *tenant;
	const char *finding_id;
	int64_t now_us;
	const char *code; /* out: error code for non-2xx */
} tb_fnd_ctx_t;

/* Score formula (docs/FINDINGS-API.md), pure so that it is unit-tested. */
typedef enum tb_fnd_tier {
	TB_TIER_NONE = 0,
	TB_TIER_LOAD = 1,    /* component loaded, none of its symbols seen */
	TB_TIER_SAMPLED = 2, /* a symbol on a sampled / event stack */
	TB_TIER_UPROBE = 3,  /* a uprobe on a symbol hit */
} tb_fnd_tier_t;

typedef struct tb_fnd_evidence {
	int64_t uprobe_hits;  /* counts of uprobe observations of the finding's symbols */
	int64_t stack_hits;   /* counts of other observations with a symbol on the stack */
	int64_t call_paths;   /* distinct stacks among them */
	int64_t loads;	      /* load events of the component in the artifact */
	int64_t last_seen_us; /* latest supporting observation (hit, else load); 0 none */
} tb_fnd_evidence_t;

tb_fnd_tier_t tb_fnd_tier(const tb_fnd_evidence_t *e);
const char *tb_fnd_tier_name(tb_fnd_tier_t t);
/* 0..100: tier base + hits, call-path and recency terms (each 0..10). */
double tb_fnd_score(const tb_fnd_evidence_t *e, int64_t as_of_us);
/* P(a function using CPU share p escapes n independent samples) = (1-p)^n. */
double tb_fnd_miss_probability(double p, int64_t n);

/* Aligned buckets: from rounded down, to rounded up to bucket_s; 0 or -1 +
 * err when the window is empty or needs more than TB_FND_MAX_BUCKETS. */
int tb_fnd_align(int64_t from_us, int64_t to_us, int64_t bucket_s, int64_t *a_from, int64_t *a_to,
		 int64_t *n_buckets, tb_err_t *err);

/* ---- SQL shared with snapshot.c ----
 * MATCH_CTE: f (the finding), fs (its symbols), m (supporting observations
 * with their observed symbol); $1 tenant, $2 finding id, $3/$4 [from, to). */
#define TB_FND_US(x) "(extract(epoch FROM " x ") * 1000000)::int8"

/* The observations of the window (artifact filter included): used twice. */
#define TB_FND_WINDOW_OBS                                                                                    \
	"FROM f JOIN observations o ON o.tenant = f.tenant AND o.ts >= $3 AND o.ts < $4 "                    \
	"AND (f.artifact_digest IS NULL OR o.artifact_digest = f.artifact_digest "                           \
	"OR o.image_digest = f.artifact_digest) "

/* c: the user frames whose symbol could match (the finding's symbols, or any
 * when it names none, of its purl or of no purl), a small set built once; h:
 * per distinct (stack, observation purl) of sp the innermost frame of the
 * stack in c whose component (the symbol's purl, else the observation's) is
 * the finding's purl. The frame ids of each stack are unnested and
 * hash-joined to c: no index lookup per frame (that walk cost 2 s an hour at
 * 20 000 stacks and 10 M observations). */
#define TB_FND_CANDIDATES_AND_HITS                                                                           \
	"c AS (SELECT fr.frame_id, sy.name, sy.build_id, sy.purl FROM f "                                    \
	"JOIN symbols sy ON sy.tenant = f.tenant AND (sy.purl IS NULL OR sy.purl = f.purl) "                 \
	"AND (NOT EXISTS (SELECT 1 FROM fs) OR sy.name IN (SELECT symbol FROM fs)) "                         \
	"JOIN frames fr ON fr.tenant = sy.tenant AND fr.symbol_id = sy.symbol_id AND NOT fr.kernel), "       \
	"h AS (SELECT DISTINCT ON (sp.stack_id, sp.opurl) sp.stack_id, sp.opurl, c.name, c.build_id "        \
	"FROM f CROSS JOIN sp JOIN stacks st ON st.tenant = f.tenant AND st.stack_id = sp.stack_id "         \
	"CROSS JOIN LATERAL unnest(st.frame_ids) WITH ORDINALITY AS u(fid, ord) "                            \
	"JOIN c ON c.frame_id = u.fid WHERE COALESCE(c.purl, NULLIF(sp.opurl, '')) = f.purl "                \
	"ORDER BY sp.stack_id, sp.opurl, u.ord), "

/* m: an observation supports the finding when its stack holds a user frame
 * of the finding's component (the symbol's purl, else the observation's) and,
 * if the finding names symbols, one of them; the observed symbol is the
 * innermost such frame. That depends only on (stack, observation purl), so
 * the frames are walked once per distinct pair of the window (h), not once
 * per observation: at 10 M observations the per-observation walk took 5 s
 * for an hour and timed out for a day (make bench). */
#define TB_FND_MATCH_CTE                                                                                     \
	"WITH f AS (SELECT tenant, purl, artifact_digest, registered_at FROM findings "                      \
	"WHERE tenant = $1 AND finding_id = $2), "                                                           \
	"fs AS (SELECT symbol FROM finding_symbols WHERE tenant = $1 AND finding_id = $2), "                 \
	"sp AS (SELECT DISTINCT o.stack_id, COALESCE(o.purl, '') AS opurl " TB_FND_WINDOW_OBS "), "          \
	TB_FND_CANDIDATES_AND_HITS                                                                           \
	"m AS (SELECT o.ts, o.count, o.kind, o.stack_id, o.event_id, o.attached, f.purl, h.name AS "         \
	"symbol, h.build_id, "                                                                               \
	"COALESCE(NULLIF(o.artifact_digest, ''), o.image_digest, '') AS artifact " TB_FND_WINDOW_OBS         \
	"JOIN h ON h.stack_id = o.stack_id AND h.opurl = COALESCE(o.purl, '')) "

/* The same match, folded: g groups the window's observations by everything the
 * score and traces read (stack, purl, artifact, kind, attached) in ONE pass
 * (sum of counts, rows, first and last ts); c = the user frames whose symbol
 * could match (the finding's symbols, of its purl or of none), a small set
 * built once; h = per distinct (stack, purl) of g the innermost frame of the
 * stack in c whose component is the finding's purl (the frame ids of each
 * stack are unnested and hash-joined to c: no index lookup per frame, which
 * cost 2 s an hour at 20 000 stacks); mg = the groups that support the
 * finding, with their observed symbol. Sums, minima, maxima and distinct counts over mg and
 * g equal those over m and the window's observations: the score and traces
 * read these instead of m (at 10 M observations the per-observation join
 * took 5 s for an hour and timed out for a day). */
#define TB_FND_GROUPED_CTE                                                                                   \
	"WITH f AS (SELECT tenant, purl, artifact_digest, registered_at FROM findings "                      \
	"WHERE tenant = $1 AND finding_id = $2), "                                                           \
	"fs AS (SELECT symbol FROM finding_symbols WHERE tenant = $1 AND finding_id = $2), "                 \
	"g AS (SELECT o.stack_id, o.purl, "                                                                  \
	"COALESCE(NULLIF(o.artifact_digest, ''), o.image_digest, '') AS artifact, o.kind, o.attached, "      \
	"sum(o.count) AS n, count(*) AS rows, min(o.ts) AS t0, max(o.ts) AS t1 FROM observations o "         \
	"CROSS JOIN (SELECT (SELECT artifact_digest FROM findings WHERE tenant = $1 AND finding_id = $2) "   \
	"AS a) fa WHERE o.tenant = $1 AND o.ts >= $3 AND o.ts < $4 AND (fa.a IS NULL "                       \
	"OR o.artifact_digest = fa.a OR o.image_digest = fa.a) GROUP BY 1, 2, 3, 4, 5), "                    \
	"sp AS (SELECT DISTINCT stack_id, COALESCE(purl, '') AS opurl FROM g), "                             \
	TB_FND_CANDIDATES_AND_HITS                                                                           \
	"mg AS (SELECT g.stack_id, g.artifact, g.kind, g.attached, g.n, g.rows, g.t0, g.t1, f.purl, "        \
	"h.name AS symbol, h.build_id FROM f CROSS JOIN g "                                                  \
	"JOIN h ON h.stack_id = g.stack_id AND h.opurl = COALESCE(g.purl, '')) "

/* tb_fnd_traces_sql + ORDER BY: symbol, build_id, artifact, purl, hits,
 * first_us, last_us, call_paths. tb_fnd_score_sql ($1..$4): uprobe hits,
 * stack hits, call paths, last hit us, loads, last load us, samples, window
 * from us, window to us, first hit us, attached uprobe observations,
 * their first us, last us, distinct symbols. tb_fnd_finding_sql ($1, $2): vuln_id,
 * purl, artifact_digest ('' none), registered us. */
extern const char tb_fnd_traces_sql[];
extern const char tb_fnd_score_sql[];
extern const char tb_fnd_finding_sql[];

int tb_fnd_get_traces(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, tb_err_t *err);
int tb_fnd_get_timeline(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, tb_err_t *err);
int tb_fnd_get_score(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, tb_err_t *err);

#endif
