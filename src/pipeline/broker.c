/*
 * broker: librdkafka's mock cluster as earshot's embedded broker. See
 * broker.h.
 *
 * The mock cluster needs an rd_kafka_t to live in; a producer that never
 * produces serves, and owning it here keeps its lifetime tied to the
 * cluster's.
 */
#include "pipeline/broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "ops/log.h"

struct broker {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int n_brokers;
    int replication;
};

static void broker_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        log_error("mock cluster: %s: %s", fac, buf);
    else if (level == 4)
        log_warn("mock cluster: %s: %s", fac, buf);
    else
        log_debug("mock cluster: %s: %s", fac, buf);
}

broker *broker_new(int n_brokers, int partitions, const char *const *topics, size_t n_topics,
                   char *err, size_t err_size)
{
    broker *b = calloc(1, sizeof(*b));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];

    if (!b) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, broker_log_cb);
    rd_kafka_conf_set(conf, "client.id", "earshot-broker", NULL, 0);
    if (!(b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "creating the mock cluster's handle: %s", errstr);
        goto err;
    }
    if (!(b->mc = rd_kafka_mock_cluster_new(b->rk, n_brokers))) {
        snprintf(err, err_size, "starting a mock cluster of %d broker(s) failed", n_brokers);
        goto err;
    }
    b->n_brokers = n_brokers;
    b->replication = n_brokers < 3 ? n_brokers : 3;
    for (size_t i = 0; i < n_topics; i++) {
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(b->mc, topics[i], partitions, b->replication);
        if (e) {
            snprintf(err, err_size, "creating topic '%s': %s", topics[i], rd_kafka_err2str(e));
            goto err;
        }
    }
    return b;
err:
    broker_free(b);
    return NULL;
}

const char *broker_bootstraps(const broker *b)
{
    return rd_kafka_mock_cluster_bootstraps(b->mc);
}

void broker_free(broker *b)
{
    if (!b)
        return;
    if (b->mc)
        rd_kafka_mock_cluster_destroy(b->mc);
    if (b->rk)
        rd_kafka_destroy(b->rk);
    free(b);
}

static const struct {
    const char *name;
    int16_t key;
} broker_apis[] = {
    {"Produce", 0},         {"Fetch", 1},          {"ListOffsets", 2},
    {"Metadata", 3},        {"OffsetCommit", 8},   {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},    {"Heartbeat", 12},
    {"LeaveGroup", 13},     {"SyncGroup", 14},     {"ApiVersions", 18},
    {"InitProducerId", 22}, {"OffsetForLeaderEpoch", 23},
};

static int broker_api(const char *name, int16_t *key)
{
    for (size_t i = 0; i < sizeof(broker_apis) / sizeof(broker_apis[0]); i++) {
        if (!strcasecmp(name, broker_apis[i].name)) {
            *key = broker_apis[i].key;
            return 0;
        }
    }
    return -1;
}

