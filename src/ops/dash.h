/*
 * dash: the care dashboard's state and its JSON API. The aggregator's
 * records (window statistics, alerts), its tickets and its progress are
 * pushed in from the thread that runs it; the HTTP thread reads:
 *   /            the page (web/dashboard.html, compiled into the binary)
 *   /api/brands  per-brand mentions and complaints per minute, the last
 *                DASH_SLOTS windows up to the newest closed one
 *   /api/alerts  the newest alerts, each with "active" (its window within
 *                `active_windows` of the newest closed one)
 *   /api/tickets the newest tickets, most urgent first, with due_in_s
 *                (respond_by - the dashboard's clock; negative: overdue)
 *   /api/rejects earshot_rejected_total per reason (from the registry)
 * and renders earshot_alerts_total{brand,type} and
 * earshot_watch_window_lag_seconds for /metrics (metrics_set_extra).
 *
 * Bounded: at most DASH_MAX_BRANDS brands (the rest are not shown),
 * DASH_ALERTS alerts of at most DASH_ALERT_BYTES each, DASH_TICKETS tickets
 * with their text cut to DASH_TEXT bytes; every answer is a few hundred KiB
 * at most, whatever the input.
 *
 * Thread-safety: every function may be called from any thread (one mutex).
 * Cost: a record is one jansson parse and O(brands) at most; an API answer
 * is O(what it returns).
 */
#ifndef EARSHOT_OPS_DASH_H
#define EARSHOT_OPS_DASH_H

#include <stddef.h>
#include <stdint.h>

#include "ops/metrics.h"

#define DASH_SLOTS 60
#define DASH_MAX_BRANDS 64
#define DASH_ALERTS 32
#define DASH_ALERT_BYTES 4096
#define DASH_TICKETS 64
#define DASH_TICKETS_SHOWN 30
#define DASH_TEXT 280

typedef struct dash dash;

/* window_ms: the aggregator's window; active_windows: how long an alert
 * stays active (the cooldown). m: the registry the reject counts come from
 * (NULL: none). NULL + err when out of memory. */
dash *dash_new(int64_t window_ms, int active_windows, metrics *m, char *err, size_t err_size);
void dash_free(dash *d);

/* The clock "due in" is measured against: wall time by default; the demo
 * passes its own. fn runs under the dashboard's lock. */
void dash_set_clock(dash *d, int64_t (*now_ms)(void *opaque), void *opaque);

/* A record from the aggregator: alert != 0 for care.alerts, else a
 * brand.stats record. Records that are not what they should be are
 * ignored (returns -1). */
int dash_record(dash *d, int alert, const char *json, size_t len);

typedef struct dash_ticket {
    const char *id, *brand, *handle, *polarity, *text;
    const char *const *labels;
    size_t n_labels;
    int64_t followers, created_ms, respond_by_ms;
    int priority;
} dash_ticket;

/* A new ticket; one already held (same id) is ignored. */
void dash_add_ticket(dash *d, const dash_ticket *t);

/* The aggregator's progress: windows through emitted_through are closed. */
void dash_progress(dash *d, int64_t emitted_through, int64_t watermark);

/* The answer for a GET of path: 1 with a malloc'ed body and its content
 * type, 0 when the path is not the dashboard's, -1 out of memory. */
int dash_serve(dash *d, const char *path, char **body, size_t *len, const char **content_type);

/* For a text view (the demo): a brand's mean complaints per closed window
 * over the windows since its first record, up to DASH_SLOTS of them.
 * Returns the number of windows averaged (0: the brand has no closed
 * window yet). */
int dash_brand_complaints(dash *d, const char *brand_id, double *mean);

typedef struct dash_alert_view {
    char type[16], brand[64];
    int64_t window_start;
    long long complaints;
    double baseline, ratio;
    char handle[64]; /* influencer alerts: the author */
} dash_alert_view;

/* Copies up to max of the newest alerts, newest first; returns how many. */
size_t dash_alerts_get(dash *d, dash_alert_view *out, size_t max);

/* The page (web/dashboard.html) as compiled in; not NUL-terminated. */
const char *dash_page(size_t *len);

/* For metrics_set_extra: earshot_alerts_total{brand,type} and
 * earshot_watch_window_lag_seconds. */
void dash_metrics(void *d, metrics_page *pg);

#endif
