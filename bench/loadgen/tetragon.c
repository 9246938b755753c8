/*
 * tetragon.c — Tetragon v1.7 process_kprobe export lines with kernel and user
 * stacks (the shape of tools/demo/tetragon-kprobe.jq and ../shared/TETRAGON.md
 * sections 1.5 and 5), one per pooled stack, pre-built once.
 *
 * "time" is the last member of each object, so a message is the pre-built
 * prefix followed by a fresh time and `"}`: the hot loop copies bytes and
 * formats 30 characters, nothing else. The time is the only field that
 * differs between two messages of the same stack, and it is part of the
 * event identity, so every message is a distinct event.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"

typedef struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
} sbuf_t;

static void put(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

static void base64(const char *in, char *out, size_t cap)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
		size_t k = n - i;

		if (k > 1)
			v |= (uint32_t)(unsigned char)in[i + 1] << 8;
		if (k > 2)
			v |= (uint32_t)(unsigned char)in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = k > 1 ? tbl[(v >> 6) & 63] : '=';
		out[o++] = k > 2 ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

static void put_process(sbuf_t *b, const lg_proc_t *p)
{
	char exec_b64[160];

	base64(p->exec_id, exec_b64, sizeof(exec_b64));
	put(b,
	    "{\"exec_id\":\"%s\",\"pid\":%u,\"uid\":1000,\"binary\":\"%s\",\"flags\":\"execve clone\","
	    "\"start_time\":\"2026-11-24T00:00:00.000000000Z\",\"pod\":{\"namespace\":\"shop\",\"name\":\"%s-"
	    "7d9f\","
	    "\"workload\":\"%s\",\"workload_kind\":\"Deployment\",\"container\":{\"id\":\"%s\",\"name\":\"%"
	    "s\","
	    "\"image\":{\"id\":\"registry.example/shop@%s\",\"name\":\"registry.example/"
	    "shop:1.%d\"}}},\"tid\":%u}",
	    exec_b64, p->pid, lg_modules[0].path, p->workload, p->workload, p->container_id, p->workload,
	    p->image_digest, p->artifact, p->pid);
}

static void put_stacks(sbuf_t *b, const lg_world_t *w, const lg_stack_t *s, int kernel_first)
{
	put(b, "\"kernel_stack_trace\":[");
	for (int i = 0; i < 4; i++) {
		const char *sym = lg_kernel_syms[((size_t)kernel_first + (size_t)i) % lg_n_kernel_syms];

		put(b, "%s{\"offset\":\"%d\",\"symbol\":\"%s\"}", i ? "," : "", 5 + 16 * i, sym);
	}
	put(b, "],\"user_stack_trace\":[");
	for (int f = 0; f < s->n; f++) {
		const lg_symbol_t *sym = &w->syms[s->frames[f].symbol];

		put(b, "%s{\"offset\":\"%llu\",\"symbol\":\"%s\",\"module\":\"%s\"}", f ? "," : "",
		    (unsigned long long)sym->offset + s->frames[f].delta, sym->name,
		    lg_modules[sym->module].path);
	}
	put(b, "]");
}

static int build_one(const lg_world_t *w, int k, lg_json_msg_t *m, tb_err_t *err)
{
	const lg_stack_t *s = &w->stacks[k];
	const lg_proc_t *p = &w->procs[s->proc];
	sbuf_t b = {0};

	put(&b, "{\"process_kprobe\":{\"process\":");
	put_process(&b, p);
	put(&b,
	    ",\"function_name\":\"%s\",\"action\":\"KPROBE_ACTION_POST\",\"policy_name\":\"tb-bench-"
	    "stacks\",",
	    lg_kernel_syms[(size_t)k % 2 ? 0 : 5]);
	put_stacks(&b, w, s, k % 2 ? 0 : 5);
	put(&b, "},\"node_name\":\"node-%d\",\"time\":\"", p->node);
	if (b.oom) {
		free(b.p);
		return tb_err(err, "loadgen: out of memory building message %d", k);
	}
	m->prefix = b.p;
	m->prefix_len = b.len;
	snprintf(m->key, sizeof(m->key), "node-%d/%s", p->node, p->exec_id);
	return 0;
}

int lg_tetragon_pool(const lg_world_t *w, lg_json_msg_t **out, tb_err_t *err)
{
	lg_json_msg_t *pool = calloc((size_t)w->o.pool, sizeof(*pool));

	if (!pool)
		return tb_err(err, "loadgen: out of memory for %d messages", w->o.pool);
	for (int k = 0; k < w->o.pool; k++) {
		if (build_one(w, k, &pool[k], err) < 0) {
			lg_tetragon_pool_free(pool, (size_t)k);
			return -1;
		}
	}
	*out = pool;
	return 0;
}

void lg_tetragon_pool_free(lg_json_msg_t *pool, size_t n)
{
	if (!pool)
		return;
	for (size_t i = 0; i < n; i++)
		free(pool[i].prefix);
	free(pool);
}

size_t lg_time_suffix(int64_t ns, char *dst)
{
	static __thread time_t cached_sec = -1;
	static __thread char cached[24]; /* "2026-11-24T21:52:01." */
	time_t sec = (time_t)(ns / 1000000000LL);
	long frac = (long)(ns % 1000000000LL);

	if (sec != cached_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S.", &tm);
		cached_sec = sec;
	}
	memcpy(dst, cached, 20);
	for (int i = 28; i >= 20; i--) {
		dst[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	memcpy(dst + 29, "Z\"}", 3);
	dst[32] = '\0';
	return 32;
}
