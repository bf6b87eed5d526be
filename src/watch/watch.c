/*
 * watch: per-brand tumbling windows, the complaint baseline and the alert
 * rules. See watch.h for the contract.
 *
 * Layout: brands live in an open-addressing table (by id) plus an array in
 * first-seen order; each brand keeps its open windows in a short list sorted
 * by start (a handful: lateness / window + 1, more only for events from the
 * future). A close collects every closable (brand, window), sorts them by
 * (start, brand id) so the output order does not depend on the table, and
 * closes them in that order: a brand's baseline learns its windows in time
 * order.
 */
#include "watch/watch.h"
#include "base/base_buf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "watch/watch_event.h"
#include "watch/watch_idset.h"

#define WATCH_TOP 5     /* top_labels entries */
#define WATCH_SAMPLES 5 /* sample_post_ids */
#define WATCH_NONE INT64_MIN
#define WATCH_WINSOR_Z 3.0 /* sd above the baseline a window teaches it at most */

typedef struct watch_label {
    char *name;
    uint64_t n;
} watch_label;

typedef struct watch_labels {
    watch_label *v;
    size_t n, cap;
} watch_labels;

typedef struct watch_window {
    int64_t start;
    uint64_t mentions, complaints, praise, questions, tickets, reach, verified, retweets;
    watch_labels labels;           /* every mention's labels */
    watch_labels complaint_labels; /* for the alert */
    char *samples[WATCH_SAMPLES];  /* complaint post ids, in arrival order */
    int n_samples;
    char *loudest_handle; /* the complaint author with most followers (first on ties) */
    int64_t loudest_followers;
    struct watch_window *next;
} watch_window;

typedef struct watch_brand {
    char *id, *name;
    watch_window *windows;
    /* The window the last event went to: the next one almost always goes
     * there too, and while a slow partition holds the watermark back (a
     * backlog, a replay) the list is dozens of windows long. */
    watch_window *hot;
    /* Complaints per window, exponentially weighted. */
    double mean, var;
    int64_t learned;      /* windows learned */
    int64_t last_learned; /* start of the last window learned */
    int64_t last_fire;    /* start of the last window that met the rule */
    int64_t last_alert;   /* start of the last window that emitted spike/update */
} watch_brand;

struct watch {
    watch_config cfg;
    double alpha;
    watch_emit_fn emit;
    void *opaque;

    watch_brand **table; /* open addressing by id hash; NULL = empty */
    size_t table_mask;
    watch_brand **brands; /* first-seen order */
    size_t n_brands, brands_cap;

    int n_sources;
    int64_t *src_max; /* largest event time per source */
    unsigned char *src_idle;
    int64_t watermark;
    int64_t closed_through;     /* every window ending <= this has closed */
    int64_t suppress_through;   /* set by a restart */

