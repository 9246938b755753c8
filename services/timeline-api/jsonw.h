/*
 * jsonw.h — the JSON writer behind every timeline-api response body.
 *
 * Appends to a growable buffer; commas between members and elements are
 * inserted automatically from a small nesting stack, so callers write
 *
 *     tb_jw_obj(&w); tb_jw_key(&w, "items"); tb_jw_arr(&w); ... tb_jw_end(&w); tb_jw_end(&w);
 *
 * Strings are escaped for JSON ('"', '\\', control characters) and invalid
 * UTF-8 bytes are replaced by U+FFFD, so the output is always valid JSON
 * even when it echoes client input. Out of memory is sticky: the writer
 * stops appending and tb_jw_failed() reports it once at the end (callers
 * answer 500 then), so the many small calls need no error checks.
 */
#ifndef TB_TIMELINE_JSONW_H
#define TB_TIMELINE_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define TB_JW_MAX_DEPTH 32

typedef struct tb_jw {
	char *buf;
	size_t len;
	size_t cap;
	int failed; /* out of memory or nesting too deep */
	int depth;
	unsigned char first[TB_JW_MAX_DEPTH]; /* 1 while the container at that depth is empty */
	char kind[TB_JW_MAX_DEPTH];	      /* '{' or '[' */
	int after_key;			      /* a key was written: the next value needs no comma */
} tb_jw_t;

void tb_jw_init(tb_jw_t *w);
void tb_jw_free(tb_jw_t *w);
/* Forget the content, keep the buffer. */
void tb_jw_reset(tb_jw_t *w);

void tb_jw_obj(tb_jw_t *w);
void tb_jw_arr(tb_jw_t *w);
/* Close the innermost object or array. */
void tb_jw_end(tb_jw_t *w);

void tb_jw_key(tb_jw_t *w, const char *key);
/* A string value; NULL writes null. */
void tb_jw_str(tb_jw_t *w, const char *s);
void tb_jw_strn(tb_jw_t *w, const char *s, size_t n);
void tb_jw_int(tb_jw_t *w, int64_t v);
void tb_jw_bool(tb_jw_t *w, int v);
void tb_jw_null(tb_jw_t *w);
/* RFC 3339 UTC string of microseconds since the epoch (see params.h). */
void tb_jw_time_us(tb_jw_t *w, int64_t us);

/* Convenience: "key": value. */
void tb_jw_kstr(tb_jw_t *w, const char *key, const char *s);
void tb_jw_kint(tb_jw_t *w, const char *key, int64_t v);
void tb_jw_kbool(tb_jw_t *w, const char *key, int v);

/* Append bytes as they are (for non-JSON bodies built in the same buffer). */
void tb_jw_raw(tb_jw_t *w, const char *s, size_t n);

/* Append `s` escaped, without quotes (for building messages). */
void tb_jw_escaped(tb_jw_t *w, const char *s, size_t n);

/* Offset of the first byte of s[0..n) that does not start a well-formed
 * UTF-8 sequence (same strict rules as the writer), or n when all is valid.
 * Query parameters are checked with it: they reach SQL as text, and
 * PostgreSQL would refuse invalid UTF-8 with an error, not a 400. */
size_t tb_utf8_invalid_at(const char *s, size_t n);

/* 0 when the JSON text s[0..n) is valid UTF-8; else -1 and a message in
 * msg: byte offset, line, column and, when the bad byte is inside a
 * member's string value, the member's name. Request bodies are checked
 * with it before parsing, so the 400 says where instead of jansson's
 * "unable to decode byte". */
int tb_utf8_describe_json(const char *s, size_t n, char *msg, size_t cap);

/* 1 after an allocation failure or a nesting error. */
int tb_jw_failed(const tb_jw_t *w);

/* The whole error body {"error":{"code":CODE,"message":MESSAGE}} into w
 * (which is reset first). */
void tb_jw_error(tb_jw_t *w, const char *code, const char *message);

#endif
