/*
 * rules_internal: the layout of a compiled ruleset, shared by rules/ (which
 * builds it) and match/ (which reads it on the hot path). Nothing outside
 * those two modules may include this header.
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
 * Thread-safety: none needed; the structure is read-only once built.
 */
#ifndef EARSHOT_RULES_INTERNAL_H
#define EARSHOT_RULES_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>
#include <jansson.h>

#include "base/base_file.h"
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

/* Grow *p (an array of elsize-byte items, *cap items allocated) so that it
 * holds at least need items. 0, or -1 when memory ran out. */
int rules_vec_reserve(void *p, size_t *cap, size_t need, size_t elsize);

/* ---- reading files the loader and the cache did not write themselves ----
 * A rules directory or a cache directory may hold anything a name can:
 * a FIFO (open(2) blocks until a writer comes, forever), a device or a
 * symlink to one (/dev/zero never ends), a directory. Both readers go
 * through these two helpers, so neither can hang or be made to allocate
 * without bound. */

/* One rule file may not be larger than this. A trained model
 * (earshot train) is the largest kind of rule file: tens of MB for a big
 * vocabulary. 256 MiB is far past any real one and still bounds what a
 * mistaken file (a growing log, a dump) can make a load allocate, twice
 * over while jansson holds its tree. */
#define RULES_FILE_MAX_MIB 256
#define RULES_FILE_MAX ((size_t)RULES_FILE_MAX_MIB << 20)

/* Error messages quote the analyst's strings (terms, ids, keys) cut to
 * this many bytes: a 1 MB phrase quoted whole filled the caller's error
 * buffer and pushed out the reason and the fix. The position (FILE:LINE:COL)
 * already says which string it is; 80 bytes is enough to recognise it. */
#define RULES_QUOTE_MAX 80
typedef struct rules_quote_buf {
    char s[RULES_QUOTE_MAX + 4];
} rules_quote_buf;
/* s itself when it fits, else its first RULES_QUOTE_MAX bytes or fewer
 * (never half a UTF-8 character) and "..." in q. One q per quoted string
 * of a message. */
const char *rules_quote(rules_quote_buf *q, const char *s);

/* Source positions of the values and keys of one parsed JSON document,
 * recovered by re-scanning the raw bytes alongside the jansson tree (jansson
 * keeps no positions after a successful load). Lines and columns follow
 * jansson's convention: 1-based, columns count UTF-8 characters. */
typedef struct rules_pos {
    const void *node; /* the value, or the object for a key entry */
    const char *key;  /* jansson's own key pointer for a key entry, else NULL */
    uint32_t line, col;
} rules_pos;

typedef struct rules_posmap {
    rules_pos *v;
    size_t n, cap;
} rules_posmap;

/* buf must be the exact bytes root was loaded from. 0, or -1 on OOM. */
int rules_posmap_build(rules_posmap *pm, const char *buf, size_t len,
                       json_t *root);
void rules_posmap_free(rules_posmap *pm);
/* Position of a value (not available for true/false/null, which jansson
 * shares between documents). */
bool rules_posmap_value(const rules_posmap *pm, const json_t *v,
                        int *line, int *col);
/* Position of the key string of obj[key]. */
bool rules_posmap_key(const rules_posmap *pm, const json_t *obj,
                      const char *key, int *line, int *col);


/* ---- load-time only: the loader's working state (rules_load.c builds the
 * ruleset from JSON, rules_compile.c turns its patterns into a database). */

struct text_norm;

typedef struct rules_ld_pattern {
    char *expr;       /* the Hyperscan expression */
    char *term;       /* the term as the analyst wrote it, for messages */
    unsigned flags;   /* without HS_FLAG_SINGLEMATCH */
    bool all_matches; /* used by a brand, which counts hits: no SINGLEMATCH */
    uint8_t bound;    /* RULES_BOUND_* for phrases */
    uint32_t lit_len; /* phrases: byte length of the literal */
    uint32_t file;    /* first use, for error messages */
    int line, col;
    bool by_brand;
    uint32_t owner;   /* brand or rule index of the first use; UINT32_MAX:
                         the lexicon */
    uint32_t lex;     /* lexicon entry, or RULES_NO_LEX */
} rules_ld_pattern;

