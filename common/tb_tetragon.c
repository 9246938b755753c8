/*
 * tb_tetragon.c — Tetragon JSON event -> tb_runtime_event_t (see
 * tb/tetragon.h for the accepted shapes, the mapping and the event_id recipe).
 *
 * How it works: tb_jsondom.c parses the object (jansson for what is outside
 * its fast subset: the same tree, jansson's error texts); the envelope's single event key
 * picks a per-type mapper; small typed accessors read fields with the
 * tolerance rules (null/""/[]/{} = absent, numbers or decimal strings,
 * lowerCamel fallback) and report type errors with the JSON path, which is
 * kept as a chain of stack frames (jpath_t) and rendered only on error.
 * A bare integer that overflows int64 (jansson refuses it) is re-read after
 * quoting such numbers, so uint64 addresses written as numbers stay exact.
 * The event_id hashes the identity fields plus a canonical serialization of
 * the payload written straight from the tree.
 */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/hash.h"
#include "tb/tetragon.h"
#include "tb_jsondom.h"

#define MAX_BUILD_ID 64

/* ---- the tree (tb_jsondom.h), read with jansson's accessor names ----------- */

#define jv_typeof(v) ((v)->type)
#define jv_is_object(v) ((v) && (v)->type == TB_JV_OBJECT)
#define jv_is_array(v) ((v) && (v)->type == TB_JV_ARRAY)
#define jv_is_string(v) ((v) && (v)->type == TB_JV_STRING)
#define jv_is_integer(v) ((v) && (v)->type == TB_JV_INTEGER)
#define jv_is_real(v) ((v) && (v)->type == TB_JV_REAL)
#define jv_is_null(v) ((v) && (v)->type == TB_JV_NULL)
#define jv_string_value(v) ((v)->u.s)
#define jv_string_length(v) ((v)->n)
#define jv_integer_value(v) ((v)->u.i)
#define jv_real_value(v) ((v)->u.d)
#define jv_array_size(v) ((v)->n)
#define jv_object_size(v) ((v)->n)
#define jv_object_get(v, key) tb_jv_get((v), (key))
/* Members in document order, like json_object_foreach. */
#define jv_object_foreach(obj, k_, v_)                                                                       \
	for (size_t jv_i_ = 0;                                                                               \
	     jv_i_ < (obj)->n && ((k_) = (obj)->u.m[jv_i_].key, (v_) = (obj)->u.m[jv_i_].val, 1); jv_i_++)
#define jv_array_foreach(arr, idx, value)                                                                    \
	for ((idx) = 0; (idx) < (arr)->n && ((value) = (arr)->u.m[(idx)].val, 1); (idx)++)

/* ---- JSON paths for error messages -------------------------------------- */

typedef struct jpath {
	const struct jpath *up;
	const char *key; /* NULL: array index */
	size_t idx;
} jpath_t;

static void path_render(const jpath_t *p, char *buf, size_t cap, size_t *len)
{
	int n;

	if (!p)
		return;
	path_render(p->up, buf, cap, len);
	if (*len >= cap)
		return;
	if (p->key)
		n = snprintf(buf + *len, cap - *len, "%s%s", *len ? "." : "", p->key);
	else
		n = snprintf(buf + *len, cap - *len, "[%zu]", p->idx);
	if (n > 0)
		*len += (size_t)n;
}

static void describe(const tb_jv_t *v, char *buf, size_t cap)
{
	if (!v) { /* callers pass present values; cppcheck cannot tell */
		snprintf(buf, cap, "nothing");
		return;
	}
	switch (jv_typeof(v)) {
	case TB_JV_OBJECT:
		snprintf(buf, cap, "object");
		break;
	case TB_JV_ARRAY:
		snprintf(buf, cap, "array");
		break;
	case TB_JV_TRUE:
		snprintf(buf, cap, "true");
		break;
	case TB_JV_FALSE:
		snprintf(buf, cap, "false");
		break;
	case TB_JV_NULL:
		snprintf(buf, cap, "null");
		break;
	case TB_JV_INTEGER:
		snprintf(buf, cap, "number %lld", jv_integer_value(v));
		break;
	case TB_JV_REAL:
		snprintf(buf, cap, "number %.17g", jv_real_value(v));
		break;
	case TB_JV_STRING: {
		const char *s = jv_string_value(v);
		size_t n = jv_string_length(v);

		if (n > 40)
			snprintf(buf, cap, "string \"%.40s...\"", s);
		else
			snprintf(buf, cap, "string \"%s\"", s);
		break;
	}
	}
}

