/* mobilenet_v2.c - MobileNetV2 (width 1.0) features.0-18 as an encoder table.
 *
 * The layout of ../shared/models/mobilenet_v2_imagenet.safetensors: BN already folded,
 * so every conv has weight and bias; ReLU6 after each conv except the linear
 * projections; TensorFlow "same" padding (the weights come from a TFLite model, and
 * torchvision's symmetric padding shifts every stride-2 output by half a pixel). */
#include "models/encoder_arch.h"

#define CONV(m, cin, cout, k, s, g, src, res, act) \
    {m, m ".weight", m ".bias", {NULL}, cin, cout, k, s, g, ENC_PAD_SAME, src, res, act}

/* Inverted residual block n (expansion 6): expand 1x1, depthwise 3x3, project 1x1.
 * The projection adds the block input (3 rows back) when the shape is kept. */
#define IR(n, cin, cout, s)                                                              \
    CONV("features." #n ".conv.0.0", cin, 6 * (cin), 1, 1, 1, 1, 0, VG_ACT_RELU6),       \
    CONV("features." #n ".conv.1.0", 6 * (cin), 6 * (cin), 3, s, 6 * (cin), 1, 0,        \
         VG_ACT_RELU6),                                                                  \
    CONV("features." #n ".conv.2", 6 * (cin), cout, 1, 1, 1, 1,                          \
         ((s) == 1 && (cin) == (cout)) ? 3 : 0, VG_ACT_NONE)

static const enc_row rows[] = {
    CONV("features.0.0", 3, 32, 3, 2, 1, 1, 0, VG_ACT_RELU6),
    /* block 1 has expansion 1: no expand conv */
    CONV("features.1.conv.0.0", 32, 32, 3, 1, 32, 1, 0, VG_ACT_RELU6),
    CONV("features.1.conv.1", 32, 16, 1, 1, 1, 1, 0, VG_ACT_NONE),
    IR(2, 16, 24, 2),
    IR(3, 24, 24, 1),
    IR(4, 24, 32, 2),
    IR(5, 32, 32, 1),
    IR(6, 32, 32, 1),
    IR(7, 32, 64, 2),
    IR(8, 64, 64, 1),
    IR(9, 64, 64, 1),
    IR(10, 64, 64, 1),
    IR(11, 64, 96, 1),
    IR(12, 96, 96, 1),
    IR(13, 96, 96, 1),
    IR(14, 96, 160, 2),
    IR(15, 160, 160, 1),
    IR(16, 160, 160, 1),
    IR(17, 160, 320, 1),
    CONV("features.18.0", 320, 1280, 1, 1, 1, 1, 0, VG_ACT_RELU6),
};

static const enc_arch arch = {
    .info = {.name = "mobilenet_v2",
             .c8 = 32, .c16 = 96, .c32 = 1280,
             .mean = {0.5f, 0.5f, 0.5f}, /* pixel/127.5 - 1 */
             .std = {0.5f, 0.5f, 0.5f}},
    .rows = rows,
    .n_rows = (int)(sizeof rows / sizeof rows[0]),
    .taps = {"features.6", "features.13", "features.18"},
};

const enc_arch *vg_mobilenet_v2_arch(void) { return &arch; }
