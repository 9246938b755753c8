/*
 * auth.c — bearer tokens (auth.h): parse the tokens file into (hash,
 * tenant, scopes) entries; check an Authorization header against them.
 *
 * A lookup hashes the presented token once and compares it with every
 * entry using sodium_memcmp (constant time), always walking the whole list,
 * so the time taken does not depend on which entry matched or on how much
 * of a guess was right.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 256
#define HASH_LEN crypto_generichash_BYTES /* 32 */
#define MAX_FILE_BYTES (4 * 1024 * 1024)

typedef struct entry {
	uint8_t hash[HASH_LEN];
	tb_principal_t who;
} entry_t;

struct tb_auth {
	int required;
	tb_principal_t anon; /* !required: the --tenant with every scope */
	entry_t *entries;
	size_t n;
};

const char *tb_scope_name(unsigned scope)
{
	switch (scope) {
	case TB_SCOPE_RUNTIME_READ:
		return "runtime:read";
	case TB_SCOPE_RUNTIME_WRITE:
		return "runtime:write";
	case TB_SCOPE_FINDINGS_WRITE:
		return "findings:write";
	default:
		return "";
	}
}

int tb_tenant_check(const char *tenant)
{
	size_t n = strlen(tenant);

	if (n == 0 || n > TB_TENANT_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)tenant[i]) && !strchr("._-", tenant[i]))
			return -1;
	return 0;
}

static void hash_token(const char *tok, size_t n, uint8_t out[HASH_LEN])
{
	crypto_generichash(out, HASH_LEN, (const unsigned char *)tok, n, NULL, 0);
}

tb_auth_t *tb_auth_open(const char *tenant, tb_err_t *err)
{
	tb_auth_t *a;

	if (!tenant || tb_tenant_check(tenant) < 0) {
		tb_err(err, "tenant '%s' is not 1..%d of [A-Za-z0-9._-]", tenant ? tenant : "",
		       TB_TENANT_MAX);
		return NULL;
	}
	if (sodium_init() < 0) {
		tb_err(err, "libsodium cannot be initialised");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		tb_err(err, "out of memory");
		return NULL;
	}
	snprintf(a->anon.tenant, sizeof(a->anon.tenant), "%s", tenant);
	a->anon.scopes = TB_SCOPE_ALL;
	return a;
}

static int parse_scopes(const char *s, unsigned *out, char *why, size_t why_len)
{
	char buf[256];
	char *save = NULL, *tok;

	*out = 0;
	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, why_len, "scope list too long");
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "*") == 0)
			*out |= TB_SCOPE_ALL;
		else if (strcmp(tok, "runtime:read") == 0)
			*out |= TB_SCOPE_RUNTIME_READ;
		else if (strcmp(tok, "runtime:write") == 0)
			*out |= TB_SCOPE_RUNTIME_WRITE;
		else if (strcmp(tok, "findings:write") == 0)
			*out |= TB_SCOPE_FINDINGS_WRITE;
		else {
			snprintf(why, why_len,
				 "unknown scope '%.64s' (runtime:read, runtime:write, findings:write, *)",
				 tok);
			return -1;
		}
	}
	if (!*out) {
		snprintf(why, why_len, "no scope");
		return -1;
	}
	return 0;
}

/* One non-comment line: "TOKEN TENANT SCOPES". */
static int parse_line(tb_auth_t *a, char *line, char *why, size_t why_len)
{
	char *save = NULL;
	char *tok = strtok_r(line, " \t", &save);
	char *tenant = strtok_r(NULL, " \t", &save);
	char *scopes = strtok_r(NULL, " \t", &save);
	entry_t *e;
	size_t n;

	if (!tok || !tenant || !scopes || strtok_r(NULL, " \t", &save)) {
		snprintf(why, why_len, "expected 'TOKEN TENANT SCOPE[,SCOPE...]'");
		return -1;
	}
	n = strlen(tok);
	if (n < TOKEN_MIN || n > TOKEN_MAX) {
		snprintf(why, why_len, "token must be %d..%d characters, has %zu", TOKEN_MIN, TOKEN_MAX, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)tok[i])) {
			snprintf(why, why_len, "token has a non-visible character at offset %zu", i);
			return -1;
		}
	if (tb_tenant_check(tenant) < 0) {
		snprintf(why, why_len, "tenant '%.64s' is not 1..%d of [A-Za-z0-9._-]", tenant,
			 TB_TENANT_MAX);
		return -1;
	}
	e = &a->entries[a->n];
	memset(e, 0, sizeof(*e));
	if (parse_scopes(scopes, &e->who.scopes, why, why_len) < 0)
		return -1;
	hash_token(tok, n, e->hash);
	sodium_memzero(tok, n);
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->entries[i].hash, e->hash, HASH_LEN) == 0) {
			snprintf(why, why_len, "token already given on an earlier line");
			return -1;
		}
	snprintf(e->who.tenant, sizeof(e->who.tenant), "%s", tenant);
	a->n++;
	return 0;
}

