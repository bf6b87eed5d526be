/*
 * test_rules_cache: the compiled-rule cache. Each test writes its rule files
 * and cache into a fresh temporary directory, so the expected file names,
 * warnings and eviction order are exact.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules_layout.h"

typedef struct tmp {
    char root[256], rules[300], cache[300];
} tmp;

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *const RULES_A =
    "{\"brands\": [{\"id\": \"comcast\", \"aliases\": [\"comcast\"],"
    " \"handles\": [\"@comcastcares\"]}],\n"
    " \"rules\": [{\"id\": \"hold\", \"tag\": \"wait_time\", \"severity\": 30,"
    " \"any\": [\"on hold\", {\"regex\": \"wait(ed|ing) \\\\d+ hours\"}]}]}\n";

/* Same terms as RULES_A, other metadata. */
static const char *const RULES_A_META =
    "{\"brands\": [{\"id\": \"comcast\", \"name\": \"Comcast Corp\","
    " \"aliases\": [\"comcast\"], \"handles\": [\"@comcastcares\"]}],\n"
    " \"rules\": [{\"id\": \"hold\", \"tag\": \"waiting\", \"severity\": 90,"
    " \"any\": [\"on hold\", {\"regex\": \"wait(ed|ing) \\\\d+ hours\"}]}]}\n";

static const char *const RULES_B =
    "{\"brands\": [{\"id\": \"dell\", \"aliases\": [\"dell\"]}]}\n";
static const char *const RULES_C =
    "{\"brands\": [{\"id\": \"zappos\", \"aliases\": [\"zappos\"]}]}\n";

static void tmp_make(tmp *t, const char *rules_text)
{
    snprintf(t->root, sizeof(t->root), "/tmp/earshot-test-cache-XXXXXX");
    assert_non_null(mkdtemp(t->root));
    snprintf(t->rules, sizeof(t->rules), "%s/rules", t->root);
    snprintf(t->cache, sizeof(t->cache), "%s/cache/rules", t->root);
    assert_int_equal(mkdir(t->rules, 0755), 0);
    put_file(t->rules, "rules.json", rules_text);
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

/* The *.hsdb names in the cache, sorted, joined by spaces; "" when none. */
static void list_entries(const char *dir, char *out, size_t size)
{
    char names[16][256];
    size_t n = 0, len = 0;
    DIR *d = opendir(dir);
    struct dirent *de;

    out[0] = 0;
    if (!d)
        return;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && n < 16)
            snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "",
                                names[i]);
}

typedef struct load_result {
    ruleset *rs;
    bool hit;
    char warn[1024];
} load_result;

/* The database layer alone (no whole-ruleset snapshots): the tests below
 * count and damage its single *.hsdb entry. */
static load_result load_opts(const char *rules, const char *cache, uint64_t max,
                             bool snapshot)
{
    load_result r;
    char err[1024];
    rules_load_opts o = {.cache_dir = cache,
                         .cache_max_bytes = max,
                         .cache_hit = &r.hit,
                         .warn = r.warn,
                         .warn_size = sizeof(r.warn),
                         .no_snapshot = !snapshot};

    memset(&r, 0, sizeof(r));
    r.hit = true; /* must be overwritten */
    strcpy(r.warn, "stale");
    r.rs = ruleset_load_opts(rules, &o, err, sizeof(err));
    if (!r.rs)
        fail_msg("%s: %s", rules, err);
    return r;
}

static load_result load(const char *rules, const char *cache, uint64_t max)
{
    return load_opts(rules, cache, max, false);
}

/* The entry file a ruleset's database is cached under. */
static void entry_path(const tmp *t, char *out, size_t size)
{
    char names[512];
    list_entries(t->cache, names, sizeof(names));
    assert_int_equal(strlen(names), 16 + 5); /* one entry */
    snprintf(out, size, "%s/%s", t->cache, names);
}

typedef struct hits {
    unsigned ids[16];
    unsigned n;
} hits;

static int on_hit(unsigned id, unsigned long long from, unsigned long long to,
                  unsigned flags, void *ctx)
{
    hits *h = ctx;
    (void)from;
    (void)flags;
    if (h->n < 16)
        h->ids[h->n] = id * 1000 + (unsigned)to;
    h->n++;
    return 0;
}

