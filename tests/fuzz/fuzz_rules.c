/*
 * libFuzzer target for the rules loader, ruleset_load(): JSON parse, the
 * position map, validation, normalisation of phrases, the lexicon, a model
 * file, and the Hyperscan compile. Each input is written as the one rule
 * file of a temporary directory. The load must either succeed (a ruleset
 * with a version) or fail with a NUL-terminated error that starts with the
 * file's path, as every loader error names its file; the one error about
 * the directory as a whole is Hyperscan refusing the combined database.
 * Never a crash, a leak or undefined behaviour.
 * Build: cmake with -DEARSHOT_FUZZ=ON and clang (tests/fuzz/README.md).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];
static char fuzz_path[96];

/* libFuzzer ends with exit(): leave no directory behind in /tmp. */
static void fuzz_cleanup(void)
{
    unlink(fuzz_path);
    rmdir(fuzz_dir);
}

static void fuzz_setup(void)
{
    if (fuzz_dir[0])
        return;
    snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/earshot-fuzz-rules-XXXXXX");
    if (!mkdtemp(fuzz_dir))
        abort();
    snprintf(fuzz_path, sizeof(fuzz_path), "%s/rules.json", fuzz_dir);
    atexit(fuzz_cleanup);
}

static void fuzz_write(const uint8_t *data, size_t size)
{
    int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        abort();
    while (size) {
        ssize_t put = write(fd, data, size);
        if (put <= 0)
            abort();
        data += put;
        size -= (size_t)put;
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024], dir_prefix[96];
    ruleset *rs;

    fuzz_setup();
    fuzz_write(data, size);
    /* Sentinel: the loader must write a whole string over it. */
    memset(err, 'X', sizeof(err));
    rs = ruleset_load(fuzz_dir, err, sizeof(err));
    if (rs) {
        if (!ruleset_version(rs)[0])
            abort();
        ruleset_unref(rs);
        return 0;
    }
    if (!memchr(err, 0, sizeof(err))) {
        fprintf(stderr, "fuzz_rules: error not NUL-terminated\n");
        abort();
    }
    if (strncmp(err, fuzz_path, strlen(fuzz_path)) == 0 &&
        (err[strlen(fuzz_path)] == ':'))
        return 0;
    snprintf(dir_prefix, sizeof(dir_prefix), "%s: Hyperscan could not build", fuzz_dir);
    if (strncmp(err, dir_prefix, strlen(dir_prefix)) == 0)
        return 0;
    fprintf(stderr, "fuzz_rules: error does not name the file: %s\n", err);
    abort();
}
