/* encoder.c - plans, loads and runs an encoder table (see encoder_arch.h).
 *
 * Each row becomes one backend operation that owns its output; a row reads the output of
 * an earlier row, so the whole forward is one loop with no copies. The only host-side
 * arithmetic is the BN folding at create. */
#include "models/encoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/encoder_arch.h"

#define BN_EPS 1e-5f /* torchvision's BatchNorm2d default */

typedef struct enc_op {
    vg_conv *conv; /* exactly one of conv and pool is set */
    vg_pool *pool;
} enc_op;

struct vg_encoder {
    const enc_arch *arch;
    vg_shape input;
    enc_op *ops;   /* one per row */
    int taps[3];   /* rows giving the stride-8, 16 and 32 taps */
};

static const enc_arch *arch_of(vg_encoder_kind kind) {
    switch (kind) {
    case VG_ENCODER_RESNET18: return vg_resnet18_arch();
    case VG_ENCODER_MOBILENET_V2: return vg_mobilenet_v2_arch();
    case VG_ENCODER_UNET: break; /* no frozen encoder */
    }
    return NULL;
}

vg_encoder_info vg_encoder_describe(vg_encoder_kind kind) {
    /* the U-Net takes the frames, normalised to [-1, 1] */
    static const vg_encoder_info unet = {.name = "unet", .mean = {0.5f, 0.5f, 0.5f},
                                         .std = {0.5f, 0.5f, 0.5f}};
    const enc_arch *a = arch_of(kind);
    vg_encoder_info none = {0};
    return a ? a->info : kind == VG_ENCODER_UNET ? unet : none;
}

int vg_encoder_kind_parse(const char *name, vg_encoder_kind *out, vg_error *err) {
    const vg_encoder_kind kinds[] = {VG_ENCODER_RESNET18, VG_ENCODER_MOBILENET_V2,
                                     VG_ENCODER_UNET};
    for (size_t i = 0; name && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(name, vg_encoder_describe(kinds[i]).name) == 0) {
            *out = kinds[i];
            return VG_OK;
        }
    }
    return vg_fail(err, VG_ERR_ARG, "unknown encoder '%s' (resnet18, mobilenet_v2, unet)",
                   name ? name : "(null)");
}

/* ---- parameter list --------------------------------------------------------------- */

static int row_param_count(const enc_row *r) {
    if (!r->weight) return 0;
    return 1 + (r->bias != NULL) + (r->bn[0] ? 4 : 0);
}

int vg_encoder_param_count(vg_encoder_kind kind) {
    const enc_arch *a = arch_of(kind);
    int n = 0;
    for (int i = 0; a && i < a->n_rows; i++) n += row_param_count(&a->rows[i]);
    return n;
}

/* Parameter j of row r: weight, then bias, then the four BN tensors. */
static void row_param(const enc_row *r, int j, const char **name, int *ndim,
                      int64_t shape[4]) {
    if (j == 0) {
        *name = r->weight;
        *ndim = 4;
        shape[0] = r->out;
        shape[1] = r->in / r->groups;
        shape[2] = shape[3] = r->k;
        return;
    }
    *name = r->bias && j == 1 ? r->bias : r->bn[j - 1 - (r->bias != NULL)];
    *ndim = 1;
    shape[0] = r->out;
}

int vg_encoder_param(vg_encoder_kind kind, int i, const char **name, int *ndim,
                     int64_t shape[4]) {
    const enc_arch *a = arch_of(kind);
    for (int r = 0; a && r < a->n_rows && i >= 0; r++) {
        int n = row_param_count(&a->rows[r]);
        if (i < n) {
            row_param(&a->rows[r], i, name, ndim, shape);
            return VG_OK;
        }
        i -= n;
    }
    return VG_ERR_ARG;
}

/* ---- weight sources and BN folding ------------------------------------------------- */

static const float *file_get(void *user, const char *name, int ndim, const int64_t *shape,
                             vg_error *err) {
    const vg_file_weights *fw = user;
    char full[512];
    int len = snprintf(full, sizeof full, "%s%s", fw->prefix ? fw->prefix : "", name);
    if (len < 0 || (size_t)len >= sizeof full) {
        vg_fail(err, VG_ERR_ARG, "parameter name '%s%s' is too long", fw->prefix, name);
        return NULL;
    }
    return vg_tensorfile_get(fw->file, full, ndim, shape, err);
}

vg_weights vg_weights_from_file(vg_file_weights *fw) {
    return (vg_weights){.get = file_get, .user = fw};
}