typedef struct rules_ld_loc {
    uint32_t file;
    int line, col;
} rules_ld_loc;

typedef struct rules_ld_when_brand {
    uint32_t rule;   /* rule index */
    uint32_t slot;   /* index into ruleset.when_brands to fill */
    char *name;      /* the brand id as written */
    rules_ld_loc loc;
} rules_ld_when_brand;

typedef struct rules_ld {
    ruleset *rs;
    char *err;
    size_t err_size;
    const char *dir;
    struct text_norm *tn;

    char **paths; /* "DIR/NAME.json", in load order */
    size_t n_paths, cap_paths;
    uint32_t file; /* index of the file being read */
    rules_posmap pm;

    base_map brand_ids, rule_ids, pat_ids;
    rules_ld_pattern *pats; /* rs->n_patterns of them */
    size_t cap_pats;
    rules_ld_loc *brand_loc, *rule_loc;
    size_t cap_brand_loc, cap_rule_loc;
    uint32_t *brand_refs; /* pairs: pattern, brand << 1 | is_exclusion */
    size_t n_brand_refs, cap_brand_refs;
    rules_ld_when_brand *wb;
    size_t n_wb, cap_wb;

    size_t cap_brands, cap_rules, cap_langs, cap_when_brands, cap_nodes,
        cap_child, cap_examples, cap_example_file;
    rules_ld_loc *lex_loc; /* per lexicon entry, for duplicate errors */
    size_t cap_lex, cap_lex_loc;
    uint32_t lex_settings_file; /* UINT32_MAX until a file sets them */
    uint32_t model_file;        /* the file the model came from */
    bool model_skipped;         /* opts->no_model left one out */
    char lex_settings_at[24];   /* "LINE:COL" of those settings */
    char *buf; /* scratch for building expressions */
    size_t buf_cap;
    const rules_load_opts *opts; /* never NULL (zeroed when the caller gave none) */
} rules_ld;

/* Format "FILE:LINE:COL: message" into ld->err. Returns -1. */
int rules_ld_fail(rules_ld *ld, uint32_t file, int line, int col,
                  const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Position of v, else of the key holding it in parent, else of parent. */
void rules_ld_where(rules_ld *ld, const json_t *v, const json_t *parent,
                    const char *key, int *line, int *col);
/* Refuse keys of obj outside allowed[] (NULL-terminated), suggesting the
 * nearest; what names the object. 0, or -1 with ld->err set. */
int rules_ld_check_keys(rules_ld *ld, json_t *obj, const char *const *allowed,
                        const char *what);

/* ---- rules_vocab.c ---- */
#define RULES_VOCAB_HASH0 0xcbf29ce484222325ULL
/* FNV-1a step, so a caller can hash a word while extending it. */
static inline uint64_t rules_vocab_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * 0x100000001b3ULL;
}
/* Is s[0..len) (hashed to h with rules_vocab_step) a vocabulary word? */
bool rules_vocab_has(const ruleset *rs, uint64_t h, const char *s, size_t len);
/* Build rs->vocab from the phrase patterns, then its index. 0 or -1 (OOM). */
int rules_ld_vocab(rules_ld *ld);
/* (Re)build the index over rs->vocab (also after a snapshot read). */
int rules_vocab_index(ruleset *rs);

/* ---- rules_examples.c ---- */
/* The "examples" of rule (object r, named what for messages). 0, or -1
 * with ld->err. */
int rules_ld_examples(rules_ld *ld, json_t *r, const char *what, uint32_t rule);
/* Point each example at this load's path for its file (after a snapshot
 * hit too). 0, or -1 (OOM or a bad file index). */
