/*
 * test_eval: the report's arithmetic on hand-computed cases (exact P/R/F1,
 * confusion, accuracy, macro-F1, per-rule agreement, kept misses) and the
 * label map (defaults, --map parsing and its errors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/eval.h"

#define EPS 1e-12

/* cmocka before 1.1.6 has no assert_double_equal. */
#define assert_double_equal(a, b, eps) assert_close((a), (b), (eps), __LINE__)
static void assert_close(double a, double b, double eps, int line)
{
    if (a - b > eps || b - a > eps)
        fail_msg("line %d: %.15g != %.15g", line, a, b);
}

static void add_n(eval *ev, int gold, int pred, int n, const eval_detail *d)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(eval_add(ev, gold, pred, d), 0);
}

/* complaint/not_complaint: 3 TP, 2 FN, 1 FP, 4 TN. */
static void test_two_classes(void **state)
{
    const char *classes[] = {"complaint", "not_complaint"};
    char err[256];
    eval *ev = eval_new(classes, 2, 10, err, sizeof(err));
    (void)state;

    assert_non_null(ev);
    add_n(ev, 0, 0, 3, NULL);
    add_n(ev, 0, 1, 2, NULL);
    add_n(ev, 1, 0, 1, NULL);
    add_n(ev, 1, 1, 4, NULL);
    assert_int_equal(eval_posts(ev), 10);
    assert_int_equal(eval_confusion(ev, 0, 0), 3);
    assert_int_equal(eval_confusion(ev, 0, 1), 2);
    assert_int_equal(eval_confusion(ev, 1, 0), 1);
    assert_int_equal(eval_confusion(ev, 1, 1), 4);
    assert_int_equal(eval_confusion(ev, 1, 2), 0); /* unmapped column */

    eval_class_stats c = eval_class(ev, 0);
    assert_int_equal(c.tp, 3);
    assert_int_equal(c.fp, 1);
    assert_int_equal(c.fn, 2);
    assert_int_equal(c.support, 5);
    assert_int_equal(c.predicted, 4);
    assert_double_equal(c.precision, 0.75, EPS);
    assert_double_equal(c.recall, 0.6, EPS);
    assert_double_equal(c.f1, 2.0 / 3.0, EPS);

    eval_class_stats n = eval_class(ev, 1);
    assert_double_equal(n.precision, 4.0 / 6.0, EPS);
    assert_double_equal(n.recall, 0.8, EPS);
    assert_double_equal(n.f1, 8.0 / 11.0, EPS);
    assert_double_equal(eval_accuracy(ev), 0.7, EPS);
    assert_double_equal(eval_macro_f1(ev), 23.0 / 33.0, EPS);
    /* a bad index is refused and not counted */
    assert_int_equal(eval_add(ev, 2, 0, NULL), -1);
    assert_int_equal(eval_add(ev, 0, -3, NULL), -1);
    assert_int_equal(eval_posts(ev), 10);
    eval_free(ev);
}

/* Predictions no class claims count in the "(unmapped)" column and are
 * wrong; a class nobody has or predicts stays out of macro-F1. */
static void test_unmapped_and_absent_class(void **state)
{
    const char *classes[] = {"negative", "positive", "spam"};
    char err[256];
    eval *ev = eval_new(classes, 3, 10, err, sizeof(err));
    (void)state;

    add_n(ev, 0, 0, 2, NULL);
    add_n(ev, 0, EVAL_UNMAPPED, 1, NULL);
    add_n(ev, 1, 1, 1, NULL);
    add_n(ev, 1, 0, 1, NULL);
    add_n(ev, 1, EVAL_UNMAPPED, 1, NULL);
    assert_int_equal(eval_confusion(ev, 0, 3), 1);
    assert_int_equal(eval_confusion(ev, 1, 3), 1);
    eval_class_stats neg = eval_class(ev, 0), pos = eval_class(ev, 1);
    assert_double_equal(neg.precision, 2.0 / 3.0, EPS);
    assert_double_equal(neg.recall, 2.0 / 3.0, EPS);
    assert_int_equal(neg.fn, 1);
    assert_double_equal(pos.precision, 1.0, EPS);
    assert_double_equal(pos.recall, 1.0 / 3.0, EPS);
    assert_double_equal(pos.f1, 0.5, EPS);
    assert_double_equal(eval_class(ev, 2).f1, 0.0, EPS);
    assert_double_equal(eval_accuracy(ev), 0.5, EPS);
    assert_double_equal(eval_macro_f1(ev), (2.0 / 3.0 + 0.5) / 2, EPS);
    eval_free(ev);
}

