/*
 * model_features: the tokeniser (model.h has its exact definition).
 *
 * The pipeline is decode -> text_normalize -> squeeze -> scan, each step into
 * a buffer owned by the model_fx and reused, so a warm extractor does not
 * allocate. Features are handed to a callback rather than collected: the
 * trainer interns them, the scorer looks them up, and neither needs a list.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "text/text.h"

struct model_fx {
    text_norm *tn;
    char *sq;       /* normalised, squeezed */
    size_t cap_sq;
};

model_fx *model_fx_new(void)
{
    model_fx *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return NULL;
    fx->tn = text_norm_new();
    if (!fx->tn) {
        free(fx);
        return NULL;
    }
    return fx;
}

void model_fx_free(model_fx *fx)
{
    if (!fx)
        return;
    text_norm_free(fx->tn);
    free(fx->sq);
    free(fx);
}

static int fx_reserve(char **buf, size_t *cap, size_t n)
{
    char *b;
    if (n <= *cap)
        return 0;
    b = realloc(*buf, n);
    if (!b)
        return -1;
    *buf = b;
    *cap = n;
    return 0;
}

static inline bool fx_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           (c >= 'A' && c <= 'Z');
}

static inline bool fx_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of the UTF-8 sequence led by c (input is valid UTF-8). */
static inline size_t fx_cp_len(unsigned char c)
{
    return c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

int model_features(model_fx *fx, const char *text, size_t len,
                   model_feature_fn fn, void *ctx)
{
    const char *norm;
    size_t norm_len;

    if (text_normalize(fx->tn, text, len, &norm, &norm_len))
        return -1;
    return model_features_norm(fx, norm, norm_len, fn, ctx);
}

int model_features_norm(model_fx *fx, const char *norm, size_t norm_len,
                        model_feature_fn fn, void *ctx)
{
    size_t n = 0, i;
    const unsigned char *s;
    /* The previous token, while it can start a bigram. */
    size_t prev_start = 0, prev_end = 0;
    bool have_prev = false;

    if (fx_reserve(&fx->sq, &fx->cap_sq, norm_len ? norm_len : 1))
        return -1;
    for (i = 0; i < norm_len; i++) {
        unsigned char c = (unsigned char)norm[i];
        if (!fx_space(c))
            fx->sq[n++] = (char)c;
        else if (n == 0 || fx->sq[n - 1] != ' ')
            fx->sq[n++] = ' ';
    }
    s = (const unsigned char *)fx->sq;

    for (i = 0; i < n;) {
        unsigned char c = s[i];
        size_t start = i, end;
        bool after_word = i > 0 && fx_word(s[i - 1]);

        if (c == 'h' && !after_word &&
            ((n - i >= 7 && !memcmp(s + i, "http://", 7)) ||
             (n - i >= 8 && !memcmp(s + i, "https://", 8)))) {
            while (i < n && s[i] != ' ')
                i++;
            have_prev = false;
            if (fn(ctx, "<url>", 5))
                return 1;
            continue;
        }
        if (c == '@' && !after_word && i + 1 < n && fx_word(s[i + 1])) {
            for (i++; i < n && fx_word(s[i]); i++)
                ;
            have_prev = false;
            if (fn(ctx, "@user", 5))
                return 1;
            continue;
        }
        if (fx_word(c)) {
            while (i < n && fx_word(s[i]))
                i++;
        } else if (c >= 0x80) {
            i += fx_cp_len(c);
            if (i > n) /* cannot happen on valid UTF-8; never read past */
                i = n;
        } else {
            i++;
            continue;
        }
        end = i;
        if (fn(ctx, (const char *)s + start, end - start))
            return 1;
        if (fx_word(c) && start > 0 && s[start - 1] == '#' &&
            fn(ctx, (const char *)s + start - 1, end - start + 1))
            return 1;
        if (have_prev && prev_end + 1 == start && s[prev_end] == ' ' &&
            fn(ctx, (const char *)s + prev_start, end - prev_start))
            return 1;
        prev_start = start;
        prev_end = end;
        have_prev = true;
    }
    return 0;
}
