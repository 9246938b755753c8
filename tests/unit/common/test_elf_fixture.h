/*
 * test_elf_fixture.h — builds the ELF files the tb_elf / tb_symstore tests
 * read, at test time, from tests/data/elf/known.c into a fresh temp dir:
 * PIE and non-PIE executables (GNU ld), a PIE linked with lld (when ld.lld is
 * installed), a shared library, a stripped copy and a separate debug file of
 * the PIE. Expected values come from binutils (readelf, objdump), not from
 * the code under test.
 */
#ifndef TEST_ELF_FIXTURE_H
#define TEST_ELF_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_PATH 512

typedef struct fx {
	char dir[128];
	char src[FX_PATH];
	char pie[FX_PATH];
	char nopie[FX_PATH];
	char lld[FX_PATH];
	char so[FX_PATH];
	char stripped[FX_PATH];
	char debug[FX_PATH];
	int have_lld;
} fx_t;

/* Run a shell command; on failure print it and its output. */
static inline int fx_sh(const char *cmd)
{
	char full[4 * FX_PATH + 16], buf[4096], chunk[512];
	FILE *p;
	size_t n = 0, r;
	int rc;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	while ((r = fread(chunk, 1, sizeof(chunk), p)) > 0) { /* keep the first 4 KiB */
		size_t take = r < sizeof(buf) - 1 - n ? r : sizeof(buf) - 1 - n;

		memcpy(buf + n, chunk, take);
		n += take;
	}
	buf[n] = '\0';
	rc = pclose(p);
	if (rc != 0)
		fprintf(stderr, "# command failed (status %d): %s\n# output: %s\n", rc, cmd, buf);
	return rc == 0 ? 0 : -1;
}

/* First line of a command's output, trimmed; -1 when empty. */
static inline int fx_capture(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	out[0] = '\0';
	if (!p)
		return -1;
	if (!fgets(out, (int)cap, p))
		out[0] = '\0';
	pclose(p);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return n ? 0 : -1;
}

/* Build-id as readelf -n prints it. */
static inline int fx_readelf_build_id(const char *path, char *out, size_t cap)
{
	char cmd[2 * FX_PATH];

	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null | sed -n 's/.*Build ID: *//p'", path);
	return fx_capture(cmd, out, cap);
}

/* File offset of a function's first byte as objdump -F prints it. */
static inline int fx_objdump_offset(const char *path, const char *fn, uint64_t *off)
{
	char cmd[2 * FX_PATH + 256], line[256];

	snprintf(cmd, sizeof(cmd),
		 "objdump -d -F --disassemble=%s '%s' | sed -n 's/^[0-9a-f]* <%s> (File Offset: "
		 "0x\\([0-9a-f]*\\)):$/\\1/p'",
		 fn, path, fn);
	if (fx_capture(cmd, line, sizeof(line)) < 0)
		return -1;
	*off = strtoull(line, NULL, 16);
	return 0;
}

/* Link-time address of a symbol as nm prints it. */
static inline int fx_nm_vaddr(const char *path, const char *fn, uint64_t *vaddr)
{
	char cmd[2 * FX_PATH + 128], line[256];

	snprintf(cmd, sizeof(cmd), "nm '%s' | awk '$3 == \"%s\" { print $1; exit }'", path, fn);
	if (fx_capture(cmd, line, sizeof(line)) < 0)
		return -1;
	*vaddr = strtoull(line, NULL, 16);
	return 0;
}

static inline int fx_build(fx_t *fx)
{
	const char *root = getenv("TB_SRCDIR");
	const char *cflags = "-g -O1 -fno-omit-frame-pointer -Wl,--build-id=sha1";
	char cmd[4 * FX_PATH];

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tb-test-elf.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->src, sizeof(fx->src), "%s/tests/data/elf/known.c", root ? root : ".");
	snprintf(fx->pie, sizeof(fx->pie), "%s/known-pie", fx->dir);
	snprintf(fx->nopie, sizeof(fx->nopie), "%s/known-nopie", fx->dir);
	snprintf(fx->lld, sizeof(fx->lld), "%s/known-lld", fx->dir);
	snprintf(fx->so, sizeof(fx->so), "%s/libknown.so", fx->dir);
	snprintf(fx->stripped, sizeof(fx->stripped), "%s/known-pie.stripped", fx->dir);
	snprintf(fx->debug, sizeof(fx->debug), "%s/known-pie.debug", fx->dir);
	snprintf(cmd, sizeof(cmd), "cc %s -fPIE -pie -o '%s' '%s'", cflags, fx->pie, fx->src);
	if (fx_sh(cmd) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "cc %s -fno-pie -no-pie -o '%s' '%s'", cflags, fx->nopie, fx->src);
	if (fx_sh(cmd) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "cc %s -shared -fPIC -DTB_KNOWN_LIB -o '%s' '%s'", cflags, fx->so,
		 fx->src);
	if (fx_sh(cmd) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "strip --strip-all -o '%s' '%s'", fx->stripped, fx->pie);
	if (fx_sh(cmd) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "objcopy --only-keep-debug '%s' '%s'", fx->pie, fx->debug);
	if (fx_sh(cmd) < 0)
		return -1;
	fx->have_lld = system("command -v ld.lld >/dev/null 2>&1") == 0;
	if (fx->have_lld) {
		snprintf(cmd, sizeof(cmd), "cc %s -fuse-ld=lld -fPIE -pie -o '%s' '%s'", cflags, fx->lld,
			 fx->src);
		if (fx_sh(cmd) < 0)
			return -1;
	}
	return 0;
}

static inline void fx_destroy(fx_t *fx)
{
	char cmd[FX_PATH + 32];

	if (!fx->dir[0] || strncmp(fx->dir, "/tmp/tb-test-elf.", 17) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", fx->dir);
}

#endif
