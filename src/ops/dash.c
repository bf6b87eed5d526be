/*
 * dash: the care dashboard's state and JSON API. See dash.h.
 *
 * Brands keep a ring of DASH_SLOTS windows indexed by window number, so a
 * record is O(1) once its brand is found (a linear scan: DASH_MAX_BRANDS is
 * small). Alerts and tickets are rings of the newest; answers are built
 * with jansson so every string is escaped.
 */
#include "ops/dash.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

typedef struct dash_brand {
    char *id, *name;
    int64_t start[DASH_SLOTS]; /* window start held in the slot; -1 none */
    uint32_t mentions[DASH_SLOTS], complaints[DASH_SLOTS];
} dash_brand;

typedef struct dash_alert {
    char *json;
    char *brand, *type;
    int64_t window_start;
} dash_alert;

typedef struct dash_tk {
    char *id, *brand, *handle, *polarity, *text;
    json_t *labels;
    int64_t followers, created_ms, respond_by_ms;
    int priority;
} dash_tk;

typedef struct dash_count {
    char *brand, *type;
    uint64_t n;
} dash_count;

#define DASH_MAX_COUNTS 1024 /* (brand, type) series of earshot_alerts_total */

struct dash {
    pthread_mutex_t lock;
    int64_t window_ms;
    int active_windows;
    metrics *m;
    int64_t (*now_ms)(void *);
    void *now_opaque;

    dash_brand brands[DASH_MAX_BRANDS];
    size_t n_brands;
    dash_alert alerts[DASH_ALERTS]; /* ring, newest at alerts[(next - 1) % N] */
    size_t n_alerts, next_alert;
    dash_tk tickets[DASH_TICKETS];
    size_t n_tickets, next_ticket;
    dash_count counts[DASH_MAX_COUNTS];
    size_t n_counts;
    int64_t through, watermark; /* INT64_MIN: not yet */
};

static int64_t wall_now(void *opaque)
{
    struct timespec ts;
    (void)opaque;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dash *dash_new(int64_t window_ms, int active_windows, metrics *m, char *err, size_t err_size)
{
    dash *d = calloc(1, sizeof(*d));

    if (!d || window_ms <= 0) {
        snprintf(err, err_size, d ? "dash: window must be > 0" : "dash: out of memory");
        free(d);
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->window_ms = window_ms;
    d->active_windows = active_windows > 0 ? active_windows : 1;
    d->m = m;
    d->now_ms = wall_now;
    d->through = d->watermark = INT64_MIN;
    return d;
}

static void tk_clear(dash_tk *t)
{
    free(t->id);
    free(t->brand);
    free(t->handle);
    free(t->polarity);
    free(t->text);
    json_decref(t->labels);
    memset(t, 0, sizeof(*t));
}

static void alert_clear(dash_alert *a)
{
    free(a->json);
    free(a->brand);
    free(a->type);
    memset(a, 0, sizeof(*a));
}

void dash_free(dash *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_brands; i++) {
        free(d->brands[i].id);
        free(d->brands[i].name);
    }
    for (size_t i = 0; i < DASH_ALERTS; i++)
        alert_clear(&d->alerts[i]);
    for (size_t i = 0; i < DASH_TICKETS; i++)
        tk_clear(&d->tickets[i]);
    for (size_t i = 0; i < d->n_counts; i++) {
        free(d->counts[i].brand);
        free(d->counts[i].type);
    }
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void dash_set_clock(dash *d, int64_t (*now_ms)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&d->lock);
    d->now_ms = now_ms ? now_ms : wall_now;
    d->now_opaque = opaque;
    pthread_mutex_unlock(&d->lock);
}

/* "YYYY-MM-DDTHH:MM:SSZ" -> ms; -1 when it is not one. */
static int parse_time(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    char *end;

    if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
        return -1;
    *ms = (int64_t)timegm(&tm) * 1000;
    return 0;
}

static json_t *iso(int64_t ms)
{
    char buf[32];
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static size_t slot_of(const dash *d, int64_t start)
{
    int64_t k = start / d->window_ms % DASH_SLOTS;
    return (size_t)(k < 0 ? k + DASH_SLOTS : k);
}

static dash_brand *brand_get(dash *d, const char *id, const char *name)
{
    dash_brand *b;

    for (size_t i = 0; i < d->n_brands; i++)
        if (!strcmp(d->brands[i].id, id))
            return &d->brands[i];
    if (d->n_brands == DASH_MAX_BRANDS)
        return NULL;
    b = &d->brands[d->n_brands];
    if (!(b->id = strdup(id)) || !(b->name = strdup(name ? name : id))) {
        free(b->id);
        b->id = NULL;
        return NULL;
    }
    for (size_t i = 0; i < DASH_SLOTS; i++)
        b->start[i] = -1;
    d->n_brands++;
    return b;
}

static void count_alert(dash *d, const char *brand, const char *type)
{
    for (size_t i = 0; i < d->n_counts; i++) {
        if (!strcmp(d->counts[i].brand, brand) && !strcmp(d->counts[i].type, type)) {
            d->counts[i].n++;
            return;
        }
    }
    if (d->n_counts == DASH_MAX_COUNTS)
        return;
    dash_count *c = &d->counts[d->n_counts];
    if (!(c->brand = strdup(brand)) || !(c->type = strdup(type))) {
        free(c->brand);
        return;
    }
    c->n = 1;
    d->n_counts++;
}

int dash_record(dash *d, int alert, const char *json, size_t len)
{
    json_t *o = json_loadb(json, len, 0, NULL), *brand;
    const char *bid, *bname, *ws, *type;
    int64_t start;
    int rc = -1;

    brand = json_object_get(o, "brand");
    bid = json_string_value(json_object_get(brand, "id"));
    bname = json_string_value(json_object_get(brand, "name"));
    ws = json_string_value(json_object_get(o, "window_start"));
    if (!bid || parse_time(ws, &start))
        goto done;
    pthread_mutex_lock(&d->lock);
    if (!alert) {
        dash_brand *b = brand_get(d, bid, bname);
        if (b) {
            size_t k = slot_of(d, start);
            if (b->start[k] > start) { /* an hour older than what the slot holds */
                pthread_mutex_unlock(&d->lock);
                goto done;
            }
            b->start[k] = start;
            b->mentions[k] = (uint32_t)json_integer_value(json_object_get(o, "mentions"));
            b->complaints[k] = (uint32_t)json_integer_value(json_object_get(o, "complaints"));
            rc = 0;
        }
    } else if ((type = json_string_value(json_object_get(o, "type"))) &&
               len <= DASH_ALERT_BYTES) {
        dash_alert *a = &d->alerts[d->next_alert];
        alert_clear(a);
        a->json = strndup(json, len);
        a->brand = strdup(bid);
        a->type = strdup(type);
        a->window_start = start;
        if (a->json && a->brand && a->type) {
            d->next_alert = (d->next_alert + 1) % DASH_ALERTS;
            if (d->n_alerts < DASH_ALERTS)
                d->n_alerts++;
            count_alert(d, bid, type);
            rc = 0;
        } else {
            alert_clear(a);
        }
    }
    pthread_mutex_unlock(&d->lock);
done:
    json_decref(o);
    return rc;
}

static char *dup_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* do not cut a UTF-8 sequence */
    }
    return strndup(s, n);
}

