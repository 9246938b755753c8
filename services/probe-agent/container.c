/*
 * container.c — cgroup path -> container id / runtime / pod UID (formats in
 * container.h).
 *
 * The path is split on '/', and each component is matched from the
 * innermost outwards: a known runtime prefix ("docker-", "cri-containerd-",
 * "crio-", "libpod-") followed by 64 hex digits and an optional ".scope",
 * or a bare 64-hex component (cgroupfs drivers, whose runtime is then
 * named by the innermost parent that says: "docker", "kubepods" (->
 * containerd), "crio", "libpod").
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "container.h"

typedef struct prefix {
	const char *text;
	const char *runtime;
} prefix_t;

static const prefix_t prefixes[] = {
    {"docker-", "docker"}, {"cri-containerd-", "containerd"}, {"crio-", "cri-o"}, {"libpod-", "podman"}};

static int is_hex64(const char *s, size_t n)
{
	if (n < TB_PA_CONTAINER_ID_LEN)
		return 0;
	for (size_t i = 0; i < TB_PA_CONTAINER_ID_LEN; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Does component c (length n) hold an id? Sets *runtime (NULL = bare id). */
static int component_id(const char *c, size_t n, const char **id, const char **runtime)
{
	size_t rest;

	*runtime = NULL;
	if (n >= 12 && strncmp(c, "crio-conmon-", 12) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i].text);

		if (n <= pl || strncmp(c, prefixes[i].text, pl) != 0)
			continue;
		rest = n - pl;
		if (is_hex64(c + pl, rest) &&
		    (rest == TB_PA_CONTAINER_ID_LEN ||
		     (rest == TB_PA_CONTAINER_ID_LEN + 6 && strncmp(c + pl + 64, ".scope", 6) == 0))) {
			*id = c + pl;
			*runtime = prefixes[i].runtime;
			return 1;
		}
	}
	if (n == TB_PA_CONTAINER_ID_LEN && is_hex64(c, n)) {
		*id = c;
		return 1;
	}
	return 0;
}

/* A "pod<uid>" or "kubepods-<qos>-pod<uid>.slice" component. */
static void pod_from_component(const char *c, size_t n, char *out)
{
	const char *p = NULL;
	size_t len;

	for (size_t i = 0; i + 3 < n; i++)
		if (strncmp(c + i, "pod", 3) == 0 && (i == 0 || c[i - 1] == '-'))
			p = c + i + 3;
	if (!p)
		return;
	len = (size_t)(c + n - p);
	if (len > 6 && strncmp(c + n - 6, ".slice", 6) == 0)
		len -= 6;
	if (len != 36)
		return;
	for (size_t i = 0; i < len; i++) {
		char ch = p[i] == '_' ? '-' : p[i];

		if (!isxdigit((unsigned char)ch) && ch != '-')
			return;
		out[i] = ch;
	}
	out[len] = '\0';
}

/* Last occurrence of needle in path[0, upto), or -1. */
static long last_at(const char *path, size_t upto, const char *needle)
{
	long best = -1;

	for (const char *p = strstr(path, needle); p && (size_t)(p - path) < upto; p = strstr(p + 1, needle))
		best = p - path;
	return best;
}

/* A bare id: the runtime named by the innermost parent that names one. */
static const char *guess_runtime(const char *path, size_t upto)
{
	static const struct {
		const char *marker, *runtime;
	} m[] = {{"crio", "cri-o"}, {"docker", "docker"}, {"kubepods", "containerd"}, {"libpod", "podman"}};
	const char *rt = "unknown";
	long best = -1;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		long at = last_at(path, upto, m[i].marker);

		if (at > best) {
			best = at;
			rt = m[i].runtime;
		}
	}
	return rt;
}

int tb_pa_container_from_path(const char *path, tb_pa_container_t *out)
{
	const char *end = path + strlen(path), *c, *id = NULL, *rt = NULL;
	int found = 0;

	memset(out, 0, sizeof(*out));
	while (end > path) {
		const char *start = end;
		size_t n;

		while (start > path && start[-1] != '/')
			start--;
		n = (size_t)(end - start);
		c = start;
		if (!found && n > 0 && component_id(c, n, &id, &rt)) {
			memcpy(out->id, id, TB_PA_CONTAINER_ID_LEN);
			out->id[TB_PA_CONTAINER_ID_LEN] = '\0';
			out->runtime = rt ? rt : guess_runtime(path, (size_t)(c - path));
			found = 1;
		}
		if (!out->pod_uid[0])
			pod_from_component(c, n, out->pod_uid);
		end = start > path ? start - 1 : path;
	}
	return found;
}

static int from_line(const char *line, size_t len, tb_pa_container_t *out, char *v2_path, size_t cap)
{
	const char *c1 = memchr(line, ':', len), *c2;
	char path[4096];
	size_t plen;

	if (!c1)
		return 0;
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
	if (!c2)
		return 0;
	plen = len - (size_t)(c2 + 1 - line);
	if (plen >= sizeof(path))
		return 0;
	memcpy(path, c2 + 1, plen);
	path[plen] = '\0';
	if (v2_path && c1 - line == 1 && line[0] == '0' && c2 == c1 + 1)
		snprintf(v2_path, cap, "%s", path);
	return tb_pa_container_from_path(path, out);
}

int tb_pa_container_from_proc(const char *text, tb_pa_container_t *out, char *v2_path, size_t cap)
{
	const char *p = text, *unified = strstr(text, "0::");
	tb_pa_container_t pod = {0};

	if (v2_path && cap)
		v2_path[0] = '\0';
	if (unified && (unified == text || unified[-1] == '\n')) {
		const char *nl = strchr(unified, '\n');

		if (from_line(unified, nl ? (size_t)(nl - unified) : strlen(unified), out, v2_path, cap))
			return 1;
		pod = *out;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (from_line(p, len, out, NULL, 0))
			return 1;
		if (!pod.pod_uid[0])
			pod = *out;
		p += len + (nl ? 1 : 0);
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->pod_uid, pod.pod_uid, sizeof(out->pod_uid));
	return 0;
}
