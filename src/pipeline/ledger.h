/*
 * ledger: the at-least-once core of the pipeline. It owns the assigned input
 * partitions (each with its offtrack), one job per consumed message until
 * every output of that message is acknowledged, the in-flight counts that
 * drive backpressure, and the commit positions handed to librdkafka.
 *
 * Semantics:
 *   - A job starts when a message is dispatched (ledger_job_start: its offset
 *     is added to the partition's tracker) and holds one "pending" count for
 *     whoever processes it. Each output queued takes one more
 *     (ledger_job_hold); each acknowledgement or the processor's end gives one
 *     back (ledger_job_release). The job finishes when the count reaches 0.
 *   - A finished job that never failed marks its offset done, which may
 *     advance its partition's commit position. A failed job (ledger_job_fail:
 *     a delivery or produce error) finishes without that: its offset stays
 *     pending forever, so nothing at or past it is ever committed.
 *   - A revoked partition (ledger_revoke) is retired: jobs still holding it
 *     finish without touching its tracker, and its position is never
 *     returned again. A partition assigned again starts a fresh tracker.
 *   - ledger_positions returns the positions that advanced since they were
 *     last returned: what to give rd_kafka_offsets_store.
 *
 * Thread-safety: assign/revoke/find/job_start/positions/free from one thread
 * (the pipeline's main thread, which also runs the rebalance callback);
 * job_hold/fail/release/drop and the counters from any thread. Each
 * partition's tracker is guarded by its own mutex, so workers and the
 * delivery thread contend only per partition.
 *
 * Cost: per job one allocation (freed when it finishes) and one partition
 * lock at the start and one at the end; find is O(1) for the last partition
 * seen, else O(partitions); positions is O(partitions) and only runs when
 * some position advanced.
 */
#ifndef EARSHOT_PIPELINE_LEDGER_H
#define EARSHOT_PIPELINE_LEDGER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

typedef struct ledger ledger;
typedef struct ledger_part ledger_part;

typedef struct ledger_job {
    struct ledger_job *next;   /* free for the owner's queue */
    rd_kafka_message_t *msg;   /* the owner's; the ledger never touches it */
    ledger_part *part;
    int64_t offset;
    size_t bytes;
    uint64_t t0_ns;            /* when it was consumed (monotonic) */
    atomic_int pending;
    atomic_int failed;
} ledger_job;

ledger *ledger_new(void);

/* Drops every partition; jobs still alive keep theirs valid until they
 * finish (each holds a reference). */
void ledger_free(ledger *lg);

/* Starts tracking topic/partition, replacing (revoking) a partition of the
 * same name still held. NULL when out of memory. */
ledger_part *ledger_assign(ledger *lg, const char *topic, int32_t partition);

/* The active partition, NULL when it is not assigned. */
ledger_part *ledger_find(ledger *lg, const char *topic, int32_t partition);

/* Retires pp and drops it from the active set. */
void ledger_revoke(ledger *lg, ledger_part *pp);

/* Starts a job for offset. 0 and *out; -1 when the offset is not past the
 * last one this assignment dispatched (*last set: a repeat to skip); -2 when
 * out of memory. The job holds one pending count for the caller. */
int ledger_job_start(ledger *lg, ledger_part *pp, int64_t offset, size_t bytes,
                     uint64_t t0_ns, ledger_job **out, int64_t *last);

/* One more output of job is queued and owed an acknowledgement. */
void ledger_job_hold(ledger_job *job);

/* job will never be acknowledged (delivery or produce failed). */
void ledger_job_fail(ledger_job *job);

/* Gives back one pending count. When that finishes the job (it is freed):
 * 1 if acknowledged (its offset done), -1 if it had failed; else 0. */
int ledger_job_release(ledger *lg, ledger_job *job);

/* Finishes job unacknowledged whatever its count (shutdown discarded it
 * before it was processed). */
void ledger_job_drop(ledger *lg, ledger_job *job);

/* Commit positions that advanced since last returned (all active positions
 * with all != 0), as a list for rd_kafka_offsets_store; NULL when none.
 * The caller destroys it. */
rd_kafka_topic_partition_list_t *ledger_positions(ledger *lg, int all);

/* pp's commit position (one past the last contiguous done offset), -1 if
 * none yet; marks it returned. */
int64_t ledger_part_position(ledger_part *pp);

const char *ledger_part_topic(const ledger_part *pp);
int32_t ledger_part_partition(const ledger_part *pp);

/* Jobs of pp not finished. */
long long ledger_part_inflight(const ledger_part *pp);

/* Waits until none of the n partitions (NULL entries skipped) has a job in
 * flight, at most timeout_ms, polling every 2 ms; gives up early when
 * *abort becomes non-zero. 0, or -1 on timeout or abort. */
int ledger_wait_drained(ledger_part *const *pps, int n, int64_t timeout_ms,
                        const atomic_int *abort);

size_t ledger_n_parts(const ledger *lg);
ledger_part *ledger_part_at(ledger *lg, size_t i);

/* Counters, readable from any thread. */
long long ledger_inflight_msgs(const ledger *lg);
long long ledger_inflight_bytes(const ledger *lg);
uint64_t ledger_done(const ledger *lg);

#endif
