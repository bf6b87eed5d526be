/*
 * topics: the pipeline's topics against the cluster's metadata. See
 * topics.h.
 */
#include "pipeline/topics.h"

#include <stdlib.h>
#include <string.h>

#include "ops/log.h"
#include "pipeline/kconf.h"

void topics_set_init(topics_set *ts, const config *cfg, int outputs)
{
    memset(ts, 0, sizeof(*ts));
    ts->name[0] = cfg->topic_input;
    ts->key[0] = "topic.input";
    ts->n = 1;
    if (!outputs)
        return;
    ts->name[1] = cfg->topic_enriched;
    ts->key[1] = "topic.enriched";
    ts->name[2] = cfg->topic_tickets;
    ts->key[2] = "topic.tickets";
    ts->name[3] = cfg->topic_rejected;
    ts->key[3] = "topic.rejected";
    ts->n = 4;
}

unsigned topics_missing_in(topics_set *ts, const rd_kafka_metadata_t *md)
{
    unsigned missing = 0;

    for (int i = 0; i < ts->n; i++) {
        ts->partitions[i] = 0;
        for (int j = 0; j < md->topic_cnt; j++) {
            const rd_kafka_metadata_topic_t *t = &md->topics[j];
            /* A topic listed with an error (being deleted, not authorized)
             * or with no partition cannot be produced to: missing. */
            if (!strcmp(t->topic, ts->name[i]) && !t->err && t->partition_cnt > 0)
                ts->partitions[i] = t->partition_cnt;
        }
        if (!ts->partitions[i])
            missing |= 1u << i;
    }
    return missing;
}

int topics_check(rd_kafka_t *rk, topics_set *ts, int timeout_ms, unsigned *missing,
                 char *err, size_t err_size)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);

    if (e) {
        snprintf(err, err_size, "no metadata from the brokers within %d ms (%s)", timeout_ms,
                 rd_kafka_err2str(e));
        return -1;
    }
    *missing = topics_missing_in(ts, md);
    ts->brokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return 0;
}

int topics_create(rd_kafka_t *rk, const topics_set *ts, unsigned which, int partitions,
                  int replication, int timeout_ms, char *err, size_t err_size)
{
    rd_kafka_NewTopic_t *nt[TOPICS_MAX] = {0};
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    char errstr[512];
    size_t n = 0;
    int rc = -1;

    for (int i = 0; i < ts->n; i++) {
        if (!(which & (1u << i)))
            continue;
        if (!(nt[n] = rd_kafka_NewTopic_new(ts->name[i], partitions, replication, errstr,
                                            sizeof(errstr)))) {
            snprintf(err, err_size, "creating topic '%s' (%s): %s", ts->name[i], ts->key[i],
                     errstr);
            goto done;
        }
        n++;
    }
    if (!n)
        return 0;
    q = rd_kafka_queue_new(rk);
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(rk, nt, n, opts, q);
    /* The request's own timeout answers first; the margin only covers the
     * queue hand-over. */
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        snprintf(err, err_size, "creating topics: no answer within %d ms", timeout_ms);
        goto done;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, err_size, "creating topics: %s", rd_kafka_event_error_string(ev));
        goto done;
    }
    {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (!e || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                continue;
            const char *why = rd_kafka_topic_result_error_string(tr[i]);
            snprintf(err, err_size, "creating topic '%s': %s", rd_kafka_topic_result_name(tr[i]),
                     why && *why ? why : rd_kafka_err2str(e));
            goto done;
        }
    }
    rc = 0;
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (q)
        rd_kafka_queue_destroy(q);
    for (size_t i = 0; i < n; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    return rc;
}

void topics_describe_missing(const topics_set *ts, int i, char *buf, size_t size)
{
    snprintf(buf, size, "topic '%s' (%s) does not exist (or this principal may not Describe it)",
             ts->name[i], ts->key[i]);
}

/* librdkafka's own lines (connection refused, every retry) would make the
 * report a different length on every run: the check says what failed. */
static void topics_quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_debug("librdkafka check: %d %s: %s", level, fac, buf);
}

static void topics_quiet_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    log_debug("librdkafka check: %s: %s", rd_kafka_err2str((rd_kafka_resp_err_t)e), reason);
}

int topics_check_connect(const config *cfg, FILE *out, FILE *errs, char *err,
                         size_t err_size)
{
    rd_kafka_conf_t *conf = kconf_new(cfg, KCONF_PRODUCER, 0, err, err_size);
    rd_kafka_t *rk;
    topics_set ts;
    unsigned missing = 0;
    char errstr[512], line[512];
    int problems = 0;

    if (!conf)
        return -1;
    rd_kafka_conf_set_log_cb(conf, topics_quiet_log);
    rd_kafka_conf_set_error_cb(conf, topics_quiet_error);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "creating the Kafka client: %s", errstr);
        return -1;
    }
    topics_set_init(&ts, cfg, !cfg->run_dry_run);
    int64_t t0 = log_now_ms();
    if (topics_check(rk, &ts, (int)cfg->topics_timeout_ms, &missing, line, sizeof(line))) {
        fprintf(errs, "brokers %s: %s\n", cfg->brokers, line);
        rd_kafka_destroy(rk);
        return 1;
    }
    fprintf(out, "brokers ok: %s (%d broker(s) in the cluster, metadata in %lld ms)\n",
            cfg->brokers, ts.brokers, (long long)(log_now_ms() - t0));
    for (int i = 0; i < ts.n; i++) {
        if (!(missing & (1u << i))) {
            fprintf(out, "topic ok: %s (%s), %d partition(s)\n", ts.name[i], ts.key[i],
                    ts.partitions[i]);
        } else if (cfg->topics_create) {
            fprintf(out, "topic missing: %s (%s), will be created at start (topics.create)\n",
                    ts.name[i], ts.key[i]);
        } else {
            topics_describe_missing(&ts, i, line, sizeof(line));
            fprintf(errs, "%s: create it, or set topics.create=true\n", line);
            problems++;
        }
    }
    rd_kafka_destroy(rk);
    return problems;
}
