/*
 * match: one normalised post text + its fields -> which brands it mentions and
 * which rules fire.
 *
 * One hs_scan() over the normalised text finds every term; the boolean
 * structure of each rule and its field predicates ("when") are then
 * evaluated for the candidate rules only, so the cost grows with what a post
 * matches, not with the size of the rule set.
 *
 * Contract:
 *   - match_post() fills *out with brand and rule indices into the ruleset
 *     (ruleset_brand(), ruleset_rule()), each list sorted ascending and
 *     without duplicates. Lists longer than the MATCH_MAX_* caps are cut and
 *     out->truncated is set.
 *   - text must be the output of text_normalize() (valid UTF-8).
 *
 * Thread-safety: a match_scratch belongs to one thread. It is tied to no
 * particular ruleset: match_post() grows it when handed a ruleset with a
 * larger database (hot reload), which allocates once.
 * Cost: one hs_scan + O(terms hit) evaluation; no allocation in steady state.
 */
#ifndef EARSHOT_MATCH_H
#define EARSHOT_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "post/post.h"
#include "rules/rules.h"

#define MATCH_MAX_BRANDS 32
#define MATCH_MAX_RULES 128

typedef struct match_result {
    uint32_t n_brands;
    uint32_t brands[MATCH_MAX_BRANDS];
    uint32_t n_rules;
    uint32_t rules[MATCH_MAX_RULES];
    bool truncated;
} match_result;

typedef struct match_scratch match_scratch;

match_scratch *match_scratch_new(void);
void match_scratch_free(match_scratch *ms);

/* Returns 0, or -1 with err filled (Hyperscan scan error, out of memory). */
int match_post(const ruleset *rs, match_scratch *ms, const post *p,
               const char *text, size_t text_len, match_result *out,
               char *err, size_t err_size);

#endif
