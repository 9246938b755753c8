# bench/lib.sh — helpers of bench/run.sh (source it after tests/lib/stack.sh).
#
# Figures: bench_figure NAME MEASURED UNIT TARGET CEILING RATIO appends one
# row to $BENCH_FIGURES; bench_table prints them as one Markdown table.
# Rates: bench_rate_until PORT SERVICE METRIC BASE N SECS measures how fast a
# counter of a service's /metrics grows from its first move after BASE until
# it reaches BASE + N (the service is "caught up"), polled every 100 ms.

BENCH_FIGURES=${BENCH_FIGURES:-$TB_TMP/figures.tsv}
: >"$BENCH_FIGURES"

bench_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

bench_now() { date +%s.%N; }

# bench_calc EXPR: awk arithmetic, printed with up to 6 significant digits.
bench_calc() { awk "BEGIN { v = $1; if (v == int(v)) printf \"%d\", v; else printf \"%.6g\", v }"; }

bench_figure() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_FIGURES"; }

bench_table() {
  printf '| figure | measured | target | ceiling | ratio |\n|---|---|---|---|---|\n'
  awk -F'\t' '{ printf "| %s | %s %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$BENCH_FIGURES"
}

# bench_metric PORT NAME: the value of metric NAME (full name, no labels) or 0.
bench_metric() {
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }'
}

# bench_metric_sum PORT PREFIX: sum of every series whose name (before labels) is PREFIX.
bench_metric_sum() {
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk -v n="$2" '{ name = $1; sub(/\{.*/, "", name) } name == n { s += $2 } END { print s + 0 }'
}

# bench_rate_until PORT METRIC BASE N SECS [sum]: prints "RATE SECONDS" (events/s
# between the first move of METRIC past BASE and the moment it reached
# BASE + N); returns 1 (printing "0 0") when it did not get there in SECS.
bench_rate_until() {
  local port=$1 metric=$2 base=$3 n=$4 secs=$5 how=${6:-one} v t t0="" v0="" deadline
  deadline=$((SECONDS + secs))
  while [ $SECONDS -le $deadline ]; do
    t=$(bench_now)
    if [ "$how" = sum ]; then v=$(bench_metric_sum "$port" "$metric"); else v=$(bench_metric "$port" "$metric"); fi
    if [ -z "$t0" ] && awk -v v="$v" -v b="$base" 'BEGIN { exit !(v > b) }'; then
      t0=$t v0=$v
    fi
    if awk -v v="$v" -v b="$base" -v n="$n" 'BEGIN { exit !(v >= b + n) }'; then
      # The counter moved from v0 (seen at t0) to v: the messages in between
      # were handled in t - t0. (The first poll's batch is not counted: its
      # messages were taken before t0.)
      awk -v v="$v" -v v0="$v0" -v t="$t" -v t0="$t0" \
        'BEGIN { d = t - t0; if (d <= 0 || v <= v0) print "0 0"; else printf "%.0f %.2f\n", (v - v0) / d, d }'
      return 0
    fi
    sleep 0.1
  done
  echo "0 0"
  return 1
}

# bench_cpu_us PID N: CPU time (user + system, all threads) PID used so far, in µs per
# event for N events. On a shared machine the rates follow whatever else runs (the dev
# broker on the other CPU, other engineers' jobs); the CPU a stage spends per event
# does not, so both are printed.
bench_cpu_us() {
  [ -r "/proc/$1/stat" ] || { echo "-"; return; }
  awk -v t="$(bench_cpu_ticks "$1")" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }'
}

# bench_cpu_ticks PID...: the summed user + system clock ticks of the PIDs so far.
bench_cpu_ticks() {
  local p t=0 v
  for p in "$@"; do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# bench_pin CPUS PID: move every thread of PID (and its future children) to CPUS.
bench_pin() { taskset -a -pc "$1" "$2" >/dev/null; }

# bench_service NAME CPUS [ARGS...]: start tb-NAME like tb_service_start, pinned
# to CPUS with taskset ("-": not pinned).
bench_service() {
  local name=$1 cpus=$2 pre=()
  shift 2
  [ "$cpus" != - ] && pre=(taskset -c "$cpus")
  rm -f "$TB_TMP/$name.port"
  # shellcheck disable=SC2046
  tb_start "$name" "${pre[@]}" "$TB_BIN/tb-$name" --brokers "$TB_BROKERS" --admin-addr 127.0.0.1:0 \
    --admin-port-file "$TB_TMP/$name.port" $(tb_service_args "$name") "$@" >/dev/null
  printf -v "TB_SVC_PID_${name//-/_}" '%s' "$TB_LAST_PID"
}

bench_port() { cat "$TB_TMP/$1.port"; }

# bench_watermarks TOPIC: "LOW_SUM HIGH_SUM" over the topic's partitions (a
# low watermark above 0 means the dev broker's ~5 MiB/partition cap dropped
# messages from the head of the log).
bench_watermarks() {
  "$TB_BIN/tb-kafka" -b "$TB_BROKERS" metadata -t "$1" --watermarks 2>/dev/null |
    awk '{ lo += $3; hi += $4 } END { print lo + 0, hi + 0 }'
}

# bench_wrk NAME URL: wrk's latency distribution of URL -> "P50_MS P99_MS RPS".
bench_wrk() {
  local out="$TB_TMP/wrk.$1.txt"
  wrk -t"${BENCH_WRK_THREADS:-2}" -c"${BENCH_WRK_CONNS:-2}" -d"${BENCH_WRK_SECS:-10}s" --timeout 30s --latency "$2" \
    >"$out" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%.3f %.3f %.0f %d\n", p50, p99, rps, bad + 0 }' "$out"
}
