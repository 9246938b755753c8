/*
 * inputs.h — the adapter's --input option: which inputs to read.
 *
 *   kafka        tb.tetragon.raw.v1 and tb.probe.raw.v1 in consumer group --group
 *   file:PATH    follow PATH like `tail -F` (from --file-from start|end, or the
 *                saved position of --position-file)
 *   -            stdin, until EOF (the adapter then flushes and exits 0)
 *
 * --input may be repeated and each value may be a comma-separated list
 * ("kafka,file:/var/log/tetragon/tetragon.log"), so a path cannot contain a
 * comma. Empty entries, unknown words and duplicates are refused.
 *
 * The configuration loader (tb/config.h) keeps only the last value of a
 * repeated option, so main() first merges every --input of argv into one
 * (tb_adapter_inputs_merge_argv).
 */
#ifndef TB_ADAPTER_INPUTS_H
#define TB_ADAPTER_INPUTS_H

#include <stddef.h>

#include "tb/err.h"

#define TB_ADAPTER_MAX_INPUTS 32

typedef enum tb_adapter_input_kind {
	TB_INPUT_KAFKA = 0,
	TB_INPUT_FILE,
	TB_INPUT_STDIN,
} tb_adapter_input_kind_t;

typedef struct tb_adapter_input {
	tb_adapter_input_kind_t kind;
	char *path; /* FILE: the path; STDIN: "-"; KAFKA: NULL */
} tb_adapter_input_t;

typedef struct tb_adapter_inputs {
	tb_adapter_input_t in[TB_ADAPTER_MAX_INPUTS];
	size_t n;
} tb_adapter_inputs_t;

/* Parse a --input value (comma list). *out is zeroed first; release with
 * tb_adapter_inputs_clear. -1 with err naming the bad entry. */
int tb_adapter_inputs_parse(const char *spec, tb_adapter_inputs_t *out, tb_err_t *err);
void tb_adapter_inputs_clear(tb_adapter_inputs_t *in);

/* Count inputs of a kind. */
size_t tb_adapter_inputs_count(const tb_adapter_inputs_t *in, tb_adapter_input_kind_t kind);

/* Rewrite argv so that every "--input X" / "--input=X" becomes one
 * "--input=X1,X2,..." at the place of the first (the others removed); a
 * "--" ends the scan, and a last "--input" without value is left for the
 * configuration loader to report. *new_argv (malloc'd array, NULL-terminated)
 * points into argv except for the merged entry, *merged (malloc'd, NULL when
 * argv had no --input); the caller frees both. 0, or -1 on OOM. */
int tb_adapter_inputs_merge_argv(int argc, char **argv, int *new_argc, char ***new_argv, char **merged);

#endif
