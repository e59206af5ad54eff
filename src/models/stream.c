/* stream.c - streaming inference: each frame is encoded once and its feature maps kept
 * in a ring of the last T * step (the model's context), from which the next frame is
 * predicted: frame n from frames n - T step, ..., n - 2 step, n - step. The U-Net takes
 * the frames themselves, so for it the ring holds frames.
 *
 * A stream has lanes, one per camera: frames of several lanes pushed in one call are
 * encoded and predicted as one batch. Batches run in power-of-two chunks (7 frames: 4, 2,
 * 1), so plans exist for log2(lanes) + 1 batch sizes, all made up front, and no frame is
 * padding. */
#include <stdlib.h>
#include <string.h>

#include "models/model.h"

#define TAPS 3
static const int tap_strides[TAPS] = {32, 16, 8};

/* The encoder and network for batches of one size. */
typedef struct plan {
    vg_encoder *enc;  /* NULL for the U-Net */
    vg_tensor *frame; /* the encoder's input */
    vg_net net;
    int made;
} plan;

struct vg_stream {
    vg_model *m;
    int lanes, sizes;  /* plans[k] serves batches of 1 << k, k < sizes */
    plan *plans;
    int len;           /* ring slots per lane: the context, T * step */
    vg_tensor **ring;  /* [lanes][len][TAPS] feature maps (the U-Net: frames, tap 0), NULL
                          for taps the network ignores */
    long long *pushed; /* per lane */
    float *out;        /* a chunk's predictions */
    int *ready_lane;   /* scratch: the lanes to predict and their items */
    int *ready_item;
};

/* The shape of one frame's tap k: a feature map, or for the U-Net the frame. */
static vg_shape tap_shape(const vg_model *m, int k) {
    vg_encoder_info e = vg_encoder_describe(m->cfg.encoder);
    int ch[TAPS] = {e.c32, e.c16, e.c8};
    if (vg_model_is_unet(m)) return (vg_shape){1, 3, m->cfg.height, m->cfg.width};
    return (vg_shape){1, ch[k], m->cfg.height / tap_strides[k], m->cfg.width / tap_strides[k]};
}

static size_t frame_floats(const vg_model *m) {
    return (size_t)3 * m->cfg.height * m->cfg.width;
}

/* The largest k with 1 << k <= n. */
static int log2_floor(int n) {
    int k = 0;
    while (2 << k <= n) k++;
    return k;
}

static int make_ring(vg_stream *s, vg_error *err) {
    int rc = VG_OK;
    plan *p = &s->plans[0]; /* the batch-1 network says which taps are used */
    for (int l = 0; l < s->lanes && !rc; l++)
        for (int t = 0; t < s->len && !rc; t++)
            for (int k = 0; k < TAPS && !rc; k++)
                if (vg_net_input(&p->net, k))
                    rc = vg_tensor_create(s->m->ctx, tap_shape(s->m, k),
                                          &s->ring[((size_t)l * s->len + t) * TAPS + k], err);
    return rc;
}

static int plan_make(vg_stream *s, int k, vg_error *err) {
    plan *p = &s->plans[k];
    if (p->made) return VG_OK;
    vg_model *m = s->m;
    int n = 1 << k;
    int rc = vg_net_create(m, n, 0, m->bf16, &p->net, err);
    if (!rc) rc = vg_net_set_params(&p->net, m->params, err);
    if (!rc && !vg_model_is_unet(m)) {
        rc = vg_model_plan_encoder(m, n, &p->enc, err);
        if (!rc)
            rc = vg_tensor_create(m->ctx, (vg_shape){n, 3, m->cfg.height, m->cfg.width},
                                  &p->frame, err);
    }
    p->made = !rc;
    return rc;
}

