/*
 * tb_elf.c — ELF build-ids, PT_LOAD offset mapping and function symbol
 * tables over libelf (see tb/elf.h).
 *
 * Files are opened with ELF_C_READ (pread on demand) rather than mmap, so a
 * file truncated under us yields a libelf error instead of SIGBUS. Symbol
 * tables are built once into flat sorted arrays: every symbol (aliases
 * included, for name lookups) and an index of one primary entry per address
 * (for address lookups), with names in one arena.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb/elf.h"

#define MAX_PHDRS 65536
#define MAX_SYMS_PER_SECTION (1u << 24)
#define WALK_BACK 16 /* how far a lookup looks back for an enclosing sized symbol */

struct tb_elf {
	char *path;
	int fd;
	Elf *elf;
	int type;
	int machine;
	tb_elf_segment_t *segs;
	size_t n_segs;
	char build_id[2 * TB_ELF_BUILD_ID_MAX + 1];
	int has_symtab;
	int has_dynsym;
	int debug_only;
};

typedef struct sym {
	uint64_t addr;
	uint64_t size;
	uint64_t sec_end; /* end of the symbol's section, 0 = unknown */
	uint64_t end;	  /* computed extent (primaries only) */
	size_t name_off;  /* into the arena until sorted, then unused */
	const char *name;
	uint8_t bind_rank;
} sym_t;

struct tb_elf_symtab {
	tb_elf_segment_t *segs;
	size_t n_segs;
	sym_t *syms; /* all symbols, sorted by (addr, preference) */
	size_t n_syms;
	uint32_t *uniq; /* indexes of the primary symbol of each address */
	size_t n_uniq;
	char *names;
};

/* ---- files ---------------------------------------------------------------- */

static int libelf_ready(tb_err_t *err)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return tb_err(err, "libelf: %s", elf_errmsg(-1));
	return 0;
}

/* A PT_LOAD whose file range or address range runs past 2^64 maps nothing
 * (only a corrupt file has one): offsets in it would turn into wrapped
 * addresses, and a lookup into a symbol that does not hold them. */
static int segment_wraps(const GElf_Phdr *ph)
{
	return ph->p_offset + ph->p_filesz < ph->p_offset || ph->p_vaddr + ph->p_filesz < ph->p_vaddr ||
	       ph->p_vaddr + ph->p_memsz < ph->p_vaddr;
}

static int load_segments(tb_elf_t *e, tb_err_t *err)
{
	size_t n = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return tb_err(err, "%s: program headers: %s", e->path, elf_errmsg(-1));
	if (n > MAX_PHDRS)
		return tb_err(err, "%s: %zu program headers (corrupt?)", e->path, n);
	if (n == 0)
		return 0;
	e->segs = calloc(n, sizeof(*e->segs));
	if (!e->segs)
		return tb_err(err, "%s: out of memory", e->path);
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return tb_err(err, "%s: program header %zu: %s", e->path, i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || segment_wraps(&ph))
			continue;
		e->segs[e->n_segs++] = (tb_elf_segment_t){.offset = ph.p_offset,
							  .vaddr = ph.p_vaddr,
							  .filesz = ph.p_filesz,
							  .memsz = ph.p_memsz,
							  .flags = ph.p_flags};
	}
	return 0;
}

/* Scan one note data block for NT_GNU_BUILD_ID; 1 when found. */
static int build_id_in_notes(tb_elf_t *e, Elf_Data *data)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	while (off < data->d_size && (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || nh.n_descsz == 0 ||
		    nh.n_descsz > TB_ELF_BUILD_ID_MAX)
			continue;
		if (memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
			continue;
		for (size_t i = 0; i < nh.n_descsz; i++)
			snprintf(e->build_id + 2 * i, 3, "%02x",
				 ((const uint8_t *)data->d_buf)[desc_off + i]);
		return 1;
	}
	return 0;
}

static void read_build_id_sections(tb_elf_t *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *data;

	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_buf && build_id_in_notes(e, data))
			return;
	}
}

static void read_build_id_segments(tb_elf_t *e)
{
	size_t n = 0;
	GElf_Phdr ph;
	Elf_Data *data;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && i < MAX_PHDRS; i++) {
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_NOTE || ph.p_filesz == 0)
			continue;
		data = elf_getdata_rawchunk(e->elf, (int64_t)ph.p_offset, ph.p_filesz,
					    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (data && data->d_buf && build_id_in_notes(e, data))
			return;
	}
}