    watch_idset *ids;
    watch_event_parser *ep;
    watch_stats st;
    watch_ticket_fn on_ticket;
    void *ticket_opaque;
};

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The digits of s[i..i+n), or -1 when one is not a digit. */
static int digits(const char *s, int i, int n)
{
    int v = 0;
    for (int k = i; k < i + n; k++) {
        if (s[k] < '0' || s[k] > '9')
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

/* By hand, not sscanf: it ran once per event and was an eighth of
 * watch_feed's time; it is also stricter (sscanf's %2d took " 5" or "+5"). */
int watch_parse_time(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, se;

    if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return -1;
    y = digits(s, 0, 4);
    mo = digits(s, 5, 2);
    d = digits(s, 8, 2);
    h = digits(s, 11, 2);
    mi = digits(s, 14, 2);
    se = digits(s, 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 60)
        return -1;
    *out_ms = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se) *
              1000;
    return 0;
}

void watch_format_time(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- config ---- */

void watch_config_defaults(watch_config *cfg)
{
    *cfg = (watch_config){
        .window_ms = 60000,
        .lateness_ms = 30000,
        .baseline_ms = 3600000,
        .dedup_ms = 7200000,
        .dedup_max = 2000000,
        .min_priority = 30,
        .min_count = 8,
        .factor = 3.0,
        .z_min = 6.0,
        .cooldown = 10,
        .warmup = 5,
        .influencer_followers = 100000,
    };
}

int watch_config_check(const watch_config *c, char *err, size_t err_size)
{
    const char *bad = NULL;

    if (c->window_ms < 1000 || c->window_ms > 86400000)
        bad = "window must be 1 s to 1 day";
    else if (c->lateness_ms < 0 || c->lateness_ms > 86400000)
        bad = "lateness must be 0 to 1 day";
    else if (c->baseline_ms < c->window_ms)
        bad = "the baseline horizon must be at least one window";
    else if (c->dedup_ms < c->window_ms + c->lateness_ms)
        bad = "the de-duplication horizon must cover a window plus the lateness";
    else if (c->dedup_max < 1)
        bad = "the de-duplication set must hold at least one id";
    else if (c->min_count < 1)
        bad = "min_count must be at least 1";
    else if (!(c->factor >= 1.0) || !(c->z_min >= 0.0))
        bad = "factor must be >= 1 and z_min >= 0";
    else if (c->cooldown < 1 || c->warmup < 0)
        bad = "cooldown must be >= 1 window and warmup >= 0";
    else if (c->influencer_followers < 1)
        bad = "influencer_followers must be >= 1";
    if (bad) {
        snprintf(err, err_size, "watch: %s", bad);
        return -1;
    }
    return 0;
}

/* ---- labels ---- */

static int labels_add(watch_labels *ls, const char *name, uint64_t n)
{
    for (size_t i = 0; i < ls->n; i++) {
        if (!strcmp(ls->v[i].name, name)) {
            ls->v[i].n += n;
            return 0;
        }
    }
    if (ls->n == ls->cap) {
        watch_label *v = base_grow(ls->v, &ls->cap, sizeof(*v), 8);
        if (!v)
            return -1;
        ls->v = v;
    }
    if (!(ls->v[ls->n].name = strdup(name)))
        return -1;
    ls->v[ls->n++].n = n;
    return 0;
}

static void labels_free(watch_labels *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->v[i].name);
    free(ls->v);
}

static int label_cmp(const void *a, const void *b)
{
    const watch_label *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* [[label, n], ...]: most frequent first, ties by name, at most WATCH_TOP. */
static json_t *labels_top(watch_labels *ls)
{
    json_t *arr = json_array();

    if (ls->n)
        qsort(ls->v, ls->n, sizeof(*ls->v), label_cmp);
    for (size_t i = 0; arr && i < ls->n && i < WATCH_TOP; i++)
        json_array_append_new(arr, json_pack("[sI]", ls->v[i].name, (json_int_t)ls->v[i].n));
    return arr;
}

/* ---- brands and windows ---- */

static void window_free(watch_window *win)
{
    labels_free(&win->labels);
    labels_free(&win->complaint_labels);
    for (int i = 0; i < win->n_samples; i++)
        free(win->samples[i]);
    free(win->loudest_handle);
    free(win);
}

static void brand_free(watch_brand *b)
{
    while (b->windows) {
        watch_window *next = b->windows->next;
        window_free(b->windows);
        b->windows = next;
    }
    free(b->id);
    free(b->name);
    free(b);
}

static size_t brand_slot(const watch *w, const char *id)
{
    size_t i = (size_t)watch_idset_hash(id, strlen(id)) & w->table_mask;
    while (w->table[i] && strcmp(w->table[i]->id, id))
        i = (i + 1) & w->table_mask;
    return i;
}

static watch_brand *brand_get(watch *w, const char *id, const char *name)
{
    size_t i = brand_slot(w, id);
    watch_brand *b;

    if (w->table[i])
        return w->table[i];
    if ((w->n_brands + 1) * 2 > w->table_mask + 1) {
        size_t cap = (w->table_mask + 1) * 2;
        watch_brand **t = calloc(cap, sizeof(*t));
        if (!t)
            return NULL;
        free(w->table);
        w->table = t;
        w->table_mask = cap - 1;
        for (size_t k = 0; k < w->n_brands; k++)
            w->table[brand_slot(w, w->brands[k]->id)] = w->brands[k];
        i = brand_slot(w, id);
    }
    if (w->n_brands == w->brands_cap) {
        watch_brand **v = base_grow(w->brands, &w->brands_cap, sizeof(*v), 16);
        if (!v)
            return NULL;
        w->brands = v;
    }
    if (!(b = calloc(1, sizeof(*b))) || !(b->id = strdup(id)) ||
        !(b->name = strdup(name ? name : id))) {
        if (b) {
            free(b->id);
            free(b);
        }
        return NULL;
    }
    b->last_learned = b->last_fire = b->last_alert = WATCH_NONE;
    w->table[i] = b;
    w->brands[w->n_brands++] = b;
    return b;
}

static watch_window *window_get(watch_brand *b, int64_t start)
{
    watch_window **pp = &b->windows, *win;

    if (b->hot && b->hot->start == start)
        return b->hot;
    while (*pp && (*pp)->start < start)
        pp = &(*pp)->next;
    if (*pp && (*pp)->start == start)
        return b->hot = *pp;
    if (!(win = calloc(1, sizeof(*win))))
        return NULL;
    win->start = start;
    win->loudest_followers = -1;
    win->next = *pp;
    *pp = win;
    return b->hot = win;
}

/* ---- lifecycle ---- */

watch *watch_new(const watch_config *cfg, int n_sources, watch_emit_fn emit, void *opaque,
                 char *err, size_t err_size)
{
    watch *w;
    double n_windows;

    if (watch_config_check(cfg, err, err_size))
        return NULL;
    if (n_sources < 1) {
        snprintf(err, err_size, "watch: at least one source");
        return NULL;
    }
    if (!(w = calloc(1, sizeof(*w))))
        goto oom;
    w->cfg = *cfg;
    /* The usual span <-> alpha relation: an EWMA with alpha = 2 / (N + 1)
     * has the centre of mass of an N-window moving average. */
    n_windows = (double)cfg->baseline_ms / (double)cfg->window_ms;
    w->alpha = 2.0 / (n_windows + 1.0);
    w->emit = emit;
    w->opaque = opaque;
    w->table_mask = 63;
    w->n_sources = n_sources;
    w->watermark = w->closed_through = w->suppress_through = WATCH_NONE;
    if (!(w->table = calloc(w->table_mask + 1, sizeof(*w->table))) ||
        !(w->src_max = malloc((size_t)n_sources * sizeof(*w->src_max))) ||
        !(w->src_idle = calloc((size_t)n_sources, 1)) ||
        !(w->ids = watch_idset_new(cfg->dedup_max)) || !(w->ep = watch_event_parser_new()))
        goto oom;
    for (int i = 0; i < n_sources; i++)
        w->src_max[i] = WATCH_NONE;
    return w;
oom:
    snprintf(err, err_size, "watch: out of memory");
    watch_free(w);
    return NULL;
}

void watch_free(watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_brands; i++)
        brand_free(w->brands[i]);
    free(w->brands);
    free(w->table);
    free(w->src_max);
    free(w->src_idle);
    watch_idset_free(w->ids);
    watch_event_parser_free(w->ep);
    free(w);
}

void watch_set_emitted_through(watch *w, int64_t end_ms)
{
    w->suppress_through = end_ms;
}

int64_t watch_emitted_through(const watch *w)
{
    return w->closed_through;
}

int64_t watch_watermark(const watch *w)
{
    return w->watermark;
}

void watch_stats_get(const watch *w, watch_stats *out)
{
    *out = w->st;
    out->brands = w->n_brands;
    out->ids_remembered = watch_idset_size(w->ids);
}

/* ---- records ---- */

static int emit_json(watch *w, watch_record_type type, const watch_brand *b, int64_t start,
                     json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
                  : NULL;
    watch_record rec = {type, b->id, start, s, s ? strlen(s) : 0};
    int rc = s ? w->emit(w->opaque, &rec) : -1;

    free(s);
    json_decref(obj);
    return rc;
}

static double round4(double x)
{
    return round(x * 1e4) / 1e4;
}

static json_t *brand_json(const watch_brand *b)
{
    return json_pack("{ssss}", "id", b->id, "name", b->name);
}

static json_t *record_head(const char *type, const watch_brand *b, int64_t start, int64_t end)
{
    char ws[32], we[32];
    json_t *o = json_object();

    watch_format_time(start, ws, sizeof(ws));
    watch_format_time(end, we, sizeof(we));
    if (!o)
        return NULL;
    if (type)
        json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "brand", brand_json(b));
    json_object_set_new(o, "window_start", json_string(ws));
    json_object_set_new(o, "window_end", json_string(we));
    return o;
}

