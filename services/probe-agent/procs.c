/*
 * procs.c — the process table (see procs.h).
 *
 * Processes live in a map keyed by the decimal pid. A process replaced by
 * exec, or one that exited, is kept until the window that referenced it
 * has been flushed (the batch's process table needs it); "retired" holds
 * those no longer in the map. Load records accumulate in an array until the
 * agent takes them at flush.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procs.h"
#include "tb/log.h"

struct tb_pa_procs {
	tb_pa_procs_conf_t conf;
	char proc_root[128];
	char cgroup2_root[256];
	tb_map_t *live; /* "pid" -> tb_pa_proc_t * */
	tb_pa_proc_t **retired;
	size_t n_retired, cap_retired;
	tb_probe_load_t *loads;
	size_t n_loads, cap_loads;
	int64_t boot_to_epoch;
	long clk_tck;
	uint64_t gen;
	uint64_t window;
	tb_pa_module_hook_fn hook;
	void *hook_ctx;
	int any_stale; /* some live process may have maps_stale set: refresh_stale has work */
};

static void proc_free(tb_pa_proc_t *p)
{
	if (!p)
		return;
	free(p->binary);
	free(p->binary_build_id);
	free(p->cgroup_path);
	tb_pa_maps_clear(&p->maps);
	tb_map_free(p->loaded, NULL);
	free(p->notes);
	free(p);
}

static void proc_free_v(void *p)
{
	proc_free(p);
}

static void find_cgroup2(tb_pa_procs_t *P)
{
	static const char *const cands[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char probe[300];

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/cgroup.controllers", cands[i]);
		if (access(probe, F_OK) == 0) {
			snprintf(P->cgroup2_root, sizeof(P->cgroup2_root), "%s", cands[i]);
			return;
		}
	}
	P->cgroup2_root[0] = '\0';
}

tb_pa_procs_t *tb_pa_procs_new(const tb_pa_procs_conf_t *conf, tb_err_t *err)
{
	tb_pa_procs_t *P = calloc(1, sizeof(*P));

	if (!P || !(P->live = tb_map_new(256))) {
		free(P);
		tb_err(err, "process table: out of memory");
		return NULL;
	}
	P->conf = *conf;
	snprintf(P->proc_root, sizeof(P->proc_root), "%s", conf->proc_root ? conf->proc_root : "/proc");
	if (conf->cgroup2_root)
		snprintf(P->cgroup2_root, sizeof(P->cgroup2_root), "%s", conf->cgroup2_root);
	else
		find_cgroup2(P);
	P->clk_tck = sysconf(_SC_CLK_TCK);
	if (P->clk_tck <= 0)
		P->clk_tck = 100;
	P->gen = 1;
	P->window = 1;
	return P;
}

void tb_pa_procs_free(tb_pa_procs_t *P)
{
	if (!P)
		return;
	tb_map_free(P->live, proc_free_v);
	for (size_t i = 0; i < P->n_retired; i++)
		proc_free(P->retired[i]);
	free(P->retired);
	tb_pa_loads_free(P->loads, P->n_loads);
	free(P);
}

void tb_pa_procs_set_clock(tb_pa_procs_t *P, int64_t boot_to_epoch_ns)
{
	P->boot_to_epoch = boot_to_epoch_ns;
}

void tb_pa_procs_next_gen(tb_pa_procs_t *P)
{
	P->gen++;
}

void tb_pa_procs_set_module_hook(tb_pa_procs_t *P, tb_pa_module_hook_fn fn, void *ctx)
{
	P->hook = fn;
	P->hook_ctx = ctx;
}

/* ---- reading /proc --------------------------------------------------------- */

int tb_pa_parse_stat(const char *text, char *comm, size_t cap, uint64_t *starttime)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
	size_t n;
	int field;

	if (!open || !close || close < open)
		return -1;
	n = (size_t)(close - open - 1);
	if (n >= cap)
		n = cap - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	/* After ") " comes field 3 (state); starttime is field 22. */
	p = close + 1;
	for (field = 2; field < 21 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p)
		return -1;
	return sscanf(p, " %llu", (unsigned long long *)starttime) == 1 ? 0 : -1;
}

static void make_exec_id(tb_pa_procs_t *P, tb_pa_proc_t *p)
{
	snprintf(p->exec_id, sizeof(p->exec_id), "%s:%lld:%u", P->conf.node ? P->conf.node : "",
		 (long long)p->start_ns, p->pid);
}

