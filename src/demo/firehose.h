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
 * Thread-safety: demo_firehose_start/stop from one thread;
 * demo_firehose_stats from any thread. Cost: ~1 us of generation plus one
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
} demo_firehose_stats;

/* Creates the producer and starts the thread. NULL + err on failure. */
demo_firehose *demo_firehose_start(const demo_firehose_options *opt, char *err,
                                   size_t err_size);

/* Stops generating, then waits up to timeout_ms for every post already
 * produced to be acknowledged. Returns 0 when all were, -1 otherwise. The
 * counters stay readable until demo_firehose_free. */
int demo_firehose_stop(demo_firehose *f, int timeout_ms);

void demo_firehose_stats_get(demo_firehose *f, demo_firehose_stats *st);

void demo_firehose_free(demo_firehose *f);

#endif
