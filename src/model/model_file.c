/*
 * model_file: the model in memory (accessors, scorer, explanation) and on
 * disk (model_save, model_load).
 *
 * The file is JSON, one top-level key per line and one feature per line so
 * that a diff between two models reads as a list of n-grams that changed:
 *
 *   {"earshot_model": 1,            format version; this code reads 1
 *    "version": "16 hex digits",    FNV-1a of everything below but training
 *    "tokenizer": MODEL_TOKENIZER,  must equal this build's, or retrain
 *    "normalizer": MODEL_NORMALIZER,
 *    "norm": MODEL_NORM,
 *    "classes": ["complaint", ...], at least two, distinct
 *    "bias": [b per class],
 *    "features": [                  sorted bytewise, distinct; id = index
 *      ["ngram", idf, w per class],
 *      ...],
 *    "training": {...}}             what the caller recorded (posts, seed..)
 *
 * Numbers are written with 17 significant digits, which round-trip a
 * double exactly: a loaded model scores bit for bit like the trained one.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base_err.h"
#include "model/model_internal.h"

#define MODEL_FORMAT 1
#define MODEL_EMPTY UINT32_MAX

model *model_alloc(size_t n_classes, size_t n_ngrams)
{
    model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->n_classes = n_classes;
    m->n_ngrams = n_ngrams;
    m->classes = calloc(n_classes ? n_classes : 1, sizeof(char *));
    m->bias = calloc(n_classes ? n_classes : 1, sizeof(double));
    m->ngram = calloc(n_ngrams ? n_ngrams : 1, sizeof(char *));
    m->idf = calloc(n_ngrams ? n_ngrams : 1, sizeof(double));
    m->w = calloc(n_ngrams && n_classes ? n_ngrams * n_classes : 1, sizeof(double));
    if (!m->classes || !m->bias || !m->ngram || !m->idf || !m->w) {
        model_free(m);
        return NULL;
    }
    return m;
}

void model_free(model *m)
{
    if (!m)
        return;
    for (size_t c = 0; m->classes && c < m->n_classes; c++)
        free(m->classes[c]);
    for (size_t j = 0; m->ngram && j < m->n_ngrams; j++)
        free(m->ngram[j]);
    free(m->classes);
    free(m->bias);
    free(m->ngram);
    free(m->idf);
    free(m->w);
    free(m->slot);
    free(m);
}

static uint64_t file_hash_str(uint64_t h, const char *s)
{
    return base_fnv1a(h, s, strlen(s) + 1); /* the NUL separates fields */
}

static uint64_t file_hash_num(uint64_t h, double v)
{
    char b[40];
    int n = snprintf(b, sizeof(b), "%.17g", v);
    return base_fnv1a(h, b, (size_t)n + 1);
}

static uint64_t file_digest(const model *m)
{
    uint64_t h = MODEL_FNV_OFFSET;
    h = file_hash_str(h, MODEL_TOKENIZER);
    h = file_hash_str(h, MODEL_NORMALIZER);
    h = file_hash_str(h, MODEL_NORM);
    for (size_t c = 0; c < m->n_classes; c++) {
        h = file_hash_str(h, m->classes[c]);
        h = file_hash_num(h, m->bias[c]);
    }
    for (size_t j = 0; j < m->n_ngrams; j++) {
        h = file_hash_str(h, m->ngram[j]);
        h = file_hash_num(h, m->idf[j]);
        for (size_t c = 0; c < m->n_classes; c++)
            h = file_hash_num(h, m->w[j * m->n_classes + c]);
    }
    return h;
}

/* The lookup index's hash: 8 bytes a step (n-grams are short, and the
 * matcher hashes every word of every post), mixed by multiply and shift.
 * Only the index uses it; the file's digest stays FNV-1a. */
static uint64_t file_slot_hash(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        s += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, s, len);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    }
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

