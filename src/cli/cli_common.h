/*
 * cli_common: small helpers shared by the cmd_* modes.
 */
#ifndef EARSHOT_CLI_COMMON_H
#define EARSHOT_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/rules.h"

/* The rules directory a mode uses (search order in cli_common.c and README,
 * "Rules lookup"): given (--rules DIR; NULL = none), else configured
 * (rules.dir; NULL = the mode has no config, "" = not set), else
 * $EARSHOT_RULES, else ./rules, else the installed rules next to the
 * binary (../share/earshot/rules), else, for a build-tree binary, the source
 * tree's rules/. A directory the user named that does not exist is an error.
 * Returns the directory (valid until the next call), or NULL with err
 * listing every place tried ("no rules directory: tried ...; give --rules
 * DIR"). */
const char *cli_rules_dir(const char *given, const char *configured, char *err,
                          size_t err_size);

/* For usage text: what cli_rules_dir(NULL, NULL) finds, or "none found". */
const char *cli_default_rules_dir(void);

/* Parses a decimal integer in [min, max]. Returns 0, or -1 when s is not one. */
int cli_parse_size(const char *s, size_t min, size_t max, size_t *out);

/* Loads a rules directory for a one-shot mode (classify, eval) through the
 * compiled-rule cache that `earshot run` uses (rules_cache_default_dir), so
 * unchanged rules are not compiled again on every call; use_cache false
 * compiles every time. Cache trouble is printed to stderr as
 * "earshot MODE: rules cache: ..." and never fails the load. NULL + err
 * (the loader's "FILE:LINE:COL: ..." sentence) when the rules are invalid. */
ruleset *cli_load_rules(const char *mode, const char *dir, bool use_cache,
                        char *err, size_t err_size);
/* The same, leaving out a model file in dir unless with_model. */
ruleset *cli_load_rules_model(const char *mode, const char *dir, bool use_cache,
                              bool with_model, char *err, size_t err_size);

#endif
