/*
 * eval: how well a classifier agrees with gold labels, and the report that
 * says so (terminal text and one JSON object).
 *
 * Two parts:
 *
 *   eval_labelmap: gold labels -> sets of polarities, and back. A predicted
 *   polarity belongs to the one class whose set holds it, or to none
 *   ("(unmapped)", always wrong). Used by `earshot eval`; a caller whose
 *   predictions are already classes (a trained model) does not need it.
 *
 *   eval: the accumulator. The caller fixes the classes (names) up front,
 *   then feeds one (gold class, predicted class) pair per post with
 *   eval_add(), optionally with the rules that fired, the post's text and
 *   where it came from; eval_print() and eval_json() render the same
 *   figures: per-class precision/recall/F1/support, the confusion matrix
 *   (gold rows x predicted columns, plus an "(unmapped)" column), accuracy,
 *   macro-F1, per-rule firing and agreement, the misses kept for reading,
 *   lines skipped by reason and throughput. Nothing in it knows about
 *   files, JSON input or the engine: `earshot eval` and a cross-validating
 *   `earshot train` feed the same accumulator and print the same report.
 *
 * Definitions (the report's, stated once here):
 *   precision(c) = TP / (TP + FP), recall(c) = TP / support(c),
 *   F1 = 2PR / (P + R); each is 0 when its denominator is 0.
 *   accuracy = sum TP / posts. macro-F1 = mean F1 over the classes that
 *   occur as gold or as prediction (absent classes would only add zeros).
 *   A rule "agrees" when the class it votes for (its polarity's class) is
 *   the post's gold class; rules that vote for no class have no precision.
 *   Misses: for each class its false negatives (gold c, predicted other)
 *   and false positives (predicted c, gold other), the top_n with the
 *   highest score, earlier posts first among equal scores (so with score 0
 *   everywhere: the first top_n in input order). With exactly two classes
 *   only the positive class's are kept: the other's are the same posts.
 *
 * Thread-safety: none; one eval per thread (a cross-validation merges
 * nothing: it feeds every fold's pairs into one eval).
 * Cost: eval_add is O(rules fired + classes) with no allocation except when
 * a miss is kept (one small copy of the text, at most EVAL_TEXT_MAX bytes).
 * Memory: O(rules x classes + classes x top_n).
 */
#ifndef EARSHOT_EVAL_H
#define EARSHOT_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "rules/rules.h"

#define EVAL_MAX_CLASSES 32
#define EVAL_UNMAPPED (-1) /* predicted: a polarity no class claims */
#define EVAL_NO_CLASS (-2) /* a rule that votes for no class */
#define EVAL_TEXT_MAX 160  /* bytes of text kept per miss (UTF-8 safe cut) */
#define EVAL_MISS_RULES 16 /* rule ids kept per miss */
#define EVAL_TOP_DEFAULT 10

/* ---- label map ---- */

/* A polarity set is a bit mask: 1u << POLARITY_*. */
#define EVAL_POL(p) (1u << (p))
#define EVAL_POL_ALL (EVAL_POL(POLARITY_NEUTRAL) | EVAL_POL(POLARITY_PRAISE) | \
                      EVAL_POL(POLARITY_QUESTION) | EVAL_POL(POLARITY_COMPLAINT))

typedef struct eval_labelmap {
    size_t n;
    char *names[EVAL_MAX_CLASSES];   /* owned */
    unsigned sets[EVAL_MAX_CLASSES];  /* polarity sets; 0 is allowed (a label
                                         the rules can never predict) */
    int explicit_map;                 /* from --map: unknown labels are skipped */
} eval_labelmap;

/* Parses "GOLD=POL[+POL...],..." (e.g. "negative=complaint,positive=praise").
 * Classes keep the order given. 0, or -1 with err saying what to fix (empty
 * label, unknown polarity, a label given twice, a polarity claimed by two
 * labels, too many labels). */
int eval_labelmap_parse(eval_labelmap *lm, const char *spec, char *err, size_t err_size);

/* The default map for the labels seen in a file: a polarity name maps to
 * itself; not_complaint -> praise+question+neutral; negative -> complaint;
 * positive -> praise; neutral -> neutral+question unless "question" is a
 * label too; any other label -> nothing. Classes are ordered by the first
 * polarity they claim (complaint, question, praise, neutral), then by
 * name, so "complaint" comes before "not_complaint". 0, or -1 with err (two
 * labels claim one polarity, e.g. "complaint" and "negative"). */
