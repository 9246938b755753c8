/*
 * requests.c — request bodies of the timeline-api's ingest routes into
 * records (see requests.h for the formats and the event-id rules).
 *
 * Every body is decoded once with jansson (duplicate keys rejected: a body
 * that says two things is not guessed at), then walked with a JSON path so
 * each error names its field, e.g.
 * "events[2].user_stack[0].file_offset: expected non-negative integer".
 * The SBOM inside an artifact request is handed to sbom.c together with its
 * exact bytes, found by scanning the raw body for the top-level "sbom" member
 * (jansson keeps no source positions).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/hash.h"
#include "tb/map.h"
#include "requests.h"

void tb_req_limits_default(tb_req_limits_t *lim)
{
	tb_sbom_limits_default(&lim->sbom);
	lim->max_events = TB_REQ_DEFAULT_MAX_EVENTS;
	lim->max_symbols = TB_REQ_DEFAULT_MAX_SYMBOLS;
}

static const tb_req_limits_t *limits_or_default(const tb_req_limits_t *lim, tb_req_limits_t *def)
{
	if (lim)
		return lim;
	tb_req_limits_default(def);
	return def;
}

/* ------------------------------------------------------------------------
 * Field helpers
 * ------------------------------------------------------------------------ */

static json_t *load(const char *body, size_t len, tb_err_t *err)
{
	json_error_t je;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);

	if (!doc)
		tb_err(err, "$: not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	return doc;
}

