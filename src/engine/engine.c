/*
 * engine: parse -> normalise -> match -> enrich for one post. See engine.h.
 */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"
#include "text/text.h"

struct engine_worker {
    engine_config cfg;
    post_parser *parser;
    text_norm *norm;
    match_scratch *scratch;
    jbuf event;
    post post;
    match_result matches;
};

void engine_config_default(engine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->limits.max_bytes = POST_DEFAULT_MAX_BYTES;
    cfg->limits.max_depth = POST_DEFAULT_MAX_DEPTH;
    enrich_config_default(&cfg->enrich);
}

engine_worker *engine_worker_new(const engine_config *cfg)
{
    engine_worker *ew = calloc(1, sizeof(*ew));
    if (!ew)
        return NULL;
    if (cfg)
        ew->cfg = *cfg;
    else
        engine_config_default(&ew->cfg);
    jbuf_init(&ew->event);
    ew->parser = post_parser_new(&ew->cfg.limits);
    ew->norm = text_norm_new();
    ew->scratch = match_scratch_new();
    /* Events are ~1-2 kB; reserving up front keeps the first posts from
     * paying for several reallocations. */
    if (!ew->parser || !ew->norm || !ew->scratch || jbuf_reserve(&ew->event, 4096)) {
        engine_worker_free(ew);
        return NULL;
    }
    return ew;
}

void engine_worker_free(engine_worker *ew)
{
    if (!ew)
        return;
    post_parser_free(ew->parser);
    text_norm_free(ew->norm);
    match_scratch_free(ew->scratch);
    jbuf_free(&ew->event);
    free(ew);
}

static engine_status engine_fail(engine_output *out, engine_status status,
                                 const char *reason)
{
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    return status;
}

engine_status engine_classify(engine_worker *ew, const ruleset *rs,
                              const char *buf, size_t len, int64_t now,
                              engine_output *out)
{
    const char *norm;
    size_t norm_len;

    out->event = NULL;
    out->event_len = 0;
    out->brand_id = NULL;
    out->matches = &ew->matches;
    out->model_ids = NULL;
    out->n_model_ids = 0;
    out->post_id.ptr = NULL;
    out->post_id.len = 0;
    out->reason[0] = '\0';

    if (post_parse(ew->parser, buf, len, &ew->post, out->reason, sizeof(out->reason)))
        return ENGINE_REJECT;
    out->post_id = ew->post.id;

    /* The parser validated the UTF-8 of every string, so a failure here is
     * memory, not input. */
    if (text_normalize(ew->norm, ew->post.text.ptr, ew->post.text.len, &norm, &norm_len))
        return engine_fail(out, ENGINE_ERROR, "text normalisation failed (out of memory)");

    if (match_post(rs, ew->scratch, &ew->post, norm, norm_len, &ew->matches,
                   out->reason, sizeof(out->reason)))
        return ENGINE_ERROR;

    jbuf_reset(&ew->event);
    if (enrich_event(&ew->cfg.enrich, rs, &ew->post, &ew->matches, now,
                     &ew->event, &out->summary))
        return engine_fail(out, ENGINE_ERROR, "event serialisation failed (out of memory)");

    out->event = ew->event.data;
    out->event_len = ew->event.len;
    out->model_ids = match_model_ids(ew->scratch, &out->n_model_ids);
    if (out->summary.first_brand >= 0)
        out->brand_id = ruleset_brand(rs, (size_t)out->summary.first_brand)->id;
    return ENGINE_EVENT;
}
