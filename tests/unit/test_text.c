/*
 * Unit tests for src/text: strict UTF-8 validation, the normal form, and
 * the shouting signals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "text/text.h"

/* Normalises s and compares with the expected bytes. */
static void assert_nf(text_norm *tn, const char *s, const char *want) {
    const char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(text_normalize(tn, s, strlen(s), &out, &out_len), 0);
    if (out_len != strlen(want) || memcmp(out, want, out_len) != 0)
        fail_msg("normalize(\"%s\") = \"%.*s\", want \"%s\"", s, (int)out_len,
                 out, want);
}

static size_t utf8_put(uint32_t cp, char *o) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void test_utf8_valid_accepts(void **state) {
    (void)state;
    static const struct {
        const char *s;
        size_t len;
    } ok[] = {
        {"", 0},
        {"plain ascii, longer than one word", 33},
        {"a\0b", 3},                     /* NUL is a valid code point */
        {"\xC2\x80", 2},                 /* U+0080, smallest 2-byte */
        {"\xDF\xBF", 2},                 /* U+07FF */
        {"\xE0\xA0\x80", 3},             /* U+0800, smallest 3-byte */
        {"\xED\x9F\xBF", 3},             /* U+D7FF, just below surrogates */
        {"\xEE\x80\x80", 3},             /* U+E000, just above surrogates */
        {"\xEF\xBF\xBF", 3},             /* U+FFFF */
        {"\xF0\x90\x80\x80", 4},         /* U+10000 */
        {"\xF4\x8F\xBF\xBF", 4},         /* U+10FFFF, the last one */
        {"caf\xC3\xA9 \xF0\x9F\x98\x80 \xD9\x85\xD8\xB1", 15},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!text_utf8_valid(ok[i].s, ok[i].len))
            fail_msg("valid case %zu rejected", i);
}

static void test_utf8_valid_rejects(void **state) {
    (void)state;
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {"\x80", 1},                     /* lone continuation */
        {"\xBF", 1},
        {"\xC0\x80", 2},                 /* overlong NUL */
        {"\xC1\xBF", 2},                 /* overlong */
        {"\xE0\x80\x80", 3},             /* overlong 3-byte */
        {"\xE0\x9F\xBF", 3},             /* overlong U+07FF */
        {"\xED\xA0\x80", 3},             /* U+D800 surrogate */
        {"\xED\xBF\xBF", 3},             /* U+DFFF surrogate */
        {"\xF0\x80\x80\x80", 4},         /* overlong 4-byte */
        {"\xF0\x8F\xBF\xBF", 4},         /* overlong U+FFFF */
        {"\xF4\x90\x80\x80", 4},         /* U+110000 */
        {"\xF5\x80\x80\x80", 4},         /* lead byte above F4 */
        {"\xFF", 1},
        {"\xC3", 1},                     /* truncated at end */
        {"\xE2\x82", 2},
        {"\xF0\x9F\x98", 3},
        {"\xC3(", 2},                    /* bad continuation */
        {"\xE2\x28\xA1", 3},
        {"0123456789abcdef\xC3", 17},    /* after the word-at-a-time skip */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (text_utf8_valid(bad[i].s, bad[i].len))
            fail_msg("invalid case %zu accepted", i);
    /* The length bounds the read: a valid sequence cut by len is invalid. */
    assert_false(text_utf8_valid("\xC3\xA9", 1));
    assert_true(text_utf8_valid("\xC3\xA9", 2));
}

