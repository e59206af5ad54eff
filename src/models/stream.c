/* stream.c - streaming inference: each frame is encoded once and its feature maps kept
 * in a ring of the last T, from which the next frame is predicted. The U-Net takes the
 * frames themselves, so for it the ring holds the last T frames. */
#include <stdlib.h>

#include "models/model.h"

#define TAPS 3
static const int tap_strides[TAPS] = {32, 16, 8};

struct vg_stream {
    vg_model *m;
    vg_encoder *enc;        /* batch 1; NULL for the U-Net */
    vg_net net;             /* batch 1, inference */
    vg_tensor *frame;       /* (1, 3, H, W), the encoder's input */
    vg_tensor **ring;       /* [T][TAPS] feature maps (the U-Net: frames, tap 0), NULL for
                               taps the network ignores */
    long long pushed;
};

/* The shape of one frame's tap k: a feature map, or for the U-Net the frame. */
static vg_shape tap_shape(const vg_model *m, int k) {
    vg_encoder_info e = vg_encoder_describe(m->cfg.encoder);
    int ch[TAPS] = {e.c32, e.c16, e.c8};
    if (vg_model_is_unet(m)) return (vg_shape){1, 3, m->cfg.height, m->cfg.width};
    return (vg_shape){1, ch[k], m->cfg.height / tap_strides[k], m->cfg.width / tap_strides[k]};
}

int vg_stream_create(vg_model *m, vg_stream **out, vg_error *err) {
    *out = NULL;
    vg_stream *s = calloc(1, sizeof *s);
    int T = m->cfg.frames;
    if (!s || !(s->ring = calloc((size_t)T * TAPS, sizeof *s->ring))) {
        free(s);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for a stream");
    }
    s->m = m;
    int rc = vg_net_create(m, 1, 0, m->bf16, &s->net, err);
    if (!rc) rc = vg_net_set_params(&s->net, m->params, err);
    if (!rc && !vg_model_is_unet(m)) {
        rc = vg_model_plan_encoder(m, 1, &s->enc, err);
        if (!rc)
            rc = vg_tensor_create(m->ctx, (vg_shape){1, 3, m->cfg.height, m->cfg.width},
                                  &s->frame, err);
    }
    for (int t = 0; t < T && !rc; t++)
        for (int k = 0; k < TAPS && !rc; k++)
            if (vg_net_input(&s->net, k))
                rc = vg_tensor_create(m->ctx, tap_shape(m, k), &s->ring[t * TAPS + k], err);
    if (rc) {
        vg_stream_free(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

void vg_stream_free(vg_stream *s) {
    if (!s) return;
    vg_encoder_free(s->enc);
    vg_net_free(&s->net);
    vg_tensor_free(s->frame);
    for (int i = 0; s->ring && i < s->m->cfg.frames * TAPS; i++) vg_tensor_free(s->ring[i]);
    free(s->ring);
    free(s);
}

void vg_stream_reset(vg_stream *s) { s->pushed = 0; }

/* Network inputs from the ring, oldest frame first. */
static int fill_inputs(vg_stream *s, vg_error *err) {
    int T = s->m->cfg.frames, rc = VG_OK;
    for (int t = 0; t < T && !rc; t++) {
        int slot = (int)((s->pushed + t) % T);
        for (int k = 0; k < TAPS && !rc; k++) {
            vg_tensor *dst = vg_net_input(&s->net, k);
            if (!dst) continue;
            const vg_tensor *src = s->ring[slot * TAPS + k];
            int c = vg_tensor_shape(src).c;
            rc = vg_tensor_copy_region(dst, 0, t * c, src, 0, 0, 1, c, err);
        }
    }
    return rc;
}

/* Puts the frame's taps (the U-Net: the frame) into ring slot. */
static int ring_put(vg_stream *s, int slot, const float *frame, vg_error *err) {
    if (vg_model_is_unet(s->m)) return vg_tensor_write(s->ring[slot * TAPS], frame, err);
    int rc = vg_tensor_write(s->frame, frame, err);
    if (!rc) rc = vg_encoder_forward(s->enc, s->frame, err);
    for (int k = 0; k < TAPS && !rc; k++) {
        vg_tensor *dst = s->ring[slot * TAPS + k];
        if (dst)
            rc = vg_tensor_copy_region(dst, 0, 0, vg_encoder_tap(s->enc, tap_strides[k]), 0, 0,
                                       1, vg_tensor_shape(dst).c, err);
    }
    return rc;
}

int vg_stream_push(vg_stream *s, const float *frame, float *pred_next, int *ready,
                   vg_error *err) {
    int T = s->m->cfg.frames;
    *ready = 0;
    int rc = ring_put(s, (int)(s->pushed % T), frame, err);
    if (rc) return rc;
    s->pushed++;
    if (s->pushed < T) return VG_OK;
    rc = fill_inputs(s, err);
    if (!rc) rc = vg_net_forward(&s->net, s->m->params, 0, 0, err);
    if (!rc && pred_next) rc = vg_tensor_read(vg_net_output(&s->net), pred_next, err);
    if (!rc) *ready = 1;
    return rc;
}
