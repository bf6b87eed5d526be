/*
 * Unit tests for src/base's message helpers: the error setters (NULL and
 * zero-size buffers, truncation, appending warnings) and the edit distance
 * behind "did you mean".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base_edit.h"
#include "base/base_err.h"

static void test_err_set(void **state) {
    (void)state;
    char err[16];
    base_err_set(err, sizeof err, "line %d: %s", 7, "bad");
    assert_string_equal(err, "line 7: bad");
    base_err_set(err, sizeof err, "%s", "0123456789abcdefXYZ"); /* truncated */
    assert_string_equal(err, "0123456789abcde");
    base_err_set(NULL, 0, "ignored %d", 1); /* no buffer: no crash */
    err[0] = 'q';
    base_err_set(err, 0, "ignored");
    assert_int_equal(err[0], 'q');
}

static void test_err_append(void **state) {
    (void)state;
    char w[24] = "";
    base_err_append(w, sizeof w, "; ", "one %d", 1);
    assert_string_equal(w, "one 1");
    base_err_append(w, sizeof w, "; ", "two");
    assert_string_equal(w, "one 1; two");
    base_err_append(w, sizeof w, "; ", "three is long");
    assert_string_equal(w, "one 1; two; three is lo"); /* truncated, terminated */
    base_err_append(w, sizeof w, "; ", "four"); /* full: left as it was */
    assert_string_equal(w, "one 1; two; three is lo");
}

static void test_edit_distance(void **state) {
    (void)state;
    assert_int_equal(base_edit_distance("", "", 0), 0);
    assert_int_equal(base_edit_distance("brands", "brands", 0), 0);
    assert_int_equal(base_edit_distance("", "abc", 0), 3);
    assert_int_equal(base_edit_distance("brnads", "brands", 0), 2); /* swap = 2 */
    assert_int_equal(base_edit_distance("treads", "threads", 0), 1);
    assert_int_equal(base_edit_distance("kitten", "sitting", 0), 3);
    assert_int_equal(base_edit_distance("Lang", "lang", 0), 1);
    assert_int_equal(base_edit_distance("Lang", "lang", 1), 0);
    assert_int_equal(base_edit_distance("LOG.LEVEL", "log.level", 1), 0);
    char big[BASE_EDIT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_true(base_edit_distance(big, "a", 0) == SIZE_MAX);
    big[BASE_EDIT_MAX] = 0; /* exactly the limit: compared */
    assert_int_equal(base_edit_distance(big, "a", 0), BASE_EDIT_MAX - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set),
        cmocka_unit_test(test_err_append),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
