/*
 * tb_records.c — releasing our records, and how each maps to its Avro schema.
 *
 * The struct <-> Avro conversion is a table per record: one descriptor per
 * field, giving the Avro field name, how the C field is held (kind), where
 * (offsetof) and, for arrays, where the count lives. tb_avro_codec.c walks
 * these tables to encode and decode; tb_avro_registry_new() checks every
 * table against its embedded schema (same fields, same order, matching
 * types), so a schema and its struct cannot drift apart unnoticed.
 *
 * CanonicalEvent and CorrelatedEvent both map tb_event_t; the canonical
 * table simply leaves out the correlation fields.
 */
#include <stdlib.h>
#include <string.h>

#include "tb/records.h"
#include "tb_avro_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define F(T, field, avname, k)                                                                               \
	{                                                                                                    \
		avname, k, offsetof(T, field), 0, 0, NULL                                                    \
	}
#define FA(T, field, count, avname, k)                                                                       \
	{                                                                                                    \
		avname, k, offsetof(T, field), offsetof(T, count), 0, NULL                                   \
	}
#define FR(T, field, avname, desc)                                                                           \
	{                                                                                                    \
		avname, TB_AVF_RECORD, offsetof(T, field), 0, 0, &desc                                       \
	}
#define FRA(T, field, count, avname, desc)                                                                   \
	{                                                                                                    \
		avname, TB_AVF_REC_ARRAY, offsetof(T, field), offsetof(T, count), 0, &desc                   \
	}
#define FID(T, field)                                                                                        \
	{                                                                                                    \
		"event_id", TB_AVF_FIXED, offsetof(T, field), 0, TB_EVENT_ID_LEN, NULL                       \
	}
#define DESC(name, T, fields)                                                                                \
	{                                                                                                    \
		TB_AVRO_NS "." name, sizeof(T), fields, N(fields)                                            \
	}

/* ---- RuntimeEvent ---------------------------------------------------------- */

static const tb_avro_fdesc_t process_fields[] = {
    F(tb_process_t, pid, "pid", TB_AVF_U32),
    F(tb_process_t, tid, "tid", TB_AVF_U32),
    F(tb_process_t, uid, "uid", TB_AVF_LONG),
    F(tb_process_t, binary, "binary", TB_AVF_STR),
    F(tb_process_t, binary_build_id, "binary_build_id", TB_AVF_OPT_STR),
    F(tb_process_t, args, "args", TB_AVF_OPT_STR),
    F(tb_process_t, cwd, "cwd", TB_AVF_OPT_STR),
    F(tb_process_t, exec_id, "exec_id", TB_AVF_STR),
    F(tb_process_t, parent_exec_id, "parent_exec_id", TB_AVF_OPT_STR),
    F(tb_process_t, comm, "comm", TB_AVF_OPT_STR),
    FA(tb_process_t, env, n_env, "env", TB_AVF_STR_ARRAY),
};
static const tb_avro_desc_t process_desc = DESC("Process", tb_process_t, process_fields);

static const tb_avro_fdesc_t container_fields[] = {
    F(tb_container_t, id, "id", TB_AVF_OPT_STR),
    F(tb_container_t, name, "name", TB_AVF_OPT_STR),
    F(tb_container_t, image, "image", TB_AVF_OPT_STR),
    F(tb_container_t, image_digest, "image_digest", TB_AVF_OPT_STR),
    F(tb_container_t, pod, "pod", TB_AVF_OPT_STR),
    F(tb_container_t, namespace_, "namespace", TB_AVF_OPT_STR),
    F(tb_container_t, workload, "workload", TB_AVF_OPT_STR),
    F(tb_container_t, workload_kind, "workload_kind", TB_AVF_OPT_STR),
    F(tb_container_t, cgroup_id, "cgroup_id", TB_AVF_ULONG),
};
static const tb_avro_desc_t container_desc = DESC("Container", tb_container_t, container_fields);

