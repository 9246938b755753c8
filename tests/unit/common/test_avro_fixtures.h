/*
 * Fixtures shared by the test_avro*.c binaries: records with every field
 * populated (heap-owned, so the *_clear functions release them), comparison
 * helpers that print what was expected and what came back, and a helper
 * that writes Avro with avro-c from JSON, so tests can produce messages of
 * any writer schema with an implementation that is not ours.
 *
 * Included by each test file (one binary each), hence static functions.
 */
#ifndef TEST_AVRO_FIXTURES_H
#define TEST_AVRO_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <avro.h>
#include <jansson.h>

#include "tb/avro.h"
#include "tb/records.h"

#define S(x) strdup(x)
/* Each test binary uses some of the fixtures. */
#define FIXTURE static __attribute__((unused))

/* ---- comparisons that say what differs -------------------------------------- */

#define EXPECT_STR(want, got) expect_str_(#got, (want), (got), 0, __FILE__, __LINE__)
/* A non-nullable field: a NULL `want` was written as "" and must read as "". */
#define EXPECT_REQ(want, got) expect_str_(#got, (want), (got), 1, __FILE__, __LINE__)
#define EXPECT_INT(want, got) expect_int_(#got, (int64_t)(want), (int64_t)(got), __FILE__, __LINE__)

FIXTURE void expect_str_(const char *what, const char *want, const char *got, int required, const char *file,
			 int line)
{
	if (required && !want)
		want = "";
	if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
		print_error("%s:%d: %s: expected %s%s%s, got %s%s%s\n", file, line, what, want ? "\"" : "",
			    want ? want : "NULL", want ? "\"" : "", got ? "\"" : "", got ? got : "NULL",
			    got ? "\"" : "");
		_fail(file, line);
	}
}

FIXTURE void expect_int_(const char *what, int64_t want, int64_t got, const char *file, int line)
{
	if (want != got) {
		print_error("%s:%d: %s: expected %lld, got %lld\n", file, line, what, (long long)want,
			    (long long)got);
		_fail(file, line);
	}
}

FIXTURE void expect_bytes_(const char *what, const uint8_t *want, size_t wlen, const uint8_t *got,
			   size_t glen, const char *file, int line)
{
	if ((want == NULL) != (got == NULL) || wlen != glen || (wlen && memcmp(want, got, wlen))) {
		print_error("%s:%d: %s: expected %zu bytes%s, got %zu bytes%s\n", file, line, what, wlen,
			    want ? "" : " (NULL)", glen, got ? "" : " (NULL)");
		_fail(file, line);
	}
}
#define EXPECT_BYTES(w, wl, g, gl) expect_bytes_(#g, (w), (wl), (g), (gl), __FILE__, __LINE__)

FIXTURE uint8_t *memdup(const void *p, size_t n)
{
	uint8_t *out = malloc(n ? n : 1);

	memcpy(out, p, n);
	return out;
}

/* ---- RuntimeEvent ------------------------------------------------------------- */

FIXTURE void fill_raw_frame(tb_raw_frame_t *f, int i, int kernel)
{
	char buf[64];

	f->has_address = 1;
	f->address = kernel ? 0xffffffff81000000ULL + (uint64_t)i * 0x40 : 0x7f0000001000ULL + i;
	snprintf(buf, sizeof(buf), kernel ? "[mod%d]" : "/usr/lib/libfoo-%d.so", i);
	f->module = S(buf);
	f->offset = 0x1000 + (uint64_t)i;
	snprintf(buf, sizeof(buf), "func_%d", i);
	f->symbol = S(buf);
	f->build_id = S("0123456789abcdef0123456789abcdef01234567");
}