static int emit_stats(watch *w, const watch_brand *b, watch_window *win)
{
    json_t *o = record_head(NULL, b, win->start, win->start + w->cfg.window_ms);

    if (o) {
        json_object_set_new(o, "mentions", json_integer((json_int_t)win->mentions));
        json_object_set_new(o, "complaints", json_integer((json_int_t)win->complaints));
        json_object_set_new(o, "praise", json_integer((json_int_t)win->praise));
        json_object_set_new(o, "questions", json_integer((json_int_t)win->questions));
        json_object_set_new(o, "tickets", json_integer((json_int_t)win->tickets));
        json_object_set_new(o, "reach", json_integer((json_int_t)win->reach));
        json_object_set_new(o, "verified", json_integer((json_int_t)win->verified));
        json_object_set_new(o, "top_labels", labels_top(&win->labels));
        json_object_set_new(o, "retweet_share",
                            json_real(round4((double)win->retweets / (double)win->mentions)));
    }
    return emit_json(w, WATCH_RECORD_STATS, b, win->start, o);
}

static int emit_spike(watch *w, const char *type, const watch_brand *b, watch_window *win,
                      double baseline, double ratio, double z)
{
    json_t *o = record_head(type, b, win->start, win->start + w->cfg.window_ms), *ids;

    if (o) {
        json_object_set_new(o, "complaints", json_integer((json_int_t)win->complaints));
        json_object_set_new(o, "baseline", json_real(round4(baseline)));
        json_object_set_new(o, "ratio", json_real(round4(ratio)));
        json_object_set_new(o, "z", json_real(round4(z)));
        json_object_set_new(o, "top_labels", labels_top(&win->complaint_labels));
        ids = json_array();
        for (int i = 0; ids && i < win->n_samples; i++)
            json_array_append_new(ids, json_string(win->samples[i]));
        json_object_set_new(o, "sample_post_ids", ids);
        json_object_set_new(o, "loudest",
                            win->loudest_handle
                                ? json_pack("{sssI}", "handle", win->loudest_handle, "followers",
                                            (json_int_t)win->loudest_followers)
                                : json_null());
    }
    return emit_json(w, WATCH_RECORD_ALERT, b, win->start, o);
}

