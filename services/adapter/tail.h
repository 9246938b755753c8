/*
 * tail.h — the adapter's file input: follow a file like `tail -F`, or read
 * stdin, as a sequence of byte chunks with their file positions.
 *
 * Tetragon's exporter (lumberjack) rotates by renaming the file and creating
 * a new one; copytruncate-style tools truncate in place. The tail follows
 * both: when the open file is at its end it stats the path, and
 *   - a different inode (or device) at the path = rotation: the old
 *     descriptor is drained to its end first, then the new file is read
 *     from offset 0;
 *   - the same inode with a size below our offset = truncation: reading
 *     restarts at offset 0;
 *   - no file at the path = moved away, not yet recreated: keep reading the
 *     old descriptor and look again on the next call.
 * A path that does not exist yet is tolerated: each call tries to open it.
 * TB_TAIL_FROM_END applies only to a file that exists at the first read;
 * a file that appears later (and every file after a rotation) is read from
 * its beginning, since everything in it is new.
 * Limits (poll-based, no inotify): a truncation followed by a rewrite past
 * our old offset before we look again cannot be seen; nor can a new file that
 * reuses the old inode number.
 *
 * Every chunk carries the byte offset and 1-based line of its first byte in
 * the current file, and a generation number that changes whenever reading
 * switches to another file (or restarts after truncation): the caller then
 * finishes its JSON splitter and resets it to the chunk's offset and line,
 * so dead letters can name "file:line" positions. (Starting at the end of an
 * existing file therefore reads it once to count its lines.)
 *
 * tb_tail_read never blocks: regular files are read until EOF; stdin (path
 * "-") and FIFOs are polled with a zero timeout first. So the adapter's main
 * loop can also poll Kafka and check its stop flag between calls.
 */
#ifndef TB_ADAPTER_TAIL_H
#define TB_ADAPTER_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

typedef struct tb_tail tb_tail_t;

typedef enum tb_tail_start {
	TB_TAIL_FROM_START = 0,
	TB_TAIL_FROM_END = 1,
	TB_TAIL_FROM_OFFSET = 2, /* resume: see tb_tail_opts_t */
} tb_tail_start_t;

/* TB_TAIL_FROM_OFFSET resumes where an earlier run stopped: when the file at
 * the path at the first read is the one identified by (dev, ino) and holds at
 * least `offset` bytes, reading starts at `offset`, counted as line `line`.
 * Any other file there (replaced, or truncated below offset) is read from
 * its start, since all of it is new. */
typedef struct tb_tail_opts {
	tb_tail_start_t start;
	uint64_t dev, ino;     /* FROM_OFFSET only */
	uint64_t offset, line; /* FROM_OFFSET only; line 0 is taken as 1 */
} tb_tail_opts_t;

typedef enum tb_tail_status {
	TB_TAIL_ERROR = -1,
	TB_TAIL_AGAIN = 0, /* nothing new now (or no file yet): call again later */
	TB_TAIL_DATA = 1,  /* *chunk is filled */
	TB_TAIL_EOF = 2,   /* stdin (or a file given as "-") ended: nothing more will come */
} tb_tail_status_t;

typedef enum tb_tail_switch {
	TB_TAIL_SAME = 0,  /* same file as the previous chunk */
	TB_TAIL_OPENED,	   /* first file opened (or it appeared) */
	TB_TAIL_ROTATED,   /* a new file replaced the old one at the path */
	TB_TAIL_TRUNCATED, /* the file was truncated; reading restarted at 0 */
} tb_tail_switch_t;

typedef struct tb_tail_chunk {
	const char *data; /* points into the caller's buffer */
	size_t len;
	uint64_t offset;      /* byte offset of data[0] in the current file */
	uint64_t line;	      /* 1-based line number of data[0] */
	uint64_t generation;  /* 1 for the first file, +1 per rotation/truncation */
	tb_tail_switch_t why; /* why generation changed (TB_TAIL_SAME if it did not) */
} tb_tail_chunk_t;

/* Path "-" reads stdin. Never fails because the file is missing; fails on
 * invalid arguments or OOM. */
tb_tail_t *tb_tail_open(const char *path, const tb_tail_opts_t *opts, tb_err_t *err);
void tb_tail_close(tb_tail_t *t);

/* Read what is available now, at most cap bytes, into buf. */
tb_tail_status_t tb_tail_read(tb_tail_t *t, void *buf, size_t cap, tb_tail_chunk_t *chunk, tb_err_t *err);

const char *tb_tail_path(const tb_tail_t *t);

/* The open descriptor (-1 if none), e.g. to poll stdin in an event loop. */
int tb_tail_fd(const tb_tail_t *t);

const char *tb_tail_switch_name(tb_tail_switch_t why);

#endif