void dash_add_ticket(dash *d, const dash_ticket *t)
{
    dash_tk *k;

    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n_tickets; i++) {
        if (d->tickets[i].id && !strcmp(d->tickets[i].id, t->id)) {
            pthread_mutex_unlock(&d->lock);
            return;
        }
    }
    k = &d->tickets[d->next_ticket];
    tk_clear(k);
    k->id = dup_cut(t->id, 128);
    k->brand = dup_cut(t->brand ? t->brand : "", 128);
    k->handle = dup_cut(t->handle ? t->handle : "", 64);
    k->polarity = dup_cut(t->polarity ? t->polarity : "", 16);
    k->text = dup_cut(t->text ? t->text : "", DASH_TEXT);
    k->labels = json_array();
    for (size_t i = 0; i < t->n_labels && i < 8; i++)
        json_array_append_new(k->labels, json_stringn(t->labels[i], strnlen(t->labels[i], 64)));
    k->followers = t->followers;
    k->created_ms = t->created_ms;
    k->respond_by_ms = t->respond_by_ms;
    k->priority = t->priority;
    if (!k->id || !k->brand || !k->handle || !k->polarity || !k->text || !k->labels) {
        tk_clear(k);
    } else {
        d->next_ticket = (d->next_ticket + 1) % DASH_TICKETS;
        if (d->n_tickets < DASH_TICKETS)
            d->n_tickets++;
    }
    pthread_mutex_unlock(&d->lock);
}

void dash_progress(dash *d, int64_t emitted_through, int64_t watermark)
{
    pthread_mutex_lock(&d->lock);
    d->through = emitted_through;
    d->watermark = watermark;
    pthread_mutex_unlock(&d->lock);
}

