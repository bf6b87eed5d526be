/*
 * metrics: the registry behind /metrics. A fixed set of metric families,
 * created once at startup, updated by the workers on the hot path and
 * rendered in the Prometheus text exposition format 0.0.4 on a scrape.
 *
 * Families (rendered in this order; the first eleven always, with HELP and
 * TYPE even before they have samples; the earshot_kafka_* ones only once a
 * statistics JSON has been given):
 *   earshot_consumed_total                            counter
 *   earshot_input_lost_total                          counter  offsets skipped by a reset
 *   earshot_produced_total{route}                     counter  acked by the broker
 *   earshot_produce_errors_total{route}               counter  delivery failures
 *   earshot_rejected_total{reason}                    counter  metrics_reject classes
 *   earshot_processing_latency_seconds                histogram 5us .. 10s
 *   earshot_queue_latency_seconds                     histogram 5us .. 10s
 *   earshot_rule_matches_total{rule}                  counter  current rules generation
 *   earshot_brand_mentions_total{brand}               counter
 *   earshot_brand_complaints_total{brand}             counter
 *   earshot_brand_praise_total{brand}                 counter
 *   earshot_brand_questions_total{brand}              counter
 *   earshot_brand_tickets_total{brand}                counter  sent to topic.tickets
 *   earshot_rules_info{version}                       gauge, always 1
 *   earshot_rules_reloads_total{result}               counter  success|failure
 *   earshot_consumer_lag{topic,partition}             gauge, set by the pipeline
 *   earshot_build_info{version,hyperscan,librdkafka}  gauge, always 1, once set
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds                        from /proc/self, as the
 *                                                     Prometheus clients name them
 *   earshot_kafka_*{client,...}                       librdkafka statistics
 *
 * Hot path: every thread that counts owns a shard (metrics_shard_get, one
 * index per worker, fixed at metrics_new). A shard's slots are written only
 * by its owner with a relaxed load + store (a plain add on x86-64, no locked
 * instruction, no cache line shared with another shard) and read by the
 * renderer with relaxed loads, which sums the shards. The one shared shard
 * (metrics_shard_shared) may be used by any thread and pays for an atomic
 * read-modify-write on a line other threads write too: use it for rare
 * events and threads that have no shard of their own.
 *
 * Rules generations: per-rule and per-brand counters live in a
 * metrics_rules, created from one ruleset's ids when it is loaded (and made
 * the generation rendered from then on) and released when no worker counts
 * on it any more. Counts survive reloads: a series is keyed by its id, so a
 * rule kept across a reload keeps counting up from where it was, and a
 * released generation's counts are folded into that id's total. Only the
 * ids of the current generation are rendered. metrics.rules turns the
 * per-rule series down (metrics_set_rule_series): all of them, the N with
 * the most matches, or none; counting goes on either way (it is the cheap
 * part), only the scrape shrinks.
 *
 * Thread-safety: metrics_shard_* increments: one owner thread per shard (any
 * thread for the shared shard). Everything else (rules generations, gauges,
 * Kafka statistics, render) takes the registry's mutex and may be called
 * from any thread; none of it is on the hot path.
 * Cost: an increment is an out-of-line call plus one load and one store.
 * Measured on the project machine, 2 threads counting at once (thread CPU
 * per increment): private shard ~1.5 ns; the shared shard, i.e. one
 * contended atomic, ~13-14 ns; a lock add on an uncontended line ~5 ns.
 * metrics_rule_matched/metrics_brand_mentioned add one multiply. Render is
 * O(series) and allocates its output plus one total per series id.
 */
#ifndef EARSHOT_OPS_METRICS_H
#define EARSHOT_OPS_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics metrics;
typedef struct metrics_shard metrics_shard;
typedef struct metrics_rules metrics_rules;

/* The label values of earshot_produced_total / earshot_produce_errors_total. */
typedef enum metrics_route {
    METRICS_ROUTE_ENRICHED = 0, /* route="enriched" */
    METRICS_ROUTE_TICKETS = 1,  /* route="tickets" */
    METRICS_ROUTE_REJECTED = 2, /* route="rejected" */
    METRICS_ROUTE_COUNT
} metrics_route;

/* The label values of earshot_rejected_total: a small closed set, so that a
 * reject reason carrying details ("too large: 9000 bytes > limit 8192")
 * cannot create a series per distinct message. */