int model_finish(model *m)
{
    size_t n = 16;
    while (n < m->n_ngrams * 2)
        n *= 2;
    free(m->slot);
    m->slot = malloc(n * sizeof(*m->slot));
    if (!m->slot)
        return -1;
    for (size_t i = 0; i < n; i++)
        m->slot[i] = (struct model_slot){0, MODEL_EMPTY, 0};
    m->n_slots = n;
    for (size_t j = 0; j < m->n_ngrams; j++) {
        const char *f = m->ngram[j];
        size_t len = strlen(f);
        uint64_t fh = file_slot_hash(f, len);
        size_t h = (size_t)fh & (n - 1);
        while (m->slot[h].id != MODEL_EMPTY)
            h = (h + 1) & (n - 1);
        m->slot[h] = (struct model_slot){fh, (uint32_t)j, (uint32_t)len};
    }
    snprintf(m->version, sizeof(m->version), "%016llx",
             (unsigned long long)file_digest(m));
    return 0;
}

size_t model_class_count(const model *m)
{
    return m->n_classes;
}

const char *model_class(const model *m, size_t cls)
{
    return cls < m->n_classes ? m->classes[cls] : NULL;
}

size_t model_ngram_count(const model *m)
{
    return m->n_ngrams;
}

const char *model_ngram(const model *m, size_t id)
{
    return id < m->n_ngrams ? m->ngram[id] : NULL;
}

model_ngram_kind model_ngram_kind_of(const model *m, size_t id)
{
    const char *f = model_ngram(m, id);
    if (f && !strcmp(f, "@user"))
        return MODEL_NGRAM_HANDLE;
    if (f && !strcmp(f, "<url>"))
        return MODEL_NGRAM_URL;
    if (f && (!strncmp(f, "rule:", 5) || !strncmp(f, "lexicon:", 8)))
        return MODEL_NGRAM_SIGNAL;
    return MODEL_NGRAM_PHRASE;
}

long model_ngram_find(const model *m, const char *feat, size_t len)
{
    uint64_t fh = file_slot_hash(feat, len);
    size_t h = (size_t)fh & (m->n_slots - 1);
    while (m->slot[h].id != MODEL_EMPTY) {
        if (m->slot[h].hash == fh && m->slot[h].len == len &&
            !memcmp(m->ngram[m->slot[h].id], feat, len))
            return (long)m->slot[h].id;
        h = (h + 1) & (m->n_slots - 1);
    }
    return -1;
}

const char *model_version(const model *m)
{
    return m->version;
}

/* 1 / the L2 norm of the post's IDF vector: the scale of every x_j. */
static double file_inv_norm(const model *m, const uint32_t *ids, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < m->n_ngrams)
            ss += m->idf[ids[i]] * m->idf[ids[i]];
    return ss > 0 ? 1.0 / sqrt(ss) : 0.0;
}

uint32_t model_score(const model *m, const uint32_t *ids, size_t n, double *out)
{
    size_t K = m->n_classes;
    double inv = file_inv_norm(m, ids, n), mx = -INFINITY, sum = 0.0;
    uint32_t best = 0;

    for (size_t c = 0; c < K; c++)
        out[c] = m->bias[c];
    for (size_t i = 0; i < n; i++) {
        const double *w;
        double x;
        if (ids[i] >= m->n_ngrams)
            continue;
        w = m->w + (size_t)ids[i] * K;
        x = m->idf[ids[i]] * inv;
        for (size_t c = 0; c < K; c++)
            out[c] += x * w[c];
    }
    for (size_t c = 0; c < K; c++)
        if (out[c] > mx) {
            mx = out[c];
            best = (uint32_t)c;
        }
    for (size_t c = 0; c < K; c++)
        sum += (out[c] = exp(out[c] - mx));
    for (size_t c = 0; c < K; c++)
        out[c] /= sum;
    return best;
}

typedef struct file_ids_ctx {
    const model *m;
    uint32_t *ids;
    size_t n, cap;
} file_ids_ctx;

static int file_on_feature(void *ctx, const char *feat, size_t len)
{
    file_ids_ctx *c = ctx;
    long id = model_ngram_find(c->m, feat, len);
    if (id < 0)
        return 0;
    /* Posts have tens of features: a linear duplicate check is cheaper
     * than any set. */
    for (size_t i = 0; i < c->n; i++)
        if (c->ids[i] == (uint32_t)id)
            return 0;
    if (c->n == c->cap)
        return 1;
    c->ids[c->n++] = (uint32_t)id;
    return 0;
}

static int file_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

long model_norm_ids(const model *m, model_fx *fx, const char *norm, size_t len,
                    uint32_t *ids, size_t cap)
{
    file_ids_ctx c = {.m = m, .ids = ids, .n = 0, .cap = cap};
    if (model_features_norm(fx, norm, len, file_on_feature, &c) < 0)
        return -1;
    return (long)c.n;
}

