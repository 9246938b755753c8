/*
 * sink.h — how one batch of Kafka messages becomes one PostgreSQL
 * transaction (the aggregator's idempotent sink).
 *
 * tb_agg_decode turns messages into items once per batch (decoded record, or
 * a dead-letter reason). tb_agg_store then writes items[lo, hi) in ONE
 * transaction:
 *
 *   1. lock the sink_offsets rows of the partitions present (an upsert that
 *      returns the stored next_offset), so two aggregators that both hold a
 *      partition across a rebalance serialize here, and skip every item
 *      below the stored offset or repeated inside the batch (redelivery);
 *   2. queue the dead letters of undecodable/invalid items (tb/dlq.h);
 *   3. make sure the day partitions exist (tb_observations_partition),
 *      insert the events' observations with ON CONFLICT DO NOTHING
 *      RETURNING, and only for the rows that came back (new event_ids) upsert
 *      symbols, frames, stacks and hot_symbols from the folded batch
 *      (fold.h);
 *   4. apply artifacts and findings in offset order (upsert the row, replace
 *      its children; a tombstone deletes);
 *   5. store next_offset = last offset + 1 per partition;
 *   6. wait until the dead letters are acknowledged, then COMMIT.
 * So PostgreSQL holds a message's effects exactly when it holds its offset,
 * and a repeat of the batch (crash, kill -9, lost connection during COMMIT,
 * rebalance, replay) changes nothing.
 *
 * Tombstones: tb.artifacts.v1 is keyed by digest and tb.findings.v1 by
 * finding_id (tb/topics.h); a tombstone (NULL value) deletes the rows with
 * that key for the tenant named by its "tb-tenant" header, or for every
 * tenant when the header is absent.
 */
#ifndef TB_AGG_SINK_H
#define TB_AGG_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"
#include "sqlarr.h"
#include "tb/avro.h"
#include "tb/dlq.h"
#include "tb/err.h"
#include "tb/kafka.h"
#include "tb/metrics.h"
#include "tb/pg.h"

typedef enum tb_agg_kind {
	TB_AGG_EVENT = 0,
	TB_AGG_ARTIFACT,
	TB_AGG_ARTIFACT_DELETE,
	TB_AGG_FINDING,
	TB_AGG_FINDING_DELETE,
	TB_AGG_BAD, /* dead-letter it: reason says why */
} tb_agg_kind_t;

typedef struct tb_agg_item {
	const tb_kafka_msg_t *msg;
	tb_agg_kind_t kind;
	tb_event_t ev;
	tb_artifact_t art;
	tb_finding_t fnd;
	char *del_key;	   /* tombstones: the key (digest / finding_id) */
	char *del_tenant;  /* tombstones: "tb-tenant" header, NULL = every tenant */
	char *reason;	   /* TB_AGG_BAD */
	int64_t ts_us;	   /* events */
	int dead_lettered; /* the dead letter was acknowledged (do not send it again) */
	/* per transaction attempt */
	int live;     /* not yet stored (offset at/after the stored next_offset) */
	int inserted; /* events: the observation row was new */
} tb_agg_item_t;

/* Counts of one committed transaction (added to the metrics after COMMIT). */
typedef struct tb_agg_stats {
	uint64_t inserted;    /* observations that were new */
	uint64_t duplicates;  /* events whose event_id was already stored / repeated in the batch */
	uint64_t redelivered; /* messages below the stored offset, skipped */
	uint64_t dead_letters;
	uint64_t hot_rows;
	uint64_t artifacts_upserted, artifacts_deleted;
	uint64_t findings_upserted, findings_deleted;
} tb_agg_stats_t;

/* Why a transaction attempt failed. */
typedef enum tb_agg_failure {
	TB_AGG_OK = 0,
	TB_AGG_TRANSIENT, /* connection lost, serialization failure, deadlock, Kafka flush: retry */
	TB_AGG_DATA,	  /* a record the database refuses (SQLSTATE class 22/23): isolate it */
	TB_AGG_FATAL,	  /* anything else (missing table, permissions, ...): stop */
} tb_agg_failure_t;

typedef struct tb_agg_sink_conf {
	tb_pg_t *pg;		       /* not owned */
	tb_kafka_producer_t *producer; /* for dead letters; not owned */
	tb_dlq_t *dlq;		       /* not owned */
	const tb_avro_registry_t *reg; /* not owned */
	const char *group;	       /* the consumer group: key of sink_offsets */
	const char *default_tenant;    /* for records without tenant (--tenant); NULL: reject them */
	tb_metrics_t *metrics;	       /* may be NULL */
	int flush_timeout_ms;	       /* wait for dead-letter acknowledgements */
} tb_agg_sink_conf_t;

typedef struct tb_agg_sink tb_agg_sink_t;

tb_agg_sink_t *tb_agg_sink_new(const tb_agg_sink_conf_t *conf, tb_err_t *err);
void tb_agg_sink_free(tb_agg_sink_t *s);

/* Decode msgs[0..n) into items (zeroed by the call; release with
 * tb_agg_items_clear). Never fails for bad input: such items become
 * TB_AGG_BAD with a reason. -1 only when out of memory. Counts
 * events_in_total. */
int tb_agg_decode(tb_agg_sink_t *s, const tb_kafka_msg_t *msgs, size_t n, tb_agg_item_t *items,
		  tb_err_t *err);

/* Turn an item into a dead letter with `reason` (frees its record). */
void tb_agg_item_reject(tb_agg_item_t *it, const char *reason);

void tb_agg_items_clear(tb_agg_item_t *items, size_t n);

/* Write items[lo, hi) in one transaction (steps above). On success
 * TB_AGG_OK and *stats, with the metrics updated; otherwise the transaction
 * is rolled back and err says why. */
tb_agg_failure_t tb_agg_store(tb_agg_sink_t *s, tb_agg_item_t *items, size_t lo, size_t hi,
			      tb_agg_stats_t *stats, tb_err_t *err);

/* The rebalance hook's lookup: set tps[i].offset to the stored next_offset
 * of each partition for this group, or TB_KAFKA_OFFSET_BEGINNING when none is
 * stored. -1 (tps unchanged) when PostgreSQL cannot answer. */
int tb_agg_stored_offsets(tb_agg_sink_t *s, tb_kafka_tp_t *tps, size_t n, tb_err_t *err);

/* Classify the last failure of s's connection. Pure on the SQLSTATE. */
tb_agg_failure_t tb_agg_classify_sqlstate(const char *sqlstate, int connection_ok);

#endif
