/*
 * tb_hash.c — BLAKE2b-based ids and keyed hashes (see tb/hash.h).
 *
 * Fields are framed as (u64 little-endian length, bytes) so concatenations
 * cannot collide; a domain string starts every hash so a frame id can never
 * equal a stack id computed over the same bytes.
 */
#include <sodium.h>
#include <string.h>

#include "tb/hash.h"

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((tb_hasher_t *)0)->state),
	       "tb_hasher_t too small for crypto_generichash_state");

static crypto_generichash_state *st(tb_hasher_t *h)
{
	return (crypto_generichash_state *)(void *)h->state;
}

void tb_hasher_init(tb_hasher_t *h, const char *domain)
{
	crypto_generichash_init(st(h), NULL, 0, 16);
	tb_hasher_str(h, domain);
}

void tb_hasher_bytes(tb_hasher_t *h, const void *data, size_t len)
{
	uint8_t n[8];
	uint64_t l = len;

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(l >> (8 * i));
	crypto_generichash_update(st(h), n, sizeof(n));
	if (len)
		crypto_generichash_update(st(h), data, len);
}

void tb_hasher_str(tb_hasher_t *h, const char *s)
{
	static const uint8_t null_marker = 0xff;

	if (!s) {
		/* Distinct from "": a length no string can have, then a marker. */
		tb_hasher_u64(h, UINT64_MAX);
		crypto_generichash_update(st(h), &null_marker, 1);
		return;
	}
	tb_hasher_bytes(h, s, strlen(s));
}

void tb_hasher_u64(tb_hasher_t *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	crypto_generichash_update(st(h), b, sizeof(b));
}

void tb_hasher_final128(tb_hasher_t *h, uint8_t out[16])
{
	crypto_generichash_final(st(h), out, 16);
}

int64_t tb_hasher_final64(tb_hasher_t *h)
{
	uint8_t d[16];
	uint64_t v = 0;

	crypto_generichash_final(st(h), d, sizeof(d));
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return (int64_t)v;
}

void tb_keyed_hash_hex(const uint8_t key[TB_HASH_KEY_LEN], const char *value, char out[33])
{
	uint8_t d[16];

	crypto_generichash(d, sizeof(d), (const unsigned char *)(value ? value : ""), value ? strlen(value) : 0, key,
			   TB_HASH_KEY_LEN);
	tb_hex(d, sizeof(d), out);
}

void tb_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}
