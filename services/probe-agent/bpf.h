/*
 * bpf.h — loading the probe-agent's BPF programs (bpf/probe.bpf.c, through
 * its bpftool skeleton) and everything that talks to them: per-CPU
 * cpu-clock perf events, the two ring buffers, the filters, the loss
 * counters and uprobe attachment.
 *
 * Uprobes: one uprobe_multi link per call (BPF_LINK_CREATE with attach type
 * BPF_TRACE_UPROBE_MULTI through the raw bpf(2) syscall: libbpf 1.1 has no
 * API for it) when the kernel supports it (Linux >= 6.6), else one classic
 * uprobe per offset (perf_event uprobe PMU). Both carry the probe id as the
 * BPF cookie.
 *
 * Privileges: loading needs root or CAP_BPF + CAP_PERFMON (+ CAP_SYS_ADMIN
 * for uprobes and for reading other processes' maps); tb_pa_bpf_check_caps
 * says which are missing. Kernel refusals come back with the kernel's
 * reason (errno text, and the verifier's last line when there is one).
 */
#ifndef TB_PA_BPF_H
#define TB_PA_BPF_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "probe.h"
#include "tb/err.h"

typedef struct tb_pa_bpf tb_pa_bpf_t;

/* Ring buffer record handlers: the record and its size (valid during the
 * call only). Return 0 (a negative value stops this drain). */
typedef int (*tb_pa_record_fn)(void *ctx, const void *rec, size_t size);

typedef struct tb_pa_bpf_conf {
	int freq_hz;	      /* sampling frequency per CPU; 0 = no sampling */
	const uint32_t *pids; /* pid (tgid) filter, n_pids == 0: all */
	size_t n_pids;
	const uint64_t *cgroups; /* cgroup v2 id filter, n_cgroups == 0: all */
	size_t n_cgroups;
	size_t sample_ring_bytes; /* power of two >= 4096; 0 = tb_pa_bpf_ring_bytes */
	int64_t drain_ms;	  /* how often the agent drains the rings (for the 0 above) */
	int no_uprobe_multi;	  /* force the single-uprobe fallback */
	tb_pa_record_fn on_sample;
	tb_pa_record_fn on_event; /* exec, exit, mmap */
	void *ctx;
} tb_pa_bpf_conf_t;

/* The samples ring for freq_hz on ncpus CPUs drained every drain_ms: room
 * for four drain intervals of full-depth samples (user + kernel) from every
 * CPU, as a power of two within 256 KiB..8 MiB. Sized to need because a ring
 * costs resident memory once its pages have been written, twice over (the
 * agent maps the data area twice, as every BPF ring buffer consumer does):
 * a fixed 8 MiB ring was 16 MiB of the agent's RSS at 99 Hz on 2 CPUs, which
 * fill ~40 KiB per 100 ms drain. */
size_t tb_pa_bpf_ring_bytes(int freq_hz, int64_t drain_ms, int ncpus);

/* Missing capabilities as text ("CAP_BPF, CAP_PERFMON"), "" when none is
 * missing. 0, or -1 if they cannot be read. */
int tb_pa_bpf_check_caps(char *missing, size_t cap);

/* Load, set filters, attach the tracepoints and one perf event per online
 * CPU. NULL + err with the kernel's reason on failure. */
tb_pa_bpf_t *tb_pa_bpf_open(const tb_pa_bpf_conf_t *conf, tb_err_t *err);
void tb_pa_bpf_close(tb_pa_bpf_t *b);

/* Consume what is in the ring buffers: events first (so processes are
 * known before their samples), then samples. Returns records consumed. */
int tb_pa_bpf_drain(tb_pa_bpf_t *b);

/* The events ring alone (exec, exit, mmap), and an fd that is readable
 * when it has records (exec and mmap records wake it; samples never do). */
int tb_pa_bpf_drain_events(tb_pa_bpf_t *b);
int tb_pa_bpf_events_fd(const tb_pa_bpf_t *b);

/* Loss counters summed over CPUs, cumulative since load. */
void tb_pa_bpf_lost(tb_pa_bpf_t *b, uint64_t out[TB_LOST_MAX]);

/* How many CPUs are sampled; whether mmap tracking and uprobe_multi work. */
int tb_pa_bpf_cpus(const tb_pa_bpf_t *b);
int tb_pa_bpf_has_multi(const tb_pa_bpf_t *b);

/* The samples ring's size in bytes. */
size_t tb_pa_bpf_ring_size(const tb_pa_bpf_t *b);

/* Attach probes at n file offsets of `path`, probe ids in `ids`. With
 * uprobe_multi: one link; else n uprobes. Returns a handle (free with
 * tb_pa_bpf_detach) or NULL + err (the kernel's reason). */
typedef struct tb_pa_ulink tb_pa_ulink_t;
tb_pa_ulink_t *tb_pa_bpf_attach_uprobes(tb_pa_bpf_t *b, const char *path, const uint64_t *offsets,
					const uint32_t *ids, size_t n, tb_err_t *err);
void tb_pa_bpf_detach(tb_pa_ulink_t *l);

/* Map fds for reading uprobe counts. */
int tb_pa_bpf_uhits_fd(const tb_pa_bpf_t *b);
int tb_pa_bpf_ucounts_fd(const tb_pa_bpf_t *b);
int tb_pa_bpf_ustacks_fd(const tb_pa_bpf_t *b);

#endif
