/*
 * `earshot eval`: classify labelled JSON lines exactly as `earshot classify`
 * does and report how the predicted polarities agree with the gold labels
 * (the report itself is src/eval/).
 *
 * Two passes over the files. The first reads only the gold labels (jansson),
 * because the default label map depends on which labels occur ("neutral"
 * takes "question" only when no line is labelled "question"); it keeps one
 * small integer per line so the second pass, the engine's, parses no label
 * again. Hence FILEs and not stdin. jansson runs once more per miss, to pull
 * the text out of the event for the report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "base/base_buf.h"
#include "cli/cli_common.h"
#include "engine/engine.h"
#include "eval/eval.h"
#include "model/model.h"
#include "rules/rules.h"

#define EVAL_NO_LABEL (-1)        /* per-line label slot: no usable label */
#define EVAL_MAX_LABELS 4096      /* distinct labels read before giving up */
#define EVAL_REJECTS_SHOWN 10     /* engine rejections echoed to stderr */

/* The distinct gold labels in first-seen order; lines point into it. */
typedef struct eval_labels {
    char **names;
    size_t n;
    int32_t *line_label;          /* per line over all files, EVAL_NO_LABEL */
    size_t n_lines, cap_lines;
} eval_labels;

typedef struct eval_run {
    const char *label_field;
    eval_labels labels;
    eval_labelmap map;
    int *label_class;             /* distinct label -> class, -1 not in --map */
    eval *ev;
    engine_worker *worker;
    const ruleset *rules;
    uint64_t rejects;
} eval_run;

static double eval_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void eval_labels_free(eval_labels *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->line_label);
}

static int eval_labels_push(eval_labels *l, int32_t label)
{
    if (l->n_lines == l->cap_lines) {
        int32_t *g = base_grow(l->line_label, &l->cap_lines, sizeof(*g), 4096);
        if (!g)
            return -1;
        l->line_label = g;
    }
    l->line_label[l->n_lines++] = label;
    return 0;
}

/* Pass 1 over one file: every line's label index. 0; -1 read error, -2
 * too many labels or out of memory; err says which. */
static int eval_read_labels(eval_run *er, FILE *in, char *err, size_t err_size)
{
    char *line = NULL, num[32];
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    errno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        json_t *doc = json_loadb(line, (size_t)len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL);
        const char *label = eval_gold_label(doc, er->label_field, num, sizeof(num));
        int32_t idx = EVAL_NO_LABEL;

        if (label) {
            size_t i;
            for (i = 0; i < er->labels.n; i++)
                if (!strcmp(er->labels.names[i], label))
                    break;
            if (i == er->labels.n) {
                char **names;
                if (i == EVAL_MAX_LABELS) {
                    snprintf(err, err_size, "more than %d distinct values in field '%s': "
                             "is --label-field right?", EVAL_MAX_LABELS, er->label_field);
                    json_decref(doc);
                    rc = -2;
                    break;
                }
                names = realloc(er->labels.names, (i + 1) * sizeof(*names));
                if (!names || !(names[i] = strdup(label))) {
                    if (names)
                        er->labels.names = names;
                    snprintf(err, err_size, "out of memory");
                    json_decref(doc);
                    rc = -2;
                    break;
                }
                er->labels.names = names;
                er->labels.n++;
            }
            idx = (int32_t)i;
        }
        json_decref(doc);
        if (eval_labels_push(&er->labels, idx)) {
            snprintf(err, err_size, "out of memory");
            rc = -2;
            break;
        }
    }
    if (!rc && ferror(in)) {
        snprintf(err, err_size, "%s", strerror(errno ? errno : EIO));
        rc = -1;
    }
    free(line);
    return rc;
}

/* Builds the classes from --map or, without one, from the labels seen, and
 * points every distinct label at its class. 0, or -1 with err. */
