/*
 * gen_shape: one post as JSON in the three shapes earshot reads.
 *
 * Twitter API v2 and v1.1 objects carry the fields those APIs really send
 * (entities with code-point offsets, public metrics, the author object, the
 * client, edit history), so a ~750-byte post is ~750 bytes of what a parser
 * meets in the field, not padding. The size target is met by choosing which
 * optional fields to send and, for v2, by context_annotations, the topic
 * labels Twitter attaches to posts; one is added while the post is still
 * short of the target by more than half an annotation.
 *
 * Cost: a few hundred appends per post into a reused buffer; free text goes
 * through jbuf_str, identifiers and numbers are written directly.
 */
#include "gen/gen_int.h"

/* ---- authors ---- */

static const char *const gen_clients[] = {
    "Twitter for iPhone", "Twitter for iPhone", "Twitter for iPhone",
    "Twitter for Android", "Twitter for Android", "Twitter Web App",
    "TweetDeck", "Hootsuite Inc.",
};
static const char *const gen_client_urls[] = {
    "http://twitter.com/download/iphone", "http://twitter.com/download/iphone",
    "http://twitter.com/download/iphone", "http://twitter.com/download/android",
    "http://twitter.com/download/android", "https://mobile.twitter.com",
    "https://about.twitter.com/products/tweetdeck", "https://www.hootsuite.com",
};

static int gw_avatar(jbuf *b, const gen_author *a, const char *size)
{
    static const char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    gen_rng r = {a->seed ^ 0xa0761d6478bd642full};
    char code[8];
    int rc = 0;

    for (int i = 0; i < 8; i++)
        code[i] = alnum[gen_rng_below(&r, 62)];
    rc |= GW(b, "\"https://pbs.twimg.com/profile_images/");
    rc |= gw_u64(b, (gen_rng_next(&r) >> 4) % 900000000000000000ull + 100000000000000000ull);
    rc |= GW(b, "/");
    rc |= gw_raw(b, code, 8);
    rc |= gw_raw(b, size, strlen(size));
    rc |= GW(b, ".jpg\"");
    return rc;
}

/* The core of the v2 user object, left open for the optional fields. */
static int gw_user_v2_core(jbuf *b, const gen_author *a)
{
    int rc = 0;

    rc |= GW(b, "{\"id\":");
    rc |= gw_qu64(b, a->id);
    rc |= GW(b, ",\"name\":");
    rc |= jbuf_str(b, a->name, a->name_len);
    rc |= GW(b, ",\"username\":");
    rc |= gw_qraw(b, a->username, a->username_len);
    rc |= GW(b, ",\"verified\":");
    rc |= a->verified ? GW(b, "true") : GW(b, "false");
    rc |= GW(b, ",\"public_metrics\":{\"followers_count\":");
    rc |= gw_u64(b, (uint64_t)a->followers);
    rc |= GW(b, ",\"following_count\":");
    rc |= gw_u64(b, (uint64_t)a->following);
    rc |= GW(b, ",\"tweet_count\":");
    rc |= gw_u64(b, (uint64_t)a->posts);
    rc |= GW(b, ",\"listed_count\":");
    rc |= gw_u64(b, (uint64_t)a->listed);
    rc |= GW(b, "}");
    return rc;
}

typedef struct gen_annotation {
    const char *domain_id, *domain, *domain_desc;
    const char *entity_id, *entity;
} gen_annotation;

static const gen_annotation gen_annotations[] = {
    {"45", "Brand Vertical", "Top level entities that describe a Brands industry",
     "781974596165640193", "Technology"},
    {"46", "Brand Category", "Categories within Brand Verticals that narrow down the scope of Brands",
     "781974596752842752", "Services"},
    {"47", "Brand", "Brands and Companies", "10026364281", "Netflix"},
    {"131", "Unified Twitter Taxonomy", "A taxonomy view into the Twitter interests graph",
     "1280230838285111296", "Customer service"},
    {"66", "Interests and Hobbies Category", "A grouping of interests and hobbies entities, like Novelty Food or Destinations",
     "847528391163092993", "Food"},
    {"65", "Interests and Hobbies Vertical", "Top level interests and hobbies groupings, like Food or Travel",
     "834828264786898945", "Travel"},
    {"30", "Entities [Entity Service]", "Entity Service top level domain, every item that is in Entity Service should be in this domain",
     "848920371311001600", "Technology"},
    {"11", "Sport", "Types of sports, like soccer and basketball",
     "847900493514891265", "Basketball"},
    {"54", "Musician", "A musician that can be followed on Twitter",
     "1187049236457979904", "Music"},
};