/* "PATH: expected WHAT, got DESCRIPTION" */
static int bad(tb_err_t *err, const jpath_t *p, const char *expected, const tb_jv_t *got)
{
	char path[512] = "", desc[96];
	size_t len = 0;

	path_render(p, path, sizeof(path), &len);
	describe(got, desc, sizeof(desc));
	if (!len)
		return tb_err(err, "expected %s, got %s", expected, desc);
	return tb_err(err, "%s: expected %s, got %s", path, expected, desc);
}

/* ---- tolerant accessors -------------------------------------------------- */

static int absent_like(const tb_jv_t *v)
{
	if (!v || jv_is_null(v))
		return 1;
	if (jv_is_string(v))
		return jv_string_length(v) == 0;
	if (jv_is_array(v))
		return jv_array_size(v) == 0;
	if (jv_is_object(v))
		return jv_object_size(v) == 0;
	return 0;
}

/* "kernel_stack_trace" -> "kernelStackTrace" */
static int to_camel(const char *key, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *k = key; *k; k++) {
		if (o + 1 >= cap)
			return -1;
		if (*k == '_' && k[1]) {
			out[o++] = (char)toupper((unsigned char)*++k);
			continue;
		}
		out[o++] = *k;
	}
	out[o] = '\0';
	return 0;
}

/* Member `key` (snake_case, then lowerCamel), NULL when absent-like. */
static tb_jv_t *get(const tb_jv_t *obj, const char *key)
{
	tb_jv_t *v = jv_object_get(obj, key);
	char camel[64];

	if (!v && strchr(key, '_') && to_camel(key, camel, sizeof(camel)) == 0)
		v = jv_object_get(obj, camel);
	return absent_like(v) ? NULL : v;
}

static int get_str(const tb_jv_t *obj, const jpath_t *up, const char *key, char **out, tb_err_t *err)
{
	tb_jv_t *v = get(obj, key);
	jpath_t p = {up, key, 0};

	*out = NULL;
	if (!v)
		return 0;
	if (!jv_is_string(v))
		return bad(err, &p, "string", v);
	*out = strndup(jv_string_value(v), jv_string_length(v));
	if (!*out)
		return tb_err(err, "out of memory");
	return 0;
}

/* The member as a borrowed C string, NULL when absent. */
static int peek_str(const tb_jv_t *obj, const jpath_t *up, const char *key, const char **out, tb_err_t *err)
{
	tb_jv_t *v = get(obj, key);
	jpath_t p = {up, key, 0};

	*out = NULL;
	if (!v)
		return 0;
	if (!jv_is_string(v))
		return bad(err, &p, "string", v);
	*out = jv_string_value(v);
	return 0;
}

static int parse_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* An unsigned integer: JSON number or decimal string. *present = 0 when absent. */
static int value_u64(const tb_jv_t *v, const jpath_t *p, uint64_t max, uint64_t *out, tb_err_t *err)
{
	if (jv_is_integer(v)) {
		long long i = jv_integer_value(v);

		if (i < 0 || (uint64_t)i > max)
			return bad(err, p, max == UINT32_MAX ? "unsigned 32-bit integer" : "unsigned integer",
				   v);
		*out = (uint64_t)i;
		return 0;
	}
	if (jv_is_string(v)) {
		if (parse_decimal(jv_string_value(v), jv_string_length(v), out) < 0 || *out > max)
			return bad(err, p, max == UINT32_MAX ? "decimal string (32-bit)" : "decimal string",
				   v);
		return 0;
	}
	return bad(err, p, jv_is_real(v) ? "integer" : "decimal string", v);
}

static int get_uint(const tb_jv_t *obj, const jpath_t *up, const char *key, uint64_t max, uint64_t *out,
		    int *present, tb_err_t *err)
{
	tb_jv_t *v = get(obj, key);
	jpath_t p = {up, key, 0};

	*out = 0;
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	return value_u64(v, &p, max, out, err);
}

static int get_obj(const tb_jv_t *obj, const jpath_t *up, const char *key, tb_jv_t **out, tb_err_t *err)
{
	tb_jv_t *v = get(obj, key);
	jpath_t p = {up, key, 0};

	*out = NULL;
	if (!v)
		return 0;
	if (!jv_is_object(v))
		return bad(err, &p, "object", v);
	*out = v;
	return 0;
}

static int get_arr(const tb_jv_t *obj, const jpath_t *up, const char *key, tb_jv_t **out, tb_err_t *err)
{
	tb_jv_t *v = get(obj, key);
	jpath_t p = {up, key, 0};

	*out = NULL;
	if (!v)
		return 0;
	if (!jv_is_array(v))
		return bad(err, &p, "array", v);
	*out = v;
	return 0;
}

