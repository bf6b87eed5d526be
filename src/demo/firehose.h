/*
 * firehose: the demo's stand-in for upstream collectors. One thread draws
 * posts from the generator (src/gen) and produces them to the input topic
 * with its own librdkafka producer, at a steady rate.
 *
 * Rate: a token bucket refilled every few milliseconds, so the posts arrive
 * spread over each second rather than in one burst per second; the mock
 * cluster keeps only ~5 MB per partition and is not throughput-grade
 * (src/pipeline/broker.h), so the demo stays well below what it can take.
 *
 * Counting: a post counts as generated once the broker acknowledged it (a
 * delivery report without error), so "generated" is what the pipeline can
 * be expected to consume, and the demo's final check compares like with
 * like. Posts the generator meant to be malformed are counted apart.
 *
 * Clock: the generator dates posts on a clock of its own that moves ~100 ms
 * per post whatever the rate (at 2,000 posts/s, 200 s a second); the newest
 * created_at generated is the demo's clock.
 *
 * Thread-safety: demo_firehose_start/stop from one thread;
 * demo_firehose_stats and demo_firehose_inject from any thread. Cost: ~1 us of generation plus one
 * produce per post, on the firehose's own thread.
 */
#ifndef EARSHOT_DEMO_FIREHOSE_H
#define EARSHOT_DEMO_FIREHOSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct demo_firehose demo_firehose;

typedef struct demo_firehose_options {
    const char *brokers;      /* bootstrap servers */
    const char *topic;        /* input topic */
    double rate;              /* posts per second, > 0 */
    uint64_t seed;            /* generator seed */
    double malformed_rate;    /* share of lines the pipeline must reject */
} demo_firehose_options;

typedef struct demo_firehose_stats {
    uint64_t generated;   /* acknowledged by the broker */
    uint64_t malformed;   /* of those, lines generated to be malformed */
    uint64_t failed;      /* delivery failed (not in generated) */
    uint64_t queued;      /* handed to librdkafka, acknowledged or not */
    uint64_t injected;    /* of generated, posts of an injected spike */
    int64_t event_ms;     /* the newest created_at generated (the demo's clock); -1 */
} demo_firehose_stats;

/* Creates the producer and starts the thread. NULL + err on failure. */
demo_firehose *demo_firehose_start(const demo_firehose_options *opt, char *err,
                                   size_t err_size);

/* Stops generating, then waits up to timeout_ms for every post already
 * produced to be acknowledged. Returns 0 when all were, -1 otherwise. The
 * counters stay readable until demo_firehose_free. */
int demo_firehose_stop(demo_firehose *f, int timeout_ms);

void demo_firehose_stats_get(demo_firehose *f, demo_firehose_stats *st);

/* A spike: n extra posts with this text (a complaint about one brand), dated
 * evenly across the next whole window of event time (window_ms, aligned to
 * the epoch, starting after the newest post generated), produced as the
 * generator's clock crosses each one's time. Replaces a spike not yet
 * done. Any thread. 0, or -1 out of memory. */
int demo_firehose_inject(demo_firehose *f, const char *text, int n, int64_t window_ms);

/* The spike's window start (ms), -1 before it is scheduled. */
int64_t demo_firehose_spike_window(demo_firehose *f);

void demo_firehose_free(demo_firehose *f);

#endif