static void read_stat(tb_pa_procs_t *P, tb_pa_proc_t *p)
{
	char path[256], *buf = NULL, comm[64];
	uint64_t start;
	tb_err_t err;

	snprintf(path, sizeof(path), "%s/%u/stat", P->proc_root, p->pid);
	if (tb_pa_read_file(path, &buf, NULL, &err) < 0) {
		p->gone = 1;
		return;
	}
	if (tb_pa_parse_stat(buf, comm, sizeof(comm), &start) == 0) {
		memcpy(p->comm, comm, sizeof(p->comm) - 1);
		p->comm[sizeof(p->comm) - 1] = '\0';
		if (!p->start_ns)
			p->start_ns =
			    (int64_t)(start * (1000000000ull / (uint64_t)P->clk_tck)) + P->boot_to_epoch;
	}
	free(buf);
}

static void read_exe(tb_pa_procs_t *P, tb_pa_proc_t *p)
{
	char path[256], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", P->proc_root, p->pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	if (n > 10 && strcmp(target + n - 10, " (deleted)") == 0)
		target[n - 10] = '\0';
	free(p->binary);
	p->binary = strdup(target);
}

static void read_cgroup(tb_pa_procs_t *P, tb_pa_proc_t *p)
{
	char path[256], v2[2048], dir[2400], *buf = NULL;
	struct stat st;
	tb_err_t err;

	snprintf(path, sizeof(path), "%s/%u/cgroup", P->proc_root, p->pid);
	if (tb_pa_read_file(path, &buf, NULL, &err) < 0)
		return;
	tb_pa_container_from_proc(buf, &p->container, v2, sizeof(v2));
	free(buf);
	if (v2[0])
		p->cgroup_path = strdup(v2);
	if (p->cgroup_id || !P->cgroup2_root[0] || !v2[0])
		return;
	snprintf(dir, sizeof(dir), "%s%s", P->cgroup2_root, v2);
	if (stat(dir, &st) == 0)
		p->cgroup_id = (uint64_t)st.st_ino;
}

static int64_t now_epoch(const tb_pa_procs_t *P)
{
	struct timespec t;

	clock_gettime(CLOCK_BOOTTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec + P->boot_to_epoch;
}

static tb_pa_proc_t *proc_new(tb_pa_procs_t *P, uint32_t pid, const char *comm, uint64_t cgroup_id,
			      int64_t exec_ns)
{
	tb_pa_proc_t *p = calloc(1, sizeof(*p));
	char key[16];

	if (!p || !(p->loaded = tb_map_new(32))) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->cgroup_id = cgroup_id;
	p->exec_ns = exec_ns;
	p->start_ns = exec_ns;
	if (comm)
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
	read_stat(P, p);
	if (!p->start_ns) /* gone before we could look: first seen now */
		p->start_ns = now_epoch(P);
	if (!p->gone) {
		read_exe(P, p);
		read_cgroup(P, p);
	}
	make_exec_id(P, p);
	p->maps_stale = 1;
	P->any_stale = 1;
	snprintf(key, sizeof(key), "%u", pid);
	tb_map_put(P->live, key, p);
	return p;
}

tb_pa_proc_t *tb_pa_procs_find(tb_pa_procs_t *P, uint32_t pid)
{
	char key[16];

	snprintf(key, sizeof(key), "%u", pid);
	return tb_map_get(P->live, key);
}

tb_pa_proc_t *tb_pa_procs_get(tb_pa_procs_t *P, uint32_t pid, const char *comm, uint64_t cgroup_id)
{
	tb_pa_proc_t *p = tb_pa_procs_find(P, pid);

	if (p)
		return p;
	return proc_new(P, pid, comm, cgroup_id, 0);
}

/* ---- retiring ------------------------------------------------------------- */

static void retire(tb_pa_procs_t *P, tb_pa_proc_t *p)
{
	tb_pa_proc_t **nv;

	if (p->used_window != P->window) {
		proc_free(p);
		return;
	}
	if (P->n_retired == P->cap_retired) {
		P->cap_retired = P->cap_retired ? P->cap_retired * 2 : 16;
		nv = realloc(P->retired, P->cap_retired * sizeof(tb_pa_proc_t *));
		if (!nv) {
			proc_free(p);
			return;
		}
		P->retired = nv;
	}
	P->retired[P->n_retired++] = p;
}

void tb_pa_procs_use(tb_pa_procs_t *P, tb_pa_proc_t *p)
{
	p->used_window = P->window;
}

/* ---- loads ----------------------------------------------------------------- */

/* A load references its process: the batch's process table must hold it. */
static void p_use_pid(tb_pa_procs_t *P, uint32_t pid)
{
	tb_pa_proc_t *p = tb_pa_procs_find(P, pid);

	if (p)
		p->used_window = P->window;
}

static void add_load(tb_pa_procs_t *P, uint32_t pid, const char *path, const char *build_id, int64_t ts)
{
	tb_probe_load_t *nv, *l;

	if (P->n_loads == P->cap_loads) {
		P->cap_loads = P->cap_loads ? P->cap_loads * 2 : 64;
		nv = realloc(P->loads, P->cap_loads * sizeof(*nv));
		if (!nv)
			return;
		P->loads = nv;
	}
	l = &P->loads[P->n_loads];
	memset(l, 0, sizeof(*l));
	l->pid = pid;
	l->path = strdup(path);
	l->build_id = build_id ? strdup(build_id) : NULL;
	l->ts_ns = ts;
	if (!l->path) {
		free(l->build_id);
		return;
	}
	P->n_loads++;
	p_use_pid(P, pid);
}

void tb_pa_loads_free(tb_probe_load_t *loads, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(loads[i].path);
		free(loads[i].build_id);
	}
	free(loads);
}

