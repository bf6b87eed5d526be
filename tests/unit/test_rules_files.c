/*
 * test_rules_files: what the loader does with names in a rules directory
 * that are not plain files, or are too large: a FIFO, a device, a
 * directory, a file past RULES_FILE_MAX. Each must fail the load (and
 * rules_dir_version, which reads the same files) with the file's name and
 * the fix, never hang it or read without bound.
 *
 * A hang is the failure these tests guard against, so each arms an alarm
 * that ends the process with a message rather than leaving CTest to wait.
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

#include "base/base_file.h"
#include "rules/rules.h"

#define HANG_S 20

static void on_alarm(int sig)
{
    static const char msg[] = "test_rules_files: hung (a blocking open or an "
                              "endless read)\n";
    (void)sig;
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

static int arm(void **state)
{
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(HANG_S);
    return 0;
}

static int disarm(void **state)
{
    (void)state;
    alarm(0);
    return 0;
}

static const char *const RULES_OK =
    "{\"brands\": [{\"id\": \"comcast\", \"aliases\": [\"comcast\"]}],\n"
    " \"rules\": [{\"id\": \"hold\", \"tag\": \"wait_time\", \"any\": [\"on hold\"]}]}\n";

static void tmp_rules(char *dir, size_t size)
{
    char path[512];
    FILE *f;

    snprintf(dir, size, "/tmp/earshot-test-files-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.json", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(RULES_OK, f);
    fclose(f);
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

/* Both readers of the directory fail with exactly DIR/want. */
static void expect_refused(const char *dir, const char *want)
{
    char err[1024], full[1024], version[32];
    ruleset *rs;

    snprintf(full, sizeof(full), "%s/%s", dir, want);
    rs = ruleset_load(dir, err, sizeof(err));
    if (rs) {
        ruleset_unref(rs);
        fail_msg("%s loaded; expected: %s", dir, full);
    }
    assert_string_equal(err, full);
    assert_int_equal(rules_dir_version(dir, version, sizeof(version), err,
                                       sizeof(err)), -1);
    assert_string_equal(err, full);
}

static void test_fifo_refused(void **state)
{
    char dir[256], path[512];
    (void)state;
    tmp_rules(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/z.json", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    expect_refused(dir, "z.json: not a regular file (a FIFO); rule files must "
                        "be plain files");
    rm_tree(dir);
}

static void test_device_refused(void **state)
{
    char dir[256], path[512];
    (void)state;
    tmp_rules(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/z.json", dir);
    assert_int_equal(symlink("/dev/zero", path), 0);
    expect_refused(dir, "z.json: not a regular file (a device); rule files "
                        "must be plain files");
    rm_tree(dir);
}

static void test_directory_refused(void **state)
{
    char dir[256], path[512];
    (void)state;
    tmp_rules(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/z.json", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    expect_refused(dir, "z.json: not a regular file (a directory); rule files "
                        "must be plain files");
    rm_tree(dir);
}

/* A sparse file one byte past the limit: refused by its size, before a
 * byte is read (so the test costs no disk and no memory). */
static void test_oversized_refused(void **state)
{
    char dir[256], path[512], want[128];
    int fd;
    (void)state;
    tmp_rules(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/z.json", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)RULES_FILE_MAX + 1), 0);
    close(fd);
    snprintf(want, sizeof(want), "z.json: larger than %d MiB; split it",
             RULES_FILE_MAX_MIB);
    expect_refused(dir, want);

    /* Under the limit the same file is read (and fails later, as JSON). */
    assert_int_equal(truncate(path, 16), 0);
    char err[1024];
    ruleset *rs = ruleset_load(dir, err, sizeof(err));
    assert_null(rs);
    assert_null(strstr(err, "larger than"));
    rm_tree(dir);
}

/* A regular file whose size says nothing (st_size 0, as in /proc) or that
 * grows while read: the cap holds while reading, not only at fstat. */
static void test_read_cap_while_reading(void **state)
{
    struct stat st;
    char *buf = (char *)1;
    size_t len = 99;
    int fd = base_file_open("/proc/self/maps", &st);
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(base_file_read(fd, (long long)st.st_size, 64, &buf, &len), -2);
    assert_null(buf);
    assert_int_equal(len, 0);
    close(fd);

    /* Under the cap it reads to EOF, NUL-terminated. */
    fd = base_file_open("/proc/self/maps", &st);
    assert_true(fd >= 0);
    assert_int_equal(base_file_read(fd, 0, 1 << 20, &buf, &len), 0);
    assert_true(len > 64);
    assert_int_equal(strlen(buf), len);
    free(buf);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fifo_refused, arm, disarm),
        cmocka_unit_test_setup_teardown(test_device_refused, arm, disarm),
        cmocka_unit_test_setup_teardown(test_directory_refused, arm, disarm),
        cmocka_unit_test_setup_teardown(test_oversized_refused, arm, disarm),
        cmocka_unit_test_setup_teardown(test_read_cap_while_reading, arm, disarm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
