/*
 * config: the table of earshot's keys and the file parser. See config.h.
 *
 * Defaults are written in the table as text and applied through the same
 * setter as the file, so the reference printed by --help-config and the
 * values the program starts with cannot disagree.
 */
#include "ops/config.h"

#include "base/base_edit.h"
#include "base/base_err.h"
#include "base/base_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/log.h"
#include "ops/metrics.h"

typedef enum config_type {
    CONFIG_STR,
    CONFIG_INT,     /* int64_t in [min, max] */
    CONFIG_BOOL,    /* int: true/false */
    CONFIG_ENUM,    /* int: index into choices, '|'-separated */
    CONFIG_LEVEL,   /* int: log_level */
    CONFIG_TARGETS, /* char *, parsed into targets */
    CONFIG_SERIES,  /* char *, checked by metrics_rule_series_parse */
    CONFIG_FLOAT,   /* double in [min, max], finite */
} config_type;

typedef struct config_def {
    const char *name;
    config_type type;
    size_t offset;
    const char *def;
    int64_t min, max;
    const char *choices;
    const char *doc;
} config_def;

#define OFF(field) offsetof(config, field)

static const config_def config_defs[] = {
    {"brokers", CONFIG_STR, OFF(brokers), "", 0, 0, NULL,
     "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...] (librdkafka's "
     "bootstrap.servers). Required here or with -b."},
    {"group.id", CONFIG_STR, OFF(group_id), "earshot", 0, 0, NULL,
     "Consumer group. Processes with the same group split the input partitions."},
    {"group.instance.id", CONFIG_STR, OFF(group_instance_id), "", 0, 0, NULL,
     "Static membership (librdkafka's group.instance.id): a name unique and stable per "
     "process, e.g. EARSHOT_GROUP_INSTANCE_ID=$HOSTNAME. A restart within "
     "session.timeout.ms keeps its partitions without a rebalance; the price is that a "
     "dead member's partitions wait for session.timeout.ms, and two processes with the "
     "same id fence each other. Empty = dynamic membership."},
    {"topic.input", CONFIG_STR, OFF(topic_input), "posts", 0, 0, NULL,
     "Topic the posts are read from (one JSON post per message)."},
    {"topic.enriched", CONFIG_STR, OFF(topic_enriched), "posts.enriched", 0, 0, NULL,
     "Enriched events of posts that mention a brand (every post with "
     "route.enriched.all)."},
    {"topic.tickets", CONFIG_STR, OFF(topic_tickets), "care.tickets", 0, 0, NULL,
     "Complaints and questions that mention a brand with priority >= "
     "tickets.min_priority."},
    {"topic.rejected", CONFIG_STR, OFF(topic_rejected), "posts.rejected", 0, 0, NULL,
     "Input that could not be classified: reason, source topic/partition/offset "
     "and the original bytes."},
    {"topic.stats", CONFIG_STR, OFF(topic_stats), "brand.stats", 0, 0, NULL,
     "Per-brand window statistics from the in-run aggregator (watch.enabled)."},
    {"topic.alerts", CONFIG_STR, OFF(topic_alerts), "care.alerts", 0, 0, NULL,
     "Spike and influencer alerts from the in-run aggregator (watch.enabled)."},
    {"watch.enabled", CONFIG_BOOL, OFF(watch_enabled), "true", 0, 0, NULL,
     "Run the care aggregator (`earshot watch`) inside `earshot run`, on its own thread "
     "and consumer group on topic.enriched; false when it runs apart or not at all."},
    {"watch.group.id", CONFIG_STR, OFF(watch_group_id), "", 0, 0, NULL,
     "The in-run aggregator's consumer group; empty = group.id + \".watch\"."},
    /* The spike rule's knobs, as `earshot watch` has them (--min-count ...);
     * the defaults are watch_config_defaults' (README, "Care intelligence"). */
    {"watch.spike.min_count", CONFIG_INT, OFF(watch_spike_min_count), "8", 1, 1000000, NULL,
     "In-run aggregator: complaints a brand's window needs at least to be a spike "
     "(earshot watch --min-count)."},
    {"watch.spike.factor", CONFIG_FLOAT, OFF(watch_spike_factor), "3", 1, 1000000, NULL,
     "In-run aggregator: a spike's complaints / max(baseline, 1) at least "
     "(earshot watch --factor)."},
    {"watch.spike.z", CONFIG_FLOAT, OFF(watch_spike_z), "6", 0, 1000000, NULL,
     "In-run aggregator: standard scores above the baseline a spike needs at least to "
     "start an episode "
     "(earshot watch --z)."},
    {"watch.spike.cooldown", CONFIG_INT, OFF(watch_spike_cooldown), "10", 1, 100000, NULL,
     "In-run aggregator: windows between two alerts of one spike; a spike that lasts "
     "is one alert plus an update per this many windows (earshot watch --cooldown)."},
    {"watch.spike.warmup", CONFIG_INT, OFF(watch_spike_warmup), "5", 0, 100000, NULL,
     "In-run aggregator: windows of a brand's history before it may alert "
     "(earshot watch --warmup)."},
    {"watch.influencer.followers", CONFIG_INT, OFF(watch_influencer_followers), "100000", 1,
     (int64_t)1 << 40, NULL,
     "In-run aggregator: followers that make one complaint an influencer alert "
     "(earshot watch --influencer)."},
    {"route.enriched.all", CONFIG_BOOL, OFF(route_enriched_all), "false", 0, 0, NULL,
     "true: every classified post goes to topic.enriched, not only brand mentions."},
    {"tickets.min_priority", CONFIG_INT, OFF(tickets_min_priority), "30", 0, 100, NULL,
     "Lowest priority (0..100) that opens a ticket."},
    {"tickets.max_age", CONFIG_INT, OFF(tickets_max_age), "86400", 0, (int64_t)1 << 40, NULL,
     "Seconds: a complaint or question whose created_at is older than this when it is "
     "processed still goes to topic.enriched but opens no ticket (a backlog or a "
     "replay must not page care about last week's posts). 0 = no limit; posts "
     "without created_at count as new."},
    {"key.by", CONFIG_ENUM, OFF(key_by), "brand", 0, 0, "brand|post_id",
     "Message key of enriched and ticket events: brand (the first brand's id, so "
     "a brand's events stay on one partition) or post_id."},
    {"threads", CONFIG_INT, OFF(threads), "0", 0, 256, NULL,
     "Worker threads classifying posts; 0 = the number of online CPUs."},
    {"rules.dir", CONFIG_STR, OFF(rules_dir), "", 0, 0, NULL,
     "Rules directory (must exist); empty = $EARSHOT_RULES, ./rules, or the installed "
     "rules next to the binary (see Rules lookup)."},
    {"max.inflight.messages", CONFIG_INT, OFF(max_inflight_messages), "20000", 1, 10000000,
     NULL,
     "Backpressure: input messages consumed but not yet fully acknowledged. Above "
     "it the input partitions are paused; below half of it they resume."},
    {"max.inflight.bytes", CONFIG_INT, OFF(max_inflight_bytes), "67108864", 1024,
     (int64_t)1 << 40, NULL,
     "Backpressure: payload bytes of those messages (same pause/resume rule)."},
    {"consumer.fetch.min.bytes", CONFIG_INT, OFF(consumer_fetch_min_bytes), "100000", 1,
     100000000, NULL,
     "librdkafka's fetch.min.bytes for the input consumer: the broker holds a fetch "
     "until this much is there or consumer.fetch.wait.max.ms has passed. librdkafka's "
     "own default (1) answers each fetch with about one message per partition: at "
     "5,000 posts/s that was ~1,800 fetches/s, the broker's JVM on a full core and "
     "messages queued for ~130 ms (issue 14). -X consumer.fetch.min.bytes=N wins."},
    {"consumer.fetch.wait.max.ms", CONFIG_INT, OFF(consumer_fetch_wait_max_ms), "10", 0,
     300000, NULL,
     "librdkafka's fetch.wait.max.ms for the input consumer: the most a fetch waits "
     "for consumer.fetch.min.bytes, so the most batching adds to latency at a low "
     "rate (librdkafka's default is 500). -X consumer.fetch.wait.max.ms=N wins."},
    {"consumer.auto.offset.reset", CONFIG_ENUM, OFF(consumer_auto_offset_reset), "latest", 0,
     0, "latest|earliest",
     "librdkafka's auto.offset.reset for the input consumer: where a group with no "
     "committed offset starts. latest (the Kafka convention): a new group reads only "
     "posts produced from now on, so a first start does not open tickets for the "
     "topic's history; earliest: the whole retained topic (a backfill, tests). "
     "A group with commits resumes from them either way. -X "
     "consumer.auto.offset.reset=... wins."},
    {"producer.linger.ms", CONFIG_INT, OFF(producer_linger_ms), "5", 0, 900000, NULL,
     "librdkafka's linger.ms for the output producer: how long an output waits for "
     "others to share its produce request. -X producer.linger.ms=N wins."},
    {"consumer.partition.assignment.strategy", CONFIG_STR, OFF(consumer_assignment_strategy),
     "cooperative-sticky", 0, 0, NULL,
     "librdkafka's partition.assignment.strategy for the input consumer. "
     "cooperative-sticky: a rebalance moves only the partitions that change owner, the "
     "others keep flowing (range/roundrobin stop every member). -X "
     "consumer.partition.assignment.strategy=... wins."},
    {"consumer.auto.commit.interval.ms", CONFIG_INT, OFF(consumer_auto_commit_interval_ms),
     "1000", 1, 86400000, NULL,
     "librdkafka's auto.commit.interval.ms: how often the offsets earshot stored (only "
     "behind acknowledged outputs) are committed; what a crash repeats at most. "
     "-X consumer.auto.commit.interval.ms=N wins."},
    {"consumer.queued.max.messages.kbytes", CONFIG_INT, OFF(consumer_queued_max_kbytes),
     "16384", 1, 2097151, NULL,
     "librdkafka's queued.max.messages.kbytes: input prefetched per consumer before "
     "fetching pauses (librdkafka's default, 64 MiB, only adds memory behind "
     "max.inflight.*). -X consumer.queued.max.messages.kbytes=N wins."},
    {"producer.message.timeout.ms", CONFIG_INT, OFF(producer_message_timeout_ms), "0", 0,
     2147483647, NULL,
     "librdkafka's message.timeout.ms for outputs; 0 = retry until delivered, so only a "
     "permanent or fatal error fails a delivery (which stops earshot without committing "
     "past it). -X producer.message.timeout.ms=N wins."},
    {"producer.compression.codec", CONFIG_STR, OFF(producer_compression_codec), "none", 0, 0,
     NULL,
     "librdkafka's compression.codec for outputs: none, gzip, snappy, lz4 or zstd. "
     "-X producer.compression.codec=... wins."},
    {"metrics.kafka.interval.ms", CONFIG_INT, OFF(metrics_kafka_interval_ms), "15000", 0,
     86400000, NULL,
     "With metrics.listen: librdkafka's statistics.interval.ms for both clients, the "
     "period of the earshot_kafka_* metrics; 0 = none. -X statistics.interval.ms=N wins."},
    {"status.interval.ms", CONFIG_INT, OFF(status_interval_ms), "10000", 0, 86400000, NULL,
     "Period of the one-line status on stderr; 0 = none."},
    {"shutdown.timeout.ms", CONFIG_INT, OFF(shutdown_timeout_ms), "30000", 100, 3600000,
     NULL,
     "On SIGTERM/SIGINT: how long to wait for in-flight messages to be "
     "acknowledged before committing what is done and leaving."},
    {"log.level", CONFIG_LEVEL, OFF(log_level), "info", 0, 0, "error|warn|info|debug",
     "Lowest level logged: error, warn, info or debug."},
    {"post.max_bytes", CONFIG_INT, OFF(post_max_bytes), "65536", 64, 1 << 30, NULL,
     "Posts larger than this are rejected (\"too large\")."},
    {"post.max_depth", CONFIG_INT, OFF(post_max_depth), "64", 1, 4096, NULL,
     "Posts nested deeper than this are rejected."},
    {"respond.targets", CONFIG_TARGETS, OFF(respond_targets), "80:15,50:30,20:60,0:240", 0,
     0, NULL,
     "respond_by deadlines, MIN_PRIORITY:MINUTES,... : the first target whose "
     "min priority a post reaches (highest first) sets its deadline."},
    {"metrics.listen", CONFIG_STR, OFF(metrics_listen), "", 0, 0, NULL,
     "HOST:PORT of the /metrics /healthz /readyz endpoint (also --http); empty = "
     "off. Bind to 127.0.0.1 unless a firewall guards the port."},
    {"metrics.rules", CONFIG_SERIES, OFF(metrics_rules), "all", 0, 0, NULL,
     "Which per-rule series /metrics shows (earshot_rule_matches_total): all, "
     "top:N (the N rules with the most matches so far; a rule may enter or leave "
     "the set between scrapes) or off. Each rule is one series: at 10k rules "
     "'all' is ~10k lines per scrape. Rules are counted either way; brand "
     "series are always shown."},
    {"log.format", CONFIG_ENUM, OFF(log_format), "text", 0, 0, "text|json",
     "Log lines on stderr: text (\"TIME earshot[PID] LEVEL: message\") or json "
     "(one object per line: time, level, pid, msg and, after a quiet spell, "
     "suppressed), for a log shipper."},
    {"rules.cache.dir", CONFIG_STR, OFF(rules_cache_dir), "auto", 0, 0, NULL,
     "Compiled-rule cache: serialised Hyperscan databases keyed by rule content, "
     "flags, CPU platform and Hyperscan version, so a restart with unchanged rules "
     "skips compiling. auto = $EARSHOT_CACHE/rules or $HOME/.cache/earshot/rules; "
     "empty = no cache."},
    {"rules.cache.max_bytes", CONFIG_INT, OFF(rules_cache_max_bytes), "268435456", 1048576,
     (int64_t)1 << 40, NULL,
     "Size bound of the compiled-rule cache; the least recently used entries go first."},
    {"rules.watch", CONFIG_BOOL, OFF(rules_watch), "true", 0, 0, NULL,
     "Reload the rules when a *.json file in rules.dir changes (inotify, debounced). "
     "SIGHUP always reloads. A rule set that fails to load is refused and the old "
     "one keeps serving."},
    {"topics.create", CONFIG_BOOL, OFF(topics_create), "false", 0, 0, NULL,
     "At start, create topic.input and the output topics that do not exist (Kafka's "
     "CreateTopics, with topics.partitions and topics.replication; the principal needs "
     "the Create ACL). false: wait for them, with /readyz 503 naming the missing topic. "
     "earshot never relies on the broker's auto.create.topics.enable."},
    {"topics.partitions", CONFIG_INT, OFF(topics_partitions), "-1", -1, 100000, NULL,
     "With topics.create: partitions of a created topic; -1 = the broker's num.partitions "
     "(Kafka >= 2.4)."},
    {"topics.replication", CONFIG_INT, OFF(topics_replication), "-1", -1, 32767, NULL,
     "With topics.create: replication factor of a created topic; -1 = the broker's "
     "default.replication.factor (Kafka >= 2.4)."},
    {"topics.timeout.ms", CONFIG_INT, OFF(topics_timeout_ms), "10000", 100, 600000, NULL,
     "How long one topic check (a metadata request) or CreateTopics may take; "
     "`run --check --connect` fails after it when no broker answers."},
    {"run.dry_run", CONFIG_BOOL, OFF(run_dry_run), "false", 0, 0, NULL,
     "Dry run (also --dry-run): consume and classify like a run, produce nothing, "
     "commit no offset; the status line and a summary at exit say what would have "
     "been produced. Give it a group.id of its own: it joins that group."},
};

