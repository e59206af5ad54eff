/* tensor.c - activations as oneDNN memories; host code sees plain NCHW only. */
#include <stdlib.h>

#include "backend/onednn/onednn.h"

int vg_tensor_create_md(vg_ctx *ctx, vg_shape shape, const dnnl_memory_desc_t *md,
                        vg_tensor **out, vg_error *err) {
    *out = NULL;
    vg_tensor *t = calloc(1, sizeof *t);
    if (!t) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a tensor");
    t->ctx = ctx;
    t->shape = shape;
    t->md = *md;
    int rc = vg_mem_create(ctx, md, &t->mem, err);
    if (rc) {
        free(t);
        return rc;
    }
    *out = t;
    return VG_OK;
}

int vg_tensor_create(vg_ctx *ctx, vg_shape shape, vg_tensor **out, vg_error *err) {
    if (shape.n <= 0 || shape.c <= 0 || shape.h <= 0 || shape.w <= 0) {
        *out = NULL;
        return vg_fail(err, VG_ERR_ARG, "tensor shape [%d,%d,%d,%d] has an empty dimension",
                       shape.n, shape.c, shape.h, shape.w);
    }
    dnnl_memory_desc_t md = vg_md4(shape, dnnl_nchw);
    return vg_tensor_create_md(ctx, shape, &md, out, err);
}

void vg_tensor_free(vg_tensor *t) {
    if (!t) return;
    if (t->mem) dnnl_memory_destroy(t->mem);
    free(t);
}

vg_shape vg_tensor_shape(const vg_tensor *t) { return t->shape; }

int vg_tensor_write(vg_tensor *t, const float *nchw, vg_error *err) {
    dnnl_memory_desc_t user_md = vg_md4(t->shape, dnnl_nchw);
    vg_staged s = {t->md, t->mem};
    return vg_stage_host(t->ctx, &s, &user_md, nchw, err);
}

int vg_tensor_read(const vg_tensor *t, float *nchw, vg_error *err) {
    dnnl_memory_desc_t user_md = vg_md4(t->shape, dnnl_nchw);
    vg_staged s = {t->md, t->mem};
    return vg_unstage_host(t->ctx, &s, &user_md, nchw, err);
}

int vg_tensor_copy_region(vg_tensor *dst, int dn, int dc, const vg_tensor *src, int sn,
                          int sc, int n, int c, vg_error *err) {
    vg_shape ds = dst->shape, ss = src->shape;
    if (ds.h != ss.h || ds.w != ss.w || dn < 0 || dc < 0 || sn < 0 || sc < 0 ||
        dn + n > ds.n || dc + c > ds.c || sn + n > ss.n || sc + c > ss.c)
        return vg_fail(err, VG_ERR_SHAPE,
                       "cannot copy [%d+%d, %d+%d] of a [%d,%d,%d,%d] tensor into "
                       "[%d+%d, %d+%d] of a [%d,%d,%d,%d] tensor",
                       sn, n, sc, c, ss.n, ss.c, ss.h, ss.w, dn, n, dc, c, ds.n, ds.c, ds.h,
                       ds.w);
    /* Sub-memory descriptors describe both windows; one reorder moves the data whatever
     * the two layouts are (a plain copy when both are blocked alike). */
    dnnl_dims_t dims = {n, c, ds.h, ds.w};
    dnnl_dims_t doff = {dn, dc, 0, 0}, soff = {sn, sc, 0, 0};
    dnnl_memory_desc_t dmd, smd;
    int rc = vg_dnnl_check(dnnl_memory_desc_init_submemory(&dmd, &dst->md, dims, doff),
                           "destination window", err);
    if (!rc)
        rc = vg_dnnl_check(dnnl_memory_desc_init_submemory(&smd, &src->md, dims, soff),
                           "source window", err);
    if (!rc) rc = vg_reorder(dst->ctx, &smd, src->mem, &dmd, dst->mem, err);
    return rc;
}
