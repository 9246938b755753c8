/*
 * fuzz_elf.c — ELF reading for symbolization (tb/elf.h): build-id notes
 * (sections, or PT_NOTE segments without section headers), PT_LOAD
 * segments, file offset <-> vaddr mapping and the function symbol tables,
 * as the canonicalizer (symbol store) and the probe-agent read files of
 * unknown origin. The input is the file: it is written to a memfd and
 * opened through /proc/self/fd, since tb_elf_open takes a path.
 *
 * Checked beyond "no crash, no leak, no UB" (libelf included):
 *   - a build-id is lowercase hex of an even length, at most
 *     TB_ELF_BUILD_ID_MAX bytes;
 *   - a symbol table loads with the file as image and as a separate debug
 *     file; a lookup that finds a symbol gives its name and a location inside
 *     it (offset < size); an offset that maps to a vaddr maps back into the
 *     same segment's file bytes.
 */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "tb/elf.h"

static void check_hit(int found, const tb_elf_hit_t *hit, const char *what, uint64_t at)
{
	if (!found)
		return;
	FUZZ_CHECK(hit->name != NULL, "%s 0x%llx: hit without a name", what, (unsigned long long)at);
	FUZZ_CHECK(hit->size == 0 || hit->offset < hit->size, "%s 0x%llx: offset %llu outside size %llu",
		   what, (unsigned long long)at, (unsigned long long)hit->offset,
		   (unsigned long long)hit->size);
}

/* Lookups at the edges and the middle of every segment. */
static void check_symtab(const tb_elf_symtab_t *t, const tb_elf_segment_t *seg, size_t n)
{
	tb_elf_hit_t hit;
	uint64_t off;

	(void)tb_elf_symtab_count(t);
	for (size_t i = 0; i < n && i < 16; i++) {
		uint64_t probes[3] = {seg[i].offset, seg[i].offset + seg[i].filesz / 2,
				      seg[i].offset + (seg[i].filesz ? seg[i].filesz - 1 : 0)};

		for (int k = 0; k < 3; k++) {
			memset(&hit, 0, sizeof(hit));
			check_hit(tb_elf_symtab_lookup(t, probes[k], &hit), &hit, "offset", probes[k]);
			memset(&hit, 0, sizeof(hit));
			check_hit(
			    tb_elf_symtab_lookup_vaddr(t, seg[i].vaddr + (probes[k] - seg[i].offset), &hit),
			    &hit, "vaddr", probes[k]);
		}
	}
	(void)tb_elf_symtab_offset_of(t, "alpha", &off);
	(void)tb_elf_symtab_offset_of(t, "main", &off);
}

static void check_segments(const tb_elf_t *e, const tb_elf_segment_t *seg, size_t n)
{
	for (size_t i = 0; i < n && i < 16; i++) {
		uint64_t vaddr, back;

		if (seg[i].filesz == 0 || tb_elf_offset_to_vaddr(e, seg[i].offset, &vaddr) != 0)
			continue;
		FUZZ_CHECK(tb_elf_vaddr_to_offset(e, vaddr, &back) == 0,
			   "vaddr 0x%llx of offset 0x%llx maps back to nothing", (unsigned long long)vaddr,
			   (unsigned long long)seg[i].offset);
	}
}

static void check_file(const char *path)
{
	tb_err_t err = {{0}};
	tb_elf_t *e = tb_elf_open(path, &err);
	const tb_elf_segment_t *seg;
	tb_elf_symtab_t *t;
	const char *bid;
	size_t n = 0, len;

	if (!e) {
		FUZZ_CHECK(err.msg[0], "open failed without a reason");
		return;
	}
	bid = tb_elf_build_id(e);
	len = strlen(bid);
	FUZZ_CHECK(len % 2 == 0 && len <= 2 * TB_ELF_BUILD_ID_MAX && strspn(bid, "0123456789abcdef") == len,
		   "build-id \"%s\"", bid);
	(void)tb_elf_type(e);
	(void)tb_elf_has_symtab(e);
	(void)tb_elf_has_dynsym(e);
	(void)tb_elf_is_debug_only(e);
	seg = tb_elf_segments(e, &n);
	check_segments(e, seg, n);
	if ((t = tb_elf_symtab_load(e, NULL, &err))) {
		check_symtab(t, seg, n);
		tb_elf_symtab_free(t);
	}
	if ((t = tb_elf_symtab_load(NULL, e, &err))) {
		check_symtab(t, seg, n);
		tb_elf_symtab_free(t);
	}
	tb_elf_close(e);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_elf", MFD_CLOEXEC);
	char path[64];
	size_t done = 0;

	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		FUZZ_CHECK(w > 0, "write to memfd failed");
		done += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	check_file(path);
	close(fd);
	return 0;
}
