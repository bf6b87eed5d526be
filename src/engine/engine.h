/*
 * engine: the classification pipeline for one post, bytes in, event out:
 *   post_parse -> text_normalize -> match_post -> enrich_event
 *
 * This is what `earshot classify`, the Kafka workers and the benchmarks call.
 * It owns nothing shared: an engine_worker holds one thread's parser,
 * normaliser, scratch and output buffer; the ruleset is passed per call so a
 * hot reload can swap it between two posts.
 *
 * Contract: engine_classify() never crashes on any input. It returns
 * ENGINE_EVENT with out->event (valid until the next call on the worker), or
 * ENGINE_REJECT with out->reason (a short, stable sentence: "not JSON: ...",
 * "no text", "invalid UTF-8", ...), or ENGINE_ERROR for failures that are not
 * the input's fault (out of memory, scan error), also with a reason.
 *
 * Thread-safety: one engine_worker per thread; rulesets are shared read-only.
 * Cost: the sum of its stages, ~2 us per 750-byte post on one core.
 */
#ifndef EARSHOT_ENGINE_H
#define EARSHOT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "enrich/enrich.h"
#include "post/post.h"
#include "rules/rules.h"

typedef struct engine_config {
    post_limits limits;
    enrich_config enrich;
} engine_config;

void engine_config_default(engine_config *cfg);

typedef enum engine_status {
    ENGINE_EVENT = 0,
    ENGINE_REJECT = 1,
    ENGINE_ERROR = 2,
} engine_status;

typedef struct engine_output {
    const char *event;      /* JSON, not NUL-terminated */
    size_t event_len;
    enrich_summary summary;
    strview post_id;        /* for keys and de-duplication */
    const char *brand_id;   /* first brand's id, NULL if none */
    const match_result *matches; /* ENGINE_EVENT: the rules and brands that
                                  * matched (for per-rule metrics); valid
                                  * until the worker's next call */
    const uint32_t *model_ids; /* ENGINE_EVENT with a model: the model */
    size_t n_model_ids;        /* features found (for explanations) */
    char reason[160];       /* set on ENGINE_REJECT / ENGINE_ERROR */
} engine_output;

typedef struct engine_worker engine_worker;

engine_worker *engine_worker_new(const engine_config *cfg);
void engine_worker_free(engine_worker *ew);

engine_status engine_classify(engine_worker *ew, const ruleset *rs,
                              const char *buf, size_t len, int64_t now,
                              engine_output *out);

#endif
