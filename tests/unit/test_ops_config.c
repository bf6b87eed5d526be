/*
 * test_ops_config: the config table and file parser: defaults, every kind
 * of value, exact error messages with FILE:LINE, kafka.* pass-through, the
 * cross-key checks, and the rate limiter of ops/log.
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
#include "ops/log.h"

static char tmp_path[64];

static const char *write_tmp(const char *text)
{
    int fd;
    FILE *f;

    strcpy(tmp_path, "/tmp/earshot-config-XXXXXX");
    fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return tmp_path;
}

static void test_defaults(void **state)
{
    config c;
    (void)state;

    assert_int_equal(config_init(&c), 0);
    assert_string_equal(c.brokers, "");
    assert_string_equal(c.group_id, "earshot");
    assert_string_equal(c.topic_input, "posts");
    assert_string_equal(c.topic_enriched, "posts.enriched");
    assert_string_equal(c.topic_tickets, "care.tickets");
    assert_string_equal(c.topic_rejected, "posts.rejected");
    assert_int_equal(c.route_enriched_all, 0);
    assert_int_equal(c.tickets_min_priority, 30);
    assert_int_equal(c.key_by, CONFIG_KEY_BY_BRAND);
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.status_interval_ms, 10000);
    assert_int_equal(c.log_level, LOG_LEVEL_INFO);
    assert_int_equal(c.n_targets, 4);
    assert_int_equal(c.targets[0].min_priority, 80);
    assert_int_equal(c.targets[0].respond_minutes, 15);
    assert_int_equal(c.targets[3].min_priority, 0);
    assert_int_equal(c.targets[3].respond_minutes, 240);
    assert_int_equal(c.n_kafka, 0);
    config_free(&c);
}

static void test_file_values(void **state)
{
    config c;
    char err[512] = "";
    const char *path = write_tmp(
        "# earshot\n"
        "\n"
        "  brokers = localhost:9092,localhost:9093  \n"
        "threads=4\n"
        "route.enriched.all = true\n"
        "key.by = post_id\n"
        "log.level = debug\n"
        "respond.targets = 0:600, 90:5\n"
        "kafka.security.protocol = SASL_SSL\n"
        "kafka.sasl.password = a#b = c\n"
        "threads = 8\n");
    (void)state;

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
    assert_string_equal(c.brokers, "localhost:9092,localhost:9093");
    assert_int_equal(c.threads, 8); /* the last value wins */
    assert_int_equal(c.route_enriched_all, 1);
    assert_int_equal(c.key_by, CONFIG_KEY_BY_POST_ID);
    assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(c.n_targets, 2);
    assert_int_equal(c.targets[0].min_priority, 90);
    assert_int_equal(c.targets[0].respond_minutes, 5);
    assert_int_equal(c.targets[1].min_priority, 0);
    assert_int_equal(c.targets[1].respond_minutes, 600);
    assert_int_equal(c.n_kafka, 2);
    assert_string_equal(c.kafka[0].name, "security.protocol");
    assert_string_equal(c.kafka[0].value, "SASL_SSL");
    {
        char origin[96];
        snprintf(origin, sizeof(origin), "%s:9", path);
        assert_string_equal(c.kafka[0].origin, origin);
    }
    assert_string_equal(c.kafka[1].name, "sasl.password");
    assert_string_equal(c.kafka[1].value, "a#b = c"); /* no inline comments */
    /* -X replaces a file value and takes the new origin */
    assert_int_equal(config_set_kafka(&c, "security.protocol", "SSL", "-X", err, sizeof(err)), 0);
    assert_int_equal(c.n_kafka, 2);
    assert_string_equal(c.kafka[0].value, "SSL");
    assert_string_equal(c.kafka[0].origin, "-X");
    assert_int_equal(config_finalize(&c, err, sizeof(err)), 0);
    config_free(&c);
    unlink(path);
}

/* Loads text into a fresh config and checks the error, with the path
 * replaced by "F". */