void tb_pa_procs_take_loads(tb_pa_procs_t *P, tb_probe_load_t **loads, size_t *n)
{
	*loads = P->loads;
	*n = P->n_loads;
	P->loads = NULL;
	P->n_loads = P->cap_loads = 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The mmap note matching a mapping (same device and inode, or same file
 * name: overlay filesystems show other numbers in maps), removed. */
static int take_note(tb_pa_proc_t *p, const tb_pa_map_t *m, int64_t *ts)
{
	for (size_t i = 0; i < p->n_notes; i++) {
		const tb_pa_mmap_note_t *n = &p->notes[i];

		if ((n->ino == m->ino && n->dev_major == m->dev_major && n->dev_minor == m->dev_minor) ||
		    (n->name[0] && strcmp(n->name, base_name(m->path)) == 0)) {
			*ts = n->ts_ns;
			p->notes[i] = p->notes[--p->n_notes];
			return 1;
		}
	}
	return 0;
}

/* Loads for the executable file mappings not reported yet. */
static void record_loads(tb_pa_procs_t *P, tb_pa_proc_t *p, int64_t now_ns)
{
	char key[96];

	for (size_t i = 0; i < p->maps.n; i++) {
		const tb_pa_map_t *m = &p->maps.v[i];
		tb_pa_module_t *mod;
		int64_t ts = 0;

		if (!tb_pa_map_is_file(m))
			continue;
		tb_pa_map_file_key(m, key, sizeof(key));
		if (tb_map_get(p->loaded, key))
			continue;
		tb_map_put(p->loaded, key, (void *)1);
		mod = tb_pa_elfcache_module(P->conf.elf, p->pid, m);
		if (!take_note(p, m, &ts))
			ts = p->exec_ns && p->maps_gen == 0 ? p->exec_ns : now_ns;
		add_load(P, p->pid, m->path, mod ? mod->build_id : NULL, ts);
		if (p->binary && !p->binary_build_id && mod && mod->build_id &&
		    strcmp(p->binary, m->path) == 0)
			p->binary_build_id = strdup(mod->build_id);
		if (P->hook && mod)
			P->hook(P->hook_ctx, p->pid, m, mod);
	}
	/* Notes that match no mapping: the file was unmapped (or the process is
	 * gone) before we looked; still evidence of a load. */
	for (size_t i = 0; i < p->n_notes; i++)
		if (p->gone && p->notes[i].name[0])
			add_load(P, p->pid, p->notes[i].name, NULL, p->notes[i].ts_ns);
	if (p->gone)
		p->n_notes = 0;
}

/* mmap events are taken at syscall entry, so a maps read can come before the
 * new mapping exists. A note that matched no mapping keeps the maps stale (the
 * next drain reads them again) until it matches or is older than
 * TB_PA_NOTE_TTL_NS (the mmap failed or the file was unmapped at once: then
 * it is reported as a load by name, like the notes of a process that is gone). */
static void keep_stale_for_pending_notes(tb_pa_procs_t *P, tb_pa_proc_t *p, int64_t now_ns)
{
	size_t w = 0;

	for (size_t i = 0; i < p->n_notes; i++) {
		if (now_ns - p->notes[i].ts_ns < TB_PA_NOTE_TTL_NS)
			p->notes[w++] = p->notes[i];
		else if (p->notes[i].name[0]) /* still evidence of a load */
			add_load(P, p->pid, p->notes[i].name, NULL, p->notes[i].ts_ns);
	}
	p->n_notes = w;
	if (w > 0) {
		p->maps_stale = 1;
		P->any_stale = 1;
	}
}

int tb_pa_procs_refresh(tb_pa_procs_t *P, tb_pa_proc_t *p, int force, int64_t now_ns)
{
	tb_pa_maps_t fresh = {0};
	tb_err_t err;

	if (!force && !p->maps_stale)
		return 0;
	if (!p->maps_stale && p->maps_gen &&
	    (p->maps_gen == P->gen || now_ns - p->maps_read_ns < TB_PA_MISS_REREAD_NS))
		return 0; /* read in this drain, or recently enough */
	if (p->gone || tb_pa_maps_read(P->proc_root, p->pid, &fresh, &err) < 0 || fresh.n == 0) {
		/* A zombie reads as no mappings at all: as good as gone. */
		tb_pa_maps_clear(&fresh);
		p->gone = 1;
		p->maps_stale = 0;
		record_loads(P, p, now_ns);
		return -1;
	}
	tb_pa_maps_clear(&p->maps);
	p->maps = fresh;
	p->maps_stale = 0;
	record_loads(P, p, now_ns);
	p->maps_gen = P->gen;
	p->maps_read_ns = now_ns;
	keep_stale_for_pending_notes(P, p, now_ns);
	return 0;
}

void tb_pa_procs_refresh_stale(tb_pa_procs_t *P, int64_t now_ns)
{
	size_t cur = 0;
	const char *k;
	void *v;
	int still = 0;

	/* Called after every drain (10 times a second): walking every live
	 * process each time was 3 % of the agent's CPU on a busy machine. */
	if (!P->any_stale)
		return;
	P->any_stale = 0;
	while (tb_map_next(P->live, &cur, &k, &v)) {
		tb_pa_proc_t *p = v;

		if (p->maps_stale)
			tb_pa_procs_refresh(P, p, 0, now_ns);
		still |= p->maps_stale;
	}
	P->any_stale |= still;
}

/* ---- events ----------------------------------------------------------------- */

void tb_pa_procs_exec(tb_pa_procs_t *P, uint32_t pid, const char *comm, uint64_t cgroup_id, int64_t ts_ns)
{
	char key[16];
	tb_pa_proc_t *old;

	snprintf(key, sizeof(key), "%u", pid);
	old = tb_map_del(P->live, key);
	if (old)
		retire(P, old);
	proc_new(P, pid, comm, cgroup_id, ts_ns);
}

void tb_pa_procs_exit(tb_pa_procs_t *P, uint32_t pid, int64_t ts_ns)
{
	tb_pa_proc_t *p = tb_pa_procs_find(P, pid);

	if (!p)
		return;
	if (p->maps_stale)
		tb_pa_procs_refresh(P, p, 0, ts_ns); /* last chance for its loads */
	p->exited = 1;
	p->exit_ns = ts_ns;
}

void tb_pa_procs_mmap(tb_pa_procs_t *P, uint32_t pid, uint32_t kdev, uint64_t ino, const char *name,
		      int64_t ts_ns)
{
	tb_pa_proc_t *p = tb_pa_procs_get(P, pid, NULL, 0);
	tb_pa_mmap_note_t *nv, *n;

	if (!p)
		return;
	p->maps_stale = 1;
	P->any_stale = 1;
	if (p->n_notes == p->cap_notes) {
		p->cap_notes = p->cap_notes ? p->cap_notes * 2 : 8;
		nv = realloc(p->notes, p->cap_notes * sizeof(*nv));
		if (!nv)
			return;
		p->notes = nv;
	}
	n = &p->notes[p->n_notes++];
	n->dev_major = kdev >> 20;
	n->dev_minor = kdev & 0xfffff;
	n->ino = ino;
	n->ts_ns = ts_ns;
	snprintf(n->name, sizeof(n->name), "%s", name ? name : "");
}

/* ---- windows ---------------------------------------------------------------- */

size_t tb_pa_procs_window(tb_pa_procs_t *P, tb_pa_proc_t ***out)
{
	size_t n = 0, cur = 0;
	const char *k;
	void *v;
	tb_pa_proc_t **arr = calloc(tb_map_size(P->live) + P->n_retired + 1, sizeof(tb_pa_proc_t *));

	*out = arr;
	if (!arr)
		return 0;
	for (size_t i = 0; i < P->n_retired; i++)
		arr[n++] = P->retired[i];
	while (tb_map_next(P->live, &cur, &k, &v))
		if (((tb_pa_proc_t *)v)->used_window == P->window)
			arr[n++] = v;
	return n;
}

int tb_pa_procs_in_cgroups(const tb_pa_procs_t *P, const tb_pa_proc_t *p, const uint64_t *ids, size_t n)
{
	char dir[2400];
	struct stat st;
	size_t len;

	if (!p->cgroup_path || !P->cgroup2_root[0])
		return 0;
	snprintf(dir, sizeof(dir), "%s%s", P->cgroup2_root, p->cgroup_path);
	len = strlen(dir);
	while (len >= strlen(P->cgroup2_root)) { /* the cgroup, then each parent */
		dir[len] = '\0';
		if (stat(dir, &st) == 0)
			for (size_t i = 0; i < n; i++)
				if ((uint64_t)st.st_ino == ids[i])
					return 1;
		while (len > 0 && dir[len - 1] != '/')
			len--;
		if (len == 0)
			break;
		len--;
	}
	return 0;
}

size_t tb_pa_procs_all(tb_pa_procs_t *P, tb_pa_proc_t ***out)
{
	size_t n = 0, cur = 0;
	const char *k;
	void *v;
	tb_pa_proc_t **arr = calloc(tb_map_size(P->live) + 1, sizeof(tb_pa_proc_t *));

	*out = arr;
	while (arr && tb_map_next(P->live, &cur, &k, &v))
		arr[n++] = v;
	return n;
}

static int vanished(tb_pa_procs_t *P, const tb_pa_proc_t *p)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u", P->proc_root, p->pid);
	return access(path, F_OK) != 0;
}

