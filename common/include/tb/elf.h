/*
 * tb/elf.h — reading ELF files for symbolization: GNU build-id, file offset
 * <-> virtual address through PT_LOAD program headers, and function symbol
 * tables (.symtab + .dynsym) resolved by file offset.
 *
 * Frames arrive as (build-id, file offset inside the module) — what
 * /proc/PID/maps gives after `address - map_start + map_pgoff` — so every
 * lookup starts from a file offset. It is turned into a link-time virtual
 * address with the PT_LOAD segment that holds it (file offset == vaddr is NOT
 * assumed: lld, -z noseparate-code and shared libraries differ), then
 * binary-searched in the sorted symbol table.
 *
 * Two objects:
 *  - tb_elf_t: one open file (libelf). Cheap to open; gives the build-id,
 *    the segments and what symbol sections it has.
 *  - tb_elf_symtab_t: an immutable, self-contained symbol table (segments of
 *    the image + function symbols of the image or of its separate debug
 *    file). It owns copies of everything, so the files can be closed and the
 *    table shared read-only between threads (it is what caches hold).
 *
 * Separate debug files (objcopy --only-keep-debug / eu-strip -f) carry the
 * symbols but objcopy zeroes the file offsets of their PT_LOAD headers, so
 * offsets are always mapped with the segments of a real image when one is
 * given; a debug file's own segments are used only if they look real (an
 * executable PT_LOAD with file bytes).
 *
 * Corrupt or truncated files give errors, never crashes (libelf bounds-checks
 * section data; we check counts, sizes and string indexes on top).
 */
#ifndef TB_ELF_H
#define TB_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

#define TB_ELF_BUILD_ID_MAX 64 /* bytes; GNU build-ids are 8 (lld fast), 16 (md5/uuid) or 20 (sha1) */

typedef struct tb_elf tb_elf_t;
typedef struct tb_elf_symtab tb_elf_symtab_t;

/* One PT_LOAD program header. */
typedef struct tb_elf_segment {
	uint64_t offset; /* p_offset */
	uint64_t vaddr;	 /* p_vaddr */
	uint64_t filesz; /* p_filesz */
	uint64_t memsz;	 /* p_memsz */
	uint32_t flags;	 /* PF_X | PF_W | PF_R */
} tb_elf_segment_t;

/* A resolved symbol. `name` points into the symbol table and lives as long
 * as the table. */
typedef struct tb_elf_hit {
	const char *name; /* raw (mangled) symbol name */
	uint64_t vaddr;	  /* symbol start (link-time virtual address) */
	uint64_t size;	  /* symbol size; for zero-size symbols the inferred extent */
	uint64_t offset;  /* offset of the looked-up location into the symbol */
} tb_elf_hit_t;

/* ---- files ---- */

/* Open `path` read-only. Fails (NULL + err naming the path) for a missing,
 * unreadable, non-ELF or malformed file. */
tb_elf_t *tb_elf_open(const char *path, tb_err_t *err);
void tb_elf_close(tb_elf_t *e);

const char *tb_elf_path(const tb_elf_t *e);

/* GNU build-id (NT_GNU_BUILD_ID) as lowercase hex, "" when the file has none.
 * Read from SHT_NOTE sections, or from PT_NOTE segments when the section
 * headers are gone. */
const char *tb_elf_build_id(const tb_elf_t *e);

/* ET_EXEC, ET_DYN, ET_REL, ... (e_type). */
int tb_elf_type(const tb_elf_t *e);

/* Whether the file has a non-empty .symtab / .dynsym, and whether it is a
 * separate debug file (its .text has no bytes: SHT_NOBITS). */
int tb_elf_has_symtab(const tb_elf_t *e);
int tb_elf_has_dynsym(const tb_elf_t *e);
int tb_elf_is_debug_only(const tb_elf_t *e);

/* The PT_LOAD segments, in program-header order. */
const tb_elf_segment_t *tb_elf_segments(const tb_elf_t *e, size_t *n);

/* File offset -> link-time virtual address and back, through the PT_LOAD
 * segment that holds the offset (file bytes only: [p_offset, p_offset +
 * p_filesz)). When segments overlap in the file (lld packs them), an
 * executable segment wins. Return 0, or -1 when no segment holds it. */
int tb_elf_offset_to_vaddr(const tb_elf_t *e, uint64_t file_offset, uint64_t *vaddr);
int tb_elf_vaddr_to_offset(const tb_elf_t *e, uint64_t vaddr, uint64_t *file_offset);

/* The same over a bare segment array (used by the symbol table). */
int tb_elf_segments_offset_to_vaddr(const tb_elf_segment_t *seg, size_t n, uint64_t file_offset,
				    uint64_t *vaddr);
int tb_elf_segments_vaddr_to_offset(const tb_elf_segment_t *seg, size_t n, uint64_t vaddr,
				    uint64_t *file_offset);

/* "DIR/.build-id/xx/yyyy.debug" for a hex build-id, into out (cap bytes).
 * Returns 0, or -1 when the build-id is not hex of 2..128 digits or the
 * path does not fit. The file is not checked. */
int tb_elf_debug_path(const char *dir, const char *build_id, char *out, size_t cap);

/* ---- symbol tables ---- */

/* Build a symbol table: function symbols (STT_FUNC and STT_GNU_IFUNC,
 * defined, non-zero address) from .symtab and .dynsym of `syms` (NULL = use
 * `image`), and the segments of `image` to map file offsets. `image` may be
 * NULL when only a debug file is at hand: its segments are then used only if
 * they look real (see the top of this file), otherwise offset lookups find
 * nothing while vaddr lookups still work.
 *
 * Symbols are sorted by address; aliases at one address collapse to one name
 * chosen deterministically (sized over zero-size, GLOBAL over WEAK over LOCAL,
 * fewer leading underscores, shorter, then byte order), so the same file
 * always yields the same names. A zero-size symbol extends to the next symbol
 * or the end of its section, whichever comes first. */
tb_elf_symtab_t *tb_elf_symtab_load(tb_elf_t *image, tb_elf_t *syms, tb_err_t *err);
void tb_elf_symtab_free(tb_elf_symtab_t *t);

/* Number of distinct function addresses in the table. */
size_t tb_elf_symtab_count(const tb_elf_symtab_t *t);

/* Resolve a file offset (or a link-time vaddr) to the function holding it.
 * Return 1 and fill *hit when found, 0 when no function holds it. */
int tb_elf_symtab_lookup(const tb_elf_symtab_t *t, uint64_t file_offset, tb_elf_hit_t *hit);
int tb_elf_symtab_lookup_vaddr(const tb_elf_symtab_t *t, uint64_t vaddr, tb_elf_hit_t *hit);

/* The file offset of the start of the function named exactly `name` (raw
 * name, e.g. for attaching a uprobe). Return 1 when found, 0 otherwise. */
int tb_elf_symtab_offset_of(const tb_elf_symtab_t *t, const char *name, uint64_t *file_offset);

#endif
