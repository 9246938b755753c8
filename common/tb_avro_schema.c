/*
 * tb_avro_schema.c — Avro schema JSON to a node tree, and its Parsing
 * Canonical Form.
 *
 * The codec needs what avro-c does not give: field defaults, full names
 * resolved the way the spec says, and the canonical form the fingerprint is
 * computed from. Parsing (jansson) resolves names as the spec does: a named
 * type's namespace comes from a dotted name, else its "namespace" attribute,
 * else the enclosing named type; references are looked up in the enclosing
 * namespace first, then as written. Named types are defined once and shared
 * by reference, so recursive schemas are fine. Field defaults are validated
 * against their type here, so the decoder can apply them without checks
 * (the registry parses with defaults; canonical form and fingerprint ignore
 * them, as the spec's canonical form does, so a schema with a sloppy default
 * still gets its published fingerprint).
 *
 * Canonical form (spec "Parsing Canonical Form for Schemas"): primitives as
 * bare strings, full names, only name/type/fields/symbols/items/values/size
 * in that order, a named type written in full the first time and as its full
 * name afterwards, no whitespace. Names cannot hold characters that JSON
 * escapes, so they are written as they are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_avro_internal.h"

/* Parse context: the schema being built and its named types. */
typedef struct parse_ctx {
	tb_av_schema_t *s;
	tb_av_node_t **named;
	size_t n_named;
	size_t cap_named;
	int with_defaults;
	tb_err_t *err;
} parse_ctx_t;

/* A growing string for the canonical form. */
typedef struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
} sbuf_t;

static const char *const type_names[] = {
    [TB_AV_NULL] = "null",   [TB_AV_BOOLEAN] = "boolean", [TB_AV_INT] = "int",
    [TB_AV_LONG] = "long",   [TB_AV_FLOAT] = "float",	  [TB_AV_DOUBLE] = "double",
    [TB_AV_BYTES] = "bytes", [TB_AV_STRING] = "string",	  [TB_AV_RECORD] = "record",
    [TB_AV_ENUM] = "enum",   [TB_AV_ARRAY] = "array",	  [TB_AV_MAP] = "map",
    [TB_AV_UNION] = "union", [TB_AV_FIXED] = "fixed",
};

const char *tb_av_type_name(tb_av_type_t t)
{
	return type_names[t];
}

const char *tb_av_short_name(const char *fullname)
{
	const char *dot = strrchr(fullname, '.');

	return dot ? dot + 1 : fullname;
}

static int primitive_type(const char *name, tb_av_type_t *out)
{
	for (tb_av_type_t t = TB_AV_NULL; t <= TB_AV_STRING; t++) {
		if (strcmp(name, type_names[t]) == 0) {
			*out = t;
			return 1;
		}
	}
	return 0;
}

/* ---- nodes ---------------------------------------------------------------- */

static tb_av_node_t *node_new(parse_ctx_t *c, tb_av_type_t type)
{
	tb_av_schema_t *s = c->s;
	tb_av_node_t *n;

	if (s->n_nodes == s->cap_nodes) {
		size_t cap = s->cap_nodes ? 2 * s->cap_nodes : 16;
		tb_av_node_t **nodes = realloc(s->nodes, cap * sizeof(*nodes));

		if (!nodes)
			goto oom;
		s->nodes = nodes;
		s->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		goto oom;
	n->type = type;
	s->nodes[s->n_nodes++] = n;
	return n;
oom:
	tb_err(c->err, "out of memory");
	return NULL;
}

static void node_free(tb_av_node_t *n)
{
	free(n->fullname);
	for (size_t i = 0; i < n->n_fields; i++) {
		free(n->fields[i].name);
		if (n->fields[i].def)
			json_decref(n->fields[i].def);
	}
	free(n->fields);
	for (size_t i = 0; i < n->n_symbols; i++)
		free(n->symbols[i]);
	free(n->symbols);
	free(n->branches);
	free(n);
}

void tb_av_schema_free(tb_av_schema_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_nodes; i++)
		node_free(s->nodes[i]);
	free(s->nodes);
	free(s->canonical);
	free(s);
}

/* ---- names ---------------------------------------------------------------- */

/* [A-Za-z_][A-Za-z0-9_]* */
static int valid_simple_name(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';

		if (!alpha && (i == 0 || ch < '0' || ch > '9'))
			return 0;
	}
	return 1;
}

