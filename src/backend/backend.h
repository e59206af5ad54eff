/* backend.h - the compute boundary: tensors and the network operations the models use.
 *
 * The models (src/models) and layers (src/nn) call only this header. The oneDNN engine in
 * src/backend/onednn/ implements it for CPUs; another engine (cuDNN) would implement the
 * same functions in its own folder, chosen at build time.
 *
 * Tensors are 4-D (N, C, H, W) in logical NCHW order; their physical layout is the
 * engine's business (oneDNN: blocked nChw16c inside the network). Host code sees plain
 * NCHW float32 through vg_tensor_read/write only.
 *
 * An operation is planned once for one input shape (primitives are created and cached
 * then) and owns its output and, when planned for training, its input gradient. Forward
 * reorders its input if it arrives in another layout. Backward uses the input of the last
 * forward, which must still be alive. Weight gradients are written (not accumulated): each
 * parameter of vigil's models is used once per step.
 *
 * Weights are passed in PyTorch's layout as plain float arrays; set_weights copies them
 * into the plan's layout and must be called again after they change.
 *
 * Thread safety: a context and everything made from it belong to one thread at a time. */
#ifndef VG_BACKEND_H
#define VG_BACKEND_H

#include <stddef.h>

#include "core/status.h"

typedef struct vg_ctx vg_ctx;
typedef struct vg_tensor vg_tensor;
typedef struct vg_conv vg_conv;
typedef struct vg_bn vg_bn;
typedef struct vg_act_op vg_act_op;
typedef struct vg_pool vg_pool;

typedef struct vg_shape {
    int n, c, h, w;
} vg_shape;

