/*
 * gen.h — tb-gen's pieces: records from JSON (json_in.c), records as JSON
 * (json_out.c), deterministic synthetic events (synth.c) and the commands
 * (main.c).
 *
 * JSON form of the records: one object per record, field names as in
 * tb/records.h (container.namespace for namespace_); 64-bit integers may be
 * numbers or decimal strings; absent fields take the Avro defaults. Fields
 * starting with '_' are directions to tb-gen, not record fields:
 *   "_key": "..."        the message key (default: see gen_default_key)
 *   "_headers": {"n": "v", ...}   message headers
 *   "_tombstone": true   send a tombstone (NULL value) with _key
 * Unknown fields are errors, so a typo does not silently become a default.
 *
 * Derived values when a CorrelatedEvent leaves them out (tb-gen's own
 * recipes, for tests; NOT the canonicalizer's):
 *   event_id      BLAKE2b-128 "gen.event.v1" over the input object printed
 *                 with sorted keys, compact (the same line -> the same id);
 *   frame_id      BLAKE2b-64 "gen.frame.v1" (kernel, build_id, module,
 *                 file_offset, symbol);
 *   stack_id      BLAKE2b-64 "gen.stack.v1" over the frame ids (0 without frames);
 *   leaf_frame_id the first frame's id.
 */
#ifndef TB_GEN_H
#define TB_GEN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

typedef enum gen_type {
	GEN_CORRELATED = 0,
	GEN_CANONICAL,
	GEN_ARTIFACT,
	GEN_FINDING,
} gen_type_t;

/* "correlated", "canonical", "artifact", "finding" -> type; -1 unknown. */
int gen_type_parse(const char *s, gen_type_t *out);
/* The topic a type goes to by default. */
const char *gen_type_topic(gen_type_t t);

int gen_event_from_json(json_t *o, tb_event_t *ev, tb_err_t *err);
int gen_artifact_from_json(json_t *o, tb_artifact_t *a, tb_err_t *err);
int gen_finding_from_json(json_t *o, tb_finding_t *f, tb_err_t *err);

/* tb-gen's frame_id and stack_id recipes (above). */
int64_t gen_frame_id(const tb_canon_frame_t *f);
int64_t gen_stack_id(const tb_canon_frame_t *frames, size_t n);

/* Default message keys: events by stack_id (decimal), artifacts by digest,
 * findings by finding_id (tb/topics.h). Writes into out[cap]. */
void gen_event_key(const tb_event_t *ev, char *out, size_t cap);

json_t *gen_event_to_json(const tb_event_t *ev, int correlated);
json_t *gen_artifact_to_json(const tb_artifact_t *a);
json_t *gen_finding_to_json(const tb_finding_t *f);
json_t *gen_dead_letter_to_json(const tb_dead_letter_t *d);
json_t *gen_runtime_event_to_json(const tb_runtime_event_t *ev);

/* Bytes as a JSON string when they are printable UTF-8 text, else as
 * {"hex": "..."}. */
json_t *gen_bytes_to_json(const void *p, size_t len);

/* ---- synthetic events ---- */

typedef struct gen_synth {
	uint64_t seed;
	int64_t first; /* index of the first event */
	int64_t n;     /* how many */
	int tenants;   /* tenant-0 .. tenant-(k-1) */
	int nodes;
	int stacks;  /* distinct stacks */
	int symbols; /* distinct symbols, spread over `modules` modules */
	int modules;
	int depth;	   /* max user frames per stack (>= 1) */
	int kernel_frames; /* kernel frames on top of each stack (0..) */
	int artifacts;	   /* distinct artifact digests; 0: all uncorrelated */
	int64_t start_ns;  /* event i at start_ns + i * step_ns */
	int64_t step_ns;
	int max_count; /* samples folded per event: 1..max_count */
} gen_synth_t;

void gen_synth_defaults(gen_synth_t *s);

/* Fill ev (cleared by the caller) with synthetic event number `i`: the same
 * (settings, i) always gives the same event, including its event_id, so
 * producing a range twice produces duplicates. */
int gen_synth_event(const gen_synth_t *s, int64_t i, tb_event_t *ev, tb_err_t *err);

/* ---- the fault suite's workload (workload.c) ----
 * Tetragon kprobe JSON lines and probe-agent ProbeBatches that enter at the
 * top of the pipeline, plus the artifacts and findings they hit. Line i,
 * batch b and everything in them are pure functions of (settings, index). */

typedef struct gen_work {
	uint64_t seed;
	int nodes;
	int containers; /* container c runs artifact c mod artifacts */
	int artifacts;
	int stacks;  /* user stacks per artifact */
	int symbols; /* functions per module (>= 3: findings name 0..2) */
	int depth;   /* max user frames per stack */
	int64_t start_ns;
	int64_t step_ns;    /* between Tetragon lines; probe batches cover 1 s each per node */
	int batch_samples;  /* samples per probe batch */
	int dup_every;	    /* about one line/batch in K is sent twice (0: never) */
	int bad_every;	    /* about one malformed line per K lines (0: never) */
	const char *tenant; /* of the artifacts and findings (the adapter's tenant) */
} gen_work_t;

void gen_work_defaults(gen_work_t *w);
int gen_work_valid(const gen_work_t *w);
void gen_work_digest(const gen_work_t *w, int a, char out[72]);
json_t *gen_work_artifact_json(const gen_work_t *w, int a);
json_t *gen_work_finding_json(const gen_work_t *w, int a, int f); /* f = 0, 1 */

json_t *gen_work_tetragon_json(const gen_work_t *w, int64_t i);
int gen_work_tetragon_dup(const gen_work_t *w, int64_t i);
int gen_work_tetragon_bad(const gen_work_t *w, int64_t i);
/* A malformed variant of line i's text (malloc'd). */
char *gen_work_tetragon_malformed(const gen_work_t *w, int64_t i, const char *good);
void gen_work_tetragon_key(const gen_work_t *w, int64_t i, char *out, size_t cap);

/* Fill pb (zeroed by the caller; tb_probe_batch_clear frees it) with batch b. */
int gen_work_probe_batch(const gen_work_t *w, int64_t b, tb_probe_batch_t *pb, tb_err_t *err);
size_t gen_work_probe_events(const tb_probe_batch_t *pb);
int gen_work_probe_dup(const gen_work_t *w, int64_t b);
int gen_work_probe_bad(const gen_work_t *w, int64_t b);
void gen_work_probe_key(const gen_work_t *w, int64_t b, char *out, size_t cap);

#endif
