/*
 * rules_load: rule files (JSON) -> a validated ruleset (then
 * rules_compile.c builds its database).
 *
 * Every error names FILE:LINE:COL and what to do. JSON syntax errors come
 * with jansson's own position. Semantic errors (an unknown key, a severity out
 * of range, a duplicate id) point at the offending key or value: jansson keeps
 * no positions after loading, so rules_pos.c re-scans the raw bytes of each
 * file in step with its jansson tree and records where every value starts.
 * Columns count characters, as jansson's do.
 *
 * This file reads one rule file's JSON into the loader's state
 * (rules_ld_file) and resolves names across files (rules_ld_resolve); which
 * files, in what order, is rules_dir.c; the sequence snapshot -> parse ->
 * compile -> snapshot is ruleset.c.
 *
 * Cost: load time only; dominated by hs_compile_multi, not by JSON.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base_edit.h"
#include "base/base_err.h"
#include "rules/rules_internal.h"
#include "text/text.h"

#define LD_MAX_DEPTH 32

static const char *const ld_file_keys[] = {"brands", "rules", "lexicon", NULL};
static const char *const ld_brand_keys[] = {
    "id", "name", "aliases", "handles", "hashtags", "misspellings", "exclude",
    "description", NULL};
static const char *const ld_rule_keys[] = {
    "id", "tag", "polarity", "severity", "all", "any", "not", "when",
    "description", "examples", NULL};
static const char *const ld_term_keys[] = {"regex", "all", "any", "not", NULL};
static const char *const ld_when_keys[] = {
    "lang", "min_followers", "retweet", "brands", NULL};

int rules_ld_fail(rules_ld *ld, uint32_t file, int line, int col,
                  const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!ld->err || ld->err_size == 0)
        return -1;
    if (file == UINT32_MAX || file >= ld->n_paths)
        n = snprintf(ld->err, ld->err_size, "%s: ", ld->dir);
    else if (line <= 0)
        n = snprintf(ld->err, ld->err_size, "%s: ", ld->paths[file]);
    else
        n = snprintf(ld->err, ld->err_size, "%s:%d:%d: ", ld->paths[file],
                     line, col);
    if (n < 0 || (size_t)n >= ld->err_size)
        return -1;
    va_start(ap, fmt);
    base_err_vset(ld->err + n, ld->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

char *rules_strdup(ruleset *rs, const char *s, size_t len)
{
    char *d;
    if (rules_vec_reserve(&rs->strs, &rs->cap_strs, rs->n_strs + 1,
                          sizeof(*rs->strs)) != 0)
        return NULL;
    d = malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    rs->strs[rs->n_strs++] = d;
    return d;
}

/* Position of v, else of the key holding it in parent, else of parent. */
static void ld_where(rules_ld *ld, const json_t *v, const json_t *parent,
                     const char *key, int *line, int *col)
{
    *line = *col = 0;
    if (v && rules_posmap_value(&ld->pm, v, line, col))
        return;
    if (parent && key && rules_posmap_key(&ld->pm, parent, key, line, col))
        return;
    if (parent)
        rules_posmap_value(&ld->pm, parent, line, col);
}

#define LD_FAIL_AT(ld, v, parent, key, ...)                                  \
    do {                                                                     \
        int l_, c_;                                                          \
        ld_where((ld), (v), (parent), (key), &l_, &c_);                      \
        return rules_ld_fail((ld), (ld)->file, l_, c_, __VA_ARGS__);          \
    } while (0)

void rules_ld_where(rules_ld *ld, const json_t *v, const json_t *parent,
                    const char *key, int *line, int *col)
{
    ld_where(ld, v, parent, key, line, col);
}

