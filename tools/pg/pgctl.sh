#!/usr/bin/env bash
# tools/pg/pgctl.sh — a private PostgreSQL for development and tests.
#
# Runs a PostgreSQL server out of a data directory of our choosing, bound to
# 127.0.0.1 on a given port, with its Unix socket inside the data directory
# (never /var/run/postgresql), so several servers (several engineers, several
# tests) can run side by side without touching the system cluster.
#
#   pgctl.sh start [--fsync on|off] DATADIR PORT   initdb if DATADIR is empty, start, wait, print URL
#   pgctl.sh stop DATADIR                          fast shutdown (no-op when not running)
#   pgctl.sh destroy DATADIR                       stop, then remove DATADIR
#   pgctl.sh url DATADIR [DBNAME]                  print postgresql://postgres@127.0.0.1:PORT/DBNAME
#   pgctl.sh bindir                                print the PostgreSQL bin directory in use
#
# How it works: as root, everything PostgreSQL runs as user postgres through
# `runuser -u postgres --` (PostgreSQL refuses to run as root); as any other
# user it runs as that user. The cluster is initialised with trust
# authentication for user postgres (loopback only: a dev/test server, never a
# production one). Our settings live in DATADIR/tracebridge.conf, included from
# postgresql.conf, and are rewritten on every start (the port may change).
#
# initdb takes ~1 s, copying a prepared data directory ~0.2 s: a pristine
# initdb result is kept as a template in $TB_PG_TEMPLATE_DIR (default
# /var/tmp/tracebridge-pg-template.UID-PGMAJOR; "none" disables it) and copied
# into empty data directories.
#
# Environment: TB_PG_BINDIR (default: newest /usr/lib/postgresql/*/bin),
# TB_PG_FSYNC (on|off, default off: fast, but a crash of the machine may lose
# or corrupt data — fine for dev and tests), TB_PG_TEMPLATE_DIR.
set -euo pipefail

die() { echo "pgctl: $*" >&2; exit 1; }

usage() {
  cat >&2 <<'EOF'
usage: pgctl.sh start [--fsync on|off] DATADIR PORT
       pgctl.sh stop DATADIR
       pgctl.sh destroy DATADIR
       pgctl.sh url DATADIR [DBNAME]
       pgctl.sh bindir
EOF
  exit "${1:-2}"
}

pg_bindir() {
  if [ -n "${TB_PG_BINDIR:-}" ]; then
    [ -x "$TB_PG_BINDIR/postgres" ] || die "TB_PG_BINDIR=$TB_PG_BINDIR has no postgres binary"
    echo "$TB_PG_BINDIR"
    return
  fi
  # Debian installs each major version under /usr/lib/postgresql/N/bin; pick the newest.
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/postgres" ] ||
    die "no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set TB_PG_BINDIR)"
  echo "$d"
}

# as_pg CMD...: run a command as the user that owns the cluster.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

abspath() {
  case "$1" in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
  esac
}

# ensure_reachable DIR: user postgres must be able to traverse every ancestor
# of the data directory. mktemp -d makes 0700 dirs; grant search (o+x, not
# read) where it is missing and say so.
ensure_reachable() {
  local dir=$1 d
  [ "$(id -u)" -eq 0 ] || return 0
  d=$dir
  while [ "$d" != / ]; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
      echo "pgctl: granted search permission (o+x) on $d so that user postgres can reach $dir" >&2
    fi
    d=$(dirname "$d")
  done
}

# is_running DATADIR: 0 when a postmaster of this data directory is alive.
is_running() {
  local bindir
  bindir=$(pg_bindir)
  as_pg "$bindir/pg_ctl" status -D "$1" >/dev/null 2>&1
}

conf_port() {
  local conf=$1/tracebridge.conf
  [ -f "$conf" ] || die "$1 was not set up by pgctl.sh (no tracebridge.conf); start it first"
  sed -n "s/^port = \([0-9]*\)$/\1/p" "$conf"
}

# template_dir BINDIR: where the prepared initdb result lives ("" when disabled).
template_dir() {
  local major
  major=$("$1/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p')
  case "${TB_PG_TEMPLATE_DIR:-}" in
    none) echo "" ;;
    "") echo "/var/tmp/tracebridge-pg-template.$(id -u)-$major" ;;
    *) echo "$TB_PG_TEMPLATE_DIR" ;;
  esac
}

run_initdb() { # BINDIR DIR
  as_pg "$1/initdb" -D "$2" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
}