#define N_DEFS (sizeof(config_defs) / sizeof(config_defs[0]))

static void config_err(char *err, size_t err_size, const char *origin, const char *fmt, ...)
    LOG_PRINTF(4, 5);

static void config_err(char *err, size_t err_size, const char *origin, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, err_size, "%s: ", origin);

    if (n < 0 || (size_t)n >= err_size)
        return;
    va_start(ap, fmt);
    base_err_vset(err + n, err_size - (size_t)n, fmt, ap);
    va_end(ap);
}

static const config_def *config_find(const char *name)
{
    for (size_t i = 0; i < N_DEFS; i++)
        if (!strcmp(config_defs[i].name, name))
            return &config_defs[i];
    return NULL;
}

const char *config_suggest(const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, limit = strlen(name) / 3;

    if (limit < 2)
        limit = 2;
    for (size_t i = 0; i < N_DEFS; i++) {
        size_t n = strlen(name), d;
        /* "group" for "group.id": a key missing its last part */
        if (n && !strncmp(config_defs[i].name, name, n) && config_defs[i].name[n] == '.')
            return config_defs[i].name;
        d = base_edit_distance(name, config_defs[i].name, 1);
        if (d < best_d) {
            best_d = d;
            best = config_defs[i].name;
        }
    }
    return best_d <= limit ? best : NULL;
}

