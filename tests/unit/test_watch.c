/*
 * test_watch: the care aggregator on hand-made streams: exact window counts,
 * duplicates, lateness, the spike rule against steady noise, cooldown,
 * influencer alerts, several sources, and a restart that replays without
 * emitting a window twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "watch/watch.h"

#define T0 1714564800000LL /* 2024-05-01T12:00:00Z */

typedef struct sink {
    char *json[4096];
    watch_record_type type[4096];
    size_t n;
} sink;

static int sink_emit(void *opaque, const watch_record *rec)
{
    sink *s = opaque;
    assert_true(s->n < 4096);
    assert_int_equal(strlen(rec->json), rec->len);
    s->json[s->n] = strdup(rec->json);
    s->type[s->n++] = rec->type;
    return 0;
}

static void sink_free(sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->json[i]);
    free(s);
}

static size_t sink_count(const sink *s, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += strstr(s->json[i], needle) != NULL;
    return n;
}

static watch *new_watch(sink **s, const watch_config *cfg, int sources)
{
    watch_config def;
    char err[256];
    watch *w;

    if (!cfg) {
        watch_config_defaults(&def);
        cfg = &def;
    }
    *s = calloc(1, sizeof(**s));
    w = watch_new(cfg, sources, sink_emit, *s, err, sizeof(err));
    assert_non_null(w);
    return w;
}

/* One enriched event at T0 + ms. */
static watch_outcome feed_src(watch *w, int src, const char *id, const char *brand,
                              const char *polarity, int64_t ms, int64_t followers,
                              int priority, const char *labels)
{
    char buf[1024], ts[32], err[256];
    watch_result res;

    watch_format_time(T0 + ms, ts, sizeof(ts));
    snprintf(buf, sizeof(buf),
             "{\"id\":\"%s\",\"created_at\":\"%s\",\"author\":{\"handle\":\"h%s\","
             "\"followers\":%lld,\"verified\":%s},\"is_retweet\":%s,"
             "\"brands\":[%s%s%s%s%s],\"polarity\":\"%s\",\"labels\":[%s],\"priority\":%d}",
             id, ts, id, (long long)followers, followers >= 50000 ? "true" : "false",
             id[0] == 'r' ? "true" : "false", brand ? "{\"id\":\"" : "", brand ? brand : "",
             brand ? "\",\"name\":\"" : "", brand ? brand : "", brand ? "\"}" : "", polarity,
             labels ? labels : "", priority);
    assert_int_equal(watch_feed(w, src, buf, strlen(buf), 0, &res, err, sizeof(err)), 0);
    return res.outcome;
}

static watch_outcome feed(watch *w, const char *id, const char *brand, const char *polarity,
                          int64_t ms, int64_t followers, int priority, const char *labels)
{
    return feed_src(w, 0, id, brand, polarity, ms, followers, priority, labels);
}

/* A brandless event far ahead: closes every window before it. */
static void close_all(watch *w, int64_t ms)
{
    feed(w, "sentinel", NULL, "neutral", ms, 0, 0, NULL);
}

