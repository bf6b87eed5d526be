/*
 * test_reload: hot reload under load. Two worker threads classify the same
 * text continuously while the rules are swapped, refused and watched; every
 * result is checked against the ruleset that produced it.
 *
 * The workers scan with the ruleset's own database (rules_layout.h) rather
 * than through match/ and engine/, which this module does not link: the
 * property under test is which ruleset a worker holds, not how it matches.
 * "old" and "new" rule sets find different words of the text, so a result
 * from a mix of two sets, or from a freed one, cannot look right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reload/reload.h"
#include "rules/rules_layout.h"

#define TEXT "alpha beta gamma"

/* tag "old" fires on "alpha" (ends at offset 5), "new" on "beta" (10). */
static const char *const RULES_OLD =
    "{\"rules\": [{\"id\": \"r\", \"tag\": \"old\", \"any\": [\"alpha\"]}]}\n";
static const char *const RULES_NEW =
    "{\"rules\": [{\"id\": \"r\", \"tag\": \"new\", \"any\": [\"beta\"]}]}\n";
/* Line 2, column 27: the "]" after a trailing comma. */
static const char *const RULES_BROKEN =
    "{\"rules\": [\n"
    "  {\"id\": \"r\", \"tag\": \"x\"},]}\n";
static const char *const RULES_REFUSE =
    "{\"rules\": [{\"id\": \"r\", \"tag\": \"refuse\", \"any\": [\"gamma\"]}]}\n";

typedef struct fixture {
    char root[128];
    char rules[160];
    char cache[160];
    char v_old[32], v_new[32];
} fixture;

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Replace rules.json the way editors do: a temporary file, then rename. */
static void replace_rules(const fixture *fx, const char *text)
{
    char tmp[512], dst[512];
    put_file(fx->rules, ".rules.json.new", text);
    snprintf(tmp, sizeof(tmp), "%s/.rules.json.new", fx->rules);
    snprintf(dst, sizeof(dst), "%s/rules.json", fx->rules);
    assert_int_equal(rename(tmp, dst), 0);
}

