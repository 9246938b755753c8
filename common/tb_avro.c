/*
 * tb_avro.c — the schema registry, single-object framing and the typed
 * encode/decode API of tb/avro.h.
 *
 * The registry is a small array of schemas keyed by fingerprint. Each of our
 * records has one reader schema: the embedded schemas/avro/NAME.avsc, which
 * must match its C descriptor exactly (checked here, at start). Every other
 * schema registered for the same record is a writer we can read: its decode
 * plan (tb_avro_codec.c) is made when it is registered, so a schema that
 * cannot be resolved is refused up front rather than on the first message.
 * Every schema is also parsed by avro-c, so we never accept a schema another
 * Avro implementation would refuse.
 *
 * Decoding a message: check the magic, find the writer by fingerprint, refuse
 * a message of another record, pre-scan the body (tb_avro_scan.c), then
 * decode it with the writer's plan. After construction the registry is only
 * read, so threads may share it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "tb/embedded.h"
#include "tb_avro_internal.h"

#define MAX_SCHEMA_FILE (1024 * 1024)

typedef struct entry {
	uint64_t fp;
	tb_av_schema_t *schema;
	const char *name;   /* record full name, or the type name of other schemas */
	int rtype;	    /* TB_AVR_* this schema can be decoded into, or -1 */
	tb_av_plan_t *plan; /* how to decode it into that record, or NULL */
} entry_t;

struct tb_avro_registry {
	entry_t *entries;
	size_t n;
	size_t cap;
	size_t reader[TB_AVR_COUNT]; /* entry index of each record's reader schema */
	tb_avro_limits_t limits;
};

void tb_avro_limits_default(tb_avro_limits_t *lim)
{
	lim->max_record_bytes = 1024 * 1024;
	lim->max_array_items = 65536;
	lim->max_string_len = 1024 * 1024;
	lim->max_depth = 32;
}

void tb_avro_registry_set_limits(tb_avro_registry_t *reg, const tb_avro_limits_t *limits)
{
	reg->limits = *limits;
}

static const entry_t *find_fp(const tb_avro_registry_t *reg, uint64_t fp)
{
	for (size_t i = 0; i < reg->n; i++)
		if (reg->entries[i].fp == fp)
			return &reg->entries[i];
	return NULL;
}

static int find_rtype(const char *fullname)
{
	for (int t = 0; fullname && t < TB_AVR_COUNT; t++)
		if (strcmp(tb_avro_rtypes[t].fullname, fullname) == 0)
			return t;
	return -1;
}

/* An independent opinion: avro-c must accept the schema too. */
static int avro_c_accepts(const char *json, size_t len, tb_err_t *err)
{
	avro_schema_t s;

	if (avro_schema_from_json_length(json, len, &s) != 0)
		return tb_err(err, "avro-c refuses the schema: %s", avro_strerror());
	avro_schema_decref(s);
	return 0;
}

static int append(tb_avro_registry_t *reg, const entry_t *e, tb_err_t *err)
{
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? 2 * reg->cap : 16;
		entry_t *entries = realloc(reg->entries, cap * sizeof(*entries));

		if (!entries)
			return tb_err(err, "out of memory");
		reg->entries = entries;
		reg->cap = cap;
	}
	reg->entries[reg->n++] = *e;
	return 0;
}

/* Parse and plan one schema. as_reader >= 0: it is that record's reader. */
static int add_schema(tb_avro_registry_t *reg, const char *json, size_t len, int as_reader, uint64_t *fp_out,
		      tb_err_t *err)
{
	entry_t e = {.rtype = -1};
	const tb_av_node_t *reader;

	e.schema = tb_av_schema_parse(json, len, 1, err);
	if (!e.schema)
		return -1;
	if (fp_out)
		*fp_out = e.schema->fp;
	if (as_reader < 0 && find_fp(reg, e.schema->fp)) {
		tb_av_schema_free(e.schema);
		return 0;
	}
	if (avro_c_accepts(json, len, err) < 0)
		goto fail;
	e.fp = e.schema->fp;
	e.name = e.schema->root->fullname ? e.schema->root->fullname : tb_av_type_name(e.schema->root->type);
	e.rtype = as_reader >= 0 ? as_reader : find_rtype(e.schema->root->fullname);
	if (e.rtype >= 0) {
		const tb_avro_desc_t *d = tb_avro_rtypes[e.rtype].desc;

		if (as_reader >= 0 && tb_av_check_reader(d, e.schema->root, err) < 0)
			goto fail;
		reader = as_reader >= 0 ? e.schema->root : reg->entries[reg->reader[e.rtype]].schema->root;
		e.plan = tb_av_plan_new(d, reader, e.schema->root, err);
		if (!e.plan)
			goto fail;
	}
	if (as_reader >= 0 && find_fp(reg, e.fp)) {
		tb_err(err, "two records share fingerprint 0x%016" PRIx64, e.fp);
		goto fail;
	}
	if (append(reg, &e, err) < 0)
		goto fail;
	if (as_reader >= 0)
		reg->reader[as_reader] = reg->n - 1;
	return 0;
fail:
	tb_av_plan_free(e.plan);
	tb_av_schema_free(e.schema);
	return -1;
}

