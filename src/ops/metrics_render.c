/*
 * metrics_render: the registry as Prometheus text exposition format 0.0.4:
 * "# HELP" and "# TYPE" once per family, then its samples; label values
 * escape \\, \" and newline; histogram buckets cumulative with ascending le
 * and a final +Inf equal to _count. See metrics.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/metrics_internal.h"
#include "base/base_buf.h"

static const char *const lat_le[] = {
    "0.000005", "0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005",
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5",
    "1", "2.5", "5", "10",
};
_Static_assert(sizeof(lat_le) / sizeof(lat_le[0]) == LAT_BUCKETS,
               "one le text per latency bucket");

/* ---------------------------------------------------------------------- */
/* rendering                                                               */

/* The page under construction: a base_buf with a sticky out-of-memory
 * flag, so the many small writes of a render need no error checks and the
 * render fails once at the end. Kept NUL-terminated (the page is a C
 * string for the HTTP layer). */
struct metrics_page {
    base_buf b;
    int oom;
};
typedef struct metrics_page sbuf;

static void sbuf_put(sbuf *s, const char *str, size_t n)
{
    if (s->oom || base_buf_reserve(&s->b, n + 1)) {
        s->oom = 1;
        return;
    }
    memcpy(s->b.data + s->b.len, str, n);
    s->b.len += n;
    s->b.data[s->b.len] = '\0';
}

static void sbuf_puts(sbuf *s, const char *str)
{
    sbuf_put(s, str, strlen(str));
}

/* Label values escape backslash, double quote and newline (format 0.0.4). */
static void sbuf_label_value(sbuf *s, const char *v)
{
    const char *run = v;

    for (; *v; v++) {
        const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" :
                          *v == '\n' ? "\\n" : NULL;
        if (!esc)
            continue;
        sbuf_put(s, run, (size_t)(v - run));
        sbuf_put(s, esc, 2);
        run = v + 1;
    }
    sbuf_put(s, run, (size_t)(v - run));
}

static void fmt_u64(char buf[24], uint64_t v)
{
    snprintf(buf, 24, "%" PRIu64, v);
}

static void fmt_i64(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
}

/* The shortest text that reads back as v; integers without exponent. */
static void fmt_double(char buf[32], double v)
{
    int prec;

    if (isnan(v)) {
        snprintf(buf, 32, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, 32, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, 32, "%.0f", v);
        return;
    }
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, 32, "%.17g", v);
}

/* Nanoseconds as exact decimal seconds: "0.000123", "3", "1.5". */
static void fmt_seconds(char buf[32], uint64_t ns)
{
    int n = snprintf(buf, 32, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u,
                     ns % 1000000000u);

    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
}

typedef metrics_label label;

/* name{l1="v1",...} value\n */
static void sample(sbuf *s, const char *name, const label *labels,
                   size_t n_labels, const char *value)
{
    size_t i;

    sbuf_puts(s, name);
    for (i = 0; i < n_labels; i++) {
        sbuf_puts(s, i ? "," : "{");
        sbuf_puts(s, labels[i].name);
        sbuf_put(s, "=\"", 2);
        sbuf_label_value(s, labels[i].value);
        sbuf_put(s, "\"", 1);
    }
    if (n_labels)
        sbuf_put(s, "}", 1);
    sbuf_put(s, " ", 1);
    sbuf_puts(s, value);
    sbuf_put(s, "\n", 1);
}

static void sample_u64(sbuf *s, const char *name, const label *labels,
                       size_t n_labels, uint64_t v)
{
    char buf[24];

    fmt_u64(buf, v);
    sample(s, name, labels, n_labels, buf);
}

/* HELP texts are constants here, free of backslashes and newlines, so they
 * need no escaping. */
static void family(sbuf *s, const char *name, const char *type,
                   const char *help)
{
    sbuf_puts(s, "# HELP ");
    sbuf_puts(s, name);
    sbuf_put(s, " ", 1);
    sbuf_puts(s, help);
    sbuf_puts(s, "\n# TYPE ");
    sbuf_puts(s, name);
    sbuf_put(s, " ", 1);
    sbuf_puts(s, type);
    sbuf_put(s, "\n", 1);
}

