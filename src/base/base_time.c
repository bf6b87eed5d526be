/* base_time: calendar arithmetic and the ISO-8601 writer (see base_time.h). */
#include "base/base_time.h"

/* Howard Hinnant's days_from_civil: shifts the year to start in March so
 * the leap day is the last day of the "year", then counts 400-year eras. */
int64_t base_time_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void base_time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void base_time_put2(char *o, unsigned v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

unsigned base_time_iso8601(char *out, int64_t epoch, int ms) {
    if (epoch < BASE_TIME_MIN_EPOCH)
        epoch = BASE_TIME_MIN_EPOCH;
    if (epoch > BASE_TIME_MAX_EPOCH)
        epoch = BASE_TIME_MAX_EPOCH;
    /* floor division: the seconds of the day are never negative */
    int64_t days = epoch >= 0 ? epoch / 86400 : (epoch - 86399) / 86400;
    unsigned secs = (unsigned)(epoch - days * 86400);
    int64_t y;
    unsigned mo, d;
    base_time_civil_from_days(days, &y, &mo, &d);

    unsigned yy = (unsigned)y; /* 0..9999 after the clamp */
    base_time_put2(out, yy / 100);
    base_time_put2(out + 2, yy % 100);
    out[4] = '-';
    base_time_put2(out + 5, mo);
    out[7] = '-';
    base_time_put2(out + 8, d);
    out[10] = 'T';
    base_time_put2(out + 11, secs / 3600);
    out[13] = ':';
    base_time_put2(out + 14, secs / 60 % 60);
    out[16] = ':';
    base_time_put2(out + 17, secs % 60);
    if (ms < 0) {
        out[19] = 'Z';
        return BASE_TIME_ISO_LEN;
    }
    unsigned m3 = (unsigned)ms % 1000;
    out[19] = '.';
    out[20] = (char)('0' + m3 / 100);
    base_time_put2(out + 21, m3 % 100);
    out[23] = 'Z';
    return BASE_TIME_ISO_MS_LEN;
}
