/*
 * filein.c — a tailed file or stdin through the JSON splitter into ingest
 * (rules in filein.h).
 *
 * How it works: the stream belongs to one file at a time, identified by the
 * tail that delivered the chunk and the chunk's generation. When either
 * changes (first open, rotation, truncation, end of a rotated backlog file),
 * the splitter is finished and drained for the old file (its cut-off last
 * object is dead-lettered: that file will not grow any more) and reset to
 * the new file's offset and line. After every handled item the position
 * moves to the item's end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filein.h"
#include "tb/jsonstream.h"
#include "tb/log.h"

#define READ_BUF (64 * 1024)

struct tb_adapter_filein {
	char *path;
	int is_stdin;
	tb_adapter_t *a;
	tb_tail_t *tail;    /* the input path */
	tb_tail_t *backlog; /* a rotated file finished first after a resume, or NULL */
	tb_jsonstream_t *js;
	const tb_tail_t *cur; /* the tail whose file the stream is on; NULL = none yet */
	uint64_t gen;	      /* that file's generation */
	int eof;
	int has_pos;
	tb_adapter_pos_t pos;
	tb_adapter_origin_t origin;
	char *buf;
	tb_metric_t *bytes, *rotated, *truncated;
};

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

/* The regular file with identity (dev, ino) in the directory of `path`, as
 * a malloc'd path, or NULL. */
static char *find_by_inode(const char *path, uint64_t dev, uint64_t ino)
{
	char *copy = strdup(path), *dir, *found = NULL;
	struct dirent *de;
	DIR *d;

	if (!copy)
		return NULL;
	dir = dirname(copy);
	d = opendir(dir);
	while (d && !found && (de = readdir(d)) != NULL) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if ((uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino &&
		    asprintf(&found, "%s/%s", dir, de->d_name) < 0)
			found = NULL;
	}
	if (d)
		closedir(d);
	free(copy);
	return found;
}

/* Decide how to start from a saved position (see filein.h). */
static int open_resumed(tb_adapter_filein_t *f, const tb_adapter_pos_t *r, tb_err_t *err)
{
	tb_tail_opts_t at = {
	    .start = TB_TAIL_FROM_OFFSET, .dev = r->dev, .ino = r->ino, .offset = r->offset, .line = r->line};
	tb_tail_opts_t from_start = {.start = TB_TAIL_FROM_START};
	struct stat st;
	char *old;

	if (stat(f->path, &st) == 0 && (uint64_t)st.st_dev == r->dev && (uint64_t)st.st_ino == r->ino) {
		tb_info("%s: resuming at byte %llu (line %llu)", f->path, (unsigned long long)r->offset,
			(unsigned long long)r->line);
		f->tail = tb_tail_open(f->path, &at, err);
		return f->tail ? 0 : -1;
	}
	old = find_by_inode(f->path, r->dev, r->ino);
	if (old) {
		tb_info("%s: rotated while stopped: finishing %s from byte %llu (line %llu) first", f->path,
			old, (unsigned long long)r->offset, (unsigned long long)r->line);
		f->backlog = tb_tail_open(old, &at, err);
		free(old);
		if (!f->backlog)
			return -1;
	} else {
		tb_warn(
		    "%s: the file of the saved position (dev %llu inode %llu) is gone; reading the current "
		    "file from its start",
		    f->path, (unsigned long long)r->dev, (unsigned long long)r->ino);
	}
	f->tail = tb_tail_open(f->path, &from_start, err);
	return f->tail ? 0 : -1;
}

tb_adapter_filein_t *tb_adapter_filein_open(const tb_adapter_filein_conf_t *c, tb_adapter_t *a, tb_err_t *err)
{
	tb_adapter_filein_t *f = calloc(1, sizeof(*f));
	tb_tail_opts_t opts = {.start = c->start == TB_TAIL_FROM_END ? TB_TAIL_FROM_END : TB_TAIL_FROM_START};
	const char *input;
	char labels[64];

	if (!f || !(f->path = strdup(c->path)) || !(f->buf = malloc(READ_BUF)) ||
	    !(f->js = tb_jsonstream_new(c->max_object))) {
		tb_err(err, "input %s: out of memory", c->path);
		goto fail;
	}
	f->a = a;
	f->is_stdin = strcmp(c->path, "-") == 0;
	input = f->is_stdin ? "stdin" : "file";
	f->origin.input = input;
	f->origin.name = f->is_stdin ? "stdin" : f->path;
	if (c->resume && !f->is_stdin ? open_resumed(f, c->resume, err) < 0
				      : !(f->tail = tb_tail_open(c->path, &opts, err)))
		goto fail;
	snprintf(labels, sizeof(labels), "input=\"%s\"", input);
	f->bytes =
	    tb_metrics_counter(c->metrics, "bytes_read_total", "bytes read from files and stdin", labels);
	f->rotated = tb_metrics_counter(c->metrics, "tail_switches_total",
					"tailed files rotated or truncated", "why=\"rotated\"");
	f->truncated = tb_metrics_counter(c->metrics, "tail_switches_total",
					  "tailed files rotated or truncated", "why=\"truncated\"");
	return f;
fail:
	tb_adapter_filein_free(f);
	return NULL;
}

