/*
 * tb_symstore.c — build-id indexed symbol store with an LRU of loaded
 * symbol tables (see tb/symstore.h).
 *
 * The index maps a lowercase build-id to an entry listing the candidate
 * files and what each offers (.symtab, .dynsym, debug-only). Loading picks
 * the symbol source and the segment source among them, builds one
 * tb_elf_symtab_t and closes the files. Loaded entries sit on a doubly
 * linked LRU list; past the bound the least recently used table is freed
 * (its index entry stays, so it can be reloaded).
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb/elf.h"
#include "tb/log.h"
#include "tb/map.h"
#include "tb/symstore.h"

#define BID_MAX (2 * TB_ELF_BUILD_ID_MAX)

typedef struct cand {
	char *path;
	int has_symtab;
	int has_dynsym;
	int debug_only;
} cand_t;

typedef struct entry {
	char build_id[BID_MAX + 1];
	cand_t *cands;
	size_t n_cands;
	tb_elf_symtab_t *table;
	char *fail;		   /* remembered load failure */
	struct entry *prev, *next; /* LRU list, loaded entries only */
} entry_t;

struct tb_symstore {
	pthread_mutex_t lock;
	tb_map_t *by_build_id; /* build-id -> entry_t */
	tb_map_t *inodes;      /* "dev:ino" -> (void *)1, files already indexed */
	entry_t *lru_head, *lru_tail;
	size_t cache_cap;
	tb_symstore_stats_t stats;
};

