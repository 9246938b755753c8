/*
 * tb_pg.c — PostgreSQL helpers and the migrations runner (see tb/pg.h).
 *
 * Connecting: the conninfo is parsed first (a typo fails at once), then each
 * attempt uses PQconnectdbParams with our connect_timeout/application_name
 * placed before the conninfo, so the conninfo's own values win. When an
 * attempt fails, PQping says whether the server is unreachable or starting
 * (worth waiting for) or up and refusing us (bad user, database, password:
 * waiting cannot help).
 *
 * Migrations: one session-level advisory lock (key 7562, 0) is held for the
 * whole run, so concurrent migrators of a database run one after the other and
 * the later ones find everything applied; each migration then runs in its own
 * transaction together with its schema_migrations row, so a migration is
 * either applied and recorded or neither. (Key 7562, 1 belongs to
 * tb_observations_partition in schemas/sql/003_observations.sql.)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "tb/embedded.h"
#include "tb/hash.h"
#include "tb/log.h"
#include "tb/pg.h"

#define MIGRATION_LOCK "7562, 0"
#define MIGRATION_DIR_EMBEDDED "schemas/sql/"
#define MIGRATION_MAX_BYTES (16 << 20)
#define COPY_FLUSH_BYTES (64 << 10)
#define CONNECT_TIMEOUT_S "5"
#define DEFAULT_TXN_ATTEMPTS 5
#define TB_PG_PREPARED_MAX 32

struct tb_pg {
	PGconn *conn;
	char *conninfo;
	char target[256];
	int wait_ms;			    /* how long reconnects wait (from tb_pg_connect) */
	char sqlstate[6];		    /* of the last failure, "" after a success */
	tb_pg_buf_t copy;		    /* COPY rows not yet sent */
	char *session_sql;		    /* tb_pg_session: run again after every reconnect */
	char *prepared[TB_PG_PREPARED_MAX]; /* tb_pg_query_prepared: statement i is "tb_q<i>" */
	int n_prepared;
};

/* ---- small helpers ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* libpq messages end in newlines and indent with tabs: make them one line. */
static void one_line(const char *in, char *out, size_t cap)
{
	size_t j = 0;

	for (size_t i = 0; in && in[i] && j + 1 < cap; i++) {
		char c = in[i] == '\n' || in[i] == '\t' ? ' ' : in[i];

		if (c == ' ' && (j == 0 || out[j - 1] == ' '))
			continue;
		out[j++] = c;
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
}

int tb_pg_backoff_ms(int attempt)
{
	int ms = 100;

	for (int i = 0; i < attempt && ms < 2000; i++)
		ms *= 2;
	return ms < 2000 ? ms : 2000;
}

/* ---- connection ---------------------------------------------------------- */

static const char *opt_value(const PQconninfoOption *opts, const char *key)
{
	for (const PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, key) == 0 && o->val && o->val[0])
			return o->val;
	return NULL;
}

int tb_pg_describe_conninfo(const char *conninfo, char *out, size_t cap, tb_err_t *err)
{
	char *msg = NULL;
	char reason[512];
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", &msg);
	PQconninfoOption *defs;
	const char *host, *port, *user, *db;

	if (!opts) {
		one_line(msg ? msg : "out of memory", reason, sizeof(reason));
		PQfreemem(msg);
		return tb_err(err, "invalid PostgreSQL conninfo: %s", reason);
	}
	defs = PQconndefaults(); /* includes PGHOST, PGUSER, ... from the environment */
	host = opt_value(opts, "host") ? opt_value(opts, "host") : opt_value(opts, "hostaddr");
	if (!host)
		host = opt_value(defs, "host") ? opt_value(defs, "host") : "local socket";
	port = opt_value(opts, "port") ? opt_value(opts, "port") : opt_value(defs, "port");
	user = opt_value(opts, "user") ? opt_value(opts, "user") : opt_value(defs, "user");
	db = opt_value(opts, "dbname") ? opt_value(opts, "dbname") : opt_value(defs, "dbname");
	snprintf(out, cap, "%s:%s database %s user %s", host, port ? port : "5432",
		 db ? db : (user ? user : "?"), user ? user : "?");
	PQconninfoFree(opts);
	PQconninfoFree(defs);
	return 0;
}

static void notice_to_log(void *arg, const char *message)
{
	char line[1024];

	(void)arg;
	one_line(message, line, sizeof(line));
	tb_debug("postgres: %s", line);
}

