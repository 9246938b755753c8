/*
 * tb_demangle.c — canonical symbol text (version cut, suffix strip,
 * demangle); rules in tb/demangle.h.
 *
 * Suffix stripping walks the name from the end, one dot-separated suffix at
 * a time, so "foo.constprop.0.isra.0.cold" loses ".cold", ".isra.0",
 * ".constprop.0" in turn. Demangling is libiberty's; it is only attempted on
 * names with a C++ or Rust mangling prefix, so plain C and Go names are
 * never reinterpreted.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <demangle.h>

#include "tb/demangle.h"

/* Suffixes followed by ".N" and suffixes that stand alone (".cold" is both). */
static const char *const numbered[] = {"isra",	   "constprop", "part",	 "cold",
				       "lto_priv", "llvm",	"clone", "specialized"};
static const char *const bare[] = {"cold", "localalias"};

static int in_list(const char *s, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncmp(s, list[i], len) == 0)
			return 1;
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Strip one known suffix from the end; 1 when something was stripped. */
static int strip_one(char *name)
{
	char *dot = strrchr(name, '.'), *prev;

	if (!dot || dot == name)
		return 0;
	if (in_list(dot + 1, strlen(dot + 1), bare, sizeof(bare) / sizeof(bare[0]))) {
		*dot = '\0';
		return 1;
	}
	if (!all_digits(dot + 1))
		return 0;
	*dot = '\0';
	prev = strrchr(name, '.');
	if (prev && prev != name &&
	    in_list(prev + 1, strlen(prev + 1), numbered, sizeof(numbered) / sizeof(numbered[0]))) {
		*prev = '\0';
		return 1;
	}
	*dot = '.'; /* a plain ".N" (e.g. GCC's "counter.1") stays */
	return 0;
}

void tb_demangle_strip_suffixes(char *name)
{
	while (strip_one(name))
		;
}

static void cut_version(char *name)
{
	char *at = strchr(name, '@');

	if (at && at != name)
		*at = '\0';
}

/* Cut " [clone ...]" and a Rust legacy "::h<16 hex>" tail. */
static void cut_demangled_tails(char *s)
{
	char *clone = strstr(s, " [clone ");
	size_t n;

	if (clone)
		*clone = '\0';
	n = strlen(s);
	if (n > 19 && strncmp(s + n - 19, "::h", 3) == 0 && strspn(s + n - 16, "0123456789abcdef") == 16)
		s[n - 19] = '\0';
}

/* Steps 4 and 2 until neither changes anything: a cut tail can expose a
 * compiler suffix ("f.constprop.0 [clone .cold]") and a stripped suffix a
 * Rust hash ("x::h<16 hex>.cold"); stopping after one of them would leave
 * text that a second call changes (the function must be idempotent). */
static void cut_tails_and_suffixes(char *s)
{
	size_t n;

	do {
		n = strlen(s);
		cut_demangled_tails(s);
		tb_demangle_strip_suffixes(s);
	} while (strlen(s) != n);
}

static int is_mangled(const char *s)
{
	return strncmp(s, "_Z", 2) == 0 || strncmp(s, "_R", 2) == 0 || strncmp(s, "__Z", 3) == 0;
}

/* A demangling is used only when the text it gives is final: once its tails
 * and suffixes are cut (4, 2) it is not empty, does not look mangled again
 * (libiberty turns "_Z06_Z3n.e4d" into "_Z3n.e") and has no '@' that step 1
 * would cut. Otherwise a second call would change it further; no real C++
 * or Rust name demangles to such text. Takes dem; returns it or NULL. */
static char *final_demangling(char *dem)
{
	if (!dem)
		return NULL;
	cut_tails_and_suffixes(dem);
	if (!dem[0] || is_mangled(dem) || strchr(dem + 1, '@')) {
		free(dem);
		return NULL;
	}
	return dem;
}

char *tb_demangle_symbol(const char *raw)
{
	char *name = strdup(raw ? raw : ""), *dem;

	if (!name || !name[0])
		return name;
	cut_version(name);
	/* Before demangling too, so that the name demangled is the one a second
	 * call would see ("_Z3foov [clone .cold]" demangles as "_Z3foov"). */
	cut_tails_and_suffixes(name);
	if (is_mangled(name) && (dem = final_demangling(cplus_demangle(name[1] == '_' ? name + 1 : name,
								       DMGL_AUTO | DMGL_ANSI)))) {
		free(name);
		name = dem;
	}
	return name;
}
