/*
 * topicwait: the pipeline's start gate on its topics. Until every topic the
 * run needs exists (topics.h checks), it creates the missing ones when
 * topics.create allows, else waits, re-checking every TOPICWAIT_RETRY_MS:
 * the process stays up and says what it waits for (the log, and a reason
 * for /readyz) rather than exit into a restart loop.
 *
 * Logging: each newly missing topic is logged at once (one ERROR line
 * naming it, its key and what to do), then at most once a minute; a failed
 * check or create is logged the same way. "topics: every topic the run
 * needs exists now; starting" once a wait or a create ends.
 *
 * Thread-safety: topicwait_run from one thread (the pipeline's main
 * thread); topicwait_reason from any thread (the reason is guarded by a
 * mutex). Cost: one metadata round trip per check (topics.h), plus one
 * CreateTopics per create; the wait sleeps in 50 ms steps so a stop is
 * seen within 50 ms.
 */
#ifndef EARSHOT_PIPELINE_TOPICWAIT_H
#define EARSHOT_PIPELINE_TOPICWAIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "ops/config.h"
#include "ops/log.h"
#include "pipeline/topics.h"

#define TOPICWAIT_RETRY_MS 2000

typedef struct topicwait {
    topics_set topics;          /* what the run needs */
    int create;                 /* topics.create */
    int partitions, replication, timeout_ms;
    pthread_mutex_t lock;
    char why[384];              /* why not ready, "" when not waiting; guarded by lock */
    log_limit lim;
} topicwait;

/* cfg's topics (the outputs too unless it is a dry run) and policy. */
void topicwait_init(topicwait *tw, const config *cfg);
void topicwait_destroy(topicwait *tw);

/* Blocks until every topic exists (0), or *stop becomes non-zero (-1).
 * rk: any client of the cluster (the metadata and admin requests go
 * through it). */
int topicwait_run(topicwait *tw, rd_kafka_t *rk, atomic_int *stop);

/* 1 and the reason (into buf) while the run waits for a topic or for
 * metadata; 0 otherwise. */
int topicwait_reason(topicwait *tw, char *buf, size_t size);

#endif
