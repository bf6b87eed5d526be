/*
 * test_pipeline_output: the reject record keeps the original bytes
 * recoverable: as JSON text when they are valid UTF-8, as base64 when not,
 * cut on a character boundary past OUTPUT_REJECT_PAYLOAD_MAX. (The base64
 * writer moves to src/base later; this pins its output.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/output.h"

static char *reject(const char *payload, size_t len)
{
    rd_kafka_message_t msg;
    jbuf b;
    char *out;

    memset(&msg, 0, sizeof(msg));
    msg.payload = (void *)payload;
    msg.len = len;
    msg.partition = 2;
    msg.offset = 41;
    jbuf_init(&b);
    assert_int_equal(output_reject_json(&b, "not JSON: x", &msg, "posts"), 0);
    out = strndup(b.data, b.len);
    jbuf_free(&b);
    return out;
}

static void test_text_payload(void **state)
{
    char *s = reject("{\"a\":\"\xc3\xa9\"", 9);
    (void)state;
    assert_string_equal(s, "{\"reason\":\"not JSON: x\",\"topic\":\"posts\",\"partition\":2,"
                           "\"offset\":41,\"payload_bytes\":9,"
                           "\"payload\":\"{\\\"a\\\":\\\"\xc3\xa9\\\"\"}");
    free(s);
}

static void test_binary_payload_base64(void **state)
{
    char *s;
    (void)state;
    s = reject("\xff\x00\x01", 3);
    assert_non_null(strstr(s, ",\"payload_bytes\":3,\"payload_base64\":\"/wAB\"}"));
    free(s);
    s = reject("\xff\xfe", 2);
    assert_non_null(strstr(s, "\"payload_base64\":\"//4=\"}"));
    free(s);
    s = reject("\xff", 1);
    assert_non_null(strstr(s, "\"payload_base64\":\"/w==\"}"));
    free(s);
}

/* A 3-byte character straddling the cut: the cut moves before it. */
static void test_truncated_on_character(void **state)
{
    size_t len = OUTPUT_REJECT_PAYLOAD_MAX + 10;
    char *big = malloc(len), *s, *p;
    (void)state;

    memset(big, 'a', len);
    memcpy(big + OUTPUT_REJECT_PAYLOAD_MAX - 1, "\xe2\x82\xac", 3); /* the euro sign */
    s = reject(big, len);
    assert_non_null(strstr(s, "\"payload_truncated\":true}"));
    p = strstr(s, "\"payload\":\"");
    assert_non_null(p);
    p += strlen("\"payload\":\"");
    assert_int_equal(strchr(p, '"') - p, OUTPUT_REJECT_PAYLOAD_MAX - 1);
    free(s);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_payload),
        cmocka_unit_test(test_binary_payload_base64),
        cmocka_unit_test(test_truncated_on_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