static const tb_avro_fdesc_t raw_frame_fields[] = {
    {"address", TB_AVF_OPT_ULONG, offsetof(tb_raw_frame_t, address), offsetof(tb_raw_frame_t, has_address), 0,
     NULL},
    F(tb_raw_frame_t, module, "module", TB_AVF_OPT_STR),
    F(tb_raw_frame_t, offset, "offset", TB_AVF_ULONG),
    F(tb_raw_frame_t, symbol, "symbol", TB_AVF_OPT_STR),
    F(tb_raw_frame_t, build_id, "build_id", TB_AVF_OPT_STR),
};
static const tb_avro_desc_t raw_frame_desc = DESC("RawFrame", tb_raw_frame_t, raw_frame_fields);

static const tb_avro_fdesc_t runtime_event_fields[] = {
    FID(tb_runtime_event_t, event_id),
    F(tb_runtime_event_t, tenant, "tenant", TB_AVF_STR),
    F(tb_runtime_event_t, source, "source", TB_AVF_STR),
    F(tb_runtime_event_t, kind, "kind", TB_AVF_STR),
    F(tb_runtime_event_t, ts_ns, "ts_ns", TB_AVF_LONG),
    F(tb_runtime_event_t, node, "node", TB_AVF_STR),
    FR(tb_runtime_event_t, process, "process", process_desc),
    FR(tb_runtime_event_t, container, "container", container_desc),
    FRA(tb_runtime_event_t, kernel_frames, n_kernel_frames, "kernel_frames", raw_frame_desc),
    FRA(tb_runtime_event_t, user_frames, n_user_frames, "user_frames", raw_frame_desc),
    F(tb_runtime_event_t, count, "count", TB_AVF_LONG),
    F(tb_runtime_event_t, hook, "hook", TB_AVF_OPT_STR),
    F(tb_runtime_event_t, policy, "policy", TB_AVF_OPT_STR),
    F(tb_runtime_event_t, path, "path", TB_AVF_OPT_STR),
    F(tb_runtime_event_t, build_id, "build_id", TB_AVF_OPT_STR),
    F(tb_runtime_event_t, origin, "origin", TB_AVF_OPT_STR),
    F(tb_runtime_event_t, attached, "attached", TB_AVF_BOOL),
    F(tb_runtime_event_t, component_purl, "component_purl", TB_AVF_OPT_STR),
};
static const tb_avro_desc_t runtime_event_desc =
    DESC("RuntimeEvent", tb_runtime_event_t, runtime_event_fields);

/* ---- CanonicalEvent / CorrelatedEvent -------------------------------------- */

#define CANON_FRAME_FIELDS                                                                                   \
	F(tb_canon_frame_t, frame_id, "frame_id", TB_AVF_LONG),                                              \
	    F(tb_canon_frame_t, build_id, "build_id", TB_AVF_STR),                                           \
	    F(tb_canon_frame_t, module, "module", TB_AVF_STR),                                               \
	    F(tb_canon_frame_t, file_offset, "file_offset", TB_AVF_ULONG),                                   \
	    F(tb_canon_frame_t, symbol, "symbol", TB_AVF_STR),                                               \
	    F(tb_canon_frame_t, kernel, "kernel", TB_AVF_BOOL)

static const tb_avro_fdesc_t canon_frame_fields[] = {CANON_FRAME_FIELDS};
static const tb_avro_desc_t canon_frame_desc = DESC("CanonFrame", tb_canon_frame_t, canon_frame_fields);

static const tb_avro_fdesc_t corr_frame_fields[] = {
    CANON_FRAME_FIELDS,
    F(tb_canon_frame_t, artifact_digest, "artifact_digest", TB_AVF_OPT_STR),
    F(tb_canon_frame_t, purl, "purl", TB_AVF_OPT_STR),
    FA(tb_canon_frame_t, finding_ids, n_finding_ids, "finding_ids", TB_AVF_STR_ARRAY),
};
static const tb_avro_desc_t corr_frame_desc = DESC("CorrelatedFrame", tb_canon_frame_t, corr_frame_fields);

