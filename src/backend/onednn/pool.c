/* pool.c - max pooling, forward only (it appears in the frozen encoders alone). */
#include <stdlib.h>

#include "backend/onednn/onednn.h"

struct vg_pool {
    vg_ctx *ctx;
    vg_shape src_shape, dst_shape;
    vg_prim fwd;
    vg_staged src;
    vg_tensor *dst;
};

int vg_pool_create(vg_ctx *ctx, vg_shape src, int k, int stride, int pad, vg_pool **out,
                   vg_error *err) {
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
    int rc = vg_dnnl_check(dnnl_pooling_v2_forward_desc_init(
                               &d, dnnl_forward_inference, dnnl_pooling_max, &smd, &dmd,
                               strides, kernel, dil, pads, pads),
                           "pooling descriptor", err);
    if (!rc) rc = vg_prim_create(ctx, &d, NULL, NULL, &op->fwd, "pooling", err);
    if (!rc) rc = vg_tensor_create_md(ctx, op->dst_shape, &dmd, &op->dst, err);
    op->src.md = smd;
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
    vg_staged_free(&op->src);
    vg_tensor_free(op->dst);
    free(op);
}

vg_shape vg_pool_dst_shape(const vg_pool *op) { return op->dst_shape; }
vg_tensor *vg_pool_dst(vg_pool *op) { return op->dst; }

int vg_pool_forward(vg_pool *op, const vg_tensor *src, vg_error *err) {
    dnnl_memory_t s;
    int rc = vg_stage(op->ctx, &op->src, src, &s, err);
    if (rc) return rc;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_SRC, s}, {DNNL_ARG_DST, op->dst->mem}};
    return vg_prim_run(op->ctx, &op->fwd, 2, a, err);
}
