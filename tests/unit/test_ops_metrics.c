/*
 * metrics: exact Prometheus text for a small registry, reject classes,
 * rules generations across reloads, librdkafka statistics, a strict
 * line-grammar check of the exposition format, and exact totals under
 * concurrent increments (with the cost of one increment printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/metrics.h"

/* ---- a strict checker of text format 0.0.4 -------------------------------
 * Every line is "# HELP name text", "# TYPE name type" or a sample
 * name{label="value",...} value. A family's TYPE comes before its samples
 * and appears once; samples belong to the family declared last (histograms:
 * _bucket, _sum, _count); series are unique; histogram buckets have
 * ascending le ending with +Inf, non-decreasing counts, _count == +Inf. */

static int is_name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_' || c == ':';
}

static const char *parse_name(const char *p, char *out, size_t out_size)
{
    size_t n = 0;

    if (!is_name_start((unsigned char)*p))
        return NULL;
    while (is_name_char((unsigned char)*p) && n + 1 < out_size)
        out[n++] = *p++;
    out[n] = '\0';
    return p;
}

static int parse_value(const char *s, const char *end, double *v)
{
    char buf[64], *e;
    size_t n = (size_t)(end - s);

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!strcmp(buf, "+Inf")) {
        *v = INFINITY;
        return 0;
    }
    if (!strcmp(buf, "-Inf")) {
        *v = -INFINITY;
        return 0;
    }
    if (!strcmp(buf, "NaN")) {
        *v = NAN;
        return 0;
    }
    if (!isdigit((unsigned char)buf[0]) && buf[0] != '-')
        return -1; /* no "inf", "nan", hex or leading '+' */
    *v = strtod(buf, &e);
    return *e ? -1 : 0;
}

typedef struct checker {
    char family[128], type[16];
    char families[64][128];
    size_t n_families;
    char **series;
    size_t n_series;
    double last_le, last_bucket, inf_bucket;
    int saw_inf;
} checker;

static const char *check_family_done(checker *c)
{
    if (!strcmp(c->type, "histogram") && c->family[0] && !c->saw_inf)
        return "histogram without a +Inf bucket";
    return NULL;
}

static const char *check_type(checker *c, const char *line)
{
    char name[128];
    const char *p, *why;

    if (!strncmp(line, "# HELP ", 7)) {
        p = parse_name(line + 7, name, sizeof(name));
        if (!p || *p != ' ' || !p[1])
            return "HELP needs a name and a text";
        return NULL;
    }
    if (strncmp(line, "# TYPE ", 7))
        return "a comment that is not HELP or TYPE";
    p = parse_name(line + 7, name, sizeof(name));
    if (!p || *p != ' ')
        return "TYPE needs a name and a type";
    p++;
    if (strcmp(p, "counter") && strcmp(p, "gauge") && strcmp(p, "histogram") &&
        strcmp(p, "summary") && strcmp(p, "untyped"))
        return "unknown type";
    for (size_t i = 0; i < c->n_families; i++)
        if (!strcmp(c->families[i], name))
            return "family declared twice";
    if ((why = check_family_done(c)))
        return why;
    if (c->n_families == 64)
        return "too many families for the checker";
    strcpy(c->families[c->n_families++], name);
    strcpy(c->family, name);
    strcpy(c->type, p);
    c->last_le = -INFINITY;
    c->last_bucket = 0;
    c->saw_inf = 0;
    return NULL;
}

static const char *check_sample(checker *c, const char *line)
{
    char name[128], lname[128], series[1024], value[512];
    const char *p;
    size_t sl;
    double v, le = NAN;

    p = parse_name(line, name, sizeof(name));
    if (!p)
        return "sample without a metric name";
    sl = (size_t)snprintf(series, sizeof(series), "%s", name);
    if (*p == '{') {
        p++;
        while (*p != '}') {
            char *out = value;
            p = parse_name(p, lname, sizeof(lname));
            if (!p || p[0] != '=' || p[1] != '"')
                return "label needs name=\"value\"";
            p += 2;
            while (*p != '"') {
                if (!*p)
                    return "unterminated label value";
                if (*p == '\\') {
                    if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                        return "bad escape in label value";
                    *out++ = p[1] == 'n' ? '\n' : p[1];
                    p += 2;
                } else {
                    *out++ = *p++;
                }
            }
            *out = '\0';
            p++;
            if (!strcmp(lname, "le")) {
                if (parse_value(value, value + strlen(value), &le))
                    return "le is not a number";
            } else {
                sl += (size_t)snprintf(series + sl, sizeof(series) - sl,
                                       "|%s=%s", lname, value);
            }
            if (*p == ',')
                p++;
            else if (*p != '}')
                return "labels must be separated by ','";
        }
        p++;
    }
    if (*p != ' ')
        return "value must follow one space";
    p++;
    if (parse_value(p, p + strlen(p), &v))
        return "value is not a float";

    if (!c->family[0])
        return "sample before any TYPE";
    if (!strcmp(c->type, "histogram")) {
        size_t fl = strlen(c->family);
        const char *suffix = name + fl;
        if (strncmp(name, c->family, fl))
            return "sample outside its family block";
        if (!strcmp(suffix, "_bucket")) {
            if (isnan(le))
                return "bucket without le";
            if (!(le > c->last_le))
                return "le not ascending";
            if (v < c->last_bucket)
                return "bucket counts decrease";
            c->last_le = le;
            c->last_bucket = v;
            if (isinf(le)) {
                c->saw_inf = 1;
                c->inf_bucket = v;
            }
            sl += (size_t)snprintf(series + sl, sizeof(series) - sl, "|le=%g", le);
        } else if (!strcmp(suffix, "_count")) {
            if (!c->saw_inf || v != c->inf_bucket)
                return "_count differs from the +Inf bucket";
        } else if (strcmp(suffix, "_sum")) {
            return "histogram sample is not _bucket, _sum or _count";
        }
    } else if (strcmp(name, c->family)) {
        return "sample outside its family block";
    } else if (!isnan(le)) {
        return "le label outside a histogram";
    }
    if (!strcmp(c->type, "counter") && !(v >= 0))
        return "negative counter";
    for (size_t i = 0; i < c->n_series; i++)
        if (!strcmp(c->series[i], series))
            return "series repeated";
    c->series = realloc(c->series, (c->n_series + 1) * sizeof(*c->series));
    assert_non_null(c->series);
    c->series[c->n_series++] = strdup(series);
    return NULL;
}