FIXTURE void fill_runtime_event(tb_runtime_event_t *ev, size_t n_frames)
{
	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < TB_EVENT_ID_LEN; i++)
		ev->event_id[i] = (uint8_t)(0xf0 + i);
	ev->tenant = S("tenant-a");
	ev->source = S("tetragon");
	ev->kind = S("kprobe");
	ev->ts_ns = 1732470000123456789LL;
	ev->node = S("node-1.example");
	ev->process.pid = UINT32_MAX;
	ev->process.tid = 4242;
	ev->process.uid = -1;
	ev->process.binary = S("/usr/bin/curl");
	ev->process.binary_build_id = S("aa11");
	ev->process.args = S("-s https://example.com/\xc3\xa9t\xc3\xa9");
	ev->process.cwd = S("/home/alice");
	ev->process.exec_id = S("node-1:123:4242");
	ev->process.parent_exec_id = S("node-1:100:1");
	ev->process.comm = S("curl");
	ev->process.n_env = 2;
	ev->process.env = calloc(2, sizeof(char *));
	ev->process.env[0] = S("HOME=/home/alice");
	ev->process.env[1] = S("LANG=C.UTF-8");
	ev->container.id = S("c0ffee");
	ev->container.name = S("web");
	ev->container.image = S("nginx:1.27");
	ev->container.image_digest = S("sha256:abcd");
	ev->container.pod = S("web-5d9");
	ev->container.namespace_ = S("prod");
	ev->container.workload = S("web");
	ev->container.workload_kind = S("Deployment");
	ev->container.cgroup_id = 0x8000000000000001ULL;
	ev->n_kernel_frames = n_frames;
	ev->kernel_frames = calloc(n_frames + 1, sizeof(tb_raw_frame_t));
	ev->n_user_frames = n_frames;
	ev->user_frames = calloc(n_frames + 1, sizeof(tb_raw_frame_t));
	for (size_t i = 0; i < n_frames; i++) {
		fill_raw_frame(&ev->kernel_frames[i], (int)i, 1);
		fill_raw_frame(&ev->user_frames[i], (int)i, 0);
	}
	ev->count = 7;
	ev->hook = S("security_file_open");
	ev->policy = S("file-monitoring");
	ev->path = S("/etc/passwd");
	ev->build_id = S("bb22");
	ev->origin = S("tb.tetragon.raw.v1/3@1200");
}

FIXTURE void expect_raw_frame(const tb_raw_frame_t *w, const tb_raw_frame_t *g)
{
	EXPECT_INT(w->has_address, g->has_address);
	if (w->has_address)
		EXPECT_INT(w->address, g->address);
	EXPECT_STR(w->module, g->module);
	EXPECT_INT(w->offset, g->offset);
	EXPECT_STR(w->symbol, g->symbol);
	EXPECT_STR(w->build_id, g->build_id);
}

FIXTURE void expect_container(const tb_container_t *w, const tb_container_t *g)
{
	EXPECT_STR(w->id, g->id);
	EXPECT_STR(w->name, g->name);
	EXPECT_STR(w->image, g->image);
	EXPECT_STR(w->image_digest, g->image_digest);
	EXPECT_STR(w->pod, g->pod);
	EXPECT_STR(w->namespace_, g->namespace_);
	EXPECT_STR(w->workload, g->workload);
	EXPECT_STR(w->workload_kind, g->workload_kind);
	EXPECT_INT(w->cgroup_id, g->cgroup_id);
}

FIXTURE void expect_runtime_event(const tb_runtime_event_t *w, const tb_runtime_event_t *g)
{
	EXPECT_BYTES(w->event_id, TB_EVENT_ID_LEN, g->event_id, TB_EVENT_ID_LEN);
	EXPECT_REQ(w->tenant, g->tenant);
	EXPECT_REQ(w->source, g->source);
	EXPECT_REQ(w->kind, g->kind);
	EXPECT_INT(w->ts_ns, g->ts_ns);
	EXPECT_REQ(w->node, g->node);
	EXPECT_INT(w->process.pid, g->process.pid);
	EXPECT_INT(w->process.tid, g->process.tid);
	EXPECT_INT(w->process.uid, g->process.uid);
	EXPECT_REQ(w->process.binary, g->process.binary);
	EXPECT_STR(w->process.binary_build_id, g->process.binary_build_id);
	EXPECT_STR(w->process.args, g->process.args);
	EXPECT_STR(w->process.cwd, g->process.cwd);
	EXPECT_REQ(w->process.exec_id, g->process.exec_id);
	EXPECT_STR(w->process.parent_exec_id, g->process.parent_exec_id);
	EXPECT_STR(w->process.comm, g->process.comm);
	EXPECT_INT(w->process.n_env, g->process.n_env);
	for (size_t i = 0; i < w->process.n_env; i++)
		EXPECT_STR(w->process.env[i], g->process.env[i]);
	expect_container(&w->container, &g->container);
	EXPECT_INT(w->n_kernel_frames, g->n_kernel_frames);
	for (size_t i = 0; i < w->n_kernel_frames; i++)
		expect_raw_frame(&w->kernel_frames[i], &g->kernel_frames[i]);
	EXPECT_INT(w->n_user_frames, g->n_user_frames);
	for (size_t i = 0; i < w->n_user_frames; i++)
		expect_raw_frame(&w->user_frames[i], &g->user_frames[i]);
	EXPECT_INT(w->count, g->count);
	EXPECT_STR(w->hook, g->hook);
	EXPECT_STR(w->policy, g->policy);
	EXPECT_STR(w->path, g->path);
	EXPECT_STR(w->build_id, g->build_id);
	EXPECT_STR(w->origin, g->origin);
}

