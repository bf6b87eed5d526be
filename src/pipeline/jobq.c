/*
 * jobq: work queue of ledger jobs. See jobq.h.
 */
#include "pipeline/jobq.h"

#include <librdkafka/rdkafka.h>

void jobq_init(jobq *q, ledger *lg, int n_workers)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->head = q->tail = q->bhead = q->btail = NULL;
    q->n = q->closed = q->discard = q->bn = 0;
    q->n_workers = n_workers > 0 ? n_workers : 1;
    q->lg = lg;
}

void jobq_destroy(jobq *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
}

void jobq_batch_add(jobq *q, ledger_job *job)
{
    job->next = NULL;
    if (q->btail)
        q->btail->next = job;
    else
        q->bhead = job;
    q->btail = job;
    q->bn++;
}

void jobq_flush(jobq *q)
{
    if (!q->bn)
        return;
    int wake = (q->bn + JOBQ_WAKE_JOBS - 1) / JOBQ_WAKE_JOBS;

    if (wake > q->n_workers)
        wake = q->n_workers;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = q->bhead;
    else
        q->head = q->bhead;
    q->tail = q->btail;
    q->n += q->bn;
    /* Signals only wake threads already waiting; a worker still busy
     * with its last share comes back for more without one. */
    for (int i = 0; i < wake; i++)
        pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    q->bhead = q->btail = NULL;
    q->bn = 0;
}

ledger_job *jobq_take(jobq *q)
{
    ledger_job *first, *last;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->discard && q->head) {
            ledger_job *job = q->head;
            q->head = job->next;
            q->n--;
            if (!q->head)
                q->tail = NULL;
            pthread_mutex_unlock(&q->lock);
            rd_kafka_message_destroy(job->msg);
            ledger_job_drop(q->lg, job);
            pthread_mutex_lock(&q->lock);
        }
        if (q->head || q->closed)
            break;
        pthread_cond_wait(&q->cond, &q->lock);
    }
    first = q->head;
    if (first) {
        int share = 1;

        last = first;
        while (share < JOBQ_TAKE_MAX && last->next) {
            last = last->next;
            share++;
        }
        q->head = last->next;
        q->n -= share;
        if (!q->head)
            q->tail = NULL;
        last->next = NULL;
        /* More left than one worker should take on alone: the next
         * waiting worker helps rather than waiting for this one. */
        if (q->n >= JOBQ_WAKE_JOBS)
            pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return first;
}

void jobq_close(jobq *q, int discard)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    q->discard = discard;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}
