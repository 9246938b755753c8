/*
 * filein.h — one file input ("file:PATH", followed like `tail -F`) or stdin
 * ("-"): bytes (tail.h) -> top-level JSON objects (tb/jsonstream.h) ->
 * ingest.h, with a position that can be saved and resumed (position.h).
 *
 * Position: after each handled item (event, skip or dead letter) the input's
 * position becomes the end of that item in the current file (identity from
 * fstat of the open descriptor). An object still incomplete at the end of
 * what was read stays unhandled: it is completed by later appends, or read
 * again after a restart. An object over the size limit does not move the
 * position (its end is not known when it is reported).
 *
 * Resume (a saved position for this path):
 *   - the file at the path is the saved file and not shorter: continue at
 *     the saved offset and line (TB_TAIL_FROM_OFFSET);
 *   - the file was rotated while the adapter was down: the saved file is
 *     looked up by (dev, ino) among the regular files in the path's
 *     directory (where lumberjack keeps its backups); when found, its rest
 *     is read first, then the file at the path from its start;
 *   - otherwise (saved file gone, or truncated below the offset) the file at
 *     the path is read from its start, with a warning.
 * Columns on the first line after a resume point count from that point.
 *
 * stdin: read until EOF; then an unfinished object is dead-lettered
 * ("json: truncated ... end of input") and tb_adapter_filein_eof() turns
 * true. stdin has no position. A tailed file is never "finished": an
 * incomplete last object is simply waited for.
 *
 * Metrics: bytes_read_total{input}, tail_switches_total{why="rotated|truncated"}.
 */
#ifndef TB_ADAPTER_FILEIN_H
#define TB_ADAPTER_FILEIN_H

#include <stddef.h>

#include "ingest.h"
#include "position.h"
#include "tail.h"
#include "tb/err.h"
#include "tb/metrics.h"

typedef struct tb_adapter_filein tb_adapter_filein_t;

typedef struct tb_adapter_filein_conf {
	const char *path;		/* "-" = stdin */
	tb_tail_start_t start;		/* FROM_START or FROM_END; ignored for stdin and when resuming */
	const tb_adapter_pos_t *resume; /* saved position, or NULL */
	size_t max_object;		/* largest JSON object; 0 = 1 MiB */
	tb_metrics_t *metrics;		/* required */
} tb_adapter_filein_conf_t;

/* `a` is not owned. NULL with err on OOM. */
tb_adapter_filein_t *tb_adapter_filein_open(const tb_adapter_filein_conf_t *conf, tb_adapter_t *a,
					    tb_err_t *err);
void tb_adapter_filein_free(tb_adapter_filein_t *f);

/* Read and handle what is available now, stopping after about `budget`
 * bytes. Returns the number of bytes read (0: nothing new), or -1 (tail
 * error, or the sink failed: fatal, do not save positions). */
long tb_adapter_filein_poll(tb_adapter_filein_t *f, size_t budget, tb_err_t *err);

/* stdin: EOF was reached and everything was handled. Files: never. */
int tb_adapter_filein_eof(const tb_adapter_filein_t *f);

/* 1 and *out when the position is known (a regular file that was read), 0
 * otherwise (stdin, FIFO, nothing read yet). */
int tb_adapter_filein_position(const tb_adapter_filein_t *f, tb_adapter_pos_t *out);

/* The input path ("-" for stdin). */
const char *tb_adapter_filein_path(const tb_adapter_filein_t *f);

#endif
