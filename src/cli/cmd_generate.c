/*
 * cmd_generate: `earshot generate`, realistic sample posts as JSON lines on
 * stdout, one per line and nothing else there, for feeding `classify`, kcat
 * or a benchmark. Same options, same bytes, on any machine (see gen.h).
 *
 * Output goes through one reused buffer flushed in ~1 MB writes, so the
 * generator, not stdio, sets the pace (~1 us per post).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "gen/gen.h"

#define GENERATE_FLUSH_BYTES (1u << 20)

static void generate_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot generate [options]\n"
        "\n"
        "Writes realistic social posts as JSON lines to stdout: mostly chatter,\n"
        "a share naming the default rules' brands (complaints, praise, questions,\n"
        "neutral mentions), some spam, retweets and replies, several languages.\n"
        "The same options give the same bytes on every machine.\n"
        "\n"
        "options:\n"
        "  --count N            posts to write (default 1000)\n"
        "  --seed S             PRNG seed, 0..2^64-1 (default 1)\n"
        "  --shape SHAPE        v2 (Twitter API v2, default), v1 (Twitter v1.1),\n"
        "                       generic (Facebook/YouTube/blog), or mix\n"
        "  --mention-rate R     share of posts naming a brand, 0..1 (default 0.05)\n"
        "  --spam-rate R        share of spam posts, 0..1 (default 0.01)\n"
        "  --malformed-rate R   share of lines the parser must reject, 0..1 (default 0)\n"
        "  --bytes N            approximate size of a v2 post, 200..8192 (default 750)\n"
        "  -h, --help           this text\n");
}

static int generate_parse_rate(const char *name, const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    if (!s || !*s || (v = strtod(s, &end), errno) || *end || !isfinite(v) || v < 0.0 ||
        v > 1.0) {
        fprintf(stderr, "earshot generate: %s wants a number between 0 and 1, got '%s'\n",
                name, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int generate_parse_seed(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        goto err;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        goto err;
    *out = (uint64_t)v;
    return 0;
err:
    fprintf(stderr, "earshot generate: --seed wants a whole number from 0 to "
                    "18446744073709551615, got '%s'\n", s ? s : "");
    return -1;
}

static int generate_parse_shape(const char *s, gen_shape *out)
{
    if (s && !strcmp(s, "v2"))
        *out = GEN_SHAPE_TWITTER_V2;
    else if (s && !strcmp(s, "v1"))
        *out = GEN_SHAPE_TWITTER_V1;
    else if (s && !strcmp(s, "generic"))
        *out = GEN_SHAPE_GENERIC;
    else if (s && !strcmp(s, "mix"))
        *out = GEN_SHAPE_MIX;
    else {
        fprintf(stderr, "earshot generate: --shape wants v2, v1, generic or mix, got '%s'\n",
                s ? s : "");
        return -1;
    }
    return 0;
}

static int generate_known_option(const char *name)
{
    static const char *const known[] = {
        "--count", "--seed", "--shape", "--mention-rate", "--spam-rate",
        "--malformed-rate", "--bytes",
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(name, known[i]))
            return 1;
    return 0;
}

/* Writes all of buf or reports why not. */
static int generate_flush(const char *buf, size_t len)
{
    if (len && fwrite(buf, 1, len, stdout) != len) {
        fprintf(stderr, "earshot generate: writing to stdout failed: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int cmd_generate(int argc, char **argv)
{
    gen_options opt;
    size_t count = 1000;
    gen *g = NULL;
    jbuf buf;
    int rc = 1;

    gen_options_default(&opt);
    jbuf_init(&buf);

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL, *eq;
        char name[32];
        size_t nlen;

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            generate_usage(stdout);
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "earshot generate: unexpected argument '%s' (see --help)\n", arg);
            return 2;
        }
        /* --name VALUE or --name=VALUE */
        eq = strchr(arg, '=');
        nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof(name)) {
            fprintf(stderr, "earshot generate: unknown option '%s' (see --help)\n", arg);
            return 2;
        }
        memcpy(name, arg, nlen);
        name[nlen] = '\0';
        if (!generate_known_option(name)) {
            fprintf(stderr, "earshot generate: unknown option '%s' (see --help)\n", name);
            return 2;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "earshot generate: %s needs a value (see --help)\n", name);
            return 2;
        }

        if (!strcmp(name, "--count")) {
            if (cli_parse_size(val, 0, (size_t)-1, &count)) {
                fprintf(stderr, "earshot generate: --count wants a whole number >= 0, got '%s'\n",
                        val);
                return 2;
            }
        } else if (!strcmp(name, "--seed")) {
            if (generate_parse_seed(val, &opt.seed))
                return 2;
        } else if (!strcmp(name, "--shape")) {
            if (generate_parse_shape(val, &opt.shape))
                return 2;
        } else if (!strcmp(name, "--mention-rate")) {
            if (generate_parse_rate(name, val, &opt.mention_rate))
                return 2;
        } else if (!strcmp(name, "--spam-rate")) {
            if (generate_parse_rate(name, val, &opt.spam_rate))
                return 2;
        } else if (!strcmp(name, "--malformed-rate")) {
            if (generate_parse_rate(name, val, &opt.malformed_rate))
                return 2;
        } else if (!strcmp(name, "--bytes")) {
            if (cli_parse_size(val, 200, 8192, &opt.target_bytes)) {
                fprintf(stderr, "earshot generate: --bytes wants a size from 200 to 8192, "
                                "got '%s'\n", val);
                return 2;
            }
        } else {
            fprintf(stderr, "earshot generate: unknown option '%s' (see --help)\n", name);
            return 2;
        }
    }
    if (opt.mention_rate + opt.spam_rate + opt.malformed_rate > 1.0) {
        fprintf(stderr, "earshot generate: --mention-rate, --spam-rate and --malformed-rate "
                        "add up to more than 1 (%g)\n",
                opt.mention_rate + opt.spam_rate + opt.malformed_rate);
        return 2;
    }

    g = gen_new(&opt);
    if (!g || jbuf_reserve(&buf, GENERATE_FLUSH_BYTES + 65536)) {
        fprintf(stderr, "earshot generate: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        size_t before = buf.len;
        gen_next(g, &buf);
        if (buf.len == before || jbuf_raw(&buf, "\n", 1)) {
            fprintf(stderr, "earshot generate: out of memory after %zu posts\n", i);
            goto out;
        }
        if (buf.len >= GENERATE_FLUSH_BYTES) {
            if (generate_flush(buf.data, buf.len))
                goto out;
            jbuf_reset(&buf);
        }
    }
    if (generate_flush(buf.data, buf.len))
        goto out;
    if (fflush(stdout)) {
        fprintf(stderr, "earshot generate: writing to stdout failed: %s\n", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    gen_free(g);
    jbuf_free(&buf);
    return rc;
}
