/*
 * Unit tests for the oversized-body guard (services/timeline-api/guard.c):
 * on a connection's input buffer it replaces a complete request head that
 * declares Content-Length above the limit by the synthetic 413 request,
 * and leaves everything else alone (small bodies, heads still arriving,
 * body bytes, chunked or ambiguous framing, its own synthetic request).
 * Buffers are real libevent evbuffers with the guard's callback attached,
 * filled as a socket read would fill them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>

#include "../../../services/timeline-api/guard.h"

static tb_api_guard_t guard;

static int setup(void **state)
{
	(void)state;
	tb_api_guard_init(&guard, 1000, 4096);
	return 0;
}

static void check_contents(const char *what, const char *exp, const char *got)
{
	if (strcmp(exp, got) != 0)
		fail_msg("%s:\nexpected %.200s\ngot      %.200s", what, exp, got);
}

static char *contents(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	assert_non_null(s);
	evbuffer_copyout(b, s, n);
	s[n] = '\0';
	return s;
}

/* Feed `input` through an attached guard; the buffer must end up as `exp`
 * (NULL: the synthetic request for `declared`). */
static void feed(const char *input, const char *exp, const char *declared)
{
	struct evbuffer *b = evbuffer_new();
	char want[512], *got;

	assert_int_equal(tb_api_guard_attach(&guard, b), 0);
	evbuffer_add(b, input, strlen(input));
	if (!exp) {
		snprintf(want, sizeof(want),
			 "GET %s?declared=%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
			 guard.path, declared);
		exp = want;
	}
	got = contents(b);
	if (strcmp(exp, got) != 0)
		fail_msg("input %.60s...:\nexpected %s\ngot      %s", input, exp, got);
	free(got);
	evbuffer_free(b);
}

static void oversized_declared_body_becomes_the_synthetic_request(void **state)
{
	(void)state;
	feed("POST /api/v1/runtime/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n{\"a\":", NULL,
	     "1001");
	feed("POST /x HTTP/1.1\r\ncontent-length:   99999999999999999999999\r\n\r\n", NULL,
	     "18446744073709551615");
	feed("PUT /x HTTP/1.0\nContent-Length: 5000\n\n", NULL, "5000"); /* bare LF line ends */
}

