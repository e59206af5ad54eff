/* predictor.h - the thesis's predictive autoencoder after the encoder (§3.3, Fig. 3.2).
 *
 *   T stride-32 feature maps, time flattened into channels (B, T*C32, h, w)
 *   -> "merge" 1x1 conv -> 512
 *   -> 4 x "dec.i": ConvTranspose2d(k3, s2, p1, output_padding 1) + BatchNorm + ReLU,
 *      512 -> 256 -> 128 -> 64 -> 32
 *   -> "out": ConvTranspose2d(32 -> 3, same geometry), no activation: frame t, (B, 3, H, W)
 * Variants: dropout (0.2 on the merge output, 0.1 on dec.0's, training only); skiptwice
 * ("skip16"/"skip8": 1x1 convs of the time-flattened stride-16/8 maps added to dec.0's and
 * dec.1's outputs); attention ("att.j" after dec.0, dec.1, dec.2).
 *
 * Parameters live in one float array described by a table (params.h). The head is
 * planned for a batch size and a mode: training (batch statistics, backward) or inference
 * (BN folded into the transposed convolutions, ReLU fused; convbn.h). */
#ifndef VG_PREDICTOR_H
#define VG_PREDICTOR_H

#include <stdint.h>

#include "backend/backend.h"
#include "models/encoder.h"
#include "models/params.h"

typedef enum vg_variant {
    VG_VARIANT_BASE,
    VG_VARIANT_DROPOUT,
    VG_VARIANT_SKIPTWICE,
    VG_VARIANT_ATTENTION
} vg_variant;

const char *vg_variant_name(vg_variant v);
int vg_variant_parse(const char *name, vg_variant *out, vg_error *err);

#define VG_DECODER_BLOCKS 4
#define VG_DECODER_WIDTH 512

/* What a model is built with, whatever its kind (the U-Net of unet.h included). */
typedef struct vg_predictor_config {
    vg_encoder_kind encoder;
    vg_variant variant;
    int frames;        /* T */
    int step;          /* frames between the ones the model sees (vg_model_params.step) */
    int height, width; /* multiples of 32 */
} vg_predictor_config;

int vg_predictor_config_check(const vg_predictor_config *cfg, vg_error *err);

/* Frames a stream takes before its first prediction: the T inputs, step apart. */
static inline int vg_predictor_context(const vg_predictor_config *cfg) {
    return cfg->frames * cfg->step;
}

/* The predictor's parameter table (see params.h). */
void vg_predictor_params(const vg_predictor_config *cfg, vg_param_table *out);

/* ---- the head: merge + decoder -------------------------------------------------------- */

typedef struct vg_head vg_head;

int vg_head_create(vg_ctx *ctx, const vg_predictor_config *cfg, int batch, int train,
                   vg_head **out, vg_error *err);
void vg_head_free(vg_head *h);

/* The head's inputs, filled by the caller: stride-32 maps (B, T*C32, h, w) and for
 * skiptwice the stride-16 and stride-8 maps (NULL otherwise). Channel t*C + c holds
 * channel c of frame t (oldest first). */
vg_tensor *vg_head_input(vg_head *h, int stride);

/* Copies (training) or folds (inference) the parameters into the plan; call again after
 * they change. params is the whole array of vg_predictor_params. */
int vg_head_set_params(vg_head *h, const float *params, vg_error *err);

/* Forward pass. Training mode updates the BN running statistics in params and draws
 * dropout masks from (seed, step). Returns the prediction through vg_head_output. */
int vg_head_forward(vg_head *h, float *params, uint64_t seed, int64_t step, vg_error *err);
const vg_tensor *vg_head_output(const vg_head *h);

/* Backward pass from d loss / d prediction (host NCHW, (B, 3, H, W)); writes the gradient
 * of every trainable tensor into grads (same table as params; the statistics part is
 * left untouched). */
int vg_head_backward(vg_head *h, const float *params, const float *dpred, float *grads,
                     vg_error *err);

#endif
