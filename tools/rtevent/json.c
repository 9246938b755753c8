/*
 * json.c — tb-rtevent's JSON <-> record conversions: a ProbeBatch from a
 * JSON description (to produce test batches), a RuntimeEvent to JSON (to
 * print what the adapter wrote). Field names are the Avro schema's.
 */
#include <stdlib.h>
#include <string.h>

#include "rtevent.h"
#include "tb/hash.h"

/* ---- JSON -> ProbeBatch --------------------------------------------------- */

static int get_str(const json_t *o, const char *k, char **out, tb_err_t *err)
{
	const json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return tb_err(err, "%s: expected a string", k);
	*out = strdup(json_string_value(v));
	return *out ? 0 : tb_err(err, "%s: out of memory", k);
}

static int get_i64(const json_t *o, const char *k, int64_t *out, tb_err_t *err)
{
	const json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return tb_err(err, "%s: expected an integer", k);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

#define GET_U(o, k, field, err)                                                                              \
	({                                                                                                   \
		int64_t v_ = (int64_t)(field); /* absent: keep */                                            \
		int r_ = get_i64(o, k, &v_, err);                                                            \
		(field) = (__typeof__(field))v_;                                                             \
		r_;                                                                                          \
	})

/* Allocate an array for a JSON array member; returns its length, -1 on error. */
static long get_array(const json_t *o, const char *k, void **out, size_t elem, tb_err_t *err)
{
	const json_t *v = json_object_get(o, k);
	size_t n;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		tb_err(err, "%s: expected an array", k);
		return -1;
	}
	n = json_array_size(v);
	if (n == 0)
		return 0;
	*out = calloc(n, elem);
	if (!*out) {
		tb_err(err, "%s: out of memory", k);
		return -1;
	}
	return (long)n;
}

static int uframe(const json_t *j, tb_probe_uframe_t *f, tb_err_t *err)
{
	const json_t *addr = json_object_get(j, "address");

	if (get_str(j, "build_id", &f->build_id, err) < 0 ||
	    GET_U(j, "file_offset", f->file_offset, err) < 0 || get_str(j, "module", &f->module, err) < 0 ||
	    get_str(j, "symbol", &f->symbol, err) < 0 || GET_U(j, "address", f->address, err) < 0)
		return -1;
	f->has_address = addr && !json_is_null(addr);
	return 0;
}

static int uframes(const json_t *o, const char *k, tb_probe_uframe_t **out, size_t *n, tb_err_t *err)
{
	long len = get_array(o, k, (void **)out, sizeof(**out), err);

	if (len < 0)
		return -1;
	*n = (size_t)len;
	for (long i = 0; i < len; i++)
		if (uframe(json_array_get(json_object_get(o, k), (size_t)i), &(*out)[i], err) < 0)
			return tb_err_wrap(err, "%s[%ld]", k, i);
	return 0;
}

static int kframes(const json_t *o, tb_probe_sample_t *s, tb_err_t *err)
{
	long len = get_array(o, "kernel_frames", (void **)&s->kernel_frames, sizeof(*s->kernel_frames), err);

	if (len < 0)
		return -1;
	s->n_kernel_frames = (size_t)len;
	for (long i = 0; i < len; i++) {
		const json_t *j = json_array_get(json_object_get(o, "kernel_frames"), (size_t)i);
		tb_probe_kframe_t *f = &s->kernel_frames[i];

		if (get_str(j, "symbol", &f->symbol, err) < 0 || GET_U(j, "offset", f->offset, err) < 0 ||
		    get_str(j, "module", &f->module, err) < 0)
			return tb_err_wrap(err, "kernel_frames[%ld]", i);
	}
	return 0;
}

static int process(const json_t *j, tb_probe_process_t *p, tb_err_t *err)
{
	return GET_U(j, "pid", p->pid, err) < 0 || get_str(j, "exec_id", &p->exec_id, err) < 0 ||
		       get_str(j, "binary", &p->binary, err) < 0 ||
		       get_str(j, "binary_build_id", &p->binary_build_id, err) < 0 ||
		       get_str(j, "container_id", &p->container_id, err) < 0 ||
		       GET_U(j, "cgroup_id", p->cgroup_id, err) < 0 ||
		       get_str(j, "comm", &p->comm, err) < 0 || get_i64(j, "start_ns", &p->start_ns, err) < 0
		   ? -1
		   : 0;
}

static int sample(const json_t *j, tb_probe_sample_t *s, tb_err_t *err)
{
	s->cpu = -1;
	s->count = 1;
	return GET_U(j, "pid", s->pid, err) < 0 || GET_U(j, "tid", s->tid, err) < 0 ||
		       GET_U(j, "cpu", s->cpu, err) < 0 || get_i64(j, "first_ns", &s->first_ns, err) < 0 ||
		       get_i64(j, "last_ns", &s->last_ns, err) < 0 ||
		       get_i64(j, "count", &s->count, err) < 0 || kframes(j, s, err) < 0 ||
		       uframes(j, "user_frames", &s->user_frames, &s->n_user_frames, err) < 0
		   ? -1
		   : 0;
}

