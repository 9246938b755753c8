/*
 * Unit tests for the probe-agent's file-level work on real binaries, built
 * at test time from tests/data/probe (gcc PIE and non-PIE, clang + lld, g++):
 *  - elfsyms.c: function name -> file offset, checked against objdump -F;
 *    demangled names find mangled symbols;
 *  - procs.c + elfcache.c + normalize.c: a running workload's addresses
 *    (computed from its /proc maps and objdump's offsets, not from our code)
 *    normalize to (build-id, file offset, module, symbol), callers at
 *    address - 1; the vDSO, anonymous memory and unmapped addresses; the
 *    process entry and its loads; /proc/PID/stat parsing.
 */
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pa_test.h"

#include "../../../services/probe-agent/elfsyms.h"
#include "../../../services/probe-agent/fold.h"
#include "../../../services/probe-agent/normalize.h"
#include "tb/elf.h"

static char dir[64];

static int setup(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tb-test-pa-elf.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "bash %s/tests/data/probe/build.sh %s >/dev/null 2>&1", pa_srcdir(), dir);
	return pa_sh(cmd);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return pa_sh(cmd);
}

/* objdump's file offset of function `name` in bin. */
static uint64_t objdump_offset(const char *bin, const char *name)
{
	char cmd[600], out[64];

	snprintf(cmd, sizeof(cmd),
		 "objdump -d -F --no-show-raw-insn %s | sed -n 's/^[0-9a-f]* <%s> (File Offset: "
		 "0x\\([0-9a-f]*\\)):$/\\1/p'",
		 bin, name);
	if (pa_capture(cmd, out, sizeof(out)) < 0)
		fail_msg("objdump found no %s in %s", name, bin);
	return strtoull(out, NULL, 16);
}

static void build_id_of(const char *bin, char *out, size_t cap)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "readelf -n %s | sed -n 's/.*Build ID: *//p'", bin);
	if (pa_capture(cmd, out, cap) < 0)
		fail_msg("no build-id in %s", bin);
}

static void resolves_functions_at_objdumps_offsets(void **state)
{
	static const char *const bins[] = {"work-pie", "work-nopie", "work-lld"};
	char *want[] = {"tb_watched", "no_such_function", "main", "tb_never_called"};

	(void)state;
	for (size_t b = 0; b < 3; b++) {
		char path[128];
		tb_pa_symhit_t *hits;
		size_t n;
		tb_err_t err;

		snprintf(path, sizeof(path), "%s/%s", dir, bins[b]);
		if (tb_pa_elfsyms_resolve(path, want, 4, &hits, &n, &err) < 0)
			fail_msg("%s: %s", path, err.msg);
		if (n != 3 || hits[0].want != 0 || hits[1].want != 2 || hits[2].want != 3)
			fail_msg("%s: expected hits for tb_watched, main, tb_never_called, got %zu hits",
				 bins[b], n);
		EXPECT_INT(objdump_offset(path, "tb_watched"), hits[0].offset);
		EXPECT_INT(objdump_offset(path, "main"), hits[1].offset);
		EXPECT_INT(objdump_offset(path, "tb_never_called"), hits[2].offset);
		EXPECT_STR("tb_watched", hits[0].raw);
		tb_pa_symhits_free(hits, n);
	}
}

