/*
 * reload: the holder of the serving ruleset, its generations and the thread
 * that reloads them (the contract is in reload.h).
 *
 * Publishing: the reload thread is the only writer of rl->current. It swaps
 * under rl->lock and then stores the new generation number in
 * rl->generation, which views read without the lock; a view that sees a new
 * number takes the lock once to reference the new generation. A plain
 * atomic pointer + refcount would not do: a reader could load the pointer,
 * be preempted while the swap drops the last reference, and then increment
 * the count of freed memory. The mutex closes that window, and it is taken
 * once per swap per worker, not per post.
 *
 * Thread loop: poll() on an eventfd (requests, stop) and the inotify fd.
 * A change to a *.json file (or to "..data", the symlink Kubernetes swaps
 * when a ConfigMap changes) arms a deadline debounce_ms ahead, pushed back by
 * every further change; the reload runs when it passes. Editors' swap and
 * backup files (".x.json.swp", "x.json~", "4913") are ignored, so typing in
 * an editor does not reload 100k rules every few seconds. If the directory
 * itself goes away or is replaced, the watch is re-added every second until
 * it is back, then a reload runs.
 *
 * Before loading, the files' version (rules_dir_version: read and hash, no
 * parse) is compared with the serving one: a touch, or an editor that saves
 * unchanged text, costs a read of the files, not a parse.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "reload/reload.h"

#define RELOAD_DEBOUNCE_MS_DEFAULT 300
#define RELOAD_REWATCH_MS 1000
#define RELOAD_WATCH_MASK                                                     \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |   \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct reload_gen {
    atomic_uint refs;
    ruleset *rs;
    void *data;
    uint64_t number;
    /* Copied from the config so that a generation outliving the holder (a
     * view not yet released at reload_free) can still be detached. */
    void (*detach)(void *opaque, void *data);
    void *opaque;
};

struct reload {
    char *rules_dir;
    char *cache_dir;
    uint64_t cache_max_bytes;
    bool watch;
    unsigned debounce_ms;
    void *(*attach)(void *opaque, const ruleset *rs, char *err, size_t err_size);
    void (*detach)(void *opaque, void *data);
    void (*on_event)(void *opaque, const reload_event *ev);
    void *opaque;

    pthread_mutex_t lock;  /* current, stats, last_error */
    pthread_cond_t done;   /* stats.attempts moved */
    reload_gen *current;   /* written by the reload thread only, under lock */
    atomic_uint_fast64_t generation; /* == current->number */
    reload_stats stats;
    char last_error[1024];

    int efd;               /* eventfd: requests and stop */
    int ifd;               /* inotify, -1 without watch */
    int wd;                /* the watch, -1 while lost */
    atomic_bool stop;
    bool started;
    pthread_t thread;
};

static int64_t reload_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reload_gen_unref(reload_gen *g)
{
    if (!g)
        return;
    if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (g->detach)
        g->detach(g->opaque, g->data);
    ruleset_unref(g->rs);
    free(g);
}

/* A generation for rs (takes over the caller's reference), with attach()'s
 * data. NULL + err when attach refuses it or memory runs out; rs is then
 * still the caller's. */
static reload_gen *reload_gen_new(reload *rl, ruleset *rs, uint64_t number,
                                  char *err, size_t err_size)
{
    reload_gen *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (rl->attach) {
        err[0] = 0;
        g->data = rl->attach(rl->opaque, rs, err, err_size);
        if (err[0]) {
            free(g);
            return NULL;
        }
    }
    atomic_init(&g->refs, 1);
    g->rs = rs;
    g->number = number;
    g->detach = rl->detach;
    g->opaque = rl->opaque;
    return g;
}

const ruleset *reload_view_update(reload *rl, reload_view *v)
{
    uint64_t now = atomic_load_explicit(&rl->generation, memory_order_acquire);
    reload_gen *cur, *old;

    if (v->gen && now == v->generation)
        return v->rules;
    pthread_mutex_lock(&rl->lock);
    cur = rl->current;
    atomic_fetch_add_explicit(&cur->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&rl->lock);
    old = v->gen;
    v->gen = cur;
    v->rules = cur->rs;
    v->data = cur->data;
    v->generation = cur->number;
    reload_gen_unref(old);
    return v->rules;
}

