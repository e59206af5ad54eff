/* conv.c - convolution and transposed convolution on oneDNN: forward with fused
 * activation and residual sum, backward data and backward weights.
 *
 * The two differ only in which oneDNN descriptor initialiser is called and in their
 * weight layouts, so one plan serves both. Every primitive sees "any" layouts and picks
 * its own (blocked) ones; inputs arriving in another layout are reordered into staged
 * memories, which happens at the network's edges only. */
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/onednn.h"

struct vg_conv {
    vg_ctx *ctx;
    vg_conv_params p;
    vg_shape src_shape, dst_shape;
    dnnl_memory_desc_t user_w_md; /* PyTorch's weight layout */
    vg_prim fwd, bwd_data, bwd_w;
    vg_subpixel *sub;          /* runs the forward pass instead of fwd when set */
    vg_staged src_f, w_f, b;   /* forward operands in the forward primitive's layouts */
    vg_tensor *dst;
    vg_staged w_bd, ddst_bd;   /* backward-data operands */
    vg_staged src_bw, ddst_bw; /* backward-weights operands */
    vg_staged dw, db;          /* weight gradients in the primitive's layouts */
    vg_tensor *diff_src;
    const vg_tensor *last_src;
};

vg_conv_params vg_conv_default_params(int in_c, int out_c, int k, int stride, int pad) {
    return (vg_conv_params){.in_c = in_c, .out_c = out_c, .kh = k, .kw = k,
                            .stride = stride, .groups = 1, .pad_t = pad, .pad_l = pad,
                            .pad_b = pad, .pad_r = pad, .has_bias = 1};
}

static int out_size(const vg_conv_params *p, int in, int k, int pad_lo, int pad_hi) {
    if (p->transposed) return (in - 1) * p->stride - pad_lo - pad_hi + k + p->out_pad;
    return (in + pad_lo + pad_hi - k) / p->stride + 1;
}

static int check_params(const vg_conv_params *p, vg_shape src, vg_error *err) {
    if (p->in_c <= 0 || p->out_c <= 0 || p->kh <= 0 || p->kw <= 0 || p->stride <= 0 ||
        p->groups <= 0 || p->in_c % p->groups || p->out_c % p->groups)
        return vg_fail(err, VG_ERR_ARG, "convolution %d->%d k%dx%d s%d g%d is invalid",
                       p->in_c, p->out_c, p->kh, p->kw, p->stride, p->groups);
    if (p->pad_t < 0 || p->pad_l < 0 || p->pad_b < 0 || p->pad_r < 0 || p->out_pad < 0 ||
        (p->transposed && (p->out_pad > p->pad_b || p->out_pad > p->pad_r)))
        return vg_fail(err, VG_ERR_ARG, "convolution padding is invalid");
    if (p->train && p->act != VG_ACT_NONE)
        return vg_fail(err, VG_ERR_ARG, "a training convolution cannot fuse an activation");
    if (src.c != p->in_c)
        return vg_fail(err, VG_ERR_SHAPE, "convolution expects %d input channels, got %d",
                       p->in_c, src.c);
    return VG_OK;
}

/* Weights as oneDNN descriptors (grouped weights get a leading G): PyTorch's layout in
 * float32 when user, else any layout of type dt. */
static dnnl_memory_desc_t weights_md(const vg_conv_params *p, int user, dnnl_data_type_t dt) {
    int g = p->groups, oc = p->out_c, ic = p->in_c;
    dnnl_memory_desc_t md;
    dnnl_format_tag_t tag;
    if (g > 1) {
        dnnl_dims_t d = {g, oc / g, ic / g, p->kh, p->kw};
        tag = !user ? dnnl_format_tag_any : p->transposed ? dnnl_giohw : dnnl_goihw;
        dnnl_memory_desc_init_by_tag(&md, 5, d, user ? dnnl_f32 : dt, tag);
    } else {
        dnnl_dims_t d = {oc, ic, p->kh, p->kw};
        tag = !user ? dnnl_format_tag_any : p->transposed ? dnnl_iohw : dnnl_oihw;
        dnnl_memory_desc_init_by_tag(&md, 4, d, user ? dnnl_f32 : dt, tag);
    }
    return md;
}

/* The geometry every descriptor initialiser takes. */
typedef struct geometry {
    dnnl_dims_t strides, pad_l, pad_r;
    dnnl_memory_desc_t src, w, b, dst;
} geometry;

/* Activations in layout act_tag (dnnl_format_tag_any: the primitive chooses), activations
 * and weights of type dt. */