static PGconn *connect_once(const char *conninfo, PGPing *ping)
{
	/* Ours first: keywords later in the list (the expanded conninfo) win. */
	const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
	const char *vals[] = {CONNECT_TIMEOUT_S, "tracebridge", conninfo, NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	*ping = PQPING_OK;
	if (conn && PQstatus(conn) != CONNECTION_OK)
		*ping = PQpingParams(keys, vals, 1);
	return conn;
}

/* Connect pg->conninfo into pg->conn, retrying for up to max_wait_ms. */
static int connect_with_retries(tb_pg_t *pg, int max_wait_ms, tb_err_t *err)
{
	int64_t start = now_ms();
	char reason[512];
	int attempt;

	for (attempt = 0;; attempt++) {
		PGPing ping;
		PGconn *conn = connect_once(pg->conninfo, &ping);
		int retry, backoff;

		if (conn && PQstatus(conn) == CONNECTION_OK) {
			pg->conn = conn;
			PQsetNoticeProcessor(conn, notice_to_log, NULL);
			return 0;
		}
		one_line(conn ? PQerrorMessage(conn) : "out of memory", reason, sizeof(reason));
		PQfinish(conn);
		/* NO_RESPONSE: not reachable yet; REJECT: starting up or shutting down. */
		retry = ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT;
		backoff = tb_pg_backoff_ms(attempt);
		if (!retry)
			return tb_err(err, "cannot connect to PostgreSQL at %s: %s", pg->target, reason);
		if (now_ms() + backoff - start > max_wait_ms)
			break;
		if (attempt == 0)
			tb_info("PostgreSQL at %s not reachable yet (%s); retrying for up to %d ms",
				pg->target, reason, max_wait_ms);
		sleep_ms(backoff);
	}
	return tb_err(err, "cannot connect to PostgreSQL at %s (gave up after %.1f s, %d attempts): %s",
		      pg->target, (double)(now_ms() - start) / 1000.0, attempt + 1, reason);
}

/* The server forgets prepared statements with the session. */
static void forget_prepared(tb_pg_t *pg)
{
	for (int i = 0; i < pg->n_prepared; i++)
		free(pg->prepared[i]);
	pg->n_prepared = 0;
}

/* Session settings every connection gets. */
static int setup_session(tb_pg_t *pg, tb_err_t *err)
{
	if (tb_pg_exec(pg, "set session time zone", "SET TIME ZONE 'UTC'", 0, NULL, err) < 0)
		return -1;
	if (pg->session_sql && tb_pg_exec(pg, "session settings", pg->session_sql, 0, NULL, err) < 0)
		return -1;
	return 0;
}

int tb_pg_session(tb_pg_t *pg, const char *sql, tb_err_t *err)
{
	char *copy = strdup(sql);

	if (!copy)
		return tb_err(err, "out of memory");
	free(pg->session_sql);
	pg->session_sql = copy;
	return tb_pg_exec(pg, "session settings", sql, 0, NULL, err) < 0 ? -1 : 0;
}

tb_pg_t *tb_pg_connect(const char *conninfo, int max_wait_ms, tb_err_t *err)
{
	tb_pg_t *pg = calloc(1, sizeof(*pg));

	if (!pg) {
		tb_err(err, "connect to PostgreSQL: out of memory");
		return NULL;
	}
	if (tb_pg_describe_conninfo(conninfo, pg->target, sizeof(pg->target), err) < 0)
		goto fail;
	pg->conninfo = strdup(conninfo);
	if (!pg->conninfo) {
		tb_err(err, "connect to PostgreSQL: out of memory");
		goto fail;
	}
	pg->wait_ms = max_wait_ms > 0 ? max_wait_ms : 0;
	if (connect_with_retries(pg, pg->wait_ms, err) < 0 || setup_session(pg, err) < 0)
		goto fail;
	tb_debug("connected to PostgreSQL at %s", pg->target);
	return pg;
fail:
	tb_pg_close(pg);
	return NULL;
}

void tb_pg_close(tb_pg_t *pg)
{
	if (!pg)
		return;
	PQfinish(pg->conn);
	free(pg->conninfo);
	free(pg->session_sql);
	forget_prepared(pg);
	free(pg->copy.data);
	free(pg);
}

PGconn *tb_pg_conn(tb_pg_t *pg)
{
	return pg->conn;
}

const char *tb_pg_target(const tb_pg_t *pg)
{
	return pg->target;
}

int tb_pg_reconnect(tb_pg_t *pg, int max_wait_ms, tb_err_t *err)
{
	PQfinish(pg->conn);
	pg->conn = NULL;
	pg->copy.len = 0;
	forget_prepared(pg);
	if (connect_with_retries(pg, max_wait_ms > 0 ? max_wait_ms : 0, err) < 0)
		return -1;
	tb_info("reconnected to PostgreSQL at %s", pg->target);
	return setup_session(pg, err);
}

/* ---- statements ---------------------------------------------------------- */

int tb_pg_sqlstate_is_transient(const char *state)
{
	static const char *const transient[] = {"40001", "40P01", "57P01", "57P02", "57P03"};

	if (!state || !state[0])
		return 0;
	if (strncmp(state, "08", 2) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		if (strcmp(state, transient[i]) == 0)
			return 1;
	return 0;
}

const char *tb_pg_sqlstate(const tb_pg_t *pg)
{
	return pg->sqlstate;
}

int tb_pg_failure_is_transient(const tb_pg_t *pg)
{
	return !pg->conn || PQstatus(pg->conn) != CONNECTION_OK || tb_pg_sqlstate_is_transient(pg->sqlstate);
}

/* 1-based line of the 1-based character position `pos` in script (UTF-8:
 * the server counts characters, not bytes). */
static int line_of_position(const char *script, long pos)
{
	int line = 1;
	long chars = 0;

	for (const unsigned char *p = (const unsigned char *)script; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		if (++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Record a failed result (res may be NULL) as pg->sqlstate and err. `script`,
 * when given, turns the error position into a line number. Always -1. */
static int fail_result(tb_pg_t *pg, const PGresult *res, const char *what, const char *script, tb_err_t *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	char msg[768], where[48] = "";

	if (!primary) {
		/* No server answer: the connection broke (or libpq failed locally). */
		one_line(PQerrorMessage(pg->conn), msg, sizeof(msg));
		snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s",
			 PQstatus(pg->conn) == CONNECTION_OK ? "XX000" : "08006");
		return tb_err(err, "%s: %s%s(connection to %s)", what, msg, msg[0] ? " " : "", pg->target);
	}
	snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s", state ? state : "XX000");
	one_line(primary, msg, sizeof(msg));
	if (script && pos)
		snprintf(where, sizeof(where), "line %d: ", line_of_position(script, atol(pos)));
	return tb_err(err, "%s: %s%s%s%s%s%s (SQLSTATE %s)", what, where, msg, detail ? "; " : "",
		      detail ? detail : "", hint ? "; hint: " : "", hint ? hint : "", pg->sqlstate);
}

static int result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
}

long tb_pg_exec(tb_pg_t *pg, const char *what, const char *sql, int n, const char *const *params,
		tb_err_t *err)
{
	PGresult *res = PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
	long rows;

	if (!result_ok(res)) {
		fail_result(pg, res, what, NULL, err);
		PQclear(res);
		return -1;
	}
	rows = atol(PQcmdTuples(res));
	PQclear(res);
	pg->sqlstate[0] = '\0';
	return rows;
}

/* The name of sql's prepared statement in this session, preparing it first;
 * 0 when it cannot be prepared (cache full, or the server refused: the caller
 * runs it unprepared, which reports any error). */
static int prepared_name(tb_pg_t *pg, const char *sql, int n, char *name, size_t cap)
{
	PGresult *res;
	char *copy;
	int i;

	for (i = 0; i < pg->n_prepared; i++)
		if (strcmp(pg->prepared[i], sql) == 0) {
			snprintf(name, cap, "tb_q%d", i);
			return 1;
		}
	if (pg->n_prepared == TB_PG_PREPARED_MAX || !(copy = strdup(sql)))
		return 0;
	snprintf(name, cap, "tb_q%d", i);
	res = PQprepare(pg->conn, name, sql, n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		free(copy);
		return 0;
	}
	PQclear(res);
	pg->prepared[pg->n_prepared++] = copy;
	return 1;
}

/* tb_pg_query and tb_pg_query_prepared: run (prepared when asked and
 * possible), and repeat once after a reconnect when the connection was lost
 * outside a transaction (only such a statement may be repeated). */
static PGresult *query(tb_pg_t *pg, int prepare, const char *what, const char *sql, int n,
		       const char *const *params, tb_err_t *err)
{
	for (int attempt = 0;; attempt++) {
		int idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
		char name[24];
		PGresult *res = prepare && prepared_name(pg, sql, n, name, sizeof(name))
				    ? PQexecPrepared(pg->conn, name, n, params, NULL, NULL, 0)
				    : PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);

		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			pg->sqlstate[0] = '\0';
			return res;
		}
		fail_result(pg, res, what, NULL, err);
		PQclear(res);
		if (attempt > 0 || !idle || PQstatus(pg->conn) == CONNECTION_OK)
			return NULL;
		tb_warn("%s: connection to PostgreSQL lost; reconnecting and retrying once", what);
		if (tb_pg_reconnect(pg, pg->wait_ms, err) < 0)
			return NULL;
	}
}

PGresult *tb_pg_query(tb_pg_t *pg, const char *what, const char *sql, int n, const char *const *params,
		      tb_err_t *err)
{
	return query(pg, 0, what, sql, n, params, err);
}

PGresult *tb_pg_query_prepared(tb_pg_t *pg, const char *what, const char *sql, int n,
			       const char *const *params, tb_err_t *err)
{
	return query(pg, 1, what, sql, n, params, err);
}

int tb_pg_exec_script(tb_pg_t *pg, const char *what, const char *sql, tb_err_t *err)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = 0;

	if (!result_ok(res))
		rc = fail_result(pg, res, what, sql, err);
	else
		pg->sqlstate[0] = '\0';
	PQclear(res);
	/* PQexec returns the last result; drain any stragglers. */
	while ((res = PQgetResult(pg->conn)))
		PQclear(res);
	return rc;
}