/* Checks a whole exposition: the number of samples, or -1 with the reason
 * and the offending line printed. */
static long check_text(const char *text)
{
    checker c;
    char line[2048];
    const char *p = text, *why = NULL;
    long n;

    memset(&c, 0, sizeof(c));
    if (!*text)
        why = "empty";
    while (!why && *p) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            why = "the last line does not end with \\n";
            break;
        }
        if ((size_t)(nl - p) >= sizeof(line)) {
            why = "line too long for the checker";
            break;
        }
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = '\0';
        if (!line[0])
            why = "blank line";
        else
            why = line[0] == '#' ? check_type(&c, line) : check_sample(&c, line);
        p = nl + 1;
    }
    if (!why)
        why = check_family_done(&c);
    n = why ? -1 : (long)c.n_series;
    if (why)
        print_message("exposition check: %s: '%s'\n", why, line);
    for (size_t i = 0; i < c.n_series; i++)
        free(c.series[i]);
    free(c.series);
    return n;
}

static long check_exposition(const char *text)
{
    long n = check_text(text);

    assert_true(n >= 0);
    return n;
}

/* ---- tests ------------------------------------------------------------- */

static metrics *new_registry(unsigned shards)
{
    char err[256] = "";
    metrics *m = metrics_new(shards, err, sizeof(err));

    assert_non_null(m);
    return m;
}

static void test_reject_classes(void **state)
{
    (void)state;
    /* The reasons post_parse and the engine write today. */
    assert_int_equal(metrics_reject_classify("not JSON: empty"), METRICS_REJECT_NOT_JSON);
    assert_int_equal(metrics_reject_classify("not JSON: trailing content"), METRICS_REJECT_NOT_JSON);
    assert_int_equal(metrics_reject_classify("not an object"), METRICS_REJECT_NOT_OBJECT);
    assert_int_equal(metrics_reject_classify("no text"), METRICS_REJECT_NO_TEXT);
    assert_int_equal(metrics_reject_classify("invalid UTF-8"), METRICS_REJECT_INVALID_UTF8);
    assert_int_equal(metrics_reject_classify("nested too deep"), METRICS_REJECT_TOO_DEEP);
    assert_int_equal(metrics_reject_classify("too large: 9000 bytes > limit 8192"),
                     METRICS_REJECT_TOO_LARGE);
    assert_int_equal(metrics_reject_classify("id must be a string or an integer"),
                     METRICS_REJECT_BAD_ID);
    assert_string_equal(metrics_reject_name(METRICS_REJECT_BAD_ID), "bad_id");
    assert_int_equal(metrics_reject_classify("out of memory"), METRICS_REJECT_OTHER);
    assert_int_equal(metrics_reject_classify(""), METRICS_REJECT_OTHER);
    assert_int_equal(metrics_reject_classify(NULL), METRICS_REJECT_OTHER);
    assert_string_equal(metrics_reject_name(METRICS_REJECT_INVALID_UTF8), "invalid_utf8");
    assert_null(metrics_reject_name(METRICS_REJECT_COUNT));
    assert_string_equal(metrics_route_name(METRICS_ROUTE_TICKETS), "tickets");
    assert_null(metrics_route_name(METRICS_ROUTE_COUNT));
}

static void test_new_refuses_bad_shard_counts(void **state)
{
    char err[256] = "";

    (void)state;
    assert_null(metrics_new(0, err, sizeof(err)));
    assert_non_null(strstr(err, "0 shards"));
    assert_null(metrics_new(100000, err, sizeof(err)));
    assert_non_null(strstr(err, "1 to 1024"));
}

