/* predictor.c - the parameter table and the head (merge + decoder) of the predictor. */
#include "models/predictor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "models/convbn.h"
#include "nn/attention.h"
#include "nn/dropout.h"

static const char *const variant_names[] = {"base", "dropout", "skiptwice", "attention"};
static const float dropout_p[2] = {0.2f, 0.1f};

const char *vg_variant_name(vg_variant v) {
    return (unsigned)v < 4 ? variant_names[v] : NULL;
}

int vg_variant_parse(const char *name, vg_variant *out, vg_error *err) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, variant_names[i])) {
            *out = (vg_variant)i;
            return VG_OK;
        }
    return vg_fail(err, VG_ERR_ARG,
                   "unknown variant '%s' (expected base, dropout, skiptwice or attention)",
                   name);
}

int vg_predictor_config_check(const vg_predictor_config *cfg, vg_error *err) {
    if (!vg_encoder_describe(cfg->encoder).name)
        return vg_fail(err, VG_ERR_ARG, "unknown encoder kind %d", (int)cfg->encoder);
    if (!vg_variant_name(cfg->variant))
        return vg_fail(err, VG_ERR_ARG, "unknown variant %d", (int)cfg->variant);
    if (cfg->encoder == VG_ENCODER_UNET && cfg->variant != VG_VARIANT_BASE)
        return vg_fail(err, VG_ERR_UNSUPPORTED,
                       "variant '%s' needs a pretrained encoder; the unet has only 'base'",
                       vg_variant_name(cfg->variant));
    if (cfg->frames < 1 || cfg->frames > 64)
        return vg_fail(err, VG_ERR_ARG, "frame count %d is outside 1..64", cfg->frames);
    if (cfg->step < 1 || cfg->step > 64)
        return vg_fail(err, VG_ERR_ARG, "frame step %d is outside 1..64", cfg->step);
    if (cfg->height < 32 || cfg->width < 32 || cfg->height % 32 || cfg->width % 32 ||
        cfg->height > 4096 || cfg->width > 4096)
        return vg_fail(err, VG_ERR_ARG, "input size %dx%d is not a multiple of 32 in 32..4096",
                       cfg->width, cfg->height);
    return VG_OK;
}

/* ---- parameter table ------------------------------------------------------------------ */

static int dec_channels(int i) { return VG_DECODER_WIDTH >> i; } /* input of block i */

/* ConvTranspose2d(k3, s2, p1, output_padding 1): doubles H and W. */
static vg_conv_params deconv_params(int ci, int co) {
    vg_conv_params p = vg_conv_default_params(ci, co, 3, 2, 1);
    p.transposed = 1;
    p.out_pad = 1;
    return p;
}

static void add_blocks(vg_param_table *t, int stats) {
    char name[40];
    for (int i = 0; i < VG_DECODER_BLOCKS; i++) {
        vg_conv_params dp = deconv_params(dec_channels(i), dec_channels(i + 1));
        snprintf(name, sizeof name, "dec.%d", i);
        vg_convbn_add_params(t, name, "deconv", &dp, stats);
    }
}

void vg_predictor_params(const vg_predictor_config *cfg, vg_param_table *t) {
    memset(t, 0, sizeof *t);
    vg_encoder_info e = vg_encoder_describe(cfg->encoder);
    int T = cfg->frames;
    vg_param_add(t, "merge.weight", 4, VG_DECODER_WIDTH, (int64_t)T * e.c32, 1, 1);
    vg_param_add(t, "merge.bias", 1, VG_DECODER_WIDTH, 0, 0, 0);
    add_blocks(t, 0);
    vg_param_add(t, "out.weight", 4, dec_channels(VG_DECODER_BLOCKS), 3, 3, 3);
    vg_param_add(t, "out.bias", 1, 3, 0, 0, 0);
    if (cfg->variant == VG_VARIANT_SKIPTWICE) {
        vg_param_add(t, "skip16.weight", 4, dec_channels(1), (int64_t)T * e.c16, 1, 1);
        vg_param_add(t, "skip16.bias", 1, dec_channels(1), 0, 0, 0);
        vg_param_add(t, "skip8.weight", 4, dec_channels(2), (int64_t)T * e.c8, 1, 1);
        vg_param_add(t, "skip8.bias", 1, dec_channels(2), 0, 0, 0);
    }
    char name[40];
    for (int j = 0; j < 3 && cfg->variant == VG_VARIANT_ATTENTION; j++) {
        snprintf(name, sizeof name, "att.%d.weight", j);
        vg_param_add(t, name, 4, 1, 2, 7, 7);
    }
    vg_param_end_trainable(t);
    add_blocks(t, 1);
}