static inline size_t vg_shape_count(vg_shape s) {
    return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

typedef enum vg_act { VG_ACT_NONE, VG_ACT_RELU, VG_ACT_RELU6, VG_ACT_SIGMOID } vg_act;

/* ---- context ---------------------------------------------------------------------- */

/* An engine and stream using `threads` threads (0: the engine's default). */
int vg_ctx_create(int threads, vg_ctx **out, vg_error *err);
void vg_ctx_free(vg_ctx *ctx);

/* The number type of activations and weights inside operations planned after this call
 * (default float32). bf16 keeps float32 accumulation, biases, batch-norm statistics,
 * weight gradients and every host-side array: conversions happen in the reorders at the
 * edges. VG_ERR_UNSUPPORTED where the CPU has no bf16 dot product. */
typedef enum vg_precision { VG_PRECISION_FP32, VG_PRECISION_BF16 } vg_precision;
int vg_ctx_set_precision(vg_ctx *ctx, vg_precision p, vg_error *err);

/* ---- tensors ---------------------------------------------------------------------- */

/* A zero-filled tensor in plain NCHW layout. */
int vg_tensor_create(vg_ctx *ctx, vg_shape shape, vg_tensor **out, vg_error *err);
void vg_tensor_free(vg_tensor *t);
vg_shape vg_tensor_shape(const vg_tensor *t);

/* Copy from / to a host buffer of vg_shape_count(shape) floats in NCHW order. */
int vg_tensor_write(vg_tensor *t, const float *nchw, vg_error *err);
int vg_tensor_read(const vg_tensor *t, float *nchw, vg_error *err);

/* dst[dn+i, dc+j, :, :] = src[sn+i, sc+j, :, :] for i < n, j < c; layouts may differ,
 * spatial sizes must match. Used to stack T frames' features along channels. */
int vg_tensor_copy_region(vg_tensor *dst, int dn, int dc, const vg_tensor *src, int sn,
                          int sc, int n, int c, vg_error *err);

/* ---- convolution and transposed convolution ---------------------------------------- */

typedef struct vg_conv_params {
    int in_c, out_c;
    int kh, kw;
    int stride;
    int groups;           /* in_c for depthwise */
    int pad_t, pad_l;     /* top/left padding */
    int pad_b, pad_r;     /* bottom/right padding (TF "same" may differ from top/left) */
    int transposed;       /* ConvTranspose2d: pad_* are its padding, out_pad its output_padding */
    int out_pad;
    int has_bias;
    vg_act act;           /* fused activation; forward-only plans */
    int residual;         /* dst = act(conv(src) + residual) */
    int train;            /* also plan the backward pass */
} vg_conv_params;

/* A symmetric-padding convolution's params (PyTorch nn.Conv2d defaults otherwise). */
vg_conv_params vg_conv_default_params(int in_c, int out_c, int k, int stride, int pad);

/* Plans the operation for inputs of shape src. Weights: [out_c, in_c/groups, kh, kw], or
 * [in_c, out_c/groups, kh, kw] when transposed (PyTorch's layouts); bias [out_c]. */
int vg_conv_create(vg_ctx *ctx, const vg_conv_params *p, vg_shape src, vg_conv **out,
                   vg_error *err);
void vg_conv_free(vg_conv *op);
vg_shape vg_conv_dst_shape(const vg_conv *op);
int vg_conv_set_weights(vg_conv *op, const float *w, const float *b, vg_error *err);

/* dst = act(conv(src) [+ residual]); residual NULL unless planned with residual. */
int vg_conv_forward(vg_conv *op, const vg_tensor *src, const vg_tensor *residual,
                    vg_error *err);
vg_tensor *vg_conv_dst(vg_conv *op);

/* From diff_dst (w.r.t. dst before act: train plans have act NONE): dw and db (either may
 * be NULL to skip) and, when want_diff_src, the gradient w.r.t. src. */
int vg_conv_backward(vg_conv *op, const vg_tensor *diff_dst, float *dw, float *db,
                     int want_diff_src, vg_error *err);
vg_tensor *vg_conv_diff_src(vg_conv *op);

/* ---- batch normalisation (training mode) -------------------------------------------- */

/* Batch statistics in forward, running statistics updated as PyTorch does
 * (momentum, unbiased variance); optional fused ReLU. Inference folds BN into the
 * preceding convolution instead (see vg_fold_bn). */
int vg_bn_create(vg_ctx *ctx, vg_shape shape, float eps, float momentum, int relu,
                 vg_bn **out, vg_error *err);
void vg_bn_free(vg_bn *op);
int vg_bn_forward(vg_bn *op, const vg_tensor *src, const float *gamma, const float *beta,
                  float *running_mean, float *running_var, vg_error *err);
vg_tensor *vg_bn_dst(vg_bn *op);
int vg_bn_backward(vg_bn *op, const vg_tensor *diff_dst, const float *gamma,
                   const float *beta, float *dgamma, float *dbeta, vg_error *err);
vg_tensor *vg_bn_diff_src(vg_bn *op);

/* ---- activations -------------------------------------------------------------------- */

int vg_act_create(vg_ctx *ctx, vg_shape shape, vg_act act, int train, vg_act_op **out,
                  vg_error *err);
void vg_act_free(vg_act_op *op);
int vg_act_forward(vg_act_op *op, const vg_tensor *src, vg_error *err);
vg_tensor *vg_act_dst(vg_act_op *op);
int vg_act_backward(vg_act_op *op, const vg_tensor *diff_dst, vg_error *err);
vg_tensor *vg_act_diff_src(vg_act_op *op);

/* ---- max pooling ----------------------------------------------------------------------- */

/* train: also plan the backward pass (forward then records where each maximum was). */
int vg_pool_create(vg_ctx *ctx, vg_shape src, int k, int stride, int pad, int train,
                   vg_pool **out, vg_error *err);
void vg_pool_free(vg_pool *op);
vg_shape vg_pool_dst_shape(const vg_pool *op);
int vg_pool_forward(vg_pool *op, const vg_tensor *src, vg_error *err);
vg_tensor *vg_pool_dst(vg_pool *op);

/* The gradient w.r.t. src of the last forward, from diff_dst, plus also when not NULL:
 * the gradient src receives from its other consumers (a U-Net's skip connection), so
 * the sum needs no separate pass. */
int vg_pool_backward(vg_pool *op, const vg_tensor *diff_dst, const vg_tensor *also,
                     vg_error *err);
vg_tensor *vg_pool_diff_src(vg_pool *op);

#endif
