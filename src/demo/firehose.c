/*
 * firehose: generator thread + producer for the demo. See firehose.h.
 */
#include "demo/firehose.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "gen/gen.h"
#include "ops/log.h"

/* The bucket is topped up at this period; short enough that 2,000 posts/s
 * leave in batches of ~10, long enough not to spin. */
#define FIREHOSE_TICK_NS (5 * 1000 * 1000L)
/* After a stall (a full producer queue), at most this much of a second's
 * worth of posts is caught up at once: the rate is a ceiling, not a debt. */
#define FIREHOSE_MAX_BURST_S 0.1

struct demo_firehose {
    rd_kafka_t *rk;
    char *topic;
    double rate;
    gen *g;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_ullong generated, malformed, failed, queued, injected;
    _Atomic int64_t event_ms; /* newest created_at generated; -1 */

    pthread_mutex_t spike_lock; /* the spike below */
    char *spike_text;
    int spike_total, spike_done;
    int64_t spike_window_ms, spike_start; /* spike_start -1: not yet placed */
    _Atomic int64_t spike_shown;          /* spike_start for other threads */
    uint64_t spike_seq;
};

/* The opaque of an injected post's message (a malformed one's is f). */
static char firehose_injected_tag;

static void firehose_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_write(level <= 3 ? LOG_LEVEL_ERROR : level == 4 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
              "demo firehose: %s: %s", fac, buf);
}

/* Runs on whichever thread polls the producer (the firehose thread, then
 * demo_firehose_stop's flush). The opaque says whether the line was meant
 * to be malformed. */
static void firehose_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    demo_firehose *f = opaque;
    (void)rk;
    if (m->err) {
        atomic_fetch_add(&f->failed, 1);
        return;
    }
    atomic_fetch_add(&f->generated, 1);
    if (m->_private == &firehose_injected_tag)
        atomic_fetch_add(&f->injected, 1);
    else if (m->_private)
        atomic_fetch_add(&f->malformed, 1);
}

static double firehose_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Produces one line, waiting for room in librdkafka's queue if needed.
 * Returns 0, or -1 when asked to stop while waiting or on a hard error. */
static int firehose_produce(demo_firehose *f, const char *data, size_t len, void *tag)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            f->rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_VALUE((void *)data, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(tag), RD_KAFKA_V_END);
        if (!err) {
            atomic_fetch_add(&f->queued, 1);
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            log_error("demo firehose: producing to '%s': %s", f->topic, rd_kafka_err2str(err));
            return -1;
        }
        if (atomic_load(&f->stop))
            return -1;
        rd_kafka_poll(f->rk, 10);
    }
}

/* The created_at of a generated line when it is ISO 8601 (the v2 and
 * generic shapes; v1's are skipped): ms, or -1. */
static int64_t firehose_line_time(const jbuf *line)
{
    static const char key[] = "\"created_at\":\"";
    const char *p = memmem(line->data, line->len, key, sizeof(key) - 1);
    struct tm tm = {0};
    char buf[20];

    if (!p || (size_t)(line->data + line->len - p) < sizeof(key) - 1 + 19)
        return -1;
    memcpy(buf, p + sizeof(key) - 1, 19);
    buf[19] = '\0';
    if (!strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm))
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

/* Produces the spike's posts whose time the generator's clock has passed. */
static int firehose_spike(demo_firehose *f, int64_t now_ms)
{
    int rc = 0;

    pthread_mutex_lock(&f->spike_lock);
    if (f->spike_text && f->spike_start < 0) {
        f->spike_start = (now_ms / f->spike_window_ms + 1) * f->spike_window_ms;
        atomic_store(&f->spike_shown, f->spike_start);
    }
    while (f->spike_text && f->spike_done < f->spike_total && !rc) {
        int64_t at = f->spike_start + f->spike_window_ms * f->spike_done / f->spike_total;
        char ts[32], post[1024];
        time_t t = (time_t)(at / 1000);
        struct tm tm;
        int n;
        if (at > now_ms)
            break;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        n = snprintf(post, sizeof(post),
                     "{\"id\":\"spike-%llu\",\"created_at\":\"%s\",\"text\":\"%s\","
                     "\"author\":{\"handle\":\"upset_customer_%llu\",\"followers\":%d}}",
                     (unsigned long long)f->spike_seq, ts, f->spike_text,
                     (unsigned long long)f->spike_seq, 40 + (int)(f->spike_seq % 900));
        f->spike_seq++;
        f->spike_done++;
        if (n > 0 && (size_t)n < sizeof(post))
            rc = firehose_produce(f, post, (size_t)n, &firehose_injected_tag);
    }
    pthread_mutex_unlock(&f->spike_lock);
    return rc;
}

int demo_firehose_inject(demo_firehose *f, const char *text, int n, int64_t window_ms)
{
    char *t = strdup(text);

    if (!t)
        return -1;
    pthread_mutex_lock(&f->spike_lock);
    free(f->spike_text);
    f->spike_text = t;
    f->spike_total = n > 0 ? n : 1;
    f->spike_done = 0;
    f->spike_window_ms = window_ms > 0 ? window_ms : 60000;
    f->spike_start = -1;
    pthread_mutex_unlock(&f->spike_lock);
    return 0;
}

