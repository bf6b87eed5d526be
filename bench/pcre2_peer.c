/*
 * bench_pcre2: the peer a C programmer writes without Hyperscan. The same
 * rule files are read (jansson), every distinct term becomes one PCRE2
 * regex, JIT-compiled, caseless, UTF; each post is parsed with earshot's own
 * parser and then every brand and every rule is tried in turn, one
 * pcre2_jit_match() per term.
 *
 * It is written to be a fair peer, not a straw man: terms are compiled once
 * and shared between rules, each term is matched at most once per post
 * (memoised), rule trees short-circuit, and the text is matched as parsed
 * (no normalisation pass, which only makes the peer cheaper). What it cannot
 * avoid is the loop itself: the cost grows with the number of rules, where
 * one hs_scan does not.
 *
 *   bench_pcre2 --rules DIR --corpus FILE.jsonl [--seconds T] [--max-posts N]
 *
 * Prints one JSON object: posts_per_s, the posts measured, and how many of
 * them mention a brand / fire a rule (to compare with bench_engine's census;
 * "when" predicates are evaluated except "lang" sub-tags, so counts agree
 * closely but not exactly: no normalisation, brand exclusions not counted).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <pcre2.h>

#include "bench_common.h"
#include "post/post.h"

typedef struct peer_term {
    pcre2_code *re;
} peer_term;

/* A rule tree node: a leaf is a term; a group lists children by kind. */
typedef struct peer_node {
    int term;          /* >= 0: leaf */
    int *all, *any, *not_;
    int n_all, n_any, n_not;
} peer_node;

typedef struct peer_rule {
    int root;
    int64_t min_followers; /* -1: none */
    int retweet;           /* -1 any, 0 must not, 1 must */
    char **langs;
    int n_langs;
    int *brands;           /* brand indices that must be mentioned */
    int n_brands;
} peer_rule;

typedef struct peer_brand {
    char *id;
    int *terms, n_terms;
    int *excl, n_excl;
} peer_brand;

typedef struct peer {
    peer_term *terms;
    int n_terms, cap_terms;
    char **term_src;       /* the pattern source, for de-duplication */
    peer_node *nodes;
    int n_nodes, cap_nodes;
    peer_rule *rules;
    int n_rules, cap_rules;
    peer_brand *brands;
    int n_brands, cap_brands;
    pcre2_match_data *md;
    pcre2_jit_stack *js;
    pcre2_match_context *mc;
    double compile_s;
    char err[512];
} peer;

#define PEER_GROW(arr, n, cap)                                                 \
    do {                                                                       \
        if ((n) == (cap)) {                                                    \
            (cap) = (cap) ? (cap) * 2 : 64;                                    \
            void *np_ = realloc((arr), (size_t)(cap) * sizeof(*(arr)));        \
            if (!np_) {                                                        \
                fprintf(stderr, "bench_pcre2: out of memory\n");               \
                abort();                                                       \
            }                                                                  \
            (arr) = np_;                                                       \
        }                                                                      \
    } while (0)

static const char *peer_str(const json_t *v)
{
    const char *s = json_string_value(v);

    return s ? s : "";
}

static bool peer_is_word(unsigned char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* A phrase as a regex: metacharacters escaped, \b at each end that is a word
 * character (the rule language's phrase semantics). */
static char *peer_phrase_regex(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 2 + 8), *o = out;

    if (!out)
        abort();
    if (n && peer_is_word((unsigned char)s[0])) {
        *o++ = '\\';
        *o++ = 'b';
    }
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\^$.|?*+()[]{}", s[i]))
            *o++ = '\\';
        *o++ = s[i];
    }
    if (n && peer_is_word((unsigned char)s[n - 1])) {
        *o++ = '\\';
        *o++ = 'b';
    }
    *o = '\0';
    return out;
}

