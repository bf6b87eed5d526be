/*
 * test_pipeline_topics: which of the run's topics a metadata answer lacks
 * (listed with an error or no partition counts as missing), the message
 * that names one, and a bad partition count refused (by the config, and by
 * CreateTopics before any broker is asked). No broker: the metadata is
 * built here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/config.h"
#include "pipeline/topics.h"

static void test_set_from_config(void **state)
{
    config cfg;
    topics_set ts;
    (void)state;

    assert_int_equal(config_init(&cfg), 0);
    topics_set_init(&ts, &cfg, 1);
    assert_int_equal(ts.n, 4);
    assert_string_equal(ts.name[0], "posts");
    assert_string_equal(ts.key[0], "topic.input");
    assert_string_equal(ts.name[2], "care.tickets");
    assert_string_equal(ts.key[3], "topic.rejected");
    topics_set_init(&ts, &cfg, 0); /* a dry run needs only its input */
    assert_int_equal(ts.n, 1);
    config_free(&cfg);
}

static void test_missing_in(void **state)
{
    config cfg;
    topics_set ts;
    rd_kafka_metadata_partition_t parts[3] = {{0}};
    rd_kafka_metadata_topic_t topics[4] = {
        {.topic = "posts", .partition_cnt = 3, .partitions = parts},
        {.topic = "posts.enriched", .partition_cnt = 2, .partitions = parts},
        /* being deleted / not authorized: listed with an error */
        {.topic = "care.tickets", .partition_cnt = 2, .partitions = parts,
         .err = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED},
        {.topic = "other", .partition_cnt = 1, .partitions = parts},
    };
    rd_kafka_metadata_t md = {.topic_cnt = 4, .topics = topics};
    char line[256];
    (void)state;

    assert_int_equal(config_init(&cfg), 0);
    topics_set_init(&ts, &cfg, 1);
    /* care.tickets (errored) and posts.rejected (absent) */
    assert_int_equal(topics_missing_in(&ts, &md), (1u << 2) | (1u << 3));
    assert_int_equal(ts.partitions[0], 3);
    assert_int_equal(ts.partitions[1], 2);
    assert_int_equal(ts.partitions[2], 0);
    topics[2].err = RD_KAFKA_RESP_ERR_NO_ERROR;
    topics[3].topic = "posts.rejected";
    assert_int_equal(topics_missing_in(&ts, &md), 0);
    topics[0].partition_cnt = 0; /* listed without partitions: not usable */
    assert_int_equal(topics_missing_in(&ts, &md), 1u);
    topics_describe_missing(&ts, 0, line, sizeof(line));
    assert_string_equal(line, "topic 'posts' (topic.input) does not exist (or this principal "
                              "may not Describe it)");
    config_free(&cfg);
}

static void test_create_refuses_bad_partitions(void **state)
{
    config cfg;
    topics_set ts;
    char err[256], errstr[256];
    (void)state;

    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_set(&cfg, "brokers", "b:9092", "t", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "topics.partitions", "0", "t", err, sizeof(err)), 0);
    assert_int_equal(config_finalize(&cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "'topics.partitions' must be -1 (the broker's default) or at "
                             "least 1, got 0");
    assert_int_equal(config_set(&cfg, "topics.partitions", "-2", "t", err, sizeof(err)), -1);
    assert_string_equal(err, "t: 'topics.partitions' must be an integer -1..100000, got '-2'");
    topics_set_init(&ts, &cfg, 1);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    assert_int_equal(topics_create(rk, &ts, 1u << 1, -2, -1, 1000, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "creating topic 'posts.enriched' (topic.enriched): "));
    /* Nothing to create: no request at all, so no broker needed. */
    assert_int_equal(topics_create(rk, &ts, 0, -1, -1, 1000, err, sizeof(err)), 0);
    rd_kafka_destroy(rk);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_from_config),
        cmocka_unit_test(test_missing_in),
        cmocka_unit_test(test_create_refuses_bad_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