void reload_view_release(reload_view *v)
{
    reload_gen_unref(v->gen);
    *v = (reload_view)RELOAD_VIEW_INIT;
}

ruleset *reload_current(reload *rl)
{
    ruleset *rs;
    pthread_mutex_lock(&rl->lock);
    rs = ruleset_ref(rl->current->rs);
    pthread_mutex_unlock(&rl->lock);
    return rs;
}

reload_stats reload_get_stats(reload *rl)
{
    reload_stats st;
    pthread_mutex_lock(&rl->lock);
    st = rl->stats;
    pthread_mutex_unlock(&rl->lock);
    return st;
}

void reload_last_error(reload *rl, char *buf, size_t size)
{
    if (!size)
        return;
    pthread_mutex_lock(&rl->lock);
    snprintf(buf, size, "%s", rl->last_error);
    pthread_mutex_unlock(&rl->lock);
}

uint64_t reload_wait(reload *rl, uint64_t seen, int timeout_ms)
{
    struct timespec until;
    uint64_t n;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&rl->lock);
    while (rl->stats.attempts <= seen &&
           pthread_cond_timedwait(&rl->done, &rl->lock, &until) == 0)
        ;
    n = rl->stats.attempts;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

void reload_request(reload *rl)
{
    int saved = errno; /* async-signal-safe: a handler must not change errno */
    uint64_t one = 1;
    ssize_t rc = write(rl->efd, &one, sizeof(one));
    (void)rc; /* EAGAIN: the counter is full, a request is pending anyway */
    errno = saved;
}

static void reload_log_stderr(const reload_event *ev)
{
    switch (ev->outcome) {
    case RELOAD_SWAPPED:
        fprintf(stderr, "earshot: rules reloaded (%s): %s -> %s, %zu rules, "
                "%.3f s%s\n", ev->trigger, ev->old_version, ev->version,
                ruleset_rule_count(ev->rules), ev->load_s,
                ev->from_cache ? " (compiled database from the cache)" : "");
        break;
    case RELOAD_UNCHANGED:
        fprintf(stderr, "earshot: rules unchanged (%s): still %s\n",
                ev->trigger, ev->version);
        break;
    case RELOAD_FAILED:
        fprintf(stderr, "earshot: rules reload refused (%s), still serving "
                "%s: %s\n", ev->trigger, ev->version, ev->error);
        break;
    }
    if (ev->cache_warning[0])
        fprintf(stderr, "earshot: %s\n", ev->cache_warning);
}

/* One attempt, on the reload thread (the only writer of rl->current, so it
 * reads rl->current without the lock). */
static void reload_attempt(reload *rl, const char *trigger)
{
    reload_gen *cur = rl->current, *next = NULL;
    char err[1024], warn[1024], ver[32];
    reload_event ev;
    ruleset *rs = NULL;
    bool hit = false;
    rules_load_opts o = {.cache_dir = rl->cache_dir,
                         .cache_max_bytes = rl->cache_max_bytes,
                         .cache_hit = &hit,
                         .warn = warn,
                         .warn_size = sizeof(warn)};

    err[0] = warn[0] = 0;
    memset(&ev, 0, sizeof(ev));
    ev.trigger = trigger;
    ev.old_version = ruleset_version(cur->rs);
    ev.outcome = RELOAD_FAILED;
    if (rules_dir_version(rl->rules_dir, ver, sizeof(ver), err, sizeof(err)) != 0)
        goto report;
    if (strcmp(ver, ev.old_version) == 0) {
        ev.outcome = RELOAD_UNCHANGED;
        goto report;
    }
    rs = ruleset_load_opts(rl->rules_dir, &o, err, sizeof(err));
    if (!rs)
        goto report;
    ev.load_s = ruleset_stats(rs).load_s;
    ev.from_cache = hit;
    if (strcmp(ruleset_version(rs), ev.old_version) == 0) {
        /* Edited back between the version check and the load. */
        ev.outcome = RELOAD_UNCHANGED;
        ruleset_unref(rs);
        goto report;
    }
    next = reload_gen_new(rl, rs, cur->number + 1, err, sizeof(err));
    if (!next) {
        ruleset_unref(rs);
        goto report;
    }
    pthread_mutex_lock(&rl->lock);
    rl->current = next;
    atomic_store_explicit(&rl->generation, next->number, memory_order_release);
    pthread_mutex_unlock(&rl->lock);
    ev.outcome = RELOAD_SWAPPED;

report:
    ev.rules = (next ? next : cur)->rs;
    ev.version = ruleset_version(ev.rules);
    ev.error = ev.outcome == RELOAD_FAILED ? err : "";
    ev.cache_warning = warn;
    /* The callback runs before the counters move, so reload_wait() returning
     * means it has finished too. The old generation is still referenced
     * here, so ev.old_version stays valid. */
    if (rl->on_event)
        rl->on_event(rl->opaque, &ev);
    else
        reload_log_stderr(&ev);

    pthread_mutex_lock(&rl->lock);
    rl->stats.attempts++;
    if (ev.outcome == RELOAD_SWAPPED) {
        rl->stats.swapped++;
        rl->stats.generation = next->number;
    } else if (ev.outcome == RELOAD_UNCHANGED) {
        rl->stats.unchanged++;
    } else {
        rl->stats.failed++;
        snprintf(rl->last_error, sizeof(rl->last_error), "%s", err);
    }
    pthread_cond_broadcast(&rl->done);
    pthread_mutex_unlock(&rl->lock);
    if (ev.outcome == RELOAD_SWAPPED)
        reload_gen_unref(cur); /* workers still on it keep it alive */
}

