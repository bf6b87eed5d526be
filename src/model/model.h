/*
 * model: a linear text classifier whose every feature is something the
 * matcher can find in a post: the tokeniser, training (with stratified
 * cross-validation), the model file, and the scorer.
 *
 * Tokeniser (model_features, MODEL_TOKENIZER names this exact definition;
 * change the string when the definition changes):
 *   1-2. text_normalize (src/text), the engine's own normal form: HTML
 *      references decoded once (&amp;lt; is "&lt;"), NFKD, case folded,
 *      marks stripped, ...
 *   3. White space runs (SP \t \n \r \f \v) become one space, as the
 *      matcher does before scanning (src/match/match.c).
 *   4. The squeezed text is read left to right:
 *      - a URL, "http://" or "https://" not preceded by a word character, up
 *        to the next space, is one feature "<url>" and nothing else;
 *      - a handle, '@' not preceded by a word character and followed by one,
 *        with the word characters after it, is one feature "@user" and
 *        nothing else (handles are data set specific: a model must not learn
 *        brand accounts);
 *      - a word, a maximal run of [a-z0-9_], is a token; digits are kept as
 *        written ("24", "7" in "24/7"): a literal number is servable as a
 *        phrase, and --min-count drops the rare ones;
 *      - a non-ASCII code point (emoji, CJK, Cyrillic, ...) is a token of its
 *        own, so "😡😡" is the token "😡" twice;
 *      - a word right after '#' also yields the feature "#word" (the hashtag
 *        as written) besides the token "word";
 *      - everything else (ASCII punctuation, the space) separates tokens.
 *      Features: every token (unigram), and every two consecutive tokens
 *      separated by exactly one space, written "t1 t2" (bigram). Handles and
 *      URLs are not tokens: no bigram spans them.
 *   Each feature is then a literal of the normalised, squeezed text, and
 *   the literal, searched with a word boundary at each end that is a word
 *   character (the rules' phrase semantics), occurs exactly where the
 *   tokeniser emitted it, with one exception the server must handle: inside
 *   a handle or a URL the tokeniser emits nothing, so a hit that starts
 *   inside `\B@[a-z0-9_]+` or `\bhttps?://[^ ]*` must be dropped. "@user"
 *   and "<url>" (model_ngram_kind) are served by those two patterns.
 *
 * Model: multinomial logistic regression (softmax) over binary presence,
 * each feature scaled by its smooth IDF, ln((1+N)/(1+df))+1, and the
 * post's vector L2-normalised over the model's features present (TF-IDF
 * with binary TF; the norm needs only the set of hits, so it is servable).
 * Softmax rather than one-vs-rest: one optimisation for any number of
 * classes and probabilities that sum to 1; for two classes it is binary LR.
 * Objective: sum over posts of the cross-entropy, each post weighted
 * n / (classes x posts of its class) when balanced (the default: without
 * it the minority class's recall is traded for majority accuracy; complaint
 * F1 0.70 -> 0.75 on the complaints set), + l2/2 * |W|^2 (biases not
 * penalised), minimised by full-batch L-BFGS: deterministic (no sampling,
 * sums in a fixed order); the seed only shuffles the folds.
 * After training, at most max_features n-grams are kept (largest
 * max over classes of |w * idf|) and the model is trained again on exactly
 * those, so the norm at serving time counts what training counted.
 *
 * Model file: JSON, see model_file.c for the layout; model_load validates it
 * and reports FILE:LINE:COL.
 *
 * Thread-safety: a model is immutable after model_train/model_load and may
 * be shared by threads; a model_fx and a model_data are used by one thread
 * at a time. Cost (this 2-core machine): reading and tokenising ~15 us a tweet;
 * training is O(iterations x nonzeros x classes): 3.4k tweets 0.16 s, 17k
 * 1.1 s, 5-fold cross-validation 5x that; model_score is O(ids x classes).
 */
#ifndef EARSHOT_MODEL_H
#define EARSHOT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MODEL_TOKENIZER                                                        \
    "earshot-tok/2 normalize,squeeze; tokens=[a-z0-9_]+|non-ASCII " \
    "code point; features=unigram,bigram(one space),#tag,@user,<url>"
#define MODEL_NORMALIZER "earshot-text/2 html-refs,nfkd,casefold,stripmark,ignorable,lump"
#define MODEL_NORM "binary,idf,l2"

/* ---- tokeniser -------------------------------------------------------- */

typedef struct model_fx model_fx;

model_fx *model_fx_new(void);
void model_fx_free(model_fx *fx);

/* Called once per feature occurrence, in text order (a feature seen twice is
 * reported twice). feat is not NUL-terminated and is valid during the call.
 * Return non-zero to stop. */
typedef int (*model_feature_fn)(void *ctx, const char *feat, size_t len);

/* Tokenises text (valid UTF-8, as post_parse delivers). Returns 0, 1 when fn
 * stopped it, -1 when text is not valid UTF-8 or memory ran out. */
int model_features(model_fx *fx, const char *text, size_t len,
                   model_feature_fn fn, void *ctx);
/* The same for text already in the normal form (text_normalize's output,
 * as the matcher holds it): steps 3-4 only. model_features(text) and
 * model_features_norm(normal form of text) report the same features. */
int model_features_norm(model_fx *fx, const char *norm, size_t len,
                        model_feature_fn fn, void *ctx);


/* ---- labelled data ---------------------------------------------------- */

/* Posts reduced to their sets of features, with a class each. Feature
 * strings are interned once for the whole data set. */
typedef struct model_data model_data;

/* classes: names, in the order the model will use. */
model_data *model_data_new(const char *const *classes, size_t n_classes);
void model_data_free(model_data *d);

