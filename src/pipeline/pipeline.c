/*
 * pipeline: consumer group -> workers -> idempotent producer, with offsets
 * stored only behind acknowledged outputs. See pipeline.h for the contract;
 * the parts live in their own modules: ledger (partitions, jobs, commit
 * positions), output (route, produce, delivery reports, reject records),
 * kconf (librdkafka configuration), jobq (the work queue), rebalance
 * (assign/revoke and the pause state), report (lag, the status line),
 * topicwait (the start gate on the topics). This file is the workers, the
 * librdkafka callbacks and the main loop (dispatch, shutdown).
 *
 * The rd_kafka_message_t of a job is destroyed by the worker right after its
 * outputs are queued (they are copied); only the offset lives on, in the
 * ledger.
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
#include "base/base_json.h"
#include "ops/log.h"
#include "pipeline/dryrun.h"
#include "pipeline/jobq.h"
#include "pipeline/kconf.h"
#include "pipeline/ledger.h"
#include "pipeline/offreset.h"
#include "pipeline/output.h"
#include "pipeline/rebalance.h"
#include "pipeline/report.h"
#include "pipeline/route.h"
#include "pipeline/topicwait.h"

/* Messages taken per main-loop run before the housekeeping: large enough
 * that a fetch response (~133 posts of 750 B at fetch.min.bytes=100000)
 * is one run, small enough that backpressure and offset storing stay
 * within a few ms of each other at any rate. */
#define PL_POLL_BATCH 500

typedef struct pl_worker {
    pipeline *p;
    int index;
    pthread_t thread;
    engine_worker *ew;
    reload_view view;          /* when p->reload is set */
    metrics_shard *shard;
    jbuf out;
} pl_worker;

struct pipeline {
    engine_config ecfg;
    char *topic_input;
    int64_t max_msgs, max_bytes;
    int64_t status_ms, shutdown_ms;

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    ledger *lg;
    output out;
    int out_ready;
    int queue_ready;

    jobq queue;
    pl_worker *workers;
    int n_workers;
    int workers_started;

    metrics_shard *main_shard;
    metrics *metrics;

    ruleset *rules;             /* used when no reload is attached */
    reload *reload;

    topicwait topics;           /* checked before subscribing */
    int topics_ready;

    /* run.dry_run: no producer, no offset stored or committed */
    dryrun *dry;
    pipeline_route_policy dry_route;

    rebalance rb;               /* assignment and pause state (main thread) */
    int subscribed;             /* main thread only */

    atomic_ullong consumed;
    atomic_llong lag;
    atomic_int fatal;