/* Optional (or required) string member copied into *out. */
static int str_dup(const json_t *obj, const char *key, int required, tb_jpath_t *p, char **out, tb_err_t *err)
{
	const char *v;

	if (tb_json_str(obj, key, required, p, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	*out = strdup(v);
	return *out ? 0 : tb_jerr(err, p, key, "out of memory");
}

static int build_id_dup(const json_t *obj, const char *key, tb_jpath_t *p, char **out, tb_err_t *err)
{
	const char *v;
	char why[160];

	if (tb_json_str(obj, key, 0, p, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	*out = tb_build_id_normalize(v, why, sizeof(why));
	return *out ? 0 : tb_jerr(err, p, key, "%s", why);
}

static int purl_dup(const json_t *obj, const char *key, int required, tb_jpath_t *p, char **out,
		    tb_err_t *err)
{
	const char *v;
	char why[256];

	if (tb_json_str(obj, key, required, p, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	if (tb_purl_check(v, why, sizeof(why)) < 0)
		return tb_jerr(err, p, key, "invalid purl \"%.200s\": %s", v, why);
	*out = strdup(v);
	return *out ? 0 : tb_jerr(err, p, key, "out of memory");
}

static int digest_dup(const json_t *obj, const char *key, int required, tb_jpath_t *p, char **out,
		      tb_err_t *err)
{
	const char *v;
	char why[160];

	if (tb_json_str(obj, key, required, p, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	if (tb_digest_check(v, why, sizeof(why)) < 0)
		return tb_jerr(err, p, key, "%s", why);
	*out = strdup(v);
	return *out ? 0 : tb_jerr(err, p, key, "out of memory");
}

/* "123", "0x7f" (when hex_ok) into v; 0 or -1. */
static int parse_u64_text(const char *s, int hex_ok, uint64_t *v)
{
	int base = 10;
	char *end;

	if (hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s || !(base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno || *end ? -1 : 0;
}

/* Non-negative integer member: a JSON integer or a decimal (or, with hex_ok,
 * "0x") string. *present says whether it was there. */
static int u64_member(const json_t *obj, const char *key, int hex_ok, tb_jpath_t *p, int *present,
		      uint64_t *out, tb_err_t *err)
{
	const json_t *v = json_object_get(obj, key);

	*present = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*out = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) || parse_u64_text(json_string_value(v), hex_ok, out) < 0)
		return tb_jerr(err, p, key, "expected non-negative integer");
	*present = 1;
	return 0;
}

static int u32_member(const json_t *obj, const char *key, tb_jpath_t *p, uint32_t *out, tb_err_t *err)
{
	uint64_t v = 0;
	int present;

	if (u64_member(obj, key, 0, p, &present, &v, err) < 0)
		return -1;
	if (present && v > UINT32_MAX)
		return tb_jerr(err, p, key, "expected integer 0..4294967295");
	if (present)
		*out = (uint32_t)v;
	return 0;
}

/* A positive count (default 1). */
static int count_member(const json_t *obj, const char *key, tb_jpath_t *p, int64_t *out, tb_err_t *err)
{
	uint64_t v = 1;
	int present;

	*out = 1;
	if (u64_member(obj, key, 0, p, &present, &v, err) < 0)
		return -1;
	if (present && (v < 1 || v > INT64_MAX))
		return tb_jerr(err, p, key, "expected integer >= 1");
	*out = (int64_t)v;
	return 0;
}

/* 32 hex digits into 16 bytes. */
static int parse_event_id(const char *s, uint8_t out[TB_EVENT_ID_LEN])
{
	if (strlen(s) != 2 * TB_EVENT_ID_LEN)
		return -1;
	for (int i = 0; i < TB_EVENT_ID_LEN; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

static int event_id_member(const json_t *obj, const char *key, tb_jpath_t *p, int *present,
			   uint8_t out[TB_EVENT_ID_LEN], tb_err_t *err)
{
	const char *v;

	*present = 0;
	if (tb_json_str(obj, key, 0, p, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	if (parse_event_id(v, out) < 0)
		return tb_jerr(err, p, key, "expected 32 hex digits");
	*present = 1;
	return 0;
}

/* Derived event id: domain, then the given strings, then the object's
 * canonical JSON (sorted keys, compact). */
static int derive_event_id(const char *domain, const char *a, const char *b, const json_t *obj,
			   uint8_t out[TB_EVENT_ID_LEN])
{
	char *canon = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
	tb_hasher_t h;

	if (!canon)
		return -1;
	tb_hasher_init(&h, domain);
	tb_hasher_str(&h, a);
	if (b)
		tb_hasher_str(&h, b);
	tb_hasher_str(&h, canon);
	tb_hasher_final128(&h, out);
	free(canon);
	return 0;
}

/* ------------------------------------------------------------------------
 * RFC 3339
 * ------------------------------------------------------------------------ */

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * civil-from-days inverse). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* "+hh:mm" / "-hh:mm" / "Z" at s; seconds east of UTC into *off. */
static int parse_offset(const char *s, int64_t *off)
{
	int hh, mm;

	if ((s[0] == 'Z' || s[0] == 'z') && !s[1]) {
		*off = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || digits(s + 1, 2, &hh) < 0 || s[3] != ':' ||
	    digits(s + 4, 2, &mm) < 0 || s[6] || hh > 23 || mm > 59)
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
	return 0;
}

int tb_req_parse_rfc3339(const char *s, int64_t *ns)
{
	int y, mo, d, h, mi, sec;
	int64_t frac = 0, off, secs;
	int nd = 0;
	const char *p;

	if (strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 ||
	    s[7] != '-' || digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) < 0 || s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nd++)
			if (nd < 9)
				frac = frac * 10 + (*p - '0');
		if (nd == 0)
			return -1;
		for (int i = nd; i < 9; i++)
			frac *= 10;
	}
	if (parse_offset(p, &off) < 0)
		return -1;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
		return -1;
	*ns = secs * 1000000000 + frac;
	return 0;
}

/* ------------------------------------------------------------------------
 * Findings
 * ------------------------------------------------------------------------ */

int tb_req_check_finding_id(const char *id, char *why, size_t why_len)
{
	size_t n = strlen(id);

	if (n == 0 || n > 256) {
		snprintf(why, why_len, "must be 1..256 characters, got %zu", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if (!isalnum(c) && !strchr("._:@+~-", c)) {
			snprintf(why, why_len,
				 "character 0x%02x at offset %zu is not allowed (use [A-Za-z0-9._:@+~-])", c,
				 i);
			return -1;
		}
	}
	return 0;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

static int check_vuln_id(const char *v, char *why, size_t why_len)
{
	static const char ghsa_set[] = "23456789cfghjmpqrvwx";
	size_t n = strlen(v), pre;

	if (strncmp(v, "CVE-", 4) == 0) {
		if (n < 13 || !all_digits(v + 4, 4) || v[8] != '-' || !all_digits(v + 9, n - 9)) {
			snprintf(why, why_len, "\"%.100s\" is not a CVE id (CVE-YYYY-NNNN)", v);
			return -1;
		}
		return 0;
	}
	if (strncmp(v, "GHSA-", 5) == 0) {
		int ok = n == 19;

		for (size_t i = 5; ok && i < n; i++)
			ok = (i == 9 || i == 14) ? v[i] == '-' : strchr(ghsa_set, v[i]) != NULL && v[i];
		if (!ok) {
			snprintf(why, why_len, "\"%.100s\" is not a GHSA id (GHSA-xxxx-xxxx-xxxx)", v);
			return -1;
		}
		return 0;
	}
	pre = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	if (pre < 2 || pre > 16 || !isupper((unsigned char)v[0]) || v[pre] != '-' || n == pre + 1 ||
	    n > 128 ||
	    strspn(v + pre + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") !=
		n - pre - 1) {
		snprintf(why, why_len,
			 "\"%.100s\" is not a vulnerability id (CVE-..., GHSA-..., or PREFIX-id)", v);
		return -1;
	}
	return 0;
}

static int finding_id_member(const json_t *doc, tb_jpath_t *p, char **out, tb_err_t *err)
{
	const char *id, *fid, *use;
	char why[160];

	if (tb_json_str(doc, "id", 0, p, &id, err) < 0 || tb_json_str(doc, "finding_id", 0, p, &fid, err) < 0)
		return -1;
	if (id && fid && strcmp(id, fid) != 0)
		return tb_jerr(err, p, "finding_id", "differs from \"id\"");
	use = id ? id : fid;
	if (!use)
		return tb_jerr(err, p, "id", "missing required field (or \"finding_id\")");
	if (tb_req_check_finding_id(use, why, sizeof(why)) < 0)
		return tb_jerr(err, p, id ? "id" : "finding_id", "%s", why);
	*out = strdup(use);
	return *out ? 0 : tb_jerr(err, p, "id", "out of memory");
}

static int symbols_member(const json_t *doc, size_t max, tb_jpath_t *p, tb_finding_t *f, tb_err_t *err)
{
	const json_t *arr;
	tb_map_t *seen;
	size_t old;
	int rc = -1;

	if (tb_json_arr(doc, "symbols", p, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	if (json_array_size(arr) > max)
		return tb_jerr(err, p, "symbols", "more than %zu symbols (limit)", max);
	if (!(f->symbols = calloc(json_array_size(arr) + 1, sizeof(char *))) || !(seen = tb_map_new(16)))
		return tb_jerr(err, p, "symbols", "out of memory");
	old = tb_jpath_key(p, "symbols");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *s = json_array_get(arr, i);
		size_t o2 = tb_jpath_index(p, i);

		if (!json_is_string(s) || json_string_length(s) == 0 ||
		    json_string_length(s) > TB_SBOM_MAX_STRING) {
			tb_jerr(err, p, NULL, "expected non-empty string of at most %d bytes",
				TB_SBOM_MAX_STRING);
			goto out;
		}
		if (!tb_map_get(seen, json_string_value(s))) {
			tb_map_put(seen, json_string_value(s), (void *)1);
			if (!(f->symbols[f->n_symbols] = strdup(json_string_value(s)))) {
				tb_jerr(err, p, NULL, "out of memory");
				goto out;
			}
			f->n_symbols++;
		}
		tb_jpath_pop(p, o2);
	}
	rc = 0;
out:
	tb_jpath_pop(p, old);
	tb_map_free(seen, NULL);
	return rc;
}

int tb_req_parse_finding(const char *body, size_t len, const tb_req_limits_t *lim, tb_finding_t *out,
			 tb_err_t *err)
{
	tb_req_limits_t def;
	json_t *doc = load(body, len, err);
	const char *vuln;
	char why[256];
	tb_jpath_t p;
	int rc = -1;

	lim = limits_or_default(lim, &def);
	tb_jpath_init(&p, "");
	if (!doc)
		return -1;
	if (!json_is_object(doc)) {
		tb_jerr(err, &p, NULL, "expected object");
		goto out;
	}
	if (finding_id_member(doc, &p, &out->finding_id, err) < 0 ||
	    tb_json_str(doc, "vuln_id", 1, &p, &vuln, err) < 0)
		goto out;
	if (check_vuln_id(vuln, why, sizeof(why)) < 0) {
		tb_jerr(err, &p, "vuln_id", "%s", why);
		goto out;
	}
	if (!(out->vuln_id = strdup(vuln))) {
		tb_jerr(err, &p, "vuln_id", "out of memory");
		goto out;
	}
	if (purl_dup(doc, "purl", 1, &p, &out->purl, err) < 0 ||
	    digest_dup(doc, "artifact_digest", 0, &p, &out->artifact_digest, err) < 0 ||
	    symbols_member(doc, lim->max_symbols, &p, out, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	if (rc < 0) {
		tb_finding_clear(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Our trace JSON
 * ------------------------------------------------------------------------ */

static const char *const trace_kinds[] = {"sample",    "uprobe",     "uretprobe", "kprobe",
					  "kretprobe", "tracepoint", "lsm",	  "usdt",
					  "exec",      "exit",	     "load"};

static int kind_member(const json_t *obj, const char *key, int required, const char *dflt, tb_jpath_t *p,
		       char **out, tb_err_t *err)
{
	const char *v;

	if (tb_json_str(obj, key, required, p, &v, err) < 0)
		return -1;
	if (!v)
		v = dflt;
	for (size_t i = 0; i < sizeof(trace_kinds) / sizeof(trace_kinds[0]); i++) {
		if (strcmp(v, trace_kinds[i]) == 0) {
			*out = strdup(v);
			return *out ? 0 : tb_jerr(err, p, key, "out of memory");
		}
	}
	return tb_jerr(
	    err, p, key,
	    "unknown kind \"%.64s\" (expected sample, uprobe, uretprobe, kprobe, kretprobe, tracepoint, "
	    "lsm, usdt, exec, exit or load)",
	    v);
}

/* "time" (RFC 3339) or "ts_ns", exactly one. */
static int time_members(const json_t *ev, tb_jpath_t *p, int64_t *ts_ns, tb_err_t *err)
{
	const char *t;
	uint64_t v;
	int has_ns;

	if (tb_json_str(ev, "time", 0, p, &t, err) < 0 || u64_member(ev, "ts_ns", 0, p, &has_ns, &v, err) < 0)
		return -1;
	if (t && has_ns)
		return tb_jerr(err, p, "ts_ns", "give either \"time\" or \"ts_ns\", not both");
	if (!t && !has_ns)
		return tb_jerr(err, p, "time", "missing required field (or \"ts_ns\")");
	if (t && tb_req_parse_rfc3339(t, ts_ns) < 0)
		return tb_jerr(err, p, "time",
			       "expected RFC 3339 date-time (e.g. 2025-01-21T07:30:00.123Z), got \"%.64s\"",
			       t);
	if (has_ns && v > INT64_MAX)
		return tb_jerr(err, p, "ts_ns", "expected integer below 2^63");
	if (has_ns)
		*ts_ns = (int64_t)v;
	return 0;
}

static int process_member(const json_t *ev, tb_jpath_t *p, tb_process_t *pr, tb_err_t *err)
{
	const json_t *o;
	uint64_t uid;
	size_t old;
	int has_uid, rc;

	pr->uid = -1;
	if (tb_json_obj(ev, "process", p, &o, err) < 0)
		return -1;
	if (!o)
		return 0;
	old = tb_jpath_key(p, "process");
	rc = u32_member(o, "pid", p, &pr->pid, err) < 0 || u32_member(o, "tid", p, &pr->tid, err) < 0 ||
		     u64_member(o, "uid", 0, p, &has_uid, &uid, err) < 0 ||
		     str_dup(o, "binary", 0, p, &pr->binary, err) < 0 ||
		     build_id_dup(o, "build_id", p, &pr->binary_build_id, err) < 0 ||
		     str_dup(o, "exec_id", 0, p, &pr->exec_id, err) < 0 ||
		     str_dup(o, "parent_exec_id", 0, p, &pr->parent_exec_id, err) < 0 ||
		     str_dup(o, "comm", 0, p, &pr->comm, err) < 0 ||
		     str_dup(o, "args", 0, p, &pr->args, err) < 0 ||
		     str_dup(o, "cwd", 0, p, &pr->cwd, err) < 0
		 ? -1
		 : 0;
	if (rc == 0 && has_uid && uid > UINT32_MAX)
		rc = tb_jerr(err, p, "uid", "expected integer 0..4294967295");
	if (rc == 0 && has_uid)
		pr->uid = (int64_t)uid;
	tb_jpath_pop(p, old);
	return rc;
}

static int container_member(const json_t *ev, tb_jpath_t *p, tb_container_t *c, tb_err_t *err)
{
	const json_t *o;
	size_t old;
	int rc;

	if (tb_json_obj(ev, "container", p, &o, err) < 0)
		return -1;
	if (!o)
		return 0;
	old = tb_jpath_key(p, "container");
	rc = str_dup(o, "id", 0, p, &c->id, err) < 0 || str_dup(o, "name", 0, p, &c->name, err) < 0 ||
		     str_dup(o, "image", 0, p, &c->image, err) < 0 ||
		     digest_dup(o, "image_digest", 0, p, &c->image_digest, err) < 0 ||
		     str_dup(o, "pod", 0, p, &c->pod, err) < 0 ||
		     str_dup(o, "namespace", 0, p, &c->namespace_, err) < 0 ||
		     str_dup(o, "workload", 0, p, &c->workload, err) < 0 ||
		     str_dup(o, "workload_kind", 0, p, &c->workload_kind, err) < 0
		 ? -1
		 : 0;
	tb_jpath_pop(p, old);
	return rc;
}

/* Names of a frame's members: ours (snake_case) or StellaOps' (camelCase). */
typedef struct frame_keys {
	const char *module, *build_id, *offset, *symbol, *address;
	int kernel;	 /* kernel frames: symbol required, offset is into the symbol */
	int need_symbol; /* StellaOps frames */
} frame_keys_t;

static const frame_keys_t user_keys = {"module", "build_id", "file_offset", "symbol", "address", 0, 0};
static const frame_keys_t kernel_keys = {"module", NULL, "offset", "symbol", "address", 1, 1};
static const frame_keys_t stella_keys = {"module", "buildId", "fileOffset", "symbol", NULL, 0, 1};

static int frame_parse(const json_t *o, const frame_keys_t *k, tb_jpath_t *p, tb_raw_frame_t *f,
		       tb_err_t *err)
{
	int has_off;

	if (!json_is_object(o))
		return tb_jerr(err, p, NULL, "expected object, got %s",
			       json_is_array(o) ? "array" : "a scalar");
	if (str_dup(o, k->symbol, k->need_symbol, p, &f->symbol, err) < 0 ||
	    str_dup(o, k->module, 0, p, &f->module, err) < 0 ||
	    (k->build_id && build_id_dup(o, k->build_id, p, &f->build_id, err) < 0) ||
	    u64_member(o, k->offset, 1, p, &has_off, &f->offset, err) < 0 ||
	    (k->address && u64_member(o, k->address, 1, p, &f->has_address, &f->address, err) < 0))
		return -1;
	if (!f->module && !f->build_id && !f->symbol)
		return tb_jerr(err, p, NULL, "frame needs \"%s\", \"%s\" or \"%s\"", k->module,
			       k->build_id ? k->build_id : "symbol", k->symbol);
	return 0;
}

static int stack_member(const json_t *obj, const char *key, const frame_keys_t *k, size_t min, tb_jpath_t *p,
			tb_raw_frame_t **frames, size_t *n, tb_err_t *err)
{
	const json_t *arr;
	size_t old;
	int rc = -1;

	if (tb_json_arr(obj, key, p, &arr, err) < 0)
		return -1;
	if (!arr || json_array_size(arr) < min)
		return min ? tb_jerr(err, p, key,
				     arr ? "expected at least %zu frame" : "missing required field", min)
			   : 0;
	if (json_array_size(arr) > TB_MAX_FRAMES)
		return tb_jerr(err, p, key, "more than %d frames (limit)", TB_MAX_FRAMES);
	if (json_array_size(arr) == 0)
		return 0;
	if (!(*frames = calloc(json_array_size(arr), sizeof(tb_raw_frame_t))))
		return tb_jerr(err, p, key, "out of memory");
	old = tb_jpath_key(p, key);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		size_t o2 = tb_jpath_index(p, i);

		(*n)++; /* counted first so that a half-filled frame is freed too */
		if (frame_parse(json_array_get(arr, i), k, p, &(*frames)[i], err) < 0)
			goto out;
		tb_jpath_pop(p, o2);
	}
	rc = 0;
out:
	tb_jpath_pop(p, old);
	return rc;
}

static int set_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : -1;
}

static int event_parse(const json_t *o, const char *tenant, tb_jpath_t *p, tb_runtime_event_t *ev,
		       tb_err_t *err)
{
	int has_id;

	if (!json_is_object(o))
		return tb_jerr(err, p, NULL, "expected event object");
	if (set_str(&ev->source, "api") < 0 || set_str(&ev->tenant, tenant ? tenant : "") < 0)
		return tb_jerr(err, p, NULL, "out of memory");
	if (event_id_member(o, "event_id", p, &has_id, ev->event_id, err) < 0 ||
	    str_dup(o, "node", 1, p, &ev->node, err) < 0 || time_members(o, p, &ev->ts_ns, err) < 0 ||
	    kind_member(o, "kind", 1, NULL, p, &ev->kind, err) < 0 ||
	    process_member(o, p, &ev->process, err) < 0 || container_member(o, p, &ev->container, err) < 0 ||
	    count_member(o, "count", p, &ev->count, err) < 0 ||
	    str_dup(o, "hook", 0, p, &ev->hook, err) < 0 ||
	    str_dup(o, "policy", 0, p, &ev->policy, err) < 0 ||
	    str_dup(o, "path", 0, p, &ev->path, err) < 0 ||
	    build_id_dup(o, "build_id", p, &ev->build_id, err) < 0 ||
	    stack_member(o, "kernel_stack", &kernel_keys, 0, p, &ev->kernel_frames, &ev->n_kernel_frames,
			 err) < 0 ||
	    stack_member(o, "user_stack", &user_keys, 0, p, &ev->user_frames, &ev->n_user_frames, err) < 0)
		return -1;
	if (!has_id && derive_event_id("api.event.v1", ev->tenant, NULL, o, ev->event_id) < 0)
		return tb_jerr(err, p, NULL, "out of memory");
	return 0;
}

void tb_event_list_clear(tb_event_list_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		tb_runtime_event_clear(&l->events[i]);
	free(l->events);
	l->events = NULL;
	l->n = 0;
}

int tb_req_is_trace_json(const char *body, size_t len)
{
	json_t *doc = json_loadb(body, len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL);
	int ours;

	if (!doc)
		return 0;
	ours = json_is_array(doc) ||
	       (json_is_object(doc) && (json_object_get(doc, "events") || json_object_get(doc, "kind")));
	json_decref(doc);
	return ours;
}

/* The events array of a batch, or NULL for a single event. */
static int batch_array(const json_t *doc, tb_jpath_t *p, const json_t **arr, tb_err_t *err)
{
	*arr = NULL;
	if (json_is_array(doc)) {
		tb_jpath_init(p, "$");
		*arr = doc;
		return 0;
	}
	if (!json_is_object(doc))
		return tb_jerr(err, p, NULL,
			       "expected an event object, {\"events\": [...]} or an array of events");
	if (!json_object_get(doc, "events"))
		return 0;
	if (tb_json_arr(doc, "events", p, arr, err) < 0)
		return -1;
	if (!*arr)
		return tb_jerr(err, p, "events", "expected array, got null");
	tb_jpath_key(p, "events");
	return 0;
}

int tb_req_parse_traces(const char *body, size_t len, const char *tenant, const tb_req_limits_t *lim,
			tb_event_list_t *out, tb_err_t *err)
{
	tb_req_limits_t def;
	json_t *doc = load(body, len, err);
	const json_t *arr;
	size_t n;
	tb_jpath_t p;
	int rc = -1;

	lim = limits_or_default(lim, &def);
	tb_jpath_init(&p, "");
	if (!doc)
		return -1;
	if (batch_array(doc, &p, &arr, err) < 0)
		goto out;
	n = arr ? json_array_size(arr) : 1;
	if (n == 0 || n > lim->max_events) {
		tb_jerr(err, &p, NULL, n ? "more than %zu events (limit)" : "expected at least one event",
			lim->max_events);
		goto out;
	}
	if (!(out->events = calloc(n, sizeof(*out->events)))) {
		tb_jerr(err, &p, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t old = arr ? tb_jpath_index(&p, i) : p.len;

		out->n++;
		if (event_parse(arr ? json_array_get(arr, i) : doc, tenant, &p, &out->events[i], err) < 0)
			goto out;
		tb_jpath_pop(&p, old);
	}
	rc = 0;
out:
	json_decref(doc);
	if (rc < 0)
		tb_event_list_clear(out);
	return rc;
}

/* ------------------------------------------------------------------------
 * StellaOps finding-scoped trace
 * ------------------------------------------------------------------------ */

void tb_finding_trace_clear(tb_finding_trace_t *t)
{
	free(t->finding_id);
	free(t->artifact_digest);
	free(t->component_purl);
	tb_runtime_event_clear(&t->event);
	memset(t, 0, sizeof(*t));
}

static int observed_at(const json_t *o, tb_jpath_t *p, int64_t now_ns, int64_t *ts, tb_err_t *err)
{
	const char *t;

	*ts = now_ns;
	if (tb_json_str(o, "observedAt", 0, p, &t, err) < 0)
		return -1;
	if (t && tb_req_parse_rfc3339(t, ts) < 0)
		return tb_jerr(err, p, "observedAt", "expected RFC 3339 date-time, got \"%.64s\"", t);
	return 0;
}

static int finding_trace_event(const json_t *o, const char *finding_id, const char *tenant, int64_t now_ns,
			       tb_jpath_t *p, tb_finding_trace_t *t, tb_err_t *err)
{
	tb_runtime_event_t *ev = &t->event;
	const char *leaf;
	int has_id;

	ev->process.uid = -1;
	if (set_str(&ev->source, "api") < 0 || set_str(&ev->tenant, tenant ? tenant : "") < 0 ||
	    !(ev->container.image_digest = strdup(t->artifact_digest)))
		return tb_jerr(err, p, NULL, "out of memory");
	if (event_id_member(o, "eventId", p, &has_id, ev->event_id, err) < 0 ||
	    stack_member(o, "frames", &stella_keys, 1, p, &ev->user_frames, &ev->n_user_frames, err) < 0 ||
	    count_member(o, "hits", p, &ev->count, err) < 0 ||
	    observed_at(o, p, now_ns, &ev->ts_ns, err) < 0 ||
	    kind_member(o, "kind", 0, "uprobe", p, &ev->kind, err) < 0 ||
	    str_dup(o, "node", 0, p, &ev->node, err) < 0 ||
	    str_dup(o, "containerId", 0, p, &ev->container.id, err) < 0 ||
	    str_dup(o, "pod", 0, p, &ev->container.pod, err) < 0 ||
	    str_dup(o, "namespace", 0, p, &ev->container.namespace_, err) < 0 ||
	    str_dup(o, "workload", 0, p, &ev->container.workload, err) < 0 ||
	    u32_member(o, "pid", p, &ev->process.pid, err) < 0 ||
	    str_dup(o, "binary", 0, p, &ev->process.binary, err) < 0)
		return -1;
	/* frames[] is non-empty and each has a symbol (checked above). */
	leaf = ev->n_user_frames ? ev->user_frames[0].symbol : NULL;
	if (!leaf || !(ev->hook = strdup(leaf)))
		return tb_jerr(err, p, NULL, "out of memory");
	if (!has_id && derive_event_id("api.finding-trace.v1", ev->tenant, finding_id, o, ev->event_id) < 0)
		return tb_jerr(err, p, NULL, "out of memory");
	return 0;
}

int tb_req_parse_finding_trace(const char *finding_id, const char *body, size_t len, const char *tenant,
			       int64_t now_ns, tb_finding_trace_t *out, tb_err_t *err)
{
	json_t *doc = NULL;
	char why[160];
	tb_jpath_t p;
	int rc = -1;

	tb_jpath_init(&p, "");
	if (!finding_id || tb_req_check_finding_id(finding_id, why, sizeof(why)) < 0)
		return tb_err(err, "finding id: %s", finding_id ? why : "missing");
	if (!(doc = load(body, len, err)))
		return -1;
	if (!json_is_object(doc)) {
		tb_jerr(err, &p, NULL, "expected object");
		goto out;
	}
	if (!(out->finding_id = strdup(finding_id)) ||
	    digest_dup(doc, "artifactDigest", 1, &p, &out->artifact_digest, err) < 0 ||
	    purl_dup(doc, "componentPurl", 1, &p, &out->component_purl, err) < 0 ||
	    finding_trace_event(doc, finding_id, tenant, now_ns, &p, out, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	if (rc < 0)
		tb_finding_trace_clear(out);
	return rc;
}

/* ------------------------------------------------------------------------
 * Artifacts
 * ------------------------------------------------------------------------ */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[i] == '"': index after the closing quote. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

/* Index after the JSON value starting at i (the body is known valid). */
static size_t skip_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	if (i < n && s[i] == '"')
		return skip_string(s, i, n);
	if (i < n && s[i] != '{' && s[i] != '[') {
		while (i < n && !strchr(",}] \t\r\n", s[i]))
			i++;
		return i;
	}
	while (i < n) {
		if (s[i] == '"') {
			i = skip_string(s, i, n);
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return n;
}

/* Does the raw key token s[a..b) (quotes included) decode to `key`? */
static int key_equals(const char *s, size_t a, size_t b, const char *key)
{
	json_t *k;
	int eq;

	if (!memchr(s + a, '\\', b - a))
		return b - a - 2 == strlen(key) && memcmp(s + a + 1, key, b - a - 2) == 0;
	k = json_loadb(s + a, b - a, JSON_DECODE_ANY, NULL);
	eq = json_is_string(k) && strcmp(json_string_value(k), key) == 0;
	json_decref(k);
	return eq;
}

/* Byte span of the value of top-level member `key` of the object in s. */
static int member_span(const char *s, size_t n, const char *key, size_t *start, size_t *end)
{
	size_t i = skip_ws(s, 0, n);

	if (i >= n || s[i] != '{')
		return -1;
	for (i = skip_ws(s, i + 1, n); i < n && s[i] == '"';) {
		size_t ka = i, kb = skip_string(s, i, n), v;

		i = skip_ws(s, kb, n);
		if (i >= n || s[i] != ':')
			return -1;
		v = skip_ws(s, i + 1, n);
		i = skip_value(s, v, n);
		if (key_equals(s, ka, kb, key)) {
			*start = v;
			*end = i;
			return 0;
		}
		i = skip_ws(s, i, n);
		if (i < n && s[i] == ',')
			i = skip_ws(s, i + 1, n);
	}
	return -1;
}

static int sbom_member(const char *body, size_t len, const json_t *doc, const tb_req_limits_t *lim,
		       tb_artifact_t *out, tb_err_t *err)
{
	const json_t *sbom = json_object_get(doc, "sbom");
	tb_jpath_t p;
	size_t a, b;
	json_t *inner;
	int rc;

	tb_jpath_init(&p, "");
	if (json_is_object(sbom)) {
		if (member_span(body, len, "sbom", &a, &b) < 0)
			return tb_jerr(err, &p, "sbom", "cannot locate the SBOM's bytes in the body");
		return tb_sbom_parse_json(sbom, body + a, b - a, "sbom", &lim->sbom, out, err);
	}
	if (!json_is_string(sbom))
		return tb_jerr(err, &p, "sbom", "expected SBOM object or string, got %s",
			       json_is_array(sbom) ? "array" : "scalar");
	inner = json_loadb(json_string_value(sbom), json_string_length(sbom), JSON_REJECT_DUPLICATES, NULL);
	if (!inner)
		return tb_jerr(err, &p, "sbom", "string is not a JSON document");
	rc = tb_sbom_parse_json(inner, json_string_value(sbom), json_string_length(sbom), "sbom", &lim->sbom,
				out, err);
	json_decref(inner);
	return rc;
}

typedef struct merge_ctx {
	tb_artifact_t *a;
	size_t cap;
	tb_map_t *by_path, *by_bid;
} merge_ctx_t;

static void index_binary(merge_ctx_t *m, size_t i)
{
	tb_binary_t *b = &m->a->binaries[i];

	if (b->path && !tb_map_get(m->by_path, b->path))
		tb_map_put(m->by_path, b->path, (void *)(uintptr_t)(i + 1));
	if (b->build_id && !tb_map_get(m->by_bid, b->build_id))
		tb_map_put(m->by_bid, b->build_id, (void *)(uintptr_t)(i + 1));
}

/* The binary the explicit entry describes: the same path, else the same
 * build-id when one of the two has no path; -1 for a new one. */
static long merge_find(merge_ctx_t *m, const tb_binary_t *e)
{
	void *v = e->path ? tb_map_get(m->by_path, e->path) : NULL;
	long i;

	if (v)
		return (long)(uintptr_t)v - 1;
	if (!e->build_id || !(v = tb_map_get(m->by_bid, e->build_id)))
		return -1;
	i = (long)(uintptr_t)v - 1;
	return !e->path || !m->a->binaries[i].path ? i : -1;
}

/* Fields the explicit entry gives replace the SBOM's; takes ownership of e. */
static int merge_binary(merge_ctx_t *m, tb_binary_t *e)
{
	long i = merge_find(m, e);
	tb_binary_t *b;

	if (i < 0) {
		if (m->a->n_binaries == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 16;
			tb_binary_t *n = realloc(m->a->binaries, cap * sizeof(*n));

			if (!n)
				return -1;
			m->a->binaries = n;
			m->cap = cap;
		}
		i = (long)m->a->n_binaries++;
		memset(&m->a->binaries[i], 0, sizeof(tb_binary_t));
	}
	b = &m->a->binaries[i];
	if (e->path) {
		free(b->path);
		b->path = e->path;
	}
	if (e->build_id) {
		free(b->build_id);
		b->build_id = e->build_id;
	}
	if (e->purl) {
		free(b->purl);
		b->purl = e->purl;
	}
	memset(e, 0, sizeof(*e));
	index_binary(m, (size_t)i);
	return 0;
}

static int explicit_binary(const json_t *o, tb_jpath_t *p, tb_binary_t *e, tb_err_t *err)
{
	if (!json_is_object(o))
		return tb_jerr(err, p, NULL, "expected object");
	if (str_dup(o, "path", 0, p, &e->path, err) < 0 ||
	    build_id_dup(o, "build_id", p, &e->build_id, err) < 0 ||
	    purl_dup(o, "purl", 0, p, &e->purl, err) < 0)
		return -1;
	if (e->path && e->path[0] != '/')
		return tb_jerr(err, p, "path", "must be an absolute path");
	if (!e->path && !e->build_id)
		return tb_jerr(err, p, NULL, "expected \"path\" or \"build_id\"");
	if (!e->build_id && !e->purl)
		return tb_jerr(err, p, NULL, "expected \"build_id\" or \"purl\" (a path alone says nothing)");
	return 0;
}

static int binaries_member(const json_t *doc, const tb_req_limits_t *lim, tb_artifact_t *a, tb_err_t *err)
{
	const json_t *arr;
	merge_ctx_t m = {.a = a, .cap = a->n_binaries};
	tb_jpath_t p;
	int rc = -1;

	tb_jpath_init(&p, "");
	if (tb_json_arr(doc, "binaries", &p, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	m.by_path = tb_map_new(64);
	m.by_bid = tb_map_new(64);
	for (size_t i = 0; m.by_path && m.by_bid && i < a->n_binaries; i++)
		index_binary(&m, i);
	tb_jpath_key(&p, "binaries");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		tb_binary_t e = {0};
		size_t old = tb_jpath_index(&p, i);
		int r = !m.by_path || !m.by_bid ? tb_jerr(err, &p, NULL, "out of memory")
						: explicit_binary(json_array_get(arr, i), &p, &e, err);

		if (r == 0 && merge_binary(&m, &e) < 0)
			r = tb_jerr(err, &p, NULL, "out of memory");
		free(e.path);
		free(e.build_id);
		free(e.purl);
		if (r == 0 && a->n_binaries > lim->sbom.max_binaries)
			r = tb_jerr(err, &p, NULL, "more than %zu binaries (limit)", lim->sbom.max_binaries);
		if (r < 0)
			goto out;
		tb_jpath_pop(&p, old);
	}
	rc = 0;
out:
	tb_map_free(m.by_path, NULL);
	tb_map_free(m.by_bid, NULL);
	return rc;
}

/* Replace *dst with a copy of member `key` when the body gives it. */
static int override_str(const json_t *doc, const char *key, char **dst, tb_err_t *err)
{
	tb_jpath_t p;
	char *v = NULL;

	tb_jpath_init(&p, "");
	if (str_dup(doc, key, 0, &p, &v, err) < 0)
		return -1;
	if (v) {
		free(*dst);
		*dst = v;
	}
	return 0;
}

static int artifact_request(const char *body, size_t len, const json_t *doc, const tb_req_limits_t *lim,
			    tb_artifact_t *out, tb_err_t *err)
{
	const json_t *sbom = json_object_get(doc, "sbom");
	tb_jpath_t p;
	char *digest = NULL;

	tb_jpath_init(&p, "");
	if (digest_dup(doc, "digest", 1, &p, &digest, err) < 0)
		return -1;
	if ((!sbom || json_is_null(sbom)) && !json_object_get(doc, "binaries")) {
		free(digest);
		return tb_jerr(err, &p, NULL, "expected \"sbom\" or \"binaries\"");
	}
	if (sbom && !json_is_null(sbom) && sbom_member(body, len, doc, lim, out, err) < 0) {
		free(digest);
		return -1;
	}
	free(out->digest);
	out->digest = digest;
	if (override_str(doc, "name", &out->name, err) < 0 ||
	    override_str(doc, "version", &out->version, err) < 0)
		return -1;
	return binaries_member(doc, lim, out, err);
}

int tb_req_parse_artifact(const char *body, size_t len, const tb_req_limits_t *lim, tb_artifact_t *out,
			  tb_err_t *err)
{
	tb_req_limits_t def;
	json_t *doc = load(body, len, err);
	tb_jpath_t p;
	int rc = -1;

	lim = limits_or_default(lim, &def);
	tb_jpath_init(&p, "");
	if (!doc)
		return -1;
	if (!json_is_object(doc)) {
		tb_jerr(err, &p, NULL, "expected object");
	} else if (tb_sbom_detect(doc)) {
		/* The body is the SBOM itself: it must name the artifact's digest. */
		rc = tb_sbom_parse_json(doc, body, len, "", &lim->sbom, out, err);
		if (rc == 0 && !out->digest)
			rc = tb_jerr(
			    err, &p, NULL,
			    "no artifact digest in the SBOM (send {\"digest\": ..., \"sbom\": ...} instead)");
	} else {
		rc = artifact_request(body, len, doc, lim, out, err);
	}
	json_decref(doc);
	if (rc < 0) {
		tb_artifact_clear(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}