#define EVENT_HEAD_FIELDS                                                                                    \
	FID(tb_event_t, event_id), F(tb_event_t, tenant, "tenant", TB_AVF_STR),                              \
	    F(tb_event_t, source, "source", TB_AVF_STR), F(tb_event_t, kind, "kind", TB_AVF_STR),            \
	    F(tb_event_t, ts_ns, "ts_ns", TB_AVF_LONG), F(tb_event_t, node, "node", TB_AVF_STR),             \
	    F(tb_event_t, pid, "pid", TB_AVF_U32), F(tb_event_t, tid, "tid", TB_AVF_U32),                    \
	    F(tb_event_t, uid_hash, "uid_hash", TB_AVF_STR), F(tb_event_t, binary, "binary", TB_AVF_STR),    \
	    F(tb_event_t, exec_id, "exec_id", TB_AVF_STR),                                                   \
	    FR(tb_event_t, container, "container", container_desc)

#define EVENT_TAIL_FIELDS                                                                                    \
	F(tb_event_t, stack_id, "stack_id", TB_AVF_LONG),                                                    \
	    F(tb_event_t, leaf_frame_id, "leaf_frame_id", TB_AVF_LONG),                                      \
	    F(tb_event_t, count, "count", TB_AVF_LONG), F(tb_event_t, hook, "hook", TB_AVF_OPT_STR),         \
	    F(tb_event_t, policy, "policy", TB_AVF_OPT_STR), F(tb_event_t, path, "path", TB_AVF_OPT_STR),    \
	    F(tb_event_t, build_id, "build_id", TB_AVF_OPT_STR),                                             \
	    F(tb_event_t, attached, "attached", TB_AVF_BOOL),                                                \
	    F(tb_event_t, component_purl, "component_purl", TB_AVF_OPT_STR)

static const tb_avro_fdesc_t canonical_event_fields[] = {
    EVENT_HEAD_FIELDS,
    FRA(tb_event_t, frames, n_frames, "frames", canon_frame_desc),
    EVENT_TAIL_FIELDS,
};
static const tb_avro_desc_t canonical_event_desc = DESC("CanonicalEvent", tb_event_t, canonical_event_fields);

static const tb_avro_fdesc_t correlated_event_fields[] = {
    EVENT_HEAD_FIELDS,
    FRA(tb_event_t, frames, n_frames, "frames", corr_frame_desc),
    EVENT_TAIL_FIELDS,
    F(tb_event_t, artifact_digest, "artifact_digest", TB_AVF_OPT_STR),
    F(tb_event_t, purl, "purl", TB_AVF_OPT_STR),
    F(tb_event_t, correlation, "correlation", TB_AVF_STR),
};
static const tb_avro_desc_t correlated_event_desc =
    DESC("CorrelatedEvent", tb_event_t, correlated_event_fields);

/* ---- Artifact, Finding, DeadLetter ----------------------------------------- */

static const tb_avro_fdesc_t component_fields[] = {
    F(tb_component_t, purl, "purl", TB_AVF_STR),
    F(tb_component_t, name, "name", TB_AVF_STR),
    F(tb_component_t, version, "version", TB_AVF_STR),
};
static const tb_avro_desc_t component_desc = DESC("Component", tb_component_t, component_fields);

static const tb_avro_fdesc_t binary_fields[] = {
    F(tb_binary_t, path, "path", TB_AVF_STR),
    F(tb_binary_t, build_id, "build_id", TB_AVF_OPT_STR),
    F(tb_binary_t, purl, "purl", TB_AVF_OPT_STR),
};
static const tb_avro_desc_t binary_desc = DESC("Binary", tb_binary_t, binary_fields);

static const tb_avro_fdesc_t artifact_fields[] = {
    F(tb_artifact_t, tenant, "tenant", TB_AVF_STR),
    F(tb_artifact_t, digest, "digest", TB_AVF_STR),
    F(tb_artifact_t, name, "name", TB_AVF_STR),
    F(tb_artifact_t, version, "version", TB_AVF_STR),
    F(tb_artifact_t, sbom_format, "sbom_format", TB_AVF_OPT_STR),
    F(tb_artifact_t, sbom_sha256, "sbom_sha256", TB_AVF_OPT_STR),
    F(tb_artifact_t, registered_ns, "registered_ns", TB_AVF_LONG),
    FRA(tb_artifact_t, components, n_components, "components", component_desc),
    FRA(tb_artifact_t, binaries, n_binaries, "binaries", binary_desc),
};
static const tb_avro_desc_t artifact_desc = DESC("Artifact", tb_artifact_t, artifact_fields);

