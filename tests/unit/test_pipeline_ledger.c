/*
 * test_pipeline_ledger: the at-least-once core without a broker. An input
 * offset becomes committable only once every output of its post is
 * acknowledged; a failed delivery stops the commit position for good; a
 * revoked partition's state is dropped and a new assignment starts fresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pipeline/ledger.h"

/* The single position ledger_positions returns for topic "in", or -1 when it
 * returns none. */
static int64_t position(ledger *lg, int all)
{
    rd_kafka_topic_partition_list_t *list = ledger_positions(lg, all);
    int64_t pos;

    if (!list)
        return -1;
    assert_int_equal(list->cnt, 1);
    assert_string_equal(list->elems[0].topic, "in");
    pos = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    return pos;
}

static ledger_job *start(ledger *lg, ledger_part *pp, int64_t offset)
{
    ledger_job *job = NULL;
    int64_t last;

    assert_int_equal(ledger_job_start(lg, pp, offset, 100, 0, &job, &last), 0);
    assert_non_null(job);
    return job;
}

/* Three posts with one output each: the worker's hold is given back first,
 * the outputs are acknowledged out of order. */
static void test_advances_only_behind_acknowledged(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    ledger_job *job[3];
    (void)state;

    for (int i = 0; i < 3; i++) {
        job[i] = start(lg, pp, i);
        ledger_job_hold(job[i]);                          /* its output queued */
        assert_int_equal(ledger_job_release(lg, job[i]), 0); /* worker done */
    }
    assert_int_equal(ledger_inflight_msgs(lg), 3);
    assert_int_equal(ledger_inflight_bytes(lg), 300);
    assert_int_equal(position(lg, 1), -1); /* nothing acknowledged */

    assert_int_equal(ledger_job_release(lg, job[1]), 1); /* offset 1 acked */
    assert_int_equal(position(lg, 1), -1);               /* 0 still owed */
    assert_int_equal(ledger_job_release(lg, job[0]), 1);
    assert_int_equal(position(lg, 0), 2);                /* 0 and 1 */
    assert_int_equal(position(lg, 0), -1);               /* returned once */
    assert_int_equal(ledger_job_release(lg, job[2]), 1);
    assert_int_equal(position(lg, 0), 3);
    assert_int_equal(ledger_inflight_msgs(lg), 0);
    assert_int_equal(ledger_inflight_bytes(lg), 0);
    assert_int_equal(ledger_done(lg), 3);
    ledger_free(lg);
}

/* A post with two outputs (enriched and ticket) is done only after both. */
static void test_two_outputs(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    ledger_job *job = start(lg, pp, 7);
    (void)state;

    ledger_job_hold(job);
    ledger_job_hold(job);
    assert_int_equal(ledger_job_release(lg, job), 0); /* worker */
    assert_int_equal(ledger_job_release(lg, job), 0); /* enriched acked */
    assert_int_equal(position(lg, 1), -1);
    assert_int_equal(ledger_job_release(lg, job), 1); /* ticket acked */
    assert_int_equal(position(lg, 0), 8);
    ledger_free(lg);
}

/* A failed delivery: its offset is never committable, nor anything past it,
 * however many later posts are acknowledged. */
static void test_failed_delivery_stops_advance(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    ledger_job *a = start(lg, pp, 0), *b = start(lg, pp, 1), *c = start(lg, pp, 2);
    (void)state;

    assert_int_equal(ledger_job_release(lg, a), 1); /* 0: no output, done */
    assert_int_equal(position(lg, 0), 1);
    ledger_job_hold(b);
    ledger_job_fail(b);                              /* its delivery failed */
    assert_int_equal(ledger_job_release(lg, b), 0);  /* worker */
    assert_int_equal(ledger_job_release(lg, b), -1); /* the failed report */
    assert_int_equal(ledger_job_release(lg, c), 1);
    assert_int_equal(position(lg, 1), -1);           /* stays at 1 */
    assert_int_equal(ledger_part_position(pp), 1);
    assert_int_equal(ledger_done(lg), 2);
    assert_int_equal(ledger_inflight_msgs(lg), 0);
    ledger_free(lg);
}

