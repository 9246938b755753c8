/*
 * tb_avro_internal.h — what the pieces of the Avro codec share; not public.
 *
 *   tb_avro_schema.c  schema JSON -> node tree, Parsing Canonical Form
 *   tb_avro_crc64.c   CRC-64-AVRO
 *   tb_avro_scan.c    bounds-checked pre-scan of a body against a schema
 *   tb_avro_codec.c   struct <-> Avro binary, driven by field descriptors,
 *                     with writer->reader resolution plans and defaults
 *   tb_records.c      the descriptors of our records and their *_clear()
 *   tb_avro.c         registry, single-object framing, typed API
 */
#ifndef TB_AVRO_INTERNAL_H
#define TB_AVRO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tb/avro.h"
#include "tb/err.h"

/* ---- schema tree --------------------------------------------------------- */

typedef enum tb_av_type {
	TB_AV_NULL,
	TB_AV_BOOLEAN,
	TB_AV_INT,
	TB_AV_LONG,
	TB_AV_FLOAT,
	TB_AV_DOUBLE,
	TB_AV_BYTES,
	TB_AV_STRING,
	TB_AV_RECORD,
	TB_AV_ENUM,
	TB_AV_ARRAY,
	TB_AV_MAP,
	TB_AV_UNION,
	TB_AV_FIXED,
} tb_av_type_t;

typedef struct tb_av_node tb_av_node_t;

typedef struct tb_av_field {
	char *name;
	tb_av_node_t *type;
	json_t *def; /* the field's default (validated against type), or NULL */
} tb_av_field_t;

struct tb_av_node {
	tb_av_type_t type;
	char *fullname;	       /* record, enum, fixed */
	tb_av_field_t *fields; /* record */
	size_t n_fields;
	char **symbols; /* enum */
	size_t n_symbols;
	tb_av_node_t *items;	 /* array items, map values */
	tb_av_node_t **branches; /* union */
	size_t n_branches;
	size_t size; /* fixed */
	int emitted; /* scratch for the canonical-form writer */
};

/* A parsed schema owns all its nodes (named types are shared by reference,
 * so nodes are freed from this list, not by walking the tree). */
typedef struct tb_av_schema {
	tb_av_node_t *root;
	tb_av_node_t **nodes;
	size_t n_nodes;
	size_t cap_nodes;
	char *canonical; /* Parsing Canonical Form */
	uint64_t fp;	 /* CRC-64-AVRO of canonical */
} tb_av_schema_t;

/* with_defaults: validate and keep field defaults (the registry needs them);
 * without, defaults are ignored, as the canonical form ignores them. */
tb_av_schema_t *tb_av_schema_parse(const char *json, size_t len, int with_defaults, tb_err_t *err);
void tb_av_schema_free(tb_av_schema_t *s);
const char *tb_av_type_name(tb_av_type_t t);
/* The unqualified part of a full name ("a.b.C" -> "C"). */
const char *tb_av_short_name(const char *fullname);

/* ---- varints (zig-zag) --------------------------------------------------- */

#define TB_AV_TRUNCATED (-1)
#define TB_AV_OVERFLOW (-2)

/* Read a zig-zag long: at most 10 bytes, the 10th carrying one bit. */
static inline int tb_av_read_long(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	for (unsigned shift = 0; p < end; shift += 7) {
		uint8_t b = *p++;

		if (shift == 63 && b > 1)
			return TB_AV_OVERFLOW;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
			*pp = p;
			return 0;
		}
	}
	return TB_AV_TRUNCATED;
}

/* Read a zig-zag int: at most 5 bytes, the 5th carrying four bits. */
static inline int tb_av_read_int(const uint8_t **pp, const uint8_t *end, int32_t *out)
{
	const uint8_t *p = *pp;
	uint32_t v = 0;

	for (unsigned shift = 0; p < end; shift += 7) {
		uint8_t b = *p++;

		if (shift == 28 && b > 0x0f)
			return TB_AV_OVERFLOW;
		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = (int32_t)((v >> 1) ^ (~(v & 1) + 1));
			*pp = p;
			return 0;
		}
	}
	return TB_AV_TRUNCATED;
}

/* ---- pre-scan ------------------------------------------------------------ */

/* Walk `len` bytes of body against `root` without allocating: every length
 * and count against the bytes left and the limits, varints for overflow,
 * booleans, enum and union indexes for range, nesting for depth, and no
 * bytes may be left over. Errors name the field path and the body offset. */
