/*
 * `earshot watch`: care intelligence on Kafka. One consumer in its own group
 * reads posts.enriched, feeds src/watch, and produces window statistics to
 * brand.stats and alerts to care.alerts (key: brand id) with an idempotent
 * producer.
 *
 * Offsets and restarts (README, "Care intelligence: earshot watch"). Each
 * time windows close, the records are flushed (every one acknowledged), then
 * every assigned partition is committed synchronously with:
 *   offset   the lowest offset still in an open window (else the next one to
 *            read): nothing not yet reflected in an acknowledged record is
 *            ever committed past;
 *   metadata "earshot.watch/1 closed=<ms> replay=<offset>": every window
 *            ending at or before <ms> has been emitted; <offset> is the
 *            lowest offset of this partition whose window lies within the
 *            replay horizon before <ms>.
 * On (re)assignment the aggregator is rebuilt from scratch: it reads each
 * partition from its replay offset, so the complaint baseline is learned
 * again, and windows ending at or before the smallest committed <ms> close
 * silently (watch_set_emitted_through). No committed offset: the
 * auto.offset.reset policy (earliest). On revoke the aggregator is dropped;
 * the last commit is the state.
 *
 * One thread; the rebalance callback runs inside consumer_poll on it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "ops/log.h"
#include "watch/watch.h"

#define WATCH_META "earshot.watch/1"

static atomic_int watch_stop;

static void watch_on_signal(int sig)
{
    (void)sig;
    atomic_store(&watch_stop, 1);
}

/* Per assigned partition: where we are, and the lowest offset of each
 * window still needed (open, or within the replay horizon). */
typedef struct wpart_win {
    int64_t start, min_offset;
} wpart_win;

typedef struct wpart {
    int32_t partition;
    int64_t next; /* the offset after the last one read */
    wpart_win *win;
    size_t n_win, cap_win;
} wpart;

typedef struct wrun {
    const char *input, *stats_topic, *alerts_topic;
    watch_config wcfg;
    int64_t replay_ms;
    rd_kafka_t *consumer, *producer;
    watch *w;
    wpart *parts;
    int n_parts;
    int64_t committed_through; /* closed mark of the last commit */
    int64_t restored;          /* closed mark read at assignment */
    int failed;                /* a delivery or commit failed: exit 1 */
    char failure[512];
    uint64_t stats_out, alerts_out, closes;
} wrun;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
        size_t cap = p->cap_win ? p->cap_win * 2 : 16;
        wpart_win *v = realloc(p->win, cap * sizeof(*v));
        if (!v)
            return -1;
        p->win = v;
        p->cap_win = cap;
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

