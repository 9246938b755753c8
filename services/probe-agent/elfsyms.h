/*
 * elfsyms.h — where watched functions are in a binary: function name ->
 * file offset, for attaching uprobes.
 *
 * Every defined function symbol (STT_FUNC, STT_GNU_IFUNC) of .symtab and
 * .dynsym is compared with each wanted name, raw ("_ZN2ns1fEv",
 * "memcpy@@GLIBC_2.14") or canonical ("ns::f", "memcpy"; tb/demangle.h).
 * The symbol's address becomes a file offset through the PT_LOAD headers
 * (tb/elf.h): uprobes are placed by file offset, and libbpf 1.1's own
 * by-name lookup fails on versioned names, so we resolve them ourselves.
 */
#ifndef TB_PA_ELFSYMS_H
#define TB_PA_ELFSYMS_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

typedef struct tb_pa_symhit {
	size_t want;	 /* index into the wanted names */
	uint64_t offset; /* file offset of the function's first instruction */
	char *raw;	 /* the symbol's raw name (malloc'd) */
} tb_pa_symhit_t;

/* Resolve the wanted names in the ELF file at path. *hits is a malloc'd
 * array (free with tb_pa_symhits_free), one entry per (wanted name,
 * distinct offset), ordered by want then offset. A name not defined in the
 * file has no entry. -1 + err when the file cannot be read as ELF. */
int tb_pa_elfsyms_resolve(const char *path, char *const *want, size_t n_want, tb_pa_symhit_t **hits,
			  size_t *n_hits, tb_err_t *err);
void tb_pa_symhits_free(tb_pa_symhit_t *h, size_t n);

#endif
