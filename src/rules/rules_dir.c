/*
 * rules_dir: the rule files of a directory: which ones (*.json, not hidden),
 * in what order (strcmp of the names, so ids, indices and the version
 * digest are the same on every machine), their bytes (read through
 * base_file, bounded by RULES_FILE_MAX) and the digest of names and bytes
 * that versions a ruleset and keys its snapshot.
 *
 * Thread-safety: per rules_ld (one load, one thread). Cost: one read of
 * each file per call; a load with a snapshot cache reads them twice (the
 * key, then the parse on a miss), which is small next to compiling.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules_internal.h"

/* Every read of a rule file (a load, the snapshot key, rules_dir_version)
 * comes here, so a FIFO, a device or an endless file fails the load with
 * its name instead of hanging it or eating memory: in `earshot run` that
 * would be the reload thread, stuck for good. */
int rules_ld_read(rules_ld *ld, const char *path, char **buf, size_t *len)
{
    struct stat st;
    int fd = base_file_open(path, &st), rc;

    if (fd == -2)
        return rules_ld_fail(ld, ld->file, 0, 0,
                             "not a regular file (%s); rule files must be "
                             "plain files", base_file_kind(st.st_mode));
    if (fd < 0)
        return rules_ld_fail(ld, ld->file, 0, 0,
                             "cannot open: %s; check the file's permissions",
                             strerror(errno));
    rc = base_file_read(fd, (long long)st.st_size, RULES_FILE_MAX, buf, len);
    if (rc != 0) {
        int e = errno;
        close(fd);
        if (rc == -2)
            return rules_ld_fail(ld, ld->file, 0, 0,
                                 "larger than %d MiB; split it",
                                 RULES_FILE_MAX_MIB);
        if (e == ENOMEM)
            return rules_ld_fail(ld, ld->file, 0, 0, "out of memory");
        return rules_ld_fail(ld, ld->file, 0, 0, "cannot read: %s",
                             strerror(e));
    }
    close(fd);
    return 0;
}

static int ld_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rules_ld_list_dir(rules_ld *ld, char ***names, size_t *n)
{
    DIR *d = opendir(ld->dir);
    struct dirent *de;
    size_t cap = 0;

    *names = NULL;
    *n = 0;
    if (!d)
        return rules_ld_fail(ld, UINT32_MAX, 0, 0,
                             "cannot open rules directory: %s; check the path "
                             "and its permissions", strerror(errno));
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        /* Skip hidden files: editors leave ".#x.json" lock files. */
        if (de->d_name[0] == '.' || len < 6 ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (rules_vec_reserve(names, &cap, *n + 1, sizeof(**names)) != 0 ||
            !((*names)[*n] = strdup(de->d_name))) {
            closedir(d);
            return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory");
        }
        (*n)++;
    }
    closedir(d);
    if (*n == 0)
        return rules_ld_fail(ld, UINT32_MAX, 0, 0,
                             "no *.json rule files in this directory; add one "
                             "(see rules/ in the source tree) or point to the "
                             "right directory");
    qsort(*names, *n, sizeof(**names), ld_name_cmp);
    return 0;
}

/* ld->paths = "DIR/NAME" for each name (ld_free releases them). */
int rules_ld_set_paths(rules_ld *ld, char *const *names, size_t n)
{
    if (!(ld->paths = calloc(n ? n : 1, sizeof(*ld->paths))))
        return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ld->dir) + strlen(names[i]) + 2;
        if (!(ld->paths[i] = malloc(len)))
            return rules_ld_fail(ld, UINT32_MAX, 0, 0, "out of memory");
        snprintf(ld->paths[i], len, "%s/%s", ld->dir, names[i]);
        ld->n_paths++;
    }
    return 0;
}

/* The digest rules_ld_file() will compute (names and bytes, in load order),
 * without parsing: the snapshot key. ld->paths must be set. */
int rules_ld_files_digest(rules_ld *ld, char *const *names, size_t n, uint64_t *digest)
{
    uint64_t d = BASE_FNV_OFFSET;

    for (size_t i = 0; i < n; i++) {
        char *buf = NULL;
        size_t len = 0;
        ld->file = (uint32_t)i;
        if (rules_ld_read(ld, ld->paths[i], &buf, &len) != 0)
            return -1;
        d = base_fnv1a(d, names[i], strlen(names[i]) + 1);
        d = base_fnv1a(d, buf, len);
        free(buf);
    }
    *digest = d;
    return 0;
}
