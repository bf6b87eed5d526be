/*
 * metrics: the registry, the per-thread shards and their hot-path updates,
 * rules generations and the consumer-lag gauges. See metrics.h; the
 * librdkafka statistics are in metrics_kafka.c, the text format in
 * metrics_render.c.
 */
#include "ops/metrics.h"

#include "base/base_buf.h"
#include "base/base_err.h"
#include "base/base_hash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/metrics_internal.h"

/* earshot_processing_latency_seconds buckets: 1-2.5-5 steps from 5 us (one
 * post through the engine) to 10 s (a post stuck behind a slow broker). */
static const uint64_t lat_bound_ns[] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
    100000000, 250000000, 500000000,
    1000000000, 2500000000ull, 5000000000ull, 10000000000ull,
};
_Static_assert(sizeof(lat_bound_ns) / sizeof(lat_bound_ns[0]) == LAT_BUCKETS,
               "one bound per latency bucket");

/* ---------------------------------------------------------------------- */
/* names                                                                   */

const char *const metrics_route_names[METRICS_ROUTE_COUNT] = {
    "enriched", "tickets", "rejected",
};
const char *const metrics_reject_names[METRICS_REJECT_COUNT] = {
    "not_json", "not_object", "no_text", "invalid_utf8", "too_deep",
    "too_large", "bad_id", "other",
};

const char *metrics_route_name(metrics_route route)
{
    return (unsigned)route < METRICS_ROUTE_COUNT ? metrics_route_names[route] : NULL;
}

