/*
 * pipeline: consumer group -> workers -> idempotent producer, with offsets
 * stored only behind acknowledged outputs. See pipeline.h for the contract.
 *
 * Who owns what:
 *   - pl_part: one assigned input partition and its offtrack. Reference
 *     counted: the pipeline's active list holds one reference, every job
 *     of that partition one more, so a delivery report arriving after a
 *     revoke finds a valid (retired) partition and changes nothing.
 *   - pl_job: one input message from dispatch until its last output is
 *     acknowledged. pending counts the outputs not yet acknowledged plus one
 *     held by the worker while it produces, so a fast acknowledgement cannot
 *     finish the job before its last output is even queued.
 *   - The rd_kafka_message_t is destroyed by the worker right after its
 *     outputs are queued (they are copied); only the offset lives on.
 *
 * Why one shared queue rather than partition affinity: the offset tracker
 * already accepts acknowledgements in any order, and a shared queue keeps
 * every worker busy when there are fewer partitions than threads. The price:
 * the outputs of one input partition may leave in a slightly different
 * order than they came (each output is keyed, so per-key consumers do not
 * care about cross-post order).
 */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "engine/engine.h"
#include "enrich/jbuf.h"
#include "ops/log.h"
#include "pipeline/offreset.h"
#include "pipeline/offtrack.h"
#include "pipeline/route.h"
#include "text/text.h"

#define PL_ROUTES 3
#define PL_REJECT_PAYLOAD_MAX (256 * 1024)
/* Messages taken per main-loop run before the housekeeping: large enough
 * that a fetch response (~133 posts of 750 B at fetch.min.bytes=100000)
 * is one run, small enough that backpressure and offset storing stay
 * within a few ms of each other at any rate. */
#define PL_POLL_BATCH 500

enum { PL_PART_ACTIVE = 0, PL_PART_RETIRED = 1 };

typedef struct pl_part {
    char *topic;
    int32_t partition;
    pthread_mutex_t lock;
    offtrack *ot;          /* guarded by lock */
    int state;             /* guarded by lock */
    int64_t stored;        /* last position handed to offsets_store (main) */
    atomic_int refs;
    atomic_llong inflight; /* jobs of this partition not finished */
} pl_part;

typedef struct pl_job {
    struct pl_job *next;
    rd_kafka_message_t *msg;
    pl_part *part;
    int64_t offset;
    size_t bytes;
    uint64_t t0_ns;
    atomic_int pending;
    atomic_int failed;
} pl_job;

typedef struct pl_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pl_job *head, *tail;
    int closed;   /* no more jobs: workers exit when the queue is empty */
    int discard;  /* shutdown timed out: drop what is queued */
} pl_queue;

/* Jobs dispatched by the main thread and not yet handed to the workers:
 * a poll run goes to the queue under one lock (pl_batch_flush). */
typedef struct pl_batch {
    pl_job *head, *tail;
    int n;
} pl_batch;

typedef struct pl_worker {
    pipeline *p;
    int index;
    pthread_t thread;
    engine_worker *ew;
    ruleset *rs;
    unsigned rules_gen;
    reload_view view;          /* when p->reload is set */
    metrics_shard *shard;
    jbuf out;
} pl_worker;

struct pipeline {
    engine_config ecfg;
    char *out_topics[PL_ROUTES];
    char *topic_input;
    pipeline_route_policy route;
    int key_by;
    int64_t max_msgs, max_bytes;
    int64_t status_ms, shutdown_ms;

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_topic_t *rkt[PL_ROUTES]; /* enriched, tickets, rejected */

    pl_queue queue;
    pl_worker *workers;
    int n_workers;
    int workers_started;

    pthread_t dr_thread;
    int dr_started;
    atomic_int dr_stop;
    metrics_shard *dr_shard;
    metrics_shard *main_shard;
    metrics *metrics;

    pthread_mutex_t rules_lock;
    ruleset *rules;             /* guarded by rules_lock */
    reload *reload;             /* NULL: rules/rules_gen above */
    atomic_uint rules_gen;

    /* main thread only */
    pl_part **parts;
    size_t n_parts, cap_parts;
    pl_part *last_part;
    pl_batch batch;
    int paused;
    int closing;
    int subscribed;
    int ever_assigned;          /* an assignment reached pl_on_assign */

    atomic_ullong consumed, done, produced[PL_ROUTES], failed;
    atomic_llong inflight_msgs, inflight_bytes;
    atomic_llong lag;
    atomic_int n_assigned;
    atomic_int paused_flag;
    atomic_int fatal;
    atomic_int dirty;            /* some partition's position advanced */

    log_limit lim_consume, lim_deliver, lim_kafka;
};

static uint64_t pl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pl_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- partitions ---- */

