/*
 * `earshot demo`: the whole system on one laptop, in one process. The
 * embedded broker (librdkafka's mock cluster), a firehose of generated posts
 * producing to `posts`, the real pipeline consuming them in a consumer
 * group and producing to the output topics, and a view that reads those
 * topics back with a consumer of its own and shows what came out:
 *
 *   [firehose thread] gen -> producer -> posts
 *   [pipeline thread] pipeline_run (and its workers): posts -> posts.enriched,
 *                     care.tickets, posts.rejected
 *   [watch thread]    the care aggregator (src/watch/watch_kafka, as in
 *                     `earshot run`): posts.enriched -> brand.stats,
 *                     care.alerts, kept for the view in a dash
 *   [main]            tally consumer <- output topics; draws the view
 *
 * --spike BRAND@SECONDS[xFACTOR]: SECONDS after the firehose starts, the
 * brand's complaint baseline so far (per window, from the aggregator) is
 * multiplied: (FACTOR - 1) x baseline extra complaint posts are dated across
 * the next whole window of the generator's clock (the demo's own clock,
 * ~rate/10 s of event time a second). The summary says whether that window
 * was alerted; a spike not alerted fails the demo.
 *
 * Stopping (Ctrl-C, SIGTERM or --duration): the firehose stops and flushes;
 * the pipeline is left running until it has consumed and acknowledged every
 * post generated; then it drains, commits and leaves the group; the view
 * reads the rest of the output; a summary checks the counts against each
 * other. A second Ctrl-C skips the waiting.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "demo/firehose.h"
#include "demo/screen.h"
#include "demo/tally.h"
#include "ops/config.h"
#include "ops/dash.h"
#include "ops/log.h"
#include "pipeline/broker.h"
#include "pipeline/pipeline.h"
#include "rules/rules.h"
#include "watch/watch_kafka.h"

/* Signals seen; the handler can reach nothing else. The first asks for a
 * clean stop, the second for a quick one. */
static atomic_int demo_signals;

static void demo_on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&demo_signals, 1);
}

/* Share of firehose lines that are malformed, so the rejected route has
 * something to show: ~10 a second at the default rate. */
#define DEMO_MALFORMED_RATE 0.005
/* The embedded broker keeps ~5 MB per partition and is not built for
 * throughput: on a 2-core machine 5,000 posts/s ran clean, 10,000 lost
 * posts the pipeline had not read yet. */
#define DEMO_MAX_RATE 5000
/* Without a terminal to watch, a bounded run: CI and pipes must end. */
#define DEMO_PLAIN_DURATION_S 20.0
#define DEMO_BLOCK_EVERY_S 5.0
/* How long the stop may wait for each step before giving up on it. */
#define DEMO_JOIN_S 30.0
#define DEMO_FLUSH_MS 10000
#define DEMO_DRAIN_S 30.0
#define DEMO_STALL_S 5.0
#define DEMO_READ_BACK_S 10.0

typedef struct demo_options {
    double duration;  /* seconds; 0: until a signal */
    const char *spike_brand; /* --spike: brand id, NULL: none */
    double spike_at;         /* seconds after the firehose starts */
    double spike_factor;     /* complaints x this in the spike's window */
    int duration_set;
    double rate;
    size_t partitions, threads, min_priority;
    uint64_t seed;
    int plain;        /* compact blocks even on a terminal */
} demo_options;

typedef struct demo_pipeline_thread {
    pipeline *p;
    atomic_int stop;
    int rc;
} demo_pipeline_thread;

static void *demo_pipeline_main(void *arg)
{
    demo_pipeline_thread *pt = arg;
    pt->rc = pipeline_run(pt->p, &pt->stop);
    return NULL;
}

