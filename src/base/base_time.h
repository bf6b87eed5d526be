/*
 * base_time: proleptic Gregorian calendar arithmetic and the one UTC
 * ISO-8601 writer ("2018-10-10T20:19:24Z", or "...:24.123Z" with
 * milliseconds) that the post normaliser, the enriched events and the
 * generator all emit.
 *
 * Computed with Howard Hinnant's era-based formulas: no timegm, no TZ, no
 * locale, so every function is pure and thread-safe.
 * Cost: a conversion is ~20 integer operations (divisions by constants);
 * the writer adds 20-24 byte stores.
 */
#ifndef EARSHOT_BASE_TIME_H
#define EARSHOT_BASE_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BASE_TIME_ISO_LEN 20    /* strlen("2018-10-10T20:19:24Z") */
#define BASE_TIME_ISO_MS_LEN 24 /* strlen("2018-10-10T20:19:24.123Z") */

/* The four-digit-year range the writer can express:
 * 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define BASE_TIME_MIN_EPOCH INT64_C(-62167219200)
#define BASE_TIME_MAX_EPOCH INT64_C(253402300799)

/* Days since 1970-01-01 of a date (month 1..12, day 1..31; not checked). */
int64_t base_time_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The inverse, exact for negative days too (computed by 400-year eras). */
void base_time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Writes epoch (seconds since 1970, UTC) as ISO 8601 at out: with ms < 0,
 * BASE_TIME_ISO_LEN bytes "YYYY-MM-DDTHH:MM:SSZ"; with ms in 0..999,
 * BASE_TIME_ISO_MS_LEN bytes "YYYY-MM-DDTHH:MM:SS.mmmZ". No NUL is written.
 * An epoch outside BASE_TIME_{MIN,MAX}_EPOCH is clamped to that range
 * rather than written as something no parser reads back. Returns the number
 * of bytes written. */
unsigned base_time_iso8601(char *out, int64_t epoch, int ms);

#ifdef __cplusplus
}
#endif

#endif
