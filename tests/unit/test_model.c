/*
 * Unit tests for src/model: the tokeniser's exact features (the bigram rule,
 * hashtags, handles, URLs, emoji, entities), training on a separable set,
 * determinism (byte-identical model files), model_load's errors, and the
 * scorer agreeing with the trainer's own probabilities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/model.h"

typedef struct collect {
    char buf[4096];
    size_t len;
} collect;

static int on_feat(void *ctx, const char *f, size_t n)
{
    collect *c = ctx;
    if (c->len)
        c->buf[c->len++] = '|';
    memcpy(c->buf + c->len, f, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return 0;
}

static void assert_features(model_fx *fx, const char *text, const char *want)
{
    collect c = {.len = 0};
    c.buf[0] = '\0';
    assert_int_equal(model_features(fx, text, strlen(text), on_feat, &c), 0);
    if (strcmp(c.buf, want))
        fail_msg("features(\"%s\") = \"%s\", want \"%s\"", text, c.buf, want);
}

static void test_tokenizer(void **state)
{
    model_fx *fx = model_fx_new();
    (void)state;
    assert_non_null(fx);
    /* unigrams, then the bigram when exactly one space separates */
    assert_features(fx, "Hello World", "hello|world|hello world");
    /* white space runs are one space, as the matcher scans them */
    assert_features(fx, "a  b\tc\n", "a|b|a b|c|b c");
    /* punctuation separates tokens and breaks bigrams */
    assert_features(fx, "a, b", "a|b");
    assert_features(fx, "don't stop", "don|t|stop|t stop");
    /* hashtags: the word, then the tag as written; the word links */
    assert_features(fx, "#Fail today", "fail|#fail|today|fail today");
    /* handles are one class, not tokens, and no bigram spans them */
    assert_features(fx, "@Comcast my wifi", "@user|my|wifi|my wifi");
    assert_features(fx, "hi @a there", "hi|@user|there");
    /* an '@' inside a word is not a handle */
    assert_features(fx, "me@x.com", "me|x|com");
    /* URLs up to the next space */
    assert_features(fx, "see https://t.co/abc now http://x.y", "see|<url>|now|<url>");
    /* each non-ASCII code point is a token */
    assert_features(fx, "so \xF0\x9F\x98\xA1\xF0\x9F\x98\xA1 mad",
                    "so|\xF0\x9F\x98\xA1|so \xF0\x9F\x98\xA1|\xF0\x9F\x98\xA1|mad|"
                    "\xF0\x9F\x98\xA1 mad");
    assert_features(fx, "\xE5\xAE\xA2\xE6\x9C\x8D", "\xE5\xAE\xA2|\xE6\x9C\x8D");
    /* the engine's normal form: full width, case, accents */
    assert_features(fx, "\xEF\xBC\xA3\xEF\xBC\xAF\xEF\xBC\xAD Caf\xC3\xA9",
                    "com|cafe|com cafe");
    /* digits are kept as written */
    assert_features(fx, "24/7 wait 2 hours", "24|7|wait|7 wait|2|wait 2|hours|2 hours");
    /* entities are decoded once, then normalised */
    assert_features(fx, "AT&amp;T &lt;3 &#39;ok&#39; &#x1F621; &amp;lt;",
                    "at|t|3|ok|\xF0\x9F\x98\xA1|lt");
    assert_features(fx, "", "");
    assert_features(fx, "   ", "");
    /* invalid UTF-8 is refused */
    {
        collect c = {.len = 0};
        assert_int_equal(model_features(fx, "a\xFF", 2, on_feat, &c), -1);
    }
    model_fx_free(fx);
}


/* A tiny data set a linear model separates. */
static const struct {
    const char *text;
    uint32_t cls;
} tiny[] = {
    {"@acme my order is late again, terrible service", 0},
    {"@acme still waiting for a refund, awful", 0},
    {"@acme the app is broken and support never answers", 0},
    {"@acme worst delivery ever, package broken", 0},
    {"@acme charged twice and no refund, terrible", 0},
    {"@acme on hold for an hour, awful service", 0},
    {"@acme thanks so much, great service today", 1},
    {"@acme love the new app, great job", 1},
    {"@acme delivery was quick, thanks", 1},
    {"@acme great support, thank you so much", 1},
    {"@acme love it, works great https://t.co/x", 1},
    {"@acme thanks for the quick refund, love it", 1},
};
static const char *const tiny_classes[] = {"complaint", "praise"};