/* ---- the baseline and the spike rule ---- */

static void baseline_learn(watch *w, watch_brand *b, double x)
{
    if (b->learned == 0) {
        /* First window: start at it, with Poisson's variance (= mean). */
        b->mean = x;
        b->var = x;
    } else {
        double diff = x - b->mean, incr = w->alpha * diff;
        b->mean += incr;
        b->var = (1.0 - w->alpha) * (b->var + diff * incr);
    }
    b->learned++;
}

/* Windows without activity are zero-complaint windows: learned lazily when
 * the brand's next window closes. After 4N of them the baseline is within
 * e^-8 of zero, so the catch-up loop is capped there. */
static void baseline_catch_up(watch *w, watch_brand *b, int64_t start)
{
    int64_t gap, cap = (int64_t)(4.0 * (2.0 / w->alpha - 1.0)) + 1;

    if (b->last_learned == WATCH_NONE || b->learned == 0)
        return;
    gap = (start - b->last_learned) / w->cfg.window_ms - 1;
    for (int64_t i = 0; i < gap && i < cap; i++)
        baseline_learn(w, b, 0.0);
}

/* Closes one window: stats, then the spike rule, then the baseline learns
 * it. Returns 0 or the emit callback's failure. */
static int window_close(watch *w, watch_brand *b, watch_window *win)
{
    int64_t W = w->cfg.window_ms, end = win->start + W;
    int quiet = end <= w->suppress_through;
    double x = (double)win->complaints;
    double floor_var, sd, ratio, z;
    int fire = 0, rc = 0;
    const char *type = NULL;

    baseline_catch_up(w, b, win->start);
    /* The spread never counts as smaller than a Poisson count's (variance =
     * mean, at least 1): a brand with a very steady history would otherwise
     * alert on +2 complaints. */
    floor_var = b->mean > 1.0 ? b->mean : 1.0;
    sd = sqrt(b->var > floor_var ? b->var : floor_var);
    ratio = x / (b->mean > 1.0 ? b->mean : 1.0);
    z = (x - b->mean) / sd;
    /* The z-score decides onset, against the brand's noise; once an
     * episode is on, it goes on while complaints stay at factor x the
     * baseline (which learns the new level, winsorised, within about an
     * hour): a z bar high enough to keep noise quiet would otherwise end a
     * sustained 10x crisis after a few windows, as the baseline's variance
     * grows with it. */
    int in_episode = b->last_fire != WATCH_NONE &&
                     win->start - b->last_fire <= (int64_t)w->cfg.cooldown * W;
    if (b->learned >= w->cfg.warmup && win->complaints >= (uint64_t)w->cfg.min_count &&
        ratio >= w->cfg.factor && (z >= w->cfg.z_min || in_episode)) {
        fire = 1;
        if (!in_episode)
            type = "spike";
        else if (win->start - b->last_alert >= (int64_t)w->cfg.cooldown * W)
            type = "update";
    }

    w->st.windows_closed++;
    if (quiet) {
        w->st.suppressed++;
    } else {
        if ((rc = emit_stats(w, b, win)))
            return rc;
        w->st.stats_emitted++;
    }
    if (type) {
        if (quiet) {
            w->st.suppressed++;
        } else {
            if ((rc = emit_spike(w, type, b, win, b->mean, ratio, z)))
                return rc;
            w->st.alerts_emitted++;
            if (*type == 's')
                w->st.spikes++;
            else
                w->st.updates++;
        }
        b->last_alert = win->start;
    }
    if (fire)
        b->last_fire = win->start;

    /* A spike teaches the baseline only up to WATCH_WINSOR_Z sd above it
     * (winsorised): a long spike stays a spike for a while, a lasting new
     * level is still learned within about an hour. Not z_min: a stricter
     * alert threshold must not make the baseline learn a spike faster. */
    if (b->learned > 0 && x > b->mean + WATCH_WINSOR_Z * sd)
        x = b->mean + WATCH_WINSOR_Z * sd;
    baseline_learn(w, b, x);
    b->last_learned = win->start;
    return 0;
}

