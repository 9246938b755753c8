/*
 * guard.c — JSON 413 for oversized bodies (guard.h).
 *
 * Cheap on the common path: a callback for every read, but the first bytes
 * decide at once whether the buffer can start with a request line
 * ("TOKEN /"); body bytes of a JSON request never do, and only then is the
 * head pulled up (at most --max-header-bytes) and parsed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "guard.h"

void tb_api_guard_init(tb_api_guard_t *g, uint64_t max_body, size_t max_headers)
{
	uint8_t nonce[12];
	char hex[25];

	memset(g, 0, sizeof(*g));
	g->max_body = max_body;
	g->max_headers = max_headers;
	randombytes_buf(nonce, sizeof(nonce));
	sodium_bin2hex(hex, sizeof(hex), nonce, sizeof(nonce));
	snprintf(g->path, sizeof(g->path), "%s%s/payload-too-large", TB_API_GUARD_PREFIX, hex);
	snprintf(g->uri_path, sizeof(g->uri_path), "%s%s/uri-too-long", TB_API_GUARD_PREFIX, hex);
}

void tb_api_guard_set_max_uri(tb_api_guard_t *g, size_t max_uri)
{
	g->max_uri = max_uri;
}

int tb_api_guard_is_synthetic(const tb_api_guard_t *g, const char *path)
{
	if (strcmp(path, g->path) == 0)
		return 1;
	return strcmp(path, g->uri_path) == 0 ? 2 : 0;
}

/* Length of the request target when the buffer's request line has (or will
 * have, the line being still incomplete) a target over max_uri, else 0. */
static size_t long_target(const tb_api_guard_t *g, struct evbuffer *input, size_t len)
{
	size_t n = len < g->max_uri + 32 ? len : g->max_uri + 32, t;
	const char *p, *sp, *eol, *end;

	if (!g->max_uri || len <= g->max_uri)
		return 0;
	p = (const char *)evbuffer_pullup(input, (ev_ssize_t)n);
	if (!p || !(sp = memchr(p, ' ', n)))
		return 0;
	end = p + n;
	eol = memchr(sp + 1, '\n', (size_t)(end - sp - 1));
	if (eol) {
		const char *sp2 = memchr(sp + 1, ' ', (size_t)(eol - sp - 1));

		t = (size_t)((sp2 ? sp2 : eol) - sp - 1);
	} else {
		const char *sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));

		t = (size_t)((sp2 ? sp2 : end) - sp - 1); /* still arriving: at least this long */
	}
	return t > g->max_uri ? t : 0;
}

/* "METHOD /" at the start: an uppercase token, one space, a slash. */
static int looks_like_request(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && i < 16 && isupper((unsigned char)p[i]))
		i++;
	return i > 0 && i + 1 < n && p[i] == ' ' && p[i + 1] == '/';
}

/* End of the head (offset just past the blank line), or 0. */
static size_t head_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The declared body length of a head; 0 when there is none, -1 when the
 * guard should stay out (chunked, repeated or malformed Content-Length).
 * Values beyond uint64 saturate. */
static int declared_length(const char *p, size_t n, uint64_t *out)
{
	const char *line = memchr(p, '\n', n), *end = p + n;
	int seen = 0;

	*out = 0;
	while (line && ++line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *v;
		uint64_t x = 0;

		if (!eol)
			break;
		if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
			return -1;
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			if (seen++)
				return -1;
			for (v = line + 15; v < eol && (*v == ' ' || *v == '\t'); v++)
				;
			if (v == eol || !isdigit((unsigned char)*v))
				return -1;
			for (; v < eol && isdigit((unsigned char)*v); v++)
				x = x > (UINT64_MAX - 9) / 10 ? UINT64_MAX : x * 10 + (uint64_t)(*v - '0');
			for (; v < eol && (*v == ' ' || *v == '\t' || *v == '\r'); v++)
				;
			if (v != eol)
				return -1;
			*out = x;
		}
		line = eol;
	}
	return 0;
}

int tb_api_guard_check(const tb_api_guard_t *g, struct evbuffer *input)
{
	size_t len = evbuffer_get_length(input), n, end;
	char first[20];
	const char *p, *sp;
	uint64_t declared;
	ev_ssize_t got;

	got = evbuffer_copyout(input, first, sizeof(first));
	if (got < 4 || !looks_like_request(first, (size_t)got))
		return 0;
	/* Our synthetic requests are far shorter than max_uri (>= 256). */
	if (long_target(g, input, len) > 0) {
		evbuffer_drain(input, len);
		evbuffer_add_printf(input, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
				    g->uri_path);
		return 1;
	}
	n = len < g->max_headers ? len : g->max_headers;
	p = (const char *)evbuffer_pullup(input, (ev_ssize_t)n);
	if (!p || (end = head_end(p, n)) == 0)
		return 0;
	sp = memchr(p, ' ', end);
	if (sp && (size_t)(p + end - sp - 1) > strlen(TB_API_GUARD_PREFIX) &&
	    memcmp(sp + 1, TB_API_GUARD_PREFIX, strlen(TB_API_GUARD_PREFIX)) == 0)
		return 0; /* our own synthetic request */
	if (declared_length(p, end, &declared) < 0 || declared <= g->max_body)
		return 0;
	evbuffer_drain(input, len);
	evbuffer_add_printf(
	    input, "GET %s?declared=%" PRIu64 " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
	    g->path, declared);
	return 1;
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	if (info->n_added > 0)
		tb_api_guard_check(arg, buf);
}

int tb_api_guard_attach(const tb_api_guard_t *g, struct evbuffer *input)
{
	return evbuffer_add_cb(input, on_input, (void *)g) ? 0 : -1;
}
