/*
 * test_pipeline_offtrack: the commit position never passes an
 * unacknowledged offset, whatever the acknowledgement order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pipeline/offtrack.h"

static void test_in_order(void **state)
{
    offtrack *ot = offtrack_new();
    (void)state;

    assert_int_equal(offtrack_committable(ot), -1);
    for (int64_t o = 0; o < 3; o++)
        assert_int_equal(offtrack_add(ot, o), 0);
    assert_int_equal(offtrack_done(ot, 0), 1);
    assert_int_equal(offtrack_done(ot, 1), 2);
    assert_int_equal(offtrack_done(ot, 2), 3);
    assert_int_equal(offtrack_pending(ot), 0);
    assert_int_equal(offtrack_committable(ot), 3);
    offtrack_free(ot);
}

static void test_out_of_order_with_gaps(void **state)
{
    offtrack *ot = offtrack_new();
    const int64_t offs[] = {10, 11, 13, 17, 18};
    (void)state;

    for (size_t i = 0; i < 5; i++)
        assert_int_equal(offtrack_add(ot, offs[i]), 0);
    assert_int_equal(offtrack_done(ot, 13), 0); /* 10, 11 still pending */
    assert_int_equal(offtrack_done(ot, 18), 0);
    assert_int_equal(offtrack_done(ot, 11), 0);
    assert_int_equal(offtrack_pending(ot), 5);
    assert_int_equal(offtrack_done(ot, 10), 14); /* 10, 11, 13 retire */
    assert_int_equal(offtrack_pending(ot), 2);
    assert_int_equal(offtrack_committable(ot), 14);
    assert_int_equal(offtrack_done(ot, 17), 19); /* 17 and the early 18 */
    assert_int_equal(offtrack_pending(ot), 0);
    /* unknown, repeated and retired offsets are refused */
    assert_int_equal(offtrack_done(ot, 12), -1);
    assert_int_equal(offtrack_done(ot, 17), -1);
    assert_int_equal(offtrack_add(ot, 20), 0);
    assert_int_equal(offtrack_done(ot, 20), 21);
    assert_int_equal(offtrack_done(ot, 20), -1);
    offtrack_free(ot);
}

static void test_rewind_refused(void **state)
{
    offtrack *ot = offtrack_new();
    (void)state;

    assert_int_equal(offtrack_add(ot, 5), 0);
    assert_int_equal(offtrack_add(ot, 5), -1);
    assert_int_equal(offtrack_add(ot, 4), -1);
    assert_int_equal(offtrack_pending(ot), 1);
    offtrack_free(ot);
}

/* Many offsets acknowledged in a scrambled order: the position returned
 * after each ack equals the one computed by brute force, across array
 * growth and compaction. */
static void test_scrambled_against_model(void **state)
{
    enum { N = 5000 };
    offtrack *ot = offtrack_new();
    static int acked[N];
    static int order[N];
    uint64_t x = 88172645463325252ull;
    int64_t model = -1;
    (void)state;

    for (int i = 0; i < N; i++) {
        order[i] = i;
        acked[i] = 0;
    }
    /* ack window: each ack picks among the oldest 100 not yet acked, so the
     * tracker sees both lagging heads and compaction */
    for (int i = N - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int j = i - (int)(x % 100);
        if (j < 0)
            j = 0;
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int added = 0;
    for (int i = 0; i < N; i++) {
        int o = order[i];
        while (added <= o) {
            assert_int_equal(offtrack_add(ot, (int64_t)added * 3), 0); /* gaps of 2 */
            added++;
        }
        acked[o] = 1;
        int64_t got = offtrack_done(ot, (int64_t)o * 3);
        int64_t next = model;
        int k = model < 0 ? 0 : (int)((model - 1) / 3) + 1;
        while (k < N && acked[k]) {
            next = (int64_t)k * 3 + 1;
            k++;
        }
        assert_int_equal(got, next != model ? next : 0);
        model = next;
        /* pending = added - retired */
        assert_int_equal(offtrack_pending(ot), (size_t)(added - k));
    }
    assert_int_equal(offtrack_committable(ot), (int64_t)(N - 1) * 3 + 1);
    offtrack_free(ot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order_with_gaps),
        cmocka_unit_test(test_rewind_refused),
        cmocka_unit_test(test_scrambled_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