static void version_of(const char *text, char *out, size_t size)
{
    char dir[] = "/tmp/earshot-test-reload-v-XXXXXX", err[256], path[128];
    assert_non_null(mkdtemp(dir));
    put_file(dir, "rules.json", text);
    assert_int_equal(rules_dir_version(dir, out, size, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/rules.json", dir);
    unlink(path);
    rmdir(dir);
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    if (!d) {
        unlink(path);
        return;
    }
    while ((de = readdir(d))) {
        char sub[1024];
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        rm_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

static void fixture_make(fixture *fx, const char *first)
{
    snprintf(fx->root, sizeof(fx->root), "/tmp/earshot-test-reload-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->rules, sizeof(fx->rules), "%s/rules", fx->root);
    snprintf(fx->cache, sizeof(fx->cache), "%s/cache", fx->root);
    assert_int_equal(mkdir(fx->rules, 0755), 0);
    put_file(fx->rules, "rules.json", first);
    version_of(RULES_OLD, fx->v_old, sizeof(fx->v_old));
    version_of(RULES_NEW, fx->v_new, sizeof(fx->v_new));
}

/* ---- per-generation data and events ---- */

typedef struct gen_data {
    char version[32];
} gen_data;

typedef struct recorder {
    atomic_int attached, detached;
    pthread_mutex_t lock;
    int n_events;
    reload_outcome outcome[64];
    bool from_cache[64];
    char last_error[1024];
    char last_trigger[16];
} recorder;

static void *rec_attach(void *opaque, const ruleset *rs, char *err,
                        size_t err_size)
{
    recorder *r = opaque;
    if (strcmp(ruleset_rule(rs, 0)->tag, "refuse") == 0) {
        snprintf(err, err_size, "metrics: no room for rule 'r'");
        return NULL;
    }
    gen_data *d = malloc(sizeof(*d));
    assert_non_null(d);
    snprintf(d->version, sizeof(d->version), "%s", ruleset_version(rs));
    atomic_fetch_add(&r->attached, 1);
    return d;
}

static void rec_detach(void *opaque, void *data)
{
    recorder *r = opaque;
    free(data);
    atomic_fetch_add(&r->detached, 1);
}

static void rec_event(void *opaque, const reload_event *ev)
{
    recorder *r = opaque;
    pthread_mutex_lock(&r->lock);
    if (r->n_events < 64) {
        r->outcome[r->n_events] = ev->outcome;
        r->from_cache[r->n_events] = ev->from_cache;
    }
    r->n_events++;
    snprintf(r->last_error, sizeof(r->last_error), "%s", ev->error);
    snprintf(r->last_trigger, sizeof(r->last_trigger), "%s", ev->trigger);
    pthread_mutex_unlock(&r->lock);
}

static reload *holder_new(fixture *fx, recorder *rec, bool watch, bool cache)
{
    char err[1024];
    reload_config cfg = {0};
    memset(rec, 0, sizeof(*rec));
    pthread_mutex_init(&rec->lock, NULL);
    cfg.rules_dir = fx->rules;
    cfg.cache_dir = cache ? fx->cache : NULL;
    cfg.watch = watch;
    cfg.attach = rec_attach;
    cfg.detach = rec_detach;
    cfg.on_event = rec_event;
    cfg.opaque = rec;
    reload *rl = reload_new(&cfg, NULL, err, sizeof(err));
    if (!rl)
        fail_msg("reload_new: %s", err);
    return rl;
}

/* ---- workers ---- */

typedef struct worker {
    reload *rl;
    atomic_bool *stop;
    pthread_t thread;
    uint64_t posts, wrong, gens_seen, backwards;
    _Atomic uint64_t last_gen; /* read by the test thread while it runs */
    uint64_t by_version[2]; /* old, new */
    const fixture *fx;
} worker;

typedef struct scan_hit {
    unsigned id;
    unsigned long long to;
    unsigned n;
} scan_hit;

static int on_hit(unsigned id, unsigned long long from, unsigned long long to,
                  unsigned flags, void *ctx)
{
    scan_hit *h = ctx;
    (void)from;
    (void)flags;
    h->id = id;
    h->to = to;
    h->n++;
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    reload_view v = RELOAD_VIEW_INIT;
    hs_scratch_t *scratch = NULL;
    uint64_t scratch_gen = 0;

    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        const ruleset *rs = reload_view_update(w->rl, &v);
        if (v.generation != scratch_gen) {
            /* A new database may need a bigger scratch (match/ does this). */
            if (hs_alloc_scratch(rs->db, &scratch) != HS_SUCCESS) {
                w->wrong++;
                break;
            }
            if (v.generation < w->last_gen)
                w->backwards++;
            scratch_gen = v.generation;
            w->last_gen = v.generation;
            w->gens_seen++;
        }
        scan_hit h = {0, 0, 0};
        if (hs_scan(rs->db, TEXT, sizeof(TEXT) - 1, 0, scratch, on_hit, &h) !=
            HS_SUCCESS) {
            w->wrong++;
            continue;
        }
        const char *ver = ruleset_version(rs);
        const gen_data *d = v.data;
        bool is_old = strcmp(ver, w->fx->v_old) == 0;
        bool is_new = strcmp(ver, w->fx->v_new) == 0;
        const char *tag = h.n == 1 && rs->pat_rule_off[h.id + 1] - rs->pat_rule_off[h.id] == 1
                              ? rs->rules[rs->pat_rules[rs->pat_rule_off[h.id]]].tag
                              : "";
        bool ok = (is_old && h.to == 5 && strcmp(tag, "old") == 0) ||
                  (is_new && h.to == 10 && strcmp(tag, "new") == 0);
        if (!ok || !d || strcmp(d->version, ver) != 0)
            w->wrong++;
        else
            w->by_version[is_new]++;
        w->posts++;
    }
    hs_free_scratch(scratch);
    reload_view_release(&v);
    return NULL;
}

static void workers_start(worker *w, int n, reload *rl, atomic_bool *stop,
                          const fixture *fx)
{
    atomic_store(stop, false);
    for (int i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].rl = rl;
        w[i].stop = stop;
        w[i].fx = fx;
        assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
    }
}

static void workers_stop(worker *w, int n, atomic_bool *stop)
{
    atomic_store(stop, true);
    for (int i = 0; i < n; i++)
        pthread_join(w[i].thread, NULL);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Request one reload and wait for it. */
static reload_stats reload_once(reload *rl)
{
    uint64_t seen = reload_get_stats(rl).attempts;
    reload_request(rl);
    assert_int_equal(reload_wait(rl, seen, 10000), seen + 1);
    return reload_get_stats(rl);
}

static void assert_serving(reload *rl, const char *version)
{
    ruleset *rs = reload_current(rl);
    assert_string_equal(ruleset_version(rs), version);
    ruleset_unref(rs);
}

/* ---- tests ---- */

static void test_swaps_under_two_workers(void **state)
{
    fixture fx;
    recorder rec;
    worker w[2];
    atomic_bool stop;
    enum { SWAPS = 20 };
    (void)state;

    fixture_make(&fx, RULES_OLD);
    reload *rl = holder_new(&fx, &rec, false, true);
    workers_start(w, 2, rl, &stop, &fx);
    for (int i = 0; i < SWAPS; i++) {
        sleep_ms(5); /* let the workers classify on each generation */
        replace_rules(&fx, i % 2 == 0 ? RULES_NEW : RULES_OLD);
        reload_stats st = reload_once(rl);
        assert_int_equal(st.swapped, (uint64_t)i + 1);
        assert_int_equal(st.generation, (uint64_t)i + 2);
    }
    /* Both workers reach the last generation. */
    for (int t = 0; t < 2000 && (w[0].last_gen != SWAPS + 1 ||
                                 w[1].last_gen != SWAPS + 1); t++)
        sleep_ms(1);
    workers_stop(w, 2, &stop);

    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].wrong, 0);
        assert_int_equal(w[i].backwards, 0);
        assert_int_equal(w[i].last_gen, SWAPS + 1);
        assert_true(w[i].by_version[0] > 0);
        assert_true(w[i].by_version[1] > 0);
        assert_true(w[i].gens_seen >= 2);
        printf("# worker %d: %llu posts over %llu generations\n", i,
               (unsigned long long)w[i].posts, (unsigned long long)w[i].gens_seen);
    }
    reload_stats st = reload_get_stats(rl);
    assert_int_equal(st.attempts, SWAPS);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.unchanged, 0);
    /* The first load compiled and cached old, the first swap new; every
     * later swap finds its database in the cache. */
    assert_int_equal(rec.n_events, SWAPS);
    assert_false(rec.from_cache[0]);
    for (int i = 1; i < SWAPS; i++)
        assert_true(rec.from_cache[i]);
    reload_free(rl);
    /* Every generation detached once, after its last user let go. */
    assert_int_equal(atomic_load(&rec.attached), SWAPS + 1);
    assert_int_equal(atomic_load(&rec.detached), SWAPS + 1);
    rm_tree(fx.root);
}

