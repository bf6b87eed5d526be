/*
 * pipeline: the Kafka runtime of `earshot run`: one consumer in a consumer
 * group, N worker threads classifying posts (engine_classify), one
 * idempotent producer writing the routes, and the offset bookkeeping that
 * makes delivery at-least-once with nothing lost.
 *
 * Data flow (threads in brackets):
 *   [main] rd_kafka_consumer_poll -> job (message + its partition) -> queue
 *   [worker i] engine_classify -> 0..2 produces (enriched, ticket) or 1
 *              (rejected), each carrying the job as its opaque
 *   [delivery] rd_kafka_poll(producer) -> delivery reports: the job's last
 *              acknowledged output marks its offset done (ledger)
 *   [main] rd_kafka_offsets_store of each partition's commit position;
 *          librdkafka's auto-commit commits stored offsets only.
 * An input with no output (chatter that mentions no brand) is done as soon
 * as it is classified.
 *
 * Modules: ledger (partitions, jobs, commit positions: the at-least-once
 * core), output (routes, keys, reject records, delivery reports; its header
 * has the output contract), kconf (librdkafka configuration), jobq (the
 * work queue), rebalance (assign/revoke, backpressure's pause), report
 * (lag, the status line), topicwait (waiting for or creating the topics at
 * start); this module runs the threads and the consumer.
 *
 * Backpressure: above max.inflight.messages/bytes (consumed, not yet fully
 * acknowledged) the assigned partitions are paused; below half they resume.
 * A full producer queue is waited on, never dropped.
 *
 * Rebalance (cooperative-sticky): on revoke, wait for the revoked
 * partitions' in-flight messages, commit their positions synchronously, then
 * unassign; on loss, forget them and commit nothing.
 *
 * Topics (topicwait.h): before subscribing, pipeline_run checks that
 * topic.input and the output topics exist, creates the missing ones with
 * topics.create, else waits for them (pipeline_not_ready says which) and
 * never exits for want of one. An output topic deleted while running is
 * waited on by output (backpressure; nothing past it is committed).
 *
 * Dry run (run.dry_run): no producer; workers count the outputs they would
 * have queued (dryrun.h), no offset is stored or committed (auto-commit is
 * off), the status line and a summary at exit report the counts.
 *
 * Failure: a delivery that fails (with message.timeout.ms=0 only a fatal or
 * permanent error) stops the pipeline: the offset of that message is never
 * stored, pipeline_run returns 1.
 *
 * Thread-safety: pipeline_new/run/free from one thread; pipeline_stats_get
 * from any thread. Cost: per message one job
 * allocation (freed when acknowledged) plus the engine's cost.
 */
#ifndef EARSHOT_PIPELINE_H
#define EARSHOT_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/config.h"
#include "ops/metrics.h"
#include "reload/reload.h"
#include "rules/rules.h"

typedef struct pipeline pipeline;

typedef struct pipeline_stats {
    uint64_t consumed;        /* input messages handed to the workers */
    uint64_t done;            /* input messages fully acknowledged */
    uint64_t produced[3];     /* acknowledged outputs: enriched, tickets, rejected */
    uint64_t produce_failed;
    uint64_t inflight_msgs;
    uint64_t inflight_bytes;
    int64_t lag;              /* messages behind the high watermarks; -1 unknown */
    int paused;               /* backpressure pause in effect */
    int partitions;           /* assigned input partitions */
    int threads;
} pipeline_stats;

/* Builds the clients and the workers from a finalized config. rs: one
 * reference is taken. m (may be NULL) must have at least threads + 2
 * shards. NULL + err on failure (a librdkafka property refused, with the
 * FILE:LINE it came from). */
pipeline *pipeline_new(const config *cfg, ruleset *rs, metrics *m, char *err,
                       size_t err_size);

/* Number of worker threads pipeline_new will start for cfg. */
int pipeline_threads(const config *cfg);

/* Consumes until *stop becomes non-zero (set it from a signal handler) or a
 * fatal error, then shuts down: stop fetching, finish in-flight messages
 * (at most shutdown.timeout.ms), flush, commit, leave the group.
 * Returns 0 after a clean shutdown, 1 after a failure. Call once. */
int pipeline_run(pipeline *p, atomic_int *stop);

void pipeline_stats_get(pipeline *p, pipeline_stats *st);

/* 1 and reason when the pipeline waits for something it cannot do without
 * (a topic missing at start or deleted while running, metadata), for
 * /readyz; 0 otherwise. Any thread. */
int pipeline_not_ready(pipeline *p, char *reason, size_t reason_size);

/* Before pipeline_run: workers classify with rl's serving generation instead
 * of the ruleset given to pipeline_new (a reload_view each, moved between
 * two posts), and when that generation's attach data is a
 * metrics_rules (made for the same ruleset) they count per-rule and
 * per-brand matches on it. rl must outlive the pipeline. */
void pipeline_use_reload(pipeline *p, reload *rl);

void pipeline_free(pipeline *p);

#endif
