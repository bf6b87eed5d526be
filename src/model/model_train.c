/*
 * model_train: labelled posts as feature sets, L-BFGS for the L2-penalised
 * softmax, pruning, stratified k-fold cross-validation. See model.h.
 *
 * Feature strings are interned once per data set (global ids, first seen
 * first), and each post is kept as its sorted set of global ids, so a fold
 * only counts document frequencies and remaps ids: the text is tokenised
 * once however many folds run.
 *
 * Why full-batch L-BFGS and not SGD: the problem is small (tens of
 * thousands of features, thousands of posts), convex and smooth, so
 * L-BFGS converges in ~100 passes without a learning rate to tune, and with
 * no sampling it is deterministic by construction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

#define TRAIN_LBFGS_M 10
#define TRAIN_EMPTY UINT32_MAX

struct model_data {
    size_t n_classes;
    char **classes;
    size_t *class_count;

    /* interned feature strings: NUL-terminated in the arena */
    char *arena;
    size_t arena_len, arena_cap;
    size_t *feat_off;
    size_t n_feats, cap_feats;
    uint32_t *slot; /* open addressing over global ids */
    size_t n_slots;

    /* posts: CSR of sorted, distinct global ids */
    size_t n_posts, cap_posts;
    size_t *post_off; /* [cap_posts + 1] */
    uint32_t *cls;
    uint32_t *ids;
    size_t n_ids, cap_ids;

    uint32_t *tmp; /* the post being added */
    size_t n_tmp, cap_tmp;
    int oom;
};

