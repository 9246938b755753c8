/*
 * elfcache.c — build-ids per mapped file, symbol tables per build-id (see
 * elfcache.h).
 *
 * Two maps: modules by file key, symbol tables by "symbol key" (the
 * build-id, or the file key for files without one). A table entry also
 * caches canonical names by raw name, since demangling costs microseconds
 * and the same hot functions come back every flush. LRU is a use counter:
 * eviction scans the (small) table map for the smallest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfcache.h"
#include "tb/demangle.h"
#include "tb/elf.h"
#include "tb/log.h"
#include "tb/map.h"

#define VDSO_KEY "[vdso]"

typedef struct symentry {
	tb_elf_symtab_t *tab; /* NULL when loading failed */
	uint64_t last_use;
	tb_map_t *canon; /* raw name -> canonical name (char *) */
} symentry_t;

struct tb_pa_elfcache {
	char proc_root[128];
	char vdso_path[64]; /* "/proc/self/fd/N" once written; "" before; "-" when it cannot be */
	int vdso_fd;
	size_t max_symtabs;
	tb_map_t *modules; /* key -> tb_pa_module_t * */
	tb_map_t *symtabs; /* symbol key -> symentry_t * */
	uint64_t tick;
	tb_pa_elfcache_stats_t stats;
};

static void module_free(void *p)
{
	tb_pa_module_t *m = p;

	free(m->key);
	free(m->path);
	free(m->build_id);
	free(m);
}

static void symentry_free(void *p)
{
	symentry_t *e = p;

	if (!e)
		return;
	tb_elf_symtab_free(e->tab);
	tb_map_free(e->canon, free);
	free(e);
}

tb_pa_elfcache_t *tb_pa_elfcache_new(const tb_pa_elfcache_conf_t *conf, tb_err_t *err)
{
	tb_pa_elfcache_t *c = calloc(1, sizeof(*c));

	if (!c) {
		tb_err(err, "elf cache: out of memory");
		return NULL;
	}
	snprintf(c->proc_root, sizeof(c->proc_root), "%s", conf->proc_root ? conf->proc_root : "/proc");
	c->vdso_fd = -1;
	c->max_symtabs = conf->max_symtabs ? conf->max_symtabs : 256;
	c->modules = tb_map_new(256);
	c->symtabs = tb_map_new(64);
	if (!c->modules || !c->symtabs) {
		tb_pa_elfcache_free(c);
		tb_err(err, "elf cache: out of memory");
		return NULL;
	}
	return c;
}

void tb_pa_elfcache_free(tb_pa_elfcache_t *c)
{
	if (!c)
		return;
	tb_map_free(c->modules, module_free);
	tb_map_free(c->symtabs, symentry_free);
	if (c->vdso_fd >= 0)
		close(c->vdso_fd);
	free(c);
}

/* Our own vDSO image, copied once into a memfd that libelf reads through
 * /proc/self/fd (nothing on disk to clean up, even after a SIGKILL). */
static const char *vdso_file(tb_pa_elfcache_t *c)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	char *maps = NULL, self[160];
	tb_pa_maps_t m = {0};
	const tb_pa_map_t *vm;
	tb_err_t err;
	size_t len;
	int fd = -1, ok = 0;

	if (c->vdso_path[0])
		return c->vdso_path[0] == '-' ? NULL : c->vdso_path;
	snprintf(self, sizeof(self), "%s/self/maps", c->proc_root);
	if (base && tb_pa_read_file(self, &maps, &len, &err) == 0 &&
	    tb_pa_maps_parse(maps, len, &m, &err) == 0 && (vm = tb_pa_maps_find(&m, base)) != NULL &&
	    (fd = memfd_create("tb-vdso", MFD_CLOEXEC)) >= 0)
		ok =
		    write(fd, (const void *)vm->start, vm->end - vm->start) == (ssize_t)(vm->end - vm->start);
	free(maps);
	tb_pa_maps_clear(&m);
	if (!ok) {
		tb_warn("vDSO image could not be copied: vDSO frames stay without build-id");
		if (fd >= 0)
			close(fd);
		snprintf(c->vdso_path, sizeof(c->vdso_path), "-");
		return NULL;
	}
	c->vdso_fd = fd;
	snprintf(c->vdso_path, sizeof(c->vdso_path), "/proc/self/fd/%d", fd);
	return c->vdso_path;
}

const char *tb_pa_elfcache_vdso_path(tb_pa_elfcache_t *c)
{
	return vdso_file(c);
}

static int same_inode(const char *path, uint64_t ino)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_ino == ino;
}

int tb_pa_elfcache_open_path(tb_pa_elfcache_t *c, uint32_t pid, const tb_pa_map_t *map, char *out, size_t cap)
{
	const char *v;

	if (map->path && strcmp(map->path, VDSO_KEY) == 0) {
		v = vdso_file(c);
		if (!v)
			return -1;
		snprintf(out, cap, "%s", v);
		return 0;
	}
	if (!tb_pa_map_is_file(map))
		return -1;
	snprintf(out, cap, "%s/%u/map_files/%llx-%llx", c->proc_root, pid, (unsigned long long)map->start,
		 (unsigned long long)map->end);
	if (access(out, R_OK) == 0)
		return 0;
	snprintf(out, cap, "%s/%u/root%s", c->proc_root, pid, map->path);
	if (!map->deleted && same_inode(out, map->ino))
		return 0;
	snprintf(out, cap, "%s", map->path);
	if (!map->deleted && same_inode(out, map->ino))
		return 0;
	return -1;
}