typedef struct closing {
    watch_brand *b;
    watch_window *win;
} closing;

static int closing_cmp(const void *a, const void *b)
{
    const closing *x = a, *y = b;
    if (x->win->start != y->win->start)
        return x->win->start < y->win->start ? -1 : 1;
    return strcmp(x->b->id, y->b->id);
}

static int64_t compute_watermark(const watch *w)
{
    int64_t m = INT64_MAX, any = 0;

    for (int i = 0; i < w->n_sources; i++) {
        if (!w->src_idle[i]) {
            any = 1;
            if (w->src_max[i] < m)
                m = w->src_max[i];
        }
    }
    if (!any) {
        m = WATCH_NONE;
        for (int i = 0; i < w->n_sources; i++)
            if (w->src_max[i] > m)
                m = w->src_max[i];
    }
    if (m == WATCH_NONE)
        return w->watermark;
    m -= w->cfg.lateness_ms;
    return m > w->watermark ? m : w->watermark;
}

/* Moves the watermark and closes what it passes. */
static int advance(watch *w, char *err, size_t err_size)
{
    int64_t wm = compute_watermark(w), through;
    closing *cl = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (wm == WATCH_NONE || wm == w->watermark)
        return 0;
    w->watermark = wm;
    through = floor_div(wm, w->cfg.window_ms) * w->cfg.window_ms;
    if (through == w->closed_through)
        return 0;
    for (size_t i = 0; i < w->n_brands; i++) {
        for (watch_window *win = w->brands[i]->windows;
             win && win->start + w->cfg.window_ms <= through; win = win->next) {
            if (n == cap) {
                size_t c = cap ? cap * 2 : 64;
                closing *v = realloc(cl, c * sizeof(*v));
                if (!v) {
                    free(cl);
                    snprintf(err, err_size, "watch: out of memory");
                    return -1;
                }
                cl = v;
                cap = c;
            }
            cl[n++] = (closing){w->brands[i], win};
        }
    }
    if (n)
        qsort(cl, n, sizeof(*cl), closing_cmp);
    for (size_t i = 0; i < n; i++) {
        /* Lists are sorted by start and the order is by start, so the
         * window closing is always its brand's head. */
        watch_brand *b = cl[i].b;
        if ((rc = window_close(w, b, cl[i].win))) {
            snprintf(err, err_size, "watch: emitting a record failed");
            break;
        }
        b->windows = cl[i].win->next;
        if (b->hot == cl[i].win)
            b->hot = NULL;
        window_free(cl[i].win);
    }
    if (!rc) {
        w->closed_through = through;
        watch_idset_expire(w->ids, wm - w->cfg.dedup_ms);
    } else {
        /* What was not closed stays attached; what was is freed above. */
    }
    free(cl);
    return rc ? -1 : 0;
}

