/*
 * dryrun: would-be outputs of a dry run. See dryrun.h.
 */
#include "pipeline/dryrun.h"
#include "base/base_buf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dryrun_brand {
    char *id;
    uint64_t complaints;
} dryrun_brand;

struct dryrun {
    atomic_ullong routes[3];
    pthread_mutex_t lock;
    dryrun_brand *brands; /* guarded by lock */
    size_t n, cap;
};

dryrun *dryrun_new(void)
{
    dryrun *d = calloc(1, sizeof(*d));

    if (d)
        pthread_mutex_init(&d->lock, NULL);
    return d;
}

void dryrun_free(dryrun *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->brands[i].id);
    free(d->brands);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static int dryrun_count_brand(dryrun *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++) {
        if (!strcmp(d->brands[i].id, id)) {
            d->brands[i].complaints++;
            return 0;
        }
    }
    if (d->n == d->cap) {
        dryrun_brand *grown = base_grow(d->brands, &d->cap, sizeof(*grown), 32);
        if (!grown)
            return -1;
        d->brands = grown;
    }
    if (!(d->brands[d->n].id = strdup(id)))
        return -1;
    d->brands[d->n++].complaints = 1;
    return 0;
}

int dryrun_post(dryrun *d, bool enriched, bool ticket, bool complaint,
                const char *const *brand_ids, size_t n_brands)
{
    int rc = 0;

    if (enriched)
        atomic_fetch_add(&d->routes[0], 1);
    if (enriched && ticket)
        atomic_fetch_add(&d->routes[1], 1);
    if (!complaint || !n_brands)
        return 0;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < n_brands; i++)
        if (dryrun_count_brand(d, brand_ids[i]))
            rc = -1;
    pthread_mutex_unlock(&d->lock);
    return rc;
}

void dryrun_reject(dryrun *d)
{
    atomic_fetch_add(&d->routes[2], 1);
}

void dryrun_counts(dryrun *d, uint64_t out[3])
{
    for (int i = 0; i < 3; i++)
        out[i] = atomic_load(&d->routes[i]);
}

static int dryrun_cmp(const void *a, const void *b)
{
    const dryrun_brand *x = a, *y = b;

    if (x->complaints != y->complaints)
        return x->complaints > y->complaints ? -1 : 1;
    return strcmp(x->id, y->id);
}

void dryrun_top_complaints(dryrun *d, size_t n, char *buf, size_t size)
{
    size_t len = 0;

    snprintf(buf, size, "none");
    pthread_mutex_lock(&d->lock);
    /* Sorting the table in place is fine: lookups are linear anyway. */
    if (d->n)
        qsort(d->brands, d->n, sizeof(*d->brands), dryrun_cmp);
    for (size_t i = 0; i < d->n && i < n && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s %llu", i ? ", " : "", d->brands[i].id,
                         (unsigned long long)d->brands[i].complaints);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    pthread_mutex_unlock(&d->lock);
}
