/*
 * rules_util: the loader's growable arrays and its quoting of long names in
 * messages. (The string map and FNV-1a are base/base_hash.h; the guarded
 * file reads are base/base_file.h.)
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

