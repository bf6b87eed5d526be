/*
 * test_rules: loading, validating and compiling rule directories. Every
 * loader error is checked with its exact FILE:LINE:COL message against the
 * fixtures in tests/data/rules_bad_* (positions counted by hand).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/rules.h"

#define DATA EARSHOT_SOURCE_DIR "/tests/data/"

/* Load DATA sub and expect failure with exactly DATA + want. */
static void expect_error(const char *sub, const char *want)
{
    char err[1024], dir[512], full[2048];
    snprintf(dir, sizeof(dir), "%s%s", DATA, sub);
    snprintf(full, sizeof(full), "%s%s", DATA, want);
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    if (rs) {
        ruleset_unref(rs);
        fail_msg("%s loaded; expected: %s", sub, full);
    }
    assert_string_equal(err, full);
}

static ruleset *load_ok(const char *dir)
{
    char err[1024];
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    if (!rs)
        fail_msg("%s: %s", dir, err);
    return rs;
}

static void test_error_json_syntax(void **state)
{
    (void)state;
    expect_error("rules_bad_json",
                 "rules_bad_json/rules.json:3:41: invalid JSON: unexpected "
                 "token near ']'; fix the syntax (a rule file is {\"brands\": "
                 "[...], \"rules\": [...]})");
}

static void test_error_unknown_key(void **state)
{
    (void)state;
    expect_error("rules_bad_unknown_key",
                 "rules_bad_unknown_key/rules.json:6:7: unknown key 'polarty' "
                 "in rule 'wait.on_hold' (did you mean 'polarity'?); expected "
                 "one of id, tag, polarity, severity, all, any, not, when, "
                 "description, examples");
    expect_error("rules_bad_top_key",
                 "rules_bad_top_key/rules.json:1:2: unknown key 'rule' in the "
                 "file (did you mean 'rules'?); expected one of brands, rules, lexicon");
}

static void test_error_missing_id_tag(void **state)
{
    (void)state;
    expect_error("rules_bad_missing_id",
                 "rules_bad_missing_id/rules.json:4:7: rule #2 has no \"id\"; "
                 "give it a unique string id, e.g. \"id\": \"wait.on_hold\"");
    expect_error("rules_bad_missing_tag",
                 "rules_bad_missing_tag/rules.json:2:3: rule 'billing.double' "
                 "has no \"tag\"; add the label it sets, e.g. \"tag\": "
                 "\"wait_time\"");
}

static void test_error_duplicates(void **state)
{
    (void)state;
    /* Across files: b.json is loaded after a.json, both places named. */
    expect_error("rules_bad_dup_rule",
                 "rules_bad_dup_rule/b.json:4:29: duplicate rule id 'refund': "
                 "already defined at " DATA "rules_bad_dup_rule/a.json:2:10; "
                 "rule ids must be unique, rename one");
    expect_error("rules_bad_dup_brand",
                 "rules_bad_dup_brand/brands.json:4:32: duplicate brand id "
                 "'dell': already defined at " DATA
                 "rules_bad_dup_brand/brands.json:2:10; brand ids must be "
                 "unique, rename one");
}

static void test_error_values(void **state)
{
    (void)state;
    expect_error("rules_bad_polarity",
                 "rules_bad_polarity/rules.json:1:48: rule 'p': bad polarity "
                 "'angry'; expected \"complaint\", \"praise\" or \"question\" "
                 "(or leave it out)");
    expect_error("rules_bad_severity",
                 "rules_bad_severity/rules.json:3:16: rule 'sev': severity 150 "
                 "is out of range; use 0 to 100");
    /* Columns count characters: "café" is 6 columns, 7 bytes. */
    expect_error("rules_bad_utf8_col",
                 "rules_bad_utf8_col/rules.json:1:51: rule 'café': severity -1 "
                 "is out of range; use 0 to 100");
    expect_error("rules_bad_empty_term",
                 "rules_bad_empty_term/rules.json:2:47: rule 'blank': empty "
                 "term; remove it or write the phrase to match");
    expect_error("rules_bad_brand_terms",
                 "rules_bad_brand_terms/brands.json:2:3: brand 'acme' has no "
                 "terms; add \"aliases\", \"handles\", \"hashtags\" or "
                 "\"misspellings\"");
}

