/*
 * metrics_process: the process_* families of the Prometheus client
 * libraries (their names, units and sources), read from /proc/self on each
 * scrape so that a dashboard built for any exporter works on earshot.
 *
 *   process_cpu_seconds_total      /proc/self/stat utime + stime, in ticks
 *   process_resident_memory_bytes  /proc/self/stat rss x page size
 *   process_virtual_memory_bytes   /proc/self/stat vsize
 *   process_start_time_seconds     /proc/stat btime + starttime / ticks
 *   process_open_fds               entries of /proc/self/fd
 *   process_max_fds                the soft RLIMIT_NOFILE
 *
 * Cost: a few small reads and one directory listing per scrape (the open
 * fds are few); never on the hot path. Linux only; elsewhere the figures
 * are NAN and not rendered.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ops/metrics_internal.h"

/* Fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * /proc/self/stat, counted after the command name, which may hold spaces
 * and parentheses: scan from the last ')'. */
static int read_stat(double *utime, double *stime, double *start, double *vsize,
                     double *rss)
{
    char buf[2048], *p;
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n;
    unsigned long long v[24];

    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))
        return -1;
    p++;
    /* after ')': field 3 (state) is a letter, then fields 4.. are numbers */
    while (*p == ' ')
        p++;
    if (!*p)
        return -1;
    p++;
    for (int i = 4; i <= 24; i++) {
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p)
            return -1;
        v[i - 1] = (unsigned long long)(x < 0 ? 0 : x);
        p = end;
    }
    *utime = (double)v[13];
    *stime = (double)v[14];
    *start = (double)v[21];
    *vsize = (double)v[22];
    *rss = (double)v[23];
    return 0;
}

static double boot_time(void)
{
    char line[256];
    double bt = NAN;
    FILE *f = fopen("/proc/stat", "r");

    if (!f)
        return NAN;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "btime ", 6)) {
            bt = strtod(line + 6, NULL);
            break;
        }
    }
    fclose(f);
    return bt;
}

static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;

    if (!d)
        return NAN;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the listing's own descriptor */
}

void metrics_process_read(metrics_process *out)
{
    double ut, st, start, vsize, rss;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;

    out->cpu_seconds = out->resident_bytes = out->virtual_bytes = NAN;
    out->start_time = NAN;
    if (ticks > 0 && page > 0 && read_stat(&ut, &st, &start, &vsize, &rss) == 0) {
        out->cpu_seconds = (ut + st) / (double)ticks;
        out->resident_bytes = rss * (double)page;
        out->virtual_bytes = vsize;
        out->start_time = boot_time() + start / (double)ticks;
    }
    out->open_fds = open_fds();
    out->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                       ? (double)rl.rlim_cur : NAN;
}
