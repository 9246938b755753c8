/*
 * metadata.c — `tb-kafka metadata` and `tb-kafka topics`.
 *
 * metadata asks the broker which topics exist and how many partitions each
 * has ("topic partitions" lines, sorted); with --watermarks it prints
 * "topic partition low high" per partition instead, so a test can count what
 * a topic holds; with --group G also the offset G has committed on each
 * partition (a fifth column, -1 when none), so a test can wait until a
 * consumer group has caught up without sleeping. The committed offsets are
 * read by a consumer handle that never subscribes, so it does not join G
 * (no rebalance of G's members). topics prints the built-in table of tb/topics.h ("topic
 * partitions cleanup.policy"), the input for creating topics on a real
 * cluster. These talk to librdkafka directly: the wrapper has no metadata API
 * because services do not need one.
 */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb/log.h"
#include "tb/topics.h"
#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tb-kafka metadata [-t TOPIC] [--watermarks [--group GROUP]] [-X k=v]\n"
		   "       tb-kafka topics\n");
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	tb_log(level <= 3   ? TB_LOG_ERROR
	       : level == 4 ? TB_LOG_WARN
	       : level <= 6 ? TB_LOG_INFO
			    : TB_LOG_DEBUG,
	       "kafka %s: %s", fac, buf);
}

/* A producer handle, or with a group a consumer handle of that group (for
 * rd_kafka_committed; it never subscribes). */
static rd_kafka_t *handle(const tool_globals_t *g, const char *group)
{
	rd_kafka_conf_t *rc = rd_kafka_conf_new();
	const char *boot[2] = {"bootstrap.servers", g->bootstrap};
	const char *grp[4] = {"group.id", group, "enable.auto.commit", "false"};
	tb_err_t err = {{0}};
	char errstr[512];
	rd_kafka_t *rk;

	if ((g->bootstrap && tb_kafka_conf_apply(rc, boot, 1, &err) < 0) ||
	    (group && tb_kafka_conf_apply(rc, grp, 2, &err) < 0) ||
	    tb_kafka_conf_apply(rc, g->props.kv, g->props.n, &err) < 0) {
		fprintf(stderr, "tb-kafka metadata: %s\n", err.msg);
		rd_kafka_conf_destroy(rc);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(rc, log_cb);
	rk = rd_kafka_new(group ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, rc, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "tb-kafka metadata: %s\n", errstr);
		rd_kafka_conf_destroy(rc);
	}
	return rk;
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(((const rd_kafka_metadata_topic_t *)a)->topic,
		      ((const rd_kafka_metadata_topic_t *)b)->topic);
}

static int cmp_part(const void *a, const void *b)
{
	return ((const rd_kafka_metadata_partition_t *)a)->id -
	       ((const rd_kafka_metadata_partition_t *)b)->id;
}

/* The committed offsets of the group's handle for every partition of t
 * (sorted by partition), or NULL after printing why. */
static rd_kafka_topic_partition_list_t *committed(rd_kafka_t *rk, const tool_globals_t *g,
						  const rd_kafka_metadata_topic_t *t)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->partition_cnt);
	rd_kafka_resp_err_t e;

	for (int i = 0; i < t->partition_cnt; i++)
		rd_kafka_topic_partition_list_add(l, t->topic, t->partitions[i].id);
	e = rd_kafka_committed(rk, l, g->timeout_ms);
	if (e) {
		fprintf(stderr, "tb-kafka metadata: committed offsets on %s: %s\n", t->topic,
			rd_kafka_err2str(e));
		rd_kafka_topic_partition_list_destroy(l);
		return NULL;
	}
	return l;
}

static int print_topic(rd_kafka_t *rk, const tool_globals_t *g, rd_kafka_metadata_topic_t *t, int watermarks,
		       int with_group)
{
	rd_kafka_topic_partition_list_t *done = NULL;

	if (t->err) {
		fprintf(stderr, "tb-kafka metadata: topic %s: %s\n", t->topic, rd_kafka_err2str(t->err));
		return -1;
	}
	if (!watermarks) {
		printf("%s %d\n", t->topic, t->partition_cnt);
		return 0;
	}
	qsort(t->partitions, (size_t)t->partition_cnt, sizeof(*t->partitions), cmp_part);
	if (with_group && !(done = committed(rk, g, t)))
		return -1;
	for (int i = 0; i < t->partition_cnt; i++) {
		int64_t lo, hi;
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, t->topic, t->partitions[i].id,
									 &lo, &hi, g->timeout_ms);

		if (e) {
			fprintf(stderr, "tb-kafka metadata: watermarks of %s [%d]: %s\n", t->topic,
				t->partitions[i].id, rd_kafka_err2str(e));
			if (done)
				rd_kafka_topic_partition_list_destroy(done);
			return -1;
		}
		if (!done) {
			printf("%s %d %lld %lld\n", t->topic, t->partitions[i].id, (long long)lo,
			       (long long)hi);
			continue;
		}
		const rd_kafka_topic_partition_t *c =
		    rd_kafka_topic_partition_list_find(done, t->topic, t->partitions[i].id);
		long long off = c && !c->err && c->offset >= 0 ? (long long)c->offset : -1;

		printf("%s %d %lld %lld %lld\n", t->topic, t->partitions[i].id, (long long)lo, (long long)hi,
		       off);
	}
	if (done)
		rd_kafka_topic_partition_list_destroy(done);
	return 0;
}

int cmd_metadata(const tool_globals_t *gin, int argc, char **argv)
{
	static const struct option longopts[] = {{"watermarks", no_argument, NULL, 'W'},
						 {"group", required_argument, NULL, 'G'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	tool_globals_t g = *gin;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = NULL;
	const char *topic = NULL, *group = NULL;
	int ch, watermarks = 0, rc = 0;
	rd_kafka_t *rk;
	rd_kafka_resp_err_t e;

	while ((ch = getopt_long(argc, argv, "t:X:h", longopts, NULL)) != -1) {
		if (ch == 't')
			topic = optarg;
		else if (ch == 'W')
			watermarks = 1;
		else if (ch == 'G')
			group = optarg;
		else if (ch == 'X' && tool_add_prop(&g, optarg) == 0)
			continue;
		else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (group && !watermarks) {
		usage(stderr);
		return 2;
	}
	rk = handle(&g, group);
	if (!rk)
		return 1;
	if (topic)
		rkt = rd_kafka_topic_new(rk, topic, NULL);
	e = rd_kafka_metadata(rk, topic ? 0 : 1, rkt, &md, g.timeout_ms);
	if (e) {
		fprintf(stderr, "tb-kafka metadata: cannot reach Kafka at %s: %s\n",
			g.bootstrap ? g.bootstrap : "?", rd_kafka_err2str(e));
		rc = 1;
		goto out;
	}
	qsort(md->topics, (size_t)md->topic_cnt, sizeof(*md->topics), cmp_topic);
	for (int i = 0; i < md->topic_cnt; i++) {
		if (md->topics[i].topic[0] == '_')
			continue; /* internal topics (__consumer_offsets) */
		if (print_topic(rk, &g, &md->topics[i], watermarks, group != NULL) < 0)
			rc = 1;
	}
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return rc;
}

int cmd_topics(const tool_globals_t *g, int argc, char **argv)
{
	(void)g;
	(void)argv;
	if (argc > 1) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; tb_topics[i].name; i++)
		printf("%s %d %s\n", tb_topics[i].name, tb_topics[i].partitions, tb_topics[i].cleanup_policy);
	return 0;
}
