/*
 * canon.c — RuntimeEvent -> CanonicalEvent (see canon.h for the contract).
 *
 * One pass: identity fields are copied, privacy-governed fields come from
 * tb_privacy_apply, then every raw frame becomes a canonical frame (symbol
 * from the frame or the symbol store, canonical text, module basename,
 * ASLR-free offset) and gets its id; the stack id folds the frame ids in
 * order. Nothing here keeps state between events except metric counters
 * and the sysroot cache (module path -> build-id of the file under the symbol
 * dir, a pure function of the store's files, so it changes no output).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "symbolize.h"
#include "tb/elf.h"
#include "tb/hash.h"
#include "tb/log.h"
#include "tb/map.h"

/* Distinct module paths whose sysroot build-id is remembered; past this,
 * lookups still work, uncached. */
#define SYSROOT_CACHE_MAX 65536

struct tb_canon {
	tb_privacy_t *privacy;
	tb_symstore_t *store;
	tb_dbgd_t *dbgd;       /* NULL: no debuginfod */
	const char *sysroot;   /* the symbol dir, for frames without build-id */
	pthread_mutex_t lock;  /* guards sysroot_ids */
	tb_map_t *sysroot_ids; /* module path -> malloc'd build-id ("" = none) */
	tb_metric_t *sym_found;
	tb_metric_t *sym_missing;
	tb_metric_t *sym_error;
	tb_metric_t *frames;
};

static void inc(tb_metric_t *m)
{
	if (m)
		tb_metric_inc(m);
}

tb_canon_t *tb_canon_new(const tb_canon_config_t *cfg, tb_err_t *err)
{
	tb_canon_t *c;

	if (!cfg || !cfg->privacy) {
		tb_err(err, "canonicalizer: a privacy policy is required");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		tb_err(err, "canonicalizer: out of memory");
		return NULL;
	}
	c->privacy = cfg->privacy;
	c->store = cfg->symstore;
	c->dbgd = cfg->symstore ? cfg->debuginfod : NULL;
	if (cfg->symstore && cfg->sysroot && cfg->sysroot[0]) {
		c->sysroot = cfg->sysroot;
		c->sysroot_ids = tb_map_new(64);
		if (!c->sysroot_ids) {
			free(c);
			tb_err(err, "canonicalizer: out of memory");
			return NULL;
		}
	}
	pthread_mutex_init(&c->lock, NULL);
	if (cfg->metrics) {
		const char *help = "Symbol store lookups for frames without a symbol, by result";

		c->sym_found = tb_metrics_counter(cfg->metrics, "symbolize_total", help, "result=\"found\"");
		c->sym_missing =
		    tb_metrics_counter(cfg->metrics, "symbolize_total", help, "result=\"not_found\"");
		c->sym_error = tb_metrics_counter(cfg->metrics, "symbolize_total", help, "result=\"error\"");
		c->frames =
		    tb_metrics_counter(cfg->metrics, "frames_total", "Canonical frames produced", NULL);
	}
	return c;
}

void tb_canon_free(tb_canon_t *c)
{
	if (!c)
		return;
	tb_map_free(c->sysroot_ids, free);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- ids ------------------------------------------------------------------ */

int64_t tb_canon_frame_id(const tb_canon_frame_t *f)
{
	tb_hasher_t h;
	int has_bid = f->build_id && f->build_id[0];

	tb_hasher_init(&h, "frame.v1");
	tb_hasher_u64(&h, f->kernel ? 1 : 0);
	tb_hasher_u64(&h, has_bid ? 1 : 0);
	tb_hasher_str(&h, has_bid ? f->build_id : (f->module ? f->module : ""));
	tb_hasher_u64(&h, f->file_offset);
	tb_hasher_str(&h, f->symbol ? f->symbol : "");
	return tb_hasher_final64(&h);
}

int64_t tb_canon_stack_id(const tb_canon_frame_t *frames, size_t n)
{
	tb_hasher_t h;
	int64_t id;

	if (n == 0)
		return 0;
	tb_hasher_init(&h, "stack.v1");
	tb_hasher_u64(&h, n);
	for (size_t i = 0; i < n; i++)
		tb_hasher_u64(&h, (uint64_t)frames[i].frame_id);
	id = tb_hasher_final64(&h);
	return id ? id : 1;
}

/* ---- frames --------------------------------------------------------------- */

/* Lowercase hex build-id, or "" when it is not 2..128 hex digits. */
static char *norm_build_id(const char *in)
{
	size_t n = in ? strlen(in) : 0;
	char *out;

	if (n < 2 || n > 128 || strspn(in, "0123456789abcdefABCDEF") != n)
		return strdup("");
	out = strdup(in);
	for (size_t i = 0; out && i < n; i++)
		if (out[i] >= 'A' && out[i] <= 'F')
			out[i] = (char)(out[i] - 'A' + 'a');
	return out;
}

/* A module path that may be looked up under the sysroot: absolute, no ".."
 * part (it must not climb out of the symbol dir), not too long. */
static int sysroot_path_ok(const char *module)
{
	const char *p = module;

	if (!module || module[0] != '/' || strlen(module) >= PATH_MAX / 2)
		return 0;
	while ((p = strstr(p, "..")) != NULL) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return 0;
		p += 2;
	}
	return 1;
}

