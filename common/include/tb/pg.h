/*
 * tb/pg.h — PostgreSQL for every service and tool: connecting, statements,
 * transactions that survive a lost connection, COPY, and the migrations
 * runner (schemas/sql/NNN_name.sql, compiled into the binaries).
 *
 * A tb_pg_t wraps one libpq connection and remembers its conninfo so it can
 * reconnect. Statements go through tb_pg_exec / tb_pg_query, which turn a
 * failed result into a tb_err_t message ("<what>: <server message> (SQLSTATE
 * xxxxx)") and remember the SQLSTATE (tb_pg_sqlstate) so callers can tell a
 * transient failure (lost connection, serialization failure, deadlock) from a
 * real one. Parameters are text; bytea parameters are "\x<hex>"
 * (tb_pg_bytea_hex), timestamps "YYYY-MM-DD HH:MM:SS.uuuuuu+00" (tb_pg_ts).
 *
 * Connection loss is retried only where that is safe: reads outside a
 * transaction (tb_pg_query) and whole transactions (tb_pg_txn), which are
 * rolled back and run again. Everything else reports the error.
 *
 * Not thread-safe: one tb_pg_t per thread. Server notices go to the debug log.
 */
#ifndef TB_PG_H
#define TB_PG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "tb/err.h"

typedef struct tb_pg tb_pg_t;

/* ---- connection ---------------------------------------------------------- */

/* Connect to `conninfo` (URL or key=value string). While the server is
 * unreachable or still starting up, retry with backoff (tb_pg_backoff_ms) for
 * up to max_wait_ms (<= 0: a single attempt). A malformed conninfo, a refused
 * login or a missing database fail at once. Errors name the target without its
 * password: "cannot connect to PostgreSQL at 127.0.0.1:5432 database
 * tracebridge user postgres (after 10.0 s): <libpq's reason>". The session
 * runs in UTC. NULL on error. */
tb_pg_t *tb_pg_connect(const char *conninfo, int max_wait_ms, tb_err_t *err);

/* Run sql (one statement, e.g. "SET work_mem = '64MB'") now and again after every reconnect,
 * after the time zone: settings of one service's sessions. 0 or -1 + err. */
int tb_pg_session(tb_pg_t *pg, const char *sql, tb_err_t *err);

/* Close the connection and free. NULL is allowed. */
void tb_pg_close(tb_pg_t *pg);

/* The libpq connection, for calls this header does not wrap (valid until the
 * next reconnect: do not keep it across tb_pg_txn / tb_pg_query retries). */
PGconn *tb_pg_conn(tb_pg_t *pg);

/* "host:port database D user U" for messages (never the password). */
const char *tb_pg_target(const tb_pg_t *pg);

/* Drop the connection and connect again with the original conninfo, waiting
 * up to max_wait_ms as tb_pg_connect. */
int tb_pg_reconnect(tb_pg_t *pg, int max_wait_ms, tb_err_t *err);

/* The wait before retry number `attempt` (0-based): 100 ms doubling, capped at
 * 2000 ms. Pure. */
int tb_pg_backoff_ms(int attempt);

/* Describe a conninfo for messages: "host:port database D user U" with
 * libpq's defaults for what it leaves out; the password is never included.
 * Returns -1 (with libpq's reason in err) when conninfo does not parse. */
int tb_pg_describe_conninfo(const char *conninfo, char *out, size_t cap, tb_err_t *err);

/* ---- statements ---------------------------------------------------------- */

/* Run one statement that returns no rows we need (INSERT/UPDATE/DDL...), with
 * text parameters $1..$n (params may be NULL when n is 0; a NULL entry is SQL
 * NULL). `what` names the step for the error message. Returns the number of
 * rows affected (0 for statements without a count), or -1. */
long tb_pg_exec(tb_pg_t *pg, const char *what, const char *sql, int n, const char *const *params,
		tb_err_t *err);

/* Run a query and return its rows (free with PQclear). When the connection
 * turns out to be lost and no transaction was open, reconnect and try once
 * more: fine for reads, so outside a transaction use it only for statements
 * that are safe to repeat (an INSERT ... RETURNING without ON CONFLICT is
 * not). Inside a transaction nothing is repeated. NULL on error. */
