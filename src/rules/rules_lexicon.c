/*
 * rules_lexicon: the "lexicon" key of a rule file -> weighted terms and the
 * modifiers that shape their score (README "Lexicon").
 *
 *   {"lexicon": {
 *      "settings": {"threshold": 1.5, "weight": 10, "negation_window": 3,
 *                   "negation_factor": -0.75, "intensifier_factor": 1.3,
 *                   "contrast_before": 0.5, "contrast_after": 1.5,
 *                   "sarcasm_threshold": 2, "complaint_needs_target": true},
 *      "negators": ["not", "never", ...],
 *      "intensifiers": ["so", "very", ...],
 *      "contrast": ["but", "however", ...],
 *      "terms": [{"valence": -3, "terms": ["nightmare", "😡"]},
 *                {"valence": 1.5, "sarcastic": true, "terms": ["thanks for"]}]}}
 *
 * Every lexicon term is a phrase (regexes have no fixed length, and the
 * scorer needs where each hit starts), interned as a pattern of the same
 * Hyperscan database as the rules, with all matches reported (a negator's
 * every position matters). A phrase has at most one lexicon role; a second
 * one is refused naming the first. Terms may come from several files; the
 * settings from one file only.
 *
 * Cost: load time only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

static const char *const lex_keys[] = {
    "settings", "negators", "intensifiers", "contrast", "terms", "description", NULL};
static const char *const lex_settings_keys[] = {
    "threshold", "weight", "negation_window", "negation_factor",
    "intensifier_factor", "contrast_before", "contrast_after",
    "sarcasm_threshold", "complaint_needs_target", "shout_factor", NULL};
static const char *const lex_group_keys[] = {
    "valence", "terms", "sarcastic", "description", NULL};

void rules_lexicon_defaults(rules_lexicon *lx)
{
    memset(lx, 0, sizeof(*lx));
    lx->threshold = 1.5;
    lx->weight = 10;
    lx->negation_window = 3;
    lx->negation_factor = -0.75;
    lx->intensifier_factor = 1.3;
    lx->contrast_before = 0.5;
    lx->contrast_after = 1.5;
    lx->sarcasm_threshold = 2;
    lx->shout_factor = 1;
}

/* Fail at v, else at the key holding it in parent, else at parent. */
#define LEX_FAIL_AT(ld, v, parent, key, ...)                                 \
    do {                                                                     \
        int l_, c_;                                                          \
        rules_ld_where((ld), (v), (parent), (key), &l_, &c_);                \
        return rules_ld_fail((ld), (ld)->file, l_, c_, __VA_ARGS__);         \
    } while (0)

/* One number of "settings", checked against [lo, hi]. */
static int lex_number(rules_ld *ld, json_t *obj, const char *key, double lo,
                      double hi, double *out)
{
    json_t *v = json_object_get(obj, key);
    char range[64];
    if (!v)
        return 0;
    snprintf(range, sizeof(range), "%g..%g", lo, hi);
    if (!json_is_number(v) || json_number_value(v) < lo ||
        json_number_value(v) > hi || isnan(json_number_value(v)))
        LEX_FAIL_AT(ld, v, obj, key,
                           "lexicon settings: \"%s\" must be a number in %s",
                           key, range);
    *out = json_number_value(v);
    return 0;
}

