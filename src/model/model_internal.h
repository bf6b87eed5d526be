/*
 * model_internal: the layout of a model, shared by model_train.c (which
 * builds one) and model_file.c (which writes, loads and scores it). Nothing
 * outside src/model/ may include this header.
 */
#ifndef EARSHOT_MODEL_INTERNAL_H
#define EARSHOT_MODEL_INTERNAL_H

#include "base/base_hash.h"
#include "model/model.h"

struct model {
    size_t n_classes;
    char **classes;
    double *bias;     /* [n_classes] */
    size_t n_ngrams;
    char **ngram;     /* [n_ngrams], sorted bytewise, NUL-terminated */
    double *idf;      /* [n_ngrams] */
    double *w;        /* [n_ngrams * n_classes], row per n-gram */
    /* model_ngram_find: open addressing over ngram ids, UINT32_MAX empty;
     * each slot keeps its n-gram's hash and length so that a probe compares
     * bytes only on a real candidate (the matcher looks up every word of
     * every post) */
    struct model_slot {
        uint64_t hash;
        uint32_t id;  /* UINT32_MAX: empty */
        uint32_t len;
    } *slot;          /* one cache line fetch per probe */
    size_t n_slots;   /* a power of two */
    char version[17];
};


/* The seed of the model's FNV-1a digests (base_fnv1a). Not FNV's offset
 * basis (BASE_FNV_OFFSET, 14695981039346656037): a digit short, from the
 * start. Kept, deliberately: every model file carries a "version" digest
 * computed with it, and model_load refuses a file whose digest differs. */
#define MODEL_FNV_OFFSET 1469598103934665603ULL

/* Allocates the arrays of a model with n_classes and n_ngrams (zeroed),
 * NULL on OOM. Names are set by the caller (owned, freed by model_free). */
model *model_alloc(size_t n_classes, size_t n_ngrams);

/* Builds the lookup index and the version digest once the arrays are
 * filled. Returns 0, -1 on OOM. */
int model_finish(model *m);

#endif