static json_t *find_rule(json_t *rules, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
        if (!strcmp(json_string_value(json_object_get(r, "id")), id))
            return r;
    return NULL;
}

/* Rules: agreement with gold for rules with a class, only the gold
 * distribution for the others; misses: the two-class rule (kept under the
 * class that is not "not_*"), top_n by score then input order. */
static void test_rules_misses_json(void **state)
{
    const char *classes[] = {"not_complaint", "complaint"};
    char err[256];
    eval *ev = eval_new(classes, 2, 2, err, sizeof(err));
    uint32_t both[] = {0, 1}, topic[] = {1}, unm[] = {2};
    eval_detail d = {.rules = both, .n_rules = 2, .text = "wrong one", .text_len = 9};
    (void)state;

    assert_int_equal(eval_rule(ev, "c.outage", 1), 0);
    assert_int_equal(eval_rule(ev, "topic.billing", EVAL_NO_CLASS), 1);
    assert_int_equal(eval_rule(ev, "q.how", EVAL_UNMAPPED), 2);
    assert_int_equal(eval_rule(ev, "never.fires", 0), 3);
    /* c.outage fires 3x: twice on gold complaint, once on not_complaint */
    add_n(ev, 1, 1, 2, &(eval_detail){.rules = both, .n_rules = 2});
    d.score = 1;
    add_n(ev, 0, 1, 1, &d); /* complaint FP, score 1 */
    add_n(ev, 0, 0, 1, &(eval_detail){.rules = topic, .n_rules = 1});
    add_n(ev, 1, EVAL_UNMAPPED, 1, &(eval_detail){.rules = unm, .n_rules = 1, .text = "a", .text_len = 1});
    /* three complaint FNs with equal score: the first two are kept */
    add_n(ev, 1, 0, 1, &(eval_detail){.text = "fn1", .text_len = 3, .ref = "f:7"});
    add_n(ev, 1, 0, 1, &(eval_detail){.text = "fn2", .text_len = 3});
    add_n(ev, 1, 0, 1, &(eval_detail){.text = "fn3", .text_len = 3});
    assert_int_equal(eval_skip(ev, "no label"), 0);
    assert_int_equal(eval_skip(ev, "no label"), 0);

    json_t *j = eval_json(ev);
    assert_non_null(j);
    json_t *rules = json_object_get(j, "rules");
    assert_int_equal(json_array_size(rules), 3); /* never.fires is left out */
    json_t *r = find_rule(rules, "c.outage");
    assert_int_equal(json_integer_value(json_object_get(r, "fired")), 3);
    assert_int_equal(json_integer_value(json_object_get(r, "agreed")), 2);
    assert_double_equal(json_real_value(json_object_get(r, "precision")), 2.0 / 3.0, EPS);
    assert_string_equal(json_string_value(json_object_get(r, "class")), "complaint");
    r = find_rule(rules, "topic.billing");
    assert_int_equal(json_integer_value(json_object_get(r, "fired")), 4);
    assert_true(json_is_null(json_object_get(r, "precision")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "gold"), "complaint")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "gold"), "not_complaint")), 2);
    r = find_rule(rules, "q.how");
    assert_int_equal(json_integer_value(json_object_get(r, "agreed")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "class")), "(unmapped)");
    /* most fired first */
    assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "id")),
                        "topic.billing");

    json_t *misses = json_object_get(j, "misses");
    size_t i;
    json_t *m;
    int fn = 0, fp = 0;
    json_array_foreach(misses, i, m) {
        assert_string_equal(json_string_value(json_object_get(m, "class")), "complaint");
        if (!strcmp(json_string_value(json_object_get(m, "kind")), "false_negative")) {
            /* 4 FNs (one unmapped, three to not_complaint), 2 kept, input order */
            assert_string_equal(json_string_value(json_object_get(m, "text")),
                                fn == 0 ? "a" : "fn1");
            fn++;
        } else {
            assert_string_equal(json_string_value(json_object_get(m, "text")), "wrong one");
            assert_int_equal(json_array_size(json_object_get(m, "rules")), 2);
            fp++;
        }
    }
    assert_int_equal(fn, 2);
    assert_int_equal(fp, 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "skipped"), "no label")), 2);
    json_t *counts = json_object_get(json_object_get(j, "confusion"), "counts");
    assert_int_equal(json_integer_value(json_array_get(json_array_get(counts, 1), 2)), 1);
    json_decref(j);

    /* the terminal report renders without trouble */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    eval_print(ev, f);
    fclose(f);
    assert_non_null(strstr(buf, "false negatives: complaint"));
    assert_non_null(strstr(buf, "2 lines skipped: no label"));
    assert_null(strstr(buf, "false negatives: not_complaint"));
    free(buf);
    eval_free(ev);
}

