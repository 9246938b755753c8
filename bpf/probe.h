/*
 * probe.h — what the probe-agent's BPF programs (probe.bpf.c) and its loader
 * (services/probe-agent/) share: record layouts of the two ring buffers, the
 * uprobe count keys and the indexes of the loss counters.
 *
 * Layouts are plain fixed-size C; both sides are built for the same
 * architecture, so no packing tricks are needed. Types are the kernel's
 * __u32/__u64: vmlinux.h gives them on the BPF side, <linux/types.h> in user
 * space.
 */
#ifndef TB_BPF_PROBE_H
#define TB_BPF_PROBE_H

#define TB_PROBE_MAX_DEPTH 127	   /* frames per stack (PERF_MAX_STACK_DEPTH) */
#define TB_PROBE_COMM_LEN 16	   /* TASK_COMM_LEN */
#define TB_PROBE_NAME_LEN 64	   /* file name (last path component) of an mmap event */
#define TB_PROBE_MAX_UPROBES 8192  /* probe ids (uprobe cookies) 0 .. MAX-1 */
#define TB_PROBE_MAX_UCOUNTS 16384 /* distinct (probe, pid, stack) keys counted in-kernel */
#define TB_PROBE_MAX_USTACKS 4096  /* distinct user stacks of uprobe hits */
#define TB_PROBE_MAX_FILTER 1024   /* pids / cgroup ids in a filter */
#define TB_PROBE_CGROUP_LEVELS 12  /* ancestor levels checked against the cgroup filter */

/* Record types (first field of every ring buffer record). */
enum tb_pev_type {
	TB_PEV_SAMPLE = 1,
	TB_PEV_EXEC = 2,
	TB_PEV_EXIT = 3,
	TB_PEV_MMAP = 4,
};

/* One perf_event sample (samples ring buffer). Only the used part of ips is
 * sent: header + (n_kernel + n_user) * 8 bytes. ips holds the kernel frames
 * first, then the user frames, each innermost first. */
struct tb_pev_sample {
	__u32 type;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 cpu;
	__u64 ts_ns; /* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	char comm[TB_PROBE_COMM_LEN];
	__u32 n_kernel;
	__u32 n_user;
	__u64 ips[2 * TB_PROBE_MAX_DEPTH];
};

#define TB_PEV_SAMPLE_HEADER ((unsigned long)&((struct tb_pev_sample *)0)->ips)

/* Process exec / exit (events ring buffer). */
struct tb_pev_task {
	__u32 type;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid;
	__u64 ts_ns; /* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	__u64 start_ns; /* task start, CLOCK_BOOTTIME (task->start_boottime) */
	char comm[TB_PROBE_COMM_LEN];
	__s32 exit_code;
	__u32 pad;
};

/* An executable file mapping being created (events ring buffer). The loader
 * turns (pid, dev, ino) into a path through /proc/PID/maps; name is the
 * fallback when the process is already gone. */
struct tb_pev_mmap {
	__u32 type;
	__u32 pid;
	__u64 ts_ns; /* CLOCK_BOOTTIME */
	__u64 ino;
	__u32 dev; /* kernel dev_t (MAJOR << 20 | MINOR) */
	__u32 pad;
	char name[TB_PROBE_NAME_LEN];
};

/* Key of the in-kernel uprobe counts per distinct stack. A uprobe fires on
 * a function's first instruction, before its prologue saved the frame
 * pointer: the frame-pointer walk then skips the immediate caller, whose
 * return address is still on top of the stack. It is read separately
 * (caller) and put back between frame 0 and the walked frames. */
struct tb_ukey {
	__u32 probe;	/* probe id = uprobe cookie */
	__u32 pid;	/* tgid, to normalize the stack with its maps */
	__s32 stack_id; /* in the ustacks map; negative when the stack was not captured */
	__u32 pad;
	__u64 caller; /* return address at the top of the user stack; 0 if unreadable */
};

/* Indexes of the per-CPU loss counters. */
enum tb_lost_idx {
	TB_LOST_SAMPLES = 0,	 /* samples ring buffer full */
	TB_LOST_EVENTS = 1,	 /* events ring buffer full */
	TB_LOST_KSTACK = 2,	 /* sample kept but its kernel stack could not be read */
	TB_LOST_USTACK = 3,	 /* sample kept but its user stack could not be read */
	TB_LOST_UPROBE_KEYS = 4, /* uprobe hit counted, but not per stack (count map full) */
	TB_LOST_MAX = 5,
};

#endif
