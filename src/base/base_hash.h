/*
 * base_hash: 64-bit FNV-1a, and a string -> uint32 map built on it.
 *
 * FNV-1a because every use here hashes short keys (rule ids, patterns,
 * n-grams) or builds a digest that is written to disk (the ruleset version,
 * the compile cache key, the model version): it is byte-at-a-time, has no
 * seed, and its values are stable across builds and machines, which the
 * on-disk digests rely on. Not for keys an attacker chooses in bulk (no
 * seed means no defence against flooding); nothing here takes such keys.
 *
 * base_map: open addressing with linear probing, keys copied, load factor
 * kept under 1/2. No delete (the loaders only add).
 * Thread-safety: none; a map is built by one thread, then read-only (reads
 * from several threads are safe once nothing writes). Cost: get/put O(1)
 * expected plus one hash of the key; growth rehashes without re-hashing
 * keys (each slot keeps its hash).
 */
#ifndef EARSHOT_BASE_HASH_H
#define EARSHOT_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define BASE_FNV_OFFSET 0xcbf29ce484222325ULL
#define BASE_FNV_PRIME 0x100000001b3ULL

/* Continues hash h over n bytes; start with BASE_FNV_OFFSET. Chaining calls
 * is the same as hashing the concatenation. */
static inline uint64_t base_fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= BASE_FNV_PRIME;
    }
    return h;
}

/* A 64-bit checksum for corruption, not for an adversary (the compiled-rule
 * cache's entries): four multiply-rotate lanes over 8-byte words, several
 * GB/s, where a byte-at-a-time FNV takes ~50 ms over a 30 MB database. Every
 * bit of data and len changes it; stable across builds (it is on disk). */
uint64_t base_checksum(const void *data, size_t len);

typedef struct base_map {
    struct base_map_slot *slots;
    size_t cap, n;
} base_map; /* zero-initialised is an empty map */

void base_map_free(base_map *m);
/* The value stored for key, or UINT32_MAX. */
uint32_t base_map_get(const base_map *m, const char *key, size_t len);
/* Inserts key -> val; key must not be present (check with get first).
 * 0, or -1 when out of memory (the map is unchanged). */
int base_map_put(base_map *m, const char *key, size_t len, uint32_t val);

#endif
