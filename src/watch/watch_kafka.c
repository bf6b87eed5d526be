/*
 * watch_kafka: the aggregator on Kafka. See watch_kafka.h.
 */
#include "watch/watch_kafka.h"
#include "base/base_buf.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "ops/log.h"

#define WATCH_META "earshot.watch/1"

/* Defaults given before the caller's properties (which win). The consumer
 * batches its fetches like the pipeline's (issue 14): librdkafka's
 * fetch.min.bytes of 1 has the broker answer each fetch with a message or
 * two. Windows are a minute long, so waiting up to 100 ms for 100 kB costs
 * nothing a reader of brand.stats can see, and an idle aggregator makes 10
 * fetches a second per broker. The producer lingers 50 ms: records come in
 * bursts at each close, and a checkpoint flushes anyway. */
static const char *const wk_consumer_defaults[][2] = {
    {"fetch.min.bytes", "100000"},
    {"fetch.wait.max.ms", "100"},
};
static const char *const wk_producer_defaults[][2] = {
    {"linger.ms", "50"},
};

/* Per assigned partition: where we are, and the lowest offset of each
 * window still needed (open, or within the replay horizon). */
typedef struct wpart_win {
    int64_t start, min_offset;
} wpart_win;

typedef struct wpart {
    int32_t partition;
    int64_t next; /* the offset after the last one read */
    int at_end;   /* reported its end, nothing read since */
    wpart_win *win;
    size_t n_win, cap_win;
} wpart;

struct watch_kafka {
    const char *input, *stats_topic, *alerts_topic;
    watch_config wcfg;
    int64_t replay_ms;
    rd_kafka_t *consumer, *producer;
    watch *w;
    wpart *parts;
    int n_parts;
    int64_t committed_through; /* closed mark of the last commit */
    int64_t checkpoint_ms;     /* the least wall time between two commits */
    int64_t checkpoint_wall;   /* wall_ms() of the last commit */
    int64_t restored;          /* closed mark read at assignment */
    int failed;                /* a delivery or commit failed: exit 1 */
    char failure[512];
    uint64_t stats_out, alerts_out, closes;
    atomic_uint_fast64_t events_read; /* read by other threads */
    watch_kafka_start start;
    watch_kafka_hooks hooks;
    int exit_at_end;
    int nice;
    atomic_int *stop;
    char *input_s, *stats_s, *alerts_s;
};

typedef struct watch_kafka wrun;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wrun_progress(wrun *r)
{
    if (r->hooks.on_progress && r->w)
        r->hooks.on_progress(r->hooks.opaque, watch_emitted_through(r->w), watch_watermark(r->w));
}

static void wrun_drop(wrun *r)
{
    watch_free(r->w);
    r->w = NULL;
    for (int i = 0; i < r->n_parts; i++)
        free(r->parts[i].win);
    free(r->parts);
    r->parts = NULL;
    r->n_parts = 0;
}

