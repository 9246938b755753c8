/*
 * snapshot.h — finding snapshots and signed witnesses
 * (GET /api/v1/findings/{id}/runtime/snapshot and .../witness).
 *
 * A snapshot is the canonical JSON (canonjson.h) of everything that supports
 * a finding's runtime state at a point in time `asOf`: the finding, its
 * traces, aggregates (tier, score at asOf, hits, call paths, loads,
 * workload samples), the observation window and the supporting observations
 * (event id, time, kind, count, symbol, build-id, stack), all read with
 * ts < asOf. Its id is "sha256:<hex>" of those bytes. Default asOf: the
 * latest supporting observation + 1 us (the finding's registration time
 * when there is none), so the same stored data — also after a replay, where
 * event ids, stack ids and record times are the same — gives the same bytes.
 *
 * A witness is a DSSE envelope (payloadType application/vnd.in-toto+json)
 * over an in-toto Statement v1 whose predicate names the artifact, purl,
 * observed symbols with build-ids and counts, the observation window, the
 * symbolization record and the snapshot id; signed with ed25519 over
 * PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body.
 */
#ifndef TB_TIMELINE_SNAPSHOT_H
#define TB_TIMELINE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "findings.h"

#define TB_WITNESS_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define TB_WITNESS_PREDICATE_TYPE "https://tracebridge.dev/attestations/runtime-reachability/v1"
#define TB_SNAPSHOT_MAX_OBSERVATIONS 10000

typedef struct tb_witness_key {
	int present;
	unsigned char sk[crypto_sign_ed25519_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	char keyid[2 * crypto_hash_sha256_BYTES + 1]; /* hex sha256 of pk */
} tb_witness_key_t;

/* A key file holds the 32-byte ed25519 seed, raw or as 64 hex characters
 * (surrounding whitespace ignored). 0 or -1 + err. */
int tb_witness_key_load(const char *path, tb_witness_key_t *k, tb_err_t *err);
int tb_witness_key_from_seed(const unsigned char seed[crypto_sign_ed25519_SEEDBYTES], tb_witness_key_t *k);

/* DSSE pre-authentication encoding, malloc'd; NULL on out of memory. */
unsigned char *tb_dsse_pae(const char *type, const unsigned char *body, size_t len, size_t *out_len);

/* The handlers: HTTP status; on 200 *body (malloc'd, *len bytes) is the
 * document and id (snapshot only) its "sha256:..." id. */
int tb_fnd_get_snapshot(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, char **body, size_t *len, char id[72],
			tb_err_t *err);
int tb_fnd_get_witness(tb_fnd_ctx_t *c, const tb_api_qs_t *qs, const tb_witness_key_t *key, char **body,
		       size_t *len, tb_err_t *err);

#endif
