/*
 * post_parse.cpp: JSON bytes -> struct post with simdjson On-Demand.
 *
 * Owns: the padded copy of the input, the simdjson parser, shape detection
 * and field extraction. With post_parse_check.cpp (the validation of what is
 * not read, and the depth pre-scan) the only C++ code of earshot; it
 * exposes post.h with C linkage and never lets an exception cross into C
 * (simdjson is used through its error-code API; the few std:: calls that
 * can throw are caught).
 *
 * How a message is read: one pass over the root object's fields in document
 * order. Every field any shape might need is collected into a scratch
 * record (keys may come in any order: "includes" before "data", "user"
 * after "text"), and the shape is decided from the keys once the object is
 * done. Fields we do not want are skipped by simdjson without decoding.
 *
 * Shape rule: a root "data" object -> Twitter v2; else any of id_str, user,
 * full_text, extended_tweet, retweeted_status, in_reply_to_status_id(_str)
 * -> Twitter v1.1; else generic.
 *
 * What is validated: everything a JSON parser would (an accepted post is
 * valid JSON), although On-Demand is lazy by design:
 *   - UTF-8 of the whole input, string/bracket structure: stage 1.
 *   - Nesting depth: always, including fields that are skipped.
 *   - Trailing bytes after the root object: always.
 *   - Fields we do not read are not skipped but checked (check_value):
 *     grammar, atoms and numbers on their raw token, escapes only in
 *     strings and keys that contain a backslash. This replaces the skip
 *     rather than adding a second pass (which cost ~720 ns for the 750 B
 *     bench post); bench_post, lazy -> checked: 380 -> 535 ns (750 B v2),
 *     v1.1 samples 403 -> 714 ns (mostly fields we skip), generic 196 ->
 *     257 ns.
 *   - A lone surrogate escape ("\ud800" without its pair), in any string or
 *     key, rejects the post as "invalid UTF-8": it has no UTF-8 encoding and
 *     replacing it would hide a broken producer.
 *   - Numbers are converted only in fields we read; a valid number that is
 *     not a count (negative, a string) reads as 0 followers.
 *   - Keys are compared byte for byte: a key spelled with escapes
 *     ("te\u0078t") is not recognised. No real API does that.
 *
 * Thread-safety: one post_parser per thread. Cost: a copy of the input into
 * the padded buffer (~20 ns for 750 B), simdjson stage 1, a byte count of
 * '{' and '[' for the depth limit, the fields we read and the check of the
 * rest. No allocation
 * after the first messages (buffers grow to the largest input seen).
 */
#include "post/post_parse_internal.h"

#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "base/base_err.h"

namespace {

/* An id: a string as is, an integer as its digits straight from the input
 * (Twitter ids exceed 2^53, so no round trip through a double). Anything
 * else (null, 12.5, 1e9, an object) sets *bad: every such post would get
 * the same empty id and share one de-duplication key. */
error_code read_id(post_parser *pp, od::value &v, std::string_view &out,
                   bool *bad) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    if (t == od::json_type::string)
        return read_str(pp, v, out);
    out = std::string_view();
    if (t != od::json_type::number) {
        *bad = true;
        return check_value(pp, v);
    }
    std::string_view tok = v.raw_json_token();
    while (!tok.empty() && is_ws(tok.back()))
        tok.remove_suffix(1);
    if (!number_ok(tok))
        return fail(pp, simdjson::NUMBER_ERROR);
    if (tok.find_first_of(".eE") != std::string_view::npos)
        *bad = true;
    else
        out = tok;
    return SUCCESS;
}

/* Follower counts: negative, fractional-nonsense or non-numeric -> 0. */
error_code read_count(post_parser *pp, od::value &v, int64_t &out) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    out = 0;
    if (t != od::json_type::number)
        return check_value(pp, v);
    if (!number_ok(v.raw_json_token()))
        return fail(pp, simdjson::NUMBER_ERROR);
    int64_t i;
    uint64_t u;
    double d;
    if (!v.get_int64().get(i))
        out = i > 0 ? i : 0;
    else if (!v.get_uint64().get(u))
        out = INT64_MAX;
    else if (!v.get_double().get(d) && d > 0) /* 1.2e3 */
        out = d >= 9.2e18 ? INT64_MAX : (int64_t)d;
    return SUCCESS;
}

