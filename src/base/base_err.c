/* base_err: error-string setters (contract in base_err.h). */
#include "base/base_err.h"

#include <stdio.h>
#include <string.h>

void base_err_vset(char *err, size_t err_size, const char *fmt, va_list ap) {
    if (!err || err_size == 0)
        return;
    vsnprintf(err, err_size, fmt, ap);
}

void base_err_set(char *err, size_t err_size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    base_err_vset(err, err_size, fmt, ap);
    va_end(ap);
}

void base_err_vappend(char *err, size_t err_size, const char *sep,
                      const char *fmt, va_list ap) {
    if (!err || err_size == 0)
        return;
    size_t n = strnlen(err, err_size), ls = strlen(sep);
    if (n && n + ls + 1 >= err_size)
        return;
    if (n) {
        memcpy(err + n, sep, ls + 1);
        n += ls;
    }
    vsnprintf(err + n, err_size - n, fmt, ap);
}

void base_err_append(char *err, size_t err_size, const char *sep,
                     const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    base_err_vappend(err, err_size, sep, fmt, ap);
    va_end(ap);
}