/* Dot-separated simple names; "" is the null namespace when allow_empty. */
static int valid_dotted_name(const char *s, int allow_empty)
{
	const char *dot;

	if (!*s)
		return allow_empty;
	while ((dot = strchr(s, '.'))) {
		if (!valid_simple_name(s, (size_t)(dot - s)))
			return 0;
		s = dot + 1;
	}
	return valid_simple_name(s, strlen(s));
}

static char *join_name(const char *ns, const char *name)
{
	char *out;

	if (!ns || !*ns || strchr(name, '.'))
		return strdup(name);
	if (asprintf(&out, "%s.%s", ns, name) < 0)
		return NULL;
	return out;
}

/* The namespace a full name implies for the types nested in it. */
static char *namespace_of(const char *fullname)
{
	const char *dot = strrchr(fullname, '.');

	return dot ? strndup(fullname, (size_t)(dot - fullname)) : strdup("");
}

static tb_av_node_t *find_named(const parse_ctx_t *c, const char *fullname)
{
	for (size_t i = 0; i < c->n_named; i++)
		if (strcmp(c->named[i]->fullname, fullname) == 0)
			return c->named[i];
	return NULL;
}

static int add_named(parse_ctx_t *c, tb_av_node_t *n)
{
	if (find_named(c, n->fullname))
		return tb_err(c->err, "type '%s' is defined twice", n->fullname);
	if (c->n_named == c->cap_named) {
		size_t cap = c->cap_named ? 2 * c->cap_named : 8;
		tb_av_node_t **named = realloc(c->named, cap * sizeof(*named));

		if (!named)
			return tb_err(c->err, "out of memory");
		c->named = named;
		c->cap_named = cap;
	}
	c->named[c->n_named++] = n;
	return 0;
}

/* A reference by name: enclosing namespace first, then as written. */
static tb_av_node_t *resolve_ref(parse_ctx_t *c, const char *name, const char *ns)
{
	tb_av_node_t *n = NULL;
	char *full = join_name(ns, name);

	if (!full) {
		tb_err(c->err, "out of memory");
		return NULL;
	}
	n = find_named(c, full);
	if (!n)
		n = find_named(c, name);
	if (!n)
		tb_err(c->err, "unknown type '%s'", full);
	free(full);
	return n;
}

/* ---- defaults ------------------------------------------------------------- */

/* A bytes/fixed default is a JSON string whose code points are 0..255. */
static long latin1_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		if (*p < 0x80)
			p++;
		else if ((*p == 0xc2 || *p == 0xc3) && (p[1] & 0xc0) == 0x80)
			p += 2;
		else
			return -1;
		n++;
	}
	return n;
}

static int check_default(const tb_av_node_t *t, const json_t *v, unsigned depth);

static int check_record_default(const tb_av_node_t *t, const json_t *v, unsigned depth)
{
	if (!json_is_object(v))
		return 0;
	for (size_t i = 0; i < t->n_fields; i++) {
		const json_t *fv = json_object_get(v, t->fields[i].name);

		if (!fv && !t->fields[i].def)
			return 0;
		if (fv && !check_default(t->fields[i].type, fv, depth + 1))
			return 0;
	}
	return 1;
}

static int check_default(const tb_av_node_t *t, const json_t *v, unsigned depth)
{
	size_t i;
	const char *key;
	json_t *item;

	if (depth > 64)
		return 0;
	switch (t->type) {
	case TB_AV_NULL:
		return json_is_null(v);
	case TB_AV_BOOLEAN:
		return json_is_boolean(v);
	case TB_AV_INT:
		return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		       json_integer_value(v) <= INT32_MAX;
	case TB_AV_LONG:
		return json_is_integer(v);
	case TB_AV_FLOAT:
	case TB_AV_DOUBLE:
		return json_is_number(v);
	case TB_AV_STRING:
		return json_is_string(v);
	case TB_AV_BYTES:
		return json_is_string(v) && latin1_length(json_string_value(v)) >= 0;
	case TB_AV_FIXED:
		return json_is_string(v) && latin1_length(json_string_value(v)) == (long)t->size;
	case TB_AV_ENUM:
		if (!json_is_string(v))
			return 0;
		for (i = 0; i < t->n_symbols; i++)
			if (strcmp(t->symbols[i], json_string_value(v)) == 0)
				return 1;
		return 0;
	case TB_AV_ARRAY:
		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, item) if (!check_default(t->items, item, depth + 1)) return 0;
		return 1;
	case TB_AV_MAP:
		if (!json_is_object(v))
			return 0;
		json_object_foreach((json_t *)v, key,
				    item) if (!check_default(t->items, item, depth + 1)) return 0;
		return 1;
	case TB_AV_UNION:
		return t->n_branches > 0 && check_default(t->branches[0], v, depth + 1);
	case TB_AV_RECORD:
		return check_record_default(t, v, depth);
	}
	return 0;
}

