/*
 * log: leveled log lines on stderr, and rate limiters so that an error
 * repeated thousands of times a second under load prints a few lines and a
 * count, not a flood.
 *
 * Line format (log.format = text, the default):
 *   "2026-11-23T08:01:02.345Z earshot[PID] LEVEL: message".
 * log.format = json, one object per line, the same facts:
 *   {"time":"2026-11-23T08:01:02.345Z","level":"warn","pid":PID,
 *    "msg":"message"[,"suppressed":N]}
 * with the message JSON-escaped (bytes that are not UTF-8 become U+FFFD).
 * Control characters in the message are escaped (\n, \r, \t, \xHH), so a
 * rule id or a broker's error with a newline cannot forge a second line:
 * one call is always one line.
 *
 * The level is the one process-wide setting: main sets it once from the
 * config before any thread starts (log_set_level); everything else reads it.
 * A log_limit is owned by whoever logs a class of repeated event (one per
 * error class in the pipeline, say).
 *
 * Thread-safety: log_write and log_limited may be called from any thread;
 * a line is written with one fwrite on an unbuffered stderr, so lines from
 * different threads do not interleave. Cost: a formatted write per line
 * shown; a suppressed line costs one mutex round trip.
 */
#ifndef EARSHOT_OPS_LOG_H
#define EARSHOT_OPS_LOG_H

#include <pthread.h>
#include <stdint.h>

typedef enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
} log_level;

/* "error", "warn", "info", "debug" -> 0 and *out; anything else -> -1. */
int log_level_parse(const char *name, log_level *out);
const char *log_level_name(log_level level);

typedef enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON = 1,
} log_format;

/* "text", "json" -> 0 and *out; anything else -> -1. */
int log_format_parse(const char *name, log_format *out);
/* Like the level: set once by main before threads start. */
void log_set_format(log_format format);
log_format log_get_format(void);

void log_set_level(log_level level);
log_level log_get_level(void);
/* Would a line at this level be written? For skipping costly formatting. */
int log_enabled(log_level level);

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LOG_PRINTF(a, b)
#endif

void log_write(log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* At most `burst` lines per `interval_ms`; the first line shown after a
 * suppressed stretch says how many were suppressed. */
typedef struct log_limit {
    pthread_mutex_t lock;
    int64_t window_start_ms;
    uint32_t burst;
    uint32_t interval_ms;
    uint32_t shown;       /* lines shown in the current window */
    uint64_t suppressed;  /* since the last line shown */
} log_limit;

void log_limit_init(log_limit *ll, uint32_t burst, uint32_t interval_ms);
void log_limit_destroy(log_limit *ll);

/* Decides whether a line may be shown now (now_ms: any monotonic clock in
 * ms). Returns 1 and sets *suppressed to the count of lines dropped since
 * the last one shown, or 0 when this one is dropped. Exposed for tests. */
int log_limit_allow(log_limit *ll, int64_t now_ms, uint64_t *suppressed);

/* log_write through a limiter. */
void log_limited(log_limit *ll, log_level level, const char *fmt, ...) LOG_PRINTF(3, 4);

/* Milliseconds on the monotonic clock. */
int64_t log_now_ms(void);

#endif
