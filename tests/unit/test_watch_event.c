/*
 * test_watch_event: the aggregator's simdjson reading of enriched events
 * against jansson's, the reading it replaced.
 *
 * Real events: tests/data/watch/enriched.jsonl is `earshot classify --rules
 * rules tests/data/posts/{generic,twitter_v1,twitter_v2}.jsonl` (regenerate
 * it the same way when the event schema changes). Each must be read by the
 * fast path (WATCH_EVENT_OK, not UNSURE) with every field equal to
 * jansson's. Bad input must come out exactly as jansson says: invalid, or
 * (where the fast path declines) read by jansson the same way; and fed to a
 * watch, it is counted in `invalid` and nowhere else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "watch/watch.h"
#include "watch/watch_event.h"

#define FIXTURE EARSHOT_SOURCE_DIR "/tests/data/watch/enriched.jsonl"

static void assert_str_same(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Every field of two readings is the same. */
static void assert_events_equal(const watch_event *a, const watch_event *b)
{
    assert_str_same(a->id, b->id);
    assert_str_same(a->created_at, b->created_at);
    assert_str_same(a->polarity, b->polarity);
    assert_str_same(a->respond_by, b->respond_by);
    assert_str_same(a->text, b->text);
    assert_str_same(a->handle, b->handle);
    assert_int_equal(a->followers, b->followers);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->verified, b->verified);
    assert_int_equal(a->retweet, b->retweet);
    assert_int_equal(a->n_brands, b->n_brands);
    for (size_t i = 0; i < a->n_brands; i++) {
        assert_str_same(a->brands[i].id, b->brands[i].id);
        assert_str_same(a->brands[i].name, b->brands[i].name);
    }
    assert_int_equal(a->n_labels, b->n_labels);
    for (size_t i = 0; i < a->n_labels; i++)
        assert_str_same(a->labels[i], b->labels[i]);
}

/* A deep copy of what is compared, so two parsers' buffers can differ. */
typedef struct saved {
    watch_event ev;
    watch_event_brand brands[16];
    const char *labels[32];
    char store[16384];
    size_t used;
} saved;

static const char *keep(saved *s, const char *str)
{
    size_t n;
    char *out;
    if (!str)
        return NULL;
    n = strlen(str) + 1;
    assert_true(s->used + n <= sizeof(s->store));
    out = s->store + s->used;
    memcpy(out, str, n);
    s->used += n;
    return out;
}

static void save(saved *s, const watch_event *ev)
{
    memset(s, 0, sizeof(*s));
    s->ev = *ev;
    s->ev.labels_json = NULL;
    s->ev.id = keep(s, ev->id);
    s->ev.created_at = keep(s, ev->created_at);
    s->ev.polarity = keep(s, ev->polarity);
    s->ev.respond_by = keep(s, ev->respond_by);
    s->ev.text = keep(s, ev->text);
    s->ev.handle = keep(s, ev->handle);
    assert_true(ev->n_brands <= 16 && ev->n_labels <= 32);
    for (size_t i = 0; i < ev->n_brands; i++) {
        s->brands[i].id = keep(s, ev->brands[i].id);
        s->brands[i].name = keep(s, ev->brands[i].name);
    }
    for (size_t i = 0; i < ev->n_labels; i++)
        s->labels[i] = keep(s, ev->labels[i]);
    s->ev.brands = s->brands;
    s->ev.labels = s->labels;
}

/* jansson's verdict and reading, the way watch_feed asks it. */
static watch_event_status by_jansson(watch_event_parser *p, const char *json, size_t len,
                                     saved *out)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    watch_event ev;
    watch_event_status st = watch_event_from_json(p, root, &ev);
    if (st == WATCH_EVENT_OK)
        save(out, &ev);
    json_decref(root);
    return st;
}