# prepare_template BINDIR TEMPLATE: initdb once into TEMPLATE (under a lock,
# built beside it and renamed into place, so a concurrent or interrupted run
# never leaves a half-made template).
prepare_template() {
  local bindir=$1 tpl=$2 tmp
  [ -f "$tpl/PG_VERSION" ] && return 0
  mkdir -p "$(dirname "$tpl")"
  exec 8>"$tpl.lock"
  flock 8
  if [ ! -f "$tpl/PG_VERSION" ]; then
    tmp="$tpl.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
    chmod 700 "$tmp"
    ensure_reachable "$(dirname "$tmp")"
    run_initdb "$bindir" "$tmp" || { rm -rf "$tmp"; flock -u 8; die "initdb of template $tpl failed"; }
    mv "$tmp" "$tpl"
  fi
  flock -u 8
  exec 8>&-
}

init_datadir() { # BINDIR DATADIR
  local bindir=$1 dir=$2 tpl
  tpl=$(template_dir "$bindir")
  if [ -n "$tpl" ]; then
    prepare_template "$bindir" "$tpl"
    # cp -a keeps the owner (postgres) and the 0700 modes initdb chose.
    cp -a "$tpl/." "$dir/"
  else
    run_initdb "$bindir" "$dir" || die "initdb into $dir failed"
  fi
}

write_conf() { # DATADIR PORT FSYNC
  local dir=$1 port=$2 fsync=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
# Written by tools/pg/pgctl.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
log_timezone = 'UTC'
timezone = 'UTC'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  install -m 600 "$tmp" "$dir/tracebridge.conf"
  rm -f "$tmp"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/tracebridge.conf"
  grep -q "^include_if_exists = 'tracebridge.conf'" "$dir/postgresql.conf" ||
    echo "include_if_exists = 'tracebridge.conf'" >>"$dir/postgresql.conf"
}

cmd_start() {
  local fsync=${TB_PG_FSYNC:-off} dir port bindir
  while [ $# -gt 0 ]; do
    case "$1" in
      --fsync) [ $# -ge 2 ] || usage; fsync=$2; shift 2 ;;
      --fsync=*) fsync=${1#--fsync=}; shift ;;
      --) shift; break ;;
      -*) usage ;;
      *) break ;;
    esac
  done
  [ $# -eq 2 ] || usage
  case "$fsync" in on | off) ;; *) die "--fsync must be on or off, not '$fsync'" ;; esac
  dir=$(abspath "$1")
  port=$2
  case "$port" in '' | *[!0-9]*) die "PORT must be a number, not '$port'" ;; esac
  bindir=$(pg_bindir)

  if [ -d "$dir" ] && is_running "$dir"; then
    [ "$(conf_port "$dir")" = "$port" ] || die "$dir is already running on port $(conf_port "$dir"), not $port"
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    return 0
  fi
  mkdir -p "$dir"
  ensure_reachable "$(dirname "$dir")"
  if [ -z "$(ls -A "$dir")" ]; then
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    init_datadir "$bindir" "$dir"
  elif [ ! -f "$dir/PG_VERSION" ]; then
    die "$dir is neither empty nor a PostgreSQL data directory; refusing to touch it"
  fi
  write_conf "$dir" "$port" "$fsync"
  if ! as_pg "$bindir/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 >/dev/null; then
    echo "pgctl: PostgreSQL did not start; last lines of $dir/server.log:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
    exit 1
  fi
  # pg_ctl -w waits for the socket; also wait until TCP connections are accepted.
  for _ in $(seq 1 300); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres && break
    sleep 0.1
  done
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres ||
    die "PostgreSQL in $dir started but does not accept connections on 127.0.0.1:$port"
  echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir bindir pid
  dir=$(abspath "$1")
  bindir=$(pg_bindir)
  [ -f "$dir/PG_VERSION" ] || { echo "pgctl: $dir is not a data directory; nothing to stop" >&2; return 0; }
  is_running "$dir" || return 0
  if ! as_pg "$bindir/pg_ctl" stop -D "$dir" -m fast -w -t 60 >/dev/null; then
    # Still up after a minute: kill the postmaster this data directory names (ours).
    pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    die "PostgreSQL in $dir did not stop within 60 s; killed postmaster $pid"
  fi
}

cmd_destroy() {
  [ $# -eq 1 ] || usage
  local dir
  dir=$(abspath "$1")
  [ -e "$dir" ] || return 0
  [ -f "$dir/PG_VERSION" ] || [ -z "$(ls -A "$dir")" ] ||
    die "$dir does not look like a PostgreSQL data directory; refusing to remove it"
  cmd_stop "$dir"
  rm -rf "$dir"
}

cmd_url() {
  [ $# -ge 1 ] && [ $# -le 2 ] || usage
  local dir port
  dir=$(abspath "$1")
  port=$(conf_port "$dir")
  echo "postgresql://postgres@127.0.0.1:$port/${2:-postgres}"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  destroy) cmd_destroy "$@" ;;
  url) cmd_url "$@" ;;
  bindir) [ $# -eq 0 ] || usage; pg_bindir ;;
  -h | --help | help) usage 0 ;;
  *) usage ;;
esac
