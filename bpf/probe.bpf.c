// SPDX-License-Identifier: GPL-2.0
/*
 * probe.bpf.c — the probe-agent's kernel side (libbpf CO-RE).
 *
 * Programs:
 *  - on_sample (perf_event, cpu-clock on every CPU): kernel + user stack of
 *    the interrupted task into the samples ring buffer, without waking the
 *    reader (BPF_RB_NO_WAKEUP): the agent drains on a timer. A sample is
 *    written with only the stack bytes it has, so short stacks cost little.
 *  - on_exec / on_exit (BTF tracepoints sched_process_exec/_exit): process
 *    lifecycle into the events ring buffer (exit only for the thread-group
 *    leader, i.e. the process). Exec and mmap records DO wake the agent:
 *    it must read /proc/PID/maps while the process lives (short-lived
 *    processes are gone by the next timed drain), and they are rare. The
 *    wakeup is forced: an adaptive one is skipped while older unread
 *    (no-wakeup) records sit in the ring.
 *  - on_sys_enter (raw tracepoint sys_enter, mmap only): an executable file
 *    mapping is being created — a library loaded by ld.so or dlopen. The
 *    file is found from the descriptor argument (inode, device, name); the
 *    agent reads the path from /proc/PID/maps. (fentry/LSM programs would
 *    be cheaper, but kernels without BPF trampolines refuse them; this
 *    tracepoint works everywhere BTF does. Its cost is one compare per
 *    syscall.) An exec'd image itself comes with on_exec.
 *  - on_uprobe_multi / on_uprobe (uprobe): one hit of a watched function;
 *    the probe id is the attach cookie. Exact totals per probe in a per-CPU
 *    array; the same hits also per (probe, pid, user stack) in a hash map
 *    (best effort: when it is full only the total counts, and a loss counter
 *    says so). on_uprobe_multi is loaded with expected_attach_type
 *    BPF_TRACE_UPROBE_MULTI by the agent (libbpf 1.1 has no section name for
 *    it); on_uprobe is the single-uprobe fallback.
 *
 * Filters (set by the agent before load): a set of pids (tgids) and a set of
 * cgroup ids (v2; the task's cgroup or any ancestor up to
 * TB_PROBE_CGROUP_LEVELS levels matches). With both set, both must match.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "probe.h"

char LICENSE[] SEC("license") = "GPL";

#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20

#if defined(__TARGET_ARCH_x86)
#define TB_NR_MMAP 9
#elif defined(__TARGET_ARCH_arm64)
#define TB_NR_MMAP 222
#else
#error "probe.bpf.c: the mmap syscall number of this architecture is not known"
#endif

const volatile __u32 filter_pids = 0;
const volatile __u32 filter_cgroups = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tb_pev_sample);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TB_LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TB_PROBE_MAX_FILTER);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TB_PROBE_MAX_FILTER);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TB_PROBE_MAX_UPROBES);
	__type(key, __u32);
	__type(value, __u64);
} uhits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TB_PROBE_MAX_UCOUNTS);
	__type(key, struct tb_ukey);
	__type(value, __u64);
} ucounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, TB_PROBE_MAX_USTACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, TB_PROBE_MAX_DEPTH * sizeof(__u64));
} ustacks SEC(".maps");

static __always_inline void count_lost(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&lost, &idx);

	if (v)
		*v += 1;
}

static __always_inline int cgroup_wanted(void)
{
	__u64 id = bpf_get_current_cgroup_id();

	if (bpf_map_lookup_elem(&cgroup_filter, &id))
		return 1;
	for (int level = 0; level < TB_PROBE_CGROUP_LEVELS; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (id == 0)
			break;
		if (bpf_map_lookup_elem(&cgroup_filter, &id))
			return 1;
	}
	return 0;
}

static __always_inline int wanted(__u32 tgid)
{
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return 0;
	if (filter_cgroups && !cgroup_wanted())
		return 0;
	return 1;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct task_struct *task;
	struct tb_pev_sample *s;
	long kb, ub;
	__u64 size;

	if (tgid == 0 || !wanted(tgid)) /* idle */
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	s->type = TB_PEV_SAMPLE;
	s->pid = tgid;
	s->tid = (__u32)id;
	s->cpu = bpf_get_smp_processor_id();
	s->ts_ns = bpf_ktime_get_boot_ns();
	s->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(s->comm, sizeof(s->comm));

	kb = bpf_get_stack(ctx, s->ips, TB_PROBE_MAX_DEPTH * sizeof(__u64), 0);
	if (kb < 0) {
		count_lost(TB_LOST_KSTACK);
		kb = 0;
	}
	if (kb > TB_PROBE_MAX_DEPTH * sizeof(__u64))
		kb = TB_PROBE_MAX_DEPTH * sizeof(__u64);
	kb &= ~7L;

	ub = 0;
	task = bpf_get_current_task_btf();
	if (BPF_CORE_READ(task, mm)) { /* kernel threads have no user stack */
		ub = bpf_get_stack(ctx, (void *)s->ips + kb, TB_PROBE_MAX_DEPTH * sizeof(__u64),
				   BPF_F_USER_STACK);
		if (ub < 0) {
			count_lost(TB_LOST_USTACK);
			ub = 0;
		}
		if (ub > TB_PROBE_MAX_DEPTH * sizeof(__u64))
			ub = TB_PROBE_MAX_DEPTH * sizeof(__u64);
		ub &= ~7L;
	}
	s->n_kernel = kb / sizeof(__u64);
	s->n_user = ub / sizeof(__u64);
	size = TB_PEV_SAMPLE_HEADER + kb + ub;
	if (size > sizeof(*s))
		return 0;
	if (bpf_ringbuf_output(&samples, s, size, BPF_RB_NO_WAKEUP) < 0)
		count_lost(TB_LOST_SAMPLES);
	return 0;
}

