/*
 * openapi.h — the hand-written OpenAPI 3 document of the timeline-api
 * (GET /openapi.json). Static data; the pointer is valid for the process.
 */
#ifndef TB_TIMELINE_OPENAPI_H
#define TB_TIMELINE_OPENAPI_H

#include <stddef.h>

/* The document (NUL-terminated JSON) and its length in *len (may be NULL). */
const char *tb_api_openapi(size_t *len);

#endif