static geometry make_geometry(const vg_conv *op, dnnl_format_tag_t act_tag,
                              dnnl_data_type_t dt) {
    const vg_conv_params *p = &op->p;
    geometry g = {
        .strides = {p->stride, p->stride},
        .pad_l = {p->pad_t, p->pad_l},
        /* oneDNN folds ConvTranspose2d's output_padding into the bottom/right padding */
        .pad_r = {p->pad_b - (p->transposed ? p->out_pad : 0),
                  p->pad_r - (p->transposed ? p->out_pad : 0)},
        .src = vg_md4_dt(op->src_shape, act_tag, dt),
        .w = weights_md(p, 0, dt),
        .dst = vg_md4_dt(op->dst_shape, act_tag, dt),
    };
    dnnl_dims_t bd = {p->out_c};
    dnnl_memory_desc_init_by_tag(&g.b, 1, bd, dnnl_f32, dnnl_x);
    return g;
}

static int make_attr(const vg_conv_params *p, dnnl_primitive_attr_t *attr, vg_error *err) {
    *attr = NULL;
    if (!p->residual && p->act == VG_ACT_NONE) return VG_OK;
    dnnl_post_ops_t po = NULL;
    int rc = vg_dnnl_check(dnnl_post_ops_create(&po), "post-ops", err);
    if (!rc && p->residual) rc = vg_dnnl_check(dnnl_post_ops_append_sum(po, 1.f), "sum", err);
    if (!rc && p->act != VG_ACT_NONE) {
        dnnl_alg_kind_t alg = p->act == VG_ACT_RELU    ? dnnl_eltwise_relu
                              : p->act == VG_ACT_RELU6 ? dnnl_eltwise_clip
                                                       : dnnl_eltwise_logistic;
        float beta = p->act == VG_ACT_RELU6 ? 6.f : 0.f;
        rc = vg_dnnl_check(dnnl_post_ops_append_eltwise(po, 1.f, alg, 0.f, beta), "act", err);
    }
    if (!rc) rc = vg_dnnl_check(dnnl_primitive_attr_create(attr), "attr", err);
    if (!rc) rc = vg_dnnl_check(dnnl_primitive_attr_set_post_ops(*attr, po), "attr", err);
    if (po) dnnl_post_ops_destroy(po);
    return rc;
}

/* Activations are NHWC where batch norm, pooling and the sub-pixel forward meet them:
 * around transposed convolutions and the spatial training convolutions (the U-Net), where
 * a blocked layout cost a reorder at every boundary (a third of a U-Net step). 1x1
 * convolutions (merge, skips) pick their own: they sit at the network's edge, and their
 * NHWC training kernels sum in an order that moves gradients by ~1e-3 relative.
 * The backward-weights pass always picks its own layout (plan_backward). */
static dnnl_format_tag_t act_tag(const vg_conv *op) {
    return (op->p.train && op->p.kh > 1) || vg_subpixel_applies(&op->p) ? dnnl_nhwc : dnnl_format_tag_any;
}

static int plan_forward(vg_conv *op, vg_error *err) {
    geometry g = make_geometry(op, act_tag(op), op->ctx->dt);
    dnnl_prop_kind_t prop = op->p.train ? dnnl_forward_training : dnnl_forward_inference;
    const dnnl_memory_desc_t *b = op->p.has_bias ? &g.b : NULL;
    union { dnnl_convolution_desc_t c; dnnl_deconvolution_desc_t d; } desc;
    dnnl_status_t st =
        op->p.transposed
            ? dnnl_deconvolution_forward_desc_init(&desc.d, prop, dnnl_deconvolution_direct,
                                                   &g.src, &g.w, b, &g.dst, g.strides,
                                                   g.pad_l, g.pad_r)
            : dnnl_convolution_forward_desc_init(&desc.c, prop, dnnl_convolution_direct,
                                                 &g.src, &g.w, b, &g.dst, g.strides,
                                                 g.pad_l, g.pad_r);
    int rc = vg_dnnl_check(st, "convolution descriptor", err);
    dnnl_primitive_attr_t attr = NULL;
    if (!rc) rc = make_attr(&op->p, &attr, err);
    if (!rc) rc = vg_prim_create(op->ctx, &desc, attr, NULL, &op->fwd, "convolution", err);
    if (!rc && vg_subpixel_applies(&op->p))
        rc = vg_subpixel_create(op->ctx, &op->p, op->src_shape, attr, &op->sub, err);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (rc) return rc;
    op->src_f.md = *vg_prim_md(&op->fwd, dnnl_query_src_md);
    op->w_f.md = *vg_prim_md(&op->fwd, dnnl_query_weights_md);
    op->b.md = g.b;
    return vg_tensor_create_md(op->ctx, op->dst_shape, vg_prim_md(&op->fwd, dnnl_query_dst_md),
                               &op->dst, err);
}

