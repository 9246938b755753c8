/*
 * tb_config.c — option table + config file + environment + command line
 * (see tb/config.h for the rules every service follows).
 *
 * How it works: the standard options and the service's table are copied into
 * one entry array, each starting at its (validated) default. The command line
 * is parsed once into a list of assignments, so that --help/--version win
 * over everything and --config is known before the file is read. Then the
 * sources are applied from lowest to highest precedence — file, environment,
 * command line — each value parsed for its type as it is applied, so an error
 * names the option and the exact place the bad value came from. librdkafka
 * properties are collected on the side and checked by librdkafka itself on a
 * scratch rd_kafka_conf_t.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "tb/config.h"
#include "tb/tool.h"

#define ORIGIN_MAX 256

typedef struct entry {
	char *name;
	char *def;
	char *help;
	char *choices;
	tb_opt_type_t type;
	char *value; /* effective text, NULL = unset */
	tb_config_source_t source;
	int64_t num; /* parsed int / bool / duration */
} entry_t;

struct tb_config {
	char prog[64];
	char *version;
	entry_t *e;
	size_t n;
	char **props; /* key, value, key, value, ... */
	size_t n_pairs;
	size_t props_cap;	/* in pairs */
	rd_kafka_conf_t *kconf; /* scratch conf to validate properties; load time only */
};

typedef enum arg_kind {
	ARG_OPT,
	ARG_KAFKA,
} arg_kind_t;

/* One command-line assignment, parsed but not yet applied. */
typedef struct arg {
	arg_kind_t kind;
	size_t idx;	   /* ARG_OPT: entry index */
	const char *value; /* ARG_OPT: value text; ARG_KAFKA: "key=value" */
} arg_t;

static const tb_option_t std_opts[] = {
    {"config", TB_OPT_PATH, NULL, "config file of 'name = value' lines (# comments)", NULL},
    {"log-level", TB_OPT_STRING, "info", "minimum level of the JSON log lines on stderr",
     "debug|info|warn|error"},
    {"admin-addr", TB_OPT_STRING, "127.0.0.1:0",
     "HOST:PORT of the admin server (/healthz, /readyz, /metrics); port 0 = any free port", NULL},
    {"admin-port-file", TB_OPT_PATH, NULL, "write the admin server's bound port to this file", NULL},
    {"brokers", TB_OPT_STRING, "localhost:9092", "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]", NULL},
    {"tenant", TB_OPT_STRING, "default", "tenant for records that carry none", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

static const char *type_word[] = {"STRING", "INT", "BOOL", "DURATION", "PATH"};

/* ---- small helpers ------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		abort();
	return p;
}

static entry_t *find_entry_n(const tb_config_t *cfg, const char *name, size_t len)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strlen(cfg->e[i].name) == len && strncmp(cfg->e[i].name, name, len) == 0)
			return &cfg->e[i];
	return NULL;
}

static entry_t *find_entry(const tb_config_t *cfg, const char *name)
{
	return find_entry_n(cfg, name, strlen(name));
}

/* "batch-size" -> "TB_BATCH_SIZE" */
static void env_name(const char *name, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "TB_%s", name);

	for (size_t i = 3; i < n && i < cap; i++)
		out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[65], cur[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(size_t) * (lb + 1));
	}
	return prev[lb];
}

/* " (did you mean '--brokers'?)" for a near miss, "" otherwise. */
static void suggest(const tb_config_t *cfg, const char *name, const char *dashes, char *out, size_t cap)
{
	size_t best = (size_t)-1, limit = strlen(name) / 3 + 1;
	const char *pick = NULL;

	out[0] = '\0';
	for (size_t i = 0; i < cfg->n; i++) {
		size_t d = edit_distance(name, cfg->e[i].name);

		if (d < best) {
			best = d;
			pick = cfg->e[i].name;
		}
	}
	if (pick && best <= limit)
		snprintf(out, cap, " (did you mean '%s%s'?)", dashes, pick);
}

