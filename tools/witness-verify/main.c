/*
 * tb-witness-verify — checks a finding witness (a DSSE envelope from
 * GET /api/v1/findings/{id}/runtime/witness) with an ed25519 public key.
 *
 *   tb-witness-verify --public-key HEX | --public-key-file FILE [--snapshot FILE] ENVELOPE
 *   tb-witness-verify --derive SEED_FILE      print the public key of a seed
 *
 * Verification: the envelope's payloadType must be the in-toto type, the
 * payload base64, and one signature must verify (crypto_sign_ed25519
 * detached) over PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body.
 * The payload must then be an in-toto Statement v1 with our predicate type;
 * with --snapshot, the sha256 of that file must be the predicate's
 * snapshot.id. Prints "verified <keyid> <snapshot id>" and exits 0; any
 * failure prints the reason to stderr and exits 1 (2 for usage errors).
 * Seed files: 32 raw bytes or 64 hex characters.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "tb/hash.h"

#define PAYLOAD_TYPE "application/vnd.in-toto+json"
#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PREDICATE_TYPE "https://tracebridge.dev/attestations/runtime-reachability/v1"

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "tb-witness-verify: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 > cap) {
			unsigned char *q = realloc(p, cap = cap * 2 + 8192);

			if (!q) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = q;
		}
		r = fread(p + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	p[n] = '\0';
	*len = n;
	return p;
}

/* 32 raw bytes or `want` hex characters (whitespace around ignored). */
static int read_key(const char *path, unsigned char *out, size_t out_len)
{
	size_t n, a = 0, got = 0;
	unsigned char *raw = read_file(path, &n);
	int rc = -1;

	if (!raw)
		return -1;
	if (n == out_len) {
		memcpy(out, raw, out_len);
		rc = 0;
	} else {
		while (n > 0 && isspace(raw[n - 1]))
			n--;
		while (a < n && isspace(raw[a]))
			a++;
		if (n - a == 2 * out_len &&
		    sodium_hex2bin(out, out_len, (char *)raw + a, n - a, NULL, &got, NULL) == 0 &&
		    got == out_len)
			rc = 0;
	}
	sodium_memzero(raw, n);
	free(raw);
	return rc;
}

static int derive(const char *path)
{
	unsigned char seed[crypto_sign_ed25519_SEEDBYTES], pk[crypto_sign_ed25519_PUBLICKEYBYTES],
	    sk[crypto_sign_ed25519_SECRETKEYBYTES];
	char hex[2 * sizeof(pk) + 1];

	if (read_key(path, seed, sizeof(seed)) < 0)
		return fail("%s: expected a 32-byte ed25519 seed, raw or as 64 hex characters", path);
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	tb_hex(pk, sizeof(pk), hex);
	printf("%s\n", hex);
	return 0;
}

