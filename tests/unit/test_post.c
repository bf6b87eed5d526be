/*
 * Unit tests for src/post: shape detection, field extraction with exact
 * values, every rejection reason, limits, Unicode and escapes, dates, and a
 * random-mutation robustness loop over the sample posts.
 *
 * Inputs are always copied into a malloc'd buffer of exactly their length,
 * so an ASan build catches any read past buf[len].
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "post/post.h"
#include "post/post_date.h"

#define SAMPLES EARSHOT_SOURCE_DIR "/tests/data/posts/"

/* ---- helpers ------------------------------------------------------------ */

static char last_err[256];

/* Parses exactly len bytes held in a fresh allocation of that size. */
static int parse_n(post_parser *pp, const char *json, size_t len, post *out) {
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, json, len);
    last_err[0] = '\0';
    int rc = post_parse(pp, copy, len, out, last_err, sizeof last_err);
    /* views into the caller's buffer would dangle here; the contract allows
     * it, but this parser never does it (it copies), so prove that too */
    if (rc == 0) {
        memset(copy, '#', len);
        if (out->text.len)
            assert_true(out->text.ptr < copy || out->text.ptr >= copy + len);
    }
    free(copy);
    return rc;
}

static int parse_s(post_parser *pp, const char *json, post *out) {
    return parse_n(pp, json, strlen(json), out);
}

#define assert_view(v, want)                                                   \
    do {                                                                       \
        strview v_ = (v);                                                      \
        const char *w_ = (want);                                               \
        if (v_.len != strlen(w_) || (v_.len && memcmp(v_.ptr, w_, v_.len))) \
            fail_msg("%s = \"%.*s\" (%zu B), want \"%s\" (%zu B)", #v,         \
                     (int)v_.len, v_.ptr ? v_.ptr : "", v_.len, w_,            \
                     strlen(w_));                                              \
    } while (0)

/* Parse must fail with exactly this reason. */
static void assert_reject(post_parser *pp, const char *json, size_t len,
                          const char *reason) {
    post p;
    if (parse_n(pp, json, len, &p) == 0)
        fail_msg("accepted %.*s, want \"%s\"", (int)(len > 120 ? 120 : len),
                 json, reason);
    if (strcmp(last_err, reason) != 0)
        fail_msg("%.*s: reason \"%s\", want \"%s\"", (int)(len > 120 ? 120 : len),
                 json, last_err, reason);
}

static void assert_reject_s(post_parser *pp, const char *json, const char *reason) {
    assert_reject(pp, json, strlen(json), reason);
}

/* Line n (1-based) of a sample file, malloc'd, without its newline. */
static char *sample_line(const char *file, int n, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, SAMPLES "%s", file);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = -1;
    for (int i = 0; i < n; i++) {
        got = getline(&line, &cap, f);
        if (got < 0)
            fail_msg("%s has no line %d", path, n);
    }
    fclose(f);
    if (got > 0 && line[got - 1] == '\n')
        got--;
    *len = (size_t)got;
    return line;
}

static void parse_sample(post_parser *pp, const char *file, int n, post *out) {
    size_t len;
    char *line = sample_line(file, n, &len);
    /* the parser copies, so the views outlive the line until the next parse */
    if (parse_n(pp, line, len, out) != 0)
        fail_msg("%s:%d rejected: %s", file, n, last_err);
    free(line);
}

static int setup(void **state) {
    *state = post_parser_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    post_parser_free(*state);
    return 0;
}

/* ---- samples: each shape, exact fields -------------------------------- */

static void test_twitter_v2_samples(void **state) {
    post_parser *pp = *state;
    post p;

    parse_sample(pp, "twitter_v2.jsonl", 1, &p);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V2);
    assert_view(p.id, "1785312345678901234");
    assert_view(p.platform, "twitter");
    assert_view(p.text, "@comcastcares on hold for an hour and still no internet. "
                        "worst automated customer service ever!!!!!!!!");
    /* author is the second user: matched by id, not position */
    assert_view(p.handle, "dana_k_dev");
    assert_int_equal(p.followers, 1337);
    assert_false(p.verified);
    assert_view(p.lang, "en");
    assert_view(p.created_at, "2024-05-01T12:34:56Z");
    assert_int_equal(p.created_at_epoch, 1714566896);
    assert_true(p.has_created_at);
    assert_false(p.is_retweet);
    assert_false(p.is_reply);

    /* includes before data, note_tweet preferred, retweet */
    parse_sample(pp, "twitter_v2.jsonl", 2, &p);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V2);
    assert_view(p.id, "1785399999999999999");
    assert_view(p.text, "RT @JetBlue: Flight 1234 to BOS delayed 3 hours, and the crew "
                        "was amazing about it. Thanks @JetBlue, A+ service even on a "
                        "bad day \xE2\x9C\x88\xEF\xB8\x8F\xF0\x9F\x92\x99");
    assert_view(p.handle, "frequentflyer_amy");
    assert_int_equal(p.followers, 45210);
    assert_view(p.created_at, "2024-05-02T08:00:01Z");
    assert_int_equal(p.created_at_epoch, 1714636801);
    assert_true(p.has_created_at);
    assert_true(p.is_retweet);
    assert_false(p.is_reply);

    /* reply (after a "quoted" reference), Spanish */
    parse_sample(pp, "twitter_v2.jsonl", 3, &p);
    assert_view(p.id, "1785422222222222222");
    assert_view(p.text, "@TMobile \xC2\xBFpor qu\xC3\xA9 me cobraron dos veces este mes? "
                        "Necesito un reembolso YA");
    assert_view(p.handle, "lucia_mx");
    assert_int_equal(p.followers, 87);
    assert_view(p.lang, "es");
    assert_int_equal(p.created_at_epoch, 1714770900);
    assert_true(p.has_created_at);
    assert_false(p.is_retweet);
    assert_true(p.is_reply);

    /* no includes: author unknown */
    parse_sample(pp, "twitter_v2.jsonl", 4, &p);
    assert_view(p.id, "1785433333333333333");
    assert_view(p.handle, "");
    assert_int_equal(p.followers, 0);
    assert_false(p.verified);
}