/* ---- the head -------------------------------------------------------------------------- */

/* Dropout on host buffers between two backend stages (training only). */
typedef struct drop {
    vg_tensor *y, *dx;
    float *buf;
    float p;
    uint64_t seed;
} drop;

struct vg_head {
    vg_ctx *ctx;
    vg_predictor_config cfg;
    vg_param_table params;
    int batch, train;
    vg_tensor *in32, *in16, *in8, *dpred;
    vg_conv *merge, *skip16, *skip8, *out;
    vg_convbn blk[VG_DECODER_BLOCKS];
    vg_attention *att[3];
    drop drop[2];
};

static const vg_param *P(const vg_head *h, const char *name) {
    return vg_param_find(&h->params, name);
}

static int create_skip(vg_head *h, int stride, int c_enc, int c_dec, vg_tensor **in,
                       vg_conv **conv, vg_error *err) {
    vg_shape s = {h->batch, h->cfg.frames * c_enc, h->cfg.height / stride, h->cfg.width / stride};
    vg_conv_params p = vg_conv_default_params(s.c, c_dec, 1, 1, 0);
    p.residual = 1;
    p.train = h->train;
    int rc = vg_tensor_create(h->ctx, s, in, err);
    return rc ? rc : vg_conv_create(h->ctx, &p, s, conv, err);
}

static int create_drop(vg_head *h, drop *d, vg_shape s, float p, vg_error *err) {
    d->p = p;
    d->buf = malloc(vg_shape_count(s) * sizeof *d->buf);
    if (!d->buf) return vg_fail(err, VG_ERR_NOMEM, "out of memory for dropout");
    int rc = vg_tensor_create(h->ctx, s, &d->y, err);
    return rc ? rc : vg_tensor_create(h->ctx, s, &d->dx, err);
}

static int plan(vg_head *h, vg_error *err) {
    const vg_predictor_config *c = &h->cfg;
    vg_encoder_info e = vg_encoder_describe(c->encoder);
    int B = h->batch, hh = c->height / 32, ww = c->width / 32;
    vg_shape s = {B, c->frames * e.c32, hh, ww};
    int rc = vg_tensor_create(h->ctx, s, &h->in32, err);
    vg_conv_params mp = vg_conv_default_params(s.c, VG_DECODER_WIDTH, 1, 1, 0);
    mp.train = h->train;
    if (!rc) rc = vg_conv_create(h->ctx, &mp, s, &h->merge, err);
    s = vg_conv_dst_shape(h->merge);
    int dropout = c->variant == VG_VARIANT_DROPOUT && h->train;
    if (!rc && dropout) rc = create_drop(h, &h->drop[0], s, dropout_p[0], err);
    char name[40];
    for (int i = 0; i < VG_DECODER_BLOCKS && !rc; i++) {
        vg_conv_params dp = deconv_params(dec_channels(i), dec_channels(i + 1));
        snprintf(name, sizeof name, "dec.%d", i);
        rc = vg_convbn_create(h->ctx, &h->params, name, "deconv", &dp, s, 0, h->train,
                              &h->blk[i], err);
        if (rc) break;
        s = vg_tensor_shape(vg_convbn_dst(&h->blk[i]));
        if (!rc && i == 0 && c->variant == VG_VARIANT_SKIPTWICE)
            rc = create_skip(h, 16, e.c16, s.c, &h->in16, &h->skip16, err);
        if (!rc && i == 1 && c->variant == VG_VARIANT_SKIPTWICE)
            rc = create_skip(h, 8, e.c8, s.c, &h->in8, &h->skip8, err);
        if (!rc && i < 3 && c->variant == VG_VARIANT_ATTENTION)
            rc = vg_attention_create(h->ctx, s, h->train, &h->att[i], err);
        if (!rc && i == 0 && dropout) rc = create_drop(h, &h->drop[1], s, dropout_p[1], err);
    }
    vg_conv_params op = deconv_params(dec_channels(VG_DECODER_BLOCKS), 3);
    op.train = h->train;
    if (!rc) rc = vg_conv_create(h->ctx, &op, s, &h->out, err);
    if (!rc && h->train) rc = vg_tensor_create(h->ctx, vg_conv_dst_shape(h->out), &h->dpred, err);
    return rc;
}

