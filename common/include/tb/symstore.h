/*
 * tb/symstore.h — a symbol store: ELF files indexed by GNU build-id, and a
 * bounded cache of their loaded symbol tables, answering
 * (build-id, file offset) -> (function name, offset into it).
 *
 * At open the configured directory is scanned recursively (symlinks to files
 * are followed, symlinks to directories are not; one inode is indexed once).
 * Every ELF file is indexed under the build-id in its notes, so any layout
 * works, including the debuginfod one (DIR/<build-id>/debuginfo,
 * DIR/<build-id>/executable) and the GDB one (DIR/.build-id/xx/yyyy.debug);
 * for files in those two layouts that lack a build-id note, the build-id in
 * the path is used.
 *
 * Several files may share a build-id (a stripped binary, its unstripped
 * original, its separate .debug file). A lookup takes function symbols from
 * the best of them (a non-debug file with .symtab, then a debug file with
 * .symtab, then any file with .dynsym; ties go to the first path in sorted
 * order, so the choice is deterministic) and maps file offsets with the
 * PT_LOAD headers of a real image (objcopy zeroes them in .debug files).
 *
 * Thread safety: all calls may be made from any thread; one mutex guards the
 * index and the LRU cache. Loading a table happens under it, so the first
 * lookup of a large library briefly blocks other lookups.
 */
#ifndef TB_SYMSTORE_H
#define TB_SYMSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

#define TB_SYMSTORE_DEFAULT_CACHE 64

typedef struct tb_symstore tb_symstore_t;

typedef struct tb_symstore_config {
	const char *dir;      /* root directory to scan; NULL = start empty (add files later) */
	size_t cache_entries; /* loaded symbol tables kept (LRU); 0 = TB_SYMSTORE_DEFAULT_CACHE */
} tb_symstore_config_t;

typedef struct tb_symstore_stats {
	size_t build_ids; /* distinct build-ids indexed */
	size_t files;	  /* ELF files indexed */
	size_t skipped;	  /* files under dir that were not usable ELF (non-ELF, corrupt, no build-id) */
	size_t cached;	  /* symbol tables currently loaded */
	uint64_t hits;	  /* lookups served by a loaded table */
	uint64_t loads;	  /* tables loaded (first use or after eviction) */
	uint64_t evictions;
	uint64_t unknown; /* lookups of a build-id not in the index */
	uint64_t load_errors;
} tb_symstore_stats_t;

/* Open a store and index cfg->dir. Fails when dir cannot be read (not when a
 * file in it is bad: such files are skipped and counted). */
tb_symstore_t *tb_symstore_open(const tb_symstore_config_t *cfg, tb_err_t *err);
void tb_symstore_close(tb_symstore_t *s);

/* Index one more file. Returns 1 when indexed, 0 when skipped because it is
 * not an ELF file with a build-id (err says why), -1 on a read error. */
int tb_symstore_add_file(tb_symstore_t *s, const char *path, tb_err_t *err);

/* Whether a build-id (hex, any case) is indexed. */
int tb_symstore_has(tb_symstore_t *s, const char *build_id);

void tb_symstore_stats(tb_symstore_t *s, tb_symstore_stats_t *out);

/* Resolve (build_id, file_offset). Returns 1 and sets *symbol (raw name,
 * malloc'd, caller frees) and *sym_offset (offset into the function); 0 when
 * the build-id is unknown or no function holds the offset; -1 when the files
 * for the build-id could not be loaded (err says which and why; the failure
 * is remembered, so later lookups fail fast with the same message). */
int tb_symstore_lookup(tb_symstore_t *s, const char *build_id, uint64_t file_offset, char **symbol,
		       uint64_t *sym_offset, tb_err_t *err);

#endif
