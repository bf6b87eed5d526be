/*
 * dryrun: what a dry run (run.dry_run, --dry-run) would have produced, kept
 * by the workers instead of queuing outputs: how many posts would have gone
 * to each output topic and, per brand, how many complaints mentioned it
 * (the summary's "top complaints").
 *
 * Counts follow the run's own routing (pipeline_route_decide with the same
 * policy), so a dry run over an input reports what a run over it would
 * produce: enriched = posts routed to topic.enriched, tickets = those also
 * routed to topic.tickets, rejected = inputs the engine refused.
 *
 * Thread-safety: every call from any thread. The counts are atomics; the
 * brand table has one mutex, taken only for a complaint that names a brand.
 * Cost: a dry run is not the production path; the brand table is a linear
 * array (a rule set has hundreds of brands, and a complaint names a few),
 * and brand ids are copied so that a rules reload cannot free them.
 */
#ifndef EARSHOT_PIPELINE_DRYRUN_H
#define EARSHOT_PIPELINE_DRYRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dryrun dryrun;

dryrun *dryrun_new(void);
void dryrun_free(dryrun *d);

/* One classified post: where it would have gone, and, when it is a
 * complaint, the ids of the brands it mentions. 0, or -1 out of memory
 * (the counts are still kept; only that brand is not). */
int dryrun_post(dryrun *d, bool enriched, bool ticket, bool complaint,
                const char *const *brand_ids, size_t n_brands);

/* One input the engine refused (would have gone to topic.rejected). */
void dryrun_reject(dryrun *d);

/* Would-be outputs: enriched, tickets, rejected. */
void dryrun_counts(dryrun *d, uint64_t out[3]);

/* The n brands with the most complaints, most first, ties by id:
 * "comcast 12, att 7" ("none" when no complaint named a brand). */
void dryrun_top_complaints(dryrun *d, size_t n, char *buf, size_t size);

#endif