static void test_broken_rules_keep_old(void **state)
{
    fixture fx;
    recorder rec;
    worker w[2];
    atomic_bool stop;
    char err[1024], want[1024];
    (void)state;

    fixture_make(&fx, RULES_OLD);
    reload *rl = holder_new(&fx, &rec, false, false);
    workers_start(w, 2, rl, &stop, &fx);

    replace_rules(&fx, RULES_BROKEN);
    reload_stats st = reload_once(rl);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.swapped, 0);
    assert_int_equal(st.generation, 1);
    assert_serving(rl, fx.v_old);
    snprintf(want, sizeof(want),
             "%s/rules.json:2:27: invalid JSON: unexpected token near ']'; fix "
             "the syntax (a rule file is {\"brands\": [...], \"rules\": [...]})",
             fx.rules);
    reload_last_error(rl, err, sizeof(err));
    assert_string_equal(err, want);
    assert_string_equal(rec.last_error, want);
    assert_int_equal(rec.outcome[0], RELOAD_FAILED);
    assert_string_equal(rec.last_trigger, "request");

    /* attach() may refuse a set too: counted the same way. */
    replace_rules(&fx, RULES_REFUSE);
    st = reload_once(rl);
    assert_int_equal(st.failed, 2);
    assert_serving(rl, fx.v_old);
    reload_last_error(rl, err, sizeof(err));
    assert_string_equal(err, "metrics: no room for rule 'r'");

    replace_rules(&fx, RULES_NEW);
    st = reload_once(rl);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.swapped, 1);
    assert_serving(rl, fx.v_new);
    for (int t = 0; t < 2000 && (w[0].last_gen != 2 || w[1].last_gen != 2); t++)
        sleep_ms(1);
    workers_stop(w, 2, &stop);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].wrong, 0);
        assert_int_equal(w[i].last_gen, 2);
    }
    reload_free(rl);
    assert_int_equal(atomic_load(&rec.detached), 2);
    rm_tree(fx.root);
}

