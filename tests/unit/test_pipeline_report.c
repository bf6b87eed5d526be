/*
 * test_pipeline_report: the status line, word for word, for a run that
 * produces and for a dry run. Its wording is an interface: the integration
 * tests parse it (run_helpers.STATUS_RE), so a change here must be a
 * deliberate one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/report.h"

static pipeline_stats stats(void)
{
    pipeline_stats st;

    memset(&st, 0, sizeof(st));
    st.consumed = 1234;
    st.produced[0] = 400;
    st.produced[1] = 30;
    st.produced[2] = 12;
    st.produce_failed = 1;
    st.inflight_msgs = 56;
    st.inflight_bytes = 78901;
    st.lag = 17;
    st.partitions = 4;
    return st;
}

static void test_run_line(void **state)
{
    pipeline_stats st = stats();
    char line[512];
    (void)state;

    report_status_line(line, sizeof(line), &st, 99.6, NULL);
    assert_string_equal(line, "status: consumed 1234 (100/s), produced enriched 400 tickets 30 "
                              "rejected 12, failed 1, in flight 56 msgs 78901 B, lag 17, "
                              "partitions 4");
    st.paused = 1;
    st.lag = -1;
    report_status_line(line, sizeof(line), &st, 0.0, NULL);
    assert_string_equal(line, "status: consumed 1234 (0/s), produced enriched 400 tickets 30 "
                              "rejected 12, failed 1, in flight 56 msgs 78901 B (paused), "
                              "lag -1, partitions 4");
}

static void test_dry_line(void **state)
{
    pipeline_stats st = stats();
    const uint64_t dry[3] = {7, 3, 2};
    char line[512];
    (void)state;

    report_status_line(line, sizeof(line), &st, 10.0, dry);
    assert_string_equal(line, "status: consumed 1234 (10/s), dry run: would produce enriched 7 "
                              "tickets 3 rejected 2, in flight 56 msgs 78901 B, lag 17, "
                              "partitions 4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_line),
        cmocka_unit_test(test_dry_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
