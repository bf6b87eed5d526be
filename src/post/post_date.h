/*
 * post_date: the timestamp formats earshot accepts in input posts (post.c
 * implements it, post_parse.cpp calls it). The calendar arithmetic and the
 * ISO-8601 writer behind the output are base/base_time.h, shared with
 * src/enrich and src/gen.
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

#define POST_DATE_LEN 20 /* strlen("2018-10-10T20:19:24Z"): BASE_TIME_ISO_LEN */

/* Parse either accepted format. On success writes POST_DATE_LEN bytes (no
 * NUL) to out, sets *epoch and returns 0; returns -1 when s is not a date
 * earshot understands (out and *epoch untouched). */
int post_date_normalise(const char *s, size_t len, char out[POST_DATE_LEN],
                        int64_t *epoch);

#ifdef __cplusplus
}
#endif

#endif
