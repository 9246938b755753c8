/*
 * elfcache.h — the mapped files the agent has seen: build-id per file and
 * symbol tables per build-id, for normalizing and symbolizing user frames.
 *
 * A file is known by its identity in /proc/PID/maps (device + inode), so the
 * same library mapped by a thousand processes is read once. It is opened
 * through /proc/PID/map_files/START-END (the very file that is mapped, even
 * when deleted or inside another mount namespace), else
 * /proc/PID/root/PATH, else PATH. The vDSO has no file: the agent's own
 * vDSO image (the same for every 64-bit process of this kernel) is copied
 * once into a memfd and read from there.
 *
 * Symbol tables (.symtab + .dynsym through tb/elf.h) are loaded on first
 * use, shared by every file with the same build-id, and bounded: beyond
 * max_symtabs the least recently used one is dropped (it is reloaded when
 * needed again). Canonical names (tb/demangle.h) are cached per table.
 */
#ifndef TB_PA_ELFCACHE_H
#define TB_PA_ELFCACHE_H

#include <stdint.h>

#include "maps.h"
#include "tb/err.h"

typedef struct tb_pa_elfcache tb_pa_elfcache_t;

typedef struct tb_pa_module {
	char *key;	/* "MAJ:MIN:INO" or "[vdso]" */
	char *path;	/* path as first seen in maps ("[vdso]" for the vDSO) */
	char *build_id; /* lowercase hex, NULL when the file has none or could not be read */
	int readable;	/* the file could be opened */
} tb_pa_module_t;

typedef struct tb_pa_elfcache_conf {
	const char *proc_root; /* "/proc" */
	size_t max_symtabs;    /* 0 = 256 */
} tb_pa_elfcache_conf_t;

typedef struct tb_pa_elfcache_stats {
	uint64_t modules;
	uint64_t symtabs_loaded;
	uint64_t symtab_evictions;
	uint64_t open_failures;
} tb_pa_elfcache_stats_t;

tb_pa_elfcache_t *tb_pa_elfcache_new(const tb_pa_elfcache_conf_t *conf, tb_err_t *err);
void tb_pa_elfcache_free(tb_pa_elfcache_t *c);

/* The module of a mapping of process pid (read on first sight), or NULL for
 * mappings without a file (anonymous, [stack], ...). Never NULL for a file:
 * an unreadable file is a module without build-id. */
tb_pa_module_t *tb_pa_elfcache_module(tb_pa_elfcache_t *c, uint32_t pid, const tb_pa_map_t *map);

/* A module by its key, if already known. */
tb_pa_module_t *tb_pa_elfcache_find(tb_pa_elfcache_t *c, const char *key);

/* Canonical (demangled, tb/demangle.h) name of the function holding
 * file_offset in module m, or NULL when the file has no symbol there (or
 * cannot be read). pid/map say where to open the file if its table must be
 * loaded; map may be NULL when the file was already loaded or is opened by
 * path. The string is owned by the cache and valid until the next call. */
const char *tb_pa_elfcache_symbol(tb_pa_elfcache_t *c, tb_pa_module_t *m, uint32_t pid,
				  const tb_pa_map_t *map, uint64_t file_offset);

/* Open a module's file for reading by libelf users (the uprobe resolver):
 * writes the path that works into out. 0, or -1 when none does. */
int tb_pa_elfcache_open_path(tb_pa_elfcache_t *c, uint32_t pid, const tb_pa_map_t *map, char *out,
			     size_t cap);

/* The readable copy of the vDSO image ("/proc/self/fd/N"), NULL if none. */
const char *tb_pa_elfcache_vdso_path(tb_pa_elfcache_t *c);

void tb_pa_elfcache_stats(const tb_pa_elfcache_t *c, tb_pa_elfcache_stats_t *out);

#endif