static void test_normalize_brief_cases(void **state) {
    (void)state;
    text_norm *tn = text_norm_new();
    assert_non_null(tn);

    /* Fullwidth -> ASCII, accents stripped, case folded. */
    assert_nf(tn, "\xEF\xBC\xA3\xEF\xBC\xAF\xEF\xBC\xAD\xEF\xBC\xA3\xEF\xBC\xA1"
                  "\xEF\xBC\xB3\xEF\xBC\xB4", "comcast");
    assert_nf(tn, "Comc\xC3\xA1st", "comcast");
    assert_nf(tn, "COMCAST", "comcast");
    /* Decomposed input: e + COMBINING ACUTE ACCENT. */
    assert_nf(tn, "cafe\xCC\x81", "cafe");
    assert_nf(tn, "caf\xC3\xA9", "cafe");
    /* NON-BREAKING HYPHEN (NFKD gives U+2010, LUMP gives '-'), en/em dash,
     * MINUS SIGN. */
    assert_nf(tn, "T\xE2\x80\x91Mobile", "t-mobile");
    assert_nf(tn, "T\xE2\x80\x90Mobile", "t-mobile");
    assert_nf(tn, "a\xE2\x80\x93" "b\xE2\x80\x94" "c\xE2\x80\x95" "d", "a-b-c-d");
    assert_nf(tn, "\xE2\x88\x92" "5", "-5");
    /* Sharp s and capital sharp s fold to "ss". */
    assert_nf(tn, "Stra\xC3\x9F" "e", "strasse");
    assert_nf(tn, "\xE1\xBA\x9E", "ss");
    /* Emoji pass through unchanged. */
    assert_nf(tn, "ugh \xF0\x9F\x98\xA1\xF0\x9F\x98\xA1 #FAIL",
              "ugh \xF0\x9F\x98\xA1\xF0\x9F\x98\xA1 #fail");
    /* Arabic and Hebrew letters pass; Hebrew niqqud (marks) are stripped. */
    assert_nf(tn, "\xD8\xB4\xD9\x83\xD8\xB1\xD8\xA7", "\xD8\xB4\xD9\x83\xD8\xB1\xD8\xA7");
    assert_nf(tn, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D");
    assert_nf(tn, "\xD7\xA9\xD6\xB8\xD7\x9C\xD7\x95\xD6\xB9\xD7\x9D",
              "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D");
    /* Default ignorables removed: ZWJ, VS16, soft hyphen, ZWSP, BOM. */
    assert_nf(tn, "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
              "\xF0\x9F\x91\xA8\xF0\x9F\x91\xA9");
    assert_nf(tn, "\xE2\x9D\xA4\xEF\xB8\x8F", "\xE2\x9D\xA4");
    assert_nf(tn, "Com\xC2\xAD" "cast", "comcast");
    assert_nf(tn, "Com\xE2\x80\x8B" "cast", "comcast");
    assert_nf(tn, "\xEF\xBB\xBFhi", "hi");
    /* Smart apostrophe -> ASCII, vulgar fraction -> digits. */
    assert_nf(tn, "Can\xE2\x80\x99t", "can't");
    assert_nf(tn, "2 \xC2\xBD hours", "2 1/2 hours");
    /* Space separators: NBSP and IDEOGRAPHIC SPACE -> ' '. */
    assert_nf(tn, "on\xC2\xA0hold\xE3\x80\x80now", "on hold now");
    /* Ligature, Kelvin sign, dotted capital I, final sigma. */
    assert_nf(tn, "\xEF\xAC\x81ne", "fine");
    assert_nf(tn, "\xE2\x84\xAA", "k");
    assert_nf(tn, "\xC4\xB0stanbul", "istanbul");
    assert_nf(tn, "\xCE\xA3\xCE\x9F\xCE\xA3", "\xCF\x83\xCE\xBF\xCF\x83");
    assert_nf(tn, "\xCF\x82", "\xCF\x83");
    /* Controls -> ' ' except \t \n \r, ASCII and C1 alike; DEL too. */
    assert_nf(tn, "a\x01" "b\tc\nd\re\x7F" "f\xC2\x85g\xC2\x9Fh",
              "a b\tc\nd\re f g h");
    /* Empty input. */
    assert_nf(tn, "", "");
    text_norm_free(tn);
}

/* HTML character references as Twitter sends them are decoded before the
 * normal form; anything that is not one of them stays as written. */
static void test_normalize_entities(void **state) {
    (void)state;
    text_norm *tn = text_norm_new();
    assert_nf(tn, "I &lt;3 AT&amp;T", "i <3 at&t");
    assert_nf(tn, "&quot;ok&quot; &apos;x&apos; a&gt;b", "\"ok\" 'x' a>b");
    assert_nf(tn, "a&nbsp;b", "a b");
    assert_nf(tn, "&#128545; &#x1F621;&#X41;", "\xf0\x9f\x98\xa1 \xf0\x9f\x98\xa1" "a");
    /* Not references: no ';', unknown names, NUL, surrogates, too big. */
    assert_nf(tn, "fish &amp chips &copy; &#0; &#xD800; &#x110000; &#; &",
              "fish &amp chips &copy; &#0; &#xd800; &#x110000; &#; &");
    /* One level only: "&amp;lt;" is the text "&lt;". */
    assert_nf(tn, "&amp;lt;", "&lt;");
    /* Invalid UTF-8 is still refused when the text has a '&'. */
    const char *out;
    size_t out_len;
    assert_int_equal(text_normalize(tn, "&amp;\xff", 6, &out, &out_len), -1);
    text_norm_free(tn);
}

static void test_normalize_rejects_invalid(void **state) {
    (void)state;
    text_norm *tn = text_norm_new();
    const char *out;
    size_t out_len;
    assert_int_equal(text_normalize(tn, "ok \xC0\x80", 5, &out, &out_len), -1);
    assert_int_equal(text_normalize(tn, "\xED\xA0\x80", 3, &out, &out_len), -1);
    assert_int_equal(text_normalize(tn, "abcdefghij\xE2\x82", 12, &out, &out_len),
                     -1);
    /* The buffer stays usable after a failure. */
    assert_int_equal(text_normalize(tn, "OK", 2, &out, &out_len), 0);
    assert_int_equal(out_len, 2);
    assert_memory_equal(out, "ok", 2);
    text_norm_free(tn);
}

/* The rule for ASCII, written the slow way, to check the word-at-a-time
 * path against. */
static char ref_ascii(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return (char)(c + 32);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
        return ' ';
    return (char)c;
}

static void test_normalize_ascii_all_positions(void **state) {
    (void)state;
    text_norm *tn = text_norm_new();
    char in[64], want[64];
    const char *out;
    size_t out_len;

    /* Every ASCII byte at every offset of a 3-word string. */
    for (unsigned c = 0; c < 128; c++) {
        for (size_t pos = 0; pos < 24; pos++) {
            memset(in, 'Q', 24);
            in[pos] = (char)c;
            for (size_t i = 0; i < 24; i++)
                want[i] = ref_ascii((unsigned char)in[i]);
            assert_int_equal(text_normalize(tn, in, 24, &out, &out_len), 0);
            assert_int_equal(out_len, 24);
            if (memcmp(out, want, 24) != 0)
                fail_msg("byte 0x%02x at %zu", c, pos);
        }
    }
    /* Random ASCII of every length up to 64. */
    srand(12345);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rand() % 65);
        for (size_t i = 0; i < len; i++) {
            in[i] = (char)(rand() % 128);
            want[i] = ref_ascii((unsigned char)in[i]);
        }
        assert_int_equal(text_normalize(tn, in, len, &out, &out_len), 0);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, want, len);
    }
    text_norm_free(tn);
}

