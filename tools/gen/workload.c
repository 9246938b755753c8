/*
 * workload.c — the fault suite's generated workload: Tetragon kprobe JSON
 * lines, probe-agent ProbeBatches, and the artifacts and findings they hit.
 *
 * Why a generator and not recorded data: the suite compares two runs of the
 * same input, so the input must be reproducible byte for byte, large (tens
 * of thousands of events) and cheap to make. Every value below is a pure
 * function of (settings, index) through the same splitmix64 mixer as
 * synth.c: Tetragon line i, probe batch b, stack s of artifact a are always
 * the same, whatever range is generated, so the input of two runs (or two
 * halves of one) is identical.
 *
 * Shape (gen.h, gen_work_t):
 *   - artifacts a = 0..A-1: image digest, an application binary
 *     /opt/appA/bin/appA and a library /opt/appA/lib/libfA.so, each with a
 *     build-id and a purl, `symbols` functions each (appA_fn_K, libfA_fn_K);
 *   - containers c = 0..C-1, each running artifact c mod A;
 *   - a pool of `stacks` user stacks per artifact over its two modules, with
 *     kernel frames on top (Tetragon) or below (probe samples);
 *   - two findings per artifact: the library's functions 0 and 1, the
 *     application's function 2 (so scores have evidence).
 * Tetragon events carry no build-ids (Tetragon has none); they correlate
 * through their container's image digest. Probe frames carry build-ids.
 *
 * Faults in the input itself, on purpose: a Tetragon line may be sent twice
 * (the same bytes: at-least-once must collapse it), a probe batch may be
 * sent twice (an agent retry), and a few lines/batches are malformed (cut
 * JSON, a wrong type, an uppercase build-id) so dead letters are exercised.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "tb/hash.h"

static const char *const kprobe_fns[] = {"security_file_open", "tcp_connect", "__x64_sys_write",
					 "security_bprm_check"};
static const char *const kernel_syms[] = {"do_syscall_64", "entry_SYSCALL_64_after_hwframe",
					  "ksys_write",	   "vfs_write",
					  "__fdget_pos",   "path_openat"};
#define N_KSYMS (sizeof(kernel_syms) / sizeof(kernel_syms[0]))

/* Field numbers of the mixer (distinct per use so values are independent). */
enum {
	F_NODE = 1,
	F_CONT,
	F_STACK,
	F_COUNT,
	F_DUP,
	F_BAD,
	F_FN,
	F_PID,
	F_DEPTH = 100,
	F_MOD = 200,
	F_SYM = 300,
	F_DELTA = 400,
	F_KDEPTH = 500,
	F_KSYM = 600,
};

/* Entity spaces, so a batch, a line and a stack never share mixer inputs. */
#define E_LINE 0ULL
#define E_BATCH (1ULL << 40)
#define E_STACK (2ULL << 40)
#define E_ART (3ULL << 40)
#define E_CONT (4ULL << 40)
#define E_SAMPLE (5ULL << 40)

void gen_work_defaults(gen_work_t *w)
{
	memset(w, 0, sizeof(*w));
	w->seed = 6;
	w->nodes = 4;
	w->containers = 6;
	w->artifacts = 3;
	w->stacks = 40;
	w->symbols = 24;
	w->depth = 8;
	w->start_ns = 1764000000000000000LL; /* 2025-11-24T16:00:00Z */
	w->step_ns = 20000000;		     /* 50 Tetragon events per second */
	w->batch_samples = 48;
	w->dup_every = 50;
	w->bad_every = 2000;
	w->tenant = "default";
}

