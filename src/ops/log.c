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

static void log_vwrite(log_level level, uint64_t suppressed, const char *fmt, va_list ap)
{
    static const char *const upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char line[2048], msg[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int k;

    gettimeofday(&tv, NULL);
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