static void expect_file_error(const char *text, const char *expected)
{
    config c;
    char err[512] = "", want[600];
    const char *path = write_tmp(text);

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s%s", path, expected);
    assert_string_equal(err, want);
    config_free(&c);
    unlink(path);
}

static void test_file_errors(void **state)
{
    (void)state;
    expect_file_error("threads = 2\n\ntreads = 4\n",
                      ":3: unknown key 'treads' (did you mean 'threads'?)");
    expect_file_error("group = x\n", ":1: unknown key 'group' (did you mean 'group.id'?)");
    expect_file_error("# c\nthreads = many\n",
                      ":2: 'threads' must be an integer 0..256, got 'many'");
    expect_file_error("threads = 257\n", ":1: 'threads' must be an integer 0..256, got '257'");
    expect_file_error("threads = 4x\n", ":1: 'threads' must be an integer 0..256, got '4x'");
    expect_file_error("threads =\n", ":1: 'threads' must be an integer 0..256, got ''");
    expect_file_error("route.enriched.all = yes\n",
                      ":1: 'route.enriched.all' must be true or false, got 'yes'");
    expect_file_error("key.by = user\n", ":1: 'key.by' must be one of brand|post_id, got 'user'");
    expect_file_error("log.level = loud\n",
                      ":1: 'log.level' must be one of error|warn|info|debug, got 'loud'");
    expect_file_error("just words\n", ":1: expected 'key = value', got 'just words'");
    expect_file_error(" = 3\n", ":1: missing key before '='");
    expect_file_error("respond.targets = 80-15\n",
                      ":1: 'respond.targets' must be MIN_PRIORITY:MINUTES[,...] with "
                      "priorities 0..100 and minutes > 0, e.g. '80:15,50:30,0:240', got "
                      "'80-15'");
    expect_file_error("bootstrap.servers = x:1\n",
                      ":1: unknown key 'bootstrap.servers' (librdkafka properties take a "
                      "'kafka.' prefix; `earshot run --help-config` lists the keys)");
}

static void test_missing_file(void **state)
{
    config c;
    char err[256];
    (void)state;

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_load_file(&c, "/nonexistent/earshot.conf", err, sizeof(err)), -1);
    assert_string_equal(err,
                        "cannot open config file '/nonexistent/earshot.conf': No such file or "
                        "directory");
    config_free(&c);
}

static void test_finalize(void **state)
{
    config c;
    char err[256];
    (void)state;

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_finalize(&c, err, sizeof(err)), -1);
    assert_string_equal(err,
                        "no Kafka brokers: set 'brokers' in the config file or pass -b HOST:PORT");
    assert_int_equal(config_set(&c, "brokers", "b:1", "-b", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "topic.rejected", "posts", "--set", err, sizeof(err)), 0);
    assert_int_equal(config_finalize(&c, err, sizeof(err)), -1);
    assert_string_equal(err, "'topic.rejected' must differ from 'topic.input' ('posts'): "
                             "earshot would read its own output");
    assert_int_equal(config_set(&c, "max.inflight.messages", "0", "--set", err, sizeof(err)),
                     -1);
    assert_string_equal(err, "--set: 'max.inflight.messages' must be an integer 1..10000000, "
                             "got '0'");
    config_free(&c);
}

static void test_suggest(void **state)
{
    (void)state;
    assert_string_equal(config_suggest("topic.inptu"), "topic.input");
    assert_string_equal(config_suggest("status.interval"), "status.interval.ms");
    assert_null(config_suggest("completely.different.thing"));
}

