/*
 * dash: the care dashboard's state and JSON API on a fixed clock: exact
 * per-minute series, alert order and activity, ticket order and "due in"
 * seconds, the bounds (brands, alerts, tickets, text, answer size), the
 * metrics text, and the page itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ops/dash.h"
#include "ops/metrics.h"

#define T0 1714564800000LL /* 2024-05-01T12:00:00Z */
#define MIN 60000LL

static int64_t fixed_now;
static int64_t fixed_clock(void *opaque)
{
    (void)opaque;
    return fixed_now;
}

static dash *new_dash(void)
{
    char err[128];
    dash *d = dash_new(MIN, 10, NULL, err, sizeof(err));
    assert_non_null(d);
    dash_set_clock(d, fixed_clock, NULL);
    return d;
}

static json_t *get(dash *d, const char *path, size_t *len_out)
{
    char *body = NULL;
    size_t len = 0;
    const char *ct = NULL;
    json_t *o;

    assert_int_equal(dash_serve(d, path, &body, &len, &ct), 1);
    assert_string_equal(ct, "application/json");
    assert_int_equal(strlen(body), len);
    o = json_loads(body, 0, NULL);
    assert_non_null(o);
    free(body);
    if (len_out)
        *len_out = len;
    return o;
}

/* id and name are written into JSON as they are: pass them escaped. */
static int stats_rc(dash *d, const char *id, const char *name, int minute, int mentions,
                    int complaints)
{
    char json[512], ts[32];
    time_t t = (time_t)((T0 + minute * MIN) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(json, sizeof(json),
             "{\"brand\":{\"id\":\"%s\",\"name\":\"%s\"},\"window_start\":\"%s\","
             "\"mentions\":%d,\"complaints\":%d}",
             id, name, ts, mentions, complaints);
    return dash_record(d, 0, json, strlen(json));
}

static void stats(dash *d, const char *id, const char *name, int minute, int mentions,
                  int complaints)
{
    assert_int_equal(stats_rc(d, id, name, minute, mentions, complaints), 0);
}

static void alert(dash *d, const char *id, const char *type, int minute)
{
    char json[512], ts[32];
    time_t t = (time_t)((T0 + minute * MIN) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(json, sizeof(json),
             "{\"type\":\"%s\",\"brand\":{\"id\":\"%s\",\"name\":\"%s\"},\"window_start\":\"%s\","
             "\"complaints\":40}",
             type, id, id, ts);
    assert_int_equal(dash_record(d, 1, json, strlen(json)), 0);
}

static void test_brands_series(void **state)
{
    dash *d = new_dash();
    json_t *o, *b, *men, *com;
    (void)state;

    fixed_now = T0 + 70 * MIN;
    stats(d, "acme", "Acme \\\"Inc\\\"", 5, 10, 2);
    stats(d, "acme", "Acme \\\"Inc\\\"", 68, 30, 20);
    stats(d, "globex", "Globex", 69, 4, 1);
    stats(d, "acme", "Acme \\\"Inc\\\"", 7, 7, 7); /* 12:07: over an hour before 13:10, not shown */
    assert_int_equal(stats_rc(d, "acme", "Acme", 8, 99, 99), -1); /* older than its slot's 13:08 */
    dash_progress(d, T0 + 70 * MIN, T0 + 70 * MIN + 5000);
    o = get(d, "/api/brands", NULL);
    assert_string_equal(json_string_value(json_object_get(o, "through")), "2024-05-01T13:10:00Z");
    assert_int_equal(json_integer_value(json_object_get(o, "lag_s")), 0);
    assert_int_equal(json_array_size(json_object_get(o, "brands")), 2);
    b = json_array_get(json_object_get(o, "brands"), 0);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "Acme \"Inc\"");
    men = json_object_get(b, "mentions_per_min");
    com = json_object_get(b, "complaints_per_min");
    assert_int_equal(json_array_size(men), DASH_SLOTS);
    /* slot i is the window ending DASH_SLOTS - i windows before 13:10 */
    assert_true(json_real_value(json_array_get(men, 58)) == 30.0); /* 13:08 */
    assert_true(json_real_value(json_array_get(com, 58)) == 20.0);
    assert_true(json_real_value(json_array_get(men, 59)) == 0.0);
    assert_true(json_real_value(json_array_get(men, 0)) == 0.0); /* 12:10 */
    assert_int_equal(json_integer_value(json_object_get(b, "mentions_hour")), 30);
    assert_int_equal(json_integer_value(json_object_get(b, "complaints_hour")), 20);
    json_decref(o);
    dash_free(d);
}

static void test_brands_bounded(void **state)
{
    dash *d = new_dash();
    char id[32];
    json_t *o;
    size_t len;
    (void)state;

    for (int i = 0; i < DASH_MAX_BRANDS + 20; i++) {
        snprintf(id, sizeof(id), "brand%03d", i);
        for (int m = 0; m < DASH_SLOTS; m++)
            assert_int_equal(stats_rc(d, id, id, m, 1000000, 999999),
                             i < DASH_MAX_BRANDS ? 0 : -1); /* the rest are not shown */
    }
    dash_progress(d, T0 + DASH_SLOTS * MIN, T0 + DASH_SLOTS * MIN);
    o = get(d, "/api/brands", &len);
    assert_int_equal(json_array_size(json_object_get(o, "brands")), DASH_MAX_BRANDS);
    assert_true(len < 512 * 1024);
    json_decref(o);
    dash_free(d);
}

static void test_alerts_newest_first_active(void **state)
{
    dash *d = new_dash();
    json_t *o, *a;
    char big[DASH_ALERT_BYTES + 100];
    (void)state;

    fixed_now = T0 + 40 * MIN;
    alert(d, "acme", "spike", 10);
    alert(d, "globex", "spike", 28);
    alert(d, "acme", "influencer", 31);
    memset(big, ' ', sizeof(big));
    memcpy(big, "{\"type\":\"spike\",\"brand\":{\"id\":\"x\"},\"window_start\":\"2024-05-01T12:00:00Z\"}",
           72);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(dash_record(d, 1, big, strlen(big)), -1); /* too large: ignored */
    assert_int_equal(dash_record(d, 1, "not json", 8), -1);
    dash_progress(d, T0 + 40 * MIN, T0 + 40 * MIN);
    o = get(d, "/api/alerts", NULL);
    a = json_object_get(o, "alerts");
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "type")),
                        "influencer");
    assert_true(json_is_true(json_object_get(json_array_get(a, 0), "active")));
    /* active: window_start within 10 windows of 12:40 (12:31 yes, 12:28 no) */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_array_get(a, 1), "brand"), "id")),
        "globex");
    assert_true(json_is_false(json_object_get(json_array_get(a, 1), "active")));
    assert_true(json_is_false(json_object_get(json_array_get(a, 2), "active")));
    json_decref(o);

    for (int i = 0; i < DASH_ALERTS + 5; i++)
        alert(d, "acme", "update", 40 + i);
    o = get(d, "/api/alerts", NULL);
    assert_int_equal(json_array_size(json_object_get(o, "alerts")), DASH_ALERTS);
    json_decref(o);
    dash_free(d);
}

