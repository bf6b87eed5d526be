/*
 * enrich: a parsed post + its matches -> the enriched event (JSON) and the
 * few facts the router needs (polarity, priority, first brand).
 *
 * Event schema (one JSON object, keys in this order; the contract is
 * schema/event.schema.json, README "Event schema" explains it):
 *   {"schema_version":ENRICH_SCHEMA_VERSION,
 *    "id","platform","created_at","author":{"handle","followers","verified"},
 *    "lang","text","is_retweet","is_reply",
 *    "url","conversation_id","reply_to" (each only when the post states it:
 *    post.h says exactly when),
 *    "brands":[{"id","name"}], "polarity":"complaint|praise|question|neutral",
 *    "valence":-3.25 (the lexicon's score, two decimals; only when the
 *    rules have a lexicon), "model":{"version","class","score"} (only with
 *    a trained model: its best class and that class's probability),
 *    "labels":[tag...], "matched_rules":[{"id","tag"}],
 *    "priority":0..100, "respond_by":"YYYY-MM-DDTHH:MM:SSZ" (complaints and
 *    questions only, else omitted), "rules_version":"...",
 *    "processed_at":"YYYY-MM-DDTHH:MM:SSZ" (`now`, the time of classifying)}
 *
 * Polarity: the polarity whose matched rules have the largest summed severity
 * (+1 per rule so zero-severity rules still count), where the lexicon's
 * valence, once |valence| >= its threshold, adds |valence| x weight to
 * complaint (negative) or praise (positive); ties go to complaint, then
 * question, then praise. Nothing -> neutral. With a trained model, the
 * model's class decides instead of the lexicon wherever no complaint or
 * praise rule fired (a neutral class becomes question when a question rule
 * fired).
 *
 * Priority (0..100, integer):
 *   base by polarity: complaint 40, question 25, praise 5, neutral 0
 *   + the largest severity among matched rules, scaled by 0.3
 *   + reach: 4 * log10(followers + 1), at most 20; verified +10
 *   + shouting: caps_ratio >= 0.6 +10; a run of 3+ '!' +5
 *   clamped to 0..100. Posts that mention no brand keep their priority.
 *
 * respond_by = base time + the first response target whose min_priority the
 * priority reaches (targets sorted by min_priority descending). Base time is
 * the post's created_at (before 1970 too), or `now` when the post has none.
 *
 * Thread-safety: enrich_event() is reentrant; the jbuf belongs to the caller.
 * Cost: one pass writing the event; no allocation once jbuf has grown.
 */
#ifndef EARSHOT_ENRICH_H
#define EARSHOT_ENRICH_H

#include <stdint.h>
#include <time.h>

#include "base/base_json.h"
#include "match/match.h"
#include "post/post.h"
#include "rules/rules.h"

#define ENRICH_MAX_TARGETS 8

/* The event contract's version (schema/event.schema.json "schema_version").
 * Raised only by a change a consumer could trip on (a field removed,
 * renamed or retyped); added optional fields keep it. */
#define ENRICH_SCHEMA_VERSION 1

typedef struct enrich_target {
    int min_priority;    /* 0..100 */
    int respond_minutes; /* > 0 */
} enrich_target;

typedef struct enrich_config {
    /* Sorted by min_priority, highest first; the last should be 0. */
    enrich_target targets[ENRICH_MAX_TARGETS];
    int n_targets;
} enrich_config;

/* Defaults: >=80 -> 15 min, >=50 -> 30 min, >=20 -> 60 min, >=0 -> 240 min. */
void enrich_config_default(enrich_config *cfg);

typedef struct enrich_summary {
    polarity polarity;
    int priority;
    int64_t respond_by;   /* epoch seconds (negative before 1970), 0 unless
                             has_respond_by */
    bool has_respond_by;  /* a complaint or question that reached a target */
    int first_brand;      /* index into ruleset brands, -1 if none */
    uint32_t n_brands;
    int64_t created_at;   /* the post's, epoch seconds; 0 unless has_created_at */
    bool has_created_at;  /* for routing by age (tickets.max_age) */
} enrich_summary;

/* Appends the event JSON to *out (no trailing newline). Returns 0, or -1 on
 * allocation failure. */
int enrich_event(const enrich_config *cfg, const ruleset *rs, const post *p,
                 const match_result *m, int64_t now, jbuf *out,
                 enrich_summary *sum);

/* The scoring parts, exposed for tests. */
polarity enrich_polarity(const ruleset *rs, const match_result *m);
int enrich_priority(const ruleset *rs, const post *p, const match_result *m,
                    polarity pol);
/* Returns 1 and sets *at when a target applies, 0 when none does. */
int enrich_respond_by(const enrich_config *cfg, const post *p, int priority,
                      int64_t now, int64_t *at);

#endif
