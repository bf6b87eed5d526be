/*
 * tally: what the demo's live view shows, read back out of Kafka. A
 * consumer of its own (no consumer group, every partition assigned from the
 * beginning) reads the pipeline's output topics, so the view shows the real
 * flow, not the pipeline's internal counters:
 *
 *   enriched topic  -> per-brand mentions by polarity (a post naming two
 *                      brands counts for each)
 *   tickets topic   -> tickets per brand, and the latest tickets at or above
 *                      a priority, newest first
 *   rejected topic  -> rejections by reason ("not JSON", "invalid UTF-8", ...)
 *
 * Events are parsed with jansson: the view reads a few hundred events a
 * second, far below where its cost would matter.
 *
 * Thread-safety: none; one thread polls and reads a tally. Cost: one
 * json_loadb per event read.
 */
#ifndef EARSHOT_DEMO_TALLY_H
#define EARSHOT_DEMO_TALLY_H

#include <stddef.h>
#include <stdint.h>

#define DEMO_TALLY_MAX_BRANDS 64
#define DEMO_TALLY_MAX_REASONS 8
#define DEMO_TALLY_RECENT 16

typedef struct demo_brand_count {
    char name[48];
    uint64_t mentions;     /* events in the enriched topic naming the brand */
    uint64_t complaints, praise, questions;
    uint64_t tickets;      /* tickets whose first brand it is */
} demo_brand_count;

typedef struct demo_ticket {
    int priority;
    char brand[48];
    char handle[64];
    int64_t followers;
    int verified;
    char polarity[16];
    char created_at[24];   /* "YYYY-MM-DDTHH:MM:SSZ", or "" */
    char respond_by[24];   /* same, or "" */
    char text[320];        /* cut at a UTF-8 boundary */
} demo_ticket;

typedef struct demo_reason_count {
    char reason[40];       /* the reason up to its first ':' */
    uint64_t count;
} demo_reason_count;

/* Everything read so far. */
typedef struct demo_tally_view {
    uint64_t enriched, tickets, rejected;  /* events read per topic */
    uint64_t unreadable;                   /* events that were not the JSON expected */
    demo_brand_count brands[DEMO_TALLY_MAX_BRANDS];
    int n_brands;
    demo_reason_count reasons[DEMO_TALLY_MAX_REASONS];
    int n_reasons;
    /* Ring of the latest tickets with priority >= min_priority: recent[
     * (recent_next - 1 - i) % DEMO_TALLY_RECENT] is the i-th newest, for i <
     * n_recent. */
    demo_ticket recent[DEMO_TALLY_RECENT];
    int recent_next, n_recent;
    int min_priority;
} demo_tally_view;

typedef struct demo_tally demo_tally;

typedef struct demo_tally_options {
    const char *brokers;
    const char *topic_enriched, *topic_tickets, *topic_rejected;
    int partitions;        /* of each topic */
    int min_priority;      /* tickets kept in the recent list */
} demo_tally_options;

demo_tally *demo_tally_new(const demo_tally_options *opt, char *err, size_t err_size);

/* Reads what has arrived: waits up to timeout_ms for the first event, then
 * takes whatever else is already fetched (at most a few thousand). Returns
 * the number of events read. */
int demo_tally_poll(demo_tally *t, int timeout_ms);

const demo_tally_view *demo_tally_get(const demo_tally *t);

/* The i-th newest recent ticket, i < n_recent. */
const demo_ticket *demo_tally_recent(const demo_tally_view *v, int i);

/* Sum over topic's partitions of the log start offset: how many messages
 * the broker no longer holds (on the embedded broker, dropped by its ~5 MB
 * per partition limit). -1 when the broker did not answer. */
int64_t demo_tally_log_start(demo_tally *t, const char *topic, int partitions);

void demo_tally_free(demo_tally *t);

#endif