/* true reads as true; anything else valid as false. */
error_code read_bool(post_parser *pp, od::value &v, bool &out) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    out = false;
    if (t != od::json_type::boolean)
        return check_value(pp, v);
    /* the atom's spelling first: get_bool() calls "tru" a type error */
    if ((e = check_value(pp, v)) || (e = v.get_bool().get(out)))
        return fail(pp, e);
    return SUCCESS;
}

/* Present and not null (retweeted_status, in_reply_to_status_id, reply_to). */
error_code read_present(post_parser *pp, od::value &v, bool &out) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    out = t != od::json_type::null;
    return check_value(pp, v);
}

/* A reference to another post (reply_to, in_reply_to_status_id(_str),
 * conversation_id): present unless null; its id when it is a string or an
 * integer (as read_id reads them), else empty. */
error_code read_ref(post_parser *pp, od::value &v, std::string_view &id, bool &present) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    present = t != od::json_type::null;
    id = std::string_view();
    if (t == od::json_type::string || t == od::json_type::number) {
        bool bad = false; /* a fractional id links to nothing: left empty */
        return read_id(pp, v, id, &bad);
    }
    return check_value(pp, v);
}

/* Iterate an object's fields: fn(raw_key, value) -> error_code; fn calls
 * check_value() on what it does not read. Non-objects read as missing (and
 * are checked). */
template <typename F>
error_code for_fields(post_parser *pp, od::value &v, F fn) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    if (t != od::json_type::object)
        return check_value(pp, v);
    od::object obj;
    if ((e = v.get_object().get(obj)))
        return fail(pp, e);
    for (auto fr : obj) {
        /* by reference: copying the field out of its result costs a
         * store-forwarding stall per field with GCC 12 */
        if ((e = fr.error()))
            return fail(pp, e);
        od::field &f = fr.value_unsafe();
        const char *k = f.key().raw(); /* check_key may consume the key */
        if ((e = check_key(pp, f)) || (e = fn(k, f.value())))
            return e;
    }
    return SUCCESS;
}

/* for_fields' loop over an array. Kept as a twin on purpose (duplicates
 * lists the pair): simdjson's object and array iterators are different
 * types with different element accessors, and an object's keys must pass
 * check_key, which an array has no counterpart for; one template over both
 * would need traits that hide exactly that difference. */
template <typename F>
error_code for_elements(post_parser *pp, od::value &v, F fn) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    if (t != od::json_type::array)
        return check_value(pp, v);
    od::array arr;
    if ((e = v.get_array().get(arr)))
        return fail(pp, e);
    for (auto er : arr) {
        if ((e = er.error()))
            return fail(pp, e);
        if ((e = fn(er.value_unsafe())))
            return e;
    }
    return SUCCESS;
}

/* v1.1 "user": screen_name, followers_count, verified. */
error_code read_v1_user(post_parser *pp, od::value &v, scratch &s) {
    return for_fields(pp, v, [&](const char *k, od::value &fv) -> error_code {
        if (key_is(k, "screen_name"))
            return read_str(pp, fv, s.user_screen_name);
        if (key_is(k, "followers_count"))
            return read_count(pp, fv, s.user_followers);
        if (key_is(k, "verified"))
            return read_bool(pp, fv, s.user_verified);
        return check_value(pp, fv);
    });
}

/* v1.1 "extended_tweet": full_text. */
error_code read_v1_extended(post_parser *pp, od::value &v, scratch &s) {
    return for_fields(pp, v, [&](const char *k, od::value &fv) -> error_code {
        if (key_is(k, "full_text"))
            return read_str(pp, fv, s.ext_full_text);
        return check_value(pp, fv);
    });
}

/* generic "author": handle, followers, verified. */
error_code read_author(post_parser *pp, od::value &v, scratch &s) {
    return for_fields(pp, v, [&](const char *k, od::value &fv) -> error_code {
        if (key_is(k, "handle"))
            return read_str(pp, fv, s.author_handle);
        if (key_is(k, "followers"))
            return read_count(pp, fv, s.author_followers);
        if (key_is(k, "verified"))
            return read_bool(pp, fv, s.author_verified);
        return check_value(pp, fv);
    });
}

