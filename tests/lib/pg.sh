# tests/lib/pg.sh — a private PostgreSQL for integration tests (source it
# after harness.sh).
#
#   tb_pg_start
#       Starts PostgreSQL (tools/pg/pgctl.sh) with its data directory in
#       $TB_TMP/pg on a free loopback port, registers its stop with tb_on_exit
#       (before starting, so a half-started server is stopped too), creates the
#       database tracebridge and exports TB_PG_URL
#       (postgresql://postgres@127.0.0.1:PORT/tracebridge), TB_PG_PORT,
#       TB_PG_DATADIR and TB_PG_BINDIR. No migrations: run tb-migrate (or
#       tb_pg_migrate) when the test wants the schema. Returns 1, after printing
#       pgctl's output as diagnostics, when the server did not come up.
#   tb_pg_migrate
#       Applies the built-in migrations to $TB_PG_URL with tb-migrate.
#   tb_psql [PSQL ARGS...]
#       psql on $TB_PG_URL: unaligned, tuples only, stops at the first error.
#   tb_pg_url DBNAME [USER]
#       The URL of another database (and/or role) of the same server.

tb_pg_start() {
  local pgctl="$TB_ROOT/tools/pg/pgctl.sh" port out attempt
  TB_PG_DATADIR="$TB_TMP/pg"
  TB_PG_BINDIR=$("$pgctl" bindir) || return 1
  tb_on_exit "'$pgctl' stop '$TB_PG_DATADIR'"
  # tb_free_port can race with other tests: try another port if this one is taken.
  for attempt in 1 2 3; do
    port=$(tb_free_port) || return 1
    if out=$("$pgctl" start "$TB_PG_DATADIR" "$port" 2>&1); then
      break
    fi
    tb_diag "pgctl start on port $port failed (attempt $attempt):"
    printf '%s\n' "$out" | sed 's/^/#   /' | tail -20
    "$pgctl" stop "$TB_PG_DATADIR" >/dev/null 2>&1 || true
    port=""
  done
  [ -n "$port" ] || return 1
  TB_PG_PORT=$port
  TB_PG_URL=$(tb_pg_url tracebridge)
  export TB_PG_URL TB_PG_PORT TB_PG_DATADIR TB_PG_BINDIR
  "$TB_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$(tb_pg_url postgres)" -c 'CREATE DATABASE tracebridge' ||
    { tb_diag "CREATE DATABASE tracebridge failed"; return 1; }
}

tb_pg_url() {
  echo "postgresql://${2:-postgres}@127.0.0.1:$TB_PG_PORT/$1"
}

tb_pg_migrate() {
  "$TB_BIN/tb-migrate" --pg "$TB_PG_URL" --log-level warn >/dev/null
}

tb_psql() {
  "$TB_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$TB_PG_URL" "$@"
}
