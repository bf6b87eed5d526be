/*
 * watch: care intelligence over the enriched events. A pure, broker-free
 * aggregator: enriched events (the JSON `earshot run` writes to
 * posts.enriched) go in, per-brand window statistics and care alerts come
 * out through a callback.
 *
 * Time. Each event's time is its created_at, else the time the caller passes
 * (the Kafka message timestamp in `earshot watch`). Windows are tumbling,
 * aligned to the Unix epoch, window_ms long. The watermark is the smallest,
 * over the sources that are not idle, of the largest event time each source
 * has seen, minus lateness_ms; it never moves back. With one source (the
 * default) that is "max event time seen - lateness". A window closes when its
 * end is <= the watermark; an event for a closed window is late: counted in
 * late_dropped, nothing else. Several sources (Kafka partitions) keep a fast
 * partition from making a slower one's events late during a replay; an idle
 * source (caught up) does not hold the others back.
 *
 * Closing. When a window of a brand with activity closes, one stats record;
 * then the spike rule (README, "Care intelligence") may add a spike or update
 * alert. Records of one close are emitted in (window_start, brand id) order.
 * Influencer alerts are emitted as the complaint arrives (late or not), once
 * per post id. Duplicates (a post id already seen within dedup_ms of event
 * time, at most dedup_max ids) are counted in `duplicates` and ignored.
 *
 * Restart. watch_set_emitted_through(E) replays without re-emitting: windows
 * ending at or before E close silently (their counts still teach the
 * baseline) and influencer alerts of their posts are not repeated.
 *
 * Deterministic: the same events, sources and idle calls in the same order
 * give the same records, byte for byte.
 *
 * Thread-safety: none; one aggregator per consumer thread (or a lock around
 * every call). The emit callback runs on the caller's thread, inside
 * watch_feed / watch_source_idle.
 * Cost: one simdjson parse per event (watch_event.h; jansson only for input
 * the two parsers could read differently, i.e. malformed or unusual events),
 * O(1) hash lookups per brand; a close is O(brands with activity x
 * log) for the ordering; memory is O(brands x open windows x labels) plus
 * 32-64 B per remembered post id.
 */
#ifndef EARSHOT_WATCH_H
#define EARSHOT_WATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct watch watch;

typedef struct watch_config {
    int64_t window_ms;            /* 60000 */
    int64_t lateness_ms;          /* 30000 */
    int64_t baseline_ms;          /* 3600000: the EWMA spans ~this many ms of windows */
    int64_t dedup_ms;             /* 7200000 of event time */
    size_t dedup_max;             /* 2000000 ids; the oldest go first */
    int min_priority;             /* 30: tickets = complaints + questions at or above */
    int min_count;                /* 8 complaints in the window */
    double factor;                /* 3: complaints / max(baseline, 1) */
    double z_min;                 /* 6 */
    int cooldown;                 /* 10 windows between alerts of one episode */
    int warmup;                   /* 5 windows of a brand before it may alert */
    int64_t influencer_followers; /* 100000 */
} watch_config;

void watch_config_defaults(watch_config *cfg);

/* Checks the ranges. 0, or -1 with a sentence in err. */
int watch_config_check(const watch_config *cfg, char *err, size_t err_size);

typedef enum watch_record_type {
    WATCH_RECORD_STATS = 0, /* for brand.stats */
    WATCH_RECORD_ALERT = 1, /* for care.alerts */
} watch_record_type;

typedef struct watch_record {
    watch_record_type type;
    const char *brand_id;    /* the message key */
    int64_t window_start_ms; /* the window the record is about */
    const char *json;        /* one JSON object, no newline; valid during the call */
    size_t len;
} watch_record;

/* Returns 0; non-zero stops the close and makes the calling watch_* return -1. */
typedef int (*watch_emit_fn)(void *opaque, const watch_record *rec);

/* n_sources >= 1, all active. NULL + err on a bad config or out of memory. */
watch *watch_new(const watch_config *cfg, int n_sources, watch_emit_fn emit, void *opaque,
                 char *err, size_t err_size);
void watch_free(watch *w);

typedef enum watch_outcome {
    WATCH_COUNTED = 0,   /* in a window of every brand it names */
    WATCH_NO_BRAND,      /* moved the clock, counted nowhere */
    WATCH_DUPLICATE,     /* post id seen before */
    WATCH_LATE,          /* its window had closed */
    WATCH_INVALID,       /* not an enriched event: not JSON, no id */
} watch_outcome;

typedef struct watch_result {
    watch_outcome outcome;
    int64_t window_start_ms; /* of the event's window; for WATCH_COUNTED */
} watch_result;

/* Feeds one event from source (0..n_sources-1), marking it active. now_ms is
 * the event time when the event has no created_at. Emits the records of the
 * windows the new watermark closes. 0, or -1 with err (out of memory, the
 * emit callback failed); an invalid event is an outcome, not an error. */
int watch_feed(watch *w, int source, const char *json, size_t len, int64_t now_ms,
               watch_result *res, char *err, size_t err_size);

/* A source has caught up (idle = 1) or has data again (0). Idle sources do
 * not hold the watermark back; may close windows like watch_feed. */
int watch_source_idle(watch *w, int source, int idle, char *err, size_t err_size);

/* A ticket as it is counted: a complaint or question with a respond_by and
 * priority >= min_priority, the first time its id is seen (late or not,
 * replayed or not: the receiver de-duplicates across rebuilds). Strings are
 * valid during the call only. */
typedef struct watch_ticket {
    const char *id, *brand_id, *brand_name, *handle, *polarity, *text;
    const char *const *labels; /* n_labels strings */
    size_t n_labels;
    int64_t followers, created_ms, respond_by_ms;
    int priority;
} watch_ticket;

typedef void (*watch_ticket_fn)(void *opaque, const watch_ticket *t);

/* Called inside watch_feed for each new ticket; NULL turns it off. */
void watch_set_ticket_hook(watch *w, watch_ticket_fn fn, void *opaque);

/* Windows ending at or before end_ms were emitted by an earlier run. */
void watch_set_emitted_through(watch *w, int64_t end_ms);

/* Every window ending at or before this has closed (emitted or suppressed);
 * INT64_MIN before the first close. */
int64_t watch_emitted_through(const watch *w);

/* The current watermark, INT64_MIN before one is known. */
int64_t watch_watermark(const watch *w);

typedef struct watch_stats {
    uint64_t events, counted, no_brand, duplicates, late_dropped, invalid;
    uint64_t windows_closed; /* (brand, window) pairs closed */
    uint64_t stats_emitted, alerts_emitted, suppressed;
    uint64_t spikes, updates, influencers;
    size_t brands, ids_remembered;
} watch_stats;

void watch_stats_get(const watch *w, watch_stats *out);

/* "YYYY-MM-DDTHH:MM:SSZ" -> ms since the epoch; -1 when s is not one. */
int watch_parse_time(const char *s, int64_t *out_ms);
/* ms -> "YYYY-MM-DDTHH:MM:SSZ" (buf of at least 21 bytes). */
void watch_format_time(int64_t ms, char *buf, size_t size);

#endif