static void test_time(void **state)
{
    int64_t ms;
    char buf[32];
    (void)state;

    assert_int_equal(watch_parse_time("2024-05-01T12:00:00Z", &ms), 0);
    assert_int_equal(ms, T0);
    watch_format_time(ms + 61500, buf, sizeof(buf));
    assert_string_equal(buf, "2024-05-01T12:01:01Z");
    assert_int_equal(watch_parse_time("2024-05-01 12:00:00", &ms), -1);
    assert_int_equal(watch_parse_time(NULL, &ms), -1);
    /* Leap day, leap second, the epoch and before it. */
    assert_int_equal(watch_parse_time("2024-02-29T23:59:60Z", &ms), 0);
    assert_int_equal(ms, 1709251200000);
    assert_int_equal(watch_parse_time("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(watch_parse_time("1969-12-31T23:59:59Z", &ms), 0);
    assert_int_equal(ms, -1000);
    /* Each field out of range, a sign or a space in a field, a wrong
     * separator, a missing Z, fractional seconds: not a time. */
    static const char *const bad[] = {
        "2024-13-01T12:00:00Z", "2024-00-01T12:00:00Z", "2024-05-32T12:00:00Z",
        "2024-05-00T12:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:61Z", "2024-05-01T12:00: 5Z", "2024-05-01T12:00:+5Z",
        "+024-05-01T12:00:00Z", "2024/05/01T12:00:00Z", "2024-05-01T12:00:00+",
        "2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        ms = 42;
        assert_int_equal(watch_parse_time(bad[i], &ms), -1);
        assert_int_equal(ms, 42);
    }
}

static void test_window_counts_exact(void **state)
{
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    (void)state;

    /* window 12:00 for acme: 2 complaints (one below the ticket priority),
     * 1 question, 1 praise, 1 retweet; globex: one neutral. */
    feed(w, "1", "acme", "complaint", 1000, 100, 70, "\"billing\",\"outage\"");
    feed(w, "2", "acme", "complaint", 5000, 50000, 20, "\"billing\"");
    feed(w, "3", "acme", "question", 20000, 10, 30, "\"refund\"");
    feed(w, "r4", "acme", "praise", 59000, 0, 5, NULL);
    feed(w, "5", "globex", "neutral", 30000, 7, 0, NULL);
    /* window 12:01 for acme only */
    feed(w, "6", "acme", "praise", 61000, 3, 5, "\"thanks\"");
    assert_int_equal(s->n, 0); /* watermark 12:00:31: nothing closed yet */
    feed(w, "7", "acme", "neutral", 90000, 1, 0, NULL); /* wm 12:01:00 closes 12:00 */
    assert_int_equal(s->n, 2);
    assert_string_equal(s->json[0],
        "{\"brand\":{\"id\":\"acme\",\"name\":\"acme\"},\"window_start\":\"2024-05-01T12:00:00Z\","
        "\"window_end\":\"2024-05-01T12:01:00Z\",\"mentions\":4,\"complaints\":2,\"praise\":1,"
        "\"questions\":1,\"tickets\":2,\"reach\":50110,\"verified\":1,"
        "\"top_labels\":[[\"billing\",2],[\"outage\",1],[\"refund\",1]],\"retweet_share\":0.25}");
    assert_string_equal(s->json[1],
        "{\"brand\":{\"id\":\"globex\",\"name\":\"globex\"},\"window_start\":\"2024-05-01T12:00:00Z\","
        "\"window_end\":\"2024-05-01T12:01:00Z\",\"mentions\":1,\"complaints\":0,\"praise\":0,"
        "\"questions\":0,\"tickets\":0,\"reach\":7,\"verified\":0,\"top_labels\":[],"
        "\"retweet_share\":0.0}");
    assert_int_equal(watch_emitted_through(w), T0 + 60000);
    close_all(w, 3600000);
    assert_int_equal(s->n, 3);
    assert_non_null(strstr(s->json[2], "\"window_start\":\"2024-05-01T12:01:00Z\",\"window_end\":"
                                       "\"2024-05-01T12:02:00Z\",\"mentions\":2,"));
    assert_int_equal(s->type[0], WATCH_RECORD_STATS);
    watch_free(w);
    sink_free(s);
}

static void test_duplicates_once(void **state)
{
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    watch_stats st;
    (void)state;

    assert_int_equal(feed(w, "1", "acme", "complaint", 1000, 1, 50, NULL), WATCH_COUNTED);
    assert_int_equal(feed(w, "1", "acme", "complaint", 1000, 1, 50, NULL), WATCH_DUPLICATE);
    assert_int_equal(feed(w, "2", "acme", "complaint", 2000, 1, 50, NULL), WATCH_COUNTED);
    /* a redelivery after its window closed is still a duplicate, not late */
    close_all(w, 200000);
    assert_int_equal(feed(w, "2", "acme", "complaint", 2000, 1, 50, NULL), WATCH_DUPLICATE);
    assert_int_equal(s->n, 1);
    assert_non_null(strstr(s->json[0], "\"mentions\":2,\"complaints\":2,"));
    watch_stats_get(w, &st);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.counted, 2);
    watch_free(w);
    sink_free(s);
}

static void test_lateness(void **state)
{
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    watch_stats st;
    (void)state;

    feed(w, "1", "acme", "praise", 10000, 1, 5, NULL);
    feed(w, "2", "acme", "praise", 85000, 1, 5, NULL);   /* wm 12:00:55 */
    /* 35 s behind the newest event, its window still open: counted */
    assert_int_equal(feed(w, "3", "acme", "praise", 50000, 1, 5, NULL), WATCH_COUNTED);
    feed(w, "4", "acme", "praise", 95000, 1, 5, NULL);   /* wm 12:01:05 closes 12:00 */
    assert_int_equal(s->n, 1);
    assert_non_null(strstr(s->json[0], "\"mentions\":2,"));
    /* beyond the lateness: its window has closed */
    assert_int_equal(feed(w, "5", "acme", "praise", 59000, 1, 5, NULL), WATCH_LATE);
    close_all(w, 3600000);
    watch_stats_get(w, &st);
    assert_int_equal(st.late_dropped, 1);
    assert_int_equal(s->n, 2);
    assert_non_null(strstr(s->json[1], "\"mentions\":2,")); /* 12:01: ids 2 and 4 */
    watch_free(w);
    sink_free(s);
}

/* Knuth's Poisson sampler on a 64-bit LCG: the same noise on every run. */
static uint64_t rng_state;
static double rng_uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static int poisson(double lambda)
{
    double l = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= rng_uniform();
    } while (p > l);
    return k - 1;
}