static void read_section_flags(tb_elf_t *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && sh.sh_size > 0 && sh.sh_entsize > 0)
			e->has_symtab = 1;
		if (sh.sh_type == SHT_DYNSYM && sh.sh_size > 0 && sh.sh_entsize > 0)
			e->has_dynsym = 1;
		if (sh.sh_type == SHT_NOBITS && (sh.sh_flags & SHF_EXECINSTR))
			e->debug_only = 1;
	}
}

tb_elf_t *tb_elf_open(const char *path, tb_err_t *err)
{
	tb_elf_t *e = NULL;
	GElf_Ehdr eh;
	struct stat st;

	if (libelf_ready(err) < 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e) {
		tb_err(err, "open %s: out of memory", path);
		return NULL;
	}
	e->fd = -1;
	if (!(e->path = strdup(path))) {
		tb_err(err, "open %s: out of memory", path);
		goto fail;
	}
	e->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
	if (e->fd < 0) {
		tb_err(err, "open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(e->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		tb_err(err, "open %s: not a regular file", path);
		goto fail;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		tb_err(err, "open %s: not an ELF file", path);
		goto fail;
	}
	if (!gelf_getehdr(e->elf, &eh)) {
		tb_err(err, "open %s: ELF header: %s", path, elf_errmsg(-1));
		goto fail;
	}
	e->type = eh.e_type;
	e->machine = eh.e_machine;
	if (load_segments(e, err) < 0)
		goto fail;
	read_build_id_sections(e);
	if (!e->build_id[0])
		read_build_id_segments(e);
	read_section_flags(e);
	return e;
fail:
	tb_elf_close(e);
	return NULL;
}

void tb_elf_close(tb_elf_t *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->segs);
	free(e->path);
	free(e);
}

const char *tb_elf_path(const tb_elf_t *e)
{
	return e->path;
}

const char *tb_elf_build_id(const tb_elf_t *e)
{
	return e->build_id;
}

int tb_elf_type(const tb_elf_t *e)
{
	return e->type;
}

int tb_elf_has_symtab(const tb_elf_t *e)
{
	return e->has_symtab;
}

int tb_elf_has_dynsym(const tb_elf_t *e)
{
	return e->has_dynsym;
}

int tb_elf_is_debug_only(const tb_elf_t *e)
{
	return e->debug_only;
}

const tb_elf_segment_t *tb_elf_segments(const tb_elf_t *e, size_t *n)
{
	*n = e->n_segs;
	return e->segs;
}

/* ---- offset <-> vaddr ------------------------------------------------------- */

int tb_elf_segments_offset_to_vaddr(const tb_elf_segment_t *seg, size_t n, uint64_t file_offset,
				    uint64_t *vaddr)
{
	const tb_elf_segment_t *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (file_offset < seg[i].offset || file_offset - seg[i].offset >= seg[i].filesz)
			continue;
		if (!best || (!(best->flags & PF_X) && (seg[i].flags & PF_X)))
			best = &seg[i];
	}
	if (!best)
		return -1;
	*vaddr = best->vaddr + (file_offset - best->offset);
	return 0;
}

int tb_elf_segments_vaddr_to_offset(const tb_elf_segment_t *seg, size_t n, uint64_t vaddr,
				    uint64_t *file_offset)
{
	const tb_elf_segment_t *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (vaddr < seg[i].vaddr || vaddr - seg[i].vaddr >= seg[i].filesz)
			continue;
		if (!best || (!(best->flags & PF_X) && (seg[i].flags & PF_X)))
			best = &seg[i];
	}
	if (!best)
		return -1;
	*file_offset = best->offset + (vaddr - best->vaddr);
	return 0;
}

int tb_elf_offset_to_vaddr(const tb_elf_t *e, uint64_t file_offset, uint64_t *vaddr)
{
	return tb_elf_segments_offset_to_vaddr(e->segs, e->n_segs, file_offset, vaddr);
}

int tb_elf_vaddr_to_offset(const tb_elf_t *e, uint64_t vaddr, uint64_t *file_offset)
{
	return tb_elf_segments_vaddr_to_offset(e->segs, e->n_segs, vaddr, file_offset);
}

