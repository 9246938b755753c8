/*
 * loop.h — the aggregator's main loop: gather a batch, store it (sink.h)
 * until it is stored, then commit it to Kafka too; keep /readyz honest.
 *
 * A batch is up to batch_max messages gathered for at most batch_wait_ms
 * after the first one arrived. It is stored in one transaction; on a
 * transient failure (PostgreSQL gone, serialization failure, deadlock, dead
 * letters not acknowledged) the loop marks the service not ready, backs off
 * (tb_pg_backoff_ms), reconnects and stores the SAME batch again: nothing is
 * lost and, thanks to the offsets stored with the data, nothing is counted
 * twice. When the database refuses the batch because of its content
 * (SQLSTATE class 22/23/54) the batch is stored one message per transaction
 * and the message that is still refused is dead-lettered with the
 * database's reason. Any other database error stops the service (exit 1)
 * without losing anything: the batch is simply redelivered after a restart.
 *
 * Kafka's committed offsets are only for lag visibility: after each
 * PostgreSQL commit the batch is committed to the group as well (a refused
 * commit is fine). Where to read from is decided by PostgreSQL: the
 * rebalance hook seeks every assigned partition to its sink_offsets row, or
 * to the beginning when there is none; if PostgreSQL cannot answer at that
 * moment it falls back to the group's committed offset, which is never
 * ahead of the stored one, so the worst case is a redelivery that the sink
 * skips.
 */
#ifndef TB_AGG_LOOP_H
#define TB_AGG_LOOP_H

#include <stddef.h>

#include "probe.h"
#include "sink.h"
#include "tb/kafka.h"
#include "tb/pg.h"
#include "tb/service.h"

typedef struct tb_agg_app {
	tb_service_t *svc;
	tb_pg_t *pg;
	tb_kafka_consumer_t *consumer;
	tb_agg_sink_t *sink;
	tb_agg_probe_t *probe; /* may be NULL: Kafka assumed reachable */
	size_t batch_max;
	int batch_wait_ms;
	/* state of the loop */
	int pg_ok;
	char pg_reason[512];
	int store_ok;
	char store_reason[512];
	long long next_pg_check_ms;
} tb_agg_app_t;

/* The rebalance hook (tb_kafka_rebalance_fn); opaque is the tb_agg_app_t. */
int tb_agg_rebalance(void *opaque, int assigned, tb_kafka_tp_t *tps, size_t n);

/* Run until a stop is requested. 0: stopped cleanly (every batch taken was
 * stored and committed); 1: stopped while a batch could not be stored (it
 * will be redelivered); -1: fatal error (err says why). */
int tb_agg_run(tb_agg_app_t *app, tb_err_t *err);

#endif
