/*
 * canon.h — turns one RuntimeEvent into one CanonicalEvent: canonical
 * frames, stable frame/stack ids, symbolization of bare frames, and the
 * privacy policy (privacy.h). This is the privacy boundary of the pipeline.
 *
 * THE CONTRACT (changing any of it changes ids: bump the domain versions):
 *
 * Frames: kernel frames first, then user frames, each list innermost first,
 * as they came. For each raw frame:
 *   kernel       1 for kernel frames, 0 for user frames.
 *   build_id     the raw build-id lowercased when it is 2..128 hex digits;
 *                else, for a user frame whose module is an absolute path
 *                without ".." parts and when a symbol store and `sysroot`
 *                are configured, the build-id of the ELF file SYSROOT/MODULE
 *                if the store indexed that build-id (the symbol dir doubles
 *                as a sysroot mirroring the nodes' files, like perf --symfs:
 *                Tetragon frames carry no build-id); else "".
 *   module       user: basename of the module path (secrets scrubbed), "" if
 *                none. kernel: the module name without its [brackets], ""
 *                for vmlinux.
 *   symbol       the raw symbol, unless it is only an address (then it
 *                counts as missing); for a user frame without one but with a
 *                build-id, the symbol store's answer for (build_id,
 *                file_offset). Then canonical text (symbolize.h). "" if
 *                unknown.
 *   file_offset  user: the file offset in the module, as given (never an
 *                address: a frame whose offset equals its raw address is
 *                treated as unknown and gets 0). kernel: the offset into the
 *                function, or 0 when the symbol is unknown (a kernel offset
 *                without a symbol could only be an address).
 *   frame_id     tb_hasher_final64 of, in order:
 *                  domain "frame.v1"
 *                  u64 kernel (0|1)
 *                  u64 1, str build_id      when build_id != ""
 *                  u64 0, str module        otherwise
 *                  u64 file_offset
 *                  str symbol
 *                (the 1/0 tag keeps a build-id and a module name with the
 *                same text apart).
 * Event:
 *   stack_id       0 when there are no frames; else tb_hasher_final64 of
 *                  domain "stack.v1", u64 n_frames, then u64 of each frame_id
 *                  in order; a result of 0 becomes 1 (0 means "no stack").
 *   leaf_frame_id  the first frame's id (innermost kernel frame when there is
 *                  a kernel stack), 0 when there are no frames.
 *   build_id       the event's main artifact: the RuntimeEvent's build_id
 *                  (load events: the loaded file) when set, else the
 *                  process binary's build-id; normalized like frame build-ids;
 *                  NULL (absent) when neither is a valid build-id.
 *   count          the RuntimeEvent's count, or 1 when it is < 1.
 *   event_id, tenant, source, kind, ts_ns, pid, tid, policy: copied (NULL
 *                  strings become "", except policy which stays absent).
 *   node, uid_hash, exec_id, binary, path, hook, container: per the privacy
 *                  policy (privacy.h).
 *   correlation fields: left NULL for the correlator.
 * No raw address is ever hashed or copied, so ids do not depend on ASLR/KASLR,
 * and every string is a pure function of the input, the policy (and key) and
 * the symbol store contents: the same input gives byte-identical output.
 */
#ifndef TB_CANON_CANON_H
#define TB_CANON_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "debuginfod.h"
#include "privacy.h"
#include "tb/err.h"
#include "tb/metrics.h"
#include "tb/records.h"
#include "tb/symstore.h"

typedef struct tb_canon tb_canon_t;

typedef struct tb_canon_config {
	tb_privacy_t *privacy;	 /* required; not owned */
	tb_symstore_t *symstore; /* optional; not owned */
	const char *sysroot;	 /* optional: the store's directory, for frames without build-id
				  * (see build_id above); not owned, must outlive the canon */
	tb_metrics_t *metrics;	 /* optional; counters are registered here */
	tb_dbgd_t *debuginfod;	 /* optional: fetches build-ids the store lacks; not owned */
} tb_canon_config_t;

tb_canon_t *tb_canon_new(const tb_canon_config_t *cfg, tb_err_t *err);
void tb_canon_free(tb_canon_t *c);

/* Canonicalize `in` into `out` (zeroed by the caller; owned by the caller
 * afterwards, release with tb_event_clear). Returns -1 with err for input
 * that cannot be canonicalized (a stack deeper than TB_MAX_FRAMES) or out of
 * memory; `out` is then cleared. Safe to call from several threads on one
 * tb_canon_t. */
int tb_canon_event(tb_canon_t *c, const tb_runtime_event_t *in, tb_event_t *out, tb_err_t *err);

/* The id recipes above, over already canonical frames. */
int64_t tb_canon_frame_id(const tb_canon_frame_t *f);
int64_t tb_canon_stack_id(const tb_canon_frame_t *frames, size_t n);

#endif
