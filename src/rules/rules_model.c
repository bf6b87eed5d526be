/*
 * rules_model: a trained model file in the rules directory (README,
 * "Training a model") becomes part of the ruleset, loaded, versioned,
 * cached and reloaded with the rules. The matcher serves it with the
 * model's own tokeniser over the post's normal form and a hash lookup per
 * n-gram, not as Hyperscan terms: measured, the n-grams as literals of the
 * one database cost 2.5x the scan (every word of a post is a feature, so
 * Hyperscan reports and confirms a hit per word), while the tokeniser finds
 * them at ~1 us a tweet, and it is exact by construction (the trainer runs
 * the same function).
 *
 * A file is a model when its top-level object has "earshot_model" (what
 * `earshot train -o` writes); model_load validates it. One model per rules
 * directory. Its classes must name polarities, so the matcher's verdict
 * maps onto the event: complaint/negative -> complaint, praise/positive ->
 * praise, question -> question, neutral/not_* -> neutral.
 *
 * Cost: load time, O(n-grams) to parse the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "rules/rules_internal.h"

static int model_class_polarity(const char *name, polarity *out)
{
    static const struct {
        const char *name;
        polarity pol;
    } names[] = {
        {"complaint", POLARITY_COMPLAINT}, {"negative", POLARITY_COMPLAINT},
        {"praise", POLARITY_PRAISE},       {"positive", POLARITY_PRAISE},
        {"question", POLARITY_QUESTION},   {"neutral", POLARITY_NEUTRAL},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].pol;
            return 0;
        }
    if (strncmp(name, "not_", 4) == 0) {
        *out = POLARITY_NEUTRAL;
        return 0;
    }
    return -1;
}

int rules_ld_model(rules_ld *ld, const char *buf, size_t len)
{
    ruleset *rs = ld->rs;
    const char *path = ld->paths[ld->file];
    char merr[512];
    model *m;

    if (rs->model)
        return rules_ld_fail(ld, ld->file, 0, 0,
                             "a second model file; the model in %s is already "
                             "loaded: keep one model per rules directory",
                             ld->paths[ld->model_file]);
    if (!(m = model_load_buffer(path, buf, len, merr, sizeof(merr)))) {
        /* model_load's message already starts with "PATH:LINE:COL: ". */
        snprintf(ld->err, ld->err_size, "%s", merr);
        return -1;
    }
    rs->model = m;
    ld->model_file = ld->file;
    size_t nc = model_class_count(m);
    if (!(rs->model_pol = calloc(nc, sizeof(*rs->model_pol))))
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    for (size_t c = 0; c < nc; c++) {
        rules_quote_buf q;
        if (model_class_polarity(model_class(m, c), &rs->model_pol[c]) != 0)
            return rules_ld_fail(ld, ld->file, 0, 0,
                                 "model class '%s' names no polarity; train with "
                                 "classes complaint, praise, question, neutral "
                                 "(or negative, positive, not_complaint), e.g. "
                                 "--map", rules_quote(&q, model_class(m, c)));
        if (rs->model_pol[c] == POLARITY_PRAISE)
            rs->model_has_praise = true;
    }
    return 0;
}

int rules_ld_model_index(rules_ld *ld)
{
    ruleset *rs = ld->rs;
    char name[512];
    long id;
    if (!rs->model)
        return 0;
    /* Signals: the rules of this directory the model learnt from, by id (a
     * rule the model does not know, or a model rule that is gone, simply
     * adds nothing), and the lexicon's verdict. */
    rs->rule_model = malloc((rs->n_rules + 1) * sizeof(*rs->rule_model));
    if (!rs->rule_model)
        return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory indexing terms");
    for (size_t r = 0; r < rs->n_rules; r++) {
        int n = snprintf(name, sizeof(name), "rule:%s", rs->rules[r].id);
        id = n > 0 && (size_t)n < sizeof(name)
                 ? model_ngram_find(rs->model, name, (size_t)n) : -1;
        rs->rule_model[r] = id < 0 ? RULES_NO_MODEL : (uint32_t)id;
    }
    id = model_ngram_find(rs->model, "lexicon:negative", 16);
    rs->model_lexneg = id < 0 ? RULES_NO_MODEL : (uint32_t)id;
    id = model_ngram_find(rs->model, "lexicon:positive", 16);
    rs->model_lexpos = id < 0 ? RULES_NO_MODEL : (uint32_t)id;
    return 0;
}

const struct model *ruleset_model(const ruleset *rs)
{
    return rs->model;
}

bool ruleset_model_has_praise(const ruleset *rs)
{
    return rs->model && rs->model_has_praise;
}

polarity ruleset_model_polarity(const ruleset *rs, uint32_t cls)
{
    return rs->model && cls < model_class_count(rs->model) ? rs->model_pol[cls]
                                                          : POLARITY_NEUTRAL;
}
