/*
 * test_pipeline_kconf: each client gets earshot's defaults, the user's
 * properties meant for it, and what at-least-once requires; a user setting
 * that would change a required property is refused with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/kconf.h"

static void setup_cfg(config *cfg)
{
    char err[256];

    assert_int_equal(config_init(cfg), 0);
    assert_int_equal(config_set(cfg, "brokers", "h:1", "test", err, sizeof(err)), 0);
}

static void expect(rd_kafka_conf_t *conf, const char *name, const char *want)
{
    char buf[256];
    size_t n = sizeof(buf);

    assert_int_equal(rd_kafka_conf_get(conf, name, buf, &n), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, want);
}

static void test_defaults_and_required(void **state)
{
    config cfg;
    char err[512] = "";
    rd_kafka_conf_t *c, *p;
    (void)state;

    setup_cfg(&cfg);
    assert_int_equal(config_set(&cfg, "consumer.fetch.min.bytes", "777", "t", err, sizeof(err)),
                     0);
    c = kconf_new(&cfg, KCONF_CONSUMER, 0, err, sizeof(err));
    p = kconf_new(&cfg, KCONF_PRODUCER, 1, err, sizeof(err));
    assert_non_null(c);
    assert_non_null(p);
    expect(c, "bootstrap.servers", "h:1");
    expect(c, "group.id", "earshot");
    expect(c, "fetch.min.bytes", "777");
    expect(c, "partition.assignment.strategy", "cooperative-sticky");
    expect(c, "enable.auto.offset.store", "false");
    expect(c, "enable.auto.commit", "true");
    expect(c, "auto.offset.reset", "largest"); /* latest, as librdkafka names it */
    expect(p, "enable.idempotence", "true");
    expect(p, "acks", "-1");
    expect(p, "allow.auto.create.topics", "false");
    expect(p, "message.timeout.ms", "0");
    expect(p, "linger.ms", "5");
    expect(p, "statistics.interval.ms", "15000");
    expect(c, "statistics.interval.ms", "0"); /* with_stats 0 */
    rd_kafka_conf_destroy(c);
    rd_kafka_conf_destroy(p);
    config_free(&cfg);
}

/* Unprefixed properties go to the clients librdkafka says they apply to;
 * prefixed ones to their client; the user wins over earshot's defaults. */
static void test_user_properties_by_scope(void **state)
{
    config cfg;
    char err[512] = "";
    rd_kafka_conf_t *c, *p;
    (void)state;

    setup_cfg(&cfg);
    assert_int_equal(config_set_kafka(&cfg, "session.timeout.ms", "7000", "-X", err,
                                      sizeof(err)), 0);
    assert_int_equal(config_set_kafka(&cfg, "linger.ms", "1", "-X", err, sizeof(err)), 0);
    assert_int_equal(config_set_kafka(&cfg, "client.id", "mine", "-X", err, sizeof(err)), 0);
    assert_int_equal(config_set_kafka(&cfg, "consumer.fetch.min.bytes", "9", "-X", err,
                                      sizeof(err)), 0);
    c = kconf_new(&cfg, KCONF_CONSUMER, 0, err, sizeof(err));
    p = kconf_new(&cfg, KCONF_PRODUCER, 0, err, sizeof(err));
    assert_non_null(c);
    assert_non_null(p);
    expect(c, "session.timeout.ms", "7000");
    expect(p, "session.timeout.ms", "45000"); /* librdkafka's default: not given */
    expect(p, "linger.ms", "1");
    expect(c, "client.id", "mine");
    expect(p, "client.id", "mine");
    expect(c, "fetch.min.bytes", "9");
    expect(p, "fetch.min.bytes", "1");
    rd_kafka_conf_destroy(c);
    rd_kafka_conf_destroy(p);
    config_free(&cfg);
}

static void refused(const char *name, const char *value, const char *want)
{
    config cfg;
    char err[512] = "";

    setup_cfg(&cfg);
    assert_int_equal(config_set_kafka(&cfg, name, value, "f.conf:3", err, sizeof(err)), 0);
    assert_int_equal(kconf_check(&cfg, err, sizeof(err)), -1);
    assert_string_equal(err, want);
    config_free(&cfg);
}