static int config_replace_str(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* Strict decimal integer: optional sign, digits, nothing else. */
static int config_parse_int(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* "80:15,50:30,0:240" -> targets sorted by min priority, highest first. */
static int config_parse_targets(config *c, const char *value, const char *origin, char *err,
                                size_t err_size)
{
    config_target t[CONFIG_MAX_TARGETS];
    int n = 0;
    const char *p = value;

    while (*p) {
        long prio, minutes;
        char *end;

        while (*p == ' ')
            p++;
        if (n == CONFIG_MAX_TARGETS) {
            config_err(err, err_size, origin, "'respond.targets' holds at most %d targets",
                       CONFIG_MAX_TARGETS);
            return -1;
        }
        errno = 0;
        prio = strtol(p, &end, 10);
        if (end == p || *end != ':' || errno || prio < 0 || prio > 100)
            goto bad;
        p = end + 1;
        minutes = strtol(p, &end, 10);
        if (end == p || errno || minutes <= 0 || minutes > 525600)
            goto bad;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
        t[n].min_priority = (int)prio;
        t[n].respond_minutes = (int)minutes;
        n++;
    }
    if (n == 0)
        goto bad;
    /* Insertion sort, highest min_priority first: n <= 8. */
    for (int i = 1; i < n; i++) {
        config_target x = t[i];
        int j = i - 1;
        while (j >= 0 && t[j].min_priority < x.min_priority) {
            t[j + 1] = t[j];
            j--;
        }
        t[j + 1] = x;
    }
    memcpy(c->targets, t, sizeof(t[0]) * (size_t)n);
    c->n_targets = n;
    return 0;
bad:
    config_err(err, err_size, origin,
               "'respond.targets' must be MIN_PRIORITY:MINUTES[,...] with priorities 0..100 "
               "and minutes > 0, e.g. '80:15,50:30,0:240', got '%s'",
               value);
    return -1;
}

static int config_set_def(config *c, const config_def *d, const char *value,
                          const char *origin, char *err, size_t err_size)
{
    char *base = (char *)c;

    switch (d->type) {
    case CONFIG_STR:
        break;
    case CONFIG_INT: {
        int64_t v;
        if (config_parse_int(value, &v) || v < d->min || v > d->max) {
            config_err(err, err_size, origin, "'%s' must be an integer %lld..%lld, got '%s'",
                       d->name, (long long)d->min, (long long)d->max, value);
            return -1;
        }
        *(int64_t *)(base + d->offset) = v;
        return 0;
    }
    case CONFIG_FLOAT: {
        char *end;
        double v;
        errno = 0;
        v = strtod(value, &end);
        if (end == value || *end || errno || !(v >= (double)d->min && v <= (double)d->max)) {
            config_err(err, err_size, origin, "'%s' must be a number %lld..%lld, got '%s'",
                       d->name, (long long)d->min, (long long)d->max, value);
            return -1;
        }
        *(double *)(base + d->offset) = v;
        return 0;
    }
    case CONFIG_BOOL:
        if (!strcmp(value, "true")) {
            *(int *)(base + d->offset) = 1;
        } else if (!strcmp(value, "false")) {
            *(int *)(base + d->offset) = 0;
        } else {
            config_err(err, err_size, origin, "'%s' must be true or false, got '%s'", d->name,
                       value);
            return -1;
        }
        return 0;
    case CONFIG_ENUM:
    case CONFIG_LEVEL: {
        const char *p = d->choices;
        size_t len = strlen(value);
        for (int i = 0; p && *p; i++) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            if (n == len && !memcmp(p, value, len)) {
                *(int *)(base + d->offset) = i;
                return 0;
            }
            p = bar ? bar + 1 : p + n;
        }
        config_err(err, err_size, origin, "'%s' must be one of %s, got '%s'", d->name,
                   d->choices, value);
        return -1;
    }
    case CONFIG_TARGETS:
        if (config_parse_targets(c, value, origin, err, err_size))
            return -1;
        break;
    case CONFIG_SERIES: {
        long top;
        char why[160];
        if (metrics_rule_series_parse(value, &top, why, sizeof(why))) {
            config_err(err, err_size, origin, "'%s' %s", d->name, why);
            return -1;
        }
        break;
    }
    }
    if (config_replace_str((char **)(base + d->offset), value)) {
        config_err(err, err_size, origin, "out of memory");
        return -1;
    }
    return 0;
}

int config_set_kafka(config *c, const char *name, const char *value, const char *origin,
                     char *err, size_t err_size)
{
    config_kafka_prop *kp = NULL;

    if (!*name) {
        config_err(err, err_size, origin, "empty librdkafka property name");
        return -1;
    }
    for (size_t i = 0; i < c->n_kafka; i++)
        if (!strcmp(c->kafka[i].name, name))
            kp = &c->kafka[i];
    if (!kp) {
        config_kafka_prop *grown = realloc(c->kafka, (c->n_kafka + 1) * sizeof(*grown));
        if (!grown)
            goto oom;
        c->kafka = grown;
        kp = &c->kafka[c->n_kafka++];
        memset(kp, 0, sizeof(*kp));
        if (config_replace_str(&kp->name, name))
            goto oom;
    }
    if (config_replace_str(&kp->value, value) || config_replace_str(&kp->origin, origin))
        goto oom;
    return 0;
oom:
    config_err(err, err_size, origin, "out of memory");
    return -1;
}

int config_set(config *c, const char *name, const char *value, const char *origin,
               char *err, size_t err_size)
{
    const config_def *d;

    if (!strncmp(name, "kafka.", 6))
        return config_set_kafka(c, name + 6, value, origin, err, err_size);
    d = config_find(name);
    if (!d) {
        const char *near = config_suggest(name);
        if (near)
            config_err(err, err_size, origin, "unknown key '%s' (did you mean '%s'?)", name,
                       near);
        else
            config_err(err, err_size, origin,
                       "unknown key '%s' (librdkafka properties take a 'kafka.' prefix; "
                       "`earshot run --help-config` lists the keys)",
                       name);
        return -1;
    }
    return config_set_def(c, d, value, origin, err, err_size);
}

int config_init(config *c)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < N_DEFS; i++)
        if (config_set_def(c, &config_defs[i], config_defs[i].def, "default", err, sizeof(err)))
            return -1; /* a bad default is a bug caught by the unit test */
    return 0;
}