static int parse_bool(const char *s, int64_t *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* 0 ok, -1 not a number, -2 out of range; `rest` gets the unit suffix. */
static int parse_int64(const char *s, int64_t *out, const char **rest)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]) && !((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	*out = v;
	if (rest)
		*rest = end;
	else if (*end)
		return -1;
	return 0;
}

static int parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *rest = NULL;
	int64_t v;
	int rc;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	rc = parse_int64(s, &v, &rest);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].unit) != 0)
			continue;
		if (v > INT64_MAX / units[i].ms)
			return -2;
		*out = v * units[i].ms;
		return 0;
	}
	return -1;
}

static int in_choices(const char *choices, const char *s)
{
	size_t len = strlen(s);
	const char *p = choices;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == len && strncmp(p, s, n) == 0)
			return 1;
		if (!bar)
			break;
		p = bar + 1;
	}
	return 0;
}

/* ---- values ------------------------------------------------------------- */

/* Parse `text` for entry e; on failure say why in `why`. */
static int check_value(const entry_t *e, const char *text, int64_t *num, char *why, size_t cap)
{
	int rc = 0;

	*num = 0;
	switch (e->type) {
	case TB_OPT_INT:
		rc = parse_int64(text, num, NULL);
		if (rc == -1)
			snprintf(why, cap, "'%s' is not an integer", text);
		else if (rc == -2)
			snprintf(why, cap, "'%s' is out of range for a 64-bit integer", text);
		break;
	case TB_OPT_BOOL:
		rc = parse_bool(text, num);
		if (rc)
			snprintf(why, cap, "'%s' is not a boolean (use true/false, yes/no, on/off or 1/0)",
				 text);
		break;
	case TB_OPT_DURATION_MS:
		rc = parse_duration(text, num);
		if (rc == -1)
			snprintf(why, cap,
				 "'%s' is not a duration (use a whole number with ms, s, m or h, e.g. 250ms "
				 "or 5s; "
				 "a bare number is milliseconds)",
				 text);
		else if (rc == -2)
			snprintf(why, cap, "'%s' is out of range for a duration", text);
		break;
	case TB_OPT_PATH:
		if (!text[0]) {
			snprintf(why, cap, "the path is empty");
			rc = -1;
		}
		break;
	case TB_OPT_STRING:
		break;
	}
	if (rc == 0 && e->choices && !in_choices(e->choices, text)) {
		snprintf(why, cap, "'%s' is not one of %s", text, e->choices);
		rc = -1;
	}
	return rc ? -1 : 0;
}

static int set_value(entry_t *e, const char *text, tb_config_source_t src, const char *origin, tb_err_t *err)
{
	char why[512];
	int64_t num;
	char *copy;

	if (check_value(e, text, &num, why, sizeof(why)) < 0)
		return tb_err(err, "option '%s' (%s): %s", e->name, origin, why);
	copy = dup_or_null(text);
	free(e->value);
	e->value = copy;
	e->num = num;
	e->source = src;
	return 0;
}

/* ---- librdkafka properties ---------------------------------------------- */

