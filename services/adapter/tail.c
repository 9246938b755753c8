/*
 * tail.c — follow a file across rotation and truncation, or read stdin (see
 * tail.h for the rules).
 *
 * How it works: one descriptor is open at a time. Reads go on until read()
 * returns 0; only then is the path stat'ed, so a rotated file is always
 * drained before the switch (drain-then-switch, as `tail -F` does). The
 * identity of the open file is its (st_dev, st_ino) from fstat at open time.
 * Line numbers are kept by counting newlines in each chunk (memchr), and in
 * the skipped prefix when starting at the end of an existing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail.h"

struct tb_tail {
	char *path;
	int is_stdin;
	int fd;
	int poll_first;	   /* not a regular file: poll before read */
	int skip_existing; /* FROM_END, until the first open attempt */
	int resume;	   /* FROM_OFFSET, until the first open attempt */
	tb_tail_opts_t resume_at;
	dev_t dev;
	ino_t ino;
	uint64_t offset;
	uint64_t line;
	uint64_t generation;
	tb_tail_switch_t pending; /* reported with the next chunk */
};

const char *tb_tail_switch_name(tb_tail_switch_t why)
{
	switch (why) {
	case TB_TAIL_SAME:
		return "same";
	case TB_TAIL_OPENED:
		return "opened";
	case TB_TAIL_ROTATED:
		return "rotated";
	case TB_TAIL_TRUNCATED:
		return "truncated";
	}
	return "unknown";
}