/* ---- transactions -------------------------------------------------------- */

int tb_pg_begin(tb_pg_t *pg, tb_err_t *err)
{
	return tb_pg_exec(pg, "begin transaction", "BEGIN", 0, NULL, err) < 0 ? -1 : 0;
}

int tb_pg_commit(tb_pg_t *pg, tb_err_t *err)
{
	/* COMMIT of an aborted transaction "succeeds" as a ROLLBACK: catch it. */
	if (PQtransactionStatus(pg->conn) == PQTRANS_INERROR) {
		tb_pg_rollback(pg);
		snprintf(pg->sqlstate, sizeof(pg->sqlstate), "25P02");
		return tb_err(err, "commit: the transaction was aborted by an earlier error; rolled back");
	}
	return tb_pg_exec(pg, "commit", "COMMIT", 0, NULL, err) < 0 ? -1 : 0;
}

/* A COPY FROM STDIN that is still open: end it as failed so the connection is
 * usable again (the server discards what it got). */
static void abort_copy(tb_pg_t *pg)
{
	PGresult *res;

	pg->copy.len = 0;
	res = PQgetResult(pg->conn);
	if (res && PQresultStatus(res) == PGRES_COPY_IN)
		PQputCopyEnd(pg->conn, "aborted by the client");
	PQclear(res);
	while ((res = PQgetResult(pg->conn)))
		PQclear(res);
}

