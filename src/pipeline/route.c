/*
 * route: the routing decision of one classified post. See route.h.
 */
#include "pipeline/route.h"

pipeline_route pipeline_route_decide(const pipeline_route_policy *pol,
                                     const enrich_summary *sum, bool brand, int64_t now)
{
    pipeline_route r = {.enriched = brand || pol->enriched_all, .ticket = false};

    if (!brand || (sum->polarity != POLARITY_COMPLAINT && sum->polarity != POLARITY_QUESTION) ||
        sum->priority < pol->min_priority)
        return r;
    /* Age against processing time, not arrival: a backlog drained a day late
     * is as stale to care as a replayed topic. Subtraction cannot overflow:
     * created_at is a parsed calendar date, far inside int64. */
    if (pol->max_age > 0 && sum->has_created_at && now - sum->created_at > pol->max_age)
        return r;
    r.ticket = r.enriched;
    return r;
}