static const tb_avro_fdesc_t finding_fields[] = {
    F(tb_finding_t, tenant, "tenant", TB_AVF_STR),
    F(tb_finding_t, finding_id, "finding_id", TB_AVF_STR),
    F(tb_finding_t, vuln_id, "vuln_id", TB_AVF_STR),
    F(tb_finding_t, purl, "purl", TB_AVF_STR),
    F(tb_finding_t, artifact_digest, "artifact_digest", TB_AVF_OPT_STR),
    FA(tb_finding_t, symbols, n_symbols, "symbols", TB_AVF_STR_ARRAY),
    F(tb_finding_t, registered_ns, "registered_ns", TB_AVF_LONG),
};
static const tb_avro_desc_t finding_desc = DESC("Finding", tb_finding_t, finding_fields);

static const tb_avro_fdesc_t dead_letter_fields[] = {
    F(tb_dead_letter_t, service, "service", TB_AVF_STR),
    F(tb_dead_letter_t, reason, "reason", TB_AVF_STR),
    F(tb_dead_letter_t, source_topic, "source_topic", TB_AVF_STR),
    F(tb_dead_letter_t, partition, "partition", TB_AVF_INT),
    F(tb_dead_letter_t, offset, "offset", TB_AVF_LONG),
    F(tb_dead_letter_t, position, "position", TB_AVF_OPT_STR),
    F(tb_dead_letter_t, ts_ns, "ts_ns", TB_AVF_LONG),
    FA(tb_dead_letter_t, key, key_len, "key", TB_AVF_OPT_BYTES),
    FA(tb_dead_letter_t, payload, payload_len, "payload", TB_AVF_BYTES),
};
static const tb_avro_desc_t dead_letter_desc = DESC("DeadLetter", tb_dead_letter_t, dead_letter_fields);

/* ---- ProbeBatch ------------------------------------------------------------- */

static const tb_avro_fdesc_t probe_process_fields[] = {
    F(tb_probe_process_t, pid, "pid", TB_AVF_U32),
    F(tb_probe_process_t, exec_id, "exec_id", TB_AVF_STR),
    F(tb_probe_process_t, binary, "binary", TB_AVF_STR),
    F(tb_probe_process_t, binary_build_id, "binary_build_id", TB_AVF_OPT_STR),
    F(tb_probe_process_t, container_id, "container_id", TB_AVF_OPT_STR),
    F(tb_probe_process_t, cgroup_id, "cgroup_id", TB_AVF_ULONG),
    F(tb_probe_process_t, comm, "comm", TB_AVF_STR),
    F(tb_probe_process_t, start_ns, "start_ns", TB_AVF_LONG),
};
static const tb_avro_desc_t probe_process_desc =
    DESC("ProbeProcess", tb_probe_process_t, probe_process_fields);

static const tb_avro_fdesc_t kframe_fields[] = {
    F(tb_probe_kframe_t, symbol, "symbol", TB_AVF_STR),
    F(tb_probe_kframe_t, offset, "offset", TB_AVF_ULONG),
    F(tb_probe_kframe_t, module, "module", TB_AVF_OPT_STR),
};
static const tb_avro_desc_t kframe_desc = DESC("KernelFrame", tb_probe_kframe_t, kframe_fields);

static const tb_avro_fdesc_t uframe_fields[] = {
    F(tb_probe_uframe_t, build_id, "build_id", TB_AVF_OPT_STR),
    F(tb_probe_uframe_t, file_offset, "file_offset", TB_AVF_ULONG),
    F(tb_probe_uframe_t, module, "module", TB_AVF_STR),
    F(tb_probe_uframe_t, symbol, "symbol", TB_AVF_OPT_STR),
    {"address", TB_AVF_OPT_ULONG, offsetof(tb_probe_uframe_t, address),
     offsetof(tb_probe_uframe_t, has_address), 0, NULL},
};
static const tb_avro_desc_t uframe_desc = DESC("UserFrame", tb_probe_uframe_t, uframe_fields);

