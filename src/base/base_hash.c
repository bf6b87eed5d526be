/* base_hash: the string map (contract in base_hash.h). */
#include "base/base_hash.h"

#include <stdlib.h>
#include <string.h>

struct base_map_slot {
    char *key; /* NULL: empty */
    size_t len;
    uint64_t hash;
    uint32_t val;
};

void base_map_free(base_map *m) {
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

/* The slot holding key, or the empty slot where it would go. The load
 * factor under 1/2 guarantees an empty slot, so the probe ends. */
static struct base_map_slot *map_find(struct base_map_slot *slots, size_t cap,
                                      uint64_t h, const char *key, size_t len) {
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        struct base_map_slot *s = &slots[i];
        if (!s->key ||
            (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

uint32_t base_map_get(const base_map *m, const char *key, size_t len) {
    if (m->n == 0)
        return UINT32_MAX;
    uint64_t h = base_fnv1a(BASE_FNV_OFFSET, key, len);
    struct base_map_slot *s = map_find(m->slots, m->cap, h, key, len);
    return s->key ? s->val : UINT32_MAX;
}

int base_map_put(base_map *m, const char *key, size_t len, uint32_t val) {
    uint64_t h = base_fnv1a(BASE_FNV_OFFSET, key, len);
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, key, len);
    copy[len] = 0;

    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct base_map_slot *ns = calloc(ncap, sizeof(*ns));
        if (!ns) {
            free(copy);
            return -1;
        }
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
    struct base_map_slot *s = map_find(m->slots, m->cap, h, key, len);
    s->key = copy;
    s->len = len;
    s->hash = h;
    s->val = val;
    m->n++;
    return 0;
}

static inline uint64_t base_rotl(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

/* A checksum for corruption (not for an adversary): four independent
 * multiply-rotate lanes over 8-byte words, so it runs at several GB/s where a
 * byte-at-a-time FNV would take ~50 ms over a 30 MB database. */
uint64_t base_checksum(const void *data, size_t len)
{
    const unsigned char *p = data;
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h[4] = {k, k ^ 1, k ^ 2, k ^ 3}, w, r;
    size_t i = 0;

    for (; i + 32 <= len; i += 32) {
        for (int l = 0; l < 4; l++) {
            memcpy(&w, p + i + 8 * l, 8);
            h[l] = base_rotl((h[l] ^ w) * 0xff51afd7ed558ccdULL, 29);
        }
    }
    r = base_fnv1a(BASE_FNV_OFFSET, p + i, len - i);
    for (int l = 0; l < 4; l++)
        r = base_rotl((r ^ h[l]) * k, 31);
    r ^= (uint64_t)len;
    r ^= r >> 33;
    r *= 0xc4ceb9fe1a85ec53ULL;
    r ^= r >> 33;
    return r;
}
