/* ctx.c - the oneDNN engine and stream, and the helpers every operation uses. */
#include <dnnl_debug.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/onednn.h"

int vg_dnnl_check(dnnl_status_t st, const char *what, vg_error *err) {
    if (st == dnnl_success) return VG_OK;
    return vg_fail(err, VG_ERR_BACKEND, "oneDNN: %s: %s", what, dnnl_status2str(st));
}

int vg_ctx_create(int threads, vg_ctx **out, vg_error *err) {
    *out = NULL;
    if (threads < 0) return vg_fail(err, VG_ERR_ARG, "thread count %d is negative", threads);
    vg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the compute context");
    int rc = vg_dnnl_check(dnnl_engine_create(&ctx->engine, dnnl_cpu, 0), "engine", err);
    if (!rc)
        rc = vg_dnnl_check(dnnl_stream_create(&ctx->stream, ctx->engine,
                                              dnnl_stream_default_flags),
                           "stream", err);
    if (rc) {
        vg_ctx_free(ctx);
        return rc;
    }
    /* oneDNN runs on OpenMP here: the thread count is the calling thread's OpenMP
     * setting, which also governs vigil's own parallel loops. */
    if (threads > 0) omp_set_num_threads(threads);
    ctx->threads = threads > 0 ? threads : omp_get_max_threads();
    ctx->dt = dnnl_f32;
    *out = ctx;
    return VG_OK;
}

void vg_ctx_free(vg_ctx *ctx) {
    if (!ctx) return;
    if (ctx->stream) dnnl_stream_destroy(ctx->stream);
    if (ctx->engine) dnnl_engine_destroy(ctx->engine);
    free(ctx->scratch);
    free(ctx);
}

void *vg_ctx_scratch(vg_ctx *ctx, size_t size) {
    if (size <= ctx->scratch_size) return ctx->scratch;
    size = (size + 63) / 64 * 64;
    void *p = aligned_alloc(64, size);
    if (!p) return NULL;
    free(ctx->scratch);
    ctx->scratch = p;
    ctx->scratch_size = size;
    return p;
}

int vg_prim_create(vg_ctx *ctx, const void *op_desc, const_dnnl_primitive_attr_t attr,
                   const_dnnl_primitive_desc_t hint, vg_prim *out, const char *what,
                   vg_error *err) {
    memset(out, 0, sizeof *out);
    int rc = vg_dnnl_check(dnnl_primitive_desc_create(&out->pd, op_desc, attr, ctx->engine,
                                                      hint),
                           what, err);
    if (!rc) rc = vg_dnnl_check(dnnl_primitive_create(&out->prim, out->pd), what, err);
    if (rc) vg_prim_destroy(out);
    return rc;
}

void vg_prim_destroy(vg_prim *p) {
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    p->prim = NULL;
    p->pd = NULL;
}

const dnnl_memory_desc_t *vg_prim_md(const vg_prim *p, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(p->pd, what, 0);
}

int vg_prim_run(vg_ctx *ctx, const vg_prim *p, int n, const dnnl_exec_arg_t *args,
                vg_error *err) {
    int rc = vg_dnnl_check(dnnl_primitive_execute(p->prim, ctx->stream, n, args), "execute",
                           err);
    if (!rc) rc = vg_dnnl_check(dnnl_stream_wait(ctx->stream), "stream wait", err);
    return rc;
}

dnnl_memory_desc_t vg_md4_dt(vg_shape s, dnnl_format_tag_t tag, dnnl_data_type_t dt) {
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {s.n, s.c, s.h, s.w};
    dnnl_memory_desc_init_by_tag(&md, 4, dims, dt, tag);
    return md;
}

dnnl_memory_desc_t vg_md4(vg_shape s, dnnl_format_tag_t tag) {
    return vg_md4_dt(s, tag, dnnl_f32);
}

dnnl_memory_desc_t vg_act_md(const vg_ctx *ctx, vg_shape s, dnnl_format_tag_t tag) {
    return vg_md4_dt(s, tag, ctx->dt);
}

