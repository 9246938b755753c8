/*
 * uprobes.h — uprobes on watched functions: attaching them where the
 * watch list says, and reading their exact hit counts.
 *
 * Each (file, function offset) gets one probe id for the agent's lifetime;
 * the id is the BPF cookie and the index of its in-kernel counter. All new
 * probes of one file are attached with one call (one uprobe_multi link
 * where the kernel allows it; bpf.h). A file is identified by device and
 * inode, so the same library reached through several paths is probed once.
 * Probes stay attached until the agent exits (detaching costs ~110 ms per
 * classic uprobe; and a count of 0 only means something while attached).
 *
 * Counting: the kernel counts every hit in a per-CPU counter per probe
 * (exact), and the same hits per (probe, pid, user stack) in a hash map.
 * Collecting takes the difference to the previous collect; the window's
 * representative stack of a probe is its most frequent one. Per-stack keys
 * of processes that are gone are deleted after their last read, and stacks
 * no key refers to any more are dropped from the stack map.
 */
#ifndef TB_PA_UPROBES_H
#define TB_PA_UPROBES_H

#include <stddef.h>
#include <stdint.h>

#include "bpf.h"
#include "tb/err.h"

typedef struct tb_pa_probe {
	uint32_t id;
	char *file_key; /* "MAJ:MIN:INO" of the probed file */
	char *binary;	/* its path as reported */
	char *build_id; /* NULL if unknown */
	char *symbol;	/* the watched name */
	char *raw_symbol;
	uint64_t file_offset;
	int attached;
	char *error;	/* why attaching failed (attached == 0) */
	uint64_t total; /* cumulative hits at the last collect */
} tb_pa_probe_t;

/* One probe's counts for a window. */
typedef struct tb_pa_uhit {
	const tb_pa_probe_t *probe;
	int64_t hits;	/* exact hits since the previous collect */
	uint32_t pid;	/* process of the representative stack; 0 = no stack */
	uint32_t n_ips; /* its user frames (raw), innermost first */
	uint64_t ips[TB_PROBE_MAX_DEPTH];
	int64_t stack_hits; /* hits with that stack in the window */
	size_t n_stacks;    /* distinct (pid, stack) with hits in the window */
} tb_pa_uhit_t;

typedef struct tb_pa_uprobes tb_pa_uprobes_t;

tb_pa_uprobes_t *tb_pa_uprobes_new(tb_pa_bpf_t *b);
void tb_pa_uprobes_free(tb_pa_uprobes_t *u);

/* Attach the symbols (by raw or canonical name) not yet probed in the file
 * opened at open_path (identity file_key; reported as binary/build_id).
 * Returns how many probes were added (attached or refused: a refusal is
 * kept, with the kernel's reason, and reported as not attached), or -1 +
 * err when the file cannot be read. */
int tb_pa_uprobes_ensure(tb_pa_uprobes_t *u, const char *file_key, const char *open_path, const char *binary,
			 const char *build_id, char *const *symbols, size_t n, tb_err_t *err);

size_t tb_pa_uprobes_count(const tb_pa_uprobes_t *u);
const tb_pa_probe_t *tb_pa_uprobes_at(const tb_pa_uprobes_t *u, size_t i);

/* Whether a file was already looked at (avoid re-reading it). */
int tb_pa_uprobes_seen(const tb_pa_uprobes_t *u, const char *file_key, uint64_t watch_version);
void tb_pa_uprobes_mark_seen(tb_pa_uprobes_t *u, const char *file_key, uint64_t watch_version);

/* Counts of every probe for the window since the last collect (*out:
 * malloc'd, one entry per probe, in id order). alive(ctx, pid) says whether
 * a process still runs (its per-stack keys are kept). 0 or -1 + err. */
int tb_pa_uprobes_collect(tb_pa_uprobes_t *u, int (*alive)(void *ctx, uint32_t pid), void *ctx,
			  tb_pa_uhit_t **out, size_t *n, tb_err_t *err);

#endif