static int lex_settings(rules_ld *ld, json_t *s)
{
    rules_lexicon *lx = &ld->rs->lexicon;
    double window = lx->negation_window;
    int line = 0, col = 0;

    if (!json_is_object(s))
        LEX_FAIL_AT(ld, s, NULL, NULL,
                           "lexicon: \"settings\" must be an object like "
                           "{\"threshold\": 1.5, \"weight\": 10}");
    if (ld->lex_settings_file != UINT32_MAX)
        LEX_FAIL_AT(ld, s, NULL, NULL,
                           "lexicon: \"settings\" already given in %s:%s; keep "
                           "one \"settings\" object for the whole rules directory",
                           ld->paths[ld->lex_settings_file], ld->lex_settings_at);
    if (rules_ld_check_keys(ld, s, lex_settings_keys, "the lexicon settings") != 0 ||
        lex_number(ld, s, "threshold", 0, 1000, &lx->threshold) != 0 ||
        lex_number(ld, s, "weight", 0, 1000, &lx->weight) != 0 ||
        lex_number(ld, s, "negation_window", 0, 10, &window) != 0 ||
        lex_number(ld, s, "negation_factor", -10, 10, &lx->negation_factor) != 0 ||
        lex_number(ld, s, "intensifier_factor", 0, 10, &lx->intensifier_factor) != 0 ||
        lex_number(ld, s, "contrast_before", 0, 10, &lx->contrast_before) != 0 ||
        lex_number(ld, s, "contrast_after", 0, 10, &lx->contrast_after) != 0 ||
        lex_number(ld, s, "sarcasm_threshold", 0, 100, &lx->sarcasm_threshold) != 0 ||
        lex_number(ld, s, "shout_factor", 0, 10, &lx->shout_factor) != 0)
        return -1;
    lx->negation_window = (uint32_t)window;
    json_t *nt = json_object_get(s, "complaint_needs_target");
    if (nt && !json_is_boolean(nt))
        LEX_FAIL_AT(ld, nt, s, "complaint_needs_target",
                    "lexicon settings: \"complaint_needs_target\" must be true or false");
    if (nt)
        lx->complaint_needs_target = json_is_true(nt);
    ld->lex_settings_file = ld->file;
    rules_posmap_value(&ld->pm, s, &line, &col);
    snprintf(ld->lex_settings_at, sizeof(ld->lex_settings_at), "%d:%d", line, col);
    return 0;
}

/* The phrases of list (under key of parent) get one lexicon role each. */
static int lex_terms(rules_ld *ld, json_t *parent, const char *key, json_t *list,
                     uint8_t kind, double valence, bool sarcastic)
{
    ruleset *rs = ld->rs;
    json_t *t;
    size_t i;
    char what[96];

    if (!json_is_array(list))
        LEX_FAIL_AT(ld, list, parent, key,
                           "lexicon: \"%s\" must be a list of phrases", key);
    snprintf(what, sizeof(what), "lexicon \"%s\"", key);
    json_array_foreach(list, i, t) {
        uint32_t pat;
        if (!json_is_string(t))
            LEX_FAIL_AT(ld, t, list, NULL,
                               "lexicon: \"%s\" items must be strings (phrases; "
                               "regexes are not supported in the lexicon)", key);
        if (rules_ld_phrase(ld, t, json_string_value(t), true, false, UINT32_MAX,
                            what, &pat) != 0)
            return -1;
        rules_ld_pattern *p = &ld->pats[pat];
        if (p->lex != RULES_NO_LEX) {
            const rules_ld_loc *first = &ld->lex_loc[p->lex];
            int line = 0, col = 0;
            rules_quote_buf q;
            rules_posmap_value(&ld->pm, t, &line, &col);
            return rules_ld_fail(ld, ld->file, line, col,
                                 "lexicon: '%s' is already in the lexicon at "
                                 "%s:%d:%d; list each phrase once",
                                 rules_quote(&q, json_string_value(t)),
                                 ld->paths[first->file],
                                 first->line, first->col);
        }
        if (rs->n_lex == UINT32_MAX - 1 ||
            rules_vec_reserve(&rs->lex, &ld->cap_lex, (size_t)rs->n_lex + 1,
                              sizeof(*rs->lex)) != 0 ||
            rules_vec_reserve(&ld->lex_loc, &ld->cap_lex_loc, (size_t)rs->n_lex + 1,
                              sizeof(*ld->lex_loc)) != 0)
            return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
        memset(&rs->lex[rs->n_lex], 0, sizeof(rs->lex[0]));
        rs->lex[rs->n_lex].valence = (float)valence;
        rs->lex[rs->n_lex].kind = kind;
        rs->lex[rs->n_lex].sarcastic = sarcastic;
        ld->lex_loc[rs->n_lex].file = ld->file;
        rules_posmap_value(&ld->pm, t, &ld->lex_loc[rs->n_lex].line,
                           &ld->lex_loc[rs->n_lex].col);
        p->lex = rs->n_lex++;
    }
    return 0;
}

