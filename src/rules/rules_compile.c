/*
 * rules_compile: terms -> de-duplicated Hyperscan expressions -> one block
 * mode database, plus the pattern -> rules/brands indices the matcher walks.
 *
 * Expressions and flags, chosen by measurement (CPU time per match_post on
 * the default rules, 32 real-looking posts of ~65 bytes, this 2-core box
 * while shared, best of 3). 10k rules from bench/gen_rules.py (13,789
 * patterns): 48.8 s compile and ~11 us/post with \b and \s+ in every
 * phrase; 0.53 s compile, 1.7 MB db and ~0.8 us/post with the choices below.
 *   - A phrase is put through text_normalize() (the same function the posts
 *     go through, so "ＣＯＭＣÁＳＴ" in a rule and "comcast" in a post meet),
 *     trimmed, white space runs made one space, and every ASCII byte other
 *     than [a-z0-9_] escaped as \xHH: a pure literal, no flags.
 *   - Word boundaries of phrases are checked by the matcher on each hit, not
 *     with \b: \b around 748 default phrases cost 483 -> 265 ns/post when
 *     removed, because it stops Hyperscan from treating the phrases as pure
 *     literals. A phrase needs a non-word neighbour at each end that is an
 *     ASCII word character ([A-Za-z0-9_], Hyperscan's own \b definition
 *     without HS_FLAG_UCP, and UCP cannot be combined with \b anyway), so
 *     "comcast" does not match "comcastic", "@comcast" does not match
 *     "@comcastcares", and scripts without ASCII letters have no boundary.
 *     Those phrases cannot be SINGLEMATCH: a first hit inside "comcastic"
 *     that fails the check must not hide a later good one.
 *   - White space is matched as one literal space, and match_post() collapses
 *     runs of white space in the post (rarely needed, so only then copied):
 *     "\s+" between words made the default rules 2x slower (1350 vs 669
 *     ns/post) by splitting every phrase into short literal fragments.
 *   - No CASELESS and no UTF8 for phrases: both sides are already
 *     case-folded, and a literal is the same bytes either way.
 *   - A regex term is used as written with HS_FLAG_UTF8 (so "." and classes
 *     step over code points, not bytes) and HS_FLAG_CASELESS: the text is
 *     case-folded, and lower-casing an analyst's regex by hand would break
 *     escapes such as \S or \W, so CASELESS makes "Comcast" in a regex
 *     match. The two flags measured within noise of none (597-669 ns/post).
 *     Regex terms are not normalised: write them accent-free, as the text is.
 *   - HS_FLAG_SINGLEMATCH where nothing needs the count: regex terms and
 *     phrases without boundaries used by rules only. A brand counts its hits
 *     against its exclusions ("comcast center").
 *   - Identical (expression, flags) pairs are one pattern: default rules
 *     repeat phrases ("refund", "cancel") across rules and brands.
 *
 * Boolean structure: evaluated in C by the matcher for the candidate rules
 * only (rules reached from a pattern that hit), not with
 * HS_FLAG_COMBINATION: combinations cannot express the "when" predicates,
 * the brand hit counting nor the boundary checks above (a combination would
 * need \b back in every phrase), and the fired rule must be mapped back to
 * its labels in C anyway; candidate evaluation costs O(terms hit) per post.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules_internal.h"
#include "text/text.h"

static bool cmp_is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static bool cmp_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static int cmp_buf_put(rules_ld *ld, size_t *len, const char *s, size_t n)
{
    if (rules_vec_reserve(&ld->buf, &ld->buf_cap, *len + n + 1, 1) != 0)
        return -1;
    memcpy(ld->buf + *len, s, n);
    *len += n;
    ld->buf[*len] = 0;
    return 0;
}

static const char *cmp_owner(rules_ld *ld, bool by_brand, uint32_t owner)
{
    if (!by_brand && owner == UINT32_MAX)
        return "(lexicon)";
    return by_brand ? ld->rs->brands[owner].id : ld->rs->rules[owner].id;
}

static int cmp_intern(rules_ld *ld, const json_t *v, const char *expr,
                      size_t len, unsigned flags, bool all_matches,
                      uint8_t bound, uint32_t lit_len, const char *term, bool by_brand, uint32_t owner,
                      uint32_t *pat)
{
    ruleset *rs = ld->rs;
    char *key = NULL;
    uint32_t id;
    int line = 0, col = 0;

    /* Key: expression bytes, a NUL, the flags. */
    key = malloc(len + 1 + sizeof(flags));
    if (!key)
        goto oom;
    memcpy(key, expr, len);
    key[len] = 0;
    memcpy(key + len + 1, &flags, sizeof(flags));
    id = base_map_get(&ld->pat_ids, key, len + 1 + sizeof(flags));
    if (id != UINT32_MAX) {
        ld->pats[id].all_matches |= all_matches;
        free(key);
        *pat = id;
        return 0;
    }
    if (rs->n_patterns == UINT32_MAX - 1) {
        free(key);
        return rules_ld_fail(ld, ld->file, 0, 0,
                             "too many distinct terms (%u); split the rule set",
                             rs->n_patterns);
    }
    if (rules_vec_reserve(&ld->pats, &ld->cap_pats, rs->n_patterns + 1,
                          sizeof(*ld->pats)) != 0)
        goto oom;
    rules_ld_pattern *p = &ld->pats[rs->n_patterns];
    memset(p, 0, sizeof(*p));
    p->expr = strndup(expr, len);
    p->term = strdup(term);
    if (!p->expr || !p->term) {
        free(p->expr);
        free(p->term);
        goto oom;
    }
    rules_posmap_value(&ld->pm, v, &line, &col);
    p->flags = flags;
    p->all_matches = all_matches;
    p->bound = bound;
    p->lit_len = lit_len;
    p->file = ld->file;
    p->line = line;
    p->col = col;
    p->by_brand = by_brand;
    p->owner = owner;
    p->lex = RULES_NO_LEX;
    if (base_map_put(&ld->pat_ids, key, len + 1 + sizeof(flags),
                      rs->n_patterns) != 0) {
        free(p->expr);
        free(p->term);
        goto oom;
    }
    free(key);
    *pat = rs->n_patterns++;
    return 0;
