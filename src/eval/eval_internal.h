/*
 * eval_internal: the accumulator's layout, shared by eval.c (which fills it)
 * and eval_report.c (which renders it). Nothing outside src/eval/ may
 * include this header.
 */
#ifndef EARSHOT_EVAL_INTERNAL_H
#define EARSHOT_EVAL_INTERNAL_H

#include "eval/eval.h"

typedef struct eval_miss {
    int gold, pred;
    double score;
    uint64_t seq;             /* post number, for input order among ties */
    char *text;               /* owned, cut to EVAL_TEXT_MAX bytes; may be NULL */
    int text_cut;             /* text was longer */
    char *ref;                /* owned; may be NULL */
    char *why;                /* owned; may be NULL */
    uint32_t rules[EVAL_MISS_RULES];
    size_t n_rules;           /* kept */
    size_t n_rules_fired;     /* fired (n_rules may be fewer) */
} eval_miss;

/* The misses kept for one class and kind: at most top_n, unordered until
 * the report sorts a copy. */
typedef struct eval_misses {
    eval_miss *m;
    size_t n;
} eval_misses;

typedef struct eval_rule_stats {
    char *id;
    int cls;                  /* class index, EVAL_UNMAPPED or EVAL_NO_CLASS */
    uint64_t fired;
} eval_rule_stats;

typedef struct eval_skip_count {
    char *reason;
    uint64_t n;
} eval_skip_count;

struct eval {
    size_t n_classes;
    char *classes[EVAL_MAX_CLASSES];
    size_t top_n;
    int positive;             /* the one class whose misses are kept when
                                 there are two; -1: keep every class's */
    uint64_t posts;
    /* confusion[gold * (n_classes + 1) + pred]; pred n_classes = unmapped */
    uint64_t *confusion;
    eval_rule_stats *rules;
    uint64_t *rule_gold;      /* [rule * n_classes + gold] */
    size_t n_rules, cap_rules;
    eval_misses fn[EVAL_MAX_CLASSES], fp[EVAL_MAX_CLASSES];
    eval_skip_count *skips;
    size_t n_skips;
    double elapsed_s;
};

/* Column of the confusion matrix for a predicted class (unmapped last). */
static inline size_t eval_col(const eval *ev, int pred)
{
    return pred == EVAL_UNMAPPED ? ev->n_classes : (size_t)pred;
}

/* The name of a class index as the report shows it. */
const char *eval_class_name(const eval *ev, int cls);

#endif