long model_text_ids(const model *m, model_fx *fx, const char *text, size_t len,
                    uint32_t *ids, size_t cap)
{
    file_ids_ctx c = {.m = m, .ids = ids, .n = 0, .cap = cap};
    if (model_features(fx, text, len, file_on_feature, &c) < 0)
        return -1;
    qsort(ids, c.n, sizeof(uint32_t), file_cmp_u32);
    return (long)c.n;
}

size_t model_explain(const model *m, const uint32_t *ids, size_t n,
                     uint32_t cls, model_contrib *out, size_t k)
{
    size_t K = m->n_classes, got = 0;
    double inv = file_inv_norm(m, ids, n);

    if (cls >= K)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const double *w;
        double mean = 0.0, v;
        size_t at;
        if (ids[i] >= m->n_ngrams)
            continue;
        w = m->w + (size_t)ids[i] * K;
        for (size_t c = 0; c < K; c++)
            mean += w[c];
        v = m->idf[ids[i]] * inv * (w[cls] - mean / (double)K);
        /* insertion into the top k, by |value| then id */
        for (at = got; at > 0; at--) {
            double a = fabs(out[at - 1].value);
            if (a > fabs(v) || (a == fabs(v) && out[at - 1].id < ids[i]))
                break;
        }
        if (at >= k)
            continue;
        if (got < k)
            got++;
        memmove(out + at + 1, out + at, (got - 1 - at) * sizeof(*out));
        out[at].id = ids[i];
        out[at].value = v;
    }
    return got;
}

/* ---- saving ------------------------------------------------------------ */

#define FILE_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))

/* Writes "key": value (compact) and the separator. */
static int file_put(FILE *f, const char *key, json_t *v, const char *sep)
{
    char *s;
    int rc;
    if (!v)
        return -1;
    s = json_dumps(v, FILE_DUMP_FLAGS);
    json_decref(v);
    if (!s)
        return -1;
    rc = fprintf(f, "\"%s\": %s%s", key, s, sep) < 0 ? -1 : 0;
    free(s);
    return rc;
}