/* ---- parsing -------------------------------------------------------------- */

static tb_av_node_t *parse_node(parse_ctx_t *c, const json_t *j, const char *ns, unsigned depth);

static int same_union_member(const tb_av_node_t *a, const tb_av_node_t *b)
{
	if (a->type != b->type)
		return 0;
	if (a->fullname && b->fullname)
		return strcmp(a->fullname, b->fullname) == 0;
	return 1;
}

static tb_av_node_t *parse_union(parse_ctx_t *c, const json_t *j, const char *ns, unsigned depth)
{
	size_t n = json_array_size(j);
	tb_av_node_t *u = node_new(c, TB_AV_UNION);

	if (!u)
		return NULL;
	u->branches = calloc(n ? n : 1, sizeof(*u->branches));
	if (!u->branches) {
		tb_err(c->err, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		tb_av_node_t *b = parse_node(c, json_array_get(j, i), ns, depth + 1);

		if (!b)
			return NULL;
		if (b->type == TB_AV_UNION) {
			tb_err(c->err, "a union may not directly contain a union");
			return NULL;
		}
		for (size_t k = 0; k < i; k++) {
			if (same_union_member(u->branches[k], b)) {
				tb_err(c->err, "union holds '%s' twice",
				       b->fullname ? b->fullname : tb_av_type_name(b->type));
				return NULL;
			}
		}
		u->branches[u->n_branches++] = b;
	}
	return u;
}

static int parse_field(parse_ctx_t *c, tb_av_node_t *rec, const json_t *jf, const char *ns, unsigned depth)
{
	const char *name = json_string_value(json_object_get(jf, "name"));
	const json_t *jt = json_object_get(jf, "type");
	const json_t *def = json_object_get(jf, "default");
	tb_av_field_t *f = &rec->fields[rec->n_fields];

	if (!json_is_object(jf))
		return tb_err(c->err, "record '%s': a field is not an object", rec->fullname);
	if (!name || !valid_simple_name(name, strlen(name)))
		return tb_err(c->err, "record '%s': field without a valid name", rec->fullname);
	for (size_t i = 0; i < rec->n_fields; i++)
		if (strcmp(rec->fields[i].name, name) == 0)
			return tb_err(c->err, "record '%s': field '%s' appears twice", rec->fullname, name);
	if (!jt)
		return tb_err(c->err, "record '%s': field '%s' has no type", rec->fullname, name);
	f->name = strdup(name);
	if (!f->name)
		return tb_err(c->err, "out of memory");
	rec->n_fields++;
	f->type = parse_node(c, jt, ns, depth + 1);
	if (!f->type)
		return tb_err_wrap(c->err, "record '%s' field '%s'", rec->fullname, name);
	if (def && c->with_defaults) {
		if (!check_default(f->type, def, 0))
			return tb_err(c->err, "record '%s': field '%s' has a default that is not a %s",
				      rec->fullname, name, tb_av_type_name(f->type->type));
		f->def = json_incref((json_t *)def);
	}
	return 0;
}

static int parse_record_body(parse_ctx_t *c, tb_av_node_t *n, const json_t *j, unsigned depth)
{
	const json_t *fields = json_object_get(j, "fields");
	char *ns;
	size_t i;
	int rc = 0;

	if (!json_is_array(fields))
		return tb_err(c->err, "record '%s' has no fields array", n->fullname);
	n->fields = calloc(json_array_size(fields) + 1, sizeof(*n->fields));
	ns = namespace_of(n->fullname);
	if (!n->fields || !ns) {
		free(ns);
		return tb_err(c->err, "out of memory");
	}
	for (i = 0; i < json_array_size(fields) && rc == 0; i++)
		rc = parse_field(c, n, json_array_get(fields, i), ns, depth);
	free(ns);
	return rc;
}

static int parse_enum_body(parse_ctx_t *c, tb_av_node_t *n, const json_t *j)
{
	const json_t *syms = json_object_get(j, "symbols");
	size_t i;
	json_t *js;

	if (!json_is_array(syms))
		return tb_err(c->err, "enum '%s' has no symbols array", n->fullname);
	n->symbols = calloc(json_array_size(syms) + 1, sizeof(*n->symbols));
	if (!n->symbols)
		return tb_err(c->err, "out of memory");
	json_array_foreach(syms, i, js)
	{
		const char *sym = json_string_value(js);

		if (!sym || !valid_simple_name(sym, strlen(sym)))
			return tb_err(c->err, "enum '%s': symbol %zu is not a valid name", n->fullname, i);
		for (size_t k = 0; k < n->n_symbols; k++)
			if (strcmp(n->symbols[k], sym) == 0)
				return tb_err(c->err, "enum '%s': symbol '%s' appears twice", n->fullname,
					      sym);
		n->symbols[n->n_symbols] = strdup(sym);
		if (!n->symbols[n->n_symbols])
			return tb_err(c->err, "out of memory");
		n->n_symbols++;
	}
	return 0;
}

static tb_av_node_t *parse_named(parse_ctx_t *c, tb_av_type_t type, const json_t *j, const char *ns,
				 unsigned depth)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const json_t *jns = json_object_get(j, "namespace");
	const json_t *size = json_object_get(j, "size");
	tb_av_node_t *n;

	if (!name || !valid_dotted_name(name, 0)) {
		tb_err(c->err, "%s without a valid name", tb_av_type_name(type));
		return NULL;
	}
	if (jns && (!json_is_string(jns) || !valid_dotted_name(json_string_value(jns), 1))) {
		tb_err(c->err, "%s '%s': namespace is not a valid name", tb_av_type_name(type), name);
		return NULL;
	}
	n = node_new(c, type);
	if (!n)
		return NULL;
	n->fullname = join_name(jns ? json_string_value(jns) : ns, name);
	if (!n->fullname) {
		tb_err(c->err, "out of memory");
		return NULL;
	}
	if (primitive_type(tb_av_short_name(n->fullname), &(tb_av_type_t){0})) {
		tb_err(c->err, "'%s' may not name a type", n->fullname);
		return NULL;
	}
	/* Registered before the body so that the body may refer to it. */
	if (add_named(c, n) < 0)
		return NULL;
	if (type == TB_AV_RECORD && parse_record_body(c, n, j, depth) < 0)
		return NULL;
	if (type == TB_AV_ENUM && parse_enum_body(c, n, j) < 0)
		return NULL;
	if (type == TB_AV_FIXED) {
		if (!json_is_integer(size) || json_integer_value(size) < 0 ||
		    json_integer_value(size) > INT32_MAX) {
			tb_err(c->err, "fixed '%s' has no valid size", n->fullname);
			return NULL;
		}
		n->size = (size_t)json_integer_value(size);
	}
	return n;
}

