/*
 * Unit tests for tb_tetragon: every real sample in ../shared/testdata/tetragon
 * (pretty-printed ones through tb_jsonstream), our synthetic v1.0/v1.7 events
 * in tests/data/tetragon, tolerance rules, skipped types, precise errors and
 * the event_id contract.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../tb_test.h"

#include "tb/hash.h"
#include "tb/jsonstream.h"
#include "tb/tetragon.h"

#define MAX_PARSED 48

typedef struct parsed {
	tb_jsonstream_kind_t kind;
	uint64_t line;
	tb_tetragon_status_t status;
	tb_tetragon_result_t res;
	char err[TB_ERR_MAX];
	char text[128]; /* start of the item, for failure messages */
	tb_runtime_event_t ev;
} parsed_t;

typedef struct parsed_set {
	parsed_t p[MAX_PARSED];
	size_t n;
} parsed_set_t;

/* ---- helpers ------------------------------------------------------------- */

static char *path_of(const char *dir, const char *name)
{
	const char *root = getenv("TB_SRCDIR");
	char *p = NULL;

	if (asprintf(&p, "%s/%s/%s", root ? root : ".", dir, name) < 0)
		fail_msg("out of memory");
	return p;
}

static char *read_all(const char *path, size_t *len)
{
	char *buf = tb_test_read_file(path, len);

	if (!buf)
		fail_msg("cannot open %s (is TB_SRCDIR the repo root?)", path);
	return buf;
}

static void parse_text(const char *text, size_t len, parsed_set_t *out)
{
	tb_jsonstream_t *s = tb_jsonstream_new(0);
	tb_jsonstream_item_t it;
	tb_err_t err = {{0}};

	assert_non_null(s);
	memset(out, 0, sizeof(*out));
	assert_int_equal(tb_jsonstream_feed(s, text, len, &err), 0);
	tb_jsonstream_finish(s);
	while (tb_jsonstream_next(s, &it)) {
		parsed_t *p;

		assert_true(out->n < MAX_PARSED);
		p = &out->p[out->n++];
		p->kind = it.kind;
		p->line = it.line;
		snprintf(p->text, sizeof(p->text), "%.*s", (int)(it.len < 100 ? it.len : 100), it.data);
		if (it.kind != TB_JSONSTREAM_OBJECT) {
			p->status = TB_TETRAGON_ERROR;
			snprintf(p->err, sizeof(p->err), "%s", it.reason);
			continue;
		}
		tb_err_clear(&err);
		p->status = tb_tetragon_parse(it.data, it.len, NULL, &p->ev, &p->res, &err);
		snprintf(p->err, sizeof(p->err), "%s", err.msg);
	}
	tb_jsonstream_free(s);
}

static void parse_file(const char *dir, const char *name, parsed_set_t *out)
{
	char *path = path_of(dir, name);
	size_t len;
	char *text = read_all(path, &len);

	parse_text(text, len, out);
	free(text);
	free(path);
}

static void parse_shared(const char *name, parsed_set_t *out)
{
	parse_file("../shared/testdata/tetragon", name, out);
}

static void parse_ours(const char *name, parsed_set_t *out)
{
	parse_file("tests/data/tetragon", name, out);
}

static void free_set(parsed_set_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		tb_runtime_event_clear(&s->p[i].ev);
}

/* The i-th item must be a parsed event; returns it. */
static tb_runtime_event_t *ok_event(parsed_set_t *s, size_t i)
{
	if (i >= s->n)
		fail_msg("expected an event #%zu, got only %zu items", i, s->n);
	if (s->p[i].status != TB_TETRAGON_OK)
		fail_msg("item #%zu (line %llu, \"%s\"): expected OK, got status %d: %s", i,
			 (unsigned long long)s->p[i].line, s->p[i].text, s->p[i].status, s->p[i].err);
	return &s->p[i].ev;
}

static void eq_str(const char *what, const char *expected, const char *got)
{
	if (!expected && !got)
		return;
	if (!expected || !got || strcmp(expected, got) != 0)
		fail_msg("%s: expected %s%s%s, got %s%s%s", what, expected ? "\"" : "",
			 expected ? expected : "NULL", expected ? "\"" : "", got ? "\"" : "",
			 got ? got : "NULL", got ? "\"" : "");
}

static void eq_int(const char *what, int64_t expected, int64_t got)
{
	if (expected != got)
		fail_msg("%s: expected %lld, got %lld", what, (long long)expected, (long long)got);
}

static void eq_u64(const char *what, uint64_t expected, uint64_t got)
{
	if (expected != got)
		fail_msg("%s: expected %llu, got %llu", what, (unsigned long long)expected,
			 (unsigned long long)got);
}

static void has_substr(const char *what, const char *needle, const char *hay)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("%s: expected a message containing \"%s\", got \"%s\"", what, needle,
			 hay ? hay : "NULL");
}

static tb_tetragon_status_t parse_str(const char *json, tb_runtime_event_t *ev, tb_tetragon_result_t *res,
				      tb_err_t *err)
{
	tb_err_clear(err);
	return tb_tetragon_parse(json, strlen(json), NULL, ev, res, err);
}

static void expect_error(const char *json, const char *message)
{
	tb_runtime_event_t ev;
	tb_tetragon_result_t res;
	tb_err_t err = {{0}};

	if (parse_str(json, &ev, &res, &err) != TB_TETRAGON_ERROR)
		fail_msg("%s: expected an error \"%s\", got status %d", json, message, res.status);
	eq_str(json, message, err.msg);
}

static const char *const XWING_DIGEST =
    "sha256:8e86f744bfea165fd4ce68caa05abc96500f40130b857773186401926af7e9e6";

/* ---- the real samples ---------------------------------------------------- */

