/*
 * eval_report: the accumulator rendered for a terminal and as JSON. See
 * eval.h for the figures' definitions; both renderers show the same ones.
 *
 * Runs once per evaluation, so it favours plain code over speed: rules are
 * sorted with qsort over an index array, misses copied and sorted.
 */
#include "eval/eval_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared ordering ---- */

/* Fired rules, most fired first, then by id (stable across runs). */
static size_t *eval_fired_rules(const eval *ev, size_t *n_out)
{
    size_t *idx = malloc((ev->n_rules ? ev->n_rules : 1) * sizeof(*idx));
    size_t n = 0;

    if (!idx)
        return NULL;
    for (size_t i = 0; i < ev->n_rules; i++)
        if (ev->rules[i].fired)
            idx[n++] = i;
    /* Insertion sort keyed on (fired desc, id): qsort has no context
     * argument in C11, and the list is what a person reads anyway. */
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0) {
            const eval_rule_stats *a = &ev->rules[idx[j - 1]], *b = &ev->rules[v];
            if (a->fired > b->fired || (a->fired == b->fired && strcmp(a->id, b->id) <= 0))
                break;
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    *n_out = n;
    return idx;
}

static int eval_miss_cmp(const void *pa, const void *pb)
{
    const eval_miss *a = pa, *b = pb;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The kept misses of one list in report order (a sorted copy of the
 * pointers' targets; the structs are shallow-copied, not owned). */
static eval_miss *eval_sorted_misses(const eval_misses *ms)
{
    eval_miss *m = malloc((ms->n ? ms->n : 1) * sizeof(*m));

    if (!m)
        return NULL;
    if (ms->n) { /* ms->m is NULL until the first miss is kept */
        memcpy(m, ms->m, ms->n * sizeof(*m));
        qsort(m, ms->n, sizeof(*m), eval_miss_cmp);
    }
    return m;
}

/* Whether class c's misses are reported (see eval.h: two classes). */
static int eval_reports_misses(const eval *ev, size_t c)
{
    return ev->top_n && (ev->positive < 0 || (size_t)ev->positive == c);
}

/* ---- terminal ---- */

static int eval_width(const eval *ev, int min)
{
    int w = min;
    for (size_t i = 0; i < ev->n_classes; i++)
        if ((int)strlen(ev->classes[i]) > w)
            w = (int)strlen(ev->classes[i]);
    return w;
}

static uint64_t eval_unmapped_total(const eval *ev)
{
    uint64_t n = 0;
    for (size_t g = 0; g < ev->n_classes; g++)
        n += ev->confusion[g * (ev->n_classes + 1) + ev->n_classes];
    return n;
}

/* Prints text on one line: control characters (newlines in a post) would
 * break the layout, so they become spaces. */
static void eval_print_text(FILE *out, const char *s, int cut)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, out);
    if (cut)
        fputs("...", out);
}

static void eval_print_misses(const eval *ev, FILE *out, size_t c, int fp)
{
    const eval_misses *ms = fp ? &ev->fp[c] : &ev->fn[c];
    eval_class_stats s = eval_class(ev, (int)c);
    uint64_t total = fp ? s.fp : s.fn;
    eval_miss *m;

    fprintf(out, "\nfalse %s: %s (%s), %zu of %llu shown\n",
            fp ? "positives" : "negatives", ev->classes[c],
            fp ? "predicted it, gold says otherwise" : "gold says it, predicted otherwise",
            ms->n, (unsigned long long)total);
    if (!ms->n)
        return;
    if (!(m = eval_sorted_misses(ms))) {
        fprintf(out, "  (out of memory)\n");
        return;
    }
    for (size_t i = 0; i < ms->n; i++) {
        fprintf(out, "  %s%sgold %s, predicted %s; rules: ", m[i].ref ? m[i].ref : "",
                m[i].ref ? "  " : "", eval_class_name(ev, m[i].gold),
                eval_class_name(ev, m[i].pred));
        if (!m[i].n_rules_fired)
            fputs("(none)", out);
        for (size_t r = 0; r < m[i].n_rules; r++)
            fprintf(out, "%s%s", r ? ", " : "", ev->rules[m[i].rules[r]].id);
        if (m[i].n_rules_fired > m[i].n_rules)
            fprintf(out, ", +%zu more", m[i].n_rules_fired - m[i].n_rules);
        if (m[i].why)
            fprintf(out, "\n    why: %s", m[i].why);
        fputs("\n    ", out);
        eval_print_text(out, m[i].text ? m[i].text : "(no text)", m[i].text_cut);
        fputc('\n', out);
    }
    free(m);
}