/* Refuse keys outside allowed[]; what names the object ("rule 'x'"). */
static int ld_check_keys(rules_ld *ld, json_t *obj, const char *const *allowed,
                         const char *what)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        const char *near = NULL;
        size_t i;
        char list[256];
        size_t n = 0;

        for (i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                break;
        if (allowed[i])
            continue;
        list[0] = 0;
        for (i = 0; allowed[i]; i++) {
            if (!near && base_edit_distance(key, allowed[i], 0) <= 2)
                near = allowed[i];
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                  i ? ", " : "", allowed[i]);
            if (n >= sizeof(list))
                break;
        }
        int line = 0, col = 0;
        rules_quote_buf q;
        rules_posmap_key(&ld->pm, obj, key, &line, &col);
        if (near)
            return rules_ld_fail(ld, ld->file, line, col,
                                 "unknown key '%s' in %s (did you mean '%s'?); "
                                 "expected one of %s", rules_quote(&q, key),
                                 what, near, list);
        return rules_ld_fail(ld, ld->file, line, col,
                             "unknown key '%s' in %s; expected one of %s",
                             rules_quote(&q, key), what, list);
    }
    return 0;
}

int rules_ld_check_keys(rules_ld *ld, json_t *obj, const char *const *allowed,
                        const char *what)
{
    return ld_check_keys(ld, obj, allowed, what);
}

/* An id: a non-empty string. Returns it, or NULL with err set. */
static const char *ld_id(rules_ld *ld, json_t *obj, const char *kind,
                         size_t index)
{
    json_t *id = json_object_get(obj, "id");
    if (!id) {
        int line = 0, col = 0;
        rules_posmap_value(&ld->pm, obj, &line, &col);
        rules_ld_fail(ld, ld->file, line, col,
                      "%s #%zu has no \"id\"; give it a unique string id, "
                      "e.g. \"id\": \"%s\"", kind, index + 1,
                      strcmp(kind, "brand") == 0 ? "comcast" : "wait.on_hold");
        return NULL;
    }
    if (!json_is_string(id) || json_string_length(id) == 0) {
        int line = 0, col = 0;
        ld_where(ld, id, obj, "id", &line, &col);
        rules_ld_fail(ld, ld->file, line, col,
                      "%s #%zu: \"id\" must be a non-empty string", kind,
                      index + 1);
        return NULL;
    }
    return json_string_value(id);
}

/* Record the id's location; refuse a duplicate, naming both places. */
static int ld_unique(rules_ld *ld, base_map *ids, rules_ld_loc **locs,
                     size_t *cap, json_t *obj, const char *kind,
                     const char *id, uint32_t index)
{
    json_t *v = json_object_get(obj, "id");
    rules_ld_loc here = {ld->file, 0, 0};
    uint32_t prev;

    ld_where(ld, v, obj, "id", &here.line, &here.col);
    prev = base_map_get(ids, id, strlen(id));
    if (prev != UINT32_MAX) {
        rules_ld_loc *p = &(*locs)[prev];
        rules_quote_buf q;
        return rules_ld_fail(ld, ld->file, here.line, here.col,
                             "duplicate %s id '%s': already defined at "
                             "%s:%d:%d; %s ids must be unique, rename one",
                             kind, rules_quote(&q, id), ld->paths[p->file],
                             p->line, p->col,
                             kind);
    }
    if (rules_vec_reserve(locs, cap, (size_t)index + 1, sizeof(**locs)) != 0 ||
        base_map_put(ids, id, strlen(id), index) != 0)
        return rules_ld_fail(ld, ld->file, here.line, here.col, "out of memory");
    (*locs)[index] = here;
    return 0;
}

/* ---- brands ---- */

