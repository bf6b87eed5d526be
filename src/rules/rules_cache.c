/*
 * rules_cache: compiled Hyperscan databases on disk, so that a restart or a
 * reload with unchanged terms skips hs_compile_multi (seconds for 100k
 * rules: bench/run measures it, README "Benchmarks" lists it; reading the
 * entry back takes milliseconds).
 *
 * Key: a 64-bit hash of exactly what the compiler is given (every pattern's
 * expression, final flags and id, in id order, plus the mode), the
 * RULES_CACHE_SCHEME constant, the host platform (hs_populate_platform: tune
 * and CPU features) and hs_version(). Hashing the compiler's input rather
 * than the rule files means edits that change no term (a severity, a tag, a
 * brand's display name, a comment-like "description") reuse the entry, and a
 * change of the normaliser that alters the terms cannot reuse a stale one.
 *
 * Entry: one file per key, "<dir>/<16 hex digits of key>.hsdb":
 *   header (rules_cache_hdr, native byte order: the platform is in the key)
 *   payload: the bytes of hs_serialize_database()
 * The header carries a magic, the format version, the key, the pattern count,
 * the payload length and a checksum of the payload. An entry that is
 * truncated, corrupt, written for another key, or that Hyperscan refuses
 * (another library build) is reported in the warning and rebuilt in place.
 *
 * Writes go to a temporary file in the same directory, then rename(2), so a
 * reader never sees half an entry and concurrent writers of one key are
 * harmless (the last rename wins, both files are whole). There is no fsync: a
 * crash may leave an empty or short entry, which the checks above turn into
 * a rebuild.
 *
 * Size bound: before a write, entries are evicted oldest-mtime first until
 * the directory's entries plus the new one fit in the limit; a hit touches
 * its entry's mtime, so eviction is least-recently-used. An entry larger than
 * the whole limit is not written. Eviction lists the directory: O(entries),
 * at load time only.
 *
 * Thread-safety: no shared state; any number of threads or processes may use
 * one directory at once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base_err.h"
#include "rules/rules_internal.h"

/* Bump when anything that shapes the compiled database changes without
 * showing in the patterns' text or flags (mode, compile-time platform
 * choices, the meaning of pattern ids). */
#define RULES_CACHE_SCHEME 1u
#define RULES_CACHE_FORMAT 1u
#define RULES_CACHE_EXT ".hsdb"
/* A temporary file older than this was left by a writer that died. */
#define RULES_CACHE_TMP_STALE_S 600

static const char rules_cache_magic[8] = {'E', 'A', 'R', 'S', 'H', 'S', 'D', 'B'};

typedef struct rules_cache_hdr {
    char magic[8];
    uint32_t format;
    uint32_t hdr_size;
    uint64_t key;
    uint64_t payload_len;
    uint64_t payload_sum;
    uint32_t n_patterns;
    uint32_t reserved;
} rules_cache_hdr;

void rules_warn(char *warn, size_t warn_size, const char *fmt, ...)
{
    va_list ap;

    /* several warnings in one load: keep them all */
    va_start(ap, fmt);
    base_err_vappend(warn, warn_size, "; ", fmt, ap);
    va_end(ap);
}

uint64_t rules_cache_key(const char *const *exprs, const unsigned *flags,
                         const unsigned *ids, uint32_t n, unsigned mode)
{
    uint64_t h = BASE_FNV_OFFSET;
    uint32_t scheme = RULES_CACHE_SCHEME;
    hs_platform_info_t plat;
    const char *ver = hs_version();

    h = base_fnv1a(h, &scheme, sizeof(scheme));
    h = base_fnv1a(h, ver, strlen(ver) + 1);
    memset(&plat, 0, sizeof(plat));
    if (hs_populate_platform(&plat) == HS_SUCCESS) {
        h = base_fnv1a(h, &plat.tune, sizeof(plat.tune));
        h = base_fnv1a(h, &plat.cpu_features, sizeof(plat.cpu_features));
    }
    h = base_fnv1a(h, &mode, sizeof(mode));
    h = base_fnv1a(h, &n, sizeof(n));
    for (uint32_t i = 0; i < n; i++) {
        /* The NUL ends the expression so that ("ab", "c") != ("a", "bc"). */
        h = base_fnv1a(h, exprs[i], strlen(exprs[i]) + 1);
        h = base_fnv1a(h, &flags[i], sizeof(flags[i]));
        h = base_fnv1a(h, &ids[i], sizeof(ids[i]));
    }
    return h;
}

static int cache_path(char *buf, size_t size, const char *dir, uint64_t key,
                      const char *ext)
{
    int n = snprintf(buf, size, "%s/%016llx%s", dir, (unsigned long long)key, ext);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int cache_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t got = read(fd, p, len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

static int cache_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t put = write(fd, p, len);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        p += put;
        len -= (size_t)put;
    }
    return 0;
}

