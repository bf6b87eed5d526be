/*
 * cli_common: small helpers shared by the cmd_* modes.
 */
#ifndef EARSHOT_CLI_COMMON_H
#define EARSHOT_CLI_COMMON_H

#include <stddef.h>

/* The rules directory used when none is given: $EARSHOT_RULES, else ./rules
 * when it exists, else the rules/ of the source tree this binary was built
 * from, else the installed share/earshot/rules. */
const char *cli_default_rules_dir(void);

/* Parses a decimal integer in [min, max]. Returns 0, or -1 when s is not one. */
int cli_parse_size(const char *s, size_t min, size_t max, size_t *out);

#endif