static char *join2(const char *a, char sep, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s%c%s", a ? a : "", sep, b ? b : "") < 0)
		return NULL;
	return s;
}

/* ---- RFC 3339 timestamps --------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic
	 * Gregorian calendar. */
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* "2023-10-06T22:03:57.700327580Z" -> ns since the epoch. */
static int parse_rfc3339(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t frac = 0, secs;
	size_t i = 19;
	int fd = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
			if (fd < 9)
				frac = frac * 10 + (s[i] - '0');
		if (fd == 0)
			return -1;
		for (int k = fd; k < 9; k++)
			frac *= 10;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		if (s[i] == '-')
			oh = -oh, om = -om;
		i += 6;
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
	       (oh * 3600 + om * 60);
	/* int64 nanoseconds cover 1677-09-21 .. 2262-04-11. */
	if (secs < -9223372036LL || secs > 9223372035LL)
		return -1;
	*out = secs * 1000000000LL + frac;
	return 0;
}

static int get_time(const tb_jv_t *obj, const jpath_t *up, const char *key, int64_t *out, int *present,
		    tb_err_t *err)
{
	tb_jv_t *v = get(obj, key);
	jpath_t p = {up, key, 0};

	*present = v != NULL;
	if (!v)
		return 0;
	if (!jv_is_string(v) || parse_rfc3339(jv_string_value(v), jv_string_length(v), out) < 0)
		return bad(err, &p, "RFC 3339 timestamp", v);
	return 0;
}

/* ---- process and container ------------------------------------------------- */

/* "containerd://abc" -> "abc" (any "<scheme>://" prefix). */
static char *strip_scheme(const char *id)
{
	const char *s = strstr(id, "://");

	return strdup(s ? s + 3 : id);
}

/* "docker.io/x@sha256:abc" / "docker-pullable://x@sha256:abc" / "sha256:abc"
 * -> "sha256:abc"; NULL when there is no digest (e.g. "busybox:latest" is a
 * tag, not a digest). */
static char *image_digest(const char *image_id)
{
	static const char *const algos[] = {"sha256:", "sha384:", "sha512:"};
	const char *at = strrchr(image_id, '@');
	const char *d = at ? at + 1 : image_id;

	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		size_t n = strlen(algos[i]);
		const char *h = d + n;

		if (strncmp(d, algos[i], n) != 0 || !*h)
			continue;
		while (isxdigit((unsigned char)*h))
			h++;
		return *h ? NULL : strdup(d);
	}
	return NULL;
}

static int parse_container(const tb_jv_t *proc, const jpath_t *pp, tb_container_t *c, tb_err_t *err)
{
	jpath_t podp = {pp, "pod", 0}, cp = {&podp, "container", 0}, ip = {&cp, "image", 0};
	tb_jv_t *pod, *cont = NULL, *img = NULL;
	const char *id = NULL, *image_id = NULL;

	if (get_obj(proc, pp, "pod", &pod, err) < 0)
		return -1;
	if (pod && (get_obj(pod, &podp, "container", &cont, err) < 0 ||
		    get_str(pod, &podp, "name", &c->pod, err) < 0 ||
		    get_str(pod, &podp, "namespace", &c->namespace_, err) < 0 ||
		    get_str(pod, &podp, "workload", &c->workload, err) < 0 ||
		    get_str(pod, &podp, "workload_kind", &c->workload_kind, err) < 0))
		return -1;
	if (cont &&
	    (peek_str(cont, &cp, "id", &id, err) < 0 || get_str(cont, &cp, "name", &c->name, err) < 0 ||
	     get_obj(cont, &cp, "image", &img, err) < 0))
		return -1;
	if (img &&
	    (get_str(img, &ip, "name", &c->image, err) < 0 || peek_str(img, &ip, "id", &image_id, err) < 0))
		return -1;
	if (!id && peek_str(proc, pp, "docker", &id, err) < 0)
		return -1;
	if (id && !(c->id = strip_scheme(id)))
		return tb_err(err, "out of memory");
	if (image_id)
		c->image_digest = image_digest(image_id);
	return 0;
}

