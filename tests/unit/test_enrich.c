/*
 * Unit tests for src/enrich: respond_by targets, time formatting, and,
 * against the small rule set in tests/data/rules_enrich/, polarity,
 * priority and the exact event JSON. Match results are built by hand (rule
 * and brand indices looked up by id) so these tests judge enrich alone,
 * not the matcher.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "enrich/enrich.h"

#define RULES_DIR EARSHOT_SOURCE_DIR "/tests/data/rules_enrich"

static strview sv(const char *s) {
    strview v = {s, strlen(s)};
    return v;
}

/* A post with nothing set: no created_at, no followers, calm empty text. */
static post post_blank(void) {
    post p;
    memset(&p, 0, sizeof p);
    p.shape = POST_SHAPE_GENERIC;
    p.id = sv("1");
    p.platform = sv("unknown");
    p.has_created_at = false;
    return p;
}

/* enrich_respond_by() that must find a target. */
static int64_t respond_at(const enrich_config *cfg, const post *p, int priority,
                          int64_t now) {
    int64_t at = 0x5a5a;
    assert_int_equal(enrich_respond_by(cfg, p, priority, now, &at), 1);
    return at;
}

/* ---- respond_by and time formatting: no rule set needed ---- */

static void test_config_default(void **state) {
    (void)state;
    enrich_config cfg;
    memset(&cfg, 0x5a, sizeof cfg);
    enrich_config_default(&cfg);
    assert_int_equal(cfg.n_targets, 4);
    static const int want[4][2] = {{80, 15}, {50, 30}, {20, 60}, {0, 240}};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cfg.targets[i].min_priority, want[i][0]);
        assert_int_equal(cfg.targets[i].respond_minutes, want[i][1]);
    }
}

static void test_respond_by_tiers(void **state) {
    (void)state;
    enrich_config cfg;
    enrich_config_default(&cfg);
    post p = post_blank();
    p.created_at_epoch = 1709164200; /* 2024-02-28T23:50:00Z */
    p.has_created_at = true;
    const int64_t now = 2000000000;

    static const struct {
        int priority;
        int minutes;
    } cases[] = {
        {100, 15}, {80, 15}, {79, 30}, {50, 30}, {49, 60},
        {20, 60},  {19, 240}, {1, 240}, {0, 240},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(respond_at(&cfg, &p, cases[i].priority, now),
                         1709164200 + cases[i].minutes * 60);

    /* No created_at: the clock's now is the base. */
    p.has_created_at = false;
    assert_int_equal(respond_at(&cfg, &p, 85, now), now + 15 * 60);
    assert_int_equal(respond_at(&cfg, &p, 10, now), now + 240 * 60);
    /* created_at at the epoch itself is a real time, not "unknown". */
    p.has_created_at = true;
    p.created_at_epoch = 0;
    assert_int_equal(respond_at(&cfg, &p, 60, now), 30 * 60);
    /* so are the second before it (once the -1 "unknown") and 1950 */
    p.created_at_epoch = -1;
    assert_int_equal(respond_at(&cfg, &p, 60, now), -1 + 30 * 60);
    p.created_at_epoch = -631152000; /* 1950-01-01T00:00:00Z */
    assert_int_equal(respond_at(&cfg, &p, 85, now), -631152000 + 15 * 60);
}

static void test_respond_by_custom_targets(void **state) {
    (void)state;
    enrich_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.targets[0].min_priority = 90;
    cfg.targets[0].respond_minutes = 5;
    cfg.targets[1].min_priority = 40;
    cfg.targets[1].respond_minutes = 120;
    cfg.n_targets = 2;
    post p = post_blank();
    p.created_at_epoch = 1000;
    p.has_created_at = true;
    assert_int_equal(respond_at(&cfg, &p, 95, 0), 1000 + 300);
    assert_int_equal(respond_at(&cfg, &p, 40, 0), 1000 + 7200);
    /* No target reached: not applicable. */
    { int64_t at; assert_int_equal(enrich_respond_by(&cfg, &p, 39, 0, &at), 0); }
    cfg.n_targets = 0;
    { int64_t at; assert_int_equal(enrich_respond_by(&cfg, &p, 100, 0, &at), 0); }
}

/* ---- with the rule set ---- */

static int setup_rules(void **state) {
    char err[512];
    ruleset *rs = ruleset_load(RULES_DIR, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "ruleset_load(%s): %s\n", RULES_DIR, err);
        return -1;
    }
    *state = rs;
    return 0;
}

