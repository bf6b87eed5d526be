/*
 * earshot: classify the social firehose for customer care.
 *
 * main() only dispatches to one function per mode (src/cli/); each mode owns
 * its options and returns the exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef EARSHOT_VERSION
#define EARSHOT_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
    fprintf(out,
        "earshot " EARSHOT_VERSION " - classify the social firehose for customer care\n"
        "\n"
        "usage: earshot MODE [options]\n"
        "\n"
        "modes:\n"
        "  classify [--rules DIR] [--rejected FILE] [FILE...]\n"
        "                 JSON lines in, one enriched event per line out\n"
        "  eval [--rules DIR] [--map GOLD=POL[+POL...],...] [--json FILE] FILE...\n"
        "                 score the rules against gold-labelled JSON lines\n"
        "  train [--folds K] [--map GOLD=CLASS,...] [-o MODEL] FILE...\n"
        "                 train a text classifier on gold-labelled JSON lines,\n"
        "                 cross-validate it\n"
        "  check-rules [DIR]\n"
        "                 validate and compile a rules directory, run its examples\n"
        "  test-rules [--rules DIR] [DIR]\n"
        "                 run the rules' examples, show the ones that fail\n"
        "  run [-c CONFIG] [-b BROKERS] [--rules DIR] [-X prop=val ...]\n"
        "                 the Kafka pipeline: consume posts, produce events\n"
        "  broker [--partitions N] [--brokers N]\n"
        "                 start the embedded (librdkafka mock) Kafka cluster\n"
        "  demo           embedded broker + firehose generator + run + live view\n"
        "  watch [-b BROKERS] [-g GROUP] [--window S] [--lateness S] ...\n"
        "                 per-brand window stats and complaint spike alerts from\n"
        "                 posts.enriched to brand.stats and care.alerts\n"
        "  generate [--count N] [--seed S] [--shape v2|v1|generic|mix]\n"
        "                 write realistic sample posts as JSON lines\n"
        "\n"
        "Run `earshot MODE --help` for the options of one mode.\n");
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } modes[] = {
        {"classify", cmd_classify},  {"check-rules", cmd_check_rules},
        {"test-rules", cmd_test_rules},
        {"eval", cmd_eval},          {"train", cmd_train},
        {"run", cmd_run},            {"broker", cmd_broker},
        {"demo", cmd_demo},          {"generate", cmd_generate},
        {"watch", cmd_watch},
    };

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("earshot %s\n", EARSHOT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (!strcmp(argv[1], modes[i].name))
            return modes[i].run(argc - 1, argv + 1);
    fprintf(stderr, "earshot: unknown mode '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