void metrics_page_family(metrics_page *pg, const char *name, const char *type,
                         const char *help)
{
    family(pg, name, type, help);
}

void metrics_page_sample(metrics_page *pg, const char *name, const metrics_label *labels,
                         size_t n_labels, const char *value)
{
    sample(pg, name, labels, n_labels, value);
}

static uint64_t shard_sum(const metrics *m, size_t slot)
{
    uint64_t total = 0;
    unsigned i;

    for (i = 0; i <= m->n_shards; i++)
        total += atomic_load_explicit(&m->shards[i].slot[slot],
                                      memory_order_relaxed);
    return total;
}

/* One histogram of LAT_BUCKETS bounds: the shards' per-bucket counts made
 * cumulative. */
static void render_histogram(sbuf *s, const metrics *m, const char *name, const char *help,
                             size_t first, size_t sum)
{
    char series[96], buf[32];
    uint64_t acc = 0;
    label l;

    family(s, name, "histogram", help);
    snprintf(series, sizeof(series), "%s_bucket", name);
    for (size_t i = 0; i <= LAT_BUCKETS; i++) {
        acc += shard_sum(m, first + i);
        l = (label){"le", i < LAT_BUCKETS ? lat_le[i] : "+Inf"};
        sample_u64(s, series, &l, 1, acc);
    }
    fmt_seconds(buf, shard_sum(m, sum));
    snprintf(series, sizeof(series), "%s_sum", name);
    sample(s, series, NULL, 0, buf);
    snprintf(series, sizeof(series), "%s_count", name);
    sample_u64(s, series, NULL, 0, acc);
}

static void render_fixed(sbuf *s, const metrics *m)
{
    label l;
    size_t i;

    family(s, "earshot_consumed_total", "counter",
           "Posts read from the input topic.");
    sample_u64(s, "earshot_consumed_total", NULL, 0, shard_sum(m, SLOT_CONSUMED));

    family(s, "earshot_input_lost_total", "counter",
           "Input offsets skipped unread: the position to resume from was gone and "
           "librdkafka reset it forward (auto.offset.reset).");
    sample_u64(s, "earshot_input_lost_total", NULL, 0, shard_sum(m, SLOT_INPUT_LOST));

    family(s, "earshot_produced_total", "counter",
           "Messages the broker acknowledged, by route.");
    for (i = 0; i < METRICS_ROUTE_COUNT; i++) {
        l = (label){"route", metrics_route_names[i]};
        sample_u64(s, "earshot_produced_total", &l, 1,
                   shard_sum(m, SLOT_PRODUCED + i));
    }
    family(s, "earshot_produce_errors_total", "counter",
           "Messages the producer failed to deliver, by route.");
    for (i = 0; i < METRICS_ROUTE_COUNT; i++) {
        l = (label){"route", metrics_route_names[i]};
        sample_u64(s, "earshot_produce_errors_total", &l, 1,
                   shard_sum(m, SLOT_PRODUCE_ERR + i));
    }
    family(s, "earshot_rejected_total", "counter",
           "Posts that could not be classified, by reason.");
    for (i = 0; i < METRICS_REJECT_COUNT; i++) {
        l = (label){"reason", metrics_reject_names[i]};
        sample_u64(s, "earshot_rejected_total", &l, 1,
                   shard_sum(m, SLOT_REJECTED + i));
    }

    render_histogram(s, m, "earshot_processing_latency_seconds",
                     "From consuming a post to the acknowledgement of its last output "
                     "(to its classification when it has none).",
                     SLOT_LAT_BUCKET, SLOT_LAT_SUM);
    render_histogram(s, m, "earshot_queue_latency_seconds",
                     "From an input message's broker timestamp to its consumption: the "
                     "time a post waited before earshot saw it.",
                     SLOT_QLAT_BUCKET, SLOT_QLAT_SUM);
}

/* metrics.rules = top:N: the current generation's rule indices ordered by
 * total, highest first, ties by id. qsort needs its context in a static:
 * render runs under the registry's mutex, so one render at a time. */