int vg_head_create(vg_ctx *ctx, const vg_predictor_config *cfg, int batch, int train,
                   vg_head **out, vg_error *err) {
    *out = NULL;
    int rc = vg_predictor_config_check(cfg, err);
    if (!rc) rc = vg_convbn_check_batch(batch, train, err);
    if (rc) return rc;
    vg_head *h = calloc(1, sizeof *h);
    if (!h) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the predictor");
    h->ctx = ctx;
    h->cfg = *cfg;
    h->batch = batch;
    h->train = train;
    vg_predictor_params(cfg, &h->params);
    rc = plan(h, err);
    if (rc) {
        vg_head_free(h);
        return rc;
    }
    *out = h;
    return VG_OK;
}

void vg_head_free(vg_head *h) {
    if (!h) return;
    vg_tensor_free(h->in32);
    vg_tensor_free(h->in16);
    vg_tensor_free(h->in8);
    vg_tensor_free(h->dpred);
    vg_conv_free(h->merge);
    vg_conv_free(h->skip16);
    vg_conv_free(h->skip8);
    vg_conv_free(h->out);
    for (int i = 0; i < VG_DECODER_BLOCKS; i++) vg_convbn_free(&h->blk[i]);
    for (int j = 0; j < 3; j++) vg_attention_free(h->att[j]);
    for (int k = 0; k < 2; k++) {
        vg_tensor_free(h->drop[k].y);
        vg_tensor_free(h->drop[k].dx);
        free(h->drop[k].buf);
    }
    free(h);
}

vg_tensor *vg_head_input(vg_head *h, int stride) {
    return stride == 32 ? h->in32 : stride == 16 ? h->in16 : stride == 8 ? h->in8 : NULL;
}

const vg_tensor *vg_head_output(const vg_head *h) { return vg_conv_dst(h->out); }

static int set_conv(vg_conv *c, const vg_head *h, const float *params, const char *prefix,
                    vg_error *err) {
    return vg_table_conv_set(c, &h->params, params, prefix, err);
}

int vg_head_set_params(vg_head *h, const float *params, vg_error *err) {
    int rc = set_conv(h->merge, h, params, "merge", err);
    if (!rc) rc = set_conv(h->out, h, params, "out", err);
    if (!rc && h->skip16) rc = set_conv(h->skip16, h, params, "skip16", err);
    if (!rc && h->skip8) rc = set_conv(h->skip8, h, params, "skip8", err);
    char name[40];
    for (int j = 0; j < 3 && !rc; j++)
        if (h->att[j]) {
            snprintf(name, sizeof name, "att.%d.weight", j);
            rc = vg_attention_set_weights(h->att[j], params + P(h, name)->offset, err);
        }
    for (int i = 0; i < VG_DECODER_BLOCKS && !rc; i++)
        rc = vg_convbn_set_params(&h->blk[i], params, err);
    return rc;
}

static int drop_forward(drop *d, const vg_tensor *x, uint64_t seed, int64_t step, int k,
                        vg_error *err) {
    char name[48];
    snprintf(name, sizeof name, "dropout.%d.step%lld", k, (long long)step);
    d->seed = vg_seed_for(seed, name);
    size_t n = vg_shape_count(vg_tensor_shape(x));
    int rc = vg_tensor_read(x, d->buf, err);
    if (rc) return rc;
    vg_dropout_forward(d->buf, d->buf, n, d->p, d->seed);
    return vg_tensor_write(d->y, d->buf, err);
}

