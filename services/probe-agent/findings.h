/*
 * findings.h — the watch list's Kafka source: tb.findings.v1 (purl +
 * symbols to watch) and tb.artifacts.v1 (which binaries carry a purl),
 * both compacted, keyed "<tenant>/<finding_id>" and "<tenant>/<digest>".
 *
 * The agent reads both topics from the beginning at every start (a consumer
 * group of its own that never commits) and keeps following them; only the
 * records of its tenant (--tenant) count. A tombstone (no value) removes
 * the finding or artifact named by its key.
 */
#ifndef TB_PA_FINDINGS_H
#define TB_PA_FINDINGS_H

#include "tb/avro.h"
#include "tb/kafka.h"
#include "watch.h"

typedef struct tb_pa_findings_stats {
	uint64_t findings, artifacts, tombstones, other_tenant, undecodable;
} tb_pa_findings_stats_t;

/* Apply one consumed message to the watch list. 0, or -1 + err when the
 * record does not decode (it is skipped; the caller logs it). */
int tb_pa_findings_apply(tb_pa_watch_t *w, const tb_avro_registry_t *reg, const char *tenant,
			 const tb_kafka_msg_t *m, tb_pa_findings_stats_t *st, tb_err_t *err);

#endif
