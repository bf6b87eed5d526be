/*
 * Unit tests for src/gen: determinism, validity of every shape (checked with
 * jansson and with earshot's own post parser), the configured proportions,
 * the size target, ids and clocks, entity offsets, and that every malformed
 * line is one the parser rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/base_time.h"
#include "gen/gen.h"
#include "gen/gen_int.h"
#include "post/post.h"
#include "text/text.h"

/* FNV-1a of test_pinned_output's bytes; update only with a deliberate change
 * of the corpus or the shapes, and say so in the commit. */
#define GEN_PINNED_HASH 0x5997d4cfe17c65cdull

static gen *new_gen(uint64_t seed, gen_shape shape, double malformed)
{
    gen_options o;
    gen *g;

    gen_options_default(&o);
    o.seed = seed;
    o.shape = shape;
    o.malformed_rate = malformed;
    g = gen_new(&o);
    assert_non_null(g);
    return g;
}

/* n posts as JSON lines into b. */
static void gen_lines(gen *g, size_t n, jbuf *b)
{
    for (size_t i = 0; i < n; i++) {
        gen_next(g, b);
        assert_int_equal(jbuf_raw(b, "\n", 1), 0);
    }
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t json_depth(const json_t *v)
{
    size_t d = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            size_t e = json_depth(x);
            if (e > d)
                d = e;
        }
        return d + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            size_t e = json_depth(x);
            if (e > d)
                d = e;
        }
        return d + 1;
    }
    return 0;
}

/* The text of a post in any of the three shapes, or NULL. */
static const char *json_text(json_t *root, size_t *len)
{
    json_t *t = NULL, *data = json_object_get(root, "data");

    if (data)
        t = json_object_get(data, "text");
    else if ((t = json_object_get(root, "extended_tweet")))
        t = json_object_get(t, "full_text");
    if (!t)
        t = json_object_get(root, "text");
    if (!t)
        t = json_object_get(root, "full_text");
    if (!json_is_string(t))
        return NULL;
    *len = json_string_length(t);
    return json_string_value(t);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(gen_kind_name(GEN_KIND_CHATTER), "chatter");
    assert_string_equal(gen_kind_name(GEN_KIND_COMPLAINT), "complaint");
    assert_string_equal(gen_kind_name(GEN_KIND_PRAISE), "praise");
    assert_string_equal(gen_kind_name(GEN_KIND_QUESTION), "question");
    assert_string_equal(gen_kind_name(GEN_KIND_MENTION), "mention");
    assert_string_equal(gen_kind_name(GEN_KIND_SPAM), "spam");
    assert_string_equal(gen_kind_name(GEN_KIND_MALFORMED), "malformed");
}

static void test_defaults(void **state)
{
    gen_options o;
    (void)state;
    gen_options_default(&o);
    assert_int_equal(o.seed, 1);
    assert_int_equal(o.shape, GEN_SHAPE_TWITTER_V2);
    assert_true(o.mention_rate == 0.05);
    assert_true(o.complaint_share == 0.45);
    assert_true(o.praise_share == 0.20);
    assert_true(o.question_share == 0.20);
    assert_true(o.spam_rate == 0.01);
    assert_true(o.malformed_rate == 0.0);
    assert_int_equal(o.target_bytes, 750);
}

static void test_time_formats(void **state)
{
    char buf[40];
    (void)state;
    assert_int_equal(gen_time_v1(buf, 1539202764), 30);
    assert_memory_equal(buf, "Wed Oct 10 20:19:24 +0000 2018", 30);
    assert_int_equal(gen_time_v1(buf, 0), 30);
    assert_memory_equal(buf, "Thu Jan 01 00:00:00 +0000 1970", 30);
    assert_int_equal(gen_u64_dec(buf, 18446744073709551615ull), 20);
    assert_memory_equal(buf, "18446744073709551615", 20);
    assert_int_equal(gen_u64_dec(buf, 0), 1);
    assert_memory_equal(buf, "0", 1);
}

