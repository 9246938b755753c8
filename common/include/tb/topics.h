/*
 * tb/topics.h — the Kafka topics of the pipeline (docs/ARCHITECTURE.md,
 * "Flow" and "Topics and scale-out") and how each one is created.
 *
 * The names are contracts between services. The table gives each topic its
 * default partition count and cleanup.policy; the dev broker creates topics
 * from it and the production topic creation (docker-compose / kafka-topics)
 * is generated from it (`tb-kafka topics`), so both agree.
 */
#ifndef TB_TOPICS_H
#define TB_TOPICS_H

#include <stddef.h>

#define TB_TOPIC_TETRAGON_RAW "tb.tetragon.raw.v1"	     /* Tetragon JSON lines, bytes */
#define TB_TOPIC_PROBE_RAW "tb.probe.raw.v1"		     /* Avro ProbeBatch */
#define TB_TOPIC_EVENTS_RAW "tb.events.raw.v1"		     /* Avro RuntimeEvent */
#define TB_TOPIC_EVENTS_CANONICAL "tb.events.canonical.v1"   /* Avro CanonicalEvent */
#define TB_TOPIC_EVENTS_CORRELATED "tb.events.correlated.v1" /* Avro CorrelatedEvent */
#define TB_TOPIC_ARTIFACTS "tb.artifacts.v1"		     /* Avro Artifact, compacted, key = digest */
#define TB_TOPIC_FINDINGS "tb.findings.v1"		     /* Avro Finding, compacted, key = finding_id */
#define TB_TOPIC_DLQ "tb.dlq.v1"			     /* Avro DeadLetter */

typedef struct tb_topic_spec {
	const char *name;
	int partitions;		    /* default partition count */
	const char *cleanup_policy; /* "delete" or "compact" */
	const char *key;	    /* what the message key is (documentation) */
} tb_topic_spec_t;

/* The topic table, in flow order; the entry after the last has name == NULL. */
extern const tb_topic_spec_t tb_topics[];

/* Number of topics in tb_topics (without the terminator). */
size_t tb_topics_count(void);

/* The spec of a topic by exact name, or NULL when it is not one of ours. */
const tb_topic_spec_t *tb_topic_find(const char *name);

#endif