/* ---- CanonicalEvent / CorrelatedEvent ----------------------------------------- */

FIXTURE void fill_event(tb_event_t *ev, size_t n_frames, int correlated)
{
	char buf[64];

	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < TB_EVENT_ID_LEN; i++)
		ev->event_id[i] = (uint8_t)i;
	ev->tenant = S("tenant-b");
	ev->source = S("probe");
	ev->kind = S("sample");
	ev->ts_ns = -5; /* before the epoch: still a valid long */
	ev->node = S("5f1e0c");
	ev->pid = 1;
	ev->tid = UINT32_MAX;
	ev->uid_hash = S("9a8b");
	ev->binary = S("/home/<user>/bin/app");
	ev->exec_id = S("n:1:1");
	ev->container.id = S("abc");
	ev->container.cgroup_id = 99;
	ev->n_frames = n_frames;
	ev->frames = calloc(n_frames + 1, sizeof(tb_canon_frame_t));
	for (size_t i = 0; i < n_frames; i++) {
		tb_canon_frame_t *f = &ev->frames[i];

		f->frame_id = (int64_t)(0x8000000000000000ULL + i);
		f->build_id = S(i % 2 ? "" : "cafebabe");
		snprintf(buf, sizeof(buf), "libm%zu.so", i);
		f->module = S(buf);
		f->file_offset = 0x10 * i;
		snprintf(buf, sizeof(buf), "ns::f%zu", i);
		f->symbol = S(buf);
		f->kernel = i < 2;
		if (correlated) {
			f->artifact_digest = S("sha256:1111");
			f->purl = i % 3 ? NULL : S("pkg:deb/debian/openssl@3.0.11");
			f->n_finding_ids = i % 3;
			f->finding_ids = calloc(3, sizeof(char *));
			for (size_t k = 0; k < f->n_finding_ids; k++) {
				snprintf(buf, sizeof(buf), "F-%zu-%zu", i, k);
				f->finding_ids[k] = S(buf);
			}
		}
	}
	ev->stack_id = 0x123456789abcdefLL;
	ev->leaf_frame_id = -2;
	ev->count = 1000000;
	ev->hook = S("h");
	ev->policy = S("p");
	ev->path = S("/tmp/x");
	ev->build_id = S("cafebabe");
	if (correlated) {
		ev->artifact_digest = S("sha256:1111");
		ev->purl = S("pkg:deb/debian/openssl@3.0.11");
		ev->correlation = S("partial");
	}
}