/* Adds one post of class cls. Returns 0, -1 on invalid UTF-8 or OOM. */
int model_data_add(model_data *d, model_fx *fx, const char *text, size_t len,
                   uint32_t cls);

/* The same with signal features beside the text's: what the rules engine
 * found in the post ("rule:ID" per fired rule, "lexicon:negative" or
 * "lexicon:positive"; model_ngram_kind MODEL_NGRAM_SIGNAL), so a model can
 * learn how far to trust each rule. The server adds them where the same
 * rules fire. */
int model_data_add_signals(model_data *d, model_fx *fx, const char *text, size_t len,
                           const char *const *signals, size_t n_signals, uint32_t cls);
size_t model_data_posts(const model_data *d);
uint32_t model_data_class(const model_data *d, size_t post);
size_t model_data_class_count(const model_data *d, uint32_t cls);

/* ---- training --------------------------------------------------------- */

typedef struct model model;

typedef struct model_train_opts {
    double l2;           /* penalty on |W|^2/2, default 1.0 */
    unsigned epochs;     /* L-BFGS iterations at most, default 200 */
    size_t min_count;    /* a feature must occur in this many posts, default 2 */
    size_t max_features; /* default 5000: each n-gram is a pattern of the
                            serving scan (README, Training a model) */
    uint64_t seed;       /* shuffles the folds, default 1 */
    int balanced;        /* weigh classes equally in the loss, default 1 */
} model_train_opts;

void model_train_opts_default(model_train_opts *o);

/* Trains on every post. train_probs, when not NULL, receives each post's
 * class probabilities under the final weights, as the optimiser computed
 * them ([posts x classes]). Returns NULL and fills err when there are fewer
 * than two classes with posts, no feature passes min_count, or memory ran
 * out. */
model *model_train(const model_data *d, const model_train_opts *o,
                   double *train_probs, char *err, size_t err_size);

/* Stratified k-fold cross-validation: posts are shuffled per class with the
 * seed and dealt to folds in turn; each fold is predicted by a model trained
 * (vocabulary, IDF, pruning included) on the other folds. Writes the
 * out-of-fold predicted class of each post to pred[model_data_posts(d)]
 * and, when probs is not NULL, its class probabilities to
 * probs[posts x classes]. Returns 0, -1 with err. */
int model_cross_validate(const model_data *d, const model_train_opts *o,
                         size_t folds, uint32_t *pred, double *probs,
                         char *err, size_t err_size);

/* ---- the model -------------------------------------------------------- */

typedef enum model_ngram_kind {
    MODEL_NGRAM_PHRASE = 0, /* a literal, word bounded at word-character ends */
    MODEL_NGRAM_HANDLE = 1, /* "@user": any handle */
    MODEL_NGRAM_URL = 2,    /* "<url>": any http(s) URL */
    MODEL_NGRAM_SIGNAL = 3, /* "rule:ID", "lexicon:negative|positive": what
                               the rules engine found (never a text token:
                               ':' separates tokens) */
} model_ngram_kind;

void model_free(model *m);

size_t model_class_count(const model *m);
const char *model_class(const model *m, size_t cls);
/* Feature ids are indices into this list, sorted bytewise. */
size_t model_ngram_count(const model *m);
const char *model_ngram(const model *m, size_t id); /* NUL-terminated */
model_ngram_kind model_ngram_kind_of(const model *m, size_t id);
/* The id of a feature string, or -1 when the model does not have it. */
long model_ngram_find(const model *m, const char *feat, size_t len);
/* 16 hex digits: a digest of everything that decides a score. */
const char *model_version(const model *m);

/* Class probabilities (softmax, summing to 1) into out[model_class_count]
 * for the feature ids present, ids[0..n): distinct (a repeated id counts
 * twice), in any order; an id out of range is ignored. Returns the best
 * class (the first of equals). */
uint32_t model_score(const model *m, const uint32_t *ids, size_t n,
                     double *out);

/* The model ids of the features in text, distinct, ascending; returns how
 * many (at most cap are written), -1 on invalid UTF-8 / OOM. */
long model_text_ids(const model *m, model_fx *fx, const char *text,
                    size_t len, uint32_t *ids, size_t cap);

/* The same for text already in the normal form, ids in first-seen order
 * (not sorted): what the matcher serves a model with. */
long model_norm_ids(const model *m, model_fx *fx, const char *norm, size_t len,
                    uint32_t *ids, size_t cap);
typedef struct model_contrib {
    uint32_t id;
    double value; /* x_j * (w_j,cls - mean over classes of w_j): > 0 pushes
                     towards cls, and the values over the ids plus the bias
                     term add up to the class's centred logit */
} model_contrib;

/* The k features of ids that moved the decision for cls most, by |value|
 * (ties by id). Returns how many were written. */
size_t model_explain(const model *m, const uint32_t *ids, size_t n,
                     uint32_t cls, model_contrib *out, size_t k);

/* ---- model file --------------------------------------------------------- */

/* Writes the model as JSON. training is an object (posts, seed, ...) stored
 * as given under "training", borrowed; NULL writes {}. The same model and
 * training give the same bytes. Returns 0, -1 with err. */
int model_save(const model *m, const char *path, const json_t *training,
               char *err, size_t err_size);

/* Loads and validates a model file. Errors read "PATH:LINE:COL: what; fix". */
model *model_load(const char *path, char *err, size_t err_size);
/* The same for bytes already read (path names them in errors). */
model *model_load_buffer(const char *path, const char *buf, size_t len, char *err,
                         size_t err_size);

#endif
