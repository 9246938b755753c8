# tests/data/probe/probe-lib.sh — helpers for tests/integration/07x-probe-*.sh
# (source after tests/lib/harness.sh).
#
#   tb_probe_require_bpf NAME...   run `tb-probe-agent --check`; when the kernel
#                                  refuses BPF, print "ok - NAME # SKIP <the
#                                  kernel's reason>" for every NAME and exit 0
#   tb_probe_build                 build the workloads (build.sh) into $TB_PROBE_DIR
#   tb_probe_agent NAME ARGS...    start tb-probe-agent (log $TB_TMP/NAME.log,
#                                  stdout $TB_TMP/NAME.out, admin port file
#                                  $TB_TMP/NAME.port); PID in $TB_LAST_PID
#   tb_probe_ready NAME PID        poll its /readyz (60 s); prints its log on failure
#   tb_probe_build_id FILE         GNU build-id as readelf prints it
#   tb_probe_ranges FILE           JSON {"function": [start, end)} in file offsets
#                                  for main and the tb_* functions (objdump -F, nm -S)
#   tb_probe_cgroup                create a cgroup v2 directory $TB_PROBE_CG for the
#                                  test's processes (removed at exit, after stopping
#                                  what runs in it: only our own processes)
#   tb_probe_in_cgroup [--dir D] CMD...
#                                  run CMD in the background inside $TB_PROBE_CG (or
#                                  the cgroup directory D below it); PID in $TB_LAST_PID
#   tb_probe_hottest OUT PID BID RANGES
#                                  from a --dry-run-format json output: the hottest
#                                  5-frame user chain of PID by symbol and by
#                                  build-id + offset (offsets of build-id BID mapped
#                                  to functions with RANGES), and the sample total:
#                                  {"sym": {"k","c"}, "off": {"k","c"}, "total"}

TB_PROBE_DIR="$TB_TMP/probe"
TB_PROBE_SRC="$TB_ROOT/tests/data/probe"

tb_probe_require_bpf() {
  local out rc
  out=$("$TB_BIN/tb-probe-agent" --check --admin-addr 127.0.0.1:0 2>"$TB_TMP/check.log")
  rc=$?
  if [ $rc -eq 0 ]; then
    tb_diag "$out"
    return 0
  fi
  if [ $rc -eq 4 ]; then
    local reason
    reason=$(printf '%s %s' "$out" "$(grep -v '"level":"info"' "$TB_TMP/check.log" | head -3)" | tr '\n' ' ')
    for name in "$@"; do tb_skip "$name" "kernel refused BPF: $reason"; done
    exit 0
  fi
  tb_fail "tb-probe-agent --check (exit $rc)"
  tb_diag "$out"; sed 's/^/#   /' "$TB_TMP/check.log" | tail -20
  exit 1
}

tb_probe_build() {
  if ! bash "$TB_PROBE_SRC/build.sh" "$TB_PROBE_DIR" >"$TB_TMP/build.log" 2>&1; then
    tb_fail "build the probe workloads"
    sed 's/^/#   /' "$TB_TMP/build.log" | tail -20
    return 1
  fi
}

tb_probe_agent() {
  local name=$1; shift
  rm -f "$TB_TMP/$name.port"
  "$TB_BIN/tb-probe-agent" --admin-addr 127.0.0.1:0 --admin-port-file "$TB_TMP/$name.port" "$@" \
    >"$TB_TMP/$name.out" 2>>"$TB_TMP/$name.log" &
  TB_LAST_PID=$!
  TB_PIDS+=("$TB_LAST_PID")
}

tb_probe_ready() {
  local name=$1 pid=$2 deadline=$((SECONDS + 60))
  while [ $SECONDS -le $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tb_diag "tb-probe-agent ($name) exited; its log:"; tail -20 "$TB_TMP/$name.log" | sed 's/^/#   /'
      return 1
    fi
    if [ -s "$TB_TMP/$name.port" ] &&
       [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$TB_TMP/$name.port")/readyz")" = 200 ]; then
      return 0
    fi
    sleep 0.1
  done
  tb_diag "tb-probe-agent ($name) not ready after 60 s; its log:"; tail -20 "$TB_TMP/$name.log" | sed 's/^/#   /'
  return 1
}

tb_probe_build_id() {
  readelf -n "$1" 2>/dev/null | sed -n 's/.*Build ID: *//p' | head -1
}

tb_probe_ranges() {
  local file=$1 name fo size json='{}'
  while read -r name fo size; do
    json=$(jq -c --arg n "$name" --argjson s "$((16#$fo))" --argjson z "$((16#$size))" \
      '. + {($n): [$s, ($s + $z)]}' <<<"$json")
  done < <(LC_ALL=C join <(objdump -d -F --no-show-raw-insn "$file" |
                  sed -n 's/^[0-9a-f]* <\(main\|tb_[a-z_]*\)> (File Offset: 0x\([0-9a-f]*\)):$/\1 \2/p' | LC_ALL=C sort) \
                <(nm -S --defined-only "$file" | awk '$4 ~ /^(main|tb_[a-z_]+)$/ {print $4, $2}' | LC_ALL=C sort))
  echo "$json"
}

tb_probe_cgroup() {
  local root
  for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [ -f "$root/cgroup.controllers" ] && break
  done
  [ -f "$root/cgroup.controllers" ] || { tb_diag "no cgroup v2 hierarchy mounted"; return 1; }
  TB_PROBE_CG="$root/tb-probe-test.$$"
  mkdir "$TB_PROBE_CG" || return 1
  tb_on_exit "tb_probe_cgroup_remove"
}

# Deepest directories first; what still runs in them is ours (started by
# tb_probe_in_cgroup), stopped by PID.
tb_probe_cgroup_remove() {
  local dir pid
  while read -r dir; do
    for pid in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 1 50); do [ -s "$dir/cgroup.procs" ] || break; sleep 0.1; done
    rmdir "$dir"
  done < <(find "$TB_PROBE_CG" -depth -type d)
}

# tb_probe_in_cgroup [--dir DIR] CMD...: DIR defaults to $TB_PROBE_CG.
tb_probe_in_cgroup() {
  local dir=$TB_PROBE_CG
  if [ "$1" = --dir ]; then dir=$2; shift 2; fi
  bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@" &
  TB_LAST_PID=$!
  TB_PIDS+=("$TB_LAST_PID")
}

tb_probe_hottest() {
  jq -s -c --argjson pid "$2" --arg bid "$3" --argjson r "$4" '
    def fname($o): ([$r | to_entries[] | select(.value[0] <= $o and $o < .value[1]) | .key] | first) // "?";
    [.[].samples[] | select(.pid == $pid) |
      {sym: ([.user_frames[0:5][] | .symbol // "?"] | join(";")),
       off: ([.user_frames[0:5][] | if .build_id == $bid then fname(.file_offset) else "other" end] | join(";")),
       c: .count}]
    | {sym: (group_by(.sym) | map({k: .[0].sym, c: (map(.c) | add)}) | max_by(.c)),
       off: (group_by(.off) | map({k: .[0].off, c: (map(.c) | add)}) | max_by(.c)),
       total: (map(.c) | add // 0)}' "$1"
}
