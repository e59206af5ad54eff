/* encoder_arch.h - (private to src/models) an encoder architecture as a table of layers.
 *
 * Each encoder is a static, constant list of rows in execution order: a convolution
 * (with its parameter names, optional BN to fold, fused activation and fused residual)
 * or a max pool. Inputs and residuals are named by how many rows back they were made,
 * which keeps the tables readable block by block. encoder.c plans, loads and runs any
 * table; resnet18.c and mobilenet_v2.c only describe theirs. */
#ifndef VG_ENCODER_ARCH_H
#define VG_ENCODER_ARCH_H

#include "models/encoder.h"

#define ENC_PAD_SAME (-1) /* TensorFlow "same" padding, computed from the input size */

typedef struct enc_row {
    const char *module;  /* "layer1.0.conv1"; for a pool, its module name ("maxpool") */
    const char *weight;  /* parameter names; weight NULL marks a max pool */
    const char *bias;    /* NULL: no bias parameter */
    const char *bn[4];   /* BN weight, bias, running_mean, running_var; bn[0] NULL: none */
    int in, out, k, stride, groups;
    int pad;             /* symmetric padding, or ENC_PAD_SAME */
    int src;             /* input = output of the row this many back; before row 0: frames */
    int res;             /* residual = output of the row this many back; 0: none */
    vg_act act;
} enc_row;

typedef struct enc_arch {
    vg_encoder_info info;
    const enc_row *rows;
    int n_rows;
    const char *taps[3]; /* modules giving the stride-8, 16 and 32 taps */
} enc_arch;

const enc_arch *vg_resnet18_arch(void);
const enc_arch *vg_mobilenet_v2_arch(void);

#endif
