/*
 * json_out.c — records as JSON (tb-gen dump): the same field names tb-gen
 * reads, so a dump line can be edited and fed back. Optional strings that
 * are absent are left out; 64-bit ids are numbers (jansson keeps int64).
 */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "tb/hash.h"

static void put_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void put_int(json_t *o, const char *k, int64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static int printable(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

json_t *gen_bytes_to_json(const void *p, size_t len)
{
	json_t *s;
	char *hex;

	if (!p)
		return json_null();
	if (printable(p, len) && (s = json_stringn(p, len)))
		return s; /* jansson refuses invalid UTF-8: then hex */
	hex = malloc(2 * len + 1);
	if (!hex)
		return json_null();
	tb_hex(p, len, hex);
	s = json_pack("{s:s}", "hex", hex);
	free(hex);
	return s;
}

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i] ? v[i] : ""));
	return a;
}

static json_t *container_json(const tb_container_t *c)
{
	json_t *o = json_object();

	put_str(o, "id", c->id);
	put_str(o, "name", c->name);
	put_str(o, "image", c->image);
	put_str(o, "image_digest", c->image_digest);
	put_str(o, "pod", c->pod);
	put_str(o, "namespace", c->namespace_);
	put_str(o, "workload", c->workload);
	put_str(o, "workload_kind", c->workload_kind);
	put_int(o, "cgroup_id", (int64_t)c->cgroup_id);
	return o;
}

json_t *gen_event_to_json(const tb_event_t *ev, int correlated)
{
	json_t *o = json_object(), *frames = json_array();
	char id[2 * TB_EVENT_ID_LEN + 1];

	tb_hex(ev->event_id, TB_EVENT_ID_LEN, id);
	put_str(o, "event_id", id);
	put_str(o, "tenant", ev->tenant);
	put_str(o, "source", ev->source);
	put_str(o, "kind", ev->kind);
	put_int(o, "ts_ns", ev->ts_ns);
	put_str(o, "node", ev->node);
	put_int(o, "pid", ev->pid);
	put_int(o, "tid", ev->tid);
	put_str(o, "uid_hash", ev->uid_hash);
	put_str(o, "binary", ev->binary);
	put_str(o, "exec_id", ev->exec_id);
	json_object_set_new(o, "container", container_json(&ev->container));
	for (size_t i = 0; i < ev->n_frames; i++) {
		const tb_canon_frame_t *f = &ev->frames[i];
		json_t *fo = json_object();

		put_int(fo, "frame_id", f->frame_id);
		put_str(fo, "build_id", f->build_id);
		put_str(fo, "module", f->module);
		put_int(fo, "file_offset", (int64_t)f->file_offset);
		put_str(fo, "symbol", f->symbol);
		json_object_set_new(fo, "kernel", json_boolean(f->kernel));
		if (correlated) {
			put_str(fo, "artifact_digest", f->artifact_digest);
			put_str(fo, "purl", f->purl);
			json_object_set_new(fo, "finding_ids", str_array(f->finding_ids, f->n_finding_ids));
		}
		json_array_append_new(frames, fo);
	}
	json_object_set_new(o, "frames", frames);
	put_int(o, "stack_id", ev->stack_id);
	put_int(o, "leaf_frame_id", ev->leaf_frame_id);
	put_int(o, "count", ev->count);
	put_str(o, "hook", ev->hook);
	put_str(o, "policy", ev->policy);
	put_str(o, "path", ev->path);
	put_str(o, "build_id", ev->build_id);
	if (correlated) {
		put_str(o, "artifact_digest", ev->artifact_digest);
		put_str(o, "purl", ev->purl);
		put_str(o, "correlation", ev->correlation);
	}
	return o;
}

json_t *gen_artifact_to_json(const tb_artifact_t *a)
{
	json_t *o = json_object(), *comps = json_array(), *bins = json_array();

	put_str(o, "tenant", a->tenant);
	put_str(o, "digest", a->digest);
	put_str(o, "name", a->name);
	put_str(o, "version", a->version);
	put_str(o, "sbom_format", a->sbom_format);
	put_str(o, "sbom_sha256", a->sbom_sha256);
	put_int(o, "registered_ns", a->registered_ns);
	for (size_t i = 0; i < a->n_components; i++) {
		json_t *c = json_object();

		put_str(c, "purl", a->components[i].purl);
		put_str(c, "name", a->components[i].name);
		put_str(c, "version", a->components[i].version);
		json_array_append_new(comps, c);
	}
	for (size_t i = 0; i < a->n_binaries; i++) {
		json_t *b = json_object();

		put_str(b, "path", a->binaries[i].path);
		put_str(b, "build_id", a->binaries[i].build_id);
		put_str(b, "purl", a->binaries[i].purl);
		json_array_append_new(bins, b);
	}
	json_object_set_new(o, "components", comps);
	json_object_set_new(o, "binaries", bins);
	return o;
}

json_t *gen_finding_to_json(const tb_finding_t *f)
{
	json_t *o = json_object();

	put_str(o, "tenant", f->tenant);
	put_str(o, "finding_id", f->finding_id);
	put_str(o, "vuln_id", f->vuln_id);
	put_str(o, "purl", f->purl);
	put_str(o, "artifact_digest", f->artifact_digest);
	json_object_set_new(o, "symbols", str_array(f->symbols, f->n_symbols));
	put_int(o, "registered_ns", f->registered_ns);
	return o;
}

json_t *gen_dead_letter_to_json(const tb_dead_letter_t *d)
{
	json_t *o = json_object();

	put_str(o, "service", d->service);
	put_str(o, "reason", d->reason);
	put_str(o, "source_topic", d->source_topic);
	put_int(o, "partition", d->partition);
	put_int(o, "offset", d->offset);
	put_str(o, "position", d->position);
	put_int(o, "ts_ns", d->ts_ns);
	json_object_set_new(o, "key", gen_bytes_to_json(d->key, d->key_len));
	json_object_set_new(o, "payload", gen_bytes_to_json(d->payload, d->payload_len));
	put_int(o, "payload_len", (int64_t)d->payload_len);
	return o;
}

json_t *gen_runtime_event_to_json(const tb_runtime_event_t *ev)
{
	json_t *o = json_object();
	char id[2 * TB_EVENT_ID_LEN + 1];

	tb_hex(ev->event_id, TB_EVENT_ID_LEN, id);
	put_str(o, "event_id", id);
	put_str(o, "tenant", ev->tenant);
	put_str(o, "source", ev->source);
	put_str(o, "kind", ev->kind);
	put_int(o, "ts_ns", ev->ts_ns);
	put_str(o, "node", ev->node);
	put_int(o, "n_kernel_frames", (int64_t)ev->n_kernel_frames);
	put_int(o, "n_user_frames", (int64_t)ev->n_user_frames);
	put_int(o, "count", ev->count);
	put_str(o, "hook", ev->hook);
	put_str(o, "origin", ev->origin);
	return o;
}
