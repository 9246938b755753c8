/*
 * Unit tests for /openapi.json and the route table (services/timeline-api/
 * openapi.c, routes.c): the document parses as OpenAPI 3, documents exactly
 * the routes the server dispatches with their methods, every $ref points at
 * something that exists, every API route documents its error answers, and
 * the route lookup is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "../../../services/timeline-api/auth.h"
#include "../../../services/timeline-api/findings.h"
#include "../../../services/timeline-api/openapi.h"
#include "../../../services/timeline-api/routes.h"

static json_t *doc_load(void)
{
	size_t len;
	const char *text = tb_api_openapi(&len);
	json_error_t e;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);

	if (!doc)
		fail_msg("openapi.json does not parse: %s (line %d column %d)", e.text, e.line, e.column);
	return doc;
}

static void document_is_openapi_3(void **state)
{
	json_t *doc = doc_load();

	(void)state;
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	assert_non_null(json_string_value(json_object_get(json_object_get(doc, "info"), "title")));
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
				"bearer"),
		"scheme")),
	    "bearer");
	json_decref(doc);
}

static void every_route_is_documented_with_its_methods(void **state)
{
	json_t *doc = doc_load(), *paths = json_object_get(doc, "paths");

	(void)state;
	for (size_t i = 0; i < TB_ROUTE_COUNT; i++) {
		const tb_api_route_t *r = &tb_api_routes[i];
		json_t *p = json_object_get(paths, r->path);

		if (!p)
			fail_msg("route %s: expected in openapi.json paths, got nothing", r->path);
		if (!!(r->methods & TB_M_GET) != !!json_object_get(p, "get"))
			fail_msg("route %s: expected get %s, got %s", r->path,
				 (r->methods & TB_M_GET) ? "documented" : "absent",
				 json_object_get(p, "get") ? "documented" : "absent");
		if (!!(r->methods & TB_M_POST) != !!json_object_get(p, "post"))
			fail_msg("route %s: expected post %s, got %s", r->path,
				 (r->methods & TB_M_POST) ? "documented" : "absent",
				 json_object_get(p, "post") ? "documented" : "absent");
		if (json_object_size(p) != (size_t)(!!(r->methods & TB_M_GET) + !!(r->methods & TB_M_POST)))
			fail_msg("route %s: expected only its methods, got %zu operations", r->path,
				 json_object_size(p));
	}
	if (json_object_size(paths) != TB_ROUTE_COUNT + TB_FND_COUNT)
		fail_msg("expected %d documented paths (the route table and the finding sub-routes), got %zu",
			 TB_ROUTE_COUNT + TB_FND_COUNT, json_object_size(paths));
	json_decref(doc);
}

/* The finding-scoped routes are dispatched by tb_fnd_route, not the table:
 * each documented template must route to its sub-route, with its methods,
 * the 404 of an unknown finding and the scopes in its description. */
static void finding_routes_are_documented(void **state)
{
	json_t *doc = doc_load(), *paths = json_object_get(doc, "paths");
	int seen[TB_FND_COUNT] = {0};
	const char *key;
	json_t *p;

	(void)state;
	json_object_foreach(paths, key, p)
	{
		char path[256], id[TB_FND_ID_MAX];
		const char *tmpl = strstr(key, "{id}");
		tb_fnd_sub_t sub;

		if (strncmp(key, "/api/v1/findings/", 17) != 0)
			continue;
		if (!tmpl)
			fail_msg("finding route %s: expected an {id} template", key);
		snprintf(path, sizeof(path), "%.*sF-1%s", (int)(tmpl - key), key, tmpl + 4);
		if (tb_fnd_route(path, id, sizeof(id), &sub) < 0)
			fail_msg("documented %s: expected the server to route it, got no route", key);
		assert_string_equal(id, "F-1");
		seen[sub]++;
		if (!!(tb_fnd_methods(sub) & TB_M_GET) != !!json_object_get(p, "get") ||
		    !!(tb_fnd_methods(sub) & TB_M_POST) != !!json_object_get(p, "post"))
			fail_msg("finding route %s: expected its methods documented exactly", key);
		for (int post = 0; post < 2; post++) {
			json_t *op = json_object_get(p, post ? "post" : "get");
			const char *d = json_string_value(json_object_get(op, "description"));

			if (!op)
				continue;
			if (!d || !strstr(d, tb_scope_name(tb_fnd_scope(sub, post))))
				fail_msg("finding route %s %s: expected its description to name scope %s",
					 key, post ? "post" : "get", tb_scope_name(tb_fnd_scope(sub, post)));
			if (!post && !json_object_get(json_object_get(op, "responses"), "404"))
				fail_msg("finding route %s: expected 404 documented", key);
		}
	}
	for (int i = 0; i < TB_FND_COUNT; i++)
		if (seen[i] != 1)
			fail_msg("finding sub-route %s: expected documented once, got %d", tb_fnd_name(i),
				 seen[i]);
	json_decref(doc);
}