static const tb_avro_fdesc_t sample_fields[] = {
    F(tb_probe_sample_t, pid, "pid", TB_AVF_U32),
    F(tb_probe_sample_t, tid, "tid", TB_AVF_U32),
    F(tb_probe_sample_t, cpu, "cpu", TB_AVF_INT),
    F(tb_probe_sample_t, first_ns, "first_ns", TB_AVF_LONG),
    F(tb_probe_sample_t, last_ns, "last_ns", TB_AVF_LONG),
    F(tb_probe_sample_t, count, "count", TB_AVF_LONG),
    FRA(tb_probe_sample_t, kernel_frames, n_kernel_frames, "kernel_frames", kframe_desc),
    FRA(tb_probe_sample_t, user_frames, n_user_frames, "user_frames", uframe_desc),
};
static const tb_avro_desc_t sample_desc = DESC("ProbeSample", tb_probe_sample_t, sample_fields);

static const tb_avro_fdesc_t uprobe_fields[] = {
    F(tb_probe_uprobe_count_t, build_id, "build_id", TB_AVF_OPT_STR),
    F(tb_probe_uprobe_count_t, binary, "binary", TB_AVF_STR),
    F(tb_probe_uprobe_count_t, symbol, "symbol", TB_AVF_STR),
    F(tb_probe_uprobe_count_t, file_offset, "file_offset", TB_AVF_ULONG),
    F(tb_probe_uprobe_count_t, hits, "hits", TB_AVF_LONG),
    F(tb_probe_uprobe_count_t, attached, "attached", TB_AVF_BOOL),
    FRA(tb_probe_uprobe_count_t, stack, n_stack, "stack", uframe_desc),
};
static const tb_avro_desc_t uprobe_desc = DESC("UprobeCount", tb_probe_uprobe_count_t, uprobe_fields);

static const tb_avro_fdesc_t load_fields[] = {
    F(tb_probe_load_t, pid, "pid", TB_AVF_U32),
    F(tb_probe_load_t, path, "path", TB_AVF_STR),
    F(tb_probe_load_t, build_id, "build_id", TB_AVF_OPT_STR),
    F(tb_probe_load_t, ts_ns, "ts_ns", TB_AVF_LONG),
};
static const tb_avro_desc_t load_desc = DESC("Load", tb_probe_load_t, load_fields);

static const tb_avro_fdesc_t probe_batch_fields[] = {
    F(tb_probe_batch_t, node, "node", TB_AVF_STR),
    F(tb_probe_batch_t, boot_id, "boot_id", TB_AVF_STR),
    F(tb_probe_batch_t, agent_version, "agent_version", TB_AVF_STR),
    F(tb_probe_batch_t, seq, "seq", TB_AVF_LONG),
    F(tb_probe_batch_t, start_ns, "start_ns", TB_AVF_LONG),
    F(tb_probe_batch_t, end_ns, "end_ns", TB_AVF_LONG),
    FRA(tb_probe_batch_t, processes, n_processes, "processes", probe_process_desc),
    FRA(tb_probe_batch_t, samples, n_samples, "samples", sample_desc),
    FRA(tb_probe_batch_t, uprobe_counts, n_uprobe_counts, "uprobe_counts", uprobe_desc),
    FRA(tb_probe_batch_t, loads, n_loads, "loads", load_desc),
    F(tb_probe_batch_t, lost_samples, "lost_samples", TB_AVF_LONG),
    F(tb_probe_batch_t, lost_events, "lost_events", TB_AVF_LONG),
};
static const tb_avro_desc_t probe_batch_desc = DESC("ProbeBatch", tb_probe_batch_t, probe_batch_fields);

/* ---- clearing ----------------------------------------------------------------
 * One walker frees any record by its descriptor, so clearing cannot miss a
 * field the schema has. Fields a descriptor does not cover are freed by the
 * typed wrappers (the correlation fields of tb_event_t via the correlated
 * table, which covers them all). */

