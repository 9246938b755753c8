/*
 * tb/err.h — error values that carry context.
 *
 * Functions that can fail take a `tb_err_t *` and return -1 (or NULL) after
 * filling it with a message that names the thing that failed and why, e.g.
 * "parse schemas/avro/RuntimeEvent.avsc: field 'ts_ns' has no type". Callers
 * add their own context with tb_err_wrap() while the error travels upward.
 */
#ifndef TB_ERR_H
#define TB_ERR_H

#include <stddef.h>

#define TB_ERR_MAX 1024

typedef struct tb_err {
	char msg[TB_ERR_MAX];
} tb_err_t;

/* Set the message (printf-style). Returns -1 so `return tb_err(...)` reads well.
 * A NULL `err` is allowed and ignored. */
int tb_err(tb_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the existing message with more context: "CONTEXT: old message". */
int tb_err_wrap(tb_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear the message. */
void tb_err_clear(tb_err_t *err);

#endif