int rules_ld_bind_files(rules_ld *ld);

/* ---- rules_model.c ---- */
/* The model file being read (its bytes): load it and map its classes. 0,
 * or -1 with ld->err. */
int rules_ld_model(rules_ld *ld, const char *buf, size_t len);
int rules_ld_model_index(rules_ld *ld);

/* ---- rules_lexicon.c ---- */
void rules_lexicon_defaults(rules_lexicon *lx);
/* The "lexicon" object of the file being read. 0, or -1 with ld->err. */
int rules_ld_lexicon(rules_ld *ld, json_t *lexicon);
/* Fill rs->pat_lex once every pattern is known. 0, or -1 (OOM). */
int rules_ld_lexicon_index(rules_ld *ld);

/* Copy a string into the ruleset's ownership. NULL when out of memory. */
char *rules_strdup(ruleset *rs, const char *s, size_t len);

/* Intern the pattern for a phrase (normalised, escaped, word-bounded) or a
 * regex term. v locates the term for errors; owner names who uses it. Sets
 * *pat. 0, or -1 with ld->err set. */
int rules_ld_phrase(rules_ld *ld, const json_t *v, const char *s,
                    bool all_matches, bool by_brand, uint32_t owner,
                    const char *what, uint32_t *pat);
int rules_ld_regex(rules_ld *ld, const json_t *v, const char *s,
                   bool by_brand, uint32_t owner, const char *what,
                   uint32_t *pat);
/* ---- rules_cache.c ---- */
uint64_t rules_checksum(const void *data, size_t len);
uint64_t rules_cache_key(const char *const *exprs, const unsigned *flags,
                         const unsigned *ids, uint32_t n, unsigned mode);
/* 1 with *db set on a hit; 0 on a miss (warn says why when the entry was
 * there but unusable). */
int rules_cache_get(const char *dir, uint64_t key, uint32_t n_patterns,
                    hs_database_t **db, char *warn, size_t warn_size);
/* Best effort: failures only add to warn. */
void rules_cache_put(const char *dir, uint64_t max, uint64_t key,
                     uint32_t n_patterns, const hs_database_t *db, char *warn,
                     size_t warn_size);
/* The entry layer both kinds of entry share: a header (magic, format, key,
 * tag, payload length and checksum) and a payload, written atomically
 * (temp file + rename) under the directory's size bound. read: 1 with a
 * malloc'd *payload on a hit; 0 on a miss (warn says why when an entry was
 * there but unusable). write: best effort, failures only add to warn. */
int rules_cache_read(const char *dir, uint64_t key, const char *ext, uint32_t tag,
                     char **payload, size_t *len, char *warn, size_t warn_size);
void rules_cache_write(const char *dir, uint64_t max, uint64_t key, const char *ext,
                       uint32_t tag, const char *what, const void *bytes, size_t len,
                       char *warn, size_t warn_size);

/* ---- rules_snapshot.c ---- */
#define RULES_SNAPSHOT_EXT ".rset"
/* A whole loaded ruleset (metadata + database) keyed by the rule files'
 * digest: a restart with unchanged files skips parsing too. get: a complete
 * ruleset on a hit (refs 1, stats.from_cache), NULL on a miss. */
ruleset *rules_snapshot_get(const char *dir, uint64_t files_digest, size_t n_files,
                            char *warn, size_t warn_size);
void rules_snapshot_put(const char *dir, uint64_t max, const ruleset *rs,
                        char *warn, size_t warn_size);

/* Append "; "-separated to warn (NULL or 0 size: ignored). */
void rules_warn(char *warn, size_t warn_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Build the pattern -> rules/brands indices and the Hyperscan database. */
int rules_ld_compile(rules_ld *ld);
void rules_ld_patterns_free(rules_ld *ld);
void ruleset_free_parts(ruleset *rs);

#endif