static void eval_print_rules(const eval *ev, FILE *out, int cw)
{
    size_t n, *idx = eval_fired_rules(ev, &n);
    int iw = 4;

    if (!idx) {
        fprintf(out, "\nrules: (out of memory)\n");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(ev->rules[idx[i]].id) > iw)
            iw = (int)strlen(ev->rules[idx[i]].id);
    if (iw > 40)
        iw = 40;
    fprintf(out, "\nrules that fired (%zu of %zu); precision = share of firings where the\n"
                 "rule's polarity maps to the gold label; then firings by gold label\n",
            n, ev->n_rules);
    if (!n) {
        free(idx);
        return;
    }
    fprintf(out, "  %-*s  %-*s  %7s  %7s  %9s", iw, "rule", cw, "votes for", "fired", "agreed",
            "precision");
    for (size_t c = 0; c < ev->n_classes; c++)
        fprintf(out, "  %*s", cw, ev->classes[c]);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const eval_rule_stats *r = &ev->rules[idx[i]];
        const uint64_t *gold = ev->rule_gold + idx[i] * ev->n_classes;
        fprintf(out, "  %-*.*s  %-*s  %7llu", iw, iw, r->id, cw, eval_class_name(ev, r->cls),
                (unsigned long long)r->fired);
        if (r->cls == EVAL_NO_CLASS) {
            fprintf(out, "  %7s  %9s", "-", "-");
        } else {
            uint64_t agreed = r->cls >= 0 ? gold[r->cls] : 0;
            fprintf(out, "  %7llu  %9.3f", (unsigned long long)agreed,
                    (double)agreed / (double)r->fired);
        }
        for (size_t c = 0; c < ev->n_classes; c++)
            fprintf(out, "  %*llu", cw, (unsigned long long)gold[c]);
        fputc('\n', out);
    }
    free(idx);
}

void eval_print(const eval *ev, FILE *out)
{
    int cw = eval_width(ev, 10);
    int show_unmapped = eval_unmapped_total(ev) > 0;
    size_t cols = ev->n_classes + 1;

    fprintf(out, "%llu post%s evaluated, %zu class%s\n", (unsigned long long)ev->posts,
            ev->posts == 1 ? "" : "s", ev->n_classes, ev->n_classes == 1 ? "" : "es");
    for (size_t i = 0; i < ev->n_skips; i++)
        fprintf(out, "%llu line%s skipped: %s\n", (unsigned long long)ev->skips[i].n,
                ev->skips[i].n == 1 ? "" : "s", ev->skips[i].reason);

    fprintf(out, "\n  %-*s  %9s  %7s  %7s  %8s  %9s\n", cw, "class", "precision", "recall",
            "f1", "support", "predicted");
    for (size_t c = 0; c < ev->n_classes; c++) {
        eval_class_stats s = eval_class(ev, (int)c);
        fprintf(out, "  %-*s  %9.3f  %7.3f  %7.3f  %8llu  %9llu\n", cw, ev->classes[c],
                s.precision, s.recall, s.f1, (unsigned long long)s.support,
                (unsigned long long)s.predicted);
    }
    fprintf(out, "\n  accuracy %.3f   macro-F1 %.3f\n", eval_accuracy(ev), eval_macro_f1(ev));

    fprintf(out, "\nconfusion (rows: gold, columns: predicted)\n  %-*s", cw, "");
    for (size_t c = 0; c < ev->n_classes; c++)
        fprintf(out, "  %*s", cw, ev->classes[c]);
    if (show_unmapped)
        fprintf(out, "  %*s", cw, "(unmapped)");
    fputc('\n', out);
    for (size_t g = 0; g < ev->n_classes; g++) {
        fprintf(out, "  %-*s", cw, ev->classes[g]);
        for (size_t p = 0; p < cols - (show_unmapped ? 0 : 1); p++)
            fprintf(out, "  %*llu", cw, (unsigned long long)ev->confusion[g * cols + p]);
        fputc('\n', out);
    }

    eval_print_rules(ev, out, cw);

    for (size_t c = 0; c < ev->n_classes; c++) {
        if (!eval_reports_misses(ev, c))
            continue;
        eval_print_misses(ev, out, c, 0);
        eval_print_misses(ev, out, c, 1);
    }

    if (ev->elapsed_s > 0) {
        uint64_t lines = ev->posts;
        for (size_t i = 0; i < ev->n_skips; i++)
            lines += ev->skips[i].n;
        fprintf(out, "\n%llu lines in %.3f s: %.0f posts/s\n", (unsigned long long)lines,
                ev->elapsed_s, (double)lines / ev->elapsed_s);
    }
}

