/*
 * probe.h — is Kafka reachable right now? (the Kafka half of /readyz)
 *
 * tb/kafka.h's consumer retries broker outages quietly (as it should), so
 * the aggregator cannot tell from its polls whether the cluster is gone or
 * merely idle. The probe asks: a small thread with its own librdkafka handle
 * (same bootstrap servers and -X properties as the service) requests cluster
 * metadata every interval and records whether a broker answered, and the
 * failure reason when none did.
 */
#ifndef TB_AGG_PROBE_H
#define TB_AGG_PROBE_H

#include <stddef.h>

#include "tb/err.h"

typedef struct tb_agg_probe tb_agg_probe_t;

/* Start probing every interval_ms (each request may take as long). The first
 * answer is awaited, so the state is known when this returns. NULL on error. */
tb_agg_probe_t *tb_agg_probe_start(const char *bootstrap, const char *const *props, size_t n_pairs,
				   int interval_ms, tb_err_t *err);

/* 1 when the last probe got an answer; else 0 and the reason in reason[cap]. */
int tb_agg_probe_ok(tb_agg_probe_t *p, char *reason, size_t cap);

/* Stop the thread and free. NULL is allowed. */
void tb_agg_probe_stop(tb_agg_probe_t *p);

#endif
