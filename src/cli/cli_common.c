/*
 * cli_common: defaults and option parsing shared by the modes.
 */
#include "cli/cli_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int cli_is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *cli_default_rules_dir(void)
{
    const char *env = getenv("EARSHOT_RULES");

    if (env && *env)
        return env;
    if (cli_is_dir("rules"))
        return "rules";
#ifdef EARSHOT_SOURCE_RULES
    if (cli_is_dir(EARSHOT_SOURCE_RULES))
        return EARSHOT_SOURCE_RULES;
#endif
#ifdef EARSHOT_INSTALL_RULES
    if (cli_is_dir(EARSHOT_INSTALL_RULES))
        return EARSHOT_INSTALL_RULES;
#endif
    return "rules";
}

int cli_parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

ruleset *cli_load_rules(const char *mode, const char *dir, bool use_cache,
                        char *err, size_t err_size)
{
    return cli_load_rules_model(mode, dir, use_cache, true, err, err_size);
}

ruleset *cli_load_rules_model(const char *mode, const char *dir, bool use_cache,
                              bool with_model, char *err, size_t err_size)
{
    char cache_dir[4096], warn[512] = "";
    rules_load_opts lo = {.warn = warn, .warn_size = sizeof(warn),
                          .no_model = !with_model};
    ruleset *rs;

    /* No $EARSHOT_CACHE or $HOME (a bare container): compile, say nothing;
     * that is the documented fallback, not trouble. */
    if (use_cache && !rules_cache_default_dir(cache_dir, sizeof(cache_dir)))
        lo.cache_dir = cache_dir;
    rs = ruleset_load_opts(dir, &lo, err, err_size);
    if (rs && *warn)
        fprintf(stderr, "earshot %s: %s\n", mode, warn);
    return rs;
}