static double demo_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void demo_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot demo [--duration SECONDS] [--rate POSTS_PER_S] [--partitions N]\n"
        "                    [--threads N] [--seed S] [--min-priority P] [--plain]\n"
        "                    [--spike BRAND@SECONDS[xFACTOR]]\n"
        "\n"
        "Runs everything in one process: an embedded Kafka broker (librdkafka's mock\n"
        "cluster), a firehose of realistic generated posts into 'posts', the earshot\n"
        "pipeline, and a live view of what it writes to posts.enriched, care.tickets\n"
        "and posts.rejected, read back out of Kafka. Ctrl-C stops the firehose, lets\n"
        "the pipeline finish and commit, and prints a summary that checks the counts.\n"
        "\n"
        "  --duration S      stop after S seconds (default: at Ctrl-C on a terminal,\n"
        "                    20 s otherwise; 0 = until Ctrl-C)\n"
        "  --rate R          posts per second from the firehose, 1..5000 (default 2000;\n"
        "                    the embedded broker is not built for throughput)\n"
        "  --partitions N    partitions per topic, 1..64 (default 4)\n"
        "  --threads N       pipeline worker threads, 0 = one per CPU (default 0)\n"
        "  --seed S          generator seed (default: from the clock)\n"
        "  --min-priority P  tickets listed in the view, 0..100 (default 60)\n"
        "  --plain           print a compact block every 5 s instead of redrawing the\n"
        "                    screen (the default when stdout is not a terminal)\n"
        "  --spike B@S[xF]   S seconds in, multiply brand B's complaints by F (default\n"
        "                    10) for one window of the demo's clock, e.g. comcast@8x10;\n"
        "                    the view and the summary show the alert\n"
        "\n"
        "The care aggregator (as in `earshot run`) writes brand.stats and care.alerts;\n"
        "the view shows its alerts, and DUE is measured on the demo's own clock (the\n"
        "generator's, ~rate/10 s of post time per second).\n"
        "\n"
        "Exit status: 0 when every count agrees (consumed == generated, every event\n"
        "produced was read back) and an injected spike was alerted, 1 otherwise or on\n"
        "a runtime failure, 2 for usage.\n");
}