static int uprobe(const json_t *j, tb_probe_uprobe_count_t *u, tb_err_t *err)
{
	const json_t *att = json_object_get(j, "attached");

	if (att && !json_is_boolean(att))
		return tb_err(err, "attached: expected a boolean");
	u->attached = !att || json_is_true(att);
	return get_str(j, "build_id", &u->build_id, err) < 0 || get_str(j, "binary", &u->binary, err) < 0 ||
		       get_str(j, "symbol", &u->symbol, err) < 0 ||
		       GET_U(j, "file_offset", u->file_offset, err) < 0 ||
		       get_i64(j, "hits", &u->hits, err) < 0 ||
		       uframes(j, "stack", &u->stack, &u->n_stack, err) < 0
		   ? -1
		   : 0;
}

static int load(const json_t *j, tb_probe_load_t *l, tb_err_t *err)
{
	return GET_U(j, "pid", l->pid, err) < 0 || get_str(j, "path", &l->path, err) < 0 ||
		       get_str(j, "build_id", &l->build_id, err) < 0 ||
		       get_i64(j, "ts_ns", &l->ts_ns, err) < 0
		   ? -1
		   : 0;
}

/* Fill an array member of the batch with `one` per element. */
#define EACH(j, key, arr, n, one)                                                                            \
	do {                                                                                                 \
		long len_ = get_array(j, key, (void **)&(arr), sizeof(*(arr)), err);                         \
		if (len_ < 0)                                                                                \
			return -1;                                                                           \
		(n) = (size_t)len_;                                                                          \
		for (long i_ = 0; i_ < len_; i_++)                                                           \
			if (one(json_array_get(json_object_get(j, key), (size_t)i_), &(arr)[i_], err) < 0)   \
				return tb_err_wrap(err, "%s[%ld]", key, i_);                                 \
	} while (0)

int rtevent_probe_batch_from_json(const json_t *j, tb_probe_batch_t *b, tb_err_t *err)
{
	if (!json_is_object(j))
		return tb_err(err, "a ProbeBatch must be a JSON object");
	if (get_str(j, "node", &b->node, err) < 0 || get_str(j, "boot_id", &b->boot_id, err) < 0 ||
	    get_str(j, "agent_version", &b->agent_version, err) < 0 || get_i64(j, "seq", &b->seq, err) < 0 ||
	    get_i64(j, "start_ns", &b->start_ns, err) < 0 || get_i64(j, "end_ns", &b->end_ns, err) < 0 ||
	    get_i64(j, "lost_samples", &b->lost_samples, err) < 0 ||
	    get_i64(j, "lost_events", &b->lost_events, err) < 0)
		return -1;
	EACH(j, "processes", b->processes, b->n_processes, process);
	EACH(j, "samples", b->samples, b->n_samples, sample);
	EACH(j, "uprobe_counts", b->uprobe_counts, b->n_uprobe_counts, uprobe);
	EACH(j, "loads", b->loads, b->n_loads, load);
	return 0;
}

/* ---- RuntimeEvent -> JSON ------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *frames(const tb_raw_frame_t *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(
		    a, json_pack("{s:o, s:o, s:I, s:o, s:o}", "address",
				 f[i].has_address ? json_integer((json_int_t)f[i].address) : json_null(),
				 "module", str_or_null(f[i].module), "offset", (json_int_t)f[i].offset,
				 "symbol", str_or_null(f[i].symbol), "build_id", str_or_null(f[i].build_id)));
	return a;
}

json_t *rtevent_event_to_json(const tb_runtime_event_t *ev)
{
	char id[2 * TB_EVENT_ID_LEN + 1];
	const tb_process_t *p = &ev->process;
	const tb_container_t *c = &ev->container;

	tb_hex(ev->event_id, TB_EVENT_ID_LEN, id);
	return json_pack(
	    "{s:s, s:o, s:o, s:o, s:I, s:o,"
	    " s:{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o},"
	    " s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I},"
	    " s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:b}",
	    "event_id", id, "tenant", str_or_null(ev->tenant), "source", str_or_null(ev->source), "kind",
	    str_or_null(ev->kind), "ts_ns", (json_int_t)ev->ts_ns, "node", str_or_null(ev->node), "process",
	    "pid", (json_int_t)p->pid, "tid", (json_int_t)p->tid, "uid", (json_int_t)p->uid, "binary",
	    str_or_null(p->binary), "binary_build_id", str_or_null(p->binary_build_id), "exec_id",
	    str_or_null(p->exec_id), "parent_exec_id", str_or_null(p->parent_exec_id), "comm",
	    str_or_null(p->comm), "args", str_or_null(p->args), "container", "id", str_or_null(c->id), "name",
	    str_or_null(c->name), "image", str_or_null(c->image), "image_digest",
	    str_or_null(c->image_digest), "pod", str_or_null(c->pod), "namespace", str_or_null(c->namespace_),
	    "workload", str_or_null(c->workload), "cgroup_id", (json_int_t)c->cgroup_id, "kernel_frames",
	    frames(ev->kernel_frames, ev->n_kernel_frames), "user_frames",
	    frames(ev->user_frames, ev->n_user_frames), "count", (json_int_t)ev->count, "hook",
	    str_or_null(ev->hook), "policy", str_or_null(ev->policy), "path", str_or_null(ev->path),
	    "build_id", str_or_null(ev->build_id), "origin", str_or_null(ev->origin), "attached",
	    ev->attached ? 1 : 0);
}
