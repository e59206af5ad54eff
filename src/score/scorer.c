/* scorer.c - a model's scores over a stream of frames.
 *
 * The stream predicts frame k+1 when frame k arrives; the scorer keeps that prediction
 * until frame k+1 comes and scores it then, so each frame is encoded once and scored
 * against what the model expected of it. */
#include <stdlib.h>

#include "core/status.h"

struct vg_scorer {
    vg_model *m;
    vg_stream *stream;
    int patch, have_pred;
    size_t plane;
    float *frame, *pred, *unit_frame, *unit_pred;
};

int vg_scorer_create(vg_model *m, int patch, vg_scorer **out, vg_error *err) {
    *out = NULL;
    if (patch <= 0) return vg_fail(err, VG_ERR_ARG, "patch size %d must be positive", patch);
    vg_scorer *s = calloc(1, sizeof *s);
    if (!s) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a scorer");
    vg_model_info i = vg_model_describe(m);
    s->m = m;
    s->patch = patch;
    s->plane = (size_t)i.width * i.height;
    size_t n = 3 * s->plane;
    s->frame = malloc(n * sizeof *s->frame);
    s->pred = malloc(n * sizeof *s->pred);
    s->unit_frame = malloc(n * sizeof *s->unit_frame);
    s->unit_pred = malloc(n * sizeof *s->unit_pred);
    int rc = s->frame && s->pred && s->unit_frame && s->unit_pred
                 ? vg_stream_create(m, &s->stream, err)
                 : vg_fail(err, VG_ERR_NOMEM, "out of memory for a scorer");
    if (rc) {
        vg_scorer_free(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

void vg_scorer_free(vg_scorer *s) {
    if (!s) return;
    vg_stream_free(s->stream);
    free(s->frame), free(s->pred), free(s->unit_frame), free(s->unit_pred);
    free(s);
}

void vg_scorer_reset(vg_scorer *s) {
    vg_stream_reset(s->stream);
    s->have_pred = 0;
}

static void unit_to_rgb(const float *unit, size_t plane, unsigned char *rgb) {
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < plane; p++)
            rgb[3 * p + c] = (unsigned char)(unit[c * plane + p] * 255.f + .5f);
}

int vg_scorer_push(vg_scorer *s, const unsigned char *rgb, vg_score *out, float *error_map,
                   unsigned char *pred_rgb, int *scored, vg_error *err) {
    *scored = 0;
    vg_model_info i = vg_model_describe(s->m);
    int rc = VG_OK;
    if (s->have_pred) {
        /* scores are in pixel units: PSNR over [0, 1], whatever the model's normalisation */
        for (int c = 0; c < 3; c++)
            for (size_t p = 0; p < s->plane; p++)
                s->unit_frame[c * s->plane + p] = rgb[3 * p + c] / 255.f;
        vg_model_frame_to_unit(s->m, s->pred, s->unit_pred);
        rc = vg_score_frame(s->unit_pred, s->unit_frame, i.width, i.height, s->patch, out,
                            error_map, err);
        if (rc) return rc;
        if (pred_rgb) unit_to_rgb(s->unit_pred, s->plane, pred_rgb);
        *scored = 1;
    }
    vg_model_frame_from_rgb(s->m, rgb, s->frame);
    int ready = 0;
    rc = vg_stream_push(s->stream, s->frame, s->pred, &ready, err);
    s->have_pred = !rc && ready;
    return rc;
}
