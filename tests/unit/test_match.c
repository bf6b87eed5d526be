/*
 * test_match: brands and rules found in real-looking posts, with the default
 * rules (rules/) and with small fixture rule sets (tests/data/rules_*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "match/match.h"
#include "rules/rules.h"
#include "text/text.h"

typedef struct fx {
    ruleset *rs;
    match_scratch *ms;
    text_norm *tn;
    post p;
    match_result r;
    char names[1024];
} fx;

static ruleset *load_dir(const char *sub)
{
    char dir[512], err[1024];
    snprintf(dir, sizeof(dir), "%s/%s", EARSHOT_SOURCE_DIR, sub);
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    if (!rs)
        fail_msg("ruleset_load(%s): %s", dir, err);
    return rs;
}

static void fx_open(fx *f, const char *sub)
{
    memset(f, 0, sizeof(*f));
    f->rs = load_dir(sub);
    f->ms = match_scratch_new();
    f->tn = text_norm_new();
    assert_non_null(f->ms);
    assert_non_null(f->tn);
    f->p.lang = (strview){"en", 2};
    f->p.followers = 100;
}

static void fx_close(fx *f)
{
    ruleset_unref(f->rs);
    match_scratch_free(f->ms);
    text_norm_free(f->tn);
}

/* Match text; return "brand,brand|rule,rule" (ids, in index order). */
static const char *fx_match(fx *f, const char *text)
{
    const char *norm;
    size_t nlen, n = 0;
    char err[256];

    assert_int_equal(text_normalize(f->tn, text, strlen(text), &norm, &nlen), 0);
    assert_int_equal(match_post(f->rs, f->ms, &f->p, norm, nlen, &f->r, err,
                                sizeof(err)), 0);
    f->names[0] = 0;
    for (uint32_t i = 0; i < f->r.n_brands; i++)
        n += (size_t)snprintf(f->names + n, sizeof(f->names) - n, "%s%s",
                              i ? "," : "", ruleset_brand(f->rs, f->r.brands[i])->id);
    n += (size_t)snprintf(f->names + n, sizeof(f->names) - n, "|");
    for (uint32_t i = 0; i < f->r.n_rules; i++)
        n += (size_t)snprintf(f->names + n, sizeof(f->names) - n, "%s%s",
                              i ? "," : "", ruleset_rule(f->rs, f->r.rules[i])->id);
    return f->names;
}

static void test_normalised_terms(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    assert_string_equal(fx_match(&f, "COMCAST again"), "comcast|");
    assert_string_equal(fx_match(&f, "ＣＯＭＣＡＳＴ again"), "comcast|");
    assert_string_equal(fx_match(&f, "Cómcást again"), "comcast|");
    /* The rule was written with accents and capitals, the post without. */
    assert_string_equal(fx_match(&f, "lunch at cafe ole"), "cafeole|");
    assert_string_equal(fx_match(&f, "lunch at CAFÉ OLÉ"), "cafeole|");
    /* "&" survives normalisation and is matched literally. */
    assert_string_equal(fx_match(&f, "H&R Block lost my return"), "hrblock|");
    /* A handle listed without '@' means the handle. */
    assert_string_equal(fx_match(&f, "@HRBlock where are you"), "hrblock|");
    assert_string_equal(fx_match(&f, "hrblock where are you"), "|");
    /* No \b around scripts without ASCII word characters. */
    assert_string_equal(fx_match(&f, "ユニクロのセール"), "uniqlo|");
    fx_close(&f);
}

static void test_word_boundaries(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    /* "comcastic" is a different word; a possessive is the same word. */
    assert_string_equal(fx_match(&f, "that was comcastic"), "|");
    assert_string_equal(fx_match(&f, "xfinity's app"), "comcast|");
    assert_string_equal(fx_match(&f, "thanks @ComcastCares"), "comcast|");
    assert_string_equal(fx_match(&f, "thanks @comcastcaresabout"), "|");
    assert_string_equal(fx_match(&f, "my automobile"), "|");
    assert_string_equal(fx_match(&f, "mobile data"), "|word.mobile");
    /* A term ending in punctuation has no \b there: "a+" then space. */
    assert_string_equal(fx_match(&f, "gets an A+ from me"), "|punct.aplus");
    assert_string_equal(fx_match(&f, "data+ plan"), "|");
    fx_close(&f);
}

static void test_brand_exclusion(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    /* One alias hit, one exclusion hit: not a mention. */
    assert_string_equal(fx_match(&f, "Concert at the Comcast Center"), "|");
    assert_string_equal(fx_match(&f, "Comcast Center, then comcast center again"), "|");
    /* Two alias hits, one exclusion hit: a mention. */
    assert_string_equal(fx_match(&f, "Comcast Center show, and comcast is down"),
                        "comcast|when.brand");
    assert_string_equal(fx_match(&f, "xfinity at the comcast center"), "comcast|");
    fx_close(&f);
}