static int eval_build_map(eval_run *er, const char *map_spec, char *err, size_t err_size)
{
    if (map_spec) {
        if (eval_labelmap_parse(&er->map, map_spec, err, err_size))
            return -1;
    } else if (eval_labelmap_default(&er->map, (const char *const *)er->labels.names,
                                     er->labels.n, err, err_size)) {
        return -1;
    }
    if (!(er->label_class = malloc((er->labels.n ? er->labels.n : 1) * sizeof(int)))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < er->labels.n; i++) {
        er->label_class[i] = eval_labelmap_class(&er->map, er->labels.names[i]);
        /* Likely a typo in --map or the wrong field: say which, once. */
        if (er->label_class[i] < 0)
            fprintf(stderr, "earshot eval: label '%s' is not in --map; its lines are skipped\n",
                    er->labels.names[i]);
    }
    return 0;
}

/* The event's "text" for the miss list (the text the engine classified,
 * whichever input shape it came in). NULL when it cannot be read. */
static json_t *eval_event_text(const engine_output *out)
{
    json_t *ev = json_loadb(out->event, out->event_len, 0, NULL);
    json_t *text = json_incref(json_object_get(ev, "text"));

    json_decref(ev);
    return text;
}

/* What decided a miss beyond the rules: the lexicon's valence and, with a
 * model, its class and strongest n-grams ("valence -2.50; model complaint
 * 0.81: never +0.27, my +0.23"). */
#define EVAL_WHY_TOP 5
static void eval_why(const ruleset *rs, const engine_output *out, char *buf, size_t size)
{
    const match_result *m = out->matches;
    size_t n = 0;
    buf[0] = 0;
    if (ruleset_lexicon(rs)->present)
        n += (size_t)snprintf(buf + n, size - n, "valence %.2f", m->valence);
    if (ruleset_model(rs) && m->model_class >= 0 && n < size) {
        const struct model *md = ruleset_model(rs);
        model_contrib top[EVAL_WHY_TOP];
        size_t k = model_explain(md, out->model_ids, out->n_model_ids,
                                 (uint32_t)m->model_class, top, EVAL_WHY_TOP);
        n += (size_t)snprintf(buf + n, size - n, "%smodel %s %.2f:", n ? "; " : "",
                              model_class(md, (size_t)m->model_class), m->model_prob);
        for (size_t i = 0; i < k && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s %s %+.2f", i ? "," : "",
                                  model_ngram(md, top[i].id), top[i].value);
    }
}

static void eval_one(eval_run *er, const char *file, uint64_t line_no, int32_t label,
                     const char *line, size_t len)
{
    engine_output out;
    int gold, pred;

    if (len && line[len - 1] == '\n')
        len--;
    if (len && line[len - 1] == '\r') /* CRLF files */
        len--;
    /* The wall clock as classify uses it: polarity does not depend on it. */
    switch (engine_classify(er->worker, er->rules, line, len, (int64_t)time(NULL), &out)) {
    case ENGINE_EVENT:
        break;
    case ENGINE_REJECT:
    case ENGINE_ERROR:
        if (er->rejects++ < EVAL_REJECTS_SHOWN)
            fprintf(stderr, "earshot eval: %s:%llu: rejected: %s\n", file,
                    (unsigned long long)line_no, out.reason);
        eval_skip(er->ev, "rejected by the engine");
        return;
    }
    if (label == EVAL_NO_LABEL) {
        eval_skip(er->ev, "no label");
        return;
    }
    if ((gold = er->label_class[label]) < 0) {
        eval_skip(er->ev, "label not in --map");
        return;
    }
    pred = eval_labelmap_predict(&er->map, out.summary.polarity);
    if (pred == gold) {
        eval_detail d = {.rules = out.matches->rules, .n_rules = out.matches->n_rules};
        eval_add(er->ev, gold, pred, &d);
        return;
    }
    /* A miss: worth the text and where it is. */
    char ref[512];
    json_t *text = eval_event_text(&out);
    char why[512] = "";
    eval_detail d = {.rules = out.matches->rules, .n_rules = out.matches->n_rules, .ref = ref};
    snprintf(ref, sizeof(ref), "%s:%llu", file, (unsigned long long)line_no);
    eval_why(er->rules, &out, why, sizeof(why));
    if (*why)
        d.why = why;
    if (json_is_string(text)) {
        d.text = json_string_value(text);
        d.text_len = json_string_length(text);
    }
    eval_add(er->ev, gold, pred, &d);
    json_decref(text);
}

