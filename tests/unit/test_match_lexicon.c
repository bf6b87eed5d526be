/*
 * test_match_lexicon: the lexicon's valence (negation, intensifiers,
 * contrast, sarcasm, longest term), hashtags read as words, and the
 * lexicon's load errors, on the fixture tests/data/rules_lexicon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "match/match.h"
#include "rules/rules.h"
#include "text/text.h"

typedef struct fx {
    ruleset *rs;
    match_scratch *ms;
    text_norm *tn;
    match_result r;
} fx;

static ruleset *load(const char *dir, const char *cache)
{
    char err[1024];
    rules_load_opts o = {0};
    o.cache_dir = cache;
    ruleset *rs = ruleset_load_opts(dir, &o, err, sizeof(err));
    if (!rs)
        fail_msg("ruleset_load(%s): %s", dir, err);
    return rs;
}

static void fx_open(fx *f, const char *cache)
{
    memset(f, 0, sizeof(*f));
    f->rs = load(EARSHOT_SOURCE_DIR "/tests/data/rules_lexicon", cache);
    f->ms = match_scratch_new();
    f->tn = text_norm_new();
}

static void fx_close(fx *f)
{
    ruleset_unref(f->rs);
    match_scratch_free(f->ms);
    text_norm_free(f->tn);
}

static const match_result *fx_match(fx *f, const char *text)
{
    const char *norm;
    size_t nlen;
    char err[256];
    assert_int_equal(text_normalize(f->tn, text, strlen(text), &norm, &nlen), 0);
    assert_int_equal(match_post(f->rs, f->ms, NULL, norm, nlen, &f->r, err,
                                sizeof(err)), 0);
    return &f->r;
}

static bool fx_fired(fx *f, const char *rule_id)
{
    for (uint32_t i = 0; i < f->r.n_rules; i++)
        if (strcmp(ruleset_rule(f->rs, f->r.rules[i])->id, rule_id) == 0)
            return true;
    return false;
}

/* Valence to 1e-4: the arithmetic is a handful of float products. */
#define assert_valence(f, text, want)                                          \
    do {                                                                       \
        double got_ = fx_match((f), (text))->valence;                          \
        if (got_ < (want) - 1e-4 || got_ > (want) + 1e-4)                      \
            fail_msg("valence(\"%s\") = %g, want %g", (text), got_, (double)(want)); \
    } while (0)

static void check_valence(fx *f)
{
    assert_valence(f, "good", 2.0);
    assert_valence(f, "Good good", 4.0);            /* every hit counts */
    assert_valence(f, "not good", -1.5);            /* 2 x -0.75 */
    assert_valence(f, "not very good", -1.95);      /* 2 x 1.3 x -0.75 */
    assert_valence(f, "very bad", -2.6);
    assert_valence(f, "never ever good", -1.5);     /* one word between */
    assert_valence(f, "not one two three good", 2); /* past the 3-word window */
    assert_valence(f, "not. good", 2);              /* a sentence ends */
    assert_valence(f, "not bad, good", 3.5);        /* 1.5 + 2: the comma ends it */
    assert_valence(f, "not bad good", 3.5);         /* reaches the first term only */
    assert_valence(f, "no problem", 1);             /* the longest term wins */
    assert_valence(f, "good but terrible", -3.5);   /* 2 x 0.5 - 3 x 1.5 */
    assert_valence(f, "great", 3);
    assert_valence(f, "great, terrible", -6);       /* sarcasm: rest -3 <= -2 */
    assert_valence(f, "great, bad", -5);            /* rest -2: still sarcasm */
    assert_valence(f, "great, not good", 1.5);      /* rest -1.5: sincere */
    assert_valence(f, "thanks for the terrible service", -6);
    assert_valence(f, "I &lt;3 it", 3);             /* entities decoded first */
    assert_valence(f, "\xf0\x9f\x98\xa1\xf0\x9f\x98\xa1", -6); /* emoji, no boundary */
    assert_valence(f, "goodness me", 0);           /* word boundaries */
    assert_valence(f, "", 0);
    assert_int_equal(fx_match(f, "good, bad, no problem")->n_lex, 3);
    /* Whom a complaint is addressed to: an @handle. */
    assert_true(fx_match(f, "@acme bad")->addressed);
    assert_true(fx_match(f, "bad (@acme_help)")->addressed);
    assert_false(fx_match(f, "mail bad@acme.com")->addressed);
    assert_false(fx_match(f, "bad @ home")->addressed);
    assert_false(fx_match(f, "bad")->addressed);
}

static void test_valence(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, NULL);
    const rules_lexicon *lx = ruleset_lexicon(f.rs);
    assert_true(lx->present);
    assert_int_equal(lx->n_terms, 9);
    assert_int_equal(lx->negation_window, 3);
    check_valence(&f);
    fx_close(&f);
}

static void test_hashtags(void **state)
{
    fx f;
    (void)state;
    fx_open(&f, NULL);
    /* Split into the rules' own words: the phrase fires inside it. */
    fx_match(&f, "@acme #ShameOnYou");
    assert_true(fx_fired(&f, "r.shame"));
    assert_valence(&f, "#verybad", -2.6);
    assert_valence(&f, "#good", 2);           /* one word needs no split */
    assert_valence(&f, "#bad_day", 0);        /* '_' joins words: not split */
    assert_valence(&f, "#badx", 0);           /* not wholly known words */
    assert_valence(&f, "not #verygood", 2.6); /* its own line: no negation */
    /* The split is words only: "#fail" needs its '#', and "fail" is not
     * a term, so neither a split nor plain text fires it. */
    fx_match(&f, "#epicfail and fail");
    assert_false(fx_fired(&f, "r.tag"));
    fx_match(&f, "total #fail");
    assert_true(fx_fired(&f, "r.tag"));
    fx_close(&f);
}