/* v2 "data". */
error_code read_v2_data(post_parser *pp, od::value &v, scratch &s) {
    return for_fields(pp, v, [&](const char *k, od::value &fv) -> error_code {
        switch (k[0]) {
        case 'a':
            if (key_is(k, "author_id")) {
                bool ignored = false; /* a bad author_id matches no user */
                return read_id(pp, fv, s.d_author_id, &ignored);
            }
            break;
        case 'c':
            if (key_is(k, "created_at"))
                return read_str(pp, fv, s.d_created_at);
            if (key_is(k, "conversation_id")) {
                bool present = false;
                return read_ref(pp, fv, s.d_conversation_id, present);
            }
            break;
        case 'i':
            if (key_is(k, "id"))
                return read_id(pp, fv, s.d_id, &s.d_id_bad);
            break;
        case 'l':
            if (key_is(k, "lang"))
                return read_str(pp, fv, s.d_lang);
            break;
        case 'n':
            if (key_is(k, "note_tweet"))
                return for_fields(pp, fv,
                                  [&](const char *nk, od::value &nv) -> error_code {
                                      if (key_is(nk, "text"))
                                          return read_str(pp, nv, s.d_note_text);
                                      return check_value(pp, nv);
                                  });
            break;
        case 'r':
            if (key_is(k, "referenced_tweets"))
                return for_elements(pp, fv, [&](od::value &ref) -> error_code {
                    std::string_view ref_id; /* "id" may come before "type" */
                    bool replied = false;
                    error_code re = for_fields(
                        pp, ref, [&](const char *rk, od::value &rv) -> error_code {
                            if (key_is(rk, "id")) {
                                bool present = false;
                                return read_ref(pp, rv, ref_id, present);
                            }
                            if (!key_is(rk, "type"))
                                return check_value(pp, rv);
                            std::string_view type;
                            error_code e = read_str(pp, rv, type);
                            if (type == "retweeted")
                                s.d_retweet = true;
                            else if (type == "replied_to")
                                s.d_reply = replied = true;
                            return e;
                        });
                    if (!re && replied && s.d_reply_to.empty())
                        s.d_reply_to = ref_id;
                    return re;
                });
            break;
        case 't':
            if (key_is(k, "text"))
                return read_str(pp, fv, s.d_text);
            break;
        }
        return check_value(pp, fv);
    });
}

/* One v2 user object -> pp->users. */
error_code read_v2_user(post_parser *pp, od::value &v) {
    v2_user u{std::string_view(), std::string_view(), 0, false};
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    if (t != od::json_type::object)
        return check_value(pp, v);
    e = for_fields(pp, v, [&](const char *k, od::value &fv) -> error_code {
        if (key_is(k, "id")) {
            bool ignored = false; /* a bad user id matches no author_id */
            return read_id(pp, fv, u.id, &ignored);
        }
        if (key_is(k, "username"))
            return read_str(pp, fv, u.username);
        if (key_is(k, "verified"))
            return read_bool(pp, fv, u.verified);
        if (key_is(k, "public_metrics"))
            return for_fields(pp, fv, [&](const char *mk, od::value &mv) -> error_code {
                if (key_is(mk, "followers_count"))
                    return read_count(pp, mv, u.followers);
                return check_value(pp, mv);
            });
        return check_value(pp, fv);
    });
    if (e)
        return e;
    pp->users.push_back(u); /* may throw bad_alloc: caught in post_parse */
    return SUCCESS;
}

/* v2 "includes": only "users" matters. */
error_code read_v2_includes(post_parser *pp, od::value &v) {
    return for_fields(pp, v, [&](const char *k, od::value &fv) -> error_code {
        if (key_is(k, "users"))
            return for_elements(pp, fv, [&](od::value &uv) -> error_code {
                return read_v2_user(pp, uv);
            });
        return check_value(pp, fv);
    });
}

/* One root field. The switch on the first byte keeps the common case (a
 * key we do not want) to one or two compares. */