static void book_process_exit_maps_process_pod_and_time(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("book-process_exit.json", &s);
	eq_int("items", 1, (int64_t)s.n);
	e = ok_event(&s, 0);
	eq_str("kind", "exit", e->kind);
	eq_str("source", "tetragon", e->source);
	eq_str("tenant", "default", e->tenant);
	eq_str("node", "minikube", e->node);
	eq_int("ts_ns", 1642609742515000000LL, e->ts_ns);
	eq_int("pid", 115153, e->process.pid);
	eq_int("uid", 0, e->process.uid);
	eq_str("binary", "/usr/bin/curl", e->process.binary);
	eq_str("args", "www.google.com", e->process.args);
	eq_str("cwd", "/usr/share/elasticsearch/", e->process.cwd);
	eq_str("exec_id", "bWluaWt1YmU6MTA1NzU3MjgzNTAwNzk6MTE1MTUz", e->process.exec_id);
	eq_str("parent_exec_id", "bWluaWt1YmU6MTA1NTYwMTY4NzQzNTU6MTE0NzU3", e->process.parent_exec_id);
	eq_str("container.id", "86eb9e29a77d432afc7a15b424db1d24a382f3caae26f860ab22df8cb5e96054",
	       e->container.id);
	eq_str("container.name", "elasticsearch", e->container.name);
	eq_str("image", "quay.io/isovalent/jobs-app-elasticsearch:latest", e->container.image);
	eq_str("image_digest", "sha256:ff3aa5862fd17f8695984609743f4523188984adbcd25cf5ac4224b71084558c",
	       e->container.image_digest);
	eq_str("pod", "elasticsearch-56f8fc6988-pb8c7", e->container.pod);
	eq_str("namespace", "tenant-jobs", e->container.namespace_);
	eq_int("count", 1, e->count);
	eq_str("hook", NULL, e->hook);
	eq_int("kernel frames", 0, (int64_t)e->n_kernel_frames);
	free_set(&s);
}

static void book_kprobe_write_maps_hook_and_containerd_id(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("book-process_kprobe-write-bytes_arg.json", &s);
	e = ok_event(&s, 0);
	eq_str("kind", "kprobe", e->kind);
	eq_str("hook", "__x64_sys_write", e->hook);
	eq_str("policy", NULL, e->policy);
	eq_int("pid", 36318, e->process.pid);
	eq_str("binary", "/usr/bin/vi", e->process.binary);
	eq_str("args", "/etc/passwd", e->process.args);
	eq_str("container.id", "bae66fa9f18079f78500ad37e88eb8a88b3181b2d0767f26dc532f75e4024d27",
	       e->container.id);
	eq_str("pod", "elasticsearch-56f8fc6988-sh8rm", e->container.pod);
	eq_str("node", "gke-kprobe-validation-default-pool-b5e9dab6-k0cj", e->node);
	eq_int("ts_ns", 1634587735567000000LL, e->ts_ns);
	free_set(&s);
}

static void docs_linux_binprm_kprobe(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("docs-advanced-exec-kprobe-linux_binprm.json", &s);
	e = ok_event(&s, 0);
	eq_str("kind", "kprobe", e->kind);
	eq_str("hook", "security_bprm_creds_from_file", e->hook);
	eq_int("pid", 36499, e->process.pid);
	eq_int("tid", 36499, e->process.tid);
	eq_str("binary", "/bin/bash", e->process.binary);
	eq_str("args", NULL, e->process.args);
	eq_str("pod", "xwing", e->container.pod);
	eq_str("container.name", "spaceship", e->container.name);
	eq_str("image_digest", XWING_DIGEST, e->container.image_digest);
	eq_int("ts_ns", 1690977533624096751LL, e->ts_ns);
	free_set(&s);
}

static void docs_capabilities_kprobe(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("docs-capabilities-kprobe-capability_arg.json", &s);
	e = ok_event(&s, 0);
	eq_str("hook", "cap_capable", e->hook);
	eq_int("pid", 73860, e->process.pid);
	eq_str("binary", "/bin/dmesg", e->process.binary);
	eq_str("container.id", "cfb961400ff25811d22d139a10f6a62efef53c2ecc11af47bc911a7f9a2ac1f7",
	       e->container.id);
	eq_str("image", "docker.io/tgraf/netperf:latest", e->container.image);
	eq_int("ts_ns", 1688638413834882128LL, e->ts_ns);
	free_set(&s);
}

static void docs_throttle_has_no_process(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("docs-cgroup-rate-process_throttle-start.json", &s);
	e = ok_event(&s, 0);
	eq_str("kind", "throttle", e->kind);
	eq_str("hook", "THROTTLE_START", e->hook);
	eq_str("path (cgroup)", "session-429.scope", e->path);
	eq_str("node", "ubuntu-22", e->node);
	eq_int("ts_ns", 1721999263178407128LL, e->ts_ns);
	eq_int("pid", 0, e->process.pid);
	eq_int("uid", -1, e->process.uid);
	eq_str("exec_id", NULL, e->process.exec_id);
	eq_str("container.id", NULL, e->container.id);
	free_set(&s);
}

static void docs_exec_with_workload(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("docs-events-process_exec-pod-workload.json", &s);
	e = ok_event(&s, 0);
	eq_str("kind", "exec", e->kind);
	eq_int("pid", 52699, e->process.pid);
	eq_str("binary", "/usr/bin/curl", e->process.binary);
	eq_str("args", "https://ebpf.io/applications/#tetragon", e->process.args);
	eq_str("workload", "xwing", e->container.workload);
	eq_str("workload_kind", NULL, e->container.workload_kind);
	eq_str("container.id", "551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3",
	       e->container.id);
	eq_str("image_digest", XWING_DIGEST, e->container.image_digest);
	eq_str("node", "gke-john-632-default-pool-7041cac0-9s95", e->node);
	eq_int("ts_ns", 1696629837700326678LL, e->ts_ns);
	free_set(&s);
}

static void docs_file_access_kprobe_has_policy_and_workload_kind(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("docs-filename-access-kprobe-file_arg.json", &s);
	e = ok_event(&s, 0);
	eq_str("hook", "security_file_permission", e->hook);
	eq_str("policy", "file-monitoring", e->policy);
	eq_int("pid", 64746, e->process.pid);
	eq_str("binary", "/bin/vi", e->process.binary);
	eq_str("workload", "file-access", e->container.workload);
	eq_str("workload_kind", "Pod", e->container.workload_kind);
	eq_str("image_digest", "sha256:c3839dd800b9eb7603340509769c43e146a74c63dca3045a8e7dc8ee07e53966",
	       e->container.image_digest);
	eq_int("ts_ns", 1713061094376304204LL, e->ts_ns);
	free_set(&s);
}