void tb_pg_rollback(tb_pg_t *pg)
{
	PGTransactionStatusType ts;
	PGresult *res;

	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK)
		return;
	ts = PQtransactionStatus(pg->conn);
	if (ts == PQTRANS_ACTIVE)
		abort_copy(pg);
	ts = PQtransactionStatus(pg->conn);
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
		return;
	res = PQexec(pg->conn, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		char msg[512];

		one_line(PQerrorMessage(pg->conn), msg, sizeof(msg));
		tb_warn("rollback on %s failed: %s", pg->target, msg);
	}
	PQclear(res);
}

static int txn_once(tb_pg_t *pg, tb_pg_txn_fn fn, void *opaque, tb_err_t *err)
{
	if (PQstatus(pg->conn) != CONNECTION_OK && tb_pg_reconnect(pg, pg->wait_ms, err) < 0)
		return -1;
	if (tb_pg_begin(pg, err) < 0 || fn(pg, opaque, err) < 0 || tb_pg_commit(pg, err) < 0)
		return -1;
	return 0;
}

int tb_pg_txn(tb_pg_t *pg, tb_pg_txn_fn fn, void *opaque, int max_attempts, tb_err_t *err)
{
	tb_err_t e = {{0}};

	if (max_attempts <= 0)
		max_attempts = DEFAULT_TXN_ATTEMPTS;
	for (int attempt = 0; attempt < max_attempts; attempt++) {
		int transient;

		if (attempt > 0)
			sleep_ms(tb_pg_backoff_ms(attempt - 1));
		tb_err_clear(&e);
		if (txn_once(pg, fn, opaque, &e) == 0)
			return 0;
		transient = tb_pg_failure_is_transient(pg);
		tb_pg_rollback(pg);
		if (!transient)
			break;
		tb_warn("transaction on %s failed (attempt %d of %d), will run it again: %s", pg->target,
			attempt + 1, max_attempts, e.msg);
		if (attempt + 1 == max_attempts)
			tb_err_wrap(&e, "transaction failed %d times", max_attempts);
	}
	return tb_err(err, "%s", e.msg);
}

/* ---- COPY ---------------------------------------------------------------- */

static int buf_reserve(tb_pg_buf_t *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->len + extra <= b->cap)
		return 0;
	while (cap < b->len + extra)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int tb_pg_copy_format(tb_pg_buf_t *b, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = fields[i];

		/* Worst case: every byte escaped, plus separator and \N. */
		if (buf_reserve(b, (s ? 2 * strlen(s) : 2) + 2) < 0)
			return -1;
		if (i > 0)
			b->data[b->len++] = '\t';
		if (!s) {
			memcpy(b->data + b->len, "\\N", 2);
			b->len += 2;
			continue;
		}
		for (; *s; s++) {
			char esc = *s == '\\'	? '\\'
				   : *s == '\t' ? 't'
				   : *s == '\n' ? 'n'
				   : *s == '\r' ? 'r'
						: 0;

			if (esc) {
				b->data[b->len++] = '\\';
				b->data[b->len++] = esc;
			} else {
				b->data[b->len++] = *s;
			}
		}
	}
	if (buf_reserve(b, 1) < 0)
		return -1;
	b->data[b->len++] = '\n';
	return 0;
}

