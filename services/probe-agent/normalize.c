/*
 * normalize.c — stack addresses -> (build-id, file offset, module, symbol)
 * and kernel (symbol, offset, module); rules in normalize.h.
 */
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "normalize.h"

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static void user_frame(tb_pa_elfcache_t *E, tb_pa_proc_t *p, const tb_pa_map_t *m, uint64_t addr,
		       tb_probe_uframe_t *f, tb_pa_norm_stats_t *st, int *oom)
{
	tb_pa_module_t *mod;
	const char *sym;
	int vdso = m->path && strcmp(m->path, "[vdso]") == 0;

	if (!vdso && !tb_pa_map_is_file(m)) {
		st->anon++;
		f->module = dup_or_null("[anon]", oom);
		f->file_offset = addr - m->start;
		return;
	}
	f->file_offset = addr - m->start + (vdso ? 0 : m->pgoff);
	mod = tb_pa_elfcache_module(E, p->pid, m);
	f->module = dup_or_null(m->path, oom);
	if (!mod)
		return;
	if (!mod->build_id)
		st->no_build_id++;
	f->build_id = dup_or_null(mod->build_id, oom);
	sym = tb_pa_elfcache_symbol(E, mod, p->pid, m, f->file_offset);
	if (sym && sym[0]) {
		f->symbol = dup_or_null(sym, oom);
		st->symbolized++;
	}
}

int tb_pa_normalize_user(tb_pa_procs_t *P, tb_pa_elfcache_t *E, tb_pa_proc_t *p, const uint64_t *ips,
			 size_t n, int64_t now_ns, tb_probe_uframe_t **out, tb_pa_norm_stats_t *st)
{
	tb_probe_uframe_t *v = calloc(n ? n : 1, sizeof(*v));
	int oom = 0;

	*out = v;
	if (!v)
		return -1;
	for (size_t i = 0; i < n && !oom; i++) {
		uint64_t addr = i == 0 ? ips[i] : ips[i] - 1;
		const tb_pa_map_t *m = tb_pa_maps_find(&p->maps, addr);

		st->user_frames++;
		if (!m && tb_pa_procs_refresh(P, p, 1, now_ns) == 0)
			m = tb_pa_maps_find(&p->maps, addr);
		if (!m) {
			st->unmapped++;
			v[i].module = dup_or_null("[unknown]", &oom);
			continue;
		}
		user_frame(E, p, m, addr, &v[i], st, &oom);
	}
	if (oom) {
		tb_pa_uframes_free(v, n);
		*out = NULL;
		return -1;
	}
	return 0;
}

int tb_pa_normalize_kernel(const tb_pa_ksyms_t *K, const uint64_t *ips, size_t n, tb_probe_kframe_t **out,
			   tb_pa_norm_stats_t *st)
{
	tb_probe_kframe_t *v = calloc(n ? n : 1, sizeof(*v));
	int oom = 0;

	*out = v;
	if (!v)
		return -1;
	for (size_t i = 0; i < n && !oom; i++) {
		uint64_t addr = i == 0 ? ips[i] : ips[i] - 1, off = 0;
		const char *name = NULL, *mod = NULL;

		st->kernel_frames++;
		if (!K || !tb_pa_ksyms_lookup(K, addr, &name, &off, &mod)) {
			st->kernel_unresolved++;
			v[i].symbol = dup_or_null("", &oom);
			continue;
		}
		v[i].symbol = dup_or_null(name, &oom);
		v[i].offset = off;
		v[i].module = dup_or_null(mod, &oom);
	}
	if (oom) {
		tb_pa_kframes_free(v, n);
		*out = NULL;
		return -1;
	}
	return 0;
}