static void docs_kernel_module_kprobe_on_host_has_no_container(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("docs-kernel-modules-kprobe-module_arg.json", &s);
	e = ok_event(&s, 0);
	eq_str("hook", "find_module_sections", e->hook);
	eq_int("pid", 130877, e->process.pid);
	eq_str("binary", "/sbin/modprobe", e->process.binary);
	eq_str("args", "-q -- fs-xfs", e->process.args);
	eq_str("container.id", NULL, e->container.id);
	eq_str("pod", NULL, e->container.pod);
	eq_str("node", "kind-control-plane", e->node);
	eq_int("ts_ns", 1694302062760880332LL, e->ts_ns);
	free_set(&s);
}

static void docs_exec_and_exit_of_one_process(void **state)
{
	parsed_set_t a, b;
	tb_runtime_event_t *x, *y;

	(void)state;
	parse_shared("docs-process-execution-exec.json", &a);
	parse_shared("docs-process-execution-exit.json", &b);
	x = ok_event(&a, 0);
	y = ok_event(&b, 0);
	eq_str("exec kind", "exec", x->kind);
	eq_str("exit kind", "exit", y->kind);
	eq_int("pid", 51583, x->process.pid);
	eq_str("binary", "/usr/bin/whoami", x->process.binary);
	eq_str("args", "--version", x->process.args);
	eq_str("same exec_id", x->process.exec_id, y->process.exec_id);
	eq_str("container.id", "1fb931d2f6e5e4cfdbaf30fdb8e2fdd81320bdb3047ded50120a4f82838209ce",
	       y->container.id);
	eq_int("exec ts", 1652273685615000000LL, x->ts_ns);
	eq_int("exit ts", 1652273685616000000LL, y->ts_ns);
	assert_memory_not_equal(x->event_id, y->event_id, TB_EVENT_ID_LEN);
	free_set(&a);
	free_set(&b);
}

static void repo_export_lines_parse_and_missing_time_falls_back_to_start_time(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_shared("repo-testdata-events.jsonl", &s);
	eq_int("items", 3, (int64_t)s.n);
	e = ok_event(&s, 0);
	eq_int("line 1 pid", 68790, e->process.pid);
	eq_str("line 1 binary", "/usr/bin/netserver", e->process.binary);
	eq_str("line 1 args", "-D", e->process.args);
	eq_str("line 1 pod", "tiefighter", e->container.pod);
	eq_str("line 1 node", "my-node", e->node);
	eq_int("line 1 ts (no time: start_time)", 1666062978273546829LL, e->ts_ns);
	e = ok_event(&s, 1);
	eq_str("line 2 pod", "deathstar-6f87496b94-qdlh8", e->container.pod);
	eq_str("line 2 binary", "/starwars-docker", e->process.binary);
	eq_str("line 2 args", "--port 80 --host 0.0.0.0", e->process.args);
	eq_str("line 2 image_digest",
	       "sha256:f92c8cd25372bac56f55111469fe9862bf682385a4227645f5af155eee7f58d9",
	       e->container.image_digest);
	eq_int("line 2 ts", 1666062981373327754LL, e->ts_ns);
	e = ok_event(&s, 2);
	eq_str("line 3 pod", "deathstar-6f87496b94-gjf74", e->container.pod);
	eq_int("line 3 pid", 68920, e->process.pid);
	eq_int("line 3 ts", 1666062982225264791LL, e->ts_ns);
	eq_u64("line 3 stream line", 3, s.p[2].line);
	free_set(&s);
}

static int is_event_file(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".json") == 0) ||
	       (n > 6 && strcmp(name + n - 6, ".jsonl") == 0);
}

static void every_shared_event_file_parses_without_errors(void **state)
{
	char *dir = path_of("../shared/testdata/tetragon", "");
	DIR *d = opendir(dir);
	struct dirent *de;
	int files = 0;

	(void)state;
	if (!d)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		parsed_set_t s;
		size_t ok = 0;

		if (!is_event_file(de->d_name))
			continue;
		files++;
		parse_shared(de->d_name, &s);
		for (size_t i = 0; i < s.n; i++) {
			if (s.p[i].status != TB_TETRAGON_OK)
				fail_msg("%s line %llu: expected an event, got status %d: %s", de->d_name,
					 (unsigned long long)s.p[i].line, s.p[i].status, s.p[i].err);
			ok++;
		}
		if (ok == 0)
			fail_msg("%s: expected at least one event, got none", de->d_name);
		free_set(&s);
	}
	closedir(d);
	free(dir);
	if (files < 11)
		fail_msg("expected the 11 .json/.jsonl samples, found %d", files);
}

static void stack_trace_fragments_are_not_events(void **state)
{
	parsed_set_t s;
	size_t objects = 0, garbage = 0, ok = 0;

	(void)state;
	parse_shared("docs-selectors-stack-trace-fragments.txt", &s);
	for (size_t i = 0; i < s.n; i++) {
		parsed_t *p = &s.p[i];

		if (p->kind == TB_JSONSTREAM_GARBAGE) {
			garbage++;
			continue;
		}
		eq_int("kind", TB_JSONSTREAM_OBJECT, p->kind);
		objects++;
		ok += p->status == TB_TETRAGON_OK;
		has_substr("fragment error", "this is a stack trace entry", p->err);
	}
	eq_int("frame objects", 6, (int64_t)objects);
	eq_int("events", 0, (int64_t)ok);
	/* The first frame object, and the reason naming its keys. */
	eq_u64("first frame line", 5, s.p[3].line);
	eq_str("first frame error",
	       "not a Tetragon event: no event key (keys: address, offset, symbol); this is a stack trace "
	       "entry, "
	       "an element of kernel_stack_trace/user_stack_trace, not a complete event",
	       s.p[3].err);
	/* Comment headers, commas, "[...]" and the compact rendering are garbage. */
	eq_u64("first garbage line", 1, s.p[0].line);
	has_substr("first garbage", "# Verbatim", s.p[0].text);
	assert_true(garbage >= 10);
	free_set(&s);
}