static int ld_brand_terms(rules_ld *ld, json_t *b, const char *key,
                          uint32_t brand, bool exclude, char prefix,
                          const char *what, size_t *n_pos)
{
    json_t *arr = json_object_get(b, key), *t;
    size_t i;
    char *tmp = NULL;

    if (!arr)
        return 0;
    if (!json_is_array(arr))
        LD_FAIL_AT(ld, arr, b, key,
                   "%s: \"%s\" must be a list of strings, e.g. [\"%s\"]", what,
                   key, prefix == '@' ? "@brandcares" : "phrase");
    json_array_foreach(arr, i, t) {
        uint32_t pat;
        const char *s;
        if (!json_is_string(t))
            LD_FAIL_AT(ld, t, arr, NULL, "%s: \"%s\" item %zu must be a string",
                       what, key, i + 1);
        s = json_string_value(t);
        /* "comcastcares" listed under handles means "@comcastcares". */
        if (prefix && s[0] && s[0] != prefix) {
            size_t len = strlen(s);
            tmp = malloc(len + 2);
            if (!tmp)
                return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
            tmp[0] = prefix;
            memcpy(tmp + 1, s, len + 1);
            s = tmp;
        }
        int rc = rules_ld_phrase(ld, t, s, true, true, brand, what, &pat);
        free(tmp);
        tmp = NULL;
        if (rc != 0)
            return -1;
        if (rules_vec_reserve(&ld->brand_refs, &ld->cap_brand_refs,
                              2 * (ld->n_brand_refs + 1),
                              sizeof(*ld->brand_refs)) != 0)
            return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
        ld->brand_refs[2 * ld->n_brand_refs] = pat;
        ld->brand_refs[2 * ld->n_brand_refs + 1] = brand << 1 | (exclude ? 1 : 0);
        ld->n_brand_refs++;
        if (!exclude)
            (*n_pos)++;
    }
    return 0;
}

static int ld_brand(rules_ld *ld, json_t *b, size_t index)
{
    ruleset *rs = ld->rs;
    const char *id;
    char what[160];
    json_t *name;
    size_t n_pos = 0;
    uint32_t bi = (uint32_t)rs->n_brands;
    rules_quote_buf qid;

    if (!json_is_object(b))
        LD_FAIL_AT(ld, b, NULL, NULL,
                   "brand #%zu must be an object like {\"id\": \"comcast\", "
                   "\"aliases\": [\"comcast\"]}", index + 1);
    id = json_string_value(json_object_get(b, "id"));
    if (id && *id)
        snprintf(what, sizeof(what), "brand '%s'", rules_quote(&qid, id));
    else
        snprintf(what, sizeof(what), "brand #%zu", index + 1);
    if (ld_check_keys(ld, b, ld_brand_keys, what) != 0)
        return -1;
    if (!(id = ld_id(ld, b, "brand", index)))
        return -1;
    if (ld_unique(ld, &ld->brand_ids, &ld->brand_loc, &ld->cap_brand_loc, b,
                  "brand", id, bi) != 0)
        return -1;
    if ((name = json_object_get(b, "description")) && !json_is_string(name))
        LD_FAIL_AT(ld, name, b, "description",
                   "%s: \"description\" must be a string", what);
    name = json_object_get(b, "name");
    if (name && (!json_is_string(name) || json_string_length(name) == 0))
        LD_FAIL_AT(ld, name, b, "name",
                   "%s: \"name\" must be a non-empty string (the display "
                   "name), or left out", what);
    if (rules_vec_reserve(&rs->brands, &ld->cap_brands, rs->n_brands + 1,
                          sizeof(*rs->brands)) != 0)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    rs->brands[bi].id = rules_strdup(rs, id, strlen(id));
    rs->brands[bi].name =
        name ? rules_strdup(rs, json_string_value(name), json_string_length(name))
             : rs->brands[bi].id;
    if (!rs->brands[bi].id || !rs->brands[bi].name)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    rs->n_brands++;

    if (ld_brand_terms(ld, b, "aliases", bi, false, 0, what, &n_pos) ||
        ld_brand_terms(ld, b, "handles", bi, false, '@', what, &n_pos) ||
        ld_brand_terms(ld, b, "hashtags", bi, false, '#', what, &n_pos) ||
        ld_brand_terms(ld, b, "misspellings", bi, false, 0, what, &n_pos) ||
        ld_brand_terms(ld, b, "exclude", bi, true, 0, what, &n_pos))
        return -1;
    if (n_pos == 0)
        LD_FAIL_AT(ld, b, NULL, NULL,
                   "%s has no terms; add \"aliases\", \"handles\", "
                   "\"hashtags\" or \"misspellings\"", what);
    return 0;
}

/* ---- rules ---- */

static int ld_node_new(rules_ld *ld, uint32_t pattern, uint32_t *out)
{
    ruleset *rs = ld->rs;
    if (rules_vec_reserve(&rs->nodes, &ld->cap_nodes, rs->n_nodes + 1,
                          sizeof(*rs->nodes)) != 0)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    rs->nodes[rs->n_nodes] = (rules_node){pattern, 0, 0, 0, 0};
    *out = (uint32_t)rs->n_nodes++;
    return 0;
}

