/*
 * tb_metrics.c — a small metrics registry with Prometheus text output.
 *
 * Registration takes a mutex (rare); updates are relaxed atomics (hot path).
 * Metrics are kept in registration order and grouped by name on output so
 * that HELP/TYPE lines appear once per family.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/metrics.h"

struct tb_metric {
	char *name;
	char *help;
	char *labels;
	int is_gauge;
	_Atomic int64_t value;
	struct tb_metric *next;
};

struct tb_metrics {
	pthread_mutex_t lock;
	char *prefix;
	tb_metric_t *head;
	tb_metric_t *tail;
};

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}

tb_metrics_t *tb_metrics_new(const char *prefix)
{
	tb_metrics_t *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	m->prefix = xstrdup(prefix);
	return m;
}

void tb_metrics_free(tb_metrics_t *m)
{
	tb_metric_t *c, *next;

	if (!m)
		return;
	for (c = m->head; c; c = next) {
		next = c->next;
		free(c->name);
		free(c->help);
		free(c->labels);
		free(c);
	}
	pthread_mutex_destroy(&m->lock);
	free(m->prefix);
	free(m);
}

static tb_metric_t *reg(tb_metrics_t *m, const char *name, const char *help, const char *labels, int gauge)
{
	tb_metric_t *c;

	pthread_mutex_lock(&m->lock);
	for (c = m->head; c; c = c->next) {
		if (strcmp(c->name, name) == 0 && strcmp(c->labels, labels ? labels : "") == 0) {
			pthread_mutex_unlock(&m->lock);
			return c;
		}
	}
	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name);
	c->help = xstrdup(help);
	c->labels = xstrdup(labels);
	c->is_gauge = gauge;
	if (m->tail)
		m->tail->next = c;
	else
		m->head = c;
	m->tail = c;
	pthread_mutex_unlock(&m->lock);
	return c;
}

tb_metric_t *tb_metrics_counter(tb_metrics_t *m, const char *name, const char *help, const char *labels)
{
	return reg(m, name, help, labels, 0);
}

tb_metric_t *tb_metrics_gauge(tb_metrics_t *m, const char *name, const char *help, const char *labels)
{
	return reg(m, name, help, labels, 1);
}

void tb_metric_add(tb_metric_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->value, (int64_t)n, memory_order_relaxed);
}

void tb_metric_inc(tb_metric_t *c)
{
	tb_metric_add(c, 1);
}

void tb_metric_set(tb_metric_t *g, int64_t v)
{
	atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

int64_t tb_metric_get(const tb_metric_t *c)
{
	return atomic_load_explicit(&((tb_metric_t *)c)->value, memory_order_relaxed);
}

char *tb_metrics_render(tb_metrics_t *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tb_metric_t *c, *d;

	if (!f)
		abort();
	pthread_mutex_lock(&m->lock);
	for (c = m->head; c; c = c->next) {
		int first = 1;

		/* Print each family once, at its first registration. */
		for (d = m->head; d != c; d = d->next)
			if (strcmp(d->name, c->name) == 0)
				first = 0;
		if (!first)
			continue;
		fprintf(f, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", m->prefix, c->name, c->help, m->prefix, c->name,
			c->is_gauge ? "gauge" : "counter");
		for (d = c; d; d = d->next) {
			if (strcmp(d->name, c->name) != 0)
				continue;
			if (d->labels[0])
				fprintf(f, "%s_%s{%s} %lld\n", m->prefix, d->name, d->labels,
					(long long)tb_metric_get(d));
			else
				fprintf(f, "%s_%s %lld\n", m->prefix, d->name, (long long)tb_metric_get(d));
		}
	}
	pthread_mutex_unlock(&m->lock);
	fclose(f);
	return buf;
}
