/*
 * `earshot run`: the Kafka pipeline (src/pipeline). Settings come from the
 * config table (src/ops/config.c): defaults, then the -c file, then the
 * environment (EARSHOT_<KEY>, EARSHOT_KAFKA_<PROP>), then the command line
 * in the order given. SIGTERM/SIGINT only set a flag; the pipeline then
 * drains, commits and leaves the group. SIGHUP asks src/reload for a rules
 * reload; so does a change in the rules directory (rules.watch).
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <librdkafka/rdkafka.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "ops/config.h"
#include "ops/dash.h"
#include "ops/http.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "pipeline/kconf.h"
#include "pipeline/pipeline.h"
#include "pipeline/topics.h"
#include "reload/reload.h"
#include "rules/rules.h"
#include "watch/watch_kafka.h"

extern char **environ;

/* The CLI's only mutable global state, the two things a signal handler
 * must reach (it can reach nothing else): the stop flag and the reloader.
 * Lock-free atomics are async-signal-safe. */
static atomic_int run_stop;
static reload *_Atomic run_reload;

static void run_on_signal(int sig)
{
    if (sig == SIGHUP) {
        reload *rl = atomic_load(&run_reload);
        if (rl)
            reload_request(rl); /* async-signal-safe: an eventfd write */
        return;
    }
    atomic_store(&run_stop, 1);
}

/* What reload and /readyz need besides the pipeline. */
typedef struct run_state {
    metrics *metrics;   /* NULL without --http / metrics.listen */
    pipeline *pipeline; /* set once built */
} run_state;

/* reload attach: per-rule and per-brand counters for a new generation. */
static void *run_rules_attach(void *opaque, const ruleset *rs, char *err, size_t err_size)
{
    run_state *st = opaque;
    size_t n_rules = ruleset_rule_count(rs), n_brands = ruleset_brand_count(rs);
    const char **rule_ids, **brand_ids;
    metrics_rules *mr = NULL;

    if (!st->metrics)
        return NULL;
    rule_ids = calloc(n_rules + 1, sizeof(*rule_ids));
    brand_ids = calloc(n_brands + 1, sizeof(*brand_ids));
    if (rule_ids && brand_ids) {
        for (size_t i = 0; i < n_rules; i++)
            rule_ids[i] = ruleset_rule(rs, i)->id;
        for (size_t i = 0; i < n_brands; i++)
            brand_ids[i] = ruleset_brand(rs, i)->id;
        mr = metrics_rules_new(st->metrics, ruleset_version(rs), n_rules, rule_ids, n_brands,
                               brand_ids, err, err_size);
    } else {
        snprintf(err, err_size, "out of memory");
    }
    free(rule_ids);
    free(brand_ids);
    return mr;
}

static void run_rules_detach(void *opaque, void *data)
{
    (void)opaque;
    if (data)
        metrics_rules_release(data);
}

static void run_rules_event(void *opaque, const reload_event *ev)
{
    run_state *st = opaque;

    switch (ev->outcome) {
    case RELOAD_SWAPPED:
        log_info("rules reloaded (%s): %s -> %s, %zu rules, %.3f s%s", ev->trigger,
                 ev->old_version, ev->version, ruleset_rule_count(ev->rules), ev->load_s,
                 ev->from_cache ? " (compiled-rule cache)" : "");
        break;
    case RELOAD_UNCHANGED:
        log_info("rules reload (%s): files unchanged, %s keeps serving", ev->trigger,
                 ev->version);
        break;
    case RELOAD_FAILED:
        log_error("rules reload (%s) refused, %s keeps serving: %s", ev->trigger, ev->version,
                  ev->error);
        break;
    }
    if (*ev->cache_warning)
        log_warn("%s", ev->cache_warning);
    if (st->metrics && ev->outcome != RELOAD_UNCHANGED)
        metrics_rules_reloaded(st->metrics, ev->outcome == RELOAD_SWAPPED);
}

/* metrics.rules (checked when the config was read) and earshot_build_info:
 * hs_version() is "5.4.0 2023-01-23", the label takes the version alone. */
static void run_metrics_setup(metrics *m, const config *cfg)
{
    long top = -1;
    char hs[32], err[160];

    if (metrics_rule_series_parse(cfg->metrics_rules, &top, err, sizeof(err)) == 0)
        metrics_set_rule_series(m, top);
    metrics_set_process(m, 1);
    snprintf(hs, sizeof(hs), "%s", hs_version());
    hs[strcspn(hs, " ")] = '\0';
    if (metrics_set_build_info(m, EARSHOT_VERSION, hs, rd_kafka_version_str()))
        log_warn("out of memory setting earshot_build_info");
}