static int demo_parse(int argc, char **argv, demo_options *o)
{
    static const struct option longopts[] = {
        {"duration", required_argument, NULL, 'd'},
        {"rate", required_argument, NULL, 'r'},
        {"partitions", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {"min-priority", required_argument, NULL, 'm'},
        {"plain", no_argument, NULL, 'P'},
        {"spike", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    char *end;
    size_t n;

    o->duration = 0;
    o->duration_set = 0;
    o->rate = 2000;
    o->partitions = 4;
    o->threads = 0;
    o->min_priority = 60;
    o->seed = (uint64_t)time(NULL);
    o->plain = 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            errno = 0;
            o->duration = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(o->duration) || o->duration < 0 ||
                o->duration > 86400 * 365.0) {
                fprintf(stderr, "earshot demo: --duration wants seconds >= 0, got '%s'\n",
                        optarg);
                return 2;
            }
            o->duration_set = 1;
            break;
        case 'r':
            if (cli_parse_size(optarg, 1, DEMO_MAX_RATE, &n)) {
                fprintf(stderr, "earshot demo: --rate must be 1..%d posts/s, got '%s'\n",
                        DEMO_MAX_RATE,
                        optarg);
                return 2;
            }
            o->rate = (double)n;
            break;
        case 'p':
            if (cli_parse_size(optarg, 1, 64, &o->partitions)) {
                fprintf(stderr, "earshot demo: --partitions must be 1..64, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (cli_parse_size(optarg, 0, 256, &o->threads)) {
                fprintf(stderr, "earshot demo: --threads must be 0..256, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            if (cli_parse_size(optarg, 0, (size_t)-1, &n)) {
                fprintf(stderr, "earshot demo: --seed wants a whole number, got '%s'\n", optarg);
                return 2;
            }
            o->seed = (uint64_t)n;
            break;
        case 'm':
            if (cli_parse_size(optarg, 0, 100, &o->min_priority)) {
                fprintf(stderr, "earshot demo: --min-priority must be 0..100, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'P': o->plain = 1; break;
        case 'S': {
            /* BRAND@SECONDS[xFACTOR] */
            static char brand[64];
            const char *at = strchr(optarg, '@');
            char *x;
            if (!at || at == optarg || (size_t)(at - optarg) >= sizeof(brand)) {
                fprintf(stderr, "earshot demo: --spike wants BRAND@SECONDS[xFACTOR], e.g. "
                                "comcast@8x10, got '%s'\n", optarg);
                return 2;
            }
            memcpy(brand, optarg, (size_t)(at - optarg));
            brand[at - optarg] = '\0';
            errno = 0;
            o->spike_at = strtod(at + 1, &x);
            o->spike_factor = 10.0;
            if (!errno && x != at + 1 && (*x == 'x' || *x == 'X'))
                o->spike_factor = strtod(x + 1, &x);
            if (errno || x == at + 1 || *x || !isfinite(o->spike_at) || o->spike_at < 0 ||
                !isfinite(o->spike_factor) || o->spike_factor < 2 || o->spike_factor > 1000) {
                fprintf(stderr, "earshot demo: --spike '%s': SECONDS >= 0 and FACTOR 2..1000 "
                                "expected, e.g. comcast@8x10\n", optarg);
                return 2;
            }
            o->spike_brand = brand;
            break;
        }
        case 'h': demo_usage(stdout); return 0;
        default: demo_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "earshot demo: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (o->spike_brand && o->duration_set && o->duration > 0 &&
        o->spike_at + 2.0 > o->duration) {
        fprintf(stderr, "earshot demo: --spike at %.0f s needs --duration of at least %.0f s "
                        "(the window must close before the firehose stops)\n",
                o->spike_at, o->spike_at + 2.0);
        return 2;
    }
    return -1; /* go on */
}

/* The pipeline's config: what `earshot run -b BOOTSTRAP` would use, with
 * the status interval short so the lag the view shows is fresh (its log
 * line itself stays below the demo's log level). */
static int demo_config(config *cfg, const char *brokers, size_t threads, char *err,
                       size_t err_size)
{
    char threads_s[16];
    snprintf(threads_s, sizeof(threads_s), "%zu", threads);
    const char *const kv[][2] = {
        {"brokers", brokers},
        {"group.id", "earshot-demo"},
        {"threads", threads_s},
        {"status.interval.ms", "1000"},
        {"log.level", "warn"},
        {"shutdown.timeout.ms", "15000"},
        /* The demo counts every generated post (consumed == generated),
         * some produced before the group has joined, and the generator
         * dates them 2018-2022: earliest, and no ticket age limit. */
        {"consumer.auto.offset.reset", "earliest"},
        {"tickets.max_age", "0"},
    };

    if (config_init(cfg)) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        if (config_set(cfg, kv[i][0], kv[i][1], "demo", err, err_size))
            return -1;
    return config_finalize(cfg, err, err_size);
}

/* Everything the demo runs, so one function can take it down. */
typedef struct demo {
    demo_options opt;
    int tty;
    double t0;
    broker *b;
    config cfg;
    int cfg_ready;
    ruleset *rs;
    demo_pipeline_thread pt;
    pthread_t pipeline_thread;
    int pipeline_started;
    demo_tally *tally;
    demo_firehose *fh;
    double fh_t0;              /* when the firehose started */
    demo_sample fh_sample;     /* the counters then */
    uint64_t drain_consumed;   /* demo_drained's last look */
    double drain_change;
    demo_screen_state screen;
    double last_block;
    /* the care aggregator */
    dash *dash;
    watch_kafka *wk;
    pthread_t watch_thread;
    int watch_started;
    atomic_int watch_stop;
    _Atomic int64_t watch_through; /* windows closed through; INT64_MIN */
    /* --spike */
    const rules_brand *spike_brand;
    int spike_fired, spike_posts;
    int usage_error; /* demo_start failed on the command line's content */
    double spike_baseline;
} demo;

static void demo_watch_record(void *opaque, const watch_record *rec)
{
    demo *d = opaque;
    dash_record(d->dash, rec->type == WATCH_RECORD_ALERT, rec->json, rec->len);
}

static void demo_watch_progress(void *opaque, int64_t through, int64_t watermark)
{
    demo *d = opaque;
    dash_progress(d->dash, through, watermark);
    atomic_store(&d->watch_through, through);
}

static void *demo_watch_main(void *arg)
{
    demo *d = arg;
    if (watch_kafka_run(d->wk, &d->watch_stop))
        log_error("demo: care aggregator: %s", watch_kafka_failure(d->wk));
    return NULL;
}

static int64_t demo_clock(void *opaque)
{
    demo_firehose_stats fs = {0};
    demo *d = opaque;
    if (d->fh)
        demo_firehose_stats_get(d->fh, &fs);
    return fs.event_ms;
}

static void demo_sample_now(demo *d, demo_sample *s)
{
    demo_firehose_stats fs = {0};
    pipeline_stats ps;

    if (d->fh)
        demo_firehose_stats_get(d->fh, &fs);
    pipeline_stats_get(d->pt.p, &ps);
    s->t = demo_now_s() - d->t0;
    s->generated = fs.generated;
    s->consumed = ps.consumed;
    memcpy(s->produced, ps.produced, sizeof(s->produced));
    s->lag = ps.lag;
    s->paused = ps.paused;
    s->partitions = ps.partitions;
}

/* Refreshes the view if its time has come (force: now). The final one
 * ("stopped") shows average rates since the firehose started: rates over
 * the last second of a drain would say little. */
static void demo_show(demo *d, const char *phase, int force)
{
    demo_screen_state *s = &d->screen;
    double now = demo_now_s() - d->t0;
    int final = !strcmp(phase, "stopped");

    if (!force && now - s->now.t < (d->tty ? 1.0 : 0.0))
        return;
    if (!d->tty && !force && now - d->last_block < DEMO_BLOCK_EVERY_S)
        return;
    s->prev = s->now;
    demo_sample_now(d, &s->now);
    s->run = d->fh ? demo_now_s() - d->fh_t0 : 0.0;
    if (final)
        s->prev = d->fh_sample;
    /* The pipeline joins its consumer group first, which takes the mock
     * cluster a few seconds; say so rather than show a stalled pipeline. */
    s->phase = !strcmp(phase, "running") && !s->now.partitions ? "joining the group" : phase;
    s->hint = final ? NULL : !strcmp(phase, "running") ? "Ctrl-C stops" : "Ctrl-C again: don't wait";
    s->view = demo_tally_get(d->tally);
    s->clock_ms = demo_clock(d);
    s->n_alerts = 0;
    if (d->dash) {
        /* Spikes first: influencer alerts are many and would push them out. */
        dash_alert_view a[DASH_ALERTS];
        size_t n = dash_alerts_get(d->dash, a, DASH_ALERTS);
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n && s->n_alerts < DEMO_SCREEN_ALERTS; i++)
                if ((strcmp(a[i].type, "influencer") != 0) == (pass == 0))
                    s->alerts[s->n_alerts++] = a[i];
    }
    if (d->tty) {
        struct winsize ws;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
            s->rows = ws.ws_row;
            s->cols = ws.ws_col;
        }
        demo_screen_frame(stdout, s);
    } else {
        demo_screen_block(stdout, s);
        d->last_block = now;
    }
}

/* Polls the view while waiting for done() or the deadline or a second
 * signal. Returns 1 when done() came true. */
static int demo_wait(demo *d, const char *phase, double seconds, int (*done)(demo *))
{
    double until = demo_now_s() + seconds;

    while (!done(d)) {
        if (demo_now_s() >= until || atomic_load(&demo_signals) >= 2)
            return 0;
        demo_tally_poll(d->tally, 50);
        demo_show(d, phase, 0);
    }
    return 1;
}

/* Every post generated is consumed and fully acknowledged. */
static int demo_drained(demo *d)
{
    demo_firehose_stats fs = {0};
    pipeline_stats ps;

    if (d->fh)
        demo_firehose_stats_get(d->fh, &fs);
    pipeline_stats_get(d->pt.p, &ps);
    if (ps.consumed >= fs.generated && ps.done == ps.consumed)
        return 1;
    /* Nothing read for a while with nothing in flight: what is missing is
     * not coming (the broker dropped it); the summary says so. */
    if (ps.consumed != d->drain_consumed) {
        d->drain_consumed = ps.consumed;
        d->drain_change = demo_now_s();
    }
    return ps.done == ps.consumed && demo_now_s() - d->drain_change > DEMO_STALL_S;
}

/* The view has read every event the pipeline had acknowledged. */
static int demo_read_back(demo *d)
{
    const demo_tally_view *v = demo_tally_get(d->tally);
    pipeline_stats ps;

    pipeline_stats_get(d->pt.p, &ps);
    return v->enriched >= ps.produced[0] && v->tickets >= ps.produced[1] &&
           v->rejected >= ps.produced[2];
}

/* The aggregator has closed the spike's window (or it was never placed). */
static int demo_spike_closed(demo *d)
{
    int64_t w = d->fh ? demo_firehose_spike_window(d->fh) : -1;
    return w < 0 || atomic_load(&d->watch_through) >= w + 60000;
}

/* --spike: once its second has come, (FACTOR - 1) x the brand's baseline
 * so far, at least 1 post. */
static void demo_spike_maybe(demo *d)
{
    double mean;
    char text[256];

    if (!d->spike_brand || d->spike_fired || !d->fh ||
        demo_now_s() - d->fh_t0 < d->opt.spike_at)
        return;
    dash_brand_complaints(d->dash, d->spike_brand->id, &mean);
    d->spike_baseline = mean;
    d->spike_posts = (int)ceil((d->opt.spike_factor - 1.0) * (mean > 1.0 ? mean : 1.0));
    /* The name goes into JSON: rules names are plain text, but be sure. */
    snprintf(text, sizeof(text), "%s is down again all day, worst service ever, still waiting "
             "on hold for an hour",
             strpbrk(d->spike_brand->name, "\"\\") ? d->spike_brand->id : d->spike_brand->name);
    if (demo_firehose_inject(d->fh, text, d->spike_posts, 60000) == 0)
        d->spike_fired = 1;
}

/* The care part of the summary. Returns 0, or -1 when an injected spike
 * was not alerted. */
static int demo_care_summary(demo *d)
{
    dash_alert_view a[DASH_ALERTS];
    size_t n = d->dash ? dash_alerts_get(d->dash, a, DASH_ALERTS) : 0;
    int64_t w = d->spike_fired ? demo_firehose_spike_window(d->fh) : -1;
    int found = 0;
    char line[256];

    printf("  care       %10zu alerts to care.alerts (the aggregator, as in earshot run)\n", n);
    for (size_t i = n; i-- > 0;) {
        int ours = w >= 0 && a[i].window_start == w && !strcmp(a[i].type, "spike") &&
                   !strcmp(a[i].brand, d->spike_brand->name);
        found |= ours;
        printf("             %s%s\n", demo_screen_alert(line, sizeof(line), &a[i]),
               ours ? "  <- the injected spike" : "");
    }
    if (!d->spike_fired) {
        if (d->spike_brand)
            printf("  the spike (%s at %.0f s) was not injected: the demo stopped first\n",
                   d->spike_brand->id, d->opt.spike_at);
        return d->spike_brand ? -1 : 0;
    }
    {
        char hhmm[8];
        time_t t = (time_t)(w / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(hhmm, sizeof(hhmm), "%H:%M", &tm);
        printf("  spike      %s x%.0f: %d complaint posts injected into the %s window "
               "(baseline %.1f a window): %s\n",
               d->spike_brand->name, d->opt.spike_factor, d->spike_posts,
               w >= 0 ? hhmm : "(never placed)", d->spike_baseline,
               found ? "alerted" : "NOT alerted");
    }
    return found ? 0 : -1;
}

static int demo_start(demo *d, char *err, size_t err_size)
{
    static const char *const topics[] = {"posts",          "posts.enriched", "care.tickets",
                                         "posts.rejected", "brand.stats",    "care.alerts"};
    const char *rules_dir = cli_rules_dir(NULL, NULL, err, err_size);
    demo_tally_options to;

    if (!rules_dir)
        return -1;

    if (!(d->b = broker_new(1, (int)d->opt.partitions, topics, 6, err, err_size)))
        return -1;
    if (demo_config(&d->cfg, broker_bootstraps(d->b), d->opt.threads, err, err_size))
        return -1;
    d->cfg_ready = 1;
    if (!(d->rs = ruleset_load(rules_dir, err, err_size)))
        return -1;
    if (!(d->pt.p = pipeline_new(&d->cfg, d->rs, NULL, err, err_size)))
        return -1;
    if (d->opt.spike_brand) {
        for (size_t i = 0; i < ruleset_brand_count(d->rs); i++)
            if (!strcmp(ruleset_brand(d->rs, i)->id, d->opt.spike_brand))
                d->spike_brand = ruleset_brand(d->rs, i);
        if (!d->spike_brand) {
            size_t len = (size_t)snprintf(err, err_size, "--spike: no brand '%s' in %s; "
                                          "brands:", d->opt.spike_brand, rules_dir);
            for (size_t i = 0; i < ruleset_brand_count(d->rs) && len < err_size; i++)
                len += (size_t)snprintf(err + len, err_size - len, " %s",
                                        ruleset_brand(d->rs, i)->id);
            d->usage_error = 1;
            return -1;
        }
    }
    {
        watch_config wd;
        int usage_error;
        watch_config_defaults(&wd);
        watch_kafka_config wc = {
            .brokers = broker_bootstraps(d->b),
            .group = "earshot-demo.watch",
            .input = d->cfg.topic_enriched,
            .stats_topic = "brand.stats",
            .alerts_topic = "care.alerts",
            .wcfg = wd,
            .replay_ms = -1,
            .start = WATCH_KAFKA_START_EARLIEST,
            .hooks = {demo_watch_record, NULL, demo_watch_progress, d},
        };
        wc.wcfg.min_priority = (int)d->cfg.tickets_min_priority;
        if (!(d->dash = dash_new(wd.window_ms, wd.cooldown, NULL, err, err_size)))
            return -1;
        dash_set_clock(d->dash, demo_clock, d);
        atomic_init(&d->watch_through, INT64_MIN);
        if (!(d->wk = watch_kafka_new(&wc, &usage_error, err, err_size)))
            return -1;
        atomic_init(&d->watch_stop, 0);
        if (pthread_create(&d->watch_thread, NULL, demo_watch_main, d)) {
            snprintf(err, err_size, "starting the watch thread: %s", strerror(errno));
            return -1;
        }
        d->watch_started = 1;
    }

    to.brokers = broker_bootstraps(d->b);
    to.topic_enriched = d->cfg.topic_enriched;
    to.topic_tickets = d->cfg.topic_tickets;
    to.topic_rejected = d->cfg.topic_rejected;
    to.partitions = (int)d->opt.partitions;
    to.min_priority = (int)d->opt.min_priority;
    if (!(d->tally = demo_tally_new(&to, err, err_size)))
        return -1;

    atomic_init(&d->pt.stop, 0);
    if (pthread_create(&d->pipeline_thread, NULL, demo_pipeline_main, &d->pt)) {
        snprintf(err, err_size, "starting the pipeline thread: %s", strerror(errno));
        return -1;
    }
    d->pipeline_started = 1;
    d->t0 = demo_now_s();

    d->screen.brokers = broker_bootstraps(d->b);
    d->screen.partitions = (int)d->opt.partitions;
    d->screen.threads = pipeline_threads(&d->cfg);
    d->screen.rate = d->opt.rate;
    d->screen.duration = d->opt.duration;
    d->screen.color = d->tty && !getenv("NO_COLOR");
    return 0;
}

static int demo_joined(demo *d)
{
    pipeline_stats ps;
    pipeline_stats_get(d->pt.p, &ps);
    return ps.partitions > 0 || atomic_load(&demo_signals);
}

/* The firehose starts once the pipeline holds its partitions. Collectors
 * writing ahead of a consumer is normal Kafka, but the embedded broker
 * keeps only ~5 MB per partition, and a head start of a few seconds' posts
 * is a backlog it need not carry. */
static int demo_start_firehose(demo *d, char *err, size_t err_size)
{
    demo_firehose_options fo;

    if (!demo_wait(d, "joining the group", DEMO_JOIN_S, demo_joined)) {
        snprintf(err, err_size, "the pipeline was not assigned any partition of '%s' within "
                                "%.0f s", d->cfg.topic_input, DEMO_JOIN_S);
        return -1;
    }
    if (atomic_load(&demo_signals))
        return 0; /* stopped while joining: nothing to generate */
    fo.brokers = broker_bootstraps(d->b);
    fo.topic = d->cfg.topic_input;
    fo.rate = d->opt.rate;
    fo.seed = d->opt.seed;
    fo.malformed_rate = DEMO_MALFORMED_RATE;
    if (!(d->fh = demo_firehose_start(&fo, err, err_size)))
        return -1;
    d->fh_t0 = demo_now_s();
    /* Rates from here on: the join's seconds would dilute them. */
    demo_sample_now(d, &d->fh_sample);
    d->screen.now = d->fh_sample;
    d->last_block = d->fh_sample.t;
    return 0;
}

/* Stops in order, firehose first, and fills the summary. */
static void demo_stop(demo *d, demo_summary *sum)
{
    demo_firehose_stats fs;
    pipeline_stats ps;

    d->drain_change = demo_now_s();
    if (d->fh && demo_firehose_stop(d->fh, DEMO_FLUSH_MS))
        log_warn("demo: some generated posts were not acknowledged within %d ms",
                 DEMO_FLUSH_MS);
    if (!demo_wait(d, "draining", DEMO_DRAIN_S, demo_drained))
        log_warn("demo: the pipeline had not consumed every generated post; stopping anyway");
    atomic_store(&d->pt.stop, 1);
    pthread_join(d->pipeline_thread, NULL);
    d->pipeline_started = 0;
    if (!demo_wait(d, "reading back", DEMO_READ_BACK_S, demo_read_back))
        log_warn("demo: not every event produced was read back within %.0f s",
                 DEMO_READ_BACK_S);
    if (d->spike_fired && !demo_wait(d, "closing the spike's window", DEMO_READ_BACK_S,
                                     demo_spike_closed))
        log_warn("demo: the aggregator had not closed the spike's window within %.0f s",
                 DEMO_READ_BACK_S);
    demo_show(d, "stopped", 1);

    memset(&fs, 0, sizeof(fs));
    if (d->fh)
        demo_firehose_stats_get(d->fh, &fs);
    pipeline_stats_get(d->pt.p, &ps);
    const demo_tally_view *v = demo_tally_get(d->tally);
    memset(sum, 0, sizeof(*sum));
    sum->elapsed = demo_now_s() - d->t0;
    sum->generated = fs.generated;
    sum->malformed = fs.malformed;
    sum->gen_failed = fs.failed;
    sum->consumed = ps.consumed;
    sum->input_dropped = demo_tally_log_start(d->tally, d->cfg.topic_input,
                                              (int)d->opt.partitions);
    memcpy(sum->produced, ps.produced, sizeof(sum->produced));
    sum->read_back[0] = v->enriched;
    sum->read_back[1] = v->tickets;
    sum->read_back[2] = v->rejected;
    sum->pipeline_rc = d->pt.rc;
    sum->hurried = atomic_load(&demo_signals) >= 2;
    sum->view = v;
}

static void demo_free(demo *d)
{
    if (d->watch_started) {
        atomic_store(&d->watch_stop, 1);
        pthread_join(d->watch_thread, NULL);
    }
    watch_kafka_free(d->wk);
    if (d->pipeline_started) {
        atomic_store(&d->pt.stop, 1);
        pthread_join(d->pipeline_thread, NULL);
    }
    demo_firehose_free(d->fh);
    demo_tally_free(d->tally);
    pipeline_free(d->pt.p);
    ruleset_unref(d->rs);
    if (d->cfg_ready)
        config_free(&d->cfg);
    dash_free(d->dash);
    broker_free(d->b); /* last: every client above talks to it */
}

int cmd_demo(int argc, char **argv)
{
    demo d;
    demo_summary sum;
    char err[1024];
    struct sigaction sa;
    int rc;

    memset(&d, 0, sizeof(d));
    if ((rc = demo_parse(argc, argv, &d.opt)) >= 0)
        return rc;
    d.tty = isatty(STDOUT_FILENO) && !d.opt.plain;
    if (!d.tty && !d.opt.duration_set)
        d.opt.duration = DEMO_PLAIN_DURATION_S;

    /* The view is the demo's output; warnings and errors still reach
     * stderr. */
    log_set_level(LOG_LEVEL_WARN);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = demo_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atomic_store(&demo_signals, 0);

    if (demo_start(&d, err, sizeof(err))) {
        fprintf(stderr, "earshot demo: %s\n", err);
        rc = d.usage_error ? 2 : 1;
        demo_free(&d);
        return rc;
    }
    if (d.tty) {
        fputs("\033[?25l\033[2J", stdout); /* hide the cursor, clear */
        demo_show(&d, "running", 1);
    } else {
        char until[64];
        if (d.opt.duration > 0)
            snprintf(until, sizeof(until), "for %.0f s", d.opt.duration);
        else
            snprintf(until, sizeof(until), "until SIGINT or SIGTERM");
        printf("earshot demo: embedded Kafka at %s; firehose %.0f posts/s into '%s' "
               "(%zu partitions);\n"
               "  pipeline with %d worker threads; running %s\n\n",
               broker_bootstraps(d.b), d.opt.rate, d.cfg.topic_input, d.opt.partitions,
               d.screen.threads, until);
        fflush(stdout);
    }
    if (demo_start_firehose(&d, err, sizeof(err))) {
        if (d.tty)
            fputs("\033[?25h\n", stdout);
        fprintf(stderr, "earshot demo: %s\n", err);
        demo_free(&d);
        return 1;
    }

    while (!atomic_load(&demo_signals)) {
        if (d.opt.duration > 0 && demo_now_s() - d.fh_t0 >= d.opt.duration)
            break;
        demo_tally_poll(d.tally, 100);
        demo_spike_maybe(&d);
        demo_show(&d, "running", 0);
    }
    demo_stop(&d, &sum);
    if (d.tty)
        fputs("\033[?25h\n", stdout); /* the cursor back */
    rc = demo_screen_summary(stdout, &sum) ? 1 : 0;
    if (demo_care_summary(&d))
        rc = 1;
    fflush(stdout);
    demo_free(&d);
    return rc;
}
