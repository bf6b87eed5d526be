/*
 * watch_kafka: the aggregator (watch.h) on Kafka. One consumer in its own
 * group reads the enriched events, feeds a watch, and produces window
 * statistics and alerts (key: brand id) with an idempotent producer.
 * `earshot watch` runs one on the main thread; `earshot run` runs one on a
 * thread of its own beside the pipeline (README, "Care intelligence").
 *
 * Offsets and restarts. Records are produced as windows close. After a
 * close, at most once per checkpoint_ms of wall time and always at a clean
 * stop or a revoke, the records are flushed (every one acknowledged), then
 * every assigned partition is committed synchronously with:
 *   offset   the lowest offset still in an open window (else the next one to
 *            read): nothing not yet reflected in an acknowledged record is
 *            ever committed past;
 *   metadata "earshot.watch/1 closed=<ms> replay=<offset>": every window
 *            ending at or before <ms> has been emitted; <offset> is the
 *            lowest offset of this partition whose window lies within the
 *            replay horizon before <ms>.
 * On (re)assignment the aggregator is rebuilt from scratch: it reads each
 * partition from its replay offset, so the complaint baseline is learned
 * again, and windows ending at or before the smallest committed <ms> close
 * silently (watch_set_emitted_through). A partition with no commit of ours
 * starts per `start`: WATCH_KAFKA_START_EARLIEST reads the whole topic and
 * emits everything; WATCH_KAFKA_START_RECENT looks up the offsets of
 * (now - replay) by timestamp, learns the baseline from there and emits only
 * windows the watermark could not have closed before now (a partition with
 * no offset for that time, e.g. on librdkafka's mock cluster, which cannot
 * look up by time, is read from its start, as quietly). On revoke the
 * latest close is committed and the aggregator dropped; the last commit is
 * the state.
 *
 * Thread-safety: one thread per watch_kafka (the rebalance callback runs
 * inside the consumer poll on it); the hooks run on that thread. `stop` may
 * be set from any thread or a signal handler.
 * Cost: watch.h's (one simdjson parse per event) plus librdkafka's per
 * message; a flush and a synchronous commit per close in steady state (once
 * a window, typically a minute), at most one per checkpoint_ms while a
 * backlog or a replay closes windows faster. The consumer batches fetches
 * (fetch.min.bytes 100 kB, fetch.wait.max.ms 100, unless the caller's
 * properties say otherwise), so the broker answers a few large fetches, not
 * one per message. Measured in README, "Cost of the aggregation".
 */
#ifndef EARSHOT_WATCH_KAFKA_H
#define EARSHOT_WATCH_KAFKA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "watch/watch.h"

typedef struct watch_kafka watch_kafka;

typedef enum watch_kafka_start {
    WATCH_KAFKA_START_EARLIEST = 0,
    WATCH_KAFKA_START_RECENT = 1,
} watch_kafka_start;

typedef struct watch_kafka_hooks {
    /* Every record produced (stats and alerts), after it was queued. */
    void (*on_record)(void *opaque, const watch_record *rec);
    /* New tickets (watch_set_ticket_hook). */
    watch_ticket_fn on_ticket;
    /* After each checkpoint and each idle partition: emitted-through and
     * watermark (INT64_MIN when unknown). */
    void (*on_progress)(void *opaque, int64_t emitted_through, int64_t watermark);
    void *opaque;
} watch_kafka_hooks;

/* A second: a minute's windows close once a minute, so in steady state every
 * close is committed as it happens; a replay or backlog commits once a
 * second instead of once per window. */
#define WATCH_KAFKA_CHECKPOINT_MS 1000

typedef struct watch_kafka_config {
    const char *brokers;
    const char *group;        /* consumer group */
    const char *client_id;    /* "earshot-watch" when NULL */
    const char *input, *stats_topic, *alerts_topic;
    watch_config wcfg;
    int64_t replay_ms;        /* < 0: 4 x baseline */
    watch_kafka_start start;
    /* The least wall time between two commits; 0: WATCH_KAFKA_CHECKPOINT_MS,
     * < 0: commit at every close. */
    int64_t checkpoint_ms;
    /* Stop cleanly (as if *stop were set) once every assigned partition has
     * reported its end with no message after it: `earshot watch
     * --exit-at-end`. Never with no partition assigned. */
    int exit_at_end;
    /* > 0: the aggregator's threads (its own, librdkafka's of both clients)
     * run at this nice value, below the pipeline's beside it: on a busy
     * machine it takes the idle moments and lags a little, not the
     * pipeline's cores. 0: unchanged (`earshot watch`: nice the process). */
    int nice;
    /* librdkafka properties "NAME" = "VALUE" for both clients; a "consumer."
     * or "producer." prefix sends one to that client only. */
    const char *const *prop_names, *const *prop_values;
    size_t n_props;
    watch_kafka_hooks hooks;
} watch_kafka_config;

/* Validates and makes both clients and subscribes. NULL + err (a sentence
 * naming the property or value) on failure; *usage_error is set to 1 when
 * the configuration was at fault, 0 otherwise. */
watch_kafka *watch_kafka_new(const watch_kafka_config *cfg, int *usage_error, char *err,
                             size_t err_size);

/* Consumes until *stop is set or a failure: 0 clean stop, -1 failure (see
 * watch_kafka_failure). Flushes what is in flight before returning. */
int watch_kafka_run(watch_kafka *wk, atomic_int *stop);

/* The reason for the last failure, "" if none. */
const char *watch_kafka_failure(const watch_kafka *wk);

/* Counts of records produced and checkpoints. */
void watch_kafka_counts(const watch_kafka *wk, uint64_t *stats, uint64_t *alerts,
                        uint64_t *checkpoints);

/* Enriched events read and fed to the aggregator so far (replays after a
 * rebalance included). Safe from any thread: it is how `earshot run`'s
 * /api/watch says the aggregator has caught up (bench/e2e.py waits on it). */
uint64_t watch_kafka_events_read(const watch_kafka *wk);

/* Leaves the group and frees. NULL is a no-op. */
void watch_kafka_free(watch_kafka *wk);

#endif
