/*
 * ksyms.c — /proc/kallsyms table (see ksyms.h).
 *
 * Lines are "ADDR TYPE NAME [MODULE]". Names and module names go into one
 * arena (modules are interned: thousands of symbols share a few names), the
 * entries into an array sorted by address.
 */
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

#define MAX_GAP (16ull << 20)

typedef struct ksym {
	uint64_t addr;
	size_t name;	/* arena offsets */
	ssize_t module; /* -1 = vmlinux */
} ksym_t;

struct tb_pa_ksyms {
	ksym_t *v;
	size_t n, cap;
	char *arena;
	size_t used, size;
	ssize_t last_module; /* interning: the previous line's module */
};

static ssize_t arena_add(tb_pa_ksyms_t *k, const char *s)
{
	size_t len = strlen(s) + 1;
	char *na;

	if (!k->arena || k->used + len > k->size) {
		size_t ns = k->size ? k->size * 2 : 1 << 20;

		while (ns < k->used + len)
			ns *= 2;
		na = realloc(k->arena, ns);
		if (!na)
			return -1;
		k->arena = na;
		k->size = ns;
	}
	memcpy(k->arena + k->used, s, len);
	k->used += len;
	return (ssize_t)(k->used - len);
}

static ssize_t module_ref(tb_pa_ksyms_t *k, const char *mod)
{
	if (!mod)
		return -1;
	if (k->last_module >= 0 && strcmp(k->arena + k->last_module, mod) == 0)
		return k->last_module;
	k->last_module = arena_add(k, mod);
	return k->last_module;
}

static int add(tb_pa_ksyms_t *k, uint64_t addr, const char *name, const char *mod)
{
	ksym_t *nv;
	ssize_t n, m;

	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 65536;
		nv = realloc(k->v, k->cap * sizeof(*nv));
		if (!nv)
			return -1;
		k->v = nv;
	}
	m = module_ref(k, mod);
	if (mod && m < 0)
		return -1;
	n = arena_add(k, name);
	if (n < 0)
		return -1;
	k->v[k->n++] = (ksym_t){.addr = addr, .name = (size_t)n, .module = m};
	return 0;
}

static int cmp(const void *a, const void *b)
{
	const ksym_t *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* One line into (addr, name, module); 0 when it is a text symbol. */
static int parse_line(char *line, uint64_t *addr, char **name, char **mod)
{
	char *save = NULL, *a = strtok_r(line, " \t\n", &save), *t, *end;

	t = strtok_r(NULL, " \t\n", &save);
	*name = strtok_r(NULL, " \t\n", &save);
	*mod = strtok_r(NULL, " \t\n", &save);
	if (!a || !t || !*name || strchr("tTwW", t[0]) == NULL || t[1])
		return -1;
	*addr = strtoull(a, &end, 16);
	if (*end || *addr == 0)
		return -1;
	if (*mod) {
		size_t l = strlen(*mod);

		if ((*mod)[0] != '[' || (*mod)[l - 1] != ']')
			return -1;
		(*mod)[l - 1] = '\0';
		(*mod)++;
	}
	return 0;
}

tb_pa_ksyms_t *tb_pa_ksyms_parse(FILE *f, tb_err_t *err)
{
	tb_pa_ksyms_t *k = calloc(1, sizeof(*k));
	char line[1024], *name, *mod;
	uint64_t addr;

	if (!k) {
		tb_err(err, "kallsyms: out of memory");
		return NULL;
	}
	k->last_module = -1;
	while (fgets(line, sizeof(line), f)) {
		if (parse_line(line, &addr, &name, &mod) < 0)
			continue;
		if (add(k, addr, name, mod) < 0) {
			tb_err(err, "kallsyms: out of memory");
			tb_pa_ksyms_free(k);
			return NULL;
		}
	}
	if (ferror(f)) {
		tb_err(err, "kallsyms: read error");
		tb_pa_ksyms_free(k);
		return NULL;
	}
	if (k->n > 1)
		qsort(k->v, k->n, sizeof(*k->v), cmp);
	return k;
}

tb_pa_ksyms_t *tb_pa_ksyms_load(const char *path, tb_err_t *err)
{
	FILE *f = fopen(path, "re");
	tb_pa_ksyms_t *k;

	if (!f) {
		tb_err(err, "open %s: %m", path);
		return NULL;
	}
	k = tb_pa_ksyms_parse(f, err);
	fclose(f);
	if (!k)
		tb_err_wrap(err, "%s", path);
	return k;
}

void tb_pa_ksyms_free(tb_pa_ksyms_t *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->arena);
	free(k);
}

size_t tb_pa_ksyms_count(const tb_pa_ksyms_t *k)
{
	return k->n;
}

int tb_pa_ksyms_lookup(const tb_pa_ksyms_t *k, uint64_t addr, const char **name, uint64_t *offset,
		       const char **module)
{
	size_t lo = 0, hi = k->n;
	const ksym_t *s;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	s = &k->v[lo - 1];
	if (addr - s->addr >= MAX_GAP)
		return 0;
	*name = k->arena + s->name;
	*offset = addr - s->addr;
	*module = s->module >= 0 ? k->arena + s->module : NULL;
	return 1;
}