static int set_prop(tb_config_t *cfg, const char *key, const char *value, const char *origin, tb_err_t *err)
{
	char errstr[512];

	if (!key[0])
		return tb_err(
		    err, "librdkafka property (%s): the property name is empty (expected KEY=VALUE)", origin);
	if (!cfg->kconf)
		cfg->kconf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(cfg->kconf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return tb_err(err, "librdkafka property '%s' (%s): %s (see -X list)", key, origin, errstr);
	for (size_t i = 0; i < cfg->n_pairs; i++) {
		if (strcmp(cfg->props[2 * i], key) == 0) {
			char *v = dup_or_null(value);

			free(cfg->props[2 * i + 1]);
			cfg->props[2 * i + 1] = v;
			return 0;
		}
	}
	if (cfg->n_pairs == cfg->props_cap) {
		size_t cap = cfg->props_cap ? cfg->props_cap * 2 : 8;
		char **p = realloc(cfg->props, sizeof(char *) * 2 * cap);

		if (!p)
			abort();
		cfg->props = p;
		cfg->props_cap = cap;
	}
	cfg->props[2 * cfg->n_pairs] = dup_or_null(key);
	cfg->props[2 * cfg->n_pairs + 1] = dup_or_null(value);
	cfg->n_pairs++;
	return 0;
}

/* "key=value" from -X */
static int set_prop_kv(tb_config_t *cfg, const char *kv, const char *origin, tb_err_t *err)
{
	const char *eq = strchr(kv, '=');
	char key[256];

	if (!eq || eq == kv)
		return tb_err(
		    err, "option -X '%s': expected KEY=VALUE, e.g. -X socket.timeout.ms=1000 (see -X list)",
		    kv);
	if ((size_t)(eq - kv) >= sizeof(key))
		return tb_err(err, "option -X '%.40s...': the property name is too long", kv);
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	return set_prop(cfg, key, eq + 1, origin, err);
}

/* ---- the option table --------------------------------------------------- */

static int valid_name(const char *name)
{
	if (!name[0] || !islower((unsigned char)name[0]))
		return 0;
	for (const char *p = name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return 0;
	return strcmp(name, "help") != 0 && strcmp(name, "version") != 0 && strlen(name) <= 64;
}

static int add_entry(tb_config_t *cfg, const tb_option_t *o, tb_err_t *err)
{
	entry_t *e = find_entry(cfg, o->name);
	char why[512];

	if (!valid_name(o->name))
		return tb_err(err,
			      "option table: invalid option name '%s' (lowercase letters, digits and '-'; "
			      "not help/version)",
			      o->name);
	if (e && e->type != o->type)
		return tb_err(err, "option table: standard option '%s' redeclared with another type",
			      o->name);
	if (!e) {
		e = &cfg->e[cfg->n++];
	} else {
		free(e->name);
		free(e->def);
		free(e->help);
		free(e->choices);
		free(e->value);
	}
	e->name = dup_or_null(o->name);
	e->def = dup_or_null(o->def);
	e->help = dup_or_null(o->help ? o->help : "");
	e->choices = dup_or_null(o->choices);
	e->type = o->type;
	e->value = NULL;
	e->num = 0;
	e->source = TB_SRC_DEFAULT;
	if (!o->def)
		return 0;
	if (check_value(e, o->def, &e->num, why, sizeof(why)) < 0)
		return tb_err(err, "option table: default of option '%s': %s", o->name, why);
	e->value = dup_or_null(o->def);
	return 0;
}

static int build_entries(tb_config_t *cfg, const tb_option_t *opts, tb_err_t *err)
{
	size_t n = 0, n_std = sizeof(std_opts) / sizeof(std_opts[0]) - 1;

	for (const tb_option_t *o = opts; o && o->name; o++)
		n++;
	cfg->e = calloc(n + n_std, sizeof(entry_t));
	if (!cfg->e)
		abort();
	for (size_t i = 0; i < n_std; i++)
		if (add_entry(cfg, &std_opts[i], err) < 0)
			return -1;
	for (size_t i = 0; i < n; i++) {
		/* Two entries of the service's own table with one name are a bug;
		 * a service entry replacing a standard one is allowed. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(opts[i].name, opts[j].name) == 0)
				return tb_err(err, "option table: option '%s' is declared twice",
					      opts[i].name);
		if (add_entry(cfg, &opts[i], err) < 0)
			return -1;
	}
	return 0;
}

/* ---- command line ------------------------------------------------------- */

typedef struct argv_scan {
	int help, version, xlist;
} argv_scan_t;

/* First look only for the arguments that end the program early, so that
 * "--help" works even next to a mistake. */
static void prescan(int argc, char **argv, argv_scan_t *s)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			s->help = 1;
		else if (strcmp(a, "--version") == 0)
			s->version = 1;
		else if (strcmp(a, "-Xlist") == 0 ||
			 (strcmp(a, "-X") == 0 && i + 1 < argc && strcmp(argv[i + 1], "list") == 0))
			s->xlist = 1;
	}
}

static int parse_long(tb_config_t *cfg, int argc, char **argv, int *i, arg_t *out, tb_err_t *err)
{
	const char *a = argv[*i] + 2, *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	entry_t *e = find_entry_n(cfg, a, len);
	char hint[160], name[128];

	out->kind = ARG_OPT;
	if (!e && !eq && strncmp(a, "no-", 3) == 0) {
		entry_t *neg = find_entry(cfg, a + 3);

		if (neg && neg->type == TB_OPT_BOOL) {
			out->idx = (size_t)(neg - cfg->e);
			out->value = "false";
			return 0;
		}
	}
	if (!e) {
		snprintf(name, sizeof(name), "%.*s", (int)len, a);
		suggest(cfg, name, "--", hint, sizeof(hint));
		return tb_err(err, "unknown option '--%s'%s; see '%s --help'", name, hint, cfg->prog);
	}
	out->idx = (size_t)(e - cfg->e);
	if (eq) {
		out->value = eq + 1;
		return 0;
	}
	if (e->type == TB_OPT_BOOL) {
		int64_t b;

		out->value = "true";
		if (*i + 1 < argc && parse_bool(argv[*i + 1], &b) == 0)
			out->value = argv[++*i];
		return 0;
	}
	if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0)
		return tb_err(err, "option '--%s' needs a value (--%s=VALUE or --%s VALUE)", e->name, e->name,
			      e->name);
	out->value = argv[++*i];
	return 0;
}

static int parse_argv(tb_config_t *cfg, int argc, char **argv, arg_t *args, size_t *n_args, tb_err_t *err)
{
	*n_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		arg_t *out = &args[*n_args];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--version") == 0)
			continue;
		if (strcmp(a, "-X") == 0) {
			if (i + 1 >= argc)
				return tb_err(
				    err,
				    "option -X needs a value (-X KEY=VALUE, e.g. -X socket.timeout.ms=1000)");
			out->kind = ARG_KAFKA;
			out->value = argv[++i];
		} else if (strncmp(a, "-X", 2) == 0) {
			out->kind = ARG_KAFKA;
			out->value = a + 2;
		} else if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				return tb_err(
				    err, "unexpected argument '%s': %s takes only options; see '%s --help'",
				    argv[i + 1], cfg->prog, cfg->prog);
			continue;
		} else if (strncmp(a, "--", 2) == 0) {
			if (parse_long(cfg, argc, argv, &i, out, err) < 0)
				return -1;
		} else if (a[0] == '-' && a[1]) {
			return tb_err(err, "unknown option '%s'; see '%s --help'", a, cfg->prog);
		} else {
			return tb_err(err, "unexpected argument '%s': %s takes only options; see '%s --help'",
				      a, cfg->prog, cfg->prog);
		}
		(*n_args)++;
	}
	return 0;
}