static void accepted(const char *name, const char *value)
{
    config cfg;
    char err[512] = "";

    setup_cfg(&cfg);
    assert_int_equal(config_set_kafka(&cfg, name, value, "f.conf:3", err, sizeof(err)), 0);
    if (kconf_check(&cfg, err, sizeof(err)))
        fail_msg("%s=%s refused: %s", name, value, err);
    config_free(&cfg);
}

static void test_overrides_refused(void **state)
{
    (void)state;
    refused("producer.acks", "1",
            "f.conf:3: librdkafka property 'acks=1' is refused: earshot's producer needs "
            "acks=all: an output counts as delivered, and its input offset as committable, "
            "only once every in-sync replica has it; with fewer acks a leader failover can "
            "lose an output whose input is already committed; remove the setting");
    refused("request.required.acks", "0",
            "f.conf:3: librdkafka property 'request.required.acks=0' is refused: earshot's "
            "producer needs acks=all: an output counts as delivered, and its input offset as "
            "committable, only once every in-sync replica has it; with fewer acks a leader "
            "failover can lose an output whose input is already committed; remove the "
            "setting");
    refused("producer.allow.auto.create.topics", "true",
            "f.conf:3: librdkafka property 'allow.auto.create.topics=true' is refused: "
            "earshot's producer needs allow.auto.create.topics=false: with it (librdkafka's "
            "producer default) the producer's metadata requests for an output topic deleted "
            "while earshot runs get the broker (auto.create.topics.enable, Kafka's default) to "
            "create it again at once, with the broker's default partitions and replication; "
            "earshot creates topics only through topics.create, with topics.partitions and "
            "topics.replication; remove the setting");
    refused("enable.idempotence", "false",
            "f.conf:3: librdkafka property 'enable.idempotence=false' is refused: earshot's "
            "producer needs enable.idempotence=true: a retried produce must not duplicate or "
            "reorder outputs; remove the setting");
    refused("consumer.enable.auto.offset.store", "true",
            "f.conf:3: librdkafka property 'enable.auto.offset.store=true' is refused: "
            "earshot's consumer needs enable.auto.offset.store=false: earshot stores an input "
            "offset only after every output of that post is acknowledged (at-least-once); "
            "librdkafka's own store would let a commit pass posts still in flight; remove the "
            "setting");
    refused("enable.auto.commit", "false",
            "f.conf:3: librdkafka property 'enable.auto.commit=false' is refused: earshot's "
            "consumer needs enable.auto.commit=true: earshot commits the offsets it stored "
            "through librdkafka's auto-commit; without it nothing is committed before "
            "shutdown and a crash repeats everything since the start (tune "
            "consumer.auto.commit.interval.ms instead); remove the setting");
    refused("producer.group.id", "g",
            "f.conf:3: librdkafka property 'producer.group.id': 'group.id' is a consumer "
            "property (librdkafka), the producer ignores it; use 'consumer.group.id' or drop "
            "the prefix");
    /* the required values themselves, in any spelling */
    accepted("acks", "all");
    accepted("producer.acks", "-1");
    accepted("enable.idempotence", "true");
    accepted("enable.auto.commit", "true");
    accepted("enable.auto.offset.store", "false");
}

/* --print-config: librdkafka's own list, its sensitive values redacted by
 * librdkafka. */
static void test_print_redacts(void **state)
{
    config cfg;
    char err[512] = "", *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    (void)state;

    setup_cfg(&cfg);
    assert_int_equal(config_set_kafka(&cfg, "sasl.password", "hunter2", "-X", err,
                                      sizeof(err)), 0);
    assert_int_equal(config_set_kafka(&cfg, "ssl.key.password", "hunter3", "-X", err,
                                      sizeof(err)), 0);
    assert_int_equal(kconf_print(&cfg, f, err, sizeof(err)), 0);
    fclose(f);
    assert_null(strstr(text, "hunter"));
    assert_non_null(strstr(text, "\nkafka.consumer.sasl.password = [redacted]\n"));
    assert_non_null(strstr(text, "\nkafka.producer.ssl.key.password = [redacted]\n"));
    assert_non_null(strstr(text, "\nkafka.producer.request.required.acks = -1\n"));
    assert_non_null(strstr(text, "\nkafka.consumer.bootstrap.servers = h:1\n"));
    assert_null(strstr(text, "debug"));
    assert_null(strstr(text, "_cb"));
    free(text);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_required),
        cmocka_unit_test(test_user_properties_by_scope),
        cmocka_unit_test(test_overrides_refused),
        cmocka_unit_test(test_print_redacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
