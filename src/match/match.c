/*
 * match: one hs_scan over the normalised text, then brands and candidate
 * rules evaluated in C.
 *
 * Per-scan state lives in the scratch and is reset by a generation stamp
 * (pattern p hit in this scan iff pat_stamp[p] == stamp), so a scan touches
 * only what it hits instead of clearing arrays sized by the ruleset. The
 * arrays are grown when a larger ruleset arrives (hot reload) and never
 * shrunk; new slots are zeroed, and the stamp never reaches 0 again before a
 * full clear, so stale slots can never look current.
 *
 * Runs of white space in the post are scanned as one space (the phrases are
 * compiled that way, see rules_compile.c); regex terms see the same text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match/match.h"
#include "model/model.h"
#include "rules/rules_layout.h"
#include "text/text.h"

/* One lexicon hit: entry and byte span in the scanned text. Capped: a post
 * with more lexicon hits than this is scored on its first ones. */
#define MATCH_MAX_OCC 128
typedef struct match_occ {
    uint32_t lex, start, end;
} match_occ;

/* Model features counted per post, at most (a post of ~3,000 characters;
 * past it the first ones score). */
#define MATCH_MAX_MODEL 1024

struct match_scratch {
    hs_scratch_t *hs;
    const hs_database_t *hs_db; /* the db hs was last sized for ... */
    uint64_t hs_digest;         /* ... and its ruleset digest (see below) */

    uint32_t stamp;
    size_t cap_pat, cap_rule, cap_brand;
    uint32_t *pat_stamp, *pat_count;
    uint32_t *hit;       /* patterns hit in this scan, in hit order */
    size_t n_hit;
    uint32_t *rule_stamp;
    uint32_t *cand;      /* candidate rules, then the rules that fire */
    uint32_t *brand_stamp, *brand_pos, *brand_neg;
    uint32_t *brand_hit; /* brands touched in this scan */
    size_t n_brand_hit;
    uint8_t *brand_on;   /* per brand: mentioned in this scan */

    const ruleset *rs;   /* for the callback */
    const unsigned char *text;
    size_t text_len;
    char *squeezed;      /* the text with white space runs made one space */
    size_t cap_squeezed;
    char *expanded;      /* the text plus its hashtags split into words */
    size_t cap_expanded;
    match_occ occ[MATCH_MAX_OCC]; /* lexicon hits, in report order */
    size_t n_occ;

    size_t orig_len;     /* scanned bytes before the hashtag lines */
    struct model_fx *mfx; /* the model's tokeniser, made on first use */
    uint32_t model_ids[MATCH_MAX_MODEL];
    size_t n_model;
    double *model_probs; /* per model class */
    size_t cap_model_probs;
};

match_scratch *match_scratch_new(void)
{
    return calloc(1, sizeof(match_scratch));
}

void match_scratch_free(match_scratch *ms)
{
    if (!ms)
        return;
    if (ms->hs)
        hs_free_scratch(ms->hs);
    free(ms->pat_stamp);
    free(ms->pat_count);
    free(ms->hit);
    free(ms->rule_stamp);
    free(ms->cand);
    free(ms->brand_stamp);
    free(ms->brand_pos);
    free(ms->brand_neg);
    free(ms->brand_hit);
    free(ms->brand_on);
    free(ms->squeezed);
    free(ms->expanded);
    model_fx_free(ms->mfx);
    free(ms->model_probs);
    free(ms);
}

/* Grow *arr from old to n items of size el, zeroing the new part. */
static int match_grow(void *arr, size_t old, size_t n, size_t el)
{
    void **p = arr;
    void *q = realloc(*p, (n ? n : 1) * el);
    if (!q)
        return -1;
    memset((char *)q + old * el, 0, (n - old) * el);
    *p = q;
    return 0;
}