int64_t demo_firehose_spike_window(demo_firehose *f)
{
    return atomic_load(&f->spike_shown);
}

static void *firehose_main(void *arg)
{
    demo_firehose *f = arg;
    jbuf line;
    double tokens = 0.0, last = firehose_now_s();
    const double max_tokens = f->rate * FIREHOSE_MAX_BURST_S + 1.0;
    struct timespec tick = {0, FIREHOSE_TICK_NS};

    jbuf_init(&line);
    while (!atomic_load(&f->stop)) {
        double now = firehose_now_s();
        tokens += (now - last) * f->rate;
        last = now;
        if (tokens > max_tokens)
            tokens = max_tokens;
        while (tokens >= 1.0 && !atomic_load(&f->stop)) {
            jbuf_reset(&line);
            gen_kind kind = gen_next(f->g, &line);
            if (!line.len) /* out of memory in the generator: skip, try again */
                break;
            if (firehose_produce(f, line.data, line.len,
                                 kind == GEN_KIND_MALFORMED ? (void *)f : NULL))
                goto out;
            tokens -= 1.0;
            int64_t t = firehose_line_time(&line);
            if (t > atomic_load(&f->event_ms))
                atomic_store(&f->event_ms, t);
            if (t > 0 && firehose_spike(f, t))
                goto out;
        }
        rd_kafka_poll(f->rk, 0);
        nanosleep(&tick, NULL);
    }
out:
    jbuf_free(&line);
    return NULL;
}

demo_firehose *demo_firehose_start(const demo_firehose_options *opt, char *err,
                                   size_t err_size)
{
    demo_firehose *f = calloc(1, sizeof(*f));
    rd_kafka_conf_t *conf = NULL;
    gen_options gopt;
    char errstr[512];
    /* Idempotence: a retried produce is not written twice, so every post
     * generated is in the topic exactly once and "consumed == generated"
     * is an exact check. linger.ms: the mock cluster answers a Fetch with
     * one batch per partition, so the batch size sets how fast the
     * pipeline can read; batches of 5 ms (~3 posts at 2,000/s over 4
     * partitions) let it fall behind by more than the ~5 MB a partition
     * keeps, and posts were lost at 5,000/s. */
    static const char *const props[][2] = {
        {"client.id", "earshot-demo-firehose"},
        {"enable.idempotence", "true"},
        {"linger.ms", "50"},
        {"queue.buffering.max.messages", "100000"},
    };

    if (!f) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    f->rate = opt->rate;
    atomic_init(&f->event_ms, -1);
    atomic_init(&f->spike_shown, -1);
    pthread_mutex_init(&f->spike_lock, NULL);
    f->spike_start = -1;
    gen_options_default(&gopt);
    gopt.seed = opt->seed;
    gopt.shape = GEN_SHAPE_MIX;
    gopt.malformed_rate = opt->malformed_rate;
    if (!(f->topic = strdup(opt->topic)) || !(f->g = gen_new(&gopt))) {
        snprintf(err, err_size, "out of memory");
        goto err;
    }

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", opt->brokers, errstr, sizeof(errstr))) {
        snprintf(err, err_size, "firehose producer: bootstrap.servers: %s", errstr);
        goto err;
    }
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof(errstr))) {
            snprintf(err, err_size, "firehose producer: %s: %s", props[i][0], errstr);
            goto err;
        }
    }
    rd_kafka_conf_set_log_cb(conf, firehose_log_cb);
    rd_kafka_conf_set_dr_msg_cb(conf, firehose_dr_cb);
    rd_kafka_conf_set_opaque(conf, f);
    if (!(f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        snprintf(err, err_size, "creating the firehose producer: %s", errstr);
        goto err;
    }
    conf = NULL; /* owned by f->rk now */

    if (pthread_create(&f->thread, NULL, firehose_main, f)) {
        snprintf(err, err_size, "starting the firehose thread: %s", strerror(errno));
        goto err;
    }
    f->started = 1;
    return f;
err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    demo_firehose_free(f);
    return NULL;
}

int demo_firehose_stop(demo_firehose *f, int timeout_ms)
{
    if (f->started) {
        atomic_store(&f->stop, 1);
        pthread_join(f->thread, NULL);
        f->started = 0;
    }
    return rd_kafka_flush(f->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

void demo_firehose_stats_get(demo_firehose *f, demo_firehose_stats *st)
{
    st->generated = atomic_load(&f->generated);
    st->malformed = atomic_load(&f->malformed);
    st->failed = atomic_load(&f->failed);
    st->queued = atomic_load(&f->queued);
    st->injected = atomic_load(&f->injected);
    st->event_ms = atomic_load(&f->event_ms);
}

void demo_firehose_free(demo_firehose *f)
{
    if (!f)
        return;
    if (f->started) {
        atomic_store(&f->stop, 1);
        pthread_join(f->thread, NULL);
    }
    if (f->rk)
        rd_kafka_destroy(f->rk);
    gen_free(f->g);
    free(f->topic);
    free(f->spike_text);
    pthread_mutex_destroy(&f->spike_lock);
    free(f);
}
