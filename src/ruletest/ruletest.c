/*
 * ruletest: a ruleset's examples through the engine. See ruletest.h.
 *
 * The examples run on one private engine worker, so nothing here is shared
 * with a running pipeline; the clock is the wall clock (it only feeds the
 * event's enrichment, never whether a rule fires).
 */
#include "ruletest/ruletest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "engine/engine.h"

/* The generic-shape post for a string example; malloc'd, NULL on OOM. The
 * text was valid UTF-8 JSON in the rule file, so jansson accepts it. */
static char *ruletest_generic_post(const rules_example *ex)
{
    json_t *doc = json_pack("{s:s, s:s%}", "id", "example", "text", ex->text,
                            ex->len);
    char *s;

    if (!doc)
        return NULL;
    s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static bool ruletest_fired(const match_result *m, uint32_t rule)
{
    for (uint32_t i = 0; i < m->n_rules; i++)
        if (m->rules[i] == rule)
            return true;
    return false;
}

int ruletest_run(const ruleset *rs, bool all, ruletest_report_fn report,
                 void *opaque, ruletest_summary *sum, char *err, size_t err_size)
{
    engine_config cfg;
    engine_worker *ew;
    int rc = 0;

    memset(sum, 0, sizeof(*sum));
    if (err && err_size)
        err[0] = 0;
    engine_config_default(&cfg);
    if (!(ew = engine_worker_new(&cfg))) {
        snprintf(err, err_size, "out of memory starting the engine");
        return -1;
    }
    for (size_t i = 0; i < ruleset_example_count(rs); i++) {
        const rules_example *ex = ruleset_example(rs, i);
        char *generic = NULL;
        const char *buf = ex->text;
        size_t len = ex->len;
        engine_output out;
        ruletest_result res = {ex, RULETEST_PASS, NULL, NULL};

        if (!ex->is_post) {
            if (!(generic = ruletest_generic_post(ex))) {
                snprintf(err, err_size, "out of memory building example %zu", i);
                rc = -1;
                break;
            }
            buf = generic;
            len = strlen(generic);
        }
        switch (engine_classify(ew, rs, buf, len, (int64_t)time(NULL), &out)) {
        case ENGINE_EVENT:
            res.matches = out.matches;
            if (ruletest_fired(out.matches, ex->rule) != ex->expect_match)
                res.verdict = ex->expect_match ? RULETEST_MISSED : RULETEST_UNEXPECTED;
            break;
        case ENGINE_REJECT:
            res.verdict = RULETEST_REJECTED;
            res.reason = out.reason;
            break;
        case ENGINE_ERROR:
            res.verdict = RULETEST_ERROR;
            res.reason = out.reason;
            break;
        }
        if (res.verdict == RULETEST_PASS)
            sum->passed++;
        else
            sum->failed++;
        if (report && (all || res.verdict != RULETEST_PASS))
            report(rs, &res, opaque);
        free(generic);
    }
    engine_worker_free(ew);
    return rc;
}

void ruletest_print_example(FILE *out, const rules_example *ex)
{
    json_t *s;
    char *quoted;

    if (ex->is_post) {
        fwrite(ex->text, 1, ex->len, out);
        return;
    }
    /* Escaped as JSON: a quote or a newline in the text cannot break the
     * line, and the result can be pasted back into the rule file. */
    s = json_stringn(ex->text, ex->len);
    quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    if (quoted)
        fputs(quoted, out);
    else
        fputs("(out of memory)", out);
    free(quoted);
}

void ruletest_print_fired(FILE *out, const ruleset *rs, const match_result *m,
                          bool brands)
{
    uint32_t n = brands ? m->n_brands : m->n_rules;
    const uint32_t *v = brands ? m->brands : m->rules;

    if (n == 0) {
        fputs("none", out);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *id = brands ? ruleset_brand(rs, v[i])->id : ruleset_rule(rs, v[i])->id;
        fprintf(out, "%s%s", i ? ", " : "", id);
    }
    if (m->truncated)
        fputs(" (and more: the list is cut at its cap)", out);
}

void ruletest_print_line(FILE *out, const ruleset *rs, const ruletest_result *res)
{
    const rules_example *ex = res->ex;

    fprintf(out, "%s:%d:%d: rule '%s' example ", ex->file, ex->line, ex->col,
            ruleset_rule(rs, ex->rule)->id);
    switch (res->verdict) {
    case RULETEST_PASS:
        fputs(ex->expect_match ? "matches as it should: " : "does not match, as it should: ", out);
        ruletest_print_example(out, ex);
        break;
    case RULETEST_MISSED:
    case RULETEST_UNEXPECTED:
        fputs(res->verdict == RULETEST_MISSED ? "should match but did not: "
                                              : "should not match but did: ", out);
        ruletest_print_example(out, ex);
        fputs("; rules that fired: ", out);
        ruletest_print_fired(out, rs, res->matches, false);
        break;
    case RULETEST_REJECTED:
    case RULETEST_ERROR:
        fprintf(out, "could not be classified: %s; %s: ", res->reason,
                res->verdict == RULETEST_REJECTED
                    ? "make it a post earshot accepts"
                    : "earshot failed, not the example");
        ruletest_print_example(out, ex);
        break;
    }
    fputc('\n', out);
}
