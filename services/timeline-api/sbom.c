/*
 * sbom.c — CycloneDX 1.4–1.6 and SPDX 2.3 JSON SBOMs into a tb_artifact_t
 * (see sbom.h). The correlator needs three things from an SBOM: the
 * artifact's identity, the components (purl, name, version) and the binaries
 * (path, GNU build-id, owning purl) that let it map a stack frame to a
 * component. Neither format has one standard field for ELF build-ids, so we
 * read the encodings that producers use in practice, listed here.
 *
 * CycloneDX (bomFormat "CycloneDX", specVersion 1.4, 1.5 or 1.6):
 *  - metadata.component is the artifact: name, version, and the image digest
 *    from, in order, a pkg:oci/pkg:docker purl "@sha256%3A<hex>", a SHA-256
 *    entry in hashes, a version or bom-ref of the form "sha256:<hex>". It is
 *    listed among the components too unless it is the container itself
 *    (type "container" or an oci/docker purl).
 *  - components[] are walked depth-first in document order, nested
 *    components included; every non-file component is kept (deduplicated by
 *    purl, or by name+version when it has no purl).
 *  - build-id: a property named "tracebridge:build-id", "build-id",
 *    "gnu-build-id", "buildid", or ending in ":build-id", ":buildid",
 *    ":build_id", ":gnu-build-id" (case-insensitive). "hashes" are content
 *    digests (SHA-1 is the same size as most build-ids) and are never taken
 *    as build-ids.
 *  - paths: "tracebridge:path" properties (explicit), "syft:location:N:path"
 *    properties and evidence.occurrences[].location (1.5+; where the
 *    component was found; package-manager records such as /var/lib/dpkg/...
 *    or *.dist-info/ are skipped). A component's build-id applies to all its
 *    paths; with a build-id and no path it yields a path-less binary.
 *  - type "file" components are binaries, not components: path =
 *    tracebridge:path, else the name. Owner, strongest first: a
 *    "tracebridge:purl" property; the nearest enclosing component with a
 *    purl (a file nested under its package); a "dependencies" entry whose ref
 *    is a package and whose dependsOn names the file's bom-ref.
 * SPDX (spdxVersion "SPDX-2.3"):
 *  - the described package (documentDescribes[0], else the DESCRIBES
 *    relationship of SPDXRef-DOCUMENT) is the artifact: name, versionInfo,
 *    digest from an oci/docker purl or a SHA256 checksum; listed as a
 *    component unless primaryPackagePurpose is CONTAINER or the purl is
 *    oci/docker.
 *  - packages[]: name, versionInfo, externalRefs referenceType "purl".
 *  - files[]: fileName ("./usr/bin/x" becomes "/usr/bin/x"); the build-id is
 *    a line "build-id: <hex>" (also "gnu-build-id", "buildid",
 *    "tracebridge:build-id", with ':' or '=') in the file's comment or in
 *    one of its annotations' comment. checksums (SHA1, SHA256, BLAKE2b-...)
 *    are content digests, never build-ids.
 *  - owner: a package's hasFiles, relationships "P CONTAINS F",
 *    "F CONTAINED_BY P", "F GENERATED_FROM P", "P GENERATES F".
 * Both: the same path seen twice is one binary (a build-id fills a missing
 * one; two different build-ids for one path is an error). Owners compete by
 * strength (explicit > dependency graph > location evidence); two different
 * owners of equal strength make the owner unknown rather than guessed. A
 * binary with neither build-id nor owner says nothing the correlator can use
 * and is dropped. Paths without a leading '/' get one.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "tb/hash.h"
#include "tb/map.h"
#include "sbom.h"

void tb_sbom_limits_default(tb_sbom_limits_t *lim)
{
	lim->max_components = TB_SBOM_DEFAULT_MAX_COMPONENTS;
	lim->max_binaries = TB_SBOM_DEFAULT_MAX_BINARIES;
	lim->max_depth = TB_SBOM_DEFAULT_MAX_DEPTH;
}

/* ------------------------------------------------------------------------
 * JSON paths and accessors
 * ------------------------------------------------------------------------ */

void tb_jpath_init(tb_jpath_t *p, const char *root)
{
	size_t n = root ? strlen(root) : 0;

	if (n >= sizeof(p->buf))
		n = sizeof(p->buf) - 1;
	if (n)
		memcpy(p->buf, root, n);
	p->buf[n] = '\0';
	p->len = n;
}

static size_t jpath_append(tb_jpath_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t jpath_append(tb_jpath_t *p, const char *fmt, ...)
{
	size_t old = p->len;
	va_list ap;
	int n;

	if (p->len >= sizeof(p->buf) - 1)
		return old;
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n < sizeof(p->buf) - p->len ? (size_t)n : sizeof(p->buf) - 1 - p->len;
	return old;
}

size_t tb_jpath_key(tb_jpath_t *p, const char *key)
{
	return jpath_append(p, p->len ? ".%s" : "%s", key);
}

size_t tb_jpath_index(tb_jpath_t *p, size_t i)
{
	return jpath_append(p, "[%zu]", i);
}

void tb_jpath_pop(tb_jpath_t *p, size_t old_len)
{
	p->len = old_len;
	p->buf[old_len] = '\0';
}

const char *tb_jpath_str(const tb_jpath_t *p)
{
	return p->len ? p->buf : "$";
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

void tb_jerr_set(tb_err_t *err, tb_jpath_t *p, const char *key, const char *fmt, ...)
{
	char msg[TB_ERR_MAX];
	size_t old = key ? tb_jpath_key(p, key) : p->len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tb_err(err, "%s: %s", tb_jpath_str(p), msg);
	tb_jpath_pop(p, old);
}

int tb_json_str(const json_t *obj, const char *key, int required, tb_jpath_t *p, const char **out,
		tb_err_t *err)
{
	const json_t *v = json_object_get(obj, key);
	const char *why = NULL;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		why = "missing required field";
	} else if (!json_is_string(v)) {
		return tb_jerr(err, p, key, "expected string, got %s", json_type_name(v));
	} else if (json_string_length(v) > TB_SBOM_MAX_STRING) {
		return tb_jerr(err, p, key, "longer than %d bytes", TB_SBOM_MAX_STRING);
	} else if (required && json_string_length(v) == 0) {
		why = "must not be empty";
	} else if (!(*out = json_string_value(v))) {
		why = "expected string";
	}
	return why ? tb_jerr(err, p, key, "%s", why) : 0;
}

static int json_typed(const json_t *obj, const char *key, json_type want, tb_jpath_t *p, const json_t **out,
		      tb_err_t *err)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != want)
		return tb_jerr(err, p, key, "expected %s, got %s", want == JSON_ARRAY ? "array" : "object",
			       json_type_name(v));
	*out = v;
	return 0;
}

int tb_json_arr(const json_t *obj, const char *key, tb_jpath_t *p, const json_t **out, tb_err_t *err)
{
	return json_typed(obj, key, JSON_ARRAY, p, out, err);
}

int tb_json_obj(const json_t *obj, const char *key, tb_jpath_t *p, const json_t **out, tb_err_t *err)
{
	return json_typed(obj, key, JSON_OBJECT, p, out, err);
}

