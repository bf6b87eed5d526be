/*
 * watch_idset: a linear-probing set of id hashes plus a FIFO for expiry.
 * See watch_idset.h. Deletion shifts the following cluster back instead of
 * leaving tombstones, so a long-running set never degrades.
 */
#include "watch/watch_idset.h"
#include "base/base_hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct idset_entry {
    uint64_t h;
    int64_t t;
} idset_entry;

struct watch_idset {
    uint64_t *slot; /* 0 = empty; hashes are never 0 (watch_idset_hash) */
    size_t mask;    /* slots - 1 */
    size_t n;
    size_t max;
    idset_entry *fifo; /* ring: [head, head + n) */
    size_t head, fifo_cap;
};

uint64_t watch_idset_hash(const char *id, size_t len)
{
    uint64_t h = base_fnv1a(BASE_FNV_OFFSET, id, len);
    return h ? h : 1;
}

watch_idset *watch_idset_new(size_t max)
{
    watch_idset *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->max = max ? max : 1;
    s->mask = 1023;
    s->slot = calloc(s->mask + 1, sizeof(*s->slot));
    s->fifo_cap = 512;
    s->fifo = malloc(s->fifo_cap * sizeof(*s->fifo));
    if (!s->slot || !s->fifo) {
        watch_idset_free(s);
        return NULL;
    }
    return s;
}

void watch_idset_free(watch_idset *s)
{
    if (!s)
        return;
    free(s->slot);
    free(s->fifo);
    free(s);
}

static size_t idset_find(const watch_idset *s, uint64_t h)
{
    size_t i = (size_t)h & s->mask;
    while (s->slot[i] && s->slot[i] != h)
        i = (i + 1) & s->mask;
    return i;
}

static void idset_delete(watch_idset *s, uint64_t h)
{
    size_t i = idset_find(s, h), j = i;

    if (!s->slot[i])
        return;
    for (;;) {
        j = (j + 1) & s->mask;
        if (!s->slot[j])
            break;
        size_t k = (size_t)s->slot[j] & s->mask; /* home of the entry at j */
        /* move it back into the hole at i unless its home lies in (i, j] */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            s->slot[i] = s->slot[j];
            i = j;
        }
    }
    s->slot[i] = 0;
}

static int idset_grow(watch_idset *s)
{
    size_t cap = (s->mask + 1) * 2;
    uint64_t *old = s->slot, *grown = calloc(cap, sizeof(*grown));
    size_t old_cap = s->mask + 1;

    if (!grown)
        return -1;
    s->slot = grown;
    s->mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            s->slot[idset_find(s, old[i])] = old[i];
    free(old);
    return 0;
}

static void idset_pop(watch_idset *s)
{
    idset_delete(s, s->fifo[s->head].h);
    s->head = (s->head + 1) % s->fifo_cap;
    s->n--;
}

int watch_idset_add(watch_idset *s, uint64_t h, int64_t t_ms)
{
    size_t i = idset_find(s, h);

    if (s->slot[i])
        return 1;
    if (s->n >= s->max) {
        idset_pop(s);
        i = idset_find(s, h);
    }
    if ((s->n + 1) * 2 > s->mask + 1) {
        if (idset_grow(s))
            return -1;
        i = idset_find(s, h);
    }
    if (s->n == s->fifo_cap) {
        size_t cap = s->fifo_cap * 2;
        idset_entry *f = malloc(cap * sizeof(*f));
        if (!f)
            return -1;
        for (size_t k = 0; k < s->n; k++)
            f[k] = s->fifo[(s->head + k) % s->fifo_cap];
        free(s->fifo);
        s->fifo = f;
        s->fifo_cap = cap;
        s->head = 0;
    }
    s->slot[i] = h;
    s->fifo[(s->head + s->n) % s->fifo_cap] = (idset_entry){h, t_ms};
    s->n++;
    return 0;
}

void watch_idset_expire(watch_idset *s, int64_t before_ms)
{
    while (s->n && s->fifo[s->head].t < before_ms)
        idset_pop(s);
}

size_t watch_idset_size(const watch_idset *s)
{
    return s->n;
}
