/*
 * eval: the accumulator (counts, per-rule tallies, kept misses). See eval.h;
 * the renderers are in eval_report.c.
 */
#include "eval/eval_internal.h"

#include <stdlib.h>
#include <string.h>

eval *eval_new(const char *const *classes, size_t n_classes, size_t top_n,
               char *err, size_t err_size)
{
    eval *ev;

    if (n_classes < 1 || n_classes > EVAL_MAX_CLASSES) {
        snprintf(err, err_size, "%zu classes: need 1..%d", n_classes, EVAL_MAX_CLASSES);
        return NULL;
    }
    for (size_t i = 0; i < n_classes; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(classes[i], classes[j])) {
                snprintf(err, err_size, "class '%s' is given twice", classes[i]);
                return NULL;
            }
    if (!(ev = calloc(1, sizeof(*ev))))
        goto oom;
    ev->n_classes = n_classes;
    ev->top_n = top_n;
    for (size_t i = 0; i < n_classes; i++)
        if (!(ev->classes[i] = strdup(classes[i])))
            goto oom;
    if (!(ev->confusion = calloc(n_classes * (n_classes + 1), sizeof(*ev->confusion))))
        goto oom;
    /* With two classes, one's false negatives are the other's false
     * positives: keep them once, under the class that is not "not_*". */
    ev->positive = -1;
    if (n_classes == 2)
        ev->positive = !strncmp(ev->classes[0], "not_", 4) &&
                       strncmp(ev->classes[1], "not_", 4) ? 1 : 0;
    return ev;
oom:
    snprintf(err, err_size, "out of memory");
    eval_free(ev);
    return NULL;
}

static void eval_misses_free(eval_misses *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        free(ms->m[i].text);
        free(ms->m[i].ref);
        free(ms->m[i].why);
    }
    free(ms->m);
}

void eval_free(eval *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->n_classes; i++) {
        free(ev->classes[i]);
        eval_misses_free(&ev->fn[i]);
        eval_misses_free(&ev->fp[i]);
    }
    for (size_t i = 0; i < ev->n_rules; i++)
        free(ev->rules[i].id);
    for (size_t i = 0; i < ev->n_skips; i++)
        free(ev->skips[i].reason);
    free(ev->skips);
    free(ev->rules);
    free(ev->rule_gold);
    free(ev->confusion);
    free(ev);
}

int eval_rule(eval *ev, const char *id, int cls)
{
    if (ev->n_rules == ev->cap_rules) {
        size_t cap = ev->cap_rules ? ev->cap_rules * 2 : 64;
        eval_rule_stats *r = realloc(ev->rules, cap * sizeof(*r));
        if (!r)
            return -1;
        ev->rules = r;
        uint64_t *g = realloc(ev->rule_gold, cap * ev->n_classes * sizeof(*g));
        if (!g)
            return -1;
        ev->rule_gold = g;
        ev->cap_rules = cap;
    }
    eval_rule_stats *r = &ev->rules[ev->n_rules];
    if (!(r->id = strdup(id)))
        return -1;
    r->cls = cls >= 0 && (size_t)cls < ev->n_classes ? cls
             : cls == EVAL_UNMAPPED ? EVAL_UNMAPPED : EVAL_NO_CLASS;
    r->fired = 0;
    memset(ev->rule_gold + ev->n_rules * ev->n_classes, 0,
           ev->n_classes * sizeof(*ev->rule_gold));
    return (int)ev->n_rules++;
}

/* Length of the longest prefix of s (at most max bytes) that does not end
 * inside a UTF-8 sequence, so the kept text stays valid for JSON. */
