/*
 * tb/avro.h — the Avro codec of our records (schemas/avro/NAME.avsc).
 *
 * Every record on our topics is Avro binary in single-object encoding:
 *   0xC3 0x01 | 8-byte little-endian CRC-64-AVRO fingerprint of the writer
 *   schema's Parsing Canonical Form | Avro binary body.
 * A registry holds the schemas we can read, looked up by fingerprint: all
 * embedded schemas (the current "reader" schemas) plus any older or newer
 * writer schemas registered at run time (every schema is also checked by
 * avro-c when it is registered). Untrusted bytes never reach a decoder
 * unchecked: the body is first pre-scanned against the writer schema with
 * limits on size, counts, lengths and nesting, then decoded straight into
 * the struct (our own binary reader/writer: several times faster than
 * avro-c's generic values, whose output the unit tests compare ours with).
 * When the writer schema is not the reader schema of the same record, fields
 * are resolved by name as the Avro spec says: reader fields the writer lacks
 * get the reader's default, writer-only fields are skipped, int promotes to
 * long, string and bytes read as each other, a writer union is read through
 * its selected branch and a plain writer value fills a nullable reader field.
 *
 * Threads: a registry is built (new + add_*) by one thread; after that any
 * number of threads may encode and decode with it concurrently (it is only
 * read). Encoding is deterministic: the same struct gives the same bytes.
 *
 * Strings: on encode, a NULL string is written as null for nullable fields
 * and as "" for the others. On decode, non-nullable string fields are never
 * NULL (they may be ""), nullable ones are NULL when the value was null.
 */
#ifndef TB_AVRO_H
#define TB_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

/* Full names of our records (the "name" a single-object message peeks as). */
#define TB_AVRO_NS "tracebridge.v1"
#define TB_AVRO_RUNTIME_EVENT "tracebridge.v1.RuntimeEvent"
#define TB_AVRO_CANONICAL_EVENT "tracebridge.v1.CanonicalEvent"
#define TB_AVRO_CORRELATED_EVENT "tracebridge.v1.CorrelatedEvent"
#define TB_AVRO_ARTIFACT "tracebridge.v1.Artifact"
#define TB_AVRO_FINDING "tracebridge.v1.Finding"
#define TB_AVRO_DEAD_LETTER "tracebridge.v1.DeadLetter"
#define TB_AVRO_PROBE_BATCH "tracebridge.v1.ProbeBatch"

/* Single-object encoding header: magic (2 bytes) + fingerprint (8 bytes). */
#define TB_AVRO_HEADER_LEN 10

/* Limits applied to every decoded message (the pre-scan enforces them) and
 * to every encoded one (so that what we write, we can read). The items of
 * all arrays and maps of one message together are also capped at
 * max_record_bytes, since an item of zero bytes costs work but no input. */
typedef struct tb_avro_limits {
	size_t max_record_bytes; /* whole message incl. header; default 1 MiB */
	size_t max_array_items;	 /* items of one array; default 65536 */
	size_t max_string_len;	 /* one string or bytes value; default 1 MiB */
	unsigned max_depth;	 /* nesting of records/arrays/maps/unions; default 32 */
} tb_avro_limits_t;

typedef struct tb_avro_registry tb_avro_registry_t;

/* ---- registry ------------------------------------------------------------ */

/* A registry holding every embedded schemas/avro/NAME.avsc, with default limits.
 * Returns NULL (err filled) if an embedded schema does not parse or does not
 * match its C struct — a build defect, so services should exit. */
tb_avro_registry_t *tb_avro_registry_new(tb_err_t *err);

void tb_avro_registry_free(tb_avro_registry_t *reg);

/* Register one more writer schema (e.g. an older or newer version of a
 * record). Its fingerprint is stored in *fp_out (if not NULL). Adding a
 * schema that is already present succeeds and changes nothing. A schema of a
 * record we have a reader for must be resolvable against that reader (every
 * reader field the writer lacks has a default, types are compatible), else
 * -1. Not thread-safe: register before sharing the registry. */
int tb_avro_registry_add_json(tb_avro_registry_t *reg, const char *schema_json, uint64_t *fp_out,
			      tb_err_t *err);

/* Register every *.avsc file of a directory (sorted by name), e.g. a
 * configured schema directory holding older writers. */
int tb_avro_registry_add_dir(tb_avro_registry_t *reg, const char *dir, tb_err_t *err);