static tb_av_node_t *parse_object(parse_ctx_t *c, const json_t *j, const char *ns, unsigned depth)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	tb_av_type_t prim;
	tb_av_node_t *n;
	const char *key;

	if (!type) {
		tb_err(c->err, "schema object without a \"type\" string");
		return NULL;
	}
	if (primitive_type(type, &prim))
		return node_new(c, prim); /* logicalType and the like are not parsing-relevant */
	if (strcmp(type, "record") == 0)
		return parse_named(c, TB_AV_RECORD, j, ns, depth);
	if (strcmp(type, "enum") == 0)
		return parse_named(c, TB_AV_ENUM, j, ns, depth);
	if (strcmp(type, "fixed") == 0)
		return parse_named(c, TB_AV_FIXED, j, ns, depth);
	if (strcmp(type, "array") == 0)
		key = "items";
	else if (strcmp(type, "map") == 0)
		key = "values";
	else
		return resolve_ref(c, type, ns);
	if (!json_object_get(j, key)) {
		tb_err(c->err, "%s without \"%s\"", type, key);
		return NULL;
	}
	n = node_new(c, key[0] == 'i' ? TB_AV_ARRAY : TB_AV_MAP);
	if (!n)
		return NULL;
	n->items = parse_node(c, json_object_get(j, key), ns, depth + 1);
	return n->items ? n : NULL;
}

static tb_av_node_t *parse_node(parse_ctx_t *c, const json_t *j, const char *ns, unsigned depth)
{
	tb_av_type_t prim;

	if (depth > 256) {
		tb_err(c->err, "schema nested too deeply");
		return NULL;
	}
	if (json_is_string(j)) {
		if (primitive_type(json_string_value(j), &prim))
			return node_new(c, prim);
		return resolve_ref(c, json_string_value(j), ns);
	}
	if (json_is_array(j))
		return parse_union(c, j, ns, depth);
	if (json_is_object(j))
		return parse_object(c, j, ns, depth);
	tb_err(c->err, "a schema must be a string, an array or an object");
	return NULL;
}