const char *metrics_reject_name(metrics_reject why)
{
    return (unsigned)why < METRICS_REJECT_COUNT ? metrics_reject_names[why] : NULL;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

metrics_reject metrics_reject_classify(const char *reason)
{
    if (!reason)
        return METRICS_REJECT_OTHER;
    if (has_prefix(reason, "not JSON"))
        return METRICS_REJECT_NOT_JSON;
    if (has_prefix(reason, "not an object"))
        return METRICS_REJECT_NOT_OBJECT;
    if (has_prefix(reason, "no text"))
        return METRICS_REJECT_NO_TEXT;
    if (has_prefix(reason, "invalid UTF-8"))
        return METRICS_REJECT_INVALID_UTF8;
    if (has_prefix(reason, "nested too deep") || has_prefix(reason, "too deep"))
        return METRICS_REJECT_TOO_DEEP;
    if (has_prefix(reason, "too large"))
        return METRICS_REJECT_TOO_LARGE;
    if (has_prefix(reason, "id must be"))
        return METRICS_REJECT_BAD_ID;
    return METRICS_REJECT_OTHER;
}

/* ---------------------------------------------------------------------- */
/* registry                                                                */

metrics *metrics_new(unsigned n_shards, char *err, size_t err_size)
{
    metrics *m;
    unsigned i;

    if (n_shards == 0 || n_shards > METRICS_MAX_SHARDS) {
        base_err_set(err, err_size,
                "metrics: %u shards requested; use one per counting thread, "
                "1 to %d", n_shards, METRICS_MAX_SHARDS);
        return NULL;
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        goto oom;
    m->n_shards = n_shards;
    m->rule_series_top = -1; /* metrics.rules = all */
    m->shards = aligned_alloc(CACHELINE, sizeof(*m->shards) * (n_shards + 1));
    if (!m->shards)
        goto oom;
    memset(m->shards, 0, sizeof(*m->shards) * (n_shards + 1));
    for (i = 0; i <= n_shards; i++) {
        m->shards[i].m = m;
        m->shards[i].row = i;
        m->shards[i].shared = i == n_shards;
    }
    if (pthread_mutex_init(&m->lock, NULL) != 0)
        goto oom;
    return m;

oom:
    base_err_set(err, err_size, "metrics: out of memory creating the registry");
    if (m)
        free(m->shards);
    free(m);
    return NULL;
}

static void gen_free(metrics_rules *mr);

static void idmap_free(idmap *im)
{
    size_t i;

    for (i = 0; i < im->n; i++)
        free(im->names[i]);
    free(im->names);
    for (i = 0; i < METRICS_BRAND_KINDS; i++)
        free(im->base[i]);
    base_map_free(&im->index);
}

void metrics_free(metrics *m)
{
    size_t i;

    if (!m)
        return;
    while (m->gens) {
        metrics_rules *next = m->gens->next;
        gen_free(m->gens);
        m->gens = next;
    }
    idmap_free(&m->rules);
    idmap_free(&m->brands);
    for (i = 0; i < m->n_lag; i++)
        free(m->lag[i].topic);
    free(m->lag);
    for (i = 0; i < m->n_kc; i++)
        metrics_kclient_free(m->kc[i]);
    free(m->kc);
    for (i = 0; i < 3; i++)
        free(m->build_info[i]);
    pthread_mutex_destroy(&m->lock);
    free(m->shards);
    free(m);
}

metrics_shard *metrics_shard_get(metrics *m, unsigned i)
{
    return i < m->n_shards ? &m->shards[i] : NULL;
}

metrics_shard *metrics_shard_shared(metrics *m)
{
    return &m->shards[m->n_shards];
}

/* ---------------------------------------------------------------------- */
/* hot path                                                                */

/* The owner is the only writer of its slots, so load + store is exact and
 * compiles to a plain add; relaxed atomics keep the renderer's concurrent
 * reads defined behaviour. The shared shard has many writers. */
static inline void bump(const metrics_shard *sh, _Atomic uint64_t *p,
                        uint64_t n)
{
    if (sh->shared)
        atomic_fetch_add_explicit(p, n, memory_order_relaxed);
    else
        atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
                              memory_order_relaxed);
}

void metrics_consumed(metrics_shard *sh, uint64_t n)
{
    bump(sh, &sh->slot[SLOT_CONSUMED], n);
}

void metrics_input_lost(metrics_shard *sh, uint64_t n)
{
    bump(sh, &sh->slot[SLOT_INPUT_LOST], n);
}

void metrics_produced(metrics_shard *sh, metrics_route route, uint64_t n)
{
    if ((unsigned)route < METRICS_ROUTE_COUNT)
        bump(sh, &sh->slot[SLOT_PRODUCED + route], n);
}

void metrics_produce_failed(metrics_shard *sh, metrics_route route, uint64_t n)
{
    if ((unsigned)route < METRICS_ROUTE_COUNT)
        bump(sh, &sh->slot[SLOT_PRODUCE_ERR + route], n);
}

void metrics_rejected(metrics_shard *sh, metrics_reject why)
{
    if ((unsigned)why >= METRICS_REJECT_COUNT)
        why = METRICS_REJECT_OTHER;
    bump(sh, &sh->slot[SLOT_REJECTED + why], 1);
}

static void metrics_hist_observe(metrics_shard *sh, size_t first, size_t sum, uint64_t ns)
{
    size_t b = 0;

    /* Linear: most observations land in the first few buckets. */
    while (b < LAT_BUCKETS && ns > lat_bound_ns[b])
        b++;
    bump(sh, &sh->slot[first + b], 1);
    bump(sh, &sh->slot[sum], ns);
}

void metrics_latency_observe(metrics_shard *sh, uint64_t ns)
{
    metrics_hist_observe(sh, SLOT_LAT_BUCKET, SLOT_LAT_SUM, ns);
}

void metrics_queue_latency_observe(metrics_shard *sh, uint64_t ns)
{
    metrics_hist_observe(sh, SLOT_QLAT_BUCKET, SLOT_QLAT_SUM, ns);
}

void metrics_rule_matched(metrics_shard *sh, const metrics_rules *mr,
                          size_t rule)
{
    if (rule < mr->n_rules)
        bump(sh, &mr->count[sh->row * mr->stride + rule], 1);
}

void metrics_brand_counted(metrics_shard *sh, const metrics_rules *mr,
                           size_t brand, unsigned flags)
{
    _Atomic uint64_t *row;

    if (brand >= mr->n_brands)
        return;
    row = &mr->count[sh->row * mr->stride];
    bump(sh, &row[metrics_brand_slot(mr, METRICS_BRAND_MENTIONS, brand)], 1);
    /* flag bit k counts kind k + 1 */
    for (unsigned k = 0; k + 1 < METRICS_BRAND_KINDS; k++)
        if (flags & (1u << k))
            bump(sh, &row[metrics_brand_slot(mr, k + 1, brand)], 1);
}

void metrics_brand_mentioned(metrics_shard *sh, const metrics_rules *mr,
                             size_t brand, int complaint)
{
    metrics_brand_counted(sh, mr, brand, complaint ? METRICS_BRAND_COMPLAINT : 0);
}

int metrics_rule_series_parse(const char *spec, long *top, char *err, size_t err_size)
{
    char *end;
    long n;

    if (!strcmp(spec, "all")) {
        *top = -1;
        return 0;
    }
    if (!strcmp(spec, "off")) {
        *top = 0;
        return 0;
    }
    if (!strncmp(spec, "top:", 4) && spec[4] >= '0' && spec[4] <= '9') {
        errno = 0;
        n = strtol(spec + 4, &end, 10);
        if (!*end && !errno && n >= 1 && n <= 1000000) {
            *top = n;
            return 0;
        }
    }
    base_err_set(err, err_size, "must be all, off or top:N with N 1..1000000, got '%s'",
                    spec);
    return -1;
}

void metrics_set_process(metrics *m, int on)
{
    pthread_mutex_lock(&m->lock);
    m->process = on != 0;
    pthread_mutex_unlock(&m->lock);
}

void metrics_set_rule_series(metrics *m, long top)
{
    pthread_mutex_lock(&m->lock);
    m->rule_series_top = top;
    pthread_mutex_unlock(&m->lock);
}

int metrics_set_build_info(metrics *m, const char *version, const char *hyperscan,
                           const char *librdkafka)
{
    const char *v[3] = {version, hyperscan, librdkafka};
    char *c[3];
    int rc = 0;

    for (int i = 0; i < 3; i++)
        if (!(c[i] = strdup(v[i] ? v[i] : "unknown")))
            rc = -1;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < 3; i++) {
        free(m->build_info[i]);
        m->build_info[i] = rc ? NULL : c[i];
    }
    pthread_mutex_unlock(&m->lock);
    if (rc)
        for (int i = 0; i < 3; i++)
            free(c[i]);
    return rc;
}