/* Random mixes at every alignment, against the normal form built code
 * point by code point straight from utf8proc: checks the word-at-a-time
 * path, the per-worker cache (U+0100 and U+0300 share a slot) and growth
 * together. */
static void test_normalize_random_vs_reference(void **state) {
    (void)state;
    static const uint32_t pool[] = {
        'a', 'Z', ' ', '\n', 0x01, 0x7F, '!', '7', 0xC9, 0xE9, 0x0100,
        0x0300, 0x0301, 0x0634, 0x05B8, 0x1F621, 0xFE0F, 0x200D, 0x2011,
        0xFF21, 0xDF, 0xFDFA, 0x0085, 0xBD, 0xAC00,
    };
    const utf8proc_option_t opts =
        (utf8proc_option_t)(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
                            UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
                            UTF8PROC_IGNORE | UTF8PROC_LUMP);
    text_norm *tn = text_norm_new();
    char s[512], want[4096];
    srand(2024);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0, wlen = 0, n = (size_t)(rand() % 100);
        for (size_t i = 0; i < n; i++) {
            uint32_t cp = pool[(size_t)rand() % (sizeof pool / sizeof pool[0])];
            len += utf8_put(cp, s + len);
            if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
                (cp >= 0x7F && cp < 0xA0)) {
                want[wlen++] = ' ';
                continue;
            }
            utf8proc_int32_t d[32];
            utf8proc_ssize_t nd = utf8proc_decompose_char(
                (utf8proc_int32_t)cp, d, 32, opts, NULL);
            assert_true(nd >= 0 && nd <= 32);
            for (utf8proc_ssize_t k = 0; k < nd; k++)
                wlen += utf8_put((uint32_t)d[k], want + wlen);
        }
        const char *out;
        size_t out_len;
        assert_int_equal(text_normalize(tn, s, len, &out, &out_len), 0);
        if (out_len != wlen || memcmp(out, want, wlen) != 0)
            fail_msg("iteration %d: normal form differs from the reference",
                     iter);
    }
    text_norm_free(tn);
}

