/*
 * bench_text: cost of text_utf8_valid, text_normalize and text_shouting per
 * post, against the 0.5 us per-post budget for normalisation (DESIGN.md).
 *
 * Built by hand against the static library (not part of bench/CMakeLists):
 *   cmake --build build --target earshot_text
 *   cc -O2 -std=c11 -Isrc bench/bench_text.c build/libearshot_text.a \
 *      -lutf8proc -o /tmp/bench_text && /tmp/bench_text
 *
 * Texts are ~300 bytes: plain English ASCII, English with emoji and smart
 * punctuation, and Arabic. Each figure is the best of 15 timed rounds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/text.h"

/* Thread CPU time, not wall time: the machine is shared, and time spent
 * preempted is not this code's cost. Cache and SMT contention still show,
 * so take the best of several rounds. */
static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keeps the compiler from discarding results. */
static volatile size_t bench_sink;

enum { BENCH_ITERS = 100000, BENCH_ROUNDS = 15 };

static void bench_one(const char *name, const char *s) {
    size_t len = strlen(s);
    text_norm *tn = text_norm_new();
    double best_v = 1e9, best_n = 1e9, best_s = 1e9;
    const char *out = NULL;
    size_t out_len = 0;

    if (!tn || text_normalize(tn, s, len, &out, &out_len) != 0) {
        fprintf(stderr, "%s: normalize failed\n", name);
        exit(1);
    }
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        double t0 = bench_now();
        for (int i = 0; i < BENCH_ITERS; i++)
            bench_sink += text_utf8_valid(s, len);
        double t1 = bench_now();
        for (int i = 0; i < BENCH_ITERS; i++) {
            text_normalize(tn, s, len, &out, &out_len);
            bench_sink += out_len;
        }
        double t2 = bench_now();
        for (int i = 0; i < BENCH_ITERS; i++)
            bench_sink += text_shouting(s, len).max_bang_run;
        double t3 = bench_now();
        if (t1 - t0 < best_v)
            best_v = t1 - t0;
        if (t2 - t1 < best_n)
            best_n = t2 - t1;
        if (t3 - t2 < best_s)
            best_s = t3 - t2;
    }
    printf("%-8s %4zu B -> %4zu B   valid %6.1f ns   normalize %6.1f ns "
           "(%.2f ns/B)   shouting %6.1f ns\n",
           name, len, out_len, best_v * 1e9 / BENCH_ITERS,
           best_n * 1e9 / BENCH_ITERS, best_n * 1e9 / BENCH_ITERS / (double)len,
           best_s * 1e9 / BENCH_ITERS);
    text_norm_free(tn);
}

int main(void) {
    static const char ascii[] =
        "@ComcastCares I have been on hold for an hour and 20 minutes now, "
        "third time this week. Internet keeps dropping every evening around "
        "7pm and the automated phone system just hangs up on me. Worst "
        "customer service EVER. Wasted 2 1/2 hours of my life today. If this "
        "is not fixed by Friday I am cancelling!!! #fail #comcast";
    static const char emoji[] =
        "@ComcastCares I\xE2\x80\x99ve been on hold for an hour \xF0\x9F\x98\xA1"
        "\xF0\x9F\x98\xA1 third time this week\xE2\x80\xA6 internet keeps "
        "dropping every evening \xF0\x9F\x93\x89 and the automated phone system "
        "hangs up on me \xF0\x9F\x98\xA4 Worst customer service EVER "
        "\xF0\x9F\x91\x8E\xF0\x9F\x8F\xBB wasted 2\xC2\xBD hours \xE2\x80\x94 "
        "cancelling if not fixed by Friday!!! \xE2\x9D\xA4\xEF\xB8\x8F "
        "caf\xC3\xA9 #fail";
    static const char arabic[] =
        "\xD8\xAE\xD8\xAF\xD9\x85\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xB9\xD9\x85\xD9"
        "\x84\xD8\xA7\xD8\xA1 \xD8\xB3\xD9\x8A\xD8\xA6\xD8\xA9 \xD8\xAC\xD8\xAF"
        "\xD8\xA7 \xD9\x88\xD8\xA7\xD9\x84\xD8\xA7\xD9\x86\xD8\xAA\xD8\xB8\xD8"
        "\xA7\xD8\xB1 \xD8\xB3\xD8\xA7\xD8\xB9\xD8\xA9 \xD9\x83\xD8\xA7\xD9\x85"
        "\xD9\x84\xD8\xA9 \xD8\xB9\xD9\x84\xD9\x89 \xD8\xA7\xD9\x84\xD9\x87\xD8"
        "\xA7\xD8\xAA\xD9\x81 \xD9\x88\xD9\x84\xD8\xA7 \xD8\xA3\xD8\xAD\xD8\xAF "
        "\xD9\x8A\xD8\xB1\xD8\xAF @ComcastCares \xD8\xA7\xD9\x84\xD8\xA7\xD9\x86"
        "\xD8\xAA\xD8\xB1\xD9\x86\xD8\xAA \xD9\x85\xD9\x82\xD8\xB7\xD9\x88\xD8"
        "\xB9 \xD9\x85\xD9\x86\xD8\xB0 \xD8\xA7\xD9\x84\xD8\xB5\xD8\xA8\xD8\xA7"
        "\xD8\xAD \xD8\xB3\xD8\xA3\xD9\x84\xD8\xBA\xD9\x8A \xD8\xA7\xD9\x84\xD8"
        "\xA7\xD8\xB4\xD8\xAA\xD8\xB1\xD8\xA7\xD9\x83 #fail";

    bench_one("ascii", ascii);
    bench_one("emoji", emoji);
    bench_one("arabic", arabic);
    return bench_sink == 42 ? 1 : 0;
}
