/*
 * eval_labelmap: gold labels <-> polarity sets. See eval.h.
 *
 * Linear searches throughout: a map holds a handful of labels (capped at
 * EVAL_MAX_CLASSES) and is consulted once per post.
 */
#include "eval/eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const polarity eval_pol_order[] = {POLARITY_COMPLAINT, POLARITY_QUESTION,
                                          POLARITY_PRAISE, POLARITY_NEUTRAL};

static int eval_polarity_parse(const char *s, size_t len, polarity *out)
{
    for (int p = POLARITY_NEUTRAL; p <= POLARITY_COMPLAINT; p++) {
        const char *name = polarity_name((polarity)p);
        if (strlen(name) == len && !memcmp(name, s, len)) {
            *out = (polarity)p;
            return 0;
        }
    }
    return -1;
}

const char *eval_polset_str(unsigned set, char *buf, size_t size)
{
    size_t len = 0;

    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < 4; i++) {
        if (!(set & EVAL_POL(eval_pol_order[i])))
            continue;
        int n = snprintf(buf + len, size > len ? size - len : 0, "%s%s", len ? "+" : "",
                         polarity_name(eval_pol_order[i]));
        if (n < 0 || (size_t)n >= (size > len ? size - len : 0))
            break;
        len += (size_t)n;
    }
    if (!set)
        snprintf(buf, size, "(nothing)");
    return buf;
}

void eval_labelmap_free(eval_labelmap *lm)
{
    for (size_t i = 0; i < lm->n; i++)
        free(lm->names[i]);
    memset(lm, 0, sizeof(*lm));
}

/* Adds label -> set, refusing a second claim on a polarity: the mapping back
 * from a prediction must be a function. */
static int eval_labelmap_add(eval_labelmap *lm, const char *label, size_t len, unsigned set,
                             char *err, size_t err_size)
{
    for (size_t i = 0; i < lm->n; i++) {
        if (strlen(lm->names[i]) == len && !memcmp(lm->names[i], label, len)) {
            snprintf(err, err_size, "label '%.*s' is given twice", (int)len, label);
            return -1;
        }
        if (lm->sets[i] & set) {
            for (size_t k = 0; k < 4; k++) {
                polarity p = eval_pol_order[k];
                if (lm->sets[i] & set & EVAL_POL(p)) {
                    snprintf(err, err_size,
                             "labels '%s' and '%.*s' both claim polarity '%s': "
                             "a prediction must map to one label",
                             lm->names[i], (int)len, label, polarity_name(p));
                    return -1;
                }
            }
        }
    }
    if (lm->n == EVAL_MAX_CLASSES) {
        snprintf(err, err_size, "more than %d labels: is the label field the right one?",
                 EVAL_MAX_CLASSES);
        return -1;
    }
    if (!(lm->names[lm->n] = strndup(label, len))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    lm->sets[lm->n++] = set;
    return 0;
}

int eval_labelmap_parse(eval_labelmap *lm, const char *spec, char *err, size_t err_size)
{
    const char *p = spec;

    memset(lm, 0, sizeof(*lm));
    lm->explicit_map = 1;
    if (!spec || !*spec) {
        snprintf(err, err_size, "--map is empty: give GOLD=POLARITY[+POLARITY...],...");
        return -1;
    }
    while (*p) {
        const char *end = p + strcspn(p, ",");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        unsigned set = 0;

        if (!eq || eq == p) {
            snprintf(err, err_size,
                     "--map entry '%.*s' must be GOLD=POLARITY[+POLARITY...], "
                     "e.g. negative=complaint", (int)(end - p), p);
            goto err;
        }
        for (const char *q = eq + 1; q <= end;) {
            const char *pe = q + strcspn(q, "+,");
            polarity pol;
            if (pe > end)
                pe = end;
            if (eval_polarity_parse(q, (size_t)(pe - q), &pol)) {
                snprintf(err, err_size,
                         "--map: '%.*s' is not a polarity (complaint, praise, question, neutral)",
                         (int)(pe - q), q);
                goto err;
            }
            set |= EVAL_POL(pol);
            q = pe + 1;
        }
        if (eval_labelmap_add(lm, p, (size_t)(eq - p), set, err, err_size))
            goto err;
        p = *end ? end + 1 : end;
    }
    return 0;
err:
    eval_labelmap_free(lm);
    return -1;
}

static unsigned eval_default_set(const char *label, int have_question)
{
    polarity p;

    if (!strcmp(label, "neutral"))
        return have_question ? EVAL_POL(POLARITY_NEUTRAL)
                             : EVAL_POL(POLARITY_NEUTRAL) | EVAL_POL(POLARITY_QUESTION);
    if (!eval_polarity_parse(label, strlen(label), &p))
        return EVAL_POL(p);
    if (!strcmp(label, "not_complaint"))
        return EVAL_POL(POLARITY_PRAISE) | EVAL_POL(POLARITY_QUESTION) |
               EVAL_POL(POLARITY_NEUTRAL);
    if (!strcmp(label, "negative"))
        return EVAL_POL(POLARITY_COMPLAINT);
    if (!strcmp(label, "positive"))
        return EVAL_POL(POLARITY_PRAISE);
    return 0;
}

/* The position of a set's first polarity in report order; empty sets last. */
static int eval_set_rank(unsigned set)
{
    for (int i = 0; i < 4; i++)
        if (set & EVAL_POL(eval_pol_order[i]))
            return i;
    return 4;
}

int eval_labelmap_default(eval_labelmap *lm, const char *const *labels, size_t n,
                          char *err, size_t err_size)
{
    const char *order[EVAL_MAX_CLASSES];
    int have_question = 0;

    memset(lm, 0, sizeof(*lm));
    if (n == 0) {
        snprintf(err, err_size, "no labelled lines: nothing to evaluate");
        return -1;
    }
    if (n > EVAL_MAX_CLASSES) {
        snprintf(err, err_size, "%zu distinct labels (at most %d): is the label field "
                 "the right one?", n, EVAL_MAX_CLASSES);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        have_question |= !strcmp(labels[i], "question");
    /* Insertion sort by (rank, name): n is tiny. */
    for (size_t i = 0; i < n; i++) {
        int r = eval_set_rank(eval_default_set(labels[i], have_question));
        size_t j = i;
        while (j > 0) {
            int rj = eval_set_rank(eval_default_set(order[j - 1], have_question));
            if (rj < r || (rj == r && strcmp(order[j - 1], labels[i]) < 0))
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = labels[i];
    }
    for (size_t i = 0; i < n; i++)
        if (eval_labelmap_add(lm, order[i], strlen(order[i]),
                              eval_default_set(order[i], have_question), err, err_size)) {
            size_t len = strlen(err);
            snprintf(err + len, err_size > len ? err_size - len : 0,
                     "; give the map with --map");
            eval_labelmap_free(lm);
            return -1;
        }
    return 0;
}

int eval_labelmap_class(const eval_labelmap *lm, const char *label)
{
    for (size_t i = 0; i < lm->n; i++)
        if (!strcmp(lm->names[i], label))
            return (int)i;
    return -1;
}

int eval_labelmap_predict(const eval_labelmap *lm, polarity p)
{
    for (size_t i = 0; i < lm->n; i++)
        if (lm->sets[i] & EVAL_POL(p))
            return (int)i;
    return EVAL_UNMAPPED;
}

const char *eval_gold_label(json_t *doc, const char *field, char *num, size_t num_size)
{
    json_t *v = json_is_object(doc) ? json_object_get(doc, field) : NULL;

    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(num, num_size, "%lld", (long long)json_integer_value(v));
        return num;
    }
    return NULL;
}
