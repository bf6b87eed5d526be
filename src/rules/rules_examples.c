/*
 * rules_examples: the "examples" of a rule ({"match": [...], "no_match":
 * [...]}, README "Rules") -> the ruleset's example list, with positions.
 * Stored as given (text, or the post object re-serialised compactly);
 * nothing is classified here: rules/ sits below the engine, and
 * src/ruletest/ runs them.
 *
 * Cost: load time only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_internal.h"

static const char *const ex_keys[] = {"match", "no_match", NULL};

/* Fail at v, else at the key holding it in parent, else at parent. */
#define EX_FAIL_AT(ld, v, parent, key, ...)                                  \
    do {                                                                     \
        int l_, c_;                                                          \
        rules_ld_where((ld), (v), (parent), (key), &l_, &c_);                \
        return rules_ld_fail((ld), (ld)->file, l_, c_, __VA_ARGS__);         \
    } while (0)

static int ex_add(rules_ld *ld, json_t *t, json_t *list, uint32_t rule,
                  bool expect_match, bool is_post, const char *text)
{
    ruleset *rs = ld->rs;
    rules_example *ex;
    size_t i = rs->n_examples;

    if (rules_vec_reserve(&rs->examples, &ld->cap_examples, i + 1,
                          sizeof(*rs->examples)) != 0 ||
        rules_vec_reserve(&rs->example_file, &ld->cap_example_file, i + 1,
                          sizeof(*rs->example_file)) != 0)
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    ex = &rs->examples[i];
    memset(ex, 0, sizeof(*ex));
    ex->rule = rule;
    ex->expect_match = expect_match;
    ex->is_post = is_post;
    ex->len = strlen(text);
    if (!(ex->text = rules_strdup(rs, text, ex->len)))
        return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
    rules_ld_where(ld, t, list, NULL, &ex->line, &ex->col);
    rs->example_file[i] = ld->file;
    rs->n_examples++;
    return 0;
}

/* One of the "match"/"no_match" lists. */
static int ex_list(rules_ld *ld, json_t *ex, const char *key, const char *what,
                   uint32_t rule)
{
    bool expect_match = strcmp(key, "match") == 0;
    json_t *arr = json_object_get(ex, key), *t;
    size_t i;

    if (!arr)
        return 0;
    if (!json_is_array(arr))
        EX_FAIL_AT(ld, arr, ex, key,
                   "%s: \"examples.%s\" must be a list of posts, each a text or "
                   "a whole post object, e.g. [\"on hold for an hour\"]", what,
                   key);
    if (json_array_size(arr) == 0)
        EX_FAIL_AT(ld, arr, ex, key,
                   "%s: \"examples.%s\" is empty; add example posts or remove "
                   "it", what, key);
    json_array_foreach(arr, i, t) {
        int rc;
        if (json_is_string(t)) {
            if (json_string_length(t) == 0)
                EX_FAIL_AT(ld, t, arr, NULL,
                           "%s: \"examples.%s\" item %zu is an empty string; "
                           "write the text of a post that %s", what, key, i + 1,
                           expect_match ? "should make the rule fire"
                                        : "should not make the rule fire");
            rc = ex_add(ld, t, arr, rule, expect_match, false,
                        json_string_value(t));
        } else if (json_is_object(t)) {
            char *post;
            if (json_object_size(t) == 0)
                EX_FAIL_AT(ld, t, arr, NULL,
                           "%s: \"examples.%s\" item %zu is an empty object; "
                           "give a whole post, e.g. {\"text\": \"...\", "
                           "\"lang\": \"en\"}", what, key, i + 1);
            if (!(post = json_dumps(t, JSON_COMPACT)))
                return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
            rc = ex_add(ld, t, arr, rule, expect_match, true, post);
            free(post);
        } else {
            EX_FAIL_AT(ld, t, arr, NULL,
                       "%s: \"examples.%s\" item %zu must be a post's text (a "
                       "string) or a whole post (an object)", what, key, i + 1);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

int rules_ld_examples(rules_ld *ld, json_t *r, const char *what, uint32_t rule)
{
    json_t *ex = json_object_get(r, "examples");
    char where[200];

    if (!ex)
        return 0;
    if (!json_is_object(ex))
        EX_FAIL_AT(ld, ex, r, "examples",
                   "%s: \"examples\" must be an object {\"match\": [...], "
                   "\"no_match\": [...]} of example posts", what);
    snprintf(where, sizeof(where), "the \"examples\" of %s", what);
    if (rules_ld_check_keys(ld, ex, ex_keys, where) != 0)
        return -1;
    if (json_object_size(ex) == 0)
        EX_FAIL_AT(ld, ex, r, "examples",
                   "%s: \"examples\" is empty; add a \"match\" or \"no_match\" "
                   "list of posts, or remove it", what);
    if (ex_list(ld, ex, "match", what, rule) != 0)
        return -1;
    return ex_list(ld, ex, "no_match", what, rule);
}

/* Point each example's file at this load's path for it. Runs after a
 * snapshot hit too, which restores the file indices but not the paths (the
 * same files may have been read from another directory). */
int rules_ld_bind_files(rules_ld *ld)
{
    ruleset *rs = ld->rs;

    if (rs->n_examples == 0)
        return 0;
    if (!(rs->files = calloc(ld->n_paths ? ld->n_paths : 1, sizeof(*rs->files))))
        return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory");
    for (size_t i = 0; i < ld->n_paths; i++)
        if (!(rs->files[i] = rules_strdup(rs, ld->paths[i], strlen(ld->paths[i]))))
            return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory");
    rs->n_files = ld->n_paths;
    for (size_t i = 0; i < rs->n_examples; i++) {
        if (rs->example_file[i] >= rs->n_files) /* a snapshot checks this */
            return rules_ld_fail(ld, UINT32_MAX, 0, 0,
                                 "example %zu names file %u of %zu", i,
                                 rs->example_file[i], rs->n_files);
        rs->examples[i].file = rs->files[rs->example_file[i]];
    }
    return 0;
}
