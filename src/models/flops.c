/* flops.c - the arithmetic a model does per item, for benchmarks (GFLOP/s, % of peak).
 * Counted from the layer tables, not measured: one multiply-add = 2 FLOPs. */
#include <stdlib.h>

#include "models/encoder_arch.h"
#include "models/model.h"

static int conv_out(int in, const enc_row *r) {
    if (r->pad == ENC_PAD_SAME) return (in + r->stride - 1) / r->stride;
    return (in + 2 * r->pad - r->k) / r->stride + 1;
}

/* Multiply-adds of one frame through the encoder. */
static double encoder_macs(vg_encoder_kind kind, int H, int W) {
    const enc_arch *a = kind == VG_ENCODER_RESNET18 ? vg_resnet18_arch() : vg_mobilenet_v2_arch();
    int *h = malloc(((size_t)a->n_rows + 1) * sizeof *h), *w = malloc(((size_t)a->n_rows + 1) * sizeof *w);
    double macs = 0;
    if (!h || !w) goto done;
    h[0] = H, w[0] = W; /* h[i + 1]: output of row i; h[0]: the frame */
    for (int i = 0; i < a->n_rows; i++) {
        const enc_row *r = &a->rows[i];
        int ih = h[i + 1 - r->src], iw = w[i + 1 - r->src];
        h[i + 1] = conv_out(ih, r);
        w[i + 1] = conv_out(iw, r);
        if (r->weight)
            macs += (double)h[i + 1] * w[i + 1] * r->out * (r->in / r->groups) * r->k * r->k;
    }
done:
    free(h);
    free(w);
    return macs;
}

/* Multiply-adds of one sequence's head forward; *merge gets the 1x1 convs' share (they
 * need no input gradient in training, as vg_unet_macs's *first). */
static double head_macs(const vg_predictor_config *c, double *merge) {
    vg_encoder_info e = vg_encoder_describe(c->encoder);
    double hw = (double)(c->height / 32) * (c->width / 32), macs;
    *merge = hw * VG_DECODER_WIDTH * c->frames * e.c32;
    if (c->variant == VG_VARIANT_SKIPTWICE)
        *merge += 4 * hw * 256.0 * c->frames * e.c16 + 16 * hw * 128.0 * c->frames * e.c8;
    macs = *merge;
    for (int i = 0; i <= VG_DECODER_BLOCKS; i++) { /* a transposed conv scatters each input */
        double in_hw = hw * (1 << (2 * i));
        int ci = VG_DECODER_WIDTH >> i, co = i < VG_DECODER_BLOCKS ? ci / 2 : 3;
        macs += in_hw * ci * co * 9;
    }
    return macs;
}

void vg_model_flops(const vg_model *m, double *stream_frame, double *train_sequence) {
    const vg_predictor_config *c = &m->cfg;
    double no_dx, net = vg_model_is_unet(m) ? vg_unet_macs(c, &no_dx) : head_macs(c, &no_dx);
    double enc = vg_model_is_unet(m) ? 0 : encoder_macs(c->encoder, c->height, c->width);
    *stream_frame = 2 * (enc + net);
    /* backward: weight gradients of every layer, input gradients of all but the first */
    *train_sequence = 2 * (net + net + (net - no_dx));
}