/* A higher score displaces a kept miss; the cut keeps UTF-8 whole. */
static void test_miss_score_and_cut(void **state)
{
    const char *classes[] = {"a", "b", "c"};
    char err[256], text[400];
    eval *ev = eval_new(classes, 3, 1, err, sizeof(err));
    (void)state;

    memset(text, 'x', sizeof(text));
    memcpy(text + EVAL_TEXT_MAX - 1, "\xc3\xa9", 2); /* é across the cut */
    add_n(ev, 0, 1, 1, &(eval_detail){.text = "low", .text_len = 3, .score = 1});
    add_n(ev, 0, 1, 1, &(eval_detail){.text = text, .text_len = sizeof(text), .score = 5});
    add_n(ev, 0, 1, 1, &(eval_detail){.text = "tie", .text_len = 3, .score = 5});
    json_t *j = eval_json(ev);
    json_t *m = json_array_get(json_object_get(j, "misses"), 0);
    const char *t = json_string_value(json_object_get(m, "text"));
    assert_non_null(t);
    assert_int_equal(strlen(t), EVAL_TEXT_MAX - 1);
    assert_true(json_is_true(json_object_get(m, "text_cut")));
    /* three classes: a's FN and b's FP are both kept */
    assert_int_equal(json_array_size(json_object_get(j, "misses")), 2);
    json_decref(j);
    eval_free(ev);
}

static void test_new_errors(void **state)
{
    const char *dup[] = {"a", "a"};
    char err[256];
    (void)state;

    assert_null(eval_new(dup, 2, 1, err, sizeof(err)));
    assert_string_equal(err, "class 'a' is given twice");
    assert_null(eval_new(dup, 0, 1, err, sizeof(err)));
    assert_string_equal(err, "0 classes: need 1..32");
}

