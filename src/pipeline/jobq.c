/*
 * jobq: work queue of ledger jobs. See jobq.h.
 */
#include "pipeline/jobq.h"

#include <librdkafka/rdkafka.h>

void jobq_init(jobq *q, ledger *lg)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->head = q->tail = q->bhead = q->btail = NULL;
    q->closed = q->discard = q->bn = 0;
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

/* A drained poll run costs the workers one contended lock, not one per
 * message. */
void jobq_flush(jobq *q)
{
    if (!q->bn)
        return;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = q->bhead;
    else
        q->head = q->bhead;
    q->tail = q->btail;
    if (q->bn > 1)
        pthread_cond_broadcast(&q->cond);
    else
        pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    q->bhead = q->btail = NULL;
    q->bn = 0;
}

ledger_job *jobq_pop(jobq *q)
{
    ledger_job *job;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->discard && q->head) {
            job = q->head;
            q->head = job->next;
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
    job = q->head;
    if (job) {
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    return job;
}

void jobq_close(jobq *q, int discard)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    q->discard = discard;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}
