/* init.c - the fixture rule for random parameters (see init.h). */
#include "models/init.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* The part of name after its last dot (the whole name when it has none). */
static const char *last_part(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

/* The range [lo, hi] of the tensor, or 0 when no rule covers it. Same decision order as
 * draw() in tests/fixtures/torch_models.py: running stats by name, then any ndim >= 2
 * tensor is a weight, then 1-D biases and BN weights. */
static int fixture_range(const char *name, int ndim, const int64_t *shape, float *lo,
                         float *hi) {
    const char *last = last_part(name);
    if (strcmp(last, "running_mean") == 0 || strcmp(last, "running_var") == 0) {
        int var = strcmp(last, "running_var") == 0;
        *lo = var ? 0.5f : -0.1f;
        *hi = var ? 1.5f : 0.1f;
        return 1;
    }
    if (ndim >= 2) {
        int64_t fan_in = shape[1];
        for (int d = 2; d < ndim; d++) fan_in *= shape[d];
        if (fan_in <= 0) return 0;
        *hi = (float)sqrt(3.0 / (double)fan_in); /* rounded to float32 from double */
        *lo = -*hi;
        return 1;
    }
    if (ndim == 1 && strcmp(last, "bias") == 0) {
        *lo = -0.1f;
        *hi = 0.1f;
        return 1;
    }
    if (ndim == 1 && strcmp(last, "weight") == 0) { /* the only 1-D weights are BN's */
        *lo = 0.5f;
        *hi = 1.5f;
        return 1;
    }
    return 0;
}

int vg_init_fixture_param(const char *name, int ndim, const int64_t *shape, uint64_t seed,
                          float *out, vg_error *err) {
    float lo, hi;
    if (!fixture_range(name, ndim, shape, &lo, &hi))
        return vg_fail(err, VG_ERR_ARG, "no fixture rule for %d-D tensor '%s'", ndim, name);
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    vg_fill_uniform(out, n, vg_seed_for(seed, name), lo, hi);
    return VG_OK;
}

/* Every tensor handed out lives in its own block until the source is freed, because a
 * caller may hold several at once (a conv weight and its four BN tensors). */
typedef struct block {
    struct block *next;
    float data[];
} block;

#define PREFIX_MAX 128

struct vg_fixture_weights {
    uint64_t seed;
    char prefix[PREFIX_MAX];
    block *blocks;
};

int vg_fixture_weights_create(uint64_t seed, const char *prefix, vg_fixture_weights **out,
                              vg_error *err) {
    *out = NULL;
    if (strlen(prefix) >= PREFIX_MAX)
        return vg_fail(err, VG_ERR_ARG, "fixture weights: prefix '%s' is too long", prefix);
    vg_fixture_weights *fw = calloc(1, sizeof *fw);
    if (!fw) return vg_fail(err, VG_ERR_NOMEM, "fixture weights: out of memory");
    fw->seed = seed;
    strcpy(fw->prefix, prefix);
    *out = fw;
    return VG_OK;
}

static const float *fixture_get(void *user, const char *name, int ndim, const int64_t *shape,
                                vg_error *err) {
    vg_fixture_weights *fw = user;
    char full[512];
    int len = snprintf(full, sizeof full, "%s%s", fw->prefix, name);
    if (len < 0 || (size_t)len >= sizeof full) {
        vg_fail(err, VG_ERR_ARG, "fixture weights: name '%s' is too long", name);
        return NULL;
    }
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    block *b = malloc(sizeof *b + n * sizeof(float));
    if (!b) {
        vg_fail(err, VG_ERR_NOMEM, "fixture weights: out of memory for '%s'", full);
        return NULL;
    }
    if (vg_init_fixture_param(full, ndim, shape, fw->seed, b->data, err) != VG_OK) {
        free(b);
        return NULL;
    }
    b->next = fw->blocks;
    fw->blocks = b;
    return b->data;
}

vg_weights vg_fixture_weights_source(vg_fixture_weights *fw) {
    return (vg_weights){.get = fixture_get, .user = fw};
}

void vg_fixture_weights_free(vg_fixture_weights *fw) {
    if (!fw) return;
    while (fw->blocks) {
        block *next = fw->blocks->next;
        free(fw->blocks);
        fw->blocks = next;
    }
    free(fw);
}
