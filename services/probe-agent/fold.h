/*
 * fold.h — identical stacks folded with counts, per flush window.
 *
 * A stack is identified by (pid, tid, raw kernel frames, raw user frames):
 * the same raw addresses in the same process are the same normalized frames,
 * so normalization runs once per distinct stack and window (the caller fills
 * kframes/uframes when tb_pa_fold_add reports a new entry), not once per
 * sample. Raw addresses stay inside the agent: only the normalized frames
 * are sent.
 */
#ifndef TB_PA_FOLD_H
#define TB_PA_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "tb/records.h"

typedef struct tb_pa_stack {
	uint64_t hash;
	uint32_t pid;
	uint32_t tid;
	int32_t cpu; /* -1 once samples from several CPUs were folded in */
	int64_t first_ns;
	int64_t last_ns;
	int64_t count;
	uint32_t n_kernel;
	uint32_t n_user;
	uint64_t *ips;		    /* n_kernel kernel frames, then n_user user frames */
	tb_probe_kframe_t *kframes; /* normalized, owned (filled by the caller) */
	size_t n_kframes;
	tb_probe_uframe_t *uframes;
	size_t n_uframes;
} tb_pa_stack_t;

typedef struct tb_pa_fold tb_pa_fold_t;

tb_pa_fold_t *tb_pa_fold_new(void);
void tb_pa_fold_free(tb_pa_fold_t *f);

/* Fold one sample in. *is_new tells whether the stack was seen for the
 * first time in this window (then its frames are still to be normalized).
 * NULL when out of memory. */
tb_pa_stack_t *tb_pa_fold_add(tb_pa_fold_t *f, uint32_t pid, uint32_t tid, uint32_t cpu, int64_t ts_ns,
			      const uint64_t *ips, uint32_t n_kernel, uint32_t n_user, int *is_new);

size_t tb_pa_fold_count(const tb_pa_fold_t *f);
tb_pa_stack_t *tb_pa_fold_at(tb_pa_fold_t *f, size_t i);

/* Total samples folded in this window. */
int64_t tb_pa_fold_samples(const tb_pa_fold_t *f);

/* Forget every stack (end of window). */
void tb_pa_fold_reset(tb_pa_fold_t *f);

/* Free the normalized frames of a stack (and of a loose frame array). */
void tb_pa_uframes_free(tb_probe_uframe_t *f, size_t n);
void tb_pa_kframes_free(tb_probe_kframe_t *f, size_t n);

#endif