/* Windows closed: wait until every record is acknowledged, then commit. */
static int wrun_checkpoint(wrun *r)
{
    int64_t closed = watch_emitted_through(r->w);
    rd_kafka_topic_partition_list_t *offs;
    rd_kafka_resp_err_t e;
    watch_stats st;
    char ts[32];

    /* Replaying what an earlier run emitted: nothing new to commit, and a
     * commit now would move the closed mark back. */
    if (closed == r->committed_through || closed <= r->restored)
        return 0;
    while (rd_kafka_flush(r->producer, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        if (atomic_load(&watch_stop)) {
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
    r->closes++;
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

static void wrun_assign(wrun *r, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    char err[512];
    int64_t closed = INT64_MAX;
    int have_closed = 0;
    rd_kafka_resp_err_t e;

    wrun_drop(r);
    e = rd_kafka_committed(rk, parts, 10000);
    if (e)
        log_warn("watch: reading committed offsets: %s; starting by auto.offset.reset",
                 rd_kafka_err2str(e));
    r->parts = calloc((size_t)(parts->cnt ? parts->cnt : 1), sizeof(*r->parts));
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
            tp->offset = RD_KAFKA_OFFSET_INVALID; /* auto.offset.reset */
        }
        if (tp->offset >= 0)
            r->parts[i].next = tp->offset;
    }
    r->w = watch_new(&r->wcfg, parts->cnt ? parts->cnt : 1, watch_emit, r, err, sizeof(err));
    if (!r->w) {
        r->failed = 1;
        snprintf(r->failure, sizeof(r->failure), "%s", err);
        atomic_store(&watch_stop, 1);
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
         * rebuilds from it. */
        log_info("watch: %d partition(s) revoked", parts->cnt);
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
        if (watch_source_idle(r->w, idx, 1, err, sizeof(err)))
            goto fail;
        return wrun_checkpoint(r);
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
        if (res.outcome == WATCH_INVALID)
            log_debug("watch: %s [%d] offset %" PRId64 ": not an enriched event", r->input,
                      m->partition, m->offset);
        r->parts[idx].next = m->offset + 1;
    }
    return wrun_checkpoint(r);
fail:
    if (!r->failed)
        snprintf(r->failure, sizeof(r->failure), "%s", err);
    r->failed = 1;
    return -1;
}

static void watch_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot watch -b BROKERS [-g GROUP] [--input TOPIC] [--stats TOPIC]\n"
        "                     [--alerts TOPIC] [--window S] [--lateness S] [--baseline S]\n"
        "                     [--min-count N] [--factor X] [--z X] [--cooldown N]\n"
        "                     [--warmup N] [--influencer N] [--min-priority N]\n"
        "                     [--replay S] [-X prop=val ...]\n"
        "\n"
        "Reads enriched events, counts them per brand in tumbling windows and produces\n"
        "one stats record per brand and window with activity, plus complaint spike and\n"
        "influencer alerts (README, \"Care intelligence\"). At least once; a restart\n"
        "replays its history and does not emit a committed window again.\n"
        "\n"
        "  -b, --brokers LIST     bootstrap servers\n"
        "  -g, --group ID         consumer group (earshot-watch)\n"
        "      --input TOPIC      enriched events (posts.enriched)\n"
        "      --stats TOPIC      window statistics (brand.stats)\n"
        "      --alerts TOPIC     alerts (care.alerts)\n"
        "      --window S         window length in seconds (60)\n"
        "      --lateness S       how late an event may arrive, seconds (30)\n"
        "      --baseline S       the complaint baseline's span, seconds (3600)\n"
        "      --min-count N      complaints a spike needs at least (5)\n"
        "      --factor X         complaints / max(baseline, 1) at least (3)\n"
        "      --z X              standard scores above the baseline at least (3)\n"
        "      --cooldown N       windows between alerts of one spike (10)\n"
        "      --warmup N         windows a brand needs before it may alert (5)\n"
        "      --influencer N     followers that make one complaint an alert (100000)\n"
        "      --min-priority N   priority that makes a complaint/question a ticket (30)\n"
        "      --replay S         history re-read on restart, seconds (4 x baseline)\n"
        "  -X PROP=VALUE          librdkafka property for both clients (prefix consumer.\n"
        "                         or producer. for one)\n"
        "\n"
        "SIGTERM or SIGINT: stop; open windows are rebuilt by the next run.\n"
        "Exit status: 0 clean stop, 1 runtime failure, 2 usage error.\n");
}

static int parse_seconds(const char *s, int64_t min_s, int64_t max_s, int64_t *out_ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= (double)min_s && v <= (double)max_s))
        return -1;
    *out_ms = (int64_t)(v * 1000.0 + 0.5);
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end == s || *end ? -1 : 0;
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