/*
 * Every code point: the normal form of a code point is valid UTF-8 and
 * normalising it again changes nothing (patterns may be normalised twice:
 * once by the analyst's tooling, once by the rules loader).
 */
static void test_normalize_every_code_point(void **state) {
    (void)state;
    text_norm *tn = text_norm_new();
    char in[4];
    char once[256];
    size_t checked = 0;

    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        size_t n = utf8_put(cp, in);
        const char *out;
        size_t out_len;
        if (text_normalize(tn, in, n, &out, &out_len) != 0)
            fail_msg("U+%04X: normalize failed", cp);
        if (!text_utf8_valid(out, out_len))
            fail_msg("U+%04X: output is not valid UTF-8", cp);
        assert_true(out_len <= sizeof once);
        memcpy(once, out, out_len);
        size_t once_len = out_len;
        if (text_normalize(tn, once, once_len, &out, &out_len) != 0)
            fail_msg("U+%04X: second normalize failed", cp);
        if (out_len != once_len || memcmp(out, once, once_len) != 0)
            fail_msg("U+%04X: normal form is not idempotent", cp);
        checked++;
    }
    assert_int_equal(checked, 0x110000 - 0x800);
    text_norm_free(tn);
}

/* U+FDFA (3 bytes) becomes 18 Arabic code points (33 bytes): the output
 * buffer must grow mid-string. */
static void test_normalize_growth(void **state) {
    (void)state;
    text_norm *tn = text_norm_new();
    enum { N = 1000 };
    char *in = malloc(N * 3 + 1);
    assert_non_null(in);
    for (size_t i = 0; i < N; i++)
        memcpy(in + i * 3, "\xEF\xB7\xBA", 3);
    const char *out;
    size_t out_len;
    assert_int_equal(text_normalize(tn, in, N * 3, &out, &out_len), 0);
    /* 15 two-byte letters + 3 spaces per ligature. */
    assert_int_equal(out_len, (size_t)N * 33);
    assert_true(text_utf8_valid(out, out_len));
    assert_memory_equal(out + 32 * 33, out, 33);
    assert_memory_equal(out, "\xD8\xB5\xD9\x84\xD9\x89 ", 7);
    free(in);
    text_norm_free(tn);
}

static void test_shouting(void **state) {
    (void)state;
    text_shout ts;

    ts = text_shouting("WORST SERVICE EVER!!!!!!!!", 26);
    assert_true(ts.caps_ratio == 1.0);
    assert_int_equal(ts.max_bang_run, 8);

    /* 6 upper of 12 letters; runs of 2 and 3 (a space breaks a run). */
    ts = text_shouting("ABCdef GHIjkl!! !!!", 19);
    assert_true(ts.caps_ratio == 0.5);
    assert_int_equal(ts.max_bang_run, 3);

    /* Fewer than 8 letters: ratio 0 however loud. */
    ts = text_shouting("UGH!!! WTF", 10);
    assert_true(ts.caps_ratio == 0.0);
    assert_int_equal(ts.max_bang_run, 3);

    /* Fullwidth capitals are upper case letters; fullwidth '!' counts. */
    ts = text_shouting("\xEF\xBC\xA3\xEF\xBC\xAF\xEF\xBC\xAD\xEF\xBC\xA3\xEF\xBC\xA1"
                       "\xEF\xBC\xB3\xEF\xBC\xB4 sucks\xEF\xBC\x81\xEF\xBC\x81!",
                       34);
    assert_true(ts.caps_ratio == 7.0 / 12.0);
    assert_int_equal(ts.max_bang_run, 3);

    /* Caseless letters (Arabic) do not count as letters. */
    ts = text_shouting("\xD8\xB4\xD9\x83\xD8\xB1\xD8\xA7 ABCDEFGH", 17);
    assert_true(ts.caps_ratio == 1.0);

    /* Accented capitals count: 8 upper out of 8. */
    ts = text_shouting("\xC3\x89TAIT NUL", 10);
    assert_true(ts.caps_ratio == 1.0);

    /* Invalid bytes are skipped and break a run, and nothing is read past
     * len. */
    ts = text_shouting("!!\xFF!!!\xC3", 7);
    assert_int_equal(ts.max_bang_run, 3);
    ts = text_shouting("!!!!", 2);
    assert_int_equal(ts.max_bang_run, 2);

    ts = text_shouting("", 0);
    assert_true(ts.caps_ratio == 0.0);
    assert_int_equal(ts.max_bang_run, 0);
}

