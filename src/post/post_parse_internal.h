/*
 * post_parse_internal.h: what the two halves of the post parser share.
 * post_parse.cpp reads the fields earshot uses and decides the shape;
 * post_parse_check.cpp proves that everything else is well-formed JSON and
 * pre-scans the nesting depth. C++ only; nothing outside src/post may
 * include it (post.h is the module's contract).
 *
 * The helpers on every token (fail, key_is, is_ws, number_ok) are inline
 * here so that splitting the file costs no calls on the hot path.
 */
#ifndef EARSHOT_POST_PARSE_INTERNAL_H
#define EARSHOT_POST_PARSE_INTERNAL_H

#include "post/post.h"
#include "post/post_date.h"

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

namespace post_detail {

/* One entry of v2 includes.users, kept until data.author_id is known. */
struct v2_user {
    std::string_view id;
    std::string_view username;
    int64_t followers;
    bool verified;
};

/* Everything any shape might use, filled in key order. */
struct scratch {
    /* root level: v1.1 and generic */
    std::string_view id, id_str, text, full_text, ext_full_text, lang,
        created_at, platform;
    bool id_bad = false, id_str_bad = false; /* see read_id */
    bool v1_keys = false;
    /* v1.1 "user" */
    std::string_view user_screen_name;
    int64_t user_followers = 0;
    bool user_verified = false;
    bool v1_retweet = false, v1_reply = false;
    /* generic "author" */
    std::string_view author_handle;
    int64_t author_followers = 0;
    bool author_verified = false;
    bool gen_retweet = false, gen_reply = false;
    /* v2 "data" */
    bool has_data = false;
    std::string_view d_id, d_text, d_note_text, d_author_id, d_lang,
        d_created_at;
    bool d_id_bad = false;
    bool d_retweet = false, d_reply = false;
    /* links between posts and to the post itself (post.h: url,
     * conversation_id, reply_to) */
    std::string_view d_conversation_id, d_reply_to; /* v2 data */
    std::string_view v1_reply_to_str, v1_reply_to_num; /* v1.1 */
    std::string_view url, conversation_id, reply_to_id; /* generic */
    bool d_author_matched = false;
};

/* Why a field read failed, turned into text once at the top (the depth,
 * size, shape and trailing-content reasons are decided there directly). */
enum reason {
    R_NONE = 0,
    R_SIMDJSON, /* "not JSON: <simdjson message>" */
    R_UTF8,     /* "invalid UTF-8" */
};

} // namespace post_detail

using namespace post_detail;

struct post_parser {
    od::parser parser;
    post_limits limits;
    char *pad = nullptr; /* input copy + SIMDJSON_PADDING readable bytes */
    size_t pad_cap = 0;
    std::vector<v2_user> users;
    char date[POST_DATE_LEN];
    char url[POST_URL_MAX]; /* a permalink built from handle and id */
    /* context of the message being parsed */
    reason why = R_NONE;
    error_code sj = SUCCESS;
    const char *next_bs = nullptr; /* next '\\' at or after the last token checked */
    const char *pad_end = nullptr; /* end of the input in pad */

    explicit post_parser(const post_limits &l)
        : parser(l.max_bytes < simdjson::SIMDJSON_MAXSIZE_BYTES
                     ? l.max_bytes
                     : simdjson::SIMDJSON_MAXSIZE_BYTES),
          limits(l) {}
    ~post_parser() { delete[] pad; }
    post_parser(const post_parser &) = delete;
    post_parser &operator=(const post_parser &) = delete;
};

namespace post_detail {

/* Record a simdjson error and return it, so call sites stay one line. */
inline error_code fail(post_parser *pp, error_code e) {
    if (pp->why == R_NONE) {
        pp->why = e == simdjson::UTF8_ERROR ? R_UTF8 : R_SIMDJSON;
        pp->sj = e;
    }
    return e;
}

/* raw points just after the opening quote of a key; keys we look for have
 * no escapes, so a byte compare plus the closing quote is exact. The
 * padding makes reading a few bytes past a short key safe. */
template <size_t N>
inline bool key_is(const char *raw, const char (&lit)[N]) {
    return memcmp(raw, lit, N - 1) == 0 && raw[N - 1] == '"';
}

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* A JSON number token (trailing whitespace allowed, as raw_json_token()
 * includes it): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. The grammar
 * and not get_number(), which refuses valid JSON it cannot represent
 * (integers past 2^64, 1e400). */
inline bool number_ok(std::string_view tok) {
    size_t i = 0, n = tok.size();
    while (n > 0 && is_ws(tok[n - 1]))
        n--;
    if (i < n && tok[i] == '-')
        i++;
    if (i < n && tok[i] == '0') {
        i++;
    } else {
        if (i == n || tok[i] < '1' || tok[i] > '9')
            return false;
        while (i < n && tok[i] >= '0' && tok[i] <= '9')
            i++;
    }
    if (i < n && tok[i] == '.') {
        size_t d = ++i;
        while (i < n && tok[i] >= '0' && tok[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
        i++;
        if (i < n && (tok[i] == '+' || tok[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && tok[i] >= '0' && tok[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

/* ---- post_parse_check.cpp ---- */

/* Does a JSON string token contain a \uD800-\uDFFF escape? */
bool has_surrogate_escape(std::string_view tok);
/* A key's escapes decode (raw keys without a backslash are not decoded). */
error_code check_key(post_parser *pp, od::field &f);
/* A value earshot does not read is still well-formed JSON. */
error_code check_value(post_parser *pp, od::value &v);
/* A string field: non-strings read as missing (empty), a string that does
 * not decode fails the message. */
error_code read_str(post_parser *pp, od::value &v, std::string_view &out);
/* Exact nesting depth outside strings, and where the root closes. */
size_t scan_depth(const char *p, size_t n, size_t *root_end);
/* Count of '{' and '[' bytes: an upper bound on the depth. */
size_t count_openers(const char *p, size_t n);

} // namespace post_detail

#endif