static const uint64_t *top_tot;
static const metrics_rules *top_gen;
static const idmap *top_names;

static int top_cmp(const void *a, const void *b)
{
    uint32_t sa = top_gen->rule_series[*(const size_t *)a];
    uint32_t sb = top_gen->rule_series[*(const size_t *)b];

    if (top_tot[sa] != top_tot[sb])
        return top_tot[sa] > top_tot[sb] ? -1 : 1;
    return strcmp(top_names->names[sa], top_names->names[sb]);
}

static const struct {
    const char *name, *help;
} brand_families[METRICS_BRAND_KINDS] = {
    {"earshot_brand_mentions_total", "Posts that mentioned each brand."},
    {"earshot_brand_complaints_total", "Complaints that mentioned each brand."},
    {"earshot_brand_praise_total", "Praise that mentioned each brand."},
    {"earshot_brand_questions_total", "Questions that mentioned each brand."},
    {"earshot_brand_tickets_total",
     "Posts sent to the tickets topic, by the brand they mentioned."},
};

/* Per-rule and per-brand series of the current generation: released
 * totals plus every live generation's rows, summed by id. metrics.rules
 * picks which rule series are written (all, the top N, none). */
static int render_rules(sbuf *s, const metrics *m)
{
    const metrics_rules *cur = m->current, *g;
    uint64_t *rule_tot = NULL, *brand_tot[METRICS_BRAND_KINDS] = {0};
    size_t *order = NULL, n_show = 0;
    label l;
    size_t i;
    unsigned k;

    family(s, "earshot_rule_matches_total", "counter",
           "Posts each rule matched, by stable rule id (metrics.rules says which "
           "rules are shown).");
    if (cur) {
        rule_tot = malloc((m->rules.n + 1) * sizeof(*rule_tot));
        order = malloc((cur->n_rules + 1) * sizeof(*order));
        if (!rule_tot || !order)
            goto oom;
        for (k = 0; k < METRICS_BRAND_KINDS; k++) {
            if (!(brand_tot[k] = malloc((m->brands.n + 1) * sizeof(uint64_t))))
                goto oom;
            if (m->brands.n)
                memcpy(brand_tot[k], m->brands.base[k], m->brands.n * sizeof(uint64_t));
        }
        if (m->rules.n)
            memcpy(rule_tot, m->rules.base[0], m->rules.n * sizeof(*rule_tot));
        for (g = m->gens; g; g = g->next) {
            for (i = 0; i < g->n_rules; i++)
                rule_tot[g->rule_series[i]] += metrics_gen_sum(g, i);
            for (i = 0; i < g->n_brands; i++)
                for (k = 0; k < METRICS_BRAND_KINDS; k++)
                    brand_tot[k][g->brand_series[i]] +=
                        metrics_gen_sum(g, metrics_brand_slot(g, k, i));
        }
        for (i = 0; i < cur->n_rules; i++)
            order[i] = i;
        n_show = cur->n_rules;
        if (m->rule_series_top >= 0) {
            /* O(rules log rules) per scrape: at 10k rules ~1 ms, next to
             * the ~11k lines "all" would write. */
            top_tot = rule_tot;
            top_gen = cur;
            top_names = &m->rules;
            qsort(order, cur->n_rules, sizeof(*order), top_cmp);
            if ((size_t)m->rule_series_top < n_show)
                n_show = (size_t)m->rule_series_top;
        }
        for (i = 0; i < n_show; i++) {
            uint32_t sr = cur->rule_series[order[i]];
            l = (label){"rule", m->rules.names[sr]};
            sample_u64(s, "earshot_rule_matches_total", &l, 1, rule_tot[sr]);
        }
    }
    for (k = 0; k < METRICS_BRAND_KINDS; k++) {
        family(s, brand_families[k].name, "counter", brand_families[k].help);
        for (i = 0; cur && i < cur->n_brands; i++) {
            l = (label){"brand", m->brands.names[cur->brand_series[i]]};
            sample_u64(s, brand_families[k].name, &l, 1,
                       brand_tot[k][cur->brand_series[i]]);
        }
    }
    family(s, "earshot_rules_info", "gauge",
           "The rules version classifying posts now (always 1).");
    if (cur) {
        l = (label){"version", cur->version};
        sample(s, "earshot_rules_info", &l, 1, "1");
    }
    family(s, "earshot_rules_reloads_total", "counter",
           "Rules reload attempts, by result.");
    l = (label){"result", "success"};
    sample_u64(s, "earshot_rules_reloads_total", &l, 1,
               atomic_load_explicit(&m->reloads[1], memory_order_relaxed));
    l = (label){"result", "failure"};
    sample_u64(s, "earshot_rules_reloads_total", &l, 1,
               atomic_load_explicit(&m->reloads[0], memory_order_relaxed));
    free(rule_tot);
    free(order);
    for (k = 0; k < METRICS_BRAND_KINDS; k++)
        free(brand_tot[k]);
    return 0;

oom:
    free(rule_tot);
    free(order);
    for (k = 0; k < METRICS_BRAND_KINDS; k++)
        free(brand_tot[k]);
    s->oom = 1;
    return -1;
}