static void clear_by_desc(const tb_avro_desc_t *d, void *obj);

static void clear_field(const tb_avro_fdesc_t *f, char *base)
{
	void **ptr = (void **)(base + f->off);
	size_t *count = (size_t *)(base + f->aux);

	switch (f->kind) {
	case TB_AVF_STR:
	case TB_AVF_OPT_STR:
	case TB_AVF_BYTES:
	case TB_AVF_OPT_BYTES:
		free(*ptr);
		break;
	case TB_AVF_STR_ARRAY:
		for (size_t i = 0; i < *count; i++)
			free(((char **)*ptr)[i]);
		free(*ptr);
		break;
	case TB_AVF_RECORD:
		clear_by_desc(f->sub, base + f->off);
		break;
	case TB_AVF_REC_ARRAY:
		for (size_t i = 0; i < *count; i++)
			clear_by_desc(f->sub, (char *)*ptr + i * f->sub->size);
		free(*ptr);
		break;
	default:
		break;
	}
}

static void clear_by_desc(const tb_avro_desc_t *d, void *obj)
{
	for (size_t i = 0; i < d->n_fields; i++)
		clear_field(&d->fields[i], obj);
	memset(obj, 0, d->size);
}

void tb_runtime_event_clear(tb_runtime_event_t *ev)
{
	if (ev)
		clear_by_desc(&runtime_event_desc, ev);
}

void tb_event_clear(tb_event_t *ev)
{
	if (ev)
		clear_by_desc(&correlated_event_desc, ev);
}

void tb_artifact_clear(tb_artifact_t *a)
{
	if (a)
		clear_by_desc(&artifact_desc, a);
}

void tb_finding_clear(tb_finding_t *f)
{
	if (f)
		clear_by_desc(&finding_desc, f);
}

void tb_dead_letter_clear(tb_dead_letter_t *d)
{
	if (d)
		clear_by_desc(&dead_letter_desc, d);
}

void tb_probe_batch_clear(tb_probe_batch_t *b)
{
	if (b)
		clear_by_desc(&probe_batch_desc, b);
}

static void clear_runtime_event(void *p)
{
	tb_runtime_event_clear(p);
}
static void clear_event(void *p)
{
	tb_event_clear(p);
}
static void clear_artifact(void *p)
{
	tb_artifact_clear(p);
}
static void clear_finding(void *p)
{
	tb_finding_clear(p);
}
static void clear_dead_letter(void *p)
{
	tb_dead_letter_clear(p);
}
static void clear_probe_batch(void *p)
{
	tb_probe_batch_clear(p);
}

const tb_avro_rtype_t tb_avro_rtypes[TB_AVR_COUNT] = {
    [TB_AVR_RUNTIME_EVENT] = {TB_AVRO_RUNTIME_EVENT, "schemas/avro/RuntimeEvent.avsc", &runtime_event_desc,
			      clear_runtime_event},
    [TB_AVR_CANONICAL_EVENT] = {TB_AVRO_CANONICAL_EVENT, "schemas/avro/CanonicalEvent.avsc",
				&canonical_event_desc, clear_event},
    [TB_AVR_CORRELATED_EVENT] = {TB_AVRO_CORRELATED_EVENT, "schemas/avro/CorrelatedEvent.avsc",
				 &correlated_event_desc, clear_event},
    [TB_AVR_ARTIFACT] = {TB_AVRO_ARTIFACT, "schemas/avro/Artifact.avsc", &artifact_desc, clear_artifact},
    [TB_AVR_FINDING] = {TB_AVRO_FINDING, "schemas/avro/Finding.avsc", &finding_desc, clear_finding},
    [TB_AVR_DEAD_LETTER] = {TB_AVRO_DEAD_LETTER, "schemas/avro/DeadLetter.avsc", &dead_letter_desc,
			    clear_dead_letter},
    [TB_AVR_PROBE_BATCH] = {TB_AVRO_PROBE_BATCH, "schemas/avro/ProbeBatch.avsc", &probe_batch_desc,
			    clear_probe_batch},
};
