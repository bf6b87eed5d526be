/*
 * rules_pos: where each value of a rule file sits (line, column).
 *
 * jansson reports positions for syntax errors only; once a file has loaded
 * there is no way back from a json_t to its line. Semantic errors ("severity
 * 150 out of range") must still name FILE:LINE:COL, so after a successful
 * load the raw bytes are scanned a second time, in step with the jansson
 * tree: object members are looked up by key (not by iteration order), array
 * items by index, and each value's first character is recorded against its
 * json_t pointer. The scanner trusts that the bytes are valid JSON (jansson
 * just said so), which keeps it short. Duplicate keys cannot confuse it
 * because files are loaded with JSON_REJECT_DUPLICATES.
 *
 * Cost: one pass and one entry per value; rule files are small and this runs
 * at load time only.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

typedef struct pos_scan {
    const unsigned char *p, *end;
    uint32_t line, col;
    rules_posmap *pm;
    char *key;
    size_t key_cap;
    int oom;
} pos_scan;

static void pos_adv(pos_scan *sc)
{
    if (sc->p >= sc->end)
        return;
    if (*sc->p == '\n') {
        sc->line++;
        sc->col = 1;
    } else if ((*sc->p & 0xC0) != 0x80) {
        sc->col++; /* count characters, not bytes, like jansson */
    }
    sc->p++;
}

static void pos_ws(pos_scan *sc)
{
    while (sc->p < sc->end &&
           (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
        pos_adv(sc);
}

static void pos_add(pos_scan *sc, const void *node, const char *key,
                    uint32_t line, uint32_t col)
{
    rules_posmap *pm = sc->pm;
    if (!node)
        return;
    if (rules_vec_reserve(&pm->v, &pm->cap, pm->n + 1, sizeof(*pm->v)) != 0) {
        sc->oom = 1;
        return;
    }
    pm->v[pm->n++] = (rules_pos){node, key, line, col};
}

static int pos_key_put(pos_scan *sc, size_t *len, unsigned char c)
{
    if (rules_vec_reserve(&sc->key, &sc->key_cap, *len + 2, 1) != 0) {
        sc->oom = 1;
        return -1;
    }
    sc->key[(*len)++] = (char)c;
    return 0;
}

static unsigned pos_hex4(const unsigned char *s)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
    }
    return v;
}

/* Skip a string at sc->p (on the opening quote). With decode set, its value
 * is left NUL-terminated in sc->key and its byte length in *out_len. */
static void pos_string(pos_scan *sc, int decode, size_t *out_len)
{
    size_t len = 0;
    pos_adv(sc); /* opening quote */
    while (sc->p < sc->end && *sc->p != '"') {
        if (*sc->p != '\\') {
            if (decode && pos_key_put(sc, &len, *sc->p) != 0)
                return;
            pos_adv(sc);
            continue;
        }
        pos_adv(sc);
        if (sc->p >= sc->end)
            break;
        unsigned char e = *sc->p;
        if (e == 'u' && sc->end - sc->p >= 5) {
            unsigned cp = pos_hex4(sc->p + 1);
            for (int i = 0; i < 5; i++)
                pos_adv(sc);
            if (cp >= 0xD800 && cp <= 0xDBFF && sc->end - sc->p >= 6 &&
                sc->p[0] == '\\' && sc->p[1] == 'u') {
                unsigned lo = pos_hex4(sc->p + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                for (int i = 0; i < 6; i++)
                    pos_adv(sc);
            }
            if (decode) {
                unsigned char u[4];
                int n;
                if (cp < 0x80) {
                    u[0] = (unsigned char)cp;
                    n = 1;
                } else if (cp < 0x800) {
                    u[0] = (unsigned char)(0xC0 | (cp >> 6));
                    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
                    n = 2;
                } else if (cp < 0x10000) {
                    u[0] = (unsigned char)(0xE0 | (cp >> 12));
                    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
                    n = 3;
                } else {
                    u[0] = (unsigned char)(0xF0 | (cp >> 18));
                    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
                    n = 4;
                }
                for (int i = 0; i < n; i++)
                    if (pos_key_put(sc, &len, u[i]) != 0)
                        return;
            }
            continue;
        }
        if (decode) {
            unsigned char c = e;
            switch (e) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            default: break; /* '"', '\\', '/' stand for themselves */
            }
            if (pos_key_put(sc, &len, c) != 0)
                return;
        }
        pos_adv(sc);
    }
    pos_adv(sc); /* closing quote */
    if (decode) {
        if (pos_key_put(sc, &len, 0) != 0)
            return;
        *out_len = len - 1;
    }
}

