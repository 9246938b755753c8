/*
 * batch.h — a flush window -> ProbeBatch records (tb.probe.raw.v1).
 *
 * One window may become several batches ("chunks"): each stays under a byte
 * budget (estimated from its strings; the Avro codec refuses records over
 * 1 MiB and the dev broker keeps ~5 MiB per partition), each carries the
 * process table entries its samples and loads refer to, and each takes the
 * next seq. Uprobe counts and loss counters go in the first chunk; the
 * window (start_ns, end_ns) is the same in all of them. A window with
 * nothing in it still gives one (empty) batch: a heartbeat whose seq and
 * loss counters say the agent is alive and what it missed.
 *
 * The batches handed to emit borrow every string from the window's data;
 * emit must not keep them (encode or print, then return).
 */
#ifndef TB_PA_BATCH_H
#define TB_PA_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"
#include "procs.h"
#include "tb/err.h"
#include "tb/records.h"

typedef int (*tb_pa_emit_fn)(void *ctx, const tb_probe_batch_t *b, tb_err_t *err);

typedef struct tb_pa_window {
	const char *node;
	const char *boot_id;
	const char *agent_version;
	int64_t start_ns;
	int64_t end_ns;
	tb_pa_fold_t *fold;
	tb_probe_uprobe_count_t *ucounts;
	size_t n_ucounts;
	tb_probe_load_t *loads;
	size_t n_loads;
	tb_pa_proc_t **procs;
	size_t n_procs;
	int64_t lost_samples;
	int64_t lost_events;
	size_t max_bytes; /* budget per batch; 0 = 256 KiB */
} tb_pa_window_t;

/* Emit the window as one or more batches; *seq is the next sequence
 * number and advances per batch (also for one whose emit failed, so that
 * consumers see the gap). Returns the number of batches, or -1 when emit
 * failed (err; the rest of the window is not emitted) or out of memory. */
int tb_pa_batch_emit(const tb_pa_window_t *w, int64_t *seq, tb_pa_emit_fn emit, void *ctx, tb_err_t *err);

/* The estimated encoded size of one sample (exposed for tests). */
size_t tb_pa_batch_sample_size(const tb_pa_stack_t *s);

#endif
