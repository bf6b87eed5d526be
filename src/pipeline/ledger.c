/*
 * ledger: partitions, jobs and commit positions. See ledger.h.
 *
 * Who owns what: a ledger_part is reference counted. The active set holds
 * one reference, every job of that partition one more, so a delivery report
 * arriving after a revoke finds a valid (retired) partition and changes
 * nothing. Only the commit position ("stored") is main-thread state.
 */
#include "pipeline/ledger.h"
#include "base/base_buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/offtrack.h"

enum { LEDGER_PART_ACTIVE = 0, LEDGER_PART_RETIRED = 1 };

struct ledger_part {
    char *topic;
    int32_t partition;
    pthread_mutex_t lock;
    offtrack *ot;          /* guarded by lock */
    int state;             /* guarded by lock */
    int64_t stored;        /* last position returned (main thread) */
    atomic_int refs;
    atomic_llong inflight; /* jobs of this partition not finished */
};

struct ledger {
    ledger_part **parts;   /* active set (main thread) */
    size_t n_parts, cap_parts;
    ledger_part *last_part;
    atomic_int n_active;
    atomic_int dirty;      /* some partition's position advanced */
    atomic_llong inflight_msgs, inflight_bytes;
    atomic_ullong done;
};

ledger *ledger_new(void)
{
    ledger *lg = calloc(1, sizeof(*lg));
    return lg;
}

static ledger_part *ledger_part_new(const char *topic, int32_t partition)
{
    ledger_part *pp = calloc(1, sizeof(*pp));
    if (!pp)
        return NULL;
    pp->topic = strdup(topic);
    pp->ot = offtrack_new();
    if (!pp->topic || !pp->ot) {
        free(pp->topic);
        offtrack_free(pp->ot);
        free(pp);
        return NULL;
    }
    pp->partition = partition;
    pp->stored = -1;
    pthread_mutex_init(&pp->lock, NULL);
    atomic_init(&pp->refs, 1);
    atomic_init(&pp->inflight, 0);
    return pp;
}

