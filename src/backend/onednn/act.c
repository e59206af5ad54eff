/* act.c - element-wise activations (ReLU, ReLU6, sigmoid) forward and backward. */
#include <stdlib.h>

#include "backend/onednn/onednn.h"

struct vg_act_op {
    vg_ctx *ctx;
    vg_shape shape;
    vg_prim fwd, bwd;
    vg_staged src, ddst;
    vg_tensor *dst, *diff_src;
    dnnl_memory_t last_src;
};

static void act_alg(vg_act act, dnnl_alg_kind_t *alg, float *alpha, float *beta) {
    *alpha = 0.f;
    *beta = 0.f;
    switch (act) {
    case VG_ACT_RELU6: *alg = dnnl_eltwise_clip; *beta = 6.f; break;
    case VG_ACT_SIGMOID: *alg = dnnl_eltwise_logistic; break;
    default: *alg = dnnl_eltwise_relu; break;
    }
}

static int plan(vg_act_op *op, vg_act act, int train, vg_error *err) {
    dnnl_memory_desc_t md = vg_act_md(op->ctx, op->shape, dnnl_nhwc);
    dnnl_alg_kind_t alg;
    float alpha, beta;
    act_alg(act, &alg, &alpha, &beta);
    dnnl_eltwise_desc_t fd, bd;
    dnnl_prop_kind_t prop = train ? dnnl_forward_training : dnnl_forward_inference;
    int rc = vg_dnnl_check(dnnl_eltwise_forward_desc_init(&fd, prop, alg, &md, alpha, beta),
                           "activation descriptor", err);
    if (!rc) rc = vg_prim_create(op->ctx, &fd, NULL, NULL, &op->fwd, "activation", err);
    if (!rc) rc = vg_tensor_create_md(op->ctx, op->shape, &md, &op->dst, err);
    op->src.md = md;
    op->ddst.md = md;
    if (rc || !train) return rc;
    rc = vg_dnnl_check(dnnl_eltwise_backward_desc_init(&bd, alg, &md, &md, alpha, beta),
                       "activation backward descriptor", err);
    if (!rc)
        rc = vg_prim_create(op->ctx, &bd, NULL, op->fwd.pd, &op->bwd, "activation backward",
                            err);
    if (!rc) rc = vg_tensor_create_md(op->ctx, op->shape, &md, &op->diff_src, err);
    return rc;
}

int vg_act_create(vg_ctx *ctx, vg_shape shape, vg_act act, int train, vg_act_op **out,
                  vg_error *err) {
    *out = NULL;
    if (act == VG_ACT_NONE) return vg_fail(err, VG_ERR_ARG, "activation kind is none");
    vg_act_op *op = calloc(1, sizeof *op);
    if (!op) return vg_fail(err, VG_ERR_NOMEM, "out of memory for an activation");
    op->ctx = ctx;
    op->shape = shape;
    int rc = plan(op, act, train, err);
    if (rc) {
        vg_act_free(op);
        return rc;
    }
    *out = op;
    return VG_OK;
}

void vg_act_free(vg_act_op *op) {
    if (!op) return;
    vg_prim_destroy(&op->fwd);
    vg_prim_destroy(&op->bwd);
    vg_staged_free(&op->src);
    vg_staged_free(&op->ddst);
    vg_tensor_free(op->dst);
    vg_tensor_free(op->diff_src);
    free(op);
}

vg_tensor *vg_act_dst(vg_act_op *op) { return op->dst; }
vg_tensor *vg_act_diff_src(vg_act_op *op) { return op->diff_src; }

int vg_act_forward(vg_act_op *op, const vg_tensor *src, vg_error *err) {
    dnnl_memory_t s;
    int rc = vg_stage(op->ctx, &op->src, src, &s, err);
    if (rc) return rc;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_SRC, s}, {DNNL_ARG_DST, op->dst->mem}};
    op->last_src = s;
    return vg_prim_run(op->ctx, &op->fwd, 2, a, err);
}

int vg_act_backward(vg_act_op *op, const vg_tensor *diff_dst, vg_error *err) {
    if (!op->bwd.prim) return vg_fail(err, VG_ERR_ARG, "activation planned for inference");
    if (!op->last_src) return vg_fail(err, VG_ERR_ARG, "activation backward before forward");
    dnnl_memory_t g;
    int rc = vg_stage(op->ctx, &op->ddst, diff_dst, &g, err);
    if (rc) return rc;
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, op->last_src}, {DNNL_ARG_DIFF_DST, g},
                            {DNNL_ARG_DIFF_SRC, op->diff_src->mem}};
    return vg_prim_run(op->ctx, &op->bwd, 3, a, err);
}
