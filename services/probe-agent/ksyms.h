/*
 * ksyms.h — kernel symbols from /proc/kallsyms, for kernel frames.
 *
 * Kernel frames leave the node as (symbol, offset into it, module), never as
 * addresses. Text symbols (types t/T/w/W) are loaded once, sorted, and
 * looked up by binary search (~122 k symbols load in ~0.1 s). When the
 * kernel hides addresses (kptr_restrict; all of them read as zero) the table
 * is empty and every kernel frame stays unresolved.
 */
#ifndef TB_PA_KSYMS_H
#define TB_PA_KSYMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tb/err.h"

typedef struct tb_pa_ksyms tb_pa_ksyms_t;

/* Parse a kallsyms stream. NULL + err on a read error or out of memory;
 * malformed lines are skipped. */
tb_pa_ksyms_t *tb_pa_ksyms_parse(FILE *f, tb_err_t *err);

/* tb_pa_ksyms_parse of a file (normally "/proc/kallsyms"). */
tb_pa_ksyms_t *tb_pa_ksyms_load(const char *path, tb_err_t *err);

void tb_pa_ksyms_free(tb_pa_ksyms_t *k);

size_t tb_pa_ksyms_count(const tb_pa_ksyms_t *k);

/* The symbol holding addr: the last one starting at or below it, if addr is
 * less than 16 MiB past it (beyond that the address is in no known text).
 * Returns 1 and the symbol's name, offset and module (NULL for vmlinux;
 * pointers live as long as the table), 0 when nothing holds it. */
int tb_pa_ksyms_lookup(const tb_pa_ksyms_t *k, uint64_t addr, const char **name, uint64_t *offset,
		       const char **module);

#endif