static const char expected_small[] =
    "# HELP earshot_consumed_total Posts read from the input topic.\n"
    "# TYPE earshot_consumed_total counter\n"
    "earshot_consumed_total 5\n"
    "# HELP earshot_input_lost_total Input offsets skipped unread: the position to resume "
    "from was gone and librdkafka reset it forward (auto.offset.reset).\n"
    "# TYPE earshot_input_lost_total counter\n"
    "earshot_input_lost_total 7\n"
    "# HELP earshot_produced_total Messages the broker acknowledged, by route.\n"
    "# TYPE earshot_produced_total counter\n"
    "earshot_produced_total{route=\"enriched\"} 4\n"
    "earshot_produced_total{route=\"tickets\"} 1\n"
    "earshot_produced_total{route=\"rejected\"} 2\n"
    "# HELP earshot_produce_errors_total Messages the producer failed to deliver, by route.\n"
    "# TYPE earshot_produce_errors_total counter\n"
    "earshot_produce_errors_total{route=\"enriched\"} 0\n"
    "earshot_produce_errors_total{route=\"tickets\"} 0\n"
    "earshot_produce_errors_total{route=\"rejected\"} 1\n"
    "# HELP earshot_rejected_total Posts that could not be classified, by reason.\n"
    "# TYPE earshot_rejected_total counter\n"
    "earshot_rejected_total{reason=\"not_json\"} 1\n"
    "earshot_rejected_total{reason=\"not_object\"} 0\n"
    "earshot_rejected_total{reason=\"no_text\"} 0\n"
    "earshot_rejected_total{reason=\"invalid_utf8\"} 0\n"
    "earshot_rejected_total{reason=\"too_deep\"} 0\n"
    "earshot_rejected_total{reason=\"too_large\"} 1\n"
    "earshot_rejected_total{reason=\"bad_id\"} 0\n"
    "earshot_rejected_total{reason=\"other\"} 1\n"
    "# HELP earshot_processing_latency_seconds From consuming a post to the acknowledgement of its last output (to its classification when it has none).\n"
    "# TYPE earshot_processing_latency_seconds histogram\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.000005\"} 2\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.00001\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.000025\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.00005\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.0001\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.00025\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.0005\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.001\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.0025\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.005\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.01\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.025\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.05\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.1\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.25\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"0.5\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"1\"} 3\n"
    "earshot_processing_latency_seconds_bucket{le=\"2.5\"} 4\n"
    "earshot_processing_latency_seconds_bucket{le=\"5\"} 4\n"
    "earshot_processing_latency_seconds_bucket{le=\"10\"} 4\n"
    "earshot_processing_latency_seconds_bucket{le=\"+Inf\"} 5\n"
    "earshot_processing_latency_seconds_sum 62.000015\n"
    "earshot_processing_latency_seconds_count 5\n"
    "# HELP earshot_queue_latency_seconds From an input message's broker timestamp to its consumption: the time a post waited before earshot saw it.\n"
    "# TYPE earshot_queue_latency_seconds histogram\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.000005\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.00001\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.000025\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.00005\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.0001\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.00025\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.0005\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.001\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.0025\"} 0\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.005\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.01\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.025\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.05\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.1\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.25\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"0.5\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"1\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"2.5\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"5\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"10\"} 1\n"
    "earshot_queue_latency_seconds_bucket{le=\"+Inf\"} 2\n"
    "earshot_queue_latency_seconds_sum 20.003\n"
    "earshot_queue_latency_seconds_count 2\n"
    "# HELP earshot_rule_matches_total Posts each rule matched, by stable rule id "
    "(metrics.rules says which rules are shown).\n"
    "# TYPE earshot_rule_matches_total counter\n"
    "earshot_rule_matches_total{rule=\"wait.on_hold\"} 2\n"
    "earshot_rule_matches_total{rule=\"praise.thanks\"} 1\n"
    "# HELP earshot_brand_mentions_total Posts that mentioned each brand.\n"
    "# TYPE earshot_brand_mentions_total counter\n"
    "earshot_brand_mentions_total{brand=\"comcast\"} 4\n"
    "earshot_brand_mentions_total{brand=\"dell\"} 2\n"
    "# HELP earshot_brand_complaints_total Complaints that mentioned each brand.\n"
    "# TYPE earshot_brand_complaints_total counter\n"
    "earshot_brand_complaints_total{brand=\"comcast\"} 2\n"
    "earshot_brand_complaints_total{brand=\"dell\"} 0\n"
    "# HELP earshot_brand_praise_total Praise that mentioned each brand.\n"
    "# TYPE earshot_brand_praise_total counter\n"
    "earshot_brand_praise_total{brand=\"comcast\"} 1\n"
    "earshot_brand_praise_total{brand=\"dell\"} 0\n"
    "# HELP earshot_brand_questions_total Questions that mentioned each brand.\n"
    "# TYPE earshot_brand_questions_total counter\n"
    "earshot_brand_questions_total{brand=\"comcast\"} 0\n"
    "earshot_brand_questions_total{brand=\"dell\"} 1\n"
    "# HELP earshot_brand_tickets_total Posts sent to the tickets topic, by the brand they "
    "mentioned.\n"
    "# TYPE earshot_brand_tickets_total counter\n"
    "earshot_brand_tickets_total{brand=\"comcast\"} 1\n"
    "earshot_brand_tickets_total{brand=\"dell\"} 1\n"
    "# HELP earshot_rules_info The rules version classifying posts now (always 1).\n"
    "# TYPE earshot_rules_info gauge\n"
    "earshot_rules_info{version=\"3f2a9c01d4e5\"} 1\n"
    "# HELP earshot_rules_reloads_total Rules reload attempts, by result.\n"
    "# TYPE earshot_rules_reloads_total counter\n"
    "earshot_rules_reloads_total{result=\"success\"} 1\n"
    "earshot_rules_reloads_total{result=\"failure\"} 2\n"
    "# HELP earshot_consumer_lag Messages between each assigned partition's high watermark and the consumer's position.\n"
    "# TYPE earshot_consumer_lag gauge\n"
    "earshot_consumer_lag{topic=\"posts\",partition=\"0\"} 42\n"
    "earshot_consumer_lag{topic=\"posts\",partition=\"1\"} 7\n";