int rules_cache_read(const char *dir, uint64_t key, const char *ext, uint32_t tag,
                     char **payload_out, size_t *len_out, char *warn, size_t warn_size)
{
    char path[4096];
    rules_cache_hdr hdr;
    struct stat st;
    char *payload = NULL;
    const char *why = NULL;
    int fd = -1, rc = 0;

    *payload_out = NULL;
    *len_out = 0;
    if (cache_path(path, sizeof(path), dir, key, ext) != 0)
        return 0;
    /* Never blocks: a FIFO or a device where an entry should be is one more
     * bad entry (the cache must never fail, or hang, a load), and the write
     * that follows renames a real entry over it. */
    fd = base_file_open(path, &st);
    if (fd == -2) {
        rules_warn(warn, warn_size, "rules cache: %s is not a regular file "
                   "(%s); rebuilt it", path, base_file_kind(st.st_mode));
        return 0;
    }
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR) /* ENOTDIR: put says it */
            rules_warn(warn, warn_size, "rules cache: cannot open %s: %s; "
                       "compiling instead", path, strerror(errno));
        return 0;
    }
    if ((size_t)st.st_size < sizeof(hdr) ||
        cache_read_all(fd, &hdr, sizeof(hdr)) != 0) {
        why = "truncated (shorter than its header)";
        goto bad;
    }
    if (memcmp(hdr.magic, rules_cache_magic, sizeof(hdr.magic)) != 0 ||
        hdr.hdr_size != sizeof(hdr)) {
        why = "not an earshot cache entry (bad magic)";
        goto bad;
    }
    if (hdr.format != RULES_CACHE_FORMAT) {
        why = "written by another earshot version (format)";
        goto bad;
    }
    if (hdr.key != key || hdr.n_patterns != tag) {
        why = "stale (written for other rules)";
        goto bad;
    }
    if (hdr.payload_len != (uint64_t)st.st_size - sizeof(hdr)) {
        why = "truncated (payload length does not match the file size)";
        goto bad;
    }
    payload = malloc(hdr.payload_len ? hdr.payload_len : 1);
    if (!payload) {
        rules_warn(warn, warn_size, "rules cache: out of memory reading %s; "
                   "compiling instead", path);
        goto out;
    }
    if (cache_read_all(fd, payload, hdr.payload_len) != 0) {
        why = "truncated (read failed)";
        goto bad;
    }
    if (base_checksum(payload, hdr.payload_len) != hdr.payload_sum) {
        why = "corrupt (checksum mismatch)";
        goto bad;
    }
    /* LRU: a hit makes the entry the youngest. Best effort. */
    (void)futimens(fd, NULL);
    *payload_out = payload;
    *len_out = hdr.payload_len;
    payload = NULL;
    rc = 1;
    goto out;
bad:
    rules_warn(warn, warn_size, "rules cache: %s is %s; rebuilt it", path, why);
out:
    free(payload);
    close(fd);
    return rc;
}

int rules_cache_get(const char *dir, uint64_t key, uint32_t n_patterns,
                    hs_database_t **db, char *warn, size_t warn_size)
{
    char *payload, path[4096];
    size_t len;

    *db = NULL;
    if (!rules_cache_read(dir, key, RULES_CACHE_EXT, n_patterns, &payload, &len, warn,
                          warn_size))
        return 0;
    if (hs_deserialize_database(payload, len, db) != HS_SUCCESS) {
        *db = NULL;
        free(payload);
        if (cache_path(path, sizeof(path), dir, key, RULES_CACHE_EXT) == 0)
            rules_warn(warn, warn_size, "rules cache: %s is refused by this Hyperscan "
                       "build (stale); rebuilt it", path);
        return 0;
    }
    free(payload);
    return 1;
}

typedef struct cache_entry {
    char *name;
    off_t size;
    struct timespec mtime;
} cache_entry;

static int cache_entry_cmp(const void *a, const void *b)
{
    const cache_entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool cache_has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return name[0] != '.' && n > e && strcmp(name + n - e, ext) == 0;
}

/* Both kinds of entry share the directory and its size bound. */
static bool cache_is_entry(const char *name)
{
    return cache_has_ext(name, RULES_CACHE_EXT) || cache_has_ext(name, RULES_SNAPSHOT_EXT);
}

static bool cache_is_tmp(const char *name)
{
    return name[0] == '.' && (strstr(name, RULES_CACHE_EXT ".tmp.") != NULL ||
                              strstr(name, RULES_SNAPSHOT_EXT ".tmp.") != NULL);
}

/* Make room for need bytes under max: drop the least recently used entries
 * (and temporary files left by dead writers). */
