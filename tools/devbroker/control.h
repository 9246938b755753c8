/*
 * control.h — the dev broker's fault-injection commands.
 *
 * A test connects to the control port (127.0.0.1, address in the control
 * file) and sends one command per line; each gets one reply line starting
 * with "ok" or "err". Commands:
 *
 *   ping                          -> ok pong
 *   down BROKER_ID                broker refuses connections (no leader change)
 *   up BROKER_ID                  broker accepts connections again
 *   rtt BROKER_ID MS              add MS of round-trip delay to a broker
 *   errors APIKEY COUNT ERR       the next COUNT requests of APIKEY fail with ERR
 *   clear APIKEY                  drop queued errors for APIKEY
 *   topic-error TOPIC ERR         metadata reports ERR for TOPIC (NO_ERROR clears)
 *   leader TOPIC PARTITION BROKER move a partition's leader
 *   create TOPIC PARTITIONS       create a topic (other processes cannot)
 *   help                          -> ok <command list>
 *
 * APIKEY is a number or a name (Produce, Fetch, ListOffsets, Metadata,
 * OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,
 * LeaveGroup, SyncGroup, ApiVersions, InitProducerId); ERR is a number or a
 * librdkafka error name such as NOT_LEADER_FOR_PARTITION or
 * REQUEST_TIMED_OUT (as printed by rd_kafka_err2name).
 */
#ifndef TB_DEVBROKER_CONTROL_H
#define TB_DEVBROKER_CONTROL_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Execute one command line against the cluster and write the reply (without
 * newline) into reply. Returns 0 when the command succeeded, -1 otherwise. */
int devbroker_exec(rd_kafka_mock_cluster_t *mc, int n_brokers, const char *line, char *reply, size_t cap);

/* Parse an API key name or number; -1 if unknown. */
int devbroker_apikey(const char *s);

/* Parse a librdkafka error name or number into *out; -1 if unknown. */
int devbroker_errcode(const char *s, rd_kafka_resp_err_t *out);

#endif