static void test_log_limit(void **state)
{
    log_limit ll;
    uint64_t sup = 99;
    (void)state;

    log_limit_init(&ll, 2, 1000);
    assert_int_equal(log_limit_allow(&ll, 5000, &sup), 1);
    assert_int_equal(sup, 0);
    assert_int_equal(log_limit_allow(&ll, 5001, &sup), 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log_limit_allow(&ll, 5500, &sup), 0);
    /* a new window: shown, and it reports the 5 it dropped */
    assert_int_equal(log_limit_allow(&ll, 6000, &sup), 1);
    assert_int_equal(sup, 5);
    assert_int_equal(log_limit_allow(&ll, 6001, &sup), 1);
    assert_int_equal(sup, 0);
    assert_int_equal(log_limit_allow(&ll, 6002, &sup), 0);
    log_limit_destroy(&ll);

    log_level lv;
    assert_int_equal(log_level_parse("warn", &lv), 0);
    assert_int_equal(lv, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("WARN", &lv), -1);
}

static void test_env(void **state)
{
    char *const env[] = {
        "PATH=/usr/bin",
        "EARSHOT_TICKETS_MIN_PRIORITY=55",
        "EARSHOT_RULES_WATCH=false",
        "EARSHOT_GROUP_INSTANCE_ID=host-7", /* static membership per host */
        "EARSHOT_KAFKA_SASL_PASSWORD=s3cr#t",
        "EARSHOT_RULES=/not/a/key", /* the CLI's own variable: ignored here */
        NULL,
    };
    char *const bad[] = {"EARSHOT_THREADS=lots", NULL};
    config c;
    char err[256];
    (void)state;

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(c.rules_watch, 1);
    assert_string_equal(c.rules_cache_dir, "auto");
    assert_string_equal(c.group_instance_id, "");
    assert_int_equal(config_apply_env(&c, env, err, sizeof(err)), 0);
    assert_string_equal(c.group_instance_id, "host-7");
    assert_int_equal(c.tickets_min_priority, 55);
    assert_int_equal(c.rules_watch, 0);
    assert_int_equal(c.n_kafka, 1);
    assert_string_equal(c.kafka[0].name, "sasl.password");
    assert_string_equal(c.kafka[0].value, "s3cr#t");
    assert_string_equal(c.kafka[0].origin, "environment EARSHOT_KAFKA_SASL_PASSWORD");
    assert_int_equal(config_apply_env(&c, bad, err, sizeof(err)), -1);
    assert_string_equal(err, "environment EARSHOT_THREADS: 'threads' must be an integer "
                             "0..256, got 'lots'");
    config_free(&c);
}

/* metrics.rules and log.format: defaults, values, errors naming the line. */
static void test_metrics_rules_log_format(void **state)
{
    config c;
    char err[512] = "";
    const char *path = write_tmp("metrics.rules = top:25\nlog.format = json\n");

    (void)state;
    assert_int_equal(config_init(&c), 0);
    assert_string_equal(c.metrics_rules, "all");
    assert_int_equal(c.log_format, LOG_FORMAT_TEXT);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
    assert_string_equal(c.metrics_rules, "top:25");
    assert_int_equal(c.log_format, LOG_FORMAT_JSON);
    assert_int_equal(config_set(&c, "metrics.rules", "off", "--set", err, sizeof(err)), 0);
    assert_string_equal(c.metrics_rules, "off");
    assert_int_equal(config_set(&c, "metrics.rules", "top:0", "--set", err, sizeof(err)), -1);
    assert_string_equal(err, "--set: 'metrics.rules' must be all, off or top:N with N "
                             "1..1000000, got 'top:0'");
    assert_string_equal(c.metrics_rules, "off"); /* unchanged */
    config_free(&c);
    unlink(path);
    expect_file_error("\n\nmetrics.rules = top10\n",
                      ":3: 'metrics.rules' must be all, off or top:N with N 1..1000000, "
                      "got 'top10'");
    expect_file_error("log.format = yaml\n",
                      ":1: 'log.format' must be one of text|json, got 'yaml'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_file_values),
        cmocka_unit_test(test_file_errors),  cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_finalize),     cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_log_limit),    cmocka_unit_test(test_env),
        cmocka_unit_test(test_metrics_rules_log_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
