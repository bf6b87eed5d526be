/*
 * topicwait: check, create or wait for the run's topics. See topicwait.h.
 */
#include "pipeline/topicwait.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

void topicwait_init(topicwait *tw, const config *cfg)
{
    topics_set_init(&tw->topics, cfg, !cfg->run_dry_run);
    tw->create = cfg->topics_create;
    tw->partitions = (int)cfg->topics_partitions;
    tw->replication = (int)cfg->topics_replication;
    tw->timeout_ms = (int)cfg->topics_timeout_ms;
    tw->why[0] = '\0';
    pthread_mutex_init(&tw->lock, NULL);
    /* A missing topic is logged when the set changes, else once a minute. */
    log_limit_init(&tw->lim, 1, 60000);
}

void topicwait_destroy(topicwait *tw)
{
    log_limit_destroy(&tw->lim);
    pthread_mutex_destroy(&tw->lock);
}

int topicwait_reason(topicwait *tw, char *buf, size_t size)
{
    int waiting;

    pthread_mutex_lock(&tw->lock);
    waiting = tw->why[0] != '\0';
    if (waiting)
        snprintf(buf, size, "%s", tw->why);
    pthread_mutex_unlock(&tw->lock);
    return waiting;
}

static void topicwait_set_why(topicwait *tw, const char *why)
{
    pthread_mutex_lock(&tw->lock);
    snprintf(tw->why, sizeof(tw->why), "%s", why);
    pthread_mutex_unlock(&tw->lock);
}

/* Each newly missing topic at once (and the limiter's window opened, so the
 * repeats start a minute after it), else through the limiter. */
static void topicwait_log_missing(topicwait *tw, unsigned missing, unsigned logged)
{
    int fresh = (missing & ~logged) != 0;
    char line[320];
    uint64_t dropped;

    for (int i = 0; i < tw->topics.n; i++) {
        if (!(missing & (1u << i)))
            continue;
        topics_describe_missing(&tw->topics, i, line, sizeof(line));
#define TOPICWAIT_MISSING_FMT                                                                 \
    "%s: create it (e.g. kafka-topics.sh --create --topic %s) or set topics.create=true; "   \
    "waiting, checking every 2 s"
        if (fresh) {
            log_error(TOPICWAIT_MISSING_FMT, line, tw->topics.name[i]);
            log_limit_allow(&tw->lim, log_now_ms(), &dropped);
        } else {
            log_limited(&tw->lim, LOG_LEVEL_ERROR, TOPICWAIT_MISSING_FMT, line,
                        tw->topics.name[i]);
        }
#undef TOPICWAIT_MISSING_FMT
    }
}

int topicwait_run(topicwait *tw, rd_kafka_t *rk, atomic_int *stop)
{
    unsigned missing = 0, logged = 0;
    char err[320], why[384];

    for (;;) {
        if (topics_check(rk, &tw->topics, tw->timeout_ms, &missing, err, sizeof(err))) {
            snprintf(why, sizeof(why), "checking topics: %s", err);
            topicwait_set_why(tw, why);
            log_limited(&tw->lim, LOG_LEVEL_WARN, "%s; retrying", why);
        } else if (!missing) {
            if (logged)
                log_info("topics: every topic the run needs exists now; starting");
            topicwait_set_why(tw, "");
            return 0;
        } else if (tw->create) {
            if (topics_create(rk, &tw->topics, missing, tw->partitions, tw->replication,
                              tw->timeout_ms, err, sizeof(err))) {
                snprintf(why, sizeof(why), "topics.create: %s", err);
                topicwait_set_why(tw, why);
                log_limited(&tw->lim, LOG_LEVEL_ERROR, "%s; retrying", why);
            } else {
                for (int i = 0; i < tw->topics.n; i++)
                    if (missing & (1u << i))
                        log_info("created topic '%s' (%s; topics.create, partitions %d, "
                                 "replication %d, -1 = the broker's default)",
                                 tw->topics.name[i], tw->topics.key[i], tw->partitions,
                                 tw->replication);
                logged = 1;
                continue; /* check again: a created topic is listed within ms */
            }
        } else {
            size_t len = (size_t)snprintf(why, sizeof(why), "waiting for topic(s)");
            for (int i = 0; i < tw->topics.n && len < sizeof(why); i++)
                if (missing & (1u << i))
                    len += (size_t)snprintf(why + len, sizeof(why) - len, " %s (%s)",
                                            tw->topics.name[i], tw->topics.key[i]);
            topicwait_set_why(tw, why);
            topicwait_log_missing(tw, missing, logged);
            logged |= missing;
        }
        for (int ms = 0; ms < TOPICWAIT_RETRY_MS; ms += 50) {
            if (atomic_load(stop))
                return -1;
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}
