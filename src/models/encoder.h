/* encoder.h - the frozen image encoders (ResNet-18, MobileNetV2), forward only.
 *
 * An encoder is planned once for one input shape (N, 3, H, W; H and W multiples of 32)
 * and maps normalised frames to feature maps at strides 8, 16 and 32, the taps the
 * predictor uses (SYSTEM.md "The model"). Parameters are found by name through a
 * vg_weights source: torchvision's names for ResNet-18, the names of
 * ../shared/models/README.md for MobileNetV2. So one loader serves torchvision's .pth,
 * safetensors, vigil model files (prefix "encoder.") and the random weights of the tests.
 * Batch norm is folded into its convolution at create; the encoder never trains.
 *
 *   vg_tensorfile *tf;  vg_encoder *enc;
 *   vg_tensorfile_open("resnet18-f37072fd.pth", &tf, &err);
 *   vg_file_weights fw = {tf, ""};
 *   vg_weights w = vg_weights_from_file(&fw);
 *   vg_encoder_create(ctx, VG_ENCODER_RESNET18, &w, (vg_shape){1, 3, 224, 224}, &enc, &err);
 *   vg_tensorfile_close(tf);                          // create copied what it needed
 *   vg_encoder_forward(enc, frames, &err);            // frames: x_norm = (x01 - mean) / std
 *   const vg_tensor *f32 = vg_encoder_tap(enc, 32);   // (1, 512, 7, 7)
 *
 * Thread safety: an encoder belongs to the thread that owns its vg_ctx. */
#ifndef VG_ENCODER_H
#define VG_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "io/tensorfile.h"

/* The kinds of model, named by their frozen encoder. VG_ENCODER_UNET has none: the U-Net
 * (unet.h) predicts from the frames themselves, so there is nothing to load or plan, and
 * its info only gives the name and the input normalisation. */
typedef enum vg_encoder_kind {
    VG_ENCODER_RESNET18,
    VG_ENCODER_MOBILENET_V2,
    VG_ENCODER_UNET
} vg_encoder_kind;

/* Where an encoder finds its parameters: get returns the float32 tensor called name with
 * exactly the given shape (row-major), or NULL with err saying what is missing or wrong.
 * Returned data must stay valid until the call that asked for it (create) returns. */
typedef struct vg_weights {
    const float *(*get)(void *user, const char *name, int ndim, const int64_t *shape,
                        vg_error *err);
    void *user;
} vg_weights;

/* A weights source reading an open tensor file, with prefix prepended to every name
 * ("" for torchvision's files, "encoder." inside vigil model files). Both must outlive
 * the vg_weights made from it. */
typedef struct vg_file_weights {
    const vg_tensorfile *file;
    const char *prefix;
} vg_file_weights;

vg_weights vg_weights_from_file(vg_file_weights *fw);

/* What the rest of vigil needs to know about an encoder kind. */
typedef struct vg_encoder_info {
    const char *name;          /* "resnet18", "mobilenet_v2": also the model-file tag */
    int c8, c16, c32;          /* channels of the stride-8/16/32 taps */
    float mean[3], std[3];     /* input normalisation: x_norm = (x01 - mean) / std */
} vg_encoder_info;

/* Info of kind; name is NULL for an unknown kind. */
vg_encoder_info vg_encoder_describe(vg_encoder_kind kind);

/* The kind whose info name is name; VG_ERR_ARG when there is none. */
int vg_encoder_kind_parse(const char *name, vg_encoder_kind *out, vg_error *err);

/* The parameter list, in a fixed order: for random initialisation in tests and for copying
 * an encoder into a model file. Names are static strings (without prefix); shapes are
 * PyTorch's, ndim 1 or 4. BN tensors (ResNet-18) are listed, folded only at create. */
int vg_encoder_param_count(vg_encoder_kind kind);
int vg_encoder_param(vg_encoder_kind kind, int i, const char **name, int *ndim,
                     int64_t shape[4]); /* VG_ERR_ARG when i or kind is out of range */

typedef struct vg_encoder vg_encoder;

/* Plans kind for inputs of shape input (N, 3, H, W; H, W positive multiples of 32) and
 * loads its parameters from w. *out is NULL on failure. */
int vg_encoder_create(vg_ctx *ctx, vg_encoder_kind kind, const vg_weights *w,
                      vg_shape input, vg_encoder **out, vg_error *err);
void vg_encoder_free(vg_encoder *enc); /* accepts NULL */

vg_shape vg_encoder_input_shape(const vg_encoder *enc);

/* Runs the encoder on frames of the planned shape, already normalised. */
int vg_encoder_forward(vg_encoder *enc, const vg_tensor *frames, vg_error *err);

/* The feature map at stride 8, 16 or 32 of the last forward (NULL for another stride):
 * ResNet-18 layer2/layer3/layer4, MobileNetV2 features.6/.13/.18. Owned by enc. */
const vg_tensor *vg_encoder_tap(const vg_encoder *enc, int stride);

/* The output of any module by its name prefix, e.g. "features.17" or "layer3.0" (for a
 * block: after its residual add and activation), or NULL when enc has no such module. */
const vg_tensor *vg_encoder_output(const vg_encoder *enc, const char *module);

/* Folds an eval-mode batch norm into the convolution before it, in place:
 * w'[o] = w[o] * s, b'[o] = (b[o] - mean[o]) * s + beta[o], s = gamma[o] / sqrt(var[o] + eps).
 * w is [out_c, per_out] (a plain conv's layout, not a transposed one's); b is [out_c]. */
void vg_fold_bn(float *w, float *b, int out_c, size_t per_out, const float *gamma,
                const float *beta, const float *mean, const float *var, float eps);

#endif
