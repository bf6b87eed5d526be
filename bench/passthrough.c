/*
 * bench_passthrough: the end-to-end ceiling. Consumes the input topic in a
 * consumer group and produces every message's bytes unchanged (same key,
 * same partition number) to the output topic, with the delivery settings
 * earshot uses: idempotent producer (acks=all), offsets stored only after
 * the output is acknowledged (enable.auto.offset.store=false), auto commit
 * of stored offsets. No classification: what is left is Kafka I/O.
 *
 *   bench_passthrough -b BOOTSTRAP -i INPUT -o OUTPUT -n COUNT [-g GROUP]
 *                     [-X prop=val ...]
 *
 * Stops when COUNT outputs are acknowledged (or after 30 s with nothing to
 * consume), commits, and prints one JSON object: consumed, delivered, the
 * seconds from the first message consumed to the last acknowledgement, and
 * posts/s over that span.
 *
 * Offsets are stored from the delivery report: the producer is idempotent
 * and each input partition maps to one output partition, so reports arrive
 * in input order per partition and a store never passes an unacknowledged
 * message.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "bench_common.h"

typedef struct pt_state {
    rd_kafka_t *consumer;
    const char *input;
    uint64_t delivered;
    uint64_t failed;
    double last_ack;
} pt_state;

/* The input offset travels with the message as its opaque: partition in the
 * high 32 bits is not needed, the output partition is the input's. */
static void pt_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pt_state *st = opaque;
    rd_kafka_topic_partition_list_t *offs;

    if (m->err) {
        st->failed++;
        fprintf(stderr, "bench_passthrough: delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    st->delivered++;
    st->last_ack = bench_now();
    offs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offs, st->input, m->partition)->offset =
        (int64_t)(intptr_t)m->_private + 1;
    rd_kafka_offsets_store(st->consumer, offs);
    rd_kafka_topic_partition_list_destroy(offs);
}

/* Assigns as librdkafka would by itself, and says so on stderr: bench/e2e.py
 * starts its clock at "assigned N partition(s)", as it does at earshot's own
 * log line. */
