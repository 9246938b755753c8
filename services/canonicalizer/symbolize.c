/*
 * symbolize.c — canonical symbol text and store lookups for frames without
 * a symbol (see symbolize.h).
 *
 * The canonical text itself lives in common/ (tb/demangle.h), shared with
 * the probe-agent, which symbolizes on the node with the same rules.
 */
#include <stdlib.h>

#include "symbolize.h"
#include "tb/demangle.h"

void tb_canon_strip_suffixes(char *name)
{
	tb_demangle_strip_suffixes(name);
}

char *tb_canon_symbol(const char *raw)
{
	return tb_demangle_symbol(raw);
}

int tb_symbolize_frame(tb_symstore_t *store, const char *build_id, uint64_t file_offset, char **raw,
		       tb_err_t *err)
{
	uint64_t sym_off;

	*raw = NULL;
	if (!store || !build_id || !build_id[0])
		return 0;
	return tb_symstore_lookup(store, build_id, file_offset, raw, &sym_off, err);
}