static void test_error_only_not(void **state)
{
    (void)state;
    expect_error("rules_bad_only_not",
                 "rules_bad_only_not/rules.json:3:11: rule 'nothing.but.not': "
                 "only \"not\" terms, which would match every post without "
                 "them; add an \"all\" or \"any\" list of terms the post must "
                 "contain");
    /* A nested group of "not" alone under "any" would let the rule fire on
     * posts without any of its terms: refused too. */
    expect_error("rules_bad_nested_not",
                 "rules_bad_nested_not/rules.json:3:30: rule 'nested': only "
                 "\"not\" terms, which would match every post without them; "
                 "add an \"all\" or \"any\" list of terms the post must "
                 "contain");
}

static void test_error_when(void **state)
{
    (void)state;
    expect_error("rules_bad_when",
                 "rules_bad_when/rules.json:3:46: rule 'vip': "
                 "\"when.min_followers\" must be a whole number >= 0");
    expect_error("rules_bad_when_retweet",
                 "rules_bad_when_retweet/rules.json:2:65: rule 'rt': "
                 "\"when.retweet\" must be true or false (without quotes)");
    expect_error("rules_bad_when_brand",
                 "rules_bad_when_brand/rules.json:3:35: rule 'b': "
                 "\"when.brands\" names unknown brand 'comcats'; use the \"id\" "
                 "of a brand defined in a \"brands\" list");
}

static void test_error_examples(void **state)
{
    (void)state;
    expect_error("rules_bad_examples_key",
                 "rules_bad_examples_key/rules.json:4:17: unknown key 'matches' "
                 "in the \"examples\" of rule 'wait.on_hold' (did you mean "
                 "'match'?); expected one of match, no_match");
    expect_error("rules_bad_examples_type",
                 "rules_bad_examples_type/rules.json:3:16: rule 'wait.on_hold': "
                 "\"examples\" must be an object {\"match\": [...], "
                 "\"no_match\": [...]} of example posts");
    expect_error("rules_bad_examples_list",
                 "rules_bad_examples_list/rules.json:3:26: rule 'wait.on_hold': "
                 "\"examples.match\" must be a list of posts, each a text or a "
                 "whole post object, e.g. [\"on hold for an hour\"]");
    expect_error("rules_bad_examples_item",
                 "rules_bad_examples_item/rules.json:3:46: rule 'wait.on_hold': "
                 "\"examples.no_match\" item 2 must be a post's text (a string) "
                 "or a whole post (an object)");
    expect_error("rules_bad_examples_empty",
                 "rules_bad_examples_empty/rules.json:3:38: rule 'wait.on_hold': "
                 "\"examples.match\" item 2 is an empty string; write the text "
                 "of a post that should make the rule fire");
}

static void assert_example(const ruleset *rs, size_t i, const char *rule,
                           bool expect_match, bool is_post, const char *text,
                           const char *file, int line, int col)
{
    const rules_example *ex = ruleset_example(rs, i);
    assert_non_null(ex);
    assert_string_equal(ruleset_rule(rs, ex->rule)->id, rule);
    assert_int_equal(ex->expect_match, expect_match);
    assert_int_equal(ex->is_post, is_post);
    assert_string_equal(ex->text, text);
    assert_int_equal(ex->len, strlen(text));
    assert_string_equal(ex->file, file);
    assert_int_equal(ex->line, line);
    assert_int_equal(ex->col, col);
}

/* Examples in file and rule order, "match" first; objects re-serialised
 * compactly; positions of the example values (hand-counted). */
