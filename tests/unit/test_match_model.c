/*
 * test_match_model: a trained model served inside the Hyperscan scan finds
 * exactly the features the model's own tokeniser finds, on the same text;
 * so a served score is the trained model's score. Checked on hand-picked
 * edge cases (handles, URLs, hashtags, entities, emoji, punctuation) and on
 * random texts built from the model's own n-grams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "match/match.h"
#include "model/model.h"
#include "rules/rules.h"
#include "text/text.h"

/* Small self-written posts, two classes, with the features served
 * specially: handles, URLs, hashtags, entities and emoji. */
static const struct {
    const char *text;
    uint32_t cls;
} posts[] = {
    {"@AcmeAir flight delayed 3 hours, nobody at the gate knows why", 0},
    {"@AcmeAir lost my bag again &amp; no reply to my emails 😡", 0},
    {"my order never arrived https://t.co/abc #fail", 0},
    {"still waiting for my refund, this is not ok", 0},
    {"the app keeps crashing, can't log in #helpme", 0},
    {"charged twice and on hold for an hour @AcmeHelp", 0},
    {"@AcmeAir thanks for the upgrade, crew was lovely ❤️", 1},
    {"great service today, thank you https://t.co/xyz", 1},
    {"what time does the store open on sunday?", 1},
    {"love the new menu #yum", 1},
    {"@AcmeHelp can I change my seat online?", 1},
    {"quick response, all sorted, thanks!", 1},
};

static const char *const edge[] = {
    "@AcmeAir delayed", "@delayed delayed", "x@delayed.com delayed",
    "https://delayed.com/never arrived", "see https://t.co/a then delayed",
    "http://x", "nothttp://x delayed", "#delayed #never_arrived #neverarrived",
    "never  arrived", "never\tarrived", "NEVER ARRIVED!!!", "never, arrived",
    "thanks&amp;love", "&lt;3 &#128545;", "😡😡 ❤️", "can't log in",
    "", " ", "@", "#", "https://", "still waiting @ home",
};

static model *train(char *err, size_t err_size)
{
    const char *classes[] = {"complaint", "not_complaint"};
    model_data *d = model_data_new(classes, 2);
    model_fx *fx = model_fx_new();
    model_train_opts o;
    for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
        assert_int_equal(model_data_add(d, fx, posts[i].text, strlen(posts[i].text),
                                        posts[i].cls), 0);
    model_train_opts_default(&o);
    o.min_count = 1;
    model *m = model_train(d, &o, NULL, err, err_size);
    model_data_free(d);
    model_fx_free(fx);
    return m;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct fx {
    model *trained;
    ruleset *rs;
    match_scratch *ms;
    text_norm *tn;
    model_fx *mfx;
    char dir[64];
} fx;

static void fx_check(fx *f, const char *text)
{
    uint32_t want[1024], got[1024];
    const char *norm;
    size_t nlen, n_got;
    char err[256];
    match_result r;
    long n_want = model_text_ids(f->trained, f->mfx, text, strlen(text), want, 1024);
    assert_true(n_want >= 0);
    assert_int_equal(text_normalize(f->tn, text, strlen(text), &norm, &nlen), 0);
    assert_int_equal(match_post(f->rs, f->ms, NULL, norm, nlen, &r, err, sizeof(err)), 0);
    const uint32_t *ids = match_model_ids(f->ms, &n_got);
    memcpy(got, ids, n_got * sizeof(*ids));
    qsort(got, n_got, sizeof(*got), cmp_u32);
    if ((size_t)n_want != n_got || memcmp(want, got, n_got * sizeof(*got)) != 0) {
        char msg[2048];
        size_t k = (size_t)snprintf(msg, sizeof(msg), "\"%s\": tokeniser", text);
        for (long i = 0; i < n_want && k < sizeof(msg) - 64; i++)
            k += (size_t)snprintf(msg + k, sizeof(msg) - k, " [%s]",
                                  model_ngram(f->trained, want[i]));
        k += (size_t)snprintf(msg + k, sizeof(msg) - k, "; served");
        for (size_t i = 0; i < n_got && k < sizeof(msg) - 64; i++)
            k += (size_t)snprintf(msg + k, sizeof(msg) - k, " [%s]",
                                  model_ngram(f->trained, got[i]));
        fail_msg("%s", msg);
    }
    /* The served verdict is the trained model's. */
    double probs[2];
    uint32_t best = model_score(f->trained, want, (size_t)n_want, probs);
    assert_int_equal(r.model_class, (int32_t)best);
    assert_true(r.model_prob > (float)probs[best] - 1e-6f &&
                r.model_prob < (float)probs[best] + 1e-6f);
    assert_int_equal(r.n_model, n_got);
}

static void fx_open(fx *f)
{
    char err[1024], path[128];
    memset(f, 0, sizeof(*f));
    f->trained = train(err, sizeof(err));
    if (!f->trained)
        fail_msg("train: %s", err);
    strcpy(f->dir, "/tmp/earshot_model_rules_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/model.json", f->dir);
    assert_int_equal(model_save(f->trained, path, NULL, err, sizeof(err)), 0);
    /* A model needs a rule set beside it (one brand is enough). */
    snprintf(path, sizeof(path), "%s/brands.json", f->dir);
    FILE *bf = fopen(path, "w");
    assert_non_null(bf);
    fputs("{\"brands\": [{\"id\": \"acme\", \"aliases\": [\"acmeair\"]}]}\n", bf);
    fclose(bf);
    f->rs = ruleset_load(f->dir, err, sizeof(err));
    if (!f->rs)
        fail_msg("ruleset_load: %s", err);
    assert_non_null(ruleset_model(f->rs));
    assert_int_equal(ruleset_model_polarity(f->rs, 0), POLARITY_COMPLAINT);
    assert_int_equal(ruleset_model_polarity(f->rs, 1), POLARITY_NEUTRAL);
    f->ms = match_scratch_new();
    f->tn = text_norm_new();
    f->mfx = model_fx_new();
}

static void fx_close(fx *f)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    model_free(f->trained);
    ruleset_unref(f->rs);
    match_scratch_free(f->ms);
    text_norm_free(f->tn);
    model_fx_free(f->mfx);
}