/* A broker error by librdkafka's name ("NOT_LEADER_FOR_PARTITION"). */
static int broker_error_code(const char *name, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;

    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (descs[i].name && descs[i].code > 0 && !strcasecmp(descs[i].name, name)) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

static int broker_int(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

#define BROKER_MAX_ARGS 40

int broker_exec(broker *b, const char *line, char *reply, size_t reply_size)
{
    char buf[1024], *argv[BROKER_MAX_ARGS], *save = NULL, *tok;
    int argc = 0;
    long id, part, n;
    rd_kafka_resp_err_t e = 0;

    snprintf(buf, sizeof(buf), "%s", line);
    for (tok = strtok_r(buf, " \t\r\n", &save); tok && argc < BROKER_MAX_ARGS;
         tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (argc == 0)
        goto usage;

    if (!strcmp(argv[0], "ping") && argc == 1) {
        /* nothing */
    } else if ((!strcmp(argv[0], "down") || !strcmp(argv[0], "up")) && argc == 2) {
        if (broker_int(argv[1], 1, b->n_brokers, &id)) {
            snprintf(reply, reply_size, "error: broker id must be 1..%d, got '%s'",
                     b->n_brokers, argv[1]);
            return -1;
        }
        e = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(b->mc, (int32_t)id)
                              : rd_kafka_mock_broker_set_up(b->mc, (int32_t)id);
    } else if (!strcmp(argv[0], "leader") && argc == 4) {
        if (broker_int(argv[2], 0, 1 << 20, &part) ||
            broker_int(argv[3], 1, b->n_brokers, &id)) {
            snprintf(reply, reply_size,
                     "error: usage: leader TOPIC PARTITION ID (ID 1..%d)", b->n_brokers);
            return -1;
        }
        e = rd_kafka_mock_partition_set_leader(b->mc, argv[1], (int32_t)part, (int32_t)id);
    } else if (!strcmp(argv[0], "errors") && argc >= 4) {
        int16_t api;
        rd_kafka_resp_err_t errs[BROKER_MAX_ARGS];
        int n_errs = argc - 3;
        if (broker_api(argv[1], &api)) {
            snprintf(reply, reply_size,
                     "error: unknown API '%s' (Produce, Fetch, Metadata, OffsetCommit, "
                     "OffsetFetch, JoinGroup, Heartbeat, SyncGroup, InitProducerId, ...)",
                     argv[1]);
            return -1;
        }
        if (broker_int(argv[2], 1, 100000, &n) || (n_errs > 1 && n != n_errs)) {
            snprintf(reply, reply_size,
                     "error: COUNT must be 1..100000 (and equal the number of errors when "
                     "several are given), got '%s'",
                     argv[2]);
            return -1;
        }
        for (int i = 0; i < n_errs; i++) {
            if (broker_error_code(argv[3 + i], &errs[i])) {
                snprintf(reply, reply_size,
                         "error: unknown broker error '%s' (librdkafka names, e.g. "
                         "NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT)",
                         argv[3 + i]);
                return -1;
            }
        }
        if (n_errs == 1) {
            rd_kafka_resp_err_t *many = malloc(sizeof(*many) * (size_t)n);
            if (!many) {
                snprintf(reply, reply_size, "error: out of memory");
                return -1;
            }
            for (long i = 0; i < n; i++)
                many[i] = errs[0];
            rd_kafka_mock_push_request_errors_array(b->mc, api, (size_t)n, many);
            free(many);
        } else {
            rd_kafka_mock_push_request_errors_array(b->mc, api, (size_t)n_errs, errs);
        }
    } else if (!strcmp(argv[0], "rtt") && argc == 3) {
        if (broker_int(argv[1], 1, b->n_brokers, &id) || broker_int(argv[2], 0, 600000, &n)) {
            snprintf(reply, reply_size, "error: usage: rtt ID MS");
            return -1;
        }
        e = rd_kafka_mock_broker_set_rtt(b->mc, (int32_t)id, (int)n);
    } else if (!strcmp(argv[0], "coordinator") && argc == 4) {
        /* So a test can take a data broker down without taking the
         * group's coordinator (and with it the consumer's session) along. */
        if ((strcmp(argv[1], "group") && strcmp(argv[1], "transaction")) ||
            broker_int(argv[3], 1, b->n_brokers, &id)) {
            snprintf(reply, reply_size,
                     "error: usage: coordinator group|transaction KEY ID (ID 1..%d)",
                     b->n_brokers);
            return -1;
        }
        e = rd_kafka_mock_coordinator_set(b->mc, argv[1], argv[2], (int32_t)id);
    } else if (!strcmp(argv[0], "create") && argc == 3) {
        if (broker_int(argv[2], 1, 10000, &n)) {
            snprintf(reply, reply_size, "error: usage: create TOPIC PARTITIONS");
            return -1;
        }
        e = rd_kafka_mock_topic_create(b->mc, argv[1], (int)n, b->replication);
    } else {
        goto usage;
    }
    if (e) {
        snprintf(reply, reply_size, "error: %s", rd_kafka_err2str(e));
        return -1;
    }
    snprintf(reply, reply_size, "ok");
    return 0;
usage:
    snprintf(reply, reply_size,
             "error: unknown command '%s' (down ID, up ID, leader TOPIC PARTITION ID, errors "
             "API COUNT ERROR..., rtt ID MS, coordinator group KEY ID, create TOPIC "
             "PARTITIONS, ping)",
             argc ? argv[0] : "");
    return -1;
}
