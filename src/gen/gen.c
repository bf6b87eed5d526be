/*
 * gen: the generator's state and its one loop step, gen_next(): draw the
 * kind, advance the clock and the id, pick an author, write the text, decide
 * retweet/reply, then hand the post to its shape writer.
 *
 * Ids are Twitter snowflakes ((ms since 2010-11-04) << 22 | worker << 12 |
 * sequence) on a clock that starts at a seed-derived instant in 2018-2022
 * and advances 0-199 ms per post, so ids rise strictly and agree with
 * created_at, as real ones do. Retweeted and replied-to posts get earlier
 * snowflakes.
 *
 * Thread-safety: a gen is one thread's. Memory: the struct, a 1 KB text and
 * a scratch jbuf that grows to one user object.
 */
#include <stdlib.h>

#include "gen/gen_int.h"

#define GEN_TWEPOCH_MS 1288834974657ll
#define GEN_AUTHOR_POOL (1u << 20)

void gen_options_default(gen_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->seed = 1;
    opt->shape = GEN_SHAPE_TWITTER_V2;
    opt->mention_rate = 0.05;
    opt->complaint_share = 0.45;
    opt->praise_share = 0.20;
    opt->question_share = 0.20;
    opt->spam_rate = 0.01;
    opt->malformed_rate = 0;
    opt->target_bytes = 750;
}

static double gen_clamp01(double v)
{
    return v > 0.0 ? (v < 1.0 ? v : 1.0) : 0.0; /* NaN lands on 0 */
}

gen *gen_new(const gen_options *opt)
{
    gen *g = calloc(1, sizeof(*g));
    gen_rng seeder;
    double c;

    if (!g)
        return NULL;
    if (opt)
        g->opt = *opt;
    else
        gen_options_default(&g->opt);
    if ((unsigned)g->opt.shape > GEN_SHAPE_MIX)
        g->opt.shape = GEN_SHAPE_TWITTER_V2;

    /* Rates are shares of all posts, taken in this order; whatever does not
     * fit under 1 is squeezed out of the later ones. */
    c = gen_clamp01(g->opt.malformed_rate);
    g->thr_malformed = gen_prob(c);
    c = gen_clamp01(c + gen_clamp01(g->opt.spam_rate));
    g->thr_spam = gen_prob(c);
    c = gen_clamp01(c + gen_clamp01(g->opt.mention_rate));
    g->thr_mention = gen_prob(c);
    c = gen_clamp01(g->opt.complaint_share);
    g->thr_complaint = gen_prob(c);
    c = gen_clamp01(c + gen_clamp01(g->opt.praise_share));
    g->thr_praise = gen_prob(c);
    c = gen_clamp01(c + gen_clamp01(g->opt.question_share));
    g->thr_question = gen_prob(c);

    seeder.s = g->opt.seed;
    g->rng.s = gen_rng_next(&seeder);
    g->author_salt = gen_rng_next(&seeder);
    g->spam_salt = gen_rng_next(&seeder);
    /* 2018-01-01 plus up to five years. */
    g->now_ms = (1514764800ll + (int64_t)(gen_rng_next(&seeder) % (5ull * 365 * 86400))) * 1000;
    g->last_ms = -1;
    g->worker = (uint32_t)(gen_rng_next(&seeder) & 0x3ff);
    jbuf_init(&g->scratch);
    return g;
}

void gen_free(gen *g)
{
    if (!g)
        return;
    jbuf_free(&g->scratch);
    free(g);
}

const char *gen_kind_name(gen_kind kind)
{
    switch (kind) {
    case GEN_KIND_CHATTER: return "chatter";
    case GEN_KIND_COMPLAINT: return "complaint";
    case GEN_KIND_PRAISE: return "praise";
    case GEN_KIND_QUESTION: return "question";
    case GEN_KIND_MENTION: return "mention";
    case GEN_KIND_SPAM: return "spam";
    case GEN_KIND_MALFORMED: return "malformed";
    }
    return "unknown";
}

/* Engagement grows with reach, loosely: most posts get nothing. */
static void gen_metrics(gen_rng *r, gen_post *p)
{
    int64_t f = p->author.followers;
    uint64_t cap = 1 + (uint64_t)f / 40;

    p->likes = 0;
    if (gen_rng_below(r, 4)) {
        /* One draw per statement: C leaves the order of operands open, and
         * the bytes must not depend on the compiler. */
        uint64_t a = gen_rng_next(r) % cap;
        uint64_t b = gen_rng_next(r) % cap;
        p->likes = (int64_t)(a * b / cap);
    }
    p->retweets = p->likes / (2 + gen_rng_below(r, 8));
    p->replies = p->likes / (3 + gen_rng_below(r, 12));
    p->replies += gen_rng_below(r, 2);
    p->quotes = p->retweets / (4 + gen_rng_below(r, 8));
    p->bookmarks = p->likes / (5 + gen_rng_below(r, 20));
    p->impressions = f / (2 + gen_rng_below(r, 30)) + p->likes * 12;
    p->impressions += gen_rng_below(r, 40);
}

