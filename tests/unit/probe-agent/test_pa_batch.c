/*
 * Unit tests for services/probe-agent/batch.c and output.c: a window
 * becomes one or more ProbeBatch records under the byte budget, every
 * sample and load exactly once, seq advancing per record, each record with
 * the process entries it refers to, uprobe counts and losses in the first
 * one only; an empty window still gives one record. Every record goes
 * through the real Avro codec (encode, decode) and must stay under its
 * 1 MiB limit. The dry-run printers: folded lines root first with kernel
 * frames marked, and JSON that parses back.
 */
#include <jansson.h>

#include "pa_test.h"

#include "../../../services/probe-agent/batch.h"
#include "../../../services/probe-agent/output.h"
#include "tb/avro.h"

static tb_avro_registry_t *reg;

typedef struct sink {
	size_t batches, samples, loads, ucount_batches;
	int64_t count_sum, first_seq, last_seq;
	size_t max_len;
	int bad_process_table;
	int64_t lost_samples;
} sink_t;

static int setup(void **state)
{
	tb_err_t err;

	(void)state;
	reg = tb_avro_registry_new(&err);
	if (!reg)
		fail_msg("registry: %s", err.msg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_avro_registry_free(reg);
	return 0;
}

static int emit(void *ctx, const tb_probe_batch_t *b, tb_err_t *err)
{
	sink_t *s = ctx;
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_probe_batch_t d;

	memset(&d, 0, sizeof(d));
	if (tb_avro_encode_probe_batch(reg, b, &buf, &len, err) < 0)
		fail_msg("encode batch seq %lld: %s", (long long)b->seq, err->msg);
	if (tb_avro_decode_probe_batch(reg, buf, len, &d, err) < 0)
		fail_msg("decode batch seq %lld: %s", (long long)b->seq, err->msg);
	free(buf);
	if (s->batches == 0)
		s->first_seq = d.seq;
	s->last_seq = d.seq;
	s->batches++;
	s->samples += d.n_samples;
	s->loads += d.n_loads;
	s->ucount_batches += d.n_uprobe_counts > 0;
	s->lost_samples += d.lost_samples;
	s->max_len = len > s->max_len ? len : s->max_len;
	for (size_t i = 0; i < d.n_samples; i++) {
		int found = 0;

		s->count_sum += d.samples[i].count;
		for (size_t j = 0; j < d.n_processes; j++)
			found |= d.processes[j].pid == d.samples[i].pid;
		s->bad_process_table |= !found;
	}
	for (size_t j = 0; j < d.n_processes; j++) { /* no entry without a reference */
		int used = 0;

		for (size_t i = 0; i < d.n_samples; i++)
			used |= d.samples[i].pid == d.processes[j].pid;
		for (size_t i = 0; i < d.n_loads; i++)
			used |= d.loads[i].pid == d.processes[j].pid;
		s->bad_process_table |= !used;
	}
	tb_probe_batch_clear(&d);
	return 0;
}

/* A window with n stacks over `pids` processes, each with depth user frames. */
static tb_pa_fold_t *make_fold(size_t n, uint32_t pids, size_t depth)
{
	tb_pa_fold_t *f = tb_pa_fold_new();

	for (size_t i = 0; i < n; i++) {
		uint64_t ips[2] = {0xffffffff81000000 + i, 0x400000 + i};
		int is_new;
		tb_pa_stack_t *s = tb_pa_fold_add(f, (uint32_t)(100 + i % pids), 1, 0, 1000 + (int64_t)i, ips,
						  1, 1, &is_new);

		s->count = 2;
		s->kframes = calloc(1, sizeof(*s->kframes));
		s->kframes[0].symbol = strdup("do_syscall_64");
		s->n_kframes = 1;
		s->uframes = calloc(depth, sizeof(*s->uframes));
		s->n_uframes = depth;
		for (size_t j = 0; j < depth; j++) {
			char sym[64];

			snprintf(sym, sizeof(sym), "function_number_%zu_%zu", i, j);
			s->uframes[j].build_id = strdup("0123456789abcdef0123456789abcdef01234567");
			s->uframes[j].module = strdup("/usr/lib/x86_64-linux-gnu/libsomething.so.1");
			s->uframes[j].symbol = strdup(sym);
			s->uframes[j].file_offset = 0x1000 + j;
		}
	}
	return f;
}

static tb_pa_proc_t *make_procs(uint32_t n)
{
	tb_pa_proc_t *p = calloc(n, sizeof(*p));

	for (uint32_t i = 0; i < n; i++) {
		p[i].pid = 100 + i;
		snprintf(p[i].exec_id, sizeof(p[i].exec_id), "node:%u:%u", 5 + i, 100 + i);
		snprintf(p[i].comm, sizeof(p[i].comm), "proc%u", i);
		p[i].binary = "/usr/bin/x";
	}
	return p;
}

static void big_windows_split_under_the_budget(void **state)
{
	tb_pa_fold_t *f = make_fold(3000, 40, 30);
	tb_pa_proc_t *procs = make_procs(50), *pp[50];
	tb_probe_load_t loads[3] = {{.pid = 101, .path = "/usr/lib/liba.so", .ts_ns = 5},
				    {.pid = 149, .path = "/usr/lib/libb.so", .ts_ns = 6},
				    {.pid = 102, .path = "/usr/lib/libc.so", .ts_ns = 7}};
	tb_probe_uprobe_count_t uc = {.binary = "/usr/bin/x", .symbol = "f", .hits = 3, .attached = 1};
	tb_pa_window_t w = {.node = "n1",
			    .boot_id = "b1",
			    .agent_version = "t",
			    .start_ns = 1,
			    .end_ns = 9,
			    .fold = f,
			    .ucounts = &uc,
			    .n_ucounts = 1,
			    .loads = loads,
			    .n_loads = 3,
			    .procs = pp,
			    .n_procs = 50,
			    .lost_samples = 7};
	sink_t s = {0};
	int64_t seq = 41;
	tb_err_t err;
	int n;

	(void)state;
	for (int i = 0; i < 50; i++)
		pp[i] = &procs[i];
	n = tb_pa_batch_emit(&w, &seq, emit, &s, &err);
	if (n < 2)
		fail_msg("expected several batches for ~4 MB of stacks, got %d", n);
	EXPECT_INT(n, (int64_t)s.batches);
	EXPECT_INT(3000, (int64_t)s.samples);
	EXPECT_INT(6000, s.count_sum);
	EXPECT_INT(3, (int64_t)s.loads);
	EXPECT_INT(1, (int64_t)s.ucount_batches);
	EXPECT_INT(7, s.lost_samples);
	EXPECT_INT(41, s.first_seq);
	EXPECT_INT(41 + n - 1, s.last_seq);
	EXPECT_INT(41 + n, seq);
	EXPECT_INT(0, s.bad_process_table);
	if (s.max_len > 512 * 1024)
		fail_msg("expected every record under the 256 KiB budget (with slack), largest was %zu bytes",
			 s.max_len);
	tb_pa_fold_free(f);
	free(procs);
}

static void an_empty_window_is_one_heartbeat(void **state)
{
	tb_pa_fold_t *f = tb_pa_fold_new();
	tb_pa_window_t w = {.node = "n1", .boot_id = "b1", .start_ns = 1, .end_ns = 2, .fold = f};
	sink_t s = {0};
	int64_t seq = 0;
	tb_err_t err;

	(void)state;
	EXPECT_INT(1, tb_pa_batch_emit(&w, &seq, emit, &s, &err));
	EXPECT_INT(1, (int64_t)s.batches);
	EXPECT_INT(1, seq);
	tb_pa_fold_free(f);
}

static tb_probe_batch_t one_sample_batch(tb_probe_uframe_t *uf, tb_probe_kframe_t *kf, tb_probe_sample_t *smp,
					 tb_probe_process_t *pr)
{
	tb_probe_batch_t b;

	memset(&b, 0, sizeof(b));
	uf[0] = (tb_probe_uframe_t){
	    .build_id = "ab12", .file_offset = 0x1490, .module = "/opt/app", .symbol = "leaf"};
	uf[1] = (tb_probe_uframe_t){
	    .build_id = "ab12", .file_offset = 0x14d8, .module = "/opt/app", .symbol = NULL};
	uf[2] = (tb_probe_uframe_t){
	    .build_id = "ab12", .file_offset = 0x1100, .module = "/opt/app", .symbol = "main"};
	kf[0] = (tb_probe_kframe_t){.symbol = "irq_handler", .offset = 4};
	*smp = (tb_probe_sample_t){.pid = 7,
				   .tid = 7,
				   .count = 42,
				   .user_frames = uf,
				   .n_user_frames = 3,
				   .kernel_frames = kf,
				   .n_kernel_frames = 1};
	*pr = (tb_probe_process_t){.pid = 7, .exec_id = "n:1:7", .comm = "my app"};
	b.node = "n1";
	b.boot_id = "b";
	b.samples = smp;
	b.n_samples = 1;
	b.processes = pr;
	b.n_processes = 1;
	return b;
}

static void folded_lines_are_root_first(void **state)
{
	tb_probe_uframe_t uf[3];
	tb_probe_kframe_t kf[1];
	tb_probe_sample_t smp;
	tb_probe_process_t pr;
	tb_probe_batch_t b = one_sample_batch(uf, kf, &smp, &pr);
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(tb_pa_print_folded(f, &b), 0);
	fclose(f);
	line = strchr(buf, '\n');
	assert_non_null(line);
	*strchr(line + 1, '\n') = '\0';
	EXPECT_STR("my app;main;app+0x14d8;leaf;irq_handler_[k] 42", line + 1);
	free(buf);
}

static void json_parses_back_with_every_frame_field(void **state)
{
	tb_probe_uframe_t uf[3];
	tb_probe_kframe_t kf[1];
	tb_probe_sample_t smp;
	tb_probe_process_t pr;
	tb_probe_batch_t b = one_sample_batch(uf, kf, &smp, &pr);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t je;
	json_t *o, *fr;

	(void)state;
	assert_int_equal(tb_pa_print_json(f, &b), 0);
	fclose(f);
	o = json_loads(buf, 0, &je);
	if (!o)
		fail_msg("JSON does not parse: %s in %s", je.text, buf);
	fr = json_array_get(json_object_get(json_array_get(json_object_get(o, "samples"), 0), "user_frames"),
			    1);
	EXPECT_STR("ab12", json_string_value(json_object_get(fr, "build_id")));
	EXPECT_INT(0x14d8, json_integer_value(json_object_get(fr, "file_offset")));
	EXPECT_STR("/opt/app", json_string_value(json_object_get(fr, "module")));
	assert_true(json_is_null(json_object_get(fr, "symbol")));
	assert_null(json_object_get(fr, "address"));
	json_decref(o);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(big_windows_split_under_the_budget),
	    cmocka_unit_test(an_empty_window_is_one_heartbeat),
	    cmocka_unit_test(folded_lines_are_root_first),
	    cmocka_unit_test(json_parses_back_with_every_frame_field),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