typedef enum metrics_reject {
    METRICS_REJECT_NOT_JSON = 0,     /* "not JSON: ..." */
    METRICS_REJECT_NOT_OBJECT = 1,   /* "not an object" */
    METRICS_REJECT_NO_TEXT = 2,      /* "no text" */
    METRICS_REJECT_INVALID_UTF8 = 3, /* "invalid UTF-8" */
    METRICS_REJECT_TOO_DEEP = 4,     /* "nested too deep" */
    METRICS_REJECT_TOO_LARGE = 5,    /* "too large: ..." */
    METRICS_REJECT_BAD_ID = 6,       /* "id must be a string or an integer" */
    METRICS_REJECT_OTHER = 7,        /* anything else */
    METRICS_REJECT_COUNT
} metrics_reject;

/* Maps a reject reason (engine_output.reason, post_parse's err) to its class
 * by prefix. NULL or unknown -> METRICS_REJECT_OTHER. */
metrics_reject metrics_reject_classify(const char *reason);
/* "not_json", "not_object", ... as rendered; NULL when out of range. */
const char *metrics_reject_name(metrics_reject why);
/* "enriched", "tickets", "rejected"; NULL when out of range. */
const char *metrics_route_name(metrics_route route);

/* A registry with n_shards private shards (one per counting thread: the
 * workers, the delivery-report thread, ...) plus the shared one.
 * NULL + err on failure (n_shards 0 or above 1024, out of memory). */
metrics *metrics_new(unsigned n_shards, char *err, size_t err_size);
/* Releases the registry and every rules generation still registered. */
void metrics_free(metrics *m);

/* Shard i for one thread's exclusive use, or NULL when i >= n_shards. */
metrics_shard *metrics_shard_get(metrics *m, unsigned i);
/* The shard any thread may use, at the price of an atomic RMW per update. */
metrics_shard *metrics_shard_shared(metrics *m);

/* ---- hot path: called by the shard's owner only ---- */
void metrics_consumed(metrics_shard *sh, uint64_t n);
/* Input offsets skipped unread: librdkafka reset a partition's position
 * forward because the offset to resume from was gone (retention). */
void metrics_input_lost(metrics_shard *sh, uint64_t n);
/* Messages the broker acknowledged (n) / failed to deliver, per route. */
void metrics_produced(metrics_shard *sh, metrics_route route, uint64_t n);
void metrics_produce_failed(metrics_shard *sh, metrics_route route, uint64_t n);
void metrics_rejected(metrics_shard *sh, metrics_reject why);
/* One observation of earshot_processing_latency_seconds, in nanoseconds:
 * from consuming a post to the acknowledgement of its last output (to its
 * classification when it has none). */
void metrics_latency_observe(metrics_shard *sh, uint64_t ns);

/* One observation of earshot_queue_latency_seconds, in nanoseconds: from
 * the input message's broker timestamp to its consumption by earshot. */
void metrics_queue_latency_observe(metrics_shard *sh, uint64_t ns);
/* Rule i / brand i of the ruleset mr was made from (same indices as
 * ruleset_rule(rs, i) / ruleset_brand(rs, i)). An index out of range is
 * ignored. mr must not have been released. */
void metrics_rule_matched(metrics_shard *sh, const metrics_rules *mr,
                          size_t rule);
/* What a post that mentioned a brand was, beyond a mention: flags for
 * metrics_brand_counted. */
enum {
    METRICS_BRAND_COMPLAINT = 1 << 0,
    METRICS_BRAND_PRAISE = 1 << 1,
    METRICS_BRAND_QUESTION = 1 << 2,
    METRICS_BRAND_TICKET = 1 << 3, /* it went to topic.tickets */
};
/* The per-brand counters, in slot order: a mention, then one per flag. */
typedef enum metrics_brand_kind {
    METRICS_BRAND_MENTIONS = 0,
    METRICS_BRAND_COMPLAINTS,
    METRICS_BRAND_PRAISES,
    METRICS_BRAND_QUESTIONS,
    METRICS_BRAND_TICKETS,
    METRICS_BRAND_KINDS
} metrics_brand_kind;
/* A post mentioned brand i; flags (METRICS_BRAND_*) say what else it was. */
void metrics_brand_counted(metrics_shard *sh, const metrics_rules *mr,
                           size_t brand, unsigned flags);
/* The same with complaint != 0 as METRICS_BRAND_COMPLAINT (older callers). */
void metrics_brand_mentioned(metrics_shard *sh, const metrics_rules *mr,
                             size_t brand, int complaint);

/* ---- rules generations ---- */

/* Registers a generation for a freshly loaded ruleset and makes it the one
 * rendered (and earshot_rules_info's version). The ids are copied. Rule ids
 * and brand ids must each be unique and non-empty. NULL + err on failure
 * (the current generation is then unchanged). */