static void test_served_equals_tokeniser(void **state)
{
    fx f;
    (void)state;
    fx_open(&f);
    for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
        fx_check(&f, posts[i].text);
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        fx_check(&f, edge[i]);
    fx_close(&f);
}

/* Random texts: the model's own n-grams glued by the separators that
 * decide tokens (space, double space, punctuation, '@', '#', URLs). */
static void test_served_equals_tokeniser_random(void **state)
{
    static const char *const glue[] = {" ", "  ", ", ", "!", "'", " @", " #", "#",
                                       " https://t.co/", "@", "-", "\n", "?", ""};
    fx f;
    char text[1024];
    (void)state;
    fx_open(&f);
    size_t n = model_ngram_count(f.trained);
    srand(4242);
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, words = 1 + (size_t)rand() % 8;
        for (size_t w = 0; w < words; w++) {
            const char *g = glue[(size_t)rand() % (sizeof(glue) / sizeof(glue[0]))];
            const char *t = model_ngram(f.trained, (size_t)rand() % n);
            if (t[0] == '<' || t[0] == '@') /* "<url>", "@user": not text */
                t = "x";
            if (len + strlen(g) + strlen(t) + 1 >= sizeof(text))
                break;
            len += (size_t)sprintf(text + len, "%s%s", w ? g : "", t);
        }
        fx_check(&f, text);
    }
    fx_close(&f);
}

/* Signals: a model trained with the rules' verdicts ("rule:ID",
 * "lexicon:...") gets the same signals served from the same rules. */
static size_t signals_of(ruleset *rs, match_scratch *ms, text_norm *tn, const char *text,
                         char buf[][64], const char **ptr)
{
    const char *norm;
    size_t nlen, n = 0;
    char err[256];
    match_result r;
    assert_int_equal(text_normalize(tn, text, strlen(text), &norm, &nlen), 0);
    assert_int_equal(match_post(rs, ms, NULL, norm, nlen, &r, err, sizeof(err)), 0);
    for (uint32_t i = 0; i < r.n_rules; i++, n++)
        snprintf(buf[n], 64, "rule:%s", ruleset_rule(rs, r.rules[i])->id);
    if (r.valence <= -1.5 || r.valence >= 1.5)
        snprintf(buf[n++], 64, "lexicon:%s", r.valence < 0 ? "negative" : "positive");
    for (size_t i = 0; i < n; i++)
        ptr[i] = buf[i];
    return n;
}