static pl_part *pl_part_new(const char *topic, int32_t partition)
{
    pl_part *pp = calloc(1, sizeof(*pp));
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

static void pl_part_unref(pl_part *pp)
{
    if (atomic_fetch_sub(&pp->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&pp->lock);
    offtrack_free(pp->ot);
    free(pp->topic);
    free(pp);
}

static void pl_part_retire(pl_part *pp)
{
    pthread_mutex_lock(&pp->lock);
    pp->state = PL_PART_RETIRED;
    pthread_mutex_unlock(&pp->lock);
}

static pl_part *pl_part_find(pipeline *p, const char *topic, int32_t partition)
{
    pl_part *lp = p->last_part;

    if (lp && lp->partition == partition && !strcmp(lp->topic, topic))
        return lp;
    for (size_t i = 0; i < p->n_parts; i++) {
        pl_part *pp = p->parts[i];
        if (pp->partition == partition && !strcmp(pp->topic, topic))
            return p->last_part = pp;
    }
    return NULL;
}

static int pl_part_add(pipeline *p, pl_part *pp)
{
    if (p->n_parts == p->cap_parts) {
        size_t cap = p->cap_parts ? p->cap_parts * 2 : 16;
        pl_part **grown = realloc(p->parts, cap * sizeof(*grown));
        if (!grown)
            return -1;
        p->parts = grown;
        p->cap_parts = cap;
    }
    p->parts[p->n_parts++] = pp;
    atomic_store(&p->n_assigned, (int)p->n_parts);
    return 0;
}

/* Removes pp from the active list and drops the list's reference. */
static void pl_part_remove(pipeline *p, pl_part *pp)
{
    for (size_t i = 0; i < p->n_parts; i++) {
        if (p->parts[i] == pp) {
            p->parts[i] = p->parts[--p->n_parts];
            break;
        }
    }
    if (p->last_part == pp)
        p->last_part = NULL;
    atomic_store(&p->n_assigned, (int)p->n_parts);
    pl_part_retire(pp);
    pl_part_unref(pp);
}

/* Hands every active partition's advanced commit position to librdkafka
 * (main thread). Auto-commit then commits only what was stored. */
static void pl_store_offsets(pipeline *p)
{
    rd_kafka_topic_partition_list_t *list = NULL;

    if (!atomic_exchange(&p->dirty, 0))
        return;
    for (size_t i = 0; i < p->n_parts; i++) {
        pl_part *pp = p->parts[i];
        int64_t pos;

        pthread_mutex_lock(&pp->lock);
        pos = offtrack_committable(pp->ot);
        pthread_mutex_unlock(&pp->lock);
        if (pos <= pp->stored)
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new((int)p->n_parts);
        rd_kafka_topic_partition_list_add(list, pp->topic, pp->partition)->offset = pos;
        pp->stored = pos;
    }
    if (!list)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(p->consumer, list);
    if (err)
        log_limited(&p->lim_kafka, LOG_LEVEL_WARN, "storing offsets: %s",
                    rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(list);
}

/* ---- jobs ---- */

static void pl_job_free(pipeline *p, pl_job *job, int acknowledged)
{
    pl_part *pp = job->part;

    if (acknowledged) {
        pthread_mutex_lock(&pp->lock);
        if (pp->state == PL_PART_ACTIVE && offtrack_done(pp->ot, job->offset) > 0)
            atomic_store(&p->dirty, 1);
        pthread_mutex_unlock(&pp->lock);
        atomic_fetch_add(&p->done, 1);
    }
    atomic_fetch_sub(&pp->inflight, 1);
    atomic_fetch_sub(&p->inflight_msgs, 1);
    atomic_fetch_sub(&p->inflight_bytes, (long long)job->bytes);
    if (job->msg)
        rd_kafka_message_destroy(job->msg);
    pl_part_unref(pp);
    free(job);
}

static void pl_job_release(pipeline *p, pl_job *job)
{
    if (atomic_fetch_sub(&job->pending, 1) != 1)
        return;
    /* A failed job is never acknowledged: its offset stays pending, so
     * nothing at or past it is committed; pipeline_run stops on p->fatal. */
    pl_job_free(p, job, !atomic_load(&job->failed));
}

/* ---- queue ---- */

/* Appends a chain of jobs (linked by next) with one lock and one wake-up:
 * a drained poll batch costs the workers one contended lock, not one per
 * message. */
static void pl_queue_push_chain(pl_queue *q, pl_job *head, pl_job *tail, int n)
{
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = head;
    else
        q->head = head;
    q->tail = tail;
    if (n > 1)
        pthread_cond_broadcast(&q->cond);
    else
        pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* Hands the main thread's dispatched jobs to the workers. Also called
 * first thing in the rebalance callback: a revoke waits for its
 * partitions' jobs to finish, so none may still sit here. */
static void pl_batch_flush(pipeline *p)
{
    if (!p->batch.n)
        return;
    pl_queue_push_chain(&p->queue, p->batch.head, p->batch.tail, p->batch.n);
    p->batch.head = p->batch.tail = NULL;
    p->batch.n = 0;
}

/* NULL once the queue is closed and empty (or discarding). */
static pl_job *pl_queue_pop(pipeline *p, pl_queue *q)
{
    pl_job *job;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->discard && q->head) {
            job = q->head;
            q->head = job->next;
            if (!q->head)
                q->tail = NULL;
            pthread_mutex_unlock(&q->lock);
            pl_job_free(p, job, 0);
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

/* ---- producing ---- */

static void pl_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pipeline *p = opaque;
    pl_job *job = m->_private;
    int route = 0;

    (void)rk;
    /* By name: the handle in a delivery report need not be the pointer
     * rd_kafka_topic_new returned. */
    const char *topic = rd_kafka_topic_name(m->rkt);
    for (int i = 0; i < PL_ROUTES; i++)
        if (!strcmp(topic, p->out_topics[i]))
            route = i;
    if (m->err) {
        atomic_fetch_add(&p->failed, 1);
        atomic_store(&job->failed, 1);
        atomic_store(&p->fatal, 1);
        if (p->dr_shard)
            metrics_produce_failed(p->dr_shard, (metrics_route)route, 1);
        log_limited(&p->lim_deliver, LOG_LEVEL_ERROR,
                    "delivery to %s failed: %s; input %s [%d] offset %lld will not be "
                    "committed, stopping",
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err), job->part->topic,
                    (int)job->part->partition, (long long)job->offset);
    } else {
        atomic_fetch_add(&p->produced[route], 1);
        if (p->dr_shard)
            metrics_produced(p->dr_shard, (metrics_route)route, 1);
    }
    pl_job_release(p, job);
}

static void *pl_dr_main(void *arg)
{
    pipeline *p = arg;

    while (!atomic_load(&p->dr_stop))
        rd_kafka_poll(p->producer, 100);
    rd_kafka_poll(p->producer, 0);
    return NULL;
}

/* Queues one output; waits (never drops) while the producer queue is full.
 * Returns 0, or -1 on a permanent produce error (job marked failed). */
static int pl_produce(pipeline *p, pl_job *job, int route, const char *key, size_t key_len,
                      const char *val, size_t val_len, const char *post_id,
                      size_t post_id_len)
{
    rd_kafka_resp_err_t err;

    atomic_fetch_add(&job->pending, 1);
    for (;;) {
        if (post_id_len)
            err = rd_kafka_producev(p->producer, RD_KAFKA_V_RKT(p->rkt[route]),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_HEADER("earshot.post_id", post_id,
                                                      (ssize_t)post_id_len),
                                    RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
        else
            err = rd_kafka_producev(p->producer, RD_KAFKA_V_RKT(p->rkt[route]),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        /* The delivery thread drains the queue; waiting here is the
         * backpressure that reaches the consumer through in-flight counts. */
        pl_sleep_ms(5);
    }
    if (!err)
        return 0;
    atomic_fetch_add(&p->failed, 1);
    atomic_store(&job->failed, 1);
    atomic_store(&p->fatal, 1);
    log_limited(&p->lim_deliver, LOG_LEVEL_ERROR,
                "producing to %s failed: %s; input %s [%d] offset %lld will not be committed, "
                "stopping",
                rd_kafka_topic_name(p->rkt[route]), rd_kafka_err2str(err), job->part->topic,
                (int)job->part->partition, (long long)job->offset);
    atomic_fetch_sub(&job->pending, 1);
    return -1;
}

static const char pl_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int pl_base64(jbuf *b, const unsigned char *s, size_t len)
{
    if (jbuf_reserve(b, (len + 2) / 3 * 4 + 2))
        return -1;
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = pl_b64[v >> 18];
        *o++ = pl_b64[(v >> 12) & 63];
        *o++ = pl_b64[(v >> 6) & 63];
        *o++ = pl_b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = pl_b64[v >> 18];
        *o++ = pl_b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? pl_b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

/* {"reason":..,"topic":..,"partition":P,"offset":O,"payload":"..."}: the
 * original bytes as a JSON string when they are valid UTF-8 (JSON escapes
 * make that exact), else as base64, so they are always recoverable. A
 * payload larger than PL_REJECT_PAYLOAD_MAX is cut (payload_truncated) to
 * stay under the brokers' message size, on a character boundary, so a
 * valid UTF-8 payload stays text; topic/partition/offset still point at the
 * whole. */
static int pl_reject_json(jbuf *b, const char *reason, const rd_kafka_message_t *m,
                          const char *topic)
{
    const char *payload = m->payload ? (const char *)m->payload : "";
    size_t len = m->len, keep = len;
    int truncated = 0;

    if (keep > PL_REJECT_PAYLOAD_MAX) {
        keep = PL_REJECT_PAYLOAD_MAX;
        truncated = 1;
        /* Cut before a character, not inside one, so valid UTF-8 stays
         * text: back over at most 3 continuation bytes (10xxxxxx) to the
         * lead byte. Invalid input stays invalid and goes out as base64. */
        for (int back = 0; back < 3 && keep > 0 &&
                           ((unsigned char)payload[keep] & 0xC0) == 0x80; back++)
            keep--;
    }
    jbuf_reset(b);
    if (jbuf_cstr(b, "{\"reason\":") || jbuf_str_bytes(b, reason, strlen(reason)) ||
        jbuf_cstr(b, ",\"topic\":") || jbuf_str_bytes(b, topic, strlen(topic)) ||
        jbuf_cstr(b, ",\"partition\":") || jbuf_int(b, m->partition) ||
        jbuf_cstr(b, ",\"offset\":") || jbuf_int(b, m->offset) ||
        jbuf_cstr(b, ",\"payload_bytes\":") || jbuf_int(b, (int64_t)len))
        return -1;
    if (text_utf8_valid(payload, keep)) {
        if (jbuf_cstr(b, ",\"payload\":") || jbuf_str(b, payload, keep))
            return -1;
    } else {
        if (jbuf_cstr(b, ",\"payload_base64\":") ||
            pl_base64(b, (const unsigned char *)payload, keep))
            return -1;
    }
    if (truncated && jbuf_cstr(b, ",\"payload_truncated\":true"))
        return -1;
    return jbuf_cstr(b, "}");
}

static ruleset *pl_worker_rules(pl_worker *w)
{
    pipeline *p = w->p;
    unsigned gen = atomic_load_explicit(&p->rules_gen, memory_order_acquire);

    if (gen != w->rules_gen) {
        pthread_mutex_lock(&p->rules_lock);
        ruleset *old = w->rs;
        w->rs = ruleset_ref(p->rules);
        w->rules_gen = atomic_load(&p->rules_gen);
        pthread_mutex_unlock(&p->rules_lock);
        if (old)
            ruleset_unref(old);
    }
    return w->rs;
}

/* Per-rule and per-brand counters of one classified post. */
static void pl_count_matches(pl_worker *w, const metrics_rules *mr, const engine_output *out)
{
    const match_result *mt = out->matches;
    int complaint = out->summary.polarity == POLARITY_COMPLAINT;

    for (uint32_t i = 0; i < mt->n_rules; i++)
        metrics_rule_matched(w->shard, mr, mt->rules[i]);
    for (uint32_t i = 0; i < mt->n_brands; i++)
        metrics_brand_mentioned(w->shard, mr, mt->brands[i], complaint);
}

static void pl_worker_process(pl_worker *w, pl_job *job)
{
    pipeline *p = w->p;
    rd_kafka_message_t *m = job->msg;
    const char *payload = m->payload ? (const char *)m->payload : "";
    const ruleset *rs;
    const metrics_rules *mr = NULL;
    engine_output out;
    engine_status st;

    if (p->reload) {
        rs = reload_view_update(p->reload, &w->view);
        mr = w->view.data;
    } else {
        rs = pl_worker_rules(w);
    }
    int64_t now = (int64_t)time(NULL);
    st = engine_classify(w->ew, rs, payload, m->len, now, &out);
    if (st == ENGINE_EVENT) {
        const char *key;
        size_t key_len;
        int brand = out.brand_id != NULL;
        pipeline_route r = pipeline_route_decide(&p->route, &out.summary, brand, now);

        if (p->key_by == CONFIG_KEY_BY_BRAND && brand) {
            key = out.brand_id;
            key_len = strlen(key);
        } else {
            key = out.post_id.ptr;
            key_len = out.post_id.len;
        }
        if (!key_len)
            key = NULL;
        if (r.enriched &&
            pl_produce(p, job, 0, key, key_len, out.event, out.event_len, out.post_id.ptr,
                       out.post_id.len) == 0 &&
            r.ticket)
            pl_produce(p, job, 1, key, key_len, out.event, out.event_len, out.post_id.ptr,
                       out.post_id.len);
        if (w->shard) {
            metrics_latency_observe(w->shard, pl_now_ns() - job->t0_ns);
            if (mr)
                pl_count_matches(w, mr, &out);
        }
    } else {
        if (st == ENGINE_ERROR)
            log_limited(&p->lim_consume, LOG_LEVEL_WARN,
                        "classification failed (%s): %s [%d] offset %lld goes to the "
                        "rejected topic",
                        out.reason, p->topic_input, (int)m->partition, (long long)m->offset);
        if (w->shard)
            metrics_rejected(w->shard, metrics_reject_classify(out.reason));
        if (pl_reject_json(&w->out, out.reason, m, rd_kafka_topic_name(m->rkt))) {
            atomic_store(&job->failed, 1);
            atomic_store(&p->fatal, 1);
            log_error("out of memory writing a rejected record");
        } else {
            pl_produce(p, job, 2, m->key, m->key_len, w->out.data, w->out.len, NULL, 0);
        }
    }
    job->msg = NULL;
    rd_kafka_message_destroy(m);
    pl_job_release(p, job); /* the worker's own hold */
}

static void *pl_worker_main(void *arg)
{
    pl_worker *w = arg;
    pl_job *job;

    while ((job = pl_queue_pop(w->p, &w->p->queue)))
        pl_worker_process(w, job);
    reload_view_release(&w->view); /* lets a replaced generation go */
    return NULL;
}

/* ---- consumer side (main thread) ---- */

static void pl_pause_all(pipeline *p, int pause)
{
    rd_kafka_topic_partition_list_t *asg = NULL;

    if (rd_kafka_assignment(p->consumer, &asg) || !asg)
        return;
    if (asg->cnt) {
        if (pause)
            rd_kafka_pause_partitions(p->consumer, asg);
        else
            rd_kafka_resume_partitions(p->consumer, asg);
    }
    rd_kafka_topic_partition_list_destroy(asg);
}

/* Below both in-flight limits: another message may be taken now. */
static int pl_has_room(pipeline *p)
{
    return atomic_load(&p->inflight_msgs) < p->max_msgs &&
           atomic_load(&p->inflight_bytes) < p->max_bytes;
}

static void pl_backpressure(pipeline *p)
{
    long long msgs = atomic_load(&p->inflight_msgs), bytes = atomic_load(&p->inflight_bytes);

    if (p->closing)
        return;
    if (!p->paused && (msgs >= p->max_msgs || bytes >= p->max_bytes)) {
        pl_pause_all(p, 1);
        p->paused = 1;
        atomic_store(&p->paused_flag, 1);
        log_debug("backpressure: paused input (%lld messages, %lld bytes in flight)", msgs,
                  bytes);
    } else if (p->paused && msgs <= p->max_msgs / 2 && bytes <= p->max_bytes / 2) {
        pl_pause_all(p, 0);
        p->paused = 0;
        atomic_store(&p->paused_flag, 0);
        log_debug("backpressure: resumed input (%lld messages, %lld bytes in flight)", msgs,
                  bytes);
    }
}

/* Waits until the listed partitions have nothing in flight, at most
 * timeout_ms. Returns 0, or -1 on timeout. */
static int pl_wait_drained(pipeline *p, pl_part **pps, int n, int64_t timeout_ms)
{
    int64_t deadline = log_now_ms() + timeout_ms;

    for (;;) {
        int busy = 0;
        for (int i = 0; i < n; i++)
            if (pps[i] && atomic_load(&pps[i]->inflight) > 0)
                busy = 1;
        if (!busy)
            return 0;
        if (log_now_ms() >= deadline || atomic_load(&p->fatal))
            return -1;
        pl_sleep_ms(2);
    }
}

static void pl_on_assign(pipeline *p, rd_kafka_topic_partition_list_t *parts, int cooperative)
{
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = 0;

    p->ever_assigned = 1;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        pl_part *old = pl_part_find(p, tp->topic, tp->partition);
        pl_part *pp;

        if (old)
            pl_part_remove(p, old);
        pp = pl_part_new(tp->topic, tp->partition);
        if (!pp || pl_part_add(p, pp)) {
            log_error("out of memory tracking %s [%d]", tp->topic, (int)tp->partition);
            atomic_store(&p->fatal, 1);
            if (pp)
                pl_part_unref(pp);
        }
    }
    if (cooperative)
        error = rd_kafka_incremental_assign(p->consumer, parts);
    else
        err = rd_kafka_assign(p->consumer, parts);
    if (error) {
        log_error("assigning partitions: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        atomic_store(&p->fatal, 1);
    } else if (err) {
        log_error("assigning partitions: %s", rd_kafka_err2str(err));
        atomic_store(&p->fatal, 1);
    }
    /* Set the pause state of what was just assigned either way: a partition
     * paused by backpressure, then lost and assigned again, can come back
     * still paused inside librdkafka while p->paused has since cleared, and
     * nothing would ever resume it. */
    if (p->paused || p->closing)
        rd_kafka_pause_partitions(p->consumer, parts);
    else
        rd_kafka_resume_partitions(p->consumer, parts);
    log_info("assigned %d partition(s), %zu in total", parts->cnt, p->n_parts);
}

static void pl_on_revoke(pipeline *p, rd_kafka_topic_partition_list_t *parts, int cooperative)
{
    int lost = rd_kafka_assignment_lost(p->consumer);
    pl_part **pps = calloc((size_t)parts->cnt + 1, sizeof(*pps));
    rd_kafka_error_t *error = NULL;

    for (int i = 0; i < parts->cnt && pps; i++)
        pps[i] = pl_part_find(p, parts->elems[i].topic, parts->elems[i].partition);
    if (!lost && pps) {
        /* Finish what was consumed from them, then commit their positions
         * before another member starts from the committed offsets. */
        if (pl_wait_drained(p, pps, parts->cnt, p->shutdown_ms))
            log_warn("revoke: in-flight messages not acknowledged within %lld ms; committing "
                     "what is done (they will be processed again)",
                     (long long)p->shutdown_ms);
        rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++) {
            if (!pps[i])
                continue;
            pthread_mutex_lock(&pps[i]->lock);
            int64_t pos = offtrack_committable(pps[i]->ot);
            pthread_mutex_unlock(&pps[i]->lock);
            if (pos >= 0) {
                rd_kafka_topic_partition_list_add(commit, pps[i]->topic, pps[i]->partition)
                    ->offset = pos;
                pps[i]->stored = pos;
            }
        }
        if (commit->cnt) {
            /* Store before committing: with auto-commit on, the unassign
             * that follows commits librdkafka's stored offsets once more,
             * and a stored offset older than this commit would move the
             * group back and make the next owner repeat that stretch. */
            rd_kafka_resp_err_t err = rd_kafka_offsets_store(p->consumer, commit);
            if (err)
                log_warn("revoke: storing offsets of %d partition(s) failed: %s", commit->cnt,
                         rd_kafka_err2str(err));
            err = rd_kafka_commit(p->consumer, commit, 0);
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
    } else if (lost) {
        log_warn("%d partition(s) lost (session timed out?): nothing committed for them, "
                 "their in-flight messages will be processed again by the new owner",
                 parts->cnt);
    }
    for (int i = 0; i < parts->cnt && pps; i++)
        if (pps[i])
            pl_part_remove(p, pps[i]);
    free(pps);
    if (cooperative) {
        error = rd_kafka_incremental_unassign(p->consumer, parts);
        if (error) {
            log_warn("unassigning partitions: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_assign(p->consumer, NULL);
    }
    log_info("revoked %d partition(s)%s, %zu left", parts->cnt, lost ? " (lost)" : "",
             p->n_parts);
}

static void pl_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    pipeline *p = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");

    pl_batch_flush(p);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        pl_on_assign(p, parts, cooperative);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        pl_on_revoke(p, parts, cooperative);
    } else {
        log_error("rebalance failed: %s", rd_kafka_err2str(err));
        rd_kafka_assign(rk, NULL);
    }
}

static void pl_dispatch(pipeline *p, rd_kafka_message_t *m)
{
    pl_batch *batch = &p->batch;
    const char *topic = rd_kafka_topic_name(m->rkt);
    pl_part *pp = pl_part_find(p, topic, m->partition);
    pl_job *job;
    int rc;

    if (!pp) {
        /* Fetched before a revoke took effect: not ours to track. Dropping
         * it is safe, its offset is never stored here. */
        rd_kafka_message_destroy(m);
        return;
    }
    pthread_mutex_lock(&pp->lock);
    rc = offtrack_add(pp->ot, m->offset);
    int64_t last = offtrack_last_added(pp->ot);
    pthread_mutex_unlock(&pp->lock);
    if (rc == -1) {
        /* The consumer went back to an offset this assignment already
         * dispatched (librdkafka 2.0.2 can restart a partition's fetch from
         * the committed offset when it is resumed during a rebalance; the
         * rebalance test saw posts [0] go back to 0). Each such offset is
         * in flight or done here and its commit is gated by the tracker, so
         * skipping it loses nothing; processing it again would only repeat
         * outputs. Below the high watermark Kafka never rewrites offsets
         * (no unclean leader election with acks=all), so it is the same
         * message. */
        log_limited(&p->lim_consume, LOG_LEVEL_WARN,
                    "%s [%d] went back to offset %lld, already dispatched: skipping up to "
                    "%lld",
                    topic, (int)m->partition, (long long)m->offset,
                    (long long)last);
        rd_kafka_message_destroy(m);
        return;
    }
    if (rc || !(job = calloc(1, sizeof(*job)))) {
        log_error("out of memory tracking %s [%d] offset %lld", topic, (int)m->partition,
                  (long long)m->offset);
        atomic_store(&p->fatal, 1);
        rd_kafka_message_destroy(m);
        return;
    }
    atomic_fetch_add(&pp->refs, 1);
    atomic_fetch_add(&pp->inflight, 1);
    job->msg = m;
    job->part = pp;
    job->offset = m->offset;
    job->bytes = m->len + m->key_len + sizeof(*job);
    job->t0_ns = pl_now_ns();
    atomic_init(&job->pending, 1);
    atomic_init(&job->failed, 0);
    atomic_fetch_add(&p->inflight_msgs, 1);
    atomic_fetch_add(&p->inflight_bytes, (long long)job->bytes);
    atomic_fetch_add(&p->consumed, 1);
    if (p->main_shard)
        metrics_consumed(p->main_shard, 1);
    job->next = NULL;
    if (batch->tail)
        batch->tail->next = job;
    else
        batch->head = job;
    batch->tail = job;
    batch->n++;
}

static void pl_update_lag(pipeline *p)
{
    rd_kafka_topic_partition_list_t *asg = NULL;
    int64_t total = 0;
    int known = 0;

    if (rd_kafka_assignment(p->consumer, &asg) || !asg)
        return;
    if (asg->cnt && !rd_kafka_position(p->consumer, asg)) {
        for (int i = 0; i < asg->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &asg->elems[i];
            int64_t lo, hi;
            if (rd_kafka_get_watermark_offsets(p->consumer, tp->topic, tp->partition, &lo,
                                               &hi) ||
                hi < 0)
                continue;
            int64_t pos = tp->offset >= 0 ? tp->offset : lo;
            int64_t lag = hi > pos ? hi - pos : 0;
            total += lag;
            known++;
            if (p->metrics)
                metrics_lag_set(p->metrics, tp->topic, tp->partition, lag);
        }
    }
    rd_kafka_topic_partition_list_destroy(asg);
    atomic_store(&p->lag, known ? total : -1);
}

static void pl_status(pipeline *p, uint64_t *last_consumed, int64_t *last_ms)
{
    pipeline_stats st;
    int64_t now = log_now_ms();
    double secs = (double)(now - *last_ms) / 1000.0;

    pl_update_lag(p);
    pipeline_stats_get(p, &st);
    log_info("status: consumed %llu (%.0f/s), produced enriched %llu tickets %llu rejected "
             "%llu, failed %llu, in flight %llu msgs %llu B%s, lag %lld, partitions %d",
             (unsigned long long)st.consumed,
             secs > 0 ? (double)(st.consumed - *last_consumed) / secs : 0.0,
             (unsigned long long)st.produced[0], (unsigned long long)st.produced[1],
             (unsigned long long)st.produced[2], (unsigned long long)st.produce_failed,
             (unsigned long long)st.inflight_msgs, (unsigned long long)st.inflight_bytes,
             st.paused ? " (paused)" : "", (long long)st.lag, st.partitions);
    *last_consumed = st.consumed;
    *last_ms = now;
}

/* An offset reset is data loss when it moves forward: the offset to resume
 * from (committed, or the fetch position) is gone from the broker, typically
 * deleted by retention while the group was behind or down, and
 * auto.offset.reset=earliest/latest jumps over what was never read. See
 * offreset.h for why this reads a log line. A backward reset (the offset
 * past the end, e.g. a recreated topic) repeats work and loses nothing.
 * Called on a librdkafka thread, hence the shared metrics shard. */
static void pl_offset_reset(pipeline *p, const char *line)
{
    offreset r;

    if (offreset_parse(line, &r))
        return;
    if (r.to < 0) {
        log_error("input %s [%d]: offset %lld is not on the broker, librdkafka reset the "
                  "position to %s: messages from %lld on may have been skipped unread "
                  "(retention shorter than the group's lag?)",
                  r.topic, (int)r.partition, (long long)r.from, r.where, (long long)r.from);
    } else if (r.to > r.from) {
        log_error("input %s [%d]: offset %lld is not on the broker, librdkafka reset the "
                  "position to %lld: %lld message(s) skipped unread (retention shorter than "
                  "the group's lag?)",
                  r.topic, (int)r.partition, (long long)r.from, (long long)r.to,
                  (long long)(r.to - r.from));
        if (p->metrics)
            metrics_input_lost(metrics_shard_shared(p->metrics), (uint64_t)(r.to - r.from));
    } else {
        log_warn("input %s [%d]: offset %lld is past the end, librdkafka reset the position "
                 "to %lld: %lld message(s) will be processed again",
                 r.topic, (int)r.partition, (long long)r.from, (long long)r.to,
                 (long long)(r.from - r.to));
    }
}

static void pl_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    pipeline *p = rd_kafka_opaque(rk);

    if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER && !strcmp(fac, "OFFSET"))
        pl_offset_reset(p, buf);
    log_level lv = level <= 3 ? LOG_LEVEL_ERROR
                   : level == 4 ? LOG_LEVEL_WARN
                   : level <= 6 ? LOG_LEVEL_INFO
                                : LOG_LEVEL_DEBUG;
    /* Debug lines come only from an explicit -X debug=...: whoever asked
     * for them wants every one, so they bypass the rate limit. */
    if (lv == LOG_LEVEL_DEBUG)
        log_write(lv, "librdkafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
    else
        log_limited(&p->lim_kafka, lv, "librdkafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
}

/* librdkafka's statistics (statistics.interval.ms) become earshot_kafka_*
 * metrics; returning 0 lets librdkafka free the document. */
static int pl_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    pipeline *p = opaque;
    char err[160];

    (void)rk;
    if (metrics_kafka_stats(p->metrics, json, len, err, sizeof(err)))
        log_debug("librdkafka statistics not mapped: %s", err);
    return 0;
}

static void pl_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    pipeline *p = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        log_error("librdkafka %s: fatal error: %s; stopping without committing past it",
                  rd_kafka_name(rk), why);
        atomic_store(&p->fatal, 1);
        return;
    }
    /* Transient (broker down, all brokers down): librdkafka retries. */
    log_limited(&p->lim_kafka, LOG_LEVEL_WARN, "librdkafka %s: %s", rd_kafka_name(rk),
                reason);
}

/* ---- construction ---- */

static int pl_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                       const char *origin, char *err, size_t err_size)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "%s: librdkafka property '%s': %s", origin, name, errstr);
        return -1;
    }
    return 0;
}

