/* unet.c - the U-Net predictor (see unet.h). */
#include "models/unet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/convbn.h"

#define LEVELS VG_UNET_LEVELS
#define UNITS (2 * (LEVELS + 1) + 3 * LEVELS) /* conv + BN + ReLU units, 17 */

/* Units in forward order: enc.0.0 ... enc.3.1, then up.l, dec.l.0, dec.l.1 for l = 2, 1, 0. */
#define ENC(l, j) (2 * (l) + (j))
#define UP(l) (2 * (LEVELS + 1) + 3 * (LEVELS - 1 - (l)))
#define DEC(l, j) (UP(l) + 1 + (j))

typedef struct unit_spec {
    char name[16];    /* "enc.1.0", "up.2", "dec.0.1" */
    vg_conv_params p; /* the whole convolution, as in PyTorch */
    int level;        /* its input is H >> level by W >> level */
    int b_c;          /* channels of a second input (dec.l.0's up.l), 0: none */
} unit_spec;

struct vg_unet {
    vg_ctx *ctx;
    vg_param_table params;
    int train;
    vg_tensor *in, *dpred;
    vg_convbn unit[UNITS];
    vg_pool *pool[LEVELS]; /* after enc.l, l < LEVELS */
    vg_conv *out;
};

static int width(int l) { return VG_UNET_WIDTH << l; }

/* A conv3x3 (pad 1) unit; batch norm follows, so no bias. */
static unit_spec conv_unit(int level, int in_c, int out_c, int b_c) {
    unit_spec s = {.p = vg_conv_default_params(in_c, out_c, 3, 1, 1), .level = level,
                   .b_c = b_c};
    s.p.has_bias = 0;
    return s;
}

static void unit_specs(int T, unit_spec s[UNITS]) {
    for (int l = 0; l <= LEVELS; l++)
        for (int j = 0; j < 2; j++) {
            int in_c = j ? width(l) : l ? width(l - 1) : 3 * T;
            s[ENC(l, j)] = conv_unit(l, in_c, width(l), 0);
            snprintf(s[ENC(l, j)].name, sizeof s->name, "enc.%d.%d", l, j);
        }
    for (int l = LEVELS - 1; l >= 0; l--) {
        unit_spec *up = &s[UP(l)];
        *up = conv_unit(l + 1, width(l + 1), width(l), 0);
        up->p.stride = 2; /* ConvTranspose2d(k3, s2, p1, output_padding 1) */
        up->p.transposed = 1;
        up->p.out_pad = 1;
        snprintf(up->name, sizeof up->name, "up.%d", l);
        /* cat(skip l, up.l): the skip is the first input, up.l's output the second */
        for (int j = 0; j < 2; j++) {
            s[DEC(l, j)] = conv_unit(l, (2 - j) * width(l), width(l), j ? 0 : width(l));
            snprintf(s[DEC(l, j)].name, sizeof s->name, "dec.%d.%d", l, j);
        }
    }
}

void vg_unet_params(const vg_predictor_config *cfg, vg_param_table *t) {
    unit_spec s[UNITS];
    unit_specs(cfg->frames, s);
    memset(t, 0, sizeof *t);
    for (int i = 0; i < UNITS; i++) vg_convbn_add_params(t, s[i].name, "conv", &s[i].p, 0);
    vg_param_add(t, "out.weight", 4, 3, VG_UNET_WIDTH, 1, 1);
    vg_param_add(t, "out.bias", 1, 3, 0, 0, 0);
    vg_param_end_trainable(t);
    for (int i = 0; i < UNITS; i++) vg_convbn_add_params(t, s[i].name, "conv", &s[i].p, 1);
}

double vg_unet_macs(const vg_predictor_config *cfg, double *first) {
    unit_spec s[UNITS];
    unit_specs(cfg->frames, s);
    double hw = (double)cfg->height * cfg->width, macs = hw * VG_UNET_WIDTH * 3; /* out */
    for (int i = 0; i < UNITS; i++) {
        /* counted over input pixels: a stride-1 conv has as many outputs, and a transposed
         * conv scatters each input through the whole kernel */
        const vg_conv_params *p = &s[i].p;
        double m = hw / (1 << (2 * s[i].level)) * p->in_c * p->out_c * p->kh * p->kw;
        if (i == ENC(0, 0)) *first = m;
        macs += m;
    }
    return macs;
}

static int plan(vg_unet *u, const vg_predictor_config *cfg, int batch, vg_error *err) {
    unit_spec s[UNITS];
    unit_specs(cfg->frames, s);
    vg_shape in = {batch, 3 * cfg->frames, cfg->height, cfg->width};
    vg_shape last = {batch, VG_UNET_WIDTH, cfg->height, cfg->width}; /* dec.0.1's output */
    int rc = vg_tensor_create(u->ctx, in, &u->in, err);
    for (int i = 0; i < UNITS && !rc; i++) {
        vg_shape src = {batch, s[i].p.in_c, cfg->height >> s[i].level, cfg->width >> s[i].level};
        rc = vg_convbn_create(u->ctx, &u->params, s[i].name, "conv", &s[i].p, src, s[i].b_c,
                              u->train, &u->unit[i], err);
    }
    for (int l = 0; l < LEVELS && !rc; l++)
        rc = vg_pool_create(u->ctx, vg_tensor_shape(vg_convbn_dst(&u->unit[ENC(l, 1)])), 2, 2,
                            0, u->train, &u->pool[l], err);
    vg_conv_params op = vg_conv_default_params(VG_UNET_WIDTH, 3, 1, 1, 0);
    op.train = u->train;
    if (!rc) rc = vg_conv_create(u->ctx, &op, last, &u->out, err);
    if (!rc && u->train) rc = vg_tensor_create(u->ctx, vg_conv_dst_shape(u->out), &u->dpred, err);
    return rc;
}