/* Steady noise for brands with the given complaint rates for n_windows
 * windows starting at window first; returns the next free id number. */
static int noise(watch *w, const double *rates, int n_brands, int first, int n_windows,
                 int id)
{
    static const char *brands[] = {"acme", "globex", "initech", "umbrella"};
    char sid[32];

    for (int win = first; win < first + n_windows; win++) {
        for (int b = 0; b < n_brands; b++) {
            int n = poisson(rates[b]), praise = poisson(rates[b] / 2);
            for (int k = 0; k < n + praise; k++) {
                snprintf(sid, sizeof(sid), "%d", id++);
                feed(w, sid, brands[b], k < n ? "complaint" : "praise",
                     (int64_t)win * 60000 + (int64_t)(rng_uniform() * 59999), 100, 50,
                     "\"billing\"");
            }
        }
    }
    return id;
}

static void test_steady_noise_no_alerts(void **state)
{
    const double rates[] = {3.0, 8.0, 20.0, 1.0};
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    watch_stats st;
    (void)state;

    rng_state = 42;
    noise(w, rates, 4, 0, 60, 1);
    close_all(w, 61 * 60000 + 31000);
    watch_stats_get(w, &st);
    assert_int_equal(st.alerts_emitted, 0);
    assert_int_equal(st.stats_emitted, s->n);
    assert_true(st.stats_emitted >= 3 * 60); /* acme, globex, initech every window */
    watch_free(w);
    sink_free(s);
}

/* The defaults (min_count 8, factor 3, z 6) against the brands they were
 * tuned for: 1-5 complaints a minute, where min_count 5 / z 3 gave 0.2-0.4
 * false spikes per brand-hour (40-80 here). bench_watch_noise measures the
 * defaults over 2,000 brand-hours per rate (README, "The spike rule").
 * 50 simulated hours x 4 brands of pure Poisson noise: at most 2 alerts
 * (< 0.01 per brand-hour). */
static int count_emit(void *opaque, const watch_record *rec)
{
    uint64_t *n = opaque;
    n[rec->type == WATCH_RECORD_ALERT]++;
    return 0;
}

