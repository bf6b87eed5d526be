/*
 * test_pipeline_jobq: every job handed over is taken exactly once, in
 * order, in shares of at most JOBQ_TAKE_MAX; closing ends every taker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/jobq.h"

static ledger_job *job_at(ledger *lg, ledger_part *pp, int64_t offset)
{
    ledger_job *job = NULL;
    int64_t last;

    assert_int_equal(ledger_job_start(lg, pp, offset, 100, 0, &job, &last), 0);
    return job;
}

/* Takes one share, checks its offsets follow *next, releases its jobs;
 * returns its length. */
static int take_share(jobq *q, ledger *lg, int64_t *next)
{
    ledger_job *job = jobq_take(q), *after;
    int n = 0;

    for (; job; job = after, n++) {
        after = job->next;
        assert_int_equal(job->offset, *next);
        (*next)++;
        assert_int_equal(ledger_job_release(lg, job), 1);
    }
    return n;
}

static void test_shares_in_order(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    jobq q;
    int64_t next = 0;
    (void)state;

    jobq_init(&q, lg, 2);
    for (int64_t o = 0; o < 100; o++)
        jobq_batch_add(&q, job_at(lg, pp, o));
    jobq_flush(&q);
    assert_int_equal(take_share(&q, lg, &next), JOBQ_TAKE_MAX);
    /* a second run appended behind what is left of the first */
    for (int64_t o = 100; o < 110; o++)
        jobq_batch_add(&q, job_at(lg, pp, o));
    jobq_flush(&q);
    assert_int_equal(take_share(&q, lg, &next), JOBQ_TAKE_MAX);
    assert_int_equal(take_share(&q, lg, &next), JOBQ_TAKE_MAX);
    assert_int_equal(take_share(&q, lg, &next), 110 - 3 * JOBQ_TAKE_MAX);
    assert_int_equal(next, 110);
    assert_int_equal(ledger_part_position(pp), 110);
    jobq_close(&q, 0);
    assert_null(jobq_take(&q)); /* closed and empty: at once */
    jobq_destroy(&q);
    ledger_free(lg);
}

static void test_close_drains_first(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    jobq q;
    int64_t next = 0;
    (void)state;

    jobq_init(&q, lg, 1);
    for (int64_t o = 0; o < 5; o++)
        jobq_batch_add(&q, job_at(lg, pp, o));
    jobq_flush(&q);
    jobq_close(&q, 0); /* no discard: what is queued is still handed out */
    assert_int_equal(take_share(&q, lg, &next), 5);
    assert_null(jobq_take(&q));
    jobq_destroy(&q);
    ledger_free(lg);
}

/* Several takers, runs of every size from 1 to 3 shares: counts in =
 * counts out, no offset twice, every taker ends at close. */
#define MT_JOBS 20000
#define MT_TAKERS 4

typedef struct taker {
    jobq *q;
    ledger *lg;
    unsigned char *seen;
    int taken;
    int max_share;
} taker;

static void *taker_main(void *arg)
{
    taker *t = arg;
    ledger_job *job, *after;

    while ((job = jobq_take(t->q))) {
        int n = 0;
        for (; job; job = after, n++) {
            after = job->next;
            t->seen[job->offset]++; /* offsets are disjoint between takers */
            t->taken++;
            ledger_job_release(t->lg, job);
        }
        if (n > t->max_share)
            t->max_share = n;
    }
    return NULL;
}

static void test_many_takers(void **state)
{
    ledger *lg = ledger_new();
    ledger_part *pp = ledger_assign(lg, "in", 0);
    unsigned char *seen = calloc(MT_JOBS, 1);
    pthread_t th[MT_TAKERS];
    taker tk[MT_TAKERS];
    jobq q;
    int64_t o = 0;
    (void)state;

    assert_non_null(seen);
    jobq_init(&q, lg, MT_TAKERS);
    for (int i = 0; i < MT_TAKERS; i++) {
        tk[i] = (taker){&q, lg, seen, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, taker_main, &tk[i]), 0);
    }
    for (int run = 1; o < MT_JOBS; run = run % (3 * JOBQ_TAKE_MAX) + 1) {
        for (int i = 0; i < run && o < MT_JOBS; i++)
            jobq_batch_add(&q, job_at(lg, pp, o++));
        jobq_flush(&q);
    }
    jobq_close(&q, 0);
    int taken = 0;
    for (int i = 0; i < MT_TAKERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        taken += tk[i].taken;
        assert_true(tk[i].max_share <= JOBQ_TAKE_MAX);
    }
    assert_int_equal(taken, MT_JOBS);
    for (int i = 0; i < MT_JOBS; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(ledger_part_position(pp), MT_JOBS);
    jobq_destroy(&q);
    ledger_free(lg);
    free(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shares_in_order),
        cmocka_unit_test(test_close_drains_first),
        cmocka_unit_test(test_many_takers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