static int parse_env(const tb_jv_t *proc, const jpath_t *pp, tb_process_t *p, tb_err_t *err)
{
	jpath_t ap = {pp, "environment_variables", 0};
	tb_jv_t *arr, *el;
	size_t i;

	if (get_arr(proc, pp, "environment_variables", &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	p->env = calloc(jv_array_size(arr), sizeof(char *));
	if (!p->env)
		return tb_err(err, "out of memory");
	jv_array_foreach(arr, i, el)
	{
		jpath_t ep = {&ap, NULL, i};
		const char *k = NULL, *v = NULL;

		if (!jv_is_object(el))
			return bad(err, &ep, "object {Key, Value}", el);
		if (peek_str(el, &ep, "Key", &k, err) < 0 || (!k && peek_str(el, &ep, "key", &k, err) < 0) ||
		    peek_str(el, &ep, "Value", &v, err) < 0 ||
		    (!v && peek_str(el, &ep, "value", &v, err) < 0))
			return -1;
		if (!k)
			continue; /* protojson drops an empty key; nothing to name */
		if (!(p->env[p->n_env] = join2(k, '=', v)))
			return tb_err(err, "out of memory");
		p->n_env++;
	}
	return 0;
}

static int parse_process(const tb_jv_t *proc, const jpath_t *pp, tb_runtime_event_t *ev, int64_t *start_ns,
			 int *has_start, tb_err_t *err)
{
	tb_process_t *p = &ev->process;
	uint64_t v;
	int present;

	if (get_uint(proc, pp, "pid", UINT32_MAX, &v, NULL, err) < 0)
		return -1;
	p->pid = (uint32_t)v;
	if (get_uint(proc, pp, "tid", UINT32_MAX, &v, NULL, err) < 0)
		return -1;
	p->tid = (uint32_t)v;
	/* uid is a wrapper: "uid":0 is root, no uid is unknown. */
	if (get_uint(proc, pp, "uid", UINT32_MAX, &v, &present, err) < 0)
		return -1;
	p->uid = present ? (int64_t)v : -1;
	if (get_str(proc, pp, "binary", &p->binary, err) < 0 ||
	    get_str(proc, pp, "arguments", &p->args, err) < 0 || get_str(proc, pp, "cwd", &p->cwd, err) < 0 ||
	    get_str(proc, pp, "exec_id", &p->exec_id, err) < 0 ||
	    get_str(proc, pp, "parent_exec_id", &p->parent_exec_id, err) < 0)
		return -1;
	if (parse_env(proc, pp, p, err) < 0)
		return -1;
	if (get_time(proc, pp, "start_time", start_ns, has_start, err) < 0)
		return -1;
	return parse_container(proc, pp, &ev->container, err);
}

/* ---- stack frames ---------------------------------------------------------- */

static int parse_frame(const tb_jv_t *el, const jpath_t *fp, tb_raw_frame_t *f, tb_err_t *err)
{
	if (!jv_is_object(el))
		return bad(err, fp, "object (stack trace entry)", el);
	if (get_uint(el, fp, "address", UINT64_MAX, &f->address, &f->has_address, err) < 0 ||
	    get_uint(el, fp, "offset", UINT64_MAX, &f->offset, NULL, err) < 0 ||
	    get_str(el, fp, "symbol", &f->symbol, err) < 0 || get_str(el, fp, "module", &f->module, err) < 0)
		return -1;
	return 0;
}

static int parse_stack(const tb_jv_t *payload, const jpath_t *up, const char *key, tb_raw_frame_t **out,
		       size_t *n_out, size_t *dropped, tb_err_t *err)
{
	jpath_t sp = {up, key, 0};
	tb_jv_t *arr, *el;
	size_t i, n;

	if (get_arr(payload, up, key, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	n = jv_array_size(arr);
	if (n > TB_MAX_FRAMES) {
		*dropped += n - TB_MAX_FRAMES;
		n = TB_MAX_FRAMES;
	}
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return tb_err(err, "out of memory");
	jv_array_foreach(arr, i, el)
	{
		jpath_t fp = {&sp, NULL, i};

		if (i >= n)
			break;
		if (parse_frame(el, &fp, &(*out)[i], err) < 0)
			return -1;
		(*n_out)++;
	}
	return 0;
}

static int parse_stacks(const tb_jv_t *payload, const jpath_t *pp, tb_runtime_event_t *ev, size_t *dropped,
			tb_err_t *err)
{
	const char *kkey = get(payload, "kernel_stack_trace") ? "kernel_stack_trace" : "stack_trace";

	if (parse_stack(payload, pp, kkey, &ev->kernel_frames, &ev->n_kernel_frames, dropped, err) < 0)
		return -1;
	return parse_stack(payload, pp, "user_stack_trace", &ev->user_frames, &ev->n_user_frames, dropped,
			   err);
}

/* ---- per-type mappers --------------------------------------------------------- */

typedef struct ctx {
	const tb_jv_t *root;
	const tb_jv_t *payload;
	const jpath_t *path; /* the event key */
	size_t len;	     /* input size */
	tb_runtime_event_t *ev;
	tb_tetragon_result_t *res;
	tb_err_t *err;
} ctx_t;

static int map_kprobe(ctx_t *c)
{
	return get_str(c->payload, c->path, "function_name", &c->ev->hook, c->err);
}

static int map_uprobe(ctx_t *c)
{
	uint64_t off;
	int has_off;

	if (get_str(c->payload, c->path, "path", &c->ev->path, c->err) < 0 ||
	    get_str(c->payload, c->path, "symbol", &c->ev->hook, c->err) < 0 ||
	    get_uint(c->payload, c->path, "offset", UINT64_MAX, &off, &has_off, c->err) < 0)
		return -1;
	if (!c->ev->hook && has_off && asprintf(&c->ev->hook, "0x%" PRIx64, off) < 0) {
		c->ev->hook = NULL;
		return tb_err(c->err, "out of memory");
	}
	return 0;
}

static int map_pair(ctx_t *c, const char *k1, const char *k2)
{
	const char *a = NULL, *b = NULL;

	if (peek_str(c->payload, c->path, k1, &a, c->err) < 0 ||
	    peek_str(c->payload, c->path, k2, &b, c->err) < 0)
		return -1;
	if (!a && !b)
		return 0;
	if (!(c->ev->hook = join2(a, ':', b)))
		return tb_err(c->err, "out of memory");
	return 0;
}

static int map_tracepoint(ctx_t *c)
{
	return map_pair(c, "subsys", "event");
}

static int map_usdt(ctx_t *c)
{
	if (get_str(c->payload, c->path, "path", &c->ev->path, c->err) < 0)
		return -1;
	return map_pair(c, "provider", "name");
}

static int map_loader(ctx_t *c)
{
	jpath_t bp = {c->path, "buildid", 0};
	unsigned char bin[MAX_BUILD_ID];
	size_t n = 0;
	tb_jv_t *v;
	const char *b64;

	if (get_str(c->payload, c->path, "path", &c->ev->path, c->err) < 0)
		return -1;
	v = get(c->payload, "buildid");
	if (!v)
		return 0;
	if (!jv_is_string(v))
		return bad(c->err, &bp, "base64 string", v);
	b64 = jv_string_value(v);
	if (sodium_base642bin(bin, sizeof(bin), b64, jv_string_length(v), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 &&
	    sodium_base642bin(bin, sizeof(bin), b64, jv_string_length(v), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
		return bad(c->err, &bp, "base64 string of at most 64 bytes", v);
	if (n == 0)
		return 0;
	if (!(c->ev->build_id = malloc(2 * n + 1)))
		return tb_err(c->err, "out of memory");
	tb_hex(bin, n, c->ev->build_id);
	return 0;
}

static int map_throttle(ctx_t *c)
{
	if (get_str(c->payload, c->path, "type", &c->ev->hook, c->err) < 0)
		return -1;
	return get_str(c->payload, c->path, "cgroup", &c->ev->path, c->err);
}

static int map_rate_limit(ctx_t *c)
{
	uint64_t n;

	if (get_uint(c->payload, c->path, "number_of_dropped_process_events", INT64_MAX, &n, NULL, c->err) <
	    0)
		return -1;
	/* Tetragon writes the summary only when it dropped events; one that says
	 * 0 (or nothing: absent = zero) carries no fact and no observation can
	 * hold count 0 (schemas/sql/007): skipped, counted by type. */
	if (n == 0)
		return 1;
	c->ev->count = (int64_t)n;
	return 0;
}

static int map_none(ctx_t *c)
{
	(void)c;
	return 0;
}

typedef struct evtype {
	const char *key;
	const char *kind; /* NULL: skipped */
	int has_process;
	int (*map)(ctx_t *c);
} evtype_t;

static const evtype_t types[] = {
    {"process_exec", "exec", 1, map_none},
    {"process_exit", "exit", 1, map_none},
    {"process_kprobe", "kprobe", 1, map_kprobe},
    {"process_uprobe", "uprobe", 1, map_uprobe},
    {"process_tracepoint", "tracepoint", 1, map_tracepoint},
    {"process_lsm", "lsm", 1, map_kprobe},
    {"process_loader", "load", 1, map_loader},
    {"process_usdt", "usdt", 1, map_usdt},
    {"process_throttle", "throttle", 0, map_throttle},
    {"rate_limit_info", "rate_limit", 0, map_rate_limit},
    {"test", NULL, 0, NULL},
};

static const char *const envelope_keys[] = {"node_name", "time", "aggregation_info", "cluster_name",
					    "node_labels"};

const char *tb_tetragon_kind(const char *type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].key, type) == 0)
			return types[i].kind;
	return NULL;
}

/* "processKprobe" -> "process_kprobe" */
static void to_snake(const char *key, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *k = key; *k && o + 2 < cap; k++) {
		if (isupper((unsigned char)*k)) {
			out[o++] = '_';
			out[o++] = (char)tolower((unsigned char)*k);
		} else {
			out[o++] = *k;
		}
	}
	out[o] = '\0';
}

static const evtype_t *find_type(const char *snake)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].key, snake) == 0)
			return &types[i];
	return NULL;
}

