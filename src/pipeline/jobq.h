/*
 * jobq: the work queue between the pipeline's main thread and its workers.
 * FIFO of ledger jobs; the main thread appends a poll run at once
 * (jobq_batch_add, then jobq_flush); workers block in jobq_pop.
 *
 * Closing: after jobq_close workers drain what is queued and then get NULL;
 * with discard they get NULL at once and what was queued is finished
 * unacknowledged (its message destroyed, ledger_job_drop), so its offsets
 * are never committed.
 *
 * Thread-safety: batch_add/flush/close from one producer thread (the batch
 * is not locked); pop from any number of threads. Cost: one lock and one
 * wake-up per flushed run, one lock per pop.
 */
#ifndef EARSHOT_PIPELINE_JOBQ_H
#define EARSHOT_PIPELINE_JOBQ_H

#include <pthread.h>

#include "pipeline/ledger.h"

typedef struct jobq {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    ledger_job *head, *tail; /* guarded by lock */
    int closed;              /* no more jobs: workers exit when empty */
    int discard;             /* drop what is queued */
    ledger *lg;              /* to finish discarded jobs */
    /* the producer's run, not yet visible to workers */
    ledger_job *bhead, *btail;
    int bn;
} jobq;

void jobq_init(jobq *q, ledger *lg);
void jobq_destroy(jobq *q);

/* Adds job to the current run (not yet visible to the workers). */
void jobq_batch_add(jobq *q, ledger_job *job);

/* Hands the run to the workers: one lock, one wake-up. */
void jobq_flush(jobq *q);

/* The next job; blocks while the queue is empty and open. NULL once it is
 * closed and empty, or closed with discard. */
ledger_job *jobq_pop(jobq *q);

/* Wakes every worker; see the header comment for discard. */
void jobq_close(jobq *q, int discard);

#endif