oom:
    free(key);
    return rules_ld_fail(ld, ld->file, 0, 0, "out of memory compiling terms");
}

int rules_ld_phrase(rules_ld *ld, const json_t *v, const char *s,
                    bool all_matches, bool by_brand, uint32_t owner,
                    const char *what, uint32_t *pat)
{
    const char *norm;
    size_t nlen, len = 0, b, e;
    uint32_t lit_len = 0;
    uint8_t bound = 0;
    int line = 0, col = 0;

    rules_posmap_value(&ld->pm, v, &line, &col);
    if (text_normalize(ld->tn, s, strlen(s), &norm, &nlen) != 0) {
        rules_quote_buf q;
        return rules_ld_fail(ld, ld->file, line, col,
                             "%s: term '%s' could not be normalised (out of "
                             "memory or invalid UTF-8); save the file as UTF-8",
                             what, rules_quote(&q, s));
    }
    for (b = 0; b < nlen && cmp_is_space((unsigned char)norm[b]); b++)
        ;
    for (e = nlen; e > b && cmp_is_space((unsigned char)norm[e - 1]); e--)
        ;
    if (b == e)
        return rules_ld_fail(ld, ld->file, line, col,
                             "%s: empty term; remove it or write the phrase "
                             "to match", what);

    for (size_t i = b; i < e; i++) {
        unsigned char c = (unsigned char)norm[i];
        char hex[8];
        if (cmp_is_space(c)) {
            while (i + 1 < e && cmp_is_space((unsigned char)norm[i + 1]))
                i++;
            c = ' ';
        }
        lit_len++;
        if (cmp_is_word(c)) {
            if (cmp_buf_put(ld, &len, (const char *)&c, 1))
                goto oom;
        } else {
            snprintf(hex, sizeof(hex), "\\x%02x", c);
            if (cmp_buf_put(ld, &len, hex, 4))
                goto oom;
        }
    }
    if (cmp_is_word((unsigned char)norm[b]))
        bound |= RULES_BOUND_START;
    if (cmp_is_word((unsigned char)norm[e - 1]))
        bound |= RULES_BOUND_END;
    /* A one-letter bounded literal ("t" from "don't", "a", "i") occurs
     * inside most words of a post: checked here on each hit, it made a
     * callback per letter. Hyperscan checks \b itself without reporting,
     * so these get \b in the expression, the check is dropped, and the
     * match still has the literal's length (\b is zero-width). Measured
     * on complaints.jsonl x30 with a 4.9k-gram model (user CPU): 0.85 s
     * without, 0.67 s for 1 byte, 0.69 s up to 2 bytes, 0.73 s up to 3:
     * \b costs Hyperscan more than the callbacks it saves beyond one. */
    if (bound && lit_len <= RULES_SHORT_LITERAL) {
        char tmp[4 * RULES_SHORT_LITERAL + 5];
        size_t tl = 0;
        if (bound & RULES_BOUND_START)
            tl += (size_t)snprintf(tmp + tl, sizeof(tmp) - tl, "\\b");
        tl += (size_t)snprintf(tmp + tl, sizeof(tmp) - tl, "%.*s", (int)len, ld->buf);
        if (bound & RULES_BOUND_END)
            tl += (size_t)snprintf(tmp + tl, sizeof(tmp) - tl, "\\b");
        return cmp_intern(ld, v, tmp, tl, 0, all_matches, 0, lit_len, s, by_brand,
                          owner, pat);
    }
    return cmp_intern(ld, v, ld->buf, len, 0, all_matches, bound, lit_len, s,
                      by_brand, owner, pat);
oom:
    return rules_ld_fail(ld, ld->file, line, col, "out of memory compiling terms");
}