/* ---- canonical form ------------------------------------------------------- */

static void sb_put(sbuf_t *b, const char *s)
{
	size_t n = strlen(s);

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void sb_quoted(sbuf_t *b, const char *s)
{
	sb_put(b, "\"");
	sb_put(b, s);
	sb_put(b, "\"");
}

static void emit(sbuf_t *b, tb_av_node_t *n)
{
	char num[32];

	if (n->type <= TB_AV_STRING) {
		sb_quoted(b, type_names[n->type]);
		return;
	}
	if (n->fullname && n->emitted) {
		sb_quoted(b, n->fullname);
		return;
	}
	n->emitted = 1;
	switch (n->type) {
	case TB_AV_RECORD:
	case TB_AV_ENUM:
	case TB_AV_FIXED:
		sb_put(b, "{\"name\":");
		sb_quoted(b, n->fullname);
		sb_put(b, ",\"type\":");
		sb_quoted(b, type_names[n->type]);
		break;
	case TB_AV_ARRAY:
		sb_put(b, "{\"type\":\"array\",\"items\":");
		emit(b, n->items);
		sb_put(b, "}");
		return;
	case TB_AV_MAP:
		sb_put(b, "{\"type\":\"map\",\"values\":");
		emit(b, n->items);
		sb_put(b, "}");
		return;
	case TB_AV_UNION:
		sb_put(b, "[");
		for (size_t i = 0; i < n->n_branches; i++) {
			if (i)
				sb_put(b, ",");
			emit(b, n->branches[i]);
		}
		sb_put(b, "]");
		return;
	default:
		return;
	}
	if (n->type == TB_AV_RECORD) {
		sb_put(b, ",\"fields\":[");
		for (size_t i = 0; i < n->n_fields; i++) {
			sb_put(b, i ? ",{\"name\":" : "{\"name\":");
			sb_quoted(b, n->fields[i].name);
			sb_put(b, ",\"type\":");
			emit(b, n->fields[i].type);
			sb_put(b, "}");
		}
		sb_put(b, "]");
	} else if (n->type == TB_AV_ENUM) {
		sb_put(b, ",\"symbols\":[");
		for (size_t i = 0; i < n->n_symbols; i++) {
			if (i)
				sb_put(b, ",");
			sb_quoted(b, n->symbols[i]);
		}
		sb_put(b, "]");
	} else {
		snprintf(num, sizeof(num), ",\"size\":%zu", n->size);
		sb_put(b, num);
	}
	sb_put(b, "}");
}

static int make_canonical(tb_av_schema_t *s, tb_err_t *err)
{
	sbuf_t b = {0};

	for (size_t i = 0; i < s->n_nodes; i++)
		s->nodes[i]->emitted = 0;
	emit(&b, s->root);
	if (b.oom || !b.p) {
		free(b.p);
		return tb_err(err, "out of memory");
	}
	s->canonical = b.p;
	s->fp = tb_avro_crc64(b.p, b.len);
	return 0;
}

/* ---- entry ---------------------------------------------------------------- */

tb_av_schema_t *tb_av_schema_parse(const char *json, size_t len, int with_defaults, tb_err_t *err)
{
	parse_ctx_t c = {.err = err, .with_defaults = with_defaults};
	json_error_t jerr;
	json_t *j;

	j = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		tb_err(err, "schema is not JSON: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	c.s = calloc(1, sizeof(*c.s));
	if (!c.s) {
		tb_err(err, "out of memory");
		goto fail;
	}
	c.s->root = parse_node(&c, j, "", 0);
	if (!c.s->root || make_canonical(c.s, err) < 0)
		goto fail;
	free(c.named);
	json_decref(j);
	return c.s;
fail:
	tb_av_schema_free(c.s);
	free(c.named);
	json_decref(j);
	return NULL;
}

int tb_avro_canonical_form(const char *json, char **out, tb_err_t *err)
{
	tb_av_schema_t *s = tb_av_schema_parse(json, strlen(json), 0, err);

	if (!s)
		return -1;
	*out = s->canonical;
	s->canonical = NULL;
	tb_av_schema_free(s);
	return 0;
}

int tb_avro_fingerprint(const char *json, uint64_t *fp_out, tb_err_t *err)
{
	tb_av_schema_t *s = tb_av_schema_parse(json, strlen(json), 0, err);

	if (!s)
		return -1;
	*fp_out = s->fp;
	tb_av_schema_free(s);
	return 0;
}