static void test_labelmap_default(void **state)
{
    const char *cnc[] = {"not_complaint", "complaint"};
    const char *sent[] = {"positive", "neutral", "negative"};
    const char *pol[] = {"neutral", "question", "praise", "complaint"};
    const char *clash[] = {"negative", "complaint"};
    eval_labelmap lm;
    char err[256], buf[64];
    (void)state;

    assert_int_equal(eval_labelmap_default(&lm, cnc, 2, err, sizeof(err)), 0);
    assert_int_equal(lm.n, 2);
    assert_string_equal(lm.names[0], "complaint");
    assert_string_equal(lm.names[1], "not_complaint");
    assert_string_equal(eval_polset_str(lm.sets[1], buf, sizeof(buf)), "question+praise+neutral");
    assert_int_equal(eval_labelmap_predict(&lm, POLARITY_COMPLAINT), 0);
    assert_int_equal(eval_labelmap_predict(&lm, POLARITY_QUESTION), 1);
    assert_int_equal(eval_labelmap_class(&lm, "not_complaint"), 1);
    assert_int_equal(eval_labelmap_class(&lm, "spam"), -1);
    eval_labelmap_free(&lm);

    assert_int_equal(eval_labelmap_default(&lm, sent, 3, err, sizeof(err)), 0);
    assert_string_equal(lm.names[0], "negative");
    assert_string_equal(lm.names[1], "neutral");
    assert_string_equal(lm.names[2], "positive");
    assert_string_equal(eval_polset_str(lm.sets[1], buf, sizeof(buf)), "question+neutral");
    assert_int_equal(eval_labelmap_predict(&lm, POLARITY_QUESTION), 1);
    eval_labelmap_free(&lm);

    /* with a "question" label, "neutral" is only neutral */
    assert_int_equal(eval_labelmap_default(&lm, pol, 4, err, sizeof(err)), 0);
    assert_string_equal(lm.names[0], "complaint");
    assert_string_equal(lm.names[1], "question");
    assert_string_equal(lm.names[2], "praise");
    assert_string_equal(lm.names[3], "neutral");
    assert_int_equal(lm.sets[3], EVAL_POL(POLARITY_NEUTRAL));
    eval_labelmap_free(&lm);

    assert_int_equal(eval_labelmap_default(&lm, clash, 2, err, sizeof(err)), -1);
    assert_string_equal(err, "labels 'complaint' and 'negative' both claim polarity "
                             "'complaint': a prediction must map to one label; "
                             "give the map with --map");
}

static void test_labelmap_parse(void **state)
{
    eval_labelmap lm;
    char err[256], buf[64];
    (void)state;

    assert_int_equal(eval_labelmap_parse(&lm, "negative=complaint,neutral=neutral+question,"
                                              "positive=praise", err, sizeof(err)), 0);
    assert_int_equal(lm.n, 3);
    assert_true(lm.explicit_map);
    assert_string_equal(lm.names[1], "neutral");
    assert_string_equal(eval_polset_str(lm.sets[1], buf, sizeof(buf)), "question+neutral");
    assert_int_equal(eval_labelmap_predict(&lm, POLARITY_PRAISE), 2);
    eval_labelmap_free(&lm);

    /* a polarity no label claims is unmapped */
    assert_int_equal(eval_labelmap_parse(&lm, "bad=complaint", err, sizeof(err)), 0);
    assert_int_equal(eval_labelmap_predict(&lm, POLARITY_PRAISE), EVAL_UNMAPPED);
    eval_labelmap_free(&lm);

    static const struct {
        const char *spec, *err;
    } bad[] = {
        {"", "--map is empty: give GOLD=POLARITY[+POLARITY...],..."},
        {"negative", "--map entry 'negative' must be GOLD=POLARITY[+POLARITY...], "
                     "e.g. negative=complaint"},
        {"=complaint", "--map entry '=complaint' must be GOLD=POLARITY[+POLARITY...], "
                       "e.g. negative=complaint"},
        {"negative=compliant", "--map: 'compliant' is not a polarity "
                               "(complaint, praise, question, neutral)"},
        {"negative=complaint+", "--map: '' is not a polarity "
                                "(complaint, praise, question, neutral)"},
        {"a=complaint,b=praise+complaint", "labels 'a' and 'b' both claim polarity "
                                           "'complaint': a prediction must map to one label"},
        {"a=complaint,a=praise", "label 'a' is given twice"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(eval_labelmap_parse(&lm, bad[i].spec, err, sizeof(err)), -1);
        assert_string_equal(err, bad[i].err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_classes),
        cmocka_unit_test(test_unmapped_and_absent_class),
        cmocka_unit_test(test_rules_misses_json),
        cmocka_unit_test(test_miss_score_and_cut),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_labelmap_default),
        cmocka_unit_test(test_labelmap_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
