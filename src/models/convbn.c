/* convbn.c - convolution + batch norm + ReLU (see convbn.h). */
#include "models/convbn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-5f /* torch.nn.BatchNorm2d's defaults */
#define BN_MOMENTUM 0.1f

int vg_convbn_check_batch(int batch, int train, vg_error *err) {
    if (batch >= 1 && (!train || batch >= 2)) return VG_OK;
    return vg_fail(err, VG_ERR_ARG, "batch size %d is too small%s", batch,
                   train ? " for training (batch norm needs 2)" : "");
}

void vg_convbn_add_params(vg_param_table *t, const char *prefix, const char *conv,
                          const vg_conv_params *p, int stats) {
    static const char *const bn_fields[2][2] = {{"weight", "bias"},
                                                {"running_mean", "running_var"}};
    char name[40];
    if (!stats) { /* PyTorch's layouts: [out, in, kh, kw], transposed [in, out, kh, kw] */
        int rows = p->transposed ? p->in_c : p->out_c, cols = p->transposed ? p->out_c : p->in_c;
        snprintf(name, sizeof name, "%s.%s.weight", prefix, conv);
        vg_param_add(t, name, 4, rows, cols, p->kh, p->kw);
        snprintf(name, sizeof name, "%s.%s.bias", prefix, conv);
        if (p->has_bias) vg_param_add(t, name, 1, p->out_c, 0, 0, 0);
    }
    for (int j = 0; j < 2; j++) {
        snprintf(name, sizeof name, "%s.bn.%s", prefix, bn_fields[stats][j]);
        vg_param_add(t, name, 1, p->out_c, 0, 0, 0);
    }
}

static const vg_param *find(const vg_param_table *t, const char *prefix, const char *part,
                            const char *field) {
    char name[40];
    snprintf(name, sizeof name, "%s.%s.%s", prefix, part, field);
    return vg_param_find(t, name);
}

static int find_params(vg_convbn *u, const vg_param_table *t, const char *prefix,
                       const char *conv, vg_error *err) {
    u->w = find(t, prefix, conv, "weight");
    u->b = u->p.has_bias ? find(t, prefix, conv, "bias") : NULL;
    u->gamma = find(t, prefix, "bn", "weight");
    u->beta = find(t, prefix, "bn", "bias");
    u->mean = find(t, prefix, "bn", "running_mean");
    u->var = find(t, prefix, "bn", "running_var");
    if (!u->w || (u->p.has_bias && !u->b) || !u->gamma || !u->beta || !u->mean || !u->var)
        return vg_fail(err, VG_ERR_MISSING, "%s: the parameter table lacks its tensors",
                       prefix);
    return VG_OK;
}

/* Part j of the convolution. Inference folds BN into a bias and fuses the ReLU: both go
 * to the last part, which adds the first part's output when there are two. */
static int create_part(vg_ctx *ctx, vg_convbn *u, int j, vg_shape src, int train,
                       vg_error *err) {
    int last = j == (u->in_c[1] > 0);
    vg_conv_params q = u->p;
    q.in_c = u->in_c[j];
    q.train = train;
    q.residual = j == 1;
    q.has_bias = last && (u->p.has_bias || !train);
    q.act = last && !train ? VG_ACT_RELU : VG_ACT_NONE;
    src.c = q.in_c;
    return vg_conv_create(ctx, &q, src, &u->conv[j], err);
}

int vg_convbn_create(vg_ctx *ctx, const vg_param_table *t, const char *prefix,
                     const char *conv, const vg_conv_params *p, vg_shape src, int b_c,
                     int train, vg_convbn *u, vg_error *err) {
    memset(u, 0, sizeof *u);
    u->p = *p;
    if (src.c != p->in_c || p->groups != 1 || b_c < 0 || b_c >= p->in_c ||
        (b_c && p->transposed))
        return vg_fail(err, VG_ERR_ARG, "%s: cannot plan a %d -> %d unit on %d channels "
                       "split at %d", prefix, p->in_c, p->out_c, src.c, p->in_c - b_c);
    u->in_c[0] = p->in_c - b_c;
    u->in_c[1] = b_c;
    int rc = find_params(u, t, prefix, conv, err);
    for (int j = 0; j < 1 + (b_c > 0) && !rc; j++) rc = create_part(ctx, u, j, src, train, err);
    if (!rc && train)
        rc = vg_bn_create(ctx, vg_conv_dst_shape(u->conv[0]), BN_EPS, BN_MOMENTUM, 1, &u->bn,
                          err);
    if (rc) {
        vg_convbn_free(u);
        vg_wrap(err, prefix);
    }
    return rc;
}

