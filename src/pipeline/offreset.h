/*
 * offreset: reads librdkafka's "offset reset" log line, the only report
 * librdkafka 2.0.2 gives when auto.offset.reset=earliest/latest moves a
 * partition's position because the offset to resume from is not on the
 * broker (rdkafka_offset.c, rd_kafka_offset_reset, facility "OFFSET"):
 *
 *   TOPIC [P]: offset reset (at offset AT, broker B) to [cached ]WHERE[ offset NEW]: ...
 *
 * (RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET is an event only with
 * auto.offset.reset=error.) Tied to that wording: a librdkafka upgrade
 * re-checks it against test_pipeline_offreset.
 *
 * Thread-safety: pure functions. Cost: one pass over the line.
 */
#ifndef EARSHOT_PIPELINE_OFFRESET_H
#define EARSHOT_PIPELINE_OFFRESET_H

#include <stddef.h>
#include <stdint.h>

typedef struct offreset {
    char topic[256];
    int32_t partition;
    int64_t from;    /* AT: the offset that was gone */
    int64_t to;      /* NEW, or -1 when librdkafka had yet to ask the broker */
    char where[96];  /* the text after "to ", e.g. "cached BEGINNING offset 0" */
} offreset;

/* 0 and *r filled when line is an offset reset from a numeric offset; -1
 * otherwise (another line, or AT not a number: "INVALID" is a group's
 * first start with nothing committed, no loss). */
int offreset_parse(const char *line, offreset *r);

/* What r means, as a log line into buf. An offset reset is data loss when it
 * moves forward: the offset to resume from (committed, or the fetch
 * position) is gone from the broker, typically deleted by retention while
 * the group was behind or down, and auto.offset.reset=earliest/latest jumps
 * over what was never read. A backward reset (the offset past the end, e.g.
 * a recreated topic) repeats work and loses nothing. Returns 1 when
 * messages may have been skipped (an error), 0 for a repeat (a warning);
 * *lost: how many were skipped when known, else 0. */
int offreset_describe(const offreset *r, char *buf, size_t size, uint64_t *lost);

#endif
