/*
 * guard.h — turns "request body too large" into a JSON 413 from our own
 * handler instead of libevent's HTML error page.
 *
 * evhttp enforces --max-body-bytes itself and answers an oversized body
 * with a fixed HTML page before any handler runs. To keep every 4xx JSON,
 * the guard watches each connection's input buffer through an evbuffer
 * callback, which runs as bytes arrive and before evhttp parses them. When
 * the buffer starts with a complete request head (request line and headers
 * up to the blank line) that declares a Content-Length above the limit, the
 * guard replaces the buffer's contents with a small synthetic request
 *
 *     GET /.tb-guard/<nonce>/payload-too-large?declared=N HTTP/1.1
 *     Connection: close
 *
 * which the server answers with a JSON 413 before closing the connection
 * (likewise a request target over --max-uri-bytes: JSON 414);
 * the client's body is never read. The nonce is random per process (a
 * client that guessed it would only get a 413 for itself).
 *
 * The guard is stateless: it only looks at the start of the buffer, which
 * is a request head whenever a client sends its head in one piece after the
 * previous request was consumed (what HTTP clients do). In every other case
 * — a head arriving in pieces that evhttp already began to consume,
 * pipelined requests behind another, chunked bodies, malformed or repeated
 * Content-Length — it does nothing and evhttp's own limit applies (still a
 * 413 or 400, with libevent's HTML body). Being stateless means nothing is
 * allocated per connection, so nothing can leak or outlive it.
 */
#ifndef TB_TIMELINE_GUARD_H
#define TB_TIMELINE_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#define TB_API_GUARD_PREFIX "/.tb-guard/"

typedef struct tb_api_guard {
	uint64_t max_body;  /* --max-body-bytes */
	size_t max_headers; /* --max-header-bytes: longer heads are left to evhttp */
	size_t max_uri;	    /* --max-uri-bytes (0: not checked); < max_headers */
	char path[96];	    /* TB_API_GUARD_PREFIX "<nonce>/payload-too-large" */
	char uri_path[96];  /* TB_API_GUARD_PREFIX "<nonce>/uri-too-long" */
} tb_api_guard_t;

/* Limits and a fresh random nonce. */
void tb_api_guard_init(tb_api_guard_t *g, uint64_t max_body, size_t max_headers);

/* Also answer request lines whose target is longer than max_uri bytes
 * with the synthetic uri_path request (the server's JSON 414). The request
 * line is always at the start of the buffer until evhttp has read all of
 * it (evhttp never consumes part of a line), so unlike the body check this
 * one cannot be missed; max_uri below max_headers keeps evhttp's own
 * "headers too large" answer from coming first. */
void tb_api_guard_set_max_uri(tb_api_guard_t *g, size_t max_uri);

/* Watch a connection's input buffer. g must outlive the buffer (one guard
 * per server, shared by all its connections; it is only read). */
int tb_api_guard_attach(const tb_api_guard_t *g, struct evbuffer *input);

/* What the guard does with the current buffer contents, exposed for
 * tests: 1 when it replaced them with the synthetic request, 0 otherwise. */
int tb_api_guard_check(const tb_api_guard_t *g, struct evbuffer *input);

/* 1 when `path` (without query string) is g's synthetic 413 path, 2 when
 * it is the synthetic 414 path, 0 otherwise. */
int tb_api_guard_is_synthetic(const tb_api_guard_t *g, const char *path);

#endif