static int match_fit(match_scratch *ms, const ruleset *rs, char *err,
                     size_t err_size)
{
    /* A database pointer alone could be reused by a later ruleset after the
     * old one is freed; the content digest tells them apart, and equal
     * content compiles to a database with equal scratch needs. */
    if (ms->hs_db != rs->db || ms->hs_digest != rs->digest) {
        hs_error_t e = hs_alloc_scratch(rs->db, &ms->hs);
        if (e != HS_SUCCESS) {
            snprintf(err, err_size,
                     "hs_alloc_scratch failed (error %d): out of memory or "
                     "a database from another Hyperscan build", (int)e);
            return -1;
        }
        ms->hs_db = rs->db;
        ms->hs_digest = rs->digest;
    }
    if (rs->n_patterns > ms->cap_pat) {
        size_t n = rs->n_patterns;
        if (match_grow(&ms->pat_stamp, ms->cap_pat, n, sizeof(uint32_t)) ||
            match_grow(&ms->pat_count, ms->cap_pat, n, sizeof(uint32_t)) ||
            match_grow(&ms->hit, ms->cap_pat, n, sizeof(uint32_t)))
            goto oom;
        ms->cap_pat = n;
    }
    if (rs->n_rules > ms->cap_rule) {
        size_t n = rs->n_rules;
        if (match_grow(&ms->rule_stamp, ms->cap_rule, n, sizeof(uint32_t)) ||
            match_grow(&ms->cand, ms->cap_rule, n, sizeof(uint32_t)))
            goto oom;
        ms->cap_rule = n;
    }
    if (rs->model && !ms->mfx && !(ms->mfx = model_fx_new()))
        goto oom;
    if (rs->model && model_class_count(rs->model) > ms->cap_model_probs) {
        size_t n = model_class_count(rs->model);
        if (match_grow(&ms->model_probs, ms->cap_model_probs, n, sizeof(double)))
            goto oom;
        ms->cap_model_probs = n;
    }
    if (rs->n_brands > ms->cap_brand) {
        size_t n = rs->n_brands;
        if (match_grow(&ms->brand_stamp, ms->cap_brand, n, sizeof(uint32_t)) ||
            match_grow(&ms->brand_pos, ms->cap_brand, n, sizeof(uint32_t)) ||
            match_grow(&ms->brand_neg, ms->cap_brand, n, sizeof(uint32_t)) ||
            match_grow(&ms->brand_hit, ms->cap_brand, n, sizeof(uint32_t)) ||
            match_grow(&ms->brand_on, ms->cap_brand, n, sizeof(uint8_t)))
            goto oom;
        ms->cap_brand = n;
    }
    return 0;
oom:
    snprintf(err, err_size, "out of memory growing the match scratch");
    return -1;
}

static int match_on_hit(unsigned int id, unsigned long long from,
                        unsigned long long to, unsigned int flags, void *ctx)
{
    match_scratch *ms = ctx;
    uint8_t bound = ms->rs->pat_bound[id];
    (void)from;
    (void)flags;
    if (bound) {
        /* Phrases are fixed-length literals: the start is to - len. */
        size_t end = (size_t)to, start = end - ms->rs->pat_len[id];
        if ((bound & RULES_BOUND_START) && start > 0 &&
            rules_is_word(ms->text[start - 1]))
            return 0;
        if ((bound & RULES_BOUND_END) && end < ms->text_len &&
            rules_is_word(ms->text[end]))
            return 0;
    }
    if (ms->rs->pat_lex[id] != RULES_NO_LEX && ms->n_occ < MATCH_MAX_OCC) {
        match_occ *o = &ms->occ[ms->n_occ++];
        o->lex = ms->rs->pat_lex[id];
        o->end = (uint32_t)to;
        o->start = (uint32_t)to - ms->rs->pat_len[id];
    }
    if (ms->pat_stamp[id] != ms->stamp) {
        ms->pat_stamp[id] = ms->stamp;
        ms->pat_count[id] = 0;
        ms->hit[ms->n_hit++] = id;
    }
    ms->pat_count[id]++;
    return 0;
}

/* Phrases are compiled with single spaces (see rules_compile.c), so runs of
 * white space in the post become one space. Most posts have none: they are
 * scanned in place, and only the others are copied into the scratch. */
static int match_squeeze(match_scratch *ms, const char **text, size_t *len)
{
    const unsigned char *s = (const unsigned char *)*text;
    size_t n = *len, i, o;

    for (i = 0; i < n; i++) {
        if (s[i] > ' ') /* the common byte: one compare */
            continue;
        if (s[i] != ' ' || (i + 1 < n && s[i + 1] <= ' '))
            break;
    }
    if (i == n)
        return 0;
    if (n > ms->cap_squeezed) {
        char *b = realloc(ms->squeezed, n);
        if (!b)
            return -1;
        ms->squeezed = b;
        ms->cap_squeezed = n;
    }
    memcpy(ms->squeezed, s, i);
    o = i;
    for (; i < n; i++) {
        unsigned char c = s[i];
        bool sp = c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                  c == '\f' || c == '\v';
        if (!sp)
            ms->squeezed[o++] = (char)c;
        else if (o == 0 || ms->squeezed[o - 1] != ' ')
            ms->squeezed[o++] = ' ';
    }
    *text = ms->squeezed;
    *len = o;
    return 0;
}

