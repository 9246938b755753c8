/*
 * Unit tests for the timeline-api's bearer tokens (services/timeline-api/
 * auth.c): the tokens file format and its errors (naming the line), the
 * decision per request (401 missing / 401 unknown / 403 scope / ok), and
 * the single-tenant mode without a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../../services/timeline-api/auth.h"

#define TOK_RW "tok-acme-rw-0123456789"
#define TOK_RO "tok-acme-ro-0123456789"
#define TOK_ALL "tok-globex-all-01234567"

static const char tokens[] = "# comment line\n"
			     "\n" TOK_RW "  acme  runtime:read,runtime:write\r\n"
			     "   " TOK_RO "\tacme\truntime:read   \n" TOK_ALL " globex *\n"
			     "  # indented comment\n";

static tb_auth_t *load(const char *text)
{
	tb_err_t err;
	tb_auth_t *a = tb_auth_parse(text, strlen(text), "tokens", &err);

	if (!a)
		fail_msg("expected the tokens to load, got \"%s\"", err.msg);
	return a;
}

static void refused(const char *text, const char *exp)
{
	tb_err_t err;
	tb_auth_t *a = tb_auth_parse(text, strlen(text), "tokens", &err);

	if (a) {
		tb_auth_free(a);
		fail_msg("expected error \"%s\", got a loaded file", exp);
	}
	if (strcmp(err.msg, exp) != 0)
		fail_msg("expected error \"%s\", got \"%s\"", exp, err.msg);
}

static void file_with_comments_blank_lines_and_crlf_loads(void **state)
{
	tb_auth_t *a = load(tokens);

	(void)state;
	assert_int_equal(tb_auth_required(a), 1);
	assert_int_equal(tb_auth_count(a), 3);
	tb_auth_free(a);
}

static void file_errors_name_the_line(void **state)
{
	(void)state;
	refused("# only comments\n\n",
		"tokens: no tokens (a tokens file must hold at least one 'TOKEN TENANT SCOPES' line)");
	refused("\n" TOK_RW " acme\n", "tokens line 2: expected 'TOKEN TENANT SCOPE[,SCOPE...]'");
	refused(TOK_RW " acme runtime:read extra\n",
		"tokens line 1: expected 'TOKEN TENANT SCOPE[,SCOPE...]'");
	refused("short acme runtime:read\n", "tokens line 1: token must be 16..256 characters, has 5");
	refused(
	    TOK_RW " acme runtime:fly\n",
	    "tokens line 1: unknown scope 'runtime:fly' (runtime:read, runtime:write, findings:write, *)");
	refused(TOK_RW " ac/me runtime:read\n",
		"tokens line 1: tenant 'ac/me' is not 1..128 of [A-Za-z0-9._-]");
	refused(TOK_RW " acme ,\n", "tokens line 1: no scope");
	refused(TOK_RW " acme runtime:read\n# x\n" TOK_RW " globex *\n",
		"tokens line 3: token already given on an earlier line");
}

static void request_decisions(void **state)
{
	tb_auth_t *a = load(tokens);
	tb_principal_t who;

	(void)state;
	assert_int_equal(tb_auth_check(a, NULL, TB_SCOPE_RUNTIME_READ, &who), TB_AUTH_MISSING);
	assert_int_equal(tb_auth_check(a, "Basic " TOK_RW, TB_SCOPE_RUNTIME_READ, &who), TB_AUTH_MISSING);
	assert_int_equal(tb_auth_check(a, "Bearer nope-nope-nope-nope", TB_SCOPE_RUNTIME_READ, &who),
			 TB_AUTH_INVALID);
	assert_int_equal(tb_auth_check(a, "Bearer " TOK_RW "x", TB_SCOPE_RUNTIME_READ, &who),
			 TB_AUTH_INVALID);
	assert_int_equal(tb_auth_check(a, "Bearer ", TB_SCOPE_RUNTIME_READ, &who), TB_AUTH_INVALID);

	assert_int_equal(tb_auth_check(a, "Bearer " TOK_RW, TB_SCOPE_RUNTIME_WRITE, &who), TB_AUTH_OK);
	assert_string_equal(who.tenant, "acme");
	assert_int_equal(tb_auth_check(a, "bearer  " TOK_RO " ", TB_SCOPE_RUNTIME_READ, &who), TB_AUTH_OK);
	assert_int_equal(tb_auth_check(a, "Bearer " TOK_RO, TB_SCOPE_RUNTIME_WRITE, &who), TB_AUTH_FORBIDDEN);
	assert_string_equal(who.tenant, "acme");
	assert_int_equal(tb_auth_check(a, "Bearer " TOK_RW, TB_SCOPE_FINDINGS_WRITE, &who),
			 TB_AUTH_FORBIDDEN);
	assert_int_equal(tb_auth_check(a, "Bearer " TOK_ALL, TB_SCOPE_FINDINGS_WRITE, &who), TB_AUTH_OK);
	assert_string_equal(who.tenant, "globex");
	assert_int_equal(who.scopes, TB_SCOPE_ALL);
	/* routes without a scope (ops) need no token */
	assert_int_equal(tb_auth_check(a, NULL, 0, &who), TB_AUTH_OK);
	tb_auth_free(a);
}

static void without_file_every_request_is_the_tenant(void **state)
{
	tb_err_t err;
	tb_auth_t *a = tb_auth_open("default", &err);
	tb_principal_t who;

	(void)state;
	assert_non_null(a);
	assert_int_equal(tb_auth_required(a), 0);
	assert_int_equal(tb_auth_check(a, NULL, TB_SCOPE_FINDINGS_WRITE, &who), TB_AUTH_OK);
	assert_string_equal(who.tenant, "default");
	assert_int_equal(who.scopes, TB_SCOPE_ALL);
	assert_int_equal(tb_auth_check(a, "Bearer whatever-whatever", TB_SCOPE_RUNTIME_READ, &who),
			 TB_AUTH_OK);
	tb_auth_free(a);
	assert_null(tb_auth_open("bad tenant", &err));
	assert_null(tb_auth_open("", &err));
}

static void scope_names(void **state)
{
	(void)state;
	assert_string_equal(tb_scope_name(TB_SCOPE_RUNTIME_READ), "runtime:read");
	assert_string_equal(tb_scope_name(TB_SCOPE_RUNTIME_WRITE), "runtime:write");
	assert_string_equal(tb_scope_name(TB_SCOPE_FINDINGS_WRITE), "findings:write");
	assert_string_equal(tb_scope_name(TB_SCOPE_ALL), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(file_with_comments_blank_lines_and_crlf_loads),
	    cmocka_unit_test(file_errors_name_the_line),
	    cmocka_unit_test(request_decisions),
	    cmocka_unit_test(without_file_every_request_is_the_tenant),
	    cmocka_unit_test(scope_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
