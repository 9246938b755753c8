/*
 * test_canon_util.h — helpers for the canonicalizer tests: a RuntimeEvent
 * full of things that must not leak (argv, env, cwd, home paths, raw
 * addresses, node name, uid), and a dump of every string and number of a
 * CanonicalEvent so tests can scan the whole output and compare outputs
 * byte for byte.
 */
#ifndef TEST_CANON_UTIL_H
#define TEST_CANON_UTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/records.h"

/* Values planted in the sample event; none may appear in the output. */
#define SECRET_ARG "hunter2-arg-value"
#define SECRET_ENV "s3cr3t-env-value"
#define SECRET_CWD "project-cwd-dir"
#define HOME_USER "alice"
#define NODE_NAME "node-7.example.internal"
#define UID_VALUE 4711
#define K_ADDR0 0xffffffffa13f2de5ULL
#define K_ADDR1 0xffffffffa1001234ULL
#define U_ADDR0 0x55d0c0de1139ULL
#define U_ADDR1 0x7f878cf2752bULL
#define U_ADDR2 0x7f12deadbeefULL
#define APP_BUILD_ID "B08000C5AB536B2B6C3A0E53382A2733C4319C8D"
#define LIBC_BUILD_ID "e7f86c77ac43a2bb8ef9c1e9a4ba4e0f5b0c8c11"

static inline char *xdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static inline void raw_frame(tb_raw_frame_t *f, uint64_t addr, const char *module, uint64_t off,
			     const char *sym, const char *bid)
{
	f->has_address = addr != 0;
	f->address = addr;
	f->module = module ? xdup(module) : NULL;
	f->offset = off;
	f->symbol = sym ? xdup(sym) : NULL;
	f->build_id = bid ? xdup(bid) : NULL;
}

/* A uprobe/kprobe-like event with two kernel and three user frames. */
static inline tb_runtime_event_t *sample_event(void)
{
	tb_runtime_event_t *ev = calloc(1, sizeof(*ev));

	if (!ev)
		abort();
	for (int i = 0; i < TB_EVENT_ID_LEN; i++)
		ev->event_id[i] = (uint8_t)(0xa0 + i);
	ev->tenant = xdup("t1");
	ev->source = xdup("tetragon");
	ev->kind = xdup("kprobe");
	ev->ts_ns = 1764000000123456789LL;
	ev->node = xdup(NODE_NAME);
	ev->process.pid = 4242;
	ev->process.tid = 4243;
	ev->process.uid = UID_VALUE;
	ev->process.binary = xdup("/home/" HOME_USER "/bin/app");
	ev->process.binary_build_id = xdup(APP_BUILD_ID);
	ev->process.args = xdup("--password " SECRET_ARG " --verbose");
	ev->process.cwd = xdup("/home/" HOME_USER "/" SECRET_CWD);
	/* base64("node-7.example.internal:13548674321373:4242") */
	ev->process.exec_id = xdup("bm9kZS03LmV4YW1wbGUuaW50ZXJuYWw6MTM1NDg2NzQzMjEzNzM6NDI0Mg==");
	ev->process.parent_exec_id = xdup("bm9kZS03OjE6MQ==");
	ev->process.comm = xdup("app");
	ev->process.n_env = 2;
	ev->process.env = calloc(2, sizeof(char *));
	if (!ev->process.env)
		abort();
	ev->process.env[0] = xdup("API_TOKEN=" SECRET_ENV);
	ev->process.env[1] = xdup("HOME=/home/" HOME_USER);
	ev->container.id = xdup("3f2a9c0d5e1b");
	ev->container.name = xdup("app");
	ev->container.image = xdup("registry.example/app:1.2.3");
	ev->container.image_digest =
	    xdup("sha256:aaaa000000000000000000000000000000000000000000000000000000000000");
	ev->container.pod = xdup("app-7d9f8-xk2lp");
	ev->container.namespace_ = xdup("shop");
	ev->container.workload = xdup("app");
	ev->container.workload_kind = xdup("Deployment");
	ev->container.cgroup_id = 12345;
	ev->n_kernel_frames = 2;
	ev->kernel_frames = calloc(2, sizeof(tb_raw_frame_t));
	ev->n_user_frames = 3;
	ev->user_frames = calloc(3, sizeof(tb_raw_frame_t));
	if (!ev->kernel_frames || !ev->user_frames)
		abort();
	raw_frame(&ev->kernel_frames[0], K_ADDR0, NULL, 5, "kfree_skb_reason", NULL);
	raw_frame(&ev->kernel_frames[1], K_ADDR1, "[nf_tables]", 0x40, "nft_do_chain.isra.0", NULL);
	raw_frame(&ev->user_frames[0], U_ADDR0, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x12752b, "__connect",
		  LIBC_BUILD_ID);
	raw_frame(&ev->user_frames[1], U_ADDR1, "/home/" HOME_USER "/bin/app", 0x1139,
		  "_ZN3net6Client7connectIiEEvT_.constprop.0", APP_BUILD_ID);
	raw_frame(&ev->user_frames[2], U_ADDR2, "/home/" HOME_USER "/bin/app", 0x2000, "0x7f12deadbeef",
		  NULL);
	ev->count = 3;
	ev->hook = xdup("tcp_connect");
	ev->policy = xdup("connect-policy");
	ev->origin = xdup("tb.tetragon.raw.v1/3@1200");
	return ev;
}

