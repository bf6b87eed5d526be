/*
 * screen: how the demo shows itself. Three forms, all written to a FILE:
 *
 *   demo_screen_frame    the live view for a terminal: the whole screen
 *                        redrawn in place with ANSI escapes, about once a
 *                        second, fitted to the terminal's size
 *   demo_screen_block    a few plain lines every few seconds, for logs, CI
 *                        and pipes, where escapes would be noise
 *   demo_screen_summary  the final account, the same in both cases
 *
 * Text from posts is cut by display columns (wide CJK and emoji count two,
 * via utf8proc) with control characters shown as spaces, so a row never
 * wraps and a post cannot move the cursor.
 *
 * Thread-safety: none needed; pure functions of their arguments. Cost: a
 * few KB of formatting per frame.
 */
#ifndef EARSHOT_DEMO_SCREEN_H
#define EARSHOT_DEMO_SCREEN_H

#include <stdint.h>
#include <stdio.h>

#include "demo/tally.h"
#include "ops/dash.h"

#define DEMO_SCREEN_ALERTS 4

/* Counters at one instant; rates are the difference of two samples. */
typedef struct demo_sample {
    double t;              /* seconds since the demo started */
    uint64_t generated;    /* acknowledged into the input topic */
    uint64_t consumed;     /* read by the pipeline */
    uint64_t produced[3];  /* acknowledged outputs: enriched, tickets, rejected */
    int64_t lag;           /* pipeline's consumer lag, -1 unknown */
    int paused;            /* pipeline backpressure in effect */
    int partitions;        /* input partitions assigned to the pipeline */
} demo_sample;

typedef struct demo_screen_state {
    const char *brokers;
    int partitions, threads;
    double rate;               /* posts/s asked of the firehose */
    double duration;           /* seconds; 0: until Ctrl-C */
    double run;                /* seconds the firehose has run, the clock shown */
    const char *phase;         /* "running", "draining", ... */
    const char *hint;          /* what a key does now, e.g. "Ctrl-C stops"; may be NULL */
    demo_sample now, prev;
    const demo_tally_view *view;
    int rows, cols;            /* terminal size (frame only) */
    int color;                 /* ANSI colour and bold allowed (frame only) */
    int64_t clock_ms;          /* the demo's clock (the generator's newest
                                  created_at): DUE is measured on it; -1 unknown */
    dash_alert_view alerts[DEMO_SCREEN_ALERTS]; /* care.alerts, newest first */
    int n_alerts;
} demo_screen_state;

/* Homes the cursor, draws the frame over the old one, clears what is left. */
void demo_screen_frame(FILE *out, const demo_screen_state *s);

/* "due in 12 min", "3 min overdue", "due now" for respond_by (ISO) on the
 * clock clock_ms; "-" when either is unknown. */
const char *demo_screen_due(char *buf, size_t size, const char *respond_by, int64_t clock_ms);

/* One alert as a line: "12:35 spike Comcast: 15 complaints, baseline 1.4 (x10.7)". */
const char *demo_screen_alert(char *buf, size_t size, const dash_alert_view *a);

/* The compact block, 3-5 lines, ending in a blank line. */
void demo_screen_block(FILE *out, const demo_screen_state *s);

typedef struct demo_summary {
    double elapsed;
    uint64_t generated, malformed, gen_failed;
    uint64_t consumed;
    int64_t input_dropped;     /* posts the broker no longer holds, -1 unknown */
    uint64_t produced[3];      /* acknowledged by the broker, per route */
    uint64_t read_back[3];     /* read back out of the topics by the view */
    int pipeline_rc;           /* pipeline_run's status */
    int hurried;               /* a second Ctrl-C cut the waits short */
    const demo_tally_view *view;
} demo_summary;

/* Writes the final account, including whether consumed == generated.
 * Returns 0 when every count agrees and the pipeline stopped cleanly. */
int demo_screen_summary(FILE *out, const demo_summary *sum);

#endif