static int train_grow(void *arr, size_t *cap, size_t need, size_t el)
{
    void **p = arr;
    size_t c = *cap ? *cap : 16;
    void *q;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    q = realloc(*p, c * el);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

model_data *model_data_new(const char *const *classes, size_t n_classes)
{
    model_data *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->n_classes = n_classes;
    d->classes = calloc(n_classes ? n_classes : 1, sizeof(char *));
    d->class_count = calloc(n_classes ? n_classes : 1, sizeof(size_t));
    d->n_slots = 1024;
    d->slot = malloc(d->n_slots * sizeof(uint32_t));
    d->post_off = calloc(1, sizeof(size_t));
    if (!d->classes || !d->class_count || !d->slot || !d->post_off)
        goto err;
    memset(d->slot, 0xFF, d->n_slots * sizeof(uint32_t));
    for (size_t c = 0; c < n_classes; c++)
        if (!(d->classes[c] = strdup(classes[c])))
            goto err;
    return d;
err:
    model_data_free(d);
    return NULL;
}

void model_data_free(model_data *d)
{
    if (!d)
        return;
    for (size_t c = 0; d->classes && c < d->n_classes; c++)
        free(d->classes[c]);
    free(d->classes);
    free(d->class_count);
    free(d->arena);
    free(d->feat_off);
    free(d->slot);
    free(d->post_off);
    free(d->cls);
    free(d->ids);
    free(d->tmp);
    free(d);
}

static int data_rehash(model_data *d)
{
    size_t n = d->n_slots * 2;
    uint32_t *s = malloc(n * sizeof(uint32_t));
    if (!s)
        return -1;
    memset(s, 0xFF, n * sizeof(uint32_t));
    for (uint32_t id = 0; id < d->n_feats; id++) {
        const char *f = d->arena + d->feat_off[id];
        size_t h = (size_t)base_fnv1a(MODEL_FNV_OFFSET, f, strlen(f)) & (n - 1);
        while (s[h] != TRAIN_EMPTY)
            h = (h + 1) & (n - 1);
        s[h] = id;
    }
    free(d->slot);
    d->slot = s;
    d->n_slots = n;
    return 0;
}

/* The global id of feat, interned on first sight. */
static int data_intern(model_data *d, const char *feat, size_t len, uint32_t *id)
{
    size_t h = (size_t)base_fnv1a(MODEL_FNV_OFFSET, feat, len) & (d->n_slots - 1);
    while (d->slot[h] != TRAIN_EMPTY) {
        const char *f = d->arena + d->feat_off[d->slot[h]];
        if (!strncmp(f, feat, len) && f[len] == '\0') {
            *id = d->slot[h];
            return 0;
        }
        h = (h + 1) & (d->n_slots - 1);
    }
    if (train_grow(&d->arena, &d->arena_cap, d->arena_len + len + 1, 1) ||
        train_grow(&d->feat_off, &d->cap_feats, d->n_feats + 1, sizeof(size_t)))
        return -1;
    memcpy(d->arena + d->arena_len, feat, len);
    d->arena[d->arena_len + len] = '\0';
    d->feat_off[d->n_feats] = d->arena_len;
    d->arena_len += len + 1;
    d->slot[h] = (uint32_t)d->n_feats;
    *id = (uint32_t)d->n_feats++;
    if (d->n_feats * 2 > d->n_slots && data_rehash(d))
        return -1;
    return 0;
}

static int data_on_feature(void *ctx, const char *feat, size_t len)
{
    model_data *d = ctx;
    uint32_t id;
    if (data_intern(d, feat, len, &id) ||
        train_grow(&d->tmp, &d->cap_tmp, d->n_tmp + 1, sizeof(uint32_t))) {
        d->oom = 1;
        return 1;
    }
    d->tmp[d->n_tmp++] = id;
    return 0;
}

static int train_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int model_data_add(model_data *d, model_fx *fx, const char *text, size_t len,
                   uint32_t cls)
{
    return model_data_add_signals(d, fx, text, len, NULL, 0, cls);
}

int model_data_add_signals(model_data *d, model_fx *fx, const char *text, size_t len,
                           const char *const *signals, size_t n_signals, uint32_t cls)
{
    size_t n = 0;

    if (cls >= d->n_classes)
        return -1;
    d->n_tmp = 0;
    d->oom = 0;
    if (model_features(fx, text, len, data_on_feature, d) != 0 || d->oom)
        return -1;
    for (size_t i = 0; i < n_signals; i++)
        if (data_on_feature(d, signals[i], strlen(signals[i])) || d->oom)
            return -1;
    qsort(d->tmp, d->n_tmp, sizeof(uint32_t), train_cmp_u32);
    for (size_t i = 0; i < d->n_tmp; i++)
        if (i == 0 || d->tmp[i] != d->tmp[i - 1])
            d->tmp[n++] = d->tmp[i];
    if (train_grow(&d->ids, &d->cap_ids, d->n_ids + n + 1, sizeof(uint32_t)))
        return -1;
    if (d->n_posts + 1 >= d->cap_posts) {
        size_t cap = d->cap_posts, cap2 = d->cap_posts;
        if (train_grow(&d->cls, &cap, d->n_posts + 2, sizeof(uint32_t)) ||
            train_grow(&d->post_off, &cap2, d->n_posts + 2, sizeof(size_t)))
            return -1;
        d->cap_posts = cap < cap2 ? cap : cap2;
    }
    memcpy(d->ids + d->n_ids, d->tmp, n * sizeof(uint32_t));
    d->n_ids += n;
    d->cls[d->n_posts] = cls;
    d->post_off[++d->n_posts] = d->n_ids;
    d->class_count[cls]++;
    return 0;
}

size_t model_data_posts(const model_data *d)
{
    return d->n_posts;
}

uint32_t model_data_class(const model_data *d, size_t post)
{
    return d->cls[post];
}

size_t model_data_class_count(const model_data *d, uint32_t cls)
{
    return cls < d->n_classes ? d->class_count[cls] : 0;
}

void model_train_opts_default(model_train_opts *o)
{
    o->l2 = 1.0;
    o->epochs = 200;
    o->min_count = 2;
    o->max_features = 5000;
    o->seed = 1;
    o->balanced = 1;
}

/* ---- the optimisation problem ----------------------------------------- */

typedef struct lr_prob {
    size_t n, F, K;
    const size_t *off;   /* [n + 1] */
    const uint32_t *col; /* local feature ids */
    const double *val;
    const uint32_t *y;
    const double *cw;    /* [K] weight of a post of each class */
    double l2;
    double *z;           /* [K] scratch */
} lr_prob;

/* f(theta) and its gradient. theta = W (F x K, row per feature) then b (K).
 * probs, when not NULL, receives each post's class probabilities. */
static double lr_eval(const lr_prob *p, const double *th, double *g, double *probs)
{
    size_t K = p->K, D = p->F * K + K;
    const double *b = th + p->F * K;
    double f = 0.0;

    memset(g, 0, D * sizeof(double));
    for (size_t i = 0; i < p->n; i++) {
        double mx = -INFINITY, sum = 0.0;
        for (size_t c = 0; c < K; c++)
            p->z[c] = b[c];
        for (size_t e = p->off[i]; e < p->off[i + 1]; e++) {
            const double *w = th + (size_t)p->col[e] * K;
            for (size_t c = 0; c < K; c++)
                p->z[c] += p->val[e] * w[c];
        }
        for (size_t c = 0; c < K; c++)
            if (p->z[c] > mx)
                mx = p->z[c];
        for (size_t c = 0; c < K; c++)
            sum += exp(p->z[c] - mx);
        double cw = p->cw[p->y[i]];
        f += cw * (log(sum) + mx - p->z[p->y[i]]);
        for (size_t c = 0; c < K; c++) {
            /* r = p_c - [c == y]: the gradient of the loss by z_c */
            double pc = exp(p->z[c] - mx) / sum;
            if (probs)
                probs[i * K + c] = pc;
            p->z[c] = cw * (pc - (c == p->y[i] ? 1.0 : 0.0));
        }
        for (size_t e = p->off[i]; e < p->off[i + 1]; e++) {
            double *gw = g + (size_t)p->col[e] * K;
            for (size_t c = 0; c < K; c++)
                gw[c] += p->val[e] * p->z[c];
        }
        for (size_t c = 0; c < K; c++)
            g[p->F * K + c] += p->z[c];
    }
    for (size_t j = 0; j < p->F * K; j++) {
        f += 0.5 * p->l2 * th[j] * th[j];
        g[j] += p->l2 * th[j];
    }
    return f;
}

static double vec_dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Minimises lr_eval from th = 0 by L-BFGS (two-loop recursion, Armijo
 * backtracking). Returns 0, -1 on OOM. */
static int lr_minimise(const lr_prob *p, double *th, unsigned max_iter)
{
    size_t D = p->F * p->K + p->K, m = TRAIN_LBFGS_M, k = 0;
    double *g = calloc(D, sizeof(double)), *d = calloc(D, sizeof(double));
    double *th2 = calloc(D, sizeof(double)), *g2 = calloc(D, sizeof(double));
    double *S = calloc(m * D, sizeof(double)), *Y = calloc(m * D, sizeof(double));
    double rho[TRAIN_LBFGS_M], alpha[TRAIN_LBFGS_M], f;
    int rc = -1;

    if (!g || !d || !th2 || !g2 || !S || !Y)
        goto out;
    memset(th, 0, D * sizeof(double));
    f = lr_eval(p, th, g, NULL);
    for (unsigned it = 0; it < max_iter; it++) {
        size_t hist = k < m ? k : m;
        double gnorm = sqrt(vec_dot(g, g, D)), step, gd, f2 = f;
        int accepted = 0;

        if (gnorm < 1e-8 * (double)(p->n ? p->n : 1))
            break;
        /* d = -H g by the two-loop recursion over the last pairs */
        for (size_t i = 0; i < D; i++)
            d[i] = -g[i];
        for (size_t h = 0; h < hist; h++) {
            size_t s = (k - 1 - h) % m;
            alpha[s] = rho[s] * vec_dot(S + s * D, d, D);
            for (size_t i = 0; i < D; i++)
                d[i] -= alpha[s] * Y[s * D + i];
        }
        if (hist) {
            size_t s = (k - 1) % m;
            double gamma = vec_dot(S + s * D, Y + s * D, D) /
                           vec_dot(Y + s * D, Y + s * D, D);
            for (size_t i = 0; i < D; i++)
                d[i] *= gamma;
        }
        for (size_t h = hist; h-- > 0;) {
            size_t s = (k - 1 - h) % m;
            double beta = rho[s] * vec_dot(Y + s * D, d, D);
            for (size_t i = 0; i < D; i++)
                d[i] += (alpha[s] - beta) * S[s * D + i];
        }
        gd = vec_dot(g, d, D);
        if (gd >= 0) { /* not a descent direction: restart from -g */
            for (size_t i = 0; i < D; i++)
                d[i] = -g[i];
            gd = -gnorm * gnorm;
            k = 0;
        }
        step = hist ? 1.0 : 1.0 / gnorm;
        for (int ls = 0; ls < 40; ls++) {
            for (size_t i = 0; i < D; i++)
                th2[i] = th[i] + step * d[i];
            f2 = lr_eval(p, th2, g2, NULL);
            if (f2 <= f + 1e-4 * step * gd) {
                accepted = 1;
                break;
            }
            step *= 0.5;
        }
        if (!accepted)
            break;
        {
            size_t s = k % m;
            double sy;
            for (size_t i = 0; i < D; i++) {
                S[s * D + i] = th2[i] - th[i];
                Y[s * D + i] = g2[i] - g[i];
            }
            sy = vec_dot(S + s * D, Y + s * D, D);
            if (sy > 1e-12) { /* keep only pairs with positive curvature */
                rho[s] = 1.0 / sy;
                k++;
            }
        }
        memcpy(th, th2, D * sizeof(double));
        memcpy(g, g2, D * sizeof(double));
        if (f - f2 <= 1e-10 * (fabs(f2) > 1.0 ? fabs(f2) : 1.0)) {
            f = f2;
            break;
        }
        f = f2;
    }
    rc = 0;
out:
    free(g);
    free(d);
    free(th2);
    free(g2);
    free(S);
    free(Y);
    return rc;
}

/* ---- fitting on a subset of posts --------------------------------------- */

/* Sort keys: qsort has no context argument in C11, so each entry carries
 * what it is compared by. */
typedef struct fit_key {
    double score;
    const char *name;
    uint32_t j;
} fit_key;

/* Largest score first, then lowest local id: a total order, so the kept
 * set does not depend on the qsort implementation. */
static int fit_cmp_score(const void *a, const void *b)
{
    const fit_key *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

static int fit_cmp_name(const void *a, const void *b)
{
    const fit_key *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/*
 * Trains on rows[0..n_rows). *g2m_out (global id -> model id, TRAIN_EMPTY
 * when not in the model) is set when not NULL; probs receives the training
 * posts' probabilities from the final weights when not NULL.
 */
static model *train_fit(const model_data *d, const size_t *rows, size_t n_rows,
                        const model_train_opts *o, uint32_t **g2m_out,
                        double *probs, char *err, size_t err_size)
{
    size_t K = d->n_classes, F = 0, nnz = 0, pass;
    uint32_t *df = calloc(d->n_feats ? d->n_feats : 1, sizeof(uint32_t));
    uint32_t *g2l = malloc((d->n_feats ? d->n_feats : 1) * sizeof(uint32_t));
    uint32_t *glob = NULL, *col = NULL, *y = NULL;
    double *idf = NULL, *val = NULL, *th = NULL, *z = NULL, *cw = NULL;
    fit_key *key = NULL;
    size_t *off = NULL, *seen = calloc(K ? K : 1, sizeof(size_t));
    model *m = NULL;
    size_t present = 0;

    if (!df || !g2l || !seen)
        goto oom;
    for (size_t r = 0; r < n_rows; r++) {
        size_t i = rows[r];
        for (size_t e = d->post_off[i]; e < d->post_off[i + 1]; e++)
            df[d->ids[e]]++;
        seen[d->cls[i]]++;
        nnz += d->post_off[i + 1] - d->post_off[i];
    }
    for (size_t c = 0; c < K; c++)
        present += seen[c] > 0;
    if (present < 2) {
        snprintf(err, err_size, "training needs posts of at least two classes, "
                 "got %zu; check the label field and --map", present);
        goto fail;
    }
    for (uint32_t gid = 0; gid < d->n_feats; gid++)
        g2l[gid] = df[gid] >= o->min_count ? (uint32_t)F++ : TRAIN_EMPTY;
    if (F == 0) {
        snprintf(err, err_size, "no feature occurs in %zu or more posts; "
                 "lower --min-count or add data", o->min_count);
        goto fail;
    }
    glob = malloc(F * sizeof(uint32_t));
    idf = malloc(F * sizeof(double));
    col = malloc((nnz ? nnz : 1) * sizeof(uint32_t));
    val = malloc((nnz ? nnz : 1) * sizeof(double));
    off = malloc((n_rows + 1) * sizeof(size_t));
    y = malloc((n_rows ? n_rows : 1) * sizeof(uint32_t));
    z = malloc(K * sizeof(double));
    cw = malloc(K * sizeof(double));
    if (!glob || !idf || !col || !val || !off || !y || !z || !cw)
        goto oom;
    /* Balanced: every class weighs as much in the loss as any other, n /
     * (classes x posts of the class), so a minority class is not traded away
     * for accuracy on the majority. */
    for (size_t c = 0; c < K; c++)
        cw[c] = o->balanced && seen[c] ? (double)n_rows / ((double)present * (double)seen[c])
                                       : 1.0;

    for (pass = 0; pass < 2; pass++) {
        lr_prob p;
        size_t e2 = 0;

        F = 0;
        for (uint32_t gid = 0; gid < d->n_feats; gid++)
            if (g2l[gid] != TRAIN_EMPTY) {
                g2l[gid] = (uint32_t)F;
                glob[F] = gid;
                /* smooth IDF, as scikit-learn's: never zero, finite for
                 * features of every post */
                idf[F] = log((1.0 + (double)n_rows) / (1.0 + (double)df[gid])) + 1.0;
                F++;
            }
        off[0] = 0;
        for (size_t r = 0; r < n_rows; r++) {
            size_t i = rows[r], first = e2;
            double ss = 0.0;
            for (size_t e = d->post_off[i]; e < d->post_off[i + 1]; e++) {
                uint32_t l = g2l[d->ids[e]];
                if (l == TRAIN_EMPTY)
                    continue;
                col[e2] = l;
                val[e2] = idf[l];
                ss += idf[l] * idf[l];
                e2++;
            }
            ss = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
            for (size_t e = first; e < e2; e++)
                val[e] *= ss;
            off[r + 1] = e2;
            y[r] = d->cls[i];
        }
        free(th);
        th = malloc((F * K + K) * sizeof(double));
        if (!th)
            goto oom;
        p = (lr_prob){.n = n_rows, .F = F, .K = K, .off = off, .col = col,
                      .val = val, .y = y, .cw = cw, .l2 = o->l2, .z = z};
        if (lr_minimise(&p, th, o->epochs))
            goto oom;
        if (F <= o->max_features || pass == 1) {
            if (probs) {
                double *g = malloc((F * K + K) * sizeof(double));
                if (!g)
                    goto oom;
                lr_eval(&p, th, g, probs);
                free(g);
            }
            break;
        }
        /* Keep the max_features features whose presence moves a score most,
         * then train again on exactly those: the L2 norm of a post counts the
         * model's features only, at serving time as here. */
        key = malloc(F * sizeof(fit_key));
        if (!key)
            goto oom;
        for (size_t j = 0; j < F; j++) {
            double s = 0.0;
            for (size_t c = 0; c < K; c++)
                if (fabs(th[j * K + c]) > s)
                    s = fabs(th[j * K + c]);
            key[j] = (fit_key){.score = s * idf[j], .j = (uint32_t)j};
        }
        qsort(key, F, sizeof(fit_key), fit_cmp_score);
        for (size_t j = o->max_features; j < F; j++)
            g2l[glob[key[j].j]] = TRAIN_EMPTY;
        free(key);
        key = NULL;
    }

    /* The model lists n-grams sorted bytewise: the file diffs well and the
     * ids do not depend on the order posts arrived in. */
    key = malloc((F ? F : 1) * sizeof(fit_key));
    m = model_alloc(K, F);
    if (!key || !m)
        goto oom;
    for (size_t j = 0; j < F; j++)
        key[j] = (fit_key){.name = d->arena + d->feat_off[glob[j]], .j = (uint32_t)j};
    qsort(key, F, sizeof(fit_key), fit_cmp_name);
    for (size_t c = 0; c < K; c++) {
        m->classes[c] = strdup(d->classes[c]);
        if (!m->classes[c])
            goto oom;
        m->bias[c] = th[F * K + c];
    }
    for (size_t id = 0; id < F; id++) {
        size_t j = key[id].j;
        m->ngram[id] = strdup(d->arena + d->feat_off[glob[j]]);
        if (!m->ngram[id])
            goto oom;
        m->idf[id] = idf[j];
        memcpy(m->w + id * K, th + j * K, K * sizeof(double));
    }
    if (model_finish(m))
        goto oom;
    if (g2m_out) {
        for (uint32_t gid = 0; gid < d->n_feats; gid++)
            g2l[gid] = TRAIN_EMPTY;
        for (size_t id = 0; id < F; id++)
            g2l[glob[key[id].j]] = (uint32_t)id;
        *g2m_out = g2l;
        g2l = NULL;
    }
    goto done;
oom:
    snprintf(err, err_size, "out of memory while training");
fail:
    model_free(m);
    m = NULL;
done:
    free(df);
    free(g2l);
    free(glob);
    free(col);
    free(y);
    free(key);
    free(idf);
    free(val);
    free(th);
    free(z);
    free(cw);
    free(off);
    free(seen);
    return m;
}

model *model_train(const model_data *d, const model_train_opts *o,
                   double *train_probs, char *err, size_t err_size)
{
    size_t *rows = malloc((d->n_posts ? d->n_posts : 1) * sizeof(size_t));
    model *m;

    if (!rows) {
        snprintf(err, err_size, "out of memory while training");
        return NULL;
    }
    for (size_t i = 0; i < d->n_posts; i++)
        rows[i] = i;
    m = train_fit(d, rows, d->n_posts, o, NULL, train_probs, err, err_size);
    free(rows);
    return m;
}

/* splitmix64: a tiny PRNG whose stream depends on the seed only. */
static uint64_t train_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int model_cross_validate(const model_data *d, const model_train_opts *o,
                         size_t folds, uint32_t *pred, double *probs,
                         char *err, size_t err_size)
{
    size_t n = d->n_posts, K = d->n_classes, deal = 0;
    size_t *perm = malloc((n ? n : 1) * sizeof(size_t));
    size_t *rows = malloc((n ? n : 1) * sizeof(size_t));
    uint32_t *fold = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *ids = NULL;
    double *scores = malloc((K ? K : 1) * sizeof(double));
    uint64_t rng = o->seed;
    int rc = -1;

    if (!perm || !rows || !fold || !scores) {
        snprintf(err, err_size, "out of memory in cross-validation");
        goto out;
    }
    if (folds < 2 || folds > n) {
        snprintf(err, err_size, "--folds wants 2 to %zu (the number of posts), "
                 "got %zu", n, folds);
        goto out;
    }
    /* Stratified: each class's posts, shuffled, are dealt to the folds in
     * turn, the deal continuing across classes so fold sizes differ by at
     * most one. */
    for (uint32_t c = 0; c < K; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (d->cls[i] == c)
                perm[m++] = i;
        for (size_t i = m; i > 1; i--) {
            size_t j = (size_t)(train_rand(&rng) % i), t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        for (size_t i = 0; i < m; i++)
            fold[perm[i]] = (uint32_t)(deal++ % folds);
    }
    for (size_t f = 0; f < folds; f++) {
        size_t nr = 0;
        uint32_t *g2m = NULL;
        model *m;

        for (size_t i = 0; i < n; i++)
            if (fold[i] != f)
                rows[nr++] = i;
        m = train_fit(d, rows, nr, o, &g2m, NULL, err, err_size);
        if (!m)
            goto out;
        for (size_t i = 0; i < n; i++) {
            size_t k = 0, len = d->post_off[i + 1] - d->post_off[i];
            if (fold[i] != f)
                continue;
            free(ids);
            ids = malloc((len ? len : 1) * sizeof(uint32_t));
            if (!ids) {
                model_free(m);
                free(g2m);
                snprintf(err, err_size, "out of memory in cross-validation");
                goto out;
            }
            for (size_t e = d->post_off[i]; e < d->post_off[i + 1]; e++)
                if (g2m[d->ids[e]] != TRAIN_EMPTY)
                    ids[k++] = g2m[d->ids[e]];
            pred[i] = model_score(m, ids, k, scores);
            if (probs)
                memcpy(probs + i * K, scores, K * sizeof(double));
        }
        model_free(m);
        free(g2m);
    }
    rc = 0;
out:
    free(perm);
    free(rows);
    free(fold);
    free(ids);
    free(scores);
    return rc;
}