tb_avro_registry_t *tb_avro_registry_new(tb_err_t *err)
{
	tb_avro_registry_t *reg = calloc(1, sizeof(*reg));

	if (!reg) {
		tb_err(err, "out of memory");
		return NULL;
	}
	tb_avro_limits_default(&reg->limits);
	for (int t = 0; t < TB_AVR_COUNT; t++) {
		const char *path = tb_avro_rtypes[t].path;
		const tb_embedded_file_t *f = tb_embedded_find(path);

		if (!f) {
			tb_err(err, "schema %s is not embedded in this binary", path);
			goto fail;
		}
		if (add_schema(reg, f->data, f->len, t, NULL, err) < 0) {
			tb_err_wrap(err, "%s", path);
			goto fail;
		}
	}
	return reg;
fail:
	tb_avro_registry_free(reg);
	return NULL;
}

void tb_avro_registry_free(tb_avro_registry_t *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		tb_av_plan_free(reg->entries[i].plan);
		tb_av_schema_free(reg->entries[i].schema);
	}
	free(reg->entries);
	free(reg);
}

int tb_avro_registry_add_json(tb_avro_registry_t *reg, const char *schema_json, uint64_t *fp_out,
			      tb_err_t *err)
{
	if (!reg || !schema_json)
		return tb_err(err, "register schema: no registry or no schema");
	if (add_schema(reg, schema_json, strlen(schema_json), -1, fp_out, err) < 0)
		return tb_err_wrap(err, "register schema");
	return 0;
}