static bool match_tag_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Split tag[0..n) into the fewest vocabulary words (2 or more), appended
 * to out as "\nw1 w2 ...". Forward dynamic programme over the positions a
 * split can reach; each step hashes the candidate as it grows. */
#define MATCH_TAG_MAX 40
static size_t match_split_tag(const ruleset *rs, const unsigned char *tag,
                              size_t n, char *out)
{
    uint8_t best[MATCH_TAG_MAX + 1], back[MATCH_TAG_MAX + 1];
    size_t cut[MATCH_TAG_MAX], k = 0, o = 0;

    memset(best, 0xff, sizeof(best));
    best[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (best[i] == 0xff)
            continue;
        uint64_t h = RULES_VOCAB_HASH0;
        for (size_t j = i + 1; j <= n && j - i <= rs->vocab_max; j++) {
            h = rules_vocab_step(h, tag[j - 1]);
            if ((uint8_t)(best[i] + 1) < best[j] &&
                rules_vocab_has(rs, h, (const char *)tag + i, j - i)) {
                best[j] = (uint8_t)(best[i] + 1);
                back[j] = (uint8_t)i;
            }
        }
    }
    if (best[n] == 0xff || best[n] < 2)
        return 0;
    for (size_t j = n; j > 0; j = back[j])
        cut[k++] = j;
    out[o++] = '\n';
    for (size_t i = 0, at = 0; i < k; i++) {
        size_t end = cut[k - 1 - i];
        if (i)
            out[o++] = ' ';
        memcpy(out + o, tag + at, end - at);
        o += end - at;
        at = end;
    }
    return o;
}

/* The text, then each hashtag that splits into words on a line of its own.
 * Most posts have no '#': one memchr and no copy. */
static int match_hashtags(match_scratch *ms, const ruleset *rs,
                          const char **text, size_t *len)
{
    const unsigned char *s = (const unsigned char *)*text;
    size_t n = *len, o;

    if (!rs->vocab_slots || !memchr(s, '#', n))
        return 0;
    /* Each split adds at most 2 bytes per tag byte. */
    if (3 * n + 1 > ms->cap_expanded) {
        char *b = realloc(ms->expanded, 3 * n + 1);
        if (!b)
            return -1;
        ms->expanded = b;
        ms->cap_expanded = 3 * n + 1;
    }
    memcpy(ms->expanded, s, n);
    o = n;
    for (size_t i = 0; i < n; i++) {
        size_t b, e;
        if (s[i] != '#' || (i > 0 && rules_is_word(s[i - 1])))
            continue;
        for (b = e = i + 1; e < n && rules_is_word(s[e]); e++)
            ;
        i = e - 1;
        if (e - b < 4 || e - b > MATCH_TAG_MAX)
            continue;
        size_t k;
        for (k = b; k < e && match_tag_byte(s[k]); k++)
            ;
        if (k == e)
            o += match_split_tag(rs, s + b, e - b, ms->expanded + o);
    }
    if (o > n) {
        *text = ms->expanded;
        *len = o;
    }
    return 0;
}

/* '@' after no word character and before one: a handle. One memchr for
 * text without '@'. */
static bool match_has_handle(const unsigned char *t, size_t n)
{
    const unsigned char *p = t, *end = t + n;
    while ((p = memchr(p, '@', (size_t)(end - p)))) {
        if ((p == t || !rules_is_word(p[-1])) && p + 1 < end && rules_is_word(p[1]))
            return true;
        p++;
    }
    return false;
}

static void match_model_add(match_scratch *ms, uint32_t id)
{
    if (id != RULES_NO_MODEL && ms->n_model < MATCH_MAX_MODEL)
        ms->model_ids[ms->n_model++] = id;
}

/* The model's verdict once the rules have fired: its n-grams in the
 * post's normal form (the trainer's tokeniser, so exactly the features it
 * learnt from), plus the signals of the rules that fired and the lexicon's
 * side, scored. */
