/*
 * tb_err.c — context-carrying error messages (see tb/err.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tb/err.h"

int tb_err(tb_err_t *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int tb_err_wrap(tb_err_t *err, const char *fmt, ...)
{
	char ctx[TB_ERR_MAX];
	char joined[2 * TB_ERR_MAX + 2];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	/* Join in a buffer large enough for both, then truncate to fit. */
	if (err->msg[0])
		snprintf(joined, sizeof(joined), "%s: %s", ctx, err->msg);
	else
		snprintf(joined, sizeof(joined), "%s", ctx);
	memcpy(err->msg, joined, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return -1;
}

void tb_err_clear(tb_err_t *err)
{
	if (err)
		err->msg[0] = '\0';
}
