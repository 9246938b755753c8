/*
 * normalize.h — raw stack addresses -> frames that may leave the node.
 *
 * User frame: the executable mapping holding the address gives the file
 * (module path), its build-id and the file offset (address - start +
 * pgoff); the file's symbol table, when it has one, gives the canonical
 * function name. The vDSO is module "[vdso]" (its image's build-id, offset
 * from the start of the image). Addresses in anonymous memory (JIT code)
 * become module "[anon]" with the offset into that mapping; addresses in no
 * mapping become "[unknown]" with offset 0. No absolute address is ever
 * put in a frame.
 *
 * Every frame but the innermost is a return address: it points after the
 * call, possibly already into the next function when the call was the last
 * instruction (noreturn callees). Those frames are normalized at
 * address - 1, inside the call instruction, as profilers do; the innermost
 * frame is the exact instruction pointer. The same rule applies to kernel
 * frames, which become (kallsyms name, offset into it, module).
 */
#ifndef TB_PA_NORMALIZE_H
#define TB_PA_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "elfcache.h"
#include "ksyms.h"
#include "procs.h"
#include "tb/records.h"

typedef struct tb_pa_norm_stats {
	uint64_t user_frames;
	uint64_t unmapped;    /* user address in no mapping, even after re-reading maps */
	uint64_t anon;	      /* user address in anonymous memory */
	uint64_t no_build_id; /* file without a build-id (or unreadable) */
	uint64_t symbolized;  /* user frames given a symbol */
	uint64_t kernel_frames;
	uint64_t kernel_unresolved;
} tb_pa_norm_stats_t;

/* Normalize n user addresses of process p (innermost first). *out is a
 * malloc'd array of n frames (free with tb_pa_uframes_free). Re-reads the
 * process's maps once when an address is outside all of them. 0, or -1
 * when out of memory. */
int tb_pa_normalize_user(tb_pa_procs_t *P, tb_pa_elfcache_t *E, tb_pa_proc_t *p, const uint64_t *ips,
			 size_t n, int64_t now_ns, tb_probe_uframe_t **out, tb_pa_norm_stats_t *st);

/* Normalize n kernel addresses (innermost first); ksyms may be NULL (all
 * unresolved). */
int tb_pa_normalize_kernel(const tb_pa_ksyms_t *K, const uint64_t *ips, size_t n, tb_probe_kframe_t **out,
			   tb_pa_norm_stats_t *st);

#endif
