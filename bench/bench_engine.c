/*
 * bench_engine: posts/s of the classification engine (engine_classify:
 * parse, normalise, match, enrich, serialise) on 1..N threads over one
 * in-memory corpus and one shared ruleset, beside the raw floor on the same
 * posts and the same Hyperscan database: post_parse() plus one hs_scan() of
 * the post text with a callback that does nothing. engine / floor is what
 * our own code (normalising, rule evaluation, the event) costs on top.
 *
 *   bench_engine --rules DIR [--corpus FILE.jsonl | --count N --seed S
 *                --shape v2|v1|generic|mix --mention-rate R]
 *                [--threads 1,2,4] [--seconds T] [--write-corpus FILE]
 *
 * Prints one JSON object on stdout (bench/run reads it; field names are
 * described in bench/README.md). Each measurement runs for T seconds of wall
 * time, cycling over the corpus; threads start together on a barrier and
 * each owns one engine_worker, as the Kafka workers do.
 *
 * The corpus comes from the gen module (the same generator as `earshot
 * generate`) or from a file; --write-corpus saves it so the peers (PCRE2,
 * Python, Kafka) run on the very same bytes.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hs/hs.h>

#include "bench_common.h"
#include "engine/engine.h"
#include "post/post.h"
#include "rules/rules.h"
#include "rules/rules_layout.h" /* the compiled hs_database_t, for the floor */
#ifdef BENCH_HAVE_GEN
#include "gen/gen.h"
#endif

#define BENCH_MAX_THREADS 64
/* A fixed "now" so events (respond_by) do not depend on the clock. */
#define BENCH_NOW 1714560000

typedef struct bench_opts {
    const char *rules_dir;
    const char *corpus_path;
    const char *write_corpus;
    const char *cache_dir;   /* compiled-rule cache for the cached-load figure */
    size_t count;      /* posts to generate, or the most to read from a file */
    int count_given;
    uint64_t seed;
    int shape;
    double mention_rate;
    double seconds;
    int threads[16];
    int n_threads;
} bench_opts;

typedef enum bench_mode { BENCH_ENGINE, BENCH_FLOOR, BENCH_PARSE } bench_mode;

typedef struct bench_shared {
    const bench_corpus *corpus;
    const ruleset *rs;
    bench_mode mode;
    double seconds;
    pthread_barrier_t start;
} bench_shared;

typedef struct bench_thread {
    bench_shared *sh;
    pthread_t tid;
    size_t first;      /* corpus index to start at, spreads threads apart */
    uint64_t posts;
    uint64_t events;   /* engine: ENGINE_EVENT; floor/parse: parsed */
    uint64_t hits;     /* floor: hs_scan match callbacks */
    double elapsed;
    double cpu;        /* thread CPU seconds over the same span */
    int failed;
    char err[200];
} bench_thread;

/* Counts of one single-threaded pass: what the corpus does to the rules. */
typedef struct bench_census {
    uint64_t events, rejected, errors, with_brand, with_rule;
    uint64_t by_polarity[4];
    uint64_t text_bytes;
} bench_census;

