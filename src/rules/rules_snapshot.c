/*
 * rules_snapshot: a whole loaded ruleset in the compiled-rule cache, so that
 * a restart or a reload with unchanged rule files skips parsing as well as
 * compiling.
 *
 * Why: with 100k rules the Hyperscan database comes from the cache in
 * milliseconds, but reading 18 MB of JSON with jansson, validating it and
 * rebuilding the term index still took ~0.9 s. A snapshot is the finished
 * ruleset's arrays and strings plus the serialised database; reading one
 * back is a file read, a checksum and hs_deserialize_database.
 *
 * Key: the rule files' digest (names and bytes, in load order: the same
 * digest that makes rules_version), the snapshot scheme, hs_version(), the
 * CPU platform, and the identity of the running executable (device, inode,
 * size, mtime): the arrays are written in this build's native layout and
 * hold the output of this build's normaliser, so a rebuilt binary must not
 * read a snapshot an older one wrote. Any other change (a rule file edited,
 * renamed, added) changes the digest.
 *
 * Entry: "<dir>/<key>.rset" through rules_cache_read/write (header with
 * checksum, atomic rename, shared size bound and LRU eviction with the
 * .hsdb entries). Payload, native byte order:
 *   snap_hdr (counts, digest, n_files)
 *   strings blob (NUL-terminated strings; ids, names, tags, langs, example
 *   texts)
 *   brands: 2 x u32 string offsets each; rules: 2 x u32 offsets + polarity +
 *   severity; rule_root; rule_when; lang offsets; when_brands; nodes; child;
 *   pat_len; pat_bound; pat_rule_off; pat_rules; pat_brand_off; pat_brands;
 *   pat_lex; lex; the lexicon settings; the hashtag vocabulary blob;
 *   examples (snap_example each: rule, file index, text offset and length,
 *   position, flags; the file paths are not stored, the loader binds them
 *   to the directory it read); the serialised Hyperscan database.
 * Every section size is derived from the counts and must add up to the
 * payload length; every index is bounds-checked on read, so a damaged entry
 * that slipped past the checksum is refused, not trusted by the matcher.
 *
 * Thread-safety: none needed (no shared state). Cost: load time only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rules/rules_internal.h"

/* 3: the lexicon, the hashtag vocabulary and rule examples. Bumping the
 * scheme changes every key, so entries an older layout wrote are never read
 * (they age out by LRU). */
#define SNAPSHOT_SCHEME 3u
#define SNAPSHOT_TAG 0x52534554u /* "RSET": the header's tag for this kind */

typedef struct snap_hdr {
    uint64_t digest;
    uint64_t n_files, n_brands, n_rules, n_langs, n_when_brands, n_nodes, n_child;
    uint64_t n_patterns, n_pat_rules, n_pat_brands, strings_len, db_len;
    uint64_t n_lex, vocab_len;
    uint64_t n_examples;
} snap_hdr;

typedef struct snap_rule {
    uint32_t id, tag;
    int32_t polarity, severity;
} snap_rule;

typedef struct snap_example {
    uint32_t rule, file, text, text_len; /* text: offset into the strings */
    int32_t line, col;
    uint8_t expect_match, is_post, pad[2];
} snap_example;

static uint64_t snap_key(uint64_t digest)
{
    uint64_t h = BASE_FNV_OFFSET;
    uint32_t scheme = SNAPSHOT_SCHEME;
    const char *ver = hs_version();
    hs_platform_info_t plat;
    struct stat st;

    h = base_fnv1a(h, "snapshot", 9);
    h = base_fnv1a(h, &scheme, sizeof(scheme));
    h = base_fnv1a(h, &digest, sizeof(digest));
    h = base_fnv1a(h, ver, strlen(ver) + 1);
    memset(&plat, 0, sizeof(plat));
    if (hs_populate_platform(&plat) == HS_SUCCESS) {
        h = base_fnv1a(h, &plat.tune, sizeof(plat.tune));
        h = base_fnv1a(h, &plat.cpu_features, sizeof(plat.cpu_features));
    }
    if (stat("/proc/self/exe", &st) == 0) {
        uint64_t id[5] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                          (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec};
        h = base_fnv1a(h, id, sizeof(id));
    }
    return h;
}

