/*
 * libFuzzer target for post_parse(): any bytes must give 0 or -1, never a
 * crash, a read past buf[len] (ASan sees it: libFuzzer's buffer is exactly
 * len bytes) or undefined behaviour. On success the output invariants of
 * post.h are checked, so a wrong-but-quiet result also stops the fuzzer.
 * Build and run: see README.md next to this file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "post/post.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small limits so depth and size rejections are reached too. */
static post_parser *fuzz_parser(void) {
    static post_parser *pp;
    if (!pp) {
        post_limits lim = {.max_bytes = 4096, .max_depth = 16};
        pp = post_parser_new(&lim);
        if (!pp)
            abort();
    }
    return pp;
}

static void fuzz_check_view(strview v) {
    if (v.len && !v.ptr)
        abort();
    /* touch every byte: ASan reports a view into freed or foreign memory */
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < v.len; i++)
        sink ^= (unsigned char)v.ptr[i];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    post p;
    char err[128];
    memset(err, 0x55, sizeof err);
    int rc = post_parse(fuzz_parser(), (const char *)data, size, &p, err, sizeof err);
    if (rc == -1) {
        if (!memchr(err, '\0', sizeof err) || err[0] == '\0')
            abort(); /* a reason is always written */
        return 0;
    }
    if (rc != 0 || p.text.len == 0 || p.followers < 0 ||
        (p.created_at.len != 0 && p.created_at.len != 20) ||
        ((p.created_at.len == 0) != !p.has_created_at) ||
        p.shape > POST_SHAPE_GENERIC)
        abort();
    fuzz_check_view(p.id);
    fuzz_check_view(p.platform);
    fuzz_check_view(p.text);
    fuzz_check_view(p.handle);
    fuzz_check_view(p.lang);
    fuzz_check_view(p.created_at);
    return 0;
}
