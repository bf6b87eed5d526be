/*
 * base_edit: Levenshtein distance, for "did you mean" suggestions on
 * unknown keys (rule files, the config file).
 *
 * Thread-safety: pure. Cost: O(len(a) * len(b)) time, one stack row of
 * BASE_EDIT_MAX + 1 words; strings longer than BASE_EDIT_MAX are not
 * compared (nothing worth suggesting is that long).
 */
#ifndef EARSHOT_BASE_EDIT_H
#define EARSHOT_BASE_EDIT_H

#include <stddef.h>

#define BASE_EDIT_MAX 63

/* Insertions, deletions and substitutions to turn a into b, bytewise, or
 * ASCII-case-insensitively when fold_case is non-zero. SIZE_MAX when
 * either string is longer than BASE_EDIT_MAX bytes. */
size_t base_edit_distance(const char *a, const char *b, int fold_case);

#endif
