/*
 * test_ruletest: the verdict of every example in the fixtures, and the
 * one-line report, without going through the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ruletest/ruletest.h"

#define DATA EARSHOT_SOURCE_DIR "/tests/data/"

typedef struct seen {
    ruletest_verdict verdict[16];
    char fired[16][64];
    size_t n;
} seen;

static void on_result(const ruleset *rs, const ruletest_result *res, void *opaque)
{
    seen *s = opaque;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    assert_true(s->n < 16);
    s->verdict[s->n] = res->verdict;
    if (res->matches) {
        f = open_memstream(&buf, &len);
        assert_non_null(f);
        ruletest_print_fired(f, rs, res->matches, false);
        fclose(f);
        snprintf(s->fired[s->n], sizeof(s->fired[0]), "%s", buf);
        free(buf);
    } else {
        snprintf(s->fired[s->n], sizeof(s->fired[0]), "-");
    }
    s->n++;
}

static ruleset *load(const char *dir)
{
    char err[1024];
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    if (!rs)
        fail_msg("%s: %s", dir, err);
    return rs;
}

static void test_all_pass(void **state)
{
    seen s = {{0}, {{0}}, 0};
    ruletest_summary sum;
    char err[256];
    (void)state;
    ruleset *rs = load(DATA "rules_examples_ok");

    assert_int_equal(ruletest_run(rs, false, on_result, &s, &sum, err, sizeof(err)), 0);
    assert_int_equal(sum.passed, 14);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(s.n, 0); /* only failures are reported */
    assert_int_equal(ruletest_run(rs, true, on_result, &s, &sum, err, sizeof(err)), 0);
    assert_int_equal(s.n, 14);
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(s.verdict[i], RULETEST_PASS);
    ruleset_unref(rs);
}

static void test_verdicts(void **state)
{
    seen s = {{0}, {{0}}, 0};
    ruletest_summary sum;
    char err[256];
    (void)state;
    ruleset *rs = load(DATA "rules_examples_fail");
    static const ruletest_verdict want[] = {
        RULETEST_PASS,       RULETEST_MISSED,     RULETEST_UNEXPECTED,
        RULETEST_PASS,       RULETEST_MISSED,     RULETEST_UNEXPECTED,
        RULETEST_REJECTED,   RULETEST_UNEXPECTED, RULETEST_PASS,
    };
    static const char *const fired[] = {
        "wait.on_hold", "none", "wait.on_hold", "wait.on_hold, outage", "wait.on_hold",
        "outage", "-", "odd", "none",
    };

    assert_int_equal(ruletest_run(rs, true, on_result, &s, &sum, err, sizeof(err)), 0);
    assert_int_equal(sum.passed, 3);
    assert_int_equal(sum.failed, 6);
    assert_int_equal(s.n, 9);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.verdict[i], want[i]);
        assert_string_equal(s.fired[i], fired[i]);
    }
    ruleset_unref(rs);
}

static void test_print_line_escapes(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    rules_example ex = {0, false, false, "a \"q\"\n\xc3\xa7", 8, "dir/r.json", 3, 7};
    match_result m;
    ruleset *rs = load(DATA "rules_examples_fail");
    ruletest_result res = {&ex, RULETEST_UNEXPECTED, &m, NULL};
    (void)state;

    memset(&m, 0, sizeof(m));
    m.n_rules = 2;
    m.rules[0] = 0;
    m.rules[1] = 2;
    assert_non_null(f);
    ruletest_print_line(f, rs, &res);
    fclose(f);
    assert_string_equal(buf, "dir/r.json:3:7: rule 'wait.on_hold' example should not "
                             "match but did: \"a \\\"q\\\"\\n\xc3\xa7\"; rules that "
                             "fired: wait.on_hold, odd\n");
    free(buf);
    ruleset_unref(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_pass),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_print_line_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