static int plan_backward(vg_conv *op, vg_error *err) {
    /* Weight gradients are float32 whatever the compute type (they feed Adam), and so is
     * their whole pass: oneDNN 2.6's bf16 backward-weights kernels for these shapes run
     * 2-3x slower than its float32 ones. */
    geometry g = make_geometry(op, act_tag(op), op->ctx->dt);
    geometry gw = make_geometry(op, dnnl_format_tag_any, dnnl_f32);
    union { dnnl_convolution_desc_t c; dnnl_deconvolution_desc_t d; } dd, wd;
    const dnnl_memory_desc_t *b = op->p.has_bias ? &g.b : NULL;
    dnnl_status_t st;
    if (op->p.transposed) {
        st = dnnl_deconvolution_backward_data_desc_init(&dd.d, dnnl_deconvolution_direct,
                                                        &g.src, &g.w, &g.dst, g.strides,
                                                        g.pad_l, g.pad_r);
        if (st == dnnl_success)
            st = dnnl_deconvolution_backward_weights_desc_init(
                &wd.d, dnnl_deconvolution_direct, &gw.src, &gw.w, b, &gw.dst, g.strides,
                g.pad_l, g.pad_r);
    } else {
        st = dnnl_convolution_backward_data_desc_init(&dd.c, dnnl_convolution_direct, &g.src,
                                                      &g.w, &g.dst, g.strides, g.pad_l,
                                                      g.pad_r);
        if (st == dnnl_success)
            st = dnnl_convolution_backward_weights_desc_init(&wd.c, dnnl_convolution_direct,
                                                             &gw.src, &gw.w, b, &gw.dst,
                                                             g.strides, g.pad_l, g.pad_r);
    }
    int rc = vg_dnnl_check(st, "convolution backward descriptor", err);
    if (!rc)
        rc = vg_prim_create(op->ctx, &dd, NULL, op->fwd.pd, &op->bwd_data,
                            "convolution backward data", err);
    if (!rc)
        rc = vg_prim_create(op->ctx, &wd, NULL, op->fwd.pd, &op->bwd_w,
                            "convolution backward weights", err);
    if (rc) return rc;
    op->w_bd.md = *vg_prim_md(&op->bwd_data, dnnl_query_weights_md);
    op->ddst_bd.md = *vg_prim_md(&op->bwd_data, dnnl_query_diff_dst_md);
    op->src_bw.md = *vg_prim_md(&op->bwd_w, dnnl_query_src_md);
    op->ddst_bw.md = *vg_prim_md(&op->bwd_w, dnnl_query_diff_dst_md);
    op->dw.md = *vg_prim_md(&op->bwd_w, dnnl_query_diff_weights_md);
    op->db.md = g.b;
    rc = vg_mem_create(op->ctx, &op->dw.md, &op->dw.mem, err);
    if (!rc) rc = vg_mem_create(op->ctx, &op->db.md, &op->db.mem, err);
    if (!rc)
        rc = vg_tensor_create_md(op->ctx, op->src_shape,
                                 vg_prim_md(&op->bwd_data, dnnl_query_diff_src_md),
                                 &op->diff_src, err);
    return rc;
}

int vg_conv_create(vg_ctx *ctx, const vg_conv_params *p, vg_shape src, vg_conv **out,
                   vg_error *err) {
    *out = NULL;
    int rc = check_params(p, src, err);
    if (rc) return rc;
    int oh = out_size(p, src.h, p->kh, p->pad_t, p->pad_b);
    int ow = out_size(p, src.w, p->kw, p->pad_l, p->pad_r);
    if (oh <= 0 || ow <= 0)
        return vg_fail(err, VG_ERR_SHAPE, "convolution input %dx%d is too small", src.h,
                       src.w);
    vg_conv *op = calloc(1, sizeof *op);
    if (!op) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a convolution");
    op->ctx = ctx;
    op->p = *p;
    op->src_shape = src;
    op->dst_shape = (vg_shape){src.n, p->out_c, oh, ow};
    op->user_w_md = weights_md(p, 1, dnnl_f32);
    rc = plan_forward(op, err);
    if (!rc && p->train) rc = plan_backward(op, err);
    if (rc) {
        vg_conv_free(op);
        return rc;
    }
    *out = op;
    return VG_OK;
}

void vg_conv_free(vg_conv *op) {
    if (!op) return;
    vg_prim_destroy(&op->fwd);
    vg_prim_destroy(&op->bwd_data);
    vg_prim_destroy(&op->bwd_w);
    vg_subpixel_free(op->sub);
    vg_staged *st[] = {&op->src_f, &op->w_f, &op->b, &op->w_bd, &op->ddst_bd,
                       &op->src_bw, &op->ddst_bw, &op->dw, &op->db};
    for (size_t i = 0; i < sizeof st / sizeof *st; i++) vg_staged_free(st[i]);
    vg_tensor_free(op->dst);
    vg_tensor_free(op->diff_src);
    free(op);
}