error_code read_root_field(post_parser *pp, const char *k, od::value &v,
                           scratch &s) {
    switch (k[0]) {
    case 'a':
        if (key_is(k, "author"))
            return read_author(pp, v, s);
        break;
    case 'c':
        if (key_is(k, "created_at"))
            return read_str(pp, v, s.created_at);
        if (key_is(k, "conversation_id")) {
            bool present = false;
            return read_ref(pp, v, s.conversation_id, present);
        }
        break;
    case 'd':
        if (key_is(k, "data")) {
            od::json_type t;
            error_code e = v.type().get(t);
            if (e)
                return fail(pp, e);
            if (t == od::json_type::object) {
                s.has_data = true;
                return read_v2_data(pp, v, s);
            }
        }
        break;
    case 'e':
        if (key_is(k, "extended_tweet")) {
            s.v1_keys = true;
            return read_v1_extended(pp, v, s);
        }
        break;
    case 'f':
        if (key_is(k, "full_text")) {
            s.v1_keys = true;
            return read_str(pp, v, s.full_text);
        }
        break;
    case 'i':
        if (key_is(k, "id"))
            return read_id(pp, v, s.id, &s.id_bad);
        if (key_is(k, "id_str")) {
            s.v1_keys = true;
            return read_id(pp, v, s.id_str, &s.id_str_bad);
        }
        if (key_is(k, "includes"))
            return read_v2_includes(pp, v);
        if (key_is(k, "is_retweet"))
            return read_bool(pp, v, s.gen_retweet);
        if (key_is(k, "in_reply_to_status_id_str") ||
            key_is(k, "in_reply_to_status_id")) {
            bool present = false;
            error_code e = read_ref(pp, v,
                                    key_is(k, "in_reply_to_status_id_str")
                                        ? s.v1_reply_to_str
                                        : s.v1_reply_to_num,
                                    present);
            s.v1_keys = true;
            s.v1_reply = s.v1_reply || present;
            return e;
        }
        break;
    case 'l':
        if (key_is(k, "lang"))
            return read_str(pp, v, s.lang);
        break;
    case 'p':
        if (key_is(k, "platform"))
            return read_str(pp, v, s.platform);
        break;
    case 'r':
        if (key_is(k, "retweeted_status")) {
            s.v1_keys = true;
            return read_present(pp, v, s.v1_retweet);
        }
        if (key_is(k, "reply_to"))
            return read_ref(pp, v, s.reply_to_id, s.gen_reply);
        break;
    case 't':
        if (key_is(k, "text"))
            return read_str(pp, v, s.text);
        break;
    case 'u':
        if (key_is(k, "user")) {
            s.v1_keys = true;
            return read_v1_user(pp, v, s);
        }
        if (key_is(k, "url"))
            return read_str(pp, v, s.url);
        break;
    }
    return check_value(pp, v);
}


/* A tweet's permalink, only from facts the input states: an all-digit id
 * and a handle of Twitter's alphabet ([A-Za-z0-9_]). Anything else (or a
 * v2 author guessed rather than matched by author_id) gets no url: a wrong
 * link sends an agent to someone else's post. */
bool twitter_url(post_parser *pp, std::string_view handle, std::string_view id,
                 strview *out) {
    static const char pre[] = "https://twitter.com/", mid[] = "/status/";
    if (id.empty() || id.size() > 20 || handle.empty() || handle.size() > 50)
        return false;
    for (char c : id)
        if (c < '0' || c > '9')
            return false;
    for (char c : handle)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
    char *o = pp->url;
    memcpy(o, pre, sizeof pre - 1), o += sizeof pre - 1;
    memcpy(o, handle.data(), handle.size()), o += handle.size();
    memcpy(o, mid, sizeof mid - 1), o += sizeof mid - 1;
    memcpy(o, id.data(), id.size()), o += id.size();
    *out = strview{pp->url, (size_t)(o - pp->url)};
    return true;
}

/* A url the input gives (generic shape): kept when it is an absolute
 * http(s) URL without spaces or control bytes, else dropped. */
bool given_url(std::string_view u) {
    if (u.rfind("https://", 0) != 0 && u.rfind("http://", 0) != 0)
        return false;
    if (u.size() > 4096)
        return false;
    for (char c : u)
        if ((unsigned char)c <= 0x20 || c == 0x7f)
            return false;
    return true;
}

/* url, conversation_id and reply_to of the chosen shape (post.h). */
void finish_links(post_parser *pp, const scratch &s, post *out) {
    std::string_view conv, reply;
    auto view = [](std::string_view v) { return strview{v.data(), v.size()}; };
    switch (out->shape) {
    case POST_SHAPE_TWITTER_V2:
        conv = s.d_conversation_id;
        reply = s.d_reply_to;
        if (s.d_author_matched)
            twitter_url(pp, std::string_view(out->handle.ptr, out->handle.len),
                        std::string_view(out->id.ptr, out->id.len), &out->url);
        break;
    case POST_SHAPE_TWITTER_V1:
        reply = !s.v1_reply_to_str.empty() ? s.v1_reply_to_str : s.v1_reply_to_num;
        twitter_url(pp, std::string_view(out->handle.ptr, out->handle.len),
                    std::string_view(out->id.ptr, out->id.len), &out->url);
        break;
    case POST_SHAPE_GENERIC:
        conv = s.conversation_id;
        reply = s.reply_to_id;
        if (given_url(s.url))
            out->url = view(s.url);
        break;
    }
    out->conversation_id = view(conv);
    out->reply_to = view(reply);
}

