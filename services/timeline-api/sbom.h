/*
 * sbom.h — SBOM parsing for POST /api/v1/artifacts: CycloneDX 1.4–1.6 JSON and
 * SPDX 2.3 JSON into a tb_artifact_t (components and binaries with build-ids),
 * plus the validators (purl, build-id, digest) and the JSON-path error helpers
 * that the request parsers (requests.h) share.
 *
 * What is taken from an SBOM (the rules are in sbom.c's header comment):
 * the artifact itself (name, version, image digest), every component
 * (purl, name, version; nested components included) and every binary
 * (path, GNU build-id, owning component purl) that has a build-id or a known
 * owner. Errors name the JSON path and the reason, e.g.
 * "components[2].components[0].purl: invalid purl \"pkg:/x\": type is empty".
 */
#ifndef TB_TIMELINE_SBOM_H
#define TB_TIMELINE_SBOM_H

#include <stddef.h>
#include <jansson.h>

#include "tb/err.h"
#include "tb/records.h"

#define TB_SBOM_MAX_STRING 4096 /* bytes in any field we extract (purl, name, path, ...) */
#define TB_SBOM_DEFAULT_MAX_COMPONENTS 100000
#define TB_SBOM_DEFAULT_MAX_BINARIES 100000
#define TB_SBOM_DEFAULT_MAX_DEPTH 32 /* nesting of CycloneDX components */

typedef struct tb_sbom_limits {
	size_t max_components; /* distinct components kept */
	size_t max_binaries;   /* binary candidates seen (before dropping ownerless ones) */
	size_t max_depth;      /* components[].components[]... levels; top level is 1 */
} tb_sbom_limits_t;

void tb_sbom_limits_default(tb_sbom_limits_t *lim);

/* Parse an SBOM document from its exact bytes. Fills out->sbom_format
 * ("cyclonedx-1.4|1.5|1.6", "spdx-2.3"), out->sbom_sha256 (lowercase hex of
 * SHA-256 over body[0..len)), name/version/digest of the described artifact
 * when the SBOM says (digest may stay NULL), components and binaries.
 * `out` must be zeroed; tenant and registered_ns are left to the caller.
 * On error returns -1, fills err and leaves `out` cleared. */
int tb_sbom_parse(const char *body, size_t len, const tb_sbom_limits_t *lim, tb_artifact_t *out,
		  tb_err_t *err);

/* Same over an already-decoded document whose exact bytes are raw/raw_len
 * (hashed for sbom_sha256). Error paths start with `path_prefix` ("" for a
 * standalone document, "sbom" when the SBOM is embedded in a request). */
int tb_sbom_parse_json(const json_t *doc, const char *raw, size_t raw_len, const char *path_prefix,
		       const tb_sbom_limits_t *lim, tb_artifact_t *out, tb_err_t *err);

/* 1 when the object looks like an SBOM (has "bomFormat" or "spdxVersion"). */
int tb_sbom_detect(const json_t *doc);

/* ---- validators shared with requests.c ---- */

/* purl syntax per the purl spec: pkg:type/namespace/name@version?qualifiers#subpath.
 * Returns 0, or -1 with a reason in why (e.g. "type \"9x\" must start with a letter"). */
int tb_purl_check(const char *purl, char *why, size_t why_len);

/* Percent-decoded version of a valid purl into out (NUL-terminated); -1 when
 * the purl has no version or it does not fit. */
int tb_purl_version(const char *purl, char *out, size_t out_len);

/* GNU build-id: 4..64 bytes as hex (8..128 digits, even count). Uppercase is
 * accepted and lowered. Returns a malloc'd lowercase copy, or NULL with why. */
char *tb_build_id_normalize(const char *in, char *why, size_t why_len);

/* OCI-style digest "sha256:" + 64 lowercase hex digits. 0 or -1 with why. */
int tb_digest_check(const char *digest, char *why, size_t why_len);

/* ---- JSON paths for error messages ---- */

typedef struct tb_jpath {
	char buf[512];
	size_t len;
} tb_jpath_t;

void tb_jpath_init(tb_jpath_t *p, const char *root /* "" or e.g. "sbom" */);
/* Append ".key" / "[i]"; return the previous length for tb_jpath_pop. */
size_t tb_jpath_key(tb_jpath_t *p, const char *key);
size_t tb_jpath_index(tb_jpath_t *p, size_t i);
void tb_jpath_pop(tb_jpath_t *p, size_t old_len);
/* The path, or "$" for the root. */
const char *tb_jpath_str(const tb_jpath_t *p);

/* Set err to "<path>.<key>: <message>" (key may be NULL); evaluates to -1
 * (a literal, so static analyzers see it without following the variadic). */
void tb_jerr_set(tb_err_t *err, tb_jpath_t *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define tb_jerr(...) ({ tb_jerr_set(__VA_ARGS__); -1; })

/* Member accessors that report "<path>.<key>: <reason>" in err.
 * tb_json_str: absent or null -> *out = NULL and 0 unless `required`; a
 * string longer than TB_SBOM_MAX_STRING, a non-string or (when required) an
 * empty string is an error. */
int tb_json_str(const json_t *obj, const char *key, int required, tb_jpath_t *p, const char **out,
		tb_err_t *err);
/* Optional array/object member: absent or null -> *out = NULL. */
int tb_json_arr(const json_t *obj, const char *key, tb_jpath_t *p, const json_t **out, tb_err_t *err);
int tb_json_obj(const json_t *obj, const char *key, tb_jpath_t *p, const json_t **out, tb_err_t *err);

#endif