void metrics_rules_reloaded(metrics *m, int ok)
{
    atomic_fetch_add_explicit(&m->reloads[ok ? 1 : 0], 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------------- */
/* rules generations                                                       */

/* The series number of id, added when new. -1 when out of memory. */
static long idmap_intern(idmap *im, const char *id)
{
    size_t len = strlen(id);
    uint32_t s = base_map_get(&im->index, id, len);

    if (s != UINT32_MAX)
        return (long)s;
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 64;
        char **names = realloc(im->names, cap * sizeof(*names));
        if (!names)
            return -1;
        im->names = names;
        for (size_t k = 0; k < METRICS_BRAND_KINDS; k++) {
            uint64_t *b = realloc(im->base[k], cap * sizeof(*b));
            if (!b)
                return -1;
            im->base[k] = b;
        }
        im->cap = cap;
    }
    im->names[im->n] = strdup(id);
    if (!im->names[im->n])
        return -1;
    if (base_map_put(&im->index, id, len, (uint32_t)im->n)) {
        free(im->names[im->n]);
        return -1;
    }
    for (size_t k = 0; k < METRICS_BRAND_KINDS; k++)
        im->base[k][im->n] = 0;
    return (long)im->n++;
}

/* Interns n ids into series[]; refuses empty and repeated ids. */
static int intern_all(idmap *im, const char *what, size_t n,
                      const char *const *ids, uint32_t *series,
                      char *err, size_t err_size)
{
    unsigned char *seen = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        long s;
        if (!ids[i] || !ids[i][0]) {
            base_err_set(err, err_size, "metrics: %s #%zu has an empty id; every "
                    "%s needs a stable id to be counted", what, i, what);
            goto err;
        }
        s = idmap_intern(im, ids[i]);
        if (s < 0) {
            base_err_set(err, err_size, "metrics: out of memory registering %s ids",
                    what);
            goto err;
        }
        series[i] = (uint32_t)s;
    }
    seen = calloc(im->n ? im->n : 1, 1);
    if (!seen) {
        base_err_set(err, err_size, "metrics: out of memory registering %s ids", what);
        goto err;
    }
    for (i = 0; i < n; i++) {
        if (seen[series[i]]++) {
            base_err_set(err, err_size, "metrics: %s id '%s' appears twice; ids must "
                    "be unique to name one series each", what, ids[i]);
            goto err;
        }
    }
    free(seen);
    return 0;

err:
    free(seen);
    return -1;
}

static void gen_free(metrics_rules *mr)
{
    free(mr->version);
    free(mr->rule_series);
    free(mr->brand_series);
    free((void *)mr->count);
    free(mr);
}

