/*
 * agent.h — the probe-agent's core: what happens to each ring-buffer
 * record, each drain and each flush. main.c wires it to the BPF loader,
 * the clock, the watch sources and the output.
 *
 * Per drain (timer, default every 100 ms; samples never wake us, exec and
 * mmap records do, see tb_pa_agent_events):
 *   events ring  -> process table (exec / exit / mmap)
 *   samples ring -> fold table (identical stacks counted; a new stack is
 *                   normalized at once, while its process still exists)
 *   stale maps re-read -> load records; new files -> uprobe resolution
 * Per flush (default every 5 s): uprobe counts collected, loss counters
 * read, window -> ProbeBatch records (batch.h) -> output; then the window's
 * stacks, loads and exited processes are dropped.
 */
#ifndef TB_PA_AGENT_H
#define TB_PA_AGENT_H

#include <stdint.h>

#include "batch.h"
#include "bpf.h"
#include "elfcache.h"
#include "fold.h"
#include "ksyms.h"
#include "normalize.h"
#include "procs.h"
#include "tb/metrics.h"
#include "uprobes.h"
#include "watch.h"

typedef struct tb_pa_conf {
	const char *node;
	const char *boot_id;
	const char *agent_version;
	const char *proc_root;	       /* "/proc" */
	char *const *container_filter; /* container id prefixes; NULL/0 = all */
	size_t n_container_filter;
	const uint64_t *cgroup_filter; /* cgroup v2 ids (the kernel filters; the /proc scan too) */
	size_t n_cgroup_filter;
	size_t batch_bytes; /* 0 = default */
	size_t max_symtabs; /* 0 = default */
} tb_pa_conf_t;

typedef struct tb_pa_metrics {
	tb_metric_t *samples, *stacks, *filtered, *malformed, *batches, *loads, *uprobe_hits, *lost_samples,
	    *lost_events, *lost_uprobe_keys, *unmapped, *anon, *symbolized, *user_frames, *kernel_unresolved,
	    *procs_exec, *procs_exit, *mmaps;
} tb_pa_metrics_t;

typedef struct tb_pa_agent {
	tb_pa_conf_t conf;
	tb_pa_elfcache_t *elf;
	tb_pa_ksyms_t *ksyms;
	tb_pa_procs_t *procs;
	tb_pa_fold_t *fold;
	tb_pa_watch_t *watch;
	tb_pa_bpf_t *bpf;	  /* set by main after loading */
	tb_pa_uprobes_t *uprobes; /* idem */
	int64_t boot_to_epoch;
	int64_t window_start_ns;
	int64_t seq;
	uint64_t lost_prev[TB_LOST_MAX];
	uint64_t watch_resolved; /* watch version the live modules were checked against */
	tb_pa_norm_stats_t norm;
	tb_pa_metrics_t m;
} tb_pa_agent_t;

/* Set up everything but BPF (kallsyms, caches, tables). metrics may be NULL. */
int tb_pa_agent_init(tb_pa_agent_t *a, const tb_pa_conf_t *conf, tb_metrics_t *metrics, tb_err_t *err);
void tb_pa_agent_destroy(tb_pa_agent_t *a);

/* Ring buffer handlers (tb_pa_record_fn; ctx = the agent). */
int tb_pa_agent_on_sample(void *ctx, const void *rec, size_t size);
int tb_pa_agent_on_event(void *ctx, const void *rec, size_t size);

/* Current time (epoch ns) and boot -> epoch offset refresh. */
int64_t tb_pa_agent_clock(tb_pa_agent_t *a);

/* Initial /proc scan (loads of running processes, uprobe candidates). */
void tb_pa_agent_scan(tb_pa_agent_t *a, const uint32_t *pids, size_t n_pids);

/* One drain: ring buffers, stale maps, watch-list changes. */
void tb_pa_agent_drain(tb_pa_agent_t *a);

/* Exec/mmap records arrived (the events fd woke us): take them and read
 * the maps they made stale, while those processes still exist. */
void tb_pa_agent_events(tb_pa_agent_t *a);

/* Attach uprobes wherever the watch list (as changed) wants them. */
void tb_pa_agent_reconcile(tb_pa_agent_t *a);

/* Close the window: drain, collect, emit batches, reset. Returns batches
 * emitted or -1 (err) when the output failed. */
int tb_pa_agent_flush(tb_pa_agent_t *a, tb_pa_emit_fn emit, void *ctx, tb_err_t *err);

/* Does the container filter let process p through? */
int tb_pa_agent_container_ok(const tb_pa_agent_t *a, const tb_pa_proc_t *p);

#endif
