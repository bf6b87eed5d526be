/*
 * offtrack: per-partition "commit only behind acknowledged" bookkeeping.
 * See offtrack.h.
 *
 * The pending offsets sit in a sorted array window [head, len): a ring would
 * save the occasional memmove, but compaction only happens when the window
 * reaches the end of the array, and then moves at most half of it.
 */
#include "pipeline/offtrack.h"
#include "base/base_buf.h"

#include <stdlib.h>
#include <string.h>

typedef struct offtrack_entry {
    int64_t offset;
    int done;
} offtrack_entry;

struct offtrack {
    offtrack_entry *e;
    size_t head, len, cap;
    int64_t last_added;
    int64_t committable;
};

offtrack *offtrack_new(void)
{
    offtrack *ot = calloc(1, sizeof(*ot));
    if (!ot)
        return NULL;
    ot->last_added = -1;
    ot->committable = -1;
    return ot;
}

void offtrack_free(offtrack *ot)
{
    if (!ot)
        return;
    free(ot->e);
    free(ot);
}

int offtrack_add(offtrack *ot, int64_t offset)
{
    if (offset <= ot->last_added)
        return -1;
    if (ot->len == ot->cap) {
        if (ot->head > 0 && ot->head >= ot->cap / 2) {
            memmove(ot->e, ot->e + ot->head, (ot->len - ot->head) * sizeof(*ot->e));
            ot->len -= ot->head;
            ot->head = 0;
        } else {
            offtrack_entry *grown = base_grow(ot->e, &ot->cap, sizeof(*grown), 64);
            if (!grown)
                return -2;
            ot->e = grown;
        }
    }
    ot->e[ot->len].offset = offset;
    ot->e[ot->len].done = 0;
    ot->len++;
    ot->last_added = offset;
    return 0;
}

int64_t offtrack_done(offtrack *ot, int64_t offset)
{
    size_t lo = ot->head, hi = ot->len;
    int64_t advanced = 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ot->e[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ot->len || ot->e[lo].offset != offset || ot->e[lo].done)
        return -1;
    ot->e[lo].done = 1;
    while (ot->head < ot->len && ot->e[ot->head].done) {
        advanced = ot->e[ot->head].offset + 1;
        ot->head++;
    }
    if (ot->head == ot->len)
        ot->head = ot->len = 0;
    if (advanced)
        ot->committable = advanced;
    return advanced;
}

size_t offtrack_pending(const offtrack *ot)
{
    return ot->len - ot->head;
}

int64_t offtrack_last_added(const offtrack *ot)
{
    return ot->last_added;
}

int64_t offtrack_committable(const offtrack *ot)
{
    return ot->committable;
}