/* Build-id of SYSROOT/MODULE when that file is an ELF the store indexed;
 * malloc'd, "" when there is none. NULL only when out of memory. */
static char *sysroot_build_id_read(tb_canon_t *c, const char *module)
{
	char path[PATH_MAX];
	tb_elf_t *e;
	tb_err_t err;
	char *bid;

	if (snprintf(path, sizeof(path), "%s%s", c->sysroot, module) >= (int)sizeof(path))
		return strdup("");
	tb_err_clear(&err);
	e = tb_elf_open(path, &err);
	if (!e)
		return strdup("");
	bid = strdup(tb_elf_build_id(e));
	tb_elf_close(e);
	if (bid && bid[0] && !tb_symstore_has(c->store, bid))
		bid[0] = '\0';
	return bid;
}

/* The frame's build-id when the event gave none: the build-id of the file
 * at the same path under the symbol dir (see canon.h). */
static char *sysroot_build_id(tb_canon_t *c, const char *module)
{
	char *bid, *cached;

	if (!c->sysroot || !sysroot_path_ok(module))
		return strdup("");
	pthread_mutex_lock(&c->lock);
	cached = tb_map_get(c->sysroot_ids, module);
	bid = cached ? strdup(cached) : NULL;
	pthread_mutex_unlock(&c->lock);
	if (cached)
		return bid;
	bid = sysroot_build_id_read(c, module);
	if (!bid)
		return NULL;
	pthread_mutex_lock(&c->lock);
	if (tb_map_size(c->sysroot_ids) < SYSROOT_CACHE_MAX && !tb_map_get(c->sysroot_ids, module)) {
		cached = strdup(bid);
		if (cached)
			tb_map_put(c->sysroot_ids, module, cached);
	}
	pthread_mutex_unlock(&c->lock);
	return bid;
}

static char *module_name(tb_canon_t *c, const char *module, int kernel)
{
	const char *base;
	size_t n;
	char *out;

	if (!module || !module[0])
		return strdup("");
	if (kernel) {
		n = strlen(module);
		if (n >= 2 && module[0] == '[' && module[n - 1] == ']')
			return strndup(module + 1, n - 2);
		return strdup(module);
	}
	base = strrchr(module, '/');
	out = tb_privacy_text(c->privacy, base ? base + 1 : module);
	return out;
}

/* The raw symbol to canonicalize: the frame's, or the store's. *owned is
 * set when the returned string must be freed. */
static const char *raw_symbol(tb_canon_t *c, const tb_raw_frame_t *rf, const char *build_id, uint64_t off,
			      int kernel, char **owned)
{
	tb_err_t err;
	int rc;

	*owned = NULL;
	/* A symbol that is only an address is no symbol (and never passed on). */
	if (rf->symbol && rf->symbol[0] && !tb_privacy_symbol_is_address(c->privacy, rf->symbol))
		return rf->symbol;
	if (kernel || !build_id[0] || !c->store)
		return "";
	tb_err_clear(&err);
	if (c->dbgd && tb_dbgd_fetch(c->dbgd, c->store, build_id, &err) < 0)
		tb_debug("debuginfod %s: %s", build_id, err.msg);
	rc = tb_symbolize_frame(c->store, build_id, off, owned, &err);
	if (rc == 1) {
		inc(c->sym_found);
		return *owned;
	}
	if (rc < 0) {
		inc(c->sym_error);
		tb_debug("symbolize %s+0x%llx: %s", build_id, (unsigned long long)off, err.msg);
	} else {
		inc(c->sym_missing);
	}
	return "";
}