static int read_file(const char *path, char **out, tb_err_t *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!f)
		return tb_err(err, "open %s: %s", path, strerror(errno));
	buf = malloc(MAX_SCHEMA_FILE + 1);
	if (!buf) {
		fclose(f);
		return tb_err(err, "out of memory");
	}
	n = fread(buf, 1, MAX_SCHEMA_FILE + 1, f);
	if (ferror(f) || n > MAX_SCHEMA_FILE) {
		tb_err(err, "read %s: %s", path, ferror(f) ? strerror(errno) : "larger than 1 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int is_avsc(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".avsc") == 0;
}

int tb_avro_registry_add_dir(tb_avro_registry_t *reg, const char *dir, tb_err_t *err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_avsc, alphasort);
	int rc = 0;

	if (n < 0)
		return tb_err(err, "scan schema directory %s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char path[4096];
		char *json = NULL;

		if (rc == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			rc = read_file(path, &json, err);
			if (rc == 0 && tb_avro_registry_add_json(reg, json, NULL, err) < 0)
				rc = tb_err_wrap(err, "%s", path);
			free(json);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int tb_avro_registry_reader_fp(const tb_avro_registry_t *reg, const char *fullname, uint64_t *fp_out,
			       tb_err_t *err)
{
	int t = find_rtype(fullname);

	if (t < 0)
		return tb_err(err, "no reader schema for record %s", fullname ? fullname : "(null)");
	*fp_out = reg->entries[reg->reader[t]].fp;
	return 0;
}

/* ---- messages ----------------------------------------------------------------- */

static const entry_t *message_entry(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len,
				    tb_err_t *err)
{
	uint64_t fp = 0;
	const entry_t *e;

	if (!buf || len < TB_AVRO_HEADER_LEN) {
		tb_err(err, "message of %zu bytes is shorter than the %d-byte single-object header", len,
		       TB_AVRO_HEADER_LEN);
		return NULL;
	}
	if (buf[0] != 0xC3 || buf[1] != 0x01) {
		tb_err(err, "bad single-object magic 0x%02x 0x%02x (want 0xc3 0x01)", buf[0], buf[1]);
		return NULL;
	}
	for (int i = 7; i >= 0; i--)
		fp = (fp << 8) | buf[2 + i];
	e = find_fp(reg, fp);
	if (!e)
		tb_err(err,
		       "unknown schema fingerprint 0x%016" PRIx64
		       " (register the writer schema with the registry)",
		       fp);
	return e;
}

int tb_avro_peek(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, const char **name_out,
		 uint64_t *fp_out, tb_err_t *err)
{
	const entry_t *e = message_entry(reg, buf, len, err);

	if (!e)
		return -1;
	if (name_out)
		*name_out = e->name;
	if (fp_out)
		*fp_out = e->fp;
	return 0;
}

static int scan_message(const tb_avro_registry_t *reg, const entry_t *e, const uint8_t *buf, size_t len,
			tb_err_t *err)
{
	if (len > reg->limits.max_record_bytes)
		return tb_err(err, "%s message of %zu bytes exceeds the limit of %zu", e->name, len,
			      reg->limits.max_record_bytes);
	if (tb_av_scan(e->schema->root, buf + TB_AVRO_HEADER_LEN, len - TB_AVRO_HEADER_LEN, &reg->limits,
		       err) < 0)
		return tb_err_wrap(err, "%s message (writer fingerprint 0x%016" PRIx64 ")", e->name, e->fp);
	return 0;
}

int tb_avro_validate(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, tb_err_t *err)
{
	const entry_t *e = message_entry(reg, buf, len, err);

	return e ? scan_message(reg, e, buf, len, err) : -1;
}

/* ---- typed records ------------------------------------------------------------- */

static int encode_typed(const tb_avro_registry_t *reg, int t, const void *obj, uint8_t **out, size_t *out_len,
			tb_err_t *err)
{
	const tb_avro_rtype_t *rt = &tb_avro_rtypes[t];

	if (!reg || !obj || !out || !out_len)
		return tb_err(err, "encode %s: missing argument", rt->fullname);
	if (tb_av_encode(rt->desc, obj, reg->entries[reg->reader[t]].fp, &reg->limits, out, out_len, err) < 0)
		return tb_err_wrap(err, "encode %s", rt->fullname);
	return 0;
}

static int decode_typed(const tb_avro_registry_t *reg, int t, const uint8_t *buf, size_t len, void *obj,
			tb_err_t *err)
{
	const tb_avro_rtype_t *rt = &tb_avro_rtypes[t];
	const entry_t *e;

	if (!reg || !obj)
		return tb_err(err, "decode %s: missing argument", rt->fullname);
	memset(obj, 0, rt->desc->size);
	e = message_entry(reg, buf, len, err);
	if (!e)
		return tb_err_wrap(err, "decode %s", rt->fullname);
	if (e->rtype != t)
		return tb_err(err, "decode %s: the message holds a %s (fingerprint 0x%016" PRIx64 ")",
			      rt->fullname, e->name, e->fp);
	if (scan_message(reg, e, buf, len, err) < 0)
		return tb_err_wrap(err, "decode");
	if (tb_av_decode(e->plan, buf + TB_AVRO_HEADER_LEN, len - TB_AVRO_HEADER_LEN, obj, err) < 0) {
		rt->clear(obj);
		return tb_err_wrap(err, "decode %s", rt->fullname);
	}
	return 0;
}

#define TYPED(name, T, idx)                                                                                  \
	int tb_avro_encode_##name(const tb_avro_registry_t *reg, const T *obj, uint8_t **out,                \
				  size_t *out_len, tb_err_t *err)                                            \
	{                                                                                                    \
		return encode_typed(reg, idx, obj, out, out_len, err);                                       \
	}                                                                                                    \
	int tb_avro_decode_##name(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, T *out,     \
				  tb_err_t *err)                                                             \
	{                                                                                                    \
		return decode_typed(reg, idx, buf, len, out, err);                                           \
	}

TYPED(runtime_event, tb_runtime_event_t, TB_AVR_RUNTIME_EVENT)
TYPED(canonical_event, tb_event_t, TB_AVR_CANONICAL_EVENT)
TYPED(correlated_event, tb_event_t, TB_AVR_CORRELATED_EVENT)
TYPED(artifact, tb_artifact_t, TB_AVR_ARTIFACT)
TYPED(finding, tb_finding_t, TB_AVR_FINDING)
TYPED(dead_letter, tb_dead_letter_t, TB_AVR_DEAD_LETTER)
TYPED(probe_batch, tb_probe_batch_t, TB_AVR_PROBE_BATCH)