static void test_signals_served(void **state)
{
    static const char *const texts[][2] = {
        {"shame on you, terrible", "0"}, {"#ShameOnYou acme", "0"},
        {"total #fail, bad", "0"},       {"not good at all", "0"},
        {"great, thanks for it", "1"},   {"good good", "1"},
        {"no problem, good", "1"},       {"&lt;3 acme", "1"},
    };
    const char *classes[] = {"complaint", "praise"};
    char err[1024], dir[] = "/tmp/earshot_signals_XXXXXX", path[128], cmd[256];
    char buf[MATCH_MAX_RULES + 1][64];
    const char *ptr[MATCH_MAX_RULES + 1];
    (void)state;
    ruleset *plain = ruleset_load(EARSHOT_SOURCE_DIR "/tests/data/rules_lexicon", err,
                                  sizeof(err));
    assert_non_null(plain);
    match_scratch *ms = match_scratch_new();
    text_norm *tn = text_norm_new();
    model_fx *mfx = model_fx_new();
    model_data *d = model_data_new(classes, 2);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        size_t n = signals_of(plain, ms, tn, texts[i][0], buf, ptr);
        assert_int_equal(model_data_add_signals(d, mfx, texts[i][0], strlen(texts[i][0]),
                                                ptr, n, (uint32_t)(texts[i][1][0] - '0')), 0);
    }
    model_train_opts o;
    model_train_opts_default(&o);
    o.min_count = 1;
    model *m = model_train(d, &o, NULL, err, sizeof(err));
    assert_non_null(m);
    assert_true(model_ngram_find(m, "rule:r.shame", 12) >= 0);
    assert_true(model_ngram_find(m, "lexicon:negative", 16) >= 0);
    assert_int_equal(model_ngram_kind_of(m, (size_t)model_ngram_find(m, "rule:r.shame", 12)),
                     MODEL_NGRAM_SIGNAL);
    /* The same rules plus the model in one directory. */
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "cp %s/tests/data/rules_lexicon/*.json %s/",
             EARSHOT_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/zz-model.json", dir);
    assert_int_equal(model_save(m, path, NULL, err, sizeof(err)), 0);
    ruleset *served = ruleset_load(dir, err, sizeof(err));
    if (!served)
        fail_msg("%s", err);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const char *t = texts[i][0];
        uint32_t want[256], got[256];
        size_t n = signals_of(plain, ms, tn, t, buf, ptr), n_got;
        long nw = model_text_ids(m, mfx, t, strlen(t), want, 256);
        assert_true(nw >= 0);
        for (size_t k = 0; k < n; k++) {
            long id = model_ngram_find(m, ptr[k], strlen(ptr[k]));
            if (id >= 0)
                want[nw++] = (uint32_t)id;
        }
        qsort(want, (size_t)nw, sizeof(*want), cmp_u32);
        const char *norm;
        size_t nlen;
        match_result r;
        assert_int_equal(text_normalize(tn, t, strlen(t), &norm, &nlen), 0);
        assert_int_equal(match_post(served, ms, NULL, norm, nlen, &r, err, sizeof(err)), 0);
        const uint32_t *ids = match_model_ids(ms, &n_got);
        memcpy(got, ids, n_got * sizeof(*ids));
        qsort(got, n_got, sizeof(*got), cmp_u32);
        if ((size_t)nw != n_got || memcmp(want, got, n_got * sizeof(*got)))
            fail_msg("\"%s\": %ld features trained, %zu served", t, nw, n_got);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    ruleset_unref(served);
    ruleset_unref(plain);
    model_free(m);
    model_data_free(d);
    model_fx_free(mfx);
    text_norm_free(tn);
    match_scratch_free(ms);
}

/* Errors: a model whose classes name no polarity, and a second model. */
static void test_model_errors(void **state)
{
    char err[1024], path[160], cmd[160];
    fx f;
    (void)state;
    fx_open(&f);
    snprintf(path, sizeof(path), "%s/second.json", f.dir);
    assert_int_equal(model_save(f.trained, path, NULL, err, sizeof(err)), 0);
    assert_null(ruleset_load(f.dir, err, sizeof(err)));
    char want[512];
    snprintf(want, sizeof(want),
             "%s/second.json: a second model file; the model in %s/model.json is "
             "already loaded: keep one model per rules directory", f.dir, f.dir);
    assert_string_equal(err, want);
    snprintf(cmd, sizeof(cmd), "rm -f %s/second.json", f.dir);
    assert_int_equal(system(cmd), 0);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_equals_tokeniser),
        cmocka_unit_test(test_served_equals_tokeniser_random),
        cmocka_unit_test(test_signals_served),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