/* Same seed and options: the same bytes, every shape, malformed included. */
static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    for (int shape = 0; shape <= GEN_SHAPE_MIX; shape++) {
        gen *a = new_gen(42, (gen_shape)shape, 0.05), *b = new_gen(42, (gen_shape)shape, 0.05);
        jbuf ba, bb;
        jbuf_init(&ba);
        jbuf_init(&bb);
        gen_lines(a, 5000, &ba);
        gen_lines(b, 5000, &bb);
        assert_int_equal(ba.len, bb.len);
        assert_memory_equal(ba.data, bb.data, ba.len);
        jbuf_free(&ba);
        jbuf_free(&bb);
        gen_free(a);
        gen_free(b);
    }
}

/* The first 1000 posts of seed 7 in the mix, pinned: a change here means
 * the output is no longer what it was on another machine or build. */
static void test_pinned_output(void **state)
{
    gen *g = new_gen(7, GEN_SHAPE_MIX, 0.02);
    jbuf b;
    (void)state;
    jbuf_init(&b);
    gen_lines(g, 1000, &b);
    if (getenv("GEN_PRINT_HASH"))
        fprintf(stderr, "pinned: len %zu hash 0x%016llxull\n", b.len,
                (unsigned long long)fnv1a(b.data, b.len));
    assert_int_equal(fnv1a(b.data, b.len), GEN_PINNED_HASH);
    jbuf_free(&b);
    gen_free(g);
}

static void test_different_seeds_differ(void **state)
{
    gen *a = new_gen(1, GEN_SHAPE_TWITTER_V2, 0), *b = new_gen(2, GEN_SHAPE_TWITTER_V2, 0);
    jbuf ba, bb;
    size_t same = 0;
    (void)state;
    jbuf_init(&ba);
    jbuf_init(&bb);
    for (int i = 0; i < 1000; i++) {
        jbuf_reset(&ba);
        jbuf_reset(&bb);
        gen_next(a, &ba);
        gen_next(b, &bb);
        same += ba.len == bb.len && !memcmp(ba.data, bb.data, ba.len);
    }
    assert_int_equal(same, 0);
    jbuf_free(&ba);
    jbuf_free(&bb);
    gen_free(a);
    gen_free(b);
}

/* Every well-formed line is a JSON object that jansson loads and earshot's
 * parser accepts with the same text; every malformed line is rejected. */
