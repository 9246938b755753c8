/*
 * Unit tests for the adapter's record handling (ingest.c) and file input
 * (filein.c, position.c), with a collecting sink in place of Kafka: which
 * events and dead letters come out of files, stdin and Kafka messages, with
 * which reasons and positions; skipped types; positions that only move past
 * handled records; resume after a restart, after a rotation while stopped,
 * and when the saved file is gone. Files live in a per-test temp dir.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../../services/adapter/filein.h"
#include "../../../services/adapter/ingest.h"
#include "../../../services/adapter/position.h"
#include "tb/avro.h"
#include "tb/hash.h"
#include "tb/topics.h"

#define MAX_REC 64

typedef struct rec_event {
	char kind[32];
	char origin[256];
	char exec_id[64];
	char id[33];
	int64_t count;
} rec_event_t;

typedef struct rec_dead {
	char reason[1200];
	char topic[64];
	int32_t partition;
	int64_t offset;
	char position[256];
	char payload[512];
	char key[64];
} rec_dead_t;

typedef struct fx {
	char dir[64];
	char path[128];
	char old[128];
	char posfile[128];
	tb_metrics_t *metrics;
	tb_avro_registry_t *reg;
	tb_adapter_t *ad;
	rec_event_t ev[MAX_REC];
	size_t n_ev;
	rec_dead_t dead[MAX_REC];
	size_t n_dead;
	int fail_sink;
} fx_t;

#define EV_EXEC(exec, extra)                                                                                 \
	"{\"process_exec\":{\"process\":{\"exec_id\":\"" exec "\",\"pid\":7,\"binary\":\"/bin/sh\"}}"        \
	",\"node_name\":\"n1\",\"time\":\"2024-05-01T10:00:00Z\"" extra "}"

/* ---- the collecting sink ---------------------------------------------------- */

static int on_event(void *ctx, const tb_runtime_event_t *ev, tb_err_t *err)
{
	fx_t *f = ctx;
	rec_event_t *r;

	if (f->fail_sink)
		return tb_err(err, "sink down");
	assert_true(f->n_ev < MAX_REC);
	r = &f->ev[f->n_ev++];
	snprintf(r->kind, sizeof(r->kind), "%s", ev->kind ? ev->kind : "");
	snprintf(r->origin, sizeof(r->origin), "%s", ev->origin ? ev->origin : "");
	snprintf(r->exec_id, sizeof(r->exec_id), "%s", ev->process.exec_id ? ev->process.exec_id : "");
	tb_hex(ev->event_id, 16, r->id);
	r->count = ev->count;
	return 0;
}