int dash_brand_complaints(dash *d, const char *brand_id, double *mean)
{
    int n = 0;
    uint64_t sum = 0;

    *mean = 0.0;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n_brands; i++) {
        dash_brand *b = &d->brands[i];
        int64_t first = INT64_MAX, end = d->through;
        if (strcmp(b->id, brand_id))
            continue;
        for (size_t k = 0; k < DASH_SLOTS; k++) {
            if (b->start[k] >= 0 && b->start[k] < first)
                first = b->start[k];
        }
        for (int64_t st = first; end != INT64_MIN && st + d->window_ms <= end && n < DASH_SLOTS;
             st += d->window_ms) {
            size_t k = slot_of(d, st);
            sum += b->start[k] == st ? b->complaints[k] : 0;
            n++;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (n)
        *mean = (double)sum / n;
    return n;
}

size_t dash_alerts_get(dash *d, dash_alert_view *out, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n_alerts && n < max; i++) {
        dash_alert *a = &d->alerts[(d->next_alert + DASH_ALERTS - 1 - i) % DASH_ALERTS];
        json_t *o = json_loads(a->json, 0, NULL);
        dash_alert_view *v = &out[n];
        const char *name = json_string_value(json_object_get(json_object_get(o, "brand"), "name"));
        const char *h = json_string_value(json_object_get(json_object_get(o, "author"), "handle"));
        if (!o)
            continue;
        memset(v, 0, sizeof(*v));
        snprintf(v->type, sizeof(v->type), "%s", a->type);
        snprintf(v->brand, sizeof(v->brand), "%s", name ? name : a->brand);
        snprintf(v->handle, sizeof(v->handle), "%s", h ? h : "");
        v->window_start = a->window_start;
        v->complaints = (long long)json_integer_value(json_object_get(o, "complaints"));
        v->baseline = json_number_value(json_object_get(o, "baseline"));
        v->ratio = json_number_value(json_object_get(o, "ratio"));
        json_decref(o);
        n++;
    }
    pthread_mutex_unlock(&d->lock);
    return n;
}

/* ---- answers (called with the lock held) ---- */

/* The newest closed window's end; before the first close, the newest window
 * any record named. */
static int64_t newest_end(const dash *d)
{
    int64_t e = d->through;
    if (e == INT64_MIN) {
        for (size_t i = 0; i < d->n_brands; i++)
            for (size_t k = 0; k < DASH_SLOTS; k++)
                if (d->brands[i].start[k] >= 0 && d->brands[i].start[k] + d->window_ms > e)
                    e = d->brands[i].start[k] + d->window_ms;
    }
    return e;
}

static json_t *api_brands(dash *d, int64_t now)
{
    int64_t end = newest_end(d);
    double per_min = 60000.0 / (double)d->window_ms;
    json_t *o = json_object(), *arr = json_array();

    json_object_set_new(o, "now", iso(now));
    json_object_set_new(o, "window_s", json_integer(d->window_ms / 1000));
    json_object_set_new(o, "through", end == INT64_MIN ? json_null() : iso(end));
    json_object_set_new(o, "lag_s", end == INT64_MIN ? json_null()
                                                     : json_integer((now - end) / 1000));
    for (size_t i = 0; i < d->n_brands && end != INT64_MIN; i++) {
        dash_brand *b = &d->brands[i];
        json_t *jb = json_object(), *men = json_array(), *com = json_array();
        uint64_t tm = 0, tc = 0;
        for (int k = DASH_SLOTS; k >= 1; k--) {
            int64_t start = end - (int64_t)k * d->window_ms;
            size_t s = slot_of(d, start);
            uint32_t m = b->start[s] == start ? b->mentions[s] : 0;
            uint32_t c = b->start[s] == start ? b->complaints[s] : 0;
            tm += m;
            tc += c;
            json_array_append_new(men, json_real((double)m * per_min));
            json_array_append_new(com, json_real((double)c * per_min));
        }
        json_object_set_new(jb, "id", json_string(b->id));
        json_object_set_new(jb, "name", json_string(b->name));
        json_object_set_new(jb, "mentions_hour", json_integer((json_int_t)tm));
        json_object_set_new(jb, "complaints_hour", json_integer((json_int_t)tc));
        json_object_set_new(jb, "mentions_per_min", men);
        json_object_set_new(jb, "complaints_per_min", com);
        json_array_append_new(arr, jb);
    }
    json_object_set_new(o, "brands", arr);
    return o;
}

static json_t *api_alerts(dash *d, int64_t now)
{
    int64_t end = newest_end(d);
    json_t *o = json_object(), *arr = json_array();

    json_object_set_new(o, "now", iso(now));
    for (size_t i = 0; i < d->n_alerts; i++) {
        dash_alert *a = &d->alerts[(d->next_alert + DASH_ALERTS - 1 - i) % DASH_ALERTS];
        json_t *rec = json_loads(a->json, 0, NULL);
        if (!rec)
            continue;
        json_object_set_new(rec, "active",
                            json_boolean(end != INT64_MIN &&
                                         a->window_start >=
                                             end - (int64_t)d->active_windows * d->window_ms));
        json_array_append_new(arr, rec);
    }
    json_object_set_new(o, "alerts", arr);
    return o;
}

