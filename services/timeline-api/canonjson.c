/*
 * canonjson.c — canonical JSON writer (canonjson.h). A recursive walk over
 * the jansson value into a growing buffer; object keys are collected and
 * sorted with strcmp (bytewise) before their members are written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "canonjson.h"
#include "tb/hash.h"

#define MAX_SAFE INT64_C(9007199254740992) /* 2^53 */

typedef struct buf {
	char *p;
	size_t len, cap;
	int failed;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_string(buf_t *b, const char *s, size_t n)
{
	char esc[8];

	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c == '"'    ? "\\\""
				: c == '\\' ? "\\\\"
				: c == '\b' ? "\\b"
				: c == '\t' ? "\\t"
				: c == '\n' ? "\\n"
				: c == '\f' ? "\\f"
				: c == '\r' ? "\\r"
					    : NULL;

		if (e)
			put(b, e, strlen(e));
		else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(b, esc, 6);
		} else
			put(b, (const char *)&s[i], 1);
	}
	put(b, "\"", 1);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int walk(buf_t *b, const json_t *v, tb_err_t *err);

static int walk_object(buf_t *b, const json_t *v, tb_err_t *err)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *m;
	int rc = 0;

	if (!keys)
		return tb_err(err, "canonical JSON: out of memory");
	json_object_foreach((json_t *)v, k, m) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	put(b, "{", 1);
	for (i = 0; i < n && rc == 0; i++) {
		if (i)
			put(b, ",", 1);
		put_string(b, keys[i], strlen(keys[i]));
		put(b, ":", 1);
		rc = walk(b, json_object_get(v, keys[i]), err);
	}
	put(b, "}", 1);
	free(keys);
	return rc;
}

static int walk(buf_t *b, const json_t *v, tb_err_t *err)
{
	char num[24];
	json_int_t iv;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return walk_object(b, v, err);
	case JSON_ARRAY:
		put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				put(b, ",", 1);
			if (walk(b, json_array_get(v, i), err) < 0)
				return -1;
		}
		put(b, "]", 1);
		return 0;
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		iv = json_integer_value(v);
		if (iv > MAX_SAFE || iv < -MAX_SAFE)
			return tb_err(err, "canonical JSON: integer %" JSON_INTEGER_FORMAT " beyond 2^53",
				      iv);
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, iv);
		put(b, num, strlen(num));
		return 0;
	case JSON_TRUE:
		put(b, "true", 4);
		return 0;
	case JSON_FALSE:
		put(b, "false", 5);
		return 0;
	case JSON_NULL:
		put(b, "null", 4);
		return 0;
	default:
		return tb_err(err, "canonical JSON: real numbers are not allowed");
	}
}

char *tb_canon_json(const json_t *v, size_t *len, tb_err_t *err)
{
	buf_t b = {0};

	if (!v) {
		tb_err(err, "canonical JSON: no value");
		return NULL;
	}
	if (walk(&b, v, err) < 0 || b.failed) {
		if (b.failed)
			tb_err(err, "canonical JSON: out of memory");
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

void tb_canon_sha256(const char *data, size_t len, char out[72])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)data, len);
	memcpy(out, "sha256:", 7);
	tb_hex(d, sizeof(d), out + 7);
}