static int is_envelope(const char *snake)
{
	for (size_t i = 0; i < sizeof(envelope_keys) / sizeof(envelope_keys[0]); i++)
		if (strcmp(envelope_keys[i], snake) == 0)
			return 1;
	return 0;
}

/* Append "k1, k2, ..." of obj to buf. */
static void list_keys(const tb_jv_t *obj, char *buf, size_t cap)
{
	const char *k;
	tb_jv_t *v;
	size_t len = 0;

	buf[0] = '\0';
	jv_object_foreach((tb_jv_t *)obj, k, v)
	{
		int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", k);

		(void)v;
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
}

/* Find the event key. Returns 1 known type (*t, *payload), 0 skipped
 * (res->type set), -1 error. */
static int dispatch(const tb_jv_t *root, const evtype_t **t, tb_jv_t **payload, tb_tetragon_result_t *res,
		    tb_err_t *err)
{
	const char *k, *known_key = NULL, *unknown = NULL;
	tb_jv_t *v;
	char snake[64], keys[256];

	*t = NULL;
	jv_object_foreach((tb_jv_t *)root, k, v)
	{
		const evtype_t *et;

		to_snake(k, snake, sizeof(snake));
		if (is_envelope(snake))
			continue;
		et = find_type(snake);
		if (!et) {
			if (!unknown && jv_is_object(v))
				unknown = k;
			continue;
		}
		if (*t)
			return tb_err(err, "more than one event key: %s and %s", known_key, k);
		*t = et;
		known_key = k;
		*payload = v;
	}
	if (*t) {
		snprintf(res->type, sizeof(res->type), "%s", (*t)->key);
		return (*t)->kind ? 1 : 0;
	}
	if (unknown) {
		to_snake(unknown, snake, sizeof(snake));
		snprintf(res->type, sizeof(res->type), "%s", snake);
		return 0;
	}
	list_keys(root, keys, sizeof(keys));
	if (jv_object_size(root) == 0)
		return tb_err(err, "not a Tetragon event: empty object");
	if (jv_object_get(root, "offset") || jv_object_get(root, "address") || jv_object_get(root, "module"))
		return tb_err(err,
			      "not a Tetragon event: no event key (keys: %s); this is a stack trace entry, "
			      "an element of kernel_stack_trace/user_stack_trace, not a complete event",
			      keys);
	return tb_err(err, "not a Tetragon event: no event key such as process_exec (keys: %s)", keys);
}

/* ---- canonical JSON for the event id ----------------------------------------- */

typedef struct cbuf {
	char *p;
	size_t len, cap;
	int oom;
} cbuf_t;

static void cb_grow_put(cbuf_t *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap - b->len < n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* The common case inline: the buffer was sized for the input up front. */
static inline void cb_put(cbuf_t *b, const char *s, size_t n)
{
	if (!b->oom && b->cap - b->len >= n) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
		return;
	}
	cb_grow_put(b, s, n);
}

static inline void cb_putc(cbuf_t *b, char c)
{
	if (!b->oom && b->cap > b->len) {
		b->p[b->len++] = c;
		return;
	}
	cb_grow_put(b, &c, 1);
}

static void cb_str(cbuf_t *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	cb_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		cb_put(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		cb_put(b, esc, elen);
	}
	cb_put(b, s + run, n - run);
	cb_putc(b, '"');
}

static void canon(cbuf_t *b, const tb_jv_t *v);

static int cmp_members(const void *a, const void *b)
{
	return strcmp((*(const tb_jmember_t *const *)a)->key, (*(const tb_jmember_t *const *)b)->key);
}

/* Members sorted by key (unique: duplicates are refused), absent-like ones left out. */
static void canon_object(cbuf_t *b, const tb_jv_t *v)
{
	const tb_jmember_t *stack_mems[64];
	const tb_jmember_t **mems = stack_mems;
	size_t n = 0, cap = jv_object_size(v);

	if (cap > 64 && !(mems = malloc(cap * sizeof(*mems)))) {
		b->oom = 1;
		return;
	}
	for (size_t i = 0; i < cap; i++)
		if (!absent_like(v->u.m[i].val))
			mems[n++] = &v->u.m[i];
	if (n > 1)
		qsort(mems, n, sizeof(*mems), cmp_members);
	cb_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			cb_putc(b, ',');
		cb_str(b, mems[i]->key, strlen(mems[i]->key));
		cb_putc(b, ':');
		canon(b, mems[i]->val);
	}
	cb_putc(b, '}');
	if (mems != stack_mems)
		free(mems);
}

