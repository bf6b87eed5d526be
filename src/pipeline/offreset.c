/*
 * offreset: see offreset.h.
 */
#include "pipeline/offreset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFRESET_AT "]: offset reset (at offset "

int offreset_parse(const char *line, offreset *r)
{
    const char *at = strstr(line, OFFRESET_AT), *open, *topic, *to, *end, *word;
    char *num_end;

    if (!at || !(to = strstr(at, ") to ")))
        return -1;
    r->from = strtoll(at + strlen(OFFRESET_AT), &num_end, 10);
    if (num_end == at + strlen(OFFRESET_AT) || *num_end != ',' || r->from < 0)
        return -1;
    /* "TOPIC [P" ends right before at, after librdkafka's "[thrd:NAME]: "
     * prefix; topic names hold neither '[' nor ' '. */
    for (open = at; open > line && *open != '['; open--)
        ;
    if (open - line < 2 || open[-1] != ' ')
        return -1;
    for (topic = open - 1; topic > line && topic[-1] != ' '; topic--)
        ;
    if (topic == open - 1 || (size_t)(open - 1 - topic) >= sizeof(r->topic))
        return -1;
    memcpy(r->topic, topic, (size_t)(open - 1 - topic));
    r->topic[open - 1 - topic] = '\0';
    r->partition = (int32_t)strtol(open + 1, &num_end, 10);
    if (num_end != at)
        return -1;
    to += strlen(") to ");
    end = strstr(to, ": ");
    if (!end)
        end = to + strlen(to);
    snprintf(r->where, sizeof(r->where), "%.*s", (int)(end - to), to);
    /* The last word is NEW when librdkafka knew it, else WHERE (BEGINNING). */
    for (word = end; word > to && word[-1] != ' '; word--)
        ;
    r->to = strtoll(word, &num_end, 10);
    if (word == end || num_end != end || r->to < 0)
        r->to = -1;
    return 0;
}

int offreset_describe(const offreset *r, char *buf, size_t size, uint64_t *lost)
{
    *lost = 0;
    if (r->to < 0) {
        snprintf(buf, size,
                 "input %s [%d]: offset %lld is not on the broker, librdkafka reset the "
                 "position to %s: messages from %lld on may have been skipped unread "
                 "(retention shorter than the group's lag?)",
                 r->topic, (int)r->partition, (long long)r->from, r->where,
                 (long long)r->from);
        return 1;
    }
    if (r->to > r->from) {
        *lost = (uint64_t)(r->to - r->from);
        snprintf(buf, size,
                 "input %s [%d]: offset %lld is not on the broker, librdkafka reset the "
                 "position to %lld: %lld message(s) skipped unread (retention shorter than "
                 "the group's lag?)",
                 r->topic, (int)r->partition, (long long)r->from, (long long)r->to,
                 (long long)(r->to - r->from));
        return 1;
    }
    snprintf(buf, size,
             "input %s [%d]: offset %lld is past the end, librdkafka reset the position "
             "to %lld: %lld message(s) will be processed again",
             r->topic, (int)r->partition, (long long)r->from, (long long)r->to,
             (long long)(r->from - r->to));
    return 0;
}
