/*
 * post_parse_check.cpp: the validation half of the post parser (see
 * post_parse.cpp's header for what is validated and what it costs).
 *
 * simdjson's On-Demand API skips what it is not asked for by structure
 * only, so this file checks every field earshot does not read on its raw
 * token (grammar, atoms, numbers; escapes only where a backslash is), and
 * pre-scans the nesting depth before the parse, including skipped fields.
 *
 * Thread-safety: as post_parse.cpp (state lives in the post_parser).
 */
#include "post/post_parse_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/base_swar.h"

namespace post_detail {

namespace {

/* true, false, null: exactly the word, then only whitespace. */
bool atom_ok(std::string_view tok, std::string_view word) {
    if (tok.substr(0, word.size()) != word)
        return false;
    for (size_t i = word.size(); i < tok.size(); i++)
        if (!is_ws(tok[i]))
            return false;
    return true;
}

/* The next backslash at or after start (pad_end if none). Tokens are
 * asked about in document order, so one memchr serves every token up to
 * it: a post without escapes costs one memchr in all, where a scan per key
 * and string cost ~2 ns each. */
const char *next_escape(post_parser *pp, const char *start) {
    if (pp->next_bs < start) {
        const void *bs = memchr(start, '\\', (size_t)(pp->pad_end - start));
        pp->next_bs = bs ? static_cast<const char *>(bs) : pp->pad_end;
    }
    return pp->next_bs;
}

} // namespace

/* Does a JSON string token contain a \uD800-\uDFFF escape? Only asked after
 * simdjson refused to decode it, to tell "invalid UTF-8" from a bad escape. */
bool has_surrogate_escape(std::string_view tok) {
    for (size_t i = 0; i + 5 < tok.size(); i++) {
        if (tok[i] == '\\') {
            if (tok[i + 1] == 'u' && (tok[i + 2] == 'd' || tok[i + 2] == 'D')) {
                char c = tok[i + 3];
                if ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') ||
                    (c >= 'A' && c <= 'F'))
                    return true;
            }
            i++; /* skip the escaped character */
        }
    }
    return false;
}

/* A string needs decoding only if it has an escape: stage 1 already
 * checked its UTF-8 and its control characters. */
error_code check_string(post_parser *pp, od::value &v) {
    std::string_view tok = v.raw_json_token();
    if (next_escape(pp, tok.data()) >= tok.data() + tok.size())
        return SUCCESS;
    std::string_view ignored;
    return read_str(pp, v, ignored);
}

/* Same for a key; raw points after its opening quote. Its closing quote
 * before the next backslash means no escape (an escaped quote has its
 * backslash first). */
error_code check_key(post_parser *pp, od::field &f) {
    const char *start = f.key().raw();
    const char *bs = next_escape(pp, start);
    if (bs == pp->pad_end || memchr(start, '"', (size_t)(bs - start)))
        return SUCCESS;
    std::string_view key;
    error_code e = f.unescaped_key().get(key);
    if (e) {
        /* as read_str: a lone surrogate is "invalid UTF-8" */
        const char *end = start;
        while (*end != '"')
            end += *end == '\\' ? 2 : 1;
        if (e == simdjson::STRING_ERROR &&
            has_surrogate_escape(std::string_view(start, (size_t)(end - start)))) {
            pp->why = R_UTF8;
            return e;
        }
        return fail(pp, e);
    }
    return SUCCESS;
}

/* A value earshot does not read is still well-formed JSON: On-Demand
 * would skip it by structure only ({"x":tru}, [1,,2], {1:2}, "\q", 01 all
 * pass a skip). Every reader calls this on what it does not consume, so the
 * check replaces the skip rather than adding a second pass. Scalars are
 * checked on their raw token (no conversion, no copy); only strings and
 * keys with an escape are decoded (into the parser's string buffer, after
 * the strings already read). Recursion is bounded by the depth check that
 * runs before. Its object and array loops look like post_parse.cpp's
 * for_fields/for_elements, on purpose: those are the readers' iterators
 * (they call check_value on what a reader skips), this is the validator
 * they call; built on them, the two files would depend on each other. */
