/*
 * watch_event: the fields of an enriched event the aggregator reads, parsed
 * with simdjson (DOM) instead of a jansson tree per event.
 *
 * Exactly jansson's answer, by construction. The fast path says
 * WATCH_EVENT_OK only for input it is sure jansson (json_loadb, flags 0)
 * reads the same way; for anything else (simdjson rejects it, or it holds
 * what the two parsers treat differently: a "\u0000" or a surrogate escape,
 * an integer beyond int64, a byte-order mark, a non-string label) it says
 * WATCH_EVENT_UNSURE and the caller asks jansson (watch_event_from_json),
 * the parser it used before. So malformed input is counted invalid exactly
 * as before, at jansson's price; well-formed events, nearly all of them,
 * cost the simdjson parse. Duplicate keys: the last one wins, as in jansson.
 *
 * Strings are NUL-terminated and valid until the next parse with the same
 * parser (or, from watch_event_from_json, while the json_t lives).
 *
 * Thread-safety: one parser per thread. Cost: a copy into the padded
 * buffer, simdjson's parse, one walk of the tape (every number checked);
 * no allocation after the first events (buffers grow to the largest seen).
 */
#ifndef EARSHOT_WATCH_EVENT_H
#define EARSHOT_WATCH_EVENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct watch_event_brand {
    const char *id;   /* never NULL: brands without a string id are left out */
    const char *name; /* NULL when not a string */
} watch_event_brand;

typedef struct watch_event {
    const char *id;         /* NULL: not an enriched event */
    const char *created_at; /* NULL when absent or not a string */
    const char *polarity;   /* NULL when absent or not a string */
    const char *respond_by, *text;
    const char *handle;     /* author.handle, NULL when not a string */
    int64_t followers;      /* author.followers when an integer, else 0 */
    int64_t priority;       /* when an integer, else 0 */
    int verified;           /* author.verified is true */
    int retweet;            /* is_retweet is true */
    const watch_event_brand *brands; /* those with a string id, in order */
    size_t n_brands;
    const char *const *labels; /* the string elements of "labels", in order */
    size_t n_labels;
    /* From watch_event_from_json only: the "labels" value itself (may hold
     * non-strings, which an influencer alert repeats); NULL otherwise. */
    void *labels_json;
} watch_event;

typedef enum watch_event_status {
    WATCH_EVENT_OK = 0,      /* *ev is what jansson would give */
    WATCH_EVENT_INVALID = 1, /* a JSON object without a string "id" */
    WATCH_EVENT_UNSURE = 2,  /* ask jansson: watch_event_from_json */
} watch_event_status;

typedef struct watch_event_parser watch_event_parser;

watch_event_parser *watch_event_parser_new(void);
void watch_event_parser_free(watch_event_parser *p);

watch_event_status watch_event_parse(watch_event_parser *p, const char *json, size_t len,
                                     watch_event *ev);

/* The reference reading, from a jansson tree (json_t *root, may be NULL):
 * WATCH_EVENT_OK or WATCH_EVENT_INVALID. Uses p's buffers for the arrays. */
watch_event_status watch_event_from_json(watch_event_parser *p, void *root, watch_event *ev);

#ifdef __cplusplus
}
#endif

#endif