static void watch_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    wrun *r = opaque;
    (void)rk;
    if (m->err && !r->failed) {
        r->failed = 1;
        snprintf(r->failure, sizeof(r->failure), "delivery to %s failed: %s",
                 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
}

static int watch_emit(void *opaque, const watch_record *rec)
{
    wrun *r = opaque;
    const char *topic = rec->type == WATCH_RECORD_STATS ? r->stats_topic : r->alerts_topic;
    rd_kafka_resp_err_t e;

    for (;;) {
        e = rd_kafka_producev(r->producer, RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_KEY(rec->brand_id, strlen(rec->brand_id)),
                              RD_KAFKA_V_VALUE((void *)rec->json, rec->len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(r->producer, 100); /* the local queue drains as the broker acks */
    }
    if (e) {
        snprintf(r->failure, sizeof(r->failure), "produce to %s: %s", topic, rd_kafka_err2str(e));
        r->failed = 1;
        return -1;
    }
    if (rec->type == WATCH_RECORD_STATS)
        r->stats_out++;
    else
        r->alerts_out++;
    if (r->hooks.on_record)
        r->hooks.on_record(r->hooks.opaque, rec);
    return 0;
}

static int wpart_index(const wrun *r, int32_t partition)
{
    for (int i = 0; i < r->n_parts; i++)
        if (r->parts[i].partition == partition)
            return i;
    return -1;
}

static int wpart_note(wpart *p, int64_t start, int64_t offset)
{
    for (size_t i = 0; i < p->n_win; i++) {
        if (p->win[i].start == start) {
            if (offset < p->win[i].min_offset)
                p->win[i].min_offset = offset;
            return 0;
        }
    }
    if (p->n_win == p->cap_win) {
        wpart_win *v = base_grow(p->win, &p->cap_win, sizeof(*v), 16);
        if (!v)
            return -1;
        p->win = v;
    }
    p->win[p->n_win++] = (wpart_win){start, offset};
    return 0;
}

/* After a close: forget windows older than the replay horizon, then the
 * commit offset (lowest in an open window) and the replay offset (lowest in
 * a window still within the horizon). */
static void wpart_positions(wrun *r, wpart *p, int64_t closed, int64_t *commit, int64_t *replay)
{
    size_t k = 0;

    *commit = *replay = p->next;
    for (size_t i = 0; i < p->n_win; i++) {
        if (p->win[i].start + r->wcfg.window_ms <= closed - r->replay_ms)
            continue;
        p->win[k++] = p->win[i];
    }
    p->n_win = k;
    for (size_t i = 0; i < p->n_win; i++) {
        if (p->win[i].min_offset < *replay)
            *replay = p->win[i].min_offset;
        if (p->win[i].start + r->wcfg.window_ms > closed && p->win[i].min_offset < *commit)
            *commit = p->win[i].min_offset;
    }
}

/* Windows closed: wait until every record is acknowledged, then commit.
 * Not more often than checkpoint_ms of wall time unless `now` (a stop, a
 * revoke): a replay or a backlog closes windows far faster than once a
 * minute, and a flush plus a synchronous commit per close (two round trips,
 * an offsets-topic append on the broker) was most of what the aggregator
 * cost there. Records are still produced as windows close; only the commit
 * waits, so a crash re-emits at most checkpoint_ms more of closes. */
static int wrun_checkpoint(wrun *r, int now)
{
    int64_t closed, wall;
    rd_kafka_topic_partition_list_t *offs;
    rd_kafka_resp_err_t e;
    watch_stats st;
    char ts[32];

    if (!r->w)
        return 0;
    closed = watch_emitted_through(r->w);
    /* Replaying what an earlier run emitted: nothing new to commit, and a
     * commit now would move the closed mark back. */
    if (closed == r->committed_through || closed <= r->restored)
        return 0;
    wall = wall_ms();
    if (!now && wall - r->checkpoint_wall < r->checkpoint_ms)
        return 0;
    while (rd_kafka_flush(r->producer, now ? 10000 : 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        if (now || atomic_load(r->stop)) {
            snprintf(r->failure, sizeof(r->failure),
                     "stopped with records unacknowledged; their windows are not committed");
            return -1;
        }
        log_warn("watch: waiting for the brokers to acknowledge %d record(s)",
                 rd_kafka_outq_len(r->producer));
    }
    if (r->failed)
        return -1;
    offs = rd_kafka_topic_partition_list_new(r->n_parts);
    for (int i = 0; i < r->n_parts; i++) {
        int64_t commit, replay;
        char meta[128];
        wpart_positions(r, &r->parts[i], closed, &commit, &replay);
        if (commit < 0)
            continue; /* nothing known about this partition yet */
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_add(offs, r->input, r->parts[i].partition);
        tp->offset = commit;
        snprintf(meta, sizeof(meta), WATCH_META " closed=%" PRId64 " replay=%" PRId64, closed,
                 replay);
        tp->metadata = strdup(meta);
        tp->metadata_size = strlen(meta);
    }
    e = offs->cnt ? rd_kafka_commit(r->consumer, offs, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(offs);
    if (e) {
        /* Not fatal: the next close commits again; a restart meanwhile
         * re-emits the windows since the last good commit. */
        log_warn("watch: commit failed: %s", rd_kafka_err2str(e));
        return 0;
    }
    r->committed_through = closed;
    r->checkpoint_wall = wall;
    r->closes++;
    wrun_progress(r);
    watch_stats_get(r->w, &st);
    watch_format_time(closed, ts, sizeof(ts));
    log_info("watch: windows closed through %s: stats %" PRIu64 " alerts %" PRIu64
             " (spikes %" PRIu64 " updates %" PRIu64 " influencers %" PRIu64 ") suppressed %"
             PRIu64 "; events %" PRIu64 " counted %" PRIu64 " duplicates %" PRIu64
             " late_dropped %" PRIu64 " invalid %" PRIu64 "; brands %zu, ids %zu",
             ts, st.stats_emitted, st.alerts_emitted, st.spikes, st.updates, st.influencers,
             st.suppressed, st.events, st.counted, st.duplicates, st.late_dropped, st.invalid,
             st.brands, st.ids_remembered);
    return 0;
}

/* "earshot.watch/1 closed=<ms> replay=<offset>" -> 0; -1 when not ours. */
static int parse_meta(const void *md, size_t size, int64_t *closed, int64_t *replay)
{
    char buf[256];
    long long c, p;

    if (!md || size == 0 || size >= sizeof(buf))
        return -1;
    memcpy(buf, md, size);
    buf[size] = '\0';
    if (sscanf(buf, WATCH_META " closed=%lld replay=%lld", &c, &p) != 2)
        return -1;
    *closed = c;
    *replay = p;
    return 0;
}

/* Partitions without a commit of ours, first start in RECENT mode: read
 * from the offsets of (now - replay) so the baseline is learned, and emit
 * only windows the watermark could not have closed before now, so a new
 * group neither pages about last week nor starts blind. */
static void wrun_start_recent(wrun *r, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                              int64_t *closed, int *have_closed)
{
    int64_t now = wall_ms(), quiet;
    rd_kafka_topic_partition_list_t *times = rd_kafka_topic_partition_list_new(parts->cnt);
    rd_kafka_resp_err_t e;
    int n_beginning = 0;

    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
            rd_kafka_topic_partition_list_add(times, parts->elems[i].topic,
                                              parts->elems[i].partition)
                ->offset = now - r->replay_ms;
    e = rd_kafka_offsets_for_times(rk, times, 10000);
    for (int i = 0; i < times->cnt; i++) {
        rd_kafka_topic_partition_t *t = &times->elems[i];
        int idx = -1;
        for (int k = 0; k < parts->cnt; k++)
            if (parts->elems[k].partition == t->partition)
                idx = k;
        if (idx < 0)
            continue;
        /* -1 means every message is older than the horizon, or a broker
         * that cannot look up by time (librdkafka's mock cluster, the
         * embedded broker, answers -1 always): read the partition from its
         * start, quietly. Windows before the quiet mark are not emitted
         * either way; a topic that old costs one read of its retention. */
        if (t->offset < 0 && !e && !t->err)
            n_beginning++;
        parts->elems[idx].offset = e || t->err ? RD_KAFKA_OFFSET_END
                                   : t->offset < 0 ? RD_KAFKA_OFFSET_BEGINNING : t->offset;
        if (parts->elems[idx].offset >= 0)
            r->parts[idx].next = parts->elems[idx].offset;
    }
    if (e)
        log_warn("watch: offsets for times: %s; new partitions start at the end",
                 rd_kafka_err2str(e));
    if (n_beginning)
        log_info("watch: %d partition(s) have no offset for the replay horizon (all older, "
                 "or a broker that cannot look up by time): read from their start",
                 n_beginning);
    rd_kafka_topic_partition_list_destroy(times);
    quiet = (now - r->wcfg.lateness_ms) / r->wcfg.window_ms * r->wcfg.window_ms;
    if (quiet < *closed)
        *closed = quiet;
    *have_closed = 1;
    log_info("watch: %s: first start, learning the last %" PRId64 " s before alerting",
             r->input, r->replay_ms / 1000);
}

static void wrun_assign(wrun *r, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    char err[512];
    int64_t closed = INT64_MAX;
    int have_closed = 0, n_fresh = 0;
    rd_kafka_resp_err_t e;

    wrun_drop(r);
    e = rd_kafka_committed(rk, parts, 10000);
    if (e)
        log_warn("watch: reading committed offsets: %s; starting by auto.offset.reset",
                 rd_kafka_err2str(e));
    r->parts = calloc((size_t)(parts->cnt ? parts->cnt : 1), sizeof(*r->parts));
    if (!r->parts) {
        snprintf(r->failure, sizeof(r->failure), "out of memory");
        r->failed = 1;
        return;
    }
    r->n_parts = parts->cnt;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t c, replay;
        r->parts[i].partition = tp->partition;
        r->parts[i].next = -1;
        if (!e && !tp->err && !parse_meta(tp->metadata, tp->metadata_size, &c, &replay)) {
            if (c < closed)
                closed = c;
            have_closed = 1;
            log_info("watch: %s [%d]: committed %" PRId64 ", replaying from %" PRId64,
                     tp->topic, tp->partition, tp->offset, replay);
            tp->offset = replay;
        } else if (e || tp->err || tp->offset < 0) {
            tp->offset = RD_KAFKA_OFFSET_INVALID; /* auto.offset.reset, or below */
            n_fresh++;
        }
        if (tp->offset >= 0)
            r->parts[i].next = tp->offset;
    }
    if (n_fresh && r->start == WATCH_KAFKA_START_RECENT)
        wrun_start_recent(r, rk, parts, &closed, &have_closed);
    r->w = watch_new(&r->wcfg, parts->cnt ? parts->cnt : 1, watch_emit, r, err, sizeof(err));
    if (r->w && r->hooks.on_ticket)
        watch_set_ticket_hook(r->w, r->hooks.on_ticket, r->hooks.opaque);
    if (!r->w) {
        r->failed = 1;
        snprintf(r->failure, sizeof(r->failure), "%s", err);
        if (r->stop)
            atomic_store(r->stop, 1);
        return;
    }
    if (have_closed) {
        char ts[32];
        watch_set_emitted_through(r->w, closed);
        watch_format_time(closed, ts, sizeof(ts));
        log_info("watch: windows through %s were emitted before; replaying them quietly", ts);
    }
    r->committed_through = r->restored = have_closed ? closed : INT64_MIN;
    log_info("watch: assigned %d partition(s) of %s", parts->cnt, r->input);
    rd_kafka_assign(rk, parts);
}

static void watch_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    wrun *r = opaque;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        wrun_assign(r, rk, parts);
    } else {
        /* The last commit is the state; whoever gets the partitions
         * rebuilds from it: make it the latest close (checkpoints are
         * throttled), so the next owner does not emit those windows again. */
        log_info("watch: %d partition(s) revoked", parts->cnt);
        if (!r->failed && wrun_checkpoint(r, 1))
            r->failed = 1;
        wrun_drop(r);
        rd_kafka_assign(rk, NULL);
    }
}

static int wrun_message(wrun *r, rd_kafka_message_t *m)
{
    char err[512];
    int idx;

    if (!r->w)
        return 0;
    idx = wpart_index(r, m->partition);
    if (idx < 0)
        return 0;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        r->parts[idx].next = m->offset;
        r->parts[idx].at_end = 1;
        if (watch_source_idle(r->w, idx, 1, err, sizeof(err)))
            goto fail;
        wrun_progress(r);
        return wrun_checkpoint(r, 0);
    }
    if (m->err) {
        log_warn("watch: consumer: %s", rd_kafka_message_errstr(m));
        return 0;
    }
    {
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        watch_result res;
        if (ts < 0)
            ts = wall_ms();
        if (watch_feed(r->w, idx, m->payload, m->len, ts, &res, err, sizeof(err)))
            goto fail;
        if (res.outcome == WATCH_COUNTED &&
            wpart_note(&r->parts[idx], res.window_start_ms, m->offset)) {
            snprintf(err, sizeof(err), "out of memory");
            goto fail;
        }
        atomic_fetch_add_explicit(&r->events_read, 1, memory_order_relaxed);
        if (res.outcome == WATCH_INVALID)
            log_debug("watch: %s [%d] offset %" PRId64 ": not an enriched event", r->input,
                      m->partition, m->offset);
        r->parts[idx].next = m->offset + 1;
        r->parts[idx].at_end = 0;
    }
    return wrun_checkpoint(r, 0);
fail:
    if (!r->failed)
        snprintf(r->failure, sizeof(r->failure), "%s", err);
    r->failed = 1;
    return -1;
}

/* Lowers the calling thread's priority (Linux: nice is per thread). Best
 * effort: an aggregator at normal priority still works. */
static void wk_nice(int nice)
{
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice))
        log_warn("watch: cannot lower the aggregator's priority to nice %d: %s", nice,
                 strerror(errno));
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                    size_t err_size)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "librdkafka property '%s': %s", name, why);
        return -1;
    }
    return 0;
}

