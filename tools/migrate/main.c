/*
 * tools/migrate/main.c — tb-migrate: apply or list the PostgreSQL schema
 * migrations (schemas/sql/NNN_name.sql).
 *
 * A thin front of tb_pg_migrate / tb_pg_migration_status (tb/pg.h): the
 * migrations compiled into the binary are used unless --dir names a
 * directory. Services never migrate on their own; deployments (and
 * `make run`, and tests) run this once before starting them.
 *
 * Exit codes: 0 ok, 2 bad usage, 3 cannot connect, 4 a migration failed (or,
 * with --status, an applied migration's file changed).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/log.h"
#include "tb/pg.h"

#define EXIT_USAGE 2
#define EXIT_CONNECT 3
#define EXIT_MIGRATION 4

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tb-migrate --pg CONNINFO [--dir DIR] [--status] [--wait SECONDS] [--log-level LEVEL]\n"
	    "\n"
	    "Apply the pending PostgreSQL migrations (each in its own transaction, recorded in\n"
	    "schema_migrations), or with --status list every migration and its state.\n"
	    "\n"
	    "  --pg CONNINFO     postgresql:// URL or key=value conninfo (default: $TB_PG_URL)\n"
	    "  --dir DIR         read NNN_name.sql files from DIR instead of the ones built in\n"
	    "  --status          list migrations (pending, applied, changed, unknown); change nothing\n"
	    "  --wait SECONDS    keep retrying an unreachable server this long (default 10)\n"
	    "  --log-level L     debug|info|warn|error (default info; logs are JSON on stderr)\n"
	    "  --version         print the schema version built into this binary\n"
	    "\n"
	    "Exit codes: 0 ok, 2 bad usage, 3 cannot connect, 4 migration failed or changed.\n");
}

typedef struct opts {
	const char *pg;
	const char *dir;
	int status;
	int wait_ms;
} opts_t;

/* Parse argv; returns -1 to exit with `*code`. */
static int parse_args(int argc, char **argv, opts_t *o, int *code)
{
	static const struct option longopts[] = {
	    {"pg", required_argument, NULL, 'p'},
	    {"dir", required_argument, NULL, 'd'},
	    {"status", no_argument, NULL, 's'},
	    {"wait", required_argument, NULL, 'w'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	tb_log_level_t level = TB_LOG_INFO;
	tb_pg_migrations_t m = {0};
	tb_err_t err = {{0}};
	char *end;
	int c;

	o->pg = getenv("TB_PG_URL");
	o->wait_ms = 10000;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pg = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 's':
			o->status = 1;
			break;
		case 'w':
			o->wait_ms = (int)(strtod(optarg, &end) * 1000);
			if (end == optarg || *end || o->wait_ms < 0) {
				fprintf(stderr, "tb-migrate: --wait needs a number of seconds, not '%s'\n",
					optarg);
				*code = EXIT_USAGE;
				return -1;
			}
			break;
		case 'l':
			if (tb_log_level_parse(optarg, &level) < 0) {
				fprintf(stderr,
					"tb-migrate: --log-level must be debug, info, warn or error\n");
				*code = EXIT_USAGE;
				return -1;
			}
			break;
		case 'V':
			if (tb_pg_migrations_load(NULL, &m, &err) < 0) {
				fprintf(stderr, "tb-migrate: %s\n", err.msg);
				*code = EXIT_MIGRATION;
				return -1;
			}
			printf("tb-migrate: schema version %d (%zu migrations built in, newest %s)\n",
			       m.items[m.n - 1].version, m.n, m.items[m.n - 1].name);
			tb_pg_migrations_free(&m);
			*code = 0;
			return -1;
		case 'h':
			usage(stdout);
			*code = 0;
			return -1;
		default:
			usage(stderr);
			*code = EXIT_USAGE;
			return -1;
		}
	}
	if (optind < argc || !o->pg || !o->pg[0]) {
		fprintf(stderr,
			optind < argc ? "tb-migrate: unexpected argument '%s'\n"
				      : "tb-migrate: --pg CONNINFO (or TB_PG_URL) is required%s\n",
			optind < argc ? argv[optind] : "");
		usage(stderr);
		*code = EXIT_USAGE;
		return -1;
	}
	tb_log_init("tb-migrate", level);
	return 0;
}

/* Print the table; returns EXIT_MIGRATION when a migration changed. */
static int print_status(tb_pg_t *pg, const char *dir)
{
	tb_pg_migration_status_t *s = NULL;
	tb_err_t err = {{0}};
	size_t n = 0;
	int changed = 0;

	if (tb_pg_migration_status(pg, dir, &s, &n, &err) < 0) {
		tb_error("migration status of %s: %s", tb_pg_target(pg), err.msg);
		return EXIT_MIGRATION;
	}
	printf("%-8s %-8s %-21s %s\n", "VERSION", "STATE", "APPLIED_AT", "NAME");
	for (size_t i = 0; i < n; i++) {
		printf("%-8d %-8s %-21s %s\n", s[i].version, tb_pg_migration_state_name(s[i].state),
		       s[i].applied_at[0] ? s[i].applied_at : "-", s[i].name);
		if (s[i].state == TB_PG_MIGRATION_CHANGED) {
			tb_error("migration %s was changed after it was applied", s[i].name);
			changed = 1;
		}
	}
	free(s);
	return changed ? EXIT_MIGRATION : 0;
}

int main(int argc, char **argv)
{
	opts_t o = {0};
	tb_err_t err = {{0}};
	tb_pg_t *pg;
	int code = 0, applied;

	tb_log_init("tb-migrate", TB_LOG_INFO);
	if (parse_args(argc, argv, &o, &code) < 0)
		return code;
	pg = tb_pg_connect(o.pg, o.wait_ms, &err);
	if (!pg) {
		tb_error("%s", err.msg);
		return EXIT_CONNECT;
	}
	if (o.status) {
		code = print_status(pg, o.dir);
	} else if ((applied = tb_pg_migrate(pg, o.dir, &err)) < 0) {
		tb_error("%s", err.msg);
		code = EXIT_MIGRATION;
	} else {
		printf("applied %d migration%s to %s\n", applied, applied == 1 ? "" : "s", tb_pg_target(pg));
	}
	tb_pg_close(pg);
	return code;
}