/* Replace the limits (copies *limits). Not thread-safe, like add_json. */
void tb_avro_registry_set_limits(tb_avro_registry_t *reg, const tb_avro_limits_t *limits);
void tb_avro_limits_default(tb_avro_limits_t *limits);

/* Fingerprint of the current (reader) schema of a record full name, e.g.
 * TB_AVRO_RUNTIME_EVENT. Returns -1 if the registry has no such reader. */
int tb_avro_registry_reader_fp(const tb_avro_registry_t *reg, const char *fullname, uint64_t *fp_out,
			       tb_err_t *err);

/* ---- schema fingerprints ------------------------------------------------- */

/* Parsing Canonical Form of a schema (Avro spec): only name, type, fields,
 * symbols, items, values and size are kept, names are full names, no
 * whitespace. *out is malloc'd; the caller frees it. */
int tb_avro_canonical_form(const char *json, char **out, tb_err_t *err);

/* CRC-64-AVRO (Rabin) fingerprint of bytes: feed it the canonical form. */
uint64_t tb_avro_crc64(const void *data, size_t len);

/* Canonical form + CRC-64-AVRO in one call. */
int tb_avro_fingerprint(const char *json, uint64_t *fp_out, tb_err_t *err);

/* ---- single-object messages ---------------------------------------------- */

/* Read the header of a single-object message: its writer fingerprint and the
 * full record name of that schema (e.g. TB_AVRO_PROBE_BATCH; the pointer is
 * owned by the registry). Fails on short input, bad magic or an unknown
 * fingerprint. Does not validate the body. */
int tb_avro_peek(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, const char **name_out,
		 uint64_t *fp_out, tb_err_t *err);

/* Validate a whole message without decoding it: header, known fingerprint,
 * and the body pre-scan (limits, varints, union indexes, trailing bytes). */
int tb_avro_validate(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, tb_err_t *err);

/* ---- typed records ------------------------------------------------------- */
/*
 * encode: *out is a malloc'd single-object message of *out_len bytes,
 *         written with the current (reader) schema of the record.
 * decode: `out` must be zeroed or cleared before the call; on success it owns
 *         its strings and arrays (release with the *_clear of tb/records.h);
 *         on failure it is left cleared. The message must have been written
 *         with a schema of the same record (else -1 naming both).
 * All return 0 or -1 with err filled.
 */
int tb_avro_encode_runtime_event(const tb_avro_registry_t *reg, const tb_runtime_event_t *ev, uint8_t **out,
				 size_t *out_len, tb_err_t *err);
int tb_avro_decode_runtime_event(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len,
				 tb_runtime_event_t *out, tb_err_t *err);

/* CanonicalEvent ignores (encode) / leaves empty (decode) the correlation fields. */
int tb_avro_encode_canonical_event(const tb_avro_registry_t *reg, const tb_event_t *ev, uint8_t **out,
				   size_t *out_len, tb_err_t *err);
int tb_avro_decode_canonical_event(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len,
				   tb_event_t *out, tb_err_t *err);

int tb_avro_encode_correlated_event(const tb_avro_registry_t *reg, const tb_event_t *ev, uint8_t **out,
				    size_t *out_len, tb_err_t *err);
int tb_avro_decode_correlated_event(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len,
				    tb_event_t *out, tb_err_t *err);

int tb_avro_encode_artifact(const tb_avro_registry_t *reg, const tb_artifact_t *a, uint8_t **out,
			    size_t *out_len, tb_err_t *err);
int tb_avro_decode_artifact(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, tb_artifact_t *out,
			    tb_err_t *err);

int tb_avro_encode_finding(const tb_avro_registry_t *reg, const tb_finding_t *f, uint8_t **out,
			   size_t *out_len, tb_err_t *err);
int tb_avro_decode_finding(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len, tb_finding_t *out,
			   tb_err_t *err);

int tb_avro_encode_dead_letter(const tb_avro_registry_t *reg, const tb_dead_letter_t *d, uint8_t **out,
			       size_t *out_len, tb_err_t *err);
int tb_avro_decode_dead_letter(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len,
			       tb_dead_letter_t *out, tb_err_t *err);

int tb_avro_encode_probe_batch(const tb_avro_registry_t *reg, const tb_probe_batch_t *b, uint8_t **out,
			       size_t *out_len, tb_err_t *err);
int tb_avro_decode_probe_batch(const tb_avro_registry_t *reg, const uint8_t *buf, size_t len,
			       tb_probe_batch_t *out, tb_err_t *err);

#endif