/* /readyz: rules loaded (they are, once the pipeline exists) and partitions
 * assigned. */
static int run_ready(void *opaque, char *reason, size_t reason_size)
{
    run_state *st = opaque;
    pipeline_stats ps;

    if (!st->pipeline) {
        snprintf(reason, reason_size, "starting");
        return 0;
    }
    if (pipeline_not_ready(st->pipeline, reason, reason_size))
        return 0;
    pipeline_stats_get(st->pipeline, &ps);
    if (ps.partitions == 0) {
        snprintf(reason, reason_size, "no partitions assigned");
        return 0;
    }
    return 1;
}

/* The in-run care aggregator (watch.enabled): src/watch/watch_kafka on a
 * thread of its own, in its own consumer group on topic.enriched, exactly
 * as `earshot watch` runs apart. It shares nothing with the pipeline but the
 * dashboard (NULL without the HTTP endpoint). A failure of it is logged and
 * ends only it: tickets keep flowing, and its last commit is where a restart
 * picks up. */
typedef struct run_watch {
    watch_kafka *wk;
    _Atomic(watch_kafka *) served; /* wk for the HTTP thread, once running */
    dash *dash;
    pthread_t thread;
    int started;
    atomic_int stop;
} run_watch;

static void run_watch_record(void *opaque, const watch_record *rec)
{
    run_watch *rw = opaque;
    if (rw->dash)
        dash_record(rw->dash, rec->type == WATCH_RECORD_ALERT, rec->json, rec->len);
}

static void run_watch_ticket(void *opaque, const watch_ticket *t)
{
    run_watch *rw = opaque;
    dash_ticket dt = {t->id,       t->brand_name,    t->handle,        t->polarity,
                      t->text,     t->labels,        t->n_labels,      t->followers,
                      t->created_ms, t->respond_by_ms, t->priority};
    if (rw->dash)
        dash_add_ticket(rw->dash, &dt);
}

static void run_watch_progress(void *opaque, int64_t through, int64_t watermark)
{
    run_watch *rw = opaque;
    if (rw->dash)
        dash_progress(rw->dash, through, watermark);
}

static void *run_watch_main(void *opaque)
{
    run_watch *rw = opaque;
    if (watch_kafka_run(rw->wk, &rw->stop))
        log_error("watch: %s; the care aggregator stopped (the pipeline goes on; its last "
                  "commit is where a restart resumes)", watch_kafka_failure(rw->wk));
    return NULL;
}

#define WATCH_FETCH_WAIT_MS 100
/* The aggregator's threads run below the pipeline's (watch_kafka.h): on two
 * shared cores at nice 0 it cost the pipeline 11-20% of its throughput in
 * one session for ~4% of its CPU; at nice 10, on / off 0.94-1.26
 * (bench/e2e.py --agg-only, README "Cost of the aggregation"). */
#define WATCH_NICE 10

