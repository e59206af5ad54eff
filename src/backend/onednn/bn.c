/* bn.c - batch normalisation in training mode on oneDNN, with optional fused ReLU.
 *
 * oneDNN computes the batch mean and the biased variance; the running statistics are
 * then updated here exactly as PyTorch does (momentum, unbiased variance). */
#include <stdlib.h>

#include "backend/onednn/onednn.h"

struct vg_bn {
    vg_ctx *ctx;
    vg_shape shape;
    float eps, momentum;
    int relu;
    vg_prim fwd, bwd;
    dnnl_memory_desc_t vec_md;  /* [C] */
    vg_staged src;              /* input in the planned layout */
    dnnl_memory_t mean, var;    /* batch statistics of the last forward */
    dnnl_memory_t ws;           /* ReLU mask kept for backward */
    vg_staged ddst;
    dnnl_memory_t scale, shift, dscale, dshift; /* wrap caller arrays, handles set per call */
    vg_tensor *dst, *diff_src;
    dnnl_memory_t last_src;
};

static unsigned bn_flags(int relu) {
    return dnnl_use_scale | dnnl_use_shift | (relu ? dnnl_fuse_norm_relu : 0);
}

static int plan(vg_bn *op, vg_error *err) {
    dnnl_memory_desc_t md = vg_act_md(op->ctx, op->shape, dnnl_nhwc);
    dnnl_batch_normalization_desc_t fd, bd;
    int rc = vg_dnnl_check(dnnl_batch_normalization_forward_desc_init(
                               &fd, dnnl_forward_training, &md, op->eps, bn_flags(op->relu)),
                           "batch norm descriptor", err);
    if (!rc) rc = vg_prim_create(op->ctx, &fd, NULL, NULL, &op->fwd, "batch norm", err);
    if (!rc)
        rc = vg_dnnl_check(dnnl_batch_normalization_backward_desc_init(
                               &bd, dnnl_backward, &md, &md, op->eps, bn_flags(op->relu)),
                           "batch norm backward descriptor", err);
    if (!rc)
        rc = vg_prim_create(op->ctx, &bd, NULL, op->fwd.pd, &op->bwd, "batch norm backward",
                            err);
    if (rc) return rc;
    op->src.md = md;
    op->ddst.md = md;
    dnnl_dims_t c = {op->shape.c};
    dnnl_memory_desc_init_by_tag(&op->vec_md, 1, c, dnnl_f32, dnnl_x);
    rc = vg_mem_create(op->ctx, &op->vec_md, &op->mean, err);
    if (!rc) rc = vg_mem_create(op->ctx, &op->vec_md, &op->var, err);
    if (!rc && op->relu)
        rc = vg_mem_create(op->ctx, vg_prim_md(&op->fwd, dnnl_query_workspace_md), &op->ws,
                           err);
    dnnl_memory_t *wraps[] = {&op->scale, &op->shift, &op->dscale, &op->dshift};
    for (int i = 0; i < 4 && !rc; i++)
        rc = vg_dnnl_check(dnnl_memory_create(wraps[i], &op->vec_md, op->ctx->engine,
                                              DNNL_MEMORY_NONE),
                           "batch norm parameters", err);
    if (!rc) rc = vg_tensor_create_md(op->ctx, op->shape, &md, &op->dst, err);
    if (!rc) rc = vg_tensor_create_md(op->ctx, op->shape, &md, &op->diff_src, err);
    return rc;
}

int vg_bn_create(vg_ctx *ctx, vg_shape shape, float eps, float momentum, int relu,
                 vg_bn **out, vg_error *err) {
    *out = NULL;
    if (shape.n * shape.h * shape.w < 2)
        return vg_fail(err, VG_ERR_SHAPE, "batch norm needs more than one value per channel");
    vg_bn *op = calloc(1, sizeof *op);
    if (!op) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a batch norm");
    *op = (vg_bn){.ctx = ctx, .shape = shape, .eps = eps, .momentum = momentum, .relu = relu};
    int rc = plan(op, err);
    if (rc) {
        vg_bn_free(op);
        return rc;
    }
    *out = op;
    return VG_OK;
}

