/*
 * gen_malformed: lines the pipeline must reject, one damage each, so the
 * rejected path sees every reason it reports: a post cut short (not JSON),
 * a JSON value that is not an object, a post without text, invalid UTF-8
 * inside the text, nesting past the parser's depth limit (64), and binary
 * junk such as a gzip frame sent by mistake. No line contains '\n', '\r' or
 * NUL, so line-based readers keep their framing.
 */
#include "gen/gen_int.h"

enum {
    GEN_BAD_TRUNCATED,
    GEN_BAD_NOT_OBJECT,
    GEN_BAD_NO_TEXT,
    GEN_BAD_UTF8,
    GEN_BAD_DEEP,
    GEN_BAD_BINARY,
    GEN_BAD_COUNT
};

#define GEN_BAD_DEPTH 100

/* Invalid UTF-8 as it shows up in the field: Latin-1 bytes, a lone
 * continuation byte, an overlong '/', a UTF-16 surrogate, a cut sequence,
 * bytes that never occur. */
static const struct {
    const char *s;
    size_t n;
} gen_bad_utf8[] = {
    {"caf\xe9", 4},
    {"\x80", 1},
    {"\xc0\xaf", 2},
    {"\xed\xa0\x80", 3},
    {"\xe2\x82", 2},
    {"\xff\xfe", 2},
    {"\xc3\x28", 2},
};

static gen_kind gen_bad_kind(gen *g)
{
    return gen_rng_below(&g->rng, 4) ? GEN_KIND_CHATTER : GEN_KIND_COMPLAINT;
}

static int gen_bad_post(gen *g, gen_shape shape, gen_post *p, jbuf *out)
{
    gen_post_build(g, gen_bad_kind(g), shape, true, p);
    return gen_write_post(g, p, shape, out);
}

int gen_write_malformed(gen *g, jbuf *out)
{
    gen_rng *r = &g->rng;
    size_t start = out->len;
    gen_shape shape = gen_pick_shape(g);
    gen_post p;
    int rc = 0;

    switch (gen_rng_below(r, GEN_BAD_COUNT)) {
    case GEN_BAD_TRUNCATED: {
        /* A prefix of an object is never a complete JSON value. */
        size_t full;
        rc |= gen_bad_post(g, shape, &p, out);
        full = out->len - start;
        if (!rc && full > 16)
            out->len = start + 8 + gen_rng_below(r, (uint32_t)(full / 2));
        break;
    }
    case GEN_BAD_NOT_OBJECT:
        switch (gen_rng_below(r, 5)) {
        case 0:
        case 1: /* a batch wrapped in an array by a collector */
            rc |= GW(out, "[");
            rc |= gen_bad_post(g, shape, &p, out);
            rc |= GW(out, "]");
            break;
        case 2:
            rc |= GW(out, "[1,2]");
            break;
        case 3:
            rc |= GW(out, "\"good morning everyone\"");
            break;
        default:
            rc |= GW(out, "null");
            break;
        }
        break;
    case GEN_BAD_NO_TEXT:
        gen_post_build(g, gen_bad_kind(g), shape, true, &p);
        p.omit_text = true;
        rc |= gen_write_post(g, &p, shape, out);
        break;
    case GEN_BAD_UTF8: {
        size_t at;
        gen_post_build(g, gen_bad_kind(g), shape, true, &p);
        at = gen_rng_below(r, (uint32_t)p.text->len + 1);
        while (at < p.text->len && ((unsigned char)p.text->buf[at] & 0xC0) == 0x80)
            at++; /* between code points, so the only damage is ours */
        p.bad_at = at;
        p.bad_bytes = gen_bad_utf8[gen_rng_below(r, (uint32_t)GEN_NELEM(gen_bad_utf8))].s;
        for (size_t i = 0; i < GEN_NELEM(gen_bad_utf8); i++)
            if (gen_bad_utf8[i].s == p.bad_bytes)
                p.bad_len = gen_bad_utf8[i].n;
        rc |= gen_write_post(g, &p, shape, out);
        break;
    }
    case GEN_BAD_DEEP:
        /* A well-formed post with a hostile field: valid JSON, 101 levels. */
        rc |= gen_bad_post(g, GEN_SHAPE_GENERIC, &p, out);
        if (!rc) {
            out->len--; /* reopen the object */
            rc |= GW(out, ",\"thread\":");
            for (int i = 0; i < GEN_BAD_DEPTH; i++)
                rc |= GW(out, "[");
            rc |= GW(out, "0");
            for (int i = 0; i < GEN_BAD_DEPTH; i++)
                rc |= GW(out, "]");
            rc |= GW(out, "}");
        }
        break;
    default: {
        /* A gzip member where JSON was expected. */
        char junk[400];
        size_t n = 40 + gen_rng_below(r, 300);
        rc |= GW(out, "\x1f\x8b\x08\x08");
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)(gen_rng_next(r) >> 56);
            if (c == '\n' || c == '\r' || c == 0)
                c = 0xff;
            junk[i] = (char)c;
        }
        rc |= gw_raw(out, junk, n);
        break;
    }
    }
    return rc ? -1 : 0;
}