/* Lowercase copy of a hex build-id into out; -1 when it is not hex. */
static int norm_build_id(const char *in, char out[BID_MAX + 1])
{
	size_t len = in ? strlen(in) : 0;

	if (len < 2 || len > BID_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

/* The build-id a debuginfod or .build-id path names, if any. */
static int build_id_from_path(const char *path, char out[BID_MAX + 1])
{
	char buf[BID_MAX + 2];
	const char *base = strrchr(path, '/'), *dir;
	size_t dlen;

	if (!base || base == path)
		return -1;
	for (dir = base - 1; dir > path && *dir != '/'; dir--)
		;
	if (*dir == '/')
		dir++;
	dlen = (size_t)(base - dir);
	/* DIR/<build-id>/debuginfo | executable */
	if (strcmp(base, "/debuginfo") == 0 || strcmp(base, "/executable") == 0) {
		if (dlen > BID_MAX)
			return -1;
		memcpy(buf, dir, dlen);
		buf[dlen] = '\0';
		return norm_build_id(buf, out);
	}
	/* DIR/.build-id/xx/yyyy.debug */
	if (dlen == 2 && dir - path >= 10 && strncmp(dir - 10, ".build-id/", 10) == 0) {
		size_t blen = strlen(base + 1);

		if (blen < 7 || strcmp(base + 1 + blen - 6, ".debug") != 0 || blen - 6 + 2 > BID_MAX)
			return -1;
		memcpy(buf, dir, 2);
		memcpy(buf + 2, base + 1, blen - 6);
		buf[blen - 6 + 2] = '\0';
		return norm_build_id(buf, out);
	}
	return -1;
}

static void cands_free(entry_t *en)
{
	for (size_t i = 0; i < en->n_cands; i++)
		free(en->cands[i].path);
	free(en->cands);
}

static void entry_free(void *p)
{
	entry_t *en = p;

	cands_free(en);
	tb_elf_symtab_free(en->table);
	free(en->fail);
	free(en);
}

static void lru_unlink(tb_symstore_t *s, entry_t *en);

static int entry_add_cand(tb_symstore_t *s, const char *bid, const tb_elf_t *e, const char *path)
{
	entry_t *en = tb_map_get(s->by_build_id, bid);
	cand_t *c;

	if (!en) {
		en = calloc(1, sizeof(*en));
		if (!en)
			return -1;
		snprintf(en->build_id, sizeof(en->build_id), "%s", bid);
		tb_map_put(s->by_build_id, bid, en);
	}
	c = realloc(en->cands, (en->n_cands + 1) * sizeof(*c));
	if (!c)
		return -1;
	en->cands = c;
	c = &en->cands[en->n_cands];
	*c = (cand_t){.path = strdup(path),
		      .has_symtab = tb_elf_has_symtab(e),
		      .has_dynsym = tb_elf_has_dynsym(e),
		      .debug_only = tb_elf_is_debug_only(e)};
	if (!c->path)
		return -1;
	en->n_cands++;
	/* A new candidate may be better than what is loaded: reload on next use. */
	free(en->fail);
	en->fail = NULL;
	if (en->table) {
		lru_unlink(s, en);
		tb_elf_symtab_free(en->table);
		en->table = NULL;
		s->stats.cached--;
	}
	return 0;
}

static int looks_like_elf(const char *path)
{
	unsigned char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && memcmp(magic,
				"\x7f"
				"ELF",
				4) == 0;
}

/* Index one file; the caller holds the lock (or owns s exclusively). */
static int add_file_locked(tb_symstore_t *s, const char *path, tb_err_t *err)
{
	char bid[BID_MAX + 1], ino[64];
	struct stat st;
	tb_elf_t *e;
	int rc;

	if (stat(path, &st) != 0)
		return tb_err(err, "index %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode)) {
		tb_err(err, "index %s: not a regular file", path);
		return 0;
	}
	snprintf(ino, sizeof(ino), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	if (tb_map_get(s->inodes, ino)) {
		tb_err(err, "index %s: already indexed (same inode)", path);
		return 0;
	}
	if (!looks_like_elf(path)) {
		tb_err(err, "index %s: not an ELF file", path);
		return 0;
	}
	e = tb_elf_open(path, err);
	if (!e)
		return 0;
	if (norm_build_id(tb_elf_build_id(e), bid) < 0 && build_id_from_path(path, bid) < 0) {
		tb_err(err, "index %s: no GNU build-id", path);
		tb_elf_close(e);
		return 0;
	}
	rc = entry_add_cand(s, bid, e, path);
	tb_elf_close(e);
	if (rc < 0)
		return tb_err(err, "index %s: out of memory", path);
	tb_map_put(s->inodes, ino, (void *)1);
	s->stats.files++;
	s->stats.build_ids = tb_map_size(s->by_build_id);
	return 1;
}

static int name_cmp(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

static int scan_dir(tb_symstore_t *s, const char *dir, tb_err_t *err)
{
	char *roots[2] = {(char *)dir, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, name_cmp);
	FTSENT *ent;
	tb_err_t ferr;

	if (!fts)
		return tb_err(err, "symbol store %s: %s", dir, strerror(errno));
	while ((ent = fts_read(fts)) != NULL) {
		int bad = ent->fts_info == FTS_DNR || ent->fts_info == FTS_ERR || ent->fts_info == FTS_NS;

		if (bad && ent->fts_level == 0) {
			tb_err(err, "symbol store %s: %s", ent->fts_path, strerror(ent->fts_errno));
			fts_close(fts);
			return -1;
		}
		if (bad) { /* an unreadable corner of the tree: skip it, keep the rest */
			s->stats.skipped++;
			tb_warn("symbol store: skipped %s: %s", ent->fts_path, strerror(ent->fts_errno));
			continue;
		}
		if (ent->fts_info != FTS_F && ent->fts_info != FTS_SL)
			continue;
		tb_err_clear(&ferr);
		if (add_file_locked(s, ent->fts_path, &ferr) != 1) {
			s->stats.skipped++;
			tb_debug("symbol store: skipped %s", ferr.msg);
		}
	}
	fts_close(fts);
	return 0;
}

tb_symstore_t *tb_symstore_open(const tb_symstore_config_t *cfg, tb_err_t *err)
{
	tb_symstore_t *s = calloc(1, sizeof(*s));
	struct stat st;

	if (!s) {
		tb_err(err, "symbol store: out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->cache_cap = cfg && cfg->cache_entries ? cfg->cache_entries : TB_SYMSTORE_DEFAULT_CACHE;
	s->by_build_id = tb_map_new(256);
	s->inodes = tb_map_new(256);
	if (!s->by_build_id || !s->inodes) {
		tb_err(err, "symbol store: out of memory");
		goto fail;
	}
	if (!cfg || !cfg->dir)
		return s;
	if (stat(cfg->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		tb_err(err, "symbol store %s: %s", cfg->dir, errno ? strerror(errno) : "not a directory");
		goto fail;
	}
	if (scan_dir(s, cfg->dir, err) < 0)
		goto fail;
	tb_info("symbol store %s: %zu files, %zu build-ids, %zu skipped", cfg->dir, s->stats.files,
		s->stats.build_ids, s->stats.skipped);
	return s;
fail:
	tb_symstore_close(s);
	return NULL;
}

void tb_symstore_close(tb_symstore_t *s)
{
	if (!s)
		return;
	if (s->by_build_id)
		tb_map_free(s->by_build_id, entry_free);
	if (s->inodes)
		tb_map_free(s->inodes, NULL);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int tb_symstore_add_file(tb_symstore_t *s, const char *path, tb_err_t *err)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = add_file_locked(s, path, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int tb_symstore_has(tb_symstore_t *s, const char *build_id)
{
	char bid[BID_MAX + 1];
	int found;

	if (norm_build_id(build_id, bid) < 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	found = tb_map_get(s->by_build_id, bid) != NULL;
	pthread_mutex_unlock(&s->lock);
	return found;
}

void tb_symstore_stats(tb_symstore_t *s, tb_symstore_stats_t *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->lock);
}

/* ---- cache ---------------------------------------------------------------- */

static void lru_unlink(tb_symstore_t *s, entry_t *en)
{
	if (en->prev)
		en->prev->next = en->next;
	else if (s->lru_head == en)
		s->lru_head = en->next;
	if (en->next)
		en->next->prev = en->prev;
	else if (s->lru_tail == en)
		s->lru_tail = en->prev;
	en->prev = en->next = NULL;
}

static void lru_push_front(tb_symstore_t *s, entry_t *en)
{
	en->next = s->lru_head;
	en->prev = NULL;
	if (s->lru_head)
		s->lru_head->prev = en;
	s->lru_head = en;
	if (!s->lru_tail)
		s->lru_tail = en;
}

static void evict_over_bound(tb_symstore_t *s)
{
	while (s->stats.cached > s->cache_cap && s->lru_tail) {
		entry_t *victim = s->lru_tail;

		lru_unlink(s, victim);
		tb_elf_symtab_free(victim->table);
		victim->table = NULL;
		s->stats.cached--;
		s->stats.evictions++;
	}
}

static int cand_score(const cand_t *c)
{
	if (c->has_symtab && !c->debug_only)
		return 3;
	if (c->has_symtab)
		return 2;
	if (c->has_dynsym)
		return 1;
	return 0;
}

/* Choose the symbol source and a real image among the candidates. */
static void pick(const entry_t *en, const cand_t **syms, const cand_t **image)
{
	*syms = NULL;
	*image = NULL;
	for (size_t i = 0; i < en->n_cands; i++) {
		const cand_t *c = &en->cands[i];

		if (!*syms || cand_score(c) > cand_score(*syms) ||
		    (cand_score(c) == cand_score(*syms) && strcmp(c->path, (*syms)->path) < 0))
			*syms = c;
		if (!c->debug_only && (!*image || strcmp(c->path, (*image)->path) < 0))
			*image = c;
	}
	if (*syms && !(*syms)->debug_only)
		*image = *syms;
}

static tb_elf_symtab_t *load_table(const entry_t *en, tb_err_t *err)
{
	const cand_t *cs, *ci;
	tb_elf_t *fs = NULL, *fi = NULL;
	tb_elf_symtab_t *t = NULL;

	pick(en, &cs, &ci);
	if (!cs) {
		tb_err(err, "build-id %s: no files", en->build_id);
		return NULL;
	}
	fs = tb_elf_open(cs->path, err);
	if (!fs)
		goto done;
	if (ci && ci != cs) {
		fi = tb_elf_open(ci->path, err);
		if (!fi)
			goto done;
	}
	t = tb_elf_symtab_load(fi ? fi : (cs->debug_only ? NULL : fs), fs, err);
done:
	if (!t)
		tb_err_wrap(err, "build-id %s", en->build_id);
	tb_elf_close(fi);
	tb_elf_close(fs);
	return t;
}

/* The loaded table of an entry, loading it if needed; NULL + err on failure. */
static const tb_elf_symtab_t *table_of(tb_symstore_t *s, entry_t *en, tb_err_t *err)
{
	if (en->table) {
		lru_unlink(s, en);
		lru_push_front(s, en);
		s->stats.hits++;
		return en->table;
	}
	if (en->fail) {
		tb_err(err, "%s (remembered)", en->fail);
		return NULL;
	}
	en->table = load_table(en, err);
	if (!en->table) {
		s->stats.load_errors++;
		en->fail = strdup(err ? err->msg : "load failed");
		return NULL;
	}
	s->stats.loads++;
	s->stats.cached++;
	lru_push_front(s, en);
	evict_over_bound(s);
	return en->table;
}

int tb_symstore_lookup(tb_symstore_t *s, const char *build_id, uint64_t file_offset, char **symbol,
		       uint64_t *sym_offset, tb_err_t *err)
{
	char bid[BID_MAX + 1];
	const tb_elf_symtab_t *t;
	tb_elf_hit_t hit;
	entry_t *en;
	int rc = 0;

	*symbol = NULL;
	if (norm_build_id(build_id, bid) < 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	en = tb_map_get(s->by_build_id, bid);
	if (!en) {
		s->stats.unknown++;
		goto out;
	}
	t = table_of(s, en, err);
	if (!t) {
		rc = -1;
		goto out;
	}
	if (tb_elf_symtab_lookup(t, file_offset, &hit) != 1)
		goto out;
	*symbol = strdup(hit.name);
	if (!*symbol) {
		rc = tb_err(err, "symbol store: out of memory");
		goto out;
	}
	*sym_offset = hit.offset;
	rc = 1;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
