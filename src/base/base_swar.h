/*
 * base_swar: SIMD-within-a-register helpers for the byte scanners that look
 * at 8 bytes of text per step (the normaliser's ASCII fast path, the JSON
 * string writer, the parser's depth pre-count).
 *
 * A scanner builds a "flag word": 0x80 in each byte lane that needs the
 * slow path, 0 elsewhere. These helpers read such words. Header-only and
 * inline: they sit in the innermost loops.
 * Thread-safety: pure. Cost: one or two instructions each.
 */
#ifndef EARSHOT_BASE_SWAR_H
#define EARSHOT_BASE_SWAR_H

#include <stddef.h>
#include <stdint.h>

#define BASE_SWAR_ONES UINT64_C(0x0101010101010101)
#define BASE_SWAR_HIGH UINT64_C(0x8080808080808080)

/* Bytes of the word (as loaded with memcpy) before the first flagged one;
 * t must be non-zero. Byte order decides which end of the word comes first;
 * where that is not known at compile time the answer is 0, and the caller's
 * byte-at-a-time path takes the whole word: slower, never wrong. */
static inline size_t base_swar_clean_prefix(uint64_t t) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(t) / 8;
#else
    (void)t;
    return 0;
#endif
}

/* Number of flagged bytes in m (m has no bits but the lanes' high bits). */
static inline unsigned base_swar_count(uint64_t m) {
    return (unsigned)(((m >> 7) * BASE_SWAR_ONES) >> 56);
}

#endif
