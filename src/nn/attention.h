/* attention.h - spatial attention (thesis §3.3.1, CBAM's spatial half):
 *   s = [mean over channels, max over channels]  (N, 2, H, W)
 *   a = sigmoid(conv7x7(s))                       (N, 1, H, W), 2->1 channels, pad 3, no bias
 *   y = x * a                                     broadcast over channels
 * The channel reductions and the product run on host NCHW buffers; the 7x7 convolution
 * on the backend. Weight [1, 2, 7, 7]. */
#ifndef VG_ATTENTION_H
#define VG_ATTENTION_H

#include "backend/backend.h"

typedef struct vg_attention vg_attention;

int vg_attention_create(vg_ctx *ctx, vg_shape shape, int train, vg_attention **out,
                        vg_error *err);
void vg_attention_free(vg_attention *op);
int vg_attention_set_weights(vg_attention *op, const float *w, vg_error *err);

int vg_attention_forward(vg_attention *op, const vg_tensor *x, vg_error *err);
vg_tensor *vg_attention_dst(vg_attention *op);

/* dw [1,2,7,7] written; dx of the last forward's input. */
int vg_attention_backward(vg_attention *op, const vg_tensor *dy, float *dw, vg_error *err);
vg_tensor *vg_attention_diff_src(vg_attention *op);

#endif
