/*
 * output.c — dry-run printing (folded / JSON) and the Kafka sink (see
 * output.h). JSON is built with jansson so every string is escaped right.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "tb/topics.h"

/* ---- folded ----------------------------------------------------------------- */

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : (p ? p : "");
}

static const char *comm_of(const tb_probe_batch_t *b, uint32_t pid)
{
	for (size_t i = 0; i < b->n_processes; i++)
		if (b->processes[i].pid == pid && b->processes[i].comm && b->processes[i].comm[0])
			return b->processes[i].comm;
	return NULL;
}

/* A frame label without the ";" and newlines that would break the format
 * (spaces are fine: flame-graph tools split the count off at the last one). */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s == '\n' ? ' ' : *s, f);
}

static void put_uframe(FILE *f, const tb_probe_uframe_t *u)
{
	if (u->symbol && u->symbol[0]) {
		put_label(f, u->symbol);
		return;
	}
	put_label(f, base_name(u->module));
	fprintf(f, "+0x%" PRIx64, u->file_offset);
}

static void print_sample(FILE *f, const tb_probe_batch_t *b, const tb_probe_sample_t *s)
{
	const char *comm = comm_of(b, s->pid);

	if (comm)
		put_label(f, comm);
	else
		fprintf(f, "pid-%u", s->pid);
	for (size_t j = s->n_user_frames; j-- > 0;) {
		fputc(';', f);
		put_uframe(f, &s->user_frames[j]);
	}
	for (size_t j = s->n_kernel_frames; j-- > 0;) {
		const char *k = s->kernel_frames[j].symbol;

		fputc(';', f);
		put_label(f, k && k[0] ? k : "[unknown]");
		fputs("_[k]", f);
	}
	fprintf(f, " %" PRId64 "\n", s->count);
}

static void print_uprobe(FILE *f, const tb_probe_uprobe_count_t *u)
{
	fprintf(f, "# uprobe %s %s offset=0x%" PRIx64 " build_id=%s hits=%" PRId64 " attached=%d stack=",
		u->binary, u->symbol, u->file_offset, u->build_id ? u->build_id : "-", u->hits, u->attached);
	for (size_t j = u->n_stack; j-- > 0;) {
		put_uframe(f, &u->stack[j]);
		if (j)
			fputc(';', f);
	}
	fputc('\n', f);
}

int tb_pa_print_folded(FILE *f, const tb_probe_batch_t *b)
{
	int64_t total = 0;

	for (size_t i = 0; i < b->n_samples; i++)
		total += b->samples[i].count;
	fprintf(f,
		"# batch node=%s seq=%" PRId64 " start_ns=%" PRId64 " end_ns=%" PRId64 " samples=%" PRId64
		" stacks=%zu lost_samples=%" PRId64 " lost_events=%" PRId64 "\n",
		b->node, b->seq, b->start_ns, b->end_ns, total, b->n_samples, b->lost_samples,
		b->lost_events);
	for (size_t i = 0; i < b->n_samples; i++)
		print_sample(f, b, &b->samples[i]);
	for (size_t i = 0; i < b->n_uprobe_counts; i++)
		print_uprobe(f, &b->uprobe_counts[i]);
	for (size_t i = 0; i < b->n_loads; i++)
		fprintf(f, "# load pid=%u %s build_id=%s\n", b->loads[i].pid, b->loads[i].path,
			b->loads[i].build_id ? b->loads[i].build_id : "-");
	return fflush(f) == 0 ? 0 : -1;
}