static int teardown_rules(void **state) {
    ruleset_unref(*state);
    return 0;
}

static uint32_t rule_index(const ruleset *rs, const char *id) {
    for (size_t i = 0; i < ruleset_rule_count(rs); i++)
        if (strcmp(ruleset_rule(rs, i)->id, id) == 0)
            return (uint32_t)i;
    fail_msg("no rule %s in %s", id, RULES_DIR);
    return 0;
}

static uint32_t brand_index(const ruleset *rs, const char *id) {
    for (size_t i = 0; i < ruleset_brand_count(rs); i++)
        if (strcmp(ruleset_brand(rs, i)->id, id) == 0)
            return (uint32_t)i;
    fail_msg("no brand %s in %s", id, RULES_DIR);
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A match result from NULL-terminated lists of rule ids and brand ids,
 * sorted ascending like match_post() gives them. */
static match_result make_match(const ruleset *rs, const char *const *rules,
                               const char *const *brands) {
    match_result m;
    memset(&m, 0, sizeof m);
    m.model_class = -1; /* no model, as match_post() says */
    for (; rules && *rules; rules++)
        m.rules[m.n_rules++] = rule_index(rs, *rules);
    for (; brands && *brands; brands++)
        m.brands[m.n_brands++] = brand_index(rs, *brands);
    qsort(m.rules, m.n_rules, sizeof m.rules[0], cmp_u32);
    qsort(m.brands, m.n_brands, sizeof m.brands[0], cmp_u32);
    return m;
}

#define RULES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_polarity(void **state) {
    const ruleset *rs = *state;
    const struct {
        const char *const *rules;
        polarity want;
    } cases[] = {
        /* Nothing, or only rules without a polarity: neutral. */
        {NULL, POLARITY_NEUTRAL},
        {RULES("topic.billing"), POLARITY_NEUTRAL},
        /* 31 vs 21. */
        {RULES("complaint.on_hold", "praise.thanks"), POLARITY_COMPLAINT},
        /* Ties: 11 vs 11. */
        {RULES("complaint.waiting", "question.how"), POLARITY_COMPLAINT},
        {RULES("complaint.waiting", "praise.great"), POLARITY_COMPLAINT},
        {RULES("question.how", "praise.great"), POLARITY_QUESTION},
        /* Zero-severity rules count one each: 1 vs 1, and alone. */
        {RULES("question.any", "praise.zero"), POLARITY_QUESTION},
        {RULES("praise.zero"), POLARITY_PRAISE},
        /* Sums, not maxima: praise 11 + 6 = 17 beats complaint 11. */
        {RULES("complaint.waiting", "praise.great", "praise.emoji"),
         POLARITY_PRAISE},
        /* 21 vs 11 + 1. */
        {RULES("praise.thanks", "question.how", "question.any"),
         POLARITY_PRAISE},
        /* A severe topic rule does not vote. */
        {RULES("topic.billing", "question.any"), POLARITY_QUESTION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        match_result m = make_match(rs, cases[i].rules, NULL);
        polarity got = enrich_polarity(rs, &m);
        if (got != cases[i].want)
            fail_msg("case %zu: polarity %s, want %s", i, polarity_name(got),
                     polarity_name(cases[i].want));
    }
}

static int prio(const ruleset *rs, const char *const *rules, int64_t followers,
                bool verified, const char *text) {
    post p = post_blank();
    p.followers = followers;
    p.verified = verified;
    p.text = sv(text);
    match_result m = make_match(rs, rules, NULL);
    return enrich_priority(rs, &p, &m, enrich_polarity(rs, &m));
}

static void test_priority(void **state) {
    const ruleset *rs = *state;
    const char *calm = "hello there, how is everyone";

    /* Base by polarity, nothing else. */
    assert_int_equal(prio(rs, NULL, 0, false, calm), 0);
    assert_int_equal(prio(rs, RULES("praise.zero"), 0, false, calm), 5);
    assert_int_equal(prio(rs, RULES("question.any"), 0, false, calm), 25);
    /* Severity * 0.3: 40 + 9 (30 * 0.3 is 8.999... in doubles). */
    assert_int_equal(prio(rs, RULES("complaint.on_hold"), 0, false, calm), 49);
    /* 5 + 1.5 = 6.5: halves round up. */
    assert_int_equal(prio(rs, RULES("praise.emoji"), 0, false, calm), 7);
    /* The largest severity of any matched rule, polarity or not:
     * 25 + 27 (billing 90), not 25 + 3. */
    assert_int_equal(
        prio(rs, RULES("question.how", "topic.billing"), 0, false, calm), 52);
    assert_int_equal(prio(rs, RULES("topic.billing"), 0, false, calm), 27);

    /* Reach: 4 * log10(followers + 1). */
    assert_int_equal(prio(rs, NULL, 1, false, calm), 1);     /* 1.20 */
    assert_int_equal(prio(rs, NULL, 9, false, calm), 4);     /* 4.00 */
    assert_int_equal(prio(rs, NULL, 999, false, calm), 12);  /* 12.00 */
    assert_int_equal(prio(rs, NULL, 2161, false, calm), 13); /* 13.34 */
    assert_int_equal(prio(rs, NULL, 2371, false, calm), 14); /* 13.50: up */
    assert_int_equal(prio(rs, NULL, 2370, false, calm), 13); /* 13.4998 */
    /* At most 20: 6.5 + 19.9 = 26.4 -> 26, 6.5 + 20 = 26.5 -> 27. */
    assert_int_equal(prio(rs, RULES("praise.emoji"), 99998, false, calm), 26);
    assert_int_equal(prio(rs, RULES("praise.emoji"), 99999, false, calm), 27);
    assert_int_equal(prio(rs, NULL, INT64_C(50000000), false, calm), 20);
    assert_int_equal(prio(rs, NULL, INT64_MAX, false, calm), 20);
    assert_int_equal(prio(rs, NULL, -5, false, calm), 0);

    /* Verified +10: 40 + 9 + 12 + 10. */
    assert_int_equal(prio(rs, RULES("complaint.on_hold"), 999, true, calm), 71);

    /* Shouting: capitals +10, a run of 3+ '!' +5, 2 '!' nothing. */
    assert_int_equal(
        prio(rs, RULES("complaint.on_hold"), 0, false, "ON HOLD FOR AN HOUR"),
        59);
    assert_int_equal(
        prio(rs, RULES("complaint.on_hold"), 0, false, "on hold again!!!"), 54);
    assert_int_equal(
        prio(rs, RULES("complaint.on_hold"), 0, false, "on hold again!!"), 49);
    assert_int_equal(prio(rs, RULES("complaint.on_hold"), 0, false,
                          "STILL ON HOLD!!!!!!!!"),
                     64);
    /* 60% capitals is enough, just under is not (6/10 vs 5/9). */
    assert_int_equal(prio(rs, NULL, 0, false, "ABCDEFghij"), 10);
    assert_int_equal(prio(rs, NULL, 0, false, "ABCDEfghi"), 0);

    /* Clamped: 40 + 27 + 20 + 10 + 10 + 5 = 112. */
    assert_int_equal(prio(rs, RULES("complaint.on_hold", "topic.billing"),
                          1000000, true, "WORST BILL EVER!!!"),
                     100);
}

static void test_event_complaint_exact(void **state) {
    const ruleset *rs = *state;
    enrich_config cfg;
    enrich_config_default(&cfg);

    post p = post_blank();
    p.shape = POST_SHAPE_TWITTER_V2;
    p.id = sv("1234567890");
    p.platform = sv("twitter");
    p.text = sv("@ComcastCares on hold again, waiting forever for my bill "
                "\"fix\"\n\xF0\x9F\x98\xA1");
    p.handle = sv("angry_al");
    p.lang = sv("en");
    p.created_at = sv("2024-02-28T23:50:00Z");
    p.created_at_epoch = 1709164200;
    p.has_created_at = true;
    p.followers = 999;
    p.is_reply = true;
    /* The links are the post's, written as given (after is_reply). */
    p.url = sv("https://twitter.com/angry_al/status/1234567890");
    p.conversation_id = sv("1234567000");
    p.reply_to = sv("1234567001");
    match_result m = make_match(
        rs, RULES("complaint.on_hold", "complaint.waiting", "topic.billing"),
        RULES("comcast"));

    jbuf out;
    jbuf_init(&out);
    enrich_summary sum;
    memset(&sum, 0, sizeof sum);
    assert_int_equal(enrich_event(&cfg, rs, &p, &m, 1, &out, &sum), 0);

    /* 40 + 27 (billing) + 12 (999 followers) = 79 -> the 30-minute tier,
     * across midnight into a leap day. */
    char want[1024];
    snprintf(want, sizeof want,
             "{\"schema_version\":1,\"id\":\"1234567890\",\"platform\":\"twitter\","
             "\"created_at\":\"2024-02-28T23:50:00Z\","
             "\"author\":{\"handle\":\"angry_al\",\"followers\":999,"
             "\"verified\":false},\"lang\":\"en\","
             "\"text\":\"@ComcastCares on hold again, waiting forever for my "
             "bill \\\"fix\\\"\\n\xF0\x9F\x98\xA1\","
             "\"is_retweet\":false,\"is_reply\":true,"
             "\"url\":\"https://twitter.com/angry_al/status/1234567890\","
             "\"conversation_id\":\"1234567000\",\"reply_to\":\"1234567001\","
             "\"brands\":[{\"id\":\"comcast\",\"name\":\"Comcast\"}],"
             "\"polarity\":\"complaint\",\"labels\":[\"wait_time\",\"billing\"],"
             "\"matched_rules\":[{\"id\":\"complaint.on_hold\",\"tag\":\"wait_time\"},"
             "{\"id\":\"complaint.waiting\",\"tag\":\"wait_time\"},"
             "{\"id\":\"topic.billing\",\"tag\":\"billing\"}],"
             "\"priority\":79,\"respond_by\":\"2024-02-29T00:20:00Z\","
             "\"rules_version\":\"%s\",\"processed_at\":\"1970-01-01T00:00:01Z\"}",
             ruleset_version(rs));
    if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
        fail_msg("event:\n%.*s\nwant:\n%s", (int)out.len, out.data, want);

    assert_int_equal(sum.polarity, POLARITY_COMPLAINT);
    assert_int_equal(sum.priority, 79);
    assert_int_equal(sum.respond_by, 1709164200 + 30 * 60);
    assert_int_equal(sum.first_brand, (int)brand_index(rs, "comcast"));
    assert_int_equal(sum.n_brands, 1);

    /* And an independent parser agrees it is one JSON object. */
    json_error_t jerr;
    json_t *j = json_loadb(out.data, out.len, 0, &jerr);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "priority")), 79);
    json_decref(j);
    jbuf_free(&out);
}

