/*
 * libFuzzer target for the whole per-post path, engine_classify(): parse,
 * normalise, Hyperscan scan, rule evaluation, enrichment and JSON output,
 * with the default rules (EARSHOT_SOURCE_DIR/rules). Any bytes must give an
 * event or a rejection, never a crash or undefined behaviour; an event must
 * be a JSON object that jansson reads back with the post's id, a polarity
 * from the closed set and a priority in 0..100; a rejection must have a
 * reason. Build: cmake with -DEARSHOT_FUZZ=ON and clang (tests/fuzz/README.md).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/engine.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ruleset *fuzz_rules;
static engine_worker *fuzz_worker;

static void fuzz_setup(void)
{
    char err[1024];
    engine_config cfg;

    if (fuzz_worker)
        return;
    fuzz_rules = ruleset_load(EARSHOT_SOURCE_DIR "/rules", err, sizeof(err));
    if (!fuzz_rules) {
        fprintf(stderr, "fuzz_engine: %s\n", err);
        abort();
    }
    engine_config_default(&cfg);
    cfg.limits.max_bytes = 4096; /* reach the size rejection too */
    cfg.limits.max_depth = 16;
    if (!(fuzz_worker = engine_worker_new(&cfg)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    engine_output out;
    engine_status st;

    fuzz_setup();
    st = engine_classify(fuzz_worker, fuzz_rules, (const char *)data, size, 1763884800, &out);
    if (st != ENGINE_EVENT) {
        if (st != ENGINE_REJECT || !out.reason[0])
            abort();
        return 0;
    }
    json_error_t jerr;
    /* \u0000 is valid JSON; jansson needs to be told to accept it */
    json_t *ev = json_loadb(out.event, out.event_len, JSON_ALLOW_NUL, &jerr);
    if (!ev || !json_is_object(ev))
        abort();
    json_t *idv = json_object_get(ev, "id");
    const char *id = json_string_value(idv);
    const char *pol = json_string_value(json_object_get(ev, "polarity"));
    json_int_t prio = json_integer_value(json_object_get(ev, "priority"));
    /* by length, not strlen: an id may hold "\u0000" */
    if (!id || json_string_length(idv) != out.post_id.len ||
        (out.post_id.len && memcmp(id, out.post_id.ptr, out.post_id.len)))
        abort();
    if (!pol || (strcmp(pol, "complaint") && strcmp(pol, "praise") && strcmp(pol, "question") &&
                 strcmp(pol, "neutral")))
        abort();
    if (prio < 0 || prio > 100 || !json_is_array(json_object_get(ev, "brands")))
        abort();
    json_decref(ev);
    return 0;
}