/* Revoke drops the partition: a late acknowledgement changes nothing, the
 * partition is not returned, and assigning it again starts a new tracker
 * (the same offsets are new work for this assignment). */
static void test_revoke_drops_partition_state(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0), *again;
    ledger_job *late = start(lg, pp, 5), *job;
    int64_t last;
    (void)state;

    ledger_job_hold(late);
    assert_int_equal(ledger_job_release(lg, late), 0);
    assert_int_equal(ledger_n_parts(lg), 1);
    assert_int_equal(ledger_part_inflight(pp), 1);
    ledger_revoke(lg, pp);
    assert_int_equal(ledger_n_parts(lg), 0);
    assert_null(ledger_find(lg, "in", 0));
    assert_int_equal(ledger_job_release(lg, late), 1); /* after the revoke */
    assert_null(ledger_positions(lg, 1));

    again = ledger_assign(lg, "in", 0);
    assert_ptr_equal(ledger_find(lg, "in", 0), again);
    assert_int_equal(ledger_job_start(lg, again, 5, 10, 0, &job, &last), 0);
    assert_int_equal(ledger_job_release(lg, job), 1);
    assert_int_equal(position(lg, 0), 6);
    ledger_free(lg);
}

/* An offset at or before the last one dispatched is a repeat: refused, with
 * the last one named. */
static void test_repeat_offset_refused(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 3);
    ledger_job *job = start(lg, pp, 10), *dup = NULL;
    int64_t last = 0;
    (void)state;

    assert_int_equal(ledger_job_start(lg, pp, 10, 1, 0, &dup, &last), -1);
    assert_null(dup);
    assert_int_equal(last, 10);
    assert_int_equal(ledger_job_start(lg, pp, 4, 1, 0, &dup, &last), -1);
    assert_int_equal(ledger_inflight_msgs(lg), 1);
    assert_int_equal(ledger_job_release(lg, job), 1);
    ledger_free(lg);
}

/* Dropped (shutdown discarded it): finished, never acknowledged. */
static void test_drop_is_not_acknowledged(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    (void)state;

    ledger_job_drop(lg, start(lg, pp, 0));
    assert_int_equal(ledger_inflight_msgs(lg), 0);
    assert_int_equal(ledger_done(lg), 0);
    assert_null(ledger_positions(lg, 1));
    ledger_free(lg);
}

/* A revoke waits for its partitions' jobs, at most the timeout, and gives
 * up at once on abort. */
static void test_wait_drained(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0), *other = ledger_assign(lg, "in", 1);
    ledger_part *pps[2] = {pp, NULL};
    ledger_job *job = start(lg, other, 0);
    atomic_int abort_flag;
    (void)state;

    atomic_init(&abort_flag, 0);
    assert_int_equal(ledger_wait_drained(pps, 2, 0, &abort_flag), 0); /* other's job */
    pps[1] = other;
    assert_int_equal(ledger_wait_drained(pps, 2, 20, &abort_flag), -1);
    atomic_store(&abort_flag, 1);
    assert_int_equal(ledger_wait_drained(pps, 2, 60000, &abort_flag), -1);
    assert_int_equal(ledger_job_release(lg, job), 1);
    assert_int_equal(ledger_wait_drained(pps, 2, 0, NULL), 0);
    ledger_free(lg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advances_only_behind_acknowledged),
        cmocka_unit_test(test_two_outputs),
        cmocka_unit_test(test_failed_delivery_stops_advance),
        cmocka_unit_test(test_revoke_drops_partition_state),
        cmocka_unit_test(test_repeat_offset_refused),
        cmocka_unit_test(test_drop_is_not_acknowledged),
        cmocka_unit_test(test_wait_drained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
