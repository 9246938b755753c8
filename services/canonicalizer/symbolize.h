/*
 * symbolize.h — canonical symbol text, and symbol lookup for frames that
 * arrive without one.
 *
 * Canonical symbol text (tb_canon_symbol), applied to every symbol, in order:
 *  1. ELF symbol versions are cut: "memcpy@@GLIBC_2.14" -> "memcpy".
 *  2. Compiler clone/partition suffixes are stripped from the end, repeatedly,
 *     so combinations go too ("foo.isra.0.cold" -> "foo"):
 *       .isra.N  .constprop.N  .part.N  .cold  .cold.N  .lto_priv.N
 *       .llvm.N  .clone.N  .localalias  .specialized.N
 *     (N = decimal digits). Other dotted names ("main.main", Go's
 *     "runtime.goexit.abi0", GCC's "counter.1") are left alone.
 *  3. Names mangled for C++ (_Z...) or Rust (legacy _ZN...17h<hash>E and v0
 *     _R...) are demangled with libiberty cplus_demangle(DMGL_AUTO |
 *     DMGL_ANSI) — deliberately WITHOUT DMGL_PARAMS: "ns::f<int>" rather than
 *     "void ns::f<int>(int)". Findings name functions, not signatures, and
 *     frame ids keep overloads apart by their offsets anyway. Rust legacy
 *     hashes are dropped by the demangler; v0 crate disambiguators are not
 *     printed by it either.
 *  4. Leftovers of already-demangled input are cut: a " [clone .xxx]" tail
 *     and a Rust legacy "::h<16 hex>" tail.
 * Names that are not mangled pass through 1, 2 and 4 only. The result is a
 * pure function of the input (no locale, no state), which frame ids rely on.
 */
#ifndef TB_CANON_SYMBOLIZE_H
#define TB_CANON_SYMBOLIZE_H

#include <stdint.h>

#include "tb/err.h"
#include "tb/symstore.h"

/* Canonical text of a raw symbol, malloc'd; "" for NULL or "". NULL only
 * when out of memory. */
char *tb_canon_symbol(const char *raw);

/* Strip compiler suffixes (step 2) in place. */
void tb_canon_strip_suffixes(char *name);

/* Look up the raw symbol of (build_id, file_offset) in the store. Returns 1
 * and a malloc'd *raw when found, 0 when not (no store, unknown build-id, no
 * function there), -1 when the store could not load the files (err). */
int tb_symbolize_frame(tb_symstore_t *store, const char *build_id, uint64_t file_offset, char **raw,
		       tb_err_t *err);

#endif
