/*
 * metrics_internal: what metrics.c (registry, hot path, rules generations,
 * lag), metrics_kafka.c (librdkafka statistics) and metrics_render.c (the
 * text format) share. Not part of the ops API; include metrics.h instead.
 */
#ifndef EARSHOT_OPS_METRICS_INTERNAL_H
#define EARSHOT_OPS_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base_hash.h"
#include "ops/metrics.h"

#define METRICS_MAX_SHARDS 1024
#define CACHELINE 64
#define SLOTS_PER_LINE (CACHELINE / sizeof(uint64_t))

/* earshot_processing_latency_seconds buckets (bounds in metrics.c, le
 * texts in metrics_render.c), not counting +Inf. */
#define LAT_BUCKETS 20

/* One shard's fixed slots. The latency buckets are per bucket, not
 * cumulative, so an observation writes one slot; render accumulates. */
enum {
    SLOT_CONSUMED = 0,
    SLOT_INPUT_LOST = SLOT_CONSUMED + 1,
    SLOT_PRODUCED = SLOT_INPUT_LOST + 1,
    SLOT_PRODUCE_ERR = SLOT_PRODUCED + METRICS_ROUTE_COUNT,
    SLOT_REJECTED = SLOT_PRODUCE_ERR + METRICS_ROUTE_COUNT,
    SLOT_LAT_BUCKET = SLOT_REJECTED + METRICS_REJECT_COUNT,
    SLOT_LAT_SUM = SLOT_LAT_BUCKET + LAT_BUCKETS + 1, /* +1: the +Inf bucket */
    SLOT_QLAT_BUCKET = SLOT_LAT_SUM + 1, /* earshot_queue_latency_seconds */
    SLOT_QLAT_SUM = SLOT_QLAT_BUCKET + LAT_BUCKETS + 1,
    SLOT_COUNT,
    SLOT_PADDED = (SLOT_COUNT + SLOTS_PER_LINE - 1) / SLOTS_PER_LINE * SLOTS_PER_LINE
};

/* Aligned and padded to whole cache lines: two shards never share a line,
 * so owners never invalidate each other's caches. */
struct metrics_shard {
    _Alignas(CACHELINE) _Atomic uint64_t slot[SLOT_PADDED];
    metrics *m;
    unsigned row;  /* index into rules generations' count rows */
    int shared;    /* updates must be atomic RMWs */
};

/* Interned series ids (rule ids or brand ids) -> dense series numbers, and
 * the totals of released generations per series. */
typedef struct idmap {
    base_map index;    /* id -> series */
    char **names;      /* by series */
    uint64_t *base[METRICS_BRAND_KINDS]; /* released totals: rules use [0];
                                            brands one per metrics_brand_kind */
    size_t n, cap;
} idmap;

struct metrics_rules {
    metrics *m;
    char *version;
    size_t n_rules, n_brands;
    size_t stride;           /* slots per row: rules, then n_brands per brand
                                kind (metrics_brand_slot); whole lines */
    uint32_t *rule_series;
    uint32_t *brand_series;
    _Atomic uint64_t *count; /* (n_shards + 1) rows of stride slots */
    metrics_rules *next;
};

typedef struct lag_entry {
    char *topic;
    int32_t partition;
    int64_t lag;
} lag_entry;

/* One librdkafka handle's last statistics; NAN marks an absent number. */
typedef struct kbroker {
    char *name;
    double rtt_avg, rtt_p99, outbuf_cnt;
} kbroker;

typedef struct kclient {
    char *name;
    double msg_cnt, msg_size, replyq, txmsgs, rxmsgs, assignment_size;
    kbroker *brokers;
    size_t n_brokers;
    lag_entry *parts;
    size_t n_parts;
} kclient;

struct metrics {
    unsigned n_shards;
    metrics_shard *shards; /* n_shards + 1: the last one is shared */
    pthread_mutex_t lock;  /* everything below */
    idmap rules, brands;
    metrics_rules *gens;   /* live generations, newest first */
    metrics_rules *current;
    _Atomic uint64_t reloads[2]; /* [0] failure, [1] success */
    long rule_series_top;  /* metrics.rules: -1 all, 0 off, N the top N */
    char *build_info[3];   /* version, hyperscan, librdkafka; NULL: not set */
    int process;           /* render process_* (metrics_set_process) */
    lag_entry *lag;        /* sorted by topic, partition */
    size_t n_lag, cap_lag;
    kclient **kc;          /* sorted by name */
    size_t n_kc;
    metrics_extra_fn extra; /* appended to a render */
    void *extra_opaque;
};

/* Slot of brand b's counter of one kind in a generation's row. */
static inline size_t metrics_brand_slot(const metrics_rules *mr, unsigned kind, size_t b)
{
    return mr->n_rules + kind * mr->n_brands + b;
}

/* The process_* figures (metrics_process.c), read from /proc/self on each
 * scrape; a figure that could not be read is NAN and not rendered. */
typedef struct metrics_process {
    double cpu_seconds;      /* utime + stime */
    double resident_bytes;
    double virtual_bytes;
    double open_fds;
    double max_fds;          /* the soft RLIMIT_NOFILE */
    double start_time;       /* seconds since the epoch */
} metrics_process;
void metrics_process_read(metrics_process *out);

extern const char *const metrics_route_names[METRICS_ROUTE_COUNT];
extern const char *const metrics_reject_names[METRICS_REJECT_COUNT];

/* Slot `slot` of a generation, summed over all rows (relaxed loads). */
uint64_t metrics_gen_sum(const metrics_rules *mr, size_t slot);
/* Orders (topic, partition) pairs: topic, then partition. */
int metrics_lag_cmp(const char *topic, int32_t partition, const lag_entry *b);
void metrics_kclient_free(kclient *kc);

#endif