static int ld_term(rules_ld *ld, json_t *t, json_t *list, const char *what,
                   uint32_t rule, int depth, uint32_t *out);

/* The "all"/"any"/"not" lists of obj (a rule or a nested group). */
static int ld_group(rules_ld *ld, json_t *obj, const char *what, uint32_t rule,
                    int depth, uint32_t *out)
{
    ruleset *rs = ld->rs;
    static const char *const keys[3] = {"all", "any", "not"};
    json_t *lists[3];
    size_t n[3], total = 0, first;
    uint32_t node;

    if (depth > LD_MAX_DEPTH)
        LD_FAIL_AT(ld, obj, NULL, NULL,
                   "%s: groups nested deeper than %d levels; flatten the rule",
                   what, LD_MAX_DEPTH);
    for (int k = 0; k < 3; k++) {
        lists[k] = json_object_get(obj, keys[k]);
        n[k] = 0;
        if (!lists[k])
            continue;
        if (!json_is_array(lists[k]))
            LD_FAIL_AT(ld, lists[k], obj, keys[k],
                       "%s: \"%s\" must be a list of terms, e.g. [\"on hold\", "
                       "{\"regex\": \"...\"}]", what, keys[k]);
        n[k] = json_array_size(lists[k]);
        if (n[k] == 0)
            LD_FAIL_AT(ld, lists[k], obj, keys[k],
                       "%s: \"%s\" is empty; add terms or remove it", what,
                       keys[k]);
        if (n[k] > UINT16_MAX)
            LD_FAIL_AT(ld, lists[k], obj, keys[k],
                       "%s: \"%s\" has more than %d terms; split the rule",
                       what, keys[k], UINT16_MAX);
        total += n[k];
    }
    if (n[0] == 0 && n[1] == 0) {
        if (n[2])
            LD_FAIL_AT(ld, lists[2], obj, "not",
                       "%s: only \"not\" terms, which would match every post "
                       "without them; add an \"all\" or \"any\" list of terms "
                       "the post must contain", what);
        LD_FAIL_AT(ld, obj, NULL, NULL,
                   "%s has no terms; add an \"all\" or \"any\" list, e.g. "
                   "\"any\": [\"on hold\"]", what);
    }
    if (ld_node_new(ld, RULES_NO_PATTERN, &node) != 0)
        return -1;
    /* Reserve the children's slots first so that they are contiguous even
     * though nested groups append their own children while we recurse. */
    first = rs->n_child;
    if (rules_vec_reserve(&rs->child, &ld->cap_child, first + total,
                          sizeof(*rs->child)) != 0)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    rs->n_child += total;
    rs->nodes[node].first = (uint32_t)first;
    rs->nodes[node].n_all = (uint16_t)n[0];
    rs->nodes[node].n_any = (uint16_t)n[1];
    rs->nodes[node].n_not = (uint16_t)n[2];
    size_t slot = first;
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n[k]; i++) {
            uint32_t c;
            if (ld_term(ld, json_array_get(lists[k], i), lists[k], what, rule,
                        depth + 1, &c) != 0)
                return -1;
            rs->child[slot++] = c;
        }
    }
    *out = node;
    return 0;
}

static int ld_term(rules_ld *ld, json_t *t, json_t *list, const char *what,
                   uint32_t rule, int depth, uint32_t *out)
{
    uint32_t pat;

    if (json_is_string(t)) {
        if (rules_ld_phrase(ld, t, json_string_value(t), false, false, rule,
                            what, &pat) != 0)
            return -1;
        return ld_node_new(ld, pat, out);
    }
    if (!json_is_object(t))
        LD_FAIL_AT(ld, t, list, NULL,
                   "%s: a term must be a phrase string, {\"regex\": \"...\"} "
                   "or a group {\"all\"|\"any\"|\"not\": [...]}", what);
    if (ld_check_keys(ld, t, ld_term_keys, what) != 0)
        return -1;
    json_t *re = json_object_get(t, "regex");
    if (re) {
        if (json_object_size(t) != 1)
            LD_FAIL_AT(ld, t, list, NULL,
                       "%s: a term object holds either \"regex\" or a group "
                       "(all/any/not), not both; split it into two terms", what);
        if (!json_is_string(re))
            LD_FAIL_AT(ld, re, t, "regex",
                       "%s: \"regex\" must be a string", what);
        if (rules_ld_regex(ld, re, json_string_value(re), false, rule, what,
                           &pat) != 0)
            return -1;
        return ld_node_new(ld, pat, out);
    }
    return ld_group(ld, t, what, rule, depth, out);
}

