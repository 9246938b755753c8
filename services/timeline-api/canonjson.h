/*
 * canonjson.h — canonical JSON (RFC 8785 style) of a jansson value, for
 * snapshots and witness statements whose bytes are hashed and signed.
 *
 * Rules: object members sorted by key (bytewise UTF-8, which equals the
 * RFC's UTF-16 order for the ASCII keys we use), no whitespace, strings
 * with only '"', '\\' and control characters escaped ("\b \t \n \f \r",
 * others as \u00xx lowercase), integers in plain decimal, true/false/null.
 * Reals are refused (their RFC 8785 form needs ECMAScript number
 * formatting; our documents keep numbers integral), as are integers beyond
 * +-2^53 (not exactly representable for I-JSON readers).
 */
#ifndef TB_TIMELINE_CANONJSON_H
#define TB_TIMELINE_CANONJSON_H

#include <stddef.h>

#include <jansson.h>

#include "tb/err.h"

/* malloc'd canonical bytes (NUL-terminated, *len without it), or NULL + err. */
char *tb_canon_json(const json_t *v, size_t *len, tb_err_t *err);

/* "sha256:<64 hex>" of the bytes into out[72]. */
void tb_canon_sha256(const char *data, size_t len, char out[72]);

#endif
