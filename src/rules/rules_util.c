/*
 * rules_util: the small containers the loader needs (growable arrays, a
 * string map), the FNV-1a hash used for both the map and the ruleset
 * version, and the guarded file reads shared by the loader and the cache.
 * Load-time only; nothing here is on the scan path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules_internal.h"

int rules_vec_reserve(void *p, size_t *cap, size_t need, size_t elsize)
{
    void **pp = p;
    size_t ncap = *cap ? *cap : 8;
    void *n;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    n = realloc(*pp, ncap * elsize);
    if (!n)
        return -1;
    *pp = n;
    *cap = ncap;
    return 0;
}

uint64_t rules_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *s = data;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

struct rules_map_slot {
    char *key; /* NULL: empty */
    size_t len;
    uint64_t hash;
    uint32_t val;
};

void rules_map_free(rules_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static struct rules_map_slot *map_find(struct rules_map_slot *slots, size_t cap,
                                       uint64_t h, const char *key, size_t len)
{
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        struct rules_map_slot *s = &slots[i];
        if (!s->key ||
            (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

uint32_t rules_map_get(const rules_map *m, const char *key, size_t len)
{
    if (m->n == 0)
        return UINT32_MAX;
    uint64_t h = rules_fnv1a(RULES_FNV_OFFSET, key, len);
    struct rules_map_slot *s = map_find(m->slots, m->cap, h, key, len);
    return s->key ? s->val : UINT32_MAX;
}

int rules_map_put(rules_map *m, const char *key, size_t len, uint32_t val)
{
    uint64_t h = rules_fnv1a(RULES_FNV_OFFSET, key, len);
    struct rules_map_slot *s;

    /* Keep the load factor under 1/2 so probes stay short. */
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct rules_map_slot *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            *map_find(ns, ncap, m->slots[i].hash, m->slots[i].key,
                      m->slots[i].len) = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    s = map_find(m->slots, m->cap, h, key, len);
    s->key = malloc(len + 1);
    if (!s->key)
        return -1;
    memcpy(s->key, key, len);
    s->key[len] = 0;
    s->len = len;
    s->hash = h;
    s->val = val;
    m->n++;
    return 0;
}

const char *rules_quote(rules_quote_buf *q, const char *s)
{
    size_t n = strnlen(s, RULES_QUOTE_MAX + 1);

    if (n <= RULES_QUOTE_MAX)
        return s;
    /* s[n] is the first byte left out: while it continues a character,
     * leave out that character's earlier bytes too. */
    n = RULES_QUOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(q->s, s, n);
    memcpy(q->s + n, "...", 4);
    return q->s;
}