int model_save(const model *m, const char *path, const json_t *training,
               char *err, size_t err_size)
{
    size_t K = m->n_classes;
    json_t *classes = json_array(), *bias = json_array();
    FILE *f = fopen(path, "w");
    int ok = 1;

    if (!f) {
        snprintf(err, err_size, "%s: cannot write the model: %s", path, strerror(errno));
        json_decref(classes);
        json_decref(bias);
        return -1;
    }
    for (size_t c = 0; c < K; c++) {
        ok &= json_array_append_new(classes, json_string(m->classes[c])) == 0;
        ok &= json_array_append_new(bias, json_real(m->bias[c])) == 0;
    }
    ok &= fputs("{", f) >= 0;
    ok &= file_put(f, "earshot_model", json_integer(MODEL_FORMAT), ",\n ") == 0;
    ok &= file_put(f, "version", json_string(m->version), ",\n ") == 0;
    ok &= file_put(f, "tokenizer", json_string(MODEL_TOKENIZER), ",\n ") == 0;
    ok &= file_put(f, "normalizer", json_string(MODEL_NORMALIZER), ",\n ") == 0;
    ok &= file_put(f, "norm", json_string(MODEL_NORM), ",\n ") == 0;
    ok &= file_put(f, "classes", classes, ",\n ") == 0;
    ok &= file_put(f, "bias", bias, ",\n ") == 0;
    ok &= fputs("\"features\": [", f) >= 0;
    for (size_t j = 0; ok && j < m->n_ngrams; j++) {
        json_t *row = json_array();
        char *s;
        ok &= json_array_append_new(row, json_string(m->ngram[j])) == 0;
        ok &= json_array_append_new(row, json_real(m->idf[j])) == 0;
        for (size_t c = 0; c < K; c++)
            ok &= json_array_append_new(row, json_real(m->w[j * K + c])) == 0;
        s = json_dumps(row, FILE_DUMP_FLAGS);
        json_decref(row);
        ok &= s && fprintf(f, "%s\n  %s", j ? "," : "", s) >= 0;
        free(s);
    }
    ok &= fputs("],\n ", f) >= 0;
    ok &= file_put(f, "training", training ? json_deep_copy(training) : json_object(),
                   "}\n") == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(err, err_size, "%s: writing the model failed: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return -1;
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------ */

/*
 * Where a value sits in the raw bytes. jansson gives positions for syntax
 * errors only; for "features[12][2] is not a number" the bytes are walked
 * again along the path (the file already parsed, so the walker trusts the
 * syntax and stays short). Columns count characters, like jansson's.
 */
typedef struct file_pos {
    const char *p, *end;
    int line, col;
} file_pos;

typedef struct file_step {
    const char *key; /* an object member, or NULL: */
    size_t index;    /* an array item; for a member: 1 = point at its key */
} file_step;

static void pos_adv(file_pos *fp)
{
    if (fp->p >= fp->end)
        return;
    if (*fp->p == '\n') {
        fp->line++;
        fp->col = 1;
    } else if ((*fp->p & 0xC0) != 0x80) {
        fp->col++;
    }
    fp->p++;
}

static void pos_ws(file_pos *fp)
{
    while (fp->p < fp->end &&
           (*fp->p == ' ' || *fp->p == '\t' || *fp->p == '\n' || *fp->p == '\r'))
        pos_adv(fp);
}

/* Skips a string at fp->p ('"'); sets *start and *len to its raw contents. */
static void pos_string(file_pos *fp, const char **start, size_t *len)
{
    pos_adv(fp);
    *start = fp->p;
    while (fp->p < fp->end && *fp->p != '"') {
        if (*fp->p == '\\')
            pos_adv(fp);
        pos_adv(fp);
    }
    *len = (size_t)(fp->p - *start);
    pos_adv(fp);
}

static void pos_value(file_pos *fp)
{
    const char *s;
    size_t n;
    int depth = 0;

    do {
        pos_ws(fp);
        if (fp->p >= fp->end)
            return;
        if (*fp->p == '"')
            pos_string(fp, &s, &n);
        else if (*fp->p == '{' || *fp->p == '[')
            depth++, pos_adv(fp);
        else if (*fp->p == '}' || *fp->p == ']')
            depth--, pos_adv(fp);
        else if (*fp->p == ',' || *fp->p == ':')
            pos_adv(fp);
        else
            while (fp->p < fp->end && !strchr(",:]} \t\r\n", *fp->p))
                pos_adv(fp);
    } while (depth > 0);
}

/* Sets *line and *col to the value at path[0..n), or on the deepest value
 * of the path that exists. */
static void file_locate(const char *buf, size_t len, const file_step *path,
                        size_t n, int *line, int *col)
{
    file_pos fp = {.p = buf, .end = buf + len, .line = 1, .col = 1};

    pos_ws(&fp);
    for (size_t k = 0; k < n; k++) {
        file_pos at = fp;
        size_t idx = 0;
        int found = 0;

        if (fp.p >= fp.end || (*fp.p != '{' && *fp.p != '['))
            break;
        pos_adv(&fp);
        for (;;) {
            pos_ws(&fp);
            if (fp.p >= fp.end || *fp.p == '}' || *fp.p == ']')
                break;
            if (path[k].key) {
                const char *ks;
                size_t kl;
                file_pos key_at = fp;
                pos_string(&fp, &ks, &kl);
                pos_ws(&fp);
                pos_adv(&fp); /* ':' */
                pos_ws(&fp);
                if (kl == strlen(path[k].key) && !memcmp(ks, path[k].key, kl)) {
                    if (path[k].index)
                        fp = key_at;
                    found = 1;
                    break;
                }
            } else if (idx++ == path[k].index) {
                found = 1;
                break;
            }
            pos_value(&fp);
            pos_ws(&fp);
            if (fp.p < fp.end && *fp.p == ',')
                pos_adv(&fp);
        }
        if (!found) {
            fp = at;
            break;
        }
    }
    *line = fp.line;
    *col = fp.col;
}

typedef struct file_ld {
    const char *path;
    const char *buf;
    size_t len;
    char *err;
    size_t err_size;
} file_ld;

/* "PATH:LINE:COL: message" with the position of path[0..n). Returns NULL. */
static model *file_fail(file_ld *ld, const file_step *path, size_t n,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static model *file_fail(file_ld *ld, const file_step *path, size_t n,
                        const char *fmt, ...)
{
    int line, col, k;
    va_list ap;

    file_locate(ld->buf, ld->len, path, n, &line, &col);
    k = snprintf(ld->err, ld->err_size, "%s:%d:%d: ", ld->path, line, col);
    if (k < 0 || (size_t)k >= ld->err_size)
        return NULL;
    va_start(ap, fmt);
    base_err_vset(ld->err + k, ld->err_size - (size_t)k, fmt, ap);
    va_end(ap);
    return NULL;
}

static int file_read(const char *path, char **buf, size_t *len, char *err,
                     size_t err_size)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        snprintf(err, err_size, "%s: cannot open the model: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;
        if (n + 65536 > cap) {
            char *nb = realloc(b, cap = (cap ? cap * 2 : 65536 * 2));
            if (!nb) {
                free(b);
                fclose(f);
                snprintf(err, err_size, "%s: out of memory reading the model", path);
                return -1;
            }
            b = nb;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(b);
        fclose(f);
        snprintf(err, err_size, "%s: cannot read the model: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

static model *file_parse(file_ld *ld, json_t *root)
{
    static const char *const keys[] = {
        "earshot_model", "version", "tokenizer", "normalizer", "norm",
        "classes", "bias", "features", "training",
    };
    const size_t n_keys = sizeof(keys) / sizeof(keys[0]);
    json_t *v, *classes, *bias, *features;
    const char *key;
    size_t K, F;
    model *m;

    if (!json_is_object(root))
        return file_fail(ld, NULL, 0, "a model file is a JSON object "
                         "{\"earshot_model\": 1, ...}; is this a model written "
                         "by `earshot train`?");
    json_object_foreach(root, key, v) {
        size_t k = 0;
        while (k < n_keys && strcmp(key, keys[k]))
            k++;
        if (k == n_keys) {
            file_step p[] = {{key, 1}};
            return file_fail(ld, p, 1, "unknown key \"%s\"; a model has "
                             "earshot_model, version, tokenizer, normalizer, norm, "
                             "classes, bias, features, training", key);
        }
    }
    for (size_t k = 0; k < n_keys; k++)
        if (!json_object_get(root, keys[k]))
            return file_fail(ld, NULL, 0, "missing \"%s\"; retrain with "
                             "`earshot train` to get a complete model", keys[k]);
    v = json_object_get(root, "earshot_model");
    if (!json_is_integer(v) || json_integer_value(v) != MODEL_FORMAT) {
        file_step p[] = {{"earshot_model", 0}};
        return file_fail(ld, p, 1, "model format %s, this earshot reads %d; "
                         "retrain with this version",
                         json_is_integer(v) ? "other than 1" : "not a number",
                         MODEL_FORMAT);
    }
    {
        static const struct {
            const char *key, *want;
        } same[] = {
            {"tokenizer", MODEL_TOKENIZER},
            {"normalizer", MODEL_NORMALIZER},
            {"norm", MODEL_NORM},
        };
        for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
            file_step p[] = {{same[k].key, 0}};
            v = json_object_get(root, same[k].key);
            if (!json_is_string(v) || strcmp(json_string_value(v), same[k].want))
                return file_fail(ld, p, 1, "%s differs from this earshot's "
                                 "(\"%s\"): features would not mean what they "
                                 "meant in training; retrain the model",
                                 same[k].key, same[k].want);
        }
    }
    classes = json_object_get(root, "classes");
    K = json_is_array(classes) ? json_array_size(classes) : 0;
    if (K < 2) {
        file_step p[] = {{"classes", 0}};
        return file_fail(ld, p, 1, "classes must be an array of at least two names");
    }
    for (size_t c = 0; c < K; c++) {
        file_step p[] = {{"classes", 0}, {NULL, c}};
        v = json_array_get(classes, c);
        if (!json_is_string(v) || !json_string_length(v))
            return file_fail(ld, p, 2, "classes[%zu] must be a non-empty string", c);
        for (size_t c2 = 0; c2 < c; c2++)
            if (json_equal(v, json_array_get(classes, c2)))
                return file_fail(ld, p, 2, "class \"%s\" is listed twice",
                                 json_string_value(v));
    }
    bias = json_object_get(root, "bias");
    if (!json_is_array(bias) || json_array_size(bias) != K) {
        file_step p[] = {{"bias", 0}};
        return file_fail(ld, p, 1, "bias must be an array of %zu numbers, one per "
                         "class", K);
    }
    features = json_object_get(root, "features");
    if (!json_is_array(features)) {
        file_step p[] = {{"features", 0}};
        return file_fail(ld, p, 1, "features must be an array of "
                         "[\"ngram\", idf, weight per class]");
    }
    F = json_array_size(features);
    m = model_alloc(K, F);
    if (!m) {
        snprintf(ld->err, ld->err_size, "%s: out of memory loading the model", ld->path);
        return NULL;
    }
    for (size_t c = 0; c < K; c++) {
        file_step p[] = {{"bias", 0}, {NULL, c}};
        v = json_array_get(bias, c);
        if (!json_is_number(v)) {
            model_free(m);
            return file_fail(ld, p, 2, "bias[%zu] must be a number", c);
        }
        m->bias[c] = json_number_value(v);
        if (!(m->classes[c] = strdup(json_string_value(json_array_get(classes, c)))))
            goto oom;
    }
    for (size_t j = 0; j < F; j++) {
        json_t *row = json_array_get(features, j), *name;
        file_step p[] = {{"features", 0}, {NULL, j}, {NULL, 0}};
        if (!json_is_array(row) || json_array_size(row) != K + 2) {
            model_free(m);
            return file_fail(ld, p, 2, "features[%zu] must be [\"ngram\", idf, "
                             "%zu weights]", j, K);
        }
        name = json_array_get(row, 0);
        if (!json_is_string(name) || !json_string_length(name) ||
            strlen(json_string_value(name)) != json_string_length(name)) {
            model_free(m);
            return file_fail(ld, p, 3, "features[%zu][0] must be a non-empty "
                             "n-gram without NUL", j);
        }
        if (j && strcmp(m->ngram[j - 1], json_string_value(name)) >= 0) {
            model_free(m);
            return file_fail(ld, p, 3, "features[%zu] \"%s\" is out of order or "
                             "repeated: n-grams are sorted bytewise and distinct",
                             j, json_string_value(name));
        }
        if (!(m->ngram[j] = strdup(json_string_value(name))))
            goto oom;
        for (size_t k = 1; k < K + 2; k++) {
            double x;
            v = json_array_get(row, k);
            p[2].index = k;
            if (!json_is_number(v) || !isfinite(x = json_number_value(v)) ||
                (k == 1 && x <= 0)) {
                model_free(m);
                return file_fail(ld, p, 3, "features[%zu][%zu] must be %s", j, k,
                                 k == 1 ? "the idf, a number > 0" : "a weight, a number");
            }
            if (k == 1)
                m->idf[j] = x;
            else
                m->w[j * K + k - 2] = x;
        }
    }
    if (model_finish(m))
        goto oom;
    v = json_object_get(root, "version");
    if (!json_is_string(v) || strcmp(json_string_value(v), m->version)) {
        file_step p[] = {{"version", 0}};
        char have[17];
        snprintf(have, sizeof(have), "%s", m->version);
        model_free(m);
        return file_fail(ld, p, 1, "version does not match the content (digest %s): "
                         "the file was edited or truncated; retrain it", have);
    }
    return m;
oom:
    model_free(m);
    snprintf(ld->err, ld->err_size, "%s: out of memory loading the model", ld->path);
    return NULL;
}

model *model_load(const char *path, char *err, size_t err_size)
{
    char *buf;
    size_t len;
    model *m;

    if (file_read(path, &buf, &len, err, err_size))
        return NULL;
    m = model_load_buffer(path, buf, len, err, err_size);
    free(buf);
    return m;
}

model *model_load_buffer(const char *path, const char *buf, size_t len, char *err,
                         size_t err_size)
{
    file_ld ld = {.path = path, .err = err, .err_size = err_size};
    json_error_t jerr;
    json_t *root;
    model *m;

    ld.buf = buf;
    ld.len = len;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_size, "%s:%d:%d: invalid JSON: %s; a model is written by "
                 "`earshot train -o FILE`", path, jerr.line > 0 ? jerr.line : 1,
                 jerr.column > 0 ? jerr.column : 1, jerr.text);
        return NULL;
    }
    m = file_parse(&ld, root);
    json_decref(root);
    return m;
}