FIXTURE void expect_event(const tb_event_t *w, const tb_event_t *g, int correlated)
{
	EXPECT_BYTES(w->event_id, TB_EVENT_ID_LEN, g->event_id, TB_EVENT_ID_LEN);
	EXPECT_REQ(w->tenant, g->tenant);
	EXPECT_REQ(w->source, g->source);
	EXPECT_REQ(w->kind, g->kind);
	EXPECT_INT(w->ts_ns, g->ts_ns);
	EXPECT_REQ(w->node, g->node);
	EXPECT_INT(w->pid, g->pid);
	EXPECT_INT(w->tid, g->tid);
	EXPECT_REQ(w->uid_hash, g->uid_hash);
	EXPECT_REQ(w->binary, g->binary);
	EXPECT_REQ(w->exec_id, g->exec_id);
	expect_container(&w->container, &g->container);
	EXPECT_INT(w->n_frames, g->n_frames);
	for (size_t i = 0; i < w->n_frames; i++) {
		const tb_canon_frame_t *wf = &w->frames[i], *gf = &g->frames[i];

		EXPECT_INT(wf->frame_id, gf->frame_id);
		EXPECT_REQ(wf->build_id, gf->build_id);
		EXPECT_REQ(wf->module, gf->module);
		EXPECT_INT(wf->file_offset, gf->file_offset);
		EXPECT_REQ(wf->symbol, gf->symbol);
		EXPECT_INT(wf->kernel, gf->kernel);
		if (!correlated) {
			EXPECT_STR(NULL, gf->artifact_digest);
			EXPECT_INT(0, gf->n_finding_ids);
			continue;
		}
		EXPECT_STR(wf->artifact_digest, gf->artifact_digest);
		EXPECT_STR(wf->purl, gf->purl);
		EXPECT_INT(wf->n_finding_ids, gf->n_finding_ids);
		for (size_t k = 0; k < wf->n_finding_ids; k++)
			EXPECT_STR(wf->finding_ids[k], gf->finding_ids[k]);
	}
	EXPECT_INT(w->stack_id, g->stack_id);
	EXPECT_INT(w->leaf_frame_id, g->leaf_frame_id);
	EXPECT_INT(w->count, g->count);
	EXPECT_STR(w->hook, g->hook);
	EXPECT_STR(w->policy, g->policy);
	EXPECT_STR(w->path, g->path);
	EXPECT_STR(w->build_id, g->build_id);
	if (correlated) {
		EXPECT_STR(w->artifact_digest, g->artifact_digest);
		EXPECT_STR(w->purl, g->purl);
		EXPECT_REQ(w->correlation, g->correlation);
	} else {
		EXPECT_STR(NULL, g->artifact_digest);
		EXPECT_STR(NULL, g->purl);
		EXPECT_STR(NULL, g->correlation);
	}
}

/* ---- Artifact, Finding, DeadLetter -------------------------------------------- */

FIXTURE void fill_artifact(tb_artifact_t *a)
{
	memset(a, 0, sizeof(*a));
	a->tenant = S("t");
	a->digest = S("sha256:0000000000000000000000000000000000000000000000000000000000000001");
	a->name = S("registry.example/app");
	a->version = S("1.2.3");
	a->sbom_format = S("cyclonedx-1.5");
	a->sbom_sha256 = S("ffee");
	a->registered_ns = 1700000000000000000LL;
	a->n_components = 3;
	a->components = calloc(3, sizeof(tb_component_t));
	for (int i = 0; i < 3; i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "pkg:generic/c%d@%d.0", i, i);
		a->components[i].purl = S(buf);
		a->components[i].name = S(buf + 12);
		a->components[i].version = S(i == 1 ? "" : "1.0");
	}
	a->n_binaries = 2;
	a->binaries = calloc(2, sizeof(tb_binary_t));
	a->binaries[0].path = S("/usr/bin/app");
	a->binaries[0].build_id = S("0a0b");
	a->binaries[0].purl = S("pkg:generic/c0@0.0");
	a->binaries[1].path = S("/usr/lib/libx.so.1");
}

FIXTURE void expect_artifact(const tb_artifact_t *w, const tb_artifact_t *g)
{
	EXPECT_REQ(w->tenant, g->tenant);
	EXPECT_REQ(w->digest, g->digest);
	EXPECT_REQ(w->name, g->name);
	EXPECT_REQ(w->version, g->version);
	EXPECT_STR(w->sbom_format, g->sbom_format);
	EXPECT_STR(w->sbom_sha256, g->sbom_sha256);
	EXPECT_INT(w->registered_ns, g->registered_ns);
	EXPECT_INT(w->n_components, g->n_components);
	for (size_t i = 0; i < w->n_components; i++) {
		EXPECT_REQ(w->components[i].purl, g->components[i].purl);
		EXPECT_REQ(w->components[i].name, g->components[i].name);
		EXPECT_REQ(w->components[i].version, g->components[i].version);
	}
	EXPECT_INT(w->n_binaries, g->n_binaries);
	for (size_t i = 0; i < w->n_binaries; i++) {
		EXPECT_REQ(w->binaries[i].path, g->binaries[i].path);
		EXPECT_STR(w->binaries[i].build_id, g->binaries[i].build_id);
		EXPECT_STR(w->binaries[i].purl, g->binaries[i].purl);
	}
}