metrics_rules *metrics_rules_new(metrics *m, const char *version,
                                 size_t n_rules, const char *const *rule_ids,
                                 size_t n_brands, const char *const *brand_ids,
                                 char *err, size_t err_size);
/* Folds the generation's counts into the per-id totals and frees it. Call
 * once no thread will count on it again, e.g. when the ruleset it describes
 * is released. If it was the current one, no rule/brand series and no
 * earshot_rules_info are rendered until the next metrics_rules_new. */
void metrics_rules_release(metrics_rules *mr);
/* One rules reload attempt finished: ok != 0 success, 0 failure. */
void metrics_rules_reloaded(metrics *m, int ok);

/* ---- gauges set by the pipeline ---- */

/* earshot_consumer_lag{topic,partition}: messages between the partition's
 * high watermark and the consumer's position. Sets or adds the series;
 * returns 0, or -1 when topic is NULL or memory runs out. */
int metrics_lag_set(metrics *m, const char *topic, int32_t partition,
                    int64_t lag);
/* Drops one partition's series (on revoke); partition < 0 drops all of the
 * topic's; topic NULL drops all. */
void metrics_lag_forget(metrics *m, const char *topic, int32_t partition);

/* Maps a librdkafka statistics JSON document (the stats_cb argument, see
 * librdkafka's STATISTICS.md) to earshot_kafka_* gauges and counters,
 * labelled client="<the handle's name>". It replaces the previous document
 * of the same client. Returns 0, or -1 + err when it is not JSON or has no
 * "name". Rendered families:
 *   earshot_kafka_msg_cnt, earshot_kafka_msg_size_bytes, earshot_kafka_replyq,
 *   earshot_kafka_tx_messages_total, earshot_kafka_rx_messages_total,
 *   earshot_kafka_broker_rtt_avg_seconds{broker},
 *   earshot_kafka_broker_rtt_p99_seconds{broker},
 *   earshot_kafka_broker_outbuf_cnt{broker},
 *   earshot_kafka_consumer_lag{topic,partition} (partitions with a known lag),
 *   earshot_kafka_cgrp_assignment_size (consumers in a group). */
int metrics_kafka_stats(metrics *m, const char *json, size_t len,
                        char *err, size_t err_size);
/* Drops a client's statistics (when its rd_kafka_t is destroyed). */
void metrics_kafka_forget(metrics *m, const char *client);

/* ---- what is rendered ---- */

/* metrics.rules: "all" (every rule's series; the default), "off" (none) or
 * "top:N" (the N rules with the most matches, ties by id; N 1..1000000).
 * Returns 0 and *top (-1 all, 0 off, N), or -1 with err saying what is
 * allowed. */
int metrics_rule_series_parse(const char *spec, long *top, char *err, size_t err_size);
void metrics_set_rule_series(metrics *m, long top);

/* earshot_build_info{version,hyperscan,librdkafka} 1. Copies the strings;
 * returns 0 or -1 when out of memory. */
int metrics_set_build_info(metrics *m, const char *version, const char *hyperscan,
                           const char *librdkafka);

/* process_* families on (on != 0) or off (the default: a registry is not
 * always the whole process's, e.g. in tests; `earshot run` turns them on). */
void metrics_set_process(metrics *m, int on);

/* ---- render ---- */

/* earshot_rejected_total{reason=why} as rendered (summed over the shards). */
uint64_t metrics_rejected_count(metrics *m, metrics_reject why);

/* Families owned elsewhere (the care dashboard's alerts and window lag):
 * fn writes them into the page with metrics_page_family/_sample, which
 * format and escape exactly as the registry's own families are; it is
 * called at the end of every render, without the registry's mutex. fn NULL
 * removes it. Set it before the HTTP server starts; opaque must outlive
 * every render (stop the HTTP server before freeing it). */
typedef struct metrics_page metrics_page;
typedef struct metrics_label {
    const char *name, *value;
} metrics_label;
/* "# HELP name help" and "# TYPE name type"; help must hold no backslash
 * or newline. */
void metrics_page_family(metrics_page *pg, const char *name, const char *type,
                         const char *help);
/* name{l1="v1",...} value, label values escaped. */
void metrics_page_sample(metrics_page *pg, const char *name, const metrics_label *labels,
                         size_t n_labels, const char *value);
typedef void (*metrics_extra_fn)(void *opaque, metrics_page *pg);
void metrics_set_extra(metrics *m, metrics_extra_fn fn, void *opaque);

/* The whole registry as Prometheus text format 0.0.4 (Content-Type
 * "text/plain; version=0.0.4"). Returns a NUL-terminated malloc'ed string
 * (free() it) and its length in *len, or NULL when out of memory. */
char *metrics_render(metrics *m, size_t *len);

#endif
