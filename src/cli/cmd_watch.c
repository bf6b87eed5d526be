/*
 * `earshot watch`: care intelligence on Kafka, apart from `earshot run`.
 * Parses the options and runs src/watch/watch_kafka on this thread; the
 * offsets, restarts and guarantees are described there and in the README
 * ("Care intelligence").
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "ops/log.h"
#include "watch/watch_kafka.h"

static atomic_int watch_stop;

static void watch_on_signal(int sig)
{
    (void)sig;
    atomic_store(&watch_stop, 1);
}

static void watch_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot watch -b BROKERS [-g GROUP] [--input TOPIC] [--stats TOPIC]\n"
        "                     [--alerts TOPIC] [--window S] [--lateness S] [--baseline S]\n"
        "                     [--min-count N] [--factor X] [--z X] [--cooldown N]\n"
        "                     [--warmup N] [--influencer N] [--min-priority N]\n"
        "                     [--replay S] [--exit-at-end] [-X prop=val ...]\n"
        "\n"
        "Reads enriched events, counts them per brand in tumbling windows and produces\n"
        "one stats record per brand and window with activity, plus complaint spike and\n"
        "influencer alerts (README, \"Care intelligence\"). At least once; a restart\n"
        "replays its history and does not emit a committed window again.\n"
        "\n"
        "  -b, --brokers LIST     bootstrap servers\n"
        "  -g, --group ID         consumer group (earshot-watch)\n"
        "      --input TOPIC      enriched events (posts.enriched)\n"
        "      --stats TOPIC      window statistics (brand.stats)\n"
        "      --alerts TOPIC     alerts (care.alerts)\n"
        "      --window S         window length in seconds (60)\n"
        "      --lateness S       how late an event may arrive, seconds (30)\n"
        "      --baseline S       the complaint baseline's span, seconds (3600)\n"
        "      --min-count N      complaints a spike needs at least (8)\n"
        "      --factor X         complaints / max(baseline, 1) at least (3)\n"
        "      --z X              standard scores above the baseline at least (6)\n"
        "      --cooldown N       windows between alerts of one spike (10)\n"
        "      --warmup N         windows a brand needs before it may alert (5)\n"
        "      --influencer N     followers that make one complaint an alert (100000)\n"
        "      --min-priority N   priority that makes a complaint/question a ticket (30)\n"
        "      --replay S         history re-read on restart, seconds (4 x baseline)\n"
        "      --exit-at-end      stop (cleanly, committing) once every assigned partition\n"
        "                         has been read to its end: re-aggregate a topic, then exit\n"
        "  -X PROP=VALUE          librdkafka property for both clients (prefix consumer.\n"
        "                         or producer. for one)\n"
        "\n"
        "SIGTERM or SIGINT: stop; open windows are rebuilt by the next run.\n"
        "Exit status: 0 clean stop, 1 runtime failure, 2 usage error.\n");
}

static int parse_seconds(const char *s, int64_t min_s, int64_t max_s, int64_t *out_ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= (double)min_s && v <= (double)max_s))
        return -1;
    *out_ms = (int64_t)(v * 1000.0 + 0.5);
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end == s || *end ? -1 : 0;
}

int cmd_watch(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},  {"group", required_argument, NULL, 'g'},
        {"input", required_argument, NULL, 'i'},    {"stats", required_argument, NULL, 's'},
        {"alerts", required_argument, NULL, 'a'},   {"window", required_argument, NULL, 'w'},
        {"lateness", required_argument, NULL, 'l'}, {"baseline", required_argument, NULL, 'B'},
        {"min-count", required_argument, NULL, 'm'}, {"factor", required_argument, NULL, 'f'},
        {"z", required_argument, NULL, 'z'},        {"cooldown", required_argument, NULL, 'c'},
        {"warmup", required_argument, NULL, 'W'},   {"influencer", required_argument, NULL, 'I'},
        {"min-priority", required_argument, NULL, 'p'},
        {"replay", required_argument, NULL, 'r'},   {"help", no_argument, NULL, 'h'},
        {"exit-at-end", no_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    watch_kafka_config wc = {.group = "earshot-watch", .input = "posts.enriched",
                             .stats_topic = "brand.stats", .alerts_topic = "care.alerts",
                             .replay_ms = -1, .start = WATCH_KAFKA_START_EARLIEST};
    const char **names = calloc((size_t)argc + 1, sizeof(*names));
    const char **values = calloc((size_t)argc + 1, sizeof(*values));
    char **owned = calloc((size_t)argc + 1, sizeof(*owned));
    int n_xs = 0, opt, rc = 2, usage_error;
    size_t n;
    char err[512];
    watch_kafka *wk = NULL;
    struct sigaction sa;

    if (!names || !values || !owned) {
        fprintf(stderr, "earshot watch: out of memory\n");
        rc = 1;
        goto done;
    }
    watch_config_defaults(&wc.wcfg);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "b:g:X:h", longopts, NULL)) != -1) {
        const char *bad = NULL;
        switch (opt) {
        case 'b': wc.brokers = optarg; break;
        case 'g': wc.group = optarg; break;
        case 'i': wc.input = optarg; break;
        case 's': wc.stats_topic = optarg; break;
        case 'a': wc.alerts_topic = optarg; break;
        case 'w': if (parse_seconds(optarg, 1, 86400, &wc.wcfg.window_ms)) bad = "--window"; break;
        case 'l': if (parse_seconds(optarg, 0, 86400, &wc.wcfg.lateness_ms)) bad = "--lateness"; break;
        case 'B': if (parse_seconds(optarg, 1, 30 * 86400, &wc.wcfg.baseline_ms)) bad = "--baseline"; break;
        case 'r': if (parse_seconds(optarg, 0, 30 * 86400, &wc.replay_ms)) bad = "--replay"; break;
        case 'm': if (cli_parse_size(optarg, 1, 1000000, &n)) bad = "--min-count"; else wc.wcfg.min_count = (int)n; break;
        case 'c': if (cli_parse_size(optarg, 1, 100000, &n)) bad = "--cooldown"; else wc.wcfg.cooldown = (int)n; break;
        case 'W': if (cli_parse_size(optarg, 0, 100000, &n)) bad = "--warmup"; else wc.wcfg.warmup = (int)n; break;
        case 'p': if (cli_parse_size(optarg, 0, 100, &n)) bad = "--min-priority"; else wc.wcfg.min_priority = (int)n; break;
        case 'I': if (cli_parse_size(optarg, 1, (size_t)1 << 40, &n)) bad = "--influencer"; else wc.wcfg.influencer_followers = (int64_t)n; break;
        case 'f': if (parse_double(optarg, &wc.wcfg.factor)) bad = "--factor"; break;
        case 'z': if (parse_double(optarg, &wc.wcfg.z_min)) bad = "--z"; break;
        case 'e': wc.exit_at_end = 1; break;
        case 'X': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fprintf(stderr, "earshot watch: -X: expected NAME=VALUE, got '%s'\n", optarg);
                goto done;
            }
            if (!(owned[n_xs] = strndup(optarg, (size_t)(eq - optarg)))) {
                fprintf(stderr, "earshot watch: out of memory\n");
                rc = 1;
                goto done;
            }
            names[n_xs] = owned[n_xs];
            values[n_xs++] = eq + 1;
            break;
        }
        case 'h': watch_usage(stdout); rc = 0; goto done;
        default: watch_usage(stderr); goto done;
        }
        if (bad) {
            fprintf(stderr, "earshot watch: %s: bad value '%s'\n", bad, optarg);
            goto done;
        }
    }
    if (optind < argc || !wc.brokers) {
        fprintf(stderr, optind < argc ? "earshot watch: unexpected argument '%s'\n"
                                      : "earshot watch: -b BROKERS is required%s\n",
                optind < argc ? argv[optind] : "");
        goto done;
    }
    wc.prop_names = names;
    wc.prop_values = values;
    wc.n_props = (size_t)n_xs;
    if (!(wk = watch_kafka_new(&wc, &usage_error, err, sizeof(err)))) {
        fprintf(stderr, "earshot watch: %s\n", err);
        rc = usage_error ? 2 : 1;
        goto done;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = watch_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    atomic_store(&watch_stop, 0);
    log_info("watch: %s -> %s, %s; window %" PRId64 " s, lateness %" PRId64
             " s, baseline %" PRId64 " s; group %s",
             wc.input, wc.stats_topic, wc.alerts_topic, wc.wcfg.window_ms / 1000,
             wc.wcfg.lateness_ms / 1000, wc.wcfg.baseline_ms / 1000, wc.group);
    if (watch_kafka_run(wk, &watch_stop)) {
        log_error("watch: %s; stopping without committing further", watch_kafka_failure(wk));
        rc = 1;
    } else {
        uint64_t st, al, ck;
        watch_kafka_counts(wk, &st, &al, &ck);
        log_info("watch: stopped (clean): stats %" PRIu64 ", alerts %" PRIu64
                 ", %" PRIu64 " checkpoint(s), %" PRIu64 " event(s) read",
                 st, al, ck, watch_kafka_events_read(wk));
        rc = 0;
    }
done:
    watch_kafka_free(wk);
    for (int i = 0; owned && i < n_xs; i++)
        free(owned[i]);
    free(owned);
    free(names);
    free(values);
    return rc;
}