/* earshot_build_info once set, then the process_* families. */
static void render_build_and_process(sbuf *s, const metrics *m)
{
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } pf[] = {
        {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
         offsetof(metrics_process, cpu_seconds)},
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         offsetof(metrics_process, resident_bytes)},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         offsetof(metrics_process, virtual_bytes)},
        {"process_open_fds", "gauge", "Number of open file descriptors.",
         offsetof(metrics_process, open_fds)},
        {"process_max_fds", "gauge", "Maximum number of open file descriptors.",
         offsetof(metrics_process, max_fds)},
        {"process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.",
         offsetof(metrics_process, start_time)},
    };
    metrics_process p;
    char buf[32];

    if (m->build_info[0]) {
        label l[3] = {{"version", m->build_info[0]},
                      {"hyperscan", m->build_info[1]},
                      {"librdkafka", m->build_info[2]}};
        family(s, "earshot_build_info", "gauge",
               "The earshot build and its libraries (always 1).");
        sample(s, "earshot_build_info", l, 3, "1");
    }
    if (!m->process)
        return;
    metrics_process_read(&p);
    for (size_t i = 0; i < sizeof(pf) / sizeof(pf[0]); i++) {
        double v = *(const double *)((const char *)&p + pf[i].off);
        if (isnan(v))
            continue;
        family(s, pf[i].name, pf[i].type, pf[i].help);
        fmt_double(buf, v);
        sample(s, pf[i].name, NULL, 0, buf);
    }
}

static void render_lag(sbuf *s, const char *name, const lag_entry *lag,
                       size_t n, const char *client)
{
    label l[3];
    char part[16], v[24];
    size_t i, k;

    for (i = 0; i < n; i++) {
        k = 0;
        if (client)
            l[k++] = (label){"client", client};
        snprintf(part, sizeof(part), "%" PRId32, lag[i].partition);
        l[k++] = (label){"topic", lag[i].topic};
        l[k++] = (label){"partition", part};
        fmt_i64(v, lag[i].lag);
        sample(s, name, l, k, v);
    }
}

/* A number per client, or per client and broker: where it lives in the
 * parsed statistics. */
typedef struct kfamily {
    const char *name, *type, *help;
    size_t offset; /* of a double in kclient, or in kbroker when per_broker */
    int per_broker;
} kfamily;

