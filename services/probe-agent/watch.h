/*
 * watch.h — the watch list: which functions get uprobes, and in which
 * binaries.
 *
 * Two sources. A local file, one entry per line:
 *     # comment
 *     /usr/bin/app             parse_header "ns::f<int, long>"
 *     build-id:3f2a...         parse_header
 *     pkg:deb/debian/openssl@3.0.11  SSL_read SSL_write
 * (target, then symbols; a symbol with spaces is double-quoted). And the
 * findings on tb.findings.v1 (purl + symbols), whose purls are turned into
 * binaries with the artifacts on tb.artifacts.v1 (binaries[] {path,
 * build_id, purl}).
 *
 * A binary (its path on the node and its build-id) is wanted for a purl
 * entry when an artifact lists it (same build-id, or same path when the
 * artifact gives no build-id) with that purl, or, when the artifact has the
 * purl only as a component (static linking), any binary of that artifact.
 * A finding with an artifact_digest only looks at that artifact. Purls
 * compare without their qualifiers and subpath ("?...", "#...").
 * Symbols are matched later against the binary's symbol table by raw or
 * canonical (tb/demangle.h) name; a symbol a binary does not define is
 * simply not attached there.
 */
#ifndef TB_PA_WATCH_H
#define TB_PA_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "tb/err.h"
#include "tb/records.h"

typedef enum tb_pa_watch_kind {
	TB_PA_WATCH_PATH = 1,
	TB_PA_WATCH_BUILD_ID,
	TB_PA_WATCH_PURL,
} tb_pa_watch_kind_t;

typedef struct tb_pa_watch_entry {
	tb_pa_watch_kind_t kind;
	char *target; /* path, lowercase build-id, or purl */
	char **symbols;
	size_t n_symbols;
	char *origin;	       /* "FILE:LINE" or "finding ID" */
	char *artifact_digest; /* findings only; NULL = any artifact */
} tb_pa_watch_entry_t;

typedef struct tb_pa_watch tb_pa_watch_t;

tb_pa_watch_t *tb_pa_watch_new(void);
void tb_pa_watch_free(tb_pa_watch_t *w);

/* Replace the file entries with those parsed from text; origin names the
 * file in entries and errors ("watch.txt:3: ..."). All or nothing. */
int tb_pa_watch_parse(tb_pa_watch_t *w, const char *text, const char *origin, tb_err_t *err);
int tb_pa_watch_load_file(tb_pa_watch_t *w, const char *path, tb_err_t *err);

/* Findings and artifacts (copied). A finding without symbols, or a
 * tombstone (del), removes the finding's entry. */
int tb_pa_watch_put_finding(tb_pa_watch_t *w, const tb_finding_t *f);
void tb_pa_watch_del_finding(tb_pa_watch_t *w, const char *finding_id);
int tb_pa_watch_put_artifact(tb_pa_watch_t *w, const tb_artifact_t *a);
void tb_pa_watch_del_artifact(tb_pa_watch_t *w, const char *digest);

/* Changes with every modification: re-resolve when it moved. */
uint64_t tb_pa_watch_version(const tb_pa_watch_t *w);

/* Number of entries and entry i (for logs and tests). */
size_t tb_pa_watch_count(const tb_pa_watch_t *w);
const tb_pa_watch_entry_t *tb_pa_watch_at(const tb_pa_watch_t *w, size_t i);

/* The symbols wanted in the binary at `path` with `build_id` (either may be
 * NULL): a malloc'd array of distinct names borrowed from the list (valid
 * until the next change); *out NULL and 0 when none. */
size_t tb_pa_watch_symbols_for(const tb_pa_watch_t *w, const char *path, const char *build_id, char ***out);

/* Paths worth checking even when no process maps them: path entries and
 * the binary paths artifacts give for watched purls. Malloc'd array of
 * borrowed strings, as above. */
size_t tb_pa_watch_paths(const tb_pa_watch_t *w, char ***out);

#endif