static void read_build_id(tb_pa_elfcache_t *c, tb_pa_module_t *m, uint32_t pid, const tb_pa_map_t *map)
{
	char path[1024];
	tb_elf_t *e;
	tb_err_t err;

	if (tb_pa_elfcache_open_path(c, pid, map, path, sizeof(path)) < 0) {
		c->stats.open_failures++;
		return;
	}
	e = tb_elf_open(path, &err);
	if (!e) {
		c->stats.open_failures++;
		tb_debug("build-id of %s: %s", m->path, err.msg);
		return;
	}
	m->readable = 1;
	if (tb_elf_build_id(e)[0])
		m->build_id = strdup(tb_elf_build_id(e));
	tb_elf_close(e);
}

tb_pa_module_t *tb_pa_elfcache_find(tb_pa_elfcache_t *c, const char *key)
{
	return tb_map_get(c->modules, key);
}

tb_pa_module_t *tb_pa_elfcache_module(tb_pa_elfcache_t *c, uint32_t pid, const tb_pa_map_t *map)
{
	char key[96];
	tb_pa_module_t *m;
	int vdso = map->path && strcmp(map->path, VDSO_KEY) == 0;

	if (!vdso && !tb_pa_map_is_file(map))
		return NULL;
	if (vdso)
		snprintf(key, sizeof(key), "%s", VDSO_KEY);
	else
		tb_pa_map_file_key(map, key, sizeof(key));
	m = tb_map_get(c->modules, key);
	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->key = strdup(key);
	m->path = map->path ? strdup(map->path) : NULL;
	if (!m->key || !m->path || tb_map_put(c->modules, key, m) != NULL) {
		module_free(m);
		return NULL;
	}
	c->stats.modules++;
	read_build_id(c, m, pid, map);
	return m;
}

static void evict_one(tb_pa_elfcache_t *c)
{
	size_t cur = 0;
	const char *k, *oldest = NULL;
	void *v;
	uint64_t best = UINT64_MAX;

	while (tb_map_next(c->symtabs, &cur, &k, &v)) {
		const symentry_t *e = v;

		if (e->tab && e->last_use < best) {
			best = e->last_use;
			oldest = k;
		}
	}
	if (!oldest)
		return;
	symentry_free(tb_map_del(c->symtabs, oldest));
	c->stats.symtab_evictions++;
}

static size_t loaded_tables(tb_pa_elfcache_t *c)
{
	size_t cur = 0, n = 0;
	const char *k;
	void *v;

	while (tb_map_next(c->symtabs, &cur, &k, &v))
		n += ((symentry_t *)v)->tab != NULL;
	return n;
}

static symentry_t *load_symtab(tb_pa_elfcache_t *c, const char *skey, tb_pa_module_t *m, uint32_t pid,
			       const tb_pa_map_t *map)
{
	char path[1024];
	symentry_t *e = calloc(1, sizeof(*e));
	tb_elf_t *img = NULL;
	tb_err_t err;

	if (!e)
		return NULL;
	e->canon = tb_map_new(64);
	if (map && tb_pa_elfcache_open_path(c, pid, map, path, sizeof(path)) == 0)
		img = tb_elf_open(path, &err);
	if (img) {
		e->tab = tb_elf_symtab_load(img, NULL, &err);
		if (!e->tab)
			tb_debug("symbols of %s: %s", m->path, err.msg);
		tb_elf_close(img);
	}
	if (e->tab) {
		if (loaded_tables(c) >= c->max_symtabs)
			evict_one(c);
		c->stats.symtabs_loaded++;
	}
	if (!e->canon || tb_map_put(c->symtabs, skey, e) != NULL) {
		symentry_free(e);
		return NULL;
	}
	return e;
}

static const char *canonical(symentry_t *e, const char *raw)
{
	char *s = tb_map_get(e->canon, raw);

	if (s)
		return s;
	s = tb_demangle_symbol(raw);
	if (!s)
		return NULL;
	tb_map_put(e->canon, raw, s);
	return s;
}

const char *tb_pa_elfcache_symbol(tb_pa_elfcache_t *c, tb_pa_module_t *m, uint32_t pid,
				  const tb_pa_map_t *map, uint64_t file_offset)
{
	const char *skey = m->build_id ? m->build_id : m->key;
	symentry_t *e = tb_map_get(c->symtabs, skey);
	tb_elf_hit_t hit;

	if (!e) {
		if (!m->readable)
			return NULL;
		e = load_symtab(c, skey, m, pid, map);
		if (!e)
			return NULL;
	}
	e->last_use = ++c->tick;
	if (!e->tab || !tb_elf_symtab_lookup(e->tab, file_offset, &hit))
		return NULL;
	return canonical(e, hit.name);
}

void tb_pa_elfcache_stats(const tb_pa_elfcache_t *c, tb_pa_elfcache_stats_t *out)
{
	*out = c->stats;
}
