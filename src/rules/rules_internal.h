/*
 * rules_internal: the loader's private header, included only inside
 * src/rules. It holds the working state of one load (rules_ld: the JSON
 * tree's positions, the id maps, the patterns before compilation) and the
 * functions the loader's files share: parse (rules_load.c and the per-kind
 * files), compile (rules_compile.c), cache and snapshot (rules_cache.c,
 * rules_snapshot.c), and the orchestration between them (ruleset.c).
 *
 * The compiled form that src/match reads is rules_layout.h, included here.
 *
 * Thread-safety: a rules_ld belongs to the one thread running the load.
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
#include "rules/rules_layout.h"

/* Grow *p (an array of elsize-byte items, *cap items allocated) so that it
 * holds at least need items. 0, or -1 when memory ran out. */
int rules_vec_reserve(void *p, size_t *cap, size_t need, size_t elsize);

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

/* ---- rules_dir.c ---- */
/* The *.json names of ld->dir, sorted; ld->err when none or unreadable. */
int rules_ld_list_dir(rules_ld *ld, char ***names, size_t *n);
/* ld->paths = "DIR/NAME" for each name (freed with ld). */
int rules_ld_set_paths(rules_ld *ld, char *const *names, size_t n);
/* One rule file's bytes (bounded, regular files only). 0, or -1 with ld->err. */
int rules_ld_read(rules_ld *ld, const char *path, char **buf, size_t *len);
/* The digest rules_ld_file computes, without parsing: the snapshot key. */
int rules_ld_files_digest(rules_ld *ld, char *const *names, size_t n, uint64_t *digest);

/* ---- rules_load.c ---- */
/* Parse ld->paths[ld->file] (named name) into ld->rs. 0, or -1 with ld->err. */
int rules_ld_file(rules_ld *ld, const char *name);
/* Resolve "when.brands" names once every file is read. 0, or -1 with ld->err. */
int rules_ld_resolve(rules_ld *ld);

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

/* ---- rules_vocab.c (rules_vocab_has is in rules_layout.h) ---- */
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