FIXTURE void fill_finding(tb_finding_t *f)
{
	memset(f, 0, sizeof(*f));
	f->tenant = S("t");
	f->finding_id = S("F-1");
	f->vuln_id = S("CVE-2024-0001");
	f->purl = S("pkg:deb/debian/openssl@3.0.11");
	f->artifact_digest = S("sha256:aa");
	f->n_symbols = 3;
	f->symbols = calloc(3, sizeof(char *));
	f->symbols[0] = S("SSL_read");
	f->symbols[1] = S("");
	f->symbols[2] = S("ossl_x509_check");
	f->registered_ns = 1;
}

FIXTURE void expect_finding(const tb_finding_t *w, const tb_finding_t *g)
{
	EXPECT_REQ(w->tenant, g->tenant);
	EXPECT_REQ(w->finding_id, g->finding_id);
	EXPECT_REQ(w->vuln_id, g->vuln_id);
	EXPECT_REQ(w->purl, g->purl);
	EXPECT_STR(w->artifact_digest, g->artifact_digest);
	EXPECT_INT(w->n_symbols, g->n_symbols);
	for (size_t i = 0; i < w->n_symbols; i++)
		EXPECT_STR(w->symbols[i], g->symbols[i]);
	EXPECT_INT(w->registered_ns, g->registered_ns);
}

FIXTURE void fill_dead_letter(tb_dead_letter_t *d)
{
	static const uint8_t payload[] = {0xC3, 0x01, 0x00, 0xff, 0x00, '{', '"', 'x'};

	memset(d, 0, sizeof(*d));
	d->service = S("adapter");
	d->reason = S("line 12 column 5: unexpected token");
	d->source_topic = S("tb.tetragon.raw.v1");
	d->partition = 3;
	d->offset = 1200;
	d->position = S("events.json:12:5");
	d->ts_ns = 42;
	d->key = memdup("node-1\0exec", 11);
	d->key_len = 11;
	d->payload = memdup(payload, sizeof(payload));
	d->payload_len = sizeof(payload);
}

FIXTURE void expect_dead_letter(const tb_dead_letter_t *w, const tb_dead_letter_t *g)
{
	EXPECT_REQ(w->service, g->service);
	EXPECT_REQ(w->reason, g->reason);
	EXPECT_REQ(w->source_topic, g->source_topic);
	EXPECT_INT(w->partition, g->partition);
	EXPECT_INT(w->offset, g->offset);
	EXPECT_STR(w->position, g->position);
	EXPECT_INT(w->ts_ns, g->ts_ns);
	EXPECT_BYTES(w->key, w->key_len, g->key, g->key_len);
	EXPECT_INT(w->payload_len, g->payload_len);
	if (w->payload_len)
		EXPECT_BYTES(w->payload, w->payload_len, g->payload, g->payload_len);
}

/* ---- ProbeBatch ------------------------------------------------------------------ */

FIXTURE void fill_uframe(tb_probe_uframe_t *u, size_t i)
{
	char buf[64];

	u->build_id = i % 4 == 3 ? NULL : S("deadbeef00");
	u->file_offset = 0x4000 + i;
	snprintf(buf, sizeof(buf), "/opt/app/lib%zu.so", i);
	u->module = S(buf);
	u->symbol = i % 2 ? NULL : S("_ZN3foo3barEv");
	u->has_address = i % 4 == 3;
	u->address = u->has_address ? 0x7fff00000000ULL + i : 0;
}

