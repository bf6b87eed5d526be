/*
 * metrics_kafka: librdkafka's statistics JSON (stats_cb) -> the numbers
 * earshot_kafka_* renders, one parsed document per client. See metrics.h.
 * Parsing happens outside the registry mutex; only the swap is inside.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/metrics_internal.h"
#include "base/base_err.h"

/* ---------------------------------------------------------------------- */
/* librdkafka statistics                                                   */

void metrics_kclient_free(kclient *kc)
{
    size_t i;

    if (!kc)
        return;
    for (i = 0; i < kc->n_brokers; i++)
        free(kc->brokers[i].name);
    for (i = 0; i < kc->n_parts; i++)
        free(kc->parts[i].topic);
    free(kc->brokers);
    free(kc->parts);
    free(kc->name);
    free(kc);
}

static double jnum(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int kbroker_cmp(const void *a, const void *b)
{
    return strcmp(((const kbroker *)a)->name, ((const kbroker *)b)->name);
}

static int kpart_cmp(const void *a, const void *b)
{
    const lag_entry *x = a;

    return metrics_lag_cmp(x->topic, x->partition, b);
}

static int kclient_parse_brokers(kclient *kc, json_t *brokers)
{
    const char *key;
    json_t *b;

    kc->brokers = calloc(json_object_size(brokers) + 1, sizeof(*kc->brokers));
    if (!kc->brokers)
        return -1;
    json_object_foreach(brokers, key, b) {
        const char *source = json_string_value(json_object_get(b, "source"));
        const json_t *rtt = json_object_get(b, "rtt");
        kbroker *kb;
        /* The internal and logical (coordinator) brokers are not network
         * peers of their own; their numbers would repeat or mislead. */
        if (source && (!strcmp(source, "internal") || !strcmp(source, "logical")))
            continue;
        kb = &kc->brokers[kc->n_brokers];
        kb->name = strdup(key);
        if (!kb->name)
            return -1;
        kc->n_brokers++;
        kb->rtt_avg = jnum(rtt, "avg") / 1e6; /* librdkafka: microseconds */
        kb->rtt_p99 = jnum(rtt, "p99") / 1e6;
        kb->outbuf_cnt = jnum(b, "outbuf_cnt");
    }
    qsort(kc->brokers, kc->n_brokers, sizeof(*kc->brokers), kbroker_cmp);
    return 0;
}

static int kclient_parse_topics(kclient *kc, json_t *topics)
{
    const char *tname, *pkey;
    json_t *t, *p;
    size_t cap = 0, n = 0;

    json_object_foreach(topics, tname, t)
        cap += json_object_size(json_object_get(t, "partitions"));
    kc->parts = calloc(cap + 1, sizeof(*kc->parts));
    if (!kc->parts)
        return -1;
    json_object_foreach(topics, tname, t) {
        json_object_foreach(json_object_get(t, "partitions"), pkey, p) {
            json_t *jp = json_object_get(p, "partition");
            double lag = jnum(p, "consumer_lag");
            /* -1 is librdkafka's unassigned partition; a lag of -1 is
             * "unknown" (not consumed, or no committed offset yet). */
            if (!json_is_integer(jp) || json_integer_value(jp) < 0 ||
                isnan(lag) || lag < 0 || n >= cap)
                continue;
            kc->parts[n].topic = strdup(tname);
            if (!kc->parts[n].topic)
                return -1;
            kc->parts[n].partition = (int32_t)json_integer_value(jp);
            kc->parts[n].lag = (int64_t)lag;
            kc->n_parts = ++n;
        }
    }
    qsort(kc->parts, kc->n_parts, sizeof(*kc->parts), kpart_cmp);
    return 0;
}

int metrics_kafka_stats(metrics *m, const char *json, size_t len,
                        char *err, size_t err_size)
{
    json_error_t jerr;
    json_t *root;
    kclient *kc = NULL;
    const char *name;
    size_t i;

    root = json_loadb(json, len, 0, &jerr);
    if (!root) {
        base_err_set(err, err_size, "metrics: librdkafka statistics are not JSON "
                "(%s, line %d); pass the stats_cb JSON unchanged", jerr.text,
                jerr.line);
        goto err;
    }
    if (!json_is_object(root)) {
        base_err_set(err, err_size, "metrics: librdkafka statistics are not a JSON "
                "object; pass the stats_cb JSON unchanged");
        goto err;
    }
    name = json_string_value(json_object_get(root, "name"));
    if (!name || !name[0]) {
        base_err_set(err, err_size, "metrics: librdkafka statistics have no "
                "\"name\"; pass the stats_cb JSON unchanged");
        goto err;
    }
    kc = calloc(1, sizeof(*kc));
    if (!kc || !(kc->name = strdup(name)))
        goto oom;
    kc->msg_cnt = jnum(root, "msg_cnt");
    kc->msg_size = jnum(root, "msg_size");
    kc->replyq = jnum(root, "replyq");
    kc->txmsgs = jnum(root, "txmsgs");
    kc->rxmsgs = jnum(root, "rxmsgs");
    kc->assignment_size = jnum(json_object_get(root, "cgrp"), "assignment_size");
    if (kclient_parse_brokers(kc, json_object_get(root, "brokers")) ||
        kclient_parse_topics(kc, json_object_get(root, "topics")))
        goto oom;
    json_decref(root);
    root = NULL;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n_kc; i++) {
        int c = strcmp(m->kc[i]->name, kc->name);
        if (c == 0) {
            metrics_kclient_free(m->kc[i]);
            m->kc[i] = kc;
            pthread_mutex_unlock(&m->lock);
            return 0;
        }
        if (c > 0)
            break;
    }
    {
        kclient **arr = realloc(m->kc, (m->n_kc + 1) * sizeof(*arr));
        if (!arr) {
            pthread_mutex_unlock(&m->lock);
            goto oom;
        }
        m->kc = arr;
        memmove(&arr[i + 1], &arr[i], (m->n_kc - i) * sizeof(*arr));
        arr[i] = kc;
        m->n_kc++;
    }
    pthread_mutex_unlock(&m->lock);
    return 0;

oom:
    base_err_set(err, err_size, "metrics: out of memory reading librdkafka statistics");
err:
    json_decref(root);
    metrics_kclient_free(kc);
    return -1;
}

void metrics_kafka_forget(metrics *m, const char *client)
{
    size_t i;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n_kc; i++) {
        if (strcmp(m->kc[i]->name, client) == 0) {
            metrics_kclient_free(m->kc[i]);
            memmove(&m->kc[i], &m->kc[i + 1], (m->n_kc - i - 1) * sizeof(*m->kc));
            m->n_kc--;
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
}
