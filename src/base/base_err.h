/*
 * base_err: the printf-style setters behind earshot's error convention
 * (librdkafka's errstr/errstr_size): a function that can fail takes
 * `char *err, size_t err_size` and fills it with a sentence a user can act
 * on, naming the file, line and fix.
 *
 * Contract: err may be NULL or err_size 0 (the message is dropped); a
 * message that does not fit is truncated, always NUL-terminated.
 * Thread-safety: pure (writes only err). Cost: one vsnprintf.
 */
#ifndef EARSHOT_BASE_ERR_H
#define EARSHOT_BASE_ERR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BASE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BASE_PRINTF(f, a)
#endif

/* Replaces err with the formatted message. */
void base_err_set(char *err, size_t err_size, const char *fmt, ...) BASE_PRINTF(3, 4);
void base_err_vset(char *err, size_t err_size, const char *fmt, va_list ap);

/* The loaders' "where: what" form: the caller writes the position
 * ("rules/brands.json:7:3: ") with snprintf, then the message with
 * base_err_vset(err + n, err_size - n, ...) when n < err_size. */

/* Appends to the message already in err, after sep when err is not empty:
 * for collecting several warnings of one operation ("a; b"). When not even
 * sep and one byte fit, err is left as it was. */
void base_err_append(char *err, size_t err_size, const char *sep,
                     const char *fmt, ...) BASE_PRINTF(4, 5);
void base_err_vappend(char *err, size_t err_size, const char *sep,
                      const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif

#endif
