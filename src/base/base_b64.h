/*
 * base_b64: standard base64 (RFC 4648 section 4, '+' '/', '=' padding), for
 * carrying arbitrary bytes inside JSON (the pipeline's reject record keeps
 * a payload that is not valid UTF-8 this way, so it is always recoverable).
 *
 * Thread-safety: pure. Cost: O(len), one table lookup per output byte.
 */
#ifndef EARSHOT_BASE_B64_H
#define EARSHOT_BASE_B64_H

#include <stddef.h>

/* Bytes base_b64_encode writes for len input bytes (no NUL). */
#define BASE_B64_LEN(len) (((len) + 2) / 3 * 4)

/* Encodes len bytes of s at out, which has room for BASE_B64_LEN(len)
 * bytes; writes no NUL. Returns the bytes written. */
size_t base_b64_encode(char *out, const unsigned char *s, size_t len);

#endif