int gen_work_valid(const gen_work_t *w)
{
	return w->nodes > 0 && w->containers > 0 && w->artifacts > 0 && w->stacks > 0 && w->symbols >= 3 &&
	       w->depth > 0 && w->start_ns >= 0 && w->step_ns > 0 && w->batch_samples > 0 &&
	       w->dup_every >= 0 && w->bad_every >= 0 && w->tenant && w->tenant[0];
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(const gen_work_t *w, uint64_t entity, uint64_t field)
{
	return mix(w->seed ^ mix(entity * 0x100000001b3ULL + field));
}

static int pick(const gen_work_t *w, uint64_t entity, uint64_t field, int n)
{
	return (int)(rnd(w, entity, field) % (uint64_t)n);
}

/* "every" in {0: never, k: about one in k}, decided by (entity, field). */
static int one_in(const gen_work_t *w, uint64_t entity, uint64_t field, int every)
{
	return every > 0 && rnd(w, entity, field) % (uint64_t)every == 0;
}

static void hex_of(const gen_work_t *w, uint64_t entity, size_t bytes, char *out)
{
	uint8_t b[32];

	for (size_t i = 0; i < bytes && i < sizeof(b); i++)
		b[i] = (uint8_t)(rnd(w, entity, 1000 + i / 8) >> (8 * (i % 8)));
	tb_hex(b, bytes, out);
}

/* ---- the catalog: artifacts, modules, symbols --------------------------------- */

void gen_work_digest(const gen_work_t *w, int a, char out[72])
{
	memcpy(out, "sha256:", 7);
	hex_of(w, E_ART + (uint64_t)a * 4, 32, out + 7);
}

/* Module m of artifact a: 0 = application binary, 1 = library. */
static void module_path(int a, int m, char *out, size_t cap)
{
	if (m == 0)
		snprintf(out, cap, "/opt/app%d/bin/app%d", a, a);
	else
		snprintf(out, cap, "/opt/app%d/lib/libf%d.so", a, a);
}

static void module_build_id(const gen_work_t *w, int a, int m, char out[41])
{
	hex_of(w, E_ART + (uint64_t)a * 4 + 1 + (uint64_t)m, 20, out);
}

static void module_purl(int a, int m, char *out, size_t cap)
{
	if (m == 0)
		snprintf(out, cap, "pkg:generic/app%d@1.%d.0", a, a);
	else
		snprintf(out, cap, "pkg:generic/libf%d@2.%d.1", a, a);
}

static void symbol_name(int a, int m, int k, char *out, size_t cap)
{
	if (m == 0)
		snprintf(out, cap, "app%d_fn_%d", a, k);
	else
		snprintf(out, cap, "libf%d_fn_%d", a, k);
}

static uint64_t symbol_offset(int m, int k)
{
	return (m == 0 ? 0x11000ULL : 0x4000ULL) + (uint64_t)k * 0x80;
}

json_t *gen_work_artifact_json(const gen_work_t *w, int a)
{
	char digest[72], path[64], bid[41], purl[64], name[32], version[16];
	json_t *comps = json_array(), *bins = json_array(), *o;

	gen_work_digest(w, a, digest);
	for (int m = 0; m < 2; m++) {
		module_path(a, m, path, sizeof(path));
		module_build_id(w, a, m, bid);
		module_purl(a, m, purl, sizeof(purl));
		snprintf(name, sizeof(name), m == 0 ? "app%d" : "libf%d", a);
		snprintf(version, sizeof(version), m == 0 ? "1.%d.0" : "2.%d.1", a);
		json_array_append_new(
		    comps, json_pack("{s:s,s:s,s:s}", "purl", purl, "name", name, "version", version));
		json_array_append_new(
		    bins, json_pack("{s:s,s:s,s:s}", "path", path, "build_id", bid, "purl", purl));
	}
	snprintf(name, sizeof(name), "fault-app%d", a);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "tenant", w->tenant, "digest", digest, "name",
		      name, "version", "1.0", "sbom_format", "cyclonedx-1.5", "registered_ns",
		      "1764000000000000000", "components", comps, "binaries", bins);
	return o;
}

/* Finding f of artifact a: f = 0 the library's functions 0 and 1, f = 1 the
 * application's function 2. */
json_t *gen_work_finding_json(const gen_work_t *w, int a, int f)
{
	char digest[72], purl[64], id[32], vuln[32], s0[32], s1[32];
	json_t *syms = json_array();

	gen_work_digest(w, a, digest);
	module_purl(a, f == 0 ? 1 : 0, purl, sizeof(purl));
	snprintf(id, sizeof(id), "F-%d-%d", a, f);
	snprintf(vuln, sizeof(vuln), "CVE-2026-%04d", 100 + a * 2 + f);
	if (f == 0) {
		symbol_name(a, 1, 0, s0, sizeof(s0));
		symbol_name(a, 1, 1, s1, sizeof(s1));
		json_array_append_new(syms, json_string(s0));
		json_array_append_new(syms, json_string(s1));
	} else {
		symbol_name(a, 0, 2, s0, sizeof(s0));
		json_array_append_new(syms, json_string(s0));
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "tenant", w->tenant, "finding_id", id, "vuln_id",
			 vuln, "purl", purl, "artifact_digest", digest, "symbols", syms, "registered_ns",
			 "1764000000000000000");
}