static void test_nesting(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    /* all: refund; any: now | (money & back); not: thanks | (just & kidding) */
    assert_string_equal(fx_match(&f, "refund now"), "|nest");
    assert_string_equal(fx_match(&f, "I want my money back, refund"), "|nest");
    assert_string_equal(fx_match(&f, "refund, money please"), "|");
    assert_string_equal(fx_match(&f, "now money back"), "|");
    assert_string_equal(fx_match(&f, "refund now thanks"), "|");
    assert_string_equal(fx_match(&f, "refund now, just kidding"), "|");
    assert_string_equal(fx_match(&f, "refund now, just do it"), "|nest");
    fx_close(&f);
}

static void test_predicates(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    /* lang: "es" matches "es" and "es-MX", not "en" nor an empty lang. */
    assert_string_equal(fx_match(&f, "ayuda por favor"), "|");
    f.p.lang = (strview){"es", 2};
    assert_string_equal(fx_match(&f, "ayuda por favor"), "|when.lang");
    f.p.lang = (strview){"ES-mx", 5};
    assert_string_equal(fx_match(&f, "ayuda por favor"), "|when.lang");
    f.p.lang = (strview){"est", 3};
    assert_string_equal(fx_match(&f, "ayuda por favor"), "|");
    f.p.lang = (strview){"", 0};
    assert_string_equal(fx_match(&f, "ayuda por favor"), "|");

    /* min_followers is inclusive. */
    f.p.followers = 999;
    assert_string_equal(fx_match(&f, "urgent!"), "|");
    f.p.followers = 1000;
    assert_string_equal(fx_match(&f, "urgent!"), "|when.followers");

    /* retweet true/false. */
    f.p.is_retweet = false;
    assert_string_equal(fx_match(&f, "big outage"), "|when.original");
    f.p.is_retweet = true;
    assert_string_equal(fx_match(&f, "big outage"), "|when.retweet");

    /* brands: the rule needs one of its brands mentioned in the post. */
    assert_string_equal(fx_match(&f, "site is down"), "|");
    assert_string_equal(fx_match(&f, "xfinity is down"), "comcast|when.brand");
    assert_string_equal(fx_match(&f, "ユニクロ down"), "uniqlo|when.brand");
    assert_string_equal(fx_match(&f, "comcast center is down"), "|");
    assert_string_equal(fx_match(&f, "h&r block is down"), "hrblock|");

    /* No post: field predicates cannot hold, plain rules still fire. */
    const char *norm;
    size_t nlen;
    char err[128];
    assert_int_equal(text_normalize(f.tn, "refund now urgent", 17, &norm, &nlen), 0);
    assert_int_equal(match_post(f.rs, f.ms, NULL, norm, nlen, &f.r, err, sizeof(err)), 0);
    assert_int_equal(f.r.n_rules, 1);
    assert_string_equal(ruleset_rule(f.rs, f.r.rules[0])->id, "nest");
    fx_close(&f);
}

static void test_regex_terms(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    assert_string_equal(fx_match(&f, "On hold for 45 minutes now"), "|regex.hold");
    assert_string_equal(fx_match(&f, "on hold for an hour"), "|");
    /* The analyst wrote capitals; the text is folded: CASELESS matches. */
    assert_string_equal(fx_match(&f, "the worst   service"), "|regex.caps");
    fx_close(&f);
}

static void test_sorted_and_empty(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    /* Several brands and rules at once, each list ascending by index. */
    assert_string_equal(
        fx_match(&f, "ユニクロ and comcast are down, big outage, refund now, A+"),
        "comcast,uniqlo|nest,when.original,when.brand,punct.aplus");
    for (uint32_t i = 1; i < f.r.n_rules; i++)
        assert_true(f.r.rules[i - 1] < f.r.rules[i]);
    assert_false(f.r.truncated);
    assert_string_equal(fx_match(&f, ""), "|");
    fx_close(&f);
}

