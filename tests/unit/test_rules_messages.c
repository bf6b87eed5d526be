/*
 * test_rules_messages: loader errors that quote an analyst's string (a
 * term, an id, a key, a polarity) stay readable when the string is huge. A
 * 1 MB phrase or regex quoted whole filled the 1024-byte error buffer and
 * cut off the reason (Hyperscan's, say) and the fix. Each test writes one
 * rule file with a 1 MB string and expects the exact message, the string
 * cut to RULES_QUOTE_MAX bytes plus "..." on a UTF-8 boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules.h"

#define LONG_LEN (1u << 20)

static char dir[64];

/* A 1 MB string: "x" then 2-byte characters, so that byte 80 falls inside
 * one (RULES_QUOTE_MAX must back off to byte 79). */
static char *long_string(void)
{
    char *s = malloc(LONG_LEN + 1);
    size_t n = 0;
    assert_non_null(s);
    s[n++] = 'x';
    while (n + 2 <= LONG_LEN) {
        s[n++] = (char)0xc3; /* e-acute */
        s[n++] = (char)0xa9;
    }
    s[n] = 0;
    return s;
}

/* What the long string reads as in a message. */
static const char *cut(void)
{
    static char c[128];
    size_t n = 0;
    c[n++] = 'x';
    for (int i = 0; i < 39; i++) {
        c[n++] = (char)0xc3;
        c[n++] = (char)0xa9;
    }
    memcpy(c + n, "...", 4);
    return c;
}

/* Writes head LONG tail as DIR/a.json; returns the 1-based column (in
 * characters; head is ASCII) where LONG's enclosing quote starts. */
static int write_rules(const char *head, const char *tail)
{
    char path[128];
    char *s = long_string();
    FILE *f;

    snprintf(dir, sizeof(dir), "/tmp/earshot-test-msg-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.json", dir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "%s%s%s", head, s, tail);
    fclose(f);
    free(s);
    return (int)strlen(head); /* the quote is head's last byte */
}

static void cleanup(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/a.json", dir);
    unlink(path);
    rmdir(dir);
}

/* Loads DIR with a 1024-byte buffer (check-rules' size) and expects the
 * message DIR/a.json:1:COL: want. */
static void expect(int col, const char *want)
{
    char err[1024], full[1024];
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    if (rs) {
        ruleset_unref(rs);
        fail_msg("%s loaded", dir);
    }
    snprintf(full, sizeof(full), "%s/a.json:1:%d: %s", dir, col, want);
    assert_string_equal(err, full);
    cleanup();
}

static void test_long_regex_keeps_reason(void **state)
{
    char err[1024], want[512];
    (void)state;
    /* An unclosed group: Hyperscan refuses it, naming why. */
    int col = write_rules("{\"rules\": [{\"id\": \"hold\", \"tag\": \"t\", "
                          "\"any\": [{\"regex\": \"(", "\"}]}]}\n");
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    assert_null(rs);
    /* Hyperscan's wording is its own; what must survive is the quote, cut,
     * its reason and the fix after it. */
    /* The value's quote is the byte before "(" (col counts from 1). */
    snprintf(want, sizeof(want), "%s/a.json:1:%d: rule hold: pattern '(%s' "
             "does not compile: ", dir, col - 1, cut());
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("got: %.300s\nwant a start: %s", err, want);
    const char *reason = err + strlen(want);
    const char *fix = " Fix the term (Hyperscan syntax; it runs on lower-case, "
                      "accent-free normalised text).";
    assert_true(strlen(reason) > strlen(fix)); /* the reason is there */
    assert_string_equal(reason + strlen(reason) - strlen(fix), fix);
    cleanup();
}

static void test_long_lexicon_duplicate(void **state)
{
    char head[256], want[512];
    (void)state;
    /* The same 1 MB phrase twice: the second names the first. */
    char *s = long_string();
    char path[128];
    FILE *f;
    snprintf(dir, sizeof(dir), "/tmp/earshot-test-msg-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.json", dir);
    assert_non_null(f = fopen(path, "w"));
    snprintf(head, sizeof(head), "{\"lexicon\": {\"negators\": [\"");
    fprintf(f, "%s%s\", \"%s\"]}}", head, s, s);
    fclose(f);
    free(s);
    int first = (int)strlen(head);
    int second = first + 1 + (int)(1 + (LONG_LEN - 2) / 2) + 3;
    snprintf(want, sizeof(want), "lexicon: '%s' is already in the lexicon at "
             "%s/a.json:1:%d; list each phrase once", cut(), dir, first);
    expect(second, want);
}

static void test_long_duplicate_id(void **state)
{
    char head[512], want[512];
    (void)state;
    char *s = long_string();
    char path[128];
    FILE *f;
    snprintf(dir, sizeof(dir), "/tmp/earshot-test-msg-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.json", dir);
    assert_non_null(f = fopen(path, "w"));
    snprintf(head, sizeof(head), "{\"rules\": [{\"id\": \"");
    fprintf(f, "%s%s\", \"tag\": \"t\", \"any\": [\"a\"]}, {\"id\": \"%s\", "
            "\"tag\": \"t\", \"any\": [\"b\"]}]}", head, s, s);
    fclose(f);
    free(s);
    int first = (int)strlen(head);
    int chars = (int)(1 + (LONG_LEN - 2) / 2);
    int second = first + chars + (int)strlen("\", \"tag\": \"t\", \"any\": "
                                             "[\"a\"]}, {\"id\": ") + 1;
    snprintf(want, sizeof(want), "duplicate rule id '%s': already defined at "
             "%s/a.json:1:%d; rule ids must be unique, rename one", cut(), dir,
             first);
    expect(second, want);
}

static void test_long_key_and_polarity(void **state)
{
    char want[512];
    (void)state;
    int col = write_rules("{\"rules\": [{\"id\": \"hold\", \"tag\": \"t\", "
                          "\"any\": [\"a\"], \"", "\": 1}]}");
    snprintf(want, sizeof(want), "unknown key '%s' in rule 'hold'; expected one "
             "of id, tag, polarity, severity, all, any, not, when, description, "
             "examples", cut());
    expect(col, want);

    col = write_rules("{\"rules\": [{\"id\": \"hold\", \"tag\": \"t\", "
                      "\"any\": [\"a\"], \"polarity\": \"", "\"}]}");
    snprintf(want, sizeof(want), "rule 'hold': bad polarity '%s'; expected "
             "\"complaint\", \"praise\" or \"question\" (or leave it out)", cut());
    expect(col, want);
}

/* A long id is cut wherever it names the rule, and in "when.brands". */
static void test_long_unknown_brand(void **state)
{
    char want[512];
    (void)state;
    int col = write_rules("{\"rules\": [{\"id\": \"hold\", \"tag\": \"t\", "
                          "\"any\": [\"a\"], \"when\": {\"brands\": [\"",
                          "\"]}}]}");
    snprintf(want, sizeof(want), "rule 'hold': \"when.brands\" names unknown "
             "brand '%s'; use the \"id\" of a brand defined in a \"brands\" list",
             cut());
    expect(col, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_regex_keeps_reason),
        cmocka_unit_test(test_long_lexicon_duplicate),
        cmocka_unit_test(test_long_duplicate_id),
        cmocka_unit_test(test_long_key_and_polarity),
        cmocka_unit_test(test_long_unknown_brand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
