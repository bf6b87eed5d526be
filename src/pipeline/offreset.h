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
 * Thread-safety: pure function. Cost: one pass over the line.
 */
#ifndef EARSHOT_PIPELINE_OFFRESET_H
#define EARSHOT_PIPELINE_OFFRESET_H

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

#endif
