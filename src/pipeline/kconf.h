/*
 * kconf: the librdkafka configuration of the pipeline's two clients, built
 * from earshot's config in one place so that `run`, `--check` and
 * `--print-config` agree on it.
 *
 * Order, later wins: bootstrap.servers/client.id/group.id from their keys;
 * earshot's defaults (config keys consumer.* / producer.* / metrics.kafka.*,
 * so --help-config shows them); the user's kafka.* / -X properties
 * ("consumer."/"producer." prefixed ones only to that client; unprefixed
 * ones to each client that librdkafka's own property table says they apply
 * to); then what at-least-once delivery depends on (kconf_required below).
 * A user property that would change a required one to another value is
 * refused with the reason, never silently replaced.
 *
 * No callbacks are set: the caller sets its own (and its opaque).
 *
 * Thread-safety: none needed, no shared state; call from any one thread.
 * Cost: startup only. Each call reads librdkafka's property table (~180
 * lines, rd_kafka_conf_properties_show) and makes one scratch conf per user
 * property; kconf_print also creates and destroys one client per role with
 * no brokers (a few ms, no connection).
 */
#ifndef EARSHOT_PIPELINE_KCONF_H
#define EARSHOT_PIPELINE_KCONF_H

#include <stddef.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "ops/config.h"

typedef enum kconf_role { KCONF_CONSUMER = 0, KCONF_PRODUCER = 1 } kconf_role;

/* The configuration of one client. with_stats: set statistics.interval.ms
 * from metrics.kafka.interval.ms (a user's value still wins). NULL + err
 * ("ORIGIN: librdkafka property 'NAME': why") on a refused property. */
rd_kafka_conf_t *kconf_new(const config *cfg, kconf_role role, int with_stats, char *err,
                           size_t err_size);

/* Both clients' configurations, built and thrown away: what --check runs.
 * 0, or -1 with err. */
int kconf_check(const config *cfg, char *err, size_t err_size);

/* The effective librdkafka properties of both clients, every one that
 * differs from librdkafka's default, as librdkafka itself lists them (its
 * debug=conf dump), so the values it flags sensitive are shown as
 * [redacted] by librdkafka, not by a name list here. 0, or -1 with err. */
int kconf_print(const config *cfg, FILE *out, char *err, size_t err_size);

#endif
