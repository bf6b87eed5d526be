/*
 * post: one input message (JSON bytes) -> one struct post.
 *
 * Owns: shape detection (Twitter API v2, Twitter v1.1, generic) and field
 * extraction. The parser is simdjson On-Demand behind a C++17 file
 * (post_parse.cpp); this header is the only thing the rest of earshot sees.
 *
 * Shapes, detected per message from the top-level keys:
 *   - Twitter v2:   {"data": {"id","text","author_id","lang","created_at",
 *                    "referenced_tweets":[{"type":"retweeted"|"replied_to"}],
 *                    "note_tweet":{"text"}}, "includes": {"users": [{"id",
 *                    "username","verified","public_metrics":{"followers_count"}}]}}
 *   - Twitter v1.1: {"id_str"|"id", "text"|"full_text", "extended_tweet":
 *                    {"full_text"}, "user": {"screen_name","followers_count",
 *                    "verified"}, "lang", "created_at" ("Wed Oct 10 20:19:24
 *                    +0000 2018"), "retweeted_status", "in_reply_to_status_id_str"}
 *   - generic:      {"id","platform","text","lang","created_at", "author":
 *                    {"handle","followers","verified"}, "reply_to", "is_retweet"}
 *
 * Contract:
 *   - post_parse() never reads past buf[len] and never crashes on any input.
 *     On failure it returns -1 and writes a one-line reason (stable, short,
 *     e.g. "not JSON: ...", "not an object", "no text", "invalid UTF-8",
 *     "id must be a string or an integer",
 *     "nested too deep", "too large: N bytes > limit M") into err.
 *   - On success every string view in *out points into memory owned by the
 *     parser (or into buf) and stays valid until the next post_parse() call on
 *     the same parser, or until buf is freed, whichever is first.
 *     Strings are unescaped, valid UTF-8, not NUL-terminated.
 *   - A missing optional field is an empty view / 0 / false; when created_at
 *     is absent or unparseable, has_created_at is false, created_at empty
 *     and created_at_epoch 0.
 *   - id is a JSON string or integer (its digits as written); any other id
 *     (null, 12.5, 1e9, an object) is refused: "id must be a string or an
 *     integer". An absent id is an empty view.
 *
 * Thread-safety: a post_parser is used by one thread at a time; make one per
 * worker. Cost: one pass over the bytes, no allocation after warm-up.
 */
#ifndef EARSHOT_POST_H
#define EARSHOT_POST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A borrowed, length-delimited UTF-8 string (not NUL-terminated). */
typedef struct strview {
    const char *ptr;
    size_t len;
} strview;

typedef enum post_shape {
    POST_SHAPE_TWITTER_V2 = 0,
    POST_SHAPE_TWITTER_V1 = 1,
    POST_SHAPE_GENERIC = 2,
} post_shape;

typedef struct post {
    post_shape shape;
    strview id;         /* post id as a string (v1.1: id_str, else id as digits) */
    strview platform;   /* "twitter" for v1.1/v2; generic: "platform" or "unknown" */
    strview text;       /* full text (v2 note_tweet, v1.1 extended_tweet preferred) */
    strview handle;     /* author handle without '@' */
    strview lang;       /* BCP 47 tag as given, e.g. "en"; may be empty */
    strview created_at; /* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" (normalised) */
    int64_t created_at_epoch; /* seconds since 1970 (negative before it);
                                 0 unless has_created_at */
    bool has_created_at; /* created_at was present and understood; a flag
                            because every epoch, -1 included, is a date */
    int64_t followers;  /* >= 0 */
    bool verified;
    bool is_retweet;
    bool is_reply;
    /* Links; each an empty view when the input does not state it:
     *   url: the post's permalink. v2: https://twitter.com/<username>/status/<id>
     *        when includes.users has data.author_id's user; v1.1: the same
     *        from user.screen_name and id_str/id; generic: "url" when it is an
     *        absolute http(s) URL without spaces. Only digit ids and
     *        [A-Za-z0-9_] handles make a tweet url.
     *   conversation_id: v2 data.conversation_id; generic "conversation_id".
     *   reply_to: the id of the post this one answers. v2: the id of the
     *        referenced_tweets entry of type "replied_to"; v1.1:
     *        in_reply_to_status_id_str, else in_reply_to_status_id; generic:
     *        "reply_to" when a string or an integer.
     * Ids (conversation_id, reply_to) as read_id reads them: a string as is,
     * an integer as its digits. */
    strview url;
    strview conversation_id;
    strview reply_to;
} post;

/* Longest url built from a handle and an id (post.url of a tweet). */
#define POST_URL_MAX 128

typedef struct post_limits {
    size_t max_bytes; /* larger input is rejected before parsing; default 65536 */
    size_t max_depth; /* deeper nesting is rejected; default 64 */
} post_limits;

#define POST_DEFAULT_MAX_BYTES 65536
#define POST_DEFAULT_MAX_DEPTH 64

typedef struct post_parser post_parser;

/* Returns NULL on allocation failure. limits may be NULL for the defaults. */
post_parser *post_parser_new(const post_limits *limits);
void post_parser_free(post_parser *pp);

/* Parse one message. Returns 0 and fills *out, or -1 and fills err. */
int post_parse(post_parser *pp, const char *buf, size_t len, post *out,
               char *err, size_t err_size);

const char *post_shape_name(post_shape shape);

#ifdef __cplusplus
}
#endif

#endif