void vg_fold_bn(float *w, float *b, int out_c, size_t per_out, const float *gamma,
                const float *beta, const float *mean, const float *var, float eps) {
    for (int o = 0; o < out_c; o++) {
        /* the scale in double so folding adds no more than one float rounding */
        double s = (double)gamma[o] / sqrt((double)var[o] + (double)eps);
        float *wo = w + (size_t)o * per_out;
        for (size_t j = 0; j < per_out; j++) wo[j] = (float)(wo[j] * s);
        b[o] = (float)(((double)b[o] - mean[o]) * s + beta[o]);
    }
}

/* One parameter from w as a status: err always names the failure. */
static int get_param(const vg_weights *w, const char *name, int ndim, const int64_t *shape,
                     const float **out, vg_error *err) {
    vg_error e = {0};
    *out = w->get(w->user, name, ndim, shape, &e);
    if (*out) return VG_OK;
    if (!e.code) vg_fail(&e, VG_ERR_MISSING, "tensor '%s' is missing", name);
    if (err) *err = e;
    return e.code;
}

/* Bias into b (zero when the row has none) and the row's BN folded into w and b. */
static int load_bias_and_bn(const enc_row *r, const vg_weights *w, float *wb, float *bb,
                            size_t per_out, vg_error *err) {
    const int64_t shape[1] = {r->out};
    const float *src = NULL, *bn[4] = {NULL};
    int rc = VG_OK;
    if (r->bias && (rc = get_param(w, r->bias, 1, shape, &src, err)) != VG_OK) return rc;
    if (src) memcpy(bb, src, sizeof(float) * (size_t)r->out);
    for (int j = 0; r->bn[0] && j < 4; j++)
        if ((rc = get_param(w, r->bn[j], 1, shape, &bn[j], err)) != VG_OK) return rc;
    if (r->bn[0]) vg_fold_bn(wb, bb, r->out, per_out, bn[0], bn[1], bn[2], bn[3], BN_EPS);
    return VG_OK;
}

/* Reads row r's parameters, folds its BN, and hands them to the planned convolution. */
static int load_conv(vg_conv *op, const enc_row *r, const vg_weights *w, vg_error *err) {
    size_t per_out = (size_t)(r->in / r->groups) * (size_t)r->k * (size_t)r->k;
    const int64_t shape[4] = {r->out, r->in / r->groups, r->k, r->k};
    float *wb = malloc(sizeof(float) * per_out * (size_t)r->out);
    float *bb = calloc((size_t)r->out, sizeof(float));
    const float *src = NULL;
    int rc = (wb && bb) ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory");
    if (rc == VG_OK) rc = get_param(w, r->weight, 4, shape, &src, err);
    if (rc == VG_OK) {
        memcpy(wb, src, sizeof(float) * per_out * (size_t)r->out);
        rc = load_bias_and_bn(r, w, wb, bb, per_out, err);
    }
    if (rc == VG_OK) rc = vg_conv_set_weights(op, wb, bb, err);
    free(wb);
    free(bb);
    return rc;
}

/* ---- planning --------------------------------------------------------------------- */

static vg_shape row_shape(const vg_encoder *enc, int i) {
    if (i < 0) return enc->input;
    return enc->ops[i].conv ? vg_conv_dst_shape(enc->ops[i].conv)
                            : vg_pool_dst_shape(enc->ops[i].pool);
}

static vg_tensor *row_dst(const vg_encoder *enc, int i) {
    return enc->ops[i].conv ? vg_conv_dst(enc->ops[i].conv) : vg_pool_dst(enc->ops[i].pool);
}

/* TensorFlow "same": output ceil(n/s); the smaller half of the padding goes first. */
static void same_pad(int n, int k, int s, int *first, int *last) {
    int out = (n + s - 1) / s;
    int total = (out - 1) * s + k - n;
    if (total < 0) total = 0;
    *first = total / 2;
    *last = total - *first;
}

static vg_conv_params row_params(const enc_row *r, vg_shape src) {
    vg_conv_params p = vg_conv_default_params(r->in, r->out, r->k, r->stride,
                                              r->pad == ENC_PAD_SAME ? 0 : r->pad);
    if (r->pad == ENC_PAD_SAME) {
        same_pad(src.h, r->k, r->stride, &p.pad_t, &p.pad_b);
        same_pad(src.w, r->k, r->stride, &p.pad_l, &p.pad_r);
    }
    p.groups = r->groups;
    p.has_bias = 1; /* a folded BN always leaves a bias */
    p.act = r->act;
    p.residual = r->res != 0;
    p.train = 0;
    return p;
}

static int plan_row(vg_ctx *ctx, vg_encoder *enc, int i, const vg_weights *w,
                    vg_error *err) {
    const enc_row *r = &enc->arch->rows[i];
    vg_shape src = row_shape(enc, i - r->src);
    if (!r->weight)
        return vg_pool_create(ctx, src, r->k, r->stride, r->pad, 0, &enc->ops[i].pool, err);
    vg_conv_params p = row_params(r, src);
    int rc = vg_conv_create(ctx, &p, src, &enc->ops[i].conv, err);
    return rc == VG_OK ? load_conv(enc->ops[i].conv, r, w, err) : rc;
}