/* Both clients, made on the calling thread after lowering its priority to
 * `nice` (> 0). Each conf is consumed (set to NULL) when its client is made. */
typedef struct wk_clients {
    rd_kafka_conf_t *cconf, *pconf;
    int nice;
    rd_kafka_t *consumer, *producer;
    char *err;
    size_t err_size;
} wk_clients;

static void *wk_clients_new(void *opaque)
{
    wk_clients *c = opaque;

    if (c->nice > 0)
        wk_nice(c->nice);
    if (!(c->producer = rd_kafka_new(RD_KAFKA_PRODUCER, c->pconf, c->err, c->err_size)))
        return NULL;
    c->pconf = NULL;
    if (!(c->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, c->cconf, c->err, c->err_size)))
        return NULL;
    c->cconf = NULL;
    return NULL;
}

watch_kafka *watch_kafka_new(const watch_kafka_config *cfg, int *usage_error, char *err,
                             size_t err_size)
{
    const char *cid = cfg->client_id ? cfg->client_id : "earshot-watch";
    rd_kafka_conf_t *cconf = rd_kafka_conf_new(), *pconf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *topics = NULL;
    wrun *r = calloc(1, sizeof(*r));

    *usage_error = 1;
    if (!r || !cconf || !pconf) {
        snprintf(err, err_size, "out of memory");
        *usage_error = 0;
        goto fail;
    }
    r->wcfg = cfg->wcfg;
    r->replay_ms = cfg->replay_ms < 0 ? 4 * cfg->wcfg.baseline_ms : cfg->replay_ms;
    /* The dedup horizon must at least cover what a window and its lateness span. */
    if (r->wcfg.dedup_ms < r->wcfg.window_ms + r->wcfg.lateness_ms)
        r->wcfg.dedup_ms = r->wcfg.window_ms + r->wcfg.lateness_ms;
    if (watch_config_check(&r->wcfg, err, err_size))
        goto fail;
    r->start = cfg->start;
    r->hooks = cfg->hooks;
    r->checkpoint_ms = cfg->checkpoint_ms ? cfg->checkpoint_ms : WATCH_KAFKA_CHECKPOINT_MS;
    r->exit_at_end = cfg->exit_at_end;
    r->input = r->input_s = strdup(cfg->input);
    r->stats_topic = r->stats_s = strdup(cfg->stats_topic);
    r->alerts_topic = r->alerts_s = strdup(cfg->alerts_topic);
    if (!r->input_s || !r->stats_s || !r->alerts_s) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    if (conf_set(cconf, "bootstrap.servers", cfg->brokers, err, err_size) ||
        conf_set(pconf, "bootstrap.servers", cfg->brokers, err, err_size) ||
        conf_set(cconf, "group.id", cfg->group, err, err_size) ||
        conf_set(cconf, "client.id", cid, err, err_size) ||
        conf_set(pconf, "client.id", cid, err, err_size) ||
        conf_set(cconf, "enable.auto.commit", "false", err, err_size) ||
        conf_set(cconf, "enable.partition.eof", "true", err, err_size) ||
        conf_set(cconf, "auto.offset.reset", "earliest", err, err_size) ||
        conf_set(pconf, "acks", "all", err, err_size))
        goto fail;
    for (size_t i = 0; i < sizeof(wk_consumer_defaults) / sizeof(*wk_consumer_defaults); i++)
        if (conf_set(cconf, wk_consumer_defaults[i][0], wk_consumer_defaults[i][1], err,
                     err_size))
            goto fail;
    for (size_t i = 0; i < sizeof(wk_producer_defaults) / sizeof(*wk_producer_defaults); i++)
        if (conf_set(pconf, wk_producer_defaults[i][0], wk_producer_defaults[i][1], err,
                     err_size))
            goto fail;
    for (size_t i = 0; i < cfg->n_props; i++) {
        const char *name = cfg->prop_names[i], *value = cfg->prop_values[i];
        if (!strncmp(name, "consumer.", 9)) {
            if (conf_set(cconf, name + 9, value, err, err_size))
                goto fail;
        } else if (!strncmp(name, "producer.", 9)) {
            if (conf_set(pconf, name + 9, value, err, err_size))
                goto fail;
        } else if (conf_set(cconf, name, value, err, err_size) ||
                   conf_set(pconf, name, value, err, err_size)) {
            goto fail;
        }
    }
    /* Not overridable: these make the guarantees (in `earshot run` the
     * properties given are the pipeline's too, so they may well say
     * otherwise). */
    if (conf_set(pconf, "enable.idempotence", "true", err, err_size) ||
        conf_set(pconf, "acks", "all", err, err_size) ||
        conf_set(cconf, "enable.auto.commit", "false", err, err_size) ||
        conf_set(cconf, "enable.partition.eof", "true", err, err_size) ||
        conf_set(cconf, "partition.assignment.strategy", "range,roundrobin", err, err_size) ||
        conf_set(cconf, "group.id", cfg->group, err, err_size))
        goto fail;
    rd_kafka_conf_set_opaque(cconf, r);
    rd_kafka_conf_set_opaque(pconf, r);
    rd_kafka_conf_set_dr_msg_cb(pconf, watch_delivery_cb);
    rd_kafka_conf_set_rebalance_cb(cconf, watch_rebalance_cb);

    *usage_error = 0;
    {
        wk_clients cl = {cconf, pconf, cfg->nice, NULL, NULL, err, err_size};
        pthread_t th;
        /* On a thread of their own when niced: librdkafka's threads take
         * the nice value of the thread that creates them (Linux: per
         * thread), and those that connect to brokers later are created by
         * its own main thread. */
        if (cfg->nice > 0 && !pthread_create(&th, NULL, wk_clients_new, &cl)) {
            pthread_join(th, NULL);
        } else {
            cl.nice = 0; /* never the caller's own thread */
            wk_clients_new(&cl);
        }
        r->producer = cl.producer;
        r->consumer = cl.consumer;
        pconf = cl.pconf;
        cconf = cl.cconf;
        r->nice = cfg->nice;
        if (!r->producer || !r->consumer)
            goto fail;
    }
    rd_kafka_poll_set_consumer(r->consumer);
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, r->input, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(r->consumer, topics)) {
        snprintf(err, err_size, "subscribe to %s failed", r->input);
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(topics);
    return r;

fail:
    if (topics)
        rd_kafka_topic_partition_list_destroy(topics);
    if (cconf)
        rd_kafka_conf_destroy(cconf);
    if (pconf)
        rd_kafka_conf_destroy(pconf);
    watch_kafka_free(r);
    return NULL;
}