static int ld_when(rules_ld *ld, json_t *w, const char *what, uint32_t rule,
                   rules_when *out)
{
    ruleset *rs = ld->rs;
    json_t *v;

    *out = (rules_when){0, 0, 0, 0, -1, -1};
    if (!w)
        return 0;
    if (!json_is_object(w))
        LD_FAIL_AT(ld, w, NULL, NULL,
                   "%s: \"when\" must be an object, e.g. {\"lang\": [\"en\"], "
                   "\"min_followers\": 100}", what);
    if (ld_check_keys(ld, w, ld_when_keys, what) != 0)
        return -1;

    if ((v = json_object_get(w, "lang"))) {
        json_t *t;
        size_t i;
        if (!json_is_array(v) || json_array_size(v) == 0)
            LD_FAIL_AT(ld, v, w, "lang",
                       "%s: \"when.lang\" must be a non-empty list of "
                       "language tags, e.g. [\"en\", \"es\"]", what);
        out->lang_first = (uint32_t)rs->n_langs;
        json_array_foreach(v, i, t) {
            if (!json_is_string(t) || json_string_length(t) == 0)
                LD_FAIL_AT(ld, t, v, NULL,
                           "%s: \"when.lang\" item %zu must be a non-empty "
                           "string such as \"en\"", what, i + 1);
            char *s = rules_strdup(rs, json_string_value(t), json_string_length(t));
            if (!s || rules_vec_reserve(&rs->langs, &ld->cap_langs,
                                        rs->n_langs + 1, sizeof(*rs->langs)))
                return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
            for (char *c = s; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            rs->langs[rs->n_langs++] = s;
        }
        out->n_lang = (uint32_t)json_array_size(v);
    }
    if ((v = json_object_get(w, "min_followers"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            LD_FAIL_AT(ld, v, w, "min_followers",
                       "%s: \"when.min_followers\" must be a whole number "
                       ">= 0", what);
        out->min_followers = json_integer_value(v);
    }
    if ((v = json_object_get(w, "retweet"))) {
        if (!json_is_boolean(v))
            LD_FAIL_AT(ld, v, w, "retweet",
                       "%s: \"when.retweet\" must be true or false (without "
                       "quotes)", what);
        out->retweet = json_is_true(v) ? 1 : 0;
    }
    if ((v = json_object_get(w, "brands"))) {
        json_t *t;
        size_t i;
        if (!json_is_array(v) || json_array_size(v) == 0)
            LD_FAIL_AT(ld, v, w, "brands",
                       "%s: \"when.brands\" must be a non-empty list of brand "
                       "ids, e.g. [\"comcast\"]", what);
        out->brand_first = (uint32_t)rs->n_when_brands;
        out->n_brand = (uint32_t)json_array_size(v);
        if (rules_vec_reserve(&rs->when_brands, &ld->cap_when_brands,
                              rs->n_when_brands + out->n_brand,
                              sizeof(*rs->when_brands)) != 0)
            return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
        json_array_foreach(v, i, t) {
            if (!json_is_string(t) || json_string_length(t) == 0)
                LD_FAIL_AT(ld, t, v, NULL,
                           "%s: \"when.brands\" item %zu must be a brand id "
                           "string", what, i + 1);
            /* Brands may be defined in a later file: resolve at the end. */
            if (rules_vec_reserve(&ld->wb, &ld->cap_wb, ld->n_wb + 1,
                                  sizeof(*ld->wb)) != 0)
                return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
            rules_ld_when_brand *wb = &ld->wb[ld->n_wb];
            wb->rule = rule;
            wb->slot = (uint32_t)rs->n_when_brands++;
            wb->loc.file = ld->file;
            ld_where(ld, t, v, NULL, &wb->loc.line, &wb->loc.col);
            wb->name = strdup(json_string_value(t));
            if (!wb->name)
                return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
            ld->n_wb++;
        }
    }
    return 0;
}

static int ld_rule(rules_ld *ld, json_t *r, size_t index)
{
    ruleset *rs = ld->rs;
    const char *id;
    char what[160];
    json_t *v;
    uint32_t ri = (uint32_t)rs->n_rules;
    rules_rule *rule;
    rules_quote_buf qid;

    if (!json_is_object(r))
        LD_FAIL_AT(ld, r, NULL, NULL,
                   "rule #%zu must be an object like {\"id\": \"wait.on_hold\", "
                   "\"tag\": \"wait_time\", \"any\": [\"on hold\"]}", index + 1);
    id = json_string_value(json_object_get(r, "id"));
    if (id && *id)
        snprintf(what, sizeof(what), "rule '%s'", rules_quote(&qid, id));
    else
        snprintf(what, sizeof(what), "rule #%zu", index + 1);
    if (ld_check_keys(ld, r, ld_rule_keys, what) != 0)
        return -1;
    if (!(id = ld_id(ld, r, "rule", index)))
        return -1;
    if (ld_unique(ld, &ld->rule_ids, &ld->rule_loc, &ld->cap_rule_loc, r,
                  "rule", id, ri) != 0)
        return -1;
    if (rules_vec_reserve(&rs->rules, &ld->cap_rules, rs->n_rules + 1,
                          sizeof(*rs->rules)) != 0)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    size_t cap = ld->cap_rules;
    void *a = realloc(rs->rule_root, cap * sizeof(*rs->rule_root));
    if (a)
        rs->rule_root = a;
    void *b = a ? realloc(rs->rule_when, cap * sizeof(*rs->rule_when)) : NULL;
    if (b)
        rs->rule_when = b;
    if (!a || !b)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    rule = &rs->rules[ri];
    memset(rule, 0, sizeof(*rule));
    rs->n_rules++; /* counted now so that terms can name it in errors */
    if (!(rule->id = rules_strdup(rs, id, strlen(id))))
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");

    v = json_object_get(r, "tag");
    if (!v) {
        int line = 0, col = 0;
        rules_posmap_value(&ld->pm, r, &line, &col);
        return rules_ld_fail(ld, ld->file, line, col,
                             "%s has no \"tag\"; add the label it sets, e.g. "
                             "\"tag\": \"wait_time\"", what);
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        LD_FAIL_AT(ld, v, r, "tag",
                   "%s: \"tag\" must be a non-empty string, e.g. \"wait_time\"",
                   what);
    if (!(rule->tag = rules_strdup(rs, json_string_value(v), json_string_length(v))))
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");

    rule->polarity = POLARITY_NEUTRAL;
    if ((v = json_object_get(r, "polarity"))) {
        const char *p = json_string_value(v);
        if (p && strcmp(p, "complaint") == 0)
            rule->polarity = POLARITY_COMPLAINT;
        else if (p && strcmp(p, "praise") == 0)
            rule->polarity = POLARITY_PRAISE;
        else if (p && strcmp(p, "question") == 0)
            rule->polarity = POLARITY_QUESTION;
        else if (p && strcmp(p, "neutral") == 0)
            rule->polarity = POLARITY_NEUTRAL;
        else if (p) {
            rules_quote_buf q;
            LD_FAIL_AT(ld, v, r, "polarity",
                       "%s: bad polarity '%s'; expected \"complaint\", "
                       "\"praise\" or \"question\" (or leave it out)", what,
                       rules_quote(&q, p));
        }
        else
            LD_FAIL_AT(ld, v, r, "polarity",
                       "%s: polarity must be a string: \"complaint\", "
                       "\"praise\" or \"question\"", what);
    }
    if ((v = json_object_get(r, "severity"))) {
        if (!json_is_integer(v))
            LD_FAIL_AT(ld, v, r, "severity",
                       "%s: severity must be a whole number from 0 to 100",
                       what);
        json_int_t s = json_integer_value(v);
        if (s < 0 || s > 100)
            LD_FAIL_AT(ld, v, r, "severity",
                       "%s: severity %lld is out of range; use 0 to 100", what,
                       (long long)s);
        rule->severity = (int)s;
    }
    if ((v = json_object_get(r, "description")) && !json_is_string(v))
        LD_FAIL_AT(ld, v, r, "description",
                   "%s: \"description\" must be a string", what);
    if (ld_when(ld, json_object_get(r, "when"), what, ri, &rs->rule_when[ri]) != 0)
        return -1;
    if (rules_ld_examples(ld, r, what, ri) != 0)
        return -1;
    return ld_group(ld, r, what, ri, 0, &rs->rule_root[ri]);
}

/* ---- files ---- */

int rules_ld_file(rules_ld *ld, const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    json_error_t jerr;
    json_t *root = NULL, *v;
    int rc = -1;

    if (rules_ld_read(ld, ld->paths[ld->file], &buf, &len) != 0)
        return -1;
    /* The version digest covers names and bytes, so a rename or an edit
     * changes it; files are fed in load order. */
    ld->rs->digest = base_fnv1a(ld->rs->digest, name, strlen(name) + 1);
    ld->rs->digest = base_fnv1a(ld->rs->digest, buf, len);

    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rules_ld_fail(ld, ld->file, jerr.line > 0 ? jerr.line : 1,
                      jerr.column > 0 ? jerr.column : 1,
                      "invalid JSON: %s; fix the syntax (a rule file is "
                      "{\"brands\": [...], \"rules\": [...]})", jerr.text);
        goto out;
    }
    if (rules_posmap_build(&ld->pm, buf, len, root) != 0) {
        rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
        goto out;
    }
    if (!json_is_object(root)) {
        int line = 0, col = 0;
        rules_posmap_value(&ld->pm, root, &line, &col);
        rules_ld_fail(ld, ld->file, line ? line : 1, col ? col : 1,
                      "a rule file must be an object {\"brands\": [...], "
                      "\"rules\": [...]}");
        goto out;
    }
    if (json_object_get(root, "earshot_model")) {
        if (ld->opts->no_model) {
            ld->model_skipped = true;
            rc = 0;
        } else {
            rc = rules_ld_model(ld, buf, len);
        }
        goto out;
    }
    if (ld_check_keys(ld, root, ld_file_keys, "the file") != 0)
        goto out;
    static const char *const lists[2] = {"brands", "rules"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *item;
        if (!(v = json_object_get(root, lists[k])))
            continue;
        if (!json_is_array(v)) {
            int line = 0, col = 0;
            ld_where(ld, v, root, lists[k], &line, &col);
            rules_ld_fail(ld, ld->file, line, col,
                          "\"%s\" must be a list [...] of objects", lists[k]);
            goto out;
        }
        json_array_foreach(v, i, item) {
            if ((k == 0 ? ld_brand(ld, item, i) : ld_rule(ld, item, i)) != 0)
                goto out;
        }
    }
    if ((v = json_object_get(root, "lexicon")) && rules_ld_lexicon(ld, v) != 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    rules_posmap_free(&ld->pm);
    free(buf);
    return rc;
}

int rules_ld_resolve(rules_ld *ld)
{
    for (size_t i = 0; i < ld->n_wb; i++) {
        rules_ld_when_brand *wb = &ld->wb[i];
        uint32_t b = base_map_get(&ld->brand_ids, wb->name, strlen(wb->name));
        rules_quote_buf qr, qb;
        if (b == UINT32_MAX)
            return rules_ld_fail(ld, wb->loc.file, wb->loc.line, wb->loc.col,
                                 "rule '%s': \"when.brands\" names unknown brand "
                                 "'%s'; use the \"id\" of a brand defined in a "
                                 "\"brands\" list",
                                 rules_quote(&qr, ld->rs->rules[wb->rule].id),
                                 rules_quote(&qb, wb->name));
        ld->rs->when_brands[wb->slot] = b;
    }
    return 0;
}

