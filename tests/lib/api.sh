# tests/lib/api.sh — helpers for the timeline-api integration tests (source it
# after harness.sh).
#
#   tb_api_start NAME [ARGS...]
#       Starts tb-timeline-api through tb_start (stopped by PID at exit) on an
#       ephemeral loopback port with --port-file, waits up to 30 s for the
#       port and for /healthz, and exports TB_API (http://127.0.0.1:PORT) and
#       TB_API_PID. Returns 1 (after printing the log) when it did not come up.
#   tb_http METHOD PATH [CURL ARGS...]
#       One request to $TB_API; the body goes to $TB_TMP/resp, the status
#       code is printed (000 when the connection failed).
#   tb_resp
#       The last response body.

tb_api_start() {
  local name=$1; shift
  local pf="$TB_TMP/$name.port"
  rm -f "$pf"
  tb_start "$name" "$TB_BIN/tb-timeline-api" --listen 127.0.0.1:0 --port-file "$pf" "$@" >/dev/null
  TB_API_PID=${TB_PIDS[${#TB_PIDS[@]}-1]}
  local deadline=$((SECONDS + 30))
  while [ ! -s "$pf" ]; do
    if ! kill -0 "$TB_API_PID" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      tb_diag "tb-timeline-api ($name) did not publish its port; its log:"
      sed 's/^/#   /' "$TB_TMP/$name.log" 2>/dev/null | tail -20
      return 1
    fi
    sleep 0.1
  done
  TB_API="http://127.0.0.1:$(cat "$pf")"
  export TB_API TB_API_PID
  tb_wait_for 30 curl -sf "$TB_API/healthz"
}

tb_http() {
  local method=$1 path=$2; shift 2
  curl -s -o "$TB_TMP/resp" -w '%{http_code}' -X "$method" "$@" "$TB_API$path" || true
}

tb_resp() {
  cat "$TB_TMP/resp"
}