/* ---- JSON ---- */

/* json_object_set_new that remembers a failure instead of returning it at
 * every call: the object is built whole, then checked once. */
static void eval_set(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(obj, key, v))
        *bad = 1;
}

static void eval_push(json_t *arr, json_t *v, int *bad)
{
    if (!v || json_array_append_new(arr, v))
        *bad = 1;
}

static json_t *eval_class_json(const eval *ev, int cls)
{
    if (cls == EVAL_NO_CLASS)
        return json_null();
    return json_string(eval_class_name(ev, cls));
}

static json_t *eval_misses_json(const eval *ev, int *bad)
{
    json_t *arr = json_array();

    if (!arr) {
        *bad = 1;
        return NULL;
    }
    for (size_t c = 0; c < ev->n_classes; c++) {
        if (!eval_reports_misses(ev, c))
            continue;
        for (int fp = 0; fp < 2; fp++) {
            const eval_misses *ms = fp ? &ev->fp[c] : &ev->fn[c];
            eval_miss *m = eval_sorted_misses(ms);
            if (!m) {
                *bad = 1;
                continue;
            }
            for (size_t i = 0; i < ms->n; i++) {
                json_t *o = json_object(), *rules = json_array();
                if (!o || !rules) {
                    json_decref(o);
                    json_decref(rules);
                    *bad = 1;
                    continue;
                }
                eval_set(o, "class", json_string(ev->classes[c]), bad);
                eval_set(o, "kind", json_string(fp ? "false_positive" : "false_negative"), bad);
                eval_set(o, "gold", eval_class_json(ev, m[i].gold), bad);
                eval_set(o, "predicted", eval_class_json(ev, m[i].pred), bad);
                /* The text was valid UTF-8 cut on a character boundary; a
                 * caller that passed invalid bytes gets null, not a failure. */
                json_t *t = m[i].text ? json_string(m[i].text) : NULL;
                eval_set(o, "text", t ? t : json_null(), bad);
                eval_set(o, "text_cut", json_boolean(m[i].text_cut), bad);
                eval_set(o, "ref", m[i].ref ? json_string(m[i].ref) : json_null(), bad);
                for (size_t r = 0; r < m[i].n_rules; r++)
                    eval_push(rules, json_string(ev->rules[m[i].rules[r]].id), bad);
                eval_set(o, "rules", rules, bad);
                eval_set(o, "rules_fired", json_integer((json_int_t)m[i].n_rules_fired), bad);
                eval_set(o, "score", json_real(m[i].score), bad);
                eval_set(o, "why", m[i].why ? json_string(m[i].why) : json_null(), bad);
                eval_push(arr, o, bad);
            }
            free(m);
        }
    }
    return arr;
}

static json_t *eval_rules_json(const eval *ev, int *bad)
{
    size_t n, *idx = eval_fired_rules(ev, &n);
    json_t *arr = json_array();

    if (!idx || !arr) {
        free(idx);
        json_decref(arr);
        *bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const eval_rule_stats *r = &ev->rules[idx[i]];
        const uint64_t *gold = ev->rule_gold + idx[i] * ev->n_classes;
        json_t *o = json_object(), *g = json_object();
        if (!o || !g) {
            json_decref(o);
            json_decref(g);
            *bad = 1;
            continue;
        }
        eval_set(o, "id", json_string(r->id), bad);
        eval_set(o, "class", eval_class_json(ev, r->cls), bad);
        eval_set(o, "fired", json_integer((json_int_t)r->fired), bad);
        if (r->cls == EVAL_NO_CLASS) {
            eval_set(o, "agreed", json_null(), bad);
            eval_set(o, "precision", json_null(), bad);
        } else {
            uint64_t agreed = r->cls >= 0 ? gold[r->cls] : 0;
            eval_set(o, "agreed", json_integer((json_int_t)agreed), bad);
            eval_set(o, "precision", json_real((double)agreed / (double)r->fired), bad);
        }
        for (size_t c = 0; c < ev->n_classes; c++)
            eval_set(g, ev->classes[c], json_integer((json_int_t)gold[c]), bad);
        eval_set(o, "gold", g, bad);
        eval_push(arr, o, bad);
    }
    free(idx);
    return arr;
}

