/*
 * jobq: the work queue between the pipeline's main thread and its workers.
 * FIFO of ledger jobs; the main thread appends a poll run at once
 * (jobq_batch_add, then jobq_flush); workers take up to JOBQ_TAKE_MAX jobs
 * at a time (jobq_take).
 *
 * Why shares of the queue and counted wake-ups rather than one job per
 * lock and a broadcast per run: at 20,000 posts/s the main thread hands
 * over ~250 runs/s of ~80 posts and a post costs a few us, so a broadcast
 * woke every worker for work one could do in well under a millisecond, and
 * each took the lock once per post. Now a run wakes one worker per
 * JOBQ_WAKE_JOBS jobs (at most all of them), a worker takes up to
 * JOBQ_TAKE_MAX jobs in one lock, and one that leaves JOBQ_WAKE_JOBS or
 * more behind wakes the next. Measured on 2 cores (issue 14) this did not
 * change the workers' CPU or context switches (~550/s each, most of them
 * preemptions by librdkafka's producer thread, woken by their produce
 * calls); it is kept as the cheaper hand-off. The price: a run of up to
 * JOBQ_WAKE_JOBS posts is classified by one thread (up to ~0.6 ms) while
 * another core could have helped.
 *
 * Closing: after jobq_close workers drain what is queued and then get NULL;
 * with discard they get NULL at once and what was queued is finished
 * unacknowledged (its message destroyed, ledger_job_drop), so its offsets
 * are never committed. A share already taken is processed as usual (at most
 * JOBQ_TAKE_MAX jobs, each acknowledged or failed like any other).
 *
 * Thread-safety: batch_add/flush/close from one producer thread (the batch
 * is not locked); take from any number of threads. Cost: one lock and at
 * most one wake-up per JOBQ_WAKE_JOBS jobs per flushed run, one lock per
 * share taken.
 */
#ifndef EARSHOT_PIPELINE_JOBQ_H
#define EARSHOT_PIPELINE_JOBQ_H

#include <pthread.h>

#include "pipeline/ledger.h"

/* Jobs a woken worker is expected to get through before another is woken
 * (~5 us each with its produce: a run of 128 is ~0.6 ms on one thread). */
#define JOBQ_WAKE_JOBS 128
/* The largest share one take hands a worker. */
#define JOBQ_TAKE_MAX 32

typedef struct jobq {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    ledger_job *head, *tail; /* guarded by lock */
    int n;                   /* jobs between head and tail; guarded by lock */
    int n_workers;           /* taking threads: the most a flush wakes */
    int closed;              /* no more jobs: workers exit when empty */
    int discard;             /* drop what is queued */
    ledger *lg;              /* to finish discarded jobs */
    /* the producer's run, not yet visible to workers */
    ledger_job *bhead, *btail;
    int bn;
} jobq;

/* n_workers: how many threads will take (< 1 counts as 1). */
void jobq_init(jobq *q, ledger *lg, int n_workers);
void jobq_destroy(jobq *q);

/* Adds job to the current run (not yet visible to the workers). */
void jobq_batch_add(jobq *q, ledger_job *job);

/* Hands the run to the workers: one lock, one wake-up per JOBQ_WAKE_JOBS
 * jobs (at least one, at most n_workers). */
void jobq_flush(jobq *q);

/* The caller's share of the queue, oldest first, linked through ->next
 * (NULL-terminated): up to JOBQ_TAKE_MAX jobs. Blocks while the queue is empty and open. NULL once it is
 * closed and empty, or closed with discard. Read a job's ->next before
 * processing it: processing may free it. */
ledger_job *jobq_take(jobq *q);

/* Wakes every worker; see the header comment for discard. */
void jobq_close(jobq *q, int discard);

#endif