/* earshot's defaults, then the user's kafka.* / -X properties ("consumer."
 * or "producer." prefixed ones only to that client), then what delivery
 * correctness depends on. */
static rd_kafka_conf_t *pl_conf_new(pipeline *p, const config *cfg, int is_consumer, char *err,
                                    size_t err_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *mine = is_consumer ? "consumer." : "producer.";
    const char *theirs = is_consumer ? "producer." : "consumer.";
    static const char *const consumer_defaults[][2] = {
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", "1000"},
        {"queued.max.messages.kbytes", "16384"},
    };
    static const char *const producer_defaults[][2] = {
        {"message.timeout.ms", "0"},
        {"compression.codec", "none"},
    };
    /* The latency-bearing defaults are config keys (config.c), so that
     * --help-config shows them with the reasons; set here as defaults, so
     * the user's -X below still wins. */
    const struct {
        const char *name;
        int64_t value;
        const char *key;
    } tuned[] = {
        {"fetch.min.bytes", cfg->consumer_fetch_min_bytes, "consumer.fetch.min.bytes"},
        {"fetch.wait.max.ms", cfg->consumer_fetch_wait_max_ms, "consumer.fetch.wait.max.ms"},
        {"linger.ms", cfg->producer_linger_ms, "producer.linger.ms"},
    };

    if (pl_conf_set(conf, "bootstrap.servers", cfg->brokers, "brokers", err, err_size) ||
        pl_conf_set(conf, "client.id", is_consumer ? "earshot-consumer" : "earshot-producer",
                    "default", err, err_size))
        goto err;
    if (is_consumer) {
        if (pl_conf_set(conf, "group.id", cfg->group_id, "group.id", err, err_size))
            goto err;
        if (*cfg->group_instance_id && pl_conf_set(conf, "group.instance.id",
                                                   cfg->group_instance_id,
                                                   "group.instance.id", err, err_size))
            goto err;
        for (size_t i = 0; i < sizeof(consumer_defaults) / sizeof(consumer_defaults[0]); i++)
            if (pl_conf_set(conf, consumer_defaults[i][0], consumer_defaults[i][1], "default",
                            err, err_size))
                goto err;
    } else {
        for (size_t i = 0; i < sizeof(producer_defaults) / sizeof(producer_defaults[0]); i++)
            if (pl_conf_set(conf, producer_defaults[i][0], producer_defaults[i][1], "default",
                            err, err_size))
                goto err;
    }
    /* Where a new group starts is a config key too (latest by default: a
     * first start must not open tickets for the topic's history). */
    if (is_consumer &&
        pl_conf_set(conf, "auto.offset.reset",
                    cfg->consumer_auto_offset_reset == CONFIG_OFFSET_RESET_EARLIEST ? "earliest"
                                                                                   : "latest",
                    "consumer.auto.offset.reset", err, err_size))
        goto err;
    for (size_t i = 0; i < sizeof(tuned) / sizeof(tuned[0]); i++) {
        char value[32];
        /* consumer.* keys to the consumer, producer.* to the producer */
        if (!strncmp(tuned[i].key, theirs, strlen(theirs)))
            continue;
        snprintf(value, sizeof(value), "%lld", (long long)tuned[i].value);
        if (pl_conf_set(conf, tuned[i].name, value, tuned[i].key, err, err_size))
            goto err;
    }
    /* With an HTTP endpoint, librdkafka's statistics feed /metrics (a user's
     * statistics.interval.ms below wins). */
    if (p->metrics && pl_conf_set(conf, "statistics.interval.ms", "15000", "default", err,
                                  err_size))
        goto err;
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const config_kafka_prop *kp = &cfg->kafka[i];
        const char *name = kp->name;
        if (!strncmp(name, theirs, strlen(theirs)))
            continue;
        if (!strncmp(name, mine, strlen(mine)))
            name += strlen(mine);
        /* Properties of the other client type are accepted by conf_set and
         * ignored with a warning at rd_kafka_new; skip the obvious ones. */
        if (!is_consumer && (!strncmp(name, "group.", 6) || !strncmp(name, "auto.", 5) ||
                             !strncmp(name, "enable.auto.", 12) ||
                             !strcmp(name, "partition.assignment.strategy") ||
                             !strncmp(name, "session.", 8)))
            continue;
        if (is_consumer && (!strcmp(name, "acks") || !strncmp(name, "linger", 6) ||
                            !strcmp(name, "enable.idempotence") ||
                            !strncmp(name, "message.timeout", 15) ||
                            !strncmp(name, "compression", 11) ||
                            !strcmp(name, "batch.num.messages")))
            continue;
        if (pl_conf_set(conf, name, kp->value, kp->origin, err, err_size))
            goto err;
    }
    if (is_consumer) {
        if (pl_conf_set(conf, "enable.auto.offset.store", "false", "earshot (required)", err,
                        err_size))
            goto err;
        rd_kafka_conf_set_rebalance_cb(conf, pl_rebalance_cb);
    } else {
        if (pl_conf_set(conf, "enable.idempotence", "true", "earshot (required)", err,
                        err_size) ||
            pl_conf_set(conf, "acks", "all", "earshot (required)", err, err_size))
            goto err;
        rd_kafka_conf_set_dr_msg_cb(conf, pl_delivery_cb);
    }
    if (p->metrics)
        rd_kafka_conf_set_stats_cb(conf, pl_stats_cb);
    rd_kafka_conf_set_log_cb(conf, pl_log_cb);
    rd_kafka_conf_set_error_cb(conf, pl_error_cb);
    rd_kafka_conf_set_opaque(conf, p);
    return conf;