static void cache_evict(const char *dir, uint64_t max, uint64_t need,
                        const char *keep, char *warn, size_t warn_size)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    cache_entry *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    time_t now = time(NULL);

    if (!d)
        return;
    while ((de = readdir(d))) {
        struct stat st;
        bool entry = cache_is_entry(de->d_name);
        if (!entry && !cache_is_tmp(de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (!entry) {
            if (now - st.st_mtim.tv_sec > RULES_CACHE_TMP_STALE_S)
                (void)unlinkat(dirfd(d), de->d_name, 0);
            else
                total += (uint64_t)st.st_size; /* another writer's, in flight */
            continue;
        }
        if (keep && strcmp(de->d_name, keep) == 0)
            continue; /* about to be replaced by the new entry */
        if (rules_vec_reserve(&v, &cap, n + 1, sizeof(*v)) != 0 ||
            !(v[n].name = strdup(de->d_name)))
            break;
        v[n].size = st.st_size;
        v[n].mtime = st.st_mtim;
        total += (uint64_t)st.st_size;
        n++;
    }
    if (n)
        qsort(v, n, sizeof(*v), cache_entry_cmp);
    for (size_t i = 0; i < n && total + need > max; i++) {
        if (unlinkat(dirfd(d), v[i].name, 0) == 0 || errno == ENOENT)
            total -= (uint64_t)v[i].size;
        else
            rules_warn(warn, warn_size, "rules cache: cannot evict %s/%s: %s",
                       dir, v[i].name, strerror(errno));
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    closedir(d);
}

/* mkdir -p, for the default ~/.cache/earshot/rules. */
static int cache_mkdirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(path))
        return -1;
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

void rules_cache_write(const char *dir, uint64_t max, uint64_t key, const char *ext,
                       uint32_t tag, const char *what, const void *bytes, size_t len,
                       char *warn, size_t warn_size)
{
    char path[4096], tmp[4096], name[64];
    rules_cache_hdr hdr;
    int fd = -1;

    if (cache_path(path, sizeof(path), dir, key, ext) != 0) {
        rules_warn(warn, warn_size, "rules cache: directory name too long: %s",
                   dir);
        return;
    }
    if ((uint64_t)len + sizeof(hdr) > max) {
        rules_warn(warn, warn_size, "rules cache: %s (%zu bytes) is "
                   "larger than the cache limit (%llu bytes); not cached, raise "
                   "the limit", what, len, (unsigned long long)max);
        return;
    }
    if (cache_mkdirs(dir) != 0) {
        rules_warn(warn, warn_size, "rules cache: cannot create %s: %s; not "
                   "cached", dir, strerror(errno));
        return;
    }
    snprintf(name, sizeof(name), "%016llx%s", (unsigned long long)key, ext);
    cache_evict(dir, max, (uint64_t)len + sizeof(hdr), name, warn, warn_size);

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.magic, rules_cache_magic, sizeof(hdr.magic));
    hdr.format = RULES_CACHE_FORMAT;
    hdr.hdr_size = sizeof(hdr);
    hdr.key = key;
    hdr.payload_len = len;
    hdr.payload_sum = base_checksum(bytes, len);
    hdr.n_patterns = tag;

    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", dir, name);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rules_warn(warn, warn_size, "rules cache: cannot create a file in %s: "
                   "%s; not cached", dir, strerror(errno));
        return;
    }
    (void)fchmod(fd, 0644);
    if (cache_write_all(fd, &hdr, sizeof(hdr)) != 0 ||
        cache_write_all(fd, bytes, len) != 0) {
        rules_warn(warn, warn_size, "rules cache: cannot write %s: %s; not "
                   "cached", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        rules_warn(warn, warn_size, "rules cache: cannot write %s: %s; not "
                   "cached", path, strerror(errno));
        unlink(tmp);
    }
}

void rules_cache_put(const char *dir, uint64_t max, uint64_t key,
                     uint32_t n_patterns, const hs_database_t *db, char *warn,
                     size_t warn_size)
{
    char *bytes = NULL;
    size_t len = 0;

    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) {
        rules_warn(warn, warn_size, "rules cache: Hyperscan could not serialise "
                   "the database; not cached");
        return;
    }
    rules_cache_write(dir, max, key, RULES_CACHE_EXT, n_patterns, "the database", bytes,
                      len, warn, warn_size);
    free(bytes); /* hs_serialize_database uses the misc allocator: malloc */
}

int rules_cache_default_dir(char *buf, size_t size)
{
    const char *base = getenv("EARSHOT_CACHE");
    int n;

    if (base && *base)
        n = snprintf(buf, size, "%s/rules", base);
    else if ((base = getenv("HOME")) && *base)
        n = snprintf(buf, size, "%s/.cache/earshot/rules", base);
    else
        return -1;
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