static int wrun_all_at_end(const wrun *r)
{
    if (!r->w || r->n_parts == 0)
        return 0;
    for (int i = 0; i < r->n_parts; i++)
        if (!r->parts[i].at_end)
            return 0;
    return 1;
}

int watch_kafka_run(watch_kafka *r, atomic_int *stop)
{
    r->stop = stop;
    unsigned n = 0;

    if (r->nice > 0)
        wk_nice(r->nice);

    while (!atomic_load(stop) && !r->failed) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, 200);
        /* Delivery reports (only failures matter to us) every 64 messages
         * or when idle, not a lock round per message; flush serves them too. */
        if (!m || (++n & 63) == 0)
            rd_kafka_poll(r->producer, 0);
        if (!m) {
            /* Nothing new: a close that waited for the interval is due. */
            if (wrun_checkpoint(r, 0))
                break;
            continue;
        }
        if (wrun_message(r, m)) {
            rd_kafka_message_destroy(m);
            break;
        }
        rd_kafka_message_destroy(m);
        if (r->exit_at_end && wrun_all_at_end(r))
            break;
    }
    /* A clean stop commits the latest close (checkpoints are throttled), so
     * a restart emits none of those windows again. Influencer alerts may be
     * in flight; windows still open are rebuilt by the next run from the
     * committed replay offsets. */
    if (!r->failed && wrun_checkpoint(r, 1))
        r->failed = 1;
    rd_kafka_flush(r->producer, 10000);
    return r->failed ? -1 : 0;
}

const char *watch_kafka_failure(const watch_kafka *r)
{
    return r->failed ? r->failure : "";
}

void watch_kafka_counts(const watch_kafka *r, uint64_t *stats, uint64_t *alerts,
                        uint64_t *checkpoints)
{
    *stats = r->stats_out;
    *alerts = r->alerts_out;
    *checkpoints = r->closes;
}

uint64_t watch_kafka_events_read(const watch_kafka *r)
{
    return atomic_load_explicit(&r->events_read, memory_order_relaxed);
}

void watch_kafka_free(watch_kafka *r)
{
    if (!r)
        return;
    if (r->consumer) {
        rd_kafka_consumer_close(r->consumer);
        rd_kafka_destroy(r->consumer);
    }
    if (r->producer)
        rd_kafka_destroy(r->producer);
    wrun_drop(r);
    free(r->input_s);
    free(r->stats_s);
    free(r->alerts_s);
    free(r);
}