void config_free(config *c)
{
    char *base = (char *)c;

    for (size_t i = 0; i < N_DEFS; i++) {
        if (config_defs[i].type == CONFIG_STR || config_defs[i].type == CONFIG_TARGETS ||
            config_defs[i].type == CONFIG_SERIES) {
            char **slot = (char **)(base + config_defs[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
    for (size_t i = 0; i < c->n_kafka; i++) {
        free(c->kafka[i].name);
        free(c->kafka[i].value);
        free(c->kafka[i].origin);
    }
    free(c->kafka);
    c->kafka = NULL;
    c->n_kafka = 0;
}

static char *config_trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* A config is a few hundred bytes of "key = value" lines; a file past this
 * is the wrong file (a log, a dump), and /dev/zero would never end. */
#define CONFIG_FILE_MAX_MIB 1
#define CONFIG_FILE_MAX ((size_t)CONFIG_FILE_MAX_MIB << 20)

/* The whole file, NUL-terminated, into a malloc'd *buf: base_file refuses
 * anything but a regular file (a FIFO would wait for a writer forever) and
 * bounds the read (/dev/zero would never end). 0, or -1 with err. */
static int config_read_file(const char *path, char **buf, size_t *len, char *err,
                            size_t err_size)
{
    struct stat st;
    int fd = base_file_open(path, &st), rc;

    *buf = NULL;
    *len = 0;
    if (fd == -2) {
        snprintf(err, err_size, "config file '%s' is not a regular file (%s); give "
                 "the path of a plain file of 'key = value' lines", path,
                 base_file_kind(st.st_mode));
        return -1;
    }
    if (fd < 0) {
        snprintf(err, err_size, "cannot open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    rc = base_file_read(fd, (long long)st.st_size, CONFIG_FILE_MAX, buf, len);
    close(fd);
    if (rc == -2)
        snprintf(err, err_size, "config file '%s' is larger than %d MiB; a config holds "
                 "'key = value' lines: check the path", path, CONFIG_FILE_MAX_MIB);
    else if (rc != 0 && errno == ENOMEM)
        snprintf(err, err_size, "config file '%s': out of memory", path);
    else if (rc != 0)
        snprintf(err, err_size, "reading config file '%s': %s", path, strerror(errno));
    return rc == 0 ? 0 : -1;
}

int config_load_file(config *c, const char *path, char *err, size_t err_size)
{
    char *buf, *line, *next, origin[512];
    size_t len;
    unsigned line_no = 0;
    int rc = 0;

    if (config_read_file(path, &buf, &len, err, err_size) != 0)
        return -1;
    for (line = buf; line < buf + len; line = next) {
        char *p, *eq, *key, *value, *nl;
        size_t got;

        nl = memchr(line, '\n', (size_t)(buf + len - line));
        got = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);
        next = line + got + (nl ? 1 : 0);
        line_no++;
        snprintf(origin, sizeof(origin), "%s:%u", path, line_no);
        if (memchr(line, '\0', got)) {
            config_err(err, err_size, origin, "NUL byte in line");
            rc = -1;
            break;
        }
        line[got] = '\0';
        p = config_trim(line);
        if (!*p || *p == '#')
            continue;
        eq = strchr(p, '=');
        if (!eq) {
            config_err(err, err_size, origin, "expected 'key = value', got '%s'", p);
            rc = -1;
            break;
        }
        *eq = '\0';
        key = config_trim(p);
        value = config_trim(eq + 1);
        if (!*key) {
            config_err(err, err_size, origin, "missing key before '='");
            rc = -1;
            break;
        }
        if (config_set(c, key, value, origin, err, err_size)) {
            rc = -1;
            break;
        }
    }
    free(buf);
    return rc;
}

/* "tickets.min_priority" -> "TICKETS_MIN_PRIORITY" */
static void config_env_name(const char *key, char *buf, size_t size)
{
    size_t i = 0;

    for (; key[i] && i + 1 < size; i++)
        buf[i] = key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
    buf[i] = '\0';
}

int config_apply_env(config *c, char *const *env, char *err, size_t err_size)
{
    for (; env && *env; env++) {
        const char *var = *env, *eq = strchr(var, '=');
        char name[256], origin[300];
        size_t len;

        if (strncmp(var, "EARSHOT_", 8) || !eq)
            continue;
        len = (size_t)(eq - var);
        if (len >= sizeof(name))
            continue;
        memcpy(name, var, len);
        name[len] = '\0';
        snprintf(origin, sizeof(origin), "environment %s", name);
        if (!strncmp(name, "EARSHOT_KAFKA_", 14) && name[14]) {
            char prop[256];
            size_t k = 0;
            for (const char *q = name + 14; *q; q++)
                prop[k++] = *q == '_' ? '.' : (char)tolower((unsigned char)*q);
            prop[k] = '\0';
            if (config_set_kafka(c, prop, eq + 1, origin, err, err_size))
                return -1;
            continue;
        }
        for (size_t i = 0; i < N_DEFS; i++) {
            char want[256];
            config_env_name(config_defs[i].name, want, sizeof(want));
            if (!strcmp(name + 8, want)) {
                if (config_set_def(c, &config_defs[i], eq + 1, origin, err, err_size))
                    return -1;
                break;
            }
        }
    }
    return 0;
}

int config_finalize(config *c, char *err, size_t err_size)
{
    const char *outs[3] = {c->topic_enriched, c->topic_tickets, c->topic_rejected};
    const char *names[3] = {"topic.enriched", "topic.tickets", "topic.rejected"};

    if (!*c->brokers) {
        snprintf(err, err_size,
                 "no Kafka brokers: set 'brokers' in the config file or pass -b HOST:PORT");
        return -1;
    }
    if (!*c->group_id || !*c->topic_input) {
        snprintf(err, err_size, "'%s' must not be empty",
                 !*c->group_id ? "group.id" : "topic.input");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        if (!*outs[i]) {
            snprintf(err, err_size, "'%s' must not be empty", names[i]);
            return -1;
        }
        if (!strcmp(outs[i], c->topic_input)) {
            snprintf(err, err_size,
                     "'%s' must differ from 'topic.input' ('%s'): earshot would read its "
                     "own output",
                     names[i], c->topic_input);
            return -1;
        }
    }
    if (c->topics_partitions == 0 || c->topics_replication == 0) {
        snprintf(err, err_size, "'%s' must be -1 (the broker's default) or at least 1, got 0",
                 c->topics_partitions == 0 ? "topics.partitions" : "topics.replication");
        return -1;
    }
    return 0;
}

static const char *config_type_name(const config_def *d)
{
    switch (d->type) {
    case CONFIG_STR: return "string";
    case CONFIG_INT: return "integer";
    case CONFIG_BOOL: return "boolean";
    case CONFIG_ENUM:
    case CONFIG_LEVEL: return "enum";
    case CONFIG_TARGETS: return "targets";
    case CONFIG_SERIES: return "series";
    case CONFIG_FLOAT: return "number";
    }
    return "?";
}

void config_print_reference(FILE *out)
{
    fprintf(out, "earshot configuration keys (file: `key = value`; `kafka.<prop> = value`\n"
                 "and -X prop=val go to librdkafka unchanged). Precedence: defaults, the\n"
                 "-c file, the environment (EARSHOT_<KEY>, e.g. EARSHOT_THREADS=4, and\n"
                 "EARSHOT_KAFKA_<PROP>, e.g. EARSHOT_KAFKA_SASL_PASSWORD), the command line.\n\n");
    for (size_t i = 0; i < N_DEFS; i++) {
        const config_def *d = &config_defs[i];
        fprintf(out, "%s (%s", d->name, config_type_name(d));
        if (d->type == CONFIG_INT || d->type == CONFIG_FLOAT)
            fprintf(out, " %lld..%lld", (long long)d->min, (long long)d->max);
        else if (d->choices)
            fprintf(out, ": %s", d->choices);
        fprintf(out, ", default '%s')\n    %s\n", d->def, d->doc);
    }
}

void config_print(const config *c, FILE *out)
{
    const char *base = (const char *)c;

    for (size_t i = 0; i < N_DEFS; i++) {
        const config_def *d = &config_defs[i];
        const void *slot = base + d->offset;
        fprintf(out, "%s = ", d->name);
        switch (d->type) {
        case CONFIG_STR:
        case CONFIG_TARGETS:
        case CONFIG_SERIES: fprintf(out, "%s\n", *(char *const *)slot); break;
        case CONFIG_INT: fprintf(out, "%lld\n", (long long)*(const int64_t *)slot); break;
        case CONFIG_FLOAT: fprintf(out, "%.15g\n", *(const double *)slot); break;
        case CONFIG_BOOL: fprintf(out, "%s\n", *(const int *)slot ? "true" : "false"); break;
        case CONFIG_ENUM:
        case CONFIG_LEVEL: {
            const char *p = d->choices;
            for (int k = *(const int *)slot; k > 0 && p; k--) {
                p = strchr(p, '|');
                p = p ? p + 1 : NULL;
            }
            fprintf(out, "%.*s\n", p ? (int)strcspn(p, "|") : 1, p ? p : "?");
            break;
        }
        }
    }
    /* The kafka.* properties are printed by the pipeline (kconf_print) as
     * librdkafka holds them, so that librdkafka's own sensitive flag hides
     * secrets. */
}