static int lex_group(rules_ld *ld, json_t *g, size_t index)
{
    json_t *v, *terms;
    char what[64];
    bool sarcastic = false;

    snprintf(what, sizeof(what), "lexicon term group #%zu", index + 1);
    if (!json_is_object(g))
        LEX_FAIL_AT(ld, g, NULL, NULL,
                           "%s must be an object like {\"valence\": -2, "
                           "\"terms\": [\"nightmare\"]}", what);
    if (rules_ld_check_keys(ld, g, lex_group_keys, what) != 0)
        return -1;
    v = json_object_get(g, "valence");
    if (!v || !json_is_number(v) || json_number_value(v) < -10 ||
        json_number_value(v) > 10 || json_number_value(v) == 0)
        LEX_FAIL_AT(ld, v, g, "valence",
                           "%s: \"valence\" must be a non-zero number in "
                           "-10..10 (negative: complaint, positive: praise)", what);
    if ((terms = json_object_get(g, "sarcastic"))) {
        if (!json_is_boolean(terms))
            LEX_FAIL_AT(ld, terms, g, "sarcastic",
                               "%s: \"sarcastic\" must be true or false", what);
        sarcastic = json_is_true(terms);
        if (sarcastic && json_number_value(v) < 0)
            LEX_FAIL_AT(ld, terms, g, "sarcastic",
                               "%s: only positive terms can be sarcastic (they "
                               "turn negative when the rest of the post is)", what);
    }
    if ((terms = json_object_get(g, "description")) && !json_is_string(terms))
        LEX_FAIL_AT(ld, terms, g, "description",
                           "%s: \"description\" must be a string", what);
    if (!(terms = json_object_get(g, "terms")))
        LEX_FAIL_AT(ld, g, NULL, NULL,
                           "%s has no \"terms\"; add the phrases that carry "
                           "its valence", what);
    return lex_terms(ld, g, "terms", terms, RULES_LEX_TERM, json_number_value(v),
                     sarcastic);
}

int rules_ld_lexicon(rules_ld *ld, json_t *lx)
{
    static const struct {
        const char *key;
        uint8_t kind;
    } mods[] = {{"negators", RULES_LEX_NEGATOR},
                {"intensifiers", RULES_LEX_INTENSIFIER},
                {"contrast", RULES_LEX_CONTRAST}};
    json_t *v;
    size_t i;

    if (!json_is_object(lx))
        LEX_FAIL_AT(ld, lx, NULL, NULL,
                           "\"lexicon\" must be an object like {\"terms\": "
                           "[{\"valence\": -2, \"terms\": [\"nightmare\"]}]}");
    if (rules_ld_check_keys(ld, lx, lex_keys, "the lexicon") != 0)
        return -1;
    if ((v = json_object_get(lx, "description")) && !json_is_string(v))
        LEX_FAIL_AT(ld, v, lx, "description",
                           "lexicon: \"description\" must be a string");
    ld->rs->lexicon.present = true;
    if ((v = json_object_get(lx, "settings")) && lex_settings(ld, v) != 0)
        return -1;
    for (size_t k = 0; k < sizeof(mods) / sizeof(mods[0]); k++)
        if ((v = json_object_get(lx, mods[k].key)) &&
            lex_terms(ld, lx, mods[k].key, v, mods[k].kind, 0, false) != 0)
            return -1;
    if ((v = json_object_get(lx, "terms"))) {
        json_t *g;
        if (!json_is_array(v))
            LEX_FAIL_AT(ld, v, lx, "terms",
                               "lexicon: \"terms\" must be a list of groups "
                               "[{\"valence\": -2, \"terms\": [...]}]");
        json_array_foreach(v, i, g)
            if (lex_group(ld, g, i) != 0)
                return -1;
    }
    return 0;
}

/* pattern -> lexicon entry, from the loader's per-pattern roles. */
int rules_ld_lexicon_index(rules_ld *ld)
{
    ruleset *rs = ld->rs;
    rs->pat_lex = malloc(((size_t)rs->n_patterns + 1) * sizeof(*rs->pat_lex));
    if (!rs->pat_lex)
        return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory indexing terms");
    for (uint32_t p = 0; p < rs->n_patterns; p++)
        rs->pat_lex[p] = ld->pats[p].lex;
    rs->lexicon.n_terms = 0;
    for (uint32_t i = 0; i < rs->n_lex; i++)
        rs->lexicon.n_terms += rs->lex[i].kind == RULES_LEX_TERM;
    return 0;
}