static void pt_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    rd_kafka_error_t *e = NULL;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        fprintf(stderr, "bench_passthrough: assigned %d partition(s)\n", parts->cnt);
        if (opaque && *(double *)opaque == 0)
            *(double *)opaque = bench_now();
    } else {
        if (cooperative)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
    if (e) {
        fprintf(stderr, "bench_passthrough: rebalance: %s\n", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static int pt_set(rd_kafka_conf_t *conf, const char *kv, char *err, size_t err_size)
{
    char name[256];
    const char *eq = strchr(kv, '=');

    if (!eq || (size_t)(eq - kv) >= sizeof(name)) {
        snprintf(err, err_size, "-X %s: expected prop=val", kv);
        return -1;
    }
    memcpy(name, kv, (size_t)(eq - kv));
    name[eq - kv] = '\0';
    return rd_kafka_conf_set(conf, name, eq + 1, err, err_size) == RD_KAFKA_CONF_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *input = NULL, *output = NULL, *group = "bench.passthrough";
    const char *extra[32];
    int n_extra = 0, ch;
    uint64_t count = 0, consumed = 0;
    char err[512];
    rd_kafka_conf_t *cc = NULL, *pc = NULL;
    rd_kafka_t *consumer = NULL, *producer = NULL;
    rd_kafka_topic_partition_list_t *sub;
    pt_state st = {0};
    double first = 0, idle_since, assigned = 0;
    int rc = 1;

    while ((ch = getopt(argc, argv, "b:i:o:n:g:X:")) != -1) {
        switch (ch) {
        case 'b': bootstrap = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 'g': group = optarg; break;
        case 'X':
            if (n_extra < 32)
                extra[n_extra++] = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!bootstrap || !input || !output || !count)
        goto usage;
    st.input = input;

    cc = rd_kafka_conf_new();
    pc = rd_kafka_conf_new();
    if (rd_kafka_conf_set(cc, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "group.id", group, err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "auto.offset.reset", "earliest", err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "enable.auto.offset.store", "false", err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "partition.assignment.strategy", "cooperative-sticky", err,
                          sizeof(err)) ||
        /* The rest as earshot's defaults (src/pipeline/pipeline.c,
         * pl_conf_new, and the consumer./producer. keys of
         * src/ops/config.c), so the ceiling is the same Kafka I/O. */
        rd_kafka_conf_set(cc, "enable.auto.commit", "true", err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "auto.commit.interval.ms", "1000", err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "queued.max.messages.kbytes", "16384", err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "fetch.min.bytes", "100000", err, sizeof(err)) ||
        rd_kafka_conf_set(cc, "fetch.wait.max.ms", "10", err, sizeof(err)) ||
        rd_kafka_conf_set(pc, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
        rd_kafka_conf_set(pc, "enable.idempotence", "true", err, sizeof(err)) ||
        rd_kafka_conf_set(pc, "acks", "all", err, sizeof(err)) ||
        rd_kafka_conf_set(pc, "linger.ms", "5", err, sizeof(err)) ||
        rd_kafka_conf_set(pc, "message.timeout.ms", "0", err, sizeof(err)) ||
        rd_kafka_conf_set(pc, "compression.codec", "none", err, sizeof(err)))
        goto fail;
    for (int i = 0; i < n_extra; i++)
        if (pt_set(cc, extra[i], err, sizeof(err)) || pt_set(pc, extra[i], err, sizeof(err)))
            goto fail;
    rd_kafka_conf_set_rebalance_cb(cc, pt_on_rebalance);
    rd_kafka_conf_set_opaque(cc, &assigned);
    rd_kafka_conf_set_dr_msg_cb(pc, pt_on_delivery);
    rd_kafka_conf_set_opaque(pc, &st);

    if (!(consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err))))
        goto fail;
    cc = NULL;
    st.consumer = consumer;
    if (!(producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err))))
        goto fail;
    pc = NULL;
    rd_kafka_poll_set_consumer(consumer);
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, input, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(consumer, sub)) {
        snprintf(err, sizeof(err), "subscribe to %s failed", input);
        rd_kafka_topic_partition_list_destroy(sub);
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(sub);

    idle_since = bench_now();
    while (st.delivered + st.failed < count) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);

        rd_kafka_poll(producer, 0);
        if (!m) {
            if (bench_now() - idle_since > 30 && consumed < count) {
                fprintf(stderr, "bench_passthrough: nothing to consume for 30 s, "
                                "%llu of %llu consumed\n",
                        (unsigned long long)consumed, (unsigned long long)count);
                break;
            }
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "bench_passthrough: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        idle_since = bench_now();
        if (!consumed++)
            first = idle_since;
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                producer, RD_KAFKA_V_TOPIC(output), RD_KAFKA_V_PARTITION(m->partition),
                RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)m->offset), RD_KAFKA_V_END);

            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                snprintf(err, sizeof(err), "produce: %s", rd_kafka_err2str(e));
                rd_kafka_message_destroy(m);
                goto fail;
            }
            rd_kafka_poll(producer, 10); /* backpressure: wait for acks */
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_flush(producer, 30000);
    rd_kafka_poll(producer, 0);
    rd_kafka_commit(consumer, NULL, 0);
    {
        double span = st.last_ack > first ? st.last_ack - first : 0;

        printf("{\"consumed\":%llu,\"delivered\":%llu,\"failed\":%llu,\"seconds\":%.3f,"
               "\"posts_per_s\":%.0f,\"assigned_to_first_s\":%.3f,\"rss_mb\":%.1f}\n",
               (unsigned long long)consumed, (unsigned long long)st.delivered,
               (unsigned long long)st.failed, span,
               span > 0 ? (double)st.delivered / span : 0.0,
               assigned > 0 ? first - assigned : -1.0, bench_peak_rss_mb());
    }
    rc = st.delivered == count ? 0 : 1;
    goto out;

usage:
    fprintf(stderr, "usage: bench_passthrough -b BOOTSTRAP -i INPUT -o OUTPUT -n COUNT "
                    "[-g GROUP] [-X prop=val ...]\n");
    return 2;
fail:
    fprintf(stderr, "bench_passthrough: %s\n", err);
out:
    if (consumer) {
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
    }
    if (producer)
        rd_kafka_destroy(producer);
    if (cc)
        rd_kafka_conf_destroy(cc);
    if (pc)
        rd_kafka_conf_destroy(pc);
    return rc;
}
