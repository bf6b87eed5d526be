/*
 * Unit tests for src/enrich/jbuf: buffer growth, integers, JSON strings
 * (escapes, UTF-8 passed through, invalid UTF-8 replaced by U+FFFD).
 * Strings are also round-tripped through jansson, an independent parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/base_json.h"
#include "text/text.h"

#define FFFD "\xEF\xBF\xBD"

static void assert_jbuf(const jbuf *b, const char *want) {
    size_t n = strlen(want);
    if (b->len != n || memcmp(b->data, want, n) != 0)
        fail_msg("jbuf holds [%.*s] (%zu B), want [%s] (%zu B)", (int)b->len,
                 b->data, b->len, want, n);
}

static void test_raw_and_growth(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);

    assert_int_equal(jbuf_cstr(&b, "{\"a\":"), 0);
    assert_int_equal(jbuf_raw(&b, "1}", 2), 0);
    assert_int_equal(jbuf_raw(&b, NULL, 0), 0);
    assert_jbuf(&b, "{\"a\":1}");

    /* Growth keeps the content: 10000 appends of 3 bytes. */
    jbuf_reset(&b);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(jbuf_raw(&b, "abc", 3), 0);
    assert_int_equal(b.len, 30000);
    assert_true(b.cap >= 30000);
    for (size_t i = 0; i < 30000; i += 3)
        assert_memory_equal(b.data + i, "abc", 3);

    /* Reset keeps the memory: no allocation once grown. */
    char *data = b.data;
    size_t cap = b.cap;
    jbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(jbuf_reserve(&b, cap), 0);
    assert_ptr_equal(b.data, data);

    jbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    jbuf_free(&b); /* twice is harmless */
}

/* A request that cannot be met fails and leaves the buffer as it was. */
static void test_failure_leaves_buffer(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    assert_int_equal(jbuf_cstr(&b, "[1,"), 0);
    char *data = b.data;
    size_t cap = b.cap;

    assert_int_equal(jbuf_reserve(&b, SIZE_MAX), -1);
    assert_int_equal(jbuf_reserve(&b, SIZE_MAX - 2), -1);
    /* Never read: the size check comes first. */
    static const char dummy[1] = {'x'};
    assert_int_equal(jbuf_str(&b, dummy, SIZE_MAX / 4), -1);
    assert_int_equal(jbuf_str(&b, dummy, (SIZE_MAX - 10) / 6 + 1), -1);
    assert_int_equal(jbuf_str_bytes(&b, dummy, SIZE_MAX / 6), -1);
    assert_int_equal(jbuf_raw(&b, dummy, SIZE_MAX), -1);

    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_jbuf(&b, "[1,");
    jbuf_free(&b);
}

static void test_int(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    static const struct {
        int64_t v;
        const char *s;
    } cases[] = {
        {0, "0"},
        {7, "7"},
        {-7, "-7"},
        {10, "10"},
        {99, "99"},
        {100, "100"},
        {-100, "-100"},
        {1000, "1000"},
        {12345, "12345"},
        {1700000000, "1700000000"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
        {INT64_MIN + 1, "-9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jbuf_reset(&b);
        assert_int_equal(jbuf_int(&b, cases[i].v), 0);
        assert_jbuf(&b, cases[i].s);
    }
    /* Every power of ten and its neighbours, against printf. */
    char want[32];
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
        for (int64_t d = -1; d <= 1; d++) {
            for (int sign = -1; sign <= 1; sign += 2) {
                int64_t v = sign * (p + d);
                jbuf_reset(&b);
                assert_int_equal(jbuf_int(&b, v), 0);
                snprintf(want, sizeof want, "%lld", (long long)v);
                assert_jbuf(&b, want);
            }
        }
    }
    /* Appends, does not overwrite. */
    jbuf_reset(&b);
    assert_int_equal(jbuf_int(&b, 12), 0);
    assert_int_equal(jbuf_raw(&b, ",", 1), 0);
    assert_int_equal(jbuf_int(&b, -3), 0);
    assert_jbuf(&b, "12,-3");
    jbuf_free(&b);
}

static void test_bool(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    assert_int_equal(jbuf_bool(&b, 1), 0);
    assert_int_equal(jbuf_bool(&b, 0), 0);
    assert_int_equal(jbuf_bool(&b, 42), 0);
    assert_jbuf(&b, "truefalsetrue");
    jbuf_free(&b);
}

static void test_str_escapes(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);

    assert_int_equal(jbuf_str(&b, "", 0), 0);
    assert_jbuf(&b, "\"\"");

    jbuf_reset(&b);
    static const char in[] = "q\"b\\s/n\nt\tr\rb\bf\f\x01\x1f\x7f";
    assert_int_equal(jbuf_str(&b, in, sizeof in - 1), 0);
    assert_jbuf(&b, "\"q\\\"b\\\\s/n\\nt\\tr\\rb\\bf\\f\\u0001\\u001f\x7f\"");

    /* NUL inside the string. */
    jbuf_reset(&b);
    assert_int_equal(jbuf_str(&b, "a\0b", 3), 0);
    assert_jbuf(&b, "\"a\\u0000b\"");

    /* UTF-8 copied through, in the 8-byte path and the tail. */
    jbuf_reset(&b);
    static const char u[] = "caf\xC3\xA9 \xF0\x9F\x98\xA1 \xD8\xB4\xD9\x83\xD8\xB1"
                            "\xD8\xA7 \xE2\x80\xA8!";
    assert_int_equal(jbuf_str(&b, u, sizeof u - 1), 0);
    assert_int_equal(b.len, sizeof u - 1 + 2);
    assert_memory_equal(b.data + 1, u, sizeof u - 1);

    /* An escape at every offset of a 3-word string. */
    for (size_t pos = 0; pos < 24; pos++) {
        char s[24], want[40];
        memset(s, 'x', sizeof s);
        s[pos] = '\n';
        size_t w = 0;
        want[w++] = '"';
        for (size_t i = 0; i < 24; i++) {
            if (i == pos) {
                want[w++] = '\\';
                want[w++] = 'n';
            } else {
                want[w++] = 'x';
            }
        }
        want[w++] = '"';
        want[w] = '\0';
        jbuf_reset(&b);
        assert_int_equal(jbuf_str(&b, s, sizeof s), 0);
        assert_jbuf(&b, want);
    }
    jbuf_free(&b);
}