static void test_event_praise_nulls(void **state) {
    const ruleset *rs = *state;
    enrich_config cfg;
    enrich_config_default(&cfg);

    /* No created_at, no lang: null. Praise: no respond_by. Two brands, one
     * with quotes in its name. */
    post p = post_blank();
    p.id = sv("fb_77");
    p.platform = sv("facebook");
    p.text = sv("GREAT SERVICE THANKS TEAM!!!");
    p.handle = sv("jo");
    p.verified = true;
    p.is_retweet = true;
    match_result m = make_match(rs, RULES("praise.thanks", "praise.great"),
                                RULES("comcast", "hrblock"));

    jbuf out;
    jbuf_init(&out);
    assert_int_equal(jbuf_cstr(&out, "prefix:"), 0);
    enrich_summary sum;
    assert_int_equal(enrich_event(&cfg, rs, &p, &m, 1700000000, &out, &sum), 0);

    /* 5 + 6 (thanks 20) + 10 verified + 10 capitals + 5 bangs = 36. */
    char want[1024];
    snprintf(want, sizeof want,
             "prefix:{\"schema_version\":1,\"id\":\"fb_77\",\"platform\":\"facebook\","
             "\"created_at\":null,"
             "\"author\":{\"handle\":\"jo\",\"followers\":0,\"verified\":true},"
             "\"lang\":null,\"text\":\"GREAT SERVICE THANKS TEAM!!!\","
             "\"is_retweet\":true,\"is_reply\":false,"
             "\"brands\":[{\"id\":\"comcast\",\"name\":\"Comcast\"},"
             "{\"id\":\"hrblock\",\"name\":\"H&R \\\"Block\\\"\"}],"
             "\"polarity\":\"praise\",\"labels\":[\"thanks\",\"praise\"],"
             "\"matched_rules\":[{\"id\":\"praise.thanks\",\"tag\":\"thanks\"},"
             "{\"id\":\"praise.great\",\"tag\":\"praise\"}],"
             "\"priority\":36,\"rules_version\":\"%s\","
             "\"processed_at\":\"2023-11-14T22:13:20Z\"}",
             ruleset_version(rs));
    if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
        fail_msg("event:\n%.*s\nwant:\n%s", (int)out.len, out.data, want);
    assert_int_equal(sum.polarity, POLARITY_PRAISE);
    assert_int_equal(sum.priority, 36);
    assert_false(sum.has_respond_by);
    assert_int_equal(sum.n_brands, 2);
    jbuf_free(&out);
}

