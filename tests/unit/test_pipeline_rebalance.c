/*
 * test_pipeline_rebalance: backpressure's pause decision. It pauses at
 * either limit and resumes only at or below half of both (hysteresis), so
 * the input does not flap around the limit. No broker: the decision is pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline/rebalance.h"

#define MSGS 1000
#define BYTES 1000000

static void test_pauses_at_either_limit(void **state)
{
    (void)state;
    assert_int_equal(rebalance_should_pause(0, 0, 0, MSGS, BYTES), 0);
    assert_int_equal(rebalance_should_pause(0, MSGS - 1, BYTES - 1, MSGS, BYTES), 0);
    assert_int_equal(rebalance_should_pause(0, MSGS, 0, MSGS, BYTES), 1);
    assert_int_equal(rebalance_should_pause(0, 0, BYTES, MSGS, BYTES), 1);
    assert_int_equal(rebalance_should_pause(0, MSGS + 5, BYTES + 5, MSGS, BYTES), 1);
}

static void test_resumes_below_half_of_both(void **state)
{
    (void)state;
    /* Between half and the limit: stays as it is. */
    assert_int_equal(rebalance_should_pause(1, MSGS - 1, 0, MSGS, BYTES), 1);
    assert_int_equal(rebalance_should_pause(0, MSGS - 1, 0, MSGS, BYTES), 0);
    assert_int_equal(rebalance_should_pause(1, MSGS / 2 + 1, 0, MSGS, BYTES), 1);
    /* Half of one, not the other: still paused. */
    assert_int_equal(rebalance_should_pause(1, MSGS / 2, BYTES / 2 + 1, MSGS, BYTES), 1);
    assert_int_equal(rebalance_should_pause(1, MSGS / 2 + 1, BYTES / 2, MSGS, BYTES), 1);
    /* At or below half of both: resumes. */
    assert_int_equal(rebalance_should_pause(1, MSGS / 2, BYTES / 2, MSGS, BYTES), 0);
    assert_int_equal(rebalance_should_pause(1, 0, 0, MSGS, BYTES), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pauses_at_either_limit),
        cmocka_unit_test(test_resumes_below_half_of_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