/* ---- writing ---- */

typedef struct snap_buf {
    char *data;
    size_t len, cap;
    int oom;
} snap_buf;

static void sb_put(snap_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (rules_vec_reserve(&b->data, &b->cap, b->len + n, 1) != 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* The strings blob: each distinct pointer written once, offsets recorded. */
typedef struct snap_strs {
    snap_buf blob;
} snap_strs;

static uint32_t ss_add(snap_strs *ss, const char *s)
{
    uint32_t off = (uint32_t)ss->blob.len;
    sb_put(&ss->blob, s ? s : "", strlen(s ? s : "") + 1);
    return off;
}

void rules_snapshot_put(const char *dir, uint64_t max, const ruleset *rs, char *warn,
                        size_t warn_size)
{
    snap_buf out = {0};
    snap_strs ss = {{0}};
    uint32_t *brand_offs = NULL, *lang_offs = NULL;
    snap_rule *rules = NULL;
    snap_example *examples = NULL;
    char *db_bytes = NULL;
    size_t db_len = 0;
    snap_hdr h;

    if (hs_serialize_database(rs->db, &db_bytes, &db_len) != HS_SUCCESS) {
        rules_warn(warn, warn_size, "rules cache: Hyperscan could not serialise "
                   "the database; rule set not cached");
        return;
    }
    brand_offs = calloc(rs->n_brands * 2 + 1, sizeof(*brand_offs));
    rules = calloc(rs->n_rules + 1, sizeof(*rules));
    lang_offs = calloc(rs->n_langs + 1, sizeof(*lang_offs));
    examples = calloc(rs->n_examples + 1, sizeof(*examples)); /* zeroed padding */
    if (!brand_offs || !rules || !lang_offs || !examples)
        goto oom;
    for (size_t i = 0; i < rs->n_brands; i++) {
        brand_offs[2 * i] = ss_add(&ss, rs->brands[i].id);
        brand_offs[2 * i + 1] = ss_add(&ss, rs->brands[i].name);
    }
    for (size_t i = 0; i < rs->n_rules; i++) {
        rules[i].id = ss_add(&ss, rs->rules[i].id);
        rules[i].tag = ss_add(&ss, rs->rules[i].tag);
        rules[i].polarity = (int32_t)rs->rules[i].polarity;
        rules[i].severity = rs->rules[i].severity;
    }
    for (size_t i = 0; i < rs->n_langs; i++)
        lang_offs[i] = ss_add(&ss, rs->langs[i]);
    for (size_t i = 0; i < rs->n_examples; i++) {
        const rules_example *ex = &rs->examples[i];
        if (ex->len > UINT32_MAX)
            goto oom;
        examples[i].rule = ex->rule;
        examples[i].file = rs->example_file[i];
        examples[i].text = ss_add(&ss, ex->text);
        examples[i].text_len = (uint32_t)ex->len;
        examples[i].line = ex->line;
        examples[i].col = ex->col;
        examples[i].expect_match = ex->expect_match;
        examples[i].is_post = ex->is_post;
    }
    if (ss.blob.oom || ss.blob.len > UINT32_MAX)
        goto oom;

    memset(&h, 0, sizeof(h));
    h.digest = rs->digest;
    h.n_files = rs->stats.n_files;
    h.n_brands = rs->n_brands;
    h.n_rules = rs->n_rules;
    h.n_langs = rs->n_langs;
    h.n_when_brands = rs->n_when_brands;
    h.n_nodes = rs->n_nodes;
    h.n_child = rs->n_child;
    h.n_patterns = rs->n_patterns;
    h.n_pat_rules = rs->pat_rule_off[rs->n_patterns];
    h.n_pat_brands = rs->pat_brand_off[rs->n_patterns];
    h.strings_len = ss.blob.len;
    h.db_len = db_len;
    h.n_lex = rs->n_lex;
    h.vocab_len = rs->vocab_len;
    h.n_examples = rs->n_examples;

    sb_put(&out, &h, sizeof(h));
    sb_put(&out, ss.blob.data, ss.blob.len);
    sb_put(&out, brand_offs, rs->n_brands * 2 * sizeof(*brand_offs));
    sb_put(&out, rules, rs->n_rules * sizeof(*rules));
    sb_put(&out, rs->rule_root, rs->n_rules * sizeof(*rs->rule_root));
    /* Struct arrays go through zeroed copies so that their padding bytes
     * (never written by the loader) are not written to disk. */
    for (size_t i = 0; i < rs->n_rules && !out.oom; i++) {
        rules_when w;
        memset(&w, 0, sizeof(w));
        w.lang_first = rs->rule_when[i].lang_first;
        w.n_lang = rs->rule_when[i].n_lang;
        w.brand_first = rs->rule_when[i].brand_first;
        w.n_brand = rs->rule_when[i].n_brand;
        w.min_followers = rs->rule_when[i].min_followers;
        w.retweet = rs->rule_when[i].retweet;
        sb_put(&out, &w, sizeof(w));
    }
    sb_put(&out, lang_offs, rs->n_langs * sizeof(*lang_offs));
    sb_put(&out, rs->when_brands, rs->n_when_brands * sizeof(*rs->when_brands));
    for (size_t i = 0; i < rs->n_nodes && !out.oom; i++) {
        rules_node nd;
        memset(&nd, 0, sizeof(nd));
        nd.pattern = rs->nodes[i].pattern;
        nd.first = rs->nodes[i].first;
        nd.n_all = rs->nodes[i].n_all;
        nd.n_any = rs->nodes[i].n_any;
        nd.n_not = rs->nodes[i].n_not;
        sb_put(&out, &nd, sizeof(nd));
    }
    sb_put(&out, rs->child, rs->n_child * sizeof(*rs->child));
    sb_put(&out, rs->pat_len, rs->n_patterns * sizeof(*rs->pat_len));
    sb_put(&out, rs->pat_bound, rs->n_patterns * sizeof(*rs->pat_bound));
    sb_put(&out, rs->pat_rule_off, (rs->n_patterns + 1) * sizeof(*rs->pat_rule_off));
    sb_put(&out, rs->pat_rules, h.n_pat_rules * sizeof(*rs->pat_rules));
    sb_put(&out, rs->pat_brand_off, (rs->n_patterns + 1) * sizeof(*rs->pat_brand_off));
    sb_put(&out, rs->pat_brands, h.n_pat_brands * sizeof(*rs->pat_brands));
    sb_put(&out, rs->pat_lex, rs->n_patterns * sizeof(*rs->pat_lex));
    for (size_t i = 0; i < rs->n_lex && !out.oom; i++) {
        rules_lex lx;
        memset(&lx, 0, sizeof(lx));
        lx.valence = rs->lex[i].valence;
        lx.kind = rs->lex[i].kind;
        lx.sarcastic = rs->lex[i].sarcastic;
        sb_put(&out, &lx, sizeof(lx));
    }
    {
        rules_lexicon lc;
        memset(&lc, 0, sizeof(lc));
        lc.present = rs->lexicon.present;
        lc.threshold = rs->lexicon.threshold;
        lc.weight = rs->lexicon.weight;
        lc.negation_window = rs->lexicon.negation_window;
        lc.negation_factor = rs->lexicon.negation_factor;
        lc.intensifier_factor = rs->lexicon.intensifier_factor;
        lc.contrast_before = rs->lexicon.contrast_before;
        lc.contrast_after = rs->lexicon.contrast_after;
        lc.sarcasm_threshold = rs->lexicon.sarcasm_threshold;
        lc.complaint_needs_target = rs->lexicon.complaint_needs_target;
        lc.shout_factor = rs->lexicon.shout_factor;
        lc.n_terms = rs->lexicon.n_terms;
        sb_put(&out, &lc, sizeof(lc));
    }
    sb_put(&out, rs->vocab, rs->vocab_len);
    sb_put(&out, examples, rs->n_examples * sizeof(*examples));
    sb_put(&out, db_bytes, db_len);
    if (out.oom)
        goto oom;
    rules_cache_write(dir, max, snap_key(rs->digest), RULES_SNAPSHOT_EXT, SNAPSHOT_TAG,
                      "the rule set", out.data, out.len, warn, warn_size);
    goto out;
oom:
    rules_warn(warn, warn_size, "rules cache: out of memory writing the rule set; "
               "not cached");
out:
    free(out.data);
    free(ss.blob.data);
    free(brand_offs);
    free(rules);
    free(lang_offs);
    free(examples);
    free(db_bytes);
}

/* ---- reading ---- */

typedef struct snap_rd {
    const char *p, *end;
    int bad;
} snap_rd;

/* A malloc'd copy of the next n items of size sz (at least one byte so that
 * an empty array is still a valid pointer to free). */
static void *rd_array(snap_rd *r, uint64_t n, size_t sz)
{
    void *v;

    if (r->bad || n > (uint64_t)(r->end - r->p) / (sz ? sz : 1)) {
        r->bad = 1;
        return NULL;
    }
    if (!(v = malloc(n * sz > 0 ? n * sz : 1))) {
        r->bad = 1;
        return NULL;
    }
    memcpy(v, r->p, n * sz);
    r->p += n * sz;
    return v;
}

static int idx_ok(const uint32_t *v, uint64_t n, uint64_t limit)
{
    for (uint64_t i = 0; i < n; i++)
        if (v[i] >= limit)
            return 0;
    return 1;
}

/* Every index the matcher follows stays inside its array. */
static int snap_valid(const ruleset *rs, const snap_hdr *h)
{
    if (!idx_ok(rs->rule_root, h->n_rules, h->n_nodes) ||
        !idx_ok(rs->when_brands, h->n_when_brands, h->n_brands) ||
        !idx_ok(rs->child, h->n_child, h->n_nodes) ||
        !idx_ok(rs->pat_rules, h->n_pat_rules, h->n_rules))
        return 0;
    for (uint64_t i = 0; i < h->n_pat_brands; i++)
        if ((rs->pat_brands[i] >> 1) >= h->n_brands)
            return 0;
    for (uint64_t i = 0; i < h->n_nodes; i++) {
        const rules_node *nd = &rs->nodes[i];
        uint64_t n = (uint64_t)nd->n_all + nd->n_any + nd->n_not;
        if (nd->pattern == RULES_NO_PATTERN ? (uint64_t)nd->first + n > h->n_child
                                            : nd->pattern >= h->n_patterns)
            return 0;
    }
    for (uint64_t i = 0; i < h->n_rules; i++) {
        const rules_when *w = &rs->rule_when[i];
        if ((uint64_t)w->lang_first + w->n_lang > h->n_langs ||
            (uint64_t)w->brand_first + w->n_brand > h->n_when_brands)
            return 0;
    }
    for (uint64_t i = 0; i < h->n_patterns; i++)
        if (rs->pat_rule_off[i] > rs->pat_rule_off[i + 1] ||
            rs->pat_brand_off[i] > rs->pat_brand_off[i + 1])
            return 0;
    return rs->pat_rule_off[h->n_patterns] == h->n_pat_rules &&
           rs->pat_brand_off[h->n_patterns] == h->n_pat_brands;
}

ruleset *rules_snapshot_get(const char *dir, uint64_t files_digest, size_t n_files,
                            char *warn, size_t warn_size)
{
    uint64_t key = snap_key(files_digest);
    char *payload = NULL, *blob = NULL;
    size_t len = 0;
    uint32_t *brand_offs = NULL, *lang_offs = NULL;
    snap_rule *rules = NULL;
    snap_example *examples = NULL;
    ruleset *rs = NULL;
    snap_hdr h;
    snap_rd r;

    if (!rules_cache_read(dir, key, RULES_SNAPSHOT_EXT, SNAPSHOT_TAG, &payload, &len, warn,
                          warn_size))
        return NULL;
    if (len < sizeof(h))
        goto bad;
    memcpy(&h, payload, sizeof(h));
    if (h.digest != files_digest || h.n_files != n_files || h.n_patterns >= UINT32_MAX ||
        h.strings_len == 0 || h.strings_len > UINT32_MAX)
        goto bad;
    r.p = payload + sizeof(h);
    r.end = payload + len;
    r.bad = 0;
    if (!(rs = calloc(1, sizeof(*rs))))
        goto oom;
    atomic_init(&rs->refs, 1);
    blob = rd_array(&r, h.strings_len, 1);
    brand_offs = rd_array(&r, h.n_brands * 2, sizeof(*brand_offs));
    rules = rd_array(&r, h.n_rules, sizeof(*rules));
    rs->rule_root = rd_array(&r, h.n_rules, sizeof(*rs->rule_root));
    rs->rule_when = rd_array(&r, h.n_rules, sizeof(*rs->rule_when));
    lang_offs = rd_array(&r, h.n_langs, sizeof(*lang_offs));
    rs->when_brands = rd_array(&r, h.n_when_brands, sizeof(*rs->when_brands));
    rs->nodes = rd_array(&r, h.n_nodes, sizeof(*rs->nodes));
    rs->child = rd_array(&r, h.n_child, sizeof(*rs->child));
    rs->pat_len = rd_array(&r, h.n_patterns, sizeof(*rs->pat_len));
    rs->pat_bound = rd_array(&r, h.n_patterns, sizeof(*rs->pat_bound));
    rs->pat_rule_off = rd_array(&r, h.n_patterns + 1, sizeof(*rs->pat_rule_off));
    rs->pat_rules = rd_array(&r, h.n_pat_rules, sizeof(*rs->pat_rules));
    rs->pat_brand_off = rd_array(&r, h.n_patterns + 1, sizeof(*rs->pat_brand_off));
    rs->pat_brands = rd_array(&r, h.n_pat_brands, sizeof(*rs->pat_brands));
    rs->pat_lex = rd_array(&r, h.n_patterns, sizeof(*rs->pat_lex));
    rs->lex = rd_array(&r, h.n_lex, sizeof(*rs->lex));
    {
        rules_lexicon *lc = rd_array(&r, 1, sizeof(*lc));
        if (lc)
            rs->lexicon = *lc;
        free(lc);
    }
    rs->vocab = rd_array(&r, h.vocab_len, 1);
    rs->vocab_len = h.vocab_len;
    if (r.bad || h.n_lex >= UINT32_MAX ||
        (h.vocab_len && rs->vocab[h.vocab_len - 1] != '\0'))
        goto bad;
    rs->n_lex = (uint32_t)h.n_lex;
    for (uint64_t i = 0; i < h.n_patterns; i++)
        if (rs->pat_lex[i] != RULES_NO_LEX && rs->pat_lex[i] >= h.n_lex)
            goto bad;
    for (uint64_t i = 0; i < h.n_lex; i++)
        if (rs->lex[i].kind > RULES_LEX_CONTRAST)
            goto bad;
    if (rules_vocab_index(rs) != 0)
        goto oom;
    examples = rd_array(&r, h.n_examples, sizeof(*examples));
    if (r.bad || (uint64_t)(r.end - r.p) != h.db_len || blob[h.strings_len - 1] != '\0')
        goto bad;
    rs->n_brands = h.n_brands;
    rs->n_rules = h.n_rules;
    rs->n_langs = h.n_langs;
    rs->n_when_brands = h.n_when_brands;
    rs->n_nodes = h.n_nodes;
    rs->n_child = h.n_child;
    rs->n_patterns = (uint32_t)h.n_patterns;
    if (!snap_valid(rs, &h) || !idx_ok(brand_offs, h.n_brands * 2, h.strings_len) ||
        !idx_ok(lang_offs, h.n_langs, h.strings_len))
        goto bad;
    for (uint64_t i = 0; i < h.n_rules; i++)
        if (rules[i].id >= h.strings_len || rules[i].tag >= h.strings_len ||
            rules[i].polarity < POLARITY_NEUTRAL || rules[i].polarity > POLARITY_COMPLAINT)
            goto bad;
    for (uint64_t i = 0; i < h.n_examples; i++) {
        const snap_example *e = &examples[i];
        /* The text must end at its own NUL inside the blob. */
        if (e->rule >= h.n_rules || e->file >= n_files || e->text >= h.strings_len ||
            (uint64_t)e->text + e->text_len >= h.strings_len ||
            blob[e->text + e->text_len] != '\0' ||
            memchr(blob + e->text, '\0', e->text_len) || e->expect_match > 1 ||
            e->is_post > 1 || e->line < 0 || e->col < 0)
            goto bad;
    }

    /* The blob is the one string the ruleset owns; everything points in. */
    if (!(rs->strs = malloc(sizeof(*rs->strs))))
        goto oom;
    rs->strs[0] = blob;
    rs->n_strs = rs->cap_strs = 1;
    blob = NULL;
    rs->brands = calloc(h.n_brands + 1, sizeof(*rs->brands));
    rs->rules = calloc(h.n_rules + 1, sizeof(*rs->rules));
    rs->langs = calloc(h.n_langs + 1, sizeof(*rs->langs));
    rs->examples = calloc(h.n_examples + 1, sizeof(*rs->examples));
    rs->example_file = calloc(h.n_examples + 1, sizeof(*rs->example_file));
    if (!rs->brands || !rs->rules || !rs->langs || !rs->examples || !rs->example_file)
        goto oom;
    for (uint64_t i = 0; i < h.n_brands; i++) {
        rs->brands[i].id = rs->strs[0] + brand_offs[2 * i];
        rs->brands[i].name = rs->strs[0] + brand_offs[2 * i + 1];
    }
    for (uint64_t i = 0; i < h.n_rules; i++) {
        rs->rules[i].id = rs->strs[0] + rules[i].id;
        rs->rules[i].tag = rs->strs[0] + rules[i].tag;
        rs->rules[i].polarity = (polarity)rules[i].polarity;
        rs->rules[i].severity = rules[i].severity;
    }
    for (uint64_t i = 0; i < h.n_langs; i++)
        rs->langs[i] = rs->strs[0] + lang_offs[i];
    for (uint64_t i = 0; i < h.n_examples; i++) {
        rules_example *ex = &rs->examples[i];
        ex->rule = examples[i].rule;
        ex->expect_match = examples[i].expect_match;
        ex->is_post = examples[i].is_post;
        ex->text = rs->strs[0] + examples[i].text;
        ex->len = examples[i].text_len;
        ex->line = examples[i].line;
        ex->col = examples[i].col;
        rs->example_file[i] = examples[i].file; /* ex->file: the loader binds it */
    }
    rs->n_examples = h.n_examples;
    if (hs_deserialize_database(r.p, h.db_len, &rs->db) != HS_SUCCESS) {
        rs->db = NULL;
        goto bad;
    }
    rs->digest = files_digest;
    rs->stats.n_files = n_files;
    rs->stats.n_brands = rs->n_brands;
    rs->stats.n_rules = rs->n_rules;
    rs->stats.n_patterns = rs->n_patterns;
    hs_database_size(rs->db, &rs->stats.db_bytes);
    rs->stats.from_cache = true;
    goto out;
bad:
    rules_warn(warn, warn_size, "rules cache: %s/%016llx%s is inconsistent; rebuilt it",
               dir, (unsigned long long)key, RULES_SNAPSHOT_EXT);
    goto fail;
oom:
    rules_warn(warn, warn_size, "rules cache: out of memory reading the rule set; "
               "loading the files instead");
fail:
    ruleset_free_parts(rs);
    rs = NULL;
out:
    free(payload);
    free(blob);
    free(brand_offs);
    free(rules);
    free(lang_offs);
    free(examples);
    return rs;
}
