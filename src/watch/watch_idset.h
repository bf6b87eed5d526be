/*
 * watch_idset: the post ids the aggregator has seen, for de-duplication
 * (delivery is at least once). Internal to src/watch.
 *
 * Holds 64-bit FNV-1a hashes of the ids, not the ids: 16 B per id in the
 * table plus 16 B in the expiry queue. Two distinct ids collide with
 * probability ~n/2^64 each (2e6 ids: ~1e-13 per lookup), which would drop
 * one post from the counts; accepted for the memory.
 *
 * Bounded and time-expiring: ids leave in insertion order once their event
 * time is older than the horizon the caller gives, or when more than max
 * are held (the oldest first). Insertion order approximates time order;
 * an old id inserted late just stays a little longer.
 *
 * Thread-safety: none (owned by one aggregator). Cost: add O(1) amortised
 * (linear probing, table kept at most half full); expire O(ids expired).
 */
#ifndef EARSHOT_WATCH_IDSET_H
#define EARSHOT_WATCH_IDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct watch_idset watch_idset;

watch_idset *watch_idset_new(size_t max);
void watch_idset_free(watch_idset *s);

uint64_t watch_idset_hash(const char *id, size_t len);

/* 1 when h is held already; else remembers it with event time t_ms and
 * returns 0; -1 when out of memory. */
int watch_idset_add(watch_idset *s, uint64_t h, int64_t t_ms);

/* Forgets the ids at the head of the queue whose time is before before_ms. */
void watch_idset_expire(watch_idset *s, int64_t before_ms);

size_t watch_idset_size(const watch_idset *s);

#endif
