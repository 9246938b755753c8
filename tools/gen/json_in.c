/*
 * json_in.c — records from tb-gen's JSON form (see gen.h).
 *
 * Each record type has a list of allowed field names; anything else that
 * does not start with '_' is refused with its name. Getters leave a field
 * untouched when it is absent or null, so defaults are set before reading.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "tb/hash.h"
#include "tb/topics.h"

int gen_type_parse(const char *s, gen_type_t *out)
{
	static const char *const names[] = {"correlated", "canonical", "artifact", "finding"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (gen_type_t)i;
			return 0;
		}
	return -1;
}

const char *gen_type_topic(gen_type_t t)
{
	switch (t) {
	case GEN_CANONICAL:
		return TB_TOPIC_EVENTS_CANONICAL;
	case GEN_ARTIFACT:
		return TB_TOPIC_ARTIFACTS;
	case GEN_FINDING:
		return TB_TOPIC_FINDINGS;
	default:
		return TB_TOPIC_EVENTS_CORRELATED;
	}
}

/* ---- getters ------------------------------------------------------------- */

static int check_fields(json_t *o, const char *const *allowed, const char *what, tb_err_t *err)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return tb_err(err, "%s: not a JSON object", what);
	json_object_foreach(o, k, v)
	{
		size_t i;

		(void)v;
		if (k[0] == '_')
			continue;
		for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
			;
		if (!allowed[i])
			return tb_err(err, "%s: unknown field '%s'", what, k);
	}
	return 0;
}

static int get_str(json_t *o, const char *k, char **out, const char *what, tb_err_t *err)
{
	json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return tb_err(err, "%s.%s: expected a string", what, k);
	free(*out);
	*out = strdup(json_string_value(v));
	return *out ? 0 : tb_err(err, "out of memory");
}

static int get_i64(json_t *o, const char *k, int64_t *out, const char *what, tb_err_t *err)
{
	json_t *v = json_object_get(o, k);
	char *end;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		*out = strtoll(json_string_value(v), &end, 0);
		if (*json_string_value(v) && !*end)
			return 0;
	}
	return tb_err(err, "%s.%s: expected an integer (number or decimal string)", what, k);
}

static int get_u32(json_t *o, const char *k, uint32_t *out, const char *what, tb_err_t *err)
{
	int64_t v = *out;

	if (get_i64(o, k, &v, what, err) < 0)
		return -1;
	if (v < 0 || v > UINT32_MAX)
		return tb_err(err, "%s.%s: %lld does not fit 32 bits", what, k, (long long)v);
	*out = (uint32_t)v;
	return 0;
}

static int get_bool(json_t *o, const char *k, int *out, const char *what, tb_err_t *err)
{
	json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return tb_err(err, "%s.%s: expected true or false", what, k);
	*out = json_is_true(v);
	return 0;
}