tb_auth_t *tb_auth_parse(const char *text, size_t len, const char *name, tb_err_t *err)
{
	tb_auth_t *a = NULL;
	char *copy = NULL, *line;
	size_t lines = 1, lineno = 0;
	char why[256];

	if (sodium_init() < 0) {
		tb_err(err, "libsodium cannot be initialised");
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	a = calloc(1, sizeof(*a));
	copy = malloc(len + 1);
	if (!a || !copy || !(a->entries = calloc(lines, sizeof(entry_t)))) {
		tb_err(err, "%s: out of memory", name);
		goto fail;
	}
	a->required = 1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (memchr(copy, '\0', len)) {
		tb_err(err, "%s: contains a NUL byte", name);
		goto fail;
	}
	for (char *p = copy, *next; p; p = next) {
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line = p + strspn(p, " \t");
		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (parse_line(a, line, why, sizeof(why)) < 0) {
			tb_err(err, "%s line %zu: %s", name, lineno, why);
			goto fail;
		}
	}
	if (a->n == 0) {
		tb_err(err, "%s: no tokens (a tokens file must hold at least one 'TOKEN TENANT SCOPES' line)",
		       name);
		goto fail;
	}
	sodium_memzero(copy, len);
	free(copy);
	return a;
fail:
	if (copy)
		sodium_memzero(copy, len);
	free(copy);
	tb_auth_free(a);
	return NULL;
}

tb_auth_t *tb_auth_load(const char *path, tb_err_t *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	tb_auth_t *a = NULL;

	if (!f) {
		tb_err(err, "tokens file %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_FILE_BYTES + 1);
	if (!buf) {
		tb_err(err, "tokens file %s: out of memory", path);
		goto out;
	}
	n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		tb_err(err, "tokens file %s: read error", path);
		goto out;
	}
	if (n > MAX_FILE_BYTES) {
		tb_err(err, "tokens file %s: larger than %d bytes", path, MAX_FILE_BYTES);
		goto out;
	}
	a = tb_auth_parse(buf, n, path, err);
out:
	if (buf)
		sodium_memzero(buf, n);
	free(buf);
	fclose(f);
	return a;
}

void tb_auth_free(tb_auth_t *a)
{
	if (!a)
		return;
	if (a->entries)
		sodium_memzero(a->entries, a->n * sizeof(entry_t));
	free(a->entries);
	free(a);
}

int tb_auth_required(const tb_auth_t *a)
{
	return a->required;
}

size_t tb_auth_count(const tb_auth_t *a)
{
	return a->n;
}

tb_auth_result_t tb_auth_check(const tb_auth_t *a, const char *authorization, unsigned need,
			       tb_principal_t *who)
{
	uint8_t h[HASH_LEN];
	const entry_t *match = NULL;
	const char *tok;
	size_t n;

	if (!a->required) {
		*who = a->anon;
		return TB_AUTH_OK;
	}
	if (need == 0) {
		memset(who, 0, sizeof(*who));
		return TB_AUTH_OK;
	}
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return TB_AUTH_MISSING;
	tok = authorization + 7;
	tok += strspn(tok, " ");
	n = strlen(tok);
	while (n > 0 && tok[n - 1] == ' ')
		n--;
	if (n < TOKEN_MIN || n > TOKEN_MAX)
		return TB_AUTH_INVALID;
	hash_token(tok, n, h);
	for (size_t i = 0; i < a->n; i++)
		if (sodium_memcmp(a->entries[i].hash, h, HASH_LEN) == 0)
			match = &a->entries[i];
	if (!match)
		return TB_AUTH_INVALID;
	*who = match->who;
	return (match->who.scopes & need) == need ? TB_AUTH_OK : TB_AUTH_FORBIDDEN;
}