static int match_model_score(const ruleset *rs, match_scratch *ms, const char *text,
                             size_t len, match_result *out)
{
    const rules_lexicon *lx = &rs->lexicon;
    long n = model_norm_ids(rs->model, ms->mfx, text, len, ms->model_ids,
                            MATCH_MAX_MODEL);
    if (n < 0)
        return -1;
    ms->n_model = (size_t)n;
    /* The rules as reported (capped), as training saw them (cmd_train.c). */
    for (uint32_t i = 0; i < out->n_rules; i++)
        match_model_add(ms, rs->rule_model[out->rules[i]]);
    if (lx->present && out->valence <= -lx->threshold)
        match_model_add(ms, rs->model_lexneg);
    else if (lx->present && out->valence >= lx->threshold)
        match_model_add(ms, rs->model_lexpos);
    uint32_t best = model_score(rs->model, ms->model_ids, ms->n_model, ms->model_probs);
    out->model_class = (int32_t)best;
    out->model_prob = (float)ms->model_probs[best];
    out->n_model = (uint32_t)ms->n_model;
    return 0;
}

const uint32_t *match_model_ids(const match_scratch *ms, size_t *n)
{
    *n = ms->n_model;
    return ms->model_ids;
}

/* Words strictly between byte offsets a <= b, or SIZE_MAX when a clause
 * ends in between (a negation does not reach past it: "no thanks, I'm
 * good" is not "not good"). */
static size_t match_words_between(const unsigned char *t, size_t a, size_t b)
{
    size_t spaces = 0;
    for (size_t i = a; i < b; i++) {
        unsigned char c = t[i];
        if (c == ' ')
            spaces++;
        else if (c == '.' || c == '!' || c == '?' || c == ';' || c == ',' ||
                 c == '\n')
            return SIZE_MAX;
    }
    return spaces ? spaces - 1 : 0;
}

static bool match_occ_inside(const match_occ *in, const match_occ *outer)
{
    return outer->start <= in->start && outer->end >= in->end &&
           outer->end - outer->start > in->end - in->start;
}

/* Is a counted weighted term hit inside [a, b)? */
static bool match_term_between(const ruleset *rs, const match_occ *occ, size_t n,
                               const bool *keep, uint32_t a, uint32_t b)
{
    for (size_t j = 0; j < n; j++)
        if (keep[j] && rs->lex[occ[j].lex].kind == RULES_LEX_TERM &&
            occ[j].start >= a && occ[j].end <= b)
            return true;
    return false;
}

/* The lexicon's valence of the hits in ms->occ (see match.h). */
static float match_valence(const ruleset *rs, match_scratch *ms, uint32_t *n_lex)
{
    const rules_lexicon *cfg = &rs->lexicon;
    match_occ *occ = ms->occ;
    size_t n = ms->n_occ, contrast = SIZE_MAX;
    double sum = 0, sarcastic = 0;

    *n_lex = 0;
    if (n == 0)
        return 0;
    /* Hyperscan reports by end offset; order by start for the windows. */
    for (size_t i = 1; i < n; i++) {
        match_occ x = occ[i];
        size_t j = i;
        while (j > 0 && occ[j - 1].start > x.start) {
            occ[j] = occ[j - 1];
            j--;
        }
        occ[j] = x;
    }
    /* A modifier inside a weighted term's hit belongs to the term. */
    bool keep[MATCH_MAX_OCC] = {false};
    for (size_t i = 0; i < n; i++) {
        keep[i] = true;
        for (size_t j = 0; j < n && keep[i]; j++)
            if (j != i && rs->lex[occ[j].lex].kind == RULES_LEX_TERM &&
                match_occ_inside(&occ[i], &occ[j]))
                keep[i] = false;
        if (keep[i] && rs->lex[occ[i].lex].kind == RULES_LEX_CONTRAST)
            contrast = occ[i].start;
    }
    for (size_t i = 0; i < n; i++) {
        const rules_lex *lx = &rs->lex[occ[i].lex];
        double v = lx->valence;
        if (!keep[i] || lx->kind != RULES_LEX_TERM)
            continue;
        for (size_t k = 0; k < n; k++) {
            const rules_lex *m = &rs->lex[occ[k].lex];
            size_t gap;
            if (!keep[k] || occ[k].end > occ[i].start ||
                (m->kind != RULES_LEX_NEGATOR && m->kind != RULES_LEX_INTENSIFIER))
                continue;
            gap = match_words_between(ms->text, occ[k].end, occ[i].start);
            /* A negator reaches the first term after it, not every one
             * in its window ("not bad, great" is not "not great"). */
            if (m->kind == RULES_LEX_NEGATOR && gap < cfg->negation_window &&
                !match_term_between(rs, occ, n, keep, occ[k].end, occ[i].start)) {
                v *= cfg->negation_factor;
            } else if (m->kind == RULES_LEX_INTENSIFIER && gap == 0) {
                v *= cfg->intensifier_factor;
            }
        }
        if (contrast != SIZE_MAX)
            v *= occ[i].start < contrast ? cfg->contrast_before : cfg->contrast_after;
        if (lx->sarcastic)
            sarcastic += v;
        else
            sum += v;
        (*n_lex)++;
    }
    /* "thanks for" a clearly negative post is not praise. */
    sum += sum <= -cfg->sarcasm_threshold && sarcastic > 0 ? -sarcastic : sarcastic;
    return (float)sum;
}

