/*
 * rules: rule files (JSON, edited by care analysts) -> one immutable, compiled
 * ruleset: brands, labelled rules and the Hyperscan database that finds their
 * terms.
 *
 * A rules directory holds *.json files, loaded in name order. Each file is an
 * object with optional "brands" and "rules" arrays:
 *
 *   {"brands": [{"id": "comcast", "name": "Comcast",
 *                "aliases": ["comcast", "xfinity"],      phrases, word-bounded
 *                "handles": ["@comcast", "@comcastcares"],
 *                "hashtags": ["#comcast"],
 *                "misspellings": ["comcats"],
 *                "exclude": ["comcast center"]}],        phrases that do not count
 *    "rules": [{"id": "wait.on_hold",                    stable, unique
 *               "tag": "wait_time",                      the label it adds
 *               "polarity": "complaint",                 optional: complaint|praise|question
 *               "severity": 30,                          optional 0..100, default 0
 *               "all": [TERM...], "any": [TERM...], "not": [TERM...],
 *               "when": {"lang": ["en"], "min_followers": 100,
 *                        "retweet": false, "brands": ["comcast"]},
 *               "examples": {"match": [EX...], "no_match": [EX...]}}]}
 *
 *   TERM is a phrase string (matched on normalised text, \b at each end that
 *   is a word character), {"regex": "..."} (Hyperscan syntax, on normalised
 *   text) or a nested {"all"|"any"|"not": [...]} group. A rule needs at least
 *   one positive term; "not" alone is refused.
 *
 * A file may also hold a "lexicon" (weighted terms and their modifiers,
 * rules_lexicon.c; scored by match), rules may carry "examples" (run by
 * src/ruletest), and a file whose object has "earshot_model" is a trained
 * model (rules_model.c; served by match). All of them are covered by the
 * version digest and loaded, cached and reloaded as one ruleset.
 *
 *   EX is a post's text (a non-empty string) or a whole post object in any
 *   input shape the engine accepts (for rules with "when" predicates). The
 *   loader only stores examples; src/ruletest/ runs them (`earshot
 *   check-rules`, `earshot test-rules`).
 *
 * Brand semantics: a brand is mentioned when its alias/handle/hashtag/
 * misspelling hits outnumber its exclusion hits (so "Comcast Center" alone
 * does not count, "Comcast Center ... comcast is down" does).
 *
 * Errors: ruleset_load() returns NULL and fills err with
 * "FILE:LINE:COL: what is wrong and what to do" (jansson positions for JSON
 * errors; the position of the offending object for semantic ones), or
 * "rule ID: pattern '...' does not compile: REASON" for Hyperscan failures.
 *
 * Thread-safety: a ruleset is immutable after ruleset_load() and may be read
 * by any number of threads. It is reference counted so that a reload can swap
 * it while workers still finish posts on the old one.
 */
#ifndef EARSHOT_RULES_H
#define EARSHOT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum polarity {
    POLARITY_NEUTRAL = 0,
    POLARITY_PRAISE = 1,
    POLARITY_QUESTION = 2,
    POLARITY_COMPLAINT = 3,
} polarity;

const char *polarity_name(polarity p);

typedef struct rules_brand {
    const char *id;   /* e.g. "comcast" */
    const char *name; /* e.g. "Comcast" */
} rules_brand;

typedef struct rules_rule {
    const char *id;  /* stable rule id */
    const char *tag; /* label it adds, e.g. "wait_time" */
    polarity polarity;
    int severity;    /* 0..100 */
} rules_rule;

/* One example post a rule file gives for a rule: with the whole ruleset,
 * the post must make the rule fire (expect_match) or must not. */
typedef struct rules_example {
    uint32_t rule;     /* index of its rule (ruleset_rule()) */
    bool expect_match; /* listed under "match" (true) or "no_match" */
    bool is_post;      /* text is a whole post (compact JSON object), not a
                          post's text */
    const char *text;  /* NUL-terminated, len bytes */
    size_t len;
    const char *file;  /* "DIR/NAME.json", as in the loader's errors */
    int line, col;     /* where the example starts */
} rules_example;

typedef struct rules_stats {
    size_t n_files;
    size_t n_brands;
    size_t n_rules;
    size_t n_patterns;  /* distinct Hyperscan expressions */
    double compile_s;   /* wall time spent in hs_compile_multi (0 on a cache hit) */
    size_t db_bytes;    /* hs_database_size */
    /* Added with the compiled-rule cache (keep new fields at the end). */
    double load_s;      /* wall time of the whole ruleset_load*() call */
    double parse_s;     /* reading + validating the JSON files, term index */
    double cache_s;     /* hit: read + check + deserialise; miss: serialise +
                           write + evict; 0 without a cache */
    bool from_cache;    /* the database came from the cache */
} rules_stats;

typedef struct ruleset ruleset;

/* The lexicon's scoring settings (rules_lexicon.c; README "Lexicon"). The
 * matcher scores a post's lexicon hits into a valence; enrich turns a
 * valence of at least threshold in size into weight points per unit of
 * complaint (negative) or praise (positive) evidence. */