int watch_source_idle(watch *w, int source, int idle, char *err, size_t err_size)
{
    if (source < 0 || source >= w->n_sources) {
        snprintf(err, err_size, "watch: no source %d", source);
        return -1;
    }
    w->src_idle[source] = idle != 0;
    return advance(w, err, err_size);
}

/* ---- events ---- */

void watch_set_ticket_hook(watch *w, watch_ticket_fn fn, void *opaque)
{
    w->on_ticket = fn;
    w->ticket_opaque = opaque;
}

#define WATCH_TICKET_LABELS 8

static void ticket_report(watch *w, const watch_event *ev, const watch_brand *b,
                          const char *polarity, const char *handle, int64_t t)
{
    watch_ticket tk;

    if (strcmp(polarity, "complaint") && strcmp(polarity, "question"))
        return;
    if (ev->priority < w->cfg.min_priority || !ev->respond_by ||
        watch_parse_time(ev->respond_by, &tk.respond_by_ms))
        return;
    tk.id = ev->id;
    tk.brand_id = b->id;
    tk.brand_name = b->name;
    tk.handle = handle;
    tk.polarity = polarity;
    tk.text = ev->text ? ev->text : "";
    tk.labels = ev->labels;
    tk.n_labels = ev->n_labels < WATCH_TICKET_LABELS ? ev->n_labels : WATCH_TICKET_LABELS;
    tk.followers = ev->followers;
    tk.created_ms = t;
    tk.priority = (int)ev->priority;
    w->on_ticket(w->ticket_opaque, &tk);
}

/* The event's labels as it had them: the array jansson read when it was the
 * parser (non-strings included), else the strings. */
static json_t *event_labels(const watch_event *ev)
{
    json_t *arr;

    if (ev->labels_json)
        return json_incref((json_t *)ev->labels_json);
    arr = json_array();
    for (size_t i = 0; arr && i < ev->n_labels; i++)
        json_array_append_new(arr, json_string(ev->labels[i]));
    return arr;
}

static int emit_influencer(watch *w, const watch_brand *b, int64_t start,
                           const watch_event *ev, const char *handle)
{
    json_t *o = record_head("influencer", b, start, start + w->cfg.window_ms);

    if (o) {
        json_object_set_new(o, "post_id", json_string(ev->id));
        json_object_set_new(o, "author",
                            json_pack("{sssIsb}", "handle", handle, "followers",
                                      (json_int_t)ev->followers, "verified", ev->verified));
        json_object_set_new(o, "priority", json_integer((json_int_t)ev->priority));
        json_object_set_new(o, "labels", event_labels(ev));
    }
    return emit_json(w, WATCH_RECORD_ALERT, b, start, o);
}