static bool match_eval(const ruleset *rs, const match_scratch *ms, uint32_t n)
{
    const rules_node *node = &rs->nodes[n];
    const uint32_t *c;
    uint32_t i;

    if (node->pattern != RULES_NO_PATTERN)
        return ms->pat_stamp[node->pattern] == ms->stamp;
    c = rs->child + node->first;
    for (i = 0; i < node->n_all; i++)
        if (!match_eval(rs, ms, c[i]))
            return false;
    c += node->n_all;
    if (node->n_any) {
        for (i = 0; i < node->n_any; i++)
            if (match_eval(rs, ms, c[i]))
                break;
        if (i == node->n_any)
            return false;
    }
    c += node->n_any;
    for (i = 0; i < node->n_not; i++)
        if (match_eval(rs, ms, c[i]))
            return false;
    return true;
}

/* "en" in a rule matches a post in "en" or "en-GB"; case does not matter. */
static bool match_lang(const ruleset *rs, const rules_when *w, const post *p)
{
    if (!p || p->lang.len == 0)
        return false;
    for (uint32_t i = 0; i < w->n_lang; i++) {
        const char *l = rs->langs[w->lang_first + i];
        size_t n = strlen(l);
        if (p->lang.len >= n && strncasecmp(p->lang.ptr, l, n) == 0 &&
            (p->lang.len == n || p->lang.ptr[n] == '-' || p->lang.ptr[n] == '_'))
            return true;
    }
    return false;
}

static bool match_when(const ruleset *rs, const match_scratch *ms,
                       const rules_when *w, const post *p)
{
    if (w->n_lang && !match_lang(rs, w, p))
        return false;
    if (w->min_followers >= 0 && (!p || p->followers < w->min_followers))
        return false;
    if (w->retweet >= 0 && (p ? p->is_retweet : false) != (w->retweet == 1))
        return false;
    if (w->n_brand) {
        uint32_t i;
        for (i = 0; i < w->n_brand; i++)
            if (ms->brand_on[rs->when_brands[w->brand_first + i]])
                break;
        if (i == w->n_brand)
            return false;
    }
    return true;
}

/* Insertion sort: the lists are a handful of items (qsort's call overhead
 * was ~10% of match_post's own time), and n is bounded by what one post hit. */