static void test_twitter_v1_samples(void **state) {
    post_parser *pp = *state;
    post p;

    parse_sample(pp, "twitter_v1.jsonl", 1, &p);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V1);
    assert_view(p.id, "1050118621198921728");
    assert_view(p.platform, "twitter");
    assert_view(p.text, "bad customer service is my pet peeve. UGH! @comcast wasted 2 "
                        "1/2 hours of my life");
    assert_view(p.handle, "philly_phil");
    assert_int_equal(p.followers, 1523);
    assert_false(p.verified);
    assert_view(p.lang, "en");
    assert_view(p.created_at, "2018-10-10T20:19:24Z");
    assert_int_equal(p.created_at_epoch, 1539202764);
    assert_true(p.has_created_at);
    assert_false(p.is_retweet);
    assert_false(p.is_reply); /* in_reply_to_status_id(_str) are null */

    /* extended_tweet.full_text wins over the truncated text; a reply */
    parse_sample(pp, "twitter_v1.jsonl", 2, &p);
    assert_view(p.id, "1786000000000000001");
    assert_view(p.text, "@DellCares my XPS has been \"in repair\" for 3 weeks. Third time "
                        "I call, third different answer. This is not OK.\nCase #12345");
    assert_view(p.handle, "xps_owner");
    assert_int_equal(p.followers, 640);
    assert_view(p.created_at, "2024-05-02T23:59:59Z");
    assert_int_equal(p.created_at_epoch, 1714694399);
    assert_true(p.has_created_at);
    assert_false(p.is_retweet);
    assert_true(p.is_reply);

    /* retweet: the root's fields, not retweeted_status's */
    parse_sample(pp, "twitter_v1.jsonl", 3, &p);
    assert_view(p.id, "1786000000000000002");
    assert_view(p.text, "RT @SouthwestAir: We hear you. DM us your confirmation number "
                        "and we'll make it right.");
    assert_view(p.handle, "travel_news");
    assert_int_equal(p.followers, 98000);
    assert_true(p.verified);
    assert_true(p.is_retweet);
    assert_false(p.is_reply);

    /* numeric id only (beyond 2^53: must be the exact digits), +0200 */
    parse_sample(pp, "twitter_v1.jsonl", 4, &p);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V1);
    assert_view(p.id, "1786000000000000003");
    assert_view(p.handle, "tmo_fan");
    assert_int_equal(p.followers, 12);
    assert_view(p.created_at, "2024-05-03T23:30:00Z");
    assert_int_equal(p.created_at_epoch, 1714779000);
    assert_true(p.has_created_at);
}

static void test_generic_samples(void **state) {
    post_parser *pp = *state;
    post p;

    parse_sample(pp, "generic.jsonl", 1, &p);
    assert_int_equal(p.shape, POST_SHAPE_GENERIC);
    assert_view(p.id, "fb_10158877665544332_10158877999");
    assert_view(p.platform, "facebook");
    assert_view(p.text, "Comcast outage in our whole neighborhood since 6am, nobody "
                        "answers the phone. Cancelling tomorrow.");
    assert_view(p.handle, "maria.lopez.5");
    assert_int_equal(p.followers, 340);
    assert_false(p.verified);
    assert_view(p.lang, "en");
    assert_view(p.created_at, "2024-05-01T14:02:11Z");
    assert_int_equal(p.created_at_epoch, 1714572131);
    assert_true(p.has_created_at);
    assert_false(p.is_retweet);
    assert_false(p.is_reply); /* reply_to: null */

    /* '@' stripped, +02:00 with fraction, reply_to a string */
    parse_sample(pp, "generic.jsonl", 2, &p);
    assert_view(p.platform, "youtube");
    assert_view(p.handle, "TechWithTom");
    assert_int_equal(p.followers, 250000);
    assert_true(p.verified);
    assert_view(p.created_at, "2024-05-02T07:15:00Z");
    assert_int_equal(p.created_at_epoch, 1714634100);
    assert_true(p.has_created_at);
    assert_true(p.is_reply);

    /* numeric id, negative followers, is_retweet, +00:00, no lang */
    parse_sample(pp, "generic.jsonl", 3, &p);
    assert_view(p.id, "98765432109876");
    assert_view(p.platform, "blog");
    assert_int_equal(p.followers, 0);
    assert_true(p.is_retweet);
    assert_view(p.lang, "");
    assert_view(p.created_at, "2024-05-03T18:00:00Z");
    assert_int_equal(p.created_at_epoch, 1714759200);
    assert_true(p.has_created_at);

    /* no platform, an unparseable date, followers/verified of wrong types */
    parse_sample(pp, "generic.jsonl", 4, &p);
    assert_view(p.platform, "unknown");
    assert_view(p.lang, "fr");
    assert_view(p.created_at, "");
    assert_false(p.has_created_at);
    assert_int_equal(p.followers, 0);
    assert_false(p.verified);
}

/* Every line of malformed.jsonl is refused, each for its own reason. */
static void test_malformed_samples(void **state) {
    post_parser *pp = *state;
    static const char *const want[] = {
        "not JSON: A string is opened, but never closed.",
        "not an object",
        "not an object",
        "no text",
        "no text",
        "not JSON: trailing content",
        "invalid UTF-8",
        "invalid UTF-8",
        "nested too deep",
        NULL, /* trailing comma: "not JSON: <simdjson's words>" */
        "not JSON: empty",
        "no text",
        "no text",
        "not an object",
        NULL, /* missing comma */
        "invalid UTF-8",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t len;
        char *line = sample_line("malformed.jsonl", (int)i + 1, &len);
        post p;
        if (parse_n(pp, line, len, &p) == 0)
            fail_msg("malformed.jsonl:%zu accepted", i + 1);
        if (want[i] ? strcmp(last_err, want[i]) != 0
                    : strncmp(last_err, "not JSON: ", 10) != 0)
            fail_msg("malformed.jsonl:%zu: \"%s\", want \"%s\"", i + 1, last_err,
                     want[i] ? want[i] : "not JSON: ...");
        free(line);
    }
}

/* ---- shape variants ----------------------------------------------------- */

static void test_v1_text_preference(void **state) {
    post_parser *pp = *state;
    post p;

    assert_int_equal(parse_s(pp, "{\"id_str\":\"1\",\"text\":\"short\"}", &p), 0);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V1);
    assert_view(p.text, "short");

    assert_int_equal(
        parse_s(pp, "{\"full_text\":\"full\",\"id_str\":\"1\",\"text\":\"short\"}", &p), 0);
    assert_view(p.text, "full");

    /* extended_tweet first in the document still wins */
    assert_int_equal(parse_s(pp,
                             "{\"extended_tweet\":{\"display_text_range\":[0,8],"
                             "\"full_text\":\"extended\"},\"full_text\":\"full\","
                             "\"text\":\"short\",\"id\":7}",
                             &p),
                     0);
    assert_view(p.text, "extended");
    assert_view(p.id, "7");

    /* an empty preferred text falls back to the next one */
    assert_int_equal(
        parse_s(pp, "{\"extended_tweet\":{\"full_text\":\"\"},\"text\":\"short\"}", &p), 0);
    assert_view(p.text, "short");

    /* id_str preferred over id, whatever the order */
    assert_int_equal(
        parse_s(pp, "{\"id_str\":\"99\",\"id\":12,\"text\":\"t\",\"user\":{}}", &p), 0);
    assert_view(p.id, "99");
    assert_int_equal(
        parse_s(pp, "{\"id\":12,\"id_str\":\"99\",\"text\":\"t\",\"user\":{}}", &p), 0);
    assert_view(p.id, "99");
}

