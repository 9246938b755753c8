/*
 * fold.h — the aggregator's pure arithmetic: windows, symbol ids, record
 * checks and the pre-aggregation of one batch (no I/O, unit-tested).
 *
 * What the aggregator writes per NEW event (docs/ARCHITECTURE.md,
 * "aggregator"; schemas/sql/002 and 004):
 *  - one symbols row per distinct symbol of its frames, one frames row per
 *    frame, one stacks row for its stack_id (when it has frames);
 *  - for both window widths (60 s and 3600 s, aligned to the Unix epoch) and
 *    the event's artifact_digest ('' when uncorrelated): self_count += count
 *    for the leaf frame's symbol, total_count += count once for every
 *    DISTINCT symbol on the stack (inclusive; recursion counts once),
 *    first_seen = min(ts), last_seen = max(ts).
 * A multi-row upsert must not hold one key twice, so a batch is folded first:
 * tb_agg_fold_event adds each new event, tb_agg_fold_finish sorts every table
 * by its key and merges rows with equal keys (sums, min/max, and for a
 * symbol's purl the smallest non-NULL one by byte order). Merging is
 * commutative and associative, so the stored result depends neither on batch
 * boundaries nor on the order of events; the sort order also makes
 * concurrent writers lock rows in the same order.
 *
 * symbol_id — a contract (changing it orphans every stored symbol row):
 *     BLAKE2b via tb/hash.h, domain "symbol.v1", fields in this order:
 *       tb_hasher_str(build_id), tb_hasher_str(module), tb_hasher_str(name)
 *     where a NULL field is hashed as "" (so NULL and "" agree), finished
 *     with tb_hasher_final64. build_id is the frame's lowercase hex build-id
 *     ('' for kernel/unknown), module its basename, name the canonical
 *     (demangled, suffix-stripped) symbol ('' unknown: all unknown offsets of
 *     one module share one symbol; the frames table keeps the offsets).
 *
 * Times are microseconds since the epoch, floored (PostgreSQL's precision).
 */
#ifndef TB_AGG_FOLD_H
#define TB_AGG_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

#define TB_AGG_WIDTH_MINUTE 60
#define TB_AGG_WIDTH_HOUR 3600

/* ts_ns -> microseconds, floored (also for times before 1970). */
int64_t tb_agg_ts_us(int64_t ts_ns);

/* Start (µs) of the width_s-second window holding ts_us, aligned to the
 * epoch: floor(ts_us / (width_s * 10^6)) * width_s * 10^6. width_s > 0. */
int64_t tb_agg_window_start_us(int64_t ts_us, int width_s);

/* The symbol_id recipe above. */
int64_t tb_agg_symbol_id(const char *build_id, const char *module, const char *name);

/* Index of the leaf (innermost) frame of ev: the frame whose frame_id is
 * ev->leaf_frame_id, else frames[0]; -1 when the event has no frames. */
long tb_agg_leaf_index(const tb_event_t *ev);

/* 1 when s (NULL allowed) is valid UTF-8 without overlong forms or
 * surrogates: what PostgreSQL accepts in a UTF8 database. */
int tb_agg_utf8_valid(const char *s);

/* Check a decoded CorrelatedEvent before it goes near PostgreSQL: tenant
 * set, count >= 1, ts_ns >= 0, every stored text valid UTF-8. -1 with an
 * "invalid: ..." reason (a dead-letter reason) otherwise. */
int tb_agg_event_check(const tb_event_t *ev, tb_err_t *err);
int tb_agg_artifact_check(const tb_artifact_t *a, tb_err_t *err);
int tb_agg_finding_check(const tb_finding_t *f, tb_err_t *err);

/* ---- one batch, folded ---------------------------------------------------- */

typedef struct tb_agg_symbol {
	const char *tenant;
	int64_t symbol_id;
	const char *build_id; /* never NULL ("" unknown) */
	const char *module;
	const char *name;
	const char *purl; /* NULL: uncorrelated */
} tb_agg_symbol_t;

typedef struct tb_agg_frame {
	const char *tenant;
	int64_t frame_id;
	int64_t symbol_id;
	uint64_t file_offset;
	int kernel;
} tb_agg_frame_t;

typedef struct tb_agg_stack {
	const char *tenant;
	int64_t stack_id;
	const tb_canon_frame_t *frames; /* the event's frames, in order */
	size_t n_frames;
} tb_agg_stack_t;

typedef struct tb_agg_hot {
	const char *tenant;
	const char *artifact; /* never NULL ('' uncorrelated) */
	int width;
	int64_t window_start_us;
	int64_t symbol_id;
	int64_t self_count;
	int64_t total_count;
	int64_t first_us;
	int64_t last_us;
} tb_agg_hot_t;

/* Rows point into the events added (which must outlive the fold's use).
 * Zero-initialise; tb_agg_fold_reset empties it for the next batch (keeping
 * memory); tb_agg_fold_free releases it. */
typedef struct tb_agg_fold {
	tb_agg_symbol_t *symbols;
	size_t n_symbols, cap_symbols;
	tb_agg_frame_t *frames;
	size_t n_frames, cap_frames;
	tb_agg_stack_t *stacks;
	size_t n_stacks, cap_stacks;
	tb_agg_hot_t *hot;
	size_t n_hot, cap_hot;
	int64_t *scratch; /* per-event symbol ids */
	size_t cap_scratch;
	/* Tenants and artifact digests of the batch, one pointer per distinct
	 * text (into the batch's first event holding it): rows compare them by
	 * pointer first, so sorting ~30 rows per event is not a strcmp of two
	 * 71-byte digests per comparison. */
	const char *interned[16];
	size_t n_interned;
} tb_agg_fold_t;

/* Add one new (stored for the first time) event. -1 only when out of memory. */
int tb_agg_fold_event(tb_agg_fold_t *f, const tb_event_t *ev, tb_err_t *err);

/* Sort every table by key and merge duplicate keys. Idempotent. */
void tb_agg_fold_finish(tb_agg_fold_t *f);

void tb_agg_fold_reset(tb_agg_fold_t *f);
void tb_agg_fold_free(tb_agg_fold_t *f);

/* ---- observations of one batch, de-duplicated ------------------------------ */

/* An event to insert, identified by its observations key (tenant, ts,
 * event_id). `index` is the caller's position of the event. */
typedef struct tb_agg_obs {
	const tb_event_t *ev;
	int64_t ts_us;
	size_t index;
} tb_agg_obs_t;

/* Sort obs by (tenant, event_id, ts_us) and drop repeated keys, keeping the
 * one with the smallest index (the first in the batch). Returns the new
 * count; the array is left sorted for tb_agg_obs_find. */
size_t tb_agg_obs_dedupe(tb_agg_obs_t *obs, size_t n);

/* Binary search in a deduplicated array: the entry with this key or NULL. */
tb_agg_obs_t *tb_agg_obs_find(tb_agg_obs_t *obs, size_t n, const char *tenant,
			      const uint8_t event_id[TB_EVENT_ID_LEN], int64_t ts_us);

#endif
