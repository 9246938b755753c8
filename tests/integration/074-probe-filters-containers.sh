#!/usr/bin/env bash
# 074: filters and container attribution. Workloads run side by side:
# with --pid only that process is sampled; with --cgroup only the processes
# of that cgroup (and below it). Two processes run in cgroups named as
# docker (systemd driver: docker-<id>.scope) and containerd under
# Kubernetes (kubepods-...-pod<uid>.slice/cri-containerd-<id>.scope) name
# them: the process table must carry each one's container id, and
# --container <prefix> must keep only that container's samples.
. "$(dirname "$0")/../lib/harness.sh"
. "$TB_ROOT/tests/data/probe/probe-lib.sh"

tb_probe_require_bpf "--pid keeps one process" "--cgroup keeps the cgroup's processes" \
  "docker container id" "containerd container id" "--container keeps one container" "host process has no container"
tb_probe_build || tb_finish
tb_probe_cgroup || { tb_fail "cgroup for the workloads"; tb_finish; }
DOCKER_ID=$(printf 'tb-docker' | sha256sum | cut -d' ' -f1)
CRI_ID=$(printf 'tb-containerd' | sha256sum | cut -d' ' -f1)
POD_UID=3f1c2a8e-1b7d-4c2e-9a55-0e6f2d9b7c11
docker_cg="$TB_PROBE_CG/system.slice/docker-$DOCKER_ID.scope"
cri_cg="$TB_PROBE_CG/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID//-/_}.slice/cri-containerd-$CRI_ID.scope"
mkdir -p "$docker_cg" "$cri_cg"

pids_sampled() { jq -s -c '[.[].samples[].pid] | unique' "$1"; }

# Host-side workloads: one outside any test cgroup, one in the test cgroup.
"$TB_PROBE_DIR/work-pie" spin 30 >/dev/null & outside=$!; TB_PIDS+=("$outside")
tb_probe_in_cgroup "$TB_PROBE_DIR/work-nopie" spin 30; inside=$TB_LAST_PID
tb_probe_in_cgroup --dir "$docker_cg" "$TB_PROBE_DIR/work-lld" spin 30; in_docker=$TB_LAST_PID
tb_probe_in_cgroup --dir "$cri_cg" "$TB_PROBE_DIR/work-cpp" 30; in_cri=$TB_LAST_PID
sleep 0.3

tb_probe_agent by-pid --dry-run --dry-run-format json --pid "$outside" --flush-interval 1s --duration 2s
wait "$TB_LAST_PID"
tb_check "--pid keeps one process" "[$outside]" "$(pids_sampled "$TB_TMP/by-pid.out")"

tb_probe_agent by-cgroup --dry-run --dry-run-format json --cgroup "$TB_PROBE_CG" --flush-interval 1s --duration 2s
wait "$TB_LAST_PID"
want=$(printf '%s\n' "$inside" "$in_docker" "$in_cri" | sort -n | paste -sd, -)
tb_check "--cgroup keeps the cgroup's processes" "[$want]" "$(pids_sampled "$TB_TMP/by-cgroup.out")"

cid() { jq -s -r --argjson p "$2" '[.[].processes[] | select(.pid == $p) | .container_id] | unique | map(tostring) | join(",")' "$1"; }
tb_check "docker container id" "$DOCKER_ID" "$(cid "$TB_TMP/by-cgroup.out" "$in_docker")"
tb_check "containerd container id" "$CRI_ID" "$(cid "$TB_TMP/by-cgroup.out" "$in_cri")"
tb_check "host process has no container" "null" "$(cid "$TB_TMP/by-cgroup.out" "$inside")"

tb_probe_agent by-container --dry-run --dry-run-format json --container "${CRI_ID:0:12}" --flush-interval 1s --duration 2s
wait "$TB_LAST_PID"
tb_check "--container keeps one container" "[$in_cri]" "$(pids_sampled "$TB_TMP/by-container.out")"
tb_finish
