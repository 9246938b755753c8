/*
 * index.h — the correlator's in-memory index of artifacts and findings.
 *
 * Built from the compacted topics tb.artifacts.v1 and tb.findings.v1 (the
 * latest record per key wins; a tombstone removes the key) and queried for
 * every event. Lookups (all scoped by tenant):
 *   build-id                 -> binaries (artifact digest, path, owning purl)
 *   image digest + basename  -> binary (frames without build-id)
 *   purl + symbol            -> finding ids (findings with symbols)
 *   purl                     -> finding ids (findings without symbols: any frame)
 * When one build-id belongs to several artifacts the event's own image
 * digest decides; otherwise the smallest digest wins so that the result is
 * deterministic for replays.
 */
#ifndef TB_CORRELATOR_INDEX_H
#define TB_CORRELATOR_INDEX_H

#include "tb/err.h"
#include "tb/records.h"

typedef struct tb_corr_index tb_corr_index_t;

typedef struct tb_corr_stats {
	size_t artifacts;
	size_t binaries;
	size_t findings;
} tb_corr_stats_t;

tb_corr_index_t *tb_corr_index_new(void);
void tb_corr_index_free(tb_corr_index_t *idx);

/* Insert or replace the artifact (key = tenant + digest). Copies `a`. */
int tb_corr_index_put_artifact(tb_corr_index_t *idx, const tb_artifact_t *a, tb_err_t *err);
void tb_corr_index_del_artifact(tb_corr_index_t *idx, const char *tenant, const char *digest);

/* Insert or replace the finding (key = tenant + finding id). Copies `f`. */
int tb_corr_index_put_finding(tb_corr_index_t *idx, const tb_finding_t *f, tb_err_t *err);
void tb_corr_index_del_finding(tb_corr_index_t *idx, const char *tenant, const char *finding_id);

/* Fill the correlation fields of `ev` (per frame: artifact_digest, purl,
 * finding_ids; per event: artifact_digest, purl, correlation). Existing
 * correlation fields are replaced, so re-correlating is idempotent. */
int tb_corr_correlate(tb_corr_index_t *idx, tb_event_t *ev, tb_err_t *err);

void tb_corr_index_stats(tb_corr_index_t *idx, tb_corr_stats_t *out);

#endif