static int window_add(watch *w, watch_window *win, const watch_event *ev, const char *polarity,
                      const char *handle)
{
    int complaint = !strcmp(polarity, "complaint"), question = !strcmp(polarity, "question");
    int64_t followers = ev->followers;

    win->mentions++;
    win->complaints += complaint;
    win->praise += !strcmp(polarity, "praise");
    win->questions += question;
    win->tickets += (complaint || question) && ev->priority >= w->cfg.min_priority;
    win->reach += followers > 0 ? (uint64_t)followers : 0;
    win->verified += ev->verified != 0;
    win->retweets += ev->retweet != 0;
    for (size_t i = 0; i < ev->n_labels; i++) {
        if (labels_add(&win->labels, ev->labels[i], 1) ||
            (complaint && labels_add(&win->complaint_labels, ev->labels[i], 1)))
            return -1;
    }
    if (complaint) {
        if (win->n_samples < WATCH_SAMPLES) {
            if (!(win->samples[win->n_samples] = strdup(ev->id)))
                return -1;
            win->n_samples++;
        }
        if (followers > win->loudest_followers) {
            char *h = strdup(handle);
            if (!h)
                return -1;
            free(win->loudest_handle);
            win->loudest_handle = h;
            win->loudest_followers = followers;
        }
    }
    return 0;
}

int watch_feed(watch *w, int source, const char *json, size_t len, int64_t now_ms,
               watch_result *res, char *err, size_t err_size)
{
    json_t *root = NULL; /* only when jansson had to read it (watch_event.h) */
    watch_event ev;
    watch_event_status es;
    const char *polarity, *handle;
    int64_t t, start;
    int rc = -1;

    res->outcome = WATCH_INVALID;
    res->window_start_ms = 0;
    w->st.events++;
    if (source < 0 || source >= w->n_sources) {
        snprintf(err, err_size, "watch: no source %d", source);
        return -1;
    }
    es = watch_event_parse(w->ep, json, len, &ev);
    if (es == WATCH_EVENT_UNSURE) {
        root = json_loadb(json, len, 0, NULL);
        es = watch_event_from_json(w->ep, root, &ev);
        if (es == WATCH_EVENT_UNSURE)
            goto oom;
    }
    if (es != WATCH_EVENT_OK) {
        w->st.invalid++;
        json_decref(root);
        return 0;
    }
    if (!ev.created_at || watch_parse_time(ev.created_at, &t))
        t = now_ms;
    start = floor_div(t, w->cfg.window_ms) * w->cfg.window_ms;
    res->window_start_ms = start;

    switch (watch_idset_add(w->ids, watch_idset_hash(ev.id, strlen(ev.id)), t)) {
    case 1:
        res->outcome = WATCH_DUPLICATE;
        w->st.duplicates++;
        rc = 0;
        goto done;
    case -1:
        goto oom;
    }

    polarity = ev.polarity ? ev.polarity : "neutral";
    handle = ev.handle ? ev.handle : "";

    if (ev.n_brands == 0) {
        /* No brands array, an empty one, or no brand with a string id. */
        res->outcome = WATCH_NO_BRAND;
        w->st.no_brand++;
    } else {
        int late = w->closed_through != WATCH_NONE && start + w->cfg.window_ms <= w->closed_through;
        watch_brand *first = NULL;

        for (size_t i = 0; i < ev.n_brands; i++) {
            watch_brand *b;
            watch_window *win;
            if (!(b = brand_get(w, ev.brands[i].id, ev.brands[i].name)))
                goto oom;
            if (!first)
                first = b;
            if (late)
                continue;
            if (!(win = window_get(b, start)) || window_add(w, win, &ev, polarity, handle))
                goto oom;
        }
        if (late) {
            res->outcome = WATCH_LATE;
            w->st.late_dropped++;
        } else {
            res->outcome = WATCH_COUNTED;
            w->st.counted++;
        }
        if (w->on_ticket)
            ticket_report(w, &ev, first, polarity, handle, t);
        /* One alert per post (the id set makes it once), to its first brand;
         * a late post is still a real post somebody should answer. */
        if (!strcmp(polarity, "complaint") && ev.followers >= w->cfg.influencer_followers) {
            if (start + w->cfg.window_ms <= w->suppress_through) {
                w->st.suppressed++;
            } else {
                if (emit_influencer(w, first, start, &ev, handle)) {
                    snprintf(err, err_size, "watch: emitting a record failed");
                    goto done;
                }
                w->st.alerts_emitted++;
                w->st.influencers++;
            }
        }
    }

    if (t > w->src_max[source])
        w->src_max[source] = t;
    w->src_idle[source] = 0;
    json_decref(root);
    return advance(w, err, err_size);

oom:
    snprintf(err, err_size, "watch: out of memory");
done:
    json_decref(root);
    return rc;
}
