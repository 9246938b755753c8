#!/usr/bin/env bash
# 020 — schema migrations with tb-migrate against a private PostgreSQL.
#
# Applies schemas/sql twice (the second run changes nothing), checks that
# every table of the architecture exists with its tenant column and the
# indexes the queries need, that the API role can read but not write, that
# concurrent migrators apply each migration once, and the failure paths: a
# changed migration file, a migration with an error (rolled back, named with
# its line), a transaction-ending migration, an out-of-order migration, bad
# conninfos (exit 3 with the reason) and bad usage (exit 2).

source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pg.sh"

MIGRATE="$TB_BIN/tb-migrate"
SQL_DIR="$TB_ROOT/schemas/sql"
N_FILES=$(ls "$SQL_DIR"/*.sql | wc -l)

# migrate NAME ARGS...: run tb-migrate, keep stdout/stderr in $TB_TMP/NAME.{out,err}, set RC.
migrate() {
  local name=$1
  shift
  "$MIGRATE" "$@" >"$TB_TMP/$name.out" 2>"$TB_TMP/$name.err"
  RC=$?
}

# check_rc NAME EXPECTED: tb_check on $RC, showing stderr when it differs.
check_rc() {
  tb_check "$1" "$2" "$RC"
  [ "$RC" = "$2" ] || sed 's/^/#   /' "$TB_TMP/$3.err" | tail -5
}

# check_grep NAME PATTERN FILE: FILE contains PATTERN (fixed string).
check_grep() {
  if grep -qF -- "$2" "$3"; then tb_ok "$1"; else
    tb_fail "$1"
    tb_diag "expected to find: $2"
    tb_diag "in $3:"
    sed 's/^/#   /' "$3" | tail -5
  fi
}

createdb() { tb_psql -c "CREATE DATABASE $1"; }

# indexes TABLE PATTERN: how many indexes of TABLE have a definition LIKE PATTERN.
indexes() { tb_psql -c "SELECT count(*) FROM pg_indexes WHERE tablename = '$1' AND indexdef LIKE '$2'"; }

primary_key() { # TABLE
  tb_psql -c "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '$1'::regclass AND contype = 'p'"
}

if ! tb_pg_start; then
  tb_fail "PostgreSQL starts"
  tb_finish
fi
tb_ok "PostgreSQL starts on 127.0.0.1:$TB_PG_PORT"

# ---- first and second run ----------------------------------------------------
migrate first --pg "$TB_PG_URL"
check_rc "first tb-migrate run exits 0" 0 first
check_grep "first run applies every migration file" "applied $N_FILES migrations" "$TB_TMP/first.out"

expected=$(cd "$SQL_DIR" && for f in *.sql; do echo "$((10#${f%%_*}))|$f|$(sha256sum "$f" | cut -d' ' -f1)"; done)
tb_check "schema_migrations holds version, file name and sha256 of each file" "$expected" \
  "$(tb_psql -c 'SELECT version, name, checksum FROM schema_migrations ORDER BY version')"

rows_before=$(tb_psql -c 'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version')
migrate second --pg "$TB_PG_URL"
check_rc "second tb-migrate run exits 0" 0 second
check_grep "second run applies nothing" "applied 0 migrations" "$TB_TMP/second.out"
tb_check "second run leaves schema_migrations as it was (applied_at included)" "$rows_before" \
  "$(tb_psql -c 'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version')"

migrate status --pg "$TB_PG_URL" --status
check_rc "--status exits 0 when everything is applied" 0 status
tb_check "--status lists every migration as applied" "$N_FILES" "$(grep -c ' applied ' "$TB_TMP/status.out")"

# ---- the tables of ARCHITECTURE.md ---------------------------------------------
tables="artifacts artifact_components artifact_binaries findings finding_symbols symbols frames stacks
observations hot_symbols sink_offsets schema_migrations"
missing=""
for t in $tables; do
  [ "$(tb_psql -c "SELECT to_regclass('$t') IS NOT NULL")" = t ] || missing="$missing $t"
done
tb_check "every table of the architecture exists" "" "$missing"

no_tenant=$(tb_psql -c "
  SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND c.relname NOT IN ('sink_offsets', 'schema_migrations')
     AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant')")
tb_check "every data table has a tenant column" "" "$no_tenant"

tb_check "observations is range-partitioned on ts" "r|ts" \
  "$(tb_psql -c "SELECT p.partstrat, a.attname FROM pg_partitioned_table p
                 JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                 WHERE p.partrelid = 'observations'::regclass")"
tb_check "observations has a default partition" "observations_default" \
  "$(tb_psql -c "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'observations'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'")"
tb_check "observations has a BRIN index on ts" "1" "$(indexes observations '%USING brin (ts)%')"
tb_check "observations' primary key is (tenant, ts, event_id), ordered for keyset pagination" \
  "PRIMARY KEY (tenant, ts, event_id)" "$(primary_key observations)"
for col in artifact_digest purl leaf_symbol_id; do
  tb_check "observations has a (tenant, $col, ts, event_id) index for filtered timelines" "1" \
    "$(indexes observations "%(tenant, $col, ts, event_id)%")"
done
tb_check "artifact_binaries has an index on build_id" "1" "$(indexes artifact_binaries '%(build_id%')"
tb_check "hot_symbols' primary key covers tenant, artifact, width, window and symbol" \
  "PRIMARY KEY (tenant, artifact_digest, width, window_start, symbol_id)" "$(primary_key hot_symbols)"

# ---- the read-only API role ------------------------------------------------------
API_URL=$(tb_pg_url tracebridge tb_api)
api_psql() { "$TB_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$API_URL" "$@"; }
tb_psql -c "INSERT INTO artifacts (tenant, digest, registered_at) VALUES ('t1', 'sha256:aa', now())"
tb_check "tb_api can read" "1" "$(api_psql -c 'SELECT count(*) FROM artifacts' 2>&1)"
out=$(api_psql -c "SET default_transaction_read_only = off" \
  -c "INSERT INTO artifacts (tenant, digest, registered_at) VALUES ('t1', 'sha256:bb', now())" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'permission denied for table artifacts'; then
  tb_ok "tb_api cannot INSERT (permission denied, even with read-only turned off)"
else
  tb_fail "tb_api cannot INSERT (permission denied, even with read-only turned off)"
  tb_diag "psql exit $rc: $out"
fi
out=$(api_psql -c "DELETE FROM artifacts" 2>&1)
if [ $? -ne 0 ] && printf '%s' "$out" | grep -q 'read-only transaction'; then
  tb_ok "tb_api sessions are read-only by default"
else
  tb_fail "tb_api sessions are read-only by default"
  tb_diag "$out"
fi
out=$(api_psql -c "SET default_transaction_read_only = off" -c "SELECT tb_observations_partition(now())" 2>&1)
if [ $? -ne 0 ] && printf '%s' "$out" | grep -q 'permission denied for function'; then
  tb_ok "tb_api cannot create partitions"
else
  tb_fail "tb_api cannot create partitions"
  tb_diag "$out"
fi
tb_check "tb_api can read tables created by later migrations (default privileges)" "0" \
  "$(tb_psql -c 'CREATE TABLE later_table (tenant text)' && api_psql -c 'SELECT count(*) FROM later_table' 2>&1)"
tb_psql -c 'DROP TABLE later_table'

# Roles are per cluster: a second database migrates with tb_api already there.
createdb second_db
migrate second_db --pg "$(tb_pg_url second_db)"
check_rc "a second database of the cluster migrates while tb_api exists" 0 second_db
tb_check "tb_api can read the second database" "0" \
  "$("$TB_PG_BINDIR/psql" -X -A -t "$(tb_pg_url second_db tb_api)" -c 'SELECT count(*) FROM hot_symbols' 2>&1)"

# ---- concurrent migrators ----------------------------------------------------------
createdb concurrent_db
"$MIGRATE" --pg "$(tb_pg_url concurrent_db)" >"$TB_TMP/c1.out" 2>"$TB_TMP/c1.err" &
p1=$!
"$MIGRATE" --pg "$(tb_pg_url concurrent_db)" >"$TB_TMP/c2.out" 2>"$TB_TMP/c2.err" &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
tb_check "two concurrent migrators both exit 0" "0 0" "$rc1 $rc2"
n1=$(sed -n 's/^applied \([0-9]*\) migration.*/\1/p' "$TB_TMP/c1.out")
n2=$(sed -n 's/^applied \([0-9]*\) migration.*/\1/p' "$TB_TMP/c2.out")
tb_check "together they applied each migration once" "$N_FILES" "$((${n1:-0} + ${n2:-0}))"
tb_check "schema_migrations of the concurrently migrated database has one row per file" "$N_FILES" \
  "$("$TB_PG_BINDIR/psql" -X -A -t "$(tb_pg_url concurrent_db)" -c 'SELECT count(DISTINCT version) FROM schema_migrations')"

# ---- a migration file changed after it was applied -------------------------------
tampered="$TB_TMP/tampered"
mkdir -p "$tampered"
cp "$SQL_DIR"/*.sql "$tampered/"
second_file=$(ls "$SQL_DIR" | sed -n 2p)
echo "-- an edit after the fact" >>"$tampered/$second_file"
printf 'CREATE TABLE must_not_exist (tenant text);\n' >"$tampered/900_after_tamper.sql"
migrate tampered --pg "$TB_PG_URL" --dir "$tampered"
check_rc "a changed migration file makes tb-migrate exit 4" 4 tampered
check_grep "the error names the changed file" "migration $second_file was changed after it was applied" \
  "$TB_TMP/tampered.err"
tb_check "nothing is applied when a file changed" "f" "$(tb_psql -c "SELECT to_regclass('must_not_exist') IS NOT NULL")"
migrate tampered_status --pg "$TB_PG_URL" --dir "$tampered" --status
check_rc "--status exits 4 when a migration changed" 4 tampered_status
check_grep "--status shows the file as changed" "changed" "$TB_TMP/tampered_status.out"

# ---- a migration that fails ----------------------------------------------------------
broken="$TB_TMP/broken"
mkdir -p "$broken"
cp "$SQL_DIR"/*.sql "$broken/"
printf -- '-- adds a table, then fails\nCREATE TABLE half_done (tenant text);\nSELEKT 1;\n' >"$broken/901_broken.sql"
migrate broken --pg "$TB_PG_URL" --dir "$broken"
check_rc "a failing migration makes tb-migrate exit 4" 4 broken
check_grep "the error names the file, the line and the server's reason" \
  'migration 901_broken.sql: line 3: syntax error at or near \"SELEKT\"' "$TB_TMP/broken.err"
tb_check "the failed migration is rolled back" "f|0" \
  "$(tb_psql -c "SELECT to_regclass('half_done') IS NOT NULL, count(*) FROM schema_migrations WHERE version = 901")"

selfcommit="$TB_TMP/selfcommit"
mkdir -p "$selfcommit"
cp "$SQL_DIR"/*.sql "$selfcommit/"
printf 'CREATE TABLE escaped (tenant text);\nCOMMIT;\n' >"$selfcommit/902_commits.sql"
migrate selfcommit --pg "$TB_PG_URL" --dir "$selfcommit"
check_rc "a migration that commits by itself makes tb-migrate exit 4" 4 selfcommit
check_grep "the error says the migration must not control transactions" \
  "migration 902_commits.sql: ends the transaction itself" "$TB_TMP/selfcommit.err"
tb_check "such a migration is not recorded as applied" "0" \
  "$(tb_psql -c "SELECT count(*) FROM schema_migrations WHERE version = 902")"

# ---- a migration added below the newest applied one -----------------------------------
createdb order_db
partial="$TB_TMP/partial"
mkdir -p "$partial"
first_two=$(ls "$SQL_DIR" | sed -n 1,2p)
third=$(ls "$SQL_DIR" | sed -n 3p)
fourth=$(ls "$SQL_DIR" | sed -n 4p)
for f in $first_two $fourth; do cp "$SQL_DIR/$f" "$partial/"; done
migrate partial --pg "$(tb_pg_url order_db)" --dir "$partial"
check_rc "migrations with a gap apply" 0 partial
migrate out_of_order --pg "$(tb_pg_url order_db)"
check_rc "a pending migration older than an applied one makes tb-migrate exit 4" 4 out_of_order
check_grep "the error names the out-of-order file" "migration $third is not applied" "$TB_TMP/out_of_order.err"

# ---- bad connection settings ------------------------------------------------------------
closed_port=$(tb_free_port)
migrate closed --pg "postgresql://postgres@127.0.0.1:$closed_port/tracebridge" --wait 1
check_rc "an unreachable server makes tb-migrate exit 3" 3 closed
check_grep "the error names the unreachable server and why" \
  "cannot connect to PostgreSQL at 127.0.0.1:$closed_port database tracebridge user postgres (gave up after" \
  "$TB_TMP/closed.err"
check_grep "the error carries libpq's reason" "Connection refused" "$TB_TMP/closed.err"

migrate nodb --pg "$(tb_pg_url no_such_db)" --wait 30
check_rc "a missing database makes tb-migrate exit 3" 3 nodb
check_grep "the error says the database does not exist" 'database \"no_such_db\" does not exist' "$TB_TMP/nodb.err"

migrate badinfo --pg "host=127.0.0.1 port"
check_rc "a malformed conninfo makes tb-migrate exit 3" 3 badinfo
check_grep "the error says the conninfo is malformed" "invalid PostgreSQL conninfo" "$TB_TMP/badinfo.err"

migrate secret --pg "postgresql://postgres:hunter2@127.0.0.1:$closed_port/tracebridge" --wait 0
if grep -q hunter2 "$TB_TMP/secret.err"; then
  tb_fail "connection errors never show the password"
else
  tb_ok "connection errors never show the password"
fi

# ---- usage ---------------------------------------------------------------------------
TB_PG_URL="" migrate usage_nopg
check_rc "tb-migrate without --pg exits 2" 2 usage_nopg
migrate usage_flag --pg "$TB_PG_URL" --no-such-flag
check_rc "tb-migrate with an unknown flag exits 2" 2 usage_flag
migrate usage_dir --pg "$TB_PG_URL" --dir "$TB_TMP/no-such-dir"
check_rc "tb-migrate with a missing --dir exits 4" 4 usage_dir
check_grep "the error names the missing directory" "open migrations directory $TB_TMP/no-such-dir" "$TB_TMP/usage_dir.err"

tb_finish