static int on_dead(void *ctx, const char *reason, const char *topic, int32_t partition, int64_t offset,
		   const char *position, const void *key, size_t key_len, const void *payload, size_t len,
		   tb_err_t *err)
{
	fx_t *f = ctx;
	rec_dead_t *d;

	if (f->fail_sink)
		return tb_err(err, "sink down");
	assert_true(f->n_dead < MAX_REC);
	d = &f->dead[f->n_dead++];
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	snprintf(d->topic, sizeof(d->topic), "%s", topic ? topic : "");
	d->partition = partition;
	d->offset = offset;
	snprintf(d->position, sizeof(d->position), "%s", position ? position : "");
	snprintf(d->payload, sizeof(d->payload), "%.*s", (int)(len < 511 ? len : 511),
		 payload ? (const char *)payload : "");
	snprintf(d->key, sizeof(d->key), "%.*s", (int)(key_len < 63 ? key_len : 63),
		 key ? (const char *)key : "");
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

#define EXPECT_STR(want, got)                                                                                \
	do {                                                                                                 \
		if (strcmp((want), (got)) != 0)                                                              \
			fail_msg("%s: expected \"%s\", got \"%s\"", #got, (want), (got));                    \
	} while (0)
#define EXPECT_INT(want, got)                                                                                \
	do {                                                                                                 \
		if ((int64_t)(want) != (int64_t)(got))                                                       \
			fail_msg("%s: expected %lld, got %lld", #got, (long long)(want), (long long)(got));  \
	} while (0)
#define EXPECT_HAS(needle, hay)                                                                              \
	do {                                                                                                 \
		if (!strstr((hay), (needle)))                                                                \
			fail_msg("%s: expected to contain \"%s\", got \"%s\"", #hay, (needle), (hay));       \
	} while (0)

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	tb_err_t err = {{0}};
	tb_adapter_conf_t c = {.tenant = "t1"};

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tb-adapter-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tetragon.log", f->dir);
	snprintf(f->old, sizeof(f->old), "%s/tetragon-2026-03-14T09-00-00.000.log", f->dir);
	snprintf(f->posfile, sizeof(f->posfile), "%s/positions", f->dir);
	f->metrics = tb_metrics_new("tb_adapter");
	f->reg = tb_avro_registry_new(&err);
	c.reg = f->reg;
	c.metrics = f->metrics;
	c.sink = (tb_adapter_sink_t){on_event, on_dead, f};
	f->ad = tb_adapter_new(&c, &err);
	if (!f->ad)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	char tmp[160];

	tb_adapter_free(f->ad);
	tb_avro_registry_free(f->reg);
	tb_metrics_free(f->metrics);
	unlink(f->path);
	unlink(f->old);
	unlink(f->posfile);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->posfile);
	unlink(tmp);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static tb_adapter_filein_t *open_in(fx_t *f, const char *path, const tb_adapter_pos_t *resume)
{
	tb_adapter_filein_conf_t c = {.path = path, .resume = resume, .metrics = f->metrics};
	tb_err_t err = {{0}};
	tb_adapter_filein_t *in = tb_adapter_filein_open(&c, f->ad, &err);

	if (!in)
		fail_msg("open input %s: %s", path, err.msg);
	return in;
}

static long poll_in(tb_adapter_filein_t *in)
{
	tb_err_t err = {{0}};
	long n = tb_adapter_filein_poll(in, 1 << 20, &err);

	if (n < 0)
		fail_msg("poll: %s", err.msg);
	return n;
}

static int64_t metric(fx_t *f, const char *line_prefix)
{
	char *text = tb_metrics_render(f->metrics), *p;
	int64_t v = -1;

	assert_non_null(text);
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) /* at a line start only */
		if (strncmp(p, line_prefix, strlen(line_prefix)) == 0) {
			v = strtoll(p + strlen(line_prefix), NULL, 10);
			break;
		}
	free(text);
	return v;
}

static tb_kafka_msg_t kmsg(const char *topic, int32_t part, int64_t off, const char *key, const void *v,
			   size_t len)
{
	tb_kafka_msg_t m = {.topic = topic,
			    .partition = part,
			    .offset = off,
			    .key = key,
			    .key_len = key ? strlen(key) : 0,
			    .value = v,
			    .value_len = len};
	return m;
}

/* ---- files ---------------------------------------------------------------- */

static void corrupted_line_between_good_ones_is_dead_lettered_with_its_line(void **state)
{
	fx_t *f = *state;
	const char *bad = "{\"process_exec\":{\"process\":{\"exec_id\":\"cut";
	tb_adapter_filein_t *in;
	size_t line1;

	line1 = strlen(EV_EXEC("a", "")) + 1;
	append(f->path, EV_EXEC("a", "") "\n");
	append(f->path, bad);
	append(f->path, "\n" EV_EXEC("b", "") "\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	EXPECT_INT(2, f->n_ev);
	EXPECT_STR("a", f->ev[0].exec_id);
	EXPECT_STR("b", f->ev[1].exec_id);
	EXPECT_INT(1, f->n_dead);
	EXPECT_HAS("json: truncated: object not closed", f->dead[0].reason);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s:2:1", f->path);
		EXPECT_STR(want, f->dead[0].position);
		snprintf(want, sizeof(want), "%s:3", f->path);
		EXPECT_STR(want, f->ev[1].origin);
	}
	EXPECT_INT(line1, f->dead[0].offset);
	EXPECT_STR(bad, f->dead[0].payload);
	EXPECT_STR("", f->dead[0].topic);
	EXPECT_INT(-1, f->dead[0].partition);
	EXPECT_INT(2, metric(f, "tb_adapter_events_in_total{input=\"file\",format=\"tetragon\"} "));
	EXPECT_INT(1, metric(f, "tb_adapter_dead_lettered_total{input=\"file\"} "));
	tb_adapter_filein_free(in);
}

static void garbage_and_non_events_are_dead_lettered_precisely(void **state)
{
	fx_t *f = *state;
	tb_adapter_filein_t *in;
	char want[256];

	append(f->path, "not json at all\n"
			"{\"address\":\"1\",\"offset\":\"2\",\"symbol\":\"x\"}\n"
			"{\"process_exec\":{\"process\":{\"pid\":\"seven\"}}}\n" EV_EXEC("ok", "") "\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	EXPECT_INT(1, f->n_ev);
	EXPECT_INT(3, f->n_dead);
	EXPECT_STR("json: garbage: unexpected bytes between objects (expected '{')", f->dead[0].reason);
	EXPECT_STR("not json at all", f->dead[0].payload);
	EXPECT_HAS("tetragon: not a Tetragon event: no event key", f->dead[1].reason);
	EXPECT_HAS("stack trace entry", f->dead[1].reason);
	snprintf(want, sizeof(want), "%s:2:1", f->path);
	EXPECT_STR(want, f->dead[1].position);
	EXPECT_HAS("tetragon: ", f->dead[2].reason);
	EXPECT_HAS("process_exec.process.pid", f->dead[2].reason);
	snprintf(want, sizeof(want), "%s:3:1", f->path);
	EXPECT_STR(want, f->dead[2].position);
	tb_adapter_filein_free(in);
}

static void unknown_event_types_are_counted_not_dead_lettered(void **state)
{
	fx_t *f = *state;
	tb_adapter_filein_t *in;

	append(f->path,
	       "{\"process_connect\":{\"process\":{\"exec_id\":\"x\"}},\"node_name\":\"n\"}\n"
	       "{\"test\":{}, \"node_name\":\"n\"}\n"
	       "{\"process_connect\":{\"process\":{\"exec_id\":\"y\"}},\"node_name\":\"n\"}\n" EV_EXEC(
		   "z", "") "\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	EXPECT_INT(1, f->n_ev);
	EXPECT_INT(0, f->n_dead);
	EXPECT_INT(2, metric(f, "tb_adapter_skipped_total{type=\"process_connect\"} "));
	EXPECT_INT(1, metric(f, "tb_adapter_skipped_total{type=\"test\"} "));
	EXPECT_INT(1, metric(f, "tb_adapter_events_out_total{source=\"tetragon\",kind=\"exec\"} "));
	tb_adapter_filein_free(in);
}

static void oversized_object_is_dead_lettered_and_the_next_arrives(void **state)
{
	fx_t *f = *state;
	tb_adapter_filein_conf_t c = {.path = f->path, .max_object = 256, .metrics = f->metrics};
	tb_adapter_filein_t *in;
	tb_err_t err = {{0}};
	char big[1024];

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	append(f->path, "{\"process_exec\":{\"process\":{\"binary\":\"");
	append(f->path, big);
	append(f->path, "\"}}}\n" EV_EXEC("after", "") "\n");
	in = tb_adapter_filein_open(&c, f->ad, &err);
	assert_non_null(in);
	poll_in(in);
	EXPECT_INT(1, f->n_dead);
	EXPECT_STR("json: too_large: object larger than 256 bytes: skipped up to its end", f->dead[0].reason);
	EXPECT_INT(1, f->n_ev);
	EXPECT_STR("after", f->ev[0].exec_id);
	tb_adapter_filein_free(in);
}

static void position_moves_only_past_handled_objects(void **state)
{
	fx_t *f = *state;
	const char *first = EV_EXEC("a", "") "\n";
	const char *half = "{\"process_exec\":{\"process\":{\"exec_id\":\"b\",";
	tb_adapter_filein_t *in;
	tb_adapter_pos_t p;
	struct stat st;

	append(f->path, first);
	append(f->path, half);
	in = open_in(f, f->path, NULL);
	poll_in(in);
	assert_int_equal(tb_adapter_filein_position(in, &p), 1);
	assert_int_equal(stat(f->path, &st), 0);
	EXPECT_INT(st.st_ino, p.ino);
	EXPECT_INT(st.st_dev, p.dev);
	EXPECT_INT(strlen(first) - 1, p.offset); /* just after the first object's '}' */
	EXPECT_INT(1, p.line);
	EXPECT_INT(1, f->n_ev);
	/* the writer completes the object: handled now, position moves */
	append(f->path, "\"pid\":3}},\"node_name\":\"n1\"}\n");
	poll_in(in);
	EXPECT_INT(2, f->n_ev);
	assert_int_equal(tb_adapter_filein_position(in, &p), 1);
	assert_int_equal(stat(f->path, &st), 0);
	EXPECT_INT(st.st_size - 1, p.offset);
	EXPECT_INT(2, p.line);
	tb_adapter_filein_free(in);
}

/* Save, "restart", resume: only what came after the saved point is read. */
static void restart_resumes_at_the_saved_position(void **state)
{
	fx_t *f = *state;
	tb_adapter_posfile_t *pf;
	tb_adapter_filein_t *in;
	tb_adapter_pos_t p, got;
	tb_err_t err = {{0}};
	char want[256];

	append(f->path, EV_EXEC("a", "") "\n" EV_EXEC("b", "") "\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	assert_int_equal(tb_adapter_filein_position(in, &p), 1);
	pf = tb_adapter_posfile_open(f->posfile, &err);
	assert_non_null(pf);
	assert_int_equal(tb_adapter_posfile_set(pf, f->path, &p, &err), 0);
	assert_int_equal(tb_adapter_posfile_save(pf, &err), 0);
	tb_adapter_posfile_free(pf);
	tb_adapter_filein_free(in);

	append(f->path, "garbage line\n" EV_EXEC("c", "") "\n");
	f->n_ev = f->n_dead = 0;
	pf = tb_adapter_posfile_open(f->posfile, &err);
	assert_non_null(pf);
	assert_int_equal(tb_adapter_posfile_get(pf, f->path, &got), 1);
	EXPECT_INT(p.offset, got.offset);
	EXPECT_INT(p.line, got.line);
	in = open_in(f, f->path, &got);
	poll_in(in);
	EXPECT_INT(1, f->n_ev);
	EXPECT_STR("c", f->ev[0].exec_id);
	snprintf(want, sizeof(want), "%s:4", f->path);
	EXPECT_STR(want, f->ev[0].origin); /* line numbers continue */
	EXPECT_INT(1, f->n_dead);
	snprintf(want, sizeof(want), "%s:3:1", f->path);
	EXPECT_STR(want, f->dead[0].position);
	tb_adapter_filein_free(in);
	tb_adapter_posfile_free(pf);
}

static void rotation_while_stopped_finishes_the_old_file_first(void **state)
{
	fx_t *f = *state;
	tb_adapter_filein_t *in;
	tb_adapter_pos_t p;
	char want[256];

	append(f->path, EV_EXEC("a", "") "\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	assert_int_equal(tb_adapter_filein_position(in, &p), 1);
	tb_adapter_filein_free(in);
	/* while stopped: more lines, rotation, a new file */
	append(f->path, EV_EXEC("b", "") "\n");
	assert_int_equal(rename(f->path, f->old), 0);
	append(f->path, EV_EXEC("c", "") "\n");
	f->n_ev = 0;
	in = open_in(f, f->path, &p);
	poll_in(in);
	EXPECT_INT(2, f->n_ev);
	EXPECT_STR("b", f->ev[0].exec_id);
	snprintf(want, sizeof(want), "%s:2", f->old);
	EXPECT_STR(want, f->ev[0].origin);
	EXPECT_STR("c", f->ev[1].exec_id);
	snprintf(want, sizeof(want), "%s:1", f->path);
	EXPECT_STR(want, f->ev[1].origin);
	tb_adapter_filein_free(in);
}

static void saved_file_gone_reads_the_current_file_from_its_start(void **state)
{
	fx_t *f = *state;
	tb_adapter_pos_t p = {.dev = 1, .ino = 1, .offset = 5, .line = 2}; /* no such file here */
	tb_adapter_filein_t *in;

	append(f->path, EV_EXEC("a", "") "\n" EV_EXEC("b", "") "\n");
	in = open_in(f, f->path, &p);
	poll_in(in);
	EXPECT_INT(2, f->n_ev);
	tb_adapter_filein_free(in);
}

static void rotation_while_tailing_loses_nothing(void **state)
{
	fx_t *f = *state;
	tb_adapter_filein_t *in;
	tb_adapter_pos_t p;
	struct stat st;

	append(f->path, EV_EXEC("a", "") "\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	append(f->path, EV_EXEC("b", "") "\n{\"process_exec\":"); /* last object cut by the rotation */
	assert_int_equal(rename(f->path, f->old), 0);
	append(f->path, EV_EXEC("c", "") "\n");
	poll_in(in);
	poll_in(in);
	EXPECT_INT(3, f->n_ev);
	EXPECT_STR("b", f->ev[1].exec_id);
	EXPECT_STR("c", f->ev[2].exec_id);
	EXPECT_INT(1, f->n_dead);
	EXPECT_HAS("end of input", f->dead[0].reason);
	EXPECT_INT(1, metric(f, "tb_adapter_tail_switches_total{why=\"rotated\"} "));
	assert_int_equal(tb_adapter_filein_position(in, &p), 1);
	assert_int_equal(stat(f->path, &st), 0);
	EXPECT_INT(st.st_ino, p.ino); /* the position follows the new file */
	tb_adapter_filein_free(in);
}

static void stdin_eof_dead_letters_the_unfinished_object_and_ends(void **state)
{
	fx_t *f = *state;
	int p[2], saved = dup(STDIN_FILENO);
	const char *text = EV_EXEC("a", "") "\n{\"process_exec\":{";
	tb_adapter_filein_t *in;
	tb_adapter_pos_t pos;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	assert_int_equal(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	in = open_in(f, "-", NULL);
	for (int i = 0; i < 100 && !tb_adapter_filein_eof(in); i++)
		poll_in(in);
	assert_true(tb_adapter_filein_eof(in));
	assert_int_equal(tb_adapter_filein_position(in, &pos), 0); /* stdin has none */
	EXPECT_INT(1, f->n_ev);
	EXPECT_STR("stdin:1", f->ev[0].origin);
	EXPECT_INT(1, f->n_dead);
	EXPECT_STR("stdin:2:1", f->dead[0].position);
	EXPECT_HAS("end of input", f->dead[0].reason);
	EXPECT_INT(1, metric(f, "tb_adapter_events_in_total{input=\"stdin\",format=\"tetragon\"} "));
	tb_adapter_filein_free(in);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static void sink_failure_is_fatal_and_does_not_move_the_position(void **state)
{
	fx_t *f = *state;
	tb_adapter_filein_t *in;
	tb_adapter_pos_t p;
	tb_err_t err = {{0}};

	append(f->path, EV_EXEC("a", "") "\n");
	in = open_in(f, f->path, NULL);
	f->fail_sink = 1;
	EXPECT_INT(-1, tb_adapter_filein_poll(in, 1 << 20, &err));
	EXPECT_HAS("sink down", err.msg);
	assert_int_equal(tb_adapter_filein_position(in, &p), 1);
	EXPECT_INT(0, p.offset);
	tb_adapter_filein_free(in);
}

/* ---- Kafka messages ------------------------------------------------------- */

static void tetragon_message_objects_succeed_or_fail_alone(void **state)
{
	fx_t *f = *state;
	const char *v = EV_EXEC("a", "") "\n{\"process_kprobe\":[]}\n" EV_EXEC("c", "");
	tb_kafka_msg_t m = kmsg(TB_TOPIC_TETRAGON_RAW, 2, 7, "k1", v, strlen(v));
	tb_err_t err = {{0}};

	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(2, f->n_ev);
	EXPECT_STR("tb.tetragon.raw.v1/2@7", f->ev[0].origin);
	EXPECT_STR("c", f->ev[1].exec_id);
	EXPECT_INT(1, f->n_dead);
	EXPECT_STR("tb.tetragon.raw.v1", f->dead[0].topic);
	EXPECT_INT(2, f->dead[0].partition);
	EXPECT_INT(7, f->dead[0].offset);
	EXPECT_STR("tb.tetragon.raw.v1/2@7:2:1", f->dead[0].position);
	EXPECT_STR("{\"process_kprobe\":[]}", f->dead[0].payload);
	EXPECT_STR("k1", f->dead[0].key);
	EXPECT_HAS("tetragon: ", f->dead[0].reason);
	EXPECT_INT(1, metric(f, "tb_adapter_dead_lettered_total{input=\"kafka\"} "));
}

/* The splitter keeps only max_size bytes of an oversized object: from Kafka
 * the dead letter must hold the whole message, so a re-drive after the limit
 * was raised re-produces exactly what was sent. */
static void oversized_object_in_a_message_dead_letters_the_whole_message(void **state)
{
	fx_t *f = *state;
	tb_adapter_conf_t c = {.tenant = "t1", .reg = f->reg, .metrics = f->metrics, .max_object = 256};
	char v[400], big[300];
	tb_kafka_msg_t m;
	tb_adapter_t *small;
	tb_err_t err = {{0}};

	c.sink = (tb_adapter_sink_t){on_event, on_dead, f};
	small = tb_adapter_new(&c, &err);
	assert_non_null(small);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(v, sizeof(v), "{\"process_exec\":{\"process\":{\"binary\":\"%s\"}}}", big);
	m = kmsg(TB_TOPIC_TETRAGON_RAW, 1, 4, "k", v, strlen(v));
	assert_int_equal(tb_adapter_kafka_message(small, &m, &err), 0);
	EXPECT_INT(1, f->n_dead);
	EXPECT_HAS("json: too_large: ", f->dead[0].reason);
	EXPECT_HAS("(the dead letter holds the whole message)", f->dead[0].reason);
	EXPECT_STR(v, f->dead[0].payload);
	EXPECT_INT(4, f->dead[0].offset);
	EXPECT_INT(0, f->n_ev);
	tb_adapter_free(small);
}

static void empty_and_whitespace_messages_are_dead_lettered(void **state)
{
	fx_t *f = *state;
	tb_kafka_msg_t m = kmsg(TB_TOPIC_TETRAGON_RAW, 0, 1, NULL, NULL, 0);
	tb_err_t err = {{0}};

	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	m = kmsg(TB_TOPIC_TETRAGON_RAW, 0, 2, NULL, " \n\t", 3);
	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(2, f->n_dead);
	EXPECT_STR("json: empty message (no Tetragon JSON)", f->dead[0].reason);
	EXPECT_STR("json: message holds only whitespace (no Tetragon JSON)", f->dead[1].reason);
	EXPECT_STR("tb.tetragon.raw.v1/0@2", f->dead[1].position);
	EXPECT_INT(0, f->n_ev);
}

static void same_tetragon_event_gets_the_same_id_from_every_input(void **state)
{
	fx_t *f = *state;
	const char *v = EV_EXEC("same", "");
	tb_kafka_msg_t m = kmsg(TB_TOPIC_TETRAGON_RAW, 0, 1, NULL, v, strlen(v));
	tb_adapter_filein_t *in;
	tb_err_t err = {{0}};

	/* pretty-printed in the file, compact on Kafka */
	append(
	    f->path,
	    "{\n  \"process_exec\": {\"process\": {\"exec_id\": \"same\", \"pid\": 7,\n"
	    "  \"binary\": \"/bin/sh\"}},\n  \"node_name\": \"n1\", \"time\": \"2024-05-01T10:00:00Z\"\n}\n");
	in = open_in(f, f->path, NULL);
	poll_in(in);
	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(2, f->n_ev);
	EXPECT_STR(f->ev[0].id, f->ev[1].id);
	tb_adapter_filein_free(in);
}

static void probe_batch_message_becomes_events(void **state)
{
	fx_t *f = *state;
	tb_probe_uframe_t uf = {"aabb", 0x10, "/bin/app", "main", 0, 0};
	tb_probe_process_t pr = {42, "n1:5:42", "/bin/app", NULL, NULL, 0, "app", 5};
	tb_probe_sample_t s = {42, 42, 0, 100, 200, 3, NULL, 0, &uf, 1};
	tb_probe_uprobe_count_t u = {"aabb", "/bin/app", "parse", 0x20, 0, 1, NULL, 0};
	tb_probe_batch_t b = {.node = "n1",
			      .boot_id = "boot",
			      .start_ns = 100,
			      .end_ns = 300,
			      .processes = &pr,
			      .n_processes = 1,
			      .samples = &s,
			      .n_samples = 1,
			      .uprobe_counts = &u,
			      .n_uprobe_counts = 1,
			      .lost_samples = 4};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_kafka_msg_t m;
	tb_err_t err = {{0}};

	assert_int_equal(tb_avro_encode_probe_batch(f->reg, &b, &buf, &len, &err), 0);
	m = kmsg(TB_TOPIC_PROBE_RAW, 1, 3, "n1", buf, len);
	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(0, f->n_dead);
	EXPECT_INT(2, f->n_ev);
	EXPECT_STR("sample", f->ev[0].kind);
	EXPECT_INT(3, f->ev[0].count);
	EXPECT_STR("n1:5:42", f->ev[0].exec_id);
	EXPECT_STR("tb.probe.raw.v1/1@3", f->ev[0].origin);
	EXPECT_STR("uprobe", f->ev[1].kind);
	EXPECT_INT(0, f->ev[1].count);
	EXPECT_INT(4, metric(f, "tb_adapter_probe_lost_samples_total "));
	EXPECT_INT(1, metric(f, "tb_adapter_events_out_total{source=\"probe\",kind=\"uprobe\"} "));
	free(buf);
}

static void undecodable_or_invalid_probe_batches_are_dead_lettered_whole(void **state)
{
	fx_t *f = *state;
	const char garbage[] = "\xc3\x01garbage bytes that are no ProbeBatch";
	tb_probe_sample_t s = {1, 1, 0, 100, 50, 1, NULL, 0, NULL, 0}; /* last_ns < first_ns */
	tb_probe_batch_t b = {.node = "n9", .boot_id = "boot", .seq = 12, .samples = &s, .n_samples = 1};
	uint8_t *buf = NULL;
	size_t len = 0;
	tb_kafka_msg_t m = kmsg(TB_TOPIC_PROBE_RAW, 0, 5, NULL, garbage, sizeof(garbage) - 1);
	tb_err_t err = {{0}};

	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(1, f->n_dead);
	EXPECT_HAS("avro: ProbeBatch: ", f->dead[0].reason);
	EXPECT_STR("tb.probe.raw.v1/0@5", f->dead[0].position);
	EXPECT_INT(5, f->dead[0].offset);
	EXPECT_STR(garbage, f->dead[0].payload);
	assert_int_equal(tb_avro_encode_probe_batch(f->reg, &b, &buf, &len, &err), 0);
	m = kmsg(TB_TOPIC_PROBE_RAW, 0, 6, NULL, buf, len);
	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(2, f->n_dead);
	EXPECT_STR(
	    "probe: ProbeBatch from node 'n9' seq 12: samples[0]: first_ns 100 / last_ns 50: need 0 <= "
	    "first_ns <= last_ns",
	    f->dead[1].reason);
	EXPECT_INT(0, f->n_ev);
	free(buf);
}

static void message_of_another_topic_is_dead_lettered(void **state)
{
	fx_t *f = *state;
	tb_kafka_msg_t m = kmsg("some.other.topic", 0, 9, NULL, "{}", 2);
	tb_err_t err = {{0}};

	assert_int_equal(tb_adapter_kafka_message(f->ad, &m, &err), 0);
	EXPECT_INT(1, f->n_dead);
	EXPECT_HAS("input: ", f->dead[0].reason);
}

/* ---- position file ----------------------------------------------------------- */

static void position_file_round_trips_and_rejects_bad_lines(void **state)
{
	fx_t *f = *state;
	tb_adapter_pos_t a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, got;
	tb_adapter_posfile_t *pf;
	tb_err_t err = {{0}};
	char want[300];

	pf = tb_adapter_posfile_open(f->posfile, &err); /* missing: empty */
	assert_non_null(pf);
	assert_int_equal(tb_adapter_posfile_get(pf, "/x", &got), 0);
	assert_int_equal(tb_adapter_posfile_set(pf, "/var/log/a b.log", &a, &err), 0);
	assert_int_equal(tb_adapter_posfile_set(pf, "/x", &b, &err), 0);
	EXPECT_INT(-1, tb_adapter_posfile_set(pf, "/bad\npath", &b, &err));
	assert_int_equal(tb_adapter_posfile_save(pf, &err), 0);
	tb_adapter_posfile_free(pf);
	pf = tb_adapter_posfile_open(f->posfile, &err);
	assert_non_null(pf);
	assert_int_equal(tb_adapter_posfile_get(pf, "/var/log/a b.log", &got), 1);
	EXPECT_INT(3, got.offset);
	EXPECT_INT(4, got.line);
	assert_int_equal(tb_adapter_posfile_get(pf, "/x", &got), 1);
	EXPECT_INT(5, got.dev);
	EXPECT_INT(6, got.ino);
	tb_adapter_posfile_free(pf);

	unlink(f->posfile);
	append(f->posfile, "# ok\n\nv1 1 2 3 4 /a\nv2 1 2 3 /b\n");
	assert_null(tb_adapter_posfile_open(f->posfile, &err));
	snprintf(want, sizeof(want), "%s:4: expected 'v1 DEV INO OFFSET LINE PATH', got 'v2 1 2 3 /b'",
		 f->posfile);
	EXPECT_STR(want, err.msg);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(corrupted_line_between_good_ones_is_dead_lettered_with_its_line),
	    T(garbage_and_non_events_are_dead_lettered_precisely),
	    T(unknown_event_types_are_counted_not_dead_lettered),
	    T(oversized_object_is_dead_lettered_and_the_next_arrives),
	    T(position_moves_only_past_handled_objects),
	    T(restart_resumes_at_the_saved_position),
	    T(rotation_while_stopped_finishes_the_old_file_first),
	    T(saved_file_gone_reads_the_current_file_from_its_start),
	    T(rotation_while_tailing_loses_nothing),
	    T(stdin_eof_dead_letters_the_unfinished_object_and_ends),
	    T(sink_failure_is_fatal_and_does_not_move_the_position),
	    T(tetragon_message_objects_succeed_or_fail_alone),
	    T(oversized_object_in_a_message_dead_letters_the_whole_message),
	    T(empty_and_whitespace_messages_are_dead_lettered),
	    T(same_tetragon_event_gets_the_same_id_from_every_input),
	    T(probe_batch_message_becomes_events),
	    T(undecodable_or_invalid_probe_batches_are_dead_lettered_whole),
	    T(message_of_another_topic_is_dead_lettered),
	    T(position_file_round_trips_and_rejects_bad_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