/* Term index for a pattern source (owned by the call), compiling it once. */
static int peer_term_for(peer *pr, char *src)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re;

    re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                       PCRE2_CASELESS | PCRE2_UTF, &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];

        pcre2_get_error_message(errcode, msg, sizeof(msg));
        snprintf(pr->err, sizeof(pr->err), "term '%s' does not compile: %s", src,
                 (char *)msg);
        free(src);
        return -1;
    }
    if ((errcode = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE)) != 0) {
        /* pcre2_jit_match() on a code without JIT would fail every match and
         * make the peer look fast: refuse instead. */
        PCRE2_UCHAR msg[256];

        pcre2_get_error_message(errcode, msg, sizeof(msg));
        snprintf(pr->err, sizeof(pr->err), "term '%.200s': JIT compile failed: %s", src,
                 (char *)msg);
        pcre2_code_free(re);
        free(src);
        return -1;
    }
    PEER_GROW(pr->terms, pr->n_terms, pr->cap_terms);
    pr->term_src = realloc(pr->term_src, (size_t)pr->cap_terms * sizeof(char *));
    pr->term_src[pr->n_terms] = src;
    pr->terms[pr->n_terms].re = re;
    return pr->n_terms++;
}

typedef struct peer_srcmap {
    char **keys;
    int *vals;
    size_t cap, n;
} peer_srcmap;

static uint64_t peer_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h;
}