static void test_render_small_registry_exactly(void **state)
{
    static const char *const rules[] = {"wait.on_hold", "praise.thanks"};
    static const char *const brands[] = {"comcast", "dell"};
    char err[256] = "";
    metrics *m = new_registry(2);
    metrics_shard *a = metrics_shard_get(m, 0), *b = metrics_shard_get(m, 1);
    metrics_shard *shared = metrics_shard_shared(m);
    metrics_rules *mr;
    size_t len = 0;
    char *text;

    (void)state;
    assert_null(metrics_shard_get(m, 2));
    mr = metrics_rules_new(m, "3f2a9c01d4e5", 2, rules, 2, brands, err, sizeof(err));
    assert_non_null(mr);

    metrics_consumed(a, 3);
    metrics_consumed(b, 2);
    metrics_input_lost(shared, 7); /* from librdkafka's log thread */
    metrics_produced(a, METRICS_ROUTE_ENRICHED, 3);
    metrics_produced(shared, METRICS_ROUTE_ENRICHED, 1);
    metrics_produced(b, METRICS_ROUTE_TICKETS, 1);
    metrics_produced(b, METRICS_ROUTE_REJECTED, 2);
    metrics_produce_failed(shared, METRICS_ROUTE_REJECTED, 1);
    metrics_produced(a, METRICS_ROUTE_COUNT, 9); /* ignored */
    metrics_rejected(a, metrics_reject_classify("not JSON: empty"));
    metrics_rejected(b, metrics_reject_classify("too large: 9000 bytes > limit 8192"));
    metrics_rejected(b, (metrics_reject)42); /* out of range counts as other */
    /* Bounds are inclusive (le): 5000 ns lands in le="0.000005". */
    metrics_latency_observe(a, 3000);
    metrics_latency_observe(b, 5000);
    metrics_latency_observe(a, 7000);
    metrics_latency_observe(b, 2000000000ull);
    metrics_latency_observe(a, 60000000000ull); /* 60 s: only +Inf */
    metrics_queue_latency_observe(b, 3000000);     /* 3 ms */
    metrics_queue_latency_observe(a, 20000000000ull); /* 20 s: only +Inf */
    metrics_rule_matched(a, mr, 0);
    metrics_rule_matched(b, mr, 0);
    metrics_rule_matched(b, mr, 1);
    metrics_rule_matched(b, mr, 2); /* out of range: ignored */
    metrics_brand_mentioned(a, mr, 0, 1);
    metrics_brand_mentioned(b, mr, 0, 0);
    metrics_brand_mentioned(a, mr, 1, 0);
    metrics_brand_mentioned(a, mr, 7, 1); /* out of range: ignored */
    metrics_brand_counted(b, mr, 1, METRICS_BRAND_QUESTION | METRICS_BRAND_TICKET);
    metrics_brand_counted(shared, mr, 0, METRICS_BRAND_PRAISE);
    metrics_brand_counted(a, mr, 0, METRICS_BRAND_COMPLAINT | METRICS_BRAND_TICKET);
    metrics_brand_counted(a, mr, 9, METRICS_BRAND_TICKET); /* out of range: ignored */
    metrics_rules_reloaded(m, 1);
    metrics_rules_reloaded(m, 0);
    metrics_rules_reloaded(m, 0);
    assert_int_equal(metrics_lag_set(m, "posts", 1, 9), 0);
    assert_int_equal(metrics_lag_set(m, "posts", 0, 42), 0);
    assert_int_equal(metrics_lag_set(m, "posts", 1, 7), 0); /* replaces */
    assert_int_equal(metrics_lag_set(m, "old", 3, 1), 0);
    metrics_lag_forget(m, "old", -1);

    text = metrics_render(m, &len);
    assert_non_null(text);
    assert_string_equal(text, expected_small);
    assert_int_equal(len, strlen(expected_small));
    assert_int_equal(check_exposition(text), 79); /* 55 + the queue histogram + bad_id */
    free(text);
    metrics_free(m); /* frees the live generation too */
}

static void test_label_values_are_escaped(void **state)
{
    static const char *const brands[] = {"a\\b", "say \"hi\"", "two\nlines"};
    char err[256] = "";
    metrics *m = new_registry(1);
    metrics_rules *mr = metrics_rules_new(m, "v\"1\\2\n", 0, NULL, 3, brands,
                                          err, sizeof(err));
    char *text;

    (void)state;
    assert_non_null(mr);
    metrics_brand_mentioned(metrics_shard_get(m, 0), mr, 2, 1);
    text = metrics_render(m, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nearshot_brand_mentions_total{brand=\"a\\\\b\"} 0\n"));
    assert_non_null(strstr(text, "\nearshot_brand_mentions_total{brand=\"say \\\"hi\\\"\"} 0\n"));
    assert_non_null(strstr(text, "\nearshot_brand_mentions_total{brand=\"two\\nlines\"} 1\n"));
    assert_non_null(strstr(text, "\nearshot_brand_complaints_total{brand=\"two\\nlines\"} 1\n"));
    assert_non_null(strstr(text, "\nearshot_rules_info{version=\"v\\\"1\\\\2\\n\"} 1\n"));
    check_exposition(text);
    free(text);
    metrics_rules_release(mr);
    metrics_free(m);
}

static long long series_value(metrics *m, const char *name, const char *label,
                              const char *id);

/* Counts lines of the render that start with prefix. */
static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

/* metrics.rules: all, off, top:N (by count, ties by id); brands stay. */
static void test_rule_series_modes(void **state)
{
    static const char *const rules[] = {"r.a", "r.b", "r.c", "r.d"};
    static const char *const brands[] = {"comcast"};
    static const char *const bad[] = {"", "top:", "top:0", "top:-1", "top:1x", "top:1000001",
                                      "ALL", "some", "top: 3"};
    char err[256] = "", *text;
    long top = 99;
    metrics *m = new_registry(1);
    metrics_shard *w = metrics_shard_get(m, 0);
    metrics_rules *mr = metrics_rules_new(m, "v", 4, rules, 1, brands, err, sizeof(err));

    (void)state;
    assert_non_null(mr);
    for (int i = 0; i < 3; i++)
        metrics_rule_matched(w, mr, 2); /* r.c 3 */
    metrics_rule_matched(w, mr, 1);     /* r.b 1, r.d 1: a tie, by id */
    metrics_rule_matched(w, mr, 3);
    metrics_brand_counted(w, mr, 0, 0);

    assert_int_equal(metrics_rule_series_parse("all", &top, err, sizeof(err)), 0);
    assert_int_equal(top, -1);
    assert_int_equal(metrics_rule_series_parse("off", &top, err, sizeof(err)), 0);
    assert_int_equal(top, 0);
    assert_int_equal(metrics_rule_series_parse("top:2", &top, err, sizeof(err)), 0);
    assert_int_equal(top, 2);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[256];
        assert_int_equal(metrics_rule_series_parse(bad[i], &top, err, sizeof(err)), -1);
        snprintf(want, sizeof(want),
                 "must be all, off or top:N with N 1..1000000, got '%s'", bad[i]);
        assert_string_equal(err, want);
    }

    text = metrics_render(m, NULL); /* default: all, in rules order */
    assert_int_equal(count_lines(text, "earshot_rule_matches_total{"), 4);
    assert_non_null(strstr(text, "earshot_rule_matches_total{rule=\"r.a\"} 0\n"
                                 "earshot_rule_matches_total{rule=\"r.b\"} 1\n"));
    free(text);

    metrics_set_rule_series(m, 2);
    text = metrics_render(m, NULL);
    assert_int_equal(count_lines(text, "earshot_rule_matches_total{"), 2);
    assert_non_null(strstr(text, "# TYPE earshot_rule_matches_total counter\n"
                                 "earshot_rule_matches_total{rule=\"r.c\"} 3\n"
                                 "earshot_rule_matches_total{rule=\"r.b\"} 1\n"
                                 "# HELP earshot_brand_mentions_total"));
    assert_int_equal(count_lines(text, "earshot_brand_mentions_total{brand=\"comcast\"} 1"), 1);
    check_exposition(text);
    free(text);

    metrics_set_rule_series(m, 10); /* more than there are: all of them, by count */
    text = metrics_render(m, NULL);
    assert_int_equal(count_lines(text, "earshot_rule_matches_total{"), 4);
    free(text);

    metrics_set_rule_series(m, 0);
    text = metrics_render(m, NULL);
    assert_int_equal(count_lines(text, "earshot_rule_matches_total"), 0);
    assert_int_equal(count_lines(text, "# TYPE earshot_rule_matches_total counter"), 1);
    assert_int_equal(count_lines(text, "earshot_brand_mentions_total{"), 1);
    check_exposition(text);
    free(text);
    metrics_rules_release(mr);
    metrics_free(m);
}