typedef struct rules_lexicon {
    bool present;               /* some rule file has a "lexicon" */
    double threshold;           /* |valence| below this is ignored (1.5) */
    double weight;              /* polarity score per valence unit (10) */
    uint32_t negation_window;   /* words a negator reaches forward (3) */
    double negation_factor;     /* a negated term's valence times this (-0.75) */
    double intensifier_factor;  /* a term right after an intensifier (1.3) */
    double contrast_before;     /* terms before the last contrast word (0.5) */
    double contrast_after;      /* terms after it (1.5) */
    double sarcasm_threshold;   /* sarcastic terms turn negative when the
                                   rest of the post sums to -this or less (2) */
    bool complaint_needs_target; /* a post that @-mentions no account and
                                   names no brand is not a complaint (false) */
    double shout_factor;        /* valence times this when the post shouts:
                                   60% capitals or "!!!" (1: off) */
    size_t n_terms;             /* weighted terms (not counting modifiers) */
} rules_lexicon;

/* Load every *.json file in dir and compile. NULL + err on failure.
 * Same as ruleset_load_opts(dir, NULL, ...): no cache. */
ruleset *ruleset_load(const char *dir, char *err, size_t err_size);

/* ---- compiled-rule cache (rules_cache.c, rules_snapshot.c) ----
 * A directory of two kinds of entry. A snapshot (*.rset) is a whole loaded
 * ruleset keyed by the rule files' bytes (plus the executable, Hyperscan
 * version and CPU platform): unchanged files load with no parsing at all.
 * Otherwise the files are parsed and validated, and the Hyperscan database
 * (*.hsdb) is keyed by the compiler's input (every term's expression and
 * flags), so edits that change no term (a severity, a name) still skip
 * hs_compile_multi. What each level saves for 100k generated rules is
 * measured by bench/run (README, "Benchmarks"), not kept here. A corrupt,
 * truncated or stale entry is reported in warn and rebuilt; cache trouble
 * never fails a load. */
#define RULES_CACHE_MAX_DEFAULT ((uint64_t)256 << 20)

/* One rule file may not be larger than this; a larger one fails the load.
 * A trained model (earshot train) is the largest kind of rule file: tens of
 * MB for a big vocabulary. 256 MiB is far past any real one and still
 * bounds what a mistaken file (a growing log, a dump) can make a load
 * allocate, twice over while jansson holds its tree. Rule and cache files
 * are read with base_file (base/base_file.h): a FIFO, a device or a
 * directory under a rule's name fails the load instead of hanging it. */
#define RULES_FILE_MAX_MIB 256
#define RULES_FILE_MAX ((size_t)RULES_FILE_MAX_MIB << 20)

typedef struct rules_load_opts {
    const char *cache_dir;    /* NULL: compile every time */
    uint64_t cache_max_bytes; /* bound on the entries' total size; 0: default */
    bool *cache_hit;          /* out, may be NULL: the db came from the cache */
    char *warn;               /* out, may be NULL: "" or what went wrong with */
    size_t warn_size;         /* the cache ("rules cache: ...; rebuilt it") */
    bool no_snapshot;         /* cache only the Hyperscan database, not the whole
                                 parsed ruleset (tests of the database layer) */
    bool no_model;            /* leave out a model file in the directory (eval
                                 and classify --no-model: the rules alone) */
} rules_load_opts;

/* ruleset_load with options; opts may be NULL. Errors as ruleset_load. */
ruleset *ruleset_load_opts(const char *dir, const rules_load_opts *opts,
                           char *err, size_t err_size);

/* The default cache directory: "$EARSHOT_CACHE/rules", else
 * "$HOME/.cache/earshot/rules". 0, or -1 when neither variable is set or buf
 * is too small. The directory is created on the first write. */
int rules_cache_default_dir(char *buf, size_t size);

/* The version the files in dir would get, without parsing or compiling
 * them (reads and hashes the bytes: cheap). Lets a reload skip a directory
 * whose files did not change. 0, or -1 with err (unreadable directory). */
int rules_dir_version(const char *dir, char *version, size_t version_size,
                      char *err, size_t err_size);

/* Reference counting; ruleset_load() returns a ruleset with one reference. */
ruleset *ruleset_ref(ruleset *rs);
void ruleset_unref(ruleset *rs);

size_t ruleset_brand_count(const ruleset *rs);
const rules_brand *ruleset_brand(const ruleset *rs, size_t i);
size_t ruleset_rule_count(const ruleset *rs);
const rules_rule *ruleset_rule(const ruleset *rs, size_t i);
/* The rule files' examples, in file and rule order ("match" before
 * "no_match" within a rule). NULL when i is out of range. */
size_t ruleset_example_count(const ruleset *rs);
const rules_example *ruleset_example(const ruleset *rs, size_t i);
/* A short hex digest of the rule files' content, e.g. "3f2a9c01d4e5". */
const char *ruleset_version(const ruleset *rs);
rules_stats ruleset_stats(const ruleset *rs);
const rules_lexicon *ruleset_lexicon(const ruleset *rs);

/* The trained model loaded from the rules directory (a file with
 * "earshot_model", README "Training a model"), or NULL; its classes as
 * polarities. Its n-grams are terms of the ruleset's database. */
struct model;
const struct model *ruleset_model(const ruleset *rs);
polarity ruleset_model_polarity(const ruleset *rs, uint32_t cls);
/* Whether one of its classes means praise (a complaint / not_complaint
 * model has none: its "not" settles complaints only). */
bool ruleset_model_has_praise(const ruleset *rs);

#endif
