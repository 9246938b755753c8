/*
 * conns.h — per-worker bookkeeping of the HTTP connections evhttp accepts:
 * a deadline per request against slow clients, and a bound on open
 * connections.
 *
 * Why: evhttp's --request-timeout is an inactivity timeout, reset by every
 * byte that arrives, so a client that sends its head one byte a second
 * (slowloris) keeps a connection, its buffers and a slot forever. libevent
 * 2.1 (Debian 12 ships 2.1.12) has neither evhttp_set_newreqcb nor
 * evhttp_set_max_connections (both 2.2), so we do both here with public
 * 2.1 API:
 *
 * - Open: evhttp asks our bufferevent callback (evhttp_set_bevcb) for every
 *   accepted connection; tb_api_conns_open records it (holding a reference
 *   on the bufferevent) and schedules an immediate "attach" callback. When
 *   that runs, the accept has finished and the bufferevent's callback
 *   argument is evhttp's connection object (bufferevent_getcb); we register
 *   a close callback on it (evhttp calls it from evhttp_connection_free on
 *   every path that ends a server connection, evhttp_free included) and
 *   arm the deadline.
 * - Deadline: a connection has --request-deadline to deliver a complete
 *   request (head and body), counted from its accept and again from the
 *   dispatch of each request (tb_api_conns_dispatched). When it expires the
 *   connection is closed; if nothing of an answer is pending, the client
 *   first gets a JSON 408. A keep-alive connection idle that long is closed
 *   the same way (evhttp's inactivity timeout would do so too).
 * - Bound: at --max-connections (split evenly across workers) a worker stops
 *   accepting (evconnlistener_disable) and resumes when one closes; further
 *   clients wait in the kernel's listen backlog instead of being refused.
 *   Slow clients cannot hold the slots longer than the deadline.
 *
 * All of it runs on the worker's own event loop thread: no locks.
 */
#ifndef TB_TIMELINE_CONNS_H
#define TB_TIMELINE_CONNS_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "tb/metrics.h"

typedef struct tb_api_conn tb_api_conn_t;

typedef struct tb_api_conns {
	struct event_base *base;
	struct evconnlistener *listener; /* evhttp's, for pausing accepts */
	int deadline_s;			 /* --request-deadline */
	int max_open;			 /* this worker's share of --max-connections */
	int open;			 /* connections currently recorded */
	int paused;			 /* accepts disabled at max_open */
	tb_api_conn_t *list;		 /* open connections (doubly linked) */
	tb_metric_t *opened;		 /* shared by all workers (atomic) */
	tb_metric_t *closed;
	tb_metric_t *deadline_closed;
	tb_metric_t *accept_paused;
} tb_api_conns_t;

/* Sets up the bookkeeping of one worker (listener may be NULL: no bound). */
void tb_api_conns_init(tb_api_conns_t *cs, struct event_base *base, struct evconnlistener *listener,
		       int deadline_s, int max_open, tb_metrics_t *metrics);

/* Record a new connection's bufferevent (from the evhttp_set_bevcb
 * callback). 0, or -1 when out of memory (the connection then runs without
 * deadline, like plain evhttp). */
int tb_api_conns_open(tb_api_conns_t *cs, struct bufferevent *bev);

/* A complete request arrived on evcon and is being answered: the next one
 * gets a fresh deadline. */
void tb_api_conns_dispatched(tb_api_conns_t *cs, struct evhttp_connection *evcon);

/* Before evhttp_free: evhttp frees its listener before its connections,
 * whose close callbacks must then not resume accepting. */
void tb_api_conns_stop(tb_api_conns_t *cs);

/* Forget every recorded connection (after evhttp_free, which closed them
 * all; what is left are connections not yet attached). */
void tb_api_conns_free(tb_api_conns_t *cs);

#endif