static uint64_t count_newlines(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *end = p + n;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

tb_tail_t *tb_tail_open(const char *path, const tb_tail_opts_t *opts, tb_err_t *err)
{
	tb_tail_t *t;

	if (!path || !*path) {
		tb_err(err, "tail: empty path");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		tb_err(err, "tail %s: out of memory", path);
		return NULL;
	}
	t->fd = -1;
	t->is_stdin = strcmp(path, "-") == 0;
	t->skip_existing = opts && opts->start == TB_TAIL_FROM_END;
	t->resume = opts && opts->start == TB_TAIL_FROM_OFFSET;
	if (t->resume)
		t->resume_at = *opts;
	t->line = 1;
	return t;
}

void tb_tail_close(tb_tail_t *t)
{
	if (!t)
		return;
	if (t->fd >= 0 && !t->is_stdin)
		close(t->fd);
	free(t->path);
	free(t);
}

const char *tb_tail_path(const tb_tail_t *t)
{
	return t->path;
}

int tb_tail_fd(const tb_tail_t *t)
{
	return t->fd;
}

/* Count the lines before `size` so that positions stay "file:line" exact
 * when we start at the end of an existing file. */
static int skip_to_end(tb_tail_t *t, off_t size, tb_err_t *err)
{
	char buf[65536];
	uint64_t done = 0;

	while (done < (uint64_t)size) {
		size_t want = sizeof(buf);
		ssize_t n;

		if ((uint64_t)size - done < want)
			want = (size_t)((uint64_t)size - done);
		n = pread(t->fd, buf, want, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tb_err(err, "tail %s: read: %s", t->path, strerror(errno));
		if (n == 0)
			break; /* shrank meanwhile: the truncation check will see it */
		t->line += count_newlines(buf, (size_t)n);
		done += (uint64_t)n;
	}
	t->offset = done;
	if (lseek(t->fd, (off_t)done, SEEK_SET) < 0)
		return tb_err(err, "tail %s: seek: %s", t->path, strerror(errno));
	return 0;
}

/* FROM_OFFSET: continue at the saved position if this is the same file and
 * it was not truncated below it. Returns 0 (also when not resuming), -1. */
static int resume_at(tb_tail_t *t, const struct stat *st, tb_err_t *err)
{
	const tb_tail_opts_t *r = &t->resume_at;

	if ((uint64_t)st->st_dev != r->dev || (uint64_t)st->st_ino != r->ino ||
	    (uint64_t)st->st_size < r->offset)
		return 0;
	if (lseek(t->fd, (off_t)r->offset, SEEK_SET) < 0)
		return tb_err(err, "tail %s: seek: %s", t->path, strerror(errno));
	t->offset = r->offset;
	t->line = r->line ? r->line : 1;
	return 0;
}

static void begin_generation(tb_tail_t *t, tb_tail_switch_t why)
{
	t->generation++;
	t->pending = why;
	t->offset = 0;
	t->line = 1;
}

/* Returns 1 opened, 0 not there (yet), -1 error. */
static int open_file(tb_tail_t *t, tb_tail_switch_t why, tb_err_t *err)
{
	struct stat st;
	int fd, skip, resume;

	if (t->is_stdin) {
		t->fd = STDIN_FILENO;
		if (fstat(t->fd, &st) < 0)
			return tb_err(err, "tail stdin: fstat: %s", strerror(errno));
		t->poll_first = !S_ISREG(st.st_mode);
		begin_generation(t, why);
		return 1;
	}
	/* O_NONBLOCK so that opening a FIFO without writer does not block. */
	fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	skip = t->skip_existing;
	resume = t->resume;
	t->skip_existing = 0; /* a file that appears later is all new data */
	t->resume = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return tb_err(err, "tail %s: open: %s", t->path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		close(fd);
		return tb_err(err, "tail %s: fstat: %s", t->path, strerror(errno));
	}
	t->fd = fd;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->poll_first = !S_ISREG(st.st_mode);
	begin_generation(t, why);
	if ((skip && S_ISREG(st.st_mode) && skip_to_end(t, st.st_size, err) < 0) ||
	    (resume && S_ISREG(st.st_mode) && resume_at(t, &st, err) < 0)) {
		close(fd);
		t->fd = -1;
		return -1;
	}
	return 1;
}

/* Returns >0 bytes, 0 nothing available, -1 error; *eof set at end of file. */
static ssize_t read_some(tb_tail_t *t, void *buf, size_t cap, int *eof, tb_err_t *err)
{
	ssize_t n;

	*eof = 0;
	if (t->poll_first) {
		struct pollfd p = {.fd = t->fd, .events = POLLIN};
		int r;

		do
			r = poll(&p, 1, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return tb_err(err, "tail %s: poll: %s", t->path, strerror(errno));
		if (r == 0)
			return 0;
	}
	do
		n = read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return tb_err(err, "tail %s: read: %s", t->path, strerror(errno));
	*eof = n == 0;
	return n;
}

static tb_tail_status_t deliver(tb_tail_t *t, void *buf, size_t n, tb_tail_chunk_t *chunk)
{
	chunk->data = buf;
	chunk->len = n;
	chunk->offset = t->offset;
	chunk->line = t->line;
	chunk->generation = t->generation;
	chunk->why = t->pending;
	t->pending = TB_TAIL_SAME;
	t->offset += n;
	t->line += count_newlines(buf, n);
	return TB_TAIL_DATA;
}

/* What is at the path now, compared with the open file. */
enum path_state { PATH_SAME, PATH_GONE, PATH_REPLACED, PATH_TRUNCATED };

static int path_state(tb_tail_t *t, enum path_state *out, tb_err_t *err)
{
	struct stat path_st, fd_st;

	*out = PATH_SAME;
	if (stat(t->path, &path_st) < 0) {
		if (errno != ENOENT)
			return tb_err(err, "tail %s: stat: %s", t->path, strerror(errno));
		*out = PATH_GONE; /* moved away, not recreated yet */
		return 0;
	}
	if (path_st.st_dev != t->dev || path_st.st_ino != t->ino) {
		*out = PATH_REPLACED;
		return 0;
	}
	if (fstat(t->fd, &fd_st) < 0)
		return tb_err(err, "tail %s: fstat: %s", t->path, strerror(errno));
	if ((uint64_t)fd_st.st_size < t->offset)
		*out = PATH_TRUNCATED;
	return 0;
}

/* At EOF of the open file: switch to the new file or restart after a
 * truncation. Returns 1 when there is a (re)opened file to read, 0 when
 * nothing changed, -1 on error. */
static int follow_switch(tb_tail_t *t, void *buf, size_t cap, tb_tail_chunk_t *chunk, tb_tail_status_t *st,
			 tb_err_t *err)
{
	enum path_state ps;
	ssize_t n;
	int eof;

	if (path_state(t, &ps, err) < 0)
		return -1;
	switch (ps) {
	case PATH_SAME:
	case PATH_GONE:
		return 0;
	case PATH_TRUNCATED:
		if (lseek(t->fd, 0, SEEK_SET) < 0)
			return tb_err(err, "tail %s: seek: %s", t->path, strerror(errno));
		begin_generation(t, TB_TAIL_TRUNCATED);
		return 1;
	case PATH_REPLACED:
		break;
	}
	/* The writer may have appended to the old file after our last read:
	 * drain it before letting go of it. */
	n = read_some(t, buf, cap, &eof, err);
	if (n < 0)
		return -1;
	if (n > 0) {
		*st = deliver(t, buf, (size_t)n, chunk);
		return 0;
	}
	close(t->fd);
	t->fd = -1;
	return open_file(t, TB_TAIL_ROTATED, err);
}

tb_tail_status_t tb_tail_read(tb_tail_t *t, void *buf, size_t cap, tb_tail_chunk_t *chunk, tb_err_t *err)
{
	tb_tail_status_t st = TB_TAIL_AGAIN;
	int eof, r;
	ssize_t n;

	if (cap == 0) {
		tb_err(err, "tail %s: zero-sized buffer", t->path);
		return TB_TAIL_ERROR;
	}
	if (t->fd < 0) {
		r = open_file(t, TB_TAIL_OPENED, err);
		if (r <= 0)
			return r < 0 ? TB_TAIL_ERROR : TB_TAIL_AGAIN;
	}
	n = read_some(t, buf, cap, &eof, err);
	if (n < 0)
		return TB_TAIL_ERROR;
	if (n > 0)
		return deliver(t, buf, (size_t)n, chunk);
	if (!eof)
		return TB_TAIL_AGAIN;
	if (t->is_stdin)
		return TB_TAIL_EOF;
	if (t->poll_first)
		return TB_TAIL_AGAIN; /* FIFO without writer: a writer may come back */
	r = follow_switch(t, buf, cap, chunk, &st, err);
	if (r < 0)
		return TB_TAIL_ERROR;
	if (r == 0)
		return st;
	n = read_some(t, buf, cap, &eof, err);
	if (n < 0)
		return TB_TAIL_ERROR;
	return n > 0 ? deliver(t, buf, (size_t)n, chunk) : TB_TAIL_AGAIN;
}
