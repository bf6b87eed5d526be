/*
 * gen_fmt: the bytes shared by the shape writers: integers, the two date
 * formats (computed from the epoch, no C library time zone or locale), the
 * post text as a JSON string (with the malformed path's raw splice), and
 * the entities Twitter derives from a text (@mentions, #hashtags, links
 * with code-point offsets) in their v2 and v1.1 spellings.
 */
#include <strings.h>

#include "gen/gen_int.h"
#include "base/base_time.h"

/* ---- numbers and dates ---- */

size_t gen_u64_dec(char *buf, uint64_t v)
{
    /* Two digits per division, written in place from the end: ids are 19
     * digits and every post has several. */
    static const char pairs[201] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    size_t n = 1;
    char *p;

    for (uint64_t t = v; t >= 10; t /= 10)
        n++;
    p = buf + n;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        p[0] = pairs[2 * d];
        p[1] = pairs[2 * d + 1];
    }
    if (v >= 10) {
        p[-2] = pairs[2 * v];
        p[-1] = pairs[2 * v + 1];
    } else {
        p[-1] = (char)('0' + v);
    }
    return n;
}

/* base_time_civil_from_days with int fields, for the v1.1 formatter. */
static void gen_civil(int64_t days, int *y, int *m, int *d)
{
    int64_t yy;
    unsigned mm, dd;

    base_time_civil_from_days(days, &yy, &mm, &dd);
    *y = (int)yy;
    *m = (int)mm;
    *d = (int)dd;
}

static void gen_put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t gen_time_v1(char *buf, int64_t epoch_s)
{
    static const char wd[] = "ThuFriSatSunMonTueWed"; /* 1970-01-01 was a Thursday */
    static const char mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t days = epoch_s / 86400, sod = epoch_s % 86400;
    int y, m, d;
    int64_t w;

    if (sod < 0) {
        sod += 86400;
        days--;
    }
    gen_civil(days, &y, &m, &d);
    w = days % 7;
    if (w < 0)
        w += 7;
    memcpy(buf, wd + 3 * w, 3);
    buf[3] = ' ';
    memcpy(buf + 4, mo + 3 * (m - 1), 3);
    buf[7] = ' ';
    gen_put2(buf + 8, d);
    buf[10] = ' ';
    gen_put2(buf + 11, (int)(sod / 3600));
    buf[13] = ':';
    gen_put2(buf + 14, (int)(sod / 60 % 60));
    buf[16] = ':';
    gen_put2(buf + 17, (int)(sod % 60));
    memcpy(buf + 19, " +0000 ", 7);
    buf[26] = (char)('0' + y / 1000 % 10);
    buf[27] = (char)('0' + y / 100 % 10);
    gen_put2(buf + 28, y % 100);
    return 30;
}

int gw_iso(jbuf *b, int64_t ms, bool with_ms)
{
    char t[32];
    size_t n = base_time_iso8601(t + 1, ms / 1000, with_ms ? (int)(ms % 1000) : -1);
    t[0] = '"';
    t[n + 1] = '"';
    return gw_raw(b, t, n + 2);
}

int gw_v1time(jbuf *b, int64_t s)
{
    char t[40];
    size_t n = gen_time_v1(t + 1, s);
    t[0] = '"';
    t[n + 1] = '"';
    return gw_raw(b, t, n + 2);
}

/* ---- text and entities ---- */

/* Escapes what JSON requires and passes every other byte through, invalid
 * UTF-8 included: only the malformed path writes with it. */
static int gw_esc_raw(jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = 0;
    size_t i, run = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        rc |= gw_raw(b, s + run, i - run);
        run = i + 1;
        if (c == '"')
            rc |= GW(b, "\\\"");
        else if (c == '\\')
            rc |= GW(b, "\\\\");
        else if (c == '\n')
            rc |= GW(b, "\\n");
        else {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc |= gw_raw(b, u, 6);
        }
    }
    rc |= gw_raw(b, s + run, n - run);
    return rc;
}

