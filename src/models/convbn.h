/* convbn.h - convolution + batch norm + ReLU, the unit the trainable networks are built of
 * (the predictor's dec.i blocks, every stage of the U-Net).
 *
 * Its tensors in a parameter table: PREFIX.CONV.weight (PyTorch's layout), PREFIX.CONV.bias
 * when it has one, PREFIX.bn.{weight, bias, running_mean, running_var}. A training plan
 * runs the convolution, then batch norm on batch statistics (updating the running ones)
 * with fused ReLU; an inference plan folds batch norm into the convolution and fuses the
 * ReLU, one primitive.
 *
 * Two inputs: a convolution over the channel concatenation [a, b] is the convolution of a
 * with the weight's first input channels plus that of b with the rest. So a U-Net's skip
 * connection runs as two convolutions, the second adding the first's output (a fused
 * residual): forward makes no concatenated copy, and backward gives each input its
 * gradient directly instead of one to be cut apart. */
#ifndef VG_CONVBN_H
#define VG_CONVBN_H

#include "backend/backend.h"
#include "models/params.h"

typedef struct vg_convbn {
    vg_conv_params p;   /* geometry of the whole convolution, as in PyTorch */
    vg_conv *conv[2];   /* conv[1]: the second input's part, when there is one */
    vg_bn *bn;          /* training only */
    int in_c[2];        /* input channels of each part */
    const vg_param *w, *b, *gamma, *beta, *mean, *var; /* b NULL: no bias */
} vg_convbn;

/* VG_ERR_ARG unless batch suits a network of units: at least 1, and at least 2 for
 * training, where batch norm normalises over the batch. */
int vg_convbn_check_batch(int batch, int train, vg_error *err);

/* Adds the unit's trainable tensors (convolution weight and bias as geometry p says, BN
 * weight and bias) or, with stats, its BN running statistics to t. */
void vg_convbn_add_params(vg_param_table *t, const char *prefix, const char *conv,
                          const vg_conv_params *p, int stats);

/* Plans u for inputs of shape src (the channels of both inputs together) with geometry p
 * (channels, kernel, stride, padding, transposed, has_bias; the rest is set here). b_c > 0
 * splits the input: its last b_c channels come as a second tensor (plain convolutions
 * only). u keeps pointers into t, which must outlive it. */
int vg_convbn_create(vg_ctx *ctx, const vg_param_table *t, const char *prefix,
                     const char *conv, const vg_conv_params *p, vg_shape src, int b_c,
                     int train, vg_convbn *u, vg_error *err);
void vg_convbn_free(vg_convbn *u); /* frees what create made; accepts a zeroed record */

/* Copies (training) or folds (inference) the unit's tensors from params into the plan;
 * call again after they change. */
int vg_convbn_set_params(vg_convbn *u, const float *params, vg_error *err);

/* Forward from a (and b, the second input, NULL for one). Training updates the running
 * statistics in params. */
int vg_convbn_forward(vg_convbn *u, const vg_tensor *a, const vg_tensor *b, float *params,
                      vg_error *err);
const vg_tensor *vg_convbn_dst(const vg_convbn *u);

/* Backward from the gradient of the output: writes the unit's trainable gradients into
 * grads (laid out as params) and, when want_dx, the gradients of its inputs. */
int vg_convbn_backward(vg_convbn *u, const vg_tensor *diff_dst, const float *params,
                       float *grads, int want_dx, vg_error *err);
vg_tensor *vg_convbn_diff_src(const vg_convbn *u, int input); /* 0: a, 1: b */

/* A plain convolution (no batch norm) whose tensors are PREFIX.weight and PREFIX.bias (when
 * t has it): set from params, and backward with the gradients written into grads. */
int vg_table_conv_set(vg_conv *c, const vg_param_table *t, const float *params,
                      const char *prefix, vg_error *err);
int vg_table_conv_backward(vg_conv *c, const vg_param_table *t, const vg_tensor *diff_dst,
                           float *grads, const char *prefix, int want_dx, vg_error *err);

#endif
