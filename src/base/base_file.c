/*
 * base_file: reading a file an operator names (a rule file, a config file,
 * a cache entry) without hanging or growing without bound: opened
 * non-blocking (a FIFO would otherwise wait for a writer forever), refused
 * unless it is a regular file, and read up to a caller's limit checked by
 * its size and again while reading (a file can grow; /proc reports 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base_file.h"

int base_file_open(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return -2;
    }
    return fd;
}

const char *base_file_kind(unsigned mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a plain file";
}

int base_file_read(int fd, long long size_hint, size_t max, char **buf,
                    size_t *len)
{
    /* One byte past the stat size, so the read that sees EOF needs no
     * growth; files in /proc report 0 and grow by doubling. */
    size_t cap = size_hint > 0 ? (size_t)size_hint + 1 : 65536, n = 0;
    char *b;

    *buf = NULL;
    *len = 0;
    if (size_hint > 0 && (unsigned long long)size_hint > max)
        return -2;
    if (cap > max + 1)
        cap = max + 1;
    if (!(b = malloc(cap + 1)))
        goto oom;
    for (;;) {
        ssize_t got;
        if (n == cap) {
            /* Full at max + 1 bytes: more than max, whatever follows. */
            if (n > max) {
                free(b);
                return -2;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(b, ncap + 1);
            if (!nb)
                goto oom;
            b = nb;
            cap = ncap;
        }
        got = read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(b);
            errno = e;
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        free(b);
        return -2;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
oom:
    free(b);
    errno = ENOMEM;
    return -1;
}