static void test_v1_retweet_reply(void **state) {
    post_parser *pp = *state;
    post p;

    assert_int_equal(parse_s(pp,
                             "{\"id_str\":\"1\",\"text\":\"RT x\",\"retweeted_status\":"
                             "{\"text\":\"inner\",\"user\":{\"screen_name\":\"inner\","
                             "\"followers_count\":5}},\"user\":{\"screen_name\":\"outer\","
                             "\"followers_count\":9}}",
                             &p),
                     0);
    assert_true(p.is_retweet);
    assert_false(p.is_reply);
    assert_view(p.text, "RT x");
    assert_view(p.handle, "outer");
    assert_int_equal(p.followers, 9);

    assert_int_equal(parse_s(pp,
                             "{\"id_str\":\"1\",\"text\":\"t\",\"retweeted_status\":null,"
                             "\"in_reply_to_status_id\":1785999999999999999,"
                             "\"in_reply_to_status_id_str\":null}",
                             &p),
                     0);
    assert_false(p.is_retweet);
    assert_true(p.is_reply); /* either key non-null is enough */

    assert_int_equal(parse_s(pp,
                             "{\"id_str\":\"1\",\"text\":\"t\","
                             "\"in_reply_to_status_id_str\":\"42\"}",
                             &p),
                     0);
    assert_true(p.is_reply);
}

static void test_v1_user_fields(void **state) {
    post_parser *pp = *state;
    post p;
    assert_int_equal(parse_s(pp,
                             "{\"user\":{\"id\":1,\"screen_name\":\"ComcastCares\","
                             "\"verified\":true,\"followers_count\":215000,"
                             "\"entities\":{\"description\":{\"urls\":[]}}},"
                             "\"text\":\"Sorry to hear that, please DM us\"}",
                             &p),
                     0);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V1);
    assert_view(p.handle, "ComcastCares");
    assert_true(p.verified);
    assert_int_equal(p.followers, 215000);
    assert_view(p.id, "");
    assert_view(p.created_at, "");
    assert_false(p.has_created_at);
}

static void test_v2_author_matching(void **state) {
    post_parser *pp = *state;
    post p;

    /* includes first, author third */
    assert_int_equal(parse_s(pp,
                             "{\"includes\":{\"tweets\":[{\"id\":\"5\",\"text\":\"other\"}],"
                             "\"users\":[{\"id\":\"1\",\"username\":\"a\"},{\"id\":\"2\","
                             "\"username\":\"b\"},{\"username\":\"c\",\"verified\":true,"
                             "\"public_metrics\":{\"tweet_count\":3,\"followers_count\":77},"
                             "\"id\":\"3\"}]},\"data\":{\"author_id\":\"3\",\"text\":\"hi\","
                             "\"id\":\"10\"}}",
                             &p),
                     0);
    assert_int_equal(p.shape, POST_SHAPE_TWITTER_V2);
    assert_view(p.handle, "c");
    assert_true(p.verified);
    assert_int_equal(p.followers, 77);
    assert_view(p.text, "hi");
    assert_view(p.id, "10");
    assert_view(p.lang, "");
    assert_false(p.has_created_at);

    /* no match: first user */
    assert_int_equal(parse_s(pp,
                             "{\"data\":{\"author_id\":\"9\",\"text\":\"hi\"},\"includes\":"
                             "{\"users\":[{\"id\":\"1\",\"username\":\"first\","
                             "\"public_metrics\":{\"followers_count\":5}},{\"id\":\"2\","
                             "\"username\":\"second\"}]}}",
                             &p),
                     0);
    assert_view(p.handle, "first");
    assert_int_equal(p.followers, 5);

    /* empty users array: no author */
    assert_int_equal(
        parse_s(pp, "{\"data\":{\"author_id\":\"9\",\"text\":\"hi\"},\"includes\":{\"users\":[]}}",
                &p),
        0);
    assert_view(p.handle, "");

    /* note_tweet wins; root-level text and id are not v2 fields */
    assert_int_equal(parse_s(pp,
                             "{\"text\":\"root\",\"id\":\"r\",\"data\":{\"note_tweet\":"
                             "{\"text\":\"long form\"},\"text\":\"short\",\"id\":\"d\"}}",
                             &p),
                     0);
    assert_view(p.text, "long form");
    assert_view(p.id, "d");

    /* referenced_tweets: both flags, unknown types ignored */
    assert_int_equal(parse_s(pp,
                             "{\"data\":{\"text\":\"t\",\"referenced_tweets\":[{\"id\":\"1\","
                             "\"type\":\"quoted\"},{\"type\":\"replied_to\",\"id\":\"2\"},"
                             "{\"type\":\"retweeted\",\"id\":\"3\"}]}}",
                             &p),
                     0);
    assert_true(p.is_reply);
    assert_true(p.is_retweet);
    assert_int_equal(parse_s(pp,
                             "{\"data\":{\"text\":\"t\",\"referenced_tweets\":[{\"type\":"
                             "\"quoted\",\"id\":\"1\"}]}}",
                             &p),
                     0);
    assert_false(p.is_reply);
    assert_false(p.is_retweet);
}

/* url, conversation_id, reply_to: stated by the input or absent, never
 * guessed (post.h). */