int vg_stream_create_lanes(vg_model *m, int lanes, vg_stream **out, vg_error *err) {
    *out = NULL;
    if (lanes < 1) return vg_fail(err, VG_ERR_ARG, "a stream needs at least 1 lane, not %d", lanes);
    vg_stream *s = calloc(1, sizeof *s);
    int len = vg_predictor_context(&m->cfg), sizes = log2_floor(lanes) + 1;
    if (s) {
        s->m = m, s->lanes = lanes, s->sizes = sizes, s->len = len;
        s->plans = calloc((size_t)sizes, sizeof *s->plans);
        s->ring = calloc((size_t)lanes * len * TAPS, sizeof *s->ring);
        s->pushed = calloc((size_t)lanes, sizeof *s->pushed);
        s->out = malloc(((size_t)1 << (sizes - 1)) * frame_floats(m) * sizeof *s->out);
        s->ready_lane = malloc((size_t)lanes * sizeof *s->ready_lane);
        s->ready_item = malloc((size_t)lanes * sizeof *s->ready_item);
    }
    if (!s || !s->plans || !s->ring || !s->pushed || !s->out || !s->ready_lane ||
        !s->ready_item) {
        vg_stream_free(s);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for a stream of %d lanes", lanes);
    }
    /* every batch size is planned now: planning mid-stream would stall the cameras */
    int rc = VG_OK;
    for (int k = 0; k < sizes && !rc; k++) rc = plan_make(s, k, err);
    if (!rc) rc = make_ring(s, err);
    if (rc) {
        vg_stream_free(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

int vg_stream_create(vg_model *m, vg_stream **out, vg_error *err) {
    return vg_stream_create_lanes(m, 1, out, err);
}

void vg_stream_free(vg_stream *s) {
    if (!s) return;
    for (int k = 0; s->plans && k < s->sizes; k++) {
        vg_encoder_free(s->plans[k].enc);
        vg_net_free(&s->plans[k].net);
        vg_tensor_free(s->plans[k].frame);
    }
    size_t taps = (size_t)s->lanes * s->len * TAPS;
    for (size_t i = 0; s->ring && i < taps; i++) vg_tensor_free(s->ring[i]);
    free(s->plans), free(s->ring), free(s->pushed), free(s->out);
    free(s->ready_lane), free(s->ready_item);
    free(s);
}

void vg_stream_reset(vg_stream *s) { memset(s->pushed, 0, (size_t)s->lanes * sizeof *s->pushed); }

void vg_stream_reset_lane(vg_stream *s, int lane) {
    if (lane >= 0 && lane < s->lanes) s->pushed[lane] = 0;
}

static vg_tensor *ring_at(const vg_stream *s, int lane, int slot, int k) {
    return s->ring[((size_t)lane * s->len + slot) * TAPS + k];
}

/* Encodes n frames (one chunk, a planned size) into the rings of their lanes. */
static int encode_chunk(vg_stream *s, int k, const int *lane, const float *frames,
                        vg_error *err) {
    plan *p = &s->plans[k];
    int n = 1 << k;
    if (vg_model_is_unet(s->m)) {
        int rc = VG_OK;
        for (int i = 0; i < n && !rc; i++)
            rc = vg_tensor_write(ring_at(s, lane[i], (int)(s->pushed[lane[i]] % s->len), 0),
                                 frames + i * frame_floats(s->m), err);
        return rc;
    }
    int rc = vg_tensor_write(p->frame, frames, err);
    if (!rc) rc = vg_encoder_forward(p->enc, p->frame, err);
    for (int i = 0; i < n && !rc; i++)
        for (int t = 0; t < TAPS && !rc; t++) {
            vg_tensor *dst = ring_at(s, lane[i], (int)(s->pushed[lane[i]] % s->len), t);
            if (dst)
                rc = vg_tensor_copy_region(dst, 0, 0, vg_encoder_tap(p->enc, tap_strides[t]),
                                           i, 0, 1, vg_tensor_shape(dst).c, err);
        }
    return rc;
}

/* Predicts the next frame of n lanes (one chunk) from their rings, oldest frame first,
 * into s->out. The next frame is number pushed; its input t is frame pushed - len +
 * t step, which the ring keeps in slot (pushed + t step) % len. */
static int predict_chunk(vg_stream *s, int k, const int *lane, vg_error *err) {
    plan *p = &s->plans[k];
    int T = s->m->cfg.frames, step = s->m->cfg.step, rc = VG_OK;
    for (int i = 0; i < 1 << k && !rc; i++)
        for (int t = 0; t < T && !rc; t++) {
            int slot = (int)((s->pushed[lane[i]] + (long long)t * step) % s->len);
            for (int j = 0; j < TAPS && !rc; j++) {
                vg_tensor *dst = vg_net_input(&p->net, j);
                if (!dst) continue;
                const vg_tensor *src = ring_at(s, lane[i], slot, j);
                int c = vg_tensor_shape(src).c;
                rc = vg_tensor_copy_region(dst, i, t * c, src, 0, 0, 1, c, err);
            }
        }
    if (!rc) rc = vg_net_forward(&p->net, s->m->params, 0, 0, err);
    if (!rc) rc = vg_tensor_read(vg_net_output(&p->net), s->out, err);
    return rc;
}

/* The planned chunk size for the n items left: the largest power of two that fits. */
static int chunk_for(vg_stream *s, int n, vg_error *err, int *k) {
    *k = log2_floor(n) < s->sizes - 1 ? log2_floor(n) : s->sizes - 1;
    return plan_make(s, *k, err);
}

static int check_lanes(const vg_stream *s, int n, const int *lane, vg_error *err) {
    for (int i = 0; i < n; i++) {
        if (lane[i] < 0 || lane[i] >= s->lanes)
            return vg_fail(err, VG_ERR_ARG, "lane %d is not one of the stream's %d", lane[i],
                           s->lanes);
        for (int j = 0; j < i; j++)
            if (lane[j] == lane[i])
                return vg_fail(err, VG_ERR_ARG, "lane %d is pushed twice in one call", lane[i]);
    }
    return VG_OK;
}

int vg_stream_push_lanes(vg_stream *s, int n, const int *lane, const float *frames,
                         float *pred_next, int *ready, vg_error *err) {
    int rc = check_lanes(s, n, lane, err), k = 0, nready = 0;
    size_t ff = frame_floats(s->m);
    for (int i = 0; i < n; i++) ready[i] = 0;
    for (int i = 0; i < n && !rc; i += 1 << k) {
        rc = chunk_for(s, n - i, err, &k);
        if (!rc) rc = encode_chunk(s, k, lane + i, frames + i * ff, err);
    }
    for (int i = 0; i < n && !rc; i++) {
        if (++s->pushed[lane[i]] >= s->len)
            s->ready_lane[nready] = lane[i], s->ready_item[nready++] = i;
    }
    for (int i = 0; i < nready && !rc; i += 1 << k) {
        rc = chunk_for(s, nready - i, err, &k);
        if (!rc) rc = predict_chunk(s, k, s->ready_lane + i, err);
        for (int j = 0; j < 1 << k && !rc; j++) {
            int item = s->ready_item[i + j];
            if (pred_next) memcpy(pred_next + item * ff, s->out + j * ff, ff * sizeof *s->out);
            ready[item] = 1;
        }
    }
    return rc;
}

int vg_stream_push(vg_stream *s, const float *frame, float *pred_next, int *ready,
                   vg_error *err) {
    const int lane = 0;
    return vg_stream_push_lanes(s, 1, &lane, frame, pred_next, ready, err);
}

/* ---- embeddings ------------------------------------------------------------------------ */

#define UNET_GRID 8 /* the U-Net has no encoder: its frames pooled to 8 x 8 stand in */

int vg_model_embedding_size(const vg_model *m) {
    return vg_model_is_unet(m) ? 3 * UNET_GRID * UNET_GRID : tap_shape(m, 0).c;
}

/* Averages map (c, h, w) over a grid x grid partition of its plane into out (c, grid, grid). */
static void pool(const float *map, vg_shape sh, int grid, float *out) {
    for (int c = 0; c < sh.c; c++)
        for (int gy = 0; gy < grid; gy++)
            for (int gx = 0; gx < grid; gx++) {
                int y0 = gy * sh.h / grid, y1 = (gy + 1) * sh.h / grid;
                int x0 = gx * sh.w / grid, x1 = (gx + 1) * sh.w / grid;
                double sum = 0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) sum += map[((size_t)c * sh.h + y) * sh.w + x];
                int n = (y1 - y0) * (x1 - x0);
                out[((size_t)c * grid + gy) * grid + gx] = n ? (float)(sum / n) : 0.f;
            }
}

int vg_stream_embedding(vg_stream *s, int lane, float *out, vg_error *err) {
    if (lane < 0 || lane >= s->lanes || !s->pushed[lane])
        return vg_fail(err, VG_ERR_ARG, "lane %d has no frame to describe", lane);
    const vg_tensor *t = ring_at(s, lane, (int)((s->pushed[lane] - 1) % s->len), 0);
    vg_shape sh = vg_tensor_shape(t);
    float *map = malloc((size_t)sh.c * sh.h * sh.w * sizeof *map);
    if (!map) return vg_fail(err, VG_ERR_NOMEM, "out of memory for an embedding");
    int rc = vg_tensor_read(t, map, err);
    if (!rc) pool(map, sh, vg_model_is_unet(s->m) ? UNET_GRID : 1, out);
    free(map);
    return rc;
}