error_code check_value(post_parser *pp, od::value &v) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    switch (t) {
    case od::json_type::object: {
        od::object obj;
        if ((e = v.get_object().get(obj)))
            return fail(pp, e);
        for (auto fr : obj) {
            if ((e = fr.error()))
                return fail(pp, e);
            od::field &f = fr.value_unsafe();
            if ((e = check_key(pp, f)) || (e = check_value(pp, f.value())))
                return e;
        }
        return SUCCESS;
    }
    case od::json_type::array: {
        od::array arr;
        if ((e = v.get_array().get(arr)))
            return fail(pp, e);
        for (auto er : arr) {
            if ((e = er.error()))
                return fail(pp, e);
            if ((e = check_value(pp, er.value_unsafe())))
                return e;
        }
        return SUCCESS;
    }
    case od::json_type::string:
        return check_string(pp, v);
    case od::json_type::number:
        return number_ok(v.raw_json_token()) ? SUCCESS
                                              : fail(pp, simdjson::NUMBER_ERROR);
    case od::json_type::boolean: {
        std::string_view tok = v.raw_json_token();
        if (atom_ok(tok, "true") || atom_ok(tok, "false"))
            return SUCCESS;
        return fail(pp, tok[0] == 't' ? simdjson::T_ATOM_ERROR
                                       : simdjson::F_ATOM_ERROR);
    }
    case od::json_type::null:
        return atom_ok(v.raw_json_token(), "null")
                   ? SUCCESS
                   : fail(pp, simdjson::N_ATOM_ERROR);
    }
    return fail(pp, simdjson::TAPE_ERROR);
}


/* A string field: non-strings read as missing (empty), a string that does
 * not decode fails the message. */
error_code read_str(post_parser *pp, od::value &v, std::string_view &out) {
    od::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return fail(pp, e);
    if (t != od::json_type::string) {
        out = std::string_view();
        return check_value(pp, v);
    }
    e = v.get_string().get(out);
    if (e) {
        if (e == simdjson::STRING_ERROR) {
            std::string_view tok = v.raw_json_token();
            if (has_surrogate_escape(tok)) {
                pp->why = R_UTF8;
                return e;
            }
        }
        return fail(pp, e);
    }
    return SUCCESS;
}

/* Exact nesting depth, outside strings. Returns the depth reached, or the
 * offset just past the root's closing bracket via *root_end (SIZE_MAX if the
 * root never closes). Scalar: only run when the cheap count below says the
 * limit could be exceeded, or on the error path. */
size_t scan_depth(const char *p, size_t n, size_t *root_end) {
    size_t depth = 0, max = 0;
    bool in_str = false;
    *root_end = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            if (--depth == 0 && *root_end == SIZE_MAX)
                *root_end = i + 1;
        }
    }
    return max;
}

/* Count of '{' and '[' bytes (strings included): an upper bound on the
 * depth, so only a post that could be too deep pays for the exact scan.
 * '[' is 0x5B and '{' 0x7B: c | 0x20 == 0x7B catches both and nothing else.
 * SSE2 (every x86-64) does 16 bytes per step; elsewhere 8 bytes of SWAR. */
size_t count_openers(const char *p, size_t n) {
    size_t count = 0, i = 0;
#if defined(__SSE2__)
    const __m128i bit = _mm_set1_epi8(0x20), target = _mm_set1_epi8(0x7B);
    while (i + 16 <= n) {
        /* byte lanes count to at most 255 before they are summed */
        size_t stop = n - i >= 255 * 16 ? i + 255 * 16 : n - (n - i) % 16;
        __m128i acc = _mm_setzero_si128();
        for (; i < stop; i += 16) {
            __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_or_si128(v, bit), target));
        }
        __m128i sum = _mm_sad_epu8(acc, _mm_setzero_si128());
        count += (size_t)_mm_cvtsi128_si64(sum) +
                 (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
    }
#else
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t t = (x | 0x2020202020202020ULL) ^ 0x7B7B7B7B7B7B7B7BULL;
        uint64_t z = ~(((t & low7) + low7) | t | low7); /* 0x80 where t==0 */
        count += base_swar_count(z);
    }
#endif
    for (; i < n; i++)
        count += ((unsigned char)p[i] | 0x20) == 0x7B;
    return count;
}

} // namespace post_detail