static void canon(cbuf_t *b, const tb_jv_t *v)
{
	char num[40];
	size_t i;
	tb_jv_t *el;
	int n;

	switch (jv_typeof(v)) {
	case TB_JV_OBJECT:
		canon_object(b, v);
		return;
	case TB_JV_ARRAY:
		cb_putc(b, '[');
		jv_array_foreach((tb_jv_t *)v, i, el)
		{
			if (i)
				cb_putc(b, ',');
			canon(b, el);
		}
		cb_putc(b, ']');
		return;
	case TB_JV_STRING:
		cb_str(b, jv_string_value(v), jv_string_length(v));
		return;
	case TB_JV_INTEGER:
		n = snprintf(num, sizeof(num),
			     "%"
			     "lld",
			     jv_integer_value(v));
		cb_put(b, num, (size_t)n);
		return;
	case TB_JV_REAL:
		n = snprintf(num, sizeof(num), "%.17g", jv_real_value(v));
		cb_put(b, num, (size_t)n);
		return;
	case TB_JV_TRUE:
		cb_put(b, "true", 4);
		return;
	case TB_JV_FALSE:
		cb_put(b, "false", 5);
		return;
	case TB_JV_NULL:
		cb_put(b, "null", 4);
		return;
	}
}

static int event_id(const evtype_t *t, const tb_jv_t *payload, size_t size_hint, tb_runtime_event_t *ev,
		    tb_err_t *err)
{
	cbuf_t b = {0};
	tb_hasher_t h;

	/* The canonical text is never longer than the input by much: one
	 * allocation in the common case. */
	b.cap = size_hint + 256;
	b.p = malloc(b.cap);
	b.oom = b.p == NULL;
	canon(&b, payload);
	if (b.oom) {
		free(b.p);
		return tb_err(err, "out of memory");
	}
	tb_hasher_init(&h, "tetragon.event.v1");
	tb_hasher_str(&h, ev->node);
	tb_hasher_u64(&h, (uint64_t)ev->ts_ns);
	tb_hasher_str(&h, ev->process.exec_id);
	tb_hasher_str(&h, t->key);
	tb_hasher_str(&h, ev->hook);
	tb_hasher_str(&h, ev->policy);
	tb_hasher_bytes(&h, b.p, b.len);
	tb_hasher_final128(&h, ev->event_id);
	free(b.p);
	return 0;
}

