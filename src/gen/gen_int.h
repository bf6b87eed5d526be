/*
 * gen_int: what the files of the gen module share and nobody else sees.
 *
 * The PRNG is splitmix64: one add and two multiply-xorshift rounds per draw,
 * a full 2^64 period and no platform dependence (no rand(), no libm, no
 * locale, no clock), which is what "same seed, same bytes on every machine"
 * needs. Probabilities are compared as 53-bit integers so that no floating
 * point rounding sits on the path from seed to bytes after gen_new().
 * One draw per full expression: C leaves the order of operands and of
 * arguments open, so two draws in one expression may differ by compiler.
 */
#ifndef EARSHOT_GEN_INT_H
#define EARSHOT_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base_json.h"
#include "gen/gen.h"

typedef struct gen_rng {
    uint64_t s;
} gen_rng;

static inline uint64_t gen_rng_next(gen_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) for n < 2^32; the multiply-shift bias is below 2^-32,
 * far under anything a test or a reader could see. */
static inline uint32_t gen_rng_below(gen_rng *r, uint32_t n)
{
    return (uint32_t)(((gen_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A probability as a 53-bit threshold: gen_rng_hit(r, gen_prob(0.25)). */
static inline uint64_t gen_prob(double p)
{
    if (!(p > 0.0))
        return 0;
    if (p >= 1.0)
        return 1ull << 53;
    return (uint64_t)(p * 9007199254740992.0);
}

static inline bool gen_rng_hit(gen_rng *r, uint64_t thr53)
{
    return (gen_rng_next(r) >> 11) < thr53;
}

/* Percent chance, for the corpus's fixed proportions. */
static inline bool gen_rng_pct(gen_rng *r, uint32_t pct)
{
    return gen_rng_below(r, 100) < pct;
}

#define GEN_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define GEN_PICK(r, a) ((a)[gen_rng_below((r), (uint32_t)GEN_NELEM(a))])

/* Languages the corpus writes in. */
typedef enum gen_lang {
    GEN_LANG_EN = 0,
    GEN_LANG_ES,
    GEN_LANG_JA,
    GEN_LANG_AR,
    GEN_LANG_PT,
    GEN_LANG_FR,
    GEN_LANG_UND, /* emoji only */
    GEN_LANG_COUNT
} gen_lang;

const char *gen_lang_code(gen_lang lang);

/* ---- authors (gen_author.c) ---- */

typedef struct gen_author {
    uint64_t id;
    uint64_t seed;        /* the author's own stream: bio, location, avatar */
    char username[24];    /* [A-Za-z0-9_], 15 chars at most like Twitter's */
    char name[64];        /* display name, valid UTF-8 */
    uint8_t username_len;
    uint8_t name_len;
    gen_lang lang;
    bool verified;
    int64_t followers;
    int64_t following;
    int64_t posts;
    int64_t listed;
    int64_t likes;
    int64_t created_s;    /* account creation, seconds since 1970 */
} gen_author;

/* The author with index idx of the pool salted by salt: the same (salt, idx)
 * is the same person every time, so a prolific author reads consistently. */
void gen_author_make(uint64_t salt, uint64_t idx, gen_author *a);

/* A profile bio of about budget bytes at most (0 = none), valid UTF-8. */
size_t gen_author_bio(const gen_author *a, char *buf, size_t cap, size_t budget);
const char *gen_author_location(const gen_author *a);

/* ---- text (gen_text.c) ---- */

#define GEN_TEXT_MAX 1024

typedef struct gen_text {
    char buf[GEN_TEXT_MAX];
    size_t len;
    int brand;      /* index into the brand table, -1 when none */
    gen_lang lang;
} gen_text;

/* Writes the text of one post of this kind (not MALFORMED) in lang (a brand
 * post may switch to English, as most care traffic is). */
void gen_text_build(gen_rng *r, gen_kind kind, gen_lang lang, gen_text *t);

/* Prefix t with "RT @user: " or "@user "; false (t unchanged) when it would
 * not fit. */
bool gen_text_prefix(gen_text *t, const char *a, size_t alen, const char *b,
                     size_t blen, const char *c, size_t clen);

/* The care handle of brand (without '@'), and its account id. */
const char *gen_brand_handle(int brand);
uint64_t gen_brand_user_id(int brand);
const char *gen_brand_name(int brand);
size_t gen_brand_count(void);

/* ---- one post, as the shape writers see it (gen.c fills it) ---- */

typedef struct gen_post {
    gen_kind kind;          /* of the text; MALFORMED posts carry a damage */
    uint64_t id;
    int64_t ms;             /* created_at, ms since 1970 */
    gen_author author;
    const gen_text *text;   /* the full text, prefix included */
    size_t body_off;        /* where the text after "RT @x: " starts */
    bool is_rt;
    bool is_reply;
    bool ref_is_brand;      /* replying to the brand's care handle */
    int ref_brand;
    uint64_t ref_id;        /* the retweeted or replied-to post */
    int64_t ref_ms;
    gen_author ref_author;  /* its author (unless ref_is_brand) */
    int64_t retweets, replies, likes, quotes, bookmarks, impressions;
    uint32_t source;        /* index into the client table */
    uint32_t platform;      /* generic shape: 0 facebook, 1 youtube, 2 blog */
    uint64_t salt;          /* per-post stream for incidental bytes */
    /* Damage for malformed lines (gen_malformed.c). */
    bool omit_text;
    const char *bad_bytes;  /* raw invalid UTF-8 spliced into the text */
    size_t bad_len;
    size_t bad_at;
} gen_post;

struct gen {
    gen_options opt;
    gen_rng rng;
    uint64_t thr_malformed, thr_spam, thr_mention;    /* cumulative, of all */
    uint64_t thr_complaint, thr_praise, thr_question; /* cumulative, of mentions */
    uint64_t author_salt;
    uint64_t spam_salt;
    int64_t now_ms;
    int64_t last_ms;
    uint32_t seq;
    uint32_t worker;
    jbuf scratch;
    gen_text text;
};

/* Fills *p for a well-formed post of kind and builds its text in g->text;
 * plain: neither a retweet nor a reply. */
void gen_post_build(gen *g, gen_kind kind, gen_shape shape, bool plain, gen_post *p);
/* The shape of the next post (draws only for GEN_SHAPE_MIX). */
gen_shape gen_pick_shape(gen *g);
int gen_write_post(gen *g, const gen_post *p, gen_shape shape, jbuf *out);

/* Shape writers (gen_shape.c): append one JSON object to out, 0 or -1 when
 * memory ran out (out->len may then have moved; the caller restores it). */
int gen_write_v2(gen *g, const gen_post *p, jbuf *out);
int gen_write_v1(gen *g, const gen_post *p, jbuf *out);
int gen_write_generic(gen *g, const gen_post *p, jbuf *out);

/* A malformed line (gen_malformed.c). */
int gen_write_malformed(gen *g, jbuf *out);

/* ---- JSON pieces (gen_fmt.c) ---- */

/* "2018-10-10T20:19:24.000Z" (with_ms) or "...24Z", quoted. */
int gw_iso(jbuf *b, int64_t ms, bool with_ms);
/* "Wed Oct 10 20:19:24 +0000 2018", quoted. */
int gw_v1time(jbuf *b, int64_t s);
/* s as a JSON string; p's malformed splice (bad_bytes at bad_at) if any. */
int gw_text(jbuf *b, const gen_post *p, const char *s, size_t n);

typedef enum { ENT_MENTION, ENT_HASHTAG, ENT_URL } gen_ent_type;

typedef struct gen_ent {
    gen_ent_type type;
    uint32_t start, end;  /* code points, end exclusive, as Twitter counts */
    const char *s;        /* the entity's bytes without '@' / '#' */
    size_t len;
} gen_ent;

#define GEN_MAX_ENTS 8

/* @mentions, #hashtags and links in s, in order, at most GEN_MAX_ENTS. */
size_t gen_entities(const char *s, size_t n, gen_ent *ents);
/* ,"entities":{...} for v2 (nothing when k == 0); "entities":{...} for v1.1. */
int gw_entities_v2(jbuf *b, const gen_ent *ents, size_t k);
int gw_entities_v1(jbuf *b, const gen_ent *ents, size_t k);

/* ---- JSON helpers ---- */

static inline int gw_raw(jbuf *b, const char *s, size_t n)
{
    if (b->data && n <= b->cap - b->len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return 0;
    }
    return jbuf_raw(b, s, n);
}

#define GW(b, lit) gw_raw((b), (lit), sizeof(lit) - 1)

/* Decimal digits of v into buf (>= 21 bytes); returns the length. */
size_t gen_u64_dec(char *buf, uint64_t v);

static inline int gw_u64(jbuf *b, uint64_t v)
{
    char d[24];
    return gw_raw(b, d, gen_u64_dec(d, v));
}

/* "123" with the quotes, as Twitter writes ids. */
static inline int gw_qu64(jbuf *b, uint64_t v)
{
    char d[24];
    size_t n;
    d[0] = '"';
    n = gen_u64_dec(d + 1, v);
    d[n + 1] = '"';
    return gw_raw(b, d, n + 2);
}

/* A JSON string from bytes known to need no escaping (ASCII identifiers). */
static inline int gw_qraw(jbuf *b, const char *s, size_t n)
{
    int rc = GW(b, "\"");
    rc |= gw_raw(b, s, n);
    rc |= GW(b, "\"");
    return rc;
}

/* ISO 8601 is base_time_iso8601 (base/base_time.h). */
/* "Wed Oct 10 20:19:24 +0000 2018" (Twitter v1.1). buf >= 32. */
size_t gen_time_v1(char *buf, int64_t epoch_s);

#endif
