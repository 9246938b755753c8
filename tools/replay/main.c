/*
 * tools/replay/main.c — tb-replay: prepare a rebuild of everything the
 * pipeline derived after the canonicalizer (correlation and PostgreSQL),
 * e.g. after an SBOM arrived for events that were stored uncorrelated.
 * docs/REPLAY.md is the operator's page; this is how it works.
 *
 * It stops nothing and starts nothing: the operator stops every tb-correlator
 * and tb-aggregator first, runs tb-replay, then starts them again. Steps:
 *  1. Join the correlator's consumer group (tb.events.canonical.v1) and the
 *     aggregator's (tb.events.correlated.v1, tb.artifacts.v1,
 *     tb.findings.v1) as their only member. Being assigned every partition
 *     proves that no instance is still running (a running one would hold
 *     some); otherwise stop with exit 4 and change nothing.
 *  2. Read the watermarks: low of the canonical, artifact and finding
 *     partitions; high of the correlated partitions. Nobody produces to the
 *     correlated topic while the correlators are stopped, so its high
 *     watermarks split "old correlations" from "the replay's".
 *  3. Commit, as group member: the correlator group at the low watermarks of
 *     tb.events.canonical.v1 (it re-reads and re-correlates every retained
 *     event with the index as it is now), the aggregator group at the high
 *     watermarks of tb.events.correlated.v1 and the low ones of the
 *     artifact/finding topics (its fallback when sink_offsets cannot be read).
 *  4. One PostgreSQL transaction: TRUNCATE every table of the schema except
 *     schema_migrations (all of them are the aggregator's output, sink_offsets
 *     included), then store sink_offsets for the aggregator group = the high
 *     watermarks of tb.events.correlated.v1. The aggregator seeks to
 *     sink_offsets on assignment, so it skips the old correlations (which
 *     would otherwise win the event_id dedup with their stale tags), reads the
 *     correlator's new output, and reads artifacts and findings from the
 *     beginning (no row = the beginning).
 * With --from TIME (a whole UTC hour) only the events from TIME on are
 * rebuilt: the correlator group starts at the first canonical record written
 * at or after TIME - --from-margin (records are stamped when written, which
 * is after the event happened, give or take the nodes' clock skew: the
 * margin), step 4 deletes the observations with ts >= TIME and the
 * hot_symbols windows starting at or after TIME (an hour boundary is a window
 * boundary of both widths) instead of truncating, and the catalog,
 * dictionaries and the artifact/finding offsets are kept. Re-read records of
 * events before TIME are duplicates of kept rows and are skipped by the
 * event_id dedup, so they keep their old correlation.
 *
 * Kafka is committed before PostgreSQL so that a failure in between leaves a
 * database that is still consistent (re-correlated duplicates are skipped by
 * the event_id dedup); running tb-replay again completes the replay. It is
 * idempotent.
 *
 * Exit codes: 0 prepared, 1 failure, 2 configuration error, 3 Kafka or
 * PostgreSQL unreachable, 4 a group still has running members.
 */
#include <librdkafka/rdkafka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tb/config.h"
#include "tb/kafka.h"
#include "tb/log.h"
#include "tb/pg.h"
#include "tb/topics.h"

#define VERSION "0.1.0"
#define EXIT_BUSY 4
#define MAX_TOPICS 3

static const tb_option_t options[] = {
    {"pg", TB_OPT_STRING, NULL, "PostgreSQL of the aggregator: conninfo or URL (required)", NULL},
    {"correlator-group", TB_OPT_STRING, "tb-correlator", "the correlators' consumer group (their --group)",
     NULL},
    {"aggregator-group", TB_OPT_STRING, "tb-aggregator", "the aggregators' consumer group (their --group)",
     NULL},
    {"join-wait", TB_OPT_DURATION_MS, "60s",
     "how long to wait to be assigned every partition of both groups (stopped members leave at once; "
     "killed ones after their session timeout)",
     NULL},
    {"pg-connect-wait", TB_OPT_DURATION_MS, "10s", "how long to wait for PostgreSQL", NULL},
    {"from", TB_OPT_STRING, NULL,
     "rebuild only the events from this UTC hour on (YYYY-MM-DDTHH:00:00Z); default: everything", NULL},
    {"from-margin", TB_OPT_DURATION_MS, "15m",
     "with --from: how much earlier than it a record of such an event may have been written (clock skew "
     "of the nodes)",
     NULL},
    {NULL, 0, NULL, NULL, NULL},
};

