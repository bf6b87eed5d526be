/*
 * ruleset: the life cycle of a compiled ruleset: how a load runs (list the
 * files, try the snapshot, else parse each file, resolve names, compile,
 * store the snapshot), reference counting, and the read accessors.
 *
 * The steps live in their own files (rules_dir.c, rules_snapshot.c,
 * rules_load.c, rules_compile.c); this file only orders them, times them
 * (rules_stats) and owns the loader state's lifetime.
 *
 * Reference counted with C11 atomics: a reload publishes a new ruleset while
 * workers still hold the old one; the last ruleset_unref() frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
#include "rules/rules_internal.h"
#include "text/text.h"

const char *polarity_name(polarity p)
{
    switch (p) {
    case POLARITY_NEUTRAL: return "neutral";
    case POLARITY_PRAISE: return "praise";
    case POLARITY_QUESTION: return "question";
    case POLARITY_COMPLAINT: return "complaint";
    }
    return "neutral";
}

void ruleset_free_parts(ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n_strs; i++)
        free(rs->strs[i]);
    free(rs->strs);
    free(rs->brands);
    free(rs->rules);
    free(rs->rule_root);
    free(rs->rule_when);
    free(rs->langs);
    free(rs->when_brands);
    free(rs->nodes);
    free(rs->child);
    free(rs->pat_len);
    free(rs->pat_bound);
    free(rs->pat_rule_off);
    free(rs->pat_rules);
    free(rs->pat_brand_off);
    free(rs->pat_brands);
    free(rs->pat_lex);
    model_free(rs->model);
    free(rs->model_pol);
    free(rs->rule_model);
    free(rs->lex);
    free(rs->vocab);
    free(rs->vocab_slots);
    free(rs->vocab_hashes);
    free(rs->examples);
    free(rs->example_file);
    free(rs->files);
    if (rs->db)
        hs_free_database(rs->db);
    free(rs);
}

ruleset *ruleset_ref(ruleset *rs)
{
    if (rs)
        atomic_fetch_add_explicit(&rs->refs, 1, memory_order_relaxed);
    return rs;
}

void ruleset_unref(ruleset *rs)
{
    if (!rs)
        return;
    /* acq_rel: the thread that frees must see every other thread's reads
     * finished (the usual refcount pairing). */
    if (atomic_fetch_sub_explicit(&rs->refs, 1, memory_order_acq_rel) == 1)
        ruleset_free_parts(rs);
}

size_t ruleset_brand_count(const ruleset *rs)
{
    return rs->n_brands;
}

const rules_brand *ruleset_brand(const ruleset *rs, size_t i)
{
    return i < rs->n_brands ? &rs->brands[i] : NULL;
}

size_t ruleset_rule_count(const ruleset *rs)
{
    return rs->n_rules;
}

const rules_rule *ruleset_rule(const ruleset *rs, size_t i)
{
    return i < rs->n_rules ? &rs->rules[i] : NULL;
}

size_t ruleset_example_count(const ruleset *rs)
{
    return rs->n_examples;
}

const rules_example *ruleset_example(const ruleset *rs, size_t i)
{
    return i < rs->n_examples ? &rs->examples[i] : NULL;
}

const char *ruleset_version(const ruleset *rs)
{
    return rs->version;
}

rules_stats ruleset_stats(const ruleset *rs)
{
    return rs->stats;
}

const rules_lexicon *ruleset_lexicon(const ruleset *rs)
{
    return &rs->lexicon;
}

/* ---- loading ---- */

static void ruleset_ld_free(rules_ld *ld)
{
    for (size_t i = 0; i < ld->n_paths; i++)
        free(ld->paths[i]);
    free(ld->paths);
    rules_posmap_free(&ld->pm);
    base_map_free(&ld->brand_ids);
    base_map_free(&ld->rule_ids);
    base_map_free(&ld->pat_ids);
    rules_ld_patterns_free(ld);
    free(ld->brand_loc);
    free(ld->rule_loc);
    free(ld->brand_refs);
    free(ld->lex_loc);
    for (size_t i = 0; i < ld->n_wb; i++)
        free(ld->wb[i].name);
    free(ld->wb);
    free(ld->buf);
    if (ld->tn)
        text_norm_free(ld->tn);
}

static double ruleset_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

ruleset *ruleset_load(const char *dir, char *err, size_t err_size)
{
    return ruleset_load_opts(dir, NULL, err, err_size);
}

