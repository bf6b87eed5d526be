/*
 * test_pipeline_offreset: librdkafka 2.0.2's offset-reset log lines (as
 * captured from the embedded broker, with and without the "[thrd:NAME]: "
 * prefix the log callback gets) give the partition, the offset that
 * was gone and the new position; other lines are not taken for one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline/offreset.h"

static void test_forward_reset_known(void **state)
{
    offreset r;
    (void)state;

    assert_int_equal(offreset_parse("[thrd:main]: posts.in [3]: offset reset (at offset 12, "
                                    "broker 1) to cached BEGINNING offset 500: fetch failed "
                                    "due to requested offset not available on the broker: "
                                    "Broker: Offset out of range",
                                    &r),
                     0); /* as the log callback gets it */
    assert_string_equal(r.topic, "posts.in");
    assert_int_equal(offreset_parse("posts.in [3]: offset reset (at offset 12, broker 1) to "
                                    "cached BEGINNING offset 500: fetch failed due to "
                                    "requested offset not available on the broker: Broker: "
                                    "Offset out of range",
                                    &r),
                     0);
    assert_string_equal(r.topic, "posts.in");
    assert_int_equal(r.partition, 3);
    assert_int_equal(r.from, 12);
    assert_int_equal(r.to, 500);
    assert_string_equal(r.where, "cached BEGINNING offset 500");
}

static void test_backward_and_unknown(void **state)
{
    offreset r;
    (void)state;

    /* Captured: committed 1000 on a 20-message partition. */
    assert_int_equal(offreset_parse("posts [0]: offset reset (at offset 1000, broker 1) to "
                                    "cached BEGINNING offset 0: fetch failed due to requested "
                                    "offset not available on the broker: Broker: Offset out "
                                    "of range",
                                    &r),
                     0);
    assert_int_equal(r.from, 1000);
    assert_int_equal(r.to, 0);
    /* No cached watermark: librdkafka asks the broker, NEW is unknown. */
    assert_int_equal(offreset_parse("posts [2]: offset reset (at offset 7, broker 2) to END: "
                                    "fetch failed: Broker: Offset out of range",
                                    &r),
                     0);
    assert_int_equal(r.from, 7);
    assert_int_equal(r.to, -1);
    assert_string_equal(r.where, "END");
}

static void test_not_a_loss(void **state)
{
    offreset r;
    (void)state;

    /* Captured: a group's first start, nothing committed. */
    assert_int_equal(offreset_parse("posts [0]: offset reset (at offset INVALID, broker -1) "
                                    "to END: no previously committed offset available: "
                                    "Local: No offset stored",
                                    &r),
                     -1);
    assert_int_equal(offreset_parse("posts [0]: Setting offset 5", &r), -1);
    assert_int_equal(offreset_parse("", &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_reset_known),
        cmocka_unit_test(test_backward_and_unknown),
        cmocka_unit_test(test_not_a_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