void vg_convbn_free(vg_convbn *u) {
    vg_conv_free(u->conv[0]);
    vg_conv_free(u->conv[1]);
    vg_bn_free(u->bn);
    u->conv[0] = u->conv[1] = NULL;
    u->bn = NULL;
}

/* Eval-mode BN folded into w and bias: w[o] *= s[o], bias[o] = (b[o] - mean[o]) s[o] +
 * beta[o], s = gamma / sqrt(var + eps). Output channel o is the first index of a
 * convolution's weight and the second of a transposed one's. */
static void fold(float *w, float *bias, const vg_convbn *u, const float *params) {
    const float *g = params + u->gamma->offset, *beta = params + u->beta->offset;
    const float *m = params + u->mean->offset, *v = params + u->var->offset;
    const float *b = u->b ? params + u->b->offset : NULL;
    int co = u->p.out_c, ci = u->p.in_c;
    size_t kk = (size_t)u->p.kh * u->p.kw;
    for (int o = 0; o < co; o++) {
        /* the scale in double so folding adds no more than one float rounding */
        double s = (double)g[o] / sqrt((double)v[o] + BN_EPS);
        bias[o] = (float)(((b ? b[o] : 0.0) - m[o]) * s + beta[o]);
        for (int i = 0; i < ci; i++) {
            float *x = w + (u->p.transposed ? (size_t)i * co + o : (size_t)o * ci + i) * kk;
            for (size_t k = 0; k < kk; k++) x[k] = (float)(x[k] * s);
        }
    }
}

/* Between a whole [out, in, kh, kw] weight and its two parts, [out, in_c[0], kh, kw] then
 * [out, in_c[1], kh, kw], one after the other: whole -> parts when to_parts, else back. */
static void split_weight(float *dst, const float *src, const vg_convbn *u, int to_parts) {
    size_t kk = (size_t)u->p.kh * u->p.kw, row = (size_t)u->p.in_c * kk, part = 0;
    for (int j = 0; j < 2; j++) {
        size_t n = (size_t)u->in_c[j] * kk, first = j ? (size_t)u->in_c[0] * kk : 0;
        for (size_t o = 0; o < (size_t)u->p.out_c; o++) {
            size_t at_whole = o * row + first, at_part = part + o * n;
            memcpy(dst + (to_parts ? at_part : at_whole), src + (to_parts ? at_whole : at_part),
                   n * sizeof *src);
        }
        part += (size_t)u->p.out_c * n;
    }
}

int vg_convbn_set_params(vg_convbn *u, const float *params, vg_error *err) {
    size_t nw = u->w->count, n_fold = u->bn ? 0 : nw, n_parts = u->conv[1] ? nw : 0;
    const float *w = params + u->w->offset, *b = u->b ? params + u->b->offset : NULL;
    float *tmp = NULL; /* [folded weight | its two parts | folded bias], as needed */
    if (n_fold + n_parts) {
        tmp = malloc((n_fold + n_parts + (size_t)u->p.out_c) * sizeof *tmp);
        if (!tmp) return vg_fail(err, VG_ERR_NOMEM, "out of memory for convolution weights");
    }
    if (!u->bn) {
        float *bias = tmp + n_fold + n_parts;
        memcpy(tmp, w, nw * sizeof *w);
        fold(tmp, bias, u, params);
        w = tmp;
        b = bias;
    }
    int rc;
    if (u->conv[1]) {
        float *parts = tmp + n_fold;
        split_weight(parts, w, u, 1);
        rc = vg_conv_set_weights(u->conv[0], parts, NULL, err);
        size_t n0 = (size_t)u->p.out_c * u->in_c[0] * u->p.kh * u->p.kw;
        if (!rc) rc = vg_conv_set_weights(u->conv[1], parts + n0, b, err);
    } else {
        rc = vg_conv_set_weights(u->conv[0], w, b, err);
    }
    free(tmp);
    return rc;
}