/* ---- synthetic events ------------------------------------------------------ */

static void expect_frame(const char *what, const tb_raw_frame_t *f, int has_address, uint64_t address,
			 uint64_t offset, const char *symbol, const char *module)
{
	char w[96];

	snprintf(w, sizeof(w), "%s has_address", what);
	eq_int(w, has_address, f->has_address);
	snprintf(w, sizeof(w), "%s address", what);
	eq_u64(w, address, f->address);
	snprintf(w, sizeof(w), "%s offset", what);
	eq_u64(w, offset, f->offset);
	snprintf(w, sizeof(w), "%s symbol", what);
	eq_str(w, symbol, f->symbol);
	snprintf(w, sizeof(w), "%s module", what);
	eq_str(w, module, f->module);
}

static void v17_kprobe_with_kernel_and_user_stacks(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_ours("v17-kprobe-stacks.json", &s);
	e = ok_event(&s, 0);
	eq_str("kind", "kprobe", e->kind);
	eq_str("hook", "kfree_skb_reason", e->hook);
	eq_str("policy", "connect-stacks", e->policy);
	eq_str("node", "tb-node-1", e->node);
	eq_int("ts_ns", 1773480414123456789LL, e->ts_ns);
	eq_int("pid", 4217, e->process.pid);
	eq_int("tid", 4219, e->process.tid);
	eq_int("uid", 1000, e->process.uid);
	eq_str("binary", "/usr/bin/curl", e->process.binary);
	eq_str("args", "-s https://example.com/pay", e->process.args);
	eq_int("env", 2, (int64_t)e->process.n_env);
	eq_str("env[0]", "LANG=C.UTF-8", e->process.env[0]);
	eq_str("env[1]", "PATH=/usr/local/bin:/usr/bin", e->process.env[1]);
	eq_str("container.id", "3f6c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
	       e->container.id);
	eq_str("image", "registry.example.com/shop/checkout:1.4.2", e->container.image);
	eq_str("image_digest", "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
	       e->container.image_digest);
	eq_str("workload_kind", "Deployment", e->container.workload_kind);
	eq_int("kernel frames", 6, (int64_t)e->n_kernel_frames);
	expect_frame("k[0]", &e->kernel_frames[0], 1, 18446744072119856613ULL, 5, "kfree_skb_reason", NULL);
	expect_frame("k[1]", &e->kernel_frames[1], 1, 0xffffffffa13dda9bULL, 0x6b, "__sys_connect_file",
		     NULL);
	expect_frame("k[5]", &e->kernel_frames[5], 1, 0xffffffffa18000e6ULL, 0x6e,
		     "entry_SYSCALL_64_after_hwframe", NULL);
	eq_int("user frames", 3, (int64_t)e->n_user_frames);
	expect_frame("u[0]", &e->user_frames[0], 1, 0x7f878cf2752bULL, 1209643, "__connect",
		     "/usr/lib/x86_64-linux-gnu/libc.so.6");
	expect_frame("u[2]", &e->user_frames[2], 1, 0x7f878d1b6167ULL, 0x1a167, NULL,
		     "/usr/lib/x86_64-linux-gnu/libcurl.so.4.7.0");
	free_set(&s);
}

static void pretty_and_compact_forms_have_the_same_event_id(void **state)
{
	parsed_set_t a, b;
	tb_runtime_event_t *x, *y;

	(void)state;
	parse_ours("v17-kprobe-stacks.json", &a);
	parse_ours("v17-kprobe-stacks.pretty.json", &b);
	eq_int("pretty items", 1, (int64_t)b.n);
	x = ok_event(&a, 0);
	y = ok_event(&b, 0);
	eq_int("pretty user frames", 3, (int64_t)y->n_user_frames);
	eq_str("pretty hook", x->hook, y->hook);
	assert_memory_equal(x->event_id, y->event_id, TB_EVENT_ID_LEN);
	free_set(&a);
	free_set(&b);
}

static void v10_legacy_stack_trace_is_read_as_kernel_frames(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_ours("v10-kprobe-legacy-stack_trace.json", &s);
	e = ok_event(&s, 0);
	eq_str("hook", "tcp_connect", e->hook);
	eq_str("policy", "tcp-connect", e->policy);
	eq_str("node", "legacy-node", e->node);
	eq_int("ts_ns", 1698919201250000000LL, e->ts_ns);
	eq_int("kernel frames", 4, (int64_t)e->n_kernel_frames);
	expect_frame("k[0]", &e->kernel_frames[0], 0, 0, 0, "tcp_connect", NULL);
	expect_frame("k[1]", &e->kernel_frames[1], 0, 0, 1021, "tcp_v4_connect", NULL);
	eq_int("user frames", 0, (int64_t)e->n_user_frames);
	free_set(&s);
}

static void comma_space_variant_equals_the_compact_export_line(void **state)
{
	parsed_set_t a, b;
	tb_runtime_event_t *x, *y;

	(void)state;
	parse_shared("repo-testdata-events.jsonl", &a);
	parse_ours("comma-space.jsonl", &b);
	x = ok_event(&a, 1);
	y = ok_event(&b, 0);
	eq_int("pid", 68862, y->process.pid);
	eq_str("pod", x->container.pod, y->container.pod);
	eq_str("args", "--port 80 --host 0.0.0.0", y->process.args);
	assert_memory_equal(x->event_id, y->event_id, TB_EVENT_ID_LEN);
	free_set(&a);
	free_set(&b);
}

