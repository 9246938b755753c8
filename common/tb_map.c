/*
 * tb_map.c — string-keyed open-addressing hash map (see tb/map.h).
 *
 * FNV-1a hashing, power-of-two capacity, load factor <= 0.7, tombstones on
 * delete (re-used by put, cleared by growth).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tb/map.h"

#define TOMBSTONE ((char *)1)

struct tb_map {
	char **keys;
	void **vals;
	size_t cap;
	size_t used;  /* live entries */
	size_t filled; /* live + tombstones */
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

tb_map_t *tb_map_new(size_t initial_capacity)
{
	tb_map_t *m = calloc(1, sizeof(*m));
	size_t cap = 16;

	if (!m)
		return NULL;
	while (cap < initial_capacity * 2)
		cap <<= 1;
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		free(m);
		return NULL;
	}
	m->cap = cap;
	return m;
}

void tb_map_free(tb_map_t *m, void (*free_value)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] && m->keys[i] != TOMBSTONE) {
			free(m->keys[i]);
			if (free_value)
				free_value(m->vals[i]);
		}
	}
	free(m->keys);
	free(m->vals);
	free(m);
}

static size_t find_slot(const tb_map_t *m, const char *key, int *found)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)fnv1a(key) & mask;
	size_t first_tomb = SIZE_MAX;

	for (;;) {
		char *k = m->keys[i];

		if (!k) {
			*found = 0;
			return first_tomb != SIZE_MAX ? first_tomb : i;
		}
		if (k == TOMBSTONE) {
			if (first_tomb == SIZE_MAX)
				first_tomb = i;
		} else if (strcmp(k, key) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static int grow(tb_map_t *m)
{
	tb_map_t n = {0};

	n.cap = m->cap * 2;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		int found;
		size_t j;

		if (!m->keys[i] || m->keys[i] == TOMBSTONE)
			continue;
		j = find_slot(&n, m->keys[i], &found);
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.used++;
	}
	free(m->keys);
	free(m->vals);
	m->keys = n.keys;
	m->vals = n.vals;
	m->cap = n.cap;
	m->filled = n.used;
	return 0;
}

void *tb_map_get(const tb_map_t *m, const char *key)
{
	int found;
	size_t i = find_slot(m, key, &found);

	return found ? m->vals[i] : NULL;
}

void *tb_map_put(tb_map_t *m, const char *key, void *value)
{
	int found;
	size_t i;
	char *k;

	if ((m->filled + 1) * 10 > m->cap * 7 && grow(m) < 0)
		abort();
	i = find_slot(m, key, &found);
	if (found) {
		void *old = m->vals[i];

		m->vals[i] = value;
		return old;
	}
	k = strdup(key);
	if (!k)
		abort();
	if (!m->keys[i])
		m->filled++;
	m->keys[i] = k;
	m->vals[i] = value;
	m->used++;
	return NULL;
}

void *tb_map_del(tb_map_t *m, const char *key)
{
	int found;
	size_t i = find_slot(m, key, &found);
	void *old;

	if (!found)
		return NULL;
	old = m->vals[i];
	free(m->keys[i]);
	m->keys[i] = TOMBSTONE;
	m->vals[i] = NULL;
	m->used--;
	return old;
}

size_t tb_map_size(const tb_map_t *m)
{
	return m->used;
}

int tb_map_next(const tb_map_t *m, size_t *cursor, const char **key, void **value)
{
	while (*cursor < m->cap) {
		size_t i = (*cursor)++;

		if (m->keys[i] && m->keys[i] != TOMBSTONE) {
			*key = m->keys[i];
			if (value)
				*value = m->vals[i];
			return 1;
		}
	}
	return 0;
}