static int gw_annotation(jbuf *b, const gen_annotation *an, int brand)
{
    int rc = 0;

    rc |= GW(b, "{\"domain\":{\"id\":\"");
    rc |= gw_raw(b, an->domain_id, strlen(an->domain_id));
    rc |= GW(b, "\",\"name\":\"");
    rc |= gw_raw(b, an->domain, strlen(an->domain));
    rc |= GW(b, "\",\"description\":\"");
    rc |= gw_raw(b, an->domain_desc, strlen(an->domain_desc));
    rc |= GW(b, "\"},\"entity\":{\"id\":\"");
    if (brand >= 0 && !strcmp(an->domain_id, "47")) {
        rc |= gw_u64(b, 10040000000ull + gen_brand_user_id(brand));
        rc |= GW(b, "\",\"name\":");
        rc |= jbuf_str(b, gen_brand_name(brand), strlen(gen_brand_name(brand)));
    } else {
        rc |= gw_raw(b, an->entity_id, strlen(an->entity_id));
        rc |= GW(b, "\",\"name\":\"");
        rc |= gw_raw(b, an->entity, strlen(an->entity));
        rc |= GW(b, "\"");
    }
    rc |= GW(b, "}}");
    return rc;
}

/* ---- Twitter API v2 ---- */

/* A v2 request names the fields it wants (tweet.fields, user.fields), so
 * which optional fields a post carries is the client's choice; here the
 * size target makes it. Each optional field is taken, in the order clients
 * usually ask for them, while the post is short of the target by at least
 * half the field's size. */
typedef struct gen_budget {
    int64_t target;
    int64_t used;
} gen_budget;

static bool gen_budget_take(gen_budget *bu, int64_t size)
{
    if (2 * (bu->target - bu->used) < size)
        return false;
    bu->used += size;
    return true;
}