/* Pass 2 over one file; line_base indexes er->labels.line_label. */
static int eval_classify_file(eval_run *er, const char *file, FILE *in, size_t *line_base)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t line_no = 0;

    errno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        int32_t label = *line_base < er->labels.n_lines ? er->labels.line_label[*line_base]
                                                        : EVAL_NO_LABEL;
        ++*line_base;
        eval_one(er, file, ++line_no, label, line, (size_t)len);
    }
    free(line);
    return ferror(in) ? -1 : 0;
}

static void eval_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot eval [--rules DIR] [--label-field NAME]\n"
        "                    [--map GOLD=POLARITY[+POLARITY...],...] [--json FILE]\n"
        "                    [--top N] [--no-cache] [--no-model] FILE...\n"
        "\n"
        "Classifies labelled JSON lines (any input shape classify accepts, plus a\n"
        "gold label field) exactly as `earshot classify` does and reports how the\n"
        "predicted polarity agrees with the gold label: precision, recall, F1 and\n"
        "support per gold class, the confusion matrix (gold rows x predicted\n"
        "columns), accuracy, macro-F1, each fired rule's count and agreement, the\n"
        "first N false negatives and false positives per class (with two classes:\n"
        "only for the class not named not_*), and posts/s.\n"
        "\n"
        "Label map: each gold label stands for a set of polarities; a prediction\n"
        "counts for the label whose set holds it, or as \"(unmapped)\" (always wrong)\n"
        "when none does. Defaults, for the labels present in the files:\n"
        "  complaint, praise, question, neutral -> itself\n"
        "  not_complaint -> praise+question+neutral\n"
        "  negative -> complaint, positive -> praise\n"
        "  neutral -> neutral+question when no line is labelled question\n"
        "  any other label -> nothing (never predicted)\n"
        "--map replaces them, e.g. --map negative=complaint,neutral=neutral+question,positive=praise;\n"
        "then lines with another label are skipped and counted.\n"
        "\n"
        "  --rules DIR         rules directory (default: %s)\n"
        "  --label-field NAME  top-level field holding the gold label, a string or an\n"
        "                      integer (default: label)\n"
        "  --map SPEC          the label map, as above\n"
        "  --json FILE         also write the figures as one JSON object (- for stdout;\n"
        "                      the text report then goes to stderr)\n"
        "  --top N             misses listed per class and kind (default %d)\n"
        "  --no-cache          compile the rules instead of using the compiled-rule cache\n"
        "  --no-model          leave out a trained model in the rules directory: the\n"
        "                      rules and lexicon alone, to compare with the model\n"
        "\n"
        "JSON fields: classes [name]; posts; skipped {reason: lines}; label_map\n"
        "{label: [polarity]}; per_class {name: {precision, recall, f1, support,\n"
        "predicted, tp, fp, fn}}; confusion {rows, columns (classes + \"(unmapped)\"),\n"
        "counts [[n]]}; accuracy; macro_f1 (mean F1 of the classes that occur as gold\n"
        "or prediction); rules [{id, class (null: no polarity), fired, agreed,\n"
        "precision, gold {class: n}}]; misses [{class, kind (false_negative |\n"
        "false_positive), gold, predicted, text (first %d bytes), text_cut, ref\n"
        "(FILE:LINE), rules [id], rules_fired, score}]; elapsed_s; posts_per_s;\n"
        "rules_version; files [name]; label_field.\n"
        "\n"
        "Lines without a label, with a label not in --map, or rejected by the engine\n"
        "are counted under skipped, not fatal.\n"
        "\n"
        "Exit status: 0 report written, 1 an input or the JSON file could not be\n"
        "read or written, 2 usage, label map or rules error.\n",
        cli_default_rules_dir(), EVAL_TOP_DEFAULT, EVAL_TEXT_MAX);
}

