/*
 * container.h — container attribution from a process's cgroup path.
 *
 * Container runtimes name the cgroup of a container after its id; the
 * formats differ by runtime and cgroup driver:
 *   docker      /docker/<id>                 (cgroupfs)
 *               /system.slice/docker-<id>.scope          (systemd)
 *   containerd  /kubepods/burstable/pod<uid>/<id>        (cgroupfs)
 *               /kubepods.slice/.../cri-containerd-<id>.scope (systemd)
 *               /<namespace>/<id>                        (plain ctr)
 *   cri-o       /kubepods.slice/.../crio-<id>.scope (crio-conmon-<id> is the
 *               monitor process, not the container)
 *   podman      /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>
 * where <id> is 64 lowercase hex digits. The innermost component that holds
 * an id wins (nested runtimes: the inner container). Kubernetes pod UIDs come
 * from a "pod<uid>" component (systemd writes the uid's '-' as '_').
 */
#ifndef TB_PA_CONTAINER_H
#define TB_PA_CONTAINER_H

#include <stddef.h>

#define TB_PA_CONTAINER_ID_LEN 64

typedef struct tb_pa_container {
	char id[TB_PA_CONTAINER_ID_LEN + 1]; /* "" when not in a container */
	const char *runtime; /* "docker", "containerd", "cri-o", "podman", "unknown"; NULL if no id */
	char pod_uid[37];    /* Kubernetes pod UID, "" if none */
} tb_pa_container_t;

/* Attribute one cgroup path. Returns 1 when it names a container (out
 * filled), 0 otherwise (out cleared; pod_uid may still be set). */
int tb_pa_container_from_path(const char *cgroup_path, tb_pa_container_t *out);

/* Attribute a /proc/PID/cgroup text ("ID:CONTROLLERS:PATH" lines): the
 * unified ("0::") line is tried first, then the others in order. The
 * unified path is copied to v2_path (may be NULL) for the cgroup id. */
int tb_pa_container_from_proc(const char *text, tb_pa_container_t *out, char *v2_path, size_t cap);

#endif
