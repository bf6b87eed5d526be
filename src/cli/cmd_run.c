/*
 * `earshot run`: the Kafka pipeline (src/pipeline). Settings come from the
 * config table (src/ops/config.c): defaults, then the -c file, then the
 * command line in the order given. SIGTERM/SIGINT only set a flag; the
 * pipeline then drains, commits and leaves the group.
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "ops/config.h"
#include "ops/http.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "pipeline/pipeline.h"
#include "rules/rules.h"

/* The CLI's one piece of mutable global state: a signal handler can reach
 * nothing else. Lock-free atomics are async-signal-safe. */
static atomic_int run_stop;

static void run_on_signal(int sig)
{
    (void)sig;
    atomic_store(&run_stop, 1);
}

static void run_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot run [-c CONFIG] [-b BROKERS] [-g GROUP] [--rules DIR]\n"
        "                   [--threads N] [--set key=value ...] [-X prop=val ...]\n"
        "                   [--help-config] [--print-config]\n"
        "\n"
        "Consumes posts from Kafka (topic.input), classifies them with N worker threads\n"
        "and produces enriched events, care tickets and rejected input to their topics,\n"
        "at least once: an input offset is committed only after all its outputs are\n"
        "acknowledged. SIGTERM or SIGINT: finish in-flight posts, commit, exit 0.\n"
        "\n"
        "  -c, --config FILE    config file (`key = value` lines; see --help-config)\n"
        "  -b, --brokers LIST   bootstrap servers (key 'brokers')\n"
        "  -g, --group ID       consumer group (key 'group.id')\n"
        "      --rules DIR      rules directory (key 'rules.dir')\n"
        "  -t, --threads N      worker threads, 0 = one per CPU (key 'threads')\n"
        "  -o, --set KEY=VALUE  any config key, e.g. --set tickets.min_priority=50\n"
        "  -X PROP=VALUE        a librdkafka property for both clients (prefix consumer.\n"
        "                       or producer. for one of them), e.g. -X security.protocol=SSL\n"
        "      --help-config    print every config key with its default and range\n"
        "      --print-config   print the effective settings and exit\n"
        "\n"
        "Exit status: 0 after a clean shutdown, 1 on a runtime failure (a delivery that\n"
        "failed: its offset was not committed), 2 for a usage or configuration error.\n");
}

typedef struct run_override {
    char kind; /* 'o' earshot key, 'X' librdkafka property */
    const char *name_value;
    const char *key; /* for -b/-g/-t/--rules: the config key */
} run_override;

static int run_apply(config *cfg, const run_override *ov, char *err, size_t err_size)
{
    char name[256];
    const char *eq;

    if (ov->key)
        return config_set(cfg, ov->key, ov->name_value,
                          !strcmp(ov->key, "brokers")    ? "-b"
                          : !strcmp(ov->key, "group.id") ? "-g"
                          : !strcmp(ov->key, "threads")  ? "--threads"
                                                         : "--rules",
                          err, err_size);
    eq = strchr(ov->name_value, '=');
    if (!eq || eq == ov->name_value || (size_t)(eq - ov->name_value) >= sizeof(name)) {
        snprintf(err, err_size, "%s: expected NAME=VALUE, got '%s'",
                 ov->kind == 'X' ? "-X" : "--set", ov->name_value);
        return -1;
    }
    memcpy(name, ov->name_value, (size_t)(eq - ov->name_value));
    name[eq - ov->name_value] = '\0';
    if (ov->kind == 'X')
        return config_set_kafka(cfg, name, eq + 1, "-X", err, err_size);
    return config_set(cfg, name, eq + 1, "--set", err, err_size);
}

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, 'b'},
        {"group", required_argument, NULL, 'g'},
        {"rules", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'},
        {"set", required_argument, NULL, 'o'},
        {"help-config", no_argument, NULL, 'H'},
        {"print-config", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    run_override *ovs = calloc((size_t)argc + 1, sizeof(*ovs));
    int n_ovs = 0, opt, rc = 2, print_config = 0;
    config cfg;
    char err[1024];
    ruleset *rs = NULL;
    metrics *m = NULL;
    http_server *hs = NULL;
    pipeline *p = NULL;
    struct sigaction sa;

    if (!ovs || config_init(&cfg)) {
        fprintf(stderr, "earshot run: out of memory\n");
        free(ovs);
        return 1;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:b:g:t:o:X:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'b': ovs[n_ovs++] = (run_override){0, optarg, "brokers"}; break;
        case 'g': ovs[n_ovs++] = (run_override){0, optarg, "group.id"}; break;
        case 't': ovs[n_ovs++] = (run_override){0, optarg, "threads"}; break;
        case 'r': ovs[n_ovs++] = (run_override){0, optarg, "rules.dir"}; break;
        case 'o': ovs[n_ovs++] = (run_override){'o', optarg, NULL}; break;
        case 'X': ovs[n_ovs++] = (run_override){'X', optarg, NULL}; break;
        case 'H': config_print_reference(stdout); rc = 0; goto done;
        case 'P': print_config = 1; break;
        case 'h': run_usage(stdout); rc = 0; goto done;
        default: run_usage(stderr); goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "earshot run: unexpected argument '%s'\n", argv[optind]);
        goto done;
    }
    if (config_path && config_load_file(&cfg, config_path, err, sizeof(err))) {
        fprintf(stderr, "earshot run: %s\n", err);
        goto done;
    }
    for (int i = 0; i < n_ovs; i++) {
        if (run_apply(&cfg, &ovs[i], err, sizeof(err))) {
            fprintf(stderr, "earshot run: %s\n", err);
            goto done;
        }
    }
    if (print_config) {
        config_print(&cfg, stdout);
        rc = 0;
        goto done;
    }
    if (config_finalize(&cfg, err, sizeof(err))) {
        fprintf(stderr, "earshot run: %s\n", err);
        goto done;
    }
    log_set_level((log_level)cfg.log_level);

    const char *rules_dir = *cfg.rules_dir ? cfg.rules_dir : cli_default_rules_dir();
    if (!(rs = ruleset_load(rules_dir, err, sizeof(err)))) {
        fprintf(stderr, "earshot run: %s\n", err);
        goto done;
    }
    log_info("rules %s loaded from %s (%zu brands, %zu rules)", ruleset_version(rs), rules_dir,
             ruleset_brand_count(rs), ruleset_rule_count(rs));

    rc = 1;
    if (*cfg.metrics_listen) {
        http_config hc = {0};
        if (!(m = metrics_new((unsigned)pipeline_threads(&cfg) + 2, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: %s\n", err);
            goto done;
        }
        hc.listen = cfg.metrics_listen;
        hc.metrics = m;
        if (!(hs = http_start(&hc, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: metrics.listen: %s\n", err);
            rc = 2;
            goto done;
        }
        log_info("metrics on http://%s/metrics (port %d)", cfg.metrics_listen, http_port(hs));
    }
    if (!(p = pipeline_new(&cfg, rs, m, err, sizeof(err)))) {
        fprintf(stderr, "earshot run: %s\n", err);
        rc = 2;
        goto done;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = run_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    atomic_store(&run_stop, 0);
    rc = pipeline_run(p, &run_stop);

done:
    pipeline_free(p);
    http_stop(hs);
    metrics_free(m);
    ruleset_unref(rs);
    config_free(&cfg);
    free(ovs);
    return rc;
}