/* Pick the shape and the fields of that shape. Returns NULL, or why the
 * post is refused. */
const char *finish(post_parser *pp, scratch &s, post *out) {
    static const char bad_id[] = "id must be a string or an integer";
    std::string_view id, text, handle, lang, created;
    if (s.has_data) {
        out->shape = POST_SHAPE_TWITTER_V2;
        if (s.d_id_bad)
            return bad_id;
        id = s.d_id;
        text = !s.d_note_text.empty() ? s.d_note_text : s.d_text;
        lang = s.d_lang;
        created = s.d_created_at;
        out->platform = strview{"twitter", 7};
        const v2_user *author = nullptr;
        for (const v2_user &u : pp->users) {
            if (!s.d_author_id.empty() && u.id == s.d_author_id) {
                author = &u;
                s.d_author_matched = true;
                break;
            }
        }
        if (!author && !pp->users.empty())
            author = &pp->users[0];
        if (author) {
            handle = author->username;
            out->followers = author->followers;
            out->verified = author->verified;
        }
        out->is_retweet = s.d_retweet;
        out->is_reply = s.d_reply;
    } else if (s.v1_keys) {
        out->shape = POST_SHAPE_TWITTER_V1;
        if (s.id_str_bad || s.id_bad)
            return bad_id;
        id = !s.id_str.empty() ? s.id_str : s.id;
        text = !s.ext_full_text.empty() ? s.ext_full_text
               : !s.full_text.empty()   ? s.full_text
                                        : s.text;
        lang = s.lang;
        created = s.created_at;
        out->platform = strview{"twitter", 7};
        handle = s.user_screen_name;
        out->followers = s.user_followers;
        out->verified = s.user_verified;
        out->is_retweet = s.v1_retweet;
        out->is_reply = s.v1_reply;
    } else {
        out->shape = POST_SHAPE_GENERIC;
        if (s.id_bad)
            return bad_id;
        id = s.id;
        text = s.text;
        lang = s.lang;
        created = s.created_at;
        if (!s.platform.empty())
            out->platform = strview{s.platform.data(), s.platform.size()};
        else
            out->platform = strview{"unknown", 7};
        handle = s.author_handle;
        out->followers = s.author_followers;
        out->verified = s.author_verified;
        out->is_retweet = s.gen_retweet;
        out->is_reply = s.gen_reply;
    }
    if (text.empty())
        return "no text";
    if (!handle.empty() && handle[0] == '@')
        handle.remove_prefix(1);
    out->id = strview{id.data(), id.size()};
    out->text = strview{text.data(), text.size()};
    out->handle = strview{handle.data(), handle.size()};
    out->lang = strview{lang.data(), lang.size()};
    if (!created.empty() &&
        post_date_normalise(created.data(), created.size(), pp->date,
                            &out->created_at_epoch) == 0) {
        out->created_at = strview{pp->date, POST_DATE_LEN};
        out->has_created_at = true;
    }
    finish_links(pp, s, out);
    return nullptr;
}