int cmd_watch(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},  {"group", required_argument, NULL, 'g'},
        {"input", required_argument, NULL, 'i'},    {"stats", required_argument, NULL, 's'},
        {"alerts", required_argument, NULL, 'a'},   {"window", required_argument, NULL, 'w'},
        {"lateness", required_argument, NULL, 'l'}, {"baseline", required_argument, NULL, 'B'},
        {"min-count", required_argument, NULL, 'm'}, {"factor", required_argument, NULL, 'f'},
        {"z", required_argument, NULL, 'z'},        {"cooldown", required_argument, NULL, 'c'},
        {"warmup", required_argument, NULL, 'W'},   {"influencer", required_argument, NULL, 'I'},
        {"min-priority", required_argument, NULL, 'p'},
        {"replay", required_argument, NULL, 'r'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    wrun r = {.input = "posts.enriched", .stats_topic = "brand.stats",
              .alerts_topic = "care.alerts", .replay_ms = -1};
    const char *brokers = NULL, *group = "earshot-watch";
    const char **xs = calloc((size_t)argc + 1, sizeof(*xs));
    int n_xs = 0, opt, rc = 2;
    size_t n;
    char err[512];
    rd_kafka_conf_t *cconf = NULL, *pconf = NULL;
    rd_kafka_topic_partition_list_t *topics = NULL;
    struct sigaction sa;

    if (!xs) {
        fprintf(stderr, "earshot watch: out of memory\n");
        return 1;
    }
    watch_config_defaults(&r.wcfg);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "b:g:X:h", longopts, NULL)) != -1) {
        const char *bad = NULL;
        switch (opt) {
        case 'b': brokers = optarg; break;
        case 'g': group = optarg; break;
        case 'i': r.input = optarg; break;
        case 's': r.stats_topic = optarg; break;
        case 'a': r.alerts_topic = optarg; break;
        case 'w': if (parse_seconds(optarg, 1, 86400, &r.wcfg.window_ms)) bad = "--window"; break;
        case 'l': if (parse_seconds(optarg, 0, 86400, &r.wcfg.lateness_ms)) bad = "--lateness"; break;
        case 'B': if (parse_seconds(optarg, 1, 30 * 86400, &r.wcfg.baseline_ms)) bad = "--baseline"; break;
        case 'r': if (parse_seconds(optarg, 0, 30 * 86400, &r.replay_ms)) bad = "--replay"; break;
        case 'm': if (cli_parse_size(optarg, 1, 1000000, &n)) bad = "--min-count"; else r.wcfg.min_count = (int)n; break;
        case 'c': if (cli_parse_size(optarg, 1, 100000, &n)) bad = "--cooldown"; else r.wcfg.cooldown = (int)n; break;
        case 'W': if (cli_parse_size(optarg, 0, 100000, &n)) bad = "--warmup"; else r.wcfg.warmup = (int)n; break;
        case 'p': if (cli_parse_size(optarg, 0, 100, &n)) bad = "--min-priority"; else r.wcfg.min_priority = (int)n; break;
        case 'I': if (cli_parse_size(optarg, 1, (size_t)1 << 40, &n)) bad = "--influencer"; else r.wcfg.influencer_followers = (int64_t)n; break;
        case 'f': if (parse_double(optarg, &r.wcfg.factor)) bad = "--factor"; break;
        case 'z': if (parse_double(optarg, &r.wcfg.z_min)) bad = "--z"; break;
        case 'X': xs[n_xs++] = optarg; break;
        case 'h': watch_usage(stdout); rc = 0; goto done;
        default: watch_usage(stderr); goto done;
        }
        if (bad) {
            fprintf(stderr, "earshot watch: %s: bad value '%s'\n", bad, optarg);
            goto done;
        }
    }
    if (optind < argc || !brokers) {
        fprintf(stderr, optind < argc ? "earshot watch: unexpected argument '%s'\n"
                                      : "earshot watch: -b BROKERS is required%s\n",
                optind < argc ? argv[optind] : "");
        goto done;
    }
    /* The dedup horizon must at least cover what a replay re-reads. */
    if (r.replay_ms < 0)
        r.replay_ms = 4 * r.wcfg.baseline_ms;
    if (r.wcfg.dedup_ms < r.wcfg.window_ms + r.wcfg.lateness_ms)
        r.wcfg.dedup_ms = r.wcfg.window_ms + r.wcfg.lateness_ms;
    if (watch_config_check(&r.wcfg, err, sizeof(err))) {
        fprintf(stderr, "earshot watch: %s\n", err);
        goto done;
    }

    cconf = rd_kafka_conf_new();
    pconf = rd_kafka_conf_new();
    if (conf_set(cconf, "bootstrap.servers", brokers, err, sizeof(err)) ||
        conf_set(pconf, "bootstrap.servers", brokers, err, sizeof(err)) ||
        conf_set(cconf, "group.id", group, err, sizeof(err)) ||
        conf_set(cconf, "client.id", "earshot-watch", err, sizeof(err)) ||
        conf_set(pconf, "client.id", "earshot-watch", err, sizeof(err)) ||
        conf_set(cconf, "enable.auto.commit", "false", err, sizeof(err)) ||
        conf_set(cconf, "enable.partition.eof", "true", err, sizeof(err)) ||
        conf_set(cconf, "auto.offset.reset", "earliest", err, sizeof(err)) ||
        conf_set(pconf, "acks", "all", err, sizeof(err)) ||
        conf_set(pconf, "linger.ms", "5", err, sizeof(err)))
        goto conf_fail;
    for (int i = 0; i < n_xs; i++) {
        char name[256];
        const char *eq = strchr(xs[i], '=');
        rd_kafka_conf_t *only = NULL;
        if (!eq || eq == xs[i] || (size_t)(eq - xs[i]) >= sizeof(name)) {
            fprintf(stderr, "earshot watch: -X: expected NAME=VALUE, got '%s'\n", xs[i]);
            goto done;
        }
        memcpy(name, xs[i], (size_t)(eq - xs[i]));
        name[eq - xs[i]] = '\0';
        if (!strncmp(name, "consumer.", 9))
            only = cconf;
        else if (!strncmp(name, "producer.", 9))
            only = pconf;
        if (only) {
            if (conf_set(only, name + 9, eq + 1, err, sizeof(err)))
                goto conf_fail;
        } else if (conf_set(cconf, name, eq + 1, err, sizeof(err)) ||
                   conf_set(pconf, name, eq + 1, err, sizeof(err))) {
            goto conf_fail;
        }
    }
    /* Not overridable: these make the guarantees. */
    if (conf_set(pconf, "enable.idempotence", "true", err, sizeof(err)) ||
        conf_set(cconf, "partition.assignment.strategy", "range,roundrobin", err, sizeof(err)))
        goto conf_fail;
    rd_kafka_conf_set_opaque(cconf, &r);
    rd_kafka_conf_set_opaque(pconf, &r);
    rd_kafka_conf_set_dr_msg_cb(pconf, watch_delivery_cb);
    rd_kafka_conf_set_rebalance_cb(cconf, watch_rebalance_cb);

    rc = 1;
    if (!(r.producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err)))) {
        fprintf(stderr, "earshot watch: producer: %s\n", err);
        goto done;
    }
    pconf = NULL;
    if (!(r.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err)))) {
        fprintf(stderr, "earshot watch: consumer: %s\n", err);
        goto done;
    }
    cconf = NULL;
    rd_kafka_poll_set_consumer(r.consumer);
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, r.input, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(r.consumer, topics)) {
        fprintf(stderr, "earshot watch: subscribe to %s failed\n", r.input);
        goto done;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = watch_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    atomic_store(&watch_stop, 0);
    log_info("watch: %s -> %s, %s; window %" PRId64 " s, lateness %" PRId64
             " s, baseline %" PRId64 " s, replay %" PRId64 " s; group %s",
             r.input, r.stats_topic, r.alerts_topic, r.wcfg.window_ms / 1000,
             r.wcfg.lateness_ms / 1000, r.wcfg.baseline_ms / 1000, r.replay_ms / 1000, group);

    while (!atomic_load(&watch_stop) && !r.failed) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r.consumer, 200);
        rd_kafka_poll(r.producer, 0);
        if (!m)
            continue;
        if (wrun_message(&r, m)) {
            rd_kafka_message_destroy(m);
            break;
        }
        rd_kafka_message_destroy(m);
    }
    /* Influencer alerts may be in flight; windows still open are rebuilt by
     * the next run from the committed replay offsets. */
    rd_kafka_flush(r.producer, 10000);
    if (r.failed) {
        log_error("watch: %s; stopping without committing further", r.failure);
        rc = 1;
    } else {
        log_info("watch: stopped (clean): stats %" PRIu64 ", alerts %" PRIu64
                 ", %" PRIu64 " checkpoint(s)", r.stats_out, r.alerts_out, r.closes);
        rc = 0;
    }
    rd_kafka_consumer_close(r.consumer);
    goto done;

conf_fail:
    fprintf(stderr, "earshot watch: %s\n", err);
    rc = 2;
done:
    if (topics)
        rd_kafka_topic_partition_list_destroy(topics);
    if (r.consumer)
        rd_kafka_destroy(r.consumer);
    if (r.producer)
        rd_kafka_destroy(r.producer);
    if (cconf)
        rd_kafka_conf_destroy(cconf);
    if (pconf)
        rd_kafka_conf_destroy(pconf);
    wrun_drop(&r);
    free(xs);
    return rc;
}