static void test_examples_loaded(void **state)
{
    (void)state;
    ruleset *rs = load_ok(DATA "rules_examples_ok");
    const char *rules = DATA "rules_examples_ok/rules.json";
    const char *praise = DATA "rules_examples_ok/zz-praise.json";

    assert_int_equal(ruleset_example_count(rs), 14);
    assert_example(rs, 0, "wait.on_hold", true, false,
                   "been on hold with @comcastcares for an hour", rules, 7, 18);
    assert_example(rs, 2, "wait.on_hold", true, false,
                   "ON HOLD again, \"please hold\" they say, \xc3\xa7" "a suffit",
                   rules, 9, 18);
    assert_example(rs, 4, "wait.on_hold", false, false,
                   "no hold music, just on hold silence", rules, 10, 37);
    assert_example(rs, 8, "vip.spanish", true, true,
                   "{\"id\":\"p1\",\"platform\":\"blog\",\"text\":\"necesito "
                   "ayuda\",\"lang\":\"es\",\"author\":{\"handle\":\"ana\","
                   "\"followers\":5000}}", rules, 19, 18);
    /* "no_match" is written first in this file; "match" is still stored first. */
    assert_example(rs, 12, "praise.thanks", true, false,
                   "thanks dell, fixed in a day", praise, 3, 61);
    assert_example(rs, 13, "praise.thanks", false, false, "no thanks to you",
                   praise, 3, 30);
    assert_null(ruleset_example(rs, 14));
    ruleset_unref(rs);

    /* A ruleset without examples has none. */
    rs = load_ok(DATA "rules_match");
    assert_int_equal(ruleset_example_count(rs), 0);
    assert_null(ruleset_example(rs, 0));
    ruleset_unref(rs);
}

static void test_error_regex(void **state)
{
    (void)state;
    expect_error("rules_bad_regex",
                 "rules_bad_regex/rules.json:4:30: rule broken: pattern 'on "
                 "hold (for' does not compile: Missing close parenthesis for "
                 "group started at index 8. Fix the term (Hyperscan syntax; it "
                 "runs on lower-case, accent-free normalised text).");
}

static void test_error_directory(void **state)
{
    char err[512];
    (void)state;
    expect_error("rules_empty",
                 "rules_empty: no *.json rule files in this directory; add one "
                 "(see rules/ in the source tree) or point to the right "
                 "directory");
    expect_error("rules_does_not_exist",
                 "rules_does_not_exist: cannot open rules directory: No such "
                 "file or directory; check the path and its permissions");
    /* A small buffer gets a cut, NUL-terminated message. */
    assert_null(ruleset_load(DATA "rules_empty", err, 8));
    assert_int_equal(strlen(err), 7);
}

static void test_dedup(void **state)
{
    (void)state;
    ruleset *rs = load_ok(DATA "rules_dedup");
    rules_stats st = ruleset_stats(rs);
    /* acme (x3 spellings), acme center, on hold (x4 spellings), refund
     * (phrase), refund (regex: other flags), cafe (x3 spellings). */
    assert_int_equal(st.n_patterns, 6);
    assert_int_equal(st.n_files, 1);
    assert_int_equal(st.n_brands, 1);
    assert_int_equal(st.n_rules, 3);
    assert_true(st.compile_s > 0.0);
    assert_true(st.db_bytes > 0);

    assert_int_equal(ruleset_brand_count(rs), 1);
    assert_string_equal(ruleset_brand(rs, 0)->id, "acme");
    assert_string_equal(ruleset_brand(rs, 0)->name, "ACME Corp");
    assert_null(ruleset_brand(rs, 1));
    assert_int_equal(ruleset_rule_count(rs), 3);
    const rules_rule *r1 = ruleset_rule(rs, 0), *r2 = ruleset_rule(rs, 1),
                     *r3 = ruleset_rule(rs, 2);
    assert_string_equal(r1->id, "r1");
    assert_string_equal(r1->tag, "wait_time");
    assert_int_equal(r1->polarity, POLARITY_COMPLAINT);
    assert_int_equal(r1->severity, 30);
    assert_string_equal(r2->id, "r2");
    assert_int_equal(r2->severity, 0);
    assert_int_equal(r3->polarity, POLARITY_PRAISE);
    assert_int_equal(r3->severity, 100);
    assert_null(ruleset_rule(rs, 3));
    ruleset_unref(rs);
}

