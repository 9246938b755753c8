/*
 * tb_jsondom.h — a read-only JSON tree for tb_tetragon.c (internal to libtb).
 *
 * Why: the adapter spent ~40 % of its CPU in jansson building its tree and
 * ~30 % in malloc/free for it (one allocation per value, a hash table per
 * object). This tree lives in three arrays per document (values, members,
 * string bytes), so a Tetragon event costs a handful of allocations.
 *
 * Exactly jansson's answers: tb_jdoc_parse accepts only a strict subset of
 * what json_loadb(JSON_REJECT_DUPLICATES) accepts — an object root, ASCII
 * strings with the short escapes, integers of at most 18 digits, finite
 * reals, at most 64 members per object, depth 64 — and yields the values
 * jansson would (strtod for reals, insertion order of members). Anything else
 * (UTF-8 or \u escapes, big numbers, duplicate keys, syntax errors) returns
 * NULL with *fallback = 1: the caller then parses with jansson, which reports
 * its own error text, and converts jansson's tree with tb_jdoc_from_jansson.
 */
#ifndef TB_JSONDOM_H
#define TB_JSONDOM_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
	TB_JV_OBJECT,
	TB_JV_ARRAY,
	TB_JV_STRING,
	TB_JV_INTEGER,
	TB_JV_REAL,
	TB_JV_TRUE,
	TB_JV_FALSE,
	TB_JV_NULL,
} tb_jv_type_t;

typedef struct tb_jv tb_jv_t;

/* One member of an object (key, value) or element of an array (key NULL). */
typedef struct tb_jmember {
	union {
		const char *key;
		size_t key_off; /* while parsing */
	};
	union {
		tb_jv_t *val;
		size_t val_idx; /* while parsing */
	};
} tb_jmember_t;

struct tb_jv {
	tb_jv_type_t type;
	size_t n; /* string length, members or elements */
	union {
		const char *s; /* NUL-terminated, n bytes */
		long long i;
		double d;
		const tb_jmember_t *m;
		size_t off; /* while parsing: into the strings or the members */
	} u;
};

typedef struct tb_jdoc tb_jdoc_t;

/* Parse len bytes: the document or NULL; *fallback = 1 when the input is
 * outside the fast subset (or out of memory): use jansson then. */
tb_jdoc_t *tb_jdoc_parse(const char *json, size_t len, int *fallback);
/* jansson's tree as a document (NULL: out of memory). */
tb_jdoc_t *tb_jdoc_from_jansson(const json_t *root);
const tb_jv_t *tb_jdoc_root(const tb_jdoc_t *d);
void tb_jdoc_free(tb_jdoc_t *d);

/* The member `key` of an object, NULL when absent (or v is not an object). */
tb_jv_t *tb_jv_get(const tb_jv_t *v, const char *key);

/* 1 when a and b are the same tree: types, values (reals bit for bit),
 * member order and keys. Used by the tests and the fuzz target to check
 * that the fast parser answers exactly as jansson. */
int tb_jv_equal(const tb_jv_t *a, const tb_jv_t *b);

#endif