int gen_write_v2(gen *g, const gen_post *p, jbuf *out)
{
    const gen_text *t = p->text;
    gen_ent ents[GEN_MAX_ENTS];
    size_t nents = gen_entities(t->buf, t->len, ents);
    size_t start = out->len, mark;
    gen_budget bu = {(int64_t)g->opt.target_bytes, 0};
    jbuf *u = &g->scratch;
    const char *loc = gen_author_location(&p->author);
    int rc = 0;

    rc |= GW(out, "{\"data\":{\"id\":");
    rc |= gw_qu64(out, p->id);
    if (!p->omit_text) {
        rc |= GW(out, ",\"text\":");
        rc |= gw_text(out, p, t->buf, t->len);
    }
    rc |= GW(out, ",\"author_id\":");
    rc |= gw_qu64(out, p->author.id);
    rc |= GW(out, ",\"created_at\":");
    rc |= gw_iso(out, p->ms, true);
    rc |= GW(out, ",\"lang\":\"");
    rc |= gw_raw(out, gen_lang_code(t->lang), strlen(gen_lang_code(t->lang)));
    rc |= GW(out, "\",\"conversation_id\":");
    rc |= gw_qu64(out, p->is_reply ? p->ref_id : p->id);
    if (p->is_reply) {
        rc |= GW(out, ",\"in_reply_to_user_id\":");
        rc |= gw_qu64(out, p->ref_is_brand ? gen_brand_user_id(p->ref_brand) : p->ref_author.id);
    }
    if (p->is_rt || p->is_reply) {
        rc |= p->is_rt ? GW(out, ",\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":")
                       : GW(out, ",\"referenced_tweets\":[{\"type\":\"replied_to\",\"id\":");
        rc |= gw_qu64(out, p->ref_id);
        rc |= GW(out, "}]");
    }
    rc |= GW(out, ",\"public_metrics\":{\"retweet_count\":");
    rc |= gw_u64(out, (uint64_t)p->retweets);
    rc |= GW(out, ",\"reply_count\":");
    rc |= gw_u64(out, (uint64_t)p->replies);
    rc |= GW(out, ",\"like_count\":");
    rc |= gw_u64(out, (uint64_t)p->likes);
    rc |= GW(out, ",\"quote_count\":");
    rc |= gw_u64(out, (uint64_t)p->quotes);
    rc |= GW(out, ",\"bookmark_count\":");
    rc |= gw_u64(out, (uint64_t)p->bookmarks);
    rc |= GW(out, ",\"impression_count\":");
    rc |= gw_u64(out, (uint64_t)p->impressions);
    rc |= GW(out, "}");
    rc |= gw_entities_v2(out, ents, nents);

    /* The author goes to scratch: it is copied in after the data object,
     * and meanwhile its optional fields are decided together with the
     * data's. 28 bytes: the wrapper around the user and the closing braces. */
    jbuf_reset(u);
    rc |= gw_user_v2_core(u, &p->author);
    bu.used = (int64_t)(out->len - start) + (int64_t)u->len + 28;

    if (gen_budget_take(&bu, 43)) {
        rc |= GW(u, ",\"created_at\":");
        rc |= gw_iso(u, p->author.created_s * 1000, true);
    }
    if (gen_budget_take(&bu, 49)) {
        rc |= GW(out, ",\"edit_history_tweet_ids\":[");
        rc |= gw_qu64(out, p->id);
        rc |= GW(out, "]");
    }
    if (gen_budget_take(&bu, 12 + (int64_t)strlen(gen_clients[p->source]))) {
        rc |= GW(out, ",\"source\":\"");
        rc |= gw_raw(out, gen_clients[p->source], strlen(gen_clients[p->source]));
        rc |= GW(out, "\"");
    }
    if (bu.target - bu.used > 40) {
        char bio[200];
        size_t bio_len = gen_author_bio(&p->author, bio, sizeof(bio),
                                        (size_t)(bu.target - bu.used - 18));
        mark = u->len;
        rc |= GW(u, ",\"description\":");
        rc |= jbuf_str(u, bio, bio_len);
        bu.used += (int64_t)(u->len - mark);
    }
    if (*loc && gen_budget_take(&bu, 16 + (int64_t)strlen(loc))) {
        rc |= GW(u, ",\"location\":");
        rc |= jbuf_str(u, loc, strlen(loc));
    }
    if (gen_budget_take(&bu, 56))
        rc |= GW(out, ",\"possibly_sensitive\":false,\"reply_settings\":\"everyone\"");
    if (gen_budget_take(&bu, 33))
        rc |= GW(u, ",\"protected\":false");
    if (gen_budget_take(&bu, 119)) {
        rc |= GW(u, ",\"profile_image_url\":");
        rc |= gw_avatar(u, &p->author, "_normal");
    }

    {
        gen_rng r = {p->salt};
        bool first = true;
        size_t a0 = gen_rng_below(&r, (uint32_t)GEN_NELEM(gen_annotations));
        for (size_t i = 0; i < 64 && bu.used < bu.target; i++) {
            int64_t size;
            mark = out->len;
            rc |= first ? GW(out, ",\"context_annotations\":[") : GW(out, ",");
            rc |= gw_annotation(out, &gen_annotations[(a0 + i) % GEN_NELEM(gen_annotations)],
                                t->brand);
            size = (int64_t)(out->len - mark) + (first ? 1 : 0);
            if (size > 2 * (bu.target - bu.used)) {
                out->len = mark; /* would overshoot by more than it helps */
                break;
            }
            bu.used += size;
            first = false;
        }
        if (!first)
            rc |= GW(out, "]");
    }

    rc |= GW(u, "}");
    rc |= GW(out, "},\"includes\":{\"users\":[");
    rc |= gw_raw(out, u->data, u->len);
    rc |= GW(out, "]}}");
    return rc ? -1 : 0;
}

/* ---- Twitter v1.1 ---- */

static int gw_user_v1(jbuf *b, const gen_author *a, int64_t budget)
{
    char bio[200];
    size_t bio_len;
    const char *loc = gen_author_location(a);
    int rc = 0;

    rc |= GW(b, "{\"id\":");
    rc |= gw_u64(b, a->id);
    rc |= GW(b, ",\"id_str\":");
    rc |= gw_qu64(b, a->id);
    rc |= GW(b, ",\"name\":");
    rc |= jbuf_str(b, a->name, a->name_len);
    rc |= GW(b, ",\"screen_name\":");
    rc |= gw_qraw(b, a->username, a->username_len);
    rc |= GW(b, ",\"location\":");
    rc |= jbuf_str(b, loc, strlen(loc));
    if (budget > 20) {
        bio_len = gen_author_bio(a, bio, sizeof(bio), (size_t)(budget - 18));
        rc |= GW(b, ",\"description\":");
        rc |= jbuf_str(b, bio, bio_len);
        budget -= 18 + (int64_t)bio_len;
    }
    rc |= GW(b, ",\"url\":null,\"protected\":false,\"verified\":");
    rc |= a->verified ? GW(b, "true") : GW(b, "false");
    rc |= GW(b, ",\"followers_count\":");
    rc |= gw_u64(b, (uint64_t)a->followers);
    rc |= GW(b, ",\"friends_count\":");
    rc |= gw_u64(b, (uint64_t)a->following);
    rc |= GW(b, ",\"listed_count\":");
    rc |= gw_u64(b, (uint64_t)a->listed);
    rc |= GW(b, ",\"favourites_count\":");
    rc |= gw_u64(b, (uint64_t)a->likes);
    rc |= GW(b, ",\"statuses_count\":");
    rc |= gw_u64(b, (uint64_t)a->posts);
    rc |= GW(b, ",\"created_at\":");
    rc |= gw_v1time(b, a->created_s);
    if (budget >= 130) {
        rc |= GW(b, ",\"profile_image_url_https\":");
        rc |= gw_avatar(b, a, "_normal");
    }
    rc |= GW(b, ",\"default_profile\":false,\"lang\":null}");
    return rc;
}

/* Cut s to at most max code points, on a code point boundary. */
static size_t gen_cut_cp(const char *s, size_t n, size_t max)
{
    size_t i = 0, cp = 0;
    while (i < n) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cp == max)
                return i;
            cp++;
        }
        i++;
    }
    return n;
}