json_t *eval_json(const eval *ev)
{
    json_t *root = json_object(), *classes = json_array(), *per = json_object();
    json_t *skipped = json_object(), *conf = json_object(), *rows = json_array();
    json_t *columns = json_array(), *counts = json_array();
    size_t cols = ev->n_classes + 1;
    int bad = 0;

    if (!root || !classes || !per || !skipped || !conf || !rows || !columns || !counts)
        goto err;
    for (size_t c = 0; c < ev->n_classes; c++) {
        eval_class_stats s = eval_class(ev, (int)c);
        json_t *o = json_object();
        eval_push(classes, json_string(ev->classes[c]), &bad);
        eval_push(rows, json_string(ev->classes[c]), &bad);
        eval_push(columns, json_string(ev->classes[c]), &bad);
        if (!o) {
            bad = 1;
            continue;
        }
        eval_set(o, "precision", json_real(s.precision), &bad);
        eval_set(o, "recall", json_real(s.recall), &bad);
        eval_set(o, "f1", json_real(s.f1), &bad);
        eval_set(o, "support", json_integer((json_int_t)s.support), &bad);
        eval_set(o, "predicted", json_integer((json_int_t)s.predicted), &bad);
        eval_set(o, "tp", json_integer((json_int_t)s.tp), &bad);
        eval_set(o, "fp", json_integer((json_int_t)s.fp), &bad);
        eval_set(o, "fn", json_integer((json_int_t)s.fn), &bad);
        eval_set(per, ev->classes[c], o, &bad);
    }
    eval_push(columns, json_string("(unmapped)"), &bad);
    for (size_t g = 0; g < ev->n_classes; g++) {
        json_t *row = json_array();
        for (size_t p = 0; row && p < cols; p++)
            eval_push(row, json_integer((json_int_t)ev->confusion[g * cols + p]), &bad);
        eval_push(counts, row, &bad);
    }
    for (size_t i = 0; i < ev->n_skips; i++)
        eval_set(skipped, ev->skips[i].reason, json_integer((json_int_t)ev->skips[i].n), &bad);

    eval_set(root, "classes", classes, &bad);
    classes = NULL;
    eval_set(root, "posts", json_integer((json_int_t)ev->posts), &bad);
    eval_set(root, "skipped", skipped, &bad);
    skipped = NULL;
    eval_set(root, "per_class", per, &bad);
    per = NULL;
    eval_set(conf, "rows", rows, &bad);
    eval_set(conf, "columns", columns, &bad);
    eval_set(conf, "counts", counts, &bad);
    rows = columns = counts = NULL;
    eval_set(root, "confusion", conf, &bad);
    conf = NULL;
    eval_set(root, "accuracy", json_real(eval_accuracy(ev)), &bad);
    eval_set(root, "macro_f1", json_real(eval_macro_f1(ev)), &bad);
    eval_set(root, "rules", eval_rules_json(ev, &bad), &bad);
    eval_set(root, "misses", eval_misses_json(ev, &bad), &bad);
    if (ev->elapsed_s > 0) {
        uint64_t lines = ev->posts;
        for (size_t i = 0; i < ev->n_skips; i++)
            lines += ev->skips[i].n;
        eval_set(root, "elapsed_s", json_real(ev->elapsed_s), &bad);
        eval_set(root, "posts_per_s", json_real((double)lines / ev->elapsed_s), &bad);
    }
    if (bad)
        goto err;
    return root;
err:
    json_decref(root);
    json_decref(classes);
    json_decref(per);
    json_decref(skipped);
    json_decref(conf);
    json_decref(rows);
    json_decref(columns);
    json_decref(counts);
    return NULL;
}