/* ---- stacks --------------------------------------------------------------------- */

typedef struct wframe {
	int module; /* 0 app, 1 lib */
	int sym;
	uint64_t offset; /* file offset */
} wframe_t;

/* User frames of stack s of artifact a, innermost first; returns how many. */
static int stack_frames(const gen_work_t *w, int a, int s, wframe_t *out, int cap)
{
	uint64_t e = E_STACK + (uint64_t)a * 100000 + (uint64_t)s;
	int n = 1 + pick(w, e, F_DEPTH, w->depth);

	if (n > cap)
		n = cap;
	for (int f = 0; f < n; f++) {
		/* the outermost frame is the application's main loop; library code inside */
		out[f].module = f == n - 1 ? 0 : pick(w, e, F_MOD + (uint64_t)f, 2);
		out[f].sym = pick(w, e, F_SYM + (uint64_t)f, w->symbols);
		out[f].offset = symbol_offset(out[f].module, out[f].sym) +
				(uint64_t)pick(w, e, F_DELTA + (uint64_t)f, 0x80);
	}
	return n;
}

static int kernel_depth(const gen_work_t *w, uint64_t e)
{
	return 1 + pick(w, e, F_KDEPTH, 4);
}

/* ---- Tetragon lines ---------------------------------------------------------------- */

static void rfc3339(int64_t ns, char *out, size_t cap)
{
	time_t sec = (time_t)(ns / 1000000000LL);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%09lldZ", base, (long long)(ns % 1000000000LL));
}

static json_t *tetragon_pod(const gen_work_t *w, int c, int a)
{
	char cid[65], cid_full[96], ns[16], pod[32], wl[16], image[48], image_id[128], digest[72];

	hex_of(w, E_CONT + (uint64_t)c, 32, cid);
	snprintf(cid_full, sizeof(cid_full), "containerd://%s", cid);
	gen_work_digest(w, a, digest);
	snprintf(ns, sizeof(ns), "ns-%d", c % 2);
	snprintf(wl, sizeof(wl), "app%d", a);
	snprintf(pod, sizeof(pod), "app%d-%d-x%dz", a, c, c * 7 % 10);
	snprintf(image, sizeof(image), "registry.local/app%d:1.0", a);
	snprintf(image_id, sizeof(image_id), "registry.local/app%d@%s", a, digest);
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}}}", "namespace", ns, "name", pod,
			 "workload", wl, "workload_kind", "Deployment", "container", "id", cid_full, "name",
			 wl, "image", "id", image_id, "name", image);
}