static void small_or_absent_bodies_pass(void **state)
{
	static const char *const ok[] = {
	    "POST /x HTTP/1.1\r\nContent-Length: 1000\r\n\r\n",
	    "GET /api/v1/runtime/timeline HTTP/1.1\r\nHost: x\r\n\r\n",
	    "POST /x HTTP/1.1\r\nContent-Length: 10\r\n", /* head not complete yet */
	    "{\"body\": \"bytes\", \"Content-Length\": 99999}\r\n\r\n",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5000\r\n\r\n",
	    "POST /x HTTP/1.1\r\nContent-Length: 5000\r\nContent-Length: 5000\r\n\r\n",
	    "POST /x HTTP/1.1\r\nContent-Length: 5000x\r\n\r\n",
	    "POST /x HTTP/1.1\r\nContent-Length: -5000\r\n\r\n",
	    "post /x HTTP/1.1\r\nContent-Length: 5000\r\n\r\n",
	    "POST\r\nContent-Length: 5000\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		feed(ok[i], ok[i], NULL);
}

/* A head that arrives in pieces is judged once it is complete. */
static void head_completed_by_a_later_read(void **state)
{
	struct evbuffer *b = evbuffer_new();
	const char *p1 = "POST /x HTTP/1.1\r\nContent-Le", *p2 = "ngth: 2000\r\n\r\n";
	char *got;

	(void)state;
	assert_int_equal(tb_api_guard_attach(&guard, b), 0);
	evbuffer_add(b, p1, strlen(p1));
	assert_int_equal(evbuffer_get_length(b), strlen(p1));
	evbuffer_add(b, p2, strlen(p2));
	got = contents(b);
	assert_non_null(strstr(got, guard.path));
	assert_non_null(strstr(got, "declared=2000"));
	free(got);
	evbuffer_free(b);
}

/* A head longer than --max-header-bytes is left to evhttp's own limit. */
static void overlong_head_is_left_alone(void **state)
{
	struct evbuffer *b = evbuffer_new();
	char *head = malloc(6000);

	(void)state;
	snprintf(head, 6000, "POST /x HTTP/1.1\r\nX-Pad: %05000d\r\nContent-Length: 5000\r\n\r\n", 0);
	assert_int_equal(tb_api_guard_attach(&guard, b), 0);
	evbuffer_add(b, head, strlen(head));
	assert_int_equal(evbuffer_get_length(b), strlen(head));
	free(head);
	evbuffer_free(b);
}

static void synthetic_path_is_random_per_guard(void **state)
{
	tb_api_guard_t other;

	(void)state;
	tb_api_guard_init(&other, 1000, 4096);
	assert_int_equal(strncmp(guard.path, TB_API_GUARD_PREFIX, strlen(TB_API_GUARD_PREFIX)), 0);
	if (strcmp(guard.path, other.path) == 0)
		fail_msg("expected two guards to get different nonces, got %s twice", guard.path);
	assert_int_equal(tb_api_guard_is_synthetic(&guard, guard.path), 1);
	assert_int_equal(tb_api_guard_is_synthetic(&guard, other.path), 0);
	assert_int_equal(tb_api_guard_is_synthetic(&guard, "/.tb-guard/"), 0);
}

/* A request target over max_uri becomes the synthetic 414 request, whether
 * the request line is complete or still arriving; targets at the limit
 * and long header lines pass. */
static void long_target_becomes_the_synthetic_414(void **state)
{
	tb_api_guard_t g;
	struct evbuffer *b;
	char line[1200], want[256], *got;

	(void)state;
	tb_api_guard_init(&g, 1000, 4096);
	tb_api_guard_set_max_uri(&g, 1000);
	snprintf(want, sizeof(want), "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		 g.uri_path);
	for (int complete = 0; complete < 2; complete++) {
		b = evbuffer_new();
		assert_int_equal(tb_api_guard_attach(&g, b), 0);
		memset(line, 'a', sizeof(line));
		memcpy(line, "GET /", 5);
		evbuffer_add(b, line, 600);
		got = contents(b);
		assert_int_equal(strlen(got), 600); /* not yet over the limit */
		free(got);
		if (complete) { /* the rest of the line and the head in one read */
			memcpy(line + 600, " HTTP/1.1\r\n\r\n", 13);
			evbuffer_add(b, line + 5, 608);
		} else {
			evbuffer_add(b, line + 5, 500);
		}
		got = contents(b);
		check_contents("long target", want, got);
		free(got);
		evbuffer_free(b);
	}
	b = evbuffer_new();
	assert_int_equal(tb_api_guard_attach(&g, b), 0);
	snprintf(
	    line, sizeof(line), "GET /%.*s HTTP/1.1\r\nX-Long: %.*s\r\n\r\n", 999,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a",
	    100,
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbb");
	evbuffer_add(b, line, strlen(line));
	got = contents(b);
	check_contents("a target of exactly max_uri bytes", line, got);
	free(got);
	evbuffer_free(b);
	assert_int_equal(tb_api_guard_is_synthetic(&g, g.uri_path), 2);
	assert_int_equal(tb_api_guard_is_synthetic(&g, g.path), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(oversized_declared_body_becomes_the_synthetic_request),
	    cmocka_unit_test(small_or_absent_bodies_pass),
	    cmocka_unit_test(head_completed_by_a_later_read),
	    cmocka_unit_test(overlong_head_is_left_alone),
	    cmocka_unit_test(synthetic_path_is_random_per_guard),
	    cmocka_unit_test(long_target_becomes_the_synthetic_414),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