static int drop_backward(drop *d, const vg_tensor *dy, vg_error *err) {
    size_t n = vg_shape_count(vg_tensor_shape(dy));
    int rc = vg_tensor_read(dy, d->buf, err);
    if (rc) return rc;
    vg_dropout_backward(d->buf, d->buf, n, d->p, d->seed);
    return vg_tensor_write(d->dx, d->buf, err);
}

/* What follows decoder block i in the chosen variant: skip add, attention, dropout. */
static int after_block(vg_head *h, int i, const vg_tensor **x, uint64_t seed, int64_t step,
                       vg_error *err) {
    int rc = VG_OK;
    vg_conv *skip = i == 0 ? h->skip16 : i == 1 ? h->skip8 : NULL;
    if (skip) {
        rc = vg_conv_forward(skip, i == 0 ? h->in16 : h->in8, *x, err);
        *x = vg_conv_dst(skip);
    }
    if (!rc && i < 3 && h->att[i]) {
        rc = vg_attention_forward(h->att[i], *x, err);
        *x = vg_attention_dst(h->att[i]);
    }
    if (!rc && i == 0 && h->drop[1].buf) {
        rc = drop_forward(&h->drop[1], *x, seed, step, 1, err);
        *x = h->drop[1].y;
    }
    return rc;
}

int vg_head_forward(vg_head *h, float *params, uint64_t seed, int64_t step, vg_error *err) {
    int rc = vg_conv_forward(h->merge, h->in32, NULL, err);
    const vg_tensor *x = vg_conv_dst(h->merge);
    if (!rc && h->drop[0].buf) {
        rc = drop_forward(&h->drop[0], x, seed, step, 0, err);
        x = h->drop[0].y;
    }
    for (int i = 0; i < VG_DECODER_BLOCKS && !rc; i++) {
        rc = vg_convbn_forward(&h->blk[i], x, NULL, params, err);
        x = vg_convbn_dst(&h->blk[i]);
        if (!rc) rc = after_block(h, i, &x, seed, step, err);
    }
    return rc ? rc : vg_conv_forward(h->out, x, NULL, err);
}

static int conv_backward(vg_conv *c, const vg_head *h, const vg_tensor *g, float *grads,
                         const char *prefix, int want_dx, vg_error *err) {
    return vg_table_conv_backward(c, &h->params, g, grads, prefix, want_dx, err);
}

/* Reverse of after_block: the skip add passes the gradient through unchanged. */
static int before_block_backward(vg_head *h, int i, const vg_tensor **g, float *grads,
                                 vg_error *err) {
    int rc = VG_OK;
    if (i == 0 && h->drop[1].buf) {
        rc = drop_backward(&h->drop[1], *g, err);
        *g = h->drop[1].dx;
    }
    if (!rc && i < 3 && h->att[i]) {
        char name[40];
        snprintf(name, sizeof name, "att.%d.weight", i);
        rc = vg_attention_backward(h->att[i], *g, grads + P(h, name)->offset, err);
        *g = vg_attention_diff_src(h->att[i]);
    }
    vg_conv *skip = i == 0 ? h->skip16 : i == 1 ? h->skip8 : NULL;
    if (!rc && skip) rc = conv_backward(skip, h, *g, grads, i == 0 ? "skip16" : "skip8", 0, err);
    return rc;
}

int vg_head_backward(vg_head *h, const float *params, const float *dpred, float *grads,
                     vg_error *err) {
    if (!h->train) return vg_fail(err, VG_ERR_ARG, "the predictor was planned for inference");
    int rc = vg_tensor_write(h->dpred, dpred, err);
    if (!rc) rc = conv_backward(h->out, h, h->dpred, grads, "out", 1, err);
    const vg_tensor *g = vg_conv_diff_src(h->out);
    for (int i = VG_DECODER_BLOCKS - 1; i >= 0 && !rc; i--) {
        rc = before_block_backward(h, i, &g, grads, err);
        if (!rc) rc = vg_convbn_backward(&h->blk[i], g, params, grads, 1, err);
        g = vg_convbn_diff_src(&h->blk[i], 0);
    }
    if (!rc && h->drop[0].buf) {
        rc = drop_backward(&h->drop[0], g, err);
        g = h->drop[0].dx;
    }
    return rc ? rc : conv_backward(h->merge, h, g, grads, "merge", 0, err);
}
