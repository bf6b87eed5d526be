/*
 * The reject reasons the engine writes, as the pipeline counts them
 * (pipeline.c: metrics_rejected(metrics_reject_classify(out.reason))): each
 * real rejection lands on its own earshot_rejected_total{reason} label, not
 * on "other". The reasons are produced by engine_classify() on real inputs,
 * so a reworded reason that no longer matches its prefix fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "ops/metrics.h"
#include "rules/rules.h"

static ruleset *rules;
static engine_worker *worker;

static int setup(void **state)
{
    char err[1024];
    engine_config cfg;

    (void)state;
    rules = ruleset_load(EARSHOT_SOURCE_DIR "/rules", err, sizeof(err));
    if (!rules) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    engine_config_default(&cfg);
    cfg.limits.max_bytes = 256;
    cfg.limits.max_depth = 8;
    worker = engine_worker_new(&cfg);
    return worker ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    engine_worker_free(worker);
    ruleset_unref(rules);
    return 0;
}

/* The label earshot_rejected_total would count this input under. */
static const char *label_of(const char *input)
{
    engine_output out;
    engine_status st = engine_classify(worker, rules, input, strlen(input), 1763884800, &out);

    assert_int_equal(st, ENGINE_REJECT);
    return metrics_reject_name(metrics_reject_classify(out.reason));
}

static void test_bad_id_has_its_own_label(void **state)
{
    (void)state;
    assert_string_equal(label_of("{\"id\":null,\"text\":\"Comcast is down\"}"), "bad_id");
    assert_string_equal(label_of("{\"id\":12.5,\"text\":\"Comcast is down\"}"), "bad_id");
    assert_string_equal(label_of("{\"id\":{\"a\":1},\"text\":\"Comcast is down\"}"), "bad_id");
    assert_string_equal(label_of("{\"id\":[1],\"text\":\"Comcast is down\"}"), "bad_id");
}

static void test_other_reasons_keep_their_labels(void **state)
{
    char big[400];

    (void)state;
    assert_string_equal(label_of("{\"id\":\"a\",\"text\":"), "not_json");
    assert_string_equal(label_of("[1,2]"), "not_object");
    assert_string_equal(label_of("{\"id\":\"a\"}"), "no_text");
    assert_string_equal(label_of("{\"id\":\"a\",\"text\":\"x\xff\"}"), "invalid_utf8");
    assert_string_equal(label_of("{\"id\":\"a\",\"text\":\"x\",\"d\":[[[[[[[[[[[[1]]]]]]]]]]]]}"),
                        "too_deep");
    snprintf(big, sizeof(big), "{\"id\":\"a\",\"text\":\"%0300d\"}", 0);
    assert_string_equal(label_of(big), "too_large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_id_has_its_own_label),
        cmocka_unit_test(test_other_reasons_keep_their_labels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