/* The lexicon and the vocabulary survive the whole-ruleset snapshot. */
static void test_snapshot(void **state)
{
    char cache[] = "/tmp/earshot_lexcache_XXXXXX";
    fx f;
    (void)state;
    assert_non_null(mkdtemp(cache));
    fx_open(&f, cache);
    assert_false(ruleset_stats(f.rs).from_cache);
    fx_close(&f);
    fx_open(&f, cache);
    assert_true(ruleset_stats(f.rs).from_cache);
    check_valence(&f);
    fx_match(&f, "#shameonyou");
    assert_true(fx_fired(&f, "r.shame"));
    fx_close(&f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", cache);
    assert_int_equal(system(cmd), 0);
}

/* Shouting (60% capitals, or "!!!") multiplies the valence by
 * shout_factor; it is read from the original text, so the post is given. */
static void test_shouting(void **state)
{
    char dir[] = "/tmp/earshot_lexshout_XXXXXX", path[128], cmd[160], err[512];
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/l.json", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"lexicon\": {\"settings\": {\"shout_factor\": 2}, \"terms\": "
          "[{\"valence\": 2, \"terms\": [\"good\"]}]}}", fp);
    fclose(fp);
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    if (!rs)
        fail_msg("%s", err);
    static const struct {
        const char *text;
        double want;
    } cases[] = {
        {"good", 2}, {"good!!!", 4}, {"good!!", 2}, {"GOOD GOOD NEWS", 8},
        {"Good news everyone", 2}, {"nothing here!!!", 0},
    };
    match_scratch *ms = match_scratch_new();
    text_norm *tn = text_norm_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        post p;
        const char *norm;
        size_t nlen;
        match_result r;
        memset(&p, 0, sizeof(p));
        p.text = (strview){cases[i].text, strlen(cases[i].text)};
        assert_int_equal(text_normalize(tn, p.text.ptr, p.text.len, &norm, &nlen), 0);
        assert_int_equal(match_post(rs, ms, &p, norm, nlen, &r, err, sizeof(err)), 0);
        if (r.valence < cases[i].want - 1e-4 || r.valence > cases[i].want + 1e-4)
            fail_msg("\"%s\": valence %g, want %g", cases[i].text, r.valence,
                     cases[i].want);
    }
    text_norm_free(tn);
    match_scratch_free(ms);
    ruleset_unref(rs);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A ruleset without a lexicon scores nothing. */
static void test_no_lexicon(void **state)
{
    (void)state;
    ruleset *rs = load(EARSHOT_SOURCE_DIR "/tests/data/rules_match", NULL);
    assert_false(ruleset_lexicon(rs)->present);
    ruleset_unref(rs);
}

/* Writes one file into a fresh directory and loads it; returns the error. */
static const char *load_error(const char *json)
{
    static char err[1024];
    char dir[] = "/tmp/earshot_lexbad_XXXXXX", path[128], cmd[160];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/l.json", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(json, fp);
    fclose(fp);
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    assert_null(rs);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    /* Drop every "DIR/" so the expectations do not depend on mkdtemp. */
    size_t dl = strlen(dir) + 1;
    for (char *at; (at = strstr(err, dir));)
        memmove(at, at + dl, strlen(at + dl) + 1);
    return err;
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(
        load_error("{\"lexicon\": {\"terms\": [{\"valence\": -2, \"terms\": "
                   "[\"bad\", \"Bad\"]}]}}"),
        "l.json:1:57: lexicon: 'Bad' is already in the lexicon at "
        "l.json:1:50; list each phrase once");
    assert_string_equal(
        load_error("{\"lexicon\": {\"terms\": [{\"valence\": 0, \"terms\": [\"x\"]}]}}"),
        "l.json:1:36: lexicon term group #1: \"valence\" must be a non-zero "
        "number in -10..10 (negative: complaint, positive: praise)");
    assert_string_equal(
        load_error("{\"lexicon\": {\"terms\": [{\"valence\": -1, \"sarcastic\": true, "
                   "\"terms\": [\"x\"]}]}}"),
        "l.json:1:40: lexicon term group #1: only positive terms can be "
        "sarcastic (they turn negative when the rest of the post is)");
    assert_string_equal(
        load_error("{\"lexicon\": {\"negators\": [{\"regex\": \"no+\"}]}}"),
        "l.json:1:27: lexicon: \"negators\" items must be strings (phrases; "
        "regexes are not supported in the lexicon)");
    assert_string_equal(
        load_error("{\"lexicon\": {\"settings\": {\"treshold\": 2}}}"),
        "l.json:1:27: unknown key 'treshold' in the lexicon settings (did you "
        "mean 'threshold'?); expected one of threshold, weight, "
        "negation_window, negation_factor, intensifier_factor, "
        "contrast_before, contrast_after, sarcasm_threshold, "
        "complaint_needs_target, shout_factor");
    assert_string_equal(
        load_error("{\"lexicon\": {\"settings\": {\"weight\": -1}}}"),
        "l.json:1:37: lexicon settings: \"weight\" must be a number in 0..1000");
    assert_string_equal(
        load_error("{\"lexicon\": {\"terms\": [{\"valence\": 1}]}}"),
        "l.json:1:24: lexicon term group #1 has no \"terms\"; add the "
        "phrases that carry its valence");
    assert_string_equal(load_error("{\"lexicon\": [1]}"),
                        "l.json:1:13: \"lexicon\" must be an object like "
                        "{\"terms\": [{\"valence\": -2, \"terms\": [\"nightmare\"]}]}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valence),
        cmocka_unit_test(test_hashtags),
        cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_shouting),
        cmocka_unit_test(test_no_lexicon),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
