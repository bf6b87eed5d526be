/*
 * base_buf: a growable byte buffer (redis's sds, librdkafka's rdbuf, cut
 * down to what earshot writes: append-only, reset and reused).
 *
 * The fields are public so that writers layered on top (base_json's JSON
 * appends, the generator's formatters) can reserve once and fill data + len
 * directly; nothing else should touch cap.
 *
 * Contract: data is NULL until the first reserve; it is not NUL-terminated
 * unless a caller writes one. Every growing call returns 0, or -1 when
 * memory ran out or the size would overflow, and then leaves the buffer as
 * it was before the call.
 * Thread-safety: none; one buffer per thread. Cost: append is amortised
 * O(bytes) (capacity doubles from 256 bytes); reset is O(1) and keeps the
 * memory, so a buffer reused per event stops allocating once warm.
 */
#ifndef EARSHOT_BASE_BUF_H
#define EARSHOT_BASE_BUF_H

#include <stddef.h>

typedef struct base_buf {
    char *data;
    size_t len;
    size_t cap;
} base_buf;

void base_buf_init(base_buf *b);
/* Frees the memory and leaves b as base_buf_init does. */
void base_buf_free(base_buf *b);
static inline void base_buf_reset(base_buf *b) { b->len = 0; }

/* Room for extra more bytes after len. */
int base_buf_reserve(base_buf *b, size_t extra);
int base_buf_append(base_buf *b, const void *s, size_t len);
int base_buf_append_cstr(base_buf *b, const char *s); /* without its NUL */

/* Growable arrays (the rest of earshot's lists: partitions, labels,
 * brands, windows): returns arr reallocated to twice *cap elements of elem
 * bytes (first when *cap is 0) and sets *cap, or NULL when memory ran out
 * or the size would overflow, leaving arr and *cap as they were. The
 * caller calls it when its count reaches *cap and stores the result:
 *
 *     if (n == cap) { T *v = base_grow(a, &cap, sizeof(*v), 16); if (!v) fail; a = v; }
 */
void *base_grow(void *arr, size_t *cap, size_t elem, size_t first);

#endif
