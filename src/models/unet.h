/* unet.h - the model that needs no pretrained weights (encoder "unet"): a compact U-Net
 * trained from scratch that predicts frame T from the T frames before it, stacked along
 * channels - the generator of Future Frame Prediction (Liu et al., CVPR 2018), narrowed
 * for CPUs.
 *
 *   frames (B, T, 3, H, W), read as (B, 3T, H, W), normalised to [-1, 1] (mean = std = 0.5)
 *   enc.0: [conv3x3 + BN + ReLU] x 2, 3T -> 32         full size; its output is skip 0
 *   max-pool 2x2, enc.1: 32 -> 64 (skip 1); max-pool, enc.2: 64 -> 128 (skip 2);
 *   max-pool, enc.3: 128 -> 256                         H/8 x W/8, the bottleneck
 *   for l = 2, 1, 0, with C = 32 << l:
 *     up.l:  ConvTranspose2d(k3, s2, p1, output_padding 1) + BN + ReLU, 2C -> C
 *     dec.l: [conv3x3 + BN + ReLU] x 2 over cat(skip l, up.l), 2C -> C -> C
 *   out: conv1x1 32 -> 3, no activation: frame T, (B, 3, H, W), in the frames' space
 *
 * Every conv + BN + ReLU is a vg_convbn (convbn.h); convolutions followed by batch norm
 * have no bias, which BN would cancel. Down-sampling is max pooling, as in FFP: no
 * parameters and no multiply-adds, where a stride-2 convolution would add both. Parameter
 * names are the PyTorch module's (UNet in tests/fixtures/torch_models.py):
 * "enc.L.J.conv.weight", "enc.L.J.bn.*", "up.L.conv.weight", "dec.L.J.conv.weight",
 * "out.weight", "out.bias". Planned, like the predictor head, for a batch size and a mode:
 * training (batch statistics, backward) or inference (BN folded, ReLU fused). */
#ifndef VG_UNET_H
#define VG_UNET_H

#include "backend/backend.h"
#include "models/params.h"
#include "models/predictor.h"

#define VG_UNET_WIDTH 32 /* channels at full size, doubled at each level below */
#define VG_UNET_LEVELS 3 /* 2x2 poolings: H and W must be multiples of 8 (vigil asks 32) */

/* The U-Net's parameter table for cfg (cfg->frames sets the input channels). */
void vg_unet_params(const vg_predictor_config *cfg, vg_param_table *out);

/* Multiply-adds of one sequence's forward pass; *first gets the first convolution's
 * share (its input, the frames, needs no gradient). */
double vg_unet_macs(const vg_predictor_config *cfg, double *first);

typedef struct vg_unet vg_unet;

/* cfg->encoder must be VG_ENCODER_UNET. Training needs batch >= 2 (batch norm). */
int vg_unet_create(vg_ctx *ctx, const vg_predictor_config *cfg, int batch, int train,
                   vg_unet **out, vg_error *err);
void vg_unet_free(vg_unet *u); /* accepts NULL */

/* The input, filled by the caller: (B, 3T, H, W), channel 3t + c is channel c of frame t
 * (oldest first). */
vg_tensor *vg_unet_input(vg_unet *u);

/* Copies (training) or folds (inference) the parameters into the plan; call again after
 * they change. params is the whole array of vg_unet_params. */
int vg_unet_set_params(vg_unet *u, const float *params, vg_error *err);

/* Forward pass; training mode updates the BN running statistics in params. */
int vg_unet_forward(vg_unet *u, float *params, vg_error *err);
const vg_tensor *vg_unet_output(const vg_unet *u); /* (B, 3, H, W) */

/* Backward pass from d loss / d prediction (host NCHW, (B, 3, H, W)); writes the gradient
 * of every trainable tensor into grads (laid out as params). */
int vg_unet_backward(vg_unet *u, const float *params, const float *dpred, float *grads,
                     vg_error *err);

#endif
