/*
 * route: which output topics one classified post goes to, as a pure
 * function of its summary, the routing settings and the processing time, so
 * the decision is unit-tested without Kafka (tests/unit/test_pipeline_route.c).
 * No state, thread-safe, a few comparisons per post.
 */
#ifndef EARSHOT_PIPELINE_ROUTE_H
#define EARSHOT_PIPELINE_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "enrich/enrich.h"

typedef struct pipeline_route_policy {
    bool enriched_all;     /* route.enriched.all */
    int min_priority;      /* tickets.min_priority */
    int64_t max_age;       /* tickets.max_age, seconds; 0: no limit */
} pipeline_route_policy;

typedef struct pipeline_route {
    bool enriched;         /* to topic.enriched */
    bool ticket;           /* to topic.tickets (only with enriched) */
} pipeline_route;

/* brand: the post mentions a brand. now: processing time, epoch seconds.
 * A complaint or question with a brand and priority >= min_priority is a
 * ticket unless its created_at is more than max_age before now; a post
 * without created_at, or dated in the future (clock skew), counts as new. */
pipeline_route pipeline_route_decide(const pipeline_route_policy *pol,
                                     const enrich_summary *sum, bool brand, int64_t now);

#endif