/* ---- JSON loading ------------------------------------------------------------- */

/* Copy of json with every bare integer outside int64 wrapped in quotes. */
static char *quote_big_ints(const char *json, size_t len, size_t *out_len)
{
	static const char max_pos[] = "9223372036854775807", min_neg[] = "9223372036854775808";
	char *out = malloc(len * 2 + 1), *o = out;
	int in_str = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		char c = json[i];

		if (in_str) {
			*o++ = c;
			i++;
			if (c == '\\' && i < len)
				*o++ = json[i++];
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			*o++ = c;
			i++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i + (c == '-'), d0 = j, nd;
			int integral;
			const char *lim = c == '-' ? min_neg : max_pos;

			while (j < len && json[j] >= '0' && json[j] <= '9')
				j++;
			nd = j - d0;
			integral = !(j < len && (json[j] == '.' || json[j] == 'e' || json[j] == 'E'));
			if (integral && (nd > 19 || (nd == 19 && memcmp(json + d0, lim, 19) > 0))) {
				*o++ = '"';
				memcpy(o, json + i, j - i);
				o += j - i;
				*o++ = '"';
				i = j;
				continue;
			}
			memcpy(o, json + i, j - i);
			o += j - i;
			i = j > i ? j : i + 1;
			continue;
		}
		*o++ = c;
		i++;
	}
	*out_len = (size_t)(o - out);
	return out;
}

/* The event's tree: the fast parser, or jansson for anything outside its
 * subset (jansson's error texts and big-integer handling stay the reference). */
