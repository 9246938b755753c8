/*
 * probe_map.h — ProbeBatch (tb.probe.raw.v1, from a probe-agent) ->
 * RuntimeEvents (tb.events.raw.v1), source "probe".
 *
 * A batch is checked whole first (tb_probe_map_validate); an invalid field
 * anywhere rejects the whole batch (the caller dead-letters it) and nothing
 * of it is emitted, so a batch is either mapped completely or not at all.
 *
 * Mapping (one RuntimeEvent per entry, in batch order: samples, then uprobe
 * counts, then loads):
 *   sample   kind "sample", ts_ns = first_ns, count = folded count,
 *            pid/tid, kernel frames {symbol, offset into symbol, module as
 *            "[name]" or NULL for vmlinux}, user frames {build_id,
 *            offset = file offset, module path, symbol, address only when
 *            the agent could not normalize the frame}.
 *   uprobe   kind "uprobe", ts_ns = batch start_ns, hook = symbol,
 *            count = hits (0 is kept: with attached = 1 it is evidence that
 *            the function did not run in [start_ns, end_ns]), path = probed
 *            binary, build_id = its build-id, attached; user frames = the
 *            representative stack, or, when the agent sent none, the probe
 *            point itself {build_id, file_offset, binary, symbol}. pid/tid 0
 *            and no process (a count spans all processes).
 *   load     kind "load", ts_ns, pid, path, build_id.
 * sample and load take their process from the batch's process table by pid
 * (the entry with the latest start_ns <= the event time; else the first with
 * that pid): exec_id, binary, binary_build_id, comm, container id and cgroup
 * id. uid is -1 (the agent does not report it). Empty strings become NULL.
 * Stacks longer than TB_MAX_FRAMES are cut there (counted in stats).
 *
 * event_id (a contract: changing it breaks replay dedup). BLAKE2b-128 via
 * tb/hash.h:
 *   tb_hasher_init(h, "probe.event.v1")
 *   str(kind)               "sample" | "uprobe" | "load"
 *   str(node), str(boot_id)
 *   u64(cpu)                sample: its cpu as int64 -> uint64; others: -1
 *   u64(ts_ns)              the event's ts_ns as above
 *   u64(pid), u64(tid)      uprobe: 0, 0; load: pid, 0
 *   then what keeps distinct entries of one window apart:
 *   sample  u64(last_ns); u64(n kernel frames), per frame str(symbol)
 *           u64(offset) str(module); u64(n user frames), per frame
 *           str(build_id) u64(file_offset) str(module) u64(has_address)
 *           u64(address or 0). User symbols are left out: they are derived
 *           from (build_id, file_offset) and may differ between agent
 *           versions. All frames of the batch count, also those cut off.
 *   uprobe  u64(end_ns), str(build_id), str(binary), str(symbol),
 *           u64(file_offset)
 *   load    str(path), str(build_id)
 *   tb_hasher_final128.
 * Strings are the batch's values as decoded (NULL and "" hash differently,
 * exactly as tb_hasher_str does). A replayed batch gives the same ids.
 */
#ifndef TB_ADAPTER_PROBE_MAP_H
#define TB_ADAPTER_PROBE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

typedef struct tb_probe_map_opts {
	const char *tenant; /* NULL = "default" */
} tb_probe_map_opts_t;

typedef struct tb_probe_map_stats {
	size_t samples; /* events emitted per kind */
	size_t uprobes;
	size_t loads;
	size_t frames_dropped;	/* frames beyond TB_MAX_FRAMES */
	size_t unknown_process; /* sample/load whose pid is not in the process table */
} tb_probe_map_stats_t;

/* Receives each event; it does not take ownership (the mapper clears the
 * event after the call). Return -1 (err set) to stop the mapping. */
typedef int (*tb_probe_map_emit_fn)(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err);

/* Check every field the mapping relies on. -1 with err naming the field, e.g.
 * "samples[3].count: 0, must be >= 1" or "processes[0].exec_id: empty". */
int tb_probe_map_validate(const tb_probe_batch_t *b, tb_err_t *err);

/* Validate, then emit one RuntimeEvent per entry (order above). Returns 0,
 * or -1 with err (invalid batch: nothing was emitted; or emit failed; or out
 * of memory). stats may be NULL; it is zeroed first. */
int tb_probe_map_batch(const tb_probe_batch_t *b, const tb_probe_map_opts_t *opts, tb_probe_map_emit_fn emit,
		       void *ctx, tb_probe_map_stats_t *stats, tb_err_t *err);

/* The event ids of the recipe above (exposed so tests can pin them). */
void tb_probe_sample_id(const tb_probe_batch_t *b, const tb_probe_sample_t *s, uint8_t out[TB_EVENT_ID_LEN]);
void tb_probe_uprobe_id(const tb_probe_batch_t *b, const tb_probe_uprobe_count_t *u,
			uint8_t out[TB_EVENT_ID_LEN]);
void tb_probe_load_id(const tb_probe_batch_t *b, const tb_probe_load_t *l, uint8_t out[TB_EVENT_ID_LEN]);

#endif