/* Adds the run's own fields to the report object and writes it. 0 or -1. */
static int eval_write_json(eval_run *er, const char *path, char **files, int n_files)
{
    json_t *j = eval_json(er->ev), *map = json_object(), *fl = json_array();
    int rc = -1, bad = !j || !map || !fl;
    char buf[64];

    for (size_t c = 0; !bad && c < er->map.n; c++) {
        json_t *set = json_array();
        const char *s = eval_polset_str(er->map.sets[c], buf, sizeof(buf));
        /* "question+neutral" -> ["question","neutral"]; "(nothing)" -> [] */
        while (set && er->map.sets[c] && *s) {
            size_t n = strcspn(s, "+");
            bad |= json_array_append_new(set, json_stringn(s, n));
            s += n + (s[n] == '+');
        }
        bad |= !set || json_object_set_new(map, er->map.names[c], set);
    }
    for (int i = 0; !bad && i < n_files; i++)
        bad |= json_array_append_new(fl, json_string(files[i]));
    if (!bad) {
        bad |= json_object_set_new(j, "label_map", map);
        map = NULL;
        bad |= json_object_set_new(j, "files", fl);
        fl = NULL;
        bad |= json_object_set_new(j, "label_field", json_string(er->label_field));
        bad |= json_object_set_new(j, "rules_version", json_string(ruleset_version(er->rules)));
    }
    if (bad) {
        fprintf(stderr, "earshot eval: out of memory writing the JSON report\n");
    } else if (!strcmp(path, "-")) {
        rc = json_dumpf(j, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF ? -1 : 0;
    } else {
        rc = json_dump_file(j, path, JSON_INDENT(2));
        if (rc)
            fprintf(stderr, "earshot eval: cannot write '%s': %s\n", path, strerror(errno));
    }
    json_decref(j);
    json_decref(map);
    json_decref(fl);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"label-field", required_argument, NULL, 'l'},
        {"map", required_argument, NULL, 'm'},
        {"json", required_argument, NULL, 'j'},
        {"top", required_argument, NULL, 't'},
        {"no-cache", no_argument, NULL, 'C'},
        {"no-model", no_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rules_dir = NULL;
    const char *map_spec = NULL, *json_path = NULL;
    size_t top = EVAL_TOP_DEFAULT, line_base = 0;
    int opt, rc = 2, use_cache = 1, with_model = 1, n_files, n_ok = 0, unreadable = 0;
    char **files = NULL; /* the FILEs that could be opened */
    char err[1024];
    ruleset *rs = NULL;
    engine_config cfg;
    eval_run er;
    double t0;
    FILE *report = stdout;

    memset(&er, 0, sizeof(er));
    er.label_field = "label";
    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': rules_dir = optarg; break;
        case 'l':
            if (!*optarg) {
                fprintf(stderr, "earshot eval: --label-field needs a field name\n");
                return 2;
            }
            er.label_field = optarg;
            break;
        case 'm': map_spec = optarg; break;
        case 'j': json_path = optarg; break;
        case 't':
            if (cli_parse_size(optarg, 0, 100000, &top)) {
                fprintf(stderr, "earshot eval: --top must be 0..100000, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'C': use_cache = 0; break;
        case 'M': with_model = 0; break;
        case 'h': eval_usage(stdout); return 0;
        default: eval_usage(stderr); return 2;
        }
    }
    n_files = argc - optind;
    if (n_files == 0) {
        fprintf(stderr, "earshot eval: give one or more labelled JSON-lines FILEs "
                        "(see earshot eval --help)\n");
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (!strcmp(argv[i], "-")) {
            fprintf(stderr, "earshot eval: reads FILEs, not stdin: the labels are read "
                            "in a first pass (save the input to a file)\n");
            return 2;
        }
    /* A bad --map is a usage error: say so before any work is done. */
    if (map_spec) {
        eval_labelmap probe;
        if (eval_labelmap_parse(&probe, map_spec, err, sizeof(err))) {
            fprintf(stderr, "earshot eval: %s\n", err);
            return 2;
        }
        eval_labelmap_free(&probe);
    }
    if (json_path && !strcmp(json_path, "-"))
        report = stderr;

    if ((rules_dir = cli_rules_dir(rules_dir, NULL, err, sizeof(err))))
        rs = cli_load_rules_model("eval", rules_dir, use_cache, with_model, err,
                                  sizeof(err));
    if (!rs) {
        fprintf(stderr, "earshot eval: %s\n", err);
        return 2;
    }
    er.rules = rs;

    t0 = eval_now_s();
    /* Pass 1: labels. A file that cannot be opened is reported and left out
     * of both passes; the exit status says so at the end. */
    if (!(files = calloc((size_t)n_files, sizeof(*files)))) {
        fprintf(stderr, "earshot eval: out of memory\n");
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        FILE *in = fopen(argv[i], "rb");
        if (!in) {
            fprintf(stderr, "earshot eval: cannot open '%s': %s\n", argv[i], strerror(errno));
            unreadable = 1;
            continue;
        }
        int lr = eval_read_labels(&er, in, err, sizeof(err));
        if (lr) {
            fprintf(stderr, "earshot eval: reading '%s': %s\n", argv[i], err);
            fclose(in);
            rc = lr == -1 ? 1 : 2;
            goto done;
        }
        fclose(in);
        files[n_ok++] = argv[i];
    }
    if (n_ok == 0) {
        rc = 1;
        goto done;
    }
    if (!map_spec && er.labels.n == 0) {
        fprintf(stderr, "earshot eval: no line has a '%s' field: give the gold label's "
                        "field with --label-field\n", er.label_field);
        goto done;
    }
    if (eval_build_map(&er, map_spec, err, sizeof(err))) {
        fprintf(stderr, "earshot eval: %s\n", err);
        goto done;
    }
    if (!(er.ev = eval_new((const char *const *)er.map.names, er.map.n, top, err, sizeof(err)))) {
        fprintf(stderr, "earshot eval: %s\n", err);
        goto done;
    }
    /* Registered in ruleset order, so the engine's rule indices are eval's. */
    for (size_t i = 0; i < ruleset_rule_count(rs); i++) {
        const rules_rule *r = ruleset_rule(rs, i);
        int cls = r->polarity == POLARITY_NEUTRAL ? EVAL_NO_CLASS
                                                  : eval_labelmap_predict(&er.map, r->polarity);
        if (eval_rule(er.ev, r->id, cls) < 0) {
            fprintf(stderr, "earshot eval: out of memory\n");
            rc = 1;
            goto done;
        }
    }
    engine_config_default(&cfg);
    if (!(er.worker = engine_worker_new(&cfg))) {
        fprintf(stderr, "earshot eval: out of memory\n");
        rc = 1;
        goto done;
    }

    /* Pass 2: the engine. */
    for (int i = 0; i < n_ok; i++) {
        FILE *in = fopen(files[i], "rb");
        if (!in || eval_classify_file(&er, files[i], in, &line_base)) {
            fprintf(stderr, "earshot eval: reading '%s': %s\n", files[i], strerror(errno));
            unreadable = 1;
        }
        if (in)
            fclose(in);
    }
    eval_set_elapsed(er.ev, eval_now_s() - t0);
    if (er.rejects > EVAL_REJECTS_SHOWN)
        fprintf(stderr, "earshot eval: %llu more rejected lines not shown\n",
                (unsigned long long)(er.rejects - EVAL_REJECTS_SHOWN));

    fprintf(report, "earshot eval: rules %s (%s), label field '%s'\n", ruleset_version(rs),
            rules_dir, er.label_field);
    if (ruleset_model(rs))
        fprintf(report, "  model %s: %zu n-grams, classes decide where no complaint or "
                "praise rule fired (--no-model: without it)\n",
                model_version(ruleset_model(rs)), model_ngram_count(ruleset_model(rs)));
    else if (!with_model)
        fprintf(report, "  --no-model: any model file in the rules directory left out\n");
    for (size_t c = 0; c < er.map.n; c++) {
        char buf[64];
        fprintf(report, "  %s = %s\n", er.map.names[c],
                eval_polset_str(er.map.sets[c], buf, sizeof(buf)));
    }
    eval_print(er.ev, report);
    fflush(report);
    rc = unreadable ? 1 : 0;
    if (json_path && eval_write_json(&er, json_path, files, n_ok))
        rc = 1;
done:
    free(files);
    eval_free(er.ev);
    engine_worker_free(er.worker);
    free(er.label_class);
    eval_labelmap_free(&er.map);
    eval_labels_free(&er.labels);
    ruleset_unref(rs);
    return rc;
}
