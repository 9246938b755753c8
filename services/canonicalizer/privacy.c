/*
 * privacy.c — the canonicalizer's privacy policy (see privacy.h for the
 * rules; this file is their implementation).
 *
 * Parsing starts from the strict policy and applies `key = value` lines.
 * Applying works field by field into fresh strings: path rewrites are a
 * single left-to-right pass over path parts; secret scrubbing is a fixed set
 * of POSIX extended regexes compiled once in tb_privacy_new (regexec is
 * thread-safe on a compiled pattern), each replacing one capture group with
 * "<redacted>". Counters are tb/metrics counters, one per rule.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy.h"
#include "tb/log.h"

#define REDACTED "<redacted>"
#define MAX_POLICY_BYTES (64 * 1024)

static const char *const rule_names[TB_PRIV_N_RULES] = {
    [TB_PRIV_ARGS] = "args",	   [TB_PRIV_ENV] = "env",
    [TB_PRIV_CWD] = "cwd",	   [TB_PRIV_ADDRESSES] = "addresses",
    [TB_PRIV_HOME] = "home",	   [TB_PRIV_SECRET] = "secret",
    [TB_PRIV_UID] = "uid",	   [TB_PRIV_NODE] = "node",
    [TB_PRIV_EXEC_ID] = "exec_id", [TB_PRIV_POD_METADATA] = "pod_metadata",
};

/* Secret patterns: (regex, flags, group replaced, literals). See privacy.h.
 * Every match of a pattern contains one of its literals (case as written):
 * a string holding none of them is not given to regexec (may_match). */
static const struct {
	const char *re;
	int icase;
	int group;
	const char *literals[8]; /* NULL-terminated */
} secret_patterns[] = {
    /* URL credentials */
    {"(://)([^/@[:space:]]+)(@)", 0, 2, {"://", NULL}},
    /* NAME=VALUE with a secret-looking NAME */
    {"(^|[^[:alnum:]])([[:alnum:]_.-]*"
     "(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth|credential|private[_-]?key|session)"
     "[[:alnum:]_.-]*=)([^/&;,[:space:]]+)",
     1,
     4,
     {"=", NULL}},
    /* well-known token shapes */
    {"(gh[pousr]_[[:alnum:]]{20,}"
     "|github_pat_[[:alnum:]_]{20,}"
     "|glpat-[[:alnum:]_-]{20,}"
     "|xox[abprs]-[[:alnum:]-]{10,}"
     "|AKIA[0-9A-Z]{16}"
     "|eyJ[[:alnum:]_-]{8,}\\.[[:alnum:]_-]{8,}\\.[[:alnum:]_-]*"
     "|[sr]k_live_[[:alnum:]]{16,})",
     0,
     1,
     {"gh", "github_pat_", "glpat-", "xox", "AKIA", "eyJ", "k_live_", NULL}},
};
#define N_SECRET_PATTERNS (sizeof(secret_patterns) / sizeof(secret_patterns[0]))

struct tb_privacy {
	tb_privacy_policy_t pol;
	regex_t secrets[N_SECRET_PATTERNS];
	size_t n_compiled;
	tb_metric_t *counters[TB_PRIV_N_RULES];
};

/* ---- small string builder ---------------------------------------------------- */

typedef struct sb {
	char *s;
	size_t len, cap;
	int oom;
} sb_t;