static void pos_value(pos_scan *sc, json_t *node)
{
    uint32_t line = sc->line, col = sc->col;

    if (sc->oom || sc->p >= sc->end)
        return;
    /* true/false/null are shared singletons in jansson: a pointer would not
     * identify one occurrence, so they get no entry. */
    if (node && !json_is_boolean(node) && !json_is_null(node))
        pos_add(sc, node, NULL, line, col);

    if (*sc->p == '{') {
        pos_adv(sc);
        for (;;) {
            pos_ws(sc);
            if (sc->p >= sc->end || *sc->p == '}')
                break;
            if (*sc->p == ',') {
                pos_adv(sc);
                continue;
            }
            uint32_t kline = sc->line, kcol = sc->col;
            size_t klen = 0;
            pos_string(sc, 1, &klen);
            if (sc->oom)
                return;
            json_t *child = NULL;
            if (node && json_is_object(node)) {
                child = json_object_getn(node, sc->key, klen);
                void *it = json_object_iter_at(node, sc->key);
                if (it)
                    pos_add(sc, node, json_object_iter_key(it), kline, kcol);
            }
            pos_ws(sc);
            if (sc->p < sc->end && *sc->p == ':')
                pos_adv(sc);
            pos_ws(sc);
            pos_value(sc, child);
        }
        pos_adv(sc);
    } else if (*sc->p == '[') {
        size_t i = 0;
        pos_adv(sc);
        for (;;) {
            pos_ws(sc);
            if (sc->p >= sc->end || *sc->p == ']')
                break;
            if (*sc->p == ',') {
                pos_adv(sc);
                continue;
            }
            json_t *child = node && json_is_array(node) ? json_array_get(node, i) : NULL;
            pos_value(sc, child);
            i++;
        }
        pos_adv(sc);
    } else if (*sc->p == '"') {
        pos_string(sc, 0, NULL);
    } else {
        /* number, true, false, null */
        while (sc->p < sc->end && *sc->p != ',' && *sc->p != '}' &&
               *sc->p != ']' && *sc->p != ' ' && *sc->p != '\t' &&
               *sc->p != '\n' && *sc->p != '\r')
            pos_adv(sc);
    }
}

static int pos_cmp(const void *a, const void *b)
{
    const rules_pos *x = a, *y = b;
    if (x->node != y->node)
        return (uintptr_t)x->node < (uintptr_t)y->node ? -1 : 1;
    if (x->key != y->key)
        return (uintptr_t)x->key < (uintptr_t)y->key ? -1 : 1;
    return 0;
}

int rules_posmap_build(rules_posmap *pm, const char *buf, size_t len,
                       json_t *root)
{
    pos_scan sc = {(const unsigned char *)buf, (const unsigned char *)buf + len,
                   1, 1, pm, NULL, 0, 0};

    pm->n = 0;
    /* A UTF-8 byte order mark is skipped by editors' column counts too. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        sc.p += 3;
    pos_ws(&sc);
    pos_value(&sc, root);
    free(sc.key);
    if (sc.oom)
        return -1;
    qsort(pm->v, pm->n, sizeof(*pm->v), pos_cmp);
    return 0;
}

void rules_posmap_free(rules_posmap *pm)
{
    free(pm->v);
    pm->v = NULL;
    pm->n = pm->cap = 0;
}

static bool pos_find(const rules_posmap *pm, const void *node, const char *key,
                     int *line, int *col)
{
    rules_pos k = {node, key, 0, 0};
    const rules_pos *hit;

    if (!node || pm->n == 0)
        return false;
    hit = bsearch(&k, pm->v, pm->n, sizeof(*pm->v), pos_cmp);
    if (!hit)
        return false;
    *line = (int)hit->line;
    *col = (int)hit->col;
    return true;
}

bool rules_posmap_value(const rules_posmap *pm, const json_t *v, int *line,
                        int *col)
{
    return pos_find(pm, v, NULL, line, col);
}

bool rules_posmap_key(const rules_posmap *pm, const json_t *obj,
                      const char *key, int *line, int *col)
{
    void *it = json_object_iter_at((json_t *)obj, key);
    if (!it)
        return false;
    return pos_find(pm, obj, json_object_iter_key(it), line, col);
}