    log_limit lim_consume, lim_kafka;
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

/* Hands every active partition's advanced commit position to librdkafka
 * (main thread). Auto-commit then commits only what was stored. */
static void pl_store_offsets(pipeline *p, int all)
{
    if (p->dry)
        return; /* a dry run never moves the group */
    rd_kafka_topic_partition_list_t *list = ledger_positions(p->lg, all);

    if (!list)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(p->consumer, list);
    if (err)
        log_limited(&p->lim_kafka, LOG_LEVEL_WARN, "storing offsets: %s",
                    rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(list);
}

/* ---- workers ---- */

/* Per-rule and per-brand counters of one classified post; ticket: it was
 * queued to topic.tickets. */
static void pl_count_matches(pl_worker *w, const metrics_rules *mr, const engine_output *out,
                             bool ticket)
{
    const match_result *mt = out->matches;
    unsigned flags = ticket ? METRICS_BRAND_TICKET : 0;

    switch (out->summary.polarity) {
    case POLARITY_COMPLAINT: flags |= METRICS_BRAND_COMPLAINT; break;
    case POLARITY_PRAISE: flags |= METRICS_BRAND_PRAISE; break;
    case POLARITY_QUESTION: flags |= METRICS_BRAND_QUESTION; break;
    default: break;
    }
    for (uint32_t i = 0; i < mt->n_rules; i++)
        metrics_rule_matched(w->shard, mr, mt->rules[i]);
    for (uint32_t i = 0; i < mt->n_brands; i++)
        metrics_brand_counted(w->shard, mr, mt->brands[i], flags);
}

/* A dry run's stand-in for the outputs: the same route decision, counted. */
static void pl_dry_count(pl_worker *w, const ruleset *rs, engine_status st,
                         const engine_output *out, int64_t now)
{
    pipeline *p = w->p;
    const char *ids[MATCH_MAX_BRANDS];
    size_t n = 0;

    if (st != ENGINE_EVENT) {
        dryrun_reject(p->dry);
        return;
    }
    pipeline_route r =
        pipeline_route_decide(&p->dry_route, &out->summary, out->brand_id != NULL, now);
    bool complaint = out->summary.polarity == POLARITY_COMPLAINT;
    for (uint32_t i = 0; complaint && i < out->matches->n_brands; i++)
        ids[n++] = ruleset_brand(rs, out->matches->brands[i])->id;
    if (dryrun_post(p->dry, r.enriched, r.ticket, complaint, ids, n))
        log_limited(&p->lim_consume, LOG_LEVEL_WARN, "dry run: out of memory counting brands");
}

static void pl_worker_process(pl_worker *w, ledger_job *job)
{
    pipeline *p = w->p;
    rd_kafka_message_t *m = job->msg;
    const char *payload = m->payload ? (const char *)m->payload : "";
    const ruleset *rs = p->rules;
    const metrics_rules *mr = NULL;
    engine_output out;
    engine_status st;

    if (p->reload) {
        rs = reload_view_update(p->reload, &w->view);
        mr = w->view.data;
    }
    int64_t now = (int64_t)time(NULL);
    st = engine_classify(w->ew, rs, payload, m->len, now, &out);
    if (p->dry) {
        pl_dry_count(w, rs, st, &out, now);
    } else if (st == ENGINE_EVENT) {
        bool ticket = output_post(&p->out, job, &out, now);
        if (w->shard && mr)
            pl_count_matches(w, mr, &out, ticket);
    } else {
        if (st == ENGINE_ERROR)
            log_limited(&p->lim_consume, LOG_LEVEL_WARN,
                        "classification failed (%s): %s [%d] offset %lld goes to the "
                        "rejected topic",
                        out.reason, p->topic_input, (int)m->partition, (long long)m->offset);
        if (w->shard)
            metrics_rejected(w->shard, metrics_reject_classify(out.reason));
        output_reject(&p->out, job, out.reason, m, &w->out);
    }
    job->msg = NULL;
    rd_kafka_message_destroy(m);
    if (p->dry)
        ledger_job_release(p->lg, job); /* no output: done when classified */
    else
        output_release(&p->out, job, w->shard); /* the worker's own hold */
}

static void *pl_worker_main(void *arg)
{
    pl_worker *w = arg;
    ledger_job *job, *next;

    while ((job = jobq_take(&w->p->queue)))
        for (; job; job = next) {
            next = job->next; /* processing may free job */
            pl_worker_process(w, job);
        }
    reload_view_release(&w->view); /* lets a replaced generation go */
    return NULL;
}

/* ---- consumer side (main thread) ---- */

/* Below both in-flight limits: another message may be taken now. */
static int pl_has_room(pipeline *p)
{
    return ledger_inflight_msgs(p->lg) < p->max_msgs &&
           ledger_inflight_bytes(p->lg) < p->max_bytes;
}

static void pl_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    pipeline *p = opaque;

    rebalance_handle(&p->rb, rk, err, parts);
}

/* Broker timestamp to now: how long the post waited before earshot saw it
 * (producer clock vs ours: skew shows up here, and is clamped at 0). */
static void pl_queue_latency(pipeline *p, const rd_kafka_message_t *m)
{
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    struct timespec now;

    if (!p->main_shard || ts < 0 || tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    metrics_queue_latency_observe(p->main_shard,
                                  now_ms > ts ? (uint64_t)(now_ms - ts) * 1000000u : 0);
}

static void pl_dispatch(pipeline *p, rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    ledger_part *pp = ledger_find(p->lg, topic, m->partition);
    ledger_job *job = NULL;
    int64_t last;
    int rc;

    if (!pp) {
        /* Fetched before a revoke took effect: not ours to track. Dropping
         * it is safe, its offset is never stored here. */
        rd_kafka_message_destroy(m);
        return;
    }
    rc = ledger_job_start(p->lg, pp, m->offset, m->len + m->key_len + sizeof(*job),
                          pl_now_ns(), &job, &last);
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
    if (rc) {
        log_error("out of memory tracking %s [%d] offset %lld", topic, (int)m->partition,
                  (long long)m->offset);
        atomic_store(&p->fatal, 1);
        rd_kafka_message_destroy(m);
        return;
    }
    job->msg = m;
    atomic_fetch_add(&p->consumed, 1);
    if (p->main_shard)
        metrics_consumed(p->main_shard, 1);
    pl_queue_latency(p, m);
    jobq_batch_add(&p->queue, job);
}

static void pl_status(pipeline *p, uint64_t *last_consumed, int64_t *last_ms)
{
    pipeline_stats st;
    int64_t now = log_now_ms(), lag;
    double secs = (double)(now - *last_ms) / 1000.0;
    uint64_t dry[3];
    char line[512];

    if (!report_lag(p->consumer, p->metrics, &lag))
        atomic_store(&p->lag, lag);
    pipeline_stats_get(p, &st);
    if (p->dry)
        dryrun_counts(p->dry, dry);
    report_status_line(line, sizeof(line), &st,
                       secs > 0 ? (double)(st.consumed - *last_consumed) / secs : 0.0,
                       p->dry ? dry : NULL);
    log_info("%s", line);
    *last_consumed = st.consumed;
    *last_ms = now;
}

/* See offreset_describe. Called on a librdkafka thread, hence the shared
 * metrics shard. */
static void pl_offset_reset(pipeline *p, const char *line)
{
    offreset r;
    char msg[768];
    uint64_t lost;

    if (offreset_parse(line, &r))
        return;
    int loss = offreset_describe(&r, msg, sizeof(msg), &lost);
    log_write(loss ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, "%s", msg);
    if (lost && p->metrics)
        metrics_input_lost(metrics_shard_shared(p->metrics), lost);
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

static void pl_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pipeline *p = opaque;

    (void)rk;
    output_delivered(&p->out, m);
}

/* kconf's configuration plus this pipeline's callbacks. */
static rd_kafka_conf_t *pl_conf_new(pipeline *p, const config *cfg, kconf_role role, char *err,
                                    size_t err_size)
{
    rd_kafka_conf_t *conf = kconf_new(cfg, role, p->metrics != NULL, err, err_size);

    if (!conf)
        return NULL;
    /* A dry run commits nothing, not even what librdkafka would commit on
     * close: with auto-commit off there is no such commit. */
    if (p->dry && role == KCONF_CONSUMER &&
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, err_size) !=
            RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (role == KCONF_CONSUMER)
        rd_kafka_conf_set_rebalance_cb(conf, pl_rebalance_cb);
    else
        rd_kafka_conf_set_dr_msg_cb(conf, pl_delivery_cb);
    if (p->metrics)
        rd_kafka_conf_set_stats_cb(conf, pl_stats_cb);
    rd_kafka_conf_set_log_cb(conf, pl_log_cb);
    rd_kafka_conf_set_error_cb(conf, pl_error_cb);
    rd_kafka_conf_set_opaque(conf, p);
    return conf;
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

    if (!p) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    log_limit_init(&p->lim_consume, 5, 10000);
    log_limit_init(&p->lim_kafka, 10, 10000);
    topicwait_init(&p->topics, cfg);
    p->topics_ready = 1;
    p->rules = ruleset_ref(rs);
    atomic_init(&p->lag, -1);
    p->topic_input = strdup(cfg->topic_input);
    p->max_msgs = cfg->max_inflight_messages;
    p->max_bytes = cfg->max_inflight_bytes;
    p->status_ms = cfg->status_interval_ms;
    p->shutdown_ms = cfg->shutdown_timeout_ms;
    p->n_workers = pipeline_threads(cfg);
    p->metrics = m;
    if (!p->topic_input || !(p->lg = ledger_new())) {
        snprintf(err, err_size, "out of memory");
        goto err;
    }
    jobq_init(&p->queue, p->lg, p->n_workers);
    p->queue_ready = 1;
    rebalance_init(&p->rb, p->lg, &p->queue, &p->fatal, !cfg->run_dry_run, p->shutdown_ms);

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
        if (!p->main_shard) {
            snprintf(err, err_size, "metrics registry has too few shards for %d workers",
                     p->n_workers);
            goto err;
        }
    }

    if (cfg->run_dry_run) {
        if (!(p->dry = dryrun_new())) {
            snprintf(err, err_size, "out of memory");
            goto err;
        }
        p->dry_route.enriched_all = cfg->route_enriched_all != 0;
        p->dry_route.min_priority = (int)cfg->tickets_min_priority;
        p->dry_route.max_age = cfg->tickets_max_age;
    } else {
        if (!(conf = pl_conf_new(p, cfg, KCONF_PRODUCER, err, err_size)))
            goto err;
        if (!(p->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
            rd_kafka_conf_destroy(conf);
            snprintf(err, err_size, "creating the Kafka producer: %s", errstr);
            goto err;
        }
    }
    if (!(conf = pl_conf_new(p, cfg, KCONF_CONSUMER, err, err_size)))
        goto err;
    if (!(p->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "creating the Kafka consumer: %s", errstr);
        goto err;
    }
    rd_kafka_poll_set_consumer(p->consumer);
    p->rb.consumer = p->consumer;
    if (p->producer) {
        p->out_ready = 1; /* output_fini undoes a partial init */
        if (output_init(&p->out, cfg, p->producer, p->lg, &p->fatal,
                        m ? metrics_shard_get(m, (unsigned)p->n_workers) : NULL, err,
                        err_size))
            goto err;
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

void pipeline_use_reload(pipeline *p, reload *rl)
{
    p->reload = rl;
}

void pipeline_stats_get(pipeline *p, pipeline_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->consumed = atomic_load(&p->consumed);
    st->done = ledger_done(p->lg);
    for (int i = 0; i < OUTPUT_ROUTES && p->out_ready; i++)
        st->produced[i] = atomic_load(&p->out.produced[i]);
    st->produce_failed = p->out_ready ? atomic_load(&p->out.failed) : 0;
    long long v = ledger_inflight_msgs(p->lg);
    st->inflight_msgs = v > 0 ? (uint64_t)v : 0;
    v = ledger_inflight_bytes(p->lg);
    st->inflight_bytes = v > 0 ? (uint64_t)v : 0;
    st->lag = atomic_load(&p->lag);
    st->paused = atomic_load(&p->rb.paused_flag);
    st->partitions = (int)ledger_n_parts(p->lg);
    st->threads = p->n_workers;
}

int pipeline_not_ready(pipeline *p, char *reason, size_t reason_size)
{
    const char *gone = p->out_ready ? output_missing(&p->out) : NULL;

    if (gone) {
        snprintf(reason, reason_size,
                 "output topic '%s' does not exist (deleted?): producing is held until it is "
                 "created",
                 gone);
        return 1;
    }
    return topicwait_reason(&p->topics, reason, reason_size);
}

static int pl_start_threads(pipeline *p)
{
    if (p->out_ready && output_start(&p->out))
        return -1;
    for (int i = 0; i < p->n_workers; i++) {
        if (pthread_create(&p->workers[i].thread, NULL, pl_worker_main, &p->workers[i]))
            return -1;
        p->workers_started = i + 1;
    }
    return 0;
}

static void pl_stop_workers(pipeline *p, int discard)
{
    jobq_close(&p->queue, discard);
    for (int i = 0; i < p->workers_started; i++)
        pthread_join(p->workers[i].thread, NULL);
    p->workers_started = 0;
}

/* What the dry run would have done, at exit: the counts classify would
 * give for the same input, and the brands with the most complaints. */
static void pl_dry_summary(pipeline *p)
{
    uint64_t c[3];
    char top[512];

    dryrun_counts(p->dry, c);
    dryrun_top_complaints(p->dry, 10, top, sizeof(top));
    report_dry_summary(atomic_load(&p->consumed), c, top);
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
    /* Before anything names a topic: subscribing and the producer's topic
     * handles ask for them by name, which can create them (topics.h). */
    if (topicwait_run(&p->topics, p->producer ? p->producer : p->consumer, stop))
        goto shutdown;
    if (p->out_ready) {
        char err_open[256];
        if (output_open(&p->out, err_open, sizeof(err_open))) {
            log_error("%s", err_open);
            atomic_store(&p->fatal, 1);
            goto shutdown;
        }
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
    log_info("consuming '%s' with %d worker thread(s)%s", p->topic_input, p->n_workers,
             p->dry ? " (dry run: nothing is produced, no offset is committed)" : "");
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
        rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, p->rb.paused ? 20 : 100);
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
        jobq_flush(&p->queue);
        rebalance_backpressure(&p->rb, p->max_msgs, p->max_bytes);
        pl_store_offsets(p, 0);
        if (log_now_ms() >= next_status) {
            pl_status(p, &last_consumed, &last_ms);
            next_status = log_now_ms() + p->status_ms;
        }
    }

shutdown:
    /* Stop fetching, then let the workers and the producer finish what was
     * consumed, within shutdown.timeout.ms. */
    deadline = log_now_ms() + p->shutdown_ms;
    rebalance_close(&p->rb);
    log_info("shutting down: %lld message(s) in flight", (long long)ledger_inflight_msgs(p->lg));
    while (ledger_inflight_msgs(p->lg) > 0 && !atomic_load(&p->fatal)) {
        if (log_now_ms() >= deadline) {
            timed_out = 1;
            break;
        }
        pl_store_offsets(p, 0);
        pl_sleep_ms(5);
    }
    if (timed_out || atomic_load(&p->fatal))
        atomic_store(&p->out.abort, 1); /* ends waits for a missing output topic */
    pl_stop_workers(p, timed_out || atomic_load(&p->fatal));
    if (p->producer) {
        int64_t left = deadline - log_now_ms();
        if (rd_kafka_flush(p->producer, left > 0 ? (int)left : 0) == RD_KAFKA_RESP_ERR__TIMED_OUT)
            timed_out = 1;
    }
    output_stop(&p->out);
    pl_store_offsets(p, 1);
    if (p->consumer) {
        err = p->dry ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_commit(p->consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            log_warn("final commit: %s", rd_kafka_err2str(err));
        /* Leaves the group; the revoke callback finds nothing in flight. */
        p->rb.drain_ms = 0;
        rd_kafka_consumer_close(p->consumer);
    }
    if (timed_out) {
        log_error("shutdown: %lld message(s) not acknowledged within the shutdown timeout; "
                  "they were not committed and will be processed again",
                  (long long)ledger_inflight_msgs(p->lg));
        rc = 1;
    }
    if (atomic_load(&p->fatal))
        rc = 1;
    if (p->status_ms)
        pl_status(p, &last_consumed, &last_ms);
    if (p->dry)
        pl_dry_summary(p);
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
    if (p->subscribed && !p->rb.ever_assigned) {
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
    if (p->out_ready)
        output_fini(&p->out); /* the delivery thread and topic handles */
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
    ledger_free(p->lg);
    if (p->workers) {
        for (int i = 0; i < p->n_workers; i++) {
            engine_worker_free(p->workers[i].ew);
            jbuf_free(&p->workers[i].out);
        }
        free(p->workers);
    }
    if (p->rules)
        ruleset_unref(p->rules);
    if (p->queue_ready)
        jobq_destroy(&p->queue);
    dryrun_free(p->dry);
    log_limit_destroy(&p->lim_consume);
    free(p->topic_input);
    if (consumer_alive)
        return; /* its log callback still reads p->lim_kafka */
    log_limit_destroy(&p->lim_kafka);
    if (p->topics_ready)
        topicwait_destroy(&p->topics);
    free(p);
}
