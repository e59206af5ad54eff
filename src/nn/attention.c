/* attention.c - spatial attention forward and backward; see attention.h. */
#include "nn/attention.h"

#include <math.h>
#include <stdlib.h>

struct vg_attention {
    vg_shape shape;
    vg_conv *conv;           /* 2 -> 1, 7x7, pad 3, no bias */
    vg_tensor *s;            /* (N, 2, H, W) pooled maps, input of conv */
    vg_tensor *y, *dx, *dlogit;
    float *x, *a, *buf, *g;  /* host: x (N,C,H,W), a (N,H,W), scratch (N,C,H,W), (N,2,H,W) */
    int *argmax;             /* (N,H,W) channel that won the max */
};

int vg_attention_create(vg_ctx *ctx, vg_shape shape, int train, vg_attention **out,
                        vg_error *err) {
    *out = NULL;
    vg_attention *op = calloc(1, sizeof *op);
    if (!op) return vg_fail(err, VG_ERR_NOMEM, "out of memory for an attention block");
    op->shape = shape;
    vg_shape s2 = {shape.n, 2, shape.h, shape.w}, s1 = {shape.n, 1, shape.h, shape.w};
    size_t plane = (size_t)shape.n * shape.h * shape.w;
    vg_conv_params p = vg_conv_default_params(2, 1, 7, 1, 3);
    p.has_bias = 0;
    p.train = train;
    int rc = vg_conv_create(ctx, &p, s2, &op->conv, err);
    if (!rc) rc = vg_tensor_create(ctx, s2, &op->s, err);
    if (!rc) rc = vg_tensor_create(ctx, shape, &op->y, err);
    if (!rc && train) rc = vg_tensor_create(ctx, shape, &op->dx, err);
    if (!rc && train) rc = vg_tensor_create(ctx, s1, &op->dlogit, err);
    op->x = malloc(vg_shape_count(shape) * sizeof *op->x);
    op->buf = malloc(vg_shape_count(shape) * sizeof *op->buf);
    op->a = malloc(plane * sizeof *op->a);
    op->g = malloc(2 * plane * sizeof *op->g);
    op->argmax = malloc(plane * sizeof *op->argmax);
    if (!rc && (!op->x || !op->buf || !op->a || !op->g || !op->argmax))
        rc = vg_fail(err, VG_ERR_NOMEM, "out of memory for an attention block");
    if (rc) {
        vg_attention_free(op);
        return rc;
    }
    *out = op;
    return VG_OK;
}

void vg_attention_free(vg_attention *op) {
    if (!op) return;
    vg_conv_free(op->conv);
    vg_tensor_free(op->s);
    vg_tensor_free(op->y);
    vg_tensor_free(op->dx);
    vg_tensor_free(op->dlogit);
    free(op->x);
    free(op->a);
    free(op->buf);
    free(op->g);
    free(op->argmax);
    free(op);
}

int vg_attention_set_weights(vg_attention *op, const float *w, vg_error *err) {
    return vg_conv_set_weights(op->conv, w, NULL, err);
}

vg_tensor *vg_attention_dst(vg_attention *op) { return op->y; }
vg_tensor *vg_attention_diff_src(vg_attention *op) { return op->dx; }

/* g[n,0] = mean_c x[n,c], g[n,1] = max_c x[n,c] (first maximal channel kept in argmax). */
static void pool_channels(vg_attention *op) {
    int N = op->shape.n, C = op->shape.c;
    size_t hw = (size_t)op->shape.h * op->shape.w;
    for (int n = 0; n < N; n++) {
        const float *x = op->x + (size_t)n * C * hw;
        float *mean = op->g + (size_t)n * 2 * hw, *max = mean + hw;
        int *am = op->argmax + (size_t)n * hw;
        for (size_t i = 0; i < hw; i++) {
            mean[i] = x[i];
            max[i] = x[i];
            am[i] = 0;
        }
        for (int c = 1; c < C; c++)
            for (size_t i = 0; i < hw; i++) {
                float v = x[c * hw + i];
                mean[i] += v;
                if (v > max[i]) {
                    max[i] = v;
                    am[i] = c;
                }
            }
        for (size_t i = 0; i < hw; i++) mean[i] /= (float)C;
    }
}

int vg_attention_forward(vg_attention *op, const vg_tensor *x, vg_error *err) {
    int N = op->shape.n, C = op->shape.c;
    size_t hw = (size_t)op->shape.h * op->shape.w;
    int rc = vg_tensor_read(x, op->x, err);
    if (rc) return rc;
    pool_channels(op);
    rc = vg_tensor_write(op->s, op->g, err);
    if (!rc) rc = vg_conv_forward(op->conv, op->s, NULL, err);
    if (!rc) rc = vg_tensor_read(vg_conv_dst(op->conv), op->a, err);
    if (rc) return rc;
    for (size_t i = 0; i < (size_t)N * hw; i++) op->a[i] = 1.f / (1.f + expf(-op->a[i]));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float *y = op->buf + ((size_t)n * C + c) * hw;
            const float *xs = op->x + ((size_t)n * C + c) * hw, *a = op->a + (size_t)n * hw;
            for (size_t i = 0; i < hw; i++) y[i] = xs[i] * a[i];
        }
    return vg_tensor_write(op->y, op->buf, err);
}

int vg_attention_backward(vg_attention *op, const vg_tensor *dy, float *dw, vg_error *err) {
    int N = op->shape.n, C = op->shape.c;
    size_t hw = (size_t)op->shape.h * op->shape.w;
    float *d = op->buf; /* dy, then dx */
    int rc = vg_tensor_read(dy, d, err);
    if (rc) return rc;
    /* d logit = sigmoid' * sum_c dy * x, on the (N, 1, H, W) plane */
    float *dl = op->g; /* first half reused as scratch for the (N,1,H,W) gradient */
    for (int n = 0; n < N; n++) {
        const float *a = op->a + (size_t)n * hw;
        float *dln = dl + (size_t)n * hw;
        for (size_t i = 0; i < hw; i++) dln[i] = 0.f;
        for (int c = 0; c < C; c++) {
            const float *dyc = d + ((size_t)n * C + c) * hw, *xc = op->x + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++) dln[i] += dyc[i] * xc[i];
        }
        for (size_t i = 0; i < hw; i++) dln[i] *= a[i] * (1.f - a[i]);
    }
    rc = vg_tensor_write(op->dlogit, dl, err);
    if (!rc) rc = vg_conv_backward(op->conv, op->dlogit, dw, NULL, 1, err);
    if (!rc) rc = vg_tensor_read(vg_conv_diff_src(op->conv), op->g, err);
    if (rc) return rc;
    /* dx = dy * a + d mean / C + d max routed to the arg-max channel */
    for (int n = 0; n < N; n++) {
        const float *a = op->a + (size_t)n * hw, *gm = op->g + (size_t)n * 2 * hw,
                    *gx = gm + hw;
        const int *am = op->argmax + (size_t)n * hw;
        for (int c = 0; c < C; c++) {
            float *dc = d + ((size_t)n * C + c) * hw;
            for (size_t i = 0; i < hw; i++)
                dc[i] = dc[i] * a[i] + gm[i] / (float)C + (am[i] == c ? gx[i] : 0.f);
        }
    }
    return vg_tensor_write(op->dx, d, err);
}
