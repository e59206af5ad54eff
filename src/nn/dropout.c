/* dropout.c - see dropout.h. Forward and backward are the same masked scaling. */
#include "nn/dropout.h"

#include "core/rng.h"

static void masked_scale(float *out, const float *in, size_t n, float p, uint64_t seed) {
    float scale = 1.f / (1.f - p);
    for (size_t i = 0; i < n; i++) out[i] = vg_rand_unit(seed, i) >= p ? in[i] * scale : 0.f;
}

void vg_dropout_forward(float *y, const float *x, size_t n, float p, uint64_t seed) {
    masked_scale(y, x, n, p, seed);
}

void vg_dropout_backward(float *dx, const float *dy, size_t n, float p, uint64_t seed) {
    masked_scale(dx, dy, n, p, seed);
}