static void test_version_and_refs(void **state)
{
    (void)state;
    ruleset *a = load_ok(DATA "rules_dedup");
    ruleset *b = load_ok(DATA "rules_dedup");
    ruleset *c = load_ok(DATA "rules_match");
    /* Same bytes, same version; other bytes, other version. */
    assert_string_equal(ruleset_version(a), ruleset_version(b));
    assert_string_not_equal(ruleset_version(a), ruleset_version(c));
    assert_int_equal(strlen(ruleset_version(a)), 12);
    assert_int_equal(strspn(ruleset_version(a), "0123456789abcdef"), 12);
    /* A reference outlives the loader's: still readable after one unref. */
    assert_ptr_equal(ruleset_ref(a), a);
    ruleset_unref(a);
    assert_string_equal(ruleset_brand(a, 0)->id, "acme");
    ruleset_unref(a);
    ruleset_unref(b);
    ruleset_unref(c);
    ruleset_unref(NULL);
}

static void test_polarity_name(void **state)
{
    (void)state;
    assert_string_equal(polarity_name(POLARITY_NEUTRAL), "neutral");
    assert_string_equal(polarity_name(POLARITY_PRAISE), "praise");
    assert_string_equal(polarity_name(POLARITY_QUESTION), "question");
    assert_string_equal(polarity_name(POLARITY_COMPLAINT), "complaint");
}

static void test_default_rules_load(void **state)
{
    (void)state;
    ruleset *rs = load_ok(EARSHOT_SOURCE_DIR "/rules");
    rules_stats st = ruleset_stats(rs);
    assert_int_equal(st.n_files, 8);
    assert_true(ruleset_lexicon(rs)->present);
    /* care-model.json, trained by scripts/train-default-model. */
    assert_non_null(ruleset_model(rs));
    assert_true(ruleset_lexicon(rs)->n_terms >= 300);
    assert_int_equal(st.n_brands, 12);
    assert_true(st.n_rules >= 25);
    assert_true(st.n_patterns >= 500);
    assert_true(st.db_bytes > 0);
    /* Files load in name order: brands.json first, so brand 0 is comcast. */
    assert_string_equal(ruleset_brand(rs, 0)->id, "comcast");
    size_t tags = 0;
    static const char *const care[] = {"wait_time", "automated_phone", "billing",
                                       "outage", "delivery", "rude_staff",
                                       "refund", "cancel_threat", "bad_service"};
    for (size_t t = 0; t < sizeof(care) / sizeof(care[0]); t++) {
        for (size_t i = 0; i < ruleset_rule_count(rs); i++) {
            if (strcmp(ruleset_rule(rs, i)->tag, care[t]) == 0) {
                tags++;
                break;
            }
        }
    }
    assert_int_equal(tags, 9);
    ruleset_unref(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_json_syntax),
        cmocka_unit_test(test_error_unknown_key),
        cmocka_unit_test(test_error_missing_id_tag),
        cmocka_unit_test(test_error_duplicates),
        cmocka_unit_test(test_error_values),
        cmocka_unit_test(test_error_only_not),
        cmocka_unit_test(test_error_when),
        cmocka_unit_test(test_error_examples),
        cmocka_unit_test(test_examples_loaded),
        cmocka_unit_test(test_error_regex),
        cmocka_unit_test(test_error_directory),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_version_and_refs),
        cmocka_unit_test(test_polarity_name),
        cmocka_unit_test(test_default_rules_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