err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int pipeline_threads(const config *cfg)
{
    long n = cfg->threads;

    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1)
            n = 1;
        if (n > 256)
            n = 256;
    }
    return (int)n;
}

pipeline *pipeline_new(const config *cfg, ruleset *rs, metrics *m, char *err, size_t err_size)
{
    pipeline *p = calloc(1, sizeof(*p));
    rd_kafka_conf_t *conf;
    char errstr[512];
    const char *outs[PL_ROUTES];

    if (!p) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    log_limit_init(&p->lim_consume, 5, 10000);
    log_limit_init(&p->lim_deliver, 5, 10000);
    log_limit_init(&p->lim_kafka, 10, 10000);
    pthread_mutex_init(&p->queue.lock, NULL);
    pthread_cond_init(&p->queue.cond, NULL);
    pthread_mutex_init(&p->rules_lock, NULL);
    p->rules = ruleset_ref(rs);
    atomic_init(&p->rules_gen, 1);
    atomic_init(&p->lag, -1);
    p->topic_input = strdup(cfg->topic_input);
    p->route.enriched_all = cfg->route_enriched_all != 0;
    p->route.min_priority = (int)cfg->tickets_min_priority;
    p->route.max_age = cfg->tickets_max_age;
    p->key_by = cfg->key_by;
    p->max_msgs = cfg->max_inflight_messages;
    p->max_bytes = cfg->max_inflight_bytes;
    p->status_ms = cfg->status_interval_ms;
    p->shutdown_ms = cfg->shutdown_timeout_ms;
    p->n_workers = pipeline_threads(cfg);
    p->metrics = m;

    engine_config_default(&p->ecfg);
    p->ecfg.limits.max_bytes = (size_t)cfg->post_max_bytes;
    p->ecfg.limits.max_depth = (size_t)cfg->post_max_depth;
    p->ecfg.enrich.n_targets = cfg->n_targets < ENRICH_MAX_TARGETS ? cfg->n_targets
                                                                   : ENRICH_MAX_TARGETS;
    for (int i = 0; i < p->ecfg.enrich.n_targets; i++) {
        p->ecfg.enrich.targets[i].min_priority = cfg->targets[i].min_priority;
        p->ecfg.enrich.targets[i].respond_minutes = cfg->targets[i].respond_minutes;
    }
    if (m) {
        p->main_shard = metrics_shard_get(m, (unsigned)p->n_workers + 1);
        p->dr_shard = metrics_shard_get(m, (unsigned)p->n_workers);
        if (!p->main_shard) {
            snprintf(err, err_size, "metrics registry has too few shards for %d workers",
                     p->n_workers);
            goto err;
        }
    }

    if (!(conf = pl_conf_new(p, cfg, 0, err, err_size)))
        goto err;
    if (!(p->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "creating the Kafka producer: %s", errstr);
        goto err;
    }
    if (!(conf = pl_conf_new(p, cfg, 1, err, err_size)))
        goto err;
    if (!(p->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "creating the Kafka consumer: %s", errstr);
        goto err;
    }
    rd_kafka_poll_set_consumer(p->consumer);
    outs[0] = cfg->topic_enriched;
    outs[1] = cfg->topic_tickets;
    outs[2] = cfg->topic_rejected;
    for (int i = 0; i < PL_ROUTES; i++) {
        if (!(p->out_topics[i] = strdup(outs[i]))) {
            snprintf(err, err_size, "out of memory");
            goto err;
        }
        if (!(p->rkt[i] = rd_kafka_topic_new(p->producer, outs[i], NULL))) {
            snprintf(err, err_size, "topic '%s': %s", outs[i],
                     rd_kafka_err2str(rd_kafka_last_error()));
            goto err;
        }
    }

    p->workers = calloc((size_t)p->n_workers, sizeof(*p->workers));
    if (!p->workers) {
        snprintf(err, err_size, "out of memory");
        goto err;
    }
    for (int i = 0; i < p->n_workers; i++) {
        pl_worker *w = &p->workers[i];
        w->p = p;
        w->index = i;
        jbuf_init(&w->out);
        w->shard = m ? metrics_shard_get(m, (unsigned)i) : NULL;
        if (!(w->ew = engine_worker_new(&p->ecfg))) {
            snprintf(err, err_size, "out of memory creating worker %d", i);
            goto err;
        }
    }
    return p;
err:
    pipeline_free(p);
    return NULL;
}