int eval_labelmap_default(eval_labelmap *lm, const char *const *labels, size_t n,
                          char *err, size_t err_size);

void eval_labelmap_free(eval_labelmap *lm);

/* Class index of a gold label, -1 when the map has no such label. */
int eval_labelmap_class(const eval_labelmap *lm, const char *label);

/* The gold label of one JSON line (the value of field): a string, or an
 * integer written into num (0/1 data sets); NULL when doc is not an object
 * or the field is absent, null or of another type. Shared by eval and
 * train, which read labels the same way. */
const char *eval_gold_label(json_t *doc, const char *field, char *num, size_t num_size);

/* Class index a predicted polarity maps to, EVAL_UNMAPPED when none. */
int eval_labelmap_predict(const eval_labelmap *lm, polarity p);

/* "praise+question+neutral" into buf; returns buf. */
const char *eval_polset_str(unsigned set, char *buf, size_t size);

/* ---- accumulator ---- */

typedef struct eval eval;

/* classes: n_classes (1..EVAL_MAX_CLASSES) distinct names, copied. top_n:
 * misses kept per class and kind (0: none). NULL + err on bad arguments or
 * out of memory. */
eval *eval_new(const char *const *classes, size_t n_classes, size_t top_n,
               char *err, size_t err_size);
void eval_free(eval *ev);

/* Registers a rule (id copied) that votes for class cls (a class index,
 * EVAL_UNMAPPED or EVAL_NO_CLASS). Returns its index, numbered 0, 1, ... in
 * registration order (register a ruleset's rules in order and the indices
 * are the ruleset's), or -1 when out of memory. */
int eval_rule(eval *ev, const char *id, int cls);

/* Optional per-post detail for eval_add. */
typedef struct eval_detail {
    const uint32_t *rules;  /* eval_rule indices that fired; may be NULL */
    size_t n_rules;
    const char *text;       /* shown for misses; need not be NUL-terminated */
    size_t text_len;
    const char *ref;        /* where the post came from, e.g. "care.jsonl:12" */
    double score;           /* misses with the highest score are kept */
    const char *why;        /* shown for misses, e.g. the model's strongest
                               n-grams; NUL-terminated; may be NULL */
} eval_detail;

/* One post: gold in [0, n_classes), pred in [0, n_classes) or
 * EVAL_UNMAPPED; d may be NULL. 0, or -1 on a bad index or out of memory
 * (the pair is then not counted). */
int eval_add(eval *ev, int gold, int pred, const eval_detail *d);

/* Counts a line that was not evaluated, by reason ("no label", "rejected by
 * the engine"); the report lists each reason. 0, or -1 out of memory. */
int eval_skip(eval *ev, const char *reason);

/* Wall time of the run, for posts/s in the report (0: not shown). */
void eval_set_elapsed(eval *ev, double seconds);

/* The figures, for callers that want to check or combine them. */
typedef struct eval_class_stats {
    uint64_t tp, fp, fn, support, predicted;
    double precision, recall, f1;
} eval_class_stats;

uint64_t eval_posts(const eval *ev);
/* counts[gold][pred]; pred == n_classes is the "(unmapped)" column. */
uint64_t eval_confusion(const eval *ev, int gold, int pred);
eval_class_stats eval_class(const eval *ev, int c);
double eval_accuracy(const eval *ev);
double eval_macro_f1(const eval *ev);

/* The report for a terminal. */
void eval_print(const eval *ev, FILE *out);

/* The same figures as one JSON object (new reference; NULL out of memory):
 *   classes        [name...]
 *   posts          posts evaluated
 *   skipped        {reason: lines}
 *   per_class      {name: {precision, recall, f1, support, predicted, tp, fp, fn}}
 *   confusion      {rows: [gold names], columns: [names..., "(unmapped)"],
 *                   counts: [[n...]...]}  (rows = gold, columns = predicted)
 *   accuracy, macro_f1
 *   rules          [{id, class (name, "(unmapped)" or null), fired,
 *                    agreed (null without class), precision (null without
 *                    class), gold: {name: n}}], fired rules only, most fired first
 *   misses         [{class, kind: "false_negative"|"false_positive", gold,
 *                    predicted, text, ref, rules: [id...], score}]
 *   elapsed_s, posts_per_s   (when eval_set_elapsed was called)
 * A caller adds its own fields (rules version, folds) to the object. */
json_t *eval_json(const eval *ev);

#endif