int tb_pg_copy_begin(tb_pg_t *pg, const char *copy_sql, tb_err_t *err)
{
	PGresult *res = PQexec(pg->conn, copy_sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN)
		rc = fail_result(pg, res, "start COPY", NULL, err);
	PQclear(res);
	pg->copy.len = 0;
	return rc;
}

static int copy_flush(tb_pg_t *pg, tb_err_t *err)
{
	if (pg->copy.len == 0)
		return 0;
	if (PQputCopyData(pg->conn, pg->copy.data, (int)pg->copy.len) != 1)
		return fail_result(pg, NULL, "send COPY data", NULL, err);
	pg->copy.len = 0;
	return 0;
}

int tb_pg_copy_row(tb_pg_t *pg, const char *const *fields, size_t n, tb_err_t *err)
{
	if (tb_pg_copy_format(&pg->copy, fields, n) < 0)
		return tb_err(err, "COPY row: out of memory");
	return pg->copy.len >= COPY_FLUSH_BYTES ? copy_flush(pg, err) : 0;
}

long tb_pg_copy_end(tb_pg_t *pg, tb_err_t *err)
{
	PGresult *res;
	long rows = -1;

	if (copy_flush(pg, err) < 0)
		return -1;
	if (PQputCopyEnd(pg->conn, NULL) != 1)
		return fail_result(pg, NULL, "end COPY", NULL, err);
	res = PQgetResult(pg->conn);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		rows = atol(PQcmdTuples(res));
		pg->sqlstate[0] = '\0';
	} else {
		fail_result(pg, res, "COPY", NULL, err);
	}
	PQclear(res);
	while ((res = PQgetResult(pg->conn)))
		PQclear(res);
	return rows;
}

/* ---- values --------------------------------------------------------------- */

void tb_pg_bytea_hex(const uint8_t *data, size_t len, char *out)
{
	out[0] = '\\';
	out[1] = 'x';
	tb_hex(data, len, out + 2);
}

void tb_pg_ts(int64_t ns, char out[TB_PG_TS_LEN])
{
	/* Floor division, so times before 1970 round down like later ones. */
	int64_t sec = ns / 1000000000 - (ns % 1000000000 < 0);
	int64_t us = (ns - sec * 1000000000) / 1000;
	time_t t = (time_t)sec;
	struct tm tm;
	char day[32];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, TB_PG_TS_LEN, "%s.%06u+00", day, (unsigned)us);
}

/* ---- migrations: files ------------------------------------------------------ */

int tb_pg_migration_parse_name(const char *filename, tb_err_t *err)
{
	size_t len = strlen(filename), digits = 0, i;
	long version = 0;

	if (len >= TB_PG_MIGRATION_NAME_MAX)
		return tb_err(err, "migration file name %.40s... is longer than %d bytes", filename,
			      TB_PG_MIGRATION_NAME_MAX - 1);
	if (len < 4 || strcmp(filename + len - 4, ".sql") != 0)
		return tb_err(err, "migration file %s: name must end in .sql", filename);
	while (filename[digits] >= '0' && filename[digits] <= '9')
		version = version * 10 + (filename[digits++] - '0');
	if (digits == 0 || digits > 9)
		return tb_err(err,
			      "migration file %s: name must start with a version number of 1 to 9 digits "
			      "(NNN_name.sql)",
			      filename);
	if (version == 0)
		return tb_err(err, "migration file %s: version must be greater than 0", filename);
	if (filename[digits] != '_' || digits + 1 == len - 4)
		return tb_err(err, "migration file %s: the version must be followed by _name (NNN_name.sql)",
			      filename);
	for (i = digits + 1; i < len - 4; i++) {
		char c = filename[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return tb_err(err,
				      "migration file %s: name may hold only letters, digits, '_' and '-'",
				      filename);
	}
	return (int)version;
}

static int migration_cmp(const void *a, const void *b)
{
	const tb_pg_migration_t *x = a, *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)data, len);
	tb_hex(digest, sizeof(digest), out);
}

