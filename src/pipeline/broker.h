/*
 * broker: the embedded Kafka cluster, librdkafka's mock cluster
 * (rdkafka_mock.h) behind a small API, with its fault injection reachable
 * as one-line text commands (what `earshot broker` reads on stdin):
 *
 *   down ID                         broker ID stops answering (connections close)
 *   up ID                           broker ID is back
 *   leader TOPIC PARTITION ID       move a partition's leader to broker ID
 *   errors API COUNT ERROR [ERROR...]
 *                                   the next COUNT requests of API (Produce,
 *                                   Fetch, Metadata, OffsetCommit, ...) fail
 *                                   with ERROR (a librdkafka error name such as
 *                                   NOT_LEADER_FOR_PARTITION); with several
 *                                   ERRORs, COUNT must equal their number
 *   rtt ID MS                       add MS of round-trip time to broker ID
 *   coordinator group|transaction KEY ID
 *                                   make broker ID the coordinator of group
 *                                   (or transactional id) KEY
 *   create TOPIC PARTITIONS         create a topic
 *   ping                            nothing; answers ok
 * Each command answers "ok" or "error: <why>".
 *
 * It speaks the real wire protocol on loopback, so kcat and kafka-python
 * work against it. Limits (librdkafka's rdkafka_mock.c): each partition keeps only its
 * newest BROKER_RETAIN_BYTES (and BROKER_RETAIN_BATCHES produce batches),
 * and it is not a throughput-grade broker under concurrent produce and
 * consume. The retention is librdkafka's, fixed in rdkafka_mock.c with no
 * API to change it and no hook on Produce to refuse what it cannot keep: it
 * acknowledges a produce request and may delete it unread a moment later.
 * So the honest thing is to say so: BROKER_RETENTION_WARNING, logged at
 * start by `earshot broker`.
 *
 * Thread-safety: the mock cluster runs on its own thread; broker_exec may be
 * called from any one thread at a time. Cost: none on earshot's path.
 */
#ifndef EARSHOT_PIPELINE_BROKER_H
#define EARSHOT_PIPELINE_BROKER_H

#include <stddef.h>

typedef struct broker broker;

/* librdkafka 2.0.2's mock partition (rd_kafka_mock_partition_init): beyond
 * either limit the oldest batches are deleted, read or not. */
#define BROKER_RETAIN_BYTES (5 * 1024 * 1024)
#define BROKER_RETAIN_BATCHES 100000
#define BROKER_RETENTION_WARNING                                                              \
    "each partition keeps only its newest 5 MiB (at most 100000 produce batches): older "     \
    "messages are deleted even if no consumer has read them, after the producer was told "   \
    "they were stored (librdkafka's mock cluster; not configurable). Keep each partition's " \
    "unread backlog under 5 MiB, or use a real Kafka cluster for data you cannot replay"

/* Starts n_brokers mock brokers and creates each topic with `partitions`
 * partitions (replication factor min(n_brokers, 3)). NULL + err on failure. */
broker *broker_new(int n_brokers, int partitions, const char *const *topics, size_t n_topics,
                   char *err, size_t err_size);

/* "127.0.0.1:PORT,127.0.0.1:PORT,..." */
const char *broker_bootstraps(const broker *b);

/* Runs one command line (see above). Returns 0 with reply "ok", or -1 with
 * reply "error: ...". */
int broker_exec(broker *b, const char *line, char *reply, size_t reply_size);

void broker_free(broker *b);

#endif