void tb_pa_procs_end_window(tb_pa_procs_t *P)
{
	size_t cur = 0;
	const char *k;
	void *v;
	char **dead = NULL;
	size_t n_dead = 0;

	for (size_t i = 0; i < P->n_retired; i++)
		proc_free(P->retired[i]);
	P->n_retired = 0;
	dead = calloc(tb_map_size(P->live) + 1, sizeof(*dead));
	while (dead && tb_map_next(P->live, &cur, &k, &v)) {
		tb_pa_proc_t *p = v;

		if (p->exited || (p->used_window != P->window && vanished(P, p)))
			dead[n_dead++] = strdup(k);
	}
	for (size_t i = 0; i < n_dead; i++) {
		if (dead[i])
			proc_free(tb_map_del(P->live, dead[i]));
		free(dead[i]);
	}
	free(dead);
	P->window++;
}

void tb_pa_procs_scan(tb_pa_procs_t *P, int (*keep)(void *ctx, tb_pa_proc_t *p), void *ctx, int64_t now_ns)
{
	DIR *d = opendir(P->proc_root);
	struct dirent *de;

	if (!d) {
		tb_warn("scan %s: %s", P->proc_root, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		tb_pa_proc_t *p;

		if (!isdigit((unsigned char)de->d_name[0]) || *end || pid == 0 || pid > UINT32_MAX)
			continue;
		if (tb_pa_procs_find(P, (uint32_t)pid))
			continue;
		p = proc_new(P, (uint32_t)pid, NULL, 0, 0);
		if (!p)
			break;
		if (keep && !keep(ctx, p)) {
			char key[16];

			snprintf(key, sizeof(key), "%lu", pid);
			proc_free(tb_map_del(P->live, key));
			continue;
		}
		tb_pa_procs_refresh(P, p, 1, now_ns);
	}
	closedir(d);
}
