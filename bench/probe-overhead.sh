#!/usr/bin/env bash
# bench/probe-overhead.sh — the probe-agent's CPU overhead at 99 Hz and 999 Hz,
# as a ratio against the same workload without the agent, in one run.
#
#   BUILD=build bench/probe-overhead.sh [SECONDS_PER_RUN (10)] [ROUNDS (5)]
#
# Workload: one CPU-bound `work loop` (tests/data/probe/work.c, frame pointers)
# per CPU, so every CPU is busy and every sample lands in a real stack; each
# prints its iterations per second. Configurations per round, interleaved so
# that drifts of the machine hit all of them alike: baseline (no agent), agent
# at 99 Hz, agent at 999 Hz. The agent samples every CPU and every process
# (no filter) with its defaults (100 ms drain, 5 s flush, exec/mmap tracking,
# symbolization, folding) and prints folded stacks to /dev/null (--dry-run),
# so Kafka costs are not in the figure.
# Reported per configuration (medians over rounds):
#   it/s         summed iterations per second (wall) of the workload
#   ratio        it/s / baseline it/s (1.000 = no overhead): everything the
#                agent costs, timer interrupts, the BPF program in the sampled
#                context and the agent process, plus the VM's noise
#   it/cpu-s     iterations per second of the workload's own CPU time, and
#   cpu ratio    its ratio to the baseline: the cost the workload pays inside
#                its own time (interrupts, BPF), immune to hypervisor steal
#   agent CPU    user+system time of the agent process, % of one CPU
#   agent RSS    peak resident set of the agent (VmHWM), largest over rounds,
#                and its resident set at the end of the run (VmRSS) after the slash
#   overhead     CPU the agent costs per unit of work: (1 / cpu ratio - 1) +
#                agent CPU spread over the workload's CPUs. The headline
#                figure: wall-clock ratios swing by tens of percent in a VM
#                whose neighbours (or other test runs) take CPU, the
#                CPU-time based figures do not.
# Needs root (BPF). Not part of tests/run.sh: it measures, it does not assert.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-10}
ROUNDS=${2:-5}
AGENT="$BUILD/bin/tb-probe-agent"
NCPU=$(nproc)
TMP=$(mktemp -d /tmp/tb-bench-probe.XXXXXX)
agent_pid=""
work_pids=()

cleanup() {
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  for p in "${work_pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$AGENT" ] || { echo "probe-overhead: $AGENT not built (make BUILD=$BUILD bins)" >&2; exit 2; }
bash tests/data/probe/build.sh "$TMP/w" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; exit 1; }
if ! check=$("$AGENT" --check --admin-addr 127.0.0.1:0 2>&1); then
  echo "probe-overhead: the agent cannot run here: $check" >&2
  exit 4
fi

# cpu_ns PID: the time the process (all its threads) ran on a CPU, in ns
# (/proc/PID/schedstat, summed over /proc/PID/task/*/schedstat). Not
# utime + stime from /proc/PID/stat: those count clock ticks (10 ms here),
# and an agent at 99 Hz runs ~10 ms in a 5 s round, so it read 0 or 0.2 %.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }

# run_once FREQ|none -> "THROUGHPUT PER_CPU_S AGENT_CPU_PERCENT"
run_once() {
  local freq=$1 t0 t1 c0 c1 total=0 percpu=0 out i
  agent_pid=""
  if [ "$freq" != none ]; then
    "$AGENT" --dry-run --frequency "$freq" --admin-addr 127.0.0.1:0 >/dev/null 2>"$TMP/agent.log" &
    agent_pid=$!
    for _ in $(seq 1 100); do grep -q '"msg":"ready"' "$TMP/agent.log" && break; sleep 0.1; done
    sleep 1 # let the initial scan and start-up settle before measuring
    c0=$(cpu_ns "$agent_pid"); t0=$(date +%s.%N)
  fi
  work_pids=()
  for i in $(seq 1 "$NCPU"); do
    "$TMP/w/work-pie" loop "$SECS" >"$TMP/work.$i" &
    work_pids+=($!)
  done
  for p in "${work_pids[@]}"; do wait "$p"; done
  work_pids=()
  for i in $(seq 1 "$NCPU"); do
    total=$(awk -v a="$total" '{ printf "%.3f", a + $1 }' "$TMP/work.$i")
    percpu=$(awk -v a="$percpu" '{ printf "%.3f", a + $3 }' "$TMP/work.$i")
  done
  if [ -n "$agent_pid" ]; then
    c1=$(cpu_ns "$agent_pid"); t1=$(date +%s.%N)
    awk '/^VmHWM:/ { print $2 }' "/proc/$agent_pid/status" >>"$TMP/rss.$freq"
    awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status" >>"$TMP/rssnow.$freq"
    kill -TERM "$agent_pid"; wait "$agent_pid" 2>/dev/null; agent_pid=""
    echo "$total $percpu $(awk -v c="$((c1 - c0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", 100 * c / 1e9 / (b - a) }')"
  else
    echo "$total $percpu -"
  fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "probe-overhead: $NCPU CPUs, $ROUNDS rounds of $SECS s per configuration, workload: $NCPU x work loop"
for r in $(seq 1 "$ROUNDS"); do
  for f in none 99 999; do
    read -r thr pc cpu < <(run_once "$f")
    echo "$thr" >>"$TMP/thr.$f"
    echo "$pc" >>"$TMP/pc.$f"
    [ "$cpu" != - ] && echo "$cpu" >>"$TMP/cpu.$f"
    printf '  round %d %-5s %10s it/s %10s it/cpu-s  agent CPU %s%%\n' "$r" "$f" "$thr" "$pc" "$cpu" >&2
  done
done

base=$(median <"$TMP/thr.none")
pbase=$(median <"$TMP/pc.none")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
printf '\n%-10s %12s %8s %12s %10s %10s %10s %16s\n' config "it/s" ratio "it/cpu-s" "cpu ratio" "agent CPU" overhead "agent RSS peak/end"
printf '%-10s %12s %8s %12s %10s %10s %10s %10s\n' baseline "$base" "1.0000" "$pbase" "1.0000" "-" "-" "-"
for f in 99 999; do
  thr=$(median <"$TMP/thr.$f")
  pc=$(median <"$TMP/pc.$f")
  cpu=$(median <"$TMP/cpu.$f")
  ov=$(awk -v p="$pc" -v b="$pbase" -v c="$cpu" -v n="$NCPU" 'BEGIN { printf "%.2f", 100 * (b / p - 1) + c / n }')
  rss=$(sort -n "$TMP/rss.$f" | tail -1 | awk '{ printf "%.1fMB", $1 / 1024 }')/$(sort -n "$TMP/rssnow.$f" | tail -1 | awk '{ printf "%.1fMB", $1 / 1024 }')
  printf '%-10s %12s %8s %12s %10s %9s%% %9s%% %10s\n' "$f Hz" "$thr" "$(ratio "$thr" "$base")" "$pc" "$(ratio "$pc" "$pbase")" "$cpu" "$ov" "$rss"
done