PGresult *tb_pg_query(tb_pg_t *pg, const char *what, const char *sql, int n, const char *const *params,
		      tb_err_t *err);

/* tb_pg_query through a prepared statement of this session (named tb_qN;
 * prepared on first use of the exact sql text, up to 32 texts a session,
 * forgotten on reconnect): repeated reads skip parsing and, once PostgreSQL
 * settles on a generic plan, planning. Same rows and errors as tb_pg_query. */
PGresult *tb_pg_query_prepared(tb_pg_t *pg, const char *what, const char *sql, int n,
			       const char *const *params, tb_err_t *err);

/* Run a script of one or more statements without parameters (simple query
 * protocol), e.g. a migration. On error the message holds the line of the
 * script the server pointed at, when it did. */
int tb_pg_exec_script(tb_pg_t *pg, const char *what, const char *sql, tb_err_t *err);

/* The SQLSTATE of the last failed statement ("" when the last one succeeded;
 * "08006" when the connection was lost without a server answer). */
const char *tb_pg_sqlstate(const tb_pg_t *pg);

/* 1 when the last failure is worth retrying the transaction for: connection
 * exceptions (class 08), server shutdown (57P01..57P03), serialization
 * failure (40001), deadlock (40P01), or a connection that is no longer OK. */
int tb_pg_failure_is_transient(const tb_pg_t *pg);

/* 1 when SQLSTATE `state` is one of the transient ones above. Pure. */
int tb_pg_sqlstate_is_transient(const char *state);

/* ---- transactions -------------------------------------------------------- */

int tb_pg_begin(tb_pg_t *pg, tb_err_t *err);
int tb_pg_commit(tb_pg_t *pg, tb_err_t *err);
/* Roll back if a transaction is open; harmless otherwise (also on a dead
 * connection). */
void tb_pg_rollback(tb_pg_t *pg);

/* The body of a transaction: run statements on pg, return 0 or -1 (with err). */
typedef int (*tb_pg_txn_fn)(tb_pg_t *pg, void *opaque, tb_err_t *err);

/* BEGIN; fn; COMMIT. When fn or COMMIT fails transiently (see
 * tb_pg_failure_is_transient), roll back, reconnect if needed (waiting up to
 * the connect wait) and run the whole transaction again, up to max_attempts
 * times in all (<= 0: 5). fn must rebuild its state from scratch on each call.
 * When the connection drops during COMMIT the outcome is unknown and fn runs
 * again: fn must therefore be idempotent with respect to a committed earlier
 * run (ours are: ON CONFLICT dedup by event_id, offsets stored in the same
 * transaction). Any other failure rolls back and returns -1. */
int tb_pg_txn(tb_pg_t *pg, tb_pg_txn_fn fn, void *opaque, int max_attempts, tb_err_t *err);

/* ---- COPY (bulk load, text format) ---------------------------------------- */

/* A growable byte buffer (zero-initialise; free data with free()). */
typedef struct tb_pg_buf {
	char *data;
	size_t len;
	size_t cap;
} tb_pg_buf_t;

/* Append one row in COPY text format: fields separated by tabs, ended by a
 * newline, NULL fields as \N, and backslash, tab, newline and carriage return
 * escaped. Values are given in their text form (bytea as "\x<hex>"). 0, or
 * -1 when out of memory. Pure. */
int tb_pg_copy_format(tb_pg_buf_t *b, const char *const *fields, size_t n);

/* Start `COPY table (cols) FROM STDIN` (the statement is given whole). */
int tb_pg_copy_begin(tb_pg_t *pg, const char *copy_sql, tb_err_t *err);

/* Send one row of n fields (formatted with tb_pg_copy_format). */
int tb_pg_copy_row(tb_pg_t *pg, const char *const *fields, size_t n, tb_err_t *err);

/* Finish the COPY; returns the number of rows the server stored, or -1 (a
 * failed COPY stores nothing). */
long tb_pg_copy_end(tb_pg_t *pg, tb_err_t *err);

/* ---- values --------------------------------------------------------------- */

