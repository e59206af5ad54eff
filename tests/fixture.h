/* fixture.h - what the model tests share for reading PyTorch fixtures: tensors by name,
 * the random inputs and models of the fixture rule (tests/fixtures/README.md), and the
 * comparison of subsampled tensors. Include after test.h. */
#ifndef VG_TEST_FIXTURE_H
#define VG_TEST_FIXTURE_H

#include <stdint.h>

#include "core/rng.h"
#include "io/tensorfile.h"
#include "models/init.h"
#include "models/model.h"

/* The fixture tensor called name, which must hold n floats (else a failure and NULL). */
static inline const float *fixture(const vg_tensorfile *f, const char *name, size_t n) {
    const vg_tensor_entry *e = vg_tensorfile_find(f, name);
    size_t m = 1;
    for (int i = 0; e && i < e->ndim; i++) m *= (size_t)e->shape[i];
    if (!e || m != n) {
        fprintf(stderr, "FAIL fixture %s missing or of size %zu, expected %zu\n", name, m, n);
        test_failures++;
        return NULL;
    }
    return e->data;
}

/* n values U(lo, hi) named name (malloc'ed). */
static inline float *draw_range(uint64_t seed, const char *name, size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    vg_fill_uniform(x, n, vg_seed_for(seed, name), lo, hi);
    return x;
}

/* n inputs U(-1, 1) named name (malloc'ed). */
static inline float *draw(uint64_t seed, const char *name, size_t n) {
    return draw_range(seed, name, n, -1, 1);
}

/* A model of config cfg whose every tensor follows the fixture rule for seed. */
static inline vg_model *fixture_model_of(const vg_predictor_config *cfg, uint64_t seed) {
    vg_error e = {0};
    vg_param_table t;
    vg_model_table(cfg, &t);
    float *params = malloc(t.total * sizeof *params);
    for (int i = 0; i < t.n; i++)
        CHECK_OK(vg_init_fixture_param(t.p[i].name, t.p[i].ndim, t.p[i].shape, seed,
                                       params + t.p[i].offset, &e), &e);
    vg_fixture_weights *fw = NULL;
    CHECK_OK(vg_fixture_weights_create(seed, "encoder.", &fw, &e), &e);
    vg_weights w = vg_fixture_weights_source(fw);
    vg_model *m = NULL;
    CHECK_OK(vg_model_create_from(cfg, &w, params, 0, 2, &m, &e), &e);
    vg_fixture_weights_free(fw);
    free(params);
    return m;
}

/* The stored form of a fixture tensor: all of it, or every (n/512)-th element. */
static inline void compare_sampled(const vg_tensorfile *fix, const char *name, const float *got,
                            size_t n, double atol, double rtol) {
    size_t m = n > 4096 ? 512 : n, stride = n > 4096 ? n / 512 : 1;
    const float *want = fixture(fix, name, m);
    if (!want) return;
    float *s = malloc(m * sizeof *s);
    for (size_t i = 0; i < m; i++) s[i] = got[i * stride];
    check_close(name, s, want, m, atol, rtol);
    free(s);
}

#endif
