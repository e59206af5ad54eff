/* dropout.h - inverted dropout with masks drawn from the counter-based RNG.
 *
 * y = x * keep / (1 - p), keep = unit(seed, i) >= p for element i in NCHW order: the same
 * rule the PyTorch fixtures use, so training steps are reproducible bit for bit and
 * comparable with PyTorch. Runs on host NCHW buffers (the tensors it touches are small). */
#ifndef VG_DROPOUT_H
#define VG_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

/* y[i] = x[i] * keep[i] / (1 - p); keep drawn from seed. y may equal x. */
void vg_dropout_forward(float *y, const float *x, size_t n, float p, uint64_t seed);

/* dx[i] = dy[i] * keep[i] / (1 - p) with the same seed as forward. dx may equal dy. */
void vg_dropout_backward(float *dx, const float *dy, size_t n, float p, uint64_t seed);

#endif
