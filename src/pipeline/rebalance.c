/*
 * rebalance: assign, revoke, pause. See rebalance.h.
 */
#include "pipeline/rebalance.h"

#include <stdlib.h>
#include <string.h>

#include "ops/log.h"

void rebalance_init(rebalance *rb, ledger *lg, jobq *queue, atomic_int *fatal, int commit,
                    int64_t drain_ms)
{
    memset(rb, 0, sizeof(*rb));
    rb->lg = lg;
    rb->queue = queue;
    rb->fatal = fatal;
    rb->commit = commit;
    rb->drain_ms = drain_ms;
    atomic_init(&rb->paused_flag, 0);
}

void rebalance_pause_all(rebalance *rb, int pause)
{
    rd_kafka_topic_partition_list_t *asg = NULL;

    if (!rb->consumer || rd_kafka_assignment(rb->consumer, &asg) || !asg)
        return;
    if (asg->cnt) {
        if (pause)
            rd_kafka_pause_partitions(rb->consumer, asg);
        else
            rd_kafka_resume_partitions(rb->consumer, asg);
    }
    rd_kafka_topic_partition_list_destroy(asg);
}

int rebalance_should_pause(int paused, long long msgs, long long bytes, int64_t max_msgs,
                           int64_t max_bytes)
{
    if (!paused)
        return msgs >= max_msgs || bytes >= max_bytes;
    return !(msgs <= max_msgs / 2 && bytes <= max_bytes / 2);
}

void rebalance_backpressure(rebalance *rb, int64_t max_msgs, int64_t max_bytes)
{
    long long msgs = ledger_inflight_msgs(rb->lg), bytes = ledger_inflight_bytes(rb->lg);

    if (rb->closing)
        return;
    int pause = rebalance_should_pause(rb->paused, msgs, bytes, max_msgs, max_bytes);
    if (pause == rb->paused)
        return;
    rebalance_pause_all(rb, pause);
    rb->paused = pause;
    atomic_store(&rb->paused_flag, pause);
    log_debug("backpressure: %s input (%lld messages, %lld bytes in flight)",
              pause ? "paused" : "resumed", msgs, bytes);
}

void rebalance_close(rebalance *rb)
{
    rb->closing = 1;
    rebalance_pause_all(rb, 1);
}

static void rebalance_assign(rebalance *rb, rd_kafka_topic_partition_list_t *parts,
                             int cooperative)
{
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = 0;

    rb->ever_assigned = 1;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];

        if (!ledger_assign(rb->lg, tp->topic, tp->partition)) {
            log_error("out of memory tracking %s [%d]", tp->topic, (int)tp->partition);
            atomic_store(rb->fatal, 1);
        }
    }
    if (cooperative)
        error = rd_kafka_incremental_assign(rb->consumer, parts);
    else
        err = rd_kafka_assign(rb->consumer, parts);
    if (error) {
        log_error("assigning partitions: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        atomic_store(rb->fatal, 1);
    } else if (err) {
        log_error("assigning partitions: %s", rd_kafka_err2str(err));
        atomic_store(rb->fatal, 1);
    }
    /* Set the pause state of what was just assigned either way: a partition
     * paused by backpressure, then lost and assigned again, can come back
     * still paused inside librdkafka while rb->paused has since cleared, and
     * nothing would ever resume it. */
    if (rb->paused || rb->closing)
        rd_kafka_pause_partitions(rb->consumer, parts);
    else
        rd_kafka_resume_partitions(rb->consumer, parts);
    log_info("assigned %d partition(s), %zu in total", parts->cnt, ledger_n_parts(rb->lg));
}

/* The revoked partitions' positions, stored and committed synchronously. */
static void rebalance_commit(rebalance *rb, ledger_part **pps, int n)
{
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(n);

    for (int i = 0; i < n; i++) {
        if (!pps[i])
            continue;
        int64_t pos = ledger_part_position(pps[i]);
        if (pos >= 0)
            rd_kafka_topic_partition_list_add(commit, ledger_part_topic(pps[i]),
                                              ledger_part_partition(pps[i]))
                ->offset = pos;
    }
    if (commit->cnt) {
        /* Store before committing: with auto-commit on, the unassign that
         * follows commits librdkafka's stored offsets once more, and a
         * stored offset older than this commit would move the group back
         * and make the next owner repeat that stretch. */
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(rb->consumer, commit);
        if (err)
            log_warn("revoke: storing offsets of %d partition(s) failed: %s", commit->cnt,
                     rd_kafka_err2str(err));
        err = rd_kafka_commit(rb->consumer, commit, 0);
        if (err)
            log_warn("revoke: committing %d partition(s) failed: %s", commit->cnt,
                     rd_kafka_err2str(err));
        for (int i = 0; i < commit->cnt; i++)
            if (commit->elems[i].err)
                log_warn("revoke: committing %s [%d] offset %lld failed: %s",
                         commit->elems[i].topic, (int)commit->elems[i].partition,
                         (long long)commit->elems[i].offset,
                         rd_kafka_err2str(commit->elems[i].err));
    }
    rd_kafka_topic_partition_list_destroy(commit);
}

static void rebalance_revoke(rebalance *rb, rd_kafka_topic_partition_list_t *parts,
                             int cooperative)
{
    int lost = rd_kafka_assignment_lost(rb->consumer);
    ledger_part **pps = calloc((size_t)parts->cnt + 1, sizeof(*pps));
    rd_kafka_error_t *error = NULL;

    for (int i = 0; i < parts->cnt && pps; i++)
        pps[i] = ledger_find(rb->lg, parts->elems[i].topic, parts->elems[i].partition);
    if (!lost && pps && rb->commit) {
        /* Finish what was consumed from them, then commit their positions
         * before another member starts from the committed offsets. */
        if (ledger_wait_drained(pps, parts->cnt, rb->drain_ms, rb->fatal))
            log_warn("revoke: in-flight messages not acknowledged within %lld ms; committing "
                     "what is done (they will be processed again)",
                     (long long)rb->drain_ms);
        rebalance_commit(rb, pps, parts->cnt);
    } else if (lost) {
        log_warn("%d partition(s) lost (session timed out?): nothing committed for them, "
                 "their in-flight messages will be processed again by the new owner",
                 parts->cnt);
    }
    for (int i = 0; i < parts->cnt && pps; i++)
        if (pps[i])
            ledger_revoke(rb->lg, pps[i]);
    free(pps);
    if (cooperative) {
        error = rd_kafka_incremental_unassign(rb->consumer, parts);
        if (error) {
            log_warn("unassigning partitions: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_assign(rb->consumer, NULL);
    }
    log_info("revoked %d partition(s)%s, %zu left", parts->cnt, lost ? " (lost)" : "",
             ledger_n_parts(rb->lg));
}

void rebalance_handle(rebalance *rb, rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts)
{
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");

    jobq_flush(rb->queue);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rebalance_assign(rb, parts, cooperative);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        rebalance_revoke(rb, parts, cooperative);
    } else {
        log_error("rebalance failed: %s", rd_kafka_err2str(err));
        rd_kafka_assign(rk, NULL);
    }
}