FIXTURE void fill_probe_batch(tb_probe_batch_t *b, size_t n_samples)
{
	memset(b, 0, sizeof(*b));
	b->node = S("node-7");
	b->boot_id = S("6a9c1f0e-2f2d-4a8c-b2a4-8c0b7f1d9e11");
	b->agent_version = S("0.1.0");
	b->seq = 12;
	b->start_ns = 1000;
	b->end_ns = 2000;
	b->n_processes = 2;
	b->processes = calloc(2, sizeof(tb_probe_process_t));
	for (size_t i = 0; i < 2; i++) {
		tb_probe_process_t *p = &b->processes[i];

		p->pid = (uint32_t)(100 + i);
		p->exec_id = S(i ? "node-7:5:101" : "node-7:4:100");
		p->binary = S("/opt/app/bin/app");
		p->binary_build_id = i ? NULL : S("abcdef");
		p->container_id = i ? S("ctr") : NULL;
		p->cgroup_id = 777 + i;
		p->comm = S("app");
		p->start_ns = 900;
	}
	b->n_samples = n_samples;
	b->samples = calloc(n_samples + 1, sizeof(tb_probe_sample_t));
	for (size_t i = 0; i < n_samples; i++) {
		tb_probe_sample_t *s = &b->samples[i];

		s->pid = 100;
		s->tid = (uint32_t)(100 + i);
		s->cpu = (int32_t)(i % 2);
		s->first_ns = 1000 + (int64_t)i;
		s->last_ns = 1500 + (int64_t)i;
		s->count = 3;
		s->n_kernel_frames = 2;
		s->kernel_frames = calloc(2, sizeof(tb_probe_kframe_t));
		s->kernel_frames[0].symbol = S("copy_user_generic");
		s->kernel_frames[0].offset = 0x1f;
		s->kernel_frames[1].symbol = S("ext4_file_read_iter");
		s->kernel_frames[1].offset = 0x22;
		s->kernel_frames[1].module = S("ext4");
		s->n_user_frames = 4;
		s->user_frames = calloc(4, sizeof(tb_probe_uframe_t));
		for (size_t k = 0; k < 4; k++)
			fill_uframe(&s->user_frames[k], k);
	}
	b->n_uprobe_counts = 1;
	b->uprobe_counts = calloc(1, sizeof(tb_probe_uprobe_count_t));
	b->uprobe_counts[0].build_id = S("abcdef");
	b->uprobe_counts[0].binary = S("/usr/lib/x86_64-linux-gnu/libssl.so.3");
	b->uprobe_counts[0].symbol = S("SSL_read");
	b->uprobe_counts[0].file_offset = 0x3a2c0;
	b->uprobe_counts[0].hits = 12345;
	b->uprobe_counts[0].attached = 1;
	b->uprobe_counts[0].n_stack = 2;
	b->uprobe_counts[0].stack = calloc(2, sizeof(tb_probe_uframe_t));
	fill_uframe(&b->uprobe_counts[0].stack[0], 0);
	fill_uframe(&b->uprobe_counts[0].stack[1], 3);
	b->n_loads = 1;
	b->loads = calloc(1, sizeof(tb_probe_load_t));
	b->loads[0].pid = 100;
	b->loads[0].path = S("/usr/lib/x86_64-linux-gnu/libssl.so.3");
	b->loads[0].build_id = S("abcdef");
	b->loads[0].ts_ns = 1100;
	b->lost_samples = 3;
	b->lost_events = 1;
}

FIXTURE void expect_uframe(const tb_probe_uframe_t *w, const tb_probe_uframe_t *g)
{
	EXPECT_STR(w->build_id, g->build_id);
	EXPECT_INT(w->file_offset, g->file_offset);
	EXPECT_REQ(w->module, g->module);
	EXPECT_STR(w->symbol, g->symbol);
	EXPECT_INT(w->has_address, g->has_address);
	if (w->has_address)
		EXPECT_INT(w->address, g->address);
}

