/*
 * auth.h — bearer tokens of the timeline-api: who is calling (tenant) and
 * what they may do (scopes).
 *
 * --tokens-file FILE: one token per line,
 *
 *     # comment
 *     TOKEN  TENANT  SCOPE[,SCOPE...]
 *
 * separated by spaces or tabs. TOKEN is 16..256 visible ASCII characters;
 * TENANT 1..128 of [A-Za-z0-9._-]; scopes are runtime:read (the GET
 * queries), runtime:write (POST /runtime/traces) and findings:write (POST
 * /artifacts, POST /findings), or * for all three. A token may appear once.
 * Any mistake is a configuration error naming the line (the service exits 2)
 * rather than a token that silently never works.
 *
 * With a file, a request without "Authorization: Bearer TOKEN" or with an
 * unknown token is 401, a known token without the route's scope is 403.
 * Without a file, every request runs as the --tenant with every scope (a
 * single-tenant or development setup; documented in docs/API.md).
 *
 * Only BLAKE2b-256 hashes of the tokens are kept, and lookups compare hashes
 * in constant time, so neither a memory dump nor response timing gives a
 * token away.
 */
#ifndef TB_TIMELINE_AUTH_H
#define TB_TIMELINE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"

#define TB_SCOPE_RUNTIME_READ 0x1u
#define TB_SCOPE_RUNTIME_WRITE 0x2u
#define TB_SCOPE_FINDINGS_WRITE 0x4u
#define TB_SCOPE_ALL 0x7u
#define TB_TENANT_MAX 128

typedef struct tb_auth tb_auth_t;

/* Who a request runs as. */
typedef struct tb_principal {
	char tenant[TB_TENANT_MAX + 1];
	unsigned scopes;
} tb_principal_t;

typedef enum tb_auth_result {
	TB_AUTH_OK = 0,
	TB_AUTH_MISSING,   /* no (or a non-Bearer) Authorization header: 401 */
	TB_AUTH_INVALID,   /* unknown token: 401 */
	TB_AUTH_FORBIDDEN, /* known token, scope missing: 403 */
} tb_auth_result_t;

/* Tokens from text (the file's contents); `name` is used in messages. */
tb_auth_t *tb_auth_parse(const char *text, size_t len, const char *name, tb_err_t *err);
/* Read and parse a tokens file. */
tb_auth_t *tb_auth_load(const char *path, tb_err_t *err);
/* No tokens: every request is `tenant` with TB_SCOPE_ALL. */
tb_auth_t *tb_auth_open(const char *tenant, tb_err_t *err);
void tb_auth_free(tb_auth_t *a);

/* 1 when tokens are required. */
int tb_auth_required(const tb_auth_t *a);
size_t tb_auth_count(const tb_auth_t *a);

/* Decide a request: `authorization` is the header value (or NULL), `need`
 * the route's scope (0: none needed, e.g. /healthz). Fills *who on OK (and
 * on FORBIDDEN, for the message). Thread-safe (read-only). */
tb_auth_result_t tb_auth_check(const tb_auth_t *a, const char *authorization, unsigned need,
			       tb_principal_t *who);

/* "runtime:read" etc. for one bit; "" for anything else. */
const char *tb_scope_name(unsigned scope);

/* 0 when tenant is 1..TB_TENANT_MAX of [A-Za-z0-9._-]. */
int tb_tenant_check(const char *tenant);

#endif
