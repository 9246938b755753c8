#!/usr/bin/env bash
# 021 — tb_pg against a real PostgreSQL: runs the cmocka binary test_pg_live
# (statements, errors, transactions rerun after a killed connection, COPY,
# migrations, day partitions, retention, hot-symbol constraints), plain and
# under ASan+UBSan, each on an empty database of a private server.
#
# The binary's TAP lines are passed through with a prefix, so every case
# counts on its own; a binary that exits non-zero without a failing case (a
# crash, a sanitizer report) is one failure.

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pg.sh"

case "$BUILD" in /*) build_dir=$BUILD ;; *) build_dir="$TB_ROOT/$BUILD" ;; esac

if ! tb_pg_start; then
  tb_fail "PostgreSQL starts"
  tb_finish
fi
tb_ok "PostgreSQL starts on 127.0.0.1:$TB_PG_PORT"

run_live() { # LABEL BINARY DATABASE
  local label=$1 bin=$2 db=$3 log="$TB_TMP/$1.log" rc
  if [ ! -x "$bin" ]; then
    tb_fail "$label: $bin is built"
    return
  fi
  tb_psql -c "CREATE DATABASE $db"
  CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TB_PG_URL="$(tb_pg_url "$db")" \
    timeout 300 "$bin" >"$log" 2>"$log.err"
  rc=$?
  sed -n -e "s/^ok [0-9]* - /ok - $label: /p" -e "s/^not ok [0-9]* - /not ok - $label: /p" -e 's/^#/#/p' "$log"
  if grep -q '^not ok' "$log"; then
    tb_diag "$label stderr (last lines):"
    tail -n 15 "$log.err" | sed 's/^/#   /'
  elif [ "$rc" -ne 0 ]; then
    tb_fail "$label exits 0 (got $rc)"
    tail -n 30 "$log.err" | sed 's/^/#   /'
  fi
  tb_check "$label ran every case" "$(sed -n 's/^1\.\.//p' "$log")" "$(grep -cE '^(not )?ok ' "$log")"
}

run_live pg_live "$build_dir/tests/test_pg_live" live_plain
run_live pg_live_asan "$build_dir/asan/tests/test_pg_live" live_asan

tb_finish
