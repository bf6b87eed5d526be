/*
 * bench_common: what the C benchmarks share: a monotonic clock, a corpus of
 * posts held in memory (one buffer, one offset per post) read from a
 * JSON-lines file, and peak RSS.
 *
 * Everything is static inline so each benchmark stays one translation unit
 * with no library of its own. Not thread-safe to build; a built corpus is
 * read-only and shared by every benchmark thread.
 */
#ifndef EARSHOT_BENCH_COMMON_H
#define EARSHOT_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the calling thread: on a shared machine, posts per CPU-second
 * is what one core does when the scheduler lets it, wall time is what the
 * machine delivered. The benchmarks report both. */
static inline double bench_thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set of this process so far, in MB (ru_maxrss is in kB). */
static inline double bench_peak_rss_mb(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru))
        return -1.0;
    return (double)ru.ru_maxrss / 1024.0;
}

typedef struct bench_corpus {
    char *data;      /* all posts back to back, each followed by '\n' */
    size_t len, cap;
    size_t *off;     /* n + 1 offsets: post i is data[off[i] .. off[i+1]-1) */
    size_t n, cap_off;
} bench_corpus;

static inline void bench_corpus_free(bench_corpus *c)
{
    free(c->data);
    free(c->off);
    memset(c, 0, sizeof(*c));
}

static inline const char *bench_corpus_post(const bench_corpus *c, size_t i,
                                            size_t *len)
{
    *len = c->off[i + 1] - c->off[i] - 1; /* without the '\n' */
    return c->data + c->off[i];
}

/* Append one post (its bytes, without a newline). 0, or -1 when out of memory. */
static inline int bench_corpus_add(bench_corpus *c, const char *s, size_t len)
{
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 1 << 20;
        char *p;

        while (cap < c->len + len + 1)
            cap *= 2;
        if (!(p = realloc(c->data, cap)))
            return -1;
        c->data = p;
        c->cap = cap;
    }
    if (c->n + 2 > c->cap_off) {
        size_t cap = c->cap_off ? c->cap_off * 2 : 4096;
        size_t *p = realloc(c->off, cap * sizeof(*p));

        if (!p)
            return -1;
        c->off = p;
        c->cap_off = cap;
    }
    if (c->n == 0)
        c->off[0] = 0;
    memcpy(c->data + c->len, s, len);
    c->len += len;
    c->data[c->len++] = '\n';
    c->off[++c->n] = c->len;
    return 0;
}

/* Read a JSON-lines file (empty lines skipped, CRLF tolerated); at most max
 * posts when max > 0. 0, or -1 with err filled. */
static inline int bench_corpus_read(bench_corpus *c, const char *path,
                                    size_t max, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0 && (max == 0 || c->n < max)) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        if (bench_corpus_add(c, line, (size_t)n)) {
            snprintf(err, err_size, "%s: out of memory", path);
            free(line);
            fclose(f);
            return -1;
        }
    }
    free(line);
    fclose(f);
    if (c->n == 0) {
        snprintf(err, err_size, "%s: no posts in the file", path);
        return -1;
    }
    return 0;
}

static inline int bench_corpus_write(const bench_corpus *c, const char *path,
                                     char *err, size_t err_size)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(c->data, 1, c->len, f) != c->len || fclose(f)) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

#endif