static int canon_frame(tb_canon_t *c, const tb_raw_frame_t *rf, int kernel, tb_canon_frame_t *f)
{
	char *owned = NULL;
	const char *raw;
	uint64_t off = rf->offset;

	f->kernel = kernel;
	f->build_id = norm_build_id(rf->build_id);
	if (!kernel && f->build_id && !f->build_id[0]) {
		free(f->build_id);
		f->build_id = sysroot_build_id(c, rf->module);
	}
	f->module = module_name(c, rf->module, kernel);
	if (!f->build_id || !f->module)
		return -1;
	/* An adapter put the address where the offset goes: never pass it on
	 * (counted with the frame's address under rule "addresses"). */
	if (!kernel && rf->has_address && off == rf->address)
		off = 0;
	raw = raw_symbol(c, rf, f->build_id, off, kernel, &owned);
	f->symbol = tb_canon_symbol(raw);
	free(owned);
	if (!f->symbol)
		return -1;
	f->file_offset = kernel && !f->symbol[0] ? 0 : off;
	f->frame_id = tb_canon_frame_id(f);
	inc(c->frames);
	return 0;
}

static int canon_frames(tb_canon_t *c, const tb_runtime_event_t *in, tb_event_t *out, tb_err_t *err)
{
	size_t n = in->n_kernel_frames + in->n_user_frames, k = 0;

	if (in->n_kernel_frames > TB_MAX_FRAMES || in->n_user_frames > TB_MAX_FRAMES)
		return tb_err(err, "stack too deep: %zu kernel and %zu user frames (max %d each)",
			      in->n_kernel_frames, in->n_user_frames, TB_MAX_FRAMES);
	if ((in->n_kernel_frames && !in->kernel_frames) || (in->n_user_frames && !in->user_frames))
		return tb_err(err, "frame count without frames");
	if (n == 0)
		return 0;
	out->frames = calloc(n, sizeof(*out->frames));
	if (!out->frames)
		return tb_err(err, "out of memory");
	for (size_t i = 0; i < in->n_kernel_frames; i++, k++) {
		out->n_frames = k + 1;
		if (canon_frame(c, &in->kernel_frames[i], 1, &out->frames[k]) < 0)
			return tb_err(err, "out of memory");
	}
	for (size_t i = 0; i < in->n_user_frames; i++, k++) {
		out->n_frames = k + 1;
		if (canon_frame(c, &in->user_frames[i], 0, &out->frames[k]) < 0)
			return tb_err(err, "out of memory");
	}
	out->stack_id = tb_canon_stack_id(out->frames, n);
	out->leaf_frame_id = out->frames[0].frame_id;
	return 0;
}

/* ---- event ---------------------------------------------------------------- */

/* The event's main build-id: NULL (absent) when there is none. */
static int event_build_id(const tb_runtime_event_t *in, tb_event_t *out)
{
	const char *bid = in->build_id && in->build_id[0] ? in->build_id : in->process.binary_build_id;

	out->build_id = norm_build_id(bid);
	if (!out->build_id)
		return -1;
	if (!out->build_id[0]) {
		free(out->build_id);
		out->build_id = NULL;
	}
	return 0;
}

static int copy_identity(const tb_runtime_event_t *in, tb_event_t *out)
{
	memcpy(out->event_id, in->event_id, sizeof(out->event_id));
	out->tenant = strdup(in->tenant ? in->tenant : "");
	out->source = strdup(in->source ? in->source : "");
	out->kind = strdup(in->kind ? in->kind : "");
	out->policy = in->policy ? strdup(in->policy) : NULL;
	out->ts_ns = in->ts_ns;
	out->pid = in->process.pid;
	out->tid = in->process.tid;
	/* an attached uprobe keeps an exact 0 (evidence of absence, see 007) */
	out->count = in->attached && in->count == 0 ? 0 : in->count < 1 ? 1 : in->count;
	out->attached = in->attached;
	out->component_purl = in->component_purl ? strdup(in->component_purl) : NULL;
	if (!out->tenant || !out->source || !out->kind || (in->policy && !out->policy) ||
	    (in->component_purl && !out->component_purl))
		return -1;
	return event_build_id(in, out);
}

int tb_canon_event(tb_canon_t *c, const tb_runtime_event_t *in, tb_event_t *out, tb_err_t *err)
{
	if (copy_identity(in, out) < 0) {
		tb_err(err, "out of memory");
		goto fail;
	}
	if (tb_privacy_apply(c->privacy, in, out, err) < 0)
		goto fail;
	if (canon_frames(c, in, out, err) < 0)
		goto fail;
	return 0;
fail:
	tb_event_clear(out);
	return -1;
}
