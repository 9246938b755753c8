/*
 * ingest.h — the adapter's work on one input record, wherever it came from:
 * a Tetragon JSON object (from a file, stdin or a tb.tetragon.raw.v1
 * message) or a ProbeBatch (a tb.probe.raw.v1 message) becomes RuntimeEvents;
 * anything malformed becomes one dead letter with the precise reason and
 * position; unknown Tetragon event types are counted and skipped.
 *
 * Outputs go to a sink (two callbacks), so this file knows nothing about
 * Kafka producers: main.c plugs in output.c (Kafka), tests plug in a
 * collector. A sink failure is fatal for the record (-1): the caller must
 * stop without committing the input, so nothing is lost.
 *
 * Reasons start with a class word (tb/dlq.h): "json:" (bytes that are not a
 * complete JSON object: garbage between objects, an object cut short, an
 * object over the size limit, an empty message), "tetragon:" (valid framing
 * but not a Tetragon event, or a field of the wrong type; the text names the
 * JSON path), "avro:" (a probe message that does not decode as a
 * ProbeBatch), "probe:" (a decoded ProbeBatch with an invalid field).
 * Positions: files "PATH:LINE:COLUMN" with the byte offset in the dead
 * letter's offset field; stdin "stdin:LINE:COLUMN"; Kafka
 * "TOPIC/PARTITION@OFFSET" and, for an object inside a Tetragon message,
 * ":LINE:COLUMN" within the message. Events carry the same text (without the
 * column) in `origin`.
 *
 * Metrics (registry from the conf): events_in_total{input,format} (JSON
 * objects and ProbeBatch messages read), events_out_total{source,kind},
 * skipped_total{type} (unknown Tetragon types; at most 32 distinct type
 * labels, then type="other"), dead_lettered_total{input},
 * frames_dropped_total, probe_unknown_process_total, probe_lost_samples_total
 * and probe_lost_events_total (as reported by the agents).
 */
#ifndef TB_ADAPTER_INGEST_H
#define TB_ADAPTER_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "tb/avro.h"
#include "tb/err.h"
#include "tb/jsonstream.h"
#include "tb/kafka.h"
#include "tb/metrics.h"
#include "tb/records.h"

/* Where the outputs go. Both return 0, or -1 with err (fatal). */
typedef struct tb_adapter_sink {
	/* One RuntimeEvent (not owned by the sink: copy what you keep). */
	int (*event)(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err);
	/* One dead letter; arguments as tb_dlq_send (tb/dlq.h). */
	int (*dead)(void *ctx, const char *reason, const char *source_topic, int32_t partition,
		    int64_t offset, const char *position, const void *key, size_t key_len,
		    const void *payload, size_t payload_len, tb_err_t *err);
	void *ctx;
} tb_adapter_sink_t;

typedef struct tb_adapter_conf {
	const char *tenant;	       /* NULL = "default" */
	const tb_avro_registry_t *reg; /* to decode ProbeBatch messages */
	tb_metrics_t *metrics;	       /* required */
	tb_adapter_sink_t sink;
	size_t max_object; /* largest JSON object in a Kafka message; 0 = 1 MiB */
} tb_adapter_conf_t;

/* Where a stream of JSON bytes comes from (files and stdin). */
typedef struct tb_adapter_origin {
	const char *input; /* metric label: "file" | "stdin" */
	const char *name;  /* file path, or "stdin" */
} tb_adapter_origin_t;

typedef struct tb_adapter tb_adapter_t;

/* NULL with err on bad conf or OOM. The conf's pointers must outlive it. */
tb_adapter_t *tb_adapter_new(const tb_adapter_conf_t *conf, tb_err_t *err);
void tb_adapter_free(tb_adapter_t *a);

/* Handle one item of a JSON stream (file or stdin; tb/jsonstream.h): an
 * OBJECT is parsed as a Tetragon event, every other kind is dead-lettered.
 * Returns 0 (event emitted, skipped, or dead-lettered) or -1 (sink failed). */
int tb_adapter_json_item(tb_adapter_t *a, const tb_adapter_origin_t *o, const tb_jsonstream_item_t *it,
			 tb_err_t *err);

/* Handle one Kafka message by its topic: tb.tetragon.raw.v1 (one or more
 * JSON objects; each bad one is dead-lettered alone with its bytes, the good
 * ones still go out) or tb.probe.raw.v1 (one Avro ProbeBatch: mapped whole,
 * or dead-lettered whole). A message of another topic is dead-lettered.
 * Returns 0 or -1 (sink failed). */
int tb_adapter_kafka_message(tb_adapter_t *a, const tb_kafka_msg_t *m, tb_err_t *err);

#endif