int vg_unet_create(vg_ctx *ctx, const vg_predictor_config *cfg, int batch, int train,
                   vg_unet **out, vg_error *err) {
    *out = NULL;
    int rc = vg_predictor_config_check(cfg, err);
    if (!rc && cfg->encoder != VG_ENCODER_UNET)
        rc = vg_fail(err, VG_ERR_ARG, "a U-Net cannot be planned for encoder '%s'",
                     vg_encoder_describe(cfg->encoder).name);
    if (!rc) rc = vg_convbn_check_batch(batch, train, err);
    if (rc) return rc;
    vg_unet *u = calloc(1, sizeof *u);
    if (!u) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the U-Net");
    u->ctx = ctx;
    u->train = train;
    vg_unet_params(cfg, &u->params);
    rc = plan(u, cfg, batch, err);
    if (rc) {
        vg_unet_free(u);
        return rc;
    }
    *out = u;
    return VG_OK;
}

void vg_unet_free(vg_unet *u) {
    if (!u) return;
    vg_tensor_free(u->in);
    vg_tensor_free(u->dpred);
    for (int i = 0; i < UNITS; i++) vg_convbn_free(&u->unit[i]);
    for (int l = 0; l < LEVELS; l++) vg_pool_free(u->pool[l]);
    vg_conv_free(u->out);
    free(u);
}

vg_tensor *vg_unet_input(vg_unet *u) { return u->in; }
const vg_tensor *vg_unet_output(const vg_unet *u) { return vg_conv_dst(u->out); }

int vg_unet_set_params(vg_unet *u, const float *params, vg_error *err) {
    int rc = vg_table_conv_set(u->out, &u->params, params, "out", err);
    for (int i = 0; i < UNITS && !rc; i++) rc = vg_convbn_set_params(&u->unit[i], params, err);
    return rc;
}

static const vg_tensor *dst(const vg_unet *u, int i) { return vg_convbn_dst(&u->unit[i]); }

int vg_unet_forward(vg_unet *u, float *params, vg_error *err) {
    const vg_tensor *x = u->in;
    int rc = VG_OK;
    for (int l = 0; l <= LEVELS && !rc; l++) {
        if (l > 0) {
            rc = vg_pool_forward(u->pool[l - 1], x, err);
            x = vg_pool_dst(u->pool[l - 1]);
        }
        for (int j = 0; j < 2 && !rc; j++) {
            rc = vg_convbn_forward(&u->unit[ENC(l, j)], x, NULL, params, err);
            x = dst(u, ENC(l, j));
        }
    }
    for (int l = LEVELS - 1; l >= 0 && !rc; l--) {
        rc = vg_convbn_forward(&u->unit[UP(l)], x, NULL, params, err);
        if (!rc)
            rc = vg_convbn_forward(&u->unit[DEC(l, 0)], dst(u, ENC(l, 1)), dst(u, UP(l)), params,
                                   err);
        if (!rc) rc = vg_convbn_forward(&u->unit[DEC(l, 1)], dst(u, DEC(l, 0)), NULL, params, err);
        x = dst(u, DEC(l, 1));
    }
    return rc ? rc : vg_conv_forward(u->out, x, NULL, err);
}

static int unit_backward(vg_unet *u, int i, const vg_tensor *g, const float *params,
                         float *grads, vg_error *err) {
    int want_dx = i != ENC(0, 0); /* the frames need no gradient */
    return vg_convbn_backward(&u->unit[i], g, params, grads, want_dx, err);
}

static vg_tensor *diff_src(const vg_unet *u, int i, int input) {
    return vg_convbn_diff_src(&u->unit[i], input);
}

int vg_unet_backward(vg_unet *u, const float *params, const float *dpred, float *grads,
                     vg_error *err) {
    if (!u->train) return vg_fail(err, VG_ERR_ARG, "the U-Net was planned for inference");
    int rc = vg_tensor_write(u->dpred, dpred, err);
    if (!rc) rc = vg_table_conv_backward(u->out, &u->params, u->dpred, grads, "out", 1, err);
    const vg_tensor *g = vg_conv_diff_src(u->out);
    for (int l = 0; l < LEVELS && !rc; l++) {
        rc = unit_backward(u, DEC(l, 1), g, params, grads, err);
        if (!rc) rc = unit_backward(u, DEC(l, 0), diff_src(u, DEC(l, 1), 0), params, grads, err);
        if (!rc) rc = unit_backward(u, UP(l), diff_src(u, DEC(l, 0), 1), params, grads, err);
        g = diff_src(u, UP(l), 0);
    }
    for (int l = LEVELS; l >= 0 && !rc; l--) {
        rc = unit_backward(u, ENC(l, 1), g, params, grads, err);
        if (!rc) rc = unit_backward(u, ENC(l, 0), diff_src(u, ENC(l, 1), 0), params, grads, err);
        g = diff_src(u, ENC(l, 0), 0);
        /* skip l - 1 fed both the pool and dec.(l - 1).0: its gradient is the sum */
        if (!rc && l > 0) {
            rc = vg_pool_backward(u->pool[l - 1], g, diff_src(u, DEC(l - 1, 0), 0), err);
            g = vg_pool_diff_src(u->pool[l - 1]);
        }
    }
    return rc;
}