static size_t gen_count_cp(const char *s, size_t n)
{
    size_t cp = 0;
    for (size_t i = 0; i < n; i++)
        cp += ((unsigned char)s[i] & 0xC0) != 0x80;
    return cp;
}

/* The tweet fields shared by a v1.1 tweet and its retweeted_status; the
 * caller writes the opening brace and what comes after "lang". */
static int gw_tweet_v1(gen *g, const gen_post *p, jbuf *b, uint64_t id, int64_t ms,
                       const gen_author *a, const char *s, size_t n, bool top,
                       bool rest_style, int64_t user_budget)
{
    gen_ent ents[GEN_MAX_ENTS];
    size_t nents, cps = gen_count_cp(s, n);
    int rc = 0;

    rc |= GW(b, "\"created_at\":");
    rc |= gw_v1time(b, ms / 1000);
    rc |= GW(b, ",\"id\":");
    rc |= gw_u64(b, id);
    rc |= GW(b, ",\"id_str\":");
    rc |= gw_qu64(b, id);
    if (p->omit_text && top) {
        /* malformed: no text at all */
    } else if (rest_style) {
        /* REST with tweet_mode=extended: always the whole text. */
        rc |= GW(b, ",\"full_text\":");
        rc |= gw_text(b, p, s, n);
        rc |= GW(b, ",\"truncated\":false,\"display_text_range\":[0,");
        rc |= gw_u64(b, cps);
        rc |= GW(b, "]");
    } else if (cps <= 140) {
        rc |= GW(b, ",\"text\":");
        rc |= gw_text(b, p, s, n);
        rc |= GW(b, ",\"truncated\":false");
    } else {
        /* Streaming: text is cut at 140 with an ellipsis, the whole text
         * sits in extended_tweet. */
        size_t cut = gen_cut_cp(s, n, 138);
        rc |= GW(b, ",\"text\":");
        rc |= jbuf_str(b, s, cut);
        b->len--; /* reopen the string to append the ellipsis */
        rc |= GW(b, "\xe2\x80\xa6\",\"truncated\":true,\"extended_tweet\":{\"full_text\":");
        rc |= gw_text(b, p, s, n);
        rc |= GW(b, ",\"display_text_range\":[0,");
        rc |= gw_u64(b, cps);
        rc |= GW(b, "]}");
    }
    rc |= GW(b, ",\"source\":\"<a href=\\\"");
    rc |= gw_raw(b, gen_client_urls[p->source], strlen(gen_client_urls[p->source]));
    rc |= GW(b, "\\\" rel=\\\"nofollow\\\">");
    rc |= gw_raw(b, gen_clients[p->source], strlen(gen_clients[p->source]));
    rc |= GW(b, "</a>\"");
    if (top && p->is_reply) {
        const char *sn = p->ref_is_brand ? gen_brand_handle(p->ref_brand) : p->ref_author.username;
        uint64_t uid = p->ref_is_brand ? gen_brand_user_id(p->ref_brand) : p->ref_author.id;
        rc |= GW(b, ",\"in_reply_to_status_id\":");
        rc |= gw_u64(b, p->ref_id);
        rc |= GW(b, ",\"in_reply_to_status_id_str\":");
        rc |= gw_qu64(b, p->ref_id);
        rc |= GW(b, ",\"in_reply_to_user_id\":");
        rc |= gw_u64(b, uid);
        rc |= GW(b, ",\"in_reply_to_user_id_str\":");
        rc |= gw_qu64(b, uid);
        rc |= GW(b, ",\"in_reply_to_screen_name\":");
        rc |= gw_qraw(b, sn, strlen(sn));
    } else {
        rc |= GW(b, ",\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,"
                    "\"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,"
                    "\"in_reply_to_screen_name\":null");
    }
    rc |= GW(b, ",\"user\":");
    rc |= gw_user_v1(b, a, user_budget);
    rc |= GW(b, ",\"geo\":null,\"coordinates\":null,\"place\":null,\"contributors\":null,"
                "\"is_quote_status\":false,\"quote_count\":");
    rc |= gw_u64(b, (uint64_t)p->quotes);
    rc |= GW(b, ",\"reply_count\":");
    rc |= gw_u64(b, (uint64_t)p->replies);
    rc |= GW(b, ",\"retweet_count\":");
    rc |= gw_u64(b, top && p->is_rt ? 0 : (uint64_t)p->retweets);
    rc |= GW(b, ",\"favorite_count\":");
    rc |= gw_u64(b, top && p->is_rt ? 0 : (uint64_t)p->likes);
    rc |= GW(b, ",");
    nents = gen_entities(s, n, ents);
    rc |= gw_entities_v1(b, ents, nents);
    rc |= GW(b, ",\"favorited\":false,\"retweeted\":false,\"lang\":\"");
    rc |= gw_raw(b, gen_lang_code(p->text->lang), strlen(gen_lang_code(p->text->lang)));
    rc |= GW(b, "\"");
    (void)g;
    return rc;
}

