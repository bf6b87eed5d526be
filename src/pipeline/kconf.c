/*
 * kconf: librdkafka configuration of the consumer and the producer. See
 * kconf.h.
 */
#include "pipeline/kconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KCONF_ROLES 2

/* What at-least-once delivery depends on; set last. A user property that
 * changes one of these to another value is refused with `why`. */
static const struct {
    kconf_role role;
    const char *name, *value, *why;
} kconf_required[] = {
    {KCONF_CONSUMER, "enable.auto.offset.store", "false",
     "earshot stores an input offset only after every output of that post is "
     "acknowledged (at-least-once); librdkafka's own store would let a commit pass "
     "posts still in flight"},
    {KCONF_CONSUMER, "enable.auto.commit", "true",
     "earshot commits the offsets it stored through librdkafka's auto-commit; without "
     "it nothing is committed before shutdown and a crash repeats everything since the "
     "start (tune consumer.auto.commit.interval.ms instead)"},
    {KCONF_PRODUCER, "enable.idempotence", "true",
     "a retried produce must not duplicate or reorder outputs"},
    {KCONF_PRODUCER, "acks", "all",
     "an output counts as delivered, and its input offset as committable, only once "
     "every in-sync replica has it; with fewer acks a leader failover can lose an "
     "output whose input is already committed"},
    {KCONF_PRODUCER, "allow.auto.create.topics", "false",
     "with it (librdkafka's producer default) the producer's metadata requests for an "
     "output topic deleted while earshot runs get the broker (auto.create.topics.enable, "
     "Kafka's default) to create it again at once, with the broker's default partitions "
     "and replication; earshot creates topics only through topics.create, with "
     "topics.partitions and topics.replication"},
};
#define N_REQUIRED (sizeof(kconf_required) / sizeof(kconf_required[0]))

static const char *const kconf_prefix[KCONF_ROLES] = {"consumer.", "producer."};
static const char *const kconf_role_name[KCONF_ROLES] = {"consumer", "producer"};

/* librdkafka's property table, as rd_kafka_conf_properties_show prints it
 * (markdown rows "name | C/P | ..."): which client each property applies
 * to, aliases included. Read instead of kept by hand so that it follows the
 * library. */
typedef struct kconf_scopes {
    char *text; /* the table; rows are cut in place */
    struct {
        const char *name;
        char scope; /* 'C', 'P' or '*' */
    } *row;
    size_t n;
} kconf_scopes;

static int kconf_scopes_load(kconf_scopes *ks)
{
    size_t len = 0, cap = 0;
    FILE *f;

    memset(ks, 0, sizeof(*ks));
    if (!(f = open_memstream(&ks->text, &len)))
        return -1;
    rd_kafka_conf_properties_show(f);
    if (fclose(f))
        return -1;
    for (char *line = ks->text, *next; line && *line; line = next) {
        char *bar, *end;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        bar = strchr(line, '|');
        if (!bar || line[0] == '-' || !strncmp(line, "Property", 8))
            continue;
        end = bar;
        while (end > line && end[-1] == ' ')
            end--;
        *end = '\0';
        while (*++bar == ' ')
            ;
        if (ks->n == cap) {
            cap = cap ? cap * 2 : 256;
            void *grown = realloc(ks->row, cap * sizeof(*ks->row));
            if (!grown)
                return -1;
            ks->row = grown;
        }
        ks->row[ks->n].name = line;
        ks->row[ks->n].scope = *bar;
        ks->n++;
    }
    return 0;
}

static void kconf_scopes_free(kconf_scopes *ks)
{
    free(ks->row);
    free(ks->text);
}

/* 'C', 'P', '*', or 0 for a name librdkafka does not list. */
static char kconf_scope(const kconf_scopes *ks, const char *name)
{
    for (size_t i = 0; i < ks->n; i++)
        if (!strcmp(ks->row[i].name, name))
            return ks->row[i].scope;
    return 0;
}

static int kconf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                     const char *origin, char *err, size_t err_size)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "%s: librdkafka property '%s': %s", origin, name, errstr);
        return -1;
    }
    return 0;
}

/* A property's value as librdkafka holds it ("" when unset and topic-level). */
static void kconf_get(rd_kafka_conf_t *conf, const char *name, char *buf, size_t size)
{
    size_t n = size;

    if (rd_kafka_conf_get(conf, name, buf, &n) != RD_KAFKA_CONF_OK)
        buf[0] = '\0';
}

/* Refuses name=value when it would change a required property of role to
 * another value. Compared through librdkafka: a scratch conf holding the
 * required values, then name=value, then each required value read back; so
 * aliases (acks, request.required.acks) and spellings (all, -1) count as
 * what they are, and setting a required value itself is fine. */