static size_t eval_utf8_cut(const char *s, size_t len, size_t max)
{
    size_t cut;

    if (len <= max)
        return len;
    cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* Keeps d as a miss in ms when it ranks among the top_n: higher score
 * first, then earlier. O(top_n) per miss: top_n is a screenful. */
static int eval_keep_miss(eval *ev, eval_misses *ms, int gold, int pred, const eval_detail *d)
{
    eval_miss *slot;
    double score = d ? d->score : 0;

    if (ev->top_n == 0)
        return 0;
    if (!ms->m && !(ms->m = calloc(ev->top_n, sizeof(*ms->m))))
        return -1;
    if (ms->n < ev->top_n) {
        slot = &ms->m[ms->n++];
    } else {
        /* Replace the worst kept one (lowest score, latest) if d beats it;
         * d is later than all kept, so it must score strictly higher. */
        slot = &ms->m[0];
        for (size_t i = 1; i < ms->n; i++)
            if (ms->m[i].score < slot->score ||
                (ms->m[i].score == slot->score && ms->m[i].seq > slot->seq))
                slot = &ms->m[i];
        if (!(score > slot->score))
            return 0;
        free(slot->text);
        free(slot->ref);
        free(slot->why);
    }
    memset(slot, 0, sizeof(*slot));
    slot->gold = gold;
    slot->pred = pred;
    slot->score = score;
    slot->seq = ev->posts;
    if (d && d->text) {
        size_t n = eval_utf8_cut(d->text, d->text_len, EVAL_TEXT_MAX);
        slot->text_cut = n < d->text_len;
        if (!(slot->text = strndup(d->text, n)))
            goto oom;
    }
    if (d && d->ref && !(slot->ref = strdup(d->ref)))
        goto oom;
    if (d && d->why && !(slot->why = strdup(d->why)))
        goto oom;
    if (d && d->rules) {
        slot->n_rules_fired = d->n_rules;
        for (size_t i = 0; i < d->n_rules && slot->n_rules < EVAL_MISS_RULES; i++)
            if (d->rules[i] < ev->n_rules)
                slot->rules[slot->n_rules++] = d->rules[i];
    }
    return 0;
oom:
    /* Leave a slot without text rather than a half-built one. */
    free(slot->text);
    slot->text = NULL;
    return -1;
}

int eval_add(eval *ev, int gold, int pred, const eval_detail *d)
{
    int rc = 0;

    if (gold < 0 || (size_t)gold >= ev->n_classes ||
        (pred != EVAL_UNMAPPED && (pred < 0 || (size_t)pred >= ev->n_classes)))
        return -1;
    ev->confusion[(size_t)gold * (ev->n_classes + 1) + eval_col(ev, pred)]++;
    if (d && d->rules)
        for (size_t i = 0; i < d->n_rules; i++) {
            uint32_t r = d->rules[i];
            if (r >= ev->n_rules)
                continue; /* not registered: nothing to attribute it to */
            ev->rules[r].fired++;
            ev->rule_gold[(size_t)r * ev->n_classes + (size_t)gold]++;
        }
    if (pred != gold) {
        if (ev->positive < 0 || gold == ev->positive)
            rc |= eval_keep_miss(ev, &ev->fn[gold], gold, pred, d);
        if (pred >= 0 && (ev->positive < 0 || pred == ev->positive))
            rc |= eval_keep_miss(ev, &ev->fp[pred], gold, pred, d);
    }
    ev->posts++;
    return rc ? -1 : 0;
}

int eval_skip(eval *ev, const char *reason)
{
    for (size_t i = 0; i < ev->n_skips; i++)
        if (!strcmp(ev->skips[i].reason, reason)) {
            ev->skips[i].n++;
            return 0;
        }
    eval_skip_count *s = realloc(ev->skips, (ev->n_skips + 1) * sizeof(*s));
    if (!s)
        return -1;
    ev->skips = s;
    if (!(s[ev->n_skips].reason = strdup(reason)))
        return -1;
    s[ev->n_skips++].n = 1;
    return 0;
}

void eval_set_elapsed(eval *ev, double seconds)
{
    ev->elapsed_s = seconds;
}

uint64_t eval_posts(const eval *ev)
{
    return ev->posts;
}

uint64_t eval_confusion(const eval *ev, int gold, int pred)
{
    if (gold < 0 || (size_t)gold >= ev->n_classes || pred < 0 || (size_t)pred > ev->n_classes)
        return 0;
    return ev->confusion[(size_t)gold * (ev->n_classes + 1) + (size_t)pred];
}

eval_class_stats eval_class(const eval *ev, int c)
{
    eval_class_stats s;
    size_t cols = ev->n_classes + 1;

    memset(&s, 0, sizeof(s));
    if (c < 0 || (size_t)c >= ev->n_classes)
        return s;
    for (size_t j = 0; j < cols; j++)
        s.support += ev->confusion[(size_t)c * cols + j];
    for (size_t g = 0; g < ev->n_classes; g++)
        s.predicted += ev->confusion[g * cols + (size_t)c];
    s.tp = ev->confusion[(size_t)c * cols + (size_t)c];
    s.fp = s.predicted - s.tp;
    s.fn = s.support - s.tp;
    s.precision = s.predicted ? (double)s.tp / (double)s.predicted : 0;
    s.recall = s.support ? (double)s.tp / (double)s.support : 0;
    s.f1 = s.precision + s.recall > 0
               ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
    return s;
}

double eval_accuracy(const eval *ev)
{
    uint64_t tp = 0;

    if (!ev->posts)
        return 0;
    for (size_t c = 0; c < ev->n_classes; c++)
        tp += ev->confusion[c * (ev->n_classes + 1) + c];
    return (double)tp / (double)ev->posts;
}

double eval_macro_f1(const eval *ev)
{
    double sum = 0;
    size_t n = 0;

    for (size_t c = 0; c < ev->n_classes; c++) {
        eval_class_stats s = eval_class(ev, (int)c);
        if (!s.support && !s.predicted)
            continue;
        sum += s.f1;
        n++;
    }
    return n ? sum / (double)n : 0;
}

const char *eval_class_name(const eval *ev, int cls)
{
    if (cls >= 0 && (size_t)cls < ev->n_classes)
        return ev->classes[cls];
    return cls == EVAL_UNMAPPED ? "(unmapped)" : "-";
}