static int apply_argv(tb_config_t *cfg, const arg_t *args, size_t n_args, tb_err_t *err)
{
	char origin[ORIGIN_MAX];

	for (size_t i = 0; i < n_args; i++) {
		if (args[i].kind == ARG_KAFKA) {
			if (set_prop_kv(cfg, args[i].value, "command line -X", err) < 0)
				return -1;
			continue;
		}
		snprintf(origin, sizeof(origin), "command line --%s", cfg->e[args[i].idx].name);
		if (set_value(&cfg->e[args[i].idx], args[i].value, TB_SRC_ARGV, origin, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- environment -------------------------------------------------------- */

static int apply_env(tb_config_t *cfg, char **envp, tb_err_t *err)
{
	char origin[ORIGIN_MAX], want[96], key[256];

	for (char **p = envp; p && *p; p++) {
		const char *eq = strchr(*p, '='), *value;
		size_t klen;
		int matched = 0, r;

		if (!eq || strncmp(*p, "TB_", 3) != 0)
			continue;
		klen = (size_t)(eq - *p);
		value = eq + 1;
		if (!value[0])
			continue; /* empty = unset */
		snprintf(origin, sizeof(origin), "environment %.*s", (int)klen, *p);
		for (size_t i = 0; i < cfg->n && !matched; i++) {
			env_name(cfg->e[i].name, want, sizeof(want));
			if (strlen(want) != klen || strncmp(want, *p, klen) != 0)
				continue;
			matched = 1;
			if (set_value(&cfg->e[i], value, TB_SRC_ENV, origin, err) < 0)
				return -1;
		}
		if (matched || !(r = tb_tool_env_prop(*p, klen, key, sizeof(key))))
			continue;
		if (r < 0)
			return tb_err(err, "%s: the variable name is too long", origin);
		if (set_prop(cfg, key, value, origin, err) < 0)
			return -1;
	}
	return 0;
}

static const char *env_get(char **envp, const char *name)
{
	size_t len = strlen(name);

	for (char **p = envp; p && *p; p++)
		if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

/* ---- config file -------------------------------------------------------- */

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Unquote or strip a trailing " # comment" from the value, in place. */
static int clean_value(char *v, char **out)
{
	if (v[0] == '"') {
		char *close = strchr(v + 1, '"'), *rest;

		if (!close)
			return -1;
		*close = '\0';
		rest = trim(close + 1);
		if (rest[0] && rest[0] != '#')
			return -1;
		*out = v + 1;
		return 0;
	}
	for (char *p = v; *p; p++) {
		if (*p == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	*out = trim(v);
	return 0;
}

static int apply_file_line(tb_config_t *cfg, char *line, const char *origin, tb_err_t *err)
{
	char *s = trim(line), *eq, *key, *value, hint[160];
	entry_t *e;

	if (!s[0] || s[0] == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return tb_err(err, "%s: expected 'name = value', got '%s'", origin, s);
	*eq = '\0';
	key = trim(s);
	if (!key[0])
		return tb_err(err, "%s: the name before '=' is empty", origin);
	if (clean_value(trim(eq + 1), &value) < 0)
		return tb_err(err, "%s: value of '%s': unterminated or misplaced double quote", origin, key);
	if (strncmp(key, "kafka.", 6) == 0)
		return set_prop(cfg, key + 6, value, origin, err);
	for (char *p = key; *p; p++)
		if (*p == '_')
			*p = '-';
	if (strcmp(key, "config") == 0)
		return tb_err(err, "%s: 'config' cannot be set inside a config file", origin);
	e = find_entry(cfg, key);
	if (!e) {
		suggest(cfg, key, "", hint, sizeof(hint));
		return tb_err(err, "%s: unknown key '%s'%s; see '%s --help' for the options", origin, key,
			      hint, cfg->prog);
	}
	return set_value(e, value, TB_SRC_FILE, origin, err);
}

static int apply_file(tb_config_t *cfg, const char *path, int must_exist, tb_err_t *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, origin[ORIGIN_MAX];
	size_t cap = 0;
	int lineno = 0, rc = 0;

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return tb_err(err, "config file '%s': cannot open: %s (fix --config or TB_CONFIG)", path,
			      strerror(errno));
	}
	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		snprintf(origin, sizeof(origin), "config file %s:%d", path, ++lineno);
		rc = apply_file_line(cfg, line, origin, err);
		if (rc < 0)
			goto cleanup;
		errno = 0;
	}
	if (ferror(f))
		rc = tb_err(err, "config file '%s': cannot read: %s (fix --config or TB_CONFIG)", path,
			    strerror(errno ? errno : EIO));
cleanup:
	free(line);
	fclose(f);
	return rc;
}

/* The config file comes from the command line, else TB_CONFIG, else the
 * (redeclared) default, which may be absent. */
static int load_config_file(tb_config_t *cfg, const arg_t *args, size_t n_args, char **envp, tb_err_t *err)
{
	entry_t *e = find_entry(cfg, "config");
	const char *path = NULL, *origin = NULL, *v;
	char why[512];
	int64_t num;

	for (size_t i = 0; i < n_args; i++) {
		if (args[i].kind == ARG_OPT && &cfg->e[args[i].idx] == e) {
			path = args[i].value;
			origin = "command line --config";
		}
	}
	if (!path && (v = env_get(envp, "TB_CONFIG")) && v[0]) {
		path = v;
		origin = "environment TB_CONFIG";
	}
	if (!path)
		return e->value ? apply_file(cfg, e->value, 0, err) : 0;
	if (check_value(e, path, &num, why, sizeof(why)) < 0)
		return tb_err(err, "option 'config' (%s): %s", origin, why);
	return apply_file(cfg, path, 1, err);
}

/* ---- help --------------------------------------------------------------- */

static void usage_line(FILE *f, const char *left, const char *help, const char *detail)
{
	if (strlen(left) < 30)
		fprintf(f, "  %-30s %s\n", left, help);
	else
		fprintf(f, "  %s\n  %-30s %s\n", left, "", help);
	if (detail)
		fprintf(f, "  %-30s %s\n", "", detail);
}

void tb_config_usage(const tb_config_t *cfg, FILE *f)
{
	char left[160], env[96], detail[320];

	fprintf(f, "Usage: %s [OPTIONS]\n\n", cfg->prog);
	fprintf(f, "Options (command line > environment > config file > default):\n");
	for (size_t i = 0; i < cfg->n; i++) {
		const entry_t *e = &cfg->e[i];

		if (e->type == TB_OPT_BOOL)
			snprintf(left, sizeof(left), "--[no-]%s[=BOOL]", e->name);
		else
			snprintf(left, sizeof(left), "--%s=%s", e->name,
				 e->choices ? e->choices : type_word[e->type]);
		env_name(e->name, env, sizeof(env));
		if (e->def)
			snprintf(detail, sizeof(detail), "env %s, default %s%s%s", env, e->def[0] ? "" : "\"",
				 e->def, e->def[0] ? "" : "\"");
		else
			snprintf(detail, sizeof(detail), "env %s, no default", env);
		usage_line(f, left, e->help, detail);
	}
	usage_line(f, "-X KEY=VALUE", "librdkafka property, repeatable; -X list shows them all",
		   "env TB_KAFKA_<PROP>, e.g. TB_KAFKA_SOCKET_TIMEOUT_MS for socket.timeout.ms");
	fprintf(f, "  %-30s %s\n", "", "config file: kafka.<prop> = value");
	usage_line(f, "-h, --help", "print this help and exit", NULL);
	usage_line(f, "--version", "print the version and exit", NULL);
	fprintf(
	    f, "\nConfig file: 'name = value' lines, # comments. Booleans: true/false, yes/no, on/off, 1/0.\n"
	       "Durations: 250ms, 5s, 2m, 1h (a bare number is milliseconds).\n"
	       "Exit codes: 0 ok, 1 runtime failure, 2 configuration error, 3 dependency unreachable at "
	       "start.\n");
}

/* ---- load / free / get -------------------------------------------------- */

void tb_config_free(tb_config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->e[i].name);
		free(cfg->e[i].def);
		free(cfg->e[i].help);
		free(cfg->e[i].choices);
		free(cfg->e[i].value);
	}
	for (size_t i = 0; i < 2 * cfg->n_pairs; i++)
		free(cfg->props[i]);
	if (cfg->kconf)
		rd_kafka_conf_destroy(cfg->kconf);
	free(cfg->props);
	free(cfg->e);
	free(cfg->version);
	free(cfg);
}

static tb_config_t *config_new(const char *prog, const char *version)
{
	tb_config_t *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		abort();
	if (!prog)
		prog = "tracebridge";
	snprintf(cfg->prog, sizeof(cfg->prog), "%s%s", strncmp(prog, "tb-", 3) == 0 ? "" : "tb-", prog);
	cfg->version = dup_or_null(version ? version : "unknown");
	return cfg;
}

int tb_config_load_envp(tb_config_t **out, const char *prog, const char *version, const tb_option_t *opts,
			int argc, char **argv, char **envp, FILE *usage_out, tb_err_t *err)
{
	tb_config_t *cfg = config_new(prog, version);
	argv_scan_t scan = {0};
	arg_t *args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(arg_t));
	size_t n_args = 0;
	int rc = -1;

	*out = NULL;
	if (!args)
		abort();
	if (!usage_out)
		usage_out = stdout;
	if (!envp)
		envp = environ;
	if (build_entries(cfg, opts, err) < 0)
		goto cleanup;
	prescan(argc, argv, &scan);
	if (scan.help || scan.version || scan.xlist) {
		if (scan.help)
			tb_config_usage(cfg, usage_out);
		else if (scan.version)
			fprintf(usage_out, "%s %s\n", cfg->prog, cfg->version);
		else
			rd_kafka_conf_properties_show(usage_out);
		rc = 1;
		goto cleanup;
	}
	if (parse_argv(cfg, argc, argv, args, &n_args, err) < 0)
		goto cleanup;
	if (load_config_file(cfg, args, n_args, envp, err) < 0 || apply_env(cfg, envp, err) < 0 ||
	    apply_argv(cfg, args, n_args, err) < 0)
		goto cleanup;
	if (cfg->kconf)
		rd_kafka_conf_destroy(cfg->kconf);
	cfg->kconf = NULL;
	*out = cfg;
	cfg = NULL;
	rc = 0;
cleanup:
	free(args);
	tb_config_free(cfg);
	return rc;
}

int tb_config_load(tb_config_t **out, const char *prog, const char *version, const tb_option_t *opts,
		   int argc, char **argv, tb_err_t *err)
{
	return tb_config_load_envp(out, prog, version, opts, argc, argv, NULL, NULL, err);
}

static const entry_t *must_find(const tb_config_t *cfg, const char *name, int type, const char *getter)
{
	const entry_t *e = find_entry(cfg, name);

	if (!e) {
		fprintf(stderr, "%s: option '%s' is not declared in the option table\n", getter, name);
		abort();
	}
	if (type >= 0 && (int)e->type != type) {
		fprintf(stderr, "%s: option '%s' is a %s option\n", getter, name, type_word[e->type]);
		abort();
	}
	return e;
}

const char *tb_config_str(const tb_config_t *cfg, const char *name)
{
	return must_find(cfg, name, -1, "tb_config_str")->value;
}

int64_t tb_config_int(const tb_config_t *cfg, const char *name)
{
	return must_find(cfg, name, TB_OPT_INT, "tb_config_int")->num;
}

bool tb_config_bool(const tb_config_t *cfg, const char *name)
{
	return must_find(cfg, name, TB_OPT_BOOL, "tb_config_bool")->num != 0;
}

int64_t tb_config_duration_ms(const tb_config_t *cfg, const char *name)
{
	return must_find(cfg, name, TB_OPT_DURATION_MS, "tb_config_duration_ms")->num;
}

tb_config_source_t tb_config_source(const tb_config_t *cfg, const char *name)
{
	return must_find(cfg, name, -1, "tb_config_source")->source;
}

const char *tb_config_prog(const tb_config_t *cfg)
{
	return cfg->prog;
}

const char *const *tb_config_kafka_props(const tb_config_t *cfg, size_t *n_pairs)
{
	*n_pairs = cfg->n_pairs;
	return (const char *const *)cfg->props;
}