static void test_links(void **state) {
    post_parser *pp = *state;
    post p;

    /* samples: v2 reply with a quote before it; the author matched by id */
    parse_sample(pp, "twitter_v2.jsonl", 1, &p);
    assert_view(p.url, "https://twitter.com/dana_k_dev/status/1785312345678901234");
    assert_view(p.conversation_id, "1785312345678901234");
    assert_view(p.reply_to, "");
    parse_sample(pp, "twitter_v2.jsonl", 3, &p);
    assert_view(p.reply_to, "1785411111111111111");
    parse_sample(pp, "twitter_v2.jsonl", 4, &p); /* no includes: no author */
    assert_view(p.url, "");
    parse_sample(pp, "twitter_v1.jsonl", 1, &p);
    assert_view(p.url, "https://twitter.com/philly_phil/status/1050118621198921728");
    assert_view(p.reply_to, ""); /* in_reply_to_status_id_str: null */
    parse_sample(pp, "twitter_v1.jsonl", 2, &p);
    assert_view(p.reply_to, "1785999999999999999");
    parse_sample(pp, "generic.jsonl", 1, &p);
    assert_view(p.url, "https://www.facebook.com/comcast/posts/10158877665544332");
    parse_sample(pp, "generic.jsonl", 2, &p);
    assert_view(p.reply_to, "UgwParentComment123");
    assert_view(p.url, "");

    /* v2: id before type in the reference; the first replied_to wins */
    assert_int_equal(parse_s(pp,
                             "{\"data\":{\"text\":\"t\",\"id\":\"7\",\"author_id\":\"1\","
                             "\"conversation_id\":\"5\",\"referenced_tweets\":[{\"id\":\"4\","
                             "\"type\":\"quoted\"},{\"id\":\"6\",\"type\":\"replied_to\"}]},"
                             "\"includes\":{\"users\":[{\"id\":\"1\",\"username\":\"a_b\"}]}}",
                             &p),
                     0);
    assert_view(p.url, "https://twitter.com/a_b/status/7");
    assert_view(p.conversation_id, "5");
    assert_view(p.reply_to, "6");
    /* v2 author not matched by author_id (first user guessed): no url */
    assert_int_equal(parse_s(pp,
                             "{\"data\":{\"text\":\"t\",\"id\":\"7\",\"author_id\":\"9\"},"
                             "\"includes\":{\"users\":[{\"id\":\"1\",\"username\":\"a\"}]}}",
                             &p),
                     0);
    assert_view(p.handle, "a");
    assert_view(p.url, "");
    /* v1.1: the integer id when _str is absent; a non-digit id: no url */
    assert_int_equal(parse_s(pp,
                             "{\"id_str\":\"x1\",\"text\":\"t\",\"user\":{\"screen_name\":"
                             "\"bob\"},\"in_reply_to_status_id\":123456789012345678901}",
                             &p),
                     0);
    assert_view(p.reply_to, "123456789012345678901");
    assert_true(p.is_reply);
    assert_view(p.url, "");
    /* a handle outside Twitter's alphabet: no url */
    assert_int_equal(parse_s(pp,
                             "{\"id_str\":\"12\",\"text\":\"t\",\"user\":{\"screen_name\":"
                             "\"b/../c\"}}",
                             &p),
                     0);
    assert_view(p.url, "");
    /* generic: integer reply_to and conversation_id; urls that are not
     * absolute http(s) are dropped */
    assert_int_equal(parse_s(pp,
                             "{\"id\":\"g\",\"text\":\"t\",\"reply_to\":42,"
                             "\"conversation_id\":41,\"url\":\"http://e.x/p?q=1\"}",
                             &p),
                     0);
    assert_view(p.reply_to, "42");
    assert_view(p.conversation_id, "41");
    assert_view(p.url, "http://e.x/p?q=1");
    static const char *const bad_urls[] = {"\"ftp://e.x/p\"", "\"/relative\"",
                                           "\"https://e.x/a b\"", "17", "null",
                                           "\"javascript:alert(1)\""};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"id\":\"g\",\"text\":\"t\",\"url\":%s}", bad_urls[i]);
        assert_int_equal(parse_s(pp, buf, &p), 0);
        assert_view(p.url, "");
    }
    /* reply_to as an object: still a reply, but no id to link to */
    assert_int_equal(parse_s(pp, "{\"id\":\"g\",\"text\":\"t\",\"reply_to\":{\"id\":\"1\"}}", &p),
                     0);
    assert_true(p.is_reply);
    assert_view(p.reply_to, "");
}

static void test_generic_fields(void **state) {
    post_parser *pp = *state;
    post p;

    assert_int_equal(parse_s(pp, "{\"id\":123456789012345678901234,\"text\":\"t\"}", &p), 0);
    assert_int_equal(p.shape, POST_SHAPE_GENERIC);
    assert_view(p.id, "123456789012345678901234"); /* digits kept even past 2^64 */
    assert_view(p.platform, "unknown");

    /* an integer is an id, a negative one too (kept as written) */
    assert_int_equal(parse_s(pp, "{\"id\":-3,\"text\":\"t\"}", &p), 0);
    assert_view(p.id, "-3");
    assert_int_equal(parse_s(pp, "{\"id\" : 42 ,\"text\":\"t\"}", &p), 0);
    assert_view(p.id, "42");

    /* ids that would all read as "" and share one de-duplication key */
    static const char *const bad_ids[] = {"null", "12.5", "1e9", "{\"n\":1}", "[1]", "true"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        static const char *const shapes[][2] = {
            {"{\"id\":", ",\"text\":\"t\"}"},
            {"{\"id_str\":", ",\"text\":\"t\",\"user\":{}}"},
            {"{\"id_str\":\"1\",\"id\":", ",\"text\":\"t\",\"user\":{}}"},
            {"{\"data\":{\"id\":", ",\"text\":\"t\"}}"},
        };
        for (size_t j = 0; j < sizeof shapes / sizeof shapes[0]; j++) {
            char json[128];
            snprintf(json, sizeof json, "%s%s%s", shapes[j][0], bad_ids[i], shapes[j][1]);
            assert_reject_s(pp, json, "id must be a string or an integer");
        }
    }
    /* an absent id is still allowed (generic channels without one) */
    assert_int_equal(parse_s(pp, "{\"text\":\"t\"}", &p), 0);
    assert_view(p.id, "");

    static const struct {
        const char *followers;
        int64_t want;
    } counts[] = {
        {"0", 0},
        {"17", 17},
        {"-5", 0},
        {"\"1200\"", 0},
        {"null", 0},
        {"true", 0},
        {"1.5e3", 1500},
        {"9223372036854775807", INT64_MAX},
        {"18446744073709551615", INT64_MAX},
        {"1e30", INT64_MAX},
        {"-1e30", 0},
        {"{\"n\":5}", 0},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"text\":\"t\",\"author\":{\"followers\":%s,\"handle\":\"h\"}}",
                 counts[i].followers);
        assert_int_equal(parse_s(pp, json, &p), 0);
        if (p.followers != counts[i].want)
            fail_msg("followers %s -> %lld, want %lld", counts[i].followers,
                     (long long)p.followers, (long long)counts[i].want);
        assert_view(p.handle, "h");
    }

    assert_int_equal(parse_s(pp,
                             "{\"platform\":\"facebook\",\"text\":\"t\",\"is_retweet\":true,"
                             "\"reply_to\":{\"id\":\"p1\"},\"author\":{\"handle\":\"@x\","
                             "\"verified\":true}}",
                             &p),
                     0);
    assert_view(p.platform, "facebook");
    assert_true(p.is_retweet);
    assert_true(p.is_reply);
    assert_true(p.verified);
    assert_view(p.handle, "x");

    assert_int_equal(parse_s(pp,
                             "{\"text\":\"t\",\"is_retweet\":\"yes\",\"reply_to\":null,"
                             "\"author\":{\"verified\":1}}",
                             &p),
                     0);
    assert_false(p.is_retweet);
    assert_false(p.is_reply);
    assert_false(p.verified);
}