static inline void sample_free(tb_runtime_event_t *ev)
{
	tb_runtime_event_clear(ev);
	free(ev);
}

typedef struct dump {
	char *s;
	size_t len, cap;
} dump_t;

static inline void dump_add(dump_t *d, const char *key, const char *val)
{
	size_t need = strlen(key) + (val ? strlen(val) : 6) + 3;

	if (d->len + need + 1 > d->cap) {
		d->cap = (d->len + need + 1) * 2;
		d->s = realloc(d->s, d->cap);
		if (!d->s)
			abort();
	}
	d->len += (size_t)sprintf(d->s + d->len, "%s=%s\n", key, val ? val : "(null)");
}

static inline void dump_u64(dump_t *d, const char *key, uint64_t v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%" PRIu64 " 0x%" PRIx64, v, v);
	dump_add(d, key, buf);
}

/* Every field of a CanonicalEvent as "key=value" lines (numbers in decimal
 * and hex). The caller frees the result. */
static inline char *event_dump(const tb_event_t *ev)
{
	dump_t d = {0};
	char hex[2 * TB_EVENT_ID_LEN + 1];

	for (int i = 0; i < TB_EVENT_ID_LEN; i++)
		sprintf(hex + 2 * i, "%02x", ev->event_id[i]);
	dump_add(&d, "event_id", hex);
	dump_add(&d, "tenant", ev->tenant);
	dump_add(&d, "source", ev->source);
	dump_add(&d, "kind", ev->kind);
	dump_u64(&d, "ts_ns", (uint64_t)ev->ts_ns);
	dump_add(&d, "node", ev->node);
	dump_u64(&d, "pid", ev->pid);
	dump_u64(&d, "tid", ev->tid);
	dump_add(&d, "uid_hash", ev->uid_hash);
	dump_add(&d, "binary", ev->binary);
	dump_add(&d, "exec_id", ev->exec_id);
	dump_add(&d, "container.id", ev->container.id);
	dump_add(&d, "container.name", ev->container.name);
	dump_add(&d, "container.image", ev->container.image);
	dump_add(&d, "container.image_digest", ev->container.image_digest);
	dump_add(&d, "container.pod", ev->container.pod);
	dump_add(&d, "container.namespace", ev->container.namespace_);
	dump_add(&d, "container.workload", ev->container.workload);
	dump_add(&d, "container.workload_kind", ev->container.workload_kind);
	dump_u64(&d, "container.cgroup_id", ev->container.cgroup_id);
	for (size_t i = 0; i < ev->n_frames; i++) {
		const tb_canon_frame_t *f = &ev->frames[i];

		dump_u64(&d, "frame.id", (uint64_t)f->frame_id);
		dump_add(&d, "frame.build_id", f->build_id);
		dump_add(&d, "frame.module", f->module);
		dump_u64(&d, "frame.file_offset", f->file_offset);
		dump_add(&d, "frame.symbol", f->symbol);
		dump_u64(&d, "frame.kernel", (uint64_t)f->kernel);
	}
	dump_u64(&d, "stack_id", (uint64_t)ev->stack_id);
	dump_u64(&d, "leaf_frame_id", (uint64_t)ev->leaf_frame_id);
	dump_u64(&d, "count", (uint64_t)ev->count);
	dump_add(&d, "hook", ev->hook);
	dump_add(&d, "policy", ev->policy);
	dump_add(&d, "path", ev->path);
	dump_add(&d, "build_id", ev->build_id);
	return d.s;
}

#endif