static double bench_loadavg(void)
{
    double l[1];

    return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

static int bench_floor_on_match(unsigned id, unsigned long long from,
                                unsigned long long to, unsigned flags, void *ctx)
{
    (*(uint64_t *)ctx)++;
    return 0;
}

/* One thread's timed loop. The clock is read every 256 posts: ~100 us of
 * work at the target rate, so the check costs nothing measurable. */
static void *bench_thread_run(void *arg)
{
    bench_thread *bt = arg;
    bench_shared *sh = bt->sh;
    const bench_corpus *c = sh->corpus;
    engine_worker *ew = NULL;
    post_parser *pp = NULL;
    hs_scratch_t *hss = NULL;
    engine_output out;
    post p;
    size_t i = bt->first % c->n;
    double t0, now, deadline, cpu0;

    if (sh->mode == BENCH_ENGINE) {
        if (!(ew = engine_worker_new(NULL))) {
            snprintf(bt->err, sizeof(bt->err), "engine_worker_new: out of memory");
            goto fail;
        }
    } else {
        if (!(pp = post_parser_new(NULL))) {
            snprintf(bt->err, sizeof(bt->err), "post_parser_new: out of memory");
            goto fail;
        }
        if (sh->mode == BENCH_FLOOR &&
            hs_alloc_scratch(sh->rs->db, &hss) != HS_SUCCESS) {
            snprintf(bt->err, sizeof(bt->err), "hs_alloc_scratch failed");
            goto fail;
        }
    }
    pthread_barrier_wait(&sh->start);
    t0 = bench_now();
    cpu0 = bench_thread_cpu();
    deadline = t0 + sh->seconds;
    for (;;) {
        for (int k = 0; k < 256; k++) {
            size_t len;
            const char *buf = bench_corpus_post(c, i, &len);

            if (++i == c->n)
                i = 0;
            switch (sh->mode) {
            case BENCH_ENGINE:
                if (engine_classify(ew, sh->rs, buf, len, BENCH_NOW, &out) == ENGINE_EVENT)
                    bt->events++;
                break;
            case BENCH_FLOOR:
                if (post_parse(pp, buf, len, &p, out.reason, sizeof(out.reason)) == 0) {
                    bt->events++;
                    hs_scan(sh->rs->db, p.text.ptr, (unsigned)p.text.len, 0, hss,
                            bench_floor_on_match, &bt->hits);
                }
                break;
            case BENCH_PARSE:
                if (post_parse(pp, buf, len, &p, out.reason, sizeof(out.reason)) == 0)
                    bt->events++;
                break;
            }
        }
        bt->posts += 256;
        now = bench_now();
        if (now >= deadline)
            break;
    }
    bt->elapsed = now - t0;
    bt->cpu = bench_thread_cpu() - cpu0;
    engine_worker_free(ew);
    post_parser_free(pp);
    hs_free_scratch(hss);
    return NULL;

fail:
    bt->failed = 1;
    engine_worker_free(ew);
    post_parser_free(pp);
    hs_free_scratch(hss);
    /* The others wait on the barrier: join it so they are not stuck. */
    pthread_barrier_wait(&sh->start);
    return NULL;
}

/* posts/s of mode on n threads, or -1 with err filled. */
typedef struct bench_rate {
    double wall; /* posts/s: the sum over threads of posts / wall seconds */
    double cpu;  /* posts per CPU-second, summed the same way */
} bench_rate;

static bench_rate bench_measure(const bench_corpus *c, const ruleset *rs,
                                bench_mode mode, int n, double seconds,
                                uint64_t *hits, char *err, size_t err_size)
{
    bench_shared sh = {.corpus = c, .rs = rs, .mode = mode, .seconds = seconds};
    bench_thread bt[BENCH_MAX_THREADS];
    bench_rate rate = {0, 0}, failed = {-1, -1};
    int started = 0;

    memset(bt, 0, sizeof(bt));
    if (pthread_barrier_init(&sh.start, NULL, (unsigned)n)) {
        snprintf(err, err_size, "pthread_barrier_init failed");
        return failed;
    }
    for (int t = 0; t < n; t++) {
        bt[t].sh = &sh;
        bt[t].first = (c->n / (size_t)n) * (size_t)t;
        if (t == 0)
            continue; /* this thread is thread 0 */
        if (pthread_create(&bt[t].tid, NULL, bench_thread_run, &bt[t])) {
            snprintf(err, err_size, "pthread_create failed");
            /* Threads already started wait on a barrier that can no longer
             * fill; a benchmark cannot recover from that. */
            return failed;
        }
        started++;
    }
    bench_thread_run(&bt[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(bt[t].tid, NULL);
    pthread_barrier_destroy(&sh.start);
    for (int t = 0; t < n; t++) {
        if (bt[t].failed) {
            snprintf(err, err_size, "%s", bt[t].err);
            return failed;
        }
        rate.wall += (double)bt[t].posts / bt[t].elapsed;
        rate.cpu += (double)bt[t].posts / (bt[t].cpu > 0 ? bt[t].cpu : bt[t].elapsed);
        if (hits)
            *hits += bt[t].hits;
    }
    return rate;
}

static int bench_census_run(const bench_corpus *c, const ruleset *rs,
                            bench_census *cs, char *err, size_t err_size)
{
    engine_worker *ew = engine_worker_new(NULL);
    engine_output out;

    if (!ew) {
        snprintf(err, err_size, "engine_worker_new: out of memory");
        return -1;
    }
    memset(cs, 0, sizeof(*cs));
    for (size_t i = 0; i < c->n; i++) {
        size_t len;
        const char *buf = bench_corpus_post(c, i, &len);

        switch (engine_classify(ew, rs, buf, len, BENCH_NOW, &out)) {
        case ENGINE_EVENT:
            cs->events++;
            cs->by_polarity[out.summary.polarity]++;
            if (out.summary.n_brands)
                cs->with_brand++;
            if (out.summary.polarity != POLARITY_NEUTRAL)
                cs->with_rule++;
            break;
        case ENGINE_REJECT:
            cs->rejected++;
            break;
        case ENGINE_ERROR:
            cs->errors++;
            break;
        }
    }
    engine_worker_free(ew);
    return 0;
}

static int bench_corpus_generate(bench_corpus *c, const bench_opts *o, char *err,
                                 size_t err_size)
{
#ifdef BENCH_HAVE_GEN
    gen_options go;
    gen *g;
    jbuf b;

    gen_options_default(&go);
    go.seed = o->seed;
    go.shape = (gen_shape)o->shape;
    if (o->mention_rate >= 0)
        go.mention_rate = o->mention_rate;
    if (!(g = gen_new(&go))) {
        snprintf(err, err_size, "gen_new failed (bad options or out of memory)");
        return -1;
    }
    jbuf_init(&b);
    for (size_t i = 0; i < o->count; i++) {
        jbuf_reset(&b);
        gen_next(g, &b);
        if (bench_corpus_add(c, b.data, b.len)) {
            snprintf(err, err_size, "corpus: out of memory");
            jbuf_free(&b);
            gen_free(g);
            return -1;
        }
    }
    jbuf_free(&b);
    gen_free(g);
    return 0;
#else
    snprintf(err, err_size, "this build has no gen module: pass --corpus FILE.jsonl");
    return -1;
#endif
}

static void bench_usage(void)
{
    fprintf(stderr,
            "usage: bench_engine --rules DIR [--corpus FILE.jsonl | --count N] [--seed S]\n"
            "                    [--shape v2|v1|generic|mix] [--mention-rate R]\n"
            "                    [--threads 1,2,N] [--seconds T] [--write-corpus FILE]\n"
            "                    [--rules-cache EMPTY_DIR]\n");
}

static int bench_parse_threads(bench_opts *o, const char *s)
{
    o->n_threads = 0;
    while (*s && o->n_threads < 16) {
        char *end;
        long v = strtol(s, &end, 10);

        if (end == s || v < 1 || v > BENCH_MAX_THREADS)
            return -1;
        o->threads[o->n_threads++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return o->n_threads ? 0 : -1;
}

static int bench_parse_args(bench_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"corpus", required_argument, NULL, 'c'},
        {"count", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"shape", required_argument, NULL, 'S'},
        {"mention-rate", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},
        {"seconds", required_argument, NULL, 'T'},
        {"write-corpus", required_argument, NULL, 'w'},
        {"rules-cache", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int ch;

    memset(o, 0, sizeof(*o));
    o->count = 20000;
    o->seed = 1;
    o->mention_rate = -1;
    o->seconds = 2.0;
    o->threads[o->n_threads++] = 1;
    if (ncpu > 2)
        o->threads[o->n_threads++] = 2;
    if (ncpu > 1)
        o->threads[o->n_threads++] = (int)(ncpu > BENCH_MAX_THREADS ? BENCH_MAX_THREADS : ncpu);
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': o->rules_dir = optarg; break;
        case 'c': o->corpus_path = optarg; break;
        case 'n':
            o->count = strtoul(optarg, NULL, 10);
            o->count_given = 1;
            break;
        case 's': o->seed = strtoull(optarg, NULL, 10); break;
        case 'm': o->mention_rate = atof(optarg); break;
        case 'T': o->seconds = atof(optarg); break;
        case 'w': o->write_corpus = optarg; break;
        case 'C': o->cache_dir = optarg; break;
        case 'S':
            if (!strcmp(optarg, "v2")) o->shape = 0;
            else if (!strcmp(optarg, "v1")) o->shape = 1;
            else if (!strcmp(optarg, "generic")) o->shape = 2;
            else if (!strcmp(optarg, "mix")) o->shape = 3;
            else {
                fprintf(stderr, "bench_engine: --shape must be v2, v1, generic or mix\n");
                return -1;
            }
            break;
        case 't':
            if (bench_parse_threads(o, optarg)) {
                fprintf(stderr, "bench_engine: --threads takes a list like 1,2,4 (1..%d)\n",
                        BENCH_MAX_THREADS);
                return -1;
            }
            break;
        default:
            bench_usage();
            return -1;
        }
    }
    if (!o->rules_dir || o->count == 0 || !(o->seconds > 0)) {
        bench_usage();
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_corpus corpus = {0};
    bench_census cs;
    ruleset *rs = NULL;
    rules_stats st;
    char err[512];
    double t0, load_s, cached_load_s = -1, cache_s = -1;
    rules_load_opts lo = {0};
    bool hit = false;
    char warn[256] = "";
    bench_rate eng[16], floor1, parse1;
    uint64_t floor_hits = 0;
    int rc = 1;

    if (bench_parse_args(&o, argc, argv))
        return 2;

    /* A file is read whole unless --count bounds it. */
    if (o.corpus_path ? bench_corpus_read(&corpus, o.corpus_path, o.count_given ? o.count : 0,
                                          err, sizeof(err))
                      : bench_corpus_generate(&corpus, &o, err, sizeof(err))) {
        fprintf(stderr, "bench_engine: %s\n", err);
        goto out;
    }
    if (o.write_corpus && bench_corpus_write(&corpus, o.write_corpus, err, sizeof(err))) {
        fprintf(stderr, "bench_engine: %s\n", err);
        goto out;
    }
    /* With --rules-cache (an empty directory), the first load compiles and
     * fills the cache, the second is the restart that finds it. */
    lo.cache_dir = o.cache_dir;
    lo.cache_hit = &hit;
    lo.warn = warn;
    lo.warn_size = sizeof(warn);
    t0 = bench_now();
    if (!(rs = ruleset_load_opts(o.rules_dir, &lo, err, sizeof(err)))) {
        fprintf(stderr, "bench_engine: %s\n", err);
        goto out;
    }
    load_s = bench_now() - t0;
    st = ruleset_stats(rs);
    if (o.cache_dir) {
        ruleset *again;

        if (hit)
            fprintf(stderr, "bench_engine: %s already held this ruleset: compile_s is 0; "
                            "pass an empty directory\n", o.cache_dir);
        t0 = bench_now();
        if (!(again = ruleset_load_opts(o.rules_dir, &lo, err, sizeof(err)))) {
            fprintf(stderr, "bench_engine: %s\n", err);
            goto out;
        }
        cached_load_s = bench_now() - t0;
        cache_s = ruleset_stats(again).cache_s;
        if (!hit)
            cached_load_s = -1; /* the cache did not answer: say so, not a figure */
        ruleset_unref(again);
    }

    if (bench_census_run(&corpus, rs, &cs, err, sizeof(err)))
        goto fail;
    for (int k = 0; k < o.n_threads; k++) {
        fprintf(stderr, "bench_engine: engine, %d thread(s), %.1f s\n", o.threads[k], o.seconds);
        if ((eng[k] = bench_measure(&corpus, rs, BENCH_ENGINE, o.threads[k], o.seconds,
                                    NULL, err, sizeof(err))).wall < 0)
            goto fail;
    }
    fprintf(stderr, "bench_engine: raw floor (post_parse + hs_scan), 1 thread\n");
    if ((floor1 = bench_measure(&corpus, rs, BENCH_FLOOR, 1, o.seconds, &floor_hits,
                                err, sizeof(err))).wall < 0)
        goto fail;
    fprintf(stderr, "bench_engine: post_parse alone, 1 thread\n");
    if ((parse1 = bench_measure(&corpus, rs, BENCH_PARSE, 1, o.seconds, NULL,
                                err, sizeof(err))).wall < 0)
        goto fail;

    printf("{\"rules_dir\":\"%s\",\"rules_version\":\"%s\",\"rule_count\":%zu,"
           "\"brand_count\":%zu,\"patterns\":%zu,\"compile_s\":%.3f,\"load_s\":%.3f,"
           "\"db_bytes\":%zu,",
           o.rules_dir, ruleset_version(rs), st.n_rules, st.n_brands, st.n_patterns,
           st.compile_s, load_s, st.db_bytes);
    if (cached_load_s >= 0)
        printf("\"cached_load_s\":%.3f,\"cache_s\":%.3f,\n", cached_load_s, cache_s);
    else
        printf("\"cached_load_s\":null,\n");
    printf(" \"corpus\":{\"posts\":%zu,\"avg_bytes\":%.0f,\"source\":\"%s\","
           "\"events\":%llu,\"rejected\":%llu,\"errors\":%llu,\"with_brand\":%llu,"
           "\"with_polarity\":%llu,\"complaints\":%llu,\"praise\":%llu,\"questions\":%llu},\n",
           corpus.n, (double)(corpus.len - corpus.n) / (double)corpus.n,
           o.corpus_path ? o.corpus_path : "gen",
           (unsigned long long)cs.events, (unsigned long long)cs.rejected,
           (unsigned long long)cs.errors, (unsigned long long)cs.with_brand,
           (unsigned long long)cs.with_rule,
           (unsigned long long)cs.by_polarity[POLARITY_COMPLAINT],
           (unsigned long long)cs.by_polarity[POLARITY_PRAISE],
           (unsigned long long)cs.by_polarity[POLARITY_QUESTION]);
    printf(" \"seconds_per_run\":%.2f,\"threads\":[", o.seconds);
    for (int k = 0; k < o.n_threads; k++)
        printf("%s{\"threads\":%d,\"posts_per_s\":%.0f,\"posts_per_cpu_s\":%.0f}",
               k ? "," : "", o.threads[k], eng[k].wall, eng[k].cpu);
    printf("],\n \"posts_per_s_1thread\":%.0f,\"posts_per_s_nthreads\":%.0f,\"nthreads\":%d,\n",
           eng[0].wall, eng[o.n_threads - 1].wall, o.threads[o.n_threads - 1]);
    printf(" \"raw_floor_posts_per_s\":%.0f,\"parse_posts_per_s\":%.0f,\n"
           " \"posts_per_cpu_s_1thread\":%.0f,\"raw_floor_posts_per_cpu_s\":%.0f,"
           "\"parse_posts_per_cpu_s\":%.0f,\n"
           " \"floor_hits\":%llu,\"load_avg_1m\":%.2f,\"rss_mb\":%.1f}\n",
           floor1.wall, parse1.wall, eng[0].cpu, floor1.cpu, parse1.cpu,
           (unsigned long long)floor_hits, bench_loadavg(), bench_peak_rss_mb());
    rc = 0;
    goto out;

fail:
    fprintf(stderr, "bench_engine: %s\n", err);
out:
    ruleset_unref(rs);
    bench_corpus_free(&corpus);
    return rc;
}
