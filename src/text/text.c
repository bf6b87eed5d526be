/*
 * text: strict UTF-8 validation, the normal form, shouting signals.
 *
 * The normal form, per code point (see text.h for why per code point):
 *   ASCII        A-Z -> a-z; control characters other than \t \n \r (and
 *                DEL) -> ' '. Done 8 bytes at a time (SWAR) while the input
 *                is ASCII, by a 128-entry table otherwise.
 *   C1 controls  U+0080..U+009F -> ' ', like the ASCII controls.
 *   the rest     utf8proc_decompose_char() with
 *                COMPAT|DECOMPOSE|CASEFOLD|STRIPMARK (NFKD, case folded,
 *                combining marks removed) plus two choices of ours:
 *     - UTF8PROC_IGNORE: default-ignorable code points are removed: zero
 *       width space/joiner/non-joiner, soft hyphen, BOM, variation
 *       selectors, tag characters. Reason: they are invisible, so a reader
 *       sees "Com<U+00AD>cast" or "❤<U+FE0F>" as "Comcast" and "❤", and
 *       rules should too. Cost: an emoji ZWJ sequence becomes its emoji in
 *       a row (👨‍👩‍👧 -> 👨👩👧) and a subdivision flag its black flag;
 *       patterns go through the same function, so they still agree.
 *     - UTF8PROC_LUMP: look-alike punctuation becomes ASCII. NFKD alone
 *       leaves U+2011 NON-BREAKING HYPHEN as U+2010 HYPHEN, so "T‑Mobile"
 *       would not match "t-mobile". LUMP maps every dash punctuation
 *       (U+2010..U+2015, U+2E3A, U+301C, ...) and U+2212 MINUS to '-',
 *       U+2018/U+2019/U+02BC to '\'' (phones type "can’t"), all space
 *       separators to ' ', and U+2044 FRACTION SLASH to '/', so "2½" reads
 *       "21/2" and "2 ½ hours" reads "2 1/2 hours".
 *   Emoji, CJK, right-to-left scripts and unassigned code points pass
 *   through unchanged. Stripping marks is lossy for scripts that write
 *   vowels as marks (Devanagari matras, Arabic harakat, Hebrew niqqud,
 *   Japanese dakuten): good for matching (harakat are optional in writing),
 *   a source of extra matches for Indic rules.
 *   Hangul syllables come out as conjoining jamo (NFKD); both sides agree.
 *
 * The normal form is idempotent over every code point (the unit test checks
 * all of them), so normalising a pattern twice is harmless.
 *
 * Cost (bench/bench_text.c, this 2-core machine, ~300-byte posts, thread
 * CPU time): normalize ASCII ~50 ns (0.15 ns/B), English with emoji
 * ~100 ns, Arabic ~250-300 ns; a code point not in the cache costs ~15 ns in
 * utf8proc. text_shouting ~90 ns ASCII, ~135 ns emoji, ~240 ns Arabic.
 */
#include "text/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "base/base_swar.h"

#define TEXT_NF_OPTIONS                                                    \
    ((utf8proc_option_t)(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |            \
                         UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |          \
                         UTF8PROC_IGNORE | UTF8PROC_LUMP))

/* The longest full decomposition in Unicode 15 is 18 code points (U+FDFA);
 * the unit test walks every code point against this bound. */
#define TEXT_MAX_DECOMP 32

/*
 * Posts in one language reuse a few hundred code points, and utf8proc costs
 * ~15 ns per code point (table walks, recursion): a direct-mapped cache of
 * normal forms, owned by the text_norm, makes a repeat ~2 ns. Forms longer
 * than TEXT_CACHE_BYTES (rare: ligatures, squared words) are not cached.
 * 512 entries x 16 bytes = 8 KiB per worker, inside L1.
 */
#define TEXT_CACHE_SLOTS 512
#define TEXT_CACHE_BYTES 11

typedef struct text_cache_slot {
    uint32_t cp; /* 0 = empty: U+0000 never reaches the cache */
    uint8_t len;
    unsigned char bytes[TEXT_CACHE_BYTES];
} text_cache_slot;

struct text_norm {
    char *buf;
    size_t cap;
    char *ent;      /* the input with HTML entities decoded (posts with '&') */
    size_t ent_cap;
    text_cache_slot cache[TEXT_CACHE_SLOTS];
};