int parse(post_parser *pp, const char *buf, size_t len, post *out, char *err,
          size_t err_size) {
    if (len > pp->limits.max_bytes) {
        base_err_set(err, err_size, "too large: %zu bytes > limit %zu", len,
                pp->limits.max_bytes);
        return -1;
    }
    /* simdjson reads SIMDJSON_PADDING bytes past the end; the caller's
     * buffer (a Kafka message) gives no such promise, so copy. */
    if (pp->pad_cap < len + simdjson::SIMDJSON_PADDING) {
        size_t cap = len + simdjson::SIMDJSON_PADDING;
        if (cap < 4096)
            cap = 4096;
        char *p = new (std::nothrow) char[cap];
        if (!p) {
            base_err_set(err, err_size, "out of memory");
            return -1;
        }
        delete[] pp->pad;
        pp->pad = p;
        pp->pad_cap = cap;
    }
    if (len)
        memcpy(pp->pad, buf, len);
    memset(pp->pad + len, 0, simdjson::SIMDJSON_PADDING);

    pp->why = R_NONE;
    pp->sj = SUCCESS;
    pp->pad_end = pp->pad + len;
    pp->next_bs = nullptr;
    pp->users.clear();

    od::document doc;
    error_code e =
        pp->parser.iterate(pp->pad, len, pp->pad_cap).get(doc);
    if (e) {
        if (e == simdjson::EMPTY)
            base_err_set(err, err_size, "not JSON: empty");
        else if (e == simdjson::UTF8_ERROR)
            base_err_set(err, err_size, "invalid UTF-8");
        else
            base_err_set(err, err_size, "not JSON: %s", simdjson::error_message(e));
        return -1;
    }

    /* On-Demand does not enforce depth in the fields it skips; the count of
     * openers bounds it, and only a post that could be too deep pays for
     * the exact scan. */
    size_t root_end;
    if (count_openers(pp->pad, len) > pp->limits.max_depth &&
        scan_depth(pp->pad, len, &root_end) > pp->limits.max_depth) {
        base_err_set(err, err_size, "nested too deep");
        return -1;
    }

    scratch s;
    od::json_type t;
    if ((e = doc.type().get(t)))
        goto bad;
    if (t != od::json_type::object) {
        /* type() only looks at the first byte ("this..." reads as a
         * boolean), so tell valid non-object JSON from junk with a full DOM
         * parse. Rejects are rare; the allocation here is not on the hot path. */
        simdjson::dom::parser dom;
        simdjson::dom::element ignored;
        error_code de = dom.parse(pp->pad, len, false).get(ignored);
        if (de == simdjson::UTF8_ERROR)
            base_err_set(err, err_size, "invalid UTF-8");
        else if (de)
            base_err_set(err, err_size, "not JSON: %s", simdjson::error_message(de));
        else
            base_err_set(err, err_size, "not an object");
        return -1;
    }
    {
        /* One pass: the fields we want are read, every other key and value
         * is checked (check_value), so an accepted post is valid JSON. */
        od::object obj;
        if ((e = doc.get_object().get(obj)))
            goto bad;
        for (auto fr : obj) {
            if ((e = fr.error()))
                goto bad;
            od::field &f = fr.value_unsafe();
            const char *k = f.key().raw(); /* check_key may consume the key */
            if ((e = check_key(pp, f)) || (e = read_root_field(pp, k, f.value(), s)))
                goto bad;
        }
    }
    {
        /* the object closed: anything but whitespace after it is garbage */
        const char *loc;
        if (!doc.current_location().get(loc)) {
            base_err_set(err, err_size, "not JSON: trailing content");
            return -1;
        }
    }

    *out = post{};
    if (const char *why = finish(pp, s, out)) {
        base_err_set(err, err_size, "%s", why);
        return -1;
    }
    return 0;

bad:
    if (pp->why == R_NONE)
        fail(pp, e);
    if (pp->why == R_UTF8) {
        base_err_set(err, err_size, "invalid UTF-8");
        return -1;
    }
    /* simdjson reports "{...} x" as an unclosed object; say what it is. */
    scan_depth(pp->pad, len, &root_end);
    if (root_end != SIZE_MAX) {
        size_t i = root_end;
        while (i < len && is_ws(pp->pad[i]))
            i++;
        if (i < len) {
            base_err_set(err, err_size, "not JSON: trailing content");
            return -1;
        }
    }
    base_err_set(err, err_size, "not JSON: %s", simdjson::error_message(pp->sj));
    return -1;
}

} // namespace

/* A zero field in limits means "the default", so callers can set one. */
extern "C" post_parser *post_parser_new(const post_limits *limits) {
    post_limits l = {POST_DEFAULT_MAX_BYTES, POST_DEFAULT_MAX_DEPTH};
    if (limits) {
        if (limits->max_bytes)
            l.max_bytes = limits->max_bytes;
        if (limits->max_depth)
            l.max_depth = limits->max_depth;
    }
    try {
        post_parser *pp = new post_parser(l);
        /* Size simdjson for typical posts now so the hot path does not
         * allocate; a larger message grows it once. */
        size_t cap = l.max_bytes < 65536 ? l.max_bytes : 65536;
        if (pp->parser.allocate(cap) != SUCCESS) {
            delete pp;
            return nullptr;
        }
        pp->users.reserve(16);
        return pp;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void post_parser_free(post_parser *pp) { delete pp; }

extern "C" int post_parse(post_parser *pp, const char *buf, size_t len,
                          post *out, char *err, size_t err_size) {
    try {
        return parse(pp, buf, len, out, err, err_size);
    } catch (...) {
        /* only std::vector growth can throw here */
        base_err_set(err, err_size, "out of memory");
        return -1;
    }
}
