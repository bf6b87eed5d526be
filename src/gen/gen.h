/*
 * gen: a deterministic generator of realistic social posts, for the demo's
 * firehose, `earshot generate`, the benchmarks and load tests.
 *
 * Mix (defaults, all configurable): mostly unrelated chatter; a few percent
 * brand mentions (the default rules' brands, by alias, handle, hashtag or
 * misspelling, in varied case, some full-width or accented); among
 * mentions, complaints (wait time, automated phone, billing, outage,
 * delivery, rude staff, refund, cancel threats, shouting and "!!!!"),
 * praise and questions; some spam; some retweets and replies; authors from
 * a few followers to millions, a few verified; several languages and emoji.
 * Shapes: Twitter API v2 (~750 bytes with the usual fields), Twitter v1.1,
 * the generic shape, or a mix. Optionally a share of malformed lines (not
 * JSON, no text, invalid UTF-8, too deep), for the rejected path.
 *
 * Contract: the same seed and options give the same bytes on every machine.
 * gen_next() appends one post (no newline) to *out and returns its kind.
 * Thread-safety: one gen per thread. Cost: ~1 us per post.
 */
#ifndef EARSHOT_GEN_H
#define EARSHOT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/base_json.h"

typedef enum gen_shape {
    GEN_SHAPE_TWITTER_V2 = 0,
    GEN_SHAPE_TWITTER_V1 = 1,
    GEN_SHAPE_GENERIC = 2,
    GEN_SHAPE_MIX = 3,
} gen_shape;

typedef enum gen_kind {
    GEN_KIND_CHATTER = 0,   /* mentions no brand */
    GEN_KIND_COMPLAINT,
    GEN_KIND_PRAISE,
    GEN_KIND_QUESTION,
    GEN_KIND_MENTION,       /* names a brand, neutral */
    GEN_KIND_SPAM,
    GEN_KIND_MALFORMED,     /* must be rejected */
} gen_kind;

typedef struct gen_options {
    uint64_t seed;            /* default 1 */
    gen_shape shape;          /* default GEN_SHAPE_TWITTER_V2 */
    double mention_rate;      /* share of posts naming a brand, default 0.05 */
    double complaint_share;   /* of mentions, default 0.45 */
    double praise_share;      /* of mentions, default 0.20 */
    double question_share;    /* of mentions, default 0.20 (rest neutral) */
    double spam_rate;         /* default 0.01 */
    double malformed_rate;    /* default 0 */
    size_t target_bytes;      /* approximate post size, default 750 */
} gen_options;

void gen_options_default(gen_options *opt);

typedef struct gen gen;

gen *gen_new(const gen_options *opt);
void gen_free(gen *g);
gen_kind gen_next(gen *g, jbuf *out);
const char *gen_kind_name(gen_kind kind);

#endif
