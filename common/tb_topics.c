/*
 * tb_topics.c — the table of pipeline topics (see tb/topics.h).
 *
 * Event topics get 6 partitions so that a consumer group can spread over up
 * to six instances per service; the compacted reference topics (artifacts,
 * findings) are small and read whole by every correlator, so 3 is plenty;
 * the dead-letter topic is low volume and kept in one partition so that it
 * reads in arrival order.
 */
#include <string.h>

#include "tb/topics.h"

const tb_topic_spec_t tb_topics[] = {
    {TB_TOPIC_TETRAGON_RAW, 6, "delete", "node + exec_id"},
    {TB_TOPIC_PROBE_RAW, 6, "delete", "node + exec_id"},
    {TB_TOPIC_EVENTS_RAW, 6, "delete", "node + exec_id"},
    {TB_TOPIC_EVENTS_CANONICAL, 6, "delete", "node + exec_id"},
    {TB_TOPIC_EVENTS_CORRELATED, 6, "delete", "stack_id"},
    {TB_TOPIC_ARTIFACTS, 3, "compact", "artifact digest"},
    {TB_TOPIC_FINDINGS, 3, "compact", "finding_id"},
    {TB_TOPIC_DLQ, 1, "delete", "source topic + partition"},
    {NULL, 0, NULL, NULL},
};

size_t tb_topics_count(void)
{
	size_t n = 0;

	while (tb_topics[n].name)
		n++;
	return n;
}

const tb_topic_spec_t *tb_topic_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; tb_topics[i].name; i++)
		if (strcmp(tb_topics[i].name, name) == 0)
			return &tb_topics[i];
	return NULL;
}