FIXTURE void expect_probe_batch(const tb_probe_batch_t *w, const tb_probe_batch_t *g)
{
	EXPECT_REQ(w->node, g->node);
	EXPECT_REQ(w->boot_id, g->boot_id);
	EXPECT_REQ(w->agent_version, g->agent_version);
	EXPECT_INT(w->seq, g->seq);
	EXPECT_INT(w->start_ns, g->start_ns);
	EXPECT_INT(w->end_ns, g->end_ns);
	EXPECT_INT(w->n_processes, g->n_processes);
	for (size_t i = 0; i < w->n_processes; i++) {
		const tb_probe_process_t *wp = &w->processes[i], *gp = &g->processes[i];

		EXPECT_INT(wp->pid, gp->pid);
		EXPECT_REQ(wp->exec_id, gp->exec_id);
		EXPECT_REQ(wp->binary, gp->binary);
		EXPECT_STR(wp->binary_build_id, gp->binary_build_id);
		EXPECT_STR(wp->container_id, gp->container_id);
		EXPECT_INT(wp->cgroup_id, gp->cgroup_id);
		EXPECT_REQ(wp->comm, gp->comm);
		EXPECT_INT(wp->start_ns, gp->start_ns);
	}
	EXPECT_INT(w->n_samples, g->n_samples);
	for (size_t i = 0; i < w->n_samples; i++) {
		const tb_probe_sample_t *ws = &w->samples[i], *gs = &g->samples[i];

		EXPECT_INT(ws->pid, gs->pid);
		EXPECT_INT(ws->tid, gs->tid);
		EXPECT_INT(ws->cpu, gs->cpu);
		EXPECT_INT(ws->first_ns, gs->first_ns);
		EXPECT_INT(ws->last_ns, gs->last_ns);
		EXPECT_INT(ws->count, gs->count);
		EXPECT_INT(ws->n_kernel_frames, gs->n_kernel_frames);
		for (size_t k = 0; k < ws->n_kernel_frames; k++) {
			EXPECT_REQ(ws->kernel_frames[k].symbol, gs->kernel_frames[k].symbol);
			EXPECT_INT(ws->kernel_frames[k].offset, gs->kernel_frames[k].offset);
			EXPECT_STR(ws->kernel_frames[k].module, gs->kernel_frames[k].module);
		}
		EXPECT_INT(ws->n_user_frames, gs->n_user_frames);
		for (size_t k = 0; k < ws->n_user_frames; k++)
			expect_uframe(&ws->user_frames[k], &gs->user_frames[k]);
	}
	EXPECT_INT(w->n_uprobe_counts, g->n_uprobe_counts);
	for (size_t i = 0; i < w->n_uprobe_counts; i++) {
		const tb_probe_uprobe_count_t *wu = &w->uprobe_counts[i], *gu = &g->uprobe_counts[i];

		EXPECT_STR(wu->build_id, gu->build_id);
		EXPECT_REQ(wu->binary, gu->binary);
		EXPECT_REQ(wu->symbol, gu->symbol);
		EXPECT_INT(wu->file_offset, gu->file_offset);
		EXPECT_INT(wu->hits, gu->hits);
		EXPECT_INT(wu->attached, gu->attached);
		EXPECT_INT(wu->n_stack, gu->n_stack);
		for (size_t k = 0; k < wu->n_stack; k++)
			expect_uframe(&wu->stack[k], &gu->stack[k]);
	}
	EXPECT_INT(w->n_loads, g->n_loads);
	for (size_t i = 0; i < w->n_loads; i++) {
		EXPECT_INT(w->loads[i].pid, g->loads[i].pid);
		EXPECT_REQ(w->loads[i].path, g->loads[i].path);
		EXPECT_STR(w->loads[i].build_id, g->loads[i].build_id);
		EXPECT_INT(w->loads[i].ts_ns, g->loads[i].ts_ns);
	}
	EXPECT_INT(w->lost_samples, g->lost_samples);
	EXPECT_INT(w->lost_events, g->lost_events);
}

/* ---- files and avro-c ---------------------------------------------------------- */