/* One consumer group we join. */
typedef struct group {
	const char *name;
	const char *topics[MAX_TOPICS];
	size_t n_topics;
	int parts[MAX_TOPICS]; /* partition count per topic */
	rd_kafka_t *rk;
	int complete; /* every partition of every topic assigned to us */
} group_t;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* librdkafka's own log lines, as our JSON logs (syslog levels). */
static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	tb_log_level_t l = TB_LOG_DEBUG;

	if (level <= 3)
		l = TB_LOG_ERROR;
	else if (level <= 4)
		l = TB_LOG_WARN;
	else if (level <= 6)
		l = TB_LOG_INFO;
	tb_log(l, "kafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

static rd_kafka_t *consumer_new(const tb_config_t *cfg, const char *group, tb_err_t *err)
{
	char errstr[512];
	size_t n = 0;
	const char *const *props = tb_config_kafka_props(cfg, &n);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", tb_config_str(cfg, "brokers"), errstr,
			      sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) !=
		RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "tb-replay", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		tb_err(err, "kafka configuration: %s", errstr);
		return NULL;
	}
	if (tb_kafka_conf_apply(conf, props, n, err) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, kafka_log);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		tb_err(err, "kafka consumer: %s", errstr);
		return NULL; /* rd_kafka_new freed conf */
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic, int *out, tb_err_t *err)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;

	if (!t)
		return tb_err(err, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
	e = rd_kafka_metadata(rk, 0, t, &md, 10000);
	rd_kafka_topic_destroy(t);
	if (e)
		return tb_err(err, "metadata of %s: %s", topic, rd_kafka_err2str(e));
	if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
		e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		rd_kafka_metadata_destroy(md);
		return tb_err(err, "metadata of %s: %s", topic, rd_kafka_err2str(e));
	}
	*out = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return 0;
}

