/*
 * ruletest: runs the examples of a ruleset (the "examples" of its rule
 * files, see rules.h) through the engine and says which go the wrong way.
 *
 * Contract: an example passes when, classified with the whole ruleset (so
 * brands, "when" predicates and "not" terms apply as in production), its
 * rule fires ("match") or does not ("no_match"). A string example is
 * classified as the generic post {"id":"example","text":TEXT}, built with
 * jansson so that quotes and control characters are escaped; an object
 * example is classified as written, in whatever shape it has. An example
 * the engine rejects (no text, not a post) fails: it tests nothing.
 *
 * Thread-safety: each run makes its own engine worker; the ruleset is only
 * read. Cost: one engine_classify per example (~2 us) plus, for a string
 * example, one small JSON document built and freed: fine for a check that
 * runs at the command line, not meant for the hot path.
 */
#ifndef EARSHOT_RULETEST_H
#define EARSHOT_RULETEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "match/match.h"
#include "rules/rules.h"

typedef enum ruletest_verdict {
    RULETEST_PASS = 0,
    RULETEST_MISSED = 1,     /* should have made its rule fire, did not */
    RULETEST_UNEXPECTED = 2, /* should not have, did */
    RULETEST_REJECTED = 3,   /* the engine refused the post (reason says why) */
    RULETEST_ERROR = 4,      /* the engine failed, not the example's fault */
} ruletest_verdict;

typedef struct ruletest_result {
    const rules_example *ex;
    ruletest_verdict verdict;
    const match_result *matches; /* the rules and brands that fired; NULL
                                    when rejected or on error. Valid only
                                    during the report callback. */
    const char *reason;          /* REJECTED / ERROR: the engine's reason */
} ruletest_result;

typedef struct ruletest_summary {
    size_t passed;
    size_t failed; /* every verdict but RULETEST_PASS */
} ruletest_summary;

/* Called once per failing example (per example when all is set), in the
 * ruleset's example order. */
typedef void (*ruletest_report_fn)(const ruleset *rs, const ruletest_result *res,
                                   void *opaque);

/* Runs every example of rs. Returns 0 with *sum filled (failures are not an
 * error), or -1 with err set when earshot itself could not run them (out of
 * memory); *sum then counts the examples run so far. */
int ruletest_run(const ruleset *rs, bool all, ruletest_report_fn report,
                 void *opaque, ruletest_summary *sum, char *err, size_t err_size);

/* One line (with "\n") for a failure, in the loader's error style:
 *   FILE:LINE:COL: rule 'ID' example should match but did not: "TEXT"; rules
 *   that fired: a, b
 * ("should not match but did", or "could not be classified: REASON").
 * TEXT is JSON-escaped; an object example is printed as its compact JSON. */
void ruletest_print_line(FILE *out, const ruleset *rs, const ruletest_result *res);

/* The example itself as printed in those lines: "TEXT" (escaped) or the
 * post's compact JSON. */
void ruletest_print_example(FILE *out, const rules_example *ex);

/* ", "-separated ids of the rules (brands with brands set) that fired, or
 * "none"; notes when the match list was cut at its cap. */
void ruletest_print_fired(FILE *out, const ruleset *rs, const match_result *m,
                          bool brands);

#endif