/* earshot_build_info once set; process_* only when turned on, read from
 * /proc: CPU time and memory of this very process. */
static void test_build_info_and_process(void **state)
{
    metrics *m = new_registry(1);
    char *text, *p;
    double rss, start, fds, maxfds;

    (void)state;
    text = metrics_render(m, NULL);
    assert_null(strstr(text, "earshot_build_info"));
    assert_null(strstr(text, "process_"));
    free(text);

    assert_int_equal(metrics_set_build_info(m, "0.1.0", "5.4.0", "2.0.2"), 0);
    assert_int_equal(metrics_set_build_info(m, "0.2.0", "5.4.1", "2.1.0"), 0); /* replaces */
    metrics_set_process(m, 1);
    text = metrics_render(m, NULL);
    assert_non_null(strstr(text, "# TYPE earshot_build_info gauge\n"
                                 "earshot_build_info{version=\"0.2.0\",hyperscan=\"5.4.1\","
                                 "librdkafka=\"2.1.0\"} 1\n"));
    assert_int_equal(count_lines(text, "earshot_build_info{"), 1);
    assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
    assert_non_null(p = strstr(text, "\nprocess_resident_memory_bytes "));
    rss = strtod(p + strlen("\nprocess_resident_memory_bytes "), NULL);
    assert_true(rss > 100000 && rss < 1e10);
    assert_non_null(p = strstr(text, "\nprocess_start_time_seconds "));
    start = strtod(p + strlen("\nprocess_start_time_seconds "), NULL);
    assert_true(fabs(start - (double)time(NULL)) < 600); /* this test just started */
    assert_non_null(p = strstr(text, "\nprocess_open_fds "));
    fds = strtod(p + strlen("\nprocess_open_fds "), NULL);
    assert_non_null(p = strstr(text, "\nprocess_max_fds "));
    maxfds = strtod(p + strlen("\nprocess_max_fds "), NULL);
    assert_true(fds >= 3 && fds < maxfds);
    assert_non_null(strstr(text, "\nprocess_virtual_memory_bytes "));
    check_exposition(text);
    free(text);
    metrics_free(m);
}

/* Brand counters of every kind survive a reload (folded when released). */
static void test_brand_kinds_survive_reloads(void **state)
{
    static const char *const brands[] = {"comcast", "dell"};
    static const char *const brands2[] = {"dell"};
    char err[256] = "";
    metrics *m = new_registry(1);
    metrics_shard *w = metrics_shard_get(m, 0);
    metrics_rules *g1 = metrics_rules_new(m, "v1", 0, NULL, 2, brands, err, sizeof(err)), *g2;

    (void)state;
    assert_non_null(g1);
    metrics_brand_counted(w, g1, 1, METRICS_BRAND_PRAISE);
    metrics_brand_counted(w, g1, 1, METRICS_BRAND_QUESTION | METRICS_BRAND_TICKET);
    g2 = metrics_rules_new(m, "v2", 0, NULL, 1, brands2, err, sizeof(err));
    assert_non_null(g2);
    metrics_rules_release(g1);
    metrics_brand_counted(w, g2, 0, METRICS_BRAND_QUESTION | METRICS_BRAND_TICKET);
    assert_int_equal(series_value(m, "earshot_brand_mentions_total", "brand", "dell"), 3);
    assert_int_equal(series_value(m, "earshot_brand_praise_total", "brand", "dell"), 1);
    assert_int_equal(series_value(m, "earshot_brand_questions_total", "brand", "dell"), 2);
    assert_int_equal(series_value(m, "earshot_brand_tickets_total", "brand", "dell"), 2);
    assert_int_equal(series_value(m, "earshot_brand_complaints_total", "brand", "dell"), 0);
    assert_int_equal(series_value(m, "earshot_brand_praise_total", "brand", "comcast"), -1);
    metrics_rules_release(g2);
    metrics_free(m);
}

/* Finds "name{label=\"id\"} N" in the render; -1 when absent. */
static long long series_value(metrics *m, const char *name, const char *label,
                              const char *id)
{
    char key[256], *text = metrics_render(m, NULL), *p;
    long long v = -1;

    assert_non_null(text);
    snprintf(key, sizeof(key), "\n%s{%s=\"%s\"} ", name, label, id);
    p = strstr(text, key);
    if (p)
        v = strtoll(p + strlen(key), NULL, 10);
    free(text);
    return v;
}