/* The answer watch_feed acts on: the fast path's, or jansson's when unsure. */
static watch_event_status final(watch_event_parser *p, const char *json, size_t len,
                                saved *out, int *was_unsure)
{
    watch_event ev;
    watch_event_status st = watch_event_parse(p, json, len, &ev);
    *was_unsure = st == WATCH_EVENT_UNSURE;
    if (st == WATCH_EVENT_UNSURE)
        return by_jansson(p, json, len, out);
    if (st == WATCH_EVENT_OK)
        save(out, &ev);
    return st;
}

static char **read_fixture(size_t *n)
{
    FILE *f = fopen(FIXTURE, "r");
    char **lines = NULL, buf[65536];
    *n = 0;
    assert_non_null(f);
    while (fgets(buf, sizeof(buf), f)) {
        size_t len = strlen(buf);
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (!len)
            continue;
        lines = realloc(lines, (*n + 1) * sizeof(*lines));
        assert_non_null(lines);
        lines[(*n)++] = strdup(buf);
    }
    fclose(f);
    return lines;
}

static void test_real_events_fast_and_equal(void **state)
{
    watch_event_parser *fast = watch_event_parser_new(), *ref = watch_event_parser_new();
    size_t n, with_labels = 0, with_ticket = 0;
    char **lines = read_fixture(&n);
    (void)state;

    assert_true(n >= 12);
    for (size_t i = 0; i < n; i++) {
        watch_event ev;
        saved a, b;
        assert_int_equal(watch_event_parse(fast, lines[i], strlen(lines[i]), &ev),
                         WATCH_EVENT_OK);
        save(&a, &ev);
        assert_int_equal(by_jansson(ref, lines[i], strlen(lines[i]), &b), WATCH_EVENT_OK);
        assert_events_equal(&a.ev, &b.ev);
        assert_true(a.ev.n_brands >= 1);
        with_labels += a.ev.n_labels > 0;
        with_ticket += a.ev.respond_by != NULL;
        free(lines[i]);
    }
    /* The fixture exercises the fields, not only ids. */
    assert_true(with_labels >= 6);
    assert_true(with_ticket >= 6);
    free(lines);
    watch_event_parser_free(fast);
    watch_event_parser_free(ref);
}

/* The first event, spelled out: the values, not just agreement. */
static void test_real_event_values(void **state)
{
    watch_event_parser *p = watch_event_parser_new();
    size_t n;
    char **lines = read_fixture(&n);
    watch_event ev;
    (void)state;

    assert_int_equal(watch_event_parse(p, lines[0], strlen(lines[0]), &ev), WATCH_EVENT_OK);
    assert_string_equal(ev.id, "fb_10158877665544332_10158877999");
    assert_string_equal(ev.created_at, "2024-05-01T14:02:11Z");
    assert_string_equal(ev.polarity, "complaint");
    assert_string_equal(ev.respond_by, "2024-05-01T14:32:11Z");
    assert_string_equal(ev.handle, "maria.lopez.5");
    assert_int_equal(ev.followers, 340);
    assert_int_equal(ev.verified, 0);
    assert_int_equal(ev.retweet, 0);
    assert_int_equal(ev.priority, 62);
    assert_int_equal(ev.n_brands, 1);
    assert_string_equal(ev.brands[0].id, "comcast");
    assert_string_equal(ev.brands[0].name, "Comcast");
    assert_int_equal(ev.n_labels, 3);
    assert_string_equal(ev.labels[0], "no_response");
    assert_string_equal(ev.labels[2], "outage");
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    watch_event_parser_free(p);
}

typedef struct bad_case {
    const char *name, *json;
    size_t len;                /* 0: strlen */
    watch_event_status expect; /* the final answer (jansson's) */
} bad_case;

