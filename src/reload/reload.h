/*
 * reload: owns the ruleset that classifies, and replaces it while earshot
 * runs ("hot reload").
 *
 * A background thread reloads the rules directory when asked (SIGHUP:
 * `earshot run`'s signal handler calls reload_request() itself, which is
 * async-signal-safe) and,
 * optionally, when a *.json file in it changes (inotify, debounced so that an
 * editor's write-temp-then-rename or a burst of saves is one reload). It
 * loads the new set with the compiled-rule cache, refuses it if it does not
 * load (the error names FILE:LINE:COL), and otherwise publishes it: workers
 * move to it between two posts. A refused set changes nothing: the old one
 * keeps serving and the failure is counted and reported.
 *
 * Generations: each published ruleset is a generation with a reference count
 * and optional per-generation data (attach(): e.g. the metrics_rules of its
 * rule ids). A generation is freed (detach(), then ruleset_unref()) when the
 * holder has moved on and the last worker has let go of it, so a worker
 * never sees a ruleset freed or half built under it.
 *
 * Workers: keep a reload_view each and call reload_view_update() before each
 * post (or batch). That costs one atomic load of a generation counter that
 * only a swap writes (the cache line stays shared: ~1 ns); only after a swap
 * does it take the holder's mutex once to move to the new generation. A view
 * holds its generation until the next update or reload_view_release(), so an
 * idle worker keeps the old set alive until it next updates.
 *
 * Thread-safety: everything may be called from any thread, except that one
 * reload_view belongs to one thread. reload_request() is also
 * async-signal-safe (it writes to an eventfd). attach/detach/on_event run on
 * the reload thread, except detach, which runs on whichever thread drops a
 * generation's last reference (a worker, after a swap).
 * Cost: nothing per post beyond the update; a reload costs what
 * ruleset_load_opts() costs, on its own thread.
 */
#ifndef EARSHOT_RELOAD_H
#define EARSHOT_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

typedef struct reload reload;
typedef struct reload_gen reload_gen;

typedef enum reload_outcome {
    RELOAD_SWAPPED = 0,   /* the new rules serve from now on */
    RELOAD_UNCHANGED = 1, /* the files have the serving version: nothing done */
    RELOAD_FAILED = 2,    /* refused; the serving rules are unchanged */
} reload_outcome;

/* What one reload attempt did, for the log and the metrics. Pointers are
 * valid during the on_event call only. */
typedef struct reload_event {
    reload_outcome outcome;
    const char *trigger;     /* "request" or "watch" */
    const char *version;     /* the version serving after the attempt */
    const char *old_version; /* the version serving before it */
    const char *error;       /* RELOAD_FAILED: "FILE:LINE:COL: ..."; else "" */
    const char *cache_warning; /* "" or the rules cache's warning */
    double load_s;           /* ruleset_load_opts wall time (0 if unchanged) */
    bool from_cache;         /* the database came from the compiled cache */
    const ruleset *rules;    /* the ruleset serving after the attempt */
} reload_event;

typedef struct reload_config {
    const char *rules_dir;     /* required; copied */
    const char *cache_dir;     /* compiled-rule cache; NULL: none; copied */
    uint64_t cache_max_bytes;  /* 0: RULES_CACHE_MAX_DEFAULT */
    bool watch;                /* inotify on rules_dir */
    unsigned debounce_ms;      /* quiet time after a change; 0: 300 */
    /* Per-generation data, made before a ruleset is published. Return it
     * (NULL is a valid value when *err is left empty), or fill err to
     * refuse the ruleset (counted as a failure). NULL: no data. */
    void *(*attach)(void *opaque, const ruleset *rs, char *err,
                    size_t err_size);
    /* Frees what attach made, when the generation's last user let go. */
    void (*detach)(void *opaque, void *data);
    /* After every attempt. NULL: one line on stderr per attempt. */
    void (*on_event)(void *opaque, const reload_event *ev);
    void *opaque;
} reload_config;

typedef struct reload_stats {
    uint64_t attempts;  /* finished attempts of any outcome */
    uint64_t swapped;   /* RELOAD_SWAPPED: reload successes */
    uint64_t unchanged; /* RELOAD_UNCHANGED */
    uint64_t failed;    /* RELOAD_FAILED: reload failures */
    uint64_t generation; /* 1 for the first ruleset, +1 per swap */
    bool watching;      /* the inotify watch is in place */
} reload_stats;

/* Serve initial (the holder takes its own reference), or when initial is NULL
 * load cfg->rules_dir now (NULL + err if it does not load); then start the
 * reload thread and the watch. attach is called for the first generation
 * too. NULL + err on failure (a watch that cannot be set up is an error:
 * inotify limits, a missing directory). */
reload *reload_new(const reload_config *cfg, ruleset *initial, char *err,
                   size_t err_size);
/* Stops and joins the thread and drops the holder's reference. Views still
 * holding a generation keep it alive until they release it. */
void reload_free(reload *rl);

/* Ask for a reload. Returns at once; the thread loads. Async-signal-safe. */
void reload_request(reload *rl);

/* A worker's view of the serving generation. Zero-initialise it
 * (RELOAD_VIEW_INIT), update it per post, release it when the worker ends. */
typedef struct reload_view {
    const ruleset *rules; /* the ruleset to classify with */
    void *data;           /* attach()'s result for it */
    uint64_t generation;
    reload_gen *gen;      /* private */
} reload_view;
#define RELOAD_VIEW_INIT {NULL, NULL, 0, NULL}

/* Moves v to the serving generation if a swap happened since the last call;
 * returns v->rules (never NULL). */
const ruleset *reload_view_update(reload *rl, reload_view *v);
void reload_view_release(reload_view *v);

/* The serving ruleset with a reference for the caller (ruleset_unref() it).
 * Takes the holder's mutex: per batch or per request, not per post. */
ruleset *reload_current(reload *rl);

reload_stats reload_get_stats(reload *rl);
/* The last failure's message, "" if none yet. */
void reload_last_error(reload *rl, char *buf, size_t size);
/* Block until more than `seen` attempts have finished or timeout_ms passed.
 * Returns the attempts count then. For tests and for `earshot` tooling that
 * must wait for one reload. */
uint64_t reload_wait(reload *rl, uint64_t seen, int timeout_ms);

#endif
