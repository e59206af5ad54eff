/* pool.c - max pooling: forward, and for training plans backward.
 *
 * Backward routes each output gradient to the input position that held the maximum, which
 * the training forward records in a workspace. It can also add the gradient src received
 * from elsewhere: in a U-Net the pooled map is a skip connection too, and its gradient is
 * the sum of both paths. */
#include <stdlib.h>

#include "backend/onednn/onednn.h"

struct vg_pool {
    vg_ctx *ctx;
    vg_shape src_shape, dst_shape;
    vg_prim fwd, bwd, add;    /* bwd and add: training plans only */
    vg_staged src, ddst, also;
    dnnl_memory_t ws;         /* positions of the maxima of the last training forward */
    vg_tensor *dst, *diff_src;
    int forwarded;
};

/* Backward from the forward's workspace, and diff_src += also in place. */
static int plan_backward(vg_pool *op, const dnnl_pooling_v2_desc_t *fd, vg_error *err) {
    dnnl_memory_desc_t smd = op->src.md, dmd = op->dst->md;
    dnnl_pooling_v2_desc_t bd;
    dnnl_binary_desc_t ad;
    int rc = vg_dnnl_check(dnnl_pooling_v2_backward_desc_init(
                               &bd, dnnl_pooling_max, &smd, &dmd, fd->strides, fd->kernel,
                               fd->dilation, fd->padding[0], fd->padding[1]),
                           "pooling backward descriptor", err);
    if (!rc)
        rc = vg_prim_create(op->ctx, &bd, NULL, op->fwd.pd, &op->bwd, "pooling backward", err);
    if (!rc)
        rc = vg_mem_create(op->ctx, vg_prim_md(&op->fwd, dnnl_query_workspace_md), &op->ws,
                           err);
    if (!rc)
        rc = vg_dnnl_check(dnnl_binary_desc_init(&ad, dnnl_binary_add, &smd, &smd, &smd),
                           "gradient sum descriptor", err);
    if (!rc) rc = vg_prim_create(op->ctx, &ad, NULL, NULL, &op->add, "gradient sum", err);
    op->ddst.md = dmd;
    op->also.md = smd;
    return rc ? rc : vg_tensor_create_md(op->ctx, op->src_shape, &smd, &op->diff_src, err);
}

int vg_pool_create(vg_ctx *ctx, vg_shape src, int k, int stride, int pad, int train,
                   vg_pool **out, vg_error *err) {
    *out = NULL;
    if (k <= 0 || stride <= 0 || pad < 0 || 2 * pad >= k + 1 || src.h + 2 * pad < k ||
        src.w + 2 * pad < k)
        return vg_fail(err, VG_ERR_ARG, "max pool k%d s%d p%d does not fit a %dx%d input", k,
                       stride, pad, src.h, src.w);
    vg_pool *op = calloc(1, sizeof *op);
    if (!op) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a pooling");
    op->ctx = ctx;
    op->src_shape = src;
    op->dst_shape = (vg_shape){src.n, src.c, (src.h + 2 * pad - k) / stride + 1,
                               (src.w + 2 * pad - k) / stride + 1};
    dnnl_memory_desc_t smd = vg_act_md(ctx, src, dnnl_nhwc);
    dnnl_memory_desc_t dmd = vg_act_md(ctx, op->dst_shape, dnnl_nhwc);
    dnnl_dims_t strides = {stride, stride}, kernel = {k, k}, dil = {0, 0},
                pads = {pad, pad};
    dnnl_pooling_v2_desc_t d;
    dnnl_prop_kind_t prop = train ? dnnl_forward_training : dnnl_forward_inference;
    int rc = vg_dnnl_check(dnnl_pooling_v2_forward_desc_init(&d, prop, dnnl_pooling_max, &smd,
                                                             &dmd, strides, kernel, dil, pads,
                                                             pads),
                           "pooling descriptor", err);
    if (!rc) rc = vg_prim_create(ctx, &d, NULL, NULL, &op->fwd, "pooling", err);
    if (!rc) rc = vg_tensor_create_md(ctx, op->dst_shape, &dmd, &op->dst, err);
    op->src.md = smd;
    if (!rc && train) rc = plan_backward(op, &d, err);
    if (rc) {
        vg_pool_free(op);
        return rc;
    }
    *out = op;
    return VG_OK;
}

void vg_pool_free(vg_pool *op) {
    if (!op) return;
    vg_prim_destroy(&op->fwd);
    vg_prim_destroy(&op->bwd);
    vg_prim_destroy(&op->add);
    vg_staged_free(&op->src);
    vg_staged_free(&op->ddst);
    vg_staged_free(&op->also);
    if (op->ws) dnnl_memory_destroy(op->ws);
    vg_tensor_free(op->dst);
    vg_tensor_free(op->diff_src);
    free(op);
}

vg_shape vg_pool_dst_shape(const vg_pool *op) { return op->dst_shape; }
vg_tensor *vg_pool_dst(vg_pool *op) { return op->dst; }
vg_tensor *vg_pool_diff_src(vg_pool *op) { return op->diff_src; }

int vg_pool_forward(vg_pool *op, const vg_tensor *src, vg_error *err) {
    dnnl_memory_t s;
    int rc = vg_stage(op->ctx, &op->src, src, &s, err);
    if (rc) return rc;
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, s}, {DNNL_ARG_DST, op->dst->mem},
                            {DNNL_ARG_WORKSPACE, op->ws}};
    rc = vg_prim_run(op->ctx, &op->fwd, op->ws ? 3 : 2, a, err);
    op->forwarded = !rc;
    return rc;
}

static int same_shape(vg_shape a, vg_shape b) {
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

int vg_pool_backward(vg_pool *op, const vg_tensor *diff_dst, const vg_tensor *also,
                     vg_error *err) {
    if (!op->ws) return vg_fail(err, VG_ERR_ARG, "max pool was planned for inference");
    if (!op->forwarded) return vg_fail(err, VG_ERR_ARG, "max pool backward before forward");
    if (!same_shape(vg_tensor_shape(diff_dst), op->dst_shape) ||
        (also && !same_shape(vg_tensor_shape(also), op->src_shape)))
        return vg_fail(err, VG_ERR_SHAPE, "max pool gradient has the wrong shape");
    dnnl_memory_t g, x;
    int rc = vg_stage(op->ctx, &op->ddst, diff_dst, &g, err);
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_WORKSPACE, op->ws},
                            {DNNL_ARG_DIFF_SRC, op->diff_src->mem}};
    if (!rc) rc = vg_prim_run(op->ctx, &op->bwd, 3, a, err);
    if (rc || !also) return rc;
    rc = vg_stage(op->ctx, &op->also, also, &x, err);
    dnnl_exec_arg_t s[3] = {{DNNL_ARG_SRC_0, op->diff_src->mem}, {DNNL_ARG_SRC_1, x},
                            {DNNL_ARG_DST, op->diff_src->mem}};
    return rc ? rc : vg_prim_run(op->ctx, &op->add, 3, s, err);
}
