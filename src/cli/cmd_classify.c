/*
 * `earshot classify` and `earshot check-rules`: the engine without Kafka.
 *
 * classify reads JSON lines from files (or stdin), writes one event per
 * accepted line to stdout in input order and one {"line":N,"reason":"..."}
 * per rejected line to the rejected file (default stderr). Lines are read in
 * bounded chunks so an oversized line costs no more memory than the limit.
 *
 * check-rules loads and compiles a rules directory, then runs the rule
 * files' examples (src/ruletest/): a rule whose examples go the wrong way
 * is as invalid as one that does not compile, so both exit 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "engine/engine.h"
#include "base/base_json.h"
#include "model/model.h"
#include "rules/rules.h"
#include "ruletest/ruletest.h"

typedef struct classify_counts {
    uint64_t lines;
    uint64_t events;
    uint64_t rejected;
    uint64_t errors;
    uint64_t by_polarity[4];
} classify_counts;

typedef struct classify_ctx {
    engine_worker *worker;
    const ruleset *rules;
    FILE *rejected;
    const char *file_name; /* NULL for stdin */
    int many_files;
    int64_t now;           /* -1: wall clock per line */
    size_t max_bytes;
    int explain;           /* --explain: add what decided the polarity */
    classify_counts counts;
    jbuf line_out;
} classify_ctx;

/* --explain: the event with "explain": the lexicon's valence and term
 * count, and the model's class with the n-grams that pushed it most. */
#define CLASSIFY_EXPLAIN_TOP 8
static void classify_explain(classify_ctx *cc, const engine_output *out)
{
    const match_result *m = out->matches;
    const struct model *md = ruleset_model(cc->rules);
    jbuf *b = &cc->line_out;

    jbuf_reset(b);
    /* The event is one JSON object: reopen it before its closing brace. */
    jbuf_raw(b, out->event, out->event_len - 1);
    jbuf_cstr(b, ",\"explain\":{\"lexicon_terms\":");
    jbuf_int(b, m->n_lex);
    if (md && m->model_class >= 0) {
        model_contrib top[CLASSIFY_EXPLAIN_TOP];
        size_t n = model_explain(md, out->model_ids, out->n_model_ids,
                                 (uint32_t)m->model_class, top, CLASSIFY_EXPLAIN_TOP);
        char num[32];
        jbuf_cstr(b, ",\"model_features\":");
        jbuf_int(b, (int64_t)out->n_model_ids);
        jbuf_cstr(b, ",\"model_top\":[");
        for (size_t i = 0; i < n; i++) {
            const char *g = model_ngram(md, top[i].id);
            jbuf_cstr(b, i ? ",[" : "[");
            jbuf_str_bytes(b, g, strlen(g));
            snprintf(num, sizeof(num), ",%.3f]", top[i].value);
            jbuf_cstr(b, num);
        }
        jbuf_cstr(b, "]");
    }
    jbuf_cstr(b, "}}\n");
    fwrite(b->data, 1, b->len, stdout);
}

static void classify_reject(classify_ctx *cc, uint64_t line_no, const char *reason)
{
    jbuf *b = &cc->line_out;

    jbuf_reset(b);
    jbuf_cstr(b, "{\"line\":");
    jbuf_int(b, (int64_t)line_no);
    if (cc->many_files && cc->file_name) {
        jbuf_cstr(b, ",\"file\":");
        jbuf_str_bytes(b, cc->file_name, strlen(cc->file_name));
    }
    jbuf_cstr(b, ",\"reason\":");
    jbuf_str_bytes(b, reason, strlen(reason));
    jbuf_cstr(b, "}\n");
    fwrite(b->data, 1, b->len, cc->rejected);
    cc->counts.rejected++;
}

