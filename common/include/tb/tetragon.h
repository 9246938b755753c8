/*
 * tb/tetragon.h — one Tetragon JSON event (GetEventsResponse as written by
 * the JSON exporter, `tetra getevents -o json`, or the docs) -> RuntimeEvent.
 *
 * Shared by the adapter (file/stdin/Kafka input) and the timeline-api
 * (POST /runtime/traces). Accepts every shape from Tetragon v0.8 to v1.7:
 *
 *   event key            kind        hook                  path      other
 *   process_exec         exec        -                     -
 *   process_exit         exit        -                     -
 *   process_kprobe       kprobe      function_name         -         kernel/user frames
 *   process_uprobe       uprobe      symbol (or "0x<offset>" when only offset is set)
 *                                                           path
 *   process_tracepoint   tracepoint  "subsys:event"        -
 *   process_lsm          lsm         function_name         -
 *   process_loader       load        -                     path      build_id (buildid base64 -> hex)
 *   process_usdt         usdt        "provider:name"       path
 *   process_throttle     throttle    type (THROTTLE_START)  cgroup   (no process)
 *   rate_limit_info      rate_limit  -                     -         count = number_of_dropped_process_events
 *   test, and any other key (legacy process_connect, process_listen, ...):
 *                        skipped (TB_TETRAGON_SKIPPED, type name reported)
 *
 * Field rules:
 *   - keys: snake_case proto names; the lowerCamel form protojson readers
 *     also accept (execId, kernelStackTrace, processKprobe) is tried second.
 *   - null, "", [] and {} are the same as an absent key; absent = zero.
 *   - integers: JSON numbers or decimal strings, both for 64-bit fields
 *     (protojson writes strings) and 32-bit fields (written as numbers).
 *     A bare number above INT64_MAX is accepted too (kept exact).
 *   - a value of the wrong type is an error naming its JSON path, e.g.
 *     "process_kprobe.kernel_stack_trace[3].offset: expected decimal string, got object".
 *   - legacy v1.0 `stack_trace` is read as kernel_stack_trace (if both are
 *     present, kernel_stack_trace wins).
 *   - frames: kernel {address?, symbol?, offset (into the function)}, user
 *     {address?, module, offset (file offset in module), symbol?}; at most
 *     TB_MAX_FRAMES per stack, the rest is dropped and counted in the result.
 *
 * Mapping:
 *   tenant   opts->tenant, default "default";  source "tetragon"
 *   node     node_name (absent -> NULL)
 *   ts_ns    `time` (RFC 3339, 0-9 fraction digits, Z or +hh:mm); if absent,
 *            process_exit's own `time`, then the process start_time, else 0.
 *   process  pid, tid, uid (-1 when absent: Tetragon's uid is a wrapper, so
 *            absent means unknown and 0 means root), binary, args (arguments),
 *            cwd, exec_id, parent_exec_id, env ("Key=Value" from
 *            environment_variables).
 *   container id = pod.container.id without its "<runtime>://" scheme
 *            (containerd://, docker://, cri-o://, ...), else the `docker`
 *            field; name, image (image.name), image_digest (from image.id:
 *            the "sha256:<hex>" part (also sha384/sha512), e.g. of
 *            "docker.io/x@sha256:..."; NULL when image.id is a tag), pod
 *            (pod.name), namespace_, workload, workload_kind.
 *   policy   policy_name;  count  aggregation_info.count when > 0, else 1.
 *
 * event_id (a contract: changing it breaks replay dedup):
 *   BLAKE2b-128 via tb/hash.h, tb_hasher_init(h, "tetragon.event.v1"), then
 *     tb_hasher_str(node)            node_name, NULL when absent
 *     tb_hasher_u64(ts_ns)           the record's ts_ns (as uint64)
 *     tb_hasher_str(exec_id)         process.exec_id, NULL when absent
 *     tb_hasher_str(type)            the snake_case event key, e.g. "process_kprobe"
 *     tb_hasher_str(hook)            the record's hook, NULL when absent
 *     tb_hasher_str(policy)          the record's policy, NULL when absent
 *     tb_hasher_bytes(canonical)     canonical JSON text of the event payload
 *   and tb_hasher_final128. The identity fields are those of ARCHITECTURE.md;
 *   the canonical payload keeps two different events with equal identity
 *   apart while staying the same across whitespace and key order.
 *   Canonical JSON of a value (the object under the event key):
 *     object  '{' members sorted by key (bytewise strcmp) as "key":value,
 *             joined by ',', '}'; members whose value is null, "", [] or {}
 *             are left out (so re-serializers that emit them change nothing)
 *     array   '[' elements (none left out) joined by ',' ']'
 *     string  '"' UTF-8 bytes, escaping only '"' -> \", '\' -> \\, and bytes
 *             below 0x20 as \b \f \n \r \t or \u00xx (lowercase hex) '"'
 *     integer decimal; a bare integer outside int64 is read as the string
 *             of its digits, so it is written as that string
 *     real    printf "%.17g";  true / false / null
 *   No whitespace anywhere.
 */
#ifndef TB_TETRAGON_H
#define TB_TETRAGON_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

typedef struct tb_tetragon_opts {
	const char *tenant; /* NULL = "default" */
} tb_tetragon_opts_t;

typedef enum tb_tetragon_status {
	TB_TETRAGON_ERROR = -1,	 /* malformed: err says what and where */
	TB_TETRAGON_OK = 0,	 /* *out holds one event */
	TB_TETRAGON_SKIPPED = 1, /* unknown/legacy/test event type, or a rate_limit_info that
				  * reports 0 dropped events: count it, no error */
} tb_tetragon_status_t;

typedef struct tb_tetragon_result {
	tb_tetragon_status_t status;
	char type[64];	       /* event key ("process_kprobe", "process_connect", "test"); "" if none */
	size_t frames_dropped; /* frames beyond TB_MAX_FRAMES (kernel + user) */
} tb_tetragon_result_t;

/* Parse one JSON object (json need not be NUL-terminated). On OK, *out is
 * filled (its previous content is NOT freed: pass a zeroed or cleared
 * struct) and the caller releases it with tb_runtime_event_clear(). On
 * SKIPPED and ERROR, *out is left zeroed. res may be NULL. Returns the
 * status. */
tb_tetragon_status_t tb_tetragon_parse(const char *json, size_t len, const tb_tetragon_opts_t *opts,
				       tb_runtime_event_t *out, tb_tetragon_result_t *res, tb_err_t *err);

/* Map of an event key to its RuntimeEvent kind ("process_loader" -> "load");
 * NULL for keys that are skipped. */
const char *tb_tetragon_kind(const char *type);

#endif
