/*
 * control.c — fault-injection commands of the dev broker (see control.h).
 *
 * Each command is split into words, checked, and mapped onto one
 * rd_kafka_mock_* call. The mock cluster applies them on its own thread, so
 * they are safe to issue while clients are connected.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control.h"

#define MAX_WORDS 8

static const struct {
	const char *name;
	int key;
} apikeys[] = {
    {"Produce", 0},	    {"Fetch", 1},	{"ListOffsets", 2},	 {"Metadata", 3},
    {"OffsetCommit", 8},    {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},	    {"LeaveGroup", 13}, {"SyncGroup", 14},	 {"ApiVersions", 18},
    {"InitProducerId", 22},
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int devbroker_apikey(const char *s)
{
	long v;

	if (parse_long(s, 0, 32767, &v) == 0)
		return (int)v;
	for (size_t i = 0; s && i < sizeof(apikeys) / sizeof(apikeys[0]); i++)
		if (strcasecmp(s, apikeys[i].name) == 0)
			return apikeys[i].key;
	return -1;
}

int devbroker_errcode(const char *s, rd_kafka_resp_err_t *out)
{
	const struct rd_kafka_err_desc *descs;
	size_t n;
	long v;

	if (parse_long(s, -200, 32767, &v) == 0) {
		*out = (rd_kafka_resp_err_t)v;
		return 0;
	}
	if (!s)
		return -1;
	if (strcasecmp(s, "NO_ERROR") == 0) {
		*out = RD_KAFKA_RESP_ERR_NO_ERROR;
		return 0;
	}
	rd_kafka_get_err_descs(&descs, &n);
	for (size_t i = 0; i < n; i++) {
		if (descs[i].name && strcasecmp(s, descs[i].name) == 0) {
			*out = descs[i].code;
			return 0;
		}
	}
	return -1;
}

static int reply_err(char *reply, size_t cap, const char *fmt, const char *arg)
{
	int n = snprintf(reply, cap, "err ");

	snprintf(reply + n, cap - (size_t)n, fmt, arg);
	return -1;
}

static int mock_result(rd_kafka_resp_err_t e, char *reply, size_t cap)
{
	if (e)
		return reply_err(reply, cap, "%s", rd_kafka_err2str(e));
	snprintf(reply, cap, "ok");
	return 0;
}

static int broker_id(const char *s, int n_brokers, long *id)
{
	return parse_long(s, 1, n_brokers, id);
}

static int cmd_broker(rd_kafka_mock_cluster_t *mc, int n_brokers, char **w, int n, char *reply, size_t cap)
{
	long id, ms;

	if (n < 2 || broker_id(w[1], n_brokers, &id) < 0)
		return reply_err(reply, cap, "%s: need a broker id between 1 and the broker count", w[0]);
	if (strcmp(w[0], "down") == 0)
		return mock_result(rd_kafka_mock_broker_set_down(mc, (int32_t)id), reply, cap);
	if (strcmp(w[0], "up") == 0)
		return mock_result(rd_kafka_mock_broker_set_up(mc, (int32_t)id), reply, cap);
	if (n < 3 || parse_long(w[2], 0, 600000, &ms) < 0)
		return reply_err(reply, cap, "%s: usage: rtt BROKER_ID MS", w[0]);
	return mock_result(rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms), reply, cap);
}

static int cmd_errors(rd_kafka_mock_cluster_t *mc, char **w, int n, char *reply, size_t cap)
{
	int key = n > 1 ? devbroker_apikey(w[1]) : -1;
	rd_kafka_resp_err_t e, *errs;
	long count;

	if (key < 0)
		return reply_err(reply, cap, "unknown api key %s", n > 1 ? w[1] : "(none)");
	if (strcmp(w[0], "clear") == 0) {
		rd_kafka_mock_clear_request_errors(mc, (int16_t)key);
		return mock_result(RD_KAFKA_RESP_ERR_NO_ERROR, reply, cap);
	}
	if (n < 4 || parse_long(w[2], 1, 100000, &count) < 0)
		return reply_err(reply, cap, "%s: usage: errors APIKEY COUNT ERR", w[0]);
	if (devbroker_errcode(w[3], &e) < 0)
		return reply_err(reply, cap, "unknown error code %s", w[3]);
	errs = calloc((size_t)count, sizeof(*errs));
	if (!errs)
		return reply_err(reply, cap, "%s", "out of memory");
	for (long i = 0; i < count; i++)
		errs[i] = e;
	rd_kafka_mock_push_request_errors_array(mc, (int16_t)key, (size_t)count, errs);
	free(errs);
	return mock_result(RD_KAFKA_RESP_ERR_NO_ERROR, reply, cap);
}

static int cmd_topic(rd_kafka_mock_cluster_t *mc, int n_brokers, char **w, int n, char *reply, size_t cap)
{
	rd_kafka_resp_err_t e;
	long a, b;

	if (strcmp(w[0], "topic-error") == 0) {
		if (n < 3 || devbroker_errcode(w[2], &e) < 0)
			return reply_err(reply, cap, "%s: usage: topic-error TOPIC ERR", w[0]);
		rd_kafka_mock_topic_set_error(mc, w[1], e);
		return mock_result(RD_KAFKA_RESP_ERR_NO_ERROR, reply, cap);
	}
	if (strcmp(w[0], "leader") == 0) {
		if (n < 4 || parse_long(w[2], 0, 100000, &a) < 0 || broker_id(w[3], n_brokers, &b) < 0)
			return reply_err(reply, cap, "%s: usage: leader TOPIC PARTITION BROKER_ID", w[0]);
		return mock_result(rd_kafka_mock_partition_set_leader(mc, w[1], (int32_t)a, (int32_t)b),
				   reply, cap);
	}
	if (n < 3 || parse_long(w[2], 1, 10000, &a) < 0)
		return reply_err(reply, cap, "%s: usage: create TOPIC PARTITIONS", w[0]);
	return mock_result(rd_kafka_mock_topic_create(mc, w[1], (int)a, n_brokers < 3 ? n_brokers : 3), reply,
			   cap);
}

int devbroker_exec(rd_kafka_mock_cluster_t *mc, int n_brokers, const char *line, char *reply, size_t cap)
{
	char buf[1024], *w[MAX_WORDS], *save = NULL, *tok;
	int n = 0, rc;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok && n < MAX_WORDS;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = tok;
	if (n == 0)
		return reply_err(reply, cap, "%s", "empty command");
	if (strcmp(w[0], "ping") == 0) {
		snprintf(reply, cap, "ok pong");
		return 0;
	}
	if (strcmp(w[0], "help") == 0) {
		snprintf(reply, cap,
			 "ok ping | down ID | up ID | rtt ID MS | errors APIKEY COUNT ERR | clear APIKEY | "
			 "topic-error TOPIC ERR | leader TOPIC PARTITION ID | create TOPIC PARTITIONS");
		return 0;
	}
	if (strcmp(w[0], "down") == 0 || strcmp(w[0], "up") == 0 || strcmp(w[0], "rtt") == 0)
		rc = cmd_broker(mc, n_brokers, w, n, reply, cap);
	else if (strcmp(w[0], "errors") == 0 || strcmp(w[0], "clear") == 0)
		rc = cmd_errors(mc, w, n, reply, cap);
	else if (strcmp(w[0], "topic-error") == 0 || strcmp(w[0], "leader") == 0 ||
		 strcmp(w[0], "create") == 0)
		rc = cmd_topic(mc, n_brokers, w, n, reply, cap);
	else
		rc = reply_err(reply, cap, "unknown command %s (try help)", w[0]);
	return rc;
}
