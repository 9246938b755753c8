/*
 * tb/map.h — a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied and owned by the map; values are opaque pointers owned by
 * the caller (tb_map_free takes an optional destructor for them). Not
 * thread-safe: wrap it in a lock where it is shared.
 */
#ifndef TB_MAP_H
#define TB_MAP_H

#include <stddef.h>

typedef struct tb_map tb_map_t;

tb_map_t *tb_map_new(size_t initial_capacity);
void tb_map_free(tb_map_t *m, void (*free_value)(void *));

/* Returns the value for key or NULL. */
void *tb_map_get(const tb_map_t *m, const char *key);

/* Sets key -> value; returns the previous value (or NULL). */
void *tb_map_put(tb_map_t *m, const char *key, void *value);

/* Removes key; returns its value (or NULL). */
void *tb_map_del(tb_map_t *m, const char *key);

size_t tb_map_size(const tb_map_t *m);

/* Iterate: start with *cursor = 0; returns 0 when done. Order is unspecified
 * (callers that need determinism sort the keys). */
int tb_map_next(const tb_map_t *m, size_t *cursor, const char **key, void **value);

#endif
