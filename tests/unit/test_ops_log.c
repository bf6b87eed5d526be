/*
 * test_ops_log: what ops/log writes. A message quotes strings that others
 * control (a rule id from a rule file, a broker's error): a newline or any
 * other control character in them must come out escaped, so one log call is
 * always exactly one line and cannot forge another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/log.h"

/* Runs one log_write with stderr sent to a temporary file; returns what
 * was written (static buffer). */
static const char *captured(const char *id)
{
    static char out[8192];
    char path[] = "/tmp/earshot-log-XXXXXX";
    int fd = mkstemp(path), saved;
    ssize_t got;

    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    log_write(LOG_LEVEL_WARN, "reload: rule '%s' disabled", id);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    got = pread(fd, out, sizeof(out) - 1, 0);
    close(fd);
    assert_true(got > 0);
    out[got] = 0;
    return out;
}

/* The message part of a captured line (after "LEVEL: "). */
static const char *message(const char *line)
{
    const char *m = strstr(line, "WARN: ");
    assert_non_null(m);
    return m + strlen("WARN: ");
}

static void test_newline_cannot_forge_a_line(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_INFO);
    const char *out = captured("x\n2026-01-01T00:00:00.000Z earshot[1] ERROR: forged");
    /* One line: its only newline is the last byte. */
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    assert_string_equal(message(out), "reload: rule 'x\\n2026-01-01T00:00:00.000Z "
                                      "earshot[1] ERROR: forged' disabled\n");
}

static void test_control_bytes_escaped(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_INFO);
    /* CR (overwrites a terminal line), tab, ESC (terminal sequences), other
     * C0, DEL; UTF-8 and backslashes pass through as they are. */
    const char *out = captured("a\rb\tc\x1b[2Jd\x01\x7f" "caf\xc3\xa9 \\n");
    assert_string_equal(message(out), "reload: rule 'a\\rb\\tc\\x1b[2Jd\\x01\\x7f"
                                      "caf\xc3\xa9 \\n' disabled\n");
}

/* A message of control bytes that escapes past the line's size is cut, not
 * split: still one line, no half escape at the end. */
static void test_long_escaped_message_stays_one_line(void **state)
{
    char id[1500];
    (void)state;
    memset(id, '\n', sizeof(id) - 1);
    id[sizeof(id) - 1] = 0;
    const char *out = captured(id);
    size_t len = strlen(out);
    assert_ptr_equal(strchr(out, '\n'), out + len - 1);
    assert_true(len <= 2048);
    assert_true(len > 1500);
    /* Ends on a whole "\n" escape (an even run of escape pairs). */
    assert_memory_equal(out + len - 3, "\\n\n", 3);
}

/* log.format = json: one object per line, same facts, fields escaped. */
static void test_json_format(void **state)
{
    (void)state;
    log_format f;
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("text", &f), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse("JSON", &f), -1);
    assert_int_equal(log_format_parse("", &f), -1);

    log_set_level(LOG_LEVEL_INFO);
    log_set_format(LOG_FORMAT_JSON);
    /* a quote, a backslash, a newline, ESC, DEL, UTF-8, and a byte that is
     * not UTF-8 (a truncated 3-byte sequence, then an overlong '/') */
    const char *out = captured("q\"b\\n\nE\x1b\x7f" "caf\xc3\xa9 \xe2\x82 \xc0\xaf!");
    log_set_format(LOG_FORMAT_TEXT);
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    const char *tail = strstr(out, "\",\"level\":\"warn\",\"pid\":");
    assert_non_null(tail);
    assert_memory_equal(out, "{\"time\":\"", 9);
    /* time: YYYY-MM-DDTHH:MM:SS.mmmZ */
    assert_int_equal(tail - (out + 9), 24);
    assert_int_equal(out[9 + 23], 'Z');
    char pid[32];
    snprintf(pid, sizeof pid, "\"pid\":%d,", (int)getpid());
    assert_non_null(strstr(out, pid));
    const char *msg = strstr(out, "\"msg\":");
    assert_non_null(msg);
    assert_string_equal(msg, "\"msg\":\"reload: rule 'q\\\"b\\\\n\\nE\\u001b\\u007f"
                             "caf\xc3\xa9 \\ufffd\\ufffd \\ufffd\\ufffd!' disabled\"}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newline_cannot_forge_a_line),
        cmocka_unit_test(test_control_bytes_escaped),
        cmocka_unit_test(test_long_escaped_message_stays_one_line),
        cmocka_unit_test(test_json_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
