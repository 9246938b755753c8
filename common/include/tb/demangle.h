/*
 * tb/demangle.h — canonical symbol text: the one rule the canonicalizer and
 * the probe-agent share, so that a symbol resolved on the node and one
 * resolved later from the symbol store read the same.
 *
 * tb_demangle_symbol(raw), applied in order:
 *  1. ELF symbol versions are cut: "memcpy@@GLIBC_2.14" -> "memcpy".
 *  2. Compiler clone/partition suffixes are stripped from the end, repeatedly,
 *     so combinations go too ("foo.isra.0.cold" -> "foo"):
 *       .isra.N  .constprop.N  .part.N  .cold  .cold.N  .lto_priv.N
 *       .llvm.N  .clone.N  .localalias  .specialized.N
 *     (N = decimal digits). Other dotted names ("main.main", Go's
 *     "runtime.goexit.abi0", GCC's "counter.1") are left alone.
 *  3. Names mangled for C++ (_Z...) or Rust (legacy _ZN...17h<hash>E and v0
 *     _R...) are demangled with libiberty cplus_demangle(DMGL_AUTO |
 *     DMGL_ANSI), without DMGL_PARAMS: "ns::f<int>", not "void ns::f<int>(int)".
 *     Steps 4 and 2 run before this step too, and a demangling is kept only
 *     if, after 4 and 2, it is not empty, does not look mangled again and
 *     has no '@' (libiberty turns "_Z06_Z3n.e4d" into "_Z3n.e"): otherwise
 *     the name stays mangled.
 *  4. Leftovers of already-demangled input are cut: a " [clone .xxx]" tail
 *     and a Rust legacy "::h<16 hex>" tail; then 2 and 4 again until nothing
 *     changes, since a cut can expose a suffix ("f.part.0 [clone .cold]")
 *     and a stripped suffix a hash tail.
 * Names that are not mangled pass through 1, 2 and 4 only, so the function
 * is idempotent: its output fed back in comes out unchanged. The result is a
 * pure function of the input (no locale, no state).
 */
#ifndef TB_DEMANGLE_H
#define TB_DEMANGLE_H

/* Canonical text of a raw symbol, malloc'd; "" for NULL or "". NULL only
 * when out of memory. */
char *tb_demangle_symbol(const char *raw);

/* Strip compiler suffixes (step 2) in place. */
void tb_demangle_strip_suffixes(char *name);

#endif