static void test_tickets_sorted_due(void **state)
{
    dash *d = new_dash();
    const char *labels[] = {"outage", "billing"};
    char text[DASH_TEXT + 50];
    json_t *o, *t;
    (void)state;

    fixed_now = T0 + 30 * MIN;
    /* respond_by at +12, -3 and +60 minutes; one repeated id */
    dash_ticket a = {"p1", "Acme", "alice", "complaint", "late again", labels, 2, 10,
                     T0, T0 + 42 * MIN, 85};
    dash_ticket b = {"p2", "Acme", "bob", "question", "where is it", NULL, 0, 5,
                     T0, T0 + 27 * MIN, 50};
    dash_ticket c = {"p3", "Globex", "carol", "complaint", text, NULL, 0, 5, T0,
                     T0 + 90 * MIN, 40};
    /* text: "é" repeated so DASH_TEXT falls inside a character */
    for (size_t i = 0; i + 2 < sizeof(text); i += 2)
        memcpy(text + i, "\xc3\xa9", 2);
    text[sizeof(text) - 1 - (sizeof(text) - 1) % 2] = '\0';
    text[DASH_TEXT + 1] = '\0';
    dash_add_ticket(d, &a);
    dash_add_ticket(d, &b);
    dash_add_ticket(d, &c);
    dash_add_ticket(d, &a);
    o = get(d, "/api/tickets", NULL);
    t = json_object_get(o, "tickets");
    assert_int_equal(json_array_size(t), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "id")), "p2");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "due_in_s")),
                     -180);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "id")), "p1");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 1), "due_in_s")), 720);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "respond_by")),
                        "2024-05-01T12:42:00Z");
    assert_int_equal(json_array_size(json_object_get(json_array_get(t, 1), "labels")), 2);
    /* cut to at most DASH_TEXT bytes, on a character boundary (valid JSON
     * string: jansson refused to load it otherwise) */
    assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(t, 2), "text"))),
                     DASH_TEXT);
    json_decref(o);

    for (int i = 0; i < DASH_TICKETS * 2; i++) {
        char id[16];
        snprintf(id, sizeof(id), "q%d", i);
        dash_ticket k = {id, "Acme", "h", "complaint", "x", NULL, 0, 1, T0, T0 + i * MIN, 90};
        dash_add_ticket(d, &k);
    }
    o = get(d, "/api/tickets", NULL);
    t = json_object_get(o, "tickets");
    assert_int_equal(json_array_size(t), DASH_TICKETS_SHOWN);
    /* the ring keeps the newest DASH_TICKETS: q64.. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "id")), "q64");
    json_decref(o);
    dash_free(d);
}

static void test_rejects_and_metrics(void **state)
{
    char err[128];
    metrics *m = metrics_new(1, err, sizeof(err));
    dash *d = dash_new(MIN, 10, m, err, sizeof(err));
    json_t *o, *r;
    char *text;
    size_t len;
    (void)state;

    metrics_rejected(metrics_shard_get(m, 0), METRICS_REJECT_NOT_JSON);
    metrics_rejected(metrics_shard_get(m, 0), METRICS_REJECT_NOT_JSON);
    metrics_rejected(metrics_shard_get(m, 0), METRICS_REJECT_TOO_LARGE);
    o = get(d, "/api/rejects", NULL);
    r = json_object_get(o, "rejects");
    assert_int_equal(json_array_size(r), METRICS_REJECT_COUNT);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "reason")),
                        "not_json");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "count")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 5), "count")), 1);
    json_decref(o);

    alert(d, "ac\\\"me", "spike", 1);
    alert(d, "ac\\\"me", "spike", 30);
    alert(d, "globex", "influencer", 2);
    metrics_set_extra(m, dash_metrics, d);
    text = metrics_render(m, &len);
    assert_non_null(strstr(text, "# TYPE earshot_alerts_total counter\n"
                                 "earshot_alerts_total{brand=\"ac\\\"me\",type=\"spike\"} 2\n"
                                 "earshot_alerts_total{brand=\"globex\",type=\"influencer\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE earshot_watch_window_lag_seconds gauge\n"));
    assert_null(strstr(text, "earshot_watch_window_lag_seconds 0")); /* no close yet */
    free(text);
    metrics_set_extra(m, NULL, NULL);
    dash_free(d);
    metrics_free(m);
}

static void test_page_and_paths(void **state)
{
    dash *d = new_dash();
    char *body = NULL;
    size_t len = 0;
    const char *ct = NULL;
    (void)state;

    assert_int_equal(dash_serve(d, "/", &body, &len, &ct), 1);
    assert_string_equal(ct, "text/html; charset=utf-8");
    assert_true(len > 1000);
    assert_memory_equal(body, "<!doctype html>", 15);
    assert_non_null(memmem(body, len, "/api/tickets", 12));
    assert_null(memmem(body, len, "https://", 8)); /* nothing from a CDN */
    free(body);
    assert_int_equal(dash_serve(d, "/api/nope", &body, &len, &ct), 0);
    assert_int_equal(dash_serve(d, "/metrics", &body, &len, &ct), 0);
    dash_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brands_series),
        cmocka_unit_test(test_brands_bounded),
        cmocka_unit_test(test_alerts_newest_first_active),
        cmocka_unit_test(test_tickets_sorted_due),
        cmocka_unit_test(test_rejects_and_metrics),
        cmocka_unit_test(test_page_and_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
