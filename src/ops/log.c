/*
 * log: leveled, rate-limited lines on stderr. See log.h.
 */
#include "ops/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The one process-wide setting (see log.h): written by main before threads
 * start, read by everyone, hence relaxed atomics are plenty. */
static atomic_int log_level_current = LOG_LEVEL_INFO;
static atomic_int log_format_current = LOG_FORMAT_TEXT;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (!strcmp(name, log_names[i])) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(log_level level)
{
    return (unsigned)level < 4 ? log_names[level] : "?";
}

void log_set_level(log_level level)
{
    atomic_store_explicit(&log_level_current, (int)level, memory_order_relaxed);
}

log_level log_get_level(void)
{
    return (log_level)atomic_load_explicit(&log_level_current, memory_order_relaxed);
}

int log_enabled(log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level_current, memory_order_relaxed);
}

int log_format_parse(const char *name, log_format *out)
{
    if (!strcmp(name, "text"))
        *out = LOG_FORMAT_TEXT;
    else if (!strcmp(name, "json"))
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

void log_set_format(log_format format)
{
    atomic_store_explicit(&log_format_current, (int)format, memory_order_relaxed);
}

log_format log_get_format(void)
{
    return (log_format)atomic_load_explicit(&log_format_current, memory_order_relaxed);
}

int64_t log_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy msg into out[0..cap) with every control byte escaped: \n, \r, \t
 * by name, other C0 bytes and DEL as \xHH. Messages quote what others
 * wrote (a rule id, a Kafka error, a post's field): raw, a newline in one
 * would start a second, forged log line. Backslashes are left alone, so a
 * message stays readable; the guarantee is one call, one line. An escape
 * that does not fit is dropped whole. Returns the bytes written. */
static size_t log_escape(char *out, size_t cap, const char *msg)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        char esc[4];
        size_t k = 0;
        if (*p >= 0x20 && *p != 0x7f) {
            esc[k++] = (char)*p;
        } else {
            esc[k++] = '\\';
            if (*p == '\n') {
                esc[k++] = 'n';
            } else if (*p == '\r') {
                esc[k++] = 'r';
            } else if (*p == '\t') {
                esc[k++] = 't';
            } else {
                esc[k++] = 'x';
                esc[k++] = hex[*p >> 4];
                esc[k++] = hex[*p & 15];
            }
        }
        if (n + k > cap)
            break;
        memcpy(out + n, esc, k);
        n += k;
    }
    return n;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t log_utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    unsigned cp;

    if (c < 0xc2 || c > 0xf4)
        return 0;
    cp = c & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* a NUL ends the string here too */
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* msg as the inside of a JSON string into out[0..cap): '"' and '\\'
 * escaped, control bytes as \n \r \t or \u00XX, bytes that are not UTF-8
 * as \ufffd (a JSON parser must be able to read every line). An escape
 * that does not fit is dropped whole. Returns the bytes written. */
static size_t log_json_escape(char *out, size_t cap, const char *msg)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)msg; *p;) {
        char esc[8];
        size_t k = 0, used = 1;
        if (*p == '"' || *p == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)*p;
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            esc[k++] = '\\';
            esc[k++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            memcpy(esc, "\\u00", 4);
            k = 4;
            esc[k++] = hex[*p >> 4];
            esc[k++] = hex[*p & 15];
        } else if (*p < 0x80) {
            esc[k++] = (char)*p;
        } else if ((used = log_utf8_len(p)) != 0) {
            memcpy(esc, p, used);
            k = used;
        } else {
            memcpy(esc, "\\ufffd", 6);
            k = 6;
            used = 1;
        }
        if (n + k > cap)
            break;
        memcpy(out + n, esc, k);
        n += k;
        p += used;
    }
    return n;
}

/* The JSON form of a line: {"time","level","pid","msg"[,"suppressed"]},
 * the same facts as the text form, one object per line. */
