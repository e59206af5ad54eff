/* loss.h - the training loss (tests/fixtures/torch_loss.py is its specification).
 *
 *   total = 0.6 * MSE + 0.25 * GRAD + 0.15 * (1 - SSIM)
 *
 * pred and target are (B, 3, H, W) NCHW float32 in the encoder's normalised space; every
 * term is computed on x01 = x * scale[c] + shift[c] (pixel space, data range 1), so the
 * loss does not depend on the encoder's normalisation.
 *   MSE  mean of (p - t)^2
 *   GRAD mean |dx p - dx t| + mean |dy p - dy t| (forward differences, each its own mean)
 *   SSIM mean of the SSIM map: 11x11 Gaussian window (sigma 1.5), 'valid', per channel,
 *        C1 = 0.01^2, C2 = 0.03^2.
 *
 * Usage:
 *   size_t n = vg_loss_scratch_size(B, W, 0);          // once, outside the training loop
 *   void *scratch = malloc(n);
 *   vg_loss_forward_backward(dpred, &terms, pred, target, scale, shift, B, H, W,
 *                            scratch, n, &err);        // every step, allocation-free
 *
 * Thread safety: reentrant; one scratch buffer per concurrent call. Runs on OpenMP threads
 * (one image channel per task), at most as many as the scratch was sized for (about 106 KB
 * a thread at W = 224). The result does not depend on the number of threads. */
#ifndef VG_LOSS_H
#define VG_LOSS_H

#include <stddef.h>

#include "core/status.h"

#define VG_LOSS_W_MSE 0.6
#define VG_LOSS_W_GRAD 0.25
#define VG_LOSS_W_SSIM 0.15

#define VG_SSIM_WIN 11      /* window side; the SSIM map is (H - 10) x (W - 10) */
#define VG_SSIM_SIGMA 1.5
#define VG_SSIM_C1 1e-4f    /* (0.01 * data range 1)^2 */
#define VG_SSIM_C2 9e-4f    /* (0.03 * data range 1)^2 */

/* The loss and its three terms (ssim is the mean SSIM, not 1 - SSIM). */
typedef struct vg_loss_terms {
    float total, mse, grad, ssim;
} vg_loss_terms;

/* The normalised 1-D Gaussian of the SSIM window (the 2-D window is its outer product),
 * computed in double and rounded: within an ulp of torch_loss.gaussian_window(). */
void vg_ssim_window(float g[VG_SSIM_WIN]);

/* Bytes of scratch vg_loss_forward_backward needs for a batch of B images of width W when
 * run on up to nthreads threads (nthreads <= 0: omp_get_max_threads()). */
size_t vg_loss_scratch_size(int B, int W, int nthreads);

/* Computes the loss terms into *out and, when dpred is not NULL, dpred = d total / d pred
 * (normalised space: the pixel-space gradient times scale[c]). dpred is overwritten, not
 * accumulated: the loss is where backward starts.
 *   dpred  (B, 3, H, W) or NULL      pred, target  (B, 3, H, W)
 *   scale, shift  (3)                scratch  scratch_size bytes (vg_loss_scratch_size)
 * Fails with VG_ERR_ARG when B < 1, H or W < 11, or the scratch is too small for one
 * thread; uses min(omp_get_max_threads(), threads the scratch holds) threads. */
int vg_loss_forward_backward(float *dpred, vg_loss_terms *out, const float *pred,
                             const float *target, const float scale[3], const float shift[3],
                             int B, int H, int W, void *scratch, size_t scratch_size,
                             vg_error *err);

#endif