/* bytea text form "\x<lowercase hex>" of len bytes into out (2*len + 3 bytes). */
void tb_pg_bytea_hex(const uint8_t *data, size_t len, char *out);

#define TB_PG_TS_LEN 48
/* timestamptz text form of ns since the Unix epoch, truncated to PostgreSQL's
 * microseconds: "2026-11-24 18:00:00.123456+00". */
void tb_pg_ts(int64_t ns, char out[TB_PG_TS_LEN]);

/* ---- migrations ------------------------------------------------------------ */

#define TB_PG_MIGRATION_NAME_MAX 128

/* A migration file: schemas/sql/NNN_name.sql. */
typedef struct tb_pg_migration {
	int version;			     /* NNN */
	char name[TB_PG_MIGRATION_NAME_MAX]; /* file name, e.g. "003_observations.sql" */
	char *sql;			     /* file contents (owned) */
	size_t len;
	char checksum[65]; /* lowercase hex sha256 of the contents */
} tb_pg_migration_t;

typedef struct tb_pg_migrations {
	tb_pg_migration_t *items; /* sorted by version, versions unique */
	size_t n;
} tb_pg_migrations_t;

/* Parse a migration file name "NNN_name.sql": NNN is 1 to 9 digits with a
 * value > 0, name is letters, digits, '_' and '-'. Returns the version, or -1
 * with the reason in err. Pure. */
int tb_pg_migration_parse_name(const char *filename, tb_err_t *err);

/* Load the migrations of `dir` (every *.sql file; any other file is ignored)
 * or, when dir is NULL, the embedded schemas/sql/ files. Sorted by version; a
 * badly named .sql file or two files with one version are errors naming them.
 * An empty set is an error too (a wrong --dir). */
int tb_pg_migrations_load(const char *dir, tb_pg_migrations_t *out, tb_err_t *err);

/* Load from an in-memory list of (file name, contents) pairs: what
 * tb_pg_migrations_load does after reading. Exposed for tests. */
int tb_pg_migrations_from(const char *const *names, const char *const *contents, size_t n,
			  tb_pg_migrations_t *out, tb_err_t *err);

void tb_pg_migrations_free(tb_pg_migrations_t *m);

/* Apply the pending migrations of `dir` (NULL: embedded), oldest first, each
 * in its own transaction together with its schema_migrations row (version,
 * name, checksum, applied_at); the table is created when missing. Concurrent
 * migrators of one database serialize on an advisory lock, and each applies
 * only what is still pending. Fails, applying nothing, when an applied
 * migration's file changed (checksum mismatch; the message names the file) or
 * a pending migration is older than an applied one; fails on the first
 * migration that errors (message: its file, the server's reason and line) with
 * that migration rolled back and the earlier ones kept. Migrations recorded in
 * the database but absent from `dir` (a newer binary ran) are logged, not
 * errors. Returns the number of migrations applied (0: up to date), or -1. */
int tb_pg_migrate(tb_pg_t *pg, const char *dir, tb_err_t *err);

typedef enum tb_pg_migration_state {
	TB_PG_MIGRATION_PENDING = 0, /* file present, not applied */
	TB_PG_MIGRATION_APPLIED,     /* applied, checksum matches */
	TB_PG_MIGRATION_CHANGED,     /* applied, but the file's checksum differs */
	TB_PG_MIGRATION_UNKNOWN,     /* applied, no such file here */
} tb_pg_migration_state_t;

typedef struct tb_pg_migration_status {
	int version;
	char name[TB_PG_MIGRATION_NAME_MAX];
	tb_pg_migration_state_t state;
	char applied_at[TB_PG_TS_LEN]; /* "" when pending */
} tb_pg_migration_status_t;

/* The state of every migration known to `dir` (NULL: embedded) or to the
 * database, ordered by version, into a malloc'd array (*out, free() it) of *n
 * entries. Reads only (a database without schema_migrations has everything
 * pending). */
int tb_pg_migration_status(tb_pg_t *pg, const char *dir, tb_pg_migration_status_t **out, size_t *n,
			   tb_err_t *err);

/* "pending", "applied", "changed", "unknown". */
const char *tb_pg_migration_state_name(tb_pg_migration_state_t s);

#endif
