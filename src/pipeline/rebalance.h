/*
 * rebalance: the consumer's assignment, i.e. which input partitions this
 * member holds (the rebalance callback's assign and revoke) and whether
 * they flow (the pause that backpressure and shutdown put on them). The two
 * live together because an assignment must inherit the pause state: a
 * partition assigned while the input is paused is paused at once.
 *
 * Semantics:
 *   - Assign: each partition is tracked in the ledger, then assigned
 *     (incrementally under the cooperative protocol), then paused or
 *     resumed to match the current state. An assign that fails, or a
 *     partition the ledger cannot track (out of memory), sets *fatal.
 *   - Revoke (not lost): wait up to drain_ms for the revoked partitions'
 *     in-flight messages (or until *fatal), then store and commit their
 *     positions synchronously, before another member starts from the
 *     committed offsets; what was not acknowledged by then is processed
 *     again there (at-least-once). With commit == 0 (dry run) nothing is
 *     waited for or committed.
 *   - Lost (session timed out): commit nothing, forget the partitions; the
 *     new owner processes their in-flight messages again.
 *   - Backpressure: at or above either in-flight limit the input pauses;
 *     it resumes at or below half of both (hysteresis, so it does not
 *     flap at the limit). While closing, nothing resumes.
 *
 * Thread-safety: everything from the pipeline's main thread, which also
 * serves the rebalance callback (it runs inside rd_kafka_consumer_poll);
 * paused_flag may be read from any thread. Cost: assign/revoke are
 * O(partitions) plus, for a revoke, the wait for in-flight messages and
 * one synchronous commit round trip; backpressure is two counter reads per
 * call and a pause/resume request only when the state changes.
 */
#ifndef EARSHOT_PIPELINE_REBALANCE_H
#define EARSHOT_PIPELINE_REBALANCE_H

#include <stdatomic.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "pipeline/jobq.h"
#include "pipeline/ledger.h"

typedef struct rebalance {
    rd_kafka_t *consumer;      /* not owned; set once it exists */
    ledger *lg;                /* not owned */
    jobq *queue;               /* not owned; flushed before each rebalance */
    atomic_int *fatal;         /* not owned */
    int commit;                /* commit revoked positions (0: dry run) */
    int64_t drain_ms;          /* a revoke's wait for in-flight messages */

    /* main thread only */
    int paused;                /* backpressure paused the input */
    int closing;               /* shutting down: everything stays paused */
    int ever_assigned;         /* an assignment reached rebalance_handle */

    atomic_int paused_flag;    /* paused, for other threads */
} rebalance;

void rebalance_init(rebalance *rb, ledger *lg, jobq *queue, atomic_int *fatal, int commit,
                    int64_t drain_ms);

/* The rebalance callback's body (rd_kafka_conf_set_rebalance_cb): flushes
 * the queue's unflushed run first (a revoke waits for its partitions'
 * jobs, so none may still sit there), then assigns or revokes parts. */
void rebalance_handle(rebalance *rb, rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts);

/* Pauses (pause != 0) or resumes every partition currently assigned. */
void rebalance_pause_all(rebalance *rb, int pause);

/* The backpressure decision alone (exposed for tests): whether the input
 * should be paused, given whether it is, the in-flight counts and limits. */
int rebalance_should_pause(int paused, long long msgs, long long bytes, int64_t max_msgs,
                           int64_t max_bytes);

/* Applies rebalance_should_pause; no-op while closing. */
void rebalance_backpressure(rebalance *rb, int64_t max_msgs, int64_t max_bytes);

/* Shutdown begins: pause everything and keep it paused. */
void rebalance_close(rebalance *rb);

#endif