static int get_str_array(json_t *o, const char *k, char ***out, size_t *n, const char *what, tb_err_t *err)
{
	json_t *v = json_object_get(o, k), *it;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return tb_err(err, "%s.%s: expected an array of strings", what, k);
	*out = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!*out)
		return tb_err(err, "out of memory");
	json_array_foreach(v, i, it)
	{
		if (!json_is_string(it))
			return tb_err(err, "%s.%s[%zu]: expected a string", what, k, i);
		(*out)[i] = strdup(json_string_value(it));
		*n = i + 1;
		if (!(*out)[i])
			return tb_err(err, "out of memory");
	}
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* event_id: 32 hex digits, or derived from the whole object. */
static int get_event_id(json_t *o, uint8_t out[TB_EVENT_ID_LEN], tb_err_t *err)
{
	json_t *v = json_object_get(o, "event_id");
	tb_hasher_t h;
	char *text;

	if (v && json_is_string(v) && strlen(json_string_value(v)) == 2 * TB_EVENT_ID_LEN) {
		const char *s = json_string_value(v);

		for (size_t i = 0; i < TB_EVENT_ID_LEN; i++) {
			int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return tb_err(err, "event.event_id: not 32 hex digits");
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		return 0;
	}
	if (v && !json_is_null(v))
		return tb_err(err, "event.event_id: expected 32 hex digits");
	text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	if (!text)
		return tb_err(err, "out of memory");
	tb_hasher_init(&h, "gen.event.v1");
	tb_hasher_str(&h, text);
	tb_hasher_final128(&h, out);
	free(text);
	return 0;
}

/* ---- CorrelatedEvent / CanonicalEvent --------------------------------------- */

static const char *const frame_fields[] = {"frame_id", "build_id",	  "module", "file_offset", "symbol",
					   "kernel",   "artifact_digest", "purl",   "finding_ids", NULL};
static const char *const container_fields[] = {"id",	    "name",	 "image",    "image_digest",
					       "pod",	    "namespace", "workload", "workload_kind",
					       "cgroup_id", NULL};
static const char *const event_fields[] = {
    "event_id", "tenant", "source",  "kind",	  "ts_ns",	     "node",	 "pid",		  "tid",
    "uid_hash", "binary", "exec_id", "container", "frames",	     "stack_id", "leaf_frame_id", "count",
    "hook",	"policy", "path",    "build_id",  "artifact_digest", "purl",	 "correlation",	  NULL};

int64_t gen_frame_id(const tb_canon_frame_t *f)
{
	tb_hasher_t h;

	tb_hasher_init(&h, "gen.frame.v1");
	tb_hasher_u64(&h, (uint64_t)(f->kernel != 0));
	tb_hasher_str(&h, f->build_id);
	tb_hasher_str(&h, f->module);
	tb_hasher_u64(&h, f->file_offset);
	tb_hasher_str(&h, f->symbol);
	return tb_hasher_final64(&h);
}

static int frame_from_json(json_t *o, size_t i, tb_canon_frame_t *f, tb_err_t *err)
{
	char what[64];
	int64_t off = 0, id = 0;

	snprintf(what, sizeof(what), "event.frames[%zu]", i);
	if (check_fields(o, frame_fields, what, err) < 0 ||
	    get_str(o, "build_id", &f->build_id, what, err) < 0 ||
	    get_str(o, "module", &f->module, what, err) < 0 ||
	    get_str(o, "symbol", &f->symbol, what, err) < 0 ||
	    get_i64(o, "file_offset", &off, what, err) < 0 ||
	    get_bool(o, "kernel", &f->kernel, what, err) < 0 ||
	    get_str(o, "artifact_digest", &f->artifact_digest, what, err) < 0 ||
	    get_str(o, "purl", &f->purl, what, err) < 0 ||
	    get_str_array(o, "finding_ids", &f->finding_ids, &f->n_finding_ids, what, err) < 0 ||
	    get_i64(o, "frame_id", &id, what, err) < 0)
		return -1;
	f->file_offset = (uint64_t)off;
	f->frame_id = json_object_get(o, "frame_id") ? id : gen_frame_id(f);
	return 0;
}

static int container_from_json(json_t *o, tb_container_t *c, tb_err_t *err)
{
	const char *w = "event.container";
	int64_t cg = 0;

	if (!o || json_is_null(o))
		return 0;
	if (check_fields(o, container_fields, w, err) < 0 || get_str(o, "id", &c->id, w, err) < 0 ||
	    get_str(o, "name", &c->name, w, err) < 0 || get_str(o, "image", &c->image, w, err) < 0 ||
	    get_str(o, "image_digest", &c->image_digest, w, err) < 0 ||
	    get_str(o, "pod", &c->pod, w, err) < 0 || get_str(o, "namespace", &c->namespace_, w, err) < 0 ||
	    get_str(o, "workload", &c->workload, w, err) < 0 ||
	    get_str(o, "workload_kind", &c->workload_kind, w, err) < 0 ||
	    get_i64(o, "cgroup_id", &cg, w, err) < 0)
		return -1;
	c->cgroup_id = (uint64_t)cg;
	return 0;
}

static int frames_from_json(json_t *o, tb_event_t *ev, tb_err_t *err)
{
	json_t *fr = json_object_get(o, "frames"), *it;
	size_t i;

	if (!fr || json_is_null(fr))
		return 0;
	if (!json_is_array(fr))
		return tb_err(err, "event.frames: expected an array");
	ev->frames = calloc(json_array_size(fr) + 1, sizeof(*ev->frames));
	if (!ev->frames)
		return tb_err(err, "out of memory");
	json_array_foreach(fr, i, it)
	{
		ev->n_frames = i + 1;
		if (frame_from_json(it, i, &ev->frames[i], err) < 0)
			return -1;
	}
	return 0;
}

int64_t gen_stack_id(const tb_canon_frame_t *frames, size_t n)
{
	tb_hasher_t h;

	if (!n)
		return 0;
	tb_hasher_init(&h, "gen.stack.v1");
	for (size_t i = 0; i < n; i++)
		tb_hasher_u64(&h, (uint64_t)frames[i].frame_id);
	return tb_hasher_final64(&h);
}

static void derive_ids(json_t *o, tb_event_t *ev)
{
	if (!json_object_get(o, "stack_id"))
		ev->stack_id = gen_stack_id(ev->frames, ev->n_frames);
	if (!json_object_get(o, "leaf_frame_id") && ev->n_frames)
		ev->leaf_frame_id = ev->frames[0].frame_id;
}

int gen_event_from_json(json_t *o, tb_event_t *ev, tb_err_t *err)
{
	const char *w = "event";

	ev->count = 1;
	if (check_fields(o, event_fields, w, err) < 0 || get_event_id(o, ev->event_id, err) < 0 ||
	    get_str(o, "tenant", &ev->tenant, w, err) < 0 || get_str(o, "source", &ev->source, w, err) < 0 ||
	    get_str(o, "kind", &ev->kind, w, err) < 0 || get_i64(o, "ts_ns", &ev->ts_ns, w, err) < 0 ||
	    get_str(o, "node", &ev->node, w, err) < 0 || get_u32(o, "pid", &ev->pid, w, err) < 0 ||
	    get_u32(o, "tid", &ev->tid, w, err) < 0 || get_str(o, "uid_hash", &ev->uid_hash, w, err) < 0 ||
	    get_str(o, "binary", &ev->binary, w, err) < 0 ||
	    get_str(o, "exec_id", &ev->exec_id, w, err) < 0 ||
	    container_from_json(json_object_get(o, "container"), &ev->container, err) < 0 ||
	    frames_from_json(o, ev, err) < 0 || get_i64(o, "stack_id", &ev->stack_id, w, err) < 0 ||
	    get_i64(o, "leaf_frame_id", &ev->leaf_frame_id, w, err) < 0 ||
	    get_i64(o, "count", &ev->count, w, err) < 0 || get_str(o, "hook", &ev->hook, w, err) < 0 ||
	    get_str(o, "policy", &ev->policy, w, err) < 0 || get_str(o, "path", &ev->path, w, err) < 0 ||
	    get_str(o, "build_id", &ev->build_id, w, err) < 0 ||
	    get_str(o, "artifact_digest", &ev->artifact_digest, w, err) < 0 ||
	    get_str(o, "purl", &ev->purl, w, err) < 0 ||
	    get_str(o, "correlation", &ev->correlation, w, err) < 0)
		return -1;
	derive_ids(o, ev);
	if (!ev->correlation &&
	    !(ev->correlation = strdup(ev->artifact_digest ? "correlated" : "uncorrelated")))
		return tb_err(err, "out of memory");
	return 0;
}

void gen_event_key(const tb_event_t *ev, char *out, size_t cap)
{
	snprintf(out, cap, "%lld", (long long)ev->stack_id);
}

/* ---- Artifact / Finding ------------------------------------------------------- */

static const char *const artifact_fields[] = {"tenant",	     "digest",	    "name",	     "version",
					      "sbom_format", "sbom_sha256", "registered_ns", "components",
					      "binaries",    NULL};
static const char *const component_fields[] = {"purl", "name", "version", NULL};
static const char *const binary_fields[] = {"path", "build_id", "purl", NULL};
static const char *const finding_fields[] = {"tenant",		"finding_id", "vuln_id",       "purl",
					     "artifact_digest", "symbols",    "registered_ns", NULL};

static int components_from_json(json_t *o, tb_artifact_t *a, tb_err_t *err)
{
	json_t *arr = json_object_get(o, "components"), *it;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) ||
	    !(a->components = calloc(json_array_size(arr) + 1, sizeof(*a->components))))
		return tb_err(err, "artifact.components: expected an array");
	json_array_foreach(arr, i, it)
	{
		tb_component_t *c = &a->components[i];

		a->n_components = i + 1;
		if (check_fields(it, component_fields, "artifact.components[]", err) < 0 ||
		    get_str(it, "purl", &c->purl, "artifact.components[]", err) < 0 ||
		    get_str(it, "name", &c->name, "artifact.components[]", err) < 0 ||
		    get_str(it, "version", &c->version, "artifact.components[]", err) < 0)
			return -1;
	}
	return 0;
}