int tb_pg_migrations_from(const char *const *names, const char *const *contents, size_t n,
			  tb_pg_migrations_t *out, tb_err_t *err)
{
	tb_pg_migrations_t m = {calloc(n ? n : 1, sizeof(tb_pg_migration_t)), 0};

	if (!m.items)
		return tb_err(err, "load migrations: out of memory");
	for (; m.n < n; m.n++) {
		tb_pg_migration_t *it = &m.items[m.n];

		it->version = tb_pg_migration_parse_name(names[m.n], err);
		if (it->version < 0)
			goto fail;
		snprintf(it->name, sizeof(it->name), "%s", names[m.n]);
		it->len = strlen(contents[m.n]);
		it->sql = strdup(contents[m.n]);
		if (!it->sql) {
			tb_err(err, "load migration %s: out of memory", names[m.n]);
			goto fail;
		}
		sha256_hex(it->sql, it->len, it->checksum);
	}
	if (n == 0) {
		tb_err(err, "no migrations found");
		goto fail;
	}
	qsort(m.items, m.n, sizeof(*m.items), migration_cmp);
	for (size_t i = 1; i < m.n; i++) {
		if (m.items[i].version == m.items[i - 1].version) {
			tb_err(err, "migrations %s and %s have the same version %d", m.items[i - 1].name,
			       m.items[i].name, m.items[i].version);
			goto fail;
		}
	}
	*out = m;
	return 0;
fail:
	tb_pg_migrations_free(&m);
	return -1;
}

void tb_pg_migrations_free(tb_pg_migrations_t *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].sql);
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

/* Read a whole file as a NUL-terminated string. */
static char *read_text_file(const char *path, tb_err_t *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	struct stat st;
	size_t got;

	if (!f) {
		tb_err(err, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size > MIGRATION_MAX_BYTES) {
		tb_err(err, "read %s: %s", path,
		       st.st_size > MIGRATION_MAX_BYTES ? "larger than 16 MiB" : strerror(errno));
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		tb_err(err, "read %s: out of memory", path);
		goto out;
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	buf[got] = '\0';
	if (got != (size_t)st.st_size || strlen(buf) != got) {
		tb_err(err, "read %s: %s", path,
		       got != (size_t)st.st_size ? "short read" : "contains a NUL byte");
		free(buf);
		buf = NULL;
	}
out:
	fclose(f);
	return buf;
}

/* Collected (name, contents) pairs before tb_pg_migrations_from. */
typedef struct file_list {
	char **names;
	char **contents;
	size_t n, cap;
} file_list_t;

static int file_list_add(file_list_t *l, const char *name, char *contents)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **names = realloc(l->names, cap * sizeof(*names));
		char **texts;

		if (!names)
			return -1;
		l->names = names;
		texts = realloc(l->contents, cap * sizeof(*texts));
		if (!texts)
			return -1;
		l->contents = texts;
		l->cap = cap;
	}
	l->names[l->n] = strdup(name);
	if (!l->names[l->n])
		return -1;
	l->contents[l->n++] = contents;
	return 0;
}

static void file_list_free(file_list_t *l, int owns_contents)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->names[i]);
		if (owns_contents)
			free(l->contents[i]);
	}
	free(l->names);
	free(l->contents);
}

static int ends_with_sql(const char *name)
{
	size_t len = strlen(name);

	return len > 4 && strcmp(name + len - 4, ".sql") == 0;
}

static int list_embedded(file_list_t *l, tb_err_t *err)
{
	size_t plen = strlen(MIGRATION_DIR_EMBEDDED);

	for (const tb_embedded_file_t *f = tb_embedded_files; f->path; f++) {
		if (strncmp(f->path, MIGRATION_DIR_EMBEDDED, plen) != 0 || !ends_with_sql(f->path))
			continue;
		if (file_list_add(l, f->path + plen, (char *)f->data) < 0)
			return tb_err(err, "load embedded migrations: out of memory");
	}
	return 0;
}