void pipeline_rules_swap(pipeline *p, ruleset *rs)
{
    ruleset *old;

    pthread_mutex_lock(&p->rules_lock);
    old = p->rules;
    p->rules = ruleset_ref(rs);
    atomic_fetch_add_explicit(&p->rules_gen, 1, memory_order_release);
    pthread_mutex_unlock(&p->rules_lock);
    ruleset_unref(old);
}

void pipeline_use_reload(pipeline *p, reload *rl)
{
    p->reload = rl;
}

void pipeline_stats_get(pipeline *p, pipeline_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->consumed = atomic_load(&p->consumed);
    st->done = atomic_load(&p->done);
    for (int i = 0; i < PL_ROUTES; i++)
        st->produced[i] = atomic_load(&p->produced[i]);
    st->produce_failed = atomic_load(&p->failed);
    long long v = atomic_load(&p->inflight_msgs);
    st->inflight_msgs = v > 0 ? (uint64_t)v : 0;
    v = atomic_load(&p->inflight_bytes);
    st->inflight_bytes = v > 0 ? (uint64_t)v : 0;
    st->lag = atomic_load(&p->lag);
    st->paused = atomic_load(&p->paused_flag);
    st->partitions = atomic_load(&p->n_assigned);
    st->threads = p->n_workers;
}

