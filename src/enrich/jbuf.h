/*
 * jbuf: a growable byte buffer with a JSON writer on top.
 *
 * Why not jansson here: json_dumpb costs ~9 us per event on this machine
 * (DESIGN.md), 20x the per-post budget; events are flat and written once, so
 * appending escaped strings into a reused buffer is all that is needed.
 *
 * Contract: every jbuf_* append returns 0, or -1 when memory ran out (the
 * buffer is then left as it was before the call). jbuf_str() escapes '"',
 * '\\' and control characters (\uXXXX), and copies valid UTF-8 through; the
 * caller guarantees the input is valid UTF-8. jbuf_str_bytes() writes any
 * bytes as a JSON string, replacing invalid UTF-8 with U+FFFD.
 * Thread-safety: none; one jbuf per thread. Cost: amortised O(bytes).
 */
#ifndef EARSHOT_JBUF_H
#define EARSHOT_JBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct jbuf {
    char *data;
    size_t len;
    size_t cap;
} jbuf;

void jbuf_init(jbuf *b);
void jbuf_free(jbuf *b);
static inline void jbuf_reset(jbuf *b) { b->len = 0; }

int jbuf_reserve(jbuf *b, size_t extra);
int jbuf_raw(jbuf *b, const char *s, size_t len);
int jbuf_cstr(jbuf *b, const char *s);       /* raw, NUL-terminated */
int jbuf_str(jbuf *b, const char *s, size_t len);       /* JSON string */
int jbuf_str_bytes(jbuf *b, const char *s, size_t len); /* any bytes */
int jbuf_int(jbuf *b, int64_t v);
int jbuf_bool(jbuf *b, int v);

#endif