/* Random mixes of ASCII, '!', accented, caseless and fullwidth characters
 * at every alignment, against a count made code point by code point. */
static void test_shouting_random_vs_reference(void **state) {
    (void)state;
    static const uint32_t pool[] = {
        'a', 'b', 'Z', 'Q', ' ', '!', '!', '!', '.', '7', 0xC9, 0xE9, 0x0634,
        0x1F621, 0xFF01, 0xFF21, 0x0416, 0x0436, 0x03A3,
    };
    char s[512];
    srand(99);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0, n = (size_t)(rand() % 80);
        unsigned upper = 0, letters = 0, run = 0, max_run = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t cp = pool[(size_t)rand() % (sizeof pool / sizeof pool[0])];
            len += utf8_put(cp, s + len);
            if (cp == '!' || cp == 0xFF01) {
                if (++run > max_run)
                    max_run = run;
                continue;
            }
            run = 0;
            int cat = utf8proc_category((utf8proc_int32_t)cp);
            if (cat == UTF8PROC_CATEGORY_LU) {
                upper++;
                letters++;
            } else if (cat == UTF8PROC_CATEGORY_LL) {
                letters++;
            }
        }
        text_shout ts = text_shouting(s, len);
        double want = letters >= 8 ? (double)upper / (double)letters : 0.0;
        if (ts.caps_ratio != want || ts.max_bang_run != max_run)
            fail_msg("iteration %d: got %g/%u, want %g/%u", iter, ts.caps_ratio,
                     ts.max_bang_run, want, max_run);
    }
}

/*
 * Every code point followed by 7 capitals: the ratio tells how the code
 * point was classed (1.0 upper, 7/8 lower, 0 not a cased letter), which
 * must agree with utf8proc's general category, including inside the blocks
 * text.c answers without asking utf8proc.
 */
static void test_shouting_case_classes(void **state) {
    (void)state;
    char s[16];
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        size_t n = utf8_put(cp, s);
        memcpy(s + n, "ABCDEFG", 7);
        text_shout ts = text_shouting(s, n + 7);
        double want = 0.0;
        switch (utf8proc_category((utf8proc_int32_t)cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LT:
            want = 1.0;
            break;
        case UTF8PROC_CATEGORY_LL:
            want = 7.0 / 8.0;
            break;
        default:
            break;
        }
        if (ts.caps_ratio != want)
            fail_msg("U+%04X: caps_ratio %g, want %g", cp, ts.caps_ratio, want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_accepts),
        cmocka_unit_test(test_utf8_valid_rejects),
        cmocka_unit_test(test_normalize_brief_cases),
        cmocka_unit_test(test_normalize_entities),
        cmocka_unit_test(test_normalize_rejects_invalid),
        cmocka_unit_test(test_normalize_ascii_all_positions),
        cmocka_unit_test(test_normalize_every_code_point),
        cmocka_unit_test(test_normalize_random_vs_reference),
        cmocka_unit_test(test_normalize_growth),
        cmocka_unit_test(test_shouting),
        cmocka_unit_test(test_shouting_case_classes),
        cmocka_unit_test(test_shouting_random_vs_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