/* Open-addressing map from pattern source to term index. */
static int peer_term_lookup(peer *pr, peer_srcmap *m, char *src)
{
    size_t i;

    if (m->n * 2 >= m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        char **keys = calloc(cap, sizeof(char *));
        int *vals = calloc(cap, sizeof(int));

        if (!keys || !vals)
            abort();
        for (size_t k = 0; k < m->cap; k++) {
            if (!m->keys[k])
                continue;
            for (i = peer_hash(m->keys[k]) & (cap - 1); keys[i]; i = (i + 1) & (cap - 1))
                ;
            keys[i] = m->keys[k];
            vals[i] = m->vals[k];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    for (i = peer_hash(src) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
        if (!strcmp(m->keys[i], src)) {
            free(src);
            return m->vals[i];
        }
    }
    int t = peer_term_for(pr, src);

    if (t < 0)
        return -1;
    m->keys[i] = src;
    m->vals[i] = t;
    m->n++;
    return t;
}

static int peer_node_new(peer *pr)
{
    PEER_GROW(pr->nodes, pr->n_nodes, pr->cap_nodes);
    memset(&pr->nodes[pr->n_nodes], 0, sizeof(peer_node));
    pr->nodes[pr->n_nodes].term = -1;
    return pr->n_nodes++;
}

static int peer_tree(peer *pr, peer_srcmap *m, json_t *v);

static int peer_list(peer *pr, peer_srcmap *m, json_t *arr, int **out, int *n)
{
    size_t i;
    json_t *x;

    if (!json_is_array(arr))
        return 0;
    *out = calloc(json_array_size(arr) + 1, sizeof(int));
    json_array_foreach(arr, i, x) {
        int c = peer_tree(pr, m, x);

        if (c < 0)
            return -1;
        (*out)[(*n)++] = c;
    }
    return 0;
}

/* A term (string, {"regex"}) or a group object -> node index. */
static int peer_tree(peer *pr, peer_srcmap *m, json_t *v)
{
    int node, t, a, b, c;
    int *all = NULL, *any = NULL, *not_ = NULL, n_all = 0, n_any = 0, n_not = 0;

    if (json_is_string(v)) {
        if ((t = peer_term_lookup(pr, m, peer_phrase_regex(json_string_value(v)))) < 0)
            return -1;
        node = peer_node_new(pr);
        pr->nodes[node].term = t;
        return node;
    }
    if (json_is_object(v) && json_is_string(json_object_get(v, "regex"))) {
        if ((t = peer_term_lookup(pr, m, strdup(json_string_value(json_object_get(v, "regex"))))) < 0)
            return -1;
        node = peer_node_new(pr);
        pr->nodes[node].term = t;
        return node;
    }
    a = peer_list(pr, m, json_object_get(v, "all"), &all, &n_all);
    b = peer_list(pr, m, json_object_get(v, "any"), &any, &n_any);
    c = peer_list(pr, m, json_object_get(v, "not"), &not_, &n_not);
    if (a || b || c)
        return -1;
    node = peer_node_new(pr);
    pr->nodes[node].all = all;
    pr->nodes[node].any = any;
    pr->nodes[node].not_ = not_;
    pr->nodes[node].n_all = n_all;
    pr->nodes[node].n_any = n_any;
    pr->nodes[node].n_not = n_not;
    return node;
}

static int peer_brand_terms(peer *pr, peer_srcmap *m, json_t *arr, int **out, int *n)
{
    size_t i;
    json_t *x;

    if (!json_is_array(arr))
        return 0;
    *out = realloc(*out, (size_t)(*n + (int)json_array_size(arr) + 1) * sizeof(int));
    json_array_foreach(arr, i, x) {
        int t;

        if (!json_is_string(x))
            continue;
        if ((t = peer_term_lookup(pr, m, peer_phrase_regex(json_string_value(x)))) < 0)
            return -1;
        (*out)[(*n)++] = t;
    }
    return 0;
}

static int peer_brand_index(const peer *pr, const char *id)
{
    for (int b = 0; b < pr->n_brands; b++)
        if (!strcmp(pr->brands[b].id, id))
            return b;
    return -1;
}

static int peer_load_file(peer *pr, peer_srcmap *m, const char *path,
                          json_t **rules_out)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *x;
    size_t i;

    if (!root) {
        snprintf(pr->err, sizeof(pr->err), "%.300s:%d: %.180s", path, je.line, je.text);
        return -1;
    }
    json_array_foreach(json_object_get(root, "brands"), i, x) {
        peer_brand *b;

        PEER_GROW(pr->brands, pr->n_brands, pr->cap_brands);
        b = &pr->brands[pr->n_brands++];
        memset(b, 0, sizeof(*b));
        b->id = strdup(peer_str(json_object_get(x, "id")));
        if (peer_brand_terms(pr, m, json_object_get(x, "aliases"), &b->terms, &b->n_terms) ||
            peer_brand_terms(pr, m, json_object_get(x, "handles"), &b->terms, &b->n_terms) ||
            peer_brand_terms(pr, m, json_object_get(x, "hashtags"), &b->terms, &b->n_terms) ||
            peer_brand_terms(pr, m, json_object_get(x, "misspellings"), &b->terms, &b->n_terms) ||
            peer_brand_terms(pr, m, json_object_get(x, "exclude"), &b->excl, &b->n_excl))
            goto err;
    }
    /* Rules are compiled after every brand is known ("when": {"brands"}). */
    json_array_foreach(json_object_get(root, "rules"), i, x)
        json_array_append(*rules_out, x);
    json_decref(root);
    return 0;
err:
    json_decref(root);
    return -1;
}

static int peer_add_rule(peer *pr, peer_srcmap *m, json_t *x)
{
    json_t *when = json_object_get(x, "when"), *v;
    peer_rule *r;
    size_t i;
    int root;

    if ((root = peer_tree(pr, m, x)) < 0)
        return -1;
    PEER_GROW(pr->rules, pr->n_rules, pr->cap_rules);
    r = &pr->rules[pr->n_rules++];
    memset(r, 0, sizeof(*r));
    r->root = root;
    r->min_followers = -1;
    r->retweet = -1;
    if (!json_is_object(when))
        return 0;
    if (json_is_integer(json_object_get(when, "min_followers")))
        r->min_followers = json_integer_value(json_object_get(when, "min_followers"));
    if (json_is_boolean(json_object_get(when, "retweet")))
        r->retweet = json_is_true(json_object_get(when, "retweet"));
    if (json_is_array(v = json_object_get(when, "lang"))) {
        json_t *l;

        r->langs = calloc(json_array_size(v) + 1, sizeof(char *));
        json_array_foreach(v, i, l)
            r->langs[r->n_langs++] = strdup(peer_str(l));
    }
    if (json_is_array(v = json_object_get(when, "brands"))) {
        json_t *b;

        r->brands = calloc(json_array_size(v) + 1, sizeof(int));
        json_array_foreach(v, i, b) {
            int bi = peer_brand_index(pr, peer_str(b));

            if (bi >= 0)
                r->brands[r->n_brands++] = bi;
        }
    }
    return 0;
}

static int peer_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int peer_load(peer *pr, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL, path[4096];
    size_t n = 0, cap = 0, i;
    peer_srcmap m = {0};
    json_t *rules = json_array(), *x;
    double t0 = bench_now();
    int rc = -1;

    if (!d) {
        snprintf(pr->err, sizeof(pr->err), "%s: cannot open the rules directory", dir);
        return -1;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);

        if (len > 5 && !strcmp(de->d_name + len - 5, ".json")) {
            PEER_GROW(names, n, cap);
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(char *), peer_name_cmp);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (peer_load_file(pr, &m, path, &rules))
            goto out;
    }
    json_array_foreach(rules, i, x)
        if (peer_add_rule(pr, &m, x))
            goto out;
    pr->compile_s = bench_now() - t0;
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(m.keys);
    free(m.vals);
    json_decref(rules);
    return rc;
}

