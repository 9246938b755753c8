/*
 * loadgen.h — tb-loadgen's pieces: the synthetic world (world.c: symbols
 * with a Zipf-like popularity, modules, nodes, containers, artifacts and the
 * stacks drawn from them), the two message formats (tetragon.c: Tetragon
 * process_kprobe JSON lines; probe.c: Avro ProbeBatch) and the producing loop
 * with its rate control (main.c).
 *
 * Speed matters more than anything here: the generator must outrun the
 * pipeline by a wide margin, so everything that can be is built once (the
 * pool of messages) and the hot loop only stamps a fresh time into a
 * pre-encoded message and hands it to librdkafka.
 */
#ifndef TB_LOADGEN_H
#define TB_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

typedef struct lg_opts {
	uint64_t seed;
	int symbols;	/* distinct user-space symbols */
	double zipf;	/* popularity exponent: weight of symbol i = 1 / (i + 1)^zipf */
	int min_frames; /* user frames per stack, drawn uniformly in [min, max] */
	int max_frames;
	int nodes;
	int containers; /* one process each, spread over the nodes */
	int artifacts;	/* image digests the containers run */
	int pool;	/* distinct pre-built stacks / messages */
} lg_opts_t;

typedef struct lg_module {
	const char *path;
	const char *build_id; /* lowercase hex */
} lg_module_t;

typedef struct lg_symbol {
	char *name;
	int module;
	uint64_t offset; /* file offset of the function's first byte */
} lg_symbol_t;

typedef struct lg_proc {
	int node;
	uint32_t pid;
	int artifact;
	char exec_id[96]; /* "node-N:KTIME:PID" (Tetragon writes it base64) */
	char container_id[80];
	char image_digest[80]; /* sha256:<64 hex> */
	char workload[32];
} lg_proc_t;

typedef struct lg_frame {
	int symbol;
	uint32_t delta; /* offset inside the function */
} lg_frame_t;

typedef struct lg_stack {
	int proc;
	int n;
	lg_frame_t *frames; /* innermost first */
} lg_stack_t;

typedef struct lg_world {
	lg_opts_t o;
	lg_symbol_t *syms;
	double *cdf; /* cumulative popularity of syms */
	lg_proc_t *procs;
	lg_stack_t *stacks; /* o.pool of them */
	uint64_t rng;
} lg_world_t;

extern const lg_module_t lg_modules[];
extern const size_t lg_n_modules;
extern const char *const lg_kernel_syms[];
extern const size_t lg_n_kernel_syms;

/* Build the world from o (every choice a function of o.seed). */
int lg_world_new(lg_world_t *w, const lg_opts_t *o, tb_err_t *err);
void lg_world_free(lg_world_t *w);
uint64_t lg_rand(uint64_t *state);

/* Strictly increasing wall-clock nanoseconds: the event time of every
 * generated event, so that event ids never collide and the time a record
 * carries is the time it was produced (freshness is measured against it). */
int64_t lg_next_ns(int64_t *last);

/* ---- Tetragon JSON ---- */
typedef struct lg_json_msg {
	char *prefix; /* everything before the time value */
	size_t prefix_len;
	char key[128]; /* node/exec_id: the raw topics' key */
} lg_json_msg_t;

/* One pre-built message per stack: `{..."time":"` + RFC 3339 ns + `"}`. */
int lg_tetragon_pool(const lg_world_t *w, lg_json_msg_t **out, tb_err_t *err);
void lg_tetragon_pool_free(lg_json_msg_t *pool, size_t n);
/* Write the time suffix (`2026-11-24T21:52:01.123456789Z"}`) at dst; returns
 * its length (LG_TIME_SUFFIX_LEN - 1; dst needs LG_TIME_SUFFIX_LEN bytes). */
#define LG_TIME_SUFFIX_LEN 33
size_t lg_time_suffix(int64_t ns, char *dst);

/* ---- ProbeBatch ---- */
typedef struct lg_probe lg_probe_t;
lg_probe_t *lg_probe_new(const lg_world_t *w, int samples_per_batch, tb_err_t *err);
void lg_probe_free(lg_probe_t *p);
/* Encode the next batch (node round-robin, one sample per stack drawn from
 * the pool, each with its own time): *buf stays owned by p until the next
 * call. Sets *key (the node) for the message. */
int lg_probe_next(lg_probe_t *p, int64_t *last_ns, const uint8_t **buf, size_t *len, const char **key,
		  tb_err_t *err);

#endif
