/*
 * maps.c — /proc/PID/maps parsing (see maps.h).
 *
 * A line is "START-END PERMS PGOFF MAJ:MIN INODE   PATH", the path being the
 * rest of the line (it may hold spaces). Proc files report size 0, so they
 * are read in chunks until EOF rather than by stat size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"

#define DELETED " (deleted)"
#define MAX_PROC_FILE (64u << 20)

int tb_pa_read_file(const char *path, char **buf, size_t *len, tb_err_t *err)
{
	size_t cap = 16384, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;
	int fd;

	*buf = NULL;
	if (!b)
		return tb_err(err, "read %s: out of memory", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(b);
		return tb_err(err, "open %s: %s", path, strerror(errno));
	}
	while ((r = read(fd, b + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n - 1 > 0)
			continue;
		nb = cap < MAX_PROC_FILE ? realloc(b, cap * 2) : NULL;
		if (!nb) {
			r = -1;
			errno = EFBIG;
			break;
		}
		b = nb;
		cap *= 2;
	}
	close(fd);
	if (r < 0) {
		free(b);
		return tb_err(err, "read %s: %s", path, strerror(errno));
	}
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

static int push(tb_pa_maps_t *m, size_t *cap, const tb_pa_map_t *e)
{
	tb_pa_map_t *nv;

	if (m->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		nv = realloc(m->v, *cap * sizeof(*nv));
		if (!nv)
			return -1;
		m->v = nv;
	}
	m->v[m->n++] = *e;
	return 0;
}

/* Hex / decimal field at *s (at least one digit, no sign, no overflow);
 * advances *s past it. -1 when there is none. */
static int field(const char **s, int base, unsigned long long *v)
{
	const char *p = *s;
	unsigned long long x = 0;

	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (x > (~0ULL - d) / (unsigned)base)
			return -1;
		x = x * (unsigned)base + d;
	}
	if (p == *s)
		return -1;
	*v = x;
	*s = p;
	return 0;
}

static int sep(const char **s, char c)
{
	if (**s != c)
		return -1;
	(*s)++;
	return 0;
}

/* Parse one line (NUL-terminated, no newline):
 *   START-END PERMS OFFSET MAJ:MIN INODE [PATH]
 * 1 = executable mapping in *e (path malloc'd), 0 = not executable, -1 =
 * malformed. By hand, not sscanf: the agent re-reads a process's maps after
 * its mmaps (for load evidence), and on a machine running builds sscanf's
 * format interpretation was the agent's largest CPU cost (~15 % in perf). */
static int parse_line(char *line, tb_pa_map_t *e)
{
	const char *s = line, *perms;
	unsigned long long start, end, pgoff, maj, min, ino;
	const char *path;
	size_t plen;

	memset(e, 0, sizeof(*e));
	if (field(&s, 16, &start) < 0 || sep(&s, '-') < 0 || field(&s, 16, &end) < 0 || sep(&s, ' ') < 0 ||
	    end < start)
		return -1;
	perms = s;
	s += strcspn(s, " ");
	if (s - perms < 4 || s - perms > 7 || sep(&s, ' ') < 0 || field(&s, 16, &pgoff) < 0 ||
	    sep(&s, ' ') < 0 || field(&s, 16, &maj) < 0 || sep(&s, ':') < 0 || field(&s, 16, &min) < 0 ||
	    sep(&s, ' ') < 0 || field(&s, 10, &ino) < 0 || (*s && *s != ' ' && *s != '\t') ||
	    maj > 0xffffffffULL || min > 0xffffffffULL)
		return -1;
	if (perms[2] != 'x')
		return 0;
	path = s + strspn(s, " \t");
	plen = strlen(path);
	if (plen > strlen(DELETED) && strcmp(path + plen - strlen(DELETED), DELETED) == 0) {
		plen -= strlen(DELETED);
		e->deleted = 1;
	}
	if (plen > 0) {
		e->path = strndup(path, plen);
		if (!e->path)
			return -1;
	}
	e->start = start;
	e->end = end;
	e->pgoff = pgoff;
	e->dev_major = (unsigned)maj;
	e->dev_minor = (unsigned)min;
	e->ino = ino;
	return 1;
}

int tb_pa_maps_parse(const char *text, size_t len, tb_pa_maps_t *out, tb_err_t *err)
{
	size_t cap = 0, lineno = 0, pos = 0;
	char line[8192];

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		tb_pa_map_t e;
		int r;

		lineno++;
		if (l >= sizeof(line)) {
			tb_pa_maps_clear(out);
			return tb_err(err, "maps line %zu: longer than %zu bytes", lineno, sizeof(line) - 1);
		}
		memcpy(line, text + pos, l);
		line[l] = '\0';
		pos += l + (nl ? 1 : 0);
		if (l == 0)
			continue;
		r = parse_line(line, &e);
		if (r < 0 || (r == 1 && push(out, &cap, &e) < 0)) {
			free(e.path);
			tb_pa_maps_clear(out);
			return tb_err(err, "maps line %zu: cannot parse '%.120s'", lineno, line);
		}
	}
	return 0;
}

int tb_pa_maps_read(const char *proc_root, uint32_t pid, tb_pa_maps_t *out, tb_err_t *err)
{
	char path[256], *buf = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%u/maps", proc_root, pid);
	if (tb_pa_read_file(path, &buf, &len, err) < 0)
		return -1;
	r = tb_pa_maps_parse(buf, len, out, err);
	free(buf);
	if (r < 0)
		tb_err_wrap(err, "%s", path);
	return r;
}

const tb_pa_map_t *tb_pa_maps_find(const tb_pa_maps_t *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

int tb_pa_map_is_file(const tb_pa_map_t *m)
{
	return m->path && m->path[0] != '[' && m->ino != 0;
}

void tb_pa_map_file_key(const tb_pa_map_t *m, char *out, size_t cap)
{
	snprintf(out, cap, "%u:%u:%llu", m->dev_major, m->dev_minor, (unsigned long long)m->ino);
}

void tb_pa_maps_clear(tb_pa_maps_t *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
