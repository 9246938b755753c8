/*
 * maps.h — executable mappings of a process, from /proc/PID/maps.
 *
 * Normalizing a user frame needs the mapping that holds its address: the
 * file offset is `address - start + pgoff` (what the ELF program headers
 * then turn into a link-time address; see tb/elf.h), whatever the linker
 * (PIE, non-PIE, lld) or the load address. Only executable mappings are
 * kept: instruction pointers live nowhere else.
 */
#ifndef TB_PA_MAPS_H
#define TB_PA_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

typedef struct tb_pa_map {
	uint64_t start;
	uint64_t end; /* exclusive */
	uint64_t pgoff;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint64_t ino;
	int deleted; /* the path ended in " (deleted)" (cut off) */
	char *path;  /* file path, "[vdso]"-style name, or NULL for anonymous memory */
} tb_pa_map_t;

typedef struct tb_pa_maps {
	tb_pa_map_t *v; /* sorted by start (the kernel prints them so) */
	size_t n;
} tb_pa_maps_t;

/* Parse the text of a maps file (len bytes, need not end in NUL) into out
 * (which must be empty), keeping the executable mappings. Lines that do not
 * parse fail the whole call, naming the line. */
int tb_pa_maps_parse(const char *text, size_t len, tb_pa_maps_t *out, tb_err_t *err);

/* Read and parse /proc/PID/maps (root = "/proc" normally). */
int tb_pa_maps_read(const char *proc_root, uint32_t pid, tb_pa_maps_t *out, tb_err_t *err);

/* The mapping holding addr, or NULL. */
const tb_pa_map_t *tb_pa_maps_find(const tb_pa_maps_t *m, uint64_t addr);

/* Whether a mapping is a file (not anonymous, not a [special] region). */
int tb_pa_map_is_file(const tb_pa_map_t *m);

/* "MAJ:MIN:INO", the identity of a mapped file, into out. */
void tb_pa_map_file_key(const tb_pa_map_t *m, char *out, size_t cap);

void tb_pa_maps_clear(tb_pa_maps_t *m);

/* Read a whole (proc) file into a malloc'd NUL-terminated buffer. */
int tb_pa_read_file(const char *path, char **buf, size_t *len, tb_err_t *err);

#endif