static bool reload_name_relevant(const char *name)
{
    size_t n = strlen(name);
    if (strcmp(name, "..data") == 0)
        return true;
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static int reload_watch_add(reload *rl)
{
    rl->wd = inotify_add_watch(rl->ifd, rl->rules_dir, RELOAD_WATCH_MASK);
    return rl->wd < 0 ? -1 : 0;
}

static void reload_set_watching(reload *rl, bool on)
{
    pthread_mutex_lock(&rl->lock);
    rl->stats.watching = on;
    pthread_mutex_unlock(&rl->lock);
}

/* Drains the inotify fd. Returns true when a relevant change was seen. */
static bool reload_drain_inotify(reload *rl, bool *lost)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;

    for (;;) {
        ssize_t n = read(rl->ifd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ie = (const struct inotify_event *)p;
            p += sizeof(*ie) + ie->len;
            if (ie->mask & IN_Q_OVERFLOW) {
                changed = true; /* events were dropped: look anyway */
                continue;
            }
            if (ie->wd != rl->wd)
                continue; /* a watch already given up */
            if (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                *lost = true;
                continue;
            }
            if (ie->len && reload_name_relevant(ie->name))
                changed = true;
        }
    }
    return changed;
}

static void *reload_main(void *arg)
{
    reload *rl = arg;
    struct pollfd fds[2];
    int64_t deadline = -1, rewatch_at = -1;
    nfds_t nfds = rl->ifd >= 0 ? 2 : 1;

    fds[0] = (struct pollfd){rl->efd, POLLIN, 0};
    fds[1] = (struct pollfd){rl->ifd, POLLIN, 0};
    while (!atomic_load(&rl->stop)) {
        int timeout = -1;
        int64_t now = reload_now_ms();
        bool requested = false, lost = false;

        if (deadline >= 0)
            timeout = (int)(deadline > now ? deadline - now : 0);
        if (rewatch_at >= 0) {
            int t = (int)(rewatch_at > now ? rewatch_at - now : 0);
            if (timeout < 0 || t < timeout)
                timeout = t;
        }
        if (poll(fds, nfds, timeout) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            if (read(rl->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
                requested = true;
        }
        if (atomic_load(&rl->stop))
            break;
        now = reload_now_ms();
        if (nfds == 2 && (fds[1].revents & POLLIN) &&
            reload_drain_inotify(rl, &lost))
            deadline = now + rl->debounce_ms;
        if (lost && rl->wd >= 0) {
            inotify_rm_watch(rl->ifd, rl->wd); /* EINVAL if already gone */
            rl->wd = -1;
            reload_set_watching(rl, false);
            rewatch_at = now;
        }
        if (rewatch_at >= 0 && now >= rewatch_at) {
            if (reload_watch_add(rl) == 0) {
                reload_set_watching(rl, true);
                rewatch_at = -1;
                deadline = now; /* whatever replaced it may differ */
            } else {
                rewatch_at = now + RELOAD_REWATCH_MS;
            }
        }
        if (requested) {
            reload_attempt(rl, "request");
            deadline = -1; /* that load saw the changes too */
        } else if (deadline >= 0 && now >= deadline) {
            deadline = -1;
            reload_attempt(rl, "watch");
        }
    }
    return NULL;
}

reload *reload_new(const reload_config *cfg, ruleset *initial, char *err,
                   size_t err_size)
{
    reload *rl = NULL;
    ruleset *rs = NULL;
    char gerr[1024];
    sigset_t all, old;

    if (!cfg || !cfg->rules_dir) {
        snprintf(err, err_size, "reload: no rules directory given");
        return NULL;
    }
    rl = calloc(1, sizeof(*rl));
    if (!rl)
        goto oom;
    rl->efd = rl->ifd = rl->wd = -1;
    pthread_mutex_init(&rl->lock, NULL);
    pthread_cond_init(&rl->done, NULL);
    rl->rules_dir = strdup(cfg->rules_dir);
    rl->cache_dir = cfg->cache_dir ? strdup(cfg->cache_dir) : NULL;
    if (!rl->rules_dir || (cfg->cache_dir && !rl->cache_dir))
        goto oom;
    rl->cache_max_bytes = cfg->cache_max_bytes;
    rl->watch = cfg->watch;
    rl->debounce_ms = cfg->debounce_ms ? cfg->debounce_ms
                                       : RELOAD_DEBOUNCE_MS_DEFAULT;
    rl->attach = cfg->attach;
    rl->detach = cfg->detach;
    rl->on_event = cfg->on_event;
    rl->opaque = cfg->opaque;

    if (initial) {
        rs = ruleset_ref(initial);
    } else {
        rules_load_opts o = {.cache_dir = rl->cache_dir,
                             .cache_max_bytes = rl->cache_max_bytes};
        if (!(rs = ruleset_load_opts(rl->rules_dir, &o, err, err_size)))
            goto err;
    }
    if (!(rl->current = reload_gen_new(rl, rs, 1, gerr, sizeof(gerr)))) {
        snprintf(err, err_size, "rules %s refused: %s", ruleset_version(rs),
                 gerr);
        ruleset_unref(rs);
        goto err;
    }
    atomic_init(&rl->generation, 1);
    rl->stats.generation = 1;

    rl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rl->efd < 0) {
        snprintf(err, err_size, "reload: eventfd: %s", strerror(errno));
        goto err;
    }
    if (rl->watch) {
        rl->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (rl->ifd < 0 || reload_watch_add(rl) != 0) {
            snprintf(err, err_size, "cannot watch rules directory %s: %s%s",
                     rl->rules_dir, strerror(errno),
                     errno == ENOSPC || errno == EMFILE
                         ? "; raise fs.inotify.max_user_watches / "
                           "max_user_instances, or run without the watch "
                           "(SIGHUP still reloads)"
                         : "");
            goto err;
        }
        rl->stats.watching = true;
    }
    /* The thread takes no signals: SIGHUP and SIGTERM stay with the threads
     * that handle them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&rl->thread, NULL, reload_main, rl);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        snprintf(err, err_size, "reload: cannot start its thread: %s",
                 strerror(prc));
        goto err;
    }
    rl->started = true;
    return rl;
oom:
    snprintf(err, err_size, "reload: out of memory");
err:
    reload_free(rl);
    return NULL;
}

void reload_free(reload *rl)
{
    if (!rl)
        return;
    if (rl->started) {
        atomic_store(&rl->stop, true);
        reload_request(rl);
        pthread_join(rl->thread, NULL);
    }
    if (rl->ifd >= 0)
        close(rl->ifd);
    if (rl->efd >= 0)
        close(rl->efd);
    reload_gen_unref(rl->current);
    pthread_cond_destroy(&rl->done);
    pthread_mutex_destroy(&rl->lock);
    free(rl->rules_dir);
    free(rl->cache_dir);
    free(rl);
}