static model_data *tiny_data(model_fx *fx)
{
    model_data *d = model_data_new(tiny_classes, 2);
    assert_non_null(d);
    for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++)
        assert_int_equal(model_data_add(d, fx, tiny[i].text, strlen(tiny[i].text),
                                        tiny[i].cls), 0);
    return d;
}

static model *tiny_model(model_fx *fx, double *probs)
{
    char err[256];
    model_train_opts o;
    model_data *d = tiny_data(fx);
    model *m;
    model_train_opts_default(&o);
    o.min_count = 1;
    m = model_train(d, &o, probs, err, sizeof(err));
    if (!m)
        fail_msg("model_train: %s", err);
    model_data_free(d);
    return m;
}

static uint32_t predict(const model *m, model_fx *fx, const char *text, double *p)
{
    uint32_t ids[256];
    long n = model_text_ids(m, fx, text, strlen(text), ids, 256);
    assert_true(n >= 0);
    return model_score(m, ids, (size_t)n, p);
}

static void test_train_separable(void **state)
{
    model_fx *fx = model_fx_new();
    double p[2];
    model *m;
    (void)state;

    m = tiny_model(fx, NULL);
    assert_int_equal(model_class_count(m), 2);
    assert_string_equal(model_class(m, 0), "complaint");
    assert_string_equal(model_class(m, 1), "praise");
    for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++)
        assert_int_equal(predict(m, fx, tiny[i].text, p), tiny[i].cls);
    assert_int_equal(predict(m, fx, "@other awful, still broken", p), 0);
    assert_true(p[0] > 0.5 && p[0] + p[1] > 0.999999 && p[0] + p[1] < 1.000001);
    assert_int_equal(predict(m, fx, "great, thanks!", p), 1);
    /* n-grams are sorted, found by name, and the two classes of tokens */
    for (size_t j = 1; j < model_ngram_count(m); j++)
        assert_true(strcmp(model_ngram(m, j - 1), model_ngram(m, j)) < 0);
    {
        long u = model_ngram_find(m, "@user", 5), url = model_ngram_find(m, "<url>", 5);
        long bi = model_ngram_find(m, "terrible service", 16);
        assert_true(u >= 0 && url >= 0 && bi >= 0);
        assert_int_equal(model_ngram_kind_of(m, (size_t)u), MODEL_NGRAM_HANDLE);
        assert_int_equal(model_ngram_kind_of(m, (size_t)url), MODEL_NGRAM_URL);
        assert_int_equal(model_ngram_kind_of(m, (size_t)bi), MODEL_NGRAM_PHRASE);
        assert_int_equal(model_ngram_find(m, "acme", 4), -1); /* handles are not learnt */
    }
    /* explain: "awful" pushes towards complaint */
    {
        uint32_t ids[64];
        model_contrib top[3];
        const char *t = "awful thanks";
        long n = model_text_ids(m, fx, t, strlen(t), ids, 64);
        size_t k = model_explain(m, ids, (size_t)n, 0, top, 3);
        long awful = model_ngram_find(m, "awful", 5), thanks = model_ngram_find(m, "thanks", 6);
        assert_int_equal(n, 2);
        assert_int_equal(k, 2);
        for (size_t i = 0; i < k; i++) {
            if ((long)top[i].id == awful)
                assert_true(top[i].value > 0);
            else if ((long)top[i].id == thanks)
                assert_true(top[i].value < 0);
            else
                fail_msg("explain returned id %u", top[i].id);
        }
        assert_true(fabs(top[0].value) >= fabs(top[1].value));
    }
    model_free(m);
    model_fx_free(fx);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/earshot_test_model_%ld_%s", (long)getpid(), name);
}

