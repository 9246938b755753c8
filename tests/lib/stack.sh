# tests/lib/stack.sh — the whole pipeline for end-to-end tests (source it after
# harness.sh; it sources broker.sh and pg.sh itself).
#
#   tb_stack_start [--no-api]
#       Starts the dev broker, a private PostgreSQL (migrated), and every
#       service as a separate process: adapter (Kafka input), canonicalizer,
#       correlator, aggregator, timeline-api. Each service gets a free admin
#       port (written to $TB_TMP/NAME.port) and must answer /readyz 200 within
#       60 s. Exports TB_API (http://127.0.0.1:PORT) and TB_SYMBOL_DIR.
#       Extra per-service flags: TB_STACK_ARGS_<NAME> (e.g. TB_STACK_ARGS_canonicalizer).
#   tb_service_start NAME [ARGS...]     start (or restart) one service; sets TB_SVC_PID_<NAME>
#   tb_service_kill NAME [SIGNAL]       stop one service (default SIGKILL)
#   tb_service_ready NAME               poll its /readyz until 200 (60 s)
#   tb_api_get PATH, tb_api_post PATH FILE [CONTENT_TYPE]: curl helpers that
#       print the body and set TB_HTTP_STATUS.
#   tb_wait_rows SQL N [SECONDS]        poll until the query's single value >= N

. "$TB_ROOT/tests/lib/broker.sh"
. "$TB_ROOT/tests/lib/pg.sh"

TB_SERVICES_ALL="adapter canonicalizer correlator aggregator timeline-api"

tb_service_args() {
  case "$1" in
    adapter) echo "--input kafka" ;;
    canonicalizer) echo "--symbol-dir $TB_SYMBOL_DIR --hash-key-file $TB_TMP/hash.key" ;;
    correlator) echo "" ;;
    aggregator) echo "--pg $TB_PG_URL" ;;
    timeline-api) echo "--pg $TB_PG_URL --listen 127.0.0.1:$TB_API_PORT" ;;
  esac
}

tb_service_start() {
  local name=$1; shift
  local var="TB_STACK_ARGS_${name//-/_}"
  local port_file="$TB_TMP/$name.port"
  rm -f "$port_file"
  # shellcheck disable=SC2046
  tb_start "$name" "$TB_BIN/tb-$name" --brokers "$TB_BROKERS" --admin-addr 127.0.0.1:0 \
    --admin-port-file "$port_file" $(tb_service_args "$name") ${!var:-} "$@" >/dev/null
  printf -v "TB_SVC_PID_${name//-/_}" '%s' "${TB_PIDS[${#TB_PIDS[@]}-1]}"
}

tb_service_pid() { local v="TB_SVC_PID_${1//-/_}"; echo "${!v:-}"; }

tb_service_kill() {
  local pid; pid=$(tb_service_pid "$1")
  [ -n "$pid" ] && tb_stop "$pid" "${2:-KILL}"
}

tb_service_ready() {
  local name=$1 port_file="$TB_TMP/$1.port" deadline=$((SECONDS + ${2:-60})) pid
  pid=$(tb_service_pid "$name")
  while [ $SECONDS -le $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tb_diag "tb-$name exited; its log:"; tail -20 "$TB_TMP/$name.log" | sed 's/^/#   /'
      return 1
    fi
    if [ -s "$port_file" ] &&
       [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$port_file")/readyz")" = 200 ]; then
      return 0
    fi
    sleep 0.2
  done
  tb_diag "tb-$name not ready after ${2:-60}s; its log:"; tail -20 "$TB_TMP/$name.log" | sed 's/^/#   /'
  return 1
}

tb_stack_start() {
  local with_api=1 s
  [ "${1:-}" = --no-api ] && with_api=0
  TB_SYMBOL_DIR=${TB_SYMBOL_DIR:-$TB_TMP/symbols}
  mkdir -p "$TB_SYMBOL_DIR"
  head -c 32 /dev/urandom >"$TB_TMP/hash.key"
  tb_broker_start || return 1
  tb_pg_start || return 1
  tb_pg_migrate || return 1
  TB_API_PORT=$(tb_free_port)
  TB_API="http://127.0.0.1:$TB_API_PORT"
  export TB_API TB_API_PORT TB_SYMBOL_DIR
  for s in $TB_SERVICES_ALL; do
    [ "$s" = timeline-api ] && [ $with_api = 0 ] && continue
    tb_service_start "$s"
  done
  for s in $TB_SERVICES_ALL; do
    [ "$s" = timeline-api ] && [ $with_api = 0 ] && continue
    tb_service_ready "$s" || return 1
  done
}

tb_api_get() {
  local out="$TB_TMP/http.body"
  TB_HTTP_STATUS=$(curl -s -o "$out" -w '%{http_code}' ${TB_API_TOKEN:+-H "Authorization: Bearer $TB_API_TOKEN"} "$TB_API$1")
  cat "$out"
}

tb_api_post() {
  local out="$TB_TMP/http.body"
  TB_HTTP_STATUS=$(curl -s -o "$out" -w '%{http_code}' -X POST -H "Content-Type: ${3:-application/json}" \
    ${TB_API_TOKEN:+-H "Authorization: Bearer $TB_API_TOKEN"} --data-binary "@$2" "$TB_API$1")
  cat "$out"
}

tb_wait_rows() {
  local sql=$1 want=$2 secs=${3:-60} got=""
  local deadline=$((SECONDS + secs))
  while [ $SECONDS -le $deadline ]; do
    got=$(tb_psql -Atc "$sql" 2>/dev/null | head -1)
    [ -n "$got" ] && [ "$got" -ge "$want" ] 2>/dev/null && return 0
    sleep 0.2
  done
  tb_diag "waited ${secs}s for [$sql] >= $want, last value: ${got:-none}"
  return 1
}
