/*
 * debuginfod.h — fetching the ELF files of build-ids the symbol store does
 * not hold from debuginfod servers (libdebuginfod, elfutils), so frames
 * that arrive with a build-id and file offset but no symbol are named.
 *
 * On a frame whose build-id the store lacks, the canonicalizer asks the
 * servers (--debuginfod-urls, space-separated, like DEBUGINFOD_URLS) for the
 * build-id's executable and its debuginfo, and adds what comes back to the
 * store: the executable maps file offsets (its PT_LOAD headers), the
 * debuginfo names them (.symtab). Files are kept in libdebuginfod's cache
 * (--debuginfod-cache), so a restart does not download them again. A
 * build-id no server has is not asked for again for --debuginfod-miss-ttl;
 * a failed request (server down, timeout) counts as such a miss.
 *
 * Each request blocks the stage for at most --debuginfod-timeout (one
 * request per unknown build-id, not per frame). Determinism: the output for
 * an event depends on what the store holds, so it changes when a server
 * starts or stops serving a build-id — as with files added to --symbol-dir.
 */
#ifndef TB_CANON_DEBUGINFOD_H
#define TB_CANON_DEBUGINFOD_H

#include <stdint.h>

#include "tb/err.h"
#include "tb/metrics.h"
#include "tb/symstore.h"

typedef struct tb_dbgd tb_dbgd_t;

typedef struct tb_dbgd_config {
	const char *urls;      /* server URLs, space-separated; required */
	const char *cache_dir; /* NULL/"": libdebuginfod's default ($XDG_CACHE_HOME/debuginfod_client) */
	int64_t timeout_ms;    /* per request (connect + transfer progress); <= 0: 5 s */
	int64_t miss_ttl_ms;   /* how long a missing build-id is not asked for again */
	tb_metrics_t *metrics; /* optional */
} tb_dbgd_config_t;

/* Configure libdebuginfod (its settings are process environment variables:
 * DEBUGINFOD_URLS, DEBUGINFOD_CACHE_PATH, DEBUGINFOD_TIMEOUT, which this
 * sets) and open a client. NULL + err on failure. */
tb_dbgd_t *tb_dbgd_new(const tb_dbgd_config_t *cfg, tb_err_t *err);
void tb_dbgd_free(tb_dbgd_t *d);

/* Make the store hold build_id (hex) if a server has it. Returns 1 when the
 * store holds it afterwards, 0 when no server has it (or it was missing
 * less than miss_ttl ago), -1 when what came back could not be indexed. */
int tb_dbgd_fetch(tb_dbgd_t *d, tb_symstore_t *store, const char *build_id, tb_err_t *err);

#endif
