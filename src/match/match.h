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
 *   - Lexicon (rules_lexicon.c): every weighted term hit is scored, in text
 *     order: a term inside a longer term's hit does not count ("no problem"
 *     is not "problem"); a negator up to negation_window words before it
 *     (no clause break [.!?;,] and no other term between) multiplies it by
 *     negation_factor; an
 *     intensifier right before it by intensifier_factor; with a contrast
 *     word in the post, terms before the last one count contrast_before,
 *     after it contrast_after; sarcastic terms (positive) count negative
 *     when the rest sums to -sarcasm_threshold or less. A negator or intensifier inside a term's
 *     hit is part of that term, not a modifier.
 *   - Hashtags: "#shameonyou" is also scanned as "shame on you" when it
 *     splits wholly into words of the rules' vocabulary (the fewest words;
 *     2 or more), appended after the text on its own line so no phrase
 *     spans text and hashtag. A "#term" still needs the '#'.
 *
 *   - Model (rules_model.c): the model's tokeniser runs over the post's
 *     normal form (not the hashtag lines) and each n-gram is looked up in
 *     the model; the fired rules' and the lexicon's signals are added, and
 *     model_score turns them into class probabilities. Cost ~1 us a tweet.
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
#include "text/text.h"

#define MATCH_MAX_BRANDS 32
#define MATCH_MAX_RULES 128

typedef struct match_result {
    uint32_t n_brands;
    uint32_t brands[MATCH_MAX_BRANDS];
    uint32_t n_rules;
    uint32_t rules[MATCH_MAX_RULES];
    bool truncated;
    /* The lexicon's verdict (0 and 0 without a lexicon): the summed valence
     * of the weighted terms after negation, intensifiers, contrast and
     * sarcasm, and how many weighted term hits it counted. */
    float valence;
    uint32_t n_lex;
    /* The post's shouting (text_shouting on its original text) when the
     * lexicon needed it; enrich's priority reuses it instead of measuring
     * again. */
    bool shout_known;
    text_shout shout;
    /* The post @-mentions an account ('@' after no word character, before
     * one): together with brands, whom a complaint is addressed to. */
    bool addressed;
    /* The trained model's verdict (rules/ holds a model file): its best
     * class and that class's probability; model_class is -1 without one.
     * n_model: its features found in the post. */
    int32_t model_class;
    float model_prob;
    uint32_t n_model;
} match_result;

typedef struct match_scratch match_scratch;

match_scratch *match_scratch_new(void);
void match_scratch_free(match_scratch *ms);

/* The model features of the last match_post() on ms (ids into the model's
 * n-grams, in hit order), for explanations: valid until the next call. */
const uint32_t *match_model_ids(const match_scratch *ms, size_t *n);

/* Returns 0, or -1 with err filled (Hyperscan scan error, out of memory). */
int match_post(const ruleset *rs, match_scratch *ms, const post *p,
               const char *text, size_t text_len, match_result *out,
               char *err, size_t err_size);

#endif
