/* base_edit: Levenshtein distance with one row (see base_edit.h). */
#include "base/base_edit.h"

#include <stdint.h>
#include <string.h>

static unsigned char base_edit_fold(unsigned char c, int fold_case) {
    return fold_case && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

size_t base_edit_distance(const char *a, const char *b, int fold_case) {
    size_t la = strlen(a), lb = strlen(b), row[BASE_EDIT_MAX + 1];

    if (la > BASE_EDIT_MAX || lb > BASE_EDIT_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0]; /* row[i-1][j-1] */
        unsigned char ca = base_edit_fold((unsigned char)a[i - 1], fold_case);
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned char cb = base_edit_fold((unsigned char)b[j - 1], fold_case);
            size_t best = diag + (ca != cb);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = row[j];
            row[j] = best;
        }
    }
    return row[lb];
}
