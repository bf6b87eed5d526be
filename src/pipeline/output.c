/*
 * output: route, produce, delivery reports, reject records. See output.h.
 */
#include "pipeline/output.h"

#include "base/base_b64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/text.h"

static uint64_t output_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int output_init(output *o, const config *cfg, rd_kafka_t *producer, ledger *lg,
                atomic_int *fatal, metrics_shard *dr_shard, char *err, size_t err_size)
{
    const char *names[OUTPUT_ROUTES] = {cfg->topic_enriched, cfg->topic_tickets,
                                        cfg->topic_rejected};

    memset(o, 0, sizeof(*o));
    log_limit_init(&o->lim_deliver, 5, 10000);
    log_limit_init(&o->lim_missing, 1, 30000);
    o->producer = producer;
    o->lg = lg;
    o->fatal = fatal;
    o->dr_shard = dr_shard;
    o->route.enriched_all = cfg->route_enriched_all != 0;
    o->route.min_priority = (int)cfg->tickets_min_priority;
    o->route.max_age = cfg->tickets_max_age;
    o->key_by = cfg->key_by;
    for (int i = 0; i < OUTPUT_ROUTES; i++) {
        if (!(o->topics[i] = strdup(names[i]))) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

int output_open(output *o, char *err, size_t err_size)
{
    for (int i = 0; i < OUTPUT_ROUTES; i++) {
        if (o->rkt[i])
            continue;
        if (!(o->rkt[i] = rd_kafka_topic_new(o->producer, o->topics[i], NULL))) {
            snprintf(err, err_size, "topic '%s': %s", o->topics[i],
                     rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
    }
    return 0;
}

const char *output_missing(output *o)
{
    int r = atomic_load(&o->missing);
    return r ? o->topics[r - 1] : NULL;
}

static int output_topic_gone(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
           err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

/* In a delivery report, also Local: Unknown partition: when a topic is
 * deleted, librdkafka 2.0.2 sees its partition count drop to 0 ("partition
 * count changed from 3 to 0") and fails every message queued for the
 * vanished partitions with _UNKNOWN_PARTITION, not _UNKNOWN_TOPIC (seen
 * against Kafka 4.1.1, test_run_kafka_topics). Produced again without a
 * partition (the partitioner's choice), such a message waits for the topic
 * like any other; Kafka never shrinks a live topic, so a partition that
 * vanished means its topic went. */
static int output_dr_topic_gone(rd_kafka_resp_err_t err)
{
    return output_topic_gone(err) || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
}

/* One wait for route's topic to exist again: logs (rate-limited), asks for
 * its metadata so librdkafka learns when it is back (its own refresh is
 * minutes apart), sleeps. 0 to try again, -1 when the wait was aborted. */
static int output_wait_topic(output *o, int route, const ledger_job *job,
                             rd_kafka_resp_err_t err)
{
    const rd_kafka_metadata_t *md = NULL;

    atomic_store(&o->missing, route + 1);
    log_limited(&o->lim_missing, LOG_LEVEL_ERROR,
                "producing to %s: %s: the topic does not exist (deleted?); holding input %s "
                "[%d] offset %lld and what follows until it is created again (nothing past "
                "it is committed); create it, e.g. kafka-topics.sh --create --topic %s",
                o->topics[route], rd_kafka_err2str(err), ledger_part_topic(job->part),
                (int)ledger_part_partition(job->part), (long long)job->offset,
                o->topics[route]);
    if (atomic_load(&o->abort))
        return -1;
    if (!rd_kafka_metadata(o->producer, 0, o->rkt[route], &md, OUTPUT_TOPIC_RETRY_MS))
        rd_kafka_metadata_destroy(md);
    for (int slept = 0; slept < OUTPUT_TOPIC_RETRY_MS; slept += 50) {
        if (atomic_load(&o->abort))
            return -1;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* A produce or re-produce went through after a wait. */
static void output_topic_back(output *o, int route)
{
    if (atomic_load(&o->missing) == route + 1 &&
        atomic_exchange(&o->missing, 0) == route + 1)
        log_info("producing to %s again: the topic exists", o->topics[route]);
}

/* After serving a report, the thread naps OUTPUT_DR_NAP_MS so that the
 * reports of the next few produce responses are served in one wake-up:
 * each output partition's response is its own report batch, ~1,000 wake-ups
 * a second at 20,000 posts/s otherwise, on cores the broker is short of
 * (issue 14). Reports only acknowledge (offset storing, in-flight counts,
 * the processing histogram), never delay an event, so the nap costs the
 * commit position and earshot_processing_latency_seconds at most 2 ms. An
 * idle thread still waits in rd_kafka_poll and wakes on the first report. */
#define OUTPUT_DR_NAP_MS 2

static void *output_dr_main(void *arg)
{
    output *o = arg;
    const struct timespec nap = {0, OUTPUT_DR_NAP_MS * 1000000L};

    while (!atomic_load(&o->dr_stop))
        if (rd_kafka_poll(o->producer, 100) > 0)
            nanosleep(&nap, NULL);
    rd_kafka_poll(o->producer, 0);
    return NULL;
}

int output_start(output *o)
{
    atomic_store(&o->dr_stop, 0);
    if (pthread_create(&o->dr_thread, NULL, output_dr_main, o))
        return -1;
    o->dr_started = 1;
    return 0;
}

void output_stop(output *o)
{
    if (!o->dr_started)
        return;
    atomic_store(&o->dr_stop, 1);
    pthread_join(o->dr_thread, NULL);
    o->dr_started = 0;
}

void output_fini(output *o)
{
    output_stop(o);
    for (int i = 0; i < OUTPUT_ROUTES; i++) {
        if (o->rkt[i])
            rd_kafka_topic_destroy(o->rkt[i]);
        o->rkt[i] = NULL;
        free(o->topics[i]);
        o->topics[i] = NULL;
    }
    log_limit_destroy(&o->lim_deliver);
    log_limit_destroy(&o->lim_missing);
}

void output_release(output *o, ledger_job *job, metrics_shard *sh)
{
    uint64_t t0 = job->t0_ns;

    if (ledger_job_release(o->lg, job) > 0 && sh)
        metrics_latency_observe(sh, output_now_ns() - t0);
}

static void output_failed(output *o, ledger_job *job)
{
    atomic_fetch_add(&o->failed, 1);
    ledger_job_fail(job);
    atomic_store(o->fatal, 1);
}

void output_delivered(output *o, const rd_kafka_message_t *msg)
{
    ledger_job *job = msg->_private;
    int route = 0;

    /* By name: the handle in a delivery report need not be the pointer
     * rd_kafka_topic_new returned. */
    const char *topic = rd_kafka_topic_name(msg->rkt);
    for (int i = 0; i < OUTPUT_ROUTES; i++)
        if (!strcmp(topic, o->topics[i]))
            route = i;
    if (output_dr_topic_gone(msg->err)) {
        /* Produce it again; this thread waits meanwhile, so delivery reports
         * stop, in-flight counts grow and the input pauses: backpressure. */
        for (;;) {
            rd_kafka_headers_t *hdrs = NULL, *copy = NULL;
            rd_kafka_resp_err_t e;
            if (!rd_kafka_message_headers(msg, &hdrs) && hdrs)
                copy = rd_kafka_headers_copy(hdrs);
            e = rd_kafka_producev(o->producer, RD_KAFKA_V_RKT(o->rkt[route]),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(msg->key, msg->key_len),
                                  RD_KAFKA_V_VALUE(msg->payload, msg->len),
                                  RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_OPAQUE(job),
                                  RD_KAFKA_V_END);
            if (!e) {
                output_topic_back(o, route);
                return; /* the job's hold passes to the new message */
            }
            if (copy)
                rd_kafka_headers_destroy(copy);
            if (!output_topic_gone(e) && e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            if (output_wait_topic(o, route, job, e))
                break;
        }
    }
    if (msg->err) {
        output_failed(o, job);
        if (o->dr_shard)
            metrics_produce_failed(o->dr_shard, (metrics_route)route, 1);
        log_limited(&o->lim_deliver, LOG_LEVEL_ERROR,
                    "delivery to %s failed: %s; input %s [%d] offset %lld will not be "
                    "committed, stopping",
                    topic, rd_kafka_err2str(msg->err), ledger_part_topic(job->part),
                    (int)ledger_part_partition(job->part), (long long)job->offset);
    } else {
        atomic_fetch_add(&o->produced[route], 1);
        if (o->dr_shard)
            metrics_produced(o->dr_shard, (metrics_route)route, 1);
    }
    output_release(o, job, o->dr_shard);
}

/* Queues one output; waits (never drops) while the producer queue is full.
 * Returns 0, or -1 on a permanent produce error (job marked failed). */
static int output_produce(output *o, ledger_job *job, int route, const char *key,
                          size_t key_len, const char *val, size_t val_len,
                          const char *post_id, size_t post_id_len)
{
    rd_kafka_resp_err_t err;

    ledger_job_hold(job);
    for (;;) {
        if (post_id_len)
            err = rd_kafka_producev(o->producer, RD_KAFKA_V_RKT(o->rkt[route]),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_HEADER("earshot.post_id", post_id,
                                                      (ssize_t)post_id_len),
                                    RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
        else
            err = rd_kafka_producev(o->producer, RD_KAFKA_V_RKT(o->rkt[route]),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, key_len),
                                    RD_KAFKA_V_VALUE((void *)val, val_len),
                                    RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
        if (output_topic_gone(err)) {
            if (output_wait_topic(o, route, job, err))
                break;
            continue;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || atomic_load(&o->abort))
            break;
        /* The delivery thread drains the queue; waiting here is the
         * backpressure that reaches the consumer through in-flight counts. */
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!err) {
        output_topic_back(o, route);
        return 0;
    }
    output_failed(o, job);
    log_limited(&o->lim_deliver, LOG_LEVEL_ERROR,
                "producing to %s failed: %s; input %s [%d] offset %lld will not be committed, "
                "stopping",
                o->topics[route], rd_kafka_err2str(err), ledger_part_topic(job->part),
                (int)ledger_part_partition(job->part), (long long)job->offset);
    /* The hold taken above: never the last (the caller still holds one). */
    ledger_job_release(o->lg, job);
    return -1;
}

bool output_post(output *o, ledger_job *job, const engine_output *out, int64_t now)
{
    const char *key;
    size_t key_len;
    int brand = out->brand_id != NULL;
    pipeline_route r = pipeline_route_decide(&o->route, &out->summary, brand, now);

    if (o->key_by == CONFIG_KEY_BY_BRAND && brand) {
        key = out->brand_id;
        key_len = strlen(key);
    } else {
        key = out->post_id.ptr;
        key_len = out->post_id.len;
    }
    if (!key_len)
        key = NULL;
    if (r.enriched &&
        output_produce(o, job, 0, key, key_len, out->event, out->event_len, out->post_id.ptr,
                       out->post_id.len) == 0 &&
        r.ticket)
        return output_produce(o, job, 1, key, key_len, out->event, out->event_len,
                              out->post_id.ptr, out->post_id.len) == 0;
    return false;
}

/* payload as a quoted base64 JSON string. */
static int output_base64(jbuf *b, const unsigned char *s, size_t len)
{
    if (jbuf_reserve(b, BASE_B64_LEN(len) + 2))
        return -1;
    char *w = b->data + b->len;
    *w++ = '"';
    w += base_b64_encode(w, s, len);
    *w++ = '"';
    b->len = (size_t)(w - b->data);
    return 0;
}

/* The original bytes as a JSON string when they are valid UTF-8 (JSON
 * escapes make that exact), else as base64, so they are always recoverable.
 * A payload larger than OUTPUT_REJECT_PAYLOAD_MAX is cut (payload_truncated)
 * to stay under the brokers' message size, on a character boundary, so a
 * valid UTF-8 payload stays text; topic/partition/offset still point at the
 * whole. */
int output_reject_json(jbuf *b, const char *reason, const rd_kafka_message_t *msg,
                       const char *topic)
{
    const char *payload = msg->payload ? (const char *)msg->payload : "";
    size_t len = msg->len, keep = len;
    int truncated = 0;

    if (keep > OUTPUT_REJECT_PAYLOAD_MAX) {
        keep = OUTPUT_REJECT_PAYLOAD_MAX;
        truncated = 1;
        /* Cut before a character, not inside one: back over at most 3
         * continuation bytes (10xxxxxx) to the lead byte. Invalid input
         * stays invalid and goes out as base64. */
        for (int back = 0; back < 3 && keep > 0 &&
                           ((unsigned char)payload[keep] & 0xC0) == 0x80; back++)
            keep--;
    }
    jbuf_reset(b);
    if (jbuf_cstr(b, "{\"reason\":") || jbuf_str_bytes(b, reason, strlen(reason)) ||
        jbuf_cstr(b, ",\"topic\":") || jbuf_str_bytes(b, topic, strlen(topic)) ||
        jbuf_cstr(b, ",\"partition\":") || jbuf_int(b, msg->partition) ||
        jbuf_cstr(b, ",\"offset\":") || jbuf_int(b, msg->offset) ||
        jbuf_cstr(b, ",\"payload_bytes\":") || jbuf_int(b, (int64_t)len))
        return -1;
    if (text_utf8_valid(payload, keep)) {
        if (jbuf_cstr(b, ",\"payload\":") || jbuf_str(b, payload, keep))
            return -1;
    } else {
        if (jbuf_cstr(b, ",\"payload_base64\":") ||
            output_base64(b, (const unsigned char *)payload, keep))
            return -1;
    }
    if (truncated && jbuf_cstr(b, ",\"payload_truncated\":true"))
        return -1;
    return jbuf_cstr(b, "}");
}

void output_reject(output *o, ledger_job *job, const char *reason,
                   const rd_kafka_message_t *msg, jbuf *buf)
{
    if (output_reject_json(buf, reason, msg, rd_kafka_topic_name(msg->rkt))) {
        ledger_job_fail(job);
        atomic_store(o->fatal, 1);
        log_error("out of memory writing a rejected record");
        return;
    }
    output_produce(o, job, 2, msg->key, msg->key_len, buf->data, buf->len, NULL, 0);
}