static void check_shape(gen_shape shape, size_t n, size_t *by_shape)
{
    gen *g = new_gen(11, shape, 0.1);
    post_parser *pp = post_parser_new(NULL);
    jbuf b;
    size_t malformed = 0, bad_json = 0, not_object = 0, no_text = 0, deep = 0;
    char err[256];

    assert_non_null(pp);
    jbuf_init(&b);
    for (size_t i = 0; i < n; i++) {
        gen_kind kind;
        json_error_t je;
        json_t *root;
        post p;
        int prc;

        jbuf_reset(&b);
        kind = gen_next(g, &b);
        assert_true(b.len > 0);
        assert_null(memchr(b.data, '\n', b.len));
        assert_null(memchr(b.data, '\0', b.len));
        assert_null(memchr(b.data, '\r', b.len));
        root = json_loadb(b.data, b.len, 0, &je);
        prc = post_parse(pp, b.data, b.len, &p, err, sizeof(err));
        if (kind == GEN_KIND_MALFORMED) {
            malformed++;
            if (prc == 0)
                fail_msg("malformed line accepted by post_parse: %.*s", (int)b.len, b.data);
            if (!root) {
                bad_json++;
            } else {
                size_t tl;
                if (!json_is_object(root))
                    not_object++;
                else if (json_depth(root) > POST_DEFAULT_MAX_DEPTH)
                    deep++;
                else if (!json_text(root, &tl))
                    no_text++;
                else
                    fail_msg("malformed line is a valid post: %.*s", (int)b.len, b.data);
                json_decref(root);
            }
            continue;
        }
        if (!root)
            fail_msg("invalid JSON (%s at %d): %.*s", je.text, je.position, (int)b.len, b.data);
        if (prc != 0)
            fail_msg("post_parse rejected a good post (%s): %.*s", err, (int)b.len, b.data);
        assert_true(json_is_object(root));
        assert_true(text_utf8_valid(p.text.ptr, p.text.len));
        assert_true(p.text.len > 0);
        assert_true(p.created_at_epoch > 1167609600); /* after 2007 */
        assert_true(p.id.len > 0);
        if (json_object_get(root, "data")) {
            size_t tl;
            const char *t = json_text(root, &tl);
            json_t *u = json_array_get(json_object_get(json_object_get(root, "includes"), "users"), 0);
            assert_non_null(t);
            assert_int_equal(tl, p.text.len);
            assert_memory_equal(t, p.text.ptr, tl);
            assert_int_equal(p.shape, POST_SHAPE_TWITTER_V2);
            assert_int_equal(p.followers, json_integer_value(json_object_get(
                json_object_get(u, "public_metrics"), "followers_count")));
            by_shape[0]++;
        } else if (json_object_get(root, "id_str")) {
            assert_int_equal(p.shape, POST_SHAPE_TWITTER_V1);
            assert_int_equal(p.followers, json_integer_value(json_object_get(
                json_object_get(root, "user"), "followers_count")));
            assert_int_equal(p.is_retweet, json_object_get(root, "retweeted_status") != NULL);
            by_shape[1]++;
        } else {
            const char *pl = json_string_value(json_object_get(root, "platform"));
            assert_non_null(pl);
            assert_true(!strcmp(pl, "facebook") || !strcmp(pl, "youtube") || !strcmp(pl, "blog"));
            assert_int_equal(p.shape, POST_SHAPE_GENERIC);
            assert_int_equal(p.followers, json_integer_value(json_object_get(
                json_object_get(root, "author"), "followers")));
            by_shape[2]++;
        }
        json_decref(root);
    }
    /* 10% of n malformed, and each damage shows up. */
    assert_in_range(malformed, n / 10 - n / 50, n / 10 + n / 50);
    assert_true(bad_json > malformed / 4);
    assert_true(not_object > malformed / 20);
    assert_true(no_text > malformed / 20);
    assert_true(deep > malformed / 20);
    jbuf_free(&b);
    post_parser_free(pp);
    gen_free(g);
}

static void test_shapes_valid(void **state)
{
    (void)state;
    for (int shape = 0; shape < GEN_SHAPE_MIX; shape++) {
        size_t by[3] = {0, 0, 0};
        check_shape((gen_shape)shape, 6000, by);
        /* Only the asked-for shape appears. */
        for (int s = 0; s < 3; s++)
            if (s == shape)
                assert_true(by[s] > 5000);
            else
                assert_int_equal(by[s], 0);
    }
}

static void test_mix_shapes(void **state)
{
    size_t by[3] = {0, 0, 0}, total;
    (void)state;
    check_shape(GEN_SHAPE_MIX, 20000, by);
    total = by[0] + by[1] + by[2];
    /* 60/20/20, within 2 points. */
    assert_in_range(by[0] * 100 / total, 58, 62);
    assert_in_range(by[1] * 100 / total, 18, 22);
    assert_in_range(by[2] * 100 / total, 18, 22);
}

static void test_kind_proportions(void **state)
{
    gen_options o;
    gen *g;
    jbuf b;
    size_t count[GEN_KIND_MALFORMED + 1] = {0}, n = 100000;
    (void)state;

    gen_options_default(&o);
    o.seed = 99;
    o.mention_rate = 0.10;
    o.spam_rate = 0.02;
    o.malformed_rate = 0.03;
    g = gen_new(&o);
    assert_non_null(g);
    jbuf_init(&b);
    for (size_t i = 0; i < n; i++) {
        jbuf_reset(&b);
        count[gen_next(g, &b)]++;
    }
    /* Tolerances are ~5 standard deviations of a binomial draw. */
    assert_in_range(count[GEN_KIND_MALFORMED], 3000 - 270, 3000 + 270);
    assert_in_range(count[GEN_KIND_SPAM], 2000 - 220, 2000 + 220);
    assert_in_range(count[GEN_KIND_COMPLAINT], 4500 - 330, 4500 + 330);
    assert_in_range(count[GEN_KIND_PRAISE], 2000 - 220, 2000 + 220);
    assert_in_range(count[GEN_KIND_QUESTION], 2000 - 220, 2000 + 220);
    assert_in_range(count[GEN_KIND_MENTION], 1500 - 200, 1500 + 200);
    assert_in_range(count[GEN_KIND_CHATTER], 85000 - 600, 85000 + 600);
    jbuf_free(&b);
    gen_free(g);

    /* Zero rates: nothing but chatter. */
    gen_options_default(&o);
    o.mention_rate = 0;
    o.spam_rate = 0;
    g = gen_new(&o);
    jbuf_init(&b);
    for (size_t i = 0; i < 10000; i++) {
        jbuf_reset(&b);
        assert_int_equal(gen_next(g, &b), GEN_KIND_CHATTER);
    }
    jbuf_free(&b);
    gen_free(g);
}

