/*
 * output: the pipeline's producer side. Turns one classified post into its
 * outputs (the route decision, the key, the earshot.post_id header), or an
 * input the engine refused into a reject record, queues them on the
 * idempotent producer with the post's ledger job as their opaque, and runs
 * the delivery thread whose reports acknowledge them.
 *
 * Routes: topic.enriched gets every post that mentions a brand (every post
 * with route.enriched.all); topic.tickets gets what pipeline_route_decide
 * says; topic.rejected gets {"reason","topic","partition","offset",
 * "payload_bytes","payload"} ("payload_base64" when the input is not valid
 * UTF-8, "payload_truncated" past OUTPUT_REJECT_PAYLOAD_MAX). Keys: first
 * brand id (key.by=brand, post id when no brand) or post id; rejected keep
 * the input's key.
 *
 * Failure: a full producer queue is waited on, never dropped. A missing
 * output topic (deleted while running: librdkafka's "Unknown topic", from
 * produce or from a delivery report, or "Unknown partition" in the delivery
 * reports of what was queued when its partitions vanished) is waited on too: the output is
 * produced again once the topic exists (metadata asked every
 * OUTPUT_TOPIC_RETRY_MS), meanwhile in-flight counts grow until the input
 * pauses, and nothing past the post is committed; output_missing says which
 * topic for /readyz. Only `abort` (shutdown gave up) ends such a wait, with
 * the job failed. Any other produce or delivery error marks the job failed
 * (ledger: its offset is never committed) and sets *fatal, which stops the
 * pipeline.
 *
 * Latency: when a job finishes acknowledged (its last output's delivery
 * report, or its classification when it has no output), the time since it
 * was consumed goes to earshot_processing_latency_seconds on the shard of
 * the thread that finished it.
 *
 * Thread-safety: output_post/output_reject/output_release from the worker
 * threads (each with its own shard and buffer); output_delivered from the
 * delivery thread (librdkafka's delivery callback, served by
 * output_start's thread); init/start/stop/fini from the owner's thread.
 * Cost: each output is copied into librdkafka (RD_KAFKA_MSG_F_COPY); a
 * reject record is built in the worker's buffer, no allocation once grown.
 */
#ifndef EARSHOT_PIPELINE_OUTPUT_H
#define EARSHOT_PIPELINE_OUTPUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "engine/engine.h"
#include "base/base_json.h"
#include "ops/config.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "pipeline/ledger.h"
#include "pipeline/route.h"

#define OUTPUT_ROUTES 3 /* enriched, tickets, rejected (metrics_route order) */
#define OUTPUT_REJECT_PAYLOAD_MAX (256 * 1024)
#define OUTPUT_TOPIC_RETRY_MS 2000

typedef struct output {
    rd_kafka_t *producer;                 /* not owned */
    rd_kafka_topic_t *rkt[OUTPUT_ROUTES];
    char *topics[OUTPUT_ROUTES];
    ledger *lg;                           /* not owned */
    atomic_int *fatal;                    /* not owned */
    metrics_shard *dr_shard;              /* the delivery thread's; may be NULL */
    pipeline_route_policy route;
    int key_by;                           /* config_key_by */

    pthread_t dr_thread;
    int dr_started;
    atomic_int dr_stop;

    atomic_ullong produced[OUTPUT_ROUTES], failed;
    atomic_int missing;                   /* route + 1 whose topic is gone; 0 */
    atomic_int abort;                     /* end waits for a missing topic */
    log_limit lim_deliver, lim_missing;
} output;

/* cfg's routing and output topic names. 0, or -1 with err. output_fini
 * undoes a partial init. */
int output_init(output *o, const config *cfg, rd_kafka_t *producer, ledger *lg,
                atomic_int *fatal, metrics_shard *dr_shard, char *err, size_t err_size);

/* Topic handles for the three output topics. Apart from output_init because
 * a handle makes librdkafka ask for the topic by name, which can create it
 * (see topics.h): the pipeline opens them once it has seen them exist. */
int output_open(output *o, char *err, size_t err_size);

/* The output topic being waited for (deleted while running), NULL if none. */
const char *output_missing(output *o);

/* Starts / stops (after a last poll) the delivery thread. */
int output_start(output *o);
void output_stop(output *o);

void output_fini(output *o);

/* Queues the outputs of a classified post (out from engine_classify,
 * ENGINE_EVENT). now: the classification's clock, for the ticket age.
 * Returns whether a ticket was queued (for the per-brand ticket counter). */
bool output_post(output *o, ledger_job *job, const engine_output *out, int64_t now);

/* Queues the reject record of msg (reason from the engine), built in buf. */
void output_reject(output *o, ledger_job *job, const char *reason,
                   const rd_kafka_message_t *msg, jbuf *buf);

/* Gives back one pending count of job; observes its latency on sh when that
 * finished it acknowledged. */
void output_release(output *o, ledger_job *job, metrics_shard *sh);

/* The delivery report of one output (call from the dr_msg_cb). */
void output_delivered(output *o, const rd_kafka_message_t *msg);

/* The reject record alone (exposed for tests): 0, or -1 out of memory. */
int output_reject_json(jbuf *b, const char *reason, const rd_kafka_message_t *msg,
                       const char *topic);

#endif
