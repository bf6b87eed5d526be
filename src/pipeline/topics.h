/*
 * topics: the topics a pipeline needs (topic.input and, unless it is a dry
 * run, the three output topics), checked against the cluster before
 * anything is consumed or produced, and created when topics.create allows.
 *
 * Why all-topics metadata: a Metadata request that names a topic may create
 * it (a broker with auto.create.topics.enable and a client that allows it;
 * librdkafka 2.0.2's mock cluster creates every topic a request names,
 * whatever the client allows), so asking "does care.tickets exist?" by name
 * can answer yes by making it, with the broker's defaults. The price: the
 * answer lists every topic the principal may Describe, and a topic it may
 * not Describe looks missing (Kafka leaves it out); the messages say so.
 *
 * What is checked: brokers answer (metadata within topics.timeout.ms), each
 * topic is listed with at least one partition and no topic-level error.
 * What is not: Read/Write/group ACLs (Kafka has no cheap "may I write"
 * question short of writing), partition leaders' health, the group.
 *
 * Thread-safety: no shared state; librdkafka handles are thread-safe.
 * Cost: one metadata round trip per check (the response lists every topic);
 * one CreateTopics round trip per create.
 */
#ifndef EARSHOT_PIPELINE_TOPICS_H
#define EARSHOT_PIPELINE_TOPICS_H

#include <stddef.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "ops/config.h"

#define TOPICS_MAX 4

typedef struct topics_set {
    const char *name[TOPICS_MAX]; /* the config's strings, not owned */
    const char *key[TOPICS_MAX];  /* "topic.input", ... */
    int partitions[TOPICS_MAX];   /* from the last check; 0 when missing */
    int n;
    int brokers;                  /* in the cluster, from the last check */
} topics_set;

/* cfg's input topic and, with outputs, its enriched/tickets/rejected ones. */
void topics_set_init(topics_set *ts, const config *cfg, int outputs);

/* Which of ts are absent from md (bit i: ts->name[i]), filling
 * ts->partitions. Pure: exposed for tests. */
unsigned topics_missing_in(topics_set *ts, const rd_kafka_metadata_t *md);

/* One all-topics metadata request on rk. 0 with *missing (bit i:
 * ts->name[i] absent), or -1 with err when no broker answered within
 * timeout_ms. */
int topics_check(rd_kafka_t *rk, topics_set *ts, int timeout_ms, unsigned *missing,
                 char *err, size_t err_size);

/* CreateTopics (admin API, on rk) for the topics of which; a topic that
 * already exists (another process won the race) counts as created.
 * partitions/replication: -1 = the broker's default. 0, or -1 with err
 * naming the first topic refused and the broker's reason. */
int topics_create(rd_kafka_t *rk, const topics_set *ts, unsigned which, int partitions,
                  int replication, int timeout_ms, char *err, size_t err_size);

/* "topic 'NAME' (KEY) does not exist (or this principal may not Describe
 * it)" for ts->name[i]. */
void topics_describe_missing(const topics_set *ts, int i, char *buf, size_t size);

/* `earshot run --check --connect`: a producer with cfg's librdkafka
 * properties, one metadata request, and a report of the brokers and the
 * topics (outputs unless cfg->run_dry_run) on out. Each problem is one
 * line on errs. Returns the number of problems (0: ready to run), or -1
 * with err when the client could not even be built. */
int topics_check_connect(const config *cfg, FILE *out, FILE *errs, char *err,
                         size_t err_size);

#endif
