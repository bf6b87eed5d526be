/*
 * base_json: the JSON writer on base_buf (contract in base_json.h).
 *
 * Strings are written in one pass: the worst case (every byte a control
 * character, 6 bytes out) is reserved up front, so the copy loop never
 * checks for room and a failed allocation leaves the buffer untouched.
 * Runs of plain bytes are found 8 at a time (SWAR) and copied as words;
 * only '"', '\\', control characters and, for jbuf_str_bytes(), non-ASCII
 * bytes take the slow path.
 *
 * Escapes: \" \\ \b \f \n \r \t, and \u00XX (lower-case hex) for the other
 * control characters. DEL and everything above U+007F are copied as they
 * are (valid JSON; consumers get the original characters back).
 */
#include "base/base_json.h"

#include <stdint.h>
#include <string.h>

#include "base/base_swar.h"

int jbuf_bool(jbuf *b, int v) {
    return v ? jbuf_raw(b, "true", 4) : jbuf_raw(b, "false", 5);
}

static const char jbuf_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

int jbuf_int(jbuf *b, int64_t v) {
    char tmp[20]; /* 18446744073709551615: 20 digits */
    char *q = tmp + sizeof tmp;
    /* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    while (u >= 100) {
        unsigned i = (unsigned)(u % 100) * 2;
        u /= 100;
        q -= 2;
        q[0] = jbuf_digit_pairs[i];
        q[1] = jbuf_digit_pairs[i + 1];
    }
    if (u >= 10) {
        q -= 2;
        q[0] = jbuf_digit_pairs[u * 2];
        q[1] = jbuf_digit_pairs[u * 2 + 1];
    } else {
        *--q = (char)('0' + u);
    }
    size_t n = (size_t)(tmp + sizeof tmp - q);
    if (jbuf_reserve(b, n + 1) != 0)
        return -1;
    if (v < 0)
        b->data[b->len++] = '-';
    memcpy(b->data + b->len, q, n);
    b->len += n;
    return 0;
}

/* High bit set in the bytes of w that are < 0x20, '"' or '\\'. The borrow
 * trick can misreport only bytes above a true hit, so "any" and "lowest"
 * are exact. */
static inline uint64_t jbuf_word_escapes(uint64_t w) {
    uint64_t quote = w ^ ('"' * BASE_SWAR_ONES);
    uint64_t bslash = w ^ ('\\' * BASE_SWAR_ONES);
    uint64_t t = ((w - 0x20 * BASE_SWAR_ONES) & ~w) |
                 ((quote - BASE_SWAR_ONES) & ~quote) |
                 ((bslash - BASE_SWAR_ONES) & ~bslash);
    return t & BASE_SWAR_HIGH;
}

/* Writes the JSON escape for ASCII byte c (a control, '"' or '\\') at o;
 * returns the bytes written. */
static inline size_t jbuf_escape(unsigned char c, char *o) {
    static const char hex[] = "0123456789abcdef";
    char e;
    switch (c) {
    case '"': e = '"'; break;
    case '\\': e = '\\'; break;
    case '\b': e = 'b'; break;
    case '\f': e = 'f'; break;
    case '\n': e = 'n'; break;
    case '\r': e = 'r'; break;
    case '\t': e = 't'; break;
    default:
        memcpy(o, "\\u00", 4);
        o[4] = hex[c >> 4];
        o[5] = hex[c & 0xF];
        return 6;
    }
    o[0] = '\\';
    o[1] = e;
    return 2;
}

/*
 * Length of the UTF-8 sequence at p (p < end, *p >= 0x80). Returns n > 0
 * for a valid sequence of n bytes, or -n for an ill-formed one whose
 * maximal subpart is n bytes (Unicode's "U+FFFD substitution of maximal
 * subparts", what browsers do): "\xE2\x82(" is one U+FFFD then '('.
 */
static inline int jbuf_utf8_seq(const unsigned char *p,
                                const unsigned char *end) {
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    int n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return -1;
    }
    size_t avail = (size_t)(end - p);
    if (avail < 2 || p[1] < lo || p[1] > hi)
        return -1;
    for (int i = 2; i < n; i++)
        if ((size_t)i >= avail || (p[i] & 0xC0) != 0x80)
            return -i;
    return n;
}

static int jbuf_string(jbuf *b, const char *s, size_t len, int check_utf8) {
    /* 6 bytes out per byte in at worst, the quotes, and 8 bytes of slack
     * so that the last word can be stored whole. */
    if (len > (SIZE_MAX - 10) / 6 || jbuf_reserve(b, len * 6 + 10) != 0)
        return -1;
    /* An empty view may carry a NULL pointer; NULL + 0 is still undefined. */
    const unsigned char *p = (const unsigned char *)(len ? s : "");
    const unsigned char *end = p + len;
    char *o = b->data + b->len;
    uint64_t stop = check_utf8 ? BASE_SWAR_HIGH : 0;

    *o++ = '"';
    while (p < end) {
        /* Where UTF-8 is checked, a lead byte is usually followed by
         * another in non-Latin text: go straight to the slow path. */
        while (*p < 0x80 || !check_utf8) {
            size_t left = (size_t)(end - p);
            uint64_t w;
            if (left >= 8) {
                memcpy(&w, p, 8);
            } else { /* pad a short tail, so ids and tags take this path */
                w = 'a' * BASE_SWAR_ONES;
                memcpy(&w, p, left);
            }
            uint64_t t = (w & stop) | jbuf_word_escapes(w);
            memcpy(o, &w, 8); /* only the clean prefix counts */
            size_t k = t ? base_swar_clean_prefix(t) : 8;
            if (k > left)
                k = left;
            p += k;
            o += k;
            if (k < 8 || p == end)
                break;
        }
        if (p == end)
            break;
        unsigned char c = *p;
        if (c < 0x20 || c == '"' || c == '\\') {
            o += jbuf_escape(c, o);
            p++;
        } else if (c < 0x80 || !check_utf8) {
            *o++ = (char)c;
            p++;
        } else {
            int n = jbuf_utf8_seq(p, end);
            if (n > 0) {
                memcpy(o, p, (size_t)n);
                o += n;
                p += n;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD */
                o += 3;
                p += -n;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

int jbuf_str(jbuf *b, const char *s, size_t len) {
    return jbuf_string(b, s, len, 0);
}

int jbuf_str_bytes(jbuf *b, const char *s, size_t len) {
    return jbuf_string(b, s, len, 1);
}