/* The post's text as a JSON string; a malformed post splices its bad bytes. */
int gw_text(jbuf *b, const gen_post *p, const char *s, size_t n)
{
    int rc = 0;

    if (!p->bad_len)
        return jbuf_str(b, s, n);
    if (p->bad_at > n)
        return -1;
    rc |= GW(b, "\"");
    rc |= gw_esc_raw(b, s, p->bad_at);
    rc |= gw_raw(b, p->bad_bytes, p->bad_len);
    rc |= gw_esc_raw(b, s + p->bad_at, n - p->bad_at);
    rc |= GW(b, "\"");
    return rc;
}

static bool gen_is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* @mentions, #hashtags and links in s, in order, as Twitter would mark them. */
size_t gen_entities(const char *s, size_t n, gen_ent *ents)
{
    size_t i = 0, k = 0;
    uint32_t cp = 0;

    while (i < n && k < GEN_MAX_ENTS) {
        unsigned char c = (unsigned char)s[i];
        if ((c == '@' || c == '#') && (i == 0 || !gen_is_word((unsigned char)s[i - 1]))) {
            size_t j = i + 1;
            bool letter = false;
            while (j < n && gen_is_word((unsigned char)s[j])) {
                letter |= !((unsigned char)s[j] >= '0' && (unsigned char)s[j] <= '9');
                j++;
            }
            if (j > i + 1 && (c == '@' ? j - i - 1 <= 15 : letter)) {
                ents[k].type = c == '@' ? ENT_MENTION : ENT_HASHTAG;
                ents[k].start = cp;
                ents[k].end = cp + (uint32_t)(j - i);
                ents[k].s = s + i + 1;
                ents[k].len = j - i - 1;
                k++;
                cp += (uint32_t)(j - i);
                i = j;
                continue;
            }
        } else if (c == 'h' && n - i > 8 && !memcmp(s + i, "https://", 8)) {
            size_t j = i + 8;
            while (j < n && (unsigned char)s[j] > ' ')
                j++;
            ents[k].type = ENT_URL;
            ents[k].start = cp;
            ents[k].end = cp + (uint32_t)(j - i);
            ents[k].s = s + i;
            ents[k].len = j - i;
            k++;
            cp += (uint32_t)(j - i);
            i = j;
            continue;
        }
        if ((c & 0xC0) != 0x80)
            cp++;
        i++;
    }
    return k;
}

static int gen_brand_by_handle(const char *s, size_t n)
{
    for (size_t i = 0; i < gen_brand_count(); i++) {
        const char *h = gen_brand_handle((int)i);
        if (strlen(h) == n && !strncasecmp(h, s, n))
            return (int)i;
    }
    return -1;
}

static const char *const gen_url_hosts[] = {
    "bit.ly", "instagram.com/p", "youtu.be", "tinyurl.com", "medium.com/@",
    "www.reddit.com/r/mildlyinfuriating", "imgur.com/a",
};

/* Where a t.co link leads: chosen from its own code, so it is stable. */
static int gw_url_fields(jbuf *b, const gen_ent *e)
{
    const char *code = e->s + e->len - (e->len > 10 ? 10 : e->len);
    size_t host = (unsigned char)code[0] % GEN_NELEM(gen_url_hosts);
    const char *h = gen_url_hosts[host];
    int rc = 0;

    rc |= GW(b, ",\"expanded_url\":\"https://");
    rc |= gw_raw(b, h, strlen(h));
    rc |= GW(b, "/");
    rc |= gw_raw(b, code, 7);
    rc |= GW(b, "\",\"display_url\":\"");
    rc |= gw_raw(b, h, strlen(h));
    rc |= GW(b, "/");
    rc |= gw_raw(b, code, 4);
    rc |= GW(b, "\xe2\x80\xa6\""); /* … */
    return rc;
}