static int group_open(const tb_config_t *cfg, group_t *g, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *sub;
	rd_kafka_resp_err_t e;

	g->rk = consumer_new(cfg, g->name, err);
	if (!g->rk)
		return -1;
	for (size_t i = 0; i < g->n_topics; i++)
		if (partition_count(g->rk, g->topics[i], &g->parts[i], err) < 0)
			return -1;
	sub = rd_kafka_topic_partition_list_new((int)g->n_topics);
	for (size_t i = 0; i < g->n_topics; i++)
		rd_kafka_topic_partition_list_add(sub, g->topics[i], RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(g->rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (e)
		return tb_err(err, "join group %s: %s", g->name, rd_kafka_err2str(e));
	return 0;
}

/* How many of the group's partitions are assigned to us; *missing gets a
 * short description of the first ones that are not. */
static int assigned_count(group_t *g, char *missing, size_t cap)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	int have = 0;
	size_t len = 0;

	missing[0] = '\0';
	if (rd_kafka_assignment(g->rk, &a) || !a)
		return 0;
	for (size_t t = 0; t < g->n_topics; t++)
		for (int p = 0; p < g->parts[t]; p++) {
			if (rd_kafka_topic_partition_list_find(a, g->topics[t], p)) {
				have++;
				continue;
			}
			if (len + 64 < cap)
				len += (size_t)snprintf(missing + len, cap - len, "%s%s/%d", len ? " " : "",
							g->topics[t], p);
		}
	rd_kafka_topic_partition_list_destroy(a);
	return have;
}

static int group_total(const group_t *g)
{
	int n = 0;

	for (size_t i = 0; i < g->n_topics; i++)
		n += g->parts[i];
	return n;
}

/* Poll every group until each one assigned us all its partitions. */
static int join_all(group_t *gs, size_t n, int64_t wait_ms, tb_err_t *err)
{
	int64_t deadline = now_ms() + wait_ms;
	char missing[512];
	size_t done = 0;

	while (done < n) {
		done = 0;
		for (size_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = rd_kafka_consumer_poll(gs[i].rk, 50);

			if (m)
				rd_kafka_message_destroy(m); /* fetched, never committed */
			gs[i].complete =
			    assigned_count(&gs[i], missing, sizeof(missing)) == group_total(&gs[i]);
			done += gs[i].complete != 0;
		}
		if (done < n && now_ms() > deadline)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		if (gs[i].complete)
			continue;
		assigned_count(&gs[i], missing, sizeof(missing));
		return tb_err(err,
			      "group %s: after %" PRId64
			      " s other members still hold %s: stop every instance "
			      "using this group (and wait for killed ones to time out) before a replay",
			      gs[i].name, wait_ms / 1000, missing[0] ? missing : "partitions");
	}
	return 0;
}

/* Append (topic, p, low or high watermark) for every partition to `l`.
 * One ListOffsets request for all of them (rd_kafka_offsets_for_times with
 * the protocol's special times -2 = earliest, -1 = latest): asking partition
 * by partition costs a round trip each. */
static int add_watermarks(rd_kafka_t *rk, const char *topic, int parts, int high,
			  rd_kafka_topic_partition_list_t *l, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(parts);
	rd_kafka_resp_err_t e;

	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(q, topic, p)->offset = high ? -1 : -2;
	e = rd_kafka_offsets_for_times(rk, q, 10000);
	for (int i = 0; !e && i < q->cnt; i++) {
		e = q->elems[i].err;
		if (!e && q->elems[i].offset < 0)
			e = RD_KAFKA_RESP_ERR__BAD_MSG;
		if (!e)
			rd_kafka_topic_partition_list_add(l, topic, q->elems[i].partition)->offset =
			    q->elems[i].offset;
	}
	rd_kafka_topic_partition_list_destroy(q);
	if (e)
		return tb_err(err, "%s watermarks of %s: %s", high ? "high" : "low", topic,
			      rd_kafka_err2str(e));
	return 0;
}

/* The first offset in [from, to) of topic/partition whose record was
 * written at or after ts_ms, read record by record through `scan` (a
 * consumer of its own, assigned here, never committing); `to` when none is. */
static int scan_offset_at(rd_kafka_t *scan, const char *topic, int32_t partition, int64_t from, int64_t to,
			  int64_t ts_ms, int64_t *out, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t e;
	int64_t deadline = now_ms() + 120000;
	int rc = 0;

	rd_kafka_topic_partition_list_add(a, topic, partition)->offset = from;
	e = rd_kafka_assign(scan, a);
	rd_kafka_topic_partition_list_destroy(a);
	if (e)
		return tb_err(err, "read %s/%d: %s", topic, (int)partition, rd_kafka_err2str(e));
	*out = to;
	for (int64_t next = from; next < to;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(scan, 500);

		if (!m) {
			if (now_ms() > deadline) {
				rc = tb_err(err, "read %s/%d: no record at offset %" PRId64 " within 120 s",
					    topic, (int)partition, next);
				break;
			}
			continue;
		}
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				rc = tb_err(err, "read %s/%d: %s", topic, (int)partition,
					    rd_kafka_message_errstr(m));
				rd_kafka_message_destroy(m);
				break;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		next = m->offset + 1;
		if (rd_kafka_message_timestamp(m, NULL) >= ts_ms) {
			*out = m->offset;
			rd_kafka_message_destroy(m);
			break;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_assign(scan, NULL);
	return rc;
}

/* Append, for every partition of topic, the first offset whose record was
 * written at or after ts_ms (its high watermark when there is none). The
 * broker answers by its time index (ListOffsets with a timestamp); where it
 * says "none" although the partition's last record is that late (the dev
 * broker, librdkafka's mock cluster, has no time index and always says so),
 * the partition is read record by record through `scan` instead. */
static int add_offsets_at(rd_kafka_t *rk, rd_kafka_t *scan, const char *topic, int parts, int64_t ts_ms,
			  rd_kafka_topic_partition_list_t *l, tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(parts);
	rd_kafka_topic_partition_list_t *low = rd_kafka_topic_partition_list_new(parts);
	rd_kafka_topic_partition_list_t *high = rd_kafka_topic_partition_list_new(parts);
	rd_kafka_resp_err_t e;
	int rc = 0;

	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(q, topic, p)->offset = ts_ms;
	e = rd_kafka_offsets_for_times(rk, q, 10000);
	for (int i = 0; !e && i < q->cnt; i++)
		e = q->elems[i].err;
	if (e)
		rc = tb_err(err, "offsets of %s at %" PRId64 " ms: %s", topic, ts_ms, rd_kafka_err2str(e));
	else if (add_watermarks(rk, topic, parts, 0, low, err) < 0 ||
		 add_watermarks(rk, topic, parts, 1, high, err) < 0)
		rc = -1;
	for (int i = 0; rc == 0 && i < q->cnt; i++) {
		int32_t p = q->elems[i].partition;
		int64_t off = q->elems[i].offset, lo, hi, last;

		if (off < 0) {
			lo = rd_kafka_topic_partition_list_find(low, topic, p)->offset;
			hi = rd_kafka_topic_partition_list_find(high, topic, p)->offset;
			off = hi;
			/* "none": true when the last record is older than ts_ms */
			if (hi > lo &&
			    (scan_offset_at(scan, topic, p, hi - 1, hi, ts_ms, &last, err) < 0 ||
			     (last < hi && scan_offset_at(scan, topic, p, lo, hi, ts_ms, &off, err) < 0)))
				rc = -1;
		}
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = off;
	}
	rd_kafka_topic_partition_list_destroy(q);
	rd_kafka_topic_partition_list_destroy(low);
	rd_kafka_topic_partition_list_destroy(high);
	return rc;
}

static int commit_sync(group_t *g, rd_kafka_topic_partition_list_t *l, tb_err_t *err)
{
	rd_kafka_resp_err_t e = rd_kafka_commit(g->rk, l, 0);

	if (!e)
		for (int i = 0; i < l->cnt && !e; i++)
			e = l->elems[i].err;
	if (e)
		return tb_err(err, "commit offsets of group %s: %s", g->name, rd_kafka_err2str(e));
	return 0;
}

/* ---- PostgreSQL ---------------------------------------------------------------- */

typedef struct pg_reset {
	const char *group;
	const rd_kafka_topic_partition_list_t *correlated; /* high watermarks */
	const char *from;				   /* --from (timestamptz text), NULL: all */
	char tables[4096];				   /* what was truncated, for the report */
} pg_reset_t;

/* The aggregator group's stored offsets of the correlated topic := its high
 * watermarks (the other topics' rows are left as they are). */
static int store_correlated_offsets(tb_pg_t *pg, const pg_reset_t *r, tb_err_t *err)
{
	static const char sql[] =
	    "INSERT INTO sink_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, "
	    "$4) "
	    "ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset";

	for (int i = 0; i < r->correlated->cnt; i++) {
		char part[16], off[32];
		const char *params[4] = {r->group, r->correlated->elems[i].topic, part, off};

		snprintf(part, sizeof(part), "%d", (int)r->correlated->elems[i].partition);
		snprintf(off, sizeof(off), "%" PRId64, r->correlated->elems[i].offset);
		if (tb_pg_exec(pg, "store sink_offsets", sql, 4, params, err) < 0)
			return -1;
	}
	return 0;
}

/* --from: delete what the events from r->from on derived, keep the rest, and
 * move (only) the correlated topic's stored offsets to its high watermarks. */
static int pg_reset_from(tb_pg_t *pg, pg_reset_t *r, tb_err_t *err)
{
	const char *at[1] = {r->from};
	long obs, hot;

	obs = tb_pg_exec(pg, "delete observations from --from", "DELETE FROM observations WHERE ts >= $1", 1,
			 at, err);
	if (obs < 0)
		return -1;
	hot = tb_pg_exec(pg, "delete hot_symbols windows from --from",
			 "DELETE FROM hot_symbols WHERE window_start >= $1", 1, at, err);
	if (hot < 0)
		return -1;
	snprintf(r->tables, sizeof(r->tables), "%ld observations and %ld hot_symbols windows from %s", obs,
		 hot, r->from);
	return store_correlated_offsets(pg, r, err);
}

static int pg_reset_txn(tb_pg_t *pg, void *opaque, tb_err_t *err)
{
	pg_reset_t *r = opaque;
	static const char list_sql[] =
	    "SELECT string_agg(format('%I', c.relname), ', ' ORDER BY c.relname) FROM pg_class c "
	    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
	    "AND NOT c.relispartition AND c.relname <> 'schema_migrations'";
	PGresult *res;
	char sql[sizeof(r->tables) + 64];

	if (r->from)
		return pg_reset_from(pg, r, err);
	res = tb_pg_query(pg, "list the derived tables", list_sql, 0, NULL, err);
	if (!res)
		return -1;
	snprintf(r->tables, sizeof(r->tables), "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!strstr(r->tables, "sink_offsets"))
		return tb_err(err,
			      "no sink_offsets table: is this the aggregator's database (run tb-migrate)?");
	snprintf(sql, sizeof(sql), "TRUNCATE %s", r->tables);
	if (tb_pg_exec(pg, "truncate the derived tables", sql, 0, NULL, err) < 0)
		return -1;
	return store_correlated_offsets(pg, r, err);
}

/* ---- main ------------------------------------------------------------------------- */

static void report(const pg_reset_t *r, const rd_kafka_topic_partition_list_t *canon, const char *cgroup)
{
	printf("%s: %s\n", r->from ? "deleted" : "truncated", r->tables);
	printf("%s starts at:", cgroup);
	for (int i = 0; i < canon->cnt; i++)
		printf(" %s/%d@%" PRId64, canon->elems[i].topic, (int)canon->elems[i].partition,
		       canon->elems[i].offset);
	printf("\n%s starts at:", r->group);
	for (int i = 0; i < r->correlated->cnt; i++)
		printf(" %s/%d@%" PRId64, r->correlated->elems[i].topic,
		       (int)r->correlated->elems[i].partition, r->correlated->elems[i].offset);
	printf(r->from ? " (artifacts and findings where they were)\n"
		       : " (artifacts and findings from the beginning)\n");
	printf("replay prepared: start the correlators and aggregators again\n");
}

/* --from: "YYYY-MM-DDTHH:00:00Z" (a whole UTC hour) -> seconds since the epoch. */
static int parse_from(const char *s, int64_t *out, tb_err_t *err)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!rest || *rest)
		return tb_err(err, "option 'from': '%s' is not YYYY-MM-DDTHH:00:00Z (UTC)", s);
	if (tm.tm_min || tm.tm_sec)
		return tb_err(
		    err,
		    "option 'from': '%s' is not a whole hour (the hourly hot_symbols windows would be "
		    "split)",
		    s);
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* from: --from (NULL: everything), from_s its time (parse_from). */
static int run(const tb_config_t *cfg, tb_pg_t *pg, group_t *gs, const char *from, int64_t from_s,
	       tb_err_t *err)
{
	rd_kafka_topic_partition_list_t *canon = rd_kafka_topic_partition_list_new(16);
	rd_kafka_topic_partition_list_t *agg = rd_kafka_topic_partition_list_new(32);
	rd_kafka_topic_partition_list_t *corr = rd_kafka_topic_partition_list_new(16);
	pg_reset_t r = {.group = gs[1].name, .correlated = corr, .from = from};
	rd_kafka_t *scan = NULL;
	int rc = -1;

	if (join_all(gs, 2, tb_config_duration_ms(cfg, "join-wait"), err) < 0) {
		rc = EXIT_BUSY;
		goto out;
	}
	if (r.from && !(scan = consumer_new(cfg, "tb-replay-scan", err)))
		goto out;
	if ((r.from
		 ? add_offsets_at(gs[0].rk, scan, TB_TOPIC_EVENTS_CANONICAL, gs[0].parts[0],
				  from_s * 1000 - tb_config_duration_ms(cfg, "from-margin"), canon, err)
		 : add_watermarks(gs[0].rk, TB_TOPIC_EVENTS_CANONICAL, gs[0].parts[0], 0, canon, err)) < 0 ||
	    add_watermarks(gs[1].rk, TB_TOPIC_EVENTS_CORRELATED, gs[1].parts[0], 1, corr, err) < 0)
		goto out;
	/* the aggregator group starts the correlated topic at the same high watermarks */
	for (int i = 0; i < corr->cnt; i++)
		rd_kafka_topic_partition_list_add(agg, corr->elems[i].topic, corr->elems[i].partition)
		    ->offset = corr->elems[i].offset;
	if (!r.from && (add_watermarks(gs[1].rk, TB_TOPIC_ARTIFACTS, gs[1].parts[1], 0, agg, err) < 0 ||
			add_watermarks(gs[1].rk, TB_TOPIC_FINDINGS, gs[1].parts[2], 0, agg, err) < 0))
		goto out;
	if (commit_sync(&gs[0], canon, err) < 0 || commit_sync(&gs[1], agg, err) < 0)
		goto out;
	if (tb_pg_txn(pg, pg_reset_txn, &r, 0, err) < 0)
		goto out;
	report(&r, canon, gs[0].name);
	rc = 0;
out:
	if (scan) {
		rd_kafka_consumer_close(scan);
		rd_kafka_destroy(scan);
	}
	rd_kafka_topic_partition_list_destroy(canon);
	rd_kafka_topic_partition_list_destroy(agg);
	rd_kafka_topic_partition_list_destroy(corr);
	return rc;
}

int main(int argc, char **argv)
{
	tb_config_t *cfg = NULL;
	tb_err_t err = {{0}};
	tb_log_level_t level = TB_LOG_INFO;
	tb_pg_t *pg = NULL;
	const char *from;
	int64_t from_s = 0;
	group_t gs[2] = {
	    {.topics = {TB_TOPIC_EVENTS_CANONICAL}, .n_topics = 1},
	    {.topics = {TB_TOPIC_EVENTS_CORRELATED, TB_TOPIC_ARTIFACTS, TB_TOPIC_FINDINGS}, .n_topics = 3},
	};
	int rc, code = 1;

	tb_log_init("tb-replay", TB_LOG_INFO);
	rc = tb_config_load(&cfg, "replay", VERSION, options, argc, argv, &err);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "tb-replay: %s\n", err.msg);
		return rc < 0 ? 2 : 0;
	}
	tb_log_level_parse(tb_config_str(cfg, "log-level"), &level);
	tb_log_init("tb-replay", level);
	if (!tb_config_str(cfg, "pg") || !tb_config_str(cfg, "pg")[0]) {
		fprintf(stderr, "tb-replay: --pg (or TB_PG) is required\n");
		tb_config_free(cfg);
		return 2;
	}
	from = tb_config_str(cfg, "from");
	if (from && !from[0])
		from = NULL;
	if (from && parse_from(from, &from_s, &err) < 0) { /* before joining any group */
		fprintf(stderr, "tb-replay: %s\n", err.msg);
		tb_config_free(cfg);
		return 2;
	}
	gs[0].name = tb_config_str(cfg, "correlator-group");
	gs[1].name = tb_config_str(cfg, "aggregator-group");
	pg =
	    tb_pg_connect(tb_config_str(cfg, "pg"), (int)tb_config_duration_ms(cfg, "pg-connect-wait"), &err);
	if (!pg || group_open(cfg, &gs[0], &err) < 0 || group_open(cfg, &gs[1], &err) < 0) {
		tb_error("%s", err.msg);
		code = 3;
		goto out;
	}
	rc = run(cfg, pg, gs, from, from_s, &err);
	if (rc != 0)
		tb_error("%s", err.msg);
	code = rc == 0 ? 0 : rc == EXIT_BUSY ? EXIT_BUSY : 1;
out:
	for (size_t i = 0; i < 2; i++) {
		if (!gs[i].rk)
			continue;
		rd_kafka_consumer_close(gs[i].rk);
		rd_kafka_destroy(gs[i].rk);
	}
	tb_pg_close(pg);
	tb_config_free(cfg);
	return code;
}