static void test_unchanged_files_do_not_swap(void **state)
{
    fixture fx;
    recorder rec;
    (void)state;
    fixture_make(&fx, RULES_OLD);
    reload *rl = holder_new(&fx, &rec, false, false);
    reload_stats st = reload_once(rl);
    assert_int_equal(st.unchanged, 1);
    assert_int_equal(st.generation, 1);
    /* Rewritten with the same bytes: still the same version. */
    replace_rules(&fx, RULES_OLD);
    st = reload_once(rl);
    assert_int_equal(st.unchanged, 2);
    assert_int_equal(st.swapped, 0);
    assert_int_equal(atomic_load(&rec.attached), 1);
    reload_free(rl);
    assert_int_equal(atomic_load(&rec.detached), 1);
    rm_tree(fx.root);
}

static void test_watch_sees_edit(void **state)
{
    fixture fx;
    recorder rec;
    worker w[2];
    atomic_bool stop;
    (void)state;
    fixture_make(&fx, RULES_OLD);
    reload *rl = holder_new(&fx, &rec, true, false);
    assert_true(reload_get_stats(rl).watching);
    workers_start(w, 2, rl, &stop, &fx);

    /* Editor litter is not a change. */
    put_file(fx.rules, ".rules.json.swp", "x");
    put_file(fx.rules, "rules.json~", "x");
    put_file(fx.rules, "4913", "");
    sleep_ms(700);
    assert_int_equal(reload_get_stats(rl).attempts, 0);

    int64_t t0 = now_ms();
    replace_rules(&fx, RULES_NEW);
    assert_int_equal(reload_wait(rl, 0, 5000), 1);
    int64_t took = now_ms() - t0;
    printf("# watch: edit to swap in %lld ms (debounce 300)\n", (long long)took);
    assert_true(took >= 300);
    assert_true(took < 1500);
    reload_stats st = reload_get_stats(rl);
    assert_int_equal(st.swapped, 1);
    assert_string_equal(rec.last_trigger, "watch");
    assert_serving(rl, fx.v_new);

    /* A burst of saves is one reload, after the last. */
    for (int i = 0; i < 5; i++) {
        replace_rules(&fx, i % 2 ? RULES_NEW : RULES_OLD);
        sleep_ms(40);
    }
    assert_int_equal(reload_wait(rl, 1, 5000), 2);
    sleep_ms(600);
    st = reload_get_stats(rl);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(st.swapped, 2);
    assert_serving(rl, fx.v_old);

    workers_stop(w, 2, &stop);
    for (int i = 0; i < 2; i++)
        assert_int_equal(w[i].wrong, 0);
    reload_free(rl);
    rm_tree(fx.root);
}