static void test_bad_input_as_jansson(void **state)
{
    static char deep[8320]; /* 15 + 2 x 4100 + 2 */
    static const bad_case cases[] = {
        {"empty", "", 0, WATCH_EVENT_INVALID},
        {"not json", "hello", 0, WATCH_EVENT_INVALID},
        {"truncated", "{\"id\":\"a\",\"brands\":[{\"id\":\"x\"", 0, WATCH_EVENT_INVALID},
        {"trailing bytes", "{\"id\":\"a\"} x", 0, WATCH_EVENT_INVALID},
        {"two objects", "{\"id\":\"a\"}{\"id\":\"b\"}", 0, WATCH_EVENT_INVALID},
        {"array", "[{\"id\":\"a\"}]", 0, WATCH_EVENT_INVALID},
        {"string", "\"a\"", 0, WATCH_EVENT_INVALID},
        {"no id", "{\"brands\":[]}", 0, WATCH_EVENT_INVALID},
        {"numeric id", "{\"id\":5}", 0, WATCH_EVENT_INVALID},
        {"last id not a string", "{\"id\":\"a\",\"id\":null}", 0, WATCH_EVENT_INVALID},
        {"bad utf-8", "{\"id\":\"a\",\"text\":\"\xff\xfe\"}", 0, WATCH_EVENT_INVALID},
        {"raw control char", "{\"id\":\"a\",\"text\":\"x\ty\"}", 0, WATCH_EVENT_INVALID},
        {"escaped NUL", "{\"id\":\"a\",\"text\":\"x\\u0000y\"}", 0, WATCH_EVENT_INVALID},
        {"raw NUL", "{\"id\":\"a\"}\0", 11, WATCH_EVENT_INVALID},
        {"lone surrogate", "{\"id\":\"a\",\"text\":\"\\ud800\"}", 0, WATCH_EVENT_INVALID},
        {"integer past int64", "{\"id\":\"a\",\"x\":9223372036854775808}", 0,
         WATCH_EVENT_INVALID},
        {"integer past uint64", "{\"id\":\"a\",\"x\":123456789012345678901234}", 0,
         WATCH_EVENT_INVALID},
        {"real overflow", "{\"id\":\"a\",\"x\":1e400}", 0, WATCH_EVENT_INVALID},
        {"bom", "\xef\xbb\xbf{\"id\":\"a\"}", 0, WATCH_EVENT_INVALID},
        {"leading zero", "{\"id\":\"a\",\"x\":01}", 0, WATCH_EVENT_INVALID},
        {"deep", deep, 0, WATCH_EVENT_INVALID},
        /* Declined by the fast path, read by jansson: */
        {"surrogate pair", "{\"id\":\"a\",\"text\":\"\\ud83d\\ude00\"}", 0, WATCH_EVENT_OK},
        {"non-string label", "{\"id\":\"a\",\"labels\":[\"x\",3,\"y\"]}", 0, WATCH_EVENT_OK},
        {"escaped backslash then u0000", "{\"id\":\"a\",\"text\":\"\\\\u0000\"}", 0,
         WATCH_EVENT_OK},
        {"big real", "{\"id\":\"a\",\"x\":1e300}", 0, WATCH_EVENT_OK},
        {"duplicate keys", "{\"id\":\"a\",\"id\":\"b\",\"priority\":3,\"priority\":40.5,"
                           "\"author\":{\"followers\":7},\"author\":{\"handle\":\"h\"}}",
         0, WATCH_EVENT_OK},
        {"odd types", "{\"id\":\"a\",\"brands\":[1,{\"id\":2},{\"id\":\"b\",\"name\":3},"
                      "{\"name\":\"n\"}],\"author\":[1],\"labels\":\"x\",\"priority\":\"9\","
                      "\"is_retweet\":1,\"polarity\":null,\"created_at\":5}",
         0, WATCH_EVENT_OK},
    };
    watch_event_parser *fast = watch_event_parser_new(), *ref = watch_event_parser_new();
    (void)state;

    /* 4100 levels: past simdjson's 1024 and jansson's 2048 limit. */
    strcpy(deep, "{\"id\":\"a\",\"x\":");
    for (int i = 0; i < 4100; i++)
        strcat(deep, "[");
    for (int i = 0; i < 4100; i++)
        strcat(deep, "]");
    strcat(deep, "}");

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bad_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->json);
        saved got, want;
        int unsure;
        watch_event_status st = final(fast, c->json, len, &got, &unsure);
        watch_event_status ref_st = by_jansson(ref, c->json, len, &want);
        if (st != c->expect || ref_st != c->expect)
            fail_msg("%s: got %d, jansson %d, expected %d", c->name, st, ref_st, c->expect);
        if (st == WATCH_EVENT_OK)
            assert_events_equal(&got.ev, &want.ev);
    }
    watch_event_parser_free(fast);
    watch_event_parser_free(ref);
}