static int list_dir(const char *dir, file_list_t *l, tb_err_t *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int rc = 0;

	if (!d)
		return tb_err(err, "open migrations directory %s: %s", dir, strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		char *text;

		if (de->d_name[0] == '.' || !ends_with_sql(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = read_text_file(path, err);
		if (!text)
			rc = -1;
		else if (file_list_add(l, de->d_name, text) < 0) {
			free(text);
			rc = tb_err(err, "load migrations of %s: out of memory", dir);
		}
	}
	closedir(d);
	return rc;
}

int tb_pg_migrations_load(const char *dir, tb_pg_migrations_t *out, tb_err_t *err)
{
	file_list_t l = {0};
	int rc = dir ? list_dir(dir, &l, err) : list_embedded(&l, err);

	if (rc >= 0)
		rc = tb_pg_migrations_from((const char *const *)l.names, (const char *const *)l.contents, l.n,
					   out, err);
	if (rc < 0)
		tb_err_wrap(err, "migrations in %s", dir ? dir : "the binary (schemas/sql)");
	file_list_free(&l, dir != NULL);
	return rc;
}

/* ---- migrations: database ------------------------------------------------- */

typedef struct applied {
	int version;
	char name[TB_PG_MIGRATION_NAME_MAX];
	char checksum[65];
	char applied_at[TB_PG_TS_LEN];
} applied_t;

static const char *const CREATE_MIGRATIONS_TABLE =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL," /* lowercase hex sha256 of the file */
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* The rows of schema_migrations (none when the table does not exist). */
static int read_applied(tb_pg_t *pg, applied_t **out, size_t *n, tb_err_t *err)
{
	PGresult *res;
	applied_t *a;
	int rows;

	*out = NULL;
	*n = 0;
	res = tb_pg_query(pg, "look for schema_migrations",
			  "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, err);
	if (!res)
		return -1;
	rows = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!rows)
		return 0;
	res = tb_pg_query(pg, "read schema_migrations",
			  "SELECT version, name, checksum,"
			  " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			  " FROM schema_migrations ORDER BY version",
			  0, NULL, err);
	if (!res)
		return -1;
	rows = PQntuples(res);
	a = calloc(rows ? (size_t)rows : 1, sizeof(*a));
	if (!a) {
		PQclear(res);
		return tb_err(err, "read schema_migrations: out of memory");
	}
	for (int i = 0; i < rows; i++) {
		a[i].version = atoi(PQgetvalue(res, i, 0));
		snprintf(a[i].name, sizeof(a[i].name), "%s", PQgetvalue(res, i, 1));
		snprintf(a[i].checksum, sizeof(a[i].checksum), "%s", PQgetvalue(res, i, 2));
		snprintf(a[i].applied_at, sizeof(a[i].applied_at), "%s", PQgetvalue(res, i, 3));
	}
	PQclear(res);
	*out = a;
	*n = (size_t)rows;
	return 0;
}

static const tb_pg_migration_t *find_migration(const tb_pg_migrations_t *m, int version)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].version == version)
			return &m->items[i];
	return NULL;
}

static const applied_t *find_applied(const applied_t *a, size_t n, int version)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].version == version)
			return &a[i];
	return NULL;
}

/* Refuse to go on when history and files disagree; returns 0 when consistent. */
static int check_history(const tb_pg_migrations_t *m, const applied_t *a, size_t na, const char *dir,
			 tb_err_t *err)
{
	int newest = 0;

	for (size_t i = 0; i < na; i++) {
		const tb_pg_migration_t *f = find_migration(m, a[i].version);

		if (a[i].version > newest)
			newest = a[i].version;
		if (!f) {
			tb_warn("migration %s (version %d) is applied but not in %s: the database is newer "
				"than these migrations",
				a[i].name, a[i].version, dir ? dir : "this binary");
			continue;
		}
		if (strcmp(f->checksum, a[i].checksum) != 0)
			return tb_err(
			    err,
			    "migration %s was changed after it was applied on %s (checksum %.12s... in the "
			    "database,"
			    " %.12s... in the file): restore the file and put the change in a new migration",
			    f->name, a[i].applied_at, a[i].checksum, f->checksum);
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].version < newest && !find_applied(a, na, m->items[i].version))
			return tb_err(
			    err,
			    "migration %s is not applied but version %d already is: renumber it above %d",
			    m->items[i].name, newest, newest);
	return 0;
}

/* A migration that commits or rolls back itself would escape its
 * schema_migrations row: refuse it. */
static int still_in_transaction(tb_pg_t *pg, const char *what, tb_err_t *err)
{
	if (PQtransactionStatus(pg->conn) == PQTRANS_INTRANS)
		return 0;
	return tb_err(err,
		      "%s: ends the transaction itself (COMMIT/ROLLBACK/BEGIN in the file);"
		      " a migration must not control transactions",
		      what);
}

/* Apply one migration with its schema_migrations row in one transaction. */
static int apply_one(tb_pg_t *pg, const tb_pg_migration_t *mig, tb_err_t *err)
{
	char version[16];
	const char *params[3] = {version, mig->name, mig->checksum};
	int64_t start = now_ms();
	char what[TB_PG_MIGRATION_NAME_MAX + 16];

	snprintf(version, sizeof(version), "%d", mig->version);
	snprintf(what, sizeof(what), "migration %s", mig->name);
	if (tb_pg_begin(pg, err) < 0)
		return -1;
	if (tb_pg_exec_script(pg, what, mig->sql, err) < 0 || still_in_transaction(pg, what, err) < 0 ||
	    tb_pg_exec(pg, "record migration",
		       "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
		       params, err) < 0 ||
	    tb_pg_commit(pg, err) < 0) {
		tb_pg_rollback(pg);
		return -1;
	}
	tb_info("applied migration %s (version %d, sha256 %.12s...) in %lld ms", mig->name, mig->version,
		mig->checksum, (long long)(now_ms() - start));
	return 0;
}

