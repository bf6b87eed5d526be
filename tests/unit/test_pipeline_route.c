/*
 * The routing decision (src/pipeline/route.c): which posts go to the
 * enriched topic and which open a ticket, tickets.max_age included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline/route.h"

#define NOW 1800000000ll /* 2027-01-15 */

static enrich_summary summary(polarity pol, int priority, int64_t age)
{
    enrich_summary s = {.polarity = pol, .priority = priority, .first_brand = 0,
                        .n_brands = 1};
    if (age >= 0) {
        s.created_at = NOW - age;
        s.has_created_at = true;
    }
    return s;
}

static const pipeline_route_policy policy = {.enriched_all = false, .min_priority = 30,
                                             .max_age = 86400};

static void test_ticket_fresh(void **state)
{
    enrich_summary s = summary(POLARITY_COMPLAINT, 50, 60);
    pipeline_route r = pipeline_route_decide(&policy, &s, true, NOW);
    (void)state;
    assert_true(r.enriched);
    assert_true(r.ticket);
    s = summary(POLARITY_QUESTION, 30, 86400); /* exactly max_age: still new */
    r = pipeline_route_decide(&policy, &s, true, NOW);
    assert_true(r.ticket);
}

static void test_ticket_too_old(void **state)
{
    enrich_summary s = summary(POLARITY_COMPLAINT, 90, 86401);
    pipeline_route r = pipeline_route_decide(&policy, &s, true, NOW);
    (void)state;
    assert_true(r.enriched);   /* still an event for analytics */
    assert_false(r.ticket);
    s = summary(POLARITY_QUESTION, 90, 7 * 86400);
    r = pipeline_route_decide(&policy, &s, true, NOW);
    assert_true(r.enriched);
    assert_false(r.ticket);
}

static void test_max_age_zero_no_limit(void **state)
{
    pipeline_route_policy pol = policy;
    enrich_summary s = summary(POLARITY_COMPLAINT, 90, 10ll * 365 * 86400);
    (void)state;
    pol.max_age = 0;
    assert_true(pipeline_route_decide(&pol, &s, true, NOW).ticket);
}

static void test_undated_and_future_are_new(void **state)
{
    enrich_summary s = summary(POLARITY_COMPLAINT, 90, -1);
    (void)state;
    assert_false(s.has_created_at);
    assert_true(pipeline_route_decide(&policy, &s, true, NOW).ticket);
    s = summary(POLARITY_COMPLAINT, 90, 0);
    s.created_at = NOW + 3600; /* the author's clock is ahead */
    assert_true(pipeline_route_decide(&policy, &s, true, NOW).ticket);
}

static void test_no_ticket_without_brand_polarity_priority(void **state)
{
    pipeline_route_policy all = policy;
    enrich_summary s = summary(POLARITY_COMPLAINT, 90, 60);
    pipeline_route r = pipeline_route_decide(&policy, &s, false, NOW);
    (void)state;
    assert_false(r.enriched);
    assert_false(r.ticket);
    all.enriched_all = true;
    r = pipeline_route_decide(&all, &s, false, NOW);
    assert_true(r.enriched);
    assert_false(r.ticket); /* no brand, no care team to page */
    s = summary(POLARITY_PRAISE, 90, 60);
    assert_false(pipeline_route_decide(&policy, &s, true, NOW).ticket);
    s = summary(POLARITY_COMPLAINT, 29, 60);
    r = pipeline_route_decide(&policy, &s, true, NOW);
    assert_true(r.enriched);
    assert_false(r.ticket);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticket_fresh),
        cmocka_unit_test(test_ticket_too_old),
        cmocka_unit_test(test_max_age_zero_no_limit),
        cmocka_unit_test(test_undated_and_future_are_new),
        cmocka_unit_test(test_no_ticket_without_brand_polarity_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
