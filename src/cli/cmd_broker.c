/*
 * `earshot broker`: the embedded Kafka cluster (librdkafka's mock cluster,
 * src/pipeline/broker.c) for the demo, tests and laptops. Prints the
 * bootstrap list as the first line on stdout, then reads fault-injection
 * commands on stdin (one per line, answered "ok" or "error: ..." on
 * stdout) until SIGTERM/SIGINT. End of stdin does not stop it, so it can
 * run in the background with stdin from /dev/null.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "ops/log.h"
#include "pipeline/broker.h"

static atomic_int broker_stop;

static void broker_on_signal(int sig)
{
    (void)sig;
    atomic_store(&broker_stop, 1);
}

static void broker_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot broker [--partitions N] [--brokers N] [--topic NAME ...]\n"
        "\n"
        "Starts librdkafka's mock Kafka cluster on loopback, creates the topics posts,\n"
        "posts.enriched, care.tickets, posts.rejected, brand.stats and care.alerts (and\n"
        "each --topic), prints the bootstrap list as the first line on stdout and runs\n"
        "until SIGTERM or SIGINT.\n"
        "Real wire protocol: kcat, kafka-python and `earshot run -b` talk to it.\n"
        "Each partition keeps only its newest 5 MiB: older messages are deleted even when\n"
        "unread, although their producer was told they were stored. Not for data you\n"
        "cannot replay.\n"
        "\n"
        "  --partitions N   partitions per topic (default 4)\n"
        "  --brokers N      brokers in the cluster (default 3)\n"
        "  --topic NAME     another topic to create (repeatable)\n"
        "\n"
        "Fault injection: one command per line on stdin, answered on stdout:\n"
        "  down ID | up ID | leader TOPIC PARTITION ID | errors API COUNT ERROR...\n"
        "  rtt ID MS | coordinator group KEY ID | create TOPIC PARTITIONS | ping\n"
        "e.g. `errors Produce 5 NOT_LEADER_FOR_PARTITION`.\n");
}

int cmd_broker(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"partitions", required_argument, NULL, 'p'},
        {"brokers", required_argument, NULL, 'n'},
        {"topic", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The six default topics, then --topic's: bench/e2e.py names ~90. */
    enum { BROKER_DEFAULT_TOPICS = 6, BROKER_MAX_TOPICS = 1024 };
    const char *topics[BROKER_MAX_TOPICS] = {"posts", "posts.enriched", "care.tickets",
                                             "posts.rejected", "brand.stats", "care.alerts"};
    size_t n_topics = BROKER_DEFAULT_TOPICS, partitions = 4, n_brokers = 3;
    char err[512], line[1024], reply[512];
    size_t line_len = 0;
    int opt, stdin_open = 1;
    struct sigaction sa;
    broker *b;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (cli_parse_size(optarg, 1, 1000, &partitions)) {
                fprintf(stderr, "earshot broker: --partitions must be 1..1000, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'n':
            if (cli_parse_size(optarg, 1, 16, &n_brokers)) {
                fprintf(stderr, "earshot broker: --brokers must be 1..16, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (n_topics == BROKER_MAX_TOPICS) {
                fprintf(stderr, "earshot broker: at most %d --topic\n",
                        BROKER_MAX_TOPICS - BROKER_DEFAULT_TOPICS);
                return 2;
            }
            topics[n_topics++] = optarg;
            break;
        case 'h': broker_usage(stdout); return 0;
        default: broker_usage(stderr); return 2;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = broker_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!(b = broker_new((int)n_brokers, (int)partitions, topics, n_topics, err, sizeof(err)))) {
        fprintf(stderr, "earshot broker: %s\n", err);
        return 1;
    }
    printf("%s\n", broker_bootstraps(b));
    fflush(stdout);
    log_info("mock cluster: %zu broker(s), %zu topic(s) of %zu partition(s) at %s", n_brokers,
             n_topics, partitions, broker_bootstraps(b));
    log_warn("mock cluster: %s", BROKER_RETENTION_WARNING);

    while (!atomic_load(&broker_stop)) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (!stdin_open) {
            usleep(100 * 1000);
            continue;
        }
        int r = poll(&pfd, 1, 200);
        if (r <= 0)
            continue;
        ssize_t got = read(STDIN_FILENO, line + line_len, sizeof(line) - 1 - line_len);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            stdin_open = 0;
            continue;
        }
        line_len += (size_t)got;
        line[line_len] = '\0';
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            if (line[0] && line[0] != '#') {
                broker_exec(b, line, reply, sizeof(reply));
                printf("%s\n", reply);
                fflush(stdout);
                log_info("command '%s': %s", line, reply);
            }
            line_len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, line_len + 1);
        }
        if (line_len == sizeof(line) - 1) { /* an endless line: drop it */
            printf("error: command longer than %zu bytes\n", sizeof(line) - 2);
            fflush(stdout);
            line_len = 0;
        }
    }
    log_info("mock cluster: stopping");
    broker_free(b);
    return 0;
}
