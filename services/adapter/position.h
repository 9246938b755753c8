/*
 * position.h — how far each tailed file was read, kept across restarts in
 * the --position-file: the file-input side of at-least-once.
 *
 * Kafka inputs commit offsets; files have none, so the adapter records, per
 * input path, the file's identity (st_dev, st_ino) and the byte offset and
 * line just after the last record it handled. It saves the file only after
 * the producer acknowledged every event and dead letter of those records
 * (one save per round, after the flush). A crash between the flush and the
 * save re-reads at most one round: deterministic event ids make the repeat
 * harmless downstream.
 *
 * Format (text, one entry per line, rewritten atomically: temp file, fsync,
 * rename, fsync of the directory):
 *   # comment
 *   v1 <dev> <ino> <offset> <line> <path to end of line>
 * Paths containing a newline are refused.
 */
#ifndef TB_ADAPTER_POSITION_H
#define TB_ADAPTER_POSITION_H

#include <stdint.h>

#include "tb/err.h"

typedef struct tb_adapter_pos {
	uint64_t dev, ino; /* identity of the file the offset belongs to */
	uint64_t offset;   /* byte offset after the last handled record */
	uint64_t line;	   /* 1-based line number at offset */
} tb_adapter_pos_t;

typedef struct tb_adapter_posfile tb_adapter_posfile_t;

/* Load `path` (a missing file is an empty set). NULL with err on an
 * unreadable or malformed file (naming the line) or OOM. */
tb_adapter_posfile_t *tb_adapter_posfile_open(const char *path, tb_err_t *err);
void tb_adapter_posfile_free(tb_adapter_posfile_t *pf);

/* 1 and *out when there is an entry for input_path, else 0. */
int tb_adapter_posfile_get(const tb_adapter_posfile_t *pf, const char *input_path, tb_adapter_pos_t *out);

/* Set (in memory) the entry of input_path. 0, or -1 (OOM, newline in path). */
int tb_adapter_posfile_set(tb_adapter_posfile_t *pf, const char *input_path, const tb_adapter_pos_t *pos,
			   tb_err_t *err);

/* Write the file if an entry changed since the last save. 0 or -1. */
int tb_adapter_posfile_save(tb_adapter_posfile_t *pf, tb_err_t *err);

#endif