int vg_convbn_forward(vg_convbn *u, const vg_tensor *a, const vg_tensor *b, float *params,
                      vg_error *err) {
    if (!b != !u->conv[1])
        return vg_fail(err, VG_ERR_ARG, "convolution unit takes %d input(s)", 1 + !!u->conv[1]);
    int rc = vg_conv_forward(u->conv[0], a, NULL, err);
    const vg_tensor *y = vg_conv_dst(u->conv[0]);
    if (!rc && b) {
        rc = vg_conv_forward(u->conv[1], b, y, err);
        y = vg_conv_dst(u->conv[1]);
    }
    if (!rc && u->bn)
        rc = vg_bn_forward(u->bn, y, params + u->gamma->offset, params + u->beta->offset,
                           params + u->mean->offset, params + u->var->offset, err);
    return rc;
}

const vg_tensor *vg_convbn_dst(const vg_convbn *u) {
    return u->bn ? vg_bn_dst(u->bn) : vg_conv_dst(u->conv[u->conv[1] != NULL]);
}

int vg_convbn_backward(vg_convbn *u, const vg_tensor *diff_dst, const float *params,
                       float *grads, int want_dx, vg_error *err) {
    if (!u->bn) return vg_fail(err, VG_ERR_ARG, "convolution unit was planned for inference");
    int rc = vg_bn_backward(u->bn, diff_dst, params + u->gamma->offset,
                            params + u->beta->offset, grads + u->gamma->offset,
                            grads + u->beta->offset, err);
    const vg_tensor *g = vg_bn_diff_src(u->bn);
    float *dw = grads + u->w->offset, *db = u->b ? grads + u->b->offset : NULL;
    if (rc || !u->conv[1]) return rc ? rc : vg_conv_backward(u->conv[0], g, dw, db, want_dx, err);
    /* both parts see the same output gradient: the second adds the first's output */
    float *parts = malloc(u->w->count * sizeof *parts);
    if (!parts) return vg_fail(err, VG_ERR_NOMEM, "out of memory for weight gradients");
    size_t n0 = (size_t)u->p.out_c * u->in_c[0] * u->p.kh * u->p.kw;
    rc = vg_conv_backward(u->conv[0], g, parts, NULL, want_dx, err);
    if (!rc) rc = vg_conv_backward(u->conv[1], g, parts + n0, db, want_dx, err);
    if (!rc) split_weight(dw, parts, u, 0);
    free(parts);
    return rc;
}

vg_tensor *vg_convbn_diff_src(const vg_convbn *u, int input) {
    return vg_conv_diff_src(u->conv[input]);
}

/* PREFIX.weight and PREFIX.bias of t (bias NULL when t has none). */
static int conv_tensors(const vg_param_table *t, const char *prefix, const vg_param **w,
                        const vg_param **b, vg_error *err) {
    char name[40];
    snprintf(name, sizeof name, "%s.weight", prefix);
    *w = vg_param_find(t, name);
    snprintf(name, sizeof name, "%s.bias", prefix);
    *b = vg_param_find(t, name);
    return *w ? VG_OK : vg_fail(err, VG_ERR_MISSING, "no tensor '%s.weight'", prefix);
}

int vg_table_conv_set(vg_conv *c, const vg_param_table *t, const float *params,
                      const char *prefix, vg_error *err) {
    const vg_param *w, *b;
    int rc = conv_tensors(t, prefix, &w, &b, err);
    return rc ? rc
              : vg_conv_set_weights(c, params + w->offset, b ? params + b->offset : NULL, err);
}

int vg_table_conv_backward(vg_conv *c, const vg_param_table *t, const vg_tensor *diff_dst,
                           float *grads, const char *prefix, int want_dx, vg_error *err) {
    const vg_param *w, *b;
    int rc = conv_tensors(t, prefix, &w, &b, err);
    return rc ? rc
              : vg_conv_backward(c, diff_dst, grads + w->offset, b ? grads + b->offset : NULL,
                                 want_dx, err);
}
