/*
 * conns.c — request deadlines and the open-connection bound (conns.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "conns.h"
#include "tb/log.h"

struct tb_api_conn {
	tb_api_conns_t *owner;
	struct bufferevent *bev;	 /* referenced until attached */
	struct evhttp_connection *evcon; /* NULL until attached */
	struct event *timer;		 /* attach, then the request deadline */
	tb_api_conn_t *prev, *next;
};

void tb_api_conns_init(tb_api_conns_t *cs, struct event_base *base, struct evconnlistener *listener,
		       int deadline_s, int max_open, tb_metrics_t *metrics)
{
	memset(cs, 0, sizeof(*cs));
	cs->base = base;
	cs->listener = listener;
	cs->deadline_s = deadline_s;
	cs->max_open = max_open;
	cs->opened =
	    tb_metrics_counter(metrics, "http_connections_opened_total", "HTTP connections accepted", NULL);
	cs->closed =
	    tb_metrics_counter(metrics, "http_connections_closed_total", "HTTP connections closed", NULL);
	cs->deadline_closed = tb_metrics_counter(
	    metrics, "http_connections_deadline_total",
	    "HTTP connections closed because a request did not arrive within --request-deadline", NULL);
	cs->accept_paused =
	    tb_metrics_counter(metrics, "http_accept_paused_total",
			       "times a worker stopped accepting at its share of --max-connections", NULL);
}

static void link_conn(tb_api_conns_t *cs, tb_api_conn_t *c)
{
	c->next = cs->list;
	if (cs->list)
		cs->list->prev = c;
	cs->list = c;
	cs->open++;
}

static void unlink_conn(tb_api_conns_t *cs, tb_api_conn_t *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cs->open--;
}

/* Resume accepting once a slot is free again. */
static void maybe_resume(tb_api_conns_t *cs)
{
	if (cs->paused && cs->listener && cs->open < cs->max_open) {
		if (evconnlistener_enable(cs->listener) == 0)
			cs->paused = 0;
	}
}

static void forget(tb_api_conn_t *c)
{
	tb_api_conns_t *cs = c->owner;

	unlink_conn(cs, c);
	event_free(c->timer);
	if (c->bev)
		bufferevent_decref(c->bev);
	free(c);
	tb_metric_inc(cs->closed);
	maybe_resume(cs);
}

static void arm(tb_api_conn_t *c, int secs)
{
	struct timeval tv = {.tv_sec = secs};

	event_add(c->timer, &tv);
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	forget(arg);
}

/* Best effort: tell the client why before closing, when no answer of ours
 * is being written (the socket is non-blocking; a full buffer drops it). */
static void send_timeout_answer(struct bufferevent *bev)
{
#define TIMEOUT_BODY                                                                                         \
	"{\"error\":{\"code\":\"request_timeout\",\"message\":\"no complete request within "                 \
	"--request-deadline\"}}"
	char msg[320];
	int n;
	evutil_socket_t fd;

	if (!bev || evbuffer_get_length(bufferevent_get_output(bev)) > 0 || (fd = bufferevent_getfd(bev)) < 0)
		return;
	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     sizeof(TIMEOUT_BODY) - 1, TIMEOUT_BODY);
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		tb_debug("408 to a slow client not sent");
#undef TIMEOUT_BODY
}

/* Attach: the accept that created the bufferevent has finished, so its
 * callback argument is evhttp's connection (NULL when evhttp already freed
 * it, which our reference survived). */
static void attach(tb_api_conn_t *c)
{
	void *arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	if (!arg) {
		forget(c);
		return;
	}
	c->evcon = arg;
	bufferevent_decref(c->bev);
	c->bev = NULL;
	evhttp_connection_set_closecb(c->evcon, on_close, c);
	arm(c, c->owner->deadline_s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	tb_api_conn_t *c = arg;
	struct evhttp_connection *evcon;

	(void)fd;
	(void)what;
	if (!c->evcon) {
		attach(c);
		return;
	}
	evcon = c->evcon;
	tb_metric_inc(c->owner->deadline_closed);
	send_timeout_answer(evhttp_connection_get_bufferevent(evcon));
	/* Release the slot here rather than through on_close, which evhttp
	 * skips for a connection it no longer counts as connected. */
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	forget(c);
	evhttp_connection_free(evcon);
}

int tb_api_conns_open(tb_api_conns_t *cs, struct bufferevent *bev)
{
	tb_api_conn_t *c = calloc(1, sizeof(*c));
	struct timeval now = {0};

	if (!c || !(c->timer = event_new(cs->base, -1, 0, on_timer, c))) {
		free(c);
		return -1;
	}
	c->owner = cs;
	c->bev = bev;
	bufferevent_incref(bev);
	link_conn(cs, c);
	event_add(c->timer, &now);
	tb_metric_inc(cs->opened);
	if (cs->listener && !cs->paused && cs->open >= cs->max_open &&
	    evconnlistener_disable(cs->listener) == 0) {
		cs->paused = 1;
		tb_metric_inc(cs->accept_paused);
	}
	return 0;
}

void tb_api_conns_dispatched(tb_api_conns_t *cs, struct evhttp_connection *evcon)
{
	for (tb_api_conn_t *c = cs->list; c; c = c->next)
		if (c->evcon == evcon) {
			arm(c, cs->deadline_s);
			return;
		}
}

void tb_api_conns_stop(tb_api_conns_t *cs)
{
	cs->listener = NULL;
}

void tb_api_conns_free(tb_api_conns_t *cs)
{
	tb_api_conn_t *next;

	cs->listener = NULL;
	for (tb_api_conn_t *c = cs->list; c; c = next) {
		next = c->next;
		forget(c);
	}
}