static void classify_line(classify_ctx *cc, uint64_t line_no, const char *line, size_t len)
{
    engine_output out;
    int64_t now = cc->now >= 0 ? cc->now : (int64_t)time(NULL);

    if (len && line[len - 1] == '\r') /* CRLF files */
        len--;
    cc->counts.lines++;
    switch (engine_classify(cc->worker, cc->rules, line, len, now, &out)) {
    case ENGINE_EVENT:
        if (cc->explain) {
            classify_explain(cc, &out);
        } else {
            fwrite(out.event, 1, out.event_len, stdout);
            fputc('\n', stdout);
        }
        cc->counts.events++;
        cc->counts.by_polarity[out.summary.polarity]++;
        break;
    case ENGINE_REJECT:
        classify_reject(cc, line_no, out.reason);
        break;
    case ENGINE_ERROR:
        /* Not the input's fault, but the line is still accounted for. */
        cc->counts.errors++;
        classify_reject(cc, line_no, out.reason);
        break;
    }
}

/* Splits a stream into lines without holding more than max_bytes + one read
 * chunk of any line in memory: a longer line is skipped to its newline and
 * reported as too large. */
static int classify_stream(classify_ctx *cc, FILE *in, uint64_t *line_no)
{
    size_t cap = cc->max_bytes + 65536, len = 0;
    char *buf = malloc(cap);
    int oversized = 0; /* inside a line already reported as too large */
    size_t oversized_len = 0;

    if (!buf)
        return -1;
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, in);
        size_t start = 0;
        int eof = n == 0;

        len += n;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl)
                break;
            size_t line_len = (size_t)(nl - (buf + start));
            ++*line_no;
            if (oversized) {
                char reason[96];
                snprintf(reason, sizeof(reason), "too large: %zu bytes > limit %zu",
                         oversized_len + line_len, cc->max_bytes);
                cc->counts.lines++;
                classify_reject(cc, *line_no, reason);
                oversized = 0;
            } else {
                classify_line(cc, *line_no, buf + start, line_len);
            }
            start += line_len + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (!oversized && len > cc->max_bytes + 1) {
            /* No newline within the limit: count it and drop what we hold. */
            oversized = 1;
            oversized_len = len;
            len = 0;
        } else if (oversized) {
            oversized_len += len;
            len = 0;
        }
        if (eof) {
            if (ferror(in)) {
                free(buf);
                return -1;
            }
            if (oversized || len) { /* last line without a newline */
                ++*line_no;
                if (oversized) {
                    char reason[96];
                    snprintf(reason, sizeof(reason), "too large: %zu bytes > limit %zu",
                             oversized_len, cc->max_bytes);
                    cc->counts.lines++;
                    classify_reject(cc, *line_no, reason);
                } else {
                    classify_line(cc, *line_no, buf, len);
                }
            }
            break;
        }
    }
    free(buf);
    return 0;
}

static void classify_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot classify [--rules DIR] [--rejected FILE] [--max-bytes N]\n"
        "                        [--now EPOCH] [--summary] [--no-cache] [--no-model]\n"
        "                        [--explain] [FILE...]\n"
        "\n"
        "Reads JSON lines (posts) from FILEs or stdin and writes one enriched event\n"
        "per accepted line to stdout, in input order. Each line that cannot be\n"
        "classified is written to the rejected file (default: stderr) as\n"
        "{\"line\":N,\"reason\":\"...\"} (with \"file\" when several FILEs are given).\n"
        "\n"
        "  --rules DIR       rules directory (default: %s)\n"
        "  --rejected FILE   where rejected lines go (default: stderr)\n"
        "  --max-bytes N     reject lines longer than N bytes (default %d)\n"
        "  --max-depth N     reject JSON nested deeper than N (default %d)\n"
        "  --now EPOCH       the clock for posts without created_at (default: now)\n"
        "  --summary         print counts per polarity to stderr at the end\n"
        "  --no-cache        compile the rules instead of using the compiled-rule\n"
        "                    cache ($EARSHOT_CACHE/rules, else ~/.cache/earshot/rules)\n"
        "  --no-model        leave out a trained model in the rules directory\n"
        "  --explain         add \"explain\" to each event: lexicon_terms (lexicon\n"
        "                    hits counted), and with a model model_features and\n"
        "                    model_top, the n-grams that pushed towards the model's\n"
        "                    class most: [[ngram, contribution], ...]\n"
        "\n"
        "Exit status: 0 when every line was read (rejections included), 1 when an\n"
        "input could not be read, 2 for invalid rules or usage.\n",
        cli_default_rules_dir(), POST_DEFAULT_MAX_BYTES, POST_DEFAULT_MAX_DEPTH);
}