static int pl_start_threads(pipeline *p)
{
    if (pthread_create(&p->dr_thread, NULL, pl_dr_main, p))
        return -1;
    p->dr_started = 1;
    for (int i = 0; i < p->n_workers; i++) {
        if (pthread_create(&p->workers[i].thread, NULL, pl_worker_main, &p->workers[i]))
            return -1;
        p->workers_started = i + 1;
    }
    return 0;
}

static void pl_stop_workers(pipeline *p, int discard)
{
    pthread_mutex_lock(&p->queue.lock);
    p->queue.closed = 1;
    p->queue.discard = discard;
    pthread_cond_broadcast(&p->queue.cond);
    pthread_mutex_unlock(&p->queue.lock);
    for (int i = 0; i < p->workers_started; i++)
        pthread_join(p->workers[i].thread, NULL);
    p->workers_started = 0;
}

int pipeline_run(pipeline *p, atomic_int *stop)
{
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_resp_err_t err;
    int64_t next_status, last_ms = log_now_ms(), deadline;
    uint64_t last_consumed = 0;
    int rc = 0, timed_out = 0;

    if (pl_start_threads(p)) {
        log_error("cannot start threads: %s", strerror(errno));
        atomic_store(&p->fatal, 1);
        goto shutdown;
    }
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, p->topic_input, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(p->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    p->subscribed = !err;
    if (err) {
        log_error("subscribing to '%s': %s", p->topic_input, rd_kafka_err2str(err));
        atomic_store(&p->fatal, 1);
        goto shutdown;
    }
    log_info("consuming '%s' with %d worker thread(s)", p->topic_input, p->n_workers);
    next_status = p->status_ms ? log_now_ms() + p->status_ms : INT64_MAX;

    while (!atomic_load(stop) && !atomic_load(&p->fatal)) {
        /* Wait for the first message, then take what is already queued
         * without waiting (at most PL_POLL_BATCH), and only then hand the
         * run to the workers and do the housekeeping, once per run rather
         * than once per message. Every message still goes through
         * rd_kafka_consumer_poll, which also serves the rebalance callback
         * and errors in order. A run also ends where the in-flight limits
         * are reached, so that backpressure pauses exactly where it did
         * when it ran after every message. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, p->paused ? 20 : 100);
        for (int n = 0; m; m = ++n < PL_POLL_BATCH && pl_has_room(p)
                                   ? rd_kafka_consumer_poll(p->consumer, 0)
                                   : NULL) {
            if (!m->err) {
                pl_dispatch(p, m);
            } else {
                if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
                    /* auto.offset.reset=error: the partition stops here
                     * rather than skip or repeat; nothing is lost yet. */
                    log_error("consumer: %s [%d]: %s; the partition is stopped until its "
                              "offset is reset by hand",
                              m->rkt ? rd_kafka_topic_name(m->rkt) : "?",
                              (int)m->partition, rd_kafka_message_errstr(m));
                else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    log_limited(&p->lim_consume, LOG_LEVEL_WARN, "consumer: %s",
                                rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
            }
            if (atomic_load(&p->fatal))
                break;
        }
        pl_batch_flush(p);
        pl_backpressure(p);
        pl_store_offsets(p);
        if (log_now_ms() >= next_status) {
            pl_status(p, &last_consumed, &last_ms);
            next_status = log_now_ms() + p->status_ms;
        }
    }

shutdown:
    /* Stop fetching, then let the workers and the producer finish what was
     * consumed, within shutdown.timeout.ms. */
    p->closing = 1;
    deadline = log_now_ms() + p->shutdown_ms;
    if (p->consumer)
        pl_pause_all(p, 1);
    log_info("shutting down: %lld message(s) in flight", (long long)atomic_load(&p->inflight_msgs));
    while (atomic_load(&p->inflight_msgs) > 0 && !atomic_load(&p->fatal)) {
        if (log_now_ms() >= deadline) {
            timed_out = 1;
            break;
        }
        pl_store_offsets(p);
        pl_sleep_ms(5);
    }
    pl_stop_workers(p, timed_out || atomic_load(&p->fatal));
    if (p->producer) {
        int64_t left = deadline - log_now_ms();
        if (rd_kafka_flush(p->producer, left > 0 ? (int)left : 0) == RD_KAFKA_RESP_ERR__TIMED_OUT)
            timed_out = 1;
    }
    if (p->dr_started) {
        atomic_store(&p->dr_stop, 1);
        pthread_join(p->dr_thread, NULL);
        p->dr_started = 0;
    }
    atomic_store(&p->dirty, 1);
    pl_store_offsets(p);
    if (p->consumer) {
        err = rd_kafka_commit(p->consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            log_warn("final commit: %s", rd_kafka_err2str(err));
        /* Leaves the group; the revoke callback finds nothing in flight. */
        p->shutdown_ms = 0;
        rd_kafka_consumer_close(p->consumer);
    }
    if (timed_out) {
        log_error("shutdown: %lld message(s) not acknowledged within the shutdown timeout; "
                  "they were not committed and will be processed again",
                  (long long)atomic_load(&p->inflight_msgs));
        rc = 1;
    }
    if (atomic_load(&p->fatal))
        rc = 1;
    if (p->status_ms)
        pl_status(p, &last_consumed, &last_ms);
    log_info("stopped (%s)", rc ? "with errors" : "clean");
    return rc;
}

/* librdkafka 2.0.2 aborts in rd_kafka_destroy when the group chose its
 * protocol (JoinGroup answered, so the cooperative-sticky assignor is set)
 * but no assignment arrived yet: the group's final destroy hands the
 * assignor a NULL state and rd_kafka_sticky_assignor_state_destroy asserts
 * (upstream #4312, fixed in 2.3.0 by #4381). That is the window of a member
 * SIGTERMed while joining, e.g. waiting out a SIGKILLed predecessor's
 * session. RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE does not avoid it: it only
 * skips what rd_kafka_consumer_close does (tried: same abort), the final
 * destroy still runs.
 *
 * So a consumer that subscribed and never got an assignment is closed
 * (pipeline_run did: it left the group, so the others rebalance at once)
 * and then not destroyed: the handle and its threads are left to the
 * process's exit, which follows pipeline_free in every caller. That loses
 * nothing: without an assignment nothing was consumed, stored or owed a
 * commit. The price is a handle not freed at exit; an assignment (even an
 * empty one) sets the assignor state, so every other shutdown still
 * destroys the handle. Its threads may still log: pl_log_cb reads the
 * pipeline (its opaque), so pipeline_free then keeps p and p->lim_kafka
 * too (not p->metrics: only an OFFSET line reaches it, and an unassigned
 * consumer fetches nothing). No other callback of it runs: they are served by polls, and none
 * follows. Remove with librdkafka >= 2.3.0. Returns 1 if the handle was
 * left alive. */
static int pl_consumer_destroy(pipeline *p)
{
    if (p->subscribed && !p->ever_assigned) {
        log_debug("consumer never got an assignment: leaving its handle to exit "
                  "(librdkafka #4312)");
        return 1;
    }
    rd_kafka_destroy(p->consumer);
    return 0;
}

void pipeline_free(pipeline *p)
{
    int consumer_alive = 0;

    if (!p)
        return;
    if (p->workers_started)
        pl_stop_workers(p, 1);
    if (p->dr_started) {
        atomic_store(&p->dr_stop, 1);
        pthread_join(p->dr_thread, NULL);
    }
    for (int i = 0; i < PL_ROUTES; i++)
        if (p->rkt[i])
            rd_kafka_topic_destroy(p->rkt[i]);
    if (p->producer) {
        if (p->metrics)
            metrics_kafka_forget(p->metrics, rd_kafka_name(p->producer));
        rd_kafka_destroy(p->producer);
    }
    if (p->consumer) {
        if (p->metrics)
            metrics_kafka_forget(p->metrics, rd_kafka_name(p->consumer));
        consumer_alive = pl_consumer_destroy(p);
    }
    while (p->n_parts)
        pl_part_remove(p, p->parts[p->n_parts - 1]);
    free(p->parts);
    if (p->workers) {
        for (int i = 0; i < p->n_workers; i++) {
            engine_worker_free(p->workers[i].ew);
            jbuf_free(&p->workers[i].out);
            if (p->workers[i].rs)
                ruleset_unref(p->workers[i].rs);
        }
        free(p->workers);
    }
    if (p->rules)
        ruleset_unref(p->rules);
    pthread_mutex_destroy(&p->rules_lock);
    pthread_mutex_destroy(&p->queue.lock);
    pthread_cond_destroy(&p->queue.cond);
    log_limit_destroy(&p->lim_consume);
    log_limit_destroy(&p->lim_deliver);
    for (int i = 0; i < PL_ROUTES; i++)
        free(p->out_topics[i]);
    free(p->topic_input);
    if (consumer_alive)
        return; /* its log callback still reads p->lim_kafka */
    log_limit_destroy(&p->lim_kafka);
    free(p);
}
