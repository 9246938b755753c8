# tests/lib/broker.sh — the dev Kafka broker for integration tests (source it
# after harness.sh).
#
#   tb_broker_start [NBROKERS] [--partitions TOPIC=N ...]
#       Starts tb-devbroker through tb_start (so the harness stops it by PID,
#       even on failure), waits up to 30 s for its bootstrap file and exports
#       TB_BROKERS (bootstrap address), TB_BROKER_CONTROL (fault-injection
#       address) and TB_BROKER_PID. All pipeline topics exist with their
#       partition counts; --partitions adds or resizes topics. Returns 1 (after
#       printing the broker log as diagnostics) when the broker did not come up.
#       Also exports TB_KAFKA_SESSION_TIMEOUT_MS=6000 unless already set: the
#       mock cluster's rebalances take session.timeout.ms - 1 s, and services
#       and tb-kafka read TB_KAFKA_<PROP> as librdkafka properties.
#   tb_broker_ctl COMMAND...
#       Sends one control command ("down 1", "errors Produce 3
#       NOT_LEADER_FOR_PARTITION", "create TOPIC N", ...; see
#       tools/devbroker/control.h), prints the reply, succeeds on "ok".
#   tb_broker_stop
#       SIGTERM the broker and wait for it.

tb_broker_start() {
  local n=1
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then n=$1; shift; fi
  local file="$TB_TMP/devbroker.bootstrap"
  rm -f "$file" "$file.control"
  # Not in $(...): tb_start must record the PID in this shell's TB_PIDS.
  tb_start devbroker "$TB_BIN/tb-devbroker" --brokers "$n" --bootstrap-file "$file" "$@" >/dev/null
  TB_BROKER_PID=${TB_PIDS[${#TB_PIDS[@]}-1]}
  local deadline=$((SECONDS + 30))
  while [ ! -s "$file" ]; do
    if ! kill -0 "$TB_BROKER_PID" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      tb_diag "tb-devbroker did not publish $file; its log:"
      sed 's/^/#   /' "$TB_TMP/devbroker.log" 2>/dev/null | tail -20
      return 1
    fi
    sleep 0.1
  done
  TB_BROKERS=$(cat "$file")
  TB_BROKER_CONTROL=$(cat "$file.control")
  export TB_BROKERS TB_BROKER_CONTROL TB_BROKER_PID
  export TB_KAFKA_SESSION_TIMEOUT_MS=${TB_KAFKA_SESSION_TIMEOUT_MS:-6000}
}

tb_broker_ctl() {
  local host=${TB_BROKER_CONTROL%:*} port=${TB_BROKER_CONTROL##*:} reply="" fd
  exec {fd}<>"/dev/tcp/$host/$port" || return 1
  printf '%s\n' "$*" >&"$fd"
  IFS= read -r -t 30 reply <&"$fd"
  exec {fd}>&-
  echo "$reply"
  [ "${reply%% *}" = ok ]
}

tb_broker_stop() {
  [ -n "${TB_BROKER_PID:-}" ] && tb_stop "$TB_BROKER_PID"
}