static size_t log_json_line(char *line, size_t size, const struct timeval *tv,
                            log_level level, uint64_t suppressed, const char *msg)
{
    struct tm tm;
    size_t n;
    int k;

    gmtime_r(&tv->tv_sec, &tm);
    n = strftime(line, size, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
    k = snprintf(line + n, size - n, ".%03dZ\",\"level\":\"%s\",\"pid\":%d,\"msg\":\"",
                 (int)(tv->tv_usec / 1000), log_names[level], (int)getpid());
    if (k > 0)
        n += (size_t)k;
    /* room for the closing fields: at most 40 bytes */
    n += log_json_escape(line + n, size - 48 - n, msg);
    if (suppressed)
        k = snprintf(line + n, size - n, "\",\"suppressed\":%llu}\n",
                     (unsigned long long)suppressed);
    else
        k = snprintf(line + n, size - n, "\"}\n");
    return n + (size_t)k;
}

static void log_vwrite(log_level level, uint64_t suppressed, const char *fmt, va_list ap)
{
    static const char *const upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char line[2048], msg[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int k;

    gettimeofday(&tv, NULL);
    if (log_get_format() == LOG_FORMAT_JSON) {
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = log_json_line(line, sizeof(line), &tv, level, suppressed, msg);
        fwrite(line, 1, n, stderr);
        return;
    }
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    k = snprintf(line + n, sizeof(line) - n, ".%03dZ earshot[%d] %s: ",
                 (int)(tv.tv_usec / 1000), (int)getpid(), upper[level]);
    if (k > 0)
        n += (size_t)k;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* Up to sizeof(line) - 2, where the clamp below would cut it anyway:
     * the newline always fits and no escape is cut in half. */
    n += log_escape(line + n, sizeof(line) - 2 - n, msg);
    if (suppressed && n < sizeof(line) - 1) {
        k = snprintf(line + n, sizeof(line) - n, " (%llu similar lines suppressed)",
                     (unsigned long long)suppressed);
        if (k > 0)
            n += (size_t)k < sizeof(line) - n ? (size_t)k : sizeof(line) - n - 1;
    }
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line: stderr is unbuffered, so this is one write(2) and
     * lines of different threads do not mix. */
    fwrite(line, 1, n, stderr);
}

void log_write(log_level level, const char *fmt, ...)
{
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    log_vwrite(level, 0, fmt, ap);
    va_end(ap);
}

void log_limit_init(log_limit *ll, uint32_t burst, uint32_t interval_ms)
{
    memset(ll, 0, sizeof(*ll));
    pthread_mutex_init(&ll->lock, NULL);
    ll->burst = burst ? burst : 1;
    ll->interval_ms = interval_ms ? interval_ms : 1000;
    ll->window_start_ms = INT64_MIN;
}

void log_limit_destroy(log_limit *ll)
{
    pthread_mutex_destroy(&ll->lock);
}

int log_limit_allow(log_limit *ll, int64_t now_ms, uint64_t *suppressed)
{
    int ok;

    pthread_mutex_lock(&ll->lock);
    if (ll->window_start_ms == INT64_MIN || now_ms - ll->window_start_ms >= ll->interval_ms) {
        ll->window_start_ms = now_ms;
        ll->shown = 0;
    }
    ok = ll->shown < ll->burst;
    if (ok) {
        ll->shown++;
        *suppressed = ll->suppressed;
        ll->suppressed = 0;
    } else {
        ll->suppressed++;
    }
    pthread_mutex_unlock(&ll->lock);
    return ok;
}

void log_limited(log_limit *ll, log_level level, const char *fmt, ...)
{
    uint64_t suppressed;
    va_list ap;

    if (!log_enabled(level) || !log_limit_allow(ll, log_now_ms(), &suppressed))
        return;
    va_start(ap, fmt);
    log_vwrite(level, suppressed, fmt, ap);
    va_end(ap);
}
