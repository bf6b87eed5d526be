/*
 * base_json: a JSON writer on top of base_buf, for output that is flat and
 * written once (enriched events, generated posts, reject records). Its
 * functions keep the short prefix jbuf_ they had in src/enrich, where it
 * began: they are on every output path, and the name is the type.
 *
 * Why not jansson here: json_dumpb costs ~9 us per event on this machine,
 * 20x the per-post budget; events are flat and written once, so appending
 * escaped strings into a reused buffer is all that is needed.
 *
 * Contract: every jbuf_* append returns 0, or -1 when memory ran out (the
 * buffer is then left as it was before the call). jbuf_str() escapes '"',
 * '\\' and control characters (\uXXXX), and copies valid UTF-8 through; the
 * caller guarantees the input is valid UTF-8. jbuf_str_bytes() writes any
 * bytes as a JSON string, replacing invalid UTF-8 with U+FFFD.
 * Thread-safety: none; one jbuf per thread. Cost: amortised O(bytes);
 * strings are scanned 8 bytes at a time.
 */
#ifndef EARSHOT_BASE_JSON_H
#define EARSHOT_BASE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/base_buf.h"

typedef base_buf jbuf;

static inline void jbuf_init(jbuf *b) { base_buf_init(b); }
static inline void jbuf_free(jbuf *b) { base_buf_free(b); }
static inline void jbuf_reset(jbuf *b) { base_buf_reset(b); }
static inline int jbuf_reserve(jbuf *b, size_t extra) { return base_buf_reserve(b, extra); }
static inline int jbuf_raw(jbuf *b, const char *s, size_t len) { return base_buf_append(b, s, len); }
static inline int jbuf_cstr(jbuf *b, const char *s) { return base_buf_append_cstr(b, s); } /* raw */

int jbuf_str(jbuf *b, const char *s, size_t len);       /* JSON string */
int jbuf_str_bytes(jbuf *b, const char *s, size_t len); /* any bytes */
int jbuf_int(jbuf *b, int64_t v);
int jbuf_bool(jbuf *b, int v);

#endif