int gen_write_v1(gen *g, const gen_post *p, jbuf *out)
{
    const gen_text *t = p->text;
    gen_rng r = {p->salt ^ 0x9e3779b9ull};
    bool rest_style = gen_rng_below(&r, 5) == 0;
    /* v1.1 has no field selection: every tweet carries the whole user
     * (bio, avatar), ~1.3 KB in all, so target_bytes is not applied. */
    int64_t budget = 400;
    int rc = 0;

    rc |= GW(out, "{");
    if (p->is_rt) {
        /* The top-level text of a retweet is "RT @x: " and the original,
         * itself cut to 140; the original tweet rides along whole. */
        rc |= gw_tweet_v1(g, p, out, p->id, p->ms, &p->author, t->buf,
                          gen_cut_cp(t->buf, t->len, 140), true, false, budget);
        rc |= GW(out, ",\"retweeted_status\":{");
        rc |= gw_tweet_v1(g, p, out, p->ref_id, p->ref_ms, &p->ref_author,
                          t->buf + p->body_off, t->len - p->body_off, false, rest_style, budget);
        rc |= GW(out, "}");
    } else {
        rc |= gw_tweet_v1(g, p, out, p->id, p->ms, &p->author, t->buf, t->len, true,
                          rest_style, budget);
    }
    rc |= GW(out, ",\"filter_level\":\"low\",\"timestamp_ms\":\"");
    rc |= gw_u64(out, (uint64_t)p->ms);
    rc |= GW(out, "\"}");
    return rc ? -1 : 0;
}