int tb_av_scan(const tb_av_node_t *root, const uint8_t *body, size_t len, const tb_avro_limits_t *lim,
	       tb_err_t *err);

/* ---- field descriptors (the C side of a record) -------------------------- */

typedef enum tb_avf_kind {
	TB_AVF_STR,	  /* char *            "string" (NULL written as "") */
	TB_AVF_OPT_STR,	  /* char *            ["null","string"] */
	TB_AVF_LONG,	  /* int64_t           "long" */
	TB_AVF_ULONG,	  /* uint64_t          "long" (two's complement) */
	TB_AVF_U32,	  /* uint32_t          "long" (range-checked on decode) */
	TB_AVF_INT,	  /* int32_t           "int" */
	TB_AVF_BOOL,	  /* int               "boolean" */
	TB_AVF_FIXED,	  /* uint8_t[size]     fixed of `size` bytes */
	TB_AVF_BYTES,	  /* uint8_t * + size_t at aux            "bytes" */
	TB_AVF_OPT_BYTES, /* uint8_t * + size_t at aux            ["null","bytes"] */
	TB_AVF_OPT_ULONG, /* uint64_t + int "has" flag at aux     ["null","long"] */
	TB_AVF_STR_ARRAY, /* char ** + size_t count at aux        array<string> */
	TB_AVF_RECORD,	  /* struct embedded at off               record `sub` */
	TB_AVF_REC_ARRAY, /* struct * + size_t count at aux       array<record `sub`> */
} tb_avf_kind_t;

typedef struct tb_avro_desc tb_avro_desc_t;

typedef struct tb_avro_fdesc {
	const char *name; /* Avro field name */
	tb_avf_kind_t kind;
	size_t off;
	size_t aux;
	size_t size; /* TB_AVF_FIXED */
	const tb_avro_desc_t *sub;
} tb_avro_fdesc_t;

struct tb_avro_desc {
	const char *fullname; /* e.g. "tracebridge.v1.Process" */
	size_t size;	      /* sizeof the struct */
	const tb_avro_fdesc_t *fields;
	size_t n_fields;
};

enum {
	TB_AVR_RUNTIME_EVENT,
	TB_AVR_CANONICAL_EVENT,
	TB_AVR_CORRELATED_EVENT,
	TB_AVR_ARTIFACT,
	TB_AVR_FINDING,
	TB_AVR_DEAD_LETTER,
	TB_AVR_PROBE_BATCH,
	TB_AVR_COUNT
};

typedef struct tb_avro_rtype {
	const char *fullname; /* TB_AVRO_RUNTIME_EVENT, ... */
	const char *path;     /* embedded schema, "schemas/avro/RuntimeEvent.avsc" */
	const tb_avro_desc_t *desc;
	void (*clear)(void *obj);
} tb_avro_rtype_t;

extern const tb_avro_rtype_t tb_avro_rtypes[TB_AVR_COUNT];

/* ---- codec ---------------------------------------------------------------- */

typedef struct tb_av_plan tb_av_plan_t;

/* Check that a reader schema is exactly the descriptor: same record names,
 * same fields in the same order, each of the type its kind implies. */
int tb_av_check_reader(const tb_avro_desc_t *d, const tb_av_node_t *reader, tb_err_t *err);

/* Plan how to decode bodies written with `writer` into structs of `d`
 * (whose reader schema is `reader`, already checked). Fails when the
 * schemas cannot be resolved (different record name, incompatible types,
 * a reader field the writer lacks without default). */
tb_av_plan_t *tb_av_plan_new(const tb_avro_desc_t *d, const tb_av_node_t *reader, const tb_av_node_t *writer,
			     tb_err_t *err);
void tb_av_plan_free(tb_av_plan_t *p);

/* Encode obj as a single-object message (header with fp, then the body in
 * descriptor order). Enforces the limits so that readers accept it. */
int tb_av_encode(const tb_avro_desc_t *d, const void *obj, uint64_t fp, const tb_avro_limits_t *lim,
		 uint8_t **out, size_t *out_len, tb_err_t *err);

/* Decode a pre-scanned body into obj (zeroed). On failure obj may hold
 * partial allocations: the caller clears it. */
int tb_av_decode(const tb_av_plan_t *plan, const uint8_t *body, size_t len, void *obj, tb_err_t *err);

#endif