static hits scan(const ruleset *rs, const char *text)
{
    hits h = {{0}, 0};
    hs_scratch_t *s = NULL;
    assert_int_equal(hs_alloc_scratch(rs->db, &s), HS_SUCCESS);
    assert_int_equal(hs_scan(rs->db, text, (unsigned)strlen(text), 0, s, on_hit, &h),
                     HS_SUCCESS);
    hs_free_scratch(s);
    return h;
}

static void test_miss_then_hit(void **state)
{
    tmp t;
    char names[512];
    (void)state;
    tmp_make(&t, RULES_A);

    load_result a = load(t.rules, t.cache, 0);
    assert_false(a.hit);
    assert_string_equal(a.warn, "");
    rules_stats sa = ruleset_stats(a.rs);
    assert_false(sa.from_cache);
    assert_true(sa.compile_s > 0);
    list_entries(t.cache, names, sizeof(names));
    assert_int_equal(strlen(names), 16 + 5);
    assert_string_equal(names + 16, ".hsdb");

    load_result b = load(t.rules, t.cache, 0);
    assert_true(b.hit);
    assert_string_equal(b.warn, "");
    rules_stats sb = ruleset_stats(b.rs);
    assert_true(sb.from_cache);
    assert_true(sb.compile_s == 0.0);
    assert_int_equal(sb.db_bytes, sa.db_bytes);
    assert_int_equal(sb.n_patterns, 4);
    assert_string_equal(ruleset_version(a.rs), ruleset_version(b.rs));

    /* The cached database finds what the compiled one finds. */
    const char *text = "@comcastcares on hold, waited 3 hours. comcast!";
    hits ha = scan(a.rs, text), hb = scan(b.rs, text);
    /* comcast (twice: inside the handle too; the matcher checks word
     * boundaries), @comcastcares, on hold, the regex. */
    assert_int_equal(ha.n, 5);
    assert_int_equal(hb.n, ha.n);
    assert_memory_equal(ha.ids, hb.ids, ha.n * sizeof(ha.ids[0]));

    ruleset_unref(a.rs);
    ruleset_unref(b.rs);
    rm_tree(t.root);
}

static void test_metadata_edit_reuses_entry(void **state)
{
    tmp t;
    char before[512], after[512];
    (void)state;
    tmp_make(&t, RULES_A);
    load_result a = load(t.rules, t.cache, 0);
    list_entries(t.cache, before, sizeof(before));

    put_file(t.rules, "rules.json", RULES_A_META);
    load_result b = load(t.rules, t.cache, 0);
    assert_true(b.hit);
    assert_string_not_equal(ruleset_version(a.rs), ruleset_version(b.rs));
    assert_string_equal(ruleset_rule(b.rs, 0)->tag, "waiting");
    assert_int_equal(ruleset_rule(b.rs, 0)->severity, 90);
    assert_string_equal(ruleset_brand(b.rs, 0)->name, "Comcast Corp");
    list_entries(t.cache, after, sizeof(after));
    assert_string_equal(before, after);

    /* A changed term is another key: a miss and a second entry. */
    put_file(t.rules, "rules.json", RULES_B);
    load_result c = load(t.rules, t.cache, 0);
    assert_false(c.hit);
    list_entries(t.cache, after, sizeof(after));
    assert_int_equal(strlen(after), 2 * (16 + 5) + 1);

    ruleset_unref(a.rs);
    ruleset_unref(b.rs);
    ruleset_unref(c.rs);
    rm_tree(t.root);
}

/* Damage the single entry with fn, then expect a rebuild with warning why,
 * and a clean hit after it. */
