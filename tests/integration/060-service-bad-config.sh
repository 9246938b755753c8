#!/usr/bin/env bash
# Every service binary refuses a bad configuration at start: it exits non-zero
# with a message that names what is wrong (issue: foundation, acceptance).
#   unknown option           -> exit 2, names the option
#   bad value                -> exit 2, names the option and the value
#   unreadable config file   -> exit 2, names the file
#   unreachable Kafka broker -> exit 3, says which broker could not be reached
. "$(dirname "$0")/../lib/harness.sh"

dead_port=$(tb_free_port)
ran=0
for name in adapter canonicalizer correlator aggregator timeline-api; do
  bin="$TB_BIN/tb-$name"
  [ -x "$bin" ] || continue
  ran=$((ran + 1))

  out=$("$bin" --no-such-option 2>&1); rc=$?
  tb_check "$name: unknown option exits 2" 2 "$rc"
  case "$out" in *no-such-option*) tb_ok "$name: message names the unknown option" ;;
    *) tb_fail "$name: message names the unknown option"; tb_diag "got: $out" ;; esac

  out=$("$bin" --log-level=loud 2>&1); rc=$?
  tb_check "$name: bad value exits 2" 2 "$rc"
  case "$out" in *log-level*loud*|*loud*log-level*) tb_ok "$name: message names option and value" ;;
    *) tb_fail "$name: message names option and value"; tb_diag "got: $out" ;; esac

  out=$("$bin" --config "$TB_TMP/missing.conf" 2>&1); rc=$?
  tb_check "$name: missing config file exits 2" 2 "$rc"
  case "$out" in *missing.conf*) tb_ok "$name: message names the config file" ;;
    *) tb_fail "$name: message names the config file"; tb_diag "got: $out" ;; esac

  # Unreachable broker (and, for the PostgreSQL users, an unreachable database
  # as well: whichever is checked first must be named).
  extra=()
  case "$name" in
    aggregator|timeline-api) extra=(--pg "postgresql://postgres@127.0.0.1:$dead_port/x") ;;
  esac
  out=$(timeout 120 "$bin" --brokers "127.0.0.1:$dead_port" -X socket.connection.setup.timeout.ms=2000 \
        "${extra[@]}" 2>&1); rc=$?
  tb_check "$name: unreachable dependency exits 3" 3 "$rc"
  case "$out" in *"127.0.0.1:$dead_port"*) tb_ok "$name: message names the unreachable address" ;;
    *) tb_fail "$name: message names the unreachable address"; tb_diag "got: $(echo "$out" | tail -3)" ;; esac
done
[ "$ran" -ge 2 ] && tb_ok "checked $ran service binaries" || tb_fail "fewer than 2 service binaries built ($ran)"
tb_finish
