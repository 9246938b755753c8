/*
 * tb/records.h — the in-memory form of the records that travel on our topics.
 *
 * Services work on these structs; tb/avro.h converts them to and from Avro
 * single-object encoding with the schemas in schemas/avro/. Field meanings are
 * the contract in docs/ARCHITECTURE.md ("Records"). Ownership: every char * and
 * array is owned by its record (malloc'd) and released by the matching
 * *_free() / *_clear(); NULL strings mean "absent" and encode as the Avro
 * default (null or "").
 *
 * Adding a field: add it to the struct, to schemas/avro/NAME.avsc (with a
 * default, so older writers stay readable) and to the record's descriptor in
 * common/tb_records.c, which also makes *_clear() free it. The codec refuses
 * to start (tb_avro_registry_new) when a schema and its descriptor differ.
 */
#ifndef TB_RECORDS_H
#define TB_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#define TB_EVENT_ID_LEN 16
#define TB_MAX_FRAMES 127 /* PERF_MAX_STACK_DEPTH; Tetragon caps there too */

/* ---- RuntimeEvent (tb.events.raw.v1): adapter output, may hold raw data ---- */

typedef struct tb_raw_frame {
	int has_address;
	uint64_t address;     /* raw absolute address (never stored past canonicalizer) */
	char *module;         /* user frames: module path; kernel frames: [module] or NULL */
	uint64_t offset;      /* user: file offset in module; kernel: offset into symbol */
	char *symbol;         /* may be NULL (stripped / unresolved) */
	char *build_id;       /* lowercase hex GNU build-id, may be NULL */
} tb_raw_frame_t;

typedef struct tb_process {
	uint32_t pid;
	uint32_t tid;
	int64_t uid;          /* effective uid; -1 = unknown */
	char *binary;         /* absolute path of the executable */
	char *binary_build_id;
	char *args;           /* argv[1..] as Tetragon joins them (dropped by canonicalizer) */
	char *cwd;            /* dropped by canonicalizer */
	char *exec_id;        /* Tetragon exec_id or ours ("node:start_ns:pid") */
	char *parent_exec_id;
	char *comm;
	char **env;           /* "KEY=VALUE" (dropped by canonicalizer) */
	size_t n_env;
} tb_process_t;

typedef struct tb_container {
	char *id;             /* runtime-scheme-free container id */
	char *name;
	char *image;          /* image name:tag */
	char *image_digest;   /* "sha256:..." */
	char *pod;
	char *namespace_;
	char *workload;
	char *workload_kind;
	uint64_t cgroup_id;
} tb_container_t;

typedef struct tb_runtime_event {
	uint8_t event_id[TB_EVENT_ID_LEN];
	char *tenant;
	char *source;         /* "tetragon" | "probe" | "api" */
	char *kind;           /* sample|uprobe|kprobe|tracepoint|lsm|usdt|exec|exit|load|throttle|... */
	int64_t ts_ns;        /* event time, ns since the Unix epoch (UTC) */
	char *node;
	tb_process_t process;
	tb_container_t container;
	tb_raw_frame_t *kernel_frames; /* innermost first */
	size_t n_kernel_frames;
	tb_raw_frame_t *user_frames;   /* innermost first */
	size_t n_user_frames;
	int64_t count;        /* samples folded into this event (>= 1) */
	char *hook;           /* kprobe/lsm function, uprobe symbol, tracepoint subsys:event */
	char *policy;         /* Tetragon policy_name */
	char *path;           /* loader: mapped file; uprobe: probed binary */
	char *build_id;       /* loader: build-id of `path` */
	char *origin;         /* where the record came from, e.g. "tb.tetragon.raw.v1/3@1200" */
	int attached;         /* uprobe from a probe-agent: the probe is attached, so count 0 means
	                       * "attached and not executed" (evidence of absence); 0 otherwise */
	char *component_purl; /* finding-scoped ingest: the component the caller names; NULL otherwise */
} tb_runtime_event_t;

/* ---- CanonicalEvent (tb.events.canonical.v1) and CorrelatedEvent
 *      (tb.events.correlated.v1) share one struct: the correlation fields stay
 *      empty until the correlator fills them. ---- */

typedef struct tb_canon_frame {
	int64_t frame_id;     /* stable hash of (kernel, build_id|module, file_offset, symbol) */
	char *build_id;       /* lowercase hex, "" if unknown */
	char *module;         /* basename */
	uint64_t file_offset; /* user: file offset; kernel: offset into symbol */
	char *symbol;         /* demangled, compiler suffixes stripped; "" if unknown */
	int kernel;
	/* correlation (CorrelatedEvent only) */
	char *artifact_digest;
	char *purl;
	char **finding_ids;
	size_t n_finding_ids;
} tb_canon_frame_t;

typedef struct tb_event {
	uint8_t event_id[TB_EVENT_ID_LEN];
	char *tenant;
	char *source;
	char *kind;
	int64_t ts_ns;
	char *node;           /* keyed hash of the node name */
	uint32_t pid;
	uint32_t tid;
	char *uid_hash;       /* keyed hash of the uid, "" if unknown */
	char *binary;         /* privacy-rewritten path */
	char *exec_id;
	tb_container_t container;
	tb_canon_frame_t *frames; /* kernel frames first (innermost first), then user frames */
	size_t n_frames;
	int64_t stack_id;     /* stable hash of the frame ids in order; 0 = no stack */
	int64_t leaf_frame_id;
	int64_t count;
	char *hook;
	char *policy;
	char *path;           /* privacy-rewritten */
	char *build_id;
	int attached;         /* RuntimeEvent.attached */
	char *component_purl; /* RuntimeEvent.component_purl: used when the correlator finds no purl */
	/* correlation (CorrelatedEvent only) */
	char *artifact_digest;
	char *purl;
	char *correlation;    /* "correlated" | "partial" | "uncorrelated" */
} tb_event_t;

