/* base_buf: growable byte buffer (contract in base_buf.h). */
#include "base/base_buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Small enough not to matter per thread, large enough that a typical event
 * (~600 bytes) needs at most two reallocations in a buffer's life. */
#define BASE_BUF_MIN_CAP 256

void base_buf_init(base_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void base_buf_free(base_buf *b) {
    free(b->data);
    base_buf_init(b);
}

int base_buf_reserve(base_buf *b, size_t extra) {
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + extra;
    size_t cap = b->cap < BASE_BUF_MIN_CAP ? BASE_BUF_MIN_CAP : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

int base_buf_append(base_buf *b, const void *s, size_t len) {
    if (base_buf_reserve(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    return 0;
}

int base_buf_append_cstr(base_buf *b, const char *s) {
    return base_buf_append(b, s, strlen(s));
}

void *base_grow(void *arr, size_t *cap, size_t elem, size_t first) {
    size_t n = first;
    if (*cap) {
        if (*cap > SIZE_MAX / 2)
            return NULL;
        n = *cap * 2;
    }
    if (!n || !elem || n > SIZE_MAX / elem)
        return NULL;
    void *grown = realloc(arr, n * elem);
    if (!grown)
        return NULL;
    *cap = n;
    return grown;
}
