/* adam.c - torch.optim.Adam (PyTorch 1.13, _single_tensor_adam) over flat float arrays.
 *
 * PyTorch evaluates the scalar factors in double (Python floats) and hands them to its
 * float32 kernels, which round them to float: the same here. Per element, in its order:
 *   exp_avg.mul_(b1).add_(g, alpha=1-b1)          m = m*b1 + (1-b1)*g
 *   exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2) v = v*b2 + ((1-b2)*g)*g
 *   denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
 *   param.addcdiv_(exp_avg, denom, value=-step_size)  p = p + (-step_size*m)/denom
 * (PyTorch's AVX kernels fuse some multiply-adds, so the two agree to an ulp or so, not
 * bit for bit.) */
#include "nn/adam.h"

#include <math.h>

vg_adam_params vg_adam_default_params(void) {
    vg_adam_params hp = {.lr = 3e-4, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    return hp;
}

int vg_adam_step(float *params, float *m, float *v, const float *grads, size_t n,
                 vg_adam_params hp, int t, vg_error *err) {
    if (t < 1)
        return vg_fail(err, VG_ERR_ARG, "adam: step %d, steps count from 1", t);
    if (!(hp.lr >= 0) || !(hp.beta1 >= 0 && hp.beta1 < 1) || !(hp.beta2 >= 0 && hp.beta2 < 1) ||
        !(hp.eps > 0))
        return vg_fail(err, VG_ERR_ARG, "adam: lr %g, betas (%g, %g), eps %g out of range",
                       hp.lr, hp.beta1, hp.beta2, hp.eps);
    double bc1 = 1 - pow(hp.beta1, t), bc2 = 1 - pow(hp.beta2, t);
    float b1 = (float)hp.beta1, a1 = (float)(1 - hp.beta1);
    float b2 = (float)hp.beta2, a2 = (float)(1 - hp.beta2);
    float neg_step = (float)-(hp.lr / bc1), bc2_sqrt = (float)sqrt(bc2), eps = (float)hp.eps;
#pragma omp parallel for schedule(static) if (n >= 65536) /* small arrays: no thread start */
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        float mi = m[i] * b1 + a1 * g;
        float vi = v[i] * b2 + a2 * g * g;
        m[i] = mi;
        v[i] = vi;
        /* sqrtf keeps this loop scalar (its errno path) unless built with -fno-math-errno;
         * it is memory-bound anyway: 5M parameters take ~7 ms on 2 threads. */
        params[i] += neg_step * mi / (sqrtf(vi) / bc2_sqrt + eps);
    }
    return VG_OK;
}
