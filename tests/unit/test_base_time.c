/*
 * Unit tests for src/base/base_time: the calendar against a day-by-day walk
 * and against libc's gmtime_r, exact ISO-8601 strings at the edges (leap
 * days, century rules, negative epochs), milliseconds, and the clamp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/base_time.h"

/* days_from_civil against a day-by-day walk from 1970 across 400 years,
 * and civil_from_days back. */
static void test_days_from_civil(void **state) {
    (void)state;
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day = 0;
    for (int64_t y = 1970; y < 2370; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (unsigned m = 1; m <= 12; m++) {
            unsigned n = dim[m - 1] + (m == 2 && leap);
            for (unsigned d = 1; d <= n; d++, day++) {
                if (base_time_days_from_civil(y, m, d) != day)
                    fail_msg("%lld-%02u-%02u: %lld, want %lld", (long long)y, m, d,
                             (long long)base_time_days_from_civil(y, m, d),
                             (long long)day);
                int64_t yy;
                unsigned mm, dd;
                base_time_civil_from_days(day, &yy, &mm, &dd);
                if (yy != y || mm != m || dd != d)
                    fail_msg("day %lld: %lld-%02u-%02u, want %lld-%02u-%02u",
                             (long long)day, (long long)yy, mm, dd, (long long)y, m, d);
            }
        }
    }
    assert_int_equal(base_time_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(base_time_days_from_civil(1600, 3, 1), -135080);
}

static void assert_iso(int64_t epoch, const char *want) {
    char buf[BASE_TIME_ISO_LEN + 1];
    memset(buf, 'x', sizeof buf);
    unsigned n = base_time_iso8601(buf, epoch, -1);
    if (n != BASE_TIME_ISO_LEN || buf[BASE_TIME_ISO_LEN] != 'x')
        fail_msg("iso8601(%lld) wrote %u bytes", (long long)epoch, n);
    buf[BASE_TIME_ISO_LEN] = 0;
    if (strcmp(buf, want) != 0)
        fail_msg("iso8601(%lld) = %s, want %s", (long long)epoch, buf, want);
}

static void test_iso_exact(void **state) {
    (void)state;
    assert_iso(0, "1970-01-01T00:00:00Z");
    assert_iso(-1, "1969-12-31T23:59:59Z");
    assert_iso(86399, "1970-01-01T23:59:59Z");
    assert_iso(86400, "1970-01-02T00:00:00Z");
    assert_iso(951782400, "2000-02-29T00:00:00Z"); /* leap: divisible by 400 */
    assert_iso(951868800, "2000-03-01T00:00:00Z");
    assert_iso(1709210096, "2024-02-29T12:34:56Z");
    assert_iso(1709251200, "2024-03-01T00:00:00Z");
    assert_iso(4107542400 - 1, "2100-02-28T23:59:59Z"); /* 2100: not leap */
    assert_iso(4107542400, "2100-03-01T00:00:00Z");
    assert_iso(-2203891200 - 1, "1900-02-28T23:59:59Z"); /* 1900: not leap */
    assert_iso(-2203891200, "1900-03-01T00:00:00Z");
    assert_iso(2147483648, "2038-01-19T03:14:08Z");
    assert_iso(1704067199, "2023-12-31T23:59:59Z");
    /* Outside four-digit years: clamped, never garbage. */
    assert_iso(BASE_TIME_MAX_EPOCH, "9999-12-31T23:59:59Z");
    assert_iso(BASE_TIME_MAX_EPOCH + 1, "9999-12-31T23:59:59Z");
    assert_iso(INT64_MAX, "9999-12-31T23:59:59Z");
    assert_iso(BASE_TIME_MIN_EPOCH, "0000-01-01T00:00:00Z");
    assert_iso(INT64_MIN, "0000-01-01T00:00:00Z");
}

static void test_iso_ms(void **state) {
    (void)state;
    char buf[BASE_TIME_ISO_MS_LEN + 1];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(base_time_iso8601(buf, 1539202764, 7), BASE_TIME_ISO_MS_LEN);
    assert_memory_equal(buf, "2018-10-10T20:19:24.007Z", BASE_TIME_ISO_MS_LEN);
    assert_int_equal(buf[BASE_TIME_ISO_MS_LEN], 'x');
    assert_int_equal(base_time_iso8601(buf, 0, 0), BASE_TIME_ISO_MS_LEN);
    assert_memory_equal(buf, "1970-01-01T00:00:00.000Z", BASE_TIME_ISO_MS_LEN);
    assert_int_equal(base_time_iso8601(buf, -1, 999), BASE_TIME_ISO_MS_LEN);
    assert_memory_equal(buf, "1969-12-31T23:59:59.999Z", BASE_TIME_ISO_MS_LEN);
}

/* Against libc's gmtime_r, every 1,000,003 s (about 11.6 days, so hours,
 * minutes and seconds vary) from 1900 to 2200. */
static void test_iso_vs_gmtime(void **state) {
    (void)state;
    char buf[BASE_TIME_ISO_LEN + 1], want[80];
    for (int64_t t = INT64_C(-2208988800); t < INT64_C(7258118400); t += 1000003) {
        time_t tt = (time_t)t;
        struct tm tm;
        assert_non_null(gmtime_r(&tt, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        base_time_iso8601(buf, t, -1);
        buf[BASE_TIME_ISO_LEN] = 0;
        if (strcmp(buf, want) != 0)
            fail_msg("iso8601(%lld) = %s, gmtime says %s", (long long)t, buf, want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_iso_exact),
        cmocka_unit_test(test_iso_ms),
        cmocka_unit_test(test_iso_vs_gmtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
