/*
 * report: what the pipeline tells its operator about progress: consumer lag
 * per assigned partition (earshot_consumer_lag and the status line's total)
 * and the periodic status line, with the dry run's variant and its summary
 * at exit.
 *
 * Lag: for each assigned partition, high watermark minus the consumer's
 * position (the low watermark when it has no position yet), never below 0;
 * a partition whose watermarks librdkafka does not know yet is left out,
 * and the total is -1 when none is known. The watermarks are librdkafka's
 * cached ones (from fetch responses and statistics), so the figure is as
 * fresh as the last fetch: no broker round trip here.
 *
 * The status line's wording is an interface: the integration tests parse it
 * (run_helpers.STATUS_RE: "status: consumed N ... in flight N msgs N B
 * [(paused)], lag N, partitions N"); report_status_line keeps it in one
 * place, and its unit test pins it.
 *
 * Thread-safety: report_lag from the thread that polls the consumer (the
 * pipeline's main thread); the rest is pure or only logs. Cost: report_lag
 * is O(assigned partitions), one cached-watermark lookup each; the status
 * line is one snprintf.
 */
#ifndef EARSHOT_PIPELINE_REPORT_H
#define EARSHOT_PIPELINE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "ops/metrics.h"
#include "pipeline/pipeline.h"

/* *lag: the total lag of consumer's assignment (-1: none known); with m,
 * each partition's lag also goes to m. 0, or -1 (*lag untouched) when the
 * assignment could not be read. */
int report_lag(rd_kafka_t *consumer, metrics *m, int64_t *lag);

/* The status line of st into buf. per_sec: consumption rate since the last
 * line. dry: a dry run's would-be outputs (enriched, tickets, rejected), or
 * NULL for a run that produces. */
void report_status_line(char *buf, size_t size, const pipeline_stats *st, double per_sec,
                        const uint64_t *dry);

/* The dry run's summary at exit: counts and the top complaints. */
void report_dry_summary(uint64_t consumed, const uint64_t dry[3], const char *top);

#endif