/* Keys that only look like ours, nested ones, and values of the wrong type. */
static void test_unknown_and_nested_keys_ignored(void **state) {
    post_parser *pp = *state;
    post p;

    assert_int_equal(parse_s(pp,
                             "{\"texts\":\"no\",\"text_range\":[0,1],\"entities\":{\"text\":"
                             "\"nested\",\"user\":{\"screen_name\":\"nested\"}},\"t\":1,"
                             "\"text\":\"yes\",\"lang_guess\":\"xx\",\"platforms\":[\"a\"],"
                             "\"meta\":[{\"platform\":\"no\"},[[{}]],null,true,1.5e-3]}",
                             &p),
                     0);
    assert_int_equal(p.shape, POST_SHAPE_GENERIC);
    assert_view(p.text, "yes");
    assert_view(p.lang, "");
    assert_view(p.platform, "unknown");
    assert_view(p.handle, "");

    /* only keys like text_range present: no text */
    assert_reject_s(pp, "{\"texts\":\"a\",\"text_range\":\"b\",\"tex\":\"c\"}", "no text");

    /* wrong types read as missing */
    assert_int_equal(parse_s(pp,
                             "{\"text\":\"t\",\"lang\":5,\"platform\":[],\"created_at\":"
                             "1714566896,\"author\":\"someone\"}",
                             &p),
                     0);
    assert_view(p.lang, "");
    assert_view(p.platform, "unknown");
    assert_view(p.created_at, "");
    assert_false(p.has_created_at);

    /* "data" that is not an object does not make a v2 post */
    assert_int_equal(parse_s(pp, "{\"data\":\"x\",\"text\":\"t\"}", &p), 0);
    assert_int_equal(p.shape, POST_SHAPE_GENERIC);
}

/* ---- rejections --------------------------------------------------------- */

static void test_reject_reasons(void **state) {
    post_parser *pp = *state;
    assert_reject(pp, "", 0, "not JSON: empty");
    assert_reject_s(pp, " \n\t\r ", "not JSON: empty");
    assert_reject_s(pp, "[]", "not an object");
    assert_reject_s(pp, "42", "not an object");
    assert_reject_s(pp, "\"text\"", "not an object");
    assert_reject_s(pp, "{}", "no text");
    assert_reject_s(pp, "{\"text\":\"\"}", "no text");
    assert_reject_s(pp, "{\"text\":null}", "no text");
    assert_reject_s(pp, "{\"data\":{\"text\":\"\"}}", "no text");
    assert_reject_s(pp, "{\"text\":\"a\"}x", "not JSON: trailing content");
    assert_reject_s(pp, "{\"text\":\"a\"} {\"text\":\"b\"}", "not JSON: trailing content");
    assert_reject_s(pp, "{\"text\":\"a\"}}", "not JSON: trailing content");
    assert_reject_s(pp, "{\"text\":\"a\"} null", "not JSON: trailing content");
    assert_reject_s(pp, "{\"text\":\"a\\ud800\"}", "invalid UTF-8");

    /* not JSON: simdjson's message follows the prefix */
    static const char *const bad[] = {
        "{", "{\"text\":", "{\"text\":\"a\",}", "{\"text\" \"a\"}", "{text:\"a\"}",
        "{\"text\":\"a\\q\"}", "{\"text\":'a'}", "{\"text\":\"a\"\n",
        "{\"text\":\"line\nbreak\"}",
        /* found by fuzz_post: a bad value where a reply id is expected */
        "{\"text\":\"t\",\"in_reply_to_status_id\":&1}",
        "{\"text\":\"t\",\"retweeted_status\":&1}",
        "{\"text\":\"t\",\"reply_to\":&1}",
        "{\"text\":\"t\",\"id\":&1}",
        "{\"text\":\"t\",\"data\":&1}",
        "{\"text\":\"t\",\"user\":&1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        post p;
        if (parse_s(pp, bad[i], &p) == 0)
            fail_msg("accepted %s", bad[i]);
        if (strncmp(last_err, "not JSON: ", 10) != 0 || strlen(last_err) < 12)
            fail_msg("%s: reason \"%s\", want \"not JSON: ...\"", bad[i], last_err);
    }

    /* whitespace around the object is fine, a final newline too */
    post p;
    assert_int_equal(parse_s(pp, "\n  {\"text\":\"a\"}  \r\n", &p), 0);
    assert_view(p.text, "a");
}

