/*
 * position.c — the --position-file (format and rules in position.h).
 *
 * How it works: the entries live in a small array (one per file input);
 * set() marks the set dirty, save() rewrites the whole file through a
 * temp file + fsync + rename, so a crash leaves either the old or the new
 * file, never a torn one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "position.h"

typedef struct entry {
	char *path;
	tb_adapter_pos_t pos;
} entry_t;

struct tb_adapter_posfile {
	char *file;
	entry_t *e;
	size_t n, cap;
	int dirty;
};

static entry_t *find(const tb_adapter_posfile_t *pf, const char *path)
{
	for (size_t i = 0; i < pf->n; i++)
		if (strcmp(pf->e[i].path, path) == 0)
			return &pf->e[i];
	return NULL;
}

static int add(tb_adapter_posfile_t *pf, const char *path, const tb_adapter_pos_t *pos, tb_err_t *err)
{
	entry_t *e = find(pf, path);

	if (strchr(path, '\n'))
		return tb_err(err, "position of '%s': a path with a newline cannot be recorded", path);
	if (e) {
		if (memcmp(&e->pos, pos, sizeof(*pos)) != 0)
			pf->dirty = 1;
		e->pos = *pos;
		return 0;
	}
	if (pf->n == pf->cap) {
		size_t cap = pf->cap ? pf->cap * 2 : 4;
		entry_t *ne = realloc(pf->e, cap * sizeof(*ne));

		if (!ne)
			return tb_err(err, "positions: out of memory");
		pf->e = ne;
		pf->cap = cap;
	}
	if (!(pf->e[pf->n].path = strdup(path)))
		return tb_err(err, "positions: out of memory");
	pf->e[pf->n++].pos = *pos;
	pf->dirty = 1;
	return 0;
}

static int parse_line(tb_adapter_posfile_t *pf, char *line, size_t lineno, tb_err_t *err)
{
	tb_adapter_pos_t p;
	int used = 0;

	line[strcspn(line, "\n")] = '\0';
	if (line[strspn(line, " \t")] == '\0' || line[strspn(line, " \t")] == '#')
		return 0;
	if (sscanf(line, "v1 %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %n", &p.dev, &p.ino, &p.offset,
		   &p.line, &used) != 4 ||
	    used == 0 || line[used] == '\0' || p.line == 0)
		return tb_err(err, "%s:%zu: expected 'v1 DEV INO OFFSET LINE PATH', got '%.120s'", pf->file,
			      lineno, line);
	return add(pf, line + used, &p, err);
}

tb_adapter_posfile_t *tb_adapter_posfile_open(const char *path, tb_err_t *err)
{
	tb_adapter_posfile_t *pf = calloc(1, sizeof(*pf));
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;

	if (!pf || !(pf->file = strdup(path))) {
		tb_err(err, "positions: out of memory");
		goto fail;
	}
	f = fopen(path, "r");
	if (!f && errno == ENOENT)
		return pf;
	if (!f) {
		tb_err(err, "position file %s: %s", path, strerror(errno));
		goto fail;
	}
	while (getline(&line, &cap, f) >= 0)
		if (parse_line(pf, line, ++lineno, err) < 0)
			goto fail;
	if (ferror(f)) {
		tb_err(err, "position file %s: read error", path);
		goto fail;
	}
	free(line);
	fclose(f);
	pf->dirty = 0;
	return pf;
fail:
	free(line);
	if (f)
		fclose(f);
	tb_adapter_posfile_free(pf);
	return NULL;
}

void tb_adapter_posfile_free(tb_adapter_posfile_t *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->n; i++)
		free(pf->e[i].path);
	free(pf->e);
	free(pf->file);
	free(pf);
}

int tb_adapter_posfile_get(const tb_adapter_posfile_t *pf, const char *input_path, tb_adapter_pos_t *out)
{
	const entry_t *e = find(pf, input_path);

	if (!e)
		return 0;
	*out = e->pos;
	return 1;
}

int tb_adapter_posfile_set(tb_adapter_posfile_t *pf, const char *input_path, const tb_adapter_pos_t *pos,
			   tb_err_t *err)
{
	return add(pf, input_path, pos, err);
}

static int write_all(FILE *f, const tb_adapter_posfile_t *pf)
{
	if (fprintf(f, "# tb-adapter positions: v1 DEV INO OFFSET LINE PATH\n") < 0)
		return -1;
	for (size_t i = 0; i < pf->n; i++) {
		const tb_adapter_pos_t *p = &pf->e[i].pos;

		if (fprintf(f, "v1 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", p->dev, p->ino,
			    p->offset, p->line, pf->e[i].path) < 0)
			return -1;
	}
	return fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
}

/* Make the rename itself durable. */
static void sync_dir(const char *file)
{
	char *copy = strdup(file);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int tb_adapter_posfile_save(tb_adapter_posfile_t *pf, tb_err_t *err)
{
	char *tmp = NULL;
	FILE *f;
	int rc = -1;

	if (!pf->dirty)
		return 0;
	if (asprintf(&tmp, "%s.tmp", pf->file) < 0)
		return tb_err(err, "positions: out of memory");
	f = fopen(tmp, "w");
	if (!f) {
		tb_err(err, "position file %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(f, pf) < 0) {
		tb_err(err, "position file %s: write: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, pf->file) < 0) {
		tb_err(err, "position file %s: %s", pf->file, strerror(errno));
		unlink(tmp);
		goto out;
	}
	sync_dir(pf->file);
	pf->dirty = 0;
	rc = 0;
out:
	free(tmp);
	return rc;
}