static int kconf_refuse_override(kconf_role role, const char *name, const char *value,
                                 const char *origin, char *err, size_t err_size)
{
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    char want[N_REQUIRED][64], errstr[512];
    int rc = 0;

    for (size_t i = 0; i < N_REQUIRED; i++) {
        rd_kafka_conf_set(scratch, kconf_required[i].name, kconf_required[i].value, errstr,
                          sizeof(errstr));
        kconf_get(scratch, kconf_required[i].name, want[i], sizeof(want[i]));
    }
    if (rd_kafka_conf_set(scratch, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        goto done; /* kconf_set reports it */
    for (size_t i = 0; i < N_REQUIRED && !rc; i++) {
        char now[64];

        if (kconf_required[i].role != role)
            continue;
        kconf_get(scratch, kconf_required[i].name, now, sizeof(now));
        if (strcmp(now, want[i])) {
            snprintf(err, err_size,
                     "%s: librdkafka property '%s=%s' is refused: earshot's %s needs %s=%s: "
                     "%s; remove the setting",
                     origin, name, value, kconf_role_name[role], kconf_required[i].name,
                     kconf_required[i].value, kconf_required[i].why);
            rc = -1;
        }
    }
done:
    rd_kafka_conf_destroy(scratch);
    return rc;
}

/* The user's properties for role: "consumer."/"producer." ones to that
 * client only, unprefixed ones to each client librdkafka says they apply to
 * (set on the other, they are ignored with a warning at rd_kafka_new). */
static int kconf_user(rd_kafka_conf_t *conf, const config *cfg, kconf_role role,
                      const kconf_scopes *ks, char *err, size_t err_size)
{
    const char *mine = kconf_prefix[role], *theirs = kconf_prefix[!role];
    char other = role == KCONF_CONSUMER ? 'P' : 'C';

    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const config_kafka_prop *kp = &cfg->kafka[i];
        const char *name = kp->name;
        int prefixed = 0;

        if (!strncmp(name, theirs, strlen(theirs)))
            continue;
        if (!strncmp(name, mine, strlen(mine))) {
            name += strlen(mine);
            prefixed = 1;
        }
        if (kconf_scope(ks, name) == other) {
            if (!prefixed)
                continue;
            snprintf(err, err_size,
                     "%s: librdkafka property '%s%s': '%s' is a %s property (librdkafka), "
                     "the %s ignores it; use '%s%s' or drop the prefix",
                     kp->origin, mine, name, name, kconf_role_name[!role],
                     kconf_role_name[role], theirs, name);
            return -1;
        }
        if (kconf_refuse_override(role, name, kp->value, kp->origin, err, err_size) ||
            kconf_set(conf, name, kp->value, kp->origin, err, err_size))
            return -1;
    }
    return 0;
}

rd_kafka_conf_t *kconf_new(const config *cfg, kconf_role role, int with_stats, char *err,
                           size_t err_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kconf_scopes ks;
    char v[32];
    int consumer = role == KCONF_CONSUMER;
    /* earshot's defaults: config keys (config.c), so --help-config shows
     * them with their reasons; applied before the user's properties, which
     * win. */
    struct {
        const char *name, *key;
        int64_t num;
        const char *text;
    } defs[] = {
        {"fetch.min.bytes", "consumer.fetch.min.bytes", cfg->consumer_fetch_min_bytes, NULL},
        {"fetch.wait.max.ms", "consumer.fetch.wait.max.ms", cfg->consumer_fetch_wait_max_ms,
         NULL},
        {"auto.offset.reset", "consumer.auto.offset.reset", 0,
         cfg->consumer_auto_offset_reset == CONFIG_OFFSET_RESET_EARLIEST ? "earliest"
                                                                        : "latest"},
        {"partition.assignment.strategy", "consumer.partition.assignment.strategy", 0,
         cfg->consumer_assignment_strategy},
        {"auto.commit.interval.ms", "consumer.auto.commit.interval.ms",
         cfg->consumer_auto_commit_interval_ms, NULL},
        {"queued.max.messages.kbytes", "consumer.queued.max.messages.kbytes",
         cfg->consumer_queued_max_kbytes, NULL},
        {"linger.ms", "producer.linger.ms", cfg->producer_linger_ms, NULL},
        {"message.timeout.ms", "producer.message.timeout.ms",
         cfg->producer_message_timeout_ms, NULL},
        {"compression.codec", "producer.compression.codec", 0,
         cfg->producer_compression_codec},
    };

    if (kconf_scopes_load(&ks)) {
        kconf_scopes_free(&ks);
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "out of memory reading librdkafka's property table");
        return NULL;
    }
    if (kconf_set(conf, "bootstrap.servers", cfg->brokers, "brokers", err, err_size) ||
        kconf_set(conf, "client.id", consumer ? "earshot-consumer" : "earshot-producer",
                  "default", err, err_size))
        goto err;
    if (consumer && (kconf_set(conf, "group.id", cfg->group_id, "group.id", err, err_size) ||
                     (*cfg->group_instance_id &&
                      kconf_set(conf, "group.instance.id", cfg->group_instance_id,
                                "group.instance.id", err, err_size))))
        goto err;
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        if (strncmp(defs[i].key, kconf_prefix[role], strlen(kconf_prefix[role])))
            continue;
        if (!defs[i].text)
            snprintf(v, sizeof(v), "%lld", (long long)defs[i].num);
        if (kconf_set(conf, defs[i].name, defs[i].text ? defs[i].text : v, defs[i].key, err,
                      err_size))
            goto err;
    }
    if (with_stats && cfg->metrics_kafka_interval_ms > 0) {
        snprintf(v, sizeof(v), "%lld", (long long)cfg->metrics_kafka_interval_ms);
        if (kconf_set(conf, "statistics.interval.ms", v, "metrics.kafka.interval.ms", err,
                      err_size))
            goto err;
    }
    if (kconf_user(conf, cfg, role, &ks, err, err_size))
        goto err;
    for (size_t i = 0; i < N_REQUIRED; i++)
        if (kconf_required[i].role == role &&
            kconf_set(conf, kconf_required[i].name, kconf_required[i].value,
                      "earshot (required)", err, err_size))
            goto err;
    kconf_scopes_free(&ks);
    return conf;
