/*
 * bench_post: posts/s of post_parse() on one core, for the 750-byte Twitter
 * v2 post the design budget is written against, plus the cost of the
 * padded-buffer copy post_parse() makes (a 750-byte memcpy) to judge it.
 *
 * Build (not in CMake; the lead owns bench/CMakeLists.txt):
 *   cmake --build build-post --target earshot_post
 *   gcc -O2 -Isrc bench/bench_post.c build-post/libearshot_post.a \
 *       $(pkg-config --libs simdjson) -lstdc++ -o build-post/bench_post
 *   build-post/bench_post [iterations] [file.jsonl]
 * With a file, every line is parsed in turn (rejections counted).
 */
#include "post/post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 750 bytes: a filtered-stream v2 tweet with the expansions earshot asks for. */
static const char bench_post_v2[] =
    "{\"data\":{\"lang\":"
    "\"en\",\"created_at\":"
    "\"2024-05-01T12:34:56.000Z\",\"id\":\"1785312345678901234\",\"author_id\":"
    "\"2244994945\",\"text\":\"@comcastcares on hold for an hour and still no "
    "internet. worst automated customer service ever!!!!!!!! \\u00e9\","
    "\"entities\":{\"mentions\":[{\"start\":0,\"end\":13,\"username\":"
    "\"comcastcares\",\"id\":\"14200745\"}]},\"public_metrics\":{"
    "\"retweet_count\":3,\"reply_count\":1,\"like_count\":12}},"
    "\"includes\":{\"users\":[{\"id\":\"14200745\",\"name\":\"Comcast Cares\","
    "\"username\":\"comcastcares\",\"verified\":true,\"public_metrics\":{"
    "\"followers_count\":215000,\"following_count\":1000}},{\"id\":"
    "\"2244994945\",\"name\":\"Dana K\",\"username\":\"dana_k_dev\",\"verified\""
    ":false,\"public_metrics\":{\"followers_count\":1337}}]}"
    ",\"matching_rules\":[{\"id\":\"1785000000000000001\","
    "\"tag\":\"comcast\"}]}";

static double bench_clock(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall time is what a user sees; thread CPU time is what to compare on a
 * shared machine, where the bench may be descheduled half of the time. */
static double bench_now(void) { return bench_clock(CLOCK_MONOTONIC); }
static double bench_cpu(void) { return bench_clock(CLOCK_THREAD_CPUTIME_ID); }

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    const char *bufs[4096];
    size_t lens[4096];
    size_t nbufs = 0, total = 0;
    char *file_data = NULL;

    if (argc > 2) {
        FILE *f = fopen(argv[2], "rb");
        if (!f) {
            perror(argv[2]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        file_data = malloc((size_t)sz + 1);
        if (!file_data || fread(file_data, 1, (size_t)sz, f) != (size_t)sz) {
            fprintf(stderr, "%s: read failed\n", argv[2]);
            return 1;
        }
        fclose(f);
        char *p = file_data, *end = file_data + sz;
        while (p < end && nbufs < 4096) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            bufs[nbufs] = p;
            lens[nbufs++] = n;
            total += n;
            p += n + 1;
        }
    } else {
        bufs[0] = bench_post_v2;
        lens[0] = sizeof(bench_post_v2) - 1;
        total = lens[0];
        nbufs = 1;
    }

    post_parser *pp = post_parser_new(NULL);
    post p;
    char err[256];
    long rejected = 0;
    unsigned long long sink = 0;
    /* warm-up: grows buffers, faults pages */
    for (size_t i = 0; i < nbufs; i++)
        post_parse(pp, bufs[i], lens[i], &p, err, sizeof err);

    double t0 = bench_now(), c0 = bench_cpu();
    for (long i = 0; i < iters; i++) {
        size_t k = (size_t)i % nbufs;
        if (post_parse(pp, bufs[k], lens[k], &p, err, sizeof err) != 0)
            rejected++;
        else
            sink += p.text.len + (unsigned long long)p.followers;
    }
    double dt = bench_now() - t0, ct = bench_cpu() - c0;
    printf("post_parse: %ld posts (avg %zu B), rejected %ld (sink %llu)\n"
           "  wall %.3f s: %.0f posts/s, %.1f ns/post\n"
           "  cpu  %.3f s: %.0f posts/s per core, %.1f ns/post, %.0f MB/s\n",
           iters, total / nbufs, rejected, sink, dt, (double)iters / dt,
           dt * 1e9 / (double)iters, ct, (double)iters / ct, ct * 1e9 / (double)iters,
           (double)iters * (double)total / (double)nbufs / ct / 1e6);

    /* the copy post_parse makes: same size, same pattern */
    static char dst[65536 + 64];
    volatile size_t vlen = lens[0];
    c0 = bench_cpu();
    for (long i = 0; i < iters; i++) {
        memcpy(dst, bufs[0], vlen);
        memset(dst + vlen, 0, 64);
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    ct = bench_cpu() - c0;
    printf("padded copy of %zu B (cpu): %.1f ns/post\n", lens[0], ct * 1e9 / (double)iters);

    post_parser_free(pp);
    free(file_data);
    return 0;
}