static void null_empty_and_missing_fields_read_as_absent(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_ours("tolerance.jsonl", &s);
	e = ok_event(&s, 0);
	eq_int("pid from \"6001\"", 6001, e->process.pid);
	eq_int("tid", 6002, e->process.tid);
	eq_int("uid null", -1, e->process.uid);
	eq_str("cwd \"\"", NULL, e->process.cwd);
	eq_str("args null", NULL, e->process.args);
	eq_str("container.id (pod null, docker \"\")", NULL, e->container.id);
	eq_int("env []", 0, (int64_t)e->process.n_env);
	eq_str("policy \"\"", NULL, e->policy);
	eq_int("count (aggregation_info null)", 1, e->count);
	eq_int("user frames []", 0, (int64_t)e->n_user_frames);
	eq_int("kernel frames", 1, (int64_t)e->n_kernel_frames);
	/* Bare numbers for 64-bit fields, including one above INT64_MAX. */
	expect_frame("k[0]", &e->kernel_frames[0], 1, 18446744072119856613ULL, 5, "kfree_skb_reason", NULL);
	eq_int("ts_ns", 1773481200000000000LL, e->ts_ns);
	free_set(&s);
}

static void every_event_type_maps_kind_hook_and_path(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t *e;

	(void)state;
	parse_ours("shapes.jsonl", &s);
	eq_int("items", 10, (int64_t)s.n);
	e = ok_event(&s, 0);
	eq_str("uprobe kind", "uprobe", e->kind);
	eq_str("uprobe hook", "SSL_write", e->hook);
	eq_str("uprobe path", "/usr/lib/x86_64-linux-gnu/libssl.so.3", e->path);
	eq_str("uprobe policy", "tls-writes", e->policy);
	eq_int("uprobe pid", 5001, e->process.pid);
	e = ok_event(&s, 1);
	eq_str("uprobe by offset hook", "0x12345", e->hook);
	eq_str("uprobe by offset path", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", e->path);
	eq_int("uprobe by offset ts", 1773480603500000000LL, e->ts_ns);
	e = ok_event(&s, 2);
	eq_str("lsm kind", "lsm", e->kind);
	eq_str("lsm hook", "file_open", e->hook);
	eq_str("lsm policy", "lsm-file-open", e->policy);
	e = ok_event(&s, 3);
	eq_str("tracepoint kind", "tracepoint", e->kind);
	eq_str("tracepoint hook", "raw_syscalls:sys_enter", e->hook);
	e = ok_event(&s, 4);
	eq_str("loader kind", "load", e->kind);
	eq_str("loader path", "/usr/lib/x86_64-linux-gnu/libc.so.6", e->path);
	eq_str("loader build_id", "a9cf4a8e4c1c7ed5e9ea3bbd1fba3f1ad16d3c2e", e->build_id);
	e = ok_event(&s, 5);
	eq_str("usdt kind", "usdt", e->kind);
	eq_str("usdt hook", "python:function__entry", e->hook);
	eq_str("usdt path", "/usr/bin/python3.11", e->path);
	e = ok_event(&s, 6);
	eq_str("rate_limit kind", "rate_limit", e->kind);
	eq_int("rate_limit count", 1024, e->count);
	eq_int("rate_limit pid", 0, e->process.pid);
	e = ok_event(&s, 7);
	eq_str("exec kind", "exec", e->kind);
	eq_int("aggregation count", 5, e->count);
	free_set(&s);
}

static void unknown_legacy_and_test_types_are_skipped_with_their_name(void **state)
{
	parsed_set_t s;
	tb_runtime_event_t ev;
	tb_tetragon_result_t res;
	tb_err_t err = {{0}};

	(void)state;
	parse_ours("shapes.jsonl", &s);
	eq_int("process_connect status", TB_TETRAGON_SKIPPED, s.p[8].status);
	eq_str("process_connect type", "process_connect", s.p[8].res.type);
	eq_int("test status", TB_TETRAGON_SKIPPED, s.p[9].status);
	eq_str("test type", "test", s.p[9].res.type);
	eq_str("no error text", "", s.p[8].err);
	free_set(&s);

	eq_int(
	    "process_listen", TB_TETRAGON_SKIPPED,
	    parse_str("{\"process_listen\":{\"process\":{\"pid\":1}},\"node_name\":\"n\"}", &ev, &res, &err));
	eq_str("process_listen type", "process_listen", res.type);
	/* a rate-limit summary without drops records nothing (count 0 is no observation) */
	eq_int(
	    "rate_limit_info with 0 dropped", TB_TETRAGON_SKIPPED,
	    parse_str("{\"rate_limit_info\":{\"number_of_dropped_process_events\":\"0\"},\"node_name\":\"n\","
		      "\"time\":\"2025-01-01T00:00:00Z\"}",
		      &ev, &res, &err));
	eq_str("its type", "rate_limit_info", res.type);
	eq_int("rate_limit_info without the number (absent = zero)", TB_TETRAGON_SKIPPED,
	       parse_str("{\"rate_limit_info\":{},\"node_name\":\"n\",\"time\":\"2025-01-01T00:00:00Z\"}",
			 &ev, &res, &err));
	eq_str("no error text", "", err.msg);
	eq_int("kind lookup of a skipped type", 1, tb_tetragon_kind("process_connect") == NULL);
	eq_str("kind lookup", "load", tb_tetragon_kind("process_loader"));
}

static void malformed_lines_report_precise_reasons_and_reading_goes_on(void **state)
{
	parsed_set_t s;

	(void)state;
	parse_ours("malformed.jsonl", &s);
	eq_int("items", 10, (int64_t)s.n);
	eq_str("line 1 kind", "uprobe", ok_event(&s, 0)->kind);
	eq_str("line 2", "process_exec.process.pid: expected decimal string (32-bit), got string \"12x\"",
	       s.p[1].err);
	eq_str("line 3", "process_kprobe.kernel_stack_trace[3].offset: expected decimal string, got object",
	       s.p[2].err);
	eq_int("line 4 kind", TB_JSONSTREAM_TRUNCATED, s.p[3].kind);
	eq_u64("line 4 line", 4, s.p[3].line);
	has_substr("line 4", "newline inside a string at line 4", s.p[3].err);
	eq_int("line 5 kind", TB_JSONSTREAM_GARBAGE, s.p[4].kind);
	eq_u64("line 5 line", 5, s.p[4].line);
	eq_str("line 6", "process_exec: expected object, got array", s.p[5].err);
	eq_str("line 7", "time: expected RFC 3339 timestamp, got string \"yesterday\"", s.p[6].err);
	has_substr("line 8", "duplicate object key", s.p[7].err);
	has_substr("line 9", "invalid JSON at line 1 column", s.p[8].err);
	eq_u64("line 10 line", 10, s.p[9].line);
	eq_str("line 10 kind", "lsm", ok_event(&s, 9)->kind);
	free_set(&s);
}

static void wrong_types_name_their_json_path(void **state)
{
	(void)state;
	expect_error("{\"process_exec\":{\"process\":{\"binary\":5}}}",
		     "process_exec.process.binary: expected string, got number 5");
	expect_error("{\"process_exec\":{\"process\":{\"pod\":{\"container\":{\"image\":[1]}}}}}",
		     "process_exec.process.pod.container.image: expected object, got array");
	expect_error(
	    "{\"process_exec\":{\"process\":{\"environment_variables\":[{\"Key\":\"A\"},7]}}}",
	    "process_exec.process.environment_variables[1]: expected object {Key, Value}, got number 7");
	expect_error(
	    "{\"process_kprobe\":{\"user_stack_trace\":[{\"offset\":\"0x10\"}]}}",
	    "process_kprobe.user_stack_trace[0].offset: expected decimal string, got string \"0x10\"");
	expect_error("{\"process_kprobe\":{\"kernel_stack_trace\":{\"offset\":\"1\"}}}",
		     "process_kprobe.kernel_stack_trace: expected array, got object");
	expect_error("{\"process_exec\":{\"process\":{\"pid\":-1}}}",
		     "process_exec.process.pid: expected unsigned 32-bit integer, got number -1");
	expect_error("{\"process_exec\":{\"process\":{\"pid\":4294967296}}}",
		     "process_exec.process.pid: expected unsigned 32-bit integer, got number 4294967296");
	expect_error(
	    "{\"process_loader\":{\"buildid\":\"***\"}}",
	    "process_loader.buildid: expected base64 string of at most 64 bytes, got string \"***\"");
	expect_error("{\"rate_limit_info\":{\"number_of_dropped_process_events\":1.5}}",
		     "rate_limit_info.number_of_dropped_process_events: expected integer, got number 1.5");
	expect_error("{\"process_exec\":{},\"aggregation_info\":{\"count\":true}}",
		     "aggregation_info.count: expected decimal string, got true");
}

static void non_events_are_errors(void **state)
{
	(void)state;
	expect_error("[1,2]", "expected a JSON object (one Tetragon event), got array");
	expect_error("{}", "not a Tetragon event: empty object");
	expect_error("{\"node_name\":\"n\",\"time\":\"2024-01-01T00:00:00Z\"}",
		     "not a Tetragon event: no event key such as process_exec (keys: node_name, time)");
	expect_error("{\"process_exec\":{},\"process_exit\":{}}",
		     "more than one event key: process_exec and process_exit");
	expect_error("{\"process_exec\":null}", "process_exec: expected object, got null");
}

static void lower_camel_keys_are_accepted(void **state)
{
	tb_runtime_event_t ev;
	tb_tetragon_result_t res;
	tb_err_t err = {{0}};

	(void)state;
	eq_int("status", TB_TETRAGON_OK,
	       parse_str(
		   "{\"processKprobe\":{\"functionName\":\"f\",\"policyName\":\"p\",\"process\":{\"execId\":"
		   "\"x\",\"pid\":3,\"parentExecId\":\"y\"},\"kernelStackTrace\":[{\"offset\":\"4\"}]},"
		   "\"nodeName\":\"n\"}",
		   &ev, &res, &err));
	eq_str("type", "process_kprobe", res.type);
	eq_str("hook", "f", ev.hook);
	eq_str("policy", "p", ev.policy);
	eq_str("exec_id", "x", ev.process.exec_id);
	eq_str("parent_exec_id", "y", ev.process.parent_exec_id);
	eq_str("node", "n", ev.node);
	eq_int("kernel frames", 1, (int64_t)ev.n_kernel_frames);
	tb_runtime_event_clear(&ev);
}

static int64_t ts_of(const char *time)
{
	char json[256];
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};
	int64_t ts;

	snprintf(json, sizeof(json), "{\"process_exec\":{},\"time\":\"%s\"}", time);
	if (parse_str(json, &ev, NULL, &err) != TB_TETRAGON_OK)
		fail_msg("time %s: expected OK, got error: %s", time, err.msg);
	ts = ev.ts_ns;
	tb_runtime_event_clear(&ev);
	return ts;
}

