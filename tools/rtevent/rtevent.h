/*
 * rtevent.h — the JSON conversions of tb-rtevent (see main.c).
 */
#ifndef TB_RTEVENT_H
#define TB_RTEVENT_H

#include <jansson.h>

#include "tb/err.h"
#include "tb/records.h"

/* A ProbeBatch from JSON whose member names are the Avro field names of
 * schemas/avro/ProbeBatch.avsc (absent = zero/NULL; "attached" absent =
 * true, as the schema default; 64-bit values as numbers). *out must be
 * zeroed; release it with tb_probe_batch_clear. -1 with err naming the
 * member on a wrong type. */
int rtevent_probe_batch_from_json(const json_t *j, tb_probe_batch_t *out, tb_err_t *err);

/* A RuntimeEvent as a JSON object (event_id as lowercase hex, NULL strings
 * as null, addresses as numbers). NULL on OOM. */
json_t *rtevent_event_to_json(const tb_runtime_event_t *ev);

#endif