static int run_watch_start(run_watch *rw, const config *cfg, char *err, size_t err_size)
{
    char group[512], min_bytes[32], wait_ms[32];
    const char **names = calloc(cfg->n_kafka + 3, sizeof(*names));
    const char **values = calloc(cfg->n_kafka + 3, sizeof(*values));
    size_t n = 0;
    watch_kafka_config wc = {
        .brokers = cfg->brokers,
        .group = group,
        .client_id = "earshot-watch",
        .input = cfg->topic_enriched,
        .stats_topic = cfg->topic_stats,
        .alerts_topic = cfg->topic_alerts,
        .replay_ms = -1,
        .start = cfg->consumer_auto_offset_reset == CONFIG_OFFSET_RESET_EARLIEST
                     ? WATCH_KAFKA_START_EARLIEST
                     : WATCH_KAFKA_START_RECENT,
        .hooks = {run_watch_record, run_watch_ticket, run_watch_progress, rw},
        .nice = WATCH_NICE,
    };
    int usage_error = 0;

    if (!names || !values) {
        free(names);
        free(values);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(group, sizeof(group), "%s", cfg->watch_group_id);
    if (!*group)
        snprintf(group, sizeof(group), "%s.watch", cfg->group_id);
    watch_config_defaults(&wc.wcfg);
    wc.wcfg.min_priority = (int)cfg->tickets_min_priority;
    wc.wcfg.min_count = (int)cfg->watch_spike_min_count;
    wc.wcfg.factor = cfg->watch_spike_factor;
    wc.wcfg.z_min = cfg->watch_spike_z;
    wc.wcfg.cooldown = (int)cfg->watch_spike_cooldown;
    wc.wcfg.warmup = (int)cfg->watch_spike_warmup;
    wc.wcfg.influencer_followers = cfg->watch_influencer_followers;
    /* The aggregator's consumer batches its fetches like the pipeline's
     * (consumer.fetch.min.bytes): librdkafka's default of 1 answers each
     * fetch with a message or two, the broker's cost issue 14 measured.
     * It waits at most WATCH_FETCH_WAIT_MS for that, not the pipeline's
     * 10 ms: its windows are a minute long, and an idle aggregator then
     * costs 10 fetches a second per broker, not 100; nor librdkafka's
     * 500 ms, which on the embedded broker (a waiting fetch is not woken by
     * new data) left it half a second behind every burst. Given first:
     * -X consumer.fetch.* (cfg->kafka) still wins. */
    snprintf(min_bytes, sizeof(min_bytes), "%" PRId64, cfg->consumer_fetch_min_bytes);
    snprintf(wait_ms, sizeof(wait_ms), "%d", WATCH_FETCH_WAIT_MS);
    names[n] = "consumer.fetch.min.bytes";
    values[n++] = min_bytes;
    names[n] = "consumer.fetch.wait.max.ms";
    values[n++] = wait_ms;
    for (size_t i = 0; i < cfg->n_kafka; i++, n++) {
        names[n] = cfg->kafka[i].name;
        values[n] = cfg->kafka[i].value;
    }
    wc.prop_names = names;
    wc.prop_values = values;
    wc.n_props = n;
    rw->wk = watch_kafka_new(&wc, &usage_error, err, err_size);
    free(names);
    free(values);
    if (!rw->wk)
        return -1;
    atomic_store(&rw->stop, 0);
    if (pthread_create(&rw->thread, NULL, run_watch_main, rw)) {
        snprintf(err, err_size, "cannot start the watch thread");
        return -1;
    }
    rw->started = 1;
    atomic_store(&rw->served, rw->wk);
    log_info("watch: care aggregator on %s -> %s, %s (group %s)", cfg->topic_enriched,
             cfg->topic_stats, cfg->topic_alerts, group);
    return 0;
}

static void run_watch_stop(run_watch *rw)
{
    atomic_store(&rw->served, NULL);
    if (rw->started) {
        atomic_store(&rw->stop, 1);
        pthread_join(rw->thread, NULL);
        rw->started = 0;
    }
    watch_kafka_free(rw->wk);
    rw->wk = NULL;
}

/* The dashboard's paths, plus /api/watch: {"events_read":N}, the enriched
 * events the aggregator has consumed so far. bench/e2e.py polls it to know
 * when the aggregator has caught up; the dashboard does not need it. */
static int run_route(void *opaque, const char *path, char **body, size_t *len,
                     const char **content_type)
{
    run_watch *rw = opaque;

    if (!strcmp(path, "/api/watch")) {
        watch_kafka *wk = atomic_load(&rw->served);
        char buf[64];
        int n = snprintf(buf, sizeof(buf), "{\"events_read\":%" PRIu64 "}",
                         wk ? watch_kafka_events_read(wk) : (uint64_t)0);
        if (!(*body = malloc((size_t)n)))
            return -1;
        memcpy(*body, buf, (size_t)n);
        *len = (size_t)n;
        *content_type = "application/json";
        return 1;
    }
    return dash_serve(rw->dash, path, body, len, content_type);
}

static void run_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot run [-c CONFIG] [-b BROKERS] [-g GROUP] [--rules DIR]\n"
        "                   [--threads N] [--http ADDR:PORT] [--set key=value ...]\n"
        "                   [-X prop=val ...] [--check [--connect]] [--dry-run]\n"
        "                   [--help-config] [--print-config]\n"
        "\n"
        "Consumes posts from Kafka (topic.input), classifies them with N worker threads\n"
        "and produces enriched events, care tickets and rejected input to their topics,\n"
        "at least once: an input offset is committed only after all its outputs are\n"
        "acknowledged. SIGTERM or SIGINT: finish in-flight posts, commit, exit 0.\n"
        "SIGHUP (or, with rules.watch, a change in the rules directory): reload the\n"
        "rules in the background; a broken set is refused and the old one keeps serving.\n"
        "\n"
        "  -c, --config FILE    config file (`key = value` lines; see --help-config)\n"
        "  -b, --brokers LIST   bootstrap servers (key 'brokers')\n"
        "  -g, --group ID       consumer group (key 'group.id')\n"
        "      --rules DIR      rules directory (key 'rules.dir')\n"
        "  -t, --threads N      worker threads, 0 = one per CPU (key 'threads')\n"
        "      --http ADDR:PORT /metrics /healthz /readyz (key 'metrics.listen'),\n"
        "                       e.g. 127.0.0.1:9464\n"
        "  -o, --set KEY=VALUE  any config key, e.g. --set tickets.min_priority=50\n"
        "  -X PROP=VALUE        a librdkafka property for both clients (prefix consumer.\n"
        "                       or producer. for one of them), e.g. -X security.protocol=SSL\n"
        "      --check          validate the config, the librdkafka properties and the\n"
        "                       rules, print a summary and exit (0 ok, 2 not)\n"
        "      --connect        with --check: also ask the brokers for metadata and check\n"
        "                       that every topic exists (exit 1, one line per problem)\n"
        "      --dry-run        consume and classify, produce nothing, commit no offset;\n"
        "                       report what would have been produced (key 'run.dry_run')\n"
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
                          : !strcmp(ov->key, "metrics.listen") ? "--http"
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
        {"http", required_argument, NULL, 'M'},
        {"check", no_argument, NULL, 'C'},
        {"connect", no_argument, NULL, 'K'},
        {"dry-run", no_argument, NULL, 'D'},
        {"help-config", no_argument, NULL, 'H'},
        {"print-config", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    run_override *ovs = calloc((size_t)argc + 1, sizeof(*ovs));
    int n_ovs = 0, opt, rc = 2, print_config = 0, check_only = 0, connect = 0;
    config cfg;
    char err[1024];
    ruleset *rs = NULL;
    metrics *m = NULL;
    http_server *hs = NULL;
    pipeline *p = NULL;
    reload *rl = NULL;
    run_state st = {0};
    run_watch rw = {0};
    char cache_dir[4096] = "";
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
        case 'M': ovs[n_ovs++] = (run_override){0, optarg, "metrics.listen"}; break;
        case 'C': check_only = 1; break;
        case 'K': connect = 1; break;
        case 'D': ovs[n_ovs++] = (run_override){'o', "run.dry_run=true", NULL}; break;
        case 'o': ovs[n_ovs++] = (run_override){'o', optarg, NULL}; break;
        case 'X': ovs[n_ovs++] = (run_override){'X', optarg, NULL}; break;
        case 'H': config_print_reference(stdout); rc = 0; goto done;
        case 'P': print_config = 1; break;
        case 'h': run_usage(stdout); rc = 0; goto done;
        default: run_usage(stderr); goto done;
        }
    }
    if (connect && !check_only) {
        fprintf(stderr, "earshot run: --connect goes with --check\n");
        goto done;
    }
    if (optind < argc) {
        fprintf(stderr, "earshot run: unexpected argument '%s'\n", argv[optind]);
        goto done;
    }
    if (config_path && config_load_file(&cfg, config_path, err, sizeof(err))) {
        fprintf(stderr, "earshot run: %s\n", err);
        goto done;
    }
    if (config_apply_env(&cfg, environ, err, sizeof(err))) {
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
        if (kconf_print(&cfg, stdout, err, sizeof(err))) {
            fprintf(stderr, "earshot run: %s\n", err);
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (check_only && !*cfg.brokers)
        config_set(&cfg, "brokers", "(not set; run needs it)", "--check", err, sizeof(err));
    if (config_finalize(&cfg, err, sizeof(err)) || kconf_check(&cfg, err, sizeof(err))) {
        fprintf(stderr, "earshot run: %s\n", err);
        goto done;
    }
    log_set_level((log_level)cfg.log_level);
    log_set_format((log_format)cfg.log_format);
    /* A dry run produces nothing, so there is nothing of its own for the
     * aggregator to read, and it must not write stats or alerts either. */
    if (cfg.run_dry_run)
        cfg.watch_enabled = 0;

    const char *rules_dir = cli_rules_dir(NULL, cfg.rules_dir, err, sizeof(err));
    if (!rules_dir) {
        fprintf(stderr, "earshot run: %s\n", err);
        goto done;
    }
    if (!strcmp(cfg.rules_cache_dir, "auto")) {
        if (rules_cache_default_dir(cache_dir, sizeof(cache_dir)))
            cache_dir[0] = '\0';
    } else {
        snprintf(cache_dir, sizeof(cache_dir), "%s", cfg.rules_cache_dir);
    }
    {
        char warn[512] = "";
        bool hit = false;
        rules_load_opts lo = {
            .cache_dir = *cache_dir ? cache_dir : NULL,
            .cache_max_bytes = (uint64_t)cfg.rules_cache_max_bytes,
            .cache_hit = &hit,
            .warn = warn,
            .warn_size = sizeof(warn),
        };
        int64_t t0 = log_now_ms();
        if (!(rs = ruleset_load_opts(rules_dir, &lo, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: %s\n", err);
            goto done;
        }
        if (*warn)
            log_warn("%s", warn);
        log_info("rules %s loaded from %s (%zu brands, %zu rules) in %.3f s%s",
                 ruleset_version(rs), rules_dir, ruleset_brand_count(rs),
                 ruleset_rule_count(rs), (double)(log_now_ms() - t0) / 1e3,
                 hit ? " from the compiled-rule cache" : "");
    }
    if (check_only) {
        printf("config ok: brokers %s, group %s, %s -> %s, %s, %s; %d worker thread(s)\n"
               "rules ok: %s (%zu brands, %zu rules, version %s)\n",
               cfg.brokers, cfg.group_id, cfg.topic_input, cfg.topic_enriched,
               cfg.topic_tickets, cfg.topic_rejected, pipeline_threads(&cfg), rules_dir,
               ruleset_brand_count(rs), ruleset_rule_count(rs), ruleset_version(rs));
        rc = 0;
        if (connect) {
            int problems = topics_check_connect(&cfg, stdout, stderr, err, sizeof(err));
            if (problems < 0)
                fprintf(stderr, "earshot run: %s\n", err);
            rc = problems ? 1 : 0;
        }
        goto done;
    }

    rc = 1;
    if (*cfg.metrics_listen) {
        if (!(m = metrics_new((unsigned)pipeline_threads(&cfg) + 2, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: %s\n", err);
            goto done;
        }
        run_metrics_setup(m, &cfg);
    }
    st.metrics = m;
    {
        reload_config rc_cfg = {
            .rules_dir = rules_dir,
            .cache_dir = *cache_dir ? cache_dir : NULL,
            .cache_max_bytes = (uint64_t)cfg.rules_cache_max_bytes,
            .watch = cfg.rules_watch != 0,
            .attach = run_rules_attach,
            .detach = run_rules_detach,
            .on_event = run_rules_event,
            .opaque = &st,
        };
        if (!(rl = reload_new(&rc_cfg, rs, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: rules reload: %s\n", err);
            rc = 2;
            goto done;
        }
    }
    if (m && cfg.watch_enabled) {
        watch_config wd;
        watch_config_defaults(&wd);
        if (!(rw.dash = dash_new(wd.window_ms, wd.cooldown, m, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: %s\n", err);
            goto done;
        }
        metrics_set_extra(m, dash_metrics, rw.dash);
    }
    if (m) {
        http_config hc = {0};
        hc.listen = cfg.metrics_listen;
        hc.metrics = m;
        hc.ready = run_ready;
        hc.ready_opaque = &st;
        hc.route = rw.dash ? run_route : NULL;
        hc.route_opaque = &rw;
        if (!(hs = http_start(&hc, err, sizeof(err)))) {
            fprintf(stderr, "earshot run: metrics.listen: %s\n", err);
            rc = 2;
            goto done;
        }
        log_info("metrics on http://%s/metrics (port %d)%s", cfg.metrics_listen, http_port(hs),
                 rw.dash ? ", the care dashboard on /" : "");
    }
    if (!(p = pipeline_new(&cfg, rs, m, err, sizeof(err)))) {
        fprintf(stderr, "earshot run: %s\n", err);
        rc = 2;
        goto done;
    }
    pipeline_use_reload(p, rl);
    st.pipeline = p;
    if (cfg.watch_enabled && run_watch_start(&rw, &cfg, err, sizeof(err))) {
        fprintf(stderr, "earshot run: watch: %s\n", err);
        rc = 2;
        goto done;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = run_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    atomic_store(&run_reload, rl);
    sigaction(SIGHUP, &sa, NULL);
    atomic_store(&run_stop, 0);
    rc = pipeline_run(p, &run_stop);
    signal(SIGHUP, SIG_IGN);
    atomic_store(&run_reload, NULL);

done:
    run_watch_stop(&rw);
    http_stop(hs); /* before the pipeline: /readyz reads it; before the dashboard */
    if (m)
        metrics_set_extra(m, NULL, NULL);
    dash_free(rw.dash);
    st.pipeline = NULL;
    pipeline_free(p);
    reload_free(rl);
    metrics_free(m);
    ruleset_unref(rs);
    config_free(&cfg);
    free(ovs);
    return rc;
}