static void demangled_names_find_mangled_symbols(void **state)
{
	char path[128], *want[] = {"tbcpp::Engine::spin", "tbcpp::churn<unsigned long>"};
	tb_pa_symhit_t *hits;
	size_t n;
	tb_err_t err;

	(void)state;
	snprintf(path, sizeof(path), "%s/work-cpp", dir);
	if (tb_pa_elfsyms_resolve(path, want, 2, &hits, &n, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	if (n != 2)
		fail_msg("expected 2 hits, got %zu", n);
	EXPECT_STR("_ZN5tbcpp6Engine4spinEv", hits[0].raw);
	EXPECT_INT(objdump_offset(path, "_ZN5tbcpp6Engine4spinEv"), hits[0].offset);
	EXPECT_STR("_ZN5tbcpp5churnImEET_S1_", hits[1].raw);
	tb_pa_symhits_free(hits, n);
}

/* ---- a running workload ---------------------------------------------------- */

typedef struct env {
	tb_pa_elfcache_t *elf;
	tb_pa_procs_t *procs;
	pid_t child;
} env_t;

static void env_open(env_t *e, int spawn)
{
	char path[128];
	tb_err_t err;

	memset(e, 0, sizeof(*e));
	e->elf = tb_pa_elfcache_new(&(tb_pa_elfcache_conf_t){.proc_root = "/proc"}, &err);
	e->procs =
	    tb_pa_procs_new(&(tb_pa_procs_conf_t){.proc_root = "/proc", .node = "n1", .elf = e->elf}, &err);
	assert_non_null(e->elf);
	assert_non_null(e->procs);
	if (!spawn)
		return;
	snprintf(path, sizeof(path), "%s/work-lld", dir);
	e->child = fork();
	if (e->child == 0) {
		execl(path, path, "spin", "20", (char *)NULL);
		_exit(127);
	}
	usleep(200000);
}

static void env_close(env_t *e)
{
	if (e->child > 0) {
		kill(e->child, SIGKILL);
		waitpid(e->child, NULL, 0);
	}
	tb_pa_procs_free(e->procs);
	tb_pa_elfcache_free(e->elf);
}

/* Runtime address of file offset `off` of `bin` in process p (from its maps). */
static uint64_t runtime_addr(const tb_pa_proc_t *p, const char *bin, uint64_t off)
{
	for (size_t i = 0; i < p->maps.n; i++) {
		const tb_pa_map_t *m = &p->maps.v[i];

		if (m->path && strcmp(m->path, bin) == 0 && off >= m->pgoff &&
		    off < m->pgoff + (m->end - m->start))
			return m->start + (off - m->pgoff);
	}
	fail_msg("file offset 0x%llx of %s is in no executable mapping", (unsigned long long)off, bin);
	return 0;
}

static void normalizes_a_running_lld_binary(void **state)
{
	env_t e;
	char bin[128], bid[128];
	tb_pa_proc_t *p;
	tb_probe_uframe_t *f;
	tb_pa_norm_stats_t st = {0};
	uint64_t leaf, ret, ips[2];

	(void)state;
	env_open(&e, 1);
	snprintf(bin, sizeof(bin), "%s/work-lld", dir);
	build_id_of(bin, bid, sizeof(bid));
	p = tb_pa_procs_get(e.procs, (uint32_t)e.child, NULL, 0);
	assert_non_null(p);
	assert_int_equal(tb_pa_procs_refresh(e.procs, p, 1, 1), 0);
	leaf = objdump_offset(bin, "tb_hot_leaf") + 0x10;
	ret = objdump_offset(bin, "tb_middle") + 0x9; /* a return address inside tb_middle */
	ips[0] = runtime_addr(p, bin, leaf);
	ips[1] = runtime_addr(p, bin, ret);
	assert_int_equal(tb_pa_normalize_user(e.procs, e.elf, p, ips, 2, 1, &f, &st), 0);
	EXPECT_STR(bid, f[0].build_id);
	EXPECT_INT(leaf, f[0].file_offset);
	EXPECT_STR(bin, f[0].module);
	EXPECT_STR("tb_hot_leaf", f[0].symbol);
	EXPECT_INT(ret - 1, f[1].file_offset); /* a caller: inside its call instruction */
	EXPECT_STR("tb_middle", f[1].symbol);
	EXPECT_INT(0, f[0].has_address);
	tb_pa_uframes_free(f, 2);
	/* The process entry. */
	EXPECT_STR(bin, p->binary);
	EXPECT_STR(bid, p->binary_build_id);
	EXPECT_STR("work-lld", p->comm);
	env_close(&e);
}

static void records_loads_of_the_image_and_its_libraries(void **state)
{
	env_t e;
	char bin[128], bid[128];
	tb_pa_proc_t *p;
	tb_probe_load_t *loads;
	size_t n;
	int image = 0, libc = 0;

	(void)state;
	env_open(&e, 1);
	snprintf(bin, sizeof(bin), "%s/work-lld", dir);
	build_id_of(bin, bid, sizeof(bid));
	p = tb_pa_procs_get(e.procs, (uint32_t)e.child, NULL, 0);
	tb_pa_procs_refresh(e.procs, p, 1, 77);
	tb_pa_procs_take_loads(e.procs, &loads, &n);
	for (size_t i = 0; i < n; i++) {
		if (loads[i].pid != (uint32_t)e.child)
			fail_msg("load of %s with pid %u, expected %d", loads[i].path, loads[i].pid,
				 (int)e.child);
		image |= strcmp(loads[i].path, bin) == 0 && loads[i].build_id &&
			 strcmp(loads[i].build_id, bid) == 0;
		libc |= strstr(loads[i].path, "/libc.so") != NULL && loads[i].build_id != NULL;
	}
	if (!image || !libc)
		fail_msg("expected loads of %s (build-id %s) and libc among %zu loads", bin, bid, n);
	tb_pa_loads_free(loads, n);
	tb_pa_procs_refresh(e.procs, p, 1, 78); /* nothing new: no second load */
	tb_pa_procs_take_loads(e.procs, &loads, &n);
	EXPECT_INT(0, (int64_t)n);
	tb_pa_loads_free(loads, n);
	env_close(&e);
}

static void vdso_anonymous_and_unmapped_addresses(void **state)
{
	env_t e;
	const char *vdso;
	char *want[] = {"__vdso_clock_gettime"};
	tb_pa_proc_t *p;
	tb_probe_uframe_t *f;
	tb_pa_norm_stats_t st = {0};
	tb_pa_symhit_t *hits;
	size_t n;
	tb_err_t err;
	tb_elf_t *img;
	void *anon = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t base = getauxval(AT_SYSINFO_EHDR), ips[3];

	(void)state;
	assert_true(anon != MAP_FAILED);
	env_open(&e, 0);
	p = tb_pa_procs_get(e.procs, (uint32_t)getpid(), NULL, 0);
	ips[0] = (uint64_t)(uintptr_t)anon + 0x123;
	ips[1] = 0x10;
	ips[2] = base + 0x101; /* a caller: normalized at 0x100 */
	assert_int_equal(tb_pa_normalize_user(e.procs, e.elf, p, ips, 3, 1, &f, &st), 0);
	EXPECT_STR("[anon]", f[0].module);
	EXPECT_INT(0x123, f[0].file_offset);
	EXPECT_INT(0, f[0].has_address);
	EXPECT_STR("[unknown]", f[1].module);
	EXPECT_INT(0, f[1].file_offset);
	EXPECT_STR("[vdso]", f[2].module);
	EXPECT_INT(0x100, f[2].file_offset);
	vdso = tb_pa_elfcache_vdso_path(e.elf);
	assert_non_null(vdso);
	img = tb_elf_open(vdso, &err);
	if (!img)
		fail_msg("the vDSO image was not saved: %s", err.msg);
	EXPECT_STR(tb_elf_build_id(img), f[2].build_id);
	tb_elf_close(img);
	tb_pa_uframes_free(f, 3);
	/* A vDSO function by name. */
	if (tb_pa_elfsyms_resolve(vdso, want, 1, &hits, &n, &err) < 0 || n != 1)
		fail_msg("__vdso_clock_gettime not in the saved vDSO (%zu hits)", n);
	ips[0] = base + hits[0].offset + 2;
	tb_pa_symhits_free(hits, n);
	assert_int_equal(tb_pa_normalize_user(e.procs, e.elf, p, ips, 1, 1, &f, &st), 0);
	EXPECT_STR("__vdso_clock_gettime", f[0].symbol);
	tb_pa_uframes_free(f, 1);
	munmap(anon, 8192);
	env_close(&e);
}

static void parses_stat_with_odd_command_names(void **state)
{
	const char *stat =
	    "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 987654 1000 100";
	char comm[64];
	uint64_t start = 0;

	(void)state;
	assert_int_equal(tb_pa_parse_stat(stat, comm, sizeof(comm), &start), 0);
	EXPECT_STR("a) b (c", comm);
	EXPECT_INT(987654, start);
	EXPECT_INT(-1, tb_pa_parse_stat("4242 no parens", comm, sizeof(comm), &start));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(resolves_functions_at_objdumps_offsets),
	    cmocka_unit_test(demangled_names_find_mangled_symbols),
	    cmocka_unit_test(normalizes_a_running_lld_binary),
	    cmocka_unit_test(records_loads_of_the_image_and_its_libraries),
	    cmocka_unit_test(vdso_anonymous_and_unmapped_addresses),
	    cmocka_unit_test(parses_stat_with_odd_command_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
