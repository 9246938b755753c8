/*
 * elfsyms.c — function name -> file offset in an ELF file (see elfsyms.h).
 *
 * libelf walks the symbol sections directly (tb_elf_symtab_t answers
 * address -> name; here we need name -> address, for all aliases). Names
 * are demangled only when they could differ from their canonical form
 * (mangled, versioned or suffixed), which keeps a pass over a big C
 * library cheap.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsyms.h"
#include "tb/demangle.h"
#include "tb/elf.h"

typedef struct ctx {
	char *const *want;
	char **want_canon;
	size_t n_want;
	tb_elf_t *image;
	tb_pa_symhit_t *hits;
	size_t n_hits, cap_hits;
	int oom;
} ctx_t;

void tb_pa_symhits_free(tb_pa_symhit_t *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].raw);
	free(h);
}

static int may_differ(const char *raw)
{
	return raw[0] == '_' || strchr(raw, '@') || strchr(raw, '.');
}

static void add_hit(ctx_t *c, size_t want, uint64_t offset, const char *raw)
{
	tb_pa_symhit_t *nv;

	for (size_t i = 0; i < c->n_hits; i++)
		if (c->hits[i].want == want && c->hits[i].offset == offset)
			return;
	if (c->n_hits == c->cap_hits) {
		size_t ncap = c->cap_hits ? c->cap_hits * 2 : 8;

		nv = realloc(c->hits, ncap * sizeof(*nv));
		if (!nv) {
			c->oom = 1;
			return;
		}
		c->hits = nv;
		c->cap_hits = ncap;
	}
	c->hits[c->n_hits].want = want;
	c->hits[c->n_hits].offset = offset;
	c->hits[c->n_hits].raw = strdup(raw);
	if (!c->hits[c->n_hits].raw)
		c->oom = 1;
	else
		c->n_hits++;
}

static void match_symbol(ctx_t *c, const char *raw, uint64_t vaddr)
{
	char *canon = NULL;
	uint64_t off;

	for (size_t i = 0; i < c->n_want; i++) {
		int hit = strcmp(raw, c->want[i]) == 0;

		if (!hit && may_differ(raw)) {
			if (!canon && !(canon = tb_demangle_symbol(raw))) {
				c->oom = 1;
				return;
			}
			hit = strcmp(canon, c->want_canon[i]) == 0;
		}
		if (hit && tb_elf_vaddr_to_offset(c->image, vaddr, &off) == 0)
			add_hit(c, i, off, raw);
	}
	free(canon);
}

static void scan_section(ctx_t *c, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; data && i < n && !c->oom; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (name && *name)
			match_symbol(c, name, sym.st_value);
	}
}

static int cmp_hits(const void *a, const void *b)
{
	const tb_pa_symhit_t *x = a, *y = b;

	if (x->want != y->want)
		return x->want < y->want ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int scan_file(ctx_t *c, const char *path, tb_err_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	Elf *elf;
	Elf_Scn *scn = NULL;

	if (fd < 0)
		return tb_err(err, "open %s: %m", path);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return tb_err(err, "%s: not an ELF file", path);
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL && !c->oom) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			scan_section(c, elf, scn, &sh);
	}
	elf_end(elf);
	close(fd);
	return 0;
}

int tb_pa_elfsyms_resolve(const char *path, char *const *want, size_t n_want, tb_pa_symhit_t **hits,
			  size_t *n_hits, tb_err_t *err)
{
	ctx_t c = {.want = want, .n_want = n_want};
	int rc = -1;

	*hits = NULL;
	*n_hits = 0;
	c.image = tb_elf_open(path, err);
	c.want_canon = calloc(n_want + 1, sizeof(char *));
	if (!c.image || !c.want_canon)
		goto out;
	for (size_t i = 0; i < n_want; i++)
		if (!(c.want_canon[i] = tb_demangle_symbol(want[i])))
			c.oom = 1;
	if (!c.oom && scan_file(&c, path, err) < 0)
		goto out;
	if (c.oom) {
		tb_err(err, "%s: out of memory", path);
		goto out;
	}
	if (c.n_hits > 1)
		qsort(c.hits, c.n_hits, sizeof(*c.hits), cmp_hits);
	*hits = c.hits;
	*n_hits = c.n_hits;
	c.hits = NULL;
	c.n_hits = 0;
	rc = 0;
out:
	tb_pa_symhits_free(c.hits, c.n_hits);
	for (size_t i = 0; c.want_canon && i < n_want; i++)
		free(c.want_canon[i]);
	free(c.want_canon);
	tb_elf_close(c.image);
	return rc;
}