static void ledger_part_unref(ledger_part *pp)
{
    if (atomic_fetch_sub(&pp->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&pp->lock);
    offtrack_free(pp->ot);
    free(pp->topic);
    free(pp);
}

ledger_part *ledger_find(ledger *lg, const char *topic, int32_t partition)
{
    ledger_part *lp = lg->last_part;

    if (lp && lp->partition == partition && !strcmp(lp->topic, topic))
        return lp;
    for (size_t i = 0; i < lg->n_parts; i++) {
        ledger_part *pp = lg->parts[i];
        if (pp->partition == partition && !strcmp(pp->topic, topic))
            return lg->last_part = pp;
    }
    return NULL;
}

void ledger_revoke(ledger *lg, ledger_part *pp)
{
    for (size_t i = 0; i < lg->n_parts; i++) {
        if (lg->parts[i] == pp) {
            lg->parts[i] = lg->parts[--lg->n_parts];
            break;
        }
    }
    if (lg->last_part == pp)
        lg->last_part = NULL;
    atomic_store(&lg->n_active, (int)lg->n_parts);
    pthread_mutex_lock(&pp->lock);
    pp->state = LEDGER_PART_RETIRED;
    pthread_mutex_unlock(&pp->lock);
    ledger_part_unref(pp);
}

ledger_part *ledger_assign(ledger *lg, const char *topic, int32_t partition)
{
    ledger_part *old = ledger_find(lg, topic, partition), *pp;

    if (old)
        ledger_revoke(lg, old);
    if (lg->n_parts == lg->cap_parts) {
        ledger_part **grown = base_grow(lg->parts, &lg->cap_parts, sizeof(*grown), 16);
        if (!grown)
            return NULL;
        lg->parts = grown;
    }
    if (!(pp = ledger_part_new(topic, partition)))
        return NULL;
    lg->parts[lg->n_parts++] = pp;
    atomic_store(&lg->n_active, (int)lg->n_parts);
    return pp;
}

void ledger_free(ledger *lg)
{
    if (!lg)
        return;
    while (lg->n_parts)
        ledger_revoke(lg, lg->parts[lg->n_parts - 1]);
    free(lg->parts);
    free(lg);
}

int ledger_job_start(ledger *lg, ledger_part *pp, int64_t offset, size_t bytes,
                     uint64_t t0_ns, ledger_job **out, int64_t *last)
{
    ledger_job *job;
    int rc;

    pthread_mutex_lock(&pp->lock);
    rc = offtrack_add(pp->ot, offset);
    *last = offtrack_last_added(pp->ot);
    pthread_mutex_unlock(&pp->lock);
    if (rc == -1)
        return -1;
    /* rc == -2 leaves nothing to undo: the tracker refused the offset. An
     * offset added here but never finished (calloc failing) keeps the
     * partition from committing past it, which is the safe way to fail. */
    if (rc || !(job = calloc(1, sizeof(*job))))
        return -2;
    atomic_fetch_add(&pp->refs, 1);
    atomic_fetch_add(&pp->inflight, 1);
    job->part = pp;
    job->offset = offset;
    job->bytes = bytes;
    job->t0_ns = t0_ns;
    atomic_init(&job->pending, 1);
    atomic_init(&job->failed, 0);
    atomic_fetch_add(&lg->inflight_msgs, 1);
    atomic_fetch_add(&lg->inflight_bytes, (long long)bytes);
    *out = job;
    return 0;
}

void ledger_job_hold(ledger_job *job)
{
    atomic_fetch_add(&job->pending, 1);
}

void ledger_job_fail(ledger_job *job)
{
    atomic_store(&job->failed, 1);
}

static void ledger_job_finish(ledger *lg, ledger_job *job, int acknowledged)
{
    ledger_part *pp = job->part;

    if (acknowledged) {
        pthread_mutex_lock(&pp->lock);
        if (pp->state == LEDGER_PART_ACTIVE && offtrack_done(pp->ot, job->offset) > 0)
            atomic_store(&lg->dirty, 1);
        pthread_mutex_unlock(&pp->lock);
        atomic_fetch_add(&lg->done, 1);
    }
    atomic_fetch_sub(&pp->inflight, 1);
    atomic_fetch_sub(&lg->inflight_msgs, 1);
    atomic_fetch_sub(&lg->inflight_bytes, (long long)job->bytes);
    ledger_part_unref(pp);
    free(job);
}

int ledger_job_release(ledger *lg, ledger_job *job)
{
    int ok;

    if (atomic_fetch_sub(&job->pending, 1) != 1)
        return 0;
    /* A failed job is never acknowledged: its offset stays pending, so
     * nothing at or past it is committed. */
    ok = !atomic_load(&job->failed);
    ledger_job_finish(lg, job, ok);
    return ok ? 1 : -1;
}

void ledger_job_drop(ledger *lg, ledger_job *job)
{
    ledger_job_finish(lg, job, 0);
}

int64_t ledger_part_position(ledger_part *pp)
{
    int64_t pos;

    pthread_mutex_lock(&pp->lock);
    pos = offtrack_committable(pp->ot);
    pthread_mutex_unlock(&pp->lock);
    if (pos > pp->stored)
        pp->stored = pos;
    return pos;
}

rd_kafka_topic_partition_list_t *ledger_positions(ledger *lg, int all)
{
    rd_kafka_topic_partition_list_t *list = NULL;

    if (!atomic_exchange(&lg->dirty, 0) && !all)
        return NULL;
    for (size_t i = 0; i < lg->n_parts; i++) {
        ledger_part *pp = lg->parts[i];
        int64_t pos;

        pthread_mutex_lock(&pp->lock);
        pos = offtrack_committable(pp->ot);
        pthread_mutex_unlock(&pp->lock);
        if (pos <= pp->stored)
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new((int)lg->n_parts);
        rd_kafka_topic_partition_list_add(list, pp->topic, pp->partition)->offset = pos;
        pp->stored = pos;
    }
    return list;
}

const char *ledger_part_topic(const ledger_part *pp) { return pp->topic; }
int32_t ledger_part_partition(const ledger_part *pp) { return pp->partition; }
long long ledger_part_inflight(const ledger_part *pp) { return atomic_load(&pp->inflight); }
size_t ledger_n_parts(const ledger *lg) { return (size_t)atomic_load(&lg->n_active); }
ledger_part *ledger_part_at(ledger *lg, size_t i) { return i < lg->n_parts ? lg->parts[i] : NULL; }
long long ledger_inflight_msgs(const ledger *lg) { return atomic_load(&lg->inflight_msgs); }
long long ledger_inflight_bytes(const ledger *lg) { return atomic_load(&lg->inflight_bytes); }
uint64_t ledger_done(const ledger *lg) { return atomic_load(&lg->done); }

static int64_t ledger_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ledger_wait_drained(ledger_part *const *pps, int n, int64_t timeout_ms,
                        const atomic_int *abort)
{
    int64_t deadline = ledger_now_ms() + timeout_ms;
    struct timespec nap = {0, 2 * 1000000L};

    for (;;) {
        int busy = 0;
        for (int i = 0; i < n; i++)
            if (pps[i] && atomic_load(&pps[i]->inflight) > 0)
                busy = 1;
        if (!busy)
            return 0;
        if (ledger_now_ms() >= deadline || (abort && atomic_load(abort)))
            return -1;
        nanosleep(&nap, NULL);
    }
}