static void test_deterministic_file(void **state)
{
    model_fx *fx = model_fx_new();
    char a[256], b[256], err[256];
    json_t *training = json_pack("{s:i, s:s}", "posts", 12, "date", "2024-01-01T00:00:00Z");
    model *m1, *m2, *loaded;
    char *ba, *bb;
    size_t la, lb;
    (void)state;

    tmp_path(a, sizeof(a), "a.json");
    tmp_path(b, sizeof(b), "b.json");
    m1 = tiny_model(fx, NULL);
    m2 = tiny_model(fx, NULL);
    assert_int_equal(model_save(m1, a, training, err, sizeof(err)), 0);
    assert_int_equal(model_save(m2, b, training, err, sizeof(err)), 0);
    ba = slurp(a, &la);
    bb = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    assert_string_equal(model_version(m1), model_version(m2));
    /* the file holds what the format says */
    {
        json_t *root = json_loads(ba, 0, NULL);
        assert_non_null(root);
        assert_int_equal(json_integer_value(json_object_get(root, "earshot_model")), 1);
        assert_string_equal(json_string_value(json_object_get(root, "version")),
                            model_version(m1));
        assert_string_equal(json_string_value(json_object_get(root, "tokenizer")),
                            MODEL_TOKENIZER);
        assert_int_equal(json_array_size(json_object_get(root, "features")),
                         model_ngram_count(m1));
        assert_int_equal(json_integer_value(json_object_get(
                             json_object_get(root, "training"), "posts")), 12);
        json_decref(root);
    }
    /* and loads back to the same model */
    loaded = model_load(a, err, sizeof(err));
    if (!loaded)
        fail_msg("model_load: %s", err);
    assert_string_equal(model_version(loaded), model_version(m1));
    assert_int_equal(model_ngram_count(loaded), model_ngram_count(m1));
    /* cross-validation is deterministic for a seed too */
    {
        model_data *d = tiny_data(fx);
        model_train_opts o;
        uint32_t p1[12], p2[12];
        model_train_opts_default(&o);
        o.min_count = 1;
        assert_int_equal(model_cross_validate(d, &o, 3, p1, NULL, err, sizeof(err)), 0);
        assert_int_equal(model_cross_validate(d, &o, 3, p2, NULL, err, sizeof(err)), 0);
        assert_memory_equal(p1, p2, sizeof(p1));
        assert_int_equal(model_cross_validate(d, &o, 1, p2, NULL, err, sizeof(err)), -1);
        assert_string_equal(err, "--folds wants 2 to 12 (the number of posts), got 1");
        model_data_free(d);
    }
    free(ba);
    free(bb);
    unlink(a);
    unlink(b);
    json_decref(training);
    model_free(m1);
    model_free(m2);
    model_free(loaded);
    model_fx_free(fx);
}

static void test_scorer_matches_trainer(void **state)
{
    model_fx *fx = model_fx_new();
    double probs[12 * 2], p[2];
    char path[256], err[256];
    model *m, *loaded;
    (void)state;

    tmp_path(path, sizeof(path), "score.json");
    m = tiny_model(fx, probs);
    assert_int_equal(model_save(m, path, NULL, err, sizeof(err)), 0);
    loaded = model_load(path, err, sizeof(err));
    if (!loaded)
        fail_msg("model_load: %s", err);
    for (size_t i = 0; i < 12; i++) {
        predict(loaded, fx, tiny[i].text, p);
        for (size_t c = 0; c < 2; c++)
            if (fabs(p[c] - probs[i * 2 + c]) > 1e-12)
                fail_msg("post %zu class %zu: scorer %.17g, trainer %.17g", i, c, p[c],
                         probs[i * 2 + c]);
    }
    unlink(path);
    model_free(m);
    model_free(loaded);
    model_fx_free(fx);
}

static const char *const load_head =
    "{\"earshot_model\": 1,\n \"version\": \"%s\",\n \"tokenizer\": \"" MODEL_TOKENIZER
    "\",\n \"normalizer\": \"" MODEL_NORMALIZER "\",\n \"norm\": \"" MODEL_NORM "\",\n";