/* Invalid UTF-8 anywhere rejects: in text, in keys, in skipped fields. */
static void test_reject_invalid_utf8_anywhere(void **state) {
    post_parser *pp = *state;
    static const char *const bad[] = {
        "{\"text\":\"caf\xE9\"}",                      /* Latin-1 byte */
        "{\"text\":\"ok\",\"skip\":\"\xC0\x80\"}",     /* overlong NUL, skipped field */
        "{\"text\":\"ok\",\"\xFF\":1}",                /* in a key */
        "{\"text\":\"ok\",\"a\":{\"b\":[\"\xED\xA0\x80\"]}}", /* UTF-8-encoded surrogate */
        "{\"text\":\"\xF4\x90\x80\x80\"}",             /* above U+10FFFF */
        "{\"text\":\"\xE2\x82\"}",                     /* truncated sequence */
        "{\"text\":\"ok\"}\xC3",                       /* after the object */
        "{\"text\":\"a\\udc00b\"}",                    /* lone low surrogate escape */
        "{\"text\":\"a\\uD800\\u0041\"}",              /* high surrogate, no low one */
        "{\"text\":\"a\\ud83d\"}",                     /* high surrogate at the end */
        "{\"user\":{\"screen_name\":\"\\udfff\"},\"text\":\"t\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_reject_s(pp, bad[i], "invalid UTF-8");

    /* escapes are checked in fields earshot skips too (issue 12 item 6) */
    assert_reject_s(pp, "{\"text\":\"ok\",\"skip\":\"\\ud800\"}", "invalid UTF-8");
    assert_reject_s(pp, "{\"text\":\"ok\",\"\\ud800\":1}", "invalid UTF-8");
    assert_reject_s(pp, "{\"text\":\"ok\",\"a\":{\"k\\udc00\":[1]}}", "invalid UTF-8");
}

/* Every accepted post is valid JSON, whatever field the error hides in:
 * fields earshot skips, fields of a type it ignores, nested objects and
 * arrays of each shape (issue 12 item 6). '@' in a template is replaced by
 * each bad value. */
static void test_reject_invalid_json_anywhere(void **state) {
    post_parser *pp = *state;
    static const char *const templates[] = {
        "{\"id\":\"b\",\"text\":\"Comcast is down\",\"x\":@}",
        "{\"x\":@,\"id\":\"b\",\"text\":\"Comcast is down\"}",
        "{\"text\":\"t\",\"x\":[1,{\"y\":[@]}]}",
        "{\"text\":\"t\",\"lang\":@}",
        "{\"text\":\"t\",\"created_at\":@}",
        "{\"text\":\"t\",\"platform\":@}",
        "{\"text\":\"t\",\"is_retweet\":@}",
        "{\"text\":\"t\",\"reply_to\":@}",
        "{\"text\":\"t\",\"author\":{\"followers\":@}}",
        "{\"text\":\"t\",\"author\":{\"verified\":@}}",
        "{\"text\":\"t\",\"author\":{\"handle\":@}}",
        "{\"text\":\"t\",\"author\":{\"x\":@}}",
        "{\"text\":\"t\",\"author\":@}",
        "{\"text\":\"t\",\"user\":{\"followers_count\":@}}",
        "{\"text\":\"t\",\"user\":{\"verified\":@,\"screen_name\":\"a\"}}",
        "{\"text\":\"t\",\"extended_tweet\":{\"x\":@}}",
        "{\"text\":\"t\",\"retweeted_status\":@}",
        "{\"text\":\"t\",\"in_reply_to_status_id\":@}",
        "{\"data\":{\"text\":\"t\",\"x\":@}}",
        "{\"data\":{\"text\":\"t\",\"note_tweet\":{\"x\":@}}}",
        "{\"data\":{\"text\":\"t\",\"referenced_tweets\":[{\"type\":@}]}}",
        "{\"data\":{\"text\":\"t\",\"referenced_tweets\":[@]}}",
        "{\"data\":{\"text\":\"t\"},\"includes\":{\"users\":[{\"id\":\"1\","
        "\"public_metrics\":{\"followers_count\":@}}]}}",
        "{\"data\":{\"text\":\"t\"},\"includes\":{\"users\":[{\"verified\":@}]}}",
        "{\"data\":{\"text\":\"t\"},\"includes\":{\"users\":[@]}}",
        "{\"data\":{\"text\":\"t\"},\"includes\":{\"x\":@}}",
    };
    static const struct {
        const char *value, *reason;
    } bad[] = {
        {"tru", "not JSON: Problem while parsing an atom starting with the letter 't'"},
        {"truex", "not JSON: Problem while parsing an atom starting with the letter 't'"},
        {"fals", "not JSON: Problem while parsing an atom starting with the letter 'f'"},
        {"nul", "not JSON: Problem while parsing an atom starting with the letter 'n'"},
        {"01", "not JSON: Problem while parsing a number"},
        {"-", "not JSON: Problem while parsing a number"},
        {"1.", "not JSON: Problem while parsing a number"},
        {"1e", "not JSON: Problem while parsing a number"},
        {"\"\\q\"", "not JSON: Problem while parsing a string"},
        {"\"\\u12\"", "not JSON: Problem while parsing a string"},
        {"\"\\ud800\"", "invalid UTF-8"},
        {"{\"\\ud800\":1}", "invalid UTF-8"},
        {"{\"k\\q\":1}", "not JSON: Problem while parsing a string"},
    };
    /* structure errors: simdjson's wording varies by where it notices */
    static const char *const bad_structure[] = {
        "[1,,2]", "[1,2,]", "[,1]", "{1:2}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\"}",
        "1 2",
    };
    char json[512];
    for (size_t t = 0; t < sizeof templates / sizeof templates[0]; t++) {
        const char *at = strchr(templates[t], '@');
        int pre = (int)(at - templates[t]);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            snprintf(json, sizeof json, "%.*s%s%s", pre, templates[t], bad[i].value, at + 1);
            assert_reject_s(pp, json, bad[i].reason);
        }
        for (size_t i = 0; i < sizeof bad_structure / sizeof bad_structure[0]; i++) {
            post p;
            snprintf(json, sizeof json, "%.*s%s%s", pre, templates[t], bad_structure[i], at + 1);
            if (parse_s(pp, json, &p) == 0)
                fail_msg("accepted %s", json);
            if (strncmp(last_err, "not JSON: ", 10) != 0)
                fail_msg("%s: reason \"%s\", want \"not JSON: ...\"", json, last_err);
        }
    }

    /* valid JSON earshot cannot represent is still valid: accepted */
    static const char *const good[] = {
        "123456789012345678901234567890", "1e400", "-0.5E+3", "-0", "[]", "{}",
        "\"\\ud83d\\ude00 \\n\\\"\\\\\\/\"", "{\"\\u00e9\":[true,false,null]}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        post p;
        snprintf(json, sizeof json, "{\"text\":\"t\",\"x\":%s,\"y\":[%s]}", good[i], good[i]);
        if (parse_s(pp, json, &p) != 0)
            fail_msg("rejected %s: %s", json, last_err);
    }
}

