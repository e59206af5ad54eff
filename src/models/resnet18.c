/* resnet18.c - torchvision's ResNet-18 without avgpool/fc, as an encoder table.
 *
 * Names and order follow torchvision.models.resnet18 exactly, so its state dict loads
 * as is. Every convolution is followed by a BN that create folds into it. In a
 * BasicBlock the second convolution carries the residual add and the ReLU
 * (dst = relu(bn2(conv2(x1)) + identity)), where identity is the block input or, in the
 * first block of layers 2-4, downsample.1(downsample.0(input)). */
#include "models/encoder_arch.h"

#define BN(m) {m ".weight", m ".bias", m ".running_mean", m ".running_var"}

/* A bias-free convolution and its BN; src/res count rows back (see enc_row). */
#define CONV_BN(m, bn, cin, cout, k, s, p, src, res, act) \
    {m, m ".weight", NULL, BN(bn), cin, cout, k, s, 1, p, src, res, act}

/* Block input is 1 row before conv1, hence 2 rows before conv2. */
#define BLOCK(m, c)                                                               \
    CONV_BN(m ".conv1", m ".bn1", c, c, 3, 1, 1, 1, 0, VG_ACT_RELU),              \
    CONV_BN(m ".conv2", m ".bn2", c, c, 3, 1, 1, 1, 2, VG_ACT_RELU)

/* Rows: conv1, downsample (reads the block input, 2 back), conv2 (reads conv1, 2 back;
 * adds downsample, 1 back). */
#define DOWN_BLOCK(m, cin, c)                                                      \
    CONV_BN(m ".conv1", m ".bn1", cin, c, 3, 2, 1, 1, 0, VG_ACT_RELU),             \
    CONV_BN(m ".downsample.0", m ".downsample.1", cin, c, 1, 2, 0, 2, 0, VG_ACT_NONE), \
    CONV_BN(m ".conv2", m ".bn2", c, c, 3, 1, 1, 2, 1, VG_ACT_RELU)

static const enc_row rows[] = {
    CONV_BN("conv1", "bn1", 3, 64, 7, 2, 3, 1, 0, VG_ACT_RELU),
    {"maxpool", NULL, NULL, {NULL}, 64, 64, 3, 2, 1, 1, 1, 0, VG_ACT_NONE},
    BLOCK("layer1.0", 64),
    BLOCK("layer1.1", 64),
    DOWN_BLOCK("layer2.0", 64, 128),
    BLOCK("layer2.1", 128),
    DOWN_BLOCK("layer3.0", 128, 256),
    BLOCK("layer3.1", 256),
    DOWN_BLOCK("layer4.0", 256, 512),
    BLOCK("layer4.1", 512),
};

static const enc_arch arch = {
    .info = {.name = "resnet18",
             .c8 = 128, .c16 = 256, .c32 = 512,
             .mean = {0.485f, 0.456f, 0.406f}, /* torchvision's ImageNet statistics */
             .std = {0.229f, 0.224f, 0.225f}},
    .rows = rows,
    .n_rows = (int)(sizeof rows / sizeof rows[0]),
    .taps = {"layer2", "layer3", "layer4"},
};

const enc_arch *vg_resnet18_arch(void) { return &arch; }
