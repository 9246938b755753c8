/*
 * tb/jsonstream.h — split a byte stream into top-level JSON objects.
 *
 * The adapter reads Tetragon exports (one compact object per line) but also
 * docs-style input (pretty-printed objects, several objects back to back on
 * one line or separated by blank lines). This splitter is fed arbitrary byte
 * chunks and hands out each complete top-level object with the position of
 * its first byte (stream byte offset, 1-based line and column). It does not
 * validate JSON: it only tracks strings (with escapes) and {}/[] nesting, so
 * the bytes it hands out still go through a real parser (jansson).
 *
 * What it yields (tb_jsonstream_next):
 *   OBJECT     a balanced top-level {...}. Only objects are values: a
 *              top-level array, number, string or literal is GARBAGE.
 *   GARBAGE    bytes between objects that are not whitespace, up to (not
 *              including) the next '{'. Reported once per run, then skipped;
 *              the next object still arrives (also on the same line).
 *   TRUNCATED  an object that never closed. Four things end it:
 *              - a closing bracket of the wrong kind ('}' for an open '[',
 *                ']' for an open '{'; checked up to 1024 levels deep): the
 *                item ends with that byte and scanning resumes after it, so
 *                the objects that follow still arrive.
 *              - a '{' at column 1 outside a string while the object is open
 *                (a writer died mid-line and a new object began on the next
 *                line; pretty-printers indent nested values, so a column-1
 *                '{' always starts a top-level object). The new object
 *                starts at that '{'.
 *              - a raw newline inside a string (invalid JSON; NDJSON line cut
 *                short). Scanning resumes after that newline.
 *              - end of input (tb_jsonstream_finish).
 *   TOO_LARGE  an object longer than max_size bytes. Reported as soon as the
 *              limit is passed (data = its first max_size bytes); the rest of
 *              it is skipped without buffering. Skipping ends at the object's
 *              own closing brace, or earlier at a resynchronization point
 *              (a '{' at column 1 outside a string, which starts the next
 *              object; or a raw newline inside a string).
 * A UTF-8 byte order mark at stream offset 0 is skipped silently.
 *
 * Memory: one buffer holding at most the current object (<= max_size) plus
 * the unscanned part of the last chunk; bytes already handed out are dropped
 * on the next feed. No allocation per byte or per object.
 *
 * Usage:
 *   tb_jsonstream_feed(s, buf, n);
 *   while (tb_jsonstream_next(s, &it)) { ... }
 *   ... at end of input: tb_jsonstream_finish(s); drain next() again.
 * Item data points into the splitter and stays valid until the next call to
 * feed(), reset() or free() (next() itself does not move data).
 */
#ifndef TB_JSONSTREAM_H
#define TB_JSONSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

#define TB_JSONSTREAM_DEFAULT_MAX (1024 * 1024)

typedef struct tb_jsonstream tb_jsonstream_t;

typedef enum tb_jsonstream_kind {
	TB_JSONSTREAM_OBJECT = 0,
	TB_JSONSTREAM_GARBAGE,
	TB_JSONSTREAM_TRUNCATED,
	TB_JSONSTREAM_TOO_LARGE,
} tb_jsonstream_kind_t;

typedef struct tb_jsonstream_item {
	tb_jsonstream_kind_t kind;
	const char *data; /* the bytes (GARBAGE/TRUNCATED/TOO_LARGE: at most max_size) */
	size_t len;
	uint64_t offset;    /* stream byte offset of the first byte */
	uint64_t line;	    /* 1-based line of the first byte */
	uint64_t column;    /* 1-based column (in bytes) of the first byte */
	const char *reason; /* why it is not an OBJECT (NULL for OBJECT); valid like data */
} tb_jsonstream_item_t;

/* max_size 0 means TB_JSONSTREAM_DEFAULT_MAX. Returns NULL on OOM. */
tb_jsonstream_t *tb_jsonstream_new(size_t max_size);
void tb_jsonstream_free(tb_jsonstream_t *s);

/* Forget all state and restart at the given position (e.g. a new file after a
 * rotation starts at offset 0, line 1; a tail that starts at the end of a file
 * starts at that file's size and line). Pending bytes are dropped: call
 * finish() and drain first to have them reported. */
void tb_jsonstream_reset(tb_jsonstream_t *s, uint64_t offset, uint64_t line);

/* Append bytes. Returns 0, or -1 (err set) when out of memory. */
int tb_jsonstream_feed(tb_jsonstream_t *s, const void *data, size_t len, tb_err_t *err);

/* Mark end of input: an open object is then reported TRUNCATED and a pending
 * garbage run is reported once next() reaches them. A later feed() clears
 * the mark and scanning simply goes on (positions continue). */
void tb_jsonstream_finish(tb_jsonstream_t *s);

/* Next item: 1 = *item filled, 0 = need more input (or all drained). */
int tb_jsonstream_next(tb_jsonstream_t *s, tb_jsonstream_item_t *item);

/* Size of the internal buffer in bytes (for metrics, and to check the bound). */
size_t tb_jsonstream_buffered(const tb_jsonstream_t *s);

/* Name of a kind for logs: "object", "garbage", "truncated", "too_large". */
const char *tb_jsonstream_kind_name(tb_jsonstream_kind_t kind);

#endif
