/*
 * bench_watch_noise: what the spike rule does with noise and with spikes,
 * measured on simulated traffic through the real aggregator (src/watch),
 * no broker. Issue 10's targets: "a spike of 10x one brand's complaint
 * rate for one minute: alerted in that window's record; zero alerts for
 * brands that stayed within their normal noise".
 *
 * For each complaint rate (per brand, per minute) two runs of the same
 * brands and hours, from the same seed:
 *   quiet  - complaints arrive as a Poisson process whose rate follows a
 *            daily cycle (rate x (1 + A sin(2 pi t / 24 h)), --diurnal A)
 *            and, with --dispersion D > 0, varies from minute to minute
 *            (x Gamma, mean 1, variance D: bursty, negative binomial
 *            counts, as real mentions are): every spike alert is false;
 *   spiked - the same, plus one minute per brand and --spike-every hours
 *            at FACTOR x the rate (--spike-factor, default 10): a spike is
 *            detected when an alert of that brand names that window.
 * Each event is a real enriched-event JSON fed to watch_feed in event-time
 * order (times uniform within their minute), so parsing, windows, the
 * baseline and the rule all run as in `earshot watch`.
 *
 * Prints one JSON object: per rate, brand-hours, false spike alerts (and per
 * brand-hour), spikes injected and detected. Deterministic for a seed.
 *
 * usage: bench_watch_noise [--rates 0.5,1,2,3,5,10,20] [--brands N]
 *            [--hours H] [--seed S] [--diurnal A] [--dispersion D] [--spike-factor F]
 *            [--spike-every H] [--min-count N] [--factor X] [--z X]
 *            [--cooldown N] [--warmup N]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch/watch.h"

#define T0 1714521600000LL /* 2024-05-01T00:00:00Z */
#define MINUTE_MS 60000LL
#define MAX_BRANDS 1000
#define MAX_RATES 32

/* splitmix64: small, seedable, good enough for traffic. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* Poisson(lambda) by multiplication, in chunks of at most 30 so that
 * exp(-lambda) never underflows. */
static unsigned rng_poisson(double lambda)
{
    unsigned n = 0;
    while (lambda > 0) {
        double l = lambda > 30 ? 30 : lambda, limit = exp(-l), p = rng_unit();
        lambda -= l;
        while (p > limit) {
            n++;
            p *= rng_unit();
        }
    }
    return n;
}

static double rng_normal(void)
{
    double u = rng_unit(), v = rng_unit();
    return sqrt(-2.0 * log(1.0 - u)) * cos(2 * M_PI * v);
}

/* Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 boosted by U^(1/shape)). */
static double rng_gamma(double shape)
{
    if (shape < 1.0)
        return rng_gamma(shape + 1.0) * pow(1.0 - rng_unit(), 1.0 / shape);
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = rng_normal(), v = 1.0 + c * x, u;
        if (v <= 0)
            continue;
        v = v * v * v;
        u = rng_unit();
        if (log(1.0 - u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

typedef struct event {
    int64_t ms;
    int brand;
} event;

static int event_cmp(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->brand - y->brand;
}

typedef struct tally {
    int n_brands;
    int64_t *spike_window; /* per brand: the window of the spike being waited on, or -1 */
    uint64_t false_alerts, detected, alerts;
} tally;

/* An alert is {"type":"spike"|"update",...}; a spike alert for a brand in
 * the window its spike was injected detects it, any other is false. */
static int on_record(void *opaque, const watch_record *rec)
{
    tally *t = opaque;
    int brand;

    if (rec->type != WATCH_RECORD_ALERT || !strstr(rec->json, "\"type\":\"spike\""))
        return 0;
    t->alerts++;
    brand = atoi(rec->brand_id + 1); /* "b<N>" */
    if (brand >= 0 && brand < t->n_brands && t->spike_window[brand] == rec->window_start_ms) {
        t->detected++;
        t->spike_window[brand] = -1;
    } else {
        t->false_alerts++;
    }
    return 0;
}

typedef struct options {
    double rates[MAX_RATES];
    int n_rates, brands, hours;
    uint64_t seed;
    double diurnal, spike_factor, dispersion;
    int spike_every; /* hours */
    watch_config wcfg;
} options;

typedef struct result {
    uint64_t false_alerts, injected, detected, missed_false, events;
} result;

/* One simulated run; spiked: inject one spike minute per brand every
 * spike_every hours (after the first hour, at a random minute). */
static int simulate(const options *o, double rate, int spiked, result *out)
{
    tally t = {.n_brands = o->brands};
    char err[256], buf[512], ts[32];
    int64_t minutes = (int64_t)o->hours * 60;
    int64_t *spike_at = calloc((size_t)o->brands, sizeof(*spike_at));
    event *ev = NULL;
    size_t cap = 0;
    uint64_t id = 0;
    watch *w;

    t.spike_window = calloc((size_t)o->brands, sizeof(*t.spike_window));
    if (!spike_at || !t.spike_window)
        return -1;
    for (int b = 0; b < o->brands; b++)
        t.spike_window[b] = -1;
    w = watch_new(&o->wcfg, 1, on_record, &t, err, sizeof(err));
    if (!w) {
        fprintf(stderr, "bench_watch_noise: %s\n", err);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    for (int64_t m = 0; m < minutes; m++) {
        int64_t start = T0 + m * MINUTE_MS;
        double cycle = 1.0 + o->diurnal * sin(2 * M_PI * (double)m / (24 * 60));
        size_t n = 0;

        if (spiked && m % ((int64_t)o->spike_every * 60) == 60) {
            /* the next spike of each brand: a random minute in the coming
             * spike_every hours, away from the block's edges */
            for (int b = 0; b < o->brands; b++)
                spike_at[b] = m + 10 + (int64_t)(rng_unit() * (o->spike_every * 60 - 20));
        }
        for (int b = 0; b < o->brands; b++) {
            double lambda = rate * cycle;
            /* overdispersed traffic: the minute's rate itself varies,
             * Gamma with mean 1 and variance D (negative binomial counts) */
            if (o->dispersion > 0)
                lambda *= rng_gamma(1.0 / o->dispersion) * o->dispersion;
            unsigned k;
            if (spiked && m == spike_at[b] && m >= 60) {
                lambda *= o->spike_factor;
                t.spike_window[b] = start;
                out->injected++;
            }
            k = rng_poisson(lambda);
            if (n + k > cap) {
                size_t nc = (n + k) * 2 + 64;
                event *e = realloc(ev, nc * sizeof(*e));
                if (!e)
                    return -1;
                ev = e;
                cap = nc;
            }
            for (unsigned i = 0; i < k; i++)
                ev[n++] = (event){start + (int64_t)(rng_unit() * MINUTE_MS), b};
        }
        qsort(ev, n, sizeof(*ev), event_cmp);
        for (size_t i = 0; i < n; i++) {
            watch_result res;
            int len;
            watch_format_time(ev[i].ms, ts, sizeof(ts));
            len = snprintf(buf, sizeof(buf),
                           "{\"id\":\"p%llu\",\"created_at\":\"%s\",\"author\":{\"handle\":\"u%llu\","
                           "\"followers\":120,\"verified\":false},\"is_retweet\":false,"
                           "\"brands\":[{\"id\":\"b%d\",\"name\":\"Brand %d\"}],"
                           "\"polarity\":\"complaint\",\"labels\":[\"service\"],\"priority\":40}",
                           (unsigned long long)id, ts, (unsigned long long)id, ev[i].brand,
                           ev[i].brand);
            id++;
            if (watch_feed(w, 0, buf, (size_t)len, ev[i].ms, &res, err, sizeof(err))) {
                fprintf(stderr, "bench_watch_noise: %s\n", err);
                return -1;
            }
        }
        out->events += n;
    }
    /* a brandless event past the end closes every window */
    {
        watch_result res;
        int len;
        watch_format_time(T0 + (minutes + 5) * MINUTE_MS, ts, sizeof(ts));
        len = snprintf(buf, sizeof(buf),
                       "{\"id\":\"end\",\"created_at\":\"%s\",\"brands\":[],\"polarity\":\"neutral\"}",
                       ts);
        if (watch_feed(w, 0, buf, (size_t)len, 0, &res, err, sizeof(err)))
            return -1;
    }
    out->false_alerts = t.false_alerts;
    out->detected = t.detected;
    watch_free(w);
    free(ev);
    free(spike_at);
    free(t.spike_window);
    return 0;
}

static int parse_rates(const char *s, options *o)
{
    char *end;
    o->n_rates = 0;
    while (*s && o->n_rates < MAX_RATES) {
        double r = strtod(s, &end);
        if (end == s || r <= 0)
            return -1;
        o->rates[o->n_rates++] = r;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return o->n_rates ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_watch_noise [--rates 0.5,1,2,3,5,10,20] [--brands N] [--hours H]\n"
            "           [--seed S] [--diurnal A] [--dispersion D] [--spike-factor F] [--spike-every H]\n"
            "           [--min-count N] [--factor X] [--z X] [--cooldown N] [--warmup N]\n");
}

int main(int argc, char **argv)
{
    options o = {.brands = 20, .hours = 50, .seed = 1, .diurnal = 0.5,
                 .spike_factor = 10, .spike_every = 2};
    char err[256];

    watch_config_defaults(&o.wcfg);
    parse_rates("0.5,1,2,3,5,10,20", &o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--rates")) {
            if (parse_rates(v, &o)) {
                fprintf(stderr, "bench_watch_noise: --rates wants positive numbers, e.g. 1,2,5\n");
                return 2;
            }
        } else if (!strcmp(a, "--brands")) {
            o.brands = atoi(v);
        } else if (!strcmp(a, "--hours")) {
            o.hours = atoi(v);
        } else if (!strcmp(a, "--seed")) {
            o.seed = strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--diurnal")) {
            o.diurnal = atof(v);
        } else if (!strcmp(a, "--dispersion")) {
            o.dispersion = atof(v);
        } else if (!strcmp(a, "--spike-factor")) {
            o.spike_factor = atof(v);
        } else if (!strcmp(a, "--spike-every")) {
            o.spike_every = atoi(v);
        } else if (!strcmp(a, "--min-count")) {
            o.wcfg.min_count = atoi(v);
        } else if (!strcmp(a, "--factor")) {
            o.wcfg.factor = atof(v);
        } else if (!strcmp(a, "--z")) {
            o.wcfg.z_min = atof(v);
        } else if (!strcmp(a, "--cooldown")) {
            o.wcfg.cooldown = atoi(v);
        } else if (!strcmp(a, "--warmup")) {
            o.wcfg.warmup = atoi(v);
        } else {
            usage();
            return 2;
        }
    }
    if (o.brands < 1 || o.brands > MAX_BRANDS || o.hours < 2 || o.spike_every < 1 ||
        o.diurnal < 0 || o.diurnal >= 1 || o.spike_factor <= 1 || o.dispersion < 0) {
        fprintf(stderr, "bench_watch_noise: --brands 1..%d, --hours >= 2, --spike-every >= 1, "
                        "--diurnal 0..<1, --spike-factor > 1, --dispersion >= 0\n", MAX_BRANDS);
        return 2;
    }
    if (watch_config_check(&o.wcfg, err, sizeof(err))) {
        fprintf(stderr, "bench_watch_noise: %s\n", err);
        return 2;
    }

    printf("{\"brands\":%d,\"hours\":%d,\"seed\":%llu,\"diurnal\":%g,\"dispersion\":%g,"
           "\"spike_factor\":%g,"
           "\"spike_every_h\":%d,\"min_count\":%d,\"factor\":%g,\"z\":%g,\"cooldown\":%d,"
           "\"warmup\":%d,\"by_rate\":[",
           o.brands, o.hours, (unsigned long long)o.seed, o.diurnal, o.dispersion, o.spike_factor,
           o.spike_every, o.wcfg.min_count, o.wcfg.factor, o.wcfg.z_min, o.wcfg.cooldown,
           o.wcfg.warmup);
    for (int r = 0; r < o.n_rates; r++) {
        result quiet, spiked;
        double brand_hours = (double)o.brands * o.hours;
        rng_state = o.seed * 1000003u + (uint64_t)r;
        if (simulate(&o, o.rates[r], 0, &quiet))
            return 1;
        rng_state = o.seed * 1000003u + (uint64_t)r;
        if (simulate(&o, o.rates[r], 1, &spiked))
            return 1;
        printf("%s{\"complaints_per_min\":%g,\"brand_hours\":%.0f,\"false_spikes\":%llu,"
               "\"false_per_brand_hour\":%.5f,\"spikes_injected\":%llu,\"spikes_detected\":%llu,"
               "\"false_spikes_in_spiked_run\":%llu,\"events\":%llu}",
               r ? "," : "", o.rates[r], brand_hours, (unsigned long long)quiet.false_alerts,
               (double)quiet.false_alerts / brand_hours, (unsigned long long)spiked.injected,
               (unsigned long long)spiked.detected, (unsigned long long)spiked.false_alerts,
               (unsigned long long)(quiet.events + spiked.events));
        fflush(stdout);
    }
    printf("]}\n");
    return 0;
}