int cmd_classify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"rejected", required_argument, NULL, 'j'},
        {"max-bytes", required_argument, NULL, 'm'},
        {"max-depth", required_argument, NULL, 'd'},
        {"now", required_argument, NULL, 'n'},
        {"summary", no_argument, NULL, 's'},
        {"no-cache", no_argument, NULL, 'C'},
        {"no-model", no_argument, NULL, 'M'},
        {"explain", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rules_dir = NULL;
    const char *rejected_path = NULL;
    int summary = 0, opt, rc = 0, use_cache = 1, with_model = 1;
    engine_config cfg;
    classify_ctx cc;
    char err[1024];
    ruleset *rs = NULL;
    uint64_t line_no = 0;

    engine_config_default(&cfg);
    memset(&cc, 0, sizeof(cc));
    cc.now = -1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': rules_dir = optarg; break;
        case 'j': rejected_path = optarg; break;
        case 'm':
            if (cli_parse_size(optarg, 1, 1u << 30, &cfg.limits.max_bytes)) {
                fprintf(stderr, "earshot classify: --max-bytes must be 1..1073741824, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'd':
            if (cli_parse_size(optarg, 1, 4096, &cfg.limits.max_depth)) {
                fprintf(stderr, "earshot classify: --max-depth must be 1..4096, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'n': {
            size_t v;
            if (cli_parse_size(optarg, 0, (size_t)1 << 40, &v)) {
                fprintf(stderr, "earshot classify: --now must be epoch seconds, got '%s'\n", optarg);
                return 2;
            }
            cc.now = (int64_t)v;
            break;
        }
        case 's': summary = 1; break;
        case 'C': use_cache = 0; break;
        case 'M': with_model = 0; break;
        case 'x': cc.explain = 1; break;
        case 'h': classify_usage(stdout); return 0;
        default: classify_usage(stderr); return 2;
        }
    }

    if ((rules_dir = cli_rules_dir(rules_dir, NULL, err, sizeof(err))))
        rs = cli_load_rules_model("classify", rules_dir, use_cache, with_model, err,
                                  sizeof(err));
    if (!rs) {
        fprintf(stderr, "earshot classify: %s\n", err);
        return 2;
    }
    cc.rules = rs;
    cc.max_bytes = cfg.limits.max_bytes;
    cc.worker = engine_worker_new(&cfg);
    jbuf_init(&cc.line_out);
    if (!cc.worker) {
        fprintf(stderr, "earshot classify: out of memory\n");
        rc = 1;
        goto done;
    }
    cc.rejected = stderr;
    if (rejected_path && !(cc.rejected = fopen(rejected_path, "w"))) {
        fprintf(stderr, "earshot classify: cannot open rejected file '%s': %s\n",
                rejected_path, strerror(errno));
        rc = 2;
        goto done;
    }
    /* Events are small and many: a large stdout buffer saves a write(2) per line. */
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

    cc.many_files = argc - optind > 1;
    if (optind == argc) {
        if (classify_stream(&cc, stdin, &line_no)) {
            fprintf(stderr, "earshot classify: reading stdin: %s\n", strerror(errno));
            rc = 1;
        }
    }
    for (int i = optind; i < argc; i++) {
        FILE *in = strcmp(argv[i], "-") ? fopen(argv[i], "rb") : stdin;
        if (!in) {
            fprintf(stderr, "earshot classify: cannot open '%s': %s\n", argv[i], strerror(errno));
            rc = 1;
            continue;
        }
        cc.file_name = argv[i];
        line_no = 0; /* line numbers count per file */
        if (classify_stream(&cc, in, &line_no)) {
            fprintf(stderr, "earshot classify: reading '%s': %s\n", argv[i], strerror(errno));
            rc = 1;
        }
        if (in != stdin)
            fclose(in);
    }
    fflush(stdout);
    if (summary)
        fprintf(stderr,
                "classified %llu lines: %llu events (%llu complaint, %llu question, "
                "%llu praise, %llu neutral), %llu rejected\n",
                (unsigned long long)cc.counts.lines, (unsigned long long)cc.counts.events,
                (unsigned long long)cc.counts.by_polarity[POLARITY_COMPLAINT],
                (unsigned long long)cc.counts.by_polarity[POLARITY_QUESTION],
                (unsigned long long)cc.counts.by_polarity[POLARITY_PRAISE],
                (unsigned long long)cc.counts.by_polarity[POLARITY_NEUTRAL],
                (unsigned long long)cc.counts.rejected);
done:
    if (cc.rejected && cc.rejected != stderr)
        fclose(cc.rejected);
    jbuf_free(&cc.line_out);
    engine_worker_free(cc.worker);
    ruleset_unref(rs);
    return rc;
}

static void check_rules_report(const ruleset *rs, const ruletest_result *res, void *opaque)
{
    (void)opaque;
    fputs("earshot check-rules: ", stderr);
    ruletest_print_line(stderr, rs, res);
}

int cmd_check_rules(int argc, char **argv)
{
    const char *dir = NULL;
    char err[1024];
    ruleset *rs;
    rules_stats st;
    ruletest_summary sum;

    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: earshot check-rules [DIR]\n\n"
               "Validates and compiles a rules directory (default: %s), runs the\n"
               "rules' examples and prints its counts, compile time and database size.\n"
               "Exit 0 when valid, 2 when not or when an example goes the wrong way\n"
               "(each such example is printed as FILE:LINE:COL: ...).\n",
               cli_default_rules_dir());
        return 0;
    }
    if (argc > 1)
        dir = argv[1];
    rs = NULL;
    if ((dir = cli_rules_dir(dir, NULL, err, sizeof(err))))
        rs = ruleset_load(dir, err, sizeof(err));
    if (!rs) {
        fprintf(stderr, "earshot check-rules: %s\n", err);
        return 2;
    }
    if (ruletest_run(rs, false, check_rules_report, NULL, &sum, err, sizeof(err)) != 0) {
        fprintf(stderr, "earshot check-rules: running the examples: %s\n", err);
        ruleset_unref(rs);
        return 1;
    }
    if (sum.failed) {
        fprintf(stderr, "earshot check-rules: %zu of %zu examples went the wrong way; "
                "fix the rules or the examples (`earshot test-rules %s` shows details)\n",
                sum.failed, sum.failed + sum.passed, dir);
        ruleset_unref(rs);
        return 2;
    }
    st = ruleset_stats(rs);
    printf("rules ok: %s\n"
           "  files:       %zu\n"
           "  brands:      %zu\n"
           "  rules:       %zu\n"
           "  patterns:    %zu\n"
           "  compile:     %.3f s\n"
           "  database:    %zu bytes\n"
           "  version:     %s\n",
           dir, st.n_files, st.n_brands, st.n_rules, st.n_patterns, st.compile_s,
           st.db_bytes, ruleset_version(rs));
    if (ruleset_lexicon(rs)->present)
        printf("  lexicon:     %zu weighted terms\n", ruleset_lexicon(rs)->n_terms);
    if (ruleset_model(rs)) {
        const struct model *md = ruleset_model(rs);
        printf("  model:       %s, %zu n-grams, classes", model_version(md),
               model_ngram_count(md));
        for (size_t c = 0; c < model_class_count(md); c++)
            printf("%s%s", c ? ", " : " ", model_class(md, c));
        printf("\n");
    }
    printf("%zu example%s ok\n", sum.passed, sum.passed == 1 ? "" : "s");
    ruleset_unref(rs);
    return 0;
}
