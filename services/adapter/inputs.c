/*
 * inputs.c — parsing --input and merging repeated --input options (see
 * inputs.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

void tb_adapter_inputs_clear(tb_adapter_inputs_t *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->in[i].path);
	memset(in, 0, sizeof(*in));
}

size_t tb_adapter_inputs_count(const tb_adapter_inputs_t *in, tb_adapter_input_kind_t kind)
{
	size_t n = 0;

	for (size_t i = 0; i < in->n; i++)
		n += in->in[i].kind == kind;
	return n;
}

static int same(const tb_adapter_input_t *a, tb_adapter_input_kind_t kind, const char *path)
{
	if (a->kind != kind)
		return 0;
	return kind != TB_INPUT_FILE || strcmp(a->path, path) == 0;
}

static int add_one(tb_adapter_inputs_t *out, const char *tok, tb_err_t *err)
{
	tb_adapter_input_kind_t kind;
	const char *path = NULL;

	if (strcmp(tok, "kafka") == 0) {
		kind = TB_INPUT_KAFKA;
	} else if (strcmp(tok, "-") == 0) {
		kind = TB_INPUT_STDIN;
		path = "-";
	} else if (strncmp(tok, "file:", 5) == 0) {
		kind = TB_INPUT_FILE;
		path = tok + 5;
		if (!*path)
			return tb_err(err, "input 'file:' has no path (file:PATH)");
	} else {
		return tb_err(err, "unknown input '%s' (expected kafka, file:PATH or -)", tok);
	}
	for (size_t i = 0; i < out->n; i++)
		if (same(&out->in[i], kind, path))
			return tb_err(err, "input '%s' given twice", tok);
	if (out->n == TB_ADAPTER_MAX_INPUTS)
		return tb_err(err, "more than %d inputs", TB_ADAPTER_MAX_INPUTS);
	out->in[out->n].kind = kind;
	if (path && !(out->in[out->n].path = strdup(path)))
		return tb_err(err, "inputs: out of memory");
	out->n++;
	return 0;
}

int tb_adapter_inputs_parse(const char *spec, tb_adapter_inputs_t *out, tb_err_t *err)
{
	char *copy, *tok, *save = NULL;
	const char *p;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		return tb_err(err, "no input given (expected kafka, file:PATH or -)");
	for (p = spec; *p; p++)
		if (*p == ',' && (p == spec || p[1] == '\0' || p[1] == ','))
			return tb_err(err, "empty entry in input list '%s'", spec);
	copy = strdup(spec);
	if (!copy)
		return tb_err(err, "inputs: out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
		rc = add_one(out, tok, err);
	free(copy);
	if (rc < 0)
		tb_adapter_inputs_clear(out);
	return rc;
}

/* Append `v` to the comma list *acc. */
static int append(char **acc, const char *v)
{
	char *n = NULL;

	if (asprintf(&n, "%s%s%s", *acc ? *acc : "", *acc ? "," : "", v) < 0)
		return -1;
	free(*acc);
	*acc = n;
	return 0;
}

int tb_adapter_inputs_merge_argv(int argc, char **argv, int *new_argc, char ***new_argv, char **merged)
{
	char **out = calloc((size_t)argc + 1, sizeof(*out));
	char *acc = NULL;
	int n = 0, first = -1, i;

	*merged = NULL;
	if (!out)
		return -1;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (i > 0 && strcmp(a, "--") == 0)
			break;
		if (i > 0 && strncmp(a, "--input=", 8) == 0)
			v = a + 8;
		else if (i > 0 && strcmp(a, "--input") == 0 && i + 1 < argc)
			v = argv[++i];
		if (!v) {
			out[n++] = argv[i];
			continue;
		}
		if (append(&acc, v) < 0)
			goto oom;
		if (first < 0)
			first = n++; /* placeholder for the merged option */
	}
	for (; i < argc; i++)
		out[n++] = argv[i];
	if (first >= 0) {
		if (asprintf(merged, "--input=%s", acc) < 0)
			goto oom;
		out[first] = *merged;
	}
	free(acc);
	out[n] = NULL;
	*new_argc = n;
	*new_argv = out;
	return 0;
oom:
	free(acc);
	free(out);
	*merged = NULL;
	return -1;
}