/* ---- JSON ----------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *juframes(const tb_probe_uframe_t *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:o, s:I, s:o, s:o}", "build_id", jstr(f[i].build_id), "file_offset",
				      (json_int_t)f[i].file_offset, "module", jstr(f[i].module), "symbol",
				      jstr(f[i].symbol));

		if (f[i].has_address)
			json_object_set_new(o, "address", json_integer((json_int_t)f[i].address));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *jkframes(const tb_probe_kframe_t *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:I, s:o}", "symbol", jstr(f[i].symbol), "offset",
						   (json_int_t)f[i].offset, "module", jstr(f[i].module)));
	return a;
}

static json_t *jprocesses(const tb_probe_batch_t *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->n_processes; i++) {
		const tb_probe_process_t *p = &b->processes[i];

		json_array_append_new(
		    a, json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:I}", "pid", (json_int_t)p->pid,
				 "exec_id", jstr(p->exec_id), "binary", jstr(p->binary), "binary_build_id",
				 jstr(p->binary_build_id), "container_id", jstr(p->container_id), "cgroup_id",
				 (json_int_t)p->cgroup_id, "comm", jstr(p->comm), "start_ns",
				 (json_int_t)p->start_ns));
	}
	return a;
}

static json_t *jsamples(const tb_probe_batch_t *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->n_samples; i++) {
		const tb_probe_sample_t *s = &b->samples[i];

		json_array_append_new(
		    a, json_pack("{s:I, s:I, s:i, s:I, s:I, s:I, s:o, s:o}", "pid", (json_int_t)s->pid, "tid",
				 (json_int_t)s->tid, "cpu", (int)s->cpu, "first_ns", (json_int_t)s->first_ns,
				 "last_ns", (json_int_t)s->last_ns, "count", (json_int_t)s->count,
				 "kernel_frames", jkframes(s->kernel_frames, s->n_kernel_frames),
				 "user_frames", juframes(s->user_frames, s->n_user_frames)));
	}
	return a;
}

static json_t *juprobes(const tb_probe_batch_t *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->n_uprobe_counts; i++) {
		const tb_probe_uprobe_count_t *u = &b->uprobe_counts[i];

		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:I, s:I, s:b, s:o}", "build_id",
						   jstr(u->build_id), "binary", jstr(u->binary), "symbol",
						   jstr(u->symbol), "file_offset", (json_int_t)u->file_offset,
						   "hits", (json_int_t)u->hits, "attached", u->attached,
						   "stack", juframes(u->stack, u->n_stack)));
	}
	return a;
}

static json_t *jloads(const tb_probe_batch_t *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->n_loads; i++)
		json_array_append_new(a, json_pack("{s:I, s:o, s:o, s:I}", "pid", (json_int_t)b->loads[i].pid,
						   "path", jstr(b->loads[i].path), "build_id",
						   jstr(b->loads[i].build_id), "ts_ns",
						   (json_int_t)b->loads[i].ts_ns));
	return a;
}

int tb_pa_print_json(FILE *f, const tb_probe_batch_t *b)
{
	json_t *o = json_pack(
	    "{s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I}", "node", jstr(b->node), "boot_id",
	    jstr(b->boot_id), "agent_version", jstr(b->agent_version), "seq", (json_int_t)b->seq, "start_ns",
	    (json_int_t)b->start_ns, "end_ns", (json_int_t)b->end_ns, "processes", jprocesses(b), "samples",
	    jsamples(b), "uprobe_counts", juprobes(b), "loads", jloads(b), "lost_samples",
	    (json_int_t)b->lost_samples, "lost_events", (json_int_t)b->lost_events);
	int rc;

	if (!o)
		return -1;
	rc = json_dumpf(o, f, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (rc == 0)
		fputc('\n', f);
	return rc == 0 && fflush(f) == 0 ? 0 : -1;
}

int tb_pa_print_batch(void *ctx, const tb_probe_batch_t *b, tb_err_t *err)
{
	tb_pa_print_t *p = ctx;
	int rc = p->format == TB_PA_JSON ? tb_pa_print_json(p->f, b) : tb_pa_print_folded(p->f, b);

	if (rc < 0)
		return tb_err(err, "dry-run: write to stdout failed");
	return 0;
}

/* ---- Kafka ----------------------------------------------------------------- */

int tb_pa_kafka_batch(void *ctx, const tb_probe_batch_t *b, tb_err_t *err)
{
	tb_pa_kafka_out_t *k = ctx;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (tb_avro_encode_probe_batch(k->reg, b, &buf, &len, err) < 0)
		return tb_err_wrap(err, "encode ProbeBatch seq %lld", (long long)b->seq);
	rc = tb_kafka_produce(k->producer, TB_TOPIC_PROBE_RAW, b->node, strlen(b->node), buf, len, NULL, 0,
			      err);
	free(buf);
	if (rc < 0)
		return tb_err_wrap(err, "produce ProbeBatch seq %lld", (long long)b->seq);
	k->batches++;
	k->bytes += len;
	tb_kafka_producer_poll(k->producer, 0);
	return 0;
}