/* Read a repo file (tests run from the repo root; TB_SRCDIR overrides). */
FIXTURE char *read_repo_file(const char *rel)
{
	const char *root = getenv("TB_SRCDIR");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", rel);
	f = fopen(path, "rb");
	if (!f) {
		print_error("cannot open %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Fill an avro-c value from JSON: records by field name (absent -> left at
 * its zero value, null for unions, {} for records), unions: JSON null -> the null branch,
 * else the first non-null branch; fixed and bytes from strings; enums from
 * the symbol index. Returns 0 or -1. */
FIXTURE int avroc_fill(avro_value_t *v, const json_t *j)
{
	avro_value_t child;
	size_t n, i;
	const char *name;
	int null_branch = -1, other = -1;
	avro_schema_t sch;

	switch (avro_value_get_type(v)) {
	case AVRO_STRING:
		return avro_value_set_string(v, json_string_value(j));
	case AVRO_BYTES:
		return avro_value_set_bytes(v, (void *)json_string_value(j), json_string_length(j));
	case AVRO_FIXED:
		return avro_value_set_fixed(v, (void *)json_string_value(j), json_string_length(j));
	case AVRO_INT32:
		return avro_value_set_int(v, (int32_t)json_integer_value(j));
	case AVRO_INT64:
		return avro_value_set_long(v, json_integer_value(j));
	case AVRO_BOOLEAN:
		return avro_value_set_boolean(v, json_is_true(j));
	case AVRO_NULL:
		return avro_value_set_null(v);
	case AVRO_DOUBLE:
		return avro_value_set_double(v, json_number_value(j));
	case AVRO_FLOAT:
		return avro_value_set_float(v, (float)json_number_value(j));
	case AVRO_ENUM:
		return avro_value_set_enum(v, (int)json_integer_value(j));
	case AVRO_MAP: {
		const char *key;
		json_t *item;

		json_object_foreach((json_t *)j, key, item) if (avro_value_add(v, key, &child, NULL, NULL) ||
								avroc_fill(&child, item)) return -1;
		return 0;
	}
	case AVRO_RECORD:
		avro_value_get_size(v, &n);
		for (i = 0; i < n; i++) {
			const json_t *fj;

			if (avro_value_get_by_index(v, i, &child, &name))
				return -1;
			fj = json_object_get(j, name);
			/* an absent union is written as null, an absent record as {} */
			if (!fj && avro_value_get_type(&child) == AVRO_UNION)
				fj = json_null();
			if (!fj && avro_value_get_type(&child) == AVRO_RECORD) {
				json_t *empty = json_object();
				int rc = avroc_fill(&child, empty);

				json_decref(empty);
				if (rc)
					return -1;
				continue;
			}
			if (fj && avroc_fill(&child, fj))
				return -1;
		}
		return 0;
	case AVRO_ARRAY:
		for (i = 0; i < json_array_size(j); i++)
			if (avro_value_append(v, &child, NULL) || avroc_fill(&child, json_array_get(j, i)))
				return -1;
		return 0;
	case AVRO_UNION:
		sch = avro_value_get_schema(v);
		for (i = 0; i < avro_schema_union_size(sch); i++) {
			avro_schema_t b = avro_schema_union_branch(sch, (int)i);

			if (is_avro_null(b) && null_branch < 0)
				null_branch = (int)i;
			else if (!is_avro_null(b) && other < 0)
				other = (int)i;
		}
		if (avro_value_set_branch(v, json_is_null(j) ? null_branch : other, &child))
			return -1;
		return avroc_fill(&child, j);
	default:
		print_error("avroc_fill: unsupported type %d\n", avro_value_get_type(v));
		return -1;
	}
}

/* Write a single-object message with avro-c: `schema_json` is the writer,
 * `data_json` the record; fingerprint from our registry. */
FIXTURE uint8_t *avroc_write(const char *schema_json, const char *data_json, size_t *len)
{
	avro_schema_t sch = NULL;
	avro_value_iface_t *iface;
	avro_value_t v;
	avro_writer_t w;
	json_t *data = json_loads(data_json, 0, NULL);
	uint64_t fp = 0;
	size_t size = 0;
	uint8_t *out = NULL;

	assert_non_null(data);
	assert_int_equal(tb_avro_fingerprint(schema_json, &fp, NULL), 0);
	assert_int_equal(avro_schema_from_json_length(schema_json, strlen(schema_json), &sch), 0);
	iface = avro_generic_class_from_schema(sch);
	assert_int_equal(avro_generic_value_new(iface, &v), 0);
	assert_int_equal(avroc_fill(&v, data), 0);
	assert_int_equal(avro_value_sizeof(&v, &size), 0);
	out = malloc(TB_AVRO_HEADER_LEN + size);
	out[0] = 0xC3;
	out[1] = 0x01;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(fp >> (8 * i));
	w = avro_writer_memory((char *)out + TB_AVRO_HEADER_LEN, (int64_t)size);
	assert_int_equal(avro_value_write(w, &v), 0);
	avro_writer_free(w);
	avro_value_decref(&v);
	avro_value_iface_decref(iface);
	avro_schema_decref(sch);
	json_decref(data);
	*len = TB_AVRO_HEADER_LEN + size;
	return out;
}

#endif
