/*
 * Unit tests for src/base's byte helpers: base_buf growth and reuse,
 * base64 against RFC 4648's test vectors, and the SWAR flag-word readers
 * against a byte-at-a-time answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base_b64.h"
#include "base/base_buf.h"
#include "base/base_swar.h"

static void test_buf_grows_and_keeps_bytes(void **state) {
    (void)state;
    base_buf b;
    base_buf_init(&b);
    assert_null(b.data);
    assert_int_equal(base_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    char want[5000];
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char)('a' + i % 26);
        assert_int_equal(base_buf_append(&b, &want[i], 1), 0);
    }
    assert_int_equal(b.len, sizeof want);
    assert_true(b.cap >= b.len);
    assert_memory_equal(b.data, want, sizeof want);
    size_t cap = b.cap;
    base_buf_reset(&b); /* reuse keeps the memory */
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_int_equal(base_buf_append_cstr(&b, "xyz"), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "xyz", 3);
    base_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len + b.cap, 0);
}

static void test_buf_refuses_overflow_unchanged(void **state) {
    (void)state;
    base_buf b;
    base_buf_init(&b);
    assert_int_equal(base_buf_append_cstr(&b, "keep"), 0);
    char *data = b.data;
    size_t cap = b.cap;
    assert_int_equal(base_buf_reserve(&b, SIZE_MAX - 2), -1);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 4);
    base_buf_free(&b);
}

static void assert_b64(const char *in, const char *want) {
    char out[64];
    size_t n = strlen(in);
    memset(out, '#', sizeof out);
    assert_int_equal(base_b64_encode(out, (const unsigned char *)in, n), strlen(want));
    assert_int_equal(BASE_B64_LEN(n), strlen(want));
    assert_memory_equal(out, want, strlen(want));
    assert_int_equal(out[strlen(want)], '#'); /* no NUL, nothing past the end */
}

/* RFC 4648 section 10, and bytes that use '+' and '/'. */
static void test_grow_doubles_keeps_and_refuses_overflow(void **state) {
    (void)state;
    int *a = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        if (n == cap) {
            size_t before = cap;
            int *v = base_grow(a, &cap, sizeof(*v), 16);
            assert_non_null(v);
            assert_int_equal(cap, before ? before * 2 : 16);
            a = v;
        }
        a[n++] = i;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(a[i], i);
    /* An element count that would overflow: NULL, array and cap untouched. */
    size_t huge = SIZE_MAX / 4 + 1, was = huge;
    assert_null(base_grow(a, &huge, 4, 16));
    assert_int_equal(huge, was);
    assert_int_equal(a[999], 999);
    assert_null(base_grow(NULL, &(size_t){0}, 0, 16)); /* zero-size elements */
    free(a);
}

static void test_b64_vectors(void **state) {
    (void)state;
    assert_b64("", "");
    assert_b64("f", "Zg==");
    assert_b64("fo", "Zm8=");
    assert_b64("foo", "Zm9v");
    assert_b64("foob", "Zm9vYg==");
    assert_b64("fooba", "Zm9vYmE=");
    assert_b64("foobar", "Zm9vYmFy");
    assert_b64("\xfb\xff\xbf", "+/+/");
    assert_b64("\xff\xfe\x01", "//4B");
}

static size_t first_flag_slow(const unsigned char b[8]) {
    for (size_t i = 0; i < 8; i++)
        if (b[i] & 0x80)
            return i;
    return 8;
}

static void test_swar_prefix_and_count(void **state) {
    (void)state;
    /* every one-flag and two-flag word */
    for (unsigned i = 0; i < 8; i++) {
        for (unsigned j = i; j < 8; j++) {
            unsigned char b[8] = {0};
            b[i] = 0x80;
            b[j] = 0x80;
            uint64_t w;
            memcpy(&w, b, 8);
            size_t k = base_swar_clean_prefix(w);
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            assert_int_equal(k, first_flag_slow(b));
#else
            assert_int_equal(k, 0);
#endif
            assert_int_equal(base_swar_count(w), i == j ? 1 : 2);
        }
    }
    assert_int_equal(base_swar_count(BASE_SWAR_HIGH), 8);
    assert_int_equal(base_swar_count(0), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_keeps_bytes),
        cmocka_unit_test(test_buf_refuses_overflow_unchanged),
        cmocka_unit_test(test_grow_doubles_keeps_and_refuses_overflow),
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_swar_prefix_and_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
