/*
 * routes.h — the timeline-api's route table: path, methods, scope.
 *
 * One table serves the dispatcher (server.c), the per-route metrics and the
 * unit test that holds /openapi.json to the same set of paths and methods.
 * Paths match exactly (no trailing slash, no prefix matching). HEAD is
 * accepted wherever GET is. A path in the table with another method is 405
 * (with Allow), a path not in the table 404.
 */
#ifndef TB_TIMELINE_ROUTES_H
#define TB_TIMELINE_ROUTES_H

#include <stddef.h>

#define TB_M_GET 0x1u /* and HEAD */
#define TB_M_POST 0x2u

typedef enum tb_api_route_id {
	TB_ROUTE_HEALTHZ = 0,
	TB_ROUTE_READYZ,
	TB_ROUTE_METRICS,
	TB_ROUTE_OPENAPI,
	TB_ROUTE_TRACES,
	TB_ROUTE_ARTIFACTS,
	TB_ROUTE_FINDINGS,
	TB_ROUTE_TIMELINE,
	TB_ROUTE_HOT_SYMBOLS,
	TB_ROUTE_STACKS_FOLDED,
	TB_ROUTE_COUNT,
} tb_api_route_id_t;

typedef struct tb_api_route {
	tb_api_route_id_t id;
	const char *path;
	unsigned methods; /* TB_M_* */
	unsigned scope;	  /* TB_SCOPE_* (auth.h) the caller needs; 0: none */
	const char *name; /* metric label */
} tb_api_route_t;

/* The table, TB_ROUTE_COUNT entries indexed by id. */
extern const tb_api_route_t tb_api_routes[TB_ROUTE_COUNT];

/* The route of an exact path (no query string), or NULL. */
const tb_api_route_t *tb_api_route_find(const char *path);

/* "GET, HEAD" / "POST" for an Allow header. */
const char *tb_api_route_allow(const tb_api_route_t *r);

#endif