static const kfamily kfamilies[] = {
    {"earshot_kafka_msg_cnt", "gauge",
     "Messages in the client's producer queues (librdkafka msg_cnt).",
     offsetof(kclient, msg_cnt), 0},
    {"earshot_kafka_msg_size_bytes", "gauge",
     "Bytes of messages in the client's producer queues (msg_size).",
     offsetof(kclient, msg_size), 0},
    {"earshot_kafka_replyq", "gauge",
     "Operations waiting in the client's reply queue to be served by a poll.",
     offsetof(kclient, replyq), 0},
    {"earshot_kafka_tx_messages_total", "counter",
     "Messages the client sent to brokers (txmsgs).",
     offsetof(kclient, txmsgs), 0},
    {"earshot_kafka_rx_messages_total", "counter",
     "Messages the client received from brokers (rxmsgs).",
     offsetof(kclient, rxmsgs), 0},
    {"earshot_kafka_broker_rtt_avg_seconds", "gauge",
     "Average broker request round-trip time over the last statistics window.",
     offsetof(kbroker, rtt_avg), 1},
    {"earshot_kafka_broker_rtt_p99_seconds", "gauge",
     "99th percentile broker round-trip time over the last statistics window.",
     offsetof(kbroker, rtt_p99), 1},
    {"earshot_kafka_broker_outbuf_cnt", "gauge",
     "Requests waiting to be sent to the broker.",
     offsetof(kbroker, outbuf_cnt), 1},
    {"earshot_kafka_cgrp_assignment_size", "gauge",
     "Partitions assigned to the client's consumer group member.",
     offsetof(kclient, assignment_size), 0},
};

static double field(const void *base, size_t offset)
{
    double v;

    memcpy(&v, (const char *)base + offset, sizeof(v));
    return v;
}

static void render_kafka(sbuf *s, const metrics *m)
{
    size_t f, i, b;
    char v[32];
    label l[2];
    int any;

    for (f = 0; f < sizeof(kfamilies) / sizeof(kfamilies[0]); f++) {
        const kfamily *kf = &kfamilies[f];
        any = 0;
        for (i = 0; i < m->n_kc; i++) {
            const kclient *kc = m->kc[i];
            size_t n = kf->per_broker ? kc->n_brokers : 1;
            for (b = 0; b < n; b++) {
                double x = kf->per_broker ? field(&kc->brokers[b], kf->offset)
                                          : field(kc, kf->offset);
                if (isnan(x))
                    continue;
                if (!any++)
                    family(s, kf->name, kf->type, kf->help);
                l[0] = (label){"client", kc->name};
                if (kf->per_broker)
                    l[1] = (label){"broker", kc->brokers[b].name};
                fmt_double(v, x);
                sample(s, kf->name, l, kf->per_broker ? 2 : 1, v);
            }
        }
    }
    any = 0;
    for (i = 0; i < m->n_kc; i++) {
        if (!m->kc[i]->n_parts)
            continue;
        if (!any++)
            family(s, "earshot_kafka_consumer_lag", "gauge",
                   "Consumer lag per partition as librdkafka last computed it.");
        render_lag(s, "earshot_kafka_consumer_lag", m->kc[i]->parts,
                   m->kc[i]->n_parts, m->kc[i]->name);
    }
}

uint64_t metrics_rejected_count(metrics *m, metrics_reject why)
{
    if ((unsigned)why >= METRICS_REJECT_COUNT)
        return 0;
    return shard_sum(m, SLOT_REJECTED + why);
}

void metrics_set_extra(metrics *m, metrics_extra_fn fn, void *opaque)
{
    pthread_mutex_lock(&m->lock);
    m->extra = fn;
    m->extra_opaque = opaque;
    pthread_mutex_unlock(&m->lock);
}

char *metrics_render(metrics *m, size_t *len)
{
    sbuf s = {.oom = 0};
    base_buf_init(&s.b);

    pthread_mutex_lock(&m->lock);
    render_fixed(&s, m);
    render_rules(&s, m);
    family(&s, "earshot_consumer_lag", "gauge",
           "Messages between each assigned partition's high watermark and "
           "the consumer's position.");
    render_lag(&s, "earshot_consumer_lag", m->lag, m->n_lag, NULL);
    render_kafka(&s, m);
    render_build_and_process(&s, m);
    metrics_extra_fn extra = m->extra;
    void *extra_opaque = m->extra_opaque;
    pthread_mutex_unlock(&m->lock);
    if (extra)
        extra(extra_opaque, &s);
    if (s.oom || !s.b.data) {
        base_buf_free(&s.b);
        return NULL;
    }
    if (len)
        *len = s.b.len;
    return s.b.data;
}
