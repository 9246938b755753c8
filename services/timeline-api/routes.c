/*
 * routes.c — the route table (routes.h). A linear scan: ten routes, and
 * the comparison stops at the first differing byte.
 */
#include <string.h>

#include "auth.h"
#include "routes.h"

const tb_api_route_t tb_api_routes[TB_ROUTE_COUNT] = {
    {TB_ROUTE_HEALTHZ, "/healthz", TB_M_GET, 0, "healthz"},
    {TB_ROUTE_READYZ, "/readyz", TB_M_GET, 0, "readyz"},
    {TB_ROUTE_METRICS, "/metrics", TB_M_GET, 0, "metrics"},
    {TB_ROUTE_OPENAPI, "/openapi.json", TB_M_GET, 0, "openapi"},
    {TB_ROUTE_TRACES, "/api/v1/runtime/traces", TB_M_POST, TB_SCOPE_RUNTIME_WRITE, "traces"},
    {TB_ROUTE_ARTIFACTS, "/api/v1/artifacts", TB_M_POST, TB_SCOPE_FINDINGS_WRITE, "artifacts"},
    {TB_ROUTE_FINDINGS, "/api/v1/findings", TB_M_POST, TB_SCOPE_FINDINGS_WRITE, "findings"},
    {TB_ROUTE_TIMELINE, "/api/v1/runtime/timeline", TB_M_GET, TB_SCOPE_RUNTIME_READ, "timeline"},
    {TB_ROUTE_HOT_SYMBOLS, "/api/v1/runtime/hot-symbols", TB_M_GET, TB_SCOPE_RUNTIME_READ, "hot_symbols"},
    {TB_ROUTE_STACKS_FOLDED, "/api/v1/runtime/stacks.folded", TB_M_GET, TB_SCOPE_RUNTIME_READ,
     "stacks_folded"},
};

const tb_api_route_t *tb_api_route_find(const char *path)
{
	for (size_t i = 0; i < TB_ROUTE_COUNT; i++)
		if (strcmp(tb_api_routes[i].path, path) == 0)
			return &tb_api_routes[i];
	return NULL;
}

const char *tb_api_route_allow(const tb_api_route_t *r)
{
	if ((r->methods & TB_M_GET) && (r->methods & TB_M_POST))
		return "GET, HEAD, POST";
	return (r->methods & TB_M_GET) ? "GET, HEAD" : "POST";
}