/* Writes a model file (head + rest) and expects model_load to fail with
 * PATH + want. */
static void expect_load_error(const char *version, const char *rest, const char *want)
{
    char path[256], full[1024], err[1024];
    FILE *f;
    model *m;

    tmp_path(path, sizeof(path), "bad.json");
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, load_head, version);
    fputs(rest, f);
    fclose(f);
    m = model_load(path, err, sizeof(err));
    if (m) {
        model_free(m);
        fail_msg("loaded; expected: %s", want);
    }
    snprintf(full, sizeof(full), "%s%s", path, want);
    assert_string_equal(err, full);
    unlink(path);
}

static void test_load_errors(void **state)
{
    char err[512];
    (void)state;

    assert_null(model_load("/nonexistent/m.json", err, sizeof(err)));
    assert_string_equal(err, "/nonexistent/m.json: cannot open the model: No such file or "
                             "directory");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"],,\n",
                      ":6:24: invalid JSON: string or '}' expected near ','; a model "
                      "is written by `earshot train -o FILE`");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": [], \"training\": {}, \"extra\": 1}\n",
                      ":7:34: unknown key \"extra\"; a model has earshot_model, version, "
                      "tokenizer, normalizer, norm, classes, bias, features, training");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": []}\n",
                      ":1:1: missing \"training\"; retrain with `earshot train` to get a "
                      "complete model");
    expect_load_error("0", " \"classes\": [\"a\"], \"bias\": [0],\n"
                           " \"features\": [], \"training\": {}}\n",
                      ":6:13: classes must be an array of at least two names");
    expect_load_error("0", " \"classes\": [\"a\", \"a\"], \"bias\": [0, 0],\n"
                           " \"features\": [], \"training\": {}}\n",
                      ":6:19: class \"a\" is listed twice");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0],\n"
                           " \"features\": [], \"training\": {}}\n",
                      ":6:33: bias must be an array of 2 numbers, one per class");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": [\n  [\"a\", 1.5, 0.1, -0.1],\n"
                           "  [\"b\", 1.5, \"x\", -0.1]],\n \"training\": {}}\n",
                      ":9:14: features[1][2] must be a weight, a number");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": [\n  [\"a\", 0, 0.1, -0.1]],\n"
                           " \"training\": {}}\n",
                      ":8:9: features[0][1] must be the idf, a number > 0");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": [\n  [\"b\", 1, 0.1, -0.1],\n"
                           "  [\"a\", 1, 0.1, -0.1]],\n \"training\": {}}\n",
                      ":9:4: features[1] \"a\" is out of order or repeated: n-grams are "
                      "sorted bytewise and distinct");
    expect_load_error("0", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": [\n  [\"a\", 1, 0.1]],\n"
                           " \"training\": {}}\n",
                      ":8:3: features[0] must be [\"ngram\", idf, 2 weights]");
    expect_load_error("0123456789abcdef", " \"classes\": [\"a\", \"b\"], \"bias\": [0, 0],\n"
                           " \"features\": [], \"training\": {}}\n",
                      ":2:13: version does not match the content (digest 092c064d83774de6): "
                      "the file was edited or truncated; retrain it");
}

static void test_load_other_tokenizer(void **state)
{
    char path[256], err[1024], want[1024];
    FILE *f;
    (void)state;

    tmp_path(path, sizeof(path), "tok.json");
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"earshot_model\": 1, \"version\": \"0\", \"tokenizer\": \"old\",\n"
          " \"normalizer\": \"x\", \"norm\": \"x\", \"classes\": [], \"bias\": [],\n"
          " \"features\": [], \"training\": {}}\n", f);
    fclose(f);
    assert_null(model_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s:1:51: tokenizer differs from this earshot's (\"%s\"): "
             "features would not mean what they meant in training; retrain the model",
             path, MODEL_TOKENIZER);
    assert_string_equal(err, want);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer),
        cmocka_unit_test(test_train_separable),
        cmocka_unit_test(test_deterministic_file),
        cmocka_unit_test(test_scorer_matches_trainer),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_other_tokenizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
