/*
 * sqlarr.h — PostgreSQL array literals for one-statement multi-row writes.
 *
 * The aggregator sends each column of a multi-row insert as ONE text
 * parameter holding an array literal, and the statement unpacks the columns
 * with unnest($1::text[], $2::bigint[], ...): one round trip and one parse
 * per table per batch, whatever the number of rows. This builds those
 * literals: "{" elements "," ... "}", strings double-quoted with '"' and '\'
 * backslash-escaped, NULL as the bare word NULL.
 *
 * Errors are sticky: after an allocation failure every call is a no-op and
 * tb_agg_arr_finish returns NULL.
 */
#ifndef TB_AGG_SQLARR_H
#define TB_AGG_SQLARR_H

#include <stddef.h>
#include <stdint.h>

typedef struct tb_agg_arr {
	char *data;
	size_t len;
	size_t cap;
	size_t n; /* elements so far */
	int oom;
} tb_agg_arr_t;

/* Start a new literal (keeps the memory of the previous one). */
void tb_agg_arr_reset(tb_agg_arr_t *a);

void tb_agg_arr_text(tb_agg_arr_t *a, const char *s); /* NULL -> NULL */
void tb_agg_arr_int(tb_agg_arr_t *a, int64_t v);
void tb_agg_arr_null(tb_agg_arr_t *a);
/* bytea element: "\\x<hex>" inside the literal. */
void tb_agg_arr_bytea(tb_agg_arr_t *a, const uint8_t *data, size_t len);
/* timestamptz element from microseconds since the epoch (UTC). */
void tb_agg_arr_ts_us(tb_agg_arr_t *a, int64_t us);

/* Close the literal; the NUL-terminated text stays valid until the next
 * reset/free. NULL when out of memory. */
const char *tb_agg_arr_finish(tb_agg_arr_t *a);

void tb_agg_arr_free(tb_agg_arr_t *a);

#endif