static void test_limits(void **state) {
    (void)state;
    post_limits lim = {.max_bytes = 40, .max_depth = 3};
    post_parser *pp = post_parser_new(&lim);
    assert_non_null(pp);
    post p;

    /* 40 bytes exactly passes, 41 does not */
    const char *at = "{\"text\":\"01234567890123456789012345678\"}";
    assert_int_equal(strlen(at), 40);
    assert_int_equal(parse_s(pp, at, &p), 0);
    assert_reject_s(pp, "{\"text\":\"012345678901234567890123456789\"}",
                    "too large: 41 bytes > limit 40");

    /* depth: root object is 1 */
    assert_int_equal(parse_s(pp, "{\"a\":[{}],\"text\":\"t\"}", &p), 0);
    assert_reject_s(pp, "{\"a\":[{\"b\":[]}],\"text\":\"t\"}", "nested too deep");
    /* brackets inside strings are not nesting */
    assert_int_equal(parse_s(pp, "{\"text\":\"[[[{{{\"}", &p), 0);
    assert_view(p.text, "[[[{{{");
    post_parser_free(pp);

    /* defaults: 64 deep passes, 65 does not; 65536 bytes */
    pp = post_parser_new(NULL);
    char *deep = malloc(POST_DEFAULT_MAX_BYTES + 2);
    for (int depth = 64; depth <= 65; depth++) {
        size_t n = 0;
        n += (size_t)sprintf(deep, "{\"text\":\"t\",\"x\":");
        for (int i = 1; i < depth; i++)
            deep[n++] = '[';
        for (int i = 1; i < depth; i++)
            deep[n++] = ']';
        deep[n++] = '}';
        if (depth == 64)
            assert_int_equal(parse_n(pp, deep, n, &p), 0);
        else
            assert_reject(pp, deep, n, "nested too deep");
    }
    /* 100k levels, never closed: still a clean rejection */
    memset(deep, '[', POST_DEFAULT_MAX_BYTES);
    deep[0] = '{';
    assert_reject(pp, deep, POST_DEFAULT_MAX_BYTES, "nested too deep");

    /* a post of exactly max_bytes is parsed (the padded buffer grows) */
    size_t n = (size_t)sprintf(deep, "{\"text\":\"");
    while (n < POST_DEFAULT_MAX_BYTES - 2)
        deep[n++] = 'a';
    deep[n++] = '"';
    deep[n++] = '}';
    assert_int_equal(parse_n(pp, deep, n, &p), 0);
    assert_int_equal(p.text.len, POST_DEFAULT_MAX_BYTES - 11);
    deep[n] = ' ';
    assert_reject(pp, deep, n + 1, "too large: 65537 bytes > limit 65536");
    /* and small posts still work after the big one */
    assert_int_equal(parse_s(pp, "{\"text\":\"small\"}", &p), 0);
    assert_view(p.text, "small");
    free(deep);
    post_parser_free(pp);
}

static void test_error_buffer_handling(void **state) {
    post_parser *pp = *state;
    post p;
    char tiny[8];
    assert_int_equal(post_parse(pp, "[]", 2, &p, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "not an "); /* truncated, NUL-terminated */
    assert_int_equal(post_parse(pp, "[]", 2, &p, NULL, 0), -1);
}

/* ---- Unicode and escapes ------------------------------------------------ */

static void test_unicode_unchanged(void **state) {
    post_parser *pp = *state;
    post p;
    static const char *const texts[] = {
        "Comcast \xF0\x9F\x98\xA1\xF0\x9F\x98\xA1 outage again \xF0\x9F\x91\x8E\xF0\x9F\x8F\xBD",
        "\xD7\xA9\xD7\x99\xD7\xA8\xD7\x95\xD7\xAA \xD7\x9C\xD7\xA7\xD7\x95\xD7\x97\xD7\x95\xD7\xAA "
        "\xD7\x92\xD7\xA8\xD7\x95\xD7\xA2 Dell", /* Hebrew, RTL */
        "\xD8\xA7\xD9\x84\xD8\xAE\xD8\xAF\xD9\x85\xD8\xA9 \xD8\xB3\xD9\x8A\xD8\xA6\xD8\xA9", /* Arabic */
        "cafe\xCC\x81 Zo\xC3\xAB e\xCC\x81\xCC\x81", /* combining acute marks */
        "\xEF\xBC\xA3\xEF\xBC\xAF\xEF\xBC\xAD\xEF\xBC\xA3\xEF\xBC\xA1\xEF\xBC\xB3\xEF\xBC\xB4", /* fullwidth */
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 ZWJ family",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"platform\":\"\xD7\xA9\",\"text\":\"%s\"}", texts[i]);
        assert_int_equal(parse_s(pp, json, &p), 0);
        assert_view(p.text, texts[i]);
        assert_view(p.platform, "\xD7\xA9");
    }
}

static void test_escapes(void **state) {
    post_parser *pp = *state;
    post p;
    assert_int_equal(parse_s(pp,
                             "{\"text\":\"line1\\nline2\\ttab \\\"q\\\" back\\\\slash "
                             "\\/ caf\\u00e9 \\ud83d\\ude00 \\u20AC \\r\\b\\f\"}",
                             &p),
                     0);
    assert_view(p.text, "line1\nline2\ttab \"q\" back\\slash / caf\xC3\xA9 "
                        "\xF0\x9F\x98\x80 \xE2\x82\xAC \r\b\f");

    /* escapes in handles and ids too */
    assert_int_equal(parse_s(pp,
                             "{\"id\":\"a\\u0062c\",\"text\":\"t\",\"author\":{\"handle\":"
                             "\"@J\\u00e9r\\u00f4me\"}}",
                             &p),
                     0);
    assert_view(p.id, "abc");
    assert_view(p.handle, "J\xC3\xA9r\xC3\xB4me");

    /* \u0000 is a valid code point: kept, with the length telling */
    assert_int_equal(parse_s(pp, "{\"text\":\"a\\u0000b\"}", &p), 0);
    assert_int_equal(p.text.len, 3);
    assert_memory_equal(p.text.ptr, "a\0b", 3);
}

/* ---- dates -------------------------------------------------------------- */

