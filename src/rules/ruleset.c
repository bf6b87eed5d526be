/*
 * ruleset: the life cycle and read accessors of a compiled ruleset.
 *
 * Reference counted with C11 atomics: a reload publishes a new ruleset while
 * workers still hold the old one; the last ruleset_unref() frees it.
 */
#include <stdlib.h>

#include "model/model.h"
#include "rules/rules_internal.h"

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