int vg_ctx_set_precision(vg_ctx *ctx, vg_precision p, vg_error *err) {
    if (p == VG_PRECISION_FP32) {
        ctx->dt = dnnl_f32;
        return VG_OK;
    }
    /* bf16 dot products (vdpbf16ps) with float32 accumulation: without them oneDNN would
     * emulate bf16, slower than float32 */
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if ((isa & dnnl_cpu_isa_avx512_core_bf16) != dnnl_cpu_isa_avx512_core_bf16)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "bf16 compute needs a CPU with AVX512_BF16");
    ctx->dt = dnnl_bf16;
    return VG_OK;
}

int vg_mem_create(vg_ctx *ctx, const dnnl_memory_desc_t *md, dnnl_memory_t *out,
                  vg_error *err) {
    int rc = vg_dnnl_check(dnnl_memory_create(out, md, ctx->engine, DNNL_MEMORY_ALLOCATE),
                           "allocate memory", err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    void *h = NULL;
    dnnl_memory_get_data_handle(*out, &h);
    memset(h, 0, dnnl_memory_desc_get_size(md));
    return VG_OK;
}

int vg_reorder(vg_ctx *ctx, const dnnl_memory_desc_t *src_md, dnnl_memory_t src,
               const dnnl_memory_desc_t *dst_md, dnnl_memory_t dst, vg_error *err) {
    /* Reorder primitives come from oneDNN's primitive cache after the first use of a
     * pair of layouts, so creating one per call costs a hash lookup. */
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    int rc = vg_dnnl_check(dnnl_reorder_primitive_desc_create(&pd, src_md, ctx->engine,
                                                              dst_md, ctx->engine, NULL),
                           "reorder", err);
    if (!rc) rc = vg_dnnl_check(dnnl_primitive_create(&prim, pd), "reorder", err);
    if (!rc) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        vg_prim p = {pd, prim};
        rc = vg_prim_run(ctx, &p, 2, args, err);
    }
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return rc;
}

int vg_stage(vg_ctx *ctx, vg_staged *s, const vg_tensor *t, dnnl_memory_t *use,
             vg_error *err) {
    if (dnnl_memory_desc_equal(&s->md, &t->md)) {
        *use = t->mem;
        return VG_OK;
    }
    if (!s->mem) {
        int rc = vg_mem_create(ctx, &s->md, &s->mem, err);
        if (rc) return rc;
    }
    *use = s->mem;
    return vg_reorder(ctx, &t->md, t->mem, &s->md, s->mem, err);
}

/* Wraps a host array as a oneDNN memory of descriptor md without copying. */
static int wrap_host(vg_ctx *ctx, const dnnl_memory_desc_t *md, const float *host,
                     dnnl_memory_t *out, vg_error *err) {
    return vg_dnnl_check(dnnl_memory_create(out, md, ctx->engine, (void *)host),
                         "wrap host memory", err);
}

int vg_stage_host(vg_ctx *ctx, vg_staged *s, const dnnl_memory_desc_t *user_md,
                  const float *host, vg_error *err) {
    if (!s->mem) {
        int rc = vg_mem_create(ctx, &s->md, &s->mem, err);
        if (rc) return rc;
    }
    dnnl_memory_t user = NULL;
    int rc = wrap_host(ctx, user_md, host, &user, err);
    if (!rc) rc = vg_reorder(ctx, user_md, user, &s->md, s->mem, err);
    if (user) dnnl_memory_destroy(user);
    return rc;
}

int vg_unstage_host(vg_ctx *ctx, const vg_staged *s, const dnnl_memory_desc_t *user_md,
                    float *host, vg_error *err) {
    dnnl_memory_t user = NULL;
    int rc = wrap_host(ctx, user_md, host, &user, err);
    if (!rc) rc = vg_reorder(ctx, &s->md, s->mem, user_md, user, err);
    if (user) dnnl_memory_destroy(user);
    return rc;
}

void vg_staged_free(vg_staged *s) {
    if (s->mem) dnnl_memory_destroy(s->mem);
    s->mem = NULL;
}