void tb_adapter_filein_free(tb_adapter_filein_t *f)
{
	if (!f)
		return;
	tb_tail_close(f->tail);
	tb_tail_close(f->backlog);
	tb_jsonstream_free(f->js);
	free(f->buf);
	free(f->path);
	free(f);
}

/* Hand every complete item to ingest; move the position past each. */
static int drain(tb_adapter_filein_t *f, tb_err_t *err)
{
	tb_jsonstream_item_t it;

	while (tb_jsonstream_next(f->js, &it)) {
		if (tb_adapter_json_item(f->a, &f->origin, &it, err) < 0)
			return -1;
		if (it.kind == TB_JSONSTREAM_TOO_LARGE)
			continue;
		f->pos.offset = it.offset + it.len;
		f->pos.line = it.line + count_newlines(it.data, it.len);
	}
	return 0;
}

/* The current file ended for good (rotated away, backlog done, stdin EOF). */
static int finish_file(tb_adapter_filein_t *f, tb_err_t *err)
{
	tb_jsonstream_finish(f->js);
	return drain(f, err);
}

/* A chunk from another file than the stream is on: switch the stream. */
static int begin_file(tb_adapter_filein_t *f, const tb_tail_t *t, const tb_tail_chunk_t *c, tb_err_t *err)
{
	struct stat st;

	if (f->cur && finish_file(f, err) < 0)
		return -1;
	if (c->why == TB_TAIL_ROTATED || c->why == TB_TAIL_TRUNCATED) {
		tb_metric_inc(c->why == TB_TAIL_ROTATED ? f->rotated : f->truncated);
		tb_info("%s: %s, reading the new file from its start", tb_tail_path(t),
			tb_tail_switch_name(c->why));
	}
	tb_jsonstream_reset(f->js, c->offset, c->line);
	f->cur = t;
	f->gen = c->generation;
	f->origin.name = f->is_stdin ? "stdin" : tb_tail_path(t);
	f->has_pos = !f->is_stdin && fstat(tb_tail_fd(t), &st) == 0 && S_ISREG(st.st_mode);
	if (f->has_pos)
		f->pos = (tb_adapter_pos_t){.dev = (uint64_t)st.st_dev,
					    .ino = (uint64_t)st.st_ino,
					    .offset = c->offset,
					    .line = c->line};
	return 0;
}

/* The backlog file is read to its end: finish it, go on with the path. */
static int end_backlog(tb_adapter_filein_t *f, tb_err_t *err)
{
	if (f->cur == f->backlog && finish_file(f, err) < 0)
		return -1;
	tb_info("%s: finished the rotated file %s", f->path, tb_tail_path(f->backlog));
	if (f->cur == f->backlog)
		f->cur = NULL;
	tb_tail_close(f->backlog);
	f->backlog = NULL;
	return 0;
}

long tb_adapter_filein_poll(tb_adapter_filein_t *f, size_t budget, tb_err_t *err)
{
	size_t total = 0;

	while (total < budget && !f->eof) {
		tb_tail_t *t = f->backlog ? f->backlog : f->tail;
		tb_tail_chunk_t c;
		tb_tail_status_t st = tb_tail_read(t, f->buf, READ_BUF, &c, err);

		if (st == TB_TAIL_ERROR)
			return -1;
		if (st == TB_TAIL_AGAIN && f->backlog) {
			if (end_backlog(f, err) < 0)
				return -1;
			continue;
		}
		if (st == TB_TAIL_AGAIN)
			break;
		if (st == TB_TAIL_EOF) {
			if (f->cur && finish_file(f, err) < 0)
				return -1;
			f->eof = 1;
			break;
		}
		if ((t != f->cur || c.generation != f->gen) && begin_file(f, t, &c, err) < 0)
			return -1;
		tb_metric_add(f->bytes, c.len);
		total += c.len;
		if (tb_jsonstream_feed(f->js, c.data, c.len, err) < 0 || drain(f, err) < 0)
			return -1;
	}
	return (long)total;
}

int tb_adapter_filein_eof(const tb_adapter_filein_t *f)
{
	return f->eof;
}

int tb_adapter_filein_position(const tb_adapter_filein_t *f, tb_adapter_pos_t *out)
{
	if (!f->has_pos)
		return 0;
	*out = f->pos;
	return 1;
}

const char *tb_adapter_filein_path(const tb_adapter_filein_t *f)
{
	return f->path;
}
