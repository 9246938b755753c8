/*
 * tb/metrics.h — counters and gauges rendered as Prometheus text.
 *
 * A service makes one registry in main, registers its metrics once and then
 * updates them from any thread (updates are lock-free atomics). The admin
 * HTTP server renders the registry on GET /metrics.
 */
#ifndef TB_METRICS_H
#define TB_METRICS_H

#include <stdint.h>

typedef struct tb_metrics tb_metrics_t;
typedef struct tb_metric tb_metric_t;

tb_metrics_t *tb_metrics_new(const char *prefix /* e.g. "tb_adapter" */);
void tb_metrics_free(tb_metrics_t *m);

/* Register (or look up) a counter / gauge. `labels` is the label set in
 * Prometheus syntax without braces, e.g. "rule=\"argv\"", or NULL. The same
 * name + labels returns the same metric. Never returns NULL (aborts on OOM). */
tb_metric_t *tb_metrics_counter(tb_metrics_t *m, const char *name, const char *help, const char *labels);
tb_metric_t *tb_metrics_gauge(tb_metrics_t *m, const char *name, const char *help, const char *labels);

void tb_metric_add(tb_metric_t *c, uint64_t n);
void tb_metric_inc(tb_metric_t *c);
void tb_metric_set(tb_metric_t *g, int64_t v);
int64_t tb_metric_get(const tb_metric_t *c);

/* Render all metrics in the Prometheus text exposition format (0.0.4).
 * Returns a malloc'd NUL-terminated string the caller frees. */
char *tb_metrics_render(tb_metrics_t *m);

#endif