static void timestamps_with_0_3_6_9_fraction_digits_and_offsets(void **state)
{
	(void)state;
	eq_int("0 digits", 1696629837000000000LL, ts_of("2023-10-06T22:03:57Z"));
	eq_int("3 digits", 1696629837700000000LL, ts_of("2023-10-06T22:03:57.700Z"));
	eq_int("6 digits", 1696629837700326000LL, ts_of("2023-10-06T22:03:57.700326Z"));
	eq_int("9 digits", 1696629837700326678LL, ts_of("2023-10-06T22:03:57.700326678Z"));
	eq_int("+02:00", 1696629837000000000LL, ts_of("2023-10-07T00:03:57+02:00"));
	eq_int("leap day", 1709164800000000000LL, ts_of("2024-02-29T00:00:00Z"));
	eq_int("epoch", 0, ts_of("1970-01-01T00:00:00Z"));
	eq_int("before epoch", -1000000000LL, ts_of("1969-12-31T23:59:59Z"));
	expect_error("{\"process_exec\":{},\"time\":\"2023-02-29T00:00:00Z\"}",
		     "time: expected RFC 3339 timestamp, got string \"2023-02-29T00:00:00Z\"");
	expect_error("{\"process_exec\":{},\"time\":\"2023-10-06T22:03:57.Z\"}",
		     "time: expected RFC 3339 timestamp, got string \"2023-10-06T22:03:57.Z\"");
	expect_error("{\"process_exec\":{},\"time\":\"2023-10-06T22:03:57\"}",
		     "time: expected RFC 3339 timestamp, got string \"2023-10-06T22:03:57\"");
}