static void expect_rebuild(void (*damage)(const char *path, const tmp *t),
                           const char *why)
{
    tmp t;
    char path[512], want[1024];
    tmp_make(&t, RULES_A);
    ruleset_unref(load(t.rules, t.cache, 0).rs);
    entry_path(&t, path, sizeof(path));
    damage(path, &t);

    load_result r = load(t.rules, t.cache, 0);
    assert_false(r.hit);
    snprintf(want, sizeof(want), "rules cache: %s is %s; rebuilt it", path, why);
    assert_string_equal(r.warn, want);
    assert_int_equal(ruleset_stats(r.rs).n_patterns, 4);
    hits h = scan(r.rs, "on hold");
    assert_int_equal(h.n, 1);
    ruleset_unref(r.rs);

    r = load(t.rules, t.cache, 0);
    assert_true(r.hit);
    assert_string_equal(r.warn, "");
    ruleset_unref(r.rs);
    rm_tree(t.root);
}

static void flip_last_byte(const char *path, const tmp *t)
{
    (void)t;
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    off_t end = lseek(fd, 0, SEEK_END);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, end - 1), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, end - 1), 1);
    close(fd);
}

static void cut_tail(const char *path, const tmp *t)
{
    struct stat st;
    (void)t;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 100), 0);
}

static void cut_header(const char *path, const tmp *t)
{
    (void)t;
    assert_int_equal(truncate(path, 10), 0);
}

static void bad_magic(const char *path, const tmp *t)
{
    (void)t;
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "NOTMAGIC", 8, 0), 8);
    close(fd);
}

/* Another rule set's (valid) entry under this key's name. */
static void other_entry(const char *path, const tmp *t)
{
    char other[512], other_cache[400], cmd[2048];
    tmp u;
    tmp_make(&u, RULES_B);
    snprintf(other_cache, sizeof(other_cache), "%s", u.cache);
    ruleset_unref(load(u.rules, other_cache, 0).rs);
    entry_path(&u, other, sizeof(other));
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", other, path);
    assert_int_equal(system(cmd), 0);
    rm_tree(u.root);
    (void)t;
}

/* A FIFO where the entry was: opening it for reading would block until a
 * writer came, i.e. forever, in check-rules, at startup or in the reload
 * thread. */
static void fifo_entry(const char *path, const tmp *t)
{
    (void)t;
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
}