int tb_elf_debug_path(const char *dir, const char *build_id, char *out, size_t cap)
{
	size_t len = build_id ? strlen(build_id) : 0;
	int n;

	if (len < 2 || len > 2 * TB_ELF_BUILD_ID_MAX || strspn(build_id, "0123456789abcdef") != len)
		return -1;
	n = snprintf(out, cap, "%s/.build-id/%.2s/%s.debug", dir, build_id, build_id + 2);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- symbol tables ---------------------------------------------------------- */

typedef struct builder {
	sym_t *syms;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
} builder_t;

static int arena_add(builder_t *b, const char *s, size_t *off)
{
	size_t len = strlen(s) + 1;
	char *p;

	if (b->names_len + len > b->names_cap) {
		size_t cap = b->names_cap ? b->names_cap : 4096;

		while (cap < b->names_len + len)
			cap *= 2;
		p = realloc(b->names, cap);
		if (!p)
			return -1;
		b->names = p;
		b->names_cap = cap;
	}
	memcpy(b->names + b->names_len, s, len);
	*off = b->names_len;
	b->names_len += len;
	return 0;
}

static int syms_push(builder_t *b, const sym_t *s)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		sym_t *p = realloc(b->syms, cap * sizeof(*p));

		if (!p)
			return -1;
		b->syms = p;
		b->cap = cap;
	}
	b->syms[b->n++] = *s;
	return 0;
}

static uint8_t bind_rank(unsigned bind)
{
	switch (bind) {
	case STB_GLOBAL:
		return 0;
	case STB_WEAK:
		return 1;
	case STB_LOCAL:
		return 2;
	default:
		return 3;
	}
}

static uint64_t section_end(Elf *elf, size_t shndx)
{
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (shndx == SHN_UNDEF || shndx >= SHN_LORESERVE)
		return 0;
	scn = elf_getscn(elf, shndx);
	if (!scn || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
		return 0;
	return sh.sh_addr + sh.sh_size;
}

/* Add the function symbols of one SYMTAB/DYNSYM section. */
static int add_symbols(builder_t *b, tb_elf_t *f, Elf_Scn *scn, const GElf_Shdr *sh, tb_err_t *err)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;
	GElf_Sym s;
	const char *name;
	unsigned type;
	sym_t out;

	if (!data || sh->sh_entsize == 0)
		return tb_err(err, "%s: symbol section data: %s", f->path, elf_errmsg(-1));
	count = data->d_size / sh->sh_entsize;
	if (count > MAX_SYMS_PER_SECTION)
		return tb_err(err, "%s: %zu symbols in one section (corrupt?)", f->path, count);
	for (size_t i = 1; i < count; i++) {
		if (!gelf_getsym(data, (int)i, &s))
			break; /* past the data libelf could read: keep what we have */
		type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || s.st_value == 0)
			continue;
		name = elf_strptr(f->elf, sh->sh_link, s.st_name);
		if (!name || !name[0])
			continue;
		out = (sym_t){.addr = s.st_value,
			      .size = s.st_size,
			      .sec_end = section_end(f->elf, s.st_shndx),
			      .bind_rank = bind_rank(GELF_ST_BIND(s.st_info))};
		if (f->machine == EM_ARM)
			out.addr &= ~(uint64_t)1; /* Thumb bit */
		if (arena_add(b, name, &out.name_off) < 0 || syms_push(b, &out) < 0)
			return tb_err(err, "%s: out of memory loading symbols", f->path);
	}
	return 0;
}

static size_t leading_underscores(const char *s)
{
	return strspn(s, "_");
}

