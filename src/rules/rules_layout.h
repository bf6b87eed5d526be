/*
 * rules_layout: the compiled form of a ruleset, the contract between
 * src/rules (which builds it) and src/match (which reads it on the hot
 * path). It holds no loader state and needs no JSON library: the loader's
 * private working state is rules_internal.h, which only src/rules includes.
 *
 * Shape of the compiled form (all arrays are owned by the ruleset and
 * immutable after ruleset_load()):
 *
 *   pattern  one Hyperscan expression (its id is its index). Identical
 *            normalised patterns with identical flags are one pattern, however
 *            many brands and rules use them.
 *   node     a rule's boolean tree, flattened: a leaf tests one pattern, a
 *            group holds n_all + n_any + n_not child node indices, stored
 *            contiguously in child[first..].
 *   pat_rule_off/pat_rules   pattern -> rules that use it OUTSIDE any "not"
 *            (CSR layout). Only those rules can fire when the pattern hits,
 *            because the loader refuses groups made of "not" alone: every
 *            satisfiable rule needs one positive hit, so the matcher
 *            evaluates only the rules reached from the patterns that hit.
 *   pat_brand_off/pat_brands pattern -> (brand << 1 | is_exclusion).
 *
 * Readers outside src/match (tests that scan with the ruleset's own
 * database, the bench's raw floor) may include this header to read the
 * compiled form; nothing outside src/rules may write it.
 *
 * Thread-safety: none needed; the structure is read-only once built
 * (refs is the only field that changes, atomically).
 * Cost: the matcher touches pat_* and nodes per hit; see match.c.
 */
#ifndef EARSHOT_RULES_LAYOUT_H
#define EARSHOT_RULES_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "base/base_hash.h"
#include "rules/rules.h"

#define RULES_NO_PATTERN UINT32_MAX
#define RULES_BOUND_START 1
#define RULES_BOUND_END 2
/* Bounded phrases up to this many bytes carry \b in the expression
 * instead of a check per hit (rules_compile.c says why). */
#define RULES_SHORT_LITERAL 1

/* Hyperscan's \b word characters (ASCII only, as without HS_FLAG_UCP). */
static inline int rules_is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Model signal ids (rules_model.c): none. */
#define RULES_NO_MODEL UINT32_MAX

/* Lexicon roles (rules_lexicon.c). A pattern has at most one. */
#define RULES_NO_LEX UINT32_MAX
enum {
    RULES_LEX_TERM = 0,        /* a weighted term: valence */
    RULES_LEX_NEGATOR = 1,     /* flips the terms in the window after it */
    RULES_LEX_INTENSIFIER = 2, /* strengthens the term right after it */
    RULES_LEX_CONTRAST = 3,    /* "but": weighs what follows it over what precedes */
};

typedef struct rules_lex {
    float valence;     /* RULES_LEX_TERM only */
    uint8_t kind;      /* RULES_LEX_* */
    uint8_t sarcastic; /* a positive term that turns negative when the rest
                          of the post is ("thanks for ... two hours") */
    uint8_t pad[2];
} rules_lex;

typedef struct rules_node {
    uint32_t pattern; /* leaf: pattern id; group: RULES_NO_PATTERN */
    uint32_t first;   /* group: first child index in ruleset.child */
    uint16_t n_all;
    uint16_t n_any;
    uint16_t n_not;
} rules_node;

/* Field predicates of a rule ("when"). */
typedef struct rules_when {
    uint32_t lang_first, n_lang;     /* into ruleset.langs */
    uint32_t brand_first, n_brand;   /* into ruleset.when_brands */
    int64_t min_followers;           /* -1: no predicate */
    int8_t retweet;                  /* -1: any, 0: must not be, 1: must be */
} rules_when;

struct ruleset {
    atomic_uint refs;

    size_t n_brands;
    rules_brand *brands;
    size_t n_rules;
    rules_rule *rules;
    uint32_t *rule_root;   /* per rule: its root group node */
    rules_when *rule_when; /* per rule */

    char **langs;          /* lower-case language tags */
    size_t n_langs;
    uint32_t *when_brands; /* brand indices */
    size_t n_when_brands;

    rules_node *nodes;
    size_t n_nodes;
    uint32_t *child;
    size_t n_child;

    uint32_t n_patterns;
    /* Word boundaries of phrase patterns, checked by the matcher on each hit
     * (see rules_compile.c for why not \b): the literal's byte length and
     * which ends need a non-word neighbour. */
    uint32_t *pat_len;
    uint8_t *pat_bound; /* RULES_BOUND_* */
    uint32_t *pat_rule_off; /* n_patterns + 1 */
    uint32_t *pat_rules;
    uint32_t *pat_brand_off; /* n_patterns + 1 */
    uint32_t *pat_brands;
    uint32_t *pat_lex;       /* per pattern: index into lex, or RULES_NO_LEX */
    rules_lex *lex;
    uint32_t n_lex;
    rules_lexicon lexicon;

    /* A trained model (rules_model.c), or NULL. */
    struct model *model;
    polarity *model_pol;    /* per model class */
    bool model_has_praise;  /* a class of it means praise */
    uint32_t *rule_model;   /* per rule: its "rule:ID" signal id, or none */
    uint32_t model_lexneg, model_lexpos; /* "lexicon:negative|positive" */

    /* Hashtag vocabulary (rules_vocab.c): the words of every phrase term,
     * NUL-separated, and an open-addressing index over them (slot: offset
     * into vocab + 1, 0 empty) keyed by rules_vocab_hash. */
    char *vocab;
    size_t vocab_len;
    uint32_t *vocab_slots;
    uint64_t *vocab_hashes;
    size_t vocab_mask;   /* slots - 1 (a power of two minus one) */
    uint32_t vocab_max;  /* longest word, bytes */

    hs_database_t *db;
    uint64_t digest;
    char version[17];
    rules_stats stats;

    /* Examples: rules_load.c stores them, src/ruletest/ runs them. Their
     * file pointers are bound to files[] at the end of every load, parsed or
     * from a snapshot (rules_load.c): a snapshot is keyed by the files'
     * names and bytes, not by the directory they were read from. */
    rules_example *examples;
    uint32_t *example_file; /* per example: its file's load-order index */
    size_t n_examples;
    char **files;           /* "DIR/NAME.json" in load order; only kept when
                               there are examples (strings in strs) */
    size_t n_files;

    char **strs; /* every string the ruleset owns (ids, names, tags, langs) */
    size_t n_strs, cap_strs;
};

/* ---- rules_vocab.c ---- */
#define RULES_VOCAB_HASH0 BASE_FNV_OFFSET
/* One byte of base_fnv1a, so a caller can hash a word while extending it. */
static inline uint64_t rules_vocab_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * BASE_FNV_PRIME;
}
/* Is s[0..len) (hashed to h with rules_vocab_step) a vocabulary word? */
bool rules_vocab_has(const ruleset *rs, uint64_t h, const char *s, size_t len);
#endif
