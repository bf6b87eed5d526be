/*
 * cli_common: defaults and option parsing shared by the modes.
 */
#include "cli/cli_common.h"

#include "base/base_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cli_is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where a mode's rules come from, first that applies wins:
 *   1. given (--rules DIR or the DIR argument): must be a directory;
 *   2. configured (rules.dir, for run): must be a directory;
 *   3. $EARSHOT_RULES: must be a directory when set;
 *   4. ./rules when it is a directory;
 *   5. the installed rules, found from the running binary (/proc/self/exe,
 *      then EARSHOT_DATA_RULES_REL, "../share/earshot/rules" by default), so
 *      an installed tree can be moved or installed with --prefix at will;
 *   6. a binary still in its build tree: the source tree's rules/ (what the
 *      tests and a developer's `build/earshot check-rules` use).
 * A name the user gave (1-3) that is not a directory is an error rather
 * than a fall-through: silently reading other rules would be worse. The
 * source tree is never consulted by an installed binary, so removing the
 * checkout cannot change what a deployment reads. */

static char cli_rules_buf[4096];

/* dir of the running binary, or "" when /proc is not there. */
static void cli_exe_dir(char *out, size_t out_size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    out[0] = '\0';
    if (n <= 0)
        return;
    exe[n] = '\0';
    if (!(slash = strrchr(exe, '/')))
        return;
    *slash = '\0';
    snprintf(out, out_size, "%s", *exe ? exe : "/");
}

/* base + "/" + rel, with rel's leading "../" taken off base, so the error
 * names /opt/x/share/earshot/rules, not /opt/x/bin/../share/... */
static void cli_path_join(char *out, size_t out_size, const char *base, const char *rel)
{
    char b[4096];
    size_t n;

    snprintf(b, sizeof(b), "%s", base);
    if (rel[0] == '/') {
        snprintf(out, out_size, "%s", rel);
        return;
    }
    while (!strncmp(rel, "../", 3)) {
        char *slash = strrchr(b, '/');
        if (!slash)
            break;
        *slash = '\0';
        rel += 3;
    }
    n = strlen(b);
    if ((size_t)snprintf(out, out_size, "%s/%s", n ? b : "", rel) >= out_size)
        out[0] = '\0'; /* too long to be a directory: reported as absent */
}

static int cli_same_dir(const char *a, const char *b)
{
    char ra[4096], rb[4096];
    return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

const char *cli_rules_dir(const char *given, const char *configured, char *err,
                          size_t err_size)
{
    const char *env = getenv("EARSHOT_RULES");
    char exe_dir[4096], installed[4096];

    if (given) {
        if (cli_is_dir(given))
            return given;
        snprintf(err, err_size, "cannot open rules directory %s: no such directory", given);
        return NULL;
    }
    if (configured && *configured) {
        if (cli_is_dir(configured))
            return configured;
        snprintf(err, err_size, "cannot open rules directory %s (rules.dir / --rules): no such directory", configured);
        return NULL;
    }
    if (env && *env) {
        if (cli_is_dir(env))
            return env;
        snprintf(err, err_size, "cannot open rules directory %s ($EARSHOT_RULES): no such directory", env);
        return NULL;
    }
    if (cli_is_dir("rules"))
        return "rules";
    cli_exe_dir(exe_dir, sizeof(exe_dir));
    installed[0] = '\0';
#ifdef EARSHOT_DATA_RULES_REL
    if (*exe_dir) {
        cli_path_join(installed, sizeof(installed), exe_dir, EARSHOT_DATA_RULES_REL);
        if (cli_is_dir(installed)) {
            snprintf(cli_rules_buf, sizeof(cli_rules_buf), "%s", installed);
            return cli_rules_buf;
        }
    }
#endif
#if defined(EARSHOT_SOURCE_RULES) && defined(EARSHOT_BUILD_DIR)
    if (*exe_dir && cli_same_dir(exe_dir, EARSHOT_BUILD_DIR) && cli_is_dir(EARSHOT_SOURCE_RULES))
        return EARSHOT_SOURCE_RULES;
#endif
    base_err_set(err, err_size, "no rules directory: tried --rules (not given)");
    if (configured)
        base_err_append(err, err_size, ", ", "rules.dir (not set)");
    base_err_append(err, err_size, ", ", "$EARSHOT_RULES (unset), ./rules (absent)");
    if (*installed)
        base_err_append(err, err_size, ", ", "%s (absent)", installed);
    else
        base_err_append(err, err_size, ", ", "the installed rules (/proc/self/exe unreadable)");
    base_err_append(err, err_size, "; ", "give --rules DIR");
    return NULL;
}

const char *cli_default_rules_dir(void)
{
    char err[1024];
    const char *dir = cli_rules_dir(NULL, NULL, err, sizeof(err));
    return dir ? dir : "none found";
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
