/*
 * test_watch_config: the in-run aggregator's spike keys in earshot's config
 * table (watch.spike.*, watch.influencer.followers): their defaults are the
 * aggregator's own (watch_config_defaults), values are read from a file and
 * --set, and bad ones are refused naming the key, the range and the place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/config.h"
#include "watch/watch.h"

static void test_defaults_are_the_aggregators(void **state)
{
    config c;
    watch_config w;
    (void)state;

    assert_int_equal(config_init(&c), 0);
    watch_config_defaults(&w);
    assert_int_equal(c.watch_spike_min_count, w.min_count);
    assert_true(c.watch_spike_factor == w.factor);
    assert_true(c.watch_spike_z == w.z_min);
    assert_int_equal(c.watch_spike_cooldown, w.cooldown);
    assert_int_equal(c.watch_spike_warmup, w.warmup);
    assert_int_equal(c.watch_influencer_followers, w.influencer_followers);
    config_free(&c);
}

static void test_values(void **state)
{
    config c;
    char err[512] = "", path[] = "/tmp/earshot-watch-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    (void)state;

    assert_non_null(f);
    fputs("watch.spike.min_count = 3\n"
          "watch.spike.factor = 2.5\n"
          "watch.spike.z = 0\n"
          "watch.spike.cooldown = 1\n"
          "watch.spike.warmup = 0\n"
          "watch.influencer.followers = 5000\n",
          f);
    fclose(f);
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.watch_spike_min_count, 3);
    assert_true(c.watch_spike_factor == 2.5);
    assert_true(c.watch_spike_z == 0.0);
    assert_int_equal(c.watch_spike_cooldown, 1);
    assert_int_equal(c.watch_spike_warmup, 0);
    assert_int_equal(c.watch_influencer_followers, 5000);
    assert_int_equal(config_set(&c, "watch.spike.z", "1e1", "--set", err, sizeof(err)), 0);
    assert_true(c.watch_spike_z == 10.0);
    config_free(&c);
    unlink(path);
}

static void expect_refused(const char *key, const char *value, const char *want)
{
    config c;
    char err[512] = "";

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_set(&c, key, value, "--set", err, sizeof(err)), -1);
    assert_string_equal(err, want);
    config_free(&c);
}

static void test_refused(void **state)
{
    config c;
    char err[512] = "", path[] = "/tmp/earshot-watch-config-XXXXXX", want[600];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    (void)state;

    expect_refused("watch.spike.factor", "0.5",
                   "--set: 'watch.spike.factor' must be a number 1..1000000, got '0.5'");
    expect_refused("watch.spike.factor", "3x",
                   "--set: 'watch.spike.factor' must be a number 1..1000000, got '3x'");
    expect_refused("watch.spike.factor", "",
                   "--set: 'watch.spike.factor' must be a number 1..1000000, got ''");
    expect_refused("watch.spike.z", "nan",
                   "--set: 'watch.spike.z' must be a number 0..1000000, got 'nan'");
    expect_refused("watch.spike.z", "inf",
                   "--set: 'watch.spike.z' must be a number 0..1000000, got 'inf'");
    expect_refused("watch.spike.z", "-0.1",
                   "--set: 'watch.spike.z' must be a number 0..1000000, got '-0.1'");
    expect_refused("watch.spike.min_count", "0",
                   "--set: 'watch.spike.min_count' must be an integer 1..1000000, got '0'");
    expect_refused("watch.spike.cooldown", "0",
                   "--set: 'watch.spike.cooldown' must be an integer 1..100000, got '0'");

    /* In a file: the file and line of the bad value. */
    assert_non_null(f);
    fputs("watch.spike.min_count = 4\n\nwatch.spike.z = high\n", f);
    fclose(f);
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3: 'watch.spike.z' must be a number 0..1000000, got 'high'",
             path);
    assert_string_equal(err, want);
    config_free(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_the_aggregators),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