static void test_counts_survive_reloads(void **state)
{
    static const char *const gen1[] = {"a", "b"};
    static const char *const gen2[] = {"b", "a", "c"};
    static const char *const gen3[] = {"c"};
    static const char *const dup[] = {"x", "x"};
    static const char *const empty[] = {"x", ""};
    static const char *const brands[] = {"comcast"};
    char err[256] = "";
    metrics *m = new_registry(2);
    metrics_shard *w0 = metrics_shard_get(m, 0), *w1 = metrics_shard_get(m, 1);
    metrics_rules *g1, *g2, *g3, *g4;

    (void)state;
    g1 = metrics_rules_new(m, "v1", 2, gen1, 1, brands, err, sizeof(err));
    assert_non_null(g1);
    metrics_rule_matched(w0, g1, 0); /* a */
    metrics_rule_matched(w1, g1, 0);
    metrics_rule_matched(w1, g1, 0);
    metrics_brand_mentioned(w0, g1, 0, 1);

    /* Reload: worker 1 still finishes a post on g1 after g2 is current. */
    g2 = metrics_rules_new(m, "v2", 3, gen2, 1, brands, err, sizeof(err));
    assert_non_null(g2);
    metrics_rule_matched(w0, g2, 1); /* a */
    metrics_rule_matched(w1, g1, 1); /* b, on the old generation */
    metrics_brand_mentioned(w0, g2, 0, 0);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "a"), 4);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "b"), 1);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "c"), 0);
    assert_int_equal(series_value(m, "earshot_rules_info", "version", "v2"), 1);
    assert_int_equal(series_value(m, "earshot_rules_info", "version", "v1"), -1);
    metrics_rules_release(g1);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "a"), 4);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "b"), 1);
    assert_int_equal(series_value(m, "earshot_brand_mentions_total", "brand", "comcast"), 2);
    assert_int_equal(series_value(m, "earshot_brand_complaints_total", "brand", "comcast"), 1);

    /* Broken generations are refused and leave v2 current. */
    assert_null(metrics_rules_new(m, "bad", 2, dup, 0, NULL, err, sizeof(err)));
    assert_string_equal(err, "metrics: rule id 'x' appears twice; ids must be "
                             "unique to name one series each");
    assert_null(metrics_rules_new(m, "bad", 2, empty, 0, NULL, err, sizeof(err)));
    assert_string_equal(err, "metrics: rule #1 has an empty id; every rule "
                             "needs a stable id to be counted");
    assert_int_equal(series_value(m, "earshot_rules_info", "version", "v2"), 1);

    /* A rule dropped and later re-added keeps its total. */
    g3 = metrics_rules_new(m, "v3", 1, gen3, 0, NULL, err, sizeof(err));
    assert_non_null(g3);
    metrics_rule_matched(w1, g3, 0);
    metrics_rules_release(g2);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "a"), -1);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "c"), 1);
    assert_int_equal(series_value(m, "earshot_brand_mentions_total", "brand", "comcast"), -1);
    g4 = metrics_rules_new(m, "v4", 2, gen1, 1, brands, err, sizeof(err));
    assert_non_null(g4);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "a"), 4);
    assert_int_equal(series_value(m, "earshot_brand_mentions_total", "brand", "comcast"), 2);

    /* Releasing the current generation renders no rule series or version. */
    metrics_rules_release(g4);
    metrics_rules_release(g3);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "a"), -1);
    {
        char *text = metrics_render(m, NULL);
        assert_non_null(strstr(text, "# TYPE earshot_rules_info gauge\n# HELP "));
        check_exposition(text);
        free(text);
    }
    metrics_free(m);
}

/* Trimmed from what librdkafka 2.0.2 writes (same keys and nesting). */
static const char consumer_stats[] =
    "{\"name\":\"earshot#consumer-1\",\"client_id\":\"earshot\",\"type\":\"consumer\","
    "\"ts\":10152975617,\"replyq\":3,\"msg_cnt\":0,\"msg_size\":0,"
    "\"tx\":7,\"txmsgs\":0,\"rx\":9,\"rxmsgs\":1500,"
    "\"brokers\":{"
    "\"127.0.0.1:35373/1\":{\"name\":\"127.0.0.1:35373/1\",\"nodeid\":1,"
    "\"source\":\"configured\",\"state\":\"UP\",\"outbuf_cnt\":2,"
    "\"rtt\":{\"min\":90,\"max\":2100,\"avg\":250,\"p99\":1800,\"cnt\":12}},"
    "\"GroupCoordinator\":{\"name\":\"GroupCoordinator\",\"nodeid\":1,"
    "\"source\":\"logical\",\"outbuf_cnt\":0,\"rtt\":{\"avg\":1,\"p99\":1}}},"
    "\"topics\":{\"posts\":{\"topic\":\"posts\",\"partitions\":{"
    "\"1\":{\"partition\":1,\"consumer_lag\":12},"
    "\"0\":{\"partition\":0,\"consumer_lag\":5},"
    "\"2\":{\"partition\":2,\"consumer_lag\":-1},"
    "\"-1\":{\"partition\":-1,\"consumer_lag\":-1}}}},"
    "\"cgrp\":{\"state\":\"up\",\"assignment_size\":2}}";

static const char producer_stats[] =
    "{\"name\":\"earshot#producer-2\",\"type\":\"producer\",\"replyq\":0,"
    "\"msg_cnt\":17,\"msg_size\":6800,\"txmsgs\":123456789,\"rxmsgs\":0,"
    "\"brokers\":{\"127.0.0.1:35373/1\":{\"name\":\"127.0.0.1:35373/1\","
    "\"source\":\"configured\",\"outbuf_cnt\":0,"
    "\"rtt\":{\"avg\":1234,\"p99\":5000}}},"
    "\"topics\":{\"posts.enriched\":{\"partitions\":{"
    "\"0\":{\"partition\":0,\"consumer_lag\":-1}}}}}";

