/* adam.h - the Adam optimiser over one flat parameter array.
 *
 * The semantics of torch.optim.Adam in PyTorch 1.13 (single-tensor path, no weight decay,
 * no amsgrad), with its float32 operation order so results agree to float rounding:
 *   m = b1 m + (1 - b1) g                 v = b2 v + (1 - b2) g g
 *   step_size = lr / (1 - b1^t)           denom = sqrt(v) / sqrt(1 - b2^t) + eps
 *   p -= step_size * m / denom
 * Parameters, gradients and both moments each live in one allocation, so a whole model
 * steps in one call (moments start as zeros: a memset). Reentrant; runs on OpenMP threads. */
#ifndef VG_ADAM_H
#define VG_ADAM_H

#include <stddef.h>

#include "core/status.h"

/* Hyper-parameters, in double like PyTorch's Python floats. */
typedef struct vg_adam_params {
    double lr;    /* 3e-4 */
    double beta1; /* 0.9 */
    double beta2; /* 0.999 */
    double eps;   /* 1e-8 */
} vg_adam_params;

vg_adam_params vg_adam_default_params(void);

/* One Adam step t (1-based: the first step is t = 1) of n parameters, in place.
 *   params, m, v, grads  (n)
 * Fails with VG_ERR_ARG when t < 1 or a hyper-parameter is out of range
 * (lr < 0, betas outside [0, 1), eps <= 0). */
int vg_adam_step(float *params, float *m, float *v, const float *grads, size_t n,
                 vg_adam_params hp, int t, vg_error *err);

#endif
