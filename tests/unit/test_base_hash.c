/*
 * Unit tests for src/base/base_hash: FNV-1a against the published test
 * vectors (the on-disk digests depend on them), and the string map through
 * growth, binary keys and misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base_hash.h"

static void test_fnv1a_vectors(void **state) {
    (void)state;
    /* from the FNV reference (isthe.com/chongo/tech/comp/fnv) */
    assert_true(base_fnv1a(BASE_FNV_OFFSET, "", 0) == 0xcbf29ce484222325ULL);
    assert_true(base_fnv1a(BASE_FNV_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(base_fnv1a(BASE_FNV_OFFSET, "foobar", 6) == 0x85944171f73967e8ULL);
    /* chaining is hashing the concatenation */
    uint64_t h = base_fnv1a(BASE_FNV_OFFSET, "foo", 3);
    assert_true(base_fnv1a(h, "bar", 3) == 0x85944171f73967e8ULL);
}

static void test_map_put_get_grow(void **state) {
    (void)state;
    base_map m = {0};
    char key[32];
    assert_int_equal(base_map_get(&m, "x", 1), UINT32_MAX);
    for (uint32_t i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "rule.%u", i);
        assert_int_equal(base_map_get(&m, key, (size_t)n), UINT32_MAX);
        assert_int_equal(base_map_put(&m, key, (size_t)n, i * 3), 0);
    }
    assert_int_equal(m.n, 5000);
    assert_true(m.cap >= 2 * m.n); /* load factor under 1/2 */
    for (uint32_t i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "rule.%u", i);
        assert_int_equal(base_map_get(&m, key, (size_t)n), i * 3);
    }
    assert_int_equal(base_map_get(&m, "rule.5000", 9), UINT32_MAX);
    assert_int_equal(base_map_get(&m, "rule.1", 5), UINT32_MAX); /* a prefix */
    base_map_free(&m);
    assert_int_equal(m.n, 0);
    assert_int_equal(base_map_get(&m, "rule.1", 6), UINT32_MAX);
}

/* Keys are lengths of bytes, not C strings: NULs inside count. */
static void test_map_binary_keys(void **state) {
    (void)state;
    base_map m = {0};
    assert_int_equal(base_map_put(&m, "a\0b", 3, 1), 0);
    assert_int_equal(base_map_put(&m, "a\0c", 3, 2), 0);
    assert_int_equal(base_map_put(&m, "a", 1, 3), 0);
    assert_int_equal(base_map_get(&m, "a\0b", 3), 1);
    assert_int_equal(base_map_get(&m, "a\0c", 3), 2);
    assert_int_equal(base_map_get(&m, "a", 1), 3);
    assert_int_equal(base_map_get(&m, "", 0), UINT32_MAX);
    base_map_free(&m);
}

static void test_checksum_sees_every_byte(void **state)
{
    unsigned char buf[100];
    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7);
    uint64_t base = base_checksum(buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (unsigned char)(1u << bit);
            assert_true(base_checksum(buf, sizeof(buf)) != base);
            buf[i] ^= (unsigned char)(1u << bit);
        }
    }
    assert_true(base_checksum(buf, 99) != base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_sees_every_byte),
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_map_put_get_grow),
        cmocka_unit_test(test_map_binary_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