/* The last row of module (the row itself or any row inside it), or -1. */
static int find_module(const enc_arch *a, const char *module) {
    size_t len = strlen(module);
    for (int i = a->n_rows - 1; i >= 0; i--) {
        const char *m = a->rows[i].module;
        if (strncmp(m, module, len) == 0 && (m[len] == '\0' || m[len] == '.')) return i;
    }
    return -1;
}

static int check_input(const enc_arch *a, vg_shape s, vg_error *err) {
    if (s.n < 1 || s.c != 3 || s.h < 32 || s.w < 32 || s.h % 32 || s.w % 32)
        return vg_fail(err, VG_ERR_SHAPE,
                       "%s: input (%d, %d, %d, %d) must be (N, 3, H, W) with H and W "
                       "positive multiples of 32", a->info.name, s.n, s.c, s.h, s.w);
    return VG_OK;
}

int vg_encoder_create(vg_ctx *ctx, vg_encoder_kind kind, const vg_weights *w,
                      vg_shape input, vg_encoder **out, vg_error *err) {
    *out = NULL;
    const enc_arch *a = arch_of(kind);
    if (!a) return vg_fail(err, VG_ERR_ARG, "unknown encoder kind %d", (int)kind);
    if (!w || !w->get) return vg_fail(err, VG_ERR_ARG, "%s: no weights source", a->info.name);
    int rc = check_input(a, input, err);
    if (rc != VG_OK) return rc;
    vg_encoder *enc = calloc(1, sizeof *enc);
    if (enc) enc->ops = calloc((size_t)a->n_rows, sizeof *enc->ops);
    if (!enc || !enc->ops) {
        vg_encoder_free(enc);
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", a->info.name);
    }
    enc->arch = a;
    enc->input = input;
    for (int i = 0; i < a->n_rows && rc == VG_OK; i++) {
        rc = plan_row(ctx, enc, i, w, err);
        if (rc != VG_OK) {
            vg_wrap(err, a->rows[i].module);
            vg_wrap(err, a->info.name);
        }
    }
    for (int t = 0; t < 3; t++) enc->taps[t] = find_module(a, a->taps[t]);
    if (rc != VG_OK) {
        vg_encoder_free(enc);
        return rc;
    }
    *out = enc;
    return VG_OK;
}

void vg_encoder_free(vg_encoder *enc) {
    if (!enc) return;
    for (int i = 0; enc->ops && i < enc->arch->n_rows; i++) {
        vg_conv_free(enc->ops[i].conv);
        vg_pool_free(enc->ops[i].pool);
    }
    free(enc->ops);
    free(enc);
}

vg_shape vg_encoder_input_shape(const vg_encoder *enc) { return enc->input; }

/* ---- forward ---------------------------------------------------------------------- */

static int same_shape(vg_shape a, vg_shape b) {
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

static int run_row(vg_encoder *enc, int i, const vg_tensor *frames, vg_error *err) {
    const enc_row *r = &enc->arch->rows[i];
    const vg_tensor *src = i - r->src < 0 ? frames : row_dst(enc, i - r->src);
    if (!r->weight) return vg_pool_forward(enc->ops[i].pool, src, err);
    const vg_tensor *res = r->res ? row_dst(enc, i - r->res) : NULL;
    return vg_conv_forward(enc->ops[i].conv, src, res, err);
}

int vg_encoder_forward(vg_encoder *enc, const vg_tensor *frames, vg_error *err) {
    vg_shape s = vg_tensor_shape(frames), in = enc->input;
    if (!same_shape(s, in))
        return vg_fail(err, VG_ERR_SHAPE,
                       "%s: frames have shape (%d, %d, %d, %d), planned for (%d, %d, %d, %d)",
                       enc->arch->info.name, s.n, s.c, s.h, s.w, in.n, in.c, in.h, in.w);
    for (int i = 0; i < enc->arch->n_rows; i++) {
        int rc = run_row(enc, i, frames, err);
        if (rc != VG_OK) {
            vg_wrap(err, enc->arch->rows[i].module);
            vg_wrap(err, enc->arch->info.name);
            return rc;
        }
    }
    return VG_OK;
}

const vg_tensor *vg_encoder_tap(const vg_encoder *enc, int stride) {
    int t = stride == 8 ? 0 : stride == 16 ? 1 : stride == 32 ? 2 : -1;
    return t < 0 ? NULL : row_dst(enc, enc->taps[t]);
}

const vg_tensor *vg_encoder_output(const vg_encoder *enc, const char *module) {
    int i = find_module(enc->arch, module);
    return i < 0 ? NULL : row_dst(enc, i);
}