metrics_rules *metrics_rules_new(metrics *m, const char *version,
                                 size_t n_rules, const char *const *rule_ids,
                                 size_t n_brands, const char *const *brand_ids,
                                 char *err, size_t err_size)
{
    metrics_rules *mr;
    size_t slots, bytes;

    mr = calloc(1, sizeof(*mr));
    if (!mr)
        goto oom;
    mr->m = m;
    mr->n_rules = n_rules;
    mr->n_brands = n_brands;
    slots = n_rules + METRICS_BRAND_KINDS * n_brands;
    /* Whole cache lines per row: no two threads' rows share a line. */
    mr->stride = (slots + SLOTS_PER_LINE - 1) / SLOTS_PER_LINE * SLOTS_PER_LINE;
    if (!mr->stride)
        mr->stride = SLOTS_PER_LINE;
    bytes = mr->stride * sizeof(uint64_t) * (m->n_shards + 1);
    mr->version = strdup(version ? version : "unknown");
    mr->rule_series = malloc((n_rules ? n_rules : 1) * sizeof(uint32_t));
    mr->brand_series = malloc((n_brands ? n_brands : 1) * sizeof(uint32_t));
    mr->count = aligned_alloc(CACHELINE, bytes);
    if (!mr->version || !mr->rule_series || !mr->brand_series || !mr->count)
        goto oom;
    memset((void *)mr->count, 0, bytes);

    pthread_mutex_lock(&m->lock);
    if (intern_all(&m->rules, "rule", n_rules, rule_ids, mr->rule_series,
                   err, err_size) ||
        intern_all(&m->brands, "brand", n_brands, brand_ids, mr->brand_series,
                   err, err_size)) {
        pthread_mutex_unlock(&m->lock);
        gen_free(mr);
        return NULL;
    }
    mr->next = m->gens;
    m->gens = mr;
    m->current = mr;
    pthread_mutex_unlock(&m->lock);
    return mr;

oom:
    base_err_set(err, err_size, "metrics: out of memory registering %zu rules and "
            "%zu brands", n_rules, n_brands);
    if (mr)
        gen_free(mr);
    return NULL;
}

uint64_t metrics_gen_sum(const metrics_rules *mr, size_t slot)
{
    uint64_t total = 0;
    unsigned r;

    for (r = 0; r <= mr->m->n_shards; r++)
        total += atomic_load_explicit(&mr->count[r * mr->stride + slot],
                                      memory_order_relaxed);
    return total;
}

void metrics_rules_release(metrics_rules *mr)
{
    metrics *m;
    metrics_rules **pp;
    size_t i;

    if (!mr)
        return;
    m = mr->m;
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < mr->n_rules; i++)
        m->rules.base[0][mr->rule_series[i]] += metrics_gen_sum(mr, i);
    for (i = 0; i < mr->n_brands; i++)
        for (unsigned k = 0; k < METRICS_BRAND_KINDS; k++)
            m->brands.base[k][mr->brand_series[i]] +=
                metrics_gen_sum(mr, metrics_brand_slot(mr, k, i));
    for (pp = &m->gens; *pp; pp = &(*pp)->next) {
        if (*pp == mr) {
            *pp = mr->next;
            break;
        }
    }
    if (m->current == mr)
        m->current = NULL;
    pthread_mutex_unlock(&m->lock);
    gen_free(mr);
}

/* ---------------------------------------------------------------------- */
/* consumer lag                                                            */

int metrics_lag_cmp(const char *topic_a, int32_t part_a, const lag_entry *b)
{
    int c = strcmp(topic_a, b->topic);

    if (c)
        return c;
    return part_a < b->partition ? -1 : part_a > b->partition;
}

int metrics_lag_set(metrics *m, const char *topic, int32_t partition,
                    int64_t lag)
{
    size_t lo = 0, hi;
    int rc = 0;

    if (!topic)
        return -1;
    pthread_mutex_lock(&m->lock);
    hi = m->n_lag;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = metrics_lag_cmp(topic, partition, &m->lag[mid]);
        if (c == 0) {
            m->lag[mid].lag = lag;
            goto out;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (m->n_lag == m->cap_lag) {
        lag_entry *l = base_grow(m->lag, &m->cap_lag, sizeof(*l), 16);
        if (!l) {
            rc = -1;
            goto out;
        }
        m->lag = l;
    }
    {
        char *t = strdup(topic);
        if (!t) {
            rc = -1;
            goto out;
        }
        memmove(&m->lag[lo + 1], &m->lag[lo], (m->n_lag - lo) * sizeof(*m->lag));
        m->lag[lo].topic = t;
        m->lag[lo].partition = partition;
        m->lag[lo].lag = lag;
        m->n_lag++;
    }
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void metrics_lag_forget(metrics *m, const char *topic, int32_t partition)
{
    size_t i, j = 0;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n_lag; i++) {
        lag_entry *e = &m->lag[i];
        int drop = !topic ||
                   (strcmp(e->topic, topic) == 0 &&
                    (partition < 0 || e->partition == partition));
        if (drop)
            free(e->topic);
        else
            m->lag[j++] = *e;
    }
    m->n_lag = j;
    pthread_mutex_unlock(&m->lock);
}