ruleset *ruleset_load_opts(const char *dir, const rules_load_opts *opts,
                           char *err, size_t err_size)
{
    static const rules_load_opts no_opts;
    rules_ld ld;
    char **names = NULL;
    size_t n_names = 0;
    ruleset *rs = NULL;
    double t0 = ruleset_now();

    memset(&ld, 0, sizeof(ld));
    ld.opts = opts ? opts : &no_opts;
    if (ld.opts->cache_hit)
        *ld.opts->cache_hit = false;
    if (ld.opts->warn && ld.opts->warn_size)
        ld.opts->warn[0] = 0;
    ld.err = err;
    ld.err_size = err_size;
    ld.dir = dir ? dir : "(null)";
    if (err && err_size)
        err[0] = 0;
    ld.rs = rs = calloc(1, sizeof(*rs));
    ld.tn = text_norm_new();
    if (!rs || !ld.tn) {
        rules_ld_fail(&ld, UINT32_MAX, 0, 0, "out of memory");
        goto err;
    }
    atomic_init(&rs->refs, 1);
    rs->digest = BASE_FNV_OFFSET;
    rules_lexicon_defaults(&rs->lexicon);
    ld.lex_settings_file = UINT32_MAX;
    if (!dir) {
        rules_ld_fail(&ld, UINT32_MAX, 0, 0, "no rules directory given");
        goto err;
    }
    if (rules_ld_list_dir(&ld, &names, &n_names) != 0)
        goto err;
    if (rules_ld_set_paths(&ld, names, n_names) != 0)
        goto err;
    /* Unchanged files: the whole ruleset from the cache, no parsing. */
    if (ld.opts->cache_dir && !ld.opts->no_snapshot) {
        uint64_t digest;
        double t1 = ruleset_now();
        ruleset *snap;
        if (rules_ld_files_digest(&ld, names, n_names, &digest) != 0)
            goto err;
        snap = rules_snapshot_get(ld.opts->cache_dir, digest, n_names, ld.opts->warn,
                                  ld.opts->warn_size);
        if (snap) {
            ruleset_free_parts(rs);
            rs = ld.rs = snap;
            rs->stats.cache_s = ruleset_now() - t1;
            rs->stats.load_s = ruleset_now() - t0;
            rs->stats.parse_s = rs->stats.load_s - rs->stats.cache_s;
            if (ld.opts->cache_hit)
                *ld.opts->cache_hit = true;
            goto done;
        }
    }
    for (size_t i = 0; i < n_names; i++) {
        ld.file = (uint32_t)i;
        if (rules_ld_file(&ld, names[i]) != 0)
            goto err;
    }
    if (rules_ld_resolve(&ld) != 0 || rules_ld_compile(&ld) != 0)
        goto err;
    /* parse_s: everything but the database (compile or cache). */
    rs->stats.load_s = ruleset_now() - t0;
    rs->stats.parse_s = rs->stats.load_s - rs->stats.compile_s - rs->stats.cache_s;
    if (ld.opts->cache_hit)
        *ld.opts->cache_hit = rs->stats.from_cache;

    rs->stats.n_files = n_names;
    rs->stats.n_brands = rs->n_brands;
    rs->stats.n_rules = rs->n_rules;
    rs->stats.n_patterns = rs->n_patterns;
    /* A model is re-read from its file on every load (no snapshot: its
     * weights would double the entry); its n-grams' database is cached. */
    if (ld.opts->cache_dir && !ld.opts->no_snapshot && !rs->model &&
        !ld.model_skipped) {
        double t1 = ruleset_now();
        rules_snapshot_put(ld.opts->cache_dir,
                           ld.opts->cache_max_bytes ? ld.opts->cache_max_bytes
                                                    : RULES_CACHE_MAX_DEFAULT,
                           rs, ld.opts->warn, ld.opts->warn_size);
        rs->stats.cache_s += ruleset_now() - t1;
    }
done:
    if (rules_ld_bind_files(&ld) != 0)
        goto err;
    snprintf(rs->version, sizeof(rs->version), "%012llx",
             (unsigned long long)(rs->digest >> 16));
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    ruleset_ld_free(&ld);
    return rs;
err:
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    ruleset_ld_free(&ld);
    if (rs)
        ruleset_free_parts(rs);
    return NULL;
}

int rules_dir_version(const char *dir, char *version, size_t version_size,
                      char *err, size_t err_size)
{
    rules_ld ld;
    char **names = NULL;
    size_t n_names = 0;
    uint64_t digest;
    int rc = -1;

    memset(&ld, 0, sizeof(ld));
    ld.err = err;
    ld.err_size = err_size;
    ld.dir = dir ? dir : "(null)";
    if (err && err_size)
        err[0] = 0;
    if (!dir) {
        rules_ld_fail(&ld, UINT32_MAX, 0, 0, "no rules directory given");
        return -1;
    }
    /* Same bytes, same order as rules_ld_file(), so equal versions mean equal
     * files. */
    if (rules_ld_list_dir(&ld, &names, &n_names) != 0 || rules_ld_set_paths(&ld, names, n_names) != 0 ||
        rules_ld_files_digest(&ld, names, n_names, &digest) != 0)
        goto out;
    snprintf(version, version_size, "%012llx", (unsigned long long)(digest >> 16));
    rc = 0;
out:
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    ruleset_ld_free(&ld);
    return rc;
}