void gen_post_build(gen *g, gen_kind kind, gen_shape shape, bool plain, gen_post *p)
{
    gen_rng *r = &g->rng;
    gen_text *t = &g->text;
    uint32_t u;

    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->text = t;
    p->salt = gen_rng_next(r);

    /* The clock and the snowflake. */
    g->now_ms += gen_rng_below(r, 200);
    if (g->now_ms == g->last_ms) {
        if (++g->seq > 0xfff) {
            g->now_ms++;
            g->seq = 0;
        }
    } else {
        g->seq = 0;
    }
    g->last_ms = g->now_ms;
    p->ms = g->now_ms;
    p->id = ((uint64_t)(p->ms - GEN_TWEPOCH_MS) << 22) | ((uint64_t)g->worker << 12) | g->seq;

    if (kind == GEN_KIND_SPAM) {
        /* Spam comes from fresh accounts that follow many and are followed
         * by few. */
        gen_author_make(g->spam_salt, gen_rng_below(r, 4096), &p->author);
        p->author.followers = gen_rng_below(r, 60);
        p->author.following = 2000 + gen_rng_below(r, 3000);
        p->author.verified = false;
        p->author.lang = GEN_LANG_EN;
        p->author.created_s = p->ms / 1000 - 86400 * (int64_t)(1 + gen_rng_below(r, 60));
        p->author.id = ((uint64_t)(p->author.created_s * 1000 - GEN_TWEPOCH_MS) << 22) |
                       (p->author.id & 0x3fffff);
    } else {
        gen_author_make(g->author_salt, gen_rng_below(r, GEN_AUTHOR_POOL), &p->author);
    }

    gen_text_build(r, kind, p->author.lang, t);
    gen_metrics(r, p);
    p->source = gen_rng_below(r, 8);
    p->platform = gen_rng_below(r, 3);

    u = gen_rng_below(r, 100);
    if (plain)
        u = 100;
    if (u < 35) {
        p->ref_ms = p->ms - 1000 - (int64_t)gen_rng_below(r, 3u * 86400u * 1000u);
        p->ref_id = ((uint64_t)(p->ref_ms - GEN_TWEPOCH_MS) << 22) | (gen_rng_next(r) & 0x3fffff);
        gen_author_make(g->author_salt, gen_rng_below(r, GEN_AUTHOR_POOL), &p->ref_author);
    }
    if (u < 15) {
        p->is_rt = true;
        if (shape != GEN_SHAPE_GENERIC &&
            gen_text_prefix(t, "RT @", 4, p->ref_author.username, p->ref_author.username_len,
                            ": ", 2))
            p->body_off = 4 + (size_t)p->ref_author.username_len + 2;
    } else if (u < 35) {
        p->is_reply = true;
        if (t->brand >= 0 && kind != GEN_KIND_SPAM && gen_rng_below(r, 10) < 6) {
            p->ref_is_brand = true;
            p->ref_brand = t->brand;
        }
        if (shape != GEN_SHAPE_GENERIC || p->platform == 1) {
            const char *h = p->ref_is_brand ? gen_brand_handle(p->ref_brand) : p->ref_author.username;
            gen_text_prefix(t, "@", 1, h, strlen(h), " ", 1);
        }
    }
}

gen_shape gen_pick_shape(gen *g)
{
    uint32_t u;

    if (g->opt.shape != GEN_SHAPE_MIX)
        return g->opt.shape;
    /* The mix of a care team's inputs: mostly Twitter v2, some v1.1
     * archives, some comments from elsewhere. */
    u = gen_rng_below(&g->rng, 10);
    return u < 6 ? GEN_SHAPE_TWITTER_V2 : u < 8 ? GEN_SHAPE_TWITTER_V1 : GEN_SHAPE_GENERIC;
}

int gen_write_post(gen *g, const gen_post *p, gen_shape shape, jbuf *out)
{
    switch (shape) {
    case GEN_SHAPE_TWITTER_V1: return gen_write_v1(g, p, out);
    case GEN_SHAPE_GENERIC: return gen_write_generic(g, p, out);
    default: return gen_write_v2(g, p, out);
    }
}

gen_kind gen_next(gen *g, jbuf *out)
{
    size_t start = out->len;
    uint64_t u = gen_rng_next(&g->rng) >> 11;
    gen_kind kind;
    gen_shape shape;
    gen_post p;

    if (u < g->thr_malformed) {
        if (gen_write_malformed(g, out))
            out->len = start;
        return GEN_KIND_MALFORMED;
    }
    if (u < g->thr_spam) {
        kind = GEN_KIND_SPAM;
    } else if (u < g->thr_mention) {
        uint64_t v = gen_rng_next(&g->rng) >> 11;
        kind = v < g->thr_complaint ? GEN_KIND_COMPLAINT
             : v < g->thr_praise    ? GEN_KIND_PRAISE
             : v < g->thr_question  ? GEN_KIND_QUESTION
                                    : GEN_KIND_MENTION;
    } else {
        kind = GEN_KIND_CHATTER;
    }
    shape = gen_pick_shape(g);
    gen_post_build(g, kind, shape, false, &p);
    if (gen_write_post(g, &p, shape, out))
        out->len = start; /* out of memory: leave nothing half-written */
    return kind;
}