static int lock_migrations(tb_pg_t *pg, tb_err_t *err)
{
	PGresult *res = tb_pg_query(pg, "try the migration lock",
				    "SELECT pg_try_advisory_lock(" MIGRATION_LOCK ")", 0, NULL, err);
	int got;

	if (!res)
		return -1;
	got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (got)
		return 0;
	tb_info("another migrator is working on %s; waiting for it to finish", pg->target);
	res = tb_pg_query(pg, "wait for the migration lock", "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", 0,
			  NULL, err);
	PQclear(res);
	return res ? 0 : -1;
}

/* A lost connection released the lock already: no retry here. */
static void unlock_migrations(tb_pg_t *pg)
{
	PQclear(PQexec(pg->conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")"));
}

static int migrate_locked(tb_pg_t *pg, const tb_pg_migrations_t *m, const char *dir, tb_err_t *err)
{
	applied_t *a = NULL;
	size_t na = 0;
	int applied = 0;

	if (tb_pg_exec(pg, "create schema_migrations", CREATE_MIGRATIONS_TABLE, 0, NULL, err) < 0 ||
	    read_applied(pg, &a, &na, err) < 0 || check_history(m, a, na, dir, err) < 0) {
		applied = -1;
		goto out;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (find_applied(a, na, m->items[i].version))
			continue;
		if (apply_one(pg, &m->items[i], err) < 0) {
			applied = -1;
			goto out;
		}
		applied++;
	}
out:
	free(a);
	return applied;
}

int tb_pg_migrate(tb_pg_t *pg, const char *dir, tb_err_t *err)
{
	tb_pg_migrations_t m = {0};
	int applied;

	if (tb_pg_migrations_load(dir, &m, err) < 0)
		return -1;
	if (lock_migrations(pg, err) < 0) {
		tb_pg_migrations_free(&m);
		return -1;
	}
	applied = migrate_locked(pg, &m, dir, err);
	unlock_migrations(pg);
	if (applied >= 0)
		tb_info("database %s has every migration up to version %d (%d applied now)", pg->target,
			m.items[m.n - 1].version, applied);
	tb_pg_migrations_free(&m);
	return applied;
}

/* ---- migrations: status --------------------------------------------------- */

const char *tb_pg_migration_state_name(tb_pg_migration_state_t s)
{
	switch (s) {
	case TB_PG_MIGRATION_PENDING:
		return "pending";
	case TB_PG_MIGRATION_APPLIED:
		return "applied";
	case TB_PG_MIGRATION_CHANGED:
		return "changed";
	case TB_PG_MIGRATION_UNKNOWN:
		return "unknown";
	}
	return "?";
}

static int status_cmp(const void *a, const void *b)
{
	const tb_pg_migration_status_t *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

int tb_pg_migration_status(tb_pg_t *pg, const char *dir, tb_pg_migration_status_t **out, size_t *n,
			   tb_err_t *err)
{
	tb_pg_migrations_t m = {0};
	applied_t *a = NULL;
	size_t na = 0, k = 0;
	tb_pg_migration_status_t *s = NULL;
	int rc = -1;

	if (tb_pg_migrations_load(dir, &m, err) < 0 || read_applied(pg, &a, &na, err) < 0)
		goto out;
	s = calloc(m.n + na + 1, sizeof(*s)); /* + 1: never calloc(0) */
	if (!s) {
		tb_err(err, "migration status: out of memory");
		goto out;
	}
	for (size_t i = 0; i < m.n; i++, k++) {
		const applied_t *ap = find_applied(a, na, m.items[i].version);

		s[k].version = m.items[i].version;
		snprintf(s[k].name, sizeof(s[k].name), "%s", m.items[i].name);
		s[k].state = !ap					      ? TB_PG_MIGRATION_PENDING
			     : strcmp(ap->checksum, m.items[i].checksum) == 0 ? TB_PG_MIGRATION_APPLIED
									      : TB_PG_MIGRATION_CHANGED;
		if (ap)
			snprintf(s[k].applied_at, sizeof(s[k].applied_at), "%s", ap->applied_at);
	}
	for (size_t i = 0; i < na; i++) {
		if (find_migration(&m, a[i].version))
			continue;
		s[k].version = a[i].version;
		snprintf(s[k].name, sizeof(s[k].name), "%s", a[i].name);
		s[k].state = TB_PG_MIGRATION_UNKNOWN;
		snprintf(s[k].applied_at, sizeof(s[k].applied_at), "%s", a[i].applied_at);
		k++;
	}
	qsort(s, k, sizeof(*s), status_cmp);
	*out = s;
	*n = k;
	s = NULL;
	rc = 0;
out:
	free(s);
	free(a);
	tb_pg_migrations_free(&m);
	return rc;
}