static void time_falls_back_to_exit_time_then_start_time_then_zero(void **state)
{
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(parse_str("{\"process_exit\":{\"process\":{\"start_time\":\"1970-01-01T00:00:02Z\"},"
				   "\"time\":\"1970-01-01T00:00:03Z\"}}",
				   &ev, NULL, &err),
			 TB_TETRAGON_OK);
	eq_int("exit time", 3000000000LL, ev.ts_ns);
	tb_runtime_event_clear(&ev);
	assert_int_equal(
	    parse_str("{\"process_exec\":{\"process\":{\"start_time\":\"1970-01-01T00:00:02Z\"}}}", &ev, NULL,
		      &err),
	    TB_TETRAGON_OK);
	eq_int("start time", 2000000000LL, ev.ts_ns);
	tb_runtime_event_clear(&ev);
	assert_int_equal(parse_str("{\"process_exec\":{\"process\":{\"pid\":1}}}", &ev, NULL, &err),
			 TB_TETRAGON_OK);
	eq_int("no time", 0, ev.ts_ns);
	tb_runtime_event_clear(&ev);
}

static void frames_beyond_127_are_dropped_and_counted(void **state)
{
	size_t cap = 64 + 200 * 40, n = 0;
	char *json = malloc(cap);
	tb_runtime_event_t ev;
	tb_tetragon_result_t res;
	tb_err_t err = {{0}};

	(void)state;
	assert_non_null(json);
	n += (size_t)snprintf(json + n, cap - n, "{\"process_kprobe\":{\"kernel_stack_trace\":[");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s{\"offset\":\"%d\",\"symbol\":\"f%d\"}",
				      i ? "," : "", i, i);
	snprintf(json + n, cap - n, "]}}");
	assert_int_equal(parse_str(json, &ev, &res, &err), TB_TETRAGON_OK);
	eq_int("kept", TB_MAX_FRAMES, (int64_t)ev.n_kernel_frames);
	eq_int("dropped", 200 - TB_MAX_FRAMES, (int64_t)res.frames_dropped);
	eq_str("last kept", "f126", ev.kernel_frames[126].symbol);
	tb_runtime_event_clear(&ev);
	free(json);
}

static void kernel_stack_trace_wins_over_legacy_stack_trace(void **state)
{
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(parse_str("{\"process_kprobe\":{\"stack_trace\":[{\"symbol\":\"old\"}],"
				   "\"kernel_stack_trace\":[{\"symbol\":\"new\"}]}}",
				   &ev, NULL, &err),
			 TB_TETRAGON_OK);
	eq_int("frames", 1, (int64_t)ev.n_kernel_frames);
	eq_str("symbol", "new", ev.kernel_frames[0].symbol);
	tb_runtime_event_clear(&ev);
}

static void container_id_strips_any_scheme_and_falls_back_to_docker_field(void **state)
{
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(
	    parse_str("{\"process_exec\":{\"process\":{\"docker\":\"abc123\",\"pod\":{\"container\":"
		      "{\"id\":\"cri-o://f00d\",\"image\":{\"id\":\"sha256:beef\"}}}}}}",
		      &ev, NULL, &err),
	    TB_TETRAGON_OK);
	eq_str("cri-o id", "f00d", ev.container.id);
	eq_str("bare sha256 image id", "sha256:beef", ev.container.image_digest);
	tb_runtime_event_clear(&ev);
	assert_int_equal(
	    parse_str("{\"process_exec\":{\"process\":{\"docker\":\"abc123\",\"pod\":{\"name\":\"p\","
		      "\"container\":{\"image\":{\"id\":\"docker.io/library/busybox:latest\"}}}}}}",
		      &ev, NULL, &err),
	    TB_TETRAGON_OK);
	eq_str("docker fallback", "abc123", ev.container.id);
	eq_str("image id without digest", NULL, ev.container.image_digest);
	eq_str("pod", "p", ev.container.pod);
	tb_runtime_event_clear(&ev);
}

static void tenant_comes_from_options(void **state)
{
	const char *json = "{\"process_exec\":{}}";
	tb_tetragon_opts_t opts = {.tenant = "acme"};
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(tb_tetragon_parse(json, strlen(json), &opts, &ev, NULL, &err), TB_TETRAGON_OK);
	eq_str("tenant", "acme", ev.tenant);
	tb_runtime_event_clear(&ev);
}

/* ---- event ids ------------------------------------------------------------------ */

static void event_id_follows_the_documented_recipe(void **state)
{
	/* Members in a scrambled order, with whitespace and absent-like values. */
	const char *json =
	    "{ \"time\" : \"1970-01-01T00:00:01Z\", \"process_kprobe\": { \"policy_name\": \"pol\","
	    " \"process\": {\"pid\": 1, \"exec_id\": \"eA==\", \"cwd\": \"\"}, \"parent\": null,"
	    " \"function_name\": \"f\\\"q\\n\", \"args\": [] }, \"node_name\": \"n\" }";
	const char *canonical = "{\"function_name\":\"f\\\"q\\n\",\"policy_name\":\"pol\","
				"\"process\":{\"exec_id\":\"eA==\",\"pid\":1}}";
	tb_runtime_event_t ev;
	tb_err_t err = {{0}};
	tb_hasher_t h;
	uint8_t want[TB_EVENT_ID_LEN];
	char got_hex[33], want_hex[33];

	(void)state;
	assert_int_equal(parse_str(json, &ev, NULL, &err), TB_TETRAGON_OK);
	tb_hasher_init(&h, "tetragon.event.v1");
	tb_hasher_str(&h, "n");
	tb_hasher_u64(&h, 1000000000ULL);
	tb_hasher_str(&h, "eA==");
	tb_hasher_str(&h, "process_kprobe");
	tb_hasher_str(&h, "f\"q\n");
	tb_hasher_str(&h, "pol");
	tb_hasher_bytes(&h, canonical, strlen(canonical));
	tb_hasher_final128(&h, want);
	tb_hex(want, TB_EVENT_ID_LEN, want_hex);
	tb_hex(ev.event_id, TB_EVENT_ID_LEN, got_hex);
	eq_str("event_id", want_hex, got_hex);
	tb_runtime_event_clear(&ev);
}