/* Routes needing a scope document 401/403/400; unauthenticated ones opt out of security. */
static void routes_document_auth_and_errors(void **state)
{
	json_t *doc = doc_load(), *paths = json_object_get(doc, "paths");

	(void)state;
	for (size_t i = 0; i < TB_ROUTE_COUNT; i++) {
		const tb_api_route_t *r = &tb_api_routes[i];
		json_t *op = json_object_get(json_object_get(paths, r->path),
					     (r->methods & TB_M_GET) ? "get" : "post");
		json_t *resp = json_object_get(op, "responses");
		json_t *sec = json_object_get(op, "security");

		if (r->scope == 0) {
			if (!json_is_array(sec) || json_array_size(sec) != 0)
				fail_msg("route %s needs no token: expected \"security\": [], got otherwise",
					 r->path);
			continue;
		}
		if (sec)
			fail_msg(
			    "route %s needs scope %s: expected the global bearer security, got an override",
			    r->path, tb_scope_name(r->scope));
		for (const char *const *c = (const char *const[]){"400", "401", "403", "500", "503", NULL};
		     *c; c++)
			if (!json_object_get(resp, *c))
				fail_msg("route %s: expected response %s documented, got none", r->path, *c);
		if (!strstr(json_string_value(json_object_get(op, "description")), tb_scope_name(r->scope)))
			fail_msg("route %s: expected its description to name scope %s", r->path,
				 tb_scope_name(r->scope));
	}
	json_decref(doc);
}

/* Walk every "$ref" and resolve "#/a/b/c" against the document. */
static void check_refs(json_t *root, json_t *v)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, child)
		{
			if (strcmp(key, "$ref") == 0) {
				const char *ref = json_string_value(child);
				char buf[256], *save = NULL;
				json_t *at = root;

				if (!ref || strncmp(ref, "#/", 2) != 0)
					fail_msg("expected a local $ref, got %s",
						 ref ? ref : "(not a string)");
				snprintf(buf, sizeof(buf), "%s", ref + 2);
				for (char *t = strtok_r(buf, "/", &save); t && at;
				     t = strtok_r(NULL, "/", &save))
					at = json_object_get(at, t);
				if (!at)
					fail_msg("$ref %s: expected it to resolve, got nothing", ref);
			} else {
				check_refs(root, child);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) check_refs(root, child);
	}
}

static void every_ref_resolves(void **state)
{
	json_t *doc = doc_load();

	(void)state;
	check_refs(doc, doc);
	json_decref(doc);
}

static void route_lookup_is_exact(void **state)
{
	(void)state;
	assert_int_equal(tb_api_route_find("/api/v1/runtime/timeline")->id, TB_ROUTE_TIMELINE);
	assert_int_equal(tb_api_route_find("/healthz")->id, TB_ROUTE_HEALTHZ);
	assert_null(tb_api_route_find("/api/v1/runtime/timeline/"));
	assert_null(tb_api_route_find("/api/v1/runtime"));
	assert_null(tb_api_route_find("/API/v1/runtime/timeline"));
	assert_null(tb_api_route_find(""));
	for (size_t i = 0; i < TB_ROUTE_COUNT; i++)
		assert_int_equal(tb_api_routes[i].id, (tb_api_route_id_t)i);
	assert_string_equal(tb_api_route_allow(tb_api_route_find("/api/v1/findings")), "POST");
	assert_string_equal(tb_api_route_allow(tb_api_route_find("/metrics")), "GET, HEAD");
}

static void routes_need_the_documented_scopes(void **state)
{
	(void)state;
	assert_int_equal(tb_api_routes[TB_ROUTE_TRACES].scope, TB_SCOPE_RUNTIME_WRITE);
	assert_int_equal(tb_api_routes[TB_ROUTE_ARTIFACTS].scope, TB_SCOPE_FINDINGS_WRITE);
	assert_int_equal(tb_api_routes[TB_ROUTE_FINDINGS].scope, TB_SCOPE_FINDINGS_WRITE);
	assert_int_equal(tb_api_routes[TB_ROUTE_TIMELINE].scope, TB_SCOPE_RUNTIME_READ);
	assert_int_equal(tb_api_routes[TB_ROUTE_HOT_SYMBOLS].scope, TB_SCOPE_RUNTIME_READ);
	assert_int_equal(tb_api_routes[TB_ROUTE_STACKS_FOLDED].scope, TB_SCOPE_RUNTIME_READ);
	assert_int_equal(tb_api_routes[TB_ROUTE_HEALTHZ].scope | tb_api_routes[TB_ROUTE_READYZ].scope |
			     tb_api_routes[TB_ROUTE_METRICS].scope | tb_api_routes[TB_ROUTE_OPENAPI].scope,
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(document_is_openapi_3),
	    cmocka_unit_test(every_route_is_documented_with_its_methods),
	    cmocka_unit_test(finding_routes_are_documented),
	    cmocka_unit_test(routes_document_auth_and_errors),
	    cmocka_unit_test(every_ref_resolves),
	    cmocka_unit_test(route_lookup_is_exact),
	    cmocka_unit_test(routes_need_the_documented_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
