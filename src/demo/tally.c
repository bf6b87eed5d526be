/*
 * tally: the demo view's reader of the output topics. See tally.h.
 */
#include "demo/tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "ops/log.h"

/* One poll takes at most this many events, so a backlog cannot hold the
 * view for long before it redraws. */
#define TALLY_MAX_PER_POLL 5000

enum { TALLY_ENRICHED, TALLY_TICKETS, TALLY_REJECTED, TALLY_TOPICS };

struct demo_tally {
    rd_kafka_t *rk;
    char *topics[TALLY_TOPICS];
    demo_tally_view view;
};

static void tally_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_write(level <= 3 ? LOG_LEVEL_ERROR : level == 4 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
              "demo view: %s: %s", fac, buf);
}

/* Copies at most size - 1 bytes of s, never cutting a UTF-8 sequence. */
static void tally_copy(char *dst, size_t size, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

static const char *tally_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* The brand's counters, added on first sight; NULL when the table is full
 * (more brands than the default rules have by far). */
static demo_brand_count *tally_brand(demo_tally_view *v, const char *name)
{
    for (int i = 0; i < v->n_brands; i++)
        if (!strcmp(v->brands[i].name, name))
            return &v->brands[i];
    if (v->n_brands == DEMO_TALLY_MAX_BRANDS)
        return NULL;
    demo_brand_count *b = &v->brands[v->n_brands++];
    memset(b, 0, sizeof(*b));
    tally_copy(b->name, sizeof(b->name), name);
    return b;
}

static void tally_enriched(demo_tally_view *v, json_t *ev)
{
    const char *pol = tally_str(ev, "polarity");
    json_t *brands = json_object_get(ev, "brands"), *br;
    size_t i;

    json_array_foreach(brands, i, br) {
        demo_brand_count *b = tally_brand(v, tally_str(br, "name"));
        if (!b)
            continue;
        b->mentions++;
        if (!strcmp(pol, "complaint"))
            b->complaints++;
        else if (!strcmp(pol, "praise"))
            b->praise++;
        else if (!strcmp(pol, "question"))
            b->questions++;
    }
}

static void tally_ticket(demo_tally_view *v, json_t *ev)
{
    json_t *author = json_object_get(ev, "author");
    const char *brand = tally_str(json_array_get(json_object_get(ev, "brands"), 0), "name");
    int priority = (int)json_integer_value(json_object_get(ev, "priority"));
    demo_brand_count *b = tally_brand(v, brand);

    if (b)
        b->tickets++;
    if (priority < v->min_priority)
        return;
    demo_ticket *t = &v->recent[v->recent_next];
    v->recent_next = (v->recent_next + 1) % DEMO_TALLY_RECENT;
    if (v->n_recent < DEMO_TALLY_RECENT)
        v->n_recent++;
    t->priority = priority;
    tally_copy(t->brand, sizeof(t->brand), brand);
    tally_copy(t->handle, sizeof(t->handle), tally_str(author, "handle"));
    t->followers = json_integer_value(json_object_get(author, "followers"));
    t->verified = json_is_true(json_object_get(author, "verified"));
    tally_copy(t->polarity, sizeof(t->polarity), tally_str(ev, "polarity"));
    tally_copy(t->created_at, sizeof(t->created_at), tally_str(ev, "created_at"));
    tally_copy(t->respond_by, sizeof(t->respond_by), tally_str(ev, "respond_by"));
    tally_copy(t->text, sizeof(t->text), tally_str(ev, "text"));
}

/* Rejections grouped by the reason's first clause: "not JSON: <parser
 * detail>" is one kind whatever the detail. */
static void tally_rejected(demo_tally_view *v, json_t *rec)
{
    char reason[sizeof(v->reasons[0].reason)];
    char *colon;

    tally_copy(reason, sizeof(reason), tally_str(rec, "reason"));
    if ((colon = strchr(reason, ':')))
        *colon = '\0';
    for (int i = 0; i < v->n_reasons; i++) {
        if (!strcmp(v->reasons[i].reason, reason)) {
            v->reasons[i].count++;
            return;
        }
    }
    if (v->n_reasons == DEMO_TALLY_MAX_REASONS)
        return;
    demo_reason_count *r = &v->reasons[v->n_reasons++];
    memcpy(r->reason, reason, sizeof(reason));
    r->count = 1;
}

static void tally_message(demo_tally *t, const rd_kafka_message_t *m)
{
    demo_tally_view *v = &t->view;
    const char *topic = rd_kafka_topic_name(m->rkt);
    json_error_t jerr;
    json_t *ev;
    int which;

    for (which = 0; which < TALLY_TOPICS; which++)
        if (!strcmp(topic, t->topics[which]))
            break;
    if (which == TALLY_TOPICS)
        return;
    if (which == TALLY_ENRICHED)
        v->enriched++;
    else if (which == TALLY_TICKETS)
        v->tickets++;
    else
        v->rejected++;

    if (!m->payload || !(ev = json_loadb(m->payload, m->len, 0, &jerr))) {
        v->unreadable++;
        return;
    }
    if (!json_is_object(ev))
        v->unreadable++;
    else if (which == TALLY_ENRICHED)
        tally_enriched(v, ev);
    else if (which == TALLY_TICKETS)
        tally_ticket(v, ev);
    else
        tally_rejected(v, ev);
    json_decref(ev);
}

demo_tally *demo_tally_new(const demo_tally_options *opt, char *err, size_t err_size)
{
    demo_tally *t = calloc(1, sizeof(*t));
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t kerr;
    char errstr[512];
    /* Nothing is committed: the view always reads the topics whole, and
     * must not disturb any group the user runs. */
    static const char *const props[][2] = {
        {"client.id", "earshot-demo-view"},
        {"group.id", "earshot-demo-view"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
    };

    if (!t) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    t->view.min_priority = opt->min_priority;
    if (!(t->topics[TALLY_ENRICHED] = strdup(opt->topic_enriched)) ||
        !(t->topics[TALLY_TICKETS] = strdup(opt->topic_tickets)) ||
        !(t->topics[TALLY_REJECTED] = strdup(opt->topic_rejected))) {
        snprintf(err, err_size, "out of memory");
        goto err;
    }

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", opt->brokers, errstr, sizeof(errstr))) {
        snprintf(err, err_size, "view consumer: bootstrap.servers: %s", errstr);
        goto err;
    }
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof(errstr))) {
            snprintf(err, err_size, "view consumer: %s: %s", props[i][0], errstr);
            goto err;
        }
    }
    rd_kafka_conf_set_log_cb(conf, tally_log_cb);
    if (!(t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        snprintf(err, err_size, "creating the view consumer: %s", errstr);
        goto err;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(t->rk);

    /* assign, not subscribe: no group to join, so the view starts reading
     * at once. */
    parts = rd_kafka_topic_partition_list_new(TALLY_TOPICS * opt->partitions);
    for (int i = 0; i < TALLY_TOPICS; i++)
        for (int p = 0; p < opt->partitions; p++)
            rd_kafka_topic_partition_list_add(parts, t->topics[i], p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
    kerr = rd_kafka_assign(t->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (kerr) {
        snprintf(err, err_size, "view consumer: assigning the output topics: %s",
                 rd_kafka_err2str(kerr));
        goto err;
    }
    return t;
err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    demo_tally_free(t);
    return NULL;
}

int demo_tally_poll(demo_tally *t, int timeout_ms)
{
    int n = 0;
    rd_kafka_message_t *m;

    while (n < TALLY_MAX_PER_POLL &&
           (m = rd_kafka_consumer_poll(t->rk, n == 0 ? timeout_ms : 0))) {
        if (!m->err) {
            tally_message(t, m);
            n++;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            log_warn("demo view: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    return n;
}

const demo_tally_view *demo_tally_get(const demo_tally *t)
{
    return &t->view;
}

const demo_ticket *demo_tally_recent(const demo_tally_view *v, int i)
{
    int at = (v->recent_next - 1 - i + 2 * DEMO_TALLY_RECENT) % DEMO_TALLY_RECENT;
    return &v->recent[at];
}

int64_t demo_tally_log_start(demo_tally *t, const char *topic, int partitions)
{
    int64_t sum = 0;

    for (int p = 0; p < partitions; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(t->rk, topic, p, &lo, &hi, 5000))
            return -1;
        sum += lo;
    }
    return sum;
}

void demo_tally_free(demo_tally *t)
{
    if (!t)
        return;
    if (t->rk) {
        rd_kafka_consumer_close(t->rk);
        rd_kafka_destroy(t->rk);
    }
    for (int i = 0; i < TALLY_TOPICS; i++)
        free(t->topics[i]);
    free(t);
}