static void test_str_bytes_replaces_invalid(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"ok", 2, "\"ok\""},
        {"caf\xC3\xA9", 5, "\"caf\xC3\xA9\""},
        {"\xF0\x9F\x98\xA1", 4, "\"\xF0\x9F\x98\xA1\""},
        {"\xFF", 1, "\"" FFFD "\""},
        {"\x80", 1, "\"" FFFD "\""},
        /* Maximal subparts: a truncated sequence is one U+FFFD. */
        {"\xE2\x82(", 3, "\"" FFFD "(\""},
        {"\xF0\x9F\x98", 3, "\"" FFFD "\""},
        {"\xF0\x9F\x98!", 4, "\"" FFFD "!\""},
        /* Overlongs, surrogates, > U+10FFFF: each byte is its own subpart. */
        {"\xC0\x80", 2, "\"" FFFD FFFD "\""},
        {"\xE0\x80\x80", 3, "\"" FFFD FFFD FFFD "\""},
        {"\xED\xA0\x80", 3, "\"" FFFD FFFD FFFD "\""},
        {"\xF4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\""},
        /* Escapes still apply around bad bytes. */
        {"a\"\xFE\n", 4, "\"a\\\"" FFFD "\\n\""},
        {"0123456789abcdef\xC3", 17, "\"0123456789abcdef" FFFD "\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jbuf_reset(&b);
        assert_int_equal(jbuf_str_bytes(&b, cases[i].in, cases[i].len), 0);
        assert_jbuf(&b, cases[i].want);
    }
    jbuf_free(&b);
}

/* Parses b as one JSON string with jansson and returns it (caller frees). */
static json_t *parse_string(const jbuf *b) {
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                           &jerr);
    if (!j || !json_is_string(j))
        fail_msg("not a JSON string: %s [%.*s]", j ? "wrong type" : jerr.text,
                 (int)b->len, b->data);
    return j;
}

static size_t put_random_char(char *o, unsigned r) {
    static const char *const pieces[] = {
        "a", "Z", " ", "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "/",
        "\xC3\xA9", "\xF0\x9F\x98\xA1", "\xD8\xB4", "\xE2\x80\x91", "\xEF\xBF\xBF",
        "\xF4\x8F\xBF\xBF",
    };
    const char *pc = pieces[r % (sizeof pieces / sizeof pieces[0])];
    size_t n = strlen(pc);
    memcpy(o, pc, n);
    return n;
}

/* Random valid UTF-8 with escapes: jbuf_str and jbuf_str_bytes both give
 * JSON that decodes to exactly the input. */
static void test_str_roundtrip_valid(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    char s[600];
    srand(4242);
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, n = (size_t)(rand() % 120);
        for (size_t i = 0; i < n; i++)
            len += put_random_char(s + len, (unsigned)rand());
        for (int bytes = 0; bytes < 2; bytes++) {
            jbuf_reset(&b);
            assert_int_equal(bytes ? jbuf_str_bytes(&b, s, len)
                                   : jbuf_str(&b, s, len), 0);
            json_t *j = parse_string(&b);
            assert_int_equal(json_string_length(j), len);
            assert_memory_equal(json_string_value(j), s, len);
            json_decref(j);
        }
    }
    jbuf_free(&b);
}

/* Random bytes: jbuf_str_bytes always gives valid UTF-8 JSON, and bytes
 * that were valid come through unchanged (ASCII here). */
static void test_str_bytes_random(void **state) {
    (void)state;
    jbuf b;
    jbuf_init(&b);
    unsigned char s[200];
    srand(777);
    for (int iter = 0; iter < 5000; iter++) {
        size_t len = (size_t)(rand() % 200);
        for (size_t i = 0; i < len; i++)
            s[i] = (unsigned char)rand();
        jbuf_reset(&b);
        assert_int_equal(jbuf_str_bytes(&b, (const char *)s, len), 0);
        assert_true(text_utf8_valid(b.data, b.len));
        json_t *j = parse_string(&b);
        if (text_utf8_valid((const char *)s, len)) {
            assert_int_equal(json_string_length(j), len);
            assert_memory_equal(json_string_value(j), s, len);
        }
        json_decref(j);
    }
    jbuf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_and_growth),
        cmocka_unit_test(test_failure_leaves_buffer),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_str_escapes),
        cmocka_unit_test(test_str_bytes_replaces_invalid),
        cmocka_unit_test(test_str_roundtrip_valid),
        cmocka_unit_test(test_str_bytes_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