static int tk_cmp(const void *a, const void *b)
{
    const dash_tk *x = *(dash_tk *const *)a, *y = *(dash_tk *const *)b;
    if (x->respond_by_ms != y->respond_by_ms)
        return x->respond_by_ms < y->respond_by_ms ? -1 : 1;
    return y->priority - x->priority;
}

static json_t *api_tickets(dash *d, int64_t now)
{
    dash_tk *v[DASH_TICKETS];
    size_t n = 0;
    json_t *o = json_object(), *arr = json_array();

    for (size_t i = 0; i < d->n_tickets; i++)
        if (d->tickets[i].id)
            v[n++] = &d->tickets[i];
    qsort(v, n, sizeof(*v), tk_cmp);
    json_object_set_new(o, "now", iso(now));
    for (size_t i = 0; i < n && i < DASH_TICKETS_SHOWN; i++) {
        json_t *t = json_object();
        json_object_set_new(t, "id", json_string(v[i]->id));
        json_object_set_new(t, "brand", json_string(v[i]->brand));
        json_object_set_new(t, "handle", json_string(v[i]->handle));
        json_object_set_new(t, "followers", json_integer(v[i]->followers));
        json_object_set_new(t, "polarity", json_string(v[i]->polarity));
        json_object_set_new(t, "priority", json_integer(v[i]->priority));
        json_object_set_new(t, "labels", json_incref(v[i]->labels));
        json_object_set_new(t, "text", json_string(v[i]->text));
        json_object_set_new(t, "created_at", iso(v[i]->created_ms));
        json_object_set_new(t, "respond_by", iso(v[i]->respond_by_ms));
        json_object_set_new(t, "due_in_s", json_integer((v[i]->respond_by_ms - now) / 1000));
        json_array_append_new(arr, t);
    }
    json_object_set_new(o, "tickets", arr);
    return o;
}

static json_t *api_rejects(dash *d)
{
    json_t *o = json_object(), *arr = json_array();

    for (int i = 0; d->m && i < METRICS_REJECT_COUNT; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "reason", json_string(metrics_reject_name((metrics_reject)i)));
        json_object_set_new(r, "count", json_integer((json_int_t)metrics_rejected_count(
                                            d->m, (metrics_reject)i)));
        json_array_append_new(arr, r);
    }
    json_object_set_new(o, "rejects", arr);
    return o;
}

int dash_serve(dash *d, const char *path, char **body, size_t *len, const char **content_type)
{
    json_t *o = NULL;
    int64_t now;

    if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
        size_t n;
        const char *page = dash_page(&n);
        if (!(*body = malloc(n)))
            return -1;
        memcpy(*body, page, n);
        *len = n;
        *content_type = "text/html; charset=utf-8";
        return 1;
    }
    if (strncmp(path, "/api/", 5))
        return 0;
    pthread_mutex_lock(&d->lock);
    now = d->now_ms(d->now_opaque);
    if (!strcmp(path, "/api/brands"))
        o = api_brands(d, now);
    else if (!strcmp(path, "/api/alerts"))
        o = api_alerts(d, now);
    else if (!strcmp(path, "/api/tickets"))
        o = api_tickets(d, now);
    else if (!strcmp(path, "/api/rejects"))
        o = api_rejects(d);
    pthread_mutex_unlock(&d->lock);
    if (!o)
        return 0;
    *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!*body)
        return -1;
    *len = strlen(*body);
    *content_type = "application/json";
    return 1;
}

/* ---- metrics ---- */

void dash_metrics(void *opaque, metrics_page *pg)
{
    dash *d = opaque;
    char value[32];

    pthread_mutex_lock(&d->lock);
    metrics_page_family(pg, "earshot_alerts_total", "counter",
                        "Care alerts produced by the in-run aggregator, per brand and type "
                        "(spike, update, influencer).");
    for (size_t i = 0; i < d->n_counts; i++) {
        metrics_label labels[2] = {{"brand", d->counts[i].brand},
                                   {"type", d->counts[i].type}};
        snprintf(value, sizeof(value), "%" PRIu64, d->counts[i].n);
        metrics_page_sample(pg, "earshot_alerts_total", labels, 2, value);
    }
    metrics_page_family(pg, "earshot_watch_window_lag_seconds", "gauge",
                        "Wall time minus the end of the newest closed window (absent before "
                        "the first close).");
    if (d->through != INT64_MIN) {
        snprintf(value, sizeof(value), "%.3f", (double)(wall_now(NULL) - d->through) / 1000.0);
        metrics_page_sample(pg, "earshot_watch_window_lag_seconds", NULL, 0, value);
    }
    pthread_mutex_unlock(&d->lock);
}
