/*
 * post.c: the C side of the post module: shape names and timestamp
 * normalisation (see post_date.h). The JSON parser itself is C++
 * (post_parse.cpp) because simdjson is C++; everything that needs no C++
 * lives here so it can be read and tested as plain C.
 *
 * Thread-safety: no state. Cost: a date is ~30 byte compares.
 */
#include "post/post.h"
#include "post/post_date.h"

#include <string.h>

#include "base/base_time.h"

const char *post_shape_name(post_shape shape) {
    switch (shape) {
    case POST_SHAPE_TWITTER_V2:
        return "twitter_v2";
    case POST_SHAPE_TWITTER_V1:
        return "twitter_v1";
    case POST_SHAPE_GENERIC:
        return "generic";
    }
    return "unknown";
}

static int post_date_is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned post_date_days_in_month(int64_t y, unsigned m) {
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    return m == 2 && post_date_is_leap(y) ? 29 : dim[m - 1];
}

/* n ASCII digits -> value, or -1 if any is not a digit. */
static int post_date_digits(const char *s, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Validate the broken-down local time, apply the zone offset (seconds east
 * of UTC) and write the normalised form. */
static int post_date_finish(int y, int mo, int d, int h, int mi, int s,
                            int offset, char out[POST_DATE_LEN],
                            int64_t *epoch) {
    if (y < 0 || mo < 1 || mo > 12 || d < 1 ||
        (unsigned)d > post_date_days_in_month(y, (unsigned)mo) || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
        return -1;
    int64_t t = base_time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
                h * 3600 + mi * 60 + s - offset;
    /* only a zone offset can move the date out of four-digit years */
    if (t < BASE_TIME_MIN_EPOCH || t > BASE_TIME_MAX_EPOCH)
        return -1;
    base_time_iso8601(out, t, -1);
    *epoch = t;
    return 0;
}

/* "+hh:mm", "+hhmm" (or '-'); returns seconds east of UTC or INT_MIN-ish
 * sentinel -1000000 when malformed. */
static int post_date_offset(const char *s, size_t n) {
    int sign, h, m;
    if (n != 5 && n != 6)
        return -1000000;
    if (s[0] == '+')
        sign = 1;
    else if (s[0] == '-')
        sign = -1;
    else
        return -1000000;
    h = post_date_digits(s + 1, 2);
    if (n == 6) {
        if (s[3] != ':')
            return -1000000;
        m = post_date_digits(s + 4, 2);
    } else {
        m = post_date_digits(s + 3, 2);
    }
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return -1000000;
    return sign * (h * 3600 + m * 60);
}

/* 2024-05-01T12:34:56[.fff...](Z|+hh:mm|+hhmm) */
static int post_date_iso(const char *s, size_t n, char out[POST_DATE_LEN],
                         int64_t *epoch) {
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return -1;
    size_t i = 19;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return -1;
    }
    int offset;
    if (i + 1 == n && s[i] == 'Z')
        offset = 0;
    else if ((offset = post_date_offset(s + i, n - i)) == -1000000)
        return -1;
    return post_date_finish(post_date_digits(s, 4), post_date_digits(s + 5, 2),
                            post_date_digits(s + 8, 2),
                            post_date_digits(s + 11, 2),
                            post_date_digits(s + 14, 2),
                            post_date_digits(s + 17, 2), offset, out, epoch);
}

/* Wed Oct 10 20:19:24 +0000 2018 */
static int post_date_twitter(const char *s, size_t n, char out[POST_DATE_LEN],
                             int64_t *epoch) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int mo = 0;
    if (n != 30 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
        s[13] != ':' || s[16] != ':' || s[19] != ' ' || s[25] != ' ')
        return -1;
    for (int i = 0; i < 12; i++) {
        if (memcmp(s + 4, months + 3 * i, 3) == 0) {
            mo = i + 1;
            break;
        }
    }
    if (mo == 0)
        return -1;
    int offset = post_date_offset(s + 20, 5);
    if (offset == -1000000)
        return -1;
    return post_date_finish(post_date_digits(s + 26, 4), mo,
                            post_date_digits(s + 8, 2),
                            post_date_digits(s + 11, 2),
                            post_date_digits(s + 14, 2),
                            post_date_digits(s + 17, 2), offset, out, epoch);
}

int post_date_normalise(const char *s, size_t len, char out[POST_DATE_LEN],
                        int64_t *epoch) {
    if (len >= 20 && s[0] >= '0' && s[0] <= '9')
        return post_date_iso(s, len, out, epoch);
    return post_date_twitter(s, len, out, epoch);
}
