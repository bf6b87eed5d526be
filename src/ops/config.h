/*
 * config: earshot's settings, from one declarative table (name, type,
 * default, range, doc), as librdkafka does it. The same table parses the
 * config file, applies command-line overrides, checks values and prints the
 * reference (`earshot run --help-config`).
 *
 * File format: one `key = value` per line; blank lines and lines whose first
 * non-blank character is '#' are ignored. A value runs to the end of the
 * line, trimmed; there are no inline comments, so a password may hold '#'.
 * A key set twice keeps the last value. `kafka.<property> = value` lines are
 * kept, in order, for librdkafka (rd_kafka_conf_set), with their FILE:LINE
 * so that librdkafka's complaint can name the line.
 *
 * Errors name the place and what is allowed:
 *   "earshot.conf:7: unknown key 'treads' (did you mean 'threads'?)"
 *   "earshot.conf:3: 'threads' must be an integer 0..256, got 'many'"
 *
 * Thread-safety: a config is built by one thread (main) and read-only after
 * config_finalize; the pipeline copies what it needs. Cost: not on any hot
 * path.
 */
#ifndef EARSHOT_OPS_CONFIG_H
#define EARSHOT_OPS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum config_key_by {
    CONFIG_KEY_BY_BRAND = 0,   /* first brand id; posts without one: post id */
    CONFIG_KEY_BY_POST_ID = 1,
} config_key_by;

typedef enum config_offset_reset {
    CONFIG_OFFSET_RESET_LATEST = 0,   /* index into the key's choices */
    CONFIG_OFFSET_RESET_EARLIEST = 1,
} config_offset_reset;

#define CONFIG_MAX_TARGETS 8

typedef struct config_target {
    int min_priority;    /* 0..100 */
    int respond_minutes; /* > 0 */
} config_target;

/* One librdkafka property, as given. */
typedef struct config_kafka_prop {
    char *name;   /* without the "kafka." prefix */
    char *value;
    char *origin; /* "FILE:LINE" or "-X" */
} config_kafka_prop;

typedef struct config {
    char *brokers;
    char *group_id;
    char *group_instance_id;      /* empty: dynamic membership */
    char *topic_input;
    char *topic_enriched;
    char *topic_tickets;
    char *topic_rejected;
    char *topic_stats;            /* in-run aggregator (watch.enabled) */
    char *topic_alerts;
    int watch_enabled;
    char *watch_group_id;         /* empty: group_id + ".watch" */
    int64_t watch_spike_min_count; /* the in-run aggregator's spike rule (watch.h) */
    double watch_spike_factor;
    double watch_spike_z;
    int64_t watch_spike_cooldown;
    int64_t watch_spike_warmup;
    int64_t watch_influencer_followers;
    int route_enriched_all;
    int64_t tickets_min_priority;
    int64_t tickets_max_age;      /* seconds; 0: no limit */
    int key_by;                   /* config_key_by */
    int64_t threads;              /* 0: number of online CPUs */
    char *rules_dir;              /* empty: the CLI's default */
    int64_t max_inflight_messages;
    int64_t max_inflight_bytes;
    int64_t consumer_fetch_min_bytes;   /* librdkafka defaults, -X wins */
    int64_t consumer_fetch_wait_max_ms;
    int consumer_auto_offset_reset;     /* config_offset_reset */
    int64_t producer_linger_ms;
    char *consumer_assignment_strategy; /* more librdkafka defaults (kconf) */
    int64_t consumer_auto_commit_interval_ms;
    int64_t consumer_queued_max_kbytes;
    int64_t producer_message_timeout_ms;
    char *producer_compression_codec;
    int64_t metrics_kafka_interval_ms;  /* statistics.interval.ms with metrics */
    int64_t status_interval_ms;   /* 0: no status line */
    int64_t shutdown_timeout_ms;
    int log_level;                /* log_level */
    int log_format;               /* log_format (ops/log.h) */
    int64_t post_max_bytes;
    int64_t post_max_depth;
    char *respond_targets;        /* as written; parsed into targets */
    config_target targets[CONFIG_MAX_TARGETS];
    int n_targets;
    char *metrics_listen;         /* empty: no HTTP endpoint */
    char *metrics_rules;          /* all | off | top:N (metrics_rule_series_parse) */
    char *rules_cache_dir;        /* "auto": rules_cache_default_dir; "": off */
    int64_t rules_cache_max_bytes;
    int rules_watch;              /* reload when a rules file changes */
    int topics_create;            /* create missing topics at start */
    int64_t topics_partitions;    /* for topics_create; -1: broker default */
    int64_t topics_replication;   /* for topics_create; -1: broker default */
    int64_t topics_timeout_ms;    /* one metadata / CreateTopics request */
    int run_dry_run;              /* classify and report, produce and commit nothing */

    config_kafka_prop *kafka;
    size_t n_kafka;
} config;

/* Fills every key with its default. config_free releases what it holds. */
int config_init(config *c);
void config_free(config *c);

/* Sets one earshot key (or a "kafka.<prop>" one) from text. origin names the
 * place for error messages ("FILE:LINE", "--set", ...). Returns 0, or -1
 * with err = "ORIGIN: what is wrong". */
int config_set(config *c, const char *name, const char *value, const char *origin,
               char *err, size_t err_size);

/* Adds/replaces a librdkafka property (no prefix), e.g. from -X. */
int config_set_kafka(config *c, const char *name, const char *value, const char *origin,
                     char *err, size_t err_size);

/* Reads a config file. Returns 0, or -1 with err (the first error). */
int config_load_file(config *c, const char *path, char *err, size_t err_size);

/* Environment overrides, for secrets that should not sit in a file:
 * EARSHOT_<KEY> sets an earshot key (upper case, '.' as '_', e.g.
 * EARSHOT_TICKETS_MIN_PRIORITY=50) and EARSHOT_KAFKA_<PROP> a librdkafka
 * property (lower-cased, '_' as '.', e.g. EARSHOT_KAFKA_SASL_PASSWORD).
 * env is a NULL-terminated "NAME=VALUE" array (environ). Variables that name
 * no key are ignored, except that EARSHOT_ variables the CLI itself reads
 * (EARSHOT_RULES, EARSHOT_CACHE) are not keys. Returns 0, or -1 with err
 * naming the variable. */
int config_apply_env(config *c, char *const *env, char *err, size_t err_size);

/* Cross-key checks after every source was applied (brokers given, output
 * topics distinct from the input). Returns 0, or -1 with err. */
int config_finalize(config *c, char *err, size_t err_size);

/* The reference table, one key per paragraph, for --help-config. */
void config_print_reference(FILE *out);

/* The effective earshot keys as a config file would write them (the
 * librdkafka properties: kconf_print in src/pipeline). */
void config_print(const config *c, FILE *out);

/* The nearest known key to name within a small edit distance, or NULL.
 * Exposed for tests. */
const char *config_suggest(const char *name);

#endif
