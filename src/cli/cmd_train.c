/*
 * `earshot train`: a text classifier from gold-labelled JSON lines (the
 * model itself is src/model/), with stratified k-fold cross-validation
 * reported by src/eval/, the report `earshot eval` prints.
 *
 * The posts are read once and kept in memory (text and label), because the
 * classes, in first-seen order, are only known after the last line; 15k
 * tweets are a few MB. Lines the post parser rejects and lines without a
 * usable label are skipped and counted, as `earshot eval` does, and the
 * counts are printed and recorded in the model.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "eval/eval.h"
#include "model/model.h"
#include "engine/engine.h"
#include "post/post.h"
#include "rules/rules.h"

#define TRAIN_MAX_CLASSES EVAL_MAX_CLASSES
#define TRAIN_MAX_LABELS 4096     /* distinct labels read before giving up */
#define TRAIN_REJECTS_SHOWN 10    /* parser rejections echoed to stderr */
#define TRAIN_TOP 10              /* misses listed per class in the report */

typedef struct train_post {
    char *text;                   /* the parsed post's text, owned */
    size_t len;
    char *raw;                    /* --rules: the whole line, for the engine */
    size_t raw_len;
    uint32_t label;               /* index into train_run.labels */
    uint32_t file;                /* index into the FILE arguments */
    uint64_t line;
} train_post;

typedef struct train_run {
    const char *label_field;
    int keep_raw;                 /* --rules: keep each line for the engine */
    char **labels;                /* distinct gold labels, first seen first */
    size_t n_labels;
    train_post *posts;
    size_t n_posts, cap_posts;
    json_t *skipped;              /* {reason: lines} */
    uint64_t rejects;
    /* classes and the label -> class map */
    char *classes[TRAIN_MAX_CLASSES];
    size_t n_classes;
    int *label_class;             /* per label: class, -1 skipped */
} train_run;

static double train_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void train_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot train [--label-field NAME] [--classes A,B,...]\n"
        "                     [--map GOLD=CLASS,...] [--folds K] [--seed S] [--l2 X]\n"
        "                     [--epochs N] [--min-count N] [--max-features N]\n"
        "                     [--rules DIR] [--json FILE] [-o MODEL] FILE...\n"
        "\n"
        "Trains a text classifier on gold-labelled JSON lines (any input shape\n"
        "`earshot classify` accepts, plus a label field): L2-penalised logistic\n"
        "regression (softmax) over word 1-2 grams, hashtags, emoji, @user and <url>,\n"
        "each a literal of the normalised text, IDF-weighted and L2-normalised.\n"
        "The same data and options give the same model, byte for byte (set\n"
        "SOURCE_DATE_EPOCH to fix the date recorded in it).\n"
        "\n"
        "  -o MODEL            write the model (JSON) trained on every post\n"
        "  --folds K           stratified K-fold cross-validation: print per-class\n"
        "                      precision/recall/F1, the confusion matrix, accuracy\n"
        "                      and macro-F1 (the `earshot eval` report); without -o\n"
        "                      no model is written, with -o the figures go into it\n"
        "  --label-field NAME  top-level field with the gold label, a string or an\n"
        "                      integer (default: label)\n"
        "  --classes A,B,...   the classes and their order (default: the labels in\n"
        "                      first-seen order); other labels are skipped\n"
        "  --map GOLD=CLASS,.. gold label -> class, e.g. --map 0=negative,1=positive;\n"
        "                      classes are the targets in the order given unless\n"
        "                      --classes says; unmapped labels are skipped\n"
        "  --seed S            shuffles the folds (default 1)\n"
        "  --l2 X              penalty on the weights, > 0 (default 1; higher: smoother)\n"
        "  --epochs N          L-BFGS iterations at most (default 200)\n"
        "  --min-count N       keep n-grams seen in at least N posts (default 2)\n"
        "  --max-features N    keep the N n-grams with the largest weights (default\n"
        "                      5000: each is a term of the serving scan), then train\n"
        "                      again on exactly those\n"
        "  --rules DIR         also learn from what these rules find: a feature per\n"
        "                      fired rule (rule:ID) and the lexicon's side\n"
        "                      (lexicon:negative|positive); serve the model from the\n"
        "                      same rules directory (any model in DIR is left out)\n"
        "  --json FILE         also write the figures as JSON (- for stdout; the text\n"
        "                      report then goes to stderr)\n"
        "\n"
        "Lines the post parser rejects, without a label, or whose label is not a\n"
        "class are skipped and counted. Exit status: 0 done, 1 an input or output\n"
        "could not be read or written, or the data cannot train a model (fewer than\n"
        "two classes, no n-gram passes --min-count), 2 usage.\n");
}