/* Address order; among aliases the preferred name first (see tb/elf.h). */
static int sym_cmp(const void *pa, const void *pb)
{
	const sym_t *a = pa, *b = pb;
	size_t ua, ub, la, lb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if ((a->size > 0) != (b->size > 0))
		return a->size > 0 ? -1 : 1;
	if (a->bind_rank != b->bind_rank)
		return a->bind_rank < b->bind_rank ? -1 : 1;
	ua = leading_underscores(a->name);
	ub = leading_underscores(b->name);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	la = strlen(a->name);
	lb = strlen(b->name);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static uint64_t segment_end_for(const tb_elf_symtab_t *t, uint64_t vaddr)
{
	for (size_t i = 0; i < t->n_segs; i++)
		if (vaddr >= t->segs[i].vaddr && vaddr - t->segs[i].vaddr < t->segs[i].memsz)
			return t->segs[i].vaddr + t->segs[i].memsz;
	return 0;
}

/* Extent of the primary symbol k (index into uniq). */
static uint64_t extent_end(const tb_elf_symtab_t *t, size_t k)
{
	const sym_t *s = &t->syms[t->uniq[k]];
	uint64_t end = UINT64_MAX;

	if (s->size > 0)
		return s->addr + s->size < s->addr ? UINT64_MAX : s->addr + s->size;
	if (k + 1 < t->n_uniq)
		end = t->syms[t->uniq[k + 1]].addr;
	if (s->sec_end > s->addr && s->sec_end < end)
		end = s->sec_end;
	if (end == UINT64_MAX) {
		uint64_t seg_end = segment_end_for(t, s->addr);

		end = seg_end > s->addr ? seg_end : s->addr + 1;
	}
	return end;
}

static int finish_table(tb_elf_symtab_t *t, builder_t *b, tb_err_t *err)
{
	t->names = b->names;
	t->syms = b->syms;
	t->n_syms = b->n;
	b->names = NULL;
	b->syms = NULL;
	for (size_t i = 0; i < t->n_syms; i++)
		t->syms[i].name = t->names + t->syms[i].name_off;
	if (t->n_syms)
		qsort(t->syms, t->n_syms, sizeof(*t->syms), sym_cmp);
	t->uniq = calloc(t->n_syms ? t->n_syms : 1, sizeof(*t->uniq));
	if (!t->uniq)
		return tb_err(err, "out of memory indexing symbols");
	for (size_t i = 0; i < t->n_syms; i++)
		if (i == 0 || t->syms[i].addr != t->syms[i - 1].addr)
			t->uniq[t->n_uniq++] = (uint32_t)i;
	for (size_t k = 0; k < t->n_uniq; k++)
		t->syms[t->uniq[k]].end = extent_end(t, k);
	return 0;
}

static int segments_look_real(const tb_elf_t *f)
{
	for (size_t i = 0; i < f->n_segs; i++)
		if ((f->segs[i].flags & PF_X) && f->segs[i].filesz > 0)
			return 1;
	return 0;
}

static int copy_segments(tb_elf_symtab_t *t, const tb_elf_t *f, tb_err_t *err)
{
	if (!f || !segments_look_real(f) || f->n_segs == 0)
		return 0;
	t->segs = calloc(f->n_segs, sizeof(*t->segs));
	if (!t->segs)
		return tb_err(err, "out of memory");
	memcpy(t->segs, f->segs, f->n_segs * sizeof(*t->segs));
	t->n_segs = f->n_segs;
	return 0;
}

tb_elf_symtab_t *tb_elf_symtab_load(tb_elf_t *image, tb_elf_t *syms, tb_err_t *err)
{
	tb_elf_symtab_t *t = calloc(1, sizeof(*t));
	builder_t b = {0};
	tb_elf_t *src = syms ? syms : image;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (!t) {
		tb_err(err, "out of memory");
		return NULL;
	}
	if (!src) {
		tb_err(err, "symbol table: no file given");
		goto fail;
	}
	if (copy_segments(t, image ? image : syms, err) < 0)
		goto fail;
	while ((scn = elf_nextscn(src->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if (add_symbols(&b, src, scn, &sh, err) < 0)
			goto fail;
	}
	if (finish_table(t, &b, err) < 0)
		goto fail;
	return t;
fail:
	free(b.syms);
	free(b.names);
	tb_elf_symtab_free(t);
	return NULL;
}

void tb_elf_symtab_free(tb_elf_symtab_t *t)
{
	if (!t)
		return;
	free(t->segs);
	free(t->syms);
	free(t->uniq);
	free(t->names);
	free(t);
}

size_t tb_elf_symtab_count(const tb_elf_symtab_t *t)
{
	return t->n_uniq;
}

int tb_elf_symtab_lookup_vaddr(const tb_elf_symtab_t *t, uint64_t vaddr, tb_elf_hit_t *hit)
{
	size_t lo = 0, hi = t->n_uniq, k;
	const sym_t *s;

	/* Last primary with addr <= vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[t->uniq[mid]].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	/* A small symbol may sit inside a larger sized one: look back a little. */
	for (k = lo; k > 0 && lo - k < WALK_BACK; k--) {
		s = &t->syms[t->uniq[k - 1]];
		if (vaddr >= s->end)
			continue;
		*hit = (tb_elf_hit_t){
		    .name = s->name, .vaddr = s->addr, .size = s->end - s->addr, .offset = vaddr - s->addr};
		return 1;
	}
	return 0;
}

int tb_elf_symtab_lookup(const tb_elf_symtab_t *t, uint64_t file_offset, tb_elf_hit_t *hit)
{
	uint64_t vaddr;

	if (tb_elf_segments_offset_to_vaddr(t->segs, t->n_segs, file_offset, &vaddr) < 0)
		return 0;
	return tb_elf_symtab_lookup_vaddr(t, vaddr, hit);
}

int tb_elf_symtab_offset_of(const tb_elf_symtab_t *t, const char *name, uint64_t *file_offset)
{
	for (size_t i = 0; i < t->n_syms; i++) {
		if (strcmp(t->syms[i].name, name) != 0)
			continue;
		if (tb_elf_segments_vaddr_to_offset(t->segs, t->n_segs, t->syms[i].addr, file_offset) == 0)
			return 1;
	}
	return 0;
}