static void test_watch_survives_directory_replacement(void **state)
{
    fixture fx;
    recorder rec;
    char moved[256];
    (void)state;
    fixture_make(&fx, RULES_OLD);
    reload *rl = holder_new(&fx, &rec, true, false);

    /* Deploy tools swap the whole directory. */
    snprintf(moved, sizeof(moved), "%s/rules.old", fx.root);
    assert_int_equal(rename(fx.rules, moved), 0);
    assert_int_equal(mkdir(fx.rules, 0755), 0);
    put_file(fx.rules, "rules.json", RULES_NEW);
    for (int t = 0; t < 50 && reload_get_stats(rl).swapped == 0; t++)
        sleep_ms(100);
    reload_stats st = reload_get_stats(rl);
    assert_int_equal(st.swapped, 1);
    assert_true(st.watching);
    assert_serving(rl, fx.v_new);

    /* And the new directory is watched. */
    uint64_t seen = st.attempts;
    replace_rules(&fx, RULES_OLD);
    assert_int_equal(reload_wait(rl, seen, 5000), seen + 1);
    assert_serving(rl, fx.v_old);
    reload_free(rl);
    rm_tree(fx.root);
}

static void test_new_reports_errors(void **state)
{
    fixture fx;
    char err[1024], want[1024];
    reload_config cfg = {0};
    (void)state;
    fixture_make(&fx, RULES_BROKEN);
    cfg.rules_dir = fx.rules;
    assert_null(reload_new(&cfg, NULL, err, sizeof(err)));
    snprintf(want, sizeof(want),
             "%s/rules.json:2:27: invalid JSON: unexpected token near ']'; fix "
             "the syntax (a rule file is {\"brands\": [...], \"rules\": [...]})",
             fx.rules);
    assert_string_equal(err, want);

    /* An initial ruleset from elsewhere, and a watch that cannot be set. */
    put_file(fx.rules, "rules.json", RULES_OLD);
    ruleset *rs = ruleset_load(fx.rules, err, sizeof(err));
    assert_non_null(rs);
    rm_tree(fx.rules);
    cfg.watch = true;
    assert_null(reload_new(&cfg, rs, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot watch rules directory %s: No such file "
             "or directory", fx.rules);
    assert_string_equal(err, want);
    cfg.watch = false;
    reload *rl = reload_new(&cfg, rs, err, sizeof(err));
    assert_non_null(rl);
    ruleset_unref(rs); /* the holder has its own reference */
    assert_serving(rl, fx.v_old);
    reload_stats st = reload_once(rl);
    assert_int_equal(st.failed, 1);
    reload_last_error(rl, err, sizeof(err));
    snprintf(want, sizeof(want), "%s: cannot open rules directory: No such file "
             "or directory; check the path and its permissions", fx.rules);
    assert_string_equal(err, want);
    reload_free(rl);
    rm_tree(fx.root);
}

/* The per-post cost a worker pays when nothing changed. */
static void test_view_update_cost(void **state)
{
    fixture fx;
    recorder rec;
    reload_view v = RELOAD_VIEW_INIT;
    struct timespec t0, t1;
    enum { N = 20000000 };
    const ruleset *keep = NULL;
    (void)state;
    fixture_make(&fx, RULES_OLD);
    reload *rl = holder_new(&fx, &rec, false, false);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (int i = 0; i < N; i++)
        keep = reload_view_update(rl, &v);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
                 (double)(t1.tv_nsec - t0.tv_nsec)) / N;
    printf("# reload_view_update without a swap: %.2f ns/post (CPU time)\n", ns);
    assert_non_null(keep);
    assert_int_equal(v.generation, 1);
    reload_view_release(&v);
    assert_null(v.gen);
    reload_free(rl);
    rm_tree(fx.root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swaps_under_two_workers),
        cmocka_unit_test(test_broken_rules_keep_old),
        cmocka_unit_test(test_unchanged_files_do_not_swap),
        cmocka_unit_test(test_watch_sees_edit),
        cmocka_unit_test(test_watch_survives_directory_replacement),
        cmocka_unit_test(test_new_reports_errors),
        cmocka_unit_test(test_view_update_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