err:
    kconf_scopes_free(&ks);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int kconf_check(const config *cfg, char *err, size_t err_size)
{
    for (int r = 0; r < KCONF_ROLES; r++) {
        rd_kafka_conf_t *conf = kconf_new(cfg, (kconf_role)r, 1, err, err_size);
        if (!conf)
            return -1;
        rd_kafka_conf_destroy(conf);
    }
    return 0;
}

/* Collects librdkafka's debug=conf dump ("  name = value" lines after
 * "Client configuration:"), which it writes synchronously from
 * rd_kafka_new with its sensitive properties as [redacted]. */
typedef struct kconf_dump {
    FILE *out;
    const char *prefix;
    const char *debug; /* the user's debug value, NULL if unset */
} kconf_dump;

static void kconf_dump_line(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    kconf_dump *d = rd_kafka_opaque(rk);
    const char *p = strstr(buf, "]: ");
    const char *eq;
    size_t nlen;

    (void)level;
    if (!d->out || strcmp(fac, "CONF") || !p || strncmp(p + 3, "  ", 2))
        return;
    p += 5;
    if (!(eq = strstr(p, " = ")))
        return;
    nlen = (size_t)(eq - p);
    /* Not properties: the callbacks and opaques earshot sets (pointers),
     * and the debug=conf and empty broker list this dump ran with. */
    if ((nlen > 3 && !strncmp(eq - 3, "_cb", 3)) || (nlen == 6 && !strncmp(p, "opaque", 6)) ||
        (nlen == 18 && !strncmp(p, "default_topic_conf", 18)) ||
        (nlen == 17 && !strncmp(p, "bootstrap.servers", 17)))
        return;
    if (nlen == 5 && !strncmp(p, "debug", 5)) {
        if (d->debug)
            fprintf(d->out, "%sdebug = %s\n", d->prefix, d->debug);
        return;
    }
    fprintf(d->out, "%s%.*s = %s\n", d->prefix, (int)nlen, p, eq + 3);
}

int kconf_print(const config *cfg, FILE *out, char *err, size_t err_size)
{
    fprintf(out, "# librdkafka properties in effect: those that differ from librdkafka's\n"
                 "# defaults, as librdkafka lists them (it shows sensitive values as\n"
                 "# [redacted])\n");
    for (int r = 0; r < KCONF_ROLES; r++) {
        char prefix[32], errstr[512];
        kconf_dump d = {out, prefix, NULL};
        rd_kafka_conf_t *conf = kconf_new(cfg, (kconf_role)r, cfg->metrics_listen[0] != 0,
                                          err, err_size);
        rd_kafka_t *rk;

        if (!conf)
            return -1;
        snprintf(prefix, sizeof(prefix), "kafka.%s", kconf_prefix[r]);
        /* the user's debug=..., which the dump's own debug=conf hides */
        for (size_t i = 0; i < cfg->n_kafka; i++) {
            const char *name = cfg->kafka[i].name;
            if (!strncmp(name, kconf_prefix[r], strlen(kconf_prefix[r])))
                name += strlen(kconf_prefix[r]);
            if (!strcmp(name, "debug"))
                d.debug = cfg->kafka[i].value;
        }
        fprintf(out, "%sbootstrap.servers = %s\n", prefix, cfg->brokers);
        /* No brokers: the client is built (so librdkafka lists its whole
         * configuration) and destroyed without connecting anywhere. */
        if (kconf_set(conf, "bootstrap.servers", "", "print", err, err_size) ||
            kconf_set(conf, "debug", "conf", "print", err, err_size)) {
            rd_kafka_conf_destroy(conf);
            return -1;
        }
        rd_kafka_conf_set_log_cb(conf, kconf_dump_line);
        rd_kafka_conf_set_opaque(conf, &d);
        rk = rd_kafka_new(r == KCONF_CONSUMER ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf,
                          errstr, sizeof(errstr));
        if (!rk) {
            rd_kafka_conf_destroy(conf);
            snprintf(err, err_size, "librdkafka %s: %s", kconf_role_name[r], errstr);
            return -1;
        }
        d.out = NULL; /* what destroy logs is not configuration */
        rd_kafka_destroy(rk);
    }
    return 0;
}