static void same_identity_but_different_content_gives_different_ids(void **state)
{
	const char *a = "{\"process_kprobe\":{\"process\":{\"exec_id\":\"e\"},\"function_name\":\"f\","
			"\"args\":[{\"int_arg\":1}]},\"node_name\":\"n\",\"time\":\"2024-01-01T00:00:00Z\"}";
	const char *b = "{\"process_kprobe\":{\"process\":{\"exec_id\":\"e\"},\"function_name\":\"f\","
			"\"args\":[{\"int_arg\":2}]},\"node_name\":\"n\",\"time\":\"2024-01-01T00:00:00Z\"}";
	tb_runtime_event_t x, y, z;
	tb_err_t err = {{0}};

	(void)state;
	assert_int_equal(parse_str(a, &x, NULL, &err), TB_TETRAGON_OK);
	assert_int_equal(parse_str(b, &y, NULL, &err), TB_TETRAGON_OK);
	assert_int_equal(parse_str(a, &z, NULL, &err), TB_TETRAGON_OK);
	assert_memory_not_equal(x.event_id, y.event_id, TB_EVENT_ID_LEN);
	assert_memory_equal(x.event_id, z.event_id, TB_EVENT_ID_LEN);
	tb_runtime_event_clear(&x);
	tb_runtime_event_clear(&y);
	tb_runtime_event_clear(&z);
}

static void distinct_events_across_all_fixtures_have_distinct_ids(void **state)
{
	static const char *const shared[] = {"book-process_exit.json",
					     "book-process_kprobe-write-bytes_arg.json",
					     "docs-advanced-exec-kprobe-linux_binprm.json",
					     "docs-capabilities-kprobe-capability_arg.json",
					     "docs-cgroup-rate-process_throttle-start.json",
					     "docs-events-process_exec-pod-workload.json",
					     "docs-filename-access-kprobe-file_arg.json",
					     "docs-kernel-modules-kprobe-module_arg.json",
					     "docs-process-execution-exec.json",
					     "docs-process-execution-exit.json",
					     "repo-testdata-events.jsonl"};
	static const char *const ours[] = {"v17-kprobe-stacks.json", "v10-kprobe-legacy-stack_trace.json",
					   "shapes.jsonl", "tolerance.jsonl"};
	uint8_t ids[64][TB_EVENT_ID_LEN];
	size_t n = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(shared) / sizeof(shared[0]) + sizeof(ours) / sizeof(ours[0]); f++) {
		parsed_set_t s;
		size_t ns = sizeof(shared) / sizeof(shared[0]);

		if (f < ns)
			parse_shared(shared[f], &s);
		else
			parse_ours(ours[f - ns], &s);
		for (size_t i = 0; i < s.n; i++) {
			if (s.p[i].status != TB_TETRAGON_OK)
				continue;
			assert_true(n < 64);
			memcpy(ids[n++], s.p[i].ev.event_id, TB_EVENT_ID_LEN);
		}
		free_set(&s);
	}
	eq_int("events", 13 + 1 + 1 + 8 + 1, (int64_t)n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (memcmp(ids[i], ids[j], TB_EVENT_ID_LEN) == 0)
				fail_msg("events #%zu and #%zu: expected different ids, got the same", i, j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(book_process_exit_maps_process_pod_and_time),
	    cmocka_unit_test(book_kprobe_write_maps_hook_and_containerd_id),
	    cmocka_unit_test(docs_linux_binprm_kprobe),
	    cmocka_unit_test(docs_capabilities_kprobe),
	    cmocka_unit_test(docs_throttle_has_no_process),
	    cmocka_unit_test(docs_exec_with_workload),
	    cmocka_unit_test(docs_file_access_kprobe_has_policy_and_workload_kind),
	    cmocka_unit_test(docs_kernel_module_kprobe_on_host_has_no_container),
	    cmocka_unit_test(docs_exec_and_exit_of_one_process),
	    cmocka_unit_test(repo_export_lines_parse_and_missing_time_falls_back_to_start_time),
	    cmocka_unit_test(every_shared_event_file_parses_without_errors),
	    cmocka_unit_test(stack_trace_fragments_are_not_events),
	    cmocka_unit_test(v17_kprobe_with_kernel_and_user_stacks),
	    cmocka_unit_test(pretty_and_compact_forms_have_the_same_event_id),
	    cmocka_unit_test(v10_legacy_stack_trace_is_read_as_kernel_frames),
	    cmocka_unit_test(comma_space_variant_equals_the_compact_export_line),
	    cmocka_unit_test(null_empty_and_missing_fields_read_as_absent),
	    cmocka_unit_test(every_event_type_maps_kind_hook_and_path),
	    cmocka_unit_test(unknown_legacy_and_test_types_are_skipped_with_their_name),
	    cmocka_unit_test(malformed_lines_report_precise_reasons_and_reading_goes_on),
	    cmocka_unit_test(wrong_types_name_their_json_path),
	    cmocka_unit_test(non_events_are_errors),
	    cmocka_unit_test(lower_camel_keys_are_accepted),
	    cmocka_unit_test(timestamps_with_0_3_6_9_fraction_digits_and_offsets),
	    cmocka_unit_test(time_falls_back_to_exit_time_then_start_time_then_zero),
	    cmocka_unit_test(frames_beyond_127_are_dropped_and_counted),
	    cmocka_unit_test(kernel_stack_trace_wins_over_legacy_stack_trace),
	    cmocka_unit_test(container_id_strips_any_scheme_and_falls_back_to_docker_field),
	    cmocka_unit_test(tenant_comes_from_options),
	    cmocka_unit_test(event_id_follows_the_documented_recipe),
	    cmocka_unit_test(same_identity_but_different_content_gives_different_ids),
	    cmocka_unit_test(distinct_events_across_all_fixtures_have_distinct_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