static __always_inline void task_event(struct task_struct *p, __u32 type)
{
	struct tb_pev_task *e;
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!wanted(tgid))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(TB_LOST_EVENTS);
		return;
	}
	e->type = type;
	e->pid = tgid;
	e->tid = BPF_CORE_READ(p, pid);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->start_ns = BPF_CORE_READ(p, start_boottime);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), p->comm);
	e->exit_code = type == TB_PEV_EXIT ? BPF_CORE_READ(p, exit_code) : 0;
	e->pad = 0;
	/* exec wakes the agent: it reads the new image's maps while it lives */
	bpf_ringbuf_submit(e, type == TB_PEV_EXEC ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	task_event(p, TB_PEV_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid)) /* a thread, not the process */
		return 0;
	task_event(p, TB_PEV_EXIT);
	return 0;
}

/* The file behind descriptor fd of the current task (NULL if none). */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **arr;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	arr = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &arr[fd]) < 0)
		return NULL;
	return f;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	__u32 tgid;
	struct tb_pev_mmap *e;
	struct file *file;
	const unsigned char *name;
	unsigned long prot, flags;

	if (ctx->args[1] != TB_NR_MMAP)
		return 0;
	prot = PT_REGS_PARM3_CORE_SYSCALL(regs);
	flags = PT_REGS_PARM4_CORE_SYSCALL(regs);
	if (!(prot & PROT_EXEC) || (flags & MAP_ANONYMOUS))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!wanted(tgid))
		return 0;
	file = fd_file((int)PT_REGS_PARM5_CORE_SYSCALL(regs));
	if (!file)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(TB_LOST_EVENTS);
		return 0;
	}
	e->type = TB_PEV_MMAP;
	e->pid = tgid;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->ino = BPF_CORE_READ(file, f_inode, i_ino);
	e->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	e->pad = 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(e->name, sizeof(e->name), name) < 0)
		e->name[0] = '\0';
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP); /* wakes the agent, as exec does */
	return 0;
}

static __always_inline int uprobe_hit(struct pt_regs *ctx)
{
	__u32 probe = (__u32)bpf_get_attach_cookie(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct tb_ukey key = {};
	__u64 *v, one = 1;

	if (probe >= TB_PROBE_MAX_UPROBES || !wanted(tgid))
		return 0;
	v = bpf_map_lookup_elem(&uhits, &probe);
	if (v)
		*v += 1;
	key.probe = probe;
	key.pid = tgid;
	key.stack_id = bpf_get_stackid(ctx, &ustacks, BPF_F_USER_STACK);
	if (bpf_probe_read_user(&key.caller, sizeof(key.caller), (void *)PT_REGS_SP(ctx)) < 0)
		key.caller = 0;
	v = bpf_map_lookup_elem(&ucounts, &key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return 0;
	}
	if (bpf_map_update_elem(&ucounts, &key, &one, BPF_NOEXIST) == 0)
		return 0;
	v = bpf_map_lookup_elem(&ucounts, &key); /* another CPU created it meanwhile */
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		count_lost(TB_LOST_UPROBE_KEYS);
	return 0;
}

SEC("uprobe")
int on_uprobe_multi(struct pt_regs *ctx)
{
	return uprobe_hit(ctx);
}

SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	return uprobe_hit(ctx);
}