/* ------------------------------------------------------------------------
 * Validators
 * ------------------------------------------------------------------------ */

static int fail(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

typedef struct purl_parts {
	const char *type, *type_end;
	const char *name, *name_end;
	const char *ver, *ver_end; /* ver == NULL: no version */
	const char *qual, *qual_end;
} purl_parts_t;

static int purl_chars(const char *purl, size_t n, char *why, size_t why_len)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)purl[i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(why, why_len, "byte 0x%02x at offset %zu must be percent-encoded", c, i);
		if (c == '%' && (i + 2 >= n + 0 || hexval(purl[i + 1]) < 0 || hexval(purl[i + 2]) < 0))
			return fail(why, why_len, "invalid percent-encoding at offset %zu", i);
	}
	return 0;
}

static int purl_type(const char *s, const char *end, char *why, size_t why_len)
{
	if (s == end)
		return fail(why, why_len, "type is empty");
	if (!isalpha((unsigned char)*s))
		return fail(why, why_len, "type \"%.*s\" must start with a letter", (int)(end - s), s);
	for (const char *c = s; c < end; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '+' && *c != '-')
			return fail(why, why_len, "type \"%.*s\" has invalid character '%c'", (int)(end - s),
				    s, *c);
	return 0;
}

static int qual_key_ok(const char *k, size_t n)
{
	if (n == 0 || isdigit((unsigned char)k[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '.' && k[i] != '-' && k[i] != '_')
			return 0;
	return 1;
}

/* Is key[0..n) already among the qualifiers in [s, upto)? */
static int qual_seen(const char *s, const char *upto, const char *key, size_t n)
{
	while (s < upto) {
		const char *amp = memchr(s, '&', (size_t)(upto - s));
		const char *seg_end = amp ? amp : upto;
		const char *eq = memchr(s, '=', (size_t)(seg_end - s));

		if (eq && (size_t)(eq - s) == n && strncasecmp(s, key, n) == 0)
			return 1;
		s = seg_end + 1;
	}
	return 0;
}

static int purl_qualifiers(const char *s, const char *end, char *why, size_t why_len)
{
	const char *start = s;

	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *seg_end = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(seg_end - s));
		size_t klen;

		if (seg_end == s) {
			s = seg_end + 1;
			continue;
		}
		if (!eq)
			return fail(why, why_len, "qualifier \"%.*s\" lacks '='", (int)(seg_end - s), s);
		klen = (size_t)(eq - s);
		if (!qual_key_ok(s, klen))
			return fail(why, why_len, "qualifier key \"%.*s\" is invalid", (int)klen, s);
		if (qual_seen(start, s, s, klen))
			return fail(why, why_len, "duplicate qualifier key \"%.*s\"", (int)klen, s);
		s = seg_end + 1;
	}
	return 0;
}

/* Split per the purl spec: '#' and '?' from the right, type up to the
 * first '/', version after the last '@', name after the last '/'. */
static int purl_split(const char *purl, purl_parts_t *pp, char *why, size_t why_len)
{
	size_t n = strlen(purl);
	const char *s, *end = purl + n, *cut, *slash;

	memset(pp, 0, sizeof(*pp));
	if (n == 0)
		return fail(why, why_len, "empty");
	if (purl_chars(purl, n, why, why_len) < 0)
		return -1;
	if (n < 4 || strncasecmp(purl, "pkg:", 4) != 0)
		return fail(why, why_len, "scheme must be \"pkg:\"");
	for (s = purl + 4; *s == '/'; s++)
		;
	if ((cut = memrchr(s, '#', (size_t)(end - s))))
		end = cut;
	if ((cut = memrchr(s, '?', (size_t)(end - s)))) {
		pp->qual = cut + 1;
		pp->qual_end = end;
		end = cut;
	}
	slash = memchr(s, '/', (size_t)(end - s));
	if (!slash)
		return fail(why, why_len, "missing '/' between type and name");
	pp->type = s;
	pp->type_end = slash;
	if (purl_type(s, slash, why, why_len) < 0)
		return -1;
	for (s = slash + 1; s < end && *s == '/'; s++)
		;
	while (end > s && end[-1] == '/')
		end--;
	if ((cut = memrchr(s, '@', (size_t)(end - s)))) {
		if (cut + 1 == end)
			return fail(why, why_len, "version after '@' is empty");
		pp->ver = cut + 1;
		pp->ver_end = end;
		end = cut;
	}
	cut = memrchr(s, '/', (size_t)(end - s));
	pp->name = cut ? cut + 1 : s;
	pp->name_end = end;
	if (pp->name == pp->name_end)
		return fail(why, why_len, "name is empty");
	if (pp->qual && purl_qualifiers(pp->qual, pp->qual_end, why, why_len) < 0)
		return -1;
	return 0;
}

int tb_purl_check(const char *purl, char *why, size_t why_len)
{
	purl_parts_t pp;

	return purl_split(purl, &pp, why, why_len);
}

static int purl_type_is(const char *purl, const char *type)
{
	purl_parts_t pp;

	if (purl_split(purl, &pp, NULL, 0) < 0)
		return 0;
	return (size_t)(pp.type_end - pp.type) == strlen(type) &&
	       strncasecmp(pp.type, type, strlen(type)) == 0;
}