/* Per-post memo: 0 unknown, 1 hit, 2 miss. */
static bool peer_term_hit(peer *pr, uint8_t *memo, int t, const char *s, size_t len)
{
    if (!memo[t]) {
        int rc = pcre2_jit_match(pr->terms[t].re, (PCRE2_SPTR)s, len, 0, 0, pr->md, pr->mc);

        memo[t] = rc >= 0 ? 1 : 2;
    }
    return memo[t] == 1;
}

static bool peer_eval(peer *pr, uint8_t *memo, int node, const char *s, size_t len)
{
    const peer_node *nd = &pr->nodes[node];
    bool any;

    if (nd->term >= 0)
        return peer_term_hit(pr, memo, nd->term, s, len);
    for (int i = 0; i < nd->n_all; i++)
        if (!peer_eval(pr, memo, nd->all[i], s, len))
            return false;
    any = nd->n_any == 0;
    for (int i = 0; i < nd->n_any && !any; i++)
        any = peer_eval(pr, memo, nd->any[i], s, len);
    if (!any)
        return false;
    for (int i = 0; i < nd->n_not; i++)
        if (peer_eval(pr, memo, nd->not_[i], s, len))
            return false;
    return true;
}

/* Classify one parsed post: which brands, how many rules fire. */
static void peer_classify(peer *pr, uint8_t *memo, uint8_t *brand_hit, const post *p,
                          int *n_brands, int *n_rules)
{
    const char *s = p->text.ptr;
    size_t len = p->text.len;

    memset(memo, 0, (size_t)pr->n_terms);
    *n_brands = *n_rules = 0;
    for (int b = 0; b < pr->n_brands; b++) {
        const peer_brand *br = &pr->brands[b];
        int hits = 0, excl = 0;

        for (int i = 0; i < br->n_terms; i++)
            hits += peer_term_hit(pr, memo, br->terms[i], s, len);
        for (int i = 0; hits && i < br->n_excl; i++)
            excl += peer_term_hit(pr, memo, br->excl[i], s, len);
        brand_hit[b] = hits > excl;
        *n_brands += brand_hit[b];
    }
    for (int r = 0; r < pr->n_rules; r++) {
        const peer_rule *ru = &pr->rules[r];
        bool ok = true;

        if (ru->min_followers >= 0 && p->followers < ru->min_followers)
            continue;
        if (ru->retweet >= 0 && p->is_retweet != (ru->retweet == 1))
            continue;
        if (ru->n_langs) {
            ok = false;
            for (int i = 0; i < ru->n_langs && !ok; i++)
                ok = strlen(ru->langs[i]) == p->lang.len &&
                     !strncasecmp(ru->langs[i], p->lang.ptr, p->lang.len);
            if (!ok)
                continue;
        }
        if (ru->n_brands) {
            ok = false;
            for (int i = 0; i < ru->n_brands && !ok; i++)
                ok = brand_hit[ru->brands[i]];
            if (!ok)
                continue;
        }
        if (peer_eval(pr, memo, ru->root, s, len))
            (*n_rules)++;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"corpus", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 'T'},
        {"max-posts", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *rules_dir = NULL, *corpus_path = NULL;
    double seconds = 2.0, t0, dt;
    size_t max_posts = 0, measured = 0, with_brand = 0, with_rule = 0, parsed = 0;
    bench_corpus c = {0};
    peer pr = {0};
    post_parser *pp = NULL;
    uint8_t *memo = NULL, *brand_hit = NULL;
    char err[256];
    int ch;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': rules_dir = optarg; break;
        case 'c': corpus_path = optarg; break;
        case 'T': seconds = atof(optarg); break;
        case 'n': max_posts = strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench_pcre2 --rules DIR --corpus FILE.jsonl "
                            "[--seconds T] [--max-posts N]\n");
            return 2;
        }
    }
    if (!rules_dir || !corpus_path) {
        fprintf(stderr, "usage: bench_pcre2 --rules DIR --corpus FILE.jsonl "
                        "[--seconds T] [--max-posts N]\n");
        return 2;
    }
    if (bench_corpus_read(&c, corpus_path, 0, err, sizeof(err))) {
        fprintf(stderr, "bench_pcre2: %s\n", err);
        return 1;
    }
    if (peer_load(&pr, rules_dir)) {
        fprintf(stderr, "bench_pcre2: %s\n", pr.err);
        return 1;
    }
    pp = post_parser_new(NULL);
    memo = calloc((size_t)pr.n_terms + 1, 1);
    brand_hit = calloc((size_t)pr.n_brands + 1, 1);
    pr.md = pcre2_match_data_create(4, NULL);
    pr.mc = pcre2_match_context_create(NULL);
    pr.js = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (!pp || !memo || !brand_hit || !pr.md || !pr.mc || !pr.js) {
        fprintf(stderr, "bench_pcre2: out of memory\n");
        return 1;
    }
    pcre2_jit_stack_assign(pr.mc, NULL, pr.js);

    /* One pass in corpus order until the time or the post budget is spent:
     * slow enough per post that the clock is read every post. */
    t0 = bench_now();
    do {
        size_t len;
        const char *buf = bench_corpus_post(&c, measured % c.n, &len);
        post p;
        int nb, nr;

        measured++;
        if (post_parse(pp, buf, len, &p, err, sizeof(err)) == 0) {
            parsed++;
            peer_classify(&pr, memo, brand_hit, &p, &nb, &nr);
            with_brand += nb > 0;
            with_rule += nr > 0;
        }
        dt = bench_now() - t0;
    } while (dt < seconds && (max_posts == 0 || measured < max_posts));

    printf("{\"rules_dir\":\"%s\",\"rules\":%d,\"brands\":%d,\"terms\":%d,\"compile_s\":%.3f,"
           "\"posts\":%zu,\"parsed\":%zu,\"with_brand\":%zu,\"with_rule\":%zu,"
           "\"seconds\":%.3f,\"posts_per_s\":%.1f,\"rss_mb\":%.1f}\n",
           rules_dir, pr.n_rules, pr.n_brands, pr.n_terms, pr.compile_s, measured, parsed,
           with_brand, with_rule, dt, (double)measured / dt, bench_peak_rss_mb());
    /* The process ends here; the OS reclaims the compiled terms. */
    post_parser_free(pp);
    bench_corpus_free(&c);
    return 0;
}