/* Standard base64 with padding (Tetragon writes exec_id so). */
static void base64(const char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(uint8_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (uint8_t)in[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

/* The Tetragon kprobe event of line i as a JSON object (v1.7 export shape,
 * 64-bit numbers as strings as protojson writes them). */
json_t *gen_work_tetragon_json(const gen_work_t *w, int64_t i)
{
	uint64_t e = E_LINE + (uint64_t)i;
	int node = pick(w, e, F_NODE, w->nodes);
	int c = pick(w, e, F_CONT, w->containers);
	int a = c % w->artifacts;
	int s = pick(w, e, F_STACK, w->stacks);
	int pid = 200 + c * 10 + pick(w, e, F_PID, 3);
	int kd = kernel_depth(w, e);
	wframe_t fr[64];
	int n = stack_frames(w, a, s, fr, 64);
	char node_name[16], time_s[48], exec_raw[96], exec_b64[136], bin[64], buf[64];
	json_t *ks = json_array(), *us = json_array(), *proc, *kp, *o;

	snprintf(node_name, sizeof(node_name), "node-%d", node);
	rfc3339(w->start_ns + i * w->step_ns, time_s, sizeof(time_s));
	snprintf(exec_raw, sizeof(exec_raw), "%s:%lld:%d", node_name, 1000000000LL + c * 1000LL + pid, pid);
	base64(exec_raw, strlen(exec_raw), exec_b64);
	module_path(a, 0, bin, sizeof(bin));
	for (int k = 0; k < kd; k++) {
		snprintf(buf, sizeof(buf), "%d", 16 + 8 * k);
		json_array_append_new(ks,
				      json_pack("{s:s,s:s}", "symbol",
						kernel_syms[(k + pick(w, e, F_KSYM, (int)N_KSYMS)) % N_KSYMS],
						"offset", buf));
	}
	for (int f = 0; f < n; f++) {
		char path[64], sym[32], off[24];

		module_path(a, fr[f].module, path, sizeof(path));
		symbol_name(a, fr[f].module, fr[f].sym, sym, sizeof(sym));
		snprintf(off, sizeof(off), "%llu", (unsigned long long)fr[f].offset);
		json_array_append_new(
		    us, json_pack("{s:s,s:s,s:s}", "module", path, "offset", off, "symbol", sym));
	}
	proc = json_pack("{s:s,s:i,s:i,s:s,s:s,s:o,s:i}", "exec_id", exec_b64, "pid", pid, "uid", 1000,
			 "binary", bin, "flags", "execve clone", "pod", tetragon_pod(w, c, a), "tid",
			 pid + pick(w, e, F_PID + 1, 2));
	kp = json_pack("{s:o,s:s,s:s,s:s,s:o,s:o}", "process", proc, "function_name",
		       kprobe_fns[pick(w, e, F_FN, 4)], "action", "KPROBE_ACTION_POST", "policy_name",
		       "tb-fault", "kernel_stack_trace", ks, "user_stack_trace", us);
	o = json_pack("{s:o,s:s,s:s}", "process_kprobe", kp, "node_name", node_name, "time", time_s);
	if (one_in(w, e, F_COUNT, 5)) {
		snprintf(buf, sizeof(buf), "%d", 2 + pick(w, e, F_COUNT + 1, 9));
		json_object_set_new(o, "aggregation_info", json_pack("{s:s}", "count", buf));
	}
	return o;
}

int gen_work_tetragon_dup(const gen_work_t *w, int64_t i)
{
	return one_in(w, E_LINE + (uint64_t)i, F_DUP, w->dup_every);
}

int gen_work_tetragon_bad(const gen_work_t *w, int64_t i)
{
	return one_in(w, E_LINE + (uint64_t)i, F_BAD, w->bad_every);
}

/* A malformed neighbour of line `good`: cut in the middle (not JSON), or
 * whole JSON with a wrong type (a pid that is an object). Either way the
 * adapter must dead-letter it with a reason. */
char *gen_work_tetragon_malformed(const gen_work_t *w, int64_t i, const char *good)
{
	if (rnd(w, E_LINE + (uint64_t)i, F_BAD + 1) % 2 == 0)
		return strndup(good, strlen(good) / 2);
	const char *p = strstr(good, "\"pid\":");
	char *out;

	if (!p || asprintf(&out, "%.*s\"pid\":{\"value\":1},\"x\":%s", (int)(p - good), good,
			   p + strlen("\"pid\":")) < 0)
		return strndup(good, strlen(good) / 2);
	return out;
}

void gen_work_tetragon_key(const gen_work_t *w, int64_t i, char *out, size_t cap)
{
	uint64_t e = E_LINE + (uint64_t)i;
	int c = pick(w, e, F_CONT, w->containers);

	snprintf(out, cap, "node-%d/%d", pick(w, e, F_NODE, w->nodes), 200 + c * 10 + pick(w, e, F_PID, 3));
}

/* ---- probe batches ------------------------------------------------------------------ */

static char *sdup(const char *s, int *oom)
{
	char *d = strdup(s);

	if (!d)
		*oom = 1;
	return d;
}

static char *sfmt(int *oom, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *sfmt(int *oom, const char *f, ...)
{
	va_list ap;
	char *out = NULL;

	va_start(ap, f);
	if (vasprintf(&out, f, ap) < 0) {
		*oom = 1;
		out = NULL;
	}
	va_end(ap);
	return out;
}

static void uframes(const gen_work_t *w, int a, const wframe_t *fr, int n, tb_probe_uframe_t *out, int *oom)
{
	char path[64], bid[41], sym[32];

	for (int f = 0; f < n; f++) {
		module_path(a, fr[f].module, path, sizeof(path));
		module_build_id(w, a, fr[f].module, bid);
		symbol_name(a, fr[f].module, fr[f].sym, sym, sizeof(sym));
		out[f].build_id = sdup(bid, oom);
		out[f].module = sdup(path, oom);
		out[f].symbol = sdup(sym, oom);
		out[f].file_offset = fr[f].offset;
	}
}

/* Node of batch b, its per-node sequence number and window. */
static int batch_node(const gen_work_t *w, int64_t b)
{
	return (int)(b % w->nodes);
}

static int64_t batch_start(const gen_work_t *w, int64_t b)
{
	return w->start_ns + (b / w->nodes) * 1000000000LL;
}

/* One process per container on the node. */
static int fill_processes(const gen_work_t *w, int node, tb_probe_batch_t *pb, int *oom)
{
	char bid[41], cid[65];

	pb->processes = calloc((size_t)w->containers, sizeof(*pb->processes));
	if (!pb->processes)
		return -1;
	pb->n_processes = (size_t)w->containers;
	for (int c = 0; c < w->containers; c++) {
		tb_probe_process_t *p = &pb->processes[c];
		int a = c % w->artifacts;
		char bin[64];

		p->pid = (uint32_t)(3000 + c);
		p->start_ns = w->start_ns - 1000000000LL * (c + 1);
		p->exec_id = sfmt(oom, "node-%d:%lld:%u", node, (long long)p->start_ns, p->pid);
		module_path(a, 0, bin, sizeof(bin));
		module_build_id(w, a, 0, bid);
		hex_of(w, E_CONT + (uint64_t)c, 32, cid);
		p->binary = sdup(bin, oom);
		p->binary_build_id = sdup(bid, oom);
		p->container_id = sdup(cid, oom);
		p->cgroup_id = 5000 + (uint64_t)c;
		p->comm = sfmt(oom, "app%d", a);
	}
	return 0;
}

static int fill_samples(const gen_work_t *w, int64_t b, tb_probe_batch_t *pb, int *oom)
{
	int64_t start = batch_start(w, b);

	pb->samples = calloc((size_t)w->batch_samples, sizeof(*pb->samples));
	if (!pb->samples)
		return -1;
	pb->n_samples = (size_t)w->batch_samples;
	for (int k = 0; k < w->batch_samples; k++) {
		tb_probe_sample_t *s = &pb->samples[k];
		uint64_t e = E_SAMPLE + (uint64_t)b * 1024 + (uint64_t)k;
		int c = pick(w, e, F_CONT, w->containers), a = c % w->artifacts;
		wframe_t fr[64];
		int n = stack_frames(w, a, pick(w, e, F_STACK, w->stacks), fr, 64), kd = kernel_depth(w, e);

		s->pid = s->tid = (uint32_t)(3000 + c);
		s->cpu = k % 2;
		s->first_ns = start + (int64_t)k * (1000000000LL / w->batch_samples);
		s->last_ns = s->first_ns + (int64_t)pick(w, e, F_DELTA, 1000000);
		s->count = 1 + pick(w, e, F_COUNT, 4);
		s->kernel_frames = calloc((size_t)kd, sizeof(*s->kernel_frames));
		s->user_frames = calloc((size_t)n, sizeof(*s->user_frames));
		if (!s->kernel_frames || !s->user_frames)
			return -1;
		s->n_kernel_frames = (size_t)kd;
		s->n_user_frames = (size_t)n;
		for (int f = 0; f < kd; f++) {
			s->kernel_frames[f].symbol =
			    sdup(kernel_syms[(f + pick(w, e, F_KSYM, (int)N_KSYMS)) % N_KSYMS], oom);
			s->kernel_frames[f].offset = (uint64_t)(16 + 8 * f);
		}
		uframes(w, a, fr, n, s->user_frames, oom);
	}
	return 0;
}

/* Uprobe counts on the findings' library functions of one artifact: exact
 * hits, sometimes 0 while attached (negative evidence). */
static int fill_uprobes(const gen_work_t *w, int64_t b, tb_probe_batch_t *pb, int *oom)
{
	int a = (int)((b / w->nodes) % w->artifacts);
	char path[64], bid[41], sym[32];

	pb->uprobe_counts = calloc(2, sizeof(*pb->uprobe_counts));
	if (!pb->uprobe_counts)
		return -1;
	pb->n_uprobe_counts = 2;
	module_path(a, 1, path, sizeof(path));
	module_build_id(w, a, 1, bid);
	for (int k = 0; k < 2; k++) {
		tb_probe_uprobe_count_t *u = &pb->uprobe_counts[k];
		wframe_t fr[2] = {{1, k, symbol_offset(1, k)}, {0, 3, symbol_offset(0, 3) + 5}};

		symbol_name(a, 1, k, sym, sizeof(sym));
		u->build_id = sdup(bid, oom);
		u->binary = sdup(path, oom);
		u->symbol = sdup(sym, oom);
		u->file_offset = symbol_offset(1, k);
		u->hits = pick(w, E_BATCH + (uint64_t)b, F_COUNT + (uint64_t)k, 6);
		u->attached = 1;
		u->stack = calloc(2, sizeof(*u->stack));
		if (!u->stack)
			return -1;
		u->n_stack = 2;
		uframes(w, a, fr, 2, u->stack, oom);
	}
	return 0;
}

/* A library load every few batches. */
static int fill_loads(const gen_work_t *w, int64_t b, tb_probe_batch_t *pb, int *oom)
{
	int c = (int)((b / w->nodes) % w->containers), a = c % w->artifacts;
	char path[64], bid[41];

	if ((b / w->nodes) % 3 != 0)
		return 0;
	pb->loads = calloc(1, sizeof(*pb->loads));
	if (!pb->loads)
		return -1;
	pb->n_loads = 1;
	module_path(a, 1, path, sizeof(path));
	module_build_id(w, a, 1, bid);
	pb->loads[0].pid = (uint32_t)(3000 + c);
	pb->loads[0].path = sdup(path, oom);
	pb->loads[0].build_id = sdup(bid, oom);
	pb->loads[0].ts_ns = batch_start(w, b) + 1000;
	return 0;
}

int gen_work_probe_batch(const gen_work_t *w, int64_t b, tb_probe_batch_t *pb, tb_err_t *err)
{
	int node = batch_node(w, b), oom = 0;

	pb->node = sfmt(&oom, "node-%d", node);
	pb->boot_id = sfmt(&oom, "0000000%d-fa17-4b00-8000-00000000000%d", node % 10, node % 10);
	pb->agent_version = sdup("tb-gen-workload", &oom);
	pb->seq = b / w->nodes;
	pb->start_ns = batch_start(w, b);
	pb->end_ns = pb->start_ns + 1000000000LL - 1;
	if (fill_processes(w, node, pb, &oom) < 0 || fill_samples(w, b, pb, &oom) < 0 ||
	    fill_uprobes(w, b, pb, &oom) < 0 || fill_loads(w, b, pb, &oom) < 0 || oom)
		return tb_err(err, "probe batch %lld: out of memory", (long long)b);
	if (gen_work_probe_bad(w, b)) /* the adapter refuses a whole batch with a bad build-id */
		pb->samples[0].user_frames[0].build_id[0] = 'X';
	return 0;
}

size_t gen_work_probe_events(const tb_probe_batch_t *pb)
{
	return pb->n_samples + pb->n_uprobe_counts + pb->n_loads;
}

int gen_work_probe_dup(const gen_work_t *w, int64_t b)
{
	return one_in(w, E_BATCH + (uint64_t)b, F_DUP, w->dup_every);
}

int gen_work_probe_bad(const gen_work_t *w, int64_t b)
{
	/* batches carry ~50 events each: about as many bad batches as bad lines per event */
	return one_in(w, E_BATCH + (uint64_t)b, F_BAD, w->bad_every > 0 ? (w->bad_every + 49) / 50 : 0);
}

void gen_work_probe_key(const gen_work_t *w, int64_t b, char *out, size_t cap)
{
	snprintf(out, cap, "node-%d", batch_node(w, b));
}
