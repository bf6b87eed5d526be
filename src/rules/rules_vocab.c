/*
 * rules_vocab: the words the rules are written in, so that the matcher can
 * read a hashtag as the phrase it squashes ("#shameonyou" -> "shame on
 * you", "#worstserviceever" -> "worst service ever").
 *
 * Why the rules' own words and not a dictionary: a hashtag only matters
 * here when its words can complete some term, and a split is only trusted
 * when every piece is a known word (match.c), so the vocabulary of the
 * terms is both sufficient and safer than a general word list ("#therapist"
 * is not "the rapist" unless a rule speaks of rapists). Words are the runs
 * of [a-z0-9] in the normalised phrases, 2+ bytes, plus "a" and "i" (a
 * trained model's n-grams are not phrases, so they never change what the
 * rules see).
 *
 * The index is open addressing over 64-bit FNV-1a hashes with the word's
 * offset, so the matcher can hash a candidate while it extends it, one
 * multiply per byte, and compare bytes only on a hash hit.
 *
 * Cost: load time O(total term bytes); a lookup is one or two probes.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

static uint64_t vocab_hash(const char *s, size_t len)
{
    uint64_t h = RULES_VOCAB_HASH0;
    for (size_t i = 0; i < len; i++)
        h = rules_vocab_step(h, (unsigned char)s[i]);
    return h;
}

bool rules_vocab_has(const ruleset *rs, uint64_t h, const char *s, size_t len)
{
    if (!rs->vocab_slots || len > rs->vocab_max)
        return false;
    for (size_t i = (size_t)h & rs->vocab_mask;; i = (i + 1) & rs->vocab_mask) {
        uint32_t off = rs->vocab_slots[i];
        if (off == 0)
            return false;
        if (rs->vocab_hashes[i] == h) {
            const char *w = rs->vocab + off - 1;
            if (strncmp(w, s, len) == 0 && w[len] == '\0')
                return true;
        }
    }
}

int rules_vocab_index(ruleset *rs)
{
    size_t n = 0, cap = 16;
    free(rs->vocab_slots);
    free(rs->vocab_hashes);
    rs->vocab_slots = NULL;
    rs->vocab_hashes = NULL;
    rs->vocab_max = 0;
    for (size_t i = 0; i < rs->vocab_len; i++)
        n += rs->vocab[i] == '\0';
    if (n == 0 || rs->vocab_len >= UINT32_MAX)
        return 0;
    while (cap < 2 * n)
        cap <<= 1;
    rs->vocab_slots = calloc(cap, sizeof(*rs->vocab_slots));
    rs->vocab_hashes = calloc(cap, sizeof(*rs->vocab_hashes));
    if (!rs->vocab_slots || !rs->vocab_hashes)
        return -1;
    rs->vocab_mask = cap - 1;
    for (size_t off = 0; off < rs->vocab_len;) {
        size_t len = strlen(rs->vocab + off);
        uint64_t h = vocab_hash(rs->vocab + off, len);
        size_t i = (size_t)h & rs->vocab_mask;
        while (rs->vocab_slots[i])
            i = (i + 1) & rs->vocab_mask;
        rs->vocab_slots[i] = (uint32_t)off + 1;
        rs->vocab_hashes[i] = h;
        if (len > rs->vocab_max)
            rs->vocab_max = (uint32_t)len;
        off += len + 1;
    }
    return 0;
}

static bool vocab_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Append word w[0..len) to the blob unless seen holds it already. */
static int vocab_add(ruleset *rs, size_t *cap, base_map *seen, const char *w,
                     size_t len)
{
    if (len == 0 || len > 32 || (len == 1 && w[0] != 'a' && w[0] != 'i'))
        return 0;
    if (base_map_get(seen, w, len) != UINT32_MAX)
        return 0;
    if (base_map_put(seen, w, len, 0) != 0 ||
        rules_vec_reserve(&rs->vocab, cap, rs->vocab_len + len + 1, 1) != 0)
        return -1;
    memcpy(rs->vocab + rs->vocab_len, w, len);
    rs->vocab[rs->vocab_len + len] = '\0';
    rs->vocab_len += len + 1;
    return 0;
}

int rules_ld_vocab(rules_ld *ld)
{
    ruleset *rs = ld->rs;
    size_t cap = 0;
    char word[33];
    base_map seen = {0};
    int rc = -1;

    for (uint32_t p = 0; p < rs->n_patterns; p++) {
        const char *e = ld->pats[p].expr;
        size_t wl = 0;
        if (ld->pats[p].flags != 0) /* a regex, not a phrase */
            continue;
        /* Phrase expressions are [a-z0-9_] bytes and \xHH escapes. */
        for (;;) {
            unsigned char c = (unsigned char)*e;
            if (c == '\\' && e[1] == 'b') { /* \b of a short phrase */
                c = ' ';
                e += 2;
            } else if (c == '\\' && e[1] == 'x' && e[2] && e[3]) {
                c = (unsigned char)strtoul((char[]){e[2], e[3], 0}, NULL, 16);
                e += 4;
            } else if (c) {
                e++;
            }
            if (c && vocab_alnum(c)) {
                if (wl < sizeof(word) - 1)
                    word[wl] = (char)c;
                wl++;
                continue;
            }
            if (wl && wl < sizeof(word) &&
                vocab_add(rs, &cap, &seen, word, wl) != 0)
                goto out;
            wl = 0;
            if (!c)
                break;
        }
    }
    rc = rules_vocab_index(rs);
out:
    base_map_free(&seen);
    return rc == 0 ? 0 : rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory");
}