void vg_bn_free(vg_bn *op) {
    if (!op) return;
    vg_prim_destroy(&op->fwd);
    vg_prim_destroy(&op->bwd);
    vg_staged_free(&op->src);
    vg_staged_free(&op->ddst);
    dnnl_memory_t mems[] = {op->mean, op->var, op->ws, op->scale, op->shift, op->dscale,
                            op->dshift};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    vg_tensor_free(op->dst);
    vg_tensor_free(op->diff_src);
    free(op);
}

vg_tensor *vg_bn_dst(vg_bn *op) { return op->dst; }
vg_tensor *vg_bn_diff_src(vg_bn *op) { return op->diff_src; }

/* running = (1 - m) * running + m * batch, with the variance made unbiased (n / (n - 1))
 * as torch.nn.BatchNorm2d does. */
static void update_running(const vg_bn *op, float *rmean, float *rvar) {
    const float *mean, *var;
    dnnl_memory_get_data_handle(op->mean, (void **)&mean);
    dnnl_memory_get_data_handle(op->var, (void **)&var);
    double n = (double)op->shape.n * op->shape.h * op->shape.w;
    float m = op->momentum, unbias = (float)(n / (n - 1));
    for (int c = 0; c < op->shape.c; c++) {
        rmean[c] = (1 - m) * rmean[c] + m * mean[c];
        rvar[c] = (1 - m) * rvar[c] + m * var[c] * unbias;
    }
}

int vg_bn_forward(vg_bn *op, const vg_tensor *src, const float *gamma, const float *beta,
                  float *running_mean, float *running_var, vg_error *err) {
    dnnl_memory_t s;
    int rc = vg_stage(op->ctx, &op->src, src, &s, err);
    if (rc) return rc;
    dnnl_memory_set_data_handle(op->scale, (void *)gamma);
    dnnl_memory_set_data_handle(op->shift, (void *)beta);
    dnnl_exec_arg_t a[7] = {{DNNL_ARG_SRC, s},          {DNNL_ARG_DST, op->dst->mem},
                            {DNNL_ARG_SCALE, op->scale}, {DNNL_ARG_SHIFT, op->shift},
                            {DNNL_ARG_MEAN, op->mean},   {DNNL_ARG_VARIANCE, op->var},
                            {DNNL_ARG_WORKSPACE, op->ws}};
    rc = vg_prim_run(op->ctx, &op->fwd, op->relu ? 7 : 6, a, err);
    if (rc) return rc;
    op->last_src = s;
    if (running_mean && running_var) update_running(op, running_mean, running_var);
    return VG_OK;
}

int vg_bn_backward(vg_bn *op, const vg_tensor *diff_dst, const float *gamma,
                   const float *beta, float *dgamma, float *dbeta, vg_error *err) {
    if (!op->last_src) return vg_fail(err, VG_ERR_ARG, "batch norm backward before forward");
    dnnl_memory_t g;
    int rc = vg_stage(op->ctx, &op->ddst, diff_dst, &g, err);
    if (rc) return rc;
    dnnl_memory_set_data_handle(op->scale, (void *)gamma);
    dnnl_memory_set_data_handle(op->shift, (void *)beta);
    dnnl_memory_set_data_handle(op->dscale, dgamma);
    dnnl_memory_set_data_handle(op->dshift, dbeta);
    dnnl_exec_arg_t a[10] = {{DNNL_ARG_SRC, op->last_src},    {DNNL_ARG_MEAN, op->mean},
                             {DNNL_ARG_VARIANCE, op->var},    {DNNL_ARG_DIFF_DST, g},
                             {DNNL_ARG_SCALE, op->scale},     {DNNL_ARG_SHIFT, op->shift},
                             {DNNL_ARG_DIFF_SRC, op->diff_src->mem},
                             {DNNL_ARG_DIFF_SCALE, op->dscale},
                             {DNNL_ARG_DIFF_SHIFT, op->dshift},
                             {DNNL_ARG_WORKSPACE, op->ws}};
    return vg_prim_run(op->ctx, &op->bwd, op->relu ? 10 : 9, a, err);
}
