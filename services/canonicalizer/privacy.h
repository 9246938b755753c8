/*
 * privacy.h — the canonicalizer's privacy policy: what of a RuntimeEvent may
 * leave the privacy boundary, and in what form.
 *
 * Always removed (the CanonicalEvent contract has no field for them, so the
 * policy cannot turn these off; `drop_* = false` is an error):
 *   argv (process.args), environment (process.env), working directory
 *   (process.cwd), raw absolute addresses (frame addresses, and symbol
 *   strings that are only an address such as "0xffffffff81001234").
 *
 * Configurable (strict default in brackets):
 *   home_rewrite [true]   path parts naming a person's home are replaced:
 *                           .../home/<user>/...   -> .../home/<redacted>/...
 *                           .../Users/<user>/...  -> .../Users/<redacted>/...
 *                           /root (first part)    -> /<redacted-root>
 *                           .../run/user/<uid>/...-> .../run/user/<redacted>/...
 *                         "home", "Users", "run/user" match anywhere (so homes
 *                         inside container root filesystems are covered) but
 *                         only as whole path parts followed by one more part;
 *                         "/root" only at the start, so a binary named "root"
 *                         elsewhere keeps its name. Applied to: binary, path,
 *                         hook.
 *   scrub_secrets [true]  in binary, path, hook and frame module names:
 *                           URL credentials  scheme://user:pass@ -> scheme://<redacted>@
 *                           NAME=VALUE where NAME contains password, passwd,
 *                           pwd, secret, token, api_key/apikey, access_key,
 *                           auth, credential, private_key or session (any
 *                           case): VALUE -> <redacted> (up to / & ; , or space)
 *                           well-known token shapes: GitHub (ghp_ gho_ ghu_
 *                           ghs_ ghr_ github_pat_), GitLab (glpat-), Slack
 *                           (xox?-), AWS access key ids (AKIA...), JWTs
 *                           (eyJ....eyJ...), Stripe live keys (sk_live_,
 *                           rk_live_) -> <redacted>
 *                         Nothing else is scanned: symbols, image names,
 *                         pod/namespace names and ids are kept verbatim.
 *   hash_uid [true]       uid -> keyed hash (tb_keyed_hash_hex of "uid:<n>");
 *                         false drops it ("").
 *   hash_node [true]      node name -> keyed hash of "node:<name>"; false drops it.
 *   hash_exec_id [true]   exec_id -> keyed hash of "exec_id:<id>" (Tetragon
 *                         exec_ids are base64 of "<node>:<ktime>:<pid>", so
 *                         they would reveal the node name); false drops it.
 *   keep_pod_metadata [true] keep pod, namespace, workload, workload kind and
 *                         container name; false drops them (absent, NULL). Container id,
 *                         image, image digest and cgroup id are always kept
 *                         (correlation needs them).
 *   hash_key_file [none]  the 32-byte key for the keyed hashes: a file holding
 *                         32 raw bytes or 64 hex digits (trailing whitespace
 *                         allowed). Relative paths are relative to the policy
 *                         file. Hashed values are joinable across services
 *                         and replays only while the key is unchanged.
 *
 * Without a key there is nothing safe to hash with (uids are small numbers; an
 * unkeyed hash is a lookup table away from the value), so the built-in strict
 * policy DROPS uid, node and exec_id unless a key is supplied, and a policy
 * file that leaves any hash_* on must name hash_key_file.
 *
 * File format: one `key = value` per line; blank lines and lines whose first
 * non-blank character is '#' are ignored; booleans are `true` or `false`;
 * every key at most once. Unknown keys, bad values and duplicates are errors
 * naming the file, line and key.
 *
 * Counting: every removal or rewrite increments the counter
 * <prefix>_privacy_redactions_total{rule="..."} with rule one of args, env,
 * cwd, addresses, home, secret, uid, node, exec_id, pod_metadata (one per
 * value removed or hashed; env counts each variable, addresses each frame
 * address or address-only symbol, home each rewritten path part, secret
 * each redacted match).
 */
#ifndef TB_CANON_PRIVACY_H
#define TB_CANON_PRIVACY_H

#include <stdint.h>

#include "tb/err.h"
#include "tb/hash.h"
#include "tb/metrics.h"
#include "tb/records.h"

typedef struct tb_privacy_policy {
	int home_rewrite;
	int scrub_secrets;
	int hash_uid;
	int hash_node;
	int hash_exec_id;
	int keep_pod_metadata;
	int has_key;
	uint8_t key[TB_HASH_KEY_LEN];
} tb_privacy_policy_t;

typedef enum tb_privacy_rule {
	TB_PRIV_ARGS,
	TB_PRIV_ENV,
	TB_PRIV_CWD,
	TB_PRIV_ADDRESSES,
	TB_PRIV_HOME,
	TB_PRIV_SECRET,
	TB_PRIV_UID,
	TB_PRIV_NODE,
	TB_PRIV_EXEC_ID,
	TB_PRIV_POD_METADATA,
	TB_PRIV_N_RULES
} tb_privacy_rule_t;

typedef struct tb_privacy tb_privacy_t;

/* The built-in strict policy (all of the above on, no key). */
void tb_privacy_policy_strict(tb_privacy_policy_t *pol);

/* Parse policy text (starting from the strict policy). `name` is used in
 * error messages, `base_dir` resolves a relative hash_key_file. */
int tb_privacy_policy_parse(const char *text, const char *name, const char *base_dir,
			    tb_privacy_policy_t *pol, tb_err_t *err);

/* Read and parse a policy file. */
int tb_privacy_policy_load(const char *path, tb_privacy_policy_t *pol, tb_err_t *err);

/* Read a 32-byte key file (raw or hex, see above). */
int tb_privacy_key_load(const char *path, uint8_t key[TB_HASH_KEY_LEN], tb_err_t *err);

/* A ready policy: the patterns compiled and, when `metrics` is not NULL, the
 * per-rule counters registered there. */
tb_privacy_t *tb_privacy_new(const tb_privacy_policy_t *pol, tb_metrics_t *metrics, tb_err_t *err);
void tb_privacy_free(tb_privacy_t *p);

const char *tb_privacy_rule_name(tb_privacy_rule_t rule);

/* Fill the privacy-governed fields of `out` from `in`: node, uid_hash,
 * binary, exec_id, container, path, hook; and count what `in` carried that
 * never goes out (args, env, cwd, frame addresses). node, uid_hash, binary
 * and exec_id are never NULL ("" when absent or dropped); the optional ones
 * (path, hook, container strings) are NULL when absent in `in` or dropped.
 * Returns -1 only when out of memory. */
int tb_privacy_apply(tb_privacy_t *p, const tb_runtime_event_t *in, tb_event_t *out, tb_err_t *err);

/* Rewrite one path (home parts, then secrets, per the policy) into a
 * malloc'd string; NULL input gives "". NULL when out of memory. */
char *tb_privacy_path(tb_privacy_t *p, const char *path);

/* Scrub secrets from one string that is not a path (frame module names). */
char *tb_privacy_text(tb_privacy_t *p, const char *s);

/* Whether a symbol string is only a raw address ("0x" + hex digits, or 12+
 * hex digits with at least one decimal digit); counts it under rule
 * "addresses" when it is. */
int tb_privacy_symbol_is_address(tb_privacy_t *p, const char *symbol);

#endif