static void test_low_volume_steady_hours_no_alerts(void **state)
{
    const double rates[] = {1.0, 2.0, 3.0, 5.0};
    uint64_t n[2] = {0, 0}; /* stats, alerts */
    watch_config cfg;
    char err[256];
    watch *w;
    watch_stats st;
    (void)state;

    watch_config_defaults(&cfg);
    w = watch_new(&cfg, 1, count_emit, n, err, sizeof(err));
    assert_non_null(w);
    rng_state = 2024;
    noise(w, rates, 4, 0, 50 * 60, 1);
    close_all(w, (int64_t)(50 * 60 + 1) * 60000 + 31000);
    watch_stats_get(w, &st);
    assert_true(n[1] <= 2);
    assert_int_equal(st.alerts_emitted, n[1]);
    assert_int_equal(st.stats_emitted, n[0]);
    assert_true(n[0] >= 3 * 50 * 60); /* globex, initech, umbrella every window */
    watch_free(w);
}

/* ... while a 10x minute of the same brands is alerted in that window's
 * close, and only that brand. */
static void test_low_volume_spike_alerted(void **state)
{
    const double rates[] = {1.0, 2.0, 3.0};
    (void)state;

    for (int b = 0; b < 3; b++) {
        static const char *names[] = {"acme", "globex", "initech"};
        char sid[32], want[128];
        sink *s;
        watch *w = new_watch(&s, NULL, 1);
        int id;
        size_t before;

        rng_state = 500 + (uint64_t)b;
        id = noise(w, rates, 3, 0, 60, 1);
        for (int k = 0; k < (int)(10 * rates[b]); k++) {
            snprintf(sid, sizeof(sid), "s%d", id++);
            feed(w, sid, names[b], "complaint", 60 * 60000 + k * 1000, 10, 50, NULL);
        }
        id = noise(w, rates, 3, 60, 1, id); /* the others stay normal */
        assert_int_equal(sink_count(s, "\"type\""), 0);
        before = s->n;
        close_all(w, 61 * 60000 + 30000); /* the watermark reaches 13:01 */
        assert_true(s->n > before);
        assert_int_equal(sink_count(s, "\"type\":\"spike\""), 1);
        snprintf(want, sizeof(want),
                 "\"type\":\"spike\",\"brand\":{\"id\":\"%s\",\"name\":\"%s\"},"
                 "\"window_start\":\"2024-05-01T13:00:00Z\"", names[b], names[b]);
        assert_int_equal(sink_count(s, want), 1);
        watch_free(w);
        sink_free(s);
    }
}

static void test_spike_alerts_at_close(void **state)
{
    const double rates[] = {5.0, 8.0};
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    int id;
    char sid[32];
    size_t before;
    (void)state;

    rng_state = 7;
    id = noise(w, rates, 2, 0, 30, 1);
    /* window 30: acme complains 10x its rate */
    for (int k = 0; k < 50; k++) {
        snprintf(sid, sizeof(sid), "%d", id++);
        feed(w, sid, "acme", "complaint", 30 * 60000 + k * 1000, k == 7 ? 90000 : 100 + k, 60,
             k % 2 ? "\"outage\"" : "\"outage\",\"billing\"");
    }
    /* 12:31:29: watermark 12:30:59, the spike window is still open */
    feed(w, "next1", "globex", "praise", 31 * 60000 + 29000, 1, 5, NULL);
    assert_int_equal(sink_count(s, "\"type\""), 0);
    before = s->n;
    /* 12:31:30: watermark 12:31:00 closes it, and the alert comes with it */
    feed(w, "next2", "globex", "praise", 31 * 60000 + 30000, 1, 5, NULL);
    assert_int_equal(s->n, before + 2); /* acme's stats, then its spike */
    assert_non_null(strstr(s->json[before + 1], "\"type\":\"spike\""));
    id = noise(w, rates, 2, 31, 3, id);
    assert_int_equal(sink_count(s, "\"type\":\"spike\""), 1);
    for (size_t i = 0; i < s->n; i++) {
        if (!strstr(s->json[i], "\"type\":\"spike\""))
            continue;
        assert_non_null(strstr(s->json[i], "\"brand\":{\"id\":\"acme\",\"name\":\"acme\"},"
                                           "\"window_start\":\"2024-05-01T12:30:00Z\""));
        assert_non_null(strstr(s->json[i], "\"complaints\":50,\"baseline\":"));
        assert_non_null(strstr(s->json[i], "\"top_labels\":[[\"outage\",50],[\"billing\",25]]"));
        assert_non_null(strstr(s->json[i], "\"sample_post_ids\":[\""));
        assert_non_null(strstr(s->json[i], "\"loudest\":{\"handle\":\"h"));
        assert_non_null(strstr(s->json[i], "\"followers\":90000}"));
    }
    watch_free(w);
    sink_free(s);
}