int rules_ld_regex(rules_ld *ld, const json_t *v, const char *s, bool by_brand,
                   uint32_t owner, const char *what, uint32_t *pat)
{
    if (!*s) {
        int line = 0, col = 0;
        rules_posmap_value(&ld->pm, v, &line, &col);
        return rules_ld_fail(ld, ld->file, line, col,
                             "%s: empty regex; remove the term or write the "
                             "pattern to match", what);
    }
    return cmp_intern(ld, v, s, strlen(s), HS_FLAG_UTF8 | HS_FLAG_CASELESS,
                      false, 0, 0, s, by_brand, owner, pat);
}

void rules_ld_patterns_free(rules_ld *ld)
{
    for (size_t i = 0; ld->pats && ld->rs && i < ld->rs->n_patterns; i++) {
        free(ld->pats[i].expr);
        free(ld->pats[i].term);
    }
    free(ld->pats);
    ld->pats = NULL;
}

/* Collect the leaves of node that are not under a "not". */
static void cmp_positive(const ruleset *rs, uint32_t node, uint32_t rule,
                         uint32_t *seen, uint32_t *count, uint32_t *out,
                         uint32_t *fill)
{
    const rules_node *n = &rs->nodes[node];
    if (n->pattern != RULES_NO_PATTERN) {
        if (seen[n->pattern] == rule + 1)
            return;
        seen[n->pattern] = rule + 1;
        if (out)
            out[fill[n->pattern]++] = rule;
        else
            count[n->pattern]++;
        return;
    }
    for (uint32_t i = 0; i < (uint32_t)n->n_all + n->n_any; i++)
        cmp_positive(rs, rs->child[n->first + i], rule, seen, count, out, fill);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_index(rules_ld *ld)
{
    ruleset *rs = ld->rs;
    uint32_t np = rs->n_patterns;
    uint32_t *seen = calloc(np, sizeof(*seen));
    uint32_t *fill = calloc(np + 1, sizeof(*fill));
    uint64_t *refs = NULL;
    size_t nrefs = 0;
    int rc = -1;

    rs->pat_rule_off = calloc(np + 1, sizeof(uint32_t));
    rs->pat_brand_off = calloc(np + 1, sizeof(uint32_t));
    if (!seen || !fill || !rs->pat_rule_off || !rs->pat_brand_off)
        goto out;

    /* pattern -> rules: count, prefix-sum, fill (CSR). */
    for (uint32_t r = 0; r < rs->n_rules; r++)
        cmp_positive(rs, rs->rule_root[r], r, seen, rs->pat_rule_off + 1, NULL,
                     NULL);
    for (uint32_t p = 0; p < np; p++)
        rs->pat_rule_off[p + 1] += rs->pat_rule_off[p];
    rs->pat_rules = malloc((rs->pat_rule_off[np] + 1) * sizeof(uint32_t));
    if (!rs->pat_rules)
        goto out;
    memcpy(fill, rs->pat_rule_off, np * sizeof(uint32_t));
    memset(seen, 0, np * sizeof(*seen));
    for (uint32_t r = 0; r < rs->n_rules; r++)
        cmp_positive(rs, rs->rule_root[r], r, seen, NULL, rs->pat_rules, fill);

    /* pattern -> brands: sort (pattern, brand<<1|excl) pairs, drop repeats
     * (the same phrase listed twice for one brand counts once). */
    refs = malloc((ld->n_brand_refs + 1) * sizeof(*refs));
    if (!refs)
        goto out;
    for (size_t i = 0; i < ld->n_brand_refs; i++)
        refs[i] = (uint64_t)ld->brand_refs[2 * i] << 32 | ld->brand_refs[2 * i + 1];
    qsort(refs, ld->n_brand_refs, sizeof(*refs), cmp_u64);
    for (size_t i = 0; i < ld->n_brand_refs; i++)
        if (nrefs == 0 || refs[nrefs - 1] != refs[i])
            refs[nrefs++] = refs[i];
    rs->pat_brands = malloc((nrefs + 1) * sizeof(uint32_t));
    if (!rs->pat_brands)
        goto out;
    for (size_t i = 0; i < nrefs; i++) {
        rs->pat_brand_off[(refs[i] >> 32) + 1]++;
        rs->pat_brands[i] = (uint32_t)refs[i];
    }
    for (uint32_t p = 0; p < np; p++)
        rs->pat_brand_off[p + 1] += rs->pat_brand_off[p];
    rc = 0;
out:
    free(seen);
    free(fill);
    free(refs);
    if (rc != 0)
        rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory indexing terms");
    return rc;
}

static double cmp_seconds(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) +
           (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

int rules_ld_compile(rules_ld *ld)
{
    ruleset *rs = ld->rs;
    uint32_t np = rs->n_patterns;
    const char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    hs_compile_error_t *cerr = NULL;
    struct timespec t0, t1;
    int rc = -1;

    if (np == 0)
        return rules_ld_fail(ld, UINT32_MAX, 0, 0,
                             "no brands or rules in %zu file(s); add a "
                             "\"brands\" or \"rules\" list (a model is "
                             "served beside rules, not alone)", ld->n_paths);
    if (cmp_index(ld) != 0 || rules_ld_lexicon_index(ld) != 0 ||
        rules_ld_model_index(ld) != 0 ||
        rules_ld_vocab(ld) != 0)
        return -1;

    exprs = malloc(np * sizeof(*exprs));
    flags = malloc(np * sizeof(*flags));
    ids = malloc(np * sizeof(*ids));
    rs->pat_len = malloc(np * sizeof(*rs->pat_len));
    rs->pat_bound = malloc(np * sizeof(*rs->pat_bound));
    if (!exprs || !flags || !ids || !rs->pat_len || !rs->pat_bound) {
        rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory compiling terms");
        goto out;
    }
    for (uint32_t i = 0; i < np; i++) {
        exprs[i] = ld->pats[i].expr;
        flags[i] = ld->pats[i].flags;
        if (!ld->pats[i].all_matches && !ld->pats[i].bound)
            flags[i] |= HS_FLAG_SINGLEMATCH;
        ids[i] = i;
        rs->pat_len[i] = ld->pats[i].lit_len;
        rs->pat_bound[i] = ld->pats[i].bound;
    }
    const rules_load_opts *o = ld->opts;
    uint64_t key = 0;
    if (o->cache_dir) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        key = rules_cache_key(exprs, flags, ids, np, HS_MODE_BLOCK);
        int hit = rules_cache_get(o->cache_dir, key, np, &rs->db, o->warn,
                                  o->warn_size);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rs->stats.cache_s = cmp_seconds(&t0, &t1);
        if (hit) {
            rs->stats.from_cache = true;
            goto sized;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hs_error_t hrc = hs_compile_multi(exprs, flags, ids, np, HS_MODE_BLOCK,
                                      NULL, &rs->db, &cerr);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rs->stats.compile_s = cmp_seconds(&t0, &t1);
    if (hrc != HS_SUCCESS) {
        const char *msg = cerr && cerr->message ? cerr->message : "unknown error";
        if (cerr && cerr->expression >= 0 && (uint32_t)cerr->expression < np) {
            const rules_ld_pattern *p = &ld->pats[cerr->expression];
            rules_quote_buf qo, qt;
            rules_ld_fail(ld, p->file, p->line, p->col,
                          "%s %s: pattern '%s' does not compile: %s Fix the "
                          "term (Hyperscan syntax; it runs on lower-case, "
                          "accent-free normalised text).",
                          p->by_brand ? "brand" : "rule",
                          rules_quote(&qo, cmp_owner(ld, p->by_brand, p->owner)),
                          rules_quote(&qt, p->term), msg);
        } else {
            rules_ld_fail(ld, UINT32_MAX, 0, 0,
                          "Hyperscan could not build the database of %u "
                          "patterns: %s; reduce or simplify the rules", np, msg);
        }
        rs->db = NULL;
        goto out;
    }
    if (o->cache_dir) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rules_cache_put(o->cache_dir,
                        o->cache_max_bytes ? o->cache_max_bytes
                                           : RULES_CACHE_MAX_DEFAULT,
                        key, np, rs->db, o->warn, o->warn_size);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rs->stats.cache_s += cmp_seconds(&t0, &t1);
    }
sized:;
    size_t sz = 0;
    if (hs_database_size(rs->db, &sz) == HS_SUCCESS)
        rs->stats.db_bytes = sz;
    rc = 0;
out:
    if (cerr)
        hs_free_compile_error(cerr);
    free(exprs);
    free(flags);
    free(ids);
    return rc;
}