static int binaries_from_json(json_t *o, tb_artifact_t *a, tb_err_t *err)
{
	json_t *arr = json_object_get(o, "binaries"), *it;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || !(a->binaries = calloc(json_array_size(arr) + 1, sizeof(*a->binaries))))
		return tb_err(err, "artifact.binaries: expected an array");
	json_array_foreach(arr, i, it)
	{
		tb_binary_t *b = &a->binaries[i];

		a->n_binaries = i + 1;
		if (check_fields(it, binary_fields, "artifact.binaries[]", err) < 0 ||
		    get_str(it, "path", &b->path, "artifact.binaries[]", err) < 0 ||
		    get_str(it, "build_id", &b->build_id, "artifact.binaries[]", err) < 0 ||
		    get_str(it, "purl", &b->purl, "artifact.binaries[]", err) < 0)
			return -1;
	}
	return 0;
}

int gen_artifact_from_json(json_t *o, tb_artifact_t *a, tb_err_t *err)
{
	const char *w = "artifact";

	if (check_fields(o, artifact_fields, w, err) < 0 || get_str(o, "tenant", &a->tenant, w, err) < 0 ||
	    get_str(o, "digest", &a->digest, w, err) < 0 || get_str(o, "name", &a->name, w, err) < 0 ||
	    get_str(o, "version", &a->version, w, err) < 0 ||
	    get_str(o, "sbom_format", &a->sbom_format, w, err) < 0 ||
	    get_str(o, "sbom_sha256", &a->sbom_sha256, w, err) < 0 ||
	    get_i64(o, "registered_ns", &a->registered_ns, w, err) < 0 ||
	    components_from_json(o, a, err) < 0 || binaries_from_json(o, a, err) < 0)
		return -1;
	return 0;
}

int gen_finding_from_json(json_t *o, tb_finding_t *f, tb_err_t *err)
{
	const char *w = "finding";

	if (check_fields(o, finding_fields, w, err) < 0 || get_str(o, "tenant", &f->tenant, w, err) < 0 ||
	    get_str(o, "finding_id", &f->finding_id, w, err) < 0 ||
	    get_str(o, "vuln_id", &f->vuln_id, w, err) < 0 || get_str(o, "purl", &f->purl, w, err) < 0 ||
	    get_str(o, "artifact_digest", &f->artifact_digest, w, err) < 0 ||
	    get_str_array(o, "symbols", &f->symbols, &f->n_symbols, w, err) < 0 ||
	    get_i64(o, "registered_ns", &f->registered_ns, w, err) < 0)
		return -1;
	return 0;
}
