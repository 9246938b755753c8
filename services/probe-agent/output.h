/*
 * output.h — where batches go: Kafka (Avro ProbeBatch on tb.probe.raw.v1,
 * keyed by node) or, with --dry-run, stdout for people trying the agent on
 * one machine.
 *
 * Dry-run formats:
 *  folded  flame-graph input, one line per folded stack, root first:
 *            COMM;outer_fn;...;leaf_fn;kernel_fn_[k];... COUNT
 *          a frame is its symbol, else MODULE_BASENAME+0xOFFSET; lines
 *          starting with '#' say what the batch is (seq, window, losses)
 *          and carry the uprobe counts and loads:
 *            # uprobe BINARY SYMBOL offset=0x.. build_id=.. hits=N attached=1
 *            # load pid=N PATH build_id=..
 *  json    one JSON object per batch with every field of ProbeBatch
 *          (build-id + file offset + module + symbol per frame).
 */
#ifndef TB_PA_OUTPUT_H
#define TB_PA_OUTPUT_H

#include <stdio.h>

#include "tb/avro.h"
#include "tb/kafka.h"
#include "tb/records.h"

typedef enum tb_pa_format {
	TB_PA_FOLDED = 0,
	TB_PA_JSON = 1,
} tb_pa_format_t;

typedef struct tb_pa_print {
	FILE *f;
	tb_pa_format_t format;
} tb_pa_print_t;

/* tb_pa_emit_fn for dry-run (ctx: tb_pa_print_t). */
int tb_pa_print_batch(void *ctx, const tb_probe_batch_t *b, tb_err_t *err);

/* Write one batch as folded lines / as a JSON object (one line). */
int tb_pa_print_folded(FILE *f, const tb_probe_batch_t *b);
int tb_pa_print_json(FILE *f, const tb_probe_batch_t *b);

typedef struct tb_pa_kafka_out {
	tb_kafka_producer_t *producer;
	const tb_avro_registry_t *reg;
	uint64_t batches;
	uint64_t bytes;
} tb_pa_kafka_out_t;

/* tb_pa_emit_fn for Kafka (ctx: tb_pa_kafka_out_t): encode and produce
 * (asynchronous; delivery is checked at flush / exit). */
int tb_pa_kafka_batch(void *ctx, const tb_probe_batch_t *b, tb_err_t *err);

#endif