/* ---- Artifact (tb.artifacts.v1, compacted, key = digest) ---- */

typedef struct tb_component {
	char *purl;
	char *name;
	char *version;
} tb_component_t;

typedef struct tb_binary {
	char *path;
	char *build_id;
	char *purl;           /* owning component, may be NULL */
} tb_binary_t;

typedef struct tb_artifact {
	char *tenant;
	char *digest;         /* "sha256:..." image or artifact digest: the key */
	char *name;
	char *version;
	char *sbom_format;    /* "cyclonedx-1.5", "spdx-2.3", ... */
	char *sbom_sha256;
	int64_t registered_ns;
	tb_component_t *components;
	size_t n_components;
	tb_binary_t *binaries;
	size_t n_binaries;
} tb_artifact_t;

/* ---- Finding (tb.findings.v1, compacted, key = finding_id) ---- */

typedef struct tb_finding {
	char *tenant;
	char *finding_id;
	char *vuln_id;
	char *purl;
	char *artifact_digest; /* may be NULL: any artifact holding purl */
	char **symbols;
	size_t n_symbols;
	int64_t registered_ns;
} tb_finding_t;

/* ---- DeadLetter (tb.dlq.v1) ---- */

typedef struct tb_dead_letter {
	char *service;        /* which service gave up on the record */
	char *reason;         /* precise: what was wrong and where */
	char *source_topic;   /* "" for non-Kafka inputs (file, stdin, HTTP) */
	int32_t partition;    /* -1 when not from Kafka */
	int64_t offset;       /* Kafka offset, or byte/line position for files */
	char *position;       /* human-readable position, e.g. "file.json:12:5" */
	int64_t ts_ns;
	uint8_t *key;
	size_t key_len;
	uint8_t *payload;     /* the original bytes, unchanged */
	size_t payload_len;
} tb_dead_letter_t;

/* ---- ProbeBatch (tb.probe.raw.v1): what one probe-agent sends per drain ----
 * All times are ns since the Unix epoch (the agent converts from boot time).
 * User frames are already normalized by the agent to (build-id, file offset,
 * module path); absolute addresses appear only for frames that could not be
 * normalized (anonymous or JIT mappings). */

typedef struct tb_probe_kframe {
	char *symbol;         /* kallsyms name; "" if unresolved */
	uint64_t offset;      /* offset into symbol */
	char *module;         /* kernel module name, NULL for vmlinux */
} tb_probe_kframe_t;

typedef struct tb_probe_uframe {
	char *build_id;       /* lowercase hex GNU build-id, NULL if unknown */
	uint64_t file_offset; /* offset in the mapped file */
	char *module;         /* path of the mapped file, "" if none */
	char *symbol;         /* resolved locally when the ELF has symbols, else NULL */
	int has_address;
	uint64_t address;     /* only for frames that could not be normalized */
} tb_probe_uframe_t;

typedef struct tb_probe_process {
	uint32_t pid;
	char *exec_id;        /* "node:start_ns:pid" */
	char *binary;         /* absolute path of the executable */
	char *binary_build_id; /* NULL if unknown */
	char *container_id;   /* NULL on the host */
	uint64_t cgroup_id;
	char *comm;
	int64_t start_ns;
} tb_probe_process_t;

typedef struct tb_probe_sample {
	uint32_t pid;
	uint32_t tid;
	int32_t cpu;
	int64_t first_ns;     /* first and last sample folded into this stack */
	int64_t last_ns;
	int64_t count;
	tb_probe_kframe_t *kernel_frames; /* innermost first */
	size_t n_kernel_frames;
	tb_probe_uframe_t *user_frames;   /* innermost first */
	size_t n_user_frames;
} tb_probe_sample_t;

typedef struct tb_probe_uprobe_count {
	char *build_id;       /* of the probed binary, NULL if unknown */
	char *binary;         /* path of the probed binary */
	char *symbol;
	uint64_t file_offset;
	int64_t hits;         /* exact hits in this batch window */
	int attached;         /* the uprobe is (still) attached */
	tb_probe_uframe_t *stack; /* a representative user stack, innermost first */
	size_t n_stack;
} tb_probe_uprobe_count_t;

typedef struct tb_probe_load {
	uint32_t pid;
	char *path;           /* mapped file */
	char *build_id;       /* NULL if unknown */
	int64_t ts_ns;
} tb_probe_load_t;

typedef struct tb_probe_batch {
	char *node;
	char *boot_id;        /* /proc/sys/kernel/random/boot_id */
	char *agent_version;
	int64_t seq;          /* per (node, boot_id), starts at 0, +1 per batch */
	int64_t start_ns;     /* window covered by this batch */
	int64_t end_ns;
	tb_probe_process_t *processes;
	size_t n_processes;
	tb_probe_sample_t *samples;
	size_t n_samples;
	tb_probe_uprobe_count_t *uprobe_counts;
	size_t n_uprobe_counts;
	tb_probe_load_t *loads;
	size_t n_loads;
	int64_t lost_samples; /* ring buffer full / stack not captured */
	int64_t lost_events;  /* other events (exec, exit, load, uprobe) lost */
} tb_probe_batch_t;

void tb_runtime_event_clear(tb_runtime_event_t *ev);
void tb_event_clear(tb_event_t *ev);
void tb_artifact_clear(tb_artifact_t *a);
void tb_finding_clear(tb_finding_t *f);
void tb_dead_letter_clear(tb_dead_letter_t *d);
void tb_probe_batch_clear(tb_probe_batch_t *b);

#endif