vg_shape vg_conv_dst_shape(const vg_conv *op) { return op->dst_shape; }
vg_tensor *vg_conv_dst(vg_conv *op) { return op->dst; }
vg_tensor *vg_conv_diff_src(vg_conv *op) { return op->diff_src; }

int vg_conv_set_weights(vg_conv *op, const float *w, const float *b, vg_error *err) {
    int rc = op->sub ? VG_OK : vg_stage_host(op->ctx, &op->w_f, &op->user_w_md, w, err);
    if (!rc && op->p.train) rc = vg_stage_host(op->ctx, &op->w_bd, &op->user_w_md, w, err);
    if (op->p.has_bias && !b) return vg_fail(err, VG_ERR_ARG, "convolution needs a bias");
    if (!rc && op->sub) rc = vg_subpixel_set_weights(op->sub, w, b, err);
    if (!rc && op->p.has_bias) {
        rc = vg_stage_host(op->ctx, &op->b, &op->b.md, b, err);
    }
    return rc;
}

static int same_shape(vg_shape a, vg_shape b) {
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

int vg_conv_forward(vg_conv *op, const vg_tensor *src, const vg_tensor *residual,
                    vg_error *err) {
    if (!same_shape(src->shape, op->src_shape))
        return vg_fail(err, VG_ERR_SHAPE, "convolution planned for another input shape");
    if (!op->w_f.mem && !op->sub) return vg_fail(err, VG_ERR_ARG, "convolution weights were never set");
    if (!!residual != !!op->p.residual)
        return vg_fail(err, VG_ERR_ARG, "convolution residual given %s a residual plan",
                       residual ? "without" : "to");
    op->last_src = src;
    if (op->sub) return vg_subpixel_forward(op->sub, src, op->dst, err);
    dnnl_memory_t s;
    int rc = vg_stage(op->ctx, &op->src_f, src, &s, err);
    if (rc) return rc;
    if (residual) {
        if (!same_shape(residual->shape, op->dst_shape))
            return vg_fail(err, VG_ERR_SHAPE, "residual shape differs from the output's");
        rc = vg_reorder(op->ctx, &residual->md, residual->mem, &op->dst->md, op->dst->mem, err);
        if (rc) return rc;
    }
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, op->w_f.mem},
                               {DNNL_ARG_DST, op->dst->mem}, {DNNL_ARG_BIAS, op->b.mem}};
    return vg_prim_run(op->ctx, &op->fwd, op->p.has_bias ? 4 : 3, args, err);
}

int vg_conv_backward(vg_conv *op, const vg_tensor *diff_dst, float *dw, float *db,
                     int want_diff_src, vg_error *err) {
    if (!op->p.train) return vg_fail(err, VG_ERR_ARG, "convolution was planned for inference");
    if (!op->last_src) return vg_fail(err, VG_ERR_ARG, "convolution backward before forward");
    if (!same_shape(diff_dst->shape, op->dst_shape))
        return vg_fail(err, VG_ERR_SHAPE, "convolution gradient has the wrong shape");
    dnnl_memory_t g, s;
    int rc = VG_OK;
    if (want_diff_src) {
        rc = vg_stage(op->ctx, &op->ddst_bd, diff_dst, &g, err);
        dnnl_exec_arg_t a[3] = {{DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_WEIGHTS, op->w_bd.mem},
                                {DNNL_ARG_DIFF_SRC, op->diff_src->mem}};
        if (!rc) rc = vg_prim_run(op->ctx, &op->bwd_data, 3, a, err);
    }
    if (rc || (!dw && !db)) return rc;
    rc = vg_stage(op->ctx, &op->ddst_bw, diff_dst, &g, err);
    if (!rc) rc = vg_stage(op->ctx, &op->src_bw, op->last_src, &s, err);
    dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, s}, {DNNL_ARG_DIFF_DST, g},
                            {DNNL_ARG_DIFF_WEIGHTS, op->dw.mem},
                            {DNNL_ARG_DIFF_BIAS, op->db.mem}};
    if (!rc) rc = vg_prim_run(op->ctx, &op->bwd_w, op->p.has_bias ? 4 : 3, a, err);
    if (!rc && dw) rc = vg_unstage_host(op->ctx, &op->dw, &op->user_w_md, dw, err);
    if (!rc && db && op->p.has_bias) rc = vg_unstage_host(op->ctx, &op->db, &op->db.md, db, err);
    return rc;
}