int gw_entities_v2(jbuf *b, const gen_ent *ents, size_t k)
{
    static const char *const open[] = {"\"mentions\":[", "\"hashtags\":[", "\"urls\":["};
    int rc = 0;
    bool any_group = false;

    if (!k)
        return 0;
    rc |= GW(b, ",\"entities\":{");
    for (int type = 0; type < 3; type++) {
        bool first = true;
        for (size_t i = 0; i < k; i++) {
            const gen_ent *e = &ents[i];
            if ((int)e->type != type)
                continue;
            if (first) {
                if (any_group)
                    rc |= GW(b, ",");
                rc |= gw_raw(b, open[type], strlen(open[type]));
                any_group = true;
                first = false;
            } else {
                rc |= GW(b, ",");
            }
            rc |= GW(b, "{\"start\":");
            rc |= gw_u64(b, e->start);
            rc |= GW(b, ",\"end\":");
            rc |= gw_u64(b, e->end);
            if (e->type == ENT_MENTION) {
                int brand = gen_brand_by_handle(e->s, e->len);
                rc |= GW(b, ",\"username\":");
                rc |= gw_qraw(b, e->s, e->len);
                if (brand >= 0) {
                    rc |= GW(b, ",\"id\":");
                    rc |= gw_qu64(b, gen_brand_user_id(brand));
                }
            } else if (e->type == ENT_HASHTAG) {
                rc |= GW(b, ",\"tag\":");
                rc |= gw_qraw(b, e->s, e->len);
            } else {
                rc |= GW(b, ",\"url\":");
                rc |= gw_qraw(b, e->s, e->len);
                rc |= gw_url_fields(b, e);
            }
            rc |= GW(b, "}");
        }
        if (!first)
            rc |= GW(b, "]");
    }
    rc |= GW(b, "}");
    return rc;
}

int gw_entities_v1(jbuf *b, const gen_ent *ents, size_t k)
{
    static const char *const open[] = {"\"user_mentions\":[", "\"hashtags\":[", "\"urls\":["};
    int rc = 0;

    rc |= GW(b, "\"entities\":{");
    for (int type = 0; type < 3; type++) {
        bool first = true;
        if (type)
            rc |= GW(b, ",");
        rc |= gw_raw(b, open[type], strlen(open[type]));
        for (size_t i = 0; i < k; i++) {
            const gen_ent *e = &ents[i];
            if ((int)e->type != type)
                continue;
            if (!first)
                rc |= GW(b, ",");
            first = false;
            if (e->type == ENT_MENTION) {
                int brand = gen_brand_by_handle(e->s, e->len);
                rc |= GW(b, "{\"screen_name\":");
                rc |= gw_qraw(b, e->s, e->len);
                if (brand >= 0) {
                    rc |= GW(b, ",\"name\":");
                    rc |= jbuf_str(b, gen_brand_name(brand), strlen(gen_brand_name(brand)));
                    rc |= GW(b, ",\"id\":");
                    rc |= gw_u64(b, gen_brand_user_id(brand));
                    rc |= GW(b, ",\"id_str\":");
                    rc |= gw_qu64(b, gen_brand_user_id(brand));
                }
            } else if (e->type == ENT_HASHTAG) {
                rc |= GW(b, "{\"text\":");
                rc |= gw_qraw(b, e->s, e->len);
            } else {
                rc |= GW(b, "{\"url\":");
                rc |= gw_qraw(b, e->s, e->len);
                rc |= gw_url_fields(b, e);
            }
            rc |= GW(b, ",\"indices\":[");
            rc |= gw_u64(b, e->start);
            rc |= GW(b, ",");
            rc |= gw_u64(b, e->end);
            rc |= GW(b, "]}");
        }
        rc |= GW(b, "]");
    }
    rc |= GW(b, ",\"symbols\":[]}");
    return rc;
}
