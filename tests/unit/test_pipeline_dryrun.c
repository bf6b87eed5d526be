/*
 * test_pipeline_dryrun: a dry run's would-be counts (a ticket only with its
 * enriched event), per-brand complaints (only complaints count, every
 * brand named), the top list's order and its cut, from several threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pipeline/dryrun.h"

static void test_counts_and_top(void **state)
{
    dryrun *d = dryrun_new();
    const char *ab[] = {"acme", "bolt"}, *b[] = {"bolt"}, *c[] = {"cola"};
    uint64_t n[3];
    char top[128];
    (void)state;

    dryrun_top_complaints(d, 10, top, sizeof(top));
    assert_string_equal(top, "none");
    assert_int_equal(dryrun_post(d, true, true, true, ab, 2), 0);
    assert_int_equal(dryrun_post(d, true, false, true, b, 1), 0);
    assert_int_equal(dryrun_post(d, true, false, false, c, 1), 0); /* praise: no count */
    assert_int_equal(dryrun_post(d, false, true, false, NULL, 0), 0); /* no ticket alone */
    assert_int_equal(dryrun_post(d, true, false, true, c, 1), 0);
    dryrun_reject(d);
    dryrun_counts(d, n);
    assert_int_equal(n[0], 4);
    assert_int_equal(n[1], 1);
    assert_int_equal(n[2], 1);
    dryrun_top_complaints(d, 10, top, sizeof(top));
    assert_string_equal(top, "bolt 2, acme 1, cola 1"); /* ties by id */
    dryrun_top_complaints(d, 2, top, sizeof(top));
    assert_string_equal(top, "bolt 2, acme 1");
    dryrun_free(d);
}

#define THREADS 4
#define PER 10000

static void *poster(void *arg)
{
    const char *ids[] = {"acme"};
    for (int i = 0; i < PER; i++)
        dryrun_post(arg, true, i % 2 == 0, true, ids, 1);
    return NULL;
}

static void test_threads(void **state)
{
    dryrun *d = dryrun_new();
    pthread_t t[THREADS];
    uint64_t n[3];
    char top[64];
    (void)state;

    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, poster, d), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    dryrun_counts(d, n);
    assert_int_equal(n[0], THREADS * PER);
    assert_int_equal(n[1], THREADS * PER / 2);
    dryrun_top_complaints(d, 1, top, sizeof(top));
    assert_string_equal(top, "acme 40000");
    dryrun_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_top),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