/* ---- generic (Facebook, YouTube, blog comments) ---- */

static const char *const gen_platforms[] = {"facebook", "youtube", "blog"};

int gen_write_generic(gen *g, const gen_post *p, jbuf *out)
{
    static const char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const gen_text *t = p->text;
    gen_rng r = {p->salt ^ 0x7f4a7c15ull};
    char code[26], handle[40];
    size_t hn;
    int rc = 0;

    for (size_t i = 0; i < sizeof(code); i++)
        code[i] = alnum[gen_rng_below(&r, 64)];
    /* Facebook names read "jenny.kowalski"; elsewhere the username. */
    hn = p->author.username_len;
    memcpy(handle, p->author.username, hn);
    if (p->platform == 0)
        for (size_t i = 0; i < hn; i++)
            if (handle[i] == '_')
                handle[i] = '.';

    rc |= GW(out, "{\"id\":\"");
    switch (p->platform) {
    case 0:
        rc |= gw_u64(out, 100000000000000ull + (p->id >> 22) % 900000000000000ull);
        rc |= GW(out, "_");
        rc |= gw_u64(out, p->id & 0xffffffffffull);
        break;
    case 1:
        rc |= GW(out, "Ugz");
        rc |= gw_raw(out, code, 23);
        break;
    default:
        rc |= GW(out, "comment-");
        rc |= gw_u64(out, p->id % 100000000ull);
        break;
    }
    rc |= GW(out, "\",\"platform\":\"");
    rc |= gw_raw(out, gen_platforms[p->platform], strlen(gen_platforms[p->platform]));
    rc |= GW(out, "\"");
    if (!p->omit_text) {
        rc |= GW(out, ",\"text\":");
        rc |= gw_text(out, p, t->buf, t->len);
    }
    rc |= GW(out, ",\"lang\":\"");
    rc |= gw_raw(out, gen_lang_code(t->lang), strlen(gen_lang_code(t->lang)));
    rc |= GW(out, "\",\"created_at\":");
    rc |= gw_iso(out, p->ms, false);
    rc |= GW(out, ",\"author\":{\"handle\":");
    rc |= gw_qraw(out, handle, hn);
    rc |= GW(out, ",\"name\":");
    rc |= jbuf_str(out, p->author.name, p->author.name_len);
    rc |= GW(out, ",\"followers\":");
    rc |= gw_u64(out, (uint64_t)p->author.followers);
    rc |= GW(out, ",\"verified\":");
    rc |= p->author.verified ? GW(out, "true") : GW(out, "false");
    rc |= GW(out, "}");
    if (p->is_reply) {
        rc |= GW(out, ",\"reply_to\":\"");
        rc |= gw_u64(out, p->ref_id % 1000000000000ull);
        rc |= GW(out, "\"");
    }
    rc |= GW(out, ",\"is_retweet\":");
    rc |= p->is_rt ? GW(out, "true") : GW(out, "false");
    switch (p->platform) {
    case 0:
        rc |= GW(out, ",\"url\":\"https://www.facebook.com/");
        rc |= t->brand >= 0 ? gw_raw(out, gen_brand_handle(t->brand), strlen(gen_brand_handle(t->brand)))
                            : gw_raw(out, handle, hn);
        rc |= GW(out, "/posts/");
        rc |= gw_u64(out, (p->id >> 8) % 10000000000000000ull);
        rc |= GW(out, "\",\"reactions\":");
        break;
    case 1:
        rc |= GW(out, ",\"video_id\":\"");
        rc |= gw_raw(out, code + 12, 11);
        rc |= GW(out, "\",\"url\":\"https://www.youtube.com/watch?v=");
        rc |= gw_raw(out, code + 12, 11);
        rc |= GW(out, "&lc=Ugz");
        rc |= gw_raw(out, code, 23);
        rc |= GW(out, "\",\"likes\":");
        break;
    default:
        rc |= GW(out, ",\"url\":\"https://community.example.com/t/");
        rc |= gw_u64(out, p->id % 100000000ull);
        rc |= GW(out, "\",\"likes\":");
        break;
    }
    rc |= gw_u64(out, (uint64_t)p->likes);
    rc |= GW(out, "}");
    (void)g;
    return rc ? -1 : 0;
}