static int train_parse_double(const char *name, const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || v <= 0) {
        fprintf(stderr, "earshot train: %s wants a number > 0, got '%s'\n", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int train_parse_seed(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!*s || *s == '-' || *s == '+' || (v = strtoull(s, &end, 10), errno) || *end) {
        fprintf(stderr, "earshot train: --seed wants a whole number from 0 to "
                        "18446744073709551615, got '%s'\n", s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static int train_class_index(const train_run *tr, const char *name, size_t len)
{
    for (size_t c = 0; c < tr->n_classes; c++)
        if (strlen(tr->classes[c]) == len && !memcmp(tr->classes[c], name, len))
            return (int)c;
    return -1;
}

static int train_add_class(train_run *tr, const char *name, size_t len)
{
    if (train_class_index(tr, name, len) >= 0)
        return 0;
    if (tr->n_classes == TRAIN_MAX_CLASSES) {
        fprintf(stderr, "earshot train: more than %d classes\n", TRAIN_MAX_CLASSES);
        return -1;
    }
    if (!(tr->classes[tr->n_classes] = strndup(name, len))) {
        fprintf(stderr, "earshot train: out of memory\n");
        return -1;
    }
    tr->n_classes++;
    return 0;
}

/* "a,b,c": the classes, in order. */
static int train_parse_classes(train_run *tr, const char *spec)
{
    const char *s = spec;
    for (;;) {
        size_t n = strcspn(s, ",");
        if (n == 0) {
            fprintf(stderr, "earshot train: --classes has an empty name in '%s'\n", spec);
            return -1;
        }
        if (train_class_index(tr, s, n) >= 0) {
            fprintf(stderr, "earshot train: --classes names '%.*s' twice\n", (int)n, s);
            return -1;
        }
        if (train_add_class(tr, s, n))
            return -1;
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

/* "GOLD=CLASS,...": checked here (usage), applied by train_map_labels. With
 * add_classes, the targets become the classes in order. */
static int train_check_map(train_run *tr, const char *spec, int add_classes)
{
    const char *s = spec;
    for (;;) {
        size_t n = strcspn(s, ","), g = strcspn(s, "=");
        if (g >= n || g == 0 || g + 1 == n) {
            fprintf(stderr, "earshot train: --map wants GOLD=CLASS,..., got '%.*s'\n",
                    (int)n, s);
            return -1;
        }
        if (add_classes) {
            if (train_add_class(tr, s + g + 1, n - g - 1))
                return -1;
        } else if (train_class_index(tr, s + g + 1, n - g - 1) < 0) {
            fprintf(stderr, "earshot train: --map target '%.*s' is not in --classes\n",
                    (int)(n - g - 1), s + g + 1);
            return -1;
        }
        for (const char *p = spec; p < s;) {
            size_t pn = strcspn(p, ","), pg = strcspn(p, "=");
            if (pg == g && !memcmp(p, s, g)) {
                fprintf(stderr, "earshot train: --map gives label '%.*s' twice\n",
                        (int)g, s);
                return -1;
            }
            p += pn + 1;
        }
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

/* The class of one gold label under --map (or, without it, by name). */
static int train_label_class(const train_run *tr, const char *map, const char *label)
{
    size_t ll = strlen(label);
    const char *s = map;
    if (!map)
        return train_class_index(tr, label, ll);
    for (;;) {
        size_t n = strcspn(s, ","), g = strcspn(s, "=");
        if (g == ll && !memcmp(s, label, g))
            return train_class_index(tr, s + g + 1, n - g - 1);
        if (!s[n])
            return -1;
        s += n + 1;
    }
}

static int train_skip(train_run *tr, const char *reason)
{
    json_t *v = json_object_get(tr->skipped, reason);
    return json_object_set_new(tr->skipped, reason,
                               json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int train_label_index(train_run *tr, const char *label, uint32_t *out)
{
    size_t i;
    for (i = 0; i < tr->n_labels; i++)
        if (!strcmp(tr->labels[i], label)) {
            *out = (uint32_t)i;
            return 0;
        }
    if (i == TRAIN_MAX_LABELS) {
        fprintf(stderr, "earshot train: more than %d distinct values in field '%s': "
                        "is --label-field right?\n", TRAIN_MAX_LABELS, tr->label_field);
        return -1;
    }
    {
        char **l = realloc(tr->labels, (i + 1) * sizeof(*l));
        if (!l)
            return -1;
        tr->labels = l;
        if (!(l[i] = strdup(label)))
            return -1;
    }
    tr->n_labels++;
    *out = (uint32_t)i;
    return 0;
}

/* Reads one file of JSON lines into tr. 0; -1 read error (reported);
 * -2 a fatal problem (reported). */
static int train_read(train_run *tr, post_parser *pp, const char *name, FILE *in,
                      uint32_t file)
{
    char *line = NULL, perr[256], num[32];
    size_t cap = 0;
    ssize_t got;
    uint64_t line_no = 0;
    int rc = 0;

    errno = 0;
    while ((got = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)got;
        post p;
        json_t *doc;
        const char *label;
        train_post *tp;

        line_no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (post_parse(pp, line, len, &p, perr, sizeof(perr))) {
            if (tr->rejects++ < TRAIN_REJECTS_SHOWN)
                fprintf(stderr, "earshot train: %s:%llu: rejected: %s\n", name,
                        (unsigned long long)line_no, perr);
            train_skip(tr, "rejected by the post parser");
            continue;
        }
        doc = json_loadb(line, len, 0, NULL);
        label = eval_gold_label(doc, tr->label_field, num, sizeof(num));
        if (!label) {
            json_decref(doc);
            train_skip(tr, "no label");
            continue;
        }
        if (tr->n_posts == tr->cap_posts) {
            size_t c = tr->cap_posts ? tr->cap_posts * 2 : 1024;
            train_post *np = realloc(tr->posts, c * sizeof(*np));
            if (!np) {
                json_decref(doc);
                rc = -2;
                fprintf(stderr, "earshot train: out of memory\n");
                break;
            }
            tr->posts = np;
            tr->cap_posts = c;
        }
        tp = &tr->posts[tr->n_posts];
        tp->file = file;
        tp->line = line_no;
        tp->len = p.text.len;
        tp->text = malloc(p.text.len ? p.text.len : 1);
        if (!tp->text || train_label_index(tr, label, &tp->label)) {
            free(tp->text);
            json_decref(doc);
            rc = -2;
            break;
        }
        memcpy(tp->text, p.text.ptr, p.text.len);
        tp->raw = NULL;
        tp->raw_len = len;
        if (tr->keep_raw && !(tp->raw = malloc(len ? len : 1))) {
            free(tp->text);
            json_decref(doc);
            rc = -2;
            break;
        }
        if (tp->raw)
            memcpy(tp->raw, line, len);
        json_decref(doc);
        tr->n_posts++;
    }
    if (!rc && ferror(in)) {
        fprintf(stderr, "earshot train: reading '%s': %s\n", name, strerror(errno ? errno : EIO));
        rc = -1;
    }
    free(line);
    return rc;
}

/* --rules: what the rules engine finds in the post, as the model's signal
 * features ("rule:ID" per fired rule, "lexicon:negative|positive" past the
 * lexicon's threshold): exactly what the matcher adds when it serves the
 * model from the same rules (src/match/match.c). */
#define TRAIN_MAX_SIGNALS (MATCH_MAX_RULES + 1)
typedef struct train_signals {
    char buf[TRAIN_MAX_SIGNALS][160];
    const char *ptr[TRAIN_MAX_SIGNALS];
    size_t n;
} train_signals;

static void train_signals_of(const ruleset *rs, engine_worker *ew, const train_post *tp,
                             train_signals *sg)
{
    engine_output out;
    sg->n = 0;
    if (engine_classify(ew, rs, tp->raw, tp->raw_len, 0, &out) != ENGINE_EVENT)
        return;
    const match_result *m = out.matches;
    for (uint32_t i = 0; i < m->n_rules && sg->n < TRAIN_MAX_SIGNALS - 1; i++) {
        int n = snprintf(sg->buf[sg->n], sizeof(sg->buf[0]), "rule:%s",
                         ruleset_rule(rs, m->rules[i])->id);
        if (n > 0 && (size_t)n < sizeof(sg->buf[0]))
            sg->n++;
    }
    const rules_lexicon *lx = ruleset_lexicon(rs);
    if (lx->present && (m->valence <= -lx->threshold || m->valence >= lx->threshold))
        snprintf(sg->buf[sg->n++], sizeof(sg->buf[0]), "lexicon:%s",
                 m->valence < 0 ? "negative" : "positive");
    for (size_t i = 0; i < sg->n; i++)
        sg->ptr[i] = sg->buf[i];
}

static void train_run_free(train_run *tr)
{
    for (size_t i = 0; i < tr->n_posts; i++) {
        free(tr->posts[i].text);
        free(tr->posts[i].raw);
    }
    free(tr->posts);
    for (size_t i = 0; i < tr->n_labels; i++)
        free(tr->labels[i]);
    free(tr->labels);
    for (size_t c = 0; c < tr->n_classes; c++)
        free(tr->classes[c]);
    free(tr->label_class);
    json_decref(tr->skipped);
}

/* The date recorded in the model: $SOURCE_DATE_EPOCH when set (reproducible
 * builds' convention), else now. */
static void train_date(char *buf, size_t size)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = time(NULL);
    struct tm tm;
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (!*end && v >= 0)
            t = (time_t)v;
    }
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int train_write_json(json_t *j, const char *path)
{
    int rc;
    if (!strcmp(path, "-"))
        return json_dumpf(j, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF ? -1 : 0;
    rc = json_dump_file(j, path, JSON_INDENT(2));
    if (rc)
        fprintf(stderr, "earshot train: cannot write '%s': %s\n", path, strerror(errno));
    return rc;
}

/* The cross-validation, reported through eval; *summary gets the figures
 * for the model's training block. 0, or the exit status. */
static int train_folds(train_run *tr, model_data *d, const uint32_t *post_of,
                       const model_train_opts *o, size_t folds, char **files,
                       const char *json_path, json_t **summary)
{
    size_t n = model_data_posts(d), K = tr->n_classes;
    uint32_t *pred = malloc((n ? n : 1) * sizeof(uint32_t));
    double *probs = malloc((n ? n : 1) * K * sizeof(double));
    FILE *report = json_path && !strcmp(json_path, "-") ? stderr : stdout;
    char err[512];
    eval *ev = NULL;
    json_t *j = NULL;
    double t0 = train_now_s();
    int rc = 1;

    if (!pred || !probs) {
        fprintf(stderr, "earshot train: out of memory\n");
        goto out;
    }
    if (model_cross_validate(d, o, folds, pred, probs, err, sizeof(err))) {
        fprintf(stderr, "earshot train: %s\n", err);
        goto out;
    }
    if (!(ev = eval_new((const char *const *)tr->classes, K, TRAIN_TOP, err, sizeof(err)))) {
        fprintf(stderr, "earshot train: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const train_post *tp = &tr->posts[post_of[i]];
        uint32_t gold = model_data_class(d, i);
        char ref[512];
        eval_detail det = {.text = tp->text, .text_len = tp->len, .ref = ref,
                           .score = probs[i * K + pred[i]]};
        snprintf(ref, sizeof(ref), "%s:%llu", files[tp->file], (unsigned long long)tp->line);
        if (eval_add(ev, (int)gold, (int)pred[i], gold == pred[i] ? NULL : &det)) {
            fprintf(stderr, "earshot train: out of memory\n");
            goto out;
        }
    }
    {
        const char *reason;
        json_t *v;
        json_object_foreach(tr->skipped, reason, v)
            for (json_int_t k = 0; k < json_integer_value(v); k++)
                eval_skip(ev, reason);
    }
    eval_set_elapsed(ev, train_now_s() - t0);
    fprintf(report, "earshot train: %zu-fold cross-validation, seed %llu, l2 %g, "
            "min-count %zu, max-features %zu, label field '%s'\n", folds,
            (unsigned long long)o->seed, o->l2, o->min_count, o->max_features,
            tr->label_field);
    eval_print(ev, report);
    fflush(report);

    j = eval_json(ev);
    if (!j) {
        fprintf(stderr, "earshot train: out of memory\n");
        goto out;
    }
    json_object_set_new(j, "folds", json_integer((json_int_t)folds));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "l2", json_real(o->l2));
    json_object_set_new(j, "label_field", json_string(tr->label_field));
    if (json_path && train_write_json(j, json_path))
        goto out;
    /* The model keeps the headline figures, not the misses' texts. */
    *summary = json_pack("{s:I, s:I, s:o, s:o, s:o}", "folds", (json_int_t)folds,
                         "seed", (json_int_t)o->seed,
                         "accuracy", json_incref(json_object_get(j, "accuracy")),
                         "macro_f1", json_incref(json_object_get(j, "macro_f1")),
                         "per_class", json_incref(json_object_get(j, "per_class")));
    rc = 0;
out:
    json_decref(j);
    eval_free(ev);
    free(pred);
    free(probs);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"label-field", required_argument, NULL, 'l'},
        {"classes", required_argument, NULL, 'c'},
        {"map", required_argument, NULL, 'm'},
        {"folds", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, 's'},
        {"l2", required_argument, NULL, 'L'},
        {"epochs", required_argument, NULL, 'e'},
        {"min-count", required_argument, NULL, 'n'},
        {"max-features", required_argument, NULL, 'x'},
        {"json", required_argument, NULL, 'j'},
        {"no-balance", no_argument, NULL, 'B'},
        {"output", required_argument, NULL, 'o'},
        {"rules", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL, *json_path = NULL, *map = NULL, *classes = NULL;
    const char *rules_dir = NULL;
    ruleset *rs = NULL;
    engine_worker *ew = NULL;
    train_signals *sg = NULL;
    model_train_opts o;
    size_t folds = 0, epochs;
    train_run tr;
    post_parser *pp = NULL;
    model_fx *fx = NULL;
    model_data *d = NULL;
    model *m = NULL;
    uint32_t *post_of = NULL;
    json_t *cv = NULL, *training = NULL, *counts = NULL;
    char err[1024], date[32];
    double t0;
    int opt, rc = 2, n_files;

    memset(&tr, 0, sizeof(tr));
    tr.label_field = "label";
    model_train_opts_default(&o);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            if (!*optarg) {
                fprintf(stderr, "earshot train: --label-field needs a field name\n");
                return 2;
            }
            tr.label_field = optarg;
            break;
        case 'c': classes = optarg; break;
        case 'm': map = optarg; break;
        case 'k':
            if (cli_parse_size(optarg, 2, 1000, &folds)) {
                fprintf(stderr, "earshot train: --folds wants 2..1000, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            if (train_parse_seed(optarg, &o.seed))
                return 2;
            break;
        case 'L':
            if (train_parse_double("--l2", optarg, &o.l2))
                return 2;
            break;
        case 'e':
            if (cli_parse_size(optarg, 1, 100000, &epochs)) {
                fprintf(stderr, "earshot train: --epochs wants 1..100000, got '%s'\n", optarg);
                return 2;
            }
            o.epochs = (unsigned)epochs;
            break;
        case 'n':
            if (cli_parse_size(optarg, 1, (size_t)1 << 32, &o.min_count)) {
                fprintf(stderr, "earshot train: --min-count wants a whole number >= 1, "
                                "got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'x':
            if (cli_parse_size(optarg, 1, (size_t)UINT32_MAX - 1, &o.max_features)) {
                fprintf(stderr, "earshot train: --max-features wants a whole number >= 1, "
                                "got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'j': json_path = optarg; break;
        case 'B': o.balanced = 0; break;
        case 'o': out_path = optarg; break;
        case 'r': rules_dir = optarg; break;
        case 'h': train_usage(stdout); return 0;
        default: train_usage(stderr); return 2;
        }
    }
    n_files = argc - optind;
    if (n_files == 0) {
        fprintf(stderr, "earshot train: give one or more labelled JSON-lines FILEs "
                        "(see earshot train --help)\n");
        return 2;
    }
    if (!out_path && !folds) {
        fprintf(stderr, "earshot train: nothing to do: give -o MODEL to write a model, "
                        "--folds K to cross-validate, or both\n");
        return 2;
    }
    if ((classes && train_parse_classes(&tr, classes)) ||
        (map && train_check_map(&tr, map, classes == NULL)))
        goto done;
    if (!(tr.skipped = json_object())) {
        fprintf(stderr, "earshot train: out of memory\n");
        rc = 1;
        goto done;
    }

    if (rules_dir) {
        engine_config ec;
        /* Without any model in the directory: signals come from the rules. */
        rs = cli_load_rules_model("train", rules_dir, true, false, err, sizeof(err));
        if (!rs) {
            fprintf(stderr, "earshot train: %s\n", err);
            goto done;
        }
        engine_config_default(&ec);
        tr.keep_raw = 1;
        if (!(ew = engine_worker_new(&ec)) || !(sg = malloc(sizeof(*sg)))) {
            fprintf(stderr, "earshot train: out of memory\n");
            rc = 1;
            goto done;
        }
    }
    rc = 1;
    t0 = train_now_s();
    if (!(pp = post_parser_new(NULL)) || !(fx = model_fx_new())) {
        fprintf(stderr, "earshot train: out of memory\n");
        goto done;
    }
    for (int i = 0; i < n_files; i++) {
        const char *name = argv[optind + i];
        FILE *in = strcmp(name, "-") ? fopen(name, "rb") : stdin;
        int r;
        if (!in) {
            fprintf(stderr, "earshot train: cannot open '%s': %s\n", name, strerror(errno));
            goto done;
        }
        r = train_read(&tr, pp, name, in, (uint32_t)i);
        if (in != stdin)
            fclose(in);
        if (r)
            goto done;
    }
    if (tr.rejects > TRAIN_REJECTS_SHOWN)
        fprintf(stderr, "earshot train: %llu more rejected lines not shown\n",
                (unsigned long long)(tr.rejects - TRAIN_REJECTS_SHOWN));

    /* Classes: --classes, else --map's targets, else the labels as seen. */
    for (size_t i = 0; !classes && !map && i < tr.n_labels; i++)
        if (train_add_class(&tr, tr.labels[i], strlen(tr.labels[i])))
            goto done;
    if (!(tr.label_class = malloc((tr.n_labels ? tr.n_labels : 1) * sizeof(int))))
        goto done;
    for (size_t i = 0; i < tr.n_labels; i++)
        tr.label_class[i] = train_label_class(&tr, map, tr.labels[i]);

    if (!(d = model_data_new((const char *const *)tr.classes, tr.n_classes)) ||
        !(post_of = malloc((tr.n_posts ? tr.n_posts : 1) * sizeof(uint32_t)))) {
        fprintf(stderr, "earshot train: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < tr.n_posts; i++) {
        const train_post *tp = &tr.posts[i];
        int cls = tr.label_class[tp->label];
        if (cls < 0) {
            train_skip(&tr, map ? "label not in --map" : "label not in --classes");
            continue;
        }
        post_of[model_data_posts(d)] = (uint32_t)i;
        if (rs)
            train_signals_of(rs, ew, tp, sg);
        if (model_data_add_signals(d, fx, tp->text, tp->len, sg ? sg->ptr : NULL,
                                   sg ? sg->n : 0, (uint32_t)cls)) {
            fprintf(stderr, "earshot train: %s:%llu: cannot tokenise the text (out of "
                            "memory)\n", argv[optind + tp->file], (unsigned long long)tp->line);
            goto done;
        }
    }
    {
        const char *reason;
        json_t *v;
        json_object_foreach(tr.skipped, reason, v)
            fprintf(stderr, "earshot train: skipped %lld lines: %s\n",
                    (long long)json_integer_value(v), reason);
    }
    fprintf(stderr, "earshot train: %zu posts read and tokenised in %.2f s\n",
            model_data_posts(d), train_now_s() - t0);

    if (folds) {
        double t1 = train_now_s();
        int r = train_folds(&tr, d, post_of, &o, folds, argv + optind,
                            out_path ? NULL : json_path, &cv);
        if (r) {
            rc = r;
            goto done;
        }
        fprintf(stderr, "earshot train: cross-validation took %.2f s\n", train_now_s() - t1);
    }
    if (out_path) {
        double t1 = train_now_s();
        m = model_train(d, &o, NULL, err, sizeof(err));
        if (!m) {
            fprintf(stderr, "earshot train: %s\n", err);
            goto done;
        }
        train_date(date, sizeof(date));
        counts = json_object();
        for (size_t c = 0; counts && c < tr.n_classes; c++)
            json_object_set_new(counts, tr.classes[c],
                                json_integer((json_int_t)model_data_class_count(d, (uint32_t)c)));
        training = json_pack("{s:I, s:o, s:O, s:s, s:I, s:f, s:I, s:I, s:I, s:s, s:o, s:o}",
                             "posts", (json_int_t)model_data_posts(d),
                             "class_posts", counts,
                             "skipped", tr.skipped,
                             "label_field", tr.label_field,
                             "seed", (json_int_t)o.seed, "l2", o.l2,
                             "epochs", (json_int_t)o.epochs,
                             "min_count", (json_int_t)o.min_count,
                             "max_features", (json_int_t)o.max_features,
                             "date", date,
                             "folds", cv ? cv : json_null(),
                             "rules_version", rs ? json_string(ruleset_version(rs))
                                                 : json_null());
        cv = NULL;
        counts = NULL;
        if (!training) {
            fprintf(stderr, "earshot train: out of memory\n");
            goto done;
        }
        if (model_save(m, out_path, training, err, sizeof(err))) {
            fprintf(stderr, "earshot train: %s\n", err);
            goto done;
        }
        fprintf(stderr, "earshot train: model %s: %zu classes, %zu n-grams, version %s, "
                        "trained in %.2f s\n", out_path, model_class_count(m),
                model_ngram_count(m), model_version(m), train_now_s() - t1);
        if (json_path) {
            json_t *j = json_pack("{s:s, s:s, s:I, s:O}", "model", out_path,
                                  "version", model_version(m),
                                  "ngrams", (json_int_t)model_ngram_count(m),
                                  "training", training);
            int bad = !j || train_write_json(j, json_path);
            json_decref(j);
            if (bad)
                goto done;
        }
    }
    rc = 0;
done:
    json_decref(cv);
    json_decref(counts);
    json_decref(training);
    model_free(m);
    model_data_free(d);
    model_fx_free(fx);
    post_parser_free(pp);
    engine_worker_free(ew);
    ruleset_unref(rs);
    free(sg);
    free(post_of);
    train_run_free(&tr);
    return rc;
}
