/* base_b64: base64 encoder (see base_b64.h). */
#include "base/base_b64.h"

#include <stdint.h>

static const char base_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base_b64_encode(char *out, const unsigned char *s, size_t len) {
    char *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = base_b64_alphabet[v >> 18];
        *o++ = base_b64_alphabet[(v >> 12) & 63];
        *o++ = base_b64_alphabet[(v >> 6) & 63];
        *o++ = base_b64_alphabet[v & 63];
    }
    if (i < len) { /* one or two bytes left: pad to four characters */
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = base_b64_alphabet[v >> 18];
        *o++ = base_b64_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? base_b64_alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return (size_t)(o - out);
}
