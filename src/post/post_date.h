/*
 * post_date: the timestamp formats earshot accepts in input posts (post.c
 * implements it, post_parse.cpp calls it), and the calendar arithmetic
 * behind them, which src/enrich and src/gen share for their own output so
 * that the one era-based formula lives in one place.
 *
 * Accepted:
 *   ISO 8601 / RFC 3339:  "2024-05-01T12:34:56Z", "2024-05-01T12:34:56.123Z",
 *                         "2024-05-01T12:34:56+00:00", "...+0530", "...-04:00"
 *   Twitter v1.1:         "Wed Oct 10 20:19:24 +0000 2018"
 * A time without a zone is refused: guessing UTC would silently shift posts.
 * Leap seconds (:60) are refused.
 *
 * Output is always UTC "YYYY-MM-DDTHH:MM:SSZ" plus seconds since 1970,
 * computed with a days-from-civil formula (no timegm, no TZ, no locale), so
 * it is thread-safe and costs ~20 ns.
 */
#ifndef EARSHOT_POST_DATE_H
#define EARSHOT_POST_DATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POST_DATE_LEN 20 /* strlen("2018-10-10T20:19:24Z") */

/* Parse either accepted format. On success writes POST_DATE_LEN bytes (no
 * NUL) to out, sets *epoch and returns 0; returns -1 when s is not a date
 * earshot understands (out and *epoch untouched). */
int post_date_normalise(const char *s, size_t len, char out[POST_DATE_LEN],
                        int64_t *epoch);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t post_date_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The inverse: the civil date of days since 1970-01-01, exact for negative
 * days too (computed by 400-year eras). */
void post_date_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#ifdef __cplusplus
}
#endif

#endif