/* Brand posts name a brand; chatter never names one unambiguously (its
 * near-misses use words like "sprint" or "gm", not these). */
static void test_chatter_names_no_brand(void **state)
{
    static const char *const brands[] = {
        "comcast", "xfinity", "dellcares", "zappos", "t-mobile", "tmobile", "t mobile",
        "sprintcare", "jetblue", "southwest air", "h&r block", "hrblock", "pizza hut",
        "pizzahut", "general motors", "@gm ",
    };
    gen_options o;
    gen *g;
    jbuf b;
    gen_text t;
    (void)state;

    gen_options_default(&o);
    o.mention_rate = 0.3;
    g = gen_new(&o);
    assert_non_null(g);
    jbuf_init(&b);
    for (int i = 0; i < 20000; i++) {
        gen_kind kind;
        jbuf_reset(&b);
        kind = gen_next(g, &b);
        if (kind != GEN_KIND_CHATTER)
            continue;
        /* g->text holds the text just written */
        t = g->text;
        t.buf[t.len] = '\0';
        for (size_t k = 0; k < sizeof(brands) / sizeof(brands[0]); k++)
            if (strcasestr(t.buf, brands[k]))
                fail_msg("chatter names %s: %s", brands[k], t.buf);
        assert_int_equal(t.brand, -1);
    }
    jbuf_free(&b);
    gen_free(g);
}

/* Retweets ~15%, replies ~20%, heavy-tailed followers, ~2% verified,
 * strictly increasing ids and a clock that never goes back. */
static void test_population(void **state)
{
    gen *g = new_gen(5, GEN_SHAPE_TWITTER_V2, 0);
    jbuf b;
    size_t n = 20000, rt = 0, reply = 0, verified = 0, under500 = 0, over10k = 0;
    uint64_t last_id = 0;
    char last_time[32] = "";
    (void)state;

    jbuf_init(&b);
    for (size_t i = 0; i < n; i++) {
        json_t *root, *data, *user, *refs;
        uint64_t id;
        json_int_t followers;
        const char *type, *created;

        jbuf_reset(&b);
        gen_next(g, &b);
        root = json_loadb(b.data, b.len, 0, NULL);
        assert_non_null(root);
        data = json_object_get(root, "data");
        user = json_array_get(json_object_get(json_object_get(root, "includes"), "users"), 0);
        id = strtoull(json_string_value(json_object_get(data, "id")), NULL, 10);
        assert_true(id > last_id);
        last_id = id;
        created = json_string_value(json_object_get(data, "created_at"));
        assert_int_equal(strlen(created), 24);
        assert_true(strcmp(created, last_time) >= 0);
        strcpy(last_time, created);
        refs = json_object_get(data, "referenced_tweets");
        if (refs) {
            type = json_string_value(json_object_get(json_array_get(refs, 0), "type"));
            if (!strcmp(type, "retweeted"))
                rt++;
            else if (!strcmp(type, "replied_to"))
                reply++;
            else
                fail_msg("referenced tweet type %s", type);
        }
        assert_string_equal(json_string_value(json_object_get(data, "author_id")),
                            json_string_value(json_object_get(user, "id")));
        if (json_object_get(user, "created_at")) {
            /* Nobody posts before their account exists; snowflake user ids
             * carry the account's creation time. */
            const char *uc = json_string_value(json_object_get(user, "created_at"));
            uint64_t uid = strtoull(json_string_value(json_object_get(user, "id")), NULL, 10);
            assert_true(strcmp(uc, created) < 0);
            if (uid > (1ull << 40)) {
                char iso[32];
                base_time_iso8601(iso, (int64_t)(((uid >> 22) + 1288834974657ull) / 1000), 0);
                assert_memory_equal(iso, uc, 19);
            }
        }
        followers = json_integer_value(json_object_get(json_object_get(user, "public_metrics"),
                                                       "followers_count"));
        under500 += followers < 500;
        over10k += followers >= 10000;
        verified += json_is_true(json_object_get(user, "verified"));
        json_decref(root);
    }
    assert_in_range(rt * 1000 / n, 140, 160);
    assert_in_range(reply * 1000 / n, 190, 210);
    assert_in_range(under500 * 100 / n, 50, 65);
    assert_in_range(over10k * 1000 / n, 60, 110);
    assert_in_range(verified * 1000 / n, 13, 30);
    jbuf_free(&b);
    gen_free(g);
}