/* More than MATCH_MAX_* hits: the lists are cut to the lowest indices. */
static void test_truncation(void **state)
{
    char dir[] = "/tmp/test_match_XXXXXX", path[64], err[256];
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/many.json", dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fprintf(out, "{\"brands\": [");
    for (int i = 0; i < 40; i++)
        fprintf(out, "%s{\"id\": \"b%02d\", \"aliases\": [\"acme\"]}", i ? "," : "", i);
    fprintf(out, "], \"rules\": [");
    for (int i = 0; i < 130; i++)
        fprintf(out, "%s{\"id\": \"r%03d\", \"tag\": \"t\", \"any\": [\"acme\"]}",
                i ? "," : "", i);
    fprintf(out, "]}\n");
    fclose(out);
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    remove(path);
    rmdir(dir);
    if (!rs)
        fail_msg("%s", err);
    assert_int_equal(ruleset_stats(rs).n_patterns, 1);

    match_scratch *ms = match_scratch_new();
    match_result r;
    assert_int_equal(match_post(rs, ms, NULL, "acme", 4, &r, err, sizeof(err)), 0);
    assert_true(r.truncated);
    assert_int_equal(r.n_brands, MATCH_MAX_BRANDS);
    assert_int_equal(r.n_rules, MATCH_MAX_RULES);
    for (uint32_t i = 0; i < r.n_brands; i++)
        assert_int_equal(r.brands[i], i);
    for (uint32_t i = 0; i < r.n_rules; i++)
        assert_int_equal(r.rules[i], i);
    assert_int_equal(match_post(rs, ms, NULL, "acme2", 5, &r, err, sizeof(err)), 0);
    assert_false(r.truncated);
    assert_int_equal(r.n_brands + r.n_rules, 0);
    match_scratch_free(ms);
    ruleset_unref(rs);
}

/* The scratch serves rulesets of different sizes in turn (hot reload). */
static void test_scratch_swap(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, "tests/data/rules_match");
    ruleset *small = f.rs, *big = load_dir("rules");
    const char *text = "@comcastcares been on hold for 3 hours. refund now";
    assert_string_equal(fx_match(&f, text), "comcast|nest,regex.hold");
    f.rs = big;
    assert_string_equal(fx_match(&f, text),
                        "comcast|care.long_wait,wait.on_hold,refund.request");
    f.rs = small;
    assert_string_equal(fx_match(&f, text), "comcast|nest,regex.hold");
    ruleset_unref(big);
    fx_close(&f);
}

static void test_default_real_posts(void **state)
{
    static const char *const table[][2] = {
        {"@comcastcares I've been on hold for an hour!!! worst customer service ever",
         "comcast|care.long_wait,complaint.strong_negative,wait.on_hold,service.bad"},
        {"Just wasted 2 1/2 hours of my life on the phone with Comcast. Still no internet.",
         "comcast|care.no_service,care.own_trouble,wait.wasted_time,"
         "wait.still_waiting,outage.down"},
        {"Worst automated customer service ever. @DellCares your phone tree is a maze",
         "dell|complaint.strong_negative,phone.automated,service.bad"},
        {"bad customer service is my pet peeve. UGH! @Sprint",
         "sprint|care.own_trouble,complaint.frustration,service.bad"},
        {"MY T-MOBILE SERVICE HAS BEEN DOWN ALL DAY!!!!!!!! FIX IT",
         "tmobile|care.fix_request,complaint.frustration,outage.down"},
        {"T‑Mobile has no bars in my building, dropped calls all day",
         "tmobile|outage.coverage"},
        {"dropped calls all day at the office", "|"},
        {"@JetBlue my flight was cancelled and nobody at the gate will help",
         "jetblue|care.disruption,service.bad,travel.disruption"},
        {"Pizza Hut delivery never arrived. 2 hours and counting.",
         "pizzahut|care.not_done,care.long_wait,wait.still_waiting,"
         "delivery.missing"},
        {"customer service by @comcastcares rules", "comcast|praise.rules"},
        {"Zappos customer service gets an A+ from me. Thank you!",
         "zappos|praise.thanks,praise.great"},
        {"How do I cancel my Whole Foods delivery order?",
         "wholefoods|question.how,question.interrogative,question.mark"},
        {"Does anyone know if H&amp;R Block is open on Sundays?",
         "hrblock|question.ask,question.interrogative,question.mark"},
        {"Concert at the Comcast Center tonight was great", "|praise.great"},
        {"sprint planning went long today, time for coffee", "|"},
        {"Went to the Sprint store, they were rude and hung up on me",
         "sprint|staff.rude"},
        {"gm everyone, coffee time", "|"},
        {"I'm switching to T-Mobile, Sprint is done. cancel my service today",
         "tmobile,sprint|churn.threat,churn.cancel_request"},
        {"great, another outage. not great @xfinity", "comcast|outage.down"},
        {"no thanks, I'm good", "|"},
        {"thanks for nothing @DellCares", "dell|complaint.sarcastic_thanks"},
        {"eat whole foods and exercise", "|"},
    };
    fx f;
    (void)state;
    fx_open(&f, "rules");
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const char *got = fx_match(&f, table[i][0]);
        if (strcmp(got, table[i][1]) != 0)
            fail_msg("%s\n  got  %s\n  want %s", table[i][0], got, table[i][1]);
    }
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalised_terms),
        cmocka_unit_test(test_word_boundaries),
        cmocka_unit_test(test_brand_exclusion),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_predicates),
        cmocka_unit_test(test_regex_terms),
        cmocka_unit_test(test_sorted_and_empty),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_scratch_swap),
        cmocka_unit_test(test_default_real_posts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