static int match_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void match_sort(uint32_t *v, size_t n)
{
    if (n > 32) {
        qsort(v, n, sizeof(*v), match_u32_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

int match_post(const ruleset *rs, match_scratch *ms, const post *p,
               const char *text, size_t text_len, match_result *out,
               char *err, size_t err_size)
{
    size_t n_on = 0; /* brands mentioned */

    out->n_brands = 0;
    out->n_rules = 0;
    out->truncated = false;
    out->valence = 0;
    out->n_lex = 0;
    out->shout_known = false;
    out->addressed = false;
    out->model_class = -1;
    out->model_prob = 0;
    out->n_model = 0;
    if (match_fit(ms, rs, err, err_size) != 0)
        return -1;
    if (++ms->stamp == 0) {
        /* Wrapped after 2^32 scans: clear once so old stamps cannot match. */
        memset(ms->pat_stamp, 0, ms->cap_pat * sizeof(uint32_t));
        memset(ms->rule_stamp, 0, ms->cap_rule * sizeof(uint32_t));
        memset(ms->brand_stamp, 0, ms->cap_brand * sizeof(uint32_t));
        ms->stamp = 1;
    }
    ms->n_hit = 0;
    if (text_len > UINT32_MAX) {
        snprintf(err, err_size, "text too long to scan (%zu bytes)", text_len);
        return -1;
    }
    if (!text)
        text = "";
    if (match_squeeze(ms, &text, &text_len) != 0) {
        snprintf(err, err_size, "out of memory copying the text");
        return -1;
    }
    ms->orig_len = text_len;
    ms->n_model = 0;
    out->addressed = match_has_handle((const unsigned char *)text, text_len);
    const char *orig_text = text;
    if (match_hashtags(ms, rs, &text, &text_len) != 0) {
        snprintf(err, err_size, "out of memory copying the text");
        return -1;
    }
    if (text_len > UINT32_MAX) {
        snprintf(err, err_size, "text too long to scan (%zu bytes)", text_len);
        return -1;
    }
    ms->n_occ = 0;
    ms->rs = rs;
    ms->text = (const unsigned char *)text;
    ms->text_len = text_len;
    hs_error_t e = hs_scan(rs->db, text, (unsigned)text_len, 0, ms->hs,
                           match_on_hit, ms);
    if (e != HS_SUCCESS) {
        snprintf(err, err_size, "hs_scan failed (error %d)", (int)e);
        return -1;
    }

    if (rs->n_lex) {
        out->valence = match_valence(rs, ms, &out->n_lex);
        /* Shouting strengthens what was said: capitals or a run of '!'
         * (on the original text: the normal form is case-folded). */
        if (out->valence != 0 && p && rs->lexicon.shout_factor != 1.0) {
            out->shout = text_shouting(p->text.ptr, p->text.len);
            out->shout_known = true;
            if (out->shout.caps_ratio >= 0.6 || out->shout.max_bang_run >= 3)
                out->valence *= (float)rs->lexicon.shout_factor;
        }
    }

    /* Brands: a brand counts when its hits outnumber its exclusion hits. */
    ms->n_brand_hit = 0;
    for (size_t i = 0; i < ms->n_hit; i++) {
        uint32_t pat = ms->hit[i];
        for (uint32_t k = rs->pat_brand_off[pat]; k < rs->pat_brand_off[pat + 1]; k++) {
            uint32_t b = rs->pat_brands[k] >> 1;
            if (ms->brand_stamp[b] != ms->stamp) {
                ms->brand_stamp[b] = ms->stamp;
                ms->brand_pos[b] = ms->brand_neg[b] = 0;
                ms->brand_hit[ms->n_brand_hit++] = b;
            }
            if (rs->pat_brands[k] & 1)
                ms->brand_neg[b] += ms->pat_count[pat];
            else
                ms->brand_pos[b] += ms->pat_count[pat];
        }
    }
    for (size_t i = 0; i < ms->n_brand_hit; i++) {
        uint32_t b = ms->brand_hit[i];
        ms->brand_on[b] = ms->brand_pos[b] > ms->brand_neg[b];
        if (ms->brand_on[b])
            ms->brand_hit[n_on++] = b; /* compact in place */
    }
    match_sort(ms->brand_hit, n_on);
    for (size_t i = 0; i < n_on; i++) {
        if (i == MATCH_MAX_BRANDS) {
            out->truncated = true;
            break;
        }
        out->brands[out->n_brands++] = ms->brand_hit[i];
    }

    /* Rules: only those reached from a pattern that hit can fire. */
    size_t n_cand = 0;
    for (size_t i = 0; i < ms->n_hit; i++) {
        uint32_t pat = ms->hit[i];
        for (uint32_t k = rs->pat_rule_off[pat]; k < rs->pat_rule_off[pat + 1]; k++) {
            uint32_t r = rs->pat_rules[k];
            if (ms->rule_stamp[r] == ms->stamp)
                continue;
            ms->rule_stamp[r] = ms->stamp;
            if (match_when(rs, ms, &rs->rule_when[r], p) &&
                match_eval(rs, ms, rs->rule_root[r]))
                ms->cand[n_cand++] = r;
        }
    }
    /* brand_on is read by match_when above; clear it for the next scan. */
    for (size_t i = 0; i < n_on; i++)
        ms->brand_on[ms->brand_hit[i]] = 0;
    match_sort(ms->cand, n_cand);
    for (size_t i = 0; i < n_cand; i++) {
        if (i == MATCH_MAX_RULES) {
            out->truncated = true;
            break;
        }
        out->rules[out->n_rules++] = ms->cand[i];
    }
    if (rs->model)
        if (match_model_score(rs, ms, orig_text, ms->orig_len, out) != 0) {
            snprintf(err, err_size, "out of memory tokenising for the model");
            return -1;
        }
    return 0;
}