static void test_event_question_neutral(void **state) {
    const ruleset *rs = *state;
    enrich_config cfg;
    enrich_config_default(&cfg);
    jbuf out;
    jbuf_init(&out);
    enrich_summary sum;

    /* A question without created_at: respond_by counts from now. 25 + 3 =
     * 28 -> the 60-minute tier; now is 2024-02-29T23:00:00Z. */
    post p = post_blank();
    p.text = sv("how do i reset my router");
    match_result m = make_match(rs, RULES("question.how"), NULL);
    assert_int_equal(enrich_event(&cfg, rs, &p, &m, 1709251200 - 3600, &out,
                                  &sum), 0);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"schema_version\":1,\"id\":\"1\",\"platform\":\"unknown\",\"created_at\":null,"
             "\"author\":{\"handle\":\"\",\"followers\":0,\"verified\":false},"
             "\"lang\":null,\"text\":\"how do i reset my router\","
             "\"is_retweet\":false,\"is_reply\":false,\"brands\":[],"
             "\"polarity\":\"question\",\"labels\":[\"question\"],"
             "\"matched_rules\":[{\"id\":\"question.how\",\"tag\":\"question\"}],"
             "\"priority\":28,\"respond_by\":\"2024-03-01T00:00:00Z\","
             "\"rules_version\":\"%s\",\"processed_at\":\"2024-02-29T23:00:00Z\"}",
             ruleset_version(rs));
    if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
        fail_msg("event:\n%.*s\nwant:\n%s", (int)out.len, out.data, want);
    assert_int_equal(sum.polarity, POLARITY_QUESTION);
    assert_int_equal(sum.respond_by, 1709251200);
    assert_int_equal(sum.first_brand, -1);
    assert_int_equal(sum.n_brands, 0);

    /* Neutral, no matches at all; invalid UTF-8 from a post never reaches
     * the JSON. */
    jbuf_reset(&out);
    p = post_blank();
    p.text = sv("caf\xC3 ok");
    m = make_match(rs, NULL, NULL);
    assert_int_equal(enrich_event(&cfg, rs, &p, &m, 5, &out, &sum), 0);
    snprintf(want, sizeof want,
             "{\"schema_version\":1,\"id\":\"1\",\"platform\":\"unknown\",\"created_at\":null,"
             "\"author\":{\"handle\":\"\",\"followers\":0,\"verified\":false},"
             "\"lang\":null,\"text\":\"caf\xEF\xBF\xBD ok\","
             "\"is_retweet\":false,\"is_reply\":false,\"brands\":[],"
             "\"polarity\":\"neutral\",\"labels\":[],\"matched_rules\":[],"
             "\"priority\":0,\"rules_version\":\"%s\","
             "\"processed_at\":\"1970-01-01T00:00:05Z\"}",
             ruleset_version(rs));
    if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
        fail_msg("event:\n%.*s\nwant:\n%s", (int)out.len, out.data, want);
    assert_int_equal(sum.polarity, POLARITY_NEUTRAL);
    assert_int_equal(sum.priority, 0);
    assert_false(sum.has_respond_by);
    jbuf_free(&out);
}

int main(void) {
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_config_default),
        cmocka_unit_test(test_respond_by_tiers),
        cmocka_unit_test(test_respond_by_custom_targets),
    };
    const struct CMUnitTest with_rules[] = {
        cmocka_unit_test(test_polarity),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_event_complaint_exact),
        cmocka_unit_test(test_event_praise_nulls),
        cmocka_unit_test(test_event_question_neutral),
    };
    int failed = cmocka_run_group_tests_name("enrich", plain, NULL, NULL);
    failed += cmocka_run_group_tests_name("enrich_rules", with_rules,
                                          setup_rules, teardown_rules);
    return failed;
}
