/* scorer.c - a model's scores over a stream of frames.
 *
 * The stream predicts frame k+1 when frame k arrives; the scorer keeps that prediction
 * until frame k+1 comes and scores it then, so each frame is encoded once and scored
 * against what the model expected of it. */
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

struct vg_scorer {
    vg_model *m;
    vg_stream *stream;
    int patch, lanes;
    size_t plane;
    int *have_pred;   /* per lane */
    float *pred;      /* per lane (3, H, W): the prediction of its next frame */
    float *frames;    /* a call's frames, normalised, and their predictions */
    float *next;
    int *ready;
    float *unit_frame, *unit_pred;
};

int vg_scorer_create_lanes(vg_model *m, int patch, int lanes, vg_scorer **out,
                           vg_error *err) {
    *out = NULL;
    if (patch <= 0) return vg_fail(err, VG_ERR_ARG, "patch size %d must be positive", patch);
    if (lanes < 1) return vg_fail(err, VG_ERR_ARG, "a scorer needs at least 1 lane, not %d", lanes);
    vg_scorer *s = calloc(1, sizeof *s);
    if (!s) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a scorer");
    vg_model_info i = vg_model_describe(m);
    s->m = m;
    s->patch = patch;
    s->lanes = lanes;
    s->plane = (size_t)i.width * i.height;
    size_t n = 3 * s->plane, L = (size_t)lanes;
    s->have_pred = calloc(L, sizeof *s->have_pred);
    s->ready = calloc(L, sizeof *s->ready);
    s->pred = malloc(L * n * sizeof *s->pred);
    s->frames = malloc(L * n * sizeof *s->frames);
    s->next = malloc(L * n * sizeof *s->next);
    s->unit_frame = malloc(n * sizeof *s->unit_frame);
    s->unit_pred = malloc(n * sizeof *s->unit_pred);
    int rc = s->have_pred && s->ready && s->pred && s->frames && s->next && s->unit_frame &&
                     s->unit_pred
                 ? vg_stream_create_lanes(m, lanes, &s->stream, err)
                 : vg_fail(err, VG_ERR_NOMEM, "out of memory for a scorer");
    if (rc) {
        vg_scorer_free(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

int vg_scorer_create(vg_model *m, int patch, vg_scorer **out, vg_error *err) {
    return vg_scorer_create_lanes(m, patch, 1, out, err);
}

void vg_scorer_free(vg_scorer *s) {
    if (!s) return;
    vg_stream_free(s->stream);
    free(s->have_pred), free(s->ready), free(s->pred), free(s->frames), free(s->next);
    free(s->unit_frame), free(s->unit_pred);
    free(s);
}

void vg_scorer_reset(vg_scorer *s) {
    vg_stream_reset(s->stream);
    memset(s->have_pred, 0, (size_t)s->lanes * sizeof *s->have_pred);
}

void vg_scorer_reset_lane(vg_scorer *s, int lane) {
    if (lane < 0 || lane >= s->lanes) return;
    vg_stream_reset_lane(s->stream, lane);
    s->have_pred[lane] = 0;
}

static void unit_to_rgb(const float *unit, size_t plane, unsigned char *rgb) {
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < plane; p++)
            rgb[3 * p + c] = (unsigned char)(unit[c * plane + p] * 255.f + .5f);
}

/* Scores rgb against the lane's prediction of it. */
static int score_one(vg_scorer *s, int lane, const unsigned char *rgb, vg_score *out,
                     float *error_map, unsigned char *pred_rgb, vg_error *err) {
    vg_model_info i = vg_model_describe(s->m);
    /* scores are in pixel units: PSNR over [0, 1], whatever the model's normalisation */
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < s->plane; p++)
            s->unit_frame[c * s->plane + p] = rgb[3 * p + c] / 255.f;
    vg_model_frame_to_unit(s->m, s->pred + (size_t)lane * 3 * s->plane, s->unit_pred);
    int rc = vg_score_frame(s->unit_pred, s->unit_frame, i.width, i.height, s->patch, out,
                            error_map, err);
    if (!rc && pred_rgb) unit_to_rgb(s->unit_pred, s->plane, pred_rgb);
    return rc;
}

int vg_scorer_push_lanes(vg_scorer *s, int n, const int *lane,
                         const unsigned char *const *rgb, vg_score *out,
                         float *const *error_map, unsigned char *const *pred_rgb,
                         int *scored, vg_error *err) {
    if (n < 0 || n > s->lanes)
        return vg_fail(err, VG_ERR_ARG, "%d frames pushed to a scorer of %d lanes", n, s->lanes);
    size_t ff = 3 * s->plane;
    int rc = VG_OK;
    for (int i = 0; i < n; i++) scored[i] = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (lane[i] < 0 || lane[i] >= s->lanes)
            return vg_fail(err, VG_ERR_ARG, "lane %d is not one of the scorer's %d", lane[i],
                           s->lanes);
        if (s->have_pred[lane[i]])
            rc = score_one(s, lane[i], rgb[i], &out[i], error_map ? error_map[i] : NULL,
                           pred_rgb ? pred_rgb[i] : NULL, err);
        scored[i] = !rc && s->have_pred[lane[i]];
        vg_model_frame_from_rgb(s->m, rgb[i], s->frames + i * ff);
    }
    if (!rc) rc = vg_stream_push_lanes(s->stream, n, lane, s->frames, s->next, s->ready, err);
    for (int i = 0; i < n && !rc; i++) {
        s->have_pred[lane[i]] = s->ready[i];
        if (s->ready[i]) memcpy(s->pred + lane[i] * ff, s->next + i * ff, ff * sizeof *s->pred);
    }
    return rc;
}

int vg_scorer_push(vg_scorer *s, const unsigned char *rgb, vg_score *out, float *error_map,
                   unsigned char *pred_rgb, int *scored, vg_error *err) {
    const int lane = 0;
    return vg_scorer_push_lanes(s, 1, &lane, &rgb, out, &error_map, &pred_rgb, scored, err);
}

int vg_scorer_embedding(vg_scorer *s, int lane, float *out, vg_error *err) {
    return vg_stream_embedding(s->stream, lane, out, err);
}