static const char expected_kafka[] =
    "# HELP earshot_kafka_msg_cnt Messages in the client's producer queues (librdkafka msg_cnt).\n"
    "# TYPE earshot_kafka_msg_cnt gauge\n"
    "earshot_kafka_msg_cnt{client=\"earshot#consumer-1\"} 0\n"
    "earshot_kafka_msg_cnt{client=\"earshot#producer-2\"} 17\n"
    "# HELP earshot_kafka_msg_size_bytes Bytes of messages in the client's producer queues (msg_size).\n"
    "# TYPE earshot_kafka_msg_size_bytes gauge\n"
    "earshot_kafka_msg_size_bytes{client=\"earshot#consumer-1\"} 0\n"
    "earshot_kafka_msg_size_bytes{client=\"earshot#producer-2\"} 6800\n"
    "# HELP earshot_kafka_replyq Operations waiting in the client's reply queue to be served by a poll.\n"
    "# TYPE earshot_kafka_replyq gauge\n"
    "earshot_kafka_replyq{client=\"earshot#consumer-1\"} 3\n"
    "earshot_kafka_replyq{client=\"earshot#producer-2\"} 0\n"
    "# HELP earshot_kafka_tx_messages_total Messages the client sent to brokers (txmsgs).\n"
    "# TYPE earshot_kafka_tx_messages_total counter\n"
    "earshot_kafka_tx_messages_total{client=\"earshot#consumer-1\"} 0\n"
    "earshot_kafka_tx_messages_total{client=\"earshot#producer-2\"} 123456789\n"
    "# HELP earshot_kafka_rx_messages_total Messages the client received from brokers (rxmsgs).\n"
    "# TYPE earshot_kafka_rx_messages_total counter\n"
    "earshot_kafka_rx_messages_total{client=\"earshot#consumer-1\"} 1500\n"
    "earshot_kafka_rx_messages_total{client=\"earshot#producer-2\"} 0\n"
    "# HELP earshot_kafka_broker_rtt_avg_seconds Average broker request round-trip time over the last statistics window.\n"
    "# TYPE earshot_kafka_broker_rtt_avg_seconds gauge\n"
    "earshot_kafka_broker_rtt_avg_seconds{client=\"earshot#consumer-1\",broker=\"127.0.0.1:35373/1\"} 0.00025\n"
    "earshot_kafka_broker_rtt_avg_seconds{client=\"earshot#producer-2\",broker=\"127.0.0.1:35373/1\"} 0.001234\n"
    "# HELP earshot_kafka_broker_rtt_p99_seconds 99th percentile broker round-trip time over the last statistics window.\n"
    "# TYPE earshot_kafka_broker_rtt_p99_seconds gauge\n"
    "earshot_kafka_broker_rtt_p99_seconds{client=\"earshot#consumer-1\",broker=\"127.0.0.1:35373/1\"} 0.0018\n"
    "earshot_kafka_broker_rtt_p99_seconds{client=\"earshot#producer-2\",broker=\"127.0.0.1:35373/1\"} 0.005\n"
    "# HELP earshot_kafka_broker_outbuf_cnt Requests waiting to be sent to the broker.\n"
    "# TYPE earshot_kafka_broker_outbuf_cnt gauge\n"
    "earshot_kafka_broker_outbuf_cnt{client=\"earshot#consumer-1\",broker=\"127.0.0.1:35373/1\"} 2\n"
    "earshot_kafka_broker_outbuf_cnt{client=\"earshot#producer-2\",broker=\"127.0.0.1:35373/1\"} 0\n"
    "# HELP earshot_kafka_cgrp_assignment_size Partitions assigned to the client's consumer group member.\n"
    "# TYPE earshot_kafka_cgrp_assignment_size gauge\n"
    "earshot_kafka_cgrp_assignment_size{client=\"earshot#consumer-1\"} 2\n"
    "# HELP earshot_kafka_consumer_lag Consumer lag per partition as librdkafka last computed it.\n"
    "# TYPE earshot_kafka_consumer_lag gauge\n"
    "earshot_kafka_consumer_lag{client=\"earshot#consumer-1\",topic=\"posts\",partition=\"0\"} 5\n"
    "earshot_kafka_consumer_lag{client=\"earshot#consumer-1\",topic=\"posts\",partition=\"1\"} 12\n";