/* The cases the fast path must not answer itself, and the one it must. */
static void test_fast_path_declines(void **state)
{
    watch_event_parser *p = watch_event_parser_new();
    watch_event ev;
    const char *unsure[] = {
        "{\"id\":\"a\",\"text\":\"\\ud83d\\ude00\"}", "{\"id\":\"a\",\"text\":\"\\u0000\"}",
        "{\"id\":\"a\",\"labels\":[1]}", "{\"id\":\"a\",\"x\":18446744073709551615}",
        "\xef\xbb\xbf{\"id\":\"a\"}", "{\"id\":",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(unsure) / sizeof(unsure[0]); i++)
        assert_int_equal(watch_event_parse(p, unsure[i], strlen(unsure[i]), &ev),
                         WATCH_EVENT_UNSURE);
    /* Valid JSON without an id is answered without jansson. */
    assert_int_equal(watch_event_parse(p, "{\"idx\":\"a\"}", 11, &ev), WATCH_EVENT_INVALID);
    assert_int_equal(watch_event_parse(p, "[1]", 3, &ev), WATCH_EVENT_INVALID);
    watch_event_parser_free(p);
}

static int no_emit(void *opaque, const watch_record *rec)
{
    (void)rec;
    ++*(int *)opaque;
    return 0;
}

/* Through the aggregator: malformed lines are counted invalid, nothing else
 * moves; the real events beside them are all counted. */
static void test_feed_counts_invalid(void **state)
{
    const char *bad[] = {"", "hello", "{\"id\":\"a\"} x", "[1]", "{\"brands\":[]}",
                         "{\"id\":\"z\",\"text\":\"\\u0000\"}",
                         "{\"id\":\"z\",\"x\":99999999999999999999}"};
    watch_config cfg;
    watch_stats st;
    watch_result res;
    char err[256];
    int emitted = 0;
    size_t n;
    char **lines = read_fixture(&n);
    watch *w;
    (void)state;

    watch_config_defaults(&cfg);
    w = watch_new(&cfg, 1, no_emit, &emitted, err, sizeof(err));
    assert_non_null(w);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(watch_feed(w, 0, bad[i], strlen(bad[i]), 0, &res, err, sizeof(err)),
                         0);
        assert_int_equal(res.outcome, WATCH_INVALID);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(watch_feed(w, 0, lines[i], strlen(lines[i]), 0, &res, err,
                                    sizeof(err)),
                         0);
        assert_int_not_equal(res.outcome, WATCH_INVALID);
        free(lines[i]);
    }
    free(lines);
    watch_stats_get(w, &st);
    assert_int_equal(st.events, sizeof(bad) / sizeof(bad[0]) + n);
    assert_int_equal(st.invalid, sizeof(bad) / sizeof(bad[0]));
    assert_int_equal(st.counted + st.late_dropped + st.duplicates + st.no_brand, n);
    assert_int_equal(st.no_brand, 0);
    watch_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_events_fast_and_equal),
        cmocka_unit_test(test_real_event_values),
        cmocka_unit_test(test_bad_input_as_jansson),
        cmocka_unit_test(test_fast_path_declines),
        cmocka_unit_test(test_feed_counts_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