static void test_cooldown_spike_then_updates(void **state)
{
    const double rates[] = {5.0};
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    watch_stats st;
    int id;
    char sid[32];
    (void)state;

    rng_state = 99;
    id = noise(w, rates, 1, 0, 30, 1);
    for (int win = 30; win < 55; win++) { /* 25 windows at 10x */
        for (int k = 0; k < 50; k++) {
            snprintf(sid, sizeof(sid), "%d", id++);
            feed(w, sid, "acme", "complaint", (int64_t)win * 60000 + k * 1000, 10, 50, NULL);
        }
    }
    close_all(w, 56 * 60000 + 31000);
    watch_stats_get(w, &st);
    assert_int_equal(st.spikes, 1);
    /* 10 windows on, the episode still holds (12:40: z 5.5 is under the
     * onset bar of 6, but an episode goes on while complaints stay at
     * factor x the baseline): one update. By 12:50 the winsorised baseline
     * has learned enough of the new level that 50 < 3 x baseline: the
     * episode ends quietly instead of paging every 10 minutes forever. */
    assert_int_equal(st.updates, 1);
    assert_int_equal(sink_count(s, "\"type\":\"spike\",\"brand\":{\"id\":\"acme\",\"name\":"
                                   "\"acme\"},\"window_start\":\"2024-05-01T12:30:00Z\""), 1);
    assert_int_equal(sink_count(s, "\"type\":\"update\",\"brand\":{\"id\":\"acme\",\"name\":"
                                   "\"acme\"},\"window_start\":\"2024-05-01T12:40:00Z\""), 1);
    watch_free(w);
    sink_free(s);
}

static void test_influencer_once(void **state)
{
    sink *s;
    watch *w = new_watch(&s, NULL, 1);
    watch_stats st;
    (void)state;

    feed(w, "big", "acme", "complaint", 1000, 250000, 80, "\"outage\"");
    assert_int_equal(s->n, 1); /* at once, not at the close */
    assert_string_equal(s->json[0],
        "{\"type\":\"influencer\",\"brand\":{\"id\":\"acme\",\"name\":\"acme\"},"
        "\"window_start\":\"2024-05-01T12:00:00Z\",\"window_end\":\"2024-05-01T12:01:00Z\","
        "\"post_id\":\"big\",\"author\":{\"handle\":\"hbig\",\"followers\":250000,"
        "\"verified\":true},\"priority\":80,\"labels\":[\"outage\"]}");
    assert_int_equal(s->type[0], WATCH_RECORD_ALERT);
    feed(w, "big", "acme", "complaint", 1000, 250000, 80, "\"outage\"");      /* redelivered */
    feed(w, "fan", "acme", "praise", 2000, 900000, 10, NULL);                 /* not a complaint */
    feed(w, "small", "acme", "complaint", 3000, 99999, 10, NULL);             /* below */
    watch_stats_get(w, &st);
    assert_int_equal(st.influencers, 1);
    assert_int_equal(s->n, 1);
    watch_free(w);
    sink_free(s);
}