static void sb_addn(sb_t *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(sb_t *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* The built string (never NULL unless out of memory). */
static char *sb_take(sb_t *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

static void count(tb_privacy_t *p, tb_privacy_rule_t rule, uint64_t n)
{
	if (n && p->counters[rule])
		tb_metric_add(p->counters[rule], n);
}

const char *tb_privacy_rule_name(tb_privacy_rule_t rule)
{
	return rule < TB_PRIV_N_RULES ? rule_names[rule] : "?";
}

/* ---- policy ------------------------------------------------------------------ */

void tb_privacy_policy_strict(tb_privacy_policy_t *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->home_rewrite = 1;
	pol->scrub_secrets = 1;
	pol->hash_uid = 1;
	pol->hash_node = 1;
	pol->hash_exec_id = 1;
	pol->keep_pod_metadata = 1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int tb_privacy_key_load(const char *path, uint8_t key[TB_HASH_KEY_LEN], tb_err_t *err)
{
	unsigned char buf[2 * TB_HASH_KEY_LEN + 16];
	FILE *f = fopen(path, "rb");
	size_t n, len;

	if (!f)
		return tb_err(err, "hash key %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == TB_HASH_KEY_LEN) {
		memcpy(key, buf, TB_HASH_KEY_LEN);
		return 0;
	}
	for (len = n; len > 0 && isspace(buf[len - 1]); len--)
		;
	if (len != 2 * TB_HASH_KEY_LEN)
		return tb_err(err, "hash key %s: expected 32 raw bytes or 64 hex digits, got %zu bytes", path,
			      n);
	for (size_t i = 0; i < TB_HASH_KEY_LEN; i++) {
		int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return tb_err(err, "hash key %s: not hex at byte %zu", path, 2 * i);
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const char *const mandatory_keys[] = {"drop_args", "drop_env", "drop_cwd", "drop_addresses"};
static const char *const bool_keys[] = {"home_rewrite", "scrub_secrets", "hash_uid",
					"hash_node",	"hash_exec_id",	 "keep_pod_metadata"};
#define N_MANDATORY (sizeof(mandatory_keys) / sizeof(mandatory_keys[0]))
#define N_BOOL (sizeof(bool_keys) / sizeof(bool_keys[0]))

static int *bool_field(tb_privacy_policy_t *pol, size_t i)
{
	int *fields[N_BOOL] = {&pol->home_rewrite, &pol->scrub_secrets, &pol->hash_uid,
			       &pol->hash_node,	   &pol->hash_exec_id,	&pol->keep_pod_metadata};

	return fields[i];
}

/* Slot of a known key in the "seen" table, or -1. */
static int key_slot(const char *key)
{
	for (size_t i = 0; i < N_MANDATORY; i++)
		if (strcmp(key, mandatory_keys[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < N_BOOL; i++)
		if (strcmp(key, bool_keys[i]) == 0)
			return (int)(N_MANDATORY + i);
	if (strcmp(key, "hash_key_file") == 0)
		return (int)(N_MANDATORY + N_BOOL);
	return -1;
}

static int apply_key_file(const char *value, const char *base_dir, tb_privacy_policy_t *pol, tb_err_t *err)
{
	char path[4096];

	if (value[0] == '/' || !base_dir)
		snprintf(path, sizeof(path), "%s", value);
	else
		snprintf(path, sizeof(path), "%s/%s", base_dir, value);
	if (tb_privacy_key_load(path, pol->key, err) < 0)
		return -1;
	pol->has_key = 1;
	return 0;
}

static int apply_line(const char *key, const char *value, int slot, const char *base_dir,
		      tb_privacy_policy_t *pol, tb_err_t *err)
{
	int b;

	if (slot == (int)(N_MANDATORY + N_BOOL))
		return apply_key_file(value, base_dir, pol, err);
	if (parse_bool(value, &b) < 0)
		return tb_err(err, "%s: expected true or false, got '%s'", key, value);
	if (slot < (int)N_MANDATORY) {
		if (!b)
			return tb_err(err,
				      "%s = false is not supported: CanonicalEvent has no field for it, "
				      "the canonicalizer always drops it",
				      key);
		return 0;
	}
	*bool_field(pol, (size_t)slot - N_MANDATORY) = b;
	return 0;
}

static int check_key_present(const char *name, const tb_privacy_policy_t *pol, tb_err_t *err)
{
	if (pol->has_key || !(pol->hash_uid || pol->hash_node || pol->hash_exec_id))
		return 0;
	return tb_err(err,
		      "%s: hash_uid/hash_node/hash_exec_id are on but no hash_key_file is set "
		      "(name a 32-byte key file, or set them to false to drop those values)",
		      name);
}

int tb_privacy_policy_parse(const char *text, const char *name, const char *base_dir,
			    tb_privacy_policy_t *pol, tb_err_t *err)
{
	char seen[N_MANDATORY + N_BOOL + 1] = {0};
	char *copy = strdup(text), *line, *save = NULL;
	int lineno = 0, rc = -1;

	if (!copy)
		return tb_err(err, "%s: out of memory", name);
	tb_privacy_policy_strict(pol);
	/* strtok_r would skip empty lines and so miscount; walk lines by hand. */
	for (line = copy; line; line = save) {
		char *eq, *key, *value;
		int slot;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		line = trim(line);
		if (!line[0] || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			tb_err(err, "%s:%d: expected 'key = value', got '%s'", name, lineno, line);
			goto out;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		slot = key_slot(key);
		if (slot < 0) {
			tb_err(err, "%s:%d: unknown key '%s'", name, lineno, key);
			goto out;
		}
		if (seen[slot]++) {
			tb_err(err, "%s:%d: key '%s' given twice", name, lineno, key);
			goto out;
		}
		if (apply_line(key, value, slot, base_dir, pol, err) < 0) {
			tb_err_wrap(err, "%s:%d", name, lineno);
			goto out;
		}
	}
	rc = check_key_present(name, pol, err);
out:
	free(copy);
	return rc;
}

int tb_privacy_policy_load(const char *path, tb_privacy_policy_t *pol, tb_err_t *err)
{
	char *text = NULL, *dir = NULL, *slash;
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = -1;

	if (!f)
		return tb_err(err, "privacy policy %s: %s", path, strerror(errno));
	text = malloc(MAX_POLICY_BYTES + 1);
	dir = strdup(path);
	if (!text || !dir) {
		tb_err(err, "privacy policy %s: out of memory", path);
		goto out;
	}
	n = fread(text, 1, MAX_POLICY_BYTES + 1, f);
	if (n > MAX_POLICY_BYTES) {
		tb_err(err, "privacy policy %s: larger than %d bytes", path, MAX_POLICY_BYTES);
		goto out;
	}
	text[n] = '\0';
	if (strlen(text) != n) {
		tb_err(err, "privacy policy %s: contains a NUL byte", path);
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	rc = tb_privacy_policy_parse(text, path, slash ? (dir[0] ? dir : "/") : ".", pol, err);
out:
	fclose(f);
	free(text);
	free(dir);
	return rc;
}

/* ---- the policy object ---------------------------------------------------------- */

tb_privacy_t *tb_privacy_new(const tb_privacy_policy_t *pol, tb_metrics_t *metrics, tb_err_t *err)
{
	tb_privacy_t *p = calloc(1, sizeof(*p));
	char labels[64];

	if (!p) {
		tb_err(err, "privacy: out of memory");
		return NULL;
	}
	p->pol = *pol;
	for (size_t i = 0; i < N_SECRET_PATTERNS; i++) {
		int rc = regcomp(&p->secrets[i], secret_patterns[i].re,
				 REG_EXTENDED | (secret_patterns[i].icase ? REG_ICASE : 0));

		if (rc != 0) {
			char msg[128];

			regerror(rc, &p->secrets[i], msg, sizeof(msg));
			tb_err(err, "privacy: secret pattern %zu: %s", i, msg);
			tb_privacy_free(p);
			return NULL;
		}
		p->n_compiled++;
	}
	for (int r = 0; metrics && r < TB_PRIV_N_RULES; r++) {
		snprintf(labels, sizeof(labels), "rule=\"%s\"", rule_names[r]);
		p->counters[r] =
		    tb_metrics_counter(metrics, "privacy_redactions_total",
				       "Values removed or rewritten by the privacy policy, by rule", labels);
	}
	if (!pol->has_key && (pol->hash_uid || pol->hash_node || pol->hash_exec_id))
		tb_warn(
		    "privacy: no hash key configured: uid, node and exec_id are dropped instead of hashed");
	return p;
}

void tb_privacy_free(tb_privacy_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_compiled; i++)
		regfree(&p->secrets[i]);
	free(p);
}

/* ---- rewriting ------------------------------------------------------------------ */

/* Length of the path part starting at s. */
static size_t part_len(const char *s)
{
	return strcspn(s, "/");
}

/* If s starts with `prefix` (which ends in '/') followed by a non-empty part,
 * return the total length to replace (prefix + part), else 0. */
static size_t home_match(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix), ul;

	if (strncmp(s, prefix, pl) != 0)
		return 0;
	ul = part_len(s + pl);
	return ul ? pl + ul : 0;
}

/* Length of a home part starting at s + i (a path-part start), with its
 * replacement, or 0. */
static size_t home_at(const char *s, size_t i, const char **prefix)
{
	static const char *const prefixes[] = {"home/", "Users/", "run/user/"};
	size_t m;

	if (i == 1 && s[0] == '/' && strncmp(s + 1, "root", 4) == 0 && (s[5] == '/' || s[5] == '\0')) {
		*prefix = NULL;
		return 4;
	}
	for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		m = home_match(s + i, prefixes[k]);
		if (m) {
			*prefix = prefixes[k];
			return m;
		}
	}
	return 0;
}

static char *rewrite_home(tb_privacy_t *p, const char *s)
{
	sb_t b = {0};
	size_t i = 0, n = strlen(s), m;
	const char *prefix;
	int hits = 0;

	while (i < n) {
		if ((i == 0 || s[i - 1] == '/') && (m = home_at(s, i, &prefix)) > 0) {
			if (prefix) {
				sb_add(&b, prefix);
				sb_add(&b, REDACTED);
			} else {
				sb_add(&b, "<redacted-root>");
			}
			i += m;
			hits++;
			continue;
		}
		sb_addn(&b, s + i, 1);
		i++;
	}
	count(p, TB_PRIV_HOME, (uint64_t)hits);
	return sb_take(&b);
}

/* A cheap necessary condition for secret pattern k to match somewhere in s:
 * one of its literals is there. regexec costs ~1 µs per call even when
 * nothing matches, and the canonicalizer asks three patterns per module name
 * (16+ per event); most strings contain none of these literals. */
static int may_match(size_t k, const char *s)
{
	for (const char *const *l = secret_patterns[k].literals; *l; l++)
		if (strstr(s, *l))
			return 1;
	return 0;
}

static char *replace_pattern(tb_privacy_t *p, size_t k, const char *s)
{
	const regex_t *re = &p->secrets[k];
	int group = secret_patterns[k].group, eflags = 0, hits = 0;
	const char *cur = s;
	regmatch_t m[8];
	sb_t b = {0};

	while (*cur && regexec(re, cur, 8, m, eflags) == 0) {
		regmatch_t g = m[group];

		if (g.rm_so < 0 || g.rm_eo <= g.rm_so)
			break;
		sb_addn(&b, cur, (size_t)g.rm_so);
		sb_add(&b, REDACTED);
		cur += g.rm_eo;
		eflags = REG_NOTBOL;
		hits++;
	}
	sb_add(&b, cur);
	count(p, TB_PRIV_SECRET, (uint64_t)hits);
	return sb_take(&b);
}

char *tb_privacy_text(tb_privacy_t *p, const char *s)
{
	char *cur = strdup(s ? s : ""), *next;

	for (size_t k = 0; cur && p->pol.scrub_secrets && k < N_SECRET_PATTERNS; k++) {
		if (!may_match(k, cur))
			continue;
		next = replace_pattern(p, k, cur);
		free(cur);
		cur = next;
	}
	return cur;
}

char *tb_privacy_path(tb_privacy_t *p, const char *path)
{
	char *homed, *out;

	if (!path)
		return strdup("");
	homed = p->pol.home_rewrite ? rewrite_home(p, path) : strdup(path);
	if (!homed)
		return NULL;
	out = tb_privacy_text(p, homed);
	free(homed);
	return out;
}

int tb_privacy_symbol_is_address(tb_privacy_t *p, const char *symbol)
{
	size_t n, hex;
	int digit = 0;

	if (!symbol || !symbol[0])
		return 0;
	n = strlen(symbol);
	if ((symbol[0] == '0' && (symbol[1] == 'x' || symbol[1] == 'X')) && n > 2) {
		if (strspn(symbol + 2, "0123456789abcdefABCDEF") != n - 2)
			return 0;
	} else {
		hex = strspn(symbol, "0123456789abcdefABCDEF");
		for (size_t i = 0; i < n; i++)
			digit |= isdigit((unsigned char)symbol[i]) != 0;
		if (hex != n || n < 12 || !digit)
			return 0;
	}
	count(p, TB_PRIV_ADDRESSES, 1);
	return 1;
}

/* ---- applying to an event ------------------------------------------------------------ */

/* Keyed hash of prefix+value, or "" when dropped; counts either way. */
static char *hash_or_drop(tb_privacy_t *p, int hash, const char *prefix, const char *value,
			  tb_privacy_rule_t rule)
{
	char hex[33], *buf;
	size_t len;

	if (!value || !value[0])
		return strdup("");
	count(p, rule, 1);
	if (!hash || !p->pol.has_key)
		return strdup("");
	len = strlen(prefix) + strlen(value) + 1;
	buf = malloc(len);
	if (!buf)
		return NULL;
	snprintf(buf, len, "%s%s", prefix, value);
	tb_keyed_hash_hex(p->pol.key, buf, hex);
	free(buf);
	return strdup(hex);
}

/* Copy an optional string: NULL stays NULL (absent). Sets *oom on failure. */
static char *opt_dup(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

/* Copy or drop (NULL) one optional pod-metadata field. */
static char *pod_field(tb_privacy_t *p, const char *s, int *oom)
{
	if (p->pol.keep_pod_metadata || !s || !s[0])
		return opt_dup(s, oom);
	count(p, TB_PRIV_POD_METADATA, 1);
	return NULL;
}

static int apply_container(tb_privacy_t *p, const tb_container_t *in, tb_container_t *out)
{
	int oom = 0;

	out->id = opt_dup(in->id, &oom);
	out->image = opt_dup(in->image, &oom);
	out->image_digest = opt_dup(in->image_digest, &oom);
	out->cgroup_id = in->cgroup_id;
	out->name = pod_field(p, in->name, &oom);
	out->pod = pod_field(p, in->pod, &oom);
	out->namespace_ = pod_field(p, in->namespace_, &oom);
	out->workload = pod_field(p, in->workload, &oom);
	out->workload_kind = pod_field(p, in->workload_kind, &oom);
	return oom ? -1 : 0;
}

/* An optional path-like field: NULL stays NULL, else rewritten. */
static char *opt_path(tb_privacy_t *p, const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = tb_privacy_path(p, s);
	if (!d)
		*oom = 1;
	return d;
}

/* Count what never leaves: argv, env, cwd, raw addresses. */
static void count_dropped(tb_privacy_t *p, const tb_runtime_event_t *in)
{
	uint64_t addrs = 0;

	count(p, TB_PRIV_ARGS, in->process.args && in->process.args[0] ? 1 : 0);
	count(p, TB_PRIV_ENV, in->process.n_env);
	count(p, TB_PRIV_CWD, in->process.cwd && in->process.cwd[0] ? 1 : 0);
	for (size_t i = 0; i < in->n_kernel_frames; i++)
		addrs += in->kernel_frames[i].has_address ? 1 : 0;
	for (size_t i = 0; i < in->n_user_frames; i++)
		addrs += in->user_frames[i].has_address ? 1 : 0;
	count(p, TB_PRIV_ADDRESSES, addrs);
}

int tb_privacy_apply(tb_privacy_t *p, const tb_runtime_event_t *in, tb_event_t *out, tb_err_t *err)
{
	char uid[32];
	int oom = 0;

	uid[0] = '\0';
	if (in->process.uid >= 0)
		snprintf(uid, sizeof(uid), "%lld", (long long)in->process.uid);
	out->node = hash_or_drop(p, p->pol.hash_node, "node:", in->node, TB_PRIV_NODE);
	out->uid_hash = hash_or_drop(p, p->pol.hash_uid, "uid:", uid, TB_PRIV_UID);
	out->exec_id = hash_or_drop(p, p->pol.hash_exec_id, "exec_id:", in->process.exec_id, TB_PRIV_EXEC_ID);
	out->binary = tb_privacy_path(p, in->process.binary);
	out->path = opt_path(p, in->path, &oom);
	out->hook = opt_path(p, in->hook, &oom);
	if (oom || !out->node || !out->uid_hash || !out->exec_id || !out->binary ||
	    apply_container(p, &in->container, &out->container) < 0)
		return tb_err(err, "privacy: out of memory");
	count_dropped(p, in);
	return 0;
}