static void test_dates(void **state) {
    post_parser *pp = *state;
    static const struct {
        const char *in;
        const char *want; /* NULL: unparseable */
        int64_t epoch;
    } cases[] = {
        {"2024-05-01T12:34:56Z", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T12:34:56.000Z", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T12:34:56.123456789Z", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T12:34:56+00:00", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T12:34:56-00:00", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T18:04:56+05:30", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T18:04:56+0530", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-05-01T08:34:56.5-04:00", "2024-05-01T12:34:56Z", 1714566896},
        {"2024-01-01T01:00:00+02:00", "2023-12-31T23:00:00Z", 1704063600},
        {"2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00Z", 1704069000},
        {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z", 1709164800},
        {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z", 951825600},
        {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", 0},
        {"1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z", -14182940},
        /* once the "unknown" sentinel (issue 12 item 7): a date like any */
        {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z", -1},
        {"1950-06-15T08:00:00Z", "1950-06-15T08:00:00Z", -616867200},
        {"2038-01-19T03:14:08Z", "2038-01-19T03:14:08Z", 2147483648LL},
        {"Wed Oct 10 20:19:24 +0000 2018", "2018-10-10T20:19:24Z", 1539202764},
        {"Thu Feb 29 23:00:00 -0200 2024", "2024-03-01T01:00:00Z", 1709254800},
        {"Sat May 04 01:30:00 +0200 2024", "2024-05-03T23:30:00Z", 1714779000},
        {"2023-02-29T00:00:00Z", NULL, 0},    /* not a leap year */
        {"1900-02-29T00:00:00Z", NULL, 0},   /* nor is 1900 */
        {"2024-13-01T00:00:00Z", NULL, 0},
        {"2024-04-31T00:00:00Z", NULL, 0},
        {"2024-05-01T24:00:00Z", NULL, 0},
        {"2024-05-01T12:60:00Z", NULL, 0},
        {"2024-05-01T12:34:60Z", NULL, 0},   /* leap seconds refused */
        {"2024-05-01T12:34:56", NULL, 0},    /* no zone: not guessed */
        {"2024-05-01T12:34:56.Z", NULL, 0},
        {"2024-05-01T12:34:56+5:30", NULL, 0},
        {"2024-05-01T12:34:56+05:3x", NULL, 0},
        {"2024-05-01 12:34:56Z", NULL, 0},
        {"2024-5-01T12:34:56Z", NULL, 0},
        {"2024-05-01T12:34:56ZZ", NULL, 0},
        {"Wed Foo 10 20:19:24 +0000 2018", NULL, 0},
        {"Wed Oct 10 20:19:24 +0000 18", NULL, 0},
        {"Wed Oct 32 20:19:24 +0000 2018", NULL, 0},
        {"yesterday", NULL, 0},
        {"", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[256];
        post p;
        snprintf(json, sizeof json, "{\"text\":\"t\",\"created_at\":\"%s\"}", cases[i].in);
        assert_int_equal(parse_s(pp, json, &p), 0);
        const char *want = cases[i].want ? cases[i].want : "";
        if (p.created_at.len != strlen(want) ||
            (p.created_at.len && memcmp(p.created_at.ptr, want, p.created_at.len)) ||
            p.created_at_epoch != cases[i].epoch || p.has_created_at != (cases[i].want != NULL))
            fail_msg("\"%s\" -> \"%.*s\" %lld, want \"%s\" %lld", cases[i].in,
                     (int)p.created_at.len, p.created_at.ptr ? p.created_at.ptr : "",
                     (long long)p.created_at_epoch, want, (long long)cases[i].epoch);
    }
}

static void test_shape_names(void **state) {
    (void)state;
    assert_string_equal(post_shape_name(POST_SHAPE_TWITTER_V2), "twitter_v2");
    assert_string_equal(post_shape_name(POST_SHAPE_TWITTER_V1), "twitter_v1");
    assert_string_equal(post_shape_name(POST_SHAPE_GENERIC), "generic");
    assert_string_equal(post_shape_name((post_shape)42), "unknown");
}

/* ---- robustness ---------------------------------------------------------- */

/* Strict UTF-8 check for outputs (the contract says views are valid UTF-8). */
static int utf8_ok(strview v) {
    const unsigned char *s = (const unsigned char *)v.ptr;
    size_t i = 0, n = v.len;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + k >= n) /* sequence runs past the end */
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

static uint64_t rng_next(uint64_t *s) {
    /* xorshift64*: deterministic, so a failure reproduces */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void test_random_mutations(void **state) {
    post_parser *pp = *state;
    static const char *const files[] = {"twitter_v2.jsonl", "twitter_v1.jsonl",
                                        "generic.jsonl"};
    static const char tokens[] = "{}[]\",:\\u0d8e \x80\xC3\xF0\xFF\0tn1-.";
    char *lines[12];
    size_t lens[12];
    size_t nlines = 0;
    for (size_t f = 0; f < 3; f++)
        for (int i = 1; i <= 4; i++, nlines++)
            lines[nlines] = sample_line(files[f], i, &lens[nlines]);

    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 1000; iter++) {
        size_t which = rng_next(&seed) % nlines;
        size_t len = lens[which];
        char *buf = malloc(len + 16);
        memcpy(buf, lines[which], len);
        int edits = 1 + (int)(rng_next(&seed) % 4);
        for (int e = 0; e < edits && len > 0; e++) {
            size_t at = rng_next(&seed) % len;
            switch (rng_next(&seed) % 5) {
            case 0: /* flip a bit */
                buf[at] ^= (char)(1u << (rng_next(&seed) % 8));
                break;
            case 1: /* replace by a syntax-relevant byte */
                buf[at] = tokens[rng_next(&seed) % (sizeof tokens - 1)];
                break;
            case 2: /* truncate */
                len = at;
                break;
            case 3: /* delete one byte */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            case 4: /* insert one byte (room for 16) */
                if (len < lens[which] + 16) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = tokens[rng_next(&seed) % (sizeof tokens - 1)];
                    len++;
                }
                break;
            }
        }
        post p;
        if (parse_n(pp, buf, len, &p) == 0) {
            accepted++;
            assert_true(p.text.len > 0);
            assert_true(utf8_ok(p.text) && utf8_ok(p.handle) && utf8_ok(p.id) &&
                        utf8_ok(p.lang) && utf8_ok(p.platform));
            assert_true(p.followers >= 0);
            assert_true(p.created_at.len == 0 || p.created_at.len == POST_DATE_LEN);
            assert_true((p.created_at.len == 0) == !p.has_created_at);
            assert_true(p.shape <= POST_SHAPE_GENERIC);
        } else {
            rejected++;
            assert_true(last_err[0] != '\0');
            assert_null(strchr(last_err, '\n'));
        }
        free(buf);
    }
    /* both outcomes must occur, or the mutations test nothing */
    assert_true(accepted > 50);
    assert_true(rejected > 50);
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_twitter_v2_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twitter_v1_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_text_preference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_retweet_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_user_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_author_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_nested_keys_ignored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reject_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_invalid_utf8_anywhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reject_invalid_json_anywhere, setup,
                                        teardown),
        cmocka_unit_test(test_limits),
        cmocka_unit_test_setup_teardown(test_error_buffer_handling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unicode_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dates, setup, teardown),
        cmocka_unit_test(test_shape_names),
        cmocka_unit_test_setup_teardown(test_random_mutations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