static void test_kafka_statistics(void **state)
{
    char err[256] = "", *text, *k;
    metrics *m = new_registry(1);

    (void)state;
    /* Nothing earshot_kafka_ until a document arrives. */
    text = metrics_render(m, NULL);
    assert_null(strstr(text, "earshot_kafka_"));
    free(text);

    assert_int_equal(metrics_kafka_stats(m, "{\"name\": ", 9, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "librdkafka statistics are not JSON"));
    assert_int_equal(metrics_kafka_stats(m, "[1]", 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a JSON object"));
    assert_int_equal(metrics_kafka_stats(m, "{\"msg_cnt\":1}", 13, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no \"name\""));

    /* Producer first: clients render sorted by name whatever the order. */
    assert_int_equal(metrics_kafka_stats(m, producer_stats, strlen(producer_stats),
                                         err, sizeof(err)), 0);
    /* A later document of the same client replaces the earlier one. */
    {
        static const char early[] = "{\"name\":\"earshot#consumer-1\",\"msg_cnt\":99}";
        assert_int_equal(metrics_kafka_stats(m, early, strlen(early), err, sizeof(err)), 0);
    }
    assert_int_equal(metrics_kafka_stats(m, consumer_stats, strlen(consumer_stats),
                                         err, sizeof(err)), 0);
    text = metrics_render(m, NULL);
    assert_non_null(text);
    k = strstr(text, "# HELP earshot_kafka_");
    assert_non_null(k);
    assert_string_equal(k, expected_kafka);
    check_exposition(text);
    free(text);

    metrics_kafka_forget(m, "earshot#consumer-1");
    metrics_kafka_forget(m, "earshot#producer-2");
    text = metrics_render(m, NULL);
    assert_null(strstr(text, "earshot_kafka_"));
    free(text);
    metrics_free(m);
}

static void test_checker_rejects_bad_text(void **state)
{
    static const char *const bad[] = {
        "x 1\n",                                              /* no TYPE */
        "# TYPE x counter\nx 1",                               /* no final \n */
        "# TYPE x counter\nx 1\n\n",                           /* blank line */
        "# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",       /* repeated */
        "# TYPE x counter\nx 1\n# TYPE x counter\n",            /* twice */
        "# TYPE x counter\ny 1\n",                              /* other family */
        "# TYPE x counter\nx -1\n",                             /* negative */
        "# TYPE x gauge\nx{a=\"\\q\"} 1\n",                    /* bad escape */
        "# TYPE x gauge\nx{a=1} 1\n",                          /* unquoted */
        "# TYPE x gauge\nx inf\n",                              /* Go's spelling */
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",     /* no +Inf */
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\n",                /* no +Inf */
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
        "h_bucket{le=\"+Inf\"} 1\n",                           /* le order */
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",  /* count */
    };

    (void)state;
    /* The checker must be able to fail, or passing it means nothing. */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(check_text(bad[i]), -1);
    assert_int_equal(check_text("# HELP x X.\n# TYPE x gauge\nx{a=\"\\\\\\n\\\"\"} NaN\n"
                                "# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\n"
                                "h_bucket{le=\"+Inf\"} 2\nh_sum 0.7\nh_count 2\n"), 5);
}

/* ---- concurrency --------------------------------------------------------- */

#define INCREMENTS 1000000

typedef struct worker_arg {
    metrics_shard *sh;
    metrics_rules *mr;
    atomic_int *go;
    double ns_per_op;
} worker_arg;

/* Thread CPU time: on a shared machine a preempted thread would otherwise
 * count other processes' time as its own. */
static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *count_worker(void *p)
{
    worker_arg *a = p;
    double t0;

    while (!atomic_load(a->go))
        ;
    t0 = now_ns();
    for (int i = 0; i < INCREMENTS; i++)
        metrics_consumed(a->sh, 1);
    a->ns_per_op = (now_ns() - t0) / INCREMENTS;
    for (int i = 0; i < INCREMENTS; i++)
        metrics_rule_matched(a->sh, a->mr, (size_t)i & 1);
    return NULL;
}

typedef struct scraper_arg {
    metrics *m;
    atomic_int *stop;
    int scrapes;
} scraper_arg;

/* Scrapes while the workers count: the total may only grow. */
static void *scraper(void *p)
{
    scraper_arg *s = p;
    long long last = 0;

    while (!atomic_load(s->stop)) {
        char *text = metrics_render(s->m, NULL);
        char *v = strstr(text, "\nearshot_consumed_total ");
        long long now = strtoll(v + 24, NULL, 10);
        free(text);
        if (now < last)
            return (void *)1;
        last = now;
        s->scrapes++;
        /* Prometheus scrapes every few seconds, not in a loop: leave the
         * cores to the counting threads being timed. */
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return NULL;
}

/* n threads on private shards (or all on the shared shard); prints the
 * cost of one increment. Returns the consumed total. */
static long long run_counters(unsigned n, int shared, const char *what)
{
    static const char *const rules[] = {"even", "odd"};
    char err[256];
    metrics *m = new_registry(4);
    metrics_rules *mr = metrics_rules_new(m, "t", 2, rules, 0, NULL, err, sizeof(err));
    atomic_int go = 0, stop = 0;
    pthread_t th[4], sc;
    worker_arg args[4];
    scraper_arg sa = {m, &stop, 0};
    void *scrape_rc;
    double worst = 0;
    long long total;

    assert_non_null(mr);
    assert_int_equal(pthread_create(&sc, NULL, scraper, &sa), 0);
    for (unsigned i = 0; i < n; i++) {
        args[i] = (worker_arg){shared ? metrics_shard_shared(m) : metrics_shard_get(m, i),
                               mr, &go, 0};
        assert_int_equal(pthread_create(&th[i], NULL, count_worker, &args[i]), 0);
    }
    atomic_store(&go, 1);
    for (unsigned i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (args[i].ns_per_op > worst)
            worst = args[i].ns_per_op;
    }
    atomic_store(&stop, 1);
    pthread_join(sc, &scrape_rc);
    assert_null(scrape_rc);

    total = series_value(m, "earshot_rule_matches_total", "rule", "even") +
            series_value(m, "earshot_rule_matches_total", "rule", "odd");
    assert_int_equal(total, (long long)n * INCREMENTS);
    assert_int_equal(series_value(m, "earshot_rule_matches_total", "rule", "odd"),
                     (long long)n * INCREMENTS / 2);
    {
        char *text = metrics_render(m, NULL);
        total = strtoll(strstr(text, "\nearshot_consumed_total ") + 24, NULL, 10);
        free(text);
    }
    print_message("%u threads, %s: %.2f ns per increment (thread CPU time, "
                  "slowest thread; %d scrapes meanwhile)\n", n, what, worst,
                  sa.scrapes);
    metrics_rules_release(mr);
    metrics_free(m);
    return total;
}

static void test_concurrent_increments_are_exact(void **state)
{
    (void)state;
    assert_int_equal(run_counters(4, 0, "private shards"), 4LL * INCREMENTS);
    assert_int_equal(run_counters(4, 1, "the shared shard"), 4LL * INCREMENTS);
    /* The figures the header's cost comment rests on. */
    assert_int_equal(run_counters(2, 0, "private shards"), 2LL * INCREMENTS);
    assert_int_equal(run_counters(2, 1, "one contended atomic"), 2LL * INCREMENTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_classes),
        cmocka_unit_test(test_new_refuses_bad_shard_counts),
        cmocka_unit_test(test_render_small_registry_exactly),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_counts_survive_reloads),
        cmocka_unit_test(test_rule_series_modes),
        cmocka_unit_test(test_build_info_and_process),
        cmocka_unit_test(test_brand_kinds_survive_reloads),
        cmocka_unit_test(test_kafka_statistics),
        cmocka_unit_test(test_checker_rejects_bad_text),
        cmocka_unit_test(test_concurrent_increments_are_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