static unsigned char *b64_decode(const char *s, size_t *len)
{
	size_t cap = strlen(s) / 4 * 3 + 3;
	unsigned char *p = malloc(cap);

	if (p &&
	    sodium_base642bin(p, cap, s, strlen(s), NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static int sig_ok(const json_t *sigs, const unsigned char *pae, size_t pae_len, const unsigned char *pk)
{
	size_t i, n;
	json_t *s;

	json_array_foreach(sigs, i, s)
	{
		const char *b = json_string_value(json_object_get(s, "sig"));
		unsigned char *sig = b ? b64_decode(b, &n) : NULL;
		int ok = sig && n == crypto_sign_ed25519_BYTES &&
			 crypto_sign_ed25519_verify_detached(sig, pae, pae_len, pk) == 0;

		free(sig);
		if (ok)
			return 1;
	}
	return 0;
}

static int check_statement(const unsigned char *body, size_t len, const char *snapshot, const char **snap_id,
			   json_t **st)
{
	json_t *pred;

	if (!(*st = json_loadb((const char *)body, len, 0, NULL)))
		return fail("%s", "payload is not JSON");
	if (!json_is_string(json_object_get(*st, "_type")) ||
	    strcmp(json_string_value(json_object_get(*st, "_type")), STATEMENT_TYPE) != 0)
		return fail("payload is not an %s", STATEMENT_TYPE);
	if (!json_is_string(json_object_get(*st, "predicateType")) ||
	    strcmp(json_string_value(json_object_get(*st, "predicateType")), PREDICATE_TYPE) != 0)
		return fail("predicateType is not %s", PREDICATE_TYPE);
	pred = json_object_get(*st, "predicate");
	*snap_id = json_string_value(json_object_get(json_object_get(pred, "snapshot"), "id"));
	if (!*snap_id)
		return fail("%s", "predicate without snapshot.id");
	if (snapshot) {
		unsigned char d[crypto_hash_sha256_BYTES], *bytes;
		char want[7 + 2 * sizeof(d) + 1] = "sha256:";
		size_t n;

		if (!(bytes = read_file(snapshot, &n)))
			return fail("cannot read %s", snapshot);
		crypto_hash_sha256(d, bytes, n);
		free(bytes);
		tb_hex(d, sizeof(d), want + 7);
		if (strcmp(want, *snap_id) != 0)
			return fail("the snapshot's sha256 is not the witness's snapshot id %s", *snap_id);
	}
	return 0;
}

static int verify(const unsigned char *pk, const char *path, const char *snapshot)
{
	json_t *env = NULL, *st = NULL;
	unsigned char *body = NULL, *pae = NULL;
	const char *type, *payload, *snap_id = NULL, *keyid;
	size_t len = 0, pae_len;
	char head[160];
	int rc = 1, hn;

	if (!(env = json_load_file(path, 0, NULL)))
		return fail("%s: not a JSON file", path);
	type = json_string_value(json_object_get(env, "payloadType"));
	payload = json_string_value(json_object_get(env, "payload"));
	if (!type || strcmp(type, PAYLOAD_TYPE) != 0) {
		fail("payloadType is not %s", PAYLOAD_TYPE);
		goto out;
	}
	if (!payload || !(body = b64_decode(payload, &len))) {
		fail("%s", "payload is not base64");
		goto out;
	}
	hn = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	if (!(pae = malloc((size_t)hn + len + 1)))
		goto out;
	memcpy(pae, head, (size_t)hn);
	memcpy(pae + hn, body, len);
	pae_len = (size_t)hn + len;
	if (!sig_ok(json_object_get(env, "signatures"), pae, pae_len, pk)) {
		fail("%s", "no signature verifies with the public key");
		goto out;
	}
	if (check_statement(body, len, snapshot, &snap_id, &st) != 0)
		goto out;
	keyid = json_string_value(
	    json_object_get(json_array_get(json_object_get(env, "signatures"), 0), "keyid"));
	printf("verified %s %s\n", keyid ? keyid : "-", snap_id);
	rc = 0;
out:
	json_decref(env);
	json_decref(st);
	free(body);
	free(pae);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tb-witness-verify (--public-key HEX | --public-key-file FILE) [--snapshot FILE] "
		"ENVELOPE\n       tb-witness-verify --derive SEED_FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	const char *hex = NULL, *key_file = NULL, *snapshot = NULL, *env = NULL;
	size_t got = 0;

	if (sodium_init() < 0)
		return fail("%s", "libsodium failed to initialise");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--derive") && i + 1 < argc)
			return derive(argv[i + 1]);
		if (!strcmp(argv[i], "--public-key") && i + 1 < argc)
			hex = argv[++i];
		else if (!strcmp(argv[i], "--public-key-file") && i + 1 < argc)
			key_file = argv[++i];
		else if (!strcmp(argv[i], "--snapshot") && i + 1 < argc)
			snapshot = argv[++i];
		else if (argv[i][0] != '-' && !env)
			env = argv[i];
		else
			return usage();
	}
	if (!env || (!hex == !key_file))
		return usage();
	if (hex &&
	    (sodium_hex2bin(pk, sizeof(pk), hex, strlen(hex), NULL, &got, NULL) != 0 || got != sizeof(pk)))
		return fail("--public-key: expected %s", "64 hex characters");
	if (key_file && read_key(key_file, pk, sizeof(pk)) < 0)
		return fail("%s: expected a 32-byte public key, raw or as 64 hex characters", key_file);
	return verify(pk, env, snapshot);
}
