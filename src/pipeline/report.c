/*
 * report: lag and the status line. See report.h.
 */
#include "pipeline/report.h"

#include <stdio.h>

#include "ops/log.h"

int report_lag(rd_kafka_t *consumer, metrics *m, int64_t *lag)
{
    rd_kafka_topic_partition_list_t *asg = NULL;
    int64_t total = 0;
    int known = 0;

    if (rd_kafka_assignment(consumer, &asg) || !asg)
        return -1;
    if (asg->cnt && !rd_kafka_position(consumer, asg)) {
        for (int i = 0; i < asg->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &asg->elems[i];
            int64_t lo, hi;
            if (rd_kafka_get_watermark_offsets(consumer, tp->topic, tp->partition, &lo, &hi) ||
                hi < 0)
                continue;
            int64_t pos = tp->offset >= 0 ? tp->offset : lo;
            int64_t behind = hi > pos ? hi - pos : 0;
            total += behind;
            known++;
            if (m)
                metrics_lag_set(m, tp->topic, tp->partition, behind);
        }
    }
    rd_kafka_topic_partition_list_destroy(asg);
    *lag = known ? total : -1;
    return 0;
}

void report_status_line(char *buf, size_t size, const pipeline_stats *st, double per_sec,
                        const uint64_t *dry)
{
    if (dry)
        snprintf(buf, size,
                 "status: consumed %llu (%.0f/s), dry run: would produce enriched %llu "
                 "tickets %llu rejected %llu, in flight %llu msgs %llu B%s, lag %lld, "
                 "partitions %d",
                 (unsigned long long)st->consumed, per_sec, (unsigned long long)dry[0],
                 (unsigned long long)dry[1], (unsigned long long)dry[2],
                 (unsigned long long)st->inflight_msgs, (unsigned long long)st->inflight_bytes,
                 st->paused ? " (paused)" : "", (long long)st->lag, st->partitions);
    else
        snprintf(buf, size,
                 "status: consumed %llu (%.0f/s), produced enriched %llu tickets %llu "
                 "rejected %llu, failed %llu, in flight %llu msgs %llu B%s, lag %lld, "
                 "partitions %d",
                 (unsigned long long)st->consumed, per_sec,
                 (unsigned long long)st->produced[0], (unsigned long long)st->produced[1],
                 (unsigned long long)st->produced[2], (unsigned long long)st->produce_failed,
                 (unsigned long long)st->inflight_msgs, (unsigned long long)st->inflight_bytes,
                 st->paused ? " (paused)" : "", (long long)st->lag, st->partitions);
}

void report_dry_summary(uint64_t consumed, const uint64_t dry[3], const char *top)
{
    log_info("dry run summary: consumed %llu post(s); would have produced enriched %llu, "
             "tickets %llu, rejected %llu; produced nothing, committed no offset",
             (unsigned long long)consumed, (unsigned long long)dry[0],
             (unsigned long long)dry[1], (unsigned long long)dry[2]);
    log_info("dry run summary: top complaints by brand: %s", top);
}