/* Average v2 size within 15% of the target, at the default and larger. */
static void check_size(size_t target)
{
    gen_options o;
    gen *g;
    jbuf b;
    size_t n = 5000, total = 0;

    gen_options_default(&o);
    o.target_bytes = target;
    g = gen_new(&o);
    assert_non_null(g);
    jbuf_init(&b);
    for (size_t i = 0; i < n; i++) {
        jbuf_reset(&b);
        gen_next(g, &b);
        total += b.len;
    }
    assert_in_range(total / n, target * 85 / 100, target * 115 / 100);
    jbuf_free(&b);
    gen_free(g);
}

static void test_v2_size(void **state)
{
    (void)state;
    check_size(750);
    check_size(1000);
    check_size(2000);
}

/* Entity offsets are code points into the text and point at what they name. */
static void test_entities(void **state)
{
    gen_options o;
    gen *g;
    jbuf b;
    size_t checked = 0;
    (void)state;

    gen_options_default(&o);
    o.mention_rate = 0.5;
    g = gen_new(&o);
    assert_non_null(g);
    jbuf_init(&b);
    for (int i = 0; i < 3000; i++) {
        json_t *root, *data, *ents, *m;
        const char *text;
        size_t tl, k;

        jbuf_reset(&b);
        gen_next(g, &b);
        root = json_loadb(b.data, b.len, 0, NULL);
        assert_non_null(root);
        data = json_object_get(root, "data");
        text = json_text(root, &tl);
        ents = json_object_get(json_object_get(data, "entities"), "mentions");
        json_array_foreach(ents, k, m) {
            size_t start = (size_t)json_integer_value(json_object_get(m, "start"));
            size_t end = (size_t)json_integer_value(json_object_get(m, "end"));
            const char *user = json_string_value(json_object_get(m, "username"));
            size_t cp = 0, bs = (size_t)-1, be = (size_t)-1;
            for (size_t j = 0; j <= tl; j++) {
                if (j == tl || ((unsigned char)text[j] & 0xC0) != 0x80) {
                    if (cp == start)
                        bs = j;
                    if (cp == end)
                        be = j;
                    cp++;
                }
            }
            assert_true(bs < be && be <= tl);
            assert_int_equal(be - bs, strlen(user) + 1);
            assert_int_equal(text[bs], '@');
            assert_memory_equal(text + bs + 1, user, strlen(user));
            checked++;
        }
        json_decref(root);
    }
    assert_true(checked > 300);
    jbuf_free(&b);
    gen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_pinned_output),
        cmocka_unit_test(test_different_seeds_differ),
        cmocka_unit_test(test_shapes_valid),
        cmocka_unit_test(test_mix_shapes),
        cmocka_unit_test(test_kind_proportions),
        cmocka_unit_test(test_chatter_names_no_brand),
        cmocka_unit_test(test_population),
        cmocka_unit_test(test_v2_size),
        cmocka_unit_test(test_entities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