static void test_sources_hold_the_watermark(void **state)
{
    sink *s;
    watch *w = new_watch(&s, NULL, 2);
    char err[256];
    (void)state;

    /* source 0 races 10 minutes ahead (a replay reading one partition
     * first); source 1's events are not late while it is active */
    feed_src(w, 0, "a1", "acme", "praise", 10000, 1, 5, NULL);
    feed_src(w, 0, "a2", "acme", "praise", 600000, 1, 5, NULL);
    assert_int_equal(s->n, 0);
    assert_int_equal(feed_src(w, 1, "g1", "globex", "praise", 20000, 1, 5, NULL), WATCH_COUNTED);
    assert_int_equal(feed_src(w, 1, "g2", "globex", "praise", 130000, 1, 5, NULL), WATCH_COUNTED);
    assert_int_equal(s->n, 2); /* wm 12:01:40: the 12:00 windows of both */
    /* source 1 caught up: source 0 alone moves the watermark */
    assert_int_equal(watch_source_idle(w, 1, 1, err, sizeof(err)), 0);
    assert_int_equal(watch_emitted_through(w), T0 + 540000);
    assert_int_equal(s->n, 3);
    watch_free(w);
    sink_free(s);
}

/* A restart replays the input: windows already emitted stay quiet, later
 * ones come out exactly as an uninterrupted run emits them, baseline
 * included (the spike needs the replayed history past the warm-up). */
static void test_restart_replay(void **state)
{
    const double rates[] = {5.0, 8.0};
    sink *a, *b;
    watch *wa = new_watch(&a, NULL, 1), *wb = new_watch(&b, NULL, 1);
    int64_t cut = T0 + 20 * 60000;
    size_t first_after = 0;
    char sid[32];
    int id;
    (void)state;

    for (int run = 0; run < 2; run++) {
        watch *w = run ? wb : wa;
        rng_state = 5;
        if (run)
            watch_set_emitted_through(w, cut);
        id = noise(w, rates, 2, 0, 25, 1);
        for (int k = 0; k < 40; k++) {
            snprintf(sid, sizeof(sid), "s%d", k);
            feed(w, sid, "acme", "complaint", 25 * 60000 + k * 1000, 10, 50, NULL);
        }
        id = noise(w, rates, 2, 26, 4, id);
        close_all(w, 31 * 60000);
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strstr(a->json[i], "\"window_start\":\"2024-05-01T12:20:00Z\"")) {
            first_after = i;
            break;
        }
    }
    assert_true(first_after > 0);
    assert_int_equal(b->n, a->n - first_after);
    for (size_t i = 0; i < b->n; i++)
        assert_string_equal(b->json[i], a->json[first_after + i]);
    assert_int_equal(sink_count(b, "\"type\":\"spike\""), 1);
    watch_free(wa);
    watch_free(wb);
    sink_free(a);
    sink_free(b);
}

static void test_config_checked(void **state)
{
    watch_config cfg;
    char err[256];
    (void)state;

    watch_config_defaults(&cfg);
    assert_int_equal(watch_config_check(&cfg, err, sizeof(err)), 0);
    cfg.window_ms = 10;
    assert_int_equal(watch_config_check(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "window"));
    assert_null(watch_new(&cfg, 1, sink_emit, NULL, err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_window_counts_exact),
        cmocka_unit_test(test_duplicates_once),
        cmocka_unit_test(test_lateness),
        cmocka_unit_test(test_steady_noise_no_alerts),
        cmocka_unit_test(test_low_volume_steady_hours_no_alerts),
        cmocka_unit_test(test_low_volume_spike_alerted),
        cmocka_unit_test(test_spike_alerts_at_close),
        cmocka_unit_test(test_cooldown_spike_then_updates),
        cmocka_unit_test(test_influencer_once),
        cmocka_unit_test(test_sources_hold_the_watermark),
        cmocka_unit_test(test_restart_replay),
        cmocka_unit_test(test_config_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
