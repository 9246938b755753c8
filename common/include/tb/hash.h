/*
 * tb/hash.h — stable hashes for ids (event, frame, stack) and keyed hashes
 * for privacy (uid, node name).
 *
 * All ids are BLAKE2b (libsodium crypto_generichash) over an unambiguous
 * encoding of their fields, so they do not depend on ASLR, the machine, the
 * process or the library version: the same input gives the same id forever.
 * Changing how an id is computed is a contract change (replays would no
 * longer collapse duplicates).
 */
#ifndef TB_HASH_H
#define TB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TB_HASH_KEY_LEN 32

/* An incremental builder: feed fields, then finish. Each field is
 * length-prefixed so ("ab","c") and ("a","bc") differ. */
typedef struct tb_hasher {
	unsigned char state[384] __attribute__((aligned(64))); /* crypto_generichash_state */
} tb_hasher_t;

void tb_hasher_init(tb_hasher_t *h, const char *domain /* e.g. "frame.v1" */);
void tb_hasher_bytes(tb_hasher_t *h, const void *data, size_t len);
void tb_hasher_str(tb_hasher_t *h, const char *s /* NULL hashes like "" but distinct */);
void tb_hasher_u64(tb_hasher_t *h, uint64_t v);
/* 16-byte digest (event ids). */
void tb_hasher_final128(tb_hasher_t *h, uint8_t out[16]);
/* 64-bit id (frame_id, stack_id): first 8 digest bytes, little-endian, as int64. */
int64_t tb_hasher_final64(tb_hasher_t *h);

/* Keyed hash for joinable-but-not-reversible values (uid, node name):
 * lowercase hex of a 16-byte BLAKE2b keyed with `key`, into out[33]. */
void tb_keyed_hash_hex(const uint8_t key[TB_HASH_KEY_LEN], const char *value, char out[33]);

/* Lowercase hex of `len` bytes into out (2*len+1 bytes). */
void tb_hex(const uint8_t *data, size_t len, char *out);

#endif