static tb_jdoc_t *load(const char *json, size_t len, tb_err_t *err)
{
	json_error_t je;
	json_t *root;
	tb_jdoc_t *doc;
	int fallback;
	char *fixed;
	size_t flen;

	doc = tb_jdoc_parse(json, len, &fallback);
	if (doc)
		return doc;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root && json_error_code(&je) == json_error_numeric_overflow &&
	    (fixed = quote_big_ints(json, len, &flen)) != NULL) {
		root = json_loadb(fixed, flen, JSON_REJECT_DUPLICATES, &je);
		free(fixed);
	}
	if (!root) {
		tb_err(err, "invalid JSON at line %d column %d (byte %d): %s", je.line, je.column,
		       je.position, je.text);
		return NULL;
	}
	doc = tb_jdoc_from_jansson(root);
	json_decref(root);
	if (!doc) {
		tb_err(err, "out of memory");
		return NULL;
	}
	if (!jv_is_object(tb_jdoc_root(doc))) {
		bad(err, NULL, "a JSON object (one Tetragon event)", tb_jdoc_root(doc));
		tb_jdoc_free(doc);
		return NULL;
	}
	return doc;
}

/* ---- entry point -------------------------------------------------------------- */

static int resolve_time(ctx_t *c, int has_start, int64_t start_ns)
{
	int present;

	if (get_time(c->root, NULL, "time", &c->ev->ts_ns, &present, c->err) < 0)
		return -1;
	if (present)
		return 0;
	/* process_exit carries its own exit time. */
	if (get_time(c->payload, c->path, "time", &c->ev->ts_ns, &present, c->err) < 0)
		return -1;
	if (!present && has_start)
		c->ev->ts_ns = start_ns;
	return 0;
}

static int fill(ctx_t *c, const evtype_t *t, const tb_tetragon_opts_t *opts)
{
	tb_runtime_event_t *ev = c->ev;
	tb_jv_t *proc = NULL, *agg = NULL;
	jpath_t procp = {c->path, "process", 0}, aggp = {NULL, "aggregation_info", 0};
	int64_t start_ns = 0;
	int has_start = 0;
	uint64_t count;
	int has_count, r;

	if (!jv_is_object(c->payload))
		return bad(c->err, c->path, "object", c->payload);
	ev->tenant = strdup(opts && opts->tenant && *opts->tenant ? opts->tenant : "default");
	ev->source = strdup("tetragon");
	ev->kind = strdup(t->kind);
	if (!ev->tenant || !ev->source || !ev->kind)
		return tb_err(c->err, "out of memory");
	ev->process.uid = -1;
	if (get_str(c->root, NULL, "node_name", &ev->node, c->err) < 0)
		return -1;
	if (t->has_process && get_obj(c->payload, c->path, "process", &proc, c->err) < 0)
		return -1;
	if (proc && parse_process(proc, &procp, ev, &start_ns, &has_start, c->err) < 0)
		return -1;
	if (resolve_time(c, has_start, start_ns) < 0)
		return -1;
	if (get_str(c->payload, c->path, "policy_name", &ev->policy, c->err) < 0)
		return -1;
	if (parse_stacks(c->payload, c->path, ev, &c->res->frames_dropped, c->err) < 0)
		return -1;
	ev->count = 1;
	r = t->map(c);
	if (r != 0)
		return r < 0 ? -1 : 1; /* 1: nothing to record (skip) */
	if (get_obj(c->root, NULL, "aggregation_info", &agg, c->err) < 0)
		return -1;
	if (agg && get_uint(agg, &aggp, "count", INT64_MAX, &count, &has_count, c->err) < 0)
		return -1;
	if (agg && has_count && count > 0)
		ev->count = (int64_t)count;
	return event_id(t, c->payload, c->len, ev, c->err);
}

tb_tetragon_status_t tb_tetragon_parse(const char *json, size_t len, const tb_tetragon_opts_t *opts,
				       tb_runtime_event_t *out, tb_tetragon_result_t *res, tb_err_t *err)
{
	tb_tetragon_result_t local;
	const evtype_t *t = NULL;
	tb_jdoc_t *doc;
	tb_jv_t *root, *payload = NULL;
	int r;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	memset(out, 0, sizeof(*out));
	res->status = TB_TETRAGON_ERROR;
	doc = load(json, len, err);
	if (!doc)
		return TB_TETRAGON_ERROR;
	root = (tb_jv_t *)tb_jdoc_root(doc);
	r = dispatch(root, &t, &payload, res, err);
	if (r <= 0 || !t) {
		tb_jdoc_free(doc);
		res->status = r == 0 ? TB_TETRAGON_SKIPPED : TB_TETRAGON_ERROR;
		return res->status;
	}
	{
		jpath_t ep = {NULL, t->key, 0};
		ctx_t c = {root, payload, &ep, len, out, res, err};

		r = fill(&c, t, opts);
	}
	tb_jdoc_free(doc);
	if (r != 0) {
		tb_runtime_event_clear(out);
		memset(out, 0, sizeof(*out));
		return res->status = r > 0 ? TB_TETRAGON_SKIPPED : TB_TETRAGON_ERROR;
	}
	return res->status = TB_TETRAGON_OK;
}