/* ASCII -> normal form: lower case, controls except \t \n \r to ' '. */
static const unsigned char text_ascii_nf[128] = {
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x09, 0x0a, 0x20,
    0x20, 0x0d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
    0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73,
    0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x20,
};

/* High bit set in each byte of w (all < 0x80) that lies in lo..hi. */
static inline uint64_t text_in_range(uint64_t w, unsigned lo, unsigned hi) {
    uint64_t ge_lo = w + (0x80 - lo) * BASE_SWAR_ONES;
    uint64_t gt_hi = w + (0x80 - hi - 1) * BASE_SWAR_ONES;
    return ge_lo & ~gt_hi & BASE_SWAR_HIGH;
}

text_norm *text_norm_new(void) {
    return calloc(1, sizeof(text_norm));
}

void text_norm_free(text_norm *tn) {
    if (!tn)
        return;
    free(tn->buf);
    free(tn->ent);
    free(tn);
}

/*
 * Decodes one UTF-8 sequence at p (p < end) strictly, per Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF. Returns its
 * length (1..4) and sets *cp, or 0 when the bytes at p are not valid UTF-8.
 */
static inline size_t text_utf8_decode(const unsigned char *p,
                                      const unsigned char *end,
                                      uint32_t *cp) {
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) |
              (p[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
        if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
              ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

static inline size_t text_utf8_encode(uint32_t cp, unsigned char *o) {
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

bool text_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    while (p < end) {
        /* Posts are mostly ASCII: skip it a word at a time. */
        while ((size_t)(end - p) >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & BASE_SWAR_HIGH)
                break;
            p += 8;
        }
        if (p == end)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        uint32_t cp;
        size_t n = text_utf8_decode(p, end, &cp);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

/* Grows tn->buf to at least need bytes. */
static int text_norm_grow(text_norm *tn, size_t need) {
    if (need <= tn->cap)
        return 0;
    size_t cap = tn->cap ? tn->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *buf = realloc(tn->buf, cap);
    if (!buf)
        return -1;
    tn->buf = buf;
    tn->cap = cap;
    return 0;
}

/*
 * 8 bytes -> their ASCII normal form in *out, and the return value flags
 * (high bit) the bytes that need the slow path: non-ASCII and control
 * characters. A byte >= 0x80 can carry into the byte above it, so flags and
 * output are exact up to the first flagged byte, which is all that is used.
 */
static inline uint64_t text_ascii_word(uint64_t w, uint64_t *out) {
    uint64_t below_space = (w + (0x80 - 0x20) * BASE_SWAR_ONES) ^ BASE_SWAR_HIGH;
    uint64_t is_del = ((w ^ (0x7F * BASE_SWAR_ONES)) + 0x7F * BASE_SWAR_ONES) ^ BASE_SWAR_HIGH;
    uint64_t upper = text_in_range(w, 'A', 'Z');
    *out = w | (upper >> 2); /* 0x80 >> 2 == 0x20, the case bit */
    return (w | below_space | is_del) & BASE_SWAR_HIGH;
}

/*
 * HTML character references. Twitter's APIs return text with "&amp;",
 * "&lt;" and "&gt;" escaped, so "&lt;3" would never match a "<3" term and
 * "AT&amp;T" never "at&t". Only the references that occur in such text are
 * decoded: the five XML ones, &nbsp;, and numeric ones (&#NNN; &#xHH;) that
 * name a valid scalar value other than NUL. Anything else stays as written.
 * Decoding never lengthens the text: the shortest reference ("&lt;", 4
 * bytes) yields one byte and a numeric one at most 4 bytes from >= 4.
 * Cost: one memchr for text without '&' (most posts).
 */
static const struct {
    const char *name; /* without '&' and ';' */
    unsigned char len;
    uint32_t cp;
} text_entities[] = {
    {"amp", 3, '&'}, {"lt", 2, '<'},    {"gt", 2, '>'},
    {"quot", 4, '"'}, {"apos", 4, '\''}, {"nbsp", 4, 0xA0},
};

/* Decodes the reference at s[0] == '&'; returns its length and sets *cp, or
 * 0 when s does not start a reference earshot decodes. */
static size_t text_entity(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n >= 4 && s[1] == '#') {
        size_t i = 2;
        uint32_t v = 0;
        int hex = s[2] == 'x' || s[2] == 'X', digits = 0;
        if (hex)
            i++;
        for (; i < n && digits < 8; i++, digits++) {
            unsigned c = s[i], d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                d = (c | 0x20) - 'a' + 10;
            else
                break;
            v = v * (hex ? 16 : 10) + d;
        }
        if (digits == 0 || i >= n || s[i] != ';' || v == 0 || v > 0x10FFFF ||
            (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return i + 1;
    }
    for (size_t k = 0; k < sizeof(text_entities) / sizeof(text_entities[0]); k++) {
        size_t l = text_entities[k].len;
        if (n >= l + 2 && memcmp(s + 1, text_entities[k].name, l) == 0 &&
            s[l + 1] == ';') {
            *cp = text_entities[k].cp;
            return l + 2;
        }
    }
    return 0;
}

/* s with references decoded, into tn->ent; *len updated. NULL on OOM. */
static const char *text_decode_entities(text_norm *tn, const char *s,
                                        size_t *len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + *len;
    const unsigned char *amp = memchr(p, '&', *len);
    size_t o;

    if (!amp)
        return s;
    if (*len > tn->ent_cap) {
        char *b = realloc(tn->ent, *len);
        if (!b)
            return NULL;
        tn->ent = b;
        tn->ent_cap = *len;
    }
    unsigned char *dst = (unsigned char *)tn->ent;
    o = (size_t)(amp - p);
    memcpy(dst, p, o);
    for (p = amp; p < end;) {
        uint32_t cp;
        size_t k = *p == '&' ? text_entity(p, (size_t)(end - p), &cp) : 0;
        if (k) {
            o += text_utf8_encode(cp, dst + o);
            p += k;
        } else {
            dst[o++] = *p++;
        }
    }
    *len = o;
    return tn->ent;
}

int text_normalize(text_norm *tn, const char *s, size_t len,
                   const char **out, size_t *out_len) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    size_t o = 0;

    /* Decoding copies bytes it does not understand and inserts only whole
     * UTF-8 sequences, so invalid input is still caught below. */
    if (memchr(s, '&', len)) {
        if (!(s = text_decode_entities(tn, s, &len)))
            return -1;
        p = (const unsigned char *)s;
        end = p + len;
    }

    /* Invariant: tn->cap - o >= (end - p) + 8, so the ASCII paths (one byte
     * out per byte in, 8-byte stores) never check for room. */
    if (len > SIZE_MAX - 8 || text_norm_grow(tn, len + 8) != 0)
        return -1;
    unsigned char *dst = (unsigned char *)tn->buf;

    while (p < end) {
        /* In a non-Latin script the next byte is usually a lead byte
         * again: trying the word path there costs more than it saves. */
        while ((size_t)(end - p) >= 8 && *p < 0x80) {
            uint64_t w, nf;
            memcpy(&w, p, 8);
            uint64_t t = text_ascii_word(w, &nf);
            memcpy(dst + o, &nf, 8); /* only the clean prefix counts */
            if (t) {
                size_t k = base_swar_clean_prefix(t);
                p += k;
                o += k;
                break;
            }
            p += 8;
            o += 8;
        }
        if (p == end)
            break;
        if (*p < 0x80) {
            dst[o++] = text_ascii_nf[*p++];
            continue;
        }

        uint32_t cp;
        size_t n = text_utf8_decode(p, end, &cp);
        if (n == 0)
            return -1;
        p += n;

        if (cp < 0xA0) { /* C1 controls */
            dst[o++] = ' ';
            continue;
        }
        text_cache_slot *slot = &tn->cache[cp % TEXT_CACHE_SLOTS];
        if (slot->cp == cp) {
            /* A form can be longer than its input ("½" -> "1/2"). */
            size_t need = o + slot->len + (size_t)(end - p) + 8;
            if (need > tn->cap) {
                if (text_norm_grow(tn, need) != 0)
                    return -1;
                dst = (unsigned char *)tn->buf;
            }
            memcpy(dst + o, slot->bytes, slot->len);
            o += slot->len;
            continue;
        }
        utf8proc_int32_t d[TEXT_MAX_DECOMP];
        utf8proc_ssize_t nd = utf8proc_decompose_char(
            (utf8proc_int32_t)cp, d, TEXT_MAX_DECOMP, TEXT_NF_OPTIONS, NULL);
        if (nd < 0 || nd > TEXT_MAX_DECOMP)
            return -1;
        size_t need = o + (size_t)nd * 4 + (size_t)(end - p) + 8;
        if (need > tn->cap) {
            if (text_norm_grow(tn, need) != 0)
                return -1;
            dst = (unsigned char *)tn->buf;
        }
        size_t start = o;
        for (utf8proc_ssize_t i = 0; i < nd; i++)
            o += text_utf8_encode((uint32_t)d[i], dst + o);
        if (o - start <= TEXT_CACHE_BYTES) {
            slot->cp = cp;
            slot->len = (uint8_t)(o - start);
            memcpy(slot->bytes, dst + start, o - start);
        }
    }

    *out = tn->buf;
    *out_len = o;
    return 0;
}

enum { TEXT_CASE_NONE = 0, TEXT_CASE_LOWER = 1, TEXT_CASE_UPPER = 2 };

/*
 * Only cased letters count for shouting: Arabic or CJK letters are neither
 * upper nor lower case and would only dilute the ratio. utf8proc_category()
 * costs ~4 ns a call, most of the budget for a 100-letter Arabic post, so
 * whole blocks that Unicode 15 keeps caseless, and basic Cyrillic, are
 * answered here (the unit test checks these ranges against utf8proc).
 */
static int text_case_class(uint32_t cp) {
    if ((cp >= 0x0590 && cp <= 0x109F) ||   /* Hebrew .. Myanmar */
        (cp >= 0x1100 && cp <= 0x11FF) ||   /* Hangul jamo */
        (cp >= 0x2E80 && cp <= 0xA4CF) ||   /* CJK, kana, Yi */
        (cp >= 0xAC00 && cp <= 0xD7FF) ||   /* Hangul syllables */
        (cp >= 0x1F000 && cp <= 0x1FBFF))   /* emoji, symbols */
        return TEXT_CASE_NONE;
    if (cp >= 0x0400 && cp <= 0x045F)       /* basic Cyrillic */
        return cp < 0x0430 ? TEXT_CASE_UPPER : TEXT_CASE_LOWER;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return TEXT_CASE_UPPER;
    case UTF8PROC_CATEGORY_LL:
        return TEXT_CASE_LOWER;
    default:
        return TEXT_CASE_NONE;
    }
}

text_shout text_shouting(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    unsigned upper = 0, letters = 0, run = 0, max_run = 0;
    text_shout ts = {0.0, 0};

    while (p < end) {
        /* 8 ASCII bytes without a '!' at a time: count letters by mask. */
        while ((size_t)(end - p) >= 8 && *p < 0x80) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t bang = w ^ ('!' * BASE_SWAR_ONES);
            /* Lowest flagged byte is exact (borrows only run upwards). */
            uint64_t t = (w & BASE_SWAR_HIGH) |
                         ((bang - BASE_SWAR_ONES) & ~bang & BASE_SWAR_HIGH);
            size_t k = t ? base_swar_clean_prefix(t) : 8;
            if (k == 0)
                break;
            uint64_t keep = k == 8 ? ~UINT64_C(0) : ~UINT64_C(0) >> (64 - 8 * k);
            upper += base_swar_count(text_in_range(w, 'A', 'Z') & keep);
            /* b | 0x20 is in a..z exactly when b is an ASCII letter. */
            letters += base_swar_count(
                text_in_range(w | (0x20 * BASE_SWAR_ONES), 'a', 'z') & keep);
            run = 0;
            p += k;
            if (k < 8)
                break;
        }
        if (p == end)
            break;
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            if (c == '!') {
                if (++run > max_run)
                    max_run = run;
                continue;
            }
            run = 0;
            if (c - 'A' < 26u) {
                upper++;
                letters++;
            } else if (c - 'a' < 26u) {
                letters++;
            }
            continue;
        }
        uint32_t cp;
        size_t n = text_utf8_decode(p, end, &cp);
        if (n == 0) { /* not ours to judge: skip the byte */
            p++;
            run = 0;
            continue;
        }
        p += n;
        if (cp == 0xFF01) { /* FULLWIDTH EXCLAMATION MARK */
            if (++run > max_run)
                max_run = run;
            continue;
        }
        run = 0;
        switch (text_case_class(cp)) {
        case TEXT_CASE_UPPER:
            upper++;
            letters++;
            break;
        case TEXT_CASE_LOWER:
            letters++;
            break;
        default:
            break;
        }
    }
    if (letters >= 8)
        ts.caps_ratio = (double)upper / (double)letters;
    ts.max_bang_run = max_run;
    return ts;
}