static void on_alarm(int sig)
{
    static const char msg[] = "test_rules_cache: hung on a cache entry\n";
    (void)sig;
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

static void test_fifo_entry_rebuilt(void **state)
{
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(30);
    expect_rebuild(fifo_entry, "not a regular file (a FIFO)");
    alarm(0);
}

static void test_corrupt_entry_rebuilt(void **state)
{
    (void)state;
    expect_rebuild(flip_last_byte, "corrupt (checksum mismatch)");
}

static void test_truncated_entry_rebuilt(void **state)
{
    (void)state;
    expect_rebuild(cut_tail,
                   "truncated (payload length does not match the file size)");
    expect_rebuild(cut_header, "truncated (shorter than its header)");
}

static void test_foreign_entry_rebuilt(void **state)
{
    (void)state;
    expect_rebuild(bad_magic, "not an earshot cache entry (bad magic)");
    expect_rebuild(other_entry, "stale (written for other rules)");
}

static void set_mtime(const char *path, time_t when)
{
    struct timespec ts[2] = {{when, 0}, {when, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void test_lru_eviction(void **state)
{
    tmp ta, tb, tc;
    char pa[512], pb[512], cache[300], names[512];
    (void)state;
    tmp_make(&ta, RULES_A);
    tmp_make(&tb, RULES_B);
    tmp_make(&tc, RULES_C);
    /* One cache directory for the three rule sets. */
    snprintf(cache, sizeof(cache), "%s", ta.cache);
    memcpy(tb.cache, cache, sizeof(cache));
    memcpy(tc.cache, cache, sizeof(cache));

    ruleset_unref(load(ta.rules, cache, 0).rs);
    entry_path(&ta, pa, sizeof(pa));
    ruleset_unref(load(tb.rules, cache, 0).rs);
    /* B's name: the entry that is not A's. */
    list_entries(cache, names, sizeof(names));
    const char *pa_name = strrchr(pa, '/') + 1;
    snprintf(pb, sizeof(pb), "%s/%.21s", cache,
             strncmp(names, pa_name, 21) == 0 ? names + 22 : names);
    off_t a_size = file_size(pa), b_size = file_size(pb);
    /* A is older than B, but a hit makes A the most recently used. */
    set_mtime(pa, 1000000000);
    set_mtime(pb, 1000000100);
    load_result hit = load(ta.rules, cache, 0);
    assert_true(hit.hit);
    ruleset_unref(hit.rs);

    /* Room for A, B and half of C (B and C are one-literal sets of about
     * the same size): B must go, A stays. */
    uint64_t max = (uint64_t)(a_size + b_size + b_size / 2);
    load_result c = load(tc.rules, cache, max);
    assert_false(c.hit);
    assert_string_equal(c.warn, "");
    ruleset_unref(c.rs);
    list_entries(cache, names, sizeof(names));
    assert_null(strstr(names, strrchr(pb, '/') + 1));
    assert_non_null(strstr(names, pa_name));
    assert_int_equal(strlen(names), 2 * 21 + 1);

    rm_tree(ta.root);
    rm_tree(tb.root);
    rm_tree(tc.root);
}

static void test_entry_over_limit_not_written(void **state)
{
    tmp t;
    char names[512];
    (void)state;
    tmp_make(&t, RULES_A);
    load_result r = load(t.rules, t.cache, 100);
    assert_false(r.hit);
    assert_non_null(r.rs);
    size_t db = ruleset_stats(r.rs).db_bytes;
    char want[256];
    /* The serialised size is Hyperscan's; the message quotes it. */
    assert_int_equal(strncmp(r.warn, "rules cache: the database (", 27), 0);
    snprintf(want, sizeof(want), " bytes) is larger than the cache limit (100 "
             "bytes); not cached, raise the limit");
    assert_non_null(strstr(r.warn, want));
    assert_true(db > 100);
    list_entries(t.cache, names, sizeof(names));
    assert_string_equal(names, "");
    ruleset_unref(r.rs);
    rm_tree(t.root);
}

static void test_unwritable_cache_still_loads(void **state)
{
    tmp t;
    char file[400];
    (void)state;
    tmp_make(&t, RULES_A);
    /* A regular file where the cache directory should be. */
    snprintf(file, sizeof(file), "%s/cache", t.root);
    put_file(t.root, "cache", "x");
    load_result r = load(t.rules, t.cache, 0);
    assert_false(r.hit);
    char want[1024];
    snprintf(want, sizeof(want), "rules cache: cannot create %s: Not a "
             "directory; not cached", t.cache);
    assert_string_equal(r.warn, want);
    ruleset_unref(r.rs);
    rm_tree(t.root);
}

static void test_dir_version_matches_load(void **state)
{
    tmp t;
    char v[32], err[256];
    (void)state;
    tmp_make(&t, RULES_A);
    put_file(t.rules, "more.json", RULES_B);
    ruleset *rs = load(t.rules, NULL, 0).rs;
    assert_int_equal(rules_dir_version(t.rules, v, sizeof(v), err, sizeof(err)), 0);
    assert_string_equal(v, ruleset_version(rs));
    ruleset_unref(rs);
    put_file(t.rules, "more.json", RULES_C);
    assert_int_equal(rules_dir_version(t.rules, v, sizeof(v), err, sizeof(err)), 0);
    rs = load(t.rules, NULL, 0).rs;
    assert_string_equal(v, ruleset_version(rs));
    ruleset_unref(rs);
    rm_tree(t.root);
    assert_int_equal(rules_dir_version(t.rules, v, sizeof(v), err, sizeof(err)), -1);
    char want[512];
    snprintf(want, sizeof(want), "%s: cannot open rules directory: No such file "
             "or directory; check the path and its permissions", t.rules);
    assert_string_equal(err, want);
}

static void test_default_dir(void **state)
{
    char buf[256];
    (void)state;
    setenv("EARSHOT_CACHE", "/var/cache/es", 1);
    assert_int_equal(rules_cache_default_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/var/cache/es/rules");
    unsetenv("EARSHOT_CACHE");
    setenv("HOME", "/home/ana", 1);
    assert_int_equal(rules_cache_default_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/home/ana/.cache/earshot/rules");
    assert_int_equal(rules_cache_default_dir(buf, 10), -1);
}

/* Every field a snapshot restores equals the parsed ruleset's. */
static void assert_same_ruleset(const ruleset *a, const ruleset *b)
{
    assert_string_equal(ruleset_version(a), ruleset_version(b));
    assert_int_equal(a->n_brands, b->n_brands);
    for (size_t i = 0; i < a->n_brands; i++) {
        assert_string_equal(a->brands[i].id, b->brands[i].id);
        assert_string_equal(a->brands[i].name, b->brands[i].name);
    }
    assert_int_equal(a->n_rules, b->n_rules);
    for (size_t i = 0; i < a->n_rules; i++) {
        assert_string_equal(a->rules[i].id, b->rules[i].id);
        assert_string_equal(a->rules[i].tag, b->rules[i].tag);
        assert_int_equal(a->rules[i].polarity, b->rules[i].polarity);
        assert_int_equal(a->rules[i].severity, b->rules[i].severity);
        assert_int_equal(a->rule_root[i], b->rule_root[i]);
        const rules_when *wa = &a->rule_when[i], *wb = &b->rule_when[i];
        assert_int_equal(wa->lang_first, wb->lang_first);
        assert_int_equal(wa->n_lang, wb->n_lang);
        assert_int_equal(wa->brand_first, wb->brand_first);
        assert_int_equal(wa->n_brand, wb->n_brand);
        assert_int_equal(wa->min_followers, wb->min_followers);
        assert_int_equal(wa->retweet, wb->retweet);
    }
    assert_int_equal(a->n_langs, b->n_langs);
    for (size_t i = 0; i < a->n_langs; i++)
        assert_string_equal(a->langs[i], b->langs[i]);
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (size_t i = 0; i < a->n_nodes; i++) { /* fields: the padding is not data */
        assert_int_equal(a->nodes[i].pattern, b->nodes[i].pattern);
        assert_int_equal(a->nodes[i].first, b->nodes[i].first);
        assert_int_equal(a->nodes[i].n_all, b->nodes[i].n_all);
        assert_int_equal(a->nodes[i].n_any, b->nodes[i].n_any);
        assert_int_equal(a->nodes[i].n_not, b->nodes[i].n_not);
    }
    assert_int_equal(a->n_child, b->n_child);
    assert_memory_equal(a->child, b->child, a->n_child * sizeof(*a->child));
    assert_int_equal(a->n_patterns, b->n_patterns);
    assert_memory_equal(a->pat_len, b->pat_len, a->n_patterns * sizeof(*a->pat_len));
    assert_memory_equal(a->pat_bound, b->pat_bound, a->n_patterns);
    assert_memory_equal(a->pat_rule_off, b->pat_rule_off,
                        (a->n_patterns + 1) * sizeof(*a->pat_rule_off));
    assert_memory_equal(a->pat_rules, b->pat_rules,
                        a->pat_rule_off[a->n_patterns] * sizeof(*a->pat_rules));
    assert_memory_equal(a->pat_brand_off, b->pat_brand_off,
                        (a->n_patterns + 1) * sizeof(*a->pat_brand_off));
    assert_memory_equal(a->pat_brands, b->pat_brands,
                        a->pat_brand_off[a->n_patterns] * sizeof(*a->pat_brands));
    assert_int_equal(ruleset_stats(a).db_bytes, ruleset_stats(b).db_bytes);
    assert_int_equal(ruleset_example_count(a), ruleset_example_count(b));
    for (size_t i = 0; i < ruleset_example_count(a); i++) {
        const rules_example *ea = ruleset_example(a, i), *eb = ruleset_example(b, i);
        assert_int_equal(ea->rule, eb->rule);
        assert_int_equal(ea->expect_match, eb->expect_match);
        assert_int_equal(ea->is_post, eb->is_post);
        assert_int_equal(ea->len, eb->len);
        assert_string_equal(ea->text, eb->text);
        assert_string_equal(ea->file, eb->file);
        assert_int_equal(ea->line, eb->line);
        assert_int_equal(ea->col, eb->col);
    }
}

/* The snapshot entry's path ("*.rset"). */
static void snapshot_path(const tmp *t, char *out, int size)
{
    DIR *d = opendir(t->cache);
    struct dirent *de;
    out[0] = 0;
    assert_non_null(d);
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".rset") && de->d_name[0] != '.')
            snprintf(out, (size_t)size, "%.300s/%.100s", t->cache, de->d_name);
    closedir(d);
    assert_true(out[0] != 0);
}

static const char *const RULES_WHEN =
    "{\"brands\": [{\"id\": \"comcast\", \"name\": \"Comcast\", \"aliases\": [\"comcast\"],"
    " \"exclude\": [\"comcast center\"]}, {\"id\": \"dell\", \"aliases\": [\"dell\"]}],\n"
    " \"rules\": [{\"id\": \"hold\", \"tag\": \"wait_time\", \"polarity\": \"complaint\","
    " \"severity\": 30, \"all\": [\"on hold\"], \"any\": [\"hour\", {\"regex\": \"\\\\d+ min\"}],"
    " \"not\": [\"no hold\"], \"when\": {\"lang\": [\"en\", \"es\"], \"brands\": [\"dell\"],"
    " \"min_followers\": 10, \"retweet\": false},\n"
    "  \"examples\": {\"match\": [{\"text\": \"dell: on hold an hour\", \"lang\": \"en\"}],"
    " \"no_match\": [\"no hold\", \"on hold 5 min\"]}},\n"
    " {\"id\": \"thanks\", \"tag\": \"thanks\", \"polarity\": \"praise\", \"any\": [\"thank you\"],"
    " \"examples\": {\"match\": [\"thank you \\\"so\\\" much\"]}}]}\n";

static void test_snapshot_hit_restores_everything(void **state)
{
    tmp t;
    (void)state;
    tmp_make(&t, RULES_WHEN);
    put_file(t.rules, "zz-more.json", RULES_C);

    load_result parsed = load_opts(t.rules, t.cache, 0, true);
    assert_false(parsed.hit);
    assert_string_equal(parsed.warn, "");
    load_result snap = load_opts(t.rules, t.cache, 0, true);
    assert_true(snap.hit);
    assert_string_equal(snap.warn, "");
    rules_stats st = ruleset_stats(snap.rs);
    assert_true(st.from_cache);
    assert_true(st.compile_s == 0.0);
    assert_int_equal(st.n_files, 2);
    assert_int_equal(st.n_rules, 2);
    assert_int_equal(st.n_brands, 3);
    assert_same_ruleset(parsed.rs, snap.rs);
    hits ha = scan(parsed.rs, "comcast on hold an hour, 5 min, thank you dell");
    hits hb = scan(snap.rs, "comcast on hold an hour, 5 min, thank you dell");
    assert_true(ha.n > 4);
    assert_int_equal(ha.n, hb.n);
    assert_memory_equal(ha.ids, hb.ids, ha.n * sizeof(ha.ids[0]));

    /* Any byte of any file changes the key: a parse, not a stale snapshot. */
    put_file(t.rules, "zz-more.json", "{\"brands\": [{\"id\": \"kodak\", \"aliases\": [\"kodak\"]}]}");
    load_result edited = load_opts(t.rules, t.cache, 0, true);
    assert_false(edited.hit); /* new terms: the database is compiled too */
    assert_string_equal(ruleset_brand(edited.rs, 2)->id, "kodak");
    assert_string_not_equal(ruleset_version(edited.rs), ruleset_version(snap.rs));

    ruleset_unref(parsed.rs);
    ruleset_unref(snap.rs);
    ruleset_unref(edited.rs);
    rm_tree(t.root);
}

/* Examples come back from a snapshot with their texts and positions, and
 * with the paths of the directory actually read: the snapshot key covers
 * the files' names and bytes, not where they live. */
static void test_snapshot_examples(void **state)
{
    tmp t;
    char other[512], want[600];
    (void)state;
    tmp_make(&t, RULES_WHEN);

    load_result parsed = load_opts(t.rules, t.cache, 0, true);
    assert_int_equal(ruleset_example_count(parsed.rs), 4);
    const rules_example *ex = ruleset_example(parsed.rs, 0);
    assert_true(ex->is_post);
    assert_true(ex->expect_match);
    assert_string_equal(ex->text, "{\"text\":\"dell: on hold an hour\",\"lang\":\"en\"}");
    assert_int_equal(ex->line, 3);
    assert_int_equal(ex->col, 26);
    ex = ruleset_example(parsed.rs, 3);
    assert_string_equal(ruleset_rule(parsed.rs, ex->rule)->id, "thanks");
    assert_string_equal(ex->text, "thank you \"so\" much");

    load_result snap = load_opts(t.rules, t.cache, 0, true);
    assert_true(snap.hit);
    assert_same_ruleset(parsed.rs, snap.rs);

    snprintf(other, sizeof(other), "%s/other", t.root);
    assert_int_equal(mkdir(other, 0755), 0);
    put_file(other, "rules.json", RULES_WHEN);
    load_result moved = load_opts(other, t.cache, 0, true);
    assert_true(moved.hit);
    snprintf(want, sizeof(want), "%s/rules.json", other);
    for (size_t i = 0; i < ruleset_example_count(moved.rs); i++)
        assert_string_equal(ruleset_example(moved.rs, i)->file, want);
    assert_int_equal(ruleset_example(moved.rs, 3)->line,
                     ruleset_example(parsed.rs, 3)->line);

    ruleset_unref(parsed.rs);
    ruleset_unref(snap.rs);
    ruleset_unref(moved.rs);
    rm_tree(t.root);
}

static void test_snapshot_damage_rebuilt(void **state)
{
    tmp t;
    char path[512], want[1024];
    (void)state;
    tmp_make(&t, RULES_WHEN);
    load_result parsed = load_opts(t.rules, t.cache, 0, true);
    snapshot_path(&t, path, (int)sizeof(path));
    flip_last_byte(path, &t);

    /* The database entry is intact, so the load still skips compiling. */
    load_result r = load_opts(t.rules, t.cache, 0, true);
    snprintf(want, sizeof(want), "rules cache: %s is corrupt (checksum mismatch); rebuilt it",
             path);
    assert_string_equal(r.warn, want);
    assert_same_ruleset(parsed.rs, r.rs);
    ruleset_unref(r.rs);

    r = load_opts(t.rules, t.cache, 0, true);
    assert_true(r.hit);
    assert_string_equal(r.warn, "");
    assert_same_ruleset(parsed.rs, r.rs);
    ruleset_unref(r.rs);
    ruleset_unref(parsed.rs);
    rm_tree(t.root);
}

/* The same for the whole-ruleset snapshot entry. */
static void test_snapshot_fifo_rebuilt(void **state)
{
    tmp t;
    char path[512], want[1024];
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(30);
    tmp_make(&t, RULES_WHEN);
    load_result parsed = load_opts(t.rules, t.cache, 0, true);
    snapshot_path(&t, path, (int)sizeof(path));
    fifo_entry(path, &t);

    load_result r = load_opts(t.rules, t.cache, 0, true);
    snprintf(want, sizeof(want),
             "rules cache: %s is not a regular file (a FIFO); rebuilt it", path);
    assert_string_equal(r.warn, want);
    assert_same_ruleset(parsed.rs, r.rs);
    ruleset_unref(r.rs);

    r = load_opts(t.rules, t.cache, 0, true);
    assert_true(r.hit);
    assert_string_equal(r.warn, "");
    ruleset_unref(r.rs);
    ruleset_unref(parsed.rs);
    rm_tree(t.root);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_then_hit),
        cmocka_unit_test(test_metadata_edit_reuses_entry),
        cmocka_unit_test(test_corrupt_entry_rebuilt),
        cmocka_unit_test(test_truncated_entry_rebuilt),
        cmocka_unit_test(test_foreign_entry_rebuilt),
        cmocka_unit_test(test_fifo_entry_rebuilt),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_entry_over_limit_not_written),
        cmocka_unit_test(test_unwritable_cache_still_loads),
        cmocka_unit_test(test_dir_version_matches_load),
        cmocka_unit_test(test_default_dir),
        cmocka_unit_test(test_snapshot_hit_restores_everything),
        cmocka_unit_test(test_snapshot_examples),
        cmocka_unit_test(test_snapshot_damage_rebuilt),
        cmocka_unit_test(test_snapshot_fifo_rebuilt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