int tb_purl_version(const char *purl, char *out, size_t out_len)
{
	purl_parts_t pp;
	size_t o = 0;

	if (purl_split(purl, &pp, NULL, 0) < 0 || !pp.ver)
		return -1;
	for (const char *c = pp.ver; c < pp.ver_end; c++) {
		int ch = (unsigned char)*c;

		if (ch == '%') { /* purl_chars guaranteed two hex digits */
			ch = hexval(c[1]) * 16 + hexval(c[2]);
			c += 2;
		}
		if (o + 1 >= out_len)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

char *tb_build_id_normalize(const char *in, char *why, size_t why_len)
{
	size_t n = strlen(in);
	char *out;

	if (n < 8 || n > 128 || n % 2) {
		fail(why, why_len, "build-id must be 8..128 hex digits (4..64 bytes, even count), got %zu",
		     n);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (hexval(in[i]) < 0) {
			fail(why, why_len, "build-id has non-hex character at offset %zu", i);
			return NULL;
		}
	}
	out = strdup(in);
	if (!out) {
		fail(why, why_len, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

static int is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int tb_digest_check(const char *digest, char *why, size_t why_len)
{
	if (strncmp(digest, "sha256:", 7) != 0)
		return fail(why, why_len, "expected \"sha256:\" followed by 64 lowercase hex digits");
	if (strlen(digest + 7) != 64)
		return fail(why, why_len, "sha256 digest must have 64 hex digits, got %zu",
			    strlen(digest + 7));
	if (!is_lower_hex(digest + 7, 64))
		return fail(why, why_len, "sha256 digest must be lowercase hex");
	return 0;
}

/* ------------------------------------------------------------------------
 * Artifact builder: components and binaries with deduplication and owners
 * ------------------------------------------------------------------------ */

enum { OWN_NONE = 0, OWN_LOCATION = 1, OWN_DEPENDENCY = 2, OWN_EXPLICIT = 3 };

typedef struct bin_meta {
	int strength;  /* of the owner in binaries[i].purl */
	int ambiguous; /* two different owners of this strength were seen */
} bin_meta_t;

/* A CycloneDX bom-ref or SPDX SPDXID: which purl owns what it contains, or
 * which binary it is. */
typedef struct ref_info {
	char *purl; /* NULL: not an owner (file, or the artifact container) */
	long bin;   /* binary index for files, else -1 */
} ref_info_t;

typedef struct sbom_ctx {
	const tb_sbom_limits_t *lim;
	tb_artifact_t *out;
	size_t comp_cap, bin_cap, n_candidates;
	bin_meta_t *meta;
	tb_map_t *comp_seen; /* purl, or "\x01name\x1fversion" -> (void *)1 */
	tb_map_t *by_path;   /* path -> index + 1 */
	tb_map_t *by_bid;    /* build-id -> index + 1 of the first binary with it */
	tb_map_t *refs;	     /* id -> ref_info_t */
	tb_jpath_t path;
	tb_err_t *err;
} sbom_ctx_t;

static void ref_free(void *v)
{
	ref_info_t *r = v;

	if (r)
		free(r->purl);
	free(r);
}

static char *dupz(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int oom(sbom_ctx_t *c)
{
	return tb_err(c->err, "%s: out of memory", tb_jpath_str(&c->path));
}

static int ref_put(sbom_ctx_t *c, const char *id, const char *purl, long bin)
{
	ref_info_t *r;

	if (!id || tb_map_get(c->refs, id))
		return 0; /* first definition wins; duplicates are the producer's problem */
	r = calloc(1, sizeof(*r));
	if (!r)
		return oom(c);
	r->purl = dupz(purl);
	r->bin = bin;
	if (purl && !r->purl) {
		free(r);
		return oom(c);
	}
	tb_map_put(c->refs, id, r);
	return 0;
}

static int add_component(sbom_ctx_t *c, const char *purl, const char *name, const char *version)
{
	tb_artifact_t *a = c->out;
	tb_component_t *cp;
	char key[2 * TB_SBOM_MAX_STRING + 4];

	if (purl)
		snprintf(key, sizeof(key), "%s", purl);
	else
		snprintf(key, sizeof(key), "\x01%s\x1f%s", name ? name : "", version ? version : "");
	if (tb_map_get(c->comp_seen, key))
		return 0;
	if (a->n_components >= c->lim->max_components)
		return tb_err(c->err, "%s: more than %zu components (limit)", tb_jpath_str(&c->path),
			      c->lim->max_components);
	if (a->n_components == c->comp_cap) {
		size_t cap = c->comp_cap ? 2 * c->comp_cap : 16;
		tb_component_t *n = realloc(a->components, cap * sizeof(*n));

		if (!n)
			return oom(c);
		a->components = n;
		c->comp_cap = cap;
	}
	cp = &a->components[a->n_components];
	memset(cp, 0, sizeof(*cp));
	a->n_components++;
	cp->purl = dupz(purl);
	cp->name = dupz(name);
	cp->version = dupz(version);
	if ((purl && !cp->purl) || (name && !cp->name) || (version && !cp->version))
		return oom(c);
	tb_map_put(c->comp_seen, key, (void *)1);
	return 0;
}

static long map_index(tb_map_t *m, const char *key)
{
	void *v = key ? tb_map_get(m, key) : NULL;

	return v ? (long)(uintptr_t)v - 1 : -1;
}

static void map_index_put(tb_map_t *m, const char *key, long idx)
{
	if (!tb_map_get(m, key))
		tb_map_put(m, key, (void *)(uintptr_t)(idx + 1));
}

static void set_owner(sbom_ctx_t *c, long idx, const char *purl, int strength)
{
	tb_binary_t *b = &c->out->binaries[idx];
	bin_meta_t *m = &c->meta[idx];
	char *dup;

	if (!purl || strength < m->strength)
		return;
	if (strength == m->strength) {
		if (m->ambiguous || (b->purl && strcmp(b->purl, purl) == 0))
			return;
		if (b->purl) { /* a second, different owner: do not guess */
			free(b->purl);
			b->purl = NULL;
			m->ambiguous = 1;
			return;
		}
	}
	dup = strdup(purl);
	if (!dup)
		return; /* the owner stays unknown; not worth failing the SBOM */
	free(b->purl);
	b->purl = dup;
	m->strength = strength;
	m->ambiguous = 0;
}

static long new_binary(sbom_ctx_t *c)
{
	tb_artifact_t *a = c->out;

	if (a->n_binaries == c->bin_cap) {
		size_t cap = c->bin_cap ? 2 * c->bin_cap : 16;
		tb_binary_t *n = realloc(a->binaries, cap * sizeof(*n));
		bin_meta_t *m;

		if (!n)
			return oom(c);
		a->binaries = n;
		m = realloc(c->meta, cap * sizeof(*m));
		if (!m)
			return oom(c);
		c->meta = m;
		c->bin_cap = cap;
	}
	memset(&a->binaries[a->n_binaries], 0, sizeof(tb_binary_t));
	memset(&c->meta[a->n_binaries], 0, sizeof(bin_meta_t));
	return (long)a->n_binaries++;
}

/* Find the binary this (path, build_id) describes: same path, or a
 * path-less binary with the same build-id. */
static long find_binary(sbom_ctx_t *c, const char *path, const char *bid)
{
	long idx = map_index(c->by_path, path);

	if (idx < 0 && bid) {
		idx = map_index(c->by_bid, bid);
		if (idx >= 0 && path && c->out->binaries[idx].path)
			idx = -1;
	}
	return idx;
}

/* Add or merge a binary candidate; returns its index or -1 (err set). */
static long add_binary(sbom_ctx_t *c, const char *path, const char *bid, const char *purl, int strength)
{
	tb_binary_t *b;
	long idx;

	if (c->n_candidates++ >= c->lim->max_binaries)
		return tb_err(c->err, "%s: more than %zu binaries (limit)", tb_jpath_str(&c->path),
			      c->lim->max_binaries);
	idx = find_binary(c, path, bid);
	if (idx < 0 && (idx = new_binary(c)) < 0)
		return -1;
	b = &c->out->binaries[idx];
	if (bid && b->build_id && strcmp(b->build_id, bid) != 0)
		return tb_err(c->err, "%s: build-id %s for %s conflicts with build-id %s given earlier",
			      tb_jpath_str(&c->path), bid, path ? path : "(no path)", b->build_id);
	if (bid && !b->build_id) {
		if (!(b->build_id = strdup(bid)))
			return oom(c);
		map_index_put(c->by_bid, bid, idx);
	}
	if (path && !b->path) {
		if (!(b->path = strdup(path)))
			return oom(c);
		map_index_put(c->by_path, path, idx);
	}
	set_owner(c, idx, purl, strength);
	return idx;
}

/* SBOM paths: "./usr/bin/x" and "usr/bin/x" both mean "/usr/bin/x". */
static void norm_path(const char *in, char *out, size_t out_len)
{
	while (in[0] == '.' && in[1] == '/')
		in += 2;
	snprintf(out, out_len, "%s%s", in[0] == '/' ? "" : "/", in);
}

/* Location evidence also points at package-manager records (syft lists
 * /var/lib/dpkg/status for every deb): those files never hold code a stack
 * frame can come from, so they are not binaries of the component. */
static int is_package_metadata_path(const char *path)
{
	static const char *const prefixes[] = {"/var/lib/dpkg/", "/var/lib/rpm/",   "/usr/lib/sysimage/rpm/",
					       "/lib/apk/db/",	 "/usr/share/doc/", "/usr/share/licenses/"};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return strstr(path, ".dist-info/") || strstr(path, ".egg-info/") ||
	       (n >= 13 && strcmp(path + n - 13, "/package.json") == 0);
}

/* Drop binaries with neither build-id nor owner; keep document order. */
static void drop_useless_binaries(tb_artifact_t *a)
{
	size_t w = 0;

	for (size_t r = 0; r < a->n_binaries; r++) {
		tb_binary_t *b = &a->binaries[r];

		if (!b->build_id && !b->purl) {
			free(b->path);
			continue;
		}
		a->binaries[w++] = *b;
	}
	a->n_binaries = w;
}

static int ctx_init(sbom_ctx_t *c, const tb_sbom_limits_t *lim, tb_artifact_t *out, const char *prefix,
		    tb_err_t *err)
{
	memset(c, 0, sizeof(*c));
	c->lim = lim;
	c->out = out;
	c->err = err;
	tb_jpath_init(&c->path, prefix);
	c->comp_seen = tb_map_new(64);
	c->by_path = tb_map_new(64);
	c->by_bid = tb_map_new(64);
	c->refs = tb_map_new(64);
	if (!c->comp_seen || !c->by_path || !c->by_bid || !c->refs)
		return oom(c);
	return 0;
}

static void ctx_free(sbom_ctx_t *c)
{
	tb_map_free(c->comp_seen, NULL);
	tb_map_free(c->by_path, NULL);
	tb_map_free(c->by_bid, NULL);
	tb_map_free(c->refs, ref_free);
	free(c->meta);
}

/* Normalize a build-id found at <path>[.key]; *out = malloc'd lowercase. */
static int build_id_at(sbom_ctx_t *c, const char *raw, const char *key, char **out)
{
	char why[160];

	*out = tb_build_id_normalize(raw, why, sizeof(why));
	if (!*out)
		return tb_jerr(c->err, &c->path, key, "%s", why);
	return 0;
}

static int purl_at(sbom_ctx_t *c, const char *purl, const char *key)
{
	char why[256];

	if (purl && tb_purl_check(purl, why, sizeof(why)) < 0)
		return tb_jerr(c->err, &c->path, key, "invalid purl \"%.200s\": %s", purl, why);
	return 0;
}

/* "sha256:<hex>" of a container: from an oci/docker purl version, a SHA-256
 * hash value, or a "sha256:<hex>" string; NULL when none is there. */
static char *digest_from_purl(const char *purl)
{
	char ver[128];

	if (!purl || (!purl_type_is(purl, "oci") && !purl_type_is(purl, "docker")))
		return NULL;
	if (tb_purl_version(purl, ver, sizeof(ver)) < 0 || tb_digest_check(ver, NULL, 0) < 0)
		return NULL;
	return strdup(ver);
}

static char *digest_from_hex(const char *hex)
{
	char buf[7 + 64 + 1];

	if (!hex || strlen(hex) != 64)
		return NULL;
	for (int i = 0; i < 64; i++) {
		if (hexval(hex[i]) < 0)
			return NULL;
		buf[7 + i] = (char)tolower((unsigned char)hex[i]);
	}
	memcpy(buf, "sha256:", 7);
	buf[71] = '\0';
	return strdup(buf);
}

static char *digest_from_string(const char *s)
{
	return s && tb_digest_check(s, NULL, 0) == 0 ? strdup(s) : NULL;
}

/* Does a comment hold "build-id: <hex>"? Points raw, raw_len at the value. */
static int text_build_id(const char *text, const char **raw, size_t *raw_len)
{
	static const char *const keys[] = {"tracebridge:build-id", "gnu-build-id", "build-id", "buildid"};
	const char *line = text;

	while (line && *line) {
		const char *s = line;

		while (*s == ' ' || *s == '\t')
			s++;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			size_t kl = strlen(keys[k]);
			const char *v = s + kl;

			if (strncasecmp(s, keys[k], kl) != 0)
				continue;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v != ':' && *v != '=')
				continue;
			for (v++; *v == ' ' || *v == '\t'; v++)
				;
			*raw = v;
			*raw_len = strcspn(v, " \t\r\n");
			return 1;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

/* Build-id from a comment string at <path>.<key>; *out NULL when none. */
static int comment_build_id(sbom_ctx_t *c, const char *text, const char *key, char **out)
{
	const char *raw;
	size_t n;
	char buf[256];

	*out = NULL;
	if (!text || !text_build_id(text, &raw, &n))
		return 0;
	if (n >= sizeof(buf))
		return tb_jerr(c->err, &c->path, key, "build-id is longer than 128 hex digits");
	memcpy(buf, raw, n);
	buf[n] = '\0';
	return build_id_at(c, buf, key, out);
}

/* ------------------------------------------------------------------------
 * CycloneDX
 * ------------------------------------------------------------------------ */

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int is_build_id_property(const char *name)
{
	static const char *const exact[] = {"tracebridge:build-id", "build-id", "gnu-build-id", "buildid"};
	static const char *const suffix[] = {":build-id", ":buildid", ":build_id", ":gnu-build-id"};

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcasecmp(name, exact[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
		if (ends_with_ci(name, suffix[i]))
			return 1;
	return 0;
}

/* "syft:location:<N>:path" */
static int is_location_property(const char *name)
{
	const char *s = name + strlen("syft:location:");

	if (strncmp(name, "syft:location:", strlen("syft:location:")) != 0 || !isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return strcmp(s, ":path") == 0;
}

typedef struct cdx_comp {
	const char *type, *name, *version, *purl, *ref;
	const json_t *props, *occurrences, *children, *hashes;
	char *build_id;	   /* malloc'd, normalized */
	const char *owner; /* tracebridge:purl */
} cdx_comp_t;

/* Property i at <path>.properties[i]: name/value as strings. */
static int cdx_property(sbom_ctx_t *c, const json_t *prop, size_t i, const char **name, const char **value)
{
	size_t old = tb_jpath_index(&c->path, i);
	int rc = -1;

	if (!json_is_object(prop)) {
		tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(prop));
		goto out;
	}
	if (tb_json_str(prop, "name", 1, &c->path, name, c->err) < 0 ||
	    tb_json_str(prop, "value", 0, &c->path, value, c->err) < 0)
		goto out;
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

/* First pass over properties: the build-id and the owner override. */
static int cdx_scan_properties(sbom_ctx_t *c, cdx_comp_t *cc)
{
	size_t old = tb_jpath_key(&c->path, "properties");
	const char *name, *value;
	size_t i;
	int rc = -1;

	for (i = 0; cc->props && i < json_array_size(cc->props); i++) {
		if (cdx_property(c, json_array_get(cc->props, i), i, &name, &value) < 0)
			goto out;
		if (!value)
			continue;
		if (is_build_id_property(name) && !cc->build_id) {
			size_t o2 = tb_jpath_index(&c->path, i);
			int r = build_id_at(c, value, "value", &cc->build_id);

			tb_jpath_pop(&c->path, o2);
			if (r < 0)
				goto out;
		} else if (strcmp(name, "tracebridge:purl") == 0 && !cc->owner) {
			size_t o2 = tb_jpath_index(&c->path, i);
			int r = purl_at(c, value, "value");

			tb_jpath_pop(&c->path, o2);
			if (r < 0)
				goto out;
			cc->owner = value;
		}
	}
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

static int cdx_read(sbom_ctx_t *c, const json_t *comp, cdx_comp_t *cc)
{
	const json_t *evidence = NULL;

	memset(cc, 0, sizeof(*cc));
	if (!json_is_object(comp))
		return tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(comp));
	if (tb_json_str(comp, "type", 1, &c->path, &cc->type, c->err) < 0 ||
	    tb_json_str(comp, "name", 1, &c->path, &cc->name, c->err) < 0 ||
	    tb_json_str(comp, "version", 0, &c->path, &cc->version, c->err) < 0 ||
	    tb_json_str(comp, "purl", 0, &c->path, &cc->purl, c->err) < 0 ||
	    tb_json_str(comp, "bom-ref", 0, &c->path, &cc->ref, c->err) < 0 ||
	    tb_json_arr(comp, "properties", &c->path, &cc->props, c->err) < 0 ||
	    tb_json_arr(comp, "components", &c->path, &cc->children, c->err) < 0 ||
	    tb_json_arr(comp, "hashes", &c->path, &cc->hashes, c->err) < 0 ||
	    tb_json_obj(comp, "evidence", &c->path, &evidence, c->err) < 0)
		return -1;
	if (evidence) {
		size_t old = tb_jpath_key(&c->path, "evidence");
		int r = tb_json_arr(evidence, "occurrences", &c->path, &cc->occurrences, c->err);

		tb_jpath_pop(&c->path, old);
		if (r < 0)
			return -1;
	}
	if (purl_at(c, cc->purl, "purl") < 0)
		return -1;
	return cdx_scan_properties(c, cc);
}

/* Paths from properties: tracebridge:path (explicit) and syft locations
 * (`loc_strength`). *first = index of the first binary, or -1. */
static int cdx_property_paths(sbom_ctx_t *c, cdx_comp_t *cc, const char *owner, int loc_strength,
			      size_t *n_paths, long *first)
{
	size_t old = tb_jpath_key(&c->path, "properties");
	char path[TB_SBOM_MAX_STRING + 2];
	const char *name, *value;
	int rc = -1;

	for (size_t i = 0; cc->props && i < json_array_size(cc->props); i++) {
		int strength;
		long idx;

		if (cdx_property(c, json_array_get(cc->props, i), i, &name, &value) < 0)
			goto out;
		if (!value || !value[0])
			continue;
		if (strcmp(name, "tracebridge:path") == 0)
			strength = OWN_EXPLICIT;
		else if (is_location_property(name))
			strength = cc->build_id ? OWN_EXPLICIT : loc_strength;
		else
			continue;
		norm_path(value, path, sizeof(path));
		if (strength == OWN_LOCATION && is_package_metadata_path(path))
			continue;
		if ((idx = add_binary(c, path, cc->build_id, owner, strength)) < 0)
			goto out;
		if (*first < 0)
			*first = idx;
		(*n_paths)++;
	}
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

/* evidence.occurrences[].location (CycloneDX 1.5+). */
static int cdx_occurrence_paths(sbom_ctx_t *c, cdx_comp_t *cc, const char *owner, size_t *n_paths)
{
	size_t old = tb_jpath_key(&c->path, "evidence");
	int rc = -1;

	tb_jpath_key(&c->path, "occurrences");
	for (size_t i = 0; cc->occurrences && i < json_array_size(cc->occurrences); i++) {
		const json_t *occ = json_array_get(cc->occurrences, i);
		size_t o2 = tb_jpath_index(&c->path, i);
		const char *loc = NULL;
		int r;

		if (!json_is_object(occ))
			r = tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(occ));
		else
			r = tb_json_str(occ, "location", 1, &c->path, &loc, c->err);
		if (r == 0) {
			char path[TB_SBOM_MAX_STRING + 2];

			norm_path(loc, path, sizeof(path));
			if (cc->build_id || !is_package_metadata_path(path))
				r = add_binary(c, path, cc->build_id, owner,
					       cc->build_id ? OWN_EXPLICIT : OWN_LOCATION) < 0
					? -1
					: 0;
		}
		tb_jpath_pop(&c->path, o2);
		if (r < 0)
			goto out;
		(*n_paths)++;
	}
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

/* A type "file" component: one binary per tracebridge:path (or syft
 * location) property, else at its name. Its bom-ref names the first. */
static int cdx_file(sbom_ctx_t *c, cdx_comp_t *cc, const char *parent_owner)
{
	const char *owner = cc->owner ? cc->owner : parent_owner;
	char path[TB_SBOM_MAX_STRING + 2];
	size_t n_paths = 0;
	long first = -1;

	if (cdx_property_paths(c, cc, owner, OWN_EXPLICIT, &n_paths, &first) < 0)
		return -1;
	if (!n_paths) {
		norm_path(cc->name, path, sizeof(path));
		if ((first = add_binary(c, path, cc->build_id, owner, OWN_EXPLICIT)) < 0)
			return -1;
	}
	return ref_put(c, cc->ref, NULL, first);
}

/* A package-like component: listed, and a binary per path it names. */
static int cdx_package(sbom_ctx_t *c, cdx_comp_t *cc, int listed)
{
	/* The artifact's own container component owns nothing by itself. */
	const char *owner = cc->owner ? cc->owner : listed ? cc->purl : NULL;
	size_t n_paths = 0;
	long first = -1;

	if (listed && add_component(c, cc->purl, cc->name, cc->version) < 0)
		return -1;
	if (ref_put(c, cc->ref, listed ? cc->purl : NULL, -1) < 0)
		return -1;
	if (cdx_property_paths(c, cc, owner, OWN_LOCATION, &n_paths, &first) < 0 ||
	    cdx_occurrence_paths(c, cc, owner, &n_paths) < 0)
		return -1;
	if (!n_paths && cc->build_id && add_binary(c, NULL, cc->build_id, owner, OWN_EXPLICIT) < 0)
		return -1;
	return 0;
}

static int cdx_components(sbom_ctx_t *c, const json_t *arr, size_t depth, const char *parent_owner);

/* One component and its subtree at the current path. `listed` = 0 for the
 * artifact's own container component. */
static int cdx_component(sbom_ctx_t *c, const json_t *comp, size_t depth, const char *parent_owner,
			 int listed)
{
	cdx_comp_t cc;
	int rc = -1;

	if (cdx_read(c, comp, &cc) < 0)
		goto out;
	if (strcmp(cc.type, "file") == 0) {
		if (cdx_file(c, &cc, parent_owner) < 0)
			goto out;
	} else if (cdx_package(c, &cc, listed) < 0) {
		goto out;
	}
	if (cc.children) {
		size_t old = tb_jpath_key(&c->path, "components");
		int r = cdx_components(c, cc.children, depth + 1, listed && cc.purl ? cc.purl : parent_owner);

		tb_jpath_pop(&c->path, old);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	free(cc.build_id);
	return rc;
}

static int cdx_components(sbom_ctx_t *c, const json_t *arr, size_t depth, const char *parent_owner)
{
	if (depth > c->lim->max_depth)
		return tb_jerr(c->err, &c->path, NULL, "components nested deeper than %zu levels (limit)",
			       c->lim->max_depth);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		size_t old = tb_jpath_index(&c->path, i);
		int r = cdx_component(c, json_array_get(arr, i), depth, parent_owner, 1);

		tb_jpath_pop(&c->path, old);
		if (r < 0)
			return -1;
	}
	return 0;
}

static char *cdx_hash_digest(const json_t *hashes)
{
	for (size_t i = 0; hashes && i < json_array_size(hashes); i++) {
		const json_t *h = json_array_get(hashes, i);
		const char *alg = json_string_value(json_object_get(h, "alg"));

		if (alg && strcasecmp(alg, "SHA-256") == 0) {
			char *d = digest_from_hex(json_string_value(json_object_get(h, "content")));

			if (d)
				return d;
		}
	}
	return NULL;
}

static int is_container(const char *type, const char *purl)
{
	return (type && strcmp(type, "container") == 0) ||
	       (purl && (purl_type_is(purl, "oci") || purl_type_is(purl, "docker")));
}

/* metadata.component: the artifact itself, then walked as a component. */
static int cdx_artifact(sbom_ctx_t *c, const json_t *comp)
{
	cdx_comp_t cc;
	int listed;

	if (cdx_read(c, comp, &cc) < 0) {
		free(cc.build_id);
		return -1;
	}
	free(cc.build_id);
	c->out->name = dupz(cc.name);
	c->out->version = dupz(cc.version);
	c->out->digest = digest_from_purl(cc.purl);
	if (!c->out->digest)
		c->out->digest = cdx_hash_digest(cc.hashes);
	if (!c->out->digest)
		c->out->digest = digest_from_string(cc.version);
	if (!c->out->digest)
		c->out->digest = digest_from_string(cc.ref);
	if (!c->out->name)
		return oom(c);
	listed = !is_container(cc.type, cc.purl);
	return cdx_component(c, comp, 0, NULL, listed);
}

static int cdx_metadata(sbom_ctx_t *c, const json_t *doc)
{
	const json_t *meta = NULL, *comp = NULL;
	size_t old;
	int rc;

	if (tb_json_obj(doc, "metadata", &c->path, &meta, c->err) < 0)
		return -1;
	if (!meta)
		return 0;
	old = tb_jpath_key(&c->path, "metadata");
	rc = tb_json_obj(meta, "component", &c->path, &comp, c->err);
	if (rc == 0 && comp) {
		tb_jpath_key(&c->path, "component");
		rc = cdx_artifact(c, comp);
	}
	tb_jpath_pop(&c->path, old);
	return rc;
}

/* dependencies[]: a package ref that dependsOn a file ref owns that file. */
static int cdx_dependency(sbom_ctx_t *c, const json_t *d)
{
	const json_t *on = NULL;
	const char *ref = NULL;
	ref_info_t *owner;

	if (!json_is_object(d))
		return tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(d));
	if (tb_json_str(d, "ref", 1, &c->path, &ref, c->err) < 0 ||
	    tb_json_arr(d, "dependsOn", &c->path, &on, c->err) < 0)
		return -1;
	owner = tb_map_get(c->refs, ref);
	for (size_t j = 0; on && j < json_array_size(on); j++) {
		const json_t *t = json_array_get(on, j);
		ref_info_t *target;

		if (!json_is_string(t)) {
			size_t old = tb_jpath_key(&c->path, "dependsOn");

			tb_jpath_index(&c->path, j);
			tb_jerr(c->err, &c->path, NULL, "expected string, got %s", json_type_name(t));
			tb_jpath_pop(&c->path, old);
			return -1;
		}
		target = tb_map_get(c->refs, json_string_value(t));
		if (owner && owner->purl && target && target->bin >= 0)
			set_owner(c, target->bin, owner->purl, OWN_DEPENDENCY);
	}
	return 0;
}

static int cdx_dependencies(sbom_ctx_t *c, const json_t *doc)
{
	const json_t *deps = NULL;
	size_t old;
	int rc = 0;

	if (tb_json_arr(doc, "dependencies", &c->path, &deps, c->err) < 0)
		return -1;
	old = tb_jpath_key(&c->path, "dependencies");
	for (size_t i = 0; deps && rc == 0 && i < json_array_size(deps); i++) {
		size_t o2 = tb_jpath_index(&c->path, i);

		rc = cdx_dependency(c, json_array_get(deps, i));
		tb_jpath_pop(&c->path, o2);
	}
	tb_jpath_pop(&c->path, old);
	return rc;
}

static int cdx_parse(sbom_ctx_t *c, const json_t *doc)
{
	static const char *const versions[] = {"1.4", "1.5", "1.6"};
	const char *fmt = NULL, *ver = NULL;
	const json_t *comps = NULL;
	size_t old;
	int ok = 0;

	if (tb_json_str(doc, "bomFormat", 1, &c->path, &fmt, c->err) < 0)
		return -1;
	if (strcmp(fmt, "CycloneDX") != 0)
		return tb_jerr(c->err, &c->path, "bomFormat",
			       "unknown format \"%.100s\" (expected \"CycloneDX\")", fmt);
	if (tb_json_str(doc, "specVersion", 1, &c->path, &ver, c->err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		ok |= strcmp(ver, versions[i]) == 0;
	if (!ok)
		return tb_jerr(c->err, &c->path, "specVersion",
			       "unsupported CycloneDX version \"%.100s\" (supported: 1.4, 1.5, 1.6)", ver);
	if (asprintf(&c->out->sbom_format, "cyclonedx-%s", ver) < 0) {
		c->out->sbom_format = NULL;
		return oom(c);
	}
	if (cdx_metadata(c, doc) < 0 || tb_json_arr(doc, "components", &c->path, &comps, c->err) < 0)
		return -1;
	old = tb_jpath_key(&c->path, "components");
	if (comps && cdx_components(c, comps, 1, NULL) < 0)
		return -1;
	tb_jpath_pop(&c->path, old);
	return cdx_dependencies(c, doc);
}

/* ------------------------------------------------------------------------
 * SPDX 2.3
 * ------------------------------------------------------------------------ */

static int spdx_annotation_build_id(sbom_ctx_t *c, const json_t *elem, char **out)
{
	const json_t *notes = NULL;
	size_t old;
	int rc = -1;

	if (tb_json_arr(elem, "annotations", &c->path, &notes, c->err) < 0)
		return -1;
	old = tb_jpath_key(&c->path, "annotations");
	for (size_t i = 0; notes && !*out && i < json_array_size(notes); i++) {
		const json_t *n = json_array_get(notes, i);
		size_t o2 = tb_jpath_index(&c->path, i);
		const char *comment = NULL;
		int r;

		if (!json_is_object(n))
			r = tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(n));
		else
			r = tb_json_str(n, "comment", 0, &c->path, &comment, c->err);
		if (r == 0)
			r = comment_build_id(c, comment, "comment", out);
		tb_jpath_pop(&c->path, o2);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

/* Build-id from the element's comment, else from one of its annotations. */
static int spdx_build_id(sbom_ctx_t *c, const json_t *elem, char **out)
{
	const char *comment = NULL;

	*out = NULL;
	if (tb_json_str(elem, "comment", 0, &c->path, &comment, c->err) < 0 ||
	    comment_build_id(c, comment, "comment", out) < 0)
		return -1;
	if (*out)
		return 0;
	return spdx_annotation_build_id(c, elem, out);
}

/* The first externalRefs entry with referenceType "purl". */
static int spdx_purl(sbom_ctx_t *c, const json_t *pkg, const char **purl)
{
	const json_t *refs = NULL;
	size_t old;
	int rc = -1;

	*purl = NULL;
	if (tb_json_arr(pkg, "externalRefs", &c->path, &refs, c->err) < 0)
		return -1;
	old = tb_jpath_key(&c->path, "externalRefs");
	for (size_t i = 0; refs && i < json_array_size(refs); i++) {
		const json_t *r = json_array_get(refs, i);
		size_t o2 = tb_jpath_index(&c->path, i);
		const char *type = NULL, *loc = NULL;
		int bad;

		if (!json_is_object(r))
			bad = tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(r));
		else
			bad = tb_json_str(r, "referenceType", 1, &c->path, &type, c->err) < 0 ||
			      tb_json_str(r, "referenceLocator", 1, &c->path, &loc, c->err) < 0;
		if (!bad && strcmp(type, "purl") == 0 && !*purl) {
			bad = purl_at(c, loc, "referenceLocator") < 0;
			*purl = loc;
		}
		tb_jpath_pop(&c->path, o2);
		if (bad)
			goto out;
	}
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

static char *spdx_checksum_digest(const json_t *sums)
{
	for (size_t i = 0; sums && i < json_array_size(sums); i++) {
		const json_t *s = json_array_get(sums, i);
		const char *alg = json_string_value(json_object_get(s, "algorithm"));

		if (alg && strcmp(alg, "SHA256") == 0) {
			char *d = digest_from_hex(json_string_value(json_object_get(s, "checksumValue")));

			if (d)
				return d;
		}
	}
	return NULL;
}

/* documentDescribes[0], else the target of "SPDXRef-DOCUMENT DESCRIBES x"
 * (or the source of "x DESCRIBED_BY SPDXRef-DOCUMENT"). */
static const char *spdx_root_id(const json_t *doc, const char *doc_id)
{
	const json_t *desc = json_object_get(doc, "documentDescribes");
	const json_t *rels = json_object_get(doc, "relationships");

	if (json_is_array(desc) && json_is_string(json_array_get(desc, 0)))
		return json_string_value(json_array_get(desc, 0));
	for (size_t i = 0; json_is_array(rels) && i < json_array_size(rels); i++) {
		const json_t *r = json_array_get(rels, i);
		const char *a = json_string_value(json_object_get(r, "spdxElementId"));
		const char *t = json_string_value(json_object_get(r, "relationshipType"));
		const char *b = json_string_value(json_object_get(r, "relatedSpdxElement"));

		if (!a || !t || !b)
			continue;
		if (strcmp(t, "DESCRIBES") == 0 && strcmp(a, doc_id) == 0)
			return b;
		if (strcmp(t, "DESCRIBED_BY") == 0 && strcmp(b, doc_id) == 0)
			return a;
	}
	return NULL;
}

typedef struct spdx_pkg {
	const char *id, *name, *version, *purl, *purpose;
	const json_t *checksums;
	char *build_id;
} spdx_pkg_t;

static int spdx_read_package(sbom_ctx_t *c, const json_t *pkg, spdx_pkg_t *p)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(pkg))
		return tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(pkg));
	if (tb_json_str(pkg, "SPDXID", 1, &c->path, &p->id, c->err) < 0 ||
	    tb_json_str(pkg, "name", 1, &c->path, &p->name, c->err) < 0 ||
	    tb_json_str(pkg, "versionInfo", 0, &c->path, &p->version, c->err) < 0 ||
	    tb_json_str(pkg, "primaryPackagePurpose", 0, &c->path, &p->purpose, c->err) < 0 ||
	    tb_json_arr(pkg, "checksums", &c->path, &p->checksums, c->err) < 0 ||
	    spdx_purl(c, pkg, &p->purl) < 0)
		return -1;
	return spdx_build_id(c, pkg, &p->build_id);
}

static int spdx_package(sbom_ctx_t *c, const json_t *pkg, const char *root_id)
{
	spdx_pkg_t p;
	int listed = 1, rc = -1;

	if (spdx_read_package(c, pkg, &p) < 0)
		goto out;
	if (root_id && strcmp(p.id, root_id) == 0 && !c->out->name) {
		c->out->name = dupz(p.name);
		c->out->version = dupz(p.version);
		c->out->digest = digest_from_purl(p.purl);
		if (!c->out->digest)
			c->out->digest = spdx_checksum_digest(p.checksums);
		listed = !((p.purpose && strcmp(p.purpose, "CONTAINER") == 0) || is_container(NULL, p.purl));
	}
	if (listed && add_component(c, p.purl, p.name, p.version) < 0)
		goto out;
	if (ref_put(c, p.id, listed ? p.purl : NULL, -1) < 0)
		goto out;
	if (p.build_id && add_binary(c, NULL, p.build_id, listed ? p.purl : NULL, OWN_EXPLICIT) < 0)
		goto out;
	rc = 0;
out:
	free(p.build_id);
	return rc;
}

static int spdx_file(sbom_ctx_t *c, const json_t *file)
{
	const char *id = NULL, *name = NULL;
	char path[TB_SBOM_MAX_STRING + 2];
	char *bid = NULL;
	long idx;
	int rc = -1;

	if (!json_is_object(file))
		return tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(file));
	if (tb_json_str(file, "SPDXID", 1, &c->path, &id, c->err) < 0 ||
	    tb_json_str(file, "fileName", 1, &c->path, &name, c->err) < 0 || spdx_build_id(c, file, &bid) < 0)
		goto out;
	norm_path(name, path, sizeof(path));
	if ((idx = add_binary(c, path, bid, NULL, OWN_NONE)) < 0 || ref_put(c, id, NULL, idx) < 0)
		goto out;
	rc = 0;
out:
	free(bid);
	return rc;
}

/* Give file `file_id` the owner `owner_id` when that is a listed package. */
static void spdx_own(sbom_ctx_t *c, const char *owner_id, const char *file_id)
{
	ref_info_t *o = tb_map_get(c->refs, owner_id);
	ref_info_t *f = tb_map_get(c->refs, file_id);

	if (o && o->purl && f && f->bin >= 0)
		set_owner(c, f->bin, o->purl, OWN_EXPLICIT);
}

/* packages[i].hasFiles[] */
static int spdx_has_files(sbom_ctx_t *c, const json_t *pkg)
{
	const char *id = json_string_value(json_object_get(pkg, "SPDXID"));
	const json_t *files = NULL;
	size_t old;
	int rc = -1;

	if (tb_json_arr(pkg, "hasFiles", &c->path, &files, c->err) < 0)
		return -1;
	old = tb_jpath_key(&c->path, "hasFiles");
	for (size_t i = 0; files && i < json_array_size(files); i++) {
		const json_t *f = json_array_get(files, i);

		if (!json_is_string(f)) {
			tb_jpath_index(&c->path, i);
			tb_jerr(c->err, &c->path, NULL, "expected string, got %s", json_type_name(f));
			goto out;
		}
		spdx_own(c, id, json_string_value(f));
	}
	rc = 0;
out:
	tb_jpath_pop(&c->path, old);
	return rc;
}

static int spdx_relationship(sbom_ctx_t *c, const json_t *rel)
{
	const char *a = NULL, *type = NULL, *b = NULL;

	if (!json_is_object(rel))
		return tb_jerr(c->err, &c->path, NULL, "expected object, got %s", json_type_name(rel));
	if (tb_json_str(rel, "spdxElementId", 1, &c->path, &a, c->err) < 0 ||
	    tb_json_str(rel, "relationshipType", 1, &c->path, &type, c->err) < 0 ||
	    tb_json_str(rel, "relatedSpdxElement", 1, &c->path, &b, c->err) < 0)
		return -1;
	if (strcmp(type, "CONTAINS") == 0 || strcmp(type, "GENERATES") == 0)
		spdx_own(c, a, b);
	else if (strcmp(type, "CONTAINED_BY") == 0 || strcmp(type, "GENERATED_FROM") == 0)
		spdx_own(c, b, a);
	return 0;
}

/* Run fn over every element of doc[key] with the path set to key[i]. */
static int spdx_each(sbom_ctx_t *c, const json_t *doc, const char *key,
		     int (*fn)(sbom_ctx_t *, const json_t *, const char *), const char *arg)
{
	const json_t *arr = NULL;
	size_t old;
	int rc = 0;

	if (tb_json_arr(doc, key, &c->path, &arr, c->err) < 0)
		return -1;
	old = tb_jpath_key(&c->path, key);
	for (size_t i = 0; arr && rc == 0 && i < json_array_size(arr); i++) {
		size_t o2 = tb_jpath_index(&c->path, i);

		rc = fn(c, json_array_get(arr, i), arg);
		tb_jpath_pop(&c->path, o2);
	}
	tb_jpath_pop(&c->path, old);
	return rc;
}

static int each_package(sbom_ctx_t *c, const json_t *v, const char *root_id)
{
	return spdx_package(c, v, root_id);
}

static int each_file(sbom_ctx_t *c, const json_t *v, const char *unused)
{
	(void)unused;
	return spdx_file(c, v);
}

static int each_has_files(sbom_ctx_t *c, const json_t *v, const char *unused)
{
	(void)unused;
	return spdx_has_files(c, v);
}

static int each_relationship(sbom_ctx_t *c, const json_t *v, const char *unused)
{
	(void)unused;
	return spdx_relationship(c, v);
}

static int spdx_parse(sbom_ctx_t *c, const json_t *doc)
{
	const char *ver = NULL, *id = NULL, *name = NULL, *root;

	if (tb_json_str(doc, "spdxVersion", 1, &c->path, &ver, c->err) < 0)
		return -1;
	if (strcmp(ver, "SPDX-2.3") != 0)
		return tb_jerr(c->err, &c->path, "spdxVersion",
			       "unsupported SPDX version \"%.100s\" (supported: SPDX-2.3)", ver);
	if (tb_json_str(doc, "SPDXID", 1, &c->path, &id, c->err) < 0 ||
	    tb_json_str(doc, "name", 1, &c->path, &name, c->err) < 0)
		return -1;
	if (!(c->out->sbom_format = strdup("spdx-2.3")))
		return oom(c);
	root = spdx_root_id(doc, id);
	/* Packages first (owners), files next (binaries), then who owns what. */
	if (spdx_each(c, doc, "packages", each_package, root) < 0 ||
	    spdx_each(c, doc, "files", each_file, NULL) < 0 ||
	    spdx_each(c, doc, "packages", each_has_files, NULL) < 0 ||
	    spdx_each(c, doc, "relationships", each_relationship, NULL) < 0)
		return -1;
	if (!c->out->name && !(c->out->name = strdup(name)))
		return oom(c);
	return 0;
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------ */

int tb_sbom_detect(const json_t *doc)
{
	return json_is_object(doc) &&
	       (json_object_get(doc, "bomFormat") || json_object_get(doc, "spdxVersion"));
}

static int set_sha256(tb_artifact_t *out, const char *raw, size_t raw_len)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)raw, raw_len);
	out->sbom_sha256 = malloc(2 * sizeof(h) + 1);
	if (!out->sbom_sha256)
		return -1;
	tb_hex(h, sizeof(h), out->sbom_sha256);
	return 0;
}

int tb_sbom_parse_json(const json_t *doc, const char *raw, size_t raw_len, const char *path_prefix,
		       const tb_sbom_limits_t *lim, tb_artifact_t *out, tb_err_t *err)
{
	tb_sbom_limits_t def;
	sbom_ctx_t c;
	int rc = -1;

	if (!lim) {
		tb_sbom_limits_default(&def);
		lim = &def;
	}
	if (ctx_init(&c, lim, out, path_prefix, err) < 0)
		goto out;
	if (!json_is_object(doc))
		tb_jerr(err, &c.path, NULL, "expected an SBOM object, got %s", json_type_name(doc));
	else if (json_object_get(doc, "bomFormat"))
		rc = cdx_parse(&c, doc);
	else if (json_object_get(doc, "spdxVersion"))
		rc = spdx_parse(&c, doc);
	else
		tb_jerr(
		    err, &c.path, NULL,
		    "unknown SBOM format: expected CycloneDX JSON (bomFormat) or SPDX JSON (spdxVersion)");
	if (rc == 0) {
		drop_useless_binaries(out);
		if ((rc = set_sha256(out, raw, raw_len)) < 0)
			oom(&c);
	}
out:
	ctx_free(&c);
	if (rc < 0) {
		tb_artifact_clear(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int tb_sbom_parse(const char *body, size_t len, const tb_sbom_limits_t *lim, tb_artifact_t *out,
		  tb_err_t *err)
{
	json_error_t jerror;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerror);
	int rc;

	if (!doc)
		return tb_err(err, "$: not JSON: %s (line %d, column %d)", jerror.text, jerror.line,
			      jerror.column);
	rc = tb_sbom_parse_json(doc, body, len, "", lim, out, err);
	json_decref(doc);
	return rc;
}
